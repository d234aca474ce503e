"""Cold start of a text query: ``mri-search query "<text>" --json`` as a new process against an index, wall time to
the printed result, for each text encoder (``onnx``: the default once the encoder is cached, no torch imported;
``torch``: ``--text-encoder torch``), with ``importtime`` the slowest top-level imports (for ``query_latency``)."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ENCODERS = {"onnx": "auto", "torch": "torch"}  # cold-start rows: label -> --text-encoder


def cold_query(db: Path, home: Path, text: str, encoder: str, importtime: bool = False) -> dict:
    """One new ``mri-search query`` process with ``--text-encoder encoder``: its wall time, the timings and text
    encoder it reports, and with ``importtime`` its slowest top-level imports."""
    env = {**os.environ, "MRI_SEARCH_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "mri_search.cli", "query", text,
           "--db", str(db), "--json", "-k", "10", "--text-encoder", encoder, "--salt", "mri-search"]
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

