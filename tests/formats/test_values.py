from __future__ import annotations

import dataclasses
import enum
import fractions
import io
import math
import os
import pathlib
import pickle
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gittrack.errors import InvalidKeyError, InvalidValueError
from gittrack.formats.histogram import Histogram
from gittrack.formats.values import (
    MAX_DEPTH,
    MAX_KEY_LENGTH,
    MAX_STRING_LENGTH,
    Normalizer,
    check_label,
    check_text,
    readable,
    to_plain,
    to_value,
    validate_key,
)
from tests.helpers.values import SURROGATE, deep, flatten


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
    with pytest.raises(InvalidKeyError, match="key \\(1, 2\\) under 'config'"):
        to_plain({(1, 2): 1}, where="config")


# -- text: what UTF-8 cannot store is refused, naming the key and the position ----------------
def test_a_lone_surrogate_value_is_refused_naming_key_and_position() -> None:
    with pytest.raises(InvalidValueError, match=r"'f'.*surrogate '\\udce9' at position 3"):
        to_value("f", SURROGATE)
    with pytest.raises(InvalidValueError, match=r"'f'.*position 3"):
        Normalizer().normalize({"f": SURROGATE})


def test_a_lone_surrogate_value_is_refused_on_the_fast_path_too() -> None:
    norm = Normalizer()
    norm.normalize({"f": "cafe.txt"})  # "f" is now a known string key
    with pytest.raises(InvalidValueError, match=r"'f'.*position 3"):
        norm.normalize({"f": SURROGATE})
    with pytest.raises(InvalidValueError, match=r"'f'.*position 0"):
        norm.normalize({"f": np.str_("\ud800")})


@pytest.mark.parametrize("key", ["caf\udce9", "a/\ud800", "\udfff"])
def test_a_lone_surrogate_key_is_refused(key: str) -> None:
    with pytest.raises(InvalidKeyError, match="surrogate"):
        validate_key(key)
    with pytest.raises(InvalidKeyError, match="surrogate"):
        Normalizer().normalize({key: 1.0})
    with pytest.raises(InvalidKeyError, match="surrogate"):
        Normalizer().normalize({"outer": {key: 1.0}})


def test_any_other_unicode_text_is_kept() -> None:
    text = "a\x00b\x01\x1b[31m\u2028\ufeff\U0001f642\x85\uffff"
    assert to_value("s", text) == text
    assert to_plain({"s": [text]}, where="config") == {"s": [text]}


def test_strings_longer_than_the_limit_are_refused() -> None:
    with pytest.raises(InvalidValueError, match=r"'s'.*1048577 characters.*1048576"):
        to_value("s", "x" * (MAX_STRING_LENGTH + 1))
    norm = Normalizer({"s": "str"})  # a known string key: the fast path checks it too
    with pytest.raises(InvalidValueError, match=r"'s'.*1048577 characters"):
        norm.normalize({"s": "x" * (MAX_STRING_LENGTH + 1)})
    assert to_value("s", "x" * MAX_STRING_LENGTH) is not None


@pytest.mark.parametrize(
    ("config", "error", "message"),
    [
        ({"p": SURROGATE}, InvalidValueError, r"'config\.p'.*position 3"),
        ({"p": ["ok", SURROGATE]}, InvalidValueError, r"'config\.p\[1\]'.*position 3"),
        ({"a": {"b": {SURROGATE: 1}}}, InvalidKeyError, r"'config\.a\.b'.*position 3"),
        ({"a": {"x\x00y": 1}}, InvalidKeyError, r"'config\.a'.*control character"),
        ({"a": {"x\ny": 1}}, InvalidKeyError, r"'config\.a'.*control character"),
        ({"a": {"k" * 513: 1}}, InvalidKeyError, r"'config\.a'.*513 characters"),
        ({"a": {None: 1}}, InvalidKeyError, r"'config\.a'.*NoneType"),
        ({"a": {(1, 2): 1}}, InvalidKeyError, r"'config\.a'.*tuple"),
        ({"a": {1: "x", "1": "y"}}, InvalidKeyError,
         r"'1' under 'config\.a' is given twice \(as 1 and '1'\)"),
        ({"n": 2**1024}, InvalidValueError, r"'config\.n'.*1025 bits"),
        ({"s": "x" * (MAX_STRING_LENGTH + 1)}, InvalidValueError, r"'config\.s'.*characters"),
    ],
)
def test_to_plain_refuses_what_cannot_be_stored(
    config: dict[Any, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        to_plain(config, where="config")


# -- nesting: bounded, never a RecursionError ------------------------------------------------
def test_config_nesting_is_bounded() -> None:
    assert to_plain(deep(MAX_DEPTH), where="config") == deep(MAX_DEPTH)
    for levels in (MAX_DEPTH + 1, 500, 100_000):
        with pytest.raises(InvalidValueError, match=rf"'config(\.k){{{MAX_DEPTH}}}'.*64 levels"):
            to_plain(deep(levels), where="config")


def test_nested_lists_are_bounded_too() -> None:
    value: Any = 1
    for _ in range(500):
        value = [value]
    with pytest.raises(InvalidValueError, match=r"'config(\[0\]){64}'.*64 levels"):
        to_plain(value, where="config")


def test_self_referential_values_are_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(InvalidValueError, match="64 levels"):
        to_plain({"loop": loop}, where="config")
    me: dict[str, Any] = {}
    me["me"] = me
    with pytest.raises((InvalidValueError, InvalidKeyError)):
        Normalizer().normalize(me)


def test_an_item_or_tolist_that_does_not_unwrap_is_refused() -> None:
    class Odd:
        def item(self) -> Odd:
            return self

    class Broken:
        def tolist(self) -> list[int]:
            raise RuntimeError("no")

    with pytest.raises(InvalidValueError, match=r"'config\.o'.*Odd"):
        to_plain({"o": Odd()}, where="config")
    with pytest.raises(InvalidValueError, match=r"'config\.b'.*Broken.*no"):
        to_plain({"b": Broken()}, where="config")


def test_log_nesting_is_bounded() -> None:
    norm = Normalizer()
    assert norm.normalize({"a": deep(MAX_DEPTH - 1)}) == {"a/" + "k/" * 62 + "k": 1}
    with pytest.raises(InvalidValueError, match="64 levels"):
        norm.normalize({"a": deep(MAX_DEPTH)})
    with pytest.raises((InvalidValueError, InvalidKeyError)):
        norm.normalize({"a": deep(500)})


# -- labels: name, project, group, job_type, tags, notes ---------------------------------------
@pytest.mark.parametrize("label", ["resnet-50", "損失 run", "a/b", "🙂"])
def test_labels_kept(label: str) -> None:
    assert check_label("name", label) == label
    assert check_label("name", None) is None
    assert type(check_label("name", np.str_(label))) is str


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("caf\udce9", r"name.*surrogate '\\udce9' at position 3"),
        ("two\nlines", "name.*control character"),
        ("nul\x00", "name.*control character"),
        ("x" * 513, "name.*513 characters"),
        (b"bytes", "name.*bytes"),
    ],
)
def test_labels_refused(label: Any, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        check_label("name", label)


def test_notes_may_hold_any_text_but_a_surrogate() -> None:
    notes = "line 1\nline 2\ttab\x00"
    assert check_text(notes, what="notes") == notes
    with pytest.raises(InvalidValueError, match=r"notes.*position 1"):
        check_text("a\udce9", what="notes")


# -- fuzz: what is accepted survives every format it is written in ----------------------------
odd_text = st.text(
    st.characters() | st.integers(0xD800, 0xDFFF).map(chr)
    | st.sampled_from(["\x00", "\x1b", "\n", "\x7f", "\x85", "\u2028", "\ufeff", "\uffff"]),
    max_size=10,
)
odd_keys = odd_text | st.integers(-2, 2) | st.sampled_from([1.5, True, None, (1, 2)])
odd_scalars = (st.none() | st.booleans() | st.integers() | st.floats() | odd_text
               | st.sampled_from([2**63, 2**1024, -(2**1024)]))
odd_values = st.recursive(
    odd_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_keys, inner, max_size=3),
    max_leaves=15,
) | st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2).map(deep)


def same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN and types kept (1 is not 1.0 nor True)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@settings(max_examples=300)
@given(st.dictionaries(odd_keys, odd_values, max_size=4))
def test_accepted_config_reads_back_exactly_from_yaml_and_the_wal(value: dict[Any, Any]) -> None:
    import yaml

    from gittrack.formats import walcodec, yamlio

    try:
        plain = to_plain(value, where="config")
    except (InvalidKeyError, InvalidValueError):
        return
    stored = yamlio.dump(plain)
    assert same(yamlio.load(stored), plain)
    assert same(yaml.load(stored, Loader=yaml.SafeLoader), plain)  # plain PyYAML, no libyaml
    assert same(next(walcodec.decode_all(walcodec.encode(("config", 1, plain))))[2], plain)


@settings(max_examples=300)
@given(st.dictionaries(odd_keys, odd_values, max_size=4))
def test_accepted_log_data_reads_back_exactly_from_parquet(data: dict[Any, Any]) -> None:
    import pyarrow.parquet as pq

    from gittrack.formats import table

    try:
        row = Normalizer().normalize(data)
    except (InvalidKeyError, InvalidValueError):
        return
    chunk = table.history_chunk([0], [0.0], [0.0], {k: [v] for k, v in row.items()})
    back = pq.read_table(io.BytesIO(chunk)).to_pylist()[0]
    assert same({k: back[k] for k in row}, row)


def test_str_enum_members_are_stored_as_their_value() -> None:
    class Mode(str, enum.Enum):
        FAST = "fast"

    assert to_plain({"m": Mode.FAST, Mode.FAST: 1}, where="config") == {"m": "fast", "fast": 1}
    out = Normalizer().normalize({"m": Mode.FAST, Mode.FAST: 1.0})
    assert out == {"m": "fast", "fast": 1.0}
    assert all(type(k) is str for k in out) and type(out["m"]) is str
    assert check_label("group", Mode.FAST) == "fast"


def test_the_text_of_one_log_call_is_bounded() -> None:
    half = "x" * (MAX_STRING_LENGTH // 2)
    norm = Normalizer()
    assert norm.normalize({"a": half, "b": half}) == {"a": half, "b": half}
    for _ in range(2):  # the second time, "a" to "c" are known keys: the fast path
        with pytest.raises(InvalidValueError, match=r"log\(\) call holds 1572864 characters"):
            norm.normalize({"a": half, "b": half, "c": half})
        norm.kinds["c"] = "str"
    assert norm.normalize({"a": half, "n": 1.0}) == {"a": half, "n": 1.0}


def test_readable_keeps_what_the_system_gave_as_text() -> None:
    argv = os.fsdecode(b"--data=caf\xe9")  # a latin-1 argument: "\udce9" after decoding
    assert readable(argv) == "--data=caf\\xe9"
    assert readable({"args": [argv, "ok"], "cwd": "/d\u00e9j\u00e0"}) == {
        "args": ["--data=caf\\xe9", "ok"], "cwd": "/déjà"}
    assert readable("x\ud800y") == "x\\ud800y"  # not a surrogateescape byte: escaped as is
    assert readable(7) == 7


def test_a_normalizer_of_a_run_over_the_logged_bound_is_made_and_refuses_only_new_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run resumed with more keys than the bound allows (an older gittrack) goes on with
    the keys it has; a new key is refused naming it and the limit."""
    from gittrack.formats import values

    monkeypatch.setattr(values, "MAX_LOGGED_BYTES", 1000)
    normalizer = values.Normalizer({f"k{i}": "num" for i in range(100)})
    assert normalizer.normalize({"k1": 1.0, "k2": np.float32(2.0)}) == {"k1": 1.0, "k2": 2.0}
    with pytest.raises(InvalidValueError, match=r"metric 'new' .* limit is 1,000"):
        normalizer.normalize({"new": 1.0})
    assert "new" not in normalizer.kinds


def test_wandb_plain_keeps_values_as_w_and_b_does() -> None:
    import argparse
    import dataclasses
    import datetime
    import enum
    from pathlib import Path

    from gittrack.formats.values import wandb_plain

    class Color(enum.Enum):
        RED = 1

    @dataclasses.dataclass
    class Opt:
        lr: float = 0.1

    class Device:
        def __str__(self) -> str:
            return "cuda:0"

    assert wandb_plain({"c": Color.RED, "d": datetime.date(2024, 1, 2), "b": b"x",
                        "s": slice(1, 5), "o": Opt(), "f": len, "dev": Device(),
                        "n": argparse.Namespace(a=1), "t": (1, 2), "p": Path("a/b")}) == {
        "c": "RED", "d": "2024-01-02", "b": "x",
        "s": {"slice_start": 1, "slice_step": None, "slice_stop": 5}, "o": {"lr": 0.1},
        "f": "builtins.len", "dev": "cuda:0", "n": "Namespace(a=1)", "t": [1, 2], "p": "a/b"}
