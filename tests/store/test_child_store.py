"""``ChildStore``: the embedded store held by a child process answers as ``EdgeStore`` does, relays its errors and
log records, and its death by a signal is one ``EngineDied`` line in a parent that lives on."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mri_search.store import (
    CollectionMeta,
    Point,
    StoreBusy,
    ensure_collection,
    point_id,
    salt_check,
)
from mri_search.store.child import ChildStore, EngineDied
from mri_search.store.edge import EdgeStore

DIM = 8
META = CollectionMeta(model_id="0123456789abcdef", model_name="toy", embed_dim=DIM, salt_check=salt_check("s"))
NO_SUCH_ID = "00000000-0000-0000-0000-000000000000"


def unit(rng, n):
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def make_points(n=40):
    rng = np.random.default_rng(0)
    img, rep = unit(rng, n), unit(rng, n)
    return [Point(id=point_id(META.model_id, f"k{i:03d}"), vectors={"image": img[i].tolist(), "report": rep[i].tolist()},
                  payload={"series_key": f"k{i:03d}", "sequence": ["T1", "T2"][i % 2], "series_number": i})
            for i in range(n)]


def filled(store, points):
    col = ensure_collection(store, "c", META)
    for i in range(0, len(points), 7):
        col.upsert(points[i:i + 7])
    col.optimize()
    return col


def test_child_store_answers_as_the_embedded_store(tmp_path):
    pts = make_points()
    with EdgeStore(tmp_path / "a") as edge, ChildStore(tmp_path / "b") as child:
        cols = {"edge": filled(edge, pts), "child": filled(child, pts)}
        q = unit(np.random.default_rng(5), 1)[0]
        out = {}
        for k, col in cols.items():
            out[k] = {"count": col.count(), "t1": col.count({"sequence": "T1"}),
                      "scroll": [(p.id, p.payload, p.vectors) for p in col.scroll(with_vectors=True, batch=9)],
                      "retrieve": col.retrieve([pts[3].id, NO_SUCH_ID, pts[1].id], True),
                      "existing": col.existing_ids([pts[0].id, NO_SUCH_ID]),
                      "hits": [(h.id, round(h.score, 5), h.payload) for h in col.search(q, top_k=5, exact=True)],
                      "with_vectors": col.search(q, top_k=3, exact=True, with_vectors=True)}
        assert out["child"] == out["edge"] and out["edge"]["count"] == 40
        assert all(set(h.vectors) >= {"image"} for h in out["child"]["with_vectors"])
        assert child.list_collections() == ["c"] and child.read_meta("c") == META
        cols["child"].delete([pts[0].id])
        assert cols["child"].count() == 39
        with pytest.raises(ValueError, match="no collection 'nope'"):
            child.open_collection("nope")
    with ChildStore(tmp_path / "b") as child:  # closed and reopened: what was written is there
        assert child.open_collection("c").count() == 39


def test_errors_and_log_records_of_the_child_reach_the_caller(tmp_path, caplog):
    with EdgeStore(tmp_path / "db") as holder:
        ensure_collection(holder, "c", META)  # open here: the child may not have it
        with ChildStore(tmp_path / "db", lock_wait_s=0.3) as child:
            with caplog.at_level(logging.INFO, logger="mri_search.store.edge"), \
                    pytest.raises(StoreBusy, match="is busy"):
                child.open_collection("c")
    assert "is open in another process: waiting up to 0.3 s" in caplog.text  # logged in the child


def test_a_child_killed_by_a_signal_is_one_line(tmp_path):
    pts = make_points()
    store = ChildStore(tmp_path / "db")
    col = ensure_collection(store, "c", META)
    col.upsert(pts[:7])
    os.kill(store._proc.pid, signal.SIGBUS)  # a real death by the signal a mapped write on a full disk gives
    with pytest.raises(EngineDied) as died:
        col.upsert(pts[7:14])
    msg = str(died.value)
    assert "killed by SIGBUS: the disk holding it is likely full" in msg and str(tmp_path / "db") in msg
    assert "MB free there); the 7 series written before that are kept" in msg and "\n" not in msg
    assert died.value.signal_name == "SIGBUS"
    with pytest.raises(EngineDied):  # and every later call, without waiting for anything
        col.count()
    store.close()
    with ChildStore(tmp_path / "db") as again:
        assert again.open_collection("c").count() == 7  # acknowledged, kept


def test_the_child_lets_go_when_its_parent_is_killed(tmp_path):
    """A parent killed alone (SIGKILL, not its process group): its child closes the store and exits, so that the
    next run can open the collection."""
    code = ("import json, sys, time; from mri_search.store.child import ChildStore; "
            "from mri_search.store import CollectionMeta, ensure_collection; "
            "s = ChildStore(sys.argv[1]); ensure_collection(s, 'c', CollectionMeta.from_dict(json.loads(sys.argv[2]))); "
            "print(s._proc.pid, flush=True); "
            "time.sleep(600)")
    parent = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "db"), json.dumps(META.to_dict())], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.1)
    assert not _alive(child)
    with EdgeStore(tmp_path / "db") as store:  # the lock was released
        assert store.open_collection("c").count() == 0


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except OSError:
        return False
