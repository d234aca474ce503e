"""Issue 20's smaller findings on sizes: a ``.nii.gz`` whose header lies by a multiple of 2^32 bytes, a series past
the voxel cap (refused from its header, before any decompression, with a bounded peak RSS), and a voxel size below
the physical floor (refused with that reason, not "applying transform")."""

from __future__ import annotations

import json
import subprocess
import sys

from mri_search.ingest.archive import scan_archive
from mri_search.ingest.config import ScanOptions

from .hostile import PEAK, dicom_slice, lying_niigz, tiny_spacing_nifti


def _failed(result) -> list[str]:
    return [s.reason for s in result.skipped if s.level == "failed"]


def test_niigz_lying_by_a_multiple_of_2_32_is_refused(tmp_path):
    f = lying_niigz(tmp_path / "lie.nii.gz")
    assert f.stat().st_size < 100
    result = scan_archive(tmp_path)
    assert result.series == [] and len(_failed(result)) == 1
    # the voxel cap speaks first; without it, the length check (no longer fooled by ISIZE mod 2^32) does
    loose = scan_archive(tmp_path, ScanOptions(max_voxels=2**40, max_matrix=8192, max_slices=8192))
    assert loose.series == [] and "lying .nii.gz" in _failed(loose)[0]


def test_voxel_cap_refuses_from_the_header_with_bounded_memory(huge_nifti):
    code = (PEAK + "import json, sys, pathlib; from mri_search.ingest.archive import scan_archive; "
            "r = scan_archive(pathlib.Path(sys.argv[1])); "
            "print(json.dumps({'series': len(r.series), 'failed': [s.reason for s in r.skipped], "
            "'rss_mb': peak_mb()}))")
    out = subprocess.run([sys.executable, "-c", code, str(huge_nifti.parent)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["series"] == 0 and len(got["failed"]) == 1 and "max_voxels" in got["failed"][0]
    assert got["rss_mb"] < 2048


def test_dicom_series_past_the_voxel_cap(tmp_path):
    for i in range(5):
        dicom_slice(tmp_path / f"IM{i}", 32, 32, i, "1.2.3.50")
    result = scan_archive(tmp_path, ScanOptions(max_voxels=4 * 32 * 32))
    assert result.series == [] and any("max_voxels" in r for r in _failed(result))
    assert len(scan_archive(tmp_path).series) == 1  # the default cap lets it through


def test_spacing_below_the_floor_says_so(tmp_path):
    tiny_spacing_nifti(tmp_path / "tiny.nii")
    result = scan_archive(tmp_path)
    assert result.series == []
    [why] = _failed(result)
    assert "spacing 1e-06 mm is below the 0.05 mm floor" in why and "applying transform" not in why
