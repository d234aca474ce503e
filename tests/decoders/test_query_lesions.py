"""`mri-search query --lesions DECODER`: where in each retrieved series the lesion is, on a real embedded index of
the decoder archive (tiny model, NIfTI half) and a localisation decoder trained for two steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from indexer.config import IndexCfg
from indexer.run import run_index
from mri_search.cli import app
from mri_search.query.lesions import locate_lesions
from mri_search.query.searcher import QueryHit

runner = CliRunner()


@pytest.fixture(scope="module")
def setup(seg_archive, tiny_model, cache_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("qlesions")
    dec = tmp / "loc"
    res = runner.invoke(app, ["localize", "train", str(seg_archive), "--model", str(tiny_model), "--out", str(dec),
                              "--steps", "2", "--cache-dir", str(cache_dir)])
    assert res.exit_code == 0, res.output
    s = run_index(IndexCfg(archive=seg_archive / "nifti", model=tiny_model, db=tmp / "db", errors=tmp / "errors.tsv",
                           workers=0, batch_size=8, progress=False))
    assert s.failed == 0 and s.indexed == 6
    return tmp, dec


def _query(tmp: Path, dec: Path, image: Path, *extra: str):
    return runner.invoke(app, ["query", "--image", str(image), "--db", str(tmp / "db"), "--top-k", "3",
                               "--lesions", str(dec), "--lesions-out", str(tmp / "out"), *extra])


def test_query_shows_where_the_lesion_is_in_each_hit(setup, seg_archive):
    tmp, dec = setup
    flair = next((seg_archive / "nifti").rglob("*_FLAIR.nii.gz"))
    res = _query(tmp, dec, flair, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    found = doc["lesions"]
    assert found["decoder"] == str(dec) and set(found["hits"]) == {"1", "2", "3"} and not found["unreadable"]
    for rank, hit in found["hits"].items():
        assert 0.0 <= hit["peak_probability"] <= 1.0 and Path(hit["overlay"]).is_file()
        assert Path(hit["heatmap"]).name.startswith(f"0{rank}_") and Path(hit["heatmap"]).is_file()
        top = hit["strongest"]
        assert (top is None) == (hit["lesions"] == 0)
        if top is not None:
            assert len(top["centre_ras_mm"]) == 3 and top["slice_index"] >= 0
    assert doc["hits"][0]["series_key"] and doc["hits"][0]["score"] == pytest.approx(1.0, abs=1e-3)  # itself
    res = _query(tmp, dec, flair)
    assert res.exit_code == 0 and "lesions (decoder" in res.output and "#1: " in res.output


def test_query_lesions_user_errors(setup, seg_archive, tmp_path):
    tmp, dec = setup
    flair = next((seg_archive / "nifti").rglob("*_FLAIR.nii.gz"))
    res = runner.invoke(app, ["query", "--image", str(flair), "--db", str(tmp / "db"), "--lesions", str(tmp_path)])
    assert res.exit_code == 2 and "not a decoder folder" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["query", "glioma", "--db", str(tmp / "db"), "--target", "reports", "--lesions",
                              str(dec)])
    assert res.exit_code == 2 and "--target images" in res.output


def test_a_hit_whose_series_is_gone_is_reported_and_the_others_go_on(setup, seg_archive, tmp_path):
    _, dec = setup
    flair = next((seg_archive / "nifti").rglob("*_FLAIR.nii.gz"))
    base = dict(score=0.9, id="x", study_key="s", sequence="FLAIR", plane="axial", body_part="", manufacturer="",
                series_description="", impression="", payload={"source": "nifti"})
    hits = [QueryHit(rank=1, series_key="gone", path=str(tmp_path / "moved.nii.gz"), **base),
            QueryHit(rank=2, series_key="", path=str(flair), **base)]
    found = locate_lesions(hits, dec, tmp_path / "out")
    assert "no longer exists" in found.unreadable[1] and set(found.by_rank) == {2}
    assert found.lines()[0].startswith("#1: not readable")
