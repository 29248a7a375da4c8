"""The one check an integration module makes before importing its framework."""

from __future__ import annotations

import importlib.util


def require(module: str, extra: str, integration: str) -> None:
    """Raise ``ImportError`` saying which extra to install when ``module`` is missing."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or half-installed package
        found = False
    if not found:
        raise ImportError(f"{integration} needs {module}: pip install 'gittrack[{extra}]'")
