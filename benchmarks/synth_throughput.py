"""How fast the generator makes training data: ``--format tensors`` (model-ready tensors) against ``--format nifti``
(the files the tensors stand for), same seed, studies and workers, one after the other in one run.

For each format: wall time of ``run_synth`` (the command's own code path), studies/s and series/s, bytes written
per series, and the peak resident memory of each worker process (``SynthSummary.peak_rss_mb``: VmHWM at the end of
each study, the largest over the run). A tensor series would cost the NIfTI path its preprocessing too before a
model can train on it; that is left out of the NIfTI figure (pretraining does it once, into its cache), so the ratio
is the generator's alone.

Run: ``python -m benchmarks.synth_throughput [--studies 12] [--seed 9300] [--workers 2] [--formats nifti,tensors]
[--matrix-scale 1] [--regions ...] [--json OUT.json] [--markdown OUT.md]``. The machine's load average is recorded beside.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from mri_search.synth.archive import run_synth
from mri_search.synth.config import FORMATS, SynthConfig

from .common import emit

BASELINE = "nifti"


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(fmt: str, out: Path, studies: int, seed: int, workers: int, matrix_scale: float,
            regions: tuple[str, ...] | None = None) -> dict:
    """One ``run_synth`` of ``fmt`` into ``out``: speed, bytes and peak memory per worker."""
    cfg = SynthConfig(out=out, studies=studies, seed=seed, format=fmt, workers=workers, matrix_scale=matrix_scale,
                      regions=regions, overwrite=True)
    t0 = time.perf_counter()
    summary = run_synth(cfg, progress=lambda *_: None)
    seconds = time.perf_counter() - t0
    size = _bytes(out)
    return {"format": fmt, "studies": summary.studies, "series": summary.series, "seconds": round(seconds, 2),
            "studies_per_s": round(summary.studies / seconds, 4), "series_per_s": round(summary.series / seconds, 3),
            "bytes_per_series": int(size / max(1, summary.series)), "bytes": size,
            "peak_rss_mb_per_worker": round(summary.peak_rss_mb, 1)}


def run(studies: int, seed: int, workers: int, formats: list[str], matrix_scale: float, tmp: Path,
        regions: tuple[str, ...] | None = None) -> dict:
    """Every format of ``formats`` on the same studies, one after the other; the ratios to ``--format nifti``."""
    rows = [measure(fmt, tmp / fmt, studies, seed, workers, matrix_scale, regions) for fmt in formats]
    base = next((r for r in rows if r["format"] == BASELINE), None)
    for r in rows:
        r["speed_vs_nifti"] = round(r["studies_per_s"] / base["studies_per_s"], 3) if base else None
    return {"studies": studies, "seed": seed, "workers": workers, "matrix_scale": matrix_scale,
            "regions": list(regions) if regions else "all",
            "cores": os.cpu_count(), "load_average_before": os.getloadavg(), "results": rows}


def table(res: dict) -> str:
    lines = [f"synth throughput: {res['studies']} studies, seed {res['seed']}, {res['workers']} workers, "
             f"matrix scale {res['matrix_scale']}, load average before {res['load_average_before'][0]:.1f}", "",
             "| format | s | studies/s | series/s | x nifti | MB/series | peak MB/worker |",
             "|---|---|---|---|---|---|---|"]
    for r in res["results"]:
        lines.append(f"| {r['format']} | {r['seconds']} | {r['studies_per_s']} | {r['series_per_s']} | "
                     f"{r['speed_vs_nifti']} | {r['bytes_per_series'] / 1e6:.2f} | {r['peak_rss_mb_per_worker']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--studies", type=int, default=12)
    ap.add_argument("--seed", type=int, default=9300, help="a benchmark seed (never a training seed)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--formats", default="nifti,tensors", help=f"comma-separated, of {', '.join(FORMATS)}")
    ap.add_argument("--matrix-scale", type=float, default=1.0)
    ap.add_argument("--regions", help="comma-separated body regions (default: all)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        ap.error(f"unknown format {bad[0]!r}; choose from {', '.join(FORMATS)}")
    tmp = Path(tempfile.mkdtemp(prefix="synth_throughput_"))
    try:
        regions = tuple(r.strip() for r in args.regions.split(",")) if args.regions else None
        res = run(args.studies, args.seed, args.workers, formats, args.matrix_scale, tmp, regions)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    emit(res, table(res), args.json, args.markdown)
    return res


if __name__ == "__main__":
    main()
