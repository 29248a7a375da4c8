"""`gittrack export`."""

from __future__ import annotations

import click


@click.command("export")
def command() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")
