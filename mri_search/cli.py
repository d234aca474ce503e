"""The ``mri-search`` command line: a thin Typer layer.

Each command builds one config dataclass and calls one ``run_*`` function. Heavy libraries are imported inside the
commands so that ``mri-search --help`` stays instant. User mistakes exit with code 2 and a one-line message, never a
stack trace.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .cli_bench import bench as _bench
from .cli_pretrain import app as _pretrain_app

app = typer.Typer(
    name="mri-search",
    help="Find MRI scans by what they show: synthetic archives, 3D MRI/report encoders, Qdrant search, benchmarks.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(_pretrain_app, name="pretrain")
app.command("bench")(_bench)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mri-search {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug detail to stderr.")] = False,
) -> None:
    """mri-search: find MRI scans by what they show."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(message)s")


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="Folder to write the archive into.")],
    studies: Annotated[int, typer.Option("--studies", "-n", help="Number of studies to generate.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same archive, byte for byte.")] = 0,
    format: Annotated[str, typer.Option("--format", help="dicom, nifti or both.")] = "both",
    regions: Annotated[Optional[str], typer.Option(
        help="Comma-separated body regions to draw from (default: all). "
             "brain, head_neck, spine, breast, chest, abdomen, pelvis, knee, shoulder.")] = None,
    workers: Annotated[int, typer.Option(help="Parallel worker processes (studies are independent).")] = 1,
    enhanced_fraction: Annotated[float, typer.Option(
        help="Fraction of DICOM series written as one enhanced multi-frame file instead of one file per slice.")] = 0.2,
    report_csv: Annotated[bool, typer.Option(
        help="Also write reports.csv keyed by accession number and StudyInstanceUID.")] = True,
    matrix_scale: Annotated[float, typer.Option(
        help="Shrink acquisition matrices by this factor (e.g. 0.5 for large training corpora); 1 = clinical.")] = 1.0,
    label_maps: Annotated[bool, typer.Option(
        help="Also write each series' tissue label map (NIfTI, labels in label_table.csv).")] = False,
    preview: Annotated[bool, typer.Option(
        "--preview", help="Write gallery.png (mid-slices per region and sequence, with tumour cases) instead of "
                          "an archive.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace OUT if it already holds an archive.")] = False,
) -> None:
    """Generate a realistic synthetic MRI archive (DICOM and/or NIfTI, reports, ground-truth manifest).

    The manifest OUT/manifest.parquet is ground truth for tests and benchmarks; indexers must not read it.
    """
    from .synth.config import SynthConfig

    try:
        cfg = SynthConfig(out=out, studies=studies, seed=seed, format=format,
                          regions=tuple(r.strip() for r in regions.split(",")) if regions else None,
                          workers=workers, enhanced_fraction=enhanced_fraction, report_csv=report_csv,
                          overwrite=overwrite, matrix_scale=matrix_scale, label_maps=label_maps)
        cfg.validate(preview=preview)
    except ValueError as e:
        _fail(str(e))
    if preview:
        from .synth.preview import run_preview

        path = run_preview(cfg)
        typer.echo(f"gallery written to {path}")
        return
    from .synth.archive import run_synth

    try:
        summary = run_synth(cfg)
    except (ValueError, FileExistsError) as e:
        _fail(str(e))
    typer.echo(summary.describe())


@app.command("synth-summary")
def synth_summary(
    archive: Annotated[Path, typer.Argument(help="An archive written by `mri-search synth`.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Summarise a generated archive from its manifest: studies, series, regions, sequences, findings."""
    from .synth.summary import summarize

    try:
        text = summarize(archive, as_json=json_out)
    except (ValueError, FileNotFoundError) as e:
        _fail(str(e))
    typer.echo(text)


@app.command()
def inspect(
    archive: Annotated[Path, typer.Argument(help="Folder, .zip, .tar or .tar.gz of DICOM and/or NIfTI files.")],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per line instead of a table.")] = False,
    errors: Annotated[Optional[Path], typer.Option(
        help="Also write the skipped/failed files as a tab-separated error report to this path.")] = None,
    salt: Annotated[str, typer.Option(
        help="Salt of the identifier hashes (use one per site and keep it private).")] = "mri-search",
    include_phi: Annotated[bool, typer.Option(
        help="Keep raw patient identifiers in the output (off by default: only salted hashes leave).")] = False,
) -> None:
    """List what an index run would take: one line per series, then every skipped or failed file with its reason."""
    from .ingest.archive import inspect_lines, scan_archive, write_error_report
    from .ingest.config import ScanOptions

    try:
        result = scan_archive(archive, ScanOptions(salt=salt, include_phi=include_phi))
    except ValueError as e:
        _fail(str(e))
    for line in inspect_lines(result, json_out):
        typer.echo(line)
    if errors is not None:
        write_error_report(result.skipped, errors)
    n_failed = sum(1 for s in result.skipped if s.level == "failed")
    summary = (f"{len(result.series)} series, {len(result.reports)} reports, "
               f"{len(result.skipped) - n_failed} skipped, {n_failed} failed")
    typer.secho(summary, err=True)


@app.command()
def index(
    archive: Annotated[Path, typer.Argument(help="Folder, .zip, .tar or .tar.gz of DICOM and/or NIfTI files "
                                                 "(+ reports).")],
    model: Annotated[Optional[Path], typer.Option(
        help="Model folder (save_model format). Default: the model shipped with mri-search.")] = None,
    db: Annotated[Optional[Path], typer.Option(
        help="Embedded index folder (default: $MRI_SEARCH_HOME/qdrant, else ~/.local/share/mri-search/qdrant).")
    ] = None,
    qdrant_url: Annotated[Optional[str], typer.Option(
        "--qdrant-url", help="Write to this Qdrant server or cluster instead of the embedded index.")] = None,
    api_key: Annotated[Optional[str], typer.Option(
        "--api-key", envvar="QDRANT_API_KEY", help="Qdrant API key (or set QDRANT_API_KEY).")] = None,
    collection: Annotated[Optional[str], typer.Option(
        help="Collection name (default: mri-<model identity>, so that different models never share one).")] = None,
    parquet: Annotated[Optional[Path], typer.Option(
        help="Also write this run's rows (payload + embeddings) to this Parquet file.")] = None,
    errors: Annotated[Optional[Path], typer.Option(
        help="Error report (TSV) path (default: $MRI_SEARCH_HOME/errors/<collection>.tsv).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes reading and preprocessing series.")] = 2,
    batch_size: Annotated[int, typer.Option(help="Series per encoder call and per write.")] = 8,
    shard: Annotated[Optional[str], typer.Option(
        help="K/N: index only this machine's part (K from 0 to N-1) of the archive, for N machines in parallel.")
    ] = None,
    salt: Annotated[str, typer.Option(
        help="Salt of the identifier hashes: keep it the same for every run into one collection.")] = "mri-search",
    keep_phi: Annotated[bool, typer.Option(
        help="Store raw patient identifiers (names, IDs, dates, UIDs) in the payload; off by default.")] = False,
    device: Annotated[str, typer.Option(help="Torch device of the encoder (cpu, cuda, cuda:1, ...).")] = "cpu",
    qdrant_shards: Annotated[Optional[int], typer.Option(
        help="Shards of a collection created on a server (fixed at creation).")] = None,
    replicas: Annotated[Optional[int], typer.Option(
        help="Replication factor of a collection created on a server (fixed at creation).")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on a terminal.")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Embed every series of an archive into a Qdrant collection (and Parquet), resumably.

    Re-runs add only what is missing (point ids come from the series and the model), so a killed run resumes.
    Series that cannot be read go to the error report and never stop the run.
    """
    import json as _json

    from indexer.config import IndexCfg, parse_shard
    from indexer.run import run_index

    from .model.shipped import default_model_dir

    if model is None:
        model = default_model_dir()
        if model is None:
            _fail("no default model shipped yet; pass --model DIR")
    try:
        cfg = IndexCfg(archive=archive, model=model, db=db, qdrant_url=qdrant_url, api_key=api_key,
                       collection=collection, parquet=parquet, errors=errors, workers=workers,
                       batch_size=batch_size, shard=parse_shard(shard), salt=salt, keep_phi=keep_phi, device=device,
                       server_shards=qdrant_shards, replicas=replicas, progress=progress)
        cfg.validate()
        summary = run_index(cfg)
    except (ValueError, FileExistsError, PermissionError) as e:
        _fail(str(e))
    except KeyboardInterrupt:
        typer.secho("interrupted: what was written stays; run the same command again to finish", err=True)
        raise typer.Exit(code=130) from None
    typer.echo(_json.dumps(summary.to_dict()) if json_out else summary.describe())


if __name__ == "__main__":  # pragma: no cover
    app()
