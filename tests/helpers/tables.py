"""Exact comparison of Arrow tables and rows for round-trip tests (NaN equals NaN, not null)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv


def canon(value: Any) -> Any:
    """A value where NaN compares equal to NaN but stays distinct from None and from 0."""
    if isinstance(value, float) and math.isnan(value):
        return ("<NaN>",)
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canon(v) for v in value]
    return value


def assert_tables_equal(actual: pa.Table, expected: pa.Table) -> None:
    assert actual.column_names == expected.column_names
    assert [f.type for f in actual.schema] == [f.type for f in expected.schema]
    assert canon(actual.to_pylist()) == canon(expected.to_pylist())


def read_csv(path: Path, schema: pa.Schema) -> pa.Table:
    """Read an exported CSV exactly: only an empty field is null; "" is an empty string."""
    types = {f.name: (pa.string() if pa.types.is_list(f.type) else f.type) for f in schema}
    options = pcsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=True,
                                  quoted_strings_can_be_null=False)
    table = pcsv.read_csv(path, convert_options=options)
    for index, field in enumerate(schema):
        if pa.types.is_list(field.type):
            lists = [None if v is None else json.loads(v) for v in table.column(index).to_pylist()]
            table = table.set_column(index, field.name, pa.array(lists, field.type))
    return table


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
