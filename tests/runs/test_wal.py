from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gittrack.errors import RepositoryError, RunLockedError
from gittrack.formats import walcodec
from gittrack.runs import wal
from gittrack.runs.wal import RunLock, WalWriter, read_records, segments
from gittrack.types import RunId

RID = RunId("01testrun")


def rec(seq: int, **data: object) -> tuple[object, ...]:
    return ("log", seq, float(seq), None, None, dict(data))


def test_create_locks_and_appends(tmp_path: Path) -> None:
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    directory = tmp_path / RID
    assert directory.is_dir()
    assert RunLock.try_acquire(directory) is None  # held (flock conflicts even in-process)
    for seq in range(1, 6):
        writer.append(rec(seq, x=seq))
    assert [r[1] for r in read_records(directory, 0)] == [1, 2, 3, 4, 5]
    assert [r[1] for r in read_records(directory, 3)] == [4, 5]
    assert not list(tmp_path.glob(".tmp-*"))
    writer.close(remove=True)
    assert not directory.exists()


def test_a_second_writer_is_refused(tmp_path: Path) -> None:
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    with pytest.raises(RunLockedError, match=RID):
        WalWriter.create(tmp_path, RID, next_seq=1)
    writer.close(remove=False)
    lock = RunLock.try_acquire(tmp_path / RID)  # released by close
    assert lock is not None
    lock.release()


def test_the_lock_is_held_against_other_processes(tmp_path: Path) -> None:
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    code = ("import sys; from pathlib import Path; from gittrack.runs.wal import RunLock; "
            "print(RunLock.try_acquire(Path(sys.argv[1])) is None)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / RID)], check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == "True"
    writer.close(remove=True)


def test_rotate_and_drop_before(tmp_path: Path) -> None:
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    directory = tmp_path / RID
    writer.append(rec(1))
    writer.append(rec(2))
    writer.rotate(3)
    writer.append(rec(3))
    writer.rotate(4)
    writer.append(rec(4))
    assert [start for start, _ in segments(directory)] == [1, 3, 4]
    writer.drop_before(2)  # the segment holding 1..2 is covered by a checkpoint
    assert [start for start, _ in segments(directory)] == [3, 4]
    assert [r[1] for r in read_records(directory, 0)] == [3, 4]
    writer.drop_before(3)
    assert [start for start, _ in segments(directory)] == [4]  # the open segment stays
    writer.close(remove=False)
    assert [r[1] for r in read_records(directory, 0)] == [4]


def test_rotate_without_new_records_keeps_the_segment(tmp_path: Path) -> None:
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    writer.rotate(1)
    writer.rotate(5)  # nothing written yet: no empty segment is left behind
    assert len(segments(tmp_path / RID)) == 1
    writer.close(remove=True)


def test_a_full_segment_continues_in_a_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wal, "SEGMENT_BYTES", 256)
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    records = [rec(seq, text="x" * 50) for seq in range(1, 12)]
    records.append(rec(12, text="y" * 1000))  # bigger than a whole segment
    for r in records:
        writer.append(r)
    assert len(segments(tmp_path / RID)) > 2
    assert list(read_records(tmp_path / RID, 0)) == records
    writer.close(remove=False)
    assert list(read_records(tmp_path / RID, 0)) == records


def test_a_record_larger_than_a_segment_starts_a_larger_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The record does not fit in the segment opened for it: the segment (empty, same name)
    # is made again, large enough, instead of failing with "File exists" forever after.
    monkeypatch.setattr(wal, "SEGMENT_BYTES", 256)
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    records = [rec(1, text="y" * 1000), rec(2, x=2), rec(3, text="z" * 2000), rec(4, x=4)]
    writer.append(records[0])
    writer.append(records[1])
    writer.rotate(3)  # as a checkpoint does: record 3 is the first of its segment too
    writer.append(records[2])
    writer.append(records[3])
    assert [start for start, _ in segments(tmp_path / RID)] == [1, 2, 3, 4]
    assert list(read_records(tmp_path / RID, 0)) == records
    writer.close(remove=False)
    assert list(read_records(tmp_path / RID, 0)) == records


def test_an_empty_segment_left_behind_is_reused(tmp_path: Path) -> None:
    writer = WalWriter.create(tmp_path, RID, next_seq=7)
    writer.close(remove=False)  # stopped before its first record: an empty 7.wal stays
    again = WalWriter.create(tmp_path, RID, next_seq=7)
    again.append(rec(7))
    again.close(remove=False)
    assert [r[1] for r in read_records(tmp_path / RID, 0)] == [7]


def test_a_segment_holding_records_is_never_overwritten(tmp_path: Path) -> None:
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    writer.append(rec(1))
    writer.close(remove=False)
    with pytest.raises(RepositoryError, match=r"0000000000000001\.wal: .*holds records"):
        WalWriter.create(tmp_path, RID, next_seq=1)
    assert [r[1] for r in read_records(tmp_path / RID, 0)] == [1]


def test_closed_segments_are_cut_to_their_records(tmp_path: Path) -> None:
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    writer.append(rec(1))
    ((_, path),) = segments(tmp_path / RID)
    assert path.stat().st_size == wal.SEGMENT_BYTES  # pre-sized while open
    writer.close(remove=False)
    assert 0 < path.stat().st_size < 200


def test_records_survive_a_killed_writer(tmp_path: Path) -> None:
    code = (
        "import os, signal, sys; from pathlib import Path\n"
        "from gittrack.runs.wal import WalWriter\n"
        "w = WalWriter.create(Path(sys.argv[1]), '01testrun', next_seq=1)\n"
        "for i in range(1, 101): w.append(('log', i, 0.0, None, None, {'i': i}))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    directory = tmp_path / RID
    assert [r[5]["i"] for r in read_records(directory, 0)] == list(range(1, 101))
    lock = RunLock.try_acquire(directory)  # the kernel released the dead writer's lock
    assert lock is not None
    lock.release()


def test_a_reused_folder_continues_after_the_old_records(tmp_path: Path) -> None:
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    writer.append(rec(1))
    writer.close(remove=False)
    again = WalWriter.create(tmp_path, RID, next_seq=2)
    again.append(rec(2))
    assert [r[1] for r in read_records(tmp_path / RID, 0)] == [1, 2]
    again.close(remove=True)


def test_read_records_of_a_missing_folder(tmp_path: Path) -> None:
    assert list(read_records(tmp_path / "nothing", 0)) == []


def test_unwritable_root_is_a_repository_error(tmp_path: Path) -> None:
    blocker = tmp_path / "wal"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(RepositoryError, match="write-ahead log"):
        WalWriter.create(blocker, RID, next_seq=1)


def test_lock_on_a_missing_folder() -> None:
    assert RunLock.try_acquire(Path("/nonexistent/folder")) is None


def test_segments_ignores_other_files(tmp_path: Path) -> None:
    for name in ("0000000000000002.wal", "lock", "notes.wal", "0000000000000001.wal"):
        (tmp_path / name).write_bytes(b"")
    assert [start for start, _ in segments(tmp_path)] == [1, 2]


# -- a full disk -------------------------------------------------------------------------------
# In a child process: before segments were reserved, a write into a page the disk could not back
# killed the writer with SIGBUS (exit 135) instead of raising.
FILL_AND_APPEND = """
import os, sys
from pathlib import Path
from gittrack.errors import RepositoryError
from gittrack.runs.wal import WalWriter
root = Path(sys.argv[1])
(root / 'ballast').write_bytes(b'b' * 1024 * 1024)
w = WalWriter.create(root, '01testrun', next_seq=1)
fd = os.open(root / 'filler', os.O_WRONLY | os.O_CREAT)
try:
    while True:
        os.write(fd, b'f' * 4096)
except OSError:
    pass
seq = 1
try:
    while True:
        w.append(('log', seq, 0.0, None, None, {'i': seq, 'pad': 'p' * 300}))
        seq += 1
except RepositoryError as exc:
    print(seq - 1, type(exc).__name__, exc, flush=True)
try:
    w.append(('log', seq, 0.0, None, None, {'i': seq, 'pad': 'p' * 300}))
    print('appended on a full disk', flush=True)
except RepositoryError:
    pass
os.close(fd)
os.remove(root / 'filler')  # space is freed: the same writer goes on
os.remove(root / 'ballast')
for extra in range(seq, seq + 1000):
    w.append(('log', extra, 0.0, None, None, {'i': extra, 'pad': 'p' * 300}))
print(seq + 999, flush=True)
w.close(remove=False)
"""


# Without posix_fallocate (macOS) records are written with pwrite, which reports ENOSPC too.
NO_FALLOCATE = "import os\ndel os.posix_fallocate\n"


@pytest.mark.parametrize("prelude", ["", NO_FALLOCATE], ids=["reserved", "pwrite"])
def test_a_full_disk_is_an_error_not_a_signal(small_disk: Path, prelude: str) -> None:
    proc = subprocess.run([sys.executable, "-c", prelude + FILL_AND_APPEND, str(small_disk)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.returncode, proc.stderr)  # not -SIGBUS
    first, last = proc.stdout.splitlines()
    acknowledged, kind, message = first.split(" ", 2)
    assert kind == "RepositoryError"
    assert "No space left on device" in message and str(small_disk / RID) in message
    if not prelude:  # the segment reserved before the disk filled up takes records
        assert int(acknowledged) > 0
    records = list(read_records(small_disk / RID, 0))
    assert [r[5]["i"] for r in records] == list(range(1, int(last) + 1))  # no gap, no tear


def test_segments_are_reserved_on_disk(tmp_path: Path) -> None:
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    ((_, path),) = segments(tmp_path / RID)
    # blocks allocated up front (not a sparse file): a write into the mapping cannot find
    # the disk full
    assert path.stat().st_blocks * 512 >= wal.SEGMENT_BYTES
    writer.close(remove=True)


def test_without_posix_fallocate_records_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "posix_fallocate")
    monkeypatch.setattr(wal, "SEGMENT_BYTES", 256)
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    records = [rec(seq, text="x" * 50) for seq in range(1, 12)]
    for r in records:
        writer.append(r)
    assert list(read_records(tmp_path / RID, 0)) == records  # readable while open
    writer.rotate(12)
    writer.append(rec(12))
    writer.close(remove=False)
    assert list(read_records(tmp_path / RID, 0)) == [*records, rec(12)]


def test_a_record_larger_than_the_free_space_is_refused_and_the_writer_goes_on(
    small_disk: Path
) -> None:
    writer = WalWriter.create(small_disk, RID, next_seq=1)  # 4 MiB disk: a smaller segment
    with pytest.raises(RepositoryError, match="No space left on device"):
        writer.append(rec(1, text="b" * (6 * 1024 * 1024)))
    writer.append(rec(1, x=1))  # the same sequence number: nothing was written for it
    writer.append(rec(2, x=2))
    writer.close(remove=False)
    assert [r[5] for r in read_records(small_disk / RID, 0)] == [{"x": 1}, {"x": 2}]


def test_rows_read_back_as_log_records_across_segments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``append_row`` (the hot path of a log() of floats) and ``append`` read back as the
    same records, in order, whatever segment each lands in: every segment names the keys
    of its own rows, so it reads alone (a checkpoint drops the older ones); a row too large
    for what is left of a segment starts the next one."""
    monkeypatch.setattr(wal, "SEGMENT_BYTES", 512)
    monkeypatch.setattr(wal, "_MIN_SEGMENT_BYTES", 256)
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    expected = []
    for seq in range(1, 41):
        values = {"loss": seq / 3, "acc": -seq * 1.5} if seq % 7 else {"lr": 1e-3 * seq}
        if seq % 11 == 0:
            record = ("log", seq, float(seq), seq, None, {"epoch": seq})
            writer.append(record)
        else:
            record = ("log", seq, float(seq), seq if seq % 2 else None, None, values)
            writer.append_row(seq, float(seq), record[3], values)
        expected.append(record)
        if seq == 25:
            writer.rotate(seq + 1)
    directory = tmp_path / RID
    assert len(segments(directory)) > 3
    assert list(read_records(directory, 0)) == expected
    assert list(read_records(directory, 30)) == expected[30:]
    start = segments(directory)[-2][0]
    writer.drop_before(start - 1)
    assert list(read_records(directory, start - 1)) == expected[start - 1:]
    writer.close(remove=False)


def test_rows_after_a_damaged_keys_record_are_damage_not_a_torn_end(tmp_path: Path) -> None:
    """The keys record's length is damaged to run past the end, as a torn last record's
    does; but acknowledged rows follow it, so it is reported as damage, never dropped as
    the torn end of the log."""
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    for seq in range(1, 6):
        writer.append_row(seq, float(seq), seq, {"loss": seq / 2})
    writer.close(remove=False)
    (_, path), = segments(tmp_path / RID)
    data = bytearray(path.read_bytes())
    assert walcodec.decode_at(bytes(data), 0) is not None  # the keys record, first
    data[0:4] = (len(data) * 2).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    damage: list[wal.Damage] = []
    assert list(read_records(tmp_path / RID, 0, damage)) == []
    assert [(d.offset, d.size) for d in damage] == [(0, len(data))]


def test_a_torn_last_record_is_still_a_clean_end(tmp_path: Path) -> None:
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    for seq in range(1, 4):
        writer.append_row(seq, float(seq), seq, {"loss": seq / 2})
    writer.close(remove=False)
    (_, path), = segments(tmp_path / RID)
    data = path.read_bytes()
    path.write_bytes(data[:-5])  # the last row, cut short
    damage: list[wal.Damage] = []
    assert [r[1] for r in read_records(tmp_path / RID, 0, damage)] == [1, 2]
    assert damage == []


def test_keys_ids_start_again_in_every_segment(tmp_path: Path) -> None:
    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    writer.append_row(1, 1.0, 1, {"a": 1.0})
    writer.append_row(2, 2.0, 2, {"b": 1.0})
    writer.rotate(3)
    writer.append_row(3, 3.0, 3, {"c": 1.0})
    writer.close(remove=False)
    ids = [
        [record[2] for _, _, record in walcodec.scan(path.read_bytes())
         if record[0] == walcodec.KEYS]
        for _, path in segments(tmp_path / RID)
    ]
    assert ids == [[0, 1], [0]]
    assert [r[5] for r in read_records(tmp_path / RID, 0)] == [{"a": 1.0}, {"b": 1.0},
                                                                {"c": 1.0}]


def test_a_last_record_this_version_refuses_is_damage_not_a_torn_end(tmp_path: Path) -> None:
    """A whole, intact frame at the end (a record of a type this version does not read, as
    a newer gittrack may write) is a lost record, never dropped silently as a torn end."""
    import decimal

    writer = WalWriter.create(tmp_path, RID, next_seq=1)
    writer.append(rec(1, n=1))
    writer.close(remove=False)
    (_, path), = segments(tmp_path / RID)
    data = path.read_bytes()
    refused = walcodec.encode(("log", 2, 2.0, 2, None, {"n": decimal.Decimal(2)}))
    path.write_bytes(data + refused + bytes(64))
    damage: list[wal.Damage] = []
    assert [r[1] for r in read_records(tmp_path / RID, 0, damage)] == [1]
    assert [(d.offset, d.size) for d in damage] == [(len(data), len(refused))]
