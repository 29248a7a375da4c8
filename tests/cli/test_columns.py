from __future__ import annotations

from gittrack.cli.columns import Column, layout


def test_columns_are_padded_and_right_aligned() -> None:
    text = layout([Column("name"), Column("value", right=True)],
                  [[("a", None), ("1", None)], [("longer", "bold"), ("1234567", None)]])
    assert text.plain.splitlines() == ["name      value", "a             1", "longer  1234567"]
    assert [(s.start, s.end, s.style) for s in text.spans] == [
        (0, 4, "bold"), (10, 15, "bold"), (32, 38, "bold")]


def test_no_trailing_spaces_and_no_control_characters() -> None:
    text = layout([Column("a"), Column("b"), Column("c", right=True)],
                  [[("x\ny", None), ("", None), ("", None)],
                   [("z", None), ("", "bold"), ("", None)]])
    assert text.plain.splitlines() == ["a    b  c", "x y", "z"]


def test_wide_characters_take_two_cells() -> None:
    text = layout([Column("n"), Column("v")], [[("日本", None), ("1", None)],
                                                [("abcd", None), ("2", None)]])
    assert text.plain.splitlines() == ["n     v", "日本  1", "abcd  2"]


def test_header_only() -> None:
    assert layout([Column("id"), Column("x", right=True)], []).plain == "id  x"
