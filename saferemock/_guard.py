"""The pollution guard: what a test, a test file or a conftest left behind, and who did it.

The pytest plugin drives a :class:`Guard` with *checkpoints*: after each conftest import,
around each test file's collection and after each test (setup, call and teardown
together).  A checkpoint compares the watched global state with what the guard saw at
the previous one and blames the difference on the culprit of that interval:

* ``sys.modules`` items that are not modules the import system imported (a mock, a
  hand-made module object, ``None``), and packages whose submodule attribute is out of
  step with ``sys.modules``;
* attributes of ``builtins`` changed, added or removed;
* ``os.environ`` items changed;
* patches started and never stopped (``unittest.mock``'s and saferemock's own);
* mock objects left on module and class attributes of the project's own modules.

The fast path costs a few dict comparisons: ``sys.modules == seen`` compares values by
identity in C, and the slow per-key diff only runs when something changed.  State that a
longer-lived owner keeps on purpose is not a leak: the runs of fixture-managed or
intentional :class:`~saferemock.SafeMock` objects, and whatever a class-, module-,
package- or session-scoped fixture changed during its setup (judged when it is torn
down, not at the end of the test that happened to set it up).

In strict mode every leak is undone right away through a :class:`~saferemock._undo.Journal`
(modules first imported while a fake sat in ``sys.modules`` that captured it are evicted
too), so the next test runs in a clean world.  This module never imports pytest.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import gc
import importlib.machinery
import itertools
import operator
import os
import re
import sys
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final
from unittest import mock

from typing_extensions import final

from saferemock._missing import MISSING
from saferemock._taint import Taint
from saferemock._undo import ROOT, Journal, is_owned, read_attr

__all__ = ["Culprit", "Guard", "Leak", "allow_matches", "live_runs"]

# unittest.mock keeps every patcher started with start() here until it is stopped.
_ACTIVE_PATCHES: Final[list[Any]] = mock._patch._active_patches  # type: ignore[attr-defined]

# Builtins that the interpreter itself rebinds: sys.displayhook stores the last
# expression's value in builtins._ (doctests run examples in "single" mode).
_BUILTINS_IGNORED: Final = frozenset({"_"})

# Environment variables pytest sets and removes around each test phase.
_ENVIRON_IGNORED: Final = frozenset({"PYTEST_CURRENT_TEST"})

# Phases whose environment changes are configuration, not pollution (see docs/plugin.md).
_CONFIG_PHASES: Final = frozenset({"conftest", "session"})

_PHASE_RANK: Final = {"conftest": 0, "session": 1, "collection": 2, "fixture": 3, "test": 3}


def live_runs() -> dict[int, Journal]:
    """What saferemock has started and not ended, by id: one entry per primitive.

    The top-level journals, except that a ``SafeMock``'s journal is listed by the
    primitives started under it.
    """
    runs: dict[int, Journal] = {}
    for journal in ROOT.children():
        if journal.kind == "safemock":
            runs.update((id(child), child) for child in journal.children())
        else:
            runs[id(journal)] = journal
    return runs


def _exempt(run: Journal) -> bool:
    """A run whose owner keeps it on purpose: a fixture's SafeMock, the ini option's fakes."""
    return run.root().holder is not None


# -- what a leak is ------------------------------------------------------------------------


@final
@dataclasses.dataclass(frozen=True)
class Culprit:
    """Whoever ran since the previous checkpoint: a conftest, a test file, a test, a fixture."""

    phase: str
    """``"conftest"``, ``"collection"``, ``"test"``, ``"fixture"`` or ``"session"``."""
    name: str
    """The test id, the file path (rootdir-relative), the fixture name, or a label."""
    path: str = ""
    """Absolute path of the file to search for the guilty line (conftest, test file)."""
    relpath: str = ""
    """``path`` as shown in reports (relative to the rootdir)."""
    line: int = 0
    """A line already known (a fixture's ``def``); 0 means search ``path``."""
    allow: tuple[str, ...] | None = None
    """``saferemock_allow`` patterns; ``()`` allows everything, ``None`` nothing."""
    search: tuple[tuple[str, str], ...] = ()
    """``(path, relpath)`` of files to search for the guilty line when ``path`` is not
    known: the conftests, for what their hooks did between two checkpoints."""


@final
@dataclasses.dataclass(frozen=True)
class Leak:
    """One piece of global state a culprit left behind, with the fix to use instead."""

    culprit: str
    phase: str
    subject: str
    """What leaked, as ``saferemock_allow`` matches it: ``sys.modules['boto3']``."""
    what: str
    """``sys.modules['boto3'] is a MagicMock``."""
    fix: str
    where: str
    """The culprit as reports show it: a test id, or ``path:line (collection)``."""
    path: str = ""
    line: int = 0

    def report_line(self) -> str:
        """The line of the terminal report and of ``saferemock check``."""
        return f"{self.where}: {self.what}; {self.fix}"

    def sort_key(self) -> tuple[int, str, int, str, str]:
        """Phase (conftests first), then culprit and line, so a report reads top-down."""
        return (_PHASE_RANK.get(self.phase, 9), self.culprit, self.line, self.where, self.what)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for pytest-xdist workers to send to the controller."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Leak:
        fields = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in fields})


def allow_matches(patterns: Iterable[str], subject: str) -> bool:
    """Tell whether a ``saferemock_allow`` pattern (``*`` is a wildcard) matches ``subject``."""
    for pattern in patterns:
        regex = ".*".join(re.escape(part) for part in pattern.split("*"))
        if re.fullmatch(regex, subject):
            return True
    return False


# -- slots: one piece of watched state each ----------------------------------------------


@final
class _Ref:
    """An object compared and hashed by identity (classes may define ``__eq__``)."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Ref) and other.obj is self.obj


# ("module", key) | ("builtin", name) | ("environ", key) | ("attr", _Ref(owner), name)
# | ("patch", _Ref(patcher)) | ("run", _Ref(run))
Slot = tuple[Any, ...]

# A holder's value that any current value matches (patch.dict holds a whole mapping).
_ANY: Final = object()


def _read(slot: Slot) -> object:
    kind = slot[0]
    if kind == "module":
        return sys.modules.get(slot[1], MISSING)
    if kind == "builtin":
        return vars(builtins).get(slot[1], MISSING)
    if kind == "environ":
        return os.environ.get(slot[1], MISSING)
    if kind == "attr":
        return vars(slot[1].obj).get(slot[2], MISSING)
    if kind == "patch":
        patcher = slot[1].obj
        return patcher if any(p is patcher for p in _ACTIVE_PATCHES) else MISSING
    run = slot[1].obj
    return run if run.open else MISSING


def _same(kind: str, current: object, expected: object) -> bool:
    if current is expected:
        return True
    # os.environ decodes a fresh str at each read.
    return kind == "environ" and current == expected


def _slot_of(kind: str, owner: object, key: Any) -> Slot | None:
    """Map a journal change or a patcher's target to the guard's slot, if it watches it."""
    if kind == "item":
        if owner is sys.modules:
            return ("module", key)
        if owner is os.environ:
            return ("environ", key)
        if owner is vars(builtins):
            return ("builtin", key)
        return None
    if owner is builtins:
        return ("builtin", key)
    if isinstance(owner, (types.ModuleType, type)):
        return ("attr", _Ref(owner), key)
    return None


def _whole_kind(mapping: object) -> str | None:
    if mapping is sys.modules:
        return "module"
    if mapping is os.environ:
        return "environ"
    if mapping is vars(builtins):
        return "builtin"
    return None


def _patcher_slots(patcher: Any) -> tuple[list[Slot], set[str]]:
    """The slots an active ``unittest.mock`` patcher holds, and the mappings it holds whole."""
    slots: list[Slot] = []
    whole: set[str] = set()
    for sub in [patcher, *getattr(patcher, "additional_patchers", ())]:
        in_dict = getattr(sub, "in_dict", None)
        if in_dict is not None:
            # patch.dict restores the whole mapping from a copy when it stops.
            kind = _whole_kind(in_dict)
            if kind is not None:
                whole.add(kind)
            continue
        target = getattr(sub, "target", None)
        attribute = getattr(sub, "attribute", None)
        if target is not None and isinstance(attribute, str):
            slot = _slot_of("attr", target, attribute)
            if slot is not None:
                slots.append(slot)
    return slots, whole


# -- describing values and leaks ----------------------------------------------------------


def is_mock(value: object) -> bool:
    """Tell whether ``value`` is a ``unittest.mock`` object or an autospecced mock function."""
    # type(), not isinstance(): a mock with a spec answers __class__ with the spec's class.
    if issubclass(type(value), mock.NonCallableMock):
        return True
    if type(value) is types.FunctionType:
        inner = vars(value).get("mock")
        return issubclass(type(inner), mock.NonCallableMock)
    return False


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _what_is(value: object) -> str:
    """Name a value for a report without an address in it (reports are compared as text)."""
    if value is None:
        return "None"
    kind = type(value)
    if issubclass(kind, mock.NonCallableMock):
        return f"a {kind.__name__}"
    if is_mock(value):
        return "an autospecced mock function"
    if issubclass(kind, types.ModuleType):
        if vars(value).get("__spec__") is None:
            return "a hand-made module object (no __spec__)"
        return f"the module {vars(value).get('__name__')!r}"
    if isinstance(value, type):
        return f"the class {value.__qualname__!r}"
    if kind in (types.FunctionType, types.BuiltinFunctionType):
        return f"the function {getattr(value, '__qualname__', '?')!r}"
    if kind in (str, bytes, int, float, bool):
        return _short(value)
    return f"a {kind.__qualname__} object"


def _imported(key: str, value: object, modules: Mapping[str, object]) -> bool:
    """Tell, cheaply, that ``value`` is a module the import system made, in step with its package."""
    if type(value) is not types.ModuleType or vars(value).get("__spec__") is None:
        return False
    parent_name, _, child = key.rpartition(".")
    if not parent_name:
        return True
    parent = modules.get(parent_name)
    if type(parent) is not types.ModuleType:
        return parent is None
    attribute = vars(parent).get(child, value)
    return attribute is value


def _native_submodule(key: str, value: object) -> bool:
    """Tell whether ``value`` is a submodule a compiled extension registered itself.

    PyO3 and pybind11 create submodules without a ``__spec__``, bind them to the
    extension module and put them in ``sys.modules`` under the dotted name.
    """
    name = key
    while "." in name:
        parent_name, _, child = name.rpartition(".")
        parent = sys.modules.get(parent_name)
        if not issubclass(type(parent), types.ModuleType):
            return False
        if name == key and vars(parent).get(child) is not value:
            return False
        spec = vars(parent).get("__spec__")
        origin = getattr(spec, "origin", None)
        if isinstance(origin, str) and origin.endswith(
            tuple(importlib.machinery.EXTENSION_SUFFIXES)
        ):
            return True
        name = parent_name
    return False


def _module_problem(key: str, value: object) -> str | None:
    """Say what is wrong with a ``sys.modules`` value, or None for a real imported module."""
    if value is None:
        return "is None"
    if is_mock(value):
        return f"is {_what_is(value)}"
    kind = type(value)
    if issubclass(kind, types.ModuleType):
        if (
            vars(value).get("__spec__") is None
            and not _native_submodule(key, value)
            # A script's __main__ has no spec; multiprocessing aliases it as __mp_main__.
            and value is not sys.modules.get("__main__")
        ):
            return "is a hand-made module object (no __spec__)"
        return None
    # Some packages replace their own module with an object that keeps the spec.
    try:
        spec = vars(value).get("__spec__")
    except TypeError:
        spec = None
    if spec is not None:
        return None
    return f"is a {kind.__qualname__} object, not a module"


def _label(owner: object) -> str:
    if isinstance(owner, types.ModuleType):
        return str(vars(owner).get("__name__", "?"))
    if isinstance(owner, type):
        return f"{vars(owner).get('__module__', '?')}.{owner.__qualname__}"
    return f"<{type(owner).__qualname__} object>"


def _differs(current: object, seen: object) -> bool:
    """``current != seen`` in C; values are compared by identity first, so ``__eq__`` only
    runs for a value that changed, and one that raises (a numpy array) counts as changed."""
    try:
        return bool(current != seen)
    except Exception:
        return True


# -- the static look for the guilty line -----------------------------------------------------

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
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        return [node.target]
    if isinstance(node, ast.Delete):
        return list(node.targets)
    return []


_MAPPING_NAMES: Final = {
    "module": ("sys.modules",),
    "environ": ("os.environ", "environ"),
    "builtin": ("__builtins__", "builtins.__dict__"),
}


def _matches(node: ast.AST, kind: str, key: object) -> int:
    """Score ``node`` as the line that made a ``kind`` change to ``key``: 2 exact, 1 kind, 0 no."""
    mappings = _MAPPING_NAMES.get(kind, ())
    for target in _targets(node):
        if isinstance(target, ast.Subscript) and _dotted(target.value) in mappings:
            return 2 if _constant(target.slice) == key else 1
        if (
            kind == "builtin"
            and isinstance(target, ast.Attribute)
            and _dotted(target.value) in ("builtins", "__builtins__")
        ):
            return 2 if target.attr == key else 1
        if kind == "attr" and isinstance(target, ast.Attribute) and target.attr == key:
            return 2
    if not isinstance(node, ast.Call):
        return 0
    func = node.func
    if not isinstance(func, ast.Attribute):
        if (
            kind == "builtin"
            and _dotted(func) == "setattr"
            and node.args
            and _dotted(node.args[0]) in ("builtins", "__builtins__")
        ):
            return 2 if len(node.args) > 1 and _constant(node.args[1]) == key else 1
        if kind == "environ" and _dotted(func) == "putenv":
            return 2 if node.args and _constant(node.args[0]) == key else 1
        return 0
    if func.attr in ("update", "setdefault", "__setitem__", "pop", "__delitem__") and (
        _dotted(func.value) in mappings
    ):
        if node.args and _constant(node.args[0]) == key:
            return 2
        for arg in node.args:
            if isinstance(arg, ast.Dict) and any(_constant(k) == key for k in arg.keys if k):
                return 2
        if any(keyword.arg == key for keyword in node.keywords):
            return 2
        return 1
    if kind == "environ" and _dotted(func) == "os.putenv":
        return 2 if node.args and _constant(node.args[0]) == key else 1
    if kind in ("patch", "run") and func.attr == "start":
        inner = func.value
        if isinstance(inner, ast.Call) and inner.args:
            first = _constant(inner.args[0])
            if isinstance(key, str) and isinstance(first, str) and first == key:
                return 2
        return 1
    return 0


def locate(path: str, kind: str, key: object, *, exact: bool = False) -> int:
    """Find the line of ``path`` that most likely made the leak: ``sys.modules[...] = ...``,
    ``sys.modules.update/setdefault``, ``builtins.X = ...``, ``os.environ[...] = ...``,
    ``patch(...).start()``; 0 when nothing matches (or, with ``exact``, when no line names
    ``key`` itself)."""
    tree = _parse(path)
    if tree is None:
        return 0
    best: tuple[int, int] = (0, 0)
    for node in ast.walk(tree):
        score = _matches(node, kind, key)
        if not score:
            continue
        line = getattr(node, "lineno", 0)
        if score > best[0] or (score == best[0] and line < best[1]):
            best = (score, line)
    if exact and best[0] < 2:
        return 0
    return best[1]


def _bound_names(body: list[ast.stmt]) -> set[str]:
    """Names a module or class body binds itself (outside nested functions and classes)."""
    names: set[str] = set()
    pending: list[ast.AST] = list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            if not isinstance(node, ast.ClassDef):
                # ``global x`` inside a function: the module manages x itself.
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Global):
                        names.update(inner.names)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).partition(".")[0])
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return names


def _binds_itself(owner: object, name: str) -> bool:
    """Tell whether the source of ``owner`` (a module, or a class in one) binds ``name``.

    A mock a module creates for itself is part of the module, not a leak; without the
    source, assume it is.
    """
    module = (
        sys.modules.get(vars(owner).get("__module__", "")) if isinstance(owner, type) else owner
    )
    path = vars(module).get("__file__") if isinstance(module, types.ModuleType) else None
    tree = _parse(path) if isinstance(path, str) else None
    if tree is None:
        return True
    body: list[ast.stmt] = tree.body
    if isinstance(owner, type):
        for part in owner.__qualname__.split("."):
            found = [n for n in body if isinstance(n, ast.ClassDef) and n.name == part]
            if not found:
                return True
            body = found[0].body
    return name in _bound_names(body)


# -- the guard ---------------------------------------------------------------------------


_chain: Final = itertools.chain.from_iterable


def _referents_are_values() -> bool:
    # True on CPython 3.10-3.13 (dict_traverse visits only the values of a string-keyed
    # table); checked rather than assumed, for other implementations.
    probe = {"a": object(), "b": object()}
    try:
        return gc.get_referents(probe, probe) == [*probe.values(), *probe.values()]
    except Exception:  # pragma: no cover - an implementation without gc.get_referents
        return False


_REFERENTS_ARE_VALUES: Final = _referents_are_values()


def _real_dict(namespace: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The dict a class's ``__dict__`` proxy wraps (a module's ``__dict__`` is one already)."""
    if type(namespace) is dict:
        return namespace
    referents = gc.get_referents(namespace)
    if len(referents) == 1 and type(referents[0]) is dict:
        return referents[0]
    return None


def _environ_raw() -> dict[Any, Any]:
    data = getattr(os.environ, "_data", None)
    return data if isinstance(data, dict) else dict(os.environ)


@final
class _Hold:
    """What a class-, module-, package- or session-scoped fixture changed during setup."""

    __slots__ = ("alive", "culprit", "slots")

    def __init__(self, culprit: Culprit) -> None:
        self.culprit = culprit
        self.slots: list[Slot] = []
        self.alive = True


@final
class _Mark:
    """The watched state at the start of a fixture's setup."""

    __slots__ = ("builtins", "environ", "modules", "patches", "project", "runs")

    def __init__(self, guard: Guard) -> None:
        self.modules = dict(sys.modules)
        self.builtins = dict(vars(builtins))
        self.environ = dict(os.environ)
        self.patches = list(_ACTIVE_PATCHES)
        self.runs = live_runs()
        self.project = [
            (owner, dict(live)) for owner, live in zip(guard._owners, guard._lives, strict=True)
        ]


@final
class Guard:
    """Compare global state between checkpoints and blame each leak on its culprit.

    ``rootdir`` decides which modules are the project's own (under it, not in
    site-packages); ``is_test_file(path)`` says which of those are test files and
    conftests, whose own globals are theirs to manage.  ``strict`` undoes each leak at
    the checkpoint that finds it.
    """

    def __init__(
        self,
        rootdir: str,
        *,
        strict: bool,
        is_test_file: Callable[[str], bool],
    ) -> None:
        self.strict = strict
        self._root = os.path.normcase(os.path.abspath(rootdir)).rstrip(os.sep) + os.sep
        self._excluded = tuple(
            os.path.normcase(os.path.abspath(prefix)).rstrip(os.sep) + os.sep
            for prefix in {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}
            if not self._root.startswith(
                os.path.normcase(os.path.abspath(prefix)).rstrip(os.sep) + os.sep
            )
        )
        self._is_test_file = is_test_file
        # What the previous checkpoint saw.  The fast path compares only ``_seen_flat``;
        # the rest finds, once something changed, what it was.
        self._seen_modules: dict[str, Any] = dict(sys.modules)
        self._seen_builtins: dict[str, Any] = dict(vars(builtins))
        self._origin_builtins = self._seen_builtins
        self._seen_environ_raw = dict(_environ_raw())
        self._seen_environ: dict[str, str] = dict(os.environ)
        self._origin_environ = self._seen_environ
        self._seen_patches: list[Any] = list(_ACTIVE_PATCHES)
        self._seen_runs: dict[int, Journal] = live_runs()
        # Parallel lists: each watched module or class, its live __dict__ (a mappingproxy
        # for a class), and the copy seen at the previous checkpoint.
        self._owners: list[object] = []
        self._lives: list[Mapping[str, Any]] = []
        self._seens: list[Mapping[str, Any]] = []
        # The dicts behind ``_lives`` (a class's real __dict__, not its proxy), whose values
        # go into the flat list the fast path compares.
        self._dicts: list[Mapping[str, Any]] = []
        self._values_of: Callable[[Any], Iterable[object]] = dict.values
        self._project_ids: set[int] = set()
        # The value a slot had before a holder changed it: what undo brings back.
        self._pristine: dict[Slot, object] = {}
        self._holds: dict[Slot, tuple[_Hold, object]] = {}
        # Slots whose holder was torn down: judged at the next checkpoint, its culprit.
        self._dirty: dict[Slot, Culprit] = {}
        for value in list(sys.modules.values()):
            self._watch_if_project(value)
        self._seen_flat = self._flat()

    # -- the project's own modules ---------------------------------------------------------

    def is_project_file(self, filename: str) -> bool:
        """Tell whether ``filename`` belongs to the project: under rootdir, not installed."""
        # Module files are absolute paths already; abspath (a getcwd and a normpath) is
        # only worth paying for the rare relative one.
        path = os.path.normcase(filename if os.path.isabs(filename) else os.path.abspath(filename))
        if not path.startswith(self._root) or path.startswith(self._excluded):
            return False
        parts = path[len(self._root) :].split(os.sep)
        return "site-packages" not in parts and "dist-packages" not in parts

    def _project_module(self, value: object) -> bool:
        if not issubclass(type(value), types.ModuleType):
            return False
        filename = vars(value).get("__file__")
        if not isinstance(filename, str) or not self.is_project_file(filename):
            return False
        return not self._is_test_file(filename)

    def _watch_if_project(self, value: object) -> bool:
        if id(value) in self._project_ids or not self._project_module(value):
            return False
        self._project_ids.add(id(value))
        namespace = vars(value)
        name = namespace.get("__name__")
        owners = [value]
        owners.extend(
            member
            for member in list(namespace.values())
            if type(member) is type and vars(member).get("__module__") == name
        )
        for owner in owners:
            live = owner.__dict__
            self._owners.append(owner)
            self._lives.append(live)
            self._seens.append(dict(live))
            real = _real_dict(live)
            if real is None:
                self._values_of = operator.methodcaller("values")
            self._dicts.append(live if real is None else real)
        return True

    def _flat(self) -> list[object]:
        """Every watched value in one list, built in C: modules, builtins, project namespaces.

        ``gc.get_referents`` of dicts with string keys lists their values in order, for all
        the dicts in one call, several times cheaper than iterating them; comparing two
        lists of the same objects then only compares pointers (CPython checks identity
        first), where comparing dicts would look every key up again.
        """
        if _REFERENTS_ARE_VALUES and self._values_of is dict.values:
            return gc.get_referents(sys.modules, vars(builtins), *self._dicts)
        return list(
            _chain(
                (sys.modules.values(), vars(builtins).values(), *map(self._values_of, self._dicts))
            )
        )

    # -- checkpoints -----------------------------------------------------------------------

    def checkpoint(self, culprit: Callable[[], Culprit]) -> list[Leak]:
        """Judge everything that changed since the previous checkpoint; blame ``culprit()``.

        ``culprit`` is only called when something changed: building one (a test id, its
        ``saferemock_allow`` markers) costs more than the check itself.

        Returns the leaks found (allowed ones left out).  In strict mode each one is
        undone before this returns; otherwise the new state is accepted as it is, so the
        next checkpoint does not blame the next culprit for it.
        """
        environ_raw = _environ_raw()
        runs = live_runs()
        if (
            not self._dirty
            and self._seen_patches == _ACTIVE_PATCHES
            and self._seen_runs == runs
            and not _differs(environ_raw, self._seen_environ_raw)
            and not _differs(self._flat(), self._seen_flat)
        ):
            return []
        changes: dict[Slot, tuple[object, object]] = {}
        new_modules: list[tuple[str, object]] = []
        touched: set[str] = set()
        seen_values = list(self._seen_modules.values())
        if _differs(list(sys.modules.values()), seen_values):
            touched.add("module")
            self._diff_modules(changes, new_modules, seen_values)
        if _differs(list(vars(builtins).values()), list(self._seen_builtins.values())):
            touched.add("builtin")
            self._diff_mapping("builtin", vars(builtins), self._seen_builtins, changes)
        if _differs(environ_raw, self._seen_environ_raw):
            touched.add("environ")
            self._diff_mapping("environ", dict(os.environ), self._seen_environ, changes)
        if self._seen_patches != _ACTIVE_PATCHES:
            touched.add("patch")
            self._diff_objects("patch", _ACTIVE_PATCHES, self._seen_patches, changes)
        if self._seen_runs != runs:
            touched.add("run")
            self._diff_objects("run", list(runs.values()), list(self._seen_runs.values()), changes)
        changed_owners: list[int] = []
        if _differs(self._lives, self._seens):
            changed_owners = [
                index
                for index, (live, seen) in enumerate(zip(self._lives, self._seens, strict=True))
                if _differs(live, seen)
            ]
        for index in changed_owners:
            live, seen = self._lives[index], self._seens[index]
            ref = _Ref(self._owners[index])
            for name, value in list(live.items()):
                if seen.get(name, MISSING) is not value:
                    changes[("attr", ref, name)] = (seen.get(name, MISSING), value)
            for name in seen.keys() - live.keys():
                changes[("attr", ref, name)] = (seen[name], MISSING)
        fresh: set[Slot] = set()
        for _, module in new_modules:
            if self._watch_if_project(module):
                self._scan_new(module, changes, fresh)
        dirty, self._dirty = self._dirty, {}
        for slot in dirty:
            if slot not in changes:
                current = _read(slot)
                changes[slot] = (current, current)
        if not changes:
            # Only an order changed (a module deleted and imported again, say).
            self._refresh(touched, changed_owners)
            return []
        leaks, plan = self._judge(culprit(), changes, dirty, fresh)
        if plan and self.strict:
            self._restore(plan, [key for key, _ in new_modules])
            touched.update(("module", "builtin", "environ", "patch", "run"))
            changed_owners = list(range(len(self._owners)))
        self._refresh(touched, changed_owners)
        return leaks

    def _diff_modules(
        self,
        changes: dict[Slot, tuple[object, object]],
        new: list[tuple[str, object]],
        seen_values: list[object],
    ) -> None:
        keys, values = list(sys.modules), list(sys.modules.values())
        size = len(seen_values)
        if (
            len(keys) >= size
            and keys[:size] == list(self._seen_modules)
            and not _differs(values[:size], seen_values)
        ):
            # The usual case (an import): the old items are untouched and the new ones
            # come last, since a dict keeps insertion order.  Two slices compared in C
            # instead of a Python loop over a thousand modules.
            for key, value in zip(keys[size:], values[size:], strict=True):
                changes[("module", key)] = (MISSING, value)
                new.append((key, value))
            return
        seen = self._seen_modules
        present = 0
        for key, value in list(sys.modules.items()):
            old = seen.get(key, MISSING)
            if old is not MISSING:
                present += 1
            if old is not value:
                changes[("module", key)] = (old, value)
                new.append((key, value))
        if present < len(seen):
            for key in seen.keys() - sys.modules.keys():
                changes[("module", key)] = (seen[key], MISSING)

    @staticmethod
    def _diff_mapping(
        kind: str,
        current: Mapping[str, Any],
        seen: Mapping[str, Any],
        changes: dict[Slot, tuple[object, object]],
    ) -> None:
        for key, value in current.items():
            old = seen.get(key, MISSING)
            if not _same(kind, value, old):
                changes[(kind, key)] = (old, value)
        for key in seen.keys() - current.keys():
            changes[(kind, key)] = (seen[key], MISSING)

    @staticmethod
    def _diff_objects(
        kind: str,
        current: list[Any],
        seen: list[Any],
        changes: dict[Slot, tuple[object, object]],
    ) -> None:
        now = {id(obj): obj for obj in current}
        before = {id(obj): obj for obj in seen}
        for key, obj in now.items():
            if key not in before:
                changes[(kind, _Ref(obj))] = (MISSING, obj)
        for key, obj in before.items():
            if key not in now:
                changes[(kind, _Ref(obj))] = (obj, MISSING)

    def _scan_new(
        self, module: object, changes: dict[Slot, tuple[object, object]], fresh: set[Slot]
    ) -> None:
        """A project module imported in this interval: a mock on it was put there from outside."""
        name = vars(module).get("__name__")
        owners: list[object] = [module]
        owners.extend(
            member
            for member in list(vars(module).values())
            if type(member) is type and vars(member).get("__module__") == name
        )
        for owner in owners:
            for attr, value in list(vars(owner).items()):
                if is_mock(value) and not _binds_itself(owner, attr):
                    slot = ("attr", _Ref(owner), attr)
                    changes[slot] = (MISSING, value)
                    fresh.add(slot)

    # -- judging ---------------------------------------------------------------------------

    def _held(self) -> tuple[dict[Slot, object], set[str], dict[Slot, object], set[Slot]]:
        """What live owners hold on purpose, and what leaked patchers hold.

        Returns (held slots -> the value kept there, kinds held whole, slots of
        patchers/runs not held by anyone -> their patcher or run, and their slots).
        """
        held: dict[Slot, object] = {}
        whole: set[str] = set()
        for slot, (hold, value) in self._holds.items():
            if hold.alive:
                held[slot] = value
        loose: dict[Slot, object] = {}
        loose_slots: set[Slot] = set()
        for run in list(live_runs().values()):
            run_slot: Slot = ("run", _Ref(run))
            exempt = _exempt(run) or run_slot in held
            if exempt:
                held[run_slot] = run
            else:
                loose[run_slot] = run
            for change in run.changes():
                changed = _slot_of(change.kind, change.owner, change.key)
                if changed is None:
                    continue
                if exempt:
                    held.setdefault(changed, change.new)
                else:
                    loose_slots.add(changed)
        for patcher in list(_ACTIVE_PATCHES):
            patch_slot: Slot = ("patch", _Ref(patcher))
            slots, kinds = _patcher_slots(patcher)
            if patch_slot in held:
                whole.update(kinds)
                for slot in slots:
                    held.setdefault(slot, _ANY)
            else:
                loose[patch_slot] = patcher
                loose_slots.update(slots)
                loose_slots.update((kind, _ANY) for kind in kinds)
        return held, whole, loose, loose_slots

    def _judge(
        self,
        culprit: Culprit,
        changes: dict[Slot, tuple[object, object]],
        dirty: dict[Slot, Culprit],
        fresh: set[Slot],
    ) -> tuple[list[Leak], list[tuple[Slot, object]]]:
        held, whole, loose, loose_slots = self._held()
        leaks: list[Leak] = []
        plan: list[tuple[Slot, object]] = []
        reported: set[tuple[str, str]] = set()
        deferred: list[tuple[Slot, object]] = []
        modules = sys.modules
        for slot, (old, current) in changes.items():
            kind = slot[0]
            if kind == "module" and _imported(slot[1], current, modules) and slot not in held:
                # The bulk of every interval that imports something: a real module, in
                # step with its package.  Nothing to judge or remember.
                self._pristine.pop(slot, None)
                continue
            kept = held.get(slot, _ANY if kind in whole else MISSING)
            if kept is not MISSING:
                if kept is _ANY or _same(kind, current, kept):
                    self._pristine.setdefault(slot, old)
                    continue
                prior = kept  # a test overwrote what a live owner keeps there
            else:
                prior = self._pristine.pop(slot, old)
            if kind in ("patch", "run"):
                if current is MISSING or slot not in loose:
                    continue
            elif _same(kind, current, prior):
                continue
            if slot in loose_slots or (kind, _ANY) in loose_slots:
                # Reported once, as the patch still active; stopping it restores the slot
                # (unless something changed it before the patch started).
                deferred.append((slot, prior))
                continue
            blamed = dirty.get(slot, culprit)
            found = self._classify(blamed, slot, prior, current, slot in fresh)
            if found is None:
                continue
            subject, what, fix = found
            if kind in ("module", "attr"):
                if (subject, what) in reported:
                    continue  # a submodule out of step is seen twice: item and attribute
                reported.add((subject, what))
            leak = self._leak(blamed, slot, subject, what, fix)
            if blamed.allow is not None and (
                not blamed.allow or allow_matches(blamed.allow, subject)
            ):
                continue
            leaks.append(leak)
            plan.append((slot, prior))
        if plan:
            plan.extend(deferred)
        return leaks, plan

    def _classify(
        self, culprit: Culprit, slot: Slot, prior: object, current: object, fresh: bool
    ) -> tuple[str, str, str] | None:
        kind = slot[0]
        if kind == "module":
            return self._classify_module(culprit, slot[1], current)
        if kind == "builtin":
            name = slot[1]
            if name in _BUILTINS_IGNORED or current is self._origin_builtins.get(name, MISSING):
                return None
            subject = f"builtins.{name}"
            if current is MISSING:
                return (
                    subject,
                    f"{subject} was removed",
                    f"delete it with monkeypatch.delattr(builtins, {name!r}) instead",
                )
            if prior is MISSING:
                return (
                    subject,
                    f"{subject} was added ({_what_is(current)})",
                    f"add it with safemock.patch.object(builtins, {name!r}, value, "
                    "create=True) instead",
                )
            return (
                subject,
                f"{subject} is {_what_is(current)}",
                f"use safemock.patch_builtin({name!r}, ...) instead",
            )
        if kind == "environ":
            name = slot[1]
            if culprit.phase in _CONFIG_PHASES or name in _ENVIRON_IGNORED:
                return None
            if _same(kind, current, self._origin_environ.get(name, MISSING)):
                return None
            subject = f"os.environ[{name!r}]"
            if current is MISSING:
                return (
                    subject,
                    f"{subject} was removed",
                    f"use monkeypatch.delenv({name!r}) instead",
                )
            what = (
                f"{subject} was set to {_short(current)}"
                if prior is MISSING
                else f"{subject} was changed to {_short(current)}"
            )
            return (
                subject,
                what,
                f"use safemock.patch.dict(os.environ, {{{name!r}: ...}}) or "
                f"monkeypatch.setenv({name!r}, ...) instead",
            )
        if kind == "attr":
            return self._classify_attr(slot[1].obj, slot[2], current, fresh)
        if kind in ("patch", "run") and culprit.phase == "session":
            # Plugins start session-long patches in pytest_configure and stop them in
            # pytest_unconfigure (pytest-mock wraps the assert methods this way).
            return None
        if kind == "patch":
            patched = _patch_target(current)
            return (
                patched,
                f"the unittest.mock patch of {patched} was started with start() and never stopped",
                "stop it in the same test (a with block, a decorator, or "
                "request.addfinalizer(patcher.stop)), or use the safemock fixture, "
                "which undoes it at teardown",
            )
        run = current
        assert isinstance(run, Journal)
        described = run.describe()
        target = getattr(run.activation, "target", None)
        return (
            target if isinstance(target, str) else described,
            f"{described} was started with start() and never stopped",
            "use it as a with block or a decorator, or through the safemock fixture, "
            "which undoes it at teardown",
        )

    def _classify_module(
        self, culprit: Culprit, key: str, current: object
    ) -> tuple[str, str, str] | None:
        if current is MISSING:
            return None
        subject = f"sys.modules[{key!r}]"
        problem = _module_problem(key, current)
        if problem is not None:
            if current is None:
                fix = f"use safemock.block_modules({key!r}) instead, undone at teardown"
            elif culprit.phase in ("conftest", "collection", "session"):
                fix = (
                    f"list {key} in the saferemock_fake_modules ini option for a "
                    f"session-wide fake, or use safemock.fake_module_tree([{key!r}]) in a "
                    "fixture"
                )
            else:
                fix = (
                    f"use safemock.fake_module_tree([{key!r}]) (or "
                    f"@pytest.mark.fake_modules({key!r})) instead, undone at teardown"
                )
            return subject, f"{subject} {problem}", fix
        return self._out_of_step(key, current)

    @staticmethod
    def _out_of_step(key: str, current: object) -> tuple[str, str, str] | None:
        parent_name, _, child = key.rpartition(".")
        parent = sys.modules.get(parent_name) if parent_name else None
        if not issubclass(type(parent), types.ModuleType):
            return None
        attribute = vars(parent).get(child, MISSING)
        if attribute is MISSING or attribute is current:
            return None
        # A package may bind a function or class under a submodule's name on purpose.
        if not (issubclass(type(attribute), types.ModuleType) or is_mock(attribute)):
            return None
        subject = f"{parent_name}.{child}"
        return (
            subject,
            f"{subject} is not sys.modules[{key!r}] (the package attribute is "
            f"{_what_is(attribute)})",
            f"use safemock.fresh_import({key!r}) to import a fresh copy for one test",
        )

    def _classify_attr(
        self, owner: object, name: str, current: object, fresh: bool
    ) -> tuple[str, str, str] | None:
        subject = f"{_label(owner)}.{name}"
        if is_mock(current):
            if fresh and _binds_itself(owner, name):
                return None
            return (
                subject,
                f"{subject} is {_what_is(current)}",
                f"use safemock.patch({subject!r}) instead, undone at teardown",
            )
        if isinstance(owner, types.ModuleType) and issubclass(type(current), types.ModuleType):
            # A submodule re-imported inside patch.dict(sys.modules) rebinds the package
            # attribute to a copy that sys.modules no longer holds once the patch stops.
            key = f"{_label(owner)}.{name}"
            if key in sys.modules:
                return self._out_of_step(key, sys.modules[key])
        return None

    @staticmethod
    def _leak(culprit: Culprit, slot: Slot, subject: str, what: str, fix: str) -> Leak:
        line = culprit.line
        if not line and culprit.phase != "test" and (culprit.path or culprit.search):
            key: object = slot[2] if slot[0] == "attr" else slot[1]
            if slot[0] in ("patch", "run"):
                key = subject
            if culprit.path:
                line = locate(culprit.path, slot[0], key)
            else:
                # A hook in some conftest (pytest_configure, pytest_sessionstart): name the
                # conftest whose line matches best.
                for path, relpath in culprit.search:
                    line = locate(path, slot[0], key, exact=True)
                    if line:
                        culprit = dataclasses.replace(culprit, path=path, relpath=relpath)
                        break
        if culprit.phase == "test":
            where = culprit.name
        else:
            place = (
                f"{culprit.relpath}:{line}"
                if line and culprit.relpath
                else (culprit.relpath or culprit.name)
            )
            label = {
                "collection": "collection",
                "conftest": "conftest import",
                "fixture": f"fixture {culprit.name!r}",
            }.get(culprit.phase, culprit.name)
            where = place if place == label else f"{place} ({label})"
        return Leak(
            culprit=culprit.name,
            phase=culprit.phase,
            subject=subject,
            what=what,
            fix=fix,
            where=where,
            path=culprit.path,
            line=line,
        )

    # -- strict mode: put it all back ------------------------------------------------------

    def _restore(self, plan: list[tuple[Slot, object]], new_keys: list[str]) -> None:
        """Undo every leak in ``plan`` at once, then evict what captured a leaked module."""
        # unittest.mock patches of one slot unwind right only newest first (each puts
        # back what it saw when it started); saferemock runs in any order, but newest
        # first is the order their own undo would use.
        patchers = [slot[1].obj for slot, _ in plan if slot[0] == "patch"]
        order = {id(patcher): index for index, patcher in enumerate(_ACTIVE_PATCHES)}
        patchers.sort(key=lambda patcher: order.get(id(patcher), -1), reverse=True)
        runs: list[Journal] = [slot[1].obj for slot, _ in plan if slot[0] == "run"]
        started = {id(run): index for index, run in enumerate(live_runs().values())}
        runs.sort(key=lambda run: started.get(id(run), -1), reverse=True)
        journal = Journal()
        try:
            for patcher in patchers:
                patcher.stop()
            for run in runs:
                run.close(failed=True)
            leaked_modules: list[object] = []
            for slot, prior in plan:
                kind = slot[0]
                if kind in ("patch", "run") or _same(kind, _read(slot), prior):
                    continue
                if kind == "module":
                    leaked_modules.append(sys.modules.get(slot[1]))
                _write(journal, slot, prior)
            if leaked_modules:
                self._evict(journal, leaked_modules, new_keys)
        finally:
            journal.commit()

    def _evict(self, journal: Journal, leaked: list[object], new_keys: list[str]) -> None:
        """Evict the modules imported in this interval that hold a leaked module object.

        They captured the fake at import (``import boto3`` bound the mock); left in
        ``sys.modules``, the next test importing them would get the fake back.
        """
        ids = {id(value) for value in leaked}
        for value in leaked:
            if issubclass(type(value), types.ModuleType):
                ids.update(
                    id(member)
                    for attr, member in vars(value).items()
                    if not attr.startswith("__")
                    and type(member) not in (str, bytes, int, float, bool, type(None), tuple)
                )
        taint = Taint(ids)
        candidates: dict[str, object] = {}
        for key in new_keys:
            module: object = sys.modules.get(key)
            if not issubclass(type(module), types.ModuleType):
                continue
            filename = vars(module).get("__file__")
            if isinstance(filename, str) and self._is_test_file(filename):
                continue  # pytest holds test modules and conftests itself
            if is_owned("item", sys.modules, key):
                continue  # a saferemock change owns it and undoes it
            candidates[key] = module
        for key, module in taint.spread(candidates):
            journal.delitem(sys.modules, key)
            parent_name, _, child = key.rpartition(".")
            parent = sys.modules.get(parent_name) if parent_name else None
            if parent is not None and read_attr(parent, child) is module:
                journal.delattr(parent, child)

    def _refresh(self, touched: set[str], changed_owners: list[int]) -> None:
        if "module" in touched:
            self._seen_modules = dict(sys.modules)
        if "builtin" in touched:
            self._seen_builtins = dict(vars(builtins))
        if "environ" in touched:
            self._seen_environ_raw = dict(_environ_raw())
            self._seen_environ = dict(os.environ)
        if "patch" in touched:
            self._seen_patches = list(_ACTIVE_PATCHES)
        if "run" in touched:
            self._seen_runs = live_runs()
        for index in changed_owners:
            self._seens[index] = dict(self._lives[index])
        self._seen_flat = self._flat()

    # -- fixtures that hold state across tests ---------------------------------------------

    def mark(self) -> _Mark:
        """Snapshot the watched state before a longer-lived fixture's setup."""
        return _Mark(self)

    def hold(self, mark: _Mark, culprit: Culprit) -> _Hold:
        """Register what changed since ``mark`` as held by the fixture ``culprit``."""
        hold = _Hold(culprit)
        changes: dict[Slot, tuple[object, object]] = {}
        for key, value in list(sys.modules.items()):
            if mark.modules.get(key, MISSING) is not value:
                changes[("module", key)] = (mark.modules.get(key, MISSING), value)
        self._diff_mapping("builtin", vars(builtins), mark.builtins, changes)
        self._diff_mapping("environ", dict(os.environ), mark.environ, changes)
        self._diff_objects("patch", _ACTIVE_PATCHES, mark.patches, changes)
        self._diff_objects("run", list(live_runs().values()), list(mark.runs.values()), changes)
        for owner, before in mark.project:
            ref = _Ref(owner)
            for name, value in list(vars(owner).items()):
                if before.get(name, MISSING) is not value:
                    changes[("attr", ref, name)] = (before.get(name, MISSING), value)
        for slot, (_, current) in changes.items():
            if current is MISSING or slot in self._holds:
                continue  # a fixture set up inside this one holds it already
            self._holds[slot] = (hold, current)
            hold.slots.append(slot)
        return hold

    def release(self, hold: _Hold) -> None:
        """The fixture was torn down: what it still holds is judged at the next checkpoint."""
        hold.alive = False
        for slot in hold.slots:
            entry = self._holds.get(slot)
            if entry is not None and entry[0] is hold:
                del self._holds[slot]
                self._dirty[slot] = hold.culprit


def _patch_target(patcher: Any) -> str:
    in_dict = getattr(patcher, "in_dict", None)
    if in_dict is not None:
        names = {id(sys.modules): "sys.modules", id(os.environ): "os.environ"}
        return f"patch.dict({names.get(id(in_dict), _what_is(in_dict))})"
    target = getattr(patcher, "target", None)
    attribute = getattr(patcher, "attribute", "?")
    return f"{_label(target)}.{attribute}" if target is not None else str(attribute)


def _write(journal: Journal, slot: Slot, value: object) -> None:
    kind = slot[0]
    if kind == "module":
        owner: Any = sys.modules
    elif kind == "environ":
        owner = os.environ
    elif kind == "builtin":
        if value is MISSING:
            journal.delattr(builtins, slot[1])
        else:
            journal.setattr(builtins, slot[1], value)
        return
    else:
        target = slot[1].obj
        if value is MISSING:
            if read_attr(target, slot[2]) is not MISSING:
                journal.delattr(target, slot[2])
        else:
            journal.setattr(target, slot[2], value)
        return
    key = slot[1]
    if value is MISSING:
        if key in owner:
            journal.delitem(owner, key)
    else:
        journal.setitem(owner, key, value)


def iter_leak_lines(leaks: Iterable[Leak]) -> Iterator[str]:
    """Report lines, sorted by phase then culprit, without duplicates (xdist workers repeat)."""
    seen: set[tuple[str, str]] = set()
    for leak in sorted(leaks, key=Leak.sort_key):
        key = (leak.where, leak.what)
        if key not in seen:
            seen.add(key)
            yield leak.report_line()
