"""``EdgeStore``: Qdrant's own engine in-process (``qdrant-edge-py``), on disk, one folder per collection.

Layout of a store folder::

    ROOT/<collection>/collection.json   # CollectionMeta, written first (atomically)
    ROOT/<collection>/shard/            # the Qdrant Edge shard: segments, write-ahead log, payload indexes
    ROOT/<collection>/.lock             # flock held while a process has the collection open

One process at a time may open a collection (Qdrant Edge's rule, enforced here with ``flock`` so that a second
opener gets ``StoreBusy`` instead of an engine error: at once, or after waiting up to ``lock_wait_s`` for the
holder to finish, retrying with backoff). A waiting opener leaves ``.waiting.<pid>`` beside the lock while it
waits, so that a long-lived holder (``mri-search serve``) can see that someone wants the collection and let go
(``waiting_pids``). The lock dies with its process, SIGKILL included;
acknowledged upserts survive in the write-ahead log. HNSW is built by ``optimize()``, which the engine never runs
on its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..atomic import atomic_write_text
from .base import Hit, Point, hit_of, point_of
from .layout import PAYLOAD_INDEXES, VECTORS, CollectionMeta, StoreBusy, check_name, parse_filter

log = logging.getLogger(__name__)

META_NAME = "collection.json"
SHARD_DIR = "shard"
LOCK_NAME = ".lock"
WAIT_PREFIX = ".waiting."  # + pid: an opener waiting for the lock (removed once it has it or gives up)
LOCK_FIRST_PAUSE_S = 0.05  # retries of a held lock: first pause, doubled up to the longest
LOCK_MAX_PAUSE_S = 0.5


def _qe():
    import qdrant_edge

    return qdrant_edge


def _edge_filter(f: dict | None):
    must, must_not = parse_filter(f)
    if not must and not must_not:
        return None
    return _qe().Filter(must=[_edge_condition(c) for c in must] or None,
                        must_not=[_edge_condition(c) for c in must_not] or None)


def _edge_condition(cond):
    q = _qe()
    key, kind, v = cond
    if kind == "value":
        # qdrant-edge-py 0.9.0 reads a Python bool as the integer 0/1 (bool is an int subclass), which matches
        # no boolean payload value; numpy's bool is not an int and arrives as a boolean
        import numpy as np  # here: the index run's engine child (store.child) boots without numpy, 0.16 s sooner

        return q.FieldCondition(key, match=q.MatchValue(np.bool_(v) if isinstance(v, bool) else v))
    if kind == "any":
        return q.FieldCondition(key, match=q.MatchAny(v))
    return q.FieldCondition(key, range=q.RangeFloat(**v))


def _busy(path: Path, waited_s: float = 0.0) -> StoreBusy:
    waited = f" (waited {waited_s:.1f} s)" if waited_s > 0 else ""
    return StoreBusy(f"index is busy: collection {path.name!r} in {path.parent} is open in another process{waited} "
                     "(the embedded engine allows one at a time); wait for it to finish, or use a Qdrant server "
                     "(--qdrant-url) for concurrent access")


class EdgeCollection:
    """An open Qdrant Edge shard holding one collection (see ``base.Collection``)."""

    def __init__(self, folder: Path, meta: CollectionMeta, lock_wait_s: float = 0.0) -> None:
        self.name = folder.name
        self.meta = meta
        self.folder = folder
        self._lock = _acquire(folder, lock_wait_s)
        self._wrote = False  # anything changed since the open (close flushes then only)
        try:
            from .space import check_open

            check_open(folder / SHARD_DIR)  # a full disk: one line instead of the engine's SIGBUS
            self.shard = self._open_shard()
        except BaseException:
            os.close(self._lock)
            raise

    def _open_shard(self):
        """Load the shard, or create it with the layout's vectors and payload indexes. A creator killed between
        collection.json and the shard leaves no shard folder: the next opener creates it."""
        q = _qe()
        path = self.folder / SHARD_DIR
        if path.exists():
            try:
                shard = q.EdgeShard.load(str(path))
            except Exception as exc:  # the engine raises a bare Exception
                if "WouldBlock" in str(exc):
                    raise _busy(self.folder) from None
                raise ValueError(f"cannot open the embedded collection {self.folder}: {exc}") from None
        else:
            params = q.EdgeVectorParams(size=self.meta.embed_dim, distance=q.Distance.Cosine)  # layout.DISTANCE
            shard = q.EdgeShard.create(str(path), q.EdgeConfig(vectors={v: params for v in VECTORS}))
        missing = [f for f in PAYLOAD_INDEXES if f not in shard.info().payload_schema]  # also after a killed create
        for field in missing:
            shard.update(q.UpdateOperation.create_field_index(field, _schema(PAYLOAD_INDEXES[field])))
        if missing:
            shard.flush()
        return shard

    def upsert(self, points: Sequence[Point]) -> None:
        if not points:
            return
        q = _qe()
        self._wrote = True
        with self._engine():
            self.shard.update(q.UpdateOperation.upsert_points(
                [q.Point(p.id, {k: v if isinstance(v, list) else [float(x) for x in v] for k, v in p.vectors.items()},
                         p.payload) for p in points]))

    def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        self._wrote = True
        with self._engine():
            self.shard.update(_qe().UpdateOperation.delete_points(list(ids)))

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        with self._engine():
            return {str(r.id) for r in self.shard.retrieve(list(ids), with_payload=False, with_vector=False)}

    def retrieve(self, ids: Sequence[str], with_vectors: bool = False) -> list[Point]:
        if not ids:
            return []
        with self._engine():
            recs = self.shard.retrieve(list(ids), with_payload=True, with_vector=with_vectors)
        by_id = {str(r.id): point_of(r, with_vectors) for r in recs}
        return [by_id[i] for i in map(str, ids) if i in by_id]

    def search(self, vector: Sequence[float], using: str = "image", top_k: int = 10, filter: dict | None = None,
               exact: bool = False, hnsw_ef: int | None = None, fields: Sequence[str] | None = None,
               with_vectors: bool = False) -> list[Hit]:
        q = _qe()
        params = q.SearchParams(exact=True) if exact else q.SearchParams(hnsw_ef=int(hnsw_ef)) if hnsw_ef else None
        req = q.QueryRequest(limit=int(top_k), query=q.Query.Nearest([float(x) for x in vector], using=using),
                             filter=_edge_filter(filter), with_payload=True if fields is None else list(fields),
                             with_vector=bool(with_vectors), params=params)
        with self._engine():
            found = self.shard.query(req)
        return [hit_of(p, with_vectors) for p in found]

    def count(self, filter: dict | None = None) -> int:
        with self._engine():
            return int(self.shard.count(_qe().CountRequest(exact=True, filter=_edge_filter(filter))))

    def scroll(self, filter: dict | None = None, with_vectors: bool = False, batch: int = 256) -> Iterator[Point]:
        q = _qe()
        flt = _edge_filter(filter)
        offset = None
        while True:
            with self._engine():
                recs, offset = self.shard.scroll(q.ScrollRequest(offset=offset, limit=batch, filter=flt,
                                                                 with_payload=True, with_vector=with_vectors))
            for r in recs:
                yield point_of(r, with_vectors)
            if offset is None:
                return

    def optimize(self) -> None:
        self._wrote = True
        with self._engine():
            self.shard.optimize()

    def flush(self) -> None:
        with self._engine():
            self.shard.flush()

    @contextlib.contextmanager
    def _engine(self):
        """Engine failures as one line: qdrant-edge raises a bare ``Exception`` ("Service runtime error: vector 7
        is not readable from ...") when its files are truncated or damaged."""
        try:
            yield
        except Exception as exc:
            if type(exc) is not Exception:  # ours, or a programming error: as it is
                raise
            from .integrity import StoreDamaged

            detail = " ".join(str(exc).split())[:300]
            if "No space left on device" in detail:  # a flush or a file the engine writes with write(2)
                from .space import free_bytes

                raise ValueError(f"the disk holding the index at {self.folder.parent} is full "
                                 f"({free_bytes(self.folder) / 1024**2:.0f} MB free; the engine says: {detail}); "
                                 "free some space and try again") from None
            raise StoreDamaged(f"the index at {self.folder.parent} is damaged (the engine says: {detail}); index "
                               "its archive again into a new --db") from None

    def close(self) -> None:
        """Flush what this process wrote, close the shard and release the lock (idempotent). A collection only
        read is not flushed: its flush rewrites the segments' state files, which fails on a full disk (measured:
        a query whose disk filled up after its open died with "No space left on device" in this flush)."""
        if self.shard is not None:
            try:
                if self._wrote:
                    with self._engine():
                        self.shard.flush()
                self.shard.close()
            finally:
                self.shard = None
                os.close(self._lock)


def _schema(kind: str):
    t = _qe().PayloadSchemaType
    return {"keyword": t.Keyword, "integer": t.Integer, "float": t.Float, "bool": t.Bool}[kind]


def _acquire(folder: Path, wait_s: float = 0.0) -> int:
    """flock ``folder/.lock``, retrying with backoff for up to ``wait_s`` seconds while another process holds it
    (never blocking: a holder that never lets go costs ``wait_s``, not a hang); StoreBusy after that."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    t0 = time.monotonic()
    pause = LOCK_FIRST_PAUSE_S
    waiting = folder / f"{WAIT_PREFIX}{os.getpid()}"
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                left = wait_s - (time.monotonic() - t0)
                if left <= 0:
                    os.close(fd)
                    raise _busy(folder, time.monotonic() - t0 if wait_s > 0 else 0.0) from None
                if pause == LOCK_FIRST_PAUSE_S:
                    log.info("collection %s is open in another process: waiting up to %.1f s", folder.name, wait_s)
                    waiting.touch()
                time.sleep(min(pause, left))
                pause = min(2 * pause, LOCK_MAX_PAUSE_S)
            except BaseException:
                os.close(fd)
                raise
    finally:
        waiting.unlink(missing_ok=True)


def waiting_pids(folder: str | os.PathLike) -> list[int]:
    """Other live processes waiting for the lock of the collection ``folder`` (their ``.waiting.<pid>`` marks;
    marks of dead processes are removed)."""
    out = []
    try:
        names = [n for n in os.listdir(folder) if n.startswith(WAIT_PREFIX)]
    except OSError:
        return []
    for name in names:
        pid = name[len(WAIT_PREFIX):]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:  # died while waiting (SIGKILL): its mark is stale
            Path(folder, name).unlink(missing_ok=True)
            continue
        except PermissionError:  # alive, another user's
            pass
        out.append(int(pid))
    return out


class EdgeStore:
    """A folder of embedded Qdrant collections (see ``base.VectorStore``).

    Args:
        root: the folder (created on first write).
        lock_wait_s: how long opening a collection that another process has open waits for it (retrying with
            backoff) before ``StoreBusy``; 0: not at all.
    """

    def __init__(self, root: str | os.PathLike, lock_wait_s: float = 0.0) -> None:
        if not lock_wait_s >= 0:
            raise ValueError(f"lock wait must be 0 or more seconds, got {lock_wait_s}")
        self.root = Path(root).expanduser()
        self.location = str(self.root)
        self.lock_wait_s = float(lock_wait_s)
        self._open: dict[str, EdgeCollection] = {}
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"{self.root} is not a folder; --db must name a folder for the embedded index")

    def list_collections(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / META_NAME).is_file())

    def damaged_collections(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if (p / SHARD_DIR).is_dir() and not (p / META_NAME).is_file())

    def read_meta(self, name: str) -> CollectionMeta | None:
        folder = self.root / check_name(name)
        path = folder / META_NAME
        if not path.is_file():
            if (folder / SHARD_DIR).exists():
                raise ValueError(_no_meta(folder))
            return None
        try:
            return CollectionMeta.from_dict(json.loads(path.read_text()))
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"{path} is corrupt: {exc}") from None

    def create_collection(self, name: str, meta: CollectionMeta, shards: int | None = None,
                          replicas: int | None = None) -> EdgeCollection:
        if shards not in (None, 1) or replicas not in (None, 1):
            raise ValueError("shards and replicas apply to a Qdrant server (--qdrant-url), not the embedded index")
        folder = self.root / check_name(name)
        lock = _acquire(folder, self.lock_wait_s)  # held across the check and the write: creators cannot interleave
        try:
            if (folder / META_NAME).is_file():
                raise FileExistsError(f"collection {name!r} already exists in {self.root}")
            _atomic_write_text(folder / META_NAME, json.dumps(meta.to_dict(), indent=2) + "\n")
        finally:
            os.close(lock)
        return self._remember(EdgeCollection(folder, meta, self.lock_wait_s))

    def open_collection(self, name: str) -> EdgeCollection:
        meta = self.read_meta(name)
        if meta is None:
            raise ValueError(f"no collection {name!r} in {self.root}; known: {self.list_collections()}")
        if name in self._open:
            return self._open[name]
        return self._remember(EdgeCollection(self.root / name, meta, self.lock_wait_s))

    def _remember(self, col: EdgeCollection) -> EdgeCollection:
        self._open[col.name] = col
        return col

    def close(self) -> None:
        cols, self._open = list(self._open.values()), {}
        for col in cols:
            col.close()

    def __enter__(self) -> "EdgeStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _no_meta(folder: Path) -> str:
    return (f"the index at {folder.parent} is damaged: {folder.name}/ holds the engine's data but its {META_NAME} "
            f"(which model and salt wrote it) is gone; restore that file from a backup, or index again into a new "
            "--db")


def _atomic_write_text(path: Path, text: str) -> None:
    atomic_write_text(path, text, fsync=True)
