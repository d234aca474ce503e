"""Searches: text, an uploaded image, "more like this"; the facets of the page; the CSV export."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from ...query import QueryFilters
from ..deps import Params, State, filters
from ..schemas import FacetsOut, FacetValue, SearchOut
from ..service import UploadError
from .common import hit_out

router = APIRouter(prefix="/api", tags=["search"])
CSV_COLUMNS = ("rank", "score", "study_key", "series_key", "sequence", "plane", "body_part", "series_description",
               "path")


def _out(state, hits, ctx) -> Response:
    """The page of hits as ``SearchOut`` JSON, serialised once here (returned as a model, FastAPI would validate it
    again on the way out); ``response_model`` still documents it."""
    out = SearchOut(**ctx, hits=[hit_out(state, h) for h in hits])
    return Response(out.model_dump_json(), media_type="application/json")


@router.get("/search", response_model=SearchOut, summary="Text search (the hits of `mri-search query --json`)")
def search(state: State, p: Params) -> Response:
    hits, ctx = state.search(p)
    return _out(state, hits, ctx)


@router.get("/search.csv", summary="The same search as CSV: ranks, keys and paths")
def search_csv(state: State, p: Params) -> Response:
    hits, _ = state.search(p)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for h in hits:
        row = hit_out(state, h).model_dump()
        w.writerow([f"{row[c]:.4f}" if c == "score" else row[c] for c in CSV_COLUMNS])
    return Response(buf.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="mri-search-results.csv"'})


@router.get("/similar/{series_key}", response_model=SearchOut, summary="More like this indexed series")
def similar(state: State, p: Params, series_key: str) -> Response:
    try:
        hits, ctx = state.similar(series_key, p)
    except ValueError as exc:
        if "no series" in str(exc):
            raise HTTPException(404, str(exc)) from None
        raise
    return _out(state, hits, ctx)


@router.post("/search/image", response_model=SearchOut,
             summary="Image search: the request body is a NIfTI file (.nii, .nii.gz) or a zipped DICOM series",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def search_image(state: State, p: Params, request: Request,
                       name: Annotated[str, Query(description="the file's name, for messages")] = "upload",
                       series: Annotated[Optional[int], Query(description="which series of a zip with several")
                                         ] = None) -> Response:
    from starlette.concurrency import run_in_threadpool

    body = await read_limited(request, state.cfg.max_upload_bytes)
    try:
        hits, ctx = await run_in_threadpool(state.search_upload, body, name, p, series)
    except UploadError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    return _out(state, hits, ctx)


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, read into memory, refused (413) as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    too_big = HTTPException(413, f"upload larger than the server's limit of {limit / 1024**2:.3g} MB "
                                 "(mri-search serve --max-upload-mb)")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks, n = [], 0
    async for chunk in request.stream():
        n += len(chunk)
        if n > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


@router.get("/facets", response_model=FacetsOut, summary="Series per sequence, plane, body part, maker, contrast")
def facets(state: State, flt: Annotated[QueryFilters, Depends(filters)]) -> FacetsOut:
    total, found = state.facets(flt)
    return FacetsOut(total=total, facets={k: [FacetValue(value=v, count=n) for v, n in vals]
                                          for k, vals in found.items()})
