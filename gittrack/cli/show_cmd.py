"""`gittrack show`."""

from __future__ import annotations

import click


@click.command("show")
def command() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")
