"""Progress bars: only for transfers that last, only on a terminal unless forced; every
caller of the storage gets them."""

from __future__ import annotations

import time

import pytest

from gittrack.api.progress import Transfer, progress_enabled
from gittrack.storage import progress


def test_a_quick_transfer_shows_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with Transfer("uploading", 2, 10, enabled=True, delay=5) as transfer:
        transfer.advance(5)
        transfer.advance(5)
    assert not transfer.shown and capsys.readouterr().err == ""


def test_a_slow_transfer_shows_a_bar_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with Transfer("uploading data", 2, 2_000_000, enabled=True, delay=0.01) as transfer:
        transfer.advance(1_000_000)
        deadline = time.monotonic() + 5
        while not transfer.shown and time.monotonic() < deadline:
            time.sleep(0.01)
        assert transfer.shown
        transfer.advance(1_000_000)
    out, err = capsys.readouterr()
    assert out == "" and "uploading data 2/2 files" in err


def test_disabled_never_shows(capsys: pytest.CaptureFixture[str]) -> None:
    with Transfer("x", 1, 1, enabled=False, delay=0) as transfer:
        time.sleep(0.05)
    assert not transfer.shown and capsys.readouterr().err == ""


def test_the_environment_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITTRACK_PROGRESS", "1")
    assert progress_enabled()
    monkeypatch.setenv("GITTRACK_PROGRESS", "0")
    assert not progress_enabled()
    monkeypatch.delenv("GITTRACK_PROGRESS")
    assert not progress_enabled()  # pytest's stderr is not a terminal


def test_import_gittrack_installs_the_bar() -> None:
    assert isinstance(progress.batch("x", 1, 1), Transfer)
