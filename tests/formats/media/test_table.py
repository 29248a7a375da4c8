"""gittrack.Table: W&B's forms and methods, refused tables, and Table → Parquet → Table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gittrack
from gittrack.errors import FormatError, InvalidValueError
from gittrack.formats import table as parquet
from gittrack.formats.media.audio import Audio
from gittrack.formats.media.base import Stored, decode
from gittrack.formats.media.table import MediaRef, Table
from gittrack.formats.media.video import Video
from tests.helpers.stored_media import items, round_trip, stored


def test_exported_from_gittrack() -> None:
    assert gittrack.Table is Table


def test_columns_and_data_round_trip() -> None:
    table = Table(columns=["id", "label", "score", "ok", "note"],
                  data=[[1, "cat", 0.9, True, None], [2, "dog", 0.25, False, "x"]])
    back = round_trip(table)
    assert isinstance(back, Table) and back == table
    assert back.columns == ["id", "label", "score", "ok", "note"]
    assert back.data == [[1, "cat", 0.9, True, None], [2, "dog", 0.25, False, "x"]]
    assert back.column_types == {"id": "int", "label": "string", "score": "float",
                                 "ok": "bool", "note": "string"}


def test_the_stored_form_is_parquet_with_its_columns_in_meta() -> None:
    table = Table(columns=["a", "b"], data=[[1, "x"], [2, None], [3, "z"]])
    item, _ = stored(table.payloads("k")[-1])
    assert item.format == "parquet" and item.length == 3
    assert item.meta["columns"] == ["a", "b"]
    assert item.meta["types"] == {"a": "int", "b": "string"}
    read = parquet.read_parquet(item.data, what="t")
    assert read.column("a").to_pylist() == [1, 2, 3]


def test_add_data_add_column_get_column_get_dataframe() -> None:
    table = Table(columns=["x"])
    for i in range(3):
        table.add_data(i)
    table.add_column("y", [0.5, 1.5, 2.5])
    assert table.columns == ["x", "y"] and table.data == [[0, 0.5], [1, 1.5], [2, 2.5]]
    assert table.get_column("y") == [0.5, 1.5, 2.5]
    assert np.array_equal(table.get_column("x", convert_to="numpy"), np.arange(3))
    frame = round_trip(table).get_dataframe()
    assert list(frame.columns) == ["x", "y"] and frame["y"].tolist() == [0.5, 1.5, 2.5]
    assert [i for i, _ in table.iterrows()] == [0, 1, 2]


def test_rows_dataframe_and_ndarray_forms() -> None:
    assert Table(columns=["a"], rows=[[1], [2]]).data == [[1], [2]]
    frame = pd.DataFrame({"n": [1, 2], "s": ["a", None], "f": [0.5, np.nan]})
    table = Table(dataframe=frame)
    assert table.columns == ["n", "s", "f"]
    assert table.data == [[1, "a", 0.5], [2, None, None]]
    assert round_trip(table) == table
    array = Table(data=np.arange(6).reshape(2, 3))
    assert array.columns == ["Column_0", "Column_1", "Column_2"]
    assert array.data == [[0, 1, 2], [3, 4, 5]]
    assert Table().columns == ["Input", "Output", "Expected"]
    assert Table(data=frame).data == table.data  # a DataFrame given as data


def test_a_table_larger_than_a_reader_takes_is_refused_in_log(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet, "MAX_CHUNK_BYTES", 4096)  # write bound: 1 KiB
    table = Table(columns=["text"], data=[["x" * 100] for _ in range(20)])
    with pytest.raises(InvalidValueError, match=r"'big'.*more than the 1,024"):
        table.payloads("big")


def test_wandb_arguments_without_effect_are_accepted() -> None:
    table = Table(columns=["a"], data=[[1]], dtype=[int], optional=False, log_mode="MUTABLE")
    assert round_trip(table) == table


def test_numpy_scalars_are_plain_cells() -> None:
    table = Table(columns=["i", "f", "b"], data=[[np.int32(3), np.float32(0.5), np.bool_(True)]])
    assert table.data == [[3, 0.5, True]]
    assert [type(c) for c in table.data[0]] == [int, float, bool]


def test_ints_and_floats_share_a_column_as_floats() -> None:
    table = Table(columns=["v"], data=[[1], [2.5]])
    assert table.column_types == {"v": "float"}
    assert round_trip(table).data == [[1.0], [2.5]]


def test_mixed_types_only_when_allowed() -> None:
    with pytest.raises(InvalidValueError, match=r"'v'.*row 1.*allow_mixed_types"):
        Table(columns=["v"], data=[[1], ["one"]])
    table = Table(columns=["v"], data=[[1], ["one"], [True], [None], [float("inf")]],
                  allow_mixed_types=True)
    back = round_trip(table)
    assert back.column_types == {"v": "mixed"}
    assert back.data == [[1], ["one"], [True], [None], [math.inf]]


def test_empty_tables_round_trip() -> None:
    assert round_trip(Table(columns=["a", "b"])).columns == ["a", "b"]
    back = round_trip(Table(columns=["a"], data=[[None], [None]]))
    assert back.data == [[None], [None]] and back.column_types == {"a": "null"}


@pytest.mark.parametrize(("make", "expected"), [
    (lambda: Table(columns=["a", "a"]), "'a' appears twice"),
    (lambda: Table(columns=["a", ""]), "non-empty"),
    (lambda: Table(columns=["a", None]), "non-empty"),
    (lambda: Table(columns="abc"), "list of names"),
    (lambda: Table(columns=["a", "b"], data=[[1, 2], [3]]), "row 1 has 1 cells, expected 2"),
    (lambda: Table(columns=["a"], data=[5]), "row 0 is int"),
    (lambda: Table(columns=["a"]).add_data(1, 2), "row 0 has 2 cells"),
    (lambda: Table(columns=["a"]).add_data([1, 2]), "row 0, column 'a' is list"),
    (lambda: Table(columns=["a"]).add_data({"k": 1}), "expected a number, string"),
    (lambda: Table(columns=["a"]).add_data(np.zeros(3)), "ndarray"),
    (lambda: Table(columns=["a"]).add_data(2**64), "64 bits"),
    (lambda: Table(columns=["a"]).add_data(Table()), "cannot be a cell"),
    (lambda: Table(columns=["a"], data=[[1]]).add_column("b", [1, 2]), "2 cells, expected 1"),
    (lambda: Table(columns=["a"], data=[[1]]).add_column("a", [1]), "twice"),
    (lambda: Table(columns=["a"], data=[[1]]).get_column("z"), "no column 'z'"),
    (lambda: Table(columns=["a"], data=[["ok"], ["bad \ud800"]]), "row 1.*lone surrogate"),
    (lambda: Table(columns=["a\udc80"]), "UTF-8"),
])
def test_refused_tables_say_what_was_expected(make: object, expected: str) -> None:
    with pytest.raises(InvalidValueError, match=expected):
        make()  # type: ignore[operator]


def test_a_table_changed_in_place_is_checked_again_in_log() -> None:
    table = Table(columns=["a", "b"], data=[[1, 2]])
    table.data.append([3])
    with pytest.raises(InvalidValueError, match=r"'preds'.*row 1 has 1 cells"):
        table.payloads("preds")
    table.data[1] = [3, object()]
    with pytest.raises(InvalidValueError, match=r"'preds'.*column 'b' is object"):
        table.payloads("preds")
    table.data[1] = [3, "x"]
    with pytest.raises(InvalidValueError, match=r"'preds'.*allow_mixed_types"):
        table.payloads("preds")


def test_a_failed_add_column_leaves_the_table_as_it_was() -> None:
    table = Table(columns=["a"], data=[[1], [2]])
    with pytest.raises(InvalidValueError):
        table.add_column("b", [1, "x"])
    assert table.columns == ["a"] and table.data == [[1], [2]]


def test_media_cells_are_items_logged_before_the_table() -> None:
    sound = Audio(np.zeros(100, np.float32), sample_rate=100)
    clip = Video(np.zeros((2, 3, 4, 4), np.uint8))
    table = Table(columns=["id", "audio", "video"])
    table.add_data(0, sound, None)
    table.add_data(1, None, clip)
    payloads = table.payloads("examples")
    assert [p.kind for p in payloads] == ["audio", "video", "table"]
    assert payloads[-1].spec["media_items"] == 2
    assert payloads[-1].spec["types"] == {"id": "int", "audio": "audio", "video": "video"}
    decoded = items(table, "examples")
    back = decoded[-1]
    assert back.data[0][1] == MediaRef(0, "audio") and back.data[1][2] == MediaRef(1, "video")
    back.resolve(decoded[:-1])
    assert isinstance(back.data[0][1], Audio) and back.data[0][1].duration == 1.0
    assert isinstance(back.data[1][2], Video) and back.data[1][2].numpy().shape == (2, 3, 4, 4)


def test_a_refused_media_cell_names_the_key_and_column() -> None:
    table = Table(columns=["audio"], data=[[Audio(np.zeros(10))]])  # no sample_rate
    with pytest.raises(InvalidValueError, match=r"'examples/audio'.*sample_rate"):
        table.payloads("examples")


def test_a_blob_that_is_not_parquet_is_a_format_error() -> None:
    row = Stored("table", "parquet", None, None, 1, None, {"columns": ["a"], "types": {}})
    with pytest.raises(FormatError, match="table"):
        decode(b"PAR1 not parquet", row)


@pytest.mark.parametrize("meta", [
    {"columns": ["a", "a"]},
    {"columns": ["a"], "types": {"a": "mixed"}},
    {"columns": ["a"], "types": {"a": "image"}},
    {"columns": ["a"], "types": "not a mapping"},
    {"columns": ["a"], "media_items": "many"},
])
def test_a_forged_table_is_a_format_error(meta: dict[str, object]) -> None:
    item, _ = stored(Table(columns=["a"], data=[["not json {"]]).payloads("k")[-1])
    with pytest.raises(FormatError, match="table"):
        decode(item.data, Stored("table", "parquet", None, None, 1, None, meta))


cells = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False), st.text(max_size=20),
)
names = st.text(min_size=1, max_size=8).filter(str.strip)


@st.composite
def plain_tables(draw: st.DrawFn) -> Table:
    columns = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    rows = draw(st.lists(st.lists(cells, min_size=len(columns), max_size=len(columns)),
                         max_size=12))
    return Table(columns=columns, data=rows, allow_mixed_types=True)


@given(plain_tables())
def test_plain_tables_round_trip_through_parquet(table: Table) -> None:
    back = round_trip(table)
    assert back.columns == table.columns
    assert back.column_types == table.column_types
    for row, back_row in zip(table.data, back.data, strict=True):
        for name, cell, back_cell in zip(table.columns, row, back_row, strict=True):
            if table.column_types[name] == "float" and cell is not None:
                # a column of ints and floats holds floats (an int past 2**53 is rounded)
                assert back_cell == float(cell) and type(back_cell) is float
            else:
                assert back_cell == cell and type(back_cell) is type(cell)


@given(st.lists(st.tuples(st.integers(-1000, 1000), st.booleans(), st.text(max_size=5)),
                max_size=20))
def test_typed_columns_round_trip(rows: list[tuple[int, bool, str]]) -> None:
    table = Table(columns=["n", "b", "s"], data=[list(r) for r in rows])
    back = round_trip(table)
    assert back.data == table.data
    assert all(type(a) is type(b) for r, q in zip(table.data, back.data, strict=True)
               for a, b in zip(r, q, strict=True))
