"""Model configs and presets, the two towers, and the open_clip-style model surface (tiny preset, CPU)."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from mri_search.model import ModelCfg, TextCfg, VisionCfg, build_model, get_preset, list_presets

REPORTS = ["No acute intracranial abnormality.",
           "A 23 mm enhancing mass in the left parotid gland with an enlarged level II node on the same side."]


def tiny(**text) -> ModelCfg:
    cfg = get_preset("vit-tiny-test")
    return dataclasses.replace(cfg, text=dataclasses.replace(cfg.text, **text)) if text else cfg


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(tiny()).eval()


def test_presets_are_registered_with_their_numbers():
    assert list_presets() == ["vit-b-gpu", "vit-s-cpu", "vit-tiny-test", "vit-xs-conv-cpu", "vit-xs-cpu"]
    xs = get_preset("vit-xs-cpu")  # the cheaper steps of issue 19: half the width, the same 96^3 input
    assert (xs.vision.img_size, xs.vision.patch_size, xs.vision.hidden_size, xs.vision.num_heads,
            xs.vision.stem, xs.text.tune) == (96, 16, 192, 3, "patch", "frozen")
    assert get_preset("vit-xs-conv-cpu").vision.stem == "conv"
    s = get_preset("vit-s-cpu")
    assert (s.name, s.embed_dim) == ("vit-s-cpu", 256)
    assert (s.vision.img_size, s.vision.patch_size, s.vision.hidden_size, s.vision.mlp_dim, s.vision.num_layers,
            s.vision.num_heads, s.vision.grid) == (96, 16, 384, 1536, 6, 6, 6)
    b = get_preset("vit-b-gpu")
    assert (b.vision.hidden_size, b.vision.num_layers, b.vision.num_heads, b.vision.mlp_dim, b.embed_dim) == \
        (768, 12, 12, 3072, 512)
    t = get_preset("vit-tiny-test")
    assert (t.vision.img_size, t.vision.hidden_size, t.vision.num_layers, t.embed_dim) == (32, 64, 2, 32)
    assert s.init_logit_scale == pytest.approx(math.log(1 / 0.07)) and s.init_logit_bias == -10.0
    for name in list_presets():
        cfg = get_preset(name)
        assert ModelCfg.from_dict(cfg.to_dict()) == cfg


def test_unknown_keys_and_bad_values_fail_loudly():
    d = get_preset("vit-tiny-test").to_dict()
    with pytest.raises(ValueError, match="unknown key.*'embed_size'"):
        ModelCfg.from_dict({**d, "embed_size": 8})
    with pytest.raises(ValueError, match="'vision'.*unknown key.*'depth'"):
        ModelCfg.from_dict({**d, "vision": {**d["vision"], "depth": 3}})
    with pytest.raises(ValueError, match="'text'.*unknown key.*'model_path'"):
        ModelCfg.from_dict({**d, "text": {**d["text"], "model_path": "/tmp/x"}})
    with pytest.raises(ValueError, match="unknown model preset 'vit-huge'"):
        get_preset("vit-huge")
    with pytest.raises(ValueError, match="multiple of patch_size"):
        VisionCfg(img_size=40, patch_size=16)
    with pytest.raises(ValueError, match="pool"):
        VisionCfg(pool="max")
    with pytest.raises(ValueError, match="tune"):
        TextCfg(tune="some")
    with pytest.raises(ValueError, match="power of 2"):
        VisionCfg(img_size=36, patch_size=12, stem="conv")
    with pytest.raises(ValueError, match="stem"):
        VisionCfg(stem="resnet")
    with pytest.raises(ValueError, match="adapter"):
        TextCfg(adapter="transformer")


def test_embeddings_have_shape_and_unit_norm(model):
    x = torch.rand(3, 1, 32, 32, 32)
    tokens = model.tokenize(REPORTS)
    with torch.no_grad():
        v, t = model.encode_volume(x), model.encode_report(tokens)
        v_raw = model.encode_volume(x, normalize=False)
    assert v.shape == (3, 32) and t.shape == (2, 32)
    assert torch.allclose(v.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert torch.allclose(t.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert not torch.allclose(v_raw.norm(dim=-1), torch.ones(3), atol=1e-2)
    assert torch.allclose(torch.nn.functional.normalize(v_raw, dim=-1), v, atol=1e-6)
    assert not torch.allclose(v[0], v[1])  # different volumes, different embeddings


def test_forward_returns_the_clip_dict(model):
    x = torch.rand(2, 1, 32, 32, 32)
    tokens = model.tokenize(REPORTS)
    with torch.no_grad():
        both, vol, txt = model(x, tokens), model(x, None), model(None, tokens)
    assert set(both) == {"image_features", "text_features", "logit_scale", "logit_bias"}
    assert set(vol) == {"image_features", "logit_scale", "logit_bias"}
    assert set(txt) == {"text_features", "logit_scale", "logit_bias"}
    assert both["logit_scale"].item() == pytest.approx(1 / 0.07, rel=1e-5)  # exp of the stored log scale
    assert both["logit_bias"].item() == -10.0
    assert torch.equal(both["image_features"], vol["image_features"])
    assert torch.equal(both["text_features"], txt["text_features"])


def test_clip_loss_trains_only_the_trainable_parameters():
    from open_clip.loss import ClipLoss

    torch.manual_seed(1)
    m = build_model(tiny(tune="last", tune_last_n=1)).train()
    out = m(torch.rand(2, 1, 32, 32, 32), m.tokenize(REPORTS))
    loss = ClipLoss()(out["image_features"], out["text_features"], out["logit_scale"])
    loss.backward()
    with_grad = {n for n, p in m.named_parameters() if p.grad is not None}
    assert "visual.proj.weight" in with_grad and "text.proj.weight" in with_grad and "logit_scale" in with_grad
    assert "text.backbone.encoder.layer.5.output.dense.weight" in with_grad
    assert not any(n.startswith(("text.backbone.embeddings", "text.backbone.encoder.layer.4")) for n in with_grad)


def test_clip_training_gives_every_trainable_parameter_a_gradient():
    # DistributedDataParallel stops on a trainable parameter without a gradient: MONAI's unused norms are frozen,
    # and CLIP freezes the SigLIP bias
    from open_clip.loss import ClipLoss

    m = build_model(tiny(tune="last", tune_last_n=1)).train()
    m.use_logit_bias(False)
    out = m(torch.rand(2, 1, 32, 32, 32), m.tokenize(REPORTS))
    ClipLoss()(out["image_features"], out["text_features"], out["logit_scale"]).backward()
    assert [n for n, p in m.named_parameters() if p.requires_grad and p.grad is None] == []


def test_logit_scale_is_clamped_at_100():
    m = build_model(tiny())
    with torch.no_grad():
        m.logit_scale.fill_(10.0)
    assert m(None, None)["logit_scale"].item() == pytest.approx(100.0)


def test_volume_of_the_wrong_size_is_a_clear_error(model):
    with pytest.raises(ValueError, match=r"\[B, 1, 32, 32, 32\]"):
        model.encode_volume(torch.rand(1, 1, 48, 48, 48))


def test_vision_adapter_equals_monai_forward_and_exposes_tokens(model):
    x = torch.rand(2, 1, 32, 32, 32)
    vis = model.visual
    with torch.no_grad():
        seq = vis._sequence(x, None)
        ref, _hidden = vis.vit(x)  # MONAI's own forward (its classification head removed)
        tokens = vis.forward_tokens(x)
        pooled = vis.forward_features(x)
        kept = vis.forward_tokens(x, keep=torch.tensor([[0, 5, 7], [1, 2, 3]]))
    assert torch.equal(seq, ref) and seq.shape == (2, 1 + 8, 64)
    assert tokens.shape == (2, 8, 64) and torch.equal(tokens, seq[:, 1:])
    assert torch.equal(pooled, seq[:, 0])
    assert kept.shape == (2, 3, 64)
    assert not hasattr(vis.vit, "classification_head")

    mean_cfg = dataclasses.replace(tiny().vision, pool="mean")
    from mri_search.model import VisionEncoder

    mean_vis = VisionEncoder(mean_cfg, 32).eval()
    with torch.no_grad():
        t = mean_vis.forward_tokens(x)
        assert t.shape == (2, 8, 64)
        assert torch.allclose(mean_vis.forward_features(x), t.mean(dim=1))
        assert torch.equal(t, mean_vis.vit(x)[0])


def test_report_pooling_ignores_padding(model):
    with torch.no_grad():
        alone = model.encode_report(model.tokenize(REPORTS[:1]))
        padded = model.encode_report(model.tokenize(REPORTS))  # REPORTS[0] padded to the longer one
    assert model.tokenize(REPORTS)["attention_mask"][0].sum() < model.tokenize(REPORTS)["input_ids"].shape[1]
    assert torch.allclose(alone[0], padded[0], atol=1e-5)


def test_report_truncates_to_max_tokens(model):
    tokens = model.tokenize(["effusion " * 500])
    assert tokens["input_ids"].shape == (1, 64)  # the tiny preset's max_tokens


def test_text_tuning_policies():
    frozen = build_model(tiny(tune="frozen"))
    assert frozen.training and not frozen.text.backbone.training  # built in train mode, frozen backbone in eval
    assert not any(p.requires_grad for p in frozen.text.backbone.parameters())
    assert frozen.text.proj.weight.requires_grad
    assert {n for n, p in frozen.visual.named_parameters() if not p.requires_grad} == {
        f"vit.blocks.{i}.norm_cross_attn.{w}" for i in range(2) for w in ("weight", "bias")}  # MONAI's unused norm
    frozen.train()
    assert not frozen.text.backbone.training and frozen.visual.training  # a frozen backbone has no dropout

    last = build_model(tiny(tune="last", tune_last_n=2))
    assert all(mod.training for mod in last.modules())  # one consistent mode after construction
    trainable = {n for n, p in last.text.backbone.named_parameters() if p.requires_grad}
    expected = {n for n, _ in last.text.backbone.named_parameters() if n.startswith(("encoder.layer.4.",
                                                                                      "encoder.layer.5."))}
    assert trainable == expected and len(trainable) == 32  # 16 tensors per BERT layer
    assert last.text.backbone.pooler is None

    with pytest.raises(ValueError, match="tune_last_n"):
        build_model(tiny(tune="last", tune_last_n=7))


def test_conv_stem_gives_the_token_grid_of_the_patch_stem():
    cfg = get_preset("vit-tiny-test")
    conv = dataclasses.replace(cfg, vision=dataclasses.replace(cfg.vision, stem="conv", stem_width=4))
    torch.manual_seed(0)
    m = build_model(conv).eval()
    stem = m.visual.vit.patch_embedding.patch_embeddings
    halvings = conv.vision.patch_size.bit_length() - 1  # 32 -> 16 -> ... -> 32 / patch_size
    assert [type(layer).__name__ for layer in stem][::3] == ["Conv3d"] * halvings
    x = torch.rand(2, 1, 32, 32, 32)
    with torch.no_grad():
        tokens = m.visual.forward_tokens(x)
    assert tokens.shape == (2, conv.vision.grid ** 3, conv.vision.hidden_size)
    # a voxel reaches only the tokens whose kernels cover it (no norm over space): a change in one corner leaves
    # the far corner's token alone (64^3, patch 8: receptive field 15 voxels, tokens 8 apart)
    from mri_search.model.vision import conv_stem

    emb = conv_stem(VisionCfg(img_size=64, patch_size=8, hidden_size=16, mlp_dim=16, num_heads=2, stem="conv",
                              stem_width=4)).eval()
    x = torch.rand(1, 1, 64, 64, 64)
    y = x.clone()
    y[:, :, :4, :4, :4] += 1.0
    with torch.no_grad():
        a, b = emb(x), emb(y)
    assert a.shape == (1, 16, 8, 8, 8)
    assert not torch.allclose(a[..., 0, 0, 0], b[..., 0, 0, 0]) and torch.equal(a[..., 7, 7, 7], b[..., 7, 7, 7])


def test_masked_pretraining_refuses_the_conv_stem():
    from pretrain.ssl import SSLObjective

    cfg = get_preset("vit-tiny-test")
    conv = dataclasses.replace(cfg, vision=dataclasses.replace(cfg.vision, stem="conv", stem_width=4))
    visual = build_model(conv).visual
    with pytest.raises(ValueError, match="stem 'patch'"):
        SSLObjective(visual, "mae")
    SSLObjective(visual, "contrastive")


def test_mlp_adapter_and_the_frozen_feature_cache():
    torch.manual_seed(0)
    m = build_model(tiny(tune="frozen", adapter="mlp", adapter_hidden=16)).eval()
    assert isinstance(m.text.proj, torch.nn.Sequential) and m.text.proj[0].out_features == 16
    texts = [REPORTS[0], REPORTS[1], REPORTS[0]]
    tokens = m.tokenize(texts)
    with torch.no_grad():
        plain = m.text.forward_features(tokens)
    calls = []
    m.text.backbone.register_forward_hook(lambda mod, args, kw_out: calls.append(1))
    m.text.cache_features(True)
    with torch.no_grad():
        first = m.text.forward_features(tokens)  # two distinct texts, computed once each, in one call
        again = m.text.forward_features(m.tokenize([REPORTS[1]]))
    assert len(calls) == 1
    assert torch.allclose(first, plain, atol=1e-5) and torch.allclose(again[0], plain[1], atol=1e-5)
    m.text.cache_features(False)
    with torch.no_grad():
        m.text.forward_features(tokens)
    assert len(calls) == 2
    tuned = build_model(tiny(tune="last"))
    with pytest.raises(ValueError, match="frozen backbone"):
        tuned.text.cache_features(True)
