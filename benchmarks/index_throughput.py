"""Indexing throughput: series per second from a DICOM archive into the embedded Qdrant engine.

Measured in one run, on the same series, model and machine:

- ``encoder``: the image encoder alone on already preprocessed tensors (batches of ``--batch-size``): the ceiling.
- ``pipeline``: what ``mri-search index`` does after its scan: ``mri_search.embed.embed_series`` (``--workers``
  DataLoader processes read and preprocess while the encoder runs; each study's report embedded once) and an
  upsert into a fresh embedded collection per batch, then the HNSW build. ``end_to_end`` adds the header scan.
  The ratio ``pipeline / encoder`` says how well reading and preprocessing hide behind compute (1 = fully).
- ``naive``: one series at a time in one process: load, preprocess, embed image and report, upsert one point.
- ``store``: embedded-store upsert rate of ``--store-points`` synthetic points (two named vectors, a typical
  payload), HNSW build time, and query latency with and without a payload filter.

Peak resident memory is reported for the main process and for the largest worker. Files are read once and both
towers run once before the clock starts (warm page cache; the first calls of a network are slow). With ``--cli``
the ``mri-search index`` command is also timed as a subprocess (start-up, imports and model loading included).

Run: ``python -m benchmarks.index_throughput ARCHIVE [--model DIR | --preset vit-s-cpu] [--workers 2]
[--batch-size 8] [--limit K] [--store-points 100000] [--cli] [--out results.json]``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from mri_search.embed import embed_series, encode_volumes
from mri_search.ingest.report_text import embedding_text as report_text
from mri_search.ingest.archive import scan_archive
from mri_search.preprocess import preprocess
from mri_search.store import IMAGE, REPORT, CollectionMeta, Point, ensure_collection, point_id, salt_check
from mri_search.store.edge import EdgeStore
from mri_search.store.payload import build_payload
from mri_search.store.points import batch_points, series_point

from .common import add_model_args, model_folder

log = logging.getLogger(__name__)


def _rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux: KiB


def _model(args, tmp: Path):
    from mri_search.model import load_model, model_identity

    folder = model_folder(args.model, args.preset, tmp)  # a random preset: same compute as a trained one
    return folder, load_model(folder), model_identity(folder)


def _meta(loaded, model_id: str) -> CollectionMeta:
    return CollectionMeta(model_id=model_id, model_name=loaded.cfg.name, embed_dim=loaded.cfg.embed_dim,
                          salt_check=salt_check("mri-search"))


def _points(batch, model_id, reports):
    return batch_points(batch, model_id, reports)  # the indexer's own step


def bench_pipeline(loaded, model_id, records, reports, args, db: Path) -> dict:
    t0 = time.perf_counter()
    n = failed = 0
    with EdgeStore(db) as store:
        col = ensure_collection(store, "bench", _meta(loaded, model_id))
        for batch in embed_series(loaded, records, reports, batch_size=args.batch_size, workers=args.workers):
            col.upsert(_points(batch, model_id, reports))
            n += len(batch.records)
            failed += len(batch.failed)
        t1 = time.perf_counter()
        col.optimize()
    dt = time.perf_counter() - t0
    return {"series": n, "failed": failed, "seconds": dt, "series_per_s": n / dt, "optimize_s": dt - (t1 - t0)}


def bench_encoder(loaded, records, args) -> dict:
    xs = []
    for rec in records:
        try:
            xs.append(preprocess(rec, loaded.preprocess).as_tensor())
        except ValueError:
            pass
    encode_volumes(loaded.model, torch.stack(xs[:args.batch_size]))  # warm-up
    t0 = time.perf_counter()
    for i in range(0, len(xs), args.batch_size):
        encode_volumes(loaded.model, torch.stack(xs[i:i + args.batch_size]))
    dt = time.perf_counter() - t0
    return {"series": len(xs), "seconds": dt, "series_per_s": len(xs) / dt}


def bench_reports(loaded, reports) -> dict:
    texts = [report_text(r) for r in reports.values()]
    t0 = time.perf_counter()
    with torch.inference_mode():
        for t in texts:
            loaded.model.encode_report(loaded.model.tokenize([t]))
    dt = time.perf_counter() - t0
    return {"reports": len(texts), "seconds": dt, "reports_per_s": len(texts) / dt if dt else None}


def bench_naive(loaded, model_id, records, reports, db: Path) -> dict:
    t0 = time.perf_counter()
    n = 0
    with EdgeStore(db) as store:
        col = ensure_collection(store, "naive", _meta(loaded, model_id))
        for rec in records:
            try:
                x = preprocess(rec, loaded.preprocess).as_tensor()[None]
            except ValueError:
                continue
            img = encode_volumes(loaded.model, x)[0]
            rep, rep_vec = reports.get(rec.study_key), None
            if rep is not None:
                with torch.inference_mode():
                    rep_vec = loaded.model.encode_report(loaded.model.tokenize([report_text(rep)]))[0]
            col.upsert([series_point(rec, img, rep_vec, rep, model_id)])
            n += 1
    dt = time.perf_counter() - t0
    return {"series": n, "seconds": dt, "series_per_s": n / dt}


def bench_store(n: int, dim: int, payload: dict, db: Path, batch: int = 1000) -> dict:
    rng = np.random.default_rng(0)
    meta = CollectionMeta(model_id="0" * 16, model_name="bench", embed_dim=dim, salt_check="x")
    seqs = ["T1", "T2", "FLAIR", "DWI", "ADC", "T1C", "STIR", "PD"]
    with EdgeStore(db) as store:
        col = ensure_collection(store, "store", meta)
        t_up = 0.0
        for i in range(0, n, batch):
            m = min(batch, n - i)
            v = rng.standard_normal((2, m, dim)).astype(np.float32)
            v /= np.linalg.norm(v, axis=2, keepdims=True)
            pts = [Point(point_id("0" * 16, f"s{i + j}"), {IMAGE: v[0, j].tolist(), REPORT: v[1, j].tolist()},
                         {**payload, "series_key": f"s{i + j}", "sequence": seqs[(i + j) % len(seqs)]})
                   for j in range(m)]
            t0 = time.perf_counter()
            col.upsert(pts)
            t_up += time.perf_counter() - t0
        t0 = time.perf_counter()
        col.optimize()
        t_opt = time.perf_counter() - t0
        q = rng.standard_normal((50, dim)).astype(np.float32)
        lat, lat_f = [], []
        for v in q:
            t0 = time.perf_counter()
            col.search(v, top_k=10)
            lat.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            col.search(v, top_k=10, filter={"sequence": ["T1", "T1C"]})
            lat_f.append(time.perf_counter() - t0)
        count = col.count()
    return {"points": count, "upsert_s": t_up, "upsert_points_per_s": n / t_up, "optimize_s": t_opt,
            "query_ms_median": 1000 * statistics.median(lat),
            "filtered_query_ms_median": 1000 * statistics.median(lat_f)}


def bench_cli(archive: Path, model: Path, args, db: Path) -> dict:
    cmd = [sys.executable, "-m", "mri_search.cli", "index", str(archive), "--model", str(model), "--db", str(db),
           "--workers", str(args.workers), "--batch-size", str(args.batch_size), "--json", "--no-progress",
           "--errors", str(db.parent / "cli-errors.tsv")]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1:]}
    s = json.loads(res.stdout.strip().splitlines()[-1])
    return {"series": s["indexed"], "wall_s": dt, "series_per_s_wall": s["indexed"] / dt,
            "series_per_s_reported": s["indexed"] / s["embed_s"] if s["embed_s"] else None}


def run(args) -> dict:
    torch.set_grad_enabled(False)
    res: dict = {"archive": str(args.archive), "workers": args.workers, "batch_size": args.batch_size,
                 "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                 "load_avg_start": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="mri-index-bench-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        scan = scan_archive(args.archive)
        res["scan_s"] = time.perf_counter() - t0
        records = [r for r in scan.series if r.source == "dicom"][: args.limit]
        res["series"] = len(records)
        for rec in records:  # warm the page cache: every variant reads from memory
            for f in rec.files:
                with f.open() as fh:
                    fh.read()
        folder, loaded, model_id = _model(args, tmp)
        res["model"] = {"name": loaded.cfg.name, "img_size": loaded.cfg.vision.img_size,
                        "embed_dim": loaded.cfg.embed_dim}
        s = loaded.cfg.vision.img_size  # warm-up: first calls of both towers are slow (kernel set-up)
        encode_volumes(loaded.model, torch.zeros(args.batch_size, 1, s, s, s))
        loaded.model.encode_report(loaded.model.tokenize([report_text(r) for r in list(scan.reports.values())[:2]]))
        rss0 = _rss_mb(resource.RUSAGE_SELF)
        res["pipeline"] = bench_pipeline(loaded, model_id, records, scan.reports, args, tmp / "db")
        res["peak_rss_mb"] = {"main_before": rss0, "main_after_pipeline": _rss_mb(resource.RUSAGE_SELF),
                              "largest_worker": _rss_mb(resource.RUSAGE_CHILDREN)}
        res["encoder"] = bench_encoder(loaded, records, args)
        res["reports"] = bench_reports(loaded, {r.study_key: scan.reports[r.study_key] for r in records
                                                if r.study_key in scan.reports})
        res["naive"] = bench_naive(loaded, model_id, records, scan.reports, tmp / "naive")
        scan_share = res["scan_s"] * len(records) / max(1, len(scan.series))
        p = res["pipeline"]
        res["end_to_end_series_per_s"] = p["series"] / (p["seconds"] + scan_share)
        res["ratio_pipeline_to_encoder"] = p["series_per_s"] / res["encoder"]["series_per_s"]
        res["ratio_end_to_end_to_encoder"] = res["end_to_end_series_per_s"] / res["encoder"]["series_per_s"]
        res["ratio_pipeline_to_naive"] = p["series_per_s"] / res["naive"]["series_per_s"]
        if args.cli:
            res["cli"] = bench_cli(args.archive, folder, args, tmp / "cli")
        if args.store_points:
            template = build_payload(records[0], scan.reports.get(records[0].study_key))
            res["store"] = bench_store(args.store_points, loaded.cfg.embed_dim, template, tmp / "store")
    res["load_avg_end"] = os.getloadavg()
    return res


def format_table(res: dict) -> str:
    p, e, nv = res["pipeline"], res["encoder"], res["naive"]
    lines = [f"{res['series']} DICOM series, model {res['model']['name']} ({res['model']['img_size']}^3), "
             f"{res['workers']} workers, batch {res['batch_size']}, {res['cpus']} CPUs, "
             f"load avg {res['load_avg_start'][0]:.2f} -> {res['load_avg_end'][0]:.2f}",
             f"  encoder only (preprocessed tensors): {e['series_per_s']:8.2f} series/s",
             f"  pipeline (read+preprocess+embed+upsert+HNSW): {p['series_per_s']:8.2f} series/s "
             f"(ratio to encoder {res['ratio_pipeline_to_encoder']:.2f}, "
             f"to naive {res['ratio_pipeline_to_naive']:.2f})",
             f"  end to end incl. header scan: {res['end_to_end_series_per_s']:8.2f} series/s "
             f"(ratio to encoder {res['ratio_end_to_end_to_encoder']:.2f})",
             f"  naive loop: {nv['series_per_s']:8.2f} series/s",
             f"  reports alone: {res['reports']['reports_per_s'] or 0:.2f} reports/s",
             f"  peak RSS MB: main {res['peak_rss_mb']['main_after_pipeline']:.0f}, "
             f"largest worker {res['peak_rss_mb']['largest_worker']:.0f}"]
    if "cli" in res:
        lines.append(f"  mri-search index (subprocess): {json.dumps(res['cli'])}")
    if "store" in res:
        s = res["store"]
        lines.append(f"  embedded store, {s['points']} points: upsert {s['upsert_points_per_s']:.0f} points/s, "
                     f"HNSW build {s['optimize_s']:.1f} s, query {s['query_ms_median']:.2f} ms, filtered "
                     f"{s['filtered_query_ms_median']:.2f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("archive", type=Path, help="a DICOM archive (e.g. from `mri-search synth --format dicom`)")
    add_model_args(ap)
    ap.add_argument("--workers", type=int, default=2, help="DataLoader worker processes of the pipeline")
    ap.add_argument("--batch-size", type=int, default=8, help="series per encoder call")
    ap.add_argument("--limit", type=int, default=None, help="at most this many series")
    ap.add_argument("--store-points", type=int, default=100_000, help="points of the store benchmark (0: skip)")
    ap.add_argument("--cli", action="store_true", help="also time `mri-search index` as a subprocess")
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    res = run(args)
    print(format_table(res))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
