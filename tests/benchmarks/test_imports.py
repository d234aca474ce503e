"""Every benchmark script imports (they run by hand, not in the suite: an API change must not break them unseen)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import benchmarks
import pretrain

SCRIPTS = sorted(m.name for m in pkgutil.walk_packages(benchmarks.__path__, "benchmarks."))


@pytest.mark.parametrize("name", SCRIPTS + ["pretrain.throughput"])
def test_script_imports(name):
    importlib.import_module(name)


def test_the_scripts_are_found():
    assert {"benchmarks.synth_shortcut", "benchmarks.pretrain_probe", "benchmarks.index_throughput",
            "benchmarks.bench.run"} <= set(SCRIPTS)
    assert pretrain.__name__ == "pretrain"
