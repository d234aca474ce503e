"""What every command module of the CLI shares: the one way a user mistake ends a command."""

from __future__ import annotations

import typer


def fail(message: str) -> None:
    """Print ``error: message`` to stderr and exit with code 2 (a user mistake: no traceback)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)
