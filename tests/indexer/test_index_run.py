"""``run_index`` end to end on a generated archive: the embedded engine and the server code path hold the same
points; re-runs write nothing; shards partition the archive; Parquet round trip; failures never stop a run; a
collection of another model is refused before anything is written."""

from __future__ import annotations

import csv
import shutil

import nibabel as nib
import numpy as np
import pytest

from indexer.config import IndexCfg
from indexer.run import run_index
from mri_search.ingest.archive import scan_archive
from mri_search.ingest.path_ids import PathRedactor
from mri_search.ingest.salt import installation_salt
from mri_search.model import load_model, model_identity
from mri_search.preprocess import preprocess
from mri_search.store import CollectionMismatch, collection_name, point_id
from mri_search.store.edge import EdgeStore
from mri_search.store.parquet import read_meta, read_points
from mri_search.store.server import ServerStore


def cfg_for(archive, model_dir, tmp_path, **kw) -> IndexCfg:
    base = dict(archive=archive, model=model_dir, db=tmp_path / "db", errors=tmp_path / "errors.tsv", workers=0,
                batch_size=4, progress=False)
    return IndexCfg(**{**base, **kw})


def all_points(col):
    return {p.id: p for p in col.scroll(with_vectors=True)}


@pytest.fixture(scope="module")
def indexed(archive, model_dir, tmp_path_factory):
    """The archive indexed into the embedded engine (2 worker processes) and into qdrant-client :memory:."""
    tmp = tmp_path_factory.mktemp("run")
    edge_cfg = cfg_for(archive, model_dir, tmp, workers=2, parquet=tmp / "rows.parquet")
    edge_summary = run_index(edge_cfg)
    server = ServerStore.memory()
    server_summary = run_index(cfg_for(archive, model_dir, tmp, db=None, errors=tmp / "e2.tsv"), store=server)
    yield edge_cfg, edge_summary, server, server_summary
    server.close()


def _ranked_tiers(hits, tol=1e-5) -> list[set]:
    """The hit ids as consecutive groups of tied scores (within ``tol``): two engines may order exact ties
    differently, and the last group may be cut by ``top_k`` differently, so callers drop it."""
    tiers: list[set] = []
    last = None
    for h in hits:
        if last is None or abs(h.score - last) > tol:
            tiers.append(set())
        tiers[-1].add(h.id)
        last = h.score
    return tiers


def test_embedded_and_server_hold_the_same_points(indexed, archive, model_dir):
    edge_cfg, es, server, ss = indexed
    n = len(scan_archive(archive).series)
    assert es.indexed == ss.indexed == n > 10 and es.failed == ss.failed == 0 and es.present == 0
    assert es.collection == ss.collection == collection_name(model_identity(model_dir))
    with EdgeStore(edge_cfg.db) as edge:
        e_col, s_col = edge.open_collection(es.collection), server.open_collection(ss.collection)
        e_pts, s_pts = all_points(e_col), all_points(s_col)
        assert set(e_pts) == set(s_pts) and len(e_pts) == n
        for pid, p in e_pts.items():
            q = s_pts[pid]
            assert p.payload == q.payload
            assert "phi" not in p.payload  # identifiers stay out unless --keep-phi
            assert set(p.vectors) == set(q.vectors) == ({"image", "report"} if p.payload["has_report"]
                                                          else {"image"})
            for name in p.vectors:
                np.testing.assert_allclose(p.vectors[name], q.vectors[name], atol=1e-6)
        assert sum(p.payload["has_report"] for p in e_pts.values()) == n  # every study has its report here
        # the same searches give the same hits, in the same order
        for p in list(e_pts.values())[:4]:
            for using, flt in (("image", None), ("report", {"sequence": p.payload["sequence"]}),
                               ("image", {"has_report": True, "plane": ["axial", "sagittal", "coronal"]})):
                a = e_col.search(p.vectors[using if using in p.vectors else "image"], using=using, top_k=5,
                                 filter=flt, exact=True)
                b = s_col.search(p.vectors[using if using in p.vectors else "image"], using=using, top_k=5,
                                 filter=flt, exact=True)
                np.testing.assert_allclose([h.score for h in a], [h.score for h in b], atol=1e-5)
                assert _ranked_tiers(a)[:-1] == _ranked_tiers(b)[:-1]  # same order up to exact ties
            assert e_col.search(p.vectors["image"], top_k=1)[0].id == p.id


def test_vectors_are_the_models_embeddings(indexed, archive, model_dir):
    edge_cfg, es, _, _ = indexed
    scan = scan_archive(archive)
    rec = scan.series[0]
    loaded = load_model(model_dir)
    import torch

    from mri_search.ingest.report_text import embedding_text as report_text

    with torch.no_grad():
        img = loaded.model.encode_volume(preprocess(rec, loaded.preprocess)[None].as_tensor())[0].numpy()
        rep = loaded.model.encode_report(loaded.model.tokenize([report_text(scan.reports[rec.study_key])]))[0]
    with EdgeStore(edge_cfg.db) as edge:
        p = edge.open_collection(es.collection).retrieve([point_id(es.model_id, rec.key)], with_vectors=True)[0]
    np.testing.assert_allclose(p.vectors["image"], img, atol=1e-5)
    np.testing.assert_allclose(p.vectors["report"], rep.numpy(), atol=1e-5)
    assert p.payload["series_key"] == rec.key and p.payload["sequence"] == rec.sequence
    assert p.payload["report"]["impression"] == scan.reports[rec.study_key].sections["impression"]


def test_reindex_writes_nothing_and_parquet_round_trips(indexed):
    edge_cfg, es, _, _ = indexed
    again = run_index(edge_cfg)
    assert again.indexed == 0 and again.present == es.indexed and again.failed == 0
    with EdgeStore(edge_cfg.db) as edge:
        col = edge.open_collection(es.collection)
        assert col.count() == es.indexed
        stored = all_points(col)
    rows = list(read_points(edge_cfg.parquet))
    assert again.parquet_rows == len(rows) == es.indexed
    assert [p.id for p in rows] == sorted(stored)  # each series once, sorted by id
    assert read_meta(edge_cfg.parquet).model_id == es.model_id
    for p in rows:
        assert p.payload == stored[p.id].payload
        for name, v in stored[p.id].vectors.items():
            assert np.array_equal(np.asarray(p.vectors[name], np.float32), np.asarray(v, np.float32))


def test_four_shards_into_one_store_equal_one_unsharded_run(indexed, archive, model_dir, tmp_path):
    edge_cfg, es, _, _ = indexed
    with EdgeStore(edge_cfg.db) as edge:
        everything = all_points(edge.open_collection(es.collection))
    db = tmp_path / "sharded"
    seen: set = set()
    sizes = []
    for k in range(4):  # four machines' runs, one after the other into one embedded store
        s = run_index(cfg_for(archive, model_dir, tmp_path, db=db, shard=(k, 4), errors=tmp_path / f"e{k}.tsv"))
        assert s.present == 0 and s.failed == 0
        with EdgeStore(db) as edge:
            now = set(all_points(edge.open_collection(s.collection)))
        assert len(now - seen) == s.indexed and seen <= now  # each shard adds its own series, disjoint
        seen = now
        sizes.append(s.indexed)
    # series keys hash with the installation's (random) salt, so which shard a series lands in varies per run: one
    # of ~15 series' shards can be empty by chance, but the work is spread
    assert sum(sizes) == len(everything) and sum(n > 0 for n in sizes) >= 2
    with EdgeStore(db) as edge:
        sharded = all_points(edge.open_collection(es.collection))
    assert set(sharded) == set(everything)
    for pid, p in sharded.items():
        assert p.payload == everything[pid].payload
        assert set(p.vectors) == set(everything[pid].vectors)
        for name, v in p.vectors.items():
            # equal to float32 rounding: a series meets other batch neighbours in a shard, and a batched matmul
            # may sum in another order
            np.testing.assert_allclose(v, everything[pid].vectors[name], atol=1e-5)


def test_broken_series_are_reported_and_the_rest_indexed(archive, model_dir, tmp_path):
    root = tmp_path / "archive"
    shutil.copytree(archive, root)
    good = len(scan_archive(archive).series)
    # a truncated slice: the scan sets its series aside
    victim = sorted(p for p in (root / "dicom").rglob("*") if p.is_file() and p.suffix != ".txt")[0]
    victim.write_bytes(victim.read_bytes()[:700])
    # a constant volume: readable, but preprocessing refuses it
    anat = root / "extra" / "sub-x" / "anat"
    anat.mkdir(parents=True)
    nib.save(nib.Nifti1Image(np.full((16, 16, 12), 5, np.float32), np.diag([2.0, 2.0, 3.0, 1.0])),
             anat / "sub-x_T2w.nii.gz")
    store = ServerStore.memory()
    s = run_index(cfg_for(root, model_dir, tmp_path, db=None), store=store)
    assert s.failed == 1 and s.indexed == good - 1 and s.files_skipped >= 1
    with open(s.errors_path) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    reasons = " | ".join(r["reason"] for r in rows)
    shown = PathRedactor(installation_salt())(victim.name)  # a file named by its UID shows as its token
    assert "constant volume" in reasons and any(r["level"] == "failed" and r["path"].endswith("/" + shown)
                                                for r in rows)
    assert store.open_collection(s.collection).count() == good - 1
    # a second run retries the failed one (it is still not there) and writes nothing else
    again = run_index(cfg_for(root, model_dir, tmp_path, db=None), store=store)
    assert again.indexed == 0 and again.failed == 1 and again.present == good - 1
    store.close()


def test_another_model_or_salt_is_refused_before_writing(archive, model_dir, other_model_dir, tmp_path):
    store = ServerStore.memory()
    part = dict(db=None, shard=(0, 3))  # a third of the archive is enough here
    first = run_index(cfg_for(archive, model_dir, tmp_path, collection="shared", **part), store=store)
    col = store.open_collection("shared")
    before = col.count()
    with pytest.raises(CollectionMismatch, match="different models"):
        run_index(cfg_for(archive, other_model_dir, tmp_path, collection="shared", **part), store=store)
    with pytest.raises(CollectionMismatch, match="salt"):
        run_index(cfg_for(archive, model_dir, tmp_path, collection="shared", salt="other", **part), store=store)
    assert col.count() == before == first.indexed > 0
    # without --collection another model gets a collection of its own
    other = run_index(cfg_for(archive, other_model_dir, tmp_path, **part), store=store)
    assert other.collection != "shared" and other.indexed == first.indexed
    store.close()


def test_keep_phi_stores_identifiers(archive, model_dir, tmp_path):
    store = ServerStore.memory()
    s = run_index(cfg_for(archive, model_dir, tmp_path, db=None, keep_phi=True, shard=(0, 4)), store=store)
    pts = list(store.open_collection(s.collection).scroll())
    assert pts and all(p.payload["phi"].get("PatientID") for p in pts)
    store.close()
