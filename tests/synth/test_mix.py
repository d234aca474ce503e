"""An archive weighted toward what the benchmarks grade: region shares and a balanced head-and-neck tumour mix."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mri_search.cli import app
from mri_search.synth.archive import _follow_ups, build_plan, study_identity, study_truth
from mri_search.synth.catalog import HN_SITES
from mri_search.synth.config import SynthConfig, parse_region_weights


def _cfg(**kw) -> SynthConfig:
    cfg = SynthConfig(out=Path("unused"), seed=77, **kw)
    cfg.validate()
    return cfg


def test_region_shares_hold_in_every_prefix():
    cfg = _cfg(studies=300, region_weights=(("head_neck", 0.4),))
    follow = _follow_ups(cfg.seed, cfg.studies)
    shares = dict(zip(cfg.region_list, cfg.region_shares()))
    assert shares["head_neck"] == 0.4 and shares["brain"] == pytest.approx(0.6 / 8)
    counts: Counter = Counter()
    n = 0
    for i in range(cfg.studies):
        if follow[i]:  # a follow-up repeats its patient's region
            assert study_identity(cfg, i)[0] == study_identity(cfg, i - 1)[0]
            continue
        counts[study_identity(cfg, i)[0]] += 1
        n += 1
        assert all(abs(counts[r] - shares[r] * n) <= 1.0 for r in cfg.region_list), (i, counts)
    # prefix-stable: a longer archive begins with the same studies
    longer = _cfg(studies=400, region_weights=(("head_neck", 0.4),))
    assert [study_identity(longer, i) for i in range(300)] == [study_identity(cfg, i) for i in range(300)]


def test_without_weights_nothing_changes():
    # seed 77's first regions, recorded from the generator before weights existed: archives stay byte for byte
    before = ["pelvis", "breast", "head_neck", "abdomen", "shoulder", "knee", "spine", "brain", "chest", "pelvis",
              "breast", "head_neck"]
    assert [study_identity(_cfg(studies=12), i)[0] for i in range(12)] == before


def test_head_and_neck_tumours_balanced_by_sub_site():
    cfg = _cfg(studies=120, regions=("head_neck",), hn_tumour_fraction=0.75)
    sites: Counter = Counter()
    patients = 0
    for i in range(cfg.studies):
        if _follow_ups(cfg.seed, cfg.studies)[i]:
            continue
        plan, _, _, _ = build_plan(cfg, i)
        sites[study_truth(plan)["tumor_site"]] += 1
        patients += 1
    tumours = patients - sites.pop(None, 0)
    assert abs(tumours - 0.75 * patients) <= 1
    assert set(sites) <= set(HN_SITES) and max(sites.values()) - min(sites.values()) <= 1
    assert len(sites) == len(HN_SITES)


def test_bad_weights_are_one_line():
    for text, message in [("head_neck", "REGION=SHARE"), ("head_neck=x", "REGION=SHARE")]:
        with pytest.raises(ValueError, match=message):
            parse_region_weights(text)
    for weights, message in [((("elbow", 0.2),), "not among the regions"), ((("brain", 1.5),), "between 0 and 1"),
                             ((("brain", 0.7), ("knee", 0.6)), "sum to"), ((("brain", 0.2), ("brain", 0.1)), "twice")]:
        with pytest.raises(ValueError, match=message):
            _cfg(studies=10, region_weights=weights)
    res = CliRunner().invoke(app, ["synth", "out", "--region-weights", "head_neck=lots"])
    assert res.exit_code == 2 and "REGION=SHARE" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["synth", "out", "--hn-tumour-fraction", "2"])
    assert res.exit_code == 2 and "between 0 and 1" in res.output
