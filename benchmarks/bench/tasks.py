"""The benchmark tasks: text items and image items with the labels that decide relevance.

Every task pairs a list of texts with a list of series. Text-to-image (``t2i``) ranks the series for each text;
image-to-text (``i2t``) ranks the texts for each series. An item is relevant to a query when their labels are equal
(a ``None`` label is never relevant: a series without a tumour is only a distractor in the pathology task).

* ``body_region_sentences``: organ/region-level findings sentences of each study's report (the parser's
  sentence units), up to two per study (seeded), leaving out those that name no structure ("No other significant
  abnormality."); label = body region.
* ``body_region_reports``: each study's whole report (findings + impression); label = body region.
* ``hn_site``: the impression of each head-and-neck tumour report; series of head-and-neck studies; label = tumour
  sub-site. ``hn_site_histology`` grades more strictly: sub-site and histology.
* ``paired``: each study's whole report against every series; label = the study (its own series are relevant).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from mri_search.ingest.report_text import embedding_text, split_sentences
from mri_search.ingest.records import ParsedReport

from .data import BenchData, Series, Study

TASKS = ("body_region_sentences", "body_region_reports", "hn_site", "hn_site_histology", "paired")
# sentences that point at no structure: they cannot say which body region they come from
_GENERIC = re.compile(r"^(no other|otherwise|no (further|additional)|the remainder|remaining|elsewhere|"
                      r"no significant|no acute|nothing else)\b", re.IGNORECASE)


@dataclass
class Task:
    """Texts and series of one task, with their labels."""

    name: str
    texts: list[str]
    text_ids: list[str]  # whitespace-free ids for TREC files
    text_labels: list
    series: list[Series]
    series_labels: list

    @property
    def series_ids(self) -> list[str]:
        return [s.record.key for s in self.series]


def organ_sentences(report: ParsedReport) -> list[str]:
    """Findings sentences of at least four words that name something ("The pyriform sinuses are clear.")."""
    findings = report.sections.get("findings", "")
    return [x for x in split_sentences(findings) if len(x.split()) >= 4 and not _GENERIC.match(x.strip())]


def _impression(report: ParsedReport) -> str:
    return report.sections.get("impression", "").strip() or embedding_text(report)


def _hn_tumour(study: Study) -> bool:
    return study.body_region == "head_neck" and study.tumor_site is not None


def build_tasks(data: BenchData, seed: int = 0, hn: BenchData | None = None) -> dict[str, Task]:
    """All tasks that the data supports (a task without a single query is left out).

    Args:
        data: the evaluated split of the general archive.
        seed: picks the organ sentences.
        hn: an extra head-and-neck archive's evaluated split for the pathology tasks (default: ``data``'s
            head-and-neck studies).
    """
    rng = random.Random(seed)
    tasks: dict[str, Task] = {}
    sentences, sent_ids, sent_labels = [], [], []
    for i, st in enumerate(data.studies):
        picks = organ_sentences(st.report)
        for j, s in enumerate(rng.sample(picks, min(2, len(picks)))):
            sentences.append(s)
            sent_ids.append(f"st{i}.s{j}")
            sent_labels.append(st.body_region)
    region = [s.row["body_region"] for s in data.series]
    if sentences:
        tasks["body_region_sentences"] = Task("body_region_sentences", sentences, sent_ids, sent_labels,
                                              data.series, region)
    full = [embedding_text(st.report) for st in data.studies]
    ids = [f"st{i}" for i in range(len(data.studies))]
    if full:
        tasks["body_region_reports"] = Task("body_region_reports", full, ids, [st.body_region for st in data.studies],
                                            data.series, region)
        tasks["paired"] = Task("paired", full, ids, [st.uid for st in data.studies], data.series,
                               [s.study for s in data.series])

    src = hn or data
    hn_studies = [st for st in src.studies if _hn_tumour(st)]
    hn_series = [s for s in src.series if s.row["body_region"] == "head_neck"]
    if hn_studies and hn_series:
        texts = [_impression(st.report) for st in hn_studies]
        hids = [f"hn{i}" for i in range(len(hn_studies))]
        tasks["hn_site"] = Task("hn_site", texts, hids, [st.tumor_site for st in hn_studies], hn_series,
                                [s.row["tumor_site"] for s in hn_series])
        tasks["hn_site_histology"] = Task(
            "hn_site_histology", texts, hids, [(st.tumor_site, st.tumor_histology) for st in hn_studies], hn_series,
            [(s.row["tumor_site"], s.row["tumor_histology"]) if s.row["tumor_site"] else None for s in hn_series])
    return tasks


def relevance(task: Task):
    """``[T, S]`` boolean: text t and series s share a (non-None) label."""
    import numpy as np

    def codes(labels, table):
        return np.array([table.setdefault(lab, len(table)) if lab is not None else -1 for lab in labels])

    table: dict = {}
    t, s = codes(task.text_labels, table), codes(task.series_labels, table)
    return (t[:, None] == s[None, :]) & (t[:, None] >= 0)
