"""NIfTI series (``.nii`` / ``.nii.gz``, optional BIDS JSON sidecar and ``.bval``) as de-identified series records.

Geometry follows the DICOM convention of the records: the NIfTI data array ``[C, R, S]`` (i = column, j = row,
k = slice) is read as ``[S, R, C]``, and ``affine_lps`` is the sform (else qform) turned from RAS to LPS. Where the
slice axis runs against ``column x row`` (as a DICOM reader never orders its slices), the slice axis is reversed so
that a NIfTI and its DICOM twin give the same shape, affine and voxel order.

4D images: with a ``.bval`` beside them (one value per volume) they are DWI and load as ``[B, S, R, C]``; without
one only the first volume is used (the record's shape is that of one volume, a warning is logged).

Metadata come from the sidecar (times in seconds there, milliseconds in the record), else from the BIDS file name
(suffix T1w/T2w/PDw/FLAIR/dwi, ``ce-`` entity = post-contrast, ``acq-`` label with fs/stir, ``rec-adc``) with
sequence evidence "filename". Identifiers leave only as salted hashes (raw values in ``phi`` with include_phi).
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import nibabel as nib
import numpy as np

from .config import MIN_SPACING_MM, ScanOptions
from .display import display_text
from .path_ids import identifier_values, redact_path
from .phi import hash_id
from .records import FileRef, SeriesRecord, Skip
from .values import finite_float
from .sequence import infer_sequence

log = logging.getLogger(__name__)

RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])
SUFFIX_SEQUENCE = {"t1w": "T1", "t2w": "T2", "pdw": "PD", "flair": "FLAIR", "dwi": "DWI", "inplanet1": "T1",
                   "inplanet2": "T2", "unit1": "T1", "stir": "STIR"}
FAT_SAT_TOKENS = ("fs", "fatsat", "spir", "spair", "dixon", "fatsup")
_EXTS = (".nii.gz", ".nii")


def scan_nifti(refs: list[FileRef], sidecars: dict[str, FileRef],
               options: ScanOptions) -> tuple[list[SeriesRecord], list[Skip]]:
    """One record per readable NIfTI file; one ``Skip`` per broken one.

    Args:
        refs: files classified "nifti".
        sidecars: JSON sidecars keyed by their member path without ".json" (the NIfTI's member path without
            ".nii"/".nii.gz" finds its own). ``.bval`` files are looked up beside the image in its container
            (or in ``sidecars`` under the key ``<stem>.bval`` when the caller puts them there).
        options: salt, include_phi and header limits.

    Returns:
        Records (headers only, no pixels read beyond an integrity check of the file length) and skips.
    """
    records: list[SeriesRecord] = []
    skips: list[Skip] = []
    members: dict[str, set[str]] = {}  # container -> member names, to find .bval files in archives
    for ref in refs:
        try:
            records.append(_scan_one(ref, sidecars, options, members, skips))
        except ValueError as e:
            skips.append(Skip(ref.display, str(e), level="failed"))
        except (OSError, EOFError, zlib.error) as e:
            skips.append(Skip(ref.display, f"unreadable NIfTI: {e}", level="failed"))
        except _Skipped as e:
            skips.append(Skip(ref.display, str(e), level="skipped"))
    return records, skips


def load_nifti(record: SeriesRecord) -> np.ndarray:
    """Pixels of a NIfTI record: float32 ``[S, R, C]`` (``[B, S, R, C]`` for multi-volume DWI), scaling applied.

    Raises:
        ValueError: unreadable file, shape not that of the record, all-zero volume, or no finite voxel (a few
            NaN/inf voxels, as resampled images have outside their field of view, are set to 0 with a warning).
    """
    ref = record.files[0]
    try:
        img = _load_image(ref)
        hdr = img.header
        dims = tuple(int(d) for d in hdr.get_data_shape())
        dims3 = (dims + (1, 1, 1))[:3]
        vols = dims[3] if len(dims) > 3 else 1
        proxy = img.dataobj
        if len(dims) < 3:
            data = np.asarray(proxy, dtype=np.float32).reshape(dims3)[..., None]  # [C, R, 1, 1]
        elif vols > 1 and record.b_values:
            data = np.asarray(proxy, dtype=np.float32).reshape(dims3 + (vols,))  # [C, R, S, B]
        else:
            data = np.asarray(proxy[..., 0] if len(dims) > 3 else proxy, dtype=np.float32)
            data = data.reshape(dims3)[..., None]  # [C, R, S, 1]
    except (OSError, EOFError, zlib.error, nib.filebasedimages.ImageFileError) as e:
        raise ValueError(f"unreadable NIfTI pixels: {e}") from None
    except ValueError as e:
        raise ValueError(f"unreadable NIfTI pixels: {e}") from None
    if _slice_flip(_affine_ras(hdr)):
        data = data[:, :, ::-1]
    out = np.ascontiguousarray(np.transpose(data, (3, 2, 1, 0)))  # [B, S, R, C]
    if out.shape[1:] != tuple(record.shape):
        raise ValueError(f"NIfTI now holds {out.shape[1:]} voxels, the record says {tuple(record.shape)}; rescan")
    finite = np.isfinite(out)
    if not finite.any():
        raise ValueError("NaN volume: no finite voxel")
    if not np.any(out[finite]):
        raise ValueError("all-zero volume")
    if not finite.all():  # resampled/processed images mark outside-FOV voxels with NaN: background, not data
        log.warning("%s: %d NaN/inf voxels set to 0", ref.display, int(finite.size - finite.sum()))
        out = np.where(finite, out, np.float32(0))
    return out if out.shape[0] > 1 else out[0]


class _Skipped(Exception):
    """An expected, not broken, reason to leave a file out (e.g. a non-MR image)."""


def _scan_one(ref: FileRef, sidecars: dict[str, FileRef], options: ScanOptions,
              members: dict[str, set[str]], skips: list[Skip]) -> SeriesRecord:
    hdr = _read_header(ref)
    if 3000 <= int(hdr["intent_code"]) < 3100:
        raise _Skipped("CIFTI-2 file (surface or connectivity data, not an image volume)")
    dims, zooms = _check_header(hdr, options)
    _check_length(ref, hdr, dims)
    stem = _stem(ref.member)
    side = _read_sidecar(sidecars.get(stem), skips)
    if side.get("Modality") not in (None, "", "MR"):
        raise _Skipped(f"modality {side['Modality']} is not MR")
    ents, suffix = bids_entities(ref.name)
    vols = dims[3] if len(dims) > 3 else 1
    b_values: tuple[int, ...] = ()
    bval = sidecars.get(stem + ".bval") or _beside(ref, stem + ".bval", members)
    if bval is not None:
        b_values = _read_bval(bval)
        if len(b_values) != vols:
            raise ValueError(f"{bval.name} lists {len(b_values)} b-values but the image has {vols} volume(s)")
    elif vols > 1:
        log.warning("%s: 4D image without .bval; only the first of %d volumes is used", ref.display, vols)

    tr, te, ti = (_ms(side.get(k), m) for k, m in (("RepetitionTime", 100), ("EchoTime", 1), ("InversionTime", 10)))
    contrast = str(side.get("ContrastBolusAgent") or side.get("ContrastBolusIngredient") or "")
    if side:
        seq, evidence, post, fat = infer_sequence(
            description=str(side.get("SeriesDescription", "")), protocol=str(side.get("ProtocolName", "")),
            scanning_sequence=_multi(side.get("ScanningSequence")), sequence_variant=_multi(side.get("SequenceVariant")),
            scan_options=_multi(side.get("ScanOptions")), image_type=_multi(side.get("ImageType")),
            tr=tr, te=te, ti=ti, flip=finite_float(side.get("FlipAngle")), contrast_agent=contrast, b_values=b_values,
            pulse_sequence_name=str(side.get("SequenceName") or side.get("PulseSequenceName") or ""))
    else:
        seq, evidence, post, fat = "other", "", False, False
    if seq == "other":
        fseq, fpost, ffat = sequence_from_filename(ents, suffix)
        if fseq != "other" or not side:
            seq, evidence, post, fat = fseq, "filename", post or fpost, fat or ffat
    if len(b_values) > 1:
        seq = "DWI"
    post = post or "ce" in ents

    affine_ras = _affine_ras(hdr)
    lps = RAS_TO_LPS @ affine_ras
    if _slice_flip(affine_ras):
        lps[:3, 3] += (dims[2] - 1) * lps[:3, 2]
        lps[:3, 2] *= -1
    salt = options.salt
    sub = ents.get("sub") or _folder_entity(ref.member, "sub")
    ses = ents.get("ses") or _folder_entity(ref.member, "ses")
    study_uid = str(side.get("StudyInstanceUID") or "")
    session = f"sub-{sub}/ses-{ses}" if sub and ses else (f"sub-{sub}" if sub else str(PurePosixPath(ref.member).parent))
    study_key = hash_id(salt, study_uid) if study_uid else hash_id(salt, "nifti-session:" + session)
    series_uid = str(side.get("SeriesInstanceUID") or "")
    accession = str(side.get("AccessionNumber") or "")
    patient = str(side.get("PatientID") or sub or "")
    phi = {}
    if options.include_phi:
        phi = {k: v for k, v in (("PatientID", patient), ("StudyInstanceUID", study_uid),
                                 ("SeriesInstanceUID", series_uid), ("AccessionNumber", accession),
                                 ("PatientName", str(side.get("PatientName") or "")),
                                 ("PatientBirthDate", str(side.get("PatientBirthDate") or "")),
                                 ("session", display_text(session)), ("path", display_text(ref.member))) if v}
    number = side.get("SeriesNumber")
    # identifiers a stored path must not show: the sidecar's (dcm2niix keeps them unless told not to) and the BIDS
    # subject label, which is the patient's ID in all but name
    ids = identifier_values(lambda k: side.get(k) if isinstance(side.get(k), (str, int, list)) else None)
    if sub:
        ids += (("BIDSSubject", str(sub)),)
    return SeriesRecord(
        key=hash_id(salt, "nifti:" + ref.member), source="nifti", layout="nifti", files=(ref,),
        study_key=study_key, series_uid_hash=hash_id(salt, series_uid), patient_key=hash_id(salt, patient),
        accession_hash=hash_id(salt, accession), modality="MR", sequence=seq, sequence_evidence=evidence,
        post_contrast=bool(post), fat_suppressed=bool(fat), plane=plane_of(lps),
        shape=(int(dims[2]), int(dims[1]), int(dims[0])),
        spacing=(float(zooms[2]), float(zooms[1]), float(zooms[0])),
        affine_lps=tuple(tuple(float(v) for v in row) for row in lps), b_values=b_values,
        manufacturer=str(side.get("Manufacturer") or ""), model=str(side.get("ManufacturersModelName") or ""),
        field_strength=finite_float(side.get("MagneticFieldStrength")), body_part=str(side.get("BodyPartExamined") or ""),
        series_description=str(side.get("SeriesDescription") or ""),
        study_description=str(side.get("StudyDescription") or ""), protocol_name=str(side.get("ProtocolName") or ""),
        series_number=int(number) if isinstance(number, (int, float)) else None,
        repetition_time=tr, echo_time=te, inversion_time=ti, laterality=str(side.get("Laterality") or ""), phi=phi,
        stored_path=redact_path(ref.display, salt, ids), path_ids=ids)


def bids_entities(name: str) -> tuple[dict[str, str], str]:
    """BIDS ``key-value`` entities and suffix of a file name: ``sub-1_ce-gd_T1w.nii.gz`` -> ({sub, ce}, "T1w")."""
    base = _stem(name)
    ents, suffix = {}, ""
    for part in base.split("_"):
        if "-" in part:
            k, v = part.split("-", 1)
            ents[k.lower()] = v
        else:
            suffix = part
    return ents, suffix


def sequence_from_filename(ents: dict[str, str], suffix: str) -> tuple[str, bool, bool]:
    """(sequence, post_contrast, fat_suppressed) from BIDS entities and suffix; "other" when the suffix is unknown."""
    seq = SUFFIX_SEQUENCE.get(suffix.lower(), "other")
    acq = ents.get("acq", "").lower()
    post = "ce" in ents
    fat = any(t in acq for t in FAT_SAT_TOKENS) or "stir" in acq
    if seq == "DWI" and "adc" in (ents.get("rec", "") + acq).lower():
        seq = "ADC"
    elif "stir" in acq and seq in ("T2", "PD", "T1"):
        seq = "STIR"
    elif fat and seq in ("T2", "PD"):
        seq += "FS"
    elif post and seq == "T1":
        seq = "T1C"
    return seq, post, fat


def plane_of(affine_lps: np.ndarray) -> str:
    """Plane nearest to the slice normal (column x row direction), "oblique" beyond 30 degrees off every axis."""
    n = np.cross(affine_lps[:3, 0], affine_lps[:3, 1])
    norm = np.linalg.norm(n)
    if not norm:
        return "oblique"
    n = np.abs(n / norm)
    axis = int(np.argmax(n))
    if n[axis] < np.cos(np.radians(30)):
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def _stem(member: str) -> str:
    for ext in _EXTS:
        if member.lower().endswith(ext):
            return member[: -len(ext)]
    return member


def _folder_entity(member: str, key: str) -> str:
    for part in PurePosixPath(member).parts[:-1]:
        if part.startswith(key + "-"):
            return part[len(key) + 1:]
    return ""


def _read_header(ref: FileRef):
    """Nifti1/Nifti2 header from the first bytes of the file (gunzipped on the fly)."""
    with ref.open() as f:
        stream = gzip.GzipFile(fileobj=f) if ref.name.lower().endswith(".gz") else f
        try:
            buf = stream.read(540)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"truncated or damaged .nii.gz ({e})") from None
    if len(buf) < 348:
        raise ValueError(f"not a NIfTI file: only {len(buf)} bytes, a header needs 348")
    size = {int.from_bytes(buf[:4], "little"), int.from_bytes(buf[:4], "big")}
    klass = nib.Nifti1Header if 348 in size else nib.Nifti2Header if 540 in size else None
    if klass is None:
        raise ValueError("not a NIfTI file (header size field is neither 348 nor 540)")
    try:
        hdr = klass.from_fileobj(io.BytesIO(buf), check=False)  # no silent fixes: we check ourselves
    except Exception as e:  # nibabel's HeaderDataError / ValueError / struct errors for a damaged header
        raise ValueError(f"damaged NIfTI header: {e}") from None
    magic = bytes(hdr["magic"]).rstrip(b"\x00")
    if magic in (b"ni1", b"ni2"):
        raise ValueError("NIfTI header/image pair (.hdr/.img) is not supported; convert to a single .nii")
    return hdr


def _check_header(hdr, options: ScanOptions) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Shape and voxel size, refusing absurd or unusable headers."""
    dims = tuple(int(d) for d in hdr.get_data_shape())
    if any(d <= 0 for d in dims):
        raise ValueError(f"absurd header: image dimensions {dims}")
    if len(dims) > 4 and any(d > 1 for d in dims[4:]):
        raise ValueError(f"{len(dims)}D NIfTI (dimensions {dims}) is not supported")
    dims = (dims + (1, 1))[: max(3, min(len(dims), 4))]
    if dims[0] > options.max_matrix or dims[1] > options.max_matrix:
        raise ValueError(f"absurd header: {dims[0]} x {dims[1]} matrix exceeds ScanOptions.max_matrix "
                         f"({options.max_matrix})")
    if dims[2] > options.max_slices or (len(dims) > 3 and dims[3] > options.max_slices):
        raise ValueError(f"absurd header: {dims[2:]} slices/volumes exceed ScanOptions.max_slices ({options.max_slices})")
    dtype = hdr.get_data_dtype()
    if dtype.kind not in "iuf" or dtype.fields:
        raise ValueError(f"unsupported NIfTI data type {dtype} (complex or RGB images are not MR magnitude)")
    voxels = int(np.prod(dims, dtype=np.int64))
    if voxels > options.max_voxels:
        raise ValueError(f"absurd header: {voxels} voxels ({' x '.join(map(str, dims))}) exceed "
                         f"ScanOptions.max_voxels ({options.max_voxels})")
    zooms = tuple(float(z) for z in hdr.get_zooms()[:3]) + (1.0,) * max(0, 3 - len(hdr.get_zooms()))
    if not all(np.isfinite(z) and z > 0 for z in zooms):
        raise ValueError(f"zero or NaN voxel size {zooms} in the header")
    if min(zooms) < MIN_SPACING_MM:
        raise ValueError(f"spacing {min(zooms):g} mm is below the {MIN_SPACING_MM} mm floor (a broken header)")
    if not np.all(np.isfinite(_affine_ras(hdr))) or abs(np.linalg.det(_affine_ras(hdr)[:3, :3])) < 1e-9:
        raise ValueError("unusable orientation: the sform/qform matrix is singular or not finite")
    return dims, zooms


DEFLATE_MAX_RATIO = 1032  # deflate's largest expansion (258-byte matches in about 2 bits each; zlib's technical notes)


def _check_length(ref: FileRef, hdr, dims: tuple[int, ...]) -> None:
    """Refuse a truncated file: the data must reach vox_offset + voxels x bytes (gzip: checked via its trailer)."""
    need = int(hdr.get_data_offset()) + int(np.prod(dims)) * hdr.get_data_dtype().itemsize
    if not ref.name.lower().endswith(".gz"):
        have = ref.size or _size(ref)
        if have < need:
            raise ValueError(f"truncated NIfTI: {have} bytes, the header needs {need}")
        return
    with ref.open() as f:
        f.seek(0, io.SEEK_END)
        compressed = f.tell()
        if need > compressed * DEFLATE_MAX_RATIO:  # deflate cannot expand more than this: the header lies
            raise ValueError(f"truncated or lying .nii.gz: the header needs {need} bytes, more than its "
                             f"{compressed} compressed bytes can hold")
        if compressed >= 18 and need < 2**32:  # gzip ISIZE is the size mod 2^32: a fast path only below that
            f.seek(-4, io.SEEK_END)
            if int.from_bytes(f.read(4), "little") == need:
                return
        f.seek(0)
        total = 0
        try:
            with gzip.GzipFile(fileobj=f) as gz:
                while chunk := gz.read(1 << 22):
                    total += len(chunk)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"truncated or damaged .nii.gz ({e})") from None
    if total < need:
        raise ValueError(f"truncated NIfTI: {total} bytes after decompression, the header needs {need}")


def _size(ref: FileRef) -> int:
    with ref.open() as f:
        return f.seek(0, io.SEEK_END)


def _affine_ras(hdr) -> np.ndarray:
    return np.asarray(hdr.get_best_affine(), dtype=np.float64)


def _slice_flip(affine_ras: np.ndarray) -> bool:
    """True when the slice axis runs against column x row in LPS (a DICOM reader would order slices the other way)."""
    lps = RAS_TO_LPS @ affine_ras
    return float(np.dot(np.cross(lps[:3, 0], lps[:3, 1]), lps[:3, 2])) < 0


def _load_image(ref: FileRef):
    if ref.kind == "dir":
        return nib.load(ref.path)
    with ref.open() as f:
        data = f.read()
    if ref.name.lower().endswith(".gz"):
        data = gzip.decompress(data)
    klass = nib.Nifti2Image if int.from_bytes(data[:4], "little") == 540 or \
        int.from_bytes(data[:4], "big") == 540 else nib.Nifti1Image
    return klass.from_bytes(data)


def _read_sidecar(ref: FileRef | None, skips: list[Skip]) -> dict:
    if ref is None:
        return {}
    try:
        with ref.open() as f:
            d = json.loads(f.read().decode("utf-8-sig"))
        if not isinstance(d, dict):
            raise ValueError("not a JSON object")
        return d
    except (OSError, ValueError, UnicodeDecodeError) as e:
        skips.append(Skip(ref.display, f"unreadable JSON sidecar ignored ({e}); metadata from the file name",
                          level="failed"))
        return {}


def _beside(ref: FileRef, member: str, members: dict[str, set[str]]) -> FileRef | None:
    """A file next to ``ref`` in the same folder/zip/tar, or None."""
    if ref.kind == "dir":
        p = Path(ref.container) / member
        return FileRef(ref.container, member, "dir", p.stat().st_size) if p.is_file() else None
    if ref.container not in members:
        members[ref.container] = set()
        try:
            if ref.kind == "zip":
                with zipfile.ZipFile(ref.container) as zf:
                    members[ref.container] = set(zf.namelist())
            else:
                with tarfile.open(ref.container) as tf:
                    members[ref.container] = {m.name for m in tf.getmembers() if m.isreg()}
        except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as e:  # the lister already said why
            log.warning("%s: cannot look for .bval files (%s)", ref.container, e)
    return FileRef(ref.container, member, ref.kind) if member in members[ref.container] else None


def _read_bval(ref: FileRef) -> tuple[int, ...]:
    with ref.open() as f:
        text = f.read(1 << 20).decode("ascii", errors="replace")
    try:
        return tuple(int(round(float(v))) for v in text.split())
    except ValueError:
        raise ValueError(f"{ref.name} is not a list of b-values") from None


def _ms(value, seconds_max: float) -> float | None:
    """BIDS seconds -> ms; a value above ``seconds_max`` cannot be seconds and is taken as already in ms (as some
    converters write it)."""
    v = finite_float(value)
    if v is None:
        return None
    return round(v if v > seconds_max else v * 1000.0, 6)


def _multi(value) -> str:
    """DICOM multi-values as the sidecar gives them (a list, or "SE_IR") -> backslash-joined like a DICOM header."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "\\".join(str(v) for v in value)
    return str(value).replace("_", "\\") if "\\" not in str(value) else str(value)
