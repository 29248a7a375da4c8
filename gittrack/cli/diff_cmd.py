"""`gittrack diff`: what changed between two runs, for people, for pull requests, for tools."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import click

from gittrack.cli.context import CliContext
from gittrack.cli.render import dumps, format_duration
from gittrack.formats.display import format_value
from gittrack.runs.compare import histogram_counts, runs_or_branches, sparkline
from gittrack.runs.diff import (
    Change,
    CodeRange,
    MetricDelta,
    MetricStats,
    RunDiff,
    RunRef,
    SavedPatch,
    same,
    saved_patch,
)
from gittrack.runs.diff import diff_runs as compute_diff
from gittrack.runs.goals import Goal, Verdict

FORMATS = ("text", "markdown", "json")
MAX_VALUE_WIDTH = 80
_SIGNS = {"added": "+", "removed": "-", "changed": "~"}
_COLOURS = {"added": "green", "removed": "red", "changed": "yellow"}
VERDICT_COLOURS: dict[Verdict, str] = {"good": "green", "bad": "red", "neutral": "bright_black"}


@click.command("diff")
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, markdown for a pull-request comment, json for tools.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--code", "with_code", is_flag=True,
              help="Also show each run's saved patch of uncommitted changes (save_code).")
@click.option("--noise", is_flag=True, help="Show duration, timestamps and runtime too.")
@click.option("--metric", metavar="KEY",
              help="The metric that picks a branch's best run (default: the first metric "
                   "with a recorded goal).")
@click.pass_obj
def command(ctx: CliContext, run_a: str, run_b: str, fmt: str, as_json: bool,
            with_code: bool, noise: bool, metric: str | None) -> None:
    """Compare RUN_B with RUN_A (the baseline): config, summary, metadata, metrics, code.

    RUN_A and RUN_B are each an id, a unique id prefix, a name, or a branch (its best run by
    the recorded goal of --metric, as `compare --branch`). Deltas are B - A, green (✅) when
    towards the metric's recorded goal, red (❌) when away, grey without a goal. Each run's
    code commit, branch and data versions used are always shown. Metrics are the numeric
    history keys: last value, min and max in each run (NaN left out of min and max).
    Code commits are those reachable from B's code commit but not from A's (as
    `git log A..B`), oldest first, at most 50 listed. Only differences are shown; duration
    and timestamps only with --noise. Histograms show as sparklines of their bin counts.

    --code adds the code change: the commits between A's and B's code commits, then each
    run's saved patch against its commit ("no code saved" for a run without save_code).
    """
    repo = ctx.reader()
    a, b = runs_or_branches(repo, [run_a, run_b], metric)
    result = compute_diff(repo, a, b, noise=noise)
    fmt = "json" if as_json else fmt
    if with_code:
        patches = saved_patch(a), saved_patch(b)
        code_renderers: dict[str, Callable[[RunDiff, tuple[SavedPatch, SavedPatch]], str]] = {
            "json": _json_with_code, "markdown": _markdown_with_code, "text": _text_with_code}
        click.echo(code_renderers[fmt](result, patches))
        return
    renderers: dict[str, Callable[[RunDiff], str]] = {
        "json": lambda d: dumps(d.to_dict()), "markdown": render_markdown, "text": render_text,
    }
    click.echo(renderers[fmt](result))


# -- values ---------------------------------------------------------------------------------


def value(key: str, data: object, *, meta: bool = False) -> str:
    """A value for a person, long values cut; in metadata, the duration as 1m05s and the
    code commit short."""
    if meta and key == "duration" and isinstance(data, (int, float)):
        text = format_duration(float(data))
    elif meta and key == "code.commit" and isinstance(data, str):
        text = data[:12]
    else:
        text = format_value(data)
    text = " ".join(text.split("\n"))
    return text if len(text) <= MAX_VALUE_WIDTH else text[: MAX_VALUE_WIDTH - 1] + "…"


def shown(key: str, data: object, *, meta: bool = False) -> str:
    """``value``, but a histogram as a sparkline of its bin counts."""
    counts = histogram_counts(data)
    if counts is not None and (line := sparkline(counts)):
        return line
    return value(key, data, meta=meta)


def keyed(key: str, goal: Goal | None) -> str:
    """A key with its recorded goal: ``loss (minimize)``."""
    return f"{key} ({goal})" if goal else key


def judged(text: str, verdict: Verdict | None, styled: bool) -> str:
    """``text`` green/red/grey by the verdict on a terminal, else with ✅/❌."""
    if not text or verdict is None or verdict == "same":
        return text
    if styled:
        return click.style(text, fg=VERDICT_COLOURS[verdict])
    return text + {"good": " ✅", "bad": " ❌"}.get(verdict, "")


def signed(number: float | int | None) -> str:
    return "" if number is None else f"{number:+.6g}"


def percent(number: float | None) -> str:
    return "" if number is None else f"{number * 100:+.1f}%"


def arrow(number: float | int | None) -> str:
    """▲ up, ▼ down, = unchanged: neutral, since gittrack cannot know if up is good."""
    if number is None or number != number:
        return ""
    return "▲" if number > 0 else ("▼" if number < 0 else "=")


def _label(ref: RunRef) -> str:
    return f"{ref.name} ({ref.id})"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# -- text -----------------------------------------------------------------------------------


def render_text(diff: RunDiff) -> str:
    lines = _text_sides(diff)
    if diff.is_empty:
        return "\n".join([*lines, "", "no differences"])
    sections = [("config", _text_changes(diff.config)), ("summary", _text_changes(diff.summary)),
                ("metrics (B - A)", _text_metrics(diff.metrics)),
                ("data used", _text_changes(diff.data)),
                ("metadata", _text_changes(_listed_metadata(diff), meta=True)),
                ("code", _text_code(diff.code))]
    for title, body in sections:
        if body:
            lines += ["", click.style(title, bold=True), *body]
    return "\n".join(lines)


SIDE_KEYS = frozenset({"code.commit", "code.branch"})
"""Metadata the sides' lines always show (``_side_facts``): left out of the metadata section
(the JSON form keeps them in ``metadata``)."""


def _listed_metadata(diff: RunDiff) -> tuple[Change, ...]:
    """The metadata changes the text and markdown sections list: not the sides' facts."""
    return tuple(change for change in diff.metadata if change.key not in SIDE_KEYS)


def _side_facts(ref: RunRef) -> list[tuple[str, str]]:
    """What a side ran on, shown even when the same in both: commit, branch, data used."""
    commit = value("code.commit", ref.code_commit, meta=True) if ref.code_commit else "unknown"
    return [("commit", commit), ("branch", ref.branch or "unknown"),
            ("data used", ", ".join(ref.used) or "none")]


def _text_sides(diff: RunDiff) -> list[str]:
    labels = [_label(diff.a), _label(diff.b)]
    width = max(len(x) for x in labels)
    return [f"{side}  {label:<{width}}  " + "  ".join(f"{k} {v}" for k, v in _side_facts(ref))
            for side, label, ref in (("A", labels[0], diff.a), ("B", labels[1], diff.b))]


def _width(keys: Iterable[str]) -> int:
    return min(max((len(k) for k in keys), default=0), 40)


def _text_changes(changes: tuple[Change, ...], *, meta: bool = False) -> list[str]:
    width = _width(keyed(c.key, c.goal) for c in changes)
    return [_text_change(c, width, meta) for c in changes]


def _text_change(change: Change, width: int, meta: bool) -> str:
    sign = click.style(_SIGNS[change.kind], fg=_COLOURS[change.kind])
    head = f"  {sign} {keyed(change.key, change.goal):<{width}}  "
    if change.kind == "added":
        return head + shown(change.key, change.b, meta=meta)
    if change.kind == "removed":
        return head + shown(change.key, change.a, meta=meta)
    moved = f"{shown(change.key, change.a, meta=meta)} → {shown(change.key, change.b, meta=meta)}"
    extra = ", ".join(x for x in (signed(change.delta), percent(change.relative)) if x)
    return head + moved + ("  " + judged(f"({extra})", change.verdict, True) if extra else "")


def _text_metrics(metrics: tuple[MetricDelta, ...]) -> list[str]:
    changed = [m for m in metrics if m.changed]
    width = _width(keyed(m.key, m.goal) for m in changed)
    lines = [_text_metric(m, width) for m in changed]
    unchanged = len(metrics) - len(changed)
    if lines and unchanged:
        lines.append(f"  ({_plural(unchanged, 'metric')} unchanged)")
    return lines


def _text_metric(metric: MetricDelta, width: int) -> str:
    kind = "added" if metric.a is None else ("removed" if metric.b is None else "changed")
    sign = click.style(_SIGNS[kind], fg=_COLOURS[kind])
    head = f"  {sign} {keyed(metric.key, metric.goal):<{width}}  "
    if metric.a is None or metric.b is None:
        only, where = (metric.b, "B") if metric.a is None else (metric.a, "A")
        assert only is not None
        stats = "   ".join(f"{s} {format_value(v)}" for s, v in _stat_items(only))
        return f"{head}{stats}   (only in {where})"
    deltas = metric.deltas()
    parts = [_moved(f"{s} ", va, vb, deltas[s], metric.verdict if s == "last" else None)
             for (s, va), (_, vb) in zip(_stat_items(metric.a), _stat_items(metric.b),
                                         strict=True)]
    return head + "   ".join(parts)


def _stat_items(stats: MetricStats) -> list[tuple[str, object]]:
    return [("last", stats.last), ("min", stats.min), ("max", stats.max)]


def _moved(label: str, a: object, b: object, delta: float | int | None,
           verdict: Verdict | None = None) -> str:
    if same(a, b):
        return f"{label}{format_value(a)}"
    suffix = " " + judged(f"({signed(delta)})", verdict, True) if delta is not None else ""
    return f"{label}{format_value(a)} → {format_value(b)}{suffix}"


def code_headline(code: CodeRange, commit: Callable[[str], str]) -> str | None:
    """One sentence on the code between A and B; ``None`` when both ran on one commit."""
    if code.status == "same" or code.a == code.b:
        return None
    if code.a is None or code.b is None:
        return f"{'A' if code.a is None else 'B'}'s code commit is not recorded"
    a, b = commit(code.a), commit(code.b)
    if code.status == "unknown":
        return f"the commits between {a} and {b} are unknown: not in this repository"
    if code.ahead and code.behind:
        return (f"B's code ({b}) diverged from A's ({a}): "
                f"{_plural(code.ahead, 'commit')} only in B, {code.behind} only in A")
    if code.behind:
        return f"B's code ({b}) is {_plural(code.behind, 'commit')} behind A's ({a})"
    return f"B's code ({b}) is {_plural(code.ahead, 'commit')} ahead of A's ({a})"


def _text_code(code: CodeRange) -> list[str]:
    headline = code_headline(code, lambda sha: value('code.commit', sha, meta=True))
    if headline is None:
        return []
    lines = [f"  {headline}"] + [f"    {c.short} {c.subject}" for c in code.commits]
    return lines + ([f"    … and {code.more} more"] if code.more else [])


# -- markdown -------------------------------------------------------------------------------


def render_markdown(diff: RunDiff) -> str:
    """A GitHub-flavoured pull-request comment."""
    parts = [_md_heading(diff), _md_sides(diff)]
    if diff.is_empty:
        parts.append("_No differences._")
    for title, body in (("Config", _md_changes(diff.config, numeric=False)),
                        ("Summary", _md_changes(diff.summary, numeric=True)),
                        ("Metrics", _md_metrics(diff.metrics)),
                        ("Data used", _md_changes(diff.data, numeric=False, what="artifact")),
                        ("Metadata", _md_changes(_listed_metadata(diff), numeric=False, meta=True)),
                        ("Code", _md_code(diff.code))):
        if body:
            parts.append(f"#### {title}\n\n{body}")
    return "\n\n".join(parts) + "\n"


_MARKDOWN_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`*~"})
_BIDI = str.maketrans(dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E,
                                     0x200F, 0x061C], "\ufffd"))


def no_bidi(text: str) -> str:
    """``text`` with its bidirectional controls shown as U+FFFD: a teammate's name cannot
    reorder how the text around it reads."""
    return text.translate(_BIDI)


def _one_line(text: str) -> str:
    """One line, pipes escaped for a table, no raw HTML (nor an HTML comment: a name cannot
    forge the report's marker), no bidirectional control."""
    return no_bidi(" ".join(text.split())).replace("|", "\\|").replace("<", "&lt;")


def cell(text: str) -> str:
    """Text safe in a table cell: ``_one_line``, and no markup of a teammate's value taking
    effect (code, emphasis, strikethrough, a link or an image: their marks escaped)."""
    text = " ".join(text.split()).translate(_MARKDOWN_ESCAPES)
    return _one_line(re.sub(r"\](?=\()", r"\\]", text))


def code(text: str) -> str:
    """Inline code for a key, id or name: ``_one_line`` in a code span whose fence is longer
    than any run of backticks in ``text`` (nothing in it is markup)."""
    text = _one_line(text)
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_heading(diff: RunDiff) -> str:
    a, b = diff.a, diff.b
    return (f"### gittrack diff: {code(a.name)} ({code(a.id)}) → {code(b.name)} ({code(b.id)})"
            "\n\nA is the baseline; deltas are B − A, ✅ towards the metric's recorded goal, "
            "❌ away.")


def _md_sides(diff: RunDiff) -> str:
    rows = [[label, code(a), code(b)] if a not in ("unknown", "none") else [label, a, b]
            for (label, a), (_, b) in zip(_side_facts(diff.a), _side_facts(diff.b), strict=True)]
    return table(["", "A", "B"], rows, ["---"])


def table(header: list[str], rows: list[list[str]], align: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(align[min(i, len(align) - 1)] for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _md_value(change: Change, side: str, meta: bool) -> str:
    if (side == "a" and change.kind == "added") or (side == "b" and change.kind == "removed"):
        return "_absent_"
    return cell(shown(change.key, change.a if side == "a" else change.b, meta=meta))


def _md_delta(number: float | int | None, rel: float | None,
              verdict: Verdict | None = None) -> str:
    if number is None:
        return ""
    text = f"{arrow(number)} {signed(number)}".strip()
    return judged(text + (f" ({percent(rel)})" if rel is not None else ""), verdict, False)


def _md_changes(changes: tuple[Change, ...], *, numeric: bool, meta: bool = False,
                what: str = "key") -> str:
    if not changes:
        return ""
    header = [what, "A", "B"] + (["Δ"] if numeric else [])
    rows = [[_md_key(c.key, c.goal), _md_value(c, "a", meta), _md_value(c, "b", meta)]
            + ([_md_delta(c.delta, c.relative, c.verdict)] if numeric else []) for c in changes]
    return table(header, rows, ["---", "---", "---", "---:"])


def _md_key(key: str, goal: Goal | None) -> str:
    return code(key) + (f" ({goal})" if goal else "")


def _md_metrics(metrics: tuple[MetricDelta, ...]) -> str:
    changed = [m for m in metrics if m.changed]
    if not changed:
        return ""
    header = ["metric", "last A", "last B", "Δ last", "min A → B", "max A → B"]
    out = table(header, [_md_metric(m) for m in changed], ["---", "---:"])
    unchanged = len(metrics) - len(changed)
    return out + (f"\n\n_{_plural(unchanged, 'metric')} unchanged._" if unchanged else "")


def _md_metric(metric: MetricDelta) -> list[str]:
    a, b = metric.a, metric.b

    def stat(stats: MetricStats | None, name: str) -> str:
        return "_absent_" if stats is None else cell(format_value(getattr(stats, name)))

    deltas = metric.deltas()
    last = _md_delta(deltas["last"], None, metric.verdict)
    return [_md_key(metric.key, metric.goal), stat(a, "last"), stat(b, "last"), last,
            f"{stat(a, 'min')} → {stat(b, 'min')}", f"{stat(a, 'max')} → {stat(b, 'max')}"]


def _md_code(code_range: CodeRange) -> str:
    headline = code_headline(code_range, lambda sha: code(value('code.commit', sha, meta=True)))
    if headline is None:
        return ""
    headline = headline[0].upper() + headline[1:]
    if not code_range.commits:
        return headline + "."
    out = [headline + ":", ""] + [f"- {code(c.short)} {cell(c.subject)}"
                                  for c in code_range.commits]
    return "\n".join(out + ([f"- … and {code_range.more} more"] if code_range.more else []))


# -- saved code (--code) --------------------------------------------------------------------


def _json_with_code(diff: RunDiff, patches: tuple[SavedPatch, SavedPatch]) -> str:
    doc = diff.to_dict()
    doc["code"]["patches"] = {"a": patches[0].to_dict(), "b": patches[1].to_dict()}
    return dumps(doc)


def _same_commit(diff: RunDiff) -> list[str]:
    """The code section when the diff has none (its commits are listed there otherwise)."""
    code_range = diff.code
    if _text_code(code_range):
        return []
    if code_range.a is not None and code_range.a == code_range.b:
        text = f"  A and B ran on commit {value('code.commit', code_range.a, meta=True)}"
    else:
        text = "  neither run recorded its code commit"
    return ["", click.style("code", bold=True), text]


def _patch_note(patch: SavedPatch) -> str | None:
    """Why there is no patch to show, or ``None``."""
    if not patch.saved:
        return "no code saved (the run did not use save_code)"
    if patch.patch is None:
        return "code saved without its patch (too large to save)"
    if not patch.patch:
        return "no uncommitted changes"
    return None


def _text_with_code(diff: RunDiff, patches: tuple[SavedPatch, SavedPatch]) -> str:
    lines = [render_text(diff), *_same_commit(diff)]
    for side, ref, patch in (("A", diff.a, patches[0]), ("B", diff.b, patches[1])):
        on = f" on {patch.commit[:12]}" if patch.commit else ""
        lines += ["", click.style(f"patch of {side}  {_label(ref)}{on}", bold=True)]
        note = _patch_note(patch)
        if note is not None:
            lines.append(f"  {note}")
            continue
        lines += [_coloured(line) for line in (patch.text() or "").rstrip("\n").split("\n")]
    return "\n".join(lines)


def _coloured(line: str) -> str:
    """A unified-diff line as ``git diff`` colours it (plain when not on a terminal)."""
    if line.startswith(("+++", "---", "diff --git")):
        return click.style(line, bold=True)
    if line.startswith("+"):
        return click.style(line, fg="green")
    if line.startswith("-"):
        return click.style(line, fg="red")
    if line.startswith("@@"):
        return click.style(line, fg="cyan")
    return line


def _markdown_with_code(diff: RunDiff, patches: tuple[SavedPatch, SavedPatch]) -> str:
    parts = [render_markdown(diff).rstrip("\n")]
    if diff.code.a is not None and diff.code.a == diff.code.b:
        parts.append(f"A and B ran on commit {code(value('code.commit', diff.code.a, meta=True))}.")
    for side, ref, patch in (("A", diff.a, patches[0]), ("B", diff.b, patches[1])):
        title = f"#### Saved code of {side} ({code(ref.name)})"
        note = _patch_note(patch)
        if note is not None:
            parts.append(f"{title}\n\n_{note[0].upper() + note[1:]}._")
            continue
        text = patch.text() or ""
        fence = "`" * max(3, _longest_run(text, "`") + 1)
        parts.append(f"{title}\n\n{fence}diff\n{text.rstrip(chr(10))}\n{fence}")
    return "\n\n".join(parts) + "\n"


def _longest_run(text: str, char: str) -> int:
    longest = current = 0
    for c in text:
        current = current + 1 if c == char else 0
        longest = max(longest, current)
    return longest
