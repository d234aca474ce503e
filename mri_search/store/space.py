"""Disk space around an embedded collection: what its files occupy, what the disk has free, and whether the engine
may open it without faulting.

The embedded engine maps its files into memory. Pages it has never written are holes; on tmpfs (and ramfs) even
reading one needs a fresh page, and on a full disk any such page is a SIGBUS that kills the process with no message
(measured: ``query`` and ``index`` on a collection whose 400 MB tmpfs had been filled both died with rc 135). So an
open checks first, and says in one line what to free.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

OPEN_MIN_BYTES = 16 * 1024**2  # free space an open needs besides the holes (write-ahead log, flushes)
MB = 1024**2
_MEMORY_FS = {"tmpfs", "ramfs"}


def allocated_bytes(folder: Path) -> int:
    """Bytes the files under ``folder`` occupy on disk (blocks, not apparent sizes)."""
    return _sizes(folder)[0]


def _sizes(folder: Path) -> tuple[int, int]:
    allocated = apparent = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            allocated += st.st_blocks * 512
            apparent += st.st_size
    return allocated, apparent


def free_bytes(path: Path) -> int:
    """Free bytes on the file system holding ``path`` (or its nearest existing parent)."""
    where = Path(path)
    while not where.exists():
        where = where.parent
    return shutil.disk_usage(where).free


def fs_type(path: Path) -> str:
    """The type of the file system holding ``path`` (``/proc/mounts``; "" when unknown)."""
    try:
        mounts = [line.split()[1:3] for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return ""
    target = str(Path(path).resolve())
    best, kind = "", ""
    for point, typ in mounts:
        point = point.replace("\\040", " ")
        if (target == point or target.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
            best, kind = point, typ
    return kind


def check_open(folder: Path) -> None:
    """Raise ``ValueError`` (one line) when opening the collection in ``folder`` could fault for lack of space."""
    if not folder.exists():
        return
    holes = 0
    if fs_type(folder) in _MEMORY_FS:  # only there does touching a hole need a fresh page: walk the files there only
        allocated, apparent = _sizes(folder)
        holes = max(apparent - allocated, 0)
    need = OPEN_MIN_BYTES + holes
    free = free_bytes(folder)
    if free < need:
        raise ValueError(f"the disk holding the index at {folder.parent} is full: {free / MB:.0f} MB free, the "
                         f"embedded engine needs {need / MB:.0f} MB to open it safely (it writes and reads through "
                         "memory maps, and a full disk would kill the process); free some space and try again")
