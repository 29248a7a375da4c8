"""`gittrack report`: the pull-request report, markdown for a comment or one HTML file."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from gittrack.cli.compare_cmd import markdown_tables
from gittrack.cli.context import CliContext
from gittrack.cli.diff_cmd import cell, code, table, value
from gittrack.runs.compare import metric_value
from gittrack.runs.report import MARKER, Report, build_report
from gittrack.runs.view import RunView, all_runs, warn_unreadable

FORMATS = ("markdown", "html")
MAX_LISTED = 20
"""Runs listed per side in the report's tables; the rest are counted."""


@click.command("report")
@click.option("--base", required=True, metavar="REF",
              help="The pull request's target (e.g. origin/main): runs on its commits.")
@click.option("--head", default="HEAD", show_default=True, metavar="REF",
              help="The pull request's branch: runs on the commits of base..head.")
@click.option("--metric", metavar="KEY",
              help="The metric that picks each side's best run (default: the first metric "
                   "with a recorded goal).")
@click.option("--project", metavar="NAME", help="Only the runs of project NAME.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown",
              show_default=True, help="markdown for a comment, html for one self-contained file.")
@click.option("--all", "everything", is_flag=True, help="Show config and summary keys that are "
              "the same on both sides too.")
@click.option("--noise", is_flag=True, help="Show duration, timestamps and runtime too.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE instead of standard output.")
@click.pass_obj
def command(ctx: CliContext, base: str, head: str, metric: str | None, project: str | None,
            fmt: str, everything: bool, noise: bool, output: Path | None) -> None:
    """Report the runs made on the head's commits against the base's, for a pull request.

    The head side is every finished run whose code commit is in BASE..HEAD (as the pull
    request's commits: `git rev-list BASE..HEAD`); the base side every finished run whose code
    commit is reachable from BASE. Each side's best run (by --metric's recorded goal) is
    compared as `gittrack compare` does. The first line is the marker
    `<!-- gittrack-report -->`, by which a CI job finds and updates its earlier comment.
    """
    repo = ctx.reader()
    views = all_runs(repo, warn_unreadable)
    if project is not None:
        views = [v for v in views if v.info.project == project]
    report = build_report(repo, views, base, head, metric=metric, everything=everything,
                          noise=noise)
    if fmt == "html":
        from gittrack.cli.report_html import render_html

        text = render_html(report)
    else:
        text = render_markdown(report)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def render_markdown(report: Report) -> str:
    """The report as a GitHub/GitLab-flavoured comment, the marker first."""
    parts = [f"{MARKER}\n### gittrack report: {code(report.head)} against {code(report.base)}",
             "\n".join(intro(report))]
    if report.comparison is not None:
        parts += markdown_tables(report.comparison)
    parts += [f"#### {title}\n\n{body}" for title, body in listings(report)]
    return "\n\n".join(parts) + "\n"


@dataclasses.dataclass(frozen=True, slots=True)
class Markup:
    """How the intro marks inline code, strong and emphasised text, and escapes plain text:
    markdown's by default, HTML's for the HTML report."""

    code: Callable[[str], str] = code
    strong: Callable[[str], str] = "**{}**".format
    em: Callable[[str], str] = "_{}_".format
    item: Callable[[str], str] = "- {}".format
    para: Callable[[str], str] = "\n{}".format


def intro(report: Report, m: Markup = Markup()) -> list[str]:
    """Which runs each side holds, how the best was picked, and what is missing: one line
    each (list items, then paragraphs)."""
    rng = f"{report.base}..{report.head}"
    lines = [m.item(f"{m.strong('Head')}: {_runs(len(report.head_runs))} on the commits of "
                    f"{m.code(rng)}"),
             m.item(f"{m.strong('Base')}: {_runs(len(report.base_runs))} on the commits "
                    f"reachable from {m.code(report.base)} ({m.code(_short(report.base_commit))})")]
    if report.metric is not None:
        lines.append(m.item(f"{m.strong('Best run')} of each side by {m.code(report.metric)} "
                            f"({report.goal})"))
    else:
        lines.append(m.item("No run recorded a metric goal: each side's newest run is compared"))
    for best, runs, side, where in ((report.best_head, report.head_runs, "head", rng),
                                    (report.best_base, report.base_runs, "base", report.base)):
        if best is None and not runs:
            lines.append(m.para(m.em(f"No finished run on the {side}'s commits "
                                     f"({m.code(where)}).")))
        elif best is None:
            lines.append(m.para(m.em(f"No run on the {side}'s commits ({m.code(where)}) has a "
                                     f"value of {m.code(str(report.metric))}.")))
    if report.comparison is not None:
        lines.append(m.para("Deltas are head − base, ✅ towards the metric's recorded goal, "
                            "❌ away."))
    return lines


def _short(sha: str) -> str:
    return value("code.commit", sha, meta=True)


def _runs(count: int) -> str:
    return f"{count} run{'' if count == 1 else 's'}"


def listings(report: Report) -> list[tuple[str, str]]:
    """``(title, markdown table)`` of the runs of each side that has any."""
    out = []
    for title, views in sides(report):
        header, rows = listing(report, views)
        body = [[f"{code(r[0])} ({code(r[1])})" + (" ★" if r[2] else ""), code(r[3]),
                 code(r[4]), *(cell(x) for x in r[5:])] for r in rows]
        more = len(views) - MAX_LISTED
        note = f"\n\n_… and {more} more._" if more > 0 else ""
        header = [*header[:3], *(code(h) for h in header[3:])]
        out.append((title, table(header, body, ["---"]) + note))
    return out


def sides(report: Report) -> list[tuple[str, tuple[RunView, ...]]]:
    """``(title, runs)`` of each side that has runs, head first."""
    return [(title, views) for title, views in (("Runs on the head's commits", report.head_runs),
                                                ("Runs on the base's commits", report.base_runs))
            if views]


def listing(report: Report, views: Sequence[RunView]) -> tuple[list[str], list[list[str]]]:
    """The header and rows listing ``views`` (at most ``MAX_LISTED``): name, id, ``"best"``
    or ``""``, short commit, branch, and the deciding metric's value when there is one."""
    metric = report.metric
    best = {v.id for v in (report.best_base, report.best_head) if v is not None}
    rows = []
    for view in views[:MAX_LISTED]:
        info = view.info.code or {}
        row = [view.name, view.id, "best" if view.id in best else "",
               _short(str(info.get("commit") or "unknown")), str(info.get("branch") or "unknown")]
        rows.append(row + ([_metric_text(report, view)] if metric else []))
    return ["run", "commit", "branch", *([metric] if metric else [])], rows


def _metric_text(report: Report, view: RunView) -> str:
    assert report.metric is not None and report.goal is not None
    found = metric_value(view, report.metric, report.goal)
    return "—" if found is None else value(report.metric, found)
