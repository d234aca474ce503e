"""Case 7 of issue 20: hashed identifiers are not reversible with a public salt. The default salt is this
installation's own (random, 0600, created at first use); an index built with the old public default keeps working,
with a warning, for queries and re-runs alike."""

from __future__ import annotations

import logging
import os
import stat

import pydicom
import pytest

from indexer.config import IndexCfg
from indexer.run import run_index
from mri_search.ingest.phi import hash_id
from mri_search.ingest.salt import LEGACY_SALT, installation_salt, salt_path
from mri_search.query import Searcher
from mri_search.store import salt_check
from mri_search.store.edge import EdgeStore


def test_installation_salt_is_private_random_and_stable(tmp_path):
    salt = installation_salt(tmp_path)
    path = salt_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(salt) == 64 and int(salt, 16) >= 0 and salt != LEGACY_SALT
    assert installation_salt(tmp_path) == salt  # created once
    assert installation_salt(tmp_path / "other") != salt  # per installation
    path.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        installation_salt(tmp_path)


def _patient_ids(archive) -> set[str]:
    out = set()
    for f in archive.rglob("*"):
        try:
            out.add(str(pydicom.dcmread(f, stop_before_pixels=True).PatientID))
        except Exception:  # folders, reports, the manifest
            continue
    return out


def test_default_index_is_not_reversible_with_the_public_salt(archive, model_dir, tmp_path):
    summary = run_index(IndexCfg(archive=archive, model=model_dir, db=tmp_path / "db", workers=0, progress=False,
                                 errors=tmp_path / "e.tsv"))
    with EdgeStore(tmp_path / "db") as store:
        col = store.open_collection(summary.collection)
        assert col.meta.salt_check == salt_check(installation_salt()) != salt_check(LEGACY_SALT)
        keys = {p.payload["patient_key"] for p in col.scroll()}
    pids = _patient_ids(archive)
    assert keys == {hash_id(installation_salt(), p) for p in pids}
    assert not keys & {hash_id(LEGACY_SALT, p) for p in pids}  # the public salt no longer finds anyone


def test_legacy_index_keeps_working_with_a_warning(archive, model_dir, tmp_path, caplog):
    db = tmp_path / "db"
    base = dict(archive=archive, model=model_dir, db=db, workers=0, progress=False, errors=tmp_path / "e.tsv")
    first = run_index(IndexCfg(salt=LEGACY_SALT, **base))  # as earlier versions did by default
    with caplog.at_level(logging.WARNING):
        again = run_index(IndexCfg(**base))  # no --salt: the collection's own (legacy) salt is found
    assert again.indexed == 0 and again.present == first.indexed
    assert any("old public default salt" in r.message for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING), Searcher.open(db=db, model=model_dir, text_encoder="torch") as s:
        assert s.salt == LEGACY_SALT
        hits = s.search_text("knee", top_k=3)
    assert hits and any("old public default salt" in r.message for r in caplog.records)
    assert os.environ.get("MRI_SEARCH_HOME")  # the suite's private home: the real one is never touched
