"""What the routers do, in one place: the state of a running server (``WebState``) and the searches, facets,
series records and uploads on it. The routers only translate HTTP to these calls and back; the searching itself
is ``mri_search.query.Searcher``'s, as in ``mri-search query``."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..query import QueryFilters, QueryHit, Searcher
from ..query.searcher import MAX_TOP_K, read_series
from .config import ServeCfg
from .gate import StoreGate
from .images import SeriesImages

TARGETS = ("images", "reports")
GROUPS = ("none", "study", "patient")
# facet (the query-string name) -> payload field (dotted: nested in the payload)
FACET_FIELDS = {"sequence": "sequence", "plane": "plane", "body_part": "body_part", "manufacturer": "manufacturer",
                "contrast": "post_contrast", "report_region": "report_labels.region",
                "tumour_site": "report_labels.tumour_site"}
UPLOAD_TOTAL_FACTOR = 8  # an upload's zip may declare at most this many times the upload limit, uncompressed


def _field(payload: dict, name: str):
    """``payload[name]``, a dotted name read through nested dicts (None where absent)."""
    v = payload
    for part in name.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    return v


class UploadError(ValueError):
    """A query upload that cannot be used; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SearchParams:
    """The query state the page keeps in its URL."""

    q: str | None = None  # text query
    top_k: int = 24
    offset: int = 0
    target: str = "images"  # images | reports
    group_by: str = "none"  # none | study | patient
    filters: QueryFilters = field(default_factory=QueryFilters)

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {self.target!r}")
        if self.group_by not in GROUPS:
            raise ValueError(f"group_by must be one of {', '.join(GROUPS)}, got {self.group_by!r}")
        if self.offset < 0 or not 1 <= self.top_k <= MAX_TOP_K or self.offset + self.top_k > MAX_TOP_K:
            raise ValueError(f"top_k must be 1 or more and offset 0 or more, with top_k + offset at most "
                             f"{MAX_TOP_K}; got top_k={self.top_k}, offset={self.offset}")

    @property
    def group(self) -> str | None:
        return None if self.group_by == "none" else self.group_by


class WebState:
    """A running server: its config, the shared Searcher behind its gate, the series images and caches."""

    def __init__(self, cfg: ServeCfg, searcher: Searcher) -> None:
        self.cfg = cfg
        self.searcher = searcher
        self.gate = StoreGate(searcher, lock_wait_s=cfg.lock_wait_s)
        from ..store.locator import open_locator

        locator = open_locator(searcher.store.location, searcher.collection, cfg.locator, cfg.archive_root)
        self.images = SeriesImages(searcher.preprocess_config(), searcher.salt, cfg.cache_items, locator)
        self._encode_lock = threading.Lock()  # image queries: one at a time (the model loads on the first)
        self._root: tuple[int, str] | None = None  # (gate generation, archive root)
        self._facet_values: tuple[int, dict[str, list]] | None = None

    @classmethod
    def open(cls, cfg: ServeCfg) -> "WebState":
        """Open the store and the Searcher, and warm the text encoder (the first query is then as fast as the
        others). The embedded collection is opened lazily, by the first request.

        Raises:
            ValueError: bad options, no collection, no model for it.
        """
        searcher = Searcher.open(db=cfg.db, url=cfg.qdrant_url, api_key=cfg.qdrant_api_key, lock_wait_s=0.0,
                                 collection=cfg.collection, model=cfg.model, salt=cfg.salt, device=cfg.device,
                                 text_encoder=cfg.text_encoder)
        try:
            searcher.encode_text("warm up")
            state = cls(cfg, searcher)
        except BaseException:
            searcher.close()
            raise
        state.gate.start()
        return state

    def close(self) -> None:
        self.gate.close()

    # --- searches -------------------------------------------------------------------------------------------

    def search(self, p: SearchParams) -> tuple[list[QueryHit], dict]:
        """A text query; returns the page of hits and the context of ``query --json``."""
        if not p.q or not p.q.strip():
            raise ValueError("empty query: type what to find")
        t0 = time.perf_counter()
        want = p.offset + p.top_k
        with self.gate.session() as s:
            if p.target == "reports":
                hits = s.search_reports(p.q, top_k=want, filters=p.filters, group_by=p.group)
            else:
                hits = s.search_text(p.q, top_k=want, filters=p.filters, group_by=p.group)
            timings = {k: round(s.timings.get(k, 0.0), 2) for k in ("encode_ms", "search_ms")}
        return hits[p.offset:], self._context(p, t0, timings, query=p.q)

    def similar(self, series_key: str, p: SearchParams) -> tuple[list[QueryHit], dict]:
        """"More like this": the series nearest to an indexed one by its stored image vector."""
        t0 = time.perf_counter()
        with self.gate.session() as s:
            hits = s.search_similar(series_key, top_k=p.offset + p.top_k, filters=p.filters, group_by=p.group)
            timings = {"search_ms": round(s.timings.get("search_ms", 0.0), 2)}
        return hits[p.offset:], self._context(p, t0, timings, query=None, similar_to=series_key, target="images")

    def search_upload(self, body: bytes, name: str, p: SearchParams, series: int | None = None
                      ) -> tuple[list[QueryHit], dict]:
        """An image query with an uploaded NIfTI file or zipped DICOM series (already read, size-checked).

        Raises:
            UploadError: empty, not a NIfTI or zip, nothing readable in it (the ingestion layer's reasons, zip
                slip and zip bombs among them), several series and no ``series``.
        """
        from ..ingest.config import ScanOptions

        kind = upload_kind(body)
        t0 = time.perf_counter()
        limit = self.cfg.max_upload_bytes
        opts = ScanOptions(salt=self.searcher.salt, max_file_bytes=UPLOAD_TOTAL_FACTOR * limit,
                           max_total_bytes=UPLOAD_TOTAL_FACTOR * limit)
        with tempfile.TemporaryDirectory(prefix="mri-search-upload-") as tmp:  # mode 0700: this user only
            path = Path(tmp) / f"upload{kind}"
            path.write_bytes(body)
            notes = []
            try:
                from ..ingest.archive import scan_archive

                scan = scan_archive(path, opts)
                notes = [f"{Path(s.path).name}: {s.reason}" for s in scan.skipped if s.level == "failed"][:10]
                record = read_series(path, self.searcher.salt, series, options=opts)
                with self._encode_lock:
                    t1 = time.perf_counter()
                    vector = self.searcher.encode_record(record, name or "the upload")
                    encode_ms = 1e3 * (time.perf_counter() - t1)
            except ValueError as exc:
                raise UploadError(422, str(exc).replace(str(path), name or "the upload").replace(tmp + "/", "")
                                  ) from None
        using = "report" if p.target == "reports" else "image"
        group = p.group or ("study" if p.target == "reports" else None)
        with self.gate.session() as s:
            hits = s.search_vector(vector, using, p.offset + p.top_k, p.filters, group, modality="image")
            timings = {"encode_ms": round(encode_ms, 2), "search_ms": round(s.timings.get("search_ms", 0.0), 2)}
        ctx = self._context(p, t0, timings, query=None, image=name or "upload")
        ctx["notes"] = notes
        return hits[p.offset:], ctx

    def _context(self, p: SearchParams, t0: float, timings: dict, **extra) -> dict:
        s = self.searcher
        ctx = {"query": None, "image": None, "similar_to": None, "target": p.target, "collection": s.collection,
               "model_id": s.meta.model_id, "model_name": s.meta.model_name, "text_encoder": s.text_backend,
               "filters": p.filters.to_filter(self.searcher.salt), "group_by": p.group_by, "top_k": p.top_k,
               "offset": p.offset}
        ctx.update(extra)
        ctx["timings_ms"] = {**timings, "total_ms": round(1e3 * (time.perf_counter() - t0), 2)}
        return ctx

    # --- series ---------------------------------------------------------------------------------------------

    def hit_of(self, series_key: str) -> QueryHit:
        """The indexed series as a hit (rank 0, score 1).

        Raises:
            KeyError: no such series.
        """
        from ..store import Hit

        with self.gate.session() as s:
            point = s.lookup(series_key)
        if point is None:
            raise KeyError(series_key)
        return QueryHit.from_hit(0, Hit(id=point.id, score=1.0, payload=point.payload))

    def facets(self, filters: QueryFilters) -> tuple[int, dict[str, list[tuple[str, int]]]]:
        """Series counts per facet value, each facet counted under the other facets' filters (so that choosing
        one sequence still shows the others' counts), and the total under all filters."""
        base = filters.to_filter(self.searcher.salt) or {}
        out: dict[str, list[tuple[str, int]]] = {}
        with self.gate.session() as s:
            col = s.connect()
            values = self._values(col)
            total = col.count(base or None)
            for facet, fld in FACET_FIELDS.items():
                others = {k: v for k, v in base.items() if k != fld}
                counts = [(str(v).lower() if isinstance(v, bool) else str(v), col.count({**others, fld: v}))
                          for v in values.get(fld, [])]
                out[facet] = [(v, n) for v, n in sorted(counts, key=lambda c: (-c[1], c[0])) if n > 0]
        return total, out

    def _values(self, col) -> dict[str, list]:
        """Distinct values of the facet fields in the collection (one scan per opening of the collection)."""
        gen = self.gate.generation
        if self._facet_values is None or self._facet_values[0] != gen:
            seen: dict[str, set] = {f: set() for f in FACET_FIELDS.values()}
            for point in col.scroll(batch=512):
                for f in seen:
                    v = _field(point.payload, f)
                    if v not in (None, ""):
                        seen[f].add(v)
            self._facet_values = (gen, {f: sorted(v, key=str) for f, v in seen.items()})
        return self._facet_values[1]

    def archive_root(self) -> str:
        """The folder paths are shown relative to: the deepest folder holding every stored path of the collection
        (one scan per opening of the collection)."""
        gen = self.gate.generation
        if self._root is None or self._root[0] != gen:
            with self.gate.session() as s:
                places = [p.payload.get("path", "").split("::", 1)[0] for p in s.connect().scroll(batch=512)]
            places = [p for p in places if p]
            root = os.path.dirname(os.path.commonpath(places)) if len(places) == 1 else (
                os.path.commonpath(places) if places else "")
            self._root = (self.gate.generation, root)
        return self._root[1]

    def shown_path(self, path: str) -> str:
        """``path`` relative to the archive root (a zip member keeps its ``::member``); a path outside it shows its
        name alone, never the server's folders. Stored paths and the root are text of the same index, so this is a
        prefix test on the text (0.3 us a path here, against 5.6 us for ``os.path.relpath``, which asks the OS for
        the working folder at every call)."""
        if not path:
            return ""
        place, sep, member = path.partition("::")
        root = self.archive_root()
        base = place.rstrip("/").rsplit("/", 1)[-1]
        if not root:
            rel = base
        elif place.startswith(root.rstrip("/") + "/"):
            rel = place[len(root.rstrip("/")) + 1:]
            if rel.startswith("../") or "/../" in rel:
                rel = base
        else:
            rel = base
        return rel + sep + member


def upload_kind(body: bytes) -> str:
    """The file suffix an upload's bytes call for: ``.zip``, ``.nii.gz`` or ``.nii``.

    Raises:
        UploadError: empty, or neither (415).
    """
    if not body:
        raise UploadError(400, "empty upload: send a NIfTI file (.nii, .nii.gz) or a zipped DICOM series")
    if body[:4] == b"PK\x03\x04":
        return ".zip"
    if body[:2] == b"\x1f\x8b":
        return ".nii.gz"
    if len(body) >= 348 and body[344:348] in (b"n+1\x00", b"n+2\x00"):
        return ".nii"
    raise UploadError(415, "the upload is neither a NIfTI file (.nii, .nii.gz) nor a zip of a DICOM series")
