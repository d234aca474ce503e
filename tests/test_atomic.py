"""``mri_search.atomic``: a file appears whole or not at all, and no temporary file is left behind."""

from __future__ import annotations

import pytest

from mri_search.atomic import atomic_path, atomic_write_text


def test_written_whole_or_not_at_all(tmp_path):
    target = tmp_path / "meta.json"
    atomic_write_text(target, "first\n", fsync=True)
    assert target.read_text() == "first\n"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half a fi")
            raise RuntimeError("killed midway")
    assert target.read_text() == "first\n"  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["meta.json"]  # and nothing else is left
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and not target.samefile(tmp)
        tmp.write_text("second\n")
    assert target.read_text() == "second\n" and [p.name for p in tmp_path.iterdir()] == ["meta.json"]
