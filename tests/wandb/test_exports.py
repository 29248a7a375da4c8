"""The names of ``gittrack.wandb``: W&B's, sorted in ``__all__``, each resolvable."""

from __future__ import annotations

import gittrack.wandb as wandb


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert wandb.__all__ == sorted(wandb.__all__)
    for name in wandb.__all__:
        assert getattr(wandb, name) is not None, name


def test_the_w_and_b_names_training_scripts_use() -> None:
    names = ["init", "log", "finish", "config", "summary", "run", "define_metric", "Histogram",
             "Image", "Video", "Audio", "Table", "Html", "plot", "plot_table", "Artifact",
             "use_artifact", "log_artifact", "watch", "unwatch", "save", "restore", "login",
             "alert", "AlertLevel", "Api", "Settings", "termlog", "termwarn", "termerror",
             "sweep", "agent", "__version__"]
    missing = [n for n in names if not hasattr(wandb, n)]
    assert missing == []
    assert callable(wandb.plot.line) and callable(wandb.plot.confusion_matrix)
