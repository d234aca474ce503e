"""Text queries through the ONNX report tower: the same embeddings and hits as torch, a damaged or foreign cache
refused and rebuilt, and a whole ``mri-search query`` process that imports neither torch nor transformers."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

from mri_search.cli import app
from mri_search.model import load_report_model, model_identity
from mri_search.model.report_onnx import INFO_NAME, ONNX_NAME, EncoderCacheInvalid, OnnxReportEncoder
from mri_search.query import Searcher
from mri_search.query.text_encoder import QueryTextEncoder, default_cache_root, torch_encode

TEXTS = ["MRI of the knee", "Sagittal STIR: bone marrow oedema of the lateral femoral condyle, 12 mm.",
         "IMPRESSION: 1. No acute infarct. 2. Chronic small-vessel ischaemic change (Fazekas 2).",
         "Ödem, naïve T2*-Sequenz" * 3, "lesion " * 200]
HEAVY = ("torch", "transformers", "sentence_transformers", "monai")


@pytest.fixture(scope="module")
def onnx_folder(indexed):
    """The query model's ONNX encoder in the suite's home (built by the first text query, or here)."""
    model_id = model_identity(indexed.model)
    enc = QueryTextEncoder(indexed.model, model_id)
    enc.encode("warm")
    assert enc.used == "onnx"
    return default_cache_root() / model_id


@pytest.fixture(scope="module")
def report_model(indexed):
    return load_report_model(indexed.model)


def test_onnx_embeddings_equal_the_torch_ones(onnx_folder, indexed, report_model):
    model_id = model_identity(indexed.model)
    onnx = OnnxReportEncoder.load(onnx_folder, model_id, embed_dim=32)
    ref_tokens = report_model.tokenize(TEXTS)
    got_tokens = onnx.tokenize(TEXTS)
    assert got_tokens["input_ids"].shape[1] == report_model.cfg.text.max_tokens  # the long text was truncated
    for key in ("input_ids", "attention_mask"):
        np.testing.assert_array_equal(ref_tokens[key].numpy(), got_tokens[key])
    ref = torch_encode(report_model, TEXTS)
    assert np.abs(onnx.encode(TEXTS) - ref).max() < 1e-4
    assert max(np.abs(onnx.encode([t])[0] - ref[i]).max() for i, t in enumerate(TEXTS)) < 1e-4
    assert np.allclose(np.linalg.norm(onnx.encode(TEXTS), axis=1), 1.0, atol=1e-5)
    info = json.loads((onnx_folder / INFO_NAME).read_text())
    assert info["model_id"] == model_id and info["max_abs_diff_to_torch"] < 1e-4

    # the whole query: the same hits, in the same order, as with the torch tower's embedding
    with Searcher.open(db=indexed.db) as searcher:
        for i, text in enumerate(TEXTS[:3]):
            a = searcher.search_text(text, top_k=8)
            b = searcher.search_vector(ref[i], top_k=8, modality="text")
            assert [h.id for h in a] == [h.id for h in b]
            assert np.allclose([h.score for h in a], [h.score for h in b], atol=1e-4)
        assert searcher.text_backend == "onnx"


def test_damaged_or_foreign_cache_is_refused_and_rebuilt(onnx_folder, indexed, report_model, tmp_path, caplog):
    model_id = model_identity(indexed.model)
    root = tmp_path / "cache"
    shutil.copytree(onnx_folder, root / model_id)
    onnx_file = root / model_id / ONNX_NAME
    data = bytearray(onnx_file.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one weight byte: the graph would still load, and answer wrongly
    onnx_file.write_bytes(bytes(data))
    with pytest.raises(EncoderCacheInvalid, match="report.onnx does not match its recorded sha256"):
        OnnxReportEncoder.load(root / model_id, model_id)
    with pytest.raises(EncoderCacheInvalid, match="not format 1 for model 0123456789abcdef"):
        OnnxReportEncoder.load(onnx_folder, "0123456789abcdef")  # another model's folder
    with pytest.raises(FileNotFoundError):
        OnnxReportEncoder.load(tmp_path / "nothing", model_id)
    older = tmp_path / "older"
    shutil.copytree(onnx_folder, older)
    info = json.loads((older / INFO_NAME).read_text())
    info["versions"]["onnxruntime"] = "0.1"
    (older / INFO_NAME).write_text(json.dumps(info))
    with pytest.raises(EncoderCacheInvalid, match="was checked with .*'onnxruntime': '0.1'"):
        OnnxReportEncoder.load(older, model_id)  # checked under another runtime: checked again

    with caplog.at_level(logging.WARNING, logger="mri_search.query.text_encoder"):
        enc = QueryTextEncoder(indexed.model, model_id, cache_root=root)
        got = enc.encode(TEXTS[1])
    assert "rebuilding the ONNX report encoder" in caplog.text and "sha256" in caplog.text
    assert enc.used == "onnx" and "build_onnx_ms" in enc.timings
    assert np.abs(got - torch_encode(report_model, [TEXTS[1]])[0]).max() < 1e-4
    OnnxReportEncoder.load(root / model_id, model_id)  # rebuilt: its hashes hold again
    assert sorted(p.name for p in root.iterdir()) == [model_id]  # no temporary folder left behind


def test_text_query_process_with_cached_onnx_imports_no_torch(onnx_folder, indexed):
    code = textwrap.dedent(f"""
        import atexit, sys
        atexit.register(lambda: print("HEAVY", [m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr))
        from mri_search.cli import app
        sys.argv = ["mri-search", "query", "MRI of the knee", "--db", {str(indexed.db)!r}, "--json", "-k", "3"]
        app()
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    assert "HEAVY []" in res.stderr, res.stderr[-2000:]
    out = json.loads(res.stdout)
    assert out["text_encoder"] == "onnx" and len(out["hits"]) == 3


def test_backend_choice_is_checked(indexed):
    with pytest.raises(ValueError, match="--text-encoder must be one of auto, onnx, torch"):
        QueryTextEncoder(indexed.model, "x", backend="gpu")
    with pytest.raises(ValueError, match="runs on the CPU"):
        QueryTextEncoder(indexed.model, "x", backend="onnx", device="cuda")
    res = CliRunner().invoke(app, ["query", "knee", "--db", str(indexed.db), "--text-encoder", "fast"])
    assert res.exit_code == 2 and "--text-encoder must be one of" in res.output and "Traceback" not in res.output
