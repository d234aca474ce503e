"""Query speed and accuracy of the engine: warm latency, recall@10 against exact search, and cold start.

The index: ``--n`` series (default 100,000) in a fresh embedded collection (Qdrant Edge, HNSW built), made from
real embeddings: ``--base`` series of an archive (default: a small generated one) are embedded with the model
(image and report vectors) and replicated (``replicate``), payloads included (replica ``k`` of a study is a study
of its own, keys suffixed ``#k``, so the real mix of sequence, plane, body part and report text stays for the
filters). Two constructions, each its own index (``--replicate``):

- ``interpolate`` (the headline): points on segments between a real series and one of its nearest real
  neighbours, plus a little isotropic noise: a continuous, anisotropic cloud like the embeddings of many similar
  series.
- ``noise``: each real series plus isotropic Gaussian noise (norm 0.5, about cosine 0.89 to the original): tight
  blobs whose members are nearly equidistant from any query, the known hard case of HNSW (a stress test; real
  embeddings are not isotropic).

Measured, on ``--queries`` query vectors (half held-out points of the same construction, which the index does not
hold, half text embeddings of descriptive phrases):

- ``search``: the vector-search part of a query (``Collection.search``, top 10) warm, p50 / p95 in ms, on the
  path ``Searcher`` takes (unfiltered image queries: HNSW, beam ``HNSW_EF``; text queries, cross-modal, and
  filtered queries: an exact scan up to ``EXACT_MAX_POINTS``): unfiltered, filtered by sequence, filtered by body
  part (``QueryFilters`` spellings), and grouped by study (over-fetch, ``query.grouping``); then the engine's
  default beam, an exact scan of image queries, a wide beam for text queries, the filtered HNSW walk of image
  queries and numpy's brute force, for comparison.
- ``recall@10`` of each against exact brute-force search in numpy on the same vectors and filter (ties at the
  10th score count as found), for image and text queries apart: the text vectors of a model whose towers are not
  aligned (random weights, stage 1 only) lie far from every image, where all scores are nearly tied.
- ``text encoding``: the report tower on one query text, warm (``Searcher.encode_text``: the ONNX encoder), p50 /
  p95; and the one-off build of the model's ONNX encoder by the first text query.
- ``cold start``: ``mri-search query "<text>" --json`` as a new process against the index (the model found
  through the registry, as after an ``index`` run), wall time to the printed result, median of ``--cold-runs``,
  for each text encoder: ``onnx`` (the default path once the encoder is cached: no torch imported) and ``torch``
  (``--text-encoder torch``, the path before the ONNX encoder); with ``--importtime`` the slowest imports of one
  run of each.

Run: ``python -m benchmarks.query_latency [ARCHIVE] [--model DIR | --preset vit-s-cpu] [--n 100000] [--base 64]
[--queries 200] [--out results.json]``. The machine's load average is recorded beside the numbers: on a shared
machine, compare runs only at similar load.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mri_search.store import IMAGE, REPORT, CollectionMeta, Point, collection_name, ensure_collection, point_id
from mri_search.store import salt_check as _salt_check
from mri_search.store.edge import EdgeStore

log = logging.getLogger(__name__)

WARMUP = 5  # first queries of each configuration, not timed
PHRASES = [f"{plane} {seq} of the {region}{extra}"
           for region in ("knee", "brain", "neck", "lumbar spine", "shoulder", "prostate", "liver", "breast")
           for plane, seq in (("axial", "T2"), ("sagittal", "T1"), ("coronal", "STIR"))
           for extra in ("", " with a mass")]


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def _summary(ms: list[float]) -> dict:
    return {"p50_ms": round(_pct(ms, 50), 3), "p95_ms": round(_pct(ms, 95), 3), "mean_ms": round(float(np.mean(ms)), 3),
            "n": len(ms)}


def _model(args, tmp: Path) -> Path:
    if args.model is not None:
        return args.model
    import torch

    from mri_search.model import build_model, get_preset, save_model
    from mri_search.preprocess import default_preprocess

    cfg = get_preset(args.preset)
    torch.manual_seed(0)
    return save_model(build_model(cfg).eval(), tmp / "model", default_preprocess(cfg.vision.img_size))


def _archive(args, tmp: Path) -> Path:
    if args.archive is not None:
        return args.archive
    from mri_search.synth.archive import run_synth
    from mri_search.synth.config import SynthConfig

    out = tmp / "archive"
    run_synth(SynthConfig(out=out, studies=args.studies, seed=7, format="nifti", matrix_scale=0.5),
              progress=lambda *a, **k: None)
    return out


def embed_base(archive: Path, model_dir: Path, base: int, workers: int):
    """(image vectors [B, D], report vectors [B, D] (zeros where none), has_report [B], payloads)."""
    from mri_search.embed import embed_series
    from mri_search.ingest.archive import scan_archive
    from mri_search.model import load_model
    from mri_search.store.payload import build_payload

    scan = scan_archive(archive)
    rng = np.random.default_rng(0)
    recs = [scan.series[i] for i in sorted(rng.permutation(len(scan.series))[:base])]
    loaded = load_model(model_dir)
    img, rep, has, payloads = [], [], [], []
    for batch in embed_series(loaded, recs, scan.reports, batch_size=8, workers=workers):
        for r, v, rv in zip(batch.records, batch.image, batch.report):
            img.append(v)
            rep.append(rv if rv is not None else np.zeros_like(v))
            has.append(rv is not None)
            payloads.append(build_payload(r, scan.reports.get(r.study_key)))
    return np.stack(img), np.stack(rep), np.asarray(has), payloads


def replicate(img, rep, has, payloads, n: int, mode: str, noise: float, seed: int = 1):
    """``n`` points made from the ``B`` real ones: point ``t`` derives from base series ``i = t % B`` (its payload,
    with keys suffixed ``#t // B``, so replica ``k`` of a study is a study of its own).

    ``interpolate``: a point on the segment from ``x_i`` to one of its 8 nearest real neighbours ``x_j`` (uniform
    position), plus isotropic noise of norm ``noise``: a continuous, anisotropic cloud, as real embeddings of many
    similar series form. ``noise``: ``x_i`` plus isotropic noise of norm ``noise``: tight, equidistant blobs around
    the real points, a stress case for HNSW (inside a blob all neighbours are nearly tied).

    Returns:
        image vectors [n, D], report vectors [n, D] (zero rows where the base has no report), payloads.
    """
    rng = np.random.default_rng(seed)
    b, d = img.shape
    i = np.arange(n) % b
    jitter = noise * rng.standard_normal((n, d)).astype(np.float32) / np.sqrt(d)
    if mode == "interpolate":
        sims = img @ img.T
        np.fill_diagonal(sims, -np.inf)
        near = np.argsort(-sims, axis=1)[:, : min(8, b - 1)]  # [B, 8] nearest real neighbours
        j = near[i, rng.integers(0, near.shape[1], n)]
        y = img[i] + rng.random((n, 1)).astype(np.float32) * (img[j] - img[i]) + jitter
    elif mode == "noise":
        y = img[i] + jitter
    else:
        raise ValueError(f"unknown replication {mode!r}: interpolate or noise")
    r = rep[i] + 0.05 * rng.standard_normal((n, d)).astype(np.float32) / np.sqrt(d)  # not searched here

    def unit(x):
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    out_payloads = []
    for t in range(n):
        p = dict(payloads[i[t]])
        for key in ("series_key", "study_key", "patient_key"):
            p[key] = f"{p[key]}#{t // b}"
        out_payloads.append(p)
    return unit(y), np.where(has[i][:, None], unit(r), 0.0).astype(np.float32), out_payloads


def exact_top(matrix: np.ndarray, q: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Rows of the ``k`` best cosine scores (unit vectors) under ``mask``, and the ``k``-th score."""
    s = matrix @ q
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    top = np.argpartition(-s, k - 1)[:k]
    top = top[np.argsort(-s[top])]
    return top, float(s[top[-1]])


def recall(hits, row_of: dict[str, int], matrix: np.ndarray, q: np.ndarray, k: int, mask=None) -> float:
    """Share of the exact top ``k`` the engine found (a hit scoring at least the exact k-th score counts: ties)."""
    _, kth = exact_top(matrix, q, k, mask)
    s = matrix @ q
    good = sum(1 for h in hits[:k] if s[row_of[h.id]] >= kth - 1e-5)
    return good / k


ENCODERS = {"onnx": "auto", "torch": "torch"}  # cold-start rows: label -> --text-encoder


def cold_query(db: Path, home: Path, text: str, encoder: str, importtime: bool = False) -> dict:
    """One new ``mri-search query`` process with ``--text-encoder encoder``: its wall time, the timings and text
    encoder it reports, and with ``importtime`` its slowest top-level imports."""
    env = {**os.environ, "MRI_SEARCH_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "mri_search.cli", "query", text,
           "--db", str(db), "--json", "-k", "10", "--text-encoder", encoder]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"cold query failed: {res.stderr[-2000:]}")
    out = json.loads(res.stdout)
    run = {"wall_s": wall, "timings_ms": out["timings_ms"], "text_encoder": out.get("text_encoder")}
    if importtime:
        rows = []
        for line in res.stderr.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
            if m and len(m.group(3)) <= 1:  # top-level imports only (cumulative times nest)
                rows.append((int(m.group(2)) / 1e6, m.group(4)))
        run["slowest_top_level_imports_s"] = [[name, round(s, 3)] for s, name in sorted(rows, reverse=True)[:10]]
        run["imports_torch"] = any(name == "torch" for _, name in rows)
    return run


def cold_start(db: Path, home: Path, text: str, runs: int, importtime: bool) -> dict:
    """``runs`` cold queries per text encoder (``ENCODERS``), interleaved so that both meet the same load: median
    wall time, the in-process timings of the median run, and with ``importtime`` one more run's slowest imports."""
    got: dict[str, list[dict]] = {label: [] for label in ENCODERS}
    for _ in range(runs):
        for label, encoder in ENCODERS.items():
            got[label].append(cold_query(db, home, text, encoder))
    out = {}
    for label, rs in got.items():
        walls = [r["wall_s"] for r in rs]
        median = sorted(rs, key=lambda r: r["wall_s"])[len(rs) // 2]
        out[label] = {"text_encoder": sorted({str(r["text_encoder"]) for r in rs}),
                      "wall_s": [round(w, 3) for w in walls], "median_wall_s": round(statistics.median(walls), 3),
                      "timings_ms_of_median_run": median["timings_ms"]}
        if importtime:
            imp = cold_query(db, home, text, ENCODERS[label], importtime=True)
            out[label].update({k: imp[k] for k in ("slowest_top_level_imports_s", "imports_torch")})
    return out


def build(db: Path, meta: CollectionMeta, vec_img, vec_rep, payloads, has_report) -> tuple[EdgeStore, dict]:
    """A fresh embedded collection of the points, HNSW built; returns the open store and its build timings."""
    n = len(payloads)
    ids = [point_id(meta.model_id, p["series_key"]) for p in payloads]
    store = EdgeStore(db)
    col = ensure_collection(store, collection_name(meta.model_id), meta)
    t0 = time.perf_counter()
    for a in range(0, n, 2000):
        col.upsert([Point(ids[t], {IMAGE: vec_img[t].tolist(), **({REPORT: vec_rep[t].tolist()} if has_report[t]
                                                                   else {})}, payloads[t])
                    for t in range(a, min(a + 2000, n))])
    upsert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    col.optimize()
    optimize_s = time.perf_counter() - t0
    log.info("%d points upserted in %.1f s, HNSW built in %.1f s", n, upsert_s, optimize_s)
    return store, {"upsert_points_per_s": round(n / upsert_s), "hnsw_build_s": round(optimize_s, 1)}


def measure(searcher, col, vec_img, payloads, ids, query_sets: dict[str, list[np.ndarray]]) -> list[dict]:
    """Warm latency (and recall@10, ungrouped) of each search configuration, per query set: first through
    ``Searcher.search_vector`` (the path a query takes: image queries walk HNSW with beam ``HNSW_EF``; text queries,
    cross-modal, scan exactly up to ``EXACT_MAX_POINTS``; grouping over-fetches group keys, then reads the kept
    payloads), then straight engine calls on other paths, for comparison."""
    from mri_search.query import QueryFilters
    from mri_search.query.searcher import EXACT_MAX_POINTS, HNSW_EF

    row_of = {pid: t for t, pid in enumerate(ids)}
    seqs = [p["sequence"] for p in payloads]
    top_seq = max(set(seqs), key=seqs.count)
    parts = [p["body_part"] for p in payloads if p["body_part"]]
    top_part = max(set(parts), key=parts.count).lower() if parts else ""
    configs = {"unfiltered": (None, None), f"sequence={top_seq}": (QueryFilters(sequences=(top_seq,)), None)}
    if top_part:
        configs[f"body_part={top_part}"] = (QueryFilters(body_parts=(top_part,)), None)
    configs["group_by=study"] = (None, "study")
    def searcher_path(name: str, flt) -> dict:  # what search_vector will do, for the label
        exact = (name == "text" or flt is not None) and len(payloads) <= EXACT_MAX_POINTS
        return dict(searcher=True, exact=exact, hnsw_ef=HNSW_EF)

    runs = [(label, name, searcher_path(name, flt), flt, group) for label, (flt, group) in configs.items()
            for name in query_sets]
    runs += [(f"{label}, HNSW beam 256", "image", dict(hnsw_ef=HNSW_EF), flt, None)  # filtered: the graph walk
             for label, (flt, _) in configs.items() if flt is not None]
    runs += [("unfiltered, engine default beam", name, {}, None, None) for name in query_sets]
    runs += [("unfiltered, exact scan", "image", dict(exact=True), None, None),
             ("unfiltered, HNSW beam 256", "text", dict(hnsw_ef=HNSW_EF), None, None)]
    filters, allowed = [], []
    for _, _, _, flt, _ in runs:
        f = flt.to_filter("mri-search") if flt else None
        filters.append(f)
        key, values = next(iter(f.items())) if f else (None, None)
        allowed.append(np.asarray([p[key] in values for p in payloads]) if f else None)
    ms: list[list[float]] = [[] for _ in runs]
    rec: list[list[float]] = [[] for _ in runs]
    # Query by query, every configuration in turn (rotating the order): on a shared machine whose load drifts,
    # each configuration sees the same conditions. The first WARMUP queries only warm the pages up.
    n = max(len(qs) for qs in query_sets.values())
    for t in range(n):
        for r in np.roll(np.arange(len(runs)), t):
            label, name, how, _, group = runs[r]
            if t >= len(query_sets[name]):
                continue
            q, f = query_sets[name][t], filters[r]
            t0 = time.perf_counter()
            if how.get("searcher"):
                hits = searcher.search_vector(q, IMAGE, 10, filters=runs[r][3], group_by=group, modality=name)
            else:
                hits = col.search(q, using=IMAGE, top_k=10, filter=f, **how)
            elapsed = 1e3 * (time.perf_counter() - t0)
            if t >= WARMUP:
                ms[r].append(elapsed)
            if group is None:
                rec[r].append(recall(hits, row_of, vec_img, q, 10, allowed[r]))
    out = []
    for r, (label, name, how, _, group) in enumerate(runs):
        path = ("Searcher: " if how.get("searcher") else "engine: ") + (
            "exact" if how.get("exact") else f"hnsw ef={how.get('hnsw_ef', 'default')}")
        out.append({"search": label, "queries": name, "path": path, **_summary(ms[r]),
                    "recall@10": round(float(np.mean(rec[r])), 4) if rec[r] else None,
                    "recall@10_min": round(float(np.min(rec[r])), 2) if rec[r] else None,
                    "matching": int(allowed[r].sum()) if allowed[r] is not None else len(payloads)})
    ms = []
    for q in query_sets["image"][:50]:
        t0 = time.perf_counter()
        exact_top(vec_img, q, 10)
        ms.append(1e3 * (time.perf_counter() - t0))
    out.append({"search": "unfiltered, numpy brute force", "queries": "image", "path": "numpy", **_summary(ms),
                "recall@10": 1.0, "recall@10_min": 1.0, "matching": len(payloads)})
    return out


def run(args) -> dict:
    from mri_search.model import model_identity
    from mri_search.model.registry import register_model
    from mri_search.query import Searcher

    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="query-bench-"))
    try:
        model_dir = _model(args, tmp)
        model_id = model_identity(model_dir)
        t0 = time.perf_counter()
        img, rep, has, payloads = embed_base(_archive(args, tmp), model_dir, args.base, args.workers)
        embed_s = time.perf_counter() - t0
        log.info("embedded %d base series in %.1f s", len(img), embed_s)
        meta = CollectionMeta(model_id=model_id, model_name=json.loads((Path(model_dir) / "config.json").read_text())
                              ["model"].get("name", ""), embed_dim=int(img.shape[1]),
                              salt_check=_salt_check("mri-search"))
        os.environ["MRI_SEARCH_HOME"] = str(tmp / "home")
        register_model(model_dir, model_id)  # as an index run does: queries find the model from the collection
        n_text = args.queries // 2
        texts = [PHRASES[t % len(PHRASES)] for t in range(n_text)]
        constructions, enc_ms, api, cold, build_ms = {}, [], {}, {}, None
        for c, mode in enumerate(args.replicate):
            noise = args.noise if args.noise is not None else {"interpolate": 0.05, "noise": 0.5}[mode]
            vec_img, vec_rep, pl = replicate(img, rep, has, payloads, args.n, mode, noise)
            held_out, _, _ = replicate(img, rep, has, payloads, args.queries - n_text, mode, noise, seed=100 + c)
            db = (args.keep / mode) if args.keep else tmp / f"db-{mode}"
            store, built = build(db, meta, vec_img, vec_rep, pl, has[np.arange(args.n) % len(img)])
            searcher = Searcher(store, salt="mri-search")  # the salt the collection records
            if not enc_ms:
                searcher.encode_text(texts[0])  # the first text query builds the ONNX encoder (once per model)
                build_ms = searcher.timings.get("build_onnx_ms")
                for t in texts:
                    t0 = time.perf_counter()
                    searcher.encode_text(t)
                    enc_ms.append(1e3 * (time.perf_counter() - t0))
            query_sets = {"image": list(held_out), "text": [searcher.encode_text(t) for t in texts]}
            ids = [point_id(model_id, p["series_key"]) for p in pl]
            constructions[mode] = {"noise": noise, **built,
                                   "search": measure(searcher, store.open_collection(searcher.collection), vec_img,
                                                     pl, ids, query_sets)}
            if c == 0:
                ms = []
                for t in texts[:50]:  # a whole text query through the Python API: encode + search + hits
                    t0 = time.perf_counter()
                    searcher.search_text(t, top_k=10)
                    ms.append(1e3 * (time.perf_counter() - t0))
                api = _summary(ms)
            searcher.close()
            store.close()  # the cold-start processes need the embedded index's lock
            if c == 0:
                cold = cold_start(db, tmp / "home", PHRASES[0], args.cold_runs, args.importtime)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return {
        "n_points": args.n, "dim": int(img.shape[1]), "base_series": len(img), "model": str(args.model or
                                                                                        f"untrained {args.preset}"),
        "model_name": meta.model_name, "queries": args.queries, "embed_base_s": round(embed_s, 1),
        "constructions": constructions, "text_encoding": _summary(enc_ms[5:]), "search_text_api": api,
        "onnx_build_ms": round(build_ms, 1) if build_ms is not None else None, "cold_start": cold,
        "machine": {"cpus": os.cpu_count(), "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
    }


def markdown(r: dict) -> str:
    """The results as Markdown."""
    lines = [f"Query latency on {r['n_points']:,} points ({r['dim']}-d, made from {r['base_series']} real series "
             f"embedded by {r['model']} ({r['model_name']})); load average {r['machine']['loadavg_before']} before, "
             f"{r['machine']['loadavg_after']} after, {r['machine']['cpus']} CPUs. {r['queries']} queries: half "
             "held-out image vectors, half text embeddings.", ""]
    for mode, c in r["constructions"].items():
        lines += [f"**{mode}** (noise {c['noise']}): upsert {c['upsert_points_per_s']:,} points/s, HNSW build "
                  f"{c['hnsw_build_s']} s.", "",
                  "| search (top 10) | queries | path | p50 ms | p95 ms | recall@10 (min) | matching points |",
                  "|---|---|---|---|---|---|---|"]
        for s in c["search"]:
            rec = "" if s["recall@10"] is None else f"{s['recall@10']} ({s['recall@10_min']})"
            lines.append(f"| {s['search']} | {s['queries']} | {s['path']} | {s['p50_ms']} | {s['p95_ms']} | {rec} | "
                         f"{s['matching']} |")
        lines.append("")
    te, api, cold = r["text_encoding"], r["search_text_api"], r["cold_start"]
    built = (f" The first text query of the model built its ONNX encoder in {r['onnx_build_ms'] / 1e3:.1f} s "
             "(once per model)." if r.get("onnx_build_ms") else "")
    lines += [f"Text encoding (warm): p50 {te['p50_ms']} ms, p95 {te['p95_ms']} ms. A whole text query through "
              f"the API (encode + search + hits): p50 {api['p50_ms']} ms, p95 {api['p95_ms']} ms.{built}", "",
              "Cold start of `mri-search query \"<text>\"` (a new process, wall time to the printed result):", "",
              "| text encoder | median s | runs s | inside the process (ms) | imports torch |", "|---|---|---|---|---|"]
    for enc, c in cold.items():
        lines.append(f"| {enc} ({', '.join(c['text_encoder'])}) | {c['median_wall_s']} | {c['wall_s']} | "
                     f"{c['timings_ms_of_median_run']} | {c.get('imports_torch', '')} |")
    for enc, c in cold.items():
        if "slowest_top_level_imports_s" in c:
            lines.append(f"\nSlowest top-level imports, {enc} (s): " + ", ".join(
                f"{n} {s}" for n, s in c["slowest_top_level_imports_s"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", nargs="?", type=Path, help="archive to take the base series from (default: generate)")
    ap.add_argument("--model", type=Path, help="model folder (default: an untrained --preset)")
    ap.add_argument("--preset", default="vit-s-cpu", help="preset of the untrained model when no --model")
    ap.add_argument("--n", type=int, default=100_000, help="points in the index")
    ap.add_argument("--base", type=int, default=64, help="real series embedded and replicated")
    ap.add_argument("--studies", type=int, default=12, help="studies of the generated archive (no ARCHIVE)")
    ap.add_argument("--replicate", default="interpolate,noise",
                    help="how real series become --n points: interpolate, noise, or both (comma list)")
    ap.add_argument("--noise", type=float, help="isotropic noise norm of a replica (default: interpolate 0.05, "
                                                "noise 0.5)")
    ap.add_argument("--queries", type=int, default=200, help="query vectors (half text, half image)")
    ap.add_argument("--cold-runs", type=int, default=3, help="cold-start processes timed, per text encoder")
    ap.add_argument("--importtime", action="store_true", help="also list the slowest imports of a cold start")
    ap.add_argument("--workers", type=int, default=2, help="reader processes while embedding the base series")
    ap.add_argument("--keep", type=Path, help="build the index in this folder and keep it")
    ap.add_argument("--out", type=Path, help="write the results as JSON here (and Markdown beside it)")
    args = ap.parse_args(argv)
    args.replicate = [m.strip() for m in args.replicate.split(",") if m.strip()]
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    r = run(args)
    text = markdown(r)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(r, indent=2) + "\n")
        args.out.with_suffix(".md").write_text(text + "\n")


if __name__ == "__main__":
    main()
