"""Builders of the hostile inputs of the reliability corpus: each writes one small file or folder and returns it.

Kept apart from the tests so that the before/after measurement of issue 20 and the tests build the very same inputs.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian


def copy_series(files: list[Path], dest: Path, tag: str, accession: str = "") -> list[Path]:
    """Copy a DICOM series under a new SeriesInstanceUID (so it is a separate series) into ``dest``; with
    ``accession``, also into a study of its own with that AccessionNumber."""
    os.makedirs(dest, exist_ok=True)
    uid = pydicom.uid.generate_uid(entropy_srcs=[tag])
    out = []
    for i, f in enumerate(files):
        ds = pydicom.dcmread(f)
        ds.SeriesInstanceUID = uid
        if accession:
            ds.AccessionNumber = accession
            ds.StudyInstanceUID = pydicom.uid.generate_uid(entropy_srcs=[tag, "study"])
        ds.SOPInstanceUID = pydicom.uid.generate_uid(entropy_srcs=[tag, str(i)])
        p = Path(dest) / f"IM{i:04d}"  # a surrogate-escaped str names a non-UTF-8 folder exactly
        ds.save_as(p)
        out.append(p)
    return out


def non_utf8_tree(root: Path, series: list[Path]) -> Path:
    """``root/P\\xff/`` (a folder name that is not UTF-8) holding a good series, and a good series beside it."""
    bad = os.path.join(os.fsencode(root), b"P\xff")
    os.makedirs(bad)
    copy_series(series, Path(os.fsdecode(bad)), "non-utf8")
    copy_series(series, root / "good", "good")
    return root


def control_char_tree(root: Path, series: list[Path]) -> Path:
    """A good series in ``root/ok``, and broken files whose names hold a tab and a newline."""
    copy_series(series, root / "ok", "ok")
    (root / "bad\tname").mkdir(parents=True)
    (root / "bad\tname" / "x\nfailed\tforged\t\tforged row.dcm").write_bytes(b"not a dicom file at all" * 10)
    return root


def dicom_slice(path: Path, rows: int = 16, cols: int = 16, index: int = 0, series_uid: str = "1.2.3.4",
                syntax=ExplicitVRLittleEndian) -> bytes:
    """One small valid MR slice (random pixels) written by pydicom with ``syntax``; returns its bytes."""
    meta = pydicom.dataset.FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    meta.MediaStorageSOPInstanceUID = f"{series_uid}.{index + 1}"
    meta.TransferSyntaxUID = syntax
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "MR", "P1", "1.2.3", series_uid
    ds.SeriesDescription, ds.SeriesNumber, ds.InstanceNumber = "T2 AX", 1, index + 1
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, float(index)], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SliceThickness = [1, 1], 1
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, cols, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    rng = np.random.default_rng(index)
    ds.PixelData = rng.integers(1, 4000, (rows, cols), dtype=np.uint16).tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    data = buf.getvalue()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
    return data


def deflated_series(folder: Path, n: int = 4) -> list[Path]:
    """A legitimate Deflated Explicit VR Little Endian series of ``n`` slices written by pydicom."""
    paths = [folder / f"DEFL{i:03d}.dcm" for i in range(n)]
    for i, p in enumerate(paths):
        dicom_slice(p, 32, 32, i, "1.2.3.99", DeflatedExplicitVRLittleEndian)
    return paths


def deflate_bomb(path: Path, inflated_bytes: int = 1200 * 1024**2) -> Path:
    """A deflated-syntax DICOM whose dataset inflates to ``inflated_bytes`` (1.2 GB by default) of zeros: an MR header
    announcing a huge matrix, then a PixelData of zeros; the file itself is about 1/1000 of that."""
    side = 4096
    frames = max(1, inflated_bytes // (side * side * 2))
    head = io.BytesIO()
    meta = pydicom.dataset.FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    meta.MediaStorageSOPInstanceUID = "1.2.3.4.5"
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    head.write(b"\0" * 128 + b"DICM")  # preamble + file meta only: the one deflate stream is written below
    pydicom.filewriter.write_file_meta_info(head, meta, enforce_standard=True)
    body = pydicom.Dataset()
    body.SOPClassUID, body.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    body.Modality, body.SeriesInstanceUID, body.StudyInstanceUID = "MR", "1.2.3.4", "1.2.3"
    body.Rows, body.Columns, body.NumberOfFrames = side, side, frames
    body.ImagePositionPatient, body.ImageOrientationPatient, body.PixelSpacing = [0, 0, 0], [1, 0, 0, 0, 1, 0], [1, 1]
    body.SamplesPerPixel, body.PhotometricInterpretation = 1, "MONOCHROME2"
    body.BitsAllocated, body.BitsStored, body.HighBit, body.PixelRepresentation = 16, 16, 15, 0
    enc = io.BytesIO()
    out = pydicom.filebase.DicomFileLike(enc)
    out.is_implicit_VR, out.is_little_endian = False, True
    pydicom.filewriter.write_dataset(out, body)  # explicit VR little endian
    n_pixels = frames * side * side * 2
    raw = enc.getvalue() + struct.pack("<HH", 0x7FE0, 0x0010) + b"OW\x00\x00" + struct.pack("<I", n_pixels)
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    with open(path, "wb") as f:
        f.write(head.getvalue())
        f.write(comp.compress(raw))
        chunk = bytes(16 * 1024**2)
        left = n_pixels
        while left:
            step = min(left, len(chunk))
            f.write(comp.compress(chunk[:step]))
            left -= step
        f.write(comp.flush())
    return path


def many_member_zip(path: Path, n: int, template: bytes) -> Path:
    """A zip of ``n`` small members (copies of ``template`` named like DICOM slices in folders of 100)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(n):
            zf.writestr(f"S{i // 100:04d}/IM{i % 100:04d}", template)
    return path


def many_member_targz(path: Path, n: int, template: bytes) -> Path:
    """A ``.tar.gz`` of ``n`` small members, like ``many_member_zip``."""
    with tarfile.open(path, "w:gz") as tf:
        for i in range(n):
            info = tarfile.TarInfo(f"S{i // 100:04d}/IM{i % 100:04d}")
            info.size = len(template)
            tf.addfile(info, io.BytesIO(template))
    return path


ADVERSARIAL_REPORTS = {  # name -> a 1 MB report built to trigger backtracking in naive regexes
    "spaces": " " * 1_000_000,
    "bangs": "FINDINGS: " + ("!" * 30_000 + "x") * 33,
    "one_line": ("Liver: " + "a" * 40 + " 1. ") * 20_000,
    "colons": "A" * 39 + " :" * 500_000,
    "heading_spaces": "FINDINGS" + " " * 999_000 + "x",
    "dots": "." * 1_000_000,
}


def nul_report_parquet(folder: Path, nul_accession: str, good_accession: str) -> Path:
    """A ``reports.parquet`` whose report cell for ``nul_accession`` is "\\x00" and ``good_accession``'s is real."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    table = pa.table({"accession": [nul_accession, good_accession], "report": ["\x00", "FINDINGS: Normal study.\nIMPRESSION: Normal."]})
    pq.write_table(table, folder / "reports.parquet")
    return folder / "reports.parquet"


def symlink_loop(folder: Path) -> Path:
    """Two symbolic links pointing at each other, and one pointing at itself."""
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink("loop_b", folder / "loop_a")
    os.symlink("loop_a", folder / "loop_b")
    os.symlink("self", folder / "self")
    return folder


def nifti_bytes(shape: tuple[int, ...], zooms: tuple[float, ...] = (1.0, 1.0, 1.0), data: bool = True) -> bytes:
    """A NIfTI-1 file (uncompressed bytes) with ``shape`` int16 voxels; ``data=False`` gives the header only."""
    import nibabel as nib

    hdr = nib.Nifti1Header()
    hdr.set_data_shape(shape)
    hdr.set_data_dtype(np.int16)
    hdr.set_zooms(zooms[: len(shape)])
    hdr.set_qform(np.diag(list(zooms[:3]) + [1.0]), code=1)
    hdr.set_sform(np.diag(list(zooms[:3]) + [1.0]), code=1)
    buf = io.BytesIO()
    hdr.write_to(buf)
    buf.write(b"\x00" * (352 - buf.tell()))
    if data:
        rng = np.random.default_rng(0)
        buf.write(rng.integers(1, 1000, int(np.prod(shape)), dtype=np.int16).tobytes())
    return buf.getvalue()


def lying_niigz(path: Path) -> Path:
    """A tiny ``.nii.gz`` (under 100 bytes) whose header claims 4096^3 int16 voxels: 2^37 bytes, 0 mod 2^32."""
    path.write_bytes(gzip.compress(nifti_bytes((4096, 4096, 4096), data=False), mtime=0))
    return path


def huge_nifti_header(path: Path) -> Path:
    """A ``.nii.gz`` of 2048 x 2048 x 256 int16 voxels (2 GiB once loaded), compressed to a few MB (all zeros)."""
    shape = (2048, 2048, 256)
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    with open(path, "wb") as f:
        f.write(comp.compress(nifti_bytes(shape, data=False)))
        zeros = bytes(2048 * 2048 * 2)
        for _ in range(shape[2]):
            f.write(comp.compress(zeros))
        f.write(comp.flush())
    return path


def tiny_spacing_nifti(path: Path) -> Path:
    """A valid 16^3 NIfTI whose voxel spacing is 1e-06 mm."""
    path.write_bytes(nifti_bytes((16, 16, 16), zooms=(1e-6, 1e-6, 1e-6)))
    return path


def unreadable_folder(folder: Path) -> Path:
    """A folder with no permissions at all (read, list, enter) holding one file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "IM0001").write_bytes(b"x" * 200)
    os.chmod(folder, 0)
    return folder


def rmtree(path: Path) -> None:
    """Remove a corpus folder, restoring permissions first."""
    for dirpath, dirnames, _ in os.walk(path):
        for d in dirnames:
            try:
                os.chmod(os.path.join(dirpath, d), 0o755)
            except OSError:
                pass
    shutil.rmtree(path, ignore_errors=True)


# Code for a `python -c` subprocess: `peak_mb()` is the process's own peak RSS in MB. Not getrusage's ru_maxrss:
# Linux keeps it across execve, so a subprocess of a 2 GB pytest worker reports the worker's size; /proc's VmHWM
# belongs to the new address space alone.
PEAK = ("peak_mb = lambda: int(next(x for x in open('/proc/self/status') if x.startswith('VmHWM:')).split()[1]) "
        "/ 1024; ")
