"""Linear probes on frozen image-encoder features: is stage 1 (or 2) better than random weights?

For each model folder (and a randomly initialised model of the same preset), every series of a held-out generated
archive is preprocessed with the model's own preprocessing and encoded by the frozen image tower; a logistic
regression (``mri_search.probe``, the library behind ``mri-search probe``) is scored by 5-fold cross-validation by
patient (a patient's series never sit on both sides of a fold; folds stratified by class), so every series of the
archive is predicted once by a probe that never saw its patient. Labels come from
the manifest: body region and sequence.
Two features per model: the pooled feature (the class token) and the mean of the final patch tokens.

    python -m benchmarks.pretrain_probe EVAL_ARCHIVE --model stage1=runs/s1 --model mae=runs/mae --out probe.json

The evaluation archive must come from another generator seed than the training archive, so that no probed
patient was seen in pretraining.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch

from mri_search.ingest.archive import scan_archive
from mri_search.model import LoadedModel, build_model, get_preset, load_model
from mri_search.preprocess import default_cache_dir, default_preprocess
from mri_search.synth.manifest import read_manifest

log = logging.getLogger(__name__)

TASKS = ("body_region", "sequence")


def labelled_records(archive: Path) -> tuple[list, list[dict]]:
    """Scanned series records joined to their manifest rows by NIfTI path (ADC maps left out: derived, not
    acquired)."""
    rows = {r["nifti_path"]: r for r in read_manifest(archive).to_pylist() if r["nifti_path"]}
    recs, labels = [], []
    for rec in scan_archive(archive).series:
        row = rows.get(rec.files[0].member) if rec.source == "nifti" else None
        if row is not None and row["sequence"] != "ADC":
            recs.append(rec)
            labels.append(row)
    if not recs:
        raise ValueError(f"{archive}: no NIfTI series matched the manifest (generate with --format nifti or both)")
    return recs, labels


def features(loaded, records: list, cache_dir: Path, batch_size: int = 8) -> dict[str, np.ndarray]:
    """``{"pooled": [N, H], "tokens": [N, H]}`` frozen features of the image tower (``tokens``: the patch-token
    mean), through ``mri_search.embed.embed_series`` and the preprocessing cache.

    Raises:
        ValueError: a series could not be embedded (the probes need every labelled series).
    """
    from mri_search.embed import embed_series

    got: dict[str, dict[str, np.ndarray]] = {}
    for batch in embed_series(loaded, records, None, batch_size=batch_size, workers=0,
                              features=("pooled", "token_mean"), cache_dir=cache_dir):
        if batch.failed:
            raise ValueError(f"{batch.failed[0].path}: {batch.failed[0].reason}")
        for i, rec in enumerate(batch.records):
            got[rec.key] = {"pooled": batch.features["pooled"][i], "tokens": batch.features["token_mean"][i]}
    return {kind: np.stack([got[r.key][kind] for r in records]) for kind in ("pooled", "tokens")}


def probe(x: np.ndarray, y: list, groups: list, folds: int = 5, seed: int = 0) -> dict[str, float]:
    """A standardised logistic regression (``mri_search.probe``, C = 0.5), cross-validated over ``folds`` folds of
    patients (stratified by class): AUC, accuracy, balanced accuracy."""
    from mri_search.probe import LabelledSet, ProbeCfg, evaluate

    data = LabelledSet(series_keys=[str(i) for i in range(len(y))], groups=list(groups), x=x,
                       y=np.asarray(y).astype(str), n_unlabelled=0)
    ev = evaluate(data, ProbeCfg(folds=folds, seed=seed, l2=2.0, max_iter=3000))
    return ev.fractions["1"]["metrics"]


def run_probes(archive: Path, models: dict[str, Path], random_presets: list[str], cache_dir: Path,
               seed: int = 0) -> dict:
    """Probe results ``{model name: {feature: {task: metrics}}}`` plus counts and the majority-class baseline."""
    records, rows = labelled_records(archive)
    groups = [r["patient_id"] for r in rows]
    out: dict = {"archive": str(archive), "series": len(records), "patients": len(set(groups)), "folds": 5,
                 "majority": {}, "models": {}}
    for task in TASKS:
        y = np.array([r[task] for r in rows])
        values, counts = np.unique(y, return_counts=True)
        out["majority"][task] = float(counts.max() / len(y))
    todo = [(name, lambda p=path: load_model(p)) for name, path in models.items()]
    for preset in random_presets:
        def random_model(p=preset):
            torch.manual_seed(seed)
            m = build_model(get_preset(p), pretrained_text=False)
            return LoadedModel(model=m, preprocess=default_preprocess(m.cfg.vision.img_size))
        todo.append((f"random-{preset}", random_model))
    for name, make in todo:
        t0 = time.perf_counter()
        loaded = make()
        feats = features(loaded, records, cache_dir)
        out["models"][name] = {kind: {task: probe(x, [r[task] for r in rows], groups, seed=seed) for task in TASKS}
                               for kind, x in feats.items()}
        out["models"][name]["seconds"] = time.perf_counter() - t0
        log.info("%s: %s", name, out["models"][name])
    return out


def main() -> None:  # pragma: no cover - thin script entry
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("archive", type=Path, help="held-out generated archive (NIfTI), another seed than training")
    ap.add_argument("--model", action="append", default=[], help="NAME=DIR of a model folder (repeatable)")
    ap.add_argument("--random", action="append", default=[], help="preset of a random-weights baseline")
    ap.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    models = dict(m.split("=", 1) for m in args.model)
    res = run_probes(args.archive, {k: Path(v) for k, v in models.items()}, args.random, args.cache_dir)
    text = json.dumps(res, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":  # pragma: no cover
    main()
