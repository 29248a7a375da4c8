"""`gittrack log`."""

from __future__ import annotations

import click


@click.command("log")
def command() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")
