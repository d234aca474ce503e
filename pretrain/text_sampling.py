"""Region-aware report sampling for stage 2: each time a series is drawn, one of three views of its study's report.

Decipher-MR supervises the volume with the whole report, with its conclusion, and with organ/region-level
sentences, so the report tower learns both study-level summaries and the short, focused phrases users type as
queries ("medial meniscal tear", "no restricted diffusion"). Per draw:

  * "full": findings then impression, each under its heading. The exam line, history, technique and comparison
    are left out: the history is the clinical question (not what the image shows), and technique / comparison are
    near-identical boilerplate across studies, which would give the contrastive loss easy, meaningless matches and
    dilute the image-related content within the 77-token-ish context of the text tower.
  * "impression": the impression (conclusion) alone.
  * "region": 1 to 3 findings sentences (organ/region-level units from ``ParsedReport``), drawn without
    replacement and kept in report order.

Fallbacks when a section is missing: impression -> region sentences -> full; region (no findings sentences) ->
impression -> full; full with neither findings nor impression -> the whole report text. So a report always yields
non-empty text.
"""

from __future__ import annotations

import random

import numpy as np

from mri_search.ingest.records import ParsedReport
from mri_search.ingest.report_text import embedding_text, split_sentences

KINDS = ("full", "impression", "region")
DEFAULT_WEIGHTS = (0.4, 0.3, 0.3)  # full report, impression, region sentences
MAX_REGION_SENTENCES = 3

Rng = random.Random | np.random.Generator


full_text = embedding_text  # the whole report, as indexing embeds it


def findings_sentences(report: ParsedReport) -> list[str]:
    """The organ/region-level sentences of the findings section (``report.sentences`` minus the impression's)."""
    findings = report.sections.get("findings", "")
    return split_sentences(findings) if findings.strip() else []


def _random(rng: Rng) -> float:
    return float(rng.random())


def _randint(rng: Rng, low: int, high: int) -> int:
    """Uniform integer in [low, high]."""
    if isinstance(rng, random.Random):
        return rng.randint(low, high)
    return int(rng.integers(low, high + 1))


def _sample_indices(rng: Rng, n: int, k: int) -> list[int]:
    if isinstance(rng, random.Random):
        return sorted(rng.sample(range(n), k))
    return sorted(int(i) for i in rng.choice(n, size=k, replace=False))


def choose_kind(rng: Rng, weights: tuple[float, float, float] = DEFAULT_WEIGHTS) -> str:
    """One of ``KINDS`` drawn with ``weights`` (normalised; need not sum to 1)."""
    if len(weights) != len(KINDS) or min(weights) < 0 or sum(weights) <= 0:
        raise ValueError(f"weights must be three non-negative numbers (full, impression, region) with a positive "
                         f"sum, got {weights}")
    u = _random(rng) * sum(weights)
    acc = 0.0
    for kind, w in zip(KINDS, weights):
        acc += w
        if u < acc:
            return kind
    return next(k for k, w in zip(reversed(KINDS), reversed(weights)) if w > 0)  # u == sum (float edge)


def sample_text(report: ParsedReport, rng: Rng, weights: tuple[float, float, float] = DEFAULT_WEIGHTS) -> str:
    """One training text for a series of this report's study (see the module docstring for the three kinds).

    Args:
        report: the study's parsed report.
        rng: ``random.Random`` or ``np.random.Generator``; the same rng state gives the same text.
        weights: relative probabilities of (full report, impression, region sentences).

    Returns:
        Non-empty text.
    """
    kind = choose_kind(rng, weights)
    impression = report.sections.get("impression", "").strip()
    sentences = findings_sentences(report)
    if kind == "impression" and not impression:
        kind = "region" if sentences else "full"
    if kind == "region" and not sentences:
        kind = "impression" if impression else "full"
    if kind == "impression":
        return impression
    if kind == "region":
        k = _randint(rng, 1, min(MAX_REGION_SENTENCES, len(sentences)))
        return " ".join(sentences[i] for i in _sample_indices(rng, len(sentences), k))
    return full_text(report)
