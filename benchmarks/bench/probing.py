"""The probing table of ``mri-search bench --probes``: frozen features, one small head per task, low-data fractions.

For each task of ``probe_tasks`` and each method, a probe (``mri_search.probe``, the same protocol as
``mri-search probe train``) is fitted on the benchmark's fitting series (the archive's other splits, or
``--fit-archive``) and scored on the evaluated series (patients it never saw), with 1 %, 10 % and 100 % of the
training labels drawn by patient (three draws below 100 %, mean and standard deviation). Methods:

* ``model``: the model's image tower, its pooled feature (the class token; what ``mri-search embed`` writes as
  ``pooled``);
* ``random_weights``: the same architecture untrained, the same feature;
* ``shortcut``: geometry + intensity-histogram features (``benchmarks.synth_shortcut``) under the same head: what
  acquisition settings alone give a probe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from mri_search.probe import LOW_DATA, MAIN, LabelledSet, ProbeCfg, evaluate

from .data import Series
from .probe_tasks import PROBE_TASKS

log = logging.getLogger(__name__)

METHODS = ("model", "random_weights", "shortcut")
METRIC_NAMES = {"auc": "AUC", "mae": "MAE"}


def run_probing(fit: list[Series], test: list[Series], features: dict[str, Callable[[Series], np.ndarray | None]],
                seed: int = 0, repeats: int = 3, head: str = "linear",
                fractions: tuple[float, ...] = LOW_DATA) -> dict:
    """The probing table ``{task: {kind, main_metric, about, n_train, n_test, n_test_patients, blind_baseline,
    fractions: {"0.01": {method: {metrics, std, n_train, n_train_patients, repeats}}}}}``.

    Args:
        fit: series the probes are fitted on.
        test: series they are scored on (other patients).
        features: method -> series -> feature vector (None: the method has no feature for it; a method missing
            a feature for any series of a task is left out of that task, with a warning).
        seed, repeats, head, fractions: as ``ProbeCfg``.

    A task whose series cannot be probed (no test series, a single class on the training side) is recorded as
    ``{"skipped": reason}``.
    """
    out: dict = {}
    for name, task in PROBE_TASKS.items():
        tr = [(s, task.label(s.row)) for s in fit]
        te = [(s, task.label(s.row)) for s in test]
        tr, te = [(s, y) for s, y in tr if y is not None], [(s, y) for s, y in te if y is not None]
        if not tr or not te:
            out[name] = {"skipped": f"{len(tr)} fitting and {len(te)} evaluated series have this label"}
            continue
        items = tr + te
        y = np.array([lab for _, lab in items], dtype=np.float64 if task.kind == "regression" else object)
        if task.kind == "classification":
            y = y.astype(str)
        groups = [s.row["patient_id"] for s, _ in items]
        splits = [(np.arange(len(tr)), np.arange(len(tr), len(items)))]
        entry: dict = {"kind": task.kind, "main_metric": MAIN[task.kind], "about": task.about, "n_train": len(tr),
                       "n_test": len(te), "n_test_patients": len({s.row["patient_id"] for s, _ in te}),
                       "fractions": {f"{f:g}": {} for f in sorted(fractions)}}
        cfg = ProbeCfg(task=name, kind=task.kind, head=head, fractions=tuple(fractions), repeats=repeats, seed=seed)
        for method, feat in features.items():
            vecs = [feat(s) for s, _ in items]
            if any(v is None for v in vecs):
                log.warning("probing %s: %s lacks features for %d series; left out", name, method,
                            sum(v is None for v in vecs))
                continue
            data = LabelledSet(series_keys=[s.record.key for s, _ in items], groups=groups,
                               x=np.stack(vecs).astype(np.float32), y=y, n_unlabelled=0)
            try:
                ev = evaluate(data, cfg, splits=splits)
            except ValueError as exc:
                entry = {"skipped": str(exc)}
                break
            entry["blind_baseline"] = ev.baseline
            for frac, row in ev.fractions.items():
                entry["fractions"][frac][method] = row
            log.info("probing %s %s: %s", name, method,
                     {f: round(r["metrics"][MAIN[task.kind]], 3) for f, r in ev.fractions.items()})
        out[name] = entry
    return _json_ready(out)


def _json_ready(obj):
    """NaN (an AUC with a single test class, ...) -> None, so results.json stays strict JSON."""
    if isinstance(obj, float):
        return None if obj != obj else obj
    if isinstance(obj, dict):
        return {k: _json_ready(v) for k, v in obj.items()}
    return obj


def _cell(row: dict | None, metric: str) -> str:
    if row is None:
        return "n/a"
    v, s = row["metrics"].get(metric), row["std"].get(metric)
    if v is None or v != v:
        return "n/a"
    return f"{v:.3f} ± {s:.3f}" if row["repeats"] > 1 else f"{v:.3f}"


def probing_markdown(probing: dict, fit_what: str) -> list[str]:
    """The report's probing section: one table, a block of rows per task, and a verdict per task."""
    methods = [m for m in METHODS if any(m in per for t in probing.values() for per in t.get("fractions", {}).values())]
    lines = ["## Probing: frozen features, a linear head per task", "",
             f"Each probe is fitted on {fit_what} and scored on the evaluated series (patients it never saw), with "
             "1 %, 10 % and 100 % of the training labels drawn by whole patient, a class task's draw growing until "
             "it holds two classes (3 draws below 100 %: mean ± sd; the series actually used in brackets). "
             "`model` and `random_weights`: the image tower's pooled feature (class token); `shortcut`: geometry + "
             "intensity histograms under the same head. AUC: macro one-vs-rest; MAE in years. "
             "The blind guess ignores the features (majority class: AUC 0.5; training median for MAE).", "",
             "| task (metric) | labels used | " + " | ".join(methods) + " |",
             "|---" * (len(methods) + 2) + "|"]
    verdicts = []
    for task, t in probing.items():
        if "skipped" in t:
            lines.append(f"| {task} | skipped: {t['skipped']} |" + " |" * (len(methods) - 1))
            continue
        metric = t["main_metric"]
        head = f"{task} ({METRIC_NAMES.get(metric, metric)}; {t['n_test']} test series)"
        for i, (frac, per) in enumerate(t["fractions"].items()):
            n = next((r["n_train"] for r in per.values()), 0)
            lines.append(f"| {head if i == 0 else ''} | {float(frac):.0%} ({n:.0f} series) | "
                         + " | ".join(_cell(per.get(m), metric) for m in methods) + " |")
        base = t.get("blind_baseline", {}).get(metric)
        if base is not None:
            lines.append("| | blind guess | " + " | ".join(f"{base:.3f}" for _ in methods) + " |")
        verdicts.append(_verdict(task, t, metric))
    return lines + [""] + [v for v in verdicts if v] + [""]


def _verdict(task: str, t: dict, metric: str) -> str:
    full = t["fractions"].get("1", {})
    if "model" not in full:
        return ""
    better = (lambda a, b: a > b) if metric == "auc" else (lambda a, b: a < b)
    mv = full["model"]["metrics"][metric]
    if mv is None or mv != mv:
        return ""
    losers = [m for m in ("random_weights", "shortcut") if m in full
              and full[m]["metrics"][metric] is not None and not better(mv, full[m]["metrics"][metric])]
    if losers:
        return f"- **{task}: the model's probe does not beat {' and '.join(losers)} at 100 % ({metric} {mv:.3f}).**"
    return f"- {task}: the model's probe beats the baselines at 100 % ({metric} {mv:.3f})."
