"""``Searcher`` on a small generated index: region queries, image queries finding their own series, report search,
filters checked against a brute-force count over the payloads, grouping, the server code path, and the model and
collection resolution."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from indexer.config import IndexCfg
from indexer.run import run_index
from mri_search.ingest.archive import scan_archive
from mri_search.ingest.phi import hash_id
from mri_search.ingest.salt import installation_salt
from mri_search.model import build_model, get_preset, model_identity, save_model
from mri_search.query import QueryFilters, Searcher, read_series
from mri_search.store import ensure_collection
from mri_search.store.server import ServerStore


@pytest.fixture(scope="module")
def searcher(indexed):
    with Searcher.open(db=indexed.db) as s:  # the model is found through the registry the index run wrote
        yield s


@pytest.fixture(scope="module")
def payloads(searcher, indexed):
    """Every stored payload (through the searcher's store: one opener per embedded index)."""
    return [p.payload for p in searcher.store.open_collection(indexed.collection).scroll()]


def single_series_folders(archive: Path) -> list[tuple[Path, str]]:
    """(folder, series key) of series that are alone in their folder."""
    out = []
    for r in scan_archive(archive / "dicom").series:
        folder = Path(r.files[0].display).parent
        if len(scan_archive(folder).series) == 1:
            out.append((folder, r.key))
    return out


def test_text_query_for_a_region_returns_that_region_first(searcher, indexed):
    assert searcher.model_dir == indexed.model and searcher.collection == indexed.collection
    for region, text in (("knee", "MRI of the knee"), ("brain", "MRI of the brain")):
        hits = searcher.search_text(text, top_k=5)
        assert len(hits) == 5 and [h.rank for h in hits] == [1, 2, 3, 4, 5]
        assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
        got = [indexed.region[h.payload["series_uid_hash"]] for h in hits[:3]]
        assert got == [region] * 3, (text, got, [h.score for h in hits])
    assert searcher.timings["encode_ms"] > 0 and searcher.timings["search_ms"] > 0


def test_image_query_returns_its_own_series_first(searcher, indexed, archive):
    folders = single_series_folders(archive)
    assert len(folders) >= 3
    for folder, key in folders[:3]:
        hits = searcher.search_image(folder, top_k=3)
        assert hits[0].series_key == key and hits[0].score == pytest.approx(1.0, abs=1e-4)
        assert hits[1].score < hits[0].score - 1e-3  # not a tie with a sibling series
    # a NIfTI file: its DICOM twin comes first (same pixels, same grid after preprocessing)
    rows = pq.read_table(archive / "manifest.parquet").to_pylist()
    for row in rows[:3]:
        hit = searcher.search_image(archive / row["nifti_path"], top_k=1)[0]
        assert hit.payload["series_uid_hash"] == hash_id(installation_salt(), row["series_uid"]), row["nifti_path"]
        assert hit.score > 0.99


def test_report_search_returns_studies(searcher, indexed, archive):
    hits = searcher.search_reports("MRI of the knee", top_k=10)
    studies = [h.study_key for h in hits]
    assert len(studies) == len(set(studies)) == 3  # every study once, though each has several series
    assert indexed.region[hits[0].payload["series_uid_hash"]] == "knee"
    assert all(h.impression for h in hits)
    folder, key = single_series_folders(archive)[0]
    own_study = next(r.study_key for r in scan_archive(folder).series)
    by_image = searcher.search_reports(image=folder, top_k=3)  # image -> report retrieval
    assert by_image[0].study_key == own_study
    with pytest.raises(ValueError, match="not both"):
        searcher.search_reports("x", image=folder)


def test_hard_queries_scan_exactly_in_a_small_collection(searcher, archive, monkeypatch):
    """Text -> images, report searches (image or text) and filtered queries are exact scans in a small collection,
    graph walks with the wide beam past EXACT_MAX_POINTS; image -> images unfiltered walks HNSW with the narrow
    beam."""
    import mri_search.query.searcher as searcher_module
    from mri_search.query.searcher import HARD_EF, HNSW_EF

    col = searcher.store.open_collection(searcher.collection)
    calls = []
    real = col.search
    monkeypatch.setattr(col, "search", lambda *a, **k: calls.append((k["using"], k["exact"], k["hnsw_ef"]))
                        or real(*a, **k))
    folder = single_series_folders(archive)[0][0]

    def queries():
        searcher.search_text("knee", top_k=2)
        searcher.search_image(folder, top_k=2)
        searcher.search_reports(image=folder, top_k=2)
        searcher.search_reports("knee", top_k=2)
        searcher.search_image(folder, top_k=2, filters=QueryFilters(sequences=("T1",)))

    queries()
    assert calls == [("image", True, HARD_EF), ("image", False, HNSW_EF), ("report", True, HARD_EF),
                     ("report", True, HARD_EF), ("image", True, HARD_EF)]
    calls.clear()
    monkeypatch.setattr(searcher_module, "EXACT_MAX_POINTS", col.count() - 1)  # as if the collection were larger
    queries()
    assert calls == [("image", False, HARD_EF), ("image", False, HNSW_EF), ("report", False, HARD_EF),
                     ("report", False, HARD_EF), ("image", False, HARD_EF)]


FILTERS = [
    (QueryFilters(sequences=("t1",)), lambda p: p["sequence"] == "T1"),
    (QueryFilters(sequences=("PDFS", "T2")), lambda p: p["sequence"] in ("PDFS", "T2")),
    (QueryFilters(planes=("Sagittal",)), lambda p: p["plane"] == "sagittal"),
    (QueryFilters(body_parts=("knee",)), lambda p: p["body_part"].lower() == "knee"),
    (QueryFilters(manufacturers=("siemens", "ge")),
     lambda p: p["manufacturer"] in ("SIEMENS", "GE MEDICAL SYSTEMS")),
    (QueryFilters(contrast=False), lambda p: not p["post_contrast"]),
    (QueryFilters(fat_suppressed=True), lambda p: p["fat_suppressed"]),
    (QueryFilters(field_strength=3.0), lambda p: p["field_strength"] == 3.0),
    (QueryFilters(planes=("axial", "coronal"), fat_suppressed=False), lambda p: p["plane"] in ("axial", "coronal")
     and not p["fat_suppressed"]),
]


def test_every_filter_is_honoured(searcher, payloads, indexed):
    assert len(payloads) == indexed.n_series
    nonempty = 0
    query = searcher.encode_text("MRI")
    for flt, holds in FILTERS:
        want = sum(holds(p) for p in payloads)
        hits = searcher.search_vector(query, top_k=100, filters=flt)
        assert len(hits) == want, (flt, want, len(hits))
        assert all(holds(h.payload) for h in hits), flt
        nonempty += 0 < want < len(payloads)
    assert nonempty >= 6  # the filters really split this archive


def test_study_exclusion_by_uid_and_by_key(searcher, payloads, indexed):
    study_key = payloads[0]["study_key"]
    uid = indexed.study_uid[study_key]
    want = sum(p["study_key"] != study_key for p in payloads)
    for given in (uid, study_key):
        hits = searcher.search_text("MRI", top_k=100, filters=QueryFilters(exclude_studies=(given,)))
        assert len(hits) == want and study_key not in {h.study_key for h in hits}
    salted = Searcher(searcher.store, model=indexed.model, salt="another")
    with pytest.raises(ValueError, match="--salt"):
        salted.search_text("MRI", filters=QueryFilters(exclude_studies=(uid,)))


def test_group_by_study_keeps_the_best_series_of_each(searcher):
    flat = searcher.search_text("MRI of the knee", top_k=100)
    grouped = searcher.search_text("MRI of the knee", top_k=10, group_by="study")
    assert len(grouped) == 3 and len({h.study_key for h in grouped}) == 3
    firsts = []
    for h in flat:
        if h.study_key not in {f.study_key for f in firsts}:
            firsts.append(h)
    assert [h.id for h in grouped] == [h.id for h in firsts]  # the best of each study, in score order
    assert len(searcher.search_text("MRI", top_k=2, group_by="patient")) == 2


def test_server_backend_gives_the_same_hits(searcher, indexed, archive):
    server = ServerStore.memory()
    run_index(IndexCfg(archive=archive / "dicom", model=indexed.model, workers=0, progress=False), store=server)
    other = Searcher(server, model=indexed.model)
    for text, flt in (("MRI of the brain", None), ("knee", QueryFilters(planes=("sagittal",)))):
        a = searcher.search_text(text, top_k=8, filters=flt)
        b = other.search_text(text, top_k=8, filters=flt)
        assert [h.id for h in a] == [h.id for h in b] and [h.payload for h in a] == [h.payload for h in b]
        np.testing.assert_allclose([h.score for h in a], [h.score for h in b], atol=1e-5)
    server.close()


def test_model_and_collection_resolution(searcher, indexed, tmp_path, monkeypatch):
    other = save_model(build_model(get_preset("vit-tiny-test")).eval(), tmp_path / "other", indexed_pre(indexed))
    with pytest.raises(ValueError, match=rf"written by model vit-tiny-test \({model_identity(indexed.model)}\)"
                                         rf".*\({model_identity(other)}\)"):
        Searcher.open(db=indexed.db, model=other)
    # no registry entry and nothing shipped: the error says to pass --model
    monkeypatch.setenv("MRI_SEARCH_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setattr("mri_search.model.shipped.default_model_dir", lambda: None)
    with pytest.raises(ValueError, match="pass --model DIR"):
        Searcher.open(db=indexed.db)
    # --model given: no registry needed (the module's searcher holds the embedded index: share its store)
    assert Searcher(searcher.store, model=indexed.model).search_text("knee", top_k=1)
    with pytest.raises(ValueError, match="no collection 'nope'.*" + indexed.collection):
        Searcher.open(db=indexed.db, collection="nope")
    with pytest.raises(ValueError, match="no mri-search collection"):
        Searcher.open(db=tmp_path / "empty")


def test_several_collections_need_a_choice(searcher, indexed):
    store = ServerStore.memory()
    for name in ("c0", "c1"):
        ensure_collection(store, name, searcher.meta)
    with pytest.raises(ValueError, match=r"2 collections .*c0, c1.*--collection"):
        Searcher(store)
    assert Searcher(store, model=indexed.model, collection="c1").collection == "c1"
    store.close()


def test_read_series_explains_what_it_cannot_use(archive, tmp_path):
    with pytest.raises(ValueError, match="no readable MR series"):
        read_series(tmp_path)  # an empty folder
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all" * 20)
    with pytest.raises(ValueError, match="no readable MR series"):
        read_series(junk)
    study = next((archive / "dicom").iterdir())
    with pytest.raises(ValueError, match=r"series in .*choose one with --series N \(0: "):
        read_series(study)
    assert read_series(study, series=1).key != read_series(study, series=0).key
    with pytest.raises(ValueError, match="--series 99"):
        read_series(study, series=99)


def indexed_pre(indexed):
    import json

    from mri_search.preprocess import PreprocessConfig

    return PreprocessConfig.from_dict(json.loads((indexed.model / "config.json").read_text())["preprocess"])


def test_filters_to_store_form():
    f = QueryFilters(sequences=("t2,flair", "T2"), planes=("AXIAL",), body_parts=("knee",), manufacturers=("ge",),
                     contrast=True, field_strength=1.5, exclude_studies=("1.2.3", "a" * 32))
    d = f.to_filter("s")
    assert d["sequence"] == ["T2", "FLAIR"] and d["plane"] == ["axial"] and d["post_contrast"] is True
    assert d["body_part"] == ["knee", "KNEE", "Knee"] and "GE MEDICAL SYSTEMS" in d["manufacturer"]
    assert d["field_strength"] == {"gte": 1.25, "lte": 1.75}
    assert d["not"] == {"study_key": [hash_id("s", "1.2.3"), hash_id("s", "a" * 32), "a" * 32]}
    assert QueryFilters().to_filter("s") is None and QueryFilters().is_empty()
    for bad, msg in ((dict(sequences=("T3",)), "--sequence T3"), (dict(planes=("diagonal",)), "--plane"),
                     (dict(field_strength=300.0), "tesla")):
        with pytest.raises(ValueError, match=msg):
            dataclasses.replace(QueryFilters(), **bad).to_filter("s")
