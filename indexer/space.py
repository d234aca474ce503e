"""Free disk space for an embedded index run, checked before the run and before each batch.

The embedded engine maps its files into memory and grows them by writing through the mapping: on a full disk that
write is a SIGBUS, which kills the process with no message (rc 135, measured on a 20 MB tmpfs) and cannot be caught.
So the run stops before it gets there, with one line: what was written, what is needed, and that the same command
resumes. (A disk filled by another process between two checks still faults the engine: ``mri_search.store.child``
holds it in a child process during the run, so that the fault is one line too.)

What is needed: for a new collection ``RESERVE_BYTES``, the engine's own files (one with this layout's payload
indexes mapped 252 MB, of which 90 MB were written, for 8 series on tmpfs); once they exist ``GROW_BYTES`` of
headroom (the engine grows a segment's vector files 32 MB at a time, for each of the 2 named vectors); plus the
bytes each point adds, measured on the collection folder as the run writes (``DEFAULT_POINT_BYTES`` until the first
batch has been measured).
"""

from __future__ import annotations

from pathlib import Path

from mri_search.store.space import allocated_bytes, free_bytes

RESERVE_BYTES = 320 * 1024**2
GROW_BYTES = 2 * 32 * 1024**2
DEFAULT_POINT_BYTES = 64 * 1024  # a point's vectors, payload, HNSW links and write-ahead log entry, rounded up
MB = 1024**2


class DiskFull(ValueError):
    """Not enough free space to go on; nothing half-written was left (the same command resumes)."""


class SpaceCheck:
    """Free-space checks of one run into the embedded collection folder ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.start = allocated_bytes(self.folder) if self.folder.exists() else 0
        self.per_point = DEFAULT_POINT_BYTES

    def check(self, points: int, written: int, total: int) -> None:
        """Raise ``DiskFull`` unless ``points`` more points fit with the reserve to spare.

        Args:
            points: points about to be written (the whole run before it starts, a batch during it).
            written: points this run has written so far (the per-point figure is measured from them).
            total: points this run set out to write (for the message).
        """
        if written and self.folder.exists():
            grown = allocated_bytes(self.folder) - self.start
            self.per_point = max(self.per_point, grown // written) if grown > 0 else self.per_point
        reserve = GROW_BYTES if self.folder.exists() else RESERVE_BYTES
        need = reserve + points * self.per_point
        free = free_bytes(self.folder)
        if free < need:
            raise DiskFull(f"not enough disk space for the index at {self.folder.parent}: {free / MB:.0f} MB free, "
                           f"{need / MB:.0f} MB needed for {points} more series (about {self.per_point // 1024} kB "
                           f"each and {reserve // MB} MB the engine needs to grow); {written} of {total} "
                           "written; free some space and run the same command again: it resumes")
