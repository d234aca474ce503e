"""Case 6 of issue 20: report parsing is linear-time and the text is capped."""

from __future__ import annotations

import time

import pytest

from mri_search.ingest import report_text
from mri_search.ingest.report_text import parse_report

from .hostile import ADVERSARIAL_REPORTS


def _seconds(text: str, name: str) -> float:
    t = time.perf_counter()
    try:
        parse_report(text, name)
    except ValueError as e:
        assert "empty report" in str(e) and not text.strip()
    return time.perf_counter() - t


@pytest.mark.parametrize("name", sorted(ADVERSARIAL_REPORTS))
def test_adversarial_report_parses_in_linear_time(name):
    """Against an ordinary report of the same length parsed in the same run (a ratio, not a wall-clock bound):
    a backtracking pattern costs orders of magnitude more on such text, linear ones about the same."""
    text = ADVERSARIAL_REPORTS[name]
    sentence = "FINDINGS: The liver is normal in size. No focal lesion. "
    ordinary = (sentence * (len(text) // len(sentence) + 1))[: max(len(text), 1)]
    baseline = min(_seconds(ordinary, "ordinary") for _ in range(3))
    assert _seconds(text, name) < 20 * baseline + 0.05


def test_long_report_is_cut_with_a_warning(caplog):
    text = "FINDINGS: " + "Normal liver. " * 100_000
    r = parse_report(text, "long.txt")
    assert len(r.text) == report_text.MAX_REPORT_CHARS
    assert "cut to the first" in caplog.text


def test_sentences_unchanged_by_the_linear_patterns():
    # expected values are what the previous (backtracking) patterns gave on this text
    r = parse_report("FINDINGS:   \nLiver: No lesion. Size 2.3 x 1.8 cm!! Then small.\n\nIMPRESSION: Normal...  Done",
                     "x")
    assert r.sentences == ["Liver: No lesion.", "Liver: Size 2.3 x 1.8 cm!!", "Liver: Then small.", "Normal...",
                           "Done"]
    assert r.sections == {"findings": "Liver: No lesion. Size 2.3 x 1.8 cm!! Then small.",
                          "impression": "Normal...  Done"}
