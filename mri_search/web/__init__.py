"""``mri-search serve``: a search page and a JSON API over one collection, as thin as the CLI.

    from mri_search.web import ServeCfg, WebState, create_app
    app = create_app(WebState.open(ServeCfg(db="demo_out/qdrant")))     # uvicorn.run(app) serves it

``config.py`` the options; ``service.py`` what the routes do (through ``mri_search.query.Searcher``);
``gate.py`` the shared Searcher and the embedded index let go of for index runs; ``images.py`` the PNGs;
``schemas.py`` the Pydantic response models; ``deps.py`` dependencies; ``routers/`` one router per resource;
``app.py`` the app factory; ``run.py`` uvicorn. Templates and static files ship inside the package.
"""

from __future__ import annotations

from .config import ServeCfg

__all__ = ["ServeCfg", "WebState", "create_app", "run_serve"]


def __getattr__(name: str):  # fastapi and the store load only when used
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "WebState":
        from .service import WebState

        return WebState
    if name == "run_serve":
        from .run import run_serve

        return run_serve
    raise AttributeError(name)
