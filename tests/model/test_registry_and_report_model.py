"""The model registry that index runs write and queries read, and the report tower loaded alone (text queries):
same embeddings as the whole model, and no MONAI import on that path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from mri_search.model import (
    build_model, get_preset, load_model, load_report_model, model_identity, save_model,
)
from mri_search.model.registry import find_model, register_model
from mri_search.preprocess import PreprocessConfig

PRE = PreprocessConfig(spacing_mm=(8.0, 8.0, 8.0), size=(32, 32, 32))
TEXTS = ["MRI of the knee", "Full-thickness tear of the supraspinatus tendon.", "brain"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("reg")
    out = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        out.append(save_model(build_model(get_preset("vit-tiny-test")).eval(), root / f"m{seed}", PRE))
    return out


def test_register_find_and_stale_entries(folders, tmp_path):
    reg = tmp_path / "home" / "models.json"
    a, b = folders
    ida = register_model(a, path=reg)
    assert ida == model_identity(a) and find_model(ida, path=reg) == a.resolve()
    idb = register_model(b, model_identity(b), path=reg)
    data = json.loads(reg.read_text())
    assert set(data["models"]) == {ida, idb} and data["models"][idb]["name"] == "vit-tiny-test"
    assert find_model("0" * 16, path=reg) is None
    # b's folder is overwritten with a's weights: its entry no longer holds model b
    for name in ("model.safetensors", "config.json"):
        (b / name).write_bytes((a / name).read_bytes())
    assert find_model(idb, path=reg) is None
    # touched but unchanged: the identity is computed again and still matches
    os.utime(a / "model.safetensors")
    assert find_model(ida, path=reg) == a.resolve()
    reg.write_text("{not json")
    assert find_model(ida, path=reg) is None  # a corrupt registry is ignored, then rewritten
    register_model(a, ida, path=reg)
    assert find_model(ida, path=reg) == a.resolve()
    with pytest.raises(ValueError, match="not a model folder"):
        register_model(tmp_path, path=reg)


def test_report_model_gives_the_whole_models_report_embeddings(folders):
    full = load_model(folders[0]).model
    alone = load_report_model(folders[0])
    assert not alone.training and alone.embed_dim == full.embed_dim
    with torch.no_grad():
        assert torch.equal(full.encode_report(full.tokenize(TEXTS)), alone.encode_report(alone.tokenize(TEXTS)))
    assert all(k.startswith("text.") for k in alone.state_dict())


def test_text_path_does_not_import_monai(folders):
    code = textwrap.dedent(f"""
        import sys
        from mri_search.model import load_report_model, model_identity
        from mri_search.query import Searcher
        model_identity({str(folders[0])!r})
        m = load_report_model({str(folders[0])!r})
        m.encode_report(m.tokenize(["knee"]))
        print("MONAI" if any(n == "monai" or n.startswith("monai.") for n in sys.modules) else "CLEAN")
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert res.stdout.strip().endswith("CLEAN"), res.stdout + res.stderr
