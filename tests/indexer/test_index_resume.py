"""A run killed with SIGKILL in the middle, then restarted, ends with every series present exactly once."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

from indexer.config import IndexCfg
from indexer.run import run_index
from mri_search.ingest.archive import scan_archive
from mri_search.model import model_identity
from mri_search.store import point_id
from mri_search.store.edge import EdgeStore
from mri_search.store.parquet import read_points


def test_sigkill_mid_run_then_resume(archive, model_dir, tmp_path):
    db, parquet, errors = tmp_path / "db", tmp_path / "rows.parquet", tmp_path / "errors.tsv"
    cmd = [sys.executable, "-m", "mri_search.cli", "-v", "index", str(archive), "--model", str(model_dir),
           "--db", str(db), "--parquet", str(parquet), "--errors", str(errors), "--batch-size", "2",
           "--workers", "1", "--no-progress"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}  # this session's MRI_SEARCH_HOME: the same salt as the resume
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
                            start_new_session=True)  # its own process group: the kill takes its workers too
    seen, deadline = [], time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stderr], [], [], 1.0)
            line = proc.stderr.readline() if ready else ""
            if line:
                seen.append(line)
                if "batch 1:" in line:  # two batches acknowledged, the third in flight
                    break
            elif proc.poll() is not None:
                break
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert any("batch 1:" in line for line in seen), "".join(seen[-20:])
    assert not parquet.exists()  # the run died before its end

    cfg = IndexCfg(archive=archive, model=model_dir, db=db, parquet=parquet, errors=errors, workers=0,
                   batch_size=4, progress=False)
    resumed = run_index(cfg)
    series = scan_archive(archive).series
    expected = {point_id(model_identity(model_dir), r.key) for r in series}
    assert resumed.present >= 4 and resumed.present + resumed.indexed == len(series) and resumed.failed == 0
    with EdgeStore(db) as store:
        col = store.open_collection(resumed.collection)
        ids = [p.id for p in col.scroll()]
    assert len(ids) == len(set(ids)) == len(series) and set(ids) == expected
    rows = [p.id for p in read_points(parquet)]
    assert len(rows) == len(set(rows)) == len(series) and set(rows) == expected
