"""Accuracy of the report-label parser (``mri_search.report_labels``) against the generator's ground truth.

The parser reads the report text only; the truth is what the manifest records for the study (body region, tumour
sub-site and histology, laterality of the main finding, whether any series is post-contrast). Two sources:

- ``--seeds 9401,9402 --studies 300``: studies drawn by the generator itself (``synth.archive.build_plan`` and the
  report writer, exactly what ``mri-search synth`` writes as ``report.txt``, and ``study_truth``, what it writes to
  ``manifest.parquet``), without rendering images, so that hundreds of studies per seed cost minutes;
  ``--regions`` restricts them (``head_neck`` for enough tumours per sub-site).
- ``ARCHIVE ...``: generated archives on disk: their ``manifest.parquet`` and ``reports.csv``.

Keep the seeds apart from those the vocabulary was developed on. Per field: accuracy, the number of reports it is
counted on, and the commonest confusions. Sub-site and histology are counted on the head-and-neck tumour reports.

Run: ``python -m benchmarks.report_labels --seeds 9401,9402 --studies 300 [--regions head_neck]
[ARCHIVE ...] [--workers 2] [--json out.json] [--markdown table.md]``
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from mri_search.report_labels import parse_labels

from .common import emit

FIELDS = {  # name: (truth -> expected label, labels -> predicted, which reports count)
    "region": (lambda t: t["body_region"], lambda lab: lab.region, lambda t: True),
    "tumour_site (head-and-neck tumours)": (lambda t: t["tumor_site"], lambda lab: lab.tumour_site,
                                            lambda t: t["body_region"] == "head_neck" and t["tumor_site"]),
    "histology (head-and-neck tumours)": (lambda t: t["tumor_histology"], lambda lab: lab.histology,
                                          lambda t: t["body_region"] == "head_neck" and t["tumor_site"]),
    "tumour present (head and neck)": (lambda t: "present" if t["tumor_site"] else "absent",
                                       lambda lab: "present" if lab.tumour == "present" else "absent",
                                       lambda t: t["body_region"] == "head_neck"),
    "laterality": (lambda t: t["laterality"] or "", lambda lab: lab.laterality, lambda t: True),
    "contrast": (lambda t: bool(t["contrast"]), lambda lab: lab.contrast, lambda t: True),
}


def _drawn(job: tuple[int, tuple[str, ...] | None, int]) -> tuple[dict, str]:
    from mri_search.synth.archive import build_plan, study_truth
    from mri_search.synth.config import SynthConfig
    from mri_search.synth.reports import write_report

    seed, regions, index = job
    cfg = SynthConfig(out=Path("unused"), studies=10**6, seed=seed, regions=regions)
    plan, _, _, rng = build_plan(cfg, index)
    text = write_report(plan, rng).text  # drawn in the order generate_study draws it
    return study_truth(plan), text


def from_generator(seeds: list[int], studies: int, regions, workers: int) -> list[tuple[dict, str, str]]:
    jobs = [(s, regions, i) for s in seeds for i in range(studies)]
    with ProcessPoolExecutor(max(1, workers)) as ex:
        return [(t, text, f"seed {j[0]}") for j, (t, text) in zip(jobs, ex.map(_drawn, jobs, chunksize=8))]


def from_archive(folder: Path) -> list[tuple[dict, str, str]]:
    import pyarrow.parquet as pq

    csv.field_size_limit(16 * 1024**2)
    with open(folder / "reports.csv", newline="", encoding="utf-8") as f:
        reports = {r["study_uid"]: r["report"] for r in csv.DictReader(f)}
    studies: dict[str, dict] = {}
    for row in pq.read_table(folder / "manifest.parquet").to_pylist():
        t = studies.setdefault(row["study_uid"], dict(row, contrast=False))
        t["contrast"] = t["contrast"] or bool(row["post_contrast"])
    return [(t, reports[uid], str(folder)) for uid, t in studies.items() if uid in reports]


def score(items: list[tuple[dict, str, str]]) -> dict:
    labels = [parse_labels(text) for _, text, _ in items]
    out = {"reports": len(items), "unreadable": sum(1 for lab in labels if lab.problems), "fields": {}}
    for name, (want, got, counts) in FIELDS.items():
        pairs = [(want(t), got(lab)) for (t, _, _), lab in zip(items, labels) if counts(t)]
        wrong = Counter(f"{a or '-'} -> {b if b not in ('', None) else '-'}" for a, b in pairs if a != b)
        out["fields"][name] = {"n": len(pairs), "accuracy": round(sum(a == b for a, b in pairs) / max(len(pairs), 1),
                                                                  4),
                               "confusions": dict(wrong.most_common(5))}
    return out


def markdown(results: dict) -> str:
    names = list(results)
    rows = ["| field | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for field in FIELDS:
        cells = [f"{results[n]['fields'][field]['accuracy']:.4f} (n={results[n]['fields'][field]['n']})"
                 if results[n]["fields"][field]["n"] else "-" for n in names]
        rows.append(f"| {field} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("archives", nargs="*", type=Path, help="generated archives (manifest.parquet + reports.csv)")
    ap.add_argument("--seeds", default="", help="comma-separated generator seeds to draw studies from")
    ap.add_argument("--studies", type=int, default=300, help="studies per seed")
    ap.add_argument("--regions", default="", help="comma-separated regions to draw from (default: all)")
    ap.add_argument("--workers", type=int, default=2, help="processes drawing studies")
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    ap.add_argument("--markdown", type=Path, default=None, help="write the table here")
    args = ap.parse_args(argv)
    regions = tuple(r for r in args.regions.split(",") if r) or None
    results = {}
    for seed in [int(s) for s in args.seeds.split(",") if s]:
        results[f"seed {seed}" + (f" ({','.join(regions)})" if regions else "")] = score(
            from_generator([seed], args.studies, regions, args.workers))
    for folder in args.archives:
        results[folder.name] = score(from_archive(folder))
    if not results:
        ap.error("give --seeds or an archive")
    emit(results, markdown(results), args.json, args.markdown)


if __name__ == "__main__":
    main()
