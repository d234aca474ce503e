"""Containers opened once per process: zip and tar members read without scanning the container again.

``zipfile.ZipFile`` reads the whole central directory when it opens, and ``tarfile`` walks every header before a
member (a compressed tar decompresses from its start), so opening the container for each member costs time
quadratic in the member count: a 5,000-member zip or ``.tar.gz`` did not finish ``inspect`` in 300 s. Here each
container is opened once per process and its members are looked up by name:

- zip: one ``ZipFile``; member reads take its lock (it shares one file handle).
- tar: one pass builds the member index (name -> ``TarInfo``, which holds the data offset); an uncompressed tar is
  then read by seeking, a gzip-compressed one through ``indexed_gzip``'s seek points (random access without
  decompressing from the start), and a bz2- or xz-compressed one from an anonymous temporary file it is
  decompressed into once.

The cache is keyed by path, size and modification time (a changed file is opened again) and by process id: a
forked DataLoader worker must not share its parent's file offset. At most ``OPEN_MAX`` containers stay open; the
least recently used is closed.
"""

from __future__ import annotations

import bz2
import lzma
import os
import shutil
import tarfile
import tempfile
import threading
import zipfile
from collections import OrderedDict

OPEN_MAX = 8  # containers kept open per process
_MAGIC = {b"\x1f\x8b": "gz", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}


class _Zip:
    def __init__(self, path: str) -> None:
        self.zf = zipfile.ZipFile(path)
        self.lock = threading.Lock()

    def read(self, member: str) -> bytes:
        with self.lock:
            return self.zf.read(member)

    def close(self) -> None:
        self.zf.close()


class _Tar:
    def __init__(self, path: str) -> None:
        self.lock = threading.Lock()
        self._raw = None  # the file object tarfile reads (a seekable decompressed view for a compressed tar)
        kind = _compression(path)
        if kind is None:
            self._raw = open(path, "rb")
        elif kind == "gz" and _indexed_gzip() is not None:
            self._raw = _indexed_gzip().IndexedGzipFile(path)
        else:  # bz2, xz (or gzip without indexed_gzip): decompressed once into a temporary file
            opener = {"gz": _gzip_open, "bz2": bz2.open, "xz": lzma.open}[kind]
            self._raw = tempfile.TemporaryFile(prefix="mri-search-tar-")
            with opener(path, "rb") as src:
                shutil.copyfileobj(src, self._raw, 1 << 20)
            self._raw.seek(0)
        self.tf = tarfile.open(fileobj=self._raw, mode="r:")
        self.members = {}
        for info in self.tf:  # one pass: headers and data offsets
            if info.isreg():
                self.members.setdefault(info.name, info)

    def read(self, member: str) -> bytes:
        info = self.members.get(member)
        if info is None:
            raise OSError(f"no regular member {member!r} in the tar")
        with self.lock:
            f = self.tf.extractfile(info)
            if f is None:
                raise OSError("not a regular file in the tar")
            return f.read()

    def close(self) -> None:
        self.tf.close()
        self._raw.close()


def _gzip_open(path, mode):
    import gzip

    return gzip.open(path, mode)


def _indexed_gzip():
    try:
        import indexed_gzip
    except ImportError:
        return None
    return indexed_gzip


def _compression(path: str) -> str | None:
    with open(path, "rb") as f:
        head = f.read(6)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


_lock = threading.Lock()
_open: OrderedDict[tuple, _Zip | _Tar] = OrderedDict()


def _container(path: str, kind: str) -> _Zip | _Tar:
    st = os.stat(path)
    key = (os.getpid(), kind, os.path.abspath(path), st.st_size, st.st_mtime_ns)
    with _lock:
        found = _open.get(key)
        if found is not None:
            _open.move_to_end(key)
            return found
    opened = _Zip(path) if kind == "zip" else _Tar(path)
    with _lock:
        if key in _open:  # another thread opened it meanwhile
            opened.close()
            return _open[key]
        _open[key] = opened
        for old in [k for k in _open if k[0] != key[0]]:  # inherited from a parent process: never used here
            del _open[old]
        while len(_open) > OPEN_MAX:
            _, lru = _open.popitem(last=False)
            lru.close()
    return opened


def read_member(container: str, member: str, kind: str) -> bytes:
    """The bytes of ``member`` of the zip or tar ``container`` (``kind`` "zip" or "tar")."""
    return _container(container, kind).read(member)


def close_all() -> None:
    """Close every container this process holds open (tests; long-running servers after an archive changed)."""
    with _lock:
        while _open:
            _, c = _open.popitem()
            if c is not None:
                try:
                    c.close()
                except OSError:
                    pass
