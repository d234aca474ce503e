"""Issue 20: peak RSS <= 2 GB while reading any single input of the reliability corpus (``hostile``).

Each case is built into a folder of its own and read as an index run reads it: ``scan_archive`` (headers, reports,
containers), then ``load_series`` of every series it accepts. One subprocess reads them one after another and
resets its peak RSS before each (``/proc/self/clear_refs`` "5", Linux >= 4.0), so that the VmHWM read after a case
is the peak of that case alone (plus what the process held before it, which only makes the figure larger). Where
the reset is not supported, each case gets a subprocess of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .hostile import (
    ADVERSARIAL_REPORTS,
    PEAK,
    control_char_tree,
    copy_series,
    deflated_series,
    dicom_slice,
    lying_niigz,
    many_member_targz,
    many_member_zip,
    non_utf8_tree,
    nul_report_parquet,
    rmtree,
    symlink_loop,
    tiny_spacing_nifti,
    unreadable_folder,
)

RSS_LIMIT_MB = 2048
MEMBERS = 200  # zip and tar members: copies of one slice (a stack of duplicates, refused); 3000 took 20 s to scan


def _reports(name: str):
    def build(folder: Path, series: list[Path]) -> None:
        copy_series(series, folder / "study", name)
        (folder / "study" / "report.txt").write_text(ADVERSARIAL_REPORTS[name])
    return build


CASES = {  # name -> builder(folder, good series); the bomb and the huge NIfTI are the session's (conftest)
    "non_utf8_names": lambda d, s: non_utf8_tree(d, s),
    "control_char_names": lambda d, s: control_char_tree(d, s),
    "deflated_series": lambda d, s: deflated_series(d),
    "zip_members": lambda d, s: many_member_zip(d / "m.zip", MEMBERS, dicom_slice(None, 16, 16)),
    "targz_members": lambda d, s: many_member_targz(d / "m.tar.gz", MEMBERS, dicom_slice(None, 16, 16)),
    **{f"report_{name}": _reports(name) for name in ADVERSARIAL_REPORTS},
    "nul_report_cell": lambda d, s: (copy_series(s, d / "a", "a", "ACC1"), copy_series(s, d / "b", "b", "ACC2"),
                                     nul_report_parquet(d, "ACC1", "ACC2")),
    "symlink_loop": lambda d, s: symlink_loop(d),
    "lying_niigz": lambda d, s: lying_niigz(d / "lie.nii.gz"),
    "tiny_spacing": lambda d, s: tiny_spacing_nifti(d / "tiny.nii"),
    "unreadable_folder": lambda d, s: unreadable_folder(d / "locked"),
}

CONTAINERS = {"zip_members", "targz_members"}  # read as the archive itself (in a folder, a zip is not opened)

# reads each folder of argv[1] (a JSON object name -> folder); prints name -> [peak MB, series, skipped]
READ = PEAK + """
import json, sys, pathlib
from mri_search.ingest.archive import load_series, scan_archive
def reset():
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
out = {}
for name, folder in json.loads(sys.argv[1]).items():
    reset()
    r = scan_archive(pathlib.Path(folder))
    for rec in r.series:
        load_series(rec)
    out[name] = [peak_mb(), len(r.series), len(r.skipped)]
    del r
print(json.dumps(out))
"""


def _read(folders: dict[str, str]) -> dict[str, list]:
    done = subprocess.run([sys.executable, "-c", READ, json.dumps(folders)], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _reset_works() -> bool:
    code = (PEAK + "import numpy as np; a = np.ones(64 * 2**20); before = peak_mb(); del a; "
            "open('/proc/self/clear_refs', 'w').write('5'); print(before - peak_mb() > 400)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    return done.returncode == 0 and done.stdout.strip() == "True"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, series, bomb, huge_nifti) -> dict[str, str]:
    """Every case: name -> the folder or container to read."""
    root = tmp_path_factory.mktemp("corpus")
    paths = {"deflate_bomb": str(bomb.parent), "huge_nifti_header": str(huge_nifti.parent)}  # shared, built once
    for name, build in CASES.items():
        (root / name).mkdir()
        made = build(root / name, series)
        paths[name] = str(made if name in CONTAINERS else root / name)
    yield paths
    rmtree(root)


def test_every_corpus_input_is_read_under_2_gb(corpus):
    peaks = _read(corpus) if _reset_works() else {k: _read({k: v})[k] for k, v in corpus.items()}
    assert set(peaks) == set(CASES) | {"deflate_bomb", "huge_nifti_header"}
    over = {name: mb for name, (mb, _, _) in peaks.items() if not mb < RSS_LIMIT_MB}
    assert not over, f"peak RSS over {RSS_LIMIT_MB} MB: {over}"
    assert peaks["deflated_series"][1] == 1 and peaks["deflate_bomb"][1:] == [0, 1]  # read, and refused
    assert peaks["huge_nifti_header"][1:] == [0, 1]
