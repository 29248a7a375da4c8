"""Api.artifact(s), Api.used_by, Api.logged_by."""

from __future__ import annotations

from pathlib import Path

import pytest

import gittrack


def log_versions(repo: Path, settings: dict[str, object]) -> tuple[str, str]:
    with gittrack.init(settings=settings) as maker:
        for content in ("1", "2"):
            (repo / "d.csv").write_text(content)
            art = gittrack.Artifact("data", "dataset")
            art.add_file(repo / "d.csv")
            maker.log_artifact(art, aliases=["best"] if content == "1" else None)
        model = gittrack.Artifact("model", "model")
        model.add_file(repo / "d.csv", name="weights.bin")
        maker.log_artifact(model)
    with gittrack.init(settings=settings) as user:
        user.use_artifact("data:best")
    return maker.id, user.id


def test_reading_artifacts(repo: Path, fast_settings: dict[str, object]) -> None:
    maker, user = log_versions(repo, fast_settings)
    api = gittrack.Api(str(repo))
    assert [v.spec for v in api.artifacts()] == ["data:v1", "model:v0"]
    assert [v.spec for v in api.artifacts("data")] == ["data:v1", "data:v0"]
    best = api.artifact("data:best")
    assert isinstance(best, gittrack.ArtifactVersion) and best.spec == "data:v0"
    assert [r.id for r in api.used_by(best)] == [user]
    assert api.used_by("data:v1") == []
    logged = api.logged_by("data:v1")
    assert logged is not None and logged.id == maker
    with pytest.raises(gittrack.NotFoundError):
        api.artifacts("nope")


def test_a_version_whose_run_is_not_here(repo: Path) -> None:
    from gittrack.artifacts.publish import log_artifact
    from gittrack.git.repo import discover

    (repo / "d.csv").write_text("1")
    art = gittrack.Artifact("data", "dataset")
    art.add_file(repo / "d.csv")
    log_artifact(discover(repo), art, producer="elsewhere")
    assert gittrack.Api(str(repo)).logged_by("data") is None


def test_the_versions_a_run_lists_are_bounded(
    repo: Path, fast_settings: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """run.yaml lists the versions a run logged and used: past ``MAX_LINEAGE`` a call is
    refused before it writes a version (run.yaml must stay loadable); a version already
    listed can be used again."""
    from gittrack.runs import live

    with gittrack.init(settings=fast_settings) as other:
        (repo / "w.bin").write_text("w")
        model = gittrack.Artifact("model", "model")
        model.add_file(repo / "w.bin")
        other.log_artifact(model)
    monkeypatch.setattr(live, "MAX_LINEAGE", 2)
    with gittrack.init(settings=fast_settings) as run:
        for content in ("1", "2", "3"):
            (repo / "d.csv").write_text(content)
            art = gittrack.Artifact("data", "dataset")
            art.add_file(repo / "d.csv")
            if content == "3":
                with pytest.raises(gittrack.InvalidValueError, match="logged 2 artifact"):
                    run.log_artifact(art)
            else:
                run.log_artifact(art)
        run.use_artifact("data:v0")
        run.use_artifact("data:v1")
        run.use_artifact("data:v0")
        with pytest.raises(gittrack.InvalidValueError, match="used 2 artifact"):
            run.use_artifact("model:v0")
    api = gittrack.Api(str(repo))
    assert [v.spec for v in api.artifacts("data")] == ["data:v1", "data:v0"]
