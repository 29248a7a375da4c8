"""Code saving (``save_code``): what init() stores, how it is turned on, how it reads back."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pygit2
import pytest
import yaml

import gittrack
from gittrack.errors import FormatError, GittrackWarning, InvalidSettingError, UsageError
from gittrack.git import command
from gittrack.runs import code, layout
from gittrack.runs.resolve import resolve_run
from gittrack.storage.project import open_storage, unlock
from tests.helpers.cli import CliResult
from tests.helpers.code import (
    BINARY,
    all_git_objects,
    apply_on_clean_checkout,
    make_dirty,
    work_files,
)
from tests.helpers.processes import killed_run
from tests.helpers.repos import MakeClone, git
from tests.helpers.runs import FAST, make_run, start_run
from tests.helpers.storage import share_storage, store_names
from tests.helpers.tools import age_cli, tree_contains


def _view(repo: Path, run_id: str) -> gittrack.RunView:
    return resolve_run(pygit2.Repository(str(repo)), run_id)


def _tree(repo: Path, run_id: str) -> list[str]:
    return git(repo, "ls-tree", "-r", "--name-only", f"refs/gittrack/runs/{run_id}").split()


def test_code_is_not_saved_by_default(repo: Path) -> None:
    make_dirty(repo)
    run = make_run([{"x": 1}])
    view = _view(repo, run.id)
    assert view.code() is None
    assert view.metadata["code"]["saved"] is False and view.metadata["code"]["dirty"] is True
    assert not any(p.startswith("code/") for p in _tree(repo, run.id))
    assert store_names(repo) == set()


def test_a_dirty_repository_is_saved_and_the_secret_never(repo: Path, tmp_path: Path) -> None:
    """The issue's test: a modified file, new text and binary files, an ignored secret."""
    secret = make_dirty(repo)
    script = repo / "train.py"
    script.write_text("import gittrack\nrun = gittrack.init(save_code=True, settings={'quiet':"
                      " True})\nrun.log({'x': 1})\nrun.finish()\nprint(run.id)\n")
    done = subprocess.run([sys.executable, str(script)], cwd=repo, capture_output=True,
                          text=True, check=True)
    run_id = done.stdout.split()[-1]
    view = _view(repo, run_id)
    saved = view.code()
    assert saved is not None and view.metadata["code"]["saved"] is True
    assert sorted(saved.files) == sorted(saved) == ["diff.patch", "requirements.txt", "train.py"]
    assert saved["diff.patch"] == saved.patch
    assert saved.entrypoint == "train.py" and saved.source == script.read_bytes()
    assert view.metadata["code"]["entrypoint"] == "train.py"
    pyarrow = __import__("pyarrow")
    assert f"pyarrow=={pyarrow.__version__}" in saved.packages
    assert saved.packages == sorted(saved.packages, key=lambda line: line.split("==")[0].lower())
    # the patch applied on a clean checkout of the run's commit gives every non-ignored file
    copy = apply_on_clean_checkout(repo, view.metadata["code"]["commit"], saved.patch or b"",
                                   tmp_path / "copy")
    assert work_files(copy) == work_files(repo, skip=("secret.env",))
    assert (copy / "data.bin").read_bytes() == BINARY
    # the secret is in no blob (cache and store), in no git object, nowhere under .git
    assert all(secret not in data for data in saved.files.values())
    assert secret not in all_git_objects(repo)
    assert tree_contains(repo / ".git", secret) == []
    assert layout.CODE_MANIFEST in _tree(repo, run_id)


def test_the_manifest_names_the_blobs_for_gc_push_and_pull(repo: Path) -> None:
    make_dirty(repo)
    run = make_run([{"x": 1}], save_code=True)
    from gittrack.runs.reachability import stored_entries

    r = pygit2.Repository(str(repo))
    entries = list(stored_entries(r, _view(repo, run.id).commit))
    assert {e.path for e in entries} == set(_view(repo, run.id).code().files)  # type: ignore
    assert {e.blob for e in entries} == store_names(repo)
    # every checkpoint after the first keeps it
    assert all(layout.CODE_MANIFEST in git(repo, "ls-tree", "-r", "--name-only", c)
               for c in git(repo, "rev-list", f"refs/gittrack/runs/{run.id}").split())


@pytest.mark.parametrize("how", ["argument", "settings", "settings-dict", "env", "wandb-env",
                                 "project-config"])
def test_each_way_to_turn_it_on(repo: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    (repo / "train.py").write_text("changed\n")
    init: dict[str, object] = {}
    if how == "argument":
        init["save_code"] = True
    elif how == "settings":
        init["settings"] = gittrack.Settings(save_code=True, quiet=True)
    elif how == "settings-dict":
        init["settings"] = {**FAST, "save_code": True}
    elif how == "env":
        monkeypatch.setenv("GITTRACK_SAVE_CODE", "1")
    elif how == "wandb-env":
        monkeypatch.setenv("WANDB_SAVE_CODE", "true")
    else:
        (repo / ".gittrack").mkdir()
        (repo / ".gittrack" / "config.yaml").write_text("save_code: true\n")
        git(repo, "add", ".gittrack/config.yaml")
        git(repo, "commit", "-q", "-m", "save code")
        (repo / "train.py").write_text("changed again\n")
    saved = _view(repo, make_run([{"x": 1}], **init).id).code()
    assert saved is not None and b"+changed" in (saved.patch or b"")


@pytest.mark.parametrize(("env", "config", "argument", "expected"), [
    ({"GITTRACK_SAVE_CODE": "0"}, True, None, False),       # the environment beats the project
    ({"GITTRACK_SAVE_CODE": "off", "WANDB_SAVE_CODE": "true"}, False, None, False),
    ({"GITTRACK_SAVE_CODE": "yes"}, False, False, False),    # the argument beats everything
    ({}, False, True, True),
    ({"WANDB_SAVE_CODE": "false"}, True, None, False),
    ({}, True, None, True),
])
def test_which_source_wins(repo: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                           config: bool, argument: bool | None, expected: bool) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (repo / ".gittrack").mkdir()
    (repo / ".gittrack" / "config.yaml").write_text(f"save_code: {str(config).lower()}\n")
    run = make_run([{"x": 1}], save_code=argument)
    assert (_view(repo, run.id).code() is not None) is expected


def test_the_local_config_file_overrides_the_project(repo: Path) -> None:
    (repo / ".gittrack").mkdir()
    (repo / ".gittrack" / "config.yaml").write_text("save_code: true\n")
    (repo / ".git" / "gittrack").mkdir(exist_ok=True)
    (repo / ".git" / "gittrack" / "config.yaml").write_text("save_code: false\n")
    assert _view(repo, make_run([{"x": 1}]).id).code() is None


def test_bad_values_are_refused_naming_them(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidSettingError, match="save_code"):
        gittrack.Settings(save_code="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidSettingError, match="save_code"):
        start_run(save_code=1)
    monkeypatch.setenv("GITTRACK_SAVE_CODE", "maybe")
    with pytest.raises(InvalidSettingError, match=r"GITTRACK_SAVE_CODE.*'maybe'"):
        start_run()
    monkeypatch.delenv("GITTRACK_SAVE_CODE")
    (repo / ".gittrack").mkdir()
    (repo / ".gittrack" / "config.yaml").write_text("save_code: often\n")
    with pytest.raises(FormatError, match="save_code must be true or false"):
        start_run()


def test_a_clean_tree_saves_an_empty_patch(repo: Path) -> None:
    saved = _view(repo, make_run([{"x": 1}], save_code=True).id).code()
    assert saved is not None and saved.patch == b""
    assert not _view(repo, make_run([{"x": 1}]).id).metadata["code"]["dirty"]


def test_the_entry_point_as_the_stored_name(repo: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "src").mkdir()
    script = repo / "src" / "fit.py"
    script.write_text("# the script\n")
    monkeypatch.setattr(sys.modules["__main__"], "__file__", str(script), raising=False)
    saved = _view(repo, make_run([{"x": 1}], save_code=True).id).code()
    assert saved is not None and saved.entrypoint == "src/fit.py"
    assert saved.files["src/fit.py"] == b"# the script\n"
    # an ignored script is never read
    (repo / ".gitignore").write_text("src/\n")
    with pytest.warns(GittrackWarning, match="'src/fit.py' is not saved: git ignores it"):
        saved = _view(repo, make_run([{"x": 1}], save_code=True).id).code()
    assert saved is not None and saved.entrypoint is None
    assert sorted(saved.files) == ["diff.patch", "requirements.txt"]
    # a notebook: no entry point, no warning
    kernel = repo.parent / "ipykernel_launcher.py"
    kernel.write_text("")
    monkeypatch.setattr(sys.modules["__main__"], "__file__", str(kernel))
    assert code.entrypoint(pygit2.Repository(str(repo))) is None


def test_files_over_the_bound_are_left_out_with_a_warning(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(code, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(code, "MAX_PATCH_BYTES", 5000)
    (repo / "weights.bin").write_bytes(b"\0" * 1001)
    with pytest.warns(GittrackWarning, match="'weights.bin' is left out"):
        saved = _view(repo, make_run([{"x": 1}], save_code=True).id).code()
    assert saved is not None and b"weights.bin" not in (saved.patch or b"x")
    (repo / "weights.bin").unlink()
    for i in range(10):
        (repo / f"part{i}.txt").write_text("y" * 900)
    with pytest.warns(GittrackWarning, match="diff.patch.*more than 5,000"):
        saved = _view(repo, make_run([{"x": 1}], save_code=True).id).code()
    assert saved is not None and saved.patch is None and "requirements.txt" in saved.files


def test_saving_costs_three_git_commands_whatever_the_number_of_files(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured without a clock: one listing, one add, one diff for 400 untracked files."""
    for i in range(400):
        (repo / f"f{i:03d}.py").write_text(f"x = {i}\n")
    calls: list[str] = []
    real = command.run_bytes

    def counted(*args: object, **kwargs: object) -> bytes:
        calls.append(str(args[1]))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(command, "run_bytes", counted)
    saved = _view(repo, make_run([{"x": 1}], save_code=True).id).code()
    assert saved is not None and (saved.patch or b"").count(b"\ndiff --git") == 399
    assert len(calls) == 3


def test_resume_adds_code_once_and_keeps_it(repo: Path) -> None:
    (repo / "train.py").write_text("first\n")
    run = make_run([{"x": 1}], id="resumable")
    assert _view(repo, run.id).code() is None
    (repo / "train.py").write_text("second\n")
    make_run([{"x": 2}], id="resumable", resume="must", save_code=True)
    first = _view(repo, run.id).code()
    assert first is not None and b"+second" in (first.patch or b"")
    (repo / "train.py").write_text("third\n")
    make_run([{"x": 3}], id="resumable", resume="must", save_code=True)
    kept = _view(repo, run.id).code()
    assert kept is not None and kept.patch == first.patch
    assert _view(repo, run.id).metadata["code"]["saved"] is True


def test_a_private_project_encrypts_the_patch_for_the_age_command_line(
        private_repo: pygit2.Repository, tmp_path: Path) -> None:
    """user key → project key → blob, with the real `age`."""
    repo = Path(private_repo.workdir)
    secret = make_dirty(repo)
    run = make_run([{"x": 1}], save_code=True)
    view = _view(repo, run.id)
    entry = next(e for e in code.saved_entries(private_repo, view.commit) or []
                 if e.path == "diff.patch")
    assert entry.blob == unlock(private_repo).blob_name(entry.digest)  # an HMAC, not the sha
    encrypted = tmp_path / "patch.age"
    assert entry.blob is not None
    open_storage(private_repo).store.get_file(entry.blob, encrypted)
    assert b"data.bin" not in encrypted.read_bytes()
    from gittrack.crypto.identity import user_identity_file

    payload = yaml.safe_load(age_cli("-d", "-i", str(user_identity_file()),
                                     str(repo / ".gittrack" / "keys" / "project.age")))
    project_identity = tmp_path / "project.txt"
    project_identity.write_text("\n".join(payload["identities"]) + "\n")
    patch = age_cli("-d", "-i", str(project_identity), str(encrypted))
    assert patch == view.code().patch and b"GIT binary patch" in patch  # type: ignore[union-attr]
    assert secret not in patch and secret not in all_git_objects(repo)


def test_an_entry_point_outside_the_work_tree_is_not_saved(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = tmp_path / "elsewhere" / "launcher.py"
    tool.parent.mkdir()
    tool.write_text("# an installed tool\n")
    monkeypatch.setattr(sys.modules["__main__"], "__file__", str(tool), raising=False)
    assert code.entrypoint(pygit2.Repository(str(repo))) is None


def test_gc_keeps_the_saved_code_of_a_kept_run_and_drops_a_removed_one(
        repo: Path, cli: Callable[..., CliResult]) -> None:
    (repo / "train.py").write_text("changed\n")
    kept = make_run([{"x": 1}], save_code=True, name="kept")
    (repo / "train.py").write_text("changed twice\n")
    gone = make_run([{"x": 1}], save_code=True, name="gone")
    r = pygit2.Repository(str(repo))
    blobs = {name: {e.blob for e in code.saved_entries(r, _view(repo, run.id).commit) or []}
             for name, run in (("kept", kept), ("gone", gone))}
    assert store_names(repo) == blobs["kept"] | blobs["gone"]
    assert cli("gc", "--grace", "0").exit_code == 0
    assert store_names(repo) == blobs["kept"] | blobs["gone"]
    assert cli("rm", "gone", "--yes").exit_code == 0
    assert cli("gc", "--grace", "0").exit_code == 0
    only_gone = blobs["gone"] - blobs["kept"]  # requirements.txt is shared
    assert only_gone and store_names(repo) == blobs["kept"]


def test_a_fresh_clone_reads_the_saved_code_after_push_and_pull(
        bare_remote: Path, make_clone: MakeClone, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, cli: Callable[..., CliResult]) -> None:
    a = make_clone("a", str(bare_remote))
    share_storage(a, str(tmp_path / "team-store"))
    monkeypatch.chdir(a)
    make_dirty(a)
    run = make_run([{"x": 1}], save_code=True)
    saved = _view(a, run.id).code()
    assert cli("push").exit_code == 0
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    assert cli("pull").exit_code == 0
    again = _view(b, run.id).code()
    assert again is not None and saved is not None and again.files == saved.files


# -- run.log_code() -----------------------------------------------------------------------------


def test_log_code_logs_the_source_files_git_does_not_ignore(repo: Path, tmp_path: Path) -> None:
    secret = make_dirty(repo)
    (repo / "src").mkdir()
    (repo / "src" / "model.py").write_text("class Net: ...\n")
    (repo / "src" / "leak.py").write_text("token = 1\n")
    (repo / "requirements.txt").write_text("numpy\n")
    (repo / ".gitignore").write_text("secret.env\nsrc/leak.py\n")
    run = start_run(project="mnist")
    version = run.log_code(".")
    run.finish()
    assert version is not None and version.type == "code"
    assert version.name.startswith("source-mnist")
    assert sorted(e.path for e in version.files()) == [
        "requirements.txt", "src/model.py", "staged.py", "train.py"]
    out = version.download(tmp_path / "out")
    assert (out / "src" / "model.py").read_bytes() == b"class Net: ...\n"
    assert not tree_contains(tmp_path / "out", secret)
    # include_fn with W&B's two signatures; exclude_fn
    run = start_run(project="mnist")
    only = run.log_code("src", name="model-code", include_fn=lambda p: p.endswith(".py"),
                        exclude_fn=lambda p, root: p.endswith("leak.py"))
    notes = run.log_code(".", name="notes", include_fn=lambda p, root: p.endswith(".txt"))
    with pytest.warns(GittrackWarning, match="no file"):
        assert run.log_code(".", name="none", include_fn=lambda p: False) is None
    run.finish()
    assert only is not None and [e.path for e in only.files()] == ["model.py"]
    assert notes is not None and sorted(e.path for e in notes.files()) == ["notes/new file ü.txt",
                                                           "requirements.txt"]


def test_log_code_outside_the_work_tree_is_refused(repo: Path, tmp_path: Path) -> None:
    run = start_run()
    with pytest.raises(UsageError, match="inside the repository"):
        run.log_code(str(tmp_path))
    run.finish()


def test_the_saved_code_survives_kill_9_and_recovery(repo: Path,
                                                     cli: Callable[..., CliResult]) -> None:
    (repo / "train.py").write_text("changed before the crash\n")
    run_id = killed_run(repo, init="save_code=True, ", steps=3)
    assert cli("recover").exit_code == 0
    view = _view(repo, run_id)
    assert view.state == "crashed" and view.metadata["code"]["saved"] is True
    saved = view.code()
    assert saved is not None and b"+changed before the crash" in (saved.patch or b"")


def test_a_private_project_without_the_users_key_refuses_rather_than_store_plaintext(
        private_repo: pygit2.Repository) -> None:
    from gittrack.crypto.identity import user_identity_file
    from gittrack.errors import KeyMissingError

    repo = Path(private_repo.workdir)
    (repo / "train.py").write_text("changed\n")
    user_identity_file().unlink()
    with pytest.raises(KeyMissingError):
        start_run(save_code=True)
    assert git(repo, "for-each-ref", "refs/gittrack/runs/") == ""
    assert store_names(repo) == set()
    make_run([{"x": 1}])  # without save_code the run starts as before
