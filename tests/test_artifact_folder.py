"""The one artifact-folder reader: each way a folder can be wrong is one clear ArtifactError line."""

from __future__ import annotations

import json

import pytest

from mri_search.artifact_folder import ArtifactError, read_config


def _folder(tmp_path, config, weights=True):
    d = tmp_path / "f"
    d.mkdir(parents=True)
    if config is not None:
        (d / "c.json").write_text(config if isinstance(config, str) else json.dumps(config))
    if weights:
        (d / "w.bin").write_bytes(b"x")
    return d


def _read(folder):
    return read_config(folder, "probe", 2, "c.json", files=("w.bin",), required=("kind",), hint="pass --out")


def test_a_good_folder_gives_its_config(tmp_path):
    assert _read(_folder(tmp_path, {"format_version": 2, "kind": "k"})) == {"format_version": 2, "kind": "k"}
    assert _read(_folder(tmp_path / "a", {"format_version": 1, "kind": "k"}))["format_version"] == 1  # older: read


@pytest.mark.parametrize("config, weights, message", [
    (None, True, r"f is not a probe folder: c\.json is missing; pass --out$"),
    ({"format_version": 1, "kind": "k"}, False, r"f is not a probe folder: w\.bin is missing; pass --out$"),
    ("{not json", True, r"c\.json is corrupt: Expecting property name"),
    ([1, 2], True, r"c\.json has no format_version \(a positive integer\): not an mri-search probe folder"),
    ({"format_version": "1", "kind": "k"}, True, "has no format_version"),
    ({"format_version": True, "kind": "k"}, True, "has no format_version"),
    ({"format_version": 0, "kind": "k"}, True, "has no format_version"),
    ({"format_version": 3, "kind": "k"}, True, r"f has probe format 3, newer than this mri-search reads \(2\); "
                                               "upgrade mri-search"),
    ({"format_version": 2}, True, r"c\.json is corrupt: missing \['kind'\]"),
])
def test_each_fault_is_one_line(tmp_path, config, weights, message):
    with pytest.raises(ArtifactError, match=message):
        _read(_folder(tmp_path, config, weights))


def test_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match=r"nowhere is not a probe folder: it does not exist; pass --out$"):
        _read(tmp_path / "nowhere")
    (tmp_path / "file").write_text("")
    with pytest.raises(ArtifactError, match="it does not exist"):
        _read(tmp_path / "file")
