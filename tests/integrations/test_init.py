"""``gittrack.integrations`` needs none of the frameworks: each module imports its own only
when it is imported itself."""

from __future__ import annotations

import subprocess
import sys

FRAMEWORKS = ("xgboost", "lightgbm", "optuna", "sklearn")


def test_importing_the_package_imports_no_framework() -> None:
    code = ("import sys, gittrack, gittrack.integrations; "
            f"print([m for m in {FRAMEWORKS!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_each_module_imports_only_its_framework() -> None:
    code = ("import sys, gittrack.integrations.optuna; "
            f"print([m for m in {FRAMEWORKS!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "['optuna']"
