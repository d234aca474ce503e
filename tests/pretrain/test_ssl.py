"""Stage-1 objectives: token order of the MAE target, which patches the MAE loss scores, gradients reach every
trainable parameter (DistributedDataParallel needs that), and the contrastive term prefers matching views."""

from __future__ import annotations

import pytest
import torch

from mri_search.model import VisionEncoder, build_model, get_preset
from pretrain.ssl import METHODS, SSLObjective, patchify, view_retrieval


@pytest.fixture()
def visual() -> VisionEncoder:
    torch.manual_seed(0)
    return build_model(get_preset("vit-tiny-test"), pretrained_text=False).visual  # 32^3 input, 2^3 patches of 16


def test_patchify_follows_the_patch_embedding_order(visual):
    # a volume whose every voxel holds the raster index (x slowest) of its 16^3 patch
    idx = torch.arange(8).reshape(2, 2, 2).repeat_interleave(16, 0).repeat_interleave(16, 1).repeat_interleave(16, 2)
    vol = idx[None, None].float()
    patches = patchify(vol, 16)  # [1, 8, 4096]
    assert patches.shape == (1, 8, 16 ** 3)
    assert torch.equal(patches[0, :, 0], torch.arange(8).float())
    assert torch.equal(patches.amin(-1), patches.amax(-1))  # each row is one patch, not a mix
    # and MONAI's conv patch embedding orders its tokens the same way: a token depends on its own patch only
    emb = visual.vit.patch_embedding
    base = emb(torch.zeros(1, 1, 32, 32, 32))
    bumped = torch.zeros(1, 1, 32, 32, 32)
    bumped[..., 16:, :16, 16:] = 1.0  # patch (x=1, y=0, z=1) -> raster index 1*4 + 0*2 + 1 = 5
    changed = (emb(bumped) - base).abs().sum(-1)[0] > 1e-6
    assert changed.nonzero().flatten().tolist() == [5]


def test_masked_loss_scores_only_hidden_patches(visual):
    obj = SSLObjective(visual, "mae", mask_ratio=0.5)
    vol = torch.rand(2, 1, 32, 32, 32)
    target = patchify(vol, 16)
    target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6).sqrt()
    seen = {}

    def fake_decoder(kept, keep):  # perfect on hidden patches, wrong on visible ones
        seen["keep"] = keep
        out = target.clone()
        out.scatter_(1, keep.unsqueeze(-1).expand(-1, -1, out.shape[-1]), 100.0)
        return out

    obj.decoder.forward = fake_decoder
    assert obj.masked_loss(vol).item() == pytest.approx(0.0, abs=1e-6)
    assert seen["keep"].shape == (2, 4)  # half of the 8 patches kept per sample
    assert all(len(set(row.tolist())) == 4 for row in seen["keep"])


@pytest.mark.parametrize("method", METHODS)
def test_every_trainable_parameter_gets_a_gradient(visual, method):
    obj = SSLObjective(visual, method)
    v1, v2 = torch.rand(3, 1, 32, 32, 32), torch.rand(3, 1, 32, 32, 32)
    loss = obj(v1, v2, torch.tensor([1, 2, 3]))
    assert torch.isfinite(loss) and loss.item() > 0
    loss.backward()
    missing = [n for n, p in obj.named_parameters() if p.requires_grad and p.grad is None]
    assert missing == []
    assert not hasattr(obj, "decoder") or method != "contrastive"


def test_contrastive_loss_prefers_matching_views(visual):
    obj = SSLObjective(visual, "contrastive").eval()
    torch.manual_seed(1)
    v1, v2 = torch.rand(4, 1, 32, 32, 32), torch.rand(4, 1, 32, 32, 32)
    with torch.no_grad():
        same = obj(v1, v1.clone()).item()
        other = obj(v1, v2).item()
    assert same < other


def test_view_retrieval_counts_exact_matches():
    f = torch.eye(4)
    assert view_retrieval(f, f) == 1.0
    assert view_retrieval(f, f[[1, 0, 2, 3]]) == 0.5


def test_bad_settings_are_value_errors(visual):
    with pytest.raises(ValueError, match="method"):
        SSLObjective(visual, "dino")
    with pytest.raises(ValueError, match="mask_ratio"):
        SSLObjective(visual, "mae", mask_ratio=1.0)
    with pytest.raises(ValueError, match="temperature"):
        SSLObjective(visual, "contrastive", temperature=0.0)
