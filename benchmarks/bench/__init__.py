"""``mri-search bench``: retrieval benchmarks on generated archives (mAP, the paper's precision@N), with baselines.

    from benchmarks.bench.run import BenchCfg, run_bench
    run_bench(BenchCfg(archive="bench_archive", model="runs/s2", out="bench_out"))
"""
