"""Paired differences: the model under test minus each other method of a bench run, query by query.

Two methods scored on the same queries are compared per query (model minus other) and the mean difference gets a
95 % percentile bootstrap interval over queries (``mri_search.evaluation.bootstrap_ci``). An interval that
excludes 0 says the gap is larger than the noise of the query sample, which two overlapping per-method intervals
cannot say either way. ``run_bench`` writes them for its ``--compare`` models and the metadata baseline
(``differences.json`` and a section of ``report.md``); for a finished bench folder, from its TREC files:

    python -m benchmarks.bench.differences BENCH_OUT [--base model] [--others s2_only,metadata]

(TREC runs are cut at the run's ``trec_depth``, 1000 ranks: on larger galleries the re-scored values are those of
the cut rankings.)
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from mri_search.evaluation import bootstrap_ci
from mri_search.evaluation.trec import score_run

METRICS = ("mAP", "P_all@5", "R@10")
FILE = "differences.json"

PerQuery = Mapping[tuple[str, str, str], Mapping[str, np.ndarray]]  # (task, direction, method) -> metric -> [n]


def paired_differences(per_query: PerQuery, base: str, others: Iterable[str], *, n_boot: int = 1000,
                       seed: int = 0, metrics: Iterable[str] = METRICS) -> dict:
    """``task -> direction -> other -> metric -> {"delta", "ci95": [low, high]}``: mean of base minus other.

    Args:
        per_query: per-query metric values of every (task, direction, method), each method's arrays over the same
            queries in the same order (``Evaluation.per_query``).
        base: the method the others are subtracted from (the model under test).
        others: the methods to compare with; those missing from a (task, direction) are skipped there.
        n_boot, seed: the bootstrap (the same resamples for every metric of a pair).
        metrics: the metrics compared (those a method lacks are skipped).
    """
    others = [o for o in others if o != base]
    out: dict = {}
    for (task, direction, method), theirs in per_query.items():
        mine = per_query.get((task, direction, base))
        if method not in others or mine is None:
            continue
        diff = {}
        for m in metrics:
            if m in mine and m in theirs:
                a, b = np.asarray(mine[m], dtype=np.float64), np.asarray(theirs[m], dtype=np.float64)
                if a.shape != b.shape:
                    raise ValueError(f"{task} {direction}: {base} and {method} were scored on different queries")
                diff[m] = a - b
        if not diff:
            continue
        ci = bootstrap_ci(diff, n_boot=n_boot, seed=seed)
        out.setdefault(task, {}).setdefault(direction, {})[method] = {
            m: {"delta": float(v.mean()) if len(v) else float("nan"), "ci95": list(ci[m])} for m, v in diff.items()}
    return out


def per_query_from_folder(folder: str | Path) -> dict:
    """Re-score every TREC run of a bench folder against its qrels: ``(task, direction, method) -> per_query``."""
    folder = Path(folder)
    per_query = {}
    for qrels in sorted(folder.glob("*.qrels")):
        task, direction = qrels.name[: -len(".qrels")].rsplit(".", 1)
        prefix = f"{task}.{direction}."
        for run in sorted(folder.glob(f"{prefix}*.run")):
            method = run.name[len(prefix): -len(".run")]
            per_query[(task, direction, method)] = score_run(run, qrels).per_query
    if not per_query:
        raise ValueError(f"{folder}: no <task>.<direction>.qrels with runs beside them (not a bench folder?)")
    return per_query


def _fmt(cell: dict) -> str:
    low, high = cell["ci95"]
    mark = " *" if low > 0 or high < 0 else ""
    return f"{cell['delta']:+.3f} [{low:+.3f}, {high:+.3f}]{mark}"


def differences_markdown(diffs: dict, base: str = "model", metrics: Iterable[str] = METRICS) -> list[str]:
    """The report section: one row per (task, direction, other method)."""
    metrics = list(metrics)
    lines = [f"## Paired differences: `{base}` minus each other method", "",
             "Mean per-query difference on the same queries with its 95 % paired bootstrap interval; `*` marks an "
             "interval that excludes 0 (a gap larger than the query sample's noise).", "",
             "| task | direction | other | " + " | ".join(f"Δ {m}" for m in metrics) + " |",
             "|---|---|---|" + "---|" * len(metrics)]
    for task, per_dir in diffs.items():
        for direction, per_other in per_dir.items():
            for other, cells in per_other.items():
                lines.append(f"| {task} | {direction} | {other} | "
                             + " | ".join(_fmt(cells[m]) if m in cells else "-" for m in metrics) + " |")
    return lines + [""]


def main(argv: list[str] | None = None) -> dict:
    """``python -m benchmarks.bench.differences BENCH_OUT``: write ``differences.json`` there, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="output folder of `mri-search bench`")
    ap.add_argument("--base", default="model", help="the method the others are subtracted from")
    ap.add_argument("--others", default="", help="comma-separated methods (default: every other method)")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    per_query = per_query_from_folder(args.folder)
    others = [o for o in args.others.split(",") if o] or sorted({m for (_, _, m) in per_query} - {args.base})
    diffs = paired_differences(per_query, args.base, others, n_boot=args.n_boot, seed=args.seed)
    (args.folder / FILE).write_text(json.dumps(diffs, indent=2) + "\n")
    print("\n".join(differences_markdown(diffs, args.base)))
    return diffs


if __name__ == "__main__":
    main()
