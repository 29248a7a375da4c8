"""``gittrack.Text`` (plain text, stored as ``.txt``) and ``gittrack.Html`` (stored as ``.html``).

W&B has no ``wandb.Text`` (text goes into Tables there); ``Text`` keeps one text per step, as
``Html`` does. Both are read back as the same classes, with ``.data`` the text.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gittrack.errors import InvalidValueError
from gittrack.formats.media.base import Encoded, Media, Payload, Stored, register

TEXT, HTML = "text", "html"
MAX_TEXT_BYTES = 64 << 20
"""The largest text or HTML one value may hold (64 MB of UTF-8)."""


class _TextMedia(Media):
    format = ""

    def __init__(self, data: Any) -> None:
        self.data: str = ""
        self._error: str | None = None
        try:
            self.data = self._read(data)
        except _Refused as exc:
            self._error = str(exc)

    def _read(self, data: Any) -> str:
        if not isinstance(data, str):
            raise _Refused(f"expected a str, got {type(data).__name__}")
        return data

    def payloads(self, key: str) -> list[Payload]:
        if self._error is not None:
            raise InvalidValueError(f"cannot log {key!r}: {self._error}")
        try:
            raw = self.data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidValueError(f"cannot log {key!r}: the text is not valid Unicode "
                                    f"({exc.reason} at {exc.start})") from None
        if len(raw) > MAX_TEXT_BYTES:
            raise InvalidValueError(f"cannot log {key!r}: the text takes {len(raw):,} bytes, "
                                    f"the limit is {MAX_TEXT_BYTES:,} (log it as an artifact)")
        return [Payload(self.kind, raw, self._spec())]

    def _spec(self) -> dict[str, Any]:
        return {}

    @property
    def bytes(self) -> bytes:
        return self.data.encode("utf-8")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.data == self.data

    def __hash__(self) -> int:
        return hash((type(self), self.data))

    def __repr__(self) -> str:
        text = self.data if len(self.data) <= 40 else self.data[:37] + "..."
        return f"<gittrack.{type(self).__name__} {text!r}>"


class _Refused(Exception):
    pass


class Text(_TextMedia):
    """Plain text logged at a step: ``run.log({"sample": gittrack.Text(generated)})``."""

    kind = TEXT
    format = "txt"


class Html(_TextMedia):
    """HTML: a str of HTML, the path of an ``.html`` file, or an open file.

    ``inject`` is accepted for W&B's signature and kept; nothing is added to the HTML (W&B
    injects a link to its stylesheet, which would make a viewer fetch a third-party URL)."""

    kind = HTML
    format = "html"

    def __init__(self, data: Any, inject: bool = True, **_ignored: Any) -> None:
        self.inject = bool(inject)
        super().__init__(data)

    def _read(self, data: Any) -> str:
        if isinstance(data, os.PathLike) or (
                isinstance(data, str) and data.lower().endswith((".html", ".htm"))
                and "<" not in data and "\n" not in data):
            path = Path(data)
            try:
                return path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
                raise _Refused(f"cannot read HTML file {str(path)!r}: {reason or exc}") from None
        if hasattr(data, "read"):
            try:
                text = data.read()
            except Exception as exc:
                raise _Refused(f"cannot read the HTML file object: {exc}") from None
            if isinstance(text, bytes):
                try:
                    text = text.decode("utf-8")
                except UnicodeDecodeError:
                    raise _Refused("the HTML file is not UTF-8") from None
            if not isinstance(text, str):
                raise _Refused(f"the HTML file object gave {type(text).__name__}, not text")
            return text
        if not isinstance(data, str):
            raise _Refused(f"expected a str of HTML, the path of an .html file or an open "
                           f"file, got {type(data).__name__}")
        return data

    def _spec(self) -> dict[str, Any]:
        return {"inject": self.inject}


def _encode(payload: Payload) -> Encoded:
    meta = {"inject": bool(payload.spec["inject"])} if "inject" in payload.spec else {}
    data = bytes(payload.raw)
    return Encoded(data=data, format="html" if payload.kind == HTML else "txt",
                   length=None, meta=meta)


def _decode(data: bytes, stored: Stored) -> Text | Html:
    text = data.decode("utf-8", errors="replace")
    if stored.kind == HTML:
        value: Text | Html = Html(text, inject=bool(stored.meta.get("inject", True)))
    else:
        value = Text(text)
    return value


register(TEXT, _encode, _decode)
register(HTML, _encode, _decode)
