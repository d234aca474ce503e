"""The payload of a point: the de-identified series record and its study's report sections, as JSON values.

The fields are those of the table ``fields.FIELDS``, in its order; ``PAYLOAD_FIELDS`` (name -> kind, which
``parquet.py`` maps to Arrow types) is read from it. A payload holds exactly these keys, plus ``phi`` (the raw
identifiers ``SeriesRecord.phi``) only when the user asked to keep them (``--keep-phi``). Identifiers are the
ingestion layer's salted hashes; the file path is ``SeriesRecord.stored_path`` (identifier values in it replaced by
salted tokens, ``ingest.path_ids``) unless ``--keep-phi``; the real path stays in the indexing machine's locator
(``store.locator``).
"""

from __future__ import annotations

from ..ingest.phi import PHI_KEYWORDS
from ..ingest.records import ParsedReport, SeriesRecord
from .fields import FIELDS

# name -> kind: str, int, float, bool (None allowed for int/float: unknown), ints, floats, sections, labels
PAYLOAD_FIELDS: dict[str, str] = {f.name: f.kind for f in FIELDS}
PHI_FIELD = "phi"


def build_payload(rec: SeriesRecord, report: ParsedReport | None, keep_phi: bool = False) -> dict:
    """The payload of ``rec`` (JSON values only: lists, no tuples).

    Args:
        rec: the series record.
        report: its study's parsed report, if any.
        keep_phi: also store ``rec.phi`` (raw identifiers; only filled when the scan was asked for them) and the raw
            file path instead of ``rec.stored_path``.
    """
    d = {f.name: f.value(rec, report, keep_phi) for f in FIELDS}
    if keep_phi:
        d[PHI_FIELD] = {k: str(v) for k, v in rec.phi.items() if k in PHI_KEYWORDS}
    return d
