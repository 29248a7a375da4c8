"""The process-wide session: init/log/finish, reinit, gittrack.run, repositories, at exit."""

from __future__ import annotations

import importlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pygit2
import pytest

import gittrack
from gittrack.api import session
from gittrack.errors import (
    GittrackError,
    InvalidSettingError,
    NotAGitRepositoryError,
    RepositoryError,
)
from tests.helpers.repos import git, make_repo

QUIET = {"quiet": True, "checkpoint_interval": 0.2}


def test_module_level_init_log_finish(repo: Path) -> None:
    assert gittrack.run is None
    run = gittrack.init(config={"lr": 1}, settings=QUIET)
    assert gittrack.run is run
    assert gittrack.current_run() is run
    gittrack.define_metric("loss", summary="min")
    gittrack.log({"loss": 2.0})
    gittrack.log({"loss": 1.0, "extra": 1}, commit=False)
    gittrack.log({"loss": 3.0}, step=5)
    gittrack.finish()
    assert gittrack.run is None
    view = gittrack.Api(".").run(run.id)
    assert view.state == "finished"
    assert [(r["_step"], r["loss"]) for r in view.scan_history()] == [(0, 2.0), (1, 1.0), (5, 3.0)]
    assert view.summary == {"loss": {"min": 1.0}, "extra": 1}


def test_log_before_init(repo: Path) -> None:
    with pytest.raises(GittrackError, match=r"before gittrack.init\(\)"):
        gittrack.log({"a": 1})
    with pytest.raises(GittrackError, match=r"before gittrack.init\(\)"):
        gittrack.define_metric("a")


def test_calls_before_init_raise_one_error_class(repo: Path) -> None:
    calls = {
        "gittrack.log()": lambda: gittrack.log({"a": 1}),
        "gittrack.define_metric()": lambda: gittrack.define_metric("a"),
        "gittrack.log_artifact()": lambda: gittrack.log_artifact(gittrack.Artifact("a", "data")),
        "gittrack.use_artifact()": lambda: gittrack.use_artifact("a"),
        "gittrack.config": lambda: gittrack.config,
        "gittrack.summary": lambda: gittrack.summary,
    }
    for what, call in calls.items():
        with pytest.raises(gittrack.NoActiveRunError) as caught:
            call()
        assert str(caught.value) == f"{what} called before gittrack.init()"
        assert isinstance(caught.value, gittrack.UsageError)


def test_define_metric_takes_wandb_parameters_and_refuses_others(
    repo: Path, fast_settings: dict[str, object]
) -> None:
    with gittrack.init(settings=fast_settings):
        spec = gittrack.define_metric("loss", step_metric="epoch", step_sync=True, hidden=None,
                                      summary="min", goal="minimize", overwrite=True)
        assert (spec.name, spec.step_metric, spec.summary, spec.goal, spec.hidden) == (
            "loss", "epoch", ("min",), "minimize", False)
        assert gittrack.define_metric("acc", None, None, True, "max").summary == ("max",)
        with pytest.raises(TypeError, match="no_such"):
            gittrack.define_metric("x", no_such=1)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="no_such"):
            gittrack.run.define_metric("x", no_such=1)  # type: ignore[call-arg, union-attr]


def test_unknown_module_attribute() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = gittrack.no_such_thing


def test_finish_with_an_exit_code(repo: Path) -> None:
    run = gittrack.init(settings=QUIET)
    gittrack.finish(exit_code=2)
    assert gittrack.Api(".").run(run.id).state == "failed"


# -- reinit --------------------------------------------------------------------------------------
def test_reinit_finish_previous_is_the_default(repo: Path) -> None:
    first = gittrack.init(settings=QUIET)
    second = gittrack.init(settings=QUIET)
    assert first.state == "finished" and second.state == "running"
    assert gittrack.run is second
    second.finish()
    assert gittrack.Api(".").run(first.id).state == "finished"


@pytest.mark.parametrize("reinit", [True, False])
def test_reinit_bools_finish_the_previous_run(repo: Path, reinit: bool) -> None:
    first = gittrack.init(settings=QUIET)
    second = gittrack.init(settings={**QUIET, "reinit": reinit})
    assert first.state == "finished"
    second.finish()


def test_reinit_create_new_keeps_both(repo: Path) -> None:
    first = gittrack.init(settings=QUIET)
    second = gittrack.init(settings={**QUIET, "reinit": "create_new"})
    assert first.state == second.state == "running"
    assert gittrack.run is second
    gittrack.log({"to": "second"})
    first.log({"to": "first"})
    second.finish()
    assert gittrack.run is first  # the most recent run still active
    gittrack.log({"to": "first again"})
    gittrack.finish()
    api = gittrack.Api(".")
    assert [r["to"] for r in api.run(first.id).scan_history()] == ["first", "first again"]
    assert [r["to"] for r in api.run(second.id).scan_history()] == ["second"]


def test_reinit_return_previous(repo: Path) -> None:
    first = gittrack.init(settings=QUIET)
    again = gittrack.init(settings={**QUIET, "reinit": "return_previous"})
    assert again is first and first.state == "running"
    first.finish()
    fresh = gittrack.init(settings={**QUIET, "reinit": "return_previous"})
    assert fresh is not first
    fresh.finish()


def test_finish_finishes_every_active_run(repo: Path) -> None:
    runs = [gittrack.init(settings={**QUIET, "reinit": "create_new"}) for _ in range(3)]
    gittrack.finish()
    assert [r.state for r in runs] == ["finished"] * 3


# -- settings ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"checkpoint_every": 1}, "unknown setting 'checkpoint_every'"),
        ({"checkpoint_interval": 0}, "checkpoint_interval"),
        ({"checkpoint_rows": 0}, "checkpoint_rows"),
        ({"out_of_order": "drop"}, "out_of_order"),
        ({"reinit": "sometimes"}, "reinit"),
        ("quiet", "settings must be"),
        ({"checkpoint_interval": "fast"}, "checkpoint_interval"),
        ({"checkpoint_rows": 2.5}, "checkpoint_rows"),
    ],
)
def test_bad_settings(repo: Path, settings: object, message: str) -> None:
    with pytest.raises(InvalidSettingError, match=message):
        gittrack.init(settings=settings)  # type: ignore[arg-type]
    assert gittrack.Api(".").runs() == []


def test_settings_object(repo: Path) -> None:
    run = gittrack.init(settings=gittrack.Settings(quiet=True, checkpoint_interval=1.0))
    run.finish()


def test_init_and_finish_print_one_line_unless_quiet(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITTRACK_QUIET")
    run = gittrack.init(settings={"quiet": False})
    run.finish()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all(run.id in line for line in lines)
    assert "recording to refs/gittrack/runs/" in lines[0] and "finished" in lines[1]
    quiet = gittrack.init(settings={"quiet": True})
    quiet.finish()
    assert capsys.readouterr().err == ""


# -- repositories --------------------------------------------------------------------------------
def test_outside_a_git_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    monkeypatch.chdir(outside)
    with pytest.raises(NotAGitRepositoryError, match="`git init`") as info:
        gittrack.init(settings=QUIET)
    assert str(outside) in str(info.value)
    assert isinstance(info.value, RepositoryError)
    with pytest.raises(NotAGitRepositoryError, match="`git init`"):
        gittrack.Api(".")
    with pytest.raises(NotAGitRepositoryError, match="does not exist"):
        gittrack.init(repo=tmp_path / "missing", settings=QUIET)


def test_repo_argument_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = make_repo(tmp_path / "elsewhere")
    monkeypatch.chdir(tmp_path)
    run = gittrack.init(repo=elsewhere, settings=QUIET)
    run.finish()
    monkeypatch.setenv("GITTRACK_REPO", str(elsewhere))
    other = gittrack.init(settings=QUIET)
    other.finish()
    assert {v.id for v in gittrack.Api(elsewhere).runs()} == {run.id, other.id}


def test_from_a_subfolder(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "src" / "deep").mkdir(parents=True)
    monkeypatch.chdir(repo / "src" / "deep")
    run = gittrack.init(settings=QUIET)
    run.finish()
    assert git(repo, "rev-parse", run.ref).strip() == run.commit


def test_a_repository_without_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_repo(tmp_path / "empty", commit=False)
    monkeypatch.chdir(path)
    run = gittrack.init(settings=QUIET)
    run.log({"a": 1})
    run.finish()
    view = gittrack.Api(".").run(run.id)
    assert view.state == "finished"
    assert view.metadata["code"]["commit"] is None
    assert view.metadata["code"]["branch"] == "main"
    assert [r["a"] for r in view.scan_history()] == [1]
    assert git(path, "for-each-ref", "refs/heads") == ""  # no branch was created


def test_a_detached_head(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "--detach")
    run = gittrack.init(settings=QUIET)
    run.finish()
    code = gittrack.Api(".").run(run.id).metadata["code"]
    assert code["branch"] is None and code["commit"] == sha


def test_a_dirty_work_tree_and_remote(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://user:tok@example.com/o/r.git")
    (repo / "train.py").write_text("changed\n")
    run = gittrack.init(settings=QUIET)
    run.finish()
    code = gittrack.Api(".").run(run.id).metadata["code"]
    assert code["dirty"] is True
    assert code["remote"] == "https://example.com/o/r.git"
    assert "tok" not in git(repo, "show", f"{run.ref}:run.yaml")


def test_runs_touch_no_branch_index_or_work_tree(repo: Path) -> None:
    before = (git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"),
              git(repo, "for-each-ref", "refs/heads"), (repo / ".git" / "index").read_bytes())
    run = gittrack.init(settings=QUIET)
    run.log({"a": 1})
    run.finish()
    after = (git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"),
             git(repo, "for-each-ref", "refs/heads"), (repo / ".git" / "index").read_bytes())
    assert after == before


def test_gittrack_folder_that_cannot_be_created(repo: Path) -> None:
    # Works as root too: a file where gittrack's folder should be cannot become a folder.
    blocker = repo / ".git" / "gittrack"
    blocker.write_text("in the way")
    with pytest.raises(RepositoryError, match=str(blocker)):
        gittrack.init(settings=QUIET)
    assert gittrack.Api(".").runs() == []


@pytest.fixture
def shared_repo() -> Iterator[Path]:
    """A repository another user can read but not write (outside root's private tmp)."""
    base = Path(tempfile.mkdtemp(prefix="gittrack-ro-", dir="/tmp"))
    try:
        base.chmod(0o755)
        (base / ".gitconfig").write_text("[safe]\n\tdirectory = *\n")
        path = make_repo(base / "repo")
        for p in [path, *path.rglob("*")]:
            if p.is_dir():
                p.chmod(0o755)
        yield path
    finally:
        for p in base.rglob("*"):  # a test may have made folders read-only
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


def as_other_user(path: Path, action: Callable[[], object]) -> str:
    """Run ``action`` without write permission on ``path``; the error's repr, or "ok".

    As root, permission bits do not stop writes, so a forked child drops to ``nobody``.
    """
    # Modules gittrack imports lazily: import them now, while their files are readable.
    for module in ("_strptime", "pyarrow.parquet", "concurrent.futures.thread"):
        importlib.import_module(module)

    if os.geteuid() != 0:
        try:
            action()
            return "ok"
        except BaseException as exc:
            return repr(exc)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        result = "?"
        try:
            for level in (pygit2.enums.ConfigLevel.GLOBAL, pygit2.enums.ConfigLevel.XDG,
                          pygit2.enums.ConfigLevel.SYSTEM):
                pygit2.settings.search_path[level] = str(path.parent)
            os.setgid(65534)
            os.setuid(65534)
            action()
            result = "ok"
        except BaseException as exc:
            result = repr(exc)
        finally:
            os.write(write_end, result.encode())
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        return pipe.read().decode()


def init_and_log(path: Path) -> Callable[[], object]:
    def action() -> None:
        run = gittrack.init(repo=path, settings=QUIET)
        run.log({"a": 1})
        run.finish()

    return action


def test_a_read_only_git_folder(shared_repo: Path) -> None:
    if os.geteuid() != 0:  # pragma: no cover - CI runs as root
        for p in [shared_repo / ".git", *(shared_repo / ".git").rglob("*")]:
            if p.is_dir():
                p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    result = as_other_user(shared_repo, init_and_log(shared_repo))
    assert result.startswith("RepositoryError("), result
    assert str(shared_repo / ".git" / "gittrack") in result
    assert "Permission denied" in result
    assert git(shared_repo, "for-each-ref", "refs/gittrack") == ""


def test_read_only_git_objects(shared_repo: Path) -> None:
    # gittrack's own folder and the refs are writable, the object store is not.
    (shared_repo / ".git" / "gittrack" / "wal").mkdir(parents=True)
    for p in [shared_repo / ".git" / "gittrack", shared_repo / ".git" / "gittrack" / "wal",
              *(shared_repo / ".git" / "refs").rglob("*"), shared_repo / ".git" / "refs"]:
        p.chmod(0o777)
    if os.geteuid() != 0:  # pragma: no cover - CI runs as root
        for p in [shared_repo / ".git" / "objects", *(shared_repo / ".git" / "objects").rglob("*")]:
            if p.is_dir():
                p.chmod(0o555)
    result = as_other_user(shared_repo, init_and_log(shared_repo))
    assert result.startswith("RepositoryError("), result
    assert str(shared_repo / ".git") in result
    assert list((shared_repo / ".git" / "gittrack" / "wal").iterdir()) == []  # cleaned up


def test_a_run_live_in_a_read_only_repository_is_not_reported(shared_repo: Path) -> None:
    # A reader who cannot write .git (a teammate on a shared machine) sees a live run as
    # running, without a warning that it crashed: its lock is looked at, not taken.
    run = gittrack.init(repo=shared_repo, id="live", settings=QUIET)
    run.log({"a": 1})

    def read() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert gittrack.Api(shared_repo).run("live").state == "running"

    try:
        assert as_other_user(shared_repo, read) == "ok"
    finally:
        run.finish()


# -- at exit ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "state", "exit_code"),
    [
        ("run.log({'a': 1})", "finished", 0),
        ("run.log({'a': 1}); raise SystemExit(0)", "finished", 0),
        ("run.log({'a': 1}); raise ValueError('boom')", "failed", 1),
        ("gittrack.log({'a': 1}); 1/0", "failed", 1),
    ],
)
def test_open_runs_are_finished_at_exit(
    repo: Path, body: str, state: str, exit_code: int
) -> None:
    code = ("import gittrack\n"
            "run = gittrack.init(settings={'quiet': True})\n"
            "print(run.id, flush=True)\n"
            f"{body}\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True,
                          text=True)
    run_id = proc.stdout.strip()
    view = gittrack.Api(".").run(run_id)
    assert view.state == state, proc.stderr
    assert view.metadata["exit_code"] == exit_code
    assert [r["a"] for r in view.scan_history()] == [1]
    assert not (repo / ".git" / "gittrack" / "wal" / run_id).exists()


def test_uncaught_exception_is_still_reported(repo: Path) -> None:
    code = ("import gittrack\n"
            "run = gittrack.init(settings={'quiet': True})\n"
            "raise RuntimeError('the training failed')\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True,
                          text=True)
    assert proc.returncode == 1
    assert "RuntimeError: the training failed" in proc.stderr  # the previous excepthook ran


def test_session_state_is_per_process(repo: Path) -> None:
    run = gittrack.init(settings=QUIET)
    assert session._active == [run]
    run.finish()
    assert gittrack.current_run() is None


def test_module_level_config_and_summary_follow_the_current_run(
    repo: Path, fast_settings: dict[str, object]
) -> None:
    run = gittrack.init(config={"lr": 0.1}, settings=fast_settings)
    gittrack.config.update({"batch": 32})
    gittrack.log({"loss": 0.5})
    assert gittrack.config["lr"] == 0.1
    assert gittrack.summary["loss"] == 0.5
    run.finish()
    assert gittrack.Api(".").run(run.id).config == {"lr": 0.1, "batch": 32}
    with pytest.raises(gittrack.GittrackError, match=r"before gittrack\.init"):
        _ = gittrack.config


def test_module_level_log_follows_runs_finished_directly(repo: Path) -> None:
    """``gittrack.log`` keeps the current run without taking the session lock: a run
    finished by ``run.finish()`` (not through the session) is no longer the current one."""
    first = gittrack.init(settings=QUIET)
    gittrack.log({"a": 1.0}, step=0)
    first.finish()
    with pytest.raises(gittrack.NoActiveRunError, match=r"gittrack\.log\(\) called before"):
        gittrack.log({"a": 2.0}, step=1)
    second = gittrack.init(settings=QUIET)
    gittrack.log({"a": 3.0}, step=7)
    gittrack.finish()
    with pytest.raises(gittrack.NoActiveRunError):
        gittrack.log({"a": 4.0})
    api = gittrack.Api(".")
    assert [(r["_step"], r["a"]) for r in api.run(first.id).scan_history()] == [(0, 1.0)]
    assert [(r["_step"], r["a"]) for r in api.run(second.id).scan_history()] == [(7, 3.0)]
