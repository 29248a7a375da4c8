from __future__ import annotations

import dataclasses
import enum
import fractions
import math
import pathlib
import pickle
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gittrack.errors import InvalidKeyError, InvalidValueError
from gittrack.formats.histogram import Histogram
from gittrack.formats.values import MAX_KEY_LENGTH, Normalizer, to_plain, to_value, validate_key


class Color(enum.IntEnum):
    RED = 1


class FakeTensor:
    """What gittrack needs from a tensor: ``.item()`` and a size."""

    def __init__(self, *values: float) -> None:
        self.values = values

    def numel(self) -> int:
        return len(self.values)

    def item(self) -> float:
        if len(self.values) != 1:
            raise RuntimeError("a Tensor with more than one element cannot be converted")
        return self.values[0]


# -- keys ----------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["loss", "train/loss", "a b", "ключ", "損失/訓練", "🙂", "_x",
                                 "a.b", "x" * MAX_KEY_LENGTH])
def test_valid_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (1, "must be strings, got int"),
        (None, "must be strings, got NoneType"),
        (b"loss", "must be strings, got bytes"),
        ("", "must not be empty"),
        ("a//b", "empty part"),
        ("/a", "empty part"),
        ("a/", "empty part"),
        ("_step", "reserved"),
        ("_timestamp", "reserved"),
        ("_runtime", "reserved"),
        ("a\nb", "control character"),
        ("a\x00b", "control character"),
        ("a\x7fb", "control character"),
        ("x" * (MAX_KEY_LENGTH + 1), "513 characters long; the limit is 512"),
    ],
)
def test_invalid_keys(key: object, message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message):
        validate_key(key)


def test_key_subclasses_become_plain_str() -> None:
    assert type(validate_key(np.str_("loss"))) is str


# -- values --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1), (True, True), (1.5, 1.5), ("s", "s"), (None, None),
        (np.float32(1.5), 1.5), (np.float64(2.5), 2.5), (np.int64(7), 7), (np.uint8(3), 3),
        (np.bool_(True), True), (np.array(3.0), 3.0), (np.array([4]), 4),
        (np.str_("cat"), "cat"), (FakeTensor(0.25), 0.25),
        (fractions.Fraction(1, 4), 0.25), (Color.RED, 1),
    ],
)
def test_values_become_plain_python(value: Any, expected: Any) -> None:
    got = to_value("k", value)
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float32("nan"),
                                   np.array(np.inf)])
def test_non_finite_values_are_kept(value: Any) -> None:
    got = to_value("k", value)
    assert isinstance(got, float)
    assert (math.isnan(got) and math.isnan(float(value))) or got == float(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (object(), "'k'.*builtins.object"),
        (b"bytes", "'k'.*bytes"),
        (bytearray(b"x"), "'k'.*bytearray"),
        (1 + 2j, "'k'.*complex"),
        (np.complex128(1 + 2j), "'k'.*complex"),
        ([1, 2], "'k'.*list"),
        ((1,), "'k'.*tuple"),
        ({1, 2}, "'k'.*set"),
        (np.array([1.0, 2.0]), "'k'.*ndarray of shape \\(2,\\)"),
        (np.zeros((2, 2)), "'k'.*shape \\(2, 2\\)"),
        (np.array([]), "'k'.*shape \\(0,\\)"),
        (FakeTensor(1.0, 2.0), "'k'.*FakeTensor"),
        (2**63, "'k'.*64 bits"),
        (-(2**63) - 1, "'k'.*64 bits"),
        (np.uint64(2**64 - 1), "'k'.*64 bits"),
    ],
)
def test_unsupported_values_name_the_key_and_type(value: Any, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        to_value("k", value)


def test_item_that_does_not_unwrap() -> None:
    class Odd:
        def item(self) -> Odd:
            return self

    with pytest.raises(InvalidValueError, match=r"'k'.*Odd"):
        to_value("k", Odd())


def test_errors_are_also_builtin_errors() -> None:
    with pytest.raises(TypeError):
        to_value("k", object())
    with pytest.raises(ValueError):
        validate_key("")


# -- the normalizer ------------------------------------------------------------------------
nested = st.recursive(
    st.floats(allow_nan=False) | st.integers(-(2**63), 2**63 - 1) | st.booleans(),
    lambda inner: st.dictionaries(st.text("abcxyz", min_size=1, max_size=3), inner,
                                  min_size=1, max_size=3),
    max_leaves=10,
)


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}/"))
        else:
            out[f"{prefix}{key}"] = value
    return out


@given(st.dictionaries(st.text("abcxyz", min_size=1, max_size=3), nested, max_size=4))
def test_nested_dicts_flatten_to_slashes(data: dict[str, Any]) -> None:
    assert Normalizer().normalize(data) == flatten(data)


def test_normalizer_registers_kinds_and_refuses_a_change_of_kind() -> None:
    norm = Normalizer()
    assert norm.normalize({"loss": 1, "name": "a", "h": Histogram([1.0, 2.0])}) == {
        "loss": 1, "name": "a", "h": Histogram([1.0, 2.0])}
    assert norm.kinds == {"loss": "num", "name": "str", "h": "histogram"}
    assert norm.normalize({"loss": 2.5}) == {"loss": 2.5}  # int -> float: still a number
    assert norm.normalize({"loss": True}) == {"loss": True}
    with pytest.raises(InvalidValueError, match="'loss' was logged as a number"):
        norm.normalize({"loss": "high"})
    with pytest.raises(InvalidValueError, match="'name' was logged as a string"):
        norm.normalize({"name": 1.0})
    with pytest.raises(InvalidValueError, match="'h' was logged as a histogram"):
        norm.normalize({"h": 1.0})


def test_a_bad_value_leaves_no_trace() -> None:
    norm = Normalizer({"known": "num"})
    with pytest.raises(InvalidValueError, match="'bad'"):
        norm.normalize({"new": "text", "bad": object()})
    assert norm.kinds == {"known": "num"}  # "new" was not registered
    assert norm.normalize({"new": 1.0}) == {"new": 1.0}


def test_none_values_are_skipped() -> None:
    assert Normalizer().normalize({"a": None, "b": 1}) == {"b": 1}


def test_the_same_key_nested_and_flat() -> None:
    with pytest.raises(InvalidKeyError, match="'a/b' is given twice"):
        Normalizer().normalize({"a": {"b": 1}, "a/b": 2})


def test_non_string_key_in_a_nested_dict_names_the_parent() -> None:
    with pytest.raises(InvalidKeyError, match="under 'outer'"):
        Normalizer().normalize({"outer": {1: 2.0}})


def test_data_must_be_a_mapping() -> None:
    with pytest.raises(InvalidValueError, match="dict of key -> value, got list"):
        Normalizer().normalize([("a", 1)])


def test_known_keys_out_of_int64_range_on_the_fast_path() -> None:
    norm = Normalizer({"n": "num"})
    with pytest.raises(InvalidValueError, match="'n' does not fit in 64 bits"):
        norm.normalize({"n": 2**64})


def test_numpy_strings_keys_and_values_are_stored_as_plain_str() -> None:
    norm = Normalizer()
    for _ in range(2):  # the second call takes the fast path for known keys
        out = norm.normalize({np.str_("label"): np.str_("cat"), "n": 1.0})
        assert all(type(k) is str for k in out)
        assert type(out["label"]) is str
        pickle.loads(pickle.dumps(out))  # the WAL can hold it
        assert b"numpy" not in pickle.dumps(out)


# -- config values -------------------------------------------------------------------------
def test_to_plain_makes_yaml_data() -> None:
    @dataclasses.dataclass
    class Point:
        x: int

    value = {
        "lr": np.float32(0.5), "layers": (1, 2), "tags": {"b", "a"}, "arr": np.arange(3),
        "path": pathlib.Path("/data"), "name": np.str_("resnet"), 3: "three",
        "nested": {"n": np.int64(1), "t": FakeTensor(2.0)}, "none": None, "flag": True,
    }
    got = to_plain(value, where="config")
    assert got == {
        "lr": 0.5, "layers": [1, 2], "tags": ["a", "b"], "arr": [0, 1, 2], "path": "/data",
        "name": "resnet", "3": "three", "nested": {"n": 1, "t": 2.0}, "none": None,
        "flag": True,
    }
    assert type(got["name"]) is str and type(got["nested"]["n"]) is int
    with pytest.raises(InvalidValueError, match=r"'config\.p'.*Point"):
        to_plain({"p": Point(1)}, where="config")
    with pytest.raises(InvalidValueError, match="config key"):
        to_plain({(1, 2): 1}, where="config")
