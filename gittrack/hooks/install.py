"""``gittrack hooks install|uninstall``: gittrack's pre-push hook, chaining any hook already
there, the way pre-commit installs its own (``pre_commit/commands/install_uninstall.py``).

The hook is a marked template (``hooks/pre-push`` in the source tree, ``gittrack/_hooks`` in a
wheel). A foreign hook is renamed ``pre-push.gittrack-chained`` and run first; uninstall
puts it back. Installing twice is harmless (the marked hook is just rewritten).

Install also sets git's diff driver for run files: ``diff.gittrack.textconv`` in this
repository's config (never the user's global one) runs ``gittrack textconv`` by this
interpreter's absolute path (``python -m gittrack``: the ``gittrack`` script may not be on the
PATH git sees), and ``*.parquet diff=gittrack`` in ``.git/info/attributes`` (not a committed
``.gitattributes``: the user's tree never changes). Uninstall removes both.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import sys
from pathlib import Path

from gittrack.atomic import write_atomic
from gittrack.errors import RepositoryError
from gittrack.git import command, config
from gittrack.git.repo import Repository, work_folder

MARKER = "gittrack-managed-hook"
HOOK = "pre-push"
CHAINED = f"{HOOK}.gittrack-chained"
DIFF_DRIVER = "diff.gittrack.textconv"
ATTRIBUTES_LINE = "*.parquet diff=gittrack"


@dataclasses.dataclass(frozen=True, slots=True)
class HookChange:
    path: Path
    chained: Path | None = None
    """Where the hook that was there before went (install) or came back from (uninstall)."""
    changed: bool = True


def hooks_dir(repo: Repository) -> Path:
    """``core.hooksPath`` if set, else ``.git/hooks``, as git resolves it."""
    return _git_path(repo, "hooks")


def _git_path(repo: Repository, name: str) -> Path:
    """``git rev-parse --git-path NAME``: where git keeps ``NAME`` of ``.git``."""
    done = command.run(repo, ["rev-parse", "--git-path", name], what=f"finding {name}",
                       error=RepositoryError)
    path = Path(done.stdout.strip())
    return path if path.is_absolute() else Path(work_folder(repo)) / path


def template() -> str:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "_hooks" / HOOK, here.parents[1] / "hooks" / HOOK):
        if candidate.is_file():
            text = candidate.read_text()
            # quoted for the shell (a ' in the path), and the hook written as bytes: the
            # interpreter's path may hold bytes that are not UTF-8 (surrogateescape)
            return text.replace("'@PYTHON@'", shlex.quote(sys.executable))
    raise RepositoryError("gittrack's hook template is missing from this installation")


def is_ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(errors="replace")
    except OSError:
        return False


def install(repo: Repository) -> HookChange:
    folder = hooks_dir(repo)
    hook, chained = folder / HOOK, folder / CHAINED
    try:
        folder.mkdir(parents=True, exist_ok=True)
        moved = None
        if hook.exists() and not is_ours(hook):
            os.replace(hook, chained)  # keep the user's hook; ours runs it first
            moved = chained
        write_atomic(hook, template().encode("utf-8", "surrogateescape"), mode=0o755,
                     error=RepositoryError)
    except OSError as exc:
        reason = exc.strerror or exc
        raise RepositoryError(f"cannot install the hook in {folder}: {reason}") from None
    install_diff(repo)
    return HookChange(hook, moved)


def uninstall(repo: Repository) -> HookChange:
    uninstall_diff(repo)
    folder = hooks_dir(repo)
    hook, chained = folder / HOOK, folder / CHAINED
    if not is_ours(hook):
        return HookChange(hook, changed=False)
    try:
        hook.unlink()
        if chained.exists():
            os.replace(chained, hook)
            return HookChange(hook, chained)
    except OSError as exc:
        reason = exc.strerror or exc
        raise RepositoryError(f"cannot uninstall the hook in {folder}: {reason}") from None
    return HookChange(hook)


def textconv_command() -> str:
    """``<this python> -m gittrack textconv``, quoted for the shell git runs it with."""
    return f"{shlex.quote(sys.executable)} -m gittrack textconv"


def attributes_file(repo: Repository) -> Path:
    """``.git/info/attributes`` (shared by linked worktrees), as git resolves it."""
    return _git_path(repo, "info/attributes")


def install_diff(repo: Repository) -> None:
    """Git's diff of run files through ``gittrack textconv``; installing again changes
    nothing (one config value, one attributes line)."""
    if config.value(repo, DIFF_DRIVER) != textconv_command():
        config.write(repo, ["--local", DIFF_DRIVER, textconv_command()],
                     what="setting gittrack's diff driver")
    path = attributes_file(repo)
    lines = _read_lines(path)
    if ATTRIBUTES_LINE not in lines:
        _write_lines(path, [*lines, ATTRIBUTES_LINE])


def uninstall_diff(repo: Repository) -> None:
    """Undo ``install_diff``; nothing else in the config or the attributes is touched."""
    if config.value(repo, DIFF_DRIVER) is not None:
        config.write(repo, ["--local", "--unset-all", DIFF_DRIVER],
                     what="removing gittrack's diff driver")
    path = attributes_file(repo)
    lines = _read_lines(path)
    if ATTRIBUTES_LINE in lines:
        _write_lines(path, [line for line in lines if line != ATTRIBUTES_LINE])


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape").splitlines()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise RepositoryError(f"cannot read {path}: {exc.strerror or exc}") from None


def _write_lines(path: Path, lines: list[str]) -> None:
    data = "".join(f"{line}\n" for line in lines).encode("utf-8", "surrogateescape")
    write_atomic(path, data, error=RepositoryError, parents=True)
