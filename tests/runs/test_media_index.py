"""The media index: rows -> Parquet -> rows, safe stored paths, forged rows refused."""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gittrack.errors import FormatError
from gittrack.formats import table
from gittrack.runs.media_index import MediaRow, key_folder, rows_of, stored_path, table_of
from gittrack.storage.entry import ManifestEntry, check_entry_path
from gittrack.types import BlobName, Digest

keys = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=300)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=10)


@st.composite
def media_rows(draw: Any) -> MediaRow:
    key = draw(keys)
    step, seq, item = (draw(st.integers(0, 2**62)) for _ in range(3))
    fmt = draw(st.sampled_from(["png", "jpg", "txt", "html", "gif"]))
    content = draw(st.binary(max_size=16))
    digest = hashlib.sha256(content).hexdigest()
    entry = ManifestEntry(stored_path(key, step, seq, item, fmt), Digest(digest), len(content),
                          BlobName(digest))
    optional = st.none() | st.integers(0, 2**31)
    return MediaRow(key=key, step=step, type=draw(st.sampled_from(["image", "text", "html"])),
                    item=item, entry=entry, width=draw(optional), height=draw(optional),
                    length=draw(st.none() | st.floats(0, 1e9)),
                    caption=draw(st.none() | st.text(max_size=50)), format=fmt,
                    meta=draw(st.dictionaries(st.text(max_size=8), json_values, max_size=4)))


@given(st.lists(media_rows(), max_size=8))
def test_rows_parquet_rows(rows: list[MediaRow]) -> None:
    data = table.encode(table_of(rows)) if rows else None
    if data is None:
        return
    back = rows_of(table.read_chunk(data), what="chunk")
    assert back == rows


@given(keys)
def test_key_folder_is_one_safe_component(key: str) -> None:
    folder = key_folder(key)
    assert "/" not in folder and folder not in (".", "..") and not folder.startswith(".")
    assert len(folder.encode()) <= 200
    check_entry_path(stored_path(key, 1, 2, 3, "png"))


def test_key_folders_are_distinct() -> None:
    names = ["a/b", "a%2Fb", "..", ".", "a b", "x" * 400, "x" * 399 + "y", "ü", "../../etc"]
    folders = [key_folder(k) for k in names]
    assert len(set(folders)) == len(folders)
    assert key_folder("../../etc") == "%2E.%2F..%2Fetc"


def good() -> MediaRow:
    digest = hashlib.sha256(b"x").hexdigest()
    return MediaRow("img", 3, "image", 0, ManifestEntry(stored_path("img", 3, 9, 0, "png"),
                                                         Digest(digest), 1, BlobName(digest)),
                    4, 4, None, None, "png", {})


@pytest.mark.parametrize(("column", "value", "why"), [
    ("key", "other", "path"), ("step", -1, "step"), ("item", 5, "path"),
    ("format", "PNG!", "format"), ("type", "../x", "type"), ("meta", "[1]", "object"),
    ("meta", "{", "JSON"), ("width", -3, "width"),
    ("path", "media/img/../../x_1_0.png", "path"), ("path", "media/other/3_9_0.png", "path"),
    ("blob", None, "blob"),
])
def test_forged_rows_refused(column: str, value: Any, why: str) -> None:
    tbl = table_of([good()])
    index = tbl.column_names.index(column)
    field = tbl.schema.field(index)
    tbl = tbl.set_column(index, field, pa.array([value], field.type))
    with pytest.raises(FormatError, match=why):
        rows_of(tbl, what="media/0/000001.parquet")


def test_missing_columns_refused() -> None:
    tbl = table_of([good()]).drop_columns(["meta"])
    with pytest.raises(FormatError, match=r"media/x\.parquet lacks the column"):
        rows_of(tbl, what="media/x.parquet")
