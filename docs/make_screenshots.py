"""Screenshots of the search page for the README: the result grid of a query, and a series opened in the viewer.

Run after ``make demo`` (it serves the demo index): ``.venv/bin/python docs/make_screenshots.py [--db demo_out/qdrant]
[--out docs]``. The page is served in this process on a free loopback port and drawn by Debian's headless Chromium
through Playwright (nothing downloaded), as in ``tests/query/web/test_web_browser.py``.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import threading
import time
from pathlib import Path

QUERY = "axial T2 of the neck with a mass in the left tonsil"
LOADED = "(img) => img.complete && img.naturalWidth > 0"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=Path("demo_out/qdrant"))
    ap.add_argument("--out", type=Path, default=Path("docs"))
    args = ap.parse_args()
    import uvicorn
    from playwright.sync_api import sync_playwright

    from mri_search.web import ServeCfg, WebState, create_app

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("no chromium on PATH: apt-get install chromium")
    state = WebState.open(ServeCfg(db=args.db))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(state), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/?q={QUERY.replace(' ', '+')}&group_by=study&top_k=6")
            page.wait_for_selector("#grid .card img")
            for img in page.locator("#grid .card img").all():
                page.wait_for_function(LOADED, arg=img.element_handle(), timeout=60_000)
            args.out.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out / "search_page.png"))
            page.locator("#grid .card").first.click()
            page.wait_for_selector("#viewer:not([hidden])")
            page.wait_for_function(LOADED, arg=page.locator("#slice").element_handle(), timeout=60_000)
            page.screenshot(path=str(args.out / "search_page_series.png"))
            browser.close()
    finally:
        srv.should_exit = True
        thread.join(timeout=30)
        state.close()
    print(f"wrote {args.out / 'search_page.png'} and {args.out / 'search_page_series.png'}")


if __name__ == "__main__":
    main()
