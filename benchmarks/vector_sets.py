"""Large point sets made from real model outputs, for the search benchmarks (``query_latency``, ``serve_latency``).

``--base`` series of an archive are embedded by the model (image and report vectors, through the indexer's own
series -> point step, ``mri_search.store.points``) and made into ``n`` points (``replicate``): point ``t`` derives
from base series ``src[t]``, its payload a copy with keys suffixed ``#copy`` (replica ``k`` of a study is a study of
its own, so the real mix of sequence, plane, body part and report text stays for the filters). Payloads are made
per batch on demand (``payload``), never held for all ``n`` points: a million payload dicts would take gigabytes.

The base embeddings can be saved and loaded (``save_base`` / ``load_base``: an ``.npz`` beside a ``.json``), so that
runs at several sizes embed once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mri_search.store import IMAGE, REPORT, Point, point_id
from mri_search.store.fields import IDENTIFIERS


@dataclass
class Base:
    """The real series: embeddings and payloads."""

    image: np.ndarray  # [B, D] unit image vectors
    report: np.ndarray  # [B, D] unit report vectors (zero rows where the study has no report)
    has_report: np.ndarray  # [B] bool
    payloads: list[dict]  # [B] the indexer's payloads
    model_id: str  # identity of the model that embedded them


def embed_base(archive: Path, model_dir: Path, base: int, workers: int) -> Base:
    """Embed ``base`` series of ``archive`` (a fixed random choice) with the model, as ``mri-search index`` does."""
    from mri_search.embed import embed_series
    from mri_search.ingest.archive import scan_archive
    from mri_search.model import load_model, model_identity
    from mri_search.store.points import batch_points

    scan = scan_archive(archive)
    rng = np.random.default_rng(0)
    recs = [scan.series[i] for i in sorted(rng.permutation(len(scan.series))[:base])]
    loaded = load_model(model_dir)
    model_id = model_identity(model_dir)
    img, rep, has, payloads = [], [], [], []
    for batch in embed_series(loaded, recs, scan.reports, batch_size=8, workers=workers):
        for p in batch_points(batch, model_id, scan.reports):
            v = np.asarray(p.vectors[IMAGE], dtype=np.float32)
            img.append(v)
            rep.append(np.asarray(p.vectors[REPORT], dtype=np.float32) if REPORT in p.vectors else np.zeros_like(v))
            has.append(REPORT in p.vectors)
            payloads.append(p.payload)
    return Base(np.stack(img), np.stack(rep), np.asarray(has), payloads, model_id)


def save_base(base: Base, path: Path) -> None:
    """``path``.npz (vectors) and ``path``.json (payloads, model identity)."""
    path = Path(path)
    np.savez(path.with_suffix(".npz"), image=base.image, report=base.report, has_report=base.has_report)
    path.with_suffix(".json").write_text(json.dumps({"model_id": base.model_id, "payloads": base.payloads}))


def load_base(path: Path) -> Base:
    """Inverse of ``save_base``."""
    path = Path(path)
    z = np.load(path.with_suffix(".npz"))
    meta = json.loads(path.with_suffix(".json").read_text())
    return Base(z["image"], z["report"], z["has_report"], meta["payloads"], meta["model_id"])


@dataclass
class Replicas:
    """``n`` points derived from the base."""

    image: np.ndarray  # [n, D] unit
    report: np.ndarray  # [n, D] unit, zero rows where has_report is False
    has_report: np.ndarray  # [n] bool
    src: np.ndarray  # [n] base series each point derives from
    copy: np.ndarray  # [n] replica number (suffix of its keys)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def replicate(base: Base, n: int, mode: str, noise: float, seed: int = 1, chunk: int = 100_000) -> Replicas:
    """``n`` points made from the ``B`` real ones: point ``t`` derives from base series ``t % B``.

    ``interpolate``: a point on the segment from ``x_i`` to one of its 8 nearest real neighbours ``x_j`` (uniform
    position ``u``), plus isotropic noise of norm ``noise``: a continuous, anisotropic cloud, as real embeddings of
    many similar series form. Its report vector sits at the same ``u`` between the two series' report vectors (or
    is ``i``'s own, jittered, when ``j`` has no report). ``noise``: ``x_i`` plus isotropic noise of norm ``noise``:
    tight, equidistant blobs around the real points, a stress case for HNSW (inside a blob all neighbours are
    nearly tied); report vectors alike.
    """
    if mode not in ("interpolate", "noise"):
        raise ValueError(f"unknown replication {mode!r}: interpolate or noise")
    rng = np.random.default_rng(seed)
    img, rep, has = base.image, base.report, base.has_report
    b, d = img.shape
    src = np.arange(n) % b
    sims = img @ img.T
    np.fill_diagonal(sims, -np.inf)
    near = np.argsort(-sims, axis=1)[:, : min(8, b - 1)]  # [B, 8] nearest real neighbours
    out_img = np.empty((n, d), np.float32)
    out_rep = np.zeros((n, d), np.float32)
    for a in range(0, n, chunk):  # in chunks: the temporaries of 1M x D would double the peak
        i = src[a:a + chunk]
        m = len(i)
        jit = noise * rng.standard_normal((m, d)).astype(np.float32) / np.sqrt(d)
        jit_r = noise * rng.standard_normal((m, d)).astype(np.float32) / np.sqrt(d)
        if mode == "interpolate":
            j = near[i, rng.integers(0, near.shape[1], m)]
            u = rng.random((m, 1)).astype(np.float32)
            y = img[i] + u * (img[j] - img[i]) + jit
            rj = np.where(has[j][:, None], rep[j], rep[i])
            r = rep[i] + u * (rj - rep[i]) + jit_r
        else:
            y = img[i] + jit
            r = rep[i] + jit_r
        out_img[a:a + m] = _unit(y)
        out_rep[a:a + m] = np.where(has[i][:, None], _unit(r), 0.0)
    return Replicas(out_img, out_rep, has[src].copy(), src, np.arange(n) // b)


def replica_key(key: str, copy: int) -> str:
    """The key of replica ``copy`` of a base series', study's or patient's ``key``."""
    return f"{key}#{copy}"


def payload(base: Base, reps: Replicas, t: int) -> dict:
    """The payload of point ``t``: its base series' payload with keys suffixed ``#copy``."""
    p = dict(base.payloads[reps.src[t]])
    for key in IDENTIFIERS:  # series_key, study_key, patient_key
        p[key] = replica_key(p[key], reps.copy[t])
    return p


def point(base: Base, reps: Replicas, t: int) -> Point:
    """Point ``t`` as the indexer would store it (id from the model identity and its series key)."""
    p = payload(base, reps, t)
    vectors = {IMAGE: reps.image[t].tolist()}
    if reps.has_report[t]:
        vectors[REPORT] = reps.report[t].tolist()
    return Point(point_id(base.model_id, p["series_key"]), vectors, p)


def field_mask(base: Base, reps: Replicas, conditions: dict[str, str]) -> np.ndarray:
    """[n] bool: points whose payload equals every ``field: value`` of ``conditions`` (the base decides: replicas
    keep their base series' fields)."""
    ok = np.asarray([all(p.get(k) == v for k, v in conditions.items()) for p in base.payloads])
    return ok[reps.src]


def exact_top(matrix: np.ndarray, q: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Rows of the ``k`` best cosine scores (unit vectors) under ``mask``, and the ``k``-th score."""
    s = matrix @ q
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    top = np.argpartition(-s, k - 1)[:k]
    top = top[np.argsort(-s[top])]
    return top, float(s[top[-1]])


def exact_scores(matrix: np.ndarray, q: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """The cosine score of every row for ``q`` (unit vectors), and the exact ``k``-th best under ``mask``."""
    s = matrix @ q
    allowed = s if mask is None else np.where(mask, s, -np.inf)
    return s, float(-np.partition(-allowed, k - 1)[k - 1])


def recall(found_rows, scores: np.ndarray, kth: float, k: int) -> float:
    """Share of the exact top ``k`` found, from ``exact_scores``: a found row scoring at least the exact k-th score
    counts (ties at the k-th score)."""
    return sum(1 for r in list(found_rows)[:k] if scores[r] >= kth - 1e-5) / k
