"""``/api/health``: which model and collection the server searches, and how many points it holds."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import State
from ..schemas import HealthOut

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health", response_model=HealthOut, summary="Model, collection, point count")
def health(state: State) -> HealthOut:
    s = state.searcher
    with state.gate.session() as live:
        points = live.connect().count()
    return HealthOut(status="ok", model_name=s.meta.model_name, model_id=s.meta.model_id, collection=s.collection,
                     points=points, store="embedded" if state.gate.embedded else "server",
                     text_encoder=s.text_backend)
