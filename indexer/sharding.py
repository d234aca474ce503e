"""Deterministic split of an archive's series among N machines: series key -> one of N shards."""

from __future__ import annotations

import hashlib


def shard_of(key: str, n: int) -> int:
    """The shard (0..n-1) of a series or file key: sha256 of the key, first 8 bytes, mod n.

    Independent of the machine, the Python version and the order of the scan, so N machines scanning the same
    archive with the same salt split it into N disjoint parts whose union is the whole.
    """
    if n < 1:
        raise ValueError(f"number of shards must be at least 1, got {n}")
    return int.from_bytes(hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()[:8], "big") % n


def in_shard(key: str, shard: tuple[int, int]) -> bool:
    """Whether ``key`` belongs to shard ``(K, N)``."""
    k, n = shard
    return n == 1 or shard_of(key, n) == k
