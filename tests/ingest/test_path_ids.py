"""Identifier values in paths become salted tokens (``mri_search.ingest.path_ids``)."""

from __future__ import annotations

import re

import pydicom
from pydicom.dataset import Dataset

from mri_search.ingest.path_ids import PathRedactor, identifier_values, redact_path
from mri_search.ingest.phi import hash_id

SALT = "test-salt"


def _token(prefix: str, value: str, salt: str = SALT) -> str:
    return f"{prefix}-{hash_id(salt, value.lower())[:8]}"


def test_folder_and_file_names_keep_their_shape():
    ids = (("PatientID", "P0001"), ("StudyInstanceUID", "1.2.826.0.1.3680043.8.498.1"),
           ("SOPInstanceUID", "1.2.826.0.1.3680043.8.498.1.7"))
    got = redact_path("DICOM/P0001/20230414/003_Ax_T2/1.2.826.0.1.3680043.8.498.1.7.dcm", SALT, ids)
    # the SOP UID (longer) wins over the study UID that is its prefix
    assert got == f"DICOM/{_token('PAT', 'P0001')}/20230414/003_Ax_T2/{_token('UID', ids[2][1])}.dcm"


def test_long_values_inside_names_short_values_only_as_whole_tokens():
    ids = (("PatientID", "MRN123456"), ("AccessionNumber", "A12"), ("PatientID", "7"))
    got = redact_path("x/mrn123456_knee/A12/T1_7/A123/sub-7/b7c", SALT, ids)
    parts = got.split("/")
    assert parts[1] == _token("PAT", "MRN123456") + "_knee"  # inside a longer name, case-insensitive
    assert parts[2] == _token("ACC", "A12")
    assert parts[3] == "T1_" + _token("PAT", "7")  # "_" separates tokens
    assert parts[4] == "A123" and parts[6] == "b7c"  # never inside a longer run of letters and digits
    assert parts[5] == "sub-" + _token("PAT", "7")


def test_patient_name_parts_and_no_match_leaves_text_alone():
    ds = Dataset()
    ds.PatientName = "DOE^JOHN^Q"
    ds.PatientID = "12345678"
    ds.PatientBirthDate = "19700101"
    values = identifier_values(ds.get)
    assert ("PatientName", "DOE") in values and ("PatientName", "JOHN") in values
    assert ("PatientName", "Q") not in values  # an initial alone is not matched
    r = PathRedactor(SALT, values)
    assert r("exports/Doe_John/19700101/s1.dcm") == (
        f"exports/{_token('PAT', 'Doe')}_{_token('PAT', 'John')}/{_token('DOB', '19700101')}/s1.dcm")
    assert r("nothing/here.dcm") == "nothing/here.dcm"
    assert PathRedactor(SALT, values, keep=True)("Doe_John") == "Doe_John"


def test_the_salt_changes_every_token():
    ids = (("PatientID", "P0001"),)
    assert redact_path("P0001", SALT, ids) != redact_path("P0001", "another", ids)
    assert re.fullmatch(r"PAT-[0-9a-f]{8}", redact_path("P0001", SALT, ids))


def test_extra_values_apply_to_one_call_only():
    r = PathRedactor(SALT, (("PatientID", "P0001"),))
    assert r("P0001/ACC998877.dcm", (("AccessionNumber", "ACC998877"),)) == (
        f"{_token('PAT', 'P0001')}/{_token('ACC', 'ACC998877')}.dcm")
    assert r("ACC998877.dcm") == "ACC998877.dcm"


def test_one_redactor_holds_a_large_archive():
    """100,000 identifiers in one redactor (a large archive's error lines): each found where it stands."""
    values = [("PatientID", f"P{i:08d}") for i in range(100_000)]
    r = PathRedactor(SALT, values)
    out = r("archive/P00012345/2023/series_7/P00099999_extra.dcm")
    assert out == f"archive/{_token('PAT', 'P00012345')}/2023/series_7/{_token('PAT', 'P00099999')}_extra.dcm"
    assert len(r) == 100_000


def test_values_of_a_pydicom_header():
    ds = pydicom.Dataset()
    ds.PatientID = "ABC-1"
    ds.AccessionNumber = "ACC778899"
    ds.StudyInstanceUID = "1.2.3"
    ds.SeriesInstanceUID = "1.2.3.4"
    ds.SOPInstanceUID = "1.2.3.4.5"
    kinds = dict((v, k) for k, v in identifier_values(ds.get))
    assert kinds == {"ABC-1": "PatientID", "ACC778899": "AccessionNumber", "1.2.3": "StudyInstanceUID",
                     "1.2.3.4": "SeriesInstanceUID", "1.2.3.4.5": "SOPInstanceUID"}


def test_uid_shaped_names_are_tokens_whoever_they_belong_to():
    r = PathRedactor(SALT)
    got = r("a/1.2.840.113619.2.55.3.604688119/2.25.1234567890.dcm")
    assert got == f"a/{_token('UID', '1.2.840.113619.2.55.3.604688119')}/{_token('UID', '2.25.1234567890')}.dcm"
    # not UIDs: versions, dates, field strengths, leading zeros, a first component above 2
    for text in ("v1.2.3", "2023.04.14", "3.0T", "1.2.03.4", "3.1.2.3.4", "1.2.3.4a"):
        assert r(text) == text
