"""What push, pull and fetch print: one line per kind of change, then one per problem."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from gittrack.sync.compare import RefState, Standing, kind_and_name
from gittrack.sync.mirror import to_mirror
from gittrack.sync.pull import PullReport
from gittrack.sync.push import PushReport


def count(states: Iterable[RefState]) -> str:
    """``2 runs, 1 artifact``."""
    kinds = Counter(kind_and_name(s.ref).split(" ", 1)[0] for s in states)
    plural = {"run": "runs", "artifact": "artifacts", "alias": "aliases"}
    order = ["run", "artifact", "alias"]
    ranked = sorted(kinds.items(), key=lambda kn: (order.index(kn[0]) if kn[0] in order else 9))
    return ", ".join(f"{n} {plural.get(k, k) if n != 1 else k}" for k, n in ranked)


def short(sha: str | None) -> str:
    return sha[:12] if sha else "nothing"


def push_lines(report: PushReport) -> list[str]:
    lines = []
    if report.blobs.local_only and report.blobs.checked:
        lines.append("note: artifact blobs stay in this clone's .git/gittrack/blobs, which "
                     "teammates cannot reach: configure shared storage with "
                     "`gittrack storage set URL` (see docs/storage.md)")
    if report.blobs.uploaded:
        lines.append(f"uploaded {report.blobs.uploaded} blob(s), "
                     f"{_size(report.blobs.uploaded_bytes)}")
    if report.sent:
        lines.append(f"sent {count(report.sent)} to {report.url}")
    for state in report.forced:
        lines.append(f"forced {kind_and_name(state.ref)}: replaced the remote's "
                     f"{short(state.remote)} with {short(state.local)}")
    if not report.sent and not report.held:
        lines.append(f"everything up to date with {report.url} ({report.up_to_date} refs)")
    return lines + [_held(s, report.remote) for s in report.held]


def _held(state: RefState, remote: str) -> str:
    if state.standing is Standing.BEHIND:
        return (f"not sent: {kind_and_name(state.ref)} has newer commits on {remote}: "
                f"`gittrack pull {remote}` first")
    return (f"not sent: {kind_and_name(state.ref)} diverged (here {short(state.local)}, on "
            f"{remote} {short(state.remote)}): `gittrack pull {remote}` to see both, "
            f"`gittrack push --force {remote}` to replace the remote's")


def pull_lines(report: PullReport) -> list[str]:
    lines = []
    verb = "would update" if report.fetch_only else "updated"
    taken = report.of(Standing.REMOTE_ONLY, Standing.BEHIND)
    if taken:
        lines.append(f"{verb} {count(taken)} from {report.url}")
    for state in report.forced:
        lines.append(f"forced {kind_and_name(state.ref)}: replaced the local "
                     f"{short(state.local)} with the remote's {short(state.remote)} (restore: "
                     f"`git update-ref {state.ref} {state.local}`)")
    ahead = report.of(Standing.AHEAD)
    if ahead:
        lines.append(f"{count(ahead)} ahead of {report.remote}: `gittrack push` sends them")
    if report.blobs_downloaded:
        lines.append(f"downloaded {report.blobs_downloaded} blob(s) into the local cache")
    for state in report.diverged:
        mirror_ref = to_mirror(report.key, state.ref)
        lines.append(
            f"diverged: {kind_and_name(state.ref)} (here {short(state.local)}, on "
            f"{report.remote} {short(state.remote)}, kept as {mirror_ref}); local one kept: "
            f"`gittrack pull --force` takes the remote's, `gittrack push --force` sends yours")
    for ref in report.deleted_remotely:
        lines.append(f"deleted on {report.remote}: {kind_and_name(ref)} (kept here; "
                     "`gittrack rm` deletes it here too, `gittrack push` restores it)")
    if not lines:
        lines.append(f"up to date with {report.url}")
    return lines


def state_dict(state: RefState) -> dict[str, Any]:
    return {"ref": state.ref, "local": state.local, "remote": state.remote,
            "standing": state.standing.name.lower()}


def push_dict(report: PushReport) -> dict[str, Any]:
    return {"remote": report.remote, "url": report.url,
            "sent": [state_dict(s) for s in report.sent],
            "held": [state_dict(s) for s in report.held],
            "forced": [state_dict(s) for s in report.forced], "up_to_date": report.up_to_date,
            "blobs": {"uploaded": report.blobs.uploaded, "bytes": report.blobs.uploaded_bytes,
                      "local_only": report.blobs.local_only}}


def pull_dict(report: PullReport) -> dict[str, Any]:
    return {"remote": report.remote, "url": report.url, "fetch_only": report.fetch_only,
            "refs": [state_dict(s) for s in report.states],
            "updated": [s.ref for s in report.updated], "forced": [s.ref for s in report.forced],
            "diverged": [s.ref for s in report.diverged],
            "deleted_remotely": list(report.deleted_remotely),
            "blobs_downloaded": report.blobs_downloaded}


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"
