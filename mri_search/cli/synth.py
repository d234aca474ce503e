"""``mri-search synth`` and ``mri-search synth-summary``: write a synthetic archive, summarise one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..synth.regions import REGIONS
from .options import JsonOpt
from .options import fail as _fail


def synth(
    out: Annotated[Path, typer.Argument(help="Folder to write the archive into.")],
    studies: Annotated[int, typer.Option("--studies", "-n", help="Number of studies to generate.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same archive, byte for byte.")] = 0,
    format: Annotated[str, typer.Option("--format", help="dicom, nifti, both, or tensors: per series only the "
                                        "model-ready tensor that ingestion + preprocessing would make of its files "
                                        "(OUT/tensors/, read by `pretrain`; resumable).")] = "both",
    regions: Annotated[Optional[str], typer.Option(
        help=f"Comma-separated body regions to draw from (default: all). {', '.join(REGIONS)}.")] = None,
    workers: Annotated[int, typer.Option(help="Parallel worker processes (studies are independent).")] = 1,
    enhanced_fraction: Annotated[float, typer.Option(
        help="Fraction of DICOM series written as one enhanced multi-frame file instead of one file per slice.")] = 0.2,
    report_csv: Annotated[bool, typer.Option(
        help="Also write reports.csv keyed by accession number and StudyInstanceUID.")] = True,
    matrix_scale: Annotated[float, typer.Option(
        help="Shrink acquisition matrices by this factor (e.g. 0.5 for large training corpora); 1 = clinical.")] = 1.0,
    label_maps: Annotated[bool, typer.Option(
        help="Also write each series' tissue label map and lesion mask (NIfTI; DICOM SEG for DICOM series) under "
             "OUT/derivatives/labels, labels in label_table.csv.")] = False,
    region_weights: Annotated[Optional[str], typer.Option(
        help="Shares of the studies per region, e.g. head_neck=0.4 (the regions not named share the rest): an "
             "archive weighted toward what the benchmarks grade.")] = None,
    hn_tumour_fraction: Annotated[Optional[float], typer.Option(
        help="Share of head-and-neck patients with a primary tumour, the 12 sub-sites balanced among them "
             "(default: the generator's own odds).")] = None,
    tensor_size: Annotated[int, typer.Option(
        help="--format tensors: the model input edge, voxels (a 288 mm cube: 96 = 3 mm voxels); must match the "
             "model that will train on them.")] = 96,
    preview: Annotated[bool, typer.Option(
        "--preview", help="Write gallery.png (mid-slices per region and sequence, with tumour cases) instead of "
                          "an archive.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace OUT if it already holds an archive.")] = False,
) -> None:
    """Generate a realistic synthetic MRI archive (DICOM and/or NIfTI, reports, ground-truth manifest).

    The manifest OUT/manifest.parquet is ground truth for tests and benchmarks; indexers must not read it.
    """
    from ..synth.config import SynthConfig, parse_region_weights

    try:
        preprocess = None
        if format == "tensors":
            if tensor_size < 8:
                raise ValueError("--tensor-size must be at least 8")
            from ..preprocess import default_preprocess

            preprocess = default_preprocess(tensor_size)
        cfg = SynthConfig(preprocess=preprocess, region_weights=parse_region_weights(region_weights),
                          hn_tumour_fraction=hn_tumour_fraction,
                          out=out, studies=studies, seed=seed, format=format,
                          regions=tuple(r.strip() for r in regions.split(",")) if regions else None,
                          workers=workers, enhanced_fraction=enhanced_fraction, report_csv=report_csv,
                          overwrite=overwrite, matrix_scale=matrix_scale, label_maps=label_maps)
        cfg.validate(preview=preview)
    except ValueError as e:
        _fail(str(e))
    if preview:
        from ..synth.preview import run_preview

        path = run_preview(cfg)
        typer.echo(f"gallery written to {path}")
        return
    from ..synth.archive import run_synth

    try:
        summary = run_synth(cfg)
    except (ValueError, FileExistsError) as e:
        _fail(str(e))
    typer.echo(summary.describe())


def synth_summary(
    archive: Annotated[Path, typer.Argument(help="An archive written by `mri-search synth`.")],
    json_out: JsonOpt = False,
) -> None:
    """Summarise a generated archive from its manifest: studies, series, regions, sequences, findings."""
    from ..synth.summary import summarize

    try:
        text = summarize(archive, as_json=json_out)
    except (ValueError, FileNotFoundError) as e:
        _fail(str(e))
    typer.echo(text)
