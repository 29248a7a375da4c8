"""The local web UI of ``gittrack ui`` (docs/ui.md): a read-only ASGI app over ``gittrack.Api``.

``data`` reads (no web framework), ``downsample`` shrinks a series for a chart, ``app`` is the
Starlette app (the ``ui`` extra, imported only by ``gittrack ui``), ``static/`` the page and the
vendored chart libraries (``scripts/refresh-ui-vendor``).
"""
