"""Files that appear whole or not at all: written to a temporary file in the same folder, then renamed over the
target (``os.replace`` is atomic within one file system), so a reader, a concurrent worker or a run killed midway
never sees half a file. The temporary file is removed whatever happens."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, fsync: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; on leaving the block without an error it replaces ``path``.

    Args:
        path: the file to (re)place; its folder must exist.
        fsync: flush the written file to the disk before the rename (metadata that must survive a power cut).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: str | os.PathLike, text: str, fsync: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (``atomic_path``)."""
    with atomic_path(path, fsync) as tmp:
        tmp.write_text(text, encoding="utf-8")
