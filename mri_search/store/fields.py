"""The payload's fields, in one table: every other description of a point's payload is derived from it.

Each ``PayloadField`` says what the field holds (``kind``), where its value comes from (a ``SeriesRecord``
attribute, converted by kind, or a function of the record, its study's report and ``keep_phi``), which payload
index queries filter it by, and whether it is one of the salted keys that name a series, its study or its patient.
From the table: the payload of a series (``payload.build_payload``, in table order), the payload indexes of a
collection (``layout.PAYLOAD_INDEXES``), the Parquet columns (``parquet.schema``, by kind) and what a query hit
reads back (``query.searcher.QueryHit.from_hit``).

This module imports nothing heavy (the query path reads the table); the report parser is imported when a payload
is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..ingest.records import ParsedReport, SeriesRecord

KINDS = ("str", "int", "float", "bool", "ints", "floats", "sections", "labels")
INDEX_TYPES = ("keyword", "integer", "float", "bool")
Derive = Callable[["SeriesRecord", "ParsedReport | None", bool], Any]  # (record, report, keep_phi) -> value


@dataclass(frozen=True)
class PayloadField:
    """One field of every point's payload."""

    name: str  # the payload key (and Parquet column)
    kind: str  # one of KINDS: str, int, float, bool (None allowed for int/float: unknown), ints, floats, ...
    source: str | Derive  # a SeriesRecord attribute (its value converted by kind), or how the value is derived
    index: str | None = None  # payload index type (INDEX_TYPES) when queries filter by the field
    member_indexes: tuple[tuple[str, str], ...] = ()  # (member, index type) of a nested field's filtered members
    identifier: bool = False  # a salted key naming the series, its study or its patient (grouping, replicas)

    def value(self, rec: SeriesRecord, report: ParsedReport | None, keep_phi: bool):
        """The field's JSON value for ``rec`` (lists, never tuples)."""
        if callable(self.source):
            return self.source(rec, report, keep_phi)
        return _CONVERT[self.kind](getattr(rec, self.source))

    def indexes(self) -> list[tuple[str, str]]:
        """``(payload path, index type)`` of the field and of its indexed members (``report_labels.region``)."""
        own = [(self.name, self.index)] if self.index else []
        return own + [(f"{self.name}.{m}", t) for m, t in self.member_indexes]


def _optional(cast):
    return lambda v: None if v is None else cast(v)


_CONVERT = {
    "str": lambda v: v, "bool": bool, "int": _optional(int), "float": _optional(float),
    "ints": lambda v: [int(x) for x in v], "floats": lambda v: [float(x) for x in v],
}


def _path(rec, report, keep_phi: bool) -> str:
    """The series' first file: identifiers replaced (``SeriesRecord.stored_path``), the raw path with keep_phi."""
    if not rec.files:
        return ""
    return rec.files[0].display if keep_phi or not rec.stored_path else rec.stored_path


def _sections(rec, report, keep_phi: bool) -> dict | None:
    """``{section: text}`` of the study's report in canonical section order, or None without a report."""
    if report is None:
        return None
    from ..ingest.report_text import SECTION_ORDER

    return {k: report.sections[k] for k in SECTION_ORDER if k in report.sections}


def _labels(rec, report, keep_phi: bool) -> dict | None:
    """Labels parsed from the report's text alone (``mri_search.report_labels``), or None without a report."""
    if report is None:
        return None
    from ..report_labels import labels_of

    return labels_of(report)


_F = PayloadField
FIELDS: tuple[PayloadField, ...] = (
    # hashed SeriesInstanceUID + stack index (NIfTI: hashed path)
    _F("series_key", "str", "key", index="keyword", identifier=True),
    _F("study_key", "str", "study_key", index="keyword", identifier=True),  # hashed StudyInstanceUID
    _F("series_uid_hash", "str", "series_uid_hash"),
    _F("patient_key", "str", "patient_key", index="keyword", identifier=True),
    _F("accession_hash", "str", "accession_hash"),
    _F("source", "str", "source", index="keyword"),  # dicom | nifti
    _F("layout", "str", "layout"),  # single | enhanced | nifti
    _F("modality", "str", "modality"),
    _F("sequence", "str", "sequence", index="keyword"),  # T1, T2, FLAIR, PD, STIR, DWI, ADC, T1C, ..., other
    _F("sequence_evidence", "str", "sequence_evidence"),
    _F("post_contrast", "bool", "post_contrast", index="bool"),
    _F("fat_suppressed", "bool", "fat_suppressed", index="bool"),
    _F("plane", "str", "plane", index="keyword"),  # axial | sagittal | coronal | oblique
    _F("shape", "ints", "shape"),  # (slices, rows, columns)
    _F("spacing", "floats", "spacing"),  # (slice step, row, column) mm
    _F("b_values", "ints", "b_values"),
    _F("stack_index", "int", "stack_index"),
    _F("manufacturer", "str", "manufacturer", index="keyword"),
    _F("scanner_model", "str", "model"),  # renamed: "model" would read as the embedding model
    _F("field_strength", "float", "field_strength", index="float"),
    _F("body_part", "str", "body_part", index="keyword"),  # BodyPartExamined as stated
    _F("series_description", "str", "series_description"),
    _F("study_description", "str", "study_description"),
    _F("protocol_name", "str", "protocol_name"),
    _F("series_number", "int", "series_number", index="integer"),
    _F("repetition_time", "float", "repetition_time"),
    _F("echo_time", "float", "echo_time"),
    _F("inversion_time", "float", "inversion_time"),
    _F("laterality", "str", "laterality", index="keyword"),
    _F("path", "str", _path),
    _F("n_files", "int", lambda rec, report, keep_phi: len(rec.files)),
    _F("has_report", "bool", lambda rec, report, keep_phi: report is not None, index="bool"),
    _F("report", "sections", _sections),
    _F("report_labels", "labels", _labels,
      member_indexes=(("region", "keyword"), ("tumour_site", "keyword"), ("tumour", "keyword"))),
    # raw Study/SeriesInstanceUID only when indexed with --keep-uids (viewer links), else ""
    _F("study_uid", "str", "study_uid"),
    _F("series_uid", "str", "series_uid"),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)
IDENTIFIERS = tuple(f.name for f in FIELDS if f.identifier)  # series_key, study_key, patient_key
