from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import gittrack
from tests.helpers.cli import CliResult

Cli = Callable[..., CliResult]
MakeRun = Callable[..., str]


def sparse(step: int) -> dict[str, Any]:
    row: dict[str, Any] = {"loss": 100.0 - step, "name": f"s{step}"}
    if step % 10 == 0:
        row["val/acc"] = step / 100
    return row


@pytest.fixture
def long_run(make_run: MakeRun) -> str:
    return make_run(name="long", steps=45, metrics=sparse)


def table(result: CliResult) -> list[list[str]]:
    return [line.split() for line in result.stdout.rstrip("\n").splitlines()]


def test_default_is_the_last_20_rows_of_every_key(cli: Cli, long_run: str) -> None:
    result = cli("log", "long")
    assert result.exit_code == 0, result.stderr
    rows = table(result)
    assert rows[0] == ["_step", "loss", "name", "val/acc"]
    assert [r[0] for r in rows[1:]] == [str(s) for s in range(25, 45)]
    assert rows[1] == ["25", "75", "s25", "-"]
    assert rows[6] == ["30", "70", "s30", "0.3"]


def test_rows_and_all(cli: Cli, long_run: str) -> None:
    assert [r[0] for r in table(cli("log", long_run, "-n", "3"))[1:]] == ["42", "43", "44"]
    assert len(table(cli("log", long_run, "--all"))) == 46
    assert len(table(cli("log", long_run, "--rows", "100"))) == 46


def test_keys_select_columns_and_rows_that_have_them(cli: Cli, long_run: str) -> None:
    rows = table(cli("log", long_run, "-k", "val/acc", "--all"))
    assert rows == [["_step", "val/acc"], ["0", "0"], ["10", "0.1"], ["20", "0.2"],
                    ["30", "0.3"], ["40", "0.4"]]
    rows = table(cli("log", long_run, "-k", "loss", "-k", "_runtime", "-n", "2"))
    assert rows[0] == ["_step", "loss", "_runtime"]
    assert [r[0] for r in rows[1:]] == ["43", "44"]


def test_json_rows(cli: Cli, long_run: str) -> None:
    data = json.loads(cli("log", long_run, "-n", "2", "--json").stdout)
    assert data == [{"_step": 43, "loss": 57.0, "name": "s43", "val/acc": None},
                    {"_step": 44, "loss": 56.0, "name": "s44", "val/acc": None}]


def test_csv_rows(cli: Cli, long_run: str) -> None:
    out = cli("log", long_run, "--csv", "-k", "val/acc", "-k", "loss", "--all").stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["_step", "val/acc", "loss"]
    assert rows[1:3] == [["0", "0.0", "100.0"], ["1", "", "99.0"]]
    assert len(rows) == 46
    full = list(csv.reader(io.StringIO(cli("log", long_run, "--csv", "-n", "1").stdout)))
    assert full == [["_step", "loss", "name", "val/acc"], ["44", "56.0", "s44", ""]]


def test_non_finite_values(cli: Cli, make_run: MakeRun) -> None:
    run_id = make_run(steps=2, metrics=lambda i: {"x": [float("nan"), float("inf")][i]})
    assert json.loads(cli("log", run_id, "--json").stdout) == [
        {"_step": 0, "x": "NaN"}, {"_step": 1, "x": "Infinity"}]
    assert table(cli("log", run_id))[1:] == [["0", "nan"], ["1", "inf"]]
    assert cli("log", run_id, "--csv").stdout.splitlines()[1:] == ["0,nan", "1,inf"]


def test_unknown_key_names_the_logged_ones(cli: Cli, long_run: str) -> None:
    result = cli("log", long_run, "-k", "loss", "-k", "accuracy")
    assert result.exit_code == 4
    assert "'accuracy' not in this run's history" in result.stderr
    assert "logged keys: loss, name, val/acc" in result.stderr


def test_json_and_csv_together_is_a_usage_error(cli: Cli, long_run: str) -> None:
    result = cli("log", long_run, "--json", "--csv")
    assert result.exit_code == 2
    assert "--json and --csv" in result.stderr


def test_a_run_without_history(repo: Path, cli: Cli, fast_settings: dict[str, object]) -> None:
    run = gittrack.init(name="empty", settings=fast_settings)
    run.finish()
    result = cli("log", "empty")
    assert result.exit_code == 0
    assert "has no history rows yet" in result.stdout
    assert json.loads(cli("log", "empty", "--json").stdout) == []
    assert cli("log", "empty", "--csv").stdout == "_step\n"


def test_out_of_order_steps_are_shown_in_arrival_order(
    repo: Path, cli: Cli, fast_settings: dict[str, object]
) -> None:
    run = gittrack.init(settings=fast_settings)
    run.log({"x": 1}, step=5, commit=True)
    with pytest.warns(gittrack.GittrackWarning):
        run.log({"x": 2}, step=2)
    run.finish()
    assert [r[0] for r in table(cli("log", run.id))[1:]] == ["5", "2"]


def test_unknown_run(repo: Path, cli: Cli) -> None:
    result = cli("log", "nope")
    assert result.exit_code == 4
    assert "no run matches 'nope'" in result.stderr
