"""``mri-search embed``: every series of an archive into one features file (the index's rows plus frozen features),
the values being the model's own; a preprocessing cache changes nothing; user mistakes are one-line errors."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import torch
from typer.testing import CliRunner

from mri_search.cli import app
from mri_search.ingest.archive import scan_archive
from mri_search.model import load_model, model_identity
from mri_search.preprocess import preprocess
from mri_search.probe import read_features
from mri_search.probe.features import read_info
from mri_search.store import point_id
from mri_search.store.parquet import read_points

runner = CliRunner()


def test_embed_writes_the_models_features(archive, model_dir, tmp_path):
    out = tmp_path / "features.parquet"
    res = runner.invoke(app, ["embed", str(archive), "--model", str(model_dir), "--out", str(out), "--workers", "0",
                              "--batch-size", "4", "--patch-tokens", "--no-progress", "--cache-dir",
                              str(tmp_path / "cache")])
    assert res.exit_code == 0, res.output
    scan = scan_archive(archive)
    table = pq.read_table(out)
    assert table.num_rows == len(scan.series) > 10
    assert sorted(table.column("series_key").to_pylist()) == sorted(r.key for r in scan.series)
    info = read_info(out)
    loaded = load_model(model_dir)
    hidden, n_tok = loaded.model.cfg.vision.hidden_size, loaded.model.visual.num_patches
    assert (info.hidden, info.n_tokens, info.patch_tokens) == (hidden, n_tok, True)
    # the values are the frozen model's: embedding, pooled feature, token mean, tokens
    rec = scan.series[0]
    row = next(r for r in table.to_pylist() if r["series_key"] == rec.key)
    with torch.no_grad():
        x = preprocess(rec, loaded.preprocess)[None].as_tensor()
        pooled, tokens = loaded.model.visual.forward_pooled_and_tokens(x)
        emb = loaded.model.encode_volume(x)
    np.testing.assert_allclose(row["image_embedding"], emb[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(row["pooled"], pooled[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(row["token_mean"], tokens[0].mean(0).numpy(), atol=1e-5)
    np.testing.assert_allclose(np.reshape(row["patch_tokens"], (n_tok, hidden)), tokens[0].numpy(), atol=1e-5)
    assert row["id"] == point_id(model_identity(model_dir), rec.key) and row["report_embedding"] is not None
    # readable as the index's rows, and as probe features
    assert len(list(read_points(out))) == table.num_rows
    f = read_features(out, "pooled")
    assert f.x.shape == (table.num_rows, hidden) and f.meta.model_id == model_identity(model_dir)
    # a second run reads the preprocessing cache it filled: the same file content
    out2 = tmp_path / "again.parquet"
    res = runner.invoke(app, ["embed", str(archive), "--model", str(model_dir), "--out", str(out2), "--workers",
                              "0", "--no-progress", "--cache-dir", str(tmp_path / "cache"), "--json"])
    assert res.exit_code == 0, res.output
    again = pq.read_table(out2)
    assert again.column("patch_tokens").null_count == again.num_rows  # not asked for this time
    a = {r["series_key"]: r["pooled"] for r in table.select(["series_key", "pooled"]).to_pylist()}
    for r in again.select(["series_key", "pooled"]).to_pylist():
        np.testing.assert_allclose(r["pooled"], a[r["series_key"]], atol=1e-6)


def test_embed_user_errors(archive, model_dir, tmp_path):
    for args, needle in (([str(tmp_path / "nope"), "--model", str(model_dir), "--out", str(tmp_path / "f.parquet")],
                          "does not exist"),
                         ([str(archive), "--model", str(model_dir), "--out", str(tmp_path)], "is a folder"),
                         ([str(archive), "--model", str(tmp_path), "--out", str(tmp_path / "f.parquet")], "")):
        res = runner.invoke(app, ["embed", *args])
        assert res.exit_code == 2 and needle in res.output and "Traceback" not in res.output, res.output
