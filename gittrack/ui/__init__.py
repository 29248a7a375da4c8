"""The local web UI of ``gittrack ui`` (docs/ui.md): a read-only ASGI app over ``gittrack.Api``.

``data`` reads (no web framework), ``downsample`` shrinks a series for a chart, ``app`` is the
Starlette app (the ``ui`` extra, imported only by ``gittrack ui``), ``static/`` the page and the
vendored chart libraries (``scripts/refresh-ui-vendor``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "export_site"]


def __getattr__(name: str) -> Any:
    """``gittrack.ui.create_app`` (needs the ``ui`` extra) and ``gittrack.ui.export_site``,
    imported when first asked for: ``import gittrack.ui`` imports no web framework."""
    if name == "create_app":
        from gittrack.ui.app import create_app

        return create_app
    if name == "export_site":
        from gittrack.ui.export import export_site

        return export_site
    raise AttributeError(f"module 'gittrack.ui' has no attribute {name!r}")
