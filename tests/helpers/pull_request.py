"""A pull request's runs for the report tests: runs on main, on a feature branch one commit
later, and on another branch."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.repos import git
from tests.helpers.runs import start_run


def _run(name: str, losses: list[float], lr: float, settings: dict[str, object]) -> str:
    run = start_run(id=name, name=name, project="p", config={"lr": lr, "seed": 1},
                    settings=settings)
    run.define_metric("loss", goal="minimize")
    run.define_metric("acc", summary="max")
    for loss in losses:
        run.log({"loss": loss, "acc": 1 - loss})
    run.finish()
    return run.id


def commit(repo: Path, message: str) -> None:
    with (repo / "train.py").open("a") as f:
        f.write(f"# {message}\n")
    git(repo, "add", "train.py")
    git(repo, "commit", "-q", "-m", message)


def make_pull_request(repo: Path, fast_settings: dict[str, object]) -> dict[str, str]:
    """main: runs old (loss 0.6) and main-best (0.4); branch feature, one commit later: fast
    (0.5) and slow (0.3); branch other: stray (0.1), in neither side."""
    _run("old", [0.9, 0.6], 0.1, fast_settings)
    _run("main-best", [0.8, 0.4], 0.05, fast_settings)
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "warmup")
    _run("fast", [0.7, 0.5], 0.2, fast_settings)
    _run("slow", [0.6, 0.3], 0.01, fast_settings)
    git(repo, "checkout", "-q", "-b", "other", "main")
    commit(repo, "elsewhere")
    _run("stray", [0.5, 0.1], 0.5, fast_settings)
    git(repo, "checkout", "-q", "feature")
    return {"main": git(repo, "rev-parse", "main").strip()}
