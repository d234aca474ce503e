"""Ingestion throughput: series per second from a DICOM archive folder to preprocessed model inputs.

Compared in one run, on the same single-frame DICOM series and the same warm worker pool (a ProcessPoolExecutor
whose workers have imported everything before the clock starts, one torch thread each):

- ``ours``: ``scan_archive`` (headers only, timed separately) then ``preprocess`` (our reader + the MONAI pipeline,
  default config: anti-aliasing on);
- ``ours_same_transforms``: the same with ``antialias=False``, i.e. exactly the baseline's transforms;
- ``monai_baseline``: plain MONAI, ``LoadImaged(reader="PydicomReader")`` on one folder per series (each series'
  files linked into a folder of its own, untimed, since export layouts mix series in one folder) followed by
  ``Orientationd``, ``Spacingd``, ``ScaleIntensityRangePercentilesd``, ``ResizeWithPadOrCropd``, ``EnsureTyped``.

Also reported: how far the baseline's tensors are from ``ours_same_transforms`` (mean |difference| per series on
the [0, 1] scale); MONAI's reader orders slices by InstanceNumber and takes the slice step from z alone, so large
values point at series whose geometry it gets wrong.

Run: ``python -m benchmarks.ingest_throughput ARCHIVE [--workers N] [--limit K] [--out results.json]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from mri_search.ingest.archive import scan_archive
from mri_search.ingest.config import ScanOptions
from mri_search.ingest.records import SeriesRecord
from mri_search.preprocess import PreprocessConfig, deterministic_transforms, run_transforms

log = logging.getLogger(__name__)
N_COMPARE = 20  # series whose tensors are kept to compare baseline and ours


_TRANSFORMS: dict = {}  # per worker process: (kind, config hash) -> Compose


def _baseline_transforms(cfg: PreprocessConfig):
    from monai.transforms import (
        Compose, EnsureTyped, LoadImaged, Orientationd, ResizeWithPadOrCropd, ScaleIntensityRangePercentilesd,
        Spacingd,
    )

    return Compose([
        LoadImaged("image", reader="PydicomReader", ensure_channel_first=True, image_only=True),
        Orientationd("image", axcodes=cfg.orientation, labels=None),
        Spacingd("image", pixdim=cfg.spacing_mm, mode=cfg.interpolation),
        ScaleIntensityRangePercentilesd("image", lower=cfg.lower_percentile, upper=cfg.upper_percentile,
                                        b_min=0.0, b_max=1.0, clip=cfg.clip),
        ResizeWithPadOrCropd("image", spatial_size=cfg.size),
        EnsureTyped("image", dtype=torch.float32),
    ])


def _item(job: tuple[str, int, object, dict]) -> tuple[int, torch.Tensor | None, str]:
    """One series through one pipeline, in a worker: (index, tensor or None, error)."""
    kind, i, what, cfg_d = job
    cfg = PreprocessConfig.from_dict(cfg_d)
    key = (kind, cfg.hash())
    if key not in _TRANSFORMS:
        _TRANSFORMS[key] = deterministic_transforms(cfg) if kind == "ours" else _baseline_transforms(cfg)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = {"series": what} if kind == "ours" else {"image": what}
            return i, run_transforms(_TRANSFORMS[key], data)["image"].as_tensor(), ""
    except Exception as exc:  # count failures of either pipeline, never stop the benchmark
        return i, None, str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _init_worker() -> None:
    torch.set_num_threads(1)  # N workers x all cores each would oversubscribe the CPU
    logging.getLogger("monai").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    import monai.transforms  # noqa: F401  (imports paid before the clock starts)
    import pydicom  # noqa: F401


def _run(pool: ProcessPoolExecutor, kind: str, items: list, cfg: PreprocessConfig, keep: int) -> dict:
    """Time one pass of ``items`` through pipeline ``kind`` on the warm ``pool``; keep the first ``keep`` outputs."""
    jobs = [(kind, i, x, cfg.to_dict()) for i, x in enumerate(items)]
    kept, ok, errors = {}, 0, []
    t0 = time.perf_counter()
    for i, t, err in pool.map(_item, jobs, chunksize=1):
        if t is None:
            errors.append(err)
            log.warning("%s series %d: %s", kind, i, err)
            continue
        ok += 1
        if i < keep:
            kept[i] = t
    return dict(seconds=time.perf_counter() - t0, ok=ok, failed=len(errors), errors=errors[:10], kept=kept)


def link_series_folders(records: list[SeriesRecord], root: Path) -> list[str]:
    """One folder per series under ``root`` holding symlinks to its files (the baseline reads a folder)."""
    out = []
    for n, rec in enumerate(records):
        d = root / f"s{n:05d}"
        d.mkdir()
        for m, f in enumerate(rec.files):
            os.symlink(Path(f.container) / f.member, d / f"{m:05d}.dcm")
        out.append(str(d))
    return out


def run_benchmark(archive: Path, workers: int, limit: int | None, cfg: PreprocessConfig, repeats: int = 3) -> dict:
    """Scan ``archive``, then time ours and the baseline on its single-frame DICOM series."""
    t0 = time.perf_counter()
    scan = scan_archive(archive, ScanOptions())
    scan_s = time.perf_counter() - t0
    dicom = [r for r in scan.series if r.source == "dicom"]
    records = [r for r in dicom if r.layout == "single" and all(f.kind == "dir" for f in r.files)]
    records.sort(key=lambda r: r.key)
    records = records[:limit] if limit else records
    if not records:
        raise ValueError(f"{archive}: no single-frame DICOM series in a folder to compare on")
    plain = dataclasses.replace(cfg, antialias=False)
    with tempfile.TemporaryDirectory(prefix="ingest_bench_") as tmp, \
            ProcessPoolExecutor(max(1, workers), initializer=_init_worker) as pool:
        folders = link_series_folders(records, Path(tmp))
        list(pool.map(_item, [("ours", 0, records[0], cfg.to_dict())] * max(1, workers)))  # warm the workers
        list(pool.map(_item, [("baseline", 0, folders[0], plain.to_dict())] * max(1, workers)))
        runs: dict[str, list[dict]] = {"ours": [], "same": [], "base": []}
        for r in range(repeats):  # interleaved, best of ``repeats``: a shared machine's load drifts
            runs["ours"].append(_run(pool, "ours", records, cfg, 0))
            runs["same"].append(_run(pool, "ours", records, plain, N_COMPARE if r == 0 else 0))
            runs["base"].append(_run(pool, "baseline", folders, plain, N_COMPARE if r == 0 else 0))
    ours, same, base = ({**min(v, key=lambda x: x["seconds"]), "kept": v[0]["kept"]} for v in runs.values())
    diffs = {i: float((same["kept"][i] - base["kept"][i]).abs().mean())
             for i in sorted(set(same["kept"]) & set(base["kept"])) if same["kept"][i].shape == base["kept"][i].shape}
    per_series = [dict(sequence=records[i].sequence, plane=records[i].plane, shape=list(records[i].shape),
                       mean_abs_diff=round(d, 5)) for i, d in diffs.items()]
    n, v = len(records), list(diffs.values())
    rows = {
        name: dict(series=n, ok=r["ok"], failed=r["failed"], seconds=r["seconds"], errors=r["errors"])
        for name, r in (("ours", ours), ("ours_same_transforms", same), ("monai_baseline", base))
    }
    for row in rows.values():
        row["series_per_s"] = row["ok"] / row["seconds"] if row["seconds"] > 0 else 0.0
    base_rate = rows["monai_baseline"]["series_per_s"]
    for row in rows.values():
        row["ratio_vs_baseline"] = row["series_per_s"] / base_rate if base_rate else None
    rows["ours"]["series_per_s_incl_scan"] = ours["ok"] / (ours["seconds"] + scan_s * n / max(1, len(scan.series)))
    return dict(archive=str(archive), workers=workers, repeats=repeats, config=cfg.to_dict(), scan_seconds=scan_s,
                series_in_archive=len(scan.series), dicom_series=len(dicom), compared_series=n, results=rows,
                baseline_vs_ours_mean_abs_diff=dict(n=len(v), median=float(np.median(v)) if v else None,
                                                    max=float(np.max(v)) if v else None,
                                                    over_0_05=int(np.sum(np.asarray(v) > 0.05)),
                                                    per_series=per_series))


def format_table(res: dict) -> str:
    """The results as a small text table."""
    lines = [f"archive {res['archive']}: {res['series_in_archive']} series ({res['dicom_series']} DICOM), "
             f"scan {res['scan_seconds']:.1f} s; {res['compared_series']} single-frame DICOM series compared, "
             f"{res['workers']} workers, best of {res['repeats']}",
             f"{'pipeline':<22}{'ok':>5}{'failed':>8}{'seconds':>9}{'series/s':>10}{'x baseline':>12}"]
    for name, r in res["results"].items():
        ratio = f"{r['ratio_vs_baseline']:.2f}" if r["ratio_vs_baseline"] is not None else "-"
        lines.append(f"{name:<22}{r['ok']:>5}{r['failed']:>8}{r['seconds']:>9.1f}{r['series_per_s']:>10.2f}{ratio:>12}")
    lines.append(f"ours incl. its share of the scan: {res['results']['ours']['series_per_s_incl_scan']:.2f} series/s")
    d = res["baseline_vs_ours_mean_abs_diff"]
    if d["n"]:
        lines.append(f"baseline vs ours (same transforms), mean |diff| per series over {d['n']}: median "
                     f"{d['median']:.4f}, max {d['max']:.4f}, {d['over_0_05']} series above 0.05")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("archive", type=Path, help="folder of a DICOM archive (e.g. from `mri-search synth`)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes")
    ap.add_argument("--limit", type=int, default=None, help="at most this many series (sorted by key)")
    ap.add_argument("--spacing", type=float, default=None, help="isotropic target spacing, mm (default: config)")
    ap.add_argument("--size", type=int, default=None, help="cubic input size, voxels (default: config)")
    ap.add_argument("--repeats", type=int, default=3, help="timed passes per pipeline; the fastest is reported")
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    cfg = PreprocessConfig()
    if args.spacing:
        cfg = dataclasses.replace(cfg, spacing_mm=(args.spacing,) * 3)
    if args.size:
        cfg = dataclasses.replace(cfg, size=(args.size,) * 3)
    res = run_benchmark(args.archive, args.workers, args.limit, cfg, max(1, args.repeats))
    print(format_table(res))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
