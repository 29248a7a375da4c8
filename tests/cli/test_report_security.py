"""`gittrack report` over a hostile teammate's runs: a run name, a config value, a metric key or
a branch name holding markup must not run, link, break a table or forge the marker, in the
markdown comment (as GitHub renders it) or in the HTML file (docs/security.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import CliResult
from tests.helpers.pull_request import commit
from tests.helpers.repos import git
from tests.helpers.runs import start_run

Cli = Callable[..., CliResult]
MARKER = "<!-- gittrack-report -->"
NAME = ("a|b`c`` <!-- gittrack-report --> [x](javascript:alert(1)) ![p](http://evil.example/p.png)"
        " <img src=x onerror=alert(1)> **bold** \u202eevil")
VALUE = "</td><script>alert(1)</script>|`|[y](javascript:alert(2))"
KEY = "loss<b>|`"


def _run(name: str, loss: float, settings: dict[str, object]) -> None:
    run = start_run(name=name, project="p", config={"lr": 0.1, "evil": VALUE},
                    settings=settings)
    run.define_metric(KEY, goal="minimize")
    run.log({KEY: loss, "note": VALUE})
    run.finish()


@pytest.fixture
def hostile(repo: Path, fast_settings: dict[str, object]) -> None:
    _run("base", 0.5, fast_settings)
    git(repo, "checkout", "-q", "-b", "x<img/src=x/onerror=alert(1)>")
    commit(repo, "hostile")
    _run(NAME, 0.4, fast_settings)


def _rendered(markdown: str) -> Any:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("gfm-like" if "gfm-like" in markdown_it.presets.__dict__
                                  else "commonmark").enable("table").render(markdown)


def test_markdown_keeps_hostile_names_as_text(cli: Cli, hostile: None) -> None:
    result = cli("report", "--base", "main", "--head", "HEAD")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0] == MARKER and out.count(MARKER) == 1  # not forged
    assert "\u202e" not in out and "\ufffdevil" in out  # no reordering of the text around
    html = _rendered(out)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "href" not in html  # no link of any kind from a name or value
    assert "<strong>bold</strong>" not in html
    for table in re.findall(r"<table>.*?</table>", html, re.S):
        widths = {len(re.findall(r"<t[hd][ >]", row)) for row in re.findall(r"<tr>.*?</tr>",
                                                                             table, re.S)}
        assert len(widths) == 1, table  # no row broken by a pipe
    assert "javascript:alert(1)" in html  # shown, as text


def test_html_report_escapes_hostile_names(cli: Cli, hostile: None, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    result = cli("report", "--base", "main", "--head", "HEAD", "--format", "html",
                 "-o", str(target))
    assert result.exit_code == 0, result.stderr
    text = target.read_text(encoding="utf-8")
    assert text.startswith(MARKER) and text.count(MARKER) == 1
    assert "<script" not in text and "<img" not in text and "onerror=alert" not in text.replace(
        "&lt;img src=x onerror=alert", "").replace("&lt;img/src=x/onerror=alert", "")
    assert "href" not in text and "<b>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text  # shown, escaped
    assert "\u202e" not in text
