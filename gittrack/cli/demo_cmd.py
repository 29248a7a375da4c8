"""`gittrack demo`."""

from __future__ import annotations

import click


@click.command("demo")
def command() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")
