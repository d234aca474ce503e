"""``model_identity`` read straight from the safetensors bytes (no torch) equals the hash of the tensors as torch
loads them, the definition collections were named by, for float32 and half-precision folders."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import torch
from safetensors import safe_open

from mri_search.model import build_model, get_preset, model_identity, save_model
from mri_search.model.artifact import export_model
from mri_search.preprocess import PreprocessConfig

PRE = PreprocessConfig(spacing_mm=(8.0, 8.0, 8.0), size=(32, 32, 32))


def torch_identity(folder) -> str:
    """The definition, through torch."""
    meta = json.loads((folder / "config.json").read_text())
    tb = meta["text_backbone"]
    h = hashlib.sha256()
    h.update(json.dumps({"format_version": meta["format_version"], "model": meta["model"],
                         "preprocess_hash": meta["preprocess_hash"],
                         "backbone": [tb.get("name"), tb.get("support_sha256"),
                                      tb.get("weights_sha256") if tb.get("referenced") else None]},
                        sort_keys=True).encode())
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        for key in sorted(f.keys()):
            t = f.get_tensor(key).contiguous()
            h.update(f"{key}|{t.dtype}|{list(t.shape)}|".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def test_identity_without_torch_equals_the_torch_definition(tmp_path):
    torch.manual_seed(0)
    folder = save_model(build_model(get_preset("vit-tiny-test")).eval(), tmp_path / "f32", PRE)
    half = export_model(folder, tmp_path / "f16", storage_dtype="float16")
    for f in (folder, half):
        assert model_identity(f) == torch_identity(f)
    torn = tmp_path / "torn"
    shutil.copytree(folder, torn)
    data = (folder / "model.safetensors").read_bytes()
    for broken in (data[:1000], data[:8] + b"{not json" + data[17:], b""):
        (torn / "model.safetensors").write_bytes(broken)
        with pytest.raises(ValueError, match="model.safetensors is corrupt"):
            model_identity(torn)
