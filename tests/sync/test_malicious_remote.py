"""A malicious remote: forged run and artifact commits pulled into a clean clone.

The attacker controls everything a remote holds — ref names, commit trees, YAML, Parquet,
object types — but not the victim's machine. The forgeries are written with plain `git`
plumbing (not with gittrack), pushed to a real bare remote, and pulled by a victim clone. Every
command then runs in its own process, with a memory limit and a timeout, and must:

- finish (no hang on a YAML alias bomb) without a signal or an out-of-memory kill;
- exit 0 or with a gittrack error's exit code and a one-line message — never 70 (a bug) and
  never a traceback;
- write nothing outside the folders the user named (no path traversal);
- keep working for the good run and artifact beside the forged ones.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.helpers.hostile import (
    BILLION_LAUGHS,
    TreeSpec,
    forge,
    manifest,
    plumb,
    point,
    tree_of,
)
from tests.helpers.repos import MakeClone, git
from tests.helpers.runs import log_run
from tests.helpers.storage import share_storage

pytestmark = pytest.mark.slow

MEMORY_LIMIT = 3 << 30  # an alias bomb or an unbounded read dies here instead of the machine
TIMEOUT = 60


# --- the scenario -----------------------------------------------------------------------------


class Hostile:
    """An attacker clone that pushed forged refs, and a victim clone that pulled them."""

    def __init__(self, root: Path, attacker: Path, victim: Path, good_run: str) -> None:
        self.root = root
        self.attacker = attacker
        self.victim = victim
        self.good_run = good_run
        self.outside = root / "outside"  # forged names point here: it must stay empty
        self.bad_runs: list[str] = []
        self.bad_artifacts: list[str] = []

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return _bounded([sys.executable, "-m", "gittrack", *args], cwd or self.victim)

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        return _bounded([sys.executable, "-c", code], self.victim)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _bounded(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
                              preexec_fn=_limit_memory, env=dict(os.environ))
    except subprocess.TimeoutExpired:
        pytest.fail(f"{argv[2:]} did not finish in {TIMEOUT} s (hang on hostile input)")


def assert_clean(result: subprocess.CompletedProcess[str], *, ok: bool = False) -> None:
    """No crash, no bug exit, no traceback; a failure is a one-line gittrack message."""
    what = f"{result.args[2:]}: exit {result.returncode}\n{result.stderr[-3000:]}"
    assert result.returncode >= 0, f"killed by a signal: {what}"
    assert result.returncode != 70, f"internal error: {what}"
    assert "Traceback" not in result.stderr, what
    if ok:
        assert result.returncode == 0, what
    elif result.returncode != 0:
        errors = [line for line in result.stderr.splitlines() if line.startswith("gittrack:")]
        assert errors, f"a failure without a gittrack message: {what}"


def _forge_runs(h: Hostile) -> None:
    a = h.attacker
    good = f"refs/gittrack/runs/{h.good_run}"
    base = tree_of(a, good)

    def run_like(run_id: str, **files: bytes | TreeSpec) -> None:
        spec = dict(base)
        run_yaml = base["run.yaml"]
        assert isinstance(run_yaml, bytes)
        spec["run.yaml"] = run_yaml.replace(h.good_run.encode(), run_id.encode())
        spec.update(files)
        forge(a, f"refs/gittrack/runs/{run_id}", spec)
        h.bad_runs.append(run_id)

    run_like("bomb-config", **{"config.yaml": BILLION_LAUGHS})
    run_like("bomb-run", **{"run.yaml": b"format: 1\nid: bomb-run\n" + BILLION_LAUGHS})
    run_like("bomb-summary", **{"summary.yaml": BILLION_LAUGHS})
    run_like("deep-config", **{"config.yaml": b"a: " + b"[" * 20000 + b"]" * 20000 + b"\n"})
    run_like("huge-config", **{"config.yaml": b"a: '" + b"x" * (64 << 20) + b"'\n"})
    run_like("pyobject", **{"config.yaml": b"a: !!python/object/apply:os.system "
                            b"['touch " + str(h.outside / "pwned").encode() + b"']\n"})
    run_like("tree-config", **{"config.yaml": {"x": b"1"}})
    run_like("list-run", **{"run.yaml": b"- a\n- b\n"})
    run_like("latin1-run", **{"run.yaml": b"format: 1\nid: latin1-run\nname: caf\xe9\n"})
    run_like("future-run", **{"run.yaml": b"format: 999\nid: future-run\n"})
    run_like("garbage-history", **{"history": {"000000.parquet": b"PAR1 not parquet PAR1"}})
    run_like("tree-history", **{"history": b"not a folder"})
    run_like("wrong-id", **{"run.yaml": b"format: 1\nid: ../../../outside/x\nstate: finished\n"})
    run_like("bad-fields", **{"run.yaml": b"format: 1\nid: bad-fields\nstate: [1, 2]\n"
                              b"created_at: {a: 1}\ntags: 5\nsteps: -3\nduration: nan\n"})
    point(a, "refs/gittrack/runs/blob-ref", b"format: 1\n")
    h.bad_runs.append("blob-ref")
    # A ref nested below a run id, and one that looks like an option to git.
    forge(a, "refs/gittrack/runs/nested/deeper", base)
    forge(a, "refs/gittrack/runs/-rf", base)


def _forge_artifacts(h: Hostile) -> None:
    a = h.attacker
    good = "refs/gittrack/artifacts/data"
    base = tree_of(a, good)
    table = pq.read_table(io.BytesIO(base["manifest.parquet"]))  # type: ignore[arg-type]
    digest, size, blob = (table.column(c)[0].as_py() for c in ("digest", "size", "blob"))
    yaml_text = base["artifact.yaml"]
    assert isinstance(yaml_text, bytes)

    def artifact_like(name: str, *, yaml_name: str | None = None, paths: list[str] | None = None,
                      **files: bytes | TreeSpec) -> None:
        spec = dict(base)
        spec["artifact.yaml"] = yaml_text.replace(b"name: data",
                                                  f"name: '{yaml_name or name}'".encode())
        if paths is not None:
            spec["manifest.parquet"] = manifest(paths, digest, size, blob)
        spec.update(files)
        forge(a, f"refs/gittrack/artifacts/{name}", spec)
        h.bad_artifacts.append(name)

    artifact_like("abs-name", yaml_name=str(h.outside / "abs"))
    artifact_like("dotdot-name", yaml_name="../../outside/dotdot")
    artifact_like("dotdot-path", paths=["../../outside/escape.txt"])
    artifact_like("abs-path", paths=[str(h.outside / "abs.txt")])
    artifact_like("deep-dotdot", paths=["a/../../../../outside/deep.txt"])
    artifact_like("clash-path", paths=["x", "x/y"])
    artifact_like("nul-path", paths=["a\x00b"])
    artifact_like("bomb-yaml", **{"artifact.yaml": BILLION_LAUGHS})
    artifact_like("no-yaml", **{"artifact.yaml": {"x": b"1"}})
    artifact_like("garbage-manifest", **{"manifest.parquet": b"PAR1 nonsense PAR1"})
    artifact_like("negative-size", **{"manifest.parquet": manifest(["f"], digest, -5, blob)})
    artifact_like("bad-digest", **{"manifest.parquet": manifest(["f"], "../../x", size, "../../x")})
    forge(a, "refs/gittrack/artifacts/empty", {})
    h.bad_artifacts.append("empty")
    point(a, "refs/gittrack/artifacts/blob-ref", b"name: blob-ref\n")
    h.bad_artifacts.append("blob-ref")
    # Aliases: at a blob, at another artifact's version, at a forged commit.
    point(a, "refs/gittrack/aliases/data/blobalias", b"x")
    plumb(a, "update-ref", "refs/gittrack/aliases/data/elsewhere",
           "refs/gittrack/artifacts/dotdot-path")


@pytest.fixture
def hostile(tmp_path: Path, make_clone: MakeClone, bare_remote: Path) -> Hostile:
    url = str(bare_remote)
    store = tmp_path / "store"
    attacker = make_clone("attacker", url)
    share_storage(attacker, str(store))
    good_run = log_run(attacker, {}, data="1,2,3\n", name="data")
    (tmp_path / "outside").mkdir()
    h = Hostile(tmp_path, attacker, tmp_path / "victim", good_run)
    _forge_runs(h)
    _forge_artifacts(h)
    git(attacker, "push", "-q", "origin", "+refs/gittrack/*:refs/gittrack/*")
    git(tmp_path, "clone", "-q", url, str(h.victim))
    assert_clean(h.run("pull"))
    return h


def _outside_untouched(h: Hostile, before: set[str]) -> None:
    assert list(h.outside.iterdir()) == [], "a forged name or path wrote outside the repository"
    assert {p.name for p in h.root.iterdir()} == before, "something was written beside the clones"


def test_listing_survives_forged_runs_and_artifacts(hostile: Hostile) -> None:
    h = hostile
    result = h.run("runs", "--json")
    assert_clean(result, ok=True)
    ids = {row["id"] for row in json.loads(result.stdout)}
    assert h.good_run in ids
    result = h.run("runs")
    assert_clean(result, ok=True)
    assert h.good_run in result.stdout or h.good_run[:8] in result.stdout

    result = h.run("artifact", "ls", "--json")
    assert_clean(result, ok=True)
    assert "data" in {row["name"] for row in json.loads(result.stdout)}
    assert_clean(h.run("artifact", "ls"), ok=True)
    assert_clean(h.run("recover"))

    api = h.python(
        "import gittrack, json\n"
        "api = gittrack.Api('.')\n"
        "print(json.dumps({'runs': [r.id for r in api.runs()],\n"
        "                  'artifacts': [a.name for a in api.artifacts()]}))\n"
    )
    assert_clean(api, ok=True)
    seen = json.loads(api.stdout.splitlines()[-1])
    assert h.good_run in seen["runs"] and "data" in seen["artifacts"]


def test_every_command_on_a_forged_run_fails_cleanly(hostile: Hostile) -> None:
    h = hostile
    before = {p.name for p in h.root.iterdir()}
    for run_id in [*h.bad_runs, "nested/deeper"]:
        for args in (("show", run_id), ("show", run_id, "--json"), ("log", run_id, "--all"),
                     ("diff", h.good_run, run_id), ("diff", h.good_run, run_id, "--json"),
                     ("export", run_id, "-o", "export-out")):
            assert_clean(h.run(*args))
    assert_clean(h.run("show", "--", "-rf"))
    result = h.python(
        "import gittrack\n"
        "for run in gittrack.Api('.').runs():\n"
        "    try:\n"
        "        run.history(); run.config; run.summary\n"
        "    except gittrack.GittrackError as exc:\n"
        "        print('refused', run.id, type(exc).__name__)\n"
    )
    assert_clean(result, ok=True)
    _outside_untouched(h, before)


def test_forged_artifacts_never_write_outside(hostile: Hostile) -> None:
    h = hostile
    before = {p.name for p in h.root.iterdir()}
    for name in h.bad_artifacts:
        assert_clean(h.run("artifact", "show", name))
        assert_clean(h.run("artifact", "show", name, "--json"))
        assert_clean(h.run("artifact", "get", name, "-o", "downloads"))
        assert_clean(h.run("artifact", "get", f"{name}:v0"))
    for alias in ("data:blobalias", "data:elsewhere"):
        assert_clean(h.run("artifact", "get", alias, "-o", "downloads"))
    result = h.python(
        "import gittrack\n"
        "api = gittrack.Api('.')\n"
        f"for name in {h.bad_artifacts!r}:\n"
        "    try:\n"
        "        art = api.artifact(name)\n"
        "        art.download(); art.path() if hasattr(art, 'path') else None\n"
        "    except gittrack.GittrackError as exc:\n"
        "        print('refused', name, type(exc).__name__)\n"
    )
    assert_clean(result, ok=True)
    assert len(result.stdout.splitlines()) == len(h.bad_artifacts), result.stdout
    _outside_untouched(h, before)
    # The good artifact still downloads, byte for byte.
    out = h.victim / "good-out"
    assert_clean(h.run("artifact", "get", "data:latest", "-o", str(out)), ok=True)
    assert [p.read_text() for p in out.rglob("*") if p.is_file()] == ["1,2,3\n"]


def test_sync_and_maintenance_keep_working(hostile: Hostile, bare_remote: Path) -> None:
    h = hostile
    before = {p.name for p in h.root.iterdir()}
    for args in (("fetch",), ("pull",), ("push", "--dry-run"), ("push",)):
        assert_clean(h.run(*args))
    # A forged row makes the mark phase keep more; only a manifest that is not Parquet at
    # all stops gc (what it names cannot be known), naming the way out.
    for args in (("gc", "--dry-run"), ("gc", "--grace", "0")):
        result = h.run(*args)
        assert_clean(result)
        assert result.returncode == 6 and "artifact rm" in result.stderr, result.stderr
    removed = h.run("artifact", "rm", "--yes", "--remote", "origin", "garbage-manifest")
    assert_clean(removed, ok=True)
    for args in (("gc", "--dry-run"), ("gc", "--grace", "0")):
        assert_clean(h.run(*args), ok=True)
    _outside_untouched(h, before)
    # The good run still reads in full after all of it.
    result = h.run("log", h.good_run, "--json", "--all")
    assert_clean(result, ok=True)
    assert len(json.loads(result.stdout)) == 3


def test_hostile_remote_refs_never_reach_git_as_options(
        hostile: Hostile, make_clone: Callable[..., Any]) -> None:
    h = hostile
    marker = h.outside / "injected"
    for args in (("fetch", "--", f"--upload-pack=touch {marker}; echo x://"),
                 ("pull", "--", f"--upload-pack=touch {marker}"),
                 ("push", "--", f"--receive-pack=touch {marker}"),
                 ("fetch", f"ext::sh -c touch% {marker}")):
        result = h.run(*args)
        assert_clean(result)
        assert result.returncode != 0
    assert not marker.exists()


def test_purge_beside_forged_runs_keeps_what_they_may_use(hostile: Hostile) -> None:
    """A run that cannot be read may use the purged run's artifacts: they are kept and the
    report says why; the run itself is purged, and forged artifacts do not stop it."""
    h = hostile
    result = h.run("purge", "--yes", h.good_run)
    assert_clean(result, ok=True)
    assert "cannot be read and may use it" in result.stdout + result.stderr
    listed = h.run("runs", "--json")
    assert h.good_run not in {row["id"] for row in json.loads(listed.stdout)}
    assert_clean(h.run("artifact", "get", "data:latest", "-o", "kept"), ok=True)
