"""`gittrack report --format html`: one self-contained file, opened in Debian's chromium."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gittrack.cli.report_html import deltas_spec, to_svg
from gittrack.runs.compare import Row
from tests.helpers.cli import CliResult
from tests.helpers.pull_request import commit, make_pull_request
from tests.helpers.repos import git
from tests.helpers.runs import start_run

Cli = Callable[..., CliResult]
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def report_file(repo: Path, tmp_path: Path, fast_settings: dict[str, object],
                cli: Cli) -> Path:
    make_pull_request(repo, fast_settings)
    target = tmp_path / "report.html"
    result = cli("report", "--base", "main", "--head", "feature", "--format", "html",
                 "-o", str(target))
    assert result.exit_code == 0, result.stderr
    return target


def test_html_is_self_contained(report_file: Path) -> None:
    text = report_file.read_text(encoding="utf-8")
    assert text.startswith("<!-- gittrack-report -->\n<!doctype html>")
    assert "<script" not in text and "<img" not in text and "<link" not in text
    assert "src=" not in text and "@import" not in text
    assert text.count("<svg") == 3  # loss and acc curves, summary deltas
    assert '<td class="good">0.3 ▼ -0.1 (-25.0%) ✅</td>' in text


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not "
                    "installed: apt-get install -y chromium (CI installs it)")
def test_html_opens_in_chromium_with_its_charts_and_no_request(report_file: Path,
                                                              tmp_path: Path) -> None:
    from playwright.sync_api import Request, sync_playwright

    url = report_file.as_uri()
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        try:
            page = browser.new_page()

            def seen(request: Request) -> None:
                if request.url != url:
                    requests.append(request.url)

            page.on("request", seen)
            page.route("**/*", lambda route: route.continue_() if route.request.url == url
                       else route.abort())
            page.goto(url)
            charts = page.locator("figure svg")
            assert charts.count() == 3
            assert charts.first.bounding_box() is not None  # drawn, with a size
            marks = page.locator("figure svg path, figure svg rect").count()
            assert marks > 10  # lines, bars and axes, not empty frames
            assert page.locator("td.good").first.inner_text().endswith("✅")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)  # to look at
        finally:
            browser.close()
    assert requests == []  # nothing fetched but the file itself


def test_deltas_chart_is_none_without_numbers() -> None:
    rows = [Row("name", ("a", "b"), (True, True))]
    assert deltas_spec(rows) is None


def test_svg_escapes_hostile_names() -> None:
    spec = deltas_spec([Row("<script>alert(1)</script>", (1.0, 2.0), (True, True))])
    assert spec is not None
    svg = to_svg(spec)
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_missing_extra_is_one_line(cli: Cli, report_file: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # as when it is not installed
    result = cli("report", "--base", "main", "--head", "feature", "--format", "html")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "gittrack: error: the HTML report needs vl-convert-python: "
        "pip install 'gittrack[report]'"]
    assert result.stdout == ""


def test_names_are_escaped_not_marked_up(cli: Cli, repo: Path,
                                         fast_settings: dict[str, object]) -> None:
    make_pull_request(repo, fast_settings)
    git(repo, "checkout", "-q", "-b", "my_new_feature", "feature")
    commit(repo, "more")
    run = start_run(name="<b>x</b>|y", settings=fast_settings)
    run.define_metric("loss", goal="minimize")
    run.log({"loss": 0.2, "<i>k</i>": 1.0})
    run.finish()
    page = cli("report", "--base", "main", "--head", "my_new_feature", "--format", "html").stdout
    assert "<code>main..my_new_feature</code>" in page and "<em>new</em>" not in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;|y" in page
    assert "<i>k</i>" not in page
    markdown = cli("report", "--base", "main", "--head", "my_new_feature").stdout
    assert "<b>" not in markdown and "`&lt;b>x&lt;/b>\\|y`" in markdown  # no raw HTML, | kept
    assert "`main..my_new_feature`" in markdown
