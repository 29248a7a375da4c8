"""`push --dry-run` makes the checks a push makes and reports what the push would do: a run
whose blob is lost is held back and named (the other refs would go), and a ref the remote
would refuse (it moved since it was listed) is reported as the push reports it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import gittrack
from tests.helpers import servers
from tests.helpers.forge_runs import forge_stored_files, stored_file_entry
from tests.helpers.repos import RUNS, MakeClone, bare, git, refs_of
from tests.helpers.runs import log_run
from tests.helpers.storage import share_storage


def pushed(result: Any) -> tuple[list[str], list[str], list[str]]:
    report = json.loads(result.stdout)
    return (sorted(s["ref"] for s in report["sent"]), sorted(s["ref"] for s in report["held"]),
            sorted(h["ref"] for h in report["held_back"]))


def test_a_dry_run_holds_back_the_run_whose_blob_is_lost_as_the_push_does(
        served_remote: tuple[Path, str], make_clone: MakeClone, tmp_path: Path,
        fast_settings: dict[str, object], monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    bare_remote, url = served_remote  # over the file transport and over `git daemon`
    a = make_clone("a", url)
    share_storage(a, str(tmp_path / "store"))
    log_run(a, fast_settings)
    monkeypatch.chdir(a)
    entry = stored_file_entry("media/sample/000001_0.png", b"lost bytes")
    forge_stored_files(a, "lost", [entry])
    dry = cli("push", "--dry-run")
    assert dry.exit_code == 8, dry.stderr
    assert "(dry run) not sent: run lost: its file media/sample/000001_0.png" in dry.stdout
    assert "held back 1 run" in dry.stderr
    assert refs_of(bare_remote, code=True) == {}  # nothing was sent
    as_json = cli("push", "--dry-run", "--json")
    assert as_json.exit_code == 8
    real = cli("push", "--json")
    assert real.exit_code == 8
    assert pushed(as_json) == pushed(real)
    sent, _, back = pushed(real)
    assert back == [f"{RUNS}lost"] and f"{RUNS}lost" not in sent and len(sent) == 4
    assert set(refs_of(bare_remote, code=True)) == set(sent)


@pytest.fixture(params=["file", "daemon"])
def racing_origin(request: pytest.FixtureRequest,
                  tmp_path: Path) -> Iterator[tuple[Path, str, Path]]:
    """A bare origin, its URL and a script (``$1``: the origin's path) run each time a push
    connects, before the remote lists its refs: through ``remote.origin.receivepack`` over
    the file transport (the clone sets it), ``git daemon --access-hook`` over ``git://``."""
    race = tmp_path / "race"
    race.write_text("#!/bin/sh\nexit 0\n")
    race.chmod(0o755)
    if request.param == "file":
        server = bare(tmp_path / "origin.git")
        yield server, "file://" + str(server), race
        return
    hook = tmp_path / "access-hook"
    hook.write_text(f"#!/bin/sh\nif [ \"$1\" = receive-pack ]; then '{race}' \"$2\"; fi\n"
                    "exit 0\n")
    hook.chmod(0o755)
    served = tmp_path / "served"
    server = bare(served / "origin.git")
    with servers.git_daemon(served, access_hook=hook) as port:
        yield server, f"git://{servers.HOST}:{port}/origin.git", race


def test_a_dry_run_meets_the_refusal_the_push_would_meet(
        racing_origin: tuple[Path, str, Path], make_clone: MakeClone, tmp_path: Path,
        fast_settings: dict[str, object], monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    bare_remote, url, race = racing_origin
    a = make_clone("a", url)
    monkeypatch.chdir(a)
    run = log_run(a, fast_settings, data=None)
    assert cli("push").exit_code == 0
    with gittrack.init(repo=str(a), id=run, resume="allow", settings=fast_settings) as again:
        again.log({"more": 1.0})  # here: the run is ahead of the remote's
    # Someone else's push lands on the remote between push's listing and its `git push`: the
    # remote's receive-pack (what `git push` talks to; `ls-remote` uses upload-pack) moves
    # the run first, once.
    ref = f"{RUNS}{run}"
    old = git(bare_remote, "rev-parse", ref).strip()
    tree = git(bare_remote, "rev-parse", f"{old}^{{tree}}").strip()
    theirs = git(bare_remote, "commit-tree", tree, "-p", old, "-m", "a teammate's").strip()
    race.write_text(f"#!/bin/sh\nif [ ! -e '{tmp_path}/moved' ]; then touch "
                    f"'{tmp_path}/moved'; git --git-dir=\"$1\" update-ref {ref} {theirs}; "
                    "fi\n")
    if url.startswith("file://"):
        wrapper = tmp_path / "receive-pack"
        wrapper.write_text(f"#!/bin/sh\n'{race}' \"$1\"\nexec git-receive-pack \"$1\"\n")
        wrapper.chmod(0o755)
        git(a, "config", "remote.origin.receivepack", str(wrapper))

    dry = cli("push", "--dry-run")
    assert dry.exit_code == 5, dry.stdout + dry.stderr
    assert f"(dry run) not sent: run {run} diverged" in dry.stdout
    assert "sent 1 run" not in dry.stdout
    assert git(bare_remote, "rev-parse", ref).strip() == theirs  # the teammate's, untouched
    real = cli("push")
    assert real.exit_code == 5 and f"not sent: run {run} diverged" in real.stdout
    assert git(bare_remote, "rev-parse", ref).strip() == theirs
