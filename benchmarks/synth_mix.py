"""What an archive of ``mri-search synth`` would hold, study by study, without generating it: studies per region
and head-and-neck tumour studies per sub-site (follow-up studies repeat their patient's region and tumour).

It reads the generator's own draws (``synth.archive.study_identity`` and, for ``--hn-tumour-fraction``, the balanced
sub-site sequence of ``synth.mix``), so the counts are those of the archive the same options would write. Without
``--hn-tumour-fraction`` tumours are drawn at random per patient and the sub-site count needs the full plan; use
``--plans`` for that (about 0.7 s a study).

Run: ``python -m benchmarks.synth_mix --studies 3000 --seed 101 --region-weights head_neck=0.5
--hn-tumour-fraction 0.95 [--regions ...] [--plans] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from mri_search.synth import mix
from mri_search.synth.archive import _hn_ordinals, build_plan, study_identity, study_truth
from mri_search.synth.config import SynthConfig, parse_region_weights


def composition(cfg: SynthConfig, plans: bool = False) -> dict:
    regions: Counter = Counter()
    sites: Counter = Counter()
    ordinals = _hn_ordinals(cfg) if cfg.hn_tumour_fraction is not None and not plans else {}
    for i in range(cfg.studies):
        region, number, _ = study_identity(cfg, i)
        regions[region] += 1
        if region != "head_neck":
            continue
        if plans or cfg.hn_tumour_fraction is None:
            if plans:
                sites[study_truth(build_plan(cfg, i)[0])["tumor_site"] or "none"] += 1
            continue
        sites[mix.hn_force(cfg.seed, ordinals[number], cfg.hn_tumour_fraction)[1] or "none"] += 1
    return {"studies": cfg.studies, "seed": cfg.seed, "region_weights": dict(cfg.region_weights),
            "hn_tumour_fraction": cfg.hn_tumour_fraction, "studies_per_region": dict(regions.most_common()),
            "head_neck_studies_per_tumour_site": dict(sorted(sites.items()))}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--studies", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--regions", default="", help="comma-separated regions (default: all)")
    ap.add_argument("--region-weights", default="", help="e.g. head_neck=0.5")
    ap.add_argument("--hn-tumour-fraction", type=float, default=None)
    ap.add_argument("--plans", action="store_true", help="draw every head-and-neck plan (exact without a fraction)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    cfg = SynthConfig(out=Path("unused"), studies=args.studies, seed=args.seed,
                      regions=tuple(r for r in args.regions.split(",") if r) or None,
                      region_weights=parse_region_weights(args.region_weights),
                      hn_tumour_fraction=args.hn_tumour_fraction)
    cfg.validate()
    out = composition(cfg, args.plans)
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
