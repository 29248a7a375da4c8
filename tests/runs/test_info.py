"""``RunInfo``: run.yaml as a checked value that writes back the same bytes; ``RunState``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import gittrack
from gittrack.errors import FormatError
from gittrack.formats import yamlio
from gittrack.runs.info import SHAPES, RunInfo, RunState
from gittrack.types import CommitId, RunId

TEXT = st.text(max_size=12)
OPT_TEXT = st.none() | TEXT
OPT_INT = st.none() | st.integers(-(2**40), 2**40)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "name": OPT_TEXT, "project": OPT_TEXT, "group": OPT_TEXT, "job_type": OPT_TEXT,
    "notes": OPT_TEXT, "created_at": OPT_TEXT, "updated_at": OPT_TEXT, "ended_at": OPT_TEXT,
    "host": OPT_TEXT, "user": OPT_TEXT, "resumed_at": OPT_TEXT,
    "state": st.sampled_from([s.value for s in RunState]) | TEXT,
    "exit_code": OPT_INT, "pid": OPT_INT, "steps": OPT_INT, "resumed": OPT_INT,
    "duration": st.none() | st.floats(0, 1e9) | st.integers(0, 10**6),
    "tags": st.none() | st.lists(TEXT, max_size=3), "args": st.none() | st.lists(TEXT, max_size=3),
    "code": st.none() | st.fixed_dictionaries({}, optional={
        "commit": OPT_TEXT, "branch": OPT_TEXT, "remote": OPT_TEXT, "dirty": st.booleans()}),
    "metrics": st.none() | st.dictionaries(TEXT, st.fixed_dictionaries(
        {"summary": st.lists(st.sampled_from(["min", "max", "last"]), max_size=2)},
        optional={"step_metric": TEXT, "goal": st.just("minimize")}), max_size=2),
    "artifacts": st.none() | st.dictionaries(st.sampled_from(["used", "logged"]),
                                             st.lists(TEXT, max_size=2)),
    "artifact_commits": st.none() | st.dictionaries(st.sampled_from(["used", "logged"]),
                                                    st.lists(TEXT, max_size=2)),
    # keys a later version may add: kept where they are
    "future_key": st.dictionaries(TEXT, st.integers(), max_size=2),
}


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A run.yaml of the shape gittrack writes: any subset of the fields, in any order."""
    keys = draw(st.permutations(list(FIELDS)))
    present = [k for k in keys if draw(st.booleans())]
    doc = {k: draw(FIELDS[k]) for k in present}
    head = {"format": 1, "id": draw(st.from_regex(r"[0-9a-z]{4,12}", fullmatch=True))}
    at = draw(st.integers(0, len(doc)))
    items = list(doc.items())
    return dict(items[:at] + list(head.items()) + items[at:])


@settings(max_examples=200, deadline=None)
@given(documents())
def test_a_document_round_trips_byte_for_byte(doc: dict[str, Any]) -> None:
    raw = yamlio.dump(doc)
    info = RunInfo.from_yaml(yamlio.load(raw), CommitId("0" * 40), RunId(doc["id"]))
    assert info.to_yaml() == raw
    assert info.as_dict() == doc and list(info.as_dict()) == list(doc)
    assert (info.id, info.format, info.name, info.duration) == (
        doc["id"], 1, doc.get("name"), doc.get("duration"))
    assert info.tags == tuple(doc.get("tags") or ())
    state = doc.get("state")
    assert info.state == state
    assert isinstance(info.state, RunState) == (state in {s.value for s in RunState})


@pytest.mark.parametrize(("doc", "message"), [
    ({"format": 1, "id": "x", "state": [1]}, "run.yaml of commit 000000000000: state is not "
                                             "what gittrack writes there (a list)"),
    ({"format": 1, "id": "x", "duration": -1.0}, "duration is not what gittrack writes there"),
    ({"format": 1, "id": "x", "tags": "a"}, "tags is not what gittrack writes there (a str)"),
    ({"format": 9, "id": "x"}, "run x uses format 9; this gittrack reads format 2: upgrade"),
    ({"format": 1, "id": "x"}, "says it is run 'x', but it is on the ref of run y"),
    (["format", 1], "is a list, not a mapping"),
])
def test_a_bad_document_is_a_format_error_naming_the_field(doc: Any, message: str) -> None:
    with pytest.raises(FormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        RunInfo.from_yaml(doc, CommitId("0" * 40), RunId("y") if "'x'" in message else None)


def test_every_checked_field_is_a_field_the_strategy_writes() -> None:
    assert set(SHAPES) - {"id", "format"} <= {*FIELDS, "os", "python", "executable",
                                              "program", "cwd", "gittrack_version"}


def test_replace_keeps_the_order_and_checks_again() -> None:
    info = RunInfo.from_yaml({"format": 1, "id": "x", "state": "running", "name": "a"})
    crashed = info.replace(state=RunState.CRASHED)
    assert crashed.state is RunState.CRASHED
    assert crashed.to_yaml() == b"format: 1\nid: x\nstate: crashed\nname: a\n"
    with pytest.raises(FormatError, match="name is not what gittrack writes"):
        info.replace(name=3)
    assert info.without(["name"]).as_dict() == {"format": 1, "id": "x", "state": "running"}


def test_states_are_strings() -> None:
    assert RunState.FINISHED == "finished" and RunState.CRASHED == "crashed"
    assert str(RunState.FAILED) == "failed" and f"{RunState.RUNNING:>8}" == " running"
    assert {"finished": 1}[RunState.FINISHED] == 1
    assert RunState.ended(0) is RunState.FINISHED and RunState.ended(3) is RunState.FAILED
    assert gittrack.RunState is RunState and gittrack.RunInfo is RunInfo


def test_run_and_view_share_the_info(repo: Path, fast_settings: dict[str, object]) -> None:
    run = gittrack.init(project="p", name="n", tags=["a"], notes="x", settings=fast_settings)
    assert run.state is RunState.RUNNING and run.info.state is RunState.RUNNING
    run.name = "renamed"  # seen before the next checkpoint writes it
    assert run.info.name == run.name == "renamed"
    run.log({"loss": 1.0})
    run.finish()
    assert run.state is RunState.FINISHED and run.info.state is RunState.FINISHED
    view = gittrack.Api(".").run(run.id)
    assert view.info == run.info
    assert view.state is RunState.FINISHED and view.state == "finished"
    assert (view.name, view.project, view.tags, view.notes) == ("renamed", "p", ["a"], "x")
    assert (run.name, run.project, run.tags, run.notes) == ("renamed", "p", ("a",), "x")
    assert gittrack.Api(".").runs({"state": "finished"})[0].id == run.id
    raw = yaml.safe_load(view.info.to_yaml())
    assert raw["state"] == "finished" and type(raw["state"]) is str
