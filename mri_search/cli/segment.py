"""``mri-search segment|localize train|eval|predict``: task decoders on the frozen image encoder (two Typer
sub-apps, added to ``cli.app``); thin over ``mri_search.decoders``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import fail as _fail

ArchiveArg = Annotated[Path, typer.Argument(help="Archive generated with `mri-search synth --label-maps` (its "
                                                 "manifest lists each series' label map and lesion mask).")]
DecoderOpt = Annotated[Path, typer.Option("--decoder", help="Decoder folder (the --out of `train`).")]
ModelOpt = Annotated[Optional[Path], typer.Option(
    "--model", help="Model folder whose image encoder the decoder sits on (and whose preprocessing it uses).")]
CacheOpt = Annotated[Optional[Path], typer.Option(
    "--cache-dir", help="Preprocessing cache (default $MRI_SEARCH_CACHE or ~/.cache/mri-search/preprocess).")]
RegionsOpt = Annotated[Optional[str], typer.Option(
    "--regions", help="Comma-separated body regions (default: the structure set's regions, else all).")]
MaxOpt = Annotated[int, typer.Option("--max-series", help="Use at most this many series (0: all).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object on stdout instead of a table.")]
ArchOpt = Annotated[str, typer.Option(help="Head: unetr (segment) or heatmap (localize) on the frozen encoder, or "
                                           "unet (MONAI's UNet trained from scratch: the task-specific baseline).")]

ARCHS = {"segment": "unetr", "localize": "heatmap"}
HELP = {"segment": "Segmentation of anatomical structures (and lesions) by a UNETR head on the frozen encoder.",
        "localize": "Lesion localisation by a heatmap head on the frozen encoder: boxes, centres, detection rate."}


def _regions(text: str | None) -> tuple[str, ...]:
    return tuple(r.strip() for r in text.split(",") if r.strip()) if text else ()


def _check_folder(path: Path, what: str) -> None:
    if not Path(path).exists():
        _fail(f"{what} {path} does not exist")


def _check_task(decoder: Path, task: str) -> None:
    """Refuse a decoder folder of the other task (a segmentation decoder under `localize`, and back)."""
    from ..decoders.config import read_meta

    try:
        other = read_meta(decoder).get("task")
    except (ValueError, OSError):
        return  # load_decoder reports a missing or corrupt folder
    if other is not None and other != task:
        _fail(f"{decoder} is a {other} decoder; use `mri-search {other} ...`")


def _print(result: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, default=str))
        return
    for key, value in result.items():
        if isinstance(value, dict):
            typer.echo(f"{key}:")
            for k, v in value.items():
                typer.echo(f"  {k:<16} {v:.4f}" if isinstance(v, float) else f"  {k:<16} {v}")
        elif key != "log":
            typer.echo(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")


def _make_app(task: str) -> typer.Typer:
    app = typer.Typer(help=HELP[task], no_args_is_help=True)

    @app.command("train")
    def train(
        archive: ArchiveArg,
        out: Annotated[Path, typer.Option("--out", help="Decoder folder to write (config.json, "
                                                        "decoder.safetensors, metrics.jsonl).")],
        model: ModelOpt = None,
        arch: ArchOpt = ARCHS[task],
        random_encoder: Annotated[bool, typer.Option(
            "--random-encoder", help="Put the head on a randomly initialised encoder of the model's architecture "
                                     "(the baseline that shows what pretraining adds).")] = False,
        structures: Annotated[str, typer.Option(
            help="Segment: structure set (body, brain, head_neck, cardiac, abdomen, prostate, knee, spine) or "
                 "comma-separated tissue names of the label table.")] = "body",
        regions: RegionsOpt = None,
        steps: Annotated[int, typer.Option(help="Optimizer steps.")] = 500,
        batch_size: Annotated[int, typer.Option(help="Volumes per step.")] = 2,
        lr: Annotated[float, typer.Option(help="Peak learning rate (warm-up, then cosine).")] = 1e-3,
        feature_size: Annotated[int, typer.Option(help="Base width of the head (UNETR's feature_size).")] = 16,
        seed: Annotated[int, typer.Option(help="Seed of batch order and initialisation.")] = 0,
        max_series: MaxOpt = 0,
        cache_dir: CacheOpt = None,
    ) -> None:
        """Train a decoder on the archive's train split (frozen encoder; the head alone learns)."""
        from ..decoders.config import DecoderCfg, FitCfg
        from ..decoders.run import TrainRun, run_train

        _check_folder(archive, "archive")
        if model is not None:
            _check_folder(model, "model folder")
        encoder = "none" if arch == "unet" else ("random" if random_encoder else "trained")
        try:
            run = TrainRun(archive=archive, out=out, model=model, structures=structures, regions=_regions(regions),
                           max_series=max_series, cache_dir=cache_dir,
                           decoder=DecoderCfg(task=task, arch=arch, encoder=encoder, feature_size=feature_size),
                           fit=FitCfg(steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                                      log_every=max(1, min(10, steps))))
            summary = run_train(run, on_log=lambda line: typer.echo(
                f"step {line['step']}/{steps} loss {line['loss']:.4f} ({line['seconds']:.0f} s)", err=True))
        except ValueError as e:
            _fail(str(e))
        typer.echo(json.dumps(summary, indent=2))

    @app.command("eval")
    def evaluate(
        archive: ArchiveArg,
        decoder: DecoderOpt,
        split: Annotated[str, typer.Option(help="Split scored: test, val, train.")] = "test",
        regions: RegionsOpt = None,
        distance_mm: Annotated[float, typer.Option(help="Localisation: a lesion counts as detected when a "
                                                        "predicted centre lies this close (mm).")] = 15.0,
        threshold: Annotated[float, typer.Option(help="Localisation: heatmap probability of a lesion.")] = 0.5,
        min_lesion_mm3: Annotated[float, typer.Option(help="Localisation: ground-truth lesions smaller than "
                                                           "this are ignored (partial-volume fragments).")] = 50.0,
        model: ModelOpt = None,
        max_series: MaxOpt = 0,
        cache_dir: CacheOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Score a decoder on a split, on each series' own grid (Dice per structure; detection rate, box IoU)."""
        from ..decoders.run import run_eval

        _check_folder(archive, "archive")
        _check_task(decoder, task)
        try:
            result = run_eval(archive, decoder, split=split, regions=_regions(regions), max_series=max_series,
                              distance_mm=distance_mm, threshold=threshold, min_lesion_mm3=min_lesion_mm3,
                              cache_dir=cache_dir, model=model)
        except ValueError as e:
            _fail(str(e))
        _print(result, as_json)

    @app.command("predict")
    def predict(
        inputs: Annotated[Path, typer.Argument(help="A series file, folder, .zip or .tar of DICOM/NIfTI series.",
                                               metavar="INPUT")],
        decoder: DecoderOpt,
        out: Annotated[Path, typer.Option("--out", help="Folder for the predictions (NIfTI in each series' "
                                                        "geometry, JSON, PNG overlays).")],
        threshold: Annotated[float, typer.Option(help="Localisation: heatmap probability of a lesion.")] = 0.5,
        model: ModelOpt = None,
    ) -> None:
        """Predict every series under INPUT and write the results in each series' own geometry."""
        from ..decoders.predict import run_predict

        _check_folder(inputs, "input")
        _check_task(decoder, task)
        try:
            lines = run_predict(inputs, decoder, out, model=model, threshold=threshold)
        except ValueError as e:
            _fail(str(e))
        failed = [line for line in lines if "error" in line]
        typer.echo(f"{len(lines) - len(failed)} series predicted into {out}" +
                   (f"; {len(failed)} failed (see predictions.json)" if failed else ""))

    return app


segment_app = _make_app("segment")
localize_app = _make_app("localize")
