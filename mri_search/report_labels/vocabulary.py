"""The report-label vocabulary: a table of terms (data, not code), extendable with a user's own tables.

Columns: ``field`` (what a term says: ``organ``, ``site``, ``histology``, ``tumour``, ``finding``, ``side``,
``contrast``, ``secondary`` (words after which a named site is where a tumour extends or spreads to, not where it
arises), ``normal`` (an impression that opens with one of these says nothing abnormal), and the cue lists ``negation_preceding``, ``negation_following``, ``pseudo_negation``,
``uncertainty_preceding``, ``uncertainty_following``), ``value`` (the label it gives: an organ, a sub-site, a
histology, a side, yes/no), ``term`` (matched case-insensitively on whole tokens) and ``region`` (the body region
an organ or sub-site belongs to). Lines starting with ``#`` are comments. The shipped table is
``vocabulary.tsv`` beside this module; its sub-site and histology values are the generator's manifest names.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

ENTITY_FIELDS = ("organ", "site", "histology", "tumour", "finding", "side", "contrast", "secondary", "normal")
CUE_FIELDS = ("negation_preceding", "negation_following", "pseudo_negation", "uncertainty_preceding",
              "uncertainty_following")
COLUMNS = ("field", "value", "term", "region")


@dataclass(frozen=True)
class Term:
    field: str
    value: str
    term: str  # lower case
    region: str = ""


@dataclass(frozen=True)
class Vocabulary:
    """Every term, in table order (the shipped table first, then the user's)."""

    terms: tuple[Term, ...]

    def of(self, field: str) -> list[Term]:
        return [t for t in self.terms if t.field == field]

    def cues(self, field: str) -> list[str]:
        return [t.term for t in self.terms if t.field == field]

    def region_of(self, field: str, value: str) -> str:
        return next((t.region for t in self.terms if t.field == field and t.value == value and t.region), "")

    @property
    def key(self) -> tuple:
        """What identifies it (the parsers built from it are cached by this)."""
        return self.terms


def _rows(text: str, where: str) -> list[Term]:
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)), delimiter="\t")
    if reader.fieldnames is None or not set(COLUMNS[:3]) <= set(reader.fieldnames):
        raise ValueError(f"{where}: a vocabulary table needs the tab-separated columns {', '.join(COLUMNS)}")
    out = []
    for n, row in enumerate(reader, start=2):
        field, value, term = ((row.get(c) or "").strip() for c in COLUMNS[:3])
        if field not in ENTITY_FIELDS + CUE_FIELDS:
            raise ValueError(f"{where} row {n}: unknown field {field!r} "
                             f"(one of {', '.join(ENTITY_FIELDS + CUE_FIELDS)})")
        if not value or not term:
            raise ValueError(f"{where} row {n}: value and term must not be empty")
        out.append(Term(field, value, term.lower(), (row.get("region") or "").strip()))
    return out


def load_vocabulary(*extra: str | Path) -> Vocabulary:
    """The shipped table, plus the rows of each ``extra`` table (the same columns).

    Raises:
        ValueError: an extra table is missing, or a row has an unknown field or an empty value or term.
    """
    shipped = resources.files(__package__).joinpath("vocabulary.tsv").read_text(encoding="utf-8")
    terms = _rows(shipped, "vocabulary.tsv")
    for path in extra:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"vocabulary {path}: {exc.strerror or exc}") from None
        terms += _rows(text, str(path))
    return Vocabulary(tuple(terms))
