"""The vector store: the embedded engine (Qdrant Edge) and the server code path (qdrant-client ``:memory:``) give
the same answers to the same operations; metadata guards, the one-opener rule, filters, ids and Parquet."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mri_search.store import (
    CollectionMeta, CollectionMismatch, Point, StoreBusy, collection_name, ensure_collection, point_id, salt_check,
)
from mri_search.store.edge import EdgeStore
from mri_search.store.layout import parse_filter
from mri_search.store.parquet import read_meta, read_points, write_points
from mri_search.store.server import ServerStore

DIM = 8
META = CollectionMeta(model_id="0123456789abcdef", model_name="toy", embed_dim=DIM, salt_check=salt_check("s"))
SEQS = ["T1", "T2", "FLAIR", "DWI"]


def unit(rng, n):
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def make_points(n=40, seed=0):
    rng = np.random.default_rng(seed)
    img, rep = unit(rng, n), unit(rng, n)
    pts = []
    for i in range(n):
        has_report = i % 3 != 0
        payload = {"series_key": f"k{i:03d}", "study_key": f"s{i // 4}", "sequence": SEQS[i % 4],
                   "plane": ["axial", "sagittal"][i % 2], "post_contrast": i % 5 == 0, "has_report": has_report,
                   "field_strength": [1.5, 3.0][i % 2], "series_number": i, "spacing": [1.0, 0.5, 0.5],
                   "report": {"findings": f"finding {i}"} if has_report else None, "body_part": ""}
        vectors = {"image": img[i].tolist(), **({"report": rep[i].tolist()} if has_report else {})}
        pts.append(Point(id=point_id(META.model_id, f"k{i:03d}"), vectors=vectors, payload=payload))
    return pts


@pytest.fixture
def stores(tmp_path):
    edge, server = EdgeStore(tmp_path / "db"), ServerStore.memory()
    yield {"edge": edge, "server": server}
    edge.close()
    server.close()


def filled(store, points, name="c"):
    col = ensure_collection(store, name, META)
    for i in range(0, len(points), 7):
        col.upsert(points[i:i + 7])
    col.optimize()
    return col


def test_both_backends_answer_alike(stores):
    pts = make_points()
    cols = {k: filled(s, pts) for k, s in stores.items()}
    rng = np.random.default_rng(9)
    queries = unit(rng, 4)
    filters = [None, {"sequence": "T1"}, {"sequence": ["T2", "FLAIR"], "plane": "axial"},
               {"field_strength": {"gte": 2.0}}, {"post_contrast": True}, {"series_number": {"gt": 10, "lte": 30}}]
    out = {}
    for k, col in cols.items():
        res = {"count": col.count(), "ids": sorted(p.id for p in col.scroll(batch=9)),
               "counts": [col.count(f) for f in filters[1:]],
               "payloads": {p.id: p.payload for p in col.retrieve([q.id for q in pts])}}
        for using in ("image", "report"):
            for qi, q in enumerate(queries):
                for fi, f in enumerate(filters):
                    hits = col.search(q, using=using, top_k=5, filter=f, exact=True)
                    res[(using, qi, fi)] = [h.id for h in hits]
                    res[("score", using, qi, fi)] = [h.score for h in hits]
                    assert all(h.payload == res["payloads"][h.id] for h in hits)
        out[k] = res
    scores = {k: [out[b].pop(k) for b in ("edge", "server")] for k in list(out["edge"]) if k[0] == "score"}
    assert out["edge"] == out["server"]  # same counts, ids, payloads, and hits in the same order
    for a, b in scores.values():  # cosine scores agree to float32 rounding
        np.testing.assert_allclose(a, b, atol=1e-5)
    e = out["edge"]
    assert e["count"] == 40 and e["ids"] == sorted(p.id for p in pts)
    assert e["counts"] == [10, 10, 20, 8, 20]
    assert e["payloads"] == {p.id: p.payload for p in pts}
    # report search only finds points that have a report vector
    with_report = {p.id for p in pts if "report" in p.vectors}
    assert all(i in with_report for key, hits in e.items() if isinstance(key, tuple) and key[0] == "report"
               for i in hits)
    # the best hit for a stored vector is itself, score 1
    target = pts[7]
    for col in cols.values():
        best = col.search(target.vectors["image"], top_k=1)[0]
        assert best.id == target.id and best.score == pytest.approx(1.0, abs=1e-5)
        assert best.vectors == {}  # vectors only when asked for
        # with_vectors: each hit carries the stored named vectors (the Searcher's damage check reads them)
        by_id = {p.id: p for p in pts}
        for h in col.search(target.vectors["image"], top_k=5, with_vectors=True):
            assert set(h.vectors) == set(by_id[h.id].vectors)
            for name, v in h.vectors.items():
                np.testing.assert_allclose(v, by_id[h.id].vectors[name], atol=1e-5)


def test_negated_filters_answer_alike(stores):
    """``{"not": {...}}`` (Qdrant must_not) excludes the same points on both backends, alone and with ``must``."""
    pts = make_points()
    cols = {k: filled(s, pts) for k, s in stores.items()}
    filters = [{"not": {"study_key": ["s0", "s3", "s9"]}},
               {"not": {"study_key": "s1", "sequence": "T1"}},  # neither study s1 nor a T1 series
               {"plane": "axial", "not": {"study_key": ["s2"], "series_number": {"gte": 30}}},
               {"not": {"body_part": "KNEE"}}]  # nothing has it: nothing is excluded
    expected = [[p for p in pts if p.payload["study_key"] not in ("s0", "s3", "s9")],
                [p for p in pts if p.payload["study_key"] != "s1" and p.payload["sequence"] != "T1"],
                [p for p in pts if p.payload["plane"] == "axial" and p.payload["study_key"] != "s2"
                 and p.payload["series_number"] < 30],
                pts]
    q = unit(np.random.default_rng(3), 1)[0]
    answers = {}
    for k, col in cols.items():
        answers[k] = []
        for f, want in zip(filters, expected):
            assert col.count(f) == len(want), (k, f)
            assert {p.id for p in col.scroll(f)} == {p.id for p in want}
            hits = col.search(q, top_k=50, filter=f, exact=True)
            assert {h.id for h in hits} == {p.id for p in want}
            answers[k].append([h.id for h in hits])
            assert [h.id for h in col.search(q, top_k=50, filter=f, hnsw_ef=64)] == answers[k][-1]  # a wider beam
        light = col.search(q, top_k=5, fields=["study_key", "plane"])  # only these payload keys
        assert [set(h.payload) for h in light] == [{"study_key", "plane"}] * 5
        answers[k].append([(h.id, h.payload) for h in light])
    assert answers["edge"] == answers["server"]


def test_retrieve_existing_and_vectors(stores):
    pts = make_points(10)
    missing = point_id(META.model_id, "nope")
    for store in stores.values():
        col = filled(store, pts)
        ids = [pts[3].id, missing, pts[1].id]
        assert col.existing_ids(ids) == {pts[3].id, pts[1].id}
        got = col.retrieve(ids, with_vectors=True)
        assert [p.id for p in got] == [pts[3].id, pts[1].id]  # request order, missing left out
        for p in got:
            src = next(q for q in pts if q.id == p.id)
            assert set(p.vectors) == set(src.vectors)
            for name in p.vectors:
                np.testing.assert_allclose(p.vectors[name], src.vectors[name], atol=1e-6)
        assert col.retrieve([pts[0].id])[0].vectors == {}
        col.upsert(pts[:3])  # same ids again: replaced, not added
        assert col.count() == 10


def test_metadata_guards_refuse_before_writing(stores):
    for store in stores.values():
        assert store.read_meta("c") is None
        col = filled(store, make_points(5))
        assert store.read_meta("c") == META and store.list_collections() == ["c"]
        for other in (CollectionMeta(**{**META.to_dict(), "model_id": "fedcba9876543210"}),
                      CollectionMeta(**{**META.to_dict(), "embed_dim": 16}),
                      CollectionMeta(**{**META.to_dict(), "salt_check": salt_check("other")})):
            with pytest.raises(CollectionMismatch):
                ensure_collection(store, "c", other)
        assert col.count() == 5
        with pytest.raises(ValueError, match="invalid collection name"):
            ensure_collection(store, "../escape", META)


def test_edge_one_opener_per_path(tmp_path):
    a = EdgeStore(tmp_path)
    col = ensure_collection(a, "c", META)
    col.upsert(make_points(3))
    with pytest.raises(StoreBusy, match="busy"):
        EdgeStore(tmp_path).open_collection("c")
    code = textwrap.dedent(f"""
        from mri_search.store.edge import EdgeStore
        from mri_search.store import StoreBusy
        try:
            EdgeStore({str(tmp_path)!r}).open_collection("c")
        except StoreBusy as e:
            print("BUSY", e)
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "BUSY" in res.stdout and "another process" in res.stdout, res.stderr
    a.close()
    b = EdgeStore(tmp_path)
    assert b.open_collection("c").count() == 3
    b.close()


def test_filters_ids_and_names():
    assert parse_filter({"a": "x", "b": [1, 2], "c": {"gte": 1}, "d": True}) == ([
        ("a", "value", "x"), ("b", "any", [1, 2]), ("c", "range", {"gte": 1.0}), ("d", "value", True)], [])
    assert parse_filter({"a": "x", "not": {"b": ["y", "z"], "c": {"lt": 2}}}) == (
        [("a", "value", "x")], [("b", "any", ["y", "z"]), ("c", "range", {"lt": 2.0})])
    assert parse_filter(None) == ([], [])
    for bad in ({"a": 1.5}, {"a": []}, {"a": ["x", 1]}, {"a": {"from": 1}}, {"a": None}, ["a"], {"not": ["x"]},
                {"not": {"not": {"a": 1}}}, {"not": {"a": 1.5}}):
        with pytest.raises(ValueError):
            parse_filter(bad)
    assert point_id("m1", "k") == point_id("m1", "k") != point_id("m2", "k")
    assert collection_name("0123456789abcdef") == "mri-0123456789ab"


def test_parquet_round_trip(tmp_path, stores):
    pts = make_points(12)
    pts[2] = Point(pts[2].id, pts[2].vectors, {**pts[2].payload, "phi": {"PatientID": "P1"}})
    path = tmp_path / "rows.parquet"
    from mri_search.store.payload import PAYLOAD_FIELDS

    def full(p):  # what a file holds: every payload field (absent ones as None)
        return Point(p.id, p.vectors, {**{k: None for k in PAYLOAD_FIELDS}, **p.payload})

    assert write_points((full(p) for p in pts), path, META, chunk=5) == 12
    assert read_meta(path) == META
    back = list(read_points(path, batch=4))
    assert [p.id for p in back] == [p.id for p in pts]
    for a, b in zip(back, pts):
        assert a.payload == full(b).payload
        assert set(a.vectors) == set(b.vectors)
        for name in a.vectors:
            assert np.array_equal(np.float32(a.vectors[name]), np.float32(b.vectors[name]))
    # re-loading the file into an empty store gives the same search results
    col = filled(stores["server"], back)
    q = pts[5].vectors["image"]
    assert col.search(q, top_k=3, exact=True)[0].id == pts[5].id
    with pytest.raises(ValueError, match="expected 8"):
        write_points([Point("x", {"image": [0.0] * 3}, {})], tmp_path / "bad.parquet", META)
    assert not (tmp_path / "bad.parquet").exists()
