"""What the pre-push hook does: push runs and artifacts with the code being pushed.

``git config gittrack.prePush``: ``all`` (default) pushes every run and artifact; ``code`` only
the runs whose code commit the push makes available on the remote (read from the hook's stdin:
``<local ref> <local sha> <remote ref> <remote sha>`` per line) and their artifacts; ``off``
nothing. Runs go only to a remote enabled for gittrack (``remote setup NAME``, the first
remote by default: ``sync.remote_setup``); to any other remote the hook sends none and says so
in one line, and the code push goes on. The hook's own ``git push`` passes ``--no-verify``,
so it does not run itself again.
In every mode, a push that would create again on the remote refs deleted there since the last
sync (plain ``git push`` with the refspecs of ``remote setup --push``) is refused.

Every hooked ``git push`` pays for this module, so it does the cheap things first and loads
the push machinery only when there is something to push. The hook's shell script decides
``off``, and "every local ref is on the remote at its value", without an interpreter
(``hooks/pre-push``); here one ``mirror.glance`` (``git ls-remote`` and the local listings)
and ``all_there`` decide the same for pre-commit's direct call. ``code`` looks only at the
runs the remote lacks and asks its ancestry question once per distinct code commit
(``coderefs.code_commits``), not once per run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from gittrack.errors import DeletedOnRemoteError, UsageError
from gittrack.formats.values import readable
from gittrack.git import config, history, namespace, refs, transport
from gittrack.git.repo import Repository
from gittrack.sync import mirror, remote_setup
from gittrack.types import CommitId, RunId

if TYPE_CHECKING:
    from gittrack.sync.push import PushReport

MODES = ("all", "code", "off")
_ZERO = "0" * 40


def mode(repo: Repository) -> str:
    found = config.value(repo, "gittrack.prePush")  # any bytes, as git keeps them
    if found is None:
        return "all"
    value = found.strip().lower()
    if value not in MODES:
        raise UsageError(f"git config gittrack.prePush is '{readable(value)}'; use one of "
                         f"{', '.join(MODES)}")
    return value


def strict(repo: Repository) -> bool:
    return config.flag(repo, "gittrack.hookStrict")


def pushed_commits(lines: Iterable[str]) -> list[str]:
    """The local commits a push sends (deletions, whose sha is all zeros, send none)."""
    found = []
    for line in lines:
        fields = line.split()
        if len(fields) == 4 and fields[1] != _ZERO and not fields[0].startswith(
                namespace.EVERY):
            found.append(fields[1])
    return found


def runs_on(repo: Repository, commits: list[str],
            among: Mapping[RunId, CommitId] | None = None) -> list[str]:
    """Ids of the runs whose code commit is one of ``commits`` or an ancestor of one.

    The runs' code commits are read from the run cache's ``code`` column
    (``coderefs.code_commits``): one ancestry question per distinct code commit, none per run.
    ``among``: only these runs (run id → head), e.g. those the remote lacks as they are here
    (the hook: a code push costs what the runs to send cost, not what the repository holds)."""
    if not commits:
        return []
    from gittrack.runs.coderefs import code_commits

    by_run = code_commits(repo, among)
    distinct = {c for c in by_run.values() if c is not None}
    reached = {code for code in distinct if any(history.reaches(repo, c, code) for c in commits)}
    return [run for run, code in by_run.items() if code in reached]


def run_hook(repo: Repository, remote: str | None,
             lines: list[str]) -> PushReport | str | None:
    """The hook's work: a report, a line to say (the remote is not enabled for gittrack), or
    ``None`` when there is nothing to do."""
    carried = _carried(lines)
    _refuse_deleted(repo, remote, carried)
    how = mode(repo)
    if how == "off":
        return None
    name = remote or transport.default_remote(repo)
    if not carried and not remote_setup.is_enabled(repo, name):
        return remote_setup.not_enabled(name)
    if carried:
        return _blobs_only(repo, remote, carried)
    seen = mirror.glance(repo, transport.check_remote(repo, name))
    if seen.same is not None or all_there(repo, seen.listed):
        return None  # every ref is on the remote already: nothing to push in any mode
    from gittrack.sync.push import push

    runs: list[str] = []
    if how == "code":  # the runs not on the remote as they are here, on the pushed code
        runs = runs_on(repo, pushed_commits(lines), _not_there(repo, seen.listed))
        if not runs:
            return None
    return push(repo, remote, runs, no_verify=True, glanced=seen)


def all_there(repo: Repository, listed: str | None) -> bool:
    """Whether the remote (``listed``: its ``ls-remote`` lines) has every local ref under
    ``refs/gittrack/`` at the local value: then a push, in any mode, sends nothing. Checked
    when ``glance`` cannot say (loose refs here, a mirror to bring up to date): the mirror's
    bookkeeping waits for the next ``gittrack push`` or ``pull``, the hook ends at once. The
    hook's shell script makes the same comparison before starting Python (``hooks/pre-push``)."""
    if listed is None:
        return False
    there = transport.parse_ls_remote(listed, namespace.ROOT)
    return all(there.get(ref) == sha for ref, sha in refs.list_refs(repo, namespace.ROOT).items())


def _not_there(repo: Repository, listed: str | None) -> dict[RunId, CommitId]:
    """The local runs (id → head) the remote does not have at that head."""
    there = transport.parse_ls_remote(listed or "", namespace.RUNS)
    from gittrack.runs.ids import is_valid_run_id

    return {RunId(name): sha for ref, sha in refs.list_refs(repo, namespace.RUNS).items()
            if there.get(ref) != sha and is_valid_run_id(name := ref[len(namespace.RUNS):])}


def _carried(lines: list[str]) -> list[list[str]]:
    """Lines for refs/gittrack/* refs: the push itself carries runs (``remote setup --push``)."""
    return [f for f in (line.split() for line in lines)
            if len(f) == 4 and f[2].startswith(namespace.ROOT) and f[1] != _ZERO]


def _refuse_deleted(repo: Repository, remote: str | None,
                    carried: list[list[str]]) -> None:
    """Refs the push creates on the remote that a teammate deleted there (``rm --remote``,
    ``purge``, ``artifact rm``) since the last sync: refuse the whole push, strict or not. A
    git user can fix it (pull, or push --force on purpose), and sending them back would
    resurrect a purge, refs naming blobs it removed."""
    created = {f[2]: CommitId(f[1]) for f in carried
               if f[3] == _ZERO and not f[2].startswith(namespace.CODE)}
    if not created:
        return
    from gittrack.sync.compare import kind_and_name
    from gittrack.sync.push import deleted_on_remote

    name = remote or transport.default_remote(repo)
    deleted = deleted_on_remote(repo, name, created)
    if deleted:
        names = ", ".join(kind_and_name(s.ref) for s in deleted)
        raise DeletedOnRemoteError(
            f"this push would bring back on {name} what was deleted there since your last "
            f"sync: {names}; `gittrack pull` takes the deletion here, `gittrack push --force` "
            "sends them back on purpose")


def _blobs_only(repo: Repository, remote: str | None,
                carried: list[list[str]]) -> PushReport:
    """The push being made sends the refs (pushing them here too would make git's own
    "create" fail); only the blobs they name must get to the store first."""
    from gittrack.storage.reachability import names_blobs
    from gittrack.sync.blobsync import upload_missing
    from gittrack.sync.push import PushReport
    tips = [f[1] for f in carried if names_blobs(f[2])]
    known = [f[3] for f in carried if names_blobs(f[2]) and f[3] != _ZERO]
    blobs = upload_missing(repo, tips, remote_has=known)
    return PushReport(remote or "", remote or "", blobs=blobs, up_to_date=len(carried))

