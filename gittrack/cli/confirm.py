"""Asking before destroying: a prompt on a terminal, ``--yes`` everywhere else."""

from __future__ import annotations

import sys

import click

from gittrack.errors import UsageError


def confirm(question: str, *, yes: bool) -> None:
    """Return if the user agrees (or gave ``--yes``); abort otherwise.

    Without a terminal there is nobody to ask, and guessing "yes" would destroy data a script
    did not mean to: refuse, naming ``--yes``.
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{question.rstrip('?')}: this cannot be undone; no terminal to ask "
                         "on, so pass --yes to confirm")
    if not click.confirm(question, default=False, err=True):
        raise click.exceptions.Abort()
