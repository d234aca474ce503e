"""The JSON API on a real embedded index (the query tests' generated archive and aligned tiny model), through
FastAPI's TestClient: the same hits as ``Searcher``, pagination, filters and facets checked against counts,
series records and PNGs, uploads (good, empty, foreign, too big, zip slip, zip bomb), the API key, no CDN."""

from __future__ import annotations

import copy
from collections import Counter
import dataclasses
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from mri_search.query import QueryFilters
from mri_search.web import ServeCfg, WebState, create_app
from mri_search.web.config import is_loopback

KEY = "s3cret-key-for-tests"


@pytest.fixture(scope="module")
def state(indexed):
    st = WebState.open(ServeCfg(db=indexed.db, model=indexed.model, lock_wait_s=2))
    yield st
    st.close()  # lets go of the embedded index for the other test modules


@pytest.fixture(scope="module")
def client(state):
    return TestClient(create_app(state))  # not entered: the lifespan (which closes the state) does not run


def single_series_folder(archive: Path) -> tuple[Path, str]:
    from mri_search.ingest.archive import scan_archive

    for r in scan_archive(archive / "dicom").series:
        folder = Path(r.files[0].display).parent
        if len(scan_archive(folder).series) == 1:
            return folder, r.key
    raise AssertionError("no single-series folder")


def zipped(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_search_returns_the_searchers_hits_with_relative_paths(client, state, indexed, archive):
    r = client.get("/api/search", params={"q": "MRI of the knee", "top_k": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    direct = state.searcher.search_text("MRI of the knee", top_k=5)
    assert [h["id"] for h in body["hits"]] == [h.id for h in direct]
    assert [h["score"] for h in body["hits"]] == pytest.approx([h.score for h in direct], abs=1e-6)
    for got, want in zip(body["hits"], direct):  # every field of `query --json` but the path, as the CLI has it
        d = want.to_dict()
        assert {k: got[k] for k in d if k != "path"} == {k: v for k, v in d.items() if k != "path"}
        assert not got["path"].startswith("/") and str(archive) not in got["path"]
        # relative to the indexed root (their common folder), identifier values shown as tokens
        assert want.path.endswith("/" + got["path"]) and got["path"].startswith("PAT-")
        assert got["thumbnail_url"] == f"/api/series/{got['series_key']}/thumbnail.png"
    assert [indexed.region[h.payload["series_uid_hash"]] for h in direct[:3]] == ["knee"] * 3
    assert body["collection"] == indexed.collection and body["target"] == "images"
    assert body["timings_ms"]["total_ms"] >= body["timings_ms"]["search_ms"] > 0


def test_pagination_and_reports_target(client):
    full = client.get("/api/search", params={"q": "MRI of the brain", "top_k": 6}).json()["hits"]
    page = client.get("/api/search", params={"q": "MRI of the brain", "top_k": 3, "offset": 2}).json()
    assert [h["id"] for h in page["hits"]] == [h["id"] for h in full[2:5]]
    assert [h["rank"] for h in page["hits"]] == [3, 4, 5] and page["offset"] == 2
    studies = client.get("/api/search", params={"q": "MRI of the brain", "target": "reports"}).json()["hits"]
    assert len(studies) == 3 and len({h["study_key"] for h in studies}) == 3  # one hit per study of the archive


def test_filters_and_facets_agree_with_counts(client, state, indexed):
    payloads = [p.payload for p in state.searcher.store.open_collection(indexed.collection).scroll()]
    n_t2 = sum(p["sequence"] == "T2" for p in payloads)
    assert n_t2 > 0
    hits = client.get("/api/search", params={"q": "knee", "sequence": "t2", "top_k": 50}).json()["hits"]
    assert len(hits) == n_t2 and {h["sequence"] for h in hits} == {"T2"}
    f = client.get("/api/facets").json()
    assert f["total"] == indexed.n_series == len(payloads)
    seq = {v["value"]: v["count"] for v in f["facets"]["sequence"]}
    assert seq == {s: sum(p["sequence"] == s for p in payloads) for s in {p["sequence"] for p in payloads}}
    assert sum(v["count"] for v in f["facets"]["contrast"]) == len(payloads)
    f2 = client.get("/api/facets", params={"sequence": "T2"}).json()
    assert f2["total"] == n_t2
    assert sum(v["count"] for v in f2["facets"]["plane"]) == n_t2  # other facets counted within the filter
    assert {v["value"]: v["count"] for v in f2["facets"]["sequence"]} == seq  # its own facet: all values still
    regions = {v["value"]: v["count"] for v in f["facets"]["report_region"]}  # labels parsed from the reports
    assert regions == dict(Counter(p["report_labels"]["region"] for p in payloads if p["report_labels"]))
    f3 = client.get("/api/facets", params={"report_region": "knee"}).json()
    assert f3["total"] == regions["knee"] and {v["value"] for v in f3["facets"]["report_region"]} == set(regions)
    bad = client.get("/api/search", params={"q": "knee", "sequence": "T9"})
    assert bad.status_code == 400 and "unknown; choose from" in bad.json()["detail"]
    assert client.get("/api/search", params={"q": " "}).status_code == 400
    assert client.get("/api/search", params={"q": "knee", "top_k": 0}).status_code == 400
    assert client.get("/api/search", params={"q": "knee", "group_by": "ward"}).status_code == 400


def test_series_record_thumbnail_slices_and_similar(client, state, indexed):
    hit = client.get("/api/search", params={"q": "MRI of the knee", "top_k": 1}).json()["hits"][0]
    key = hit["series_key"]
    rec = client.get(f"/api/series/{key}").json()
    assert rec["hit"]["series_key"] == key and rec["problem"] == ""
    assert rec["slices"] == {"sagittal": 32, "coronal": 32, "axial": 32}  # the model's input size
    assert rec["report"] and "impression" in rec["report"]
    assert rec["payload"]["path"] == hit["path"] and rec["payload"]["study_key"] == hit["study_key"]
    png = client.get(f"/api/series/{key}/thumbnail.png")
    assert png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (480, 200)
    a = client.get(f"/api/series/{key}/slice.png", params={"plane": "axial", "index": 16})
    b = client.get(f"/api/series/{key}/slice.png", params={"plane": "axial", "index": 10})
    im = np.asarray(Image.open(io.BytesIO(a.content)))
    assert im.shape == (32, 32) and im.max() > im.min() and a.content != b.content
    narrow = client.get(f"/api/series/{key}/slice.png", params={"plane": "axial", "index": 16, "window": 0.2})
    assert np.asarray(Image.open(io.BytesIO(narrow.content))).std() > im.std()  # a narrower window: more contrast
    assert client.get(f"/api/series/{key}/slice.png", params={"index": 32}).status_code == 400
    assert client.get(f"/api/series/{key}/slice.png", params={"plane": "oblique"}).status_code == 400
    assert client.get(f"/api/series/{key}/slice.png", params={"window": 0}).status_code == 400
    sim = client.get(f"/api/similar/{key}", params={"top_k": 4}).json()
    assert key not in [h["series_key"] for h in sim["hits"]] and len(sim["hits"]) == 4
    assert sim["similar_to"] == key and [h["rank"] for h in sim["hits"]] == [1, 2, 3, 4]
    assert client.get("/api/series/" + "0" * 32).status_code == 404
    assert client.get("/api/similar/" + "0" * 32).status_code == 404


def test_upload_a_zipped_series_finds_itself_and_bad_uploads_get_4xx(client, state, archive, monkeypatch):
    folder, key = single_series_folder(archive)
    good = zipped({f"s/{p.name}": p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()})
    r = client.post("/api/search/image", content=good, params={"top_k": 3, "name": "mine.zip"})
    assert r.status_code == 200, r.text
    assert r.json()["hits"][0]["series_key"] == key and r.json()["image"] == "mine.zip"
    nii = sorted((archive / "nifti").rglob("*.nii.gz"))[0]
    r = client.post("/api/search/image", content=nii.read_bytes(), params={"top_k": 2})
    assert r.status_code == 200 and len(r.json()["hits"]) == 2
    assert client.post("/api/search/image", content=b"").status_code == 400
    r = client.post("/api/search/image", content=b"hello, this is not an image" * 20)
    assert r.status_code == 415 and "neither a NIfTI" in r.json()["detail"]
    slip = zipped({"../../escape.dcm": b"x" * 200})
    r = client.post("/api/search/image", content=slip, params={"name": "slip.zip"})
    assert r.status_code == 422 and "slip.zip" in r.json()["detail"] and ".." in r.json()["detail"]
    bomb = zipped({"a/big.dcm": b"\0" * (40 * 1024**2)})
    r = client.post("/api/search/image", content=bomb, params={"name": "bomb.zip"})
    assert r.status_code == 422 and "zip bomb" in r.json()["detail"], r.text
    assert "mri-search-upload" not in r.text  # the server's temporary folder is not shown
    monkeypatch.setattr(state, "cfg", dataclasses.replace(state.cfg, max_upload_mb=0.01))
    r = client.post("/api/search/image", content=good)
    assert r.status_code == 413 and "limit of 0.01 MB" in r.json()["detail"]


def test_health_docs_and_no_cdn(client, indexed):
    h = client.get("/api/health").json()
    assert h == {"status": "ok", "model_name": h["model_name"], "model_id": h["model_id"],
                 "collection": indexed.collection, "points": indexed.n_series, "store": "embedded",
                 "text_encoder": h["text_encoder"]}
    assert client.get("/docs").status_code == 404 and client.get("/openapi.json").status_code == 200
    assert "/api/search/image" in client.get("/openapi.json").json()["paths"]
    page = client.get("/").text
    assert 'id="q"' in page and "/static/app.js" in page
    for text in (page, client.get("/static/app.js").text, client.get("/static/style.css").text):
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text), "an asset from another host"
        assert "@import" not in text and "@font-face" not in text


def test_csv_export_and_no_raw_identifiers(client, indexed):
    r = client.get("/api/search.csv", params={"q": "MRI of the knee", "top_k": 4})
    lines = r.text.strip().splitlines()
    assert r.headers["content-type"].startswith("text/csv") and len(lines) == 5
    assert lines[0] == "rank,score,study_key,series_key,sequence,plane,body_part,series_description,path"
    assert all(not row.split(",")[-1].startswith("/") for row in lines[1:])
    key = client.get("/api/search", params={"q": "knee", "top_k": 1}).json()["hits"][0]["series_key"]
    # an index built without --keep-phi: no raw UID outside the stored file paths (whose folder names hold them
    # until stored paths are de-identified, issue 25)
    hits = client.get("/api/search", params={"q": "knee", "top_k": 15}).json()["hits"]
    rec = client.get(f"/api/series/{key}").json()
    rec["payload"].pop("path"), rec["hit"].pop("path")
    everything = repr([{k: v for k, v in h.items() if k != "path"} for h in hits]) + repr(rec)
    for uid in indexed.study_uid.values():
        assert uid not in everything


def test_api_key_is_required_when_set(state):
    keyed = copy.copy(state)
    keyed.cfg = dataclasses.replace(state.cfg, api_key=KEY)
    c = TestClient(create_app(keyed))
    assert c.get("/api/health").status_code == 401
    assert c.get("/").status_code == 401 and c.get("/static/app.js").status_code == 401
    assert c.get("/api/health", headers={"X-API-Key": KEY + "x"}).status_code == 401
    assert c.get("/api/health", headers={"X-API-Key": KEY}).status_code == 200
    page = c.get("/", params={"api_key": KEY})  # the page, opened once with the key, keeps it in a cookie
    assert page.status_code == 200 and "mri_search_key" in page.headers["set-cookie"]
    assert c.get("/api/health").status_code == 200  # TestClient keeps cookies


def test_binding_beyond_loopback_needs_a_key(indexed):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3") and not is_loopback("example.org")
    with pytest.raises(ValueError, match="refusing to start without --api-key"):
        ServeCfg(db=indexed.db, host="0.0.0.0")
    ServeCfg(db=indexed.db, host="0.0.0.0", api_key=KEY)
    from typer.testing import CliRunner

    from mri_search.cli import app

    r = CliRunner().invoke(app, ["serve", "--db", str(indexed.db), "--host", "192.168.1.5"])
    assert r.exit_code == 2 and "refusing to start without --api-key" in r.output


def test_filters_object_matches_cli(client):
    assert QueryFilters(sequences=("t2",)).to_filter("x") == {"sequence": ["T2"]}


def test_report_label_filters(client, state, indexed):
    r = client.get("/api/search", params={"q": "MRI", "top_k": 50, "report_region": "knee"})
    assert r.status_code == 200, r.text
    direct = state.searcher.search_text("MRI", top_k=50, filters=QueryFilters(report_regions=("knee",)))
    assert [h["id"] for h in r.json()["hits"]] == [h.id for h in direct] and direct
    assert {indexed.region[h.payload["series_uid_hash"]] for h in direct} == {"knee"}
    assert all(h.payload["report_labels"]["region"] == "knee" for h in direct)
    r = client.get("/api/search", params={"q": "MRI", "report_region": "elbow"})
    assert r.status_code == 400 and "choose from" in r.text
