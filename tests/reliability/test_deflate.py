"""Case 5 of issue 20: deflated DICOM. A legitimate Deflated Explicit VR Little Endian series reads (headers and
pixels as written); a deflate bomb is refused for that reason, before it is inflated, with a bounded peak RSS
measured in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pydicom

from mri_search.ingest.archive import load_series, scan_archive

from .hostile import PEAK, deflated_series

RSS_LIMIT_MB = 2048


def test_legitimate_deflated_series_reads(tmp_path):
    paths = deflated_series(tmp_path / "defl")
    assert pydicom.dcmread(paths[0]).file_meta.TransferSyntaxUID == pydicom.uid.DeflatedExplicitVRLittleEndian
    result = scan_archive(tmp_path / "defl")
    assert [s for s in result.skipped if s.level == "failed"] == []
    [rec] = result.series
    assert rec.shape == (4, 32, 32)
    vol = load_series(rec)
    want = np.stack([pydicom.dcmread(p).pixel_array for p in paths]).astype(np.float32)  # pydicom's own inflate
    assert vol.shape == want.shape and np.array_equal(vol, want)


def test_deflate_bomb_is_refused_for_that_reason_with_bounded_memory(bomb):
    assert bomb.stat().st_size < 2 * 1024**2
    code = (PEAK + "import json, sys; from mri_search.ingest.archive import scan_archive; "
            "r = scan_archive(__import__('pathlib').Path(sys.argv[1])); "
            "print(json.dumps({'series': len(r.series), 'skipped': [[s.level, s.reason] for s in r.skipped], "
            "'rss_mb': peak_mb()}))")
    out = subprocess.run([sys.executable, "-c", code, str(bomb.parent)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["series"] == 0
    [(level, reason)] = got["skipped"]
    assert level == "failed" and "deflate bomb" in reason and "PixelData" not in reason
    assert got["rss_mb"] < RSS_LIMIT_MB
