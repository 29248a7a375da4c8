"""Threads started together on one piece of work, their failures collected for the test."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def in_threads(work: Callable[[T], object], each: Iterable[T]) -> list[BaseException]:
    """``work(x)`` for each ``x`` in ``each``, one thread each, all started before any is
    joined; what they raised (an assertion in a thread fails nothing by itself)."""
    errors: list[BaseException] = []

    def run(item: T) -> None:
        try:
            work(item)
        except BaseException as exc:  # reported to the test, which asserts there is none
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(item,)) for item in each]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
