"""`gittrack textconv FILE` and the diff driver `gittrack hooks install` sets: `git diff` and
`git log -p` of run refs show Parquet chunks as rows, and a hostile file as one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.helpers.repos import git

RUNS = "refs/gittrack/runs"


def test_git_diff_and_log_show_rows_of_parquet_chunks(
        repo: Path, cli: Any, make_run: Callable[..., str]) -> None:
    a = make_run(steps=2, metrics=lambda s: {"loss": 0.5 + s}, config={"lr": 0.1})
    b = make_run(steps=2, metrics=lambda s: {"loss": 123.25 + s}, config={"lr": 0.3})
    assert cli("hooks", "install").exit_code == 0
    diff = git(repo, "diff", f"{RUNS}/{a}", f"{RUNS}/{b}")
    assert "Binary files" not in diff
    assert "-lr: 0.1\n+lr: 0.3\n" in diff  # config.yaml, as git shows YAML
    assert "+++ b/history/0/000000.parquet" in diff
    removed = [line for line in diff.splitlines() if line.startswith("-_step=")]
    added = [line for line in diff.splitlines() if line.startswith("+_step=")]
    assert removed[0].endswith("loss=0.5") and removed[1].endswith("loss=1.5")
    assert added[0].endswith("loss=123.25") and added[1].endswith("loss=124.25")
    log = git(repo, "log", "-p", f"{RUNS}/{b}")
    assert "Binary files" not in log and "+_step=1" in log and "loss=124.25" in log
    assert "parquet: 2 rows" in log


def test_git_diff_of_a_forged_chunk_shows_one_line_and_succeeds(repo: Path, cli: Any) -> None:
    cli("hooks", "install")
    blob = run_git(repo, ["hash-object", "-w", "--stdin"], b"PAR1" + b"\0" * 64 + b"PAR1")
    tree = run_git(repo, ["mktree"], f"100644 blob {blob}\tforged.parquet\n".encode())
    commit = run_git(repo, ["commit-tree", tree, "-m", "forged"], b"")
    shown = git(repo, "show", commit)  # check=True: git must not fail
    assert "+not a readable Parquet file: " in shown and "Binary files" not in shown


def run_git(repo: Path, args: list[str], stdin: bytes) -> str:
    import subprocess

    done = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True,
                          check=True)
    return done.stdout.decode().strip()


def test_hostile_parquet_prints_one_line_and_exits_0(tmp_path: Path, cli: Any) -> None:
    for name, data in [("forged.parquet", b"PAR1" + b"\xff" * 40 + b"PAR1"),
                       ("empty.parquet", b""), ("text.parquet", b"not parquet at all\n")]:
        path = tmp_path / name
        path.write_bytes(data)
        result = cli("textconv", str(path))
        assert result.exit_code == 0, result
        lines = result.stdout.splitlines()
        assert len(lines) == 1 and lines[0].startswith("not a readable Parquet file: ")


def test_rows_beyond_the_bound_are_counted_and_yaml_is_printed_as_is(
        tmp_path: Path, cli: Any) -> None:
    import pyarrow as pa

    from gittrack.formats.table import encode

    path = tmp_path / "chunk.parquet"
    path.write_bytes(encode(pa.table({"_step": list(range(250)), "on": [True] * 250})))
    lines = cli("textconv", str(path)).stdout.splitlines()
    assert lines[:2] == ["parquet: 250 rows, 2 columns", "columns: _step int64, on bool"]
    assert lines[2] == "_step=0  on=true" and lines[201] == "_step=199  on=true"
    assert lines[202:] == ["... 50 more rows"]
    yaml = tmp_path / "config.yaml"
    yaml.write_text("lr:\n  value: 0.1\n")
    assert cli("textconv", str(yaml)).stdout == "lr:\n  value: 0.1\n"
