"""``mri-search index`` and ``mri-search embed``: an archive through a model, into a Qdrant collection or a
features file. Thin over ``indexer.run.run_index`` and ``indexer.embed.run_embed``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import (
    ArchiveArg, DeviceOpt, JsonOpt, KeepPhiOpt, LocatorOpt, ModelOpt, ProgressOpt, ReportsOpt, SaltOpt, SinceOpt,
    SourceArg,
    WorkersOpt,
)
from .options import fail as _fail


def index(
    archive: SourceArg,
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
    salt: SaltOpt = None,
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
    locator: LocatorOpt = None,
    since: SinceOpt = None,
    reports: ReportsOpt = None,
    keep_uids: Annotated[bool, typer.Option(
        help="Store the raw Study/Series Instance UIDs, so that query --viewer-url can link hits to the hospital's "
             "viewer. They identify the study in the PACS: off by default, separate from --keep-phi.")] = False,
    timeout: Annotated[float, typer.Option(help="DICOMweb: seconds per request.")] = 30.0,
    retries: Annotated[int, typer.Option(help="DICOMweb: retries of a failed request (exponential backoff).")] = 3,
    json_out: JsonOpt = False,
) -> None:
    """Embed every series of an archive or DICOMweb server into a Qdrant collection (and Parquet), resumably.

    Re-runs add only what is missing (point ids come from the series and the model), so a killed run resumes.
    Series that cannot be read go to the error report and never stop the run.
    """
    from indexer.config import IndexCfg, parse_shard
    from indexer.run import run_index

    from ..ingest.dicomweb import normalise_date

    from ..model.shipped import default_model_dir

    if model is None:
        model = default_model_dir()
        if model is None:
            _fail("no default model shipped yet; pass --model DIR")
    try:
        url, path = _source(archive)
        cfg = IndexCfg(archive=path, dicomweb=url, since=normalise_date(since) if since else "",
                       reports=reports, keep_uids=keep_uids, dicomweb_timeout_s=timeout, dicomweb_retries=retries, model=model, db=db, qdrant_url=qdrant_url, api_key=api_key,
                       collection=collection, parquet=parquet, errors=errors, workers=workers,
                       batch_size=batch_size, shard=parse_shard(shard), salt=salt, keep_phi=keep_phi, device=device,
                       server_shards=qdrant_shards, replicas=replicas, progress=progress, lock_wait_s=lock_wait,
                       locator=locator)
        summary = run_index(cfg)
    except (ValueError, FileExistsError, PermissionError) as e:
        _fail(str(e))
    except KeyboardInterrupt:
        typer.secho("interrupted: what was written stays; run the same command again to finish", err=True)
        raise typer.Exit(code=130) from None
    typer.echo(json.dumps(summary.to_dict()) if json_out else summary.describe())


def _source(text: str) -> tuple[str | None, Path | None]:
    """(DICOMweb root URL, None) or (None, archive path) for the ARCHIVE argument."""
    from ..ingest.dicomweb import parse_source

    url = parse_source(text)
    return (url, None) if url else (None, Path(text))


def embed(
    archive: ArchiveArg,
    out: Annotated[Path, typer.Option("--out", help="Features file to write (Parquet).")],
    model: ModelOpt = None,
    patch_tokens: Annotated[bool, typer.Option(
        "--patch-tokens", help="Also store the final patch tokens (n_tokens x hidden floats per series).")] = False,
    errors: Annotated[Optional[Path], typer.Option(
        help="Error report (TSV) path (default: OUT's name with .errors.tsv).")] = None,
    workers: WorkersOpt = 2,
    batch_size: Annotated[int, typer.Option(help="Series per encoder call.")] = 8,
    salt: SaltOpt = None,
    keep_phi: KeepPhiOpt = False,
    device: DeviceOpt = "cpu",
    cache_dir: Annotated[Optional[Path], typer.Option(
        help="Preprocessing cache to read and fill (e.g. the one pretraining filled); default: none.")] = None,
    progress: ProgressOpt = True,
    json_out: JsonOpt = False,
) -> None:
    """Write every series' frozen features to a Parquet file: the series record (as `index --parquet` writes it),
    the image and report embeddings, the pooled feature and the patch-token mean (and the patch tokens).

    Nothing is written to an index. Series that cannot be read go to the error report and never stop the run.
    """
    from indexer.embed import EmbedCfg, run_embed

    from ..model.shipped import default_model_dir

    if model is None:
        model = default_model_dir()
        if model is None:
            _fail("no default model shipped yet; pass --model DIR")
    try:
        cfg = EmbedCfg(archive=archive, model=model, out=out, patch_tokens=patch_tokens, errors=errors,
                       workers=workers, batch_size=batch_size, salt=salt, keep_phi=keep_phi, device=device,
                       cache_dir=cache_dir, progress=progress)
        summary = run_embed(cfg)
    except (ValueError, FileNotFoundError, PermissionError) as e:
        _fail(str(e).splitlines()[0] if str(e) else type(e).__name__)
    except KeyboardInterrupt:
        raise typer.Exit(code=130) from None
    typer.echo(json.dumps(summary.to_dict()) if json_out else summary.describe())
