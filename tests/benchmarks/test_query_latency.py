"""The search benchmark's own arithmetic: replicas are unit vectors tied to their base series, recall@10 counts
ties and misses, and every method measured on a real embedded collection returns the exact answer where it must
(a scan of every vector) and the filter's points only."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import search_methods as sm
from benchmarks.query_latency import Kind, Plan, build, disk_usage, kinds, measure, modality_gap
from benchmarks.vector_sets import Base, exact_scores, exact_top, field_mask, payload, recall, replicate
from mri_search.model import model_identity
from mri_search.model.registry import register_model
from mri_search.store import IMAGE, REPORT, CollectionMeta, salt_check

D = 32  # the embedding size of the vit-tiny-test model (conftest.model_dir)


def _unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def base(model_dir) -> Base:
    rng = np.random.default_rng(3)
    b = 24
    img = _unit(rng.standard_normal((b, D)))
    has = np.arange(b) % 4 != 0  # every fourth study without a report
    rep = np.where(has[:, None], _unit(img + 0.8 * rng.standard_normal((b, D))), 0.0).astype(np.float32)
    payloads = [{"series_key": f"s{i}", "study_key": f"st{i // 2}", "patient_key": f"p{i // 4}",
                 "sequence": ("T1", "T2", "FLAIR")[i % 3], "plane": ("axial", "sagittal")[i % 2],
                 "body_part": ("knee", "brain")[(i // 3) % 2]} for i in range(b)]
    return Base(img, rep, has, payloads, model_id=model_identity(model_dir))


def test_replicas_are_unit_and_keep_their_base_series(base):
    for mode in ("interpolate", "noise"):
        reps = replicate(base, 100, mode, 0.05)
        assert reps.image.shape == (100, D) and np.allclose(np.linalg.norm(reps.image, axis=1), 1, atol=1e-5)
        with_report = np.linalg.norm(reps.report, axis=1)
        assert np.allclose(with_report[reps.has_report], 1, atol=1e-5) and not with_report[~reps.has_report].any()
        assert np.array_equal(reps.has_report, base.has_report[reps.src])
        # near their base series: closer to it than to the average other series
        own = (reps.image * base.image[reps.src]).sum(1)
        assert own.mean() > (reps.image @ base.image.T).mean() + 0.3
    p = payload(base, reps, 30)
    assert p["series_key"] == f"s{30 % 24}#1" and p["sequence"] == base.payloads[30 % 24]["sequence"]
    with pytest.raises(ValueError, match="unknown replication"):
        replicate(base, 10, "gaussian", 0.1)


def test_recall_counts_ties_and_misses():
    angles = np.array([0.0, 0.3, 0.3, 0.9, 1.4])  # rows 1 and 2 tie for second place
    m = np.stack([np.cos(angles), np.sin(angles)], 1).astype(np.float32)
    q = m[0]
    scores, kth = exact_scores(m, q, 2)
    top, kth2 = exact_top(m, q, 2)
    assert top[0] == 0 and kth == pytest.approx(kth2) == pytest.approx(np.cos(0.3))
    assert recall(list(top), scores, kth, 2) == 1.0
    assert recall([0, 2], scores, kth, 2) == 1.0  # the tie at the 2nd score counts either way
    assert recall([0, 3], scores, kth, 2) == 0.5  # row 3 scores below the 2nd best
    assert recall([4, 3], scores, kth, 2) == 0.0
    _, k_masked = exact_scores(m, q, 1, np.array([False, False, True, True, True]))
    assert k_masked == pytest.approx(np.cos(0.3))  # rows 0 and 1 are outside the mask


def test_every_method_on_a_real_collection(base, model_dir, tmp_path):
    register_model(model_dir, base.model_id)  # the Searcher finds the model of the collection, as after an index run
    reps = replicate(base, 600, "interpolate", 0.05)
    meta = CollectionMeta(model_id=base.model_id, model_name="test", embed_dim=D, salt_check=salt_check("mri-search"))
    timings = build(tmp_path / "db", meta, base, reps, "int8")
    assert timings["upsert_points_per_s"] > 0
    disk = disk_usage(tmp_path / "db", 600)
    assert disk["total"] > 4 * D  # at least the float vectors
    ks = kinds(base)
    assert {k.name for k in ks} >= {"text->image", "image->report", "text->image, 3 filters"}
    three = next(k for k in ks if k.name == "text->image, 3 filters")
    assert set(three.conditions) == {"sequence", "plane", "body_part"} and three.cross_modal
    assert not Kind("x", "image", IMAGE).cross_modal and Kind("x", "image", REPORT).route == IMAGE
    rng = np.random.default_rng(9)
    queries = {"text": _unit(base.report[base.has_report][:6] + 0.1 * rng.standard_normal((6, D))),
               "image": replicate(base, 6, "interpolate", 0.05, seed=101).image}
    masks = {}
    for k in ks:
        mask = field_mask(base, reps, k.conditions) if k.conditions else None
        if k.using == REPORT:
            mask = reps.has_report if mask is None else mask & reps.has_report
        masks[k.name] = mask
    plan = Plan(ks, sm.methods([16], 50, 4.0, True), queries, masks)
    rows = measure(tmp_path / "db", base, reps, plan, modality_gap(base))
    by = {(r["kind"], r["method"]): r for r in rows}
    for k in ks:
        assert by[(k.name, "exact")]["recall@10"] == 1.0  # a scan of every float vector is the exact answer
        assert (k.name, "Searcher") in by
        assert ((k.name, "routed 50") in by) == k.cross_modal  # routed / shifted only for cross-modal kinds
        assert by[(k.name, "exact")]["matching"] == (len(reps.src) if masks[k.name] is None
                                                     else int(masks[k.name].sum()))
    assert all(0 <= r["recall@10"] <= 1 and r["p50_ms"] > 0 for r in rows)
    assert by[("text->image", "numpy brute force")]["recall@10"] == 1.0
