"""`gittrack ui` in a real browser: Debian's chromium, headless, driven by Playwright.

The server is the real command (`gittrack ui --port 0 --no-browser`) in its own process; the
page must list the runs, draw each metric on a canvas, compare two runs, and never make a
request beyond the server. Screenshots land in the test's folder (kept by pytest for the
last runs) and are named on failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import gittrack
import gittrack.plot
from gittrack.ui.app import CSP
from gittrack.ui.export import export_site
from tests.helpers.processes import held
from tests.helpers.repos import git
from tests.helpers.runs import make_run, start_run
from tests.helpers.ui import base_url, log_everything, screenshots, serving

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"no Debian chromium at {CHROMIUM} (apt-get install chromium)"),
]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


@pytest.fixture
def served(repo: Path) -> Iterator[str]:
    """The base URL of `gittrack ui` serving ``repo``."""
    with serving(repo, "--port", "0") as lines:
        yield base_url(lines)


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Path:
    """The folder this test's screenshots are kept in (``screenshots``)."""
    return screenshots(request.node.name)


@pytest.fixture
def browser_page(shots: Path) -> Iterator[tuple[Any, list[str]]]:
    """A chromium page and the URL of every request it made."""
    sync_api = pytest.importorskip("playwright.sync_api")
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            try:
                yield page, requests
            finally:  # the page as the test left it, passed or failed
                page.screenshot(path=str(shots / "last.png"), full_page=True)
            assert errors == []  # no script error, no CSP violation
        finally:
            browser.close()


REMOTE_HTML = (
    '<p>an html report</p><img src="http://example.com/p.png" alt="pixel">'
    '<div style="background: url(http://example.com/bg.png)">styled</div>'
    '<style>@import "http://example.com/s.css"; b { background: url(//example.com/b.png) }</style>'
    '<link rel="stylesheet" href="http://example.com/l.css"><b>bold</b>'
    '<meta http-equiv="refresh" content="0; url=http://example.com/">'
    '<svg><image href="http://example.com/i.svg"/></svg>'
    '<object data="http://example.com/o"></object><video poster="http://example.com/v.png">'
    '</video><img srcset="http://example.com/s.png 2x"><img src="data:image/gif;base64,'
    'R0lGODlhAQABAAAAACw=" alt="inline">')
"""Logged HTML full of remote references (a tracking pixel and its kin)."""


def assert_nothing_remote(page: Any, frame: Any, requests: list[str]) -> None:
    """The logged HTML frame shows its text and nothing of it was even asked for: the
    browser's request events name no remote URL (the fixture's ``requests`` are checked by
    the test too)."""
    assert frame.locator("div").inner_text() == "styled"
    assert frame.locator("b").inner_text() == "bold"
    assert frame.locator("img[alt='inline']").get_attribute("src", timeout=5000).startswith(
        "data:")
    page.wait_for_timeout(300)  # a request the frame made would have been sent by now
    assert not [url for url in requests if "example.com" in url]


def drawn_pixels(page: Any, selector: str) -> int:
    """How many pixels of the first canvas under ``selector`` are drawn in the first series'
    blue (#2563eb: the line, or a heat map's cells), not background, grid or labels."""
    return int(page.eval_on_selector(selector + " canvas", """c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] > 0 && d[i + 2] - d[i] > 40 && d[i + 2] - d[i + 1] > 20) n++;
        }
        return n; }"""))


def test_runs_table_run_page_and_compare(repo: Path, served: str,
                                         browser_page: tuple[Any, list[str]],
                                         shots: Path) -> None:
    page, requests = browser_page
    # config keys named like Object.prototype's members work as any other key
    first = start_run(name="alpha-run", config={"lr": 0.1, "constructor": "conv",
                                                "toString": "t", "__proto__": "p1"})
    print("hello from training")  # captured as the run's console output
    for i in range(50):
        first.log({"loss": 1.0 / (i + 1), "acc": i / 50})
    first.finish()
    second = make_run([{"loss": 2.0 / (i + 1)} for i in range(3000)], name="beta-run",
                      config={"lr": 0.01, "hasOwnProperty": "h", "__proto__": "p2"})

    answer = page.goto(served)
    assert answer is not None and answer.headers["content-security-policy"] == CSP
    page.wait_for_selector("body[data-ready='1'] #runs tbody tr")
    names = page.locator("#runs tbody tr td:nth-child(2)").all_inner_texts()
    assert names == ["beta-run", "alpha-run"]  # newest first
    names_shown = page.locator("#runs tbody tr td:nth-child(2)")
    page.locator("#runs th[data-key='name']").click()  # by name: A to Z first
    assert names_shown.all_inner_texts() == ["alpha-run", "beta-run"]
    page.locator("#runs th[data-key='name']").click()  # again: Z to A
    assert names_shown.all_inner_texts() == ["beta-run", "alpha-run"]
    page.locator("#runs th[data-key='created']").click()  # created: newest first
    assert names_shown.all_inner_texts() == ["beta-run", "alpha-run"]
    page.locator("#runs th[data-key='state']").click()  # a tie keeps a stable order
    page.locator("#runs th[data-key='name']").click()
    assert names_shown.all_inner_texts() == ["alpha-run", "beta-run"]
    for word, shown in (("constructor=conv", ["alpha-run"]), ("toString=t", ["alpha-run"]),
                        ("hasOwnProperty=h", ["beta-run"]), ("__proto__=p2", ["beta-run"]),
                        ("constructor=x", []), ("valueOf=x", []),
                        ("acc=0.98", ["alpha-run"]), ("summary.acc=0.98", ["alpha-run"])):
        page.fill("#filter", word)
        assert names_shown.all_inner_texts() == shown, word
    page.fill("#filter", "")
    for key, rows in (("config.__proto__", ["config.__proto__ = p1 (1 runs)",
                                            "config.__proto__ = p2 (1 runs)"]),
                      ("config.constructor", ["config.constructor = (none) (1 runs)",
                                              "config.constructor = conv (1 runs)"])):
        page.select_option("#group-by", key)
        assert page.locator("#runs tr.group-row").all_inner_texts() == rows, key
    page.select_option("#group-by", "")
    page.fill("#filter", "lr=0.1")
    assert page.locator("#runs tbody tr td:nth-child(2)").all_inner_texts() == ["alpha-run"]
    for numeric in ("lr=1e-2", "lr=0.010", "lr=1E-2"):  # numbers equal as numbers
        page.fill("#filter", numeric)
        assert names_shown.all_inner_texts() == ["beta-run"], numeric
    commit = git(repo, "rev-parse", "HEAD").strip()
    page.fill("#filter", f"commit={commit[:8]}")  # the short commit the table shows
    assert names_shown.all_inner_texts() == ["alpha-run", "beta-run"]
    page.fill("#filter", f"commit={commit[:7]}{'1' if commit[7] == '0' else '0'}")
    assert names_shown.count() == 0
    page.fill("#filter", "")
    page.locator("#columns summary").click()  # the column picker
    page.check("#columns input[data-key='config.lr']")
    assert page.locator("#runs th[data-key='config.lr']").count() == 1
    page.uncheck("#columns input[data-key='duration']")
    assert page.locator("#runs th[data-key='duration']").count() == 0
    page.select_option("#group-by", "config.lr")
    assert page.locator("#runs tr.group-row").all_inner_texts() == [
        "config.lr = 0.01 (1 runs)", "config.lr = 0.1 (1 runs)"]
    page.screenshot(path=str(shots / "runs.png"), full_page=True)
    page.select_option("#group-by", "")

    page.click("text=alpha-run")
    page.wait_for_selector(".chart[data-key='loss'] canvas")
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#charts .chart").count() == 2  # loss and acc
    assert drawn_pixels(page, ".chart[data-key='loss']") > 100
    assert "lr" in page.locator(".kv").first.inner_text()
    page.wait_for_selector("#console:has-text('hello from training')")
    page.wait_for_selector("#code:has-text('no code saved')")  # loaded after the charts
    assert page.locator("#system-charts .chart").count() > 0  # sampled while it ran
    page.screenshot(path=str(shots / "run.png"), full_page=True)
    page.check("#log-scale")  # redrawn on a log scale
    page.wait_for_selector(".chart[data-key='loss'] canvas")
    assert drawn_pixels(page, ".chart[data-key='loss']") > 100
    page.select_option("#x-axis", "acc")  # a metric as the x axis
    page.wait_for_selector(".chart[data-key='loss'] canvas")
    assert drawn_pixels(page, ".chart[data-key='loss']") > 100
    page.select_option("#x-axis", "_step")
    page.uncheck("#log-scale")

    page.goto(f"{served}#/compare/{first.id},{second.id}")
    page.wait_for_selector("body[data-ready='1'] .chart[data-key='loss'] canvas")
    assert drawn_pixels(page, ".chart[data-key='loss']") > 100
    assert "2 of 2 runs" in page.locator(".chart[data-key='loss'] .note").inner_text()
    assert drawn_pixels(page, ".chart:has(#parallel)") > 50  # run one's line, blue
    assert drawn_pixels(page, ".chart:has(#scatter)") > 50  # run one's point
    assert page.locator("#scatter-x").input_value() == "config.lr"
    page.screenshot(path=str(shots / "compare.png"), full_page=True)

    assert requests and all(url.startswith(served) for url in requests), [
        url for url in requests if not url.startswith(served)]


def test_static_export_opens_from_disk(repo: Path, tmp_path: Path, shots: Path,
                                       browser_page: tuple[Any, list[str]]) -> None:
    page, requests = browser_page
    (repo / "data.csv").write_text("1,2\n")
    run = make_run([{"loss": 1.0 / (i + 1), "acc": i / 100} for i in range(100)],
                   name="exported-run", artifact=("data", repo / "data.csv"),
                   artifact_type="dataset")
    site = tmp_path / "site"
    export_site(str(repo), site)
    page.goto((site / "index.html").as_uri())
    page.wait_for_selector("body[data-ready='1'] #runs tbody tr")
    assert page.locator("#runs tbody tr td:nth-child(2)").all_inner_texts() == ["exported-run"]
    page.click("text=exported-run")
    page.wait_for_selector("body[data-ready='1'] .chart[data-key='loss'] canvas")
    assert drawn_pixels(page, ".chart[data-key='loss']") > 100
    assert "100 points" in page.locator(".chart[data-key='loss'] .note").inner_text()
    # the export holds the history against the built-in axes only: a metric is not offered
    assert page.locator("#x-axis option").evaluate_all("os => os.map(o => o.value)") == [
        "_step", "_runtime", "_timestamp"]
    assert run.id in page.url
    page.screenshot(path=str(shots / "export.png"), full_page=True)
    page.click("#nav-artifacts")  # the artifact pages are in the export too
    page.click("#artifacts >> text=data")
    page.click("#versions >> text=v0")
    assert "exported-run" in page.locator("#lineage").inner_text()
    assert all(url.startswith("file://") for url in requests), requests


def test_static_export_shows_media_charts_tables_console_and_code(
        repo: Path, tmp_path: Path, shots: Path, browser_page: tuple[Any, list[str]]) -> None:
    page, requests = browser_page
    # no script in the HTML item: chromium logs the sandbox's refusal as a console error
    run = log_everything(repo, "media-export", html=REMOTE_HTML)
    site = tmp_path / "site"
    export_site(str(repo), site)
    page.goto((site / "index.html").as_uri() + f"#/run/{run.id}")
    page.wait_for_selector("[data-chart='curve'] .vega canvas")  # vega-embed under the meta CSP
    page.wait_for_function("""() => {
        const c = document.querySelector("[data-chart='curve'] canvas");
        return c && c.width > 50; }""")
    assert drawn_pixels(page, "[data-chart='curve']") > 20
    rows = page.locator("[data-table='rows']")
    rows.locator("input.panel-step").fill("1")  # an earlier step, embedded
    page.wait_for_selector("[data-table='rows'] .note:has-text('step 1; 1 of 1 rows')")
    assert rows.locator("tbody tr").all_inner_texts() == ["1\t2"]
    panel = page.locator(".media[data-key='samples']")
    panel.locator("figcaption").wait_for()
    assert panel.locator("figcaption").inner_text() == "sample at 2"
    panel.locator("input.media-step").fill("0")
    assert panel.locator("figcaption").inner_text() == "sample at 0"
    page.wait_for_function("""() => {
        const img = document.querySelector(".media[data-key='samples'] img");
        return img && img.complete && img.naturalWidth === 8; }""")
    frame = page.frame_locator(".media[data-key='report'] iframe")
    assert frame.locator("p").inner_text() == "an html report"
    assert_nothing_remote(page, frame, requests)
    page.eval_on_selector(".media[data-key='sound'] audio", "a => a.load()")  # the meta CSP
    page.wait_for_function("""() => {  // allows media-src 'self': the WAV's length is read
        const a = document.querySelector(".media[data-key='sound'] audio");
        return a.readyState >= 1 && a.duration > 0.09; }""")
    page.wait_for_selector("#console:has-text('hello from the exported run')")
    page.locator("#code summary", has_text="uncommitted changes").click()
    assert "print('changed')" in page.locator("#code").inner_text()
    page.screenshot(path=str(shots / "export-media.png"), full_page=True)
    assert all(url.startswith(("file://", "about:")) for url in requests), requests


LIVE = """import sys, gittrack
run = gittrack.init(name="live-run", settings={"quiet": True, "checkpoint_interval": 3600})
for i in range(5):
    run.log({"loss": 1.0 / (i + 1)})
run._checkpoint()
print(run.id, flush=True)
sys.stdin.readline()
for i in range(5, 12):
    run.log({"loss": 1.0 / (i + 1)})
run._checkpoint()
print("more", flush=True)
sys.stdin.readline()
run.finish()
"""


def test_a_live_run_page_refreshes_by_itself(repo: Path, served: str,
                                              browser_page: tuple[Any, list[str]]) -> None:
    page, _requests = browser_page
    with held(LIVE, repo) as (proc, run_id):
        page.goto(f"{served}#/run/{run_id}")
        page.wait_for_selector("body[data-ready='1'] .chart[data-key='loss'] canvas")
        assert "5 history rows" in page.locator("#main").inner_text()
        assert "live" in page.locator("#status").inner_text()
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "more"
        # no reload: the page polls and redraws when the run's checkpoint moves
        page.wait_for_selector("text=12 history rows", timeout=30_000)
        assert "12 points" in page.locator(".chart[data-key='loss'] .note").inner_text()


def test_media_slider_histograms_charts_and_tables(served: str, browser_page: tuple[Any, list[str]],
                           shots: Path) -> None:
    import numpy as np

    page, requests = browser_page
    run = start_run(name="media-run")
    for step in range(3):
        pixels = np.full((8, 8, 3), 80 * step, dtype=np.uint8)
        run.log({"samples": gittrack.Image(pixels, caption=f"sample at {step}"),
                 "weights": gittrack.Histogram([step, step + 1.0, step + 1.5]),
                 "predictions": gittrack.Table(columns=["x", "y"], data=[[step, -1.0]]),
                 "loss": 1.0 / (step + 1)})
    table = gittrack.Table(columns=["x", "y"], data=[[0, 1.0], [1, 3.0], [2, 2.0]])
    run.log({"curve": gittrack.plot.line(table, "x", "y", title="a vega curve"),
             "predictions": table, "notes": gittrack.Text("plain words"),
             "report": gittrack.Html(REMOTE_HTML),
             "clip": gittrack.Video(np.full((4, 3, 6, 10), 120, dtype=np.uint8), fps=4)})
    run.finish()
    page.goto(f"{served}#/run/{run.id}")
    page.wait_for_selector("[data-chart='curve'] .vega canvas")  # vega-embed, CSP intact
    page.wait_for_function("""() => {
        const c = document.querySelector("[data-chart='curve'] canvas");
        return c && c.width > 50; }""")
    assert drawn_pixels(page, "[data-chart='curve']") > 20  # vega's default blue line
    predictions = page.locator("[data-table='predictions']")
    assert "step 3; 3 of 3 rows" in predictions.inner_text()
    predictions.locator("input.panel-step").fill("1")  # the table logged at step 1
    page.wait_for_selector("[data-table='predictions'] .note:has-text('step 1; 1 of 1 rows')")
    assert predictions.locator("tbody tr").all_inner_texts() == ["1\t-1"]
    panel = page.locator(".media[data-key='samples']")
    panel.locator("figcaption").wait_for()
    assert panel.locator("figcaption").inner_text() == "sample at 2"  # the last step first
    panel.locator("input.media-step").fill("0")
    assert panel.locator("figcaption").inner_text() == "sample at 0"
    page.wait_for_function("""() => {
        const img = document.querySelector(".media[data-key='samples'] img");
        return img && img.complete && img.naturalWidth === 8; }""")
    assert drawn_pixels(page, "[data-histogram='weights']") > 100  # the heat map
    page.select_option("[data-histogram='weights'] select.histogram-view", "ridgeline")
    assert "one curve per step" in page.locator("[data-histogram='weights'] .note").inner_text()
    assert drawn_pixels(page, "[data-histogram='weights']") > 100  # the ridgeline
    page.wait_for_selector(".media[data-key='notes'] pre:has-text('plain words')")
    frame = page.frame_locator(".media[data-key='report'] iframe")
    assert frame.locator("p").inner_text() == "an html report"  # in its sandboxed frame
    assert_nothing_remote(page, frame, requests)
    assert page.locator(".media[data-key='predictions']").count() == 0  # a panel instead
    # a GIF (Video's default format) is drawn as an image: a <video> cannot play it
    page.wait_for_function("""() => {
        const img = document.querySelector(".media[data-key='clip'] img");
        return img && img.complete && img.naturalWidth === 10; }""")
    assert page.locator(".media[data-key='clip'] video").count() == 0
    page.screenshot(path=str(shots / "media.png"), full_page=True)
    assert all(url.startswith(served) for url in requests)


def test_artifact_pages_and_lineage(repo: Path, served: str,
                                    browser_page: tuple[Any, list[str]],
                                    shots: Path) -> None:
    page, requests = browser_page
    (repo / "data.csv").write_text("1,2\n")
    make_run([{"x": 1}], name="maker", artifact=("data", repo / "data.csv"),
             artifact_type="dataset", aliases=["best"])
    user = make_run([{"x": 1}], name="user", use="data:best")
    page.goto(f"{served}#/artifacts")
    page.click("#artifacts >> text=data")
    page.click("#versions >> text=v0")
    lineage = page.locator("#lineage")
    lineage.wait_for()
    assert "maker" in lineage.locator(".run-node").first.inner_text()
    assert "user" in lineage.locator(".run-node").nth(1).inner_text()
    assert "data:v0" in lineage.locator(".version-node").inner_text()
    assert "data.csv" in page.locator("#files").inner_text()
    assert "null" not in page.locator("#main").inner_text()
    page.screenshot(path=str(shots / "lineage.png"), full_page=True)
    lineage.locator("text=user").click()  # on to the run that used it
    page.wait_for_selector(f"text={user.id}")
    page.click("a[href='#/artifact/data/v0']")  # and back, from the run page's artifacts
    page.wait_for_selector("#lineage")
    assert all(url.startswith(served) for url in requests)


def test_lineage_graph_shows_the_chain_and_nodes_navigate(
        repo: Path, served: str, browser_page: tuple[Any, list[str]], shots: Path) -> None:
    page, requests = browser_page
    (repo / "data.csv").write_text("1,2\n")
    (repo / "w.bin").write_bytes(b"weights")
    (repo / "report.txt").write_text("ok\n")
    make_run([{"x": 1}], name="maker", artifact=("data", repo / "data.csv"),
             artifact_type="dataset")
    train = make_run([{"x": 1}], name="train", use="data:v0", artifact=("model", repo / "w.bin"))
    make_run([{"x": 1}], name="eval <b>x</b>", use="model:v0",
             artifact=("report", repo / "report.txt"), artifact_type="report")
    page.goto(f"{served}#/artifact/model/v0")
    graph = page.locator("#lineage-graph")
    graph.wait_for()
    labels = graph.locator(".gnode-label").all_text_contents()
    assert sorted(labels) == sorted(["maker", "data:v0", "train", "model:v0",
                                     "eval <b>x</b>", "report:v0"])  # a name is text
    assert graph.locator("path.edge").count() == 5
    assert graph.locator(".gnode-root").get_attribute("data-id") == "version:model:v0"
    # layered along the data: data:v0 left of train, left of model:v0, left of report:v0
    xs = {label: graph.locator(f".gnode:has(.gnode-label:text-is('{label}')) rect")
          .get_attribute("x") for label in ("data:v0", "train", "model:v0", "report:v0")}
    order = [float(xs[k] or "nan") for k in ("data:v0", "train", "model:v0", "report:v0")]
    assert order == sorted(order) and len(set(order)) == 4
    page.screenshot(path=str(shots / "lineage-graph.png"), full_page=True)
    graph.locator(f"[data-id='run:{train.id}']").click()  # a run node opens the run page
    page.wait_for_selector(f"text={train.id}")
    run_graph = page.locator("#lineage-graph")
    run_graph.wait_for()  # the run page draws the graph too, rooted at the run
    assert run_graph.locator(".gnode-root").get_attribute("data-id") == f"run:{train.id}"
    assert run_graph.locator(".gnode").count() == 6
    run_graph.locator("[data-id='version:report:v0']").click()  # a version node: its page
    page.wait_for_function("location.hash === '#/artifact/report/v0'")
    page.locator("#lineage-graph .gnode-root[data-id='version:report:v0']").wait_for()
    # a removed version stays in its runs' graph: dashed, no link
    import pygit2

    from gittrack.sync.remove_version import remove_version

    (repo / "report.txt").write_text("better\n")
    make_run([{"x": 1}], name="rerun", artifact=("report", repo / "report.txt"),
             artifact_type="report")
    remove_version(pygit2.Repository(str(repo)), "report", 0)
    page.goto(f"{served}#/run/{train.id}")
    page.reload()
    gone = page.locator("#lineage-graph .gnode-gone[data-id='gone:report:v0']")
    gone.wait_for()
    assert "version removed" in (gone.text_content() or "")
    assert page.locator("#lineage-graph a[data-id='gone:report:v0']").count() == 0
    assert all(url.startswith(served) for url in requests)
