from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gittrack
from tests.helpers.cli import CliResult
from tests.helpers.processes import killed_run, run_python

Cli = Callable[..., CliResult]
MakeRun = Callable[..., str]


def lines(result: CliResult) -> list[str]:
    return result.stdout.rstrip("\n").splitlines()


def column(result: CliResult, index: int) -> list[str]:
    return [line.split()[index] for line in lines(result)[1:]]


def test_no_runs_is_a_friendly_line(repo: Path, cli: Cli) -> None:
    result = cli("runs")
    assert result.exit_code == 0
    assert lines(result) == [
        "No runs in this repository yet: start one with gittrack.init(), or try "
        "`gittrack demo`."
    ]
    assert json.loads(cli("runs", "--json").stdout) == []


def test_table_lists_runs_newest_first(cli: Cli, make_run: MakeRun) -> None:
    ids = [make_run(name=name) for name in ("first", "second", "third")]
    result = cli("runs")
    assert result.exit_code == 0, result.stderr
    header = lines(result)[0].split()
    assert header == ["id", "name", "state", "created", "duration", "commit", "branch", "loss",
                      "acc"]
    assert column(result, 0) == ids[::-1]
    assert column(result, 1) == ["third", "second", "first"]
    assert column(result, 2) == ["finished"] * 3
    assert all(len(run_id) == 26 for run_id in column(result, 0))


def test_table_cells_line_up_and_have_no_colour_in_a_pipe(cli: Cli, make_run: MakeRun) -> None:
    make_run(name="a")
    make_run(name="a-much-longer-name")
    out = lines(cli("runs"))
    assert "\x1b[" not in "\n".join(out)
    assert len({line.index("finished") for line in out[1:]}) == 1
    assert all(line == line.rstrip() for line in out)


def test_default_columns_are_numeric_summary_keys_every_run_has(
    cli: Cli, make_run: MakeRun
) -> None:
    make_run(metrics=lambda i: {"x": 1.0, "shared": i, "text": "hi", "nested": {"a": 2}})
    make_run(metrics=lambda i: {"y": 2.0, "nested": {"a": 3}, "text": "ho", "shared": 5})
    header = lines(cli("runs"))[0].split()
    assert header[7:] == ["nested/a", "shared"]


def test_at_most_three_default_columns(cli: Cli, make_run: MakeRun) -> None:
    make_run(metrics=lambda i: {"a": 1, "b": 2, "c": 3, "d": 4})
    assert lines(cli("runs"))[0].split()[7:] == ["a", "b", "c"]


def test_aggregated_summaries_show_as_dotted_columns(
    repo: Path, cli: Cli, fast_settings: dict[str, object]
) -> None:
    run = gittrack.init(settings=fast_settings)
    run.define_metric("acc", summary="max")
    for value in (0.5, 0.9, 0.7):
        run.log({"acc": value})
    run.finish()
    result = cli("runs")
    assert lines(result)[0].split()[7:] == ["acc.max"]
    assert lines(result)[1].split()[-1] == "0.9"


def test_columns_option_picks_summary_config_and_metadata(cli: Cli, make_run: MakeRun) -> None:
    make_run(config={"lr": 0.01, "opt": {"name": "adam"}})
    result = cli("runs", "-c", "config.lr", "--columns", "opt.name", "-c", "acc",
                 "-c", "metadata.steps", "-c", "nothing")
    header, row = (line.split() for line in lines(result))
    assert header[7:] == ["config.lr", "opt.name", "acc", "metadata.steps", "nothing"]
    assert row[-5:] == ["0.01", "adam", "0.2", "3", "-"]


@pytest.fixture
def varied(make_run: MakeRun) -> dict[str, str]:
    return {
        "a": make_run(name="a", config={"lr": 0.1, "opt": {"name": "sgd"}}, tags=["x"],
                      group="g1", project="p1"),
        "b": make_run(name="b", config={"lr": 1e-3}, tags=["x", "y"], group="g2",
                      project="p1", metrics=lambda i: {"acc": 0.95}),
        "c": make_run(name="c", config={"lr": 0.1}, tags=["y"], project="p2",
                      exit_code=1),
    }


@pytest.mark.parametrize(("args", "expected"), [
    (("--state", "failed"), ["c"]),
    (("--state", "FINISHED"), ["b", "a"]),
    (("--state", "failed", "--state", "finished"), ["c", "b", "a"]),
    (("--tag", "x"), ["b", "a"]),
    (("--tag", "x", "--tag", "y"), ["b"]),
    (("--group", "g1"), ["a"]),
    (("--project", "p1"), ["b", "a"]),
    (("-f", "config.lr=0.1"), ["c", "a"]),
    (("--filter", "config.opt.name=sgd"), ["a"]),
    (("--config", "lr=1e-3"), ["b"]),
    (("--config", "lr=0.001"), ["b"]),
    (("-f", "summary.acc={$gte: 0.9}"), ["b"]),
    (("-f", "state=failed"), ["c"]),
    (("--config", "lr=0.1", "--project", "p1"), ["a"]),
    (("--limit", "2"), ["c", "b"]),
    (("-n", "1", "--tag", "x"), ["b"]),
])
def test_filters(cli: Cli, varied: dict[str, str], args: tuple[str, ...],
                 expected: list[str]) -> None:
    result = cli("runs", *args)
    assert result.exit_code == 0, result.stderr
    assert column(result, 1) == expected
    as_json = json.loads(cli("runs", "--json", *args).stdout)
    assert [run["name"] for run in as_json] == expected


def test_no_match_says_how_many_runs_there_are(cli: Cli, varied: dict[str, str]) -> None:
    result = cli("runs", "--tag", "nope")
    assert result.exit_code == 0
    assert lines(result) == ["No runs match these filters (3 runs in all)."]
    assert json.loads(cli("runs", "--tag", "nope", "--json").stdout) == []


@pytest.mark.parametrize("args", [("-f", "no-equals-sign"), ("--state", "sleeping"),
                                  ("--limit", "0"), ("--commit", ""), ("--commit", "no/such"),
                                  ("--commit", "a..b..c"), ("--commit", "HEAD~99"),
                                  ("--since", "2026-13-45"), ("--since", ""),
                                  ("--sort", ":desc"), ("--format", "xml")])
def test_bad_arguments_are_usage_errors(repo: Path, cli: Cli, args: tuple[str, ...]) -> None:
    result = cli("runs", *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


def test_json_has_the_documented_fields(cli: Cli, make_run: MakeRun) -> None:
    run_id = make_run(name="n", config={"lr": 0.5}, tags=["t"], group="g", job_type="train",
                      project="p", metrics=lambda i: {"loss": float("nan"), "acc": 1})
    [record] = json.loads(cli("runs", "--json").stdout)
    assert set(record) == {"id", "name", "state", "project", "group", "job_type", "tags",
                           "created_at", "duration", "config", "summary", "commit", "branch"}
    assert record["id"] == run_id
    assert len(record["commit"]) == 40 and record["branch"] == "main"
    assert (record["name"], record["state"], record["project"]) == ("n", "finished", "p")
    assert (record["group"], record["job_type"], record["tags"]) == ("g", "train", ["t"])
    assert record["config"] == {"lr": 0.5}
    assert record["summary"] == {"loss": "NaN", "acc": 1}
    assert record["created_at"].endswith("Z")
    assert record["duration"] >= 0


def test_names_are_printed_literally(cli: Cli, make_run: MakeRun) -> None:
    make_run(name="[bold]x[/bold] :smile:")
    assert "[bold]x[/bold] :smile:" in cli("runs").stdout


def test_a_dead_run_is_listed_crashed_and_recovered_by_recover(repo: Path, cli: Cli) -> None:
    killed_run(repo, init="name='dead', ", settings="{'quiet': True, 'checkpoint_interval': 60}",
               steps=4)
    result = cli("runs", "--state", "crashed", "-c", "x")  # as it stands: nothing folded
    assert column(result, 1) == ["dead"]
    assert "its write-ahead log" in result.stderr
    assert cli("recover").exit_code == 0
    result = cli("runs", "--state", "crashed", "-c", "x")
    assert column(result, 1) == ["dead"]
    assert lines(result)[1].split()[-1] == "3"


def test_an_unreadable_run_is_skipped_with_a_warning(
    repo: Path, cli: Cli, make_run: MakeRun
) -> None:
    make_run(name="good")
    git = pygit2.Repository(str(repo))
    tree = git.TreeBuilder()
    tree.insert("run.yaml", git.create_blob(b"format: 99\nid: future\n"),
                pygit2.enums.FileMode.BLOB)
    sig = pygit2.Signature("t", "t@example.com")
    commit = git.create_commit(None, sig, sig, "future", tree.write(), [])
    git.references.create("refs/gittrack/runs/future", commit)
    result = cli("runs")
    assert result.exit_code == 0
    assert column(result, 1) == ["good"]
    assert "skipping run future" in result.stderr and "format 99" in result.stderr


def test_colour_and_cropping_on_a_terminal(
    cli: Cli, make_run: MakeRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_run(name="a" * 80)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "60")
    out = cli("runs").stdout
    assert "\x1b[" in out
    assert "…" in out


def test_outside_a_repository_is_an_error(tmp_path: Path, cli: Cli,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("runs")
    assert result.exit_code == 3
    assert result.stderr.startswith("gittrack: error:")
    assert len(result.stderr.splitlines()) == 1


def test_repo_option(repo: Path, tmp_path: Path, cli: Cli, make_run: MakeRun,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    make_run(name="there")
    monkeypatch.chdir(tmp_path)
    assert column(cli("-C", str(repo), "runs"), 1) == ["there"]


def test_a_run_missing_a_git_object_is_reported_and_the_others_work(
    repo: Path, cli: Cli, make_run: MakeRun, tmp_path: Path
) -> None:
    from tests.helpers.forge_runs import delete_loose_object

    good = make_run(name="good", config={"for": "good"})
    bad = make_run(name="bad", config={"for": "bad"})
    git = pygit2.Repository(str(repo))
    tree = git.references[f"refs/gittrack/runs/{bad}"].peel(pygit2.Commit).tree
    delete_loose_object(repo, str(tree["config.yaml"].id))
    delete_loose_object(repo, str(tree["history/0/000000.parquet"].id))
    listed = cli("runs")
    assert listed.exit_code == 0 and column(listed, 1) == ["good"]
    assert f"gittrack: warning: skipping run {bad}: cannot read config.yaml" in listed.stderr
    for args in (("show", bad), ("log", bad), ("diff", good, bad), ("export", bad)):
        result = cli(*args, "-o", str(tmp_path / "out")) if args[0] == "export" else cli(*args)
        assert result.exit_code == 3, (args, result.stderr)
        assert result.stderr.startswith("gittrack: error: cannot read ") and (
            "is missing or damaged" in result.stderr), (args, result.stderr)
    nothing = cli("runs", "-f", "state=nosuch")
    assert nothing.exit_code == 0 and "(1 run in all)" in nothing.stdout
    assert nothing.stderr.count("skipping run") == 1
    both = cli("export", good, bad, "-o", str(tmp_path / "out"))
    assert both.exit_code == 3
    assert f"skipping run {bad}" in both.stderr and "1 of 2 runs could not be exported" in (
        both.stderr)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [good]


def test_a_forged_run_from_a_remote_cannot_hang_or_exhaust_a_clone(
    repo: Path, make_run: MakeRun, tmp_path: Path
) -> None:
    """The 480-byte "billion laughs" config.yaml, pulled from a remote into a clean clone."""
    from tests.helpers.forge_runs import forge_run, run_yaml
    from tests.helpers.hostile import BILLION_LAUGHS
    from tests.helpers.repos import git as run_git

    make_run(name="good")
    forge_run(repo, "bomb", {"run.yaml": run_yaml("bomb"), "config.yaml": BILLION_LAUGHS})
    run_git(tmp_path, "init", "-q", "--bare", "-b", "main", "remote.git")
    run_git(repo, "push", "-q", str(tmp_path / "remote.git"), "main",
            "refs/gittrack/*:refs/gittrack/*")
    run_git(tmp_path, "clone", "-q", str(tmp_path / "remote.git"), "clone")
    clone = tmp_path / "clone"

    def gittrack_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_python(f"from gittrack.cli.main import main; main({list(args)!r})", clone,
                          check=False, timeout=60)

    pulled = gittrack_cli("pull")
    assert pulled.returncode == 0, pulled.stderr

    listed = gittrack_cli("runs", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["name"] for r in json.loads(listed.stdout)] == ["good"]
    assert "skipping run bomb: cannot read config.yaml" in listed.stderr
    assert "anchors or aliases" in listed.stderr
    shown = gittrack_cli("show", "bomb")
    assert shown.returncode == 6 and "anchors or aliases" in shown.stderr
    api = run_python("import warnings, gittrack\nwarnings.simplefilter('ignore')\n"
                     "print([r.name for r in gittrack.Api().runs()])", clone, timeout=60)
    assert api.stdout.strip() == "['good']"


@pytest.mark.parametrize(("value", "named"), [
    ("config.lr={$in: 5}", "$in on 'config.lr' takes a list, got 5"),
    ("$and=5", "$and takes a list of filters, got 5"),
    ("name={$regex: '('}", "$regex on 'name' takes a valid regular expression"),
    ("config.lr={$near: 1}", "unknown filter operator '$near' on 'config.lr'"),
    ("config.lr={$gt: [1]}", "$gt on 'config.lr' takes a number or a text, got [1]"),
    ("config.lr={$exists: maybe}", "$exists on 'config.lr' takes true or false, got 'maybe'"),
    ("config.lr=" + "[" * 300 + "]" * 300, "nested more than 200 levels deep"),
    ("config.lr=&a 1", "anchors or aliases"),
])
def test_malformed_filters_are_usage_errors(
    cli: Cli, make_run: MakeRun, value: str, named: str
) -> None:
    make_run()
    result = cli("runs", "-f", value)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("gittrack: error: ") and named in result.stderr
    assert result.stderr.count("\n") == 1


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.dates().map(str),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=10,
)
INFO_KEYS = st.sampled_from(["name", "state", "tags", "project", "group", "job_type", "notes",
                             "created_at", "duration", "code", "artifacts", "exit_code"])


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(info=st.dictionaries(INFO_KEYS, JUNK, max_size=6), config=JUNK, summary=JUNK)
def test_forged_metadata_never_breaks_the_reading_commands(
    repo: Path, cli: Cli, info: dict[str, Any], config: Any, summary: Any
) -> None:
    """Any run.yaml/config.yaml/summary.yaml a remote could send: every reading command
    either shows the run or reports it (exit 0 with a warning, or 3/6 naming it), never an
    internal error, and a good run next to it is always listed."""
    from gittrack.formats import yamlio
    from tests.helpers.forge_runs import forge_run

    forge_run(repo, "good", {"run.yaml": b"format: 1\nid: good\nname: good\nstate: finished\n"})
    forge_run(repo, "junk", {
        "run.yaml": yamlio.dump({"format": 1, "id": "junk", **info}),
        "config.yaml": yamlio.dump(config), "summary.yaml": yamlio.dump(summary)})
    for args in (("runs",), ("runs", "--json"), ("runs", "-c", "config.a"),
                 ("runs", "-f", "summary.x={$gt: 1}"), ("show", "junk"),
                 ("show", "junk", "--json"), ("log", "junk"), ("export", "junk", "-o", "out")):
        result = cli(*args)
        assert result.exit_code in (0, 3, 4, 6), (args, result.stderr)
        assert "internal error" not in result.stderr, (args, result.stderr)
    listed = cli("runs", "--json")
    assert "good" in [r["id"] for r in json.loads(listed.stdout)]


@pytest.mark.parametrize("terminal", [False, True])
def test_control_characters_from_a_remote_never_reach_the_terminal(
    repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    """A forged name or value with escape sequences (set the terminal's title, rewrite the
    screen) is printed with them escaped, in tables, in `show`, in warnings and errors."""
    from tests.helpers.forge_runs import forge_run

    if terminal:
        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.setenv("FORCE_COLOR", "1")
    evil = '"\\e]0;PWNED\\a\\e[2J\\x9b31m"'
    forge_run(repo, "evil", {
        "run.yaml": f"format: 1\nid: evil\nname: {evil}\nstate: finished\n".encode(),
        "config.yaml": f"lr: {evil}\n{evil}: 1\n".encode(),
        "summary.yaml": f"acc: {evil}\n".encode()})
    forge_run(repo, "bad", {"run.yaml": f"format: 1\nid: bad\nname: {evil}\ntags: 5\n".encode()})
    for args in (("runs",), ("runs", "-c", "config.lr", "-c", "summary.acc"), ("show", "evil"),
                 ("log", "evil"), ("show", "bad")):
        result = cli(*args)
        for stream in (result.stdout, result.stderr):
            assert "\x1b]" not in stream and "\x1b[2J" not in stream and "\x9b" not in stream, (
                args, stream)
    shown = cli("show", "evil").stdout
    assert "\\x1b]0;PWNED" in shown and "\\x9b31m" in shown


@pytest.mark.parametrize("field", ["tags: [null]", "code: [null]", "artifacts: {'': null}",
                                   "metrics: {acc: 5}", "args: {a: 1}", "created_at: 2026-01-01",
                                   "code: {commit: {a: 1}}", "duration: .nan",
                                   "duration: .inf", "duration: -5"])
def test_a_run_yaml_field_of_another_shape_is_refused_naming_it(
    repo: Path, cli: Cli, field: str
) -> None:
    """Found by the property above and a review: each of these made `show` (and for a NaN
    duration `runs`, for every run) exit 70."""
    from tests.helpers.forge_runs import forge_run

    forge_run(repo, "good", {"run.yaml": b"format: 1\nid: good\nstate: finished\n"})
    forge_run(repo, "junk", {"run.yaml": f"format: 1\nid: junk\n{field}\n".encode()})
    result = cli("show", "junk")
    assert result.exit_code == 6, result.stderr
    assert field.split(":")[0] in result.stderr and "run.yaml" in result.stderr
    listed = cli("runs")
    assert listed.exit_code == 0 and "good" in listed.stdout, listed.stderr
    assert "skipping run junk" in listed.stderr


def test_the_table_shows_the_newest_fifty_and_says_how_many_more(repo: Path, cli: Cli) -> None:
    from gittrack.cli.runs_cmd import DEFAULT_LIMIT
    from tests.helpers.many_runs import runs_in

    ids = runs_in(repo, DEFAULT_LIMIT + 5)
    result = cli("runs")
    assert column(result, 0) == ids[::-1][:DEFAULT_LIMIT]
    assert "5 more runs (55 in all): -n N or --all shows them" in result.stderr
    everything = cli("runs", "--all")
    assert column(everything, 0) == ids[::-1] and "more run" not in everything.stderr
    assert [r["id"] for r in json.loads(cli("runs", "--json").stdout)] == ids[::-1]
    assert len(column(cli("runs", "-n", "52"), 0)) == 52
    assert cli("runs", "-n", "2", "--all").exit_code == 2
    few = cli("runs", "--state", "failed")  # 11 match: all shown, no footer
    assert len(column(few, 0)) == 11 and "more run" not in few.stderr


def test_branch_filters_on_the_code_branch(repo: Path, cli: Cli) -> None:
    from tests.helpers.many_runs import BRANCHES, runs_in

    ids = runs_in(repo, 8)
    for branch in set(BRANCHES):
        listed = json.loads(cli("runs", "--branch", branch, "--json").stdout)
        assert [r["id"] for r in listed] == [
            ids[i] for i in reversed(range(8)) if BRANCHES[i % len(BRANCHES)] == branch]
    assert "No runs match" in cli("runs", "--branch", "nowhere").stdout


@pytest.fixture
def on_commits(repo: Path, make_run: MakeRun) -> dict[str, Any]:
    """Five runs: two on main's first commit, one on main's second, two on branch ``feat``'s
    commit (one with no ``acc``). Returns their ids (oldest first) and the commits."""
    from tests.helpers.repos import git

    def commit(message: str) -> str:
        (repo / "train.py").write_text(f"print({message!r})\n")
        git(repo, "commit", "-qam", message)
        return git(repo, "rev-parse", "HEAD").strip()

    first = git(repo, "rev-parse", "HEAD").strip()
    ids = [make_run(name="b", config={"lr": 0.1}, metrics=lambda s: {"loss": 3.0, "acc": 0.5}),
           make_run(name="a", config={"lr": 0.3}, metrics=lambda s: {"loss": 1.0, "acc": 0.7})]
    second = commit("second")
    ids.append(make_run(name="d", config={"lr": 0.2},
                        metrics=lambda s: {"loss": 2.0, "acc": 0.9}))
    git(repo, "checkout", "-qb", "feat")
    third = commit("third")
    ids.append(make_run(name="c", metrics=lambda s: {"loss": 0.5}))
    ids.append(make_run(name="e", config={"lr": 0.4}, steps=5,
                        metrics=lambda s: {"loss": 4.0, "acc": 0.1}))
    return {"ids": ids, "commits": [first, second, third]}


def listed(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = cli("runs", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return list(json.loads(result.stdout))


def test_commit_filter_takes_full_and_short_shas_and_ranges(
    cli: Cli, on_commits: dict[str, Any]
) -> None:
    ids, (first, second, third) = on_commits["ids"], on_commits["commits"]
    by_commit = listed(cli)
    assert [(r["commit"], r["branch"]) for r in by_commit] == [
        (third, "feat"), (third, "feat"), (second, "main"), (first, "main"), (first, "main")]
    assert [r["id"] for r in listed(cli, "--commit", first)] == ids[1::-1]
    assert [r["id"] for r in listed(cli, "--commit", second[:7])] == [ids[2]]
    assert [r["id"] for r in listed(cli, "--commit", "main..feat")] == ids[4:2:-1]
    assert [r["id"] for r in listed(cli, "--commit", f"{first}..feat")] == ids[4:1:-1]
    assert [r["id"] for r in listed(cli, "--commit", first[:8], "--commit", "feat")] == [
        ids[4], ids[3], ids[1], ids[0]]
    assert [r["id"] for r in listed(cli, "--commit", "HEAD~1", "--branch", "main")] == [ids[2]]
    assert listed(cli, "--commit", "abcd1234") == []  # a prefix no run has
    bad = cli("runs", "--commit", "nowhere..feat")
    assert bad.exit_code == 2 and "'nowhere'" in bad.stderr and "Traceback" not in bad.stderr


def test_since_takes_iso_times_and_relative_ones(cli: Cli, on_commits: dict[str, Any]) -> None:
    ids = on_commits["ids"]
    created = {r["id"]: r["created_at"] for r in listed(cli)}
    assert [r["id"] for r in listed(cli, "--since", created[ids[3]])] == ids[4:2:-1]
    assert len(listed(cli, "--since", "2 days ago")) == 5
    assert len(listed(cli, "--since", "1.hour")) == 5
    assert listed(cli, "--since", "2999-01-01") == []
    assert len(listed(cli, "--since", "2000-01-01T00:00Z")) == 5
    bad = cli("runs", "--since", "last tuesday-ish")
    assert bad.exit_code == 2 and "--since 'last tuesday-ish'" in bad.stderr


def test_sort_both_ways_with_missing_values_last(cli: Cli, on_commits: dict[str, Any]) -> None:
    ids = on_commits["ids"]

    def names(*args: str) -> list[str]:
        return [r["name"] for r in listed(cli, *args)]

    assert names("--sort", "name") == ["a", "b", "c", "d", "e"]
    assert names("--sort", "name:desc") == ["e", "d", "c", "b", "a"]
    assert names("--sort", "summary.acc") == ["e", "b", "a", "d", "c"]
    assert names("--sort", "summary.acc:desc") == ["d", "a", "b", "e", "c"]
    assert names("--sort", "config.lr:desc") == ["e", "a", "d", "b", "c"]
    assert names("--sort", "steps:desc")[0] == "e"
    assert names("--sort", "created:asc") == ["b", "a", "d", "c", "e"]
    assert names("--sort", "summary.acc:desc", "--limit", "2") == ["d", "a"]
    assert names("--sort", "summary.acc", "--branch", "main") == ["b", "a", "d"]
    table = cli("runs", "--sort", "summary.loss", "-n", "3")
    assert column(table, 0) == [ids[3], ids[1], ids[2]]


def test_limit_applies_to_every_format(cli: Cli, on_commits: dict[str, Any]) -> None:
    import csv

    assert len(listed(cli, "--limit", "2")) == 2
    assert len(list(csv.DictReader(cli("runs", "--format", "csv", "-n", "3").stdout
                                   .splitlines()))) == 3
    assert len(lines(cli("runs", "--format", "markdown", "--limit", "1"))) == 3
    assert len(column(cli("runs", "--limit", "4"), 0)) == 4


def test_each_format_shows_commit_and_branch(cli: Cli, on_commits: dict[str, Any]) -> None:
    import csv

    ids, (first, _, third) = on_commits["ids"], on_commits["commits"]
    table = cli("runs")
    assert lines(table)[0].split()[:7] == [
        "id", "name", "state", "created", "duration", "commit", "branch"]
    # the created cell is two words (date and time)
    assert column(table, 6) == [third[:7]] * 2 + [on_commits["commits"][1][:7]] + [first[:7]] * 2
    assert column(table, 7) == ["feat", "feat", "main", "main", "main"]

    rows = list(csv.DictReader(cli("runs", "--format", "csv", "-c", "loss", "-c", "acc")
                               .stdout.splitlines()))
    assert [r["id"] for r in rows] == ids[::-1]
    assert rows[0]["commit"] == third and rows[0]["branch"] == "feat"
    assert rows[1]["acc"] == "" and float(rows[0]["loss"]) == 4.0

    md = lines(cli("runs", "--format", "markdown", "--commit", first))
    assert md[0].startswith("| id | name | state | created | duration | commit | branch |")
    assert set(md[1].replace("|", "").split()) == {"---"}
    cells = [c.strip() for c in md[2].strip("|").split("|")]
    assert cells[0] == ids[1] and cells[5] == first[:7] and cells[6] == "main"
    assert len(md) == 4

    assert json.loads(cli("runs", "--format", "json").stdout) == listed(cli)
    assert cli("runs", "--json", "--format", "csv").exit_code == 2


def test_a_short_sha_finds_runs_whose_commit_is_gone(
    repo: Path, cli: Cli, make_run: MakeRun
) -> None:
    from tests.helpers.repos import git

    (repo / "train.py").write_text("print('doomed')\n")
    git(repo, "commit", "-qam", "doomed")
    doomed = git(repo, "rev-parse", "HEAD").strip()
    run_id = make_run(name="on-doomed")
    git(repo, "reset", "-q", "--hard", "HEAD~1")  # as a rebase or squash leaves it
    git(repo, "reflog", "expire", "--expire=now", "--all")
    git(repo, "gc", "-q", "--prune=now")
    assert [r["id"] for r in listed(cli, "--commit", doomed[:7])] == [run_id]
    assert [r["id"] for r in listed(cli, "--commit", doomed)] == [run_id]


def test_sort_on_the_cache_orders_as_the_views_do(
    repo: Path, cli: Cli, fast_settings: dict[str, object]
) -> None:
    """``--sort`` of a summary or config key is made on the cache's values (views only for
    the runs shown); the order is the one ``sorted_views`` gives over every view: numbers
    (booleans as 0 and 1) before texts, no value, ``None``, lists and mappings last, ties
    newest first, a bare key read from the summary, else the config."""
    from gittrack.cli.runs_cmd import cached_order, sorted_views
    from gittrack.git.repo import discover
    from gittrack.runs.view import all_runs

    scores: list[Any] = [3, 1.5, "b", True, None, [1, 2], {"x": 1}, 1.5, "a", -2, 0, False,
                         "10", 2**1024 - 1]  # past a float: sorts as +inf
    for i, score in enumerate([*scores, "absent", "only-config"]):
        summary = {} if score in ("absent", "only-config") else {"score": score}
        config = {"score": 7} if score == "only-config" else {"score": {"nested": i}}
        run = gittrack.init(repo=str(repo), name=f"r{i:02d}", config=config,
                            settings=fast_settings)
        for key, value in summary.items():
            run.summary[key] = value
        run.finish()
    views = all_runs(discover(str(repo)))
    for key in ("summary.score", "score", "config.score"):
        for direction in ("asc", "desc"):
            assert cached_order(key, direction == "desc") is not None
            expected = [v.name for v in sorted_views(views, key, direction == "desc")]
            assert [r["name"] for r in listed(cli, "--sort", f"{key}:{direction}")] == expected
            assert [r["name"] for r in listed(cli, "--sort", f"{key}:{direction}", "-n", "3")
                    ] == expected[:3]
    ordered = [r["name"] for r in listed(cli, "--sort", "score")]
    assert ordered[:3] == ["r09", "r11", "r10"]  # -2, 0, False (0): ties newest first
    assert ordered.index("r15") < ordered.index("r02")  # the config's 7, a number, first
    assert set(ordered[-4:]) == {"r04", "r05", "r06", "r14"}  # None, a list, a mapping, none
    assert cached_order("name", False) is None and cached_order("summary.a.b", False) is None
