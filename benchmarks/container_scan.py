"""``inspect`` of archives with many members: a zip of ``--zip-members`` (default 50,000) and a ``.tar.gz`` of
``--tar-members`` (default 5,000) tiny MR DICOM slices, scanned the way ``mri-search inspect`` scans them
(``scan_archive``: list, read every header, group into series).

The slices are real DICOM written by pydicom (8 x 8 pixels, 100 slices per series, parallel and evenly spaced), so
every member is opened and parsed; the same slices in a plain folder give the per-file cost as the baseline of the
same run. Target (issue 20): each archive in <= 60 s on 2 cores.

Run: ``python -m benchmarks.container_scan [--zip-members 50000] [--tar-members 5000] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

TARGET_S = 60.0
SLICES = 100  # per series


def slice_bytes(series: int, index: int) -> bytes:
    """One tiny MR slice of series ``series`` as DICOM bytes."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = MRImageStorage, meta.MediaStorageSOPInstanceUID, "MR"
    ds.StudyInstanceUID = f"2.25.{1000 + series // 10}"
    ds.SeriesInstanceUID = f"2.25.{100000 + series}"
    ds.PatientID, ds.SeriesNumber, ds.InstanceNumber = f"P{series // 10:05d}", series % 10 + 1, index + 1
    ds.SeriesDescription = "Ax T2"
    ds.Rows = ds.Columns = 8
    ds.PixelSpacing, ds.SliceThickness = [1.0, 1.0], 3.0
    ds.ImagePositionPatient = [0.0, 0.0, 3.0 * index]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = (np.full((8, 8), index, np.uint16)).tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def members(n: int):
    for i in range(n):
        yield f"s{i // SLICES:04d}/im{i % SLICES:03d}.dcm", slice_bytes(i // SLICES, i % SLICES)


def timed_scan(path: Path) -> dict:
    from mri_search.ingest.archive import scan_archive
    from mri_search.ingest.opened import close_all

    close_all()
    t0 = time.perf_counter()
    scan = scan_archive(path)
    s = time.perf_counter() - t0
    return {"seconds": round(s, 2), "series": len(scan.series), "skipped": len(scan.skipped),
            "files": sum(len(r.files) for r in scan.series)}


def run(args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="container-bench-"))
    out: dict = {"target_s": TARGET_S, "cpus": os.cpu_count(), "loadavg_before": os.getloadavg()[0]}
    try:
        z = tmp / "many.zip"
        with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in members(args.zip_members):
                zf.writestr(name, data)
        t = tmp / "many.tar.gz"
        folder = tmp / "folder"
        with tarfile.open(t, "w:gz") as tf:
            for name, data in members(args.tar_members):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(data)
        out["folder"] = {"members": args.tar_members, **timed_scan(folder)}
        out["zip"] = {"members": args.zip_members, "bytes": z.stat().st_size, **timed_scan(z)}
        out["tar_gz"] = {"members": args.tar_members, "bytes": t.stat().st_size, **timed_scan(t)}
        for k in ("zip", "tar_gz"):
            out[k]["target_met"] = out[k]["seconds"] <= TARGET_S
            out[k]["per_member_ms"] = round(1e3 * out[k]["seconds"] / out[k]["members"], 3)
        out["folder"]["per_member_ms"] = round(1e3 * out["folder"]["seconds"] / args.tar_members, 3)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zip-members", type=int, default=50_000)
    ap.add_argument("--tar-members", type=int, default=5_000)
    ap.add_argument("--json", type=Path, dest="json_out")
    args = ap.parse_args(argv)
    r = run(args)
    text = json.dumps(r, indent=2)
    if args.json_out:
        args.json_out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
