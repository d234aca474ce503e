"""One DICOM file's header, read without its pixels: identity, acquisition tags and per-frame geometry.

``read_header`` parses a file up to (not including) PixelData, checks that the pixel data is there and complete,
classifies the object (MR image, or something to skip: report, presentation state, secondary capture, localiser,
another modality) and returns a ``DicomHeader`` whose ``frames`` describe every image it holds: one frame for a
classic MR image, one per frame for Enhanced MR (geometry from the shared and per-frame functional groups).
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass, field

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

from .config import MIN_SPACING_MM, ScanOptions
from .deflate import DeflateBomb, inflated
from .path_ids import identifier_values
from .phi import phi_fields
from .records import FileRef
from .values import finite_float

MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
ENHANCED_MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"
LEGACY_ENHANCED_MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4.4"
MR_IMAGE_CLASSES = (MR_STORAGE, ENHANCED_MR_STORAGE, LEGACY_ENHANCED_MR_STORAGE)
_NON_IMAGE = {  # SOP class prefixes -> what a user should read in the report
    "1.2.840.10008.5.1.4.1.1.88.": "structured report", "1.2.840.10008.5.1.4.1.1.11.": "presentation state",
    "1.2.840.10008.5.1.4.1.1.481.": "radiotherapy object", "1.2.840.10008.5.1.4.1.1.104.": "encapsulated document",
    "1.2.840.10008.5.1.4.1.1.66": "raw data / registration / segmentation object",
    "1.2.840.10008.5.1.4.1.1.9.": "waveform", "1.2.840.10008.1.3.10": "DICOMDIR (directory index)",
    "1.2.840.10008.5.1.4.1.1.4.2": "MR spectroscopy", "1.2.840.10008.5.1.4.1.1.30": "parametric map",
    "1.3.12.2.1107.5.9.1": "Siemens CSA non-image object",
}
_NON_IMAGE_MODALITIES = {"SR": "structured report", "PR": "presentation state", "KO": "key object selection",
                         "RTSTRUCT": "radiotherapy structure set", "RTPLAN": "radiotherapy plan",
                         "RTDOSE": "radiotherapy dose", "REG": "registration", "SEG": "segmentation",
                         "DOC": "encapsulated document", "ECG": "waveform"}


class HeaderProblem(Exception):
    """A file that cannot become part of a series: ``level`` "skipped" (expected) or "failed" (broken)."""

    def __init__(self, level: str, reason: str, series_uid: str = ""):
        super().__init__(reason)
        self.level, self.reason, self.series_uid = level, reason, series_uid
        self.path_ids: tuple = ()  # the file's identifier values, when its header could be parsed


@dataclass
class Frame:
    """One image (a classic file or a frame of a multi-frame file) and where it lies."""

    ref: FileRef
    index: int  # frame index in the file (0 for a classic image)
    ipp: tuple[float, float, float]  # ImagePositionPatient, mm LPS
    iop: tuple[float, ...]  # ImageOrientationPatient (row direction, column direction)
    pixel_spacing: tuple[float, float]  # (between rows, between columns) mm
    rows: int
    cols: int
    thickness: float | None = None
    spacing_between: float | None = None
    b_value: float | None = None
    echo: str = ""  # EchoNumbers (classic) or effective TE (enhanced): a second echo is another stack
    temporal: str = ""  # TemporalPositionIdentifier / TemporalPositionIndex
    stack_id: str = ""  # enhanced FrameContent StackID
    slope: float = 1.0
    intercept: float = 0.0
    te: float | None = None
    sop_uid: str = ""  # SOPInstanceUID of the file: orders stacks the same way wherever the file is stored


@dataclass
class DicomHeader:
    """What the scanner needs from one MR image file."""

    ref: FileRef
    enhanced: bool
    series_uid: str
    study_uid: str
    patient_id: str
    accession: str
    frames: list[Frame]
    attrs: dict = field(default_factory=dict)  # description, protocol, timing, equipment... (see _attributes)
    phi: dict = field(default_factory=dict)
    # identifiers a stored path must not show (``path_ids.identifier_values``); in memory only, never stored
    path_ids: tuple = ()


def _first(value):
    """First value of a possibly multi-valued element (pydicom returns a bare value when VM is 1)."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return value[0] if len(value) else None
    return value


def _s(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _looks_like_dataset(head: bytes) -> bool:
    """A file without the 128-byte preamble that still starts with a group 0002/0008 tag (old exports)."""
    if len(head) < 8:
        return False
    group_le, group_be = struct.unpack("<H", head[:2])[0], struct.unpack(">H", head[:2])[0]
    return group_le in (0x0002, 0x0008) or group_be in (0x0002, 0x0008)


def _parse(fp) -> pydicom.Dataset:
    head = fp.read(132)
    if not head:
        raise HeaderProblem("failed", "empty file")
    preamble = len(head) >= 132 and head[128:132] == b"DICM"
    if not preamble and not _looks_like_dataset(head):
        raise HeaderProblem("failed", "not a DICOM file (no DICM preamble and no DICOM header)")
    fp.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom's notes on odd VRs: the user cannot act on them
            ds = pydicom.dcmread(fp, stop_before_pixels=True, force=not preamble)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError, struct.error,
            NotImplementedError) as exc:
        raise HeaderProblem("failed", f"unreadable DICOM header ({type(exc).__name__}: {_short(exc)})") from None
    pos = fp.tell()
    end = fp.seek(0, 2)
    fp.seek(pos)
    is_mr_image = str(ds.get("SOPClassUID", "")).startswith("1.2.840.10008.5.1.4.1.1.4")
    if pos >= end and is_mr_image and "Rows" not in ds:
        # pydicom stops quietly at end of file: an MR image whose header ends before its image attributes was cut
        raise HeaderProblem("failed", f"truncated file: the header ends after {end} bytes, before Rows/Columns",
                            _s(ds.get("SeriesInstanceUID")))
    return ds


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:160]


def _check_pixel_data(ds: pydicom.Dataset, fp, n_frames: int) -> None:
    """PixelData follows the header and holds at least the bytes the header promises (native syntaxes)."""
    start = fp.tell()
    elem = fp.read(12)
    fp.seek(0, 2)
    end = fp.tell()
    little = ds.original_encoding[1] if ds.original_encoding[1] is not None else True
    if len(elem) < 8:
        raise HeaderProblem("failed", "no PixelData (header only)", _s(ds.get("SeriesInstanceUID")))
    tag = struct.unpack("<HH" if little else ">HH", elem[:4])
    if tag[0] != 0x7FE0:
        raise HeaderProblem("failed", "no PixelData (header only)", _s(ds.get("SeriesInstanceUID")))
    syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if syntax is not None and syntax.is_compressed:
        return  # encapsulated fragments: completeness is checked when decoding
    implicit = bool(ds.original_encoding[0])
    fmt = "<I" if little else ">I"
    if implicit:
        length, header_len = struct.unpack(fmt, elem[4:8])[0], 8
    elif elem[4:6] in (b"OB", b"OW", b"OF", b"UN", b"OD", b"OL", b"OV"):
        length, header_len = struct.unpack(fmt, elem[8:12])[0], 12
    else:
        length, header_len = struct.unpack("<H" if little else ">H", elem[6:8])[0], 8
    bits = int(ds.get("BitsAllocated") or 16)
    want = int(ds.Rows) * int(ds.Columns) * n_frames * int(ds.get("SamplesPerPixel") or 1) * bits // 8
    available = end - start - header_len
    if length == 0xFFFFFFFF:
        return
    if available < min(length, want):
        raise HeaderProblem("failed", f"truncated file: {max(available, 0)} of {want} pixel bytes present",
                            _s(ds.get("SeriesInstanceUID")))
    if length < want:
        raise HeaderProblem("failed", f"PixelData holds {length} bytes but Rows x Columns x frames needs {want}",
                            _s(ds.get("SeriesInstanceUID")))


def _classify(ds: pydicom.Dataset) -> None:
    """Raise HeaderProblem("skipped") for objects that are not MR images."""
    meta = getattr(ds, "file_meta", None)
    sop = _s(ds.get("SOPClassUID")) or (_s(meta.get("MediaStorageSOPClassUID")) if meta is not None else "")
    uid = _s(ds.get("SeriesInstanceUID"))
    modality = _s(ds.get("Modality")).upper()
    if sop.startswith("1.2.840.10008.5.1.4.1.1.7"):
        raise HeaderProblem("skipped", "secondary capture (screenshot or derived picture, no geometry)", uid)
    for prefix, what in _NON_IMAGE.items():
        if sop.startswith(prefix):
            raise HeaderProblem("skipped", f"not an image: {what}", uid)
    if modality in _NON_IMAGE_MODALITIES:
        raise HeaderProblem("skipped", f"not an image: {_NON_IMAGE_MODALITIES[modality]}", uid)
    if modality and modality != "MR":
        raise HeaderProblem("skipped", f"modality {modality}, not MR", uid)
    if sop and sop not in MR_IMAGE_CLASSES:
        raise HeaderProblem("skipped", f"SOP class {sop} is not an MR image storage class", uid)
    if not sop and not modality:
        raise HeaderProblem("skipped", "no SOPClassUID and no Modality: not an MR image", uid)
    if "Rows" not in ds or "Columns" not in ds:
        raise HeaderProblem("skipped", "not an image (no Rows/Columns)", uid)
    itype = {v.upper() for v in _s(ds.get("ImageType")).split("\\")}
    if "LOCALIZER" in itype or "SCOUT" in itype:
        raise HeaderProblem("skipped", "localiser (ImageType LOCALIZER)", uid)
    if "PROJECTION IMAGE" in itype or "MIP" in itype:
        raise HeaderProblem("skipped", "projection image (MIP), not a slice of a volume", uid)
    if "MOSAIC" in itype:
        raise HeaderProblem("skipped", "Siemens mosaic (fMRI/DTI tiles in one image): not supported", uid)
    if int(ds.get("SamplesPerPixel") or 1) != 1:
        raise HeaderProblem("skipped", "colour image (SamplesPerPixel > 1): not a grey-level MR image", uid)


def read_header(ref: FileRef, max_matrix: int, max_slices: int, include_phi: bool = False,
                max_voxels: int = ScanOptions.max_voxels) -> DicomHeader:
    """Parse one file's header; raise ``HeaderProblem`` with a one-line reason when it cannot be used.

    Args:
        ref: the file.
        max_matrix: Rows or Columns above this is an absurd header.
        max_slices: NumberOfFrames above this is an absurd header.
        max_voxels: Rows x Columns x NumberOfFrames above this is an absurd header.
        include_phi: also keep the raw identifiers (``DicomHeader.phi``).
    """
    ds = None
    try:
        with ref.open() as raw:
            try:
                fp = inflated(raw)
            except DeflateBomb as exc:
                raise HeaderProblem("failed", str(exc)) from None
            ds = _parse(fp)
            n_frames = _check_image(ds, max_matrix, max_slices, max_voxels)
            _check_pixel_data(ds, fp, n_frames)
    except HeaderProblem as p:
        if ds is not None:
            p.path_ids = identifier_values(ds.get)
        raise
    except OSError as exc:
        raise HeaderProblem("failed", f"cannot read file ({_short(exc)})") from None
    return _header(ds, ref, n_frames, include_phi)


def header_from_dataset(ds: pydicom.Dataset, ref: FileRef, max_matrix: int, max_slices: int,
                        include_phi: bool = False, max_voxels: int = ScanOptions.max_voxels) -> DicomHeader:
    """``read_header`` for a dataset already parsed without its pixels (DICOMweb instance metadata).

    The same classification, limits and geometry as ``read_header``; only the pixel-data completeness check is
    left to ``load_dicom``, which reads the pixels.
    """
    try:
        n_frames = _check_image(ds, max_matrix, max_slices, max_voxels)
    except HeaderProblem as p:
        p.path_ids = identifier_values(ds.get)
        raise
    return _header(ds, ref, n_frames, include_phi)


def _check_image(ds: pydicom.Dataset, max_matrix: int, max_slices: int, max_voxels: int) -> int:
    """Classify ``ds`` and check its matrix and frame count against the limits; returns NumberOfFrames."""
    _classify(ds)
    rows, cols = int(ds.Rows), int(ds.Columns)
    uid = _s(ds.get("SeriesInstanceUID"))
    if rows < 1 or cols < 1 or rows > max_matrix or cols > max_matrix:
        raise HeaderProblem("failed", f"absurd header: Rows x Columns = {rows} x {cols} "
                                      f"(limit {max_matrix})", uid)
    n_frames = int(finite_float(ds.get("NumberOfFrames")) or 1)
    if n_frames < 1 or n_frames > max_slices:
        raise HeaderProblem("failed", f"absurd header: NumberOfFrames = {n_frames} (limit {max_slices})", uid)
    if rows * cols * n_frames > max_voxels:
        raise HeaderProblem("failed", f"absurd header: {rows} x {cols} x {n_frames} frames exceed "
                                      f"ScanOptions.max_voxels ({max_voxels})", uid)
    return n_frames


def _header(ds: pydicom.Dataset, ref: FileRef, n_frames: int, include_phi: bool) -> DicomHeader:
    rows, cols = int(ds.Rows), int(ds.Columns)
    uid = _s(ds.get("SeriesInstanceUID"))
    if not uid:
        p = HeaderProblem("failed", "no SeriesInstanceUID")
        p.path_ids = identifier_values(ds.get)
        raise p
    enhanced = "PerFrameFunctionalGroupsSequence" in ds
    if not enhanced and n_frames > 1:
        raise HeaderProblem("failed", f"multi-frame image ({n_frames} frames) without per-frame functional groups: "
                                      "frame positions unknown", uid)
    frames = enhanced_frames(ds, ref, rows, cols) if enhanced else [_classic_frame(ds, ref, rows, cols)]
    return DicomHeader(ref=ref, enhanced=enhanced, series_uid=uid, study_uid=_s(ds.get("StudyInstanceUID")),
                       patient_id=_s(ds.get("PatientID")), accession=_s(ds.get("AccessionNumber")), frames=frames,
                       attrs=_attributes(ds, enhanced), phi=phi_fields(ds) if include_phi else {},
                       path_ids=identifier_values(ds.get))


def _geometry(ipp, iop, spacing, uid: str, what: str) -> tuple[tuple, tuple, tuple]:
    if ipp is None or iop is None or len(ipp) != 3 or len(iop) != 6:
        raise HeaderProblem("failed", f"{what}: no ImagePositionPatient/ImageOrientationPatient, slices cannot "
                                      "be placed", uid)
    if spacing is None or len(spacing) != 2 or not all(finite_float(v) and finite_float(v) > 0 for v in spacing):
        raise HeaderProblem("failed", f"{what}: missing or invalid PixelSpacing", uid)
    if min(float(v) for v in spacing) < MIN_SPACING_MM:
        raise HeaderProblem("failed", f"{what}: PixelSpacing {min(float(v) for v in spacing):g} mm is below the "
                                      f"{MIN_SPACING_MM} mm floor (a broken header)", uid)
    pos = tuple(float(v) for v in ipp)
    ori = np.array([float(v) for v in iop], dtype=float)
    r, c = ori[:3], ori[3:]
    if not (np.all(np.isfinite(pos)) and np.all(np.isfinite(ori))) or \
            abs(np.linalg.norm(r) - 1) > 0.01 or abs(np.linalg.norm(c) - 1) > 0.01 or abs(np.dot(r, c)) > 0.01:
        raise HeaderProblem("failed", f"{what}: ImageOrientationPatient is not two orthogonal unit vectors", uid)
    return pos, tuple(float(v) for v in ori), (float(spacing[0]), float(spacing[1]))


def _b_value(ds) -> float | None:
    b = finite_float(ds.get("DiffusionBValue"))
    if b is not None:
        return b
    for tag, mod in ((0x0019100C, None), (0x20011003, None), (0x00431039, 100000)):  # Siemens, Philips, GE
        elem = ds.get(tag)
        if elem is None:
            continue
        value = elem.value
        if isinstance(value, bytes):
            try:
                value = value.decode("ascii", "ignore").split("\\")[0]
            except (UnicodeDecodeError, AttributeError):
                continue
        b = finite_float(_first(value))
        if b is not None:
            return b % mod if mod else b
    return None


def _classic_frame(ds, ref: FileRef, rows: int, cols: int) -> Frame:
    uid = _s(ds.get("SeriesInstanceUID"))
    ipp, iop, ps = _geometry(ds.get("ImagePositionPatient"), ds.get("ImageOrientationPatient"),
                             ds.get("PixelSpacing"), uid, "image")
    return Frame(ref=ref, index=0, ipp=ipp, iop=iop, pixel_spacing=ps, rows=rows, cols=cols,
                 thickness=finite_float(ds.get("SliceThickness")), spacing_between=finite_float(ds.get("SpacingBetweenSlices")),
                 b_value=_b_value(ds), echo=_s(ds.get("EchoNumbers")),
                 temporal=_s(ds.get("TemporalPositionIdentifier")),
                 slope=finite_float(ds.get("RescaleSlope")) or 1.0, intercept=finite_float(ds.get("RescaleIntercept")) or 0.0,
                 te=finite_float(ds.get("EchoTime")), sop_uid=_s(ds.get("SOPInstanceUID")))


def _group(item, shared, name: str):
    """First item of functional group ``name`` from the per-frame item, else from the shared groups."""
    for source in (item, shared):
        if source is not None and name in source and len(source[name].value):
            return source[name].value[0]
    return None


def enhanced_frames(ds, ref: FileRef, rows: int, cols: int) -> list[Frame]:
    """One ``Frame`` per frame of an Enhanced MR dataset, from its per-frame and shared functional groups.

    Raises:
        HeaderProblem: the per-frame groups do not match NumberOfFrames, or a frame has no usable geometry.
    """
    uid = _s(ds.get("SeriesInstanceUID"))
    shared_seq = ds.get("SharedFunctionalGroupsSequence")
    shared = shared_seq[0] if shared_seq else None
    per_frame = ds.PerFrameFunctionalGroupsSequence
    n = int(finite_float(ds.get("NumberOfFrames")) or 1)
    if len(per_frame) != n:
        raise HeaderProblem("failed", f"PerFrameFunctionalGroupsSequence has {len(per_frame)} items for "
                                      f"NumberOfFrames = {n}", uid)
    frames = []
    sop = _s(ds.get("SOPInstanceUID"))
    for i, item in enumerate(per_frame):
        pos, ori, mea = (_group(item, shared, g) for g in
                         ("PlanePositionSequence", "PlaneOrientationSequence", "PixelMeasuresSequence"))
        ipp, iop, ps = _geometry(pos.get("ImagePositionPatient") if pos else None,
                                 ori.get("ImageOrientationPatient") if ori else None,
                                 mea.get("PixelSpacing") if mea else None, uid, f"frame {i + 1}")
        content = _group(item, None, "FrameContentSequence")
        diff = _group(item, shared, "MRDiffusionSequence")
        pvt = _group(item, shared, "PixelValueTransformationSequence")
        echo = _group(item, shared, "MREchoSequence")
        te = finite_float(echo.get("EffectiveEchoTime")) if echo else None
        slope = finite_float(pvt.get("RescaleSlope")) if pvt else None
        intercept = finite_float(pvt.get("RescaleIntercept")) if pvt else None
        frames.append(Frame(
            ref=ref, index=i, ipp=ipp, iop=iop, pixel_spacing=ps, rows=rows, cols=cols,
            thickness=finite_float(mea.get("SliceThickness")), spacing_between=finite_float(mea.get("SpacingBetweenSlices")),
            b_value=finite_float(diff.get("DiffusionBValue")) if diff else None, echo="" if te is None else f"{te:g}",
            temporal=_s(content.get("TemporalPositionIndex")) if content else "",
            stack_id=_s(content.get("StackID")) if content else "",
            slope=slope if slope is not None else (finite_float(ds.get("RescaleSlope")) or 1.0),
            intercept=intercept if intercept is not None else (finite_float(ds.get("RescaleIntercept")) or 0.0), te=te,
            sop_uid=sop))
    return frames


def _attributes(ds, enhanced: bool) -> dict:
    """Series-level attributes, with Enhanced MR functional-group values mapped onto the classic names."""
    a = dict(
        description=_s(ds.get("SeriesDescription")), protocol=_s(ds.get("ProtocolName")),
        study_description=_s(ds.get("StudyDescription")), image_type=_s(ds.get("ImageType")),
        manufacturer=_s(ds.get("Manufacturer")), model=_s(ds.get("ManufacturerModelName")),
        field_strength=finite_float(ds.get("MagneticFieldStrength")), body_part=_s(ds.get("BodyPartExamined")),
        series_number=int(ds.SeriesNumber) if finite_float(ds.get("SeriesNumber")) is not None else None,
        laterality=_s(ds.get("Laterality")) or _s(ds.get("ImageLaterality")),
        tr=finite_float(ds.get("RepetitionTime")), te=finite_float(ds.get("EchoTime")), ti=finite_float(ds.get("InversionTime")),
        flip=finite_float(ds.get("FlipAngle")), scanning_sequence=_s(ds.get("ScanningSequence")),
        sequence_variant=_s(ds.get("SequenceVariant")), scan_options=_s(ds.get("ScanOptions")),
        pulse_sequence_name=_s(ds.get("SequenceName")) or _s(ds.get("PulseSequenceName")),
        contrast_agent=_s(ds.get("ContrastBolusAgent")), acquisition_contrast=_s(ds.get("AcquisitionContrast")),
    )
    if a["field_strength"] is not None and a["field_strength"] > 100:
        a["field_strength"] = a["field_strength"] / 10000.0  # stated in gauss
    cas = ds.get("ContrastBolusAgentSequence")
    if not a["contrast_agent"] and cas:
        a["contrast_agent"] = _s(cas[0].get("CodeMeaning")) or "yes"
    if enhanced:
        shared_seq = ds.get("SharedFunctionalGroupsSequence")
        shared = shared_seq[0] if shared_seq else None
        first = ds.PerFrameFunctionalGroupsSequence[0]
        timing = _group(first, shared, "MRTimingAndRelatedParametersSequence")
        echo = _group(first, shared, "MREchoSequence")
        modifier = _group(first, shared, "MRModifierSequence")
        frame_type = _group(first, shared, "MRImageFrameTypeSequence")
        if timing is not None:
            a["tr"] = a["tr"] or finite_float(timing.get("RepetitionTime"))
            a["flip"] = a["flip"] or finite_float(timing.get("FlipAngle"))
        if echo is not None:
            a["te"] = a["te"] or finite_float(echo.get("EffectiveEchoTime"))
        scanning = [{"GRADIENT": "GR", "SPIN": "SE", "BOTH": "SE\\GR"}.get(_s(ds.get("EchoPulseSequence")), "")]
        if _s(ds.get("EchoPlanarPulseSequence")) == "YES":
            scanning.append("EP")
        if modifier is not None and _s(modifier.get("InversionRecovery")) == "YES":
            scanning.append("IR")
            times = modifier.get("InversionTimes")
            if a["ti"] is None and times is not None:
                a["ti"] = finite_float(_first(times))
        a["scanning_sequence"] = a["scanning_sequence"] or "\\".join(s for s in scanning if s)
        if not a["sequence_variant"] and _s(ds.get("SteadyStatePulseSequence")) not in ("", "NONE"):
            a["sequence_variant"] = "SS"
        if not a["scan_options"] and "FAT" in _s(ds.get("SpectrallySelectedSuppression")):
            a["scan_options"] = "FS"
        if frame_type is not None:
            ftype = _s(frame_type.get("FrameType"))
            if ftype and ftype != a["image_type"]:
                a["image_type"] = "\\".join(v for v in (a["image_type"], ftype) if v)
            a["acquisition_contrast"] = a["acquisition_contrast"] or _s(frame_type.get("AcquisitionContrast"))
    return a
