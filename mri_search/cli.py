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
from .cli_common import ArchiveArg, DeviceOpt, JsonOpt, KeepPhiOpt, ModelOpt, ProgressOpt, WorkersOpt
from .cli_common import fail as _fail
from .cli_pretrain import app as _pretrain_app
from .cli_probe import app as _probe_app
from .cli_probe import embed as _embed
from .cli_segment import localize_app as _localize_app
from .cli_segment import segment_app as _segment_app
from .cli_serve import serve as _serve

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
app.command("embed")(_embed)
app.add_typer(_probe_app, name="probe")
app.add_typer(_segment_app, name="segment")
app.add_typer(_localize_app, name="localize")
app.command("serve")(_serve)


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
        help="Also write each series' tissue label map and lesion mask (NIfTI; DICOM SEG for DICOM series) under "
             "OUT/derivatives/labels, labels in label_table.csv.")] = False,
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
    json_out: JsonOpt = False,
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
    archive: ArchiveArg,
    model: ModelOpt = None,
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
    workers: WorkersOpt = 2,
    batch_size: Annotated[int, typer.Option(help="Series per encoder call and per write.")] = 8,
    shard: Annotated[Optional[str], typer.Option(
        help="K/N: index only this machine's part (K from 0 to N-1) of the archive, for N machines in parallel.")
    ] = None,
    salt: Annotated[str, typer.Option(
        help="Salt of the identifier hashes: keep it the same for every run into one collection.")] = "mri-search",
    keep_phi: KeepPhiOpt = False,
    device: DeviceOpt = "cpu",
    qdrant_shards: Annotated[Optional[int], typer.Option(
        help="Shards of a collection created on a server (fixed at creation).")] = None,
    replicas: Annotated[Optional[int], typer.Option(
        help="Replication factor of a collection created on a server (fixed at creation).")] = None,
    progress: ProgressOpt = True,
    lock_wait: Annotated[float, typer.Option(
        help="Seconds to wait for an embedded index that another process (a query) has open before giving up.")
    ] = 60.0,
    json_out: JsonOpt = False,
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
                       server_shards=qdrant_shards, replicas=replicas, progress=progress, lock_wait_s=lock_wait)
        cfg.validate()
        summary = run_index(cfg)
    except (ValueError, FileExistsError, PermissionError) as e:
        _fail(str(e))
    except KeyboardInterrupt:
        typer.secho("interrupted: what was written stays; run the same command again to finish", err=True)
        raise typer.Exit(code=130) from None
    typer.echo(_json.dumps(summary.to_dict()) if json_out else summary.describe())


def _busy(location: str) -> None:
    typer.secho(f"error: the index at {location} is busy (an index run, or another process, has it open); "
                "try again when it finishes", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=3)


@app.command()
def query(
    text: Annotated[Optional[str], typer.Argument(help="What to find, in words (text-to-image search).")] = None,
    image: Annotated[Optional[Path], typer.Option(
        help="Search with this series instead of text: a DICOM folder, a DICOM file set (folder, zip, tar) or a "
             "NIfTI file, read and preprocessed as at index time.")] = None,
    series: Annotated[Optional[int], typer.Option(
        help="Which series of --image when it holds several (0-based, in `mri-search inspect` order).")] = None,
    target: Annotated[str, typer.Option(
        help="images: series by their image embedding; reports: studies by their report embedding (with --image: "
             "image-to-report retrieval).")] = "images",
    top_k: Annotated[int, typer.Option("--top-k", "-k", help="Number of hits.")] = 10,
    group_by: Annotated[str, typer.Option(
        help="none, study or patient: only the best series of each, so that one study does not fill the page "
             "(--target reports always groups, by study unless patient is asked for).")] = "none",
    sequence: Annotated[Optional[list[str]], typer.Option(
        help="Only these sequence families (repeatable, or a comma list): T1, T2, FLAIR, PD, STIR, DWI, ADC, T1C, "
             "SSFP, T2FS, PDFS, other.")] = None,
    plane: Annotated[Optional[list[str]], typer.Option(
        help="Only these planes (repeatable, or a comma list): axial, sagittal, coronal, oblique.")] = None,
    body_part: Annotated[Optional[list[str]], typer.Option(
        help="Only these BodyPartExamined values, as the headers state them (KNEE, Knee and knee alike).")] = None,
    manufacturer: Annotated[Optional[list[str]], typer.Option(
        help="Only scanners of these makers (ge, siemens, philips, or as the headers state it).")] = None,
    contrast: Annotated[Optional[bool], typer.Option(
        "--contrast/--no-contrast", help="Only post-contrast / only pre-contrast series.")] = None,
    fat_sat: Annotated[Optional[bool], typer.Option(
        "--fat-sat/--no-fat-sat", help="Only series with / without fat suppression.")] = None,
    field_strength: Annotated[Optional[float], typer.Option(
        help="Only scanners of this field strength in tesla (1.5, 3; within 0.25 T).")] = None,
    exclude_study: Annotated[Optional[list[str]], typer.Option(
        help="Leave out this study (the issue's `--study UID` exclusion): its StudyInstanceUID, or a study key "
             "from --json output; repeatable.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of a table.")] = False,
    thumbnails: Annotated[Optional[Path], typer.Option(
        help="Write a PNG per hit (mid-slices in three planes, as the model saw them) and contact_sheet.png into "
             "this folder.")] = None,
    lesions: Annotated[Optional[Path], typer.Option(
        help="A lesion-localisation decoder folder (`mri-search localize train --out`): show where in each hit's "
             "series the lesion is (centre in RAS mm, slice, probability) and write its heatmap, lesions JSON and "
             "overlay PNG into --lesions-out.")] = None,
    lesions_out: Annotated[Path, typer.Option(help="Folder for --lesions' files.")] = Path("lesions"),
    db: Annotated[Optional[Path], typer.Option(
        help="Embedded index folder (default: $MRI_SEARCH_HOME/qdrant, else ~/.local/share/mri-search/qdrant).")
    ] = None,
    qdrant_url: Annotated[Optional[str], typer.Option(
        "--qdrant-url", help="Search this Qdrant server or cluster instead of the embedded index.")] = None,
    api_key: Annotated[Optional[str], typer.Option(
        "--api-key", envvar="QDRANT_API_KEY", help="Qdrant API key (or set QDRANT_API_KEY).")] = None,
    collection: Annotated[Optional[str], typer.Option(
        help="Collection to search (default: --model's own, else the only one, else the shipped model's).")] = None,
    model: Annotated[Optional[Path], typer.Option(
        help="Model folder; it must be the model that wrote the collection (default: that model, found in the "
             "folders that index runs recorded, or the shipped one).")] = None,
    salt: Annotated[str, typer.Option(
        help="Salt of the identifier hashes: the index run's (study exclusions are matched by salted key).")
    ] = "mri-search",
    device: Annotated[str, typer.Option(help="Torch device of the encoder (cpu, cuda, ...).")] = "cpu",
    text_encoder: Annotated[str, typer.Option(
        help="How a text query is encoded: auto (the model's report tower as ONNX, without torch; built and "
             "cached on the first text query of a model), onnx, or torch.")] = "auto",
    lock_wait: Annotated[float, typer.Option(
        help="Seconds to wait for an embedded index that another process has open before exiting as busy (3).")
    ] = 1.0,
) -> None:
    """Search a collection with words or an MRI series; print the ranked series (or, for reports, studies).

    Exit codes: 0 results (possibly none), 2 a user mistake, 3 an embedded index busy in another process.
    """
    import atexit
    import gc
    import time as _time

    from .query import QueryFilters, Searcher
    from .query.output import format_table, to_json
    from .store import StoreBusy

    # At exit, freeze what is left so the interpreter's final garbage collection skips torch's and transformers'
    # objects: about 1 s of a query's cold start (1.1 s -> 0.2 s measured). Nothing else changes: memory is freed
    # by the exit, finalizers and atexit handlers still run.
    atexit.register(gc.freeze)
    t0 = _time.perf_counter()
    if image is not None and text is not None:
        _fail("give either a text query or --image PATH, not both")
    if image is None and (text is None or not text.strip()):
        _fail("empty query: give the text to search for, or --image PATH")
    if target not in ("images", "reports"):
        _fail(f"--target must be images or reports, got {target!r}")
    if lesions is not None:
        from .query.lesions import check_decoder

        if target != "images":
            _fail("--lesions shows lesions in retrieved series: use it with --target images")
        try:
            check_decoder(lesions)
        except ValueError as e:
            _fail(str(e))
    searcher = None
    try:
        filters = QueryFilters(sequences=tuple(sequence or ()), planes=tuple(plane or ()),
                               body_parts=tuple(body_part or ()), manufacturers=tuple(manufacturer or ()),
                               contrast=contrast, fat_suppressed=fat_sat, field_strength=field_strength,
                               exclude_studies=tuple(exclude_study or ()))
        searcher = Searcher.open(db=db, url=qdrant_url, api_key=api_key, lock_wait_s=lock_wait,
                                 collection=collection, model=model, salt=salt, device=device,
                                 text_encoder=text_encoder)
        with searcher:
            if target == "reports":
                hits = searcher.search_reports(text, image=image, series=series, top_k=top_k, filters=filters,
                                               group_by=None if group_by == "none" else group_by)
            elif image is not None:
                hits = searcher.search_image(image, top_k=top_k, filters=filters, group_by=group_by, series=series)
            else:
                hits = searcher.search_text(text, top_k=top_k, filters=filters, group_by=group_by)
        shots = None
        if thumbnails is not None:
            from .query.thumbs import write_thumbnails

            shots = write_thumbnails(hits, thumbnails, searcher.preprocess_config(), salt=salt)
        found = None
        if lesions is not None:
            from .query.lesions import locate_lesions

            found = locate_lesions(hits, lesions, lesions_out, salt=salt)
    except StoreBusy:
        _busy(searcher.store.location if searcher is not None else str(db or qdrant_url or "the default folder"))
    except (ValueError, OSError) as e:
        _fail(str(e).splitlines()[0] if str(e) else type(e).__name__)
    except KeyboardInterrupt:
        raise typer.Exit(code=130) from None
    if json_out:
        extra = {"thumbnails": None if shots is None else {
            "files": [str(p) for p in shots.paths], "sheet": str(shots.sheet) if shots.sheet else None,
            "unreadable": shots.unreadable}, "lesions": None if found is None else found.to_dict()}
        typer.echo(to_json(hits, query=text, image=str(image) if image is not None else None, target=target,
                           collection=searcher.collection, model_id=searcher.meta.model_id,
                           model=str(searcher.model_dir), text_encoder=searcher.text_backend,
                           filters=filters.to_filter(salt), group_by=group_by,
                           top_k=top_k, timings_ms={**{k: round(v, 2) for k, v in searcher.timings.items()},
                                                    "total": round(1e3 * (_time.perf_counter() - t0), 2)},
                           **extra))
        return
    typer.echo(format_table(hits))
    if shots is not None:
        typer.echo(f"thumbnails: {len(shots.paths)} PNGs and {shots.sheet} in {thumbnails}"
                   + (f" ({len(shots.unreadable)} series could not be read)" if shots.unreadable else ""))
    if found is not None:
        typer.echo(f"lesions (decoder {lesions}, files in {lesions_out}):")
        for line in found.lines():
            typer.echo("  " + line)
    logging.getLogger(__name__).debug("query timings (ms): %s", searcher.timings)


if __name__ == "__main__":  # pragma: no cover
    app()
