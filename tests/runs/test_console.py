"""Console capture (gittrack.runs.console): what a run's process prints, stored as blobs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import gittrack
from gittrack.errors import InvalidSettingError
from gittrack.git import objects
from gittrack.git.repo import discover as open_repo
from gittrack.runs import console, layout, store
from gittrack.runs.console import Capture, terminal_text
from gittrack.runs.run_storage import RunStorage
from gittrack.settings import Settings
from tests.helpers.cli import CliResult
from tests.helpers.processes import KILL, killed, run_python
from tests.helpers.repos import MakeClone, add_bare_remote, push_all
from tests.helpers.runs import FAST
from tests.helpers.storage import share_storage, store_names

Cli = Callable[..., CliResult]

QUIET = {"quiet": True, "checkpoint_interval": 3600}


def console_files(repo: Path, run_id: str) -> list[str]:
    git = open_repo(repo)
    head = store.head(git, run_id)  # type: ignore[arg-type]
    assert head is not None
    tree = objects.commit_tree(git, head)
    return [path for path, _ in objects.new_files(git, tree, layout.CONSOLE_DIR, set())]


# -- the terminal's view --------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "shown"), [
    ("plain\nlines\n", "plain\nlines\n"),
    ("  0%|    |\r 50%|##  |\r100%|####|\n", "100%|####|\n"),
    ("abcdef\rxy\n", "xycdef\n"),
    ("bar 10%   \rbar 100%\r\n", "bar 100%\n"),
    ("\x1b[31mred\x1b[0m\r\x1b[32mgreen\x1b[0m\n", "\x1b[32mgreen\x1b[0m\n"),
    ("a\rb\nc\rdd\ne", "b\ndd\ne"),
    # tqdm.write: the bar cleared, the message printed, the bar drawn again
    ("\r 50%|##  |\r          \rhalfway\n\r 51%|##  |\n", "halfway\n 51%|##  |\n"),
    # escape sequences take no column: a shorter redraw never leaves half a sequence
    ("\x1b[31mab\x1b[0m\rX\n", "Xb\x1b[0m\n"),
])
def test_a_line_redrawn_with_carriage_returns_keeps_its_final_state(raw: str, shown: str) -> None:
    assert terminal_text(raw) == shown


# -- a real run in this process ----------------------------------------------------------
def test_printed_lines_and_a_progress_bar_read_back_as_the_terminal_showed_them(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stdout, stderr = sys.stdout, sys.stderr
    run = gittrack.init(settings=QUIET)
    print("epoch 1")
    for percent in (0, 25, 50, 75, 100):
        sys.stderr.write(f"\rtraining {percent:3d}%|{'#' * (percent // 25):4s}|")
        sys.stderr.flush()
    sys.stderr.write("\n")
    print("loss", 0.25, "acc", 0.9)
    print("no newline at the end", end="")
    run.finish()
    assert sys.stdout is stdout and sys.stderr is stderr
    assert "write" not in vars(sys.stdout) and "write" not in vars(sys.stderr)
    print("after finish")  # not captured
    out = capsys.readouterr()
    assert "epoch 1\n" in out.out and "after finish" in out.out  # the real streams got it all
    assert "training   0%" in out.err
    text = gittrack.Api().run(run.id).console()
    assert text == ("epoch 1\ntraining 100%|####|\nloss 0.25 acc 0.9\nno newline at the end")
    assert console_files(repo, run.id)  # a console/ chunk naming the blob


def test_checkpoints_cut_the_output_into_parts_and_a_bar_spanning_a_cut_is_one_line(
    repo: Path,
) -> None:
    run = gittrack.init(settings=QUIET)
    print("first")
    sys.stdout.write("\rstep 1/3")
    run._checkpoint()  # a background checkpoint
    sys.stdout.write("\rstep 2/3")
    run._checkpoint()
    sys.stdout.write("\rstep 3/3\n")
    print("second")
    run._checkpoint()
    print("third")
    run.finish()
    text = gittrack.Api().run(run.id).console()
    assert text == "first\nstep 3/3\nsecond\nthird\n"
    git = open_repo(repo)
    parts = console.stored_parts(git, store.head(git, run.id))  # type: ignore[arg-type]
    assert len(parts) == 3  # "first", the bar and "second", "third"


def test_console_off_stores_nothing_and_leaves_the_streams_alone(repo: Path) -> None:
    run = gittrack.init(settings={**QUIET, "console": "off"})
    assert "write" not in vars(sys.stdout)
    print("not captured")
    run.finish()
    assert gittrack.Api().run(run.id).console() == ""
    assert console_files(repo, run.id) == []


def test_the_environment_variable_turns_capture_off(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITTRACK_CONSOLE", "off")
    run = gittrack.init(settings={"quiet": True})
    print("not captured")
    run.finish()
    assert gittrack.Api().run(run.id).console() == ""
    assert Settings(console="wrap").console == "wrap"  # a setting given wins over it


@pytest.mark.parametrize("value", ["loud", "", 1, None, True])
def test_a_bad_console_setting_is_refused_naming_it(value: object) -> None:
    with pytest.raises(InvalidSettingError, match="console"):
        Settings.from_any({"console": value})


def test_a_bad_environment_value_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITTRACK_CONSOLE", "sometimes")
    with pytest.raises(InvalidSettingError, match="GITTRACK_CONSOLE"):
        Settings()


def test_only_one_run_captures_at_a_time(repo: Path) -> None:
    first = gittrack.init(settings=QUIET)
    second = gittrack.init(settings={**QUIET, "reinit": "create_new"})
    print("printed once")
    second.finish()
    first.finish()
    assert gittrack.Api().run(first.id).console() == "printed once\n"
    assert gittrack.Api().run(second.id).console() == ""
    third = gittrack.init(settings=QUIET)  # the capture is free again
    print("third")
    third.finish()
    assert gittrack.Api().run(third.id).console() == "third\n"


def test_a_resumed_run_continues_its_console(repo: Path) -> None:
    run = gittrack.init(id="consoleresume", settings=QUIET)
    print("before")
    run.finish()
    again = gittrack.init(id="consoleresume", resume="must", settings=QUIET)
    print("after")
    again.finish()
    assert gittrack.Api().run("consoleresume").console() == "before\nafter\n"


# -- the spool --------------------------------------------------------------------------------
def test_output_larger_than_a_segment_is_stored_in_bounded_parts(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "SEGMENT_BYTES", 64 * 1024)
    woken: list[bool] = []
    capture = Capture(tmp_path / "spool", 0, max_bytes=None, wake=lambda: woken.append(True))
    lines = [f"line {i:06d} " + "x" * 50 + "\n" for i in range(4000)]  # about 260 KB
    for line in lines:
        capture.write(line)
    assert woken  # a full segment asks for a checkpoint
    capture.stop()
    made = capture.cut(RunStorage(open_repo(repo)), final=True)()
    [chunk] = made.tables[layout.CONSOLE_DIR]
    sizes = chunk.column("size").to_pylist()
    assert len(sizes) >= 4 and max(sizes) <= 64 * 1024
    assert chunk.column("lines").to_pylist() and sum(chunk.column("lines").to_pylist()) == 4000
    vault = RunStorage(open_repo(repo)).vault
    from gittrack.storage.entry import ManifestEntry

    entries = [ManifestEntry(*row) for row in zip(*(chunk.column(c).to_pylist() for c in (
        "path", "digest", "size", "blob", "ref")), strict=True)]
    assert "".join(vault.cached(e).read_text() for e in entries) == "".join(lines)


def test_a_maker_gives_the_same_rows_when_called_again(repo: Path, tmp_path: Path) -> None:
    capture = Capture(tmp_path / "spool", 0, max_bytes=None, wake=lambda: None)
    capture.write("one\ntwo\n")
    maker = capture.cut(RunStorage(open_repo(repo)))
    first = maker()
    assert maker() is first  # a retried checkpoint writes the same rows
    capture.stop()


def test_console_max_bytes_cuts_the_output_with_a_note(repo: Path) -> None:
    run = gittrack.init(settings={**QUIET, "console_max_bytes": 100})
    for i in range(50):
        print(f"line {i}")
    run.finish()
    text = gittrack.Api().run(run.id).console()
    assert text.startswith("line 0\nline 1\n")
    assert "line 49" not in text
    assert text.endswith("[gittrack: console output cut at 100 bytes (console_max_bytes)]\n")


# -- other processes ----------------------------------------------------------------------------
CHILD = """
import os, signal, sys, gittrack
run = gittrack.init(settings={'quiet': True, 'checkpoint_interval': 3600})
print(run.id, flush=True)
for i in range(200):
    print(f"line {i}")
print("an error", file=sys.stderr)
for p in range(0, 101, 10):
    sys.stderr.write(f"\\rprogress {p}%")
print()
print("last words", end="")
"""


def test_lines_printed_before_sigkill_are_recovered(repo: Path) -> None:
    proc = killed(CHILD + KILL, repo)
    run_id = proc.stdout.splitlines()[0]
    view = gittrack.Api(recover=True).run(run_id)
    assert view.state == "crashed"
    text = view.console()
    expected = "".join(f"line {i}\n" for i in range(200))
    assert text == f"{run_id}\n{expected}an error\nprogress 100%\nlast words"


def test_a_child_killed_after_checkpoints_keeps_every_line_once(repo: Path) -> None:
    code = CHILD.replace('print(f"line {i}")',
                         'print(f"line {i}")\n    if i % 50 == 49: run._checkpoint()')
    proc = killed(code + KILL, repo)
    run_id = proc.stdout.splitlines()[0]
    text = gittrack.Api(recover=True).run(run_id).console()
    assert text.count("line 123\n") == 1
    assert text.endswith("line 199\nan error\nprogress 100%\nlast words")


def test_printed_output_still_reaches_the_real_stdout(repo: Path) -> None:
    proc = run_python(CHILD + "\nrun.finish()\n", repo)
    lines = proc.stdout.splitlines()
    run_id = lines[0]
    assert lines[1:3] == ["line 0", "line 1"] and lines[-1] == "last words"
    assert "an error" in proc.stderr
    text = gittrack.Api().run(run_id).console()
    assert text.startswith(f"{run_id}\nline 0\n") and text.endswith("\nlast words")


def test_a_forked_child_does_not_write_into_the_parents_spool(repo: Path) -> None:
    code = ("import os, gittrack\n"
            "run = gittrack.init(settings={'quiet': True})\n"
            "print('parent', flush=True)\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    print('child', flush=True)\n"
            "    os._exit(0)\n"
            "os.waitpid(pid, 0)\n"
            "print(run.id)\n"
            "run.finish()\n")
    proc = run_python(code, repo)
    assert "child" in proc.stdout
    run_id = proc.stdout.split()[-1]
    assert gittrack.Api().run(run_id).console() == f"parent\n{run_id}\n"


def test_fast_settings_checkpoint_console_only_output(repo: Path) -> None:
    """A run that only prints still gets checkpoints (console output alone is worth one)."""
    run = gittrack.init(settings=FAST)
    first = run.commit
    print("only printing")
    run._checkpoint()
    assert run.commit != first
    run.finish()


def test_the_output_of_a_private_project_is_encrypted_in_the_store(
    repo: Path, private_repo: object
) -> None:
    run = gittrack.init(settings=QUIET)
    print("api token s3cr3t-t0k3n")
    run.finish()
    git = open_repo(repo)
    [entry] = console.stored_parts(git, store.head(git, run.id))  # type: ignore[arg-type]
    assert entry.blob is not None
    vault = RunStorage(git).vault
    assert vault.private
    with vault.store.open(entry.blob) as stored:
        assert b"s3cr3t-t0k3n" not in stored.read()
    assert gittrack.Api().run(run.id).console() == "api token s3cr3t-t0k3n\n"


def test_the_output_reaches_a_fresh_clone_through_push_and_pull(
    bare_remote: Path, make_clone: MakeClone, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    cli: Cli,
) -> None:
    a = make_clone("a", str(bare_remote))
    share_storage(a, str(tmp_path / "store"))
    monkeypatch.chdir(a)
    run = gittrack.init(settings=QUIET)
    print("printed in clone a")
    run.finish()
    assert cli("push").exit_code == 0
    b = make_clone("b", str(bare_remote))
    monkeypatch.chdir(b)
    assert cli("pull").exit_code == 0
    assert gittrack.Api(repo=str(b)).run(run.id).console() == "printed in clone a\n"


def test_gc_keeps_the_output_of_a_kept_run_and_purge_removes_it(repo: Path, cli: Cli) -> None:
    from gittrack.sync.gc import collect

    add_bare_remote(repo)
    run = gittrack.init(settings=QUIET)
    print("kept until purged")
    run.finish()
    git = open_repo(repo)
    [entry] = console.stored_parts(git, store.head(git, run.id))  # type: ignore[arg-type]
    assert entry.blob in store_names(repo)
    collect(git, grace=0)
    assert entry.blob in store_names(repo)
    push_all(repo)
    assert cli("purge", run.id, "--yes").exit_code == 0
    assert entry.blob not in store_names(repo)


def test_a_bar_redrawn_across_checkpoints_before_a_kill_is_recovered_once(repo: Path) -> None:
    code = ("import os, signal, sys, gittrack\n"
            "run = gittrack.init(settings={'quiet': True, 'checkpoint_interval': 3600})\n"
            "print(run.id, flush=True)\n"
            "print('start')\n"
            "for p in range(10, 60, 10):\n"
            "    sys.stderr.write(f'\\rprogress {p}%')\n"
            "    run.log({'p': p})\n"
            "    run._checkpoint()  # a cut: the bar's line is carried to the next segment\n"
            "sys.stderr.write('\\rprogress 60%')\n")
    run_id = killed(code + KILL, repo).stdout.splitlines()[0]
    text = gittrack.Api(recover=True).run(run_id).console()
    assert text == f"{run_id}\nstart\nprogress 60%"


def test_gittracks_own_lines_at_init_and_finish_are_not_captured(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITTRACK_QUIET")
    run = gittrack.init(settings={"checkpoint_interval": 3600})
    print("hello")
    run.finish()
    assert "recording to" in capsys.readouterr().err  # printed, as always
    assert gittrack.Api().run(run.id).console() == "hello\n"


def test_a_bar_redrawn_past_a_full_segment_is_stored_as_one_line(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "SEGMENT_BYTES", 64 * 1024)
    monkeypatch.setattr(console, "MAX_CARRY", 1024)  # far less than a segment of redraws
    capture = Capture(tmp_path / "spool", 0, max_bytes=None, wake=lambda: None)
    capture.write("before\n")
    for i in range(20_000):  # about 300 KB on one line: several segments fill up
        capture.write(f"\rbar {i:5d}/20000")
    capture.write("\nafter\n")
    capture.stop()
    made = capture.cut(RunStorage(open_repo(repo)), final=True)()
    [chunk] = made.tables[layout.CONSOLE_DIR]
    vault = RunStorage(open_repo(repo)).vault
    from gittrack.storage.entry import ManifestEntry

    entries = [ManifestEntry(*row) for row in zip(*(chunk.column(c).to_pylist() for c in (
        "path", "digest", "size", "blob", "ref")), strict=True)]
    text = "".join(vault.cached(e).read_text() for e in entries)
    assert text == "before\nbar 19999/20000\nafter\n"


@pytest.mark.parametrize(("value", "mode"), [("off", "off"), ("0", "off"), ("False", "off"),
                                             ("wrap", "wrap"), ("1", "auto"), ("", "auto")])
def test_the_environment_variable_takes_the_usual_spellings(
    monkeypatch: pytest.MonkeyPatch, value: str, mode: str
) -> None:
    monkeypatch.setenv("GITTRACK_CONSOLE", value)
    assert Settings().console == mode


def test_redirect_also_captures_what_bypasses_sys_stdout(repo: Path) -> None:
    code = ("import os, subprocess, sys, gittrack\n"
            "run = gittrack.init(settings={'quiet': True, 'console': 'redirect'})\n"
            "print('python print', flush=True)\n"
            "os.system('echo from os.system')\n"
            "subprocess.run([sys.executable, '-c', 'print(\"from a subprocess\")'])\n"
            "os.write(1, b'raw fd write\\n')\n"
            "run.finish()\n"
            "print(run.id)\n")
    proc = run_python(code, repo)
    lines = proc.stdout.splitlines()  # still printed where they were going
    assert lines[:4] == ["python print", "from os.system", "from a subprocess", "raw fd write"]
    text = gittrack.Api().run(lines[-1]).console()
    assert text == "python print\nfrom os.system\nfrom a subprocess\nraw fd write\n"


def test_redirect_in_a_process_whose_sys_stdout_is_not_fd_1(
    repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """pytest's (or a notebook's) sys.stdout writes elsewhere than fd 1: it is wrapped too."""
    import os

    run = gittrack.init(settings={"quiet": True, "console": "redirect"})
    print("from python", flush=True)
    os.system("echo from a shell")
    run.finish()
    out = capfd.readouterr().out
    assert "from python" in out and "from a shell" in out
    assert gittrack.Api().run(run.id).console() == "from python\nfrom a shell\n"
    assert "write" not in vars(sys.stdout)


def test_without_posix_fallocate_the_spool_is_written_with_pwrite(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """macOS: no reservation, so no mapping; every write is a pwrite, and a full segment is
    cut as with a mapping."""
    monkeypatch.delattr("os.posix_fallocate")
    monkeypatch.setattr(console, "SEGMENT_BYTES", 64 * 1024)
    capture = Capture(tmp_path / "spool", 0, max_bytes=None, wake=lambda: None)
    assert capture.target is None  # the slow path for every write
    lines = [f"line {i:05d}\n" for i in range(10_000)]  # 110 KB: two segments at least
    for line in lines:
        capture.write(line)
    capture.write("\rbar 1\rbar 2")
    capture.stop()
    made = capture.cut(RunStorage(open_repo(repo)), final=True)()
    [chunk] = made.tables[layout.CONSOLE_DIR]
    assert chunk.num_rows >= 2
    from gittrack.storage.entry import ManifestEntry

    vault = RunStorage(open_repo(repo)).vault
    entries = [ManifestEntry(*row) for row in zip(*(chunk.column(c).to_pylist() for c in (
        "path", "digest", "size", "blob", "ref")), strict=True)]
    assert "".join(vault.cached(e).read_text() for e in entries) == "".join(lines) + "bar 2"
