"""Fuzzing what a user hands a run: every key and value is either stored and read back equal
(through ``gittrack.Api`` and through plain ``yaml``/``pyarrow``) or refused with a
``GittrackError``, and the repository stays usable either way: later logs, ``finish()``, the
next ``init()``, ``Api().runs()`` and the ``runs``/``show`` commands all work."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pygit2
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import gittrack
from gittrack.errors import GittrackError
from gittrack.formats.values import MAX_DEPTH, MAX_SUMMARY_STRING
from gittrack.runs import layout
from gittrack.types import RunId
from tests.helpers.cli import CliResult
from tests.helpers.tables import canon  # NaN equal to NaN, for ==
from tests.helpers.values import flatten

AFTER = "zz/after"  # logged after the fuzzed calls: the run must still take data

# -- strategies ---------------------------------------------------------------------------------
def mostly(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``common`` four times in five: most examples are storable, so both outcomes are tried."""
    return st.integers(0, 4).flatmap(lambda n: rare if n == 0 else common)


# Hypothesis leaves lone surrogates out of text; they are the severe case, so add them, with
# the control characters and odd code points that YAML and terminals treat specially.
odd_chars = st.sampled_from(
    ["\udce9", "\ud800", "\udfff", "\x00", "\x01", "\x1b", "\t", "\n", "\r", "\x7f", "\x85",
     "\u2028", "\ufeff", "\uffff", "\U0001f642", "/", ".", ":", "#", "'", '"', "-", " "]
)
odd_text = st.one_of(
    st.text(st.characters() | odd_chars | st.integers(0xD800, 0xDFFF).map(chr), max_size=12),
    st.sampled_from(["yes", "null", "~", "1e3", "0x10", "-", "---", "...", "&a", "*a", "!!str"]),
    st.just("x" * 100_000),  # longer than any key; MAX_STRING_LENGTH has tests of its own
)
fine_text = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=8)
text = mostly(fine_text, odd_text)
ints = st.integers() | st.sampled_from(
    [2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 2**64, 2**200, 2**1024, -(2**5000)]
)
scalars = st.none() | st.booleans() | ints | st.floats() | text
keys = mostly(fine_text, odd_text | st.integers(-3, 3) | st.sampled_from([1.5, True, None, ""]))


def deep(levels: int, leaf: Any = 1.0) -> Any:
    value = leaf
    for _ in range(levels):
        value = {"k": value}
    return value


def nested_list(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = [value]
    return value


deeply_nested = st.integers(MAX_DEPTH - 2, 600).map(deep)
nested_lists = st.integers(MAX_DEPTH - 2, 600).map(nested_list)


def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3)


huge = deeply_nested | nested_lists | st.just(list(range(2_000)))
plain_values = mostly(st.recursive(scalars, containers, max_leaves=12), huge)
log_values = mostly(
    st.recursive(scalars, lambda inner: st.dictionaries(keys, inner, max_size=3), max_leaves=10),
    deeply_nested | st.just([1.0, 2.0]),
)
top_keys = mostly(fine_text, keys)
log_data = st.dictionaries(top_keys, log_values, min_size=1, max_size=3)
mapping = st.dictionaries(top_keys, plain_values, min_size=1, max_size=3)


# -- what a stored value must read back as --------------------------------------------------------


def as_yaml_data(value: Any) -> Any:
    """Config's documented rule: keys become strings (``1`` → ``"1"``), tuples lists."""
    if isinstance(value, dict):
        return {str(k): as_yaml_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_yaml_data(v) for v in value]
    return value


def attempt(call: Callable[[], Any]) -> bool:
    """True if ``call`` was accepted; a refusal must be a ``GittrackError``."""
    try:
        call()
    except GittrackError:
        return False
    return True


# -- reading back, with gittrack and without it --------------------------------------------------
def plain_read(repo: Path, run_id: str) -> tuple[Any, Any, list[dict[str, Any]]]:
    """config, summary and history rows with plain PyYAML (pure Python) and pyarrow only."""
    git = pygit2.Repository(str(repo))
    tree = git.revparse_single(layout.run_ref(RunId(run_id))).peel(pygit2.Tree)

    def blob(path: str) -> bytes:
        return git[tree[path].id].data  # type: ignore[no-any-return]

    config = yaml.load(blob(layout.CONFIG_YAML), Loader=yaml.SafeLoader)
    summary = yaml.load(blob(layout.SUMMARY_YAML), Loader=yaml.SafeLoader)
    rows: list[dict[str, Any]] = []
    if layout.HISTORY_DIR in tree:  # docs/format.md: every chunk of history/ and its folders,
        chunks = []                   # by the first number of its name
        for entry in git[tree[layout.HISTORY_DIR].id]:
            inner = git[entry.id] if entry.type_str == "tree" else [entry]
            chunks += [(int(e.name.split(".")[0].split("-")[0]), e.id) for e in inner]
        for _, oid in sorted(chunks):
            table = pq.read_table(io.BytesIO(git[oid].data))
            rows.extend(table.to_pylist())
    return config, summary, rows


def values_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows without the system columns and the keys a row lacks; rows with no value dropped."""
    out = []
    for row in rows:
        kept = {k: v for k, v in row.items() if v is not None and not k.startswith("_")}
        if kept:
            out.append(kept)
    return out


FUZZ = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                       HealthCheck.too_slow,
                                                       HealthCheck.data_too_large])


@FUZZ
@given(init_config=mapping, data=log_data, config=mapping, summary=mapping)
def test_every_value_is_stored_exactly_or_refused_and_the_run_goes_on(
    repo: Path, cli: Callable[..., CliResult], init_config: dict[Any, Any],
    data: dict[Any, Any], config: dict[Any, Any], summary: dict[Any, Any],
) -> None:
    quiet = {"quiet": True, "checkpoint_interval": 30}
    runs: list[gittrack.Run] = []
    if not attempt(lambda: runs.append(gittrack.init(config=init_config, settings=quiet))):
        init_config = {}
        runs.append(gittrack.init(settings=quiet))
    run = runs[0]
    logged = attempt(lambda: run.log(data))
    if not attempt(lambda: run.config.update(config)):
        config = {}
    if not attempt(lambda: run.summary.update(summary)):
        summary = {}
    run.log({AFTER: 1.0})
    run.finish()
    for what, kept in (("log", logged), ("config", bool(config)), ("summary", bool(summary))):
        event(f"{what} {'stored' if kept else 'refused or empty'}")

    expected_row = flatten(data, drop_none=True) if logged else {}  # log()'s documented rule
    expected_config = {**as_yaml_data(init_config), **as_yaml_data(config)}
    # a logged string's summary is its first MAX_SUMMARY_STRING characters (docs/format.md)
    in_summary = {k: v[:MAX_SUMMARY_STRING] if type(v) is str else v
                  for k, v in expected_row.items()}
    expected_summary = {**in_summary, **as_yaml_data(summary), AFTER: 1.0}
    expected_rows = [r for r in (expected_row, {AFTER: 1.0}) if r]

    stored = gittrack.Api(".").run(run.id)
    assert stored.state == "finished"
    assert canon(stored.config) == canon(expected_config)
    assert canon(stored.summary) == canon(expected_summary)
    assert canon(values_of(stored.history(format="arrow").to_pylist())) == canon(expected_rows)
    config_yaml, summary_yaml, plain_rows = plain_read(repo, run.id)
    assert canon(config_yaml) == canon(expected_config)
    assert canon(summary_yaml) == canon(expected_summary)
    assert canon(values_of(plain_rows)) == canon(expected_rows)

    assert run.id in {v.id for v in gittrack.Api(".").runs()}
    assert cli("runs").exit_code == 0
    assert cli("show", run.id).exit_code == 0


@FUZZ
@given(name=text, project=text | st.none(), group=text | st.none(), notes=text | st.none(),
       tags=st.lists(text, max_size=3))
def test_every_label_is_stored_exactly_or_refused(
    repo: Path, name: str, project: str | None, group: str | None, notes: str | None,
    tags: list[str],
) -> None:
    labels = {"name": name, "project": project, "group": group, "notes": notes, "tags": tags}
    runs: list[gittrack.Run] = []
    if not attempt(lambda: runs.append(gittrack.init(**labels, settings={"quiet": True}))):
        assert not (repo / ".git" / "gittrack" / "wal").exists() or not any(
            (repo / ".git" / "gittrack" / "wal").iterdir())
        return
    run = runs[0]
    run.log({AFTER: 1.0})
    run.finish()
    stored = gittrack.Api(".").run(run.id)
    assert (stored.name, stored.group, stored.notes) == (name, group, notes)
    assert stored.tags == list(dict.fromkeys(tags))
    if project is not None:
        assert stored.project == project
