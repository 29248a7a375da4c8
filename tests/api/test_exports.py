"""The public API is small and curated: ``gittrack.__all__`` is sorted and complete."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import gittrack

CHECKOUT = Path(gittrack.__file__).resolve().parent.parent


def fresh_python(code: str) -> str:
    """Run ``code`` in a new interpreter that imports this checkout; return its stdout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(CHECKOUT), os.environ.get("PYTHONPATH", "")) if p)}
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True, env=env).stdout.strip()


def test_all_is_sorted() -> None:
    assert gittrack.__all__ == sorted(gittrack.__all__)
    assert len(set(gittrack.__all__)) == len(gittrack.__all__)


def test_all_names_exist() -> None:
    for name in gittrack.__all__:
        assert hasattr(gittrack, name), name


def test_everything_public_is_in_all() -> None:
    # dir(), not vars(): most names are imported on first use (the module's __getattr__)
    public = {
        name for name in dir(gittrack)
        if not name.startswith("_") and not inspect.ismodule(value := getattr(gittrack, name))
        and getattr(value, "__module__", "").startswith("gittrack")
    }
    assert public == set(gittrack.__all__) - {"__version__"}


def test_every_name_imports_from_a_fresh_interpreter() -> None:
    names = ", ".join(gittrack.__all__)
    code = f"from gittrack import {names}\nimport gittrack\nprint(gittrack.run)\n"
    assert fresh_python(code) == "None"


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
    # A training script's `import gittrack` (and every command, which imports the package
    # first) pays for none of this: it loads when gittrack.init(), Api() or a command needs it.
    heavy = ("fsspec", "s3fs", "pyarrow", "pandas", "polars", "numpy", "rich", "pyrage",
             "yaml", "pygit2", "click")
    code = f"import sys, gittrack\nprint(','.join(m for m in {heavy!r} if m in sys.modules))\n"
    assert fresh_python(code) == ""


def test_run_attribute_follows_the_current_run() -> None:
    assert gittrack.run is None


def test_every_error_class_is_exported() -> None:
    import gittrack.errors as errors

    classes = {name for name, value in vars(errors).items()
               if inspect.isclass(value) and issubclass(value, (errors.GittrackError, Warning))
               and value.__module__ == errors.__name__}
    assert {"DivergedError", "TransportError", "PushRejectedError", "NoActiveRunError"} <= classes
    for name in classes:
        assert name in gittrack.__all__, name
        assert getattr(gittrack, name) is getattr(errors, name)


def test_every_error_class_is_documented() -> None:
    import gittrack.errors as errors

    api_md = (CHECKOUT / "docs" / "api.md").read_text()
    for name, value in vars(errors).items():
        if inspect.isclass(value) and issubclass(value, errors.GittrackError):
            assert f"`{name}`" in api_md, name
