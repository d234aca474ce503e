"""``mri-search index``: help, a full run through the CLI, and one-line errors (exit 2) for user mistakes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from mri_search.cli import app

runner = CliRunner()


def test_index_help():
    res = runner.invoke(app, ["index", "--help"])
    assert res.exit_code == 0 and "--qdrant-url" in res.output and "--shard" in res.output


def test_index_runs_and_reports(archive, model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MRI_SEARCH_HOME", str(tmp_path / "home"))
    args = ["index", str(archive), "--model", str(model_dir), "--workers", "0", "--no-progress", "--shard", "1/3"]
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["indexed"] > 0 and summary["location"] == str(tmp_path / "home" / "qdrant")
    res = runner.invoke(app, args)
    assert res.exit_code == 0 and f"indexed 0, skipped as already present {summary['indexed']}" in res.stdout


def test_index_user_errors_exit_2_without_traceback(archive, model_dir, other_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MRI_SEARCH_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("mri_search.model.shipped.default_model_dir", lambda: None)
    m = ["--model", str(model_dir)]
    cases = [
        (["index", str(archive)], "no default model shipped yet; pass --model DIR"),
        (["index", str(tmp_path / "missing"), *m], "does not exist"),
        (["index", str(archive), *m, "--shard", "3/2"], "--shard"),
        (["index", str(archive), *m, "--shard", "half"], "K/N"),
        (["index", str(archive), *m, "--db", str(tmp_path / "db"), "--qdrant-url", "http://localhost:1"], "either"),
        (["index", str(archive), "--model", str(tmp_path)], "not a model folder"),
        (["index", str(archive), *m, "--collection", "a/b"], "invalid collection name"),
    ]
    for args, message in cases:
        res = runner.invoke(app, args)
        assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output, (args, res.output)
    db = ["--db", str(tmp_path / "db"), "--collection", "shared", "--workers", "0", "--no-progress", "--shard", "0/3"]
    assert runner.invoke(app, ["index", str(archive), *m, *db]).exit_code == 0
    res = runner.invoke(app, ["index", str(archive), "--model", str(other_model_dir), *db])
    assert res.exit_code == 2 and "different models must not share a collection" in res.output


def test_shard_spec_and_split():
    import pytest

    from indexer.config import parse_shard
    from indexer.sharding import in_shard, shard_of

    assert parse_shard("2/5") == (2, 5) and parse_shard(None) == (0, 1) and parse_shard(" 0 / 1 ") == (0, 1)
    for bad in ("5/5", "1", "-1/3", "a/b", "1/0"):
        with pytest.raises(ValueError):
            parse_shard(bad)
    keys = [f"{i:032x}" for i in range(3000)]
    counts = [sum(shard_of(k, 3) == s for k in keys) for s in range(3)]
    assert sum(counts) == 3000 and min(counts) > 900  # about a third each
    assert all(sum(in_shard(k, (s, 3)) for s in range(3)) == 1 for k in keys[:300])
    assert shard_of("abc", 7) == 2  # fixed for every machine and Python version
