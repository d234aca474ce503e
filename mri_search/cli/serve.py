"""``mri-search serve``: the search page and JSON API (``mri_search.web``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import ArchiveRootOpt, LocatorOpt, SaltOpt, ViewerUrlOpt, fail


def serve(
    db: Annotated[Optional[Path], typer.Option(
        help="Embedded index folder (default: $MRI_SEARCH_HOME/qdrant, else ~/.local/share/mri-search/qdrant).")
    ] = None,
    qdrant_url: Annotated[Optional[str], typer.Option(
        "--qdrant-url", help="Search this Qdrant server or cluster instead of the embedded index.")] = None,
    qdrant_api_key: Annotated[Optional[str], typer.Option(
        "--qdrant-api-key", envvar="QDRANT_API_KEY", help="The Qdrant server's API key (or set QDRANT_API_KEY).")
    ] = None,
    host: Annotated[str, typer.Option(
        help="Interface to listen on. Anything but loopback (127.0.0.1, ::1) needs --api-key.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    api_key: Annotated[Optional[str], typer.Option(
        "--api-key", envvar="MRI_SEARCH_API_KEY",
        help="Key every request must carry (header X-API-Key, or ?api_key= once in the page's URL); "
             "or set MRI_SEARCH_API_KEY.")] = None,
    collection: Annotated[Optional[str], typer.Option(
        help="Collection to search (default: --model's own, else the only one, else the shipped model's).")] = None,
    model: Annotated[Optional[Path], typer.Option(
        help="Model folder; it must be the model that wrote the collection (default: that model).")] = None,
    salt: SaltOpt = None,
    archive_root: ArchiveRootOpt = None,
    viewer_url: ViewerUrlOpt = None,
    locator: LocatorOpt = None,
    max_upload_mb: Annotated[float, typer.Option(
        help="Largest image-query upload (NIfTI or zipped DICOM series), read into memory.")] = 64.0,
    lock_wait: Annotated[float, typer.Option(
        help="Seconds a request waits for an embedded index that an index run is writing before answering 503.")
    ] = 5.0,
    device: Annotated[str, typer.Option(help="Torch device of the image encoder (cpu, cuda, ...).")] = "cpu",
    threads: Annotated[int, typer.Option(
        help="Requests worked on at once; the others wait their turn (4 measured best on 2 cores).")] = 4,
) -> None:
    """Serve a search page and a JSON API (/api/search, /api/similar, /api/series, /api/health) over an index.

    An embedded index stays writable: `mri-search index` into the same --db while the page runs makes the server
    let go of the index until the run ends; its new series show at the next search.
    """
    from ..store import StoreBusy
    from ..web import ServeCfg, run_serve

    try:
        cfg = ServeCfg(db=db, qdrant_url=qdrant_url, qdrant_api_key=qdrant_api_key, collection=collection,
                       model=model, salt=salt, host=host, port=port, api_key=api_key, archive_root=archive_root,
                       viewer_url=viewer_url, locator=locator, max_upload_mb=max_upload_mb, lock_wait_s=lock_wait,
                       device=device, threads=threads)
        typer.echo(f"mri-search serve: http://{'[' + host + ']' if ':' in host else host}:{port}/"
                   + ("?api_key=..." if api_key else ""), err=True)
        run_serve(cfg)
    except StoreBusy as e:
        typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=3) from None
    except (ValueError, OSError) as e:
        fail(str(e).splitlines()[0] if str(e) else type(e).__name__)
    except KeyboardInterrupt:
        raise typer.Exit(code=130) from None
