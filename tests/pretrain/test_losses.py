"""Contrastive losses (CLIP / SigLIP via open_clip), same-study masking, and recall@k."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from open_clip.loss import ClipLoss, SigLipLoss

from pretrain.losses import ContrastiveLoss, label_groups, study_ids
from pretrain.metrics import recall_at_k

E1, E2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
SCALE = torch.tensor(10.0)


def two_series_of_one_study():
    """Series a1, a2 of study 0 (perfectly aligned with its report t) and series b of study 1 with report u."""
    img = torch.stack([E1, E1, E2]).double().requires_grad_()
    txt = torch.stack([E1, E1, E2]).double().requires_grad_()  # the report of study 0 appears twice
    return img, txt, torch.tensor([7, 7, 3])


def test_masked_clip_matches_hand_computed_value():
    img, txt, groups = two_series_of_one_study()
    s = SCALE.item()
    # rows a1, a2 (and t1, t2): logits [s, masked, 0]; rows b (and u): [0, 0, s]
    expected = (2 * math.log(1 + math.exp(-s)) + math.log(1 + 2 * math.exp(-s))) / 3
    masked = ContrastiveLoss("clip")(img, txt, SCALE, group_ids=groups)
    assert masked.item() == pytest.approx(expected, rel=1e-5)
    # plain CLIP treats the copy as a negative: a1 row [s, s, 0] can never go below log 2
    plain_expected = (2 * math.log(2 + math.exp(-s)) + math.log(1 + 2 * math.exp(-s))) / 3
    assert ContrastiveLoss("clip")(img, txt, SCALE).item() == pytest.approx(plain_expected, rel=1e-5)


def test_masked_clip_does_not_push_series_of_one_study_apart():
    """Series a2 and the other copy t1 of its report (copies differ under text dropout or report augmentation)
    do not interact under the masked loss: a2's gradient is the same whatever t1 is. Plain CLIP treats (a2, t1) as
    a negative and pushes a2 away from a paraphrase of its own report."""
    torch.manual_seed(0)
    groups = torch.tensor([0, 0, 1, 2])
    img = F.normalize(torch.randn(4, 3, dtype=torch.float64), dim=-1)
    txt = F.normalize(torch.randn(4, 3, dtype=torch.float64), dim=-1)
    other_t1 = txt.clone()
    other_t1[0] = F.normalize(torch.tensor([0.3, -1.0, 0.2], dtype=torch.float64), dim=0)

    def grad_of_a2(texts, group_ids):
        x = img.clone().requires_grad_()
        ContrastiveLoss("clip")(x, texts, SCALE, group_ids=group_ids).backward()
        return x.grad[1]

    torch.testing.assert_close(grad_of_a2(txt, groups), grad_of_a2(other_t1, groups), rtol=0, atol=1e-12)
    assert not torch.allclose(grad_of_a2(txt, None), grad_of_a2(other_t1, None), atol=1e-3)  # plain CLIP: coupled


def test_masked_clip_has_no_floor_from_duplicates():
    img, txt, groups = two_series_of_one_study()  # the ideal embedding of both studies
    assert ContrastiveLoss("clip")(img, txt, SCALE, group_ids=groups).item() < 1e-4
    assert ContrastiveLoss("clip")(img, txt, SCALE).item() > 2 / 3 * math.log(2)  # plain: stuck above log 2


def test_masked_clip_gradient_matches_reference():
    torch.manual_seed(0)
    img = F.normalize(torch.randn(5, 4), dim=-1).requires_grad_()
    txt = F.normalize(torch.randn(5, 4), dim=-1).requires_grad_()
    groups = torch.tensor([0, 1, 0, 2, 1])
    ContrastiveLoss("clip")(img, txt, SCALE, group_ids=groups).backward()

    img_ref, txt_ref = img.detach().clone().requires_grad_(), txt.detach().clone().requires_grad_()
    logits = SCALE * img_ref @ txt_ref.T
    total = 0.0
    for i in range(5):  # row by row: the positive against itself plus every other study
        keep = [j for j in range(5) if j == i or groups[j] != groups[i]]
        total = total - logits[i, i] + torch.logsumexp(logits[i, keep], 0)  # image -> text
        total = total - logits[i, i] + torch.logsumexp(logits[keep, i], 0)  # text -> image
    (total / 10).backward()
    torch.testing.assert_close(img.grad, img_ref.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(txt.grad, txt_ref.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["clip", "siglip"])
def test_matches_open_clip_when_studies_and_labels_are_distinct(kind):
    torch.manual_seed(1)
    img, txt = F.normalize(torch.randn(6, 8), dim=-1), F.normalize(torch.randn(6, 8), dim=-1)
    bias = torch.tensor(-3.0)
    reference = ClipLoss()(img, txt, SCALE) if kind == "clip" else SigLipLoss()(img, txt, SCALE, bias)
    loss = ContrastiveLoss(kind)
    arg_bias = None if kind == "clip" else bias
    assert loss(img, txt, SCALE, arg_bias).item() == reference.item()  # no group ids: open_clip itself
    grouped = loss(img, txt, SCALE, arg_bias, group_ids=torch.arange(6) * 11)
    assert grouped.item() == pytest.approx(reference.item(), rel=1e-6)
    for weight in (0.0, 0.5, 1.0):  # label-aware with every label its own: no partial positive to add
        labelled = loss(img, txt, SCALE, arg_bias, label_ids=torch.arange(6) * 3, label_weight=weight)
        assert labelled.item() == pytest.approx(reference.item(), rel=1e-6)


def test_masked_siglip_drops_same_study_pairs():
    img, txt, groups = two_series_of_one_study()
    s, b = SCALE.item(), -5.0
    ls = lambda x: math.log(1 / (1 + math.exp(-x)))  # noqa: E731 (log-sigmoid)
    # kept pairs: 3 positives (logit s + b) and the 4 cross-study negatives (logit b, label -1)
    expected = -(3 * ls(s + b) + 4 * ls(-b)) / 3
    got = ContrastiveLoss("siglip")(img, txt, SCALE, torch.tensor(b), group_ids=groups)
    assert got.item() == pytest.approx(expected, rel=1e-5)
    plain = SigLipLoss()(img, txt, SCALE, torch.tensor(b))  # counts (a1, t2), (a2, t1) as negatives
    assert plain.item() == pytest.approx(expected - 2 * ls(-(s + b)) / 3, rel=1e-5)


def test_errors_and_study_ids():
    with pytest.raises(ValueError, match="kind"):
        ContrastiveLoss("triplet")
    img = F.normalize(torch.randn(3, 4), dim=-1)
    with pytest.raises(ValueError, match="logit_bias"):
        ContrastiveLoss("siglip")(img, img, SCALE)
    with pytest.raises(ValueError, match="group_ids"):
        ContrastiveLoss("clip")(img, img, SCALE, group_ids=torch.tensor([0, 1]))
    ids = study_ids(["st-a", "st-b", "st-a"])
    assert ids.dtype == torch.long and ids[0] == ids[2] != ids[1]
    assert torch.equal(study_ids(["st-a"]), ids[:1])  # stable across calls (and processes: no salted hash())


def test_recall_at_k_hand_made():
    # 4 series of 3 studies: series 0 and 1 belong to study 5 (one report, rows 0 and 1 equal)
    img = torch.tensor([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    txt = torch.tensor([[0.6, 0.8, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0], [0.0, 0.6, 0.8]])
    groups = torch.tensor([5, 5, 6, 7])
    # reports (one per study): r5=(.6,.8,0): nearest volume 1 (0.96, study 5) -> hit@1;
    # r6=(0,0,1): volume 2 -> hit; r7=(0,.6,.8): volume 2 (0.8) before volume 3 (0.6) -> miss@1, hit@2
    r1 = recall_at_k(img, txt, 1, groups)
    assert r1["text_to_image"] == pytest.approx(2 / 3)
    # volumes -> reports r5, r6, r7: v0 -> r5 (.6) hit; v1 -> r5 (.96) hit; v2 -> r6 (1) hit; v3 -> r5 (.8) miss
    assert r1["image_to_text"] == pytest.approx(3 / 4)
    r2 = recall_at_k(img, txt, 2, groups)
    assert r2 == {"text_to_image": 1.0, "image_to_text": 1.0}
    # without groups, row 0's report (equal to row 1's) retrieves volume 1 first: a miss for study "row 0"
    assert recall_at_k(img, txt, 1)["text_to_image"] == pytest.approx(2 / 4)
    with pytest.raises(ValueError, match="paired"):
        recall_at_k(img, txt[:3], 1)


def test_evaluate_retrieval_on_a_fixed_embedding_model():
    from pretrain.metrics import evaluate_retrieval

    class Fixed(torch.nn.Module):  # embeddings are the normalised inputs themselves
        def forward(self, volume, tokens):
            return {"image_features": F.normalize(volume, dim=-1), "text_features": F.normalize(tokens, dim=-1),
                    "logit_scale": SCALE, "logit_bias": None}

    img = torch.tensor([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    txt = torch.tensor([[0.6, 0.8, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0], [0.0, 0.6, 0.8]])
    groups = torch.tensor([5, 5, 6, 7])
    batches = [{"volume": img[:2], "tokens": txt[:2], "study_id": groups[:2]},
               {"volume": img[2:], "tokens": txt[2:], "study_id": groups[2:]}]
    loss = ContrastiveLoss("clip")
    out = evaluate_retrieval(Fixed(), batches, loss, ks=(1, 2))
    expected_loss = (loss(img[:2], txt[:2], SCALE, group_ids=groups[:2]) + loss(img[2:], txt[2:], SCALE)) / 2
    assert out["val_loss"] == pytest.approx(expected_loss.item(), rel=1e-6)
    assert out["r@1_t2i"] == pytest.approx(2 / 3) and out["r@1_i2t"] == pytest.approx(3 / 4)  # the hand case above
    assert out["r@2_t2i"] == 1.0 and out["r@2_i2t"] == 1.0


# ---------------------------------------------------------------- label-aware targets


def test_label_aware_clip_matches_hand_computed_soft_targets():
    """Rows a, b share a label, c is alone: a's target is (1 - w) on a and w/2 on each of a, b."""
    img = torch.stack([E1, E2, -E1]).double()
    txt = torch.stack([E1, E2, -E1]).double()
    w, s = 0.5, SCALE.item()
    logits = s * img @ txt.T
    logp = torch.log_softmax(logits, dim=1)
    target = torch.tensor([[0.75, 0.25, 0.0], [0.25, 0.75, 0.0], [0.0, 0.0, 1.0]], dtype=torch.double)
    expected = -(target * logp).sum(1).mean()  # the matrix is symmetric: both directions are equal
    got = ContrastiveLoss("clip")(img, txt, SCALE, label_ids=torch.tensor([4, 4, 8]), label_weight=w)
    assert got.item() == pytest.approx(expected.item(), rel=1e-9)


@pytest.mark.parametrize("kind", ["clip", "siglip"])
def test_label_aware_pulls_label_mates_together_where_plain_pushes_them_apart(kind):
    """Series a and the report of study b (another study of the same label): the label-aware loss falls as they
    come closer, the plain (study-masked) one rises."""
    bias = torch.tensor(-2.0) if kind == "siglip" else None
    img = torch.stack([E1, E2, -E1]).double().requires_grad_()
    txt = torch.stack([E1, E2, -E1]).double()
    groups, labels = torch.tensor([1, 2, 3]), torch.tensor([7, 7, 9])
    plain = ContrastiveLoss(kind)(img, txt, SCALE, bias, group_ids=groups)
    (g_plain,) = torch.autograd.grad(plain, img)
    aware = ContrastiveLoss(kind)(img, txt, SCALE, bias, label_ids=labels, label_weight=0.8)
    (g_aware,) = torch.autograd.grad(aware, img)
    toward_b = E2.double()  # moving image a toward report b
    assert float(g_plain[0] @ toward_b) > 0 > float(g_aware[0] @ toward_b)


def test_label_groups_from_report_labels():
    tonsil_l = {"region": "head_neck", "tumour_site": "tonsil", "laterality": "left"}
    ids = label_groups([tonsil_l, dict(tonsil_l), {**tonsil_l, "laterality": "right"},
                        {"region": "knee", "tumour_site": "", "laterality": ""}, {"region": "", "tumour_site": ""},
                        None, {"region": "knee"}], ["s1", "s2", "s3", "s4", "s5", "s5", "s6"])
    assert ids[0] == ids[1] != ids[2]  # same labels across studies: one group; another side: another
    assert ids[3] == ids[6]  # an unstated field agrees with an empty one
    assert ids[4] == ids[5] and ids[4] != ids[3]  # no region parsed: the study's own group
    with pytest.raises(ValueError, match="label_weight"):
        ContrastiveLoss("clip")(E1[None], E1[None], SCALE, label_ids=torch.tensor([1]), label_weight=1.5)
