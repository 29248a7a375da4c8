"""Push, fetch and ls-remote through the ``git`` command line.

Transport goes through ``git`` itself, not pygit2 or dulwich, so the user's credentials, SSH
config, credential helpers and ``insteadOf`` rules apply exactly as for code, server hooks run,
and a server-side rejection is an exit code (see ``docs/decisions.md``). Every command goes
through ``command.run`` (which scrubs the inherited ``GIT_*`` variables); a failure here is a
``TransportError`` (exit 10).
"""

from __future__ import annotations

import dataclasses
import errno
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pygit2

from gittrack.errors import PushRejectedError, RepositoryError, TransportError, UsageError
from gittrack.formats.values import readable
from gittrack.git import command, config, namespace
from gittrack.git.repo import Repository, common_dir
from gittrack.urls import strip_credentials

# Remote helpers that run a command or use an inherited descriptor: never from an argument.
_REFUSED_HELPERS = frozenset({"ext", "fd"})


@dataclasses.dataclass(frozen=True, slots=True)
class PushResult:
    """What one ``git push --porcelain`` did, by full remote ref name."""

    updated: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    up_to_date: tuple[str, ...] = ()
    reasons: Mapping[str, str] = dataclasses.field(default_factory=dict)


def run_git(repo: Repository, args: Sequence[str], *, what: str,
            check: bool = True, stdin: str | None = None,
            writes_here: bool = False) -> subprocess.CompletedProcess[str]:
    """``git -C <repo> args`` for transport; a failure is a ``TransportError`` with git's
    stderr, or, for a command that ``writes_here`` (a fetch), a ``RepositoryError`` when git
    says that this repository's disk refused the write (full, read-only): the transport did
    its part."""
    done = command.run(repo, args, what=what, error=TransportError, check=False, stdin=stdin)
    if check and done.returncode != 0:
        if writes_here and _local_disk_refused(done.stderr):
            raise RepositoryError(f"{what} failed: cannot write into "
                                  f"{common_dir(repo) / 'objects'}: {command.clean(done.stderr)}")
        raise TransportError(f"{what} failed: {command.clean(done.stderr)}")
    return done


# What git prints when the disk under this repository refuses a write (its strerror texts).
_DISK_REFUSED = tuple(os.strerror(getattr(errno, name)) for name in
                      ("ENOSPC", "EROFS", "EDQUOT", "EFBIG") if hasattr(errno, name))


def _local_disk_refused(stderr: str) -> bool:
    """git's own lines (not ``remote:`` ones, which are the server's) name a refused write."""
    return any(reason in line for line in stderr.splitlines()
               if not line.lstrip().startswith("remote:") for reason in _DISK_REFUSED)


def remotes(repo: Repository) -> list[str]:
    return [name for name in repo.remotes.names() if name]


def default_remote(repo: Repository) -> str:
    """The current branch's upstream remote, else ``origin``, else the only remote."""
    names = remotes(repo)
    branch = None
    if not repo.head_is_unborn and not repo.head_is_detached:
        branch = repo.head.shorthand
    elif repo.head_is_unborn:
        try:
            branch = str(repo.lookup_reference("HEAD").target).removeprefix("refs/heads/")
        except (KeyError, pygit2.GitError):
            branch = None
    upstream = upstream_remote(repo, branch) if branch is not None else None
    if upstream in names:
        return str(upstream)
    if "origin" in names:
        return "origin"
    if len(names) == 1:
        return names[0]
    if not names:
        raise UsageError("this repository has no git remote: add one with "
                         "`git remote add origin URL`, or name one (a path or URL works too)")
    raise UsageError(f"this repository has several remotes ({', '.join(names)}) and the "
                     "branch has no upstream: name the one to use")


def remote_url(repo: Repository, remote: str) -> str:
    """The remote's URL without credentials (a URL or path given as ``remote`` is itself)."""
    if remote in remotes(repo):
        return strip_credentials(configured_url(repo, remote) or remote)
    return strip_credentials(remote)


def named_remote(repo: Repository, remote: str) -> str:
    """``remote`` itself if it is a configured remote's name; a URL or path naming the same
    repository as a configured remote (``../r.git/``, ``file:///abs/r``, ``/abs/r.git``) is
    that remote's name (the first by name if several are), so everything known about the
    remote (its mirror, its deletions) is found whatever way it is spelled; any other URL or
    path is itself. Only local paths are resolved as git does (``same_repository``); other
    URLs must be equal, credentials aside."""
    names = remotes(repo)
    if remote in names:
        return remote
    wanted = _address(remote)
    for name in sorted(names):
        url = configured_url(repo, name)
        if url is not None and _address(url) == wanted:
            return name
    return remote


def _address(url: str) -> str:
    """What identifies the repository at ``url``: for a local path or ``file://`` URL, the
    real path of the folder git would open (it tries ``/.git``, as given, ``.git/.git`` and
    ``.git`` appended, in that order; relative paths from the current folder); for any other
    URL, the URL without credentials."""
    path = _local_path(url)
    if path is None:
        try:
            return "url:" + strip_credentials(url)
        except ValueError:  # a URL it cannot parse (a bad port): as given
            return "url:" + url
    base = path.rstrip("/") or "/"
    for suffix in ("/.git", "", ".git/.git", ".git"):
        candidate = base + suffix
        if os.path.isdir(candidate) and os.path.exists(os.path.join(candidate, "HEAD")):
            return "path:" + os.path.realpath(candidate)
    return "path:" + os.path.realpath(base)


def _local_path(url: str) -> str | None:
    """The path of a local ``url`` (a path, or ``file://``), else ``None``. As git: a colon
    before the first slash makes an scp-like ``host:path``, not a path."""
    if url.startswith("file://"):
        rest = url[len("file://"):]
        return rest[len("localhost"):] if rest.startswith("localhost/") else rest
    if "://" in url:
        return None
    colon, slash = url.find(":"), url.find("/")
    if colon > 0 and (slash < 0 or colon < slash):
        return None
    return url


# Names and values git keeps are bytes: a branch or remote name, or a URL, that is not UTF-8
# reaches Python as lone surrogates (pygit2 decodes them with ``surrogateescape``) and must go
# back to libgit2 as the same bytes, never through a strict encode (docs/decisions.md).
def display_url(repo: Repository, remote: str) -> str:
    """``remote_url`` for messages and reports: bytes that are not UTF-8 as ``\\xNN``."""
    return str(readable(remote_url(repo, remote)))


def upstream_remote(repo: Repository, branch: str) -> str | None:
    """``branch.<branch>.remote``: the name of the branch's upstream remote, or ``None``."""
    return config.value(repo, f"branch.{branch}.remote")


def configured_url(repo: Repository, name: str) -> str | None:
    """The URL of the remote ``name`` (found by name: ``remotes[name]`` encodes it strictly)."""
    return next((remote.url for remote in repo.remotes if remote.name == name), None)


def check_remote(repo: Repository, remote: str) -> str:
    """``remote`` if it is a configured remote, a URL or an existing path; else UsageError."""
    positional(remote)
    if remote in remotes(repo) or "://" in remote or Path(remote).exists() or (
            ":" in remote and not remote.startswith("/")  # scp-like user@host:path
    ) or named_remote(repo, remote) != remote:  # a path git completes (``r`` for ``r.git``)
        return remote
    known = ", ".join(remotes(repo)) or "none"
    raise UsageError(f"no git remote named {remote!r} (remotes: {known}); add it with "
                     f"`git remote add {remote} URL`, or give a URL or path")


def positional(remote: str) -> str:
    """``remote`` if git can only read it as a repository: never an option (``-...``: git
    would take ``--upload-pack=CMD`` from it and run CMD), nor a transport that runs a
    command or reads a file descriptor (``ext::``, ``fd::``). Every git command here also
    puts ``--`` before the remote; this refuses it with a message instead of git's error."""
    if remote.startswith("-") or not remote.strip():
        raise UsageError(f"{remote!r} is not a remote: a remote's name, URL or path cannot "
                         "start with '-' or be empty")
    helper = remote.partition("::")[0].lower() if "::" in remote else ""
    if helper in _REFUSED_HELPERS:
        raise UsageError(f"{remote!r} is not a remote gittrack uses: the {helper}:: "
                         "transport runs a command or opens a file descriptor")
    return remote


def ls_remote(repo: Repository, remote: str, prefix: str = namespace.ROOT,
              also: Sequence[str] = ()) -> dict[str, str]:
    """The remote's refs under ``prefix`` and those named in ``also``: ref name → commit id
    (one round trip)."""
    return parse_ls_remote(ls_remote_lines(repo, remote, prefix, also), prefix, also)


def parse_ls_remote(lines: str, prefix: str, also: Sequence[str] = ()) -> dict[str, str]:
    """``ls_remote``'s result from ``ls_remote_lines``' lines."""
    pairs = [line.partition("\t") for line in lines.splitlines()]
    wanted = set(also)
    return {name: sha for sha, _, name in pairs if name.startswith(prefix) or name in wanted}


def ls_remote_lines(repo: Repository, remote: str, prefix: str = namespace.ROOT,
                    also: Sequence[str] = ()) -> str:
    """``git ls-remote``'s own lines (``<id>\t<name>``, sorted by name as the remote sent
    them) for ``ls_remote``'s refs; they may hold refs that merely end like ``prefix*``."""
    return run_git(repo, ["ls-remote", "--refs", "--", positional(remote), f"{prefix}*", *also],
                   what=f"listing {prefix}* on {display_url(repo, remote)}").stdout


def fetch(repo: Repository, remote: str, refspecs: Sequence[str], *,
          prune: bool = False) -> None:
    """``git fetch`` of ``refspecs`` only: no tags, no FETCH_HEAD, no configured refspecs."""
    args = ["fetch", "--no-tags", "--no-write-fetch-head", "--quiet"]
    if prune:
        args.append("--prune")
    run_git(repo, [*args, "--", positional(remote), *refspecs],
            what=f"fetching from {display_url(repo, remote)}", writes_here=True)


def fetch_objects(repo: Repository, remote: str, commits: Sequence[str]) -> None:
    """``git fetch`` of ``commits`` (ref tips ``ls_remote`` showed) and everything they reach,
    writing no ref: the caller writes them all at once (``refs.update_refs``).

    The ids go on stdin (``git fetch --stdin``, git 2.29+), so any number fits. git skips the
    transfer when the objects are here and complete (its own connectivity check).
    """
    positional(remote)
    if commits:
        run_git(repo, ["fetch", "--stdin", "--no-tags", "--no-write-fetch-head", "--quiet",
                       "--", remote], stdin="".join(f"{c}\n" for c in commits),
                what=f"fetching from {display_url(repo, remote)}", writes_here=True)


def push(repo: Repository, remote: str, refspecs: Sequence[str], *,
         atomic: bool = True, check: bool = True, no_verify: bool = False,
         leases: Mapping[str, str | None] | None = None, dry_run: bool = False) -> PushResult:
    """One ``git push --porcelain`` of exactly ``refspecs`` (``:ref`` deletes ``ref``).

    ``atomic``: all refs move or none. ``leases``: ref → the value it must have on the
    remote (``None``: must not exist): a compare-and-swap, which also lets that ref move to
    a commit that is not a descendant. A leased ref's refspec is sent without its ``+``:
    git ignores the lease of a ``+`` refspec and forces it whatever the remote holds
    (measured with git 2.39). ``no_verify`` skips the *local* pre-push hook (gittrack's hook
    pushing runs must not run itself again). A rejection raises ``PushRejectedError``
    naming the refs, unless ``check=False``. ``dry_run``: ``git push --dry-run``, every check
    git makes before sending (fast-forward, leases, against the remote's refs now) and no
    update; the remote's own hooks do not run.
    """
    positional(remote)
    if not refspecs:
        return PushResult()
    leased = set(leases or ())
    refspecs = [spec[1:] if spec.startswith("+") and spec.rpartition(":")[2] in leased
                else spec for spec in refspecs]
    args = ["push", "--porcelain"]
    if atomic:
        args.append("--atomic")
    if no_verify:
        args.append("--no-verify")
    if dry_run:
        args.append("--dry-run")
    for ref, old in (leases or {}).items():
        args.append(f"--force-with-lease={ref}:{old or ''}")
    url = display_url(repo, remote)
    done = run_git(repo, [*args, "--", remote, *refspecs], what=f"pushing to {url}",
                   check=False)
    result = parse_porcelain(done.stdout)
    if done.returncode != 0 and not (result.rejected or result.updated or result.up_to_date):
        raise TransportError(f"pushing to {url} failed: {command.clean(done.stderr)}")
    if check and (result.rejected or done.returncode != 0):
        raise PushRejectedError(_rejection(url, result, done.stderr), result.rejected)
    return result


def _rejection(url: str, result: PushResult, stderr: str) -> str:
    refs = ", ".join(f"{r} ({result.reasons.get(r, 'rejected')})" for r in result.rejected[:5])
    more = f" and {len(result.rejected) - 5} more" if len(result.rejected) > 5 else ""
    hook = [line.removeprefix("remote: ") for line in stderr.splitlines()
            if line.startswith("remote: ") and line.strip() != "remote:"]
    said = f"; the remote said: {'; '.join(hook[-4:])}" if hook else ""
    return f"{url} rejected {refs or 'the push'}{more}{said}"


def parse_porcelain(stdout: str) -> PushResult:
    """``git push --porcelain`` lines: ``<flag>\\t<src>:<dst>\\t<summary> (<reason>)``."""
    updated, rejected, same, reasons = [], [], [], {}
    for line in stdout.splitlines():
        fields = line.split("\t")
        if len(fields) < 3 or len(fields[0]) != 1:
            continue
        flag, spec, summary = fields[0], fields[1], fields[2]
        dst = spec.rpartition(":")[2]
        if flag == "!":
            rejected.append(dst)
            reasons[dst] = summary.strip("[] ")
        elif flag == "=":
            same.append(dst)
        else:  # ' ' fast-forward, '+' forced, '*' new, '-' deleted
            updated.append(dst)
    return PushResult(tuple(updated), tuple(rejected), tuple(same), reasons)
