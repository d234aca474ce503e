"""``mri-search bench``: the retrieval benchmark command (registered on ``cli.app``); thin over
``benchmarks.bench.run.run_bench``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import fail as _fail


def bench(
    out: Annotated[Path, typer.Option(help="Output folder: results.json, ci95.json, TREC files, report.md, "
                                           "plots, config.json.")],
    archive: Annotated[Optional[Path], typer.Option(
        help="A generated archive (`mri-search synth`, with its manifest); its test split is evaluated.")] = None,
    generate: Annotated[Optional[int], typer.Option(
        help="Generate an archive of this many studies into OUT/archive first (seed --seed + 1000, NIfTI).")] = None,
    hn_archive: Annotated[Optional[Path], typer.Option(
        help="An extra head-and-neck archive for the tumour-pathology tasks (default: the main archive's).")] = None,
    compare: Annotated[Optional[list[str]], typer.Option(
        help="NAME=DIR of another model to score beside it, e.g. stage2_only=runs/s2-only (repeatable).")] = None,
    split: Annotated[str, typer.Option(help="Evaluated split: test (patients disjoint from the archive's "
                                            "train/val) or all.")] = "test",
    fit_archive: Annotated[Optional[Path], typer.Option(
        help="Generated archive whose series train the shortcut baseline (default: the evaluated archive's other "
             "splits); e.g. the model's training archive with --split all.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of sentence picks, random baselines and the bootstrap.")] = 0,
    workers: Annotated[int, typer.Option(help="Series reading / preprocessing processes.")] = 2,
    n_boot: Annotated[int, typer.Option(help="Bootstrap resamples for the 95 % intervals.")] = 1000,
    engine: Annotated[bool, typer.Option(help="Also time the vector engine (index, latency, recall).")] = True,
    probes: Annotated[bool, typer.Option(
        "--probes", help="Also the probing table: a linear head per task (body region, sequence, tumour, sub-site, "
                         "age) on frozen features at 1/10/100 % of the labels, model vs random weights vs shortcut."
    )] = False,
    cache_dir: Annotated[Optional[Path], typer.Option(
        help="Preprocessing cache shared by the run's models (e.g. the one pretraining filled); default: none.")
    ] = None,
    model: Annotated[Optional[Path], typer.Option(
        help="Model folder under test (`pretrain align --out`; default: the shipped model).")] = None,
) -> None:
    """Retrieval benchmarks (mAP, the paper's precision@N, P@k, R@k, nDCG@10) with baselines, on generated data."""
    from benchmarks.bench.run import BenchCfg, run_bench

    from ..model.shipped import default_model_dir

    if model is None:
        model = default_model_dir()
        if model is None:
            _fail("no default model shipped; pass --model DIR")
    if (archive is None) == (generate is None):
        _fail("give exactly one of --archive DIR or --generate N")
    if not (model / "config.json").is_file():
        _fail(f"--model {model} is not a model folder (no config.json)")
    if split not in ("test", "all"):
        _fail(f"--split must be test or all, got {split!r}")
    pairs = []
    for item in compare or []:
        name, _, folder = item.partition("=")
        if not name or not folder or not (Path(folder) / "config.json").is_file():
            _fail(f"--compare {item!r}: expected NAME=DIR of a model folder")
        pairs.append((name, folder))
    if generate is not None:
        from ..synth.archive import run_synth
        from ..synth.config import SynthConfig

        archive = out / "archive"
        try:
            run_synth(SynthConfig(out=archive, studies=generate, seed=seed + 1000, format="nifti", workers=workers,
                                  overwrite=True))
        except ValueError as e:
            _fail(str(e))
    if not (archive / "manifest.parquet").is_file():
        _fail(f"{archive} is not a generated archive (no manifest.parquet): the benchmark needs ground truth")
    try:
        result = run_bench(BenchCfg(archive=str(archive), model=str(model), out=str(out),
                                    hn_archive=str(hn_archive or ""), compare=tuple(pairs), split=split, seed=seed,
                                    fit_archive=str(fit_archive or ""),
                                    workers=workers, n_boot=n_boot, engine=engine, probes=probes,
                                    cache_dir=str(cache_dir or "")))
    except ValueError as e:
        _fail(str(e))
    typer.echo(json.dumps(result["results"], indent=1))
    typer.secho(f"report: {out / 'report.md'}", err=True)
