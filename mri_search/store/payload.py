"""The payload of a point: the de-identified series record and its study's report sections, as JSON values.

``PAYLOAD_FIELDS`` is the one list of fields (with their kind, which ``parquet.py`` maps to Arrow types); a payload
holds exactly these keys, plus ``phi`` (the raw identifiers ``SeriesRecord.phi``) only when the user asked to keep
them (``--keep-phi``). Identifiers are the ingestion layer's salted hashes; the file path is
``SeriesRecord.stored_path`` (identifier values in it replaced by salted tokens, ``ingest.path_ids``) unless
``--keep-phi``; the real path stays in the indexing machine's locator (``store.locator``).
"""

from __future__ import annotations

from ..ingest.phi import PHI_KEYWORDS
from ..ingest.records import ParsedReport, SeriesRecord
from ..ingest.report_text import SECTION_ORDER
from ..report_labels import labels_of

# name -> kind: str, int, float, bool (None allowed for int/float: unknown), ints, floats, sections, labels, phi
PAYLOAD_FIELDS: dict[str, str] = {
    "series_key": "str",  # SeriesRecord.key: hashed SeriesInstanceUID + stack index (NIfTI: hashed path)
    "study_key": "str",  # hashed StudyInstanceUID
    "series_uid_hash": "str",
    "patient_key": "str",
    "accession_hash": "str",
    "source": "str",  # dicom | nifti
    "layout": "str",  # single | enhanced | nifti
    "modality": "str",
    "sequence": "str",  # T1, T2, FLAIR, PD, STIR, DWI, ADC, T1C, SSFP, T2FS, PDFS, other
    "sequence_evidence": "str",
    "post_contrast": "bool",
    "fat_suppressed": "bool",
    "plane": "str",  # axial | sagittal | coronal | oblique
    "shape": "ints",  # (slices, rows, columns)
    "spacing": "floats",  # (slice step, row, column) mm
    "b_values": "ints",
    "stack_index": "int",
    "manufacturer": "str",
    "scanner_model": "str",  # SeriesRecord.model (renamed: "model" would read as the embedding model)
    "field_strength": "float",
    "body_part": "str",  # BodyPartExamined as stated
    "series_description": "str",
    "study_description": "str",
    "protocol_name": "str",
    "series_number": "int",
    "repetition_time": "float",
    "echo_time": "float",
    "inversion_time": "float",
    "laterality": "str",
    "path": "str",  # the series' first file, identifiers replaced (SeriesRecord.stored_path; raw with keep_phi)
    "n_files": "int",
    "has_report": "bool",
    "report": "sections",  # {section: text} of the study's report (canonical section names), or None
    # labels parsed from that report's text alone (mri_search.report_labels), or None without a report
    "report_labels": "labels",
    "study_uid": "str",  # raw StudyInstanceUID only when indexed with --keep-uids (viewer links), else ""
    "series_uid": "str",  # raw SeriesInstanceUID only with --keep-uids, else ""
}
PHI_FIELD = "phi"


def build_payload(rec: SeriesRecord, report: ParsedReport | None, keep_phi: bool = False) -> dict:
    """The payload of ``rec`` (JSON values only: lists, no tuples).

    Args:
        rec: the series record.
        report: its study's parsed report, if any.
        keep_phi: also store ``rec.phi`` (raw identifiers; only filled when the scan was asked for them) and the raw
            file path instead of ``rec.stored_path``.
    """
    d = {
        "series_key": rec.key, "study_key": rec.study_key, "series_uid_hash": rec.series_uid_hash,
        "patient_key": rec.patient_key, "accession_hash": rec.accession_hash, "source": rec.source,
        "layout": rec.layout, "modality": rec.modality, "sequence": rec.sequence,
        "sequence_evidence": rec.sequence_evidence, "post_contrast": bool(rec.post_contrast),
        "fat_suppressed": bool(rec.fat_suppressed), "plane": rec.plane, "shape": [int(v) for v in rec.shape],
        "spacing": [float(v) for v in rec.spacing], "b_values": [int(v) for v in rec.b_values],
        "stack_index": int(rec.stack_index), "manufacturer": rec.manufacturer, "scanner_model": rec.model,
        "field_strength": _float(rec.field_strength), "body_part": rec.body_part,
        "series_description": rec.series_description, "study_description": rec.study_description,
        "protocol_name": rec.protocol_name, "series_number": None if rec.series_number is None else
        int(rec.series_number), "repetition_time": _float(rec.repetition_time),
        "echo_time": _float(rec.echo_time), "inversion_time": _float(rec.inversion_time),
        "laterality": rec.laterality, "path": _path(rec, keep_phi), "n_files": len(rec.files),
        "has_report": report is not None,
        "report": None if report is None else {k: report.sections[k] for k in SECTION_ORDER if k in report.sections},
        "report_labels": None if report is None else labels_of(report),
        "study_uid": rec.study_uid, "series_uid": rec.series_uid,
    }
    if keep_phi:
        d[PHI_FIELD] = {k: str(v) for k, v in rec.phi.items() if k in PHI_KEYWORDS}
    return d


def _path(rec: SeriesRecord, keep_phi: bool) -> str:
    if not rec.files:
        return ""
    return rec.files[0].display if keep_phi or not rec.stored_path else rec.stored_path


def _float(v) -> float | None:
    return None if v is None else float(v)
