"""``wandb.Artifact`` (add_file policies, new_file, add_reference) and use/log_artifact."""

from __future__ import annotations

from pathlib import Path

import pytest

import gittrack
import gittrack.wandb as wandb
from gittrack.errors import UsageError
from tests.helpers.wandb import start


def _files(version: gittrack.ArtifactVersion, root: Path) -> dict[str, bytes]:
    out = version.download(root)
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_add_file_policies_new_file_and_overwrite(repo: Path, tmp_path: Path) -> None:
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"v1")
    notes = tmp_path / "notes.txt"
    notes.write_text("immutable")
    art = wandb.Artifact("model", type="model", description="d", metadata={"acc": 0.9})
    art.add_file(str(weights))  # mutable (W&B's default): the bytes as they are now
    art.add_file(str(notes), name="docs/notes.txt", policy="immutable", skip_cache=True)
    with art.new_file("config.json") as f:
        f.write('{"layers": 2}')
    with art.new_file("raw.bin", mode="wb") as f:
        f.write(b"\x00\x01")
    weights.write_bytes(b"v2 changed after add_file")
    with pytest.raises(UsageError):
        art.add_file(str(notes), name="docs/notes.txt")
    art.add_file(str(notes), name="docs/notes.txt", overwrite=True, policy="immutable")
    with pytest.raises(UsageError, match="policy"):
        art.add_file(str(notes), name="x.txt", policy="sometimes")
    art.aliases.append("candidate")
    run = start()
    version = run.log_artifact(art, aliases=["best"])
    run.finish()
    assert sorted(version.aliases) == ["best", "candidate", "latest"]
    assert _files(version, tmp_path / "out") == {
        "model.bin": b"v1", "docs/notes.txt": b"immutable", "config.json": b'{"layers": 2}',
        "raw.bin": b"\x00\x01"}
    assert version.metadata == {"acc": 0.9} and version.description == "d"


def test_is_tmp_names_the_file_by_its_content(repo: Path, tmp_path: Path) -> None:
    tmp = tmp_path / "table.json"
    tmp.write_text("{}")
    art = wandb.Artifact("t", type="run_table")
    entry = art.add_file(str(tmp), name="media/table.json", is_tmp=True)
    assert entry.name.startswith("media/") and entry.name.endswith(".json")
    assert entry.name != "media/table.json"


def test_add_dir_and_add_reference(repo: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.csv").write_text("1")
    (data / "sub" / "b.csv").write_text("2")
    art = wandb.Artifact("ds", type="dataset")
    art.add_dir(str(data), name="train", policy="mutable")
    (data / "a.csv").write_text("changed")
    ref = tmp_path / "big.bin"
    ref.write_bytes(b"external")
    art.add_reference(f"file://{ref}", name="big.bin", checksum=False, max_objects=10)
    run = start()
    version = run.log_artifact(art)
    run.finish()
    names = sorted(e.path for e in version.files())
    assert names == ["big.bin", "train/a.csv", "train/sub/b.csv"]
    assert _files(version, tmp_path / "out")["train/a.csv"] == b"1"


def test_use_artifact_with_type_and_log_artifact_of_a_path(repo: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt.pt"
    ckpt.write_bytes(b"weights")
    run = start()
    logged = wandb.log_artifact(str(ckpt), name="ckpt", type="model", aliases=["best"])
    assert logged.spec == "ckpt:v0" and logged.type == "model"
    used = wandb.use_artifact("me/proj/ckpt:best", type="model")
    assert used.spec == "ckpt:v0"
    with pytest.raises(UsageError, match="has type 'model', not 'dataset'"):
        run.use_artifact("ckpt:latest", type="dataset")
    fresh = wandb.Artifact("fresh", type="dataset")
    with fresh.new_file("x.txt") as f:
        f.write("x")
    assert run.use_artifact(fresh).spec == "fresh:v0"  # logged first, as W&B does
    run.finish()
    lineage = gittrack.Api().run(run.id).metadata["artifacts"]
    assert lineage == {"used": ["ckpt:v0", "fresh:v0"], "logged": ["ckpt:v0", "fresh:v0"]}
