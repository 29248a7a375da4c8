"""``history()`` of a long run (section ``history``; it reads the memory section's run).

``gittrack.Api(repo).runs()[0].history()`` of the run of the memory section (imports done
first; the first call, then the median of 5) against pyarrow alone reading the same Parquet
bytes (already in memory) and concatenating them, to a Table and to a DataFrame.
"""

from __future__ import annotations

from typing import Any

from bench.common import Context, Target, first_and_median, fmt_ratio, fmt_s, run_worker, table

REPEATS = 5


# -- worker side ------------------------------------------------------------------------------

def chunk_entries(git_repo: Any, tree: Any) -> list[Any]:
    """The tree entries of a run's history chunks in row order, as plain pygit2 lists them:
    in ``history/`` and its level folders (format 2), by the first number of their names
    (docs/format.md)."""
    found = []
    for e in git_repo[tree["history"].id]:
        for c in git_repo[e.id] if e.type_str == "tree" else [e]:
            if c.name.endswith(".parquet"):
                found.append((int(c.name.split(".")[0].split("-")[0]), c))
    return [c for _, c in sorted(found, key=lambda x: x[0])]


def worker_read_history(args: dict[str, Any]) -> dict[str, Any]:
    import pandas  # noqa: F401  (imports are outside the timed part, for both sides)
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pygit2

    import gittrack

    repo = args["repo"]
    first, med, df = first_and_median(lambda: gittrack.Api(repo=repo).runs()[0].history(), REPEATS)
    _, med_arrow, tbl = first_and_median(
        lambda: gittrack.Api(repo=repo).runs()[0].history(format="arrow"), REPEATS)
    git_repo = pygit2.Repository(repo)
    tree = git_repo.revparse_single(args["ref"]).peel(pygit2.Commit).tree

    def blobs() -> list[bytes]:
        return [git_repo[e.id].data for e in chunk_entries(git_repo, tree)]

    data = blobs()

    def arrow_alone() -> Any:
        return pa.concat_tables([pq.read_table(pa.BufferReader(b)) for b in data])

    _, base_arrow, base = first_and_median(arrow_alone, REPEATS)
    _, base_pandas, _ = first_and_median(lambda: arrow_alone().to_pandas(), REPEATS)
    _, base_git, _ = first_and_median(
        lambda: pa.concat_tables([pq.read_table(pa.BufferReader(b)) for b in blobs()])
        .to_pandas(), REPEATS)
    odb = git_repo.odb
    ids = [e.id for e in chunk_entries(git_repo, tree)]
    _, base_odb, _ = first_and_median(
        lambda: pa.concat_tables([pq.read_table(pa.BufferReader(odb.read(i)[1])) for i in ids])
        .to_pandas(), REPEATS)
    return {
        "base_odb_s": base_odb,
        "first_s": first, "median_s": med, "arrow_s": med_arrow, "rows": len(df),
        "columns": len(df.columns), "arrow_rows": tbl.num_rows, "chunks": len(data),
        "parquet_bytes": sum(len(b) for b in data), "base_rows": base.num_rows,
        "base_arrow_s": base_arrow, "base_pandas_s": base_pandas, "base_git_s": base_git,
    }


# -- parent side ------------------------------------------------------------------------------

def run(ctx: Context) -> None:
    run = ctx.data.get("history_run")
    steps = 300_000 if ctx.quick else 1_000_000
    ctx.out(f"## history() of a {steps:,}-step × 10-key run")
    if not run:
        ctx.out("  skipped: the memory section's run (which this reads) failed")
        ctx.targets.append(Target(f"history() of {steps:,} steps < 1 s", "not measured", None))
        return
    ctx.progress("read: history()")
    res = run_worker("read_history", {"repo": run["repo"], "ref": run["ref"]})
    if "error" in res:
        ctx.out(f"  FAILED: {res['error']}")
        ctx.targets.append(Target(f"history() of {steps:,} steps < 1 s",
                                  "failed: " + res["error"], False))
        return
    rows = [
        ["gittrack Api(repo).runs()[0].history() → DataFrame", fmt_s(res["median_s"]),
         f"{fmt_ratio(res['median_s'] / res['base_pandas_s'])} pyarrow→DataFrame",
         f"first call {fmt_s(res['first_s'])}"],
        ["gittrack ...history(format='arrow') → Table", fmt_s(res["arrow_s"]),
         f"{fmt_ratio(res['arrow_s'] / res['base_arrow_s'])} pyarrow→Table", ""],
        ["pyarrow alone: bytes in memory → Table", fmt_s(res["base_arrow_s"]), "1×", ""],
        ["pyarrow alone: bytes in memory → DataFrame", fmt_s(res["base_pandas_s"]), "1×", ""],
        ["pygit2 repo[id].data + pyarrow → DataFrame", fmt_s(res["base_git_s"]),
         f"{fmt_ratio(res['base_git_s'] / res['base_pandas_s'])} pyarrow→DataFrame",
         ""],
        ["pygit2 repo.odb.read(id) + pyarrow → DataFrame", fmt_s(res["base_odb_s"]),
         f"{fmt_ratio(res['base_odb_s'] / res['base_pandas_s'])} pyarrow→DataFrame",
         "how gittrack reads blobs"],
    ]
    ctx.out(table(["read", "median", "ratio", "notes"], rows))
    ctx.out(f"  {res['rows']:,} rows × {res['columns']} columns from {res['chunks']} Parquet "
            f"chunks ({res['parquet_bytes'] / 1e6:.1f} MB); pyarrow read {res['base_rows']:,} "
            f"rows. In-process, imports done first; median of {REPEATS} after a first call.")
    ok = res["median_s"] < 1.0 and res["rows"] == steps
    note = "" if res["rows"] == steps else f"; WRONG row count {res['rows']:,}"
    ctx.targets.append(Target(
        f"history() of {steps:,} steps < 1 s",
        f"{fmt_s(res['median_s'])} (pyarrow alone {fmt_s(res['base_pandas_s'])}; first call "
        f"{fmt_s(res['first_s'])}){note}", ok))
