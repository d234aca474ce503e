"""``run_serve``: open the index, then serve the page and API with uvicorn until interrupted."""

from __future__ import annotations

import logging

from .config import ServeCfg

log = logging.getLogger(__name__)


def run_serve(cfg: ServeCfg) -> None:
    """Serve ``cfg``'s index on ``cfg.host:cfg.port`` (blocks).

    Raises:
        ValueError: bad options (a non-loopback host without an API key among them), no index, no model.
    """
    import uvicorn

    from .app import create_app
    from .service import WebState

    state = WebState.open(cfg)  # errors before the port is bound, as one line
    app = create_app(state)
    log.info("serving collection %s on http://%s:%d/", state.searcher.collection, cfg.host, cfg.port)
    uvicorn.run(app, host=cfg.host, port=cfg.port, log_level="warning", access_log=False)
