"""One query, end to end: checks, the search, thumbnails and lesions, and the result as JSON or lines.

``mri-search query`` and the web server both call ``run_query``; neither needs the other (no Typer here)::

    from mri_search.query.run import QueryCfg, run_query
    result = run_query(QueryCfg(text="axial FLAIR with a mass", top_k=5))
    print("\\n".join(result.lines()))

User mistakes raise ``ValueError`` with a message that can be shown as it is; an embedded index that another
process holds raises ``QueryBusy`` (a ``ValueError`` too) with the index's location.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..store.layout import StoreBusy
from .filters import QueryFilters

if TYPE_CHECKING:
    from .lesions import LesionFindings
    from .searcher import QueryHit, Searcher
    from .thumbs import Thumbnails

TARGETS = ("images", "reports")
GROUPS = ("none", "study", "patient")


class QueryBusy(StoreBusy):
    """The embedded index is open in another process; ``location`` says which index."""

    def __init__(self, location: str) -> None:
        super().__init__(f"the index at {location} is busy")
        self.location = location


@dataclass(frozen=True)
class QueryCfg:
    """One query: what to find, where, and what to write beside the ranked hits."""

    text: str | None = None  # what to find, in words (text-to-image search); exclusive with image
    image: Path | None = None  # search with this series (DICOM folder / file set, or NIfTI file) instead of text
    series: int | None = None  # which series of image when it holds several (0-based, `inspect` order)
    target: str = "images"  # images: series by image embedding; reports: studies by report embedding
    top_k: int = 10  # number of hits
    group_by: str = "none"  # none, study or patient: only the best series of each
    filters: QueryFilters = field(default_factory=QueryFilters)  # payload restrictions (sequence, plane, ...)
    thumbnails: Path | None = None  # write a PNG per hit and contact_sheet.png into this folder
    lesions: Path | None = None  # a lesion-localisation decoder folder: locate the lesion in each hit
    lesions_out: Path = Path("lesions")  # folder for the lesion heatmaps, JSON and overlays
    db: Path | None = None  # embedded index folder (None: the default folder)
    qdrant_url: str | None = None  # search this Qdrant server instead of the embedded index
    api_key: str | None = None  # Qdrant API key
    collection: str | None = None  # collection to search (None: the model's own, else the only one, ...)
    model: Path | None = None  # model folder (None: the one that wrote the collection)
    # the index run's identifier salt; None: the installation's (or the old public one a collection was built with)
    salt: str | None = None
    device: str = "cpu"  # torch device of the encoder
    text_encoder: str = "auto"  # auto (cached ONNX report tower), onnx or torch
    lock_wait_s: float = 1.0  # seconds to wait for an embedded index another process has open
    locator: Path | None = None  # the index's locator (real file paths); None: the one beside the index
    archive_root: Path | None = None  # the archive has moved here since indexing: rebase the locator's paths
    # link each hit to its study in this viewer: a URL with {study_uid} / {series_uid} (query.viewer); needs an
    # index built with --keep-uids
    viewer_url: str | None = None

    def __post_init__(self) -> None:
        if self.image is not None and self.text is not None:
            raise ValueError("give either a text query or --image PATH, not both")
        if self.image is None and (self.text is None or not self.text.strip()):
            raise ValueError("empty query: give the text to search for, or --image PATH")
        if self.target not in TARGETS:
            raise ValueError(f"--target must be images or reports, got {self.target!r}")
        if self.lesions is not None and self.target != "images":
            raise ValueError("--lesions shows lesions in retrieved series: use it with --target images")
        if self.viewer_url is not None:
            from .viewer import check_template

            check_template(self.viewer_url)


@dataclass
class QueryResult:
    """What ``run_query`` found, and what it wrote."""

    cfg: QueryCfg  # the query asked
    hits: list[QueryHit]  # ranked series (or studies, for reports)
    collection: str  # the collection searched
    model_id: str  # identity of the model that wrote it
    model_dir: Path  # the model folder that encoded the query
    text_backend: str | None  # onnx or torch (None for an image query)
    timings_ms: dict[str, float]  # encode, search, loads and open, and the total
    thumbnails: Thumbnails | None = None  # what --thumbnails wrote
    lesions: LesionFindings | None = None  # what --lesions found
    image_shown: str | None = None  # the query image's path, its own identifier values replaced (as stored paths)
    salt: str | None = None  # the salt the query ran with (Searcher.salt)

    def to_json(self) -> str:
        """One JSON document: the query's context, ``thumbnails``, ``lesions`` and the ``hits``."""
        from .output import to_json

        c, shots, found = self.cfg, self.thumbnails, self.lesions
        extra = {"thumbnails": None if shots is None else {
            "files": [str(p) for p in shots.paths], "sheet": str(shots.sheet) if shots.sheet else None,
            "unreadable": shots.unreadable}, "lesions": None if found is None else found.to_dict()}
        return to_json(self.hits, query=c.text, image=self.image_shown,
                       target=c.target, collection=self.collection, model_id=self.model_id,
                       model=str(self.model_dir), text_encoder=self.text_backend,
                       filters=c.filters.to_filter(self.salt), group_by=c.group_by, top_k=c.top_k,
                       timings_ms=self.timings_ms, **extra)

    def lines(self) -> list[str]:
        """The human output: the hit table, then a line on the thumbnails and one per lesion finding."""
        from .output import format_table

        out = [format_table(self.hits)]
        if self.cfg.viewer_url and self.hits:
            links = [f"  #{h.rank}: {h.viewer_url}" for h in self.hits if h.viewer_url]
            out += (["viewer:"] + links if links else
                    ["viewer: no links (the collection holds no raw UIDs: index it with --keep-uids)"])
        shots = self.thumbnails
        if shots is not None:
            out.append(f"thumbnails: {len(shots.paths)} PNGs and {shots.sheet} in {self.cfg.thumbnails}"
                       + (f" ({len(shots.unreadable)} series could not be read)" if shots.unreadable else ""))
        if self.lesions is not None:
            out.append(f"lesions (decoder {self.cfg.lesions}, files in {self.cfg.lesions_out}):")
            out.extend("  " + line for line in self.lesions.lines())
        return out


def _query_image(searcher: Searcher, cfg: QueryCfg):
    """(the query series read with the collection's salt, its path with its own identifier values as tokens), or
    (None, None) for a text query."""
    if cfg.image is None:
        return None, None
    from ..ingest.path_ids import redact_path
    from .searcher import read_series

    image = read_series(cfg.image, searcher.salt, cfg.series)
    return image, redact_path(str(cfg.image), searcher.salt, image.path_ids)


def _search(searcher: Searcher, cfg: QueryCfg, image) -> list[QueryHit]:
    """``image``: the query series already read (``read_series``), or None for a text query."""
    if cfg.target == "reports":
        return searcher.search_reports(cfg.text, image=image, top_k=cfg.top_k,
                                       filters=cfg.filters, group_by=None if cfg.group_by == "none" else cfg.group_by)
    if image is not None:
        return searcher.search_image(image, top_k=cfg.top_k, filters=cfg.filters, group_by=cfg.group_by)
    return searcher.search_text(cfg.text, top_k=cfg.top_k, filters=cfg.filters, group_by=cfg.group_by)


def run_query(cfg: QueryCfg, searcher: Searcher | None = None) -> QueryResult:
    """Run one query and write its thumbnails and lesion files.

    Args:
        cfg: the query.
        searcher: an open searcher to use (a server keeps one open); None opens the store ``cfg`` names for this
            query alone and closes it again.

    Raises:
        QueryBusy: the embedded index is open in another process.
        ValueError: a user mistake (no such collection, a bad decoder folder, an unreadable --image, ...).
        OSError: a file could not be read or written.
    """
    from .searcher import Searcher

    t0 = time.perf_counter()
    if cfg.lesions is not None:
        from .lesions import check_decoder

        check_decoder(cfg.lesions)
    try:
        if searcher is None:
            searcher = Searcher.open(db=cfg.db, url=cfg.qdrant_url, api_key=cfg.api_key, lock_wait_s=cfg.lock_wait_s,
                                     collection=cfg.collection, model=cfg.model, salt=cfg.salt, device=cfg.device,
                                     text_encoder=cfg.text_encoder)
            with searcher:
                image, shown = _query_image(searcher, cfg)
                hits = _search(searcher, cfg, image)
        else:
            image, shown = _query_image(searcher, cfg)
            hits = _search(searcher, cfg, image)
    except StoreBusy as e:
        if isinstance(e, QueryBusy):
            raise
        location = searcher.store.location if searcher is not None else str(cfg.db or cfg.qdrant_url
                                                                            or "the default folder")
        raise QueryBusy(location) from e
    if cfg.viewer_url:
        from .viewer import viewer_link

        hits = [replace(h, viewer_url=viewer_link(cfg.viewer_url, h.payload)) for h in hits]
    shots = found = None
    locator = None
    if cfg.thumbnails is not None or cfg.lesions is not None:
        from ..store.locator import open_locator

        locator = open_locator(searcher.store.location, searcher.collection, cfg.locator, cfg.archive_root)
    if cfg.thumbnails is not None:
        from .thumbs import write_thumbnails

        shots = write_thumbnails(hits, cfg.thumbnails, searcher.preprocess_config(), salt=searcher.salt,
                                 locator=locator)
    if cfg.lesions is not None:
        from .lesions import locate_lesions

        found = locate_lesions(hits, cfg.lesions, cfg.lesions_out, salt=searcher.salt, locator=locator)
    timings = {**{k: round(v, 2) for k, v in searcher.timings.items()},
               "total": round(1e3 * (time.perf_counter() - t0), 2)}
    return QueryResult(cfg=cfg, hits=hits, collection=searcher.collection, model_id=searcher.meta.model_id,
                       model_dir=searcher.model_dir, text_backend=searcher.text_backend, timings_ms=timings,
                       thumbnails=shots, lesions=found, image_shown=shown, salt=searcher.salt)
