"""Starting and resuming runs (``init(resume=..., id=...)``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import gittrack
from gittrack.errors import (
    GittrackWarning,
    InvalidKeyError,
    InvalidSettingError,
    InvalidValueError,
    NotFoundError,
    RepositoryError,
    RunExistsError,
    RunLockedError,
)
from gittrack.runs.wal import read_records
from tests.helpers.processes import (
    EXIT,
    held,
    kill_in_worktree,
    linked_worktree,
    live_script,
    run_python,
    training_script,
)
from tests.helpers.repos import git, make_repo
from tests.helpers.runs import FAST, start_run
from tests.helpers.values import SURROGATE, deep


def steps_of(run_id: str) -> list[tuple[int, Any]]:
    view = gittrack.Api(".").run(run_id)
    return [(r["_step"], r.get("loss")) for r in view.scan_history()]


def first_session(**kwargs: Any) -> gittrack.Run:
    run = start_run(id="exp-1", config={"lr": 0.1, "bs": 8}, tags=["a"], **kwargs)
    run.define_metric("loss", summary="min,mean")
    for loss in (4.0, 2.0, 3.0):
        run.log({"loss": loss})
    run.finish()
    return run


@pytest.mark.parametrize("resume", ["allow", "must", True, "exp-1", "exp-"])
def test_resume_continues_steps_summary_and_config(repo: Path, resume: Any) -> None:
    first = first_session()
    created = gittrack.Api(".").run(first.id).created_at
    again = start_run(id="exp-1" if resume in ("allow", "must", True) else None, resume=resume,
                  config={"bs": 16}, tags=["b"])
    assert again.id == first.id
    assert again.step == 3
    assert dict(again.config) == {"lr": 0.1, "bs": 16}
    again.log({"loss": 1.0})
    again.log({"other": 5})
    again.finish()
    assert steps_of(first.id) == [(0, 4.0), (1, 2.0), (2, 3.0), (3, 1.0), (4, None)]
    view = gittrack.Api(".").run(first.id)
    assert view.summary["loss"] == {"min": 1.0, "mean": 2.5}  # statistics over both sessions
    assert view.config == {"lr": 0.1, "bs": 16}
    assert view.tags == ["a", "b"]
    assert view.metadata["resumed"] == 1
    assert view.state == "finished"
    assert view.created_at == created  # still the same run
    # one chain: the resumed checkpoints sit on top of the first session's
    assert first.commit and again.commit
    assert git(repo, "merge-base", "--is-ancestor", first.commit, again.commit) == ""


def test_resume_by_name(repo: Path) -> None:
    first = start_run(name="baseline")
    first.log({"loss": 1.0})
    first.finish()
    again = start_run(resume="baseline")
    assert again.id == first.id and again.step == 1
    again.finish()


def test_resume_keeps_an_open_explicit_step_numbering(repo: Path) -> None:
    run = start_run(id="exp-2")
    run.log({"loss": 1.0}, step=10)
    run.finish()
    again = start_run(id="exp-2", resume="must")
    assert again.step == 11
    again.log({"loss": 2.0})
    again.finish()
    assert steps_of("exp-2") == [(10, 1.0), (11, 2.0)]


def test_resume_allow_creates_a_missing_run(repo: Path) -> None:
    run = start_run(id="fresh", resume="allow")
    assert run.id == "fresh" and run.step == 0
    run.finish()
    assert gittrack.Api(".").run("fresh").state == "finished"


def test_resume_must_needs_the_run(repo: Path) -> None:
    with pytest.raises(NotFoundError, match="missing"):
        start_run(id="missing", resume="must")
    with pytest.raises(NotFoundError, match="missing"):
        start_run(id="missing", resume=True)
    with pytest.raises(NotFoundError):
        start_run(resume="no-such-name")
    assert gittrack.Api(".").runs() == []


def test_resume_never_and_none_refuse_an_existing_id(repo: Path) -> None:
    first_session()
    with pytest.raises(RunExistsError, match="exp-1"):
        start_run(id="exp-1", resume="never")
    with pytest.raises(RunExistsError, match="resume="):
        start_run(id="exp-1")
    assert steps_of("exp-1") == [(0, 4.0), (1, 2.0), (2, 3.0)]  # untouched
    run = start_run(resume="never")  # no id: simply a new run
    assert run.id != "exp-1"
    run.finish()


def test_resume_allow_without_an_id_starts_a_new_run(repo: Path) -> None:
    run = start_run(resume="allow")
    assert run.step == 0
    run.finish()


def test_resume_auto_continues_the_latest_crashed_run(repo: Path) -> None:
    code = training_script(settings="{'quiet': True}", end=EXIT,
                           then="run.log({'loss': 9.0}); run.log({'loss': 8.0})\n")
    crashed = run_python(code, repo).stdout.strip()
    run = start_run(resume=True)  # recovers the dead run (state crashed), then continues it
    assert run.id == crashed and run.step == 2
    run.log({"loss": 7.0})
    run.finish()
    assert steps_of(crashed) == [(0, 9.0), (1, 8.0), (2, 7.0)]
    assert gittrack.Api(".").run(crashed).state == "finished"
    other = start_run(resume="auto")  # nothing crashed any more: a new run
    assert other.id != crashed
    other.finish()


def test_resume_folds_a_dead_writers_log_first(repo: Path) -> None:
    code = ("import os, gittrack\n"
            "run = gittrack.init(id='dead', settings={'quiet': True, "
            "'checkpoint_interval': 3600})\n"
            "for i in range(5): run.log({'loss': float(i)})\n"
            "os._exit(0)\n")
    subprocess.run([sys.executable, "-c", code], cwd=repo, check=True)
    assert (repo / ".git" / "gittrack" / "wal" / "dead").is_dir()
    # resume_run itself folds the WAL (init's own recovery pass is bypassed here)
    from gittrack.git.repo import discover
    from gittrack.runs.start import resume_run
    from gittrack.settings import Settings
    from gittrack.types import RunId

    run = resume_run(discover("."), RunId("dead"), config=None, tags=None, notes=None,
                     settings=Settings(quiet=True))
    assert run.step == 5
    run.log({"loss": 5.0})
    run.finish()
    assert steps_of("dead") == [(i, float(i)) for i in range(6)]


def test_resume_of_a_run_live_in_another_process(repo: Path) -> None:
    with held(live_script(init="id='busy', "), repo) as (proc, first):
        assert first == "busy"
        with pytest.raises(RunLockedError, match="busy"):
            start_run(id="busy", resume="must")
    assert proc.returncode == 0
    assert gittrack.Api(".").run("busy").state == "finished"


def test_resume_of_a_run_live_in_this_process(repo: Path) -> None:
    run = start_run(id="mine")
    with pytest.raises(RunLockedError):
        start_run(id="mine", resume="must", settings={**FAST, "reinit": "create_new"})
    run.finish()


@pytest.mark.parametrize("resume", [1, 2.5, ["allow"]])
def test_resume_of_the_wrong_type(repo: Path, resume: Any) -> None:
    with pytest.raises(InvalidSettingError, match="resume"):
        start_run(id="x", resume=resume)


def test_resume_must_without_an_id(repo: Path) -> None:
    with pytest.raises(InvalidSettingError, match="needs id="):
        start_run(resume="must")


@pytest.mark.parametrize("bad", ["a/b", "", "../up", "x" * 200, "a b"])
def test_invalid_user_ids(repo: Path, bad: str) -> None:
    with pytest.raises(InvalidKeyError, match="run id"):
        start_run(id=bad)


def test_a_chosen_id(repo: Path) -> None:
    run = start_run(id="my-run.1")
    run.finish()
    assert git(repo, "rev-parse", "refs/gittrack/runs/my-run.1").strip() == run.commit


# -- what init() cannot store is refused before anything is written ---------------------------
BAD_INIT = [
    ({"config": {"f": SURROGATE}}, InvalidValueError, r"'config\.f'.*position 3"),
    ({"config": {"files": [SURROGATE]}}, InvalidValueError, r"'config\.files\[0\]'"),
    ({"config": {SURROGATE: 1}}, InvalidKeyError, r"under 'config'.*surrogate"),
    ({"config": {"d": deep(500)}}, InvalidValueError, r"'config\.d(\.k)*'.*64 levels"),
    ({"config": {"a": {1: 1, "1": 2}}}, InvalidKeyError, "twice"),
    ({"tags": ["ok", SURROGATE]}, InvalidValueError, r"tag.*position 3"),
    ({"tags": ["a\nb"]}, InvalidValueError, "tag.*control character"),
    ({"notes": SURROGATE}, InvalidValueError, r"notes.*position 3"),
]
BAD_NEW_RUN = [
    *BAD_INIT,
    ({"name": SURROGATE}, InvalidValueError, r"name.*position 3"),
    ({"name": "a\x00b"}, InvalidValueError, "name.*control character"),
    ({"name": 5}, InvalidValueError, "name must be a string, got int"),
    ({"project": SURROGATE}, InvalidValueError, "project.*surrogate"),
    ({"project": "x" * 600}, InvalidValueError, "project.*600 characters"),
    ({"group": SURROGATE}, InvalidValueError, "group.*surrogate"),
    ({"job_type": "a\tb"}, InvalidValueError, "job_type.*control character"),
]


@pytest.mark.parametrize(("kwargs", "error", "message"), BAD_NEW_RUN)
def test_init_refuses_what_it_cannot_store(
    repo: Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        start_run(**kwargs)
    assert gittrack.Api(".").runs() == []
    assert not list((repo / ".git" / "gittrack" / "wal").glob("*"))
    run = start_run(name="next")
    run.finish()
    assert [v.name for v in gittrack.Api(".").runs()] == ["next"]


@pytest.mark.parametrize(("kwargs", "error", "message"), BAD_INIT)
def test_resume_refuses_what_it_cannot_store(
    repo: Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    first_session()
    with pytest.raises(error, match=message):
        start_run(id="exp-1", resume="must", **kwargs)
    run = start_run(id="exp-1", resume="must")
    run.log({"loss": 1.0})
    run.finish()
    stored = gittrack.Api(".").run("exp-1")
    assert (stored.state, stored.config, stored.tags) == ("finished", {"lr": 0.1, "bs": 8}, ["a"])
    assert steps_of("exp-1") == [(0, 4.0), (1, 2.0), (2, 3.0), (3, 1.0)]


def test_a_non_utf8_folder_and_arguments_are_recorded_readably(tmp_path: Path) -> None:
    """The working folder and ``sys.argv`` come from the system: bytes that do not decode are
    kept as ``\\xNN`` escapes, never refused (the user cannot change them) nor left to fail a
    checkpoint."""
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9"))
    make_repo(folder)
    code = (
        "import gittrack\n"
        "run = gittrack.init(settings={'quiet': True})\n"
        "run.log({'loss': 1.0})\n"
        "run.finish()\n"
        "print(run.id)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, os.fsdecode(b"--data=caf\xe9")], cwd=folder,
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    stored = gittrack.Api(folder).run(done.stdout.strip())
    assert stored.state == "finished"
    assert stored.metadata["args"] == ["--data=caf\\xe9"]
    assert stored.metadata["cwd"].endswith("/caf\\xe9")
    assert stored.project == "caf\\xe9"


# -- runs started in another worktree ----------------------------------------------------------
# Refs are shared by the worktrees of a repository; write-ahead logs are per worktree.
def test_resume_folds_a_dead_log_of_another_worktree(repo: Path) -> None:
    linked, log = kill_in_worktree(repo)
    run = start_run(id="wt", resume="must")  # from the main worktree
    assert run.step == 1000
    run.log({"loss": 1000.0})
    run.finish()
    assert not log.exists()
    assert steps_of("wt") == [(i, float(i)) for i in range(1001)]
    seen_there = gittrack.Api(linked).run("wt")  # nothing is left to fold over it
    assert seen_there.state == "finished"
    assert seen_there.metadata["steps"] == 1001


def test_resume_run_itself_folds_a_dead_log_of_another_worktree(repo: Path) -> None:
    from gittrack.git.repo import discover
    from gittrack.runs.start import resume_run
    from gittrack.settings import Settings
    from gittrack.types import RunId

    _, log = kill_in_worktree(repo)
    run = resume_run(discover("."), RunId("wt"), config=None, tags=None, notes=None,
                     settings=Settings(quiet=True))  # init's own recovery pass bypassed
    assert run.step == 1000
    run.finish()
    assert not log.exists()


def test_resume_of_a_run_live_in_another_worktree(repo: Path) -> None:
    linked = linked_worktree(repo)
    code = live_script(init="id='busy', ", after="run.log({'loss': 1.0})\n")
    with held(code, linked) as (proc, first):
        assert first == "busy"
        with pytest.raises(RunLockedError, match=r"busy.*worktrees/linked"):
            start_run(id="busy", resume="must")
        assert gittrack.Api(".").run("busy").state == "running"
    assert proc.returncode == 0
    assert steps_of("busy") == [(0, 1.0)]


def test_resume_refuses_when_a_dead_log_cannot_be_folded(repo: Path) -> None:
    from gittrack.formats import walcodec

    _, log = kill_in_worktree(repo)
    bad = ("config", 1001, 5)
    (log / f"{1001:016d}.wal").write_bytes(walcodec.encode(bad))
    with pytest.warns(GittrackWarning, match="run wt crashed"), \
            pytest.raises(RepositoryError, match=r"cannot resume run wt.*kept"):
        start_run(id="wt", resume="must")
    assert [r[1] for r in read_records(log, 0)][-2:] == [1000, 1001]


def test_init_refuses_an_empty_config_key_as_update_does(repo: Path) -> None:
    """``init(config={"": 1})`` was stored while ``config.update({"": 2})`` was refused."""
    with pytest.raises(gittrack.InvalidKeyError, match="non-empty"):
        gittrack.init(config={"": 1}, settings={"quiet": True})
    assert git(repo, "for-each-ref", "refs/gittrack/runs/") == ""
