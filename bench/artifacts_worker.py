"""Artifacts section, worker side (``python -m bench.worker artifact_put ...``): gittrack's put
and get of an artifact, timed after ``import gittrack`` and ``init()``, and the s3fs probe."""

from __future__ import annotations

import os
import time
from typing import Any

from bench.artifacts_data import s3_filesystem
from bench.common import peak_rss_mb, rss_mb

ARTIFACT = "data"

# What gittrack imports on its first artifact call (the manifest is Parquet; stores are fsspec).
_LAZY = ("pyarrow", "pyarrow.parquet", "fsspec", "pyrage", "gittrack.artifacts.publish",
         "gittrack.storage.project", "gittrack.artifacts.view", "gittrack.crypto.keys",
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


def worker_s3_get(args: dict[str, Any]) -> dict[str, Any]:
    """s3fs ``get_file`` of one object with a few part settings, gittrack's among them."""
    from gittrack.blobs import backends

    fs = s3_filesystem(args["options"])
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
