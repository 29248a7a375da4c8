"""`gittrack ui` in chromium over a hostile teammate's runs: names, tags, config, summary and
metric keys, captions and table cells holding markup must show as text, run nothing and make no
link (docs/security.md). Every check here holds with the CSP switched off too: it looks for the
markup in the page, not only for the script having run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import gittrack
from gittrack.ui.export import export_site
from tests.helpers.runs import make_run, start_run
from tests.ui.test_browser import browser_page, pytestmark, served, shots  # noqa: F401

XSS = "\"'><img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>"
JS_URL = "javascript:window.__xss=3"
SVG = "<svg/onload=window.__xss=4>"


def assert_inert(page: Any) -> None:
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[onerror], svg[onload], [onclick], [onmouseover]").count() == 0
    assert page.locator("main script, main iframe:not([sandbox])").count() == 0
    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    assert not [h for h in hrefs if not h.startswith(("#", "static/", "/"))], hrefs


def test_hostile_names_values_and_keys_show_as_text(
        served: str, browser_page: tuple[Any, list[str]]) -> None:  # noqa: F811
    page, requests = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    evil = start_run(name=XSS, tags=[XSS, JS_URL], group=SVG, job_type=XSS,
                     config={XSS: JS_URL, "lr": XSS, "nested": {SVG: [XSS]}})
    for step in range(3):
        evil.log({f"loss{XSS}": 1.0 / (step + 1), JS_URL: float(step),
                  "pic": gittrack.Image(np.zeros((4, 4, 3), dtype=np.uint8), caption=XSS),
                  "rows": gittrack.Table(columns=[XSS, "y"], data=[[SVG, 1.0]]),
                  "words": gittrack.Text(XSS)})
    evil.summary[SVG] = XSS
    evil.finish()
    plain = make_run([{"loss": 1.0}], name="plain", config={"lr": JS_URL})

    page.goto(served)
    page.wait_for_selector("body[data-ready='1'] #runs tbody tr")
    assert XSS in page.locator("#runs tbody").inner_text()  # shown, as text
    assert_inert(page)
    page.locator("#columns summary").click()  # hostile keys as columns and options
    for box in page.locator("#columns input[type='checkbox']").all():
        box.check()
    page.select_option("#group-by", f"config.{XSS}")
    assert_inert(page)
    page.select_option("#group-by", "")
    page.fill("#filter", XSS)
    assert_inert(page)
    page.fill("#filter", "")

    page.goto(f"{served}#/run/{evil.id}")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector(".media[data-key='pic'] figcaption")
    page.wait_for_selector(".media[data-key='words'] pre:has-text('onerror')")
    page.wait_for_selector("[data-table='rows'] tbody tr")
    text = page.locator("main").inner_text()
    assert XSS in text and JS_URL in text and SVG in text
    assert page.locator(".media[data-key='pic'] figcaption").inner_text() == XSS
    assert_inert(page)

    page.goto(f"{served}#/compare/{evil.id},{plain.id}")
    page.wait_for_selector("body[data-ready='1']")
    assert_inert(page)
    assert XSS in page.locator("main").inner_text()
    assert dialogs == []
    assert all(url.startswith(served) for url in requests), requests


def test_a_logged_chart_loads_no_url_and_links_nowhere(served: str) -> None:  # noqa: F811
    import pytest

    from tests.ui.test_browser import ARGS, CHROMIUM

    sync_api = pytest.importorskip("playwright.sync_api")
    other = make_run([{"loss": 1.0}], name="someone-elses", config={"secret": "s3cret"})
    table = gittrack.Table(columns=["x", "y"], data=[[0, 1.0], [1, 2.0]])
    spec = {"layer": [
        {"mark": "line", "encoding": {"x": {"field": "x", "type": "quantitative"},
                                      "y": {"field": "y", "type": "quantitative"},
                                      "href": {"value": "https://evil.example/?leak"}}},
        {"data": {"url": f"/api/runs/{other.id}?from-chart=1"}, "mark": "point",
         "encoding": {"x": {"field": "x", "type": "quantitative"}}},
        {"data": {"url": "https://evil.example/x.json"}, "mark": "point"}]}
    run = make_run([{"chart": gittrack.plot.vega(spec, table)}], name="hostile-chart")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(f"{served}#/run/{run.id}")
            page.wait_for_selector("[data-chart='chart'] .vega canvas, [data-chart='chart'] .error")
            page.wait_for_function("document.body.dataset.ready === '1'")
            page.wait_for_timeout(200)  # let vega settle: it asks for its data once
        finally:
            browser.close()
    assert not [u for u in requests if "from-chart" in u or "evil.example" in u], requests


def test_an_export_of_a_hostile_run_is_inert_and_carries_a_csp(
        repo: Path, tmp_path: Path, browser_page: tuple[Any, list[str]]) -> None:  # noqa: F811
    page, requests = browser_page
    run = make_run([{f"loss{XSS}": 1.0}, {f"loss{XSS}": 0.5}], name=XSS, tags=[JS_URL],
                   config={XSS: SVG})
    site = tmp_path / "site"
    export_site(str(repo), site)
    assert "Content-Security-Policy" in (site / "index.html").read_text(encoding="utf-8")
    page.goto((site / "index.html").as_uri())
    page.wait_for_selector("body[data-ready='1'] #runs tbody tr")
    assert XSS in page.locator("#runs tbody").inner_text()
    assert_inert(page)
    page.goto((site / "index.html").as_uri() + f"#/run/{run.id}")
    page.wait_for_selector("body[data-ready='1'] .chart canvas")
    assert XSS in page.locator("main").inner_text()
    assert_inert(page)
    assert all(url.startswith("file://") for url in requests), requests
