"""``gittrack hooks install|uninstall``: gittrack's pre-push hook, chaining any hook already
there, the way pre-commit installs its own (``pre_commit/commands/install_uninstall.py``).

The hook is a marked template (``hooks/pre-push`` in the source tree, ``gittrack/_hooks`` in a
wheel). A foreign hook is renamed ``pre-push.gittrack-chained`` and run first; uninstall
puts it back. Installing twice is harmless (the marked hook is just rewritten).
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import sys
from pathlib import Path

from gittrack.atomic import write_atomic
from gittrack.errors import RepositoryError
from gittrack.git import command
from gittrack.git.repo import Repository, work_folder

MARKER = "gittrack-managed-hook"
HOOK = "pre-push"
CHAINED = f"{HOOK}.gittrack-chained"


@dataclasses.dataclass(frozen=True, slots=True)
class HookChange:
    path: Path
    chained: Path | None = None
    """Where the hook that was there before went (install) or came back from (uninstall)."""
    changed: bool = True


def hooks_dir(repo: Repository) -> Path:
    """``core.hooksPath`` if set, else ``.git/hooks``, as git resolves it."""
    done = command.run(repo, ["rev-parse", "--git-path", "hooks"], what="finding hooks",
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
    return HookChange(hook, moved)


def uninstall(repo: Repository) -> HookChange:
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
