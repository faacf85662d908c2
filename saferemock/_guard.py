"""The pollution guard: what a test, a test file or a conftest left behind, and who did it.

The pytest plugin drives a `Guard` with *checkpoints*: after each conftest import,
around each test file's collection and each project module's import, after each test
(setup, call and teardown together), around longer-lived fixtures, and a *sweep* of
every module's attributes after tests that made mocks and at the end of each test file.
A checkpoint compares the watched global state with what the guard saw at the previous
one and blames the difference on the culprit of that interval.  What is watched, and
what counts as a leak, is up to the kinds in `saferemock._kinds`.

The guard tells the truth by what it sees, not by lists of names: a ``sys.modules``
entry that appeared while a library was being imported is the import system's
bookkeeping (`saferemock._imports`); a mock is the leak of whoever made it
(`saferemock._origins`); what a long-lived owner keeps on purpose (a fixture's
``SafeMock``, the ini option's fakes, a class- or module-scoped fixture) is judged when
that owner is torn down.

In strict mode a leak made by a test, a fixture or a test file's collection is undone at
once through a `saferemock._undo.Journal`, so the next test runs in a clean
world.  What a conftest or a project module set up at import time, and what a library
made, is reported but left in place: later tests may depend on it, and putting it back
would only make them fail.  This module never imports pytest.
"""

from __future__ import annotations

import builtins
import functools
import gc
import importlib.machinery
import itertools
import operator
import os
import re
import sys
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, NamedTuple, final

from saferemock._imports import ImportWatch
from saferemock._kinds import (
    ACTIVE_PATCHES,
    KINDS,
    Context,
    Finding,
    environ_decoded,
    environ_raw,
    is_fake_module,
    is_mock,
    snapshot_lists,
    snapshot_objects,
)
from saferemock._locate import locate
from saferemock._missing import MISSING
from saferemock._mocklib import MOCK_MODULES
from saferemock._origins import MockOrigins
from saferemock._taint import Taint, mock_root
from saferemock._undo import ROOT, Journal, drain_repairs, is_owned, read_attr

__all__ = ["Culprit", "Guard", "Leak", "allow_matches", "iter_leak_lines", "live_runs"]

_PHASE_RANK: Final = {
    "conftest": 0,
    "session": 1,
    "import": 2,
    "collection": 2,
    "fixture": 3,
    "test": 3,
}

# Culprits whose leaks strict mode undoes: what they changed, nothing later depends on.
_UNDONE_IN_STRICT: Final = frozenset({"test", "fixture", "collection"})

# Packages whose module attributes the sweep leaves alone: test machinery.
_MACHINERY: Final = frozenset(
    {"_pytest", "pytest", "pluggy", "saferemock", "xdist", "execnet", "hypothesis", "unittest"}
)


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
class Culprit(NamedTuple):
    """Whoever ran since the previous checkpoint: a conftest, a test file, a test, a fixture."""

    phase: str
    """``"conftest"``, ``"import"``, ``"collection"``, ``"test"``, ``"fixture"`` or
    ``"session"``."""
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
    module: str = ""
    """For an ``"import"`` culprit, the dotted name of the module being imported."""


@final
class Leak(NamedTuple):
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
    kept: str = ""
    """Why strict mode left it in place, or ``""``."""
    late: bool = False
    """Strict mode undid it only when the culprit's file or the run ended, too late to
    fail the culprit."""

    def report_line(self) -> str:
        """The line of the terminal report and of ``saferemock check``."""
        if self.kept:
            why = f" ({self.kept})"
        elif self.late:
            why = " (strict mode undid it when the file ended; the test was not failed)"
        else:
            why = ""
        return f"{self.where}: {self.what}; {self.fix}{why}"

    def sort_key(self) -> tuple[int, str, int, str, str]:
        """Phase (conftests first), then culprit and line, so a report reads top-down."""
        return (_PHASE_RANK.get(self.phase, 9), self.culprit, self.line, self.where, self.what)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for pytest-xdist workers to send to the controller."""
        return self._asdict()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Leak:
        return cls(**{key: value for key, value in data.items() if key in cls._fields})


def allow_matches(patterns: Iterable[str], subject: str) -> bool:
    """Tell whether an allow pattern (``*`` is a wildcard) matches ``subject``.

    Example:
        >>> allow_matches(["sys.modules['cloud*']"], "sys.modules['cloudsdk']")
        True
    """
    for pattern in patterns:
        regex = ".*".join(re.escape(part) for part in pattern.split("*"))
        if re.fullmatch(regex, subject):
            return True
    return False


def iter_leak_lines(leaks: Iterable[Leak]) -> Iterator[str]:
    """Report lines, sorted by phase then culprit, without duplicates (xdist workers repeat)."""
    seen: set[tuple[str, str]] = set()
    for leak in sorted(leaks, key=Leak.sort_key):
        key = (leak.where, leak.what)
        if key not in seen:
            seen.add(key)
            yield leak.report_line()


# -- slots --------------------------------------------------------------------------------


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


# ("module", key) | ("builtin", name) | ("environ", key) | ("list", name, _Ref(entry))
# | ("object", name) | ("attr", _Ref(owner), name) | ("patch", _Ref(patcher))
# | ("run", _Ref(run)) | ("repair", _Ref(repair))
Slot = tuple[Any, ...]

# A holder's value that any current value matches (patch.dict holds a whole mapping).
_ANY: Final = object()

# The import watch's token for the first import of a mock library (unittest.mock, or
# PyPI's mock), when the guard starts noting who makes its mocks (MockOrigins.install).
_MOCK_LIBRARY: Final = object()


def _key(slot: Slot) -> Any:
    return slot[1] if len(slot) == 2 else slot[1:]


def _read(slot: Slot) -> object:
    return KINDS[slot[0]].read(_key(slot))


def _same(kind: str, current: object, expected: object) -> bool:
    if current is expected:
        return True
    if type(current) is types.MethodType:
        # Each read of obj.method makes a new bound method: the same function and object
        # bound again is the same value.
        return current == expected
    # os.environ decodes a fresh str at each read.
    return kind == "environ" and current == expected


def _remade_by_code(value: object) -> bool:
    """Whether another ``value`` of its class back in a slot after a report means code that
    makes one on every use (pyfakefs's fake ``Path`` module, cached or made anew).

    Not a constant or a plain module (any code writing one gives that type) and not a mock
    (a test's own, which the test can stop leaving).
    """
    return not (
        value is MISSING
        or value is None
        or isinstance(value, (str, bytes, int, float))
        or type(value) is types.ModuleType
        or is_mock(value)
    )


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
        in_dict = vars(sub).get("in_dict")
        if in_dict is not None:
            # patch.dict restores the whole mapping from a copy when it stops.
            kind = _whole_kind(in_dict)
            if kind is not None:
                whole.add(kind)
            continue
        target = vars(sub).get("target")
        attribute = vars(sub).get("attribute")
        if target is not None and isinstance(attribute, str):
            slot = _slot_of("attr", target, attribute)
            if slot is not None:
                slots.append(slot)
    return slots, whole


def _imported(key: str, value: object, modules: Mapping[str, object]) -> bool:
    """Tell, cheaply, that ``value`` is a module the import system made, in step with its package."""
    if type(value) is not types.ModuleType:
        return False
    spec = vars(value).get("__spec__")
    if spec is None or getattr(spec, "name", None) != key:
        return False
    parent_name, _, child = key.rpartition(".")
    if not parent_name:
        return True
    parent = modules.get(parent_name)
    if type(parent) is not types.ModuleType:
        return parent is None
    return vars(parent).get(child, value) is value


def _differs(current: object, seen: object) -> bool:
    """``current != seen`` in C; values are compared by identity first, so ``__eq__`` only
    runs for a value that changed, and one that raises (a numpy array) counts as changed."""
    try:
        return bool(current != seen)
    except Exception:
        return True


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


def _flat(
    dicts: list[Mapping[str, Any]], values_of: Callable[[Any], Iterable[object]]
) -> list[object]:
    """Every value of ``sys.modules``, ``builtins`` and ``dicts`` in one list, built in C.

    ``gc.get_referents`` of dicts with string keys lists their values in order, for all
    the dicts in one call, several times cheaper than iterating them; comparing two lists
    of the same objects then only compares pointers (CPython checks identity first),
    where comparing dicts would look every key up again.
    """
    if _REFERENTS_ARE_VALUES and values_of is dict.values:
        return gc.get_referents(sys.modules, vars(builtins), *dicts)
    return list(_chain((sys.modules.values(), vars(builtins).values(), *map(values_of, dicts))))


def _values(dicts: list[dict[str, Any]]) -> list[object]:
    """Every value of ``dicts`` in one list, built in C as :func:`_flat` builds its own."""
    if _REFERENTS_ARE_VALUES:
        return gc.get_referents(*dicts)
    return list(_chain(map(dict.values, dicts)))


def _same_items(current: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
    """Tell, in C, that ``current`` holds the very keys and value objects of ``before``."""
    return (
        len(current) == len(before)
        and all(map(operator.is_, current.values(), before.values()))
        and list(current) == list(before)
    )


def _copy(namespace: Mapping[str, Any]) -> dict[str, Any]:
    return namespace.copy() if type(namespace) is dict else dict(namespace)


def _gets(dicts: list[dict[str, Any]], key: str) -> list[object]:
    """``d.get(key)`` for every dict, in C."""
    return list(map(dict.get, dicts, itertools.repeat(key)))


def _is_extension(module: object) -> bool:
    spec = vars(module).get("__spec__") if hasattr(module, "__dict__") else None
    origin = getattr(spec, "origin", None)
    return isinstance(origin, str) and origin.endswith(
        tuple(importlib.machinery.EXTENSION_SUFFIXES)
    )


@final
class _Hold:
    """What a class-, module-, package- or session-scoped fixture changed during setup."""

    __slots__ = ("alive", "culprit", "slots", "types")

    def __init__(self, culprit: Culprit) -> None:
        self.culprit = culprit
        self.slots: list[Slot] = []
        self.types: set[tuple[str, type]] = set()
        """(list name, entry type) of the ``sys.path``-like entries it added."""
        self.alive = True


@final
class _State:
    """One reading of everything the per-test checkpoint watches."""

    __slots__ = (
        "_environ",
        "builtins",
        "environ_raw",
        "lists",
        "modules",
        "objects",
        "patches",
        "project",
        "runs",
    )

    def __init__(self, guard: Guard) -> None:
        # dict.copy(), several times faster than dict(d) for a dict with deleted entries,
        # as sys.modules soon is; a class's copy is taken from the dict behind its proxy.
        self.modules: dict[str, Any] = sys.modules.copy()
        self.builtins: dict[str, Any] = vars(builtins).copy()
        self.environ_raw: dict[Any, Any] = environ_raw().copy()
        self._environ: dict[str, str] | None = None
        self.lists = snapshot_lists()
        self.objects = snapshot_objects()
        self.patches: list[Any] = list(ACTIVE_PATCHES)
        self.runs = live_runs()
        self.project = [_copy(namespace) for namespace in guard._dicts]

    @property
    def environ(self) -> dict[str, str]:
        """``os.environ`` as it was, decoded when first needed: only a change needs it."""
        if self._environ is None:
            self._environ = environ_decoded(self.environ_raw)
        return self._environ


@final
class _Swept:
    """What the last sweep left behind: enough to tell, in C, which modules it must read again.

    A sweep compares each module's namespace with its copy from the last sweep, after
    deciding by name and file which modules it looks at: with a thousand modules, most of
    what the guard costs a suite whose tests make mocks.  While ``sys.modules`` holds the
    same objects, the project the same modules, and every other module the same name and
    file, the swept modules stay the same; of those, only a group whose namespaces no
    longer hold the keys and values of their copies (flat lists, built and compared in
    C) can hold something new.
    """

    __slots__ = (
        "files",
        "groups",
        "modules",
        "names",
        "other_ids",
        "others",
        "projects",
        "recent",
    )

    def __init__(self, guard: Guard, modules: Sequence[object]) -> None:
        self.modules = modules
        self.projects = len(guard._project_ids)
        self.others: list[dict[str, Any]] = []
        self.other_ids: list[int] = []
        self.groups: list[_SweptGroup] = []
        # Ids of the modules the last sweep found changed.
        self.recent: set[int] = set()
        self._add(guard, modules)

    def _add(self, guard: Guard, modules: Iterable[object]) -> None:
        swept: list[types.ModuleType] = []
        for module in modules:
            if not issubclass(type(module), types.ModuleType):
                continue
            entry = guard._swept.get(id(module))
            if entry is not None and entry[0] is module:
                swept.append(entry[0])
            else:
                self.others.append(vars(module))
                self.other_ids.append(id(module))
        self.groups.extend(
            _SweptGroup.made(guard, swept[start : start + _GROUP])
            for start in range(0, len(swept), _GROUP)
        )
        self.names = _gets(self.others, "__name__")
        self.files = _gets(self.others, "__file__")

    def same_modules(self, guard: Guard, modules: Sequence[object]) -> bool:
        """Tell whether a sweep now would look at the very modules the last one did."""
        return (
            len(guard._project_ids) == self.projects
            and not _differs(modules, self.modules)
            and _gets(self.others, "__name__") == self.names
            and _gets(self.others, "__file__") == self.files
        )

    def delta(self, guard: Guard, modules: Sequence[object]) -> tuple[list[Any], list[Any]] | None:
        """The entries gone from ``sys.modules`` and added to it since the last sweep.

        None unless that is all that differs: the modules still there are in the same
        order, the new ones come after them (``sys.modules`` keeps insertion order), and
        the project and the modules left out keep their modules, names and files.  Then a
        sweep reads only the new modules and the groups that changed, and finds what the
        whole one would, in the same order: the new modules are only copied.  (A test
        file's fixture that puts a module in ``sys.modules`` and takes it out again would
        otherwise cost a whole sweep at each end.)
        """
        if self.same_modules(guard, modules):
            return [], []
        if len(guard._project_ids) != self.projects:
            return None
        before = set(map(id, self.modules))
        now = set(map(id, modules))
        kept = [module for module in modules if id(module) in before]
        added = [module for module in modules if id(module) not in before]
        if _differs(modules, kept + added) or _differs(
            kept, [module for module in self.modules if id(module) in now]
        ):
            return None
        if _gets(self.others, "__name__") != self.names or (
            _gets(self.others, "__file__") != self.files
        ):
            return None
        return [module for module in self.modules if id(module) not in now], added

    def follow(
        self, guard: Guard, modules: Sequence[object], gone: list[object], added: list[object]
    ) -> None:
        """Take in what `delta` found, once the sweep has copied the new modules."""
        self.modules = modules
        if gone:
            ids = set(map(id, gone))
            groups: list[_SweptGroup] = []
            for group in self.groups:
                if not any(id(module) in ids for module in group.modules):
                    groups.append(group)
                    continue
                left = [module for module in group.modules if id(module) not in ids]
                if left:
                    groups.append(_SweptGroup.made(guard, left))
            self.groups = groups
            kept = [index for index, key in enumerate(self.other_ids) if key not in ids]
            self.others = [self.others[index] for index in kept]
            self.other_ids = [self.other_ids[index] for index in kept]
        self._add(guard, added)

    def changed(self) -> list[_SweptGroup]:
        """The groups with a namespace that differs from its copy, in ``sys.modules`` order."""
        return [group for group in self.groups if group.changed()]

    def regroup(self, guard: Guard, changed: list[_SweptGroup], touched: set[int]) -> None:
        """Take in the copies the sweep made of the ``changed`` groups' ``touched`` modules.

        A module that changed in this sweep and the one before it, alone or with one
        other of its group, gets a group of its own: one whose namespace changes at every
        test (pytest gives ``warnings`` a new ``filters`` list around each one) then
        costs the next sweep a look at itself rather than at the 31 beside it.  A change
        made once, or to many modules at a time (a fixture patching ``os`` in many), leaves
        the group whole, so the groups do not crumble.
        """
        busy, self.recent = touched & self.recent, touched
        regrouped = {id(group) for group in changed}
        groups: list[_SweptGroup] = []
        for group in self.groups:
            if id(group) not in regrouped:
                groups.append(group)
                continue
            moved = sum(id(module) in busy for module in group.modules)
            if len(group.modules) == 1 or not 0 < moved <= _VOLATILE:
                group.remember(guard)
                groups.append(group)
                continue
            run: list[types.ModuleType] = []
            for module in group.modules:
                if id(module) in busy:
                    groups.extend(_SweptGroup.made(guard, part) for part in (run, [module]) if part)
                    run = []
                else:
                    run.append(module)
            if run:
                groups.append(_SweptGroup.made(guard, run))
        self.groups = groups


# How many modules _Swept compares at once: a changed group costs a per-module look at
# each of them, a group more a Python loop step.
_GROUP: Final = 32
# How many changed modules a group gives up to groups of their own.
_VOLATILE: Final = 2


@final
class _SweptGroup:
    """Consecutive swept modules, their live namespaces, and their copies' sizes and values.

    A module's namespace can only hold the very values of its copy, in the same order and
    the same number, with another key if its newest key was renamed (deleting a key and
    adding one puts the new one last): a value already there, under a new name, which the
    sweep lets pass.
    """

    __slots__ = ("live", "modules", "sizes", "values")

    def __init__(self, modules: list[types.ModuleType]) -> None:
        self.modules = modules
        self.live = [vars(module) for module in modules]
        self.sizes: list[int] = []
        self.values: list[object] = []

    @classmethod
    def made(cls, guard: Guard, modules: list[types.ModuleType]) -> _SweptGroup:
        """A group of ``modules`` that remembers their copies."""
        group = cls(modules)
        group.remember(guard)
        return group

    def remember(self, guard: Guard) -> None:
        """Take the sizes and values of the modules' copies, as the last sweep left them."""
        copies = [guard._swept[id(module)][1] for module in self.modules]
        self.sizes = list(map(len, copies))
        self.values = _values(copies)

    def changed(self) -> bool:
        return _differs(_values(self.live), self.values) or list(map(len, self.live)) != self.sizes


@final
class Guard:
    """Compare global state between checkpoints and blame each leak on its culprit.

    ``rootdir`` decides which modules are the project's own (under it, not in
    site-packages); ``is_test_file(path)`` says which of those are test files and
    conftests, whose own globals are theirs to manage; ``relpath(path)`` shows a path in
    reports.  ``strict`` undoes each leak a test, fixture or test file made at the
    checkpoint that finds it; ``accept`` holds the ``saferemock_accept`` patterns.
    """

    def __init__(
        self,
        rootdir: str,
        *,
        strict: bool,
        is_test_file: Callable[[str], bool],
        relpath: Callable[[str], str] = lambda path: path,
        accept: tuple[str, ...] = (),
    ) -> None:
        self.strict = strict
        self.accept = accept
        self._relpath = relpath
        self._root = os.path.normcase(os.path.abspath(rootdir)).rstrip(os.sep) + os.sep
        self._excluded = tuple(
            os.path.normcase(os.path.abspath(prefix)).rstrip(os.sep) + os.sep
            for prefix in {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}
            if not self._root.startswith(
                os.path.normcase(os.path.abspath(prefix)).rstrip(os.sep) + os.sep
            )
        )
        self._is_test_file = is_test_file
        # Parallel lists: each watched project module or class, its live __dict__ (a
        # mappingproxy for a class), and the dict behind it, whose values go into the
        # flat list the fast path compares.
        self._owners: list[object] = []
        self._lives: list[Mapping[str, Any]] = []
        self._dicts: list[Mapping[str, Any]] = []
        self._values_of: Callable[[Any], Iterable[object]] = dict.values
        self._project_ids: set[int] = set()
        for value in list(sys.modules.values()):
            self._watch_if_project(value)
        self._seen = _State(self)
        self._seen_flat = _flat(self._dicts, self._values_of)
        # The value a slot had before a holder changed it: what undo brings back.
        self._pristine: dict[Slot, object] = {}
        self._holds: dict[Slot, tuple[_Hold, object]] = {}
        # Slots whose holder was torn down: judged at the next checkpoint, its culprit.
        self._dirty: dict[Slot, Culprit] = {}
        # What each slot held before the guard first saw it change: going back to it is
        # never a leak (a test's own cleanup, after the checkpoint that reported it).
        self._base: dict[Slot, object] = {}
        # Library-made leaks already reported: re-made on every use, reported once.
        self._reported: set[tuple[str, str]] = set()
        # The class of each leaked value, by slot: another of it back there is code that
        # makes one on every use, reported once.
        self._again: dict[Slot, type] = {}
        # Longer-lived fixtures set up and not yet torn down, and what they hold.
        self._fixtures: set[Culprit] = set()
        self._fixture_holds: list[_Hold] = []
        # The other modules' namespaces, as the last sweep saw them, by id.
        self._swept: dict[int, tuple[types.ModuleType, dict[str, Any]]] = {}
        self._last_sweep: _Swept | None = None
        # Whether a module is swept, by its name and file (a test file's pattern match is
        # the costly part, and the answer never changes).
        self._sweepable_names: dict[tuple[str, str | None], bool] = {}
        # Which test a line of a test file belongs to, and a test's whole culprit (its
        # file and saferemock_allow markers) from its id: the plugin knows the items.
        self.test_at: Callable[[str, int], Culprit | None] = lambda path, line: None
        self.test_culprit: Callable[[str], Culprit | None] = lambda nodeid: None
        # Who is running: the plugin sets tests and files; project imports nest.
        self.current: Culprit = Culprit("session", "pytest_configure or pytest_sessionstart hooks")
        self._stack: list[Culprit] = []
        # Leaks found at the start and end of project imports, reported with the next
        # checkpoint's, and strict restores deferred to that checkpoint.
        self._pending: list[Leak] = []
        self._deferred: list[tuple[Slot, object]] = []
        self._deferred_keys: list[str] = []
        self._leaving = 0
        self._importing: Culprit | None = None
        self._project_tops = self._top_level_names()
        self.journal = Journal(ROOT, "safemock", holder="the pollution guard")
        self.imports = ImportWatch(self._is_library_module, self._enter_import, self._leave_import)
        self.origins = MockOrigins(self._making)
        self.imports.install(self.journal)
        self.origins.install(self.journal)
        self.sweep(lambda: self.current, report=False)

    def close(self) -> None:
        """Take the guard's hooks out (at the end of the session)."""
        self.journal.close()

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

    def _top_level_names(self) -> set[str]:
        """Names that a project module's dotted name may start with."""
        names: set[str] = set()
        for base in (self._root, os.path.join(self._root, "src")):
            try:
                entries = os.listdir(base)
            except OSError:
                continue
            for entry in entries:
                stem, dot, suffix = entry.partition(".")
                if stem.isidentifier() and (not dot or suffix == "py"):
                    names.add(stem)
        # A rootdir that is itself a package: pytest imports its modules under its name
        # (and those of the packages around it).
        package = self._root.rstrip(os.sep)
        while os.path.isfile(os.path.join(package, "__init__.py")):
            package, name = os.path.split(package)
            names.add(name)
        return names

    def _module_file(self, value: object) -> str | None:
        if not issubclass(type(value), types.ModuleType):
            return None
        filename = vars(value).get("__file__")
        return filename if isinstance(filename, str) else None

    def _project_module(self, value: object) -> bool:
        filename = self._module_file(value)
        if filename is None or not self.is_project_file(filename):
            return False
        return not self._is_test_file(filename)

    def _is_library_module(self, value: object) -> bool:
        filename = self._module_file(value)
        return filename is None or not self.is_project_file(filename)

    def _library_of(self, value: object) -> str:
        """The installed package that defines ``value`` (its type, or itself), or ``""``."""
        if is_mock(value) or value is None:
            return ""
        if type(value) is types.MethodType:
            value = value.__func__  # a library's bound method: its function says whose
        kind = value if isinstance(value, (type, types.FunctionType)) else type(value)
        if kind is types.ModuleType:
            return ""
        module = sys.modules.get(getattr(kind, "__module__", "") or "")
        filename = self._module_file(module)
        if filename is None or self.is_project_file(filename):
            return ""
        parts = os.path.normcase(filename).split(os.sep)
        if "site-packages" not in parts and "dist-packages" not in parts:
            return ""  # the standard library: a test's own use of it
        return str(vars(module).get("__name__", "")).partition(".")[0]

    def _builtins_library(self, changes: Mapping[Slot, tuple[object, object]]) -> str:
        """The one installed package that defines what was added to ``builtins``, or ``""``."""
        libraries = {
            self._library_of(new)
            for (kind, *_), (old, new) in changes.items()
            if kind == "builtin" and old is MISSING and callable(new)
        }
        libraries.discard("")
        return libraries.pop() if len(libraries) == 1 else ""

    def _is_test_code(self, value: object) -> bool:
        code = getattr(value, "__code__", None) if type(value) is types.FunctionType else None
        return code is not None and self._is_test_file(code.co_filename)

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
            real = _real_dict(live)
            if real is None:
                self._values_of = Mapping.values
            self._dicts.append(live if real is None else real)
        return True

    # -- project imports: blamed on their own file -----------------------------------------

    def _project_source(self, name: str) -> str | None:
        """The project file ``name`` will be loaded from, or None: told before it loads.

        Only a few stat calls, and only for names under the project's top-level ones: the
        first place on the search path that has it is where the import system finds it.
        """
        top = name.partition(".")[0]
        if top not in self._project_tops:
            return None
        parent_name, _, child = name.rpartition(".")
        parent = sys.modules.get(parent_name) if parent_name else None
        paths = getattr(parent, "__path__", None)
        if isinstance(paths, list):
            places = [path for path in paths if isinstance(path, str)]
        else:
            # The parent is not loaded yet (``import a.b.c`` asks for a.b.c first): look
            # for the whole dotted path from the search path's entries.
            places = [entry or os.getcwd() for entry in sys.path if isinstance(entry, str)]
            child = name.replace(".", os.sep)
        for place in places:
            base = os.path.join(place, child)
            for candidate in (os.path.join(base, "__init__.py"), base + ".py"):
                if os.path.isfile(candidate):
                    return candidate if self.is_project_file(candidate) else None
        return None

    def _enter_import(self, name: str) -> object:
        if name in MOCK_MODULES:
            return _MOCK_LIBRARY
        if self.current.phase in ("test", "fixture"):
            # A test's imports are the test's: what it changes is judged when it ends.
            return None
        source = self._project_source(name)
        if source is None:
            return None
        # What the importer did so far is the importer's; restores wait for its own end.
        importer = self._stack[-1] if self._stack else self.current
        self._pending.extend(self.checkpoint(lambda: importer, restore=False))
        relpath = self._relpath(source)
        if self.current.path == source:
            culprit = self.current._replace(module=name)  # its allow markers
        elif os.path.basename(source) == "conftest.py":
            culprit = Culprit("conftest", relpath, path=source, relpath=relpath, module=name)
        elif self._is_test_file(source):
            culprit = Culprit("collection", relpath, path=source, relpath=relpath, module=name)
        else:
            culprit = Culprit("import", relpath, path=source, relpath=relpath, module=name)
        self._stack.append(culprit)
        return culprit

    def _leave_import(self, token: object, module: object) -> None:
        if token is _MOCK_LIBRARY:
            # Loaded just now, and the code that imported it has not run on: no mock yet.
            self.origins.install(self.journal)
            return
        culprit = self._stack.pop()
        if culprit.phase != "import" or self._module_file(module) is None:
            # A conftest or test file: pytest's own checkpoint after it judges what it
            # did.  A module that failed to import did nothing lasting to judge here.
            return
        # What the module holds now, it bound while it was imported: its own doing (a
        # mock among it came from elsewhere, a fake in sys.modules say, reported there).
        self._leaving = id(module)
        try:
            self._pending.extend(self.checkpoint(lambda: culprit, restore=False))
        finally:
            self._leaving = 0

    def _making(self) -> Culprit:
        """Who makes a mock right now: the module being imported, else the culprit."""
        top = self._stack[-1] if self._stack else self.current
        in_flight = self.imports.in_flight
        if in_flight and in_flight[-1] != top.module:
            # A library being imported (for a project module, the stack has it).
            name = in_flight[-1]
            made = self._importing
            if made is None or made.module != name:
                made = self._importing = Culprit("import", name, module=name)
            return made
        return top

    def take_pending(self) -> list[Leak]:
        """Leaks found at project imports since the last call (the plugin reports them)."""
        pending, self._pending = self._pending, []
        return pending

    # -- checkpoints -----------------------------------------------------------------------

    def _unchanged(self) -> bool:
        seen = self._seen
        return (
            not self._dirty
            and not self._deferred
            and seen.patches == ACTIVE_PATCHES
            and seen.runs == live_runs()
            and not _differs(environ_raw(), seen.environ_raw)
            and seen.lists == snapshot_lists()
            and seen.objects == snapshot_objects()
            and not _differs(_flat(self._dicts, self._values_of), self._seen_flat)
        )

    def checkpoint(self, culprit: Callable[[], Culprit], *, restore: bool = True) -> list[Leak]:
        """Judge everything that changed since the previous checkpoint; blame ``culprit()``.

        ``culprit`` is only called when something changed: building one (a test id, its
        ``saferemock_allow`` markers) costs more than the check itself.

        Returns the leaks found (allowed ones left out), after those found since the last
        checkpoint at the start and end of project imports.  In strict mode the leaks of a
        test, fixture or test file are undone before this returns (with ``restore=False``,
        at the next checkpoint that may); the rest is accepted as it is, so the next
        checkpoint does not blame the next culprit for it.
        """
        pending = self.take_pending() if restore else []
        interval = self.imports.drain()
        repairs = drain_repairs()
        if not repairs and self._unchanged():
            return pending
        changes, new_modules = self._changes()
        fresh: set[Slot] = set()
        for _, module in new_modules:
            if self._watch_if_project(module):
                self._scan_new(module, changes, fresh)
        for repair in repairs:
            changes[("repair", _Ref(repair))] = (MISSING, repair)
        dirty, self._dirty = self._dirty, {}
        for slot in dirty:
            if slot not in changes:
                current = _read(slot)
                changes[slot] = (current, current)
        if not changes and not self._deferred:
            self._seen = _State(self)
            self._seen_flat = _flat(self._dicts, self._values_of)
            return pending
        blamed = culprit()
        context = Context(
            phase=blamed.phase,
            # A package still being imported binds names as its own code says.
            imported=interval.imported.union(self.imports.in_flight),
            bookkeeping=interval.bookkeeping,
            replaced=interval.replaced,
            entries=interval.entries,
            builtins_library=functools.partial(self._builtins_library, changes),
            library_of=self._library_of,
            origin_of=self._origin_label,
            is_test_code=self._is_test_code,
        )
        leaks, plan = self._judge(blamed, changes, dirty, fresh, context)
        new_keys = [key for key, _ in new_modules]
        if self.strict:
            if restore:
                plan.extend(self._deferred)
                new_keys.extend(self._deferred_keys)
                self._deferred, self._deferred_keys = [], []
                if plan:
                    self._restore(plan, new_keys)
            else:
                self._deferred.extend(plan)
                self._deferred_keys.extend(new_keys)
        self._seen = _State(self)
        self._seen_flat = _flat(self._dicts, self._values_of)
        return pending + leaks

    def _origin_label(self, value: object) -> str | None:
        origin = self.origins.origin(value)
        if isinstance(origin, Culprit) and origin.phase == "import":
            return f"import:{origin.module}"
        return None

    def _changes(self) -> tuple[dict[Slot, tuple[object, object]], list[tuple[str, object]]]:
        seen = self._seen
        changes: dict[Slot, tuple[object, object]] = {}
        new_modules: list[tuple[str, object]] = []
        if _differs(list(sys.modules.values()), list(seen.modules.values())):
            self._diff_modules(changes, new_modules)
        _diff_mapping("builtin", vars(builtins), seen.builtins, changes)
        if _differs(environ_raw(), seen.environ_raw):
            _diff_mapping("environ", dict(os.environ), seen.environ, changes)
        lists = snapshot_lists()
        for name, entries in lists.items():
            before = seen.lists.get(name, ())
            if entries != before:
                now = {id(entry): entry for entry in entries}
                then = {id(entry): entry for entry in before}
                # A path is told by its text: pytest puts a copy of one already there
                # back in front when it imports a package's __init__.py again.
                now_paths = {entry for entry in entries if isinstance(entry, str)}
                then_paths = {entry for entry in before if isinstance(entry, str)}
                for key, entry in now.items():
                    if key not in then and not (isinstance(entry, str) and entry in then_paths):
                        changes[("list", name, _Ref(entry))] = (MISSING, entry)
                for key, entry in then.items():
                    if key not in now and not (isinstance(entry, str) and entry in now_paths):
                        changes[("list", name, _Ref(entry))] = (entry, MISSING)
        for name, value in snapshot_objects().items():
            if value is not seen.objects.get(name):
                changes[("object", name)] = (seen.objects.get(name), value)
        _diff_objects("patch", list(ACTIVE_PATCHES), seen.patches, changes)
        _diff_objects("run", list(live_runs().values()), list(seen.runs.values()), changes)
        for index, live in enumerate(self._lives):
            before_dict = seen.project[index] if index < len(seen.project) else {}
            if not _differs(live, before_dict):
                continue
            ref = _Ref(self._owners[index])
            for name, value in list(live.items()):
                if before_dict.get(name, MISSING) is not value:
                    changes[("attr", ref, name)] = (before_dict.get(name, MISSING), value)
            for name in before_dict.keys() - live.keys():
                changes[("attr", ref, name)] = (before_dict[name], MISSING)
        return changes, new_modules

    def _diff_modules(
        self, changes: dict[Slot, tuple[object, object]], new: list[tuple[str, object]]
    ) -> None:
        seen = self._seen.modules
        keys, values = list(sys.modules), list(sys.modules.values())
        size = len(seen)
        if (
            len(keys) >= size
            and keys[:size] == list(seen)
            and not _differs(values[:size], list(seen.values()))
        ):
            # The usual case (an import): the old items are untouched and the new ones
            # come last, since a dict keeps insertion order.  Two slices compared in C
            # instead of a Python loop over a thousand modules.
            for key, value in zip(keys[size:], values[size:], strict=True):
                changes[("module", key)] = (MISSING, value)
                new.append((key, value))
            return
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

    def _scan_new(
        self, module: object, changes: dict[Slot, tuple[object, object]], fresh: set[Slot]
    ) -> None:
        """A project module imported in this interval: a mock on it may come from outside."""
        if id(module) == self._leaving:
            return
        now = self._stack[-1] if self._stack else self.current
        name = vars(module).get("__name__")
        # Mocks that sys.modules holds (a fake put there elsewhere, reported there), which
        # the module's own import bound: ``import cloudsdk``, ``from cloudsdk import X``.
        faked = {id(value) for value in list(sys.modules.values()) if is_mock(value)}
        owners: list[object] = [module]
        owners.extend(
            member
            for member in list(vars(module).values())
            if type(member) is type and vars(member).get("__module__") == name
        )
        for owner in owners:
            for attr, value in list(vars(owner).items()):
                if is_mock(value):
                    origin = self.origins.origin(value)
                    if isinstance(origin, Culprit) and (
                        origin.module == name or origin.name != now.name
                    ):
                        # Made by the module's own import, or made elsewhere and bound
                        # by it (a fake in sys.modules, say): reported where it was made.
                        continue
                    if id(mock_root(value)) in faked:
                        continue
                elif not (is_fake_module(value) or self._is_test_code(value)):
                    continue
                slot = ("attr", _Ref(owner), attr)
                changes[slot] = (MISSING, value)
                fresh.add(slot)

    # -- the sweep: every other module's attributes ------------------------------------------

    def _sweepable(self, module: object) -> bool:
        if not issubclass(type(module), types.ModuleType) or id(module) in self._project_ids:
            return False
        name = vars(module).get("__name__")
        if not isinstance(name, str):
            return False
        filename = self._module_file(module)
        key = (name, filename)
        verdict = self._sweepable_names.get(key)
        if verdict is None:
            verdict = self._sweepable_names[key] = not (
                name.partition(".")[0] in _MACHINERY
                or name in ("__main__", "builtins")  # builtins has a kind of its own
                or (filename is not None and self._is_test_file(filename))
            )
        return verdict

    def sweep(self, culprit: Callable[[], Culprit], *, report: bool = True) -> list[Leak]:
        """Look at the attributes of every module that is not the project's own.

        Too slow for every test, so the plugin runs it after a test that made mocks and
        at the end of each test file.  A mock found on ``time.sleep`` is blamed on the
        test that made it, when the guard saw it made, else on ``culprit()``.
        """
        modules = list(sys.modules.values())
        last = self._last_sweep
        delta = last.delta(self, modules) if last is not None else None
        if last is not None and delta is not None:
            gone, added = delta
            changed = last.changed()
            if not changed and not gone and not added:
                return []
            some = [module for group in changed for module in group.modules]
            if gone:
                ids = set(map(id, gone))
                some = [module for module in some if id(module) not in ids]
            # A module whose new name or file takes it out of the sweep needs the whole
            # one, which forgets it.
            if all(map(self._sweepable, some)):
                swept = self._swept
                touched = {
                    id(module) for module in some if _differs(vars(module), swept[id(module)][1])
                }
                leaks = self._sweep([*some, *added], culprit, report=report, every=False)
                last.regroup(self, changed, touched)
                if gone or added:
                    for module in gone:
                        entry = self._swept.get(id(module))
                        if entry is not None and entry[0] is module:
                            del self._swept[id(module)]
                    last.follow(self, modules, gone, added)
                return leaks
        leaks = self._sweep(modules, culprit, report=report)
        self._last_sweep = _Swept(self, modules)
        return leaks

    def _sweep(
        self,
        modules: list[types.ModuleType],
        culprit: Callable[[], Culprit],
        *,
        report: bool,
        every: bool = True,
    ) -> list[Leak]:
        """Sweep ``modules``: every module in ``sys.modules``, or (``every=False``) some."""
        swept = self._swept
        found: list[tuple[Slot, object, object]] = []
        current_ids: set[int] = set()
        for module in modules:
            if not self._sweepable(module):
                continue
            key = id(module)
            current_ids.add(key)
            namespace = vars(module)
            entry = swept.get(key)
            if entry is None or entry[0] is not module:
                swept[key] = (module, namespace.copy())
                continue
            before = entry[1]
            if not _differs(namespace, before):
                continue
            for name, value in list(namespace.items()):
                old = before.get(name, MISSING)
                if old is not value and (is_mock(value) or self._is_test_code(value)):
                    found.append((("attr", _Ref(module), name), old, value))
            swept[key] = (module, namespace.copy())
        if every:
            for key in [key for key in swept if key not in current_ids]:
                del swept[key]
        if not report or not found:
            return []
        leaks: list[Leak] = []
        for slot, old, value in found:
            made_by = self._blame_value(value)
            if made_by is not None and made_by.phase == "fixture" and made_by in self._fixtures:
                # A longer-lived fixture's, held until its teardown: the copy keeps the
                # value before it, so that a later sweep looks again.
                module, name = slot[1].obj, slot[2]
                copy = swept[id(module)][1]
                if old is MISSING:
                    copy.pop(name, None)
                else:
                    copy[name] = old
                continue
            blamed = made_by or culprit()
            context = Context(
                phase=blamed.phase,
                library_of=self._library_of,
                origin_of=self._origin_label,
                is_test_code=self._is_test_code,
            )
            more, plan = self._judge(blamed, {slot: (old, value)}, {}, set(), context)
            leaks.extend(more)
            if plan and self.strict:
                self._restore(plan, [])
                module = slot[1].obj
                swept[id(module)] = (module, vars(module).copy())
        return leaks

    def _blame_value(self, value: object) -> Culprit | None:
        """Who made ``value``: the culprit the guard saw make a mock, or the test whose
        body defines a function; None when it cannot be told."""
        origin = self.origins.origin(value)
        if not isinstance(origin, Culprit):
            code = getattr(value, "__code__", None) if type(value) is types.FunctionType else None
            if code is None or not self._is_test_file(code.co_filename):
                return None
            origin = self.test_at(code.co_filename, code.co_firstlineno)
        if origin is not None and origin.phase == "test":
            return self.test_culprit(origin.name) or origin
        return origin

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
        for patcher in list(ACTIVE_PATCHES):
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
        context: Context,
    ) -> tuple[list[Leak], list[tuple[Slot, object]]]:
        held, whole, loose, loose_slots = self._held()
        held_types = {kind for hold in self._fixture_holds for kind in hold.types}
        leaks: list[Leak] = []
        plan: list[tuple[Slot, object]] = []
        reported: set[tuple[str, str]] = set()
        deferred: list[tuple[Slot, object]] = []
        for slot, (old, current) in changes.items():
            kind = slot[0]
            if self._nothing_to_judge(slot, old, current, held, held_types):
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
            elif kind != "repair" and _same(kind, current, prior):
                continue
            if slot in loose_slots or (kind, _ANY) in loose_slots:
                # Reported once, as the patch still active; stopping it restores the slot
                # (unless something changed it before the patch started).
                deferred.append((slot, prior))
                continue
            blamed = dirty.get(slot, culprit)
            finding = KINDS[kind].judge(_key(slot), prior, current, context)
            if finding is None:
                continue
            if self._accepted(blamed, finding):
                continue
            keep = self._kept(blamed, finding)
            leak = self._leak(blamed, slot, finding, keep)
            if (
                KINDS[kind].needs_a_line
                and blamed.phase not in ("test", "fixture")
                and not leak.line
            ):
                continue  # pytest's own doing while it collects, unless the source says so
            if not keep and kind != "repair":
                plan.append((slot, prior))
            if self._first_report(slot, current, finding, reported):
                leaks.append(leak)
        if plan:
            plan.extend(deferred)
        return leaks, plan

    def _nothing_to_judge(
        self,
        slot: Slot,
        old: object,
        current: object,
        held: Mapping[Slot, object],
        held_types: set[tuple[str, type]],
    ) -> bool:
        """Whether a change is no leak whatever its value says (and remember what it needs)."""
        kind = slot[0]
        if kind == "module" and slot not in held and _imported(slot[1], current, sys.modules):
            # The bulk of every interval that imports something: a real module, in step
            # with its package.  Nothing to judge or remember.
            self._pristine.pop(slot, None)
            return True
        base = self._base.setdefault(slot, old)
        if kind in ("builtin", "environ", "list", "object") and _same(kind, current, base):
            return True  # back to what it was before anything changed it
        if kind == "list" and (slot[1], type(slot[2].obj)) in held_types:
            return True  # a live fixture keeps an entry of this type in that list
        # Another of the objects reported there before: code that makes one on every use.
        # Reported once; undoing it again would fail every later test.
        return current is not MISSING and self._again.get(slot) is type(current)

    def _first_report(
        self, slot: Slot, current: object, finding: Finding, reported: set[tuple[str, str]]
    ) -> bool:
        """Whether to report a finding: not seen in this interval, nor made again."""
        seen = (finding.subject, finding.what)
        if seen in reported:
            # Seen twice (an out-of-step submodule as item and attribute, the same patch
            # started twice): undone twice, reported once.
            return False
        reported.add(seen)
        if _remade_by_code(current):
            self._again[slot] = type(current)
        if finding.library:
            if seen in self._reported:
                return False  # re-made by the same library code: reported once
            self._reported.add(seen)
        return True

    def _accepted(self, culprit: Culprit, finding: Finding) -> bool:
        allow = culprit.allow
        if allow is not None and (not allow or allow_matches(allow, finding.subject)):
            return True
        return allow_matches(self.accept, finding.subject)

    def _kept(self, culprit: Culprit, finding: Finding) -> str:
        """Why strict mode leaves this leak in place, or ``""`` to undo it."""
        if not self.strict:
            return ""
        if finding.library:
            return "strict mode left it in place: the library makes it again on every use"
        if culprit.phase not in _UNDONE_IN_STRICT:
            return (
                "strict mode left it in place: the rest of the run may depend on it, so "
                "undoing it would only make later tests fail"
            )
        return ""

    def _leak(self, culprit: Culprit, slot: Slot, finding: Finding, kept: str) -> Leak:
        kind = KINDS[slot[0]]
        line = culprit.line
        if (
            not line
            and culprit.phase != "test"
            and (culprit.path or culprit.search)
            and kind.locate_as
        ):
            key = kind.locate_key(_key(slot), finding)
            if culprit.path:
                # What a file did while it was imported: its module-level statements.
                module_level = culprit.phase in ("collection", "import", "conftest")
                line = locate(culprit.path, kind.locate_as, key, module_level=module_level)
            else:
                # A hook in some conftest (pytest_configure, pytest_sessionstart): name the
                # conftest whose line matches best.
                for path, relpath in culprit.search:
                    line = locate(path, kind.locate_as, key, exact=True)
                    if line:
                        culprit = culprit._replace(path=path, relpath=relpath)
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
                "import": "import",
                "fixture": f"fixture {culprit.name!r}",
            }.get(culprit.phase, culprit.name)
            where = place if place == label else f"{place} ({label})"
        return Leak(
            culprit=culprit.name,
            phase=culprit.phase,
            subject=finding.subject,
            what=finding.what,
            fix=finding.fix,
            where=where,
            path=culprit.path,
            line=line,
            kept=kept,
        )

    # -- configuration: what plugins set up before the first test ----------------------------

    def settle(self, culprit: Culprit) -> list[Leak]:
        """Accept what plugins set up since the guard started, blaming only a conftest's line.

        Called once plugins' ``pytest_configure`` and ``pytest_sessionstart`` work is done
        (pytest-cov's process-wide state, an xdist worker's setup): a change is reported
        only where some conftest's source names it (``culprit.search``); the rest is
        configuration, and the baseline from here on.
        """
        leaks = [leak for leak in self.checkpoint(lambda: culprit) if leak.line]
        self.sweep(lambda: culprit, report=False)
        return leaks

    # -- strict mode: put it all back ------------------------------------------------------

    def _restore(self, plan: list[tuple[Slot, object]], new_keys: list[str]) -> None:
        """Undo every leak in ``plan`` at once, then evict what captured a leaked module."""
        # unittest.mock patches of one slot unwind right only newest first (each puts
        # back what it saw when it started); saferemock runs in any order, but newest
        # first is the order their own undo would use.
        patchers = [slot[1].obj for slot, _ in plan if slot[0] == "patch"]
        order = {id(patcher): index for index, patcher in enumerate(ACTIVE_PATCHES)}
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
                if kind in ("patch", "run", "repair") or _same(kind, _read(slot), prior):
                    continue
                if kind == "module":
                    leaked_modules.append(sys.modules.get(slot[1]))
                KINDS[kind].write(journal, _key(slot), prior)
            if leaked_modules:
                self._evict(journal, leaked_modules, new_keys)
        finally:
            journal.commit()

    def _evict(self, journal: Journal, leaked: list[object], new_keys: list[str]) -> None:
        """Evict the modules imported in this interval that hold a leaked module object.

        They captured the fake at import (``import boto3`` bound the mock); left in
        ``sys.modules``, the next test importing them would get the fake back.  Extension
        modules, and every module of a package that loaded one in this interval, stay:
        evicting only their Python half would split a class in two (an object made by the
        extension no longer an instance of the re-imported class).
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
        protected = {
            key.partition(".")[0] for key in new_keys if _is_extension(sys.modules.get(key))
        }
        candidates: dict[str, object] = {}
        for key in new_keys:
            module: object = sys.modules.get(key)
            if not issubclass(type(module), types.ModuleType) or key.partition(".")[0] in protected:
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

    # -- fixtures that hold state across tests ---------------------------------------------

    def mark(self) -> _State:
        """Snapshot the watched state before a longer-lived fixture's setup."""
        return _State(self)

    def hold(self, mark: _State, culprit: Culprit) -> _Hold:
        """Register what changed since ``mark`` as held by the fixture ``culprit``."""
        hold = _Hold(culprit)
        self._fixtures.add(culprit)
        self._fixture_holds.append(hold)
        changes: dict[Slot, tuple[object, object]] = {}
        if not _same_items(sys.modules, mark.modules):
            for key, value in list(sys.modules.items()):
                if mark.modules.get(key, MISSING) is not value:
                    changes[("module", key)] = (mark.modules.get(key, MISSING), value)
        _diff_mapping("builtin", vars(builtins), mark.builtins, changes)
        if _differs(environ_raw(), mark.environ_raw):
            _diff_mapping("environ", dict(os.environ), mark.environ, changes)
        _diff_objects("patch", list(ACTIVE_PATCHES), mark.patches, changes)
        _diff_objects("run", list(live_runs().values()), list(mark.runs.values()), changes)
        for index, live in enumerate(self._lives):
            before = mark.project[index] if index < len(mark.project) else {}
            if not _differs(live, before):
                continue  # (in C; an equal value that is another object is no mock or fake)
            ref = _Ref(self._owners[index])
            for name, value in list(live.items()):
                if before.get(name, MISSING) is not value:
                    changes[("attr", ref, name)] = (before.get(name, MISSING), value)
        for name, entries in snapshot_lists().items():
            known = {id(entry) for entry in mark.lists.get(name, ())}
            for entry in entries:
                if id(entry) not in known:
                    changes[("list", name, _Ref(entry))] = (MISSING, entry)
                    # A fixture that pauses between tests and resumes with a new entry of
                    # the same type (pyfakefs's import hook) still holds that place.
                    hold.types.add((name, type(entry)))
        for slot, (_, current) in changes.items():
            if current is MISSING or slot in self._holds:
                continue  # a fixture set up inside this one holds it already
            self._holds[slot] = (hold, current)
            hold.slots.append(slot)
        return hold

    def release(self, hold: _Hold) -> None:
        """The fixture was torn down: what it still holds is judged at the next checkpoint."""
        hold.alive = False
        self._fixtures.discard(hold.culprit)
        if hold in self._fixture_holds:
            self._fixture_holds.remove(hold)
        for slot in hold.slots:
            entry = self._holds.get(slot)
            if entry is not None and entry[0] is hold:
                del self._holds[slot]
                self._dirty[slot] = hold.culprit


def _diff_mapping(
    kind: str,
    current: Mapping[str, Any],
    seen: Mapping[str, Any],
    changes: dict[Slot, tuple[object, object]],
) -> None:
    if (
        kind != "environ"
        and not _differs(list(current.values()), list(seen.values()))
        and current.keys() == seen.keys()
    ):
        return
    for key, value in current.items():
        old = seen.get(key, MISSING)
        if not _same(kind, value, old):
            changes[(kind, key)] = (old, value)
    for key in seen.keys() - current.keys():
        changes[(kind, key)] = (seen[key], MISSING)


def _diff_objects(
    kind: str,
    current: list[Any],
    seen: list[Any],
    changes: dict[Slot, tuple[object, object]],
) -> None:
    if current == seen:
        return
    now = {id(obj): obj for obj in current}
    before = {id(obj): obj for obj in seen}
    for key, obj in now.items():
        if key not in before:
            changes[(kind, _Ref(obj))] = (MISSING, obj)
    for key, obj in before.items():
        if key not in now:
            changes[(kind, _Ref(obj))] = (obj, MISSING)
