"""The locator (``mri_search.store.locator``): real paths kept on the indexing machine, mode 0600, rebased when an
archive moves, and one clear line when it cannot place a series."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from mri_search.ingest.records import FileRef, SeriesRecord
from mri_search.store.locator import Locator, locator_path, open_locator


def _record(key: str, container: Path, member: str, kind: str = "dir") -> SeriesRecord:
    return SeriesRecord(key=key, source="dicom", layout="single", files=(FileRef(str(container), member, kind),),
                        study_key="s", series_uid_hash="u", patient_key="p", accession_hash="a", modality="MR",
                        sequence="T1", sequence_evidence="tags", post_contrast=False, fat_suppressed=False,
                        plane="axial", shape=(1, 1, 1), spacing=(1.0, 1.0, 1.0), affine_lps=((1, 0, 0, 0),) * 4)


@pytest.fixture()
def archive(tmp_path) -> Path:
    root = tmp_path / "archive"
    (root / "P1").mkdir(parents=True)
    (root / "P1" / "a.dcm").write_bytes(b"x")
    (root / "b.zip").write_bytes(b"zip")
    return root


def test_write_find_and_mode(archive, tmp_path):
    loc = Locator(tmp_path / "db.locator" / "c.sqlite")
    assert loc.write([_record("k1", archive, "P1/a.dcm"), _record("k2", archive / "b.zip", "x/y.dcm", "zip")],
                     archive) == 2
    assert stat.S_IMODE(loc.path.stat().st_mode) == 0o600
    got = loc.find("k1")
    assert got.ref == FileRef(str(archive.absolute()), "P1/a.dcm", "dir") and got.source == "dicom"
    assert loc.find("k2").ref.display.endswith("b.zip::x/y.dcm")
    # a second run replaces rows, and a wider mode is narrowed again
    loc.path.chmod(0o644)
    loc.write([_record("k1", archive, "P1/a.dcm")], archive)
    assert stat.S_IMODE(loc.path.stat().st_mode) == 0o600


def test_missing_stale_and_moved(archive, tmp_path):
    loc = Locator(tmp_path / "loc.sqlite")
    with pytest.raises(ValueError, match=r"^series k1: no locator at .*loc\.sqlite"):
        loc.find("k1")
    loc.write([_record("k1", archive, "P1/a.dcm")], archive)
    with pytest.raises(ValueError, match=r"^series other: not in the locator"):
        loc.find("other")
    moved = tmp_path / "moved"
    shutil.move(archive, moved)
    with pytest.raises(ValueError, match=r"^series k1: its file no longer exists .*--archive-root"):
        loc.find("k1")
    found = Locator(loc.path, archive_root=moved).find("k1")
    assert Path(found.ref.path) == moved.absolute() / "P1" / "a.dcm" and found.archive == str(moved.absolute())
    with pytest.raises(ValueError, match="not under --archive-root"):
        Locator(loc.path, archive_root=tmp_path / "elsewhere").find("k1")


def test_damaged_locator_is_one_line(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database at all" * 10)
    with pytest.raises(ValueError, match=r"^series k: locator .* unreadable"):
        Locator(bad).find("k")


def test_where_it_lives(tmp_path):
    assert locator_path(str(tmp_path / "qdrant"), "mri-x") == tmp_path / "qdrant.locator" / "mri-x.sqlite"
    server = locator_path("http://pacs-ai:6333", "mri-x", home=tmp_path)
    assert server == tmp_path / "locators" / "pacs-ai_6333" / "mri-x.sqlite"
    assert open_locator("http://h:6333", "c", tmp_path / "given.sqlite").path == tmp_path / "given.sqlite"


def test_unwritable_locator_is_one_line(archive, tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database at all" * 10)
    with pytest.raises(ValueError, match=r"^cannot write the locator .*bad\.sqlite"):
        Locator(bad).write([_record("k1", archive, "P1/a.dcm")], archive)
