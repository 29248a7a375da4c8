"""``wandb.save`` / ``wandb.restore``: files stored with the run, shared by push and pull."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

import gittrack.wandb as wandb
from gittrack.errors import InvalidValueError, NotFoundError
from tests.helpers.cli import CliResult
from tests.helpers.repos import MakeClone
from tests.helpers.storage import share_storage, store_names
from tests.helpers.wandb import start


def test_save_policies_and_restore(repo: Path, tmp_path: Path) -> None:
    (repo / "ckpt").mkdir()
    (repo / "ckpt" / "a.pt").write_bytes(b"A1")
    (repo / "ckpt" / "b.pt").write_bytes(b"B1")
    (repo / "late.txt").write_text("early")
    (repo / "now.txt").write_text("now1")
    run = start()
    assert wandb.save("ckpt/*.pt") == ["ckpt/a.pt", "ckpt/b.pt"]  # live: now and at finish
    assert wandb.save(str(repo / "now.txt"), policy="now") == ["now.txt"]  # absolute: its name
    wandb.save("late.txt", policy="end")
    with pytest.raises(InvalidValueError, match="policy"):
        wandb.save("late.txt", policy="sometimes")
    (repo / "ckpt" / "a.pt").write_bytes(b"A2 at the end")
    (repo / "now.txt").write_text("now2 not saved again")
    (repo / "late.txt").write_text("late")
    with open(os.path.join(run.dir, "in_run_dir.txt"), "w") as f:
        f.write("saved at finish")
    run_id, path = run.id, run.path
    run.finish()
    out = tmp_path / "restored"
    for name, content in [("ckpt/a.pt", "A2 at the end"), ("ckpt/b.pt", "B1"),
                          ("now.txt", "now1"), ("late.txt", "late"),
                          ("in_run_dir.txt", "saved at finish")]:
        with wandb.restore(name, run_path=path, root=str(out)) as f:
            assert f.read() == content, name
    (out / "now.txt").write_text("local edit")
    with wandb.restore("now.txt", run_path=run_id, root=str(out)) as f:
        assert f.read() == "local edit"
    with wandb.restore("now.txt", run_path=run_id, root=str(out), replace=True) as f:
        assert f.read() == "now1"
    with pytest.raises(NotFoundError, match=r"saved no file 'nope\.txt'"):
        wandb.restore("nope.txt", run_path=run_id, root=str(out))
    files = wandb.Api().run(path).files()
    assert sorted(f.name for f in files) == ["ckpt/a.pt", "ckpt/b.pt", "in_run_dir.txt",
                                            "late.txt", "now.txt"]


def test_restore_in_a_fresh_clone_after_push(
        bare_remote: Path, make_clone: MakeClone, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, cli: Callable[..., CliResult]) -> None:
    a = make_clone("a", str(bare_remote))
    share_storage(a, str(tmp_path / "team-store"))
    monkeypatch.chdir(a)
    (a / "model.pt").write_bytes(b"weights" * 1000)
    run = start(project="p", entity="e")
    wandb.save("model.pt", policy="now")
    path = run.path
    run.finish()
    assert cli("push").exit_code == 0
    assert store_names(a)  # the bytes are in the team's store
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    assert cli("pull").exit_code == 0
    with wandb.restore("model.pt", run_path=path) as f:  # into the current folder
        assert f.read() == "weights" * 1000
    assert (b / "model.pt").read_bytes() == b"weights" * 1000
    # inside a new run, restore goes to the run's dir
    again = start()
    restored = again.restore("model.pt", run_path=path)
    assert Path(restored.name).parent == Path(again.dir)
    restored.close()
    again.finish()


def test_saved_files_are_kept_by_gc(repo: Path, cli: Callable[..., CliResult]) -> None:
    (repo / "keep.bin").write_bytes(b"keep me")
    run = start()
    wandb.save("keep.bin", policy="now")
    run.finish()
    before = store_names(repo)
    assert cli("gc", "--grace", "0").exit_code == 0
    assert store_names(repo) == before and before
    assert cli("rm", run.id, "--yes").exit_code == 0
    assert cli("gc", "--grace", "0").exit_code == 0
    assert store_names(repo) == set()


def test_run_dir_files_are_saved_when_the_run_ends_without_wandb_finish(repo: Path,
                                                                       tmp_path: Path) -> None:
    run = start()
    Path(run.dir, "model.h5").write_bytes(b"h5")
    run.gittrack_run.finish()  # what the exit hook does when a script never calls finish
    with wandb.restore("model.h5", run_path=run.id, root=str(tmp_path)) as f:
        assert f.read() == "h5"


def test_a_resumed_run_keeps_the_files_saved_before(repo: Path, tmp_path: Path) -> None:
    (repo / "one.txt").write_text("1")
    (repo / "two.txt").write_text("2")
    run = start(id="saver")
    wandb.save("one.txt", policy="now")
    run.finish()
    again = start(id="saver", resume="must")
    wandb.save("two.txt", policy="now")
    again.finish()
    names = sorted(f.name for f in wandb.Api().run("saver").files())
    assert names == ["one.txt", "two.txt"]


def test_restore_refuses_a_name_outside_its_folder(repo: Path, tmp_path: Path) -> None:
    from gittrack.errors import UsageError

    (repo / "a.txt").write_text("a")
    run = start()
    wandb.save("a.txt", policy="now")
    run.finish()
    (tmp_path / "secret").write_text("s")
    with pytest.raises(UsageError):
        wandb.restore("../secret", run_path=run.id, root=str(tmp_path / "root"))
