"""The vector store protocol: what the indexer and the query layer need from an engine, and nothing more.

Two implementations reach the same Qdrant engine: ``EdgeStore`` (Qdrant Edge, in-process, on disk; the default)
and ``ServerStore`` (a Qdrant server or cluster through qdrant-client; its ``:memory:`` mode in tests). Both keep
the collection layout of ``layout.py``; points are plain ``Point`` values with string UUID ids.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .layout import CollectionMeta, check_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Point:
    """One series in a collection."""

    id: str  # UUID string (layout.point_id)
    vectors: dict[str, list[float]] = field(default_factory=dict)  # "image" and, with a report, "report"
    payload: dict = field(default_factory=dict)  # JSON-ready series record (payload.build_payload)


@dataclass(frozen=True)
class Hit:
    """One search result."""

    id: str
    score: float  # cosine similarity
    payload: dict
    vectors: dict[str, list[float]] = field(default_factory=dict)  # the point's named vectors, when asked for


def point_of(record, with_vectors: bool) -> Point:
    """A ``Point`` from an engine's record (Qdrant Edge's ``Record`` and qdrant-client's have the same fields)."""
    vec = record.vector if with_vectors and isinstance(record.vector, dict) else {}
    return Point(id=str(record.id), vectors={k: list(v) for k, v in vec.items()}, payload=dict(record.payload or {}))


def hit_of(scored, with_vectors: bool) -> Hit:
    """A ``Hit`` from an engine's scored point (Qdrant Edge's and qdrant-client's have the same fields)."""
    vec = scored.vector if with_vectors and isinstance(scored.vector, dict) else {}
    return Hit(id=str(scored.id), score=float(scored.score), payload=dict(scored.payload or {}),
               vectors={k: list(v) for k, v in vec.items()})


class Collection(Protocol):
    """One open collection."""

    name: str
    meta: CollectionMeta

    def upsert(self, points: Sequence[Point]) -> None:
        """Insert or replace points; durable when it returns (write-ahead log or server acknowledgement)."""

    def delete(self, ids: Sequence[str]) -> None:
        """Remove these points (ids not in the collection are ignored)."""

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """The subset of ``ids`` present in the collection."""

    def retrieve(self, ids: Sequence[str], with_vectors: bool = False) -> list[Point]:
        """Points by id (missing ids are left out), payload always, vectors on request."""

    def search(self, vector: Sequence[float], using: str = "image", top_k: int = 10, filter: dict | None = None,
               exact: bool = False, hnsw_ef: int | None = None, fields: Sequence[str] | None = None,
               with_vectors: bool = False) -> list[Hit]:
        """Nearest points to ``vector`` by the named vector ``using``, best first, among those matching ``filter``
        (the neutral form of ``layout.parse_filter``). ``exact`` bypasses the HNSW index; ``hnsw_ef`` widens its
        search beam (None: the engine's default); ``fields`` limits the payloads returned to those keys (None:
        all; a payload holds the report text, so many hits cost more than the search); ``with_vectors`` returns
        each hit's named vectors with it (``Hit.vectors``)."""

    def count(self, filter: dict | None = None) -> int:
        """Number of points (matching ``filter``)."""

    def scroll(self, filter: dict | None = None, with_vectors: bool = False, batch: int = 256) -> Iterator[Point]:
        """Every point (matching ``filter``), in id order."""

    def optimize(self) -> None:
        """Build the search index now (the embedded engine needs it; a server does it on its own)."""

    def flush(self) -> None:
        """Persist pending changes."""


class VectorStore(Protocol):
    """A place holding collections: an embedded folder or a Qdrant server."""

    location: str  # for messages: the folder or the URL

    def list_collections(self) -> list[str]:
        """Names of the collections."""

    def damaged_collections(self) -> list[str]:
        """Collections whose data is there but whose mri-search metadata is not (a deleted ``collection.json``)."""

    def read_meta(self, name: str) -> CollectionMeta | None:
        """A collection's metadata, or None when it does not exist.

        Raises:
            ValueError: it exists but is not an mri-search collection (no readable metadata).
        """

    def create_collection(self, name: str, meta: CollectionMeta, shards: int | None = None,
                          replicas: int | None = None) -> Collection:
        """Create and open a collection (``shards`` / ``replicas``: server only, fixed at creation).

        Raises:
            FileExistsError: it exists already (possibly created a moment ago by another indexer).
        """

    def open_collection(self, name: str) -> Collection:
        """Open an existing collection.

        Raises:
            ValueError: it does not exist, or is not an mri-search collection; ``StoreBusy`` for an embedded
                collection open in another process.
        """

    def close(self) -> None:
        """Flush and release everything."""


def ensure_collection(store: VectorStore, name: str, meta: CollectionMeta, shards: int | None = None,
                      replicas: int | None = None) -> Collection:
    """Open collection ``name`` for writing vectors described by ``meta``, creating it if needed.

    Several indexers (``--shard K/N`` on N machines) may race to create it: the losers open the winner's.

    Raises:
        CollectionMismatch: it exists and holds another model's (or salt's, or layout's) vectors; nothing was
            written.
    """
    check_name(name)
    existing = store.read_meta(name)
    if existing is None:
        try:
            col = store.create_collection(name, meta, shards=shards, replicas=replicas)
            log.info("created collection %s in %s", name, store.location)
            return col
        except FileExistsError:
            existing = store.read_meta(name)
            if existing is None:
                raise
    existing.check_writable_by(meta, name)
    return store.open_collection(name)
