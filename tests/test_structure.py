"""The package's structure, checked on its source: ``gittrack.git`` is the only door to git
(docs/decisions.md, "Issue 9: git is the only door").

(a) No module outside ``gittrack/git`` imports pygit2. (b) No ref prefix (``refs/gittrack``,
``refs/gittrack-…``) is spelled outside ``gittrack/git/namespace.py``: a string in code that is
a ref name, a prefix or a refspec (no whitespace in it, as ``"refs/gittrack/runs/"``,
``f"refs/gittrack-remotes/{key}/"`` or ``"+refs/gittrack/*:…"``) fails; docstrings, comments
and prose (a message or help text naming a ref for the reader) are documentation and may name
them; and no module-level name elsewhere is bound to one of its names (``RUNS =
namespace.RUNS``): an alias is a second name to grep for. (c) No history walk or ancestry
question (``.walk(``, ``.descendant_of(``, ``merge_base(``…) is asked outside
``gittrack/git``: ``git.history`` answers them.
Each rule is also run on a snippet that breaks it, so a rule that stopped seeing anything
would fail here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import gittrack

PACKAGE = Path(gittrack.__file__).parent
GIT = PACKAGE / "git"
NAMESPACE = GIT / "namespace.py"
PREFIX = "refs/gittrack"
# libgit2's history questions: git.history asks them, with its guards for forged ids.
HISTORY_CALLS = frozenset({"walk", "descendant_of", "merge_base", "merge_base_many",
                           "merge_base_octopus", "ahead_behind"})


def _modules(*, outside: Path | None = None) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if outside is not None and path.is_relative_to(outside):
            continue
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def pygit2_imports(tree: ast.Module) -> list[int]:
    """Lines importing pygit2 (anywhere: at the top, in a function, under TYPE_CHECKING)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name == "pygit2" or name.startswith("pygit2.") for name in names):
            found.append(node.lineno)
    return sorted(found)


def ref_prefix_literals(tree: ast.Module) -> list[tuple[int, str]]:
    """Strings in code (docstrings and other bare string statements left out) holding a ref
    prefix with no whitespace: a ref name, a prefix or a refspec, not prose."""
    documentation = {id(node.value) for node in ast.walk(tree)
                     if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in documentation and PREFIX in node.value \
                and not any(ch.isspace() for ch in node.value):
            found.append((node.lineno, node.value))
    return sorted(found)


def namespace_aliases(tree: ast.Module) -> list[tuple[int, str]]:
    """Module-level names bound to an attribute of ``namespace`` (``X = namespace.ROOT``,
    ``A, B = namespace.RUNS, namespace.ALIASES``, ``X: str = gittrack.git.namespace.ROOT``)."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        values = value.elts if isinstance(value, ast.Tuple) else [value]
        if any(_is_namespace_attribute(v) for v in values):
            found.extend((node.lineno, name.id) for target in targets for name in ast.walk(target)
                         if isinstance(name, ast.Name))
    return sorted(found)


def _is_namespace_attribute(node: ast.expr) -> bool:
    if not isinstance(node, ast.Attribute):
        return False
    owner = node.value
    return (isinstance(owner, ast.Name) and owner.id == "namespace") or (
        isinstance(owner, ast.Attribute) and owner.attr == "namespace")


def history_calls(tree: ast.Module) -> list[tuple[int, str]]:
    """Calls of libgit2's history questions (``os.walk`` is a folder walk, not history)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else \
            func.id if isinstance(func, ast.Name) else None
        if name not in HISTORY_CALLS:
            continue
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id in ("os", "ast"):
            continue
        found.append((node.lineno, name))
    return sorted(found)


def test_no_module_outside_git_imports_pygit2() -> None:
    offenders = {str(path.relative_to(PACKAGE)): lines for path, tree in _modules(outside=GIT)
                 if (lines := pygit2_imports(tree))}
    assert offenders == {}


def test_no_ref_prefix_is_spelled_outside_the_namespace_module() -> None:
    offenders = {str(path.relative_to(PACKAGE)): found for path, tree in _modules()
                 if path != NAMESPACE and (found := ref_prefix_literals(tree))}
    assert offenders == {}


def test_no_module_level_alias_of_a_namespace_name() -> None:
    offenders = {str(path.relative_to(PACKAGE)): found for path, tree in _modules()
                 if path != NAMESPACE and (found := namespace_aliases(tree))}
    assert offenders == {}


def test_no_history_walk_or_ancestry_outside_git() -> None:
    offenders = {str(path.relative_to(PACKAGE)): found for path, tree in _modules(outside=GIT)
                 if (found := history_calls(tree))}
    assert offenders == {}


def test_each_rule_sees_a_violation() -> None:
    code = ast.parse('''
"""Docstrings may say refs/gittrack/runs/ and refs/gittrack-remotes/."""
import pygit2.enums
from pygit2 import Repository
from gittrack.git import namespace
RUNS = namespace.RUNS
LOCAL, MIRROR = namespace.ROOT, namespace.MIRROR_ROOT
BASE: str = gittrack.git.namespace.BASE_ROOT
PUSH = (f"{namespace.ROOT}*", "HEAD")

def f(repo, key, a, b):
    """refs/gittrack/ in a docstring is documentation."""
    import pygit2
    message = f"cannot move refs/gittrack/runs/{key}: it moved"  # prose
    prefix = "refs/gittrack/runs/"
    mirror = f"refs/gittrack-remotes/{key}/"
    spec = "+refs/gittrack/*:refs/gittrack/*"
    repo.descendant_of(a, b)
    repo.merge_base(a, b)
    walker = repo.walk(a)
    for _ in os.walk("."):
        pass
''')
    assert pygit2_imports(code) == [3, 4, 13]
    assert [name for _, name in namespace_aliases(code)] == ["RUNS", "LOCAL", "MIRROR", "BASE"]
    assert [value for _, value in ref_prefix_literals(code)] == [
        "refs/gittrack/runs/", "refs/gittrack-remotes/", "+refs/gittrack/*:refs/gittrack/*"]
    assert [name for _, name in history_calls(code)] == ["descendant_of", "merge_base", "walk"]
