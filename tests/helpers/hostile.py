"""What a malicious (or broken) remote could send: a YAML alias bomb, and commits, trees and
refs forged with plain git plumbing (not with gittrack)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

TreeSpec = dict[str, "bytes | TreeSpec"]

# The classic "billion laughs": 480 bytes whose aliases make 10**9 list items when walked.
BILLION_LAUGHS = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def plumb(repo: Path, *args: str, data: bytes = b"") -> str:
    return subprocess.run(["git", *args], cwd=repo, input=data, check=True,
                          capture_output=True).stdout.decode().strip()


def write_tree(repo: Path, spec: TreeSpec) -> str:
    lines = []
    for name, value in sorted(spec.items()):
        if isinstance(value, dict):
            lines.append(f"040000 tree {write_tree(repo, value)}\t{name}")
        else:
            lines.append(f"100644 blob {plumb(repo, 'hash-object', '-w', '--stdin', data=value)}"
                         f"\t{name}")
    return plumb(repo, "mktree", data=("\n".join(lines) + "\n").encode() if lines else b"")


def forge(repo: Path, ref: str, spec: TreeSpec, parent: str | None = None) -> str:
    tree = write_tree(repo, spec)
    commit = plumb(repo, "commit-tree", tree, *(["-p", parent] if parent else []),
                    "-m", f"forged {ref}")
    plumb(repo, "update-ref", ref, commit)
    return commit


def point(repo: Path, ref: str, data: bytes) -> None:
    """``ref`` at a blob, not a commit."""
    plumb(repo, "update-ref", ref, plumb(repo, "hash-object", "-w", "--stdin", data=data))


def tree_of(repo: Path, rev: str) -> TreeSpec:
    """The tree of ``rev`` as a spec (to copy a good commit and change one file)."""
    spec: TreeSpec = {}
    for line in plumb(repo, "ls-tree", "-r", rev).splitlines():
        meta, path = line.split("\t", 1)
        node = spec
        *parents, leaf = path.split("/")
        for part in parents:
            child = node.setdefault(part, {})
            assert isinstance(child, dict)
            node = child
        node[leaf] = subprocess.run(["git", "cat-file", "blob", meta.split()[2]], cwd=repo,
                                    check=True, capture_output=True).stdout
    return spec


def parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def manifest(paths: list[str], digest: str, size: int, blob: str | None) -> bytes:
    return parquet(pa.table({
        "path": pa.array(paths, pa.string()),
        "digest": pa.array([digest] * len(paths), pa.string()),
        "size": pa.array([size] * len(paths), pa.int64()),
        "blob": pa.array([blob] * len(paths), pa.string()),
        "ref": pa.array([None] * len(paths), pa.string()),
    }))
