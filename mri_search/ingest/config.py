"""Options of an archive scan, and the physical floor below which a voxel size is an error, not a scan."""

from __future__ import annotations

from dataclasses import dataclass

# the smallest voxel edge accepted (mm): preclinical MR reaches 0.05 mm, clinical scanners stay well above 0.1 mm; a
# header below it is broken, and resampling it to millimetres would need an absurd grid
MIN_SPACING_MM = 0.05


@dataclass(frozen=True)
class ScanOptions:
    """How to read an archive, and the limits that protect the reader from hostile or broken input."""

    # salt of identifier hashes; None: this installation's random one (ingest.salt), resolved at construction
    salt: str | None = None
    include_phi: bool = False  # True: keep raw identifiers in SeriesRecord.phi (never the default)
    keep_uids: bool = False  # True: keep the raw Study/SeriesInstanceUID in the record (viewer links); off by default
    max_file_bytes: int = 4 * 1024**3  # a single file (or zip/tar member) larger than this is skipped
    max_total_bytes: int = 500 * 1024**3  # total uncompressed size of a zip/tar; beyond it the rest is skipped
    max_compression_ratio: float = 200.0  # zip/tar member uncompressed/compressed above this: zip bomb, skipped
    max_matrix: int = 4096  # rows or columns above this: absurd header, skipped
    max_slices: int = 4096  # slices or frames above this: absurd header, skipped
    # voxels of one series above this (2^28: 512 MiB of float16, 1 GiB of float32): refused from its header, before
    # any pixel is read or decompressed
    max_voxels: int = 2**28
    # header-reading processes (DICOM of a folder or zip, from dicom.PARALLEL_MIN_FILES files; 1: this process)
    workers: int = 1

    def __post_init__(self) -> None:
        if not self.salt:
            from .salt import installation_salt

            object.__setattr__(self, "salt", installation_salt())
        if self.workers < 1:
            raise ValueError(f"ScanOptions.workers must be 1 or more, got {self.workers}")
