"""The search page: one HTML document whose script keeps the query state in the URL (so a result can be shared)
and calls the JSON API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ..deps import State
from ..images import WINDOW_PRESETS

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))


@router.get("/", response_class=HTMLResponse)
def index(request: Request, state: State) -> HTMLResponse:
    s = state.searcher
    return templates.TemplateResponse(request, "index.html", {
        "model_name": s.meta.model_name, "collection": s.collection, "presets": WINDOW_PRESETS})
