"""The model folder: exact round trips, the referenced backbone's sha256 check, identity, offline loading."""

from __future__ import annotations

import dataclasses
import json
import socket

import pytest
import torch
from safetensors import safe_open

from mri_search.model import build_model, get_preset, load_model, model_identity, save_model
from mri_search.preprocess import PreprocessConfig

PRE = PreprocessConfig(spacing_mm=(4.0, 4.0, 4.0), size=(32, 32, 32), lower_percentile=1.0)
REPORTS = ["Normal MRI of the knee.", "Full-thickness tear of the supraspinatus tendon with 12 mm retraction."]


def tiny(**text):
    cfg = get_preset("vit-tiny-test")
    return dataclasses.replace(cfg, text=dataclasses.replace(cfg.text, **text)) if text else cfg


def trained(cfg, seed=0):
    """A model whose stored weights differ from any fresh initialisation (as after training)."""
    torch.manual_seed(seed)
    m = build_model(cfg)
    with torch.no_grad():
        for name, p in m.named_parameters():
            # every tower parameter, and one tuned backbone tensor (all 22 M would only slow the test)
            if p.requires_grad and (not name.startswith("text.backbone.") or name.endswith("5.output.dense.weight")):
                p.add_(0.01 * torch.randn_like(p))
    return m.eval()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The tiny preset (text tune 'last', 1 layer), saved once."""
    model = trained(tiny())
    folder = save_model(model, tmp_path_factory.mktemp("m") / "tiny", PRE, recipe={"lr": 1e-4, "stage": "clip"},
                        data_fingerprint="abc123", metrics={"R@5": 0.5})
    return model, folder


def embeddings(model, x):
    with torch.no_grad():
        return model.encode_volume(x), model.encode_report(model.tokenize(REPORTS))


def test_round_trip_reproduces_embeddings_exactly(saved):
    model, folder = saved
    loaded = load_model(folder)
    assert not loaded.model.training
    assert loaded.preprocess == PRE and loaded.preprocess.hash() == PRE.hash()
    assert loaded.cfg == model.cfg
    x = torch.rand(2, 1, 32, 32, 32)
    v0, t0 = embeddings(model, x)
    v1, t1 = embeddings(loaded.model, x)
    assert torch.equal(v0, v1) and torch.equal(t0, t1)
    assert torch.equal(loaded.model.logit_scale, model.logit_scale)

    meta = json.loads((folder / "config.json").read_text())
    assert meta["format_version"] == 1 and meta["embed_dim"] == 32
    assert meta["recipe"] == {"lr": 1e-4, "stage": "clip"} and meta["metrics"] == {"R@5": 0.5}
    assert meta["data_fingerprint"] == "abc123"
    assert set(meta["versions"]) >= {"torch", "monai", "transformers", "open_clip_torch", "mri-search"}
    assert meta["text_backbone"]["name"] == "all-MiniLM-L6-v2" and len(meta["text_backbone"]["weights_sha256"]) == 64
    # only the tuned last layer of the backbone is stored; the rest is referenced
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        backbone = {k for k in f.keys() if k.startswith("text.backbone.")}
    assert backbone and all(k.startswith("text.backbone.encoder.layer.5.") for k in backbone)


@pytest.mark.parametrize("tune", ["frozen", "all"])
def test_round_trip_frozen_and_fully_tuned_text(tmp_path, tune):
    model = trained(tiny(tune=tune), seed=3)
    folder = save_model(model, tmp_path / tune, PRE)
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        n_backbone = sum(k.startswith("text.backbone.") for k in f.keys())
    assert n_backbone == (0 if tune == "frozen" else len(model.text.backbone.state_dict()))
    loaded = load_model(folder)
    x = torch.rand(1, 1, 32, 32, 32)
    v0, t0 = embeddings(model, x)
    v1, t1 = embeddings(loaded.model, x)
    assert torch.equal(v0, v1) and torch.equal(t0, t1)


def test_tampered_backbone_hash_is_refused(saved, tmp_path):
    _, folder = saved
    meta = json.loads((folder / "config.json").read_text())
    meta["text_backbone"]["weights_sha256"] = "0" * 64
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes())
    (bad / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="backbone weights .* differ"):
        load_model(bad)
    meta["text_backbone"]["weights_sha256"] = json.loads((folder / "config.json").read_text())[
        "text_backbone"]["weights_sha256"]
    meta["text_backbone"]["support_sha256"] = "f" * 64
    (bad / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="tokenizer/config"):
        load_model(bad)


def test_bad_folders_are_clear_errors(saved, tmp_path):
    _, folder = saved
    with pytest.raises(ValueError, match="does not exist"):
        load_model(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="config.json is missing"):
        load_model(tmp_path / "empty")

    def copy(name, config_text=None, weights=None):
        d = tmp_path / name
        d.mkdir()
        (d / "config.json").write_text(config_text or (folder / "config.json").read_text())
        (d / "model.safetensors").write_bytes(weights or (folder / "model.safetensors").read_bytes())
        return d

    with pytest.raises(ValueError, match="corrupt"):
        load_model(copy("badjson", config_text="{not json"))
    newer = json.loads((folder / "config.json").read_text())
    newer["format_version"] = 99
    with pytest.raises(ValueError, match="newer"):
        load_model(copy("newer", config_text=json.dumps(newer)))
    with pytest.raises(ValueError, match="model.safetensors is corrupt"):
        load_model(copy("torn", weights=(folder / "model.safetensors").read_bytes()[:1000]))
    unknown = json.loads((folder / "config.json").read_text())
    unknown["model"]["vision"]["depth"] = 4
    with pytest.raises(ValueError, match="unknown key.*'depth'"):
        load_model(copy("unknown", config_text=json.dumps(unknown)))


def test_save_refuses_inconsistent_inputs(tmp_path):
    model = trained(tiny(tune="frozen"))
    with pytest.raises(ValueError, match="does not match the model's input"):
        save_model(model, tmp_path / "a", PreprocessConfig())  # 96^3 preprocessing for a 32^3 model
    with torch.no_grad():
        model.text.backbone.embeddings.word_embeddings.weight[0, 0] += 1.0  # a frozen weight changed
    with pytest.raises(ValueError, match="word_embeddings.*would be lost"):
        save_model(model, tmp_path / "b", PRE)


def test_identity_follows_weights_not_metadata(saved, tmp_path):
    model, folder = saved
    ident = model_identity(folder)
    assert len(ident) == 16 and ident == model_identity(folder)
    again = save_model(model, tmp_path / "again", PRE, metrics={"R@5": 0.9}, recipe={"other": 1})
    assert model_identity(again) == ident  # metrics, recipe and save time do not change what it embeds
    changed = trained(tiny())
    with torch.no_grad():
        changed.visual.proj.weight[0, 0] += 1e-3
    assert model_identity(save_model(changed, tmp_path / "changed", PRE)) != ident
    other_pre = dataclasses.replace(PRE, lower_percentile=2.0)
    assert model_identity(save_model(model, tmp_path / "pre", other_pre)) != ident


def test_loading_needs_no_network(saved, monkeypatch):
    _, folder = saved
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")

    def no_network(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    loaded = load_model(folder)
    assert loaded.model.encode_volume(torch.rand(1, 1, 32, 32, 32)).shape == (1, 32)


def test_half_precision_export_halves_the_file_and_keeps_embeddings(saved, tmp_path):
    from mri_search.model import export_model

    model, folder = saved
    out = export_model(folder, tmp_path / "half", storage_dtype="float16", notes={"why": "ship"})
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        dtypes = {f.get_tensor(k).dtype for k in f.keys()}
    assert dtypes <= {torch.float16, torch.int64}
    size = lambda p: (p / "model.safetensors").stat().st_size  # noqa: E731
    assert size(out) < 0.55 * size(folder)
    meta = json.loads((out / "config.json").read_text())
    assert meta["storage_dtype"] == "float16" and meta["recipe"]["export"]["from_identity"] == model_identity(folder)
    assert meta["recipe"]["lr"] == 1e-4 and meta["metrics"] == {"R@5": 0.5}
    loaded = load_model(out)
    assert next(loaded.model.parameters()).dtype == torch.float32
    x = torch.rand(2, 1, 32, 32, 32)
    (v0, t0), (v1, t1) = embeddings(model, x), embeddings(loaded.model, x)
    assert (v0 - v1).abs().max() < 2e-3 and (t0 - t1).abs().max() < 2e-3
    assert not torch.equal(v0, v1)  # it really was rounded
    assert model_identity(out) != model_identity(folder)
    with pytest.raises(ValueError, match="storage_dtype"):
        export_model(folder, tmp_path / "bad", storage_dtype="int8")
    with pytest.raises(ValueError, match="differ"):
        export_model(folder, folder)
