"""The CLI: help for every command, version, and clean errors for user mistakes."""

from typer.testing import CliRunner

from mri_search import __version__
from mri_search.cli import app

runner = CliRunner()


def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and __version__ in res.output


def test_every_command_has_help():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for cmd in ("synth", "synth-summary", "inspect"):
        assert cmd in res.output
        sub = runner.invoke(app, [cmd, "--help"])
        assert sub.exit_code == 0 and "Usage" in sub.output


def test_bad_input_is_a_clean_error(tmp_path):
    res = runner.invoke(app, ["synth", str(tmp_path / "o"), "--format", "jpeg"])
    assert res.exit_code == 2 and "--format" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["synth", str(tmp_path / "o"), "--regions", "elbow"])
    assert res.exit_code == 2 and "elbow" in res.output
    res = runner.invoke(app, ["synth-summary", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "manifest.parquet" in res.output


def test_inspect_missing_archive_is_a_clean_error(tmp_path):
    res = runner.invoke(app, ["inspect", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_inspect_refuses_no_header_workers(tmp_path):
    res = runner.invoke(app, ["inspect", str(tmp_path), "--workers", "0"])
    assert res.exit_code == 2 and "--workers must be 1 or more" in res.output and "Traceback" not in res.output
