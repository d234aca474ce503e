"""Case 2 of issue 20: a full disk. On a real small filesystem (a tmpfs mounted for the test, so root only) an
index run that lacks the space stops with one line and exit 2, not the engine's SIGBUS (rc 135, measured before
this check); the index folder stays openable; once space is freed, the same command completes with every series
once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
    _fill(small_fs)
    for cmd in (query, index):
        res = runner.invoke(app, cmd)
        assert res.exit_code == 2 and "is full" in res.output and "free some space" in res.output, res.output
        assert len(res.output.strip().splitlines()) == 1
    (small_fs / "ballast").unlink()
    res = runner.invoke(app, query)
    assert res.exit_code == 0 and len(res.stdout.strip().splitlines()) == 4, res.output  # header, rule, 2 hits


def _writer_child(parent: int) -> int | None:
    """The pid of the child process that holds the embedded engine for the index run ``parent`` (store.child)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"mri_search.store.child" in cmdline:
            return int(entry)
    return None


def _fill(folder) -> None:
    with open(folder / "ballast", "wb") as f:  # every byte left
        try:
            while True:
                f.write(bytes(1 << 20))
                f.flush()
        except OSError:
            pass


def test_a_disk_filled_between_two_batches_kills_the_engine_not_the_command(small_fs, archive, model_dir):
    """The free-space check passed; then another process fills the disk before the engine writes the batch. The
    engine's mapped write is a real SIGBUS (it killed `mri-search index` with rc 135 and no message when the engine
    ran in the command's own process): now it kills the child that holds the engine, and the command says so in
    one line, exit 2. The child is stopped (SIGSTOP) from the moment two batches are acknowledged until the disk is
    full, so that the fill falls between the check of a batch and its write every time."""
    db = small_fs / "db"
    cmd = [sys.executable, "-m", "mri_search.cli", "-v", "index", str(archive), "--db", str(db), "--model",
           str(model_dir), "--workers", "0", "--batch-size", "1", "--no-progress"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines, child = [], None
    try:
        for line in proc.stderr:
            lines.append(line)
            if "batch 1:" in line:  # two batches acknowledged
                child = _writer_child(proc.pid)
                break
        assert child is not None, "no child process holds the engine: " + "".join(lines[-5:])
        os.kill(child, signal.SIGSTOP)
        time.sleep(2)  # the parent checks the next batch (space enough), sends it and waits for the stopped child
        _fill(small_fs)
        os.kill(child, signal.SIGCONT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines += err.splitlines(keepends=True)
    said = [ln.strip() for ln in lines + out.splitlines() if not ln.startswith(("INFO ", "DEBUG ", "WARNING "))]
    assert proc.returncode == 2, "".join(lines)
    assert len(said) == 1 and "Traceback" not in "".join(lines), "".join(lines)
    (line,) = said
    assert "killed by SIGBUS: the disk holding it is likely full" in line and str(db) in line, line
    assert "the 2 series written before that are kept" in line and "run the same command again: it resumes" in line
    assert _writer_child(proc.pid) is None

    (small_fs / "ballast").unlink()
    res = CliRunner().invoke(app, cmd[4:] + ["--json"])  # the same run, resumed
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.splitlines()[-1])["present"] >= 2  # the batch in flight too, when logged
    series = scan_archive(archive).series
    with EdgeStore(db) as store:
        (name,) = store.list_collections()
        ids = [p.id for p in store.open_collection(name).scroll()]
    assert len(ids) == len(set(ids)) == len(series)


def test_a_query_whose_disk_fills_after_its_open_answers_and_closes(small_fs, archive, model_dir):
    """`query` and `serve` only read. On a disk filled after the open, searches and a scroll of every vector went on
    working (measured: no SIGBUS), but closing flushed the collection and raised the engine's bare "No space left on
    device" (a traceback); a collection only read is no longer flushed."""
    from mri_search.query import Searcher

    db = small_fs / "db"
    assert CliRunner().invoke(app, ["index", str(archive), "--db", str(db), "--model", str(model_dir), "--workers",
                                    "0", "--no-progress"]).exit_code == 0
    searcher = Searcher.open(db=db, model=model_dir, text_encoder="torch")
    before = [h.score for h in searcher.search_text("knee", top_k=3)]
    _fill(small_fs)
    assert [h.score for h in searcher.search_text("knee", top_k=3)] == before
    assert len(list(searcher.connect().scroll(with_vectors=True))) == len(scan_archive(archive).series)
    searcher.close()
