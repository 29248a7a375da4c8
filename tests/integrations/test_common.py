"""What the integrations share: config values, init keywords, artifact names, the package."""

from __future__ import annotations

import dataclasses
import enum
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest

import gittrack
from gittrack.integrations._common import (
    RunHolder,
    artifact_name,
    init_arguments,
    plain_config,
)


class Color(enum.Enum):
    RED = 1


@dataclasses.dataclass
class Opt:
    beta: float = 0.9
    path: Path = Path("/data")


def test_plain_config_as_wandb_stores_framework_objects() -> None:
    got = plain_config({"ns": Namespace(lr=0.1, opt=Opt()), "fn": len, "cls": Opt,
                        "color": Color.RED, "pair": (1, "a"), "none": None, 3: True})
    assert got == {"ns": {"lr": 0.1, "opt": {"beta": 0.9, "path": "/data"}}, "fn": "len",
                   "cls": "Opt", "color": "Color.RED", "pair": [1, "a"], "none": None,
                   "3": True}


def test_plain_config_ends_a_loop_that_contains_itself() -> None:
    loop: dict[str, object] = {}
    loop["self"] = loop
    depth = 0
    value = plain_config(loop)
    while isinstance(value, dict):
        value, depth = value["self"], depth + 1
    assert isinstance(value, str) and depth == 16


def test_unknown_init_keywords_are_dropped_with_one_warning() -> None:
    with pytest.warns(gittrack.GittrackWarning, match="anonymous, entity"):
        kept = init_arguments({"project": "p", "entity": "me", "anonymous": "allow"}, "X")
    assert kept == {"project": "p"}


def test_artifact_name_is_always_valid() -> None:
    assert artifact_name("model-my run/1:best") == "model-my-run-1-best"
    assert artifact_name("...") == "model"
    for odd in ("ü" * 300, "a" * 300, "_x..y.", "-"):
        gittrack.Artifact(artifact_name(odd), type="model")  # accepted


def test_run_holder_finishes_and_continues_its_own_run(repo: Path) -> None:
    holder = RunHolder({"project": "p", "settings": {"quiet": True}}, "test")
    run = holder.get()
    run.log({"a": 1})
    holder.finish()
    assert run.state == "finished"
    again = holder.get()  # used after the end of training: the same run, continued
    assert again.id == run.id and again.state == "running"
    again.log({"a": 2})
    holder.detach()
    assert holder.get().id != run.id
    holder.finish()
    assert list(gittrack.Api(repo).run(run.id).history()["a"]) == [1, 2]


def test_run_holder_leaves_the_users_run_open(repo: Path) -> None:
    run = gittrack.init(project="mine", settings={"quiet": True})
    holder = RunHolder({"project": "other"}, "test")
    assert holder.get() is run
    holder.finish()
    assert run.state == "running"


FRAMEWORKS = ("lightning", "pytorch_lightning", "transformers", "keras", "torch", "xgboost",
              "lightgbm", "optuna", "sklearn")


def frameworks_loaded_by(modules: str) -> list[str]:
    """The frameworks a fresh interpreter has loaded after ``import <modules>``."""
    code = (f"import sys, {modules}; "
            f"print(*sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return out.split()


def test_importing_gittrack_and_the_package_imports_no_framework() -> None:
    assert frameworks_loaded_by("gittrack, gittrack.integrations") == []


def test_an_integration_imports_only_its_framework() -> None:
    assert frameworks_loaded_by("gittrack.integrations.optuna") == ["optuna"]


def test_a_missing_framework_names_its_extra() -> None:
    code = "import sys; sys.modules['lightgbm'] = None; import gittrack.integrations.lightgbm"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert "pip install 'gittrack[lightgbm]'" in result.stderr
