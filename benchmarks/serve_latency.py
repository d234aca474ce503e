"""What the search page's HTTP layer costs: ``GET /api/search`` under concurrent clients, against the warm
in-process ``Searcher`` doing the same queries at the same concurrency, in the same run.

The index: ``--n`` points (default 10,000) in a fresh embedded collection, made from real embeddings as in
``benchmarks.query_latency`` (``--base`` series of a generated archive embedded with the model, then interpolated
between near neighbours; payloads included). The model is ``--model``, else the shipped default, else an untrained
``--preset``.

Measured, each for ``--seconds`` (default 60) with ``--clients`` (default 8) threads issuing text queries back to
back (the phrases of ``query_latency``, top 10, no filter), and again with one client for ``--single-seconds``:

- ``in_process``: ``Searcher.search_text`` on one warm Searcher shared by the threads (as the server shares it).
- ``http``: ``mri-search serve`` as its own process on a loopback port, one keep-alive connection per client
  (``http.client``); a request's time runs from sending it to having read the whole body.

Reported: p50 / p95 / mean latency and queries per second of each; ``overhead_p50_ms`` = HTTP p50 minus in-process
p50 at the same concurrency. Target (issue 21): the HTTP layer adds <= 5 ms p50 at 8 clients. The client threads
share the machine's cores with the server, so the HTTP figure is an upper bound of what a remote client would see.

Run: ``python -m benchmarks.serve_latency [--n 10000] [--clients 8] [--seconds 60] [--json OUT]
[--markdown docs/serve_results.md]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode


from mri_search.store import CollectionMeta, salt_check
from mri_search.store.edge import EdgeStore

from .common import generated_archive, latency_summary
from .query_latency import PHRASES, build
from .vector_sets import embed_base, replicate

log = logging.getLogger(__name__)
TARGET_OVERHEAD_MS = 5.0


def drive(call, clients: int, seconds: float) -> dict:
    """``clients`` threads calling ``call(text)`` back to back for ``seconds``; latency summary and queries/s."""
    stop = time.monotonic() + seconds
    times: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []

    def worker(c: int) -> None:
        i = c
        try:
            while time.monotonic() < stop:
                text = PHRASES[i % len(PHRASES)]
                t0 = time.perf_counter()
                call(text, c)
                times[c].append(1e3 * (time.perf_counter() - t0))
                i += clients
        except Exception as exc:  # noqa: BLE001 - reported in the result, the other clients go on
            errors.append(f"{type(exc).__name__}: {exc}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ms = [x for per in times for x in per]
    if errors:
        raise RuntimeError(f"{len(errors)} client(s) failed: {errors[0]}")
    return {**latency_summary(ms), "clients": clients, "queries_per_s": round(len(ms) / wall, 1)}


def _model(args, tmp: Path) -> tuple[Path, str]:
    if args.model is not None:
        return args.model, str(args.model)
    from mri_search.model.shipped import default_model_dir

    shipped = default_model_dir()
    if shipped is not None:
        return shipped, "shipped default"
    import torch

    from mri_search.model import build_model, get_preset, save_model
    from mri_search.preprocess import default_preprocess

    cfg = get_preset(args.preset)
    torch.manual_seed(0)
    return save_model(build_model(cfg).eval(), tmp / "model", default_preprocess(cfg.vision.img_size)), \
        f"untrained {args.preset}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(db: Path, home: Path, port: int, threads: int | None = None) -> subprocess.Popen:
    """``mri-search serve`` on ``port``, ready (health answered) and warm (every phrase asked once)."""
    env = {**os.environ, "MRI_SEARCH_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "mri_search.cli", "serve", "--db", str(db), "--port", str(port),
                             "--salt", "mri-search",  # the salt the benchmark's collection records
                             *(["--threads", str(threads)] if threads else [])],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                conn.close()
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("serve did not answer /api/health within 120 s")
        time.sleep(0.2)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for text in PHRASES:
        conn.request("GET", "/api/search?" + urlencode({"q": text, "top_k": 10}))
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError(f"/api/search answered {r.status}")
    conn.close()
    return proc


def run(args) -> dict:
    from mri_search.model import model_identity
    from mri_search.model.registry import register_model
    from mri_search.query import Searcher

    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    try:
        model_dir, model_label = _model(args, tmp)
        model_id = model_identity(model_dir)
        archive = args.archive if args.archive is not None else generated_archive(tmp / "archive", args.studies)
        base = embed_base(archive, model_dir, args.base, args.workers)
        meta = CollectionMeta(model_id=model_id, model_name=json.loads((Path(model_dir) / "config.json").read_text())
                              ["model"].get("name", ""), embed_dim=int(base.image.shape[1]),
                              salt_check=salt_check("mri-search"))
        home = tmp / "home"
        os.environ["MRI_SEARCH_HOME"] = str(home)
        register_model(model_dir, model_id)
        db = tmp / "db"
        built = build(db, meta, base, replicate(base, args.n, "interpolate", 0.05), "none")
        store = EdgeStore(db)

        searcher = Searcher(store, salt="mri-search")  # the salt the collection records
        for text in PHRASES:  # warm: the ONNX text encoder is built or loaded, the collection opened
            searcher.search_text(text, top_k=10)
        in_process = {
            "single": drive(lambda text, c: searcher.search_text(text, top_k=10), 1, args.single_seconds),
            "concurrent": drive(lambda text, c: searcher.search_text(text, top_k=10), args.clients, args.seconds)}
        searcher.close()
        store.close()  # the server process needs the embedded index's lock

        port = _free_port()
        proc = _serve(db, home, port, args.threads)
        try:
            conns: dict[int, http.client.HTTPConnection] = {}

            def get(text: str, c: int) -> None:
                conn = conns.get(c)
                if conn is None:
                    conn = conns[c] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", "/api/search?" + urlencode({"q": text, "top_k": 10}))
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    raise RuntimeError(f"/api/search answered {r.status}")

            http_single = drive(get, 1, args.single_seconds)
            for conn in conns.values():
                conn.close()
            conns.clear()
            http_conc = drive(get, args.clients, args.seconds)
            for conn in conns.values():
                conn.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    overhead = http_conc["p50_ms"] - in_process["concurrent"]["p50_ms"]
    return {
        "n_points": args.n, "base_series": len(base.payloads), "model": model_label, "model_name": meta.model_name,
        "clients": args.clients, "server_threads": args.threads or "serve's default (4)", "seconds": args.seconds,
        "single_seconds": args.single_seconds, **built,
        "in_process": in_process, "http": {"single": http_single, "concurrent": http_conc},
        "overhead_p50_ms": round(overhead, 3),
        "overhead_p50_ms_single": round(http_single["p50_ms"] - in_process["single"]["p50_ms"], 3),
        "target_overhead_p50_ms": TARGET_OVERHEAD_MS, "target_met": bool(overhead <= TARGET_OVERHEAD_MS),
        "machine": {"cpus": os.cpu_count(), "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
    }


def markdown(r: dict) -> str:
    rows = [("in-process Searcher", 1, r["in_process"]["single"]),
            ("in-process Searcher", r["clients"], r["in_process"]["concurrent"]),
            ("HTTP /api/search", 1, r["http"]["single"]), ("HTTP /api/search", r["clients"], r["http"]["concurrent"])]
    lines = [f"`/api/search` against the warm in-process `Searcher`, {r['n_points']:,} points ({r['base_series']} "
             f"real series interpolated), model {r['model']} ({r['model_name']}), text queries, top 10, "
             f"{r['seconds']} s at {r['clients']} clients and {r['single_seconds']} s at 1; "
             f"{r['machine']['cpus']} CPUs, load {r['machine']['loadavg_before'][0]} before.", "",
             "| path | clients | p50 ms | p95 ms | mean ms | queries/s | n |", "|---|---|---|---|---|---|---|"]
    for name, c, s in rows:
        lines.append(f"| {name} | {c} | {s['p50_ms']:.2f} | {s['p95_ms']:.2f} | {s['mean_ms']:.2f} | "
                     f"{s['queries_per_s']} | {s['n']} |")
    lines += ["", f"HTTP adds {r['overhead_p50_ms']:.2f} ms p50 at {r['clients']} clients "
                  f"({r['overhead_p50_ms_single']:.2f} ms at 1); target <= {r['target_overhead_p50_ms']} ms: "
                  f"{'met' if r['target_met'] else 'NOT met'}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("archive", type=Path, nargs="?", help="archive to embed the base series from (default: generated)")
    ap.add_argument("--model", type=Path, help="model folder (default: the shipped model)")
    ap.add_argument("--preset", default="vit-s-cpu", help="untrained preset when no model is shipped")
    ap.add_argument("--n", type=int, default=10_000, help="points in the index")
    ap.add_argument("--base", type=int, default=64, help="real series embedded")
    ap.add_argument("--studies", type=int, default=16, help="studies of the generated archive")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--single-seconds", type=float, default=20.0)
    ap.add_argument("--threads", type=int, help="serve --threads (default: serve's own)")
    ap.add_argument("--json", type=Path, dest="json_out", help="write every figure here")
    ap.add_argument("--markdown", type=Path, help="write the table here (docs/serve_results.md)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    r = run(args)
    text = json.dumps(r, indent=2)
    if args.json_out:
        args.json_out.write_text(text + "\n")
    if args.markdown:
        args.markdown.write_text("# `mri-search serve`: HTTP latency\n\nMeasured by `python -m benchmarks.serve_latency "
                                 f"--markdown {args.markdown}`.\n\n" + markdown(r))
    print(markdown(r))


if __name__ == "__main__":
    main()
