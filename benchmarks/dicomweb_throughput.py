"""Indexing over DICOMweb against indexing the same files from disk: series per second, same series, same run.

The archive's DICOM files are uploaded to a real Orthanc with its DICOMweb plugin, started on a loopback port
from a temporary folder (or, with ``--dicomweb URL``, a server that already holds them; credentials from
``MRI_SEARCH_DICOMWEB_USER``/``_PASSWORD`` or ``_TOKEN``). Then ``mri-search index`` runs as a subprocess on each
source into a fresh embedded index, alternating disk and DICOMweb ``--repeats`` times, and each run's own summary
gives its series, its time and its embedding time (reading the pixels, over WADO-RS or from disk, preprocessing,
encoding and writing the points); the rest of a run is the scan (the listing and the metadata over DICOMweb, the
header reads from disk), loading the model and opening the store. ``inspect`` is timed the same way: the scan
alone, as a command (start-up included). Medians are reported
with the ratio DICOMweb / disk (1 = as fast as disk).

Run: ``python -m benchmarks.dicomweb_throughput ARCHIVE [--model DIR | --preset vit-s-cpu] [--workers 2]
[--repeats 3] [--dicomweb URL] [--out results.json] [--markdown table.md]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import add_model_args, emit, model_folder
from .orthanc_server import PASSWORD, USER, OrthancServer, dicom_files, missing

SALT = "benchmark"  # one salt for both sources: the same series keys


def _cli(args: list[str], env: dict) -> tuple[float, str]:
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "mri_search.cli", *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"mri-search {' '.join(args[:2])} failed ({res.returncode}): {res.stderr[-2000:]}")
    return wall, res.stdout


def _index(source: str, model: Path, db: Path, args, env: dict) -> dict:
    wall, out = _cli(["index", source, "--model", str(model), "--db", str(db), "--workers", str(args.workers),
                      "--no-progress", "--salt", SALT, "--json"], env)
    s = json.loads(out.strip().splitlines()[-1])
    return {"series": s["indexed"], "wall_s": wall, "elapsed_s": s["elapsed_s"], "embed_s": s["embed_s"],
            "rest_s": s["elapsed_s"] - s["embed_s"], "series_per_s": s["indexed"] / s["elapsed_s"]}


def _inspect(source: str, env: dict) -> dict:
    wall, out = _cli(["inspect", source, "--salt", SALT], env)
    return {"wall_s": wall}


def run(args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="dicomweb-bench-"))
    env = dict(os.environ, MRI_SEARCH_HOME=str(tmp / "home"))
    server = None
    try:
        if args.dicomweb:
            url = args.dicomweb
        else:
            why = missing()
            if why:
                raise SystemExit(why)
            server = OrthancServer(tmp / "orthanc")
            t0 = time.perf_counter()
            n_files = server.upload(dicom_files(args.archive))
            server.wait_stable()
            upload_s = time.perf_counter() - t0
            url = server.url
            env.update(MRI_SEARCH_DICOMWEB_USER=USER, MRI_SEARCH_DICOMWEB_PASSWORD=PASSWORD)
        model = model_folder(args.model, args.preset, tmp)
        sources = {"disk": str(args.archive), "dicomweb": f"dicomweb+{url}"}
        runs = {k: [] for k in sources}
        scans = {k: [] for k in sources}
        for i in range(args.repeats):
            for name, src in sources.items():
                runs[name].append(_index(src, model, tmp / f"db-{name}-{i}", args, env))
                scans[name].append(_inspect(src, env))
        out = {"archive": str(args.archive), "server": "given" if args.dicomweb else "local Orthanc",
               "workers": args.workers, "repeats": args.repeats, "model": str(args.model or args.preset),
               "cpus": os.cpu_count()}
        if server is not None:
            out["upload"] = {"files": n_files, "seconds": round(upload_s, 2)}
        for name in sources:
            out[name] = {k: round(statistics.median(r[k] for r in runs[name]), 3) for k in runs[name][0]}
            out[name]["inspect_wall_s"] = round(statistics.median(r["wall_s"] for r in scans[name]), 3)
        if out["disk"]["series"] != out["dicomweb"]["series"]:
            raise SystemExit(f"the sources gave different series: {out['disk']['series']} from disk, "
                             f"{out['dicomweb']['series']} over DICOMweb")
        out["ratio_series_per_s"] = round(out["dicomweb"]["series_per_s"] / out["disk"]["series_per_s"], 3)
        out["ratio_inspect_s"] = round(out["dicomweb"]["inspect_wall_s"] / out["disk"]["inspect_wall_s"], 3)
        return out
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def markdown(res: dict) -> str:
    """The results as a Markdown table."""
    rows = ["| source | series | series/s | index run (s) | embedding (s) | scan, model, store (s) | inspect (s) |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for name in ("disk", "dicomweb"):
        r = res[name]
        rows.append(f"| {name} | {r['series']} | {r['series_per_s']:.2f} | {r['elapsed_s']:.2f} | {r['embed_s']:.2f} "
                    f"| {r['rest_s']:.2f} | {r['inspect_wall_s']:.2f} |")
    rows.append("")
    rows.append(f"DICOMweb / disk: series/s x{res['ratio_series_per_s']}, inspect time x{res['ratio_inspect_s']} "
                f"(medians of {res['repeats']} alternating runs, {res['workers']} workers, {res['cpus']} CPUs, "
                f"model {res['model']}, server: {res['server']}).")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("archive", type=Path, help="a DICOM archive (e.g. from `mri-search synth --format dicom`)")
    add_model_args(ap)
    ap.add_argument("--workers", type=int, default=2, help="DataLoader worker processes of each index run")
    ap.add_argument("--repeats", type=int, default=3, help="index runs per source (alternating)")
    ap.add_argument("--dicomweb", default=None, help="a DICOMweb root that already holds the archive's files")
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    ap.add_argument("--markdown", type=Path, default=None, help="write the table as Markdown here")
    args = ap.parse_args(argv)
    res = run(args)
    emit(res, markdown(res), args.out, args.markdown)


if __name__ == "__main__":
    main()
