"""Options of an archive scan."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScanOptions:
    """How to read an archive, and the limits that protect the reader from hostile or broken input."""

    salt: str = "mri-search"  # salt of identifier hashes: set one per site and keep it private
    include_phi: bool = False  # True: keep raw identifiers in SeriesRecord.phi (never the default)
    max_file_bytes: int = 4 * 1024**3  # a single file (or zip/tar member) larger than this is skipped
    max_total_bytes: int = 500 * 1024**3  # total uncompressed size of a zip/tar; beyond it the rest is skipped
    max_compression_ratio: float = 200.0  # zip/tar member uncompressed/compressed above this: zip bomb, skipped
    max_matrix: int = 4096  # rows or columns above this: absurd header, skipped
    max_slices: int = 4096  # slices or frames above this: absurd header, skipped
    workers: int = 1  # header-reading worker processes
