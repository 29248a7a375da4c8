"""Artifacts (issue 3): putting and getting a large file and many small files, encrypted and not,
to a local folder and to S3 (a moto server on 127.0.0.1), beside the floor pipeline
``sha256sum`` + ``age -r`` + ``cp`` of the same bytes and, when installed, DVC.

What is timed, each in a fresh process (``bench.worker``):

- gittrack put: ``Artifact(...)``, ``add_file``/``add_dir`` and ``run.log_artifact(art)``, after
  ``import gittrack`` and ``init()`` (their cost is printed apart); second put: the same again
  in a new process, on unchanged data (the stat cache and the store's listing make it cheap);
  get: ``run.use_artifact("name:latest").download(root)`` with the local blob cache emptied
  first, so every blob comes from the store.
- floor put: ``sha256sum`` of the bytes, ``age -r`` to a temporary file (encrypted only), then
  ``cp`` into a folder named by the digest, or s3fs ``put_file`` (S3: no ``aws`` command line);
  floor get: ``cp`` or s3fs ``get_file``, ``age -d``, ``sha256sum -c``, ``mv`` into place. For
  many files: ``sha256sum`` and ``age`` over ``xargs -P nproc`` (``age`` takes one file per
  process), one ``cp -r``, s3fs ``put``/``get`` of the file list (its own concurrency).
- DVC (plain only: it does not encrypt): ``dvc add`` + ``dvc push`` to a local remote;
  get: ``dvc pull`` with its cache and the workspace copy removed; whole commands, process
  start included.
- peak memory: the high-water mark of the whole worker process (``VmHWM``, what
  ``getrusage().ru_maxrss`` reports) putting a 2 GiB file, then (a new process, the local
  blob cache emptied) getting it back; the RSS before the put is shown.

Sources are in the page cache (written just before, mtimes an hour old); ``sync`` runs before
every timed step so one step's write-back is not paid by the next. Local figures are medians
over ``--repeats`` runs (each in a fresh project and store) with the tools' order rotated
between runs; S3 figures are single runs (moto is slow, see the notes printed with them).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.artifacts_data import (
    GiB,
    MiB,
    rm,
    s3_filesystem,
    size_label,
    tree,
    write_random,
    write_small_files,
)
from bench.artifacts_results import Case, Results, report
from bench.common import (
    ROOT,
    Context,
    Target,
    clean_env,
    dist_version,
    make_repo,
    python_result,
    run_command,
)
from tests.helpers.servers import moto_server

_NO_INHERIT = ("GITTRACK_", "AWS_", "DVC_", "XDG_", "BOTO")


def _data_env(home: Path) -> dict[str, str]:
    """The environment of every command: a private HOME (the age identity and git identity of
    the benchmark live there), no inherited gittrack, AWS or DVC settings."""
    env = {k: v for k, v in clean_env().items() if not k.startswith(_NO_INHERIT)}
    env.update({
        "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"), "GITTRACK_QUIET": "1", "GITTRACK_PROGRESS": "0",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "DVC_NO_ANALYTICS": "1", "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    })
    return env


def _worker(env: dict[str, str], task: str, args: dict[str, Any], *,
            timeout: float = 3600) -> dict[str, Any]:
    """``bench.worker TASK`` in a fresh interpreter with ``env`` exactly; its result dict."""
    return python_result(["-m", "bench.worker", task, json.dumps(args)], env=env, cwd=ROOT,
                         timeout=timeout)


def _run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    return run_command(argv, env=env, cwd=cwd)


def _timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    os.sync()
    t0 = time.perf_counter()
    _run(argv, env, cwd)
    return time.perf_counter() - t0



class Bench:
    """The section's state: scratch folders, data, the S3 server and the results."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.root = _scratch_root(ctx)
        self.home = self.root / "home"
        (self.home / ".config").mkdir(parents=True, exist_ok=True)
        (self.home / ".gitconfig").write_text(
            "[user]\n\tname = bench\n\temail = bench@localhost\n[init]\n\tdefaultBranch = main\n")
        self.env = _data_env(self.home)
        self.jobs = os.cpu_count() or 1
        self.big_size = 128 * MiB if ctx.quick else GiB
        self.huge_size = 256 * MiB if ctx.quick else 2 * GiB
        self.files = 1_000 if ctx.quick else 10_000
        self.data = self.root / "data"
        self.big = self.data / "big.bin"
        self.small = self.data / "small"
        self.small_bytes = 0
        self.s3_url: str | None = None
        self.s3_options: dict[str, Any] = {}
        self.results = Results()
        self.memory_results: dict[str, dict[str, Any]] = {}
        self.dvc: str | None = None
        self.serial = 0
        # The floor's own age key (the same X25519 kind as a gittrack project's).
        keys = self.root / "floor-key.txt"
        _run(["age-keygen", "-o", str(keys)], self.env)
        self.floor_identity = str(keys)
        self.floor_recipient = _run(["age-keygen", "-y", str(keys)], self.env).strip()

    # -- helpers ---------------------------------------------------------------------------
    def fresh(self, stem: str) -> Path:
        self.serial += 1
        path = self.root / "work" / f"{self.serial:03d}-{stem}"
        path.mkdir(parents=True)
        return path

    def gittrack(self, repo: Path, *args: str) -> str:
        return _run([sys.executable, "-m", "gittrack", *args], self.env, repo)

    def project(self, where: Path, case: Case) -> tuple[Path, dict[str, Any]]:
        """A fresh repository whose storage is a fresh, empty store; (repo, store spec)."""
        repo = make_repo(where / "project")
        spec = self.store_spec(where, case)
        if case.store == "local":
            self.gittrack(repo, "storage", "set", spec["root"])
        else:
            assert self.s3_url is not None
            self.gittrack(repo, "storage", "set", f"s3://{spec['bucket']}/gittrack",
                          "-o", f"endpoint_url={self.s3_url}")
        if case.encrypted:
            self.gittrack(repo, "keys", "init", "--name", "bench")
        return repo, spec

    def store_spec(self, where: Path, case: Case) -> dict[str, Any]:
        """A fresh, empty store for ``case``: ``where/store``, or a new S3 bucket."""
        if case.store == "local":
            return {"type": "local", "root": str(where / "store")}
        bucket = f"bench-{uuid.uuid4().hex[:20]}"
        s3_filesystem(self.s3_options).mkdir(bucket)
        return {"type": "s3", "root": f"{bucket}/floor", "options": self.s3_options,
                "bucket": bucket}

    @contextlib.contextmanager
    def scratch_project(self, stem: str, case: Case,
                        what: str) -> Iterator[tuple[Path, Path, dict[str, Any]] | None]:
        """``(folder, repo, store spec)``: a fresh folder with a project on a fresh store,
        both removed on the way out; ``None`` (noted, naming ``what``) if it could not be set up.
        """
        where = self.fresh(stem)
        try:
            repo, spec = self.project(where, case)
        except RuntimeError as exc:
            self.results.note(f"note: {what}: {exc}")
            rm(where)
            yield None
            return
        try:
            yield where, repo, spec
        finally:
            self.drop_store(spec)
            rm(where)

    def drop_store(self, spec: dict[str, Any]) -> None:
        if spec["type"] == "s3":
            with contextlib.suppress(Exception):
                s3_filesystem(self.s3_options).rm(spec["bucket"], recursive=True)

    def source(self, data: str) -> Path:
        return self.big if data == "file" else self.small

    def check_tree(self, what: str, got: Path, data: str) -> None:
        want = tree(self.source(data))
        have = tree(got)
        if have != want:
            self.results.note(f"note: {what} brought back {have[0]:,} files / {have[1]:,} "
                              f"bytes, expected {want[0]:,} / {want[1]:,}")

    def worker(self, task: str, args: dict[str, Any], what: str) -> dict[str, Any] | None:
        os.sync()
        self.ctx.progress(f"artifacts: {what}")
        result = _worker(self.env, task, args)
        if "error" in result:
            self.results.note(f"note: {what} failed: {result['error']}")
            return None
        return result

    # -- one case, one tool ----------------------------------------------------------------
    def run_gittrack(self, data: str, case: Case) -> None:
        with self.scratch_project(f"gittrack-{data}-{case.store}", case,
                                  f"could not set up a gittrack project ({case.label})") as made:
            if made is not None:
                self.gittrack_case(data, case, *made[:2])

    def gittrack_case(self, data: str, case: Case, where: Path, repo: Path) -> None:
        """Put, put again (warm, cold) and get one data set in the project ``repo``."""
        res = self.results
        key = (data, case.label, "gittrack")
        what = f"{data}, {case.label}"
        args = {"repo": str(repo), "kind": data, "path": str(self.source(data)),
                "s3": case.store == "s3"}
        first = self.worker("artifact_put", args, f"gittrack put, {what}")
        if first is None:
            return
        res.add((*key, "put"), first["seconds"])
        res.peaks.setdefault((data, case.label, "put"), []).append(first["peak_mb"])
        res.overhead.append(first["import_s"] + first["init_s"])
        res.lazy.append(first["lazy_import_s"])
        res.add((*key, "lazy"), first["lazy_import_s"])
        for op, warm in (("put2", True), ("put2cold", False)):
            again = self.worker("artifact_put", {**args, "warm": warm},
                                f"gittrack second put ({'warm' if warm else 'cold'}), {what}")
            if again is None:
                continue
            res.add((*key, op), again["seconds"])
            if again["spec"] != first["spec"]:
                res.note(f"note: a second put of {what} made {again['spec']}, not "
                         f"{first['spec']}")
        rm(repo / ".git" / "gittrack" / "cache" / "blobs")  # every blob from the store
        out = where / "out"
        got = self.worker("artifact_get", {**args, "root": str(out)}, f"gittrack get, {what}")
        if got is not None:
            res.add((*key, "get"), got["seconds"])
            res.peaks.setdefault((data, case.label, "get"), []).append(got["peak_mb"])
            self.check_tree(f"gittrack get ({what})",
                            out / self.big.name if data == "file" else out, data)

    def run_floor(self, data: str, case: Case, tool: str = "floor") -> None:
        """``tool``: "floor"; "openssl" (the same, hashed by ``openssl dgst``); "tar"."""
        kind = "tar" if tool == "tar" else data
        where = self.fresh(f"{tool}-{data}-{case.store}")
        spec = self.store_spec(where, case)
        common = {"kind": kind, "store": spec, "encrypted": case.encrypted,
                  "hasher": "openssl" if tool == "openssl" else "sha256sum",
                  "recipient": self.floor_recipient, "identity": self.floor_identity,
                  "jobs": self.jobs, "tmp": str(where / "tmp")}
        out = where / "out"
        dst = out / self.big.name if data == "file" else out
        try:
            put = self.worker("artifact_floor", {**common, "op": "put",
                                                 "src": str(self.source(data))},
                              f"{tool} put, {data}, {case.label}")
            if put is None:
                return
            self.record_floor(data, case, tool, "put", put)
            got = self.worker("artifact_floor", {**common, "op": "get", "dst": str(dst),
                                                 "digest": put.get("digest"),
                                                 "sums": put.get("sums")},
                              f"{tool} get, {data}, {case.label}")
            if got is not None:
                self.record_floor(data, case, tool, "get", got)
                self.check_tree(f"{tool} get ({data}, {case.label})", dst, data)
        finally:
            self.drop_store(spec)
            rm(where)

    def record_floor(self, data: str, case: Case, tool: str, op: str,
                     result: dict[str, Any]) -> None:
        key = (data, case.label, tool, op)
        self.results.add(key, result["seconds"])
        steps = self.results.steps.setdefault(key, {})
        for name, seconds in result["steps"].items():
            steps.setdefault(name, []).append(seconds)
        for name, mb in result.get("tool_peaks", {}).items():
            self.results.tool_peaks[name] = max(self.results.tool_peaks.get(name, 0.0), mb)

    def run_dvc(self, data: str, case: Case) -> None:
        assert self.dvc is not None and case.store == "local" and not case.encrypted
        where = self.fresh(f"dvc-{data}")
        repo = make_repo(where / "project")
        env = self.env
        key = (data, case.label, "dvc")
        try:
            _run([self.dvc, "init", "-q"], env, repo)
            _run([self.dvc, "remote", "add", "-d", "store", str(where / "remote")], env, repo)
            workspace = repo / "data"
            workspace.mkdir()
            target = workspace / self.source(data).name
            _run(["cp", "-rp", str(self.source(data)), str(target)], env)  # not timed
            rel = str(target.relative_to(repo))
            for op in ("put", "put2"):
                self.ctx.progress(f"artifacts: DVC {op}, {data}")
                seconds = (_timed([self.dvc, "add", "-q", rel], env, repo)
                           + _timed([self.dvc, "push", "-q"], env, repo))
                self.results.add((*key, op), seconds)
            rm(repo / ".dvc" / "cache", target)
            self.ctx.progress(f"artifacts: DVC get, {data}")
            self.results.add((*key, "get"), _timed([self.dvc, "pull", "-q"], env, repo))
            self.check_tree(f"dvc pull ({data})", target, data)
        except RuntimeError as exc:
            self.results.note(f"note: DVC ({data}) failed: {exc}")
        finally:
            rm(where)

    def run_case(self, data: str, case: Case, rotation: int) -> None:
        tools: list[Callable[[], None]] = [lambda: self.run_gittrack(data, case),
                                           lambda: self.run_floor(data, case)]
        if self.dvc and case.store == "local" and not case.encrypted:
            tools.append(lambda: self.run_dvc(data, case))
        if data == "file" and case.store == "local" and shutil.which("openssl"):
            tools.append(lambda: self.run_floor(data, case, "openssl"))
        if data == "dir" and case.store == "local" and case.encrypted:
            tools.append(lambda: self.run_floor(data, case, "tar"))
        rotation %= len(tools)
        for tool in tools[rotation:] + tools[:rotation]:
            tool()

    def s3_probe(self) -> dict[str, Any] | None:
        """Plain s3fs gets of the big file, to tell moto's cost from gittrack's."""
        bucket = f"bench-{uuid.uuid4().hex[:20]}"
        fs = s3_filesystem(self.s3_options)
        fs.mkdir(bucket)
        try:
            self.ctx.progress("artifacts: s3fs alone, upload for the get probe")
            fs.put_file(str(self.big), f"{bucket}/big.bin")
            return self.worker("artifact_s3_get", {
                "options": self.s3_options, "path": f"{bucket}/big.bin",
                "dst": str(self.root / "probe.bin"),
                "variants": ["defaults", "one", "gittrack"]},
                "s3fs get_file of the big file, three part settings")
        finally:
            with contextlib.suppress(Exception):
                fs.rm(bucket, recursive=True)

    def memory(self, cases: list[Case]) -> dict[str, dict[str, Any]]:
        rm(self.big, self.small)  # done with them: keep the disk use down
        huge = self.data / "huge.bin"
        self.ctx.progress(f"artifacts: writing {size_label(self.huge_size)} of random bytes")
        write_random(huge, self.huge_size, seed=2)
        out: dict[str, dict[str, Any]] = {}
        try:
            for case in cases:
                with self.scratch_project(f"memory-{case.store}", case,
                                          f"memory, {case.label}") as made:
                    if made is None:
                        continue
                    where, repo, _ = made
                    args = {"repo": str(repo), "kind": "file", "path": str(huge),
                            "s3": case.store == "s3"}
                    what = f"{size_label(self.huge_size)}, {case.label}"
                    result = self.worker("artifact_put", args, f"memory, put {what}")
                    if result is not None:
                        result["get"] = self.memory_get(repo, args, where, huge, what)
                        out[case.label] = result
        finally:
            rm(huge)
        return out

    def memory_get(self, repo: Path, args: dict[str, Any], where: Path, huge: Path,
                   what: str) -> dict[str, Any] | None:
        """Get the file just put, every byte from the store; the worker's result."""
        rm(repo / ".git" / "gittrack" / "cache" / "blobs")
        out = where / "out"
        got = self.worker("artifact_get", {**args, "root": str(out)}, f"memory, get {what}")
        back = out / huge.name
        if got is not None and (not back.is_file() or back.stat().st_size != huge.stat().st_size):
            self.results.note(f"note: memory, get {what} did not bring the file back whole")
        rm(out)
        return got


def _scratch_root(ctx: Context) -> Path:
    """A folder on the repository's filesystem (not tmpfs): the scratch folder when it is on
    the same device, else an ignored folder inside the repository's bench/results."""
    root = ctx.scratch("artifacts")
    if os.stat(root).st_dev != os.stat(ROOT).st_dev:
        root = ROOT / "bench" / "results" / f"artifacts-scratch-{os.getpid()}"
        root.mkdir(parents=True, exist_ok=True)
    return root


def _fs_type(path: Path) -> str:
    try:
        out = subprocess.run(["df", "-T", str(path)], capture_output=True, text=True).stdout
        fields = out.splitlines()[1].split()
        return f"{fields[1]} on {fields[0]}"
    except (OSError, IndexError):
        return "?"


# -- the section ------------------------------------------------------------------------------

def run(ctx: Context) -> None:
    repeats = ctx.repeats
    missing = [tool for tool in ("age", "age-keygen", "sha256sum") if shutil.which(tool) is None]
    big_label = size_label(128 * MiB if ctx.quick else GiB)
    files = 1_000 if ctx.quick else 10_000
    ctx.out(f"## artifacts: put and get of a {big_label} file and of {files:,} small files "
            "(1–8 KiB), local folder and S3")
    if missing:
        ctx.out(f"  skipped: {', '.join(missing)} not found (the floor pipeline needs them; "
                "age: apt-get install age)")
        for name in ("1 GiB encrypted put ≤ 1.5× the floor", "second put < 5% of the first",
                     "peak memory putting or getting a 2 GiB file < 150 MB"):
            ctx.targets.append(Target(f"artifacts: {name}", "not measured", None))
        return
    bench = Bench(ctx)
    try:
        _measure(ctx, bench, repeats)
    finally:
        rm(bench.data)
        if ctx.tmp not in bench.root.parents:  # the fallback inside bench/results
            shutil.rmtree(bench.root, ignore_errors=True)


def _measure(ctx: Context, bench: Bench, repeats: int) -> None:
    ctx.progress(f"artifacts: writing {size_label(bench.big_size)} and {bench.files:,} files")
    write_random(bench.big, bench.big_size, seed=0)
    bench.small_bytes = write_small_files(bench.small, bench.files, seed=1)
    dvc = shutil.which("dvc")
    dvc_note = "DVC: not installed (pip install dvc, or the bench extra); its rows are skipped"
    if dvc is not None:
        try:
            version = _run([dvc, "--version"], bench.env).strip()
            bench.dvc = dvc
            dvc_note = f"DVC {version}"
        except RuntimeError as exc:
            dvc_note = f"DVC: `dvc --version` failed ({exc}); its rows are skipped"
    s3_ok = shutil.which("moto_server") is not None and importlib.util.find_spec("s3fs")
    same_dev = os.stat(bench.root).st_dev == os.stat(ROOT).st_dev
    ctx.out(f"  data: one file of {size_label(bench.big_size)} ({bench.big_size:,} bytes) and "
            f"{bench.files:,} files of 1–8 KiB in {bench.files // 100} folders "
            f"({bench.small_bytes:,} bytes), random bytes (numpy, seeds 0 and 1), mtimes an "
            "hour old")
    ctx.out(f"  scratch: a temporary folder ({_fs_type(bench.root)}; same filesystem as the "
            f"repository: {'yes' if same_dev else 'no'}); tools: age "
            f"{_run(['age', '--version'], bench.env).strip()}, "
            f"{_run(['sha256sum', '--version'], bench.env).splitlines()[0]}, s3fs "
            f"{dist_version('s3fs')}, moto {dist_version('moto')}, pyrage "
            f"{dist_version('pyrage')}, {dvc_note}")

    local = [Case("local", True), Case("local", False)]
    for rep in range(repeats):
        for data in ("file", "dir"):
            for case in local:
                ctx.progress(f"artifacts: run {rep + 1}/{repeats}, {data}, {case.label}")
                bench.run_case(data, case, rep)
    memory_cases = list(local)
    probe = None
    s3_note = None
    with contextlib.ExitStack() as stack:
        if not s3_ok:
            s3_note = ("S3: moto_server or s3fs not installed (pip install 'moto[server]' "
                       "s3fs, in the test and bench extras); S3 rows are skipped")
        else:
            try:
                url = stack.enter_context(moto_server(bench.root / "moto_server.log",
                                                      bench.env, seconds=60))
            except RuntimeError as exc:
                s3_note = f"S3: could not start moto_server ({exc}); S3 rows are skipped"
            else:
                bench.s3_url = url
                bench.s3_options = {"endpoint_url": url, "key": "testing", "secret": "testing"}
                for data in ("file", "dir"):
                    for case in (Case("s3", True), Case("s3", False)):
                        bench.run_case(data, case, 0)
                probe = bench.s3_probe()
                memory_cases += [Case("s3", True), Case("s3", False)]
        bench.memory_results = bench.memory(memory_cases)  # S3 cases while moto still runs
    rm(bench.data)
    report(ctx, bench, repeats, probe, s3_note)
