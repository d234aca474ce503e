"""The embedded index's one-opener lock with a bounded wait: a second opener gets the collection once the holder
lets go within ``lock_wait_s``, and ``StoreBusy`` (never a hang) when it does not."""

from __future__ import annotations

import threading
import time

import pytest

from mri_search.store import CollectionMeta, StoreBusy, ensure_collection, salt_check
from mri_search.store.edge import EdgeStore

META = CollectionMeta(model_id="0123456789abcdef", model_name="toy", embed_dim=8, salt_check=salt_check("s"))


def test_second_opener_waits_for_a_brief_holder(tmp_path):
    holder = EdgeStore(tmp_path)
    ensure_collection(holder, "c", META)
    threading.Timer(0.4, holder.close).start()  # a query that is done after 0.4 s
    t0 = time.monotonic()
    with EdgeStore(tmp_path, lock_wait_s=10) as waiter:
        assert waiter.open_collection("c").count() == 0
    assert 0.3 < time.monotonic() - t0 < 5


def test_wait_is_bounded(tmp_path):
    with EdgeStore(tmp_path) as holder:
        ensure_collection(holder, "c", META)
        t0 = time.monotonic()
        with pytest.raises(StoreBusy, match=r"open in another process \(waited 0\.[34] s\)"):
            EdgeStore(tmp_path, lock_wait_s=0.3).open_collection("c")
        assert time.monotonic() - t0 < 3
        with pytest.raises(StoreBusy, match="open in another process \\(the embedded"):  # no wait: at once
            EdgeStore(tmp_path).open_collection("c")
    with pytest.raises(ValueError, match="0 or more seconds"):
        EdgeStore(tmp_path, lock_wait_s=-1)
