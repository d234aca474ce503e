"""One indexed series: its record (payload, report sections), its thumbnail and the viewer's slices."""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from ..deps import State
from ..images import WINDOW_PRESETS, slice_counts
from ..schemas import SeriesOut
from .common import hit_out

router = APIRouter(prefix="/api/series", tags=["series"])
PNG_CACHE = {"Cache-Control": "private, max-age=300"}


def _hit(state, series_key: str):
    try:
        return state.hit_of(series_key)
    except KeyError:
        raise HTTPException(404, f"no series {series_key!r} in collection {state.searcher.collection!r}") from None


@router.get("/{series_key}", response_model=SeriesOut, summary="A series' payload and report sections")
def series(state: State, series_key: str) -> SeriesOut:
    hit = _hit(state, series_key)
    payload = {k: v for k, v in hit.payload.items() if k != "path"}
    payload["path"] = state.shown_path(hit.path)
    try:
        slices, problem = slice_counts(state.images.volume(hit)), ""
    except ValueError as exc:
        slices, problem = None, str(exc)
    report = {k: str(v) for k, v in (hit.payload.get("report") or {}).items()}
    return SeriesOut(hit=hit_out(state, hit), payload=payload, report=report, slices=slices, problem=problem,
                     window_presets=WINDOW_PRESETS)


@router.get("/{series_key}/thumbnail.png", summary="Mid-slices in three planes, as the model saw them",
            response_class=Response, responses={200: {"content": {"image/png": {}}}})
def thumbnail(state: State, series_key: str) -> Response:
    return Response(state.images.thumbnail(_hit(state, series_key)), media_type="image/png", headers=PNG_CACHE)


@router.get("/{series_key}/slice.png", summary="One slice, windowed", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def slice_png(state: State, series_key: str,
              plane: Annotated[str, Query(description="axial, coronal or sagittal")] = "axial",
              index: Annotated[Optional[int], Query(description="slice index (default: the middle)")] = None,
              window: Annotated[float, Query(description="window width on the [0, 1] intensity scale")] = 1.0,
              level: Annotated[float, Query(description="window centre on the [0, 1] intensity scale")] = 0.5,
              ) -> Response:
    hit = _hit(state, series_key)
    try:
        png = state.images.slice_png(hit, plane, index, window, level)
    except ValueError as exc:
        raise HTTPException(422 if "cannot" in str(exc) or "exist" in str(exc) else 400, str(exc)) from None
    return Response(png, media_type="image/png", headers=PNG_CACHE)
