"""What every command module of the CLI shares: the one way a user mistake ends a command, and the options that
read an archive through a model (``index``, ``embed``), so that they mean the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

ArchiveArg = Annotated[Path, typer.Argument(help="Folder, .zip, .tar or .tar.gz of DICOM and/or NIfTI files "
                                                 "(+ reports).")]
ModelOpt = Annotated[Optional[Path], typer.Option(
    help="Model folder (save_model format). Default: the model shipped with mri-search.")]
WorkersOpt = Annotated[int, typer.Option(help="Worker processes reading and preprocessing series.")]
KeepPhiOpt = Annotated[bool, typer.Option(
    help="Store raw patient identifiers (names, IDs, dates, UIDs) in the output; off by default.")]
DeviceOpt = Annotated[str, typer.Option(help="Torch device of the encoder (cpu, cuda, cuda:1, ...).")]
ProgressOpt = Annotated[bool, typer.Option(help="Show a progress bar on a terminal.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


def fail(message: str) -> None:
    """Print ``error: message`` to stderr and exit with code 2 (a user mistake: no traceback)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)
