"""Ways of answering one top-k query on an embedded collection, side by side (for ``query_latency``).

Each method is a ``Method`` (a name and the engine request it sends) run straight on the Qdrant Edge shard, so that
candidates the ``Searcher`` does not take can be measured beside the one it does:

- ``exact``: a scan of every float vector (the denominator of every ratio);
- ``hnsw ef=E``: the HNSW graph of the searched vector with beam ``E``;
- ``int8 scan``: a scan of the int8 scalar-quantised vectors, the best ``oversampling x k`` re-scored on floats;
- ``hnsw ef=E int8``: the graph walked on quantised vectors, re-scored;
- ``routed via V``: candidates from the HNSW graph of the *other* named vector ``V``, which lives in the query's
  own modality (a text query walks the report vectors), then re-scored exactly on the searched vector (one
  engine query: prefetch + query);
- ``shifted``: candidates from the searched vector's own graph, walked with the query moved across the modality
  gap (``q + gap``, re-normalised; ``gap`` = mean searched vector - mean vector of the query's modality), then
  re-scored exactly with the query itself (prefetch + query).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mri_search.store.edge import _edge_filter, _qe


@dataclass(frozen=True)
class Method:
    """One way to answer a query."""

    name: str
    kind: str  # exact | hnsw | int8 | hnsw-int8 | routed | shifted
    ef: int | None = None  # HNSW beam (hnsw, hnsw-int8, and the prefetch of routed / shifted)
    oversampling: float | None = None  # int8: quantised candidates per result
    candidates: int | None = None  # routed / shifted: prefetched points re-scored


def methods(efs: list[int], candidates: int, oversampling: float, quantized: bool) -> list[Method]:
    """The methods measured: exact, HNSW at each beam, the int8 ones when the collection is quantised, routed and
    shifted with ``candidates`` prefetched by a beam of ``max(efs[0], candidates)``."""
    out = [Method("exact", "exact")]
    out += [Method(f"hnsw ef={e}", "hnsw", ef=e) for e in efs]
    if quantized:
        out.append(Method(f"int8 scan x{oversampling:g}", "int8", oversampling=oversampling))
        out += [Method(f"hnsw ef={e} int8 x{oversampling:g}", "hnsw-int8", ef=e, oversampling=oversampling)
                for e in efs[:1]]
    pre = max(efs[0], candidates)
    out.append(Method(f"routed {candidates}", "routed", ef=pre, candidates=candidates))
    out.append(Method(f"shifted {candidates}", "shifted", ef=pre, candidates=candidates))
    return out


def applies(m: Method, cross_modal: bool) -> bool:
    """Routed and shifted only make sense for a query of the other modality than the searched vector."""
    return cross_modal or m.kind not in ("routed", "shifted")


def request(m: Method, q: np.ndarray, using: str, route: str, gap: np.ndarray | None, top_k: int,
            flt: dict | None):
    """The engine request of method ``m`` for query ``q`` on named vector ``using``; ``route``: the vector of the
    query's own modality (routed); ``gap``: the modality gap (shifted)."""
    e = _qe()
    f = _edge_filter(flt)
    floats = e.QuantizationSearchParams(ignore=True)
    vec = [float(x) for x in q]
    nearest = e.Query.Nearest(vec, using=using)
    if m.kind == "exact":
        return e.QueryRequest(limit=top_k, query=nearest, filter=f, with_payload=False,
                              params=e.SearchParams(exact=True, quantization=floats))
    if m.kind == "hnsw":
        return e.QueryRequest(limit=top_k, query=nearest, filter=f, with_payload=False,
                              params=e.SearchParams(hnsw_ef=m.ef, quantization=floats))
    if m.kind in ("int8", "hnsw-int8"):
        quant = e.QuantizationSearchParams(rescore=True, oversampling=m.oversampling)
        params = (e.SearchParams(exact=True, quantization=quant) if m.kind == "int8"
                  else e.SearchParams(hnsw_ef=m.ef, quantization=quant))
        return e.QueryRequest(limit=top_k, query=nearest, filter=f, with_payload=False, params=params)
    if m.kind == "routed":
        pre = e.Prefetch(limit=m.candidates, query=e.Query.Nearest(vec, using=route), filter=f,
                         params=e.SearchParams(hnsw_ef=m.ef, quantization=floats))
    elif m.kind == "shifted":
        moved = q + gap
        moved = moved / np.linalg.norm(moved)
        pre = e.Prefetch(limit=m.candidates, query=e.Query.Nearest([float(x) for x in moved], using=using),
                         filter=f, params=e.SearchParams(hnsw_ef=m.ef, quantization=floats))
    else:
        raise ValueError(f"unknown method kind {m.kind!r}")
    return e.QueryRequest(limit=top_k, query=nearest, prefetches=[pre], filter=f, with_payload=False,
                          params=e.SearchParams(exact=True, quantization=floats))


def run(shard, req) -> list[str]:
    """Point ids of the answer, best first."""
    return [str(p.id) for p in shard.query(req)]
