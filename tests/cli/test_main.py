"""The `gittrack` group: every command is listed and runs, yet none is imported before use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

import gittrack
from gittrack.cli import main as cli_main
from gittrack.cli.lazy import load_command
from tests.conftest import CliResult, git

Cli = Callable[..., CliResult]
MakeRun = Callable[..., str]
CHECKOUT = Path(gittrack.__file__).resolve().parent.parent
COMMANDS = sorted(cli_main.COMMANDS)
# What only some commands need; none of it may load before a command that needs it runs.
HEAVY = ("fsspec", "s3fs", "pyarrow", "pandas", "polars", "numpy", "rich", "pyrage", "yaml")


def loaded(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `gittrack ARGS` in a fresh interpreter; also return the modules it imported."""
    code = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print('\\nMODULES ' + json.dumps(sorted(sys.modules))))\n"
        "from gittrack.cli.main import main\n"
        f"main({args!r})\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(CHECKOUT), os.environ.get("PYTHONPATH", "")) if p)}
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                            text=True, env=env)
    marker = result.stdout.rindex("\nMODULES ")
    modules = set(json.loads(result.stdout[marker + len("\nMODULES "):]))
    return result, modules


def command_modules(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith("gittrack.cli.") and m.endswith("_cmd")}


def test_table_matches_the_commands() -> None:
    for name in COMMANDS:
        command = load_command(cli_main.COMMANDS[name][0])
        assert command.name == name
        assert not command.hidden, name
        # The help list shows the table's text: it must be what the command itself says.
        assert command.get_short_help_str(limit=10_000) == cli_main.COMMANDS[name][1], name


def test_every_command_module_is_in_the_table() -> None:
    targets = {target for target, _ in cli_main.COMMANDS.values()}
    for path in sorted((CHECKOUT / "gittrack" / "cli").glob("*_cmd.py")):
        module = f"gittrack.cli.{path.stem}"
        for attribute, value in vars(__import__(module, fromlist=["_"])).items():
            if isinstance(value, click.Command) and value.__module__ == module:
                assert f"{module}:{attribute}" in targets, f"{module}:{attribute} is not listed"


@pytest.mark.parametrize("width", [40, 80, 200])
def test_help_lists_every_command_as_click_would(
    cli: Cli, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    eager = click.Group("gittrack", params=cli_main.cli.params, help=cli_main.cli.help,
                        context_settings=cli_main.cli.context_settings)
    for name in COMMANDS:
        eager.add_command(load_command(cli_main.COMMANDS[name][0]), name)
    expected = eager.get_help(click.Context(eager, info_name="gittrack", **eager.context_settings))
    result = cli("--help")
    assert result.exit_code == 0
    assert result.stdout == expected + "\n"
    listed = result.stdout.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed] == COMMANDS


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(cli: Cli, name: str) -> None:
    result = cli(name, "--help")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Usage: gittrack {name} ")
    command = load_command(cli_main.COMMANDS[name][0])
    if isinstance(command, click.Group):
        for sub in command.list_commands(click.Context(command)):
            result = cli(name, sub, "--help")
            assert result.exit_code == 0, (sub, result.stderr)
            assert result.stdout.startswith(f"Usage: gittrack {name} {sub} ")


def test_unknown_command(cli: Cli) -> None:
    result = cli("nosuch")
    assert result.exit_code == 2
    assert "No such command 'nosuch'" in result.stderr


def test_help_imports_no_command(tmp_path: Path) -> None:
    result, modules = loaded(["--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Commands:" in result.stdout
    assert command_modules(modules) == set()
    assert {"pygit2", *HEAVY} & modules == set()


def test_a_command_imports_only_itself(tmp_path: Path) -> None:
    result, modules = loaded(["remote", "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert command_modules(modules) == {"gittrack.cli.remote_cmd"}


def test_up_to_date_push_and_pull_stay_light(
    repo: Path, tmp_path: Path, make_run: MakeRun
) -> None:
    # issue 4: a push or pull with nothing to send is measured against a plain `git push`;
    # the blob store (fsspec), YAML, Parquet and rich are not needed to find that out.
    make_run()
    git(tmp_path, "init", "-q", "--bare", "-b", "main", "remote.git")
    git(repo, "remote", "add", "origin", str(tmp_path / "remote.git"))
    git(repo, "push", "-q", "origin", "main")
    first, _ = loaded(["push"], repo)
    assert first.returncode == 0, first.stderr
    for args in (["push"], ["pull"]):
        result, modules = loaded(args, repo)
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout
        assert set(HEAVY) & modules == set(), args
