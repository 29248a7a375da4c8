"""The JSON API of ``gittrack ui`` on real repositories: every endpoint, bad ids, huge ranges,
a run being written and a run whose process died, the token and the security headers."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import gittrack
from gittrack.ui.app import CSP, create_app
from tests.helpers.code import make_dirty
from tests.helpers.processes import held, killed_run, live_script
from tests.helpers.repos import git
from tests.helpers.runs import make_run


def ref_snapshot(repo: Path) -> tuple[str, list[str]]:
    """Every ref and where it points, and the files of the write-ahead logs."""
    logs = sorted(str(p.relative_to(repo)) for p in (repo / ".git" / "gittrack").rglob("*")
                  if "wal" in p.parts)
    return git(repo, "for-each-ref"), logs


def test_runs_lists_every_run_newest_first(client: TestClient) -> None:
    first = make_run([{"loss": 1.0}], name="first", config={"lr": 0.1}, tags=["a"])
    second = make_run([{"loss": 0.5}, {"loss": 0.25}], name="second")
    answer = client.get("/api/runs")
    assert answer.status_code == 200
    runs = answer.json()["runs"]
    assert [r["id"] for r in runs] == [second.id, first.id]
    older = runs[1]
    assert (older["name"], older["state"], older["config"], older["tags"]) == (
        "first", "finished", {"lr": 0.1}, ["a"])
    assert runs[0]["summary"]["loss"] == 0.25
    assert older["created"] and older["stale"] is False
    assert set(older) >= {"branch", "commit", "group", "duration"}


def test_run_gives_metadata_config_summary_and_chartable_keys(client: TestClient) -> None:
    run = make_run([{"loss": 1.0, "acc": 0.5, "label": "x", "ok": True}],
                   config={"lr": 0.1, "nested": {"depth": 2}})
    body = client.get(f"/api/runs/{run.id}").json()
    assert body["id"] == run.id and body["config"] == {"lr": 0.1, "nested": {"depth": 2}}
    assert body["metadata"]["state"] == "finished"
    assert body["keys"] == ["loss", "acc", "ok"]  # the text column cannot be drawn
    assert body["steps"] == 1
    by_name = client.get(f"/api/runs/{run.name}").json()
    assert by_name["id"] == run.id


def test_non_finite_values_are_valid_json(client: TestClient) -> None:
    run = make_run([{"loss": math.nan}, {"loss": 2.0, "inf": math.inf}])
    body = client.get(f"/api/runs/{run.id}").json()
    assert body["summary"]["inf"] == "Infinity"
    series = client.get(f"/api/runs/{run.id}/history?keys=loss,inf").json()["series"]
    assert series["loss"]["y"] == [2.0]  # NaN cannot be placed on a chart: left out
    assert series["inf"]["count"] == 0


@pytest.mark.parametrize("bad", ["0000000000000000000000000000", "nope", "..%2F..%2Fetc",
                                 "refs/heads/main"])
def test_bad_run_ids_are_404_json(client: TestClient, bad: str) -> None:
    make_run([{"loss": 1.0}])
    for path in (f"/api/runs/{bad}", f"/api/runs/{bad}/history?keys=loss"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "error" in answer.json()


def test_unknown_api_path_is_404_json(client: TestClient) -> None:
    answer = client.get("/api/nothing")
    assert answer.status_code == 404 and "error" in answer.json()


def test_history_full_below_points(client: TestClient) -> None:
    run = make_run([{"loss": 1.0 / (i + 1)} for i in range(10)] + [{"acc": 0.9}])
    body = client.get(f"/api/runs/{run.id}/history?keys=loss&keys=acc&keys=absent").json()
    loss = body["series"]["loss"]
    assert loss["x"] == list(range(10)) and loss["y"][3] == 0.25 and loss["sampled"] is False
    assert body["series"]["acc"] == {"x": [10], "y": [0.9], "count": 1, "sampled": False,
                                     "min": 0.9, "max": 0.9, "last": 0.9}
    assert body["missing"] == ["absent"]


def test_history_downsampled_keeps_extremes(client: TestClient) -> None:
    rows = [{"loss": float(i % 17)} for i in range(3000)]
    rows[1234] = {"loss": 1e6}
    rows[2345] = {"loss": -1e6}
    run = make_run(rows)
    body = client.get(f"/api/runs/{run.id}/history?keys=loss&points=100").json()
    loss = body["series"]["loss"]
    assert loss["count"] == 3000 and loss["sampled"] is True
    assert len(loss["x"]) <= 100
    assert 1234 in loss["x"] and 2345 in loss["x"]
    assert loss["x"][0] == 0 and loss["x"][-1] == 2999
    assert (loss["min"], loss["max"]) == (-1e6, 1e6)


def test_history_zoom_range_at_full_resolution(client: TestClient) -> None:
    run = make_run([{"loss": float(i)} for i in range(3000)])
    body = client.get(f"/api/runs/{run.id}/history?keys=loss&points=100&start=100&end=149.5"
                      ).json()
    loss = body["series"]["loss"]
    assert loss["x"] == list(range(100, 150)) and loss["sampled"] is False


def test_history_huge_ranges_and_points_are_clamped(client: TestClient) -> None:
    run = make_run([{"loss": float(i)} for i in range(50)])
    body = client.get(f"/api/runs/{run.id}/history?keys=loss&points=10000000000"
                      "&start=-1e308&end=1e308").json()
    assert body["points"] == 100_000 and len(body["series"]["loss"]["x"]) == 50
    tiny = client.get(f"/api/runs/{run.id}/history?keys=loss&points=-5").json()
    assert tiny["points"] == 4 and len(tiny["series"]["loss"]["x"]) <= 4
    beyond = client.get(f"/api/runs/{run.id}/history?keys=loss&start=100&end=150").json()
    assert beyond["series"]["loss"]["x"] == []


def test_history_x_axis_relative_time(client: TestClient) -> None:
    run = make_run([{"loss": 1.0}, {"loss": 2.0}])
    body = client.get(f"/api/runs/{run.id}/history?keys=loss&x=_runtime").json()
    xs = body["series"]["loss"]["x"]
    assert body["x"] == "_runtime" and len(xs) == 2 and xs[0] <= xs[1]


def test_history_of_a_resumed_run_by_key_and_again_from_the_cache(client: TestClient) -> None:
    make_run([{"loss": 1, "epoch": 0, "label": "a"}, {"acc": 0.5}], id="twice")
    make_run([{"loss": 0.5, "epoch": 1}, {"acc": True}], id="twice", resume="must")
    run = client.get("/api/runs/twice").json()  # from the chunks' footers: nothing decoded
    assert run["keys"] == ["loss", "epoch", "acc"] and run["steps"] == 4
    url = "/api/runs/twice/history?keys=acc,loss,epoch,label,absent&x=epoch"
    first = client.get(url).json()
    assert first["series"]["loss"]["x"] == [0, 1] and first["series"]["loss"]["y"] == [1, 0.5]
    assert first["series"]["epoch"]["y"] == [0, 1]  # the x axis as a key too
    assert first["series"]["acc"]["count"] == 0  # logged on rows without an epoch
    assert (first["unplottable"], first["missing"]) == (["label"], ["absent"])
    assert client.get(url).json() == first  # the series kept by commit: the same answer
    steps = client.get("/api/runs/twice/history?keys=acc").json()["series"]["acc"]
    assert (steps["x"], steps["y"]) == ([1, 3], [0.5, 1.0])


@pytest.mark.parametrize("query", ["", "?keys=", "?keys=loss&points=many",
                                   "?keys=loss&start=soon", "?keys=loss&x=absent",
                                   "?keys=loss&x=label", "?keys=loss&start=nan",
                                   "?keys=loss&end=NaN", "?keys=loss&start=5&end=2"])
def test_history_bad_queries_are_400_json(client: TestClient, query: str) -> None:
    run = make_run([{"loss": 1.0, "label": "a"}])
    answer = client.get(f"/api/runs/{run.id}/history{query}")
    assert answer.status_code == 400, query
    assert answer.json()["error"] and answer.json()["type"] == "UsageError"
    for name in ("start", "end", "points", "x"):
        if f"{name}=" in query:
            assert name in answer.json()["error"], (query, answer.json())


@pytest.mark.parametrize("path", ["console?tail=-1", "panels?step=-3", "histograms?steps=-3",
                                  "histograms?steps=0", "lineage?depth=-1", "lineage?nodes=0",
                                  "history?keys=loss&points=\uff11"])
def test_negative_counts_are_400_naming_the_parameter(client: TestClient, path: str) -> None:
    run = make_run([{"loss": 1.0}])
    answer = client.get(f"/api/runs/{run.id}/{path}")
    assert answer.status_code == 400, path
    assert path.split("&")[-1].split("?")[-1].split("=")[0] in answer.json()["error"]


def test_a_run_being_written_is_readable(repo: Path, client: TestClient) -> None:
    script = live_script(before="for i in range(5):\n    run.log({'loss': float(i)})\n")
    with held(script, repo) as (_proc, run_id):
        listed = client.get("/api/runs").json()["runs"]
        assert [r["id"] for r in listed] == [run_id]
        assert listed[0]["state"] == "running" and listed[0]["stale"] is False
        assert client.get(f"/api/runs/{run_id}").status_code == 200
        assert client.get(f"/api/runs/{run_id}/history?keys=loss").status_code == 200
    after = client.get(f"/api/runs/{run_id}/history?keys=loss").json()
    assert after["series"]["loss"]["y"] == [0.0, 1.0, 2.0, 3.0, 4.0]  # polling sees the end


def test_a_dead_run_shows_stale_and_is_not_recovered(repo: Path, client: TestClient) -> None:
    run_id = killed_run(repo, steps=3)
    before = ref_snapshot(repo)
    assert before[1]  # the dead process's log is there to fold
    listed = client.get("/api/runs").json()
    (row,) = listed["runs"]
    assert (row["id"], row["state"], row["stale"]) == (run_id, "crashed", True)
    assert any(run_id in note for note in listed["warnings"])
    assert client.get(f"/api/runs/{run_id}").json()["stale"] is True
    assert ref_snapshot(repo) == before  # read-only: nothing folded, no ref moved


def test_security_headers_and_no_cors(client: TestClient) -> None:
    for path in ("/", "/api/runs", "/static/app.js", "/api/runs/nope"):
        answer = client.get(path, headers={"Origin": "http://evil.example"})
        assert answer.headers["content-security-policy"] == CSP, path
        assert "default-src 'self'" in CSP
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "access-control-allow-origin" not in answer.headers


def test_loopback_app_refuses_other_host_names(repo: Path) -> None:
    with TestClient(create_app(str(repo)), base_url="http://attacker.example") as other:
        assert other.get("/api/runs").status_code == 400


def test_token_is_required_beyond_loopback(repo: Path) -> None:
    make_run([{"loss": 1.0}])
    app = create_app(str(repo), token="s3cret", allowed_hosts=None)
    with TestClient(app, base_url="http://192.0.2.1") as remote:
        refused = remote.get("/api/runs")
        assert refused.status_code == 401 and "token" in refused.json()["error"]
        assert refused.headers["content-security-policy"] == CSP
        assert remote.get("/api/runs?token=wrong").status_code == 401
        assert remote.get("/", ).status_code == 401
        assert remote.get("/api/runs", headers={"Authorization": "Bearer s3cret"}
                          ).status_code == 200
        page = remote.get("/?token=s3cret")
        assert page.status_code == 200
        assert "httponly" in page.headers["set-cookie"].lower()
        assert page.headers["set-cookie"].startswith("gittrack_ui_token_80=s3cret;")
        assert remote.get("/api/runs").status_code == 200  # the cookie from then on


def test_the_token_cookie_is_scoped_to_the_port(repo: Path) -> None:
    """Browsers send a host's cookies to every port: two servers on one host, each with its
    own token, keep their own cookie (one's login does not log the other out)."""
    make_run([{"loss": 1.0}])
    first = create_app(str(repo), token="first", allowed_hosts=None)
    second = create_app(str(repo), token="second", allowed_hosts=None)
    with TestClient(first, base_url="http://192.0.2.1:6070") as one, \
            TestClient(second, base_url="http://192.0.2.1:6071") as two:
        assert one.get("/?token=first").headers["set-cookie"].startswith(
            "gittrack_ui_token_6070=first;")
        assert two.get("/?token=second").headers["set-cookie"].startswith(
            "gittrack_ui_token_6071=second;")
        # the browser's jar for the host holds both cookies and sends both to each port
        jar = {"gittrack_ui_token_6070": "first", "gittrack_ui_token_6071": "second"}
        for client in (one, two):
            client.cookies.clear()
            for name, value in jar.items():
                client.cookies.set(name, value)
        assert one.get("/api/runs").status_code == 200
        assert two.get("/api/runs").status_code == 200
        one.cookies.clear()
        one.cookies.set("gittrack_ui_token_6071", "second")  # the other port's cookie alone
        assert one.get("/api/runs").status_code == 401
        one.cookies.set("gittrack_ui_token", "first")  # the old unscoped name: not read
        assert one.get("/api/runs").status_code == 401


def test_system_metrics_stream(client: TestClient) -> None:
    run = gittrack.init(settings={"quiet": True, "checkpoint_interval": 3600,
                                  "system_metrics": False})
    for i in range(3):
        run.log({"x": i})
        run._record(("system", 0, time.time(), {"system.cpu": float(10 * i)}))  # the sampler's
    run.finish()
    detail = client.get(f"/api/runs/{run.id}").json()
    assert detail["system_keys"] == ["system.cpu"]
    body = client.get(f"/api/runs/{run.id}/history?keys=system.cpu&stream=system&x=_runtime"
                      ).json()
    assert body["stream"] == "system" and body["series"]["system.cpu"]["y"] == [0.0, 10.0, 20.0]
    assert client.get(f"/api/runs/{run.id}/history?keys=x&stream=events").status_code == 400


def test_console_and_its_tail(client: TestClient) -> None:
    run = gittrack.init(settings={"quiet": True, "console": "wrap"})
    print("epoch 1")
    print("loss 0.25")
    run.finish()
    body = client.get(f"/api/runs/{run.id}/console").json()
    assert "epoch 1\nloss 0.25" in body["text"] and body["truncated"] is False
    tail = client.get(f"/api/runs/{run.id}/console?tail=5").json()
    assert len(tail["text"]) == 5 and tail["truncated"] is True
    assert tail["length"] == len(body["text"])


def test_code_of_a_run_with_and_without_saved_code(repo: Path, client: TestClient) -> None:
    plain = make_run([{"x": 1}])
    body = client.get(f"/api/runs/{plain.id}/code").json()
    assert body["saved"] is False and body["branch"] == "main" and len(body["commit"]) == 40
    make_dirty(repo)
    saved = make_run([{"x": 1}], save_code=True)
    body = client.get(f"/api/runs/{saved.id}/code").json()
    assert body["saved"] is True and "print('changed')" in body["patch"]
    assert body["dirty"] is True
    assert any(f["text"] is not None and "print('changed')" in f["text"] for f in body["files"])
    assert client.get(f"/api/runs/{saved.id}").json()["code_saved"] is True


def test_artifacts_used_and_logged_are_listed(repo: Path, client: TestClient) -> None:
    (repo / "data.csv").write_text("1,2\n")
    producer = make_run([{"x": 1}], artifact=("data", repo / "data.csv"),
                        artifact_type="dataset")
    consumer = make_run([{"x": 1}], use="data:latest")
    assert client.get(f"/api/runs/{producer.id}").json()["artifacts"]["logged"] == ["data:v0"]
    assert client.get(f"/api/runs/{consumer.id}").json()["artifacts"]["used"] == ["data:v0"]


def test_media_index_and_files(client: TestClient) -> None:
    import numpy as np

    pixels = np.zeros((4, 6, 3), dtype=np.uint8)
    run = gittrack.init(settings={"quiet": True})
    for step in range(3):
        pixels[0, 0, 0] = step
        run.log({"img": gittrack.Image(pixels, caption=f"step {step}"),
                 "page": gittrack.Html("<b>hi</b><script>alert(1)</script>"),
                 "note": gittrack.Text(f"note {step}"),
                 "rows": gittrack.Table(columns=["a"], data=[[step]])})
    run.finish()
    rows = client.get(f"/api/runs/{run.id}/media").json()["media"]
    images = [r for r in rows if r["key"] == "img"]
    assert [(r["step"], r["caption"], r["shown"]) for r in images] == [
        (0, "step 0", True), (1, "step 1", True), (2, "step 2", True)]
    answer = client.get(f"/api/runs/{run.id}/media/file", params={"path": images[1]["path"]})
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    assert answer.content.startswith(b"\x89PNG")
    assert "sandbox" in answer.headers["content-security-policy"]
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(answer.content)).getpixel((0, 0))[0] == 1
    html = next(r for r in rows if r["key"] == "page")
    page = client.get(f"/api/runs/{run.id}/media/file", params={"path": html["path"]})
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "sandbox" in policy and "script-src" not in policy and "default-src 'none'" in policy
    assert page.headers["x-frame-options"] == "SAMEORIGIN"  # the page's own sandboxed frame
    note = [r for r in rows if r["key"] == "note"][-1]
    text = client.get(f"/api/runs/{run.id}/media/file", params={"path": note["path"]})
    assert text.text == "note 2" and text.headers["content-type"].startswith("text/plain")
    table = next(r for r in rows if r["key"] == "rows")
    assert table["shown"] is False  # drawn from /panels instead
    assert client.get(f"/api/runs/{run.id}/media/file",
                      params={"path": table["path"]}).status_code == 400
    for bad in ("media/img/../../run.yaml", "run.yaml", ""):
        answer = client.get(f"/api/runs/{run.id}/media/file", params={"path": bad})
        assert answer.status_code in (400, 404) and "error" in answer.json()


def test_histograms_over_steps_are_thinned(client: TestClient) -> None:
    run = gittrack.init(settings={"quiet": True})
    for step in range(300):
        run.log({"w": gittrack.Histogram([float(step), step + 1.0, step + 2.0], num_bins=2)})
    run.finish()
    body = client.get(f"/api/runs/{run.id}/histograms").json()["histograms"]["w"]
    assert body["total"] == 300 and len(body["steps"]) == 200
    assert body["steps"][0] == 0 and body["steps"][-1] == 299
    assert body["counts"][0] == [1.0, 2.0] and len(body["edges"][0]) == 3
    few = client.get(f"/api/runs/{run.id}/histograms?steps=1").json()["histograms"]["w"]
    assert few["steps"] == [299]
    assert client.get(f"/api/runs/{run.id}/histograms?steps=lots").status_code == 400


def test_artifacts_versions_files_and_lineage(repo: Path, client: TestClient) -> None:
    (repo / "data.csv").write_text("1,2\n")
    producer = make_run([{"x": 1}], name="maker", artifact=("data", repo / "data.csv"),
                        artifact_type="dataset", aliases=["best"])
    (repo / "data.csv").write_text("1,2,3\n")
    make_run([{"x": 1}], artifact=("data", repo / "data.csv"), artifact_type="dataset")
    consumer = make_run([{"x": 1}], name="user", use="data:best")
    (latest,) = client.get("/api/artifacts").json()["artifacts"]
    assert (latest["name"], latest["version"], latest["type"]) == ("data", 1, "dataset")
    assert "latest" in latest["aliases"] and latest["file_count"] == 1
    versions = client.get("/api/artifacts/data").json()["versions"]
    assert [v["spec"] for v in versions] == ["data:v1", "data:v0"]
    body = client.get("/api/artifacts/data/best").json()
    assert body["spec"] == "data:v0" and "best" in body["aliases"]
    assert body["files"] == [{"path": "data.csv", "size": 4, "digest": body["files"][0]["digest"],
                              "ref": None}]
    assert body["logged_by"] == {"id": producer.id, "name": "maker", "state": "finished"}
    assert body["used_by"] == [{"id": consumer.id, "name": "user", "state": "finished"}]
    assert client.get("/api/artifacts/data/v0").json()["spec"] == "data:v0"
    for bad in ("/api/artifacts/nothing", "/api/artifacts/data/v9", "/api/artifacts/nothing/v0"):
        answer = client.get(bad)
        assert answer.status_code == 404, bad
        assert "error" in answer.json()


def test_panels_give_charts_with_their_data_and_tables(client: TestClient) -> None:
    import gittrack.plot

    table = gittrack.Table(columns=["x", "y"], data=[[0, 1.0], [1, 3.0], [2, math.nan]])
    run = gittrack.init(settings={"quiet": True})
    run.log({"curve": gittrack.plot.line(table, "x", "y", title="a curve"), "rows": table})
    run.log({"rows": gittrack.Table(columns=["a"], data=[["last"]])})
    run.finish()
    body = client.get(f"/api/runs/{run.id}/panels").json()
    (chart,) = body["charts"]
    assert chart["key"] == "curve" and chart["title"] == "a curve"
    assert chart["spec"]["data"] == {"values": [{"x": 0, "y": 1.0}, {"x": 1, "y": 3.0},
                                                {"x": 2, "y": "NaN"}]}
    assert chart["spec"]["mark"]["type"] == "line" or chart["spec"]["mark"] == "line"
    (rows,) = body["tables"]
    assert (rows["key"], rows["step"], rows["columns"], rows["rows"], rows["logged"]) == (
        "rows", 1, ["a"], [["last"]], 2)
    assert rows["steps"] == [0, 1]
    first = client.get(f"/api/runs/{run.id}/panels?key=rows&step=0").json()
    assert first["charts"] == [] and first["tables"][0]["rows"] == [[0, 1.0], [1, 3.0],
                                                                     [2, "NaN"]]
    assert first["tables"][0]["columns"] == ["x", "y"]
    later = client.get(f"/api/runs/{run.id}/panels?key=rows&step=99").json()
    assert later["tables"][0]["step"] == 1  # the last one at or before the step asked
    assert client.get(f"/api/runs/{run.id}/panels?key=nothing").status_code == 404


def test_the_package_imports_no_web_framework_until_asked(repo: Path) -> None:
    import subprocess
    import sys

    code = ("import sys, gittrack.ui; print('starlette' in sys.modules, 'uvicorn' in sys.modules);"
            "from gittrack.ui import create_app; print('starlette' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False", "True"]
    make_run([{"loss": 1.0}])
    from gittrack.ui import create_app as exported

    with TestClient(exported(repo), base_url="http://localhost") as by_path:
        assert len(by_path.get("/api/runs").json()["runs"]) == 1


def test_media_of_a_private_project_opens_only_with_a_key(
    repo: Path, private_repo: object, client: TestClient, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil

    import numpy as np

    run = gittrack.init(settings={"quiet": True})
    run.log({"img": gittrack.Image(np.zeros((4, 4, 3), dtype=np.uint8))})
    run.finish()
    (row,) = client.get(f"/api/runs/{run.id}/media").json()["media"]
    url = f"/api/runs/{run.id}/media/file"
    assert client.get(url, params={"path": row["path"]}).content.startswith(b"\x89PNG")
    # another user of this clone: no identity in their home, no plaintext copy here
    shutil.rmtree(repo / ".git" / "gittrack" / "cache" / "blobs")
    stranger = tmp_path / "stranger"
    monkeypatch.setenv("HOME", str(stranger))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(stranger / var.lower()))
    refused = client.get(url, params={"path": row["path"]})
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] in ("KeyMissingError", "DecryptionError", "CryptoError")


def test_a_repository_without_runs_and_a_run_without_history(client: TestClient) -> None:
    assert client.get("/api/runs").json()["runs"] == []
    assert client.get("/api/artifacts").json()["artifacts"] == []
    run = gittrack.init(settings={"quiet": True, "system_metrics": False})
    run.finish()
    body = client.get(f"/api/runs/{run.id}").json()
    assert (body["keys"], body["steps"], body["system_keys"]) == ([], 0, [])
    history = client.get(f"/api/runs/{run.id}/history?keys=loss").json()
    assert history["series"] == {} and history["missing"] == ["loss"]
    assert client.get(f"/api/runs/{run.id}/histograms").json()["histograms"] == {}
    assert client.get(f"/api/runs/{run.id}/panels").json() == {"run": run.id, "charts": [],
                                                                 "tables": []}
    assert client.get(f"/api/runs/{run.id}/media").json()["media"] == []


def test_the_listing_is_made_again_when_a_ref_moves_or_a_writer_dies(
    repo: Path, client: TestClient
) -> None:
    first = make_run([{"loss": 1.0}])
    assert [r["id"] for r in client.get("/api/runs").json()["runs"]] == [first.id]
    assert [r["id"] for r in client.get("/api/runs").json()["runs"]] == [first.id]  # kept
    second = make_run([{"loss": 2.0}])
    assert [r["id"] for r in client.get("/api/runs").json()["runs"]] == [second.id, first.id]
    import subprocess
    import sys

    with subprocess.Popen([sys.executable, "-c", live_script()], cwd=repo,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        live_id = proc.stdout.readline().strip()
        rows = {r["id"]: r for r in client.get("/api/runs").json()["runs"]}
        assert rows[live_id]["state"] == "running" and rows[live_id]["stale"] is False
        proc.kill()  # the writer dies: no ref moves, its log stays
        proc.wait()
    rows = {r["id"]: r for r in client.get("/api/runs").json()["runs"]}
    assert (rows[live_id]["state"], rows[live_id]["stale"]) == ("crashed", True)


def _chain(repo: Path) -> list[gittrack.Run]:
    """dataset data:v0 → run "train" → model:v0 → run "eval" → report:v0."""
    (repo / "data.csv").write_text("1,2\n")
    (repo / "w.bin").write_bytes(b"weights")
    (repo / "report.txt").write_text("ok\n")
    maker = make_run([{"x": 1}], name="maker", artifact=("data", repo / "data.csv"),
                     artifact_type="dataset")
    train = make_run([{"x": 1}], name="train", use="data:v0", artifact=("model", repo / "w.bin"))
    evaluate = make_run([{"x": 1}], name="eval", use="model:v0",
                        artifact=("report", repo / "report.txt"), artifact_type="report")
    return [maker, train, evaluate]


def test_lineage_graph_spans_several_hops(repo: Path, client: TestClient) -> None:
    maker, train, evaluate = _chain(repo)
    body = client.get("/api/artifacts/model/v0/lineage").json()
    assert body["root"] == "version:model:v0" and not body["truncated"]
    ids = {n["id"] for n in body["nodes"]}
    assert ids == {f"run:{maker.id}", "version:data:v0", f"run:{train.id}", "version:model:v0",
                   f"run:{evaluate.id}", "version:report:v0"}
    edges = {(e["source"], e["target"], e["role"]) for e in body["edges"]}
    assert edges == {(f"run:{maker.id}", "version:data:v0", "logged"),
                     ("version:data:v0", f"run:{train.id}", "used"),
                     (f"run:{train.id}", "version:model:v0", "logged"),
                     ("version:model:v0", f"run:{evaluate.id}", "used"),
                     (f"run:{evaluate.id}", "version:report:v0", "logged")}
    run = next(n for n in body["nodes"] if n["id"] == f"run:{train.id}")
    assert run["kind"] == "run" and run["name"] == "train" and run["run"] == train.id
    # depth bounds the hops: one hop from the model is its two runs
    near = client.get("/api/artifacts/model/latest/lineage?depth=1").json()
    assert {n["id"] for n in near["nodes"]} == {
        "version:model:v0", f"run:{train.id}", f"run:{evaluate.id}"}
    assert near["truncated"] and len(near["edges"]) == 2
    # nodes bounds the count; a run's graph starts at the run
    assert len(client.get("/api/artifacts/data/v0/lineage?nodes=2").json()["nodes"]) == 2
    from_run = client.get(f"/api/runs/{maker.id}/lineage?depth=99").json()
    assert from_run["root"] == f"run:{maker.id}" and from_run["depth"] == 10
    assert len(from_run["nodes"]) == 6


def test_lineage_graph_bad_requests_are_json(repo: Path, client: TestClient) -> None:
    _chain(repo)
    for url, status in (("/api/artifacts/nothing/v0/lineage", 404),
                        ("/api/artifacts/model/v9/lineage", 404),
                        ("/api/artifacts/model/v0/lineage?depth=x", 400),
                        ("/api/artifacts/%3Cscript%3E/v0/lineage", 404),
                        ("/api/runs/nothing/lineage", 404)):
        answer = client.get(url)
        assert answer.status_code in (status, 400), url
        assert "error" in answer.json() and answer.headers["content-security-policy"] == CSP
    lone = client.get("/api/artifacts/report/v0/lineage?depth=0").json()
    assert [n["id"] for n in lone["nodes"]] == ["version:report:v0"] and lone["edges"] == []


def test_lineage_graph_shows_removed_versions_as_removed(repo: Path, client: TestClient) -> None:
    import pygit2

    from gittrack.sync.remove_version import remove_version

    maker, train, evaluate = _chain(repo)
    (repo / "w.bin").write_bytes(b"better weights")
    make_run([{"x": 1}], name="retrain", artifact=("model", repo / "w.bin"))  # model:v1 stays
    remove_version(pygit2.Repository(str(repo)), "model", 0)
    body = client.get(f"/api/runs/{train.id}/lineage").json()
    gone = {n["id"]: n for n in body["nodes"] if n.get("gone")}
    assert list(gone) == ["gone:model:v0"]
    assert (gone["gone:model:v0"]["gone"], gone["gone:model:v0"]["spec"]) == ("removed", "model:v0")
    edges = {(e["source"], e["target"], e["role"]) for e in body["edges"]}
    assert (f"run:{train.id}", "gone:model:v0", "logged") in edges
    assert ("version:data:v0", f"run:{train.id}", "used") in edges
    # from the run that used it, too; a graph at its node limit leaves it out, saying so
    used = client.get(f"/api/runs/{evaluate.id}/lineage").json()
    assert ("gone:model:v0", f"run:{evaluate.id}", "used") in {
        (e["source"], e["target"], e["role"]) for e in used["edges"]}
    small = client.get(f"/api/runs/{evaluate.id}/lineage?nodes=2").json()
    assert len(small["nodes"]) == 2 and small["truncated"] is True
    assert maker.id in {n.get("run") for n in client.get(
        "/api/artifacts/data/v0/lineage").json()["nodes"]}
