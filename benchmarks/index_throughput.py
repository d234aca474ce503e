"""Indexing throughput: ``run_index`` itself, against the bound its own stage costs set and a naive loop.

Measured in one run, on the same archive, model and machine:

- ``indexer``: ``indexer.run.run_index`` (the code of ``mri-search index``) into a fresh embedded collection: the
  header scan, the model load, ``--workers`` DataLoader processes reading and preprocessing while the encoder runs,
  each study's report embedded once, an upsert per batch, the HNSW build and the flush. Series/s = points written /
  the call's wall time.
- ``stages``: the same series through the same functions, one stage at a time, in this process with one torch
  thread, so each stage's cost is in core-seconds per series: ``scan`` (headers and reports,
  ``ingest.scan_archive``), ``read`` (pixels, ``ingest.load_series``), ``preprocess`` (the model's
  ``PreprocessConfig`` on the read volume), ``encode`` (image tower, batches of ``--batch-size``), ``report`` (text
  tower, once per study) and ``write`` (``store.points.batch_points``, upsert, HNSW build, flush).
  ``bound`` = cores / the sum: the rate of a perfect pipeline that keeps every core busy with this work and nothing
  else. ``ratio_to_bound`` = indexer / bound is the target figure (>= 0.8).
- ``naive``: the header scan, then one series at a time in one process at the default torch threads: read,
  preprocess, embed image and report, upsert one point.

Every file is read once before the clock starts (warm page cache), and the imports and both towers are warmed, so
the three figures differ by how the work is arranged, not by what is cached. With ``--cli`` the ``mri-search
index`` command is also timed as a subprocess (start-up, imports and model loading included). With
``--store-points N`` the embedded store alone is timed on N synthetic points (``benchmarks.query_latency`` does this
properly at scale).

Run: ``python -m benchmarks.index_throughput ARCHIVE [--model DIR | --preset vit-s-cpu] [--workers 2]
[--batch-size 8] [--cli] [--store-points N] [--out results.json]``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

STAGES = ("scan", "read", "preprocess", "encode", "report", "write")

log = logging.getLogger(__name__)


def _rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux: KiB


def _meta(loaded, model_id: str):
    from mri_search.store import CollectionMeta, salt_check

    return CollectionMeta(model_id=model_id, model_name=loaded.cfg.name, embed_dim=loaded.cfg.embed_dim,
                          salt_check=salt_check("mri-search"))


def bench_indexer(archive: Path, model: Path, args, db: Path) -> dict:
    """``run_index`` as ``mri-search index ARCHIVE --db DB`` calls it (no Parquet, no progress bar)."""
    from indexer.config import IndexCfg
    from indexer.run import run_index

    cfg = IndexCfg(archive=archive, model=model, db=db, workers=args.workers, batch_size=args.batch_size,
                   progress=False, errors=db.parent / "indexer-errors.tsv", salt="mri-search")
    t0 = time.perf_counter()
    s = run_index(cfg)
    dt = time.perf_counter() - t0
    return {"series": s.indexed, "failed": s.failed, "seconds": dt, "series_per_s": s.indexed / dt,
            "embed_and_write_s": s.embed_s, "peak_rss_mb_main": _rss_mb(resource.RUSAGE_SELF),
            "peak_rss_mb_largest_worker": _rss_mb(resource.RUSAGE_CHILDREN)}


def bench_stages(archive: Path, loaded, model_id: str, batch_size: int, db: Path) -> dict:
    """Core-seconds per series of each stage (one torch thread, one stage at a time) and the bound they set."""
    from mri_search.embed import EmbeddedBatch, ReportEmbedder, encode_volumes
    from mri_search.ingest.archive import load_series, scan_archive
    from mri_search.ingest.config import ScanOptions
    from mri_search.preprocess import preprocess
    from mri_search.store import ensure_collection
    from mri_search.store.edge import EdgeStore
    from mri_search.store.points import batch_points

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    t = dict.fromkeys(STAGES, 0.0)
    try:
        t0 = time.perf_counter()
        scan = scan_archive(archive, ScanOptions(salt="mri-search"))
        t["scan"] = time.perf_counter() - t0
        records, reports = scan.series, scan.reports
        embedder = ReportEmbedder(loaded.model, reports)
        t0 = time.perf_counter()
        embedder([r.study_key for r in records])  # text_batch reports per call, as the indexer does
        t["report"] = time.perf_counter() - t0
        n = failed = 0
        with EdgeStore(db) as store:
            col = ensure_collection(store, "stages", _meta(loaded, model_id))
            for i in range(0, len(records), batch_size):
                xs, recs = [], []
                for rec in records[i:i + batch_size]:
                    t0 = time.perf_counter()
                    try:
                        vol = load_series(rec)
                        t1 = time.perf_counter()
                        x = preprocess(rec, loaded.preprocess, loader=lambda _r, v=vol: v)
                    except ValueError:
                        failed += 1
                        continue
                    t2 = time.perf_counter()
                    t["read"] += t1 - t0
                    t["preprocess"] += t2 - t1
                    xs.append(x.as_tensor() if hasattr(x, "as_tensor") else x)
                    recs.append(rec)
                if not recs:
                    continue
                t0 = time.perf_counter()
                image = encode_volumes(loaded.model, torch.stack(xs))
                t1 = time.perf_counter()
                rep = embedder([r.study_key for r in recs])  # cached: already counted under "report"
                batch = EmbeddedBatch(records=recs, image=image, report=[rep.get(r.study_key) for r in recs],
                                      failed=[])
                t2 = time.perf_counter()
                col.upsert(batch_points(batch, model_id, reports))
                t["encode"] += t1 - t0
                t["write"] += time.perf_counter() - t2
                n += len(recs)
            t0 = time.perf_counter()
            col.optimize()
            col.flush()
            t["write"] += time.perf_counter() - t0
    finally:
        torch.set_num_threads(threads)
    per = {k: v / max(n, 1) for k, v in t.items()}
    total = sum(per.values())
    cores = os.cpu_count() or 1
    return {"series": n, "failed": failed, "seconds": t, "core_s_per_series": per, "core_s_per_series_total": total,
            "cores": cores, "bound_series_per_s": cores / total if total else None}


def bench_naive(archive: Path, loaded, model_id, db: Path) -> dict:
    """The header scan, then one series at a time: read, preprocess, embed image and report, upsert one point."""
    from mri_search.embed import encode_volumes
    from mri_search.ingest.archive import scan_archive
    from mri_search.ingest.config import ScanOptions
    from mri_search.ingest.report_text import embedding_text
    from mri_search.preprocess import preprocess
    from mri_search.store import ensure_collection
    from mri_search.store.edge import EdgeStore
    from mri_search.store.points import series_point

    t0 = time.perf_counter()
    scan = scan_archive(archive, ScanOptions(salt="mri-search"))
    reports = scan.reports
    n = 0
    with EdgeStore(db) as store:
        col = ensure_collection(store, "naive", _meta(loaded, model_id))
        for rec in scan.series:
            try:
                x = preprocess(rec, loaded.preprocess).as_tensor()[None]
            except ValueError:
                continue
            img = encode_volumes(loaded.model, x)[0]
            rep, rep_vec = reports.get(rec.study_key), None
            if rep is not None:
                with torch.inference_mode():
                    rep_vec = loaded.model.encode_report(loaded.model.tokenize([embedding_text(rep)]))[0]
            col.upsert([series_point(rec, img, rep_vec, rep, model_id)])
            n += 1
        col.optimize()
        col.flush()
    dt = time.perf_counter() - t0
    return {"series": n, "seconds": dt, "series_per_s": n / dt}


def bench_store(n: int, dim: int, payload: dict, db: Path, batch: int = 1000) -> dict:
    """Upsert rate, HNSW build time and query latency of the embedded store on ``n`` synthetic points."""
    from mri_search.store import (
        IMAGE,
        REPORT,
        CollectionMeta,
        Point,
        ensure_collection,
        point_id,
    )
    from mri_search.store.edge import EdgeStore

    rng = np.random.default_rng(0)
    meta = CollectionMeta(model_id="0" * 16, model_name="bench", embed_dim=dim, salt_check="x")
    seqs = ["T1", "T2", "FLAIR", "DWI", "ADC", "T1C", "STIR", "PD"]
    with EdgeStore(db) as store:
        col = ensure_collection(store, "store", meta)
        t_up = 0.0
        for i in range(0, n, batch):
            m = min(batch, n - i)
            v = rng.standard_normal((2, m, dim)).astype(np.float32)
            v /= np.linalg.norm(v, axis=2, keepdims=True)
            pts = [Point(point_id("0" * 16, f"s{i + j}"), {IMAGE: v[0, j].tolist(), REPORT: v[1, j].tolist()},
                         {**payload, "series_key": f"s{i + j}", "sequence": seqs[(i + j) % len(seqs)]})
                   for j in range(m)]
            t0 = time.perf_counter()
            col.upsert(pts)
            t_up += time.perf_counter() - t0
        t0 = time.perf_counter()
        col.optimize()
        t_opt = time.perf_counter() - t0
        lat, lat_f = [], []
        for v in rng.standard_normal((50, dim)).astype(np.float32):
            t0 = time.perf_counter()
            col.search(v, top_k=10)
            lat.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            col.search(v, top_k=10, filter={"sequence": ["T1", "T1C"]})
            lat_f.append(time.perf_counter() - t0)
        count = col.count()
    return {"points": count, "upsert_s": t_up, "upsert_points_per_s": n / t_up, "optimize_s": t_opt,
            "query_ms_median": 1000 * statistics.median(lat),
            "filtered_query_ms_median": 1000 * statistics.median(lat_f)}


def bench_cli(archive: Path, model: Path, args, db: Path) -> dict:
    cmd = [sys.executable, "-m", "mri_search.cli", "index", str(archive), "--model", str(model), "--db", str(db),
           "--workers", str(args.workers), "--batch-size", str(args.batch_size), "--json", "--no-progress",
           "--errors", str(db.parent / "cli-errors.tsv"), "--salt", "mri-search"]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1:]}
    s = json.loads(res.stdout.strip().splitlines()[-1])
    return {"series": s["indexed"], "wall_s": dt, "series_per_s_wall": s["indexed"] / dt}


def _warm(archive: Path, loaded) -> tuple:
    """Scan once (imports, page cache of the headers), read every file, run both towers once."""
    from mri_search.embed import encode_volumes
    from mri_search.ingest.archive import scan_archive
    from mri_search.ingest.config import ScanOptions
    from mri_search.ingest.report_text import embedding_text

    scan = scan_archive(archive, ScanOptions(salt="mri-search"))
    for rec in scan.series:
        for f in rec.files:
            with f.open() as fh:
                fh.read()
    s = loaded.cfg.vision.img_size
    encode_volumes(loaded.model, torch.zeros(2, 1, s, s, s))
    texts = [embedding_text(r) for r in list(scan.reports.values())[:2]] or ["warm-up"]
    with torch.inference_mode():
        loaded.model.encode_report(loaded.model.tokenize(texts))
    return scan


def run(args) -> dict:
    """Every measurement of the module docstring; the caller's torch grad mode and $MRI_SEARCH_HOME are left as
    they were."""
    res: dict = {"archive": str(args.archive), "workers": args.workers, "batch_size": args.batch_size,
                 "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                 "load_avg_start": os.getloadavg()}
    home = os.environ.get("MRI_SEARCH_HOME")
    with tempfile.TemporaryDirectory(prefix="mri-index-bench-") as tmp, torch.no_grad():
        tmp = Path(tmp)
        os.environ["MRI_SEARCH_HOME"] = str(tmp / "home")  # registry, salt, locator: never the user's own
        try:
            _measure(args, tmp, res)
        finally:  # the caller's environment as it was
            if home is None:
                os.environ.pop("MRI_SEARCH_HOME", None)
            else:
                os.environ["MRI_SEARCH_HOME"] = home
    res["load_avg_end"] = os.getloadavg()
    return res


def _measure(args, tmp: Path, res: dict) -> None:
    from mri_search.model import load_model, model_identity

    from .common import model_folder

    folder = model_folder(args.model, args.preset, tmp)  # a random preset: same compute as a trained one
    loaded, model_id = load_model(folder), model_identity(folder)
    res["model"] = {"name": loaded.cfg.name, "img_size": loaded.cfg.vision.img_size,
                    "embed_dim": loaded.cfg.embed_dim}
    scan = _warm(args.archive, loaded)
    res["series_in_archive"] = len(scan.series)
    res["indexer"] = bench_indexer(args.archive, folder, args, tmp / "db")
    res["stages"] = bench_stages(args.archive, loaded, model_id, args.batch_size, tmp / "stages")
    res["naive"] = bench_naive(args.archive, loaded, model_id, tmp / "naive")
    bound = res["stages"]["bound_series_per_s"]
    ix = res["indexer"]["series_per_s"]
    res["ratio_to_bound"] = ix / bound if bound else None
    res["ratio_to_naive"] = ix / res["naive"]["series_per_s"]
    if args.cli:
        res["cli"] = bench_cli(args.archive, folder, args, tmp / "cli")
    if args.store_points:
        from mri_search.store.payload import build_payload

        rec = scan.series[0]
        res["store"] = bench_store(args.store_points, loaded.cfg.embed_dim,
                                   build_payload(rec, scan.reports.get(rec.study_key)), tmp / "store")


def format_table(res: dict) -> str:
    ix, st, nv = res["indexer"], res["stages"], res["naive"]
    per = st["core_s_per_series"]
    lines = [(f"{ix['series']} series ({res['series_in_archive']} in the archive), model {res['model']['name']} "
              f"({res['model']['img_size']}^3), {res['workers']} workers, batch {res['batch_size']}, "
              f"{res['cpus']} CPUs, load avg {res['load_avg_start'][0]:.2f} -> {res['load_avg_end'][0]:.2f}"),
             "", "| measure | series/s | ratio |", "|---|---:|---:|",
             f"| `run_index` (the indexer) | {ix['series_per_s']:.2f} | 1 |",
             (f"| stage bound ({st['cores']} cores / {st['core_s_per_series_total']:.3f} core-s per series) | "
              f"{st['bound_series_per_s']:.2f} | indexer / bound = **{res['ratio_to_bound']:.2f}** |"),
             f"| naive loop | {nv['series_per_s']:.2f} | indexer / naive = {res['ratio_to_naive']:.2f} |",
             "", "core-seconds per series: " + ", ".join(f"{k} {per[k]:.4f}" for k in STAGES),
             f"peak RSS MB: main {ix['peak_rss_mb_main']:.0f}, largest worker {ix['peak_rss_mb_largest_worker']:.0f}"]
    if "cli" in res:
        lines.append(f"mri-search index (subprocess): {json.dumps(res['cli'])}")
    if "store" in res:
        s = res["store"]
        lines.append(f"embedded store, {s['points']} points: upsert {s['upsert_points_per_s']:.0f} points/s, "
                     f"HNSW build {s['optimize_s']:.1f} s, query {s['query_ms_median']:.2f} ms, filtered "
                     f"{s['filtered_query_ms_median']:.2f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from .common import add_model_args

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("archive", type=Path, help="an archive (e.g. from `mri-search synth`)")
    add_model_args(ap)
    ap.add_argument("--workers", type=int, default=2, help="DataLoader worker processes of the indexer")
    ap.add_argument("--batch-size", type=int, default=8, help="series per encoder call")
    ap.add_argument("--store-points", type=int, default=0, help="also time the store alone on N points (0: skip)")
    ap.add_argument("--cli", action="store_true", help="also time `mri-search index` as a subprocess")
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    ap.add_argument("--markdown", type=Path, default=None, help="write the table as Markdown here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    res = run(args)
    table = format_table(res)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=2) + "\n")
    if args.markdown:
        args.markdown.write_text(table + "\n")


if __name__ == "__main__":
    main()
