"""Identifier values never leave the indexing machine through file paths (issue 25).

The generated archive names folders by PatientID and accession number, and some series' folders and files by their
Series and SOP Instance UIDs; a broken file is added in a patient's folder so that the error report has a line.
Every identifier value of every header (read with pydicom) is then looked for in every byte of the embedded store
folder, the Parquet files, the error reports and ``query --json``, for the embedded engine and for qdrant-client's
``:memory:`` server path. Thumbnails and image queries must still open the files (through the locator), also
after the archive has moved (``--archive-root``), and a missing locator costs the thumbnails only.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pydicom
import pytest
from typer.testing import CliRunner

from indexer.config import IndexCfg
from indexer.run import run_index
from mri_search.cli import app
from mri_search.ingest.path_ids import MIN_INNER
from mri_search.query import Searcher
from mri_search.query.run import QueryCfg, run_query
from mri_search.store.server import ServerStore

runner = CliRunner()
KEYWORDS = ("PatientID", "AccessionNumber", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
            "PatientBirthDate")


def header_values(root: Path) -> set[str]:
    """Every identifier value of every DICOM header under ``root`` (name parts too): every file is tried, with or
    without a ``.dcm`` suffix (DICOMDIR-style exports name them IM000001)."""
    out: set[str] = set()
    for f in root.rglob("*"):
        if not f.is_file():
            continue
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True)
        except Exception:  # reports, the manifest, the broken file added by the fixture
            continue
        out |= {str(ds.get(k)) for k in KEYWORDS if ds.get(k)}
        out |= {p for p in str(ds.get("PatientName") or "").replace("^", " ").split() if len(p) >= 2}
    return out


def leaks(values: set[str], blob: bytes) -> set[str]:
    """The values found in ``blob``: long ones anywhere (any case), short ones (name parts) as whole words."""
    import re

    low = blob.lower()
    found = {v for v in values if len(v) >= MIN_INNER and v.lower().encode() in low}
    found |= {v for v in values if len(v) < MIN_INNER
              and re.search(rb"(?<![0-9a-z])" + re.escape(v.lower().encode()) + rb"(?![0-9a-z])", low)}
    return found


def folder_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


@pytest.fixture(scope="module")
def private(archive, model_dir, tmp_path_factory):
    """A copy of the archive with a broken file in a patient's folder, indexed embedded and into :memory:."""
    tmp = tmp_path_factory.mktemp("privacy")
    root = tmp / "archive"
    shutil.copytree(archive, root)
    first = sorted((root / "dicom").rglob("*.dcm"))[0]
    patient_dir = first.relative_to(root / "dicom").parts[0]
    broken = root / "dicom" / patient_dir / (pydicom.dcmread(first).SOPInstanceUID + "9.dcm")
    broken.write_bytes(first.read_bytes()[:600])  # a truncated file: a "failed" line naming its path
    values = header_values(root)
    base = dict(archive=root, model=model_dir, workers=0, batch_size=8, progress=False)
    embedded = IndexCfg(db=tmp / "db", parquet=tmp / "rows.parquet", errors=tmp / "errors.tsv", **base)
    e_summary = run_index(embedded)
    server = ServerStore.memory()
    s_summary = run_index(IndexCfg(parquet=tmp / "server.parquet", errors=tmp / "server-errors.tsv", **base),
                          store=server)
    yield dict(root=root, tmp=tmp, values=values, embedded=embedded, e=e_summary, server=server, s=s_summary,
               patient_dir=patient_dir)
    server.close()


def test_the_archive_really_names_folders_by_identifiers(private):
    """The test's premise: without de-identification, paths would carry PatientIDs, accessions and UIDs."""
    paths = "\n".join(str(p) for p in private["root"].rglob("*")).encode()
    kinds = leaks(private["values"], paths)
    assert private["patient_dir"] in kinds  # PatientID folders
    assert any(v.startswith("A0") for v in kinds)  # accession numbers in study folders
    assert any(v.startswith("2.25.") for v in kinds)  # UID folders and file names


def test_no_identifier_in_store_parquet_or_error_report(private):
    values, tmp = private["values"], private["tmp"]
    assert private["e"].indexed > 0 and private["s"].indexed == private["e"].indexed
    assert private["e"].files_skipped >= 1  # the broken file is in the report
    for name in ("errors.tsv", "server-errors.tsv"):
        text = (tmp / name).read_text()
        assert "PAT-" in text, text  # its line keeps the path's shape
        assert leaks(values, text.encode()) == set(), name
    assert leaks(values, folder_bytes(private["embedded"].db)) == set()
    for name in ("rows.parquet", "server.parquet"):
        assert leaks(values, (tmp / name).read_bytes()) == set(), name
    points = list(private["server"].open_collection(private["s"].collection).scroll())
    assert leaks(values, json.dumps([p.payload for p in points]).encode()) == set()
    assert all(p.payload["path"].split("/dicom/", 1)[1].startswith("PAT-") for p in points)


def test_locator_is_private_to_this_machine(private):
    for summary in (private["e"], private["s"]):
        loc = Path(summary.locator_path)
        assert loc.is_file() and stat.S_IMODE(loc.stat().st_mode) == 0o600
        assert not loc.is_relative_to(private["embedded"].db)  # beside the index folder, never inside it


def test_query_json_text_and_image_and_thumbnails_embedded(private, tmp_path):
    db, values = private["embedded"].db, private["values"]
    series_dir = next(p.parent for p in sorted((private["root"] / "dicom").rglob("*.dcm"))
                      if p.parent.name.startswith("2.25."))  # a folder named by its SeriesInstanceUID
    for args in (["knee MRI"], ["--image", str(series_dir)], ["--image", str(series_dir), "--target", "reports"]):
        r = runner.invoke(app, ["query", *args, "--db", str(db), "--json", "--thumbnails", str(tmp_path / "t")])
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        assert doc["hits"] and doc["thumbnails"]["unreadable"] == {}, doc["thumbnails"]
        assert leaks(values, r.stdout.encode()) == set(), args
    table = runner.invoke(app, ["query", "knee MRI", "--db", str(db)])
    assert table.exit_code == 0 and "PAT-" in table.stdout and leaks(values, table.stdout.encode()) == set()


def test_query_json_and_thumbnails_through_the_server_path(private, tmp_path):
    searcher = Searcher(private["server"], collection=private["s"].collection)
    result = run_query(QueryCfg(text="brain MRI", thumbnails=tmp_path / "t", top_k=5), searcher=searcher)
    assert result.hits and result.thumbnails.unreadable == {}
    assert leaks(private["values"], result.to_json().encode()) == set()


def test_moved_archive_and_missing_locator(private, tmp_path):
    db = private["embedded"].db
    moved = tmp_path / "moved"
    shutil.move(private["root"], moved)
    try:
        r = runner.invoke(app, ["query", "knee MRI", "--db", str(db), "--json", "--thumbnails", str(tmp_path / "a"),
                                "-k", "2"])
        assert r.exit_code == 0, r.output
        why = json.loads(r.stdout)["thumbnails"]["unreadable"]
        assert len(why) == 2 and all(v.startswith("series ") and "--archive-root" in v for v in why.values())
        r = runner.invoke(app, ["query", "knee MRI", "--db", str(db), "--json", "--thumbnails", str(tmp_path / "b"),
                                "-k", "2", "--archive-root", str(moved)])
        assert r.exit_code == 0 and json.loads(r.stdout)["thumbnails"]["unreadable"] == {}, r.output
        locator = Path(private["e"].locator_path)
        hidden = locator.with_name("gone.sqlite")
        locator.rename(hidden)
        try:
            r = runner.invoke(app, ["query", "knee MRI", "--db", str(db), "--json", "--thumbnails",
                                    str(tmp_path / "c"), "-k", "2", "--archive-root", str(moved)])
            assert r.exit_code == 0, r.output
            doc = json.loads(r.stdout)
            assert len(doc["hits"]) == 2  # results still come back, without thumbnails
            assert all("no locator" in v for v in doc["thumbnails"]["unreadable"].values())
        finally:
            hidden.rename(locator)
    finally:
        shutil.move(moved, private["root"])
