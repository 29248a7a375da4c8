"""Artifacts section, the floor pipeline (``python -m bench.worker artifact_floor ...``):
``sha256sum`` + ``age -r`` + ``cp`` (or s3fs) of the same bytes, and back, step by step."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.artifacts_data import files_under, s3_filesystem
from bench.common import run_command


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
    command = ["bash", "-o", "pipefail", "-c", argv] if isinstance(argv, str) else argv
    return run_command(command, env={**os.environ, **(env or {})}, stdin=stdin)


def worker_floor(args: dict[str, Any]) -> dict[str, Any]:
    """The floor pipeline: one put or get, of one file or a folder, local or S3."""
    store = args["store"]
    fs = s3_filesystem(store["options"]) if store["type"] == "s3" else None
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
            names = files_under(upload)
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
