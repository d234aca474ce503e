"""``mri-search bench``: every task, both directions, the model beside its baselines; files a reader can re-score.

Writes to ``OUT``: ``results.json`` (task -> direction -> method -> metric -> value), ``ci95.json`` (the same
layout, ``[low, high]`` bootstrap intervals over queries), ``<task>.<direction>.<method>.run`` and
``<task>.<direction>.qrels`` (TREC; runs cut at ``trec_depth``), ``report.md``, ``<task>.png`` (mAP and P_all@N
per method) and ``<task>.pr.png`` (precision-recall curves), ``config.json`` and, with ``--compare`` models,
``differences.json`` (the model minus each of them and the metadata baseline, per query, with paired bootstrap
intervals: ``differences.py``).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from mri_search.evaluation import bootstrap_ci, evaluate
from mri_search.evaluation.report import results_tree
from mri_search.evaluation.trec import qrels_from_relevance, run_from_scores, write_qrels, write_run
from mri_search.model import LoadedModel, build_model, load_model

from .data import BenchData, load_bench_data
from .methods import EmbeddingScorer, ShortcutScorer, metadata_scores, random_scores
from .tasks import build_tasks, relevance

log = logging.getLogger(__name__)

DIRECTIONS = ("t2i", "i2t")
KS = (1, 3, 5, 10)


@dataclass(frozen=True)
class BenchCfg:
    """One benchmark run."""

    archive: str  # a generated archive (folder with manifest.parquet)
    model: str  # the model folder under test
    out: str  # output folder
    hn_archive: str = ""  # an extra head-and-neck archive for the pathology tasks ("" = the main archive's)
    compare: tuple[tuple[str, str], ...] = ()  # (name, model folder) of other models, e.g. ("stage2_only", DIR)
    split: str = "test"  # evaluated split of the archive(s): "test" (patients never seen) or "all"
    fit_archive: str = ""  # archive whose series train the shortcut baseline ("" = the evaluated archive's other
    #                       splits); e.g. the model's own training archive when --split all evaluates a whole archive
    seed: int = 0  # organ-sentence picks, random baselines, bootstrap
    n_boot: int = 1000  # bootstrap resamples
    trec_depth: int = 1000  # ranks written per query in TREC run files (metrics use the full ranking)
    workers: int = 2  # series reading / preprocessing processes
    salt: str = "mri-search"
    engine: bool = True  # also measure the vector engine (index rate, latency, recall vs exact)
    probes: bool = False  # also the probing table (probing.py): frozen features, a head per task, low-data fractions
    cache_dir: str = ""  # preprocessing cache shared by the models of the run ("" = none)


@dataclass
class Scored:
    """Figures of one (task, direction, method)."""

    summary: dict[str, float]
    ci: dict[str, tuple[float, float]]
    pr: np.ndarray = field(repr=False)
    n_queries: int = 0
    n_without_relevant: int = 0
    per_query: dict[str, np.ndarray] = field(default_factory=dict, repr=False)


def _random_weights(loaded: LoadedModel, seed: int) -> LoadedModel:
    torch.manual_seed(seed)
    model = build_model(loaded.model.cfg, pretrained_text=False).eval()
    return LoadedModel(model=model, preprocess=loaded.preprocess, meta={"recipe": {"stage": "random weights"}})


def _fit_label(task: str):
    if task.startswith("body_region"):
        return lambda s: s.row["body_region"]
    if task == "hn_site":
        return lambda s: s.row["tumor_site"]
    if task == "hn_site_histology":
        return lambda s: (s.row["tumor_site"], s.row["tumor_histology"]) if s.row["tumor_site"] else None
    return None  # paired: a study label cannot be learnt from other patients


def _score(scores: np.ndarray, rel: np.ndarray, cfg: BenchCfg) -> Scored:
    ev = evaluate(scores, rel, KS)
    return Scored(summary=ev.summary(), ci=bootstrap_ci(ev.per_query, n_boot=cfg.n_boot, seed=cfg.seed),
                  pr=ev.pr_curve.mean(axis=0) if len(ev.pr_curve) else np.zeros(11),
                  n_queries=ev.n_queries, n_without_relevant=ev.n_without_relevant, per_query=ev.per_query)


def run_bench(cfg: BenchCfg) -> dict:
    """Run every task and method; write the output files; return ``{"results", "ci95", "counts", "engine"}``."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    data = load_bench_data(Path(cfg.archive), cfg.split, cfg.salt, cfg.workers)
    hn = load_bench_data(Path(cfg.hn_archive), cfg.split, cfg.salt, cfg.workers) if cfg.hn_archive else None
    tasks = build_tasks(data, cfg.seed, hn)
    if cfg.probes and not data.fit_series and not cfg.fit_archive:
        raise ValueError("--probes fits its probes on the archive's other splits: with --split all give "
                         "--fit-archive too")
    if not tasks:
        raise ValueError(f"{cfg.archive}: no task has queries (no reports in split {cfg.split!r}?)")
    loaded = load_model(cfg.model)
    name = "model"
    scorers = {name: EmbeddingScorer(loaded, cfg.workers, cache_dir=cfg.cache_dir)}
    for other, folder in cfg.compare:
        scorers[other] = EmbeddingScorer(load_model(folder), cfg.workers, cache_dir=cfg.cache_dir)
    scorers["random_weights"] = EmbeddingScorer(_random_weights(loaded, cfg.seed), cfg.workers,
                                                cache_dir=cfg.cache_dir)
    archive_of = {s.record.key: Path(cfg.archive) for s in data.series + data.fit_series}
    if hn is not None:
        archive_of.update({s.record.key: Path(cfg.hn_archive) for s in hn.series + hn.fit_series})
    if cfg.fit_archive:
        fit_data = load_bench_data(Path(cfg.fit_archive), "all", cfg.salt, cfg.workers)
        archive_of.update({s.record.key: Path(cfg.fit_archive) for s in fit_data.series})
        data.fit_series = fit_data.series
        if hn is not None:
            hn.fit_series = fit_data.series
    shortcut = ShortcutScorer(archive_of, cfg.seed)

    entries, cis, counts, curves, per_query = {}, {}, {}, {}, {}
    for tname, task in tasks.items():
        rel = relevance(task)  # [T, S]
        matrices = {m: sc.scores(task) for m, sc in scorers.items()}
        matrices["metadata"] = metadata_scores(task)
        matrices["random"] = random_scores(task, cfg.seed)
        fit_label = _fit_label(tname)
        if fit_label is not None:
            fit = (hn if tname.startswith("hn") and hn is not None else data).fit_series
            if tname.startswith("hn"):
                fit = [s for s in fit if s.row["body_region"] == "head_neck"]
            sc = shortcut.scores(task, fit, fit_label)
            if sc is not None:
                matrices["shortcut"] = sc
        for direction in DIRECTIONS:
            r = rel if direction == "t2i" else rel.T
            q_ids, g_ids = (task.text_ids, task.series_ids) if direction == "t2i" else (task.series_ids, task.text_ids)
            write_qrels(out / f"{tname}.{direction}.qrels", qrels_from_relevance(r, q_ids, g_ids))
            for method, m in matrices.items():
                s = m if direction == "t2i" else m.T
                scored = _score(s, r, cfg)
                entries[(tname, direction, method)] = scored.summary
                cis[(tname, direction, method)] = {k: list(v) for k, v in scored.ci.items()}
                curves[(tname, direction, method)] = scored.pr
                per_query[(tname, direction, method)] = scored.per_query
                counts[f"{tname}.{direction}"] = {"queries": scored.n_queries,
                                                  "without_relevant": scored.n_without_relevant,
                                                  "gallery": len(g_ids)}
                write_run(out / f"{tname}.{direction}.{method}.run",
                          run_from_scores(s, q_ids, g_ids, k=cfg.trec_depth), tag=method)
            log.info("%s %s: %s", tname, direction,
                     {m: round(entries[(tname, direction, m)]["mAP"], 3) for m in matrices})

    engine = {}
    if cfg.engine:
        from .engine import measure_engine

        engine = measure_engine(scorers[name], data, tasks)
    engine["embed_series_per_s"] = len(scorers[name].image) / max(scorers[name].seconds, 1e-9)
    results = results_tree(entries)
    if cfg.probes:
        results["probing"] = _probing(cfg, data, scorers, shortcut)
    differences = {}
    if cfg.compare:
        from .differences import paired_differences

        differences = paired_differences(per_query, name, [n for n, _ in cfg.compare] + ["metadata"],
                                         n_boot=cfg.n_boot, seed=cfg.seed)
    result = {"results": results, "ci95": results_tree(cis), "counts": counts, "engine": engine,
              "differences": differences,
              "failed_series": [f.path for f in scorers[name].failed], "seconds": time.perf_counter() - t0}
    _write_outputs(out, cfg, result, entries, cis, curves, loaded, data)
    return result


def _probing(cfg: BenchCfg, data: BenchData, scorers: dict, shortcut: ShortcutScorer) -> dict:
    """The probing table (``probing.run_probing``): fitted on ``data.fit_series``, scored on ``data.series``."""
    from .probing import run_probing

    everything = data.fit_series + data.series
    for method in ("model", "random_weights"):
        scorers[method].embed_series(everything)
    features = {m: (lambda s, sc=scorers[m]: sc.pooled.get(s.record.key)) for m in ("model", "random_weights")}
    features["shortcut"] = shortcut.feature
    return run_probing(data.fit_series, data.series, features, seed=cfg.seed)


def _write_outputs(out: Path, cfg: BenchCfg, result: dict, entries, cis, curves, loaded, data: BenchData) -> None:
    from .report import write_plots, write_report

    (out / "results.json").write_text(json.dumps(result["results"], indent=2) + "\n")
    (out / "ci95.json").write_text(json.dumps(result["ci95"], indent=2) + "\n")
    if result["differences"]:
        from .differences import FILE

        (out / FILE).write_text(json.dumps(result["differences"], indent=2) + "\n")
    config = {**asdict(cfg), "model_meta": {k: loaded.meta.get(k) for k in ("model", "recipe", "data_fingerprint")},
              "counts": result["counts"], "series_evaluated": len(data.series), "studies_evaluated": len(data.studies)}
    config.pop("salt")
    (out / "config.json").write_text(json.dumps(config, indent=2, default=str) + "\n")
    fit_what = ("the series of --fit-archive" if cfg.fit_archive else
                "the series of the archive's other splits")
    write_report(out / "report.md", result, entries, cis, fit_what=fit_what)
    write_plots(out, entries, cis, curves)
