"""The public API is small and curated: ``gittrack.__all__`` is sorted and complete."""

from __future__ import annotations

import inspect
import subprocess
import sys

import gittrack


def test_all_is_sorted() -> None:
    assert gittrack.__all__ == sorted(gittrack.__all__)
    assert len(set(gittrack.__all__)) == len(gittrack.__all__)


def test_all_names_exist() -> None:
    for name in gittrack.__all__:
        assert hasattr(gittrack, name), name


def test_everything_public_is_in_all() -> None:
    public = {
        name for name, value in vars(gittrack).items()
        if not name.startswith("_") and not inspect.ismodule(value)
        and getattr(value, "__module__", "").startswith("gittrack")
    }
    assert public == set(gittrack.__all__) - {"__version__"}


def test_exported_members_say_they_are_public() -> None:
    # Classes and functions re-exported from private modules keep working under gittrack.X.
    for name in gittrack.__all__:
        member = getattr(gittrack, name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert member.__module__.startswith("gittrack."), name


def test_version() -> None:
    assert isinstance(gittrack.__version__, str) and gittrack.__version__[0].isdigit()


def test_errors_form_one_hierarchy() -> None:
    errors = [getattr(gittrack, n) for n in gittrack.__all__ if n.endswith("Error")]
    assert errors
    for error in errors:
        assert issubclass(error, gittrack.GittrackError), error
        assert isinstance(error.exit_code, int) and error.exit_code > 0
    assert issubclass(gittrack.GittrackWarning, Warning)


def test_import_is_light() -> None:
    code = ("import sys, gittrack\n"
            "heavy = [m for m in ('pyarrow', 'pandas', 'polars', 'numpy') if m in sys.modules]\n"
            "print(','.join(heavy))\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.strip()
    assert out == ""


def test_run_attribute_follows_the_current_run() -> None:
    assert gittrack.run is None
