"""``Searcher``: text or an MRI series in, ranked series (or studies) of a collection out.

    from mri_search.query import Searcher, QueryFilters
    with Searcher.open(db="~/.local/share/mri-search/qdrant") as s:          # or url="http://qdrant:6333"
        hits = s.search_text("axial T2 of the neck with a mass in the left tonsil", top_k=10,
                             filters=QueryFilters(sequences=("T2",)), group_by="study")
        same = s.search_image("scans/patient7/SE000003")                   # DICOM folder, file set or NIfTI
        reports = s.search_reports(image="scans/patient7/SE000003")        # image -> report retrieval

A query is one encoding (for text the report tower alone, run by onnxruntime without torch once the model's ONNX
encoder is cached, see ``text_encoder.py``; for images the whole model, the series read and preprocessed exactly as
at index time) plus one vector search on the collection's ``image`` or ``report`` named vector. The model is the
one that wrote the collection (``resolve.py``). The collection is opened at the first search and held until
``close()``: an embedded index allows one process at a time, so a Searcher kept open blocks ``mri-search index``
runs into that folder (they wait for it, up to their ``lock_wait_s``), and a running one makes the first search
raise ``StoreBusy`` (after the Searcher's own ``lock_wait_s``).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from ..ingest.records import SeriesRecord
from ..ingest.salt import salt_for
from ..store import IMAGE, REPORT, Hit, Point, VectorStore, open_store, salt_check
from ..store.fields import FIELD_NAMES
from .filters import QueryFilters
from .grouping import group_field, grouped_search
from .resolve import pick_collection, resolve_model
from .text_encoder import QueryTextEncoder, torch_encode

log = logging.getLogger(__name__)

IMPRESSION_CHARS = 160  # QueryHit.impression is the report's impression cut to this length
MAX_TOP_K = 10_000
# Search beam of the HNSW graph for unfiltered image -> image queries (the engine's default is about 100): recall@10
# 1.0 at a beam of 128 on 100k points made from real embeddings (docs/query_latency_100k.md).
HNSW_EF = 256
# The hard queries: cross-modal ones (text -> images, image -> reports), searches of the report vectors, and
# filtered ones. A cross-modal query lands far from every indexed vector (the modality gap), where the graph walk
# misses neighbours; the series of a study share one report vector, so the report graph is full of exact
# duplicates; the engine walks a filtered graph once more than ~10k points match, where a query can be stranded.
# Measured on 100k points (benchmarks/query_latency.py, docs/query_latency_100k.md), recall@10 at beams 128 / 512
# / 2048: text -> image 0.85 / 0.97 / 1.0, image -> report 0.68 / 0.93 / 0.998, text -> report 0.77 / 0.93 / 1.0,
# 1 filter 0.95 / 0.999 / 0.999; an exact scan took 8.5 ms p50 in the engine (13 ms through search_vector, which
# reads the hits back for the damage check), the 2048 beam 2.5-3.4 ms (4 ms). So these scan exactly up to
# EXACT_MAX_POINTS (about 4 ms here) and walk the graph with beam HARD_EF beyond.
# Routing a text query through the report graph (recall 0.04), moving it across the modality gap (0.35) and int8
# quantisation (the graph built on int8 codes: 0.93 at beam 2048) all did worse.
HARD_EF = 2048
EXACT_MAX_POINTS = 50_000


@dataclass(frozen=True)
class QueryHit:
    """One result: a series (or, for report search, the best series of a study), with what a reader needs."""

    rank: int  # 1 = best
    score: float  # cosine similarity of the query and the searched vector
    id: str  # point id in the collection
    series_key: str  # salted series key (SeriesRecord.key)
    study_key: str  # salted StudyInstanceUID
    sequence: str  # sequence family: T1, T2, FLAIR, ...
    plane: str  # axial, sagittal, coronal, oblique
    body_part: str  # BodyPartExamined as stated ("" when absent)
    manufacturer: str
    series_description: str
    impression: str  # the study report's impression, shortened ("" without a report)
    path: str  # the series' first file (a folder path, or archive.zip::member)
    payload: dict = field(repr=False, default_factory=dict)  # everything stored with the point
    viewer_url: str | None = None  # the study in the hospital's viewer (query.viewer; needs --keep-uids)

    @classmethod
    def from_hit(cls, rank: int, hit) -> "QueryHit":
        """From a store ``Hit``: the payload fields this class names (``store.fields``) as strings ("" when absent)."""
        p = hit.payload
        report = p.get("report") or {}
        return cls(rank=rank, score=float(hit.score), id=hit.id, **{k: str(p.get(k) or "") for k in _FROM_PAYLOAD},
                   impression=shorten(str(report.get("impression") or ""), IMPRESSION_CHARS), payload=dict(p))

    def to_dict(self, with_payload: bool = False) -> dict:
        """JSON-ready dict (the payload only on request: it holds the whole report, and copying it costs more than
        the rest of a hit)."""
        if with_payload:
            return asdict(self)
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "payload"}


# the QueryHit fields read straight from the payload (text fields of the same name)
_FROM_PAYLOAD = tuple(f.name for f in fields(QueryHit) if f.name in FIELD_NAMES)


def shorten(text: str, width: int) -> str:
    """Whitespace collapsed, cut at a word boundary to at most ``width`` characters (``...`` marks a cut)."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: max(width - 3, 1)].rsplit(" ", 1)[0] or text[: width - 3]
    return cut.rstrip(" ,;:.") + "..."


class Searcher:
    """Queries against one collection of a vector store.

    Args:
        store: an open store (``open_store``; ``ServerStore.memory()`` in tests).
        collection: the collection (None: chosen as ``resolve.pick_collection`` says).
        model: the model folder (None: the collection's model, found as ``resolve.resolve_model`` says).
        salt: the identifier salt the collection was indexed with (study exclusions are salted keys); None: this
            installation's, or the old public default when the collection was built with it (``ingest.salt``).
        device: torch device of the encoders.
        text_encoder: how text is encoded: ``auto`` (the cached ONNX report tower, built on first use), ``onnx``
            or ``torch`` (``text_encoder.QueryTextEncoder``).
        owns_store: close ``store`` in ``close()`` (``Searcher.open`` sets it).

    Raises:
        ValueError: no such collection, no model folder matching the collection's model, an unknown
            ``text_encoder``.
    """

    def __init__(self, store: VectorStore, collection: str | None = None, model: str | os.PathLike | None = None,
                 salt: str | None = None, device: str = "cpu", owns_store: bool = False,
                 text_encoder: str = "auto") -> None:
        from ..model import model_identity

        self.store = store
        self.device = device
        self._owns_store = owns_store
        model_dir = Path(model).expanduser() if model is not None else None
        model_id = model_identity(model_dir) if model_dir is not None else None
        self.collection, self.meta = pick_collection(store, collection, model_id)
        # --salt, else this installation's, else the old public default for a collection built with it
        self.salt = salt_for(self.meta.salt_check, salt, salt_check)
        self.model_dir = resolve_model(self.meta, self.collection, model_dir, model_id)
        self.timings: dict[str, float] = {}  # ms: the latest encode and search, the one-off loads and open
        self._col = None
        self._points = None  # points in the collection, counted at the first query that needs it
        self._text = QueryTextEncoder(self.model_dir, self.meta.model_id, text_encoder, device,
                                      embed_dim=self.meta.embed_dim)  # text queries; loads on first use
        self._loaded = None  # LoadedModel: image queries (its model also encodes text)

    @classmethod
    def open(cls, db: str | os.PathLike | None = None, url: str | None = None, api_key: str | None = None,
             lock_wait_s: float = 0.0, **kwargs) -> "Searcher":
        """A Searcher on the embedded index ``db`` (default folder when both are None) or the server ``url``;
        ``lock_wait_s``: how long the first search waits for an embedded index another process has open (then
        ``StoreBusy``); ``kwargs`` as the constructor's. The store is closed with the Searcher."""
        store = open_store(db, url, api_key, lock_wait_s=lock_wait_s)
        try:
            return cls(store, owns_store=True, **kwargs)
        except BaseException:
            store.close()
            raise

    # --- queries ---------------------------------------------------------------------------------------------

    def search_text(self, text: str, top_k: int = 10, filters: QueryFilters | dict | None = None,
                    group_by: str | None = None) -> list[QueryHit]:
        """Series whose images match a description (text-to-image retrieval).

        Args:
            text: what to find, in words ("sagittal T1 of the lumbar spine with a disc herniation").
            top_k: hits wanted.
            filters: payload restrictions (``QueryFilters``, or the store's neutral filter dict).
            group_by: "study" or "patient": the best series of each, so that one study does not fill the page.

        Raises:
            ValueError: empty text, bad options. ``StoreBusy``: an embedded index open in another process.
        """
        return self.search_vector(self.encode_text(text), IMAGE, top_k, filters, group_by, modality="text")

    def search_image(self, image: str | os.PathLike, top_k: int = 10, filters: QueryFilters | dict | None = None,
                     group_by: str | None = None, series: int | None = None) -> list[QueryHit]:
        """Series that look like the series at ``image`` (image-to-image retrieval).

        Args:
            image: a DICOM folder, a DICOM file set (folder, zip or tar), or a NIfTI file.
            series: which series when ``image`` holds several (0-based, in ``mri-search inspect`` order).
            top_k, filters, group_by: as ``search_text``.

        Raises:
            ValueError: no readable series (with the reason), several and no ``series``, bad options.
        """
        return self.search_vector(self.encode_image(image, series), IMAGE, top_k, filters, group_by,
                                  modality="image")

    def search_similar(self, series_key: str, top_k: int = 10, filters: QueryFilters | dict | None = None,
                       group_by: str | None = None) -> list[QueryHit]:
        """Series that look like an indexed series ("more like this"), by its stored image vector; the series
        itself is left out.

        Raises:
            ValueError: no such series in the collection; bad options.
        """
        point = self.lookup(series_key, with_vectors=True)
        if point is None or IMAGE not in point.vectors:
            raise ValueError(f"no series {series_key!r} in collection {self.collection!r}")
        hits = self.search_vector(point.vectors[IMAGE], IMAGE, int(top_k) + 1, filters, group_by, modality="image")
        kept = [h for h in hits if h.id != point.id][: int(top_k)]
        return [QueryHit.from_hit(i + 1, h) for i, h in enumerate(kept)]

    def lookup(self, series_key: str, with_vectors: bool = False):
        """The stored ``Point`` of the series ``series_key`` (its payload; vectors on request), or None."""
        if not isinstance(series_key, str) or not series_key:
            return None
        col = self._collection()
        for point in col.scroll({"series_key": series_key}, with_vectors=with_vectors, batch=2):
            return point
        return None

    def search_reports(self, text: str | None = None, *, image: str | os.PathLike | None = None,
                       series: int | None = None, top_k: int = 10, filters: QueryFilters | dict | None = None,
                       group_by: str | None = "study") -> list[QueryHit]:
        """Studies whose report matches ``text`` or the series at ``image`` (report search; image-to-text
        retrieval with an image). Series of a study share one report vector, so hits are grouped by study (or by
        patient): each hit is a study, shown through its best series.

        Raises:
            ValueError: neither or both of ``text`` and ``image``; as ``search_text`` / ``search_image``.
        """
        if (text is None) == (image is None):
            raise ValueError("give either a text or an image to search reports with, not both")
        vector = self.encode_text(text) if image is None else self.encode_image(image, series)
        if group_field(group_by) is None:
            group_by = "study"
        return self.search_vector(vector, REPORT, top_k, filters, group_by,
                                  modality="text" if image is None else "image")

    def search_vector(self, vector, using: str = IMAGE, top_k: int = 10, filters: QueryFilters | dict | None = None,
                      group_by: str | None = None, exact: bool | None = None,
                      modality: str | None = None) -> list[QueryHit]:
        """The nearest points to an embedding of this collection's space, by the named vector ``using``.

        Args:
            vector: the query embedding ``[embed_dim]``.
            using: the named vector searched (``image`` or ``report``).
            top_k, filters, group_by: as ``search_text``.
            exact: scan every vector (True), walk the HNSW graph (False), or decide (None): a hard query (cross-modal,
                of the report vectors, or filtered) scans exactly in a collection of at most ``EXACT_MAX_POINTS`` and
                walks the graph with beam ``HARD_EF`` beyond; an unfiltered image -> image query walks it with
                ``HNSW_EF``.
            modality: what the query embeds, "text" or "image" (None: unknown, never cross-modal).

        Raises:
            ValueError: wrong size, bad options. ``StoreBusy``: an embedded index open in another process.
        """
        if using not in (IMAGE, REPORT):
            raise ValueError(f"using must be {IMAGE!r} or {REPORT!r}, got {using!r}")
        if not 1 <= int(top_k) <= MAX_TOP_K:
            raise ValueError(f"--top-k must be between 1 and {MAX_TOP_K}, got {top_k}")
        v = np.asarray(vector, dtype=np.float32).reshape(-1)  # [D]
        if v.shape[0] != self.meta.embed_dim or not np.isfinite(v).all():
            raise ValueError(f"query vector must hold {self.meta.embed_dim} finite numbers, got {v.shape[0]}")
        flt = self._filter(filters)
        field_ = group_field(group_by)
        col = self._collection()
        hard = (modality == "text" and using == IMAGE) or using == REPORT or flt is not None
        if exact is None:
            exact = hard and self._size(col) <= EXACT_MAX_POINTS
        ef = HARD_EF if hard else HNSW_EF
        t0 = time.perf_counter()

        def search(limit: int, fields: list[str] | None = None, with_vectors: bool = False):
            return col.search(v, using=using, top_k=limit, filter=flt, exact=exact, hnsw_ef=ef, fields=fields,
                              with_vectors=with_vectors)

        if field_ is None:  # the hits come with their stored vectors, for the damage check
            hits = search(int(top_k), with_vectors=True)
            stored = [Point(id=h.id, vectors=h.vectors, payload=h.payload) for h in hits]
        else:  # over-fetch with the group key only, then the whole points of the hits kept (one read)
            kept = grouped_search(lambda n: search(n, [field_]), int(top_k), field_)
            stored = col.retrieve([h.id for h in kept], with_vectors=True)
            full = {p.id: p.payload for p in stored}
            hits = [Hit(id=h.id, score=h.score, payload=full.get(h.id, h.payload)) for h in kept]
        self._check(hits, stored)
        self.timings["search_ms"] = 1e3 * (time.perf_counter() - t0)
        return [QueryHit.from_hit(i + 1, h) for i, h in enumerate(hits)]

    def _check(self, hits: list[Hit], stored: list) -> None:
        """Stop with ``StoreDamaged`` when a hit's score or stored vectors cannot come from unit embeddings (a
        damaged engine file answers with scores of 0 or 1e37 rather than failing)."""
        from ..store.integrity import StoreDamaged, check_hits, damaged_message, damaged_points

        check_hits(hits, self.store.location)
        bad = damaged_points(stored, self.meta.embed_dim)  # the hits' points, read with their vectors
        if bad:
            pid, why = next(iter(bad.items()))
            raise StoreDamaged(damaged_message(self.store.location, f"{len(bad)} of {len(hits)} hits damaged; "
                                                                    f"point {pid}: {why}"))

    # --- encoders --------------------------------------------------------------------------------------------

    def encode_text(self, text: str) -> np.ndarray:
        """The query text's embedding ``[embed_dim]`` (unit length), by the collection's report tower."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("empty query: give some text to search for, or --image PATH")
        t0 = time.perf_counter()
        if self._loaded is not None and self._text.used is None and self._text.backend != "onnx":
            # the whole model is loaded already (an image query came first): it encodes text as well
            z = torch_encode(self._loaded.model, [text.strip()])[0]
        else:
            z = self._text.encode(text.strip())
            self.timings.update(self._text.timings)
        self.timings["encode_ms"] = 1e3 * (time.perf_counter() - t0)
        return z

    @property
    def text_backend(self) -> str | None:
        """What encodes text queries: ``onnx`` or ``torch`` (None before the first text query)."""
        if self._text.used is None and self._loaded is not None and self._text.backend != "onnx":
            return "torch"
        return self._text.used

    def encode_image(self, image, series: int | None = None) -> np.ndarray:
        """The embedding ``[embed_dim]`` of the series at ``image`` (a path; or a ``SeriesRecord`` already read by
        ``read_series``), read and preprocessed as at index time."""
        t0 = time.perf_counter()
        if isinstance(image, SeriesRecord):
            v = self.encode_record(image, image.stored_path or "the query series")
        else:
            v = self.encode_record(read_series(image, self.salt, series), str(image))
        self.timings["encode_ms"] = 1e3 * (time.perf_counter() - t0)
        return v

    def encode_record(self, record, name: str = "the series") -> np.ndarray:
        """The embedding ``[embed_dim]`` of a ``SeriesRecord`` already read (``read_series``), preprocessed as at
        index time; ``name`` names it in errors."""
        image = name
        loaded = self._image_model()
        from ..embed import encode_volumes
        from ..preprocess import preprocess

        try:
            x = preprocess(record, loaded.preprocess)  # [1, S, S, S]
        except Exception as exc:  # a broken volume: one line, whatever the reader raised
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ValueError(f"cannot use {image} as a query: {msg}") from None
        v = encode_volumes(loaded.model, x.as_tensor()[None])[0]  # [D]
        if not np.isfinite(v).all():
            raise ValueError(f"cannot use {image} as a query: the encoder returned a non-finite embedding")
        return v

    def preprocess_config(self):
        """The model's ``PreprocessConfig`` (thumbnails show what the model saw)."""
        if self._loaded is not None:
            return self._loaded.preprocess
        from ..model.identity import read_meta
        from ..preprocess import PreprocessConfig

        return PreprocessConfig.from_dict(read_meta(self.model_dir)["preprocess"])

    # --- plumbing --------------------------------------------------------------------------------------------

    def _filter(self, filters: QueryFilters | dict | None) -> dict | None:
        if isinstance(filters, QueryFilters):
            if filters.exclude_studies and salt_check(self.salt) != self.meta.salt_check:
                raise ValueError(f"--salt differs from the salt collection {self.collection!r} was indexed with, so "
                                 "study UIDs cannot be matched to its study keys; pass the index run's --salt")
            return filters.to_filter(self.salt)
        return filters

    def connect(self):
        """Open the collection now (the first search does it otherwise) and return it (``store.Collection``).

        Raises:
            StoreBusy: an embedded index open in another process (after ``lock_wait_s``).
        """
        return self._collection()

    def _collection(self):
        if self._col is None:
            t0 = time.perf_counter()
            self._col = self.store.open_collection(self.collection)
            self.timings["open_ms"] = 1e3 * (time.perf_counter() - t0)
        return self._col

    def _size(self, col) -> int:
        if self._points is None:
            self._points = col.count()
        return self._points

    def _image_model(self):
        if self._loaded is None:
            from ..model import load_model

            t0 = time.perf_counter()
            self._loaded = load_model(self.model_dir, device=self.device)
            self.timings["load_model_ms"] = 1e3 * (time.perf_counter() - t0)
        return self._loaded

    def close(self) -> None:
        """Close the store if this Searcher opened it (``Searcher.open``), releasing the embedded index's lock. A
        store passed in belongs to the caller: the collection stays open until the caller closes the store.
        After closing an embedded store the Searcher still works: the next search opens the collection again
        (``mri_search.web`` lets go of the index this way while an index run wants it)."""
        self._col = None
        self._points = None
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> "Searcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_series(image: str | os.PathLike, salt: str | None = None, series: int | None = None, options=None):
    """The one series (``SeriesRecord``) at ``image``: a DICOM folder, a DICOM file set or a NIfTI file.
    ``options``: the scan's ``ScanOptions`` (limits; default: the defaults with ``salt``).

    Raises:
        ValueError: nothing readable there (the first reasons are given), several series and no ``series``, or
            ``series`` out of range.
    """
    from ..ingest.archive import scan_archive
    from ..ingest.config import ScanOptions

    scan = scan_archive(Path(image).expanduser(), options or ScanOptions(salt=salt))
    recs = scan.series
    if not recs:
        why = "; ".join(f"{Path(s.path).name}: {s.reason}" for s in scan.skipped[:3])
        raise ValueError(f"no readable MR series in {image}" + (f" ({why})" if why else ""))
    if series is None and len(recs) > 1:
        listing = "; ".join(f"{i}: {r.sequence} {r.plane} {r.series_description!r}" for i, r in enumerate(recs[:12]))
        raise ValueError(f"{len(recs)} series in {image}; choose one with --series N ({listing}"
                         f"{'; ...' if len(recs) > 12 else ''})")
    i = series or 0
    if not 0 <= i < len(recs):
        raise ValueError(f"--series {i}: {image} holds {len(recs)} series (0 to {len(recs) - 1})")
    return recs[i]
