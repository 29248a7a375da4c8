"""The live run: logging, steps, summaries, config, checkpoints, threads, fork, bad input."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gittrack
from gittrack.errors import (
    GittrackError,
    InvalidKeyError,
    InvalidValueError,
    RunFinishedError,
    StepOrderError,
)
from gittrack.runs.view import RunView
from tests.helpers.processes import LOG_UNTIL_FULL, run_python
from tests.helpers.repos import git, make_repo
from tests.helpers.runs import FAST, start_run
from tests.helpers.tables import canon
from tests.helpers.threads import in_threads
from tests.helpers.values import SURROGATE, deep, flatten, widened


def view(run_id: str) -> RunView:
    """A fresh reader, as another process would be."""
    return gittrack.Api(".").run(run_id)


def rows(run_id: str) -> list[dict[str, Any]]:
    """History rows without the time columns and without the keys a row lacks."""
    out = []
    for row in view(run_id).history(format="arrow").to_pylist():
        out.append({k: v for k, v in row.items()
                    if v is not None and k not in ("_timestamp", "_runtime")})
    return out


# -- basics ----------------------------------------------------------------------------------
def test_log_and_read_back(repo: Path) -> None:
    run = start_run(config={"lr": 0.1})
    for i in range(5):
        run.log({"loss": 1.0 / (i + 1), "epoch": i // 2, "phase": "train"})
    assert run.step == 5
    run.finish()
    v = view(run.id)
    assert v.state == "finished"
    assert rows(run.id) == [{"_step": i, "loss": 1.0 / (i + 1), "epoch": i // 2,
                             "phase": "train"} for i in range(5)]
    assert v.summary == {"loss": 0.2, "epoch": 2, "phase": "train"}
    assert v.config == {"lr": 0.1}
    assert v.metadata["steps"] == 5
    assert v.metadata["exit_code"] == 0


def test_identity(repo: Path) -> None:
    run = start_run(name="my-name", project="proj", group="g", job_type="train", tags=["a", "b"],
                notes="n")
    assert run.ref == f"refs/gittrack/runs/{run.id}"
    assert (run.name, run.project, run.group, run.job_type, run.notes) == (
        "my-name", "proj", "g", "train", "n")
    assert run.tags == ("a", "b")
    assert run.state == "running"
    assert run.id in repr(run)
    run.name = "renamed"
    run.tags = ["c"]
    run.notes = "changed"
    run.finish()
    v = view(run.id)
    assert (v.name, v.tags, v.notes, v.project, v.group, v.job_type) == (
        "renamed", ["c"], "changed", "proj", "g", "train")
    assert git(repo, "rev-parse", run.ref).strip() == run.commit


def test_the_run_is_visible_while_running(repo: Path) -> None:
    run = start_run()
    assert view(run.id).state == "running"  # the first checkpoint is made by init()
    run.finish()


def test_metadata(repo: Path) -> None:
    run = start_run()
    run.finish(exit_code=0)
    meta = view(run.id).metadata
    for field in ("id", "name", "project", "state", "created_at", "updated_at", "ended_at",
                  "duration", "exit_code", "host", "user", "os", "python", "program", "args",
                  "gittrack_version", "code"):
        assert field in meta, field
    assert meta["format"] == 2
    assert meta["project"] == "project"  # the repository folder's name
    assert meta["code"]["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert meta["code"]["branch"] == "main"
    assert meta["code"]["dirty"] is False
    assert meta["duration"] >= 0
    assert meta["gittrack_version"] == gittrack.__version__


def test_nested_dicts_flatten(repo: Path) -> None:
    run = start_run()
    run.log({"train": {"loss": 1.0, "acc": {"top1": 0.5}}, "lr": 0.1})
    run.finish()
    assert rows(run.id) == [{"_step": 0, "train/loss": 1.0, "train/acc/top1": 0.5, "lr": 0.1}]
    assert view(run.id).summary == {"train/loss": 1.0, "train/acc/top1": 0.5, "lr": 0.1}


def test_sparse_keys_are_nulls(repo: Path) -> None:
    run = start_run()
    run.log({"a": 1})
    run.log({"b": 2.5})
    run.log({"a": 3, "c": "x"})
    run.finish()
    table = view(run.id).history(format="arrow")
    assert table.column("a").to_pylist() == [1, None, 3]
    assert table.column("b").to_pylist() == [None, 2.5, None]
    assert table.column("c").to_pylist() == [None, None, "x"]
    df = view(run.id).history()
    assert math.isnan(df["b"][0]) and df["b"][1] == 2.5


def test_values_numpy_tensors_nan_and_inf(repo: Path) -> None:
    class FakeTensor:
        def __init__(self, value: float) -> None:
            self.value = value

        def numel(self) -> int:
            return 1

        def item(self) -> float:
            return self.value

    run = start_run()
    run.log({"f32": np.float32(0.5), "i64": np.int64(7), "b": np.bool_(True),
             "zero_d": np.array(2.5), "one": np.array([3.0]), "t": FakeTensor(0.25),
             "nan": math.nan, "inf": math.inf, "ninf": -math.inf, "label": np.str_("cat")})
    run.finish()
    (row,) = view(run.id).history(format="arrow").to_pylist()
    assert row["f32"] == 0.5 and row["i64"] == 7 and row["b"] is True
    assert row["zero_d"] == 2.5 and row["one"] == 3.0 and row["t"] == 0.25
    assert math.isnan(row["nan"]) and row["inf"] == math.inf and row["ninf"] == -math.inf
    assert row["label"] == "cat"
    summary = view(run.id).summary
    assert math.isnan(summary["nan"]) and summary["inf"] == math.inf


def test_key_kinds_widen_bool_int_float(repo: Path) -> None:
    run = start_run(settings={"checkpoint_interval": 0.01, "quiet": True})
    run.log({"x": True})
    time.sleep(0.1)  # separate checkpoints: one chunk per type
    run.log({"x": 2})
    time.sleep(0.1)
    run.log({"x": 2.5})
    run.finish()
    assert view(run.id).history(format="arrow").column("x").to_pylist() == [1.0, 2.0, 2.5]


def test_histograms(repo: Path) -> None:
    run = start_run()
    run.log({"w": gittrack.Histogram(np.arange(10.0), num_bins=5), "loss": 1.0})
    run.log({"w": gittrack.Histogram(np.arange(20.0), num_bins=4)})
    run.finish()
    v = view(run.id)
    hist = v.histograms("w", format="arrow").to_pylist()
    assert [(h["_step"], h["counts"]) for h in hist] == [(0, [2.0] * 5), (1, [5.0] * 4)]
    assert rows(run.id) == [{"_step": 0, "loss": 1.0}]  # histograms are not history columns
    assert v.summary["w"]["_type"] == "histogram"


# -- round trip ------------------------------------------------------------------------------
KINDS = {"a": "num", "b": "num", "s": "str", "n/x": "num", "n/y": "str", "ü/キー": "num"}
NUM = (st.integers(-(2**40), 2**40) | st.floats(allow_nan=True, allow_infinity=True)
       | st.booleans())
STR = st.text(max_size=10)


@st.composite
def log_calls(draw: st.DrawFn) -> list[dict[str, Any]]:
    calls = []
    for _ in range(draw(st.integers(1, 8))):
        keys = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=4, unique=True))
        flat = {k: draw(NUM if KINDS[k] == "num" else STR) for k in keys}
        data: dict[str, Any] = {}
        for key, value in flat.items():  # n/x is logged nested: {"n": {"x": ...}}
            head, _, rest = key.partition("/")
            if head == "n" and rest:
                data.setdefault("n", {})[rest] = value
            else:
                data[key] = value
        calls.append(data)
    return calls


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=log_calls())
def test_logged_data_reads_back_equal(repo: Path, calls: list[dict[str, Any]]) -> None:
    run = start_run(settings={"checkpoint_interval": 0.001, "quiet": True})
    for data in calls:
        run.log(data)
    run.finish()
    table = view(run.id).history(format="arrow")
    flat = [flatten(c) for c in calls]
    assert table.column("_step").to_pylist() == list(range(len(calls)))
    keys = {k for f in flat for k in f}
    assert set(table.column_names) == {"_step", "_timestamp", "_runtime", *keys}
    for key in keys:
        want = widened([f.get(key) for f in flat])
        got = table.column(key).to_pylist()
        assert canon(got) == canon(want), key
        assert [type(g) for g in got] == [type(w) for w in want], key


# -- steps ------------------------------------------------------------------------------------
def test_commit_false_accumulates(repo: Path) -> None:
    run = start_run()
    run.log({"a": 1}, commit=False)
    run.log({"b": 2}, commit=False)
    assert run.step == 0
    run.log({"c": 3})
    run.log({"a": 4})
    run.finish()
    assert rows(run.id) == [{"_step": 0, "a": 1, "b": 2, "c": 3}, {"_step": 1, "a": 4}]


def test_explicit_steps_stay_open_until_a_higher_step(repo: Path) -> None:
    run = start_run()
    run.log({"loss": 1.0}, step=10)
    run.log({"acc": 0.5}, step=10)
    run.log({"loss": 0.5}, step=20)
    run.log({"acc": 0.7})  # joins the open step 20 and commits it
    run.log({"loss": 0.1})
    run.finish()
    assert rows(run.id) == [
        {"_step": 10, "loss": 1.0, "acc": 0.5},
        {"_step": 20, "loss": 0.5, "acc": 0.7},
        {"_step": 21, "loss": 0.1},
    ]


def test_finish_commits_the_open_step(repo: Path) -> None:
    run = start_run()
    run.log({"x": 1}, step=3)
    run.finish()
    assert rows(run.id) == [{"_step": 3, "x": 1}]
    assert view(run.id).metadata["steps"] == 4


def test_out_of_order_steps_are_kept_with_one_warning(repo: Path) -> None:
    run = start_run()
    for i in range(3):
        run.log({"a": i})
    with pytest.warns(gittrack.GittrackWarning, match="step 1 is lower than the current step 3"):
        run.log({"b": 10}, step=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # only once per run
        run.log({"b": 20}, step=0)
    run.log({"a": 3})
    run.finish()
    assert rows(run.id) == [{"_step": 0, "a": 0}, {"_step": 1, "a": 1}, {"_step": 2, "a": 2},
                            {"_step": 1, "b": 10}, {"_step": 0, "b": 20}, {"_step": 3, "a": 3}]


def test_out_of_order_raise_keeps_what_was_logged(repo: Path) -> None:
    run = start_run(settings={**FAST, "out_of_order": "raise"})
    run.log({"a": 1}, step=5)
    run.log({"a": 2}, step=6)
    with pytest.raises(StepOrderError, match="step 2 is lower than the current step 6"):
        run.log({"a": 3, "new": "text"}, step=2)
    run.log({"new": 1.0})  # the refused call registered nothing
    run.finish()
    assert rows(run.id) == [{"_step": 5, "a": 1}, {"_step": 6, "a": 2, "new": 1.0}]


@pytest.mark.parametrize("step", ["3", 1.5, -1, True, 2**63, None.__class__, [1]])
def test_step_of_the_wrong_type(repo: Path, step: Any) -> None:
    run = start_run()
    run.log({"a": 1})
    with pytest.raises(InvalidValueError, match="step must be"):
        run.log({"a": 2, "fresh": "s"}, step=step)
    run.log({"fresh": 2.0})  # the refused call left no trace, not even the key's kind
    run.finish()
    assert rows(run.id) == [{"_step": 0, "a": 1}, {"_step": 1, "fresh": 2.0}]


def test_numpy_integer_steps(repo: Path) -> None:
    run = start_run()
    run.log({"a": 1}, step=np.int64(4))
    run.finish()
    assert rows(run.id) == [{"_step": 4, "a": 1}]


def test_commit_of_the_wrong_type(repo: Path) -> None:
    run = start_run()
    with pytest.raises(InvalidValueError, match="commit"):
        run.log({"a": 1}, commit="yes")  # type: ignore[arg-type]
    run.finish()


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        ({"obj": object()}, InvalidValueError, "'obj'.*object"),
        ({"raw": b"bytes"}, InvalidValueError, "'raw'.*bytes"),
        ({"z": 1 + 2j}, InvalidValueError, "'z'.*complex"),
        ({"lst": [1, 2]}, InvalidValueError, "'lst'.*list"),
        ({"arr": np.array([1.0, 2.0])}, InvalidValueError, "'arr'.*ndarray"),
        ({"big": 2**64}, InvalidValueError, "'big'.*64 bits"),
        ({1: 1.0}, InvalidKeyError, "int"),
        ({"": 1.0}, InvalidKeyError, "empty"),
        ({"a//b": 1.0}, InvalidKeyError, "'a//b'"),
        ({"_step": 1}, InvalidKeyError, "'_step'.*reserved"),
        ({"a\tb": 1.0}, InvalidKeyError, "control character"),
        ({"k" * 513: 1.0}, InvalidKeyError, "513 characters"),
        ({"loss": "high"}, InvalidValueError, "'loss' was logged as a number"),
        ({"ok": 1.0, "nested": {"bad": object()}}, InvalidValueError, "'nested/bad'"),
    ],
)
def test_bad_input_is_refused_and_harms_nothing(
    repo: Path, data: dict[Any, Any], error: type[Exception], message: str
) -> None:
    run = start_run()
    run.log({"loss": 1.0})
    with pytest.raises(error, match=message) as info:
        run.log(data)
    assert isinstance(info.value, GittrackError)
    run.log({"loss": 0.5, "ok": 2.0})
    run.finish()
    assert rows(run.id) == [{"_step": 0, "loss": 1.0}, {"_step": 1, "loss": 0.5, "ok": 2.0}]
    assert view(run.id).state == "finished"


# -- text and nesting a run cannot store: refused where they enter, the run goes on -----------
def _set_item(mapping: Any, key: Any, value: Any) -> None:
    mapping[key] = value


@pytest.mark.parametrize(
    ("action", "error", "message"),
    [
        (lambda r: r.log({"f": SURROGATE}), InvalidValueError, r"'f'.*surrogate.*position 3"),
        (lambda r: r.log({"files": {"a": SURROGATE}}), InvalidValueError, r"'files/a'.*pos"),
        (lambda r: r.log({"caf\udce9": 1.0}), InvalidKeyError, r"surrogate.*position 3"),
        (lambda r: r.log({"s": "x" * (2**20 + 1)}), InvalidValueError, r"'s'.*1048577"),
        (lambda r: r.log({"d": deep(500)}), GittrackError, "'d/k/k"),
        (lambda r: r.config.update({"p": SURROGATE}), InvalidValueError, r"'config\.p'.*pos"),
        (lambda r: _set_item(r.config, "p", [SURROGATE]), InvalidValueError, r"p\[0\]"),
        (lambda r: setattr(r.config, "p", {"q": SURROGATE}), InvalidValueError, r"p\.q"),
        (lambda r: r.config.update({SURROGATE: 1}), InvalidKeyError, "surrogate"),
        (lambda r: r.config.update({"a\x00b": 1}), InvalidKeyError, "control character"),
        (lambda r: r.config.update({"m": {1: 1, "1": 2}}), InvalidKeyError, "twice"),
        (lambda r: r.config.update({"d": deep(500)}), InvalidValueError, "64 levels"),
        (lambda r: r.config.update({"n": 2**2000}), InvalidValueError, "2001 bits"),
        (lambda r: r.summary.update({"s": SURROGATE}), InvalidValueError, r"'summary\.s'"),
        (lambda r: _set_item(r.summary, SURROGATE, 1), InvalidKeyError, "surrogate"),
        (lambda r: r.summary.update({"d": deep(500)}), InvalidValueError, "64 levels"),
        (lambda r: r.define_metric(SURROGATE), InvalidKeyError, "surrogate"),
        (lambda r: r.define_metric("a\nb"), InvalidKeyError, "control character"),
        (lambda r: r.define_metric("a", step_metric=SURROGATE), InvalidKeyError, "surrogate"),
        (lambda r: setattr(r, "name", SURROGATE), InvalidValueError, r"name.*position 3"),
        (lambda r: setattr(r, "name", "two\nlines"), InvalidValueError, "control character"),
        (lambda r: setattr(r, "name", None), InvalidValueError, "name must be a string"),
        (lambda r: setattr(r, "notes", SURROGATE), InvalidValueError, r"notes.*position 3"),
        (lambda r: setattr(r, "tags", ["ok", SURROGATE]), InvalidValueError, "tag"),
    ],
)
def test_what_cannot_be_stored_is_refused_where_it_enters(
    repo: Path, action: Any, error: type[Exception], message: str
) -> None:
    run = start_run(name="kept", notes="n")
    run.log({"loss": 1.0})
    run.config["lr"] = 0.1
    with pytest.raises(error, match=message) as info:
        action(run)
    assert isinstance(info.value, GittrackError)
    run.log({"loss": 0.5})
    run.summary["best"] = 0.5
    time.sleep(0.3)  # a checkpoint in between: the refused value must not break it
    run.finish()
    stored = view(run.id)
    assert stored.state == "finished"
    assert stored.config == {"lr": 0.1}
    assert stored.summary == {"loss": 0.5, "best": 0.5}
    assert (stored.name, stored.notes, stored.tags) == ("kept", "n", [])
    assert stored.metadata["metrics"] == {}
    assert rows(run.id) == [{"_step": 0, "loss": 1.0}, {"_step": 1, "loss": 0.5}]


def test_text_that_utf8_stores_is_kept_exactly(repo: Path) -> None:
    text = "nul\x00 esc\x1b[31m tab\t nl\n \u2028 \ufeff \x85 \U0001f642 \uffff"
    run = start_run(notes=text)
    run.log({"s": text, "n": 1.0})
    run.log({"s": text, "n": 2.0})  # the fast path of a known string key
    run.config.update({"t": text, "l": [text], "big": 2**200, "nan": math.nan})
    run.summary["t"] = text
    run.finish()
    stored = view(run.id)
    assert [r["s"] for r in rows(run.id)] == [text, text]
    assert stored.notes == text
    assert canon(stored.config) == canon(
        {"t": text, "l": [text], "big": 2**200, "nan": math.nan})
    assert stored.summary["t"] == text


def test_config_and_summary_documents_are_bounded(repo: Path) -> None:
    """A reader loads at most so much YAML: what would make config.yaml (or the summary a user
    sets) larger than ``MAX_DOCUMENT_BYTES`` is refused, and the run goes on."""
    mib = "x" * 2**20
    big = {f"k{i}": mib for i in range(4)}
    with pytest.raises(InvalidValueError, match=r"config\.yaml would take 4,194,[0-9]+ bytes"):
        start_run(config=big)
    run = start_run(config={"a": mib})
    with pytest.raises(InvalidValueError, match=r"config\.yaml.*the limit is 4,194,304"):
        run.config.update({f"k{i}": mib for i in range(3)})
    run.config.update({f"k{i}": mib for i in range(2)})
    del run.config["k1"]  # room again for one
    run.config["k2"] = mib
    with pytest.raises(InvalidValueError, match=r"summary\.yaml.*largest entry, 'k0'"):
        run.summary.update(big)
    run.summary.update({"k0": "small"})
    run.finish()
    stored = view(run.id)
    assert stored.config == {"a": mib, "k0": mib, "k2": mib}
    assert stored.summary == {"k0": "small"}


def test_long_logged_strings_are_cut_in_the_summary_and_kept_whole_in_the_history(
    repo: Path,
) -> None:
    """Regression: 17 keys of a 1M-character string made summary.yaml 17 MB, more than a
    reader loads, and the run vanished from every listing. The summary keeps the first
    ``MAX_SUMMARY_STRING`` characters of a logged string; the history keeps it all."""
    from gittrack.formats.values import MAX_SUMMARY_STRING

    run = start_run()
    for i in range(17):
        run.log({f"sample{i}": "y" * 1_000_000})
    run.define_metric("agg", summary="first,last")
    run.log({"agg": "z" * 5000})
    run.summary["mine"] = "w" * 100_000  # set by the user: bounded as a document, kept whole
    run.finish()
    stored = view(run.id)
    assert stored.summary["sample16"] == "y" * MAX_SUMMARY_STRING
    assert stored.summary["agg"] == {"first": "z" * MAX_SUMMARY_STRING,
                                     "last": "z" * MAX_SUMMARY_STRING}
    assert stored.summary["mine"] == "w" * 100_000
    assert gittrack.Api(repo).run(run.id).history(keys=["sample16"])["sample16"].dropna().tolist() \
        == ["y" * 1_000_000]
    assert [r.id for r in gittrack.Api(repo).runs()] == [run.id]


def test_the_text_of_an_open_step_is_bounded_as_one_call(repo: Path) -> None:
    """resume.yaml holds the open step whole: commit=False calls cannot pile up text in it
    past what one call may hold."""
    run = start_run()
    run.log({"a": "x" * 600_000}, commit=False)
    with pytest.raises(InvalidValueError, match=r"open step would hold 1,200,000 characters"):
        run.log({"b": "y" * 600_000}, commit=False)
    run.log({"b": "y" * 300_000}, step=0)  # merges: 900,000
    run.log({"c": "z" * 600_000}, step=1)  # a new step: the old one is committed
    with pytest.warns(gittrack.errors.GittrackWarning, match="lower than"):
        run.log({"d": "w" * 600_000}, step=0)  # out of order, a row of its own
    run.log({"e": "v" * 300_000})  # merges into step 1: 900,000
    run.finish()
    stored = rows(run.id)
    assert [sorted(r) for r in stored] == [["_step", "a", "b"], ["_step", "d"], ["_step", "c", "e"]]


def test_keys_beyond_what_the_summary_may_hold_are_refused(repo: Path) -> None:
    """Each new key is charged what it may add to summary.yaml and resume.yaml (with its
    kind): the call that would pass ``MAX_LOGGED_BYTES`` is refused naming a key and the
    limit, and everything before it is stored and readable."""
    from gittrack.formats.values import MAX_LOGGED_BYTES

    run = start_run()
    accepted = 0
    with pytest.raises(InvalidValueError, match=rf"metric 'k.*limit is {MAX_LOGGED_BYTES:,}"):
        for batch in range(100):
            run.log({f"k{batch:03d}_{i:04d}" + "x" * 490: float(i) for i in range(500)})
            accepted += 500
    run.log({"k000_0000" + "x" * 490: 1.0})  # known keys go on
    run.finish()
    assert 5000 < accepted < 10_000
    stored = view(run.id)
    assert len(stored.summary) == accepted


def test_define_metric_aggregates_are_charged_and_refused_past_the_bound(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gittrack.formats import values

    monkeypatch.setattr(values, "MAX_LOGGED_BYTES", 100_000)
    run = start_run()
    run.log({f"s{i}": "text" for i in range(10)})  # 10 string keys: ~57 KB charged
    with pytest.raises(InvalidValueError, match="limit is 100,000"):
        run.define_metric("s*", summary="first,last")
    run.define_metric("s*", summary="last")  # no growth: accepted
    run.finish()
    assert view(run.id).summary["s0"] == "text"


def test_the_number_of_metric_definitions_is_bounded(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gittrack.runs import live

    monkeypatch.setattr(live, "MAX_METRICS", 2)
    run = start_run()
    run.define_metric("a", summary="max")
    run.define_metric("b", summary="min")
    with pytest.raises(InvalidValueError, match="at most 2 metrics"):
        run.define_metric("c", summary="min")
    run.define_metric("a", summary="min")  # a definition replaced: no growth
    run.finish()
    assert sorted(view(run.id).metadata["metrics"]) == ["a", "b"]


def test_tags_and_notes_that_would_make_run_yaml_unreadable_are_refused(repo: Path) -> None:
    """Regression: two million tags were accepted and run.yaml became 20.9 MB."""
    from gittrack.formats.values import MAX_FIELD_BYTES, MAX_TAGS

    run = start_run()
    with pytest.raises(InvalidValueError, match=f"at most {MAX_TAGS:,} tags"):
        run.tags = [f"t{i}" for i in range(2_000_000)]
    limit = f"the limit is {MAX_FIELD_BYTES:,}"
    with pytest.raises(InvalidValueError, match=f"tags would take .* {limit}"):
        run.tags = [f"{i:04d}" + "t" * 500 for i in range(MAX_TAGS)]
    with pytest.raises(InvalidValueError, match=f"notes would take .* {limit}"):
        run.notes = "\x01" * 1_000_000  # escaped by YAML: 4 MB
    run.tags = ["a", "b"]
    run.notes = "n" * 1_000_000
    run.finish()
    with pytest.raises(InvalidValueError, match="at most"):
        gittrack.init(tags=[f"t{i}" for i in range(MAX_TAGS + 1)], settings={"quiet": True})
    stored = view(run.id)
    assert list(stored.tags) == ["a", "b"] and stored.notes == "n" * 1_000_000
    assert [r.id for r in gittrack.Api(repo).runs()] == [run.id]


def test_log_takes_a_dict(repo: Path) -> None:
    run = start_run()
    with pytest.raises(InvalidValueError, match="got list"):
        run.log([("a", 1)])  # type: ignore[arg-type]
    run.finish()


def test_huge_and_unicode_keys(repo: Path) -> None:
    long_key = "k" * 512
    keys = [long_key, "損失", "ключ/значение", "emoji 🙂", "a.b c"]
    run = start_run()
    run.log({k: float(i) for i, k in enumerate(keys)})
    run.config["ключ"] = "значение"
    run.finish()
    assert rows(run.id) == [{"_step": 0, **{k: float(i) for i, k in enumerate(keys)}}]
    assert set(view(run.id).summary) == set(keys)
    assert view(run.id).config == {"ключ": "значение"}


def test_logging_after_finish(repo: Path) -> None:
    run = start_run()
    run.log({"a": 1})
    run.finish()
    run.finish()  # a second finish does nothing
    with pytest.raises(RunFinishedError, match=run.id):
        run.log({"a": 2})
    with pytest.raises(RunFinishedError):
        run.config["x"] = 1
    with pytest.raises(RunFinishedError):
        run.summary["x"] = 1
    with pytest.raises(RunFinishedError):
        run.define_metric("a", summary="max")
    assert rows(run.id) == [{"_step": 0, "a": 1}]


# -- summary, define_metric, config -----------------------------------------------------------
def test_define_metric_summaries(repo: Path) -> None:
    run = start_run()
    run.define_metric("loss", summary="min")
    run.define_metric("acc", summary="max")
    run.define_metric("lr", summary="mean")
    run.define_metric("first_seen", summary="first")
    run.define_metric("last_seen", summary="last")
    run.define_metric("hidden", summary="none")
    run.define_metric("val/*", summary="min,max")
    run.define_metric("epoch_loss", step_metric="epoch", summary=["min", "last"],
                      goal="minimize")
    for i, loss in enumerate([3.0, 1.0, 2.0]):
        run.log({"loss": loss, "acc": loss / 4, "lr": float(i), "first_seen": i,
                 "last_seen": i, "hidden": i, "val/a": loss, "val/b": -loss,
                 "epoch_loss": loss, "epoch": i})
    run.finish()
    summary = view(run.id).summary
    assert summary == {
        "loss": {"min": 1.0}, "acc": {"max": 0.75}, "lr": {"mean": 1.0},
        "first_seen": {"first": 0}, "last_seen": 2, "val/a": {"min": 1.0, "max": 3.0},
        "val/b": {"min": -3.0, "max": -1.0}, "epoch_loss": {"min": 1.0, "last": 2.0},
        "epoch": 2,
    }
    metrics = view(run.id).metadata["metrics"]
    assert metrics["epoch_loss"] == {"summary": ["min", "last"], "step_metric": "epoch",
                                     "goal": "minimize"}
    assert metrics["val/*"] == {"summary": ["min", "max"]}


def test_define_metric_bad_input(repo: Path) -> None:
    run = start_run()
    with pytest.raises(InvalidValueError, match="median"):
        run.define_metric("loss", summary="median")
    with pytest.raises(InvalidKeyError):
        run.define_metric("")
    with pytest.raises(InvalidKeyError):
        run.define_metric("x", step_metric=3)  # type: ignore[arg-type]
    run.log({"loss": 1.0})
    run.finish()
    assert view(run.id).summary == {"loss": 1.0}


def test_summary_overrides(repo: Path) -> None:
    run = start_run()
    run.log({"acc": 0.5})
    run.summary["acc"] = 0.99
    run.summary["best_epoch"] = 3
    run.summary.update({"note": "ok", "arr": np.array([1, 2])})
    assert run.summary["acc"] == 0.99
    del run.summary["note"]
    with pytest.raises(KeyError):
        del run.summary["missing"]
    run.finish()
    assert view(run.id).summary == {"acc": 0.99, "best_epoch": 3, "arr": [1, 2]}


def test_config_updates_are_recorded(repo: Path) -> None:
    run = start_run(config={"lr": 0.1, "model": {"depth": 3}})
    run.config["batch"] = 32
    run.config.update({"lr": 0.05})
    run.config.update(dropout=0.5)
    run.config.seed = 7
    assert run.config.lr == 0.05 and run.config["batch"] == 32
    assert dict(run.config) == {"lr": 0.05, "model": {"depth": 3}, "batch": 32,
                                "dropout": 0.5, "seed": 7}
    del run.config["batch"]
    assert "batch" not in run.config and len(run.config) == 4
    with pytest.raises(AttributeError):
        _ = run.config.missing
    run.finish()
    assert view(run.id).config == {"lr": 0.05, "model": {"depth": 3}, "dropout": 0.5, "seed": 7}
    raw = git(repo, "show", f"{run.ref}:config.yaml")
    assert yaml.safe_load(raw) == view(run.id).config


def test_config_from_namespace_and_dataclass(repo: Path) -> None:
    import argparse
    import dataclasses

    @dataclasses.dataclass
    class Hyper:
        lr: float = 0.1
        layers: tuple[int, ...] = (1, 2)

    run = start_run(config=argparse.Namespace(lr=0.3, name="x"))
    run.finish()
    assert view(run.id).config == {"lr": 0.3, "name": "x"}
    run = start_run(config=Hyper())
    run.finish()
    assert view(run.id).config == {"lr": 0.1, "layers": [1, 2]}


def test_config_bad_values(repo: Path) -> None:
    run = start_run(config={"lr": 0.1})
    with pytest.raises(InvalidValueError, match=r"'config\.obj'"):
        run.config["obj"] = object()
    with pytest.raises(InvalidKeyError):
        run.config[""] = 1
    with pytest.raises(InvalidValueError, match="config must be"):
        run.config.update(5)
    run.finish()
    assert view(run.id).config == {"lr": 0.1}


# -- finish, context manager -----------------------------------------------------------------
def test_context_manager_marks_failed_and_keeps_everything(repo: Path) -> None:
    with pytest.raises(ZeroDivisionError), start_run() as run:
        run.log({"a": 1})
        run.log({"a": 2}, step=5)
        _ = 1 / 0
    v = view(run.id)
    assert v.state == "failed"
    assert v.metadata["exit_code"] == 1
    assert rows(run.id) == [{"_step": 0, "a": 1}, {"_step": 5, "a": 2}]


def test_context_manager_success(repo: Path) -> None:
    with start_run() as run:
        run.log({"a": 1})
    assert view(run.id).state == "finished"
    assert run.state == "finished"


def test_finish_with_an_exit_code(repo: Path) -> None:
    run = start_run()
    run.finish(exit_code=3)
    assert run.state == "failed"
    assert view(run.id).metadata["exit_code"] == 3


def test_finish_removes_the_write_ahead_log(repo: Path) -> None:
    run = start_run()
    wal = repo / ".git" / "gittrack" / "wal" / run.id
    assert wal.is_dir()
    run.log({"a": 1})
    run.finish()
    assert not wal.exists()


def test_checkpoints_write_chunks_and_chain_commits(repo: Path) -> None:
    run = start_run(settings={"checkpoint_interval": 0.05, "quiet": True})
    first = run.commit
    for i in range(3):
        before = run.commit
        run.log({"i": i})
        deadline = time.time() + 10
        while run.commit == before and time.time() < deadline:  # one checkpoint per row
            time.sleep(0.01)
    run.finish()
    chunks = git(repo, "ls-tree", "--name-only", f"{run.ref}:history/0").split()
    assert len(chunks) >= 3 and chunks[0] == "000000.parquet"  # level 0: one per checkpoint
    assert [r["i"] for r in rows(run.id)] == [0, 1, 2]
    history = git(repo, "rev-list", run.ref).split()
    assert history[-1] == first and len(history) >= 4  # a chain, oldest is init's checkpoint


def test_checkpoint_rows_bounds_the_buffer(repo: Path) -> None:
    run = start_run(settings={"checkpoint_interval": 3600, "checkpoint_rows": 10, "quiet": True})
    first = run.commit
    for i in range(25):
        run.log({"i": i})
    deadline = time.time() + 5
    while run.commit == first and time.time() < deadline:
        time.sleep(0.01)
    assert run.commit != first
    assert len(rows(run.id)) >= 10  # readable before finish
    run.finish()
    assert len(rows(run.id)) == 25


def test_a_full_buffer_asks_again_after_each_checkpoint(repo: Path) -> None:
    # The buffer asks the checkpoint thread once per snapshot (not at every call): the ask
    # must be renewed after each checkpoint, or the second full buffer would wait for the
    # interval (an hour here).
    run = start_run(settings={"checkpoint_interval": 3600, "checkpoint_rows": 10, "quiet": True})
    seen = {run.commit}
    for round_ in range(3):
        before = run.commit
        for i in range(10):
            run.log({"i": round_ * 10 + i})
        deadline = time.time() + 10
        while run.commit == before and time.time() < deadline:
            time.sleep(0.01)
        assert run.commit != before, f"no checkpoint after full buffer {round_ + 1}"
        seen.add(run.commit)
    assert len(seen) >= 4
    assert len(rows(run.id)) >= 20  # two full buffers at least, readable before finish
    run.finish()
    assert [r["i"] for r in rows(run.id)] == list(range(30))


@pytest.mark.slow
def test_finish_returns_only_after_the_data_is_readable(repo: Path) -> None:
    # The writer kills itself the instant finish() returns: nothing afterwards can help.
    code = (
        "import os, signal, gittrack\n"
        "run = gittrack.init(settings={'checkpoint_interval': 3600, 'quiet': True})\n"
        "for i in range(500): run.log({'i': i})\n"
        "run.finish()\n"
        "print(run.id, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    for _ in range(3):
        proc = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True,
                              text=True)
        run_id = proc.stdout.strip()
        ref = f"refs/gittrack/runs/{run_id}"
        assert "state: finished" in git(repo, "show", f"{ref}:run.yaml")  # no recovery needed
        v = view(run_id)
        assert v.state == "finished"
        assert [r["i"] for r in rows(run_id)] == list(range(500))


# -- concurrency -------------------------------------------------------------------------------
def test_threads_logging_into_one_run(repo: Path) -> None:
    run = start_run(settings={"checkpoint_interval": 0.01, "quiet": True})
    n_threads, per_thread = 8, 300
    barrier = threading.Barrier(n_threads)

    def work(t: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            run.log({f"t{t}": i, "thread": t})
            if i % 50 == 0:
                run.config[f"c{t}"] = i

    errors = in_threads(work, range(n_threads))
    run.finish()
    assert not errors
    table = view(run.id).history(format="arrow")
    assert table.column("_step").to_pylist() == list(range(n_threads * per_thread))
    for t in range(n_threads):
        mine = [v for v in table.column(f"t{t}").to_pylist() if v is not None]
        assert mine == list(range(per_thread))  # every row, in each thread's order
    for row in table.to_pylist():  # no torn rows: each row is exactly one call
        present = [t for t in range(n_threads) if row[f"t{t}"] is not None]
        assert present == [row["thread"]]
    assert view(run.id).config == {f"c{t}": 250 for t in range(n_threads)}


def test_finish_while_another_thread_logs(repo: Path) -> None:
    run = start_run()
    stop = threading.Event()
    outcome: list[BaseException] = []

    def work() -> None:
        i = 0
        while not stop.is_set():
            try:
                run.log({"i": i})
            except RunFinishedError:
                return
            except BaseException as exc:
                outcome.append(exc)
                return
            i += 1

    th = threading.Thread(target=work)
    th.start()
    time.sleep(0.2)
    run.finish()
    stop.set()
    th.join()
    assert outcome == []  # either logged or RunFinishedError, never a crash inside log()
    steps = [r["_step"] for r in rows(run.id)]
    assert steps == list(range(len(steps))) and steps


@pytest.mark.slow
def test_two_processes_log_different_runs_at_once(repo: Path) -> None:
    code = (
        "import sys, gittrack\n"
        "run = gittrack.init(name=sys.argv[1], settings={'checkpoint_interval': 0.02, "
        "'quiet': True})\n"
        "for i in range(3000):\n"
        "    run.log({'i': i, 'who': sys.argv[1]})\n"
        "run.finish()\n"
        "print(run.id)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, name], cwd=repo,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in ("left", "right")]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    for (out, _), name in zip(outs, ("left", "right"), strict=True):
        run_id = out.strip()
        v = view(run_id)
        assert v.state == "finished" and v.name == name
        assert [r["i"] for r in rows(run_id)] == list(range(3000))
    assert len(gittrack.Api(".").runs()) == 2
    git(repo, "fsck", "--no-dangling")


@pytest.mark.slow
def test_a_run_being_written_can_be_read(repo: Path) -> None:
    code = (
        "import time, gittrack\n"
        "run = gittrack.init(settings={'checkpoint_interval': 0.02, 'quiet': True})\n"
        "print(run.id, flush=True)\n"
        "end = time.time() + 1.5\n"
        "i = 0\n"
        "while time.time() < end:\n"
        "    run.log({'i': i, 'sq': float(i * i)})\n"
        "    i += 1\n"
        "    if i % 100 == 0: time.sleep(0.001)\n"
        "run.finish()\n"
        "print(i, flush=True)\n"
    )
    with subprocess.Popen([sys.executable, "-c", code], cwd=repo, stdout=subprocess.PIPE,
                          text=True) as proc:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        seen = []
        while proc.poll() is None:
            v = view(run_id)
            table = v.history(format="arrow")
            n = table.num_rows
            assert table.column("_step").to_pylist() == list(range(n))  # a consistent prefix
            if n:
                assert table.column("i").to_pylist() == list(range(n))
                assert table.column("sq").to_pylist() == [float(i * i) for i in range(n)]
            seen.append((v.state, n))
        total = int(proc.stdout.readline())
    assert proc.returncode == 0
    assert [n for _, n in seen] == sorted(n for _, n in seen)  # never goes backwards
    assert any(state == "running" and n > 0 for state, n in seen)
    assert len(rows(run_id)) == total
    assert view(run_id).state == "finished"


# -- fork ---------------------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_write_to_the_parents_run(repo: Path) -> None:
    run = start_run()
    run.log({"parent": 0})
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        status = b"?"
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                run.log({"child": 1})
                run.log({"child": 2})
                run.config["child"] = True
                run.finish()
            ok = (len(caught) == 1 and issubclass(caught[0].category, gittrack.GittrackWarning)
                  and "forked child" in str(caught[0].message))
            status = b"ok" if ok else repr([str(w.message) for w in caught]).encode()
        except BaseException as exc:
            status = repr(exc).encode()
        finally:
            os.write(write_end, status)
            os._exit(0)
    os.close(write_end)
    _, exit_status = os.waitpid(pid, 0)
    report = os.read(read_end, 4096)
    os.close(read_end)
    assert report == b"ok"
    assert os.waitstatus_to_exitcode(exit_status) == 0
    run.log({"parent": 1})
    run.finish()
    assert rows(run.id) == [{"_step": 0, "parent": 0}, {"_step": 1, "parent": 1}]
    assert view(run.id).config == {}
    assert view(run.id).state == "finished"


def test_a_forked_child_exiting_normally_leaves_the_run_alone(repo: Path) -> None:
    code = (
        "import os, sys, warnings, gittrack\n"
        "run = gittrack.init(settings={'checkpoint_interval': 0.05, 'quiet': True})\n"
        "run.log({'a': 0})\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    warnings.simplefilter('ignore')\n"
        "    run.log({'a': 100})\n"
        "    sys.exit(0)  # runs atexit handlers in the child\n"
        "os.waitpid(pid, 0)\n"
        "run.log({'a': 1})\n"
        "run.finish()\n"
        "print(run.id)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True,
                         text=True, check=True).stdout
    run_id = out.strip()
    assert rows(run_id) == [{"_step": 0, "a": 0}, {"_step": 1, "a": 1}]
    assert view(run_id).state == "finished"


def test_a_failed_checkpoint_is_retried_without_losing_rows(repo: Path) -> None:
    run = start_run(settings={"checkpoint_interval": 0.01, "quiet": True})
    real_write = run._checkpointer.write
    failures = []

    def flaky_write(*args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(1)
            raise gittrack.RepositoryError("disk briefly unhappy")
        return real_write(*args, **kwargs)

    run._checkpointer.write = flaky_write  # type: ignore[method-assign]
    run.log({"a": 0})
    deadline = time.time() + 10
    while not failures and time.time() < deadline:
        time.sleep(0.01)
    run.log({"a": 1})
    run.finish()
    assert failures
    assert rows(run.id) == [{"_step": 0, "a": 0}, {"_step": 1, "a": 1}]
    assert view(run.id).state == "finished"


# -- a full disk -------------------------------------------------------------------------------


# With frequent checkpoints, they fail on the full disk too (kept and retried), and rotating to
# a new segment fails in the checkpoint thread: the next log() reports it.
@pytest.mark.parametrize("interval", ["3600", "0.02"])
def test_a_full_disk_makes_log_raise_and_the_run_goes_on_once_space_is_freed(
    small_disk: Path, interval: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHECKPOINT_INTERVAL", interval)
    project = make_repo(small_disk / "project")
    code = LOG_UNTIL_FULL + (
        "try:\n"
        "    run.log({'x': n, 'pad': 'p' * 300})\n"
        "except RepositoryError:\n"
        "    print('still full', flush=True)\n"
        "os.remove('filler')\n"
        "for i in range(n, n + 100):\n"
        "    run.log({'x': i, 'pad': 'p' * 300})\n"
        "run.finish()\n"
    )
    proc = run_python(code, cwd=project, check=False, timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stderr)  # alive: not -SIGBUS
    first, second = proc.stdout.splitlines()
    acknowledged, message = first.split(" ", 1)
    assert "write-ahead log" in message and "No space left on device" in message
    assert str(project / ".git" / "gittrack" / "wal" / "full") in message
    assert second == "still full"
    stored = gittrack.Api(project).run("full")
    assert stored.state == "finished"
    xs = stored.history(format="arrow").column("x").to_pylist()
    assert xs == list(range(int(acknowledged) + 100))  # every acknowledged step, no other


def test_a_log_call_larger_than_a_wal_segment_and_the_run_goes_on(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ~10 MiB of keys in one call: its WAL record does not fit in an 8 MiB segment. It used
    # to fail with "File exists", and so did every later log() of the run.
    # The bound of what keys may add to summary.yaml refuses so many keys (with their worst
    # case, all pending in resume.yaml): raised here to reach the write-ahead log's limit.
    from gittrack.formats import values

    monkeypatch.setattr(values, "MAX_LOGGED_BYTES", 64 << 20)
    big = {f"k{i:05d}" + "x" * 500: float(i) for i in range(20000)}
    run = gittrack.init(settings={"quiet": True})
    run.log(big)
    run.log({"after": 1})
    run.finish()
    table = gittrack.Api(repo).run(run.id).history(format="arrow")
    assert table.column("k19999" + "x" * 500).to_pylist() == [19999.0, None]
    assert table.column("after").to_pylist() == [None, 1]


def test_no_room_for_git_objects_at_finish_and_log_artifact(
    small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The object database on a full disk (the write-ahead log is elsewhere): each write is a
    # RepositoryError naming what it wrote and the reason, and all of it works once freed.
    from tests.helpers.disks import fill, unfill

    project = make_repo(tmp_path / "project")
    objects = project / ".git" / "objects"
    shutil.move(objects, small_disk / "objects")
    objects.symlink_to(small_disk / "objects")
    monkeypatch.chdir(project)
    (project / "data.bin").write_bytes(os.urandom(5000))
    run = gittrack.init(settings={"quiet": True, "checkpoint_interval": 3600})
    for i in range(5):
        run.log({"x": i})
    fill(small_disk)
    artifact = gittrack.Artifact("data", "dataset")
    artifact.add_file(str(project / "data.bin"))
    for write in (lambda: run.log_artifact(artifact), run.finish):
        with pytest.raises(gittrack.RepositoryError) as info:
            write()
        message = str(info.value)
        assert "\n" not in message and "No space left on device" in message, message
        assert str(small_disk / "objects") in message or str(objects) in message, message
    unfill(small_disk)
    assert run.log_artifact(artifact).spec == "data:v0"
    run.finish()
    stored = gittrack.Api(project).run(run.id)
    assert stored.state == "finished"
    assert stored.history(format="arrow").column("x").to_pylist() == [0, 1, 2, 3, 4]
    git(project, "fsck", "--no-dangling")
