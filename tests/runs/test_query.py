from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gittrack.errors import InvalidSettingError, UsageError
from gittrack.runs.query import compile_filter, matches, parse_cli_filter


@dataclasses.dataclass
class FakeRun:
    config: dict[str, Any]
    summary: dict[str, Any]
    metadata: dict[str, Any]


RUN = FakeRun(
    config={"lr": 0.01, "model": {"depth": 4}, "a.b": 1, "opt": "adam"},
    summary={"acc": 0.93, "val/loss": 0.2, "best": {"min": 0.1}},
    metadata={"state": "finished", "tags": ["baseline", "v2"], "name": "calm-sea-1",
              "group": None, "id": "01abc"},
)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, True),
        ({"state": "finished"}, True),
        ({"state": "crashed"}, False),
        ({"tags": "baseline"}, True),
        ({"tags": "other"}, False),
        ({"tags": ["baseline", "v2"]}, True),
        ({"config.lr": 0.01}, True),
        ({"config.lr": {"$lt": 0.1}}, True),
        ({"config.lr": {"$gt": 0.1}}, False),
        ({"config.lr": {"$gte": 0.01, "$lte": 0.01}}, True),
        ({"config.model.depth": 4}, True),
        ({"config.a.b": 1}, True),  # keys with dots win over nesting
        ({"config.missing": {"$exists": False}}, True),
        ({"config.lr": {"$exists": True}}, True),
        ({"group": {"$exists": False}}, True),
        ({"config.opt": {"$in": ["sgd", "adam"]}}, True),
        ({"config.opt": {"$nin": ["sgd", "adam"]}}, False),
        ({"config.opt": {"$ne": "sgd"}}, True),
        ({"config.opt": {"$eq": "sgd"}}, False),
        ({"name": {"$regex": "^calm"}}, True),
        ({"name": {"$regex": "^wild"}}, False),
        ({"summary.acc": {"$gte": 0.9}}, True),
        ({"summary.val/loss": {"$lt": 0.5}}, True),
        ({"summary.best.min": 0.1}, True),
        ({"summary_metrics.acc": 0.93}, True),
        ({"metadata.id": "01abc"}, True),
        ({"config.opt": {"$gt": 3}}, False),  # incomparable types are no match, not an error
        ({"config.missing": {"$lt": 3}}, False),
        ({"$or": [{"state": "crashed"}, {"tags": "v2"}]}, True),
        ({"$or": [{"state": "crashed"}, {"tags": "v3"}]}, False),
        ({"$and": [{"state": "finished"}, {"config.lr": 0.01}]}, True),
        ({"$and": [{"state": "finished"}, {"config.lr": 1}]}, False),
        ({"config.model": {"depth": 4}}, True),  # a dict without operators is compared whole
    ],
)
def test_matches(filters: dict[str, Any], expected: bool) -> None:
    assert matches(RUN, filters) is expected


def test_unknown_operator_names_it() -> None:
    with pytest.raises(InvalidSettingError, match=r"\$near.*config.lr"):
        matches(RUN, {"config.lr": {"$near": 1}})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lr=0.01", ("lr", 0.01)),
        ("config.opt=adam", ("config.opt", "adam")),
        ("state=finished", ("state", "finished")),
        ("flag=true", ("flag", True)),
        ("n=3", ("n", 3)),
        ("name=", ("name", "")),
        ("eq=a=b", ("eq", "a=b")),
    ],
)
def test_parse_cli_filter(text: str, expected: tuple[str, Any]) -> None:
    assert parse_cli_filter(text) == expected


@pytest.mark.parametrize("text", ["noequals", "=value"])
def test_parse_cli_filter_refuses(text: str) -> None:
    with pytest.raises(InvalidSettingError, match="KEY=VALUE"):
        parse_cli_filter(text)


@pytest.mark.parametrize(("filters", "named"), [
    ({"config.lr": {"$in": 5}}, r"\$in on 'config.lr' takes a list, got 5"),
    ({"config.lr": {"$nin": "abc"}}, r"\$nin on 'config.lr' takes a list, got 'abc'"),
    ({"$and": 5}, r"\$and takes a list of filters, got 5"),
    ({"$or": {"state": "x"}}, r"\$or takes a list of filters"),
    ({"$and": [5]}, r"a filter maps fields to conditions, got 5"),
    ({"name": {"$regex": "("}}, r"\$regex on 'name' takes a valid regular expression"),
    ({"name": {"$regex": 5}}, r"\$regex on 'name' takes a regular expression \(text\), got 5"),
    ({"config.lr": {"$gt": [1]}}, r"\$gt on 'config.lr' takes a number or a text, got \[1\]"),
    ({"config.lr": {"$lte": None}}, r"\$lte on 'config.lr' takes a number or a text, got None"),
    ({"config.lr": {"$exists": "yes"}}, r"\$exists on 'config.lr' takes true or false"),
    ({"config.lr": {"$near": 1}}, r"unknown filter operator '\$near' on 'config.lr'"),
    ({"$near": 1}, r"unknown filter operator '\$near' \(with 1\)"),
    ({"config.lr": {"$gt": 1, "x": 2}}, r"mixes operators and values"),
    ({5: 1}, r"filter field 5 is not text"),
    ([("state", "x")], r"a filter maps fields to conditions"),
])
def test_malformed_filters_name_the_operator_and_the_value(filters: Any, named: str) -> None:
    with pytest.raises(UsageError, match=named):
        compile_filter(filters)


SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
           | st.sampled_from(["(", "[a-", "*", "a{2,1}", "\\", "ok.*"]))
FIELDS = st.sampled_from(["state", "tags", "name", "config.lr", "config.model", "summary.acc",
                          "config.model.depth", "metadata.id", "nosuch"]) | st.text(max_size=6)
OPERATORS = st.sampled_from(["$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte",
                             "$exists", "$regex", "$and", "$or", "$near", "$"])
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(OPERATORS | FIELDS, inner, max_size=3),
    max_leaves=12,
)
RUNS = [RUN, FakeRun(config={"lr": "x", "model": [1, {"a": None}]}, summary={"acc": None},
                     metadata={"tags": "not-a-list", "state": 5, "name": ["n"]})]


@settings(max_examples=500)
@given(DOCUMENTS)
def test_any_filter_document_works_or_is_a_usage_error(filters: Any) -> None:
    try:
        test = compile_filter(filters)
    except UsageError:
        return
    for run in RUNS:
        assert test(run) in (True, False)


_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False)
    | st.sampled_from(["finished", "crashed", "", "Finished", "1"]) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner,
                                                                max_size=2),
    max_leaves=4,
)


@settings(max_examples=300)
@given(st.sampled_from(["$in", "$nin"]),
       st.lists(st.sampled_from(["finished", "crashed", "", "1"]) | st.text(max_size=3),
                min_size=1, max_size=4),
       _values, st.sampled_from(["state", "config.opt", "summary.best"]))
def test_a_list_of_texts_is_tested_as_any_equal_value(
    op: str, wanted: list[str], value: Any, field: str
) -> None:
    """``$in``/``$nin`` of texts only is a set lookup: the same answer as testing equality
    with each (a run's value may be of any type a document holds, or missing)."""
    from gittrack.runs import query

    test = query._operator(field, op, wanted)
    expected = any(query._equal(field, value, a) for a in wanted) != (op == "$nin")
    assert test(value) == expected
    assert test(query.MISSING) == (op == "$nin")


def test_one_operator_on_a_field_is_tested_as_it_is() -> None:
    from gittrack.runs import query

    pairs = query.conjunction({"state": {"$in": ["finished"]}, "summary.acc": {"$gt": 0.5,
                                                                              "$lt": 0.9}})
    assert pairs is not None
    (field, test), (other, both) = pairs
    assert (field, test("finished"), test("crashed"), test(query.MISSING)) == (
        "state", True, False, False)
    assert (other, both(0.7), both(0.95), both(0.1)) == ("summary.acc", True, False, False)
