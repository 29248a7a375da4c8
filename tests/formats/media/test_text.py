"""gittrack.Text and gittrack.Html: accepted forms, refused ones, round trips."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from gittrack.errors import InvalidValueError
from gittrack.formats.media import base
from gittrack.formats.media.text import Html, Text


def stored(value: Text) -> Any:
    (payload,) = value.payloads("k")
    enc = base.encode(payload)
    return base.decode(enc.data, base.Stored(payload.kind, enc.format, None, None, None, None,
                                             enc.meta)), enc


def test_text_round_trip() -> None:
    back, enc = stored(Text("héllo\nwörld ✓"))
    assert isinstance(back, Text) and back.data == "héllo\nwörld ✓"
    assert enc.format == "txt" and enc.data == "héllo\nwörld ✓".encode()


def test_html_forms(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>from a file</p>")
    for source, text in (("<b>x</b>", "<b>x</b>"), (page, "<p>from a file</p>"),
                         (str(page), "<p>from a file</p>"),
                         (io.StringIO("<i>open</i>"), "<i>open</i>"),
                         (io.BytesIO(b"<i>bin</i>"), "<i>bin</i>")):
        back, enc = stored(Html(source))
        assert isinstance(back, Html) and back.data == text and enc.format == "html"
    back, _ = stored(Html("<b>x</b>", inject=False))
    assert back.inject is False


@pytest.mark.parametrize("bad", [3, None, b"bytes"])
def test_text_refused(bad: Any) -> None:
    with pytest.raises(InvalidValueError, match=r"'k'.*expected a str"):
        Text(bad).payloads("k")


def test_html_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidValueError, match=r"'k'.*cannot read HTML file"):
        Html(str(tmp_path / "missing.html")).payloads("k")
    with pytest.raises(InvalidValueError, match="'k'"):
        Html(12).payloads("k")
    with pytest.raises(InvalidValueError, match="Unicode"):
        Text("\ud800").payloads("k")
