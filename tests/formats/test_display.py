from __future__ import annotations

from gittrack.formats.display import flatten, format_value, is_number


def test_flatten_nested_dicts_but_not_histograms_lists_or_empty_dicts() -> None:
    hist = {"_type": "histogram", "values": [1], "bins": [0, 1]}
    data = {"a": {"b": {"c": 1}, "d": [1, {"e": 2}]}, "h": hist, "empty": {}, "x/y": 2}
    assert flatten(data) == {"a.b.c": 1, "a.d": [1, {"e": 2}], "h": hist, "empty": {},
                             "x/y": 2}


def test_flatten_nests_dicts_with_dots_and_keeps_leaves_whole() -> None:
    data = {"lr": 0.1, "opt": {"name": "adam", "betas": [0.9, 0.99], "sched": {"kind": "cos"}},
            "empty": {}, "h": {"_type": "histogram", "values": [1.0], "bins": [0.0, 1.0]}}
    assert flatten(data) == {
        "lr": 0.1, "opt.name": "adam", "opt.betas": [0.9, 0.99], "opt.sched.kind": "cos",
        "empty": {}, "h": {"_type": "histogram", "values": [1.0], "bins": [0.0, 1.0]},
    }


def test_numbers_are_ints_and_floats_not_bools() -> None:
    assert is_number(1) and is_number(1.5) and not is_number(True) and not is_number("1")


def test_format_value() -> None:
    assert format_value(None) == "-"
    assert format_value(True) == "true"
    assert format_value(0.1234567891) == "0.123457"
    assert format_value({"_type": "histogram", "values": [1, 2]}) == "histogram[2]"
    assert format_value({"a": 1, "b": False}) == "a=1, b=false"
    assert format_value("x") == "x"
