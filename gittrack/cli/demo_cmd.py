"""`gittrack demo`: train a tiny model in a throwaway repository, then show the run.

The repository is made with the ``git`` command line (so it is an ordinary repository) with an
identity given on the command line, so it works where no git identity is configured; the
user's own repository and configuration are never touched.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from gittrack.cli.console import make_console
from gittrack.cli.context import CliContext
from gittrack.cli.runs_cmd import print_runs
from gittrack.cli.selection import Selection, select_runs
from gittrack.cli.show_cmd import print_run
from gittrack.errors import RepositoryError, UsageError
from gittrack.runs.resolve import resolve_run
from gittrack.types import RunId

# No identity, signing or hooks from the user's configuration may break (or see) the demo.
_GIT_CONFIG = (
    "-c", "user.name=gittrack demo", "-c", "user.email=demo@gittrack.invalid",
    "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main",
    "-c", "core.hooksPath=/dev/null",
)
_README = """\
# gittrack demo

A throwaway repository made by `gittrack demo`. Its runs live on hidden refs:

    git for-each-ref refs/gittrack/runs
    gittrack runs
"""


@click.command("demo")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              metavar="PATH", help="Make the demo repository at PATH (a new or empty folder; "
                                   "kept) instead of a temporary folder.")
@click.option("--steps", type=click.IntRange(1, 100_000), default=300, show_default=True,
              metavar="N", help="Training steps.")
@click.option("--keep", is_flag=True,
              help="Keep the temporary repository afterwards, to look around in it.")
def command(directory: Path | None, steps: int, keep: bool) -> None:
    """Try gittrack: train a tiny numpy model in a throwaway git repository, show the run."""
    keep = keep or directory is not None  # a folder the user named is never deleted
    path = _prepare(directory)
    console = make_console()
    try:
        console.print(f"gittrack demo: a throwaway git repository in {path}")
        run_id = run_demo(path, steps, console)
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)
    _epilogue(console, path, run_id, keep)


def run_demo(path: Path, steps: int, console: Console) -> RunId:
    """Make the repository, train, print `gittrack runs` and `gittrack show`; the run's id."""
    init_repo(path)
    console.print(f"training a tiny MLP on two half-moons for {steps} steps ...")
    run_id = _train(path, steps)
    repo = CliContext(repo=str(path)).git()
    _heading(console, "gittrack runs")
    print_runs(console, select_runs(repo, Selection()))
    _heading(console, f"gittrack show {run_id}")
    print_run(console, resolve_run(repo, run_id))
    return run_id


def _train(path: Path, steps: int) -> RunId:
    from gittrack.api.session import init
    from gittrack.cli.demo_train import DemoConfig, train

    config = DemoConfig(steps=steps)
    with init(repo=path, project="gittrack-demo", config=dataclasses.asdict(config),
              tags=["demo"], notes="made by `gittrack demo`",
              settings={"quiet": True, "reinit": "create_new"}) as run:
        train(run, config)
    return run.id


def _prepare(directory: Path | None) -> Path:
    if directory is None:
        return Path(tempfile.mkdtemp(prefix="gittrack-demo-")).resolve()
    path = directory.expanduser().resolve()
    if path.exists() and any(path.iterdir()):
        raise UsageError(f"{path} is not empty: give `--dir` a new or empty folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RepositoryError(f"cannot create {path}: {exc.strerror or exc}") from None
    return path


def init_repo(path: Path) -> None:
    """``git init`` and a first commit at ``path``, whatever the user's git configuration."""
    (path / "README.md").write_text(_README, encoding="utf-8")
    _git(path, "init", "-q")
    _git(path, "add", "README.md")
    _git(path, "commit", "-q", "--no-verify", "-m", "gittrack demo")


def _git(path: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}  # no GIT_DIR etc.
    try:
        subprocess.run(["git", *_GIT_CONFIG, *args], cwd=path, env=env, check=True,
                       capture_output=True, text=True)
    except FileNotFoundError:
        raise RepositoryError("the demo needs the `git` command line: install git") from None
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or exc.stdout or "").strip().splitlines()
        raise RepositoryError(
            f"`git {args[0]}` failed in {path}: {detail[-1] if detail else exc.returncode}"
        ) from None


def _heading(console: Console, command: str) -> None:
    console.print()
    console.print(Text(f"$ {command}", style="bold magenta"))


def _epilogue(console: Console, path: Path, run_id: RunId, keep: bool) -> None:
    console.print()
    if not keep:
        console.print("The demo repository has been deleted; `gittrack demo --keep` keeps it "
                      "to look around in.")
        return
    console.print(f"The demo repository is at {path}. Try:")
    console.print(f"  cd {path} && gittrack log {run_id[:10]} -k val/acc -k train/loss")
    console.print(f"It is a throwaway: delete it with `rm -rf {path}` when you are done.")
