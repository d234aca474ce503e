"""Containers opened once per process (``mri_search.ingest.opened``): every member's bytes as written, for zip and
for tar plain, gzip, bz2 and xz; one open container per archive however many members are read; a changed archive
is opened again; a forked child reads its own copy; a damaged member is an OSError naming why."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile

import pytest

from mri_search.ingest import opened
from mri_search.ingest.records import FileRef

MEMBERS = {f"s{i // 10}/im{i:03d}.dcm": os.urandom(50 + i) for i in range(60)}


@pytest.fixture(autouse=True)
def _fresh():
    opened.close_all()
    yield
    opened.close_all()


def _zip(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in MEMBERS.items():
            zf.writestr(name, data)
    return path


def _tar(path, mode):
    with tarfile.open(path, mode) as tf:
        for name, data in MEMBERS.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("name,kind,mode", [("a.zip", "zip", None), ("a.tar", "tar", "w"),
                                            ("a.tar.gz", "tar", "w:gz"), ("a.tar.bz2", "tar", "w:bz2"),
                                            ("a.tar.xz", "tar", "w:xz")])
def test_every_member_as_written_from_one_open_container(tmp_path, name, kind, mode):
    path = _zip(tmp_path / name) if kind == "zip" else _tar(tmp_path / name, mode)
    for member in reversed(list(MEMBERS)):  # out of order: random access, not a stream
        assert FileRef(str(path), member, kind).open().read() == MEMBERS[member]
    assert len(opened._open) == 1  # one container object served all 60 reads


def test_changed_archive_is_opened_again(tmp_path):
    path = _zip(tmp_path / "a.zip")
    first = next(iter(MEMBERS))
    assert opened.read_member(str(path), first, "zip") == MEMBERS[first]
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(first, b"new content")
    os.utime(path, ns=(1, 1))  # a different mtime, whatever the clock's resolution
    assert opened.read_member(str(path), first, "zip") == b"new content"


def test_a_forked_child_reads_its_own_copy(tmp_path):
    path = _tar(tmp_path / "a.tar.gz", "w:gz")
    names = list(MEMBERS)
    assert opened.read_member(str(path), names[0], "tar") == MEMBERS[names[0]]  # opened in the parent
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: read every member while the parent reads too
        ok = all(opened.read_member(str(path), n, "tar") == MEMBERS[n] for n in names)
        os.write(w, b"1" if ok else b"0")
        os._exit(0)
    os.close(w)
    parent_ok = all(opened.read_member(str(path), n, "tar") == MEMBERS[n] for n in reversed(names))
    os.waitpid(pid, 0)
    assert os.read(r, 1) == b"1" and parent_ok


def test_missing_or_damaged_member_is_an_oserror(tmp_path):
    path = _tar(tmp_path / "a.tar", "w")
    with pytest.raises(OSError, match="no regular member"):
        FileRef(str(path), "nope.dcm", "tar").open()
    z = _zip(tmp_path / "b.zip")
    raw = bytearray(z.read_bytes())
    start = raw.index(b"PK\x03\x04") + 30 + len(next(iter(MEMBERS)))  # inside the first member's deflated data
    raw[start:start + 20] = b"\xff" * 20
    z.write_bytes(bytes(raw))
    with pytest.raises(OSError, match="cannot read the member"):
        FileRef(str(z), next(iter(MEMBERS)), "zip").open().read()
