from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gittrack.errors import FormatError
from gittrack.formats import table
from tests.helpers.values import widened

INT64 = st.integers(-(2**63), 2**63 - 1)
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
COLUMN_KINDS = {
    "int": INT64,
    "float": FLOATS,
    "bool": st.booleans(),
    "str": st.text(max_size=20),  # unicode included
    "num": st.booleans() | st.integers(-(2**40), 2**40) | FLOATS,  # mixed: widened
}
keys = st.text(min_size=1, max_size=20).filter(lambda k: k not in table.SYSTEM_COLUMNS)


def same(a: Any, b: Any) -> bool:
    """Equality with NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b) and type(a) is type(b)


@st.composite
def chunks(draw: st.DrawFn, kinds: dict[str, str] | None = None) -> dict[str, Any]:
    rows = draw(st.integers(1, 12))
    if kinds is None:
        kinds = draw(st.dictionaries(keys, st.sampled_from(sorted(COLUMN_KINDS)), max_size=5))
    columns = {}
    for name, kind in kinds.items():
        sparse = st.none() | COLUMN_KINDS[kind]
        columns[name] = draw(st.lists(sparse, min_size=rows, max_size=rows))
    steps = draw(st.lists(st.integers(0, 2**62), min_size=rows, max_size=rows))
    times = draw(st.lists(st.floats(0, 2e9), min_size=rows, max_size=rows))
    return {"steps": steps, "times": times, "columns": columns}


def write(chunk: dict[str, Any]) -> bytes:
    return table.history_chunk(chunk["steps"], chunk["times"], chunk["times"], chunk["columns"])


@given(chunks())
def test_history_chunk_round_trip(chunk: dict[str, Any]) -> None:
    got = table.read_chunk(write(chunk))
    assert got.column_names == [*table.SYSTEM_COLUMNS, *chunk["columns"]]
    assert got.column(table.STEP).to_pylist() == chunk["steps"]
    assert got.column(table.TIMESTAMP).to_pylist() == chunk["times"]
    for name, values in chunk["columns"].items():
        back = got.column(name).to_pylist()
        want = widened(values)
        assert len(back) == len(want)
        assert all((b is None and w is None) or same(b, w)
                   for b, w in zip(back, want, strict=True)), name


@settings(max_examples=50)
@given(st.data())
def test_concat_unions_columns_and_widens_types(data: st.DataObject) -> None:
    shared = data.draw(st.dictionaries(keys, st.sampled_from(["int", "float", "bool", "num"]),
                                       max_size=3))
    parts = []
    for _ in range(data.draw(st.integers(1, 4))):
        kinds = {k: data.draw(st.sampled_from(["int", "float", "bool", "num"])) for k in shared}
        extra = data.draw(st.dictionaries(keys, st.just("str"), max_size=1))
        kinds.update({k: v for k, v in extra.items() if k not in shared})  # a key keeps its kind
        parts.append(data.draw(chunks(kinds)))
    full = table.concat(table.read_chunk(write(p)) for p in parts)
    assert full is not None
    assert full.column_names[:3] == list(table.SYSTEM_COLUMNS)
    # the footers alone give the same columns, types and rows
    footers = [table.chunk_schema(write(p), what="chunk") for p in parts]
    assert [(f.name, f.type) for f in table.union_schema(s for s, _ in footers)] == \
        [(f.name, f.type) for f in full.schema]
    assert sum(rows for _, rows in footers) == full.num_rows
    assert full.num_rows == sum(len(p["steps"]) for p in parts)
    assert full.column(table.STEP).to_pylist() == [s for p in parts for s in p["steps"]]
    names = {n for p in parts for n in p["columns"]}
    assert set(full.column_names) == {*table.SYSTEM_COLUMNS, *names}
    for name in names:
        back = full.column(name).to_pylist()
        want = [v for p in parts
                for v in (widened(p["columns"][name]) if name in p["columns"]
                          else [None] * len(p["steps"]))]
        present = [w for w in want if w is not None]
        if any(isinstance(w, float) for w in present):  # widest type wins across chunks
            want = [None if w is None else float(w) for w in want]
        elif any(isinstance(w, int) and not isinstance(w, bool) for w in present):
            want = [None if w is None else int(w) for w in want]
        assert all((b is None and w is None) or same(b, w)
                   for b, w in zip(back, want, strict=True)), name


def test_widening_bool_int_float_across_chunks() -> None:
    a = table.read_chunk(table.history_chunk([0], [0.0], [0.0], {"x": [True], "s": ["é"]}))
    b = table.read_chunk(table.history_chunk([1], [1.0], [1.0], {"x": [2]}))
    c = table.read_chunk(table.history_chunk([2], [2.0], [2.0], {"x": [2.5], "y": [None]}))
    full = table.concat([a, b, c])
    assert full is not None
    assert full.schema.field("x").type == pa.float64()
    assert full.column("x").to_pylist() == [1.0, 2.0, 2.5]
    assert full.column("s").to_pylist() == ["é", None, None]
    assert full.column("y").to_pylist() == [None, None, None]


def test_read_chunk_projects_the_columns_it_has() -> None:
    data = table.history_chunk([0, 1], [0.0, 1.0], [0.0, 1.0],
                               {"loss": [0.5, 0.25], "acc": [None, 1.0], "s": ["a", "b"]})
    got = table.read_chunk(data, columns=["acc", table.STEP, "absent", "loss"])
    assert got.column_names == [table.STEP, "loss", "acc"]  # the chunk's order
    assert got.column("acc").to_pylist() == [None, 1.0]
    assert table.read_chunk(data, columns=[]).num_columns == 0
    with pytest.raises(FormatError, match="cannot read bad chunk"):
        table.read_chunk(b"not parquet", what="bad chunk", columns=["loss"])
    with pytest.raises(FormatError, match="cannot read bad chunk"):
        table.chunk_schema(b"PAR1 forged PAR1", what="bad chunk")


def test_concat_of_nothing() -> None:
    assert table.concat([]) is None


def test_chunks_are_plain_parquet_with_the_format_version() -> None:
    data = table.history_chunk([0, 1], [1.0, 2.0], [0.0, 1.0],
                               {"loss": [0.5, math.nan], "acc": [None, 1]})
    read = pq.read_table(pa.BufferReader(data))
    # format 2: a history chunk's footer holds no Arrow schema and no key-value metadata
    # (its types are Parquet's own); a histogram chunk keeps both (its lists need them)
    assert read.schema.metadata is None
    assert read.schema.field("acc").type == pa.int64()
    hist = pq.read_table(pa.BufferReader(table.histogram_chunk([("h", 0, 1.0, [0, 1], [2])])))
    assert hist.schema.metadata[b"gittrack.format"] == b"1"
    assert hist.schema.field("edges").type == pa.list_(pa.float64())
    assert read.column("acc").to_pylist() == [None, 1]
    loss = read.column("loss").to_pylist()
    assert loss[0] == 0.5 and math.isnan(loss[1])  # NaN is a value, not a null
    assert read.column("loss").null_count == 0


def test_histogram_chunk_round_trip() -> None:
    rows = [("w", 0, 1.0, [0.0, 1.0, 2.0], [3.0, 4.0]), ("w", 5, 2.0, [0.0, 1.0], [7.0])]
    got = table.read_chunk(table.histogram_chunk(rows))
    assert got.column_names == ["key", table.STEP, table.TIMESTAMP, "edges", "counts"]
    assert [tuple(r.values()) for r in got.to_pylist()] == rows
    assert table.read_chunk(table.histogram_chunk([])).num_rows == 0


def test_unreadable_chunk_is_a_format_error() -> None:
    with pytest.raises(FormatError, match="history chunk"):
        table.read_chunk(b"not parquet", what="history chunk")


def _sample_chunk() -> bytes:
    return table.history_chunk(list(range(50)), [float(i) for i in range(50)],
                               [i / 2 for i in range(50)],
                               {"loss": [1 / (i + 1) for i in range(50)],
                                "name": [f"row {i}" for i in range(50)]})


@settings(max_examples=300)
@given(st.data())
def test_a_damaged_chunk_reads_or_is_a_format_error(data: st.DataObject) -> None:
    """Any corruption a remote or a disk can bring: never a decoder's own exception."""
    raw = bytearray(_sample_chunk())
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    try:
        table.read_chunk(bytes(raw[:cut] if data.draw(st.booleans()) else raw), what="h/0")
    except FormatError as exc:
        assert "h/0" in str(exc)


def test_a_chunk_declaring_too_much_data_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    zeros = table.history_chunk([0] * (1 << 20), [0.0] * (1 << 20), [0.0] * (1 << 20), {})
    assert len(zeros) < 200_000  # compresses to little: what a bomb looks like
    monkeypatch.setattr(table, "MAX_CHUNK_BYTES", 8 << 20)
    with pytest.raises(FormatError, match=r"000001\.parquet: its data takes .* decoded"):
        table.read_chunk(zeros, what="history/000001.parquet")


def test_many_keys_across_many_chunks_with_differing_key_sets() -> None:
    """Wide runs (issue 8): 3,000 keys over 60 chunks, each chunk with its own key set, some
    keys widening bool → int → float or turning to text, some only ever null. Checked
    against rows built in plain Python."""
    chunks, rows_per, keys = 60, 3, 3_000
    expected_rows: list[dict[str, Any]] = []
    parts = []
    for c in range(chunks):
        steps = list(range(c * rows_per, (c + 1) * rows_per))
        names = [f"k{(c * 37 + i) % keys:05d}" for i in range(150)]  # overlapping windows
        columns: dict[str, list[Any]] = {}
        for name in names:
            n = int(name[1:])
            kind = n % 5
            if kind == 0:    # widens with the chunk: bool, then int, then float
                values: list[Any] = [[True, 2, 2.5][min(c // 20, 2)]] * rows_per
            elif kind == 1:  # text in every third chunk
                values = [f"t{c}"] * rows_per if c % 3 == 0 else [c] * rows_per
            elif kind == 2:  # never a value
                values = [None] * rows_per
            else:
                values = [float(n + s) for s in steps]
            columns[name] = values
        parts.append(table.read_chunk(table.history_chunk(
            steps, [float(s) for s in steps], [0.0] * rows_per, columns)))
        for r, step in enumerate(steps):
            expected_rows.append({"_step": step, **{k: v[r] for k, v in columns.items()}})
    full = table.concat(parts)
    assert full is not None
    seen = list(dict.fromkeys(k for row in expected_rows for k in row if k != "_step"))
    assert full.column_names == [*table.SYSTEM_COLUMNS, *seen]
    assert full.num_rows == chunks * rows_per
    got = {name: full.column(name).to_pylist() for name in seen}
    for name in seen:
        want = [row.get(name) for row in expected_rows]
        present = [w for w in want if w is not None]
        if any(isinstance(w, str) for w in present):
            want = [None if w is None else (w if isinstance(w, str) else str(w)) for w in want]
        elif any(isinstance(w, float) for w in present):
            want = [None if w is None else float(w) for w in want]
        elif any(isinstance(w, int) and not isinstance(w, bool) for w in present):
            want = [None if w is None else int(w) for w in want]
        assert got[name] == want, name


def _bomb(path: Path, table_: pa.Table, copies: int) -> int:
    """A Parquet file of ``copies`` row groups of ``table_``: small on disk, huge decoded."""
    with pq.ParquetWriter(path, table_.schema, compression="zstd") as writer:
        for _ in range(copies):
            writer.write_table(table_)
    return path.stat().st_size


def test_a_history_bomb_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    """Regression: 5 MB of zstd declaring 300 million zero rows grew a reader to 3 GB; the
    footer's sizes are of the encoded pages, which a run of zeros makes tiny. Here 160 million
    rows (1.3 GB decoded) are read under a 1.5 GB address-space limit: a FormatError naming the
    file, not a MemoryError."""
    zeros = pa.table({"_step": pa.array(np.zeros(1 << 20, dtype=np.int64))})
    path = tmp_path / "000000.parquet"
    assert _bomb(path, zeros, 160) < 20 << 20
    done = _read_under_a_memory_limit(path)
    assert done.returncode == 6, done.stderr
    assert "history/000000.parquet" in done.stdout and "more than the" in done.stdout


def test_data_the_footer_cannot_announce_is_bounded_while_decoding(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Strings repeated through a dictionary: the footer says a few bytes per row, decoding
    makes a KB per row; the read stops at the bound, batch by batch."""
    monkeypatch.setattr(table, "MAX_CHUNK_BYTES", 32 << 20)
    rows = pa.table({"name": pa.array(["y" * 1000] * 10_000)})
    path = tmp_path / "bomb.parquet"
    assert _bomb(path, rows, 10) < 1 << 20
    with pytest.raises(FormatError, match=r"h/1: its data takes .* more than the 33,554,432"):
        table.read_chunk(path.read_bytes(), what="h/1")


def test_a_chunk_with_columns_selected_or_no_rows_reads() -> None:
    chunk = table.history_chunk([], [], [], {})
    assert table.read_chunk(chunk).num_rows == 0
    full = table.read_parquet(_sample_chunk(), what="c", columns=["_step", "loss"])
    assert full.column_names == ["_step", "loss"] and full.num_rows == 50
    with pytest.raises(FormatError, match=r"c: .*nope"):
        table.read_parquet(_sample_chunk(), what="c", columns=["nope"])


def test_a_repeated_string_bomb_is_measured_before_it_is_expanded(tmp_path: Path) -> None:
    """One 2 MB string repeated 2,000 times is a few KB of Parquet and 4 GB decoded: the
    dictionary is measured before it is expanded, under a 1.5 GB address-space limit."""
    column = pa.DictionaryArray.from_arrays(pa.array(np.zeros(2000, dtype=np.int32)),
                                            pa.array(["y" * (2 << 20)]))
    path = tmp_path / "000000.parquet"
    pq.write_table(pa.table({"_step": pa.array(range(2000), pa.int64()), "text": column}), path,
                   compression="zstd")
    assert path.stat().st_size < 1 << 20
    done = _read_under_a_memory_limit(path)
    assert done.returncode == 6, done.stderr
    assert "history/000000.parquet: its data takes" in done.stdout


def test_strings_read_back_as_plain_strings() -> None:
    chunk = table.read_chunk(_sample_chunk())
    assert chunk.schema.field("name").type == pa.string()
    assert chunk.column("name").to_pylist()[:2] == ["row 0", "row 1"]


def _read_under_a_memory_limit(path: Path) -> subprocess.CompletedProcess[str]:
    """Read ``path`` as a history chunk in a fresh interpreter limited to 1.5 GiB; exit 6 with
    the message on a FormatError (a bomb that expanded would die of MemoryError instead)."""
    code = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
        from gittrack.errors import FormatError
        from gittrack.formats import table
        try:
            table.read_chunk(open({str(path)!r}, "rb").read(), what="history/000000.parquet")
        except FormatError as exc:
            print(exc)
            sys.exit(6)
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
