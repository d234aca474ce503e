"""Issue 20, case 4: zeroed bytes in the image-vector file of a real Qdrant Edge store. A query stops with "the index
at ... is damaged" instead of answering scores of 0.0 with exit 0, and ``index`` embeds the damaged points again
instead of skipping them as already present."""

from __future__ import annotations

import json

import pytest

from indexer.config import IndexCfg
from indexer.run import run_index
from mri_search.store.edge import EdgeStore
from mri_search.store.integrity import StoreDamaged, damaged_points


def _zero_image_vectors(db):
    (chunk,) = db.glob("*/shard/segments/*/vector_storage-image/vectors/chunk_0.mmap")
    with open(chunk, "r+b") as f:  # the first vectors of the segment: 32 float32 each
        f.write(b"\0" * 4096)


def test_zeroed_vectors_stop_the_query_and_index_re_embeds(archive, model_dir, tmp_path):
    from mri_search.query import Searcher

    db = tmp_path / "db"
    cfg = IndexCfg(archive=archive, model=model_dir, db=db, workers=0, progress=False, errors=tmp_path / "e.tsv")
    first = run_index(cfg)
    assert first.indexed > 0
    _zero_image_vectors(db)
    with Searcher.open(db=db, model=model_dir, text_encoder="torch") as s:
        with pytest.raises(StoreDamaged, match=r"the index at .* is damaged .*re-run `mri-search index`"):
            s.search_text("knee", top_k=3)
    # the command says it in one line with exit 2, never exit 0 with wrong scores
    from typer.testing import CliRunner

    from mri_search.cli import app

    res = CliRunner().invoke(app, ["query", "knee", "--db", str(db), "--model", str(model_dir), "--top-k", "3",
                                   "--text-encoder", "torch"])
    assert res.exit_code == 2 and "is damaged" in res.output and "Traceback" not in res.output, res.output
    again = run_index(cfg)
    assert again.indexed == first.indexed and again.present == 0  # every damaged point embedded again
    with EdgeStore(db) as st:
        col = st.open_collection(first.collection)
        assert col.count() == first.indexed
        assert damaged_points(col.scroll(with_vectors=True), col.meta.embed_dim) == {}
    with Searcher.open(db=db, model=model_dir, text_encoder="torch") as s:
        assert all(-1.0 <= h.score <= 1.0 for h in s.search_text("knee", top_k=3))


def test_truncated_engine_file_and_missing_metadata_are_one_line(archive, model_dir, tmp_path):
    """A truncated vector file, then a deleted collection.json: `query` and `index` answer one line (exit 2) each,
    never an engine traceback, and say the index is damaged."""
    from typer.testing import CliRunner

    from mri_search.cli import app

    db = tmp_path / "db"
    cfg = IndexCfg(archive=archive, model=model_dir, db=db, workers=0, progress=False, errors=tmp_path / "e.tsv")
    run_index(cfg)
    (chunk,) = db.glob("*/shard/segments/*/vector_storage-image/vectors/chunk_0.mmap")
    chunk.write_bytes(chunk.read_bytes()[:1000])
    runner = CliRunner()
    query = ["query", "knee", "--db", str(db), "--model", str(model_dir), "--text-encoder", "torch"]
    res = runner.invoke(app, query)
    assert res.exit_code == 2 and "damaged" in res.output and "Traceback" not in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1
    (meta,) = db.glob("*/collection.json")
    meta.unlink()
    res = runner.invoke(app, query)
    assert res.exit_code == 2 and "damaged" in res.output and "collection.json" in res.output, res.output
    res = runner.invoke(app, ["index", str(archive), "--db", str(db), "--model", str(model_dir), "--workers", "0",
                              "--no-progress"])
    assert res.exit_code == 2 and "damaged" in res.output and "Traceback" not in res.output, res.output


def test_verify_finds_damage_and_repair_embeds_it_again(archive, model_dir, tmp_path):
    """`mri-search verify`: exit 0 on a sound index; zeroed vectors are listed (exit 1); `--repair --archive` drops
    them, indexes the archive again and verifies clean (exit 0), with the Parquet export in agreement."""
    from typer.testing import CliRunner

    from mri_search.cli import app

    db, parquet = tmp_path / "db", tmp_path / "rows.parquet"
    first = run_index(IndexCfg(archive=archive, model=model_dir, db=db, workers=0, progress=False, parquet=parquet,
                               errors=tmp_path / "e.tsv"))
    runner = CliRunner()
    check = ["verify", "--db", str(db), "--parquet", str(parquet)]
    ok = runner.invoke(app, check)
    assert ok.exit_code == 0 and f"{first.indexed} points read" in ok.output and ok.output.strip().endswith("ok")
    _zero_image_vectors(db)
    bad = runner.invoke(app, check + ["--json"])
    assert bad.exit_code == 1, bad.output
    doc = json.loads(bad.stdout)
    assert doc["damaged"] and not doc["ok"] and all("vector 'image'" in why for why in doc["damaged"].values())
    fixed = runner.invoke(app, check + ["--repair", "--archive", str(archive), "--model", str(model_dir)])
    assert fixed.exit_code == 0, fixed.output
    assert f"re-indexed {archive}: {len(doc['damaged'])} points embedded again" in fixed.output
    assert runner.invoke(app, check).exit_code == 0


def test_verify_reports_unreadable_engine_files(archive, model_dir, tmp_path):
    from typer.testing import CliRunner

    from mri_search.cli import app

    db = tmp_path / "db"
    run_index(IndexCfg(archive=archive, model=model_dir, db=db, workers=0, progress=False, errors=tmp_path / "e.tsv"))
    (chunk,) = db.glob("*/shard/segments/*/vector_storage-image/vectors/chunk_0.mmap")
    chunk.write_bytes(chunk.read_bytes()[:1000])
    res = CliRunner().invoke(app, ["verify", "--db", str(db)])
    assert res.exit_code == 1 and "UNREADABLE" in res.output and "Traceback" not in res.output, res.output
