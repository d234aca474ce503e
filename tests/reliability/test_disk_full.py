"""Case 2 of issue 20: a full disk. On a real small filesystem (a tmpfs mounted for the test, so root only) an
index run that lacks the space stops with one line and exit 2, not the engine's SIGBUS (rc 135, measured before
this check); the index folder stays openable; once space is freed, the same command completes with every series
once."""

from __future__ import annotations

import os
import subprocess

import pytest
from typer.testing import CliRunner

from mri_search.cli import app
from mri_search.ingest.archive import scan_archive
from mri_search.store.edge import EdgeStore


@pytest.fixture()
def small_fs(tmp_path):
    """A 400 MiB tmpfs (the engine's 320 MiB reserve and some), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "fs"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400m", "tmpfs", str(mnt)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_stops_in_one_line_and_the_rerun_resumes(small_fs, archive, model_dir):
    ballast = small_fs / "ballast"
    with open(ballast, "wb") as f:
        os.posix_fallocate(f.fileno(), 0, 150 * 1024**2)  # about 250 MiB left: under the reserve
    db = small_fs / "db"
    cmd = ["index", str(archive), "--db", str(db), "--model", str(model_dir), "--workers", "0", "--no-progress"]
    runner = CliRunner()
    res = runner.invoke(app, cmd)
    assert res.exit_code == 2, res.output
    assert "not enough disk space" in res.output and "run the same command again" in res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    with EdgeStore(db) as store:  # openable, nothing half-created
        assert store.list_collections() == [] and store.damaged_collections() == []
    ballast.unlink()
    res = runner.invoke(app, cmd + ["--json"])
    assert res.exit_code == 0, res.output
    n = len(scan_archive(archive).series)
    with EdgeStore(db) as store:
        (name,) = store.list_collections()
        ids = [p.id for p in store.open_collection(name).scroll()]
    assert len(ids) == len(set(ids)) == n


def test_a_disk_filled_after_indexing_gives_one_line_for_query_and_index(small_fs, archive, model_dir):
    """The disk fills up after the index was built: `query` and `index` on it said nothing and died with SIGBUS
    (rc 135, measured) as the engine touched its memory-mapped files; now each says it in one line (exit 2), and
    both work again once space is freed."""
    db = small_fs / "db"
    runner = CliRunner()
    index = ["index", str(archive), "--db", str(db), "--model", str(model_dir), "--workers", "0", "--no-progress"]
    query = ["query", "knee", "--db", str(db), "--model", str(model_dir), "--text-encoder", "torch", "-k", "2"]
    assert runner.invoke(app, index).exit_code == 0
    ballast = small_fs / "ballast"
    with open(ballast, "wb") as f:  # every byte left
        try:
            while True:
                f.write(bytes(1 << 20))
                f.flush()
        except OSError:
            pass
    for cmd in (query, index):
        res = runner.invoke(app, cmd)
        assert res.exit_code == 2 and "is full" in res.output and "free some space" in res.output, res.output
        assert len(res.output.strip().splitlines()) == 1
    ballast.unlink()
    res = runner.invoke(app, query)
    assert res.exit_code == 0 and len(res.stdout.strip().splitlines()) == 4, res.output  # header, rule, 2 hits
