"""The pretraining data pipeline: report sampling, datasets, exact resume of endless batches, patient splits."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
import torch

from mri_search.ingest.archive import scan_archive
from mri_search.ingest.records import ParsedReport
from mri_search.ingest.report_text import parse_report
from mri_search.preprocess import PreprocessCache, PreprocessConfig
from mri_search.report_labels import parse_labels
from mri_search.synth.archive import run_synth
from mri_search.synth.config import SynthConfig
from pretrain.data import (
    AlignPairs,
    PretrainData,
    ValBatches,
    VisionPairs,
    build_items,
    endless_batches,
    split_items,
)
from pretrain.losses import study_ids
from pretrain.text_sampling import findings_sentences, full_text, sample_text

REPORT = parse_report(
    "EXAM: MRI BRAIN\n\nHISTORY: Headache.\n\nTECHNIQUE: Axial T1, T2, FLAIR.\n\n"
    "FINDINGS:\nVentricles: Normal size.\nWhite matter: Scattered FLAIR hyperintensities.\n"
    "Extra-axial: No collection.\nVessels: Normal flow voids.\n\n"
    "IMPRESSION: Mild small vessel ischemic change.\n", "test#1")


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "archive"
    run_synth(SynthConfig(out=out, studies=3, seed=3, format="nifti", regions=("knee", "brain"), matrix_scale=0.2),
              progress=lambda *a, **k: None)
    return scan_archive(out)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return PreprocessCache(tmp_path_factory.mktemp("cache"), PreprocessConfig(spacing_mm=(8, 8, 8), size=(16, 16, 16)))


# ---------------------------------------------------------------- text sampling


def test_sample_text_kinds_and_boilerplate():
    texts = {sample_text(REPORT, random.Random(i)) for i in range(200)}
    full = full_text(REPORT)
    assert full in texts and "Mild small vessel ischemic change." in texts
    assert full.startswith("Findings: Ventricles: Normal size.") and full.endswith(
        "Impression: Mild small vessel ischemic change.")
    regions = texts - {full, "Mild small vessel ischemic change."}
    assert len(regions) > 5 and all(_is_sample_of(t, REPORT) for t in regions)
    assert len(findings_sentences(REPORT)) == 4
    for t in texts:  # history, technique and exam lines never reach the text tower
        assert "Headache" not in t and "Axial T1" not in t and "MRI BRAIN" not in t


def test_sample_text_deterministic_for_both_rng_kinds():
    a = [sample_text(REPORT, random.Random(7)) for _ in range(3)]
    assert len(set(a)) == 1
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    assert [sample_text(REPORT, g1) for _ in range(20)] == [sample_text(REPORT, g2) for _ in range(20)]


def test_sample_text_fallbacks():
    no_imp = parse_report("FINDINGS:\nLiver: Normal.\nSpleen: Normal.\n", "x")
    sents = findings_sentences(no_imp)
    assert sents == ["Liver: Normal.", "Spleen: Normal."]
    # impression asked for, none there: 1-3 findings sentences instead
    got = {sample_text(no_imp, random.Random(i), weights=(0, 1, 0)) for i in range(30)}
    assert got <= {"Liver: Normal.", "Spleen: Normal.", "Liver: Normal. Spleen: Normal."} and len(got) == 3
    imp_only = parse_report("IMPRESSION: No acute abnormality.\n", "y")
    assert sample_text(imp_only, random.Random(0), weights=(0, 0, 1)) == "No acute abnormality."
    bare = ParsedReport(source="z", text="Technique only.", sections={"technique": "Technique only."}, sentences=[])
    assert sample_text(bare, random.Random(0), weights=(0, 1, 0)) == "Technique only."
    with pytest.raises(ValueError, match="weights"):
        sample_text(REPORT, random.Random(0), weights=(0, 0, 0))


# ---------------------------------------------------------------- datasets


def _is_sample_of(text: str, rep: ParsedReport) -> bool:
    """``text`` is the full text, the impression, or 1-3 findings sentences of ``rep`` in report order."""
    sents = findings_sentences(rep)
    joins = {" ".join(c) for k in (1, 2, 3) for c in itertools.combinations(sents, k)}
    return text in {full_text(rep), rep.sections.get("impression")} | joins


def test_align_pairs_texts_from_own_report(scan, cache):
    items = build_items(scan)
    items[0] = {**items[0], "report": None}  # one series without a report is left out and counted
    ds = AlignPairs(items, cache)
    assert len(ds) == len(items) - 1 and ds.n_without_report == 1
    reports = scan.reports
    batches = endless_batches(ds, batch_size=4, seed=1)
    for _ in range(2):
        b = next(batches)
        assert b["volume"].shape == (4, 1, 16, 16, 16) and b["volume"].dtype == torch.float32
        assert b["study_id"].dtype == torch.int64
        for text, key, sid, labels in zip(b["texts"], b["series_key"], b["study_id"], b["labels"]):
            item = next(it for it in ds.items if it["record"].key == key)
            rep = reports[item["study_key"]]
            assert _is_sample_of(text, rep), (text, item["study_key"])
            assert sid == study_ids([item["study_key"]])[0]
            # the study's labels, parsed from its report: this archive holds knee and brain studies only
            assert labels == parse_labels(rep).to_dict() and labels["region"] in ("knee", "brain")


def test_vision_pairs_views_differ_same_series(scan, cache):
    ds = VisionPairs(build_items(scan), cache)
    s = ds[(2, 123)]
    assert s["series_key"] == ds.items[2]["record"].key
    assert s["view1"].shape == (1, 16, 16, 16) and not torch.equal(s["view1"], s["view2"])
    again = ds[(2, 123)]
    assert torch.equal(s["view1"], again["view1"]) and torch.equal(s["view2"], again["view2"])
    # both views are augmentations of the same cached image: closer to it than to another series
    base, other = cache(ds.items[2]["record"]).as_tensor(), cache(ds.items[9]["record"]).as_tensor()
    b = next(endless_batches(ds, batch_size=3, seed=0))
    assert b["view1"].shape == (3, 1, 16, 16, 16) and b["study_id"].shape == (3,)
    assert (s["view1"] - base).abs().mean() < (s["view1"] - other).abs().mean() or \
        (s["view2"] - base).abs().mean() < (s["view2"] - other).abs().mean()


# ---------------------------------------------------------------- endless batches


def _same(a, b):
    return all(torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor) else a[k] == b[k] for k in a)


def test_endless_batches_resume_exact(scan, cache):
    ds = AlignPairs(build_items(scan), cache)  # 15 series, batch 4: batches straddle epochs
    ref = endless_batches(ds, batch_size=4, seed=9)
    expected = [next(ref) for _ in range(6)]
    run = endless_batches(ds, batch_size=4, seed=9)
    for _ in range(3):
        next(run)
    state = run.state_dict()
    assert (state["epoch"], state["position"], state["seed"]) == (0, 12, 9)
    resumed = endless_batches(ds, batch_size=4, seed=0)
    resumed.load_state_dict(state)
    for want in expected[3:]:
        assert _same(next(resumed), want)
    assert resumed.state_dict()["epoch"] == 1
    with pytest.raises(ValueError, match="data changed"):
        endless_batches(VisionPairs(build_items(scan)[:5], cache), 2).load_state_dict(state)


def test_endless_batches_independent_of_workers(scan, cache):
    ds = VisionPairs(build_items(scan), cache)
    a = endless_batches(ds, batch_size=2, seed=4, num_workers=0)
    b = endless_batches(ds, batch_size=2, seed=4, num_workers=2)
    for _ in range(2):
        assert _same(next(a), next(b))
    b.close()


def test_endless_batches_epoch_visits_every_series_once(scan, cache):
    ds = VisionPairs(build_items(scan), cache)
    from pretrain.data import _BatchKeys
    keys = next(iter(_BatchKeys(len(ds), len(ds), seed=2, start=0, rank=0, world_size=1)))
    assert sorted(i for i, _ in keys) == list(range(len(ds)))
    r0 = next(iter(_BatchKeys(len(ds), 3, 2, 0, rank=0, world_size=2)))
    r1 = next(iter(_BatchKeys(len(ds), 3, 2, 0, rank=1, world_size=2)))
    assert r0 + r1 == keys[:6]


# ---------------------------------------------------------------- splits


def test_split_by_patient(scan):
    items = build_items(scan)
    train, val = split_items(items, (0.85, 0.15), seed=0)
    assert len(train) + len(val) == len(items) and train and val
    assert not {it["record"].patient_key for it in train} & {it["record"].patient_key for it in val}
    assert split_items(items, (0.85, 0.15), seed=0) == [train, val]
    d = PretrainData.from_scan(scan, split="val")
    assert [it["record"].key for it in d.items] == [it["record"].key for it in val] and d.n_patients == 1
    with pytest.raises(ValueError, match="sum to 1"):
        split_items(items, (0.5, 0.2))


def test_val_batches(scan, cache):
    vb = ValBatches(build_items(scan), cache, batch_size=4, tokenize=lambda t: torch.tensor([len(x) for x in t]))
    batches = list(vb)
    assert len(batches) == len(vb) == 4 and batches[-1]["volume"].shape == (3, 1, 16, 16, 16)
    assert batches[0]["tokens"].shape == (4,)
