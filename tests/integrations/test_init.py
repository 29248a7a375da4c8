"""``gittrack.integrations`` needs none of the frameworks: each module imports its own only
when it is imported itself."""

from __future__ import annotations

import subprocess
import sys

FRAMEWORKS = ("xgboost", "lightgbm", "optuna", "sklearn")


def imported_frameworks(module: str) -> list[str]:
    """The frameworks loaded by importing ``module`` in a fresh interpreter."""
    code = f"import sys, {module}; print(*sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    return result.stdout.split()


def test_importing_the_package_imports_no_framework() -> None:
    assert imported_frameworks("gittrack, gittrack.integrations") == []


def test_each_module_imports_only_its_framework() -> None:
    assert imported_frameworks("gittrack.integrations.optuna") == ["optuna"]


def test_a_missing_framework_names_the_extra() -> None:
    code = ("import sys; sys.modules['lightgbm'] = None; "
            "import gittrack.integrations.lightgbm")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert "pip install 'gittrack[lightgbm]'" in result.stderr
