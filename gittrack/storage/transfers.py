"""Running many transfers at once, and errors that say which artifact and file they concern."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from gittrack.errors import GittrackError
from gittrack.storage import progress

T = TypeVar("T")
R = TypeVar("R")


def parallel(fn: Callable[[T], R], items: list[T], *, workers: int, label: str | None = None,
             sizes: Callable[[T], int] | None = None) -> list[R]:
    """``[fn(item) for item in items]`` on up to ``workers`` threads, in order.

    Small files are dominated by per-request latency on object stores, so they go in parallel.
    The first error cancels what has not started and is raised once the running calls end, so
    no transfer outlives the call. With ``label``, the installed progress reporter (``progress``) is
    told of each finished item and its ``size``.
    """
    size = sizes or (lambda item: 0)
    batch = progress.batch(label, len(items), sum(map(size, items))) if label \
        else progress.Silent()
    with batch:
        def one(item: T) -> R:
            result = fn(item)
            batch.advance(size(item))
            return result

        if len(items) <= 1 or workers <= 1:
            return [one(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
            futures: list[Future[R]] = [pool.submit(one, item) for item in items]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                if future in done and future.exception() is not None:
                    for other in futures:
                        other.cancel()
                    raise future.exception()  # type: ignore[misc]
            return [f.result() for f in futures]


@contextlib.contextmanager
def error_context(label: str) -> Iterator[None]:
    """Errors from the layers below, prefixed with ``label`` ("artifact x, file y")."""
    try:
        yield
    except GittrackError as exc:
        if str(exc).startswith(label):
            raise
        raise type(exc)(f"{label}: {exc}") from exc
