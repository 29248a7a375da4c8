"""`gittrack runs`."""

from __future__ import annotations

import click


@click.command("runs")
def command() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")
