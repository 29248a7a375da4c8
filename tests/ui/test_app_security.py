"""A hostile review of ``gittrack ui``'s server: what a web page of another site, a rebound
DNS name or a crafted request can get from it (docs/security.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gittrack.ui import data
from gittrack.ui.app import CSP, create_app
from tests.helpers.runs import make_run

HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff",
           "referrer-policy": "no-referrer"}


def assert_secured(answer: object, what: str) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    for name, expected in HEADERS.items():
        assert headers.get(name) == expected, (what, name, dict(headers))
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "access-control-allow-origin" not in headers


@pytest.mark.parametrize("host", ["evil.example", "evil.example:6070", "127.0.0.1.evil.example",
                                  "localhost.evil.example:80", "", "[::2]:6070"])
def test_a_rebound_dns_name_is_refused_with_the_headers(repo: Path, host: str) -> None:
    make_run([{"loss": 1.0}])
    with TestClient(create_app(str(repo)), base_url="http://127.0.0.1") as client:
        for path in ("/", "/api/runs", "/static/app.js"):
            answer = client.get(path, headers={"Host": host})
            assert answer.status_code == 400, (host, path)
            assert b"loss" not in answer.content
            assert_secured(answer, f"{host} {path}")


@pytest.mark.parametrize("host", ["127.0.0.1:6070", "localhost:6070", "[::1]:6070", "[::1]",
                                  "LOCALHOST"])
def test_loopback_names_with_a_port_are_answered(repo: Path, host: str) -> None:
    with TestClient(create_app(str(repo)), base_url="http://127.0.0.1") as client:
        assert client.get("/api/runs", headers={"Host": host}).status_code == 200, host


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_requests_another_sites_page_makes_are_refused(client: TestClient, site: str) -> None:
    run = make_run([{"loss": 1.0}])
    for path, mode in ((f"/api/runs/{run.id}", "no-cors"), ("/api/runs", "cors"),
                       ("/static/app.js", "no-cors"), (f"/api/runs/{run.id}", "navigate")):
        answer = client.get(path, headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": mode})
        assert answer.status_code == 403, (path, mode)
        assert_secured(answer, path)
    # a link from elsewhere to the page itself is followed (it then asks as same-origin)
    assert client.get("/", headers={"Sec-Fetch-Site": site,
                                    "Sec-Fetch-Mode": "navigate"}).status_code == 200
    assert client.get("/api/runs", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert client.get("/", headers={"Sec-Fetch-Site": "none"}).status_code == 200


def test_a_crash_answers_a_generic_json_with_an_id_and_logs_the_details(
        repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(self: object) -> None:
        raise RuntimeError("a bug reading /home/alice/secret-run/config.yaml")

    monkeypatch.setattr(data.Reader, "runs", broken)
    with TestClient(create_app(str(repo), token="t0ken", allowed_hosts=None),
                    base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        answer = client.get("/api/runs?token=t0ken")
    assert answer.status_code == 500 and answer.json()["type"] == "InternalError"
    assert_secured(answer, "crash")
    body = answer.text
    for leak in ("RuntimeError", "secret-run", "Traceback", "broken", ".py"):
        assert leak not in body, body
    error_id = answer.json()["id"]
    assert error_id in answer.json()["error"]
    log = capsys.readouterr().err
    assert f"internal error {error_id} answering GET /api/runs:" in log
    assert "RuntimeError: a bug reading /home/alice/secret-run/config.yaml" in log
    assert "Traceback" in log and "t0ken" not in log  # the query (the token) is not logged


@pytest.mark.parametrize("path", [
    "/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/%2e%2e%2fapp.py",
    "/static//etc/passwd", "/static/%2fetc%2fpasswd", "/static/app.js%00.png",
    "/static/vendor/..%2f..%2fapp.py", "/static/..%5capp.py"])
def test_static_files_do_not_leave_their_folder(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code in (400, 404), path
    assert b"create_app" not in answer.content and b"root:" not in answer.content
    assert_secured(answer, path)


def test_static_files_carry_the_headers_and_their_type(client: TestClient) -> None:
    for path, kind in (("/static/app.js", "javascript"), ("/static/style.css", "text/css"),
                       ("/static/favicon.svg", "image/svg+xml")):
        answer = client.get(path)
        assert answer.status_code == 200 and kind in answer.headers["content-type"]
        assert_secured(answer, path)


@pytest.mark.parametrize("bad", ["%2e%2e%2f%2e%2e", "%2e%2e", "..%2f..%2fetc%2fpasswd", "%00",
                                 "a%00b", "%2fetc%2fpasswd", "x" * 5000, "%E2%80%AE", "*", "~1",
                                 "HEAD", "main"], ids=lambda q: q[:24])
def test_run_ids_that_are_not_ids(client: TestClient, bad: str) -> None:
    make_run([{"loss": 1.0}])
    for suffix in ("", "/history?keys=loss", "/media", "/media/file?path=x", "/console",
                   "/code", "/panels", "/histograms"):
        answer = client.get(f"/api/runs/{bad}{suffix}")
        assert answer.status_code in (400, 404), (bad, suffix, answer.text[:200])
        assert "error" in answer.json() and "Traceback" not in answer.text
        assert_secured(answer, bad)


@pytest.mark.parametrize("path", ["../../../../etc/passwd", "/etc/passwd", "media/../run.yaml",
                                  "media/img/x.png\x00.html", "%2e%2e/%2e%2e/etc/passwd",
                                  "C:\\Windows\\win.ini", "x" * 10000], ids=lambda q: q[:24])
def test_media_file_paths_outside_the_index(client: TestClient, path: str) -> None:
    run = make_run([{"loss": 1.0}])
    answer = client.get(f"/api/runs/{run.id}/media/file", params={"path": path})
    assert answer.status_code == 404 and "error" in answer.json()
    assert_secured(answer, path)


@pytest.mark.parametrize("query", [
    "keys=loss&start=nan&end=nan", "keys=loss&start=inf&end=-inf", "keys=loss&start=-inf",
    "keys=loss&points=" + "9" * 5000, "keys=loss&points=0", "keys=loss&start=1e999",
    "keys=" + ",".join(f"k{i}" for i in range(5000)), "&".join(f"key=k{i}" for i in range(300)),
    "keys=loss&x=" + "x" * 10000, "keys=loss&stream=../../etc"], ids=lambda q: q[:24])
def test_history_hostile_queries_are_answered_or_refused(client: TestClient, query: str) -> None:
    run = make_run([{"loss": float(i)} for i in range(10)])
    answer = client.get(f"/api/runs/{run.id}/history?{query}")
    assert answer.status_code in (200, 400), (query[:60], answer.text[:200])
    body = answer.json()
    if answer.status_code == 200:
        assert len(body["series"]["loss"]["x"]) <= 10
    else:
        assert body["error"] and len(body["error"]) < 2000  # the value named, not echoed whole
    assert_secured(answer, query[:40])


@pytest.mark.parametrize("query", ["tail=-5", "tail=" + "9" * 5000, "tail=1e9"],
                         ids=lambda q: q[:24])
def test_console_hostile_tails(client: TestClient, query: str) -> None:
    run = make_run([{"loss": 1.0}])
    answer = client.get(f"/api/runs/{run.id}/console?{query}")
    assert answer.status_code in (200, 400), answer.text[:200]
    assert ("error" if answer.status_code == 400 else "text") in answer.json()
    assert answer.status_code == 400 or not query.startswith("tail=-")
    assert_secured(answer, query[:24])


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_no_endpoint_writes(client: TestClient, method: str) -> None:
    run = make_run([{"loss": 1.0}])
    for path in ("/", "/api/runs", f"/api/runs/{run.id}", f"/api/runs/{run.id}/media/file"):
        answer = client.request(method, path)
        assert answer.status_code in (404, 405), (method, path)
        assert_secured(answer, f"{method} {path}")


@pytest.mark.parametrize("path", ["/api/artifacts/%2e%2e", "/api/artifacts/%2e%2e/v0",
                                  "/api/artifacts/..%2f..%2fetc%2fpasswd/v0",
                                  "/api/artifacts/x%00y", "/api/artifacts/data/..%2f..",
                                  "/api/artifacts/" + "a" * 5000 + "/latest"],
                         ids=lambda p: p[:40])
def test_artifact_names_that_are_not_names(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code in (400, 404), (path[:60], answer.text[:200])
    assert "error" in answer.json() and len(answer.json()["error"]) <= 500
    assert_secured(answer, path[:40])


def assert_error_shape(answer: object, status: int, what: str) -> dict[str, str]:
    """An error answer of the documented shape: JSON ``{"error", "type"}``."""
    assert answer.status_code == status, (what, answer.text[:200])  # type: ignore[attr-defined]
    assert answer.headers["content-type"] == "application/json", what  # type: ignore[attr-defined]
    body: dict[str, str] = answer.json()  # type: ignore[attr-defined]
    assert body["error"] and body["type"], (what, body)
    return body


def test_every_refusal_is_a_json_error(repo: Path) -> None:
    make_run([{"loss": 1.0}])
    with TestClient(create_app(str(repo)), base_url="http://127.0.0.1") as client:
        for path in ("/", "/api/runs"):
            body = assert_error_shape(client.get(path, headers={"Host": "evil.example"}), 400,
                                      path)
            assert "loopback" in body["error"]
            assert_error_shape(client.get(path, headers={"Sec-Fetch-Site": "cross-site"}), 403,
                               path)
        assert_error_shape(client.get("/api/nothing"), 404, "unknown path")
        assert_error_shape(client.get("/static/nothing.js"), 404, "unknown static file")
        for method, path in (("POST", "/api/runs"), ("DELETE", "/api/runs/x"), ("PUT", "/")):
            answer = client.request(method, path)
            body = assert_error_shape(answer, 405, f"{method} {path}")
            assert body["type"] == "MethodNotAllowed" and "GET" in answer.headers["allow"]
    with TestClient(create_app(str(repo), token="secret", allowed_hosts=None),
                    base_url="http://127.0.0.1") as client:
        for path in ("/", "/api/runs"):
            assert assert_error_shape(client.get(path), 401, path)["type"] == "TokenRequired"


def test_a_blob_this_clone_lacks_is_404_not_500(repo: Path, client: TestClient) -> None:
    import shutil

    import numpy as np

    import gittrack

    run = gittrack.init(settings={"quiet": True, "save_code": True})
    run.log({"img": gittrack.Image(np.zeros((4, 4, 3), dtype=np.uint8))})
    print("hello")
    run.finish()
    path = client.get(f"/api/runs/{run.id}/media").json()["media"][0]["path"]
    for folder in (repo / ".git" / "gittrack" / "blobs",
                   repo / ".git" / "gittrack" / "cache" / "blobs"):
        shutil.rmtree(folder)
    answer = client.get(f"/api/runs/{run.id}/media/file", params={"path": path})
    assert assert_error_shape(answer, 404, "media")["type"] == "BlobNotFoundError"
    for part in ("console", "code"):
        answer = client.get(f"/api/runs/{run.id}/{part}")
        assert assert_error_shape(answer, 404, part)["type"] == "BlobNotFoundError"


def test_an_ambiguous_run_id_prefix_is_400_naming_the_count(client: TestClient) -> None:
    runs = [make_run([{"loss": 1.0}]) for _ in range(2)]
    common = 0  # ids made in one millisecond share their time part
    while runs[0].id[common] == runs[1].id[common]:
        common += 1
    assert common > 0
    answer = client.get(f"/api/runs/{runs[0].id[:common]}")
    body = assert_error_shape(answer, 400, "ambiguous")
    assert "2 runs" in body["error"] and body["type"] == "AmbiguousNameError"
