"""GittrackCallback in a real (tiny) Transformers training on CPU: a BERT built from a config."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import gittrack

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded: the model is a config
transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from gittrack.integrations.transformers import GittrackCallback, rewrite_logs  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning",
                                        "ignore::FutureWarning",
                                        # ...but never one of gittrack's own
                                        "error::gittrack.errors.GittrackWarning")


class _Data(torch.utils.data.Dataset):  # type: ignore[misc]
    def __init__(self, n: int = 16) -> None:
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, 100, (n, 8), generator=g)
        self.labels = torch.randint(0, 2, (n,), generator=g)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"input_ids": self.ids[i], "attention_mask": torch.ones(8, dtype=torch.long),
                "labels": self.labels[i]}


def _model() -> Any:
    config = transformers.BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=32)
    torch.manual_seed(0)
    return transformers.BertForSequenceClassification(config)


def _args(tmp_path: Path, **kwargs: Any) -> Any:
    base = {"output_dir": str(tmp_path / "out"), "max_steps": 4, "logging_steps": 1,
            "per_device_train_batch_size": 4, "report_to": [], "use_cpu": True,
            "save_strategy": "no", "disable_tqdm": True, "learning_rate": 1e-3}
    return transformers.TrainingArguments(**{**base, **kwargs})


def _only_run(repo: Path) -> Any:
    runs = gittrack.Api(repo).runs()
    assert len(runs) == 1
    return runs[0]


@pytest.mark.slow
def test_training_records_config_losses_at_global_steps_and_eval(repo: Path,
                                                                  tmp_path: Path) -> None:
    args = _args(tmp_path, run_name="tiny-bert", eval_strategy="steps", eval_steps=2)
    trainer = transformers.Trainer(model=_model(), args=args, train_dataset=_Data(),
                                   eval_dataset=_Data(8), callbacks=[GittrackCallback()])
    trainer.train()

    view = _only_run(repo)
    assert view.state == "finished"
    assert view.info.project == "huggingface" and view.info.name == "tiny-bert"
    config = view.config
    assert config["learning_rate"] == 1e-3 and config["max_steps"] == 4  # TrainingArguments
    assert config["hidden_size"] == 16 and config["model_type"] == "bert"  # the model's config
    assert config["model/num_parameters"] == trainer.model.num_parameters()
    history = view.history()
    train = history.dropna(subset=["train/loss"])
    assert list(train["_step"]) == [1, 2, 3, 4]
    assert list(train["train/global_step"]) == [1, 2, 3, 4]
    assert "train/learning_rate" in history and "train/grad_norm" in history
    evals = history.dropna(subset=["eval/loss"])
    assert list(evals["_step"]) == [2, 4]
    assert "train_runtime" in view.summary and "train_loss" in view.summary
    assert "train/train_runtime" not in history  # summary values, not history
    assert view.summary["eval/loss"] == pytest.approx(evals["eval/loss"].iloc[-1])


@pytest.mark.slow
def test_report_to_gittrack_and_the_model_artifact(repo: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITTRACK_LOG_MODEL", "end")
    args = _args(tmp_path, report_to="gittrack", max_steps=2)
    trainer = transformers.Trainer(model=_model(), args=args, train_dataset=_Data())
    assert any(isinstance(c, GittrackCallback) for c in trainer.callback_handler.callbacks)
    trainer.train()

    view = _only_run(repo)
    assert list(view.history().dropna(subset=["train/loss"])["_step"]) == [1, 2]
    version = gittrack.Api(repo).artifact(f"model-{view.id}:final_model")
    assert version.type == "model" and version.metadata["final_model"] is True
    names = {f.path for f in version.files()}
    assert {"config.json", "model.safetensors", "model_architecture.txt"} <= names


@pytest.mark.slow
def test_evaluate_after_train_continues_the_same_run(repo: Path, tmp_path: Path) -> None:
    trainer = transformers.Trainer(model=_model(), args=_args(tmp_path, max_steps=2),
                                   train_dataset=_Data(), eval_dataset=_Data(8),
                                   callbacks=[GittrackCallback(project="p")])
    trainer.train()
    trainer.evaluate()
    [callback] = [c for c in trainer.callback_handler.callbacks
                  if isinstance(c, GittrackCallback)]
    callback.run.finish()
    view = _only_run(repo)
    assert view.summary["eval/loss"] > 0
    assert view.state == "finished"


@pytest.mark.slow
def test_log_model_checkpoint_logs_each_saved_folder(repo: Path, tmp_path: Path) -> None:
    args = _args(tmp_path, save_strategy="steps", save_steps=2)
    trainer = transformers.Trainer(model=_model(), args=args, train_dataset=_Data(),
                                   callbacks=[GittrackCallback(log_model="checkpoint")])
    trainer.train()
    view = _only_run(repo)
    versions = gittrack.Api(repo).artifacts(f"model-{view.id}")
    assert sorted(v.metadata["global_step"] for v in versions) == [2, 4]
    step4 = gittrack.Api(repo).artifact(f"model-{view.id}:checkpoint_global_step_4")
    assert "model.safetensors" in {f.path for f in step4.files()}
    assert step4.version == max(v.version for v in versions)


def test_rewrite_logs_prefixes_as_wandb() -> None:
    assert rewrite_logs({"loss": 1, "eval_loss": 2, "test_acc": 3, "evaluation": 4}) == {
        "train/loss": 1, "eval/loss": 2, "test/acc": 3, "train/evaluation": 4}


def test_log_model_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITTRACK_LOG_MODEL", "checkpoint")
    assert GittrackCallback()._log_model == "checkpoint"
    monkeypatch.setenv("GITTRACK_LOG_MODEL", "true")
    assert GittrackCallback()._log_model == "end"
    monkeypatch.setenv("GITTRACK_LOG_MODEL", "sometimes")
    with pytest.raises(gittrack.UsageError, match="GITTRACK_LOG_MODEL"):
        GittrackCallback()
