"""Decoders on the frozen tiny encoder: they can learn (overfit one case), predictions keep the input's geometry,
the decoder folder round-trips, and the localisation metrics match hand-computed values."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
import torch

from mri_search.decoders.artifact import load_decoder, save_decoder
from mri_search.decoders.config import DecoderCfg, FitCfg
from mri_search.decoders.data import PairLoader, archive_cases, prepare
from mri_search.decoders.metrics import Blob, blobs, dice_per_class, match, summarise_localisation
from mri_search.decoders.predict import run_predict
from mri_search.decoders.run import encoder_for, evaluate_localisation, structures_for, train_decoder
from mri_search.ingest.archive import scan_archive
from mri_search.preprocess_transforms import ras_affine


@pytest.fixture(scope="module")
def t2_case(seg_archive):
    return [c for c in archive_cases(seg_archive) if c.sequence == "T2"]


def test_unetr_head_overfits_one_case(seg_archive, tiny_model, cache_dir, t2_case):
    # one structure (the brain: white + grey matter) on one series, a narrow head: 20 steps on the CPU
    structures, known = structures_for("segment", "brain=white_matter+grey_matter", seg_archive)
    enc = encoder_for(tiny_model, "trained")
    loader = PairLoader(enc.preprocess, cache_dir, "segment", structures, known)
    samples = prepare(t2_case, loader)
    frozen = {k: v.clone() for k, v in enc.visual.state_dict().items()}
    net, lines = train_decoder(samples, DecoderCfg("segment", "unetr", "trained", feature_size=4),
                               FitCfg(steps=20, batch_size=1, lr=1e-2, log_every=5), enc.visual,
                               structures.num_classes)
    assert lines[-1]["loss"] < lines[0]["loss"]
    with torch.no_grad():
        pred = net(samples[0]["image"][None].float()).argmax(1)[0]
    dice = dice_per_class(pred, samples[0]["target"][0].long(), structures.num_classes)
    assert dice[0] > 0.75  # measured 0.86; untrained: 0
    assert all(torch.equal(v, enc.visual.state_dict()[k]) for k, v in frozen.items())  # the encoder stayed frozen


def test_heatmap_head_overfits_and_finds_the_tumour(seg_archive, tiny_model, cache_dir, t2_case):
    enc = encoder_for(tiny_model, "trained")
    loader = PairLoader(enc.preprocess, cache_dir, "localize", None, set(range(256)))
    samples = prepare(t2_case, loader)
    net, lines = train_decoder(samples, DecoderCfg("localize", "heatmap", "trained"),
                               FitCfg(steps=60, batch_size=1, lr=1e-2, log_every=20), enc.visual, 1)
    assert lines[-1]["loss"] < 0.5 * lines[0]["loss"]
    scores = evaluate_localisation(net, samples, loader, distance_mm=20.0, min_lesion_mm3=5000.0)
    assert scores["lesions"] == 1 and scores["detection_rate"] == 1.0 and scores["mean_box_iou"] > 0.3


@pytest.fixture(scope="module")
def decoders(seg_archive, tiny_model, tmp_path_factory):
    """An untrained segmentation decoder and an untrained localisation decoder, saved (geometry needs no skill)."""
    out = {}
    structures, _ = structures_for("segment", "brain", seg_archive)
    for task, arch, cls in (("segment", "unetr", structures.num_classes), ("localize", "heatmap", 1)):
        enc = encoder_for(tiny_model, "trained")
        torch.manual_seed(0)
        cfg = DecoderCfg(task, arch, "trained", feature_size=4)
        from mri_search.decoders.nets import build_net

        net = build_net(cfg, cls, enc.visual)
        out[task] = save_decoder(tmp_path_factory.mktemp(task) / "dec", net, cfg, FitCfg(steps=1), enc.preprocess,
                                 structures if task == "segment" else None, enc.record)
    return out


def test_predictions_keep_the_input_geometry(seg_archive, decoders, tmp_path):
    nifti = next((seg_archive / "nifti").rglob("*_T2w.nii.gz"))
    lines = run_predict(nifti, decoders["segment"], tmp_path / "seg")
    image = nib.load(nifti)
    pred = nib.load(lines[0]["segmentation"])
    assert pred.shape == image.shape and pred.get_data_dtype() == np.uint8
    np.testing.assert_allclose(pred.affine, image.affine, atol=1e-4)
    assert set(np.unique(np.asarray(pred.dataobj))) <= set(range(5))
    assert (tmp_path / "seg" / "classes.csv").read_text().splitlines()[3] == "2,white_matter,8"

    lines = run_predict(seg_archive / "dicom", decoders["localize"], tmp_path / "loc")  # the study's 6 series
    ok = [line for line in lines if "heatmap" in line]
    assert len(ok) == len(lines) == 6, lines
    records = {r.key: r for r in scan_archive(seg_archive / "dicom").series}
    for line in ok:
        rec = records[line["series"]]
        heat = nib.load(line["heatmap"])
        assert heat.shape == tuple(reversed(rec.shape))
        np.testing.assert_allclose(heat.affine, ras_affine(rec), atol=1e-4)
        found = json.loads(open(line["heatmap"].replace("_lesion_probseg.nii.gz", "_lesions.json")).read())
        assert {"lesions", "peak_probability"} <= set(found)
        assert open(line["overlay"], "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_decoder_folder_round_trip(seg_archive, decoders, tiny_model, cache_dir, t2_case, tmp_path):
    loaded = load_decoder(decoders["segment"])
    assert loaded.task == "segment" and loaded.structures.names[1] == "white_matter"
    loaded2 = load_decoder(decoders["segment"])
    x = torch.rand(1, 1, 32, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded.net(x), loaded2.net(x))
    other = tmp_path / "other"
    from mri_search.model import build_model, get_preset, save_model

    torch.manual_seed(1)
    save_model(build_model(get_preset("vit-tiny-test")), other, loaded.preprocess)
    with pytest.raises(ValueError, match="is not the encoder this decoder was trained on"):
        load_decoder(decoders["segment"], model=other)
    with pytest.raises(ValueError, match="not a decoder folder"):
        load_decoder(tmp_path)


def test_localisation_metrics_by_hand():
    affine = np.diag([2.0, 2.0, 2.0, 1.0])  # 2 mm voxels, origin 0
    mask = np.zeros((20, 20, 20), np.float32)
    mask[2:6, 2:6, 2:6] = 1  # 8 mm cube centred at voxel 3.5 -> 7 mm
    mask[12:14, 12:14, 12:14] = 1  # a second, smaller lesion
    gt = blobs(mask, affine, 0.5, min_mm3=0.0)
    assert len(gt) == 2 and gt[0].centre == (7.0, 7.0, 7.0) and gt[0].volume_mm3 == pytest.approx(64 * 8)
    assert gt[0].box == (3.0, 3.0, 3.0, 11.0, 11.0, 11.0)
    assert len(blobs(mask, affine, 0.5, min_mm3=100.0)) == 1  # the 64 mm3 lesion is a fragment here
    pred = [Blob((7.0, 7.0, 9.0), (3.0, 3.0, 5.0, 11.0, 11.0, 13.0), 512.0, 0.9, (0, 0, 0)),
            Blob((60.0, 60.0, 60.0), (58.0, 58.0, 58.0, 62.0, 62.0, 62.0), 64.0, 0.8, (0, 0, 0))]
    m = match(gt, pred, distance_mm=5.0)
    assert m["detected"] == [True, False] and m["false_positives"] == 1
    assert m["iou"][0] == pytest.approx(6 / 10)  # overlap 8 x 8 x 6 over union 8 x 8 x 10
    assert m["iou"][1] == 0.0
    s = summarise_localisation([{**m, "has_lesion": True, "score": 0.9},
                                {"detected": [], "iou": [], "false_positives": 0, "has_lesion": False,
                                 "score": 0.2}], 5.0)
    assert s["detection_rate"] == 0.5 and s["false_positives_per_series"] == 0.5 and s["series_auroc"] == 1.0
    pred = torch.tensor([[[0, 1], [1, 2]]])
    truth = torch.tensor([[[0, 1], [2, 2]]])
    d = dice_per_class(pred, truth, 4)
    assert d[0] == pytest.approx(2 / 3) and d[1] == pytest.approx(2 / 3) and np.isnan(d[2])


def test_image_tower_alone_matches_load_model(tiny_model):
    from mri_search.model import load_image_tower, load_model

    tower, pre, meta = load_image_tower(tiny_model)
    full = load_model(tiny_model)
    x = torch.rand(2, 1, 32, 32, 32)
    with torch.no_grad():
        assert torch.equal(tower(x), full.model.visual(x))
        final, hidden = tower.forward_hidden_states(x)
        assert torch.equal(final, full.model.visual.forward_tokens(x))  # class token dropped, same tokens
    assert len(hidden) == 2 and hidden[0].shape == (2, 8, 64)  # two blocks, a 2^3 token grid, width 64
    assert pre == full.preprocess and meta["model"]["name"] == "vit-tiny-test"
