"""The real ``gittrack`` entry point, run in-process."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest


@dataclasses.dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


Cli = Callable[..., CliResult]


def invoker(capsys: pytest.CaptureFixture[str]) -> Cli:
    """``invoke(*args)``: run ``gittrack args`` in this process; exit code and output."""
    from gittrack.cli.main import main

    def invoke(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return invoke
