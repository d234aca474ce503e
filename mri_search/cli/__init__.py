"""The ``mri-search`` command line: a thin Typer layer, one module per command group.

``synth`` (synth, synth-summary), ``inspect``, ``index`` (index, embed), ``query``, ``pretrain``, ``bench``,
``probe``, ``segment`` (segment, localize), ``serve``, ``verify``; ``options`` holds what they share. This module
builds the app.
Each command builds one config dataclass and calls one ``run_*`` function. Heavy libraries are imported inside the
commands so that ``mri-search --help`` stays instant. User mistakes exit with code 2 and a one-line message, never a
stack trace.
"""

from __future__ import annotations

import logging
from typing import Annotated, Optional

import typer

from .. import __version__
from .bench import bench as _bench
from .index import embed as _embed
from .index import index as _index
from .inspect import inspect as _inspect
from .pretrain import app as _pretrain_app
from .probe import app as _probe_app
from .query import query as _query
from .segment import localize_app as _localize_app
from .segment import segment_app as _segment_app
from .serve import serve as _serve
from .verify import verify as _verify
from .synth import synth as _synth
from .synth import synth_summary as _synth_summary

app = typer.Typer(
    name="mri-search",
    help="Find MRI scans by what they show: synthetic archives, 3D MRI/report encoders, Qdrant search, benchmarks.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mri-search {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug detail to stderr.")] = False,
) -> None:
    """mri-search: find MRI scans by what they show."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(message)s")


# `mri-search --help` lists the commands in this order, then the groups
app.command("bench")(_bench)
app.command("embed")(_embed)
app.command("serve")(_serve)
app.command("verify")(_verify)
app.command("synth")(_synth)
app.command("synth-summary")(_synth_summary)
app.command("inspect")(_inspect)
app.command("index")(_index)
app.command("query")(_query)
app.add_typer(_pretrain_app, name="pretrain")
app.add_typer(_probe_app, name="probe")
app.add_typer(_segment_app, name="segment")
app.add_typer(_localize_app, name="localize")
