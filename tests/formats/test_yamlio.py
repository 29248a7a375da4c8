from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gittrack.errors import FormatError
from gittrack.formats import yamlio

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
