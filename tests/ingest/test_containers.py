"""Listing folders, zips and tars without extracting, and refusing hostile members."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from mri_search.ingest.config import ScanOptions
from mri_search.ingest.containers import classify, list_files
from mri_search.ingest.records import FileRef

TREE = {
    "PAT1/STUDY1/SER1/IM0001": b"DICM-ish bytes 1",
    "PAT1/STUDY1/SER1/IM0002": b"DICM-ish bytes 2",
    "PAT1/STUDY1/report.txt": b"FINDINGS: normal.",
    "nifti/sub-1/anat/sub-1_T1w.nii.gz": b"\x1f\x8b fake",
    "nifti/sub-1/anat/sub-1_T1w.json": b"{}",
}
JUNK = {".DS_Store": b"junk", "PAT1/._IM0001": b"apple double", "__MACOSX/PAT1/IM0001": b"resource fork",
        "PAT1/Thumbs.db": b"thumbs"}


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def _members(refs: list[FileRef]) -> list[tuple[str, int, bytes]]:
    out = []
    for r in refs:
        with r.open() as f:
            out.append((r.member, r.size, f.read()))
    return out


def _snapshot(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*")}


def test_folder_zip_and_targz_list_the_same_members(tmp_path):
    folder = tmp_path / "tree"
    _tree(folder, {**TREE, **JUNK})
    with zipfile.ZipFile(tmp_path / "tree.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in {**TREE, **JUNK}.items():
            zf.writestr(name, data)
        zf.writestr("PAT1/STUDY1/", b"")  # directory entry
    with tarfile.open(tmp_path / "tree.tar.gz", "w:gz") as tf:
        tf.add(folder, arcname=".")
    before = _snapshot(tmp_path)
    expected = sorted((k, len(v), v) for k, v in TREE.items())
    opts = ScanOptions()
    d_refs, d_skips = list_files(folder, opts)
    z_refs, z_skips = list_files(tmp_path / "tree.zip", opts)
    t_refs, t_skips = list_files(tmp_path / "tree.tar.gz", opts)
    assert _members(d_refs) == expected
    assert _members(z_refs) == expected
    # tarfile.add(arcname=".") names members "./PAT1/..."; the content and sizes match
    assert [(m.removeprefix("./"), s, b) for m, s, b in _members(t_refs)] == expected
    assert d_skips == z_skips == t_skips == []
    assert {r.kind for r in d_refs} == {"dir"} and {r.kind for r in z_refs} == {"zip"}
    assert d_refs[0].display == str(folder / d_refs[0].member)
    assert z_refs[0].display.startswith(f"{tmp_path / 'tree.zip'}::")
    assert _snapshot(tmp_path) == before  # nothing extracted


def test_zip_slip_and_absolute_members_are_refused_and_nothing_written(tmp_path):
    arch = tmp_path / "a" / "evil.zip"
    arch.parent.mkdir()
    with zipfile.ZipFile(arch, "w") as zf:
        zf.writestr("ok/IM1", b"fine")
        zf.writestr("../evil", b"escape")
        zf.writestr("ok/../../evil2", b"escape")
        zf.writestr("/etc/evil3", b"absolute")
    # zipfile strips a leading '/' from names it writes: forge one by patching the stored name
    data = arch.read_bytes().replace(b"/etc/evil3", b"/tmp/evil3")
    arch.write_bytes(data)
    before = _snapshot(tmp_path)
    refs, skips = list_files(arch, ScanOptions())
    assert [r.member for r in refs] == ["ok/IM1"]
    reasons = {s.path.split("::")[1]: s for s in skips}
    assert set(reasons) == {"../evil", "ok/../../evil2", "/tmp/evil3"}
    assert all(s.level == "failed" for s in skips)
    assert "'..'" in reasons["../evil"].reason and "absolute" in reasons["/tmp/evil3"].reason
    assert _snapshot(tmp_path) == before
    assert not (tmp_path / "evil").exists() and not Path("/tmp/evil3").exists()


def test_zip_bomb_and_oversized_members_are_refused(tmp_path):
    arch = tmp_path / "bomb.zip"
    with zipfile.ZipFile(arch, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.dcm", b"\0" * (20 * 1024**2))  # 20 MiB of zeros -> ~20 KiB: ratio ~1000
        zf.writestr("small_zeros.dcm", b"\0" * 4096)  # tiny blank file: below the ratio floor, kept
        zf.writestr("big.dcm", os.urandom(300_000))
        zf.writestr("inner.zip", b"PK\x05\x06" + b"\0" * 18)
    refs, skips = list_files(arch, ScanOptions(max_file_bytes=25 * 1024**2))
    assert [r.member for r in refs] == ["big.dcm", "small_zeros.dcm"]
    by = {s.path.split("::")[1]: s for s in skips}
    assert "zip bomb" in by["bomb.dcm"].reason and by["bomb.dcm"].level == "failed"
    assert by["inner.zip"].reason == "nested archive not opened"
    refs, skips = list_files(arch, ScanOptions(max_file_bytes=200_000))
    assert [r.member for r in refs] == ["small_zeros.dcm"]
    assert "exceeds the 200000-byte limit" in {s.path.split("::")[1]: s for s in skips}["big.dcm"].reason
    # running total: listing stops with one line
    refs, skips = list_files(arch, ScanOptions(max_total_bytes=100_000, max_compression_ratio=1e9))
    assert len([s for s in skips if "max_total_bytes" in s.reason]) == 1


def test_tar_links_and_devices_are_refused(tmp_path):
    arch = tmp_path / "links.tar"
    with tarfile.open(arch, "w") as tf:
        info = tarfile.TarInfo("data/IM1")
        info.size = 4
        tf.addfile(info, io.BytesIO(b"abcd"))
        for name, kind, target in (("data/link", tarfile.SYMTYPE, "/etc/passwd"),
                                   ("data/hard", tarfile.LNKTYPE, "data/IM1"), ("data/dev", tarfile.CHRTYPE, "")):
            li = tarfile.TarInfo(name)
            li.type = kind
            li.linkname = target
            tf.addfile(li)
        ev = tarfile.TarInfo("../up")
        ev.size = 1
        tf.addfile(ev, io.BytesIO(b"x"))
    refs, skips = list_files(arch, ScanOptions())
    assert [r.member for r in refs] == ["data/IM1"]
    by = {s.path.split("::")[1]: s.reason for s in skips}
    assert "link member refused" in by["data/link"] and "/etc/passwd" in by["data/link"]
    assert "link member refused" in by["data/hard"]
    assert "special member" in by["data/dev"]
    assert "'..'" in by["../up"]


def test_folder_symlink_leaving_the_folder_is_not_followed(tmp_path):
    outside = tmp_path / "outside.dcm"
    outside.write_bytes(b"secret")
    root = tmp_path / "root"
    _tree(root, {"a/IM1": b"x"})
    (root / "a" / "escape").symlink_to(outside)
    (root / "a" / "inside").symlink_to(root / "a" / "IM1")
    refs, skips = list_files(root, ScanOptions())
    assert sorted(r.member for r in refs) == ["a/IM1", "a/inside"]
    assert [s.reason for s in skips] == ["symbolic link pointing outside the folder not followed"]


def test_bad_paths_and_corrupt_archives_raise_clear_value_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        list_files(tmp_path / "missing", ScanOptions())
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ValueError, match="not a folder, a file, a .zip"):
        list_files(tmp_path / "pipe", ScanOptions())
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 this is not really a zip" * 10)
    with pytest.raises(ValueError, match="is not a readable zip"):
        list_files(tmp_path / "bad.zip", ScanOptions())
    (tmp_path / "bad.tar.gz").write_bytes(os.urandom(2000))
    with pytest.raises(ValueError, match="is not a readable tar"):
        list_files(tmp_path / "bad.tar.gz", ScanOptions())


def test_a_single_file_lists_itself_and_a_nifti_its_sidecar(tmp_path):
    _tree(tmp_path, TREE)
    refs, skips = list_files(tmp_path / "PAT1/STUDY1/SER1/IM0002", ScanOptions())
    assert _members(refs) == [("IM0002", 16, b"DICM-ish bytes 2")] and not skips
    assert refs[0].display == str(tmp_path / "PAT1/STUDY1/SER1/IM0002")
    refs, _ = list_files(tmp_path / "nifti/sub-1/anat/sub-1_T1w.nii.gz", ScanOptions())
    assert [r.member for r in refs] == ["sub-1_T1w.nii.gz", "sub-1_T1w.json"]
    refs, skips = list_files(tmp_path / "nifti/sub-1/anat/sub-1_T1w.nii.gz", ScanOptions(max_file_bytes=1))
    assert not refs and len(skips) == 2 and all(s.level == "failed" for s in skips)


@pytest.mark.parametrize("name,kind", [
    ("a.nii", "nifti"), ("A.NII.GZ", "nifti"), ("x_T1w.json", "sidecar"), ("x_dwi.bval", "bvalbvec"),
    ("x_dwi.bvec", "bvalbvec"), ("report.txt", "report_text"), ("notes.md", "report_text"),
    ("reports.csv", "report_table"), ("r.parquet", "report_table"), ("r.tsv", "report_table"),
    ("DICOMDIR", "dicomdir"), ("shot.png", "ignore"), ("x.PDF", "ignore"), ("index.html", "ignore"),
    (".DS_Store", "ignore"), ("meta.xml", "ignore"), ("IM000001", "dicom_candidate"), ("1.2.840.1.dcm", "dicom_candidate"),
])
def test_classify(name, kind):
    assert classify(FileRef("/x", f"p/{name}")) == kind
