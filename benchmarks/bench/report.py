"""The benchmark's Markdown report and PNG plots, in the paper's shape: per task, methods down, metrics across."""

from __future__ import annotations

from pathlib import Path

from mri_search.evaluation.plots import plot_bars, plot_pr_curves
from mri_search.evaluation.report import markdown_table

COLUMNS = {
    "paired": ["R@1", "R@5", "R@10", "mAP", "nDCG@10"],
    "default": ["mAP", "P_all@1", "P_all@3", "P_all@5", "P_all@10", "P@10", "nDCG@10"],
}
TITLES = {
    "body_region_sentences": "Body-region retrieval, organ/region-level sentences",
    "body_region_reports": "Body-region retrieval, whole reports",
    "hn_site": "Head-and-neck tumour pathology retrieval, same sub-site",
    "hn_site_histology": "Head-and-neck tumour pathology retrieval, same sub-site and histology",
    "paired": "Paired retrieval: a report and its own study's series",
}
BASELINES = ("metadata", "shortcut")


def _by_task(entries: dict, key: int = 2):
    out: dict = {}
    for (task, direction, method), value in entries.items():
        out.setdefault(task, {}).setdefault(direction, {})[method] = value
    return out


def _verdict(task: str, table: dict) -> str:
    """Say plainly whether the model beats the metadata and shortcut baselines on mAP."""
    if "model" not in table:
        return ""
    model = table["model"]["mAP"]
    worse = [b for b in BASELINES if b in table and table[b]["mAP"] >= model]
    if worse:
        return f"\n**The model does not beat the {' and '.join(worse)} baseline(s) on mAP here ({model:.3f}).**\n"
    present = [b for b in BASELINES if b in table]
    return f"\nThe model's mAP ({model:.3f}) is above the {', '.join(present)} baseline(s).\n" if present else ""


def write_report(path: Path, result: dict, entries: dict, cis: dict, fit_what: str = "the fitting series") -> None:
    """``report.md``: one section per task, a table per direction (values with 95 % bootstrap intervals), then the
    probing table when the run has one (``fit_what`` says what its probes were fitted on)."""
    lines = ["# mri-search retrieval benchmark", "",
             "precision@N is the paper's definition, `P_all@N`: the share of queries whose top N results are all "
             "relevant. `P@k` is the usual precision. Intervals: 95 % bootstrap over queries. Baselines: `random` "
             "ranking, `random_weights` (same architecture, untrained), `metadata` (TF-IDF of the query against "
             "the series' DICOM descriptions and body part, a PACS search), `shortcut` (geometry + intensity "
             "histogram classifier, given the query's label: an upper bound for acquisition-settings shortcuts).",
             ""]
    for task, per_dir in _by_task(entries).items():
        lines += [f"## {TITLES.get(task, task)} (`{task}`)", ""]
        cols = COLUMNS.get(task, COLUMNS["default"])
        for direction, table in per_dir.items():
            c = result["counts"].get(f"{task}.{direction}", {})
            ci = {m: {k: tuple(v) for k, v in cis[(task, direction, m)].items()} for m in table}
            lines += [f"### {direction} ({c.get('queries', '?')} queries, gallery {c.get('gallery', '?')})", "",
                      markdown_table(table, cols, ci=ci), _verdict(task, table)]
    if result.get("differences"):
        from .differences import differences_markdown

        lines += differences_markdown(result["differences"])
    if result["results"].get("probing"):
        from .probing import probing_markdown

        lines += probing_markdown(result["results"]["probing"], fit_what)
    eng = result.get("engine") or {}
    if eng:
        lines += ["## Engine", "", "| measure | value |", "|---|---|"]
        lines += [f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in eng.items()]
        lines.append("")
    path.write_text("\n".join(lines) + "\n")


def write_plots(out: Path, entries: dict, cis: dict, curves: dict) -> None:
    """Per task: ``<task>.png`` (mAP and P_all@N bars per method and direction) and ``<task>.pr.png``."""
    for task, per_dir in _by_task(entries).items():
        values = {f"{task}.{d}": table for d, table in per_dir.items()}
        ci = {f"{task}.{d}": {m: {k: tuple(v) for k, v in cis[(task, d, m)].items()} for m in table}
              for d, table in per_dir.items()}
        metrics = ["R@1", "R@10"] if task == "paired" else ["mAP", "P_all@1", "P_all@5", "P_all@10"]
        plot_bars(values, out / f"{task}.png", metrics, ci=ci, title=TITLES.get(task, task))
        for d in per_dir:
            plot_pr_curves({m: curves[(task, d, m)] for m in per_dir[d]}, out / f"{task}.{d}.pr.png",
                           title=f"{task} {d}")
