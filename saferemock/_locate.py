"""The static look for the guilty line: which line of a file most likely made a leak.

The pollution guard knows *what* leaked and *which file* was running (a test file being
collected, a conftest, a package ``__init__``), but not the line.  This module parses
the file once and scores each statement against the leak: ``sys.modules['x'] = ...``,
``os.environ.update(...)``, ``builtins.open = ...``, ``time.sleep = MagicMock()``,
``sys.path.append(...)``, ``patch(...).start()``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from typing import Final

from saferemock._missing import MISSING

__all__ = ["locate"]

_TREES: dict[str, ast.Module | None] = {}


def _parse(path: str) -> ast.Module | None:
    if path not in _TREES:
        try:
            with open(path, "rb") as handle:
                source = handle.read()
            _TREES[path] = ast.parse(source, path)
        except (OSError, SyntaxError, ValueError):
            _TREES[path] = None
    return _TREES[path]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def _constant(node: ast.AST | None) -> object:
    return node.value if isinstance(node, ast.Constant) else MISSING


def _targets(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For)):
        return [node.target]
    if isinstance(node, ast.Delete):
        return list(node.targets)
    return []


def _call(node: ast.AST) -> tuple[str, str, ast.Call] | None:
    """``(owner, method, call)`` for ``owner.method(...)``, ``("", name, call)`` for ``name(...)``."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Attribute):
        return _dotted(func.value), func.attr, node
    return "", _dotted(func), node


def _mentions(call: ast.Call, key: object) -> bool:
    """Whether a call names ``key`` as its first argument, a dict key or a keyword."""
    if call.args and _constant(call.args[0]) == key:
        return True
    for arg in call.args:
        if isinstance(arg, ast.Dict) and any(_constant(k) == key for k in arg.keys if k):
            return True
    return any(keyword.arg == key for keyword in call.keywords)


_MUTATORS: Final = ("update", "setdefault", "__setitem__", "pop", "__delitem__", "clear")


def _mapping_matcher(names: tuple[str, ...]) -> Callable[[ast.AST, object], int]:
    """Score writes to a mapping known by ``names`` (``sys.modules``, ``os.environ``)."""

    def score(node: ast.AST, key: object) -> int:
        for target in _targets(node):
            if isinstance(target, ast.Subscript) and _dotted(target.value) in names:
                return 2 if _constant(target.slice) == key else 1
        call = _call(node)
        if call is None:
            return 0
        owner, method, found = call
        if owner in names and method in _MUTATORS:
            return 2 if _mentions(found, key) else 1
        if method in ("putenv", "os.putenv", "unsetenv", "os.unsetenv") and names == _ENVIRON:
            return 2 if _mentions(found, key) else 1
        return 0

    return score


_ENVIRON: Final = ("os.environ", "environ")
_BUILTINS: Final = ("builtins", "__builtins__")


def _builtin(node: ast.AST, key: object) -> int:
    for target in _targets(node):
        if isinstance(target, ast.Attribute) and _dotted(target.value) in _BUILTINS:
            return 2 if target.attr == key else 1
        if isinstance(target, ast.Subscript) and _dotted(target.value) in (
            "__builtins__",
            "builtins.__dict__",
        ):
            return 2 if _constant(target.slice) == key else 1
    call = _call(node)
    if call is not None and call[:2] in (("", "setattr"), ("", "delattr")):
        args = call[2].args
        if args and _dotted(args[0]) in _BUILTINS:
            return 2 if len(args) > 1 and _constant(args[1]) == key else 1
    return 0


def _attribute(node: ast.AST, key: object) -> int:
    """``key`` is ``"owner.name"``: an assignment to it, or to any ``.name``."""
    owner, _, name = str(key).rpartition(".")
    for target in _targets(node):
        if isinstance(target, ast.Attribute) and target.attr == name:
            dotted = _dotted(target)
            return 2 if dotted == key or dotted.endswith("." + str(key)) else 1
    call = _call(node)
    if call is not None and call[:2] == ("", "setattr"):
        args = call[2].args
        if len(args) > 1 and _constant(args[1]) == name:
            return 2 if _dotted(args[0]).rpartition(".")[2] == owner.rpartition(".")[2] else 1
    return 0


def _sys_list(node: ast.AST, key: object) -> int:
    """``key`` is ``"sys.path"`` (or ``sys.meta_path``): an assignment or an in-place change.

    With ``("sys.path", entry)``, a change whose string constants are part of the entry's
    text (``"../Server"``, or ``"Server"`` joined to a directory) wins.
    """
    entry = ""
    if isinstance(key, tuple):
        key, entry = key
    score = _sys_list_change(node, key)
    if (
        score
        and entry
        and any(
            isinstance(text, str) and len(text) > 1 and text in entry
            for text in map(_constant, ast.walk(node))
        )
    ):
        return 3
    return score


def _sys_list_change(node: ast.AST, key: object) -> int:
    for target in _targets(node):
        if _dotted(target) == key or (
            isinstance(target, ast.Subscript) and _dotted(target.value) == key
        ):
            return 2
    call = _call(node)
    if (
        call is not None
        and call[0] == key
        and call[1]
        in (
            "append",
            "insert",
            "extend",
            "remove",
            "pop",
            "clear",
        )
    ):
        return 2
    return 0


def _replaced(node: ast.AST, key: object) -> int:
    """``key`` is a dotted object such as ``"os.environ"`` replaced by assignment."""
    for target in _targets(node):
        if _dotted(target) == key:
            return 2
    return 0


def _started(node: ast.AST, key: object) -> int:
    """``key`` is the patch target: ``patch(...).start()``, exact when it names ``key``."""
    call = _call(node)
    if call is None or call[1] != "start":
        return 0
    inner = call[2].func.value if isinstance(call[2].func, ast.Attribute) else None
    if isinstance(inner, ast.Call) and inner.args:
        first = inner.args[0]
        if _constant(first) == key or _dotted(first) == key:
            return 2
    return 1


_MATCHERS: Final[dict[str, Callable[[ast.AST, object], int]]] = {
    "module": _mapping_matcher(("sys.modules",)),
    "environ": _mapping_matcher(_ENVIRON),
    "builtin": _builtin,
    "attr": _attribute,
    "list": _sys_list,
    "object": _replaced,
    "patch": _started,
    "run": _started,
}


def _outside_functions(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node that runs when the module runs: not the bodies of functions."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))


def locate(
    path: str, kind: str, key: object, *, exact: bool = False, module_level: bool = False
) -> int:
    """Return the line of ``path`` that most likely made a ``kind`` leak of ``key``, or 0.

    ``kind`` is ``"module"`` (``key`` a ``sys.modules`` key), ``"environ"``, ``"builtin"``,
    ``"attr"`` (``"owner.name"``), ``"list"`` (``"sys.path"``), ``"object"``
    (``"os.environ"`` replaced), ``"patch"`` or ``"run"`` (the patch target).  The first
    line that names ``key`` wins over one that only makes a change of the same kind; with
    ``exact``, only a line that names ``key`` counts.  With ``module_level``, the bodies of
    functions do not count: what a module did while it was imported.

    Example:
        >>> import tempfile, os
        >>> source = "import sys\\nfrom unittest import mock\\nsys.modules['boto3'] = mock.MagicMock()\\n"
        >>> with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        ...     _ = handle.write(source)
        >>> locate(handle.name, "module", "boto3")
        3
        >>> os.unlink(handle.name)
    """
    tree = _parse(path)
    matcher = _MATCHERS.get(kind)
    if tree is None or matcher is None:
        return 0
    best: tuple[int, int] = (0, 0)
    for node in _outside_functions(tree) if module_level else ast.walk(tree):
        score = matcher(node, key)
        if not score:
            continue
        line = getattr(node, "lineno", 0)
        if score > best[0] or (score == best[0] and line < best[1]):
            best = (score, line)
    if exact and best[0] < 2:
        return 0
    return best[1]
