"""Report decoding, sections, organ-level sentences and report tables."""

from __future__ import annotations

import csv

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mri_search.ingest.config import ScanOptions
from mri_search.ingest.records import FileRef
from mri_search.ingest.report_text import decode_report_bytes, find_reports, parse_report, split_sentences
from mri_search.synth.archive import run_synth
from mri_search.synth.config import SynthConfig

US = """EXAM: MRI ABDOMEN W/WO CONTRAST
CLINICAL HISTORY: Liver lesion on ultrasound.
TECHNIQUE: Axial T1, T2 and DWI at 1.5 T.
COMPARISON: None.
FINDINGS:
Liver: 2.3 x 1.8 cm lesion in segment VI. ADC 0.9 x 10^-3 mm2/s.
Spleen: Normal.
IMPRESSION:
1. Segment VI lesion, e.g. a metastasis.
2. No ascites.
RECOMMENDATIONS: MDT discussion.
"""
UK = """Examination: MRI abdomen with and without contrast

Clinical details: Liver lesion on ultrasound.

Sequences: Axial T1, T2 and DWI at 1.5 T.

Previous imaging: None.

Report
Liver: 2.3 x 1.8 cm lesion in segment VI. ADC 0.9 x 10^-3 mm2/s.
Spleen: Normal.

Opinion
1) Segment VI lesion, e.g. a metastasis.
2) No ascites.

Advice: MDT discussion.
"""
EXPECTED_SENTENCES = ["Liver: 2.3 x 1.8 cm lesion in segment VI.", "Liver: ADC 0.9 x 10^-3 mm2/s.", "Spleen: Normal.",
                      "Segment VI lesion, e.g. a metastasis.", "No ascites."]


def test_us_and_uk_heading_variants_map_to_the_same_sections():
    us, uk = parse_report(US, "us.txt"), parse_report(UK, "uk.txt")
    keys = ["exam", "history", "technique", "comparison", "findings", "impression", "recommendation"]
    assert list(us.sections) == keys and list(uk.sections) == keys
    assert us.sections["history"] == uk.sections["history"] == "Liver lesion on ultrasound."
    assert us.sections["comparison"] == "None." and uk.sections["recommendation"] == "MDT discussion."
    assert us.sentences == EXPECTED_SENTENCES
    assert uk.sentences == EXPECTED_SENTENCES
    assert us.source == "us.txt"


def test_sentence_splitting_keeps_measurements_and_abbreviations_together():
    text = ("There is a 2.3 x 1.8 cm mass. ADC is 0.9 x 10^-3 mm2/s. Dr. Smith was informed at 10.30. "
            "Approx. 5 mm node, i.e. not enlarged. b800 images are bright. See no. 4 below")
    assert split_sentences(text) == [
        "There is a 2.3 x 1.8 cm mass.", "ADC is 0.9 x 10^-3 mm2/s.", "Dr. Smith was informed at 10.30.",
        "Approx. 5 mm node, i.e. not enlarged.", "b800 images are bright.", "See no. 4 below"]
    # subheading alone on its line labels the following lines; hard-wrapped lines are joined; "..." dropped
    body = ("Kidneys:\nNo hydronephrosis.\nSimple cyst in the upper pole of the left kidney measuring\n"
            "12 mm.\n\n- Bowel unremarkable.\n...\n")
    assert split_sentences(body) == ["Kidneys: No hydronephrosis.",
                                     "Kidneys: Simple cyst in the upper pole of the left kidney measuring 12 mm.",
                                     "Bowel unremarkable."]


def test_headings_any_case_inline_and_without_colon():
    r = parse_report("MRI BRAIN WITH AND WITHOUT CONTRAST\nindication: headache\nfindings\nNo infarct. No bleed. "
                     "IMPRESSION: Normal study.\n", "x")
    assert r.sections == {"exam": "MRI BRAIN WITH AND WITHOUT CONTRAST", "history": "headache",
                          "findings": "No infarct. No bleed.", "impression": "Normal study."}
    assert r.sentences == ["No infarct.", "No bleed.", "Normal study."]
    plain = parse_report("Small effusion. History of trauma noted.", "y")  # "History of" is not a heading
    assert plain.sections == {"findings": "Small effusion. History of trauma noted."}
    assert plain.sentences == ["Small effusion.", "History of trauma noted."]
    with pytest.raises(ValueError, match="empty"):
        parse_report(" \n ", "z")


def test_encodings():
    text = "CONCLUSION: Oedema of the médial femoral condyle – 5 mm; naïve.\n"
    assert decode_report_bytes(text.encode("utf-8"), "a") == text
    assert decode_report_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"), "a") == text
    assert decode_report_bytes(text.encode("utf-16"), "a") == text  # with BOM
    assert decode_report_bytes(text.encode("utf-16-le"), "a") == text  # BOM-less
    assert decode_report_bytes(text.encode("cp1252"), "a") == text
    latin = "Impression: lésion à droite.\n"
    assert decode_report_bytes(latin.encode("latin-1"), "a") == latin
    with pytest.raises(ValueError, match="unreadable report encoding"):
        decode_report_bytes(bytes(range(256)) * 8, "garbage.txt")
    with pytest.raises(ValueError, match="unreadable report encoding"):
        decode_report_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(500), "image.txt")


def test_find_reports_reads_text_and_table_variants(tmp_path):
    (tmp_path / "s1").mkdir()
    (tmp_path / "s1" / "report.txt").write_bytes("FINDINGS: Normal.\nCONCLUSION: Normal.\n".encode("utf-16"))
    (tmp_path / "s1" / "bin.txt").write_bytes(bytes(range(256)))
    with open(tmp_path / "r.csv", "w", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["AccessionNumber", "StudyInstanceUID", "Report_Text", "PatientName"])
        w.writerow(["A1", "1.2.3", "FINDINGS: a; b.\nIMPRESSION: c.", "DOE^JOHN"])
        w.writerow(["", "", "orphan", "X"])
    pq.write_table(pa.table({"acc": [12345, 678], "text": ["Findings: one.", "Findings: two."]}), tmp_path / "r.parquet")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    refs = [FileRef(str(tmp_path), m, "dir")
            for m in ("s1/report.txt", "s1/bin.txt", "r.csv", "r.parquet", "bad.csv", "broken.parquet")]
    texts, rows, skips = find_reports(refs, ScanOptions())
    assert [(r.member, t) for r, t in texts] == [("s1/report.txt", "FINDINGS: Normal.\nCONCLUSION: Normal.\n")]
    assert rows == [
        {"accession": "A1", "study_uid": "1.2.3", "report": "FINDINGS: a; b.\nIMPRESSION: c.",
         "source": f"{tmp_path / 'r.csv'}#1"},
        {"accession": "12345", "study_uid": "", "report": "Findings: one.", "source": f"{tmp_path / 'r.parquet'}#1"},
        {"accession": "678", "study_uid": "", "report": "Findings: two.", "source": f"{tmp_path / 'r.parquet'}#2"},
    ]
    by = {s.path.rsplit("/", 1)[-1]: s for s in skips}
    assert set(by) == {"bin.txt", "r.csv", "bad.csv", "broken.parquet"}
    assert "unreadable Parquet" in by["broken.parquet"].reason and by["broken.parquet"].level == "failed"
    assert "unreadable report encoding" in by["bin.txt"].reason and by["bin.txt"].level == "failed"
    assert "1 row(s)" in by["r.csv"].reason and by["r.csv"].level == "skipped"
    assert by["bad.csv"].reason.startswith("not a report table") and by["bad.csv"].level == "skipped"


@pytest.fixture(scope="module")
def synth_reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "arch"
    # regions not covered by the NIfTI tests' archive (brain, knee, abdomen), to see more report templates
    run_synth(SynthConfig(out=out, studies=3, seed=5, format="nifti", matrix_scale=0.1,
                          regions=("spine", "pelvis", "head_neck")), progress=lambda *a: None)
    return out


def test_generator_reports_all_parse(synth_reports):
    files = sorted(synth_reports.rglob("report.txt"))
    table = FileRef(str(synth_reports), "reports.csv", "dir")
    texts, rows, skips = find_reports([FileRef(str(synth_reports), str(p.relative_to(synth_reports)), "dir")
                                       for p in files] + [table], ScanOptions())
    assert skips == [] and len(texts) == len(files) == 3 and len(rows) == 3
    assert all(r["accession"] and r["study_uid"].startswith("2.25.") for r in rows)
    for source, text in [(r.display, t) for r, t in texts] + [(r["source"], r["report"]) for r in rows]:
        rep = parse_report(text, source)
        assert rep.sections.get("findings") and rep.sections.get("impression"), source
        assert rep.sentences, source
        assert all(len(s) > 3 for s in rep.sentences)
        # no heading leaked into the findings or impression text
        assert not any(s.upper().startswith(("FINDINGS:", "IMPRESSION:", "CONCLUSION:")) for s in rep.sentences)
