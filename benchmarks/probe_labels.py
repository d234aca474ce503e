"""Example label files for ``mri-search probe`` from a generated archive's ground truth (the manifest).

    python -m benchmarks.probe_labels ARCHIVE --out labels/            # labels/<task>.csv and labels/tasks.json
    mri-search embed ARCHIVE --model runs/s2 --out features.parquet      # the same --salt as here
    mri-search probe train --features features.parquet --labels labels/body_region.csv --task body_region \
        --out probes/body_region --fractions 0.01,0.1,1
    mri-search probe train --features features.parquet --labels labels/age.csv --task age --kind regression ...

Each file has the columns ``series_key`` (the salted key that ``mri-search embed`` writes, so ``--salt`` must be the
embed run's) and ``label``; ``tasks.json`` gives each task's kind. The tasks are ``benchmarks.bench.probe_tasks``.
Only benchmarks read the manifest: this is ground truth for examples, not something an indexer may use.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from pathlib import Path

from benchmarks.bench.data import load_bench_data
from mri_search.ingest.salt import resolve_salt
from benchmarks.bench.probe_tasks import PROBE_TASKS


def write_label_files(archive: Path, out: Path, tasks: list[str] | None = None, salt: str | None = None,
                      workers: int = 1) -> dict[str, int]:
    """Write ``out/<task>.csv`` for every task (or ``tasks``) and ``out/tasks.json``; returns rows per task.

    Raises:
        ValueError: not a generated archive, or an unknown task.
    """
    names = tasks or list(PROBE_TASKS)
    unknown = [t for t in names if t not in PROBE_TASKS]
    if unknown:
        raise ValueError(f"unknown task(s) {unknown}; choose from {', '.join(PROBE_TASKS)}")
    data = load_bench_data(archive, "all", resolve_salt(salt), workers)  # None: as `embed` does, the installation's
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name in names:
        task = PROBE_TASKS[name]
        with open(out / f"{name}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["series_key", "label"])
            n = 0
            for s in data.series:
                lab = task.label(s.row)
                if lab is not None:
                    w.writerow([s.record.key, f"{lab:g}" if isinstance(lab, float) else lab])
                    n += 1
        counts[name] = n
    (out / "tasks.json").write_text(json.dumps({n: {"kind": PROBE_TASKS[n].kind, "about": PROBE_TASKS[n].about,
                                                    "series": counts[n]} for n in names}, indent=2) + "\n")
    return counts


def main() -> None:  # pragma: no cover - thin script entry
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("archive", type=Path, help="an archive written by `mri-search synth` (with manifest.parquet)")
    ap.add_argument("--out", type=Path, required=True, help="folder for <task>.csv and tasks.json")
    ap.add_argument("--tasks", help=f"comma list (default all: {', '.join(PROBE_TASKS)})")
    ap.add_argument("--salt", help="the salt of the embed run (series keys are salted; default, as for `embed`: "
                                   "this installation's)")
    ap.add_argument("--workers", type=int, default=1, help="header-reading processes")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    counts = write_label_files(args.archive, args.out, args.tasks.split(",") if args.tasks else None, args.salt,
                               args.workers)
    for name, n in counts.items():
        print(f"{name} ({PROBE_TASKS[name].kind}): {n} series -> {args.out / (name + '.csv')}")


if __name__ == "__main__":  # pragma: no cover
    main()
