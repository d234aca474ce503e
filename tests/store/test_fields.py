"""The payload field table: a series' payload, the payload indexes and a hit's read-back all come from it."""

from __future__ import annotations

import json
from dataclasses import fields

from mri_search.ingest.records import FileRef, ParsedReport, SeriesRecord
from mri_search.query.searcher import QueryHit
from mri_search.store.base import Hit
from mri_search.store.fields import FIELDS, IDENTIFIERS, INDEX_TYPES, KINDS
from mri_search.store.layout import PAYLOAD_INDEXES
from mri_search.store.payload import PAYLOAD_FIELDS, build_payload

REC = SeriesRecord(
    key="sk", source="dicom", layout="single", files=(FileRef("/a", "p1/s.dcm"), FileRef("/a", "p1/t.dcm")),
    study_key="st", series_uid_hash="suh", patient_key="pk", accession_hash="ah", modality="MR", sequence="T2",
    sequence_evidence="description", post_contrast=0, fat_suppressed=1, plane="axial", shape=(3, 4, 5),
    spacing=(2, 0.5, 0.5), affine_lps=(), b_values=(0, 1000), stack_index=1, manufacturer="GE", model="Signa",
    field_strength=3, series_number=7, echo_time=90, laterality="L", stored_path="/a/<pid>/s.dcm",
    study_uid="1.2", series_uid="1.2.3")


def test_payload_is_the_table_in_order_with_converted_values():
    p = build_payload(REC, None)
    assert list(p) == [f.name for f in FIELDS] == list(PAYLOAD_FIELDS)
    assert json.dumps(p) == json.dumps({
        "series_key": "sk", "study_key": "st", "series_uid_hash": "suh", "patient_key": "pk",
        "accession_hash": "ah", "source": "dicom", "layout": "single", "modality": "MR", "sequence": "T2",
        "sequence_evidence": "description", "post_contrast": False, "fat_suppressed": True, "plane": "axial",
        "shape": [3, 4, 5], "spacing": [2.0, 0.5, 0.5], "b_values": [0, 1000], "stack_index": 1,
        "manufacturer": "GE", "scanner_model": "Signa", "field_strength": 3.0, "body_part": "",
        "series_description": "", "study_description": "", "protocol_name": "", "series_number": 7,
        "repetition_time": None, "echo_time": 90.0, "inversion_time": None, "laterality": "L",
        "path": "/a/<pid>/s.dcm", "n_files": 2, "has_report": False, "report": None, "report_labels": None,
        "study_uid": "1.2", "series_uid": "1.2.3"})
    assert build_payload(REC, None, keep_phi=True)["path"] == "/a/p1/s.dcm"


def test_report_fields_come_from_the_report():
    rep = ParsedReport(source="r.txt", text="IMPRESSION: fine.\nFINDINGS: none.",
                       sections={"impression": "fine.", "findings": "none."}, sentences=[], labels={"region": "knee"})
    p = build_payload(REC, rep)
    assert p["has_report"] is True and p["report_labels"] == {"region": "knee"}
    assert list(p["report"]) == ["findings", "impression"]  # canonical section order, not the report's


def test_table_is_consistent():
    names = {f.name for f in SeriesRecord.__dataclass_fields__.values()}
    for f in FIELDS:
        assert f.kind in KINDS, f
        assert callable(f.source) or f.source in names, f
        assert all(t in INDEX_TYPES for _, t in f.indexes()), f
    assert IDENTIFIERS == ("series_key", "study_key", "patient_key")
    assert PAYLOAD_INDEXES["report_labels.region"] == "keyword" and PAYLOAD_INDEXES["series_number"] == "integer"
    assert "path" not in PAYLOAD_INDEXES and len(PAYLOAD_INDEXES) == 17


def test_hit_reads_back_its_text_fields():
    shown = [f.name for f in fields(QueryHit) if f.name in PAYLOAD_FIELDS]
    assert shown == ["series_key", "study_key", "sequence", "plane", "body_part", "manufacturer",
                     "series_description", "path"]
    assert all(PAYLOAD_FIELDS[n] == "str" for n in shown)
    hit = QueryHit.from_hit(3, Hit(id="i", score=0.5, payload=build_payload(REC, None)))
    assert (hit.rank, hit.series_key, hit.sequence, hit.path, hit.body_part, hit.impression) == (
        3, "sk", "T2", "/a/<pid>/s.dcm", "", "")
    assert QueryHit.from_hit(1, Hit(id="i", score=0.5, payload={})).series_key == ""
