"""The FastAPI app factory: routers, static files, error answers and the API key.

Swagger UI is not served (``/docs`` off): FastAPI takes its files from a CDN and no installed package ships them;
the OpenAPI schema stays at ``/openapi.json`` for tools that read it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..store import StoreBusy
from .deps import KEY_COOKIE, KEY_PARAM, key_of, key_ok
from .routers import health, pages, search, series
from .service import WebState

STATIC = Path(__file__).resolve().parent / "static"


def create_app(state: WebState) -> FastAPI:
    """The app serving ``state`` (its store and Searcher; closed when the app shuts down)."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        import anyio.to_thread

        # requests run in FastAPI's thread pool (40 threads by default); on a few cores, fewer threads contend less
        anyio.to_thread.current_default_thread_limiter().total_tokens = state.cfg.threads
        yield
        state.close()

    app = FastAPI(title="mri-search", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Find MRI series by text, by an image, or by another series.")
    app.state.web = state
    for r in (search.router, series.router, health.router, pages.router):
        app.include_router(r)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.exception_handler(StoreBusy)
    async def busy(request: Request, exc: StoreBusy):
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "2"})

    @app.exception_handler(ValueError)
    async def bad_value(request: Request, exc: ValueError):
        return JSONResponse({"detail": str(exc).splitlines()[0] if str(exc) else type(exc).__name__},
                            status_code=400)

    if state.cfg.api_key:
        _require_key(app, state.cfg.api_key)
    return app


def _require_key(app: FastAPI, expected: str) -> None:
    """Every request needs the key (header ``X-API-Key``, ``?api_key=`` or the cookie); 401 without it. A page
    opened with ``?api_key=`` gets it as an HTTP-only cookie, so its images and API calls carry it."""

    @app.middleware("http")
    async def check_key(request: Request, call_next):
        if not key_ok(key_of(request), expected):
            return PlainTextResponse("401: this server needs its API key (header X-API-Key, or ?api_key=)",
                                     status_code=401, headers={"WWW-Authenticate": "X-API-Key"})
        response = await call_next(request)
        if request.query_params.get(KEY_PARAM) and request.cookies.get(KEY_COOKIE) != expected:
            response.set_cookie(KEY_COOKIE, expected, httponly=True, samesite="strict")
        return response
