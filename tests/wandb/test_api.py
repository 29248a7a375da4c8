"""``wandb.Api()``: runs("entity/project", filters, order), run("e/p/id"), artifact()."""

from __future__ import annotations

from pathlib import Path

import pytest

import gittrack.wandb as wandb
from gittrack.errors import UsageError
from tests.helpers.wandb import start


def _runs() -> dict[str, str]:
    made = {}
    for name, project, lr, loss in [("a", "vision", 0.1, 0.5), ("b", "vision", 0.01, 0.2),
                                    ("c", "nlp", 0.1, 0.9)]:
        run = start(project=project, entity="team", name=name, config={"lr": lr},
                    tags=["base"] if name != "b" else ["exp"])
        run.log({"loss": loss})
        run.finish()
        made[name] = run.id
    return made


def test_runs_of_a_project_with_filters_and_order(repo: Path) -> None:
    made = _runs()
    api = wandb.Api()
    assert sorted(r.name for r in api.runs("team/vision")) == ["a", "b"]
    assert sorted(r.name for r in api.runs("vision")) == ["a", "b"]
    assert sorted(r.name for r in api.runs()) == ["a", "b", "c"]
    assert api.runs("team/none") == []
    assert [r.name for r in api.runs("team/vision", filters={"config.lr": 0.1})] == ["a"]
    assert [r.name for r in api.runs("team/vision", {"config.lr.value": {"$lt": 0.05}})] == ["b"]
    found = api.runs(filters={"$and": [{"summary_metrics.loss": {"$gte": 0.5}},
                                       {"display_name": {"$regex": "^[ac]$"}}]})
    assert sorted(r.name for r in found) == ["a", "c"]
    assert [r.name for r in api.runs(filters={"tags": {"$in": ["exp"]}})] == ["b"]
    assert [r.name for r in api.runs(order="+summary_metrics.loss")] == ["b", "a", "c"]
    assert [r.name for r in api.runs(order="-summary_metrics.loss")] == ["c", "a", "b"]
    assert [r.name for r in api.runs(order="+created_at")] == ["a", "b", "c"]
    one = api.runs("team/vision", {"display_name": "a"})[0]
    assert one.id == made["a"] and one.path == ["team", "vision", made["a"]]
    assert one.config == {"lr": 0.1} and one.summary_metrics == {"loss": 0.5}
    assert one.state == "finished" and one.display_name == "a"


def test_run_by_path_and_its_history(repo: Path) -> None:
    made = _runs()
    api = wandb.Api()
    for path in (f"team/vision/{made['b']}", f"team/vision/runs/{made['b']}", made["b"], "b"):
        assert api.run(path).id == made["b"], path
    history = api.run(f"team/vision/{made['b']}").history(samples=10, keys=["loss"])
    assert list(history["loss"]) == [0.2]
    rows = list(api.run(made["b"]).scan_history(keys=["loss"]))
    assert [r["loss"] for r in rows] == [0.2]
    assert api.run(made["b"]).history(pandas=False)[0]["loss"] == 0.2


def test_artifact_by_name_and_type(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "w.bin").write_bytes(b"w")
    run = start()
    run.log_artifact(str(tmp_path / "w.bin"), name="weights", type="model", aliases=["best"])
    run.finish()
    api = wandb.Api()
    assert api.artifact("team/proj/weights:best", type="model").spec == "weights:v0"
    assert api.artifact("weights:latest").type == "model"
    with pytest.raises(UsageError, match="not 'dataset'"):
        api.artifact("weights:v0", type="dataset")
    assert api.artifact_exists("weights:v0") and not api.artifact_exists("nope:v0")
