"""A click group whose commands are imported only when one is run.

Each command pulls in what it needs (pygit2, fsspec, rich, pyarrow...); importing them all
for every ``gittrack`` invocation cost more than a no-op ``git fetch``. The group knows each
command by a table of ``name -> (module:attribute, short help)``; ``gittrack --help`` lists
the commands from that table without importing any of them, and ``tests/cli/test_main.py``
checks the table against the commands themselves. This is click's documented "LazyGroup"
pattern (https://click.palletsprojects.com/en/stable/complex/#lazily-loading-subcommands).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from gettext import gettext as _
from typing import Any

import click


class LazyGroup(click.Group):
    """A group whose ``lazy`` commands are ``{name: ("module:attribute", "short help")}``."""

    def __init__(self, *args: Any, lazy: Mapping[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            self.add_command(load_command(self.lazy[cmd_name][0]), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's, but the short help of a lazy command comes from the table."""
        names = [name for name in self.list_commands(ctx)
                 if name not in self.commands or not self.commands[name].hidden]
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            (name, self.commands[name].get_short_help_str(limit) if name in self.commands
             # a stand-in command: click shortens its help as it would the real one's
             else click.Command(name, help=self.lazy[name][1]).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)


def load_command(target: str) -> click.Command:
    """The command at ``"package.module:attribute"``."""
    module_name, _sep, attribute = target.partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is a {type(command).__name__}, not a click command")
    return command
