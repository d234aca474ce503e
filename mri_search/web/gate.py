"""``StoreGate``: one warm ``Searcher`` shared by the server's requests, and the embedded index let go of whenever
an index run (or any other process) asks for it.

The embedded engine allows one opener per collection (``mri_search.store.edge``). The gate keeps the collection
open between requests, so a search costs what it costs in process, and watches the collection folder for the
``.waiting.<pid>`` mark that a waiting opener leaves (``edge.waiting_pids``, polled every ``POLL_S``). When one
appears the gate waits for the requests in flight, closes the collection (releasing the lock) and opens it again
only once no other process waits: the index run gets the collection within about ``POLL_S`` plus its own retry
pause, writes, and lets go when it ends; the next request reopens the collection and sees what it wrote. Requests
arriving while the index run holds it wait up to ``ServeCfg.lock_wait_s``, then get ``StoreBusy`` (HTTP 503).
The model and the text encoder stay loaded throughout. A Qdrant server (``--qdrant-url``) needs none of this.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ..store import StoreBusy

log = logging.getLogger(__name__)

POLL_S = 0.1  # how often the gate looks for a waiting opener
RETRY_S = 0.05  # pause between attempts to reopen while another process holds or wants the collection


class StoreGate:
    """Shared access to one ``Searcher``.

    Args:
        searcher: a Searcher that owns its store (``Searcher.open``).
        lock_wait_s: how long a request waits for the collection while another process has or wants it.
    """

    def __init__(self, searcher, lock_wait_s: float = 5.0) -> None:
        from ..store.edge import EdgeStore

        self.searcher = searcher
        self.lock_wait_s = float(lock_wait_s)
        self.embedded = isinstance(searcher.store, EdgeStore)
        self.folder = Path(searcher.store.root) / searcher.collection if self.embedded else None
        self.generation = 0  # bumped at every (re)open: caches of collection-wide values key on it
        self.releases = 0  # times the collection was let go for another process
        self._cond = threading.Condition()
        self._active = 0  # requests using the searcher now
        self._open = False
        self._closing = False
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    # --- requests ----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def session(self) -> Iterator:
        """The Searcher, with its collection open, for the length of one request.

        Raises:
            StoreBusy: an embedded collection another process kept for longer than ``lock_wait_s``.
        """
        with self._cond:
            deadline = time.monotonic() + self.lock_wait_s
            while self._closing:
                self._cond.wait(0.05)
            if not self._open:
                self._reopen(deadline)
            self._active += 1
        try:
            yield self.searcher
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def _reopen(self, deadline: float) -> None:
        """Open the collection (the caller holds ``_cond``), leaving it to any other process that wants it first."""
        from ..store.edge import waiting_pids

        while True:
            if self._open:  # another request opened it while this one waited
                return
            if not (self.embedded and waiting_pids(self.folder)):
                try:
                    self.searcher.connect()
                    self._open = True
                    self.generation += 1
                    return
                except StoreBusy:
                    pass
            if time.monotonic() >= deadline:
                raise StoreBusy(f"the index in {self.searcher.store.location} is being written by another process "
                                "(an index run); try again when it finishes")
            self._cond.wait(RETRY_S)

    # --- letting go --------------------------------------------------------------------------------------

    def release(self) -> None:
        """Close the collection once the requests in flight are done (the next request reopens it)."""
        with self._cond:
            if not self._open:
                return
            self._closing = True
            try:
                while self._active:
                    self._cond.wait(0.05)
                self.searcher.close()
                self._open = False
                self.releases += 1
                log.info("let go of the index for another process")
            finally:
                self._closing = False
                self._cond.notify_all()

    def start(self) -> None:
        """Start watching for other openers (embedded index only)."""
        if self.embedded and self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="mri-search-store-gate", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        from ..store.edge import waiting_pids

        while not self._stop.wait(POLL_S):
            if self._open and waiting_pids(self.folder):
                self.release()

    def close(self) -> None:
        """Stop watching and close the Searcher."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=2)
        with self._cond:
            self.searcher.close()
            self._open = False
