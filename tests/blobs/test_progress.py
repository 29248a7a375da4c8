from __future__ import annotations

from gittrack.blobs.progress import Progress


def test_increments_add_up_whatever_the_backend_reports():
    seen: list[int] = []
    progress = Progress(seen.append)
    progress.set_size(100)
    progress.relative_update(30)  # s3fs style
    progress.absolute_update(50)  # absolute style
    progress.relative_update(0)  # nothing new: no call
    progress.finish(100)  # the backend said nothing about the rest (local sendfile)
    assert seen == [30, 20, 50]


def test_no_callback():
    progress = Progress(None)
    progress.relative_update(10)
    progress.finish(10)
