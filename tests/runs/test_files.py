"""Files saved with a run (``runs.files``): names, policies, the manifest in the commits."""

from __future__ import annotations

from pathlib import Path

import pytest

from gittrack.errors import InvalidValueError, UsageError
from gittrack.git import objects
from gittrack.runs import layout
from gittrack.runs.files import matches, stored_files
from tests.helpers.runs import start_run


def test_names_follow_w_and_b_rules(repo: Path) -> None:
    (repo / "out" / "deep").mkdir(parents=True)
    for name in ("out/a.pt", "out/deep/b.pt", "out/c.txt"):
        (repo / name).write_text(name)
    assert matches("out/*.pt", None) == {"out/a.pt": str(repo / "out" / "a.pt")}
    assert sorted(matches("out/**/*.pt", None)) == ["out/a.pt", "out/deep/b.pt"]
    assert sorted(matches(str(repo / "out" / "**" / "*.pt"), None)) == ["a.pt", "deep/b.pt"]
    assert sorted(matches("out/**/*.pt", "out")) == ["a.pt", "deep/b.pt"]
    assert matches("out/nothing-*.bin", None) == {}
    assert matches("later.txt", None) == {"later.txt": str(repo / "later.txt")}
    with pytest.raises(UsageError):
        matches("", None)


def test_save_writes_the_manifest_in_the_next_checkpoint(repo: Path) -> None:
    (repo / "w.bin").write_bytes(b"w1")
    run = start_run()
    assert run.save("w.bin", policy="now") == ["w.bin"]
    with pytest.raises(InvalidValueError, match="policy"):
        run.save("w.bin", policy="often")
    run._checkpoint()  # what the thread does within checkpoint_interval
    head = run.commit
    assert head is not None
    entries = stored_files(run._repo, head)
    assert [(e.path, e.size) for e in entries] == [("w.bin", 2)]
    (repo / "w.bin").write_bytes(b"w2 longer")
    run.save("w.bin", policy="now")
    run.finish()
    assert run.commit is not None
    assert [(e.path, e.size) for e in stored_files(run._repo, run.commit)] == [("w.bin", 9)]
    tree = objects.commit_tree(run._repo, run.commit)
    assert objects.read_file(run._repo, tree, layout.FILES_MANIFEST) is not None
    assert layout.FILES_DIR in layout.STORED_FILE_DIRS


def test_a_run_that_saves_nothing_has_no_files_folder(repo: Path) -> None:
    run = start_run()
    run.log({"x": 1})
    run.finish()
    assert run.commit is not None and stored_files(run._repo, run.commit) == []


def test_a_saved_file_survives_kill_9_once_save_returned(repo: Path) -> None:
    import os
    import subprocess
    import sys

    import gittrack

    (repo / "ckpt.bin").write_bytes(b"weights")
    script = ("import os, gittrack\n"
              "run = gittrack.init(settings={'checkpoint_interval': 3600, 'console': 'off'})\n"
              "run.save('ckpt.bin', policy='now')\n"
              "print(run.id, flush=True)\n"
              "os.kill(os.getpid(), 9)\n")
    checkout = Path(gittrack.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-c", script], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    run_id = done.stdout.split()[0]
    view = gittrack.Api(repo, recover=True).run(run_id)
    assert [e.path for e in stored_files(view.repo, view.commit)] == ["ckpt.bin"]
