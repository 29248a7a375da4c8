"""`gittrack recover`."""

from __future__ import annotations

import click


@click.command("recover")
def command() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")
