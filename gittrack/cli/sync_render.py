"""What push, pull and fetch print: one line per kind of change, then one per problem."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from gittrack.git import namespace
from gittrack.sync.blobsync import HeldBack
from gittrack.sync.compare import RefState, Standing, kind_and_name
from gittrack.sync.mirror import to_mirror
from gittrack.sync.pull import KeptBecause, PullReport, Rebased
from gittrack.sync.push import PushReport


def count(states: Iterable[RefState]) -> str:
    """``2 runs, 1 artifact``."""
    return count_refs(s.ref for s in states)


def count_refs(names: Iterable[str]) -> str:
    kinds = Counter(kind_and_name(name).split(" ", 1)[0] for name in names)
    single = {"code": "code commit"}  # refs/gittrack/code/<sha>: a commit runs were made on
    plural = {"run": "runs", "artifact": "artifacts", "alias": "aliases", "code": "code commits"}
    order = ["run", "artifact", "alias", "code"]
    ranked = sorted(kinds.items(), key=lambda kn: (order.index(kn[0]) if kn[0] in order else 9))
    return ", ".join(f"{n} {plural.get(k, k) if n != 1 else single.get(k, k)}"
                     for k, n in ranked)


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
        if state.standing is Standing.DELETED:
            lines.append(f"forced {kind_and_name(state.ref)}: sent back (it was deleted on "
                         f"{report.remote}) at {short(state.local)}")
            continue
        lines.append(f"forced {kind_and_name(state.ref)}: replaced the remote's "
                     f"{short(state.remote)} with {short(state.local)}")
    if not report.sent and not report.held:
        lines.append(f"everything up to date with {report.url} ({report.up_to_date} refs)")
    return (lines + [_held(s, report.remote) for s in report.held]
            + [held_back_line(h) for h in report.held_back] + list(report.advice))


def held_back_line(held: HeldBack) -> str:
    """``not sent: run abc: media/x/0_0.png (blob 9f86d0818…) is neither in the store ...``."""
    more = f" (and {held.others} more file(s))" if held.others else ""
    return (f"not sent: {kind_and_name(held.ref)}: its file {held.path} (blob "
            f"{held.blob[:12]}…){more} {_why(held)}")


def _why(held: HeldBack) -> str:
    if held.lost:
        return (f"is {held.reason}: put the blob back (from a backup, or push from the "
                "machine that logged it), then `gittrack push` again")
    return f"could not be stored: {held.reason}; `gittrack push` again"


def held_back_dict(held: HeldBack) -> dict[str, Any]:
    kind, _, name = kind_and_name(held.ref).partition(" ")
    return {"ref": held.ref, kind: name, "path": held.path, "blob": held.blob,
            "reason": held.reason, "lost": held.lost, "other_files": held.others}


def _held(state: RefState, remote: str) -> str:
    if state.standing is Standing.BEHIND:
        return (f"not sent: {kind_and_name(state.ref)} has newer commits on {remote}: "
                f"`gittrack pull {remote}` first")
    if state.standing is Standing.DELETED:
        return (f"not sent: {kind_and_name(state.ref)} was deleted on {remote} since the last "
                f"sync: `gittrack pull {remote}` deletes it here too (unless it has local "
                f"changes), `gittrack push --force {remote}` sends it back")
    if state.ref.startswith(namespace.ARTIFACTS):
        return (f"not sent: {kind_and_name(state.ref)} has versions on {remote} that you lack "
                f"(here {short(state.local)}, there {short(state.remote)}): `gittrack pull "
                f"{remote}` puts yours on top of them (renumbered), then `gittrack push "
                f"{remote}`")
    if state.standing in (Standing.LOCAL_ONLY, Standing.AHEAD):
        name = kind_and_name(state.ref).partition(" ")[2].partition(":")[0]
        return (f"not sent: {kind_and_name(state.ref)} names a version of {name} that "
                f"{remote} lacks (artifact {name} is not sent): `gittrack pull {remote}` "
                "moves it with your version, then `gittrack push`")
    return (f"not sent: {kind_and_name(state.ref)} diverged (here {short(state.local)}, on "
            f"{remote} {short(state.remote)}): `gittrack pull {remote}` to see both, "
            f"`gittrack push --force {remote}` to replace the remote's")


def pull_lines(report: PullReport) -> list[str]:
    lines = []
    verb = "would update" if report.fetch_only else "updated"
    taken = (report.of(Standing.REMOTE_ONLY, Standing.BEHIND) if report.fetch_only
             else list(report.updated))
    if taken:
        lines.append(f"{verb} {count(taken)} from {report.url}")
    for state in report.forced:
        lines.append(f"forced {kind_and_name(state.ref)}: replaced the local "
                     f"{short(state.local)} with the remote's {short(state.remote)} (restore: "
                     f"`git update-ref {state.ref} {state.local}`)")
    lines += [rebased_line(r, report.remote) for r in report.rebased]
    ahead = report.of(Standing.AHEAD)
    if ahead:
        lines.append(f"{count(ahead)} ahead of {report.remote}: `gittrack push` sends them")
    if report.blobs_downloaded:
        lines.append(f"downloaded {report.blobs_downloaded} blob(s) into the local cache")
    for state in report.diverged:
        mirror_ref = to_mirror(report.key, state.ref)
        if report.fetch_only and state.ref.startswith(namespace.ARTIFACTS):
            lines.append(
                f"diverged: {kind_and_name(state.ref)} (here {short(state.local)}, on "
                f"{report.remote} {short(state.remote)}, kept as {mirror_ref}): `gittrack "
                "pull` puts the versions made here on top of the remote's (renumbered) when "
                "nothing else diverged")
            continue
        lines.append(
            f"diverged: {kind_and_name(state.ref)} (here {short(state.local)}, on "
            f"{report.remote} {short(state.remote)}, kept as {mirror_ref}); local one kept: "
            f"`gittrack pull --force` takes the remote's, `gittrack push --force` sends yours")
    lines += deletion_lines(report)
    if not lines:
        lines.append(f"up to date with {report.url}")
    return lines + list(report.advice)


def rebased_line(rebased: Rebased, remote: str) -> str:
    """``rebased artifact model on origin's v5: yours model:v5 is now model:v6 (push sends
    it)``, with what collapsed and what removal was taken."""
    plan = rebased.plan
    name = plan.name
    parts = []
    if plan.renumbered:
        moved = ", ".join(f"{name}:v{a} is now {name}:v{b}" if a != b else f"{name}:v{a} kept"
                          for a, b in plan.renumbered)
        parts.append(f"yours on top of {remote}'s: {moved} (`gittrack push` sends it)")
    if plan.merged:
        same = ", ".join(f"{name}:v{a} = {remote}'s {name}:v{b}" for a, b in plan.merged)
        parts.append(f"same files, kept one: {same}")
    if plan.removed:
        gone = ", ".join(f"{name}:v{n}" for n in plan.removed)
        parts.append(f"removed on {remote}, removed here too: {gone}")
    if rebased.aliases:
        parts.append(f"{len(rebased.aliases)} alias(es) followed")
    return f"rebased artifact {name}: " + "; ".join(parts or ["took the remote's chain"])


def rebased_dict(rebased: Rebased) -> dict[str, Any]:
    plan = rebased.plan
    return {"artifact": plan.name, "ref": rebased.state.ref, "before": plan.old_head,
            "after": plan.new_head,
            "renumbered": [{"from": a, "to": b} for a, b in plan.renumbered],
            "collapsed": [{"from": a, "into": b} for a, b in plan.merged],
            "removed": list(plan.removed),
            "aliases": {ref: new for ref, (_, new) in sorted(rebased.aliases.items())}}


def deletion_lines(report: PullReport) -> list[str]:
    """Refs the remote deleted: deleted here too (named), or kept here and why."""
    lines = []
    if report.deleted:
        verb = "would delete" if report.fetch_only else "deleted"
        names = ", ".join(kind_and_name(s.ref) for s in report.deleted[:10])
        more = f" and {len(report.deleted) - 10} more" if len(report.deleted) > 10 else ""
        lines.append(f"{verb} {count(report.deleted)}, deleted on {report.remote}: "
                     f"{names}{more}"
                     + (f" ({report.pruned} objects pruned)" if report.pruned else ""))
    unsure = [k for k in report.kept if k.why is KeptBecause.UNSURE]
    if unsure:
        lines.append(f"not on {report.remote} any more: {count_refs(k.ref for k in unsure)}, "
                     "kept here "
                     f"({KeptBecause.UNSURE.value})")
    for kept in report.kept:
        if kept.why is not KeptBecause.UNSURE:
            lines.append(f"deleted on {report.remote}: {kind_and_name(kept.ref)}, kept here "
                         f"because {kept.why.value}; {_delete_hint(kept.ref)} deletes it "
                         "here, `gittrack push --force` sends it back")
    for ref in report.refused:
        lines.append(f"not updated: {kind_and_name(ref)} moved here during the pull; "
                     "`gittrack pull` again")
    for ref, lock in report.locked:
        lines.append(f"not updated: {kind_and_name(ref)} is locked: {lock} exists (another "
                     "process is writing it; if no git or gittrack process is running, a "
                     "killed one left it: remove the file, then `gittrack pull` again)")
    for state in report.live:
        lines.append(f"not updated: {kind_and_name(state.ref)} is being written here (or "
                     f"crashed: `gittrack recover`); {report.remote}'s {short(state.remote)} "
                     "stays in the mirror: `gittrack pull` again after it finishes")
    return lines


def _delete_hint(ref: str) -> str:
    kind, _, name = kind_and_name(ref).partition(" ")
    if kind == "alias":
        artifact, _, alias = name.partition(":")
        return f"`gittrack artifact alias {artifact} {alias} --delete`"
    return f"`gittrack artifact rm {name}`" if kind == "artifact" else f"`gittrack rm {name}`"


def state_dict(state: RefState) -> dict[str, Any]:
    return {"ref": state.ref, "local": state.local, "remote": state.remote,
            "standing": state.standing.name.lower()}


def push_dict(report: PushReport) -> dict[str, Any]:
    return {"remote": report.remote, "url": report.url,
            "sent": [state_dict(s) for s in report.sent],
            "held": [state_dict(s) for s in report.held],
            "forced": [state_dict(s) for s in report.forced], "up_to_date": report.up_to_date,
            "blobs": {"uploaded": report.blobs.uploaded, "bytes": report.blobs.uploaded_bytes,
                      "local_only": report.blobs.local_only},
            "held_back": [held_back_dict(h) for h in report.held_back],
            "advice": list(report.advice)}


def pull_dict(report: PullReport) -> dict[str, Any]:
    return {"remote": report.remote, "url": report.url, "fetch_only": report.fetch_only,
            "refs": [state_dict(s) for s in report.states], "up_to_date": report.up_to_date,
            "updated": [s.ref for s in report.updated], "forced": [s.ref for s in report.forced],
            "diverged": [s.ref for s in report.diverged],
            "rebased": [rebased_dict(r) for r in report.rebased],
            "deleted_remotely": list(report.deleted_remotely),
            "deleted": [s.ref for s in report.deleted],
            "kept": [{"ref": k.ref, "local": k.local, "why": k.why.name.lower()}
                     for k in report.kept],
            "refused": list(report.refused), "live": [s.ref for s in report.live],
            "locked": [{"ref": ref, "lock": lock} for ref, lock in report.locked],
            "pruned_objects": report.pruned,
            "blobs_downloaded": report.blobs_downloaded, "advice": list(report.advice)}


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"
