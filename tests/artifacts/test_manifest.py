"""manifest.parquet: round trips, readable with plain pyarrow, guarded names."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gittrack.artifacts import manifest
from gittrack.artifacts.manifest import (
    ManifestEntry,
    NameSet,
    check_entry_path,
    content_key,
    read_manifest,
    read_marks,
    write_manifest,
)
from gittrack.errors import FormatError, InvalidValueError, UsageError

HEX = "0123456789abcdef"
digests = st.text(HEX, min_size=64, max_size=64)
parts = st.text(st.characters(blacklist_characters="/\\\0", blacklist_categories=("Cs",)),
                min_size=1, max_size=12).filter(lambda p: p not in (".", ".."))
paths = st.lists(parts, min_size=1, max_size=4).map("/".join)
entries = st.builds(
    ManifestEntry, path=paths, digest=digests, size=st.integers(0, 2**62),
    blob=st.one_of(st.none(), digests), ref=st.none(),
).map(lambda e: e if e.blob else ManifestEntry(e.path, e.digest, e.size, None, "s3://b/k"))


@given(st.lists(entries, max_size=20, unique_by=lambda e: e.path).filter(
    lambda rows: NameSet.of([e.path for e in rows]) is not None))
def test_round_trip(rows: list[ManifestEntry]) -> None:
    assert read_manifest(write_manifest(rows)) == sorted(rows, key=lambda e: e.path)


def test_readable_with_plain_pyarrow() -> None:
    rows = [ManifestEntry("b.txt", "ab" * 32, 3, "cd" * 32),
            ManifestEntry("a/ref.csv", "etag:123", 10, None, "s3://bucket/ref.csv")]
    table = pq.read_table(io.BytesIO(write_manifest(rows)))
    assert table.column_names == ["path", "digest", "size", "blob", "ref"]
    assert table.schema.field("size").type == pa.int64()
    assert table.column("path").to_pylist() == ["a/ref.csv", "b.txt"]
    assert table.schema.metadata[b"gittrack.format"] == b"1"


def test_content_ignores_blob_names() -> None:
    a = [ManifestEntry("x", "ab" * 32, 1, "11" * 32)]
    b = [ManifestEntry("x", "ab" * 32, 1, "22" * 32)]
    assert content_key(a) == content_key(b)
    assert content_key(a) != content_key([ManifestEntry("y", "ab" * 32, 1, "11" * 32)])


@pytest.mark.parametrize("bad", ["", "/abs", "dir/", "a//b", "../up", "a/../b", "./a", "a\\b",
                                 "nul\0", 3, None])
def test_bad_names(bad: object) -> None:
    with pytest.raises(UsageError):
        check_entry_path(bad)


@pytest.mark.parametrize("good", ["a", "a/b.c", "..a", "a..b/c", "ü/日本.txt", ".hidden"])
def test_good_names(good: str) -> None:
    assert check_entry_path(good) == good


def test_a_hand_edited_manifest_cannot_escape_its_folder() -> None:
    table = pa.table({"path": ["../../etc/passwd"], "digest": ["ab" * 32], "size": [1],
                      "blob": ["ab" * 32], "ref": pa.array([None], pa.string())})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    with pytest.raises(FormatError, match=r"passwd"):
        read_manifest(sink.getvalue())


def test_a_blob_name_must_be_hex() -> None:
    table = pa.table({"path": ["x"], "digest": ["ab" * 32], "size": [1],
                      "blob": ["../x"], "ref": pa.array([None], pa.string())})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    with pytest.raises(FormatError, match=r"hex"):
        read_manifest(sink.getvalue())


def test_garbage_is_a_format_error() -> None:
    with pytest.raises(FormatError):
        read_manifest(b"not parquet")


def test_a_name_cannot_be_both_a_file_and_a_folder() -> None:
    names = NameSet()
    names.add("a/b")
    assert names.clash("a/b") and names.clash("a") and names.clash("a/b/c")
    assert names.clash("a/c") is None


def _old_rule(name: str) -> bool:
    """The part test before it became one regular expression."""
    return any(part in ("", ".", "..") for part in name.split("/"))


@given(st.text(st.sampled_from("./a\\é\n"), max_size=12))
def test_check_entry_path_refuses_exactly_empty_dot_and_dotdot_parts(name: str) -> None:
    try:
        check_entry_path(name)
    except UsageError:
        refused = True
    else:
        refused = False
    expected = (not name or name.startswith("/") or name.endswith("/") or "\\" in name
                or _old_rule(name))
    assert refused == expected


folder_names = st.lists(st.lists(st.sampled_from("abc"), min_size=1, max_size=3).map("/".join),
                        max_size=8)


def _add_one_by_one(names: NameSet, batch: list[str]) -> bool:
    """Add ``batch`` to ``names`` a name at a time, stopping at the first clash: was there one?
    """
    for name in batch:
        if names.clash(name):
            return True
        names.add(name)
    return False


@given(existing=folder_names, batch=folder_names)
def test_nameset_in_bulk_agrees_with_name_by_name(existing: list[str], batch: list[str]) -> None:
    one_by_one = NameSet()
    old_clash = _add_one_by_one(one_by_one, existing)
    bulk_existing = NameSet.of(existing)
    assert (bulk_existing is None) == old_clash
    if bulk_existing is None:
        return
    trial = NameSet()
    trial.update(one_by_one)
    clash = _add_one_by_one(trial, batch)
    bulk = NameSet.of(batch)
    assert (bulk is None or bulk_existing.overlaps(bulk)) == clash
    if bulk is not None and not clash:
        bulk_existing.update(bulk)
        assert (bulk_existing.files, bulk_existing.dirs) == (trial.files, trial.dirs)


def _parquet(**columns: list[object]) -> bytes:
    base: dict[str, list[object]] = {"path": ["x"], "digest": ["ab" * 32], "size": [1],
                                     "blob": ["cd" * 32], "ref": [None]}
    base.update(columns)
    table = pa.table({k: pa.array(v, pa.string()) if k == "ref" and v == [None] else v
                      for k, v in base.items()})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@pytest.mark.parametrize(("columns", "says"), [
    ({"path": ["a", "a/b"], "digest": ["ab" * 32] * 2, "size": [1, 1], "blob": ["cd" * 32] * 2,
      "ref": pa.array([None, None], pa.string())}, "both as a file and as a folder"),
    ({"path": ["a", "a"], "digest": ["ab" * 32] * 2, "size": [1, 1], "blob": ["cd" * 32] * 2,
      "ref": pa.array([None, None], pa.string())}, "two files named 'a'"),
    ({"digest": ["AB" * 32]}, "digest"),
    ({"digest": ["ab" * 31]}, "digest"),
    ({"digest": ["etag:x"]}, "digest"),  # a stored file's digest is its sha256
    ({"size": [-1]}, "size"),
    ({"size": [True]}, "size"),
    ({"size": ["1"]}, "size"),
    ({"blob": ["abc"]}, "blob"),
    ({"blob": ["cd" * 32], "ref": ["s3://b/k"]}, "both"),
    ({"blob": pa.array([None], pa.string()), "ref": ["no scheme"]}, "ref"),
    ({"blob": pa.array([None], pa.string()), "ref": ["s3://b/k\n"]}, "ref"),
    ({"blob": pa.array([None], pa.string()), "ref": ["file:///etc/passwd"],
      "digest": ["etag:abc"]}, "sha256"),
    ({"blob": pa.array([None], pa.string()), "ref": ["s3://b/k"], "digest": ["etag:a\nb"]},
     "digest"),
])
def test_forged_rows_are_refused(columns: dict[str, list[object]], says: str) -> None:
    with pytest.raises(FormatError, match=says):
        read_manifest(_parquet(**columns))


@pytest.mark.parametrize("row", [
    {"blob": pa.array([None], pa.string()), "ref": ["s3://b/k"], "digest": ["etag:\"a-1\""]},
    {"blob": pa.array([None], pa.string()), "ref": ["file:///data/x"], "digest": ["ab" * 32]},
    {"blob": pa.array([None], pa.string()), "ref": ["gs://b/k"], "digest": ["md5:00ff"]},
    {"size": [0]},
])
def test_rows_gittrack_writes_are_read(row: dict[str, list[object]]) -> None:
    assert len(read_manifest(_parquet(**row))) == 1


@given(path=st.text(max_size=30), digest=st.text(max_size=70), size=st.integers(-2**63, 2**63 - 1),
       blob=st.none() | st.text(max_size=70), ref=st.none() | st.text(max_size=40))
def test_any_row_is_read_as_written_or_refused(path: str, digest: str, size: int,
                                               blob: str | None, ref: str | None) -> None:
    try:
        data = _parquet(path=[path], digest=[digest], size=[size],
                        blob=pa.array([blob], pa.string()), ref=pa.array([ref], pa.string()))
    except (pa.ArrowInvalid, UnicodeEncodeError):
        return  # not storable in parquet at all (lone surrogates)
    try:
        [entry] = read_manifest(data)
    except FormatError:
        return
    assert check_entry_path(entry.path) == path and entry.size >= 0
    assert (entry.blob is None) != (entry.ref is None)


def _manifest_bomb(rows_per_group: int, groups: int) -> bytes:
    """A manifest of ``groups`` copies of one row group: small on disk, many rows."""
    one = pa.table({"path": ["a"] * rows_per_group, "digest": ["d" * 64] * rows_per_group,
                    "size": pa.array([0] * rows_per_group, pa.int64()),
                    "blob": ["b" * 64] * rows_per_group, "ref": [None] * rows_per_group})
    sink = io.BytesIO()
    with pq.ParquetWriter(sink, one.schema, compression="zstd") as writer:
        for _ in range(groups):
            writer.write_table(one)
    return sink.getvalue()


@pytest.mark.parametrize("read", [read_manifest, read_marks])
def test_a_manifest_with_too_many_rows_is_refused_before_decoding(
    read: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: an 860 KB manifest declaring 30 million rows took artifact show past
    1.6 GB. The rows are counted from the footer, before anything is decoded."""
    monkeypatch.setattr(manifest, "MAX_ENTRIES", 1000)
    data = _manifest_bomb(600, 2)
    assert callable(read)
    with pytest.raises(FormatError, match=r"m\.parquet: it has 1,200 rows, more than the 1,000"):
        read(data, what="m.parquet")


def test_writing_more_entries_than_readers_accept_is_refused(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manifest, "MAX_ENTRIES", 2)
    rows = [ManifestEntry(path=f"f{i}", digest="d" * 64, size=0, blob="b" * 64) for i in range(3)]
    with pytest.raises(InvalidValueError, match="at most 2 files"):
        write_manifest(rows)


def test_writing_a_manifest_larger_than_readers_accept_is_refused(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 8, "stored and read back equal, or refused": a manifest cannot be split, so one
    that would decode to more than the reader bound is refused when written, not when read."""
    from gittrack.formats import table

    monkeypatch.setattr(table, "MAX_CHUNK_BYTES", 64 << 10)
    rows = [ManifestEntry(path=f"{i:04d}" + "p" * 400, digest="d" * 64, size=0, blob="b" * 64)
            for i in range(150)]
    assert read_manifest(write_manifest(rows[:50])) == rows[:50]  # under the bound: read back
    with pytest.raises(InvalidValueError, match=r"manifest\.parquet .* 65,536"):
        write_manifest(rows)


# -- large manifests: row groups, one file, the first files (issue 10) -----------------------

def _rows(count: int) -> list[ManifestEntry]:
    return [ManifestEntry(f"d{i // 1000:03d}/f{i:06d}", f"{i % 256:02x}" * 32, i, "cd" * 32)
            for i in range(count)]


@pytest.fixture(scope="module")
def large() -> tuple[list[ManifestEntry], bytes]:
    """Rows over three row groups (two full, one partial), and their manifest."""
    rows = _rows(2 * manifest.ROW_GROUP_ROWS + 1234)
    return rows, write_manifest(rows)


def test_a_large_manifest_is_written_in_row_groups(
        large: tuple[list[ManifestEntry], bytes]) -> None:
    rows, data = large
    assert pq.ParquetFile(io.BytesIO(data)).metadata.num_row_groups == 3
    assert manifest.count_rows(data) == len(rows)
    assert read_manifest(data) == rows  # whole reads are unchanged


def test_a_small_manifest_is_one_row_group_as_before() -> None:
    rows = _rows(100)
    data = write_manifest(rows)
    assert pq.ParquetFile(io.BytesIO(data)).metadata.num_row_groups == 1
    table = pq.read_table(io.BytesIO(data))
    sink = io.BytesIO()  # what write_manifest wrote before row groups: the same bytes
    pq.write_table(table, sink, compression="zstd")
    assert sink.getvalue() == data


def test_find_entry_finds_any_row_and_only_it(large: tuple[list[ManifestEntry], bytes]) -> None:
    rows, data = large
    size = manifest.ROW_GROUP_ROWS
    for i in (0, 1, size - 1, size, size + 1, 2 * size - 1, 2 * size, len(rows) - 1):
        assert manifest.find_entry(data, rows[i].path) == rows[i]
    for missing in ("", "a", "d000", "d000/f000000x", "zzz", rows[size].path + "/x"):
        assert manifest.find_entry(data, missing) is None


def test_find_entry_reads_a_manifest_of_one_row_group(
        large: tuple[list[ManifestEntry], bytes]) -> None:
    rows, data = large
    sink = io.BytesIO()  # as a writer without row groups (gittrack before issue 10) wrote it
    pq.write_table(pq.read_table(io.BytesIO(data)), sink, compression="zstd")
    old = sink.getvalue()
    assert pq.ParquetFile(io.BytesIO(old)).metadata.num_row_groups == 1
    assert manifest.find_entry(old, rows[-1].path) == rows[-1]
    assert manifest.find_entry(old, "missing") is None
    assert manifest.first_entries(old, 3) == rows[:3]


def test_find_entry_without_statistics_reads_every_group() -> None:
    rows = _rows(300)
    sink = io.BytesIO()
    pq.write_table(pq.read_table(io.BytesIO(write_manifest(rows))), sink,
                   row_group_size=100, write_statistics=False)
    assert manifest.find_entry(sink.getvalue(), rows[250].path) == rows[250]


def test_first_entries_are_the_first_rows_by_path(
        large: tuple[list[ManifestEntry], bytes]) -> None:
    rows, data = large
    assert manifest.first_entries(data, 0) == []
    assert manifest.first_entries(data, 10) == rows[:10]
    assert manifest.first_entries(data, manifest.ROW_GROUP_ROWS + 5) == \
        rows[:manifest.ROW_GROUP_ROWS + 5]
    assert manifest.first_entries(write_manifest(rows[:4]), 10) == rows[:4]


def test_one_file_found_is_checked_as_a_whole_read_checks_it() -> None:
    data = _parquet(path=["a", "b"], digest=["ab" * 32, "AB" * 32], size=[1, 1],
                    blob=["cd" * 32] * 2, ref=pa.array([None, None], pa.string()))
    assert manifest.find_entry(data, "a") == ManifestEntry("a", "ab" * 32, 1, "cd" * 32)
    with pytest.raises(FormatError, match="digest"):
        manifest.find_entry(data, "b")
    with pytest.raises(FormatError, match="digest"):
        manifest.first_entries(data, 2)
    with pytest.raises(FormatError):
        manifest.find_entry(b"not parquet", "a")
    with pytest.raises(FormatError):
        manifest.count_rows(b"not parquet")


def test_find_entry_takes_the_statistics_of_the_path_column_after_a_nested_one() -> None:
    rows = _rows(300)
    table = pq.read_table(io.BytesIO(write_manifest(rows)))
    nested = pa.array([{"a": i, "b": "zzz"} for i in range(300)],
                      pa.struct([("a", pa.int64()), ("b", pa.string())]))
    sink = io.BytesIO()  # leaf columns x.a, x.b, path, ...: path is Arrow field 1, leaf 2
    pq.write_table(pa.table({"x": nested, **{n: table.column(n) for n in table.column_names}}),
                   sink, row_group_size=100)
    assert manifest.find_entry(sink.getvalue(), rows[250].path) == rows[250]
