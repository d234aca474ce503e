"""``ChildStore``: the embedded store (``EdgeStore``) owned by a child process, so that an engine fault cannot kill
the caller.

Qdrant Edge writes through memory maps. On a full disk (or one filled by another process a moment after a free-space
check) a write into a mapped page is a SIGBUS, which kills the process at once: no exception, no message, rc 135
(measured on a tmpfs filled between two upserts). An index run therefore leaves every engine call to a child process
that holds the collection (its lock, its maps) and answers over a socket; when it dies the parent raises
``EngineDied`` with the signal and the free space, and stays alive to say so in one line. Every call waits for its
answer (an upsert is acknowledged once the child's engine has it in its write-ahead log), so a run killed at any
moment loses only the call in flight, as before. ``read_meta`` and the listings read ``collection.json`` files in
the parent: they never touch the engine.

The child is ``python -m mri_search.store.child``, started on the first engine call (or by ``start()``, to let it
boot while the caller does something else; after forking any workers, so that no other process holds this end of
its connection); it ignores SIGINT (Ctrl-C reaches the parent, which closes it), and closes its store and exits
when the parent closes it, hangs up or dies.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from itertools import count, islice
from logging.handlers import QueueHandler
from multiprocessing.connection import Connection
from pathlib import Path

from .base import Hit, Point
from .layout import CollectionMeta

log = logging.getLogger(__name__)

MB = 1024**2
LOG = 0  # the call number of a message that is a log record of the child's, not an answer
PARENT_POLL_S = 1.0  # how often an idle child checks that its parent is alive
CLOSE_WAIT_S = 120.0  # how long closing waits for the child's last flush before killing it


class EngineDied(ValueError):
    """The child process holding the embedded engine died (by a signal: SIGBUS on a full disk)."""

    def __init__(self, message: str, root: str = "", signal_name: str = "") -> None:
        super().__init__(message)
        self.root = root
        self.signal_name = signal_name


class ChildStore:
    """``EdgeStore(root, lock_wait_s)`` in a child process (see ``base.VectorStore``)."""

    def __init__(self, root: str | os.PathLike, lock_wait_s: float = 0.0) -> None:
        from .edge import EdgeStore

        self._files = EdgeStore(root, lock_wait_s)  # collection.json reads only, in this process
        self.root = self._files.root
        self.location = self._files.location
        self.lock_wait_s = self._files.lock_wait_s
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._seq = 0
        self._dead: EngineDied | None = None
        self._hung_up = False  # a call was interrupted: closing hangs up instead of asking
        self.acknowledged = 0  # points whose upsert the child acknowledged (for the line a dead child stops with)

    # --- the child -----------------------------------------------------------------------------------------

    def start(self) -> ChildStore:
        """Start the child now (it boots meanwhile; the first call waits for it). Idempotent."""
        if self._proc is None and self._dead is None:
            ours, theirs = socket.socketpair()
            with ours, theirs:
                cmd = [sys.executable, "-m", __name__, str(theirs.fileno()), str(self.root), str(self.lock_wait_s),
                       str(os.getpid())]
                self._proc = subprocess.Popen(cmd, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
                self._conn = Connection(os.dup(ours.fileno()))
        return self

    def _call(self, op: str, *args):
        """Run ``op`` in the child and return its result (its exception raised here)."""
        self.start()
        if self._dead is not None:
            raise self._dead
        self._seq += 1
        try:
            self._conn.send((self._seq, op, args))
            while True:
                seq, ok, value = self._conn.recv()
                if seq == LOG:  # a log record of the child's, handled here as if this process had logged it
                    record = logging.makeLogRecord(value)
                    logger = logging.getLogger(record.name)
                    if logger.isEnabledFor(record.levelno):
                        logger.handle(record)
                elif seq == self._seq:  # not an older answer, left by an interrupted call
                    break
        except (EOFError, OSError):
            raise self._died() from None
        except BaseException:  # Ctrl-C mid-call: the answer is still to come, maybe half read
            self._hung_up = True
            raise
        if not ok:
            raise value
        return value

    def _died(self) -> EngineDied:
        try:
            code = self._proc.wait(timeout=CLOSE_WAIT_S)
        except subprocess.TimeoutExpired:  # alive but unreachable: it cannot be trusted with the store
            self._proc.kill()
            code = self._proc.wait()
        self._conn.close()
        from .space import free_bytes

        free = free_bytes(self.root) / MB
        if code < 0:
            name = signal.Signals(-code).name
            why = (": the disk holding it is likely full" if name == "SIGBUS" else
                   " (out of memory, or stopped by another process)" if name == "SIGKILL" else "")
            how = f"was killed by {name}{why}"
        else:
            name, how = "", f"exited with status {code}"
        kept = f"the {self.acknowledged} series written before that are kept" if self.acknowledged else \
            "nothing was written"
        msg = (f"the embedded engine writing the index at {self.root} {how} ({free:.0f} MB free there); {kept}; "
               "free some space and run the same command again: it resumes")
        self._dead = EngineDied(msg, str(self.root), name)
        return self._dead

    # --- VectorStore ---------------------------------------------------------------------------------------

    def list_collections(self) -> list[str]:
        return self._files.list_collections()

    def damaged_collections(self) -> list[str]:
        return self._files.damaged_collections()

    def read_meta(self, name: str) -> CollectionMeta | None:
        return self._files.read_meta(name)

    def create_collection(self, name: str, meta: CollectionMeta, shards: int | None = None,
                          replicas: int | None = None) -> ChildCollection:
        return ChildCollection(self, name, self._call("create_collection", name, meta, shards, replicas))

    def open_collection(self, name: str) -> ChildCollection:
        return ChildCollection(self, name, self._call("open_collection", name))

    def close(self) -> None:
        """Close the child's store (flush, release the locks) and wait for it to exit (idempotent). Raises what
        the last flush raised, or ``EngineDied``."""
        if self._proc is None or self._dead is not None:
            return
        try:
            if self._hung_up:
                self._conn.close()  # the child sees the end of the connection, closes its store and exits
            else:
                self._call("close")
        finally:
            try:
                self._proc.wait(timeout=CLOSE_WAIT_S)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._dead is None:  # closed, not dead: a later call starts a new child
                self._conn.close()
                self._proc = self._conn = None
                self._hung_up = False

    def __enter__(self) -> ChildStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ChildCollection:
    """One collection of a ``ChildStore`` (see ``base.Collection``): each call runs in the child."""

    def __init__(self, store: ChildStore, name: str, meta: CollectionMeta) -> None:
        self._store = store
        self.name = name
        self.meta = meta
        self.folder = Path(store.root) / name

    def _call(self, method: str, *args):
        return self._store._call("call", self.name, method, args)

    def upsert(self, points: Sequence[Point]) -> None:
        if points:
            self._call("upsert", list(points))
            self._store.acknowledged += len(points)

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self._call("delete", list(ids))

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        return self._call("existing_ids", list(ids)) if ids else set()

    def retrieve(self, ids: Sequence[str], with_vectors: bool = False) -> list[Point]:
        return self._call("retrieve", list(ids), with_vectors) if ids else []

    def search(self, vector: Sequence[float], using: str = "image", top_k: int = 10, filter: dict | None = None,
               exact: bool = False, hnsw_ef: int | None = None, fields: Sequence[str] | None = None,
               with_vectors: bool = False) -> list[Hit]:
        return self._call("search", [float(x) for x in vector], using, top_k, filter, exact, hnsw_ef,
                          None if fields is None else list(fields), with_vectors)

    def count(self, filter: dict | None = None) -> int:
        return self._call("count", filter)

    def scroll(self, filter: dict | None = None, with_vectors: bool = False, batch: int = 256) -> Iterator[Point]:
        token = self._store._call("scroll_start", self.name, filter, with_vectors, batch)
        try:
            while page := self._store._call("scroll_next", token, batch):
                yield from page
        finally:
            if self._store._proc is not None and self._store._dead is None:
                self._store._call("scroll_end", token)

    def optimize(self) -> None:
        self._call("optimize")

    def flush(self) -> None:
        self._call("flush")


# --- the child's side ------------------------------------------------------------------------------------------


def _serve(conn: Connection, root: str, lock_wait_s: float, parent_pid: int) -> None:
    """Answer the parent's calls until it closes the store (answered once the store is closed) or dies."""
    from .edge import EdgeStore

    store = EdgeStore(root, lock_wait_s)
    closing = None
    try:
        closing = _answer(conn, store, parent_pid)
    finally:
        try:
            store.close()  # flush, release the locks
        except Exception as exc:
            if closing is None:
                raise
            _send(conn, (closing, False, exc))
            return
    if closing is not None:
        _send(conn, (closing, True, None))


def _answer(conn: Connection, store, parent_pid: int) -> int | None:
    """The call loop; returns the number of the close call, or None when the parent is gone."""
    cols: dict = {}
    scrolls: dict[int, Iterator[Point]] = {}
    tokens = count(1)
    while True:
        if not conn.poll(PARENT_POLL_S):
            if os.getppid() != parent_pid:  # the parent died (SIGKILL): what was acknowledged is in the WAL
                return None
            continue
        try:
            seq, op, args = conn.recv()
        except (EOFError, OSError):
            return None
        if op == "close":
            return seq
        try:
            if op == "call":
                name, method, margs = args
                value = getattr(cols[name], method)(*margs)
            elif op in ("create_collection", "open_collection"):
                col = getattr(store, op)(*args)
                cols[col.name] = col
                value = col.meta
            elif op == "scroll_start":
                name, flt, with_vectors, batch = args
                value = next(tokens)
                scrolls[value] = cols[name].scroll(flt, with_vectors, batch)
            elif op == "scroll_next":
                value = list(islice(scrolls[args[0]], args[1]))
            elif op == "scroll_end":
                value = scrolls.pop(args[0], None) and None
            else:
                raise ValueError(f"unknown store call {op!r}")
            answer = (seq, True, value)
        except Exception as exc:  # noqa: BLE001 - whatever the call raised is raised in the parent
            answer = (seq, False, exc)
        _send(conn, answer)


def _send(conn: Connection, answer: tuple) -> None:
    try:
        conn.send(answer)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone
    except (pickle.PicklingError, TypeError, AttributeError) as exc:  # an exception that does not pickle: its text
        conn.send((answer[0], False, ValueError(f"{type(answer[2]).__name__}: {answer[2]}; also {exc}")))


class _LogSender:
    """The "queue" of a ``QueueHandler`` (which makes its records picklable): sends them to the parent."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def put_nowait(self, record: logging.LogRecord) -> None:
        fields = {k: v for k, v in record.__dict__.items() if isinstance(v, (str, int, float, type(None)))}
        _send(self.conn, (LOG, True, fields))


def main(argv: list[str]) -> None:
    fd, root, lock_wait_s, parent_pid = argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which closes this store
    conn = Connection(int(fd))
    logging.getLogger().setLevel(logging.DEBUG)  # every record: the parent's loggers decide (few are logged here)
    logging.getLogger().addHandler(QueueHandler(_LogSender(conn)))
    _serve(conn, root, float(lock_wait_s), int(parent_pid))


if __name__ == "__main__":
    main(sys.argv[1:])
