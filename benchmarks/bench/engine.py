"""The engine section of the benchmark: the model's own series embeddings in the embedded Qdrant engine.

Measured in the same run as the retrieval figures: upsert rate and index build time, warm query latency (vector
search only, p50 / p95 over the task's text queries, unfiltered and filtered by sequence), and recall@10 of the
engine against exact (numpy) search over the same vectors. The searches take the path ``Searcher`` takes for a
text query (``mri_search.query.searcher``: an exact scan up to ``EXACT_MAX_POINTS``, cross-modal queries defeating
the HNSW graph; beyond it HNSW with the wide beam ``HARD_EF``). Small galleries say nothing about 100k points:
``benchmarks/query_latency.py`` measures that size.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np

from mri_search.query.searcher import EXACT_MAX_POINTS, HARD_EF
from mri_search.store import IMAGE, CollectionMeta, Point, point_id, salt_check
from mri_search.store.edge import EdgeStore

from .methods import EmbeddingScorer
from .tasks import Task


def measure_engine(scorer: EmbeddingScorer, data, tasks: dict[str, Task]) -> dict:
    """Index the scorer's series embeddings into a temporary embedded collection and time it."""
    keys = [s.record.key for s in data.series if s.record.key in scorer.image]
    seq = {s.record.key: s.record.sequence for s in data.series}
    vectors = np.stack([scorer.image[k] for k in keys]).astype(np.float32)
    task = tasks.get("body_region_sentences") or next(iter(tasks.values()))
    queries = scorer.embed_texts(task.texts[:200])
    meta = CollectionMeta(model_id="bench", model_name="bench", embed_dim=vectors.shape[1], salt_check=salt_check(""))
    ids = [point_id("bench", k) for k in keys]
    with tempfile.TemporaryDirectory() as tmp:
        store = EdgeStore(tmp)
        try:
            col = store.create_collection("bench", meta)
            points = [Point(id=i, vectors={IMAGE: v.tolist()}, payload={"series_key": k, "sequence": seq[k]})
                      for i, k, v in zip(ids, keys, vectors)]
            t0 = time.perf_counter()
            col.upsert(points)
            col.flush()
            upsert_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            col.optimize()
            optimize_s = time.perf_counter() - t0
            common = max(set(seq.values()), key=list(seq.values()).count)
            lat, lat_f, recall = [], [], []
            truth_rows = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :10]
            scan = len(keys) <= EXACT_MAX_POINTS  # the Searcher's rule for text -> image queries
            how = {"exact": True} if scan else {"hnsw_ef": HARD_EF}
            for q, top in zip(queries, truth_rows):
                t0 = time.perf_counter()
                hits = col.search(q.tolist(), using=IMAGE, top_k=10, **how)
                lat.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                col.search(q.tolist(), using=IMAGE, top_k=10, filter={"sequence": common}, **how)
                lat_f.append(time.perf_counter() - t0)
                truth = {ids[j] for j in top}
                recall.append(len(truth & {h.id for h in hits}) / len(truth))
        finally:
            store.close()
    ms = 1000.0
    return {"points": len(keys), "upsert_points_per_s": len(keys) / max(upsert_s, 1e-9),
            "optimize_s": optimize_s, "query_p50_ms": float(np.percentile(lat, 50) * ms),
            "query_p95_ms": float(np.percentile(lat, 95) * ms),
            "filtered_query_p50_ms": float(np.percentile(lat_f, 50) * ms),
            "filtered_query_p95_ms": float(np.percentile(lat_f, 95) * ms),
            "recall@10_vs_exact": float(np.mean(recall)), "queries": len(queries),
            "search_path": "exact scan" if scan else f"hnsw ef={HARD_EF}"}
