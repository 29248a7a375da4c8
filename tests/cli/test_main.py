"""The `gittrack` group: every command is listed and runs, yet none is imported before use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest

import gittrack
from gittrack.cli import main as cli_main
from gittrack.cli.lazy import load_command
from tests.helpers.cli import CliResult
from tests.helpers.repos import git

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


# --- the top level: exit 70 only for a bug -------------------------------------------------


def gittrack_cli(args: list[str | bytes], cwd: Path, **kwargs: object
                 ) -> subprocess.CompletedProcess[bytes]:
    """`gittrack ARGS` in a fresh interpreter, arguments as raw bytes where given."""
    base: dict[str, str] = kwargs.pop("env", None) or dict(os.environ)  # type: ignore[assignment]
    env = {**base, "PYTHONPATH": os.pathsep.join(
        p for p in (str(CHECKOUT), os.environ.get("PYTHONPATH", "")) if p)}
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    return subprocess.run(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-m", "gittrack.cli.main", *args], cwd=cwd, env=env, **streams)


def test_a_full_disk_is_one_line_and_its_own_exit_code(repo: Path, make_run: MakeRun) -> None:
    make_run()
    with open("/dev/full", "wb") as full:  # a real device: every write fails with ENOSPC
        result = gittrack_cli(["runs", "--json"], repo, stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == cli_main.IO_ERROR_EXIT == 74
    assert result.stderr.decode() == "gittrack: error: No space left on device\n"


@pytest.fixture
def read_only_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs that the test can turn read-only (``mount -o remount,ro``)."""
    from tests.helpers.disks import tmpfs

    with tmpfs(tmp_path / "mnt", "16m") as mount:
        yield mount


def test_a_read_only_repository_names_the_file(
    read_only_tmpfs: Path, fast_settings: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers.repos import make_repo

    repo = make_repo(read_only_tmpfs / "project")
    monkeypatch.chdir(repo)
    run = gittrack.init(settings=fast_settings)
    run.log({"a": 1})
    run.finish()
    subprocess.run(["mount", "-o", "remount,ro", str(read_only_tmpfs)], check=True)
    result = gittrack_cli(["rm", "-y", run.id], repo)
    stderr = result.stderr.decode()
    assert result.returncode not in (0, cli_main.INTERNAL_ERROR_EXIT), stderr
    assert stderr.count("\n") == 1 and "Read-only file system" in stderr, stderr
    assert str(repo / ".git") in stderr  # names the file
    listed = gittrack_cli(["runs"], repo)
    assert listed.returncode == 0 and run.id in listed.stdout.decode()


@pytest.mark.parametrize(("error", "code", "text"), [
    (RecursionError("maximum recursion depth exceeded"), 6, "nested too deeply"),
    (MemoryError(), 6, "out of memory"),
    (PermissionError(13, "Permission denied", "/x/y"), 74, "cannot access /x/y: Permission"),
    (OSError(30, "Read-only file system", "/r/.git/x.lock"), 74,
     "cannot write /r/.git/x.lock: Read-only file system"),
    (ZeroDivisionError("division by zero"), 70,
     "internal error: ZeroDivisionError: division by zero — this is a bug, please report it"),
])
def test_what_escapes_a_command(
    repo: Path, cli: Cli, make_run: MakeRun, monkeypatch: pytest.MonkeyPatch,
    error: BaseException, code: int, text: str,
) -> None:
    """No real input is known to raise these any more: a command is made to, to pin the
    top level's answer for whatever is left."""
    from gittrack.cli import runs_cmd

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    make_run()
    monkeypatch.setattr(runs_cmd, "list_selection", fail)
    result = cli("runs")
    assert result.exit_code == code
    assert result.stderr.startswith(f"gittrack: {'' if code == 70 else 'error: '}")
    assert text in result.stderr and result.stderr.count("\n") == 1
    with pytest.raises(type(error)):
        cli("--debug", "runs")


def test_gittrack_warnings_are_one_line_and_never_errors(
    repo: Path, cli: Cli, make_run: MakeRun
) -> None:
    from tests.helpers.forge_runs import forge_run

    make_run(name="good")
    forge_run(repo, "forged", {"run.yaml": b"format: 1\nid: forged\nname: good\n",
                               "config.yaml": b"a: &x 1\nb: *x\n"})
    result = cli("show", "good")  # by name: every run is read, the forged one is skipped
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("gittrack: warning: skipping run forged: cannot read "
                                    "config.yaml of commit")


NOT_UTF8 = b"caf\xe9"


@pytest.mark.parametrize("args", [
    [b"runs", b"-f", b"config.name=" + NOT_UTF8],
    [b"runs", b"--tag", NOT_UTF8],
    [b"show", NOT_UTF8],
    [b"log", b"x", b"-k", NOT_UTF8],
    [b"export", b"x", b"-o", NOT_UTF8],
    [b"storage", b"set", b"/tmp/" + NOT_UTF8],
    [b"storage", b"set", b"/tmp/x", b"--option", b"key=" + NOT_UTF8],
    [b"artifact", b"get", NOT_UTF8 + b":latest"],
    [b"-C", NOT_UTF8, b"runs"],
])
def test_arguments_that_are_not_utf8_are_refused_naming_them(
    repo: Path, make_run: MakeRun, args: list[bytes]
) -> None:
    make_run()
    before = git(repo, "status", "--porcelain", "--ignored")
    result = gittrack_cli(list(args), repo)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (b"gittrack: error: argument " + repr(
        next(a for a in args if b"\xe9" in a)).encode()[1:] + b" is not UTF-8 text: "
        b"gittrack reads names, keys, values and paths as UTF-8\n")
    assert git(repo, "status", "--porcelain", "--ignored") == before  # no temporary file


def test_a_repository_in_the_environment_must_be_utf8_too(repo: Path) -> None:
    env = {**os.environ, "GITTRACK_REPO": os.fsdecode(b"/tmp/caf\xe9")}
    result = gittrack_cli(["runs"], repo, env=env)
    assert result.returncode == 2
    assert result.stderr == b"gittrack: error: GITTRACK_REPO='/tmp/caf\\xe9' is not UTF-8 text\n"


def test_the_console_entry_flushes_everything_and_keeps_each_exit_code(repo: Path) -> None:
    """``console_main`` leaves with ``os._exit`` (no interpreter teardown, where pyarrow's
    threads could abort a successful command): output must still arrive whole, Python's exit
    handlers must still run, and every exit code must be the command's own."""
    with gittrack.init(project="p", id="wide", settings={"quiet": True}) as run:
        for step in range(2000):
            run.log({"loss": 1.0 / (step + 1)})
    done = subprocess.run([sys.executable, "-m", "gittrack", "log", "wide", "--all", "--json"],
                          cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 2000
    missing = subprocess.run([sys.executable, "-m", "gittrack", "show", "nope"], cwd=repo,
                             capture_output=True, text=True)
    assert missing.returncode == 4 and missing.stderr.startswith("gittrack: error: no run")
    code = ("import atexit, sys\n"
            "from gittrack.cli import main\n"
            "atexit.register(lambda: print('handlers ran', file=sys.stderr))\n"
            "sys.argv = ['gittrack', 'show', 'nope']\n"
            "main.console_main()\n")
    handled = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True,
                             text=True)
    assert handled.returncode == 4 and "handlers ran" in handled.stderr


@pytest.mark.parametrize(("code", "expected"), [(None, 0), (0, 0), (5, 5), ("bye", 1)])
def test_exit_codes_as_python_gives_them(code: object, expected: int,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main._exit_code(code) == expected
    assert capsys.readouterr().err == ("bye\n" if code == "bye" else "")
