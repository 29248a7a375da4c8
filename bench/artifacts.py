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
import importlib.metadata
import importlib.util
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    RESULT_MARK,
    ROOT,
    Context,
    Target,
    clean_env,
    fmt_ratio,
    fmt_s,
    make_repo,
    peak_rss_mb,
    rss_mb,
    table,
)
from tests.helpers.servers import moto_server

MiB = 1 << 20
GiB = 1 << 30
PUT_FACTOR = 1.5  # target: a 1 GiB encrypted put within 1.5× of the floor pipeline
SECOND_PUT = 0.05  # target: a second put of unchanged data under 5% of the first
MEMORY_MB = 150.0  # target: peak memory under 150 MB whatever the file size
ARTIFACT = "data"
_NO_INHERIT = ("GITTRACK_", "AWS_", "DVC_", "XDG_", "BOTO")


# -- the worker side (``python -m bench.worker TASK ARGS``) -----------------------------------

# What gittrack imports on its first artifact call (the manifest is Parquet; stores are fsspec).
_LAZY = ("pyarrow", "pyarrow.parquet", "fsspec", "pyrage", "gittrack.artifacts.publish",
         "gittrack.artifacts.project", "gittrack.artifacts.view", "gittrack.crypto.keys",
         "gittrack.crypto.age")


def _start(args: dict[str, Any], job: str) -> tuple[Any, dict[str, Any]]:
    """``import gittrack``, ``init()`` and (``warm``, the default) the lazy imports, timed."""
    import importlib

    t0 = time.perf_counter()
    import gittrack

    t1 = time.perf_counter()
    lazy = 0.0
    if args.get("warm", True):
        for module in _LAZY + (("s3fs",) if args.get("s3") else ()):
            importlib.import_module(module)
        lazy = time.perf_counter() - t1
    t2 = time.perf_counter()
    run = gittrack.init(repo=args["repo"], project="bench", job_type=job,
                        settings={"quiet": True})
    return run, {"import_s": t1 - t0, "lazy_import_s": lazy,
                 "init_s": time.perf_counter() - t2}


def worker_put(args: dict[str, Any]) -> dict[str, Any]:
    import gittrack

    run, info = _start(args, "put")
    with run:
        before = rss_mb()
        t0 = time.perf_counter()
        art = gittrack.Artifact(args.get("name", ARTIFACT), type="dataset")
        if args["kind"] == "dir":
            art.add_dir(args["path"])
        else:
            art.add_file(args["path"])
        version = run.log_artifact(art)
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "spec": version.spec, "rss_before_mb": before,
            "peak_mb": peak_rss_mb(), **info}


def worker_get(args: dict[str, Any]) -> dict[str, Any]:
    run, info = _start(args, "get")
    with run:
        before = rss_mb()
        t0 = time.perf_counter()
        version = run.use_artifact(f"{args.get('name', ARTIFACT)}:latest")
        version.download(args["root"])
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "spec": version.spec, "rss_before_mb": before,
            "peak_mb": peak_rss_mb(), **info}


class _Steps:
    """Named, timed steps of a pipeline."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - t0


def _sh(argv: list[str] | str, *, env: dict[str, str] | None = None,
        stdin: str | None = None) -> str:
    """Run a command (a list) or a bash script (a string); its stdout, or a readable error."""
    shell = isinstance(argv, str)
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", argv] if shell else argv,
                          capture_output=True, text=True, input=stdin,
                          env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        what = argv if shell else " ".join(argv)
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"`{str(what)[:120]}` exited {proc.returncode}: {tail[:200]}")
    return proc.stdout


def _s3(options: dict[str, Any]) -> Any:
    import fsspec

    return fsspec.filesystem("s3", use_listings_cache=False, **options)


def _files_under(root: Path) -> list[str]:
    """Relative paths of the regular files under ``root``, sorted."""
    out = []
    for folder, _, names in os.walk(root):
        for name in names:
            out.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(out)


def worker_floor(args: dict[str, Any]) -> dict[str, Any]:
    """The floor pipeline: one put or get, of one file or a folder, local or S3."""
    store = args["store"]
    fs = _s3(store["options"]) if store["type"] == "s3" else None
    tmp = Path(args["tmp"])
    tmp.mkdir(parents=True, exist_ok=True)
    steps = _Steps()
    pipeline = {("put", "file"): _floor_put_file, ("get", "file"): _floor_get_file,
                ("put", "dir"): _floor_put_dir, ("get", "dir"): _floor_get_dir,
                ("put", "tar"): _floor_put_tar, ("get", "tar"): _floor_get_tar}
    fn = pipeline[args["op"], args["kind"]]
    t0 = time.perf_counter()
    out = fn(args, steps, fs, tmp)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "steps": steps.times, **out}


def _blob_path(digest: str) -> str:
    return f"{digest[:2]}/{digest[2:]}"


def _measured(argv: list[str], tmp: Path, peaks: dict[str, float]) -> None:
    """Run ``argv`` under GNU time when it is installed, to record its own peak RSS (a
    child's ``getrusage`` figure would count this big parent's pages at fork)."""
    gnu_time = "/usr/bin/time"
    if not os.path.exists(gnu_time):
        _sh(argv)
        return
    report = tmp / "rss.txt"
    _sh([gnu_time, "-f", "%M", "-o", str(report), *argv])
    peaks[argv[0] + " " + argv[1]] = int(report.read_text().split()[-1]) / 1024


def _floor_put_file(a: dict[str, Any], step: _Steps, fs: Any, tmp: Path) -> dict[str, Any]:
    src = a["src"]
    if a["hasher"] == "openssl":
        with step("openssl dgst -sha256"):
            digest = _sh(["openssl", "dgst", "-sha256", "-r", src]).split()[0]
    else:
        with step("sha256sum"):
            digest = _sh(["sha256sum", src]).split()[0]
    upload = src
    peaks: dict[str, float] = {}
    if a["encrypted"]:
        upload = str(tmp / "blob.age")
        with step("age -r"):
            _measured(["age", "-r", a["recipient"], "-o", upload, src], tmp, peaks)
    rel = _blob_path(digest)
    if fs is None:
        with step("cp"):
            target = Path(a["store"]["root"]) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            _sh(["cp", upload, str(target)])
    else:
        with step("s3fs put_file"):
            fs.put_file(upload, f"{a['store']['root']}/{rel}")
    if a["encrypted"]:
        os.unlink(upload)
    return {"digest": digest, "tool_peaks": peaks}


def _floor_get_file(a: dict[str, Any], step: _Steps, fs: Any, tmp: Path) -> dict[str, Any]:
    digest = a["digest"]
    rel = _blob_path(digest)
    dst = Path(a["dst"])
    dst.parent.mkdir(parents=True, exist_ok=True)
    part = dst.with_name(dst.name + ".part")
    fetched = tmp / "blob.age" if a["encrypted"] else part
    if fs is None:
        with step("cp"):
            _sh(["cp", str(Path(a["store"]["root"]) / rel), str(fetched)])
    else:
        with step("s3fs get_file"):
            fs.get_file(f"{a['store']['root']}/{rel}", str(fetched))
    peaks: dict[str, float] = {}
    if a["encrypted"]:
        with step("age -d"):
            _measured(["age", "-d", "-i", a["identity"], "-o", str(part), str(fetched)], tmp,
                      peaks)
            fetched.unlink()
    if a["hasher"] == "openssl":
        with step("openssl dgst -sha256"):
            got = _sh(["openssl", "dgst", "-sha256", "-r", str(part)]).split()[0]
        if got != digest:
            raise RuntimeError(f"{part}: sha256 {got}, expected {digest}")
    else:
        with step("sha256sum -c"):
            _sh(["sha256sum", "-c", "--quiet", "-"], stdin=f"{digest}  {part}\n")
    os.replace(part, dst)
    return {"tool_peaks": peaks}


_AGE_EACH = ('find . -type d -print0 | (cd "$OUT" && xargs -0 mkdir -p) && '
             'find . -type f -print0 | xargs -0 -n 100 -P "$JOBS" '
             'sh -c \'for f; do age {flags} -o "$OUT/$f" "$f" || exit 255; done\' sh')


def _floor_put_dir(a: dict[str, Any], step: _Steps, fs: Any, tmp: Path) -> dict[str, Any]:
    src, jobs = Path(a["src"]), str(a["jobs"])
    sums = tmp / "sums"
    with step("sha256sum"):
        _sh(f"cd {shlex.quote(str(src))} && find . -type f -print0 | "
            f"xargs -0 -n 1000 -P {jobs} sha256sum > {shlex.quote(str(sums))}")
    upload = src
    if a["encrypted"]:
        upload = tmp / "enc"
        upload.mkdir()
        with step("age -r"):
            _sh(f"cd {shlex.quote(str(src))} && " + _AGE_EACH.format(flags='-r "$R"'),
                env={"R": a["recipient"], "OUT": str(upload), "JOBS": jobs})
    if fs is None:
        with step("cp -r"):
            Path(a["store"]["root"]).mkdir(parents=True, exist_ok=True)
            _sh(["cp", "-r", f"{upload}/.", a["store"]["root"]])
    else:
        with step("s3fs put"):
            names = _files_under(upload)
            fs.put([str(upload / n) for n in names],
                   [f"{a['store']['root']}/{n}" for n in names])
    if a["encrypted"]:
        with step("rm -r"):
            shutil.rmtree(upload)
    return {"sums": str(sums)}


def _floor_get_dir(a: dict[str, Any], step: _Steps, fs: Any, tmp: Path) -> dict[str, Any]:
    dst, jobs = Path(a["dst"]), str(a["jobs"])
    dst.mkdir(parents=True, exist_ok=True)
    fetched = tmp / "got" if a["encrypted"] else dst
    fetched.mkdir(parents=True, exist_ok=True)
    if fs is None:
        with step("cp -r"):
            _sh(["cp", "-r", f"{a['store']['root']}/.", str(fetched)])
    else:
        with step("s3fs get"):
            root = a["store"]["root"].rstrip("/")
            remote = fs.find(root)
            fs.get(remote, [str(fetched / p[len(root) + 1:]) for p in remote])
    if a["encrypted"]:
        with step("age -d"):
            _sh(f"cd {shlex.quote(str(fetched))} && " + _AGE_EACH.format(flags='-d -i "$ID"'),
                env={"ID": a["identity"], "OUT": str(dst), "JOBS": jobs})
        with step("rm -r"):
            shutil.rmtree(fetched)
    with step("sha256sum -c"):
        _sh(f"cd {shlex.quote(str(dst))} && sha256sum -c --quiet {shlex.quote(a['sums'])}")
    return {}


def _floor_put_tar(a: dict[str, Any], step: _Steps, fs: Any, tmp: Path) -> dict[str, Any]:
    """For scale: the folder as one age stream (one blob: not content-addressed per file)."""
    target = Path(a["store"]["root"]) / "folder.tar.age"
    target.parent.mkdir(parents=True, exist_ok=True)
    blob = tmp / "folder.tar.age"
    with step("tar | age -r"):
        _sh(f"tar -C {shlex.quote(a['src'])} -cf - . | age -r \"$R\" -o {shlex.quote(str(blob))}",
            env={"R": a["recipient"]})
    with step("cp"):
        _sh(["cp", str(blob), str(target)])
        blob.unlink()
    return {}


def _floor_get_tar(a: dict[str, Any], step: _Steps, fs: Any, tmp: Path) -> dict[str, Any]:
    dst = Path(a["dst"])
    dst.mkdir(parents=True, exist_ok=True)
    blob = tmp / "folder.tar.age"
    with step("cp"):
        _sh(["cp", str(Path(a["store"]["root"]) / "folder.tar.age"), str(blob)])
    with step("age -d | tar -x"):
        _sh(f"age -d -i \"$ID\" {shlex.quote(str(blob))} | tar -C {shlex.quote(str(dst))} -xf -",
            env={"ID": a["identity"]})
        blob.unlink()
    return {}


def worker_s3_get(args: dict[str, Any]) -> dict[str, Any]:
    """s3fs ``get_file`` of one object with a few part settings, gittrack's among them."""
    from gittrack.blobs import backends

    fs = _s3(args["options"])
    size = fs.info(args["path"])["size"]
    variants = {
        "defaults": {},
        "one": {"max_concurrency": 1},
        "gittrack": backends.get_options(fs),
    }
    out: dict[str, Any] = {"gittrack_options": variants["gittrack"], "size": size}
    for label in args["variants"]:
        os.sync()
        t0 = time.perf_counter()
        fs.get_file(args["path"], args["dst"], **variants[label])
        out[label] = time.perf_counter() - t0
        os.unlink(args["dst"])
    return out


# -- the parent side --------------------------------------------------------------------------

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
    try:
        proc = subprocess.run([sys.executable, "-m", "bench.worker", task, json.dumps(args)],
                              cwd=str(ROOT), env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            result: dict[str, Any] = json.loads(line[len(RESULT_MARK):])
            return result
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": f"exit {proc.returncode}: {tail[:300]}"}


def _run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    proc = subprocess.run(argv, cwd=str(cwd) if cwd else None, env=env, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines()
                or ["no output"])[-1]
        raise RuntimeError(f"`{' '.join(argv)[:120]}` exited {proc.returncode}: {tail[:200]}")
    return proc.stdout


def _timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    os.sync()
    t0 = time.perf_counter()
    _run(argv, env, cwd)
    return time.perf_counter() - t0


def _write_random(path: Path, size: int, seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        left = size
        while left:
            n = min(left, 8 * MiB)
            f.write(rng.bytes(n))
            left -= n
    _age_mtime(path)


def _write_small_files(root: Path, count: int, seed: int) -> int:
    """``count`` files of 1-8 KiB (uniform), 100 per folder; their total size."""
    import numpy as np

    rng = np.random.default_rng(seed)
    sizes = rng.integers(1024, 8 * 1024, size=count, endpoint=True)
    for i, size in enumerate(sizes.tolist()):
        path = root / f"{i // 100:03d}" / f"{i:05d}.bin"
        if i % 100 == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.bytes(size))
        _age_mtime(path)
    return int(sizes.sum())


def _age_mtime(path: Path) -> None:
    # Real datasets are seldom seconds old, and the stat cache does not trust a file written
    # within the last instant ("racily clean"); an hour-old mtime is the common case.
    past = time.time() - 3600
    os.utime(path, (past, past))


def _tree(path: Path) -> tuple[int, int]:
    """(files, bytes) under ``path``: a cheap check that a get brought everything back."""
    if path.is_file():
        return 1, path.stat().st_size
    files = total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            files += 1
            total += os.path.getsize(os.path.join(folder, name))
    return files, total


def _rm(*paths: Path) -> None:
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


@dataclass
class _Case:
    """One store and privacy: where the bytes go and whether they are encrypted."""

    store: str  # "local" or "s3"
    encrypted: bool

    @property
    def label(self) -> str:
        where = "local folder" if self.store == "local" else "S3 (moto, 127.0.0.1)"
        return f"{where}, {'encrypted' if self.encrypted else 'plain'}"


@dataclass
class _Results:
    """Seconds per (data, case, tool, op), and peaks and notes gathered along the way."""

    times: dict[tuple[str, str, str, str], list[float]] = field(default_factory=dict)
    peaks: dict[tuple[str, str, str], list[float]] = field(default_factory=dict)
    overhead: list[float] = field(default_factory=list)
    lazy: list[float] = field(default_factory=list)
    steps: dict[tuple[str, str, str, str], dict[str, list[float]]] = field(default_factory=dict)
    tool_peaks: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, key: tuple[str, str, str, str], seconds: float) -> None:
        self.times.setdefault(key, []).append(seconds)

    def median(self, key: tuple[str, str, str, str]) -> float | None:
        values = self.times.get(key)
        return statistics.median(values) if values else None

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


class _Bench:
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
        self.results = _Results()
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

    def project(self, where: Path, case: _Case) -> tuple[Path, dict[str, Any]]:
        """A fresh repository whose storage is a fresh, empty store; (repo, store spec)."""
        repo = make_repo(where / "project")
        if case.store == "local":
            store = where / "store"
            self.gittrack(repo, "storage", "set", str(store))
            spec: dict[str, Any] = {"type": "local", "root": str(store)}
        else:
            assert self.s3_url is not None
            bucket = f"bench-{uuid.uuid4().hex[:20]}"
            _s3(self.s3_options).mkdir(bucket)
            self.gittrack(repo, "storage", "set", f"s3://{bucket}/gittrack",
                          "-o", f"endpoint_url={self.s3_url}")
            spec = {"type": "s3", "root": f"{bucket}/floor", "options": self.s3_options,
                    "bucket": bucket}
        if case.encrypted:
            self.gittrack(repo, "keys", "init", "--name", "bench")
        return repo, spec

    def drop_store(self, spec: dict[str, Any]) -> None:
        if spec["type"] == "s3":
            with contextlib.suppress(Exception):
                _s3(self.s3_options).rm(spec["bucket"], recursive=True)

    def source(self, data: str) -> Path:
        return self.big if data == "file" else self.small

    def check_tree(self, what: str, got: Path, data: str) -> None:
        want = _tree(self.source(data))
        have = _tree(got)
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
    def run_gittrack(self, data: str, case: _Case) -> None:
        where = self.fresh(f"gittrack-{data}-{case.store}")
        try:
            repo, spec = self.project(where, case)
        except RuntimeError as exc:
            self.results.note(f"note: could not set up a gittrack project ({case.label}): {exc}")
            _rm(where)
            return
        res = self.results
        key = (data, case.label, "gittrack")
        what = f"{data}, {case.label}"
        try:
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
            _rm(repo / ".git" / "gittrack" / "cache" / "blobs")  # every blob from the store
            out = where / "out"
            got = self.worker("artifact_get", {**args, "root": str(out)}, f"gittrack get, {what}")
            if got is not None:
                res.add((*key, "get"), got["seconds"])
                res.peaks.setdefault((data, case.label, "get"), []).append(got["peak_mb"])
                self.check_tree(f"gittrack get ({what})",
                                out / self.big.name if data == "file" else out, data)
        finally:
            self.drop_store(spec)
            _rm(where)

    def run_floor(self, data: str, case: _Case, tool: str = "floor") -> None:
        """``tool``: "floor"; "openssl" (the same, hashed by ``openssl dgst``); "tar"."""
        kind = "tar" if tool == "tar" else data
        where = self.fresh(f"{tool}-{data}-{case.store}")
        if case.store == "local":
            spec: dict[str, Any] = {"type": "local", "root": str(where / "store")}
        else:
            bucket = f"bench-{uuid.uuid4().hex[:20]}"
            _s3(self.s3_options).mkdir(bucket)
            spec = {"type": "s3", "root": f"{bucket}/floor", "options": self.s3_options,
                    "bucket": bucket}
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
            _rm(where)

    def record_floor(self, data: str, case: _Case, tool: str, op: str,
                     result: dict[str, Any]) -> None:
        key = (data, case.label, tool, op)
        self.results.add(key, result["seconds"])
        steps = self.results.steps.setdefault(key, {})
        for name, seconds in result["steps"].items():
            steps.setdefault(name, []).append(seconds)
        for name, mb in result.get("tool_peaks", {}).items():
            self.results.tool_peaks[name] = max(self.results.tool_peaks.get(name, 0.0), mb)

    def run_dvc(self, data: str, case: _Case) -> None:
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
            _rm(repo / ".dvc" / "cache", target)
            self.ctx.progress(f"artifacts: DVC get, {data}")
            self.results.add((*key, "get"), _timed([self.dvc, "pull", "-q"], env, repo))
            self.check_tree(f"dvc pull ({data})", target, data)
        except RuntimeError as exc:
            self.results.note(f"note: DVC ({data}) failed: {exc}")
        finally:
            _rm(where)

    def run_case(self, data: str, case: _Case, rotation: int) -> None:
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
        fs = _s3(self.s3_options)
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

    def memory(self, cases: list[_Case]) -> dict[str, dict[str, Any]]:
        _rm(self.big, self.small)  # done with them: keep the disk use down
        huge = self.data / "huge.bin"
        self.ctx.progress(f"artifacts: writing {_size_label(self.huge_size)} of random bytes")
        _write_random(huge, self.huge_size, seed=2)
        out: dict[str, dict[str, Any]] = {}
        try:
            for case in cases:
                where = self.fresh(f"memory-{case.store}")
                try:
                    repo, spec = self.project(where, case)
                except RuntimeError as exc:
                    self.results.note(f"note: memory, {case.label}: {exc}")
                    _rm(where)
                    continue
                try:
                    args = {"repo": str(repo), "kind": "file", "path": str(huge),
                            "s3": case.store == "s3"}
                    what = f"{_size_label(self.huge_size)}, {case.label}"
                    result = self.worker("artifact_put", args, f"memory, put {what}")
                    if result is not None:
                        result["get"] = self.memory_get(repo, args, where, huge, what)
                        out[case.label] = result
                finally:
                    self.drop_store(spec)
                    _rm(where)
        finally:
            _rm(huge)
        return out

    def memory_get(self, repo: Path, args: dict[str, Any], where: Path, huge: Path,
                   what: str) -> dict[str, Any] | None:
        """Get the file just put, every byte from the store; the worker's result."""
        _rm(repo / ".git" / "gittrack" / "cache" / "blobs")
        out = where / "out"
        got = self.worker("artifact_get", {**args, "root": str(out)}, f"memory, get {what}")
        back = out / huge.name
        if got is not None and (not back.is_file() or back.stat().st_size != huge.stat().st_size):
            self.results.note(f"note: memory, get {what} did not bring the file back whole")
        _rm(out)
        return got


def _scratch_root(ctx: Context) -> Path:
    """A folder on the repository's filesystem (not tmpfs): the scratch folder when it is on
    the same device, else an ignored folder inside the repository's bench/results."""
    root = ctx.scratch("artifacts")
    if os.stat(root).st_dev != os.stat(ROOT).st_dev:
        root = ROOT / "bench" / "results" / f"artifacts-scratch-{os.getpid()}"
        root.mkdir(parents=True, exist_ok=True)
    return root


def _size_label(n: int) -> str:
    return f"{n // GiB} GiB" if n >= GiB and n % GiB == 0 else f"{n // MiB} MiB"


def _fs_type(path: Path) -> str:
    try:
        out = subprocess.run(["df", "-T", str(path)], capture_output=True, text=True).stdout
        fields = out.splitlines()[1].split()
        return f"{fields[1]} on {fields[0]}"
    except (OSError, IndexError):
        return "?"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


# -- the section ------------------------------------------------------------------------------

def run_section(ctx: Context) -> None:
    repeats = ctx.repeats
    missing = [tool for tool in ("age", "age-keygen", "sha256sum") if shutil.which(tool) is None]
    big_label = _size_label(128 * MiB if ctx.quick else GiB)
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
    bench = _Bench(ctx)
    try:
        _measure(ctx, bench, repeats)
    finally:
        _rm(bench.data)
        if ctx.tmp not in bench.root.parents:  # the fallback inside bench/results
            shutil.rmtree(bench.root, ignore_errors=True)


def _measure(ctx: Context, bench: _Bench, repeats: int) -> None:
    ctx.progress(f"artifacts: writing {_size_label(bench.big_size)} and {bench.files:,} files")
    _write_random(bench.big, bench.big_size, seed=0)
    bench.small_bytes = _write_small_files(bench.small, bench.files, seed=1)
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
    ctx.out(f"  data: one file of {_size_label(bench.big_size)} ({bench.big_size:,} bytes) and "
            f"{bench.files:,} files of 1–8 KiB in {bench.files // 100} folders "
            f"({bench.small_bytes:,} bytes), random bytes (numpy, seeds 0 and 1), mtimes an "
            "hour old")
    ctx.out(f"  scratch: a temporary folder ({_fs_type(bench.root)}; same filesystem as the "
            f"repository: {'yes' if same_dev else 'no'}); tools: age "
            f"{_run(['age', '--version'], bench.env).strip()}, "
            f"{_run(['sha256sum', '--version'], bench.env).splitlines()[0]}, s3fs "
            f"{_version('s3fs')}, moto {_version('moto')}, pyrage {_version('pyrage')}, "
            f"{dvc_note}")

    local = [_Case("local", True), _Case("local", False)]
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
                    for case in (_Case("s3", True), _Case("s3", False)):
                        bench.run_case(data, case, 0)
                probe = bench.s3_probe()
                memory_cases += [_Case("s3", True), _Case("s3", False)]
        bench.memory_results = bench.memory(memory_cases)  # S3 cases while moto still runs
    _rm(bench.data)
    _report(ctx, bench, repeats, probe, s3_note)


def _cell(seconds: float | None) -> str:
    return fmt_s(seconds) if seconds is not None else "-"


def _rate(seconds: float | None, data: str, bench: _Bench) -> str:
    if not seconds:
        return "-"
    if data == "file":
        return f"{bench.big_size / seconds / 1e6:,.0f} MB/s"
    return f"{bench.files / seconds:,.0f} files/s"


def _ratio(x: float | None, base: float | None) -> str:
    if x is None or not base:
        return "-"
    return fmt_ratio(x / base)


_CASES = (_Case("local", True), _Case("local", False), _Case("s3", True), _Case("s3", False))
_TOOLS = {
    ("floor", True, "local"): "floor: sha256sum + age -r + cp",
    ("floor", False, "local"): "floor: sha256sum + cp",
    ("floor", True, "s3"): "floor: sha256sum + age -r + s3fs",
    ("floor", False, "s3"): "floor: sha256sum + s3fs",
    ("openssl", True, "local"): "floor, openssl dgst for sha256sum",
    ("openssl", False, "local"): "floor, openssl dgst for sha256sum",
    ("tar", True, "local"): "for scale: tar | age -r, one blob",
    ("dvc", False, "local"): "DVC: add + push / pull",
}


def _what(bench: _Bench, data: str) -> str:
    return f"{_size_label(bench.big_size)} file" if data == "file" else f"{bench.files:,} files"


def _report(ctx: Context, bench: _Bench, repeats: int, probe: dict[str, Any] | None,
            s3_note: str | None) -> None:
    res = bench.results
    for data in ("file", "dir"):
        title = _what(bench, data) + ("" if data == "file"
                                      else f" ({bench.small_bytes / 1e6:.1f} MB)")
        rows = []
        for case in _CASES:
            floor_put = res.median((data, case.label, "floor", "put"))
            floor_get = res.median((data, case.label, "floor", "get"))
            present = [t for t in ("gittrack", "floor", "openssl", "dvc", "tar")
                       if (data, case.label, t, "put") in res.times]
            if not present:
                continue
            rows.append([case.label, "", "", "", "", "", ""])
            for tool in present:
                put = res.median((data, case.label, tool, "put"))
                get = res.median((data, case.label, tool, "get"))
                rows.append([
                    "  " + _TOOLS.get((tool, case.encrypted, case.store), tool),
                    _cell(put), _rate(put, data, bench),
                    "1×" if tool == "floor" else _ratio(put, floor_put),
                    _cell(get), _rate(get, data, bench),
                    "1×" if tool == "floor" else _ratio(get, floor_get),
                ])
        if rows:
            ctx.out(table([title, "put", "rate", "vs floor", "get", "rate", "vs floor"], rows))
            ctx.out()
    how = f"median of {repeats} runs" if repeats > 1 else "one run"
    ctx.out(f"  local folder: {how}, each in a fresh project and store, the order of the tools "
            "rotated between runs; S3: one run each (moto is slow, see the probe below).")
    for line in _runs_lines(res):
        ctx.out(line)
    overhead = statistics.median(res.overhead) if res.overhead else None
    lazy = statistics.median(res.lazy) if res.lazy else None
    ctx.out("  gittrack: the calls alone (add_file/add_dir + log_artifact; use_artifact + "
            "download with the local blob cache emptied), in a fresh process after "
            f"`import gittrack` + init() ({_cell(overhead)}) and the modules its first artifact "
            f"call imports: pyarrow, fsspec, pyrage, s3fs ({_cell(lazy)}), medians. floor: "
            "the commands and the s3fs transfer, timed in one process. DVC: whole commands, "
            "process start included.")
    for line in _steps_lines(res):
        ctx.out(line)
    if s3_note:
        ctx.out(f"  {s3_note}")
    if probe is not None:
        _print_probe(ctx, bench, probe)
    ctx.out()
    _second_put(ctx, bench)
    ctx.out()
    _memory(ctx, bench)
    for note in res.notes:
        ctx.out(f"  {note}")
    _put_targets(ctx, bench)


def _runs_lines(res: _Results) -> list[str]:
    lines = []
    for (data, case, tool, op), values in res.times.items():
        if len(values) > 1 and tool in ("gittrack", "floor") and op in ("put", "get"):
            lines.append(f"  runs, {tool} {op}, {data}, {case}: "
                         + ", ".join(fmt_s(v) for v in values))
    return lines


def _steps_lines(res: _Results) -> list[str]:
    lines = []
    for (data, case, tool, op), steps in res.steps.items():
        if tool in ("floor", "openssl"):
            inner = " + ".join(f"{name} {fmt_s(statistics.median(v))}"
                               for name, v in steps.items())
            lines.append(f"  {tool} steps, {op} {data}, {case}: {inner}")
    return lines


def _print_probe(ctx: Context, bench: _Bench, probe: dict[str, Any]) -> None:
    options = probe.get("gittrack_options") or {}
    parts = ", ".join(f"{k}={v // MiB} MiB" if k == "chunksize" else f"{k}={v}"
                      for k, v in options.items())
    ctx.out(f"  S3 get probe: s3fs get_file of a {_size_label(bench.big_size)} object alone, "
            f"defaults (50 MiB parts, 10 at once) {_cell(probe.get('defaults'))}, one stream "
            f"(max_concurrency=1) {_cell(probe.get('one'))}, gittrack's settings ({parts}) "
            f"{_cell(probe.get('gittrack'))}. moto answers every ranged GET by reading and "
            "copying the whole object (moto/s3/models.py FakeKey.value), so a get in N parts "
            "costs N whole-object copies on this server: gets in parts are slow here, and the "
            "more parts the slower; real S3 serves ranges independently.")


def _second_put(ctx: Context, bench: _Bench) -> None:
    res = bench.results
    rows = []
    for data in ("file", "dir"):
        for case in _CASES:
            for tool in ("gittrack", "dvc"):
                first = res.median((data, case.label, tool, "put"))
                second = res.median((data, case.label, tool, "put2"))
                if first is None or second is None:
                    continue
                cold = res.median((data, case.label, tool, "put2cold"))
                lazy = res.median((data, case.label, tool, "lazy")) or 0.0
                if tool == "gittrack":
                    name, verdict = "gittrack", "PASS" if second < SECOND_PUT * first else "MISS"
                else:
                    name, verdict = "DVC add + push", "(for scale)"
                rows.append([f"{name}, {_what(bench, data)}, {case.label}", _cell(first),
                             _cell(second), f"{second / first:.1%}", _cell(cold),
                             f"{cold / (first + lazy):.1%}" if cold else "-", verdict])
    if not rows:
        return
    ctx.out(table(["second put of unchanged data", "first put", "second", "second/first",
                   "second, cold", "cold ratio", f"< {SECOND_PUT:.0%}"], rows))
    ctx.out("  each put in a new process on the same project and store; gittrack finds the "
            "digests in its stat cache and the blobs in the store, and returns the existing "
            "version. 'cold': the second put timed with the first-use imports inside the timer "
            "(pyarrow, fsspec, pyrage, s3fs: what a script that only puts an artifact pays); "
            "'cold ratio' = that / (first put + the same imports). The verdict is on the calls "
            "alone, like every other gittrack figure here. DVC's figures are whole commands.")


def _memory(ctx: Context, bench: _Bench) -> None:
    res, memory = bench.results, bench.memory_results
    big, huge = _size_label(bench.big_size), _size_label(bench.huge_size)

    def peak(data: str, case: _Case, op: str) -> str:
        values = res.peaks.get((data, case.label, op))
        return f"{max(values):.0f} MB" if values else "-"

    rows = []
    for case in _CASES:
        m = memory.get(case.label) or {}
        got = m.get("get") or {}
        row = [case.label, f"{m['rss_before_mb']:.0f} MB" if m else "-",
               peak("file", case, "put"), f"{m['peak_mb']:.0f} MB" if m else "-",
               peak("file", case, "get"), f"{got['peak_mb']:.0f} MB" if got else "-",
               peak("dir", case, "put"), peak("dir", case, "get")]
        if any(cell != "-" for cell in row[1:]):
            rows.append(row)
    if not rows:
        return
    ctx.out(table(["peak RSS of the gittrack process", "after imports", f"put {big}",
                   f"put {huge}", f"get {big}", f"get {huge}", f"put {bench.files:,} files",
                   f"get {bench.files:,} files"], rows))
    tools = ", ".join(f"{k} {v:.0f} MB" for k, v in sorted(res.tool_peaks.items()))
    ctx.out("  peak: the high-water mark (VmHWM) of the whole worker process: interpreter, "
            "imports, init() and the call; for several runs, the largest. 'after imports': "
            f"its RSS just before the put of {huge} (gittrack, pyarrow, fsspec, pyrage, s3fs "
            f"imported; init() done). For scale, the floor's age, {big} (GNU time): "
            f"{tools or 'not measured'}.")


def _put_targets(ctx: Context, bench: _Bench) -> None:
    res = bench.results
    big = _size_label(bench.big_size)
    for store, floor in (("local", "sha256sum + age -r + cp"),
                         ("s3", "sha256sum + age -r + s3fs put_file")):
        label = _Case(store, True).label
        ours = res.median(("file", label, "gittrack", "put"))
        base = res.median(("file", label, "floor", "put"))
        name = (f"artifacts: {big} encrypted put ≤ {PUT_FACTOR}× the floor ({floor}), "
                f"{'local folder' if store == 'local' else 'S3 on moto'}")
        if ours is None or base is None:
            ctx.targets.append(Target(name, "not measured", None))
            continue
        fast = res.median(("file", label, "openssl", "put"))
        also = f"; {ours / fast:.2f}× the same hashed by openssl dgst" if fast else ""
        ctx.targets.append(Target(name, f"{ours / base:.2f}× ({fmt_s(ours)} vs {fmt_s(base)}"
                                  f"{also})", ours <= PUT_FACTOR * base))
    ratios = []
    for data in ("file", "dir"):
        for case in _CASES:
            first = res.median((data, case.label, "gittrack", "put"))
            second = res.median((data, case.label, "gittrack", "put2"))
            cold = res.median((data, case.label, "gittrack", "put2cold"))
            lazy = res.median((data, case.label, "gittrack", "lazy")) or 0.0
            if first and second is not None:
                ratios.append((second / first, (cold or 0) / (first + lazy), data, case.label))
    name = "artifacts: second put of unchanged data < 5% of the first"
    if ratios:
        worst = max(ratios)
        passed = sum(r < SECOND_PUT for r, _, _, _ in ratios)
        ctx.targets.append(Target(name, (
            f"worst {worst[0]:.1%} ({_what(bench, worst[2])}, {worst[3]}); {passed} of "
            f"{len(ratios)} cases under 5%; cold worst {max(r[1] for r in ratios):.1%}"),
            worst[0] < SECOND_PUT))
    else:
        ctx.targets.append(Target(name, "not measured", None))
    huge = _size_label(bench.huge_size)
    peaks = [(r["peak_mb"], f"{label}, put") for label, r in bench.memory_results.items()]
    peaks += [(r["get"]["peak_mb"], f"{label}, get") for label, r in bench.memory_results.items()
              if r.get("get")]
    name = f"artifacts: peak memory putting or getting a {huge} file < {MEMORY_MB:.0f} MB"
    if peaks:
        worst_mb, where = max(peaks)
        ctx.targets.append(Target(name, f"{worst_mb:.0f} MB ({where}; whole process)",
                                  worst_mb < MEMORY_MB))
    else:
        ctx.targets.append(Target(name, "not measured", None))
