from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gittrack.errors import FormatError
from gittrack.formats import yamlio
from tests.helpers.hostile import BILLION_LAUGHS

keys = st.text(min_size=1, max_size=12)
scalars = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False) | st.text(max_size=30)
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=15,
)


@given(st.dictionaries(keys, documents, max_size=6))
def test_dump_load_round_trip(doc: dict[str, Any]) -> None:
    raw = yamlio.dump(doc)
    assert isinstance(raw, bytes)
    assert yamlio.load(raw) == doc
    assert yaml.safe_load(raw.decode("utf-8")) == doc  # readable by any YAML reader


def test_keeps_insertion_order_and_writes_unicode() -> None:
    raw = yamlio.dump({"z": 1, "a": 2, "ключ": "значение"})
    assert raw.decode("utf-8").splitlines() == ["z: 1", "a: 2", "ключ: значение"]


def test_nan_and_infinities() -> None:
    got = yamlio.load(yamlio.dump({"n": math.nan, "p": math.inf, "m": -math.inf}))
    assert math.isnan(got["n"]) and got["p"] == math.inf and got["m"] == -math.inf


def test_block_style() -> None:
    assert yamlio.dump({"a": {"b": [1, 2]}}).decode() == "a:\n  b:\n  - 1\n  - 2\n"


def test_unreadable_yaml_is_a_format_error_naming_what() -> None:
    with pytest.raises(FormatError, match=r"run\.yaml"):
        yamlio.load(b"a: [1, 2\n", what="run.yaml")


def test_python_objects_are_not_loaded() -> None:
    with pytest.raises(FormatError):
        yamlio.load(b"!!python/object/apply:os.system ['true']")


def test_billion_laughs_is_refused_naming_the_file() -> None:
    with pytest.raises(FormatError, match=r"config\.yaml of commit abc.*anchors or aliases"):
        yamlio.load(BILLION_LAUGHS, what="config.yaml of commit abc")


@pytest.mark.parametrize("doc", [
    b"a: &x 1\n",                      # an anchor alone
    b"a: &x 1\nb: *x\n",               # an alias
    b"base: &b {x: 1}\nmine:\n  <<: *b\n",  # a merge key
])
def test_anchors_and_aliases_are_refused(doc: bytes) -> None:
    with pytest.raises(FormatError, match="anchors or aliases"):
        yamlio.load(doc)


@pytest.mark.parametrize("doc", [
    b"a: !custom 1\n", b"a: !!binary aGVsbG8=\n", b"a: !!set {x, y}\n",
    b"a: !!omap [{x: 1}]\n", b"a: !!timestamp 2024-01-01\n", b"!!python/name:os.system\n",
    b"a: !<tag:example.com,2024:x> 1\n",
])
def test_tags_gittrack_does_not_write_are_refused(doc: bytes) -> None:
    with pytest.raises(FormatError, match="tag"):
        yamlio.load(doc, what="run.yaml")


def test_spelled_out_core_tags_are_read() -> None:
    assert yamlio.load(b"a: !!str 1\nb: !!int '2'\nc: !!float 3\n") == {
        "a": "1", "b": 2, "c": 3.0}


@pytest.mark.parametrize("nested", [
    "[" * (yamlio.MAX_DEPTH + 1) + "]" * (yamlio.MAX_DEPTH + 1),
    "[" * 200_000 + "]" * 200_000,  # libyaml's composer recurses in C: this would crash
    "".join(f"{'  ' * i}k:\n" for i in range(yamlio.MAX_DEPTH + 1)) + "  " * 201 + "v\n",
])
def test_nesting_deeper_than_the_bound_is_refused(nested: str) -> None:
    with pytest.raises(FormatError, match=rf"summary\.yaml: nested more than {yamlio.MAX_DEPTH}"):
        yamlio.load(nested.encode(), what="summary.yaml")


def test_nesting_up_to_the_bound_is_read() -> None:
    depth = yamlio.MAX_DEPTH
    doc: Any = 1
    for _ in range(depth):
        doc = [doc]
    assert yamlio.load(yamlio.dump(doc)) == doc


def test_a_document_larger_than_the_bound_is_refused() -> None:
    big = b"a: '" + b"x" * yamlio.MAX_BYTES + b"'\n"
    with pytest.raises(FormatError, match=r"config\.yaml: .* bytes is more than"):
        yamlio.load(big, what="config.yaml")


def test_text_is_measured_in_bytes() -> None:
    text = "a: '" + "é" * (yamlio.MAX_BYTES // 2) + "'\n"  # fewer characters than the bound
    with pytest.raises(FormatError, match="bytes is more than"):
        yamlio.load(text)


def _depth(doc: str) -> int:
    deepest = depth = 0
    for event in yaml.parse(doc, Loader=yaml.CSafeLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            deepest = max(deepest, depth)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
    return deepest


def test_the_densest_block_nesting_of_short_lines_stays_under_the_bound() -> None:
    """``load`` skips its pass over the events for a document without ``& * ! [ {`` whose
    lines are shorter than ``_SHORT_LINE``; block style nests at most two levels a column (a
    mapping, and a sequence at its own column under a key), so such a document can never be
    nested ``MAX_DEPTH`` deep."""
    lines = []
    for column in range(yamlio._SHORT_LINE - 2):
        lines += [" " * column + "k:", " " * column + "-"]
    doc = "\n".join(lines) + "\n" + " " * (yamlio._SHORT_LINE - 5) + "- []\n"
    assert max(map(len, doc.split("\n"))) < yamlio._SHORT_LINE and yamlio._plain(doc)
    assert yamlio.MAX_DEPTH - 20 < _depth(doc) < yamlio.MAX_DEPTH
    assert yamlio.load(doc.encode()) is not None


@pytest.mark.parametrize("doc", [
    b"a: &x 1\n", b"b: *x\n", b"a: !x 1\n", b"a: [1]\n", b"a: {b: 1}\n", b"a: [[]]\n",
    b"a: {{}: 1}\n", b"a: [ ]\n",
    b"a: '" + b"x" * yamlio._SHORT_LINE + b"'\n", "a: 'é&'\n".encode("utf-16"),
])
def test_only_documents_that_cannot_hold_what_is_refused_skip_the_check(doc: bytes) -> None:
    assert not yamlio._plain(doc)
    assert not yamlio._plain(doc.decode("utf-8", "replace"))
    assert yamlio._plain(b"a: 1\nb:\n- x\n- 'y'\nargs: []\nmetrics: {}\n")
