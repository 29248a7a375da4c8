"""The front end ships with the package: pinned, licensed, nothing fetched from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

from gittrack.ui.app import STATIC

SCRIPT = Path(__file__).parents[2] / "scripts" / "refresh-ui-vendor"


def test_vendored_files_are_the_pinned_ones_with_their_licences() -> None:
    pins = re.findall(r'"([a-z-]+)@(\S+) package/\S+ (\S+)"', SCRIPT.read_text())
    assert {name for name, _v, _f in pins} == {"uplot", "vega", "vega-lite", "vega-embed",
                                               "vega-interpreter"}
    vendor = STATIC / "vendor"
    versions = (vendor / "VERSIONS").read_text()
    for name, version, file in pins:
        assert (vendor / file).stat().st_size > 1000, file
        assert (vendor / f"{name}.LICENSE").read_text().strip(), name
        assert re.search(rf"^{re.escape(name)}@{re.escape(version)} sha512-", versions, re.M)


def test_page_loads_only_from_this_server() -> None:
    page = (STATIC / "index.html").read_text()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith(("static/", "#/")) for s in sources), sources
    assert "style=" not in page and "<style" not in page  # the CSP allows no inline style
    script = (STATIC / "app.js").read_text()
    # the SVG namespace (createElementNS) is a name, never fetched: the only URL allowed
    assert script.count('"http://www.w3.org/2000/svg"') == 1
    script = script.replace('"http://www.w3.org/2000/svg"', "")
    assert "http://" not in script and "https://" not in script
    assert "innerHTML" not in script  # run names and values are set as text only
