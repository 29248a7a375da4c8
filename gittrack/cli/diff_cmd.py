"""`gittrack diff`."""

from __future__ import annotations

import click


@click.command("diff")
def command() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")
