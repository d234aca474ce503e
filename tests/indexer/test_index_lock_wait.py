"""An index run and a query meeting at the embedded index: the run releases the index while it loads the model,
a query takes it for a moment just then, and the run waits for it (``lock_wait_s``) instead of failing as busy."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from indexer.config import IndexCfg
from indexer.run import run_index
from mri_search.model import artifact
from mri_search.query import Searcher
from mri_search.store import StoreBusy

HOLD_S = 1.0  # how long the query holds the index


def one_study(archive):
    """The folder of the archive's first study (``dicom/<patient>/<study>``): a short run."""
    return sorted(archive.glob("dicom/*/*"))[0]


@pytest.fixture
def query_meets_the_run(monkeypatch, tmp_path):
    """While the run loads its model (the embedded index released), a query opens the index and holds it for
    ``HOLD_S``."""
    load = artifact.load_model

    def load_then_query(*args, **kwargs):
        loaded = load(*args, **kwargs)
        searcher = Searcher.open(db=tmp_path / "db")
        searcher.search_vector(np.ones(loaded.model.embed_dim), top_k=1)  # holds the index until closed
        threading.Timer(HOLD_S, searcher.close).start()
        return loaded

    monkeypatch.setattr(artifact, "load_model", load_then_query)


def test_index_run_waits_for_a_query_holding_the_index(query_meets_the_run, archive, model_dir, tmp_path, caplog):
    cfg = IndexCfg(archive=one_study(archive), model=model_dir, db=tmp_path / "db", errors=tmp_path / "e.tsv",
                   workers=0, batch_size=8, progress=False, lock_wait_s=30)
    with caplog.at_level(logging.INFO, logger="mri_search.store.edge"):
        summary = run_index(cfg)
    assert "is open in another process: waiting up to 30.0 s" in caplog.text
    assert summary.failed == 0 and summary.indexed == summary.series_found >= 2


def test_without_a_wait_the_run_stops_as_busy(query_meets_the_run, archive, model_dir, tmp_path):
    cfg = IndexCfg(archive=one_study(archive), model=model_dir, db=tmp_path / "db", errors=tmp_path / "e.tsv",
                   workers=0, progress=False, lock_wait_s=0)
    with pytest.raises(StoreBusy, match="is busy"):
        run_index(cfg)
    with pytest.raises(ValueError, match="--lock-wait"):
        IndexCfg(archive=archive, model=model_dir, lock_wait_s=-1)
