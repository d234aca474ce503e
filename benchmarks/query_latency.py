"""Query speed and accuracy of the engine at scale: every query kind, every candidate method, recall@10 against
exact search, build time, RAM and disk per series, and cold start.

The index: ``--n`` points (default 100,000) in a fresh embedded collection (Qdrant Edge, HNSW built), made from
real model outputs (``benchmarks.vector_sets``): ``--base`` series of an archive embedded by the model, then
interpolated between nearest real neighbours (``--replicate interpolate``, the headline) or blown into noisy blobs
(``noise``, the hard case of HNSW). ``--quantization none,int8`` builds one index per setting (int8: the image and
report vectors also held as int8 scalar-quantised codes, quantile 0.99, in RAM).

Query kinds (``KINDS``), ``--queries`` each: text -> image, image -> image, image -> report, text -> report, and
text -> image and image -> image filtered by 1 and by 3 payload conditions (the most common sequence; sequence,
plane and body part). Text queries are report-tower embeddings of descriptive phrases (``PHRASES``); image queries
are held-out points of the same construction (the index does not hold them).

For each kind, each method of ``benchmarks.search_methods`` (exact float scan, HNSW at each ``--ef``, int8 scan and
walk with re-scoring, routed through the other named vector, shifted across the modality gap) and the path the
``Searcher`` takes (``Searcher.search_vector``: what ``mri-search query`` runs, damage check included): p50 / p95
latency (warm, timed query by query in rotation so that every method meets the same load) and recall@10 against
exact numpy search on the same vectors and filter (ties at the 10th score count as found). Numpy's own brute
force is timed too.

Also: upsert and HNSW build time; disk per series by component (float vectors, int8 codes, HNSW links, payload,
payload indexes, write-ahead log); RAM per series (``ram_probe``: a new process opens the collection and runs one
method's queries; its resident memory after, less before opening); text encoding; cold start (``cold_start``).

Run: ``python -m benchmarks.query_latency [ARCHIVE] [--model DIR] [--n 100000] [--base 64] [--queries 100]
[--embeddings CACHE] [--json OUT.json] [--markdown OUT.md]``. Without ``--model``, the shipped model. The machine's
load average is recorded beside the numbers: on a shared machine, compare runs only at similar load.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mri_search.store import IMAGE, REPORT, CollectionMeta, collection_name
from mri_search.store import salt_check as _salt_check
from mri_search.store.edge import SHARD_DIR, EdgeStore

from . import search_methods as sm
from .common import generated_archive, latency_summary
from .vector_sets import Base, Replicas, embed_base, exact_scores, exact_top, field_mask, load_base, point, recall, \
    replica_key, replicate, save_base

log = logging.getLogger(__name__)

WARMUP = 3  # first queries of each (kind, method), not timed
TOP_K = 10
PHRASES = [f"{plane} {seq} of the {region}{extra}"
           for region in ("knee", "brain", "neck", "lumbar spine", "shoulder", "prostate", "liver", "breast")
           for plane in ("axial", "sagittal", "coronal")
           for seq in ("T1", "T2", "STIR", "FLAIR", "diffusion", "post-contrast T1")
           for extra in ("", " with a mass")]


@dataclass(frozen=True)
class Kind:
    """A query kind: what the query embeds, which named vector it searches, which payload conditions hold."""

    name: str
    modality: str  # "text" or "image"
    using: str  # IMAGE or REPORT
    conditions: dict = field(default_factory=dict)  # field -> value, all must hold

    @property
    def cross_modal(self) -> bool:
        return (self.modality, self.using) in (("text", IMAGE), ("image", REPORT))

    @property
    def route(self) -> str:  # the named vector of the query's own modality
        return REPORT if self.modality == "text" else IMAGE


def kinds(base: Base) -> list[Kind]:
    """The query kinds, the filters taken from the base's most common sequence and (sequence, plane, body part)."""
    seqs = [p["sequence"] for p in base.payloads]
    seq = max(sorted(set(seqs)), key=seqs.count)
    triples = [(p["sequence"], p["plane"], p["body_part"]) for p in base.payloads if p["body_part"]]
    tri = max(sorted(set(triples)), key=triples.count) if triples else (seq, "axial", "")
    one = {"sequence": seq}
    three = {"sequence": tri[0], "plane": tri[1], "body_part": tri[2]}
    return [Kind("text->image", "text", IMAGE), Kind("image->image", "image", IMAGE),
            Kind("image->report", "image", REPORT), Kind("text->report", "text", REPORT),
            Kind("text->image, 1 filter", "text", IMAGE, one), Kind("text->image, 3 filters", "text", IMAGE, three),
            Kind("image->image, 1 filter", "image", IMAGE, one),
            Kind("image->image, 3 filters", "image", IMAGE, three)]


def modality_gap(base: Base) -> dict[str, np.ndarray]:
    """Per searched vector, the shift from the other modality's mean to its own (``search_methods`` shifted)."""
    has = base.has_report
    img, rep = base.image[has].mean(0), base.report[has].mean(0)
    return {IMAGE: (img - rep).astype(np.float32), REPORT: (rep - img).astype(np.float32)}


# --- building -----------------------------------------------------------------------------------------------------

def build(db: Path, meta: CollectionMeta, base: Base, reps: Replicas, quantization: str,
          batch: int = 2000) -> dict:
    """A fresh embedded collection of the points, HNSW built (and int8 codes with ``quantization="int8"``); its
    build timings. The store is closed after."""
    name = collection_name(meta.model_id)
    (db / name).mkdir(parents=True)
    _create_shard(db / name / SHARD_DIR, meta.embed_dim, quantization)  # the store opens it as its own
    n = len(reps.src)
    with EdgeStore(db) as store:
        col = store.create_collection(name, meta)  # adds the layout's payload indexes
        t0 = time.perf_counter()
        for a in range(0, n, batch):
            col.upsert([point(base, reps, t) for t in range(a, min(a + batch, n))])
        upsert_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        col.optimize()
        optimize_s = time.perf_counter() - t0
    log.info("%d points upserted in %.1f s, indexes built in %.1f s (%s)", n, upsert_s, optimize_s, quantization)
    return {"upsert_s": round(upsert_s, 1), "upsert_points_per_s": round(n / upsert_s),
            "index_build_s": round(optimize_s, 1)}


def _built(db: Path, meta: CollectionMeta, base: Base, reps: Replicas, quantization: str) -> dict:
    """``build``'s timings, the index built once: a folder left by an earlier run (``--db-dir``, its ``built.json``
    written after the build) is used again, since the replicas are seeded; a half-built one is built afresh."""
    done = db / "built.json"
    if done.is_file():
        earlier = json.loads(done.read_text())
        if earlier.pop("model_id", None) == meta.model_id:
            log.info("using the index built earlier in %s", db)
            return {**earlier, "reused": True}
    shutil.rmtree(db, ignore_errors=True)
    built = build(db, meta, base, reps, quantization)
    done.write_text(json.dumps({**built, "model_id": meta.model_id}) + "\n")
    return built


def _create_shard(path: Path, dim: int, quantization: str) -> None:
    """The shard ``EdgeStore`` would create, with int8 scalar quantisation of both vectors when asked."""
    import qdrant_edge as q

    from mri_search.store.layout import VECTORS

    quant = (q.ScalarQuantizationConfig(type=q.ScalarType.Int8, quantile=0.99, always_ram=True)
             if quantization == "int8" else None)
    if quantization not in ("none", "int8"):
        raise ValueError(f"quantization: none or int8, got {quantization!r}")
    params = q.EdgeVectorParams(size=dim, distance=q.Distance.Cosine, quantization_config=quant)
    q.EdgeShard.create(str(path), q.EdgeConfig(vectors={v: params for v in VECTORS})).close()


COMPONENTS = (("vector_storage-image", "quantized", "image int8 codes"), ("vector_storage-image", "", "image floats"),
              ("vector_storage-report", "quantized", "report int8 codes"),
              ("vector_storage-report", "", "report floats"), ("vector_index-image", "", "image HNSW"),
              ("vector_index-report", "", "report HNSW"), ("payload_storage", "", "payload"),
              ("payload_index", "", "payload indexes"), ("wal", "", "write-ahead log"))


def disk_usage(db: Path, n: int) -> dict:
    """Bytes on disk (allocated blocks) per series, by component, and in all."""
    sizes: dict[str, int] = {}
    for path in db.rglob("*"):
        if not path.is_file():
            continue
        parts, name = path.parts, path.name
        label = next((lab for folder, prefix, lab in COMPONENTS
                      if folder in parts and name.startswith(prefix)), "other")
        sizes[label] = sizes.get(label, 0) + path.stat().st_blocks * 512
    out = {k: round(v / n, 1) for k, v in sorted(sizes.items())}
    out["total"] = round(sum(sizes.values()) / n, 1)
    return out


# --- measuring ----------------------------------------------------------------------------------------------------

@dataclass
class Plan:
    """What one measurement runs: each (kind, method) pair and its queries."""

    kinds: list[Kind]
    methods: list[sm.Method]
    queries: dict[str, np.ndarray]  # modality -> [Q, D]
    masks: dict[str, np.ndarray | None]  # kind name -> [n] allowed (None: all)


def measure(db: Path, base: Base, reps: Replicas, plan: Plan, gap: dict[str, np.ndarray]) -> list[dict]:
    """Warm latency and recall@10 of every (kind, method) pair and of the ``Searcher`` path; numpy last."""
    from mri_search.query import Searcher

    matrices = {IMAGE: reps.image, REPORT: reps.report}
    store = EdgeStore(db)
    searcher = Searcher(store, salt="mri-search")
    col = store.open_collection(searcher.collection)
    row_of = _rows(col.meta.model_id, base, reps)
    pairs = [(k, m) for k in plan.kinds for m in plan.methods if sm.applies(m, k.cross_modal)]
    pairs += [(k, None) for k in plan.kinds]  # None: the Searcher's own path
    ms: list[list[float]] = [[] for _ in pairs]
    rec: list[list[float]] = [[] for _ in pairs]
    n_q = min(len(v) for v in plan.queries.values())
    try:
        for t in range(n_q):
            truth: dict[str, tuple[np.ndarray, float]] = {}  # kind -> (scores, exact k-th score) of query t
            for r in np.roll(np.arange(len(pairs)), t):
                k, m = pairs[r]
                q = plan.queries[k.modality][t]
                flt = dict(k.conditions) or None
                t0 = time.perf_counter()
                if m is None:
                    ids = [h.id for h in searcher.search_vector(q, k.using, TOP_K, filters=flt,
                                                                modality=k.modality)]
                else:
                    ids = sm.run(col.shard, sm.request(m, q, k.using, k.route, gap[k.using], TOP_K, flt))
                elapsed = 1e3 * (time.perf_counter() - t0)
                if t >= WARMUP:
                    ms[r].append(elapsed)
                if k.name not in truth:
                    truth[k.name] = exact_scores(matrices[k.using], q, TOP_K, plan.masks[k.name])
                rec[r].append(recall([row_of[i] for i in ids], *truth[k.name], TOP_K))
    finally:
        searcher.close()
        store.close()
    out = []
    for r, (k, m) in enumerate(pairs):
        out.append({"kind": k.name, "method": m.name if m else "Searcher", **latency_summary(ms[r]),
                    "recall@10": round(float(np.mean(rec[r])), 4), "recall@10_min": round(float(np.min(rec[r])), 2),
                    "matching": int(plan.masks[k.name].sum()) if plan.masks[k.name] is not None else len(reps.src)})
    out += _numpy_rows(plan, matrices, n_q)
    return out


def _rows(model_id: str, base: Base, reps: Replicas) -> dict[str, int]:
    """Point id -> row of the replica arrays (ids derive from the series keys, as ``vector_sets.point`` makes them)."""
    from mri_search.store import point_id

    keys = [p["series_key"] for p in base.payloads]
    return {str(point_id(model_id, replica_key(keys[s], c))): t for t, (s, c) in enumerate(zip(reps.src, reps.copy))}


def _numpy_rows(plan: Plan, matrices, n_q: int) -> list[dict]:
    out = []
    for k in plan.kinds:
        if k.conditions or k.name == "image->report":
            continue
        ms = []
        for t in range(n_q):
            t0 = time.perf_counter()
            exact_top(matrices[k.using], plan.queries[k.modality][t], TOP_K, plan.masks[k.name])
            ms.append(1e3 * (time.perf_counter() - t0))
        out.append({"kind": k.name, "method": "numpy brute force", **latency_summary(ms[WARMUP:]), "recall@10": 1.0,
                    "recall@10_min": 1.0, "matching": len(matrices[k.using])})
    return out


# --- RAM ----------------------------------------------------------------------------------------------------------

def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def ram_probe(db: Path, queries: Path, using: str, method: str, gap: Path) -> dict:
    """In this (new) process: open the collection, run ``method``'s queries on ``using`` (``exact``, ``int8 scan
    xF`` or ``Searcher``); resident kB before opening, after opening and after the queries."""
    from mri_search.query import Searcher  # imported before the first reading: their code is not the index's

    import qdrant_edge  # noqa: F401

    qs, g = np.load(queries), np.load(gap)
    before = _rss_kb()
    store = EdgeStore(db)
    name = store.list_collections()[0]
    col = store.open_collection(name)
    opened = _rss_kb()
    m = (None if method == "Searcher" else sm.Method(method, "exact") if method == "exact"
         else sm.Method(method, "int8", oversampling=float(method.removeprefix("int8 scan x"))))
    if m is None:
        store.close()
        store = EdgeStore(db)
        s = Searcher(store, salt="mri-search")
        for q in qs:
            s.search_vector(q, using, TOP_K, modality="text")
        after = _rss_kb()
        s.close()
    else:
        for q in qs:
            sm.run(col.shard, sm.request(m, q, using, REPORT, g, TOP_K, None))
        after = _rss_kb()
    store.close()
    return {"rss_before_kb": before, "rss_opened_kb": opened, "rss_after_kb": after}


def ram_per_series(db: Path, tmp: Path, queries: np.ndarray, gap: np.ndarray, n: int, methods: list[str]) -> dict:
    """``ram_probe`` of each method (text -> image queries) in a new process: resident bytes per series."""
    qf, gf = tmp / "ram_queries.npy", tmp / "ram_gap.npy"
    np.save(qf, queries)
    np.save(gf, gap)
    out = {}
    for method in methods:
        res = subprocess.run([sys.executable, "-m", "benchmarks.query_latency", "--ram-probe", str(db), str(qf),
                              IMAGE, method, str(gf)], capture_output=True, text=True, timeout=1800)
        if res.returncode != 0:
            out[method] = {"error": res.stderr.strip().splitlines()[-1:] or ["failed"]}
            continue
        r = json.loads(res.stdout.strip().splitlines()[-1])
        out[method] = {**r, "bytes_per_series": round(1024 * (r["rss_after_kb"] - r["rss_before_kb"]) / n, 1)}
    return out


# --- the run ------------------------------------------------------------------------------------------------------

def _model_dir(args, tmp: Path) -> Path:
    if args.model is not None:
        return args.model
    from mri_search.model.shipped import default_model_dir

    found = default_model_dir()
    if found is None:
        raise SystemExit("no shipped model in this checkout: give --model DIR")
    return found


def _archive(args, tmp: Path) -> Path:
    return args.archive if args.archive is not None else generated_archive(tmp / "archive", args.studies)


def _base(args, tmp: Path, model_dir: Path) -> tuple[Base, float]:
    from mri_search.model import model_identity

    if args.embeddings and Path(args.embeddings).with_suffix(".npz").is_file():
        base = load_base(args.embeddings)
        if base.model_id != model_identity(model_dir):
            raise SystemExit(f"{args.embeddings} holds embeddings of another model; delete it or pick another path")
        return base, 0.0
    t0 = time.perf_counter()
    base = embed_base(_archive(args, tmp), model_dir, args.base, args.workers)
    if args.embeddings:
        save_base(base, args.embeddings)
    return base, time.perf_counter() - t0


def run(args) -> dict:
    from mri_search.model.registry import register_model

    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="query-bench-", dir=args.tmp))
    try:
        model_dir = _model_dir(args, tmp)
        base, embed_s = _base(args, tmp, model_dir)
        meta = CollectionMeta(model_id=base.model_id, model_name=json.loads((model_dir / "config.json").read_text())
                              ["model"].get("name", ""), embed_dim=int(base.image.shape[1]),
                              salt_check=_salt_check("mri-search"))
        os.environ["MRI_SEARCH_HOME"] = str(tmp / "home")
        register_model(model_dir, base.model_id)  # as an index run does: queries find the model from the collection
        texts = [PHRASES[(7 * t) % len(PHRASES)] for t in range(args.queries)]
        gap = modality_gap(base)
        results, cold, text_enc = {}, {}, {}
        for mode in args.replicate:
            noise = args.noise if args.noise is not None else {"interpolate": 0.05, "noise": 0.5}[mode]
            reps = replicate(base, args.n, mode, noise)
            held_out = replicate(base, args.queries, mode, noise, seed=101).image
            for quant in args.quantization:
                db = (args.db_dir or tmp) / f"db-{mode}-{quant}-{args.n}"
                built = _built(db, meta, base, reps, quant)
                if not text_enc:
                    text_enc, text_q = _encode_texts(db, texts)
                plan = Plan(kinds(base), sm.methods(args.ef, args.candidates, args.oversampling, quant == "int8"),
                            {"text": text_q, "image": held_out}, {})
                for k in plan.kinds:
                    mask = field_mask(base, reps, k.conditions) if k.conditions else None
                    if k.using == REPORT:
                        mask = reps.has_report if mask is None else mask & reps.has_report
                    plan.masks[k.name] = mask
                search = measure(db, base, reps, plan, gap)
                ram_methods = ["exact", "Searcher"] + ([f"int8 scan x{args.oversampling:g}"] if quant == "int8"
                                                       else [])
                results[f"{mode}/{quant}"] = {
                    "replicate": mode, "noise": noise, "quantization": quant, **built,
                    "disk_bytes_per_series": disk_usage(db, args.n),
                    "ram_per_series": ram_per_series(db, tmp, text_q[:20], gap[IMAGE], args.n, ram_methods)
                    if args.ram else {},
                    "search": search}
                log.info("%s/%s measured", mode, quant)
                if args.cold_runs and not cold:
                    from .cold_start import cold_start

                    cold = cold_start(db, tmp / "home", PHRASES[0], args.cold_runs, False)
                if not args.keep and args.db_dir is None:
                    shutil.rmtree(db, ignore_errors=True)
    finally:
        if args.keep:
            log.info("kept %s", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return {"n_points": args.n, "dim": int(base.image.shape[1]), "base_series": len(base.payloads),
            "model": str(args.model or "shipped default"), "model_name": meta.model_name,
            "queries_per_kind": args.queries, "embed_base_s": round(embed_s, 1), "indexes": results,
            "text_encoding": text_enc, "cold_start": cold,
            "machine": {"cpus": os.cpu_count(), "loadavg_before": [round(x, 2) for x in load_before],
                        "loadavg_after": [round(x, 2) for x in os.getloadavg()]}}


def _encode_texts(db: Path, texts: list[str]) -> tuple[dict, np.ndarray]:
    """The text queries through the model's report tower (the ONNX encoder a query uses), and its warm timing."""
    from mri_search.query import Searcher

    with EdgeStore(db) as store:
        s = Searcher(store, salt="mri-search")
        s.encode_text(texts[0])  # the first text query builds the ONNX encoder (once per model)
        ms, out = [], []
        for t in texts:
            t0 = time.perf_counter()
            out.append(s.encode_text(t))
            ms.append(1e3 * (time.perf_counter() - t0))
        s.close()
    return latency_summary(ms[WARMUP:]), np.stack(out).astype(np.float32)


def markdown(r: dict) -> str:
    """The results as Markdown."""
    m = r["machine"]
    lines = [f"{r['n_points']:,} points ({r['dim']}-d) made from {r['base_series']} real series embedded by "
             f"{r['model']} ({r['model_name']}); {r['queries_per_kind']} queries per kind; load average "
             f"{m['loadavg_before']} before, {m['loadavg_after']} after, {m['cpus']} CPUs.", ""]
    for name, c in r["indexes"].items():
        lines += [f"### {name}", "", f"Upsert {c['upsert_s']} s ({c['upsert_points_per_s']:,} points/s), index build "
                  f"{c['index_build_s']} s. Disk per series (bytes): "
                  + ", ".join(f"{k} {v:,.0f}" for k, v in c["disk_bytes_per_series"].items()) + ".", ""]
        if c["ram_per_series"]:
            lines += ["RAM per series (resident bytes of a new process after its queries, less before opening): "
                      + ", ".join(f"{k} {v.get('bytes_per_series', v.get('error'))}"
                                  for k, v in c["ram_per_series"].items()) + ".", ""]
        lines += ["| kind | method | p50 ms | p95 ms | recall@10 (min) | matching |", "|---|---|---|---|---|---|"]
        for s in c["search"]:
            lines.append(f"| {s['kind']} | {s['method']} | {s['p50_ms']} | {s['p95_ms']} | {s['recall@10']} "
                         f"({s['recall@10_min']}) | {s['matching']:,} |")
        lines.append("")
    te = r["text_encoding"]
    lines.append(f"Text encoding (warm, ONNX): p50 {te.get('p50_ms')} ms, p95 {te.get('p95_ms')} ms.")
    for enc, c in r["cold_start"].items():
        lines.append(f"Cold start, {enc}: median {c['median_wall_s']} s of {c['wall_s']}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--ram-probe"]:  # the child process of ram_per_series
        db, queries, using, method, gap = argv[1:6]
        print(json.dumps(ram_probe(Path(db), Path(queries), using, method, Path(gap))))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", nargs="?", type=Path, help="archive to take the base series from (default: generate)")
    ap.add_argument("--model", type=Path, help="model folder (default: the shipped model)")
    ap.add_argument("--n", type=int, default=100_000, help="points in the index")
    ap.add_argument("--base", type=int, default=64, help="real series embedded and replicated")
    ap.add_argument("--studies", type=int, default=12, help="studies of the generated archive (no ARCHIVE)")
    ap.add_argument("--embeddings", type=Path, help="cache of the base embeddings (read if present, else written)")
    ap.add_argument("--replicate", default="interpolate", help="interpolate, noise, or both (comma list)")
    ap.add_argument("--noise", type=float, help="noise norm of a replica (default: interpolate 0.05, noise 0.5)")
    ap.add_argument("--quantization", default="none,int8", help="indexes built: none, int8, or both (comma list)")
    ap.add_argument("--queries", type=int, default=100, help="queries per kind")
    ap.add_argument("--ef", default="128,512,2048", help="HNSW beams measured (comma list)")
    ap.add_argument("--candidates", type=int, default=1000, help="points prefetched by routed and shifted")
    ap.add_argument("--oversampling", type=float, default=4.0, help="int8 candidates re-scored per result")
    ap.add_argument("--no-ram", dest="ram", action="store_false", help="skip the RAM probes")
    ap.add_argument("--cold-runs", type=int, default=0, help="cold-start processes timed per text encoder")
    ap.add_argument("--workers", type=int, default=2, help="reader processes while embedding the base series")
    ap.add_argument("--tmp", type=Path, help="folder for the indexes (default: the system's temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the indexes")
    ap.add_argument("--db-dir", type=Path, help="build the indexes here and keep them; a later run with the same "
                    "--n, --replicate and --quantization measures them again without building (1M: hours)")
    ap.add_argument("--json", type=Path, help="write every figure as JSON here")
    ap.add_argument("--markdown", type=Path, help="write the tables as Markdown here")
    args = ap.parse_args(argv)
    args.replicate = [x.strip() for x in args.replicate.split(",") if x.strip()]
    args.quantization = [x.strip() for x in args.quantization.split(",") if x.strip()]
    args.ef = [int(x) for x in args.ef.split(",") if x.strip()]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    r = run(args)
    text = markdown(r)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(r, indent=2) + "\n")
    if args.markdown:
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
