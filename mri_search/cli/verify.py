"""``mri-search verify``: every point of a collection checked; ``--repair`` drops the damaged ones and, given the
archive, indexes it again so that they are embedded anew. Thin over ``mri_search.store.verify``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import ModelOpt, SaltOpt
from .options import busy as _busy
from .options import fail as _fail


def verify(
    db: Annotated[Optional[Path], typer.Option(
        help="Embedded index folder (default: $MRI_SEARCH_HOME/qdrant, else ~/.local/share/mri-search/qdrant).")
    ] = None,
    qdrant_url: Annotated[Optional[str], typer.Option("--qdrant-url", help="A Qdrant server or cluster.")] = None,
    api_key: Annotated[Optional[str], typer.Option(
        "--api-key", envvar="QDRANT_API_KEY", help="Qdrant API key (or set QDRANT_API_KEY).")] = None,
    collection: Annotated[Optional[str], typer.Option(
        help="Collection to check (default: the only one, else the shipped model's).")] = None,
    parquet: Annotated[Optional[Path], typer.Option(
        help="The index run's Parquet export: its rows and the collection's points are compared.")] = None,
    repair: Annotated[bool, typer.Option(
        help="Drop the damaged points; with --archive, index the archive again so that they are embedded anew.")
    ] = False,
    archive: Annotated[Optional[Path], typer.Option(
        help="With --repair: the archive the collection was indexed from.")] = None,
    model: ModelOpt = None,
    salt: SaltOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check every point of a collection: vectors present, of the right size, finite and of unit length; payloads
    with their keys; the engine's files readable; the Parquet export in agreement.

    Exit codes: 0 nothing wrong (or everything repaired), 1 problems found, 2 a user mistake, 3 the embedded index
    is busy.
    """
    from ..query.resolve import pick_collection, resolve_model
    from ..store import StoreBusy, open_store
    from ..store.verify import verify_collection

    if archive is not None and not repair:
        _fail("--archive is for --repair (it re-embeds the dropped points)")
    try:
        with open_store(db, qdrant_url, api_key, lock_wait_s=5.0) as store:
            name, meta = pick_collection(store, collection, None)
            report = verify_collection(store, name, parquet, repair=repair)
        lines = report.lines()
        if repair and report.dropped:
            if archive is not None:
                from indexer.config import IndexCfg
                from indexer.run import run_index

                summary = run_index(IndexCfg(archive=archive, model=resolve_model(meta, name, model), db=db,
                                             qdrant_url=qdrant_url, api_key=api_key, collection=name, salt=salt,
                                             progress=False))
                lines.append(f"re-indexed {archive}: {summary.indexed} points embedded again")
            else:
                lines.append(f"dropped {report.dropped} damaged points; `mri-search index ARCHIVE` into this index "
                             "(or --repair --archive ARCHIVE) embeds them again")
            with open_store(db, qdrant_url, api_key, lock_wait_s=5.0) as store:
                report = verify_collection(store, name, parquet)
            lines += ["after the repair:"] + report.lines()
    except StoreBusy:
        _busy(str(db or qdrant_url or "the default folder"))
    except (ValueError, OSError) as e:
        _fail(str(e).splitlines()[0] if str(e) else type(e).__name__)
    typer.echo(json.dumps(report.to_dict(), indent=2) if json_out else "\n".join(lines))
    if not report.ok:
        raise typer.Exit(code=1)
