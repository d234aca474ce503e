"""The search page in a real browser: Debian's headless Chromium driven by Playwright's Python package (pointed at
the system binary; nothing is downloaded), against ``mri-search serve``'s app on a loopback port over the query
tests' embedded index.

It types a query, sees the thumbnails load (``naturalWidth > 0``), opens a series, scrolls slices with the arrow
keys and the wheel, and clicks "more like this"; every request the page makes goes to the server itself (no CDN).
Without Chromium or Playwright the module skips and says which is missing (README: how to install them).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from urllib.parse import parse_qs, urlparse

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("no chromium on PATH: `apt-get install chromium` (Debian) runs the browser test",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install -e '.[dev]'")

from mri_search.web import ServeCfg, WebState, create_app  # noqa: E402

LOADED = "(img) => img.complete && img.naturalWidth > 0"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(indexed):
    """The page's app served by uvicorn on a free loopback port, in a thread."""
    import uvicorn

    state = WebState.open(ServeCfg(db=indexed.db, model=indexed.model, lock_wait_s=2))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(state), host="127.0.0.1", port=port, log_level="warning",
                                        access_log=False))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=30)
    state.close()


@pytest.fixture(scope="module")
def page(server):
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        pg = browser.new_page(viewport={"width": 1280, "height": 900})
        pg.requests = []  # every URL the page asked for
        pg.on("request", lambda r: pg.requests.append(r.url))
        yield pg
        browser.close()


def test_query_thumbnails_series_slices_and_more_like_this(page, server):
    page.goto(server + "/")
    page.fill("#q", "MRI of the knee")
    page.press("#q", "Enter")
    page.wait_for_selector("#grid .card img")
    cards = page.locator("#grid .card")
    assert cards.count() >= 3
    for img in page.locator("#grid .card img").all():  # every thumbnail is a decoded image
        img.scroll_into_view_if_needed()
        page.wait_for_function(LOADED, arg=img.element_handle(), timeout=30_000)
    assert parse_qs(urlparse(page.url).query)["q"] == ["MRI of the knee"]  # the URL holds the query
    assert "results for" in page.inner_text("#status")

    first = cards.first.get_attribute("data-series")
    cards.first.click()
    page.wait_for_selector("#viewer:not([hidden])")
    slice_img = page.locator("#slice")
    page.wait_for_function(LOADED, arg=slice_img.element_handle(), timeout=30_000)
    assert parse_qs(urlparse(page.url).query)["series"] == [first]
    assert page.inner_text("#report").strip()  # the study's report sections

    start = int(slice_img.get_attribute("data-index"))
    src = slice_img.get_attribute("src")
    page.keyboard.press("ArrowUp")
    page.wait_for_function("(i) => document.getElementById('slice').dataset.index == i", arg=str(start + 1))
    page.wait_for_function(LOADED, arg=slice_img.element_handle(), timeout=30_000)
    assert slice_img.get_attribute("src") != src and f"index={start + 1}" in slice_img.get_attribute("src")
    slice_img.hover()
    page.mouse.wheel(0, -120)  # wheel up: one slice back
    page.wait_for_function("(i) => document.getElementById('slice').dataset.index == i", arg=str(start))

    page.click("#more")
    page.wait_for_function("() => new URLSearchParams(location.search).has('similar')")
    assert parse_qs(urlparse(page.url).query)["similar"] == [first]
    page.wait_for_function("(k) => document.querySelectorAll('#grid .card').length > 0 && "
                           "document.getElementById('status').textContent.includes('more like series')", arg=first)
    similar = page.locator("#grid .card").evaluate_all("(cs) => cs.map((c) => c.dataset.series)")
    assert similar and first not in similar  # the series itself is left out
    assert page.locator("#viewer").is_hidden()

    own = [u for u in page.requests if not u.startswith(server + "/")]
    assert own == [] and any("/thumbnail.png" in u for u in page.requests)  # no CDN, nothing else
