from __future__ import annotations

from pathlib import Path

import gittrack


def test_init_log_finish_roundtrip(repo: Path, fast_settings: dict[str, object]) -> None:
    run = gittrack.init(project="p", config={"lr": 0.1}, settings=fast_settings)
    for i in range(10):
        run.log({"loss": 1.0 / (i + 1)})
    run.finish()
    view = gittrack.Api(".").run(run.id)
    assert view.state == "finished"
    assert view.config == {"lr": 0.1}
    assert view.summary["loss"] == 0.1
    assert list(view.history()["_step"]) == list(range(10))
