"""``gittrack remote setup``: make plain ``git fetch`` (and, opted in, ``git push``) carry runs.

Fetch: ``remote.<name>.fetch += +refs/gittrack/*:refs/gittrack-remotes/<name>/*`` — plain
``git fetch`` then updates the mirror that ``gittrack pull`` reads; local runs never move
behind the user's back.

Push (``--push``): git pushes *only* the configured ``remote.<name>.push`` refspecs once one
exists, so a lone ``refs/gittrack/*`` refspec would silently stop ``git push`` from pushing
the current branch. We add ``HEAD`` first (the current branch to the same name, what
``git push`` does by default for a branch that has an upstream of the same name) and then
``refs/gittrack/*:refs/gittrack/*`` without ``+`` (git refuses a diverged run instead of
overwriting it). Blobs still go first through the pre-push hook, installed with it.

Enabled (private by default): runs go only to remotes enabled for gittrack, ``git config
remote.<name>.gittrack true`` (written by ``remote setup NAME``). While no remote is set to true,
the first remote (``origin``, else the first one git lists) is enabled unless set to false. A URL or
path is never enabled: the pre-push hook sends it no run; ``gittrack push URL`` names it on
purpose (docs/sync.md, "Which remotes get runs").
"""

from __future__ import annotations

from gittrack.errors import UsageError
from gittrack.formats.values import readable
from gittrack.git import config, namespace, transport
from gittrack.git.repo import Repository
from gittrack.sync.mirror import fetch_refspec, mirror_key

PUSH_REFSPECS = ("HEAD", f"{namespace.ROOT}*:{namespace.ROOT}*")
ENABLED = "gittrack"
"""The key ``remote.<name>.gittrack``: this remote gets runs."""


def enabled_remotes(repo: Repository) -> list[str]:
    """The remotes that get runs: those with ``remote.<name>.gittrack`` true, or, while none
    is true, the first remote (``origin``, else the first git lists) unless its key says
    otherwise (``false``)."""
    names = transport.remotes(repo)
    chosen = [n for n in names if config.flag(repo, _key(n))]
    if chosen:
        return chosen
    first = "origin" if "origin" in names else (names[0] if names else None)
    if first is None or config.value(repo, _key(first)) is not None:
        return []
    return [first]


def is_enabled(repo: Repository, remote: str) -> bool:
    return remote in enabled_remotes(repo)


def not_enabled(remote: str) -> str:
    """The one line said when runs do not go to ``remote``."""
    shown = readable(remote)
    return (f"runs are not pushed to {shown}: it is not enabled for gittrack "
            f"(`gittrack remote setup {shown}`)")


def _key(remote: str) -> str:
    return f"remote.{remote}.{ENABLED}"


def refspecs(repo: Repository, remote: str, *, push: bool) -> dict[str, list[str]]:
    """The ``remote.<name>.*`` values gittrack adds: ``{"fetch": [...], "push": [...]}``."""
    if remote not in transport.remotes(repo):
        raise UsageError(f"{remote!r} is not a configured remote: `git remote add {remote} URL`")
    wanted = {"fetch": [fetch_refspec(mirror_key(repo, remote))], "push": []}
    if push:
        wanted["push"] = list(PUSH_REFSPECS)
    return wanted


def _values(repo: Repository, key: str) -> list[str]:
    return config.values(repo, key)


def setup(repo: Repository, remote: str, *, push: bool) -> list[str]:
    """Add the refspecs that are missing; returns ``key = value`` lines added."""
    added = []
    for kind, values in refspecs(repo, remote, push=push).items():
        key = f"remote.{remote}.{kind}"
        present = _values(repo, key)
        for value in values:
            if value not in present:
                config.write(repo, ["--add", "--", key, value],
                                       what=f"setting {key}")
                added.append(readable(f"{key} = {value}"))  # a name that is not UTF-8: \xNN
    if not config.flag(repo, _key(remote)):
        config.write(repo, ["--bool", "--", _key(remote), "true"],
                     what=f"setting {_key(remote)}")
        added.append(readable(f"{_key(remote)} = true"))
    return added


def undo(repo: Repository, remote: str) -> list[str]:
    """Remove every refspec gittrack adds (fetch and push); returns the lines removed."""
    removed = []
    for kind, values in refspecs(repo, remote, push=True).items():
        key = f"remote.{remote}.{kind}"
        for value in values:
            if value in _values(repo, key):
                config.write(repo, ["--fixed-value", "--unset-all", "--", key, value],
                                       what=f"unsetting {key}")
                removed.append(readable(f"{key} = {value}"))
    if config.flag(repo, _key(remote)):  # what setup wrote; a user's false stays
        config.write(repo, ["--unset-all", "--", _key(remote)], what=f"unsetting {_key(remote)}")
        removed.append(readable(f"{_key(remote)} = true"))
    return removed
