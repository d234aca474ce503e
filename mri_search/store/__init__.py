"""The vector store: one Qdrant collection layout behind a small protocol, embedded or on a server.

    from mri_search.store import open_store
    with open_store() as store:                       # embedded Qdrant Edge under default_db_dir()
        col = store.open_collection("mri-0123456789ab")
        hits = col.search(vector, using="image", top_k=10, filter={"sequence": ["T1", "T1C"]})

``open_store(url=...)`` reaches a Qdrant server instead; both give the same collections, points and payloads.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..home import HOME_ENV, default_home  # noqa: F401 - HOME_ENV re-exported
from .base import Collection, Hit, Point, VectorStore, ensure_collection
from .layout import (
    IMAGE, PAYLOAD_INDEXES, REPORT, CollectionMeta, CollectionMismatch, StoreBusy, collection_name, point_id,
    salt_check,
)

__all__ = ["Collection", "CollectionMeta", "CollectionMismatch", "Hit", "IMAGE", "PAYLOAD_INDEXES", "Point", "REPORT",
           "StoreBusy", "VectorStore", "collection_name", "default_db_dir", "default_home", "ensure_collection",
           "open_store", "point_id", "salt_check"]



def default_db_dir() -> Path:
    """The embedded index folder used when neither ``--db`` nor ``--qdrant-url`` is given: ``<home>/qdrant``."""
    return default_home() / "qdrant"


def open_store(db: str | os.PathLike | None = None, url: str | None = None,
               api_key: str | None = None, lock_wait_s: float = 0.0) -> VectorStore:
    """The embedded store in ``db`` (default ``default_db_dir()``), or the Qdrant server at ``url``.

    ``lock_wait_s``: how long opening an embedded collection that another process holds waits for it (retrying)
    before ``StoreBusy``; a server has no such lock.

    Raises:
        ValueError: both ``db`` and ``url`` given, or the server cannot be reached.
    """
    if db is not None and url:
        raise ValueError("give either --db (embedded index folder) or --qdrant-url (server), not both")
    if url:
        from .server import ServerStore

        return ServerStore.connect(url, api_key=api_key)
    if api_key:
        raise ValueError("--api-key applies to a Qdrant server; give --qdrant-url too")
    from .edge import EdgeStore

    return EdgeStore(db if db is not None else default_db_dir(), lock_wait_s=lock_wait_s)
