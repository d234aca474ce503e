"""``ServerStore``: the same collection layout on a Qdrant server or cluster, through qdrant-client.

``ServerStore.connect(url, api_key)`` reaches a server; ``ServerStore.memory()`` is qdrant-client's in-process
``:memory:`` engine, which speaks the same API and is what the tests run the server code path against (it is a
brute-force test engine: payload indexes and search parameters have no effect there, and its warnings about that
are silenced). Collection metadata (``CollectionMeta``) is the collection's own ``metadata`` (Qdrant >= 1.16).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Sequence

from .base import Hit, Point, hit_of, point_of
from .layout import PAYLOAD_INDEXES, VECTORS, CollectionMeta, check_name, parse_filter

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _quiet_local():
    """Silence the local engine's notes that indexes and search params do nothing there."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"(Payload indexes have no effect|Local mode performs exact)",
                                category=UserWarning)
        yield


def _models():
    from qdrant_client import models

    return models


def _server_filter(f: dict | None):
    must, must_not = parse_filter(f)
    if not must and not must_not:
        return None
    return _models().Filter(must=[_server_condition(c) for c in must] or None,
                            must_not=[_server_condition(c) for c in must_not] or None)


def _server_condition(cond):
    m = _models()
    key, kind, v = cond
    if kind == "value":
        return m.FieldCondition(key=key, match=m.MatchValue(value=v))
    if kind == "any":
        return m.FieldCondition(key=key, match=m.MatchAny(any=v))
    return m.FieldCondition(key=key, range=m.Range(**v))


class ServerCollection:
    """A collection on a Qdrant server (see ``base.Collection``)."""

    def __init__(self, client, name: str, meta: CollectionMeta) -> None:
        self.client = client
        self.name = name
        self.meta = meta

    def upsert(self, points: Sequence[Point]) -> None:
        if not points:
            return
        m = _models()
        self.client.upsert(self.name, wait=True, points=[
            m.PointStruct(id=p.id, vector={k: list(v) for k, v in p.vectors.items()}, payload=p.payload)
            for p in points])

    def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        self.client.delete(self.name, points_selector=_models().PointIdsList(points=list(ids)), wait=True)

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        return {str(r.id) for r in self.client.retrieve(self.name, list(ids), with_payload=False,
                                                        with_vectors=False)}

    def retrieve(self, ids: Sequence[str], with_vectors: bool = False) -> list[Point]:
        if not ids:
            return []
        recs = self.client.retrieve(self.name, list(ids), with_payload=True, with_vectors=with_vectors)
        by_id = {str(r.id): point_of(r, with_vectors) for r in recs}
        return [by_id[i] for i in map(str, ids) if i in by_id]

    def search(self, vector: Sequence[float], using: str = "image", top_k: int = 10, filter: dict | None = None,
               exact: bool = False, hnsw_ef: int | None = None, fields: Sequence[str] | None = None,
               with_vectors: bool = False) -> list[Hit]:
        m = _models()
        params = m.SearchParams(exact=True) if exact else m.SearchParams(hnsw_ef=int(hnsw_ef)) if hnsw_ef else None
        with _quiet_local():
            res = self.client.query_points(self.name, query=[float(x) for x in vector], using=using,
                                           limit=int(top_k), query_filter=_server_filter(filter),
                                           with_payload=True if fields is None else list(fields),
                                           with_vectors=bool(with_vectors), search_params=params)
        return [hit_of(p, with_vectors) for p in res.points]

    def count(self, filter: dict | None = None) -> int:
        return int(self.client.count(self.name, count_filter=_server_filter(filter), exact=True).count)

    def scroll(self, filter: dict | None = None, with_vectors: bool = False, batch: int = 256) -> Iterator[Point]:
        flt = _server_filter(filter)
        offset = None
        while True:
            recs, offset = self.client.scroll(self.name, scroll_filter=flt, limit=batch, offset=offset,
                                              with_payload=True, with_vectors=with_vectors)
            for r in recs:
                yield point_of(r, with_vectors)
            if offset is None:
                return

    def optimize(self) -> None:
        """Nothing to do: a server builds its HNSW index on its own."""

    def flush(self) -> None:
        """Nothing to do: upserts are acknowledged with ``wait=True``."""


class ServerStore:
    """Collections on a Qdrant server, or in qdrant-client's in-process test engine (see ``base.VectorStore``).

    Args:
        client: a ``qdrant_client.QdrantClient``.
        location: how messages name it (the URL).
    """

    def __init__(self, client, location: str) -> None:
        self.client = client
        self.location = location

    @classmethod
    def connect(cls, url: str, api_key: str | None = None, timeout: int = 60) -> "ServerStore":
        """Reach the server at ``url`` and check that it answers.

        Raises:
            ValueError: the server cannot be reached or refuses the key.
        """
        from qdrant_client import QdrantClient

        client = QdrantClient(url=url, api_key=api_key, timeout=timeout)
        try:
            client.get_collections()
        except Exception as exc:  # connection refused, TLS, 401/403: all one message to the user
            client.close()
            raise ValueError(f"cannot use the Qdrant server at {url}: {exc}") from None
        return cls(client, url)

    @classmethod
    def memory(cls) -> "ServerStore":
        """qdrant-client's ``:memory:`` engine (tests of the server code path)."""
        from qdrant_client import QdrantClient

        return cls(QdrantClient(":memory:"), ":memory:")

    def damaged_collections(self) -> list[str]:
        return []  # a server collection without mri-search metadata is someone else's, not a damaged one

    def list_collections(self) -> list[str]:
        return sorted(c.name for c in self.client.get_collections().collections)

    def read_meta(self, name: str) -> CollectionMeta | None:
        check_name(name)
        if not self.client.collection_exists(name):
            return None
        raw = getattr(self.client.get_collection(name).config, "metadata", None)
        if not raw:
            raise ValueError(f"collection {name!r} on {self.location} has no mri-search metadata: not written by "
                             "mri-search (or by a Qdrant older than 1.16, which drops collection metadata)")
        try:
            return CollectionMeta.from_dict(dict(raw))
        except ValueError as exc:
            raise ValueError(f"collection {name!r} on {self.location}: {exc}") from None

    def create_collection(self, name: str, meta: CollectionMeta, shards: int | None = None,
                          replicas: int | None = None) -> ServerCollection:
        m = _models()
        check_name(name)
        params = m.VectorParams(size=meta.embed_dim, distance=m.Distance.COSINE)  # layout.DISTANCE
        try:
            self.client.create_collection(name, vectors_config={v: params for v in VECTORS}, shard_number=shards,
                                          replication_factor=replicas, metadata=meta.to_dict())
        except Exception as exc:  # 409 from a server, ValueError from the local engine
            if self.client.collection_exists(name):
                raise FileExistsError(f"collection {name!r} already exists on {self.location}") from None
            raise ValueError(f"cannot create collection {name!r} on {self.location}: {exc}") from None
        if self.read_meta(name) != meta:
            raise ValueError(f"the Qdrant server at {self.location} did not keep the collection metadata; "
                             "mri-search needs Qdrant >= 1.16")
        schema = {"keyword": m.PayloadSchemaType.KEYWORD, "integer": m.PayloadSchemaType.INTEGER,
                  "float": m.PayloadSchemaType.FLOAT, "bool": m.PayloadSchemaType.BOOL}
        with _quiet_local():
            for field, kind in PAYLOAD_INDEXES.items():
                self.client.create_payload_index(name, field, schema[kind], wait=True)
        return ServerCollection(self.client, name, meta)

    def open_collection(self, name: str) -> ServerCollection:
        meta = self.read_meta(name)
        if meta is None:
            raise ValueError(f"no collection {name!r} on {self.location}; known: {self.list_collections()}")
        return ServerCollection(self.client, name, meta)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "ServerStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
