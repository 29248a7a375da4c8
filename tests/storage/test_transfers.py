"""Many transfers at once: in order, the first error raised, progress reported to the
installed reporter."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType

import pytest

from gittrack.storage import progress
from gittrack.storage.transfers import parallel


class Counted:
    def __init__(self, log: list[tuple[str, int]], label: str, files: int, nbytes: int) -> None:
        self.log = log
        log.append((f"start {label}", files * 1000 + nbytes))

    def __enter__(self) -> Counted:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.log.append(("end", 0))

    def advance(self, nbytes: int) -> None:
        self.log.append(("advance", nbytes))


@pytest.fixture
def reported() -> Iterator[list[tuple[str, int]]]:
    log: list[tuple[str, int]] = []
    progress.report_to(lambda label, files, nbytes: Counted(log, label, files, nbytes))
    yield log
    from gittrack.api.progress import rich_bar  # what ``import gittrack`` installed

    progress.report_to(rich_bar)


def test_progress_goes_to_the_installed_reporter(reported: list[tuple[str, int]]) -> None:
    assert parallel(lambda x: x, [3, 4], workers=1, label="moving", sizes=lambda x: x) == [3, 4]
    assert reported == [("start moving", 2007), ("advance", 3), ("advance", 4), ("end", 0)]
    parallel(lambda x: x, [1], workers=1)  # no label: nothing reported
    assert len(reported) == 4


def test_parallel_keeps_order_and_raises_the_first_error() -> None:
    assert parallel(lambda x: x * 2, list(range(50)), workers=4) == list(range(0, 100, 2))

    def boom(x: int) -> int:
        if x == 7:
            raise ValueError("seven")
        return x

    with pytest.raises(ValueError, match=r"seven"):
        parallel(boom, list(range(50)), workers=4)
