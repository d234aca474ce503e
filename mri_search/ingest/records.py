"""Records that leave the ingestion layer: one per readable series, one per skipped file or series.

``FileRef`` names a file inside a folder, a zip or a tar without extracting anything to disk; readers open it as
a binary stream. ``SeriesRecord`` is the typed, de-identified description of one series (one stack of parallel
slices); the pixel data is loaded on demand by ``mri_search.ingest.load_series``.
"""

from __future__ import annotations

import io
import lzma
import tarfile
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

from .display import display_path, display_text


@dataclass(frozen=True)
class FileRef:
    """A file inside an archive: a plain path, or a member of a zip/tar file (read without extracting)."""

    container: str  # path of the folder root, zip or tar the user gave
    member: str  # path relative to the folder root, or the member name inside the zip/tar
    kind: str = "dir"  # "dir", "zip", "tar" or "dicomweb" (container: the DICOMweb root URL)
    size: int = 0  # uncompressed size in bytes (from the directory entry / stat)
    label: str = ""  # how lines name the file when its member must not be shown (DICOMweb: hashed UIDs)

    @property
    def display(self) -> str:
        """How error lines, payloads and tables name this file: ``root/member``, ``archive.zip::member`` or the
        label (a DICOMweb instance), with bytes that are not UTF-8 and control characters as backslash escapes
        (``display_path``)."""
        if self.label:
            return display_path(self.label)
        if self.kind == "dir":
            return display_path(self.path)
        return display_path(f"{self.container}::{self.member}")

    @property
    def path(self) -> str:
        """The real file system path of a folder file (as the OS knows it; not for display)."""
        return str(Path(self.container) / self.member)

    @property
    def name(self) -> str:
        """Base name of the file."""
        return self.member.rsplit("/", 1)[-1]

    def open(self) -> BinaryIO:
        """A readable binary stream of the file's bytes (members are read into memory, size-checked by the lister).

        Raises:
            OSError: the file or member cannot be read (a damaged container among the reasons).
        """
        if self.kind == "dir":
            return open(Path(self.container) / self.member, "rb")
        if self.kind in ("zip", "tar"):  # the container is opened once per process (``opened``), not per member
            from .opened import read_member

            try:
                return io.BytesIO(read_member(self.container, self.member, self.kind))
            except (zipfile.BadZipFile, tarfile.TarError, zlib.error, lzma.LZMAError, EOFError, KeyError,
                    ValueError) as exc:
                raise OSError(f"cannot read the member ({type(exc).__name__}: {exc})") from None
        if self.kind == "dicomweb":
            from .dicomweb import open_instance  # requests and dicomweb-client only for this kind

            return open_instance(self)
        raise ValueError(f"unknown container kind {self.kind!r}")


@dataclass(frozen=True)
class Skip:
    """One line of the error report: what was skipped and why."""

    path: str  # FileRef.display of the file (or of the first file of the series)
    reason: str  # one line a user can act on
    series: str | None = None  # hashed series key when the problem concerns a whole series
    level: str = "skipped"  # "skipped" (expected: localiser, SR, ...), "failed" (broken input)
    # identifier values of the file(s) concerned, when their header was read (``path_ids.IdentifierValues``): in
    # memory only, so that an index run can show the path without them
    path_ids: tuple = field(default=(), repr=False, compare=False)

    def __post_init__(self):
        # every error line is safe text, whoever built it from a raw path or an exception message
        object.__setattr__(self, "path", display_text(self.path))
        object.__setattr__(self, "reason", display_text(self.reason))

    def redacted(self, redactor) -> "Skip":
        """This line with identifier values in its path and reason replaced by their tokens (``redactor``:
        ``ScanResult.redactor``; the line's own file's values are added to it)."""
        return Skip(path=redactor(self.path, self.path_ids), reason=redactor(self.reason, self.path_ids),
                    series=self.series, level=self.level)


@dataclass(frozen=True)
class SeriesRecord:
    """One readable series (a single stack of parallel slices), de-identified.

    Hashed identifiers are ``hash_id(salt, raw)`` hex strings; raw identifiers are only in ``phi`` when the caller
    asked for them (``ScanOptions.include_phi``).
    """

    key: str  # stable unique id of the series in this archive (hashed series UID + stack index, or NIfTI path hash)
    source: str  # "dicom" or "nifti"
    layout: str  # "single" (one file per slice), "enhanced" (multi-frame) or "nifti"
    files: tuple[FileRef, ...]  # the files holding the pixels (slice order for single-frame DICOM)
    study_key: str  # hashed StudyInstanceUID (NIfTI without one: hashed session folder)
    series_uid_hash: str  # hashed SeriesInstanceUID ("" when unknown)
    patient_key: str  # hashed PatientID ("" when unknown)
    accession_hash: str  # hashed AccessionNumber ("" when unknown)
    modality: str  # "MR" for everything this layer returns
    sequence: str  # T1, T2, FLAIR, PD, STIR, DWI, ADC, T1C, SSFP, T2FS, PDFS or "other"
    sequence_evidence: str  # "description", "tags" or "filename": what the sequence was inferred from
    post_contrast: bool
    fat_suppressed: bool
    plane: str  # "axial", "sagittal", "coronal" (nearest to the slice normal) or "oblique" beyond 30 degrees
    shape: tuple[int, int, int]  # (slices, rows, columns)
    spacing: tuple[float, float, float]  # (slice step, row spacing, column spacing) mm
    affine_lps: tuple[tuple[float, ...], ...]  # 4x4 (column, row, slice) index -> LPS mm
    b_values: tuple[int, ...] = ()  # DWI: b-values stored in the series (a volume per b-value)
    stack_index: int = 0  # >0 when one SeriesInstanceUID held several stacks (orientations)
    manufacturer: str = ""
    model: str = ""
    field_strength: float | None = None
    body_part: str = ""  # BodyPartExamined as stated ("" when absent)
    series_description: str = ""
    study_description: str = ""
    protocol_name: str = ""
    series_number: int | None = None
    repetition_time: float | None = None  # ms
    echo_time: float | None = None  # ms
    inversion_time: float | None = None  # ms
    laterality: str = ""  # DICOM Laterality/ImageLaterality as stated
    phi: dict = field(default_factory=dict)  # raw identifiers, only with include_phi
    # the first file's path with identifier values replaced by salted tokens (``path_ids``): what indexes store
    stored_path: str = ""
    # identifier values of the series' headers (``path_ids.IdentifierValues``): in memory only, never in to_dict
    path_ids: tuple = field(default=(), repr=False, compare=False)
    study_uid: str = ""  # raw StudyInstanceUID, only with ScanOptions.keep_uids (links to a viewer)
    series_uid: str = ""  # raw SeriesInstanceUID, only with ScanOptions.keep_uids

    def to_dict(self) -> dict:
        """JSON-ready dict (files as display strings)."""
        d = asdict(self)
        d["files"] = [f.display for f in self.files]
        d.pop("path_ids")
        return d


@dataclass
class ParsedReport:
    """A report split into canonical sections and sentences."""

    source: str  # FileRef.display of the text file, or "reports.csv#row" style reference
    text: str
    sections: dict[str, str]  # "history", "technique", "comparison", "findings", "impression", ... present ones
    sentences: list[str]  # findings + impression sentences, organ/region-level units
    # labels parsed from the text (mri_search.report_labels.labels_of fills it once per report)
    labels: dict | None = field(default=None, repr=False, compare=False)
    label_problems: tuple[str, ...] = field(default=(), repr=False, compare=False)  # why no labels came out


@dataclass
class ScanResult:
    """Everything found in an archive."""

    series: list[SeriesRecord]
    skipped: list[Skip]
    reports: dict[str, ParsedReport]  # study_key -> report

    def redactor(self, salt: str, keep: bool = False):
        """A ``PathRedactor`` of the identifier values found anywhere in the archive (every series' and every
        skipped file's, SOP Instance UIDs left to their own file's lines), for lines such as the error report's:
        use it as ``skip.redacted(redactor)``. ``keep`` (``--keep-phi``): one that replaces nothing."""
        from .path_ids import PathRedactor

        pairs = (v for group in ([r.path_ids for r in self.series] + [s.path_ids for s in self.skipped])
                 for v in group if v[0] != "SOPInstanceUID")
        return PathRedactor(salt, () if keep else pairs, keep=keep)
