"""DICOM series: find them among files, describe them as de-identified records, load their pixels on demand.

``scan_dicom`` reads every file's header (never its pixels), groups images by SeriesInstanceUID and then into
stacks of parallel slices (orientation, matrix, echo, temporal position, enhanced StackID; diffusion b-values of one
stack become one record when they cover the same slice positions), orders each stack along its normal, checks it
(gaps, uneven or duplicate positions, absurd sizes) and returns a ``SeriesRecord`` per good stack and a ``Skip`` per
file or series that could not be used. ``load_dicom`` decodes a record's pixels (pydicom pixel plugins for
compressed transfer syntaxes), applies the rescale slope and intercept and returns float32 ``[S, R, C]``
(``[B, S, R, C]`` for DWI with several b-values).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pydicom

from .config import ScanOptions
from .deflate import DeflateBomb, inflated
from .dicom_meta import DicomHeader, Frame, HeaderProblem, enhanced_frames, read_header
from .path_ids import redact_path
from .phi import hash_id
from .records import FileRef, SeriesRecord, Skip
from .sequence import infer_sequence

log = logging.getLogger(__name__)

_LOCALISER = re.compile(r"(^|[^a-z])(loc|locali[sz]er|scout|survey|3\W*pl(ane)?|pilot|aahead)", re.I)
_POSITION_TOL_MM = 0.01  # positions closer than this are the same slice


@dataclass
class _Stack:
    """One stack of parallel slices: a slice-sorted group of frames per b-value (one group without diffusion)."""

    groups: list[list[Frame]]
    b_values: tuple[int, ...]  # one per group when the series is diffusion-weighted, else ()
    problem: str = ""  # why the stack cannot be used ("" when it can)

    @property
    def first(self) -> Frame:
        return self.groups[0][0]


# ---------------------------------------------------------------------------------------------- geometry
def _normal(iop: tuple[float, ...]) -> np.ndarray:
    n = np.cross(np.asarray(iop[:3]), np.asarray(iop[3:]))
    return n / np.linalg.norm(n)


def plane_of(normal: np.ndarray) -> str:
    """"sagittal", "coronal" or "axial" for the cardinal axis nearest the slice normal; "oblique" beyond 30 deg."""
    a = np.abs(np.asarray(normal, dtype=float))
    axis = int(np.argmax(a))
    if np.degrees(np.arccos(min(1.0, a[axis] / np.linalg.norm(a)))) > 30.0:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def _same_orientation(a: tuple, b: tuple) -> bool:
    return bool(np.max(np.abs(np.asarray(a) - np.asarray(b))) < 1e-3)


def _split_key(fr: Frame) -> tuple:
    """Frames that may share a stack agree on this (orientation is compared with a tolerance separately)."""
    enhanced_file = fr.ref.display if fr.stack_id else ""
    temporal = fr.temporal if fr.b_value is None else ""
    return (enhanced_file, fr.stack_id, fr.rows, fr.cols, round(fr.pixel_spacing[0], 4),
            round(fr.pixel_spacing[1], 4), fr.echo, temporal)


def _check_positions(depths: np.ndarray) -> str:
    """"" for an evenly spaced, complete stack; else the reason (depths sorted along the normal, mm)."""
    if len(depths) < 2:
        return ""
    steps = np.diff(depths)
    if np.any(steps < _POSITION_TOL_MM):
        k = int(np.sum(steps < _POSITION_TOL_MM))
        return f"duplicate slice positions ({k} image{'s' if k > 1 else ''} at a position already in the stack)"
    median = float(np.median(steps))
    big = np.nonzero(steps > 1.5 * median)[0]
    if len(big):
        k = int(big[0])
        return (f"missing slice: a gap of {steps[k]:.2f} mm after slice {k + 1} of {len(depths)} where the "
                f"median step is {median:.2f} mm")
    if np.max(np.abs(steps - median)) > max(0.1 * median, 0.02):
        return f"inconsistent slice spacing (steps from {steps.min():.2f} to {steps.max():.2f} mm)"
    return ""


def _build_stacks(frames: list[Frame], max_slices: int) -> list[_Stack]:
    """Group frames into stacks, sort each along its normal and validate it."""
    buckets: list[tuple[tuple, tuple, list[Frame]]] = []  # (split key, orientation, frames)
    for fr in frames:
        key = _split_key(fr)
        for bkey, biop, members in buckets:
            if bkey == key and _same_orientation(biop, fr.iop):
                members.append(fr)
                break
        else:
            buckets.append((key, fr.iop, [fr]))
    stacks = []
    for _, iop, members in buckets:
        normal = _normal(iop)
        by_b: dict[int | None, list[Frame]] = defaultdict(list)
        for fr in members:
            by_b[None if fr.b_value is None else int(round(fr.b_value))].append(fr)
        if None in by_b and len(by_b) > 1:  # some images with, some without a b-value: call them b = 0
            by_b.setdefault(0, []).extend(by_b.pop(None))
        groups = {b: sorted(g, key=lambda f: (float(np.dot(f.ipp, normal)), f.ref.display, f.index))
                  for b, g in sorted(by_b.items(), key=lambda kv: -1 if kv[0] is None else kv[0])}
        depth = {b: np.array([np.dot(f.ipp, normal) for f in g]) for b, g in groups.items()}
        bs = [b for b in groups if b is not None]
        first = depth[next(iter(groups))]
        aligned = all(len(d) == len(first) and np.max(np.abs(d - first)) < _POSITION_TOL_MM for d in depth.values())
        if len(groups) > 1 and aligned:
            stacks.append(_Stack(list(groups.values()), tuple(bs)))
        else:
            stacks += [_Stack([g], (b,) if b is not None else ()) for b, g in groups.items()]
    for st in stacks:
        n = len(st.groups[0])
        if n > max_slices:
            st.problem = f"absurd series: {n} slices (limit {max_slices})"
        else:
            st.problem = _check_positions(np.array([np.dot(f.ipp, _normal(f.iop)) for f in st.groups[0]]))
    # SOPInstanceUID, not the file name: the same series read from a folder or over DICOMweb numbers its stacks alike
    stacks.sort(key=lambda s: (s.first.sop_uid or s.first.ref.display, s.first.index, s.b_values))
    return stacks


def _affine(st: _Stack) -> tuple[np.ndarray, tuple[float, float, float]]:
    """4x4 (column, row, slice) -> LPS mm, and the (slice step, row spacing, column spacing)."""
    g = st.groups[0]
    f0 = g[0]
    row_dir, col_dir = np.asarray(f0.iop[:3]), np.asarray(f0.iop[3:])
    rs, cs = f0.pixel_spacing
    if len(g) > 1:
        p0, p1 = np.asarray(g[0].ipp), np.asarray(g[-1].ipp)
        slice_vec = (p1 - p0) / (len(g) - 1)
        step = float(np.median(np.diff([np.dot(f.ipp, _normal(f0.iop)) for f in g])))
    else:
        step = f0.spacing_between or f0.thickness or 1.0
        slice_vec = _normal(f0.iop) * step
    aff = np.eye(4)
    aff[:3, 0], aff[:3, 1], aff[:3, 2], aff[:3, 3] = row_dir * cs, col_dir * rs, slice_vec, f0.ipp
    return aff, (round(step, 6), rs, cs)


# ---------------------------------------------------------------------------------------------- scan
def scan_dicom(refs: list[FileRef], options: ScanOptions,
               read: Callable[[FileRef], DicomHeader] | None = None) -> tuple[list[SeriesRecord], list[Skip]]:
    """Read the headers of ``refs`` and describe every readable MR series.

    Args:
        refs: candidate files (folder files or zip/tar members, or DICOMweb instances).
        options: salt, include_phi and the size limits.
        read: header reader of one file (default ``read_header`` with the limits of ``options``); raises
            ``HeaderProblem`` for a file that cannot be used.

    Returns:
        (one record per readable stack, one skip line per unusable file or series), both in a stable order.
    """
    skips: list[Skip] = []
    by_series: dict[str, list[DicomHeader]] = defaultdict(list)
    issues: dict[str, list[tuple[FileRef, HeaderProblem]]] = defaultdict(list)
    if read is None and _parallel(refs, options):
        outcomes = _read_parallel(refs, options)
    else:
        outcomes = _read_serial(refs, read or _default_reader(options))
    for ref, header in outcomes:
        if isinstance(header, HeaderProblem):
            if header.series_uid:
                issues[header.series_uid].append((ref, header))
            else:
                skips.append(Skip(path=ref.display, reason=header.reason, level=header.level,
                                  path_ids=header.path_ids))
        elif isinstance(header, str):  # the name of the exception that stopped the parser
            skips.append(Skip(path=ref.display, reason=f"unreadable DICOM header ({header})", level="failed"))
        else:
            by_series[header.series_uid].append(header)
    records: list[SeriesRecord] = []
    for uid in sorted(set(by_series) | set(issues)):
        recs, sk = _scan_series(uid, by_series.get(uid, []), issues.get(uid, []), options)
        records += recs
        skips += sk
    records.sort(key=lambda r: (r.study_key, r.series_number if r.series_number is not None else -1, r.key))
    return records, skips


PARALLEL_MIN_FILES = 256  # fewer files are read in this process: starting the pool would cost more than it saves
_CHUNK = 64  # files a header-reading process takes at a time


def _default_reader(options: ScanOptions) -> Callable[[FileRef], DicomHeader]:
    def read(ref: FileRef) -> DicomHeader:
        return read_header(ref, options.max_matrix, options.max_slices, options.include_phi, options.max_voxels)
    return read


def _outcome(read: Callable[[FileRef], DicomHeader], ref: FileRef) -> DicomHeader | HeaderProblem | str:
    """One file's header, the ``HeaderProblem`` that sets it aside, or the name of the exception that stopped the
    parser (a hostile file must not stop the scan)."""
    try:
        return read(ref)
    except HeaderProblem as p:
        return p
    except Exception as exc:  # noqa: BLE001
        log.debug("header of %s", ref.display, exc_info=True)
        return type(exc).__name__


def _read_serial(refs: list[FileRef], read: Callable[[FileRef], DicomHeader]):
    for ref in refs:
        yield ref, _outcome(read, ref)


def _parallel(refs: list[FileRef], options: ScanOptions) -> bool:
    """Read headers in ``options.workers`` processes: enough files, and each one opened on its own (folder files
    and zip members; a tar's member index would be built again in every process)."""
    return (options.workers > 1 and len(refs) >= PARALLEL_MIN_FILES
            and all(r.kind in ("dir", "zip") for r in refs))


def _read_chunk(refs: list[FileRef], options: ScanOptions) -> list:
    """In a header-reading process: each file's outcome, a ``HeaderProblem`` sent back as its fields (an exception
    with its own constructor does not survive pickling as itself)."""
    read = _default_reader(options)
    out = []
    for ref in refs:
        o = _outcome(read, ref)
        out.append(("problem", o.level, o.reason, o.series_uid, o.path_ids) if isinstance(o, HeaderProblem) else o)
    return out


def _read_parallel(refs: list[FileRef], options: ScanOptions):
    """``_read_serial`` in ``options.workers`` forked processes, in the order of ``refs``."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = [refs[i:i + _CHUNK] for i in range(0, len(refs), _CHUNK)]
    with ProcessPoolExecutor(options.workers, mp_context=multiprocessing.get_context("fork")) as pool:
        for chunk, outcomes in zip(chunks, pool.map(_read_chunk, chunks, [options] * len(chunks))):
            for ref, o in zip(chunk, outcomes):
                if isinstance(o, tuple):
                    p = HeaderProblem(o[1], o[2], o[3])
                    p.path_ids = o[4]
                    o = p
                yield ref, o


def _series_skips(uid: str, problems: list[tuple[FileRef, HeaderProblem]], n_total: int,
                  options: ScanOptions, ids: tuple) -> list[Skip]:
    """One line per (level, reason) among the files of a series (``ids``: the series' identifier values)."""
    grouped: dict[tuple[str, str], list[FileRef]] = defaultdict(list)
    for ref, p in problems:
        grouped[(p.level, p.reason)].append(ref)
    out = []
    for (level, reason), refs in sorted(grouped.items()):
        first = min(refs, key=lambda r: r.display)
        count = f"{len(refs)} of {n_total} files: " if n_total > 1 else ""
        out.append(Skip(path=first.display, reason=count + reason, series=hash_id(options.salt, f"{uid}#0"),
                        level=level, path_ids=ids))
    return out


def _scan_series(uid: str, headers: list[DicomHeader], problems: list[tuple[FileRef, HeaderProblem]],
                 options: ScanOptions) -> tuple[list[SeriesRecord], list[Skip]]:
    n_total = len(headers) + len(problems)
    # every file's identifier values (its SOP Instance UID among them): for the stored path and the error lines
    ids = tuple(dict.fromkeys([v for h in headers for v in h.path_ids] + [v for _, p in problems for v in p.path_ids]))
    skips = _series_skips(uid, problems, n_total, options, ids)
    if any(p.level == "failed" for _, p in problems) or not headers:
        return [], skips  # a series with a broken file is reported once, not read with a hole in it
    headers.sort(key=lambda h: (h.frames[0].sop_uid or h.ref.display, h.ref.display))
    frames = [fr for h in headers for fr in h.frames]
    stacks = _build_stacks(frames, options.max_slices)
    attrs = headers[0].attrs
    first_path = headers[0].ref.display
    orientations = []
    for st in stacks:
        if not any(_same_orientation(st.first.iop, o) for o in orientations):
            orientations.append(st.first.iop)
    text = f"{attrs['description']} {attrs['protocol']}"
    if _LOCALISER.search(text) and (len(orientations) >= 2 or max(len(s.groups[0]) for s in stacks) <= 5):
        reason = (f"localiser ({attrs['description'] or attrs['protocol']!r}: {len(frames)} image(s) in "
                  f"{len(orientations)} orientation(s))")
        return [], skips + [Skip(path=first_path, reason=reason, series=hash_id(options.salt, f"{uid}#0"),
                                 path_ids=ids)]
    by_ref = {h.ref.display: h for h in headers}
    records = []
    for i, st in enumerate(stacks):
        index = 0 if len(stacks) == 1 else i + 1
        key = hash_id(options.salt, f"{uid}#{index}")
        where = f" (stack {index} of {len(stacks)})" if index else ""
        images = sum(len(g) for g in st.groups)
        if not st.problem and images * st.first.rows * st.first.cols > options.max_voxels:
            st.problem = (f"absurd size: {images} images of {st.first.rows} x {st.first.cols} exceed "
                          f"ScanOptions.max_voxels ({options.max_voxels})")
        if st.problem:
            skips.append(Skip(path=st.first.ref.display, reason=st.problem + where, series=key, level="failed",
                              path_ids=ids))
            continue
        records.append(_record(st, index, key, by_ref[st.first.ref.display], options, ids))
    return records, skips


def _record(st: _Stack, index: int, key: str, header: DicomHeader, options: ScanOptions,
            ids: tuple = ()) -> SeriesRecord:
    a = header.attrs
    aff, spacing = _affine(st)
    f0 = st.first
    te = f0.te if f0.te is not None else a["te"]
    seq, evidence, post, fat = infer_sequence(
        description=a["description"], protocol=a["protocol"], scanning_sequence=a["scanning_sequence"],
        sequence_variant=a["sequence_variant"], scan_options=a["scan_options"], image_type=a["image_type"],
        tr=a["tr"], te=te, ti=a["ti"], flip=a["flip"], contrast_agent=a["contrast_agent"], b_values=st.b_values,
        pulse_sequence_name=a["pulse_sequence_name"], acquisition_contrast=a["acquisition_contrast"])
    b_values = st.b_values if (len(st.b_values) > 1 or seq == "DWI") else ()
    if header.enhanced:
        files: tuple[FileRef, ...] = (f0.ref,)
    else:
        files = tuple(fr.ref for g in st.groups for fr in g)
    salt = options.salt
    return SeriesRecord(
        key=key, source="dicom", layout="enhanced" if header.enhanced else "single", files=files,
        study_key=hash_id(salt, header.study_uid), series_uid_hash=hash_id(salt, header.series_uid),
        patient_key=hash_id(salt, header.patient_id), accession_hash=hash_id(salt, header.accession),
        modality="MR", sequence=seq, sequence_evidence=evidence, post_contrast=post, fat_suppressed=fat,
        plane=plane_of(_normal(f0.iop)), shape=(len(st.groups[0]), f0.rows, f0.cols), spacing=spacing,
        affine_lps=tuple(tuple(float(v) for v in row) for row in aff), b_values=b_values, stack_index=index,
        manufacturer=a["manufacturer"], model=a["model"], field_strength=a["field_strength"],
        body_part=a["body_part"], series_description=a["description"], study_description=a["study_description"],
        protocol_name=a["protocol"], series_number=a["series_number"], repetition_time=a["tr"], echo_time=te,
        inversion_time=a["ti"], laterality=a["laterality"], phi=dict(header.phi) if options.include_phi else {},
        stored_path=redact_path(files[0].display, salt, ids), path_ids=ids,
        study_uid=header.study_uid if options.keep_uids else "", series_uid=header.series_uid if options.keep_uids else "")


# ---------------------------------------------------------------------------------------------- load
def _decode(ds: pydicom.Dataset, what: str) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "excess padding removed": harmless, and not the user's to fix
            return np.asarray(ds.pixel_array)
    except Exception as exc:  # noqa: BLE001 - pydicom raises many types for broken or unsupported pixel data
        syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
        name = getattr(syntax, "name", str(syntax))
        hint = ""
        if "missing dependencies" in str(exc) or "plugin" in str(exc).lower():
            hint = " (install the pixel plugins: pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg)"
        raise ValueError(f"{what}: cannot decode pixel data ({name}): {' '.join(str(exc).split())[:200]}{hint}") \
            from None


def _read(ref: FileRef) -> pydicom.Dataset:
    try:
        with ref.open() as raw:
            return pydicom.dcmread(inflated(raw), force=True)  # a deflated file inflated within bounds
    # a bomb, a file gone, or a DICOMweb instance deleted since the scan: the reason says which
    except (DeflateBomb, OSError) as exc:
        raise ValueError(f"{ref.display}: {exc}") from None
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"{ref.display}: cannot read DICOM file ({type(exc).__name__})") from None


def _check_volume(vol: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(vol)):
        raise ValueError("volume contains NaN or Inf")
    if not np.any(vol):
        raise ValueError("volume is all zero")
    return vol


def load_dicom(record: SeriesRecord) -> np.ndarray:
    """Pixels of a DICOM record as float32, rescale slope and intercept applied.

    Returns:
        ``[S, R, C]`` in record slice order, or ``[B, S, R, C]`` (b ascending) for DWI with several b-values.

    Raises:
        ValueError: a file is unreadable or changed since the scan, pixel data cannot be decoded (e.g. a missing
            pixel plugin), or the volume is all zero / not finite.
    """
    s, r, c = record.shape
    if record.layout == "enhanced":
        vol = _load_enhanced(record)
    else:
        slices = []
        for ref in record.files:
            ds = _read(ref)
            arr = _decode(ds, ref.display)
            if arr.shape != (r, c):
                raise ValueError(f"{ref.display}: image is {arr.shape}, the series record says {(r, c)}")
            slope = float(ds.get("RescaleSlope") or 1.0)
            intercept = float(ds.get("RescaleIntercept") or 0.0)
            with np.errstate(over="ignore", invalid="ignore"):  # an absurd slope overflows: reported below
                slices.append(arr.astype(np.float32) * np.float32(slope) + np.float32(intercept))
        vol = np.stack(slices)
    if len(record.b_values) > 1:
        vol = vol.reshape(len(record.b_values), s, r, c)
    elif vol.shape[0] != s:
        raise ValueError(f"{record.files[0].display}: {vol.shape[0]} slices read, the record says {s}")
    return _check_volume(vol.astype(np.float32, copy=False))


def _load_enhanced(record: SeriesRecord) -> np.ndarray:
    ref = record.files[0]
    ds = _read(ref)
    s, r, c = record.shape
    try:
        frames = enhanced_frames(ds, ref, int(ds.Rows), int(ds.Columns))
    except HeaderProblem as p:
        raise ValueError(f"{ref.display}: {p.reason}") from None
    origin = np.array([row[3] for row in record.affine_lps[:3]])
    chosen = None
    for st in _build_stacks(frames, max(len(frames), 1)):
        if (len(st.groups[0]), st.first.rows, st.first.cols) == (s, r, c) and \
                (st.b_values == tuple(record.b_values) or len(record.b_values) <= 1) and \
                np.max(np.abs(np.asarray(st.first.ipp) - origin)) < 1e-3:
            chosen = st
            break
    if chosen is None:
        raise ValueError(f"{ref.display}: no stack of this file matches the series record (file changed?)")
    pixels = _decode(ds, ref.display)
    if pixels.ndim == 2:
        pixels = pixels[None]
    if pixels.shape[1:] != (r, c) or pixels.shape[0] != len(frames):
        raise ValueError(f"{ref.display}: pixel data is {pixels.shape}, header says {(len(frames), r, c)}")
    with np.errstate(over="ignore", invalid="ignore"):
        out = [pixels[f.index].astype(np.float32) * np.float32(f.slope) + np.float32(f.intercept)
               for g in chosen.groups for f in g]
    return np.stack(out)
