"""Writing into the embedded index while the server has it open: another process (a writer as an index run is)
waits for the lock, the server lets go within about a second, and the writer's new series is served once it is
done."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

from fastapi.testclient import TestClient

from mri_search.web import ServeCfg, WebState, create_app

WRITER = """
import sys, time, uuid
from mri_search.store.base import Point
from mri_search.store.edge import EdgeStore
t0 = time.monotonic()
with EdgeStore(sys.argv[1], lock_wait_s=20) as s:
    col = s.open_collection(s.list_collections()[0])
    waited = time.monotonic() - t0
    p = next(iter(col.scroll(with_vectors=True)))
    col.upsert([Point(id=str(uuid.uuid4()), vectors=p.vectors, payload={**p.payload, "series_key": "new-series"})])
print(f"{waited:.3f}")
"""


def test_a_writer_gets_the_index_while_serving_and_its_series_shows(indexed, tmp_path):
    db = tmp_path / "db"
    shutil.copytree(indexed.db, db)
    state = WebState.open(ServeCfg(db=db, model=indexed.model, lock_wait_s=10))
    try:
        c = TestClient(create_app(state))
        assert c.get("/api/health").json()["points"] == indexed.n_series  # the server holds the collection now
        writer = subprocess.run([sys.executable, "-c", WRITER, str(db)], capture_output=True, text=True, timeout=60)
        assert writer.returncode == 0, writer.stderr
        assert float(writer.stdout) < 3.0  # the server let go within seconds (it polls every 0.1 s)
        t0 = time.monotonic()
        assert c.get("/api/health").json()["points"] == indexed.n_series + 1
        assert c.get("/api/series/new-series").status_code == 200
        assert time.monotonic() - t0 < 5 and state.gate.releases == 1
    finally:
        state.close()
