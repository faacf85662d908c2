"""What the pollution guard watches, one small object per kind of global state.

Each kind knows how to read its state cheaply, how to compare two readings, how to put a
slot back, and how to describe a leak and advise the fix.  The guard (``_guard``) only
drives them: it asks every kind whether anything changed between two checkpoints, and
asks the kind that changed to judge each change.  Adding a watched kind means adding one
class here and one line to `KINDS`.

A *slot* is one piece of state of one kind: a ``sys.modules`` key, a builtin's name, an
environment variable, an entry of ``sys.path``.  A *finding* is what a kind says about
a changed slot: the subject (what ``saferemock_allow`` and ``saferemock_accept`` match),
what happened, and the fix.
"""

from __future__ import annotations

import builtins
import os
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Final, NamedTuple, final

from saferemock._missing import MISSING
from saferemock._mocklib import ACTIVE_PATCHES, is_mock_type
from saferemock._undo import Journal, read_attr

__all__ = [
    "ACTIVE_PATCHES",
    "KINDS",
    "Context",
    "Finding",
    "Kind",
    "describe_value",
    "is_fake_module",
    "is_mock",
    "module_problem",
    "patcher_target",
]


@final
class Finding(NamedTuple):
    """What a kind says about one changed slot."""

    subject: str
    """What leaked, as ``saferemock_allow`` matches it: ``sys.modules['boto3']``."""
    what: str
    """``sys.modules['boto3'] is a MagicMock``."""
    fix: str
    library: str = ""
    """The installed package that made the value, when it is not the test's doing."""


@final
class Context(NamedTuple):
    """What the guard knows about the interval being judged."""

    phase: str
    imported: AbstractSet[str] = frozenset()
    """Names the import system loaded in the interval, or is loading now."""
    bookkeeping: AbstractSet[str] = frozenset()
    """``sys.modules`` keys that appeared while a library was being imported."""
    replaced: AbstractSet[str] = frozenset()
    """Names whose module put another object in its own place while being imported."""
    entries: AbstractSet[int] = frozenset()
    """Ids of ``sys.path``-like entries a library added while being imported."""
    builtins_library: Callable[[], str] = lambda: ""
    """The one installed package whose functions were added to ``builtins``, if one was
    (asked only for a plain value added there: the interval's changes are read then)."""
    library_of: Callable[[object], str] = lambda value: ""
    """The installed package that defines a value's type or function, or ``""``."""
    origin_of: Callable[[object], str | None] = lambda value: None
    """Who made a mock (a test id, or ``import:<module>``), if the guard saw it made."""
    is_test_code: Callable[[object], bool] = lambda value: False
    """Whether a value is a function or class defined in a test file or conftest."""


# -- describing values ----------------------------------------------------------------------


def is_mock(value: object) -> bool:
    """Tell whether ``value`` is a ``unittest.mock`` object or an autospecced mock function."""
    # type(), not isinstance(): a mock with a spec answers __class__ with the spec's class.
    if is_mock_type(type(value)):
        return True
    if type(value) is types.FunctionType:
        inner = vars(value).get("mock")
        return is_mock_type(type(inner))
    return False


def is_fake_module(value: object) -> bool:
    """Tell whether ``value`` is a module ``saferemock.fake_module_tree`` made."""
    return issubclass(type(value), types.ModuleType) and bool(
        vars(value).get("__saferemock_fake__")
    )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_value(value: object) -> str:
    """Name a value for a report, without an address in it (reports are compared as text)."""
    if value is None:
        return "None"
    kind = type(value)
    if is_mock_type(kind):
        return f"a {kind.__mro__[1].__name__}"
    if is_mock(value):
        return "an autospecced mock function"
    if issubclass(kind, types.ModuleType):
        if is_fake_module(value):
            return f"a saferemock fake of {vars(value).get('__name__')!r}"
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


def _spec_name(value: object) -> str | None:
    spec = vars(value).get("__spec__") if hasattr(value, "__dict__") else None
    name = getattr(spec, "name", None)
    return name if isinstance(name, str) else None


def module_problem(key: str, value: object) -> str | None:
    """Say what is wrong with a ``sys.modules`` value, or None for a module in its place."""
    if value is None:
        return "is None"
    if is_mock(value):
        return f"is {describe_value(value)}"
    if is_fake_module(value):
        return f"is {describe_value(value)}"
    if not issubclass(type(value), types.ModuleType):
        # Some packages put a module-like object with the module's spec in its own place.
        return (
            None
            if _spec_name(value) == key
            else f"is a {type(value).__qualname__} object, not a module"
        )
    name = _spec_name(value)
    if name is None:
        # A script's __main__ has no spec; multiprocessing aliases it as __mp_main__.
        if value is sys.modules.get("__main__"):
            return None
        return "is a hand-made module object (no __spec__)"
    if name != key:
        return f"is the module {name!r}, under another name"
    return None


def patcher_target(patcher: Any) -> str:
    """Name what a started ``unittest.mock`` patcher patches: ``json.dumps``."""
    in_dict = vars(patcher).get("in_dict")
    if in_dict is not None:
        names = {id(sys.modules): "sys.modules", id(os.environ): "os.environ"}
        return f"patch.dict({names.get(id(in_dict), describe_value(in_dict))})"
    target = vars(patcher).get("target")
    attribute = vars(patcher).get("attribute", "?")
    return f"{label(target)}.{attribute}" if target is not None else str(attribute)


def label(owner: object) -> str:
    """``json`` for a module, ``pkg.mod.Class`` for a class."""
    if isinstance(owner, types.ModuleType):
        return str(vars(owner).get("__name__", "?"))
    if isinstance(owner, type):
        return f"{vars(owner).get('__module__', '?')}.{owner.__qualname__}"
    return f"<{type(owner).__qualname__} object>"


def _accept(subject: str) -> str:
    return f"accept it with saferemock_accept = {subject} in the ini file"


def _library_fix(library: str, subject: str, mapping: str = "sys.modules") -> str:
    return (
        f"{library} made it, not the test: {_accept(subject)}, or run the call that makes "
        f"it inside safemock.patch.dict({mapping}) / monkeypatch so it is undone"
    )


# -- the kinds ------------------------------------------------------------------------------


class Kind:
    """One kind of watched state.  Subclasses fill in the methods they need."""

    #: The slot kind, first element of every slot tuple of this kind.
    name: str = ""
    #: What `saferemock._locate.locate` calls this kind.
    locate_as: str = ""
    #: Outside tests and fixtures, report a change only where the culprit's source makes
    #: it: pytest itself changes this state while it collects (``sys.path`` entries).
    needs_a_line: bool = False

    def read(self, key: Any) -> object:
        """The slot's value now (``MISSING`` when absent)."""
        raise NotImplementedError

    def write(self, journal: Journal, key: Any, value: object) -> None:
        """Put ``value`` back into the slot (strict mode), through ``journal``."""
        raise NotImplementedError

    def judge(self, key: Any, old: object, new: object, context: Context) -> Finding | None:
        """Say whether a change from ``old`` to ``new`` is a leak, and what to do."""
        raise NotImplementedError

    def locate_key(self, key: Any, finding: Finding) -> object:
        """What to look for in the culprit's source."""
        return key


@final
class Modules(Kind):
    """``sys.modules``: fakes, ``None``, hand-made modules and modules under another name."""

    name = "module"
    locate_as = "module"

    def read(self, key: str) -> object:
        return sys.modules.get(key, MISSING)

    def write(self, journal: Journal, key: str, value: object) -> None:
        if value is MISSING:
            if key in sys.modules:
                journal.delitem(sys.modules, key)
        else:
            journal.setitem(sys.modules, key, value)

    def judge(self, key: str, old: object, new: object, context: Context) -> Finding | None:
        if new is MISSING:
            return None
        subject = f"sys.modules[{key!r}]"
        problem = module_problem(key, new)
        if problem is None:
            return out_of_step(key, new, context)
        if not is_mock(new) and (key in context.bookkeeping or key in context.replaced):
            # Made by the import system while it was loading a library (an extension's
            # bookkeeping, an alias), or a module that replaced its own entry while it
            # was being imported.
            return None
        library = context.library_of(new) if not is_mock(new) and new is not None else ""
        if library:
            return Finding(subject, f"{subject} {problem}", _library_fix(library, subject), library)
        if new is None:
            fix = f"use safemock.block_modules({key!r}) instead, undone at teardown"
        elif context.phase in ("conftest", "import", "collection", "session"):
            fix = (
                f"list {key} in the saferemock_fake_modules ini option for a session-wide "
                f"fake, or use safemock.fake_module_tree([{key!r}]) in a fixture"
            )
        else:
            fix = (
                f"use safemock.fake_module_tree([{key!r}]) (or "
                f"@pytest.mark.fake_modules({key!r})) instead, undone at teardown"
            )
        return Finding(subject, f"{subject} {problem}", fix)


def out_of_step(key: str, current: object, context: Context) -> Finding | None:
    """A package attribute that is not the submodule ``sys.modules`` holds under its name."""
    parent_name, _, child = key.rpartition(".")
    parent = sys.modules.get(parent_name) if parent_name else None
    if not issubclass(type(parent), types.ModuleType) or parent_name in context.imported:
        # A package rebinding a name during its own import (``from .util import *``
        # binding the stdlib ``warnings`` over its submodule) is its own business.
        return None
    attribute = vars(parent).get(child, MISSING)
    if attribute is MISSING or attribute is current:
        return None
    # A package may bind a function or class under a submodule's name on purpose.
    if not (issubclass(type(attribute), types.ModuleType) or is_mock(attribute)):
        return None
    subject = f"{parent_name}.{child}"
    return Finding(
        subject,
        f"{subject} is not sys.modules[{key!r}] (the package attribute is "
        f"{describe_value(attribute)})",
        f"use safemock.fresh_import({key!r}) to import a fresh copy for one test",
    )


@final
class Builtins(Kind):
    """Names in ``builtins``: changed, added or removed."""

    name = "builtin"
    locate_as = "builtin"

    # sys.displayhook stores the last expression's value in builtins._ (doctests).
    IGNORED: Final = frozenset({"_"})

    def read(self, key: str) -> object:
        return vars(builtins).get(key, MISSING)

    def write(self, journal: Journal, key: str, value: object) -> None:
        if value is MISSING:
            if key in vars(builtins):
                journal.delattr(builtins, key)
        else:
            journal.setattr(builtins, key, value)

    def judge(self, key: str, old: object, new: object, context: Context) -> Finding | None:
        if key in self.IGNORED:
            return None
        subject = f"builtins.{key}"
        if new is MISSING:
            return Finding(
                subject,
                f"{subject} was removed",
                f"delete it with monkeypatch.delattr(builtins, {key!r}) instead",
            )
        what = (
            f"{subject} was added ({describe_value(new)})"
            if old is MISSING
            else f"{subject} is {describe_value(new)}"
        )
        library = "" if is_mock(new) else context.library_of(new)
        if not library and old is MISSING and not callable(new):
            # A flag or constant added beside a library's functions (IPython's
            # __IPYTHON__ next to get_ipython) is that library's too.
            library = context.builtins_library()
        if library:
            return Finding(subject, what, _library_fix(library, subject, "vars(builtins)"), library)
        if old is MISSING:
            fix = (
                f"add it with safemock.patch.object(builtins, {key!r}, value, create=True) instead"
            )
        else:
            fix = f"use safemock.patch_builtin({key!r}, ...) instead"
        return Finding(subject, what, fix)


def environ_raw() -> dict[Any, Any]:
    """The dict behind ``os.environ`` (bytes keys), cheap to compare."""
    data = getattr(os.environ, "_data", None)
    return data if isinstance(data, dict) else dict(os.environ)


def environ_decoded(raw: Mapping[Any, Any]) -> dict[str, str]:
    """``dict(os.environ)`` at the time ``raw``, a copy of `environ_raw`, was taken."""
    if not isinstance(getattr(os.environ, "_data", None), dict):
        return dict(raw)  # environ_raw gave a copy of os.environ itself
    # What os.environ's own iteration and item access do with the dict behind it.
    decodekey, decodevalue = os.environ.decodekey, os.environ.decodevalue
    return {decodekey(key): decodevalue(value) for key, value in raw.items()}


@final
class Environ(Kind):
    """``os.environ`` items set, changed or removed by a test or a test file."""

    name = "environ"
    locate_as = "environ"

    # pytest sets and removes it around each test phase.
    IGNORED: Final = frozenset({"PYTEST_CURRENT_TEST"})

    def read(self, key: str) -> object:
        return os.environ.get(key, MISSING)

    def write(self, journal: Journal, key: str, value: object) -> None:
        if value is MISSING:
            if key in os.environ:
                journal.delitem(os.environ, key)
        else:
            journal.setitem(os.environ, key, value)

    def judge(self, key: str, old: object, new: object, context: Context) -> Finding | None:
        if key in self.IGNORED or context.phase in ("conftest", "import", "session"):
            # Configuration: conftests and package __init__ files set up the environment
            # for the session on purpose (see docs/plugin.md).
            return None
        subject = f"os.environ[{key!r}]"
        if new is MISSING:
            return Finding(
                subject, f"{subject} was removed", f"use monkeypatch.delenv({key!r}) instead"
            )
        what = (
            f"{subject} was set to {_short(new)}"
            if old is MISSING
            else f"{subject} was changed to {_short(new)}"
        )
        return Finding(
            subject,
            what,
            f"use safemock.patch.dict(os.environ, {{{key!r}: ...}}) or "
            f"monkeypatch.setenv({key!r}, ...) instead",
        )


# The process-wide lists, keyed by the name reports use.
LISTS: Final[dict[str, tuple[Any, str]]] = {
    "sys.path": (sys, "path"),
    "sys.meta_path": (sys, "meta_path"),
    "sys.path_hooks": (sys, "path_hooks"),
}


@final
class Lists(Kind):
    """Entries added to or removed from ``sys.path``, ``sys.meta_path``, ``sys.path_hooks``.

    A slot is ``("list", name, entry)`` held as ``(name, _Ref(entry))``; its value is the
    entry while present, ``MISSING`` once removed.
    """

    name = "list"
    locate_as = "list"
    needs_a_line = True

    def read(self, key: tuple[str, Any]) -> object:
        owner, attribute = LISTS[key[0]]
        entry = key[1].obj
        return entry if any(item is entry for item in getattr(owner, attribute)) else MISSING

    def write(self, journal: Journal, key: tuple[str, Any], value: object) -> None:
        # A list is no mapping: put the entry back (or take it out) by hand.  Strict
        # restores are final (the guard commits its journal), so nothing records it.
        owner, attribute = LISTS[key[0]]
        entries = getattr(owner, attribute)
        entry = key[1].obj
        if value is MISSING:
            entries[:] = [item for item in entries if item is not entry]
        elif not any(item is entry for item in entries):
            entries.append(entry)

    def judge(
        self, key: tuple[str, Any], old: object, new: object, context: Context
    ) -> Finding | None:
        name, ref = key
        entry = ref.obj
        if context.phase in ("conftest", "session"):
            return None
        if id(entry) in context.entries:
            return None
        shown = _short(entry) if isinstance(entry, str) else describe_value(entry)
        if new is MISSING:
            what = f"{shown} was removed from {name}"
        else:
            what = f"{shown} was added to {name}"
        if name != "sys.path":
            fix = f"use safemock.patch.object(sys, {name.rpartition('.')[2]!r}, [...]) instead"
        elif context.phase in ("import", "collection"):
            # A module body has no monkeypatch; a path the whole run needs is configuration.
            fix = "put it in a conftest.py or the pythonpath ini option instead"
        else:
            fix = "use monkeypatch.syspath_prepend(...) instead"
        return Finding(name, what, fix)

    def locate_key(self, key: tuple[str, Any], finding: Finding) -> object:
        entry = key[1].obj
        return (key[0], entry) if isinstance(entry, str) else key[0]


# Objects that must stay themselves: code holds references to them.
OBJECTS: Final[dict[str, tuple[Any, str]]] = {
    "os.environ": (os, "environ"),
    "sys.path": (sys, "path"),
    "sys.meta_path": (sys, "meta_path"),
    "sys.path_hooks": (sys, "path_hooks"),
    "sys.modules": (sys, "modules"),
}


@final
class Objects(Kind):
    """``os.environ``, ``sys.path`` and the like replaced by another object."""

    name = "object"
    locate_as = "object"

    def read(self, key: str) -> object:
        owner, attribute = OBJECTS[key]
        return vars(owner).get(attribute, MISSING)

    def write(self, journal: Journal, key: str, value: object) -> None:
        owner, attribute = OBJECTS[key]
        journal.setattr(owner, attribute, value)

    def judge(self, key: str, old: object, new: object, context: Context) -> Finding | None:
        fix = (
            "use safemock.patch.dict(os.environ, {...}) or monkeypatch.setenv(...) instead"
            if key == "os.environ"
            else f"change it in place with safemock.patch.object({key.partition('.')[0]}, "
            f"{key.partition('.')[2]!r}, [...]) or monkeypatch instead"
        )
        return Finding(key, f"{key} was replaced by {describe_value(new)}", fix)


@final
class Patchers(Kind):
    """``unittest.mock`` patchers started with ``start()`` and never stopped."""

    name = "patch"
    locate_as = "patch"

    def read(self, key: Any) -> object:
        patcher = key.obj
        return patcher if any(p is patcher for p in ACTIVE_PATCHES) else MISSING

    def judge(self, key: Any, old: object, new: object, context: Context) -> Finding | None:
        if new is MISSING or context.phase == "session":
            # Plugins start session-long patches in pytest_configure and stop them in
            # pytest_unconfigure (pytest-mock wraps the assert methods this way).
            return None
        patched = patcher_target(new)
        held = _what_patcher_holds(new)
        return Finding(
            patched,
            f"the unittest.mock patch of {patched} was started with start() and never "
            f"stopped{held}",
            "stop it in the same test (a with block, a decorator, or "
            "request.addfinalizer(patcher.stop)), or use the safemock fixture, which undoes "
            "it at teardown",
        )

    def locate_key(self, key: Any, finding: Finding) -> object:
        subject = finding.subject
        return subject[len("patch.dict(") : -1] if subject.startswith("patch.dict(") else subject


def _what_patcher_holds(patcher: Any) -> str:
    """``": sys.modules['socket'] is a MagicMock"`` for a patch.dict that holds fakes."""
    state = vars(patcher)
    values = state.get("values")
    if state.get("in_dict") is not sys.modules or not isinstance(values, dict):
        return ""
    held = [f"sys.modules[{key!r}] is {describe_value(value)}" for key, value in values.items()]
    return f" ({'; '.join(held)})" if held else ""


@final
class Runs(Kind):
    """saferemock activations started with ``start()`` and never stopped."""

    name = "run"
    locate_as = "run"

    def read(self, key: Any) -> object:
        run = key.obj
        return run if run.open else MISSING

    def judge(self, key: Any, old: object, new: Any, context: Context) -> Finding | None:
        if new is MISSING or context.phase == "session":
            return None
        described = new.describe()
        target = getattr(new.activation, "target", None)
        return Finding(
            target if isinstance(target, str) else described,
            f"{described} was started with start() and never stopped",
            "use it as a with block or a decorator, or through the safemock fixture, which "
            "undoes it at teardown",
        )

    def locate_key(self, key: Any, finding: Finding) -> object:
        return finding.subject


@final
class Attrs(Kind):
    """Attributes of modules and classes left holding a mock, a fake or a test's function.

    Slots are ``("attr", _Ref(owner), name)``.  Only such values are judged: modules
    change their own state all the time, and that is not a test's leak.
    """

    name = "attr"
    locate_as = "attr"

    def read(self, key: tuple[Any, str]) -> object:
        return read_attr(key[0].obj, key[1])

    def write(self, journal: Journal, key: tuple[Any, str], value: object) -> None:
        owner, name = key[0].obj, key[1]
        if value is MISSING:
            if read_attr(owner, name) is not MISSING:
                journal.delattr(owner, name)
        else:
            journal.setattr(owner, name, value)

    def judge(
        self, key: tuple[Any, str], old: object, new: object, context: Context
    ) -> Finding | None:
        owner, name = key[0].obj, key[1]
        subject = f"{label(owner)}.{name}"
        if is_mock(new):
            origin = context.origin_of(new)
            module = (
                owner
                if isinstance(owner, types.ModuleType)
                else sys.modules.get(vars(owner).get("__module__", ""))
            )
            if module is not None and origin == f"import:{vars(module).get('__name__')}":
                return None  # the module made it for itself while it was imported
            return Finding(
                subject,
                f"{subject} is {describe_value(new)}",
                f"use safemock.patch({subject!r}) instead, undone at teardown",
            )
        if is_fake_module(new):
            return Finding(
                subject,
                f"{subject} is {describe_value(new)}, outliving its fake_module_tree",
                f"reload it inside safemock.fresh_import({label(owner)!r}, fakes=[...]) "
                "instead, undone at teardown",
            )
        if context.is_test_code(new):
            return Finding(
                subject,
                f"{subject} is {describe_value(new)} from a test file",
                f"use safemock.patch({subject!r}, new=...) instead, undone at teardown",
            )
        if isinstance(owner, types.ModuleType) and issubclass(type(new), types.ModuleType):
            # A submodule re-imported inside patch.dict(sys.modules) rebinds the package
            # attribute to a copy that sys.modules no longer holds once the patch stops.
            submodule = f"{label(owner)}.{name}"
            if submodule in sys.modules:
                return out_of_step(submodule, sys.modules[submodule], context)
        return None

    def locate_key(self, key: tuple[Any, str], finding: Finding) -> object:
        return finding.subject


@final
class Repairs(Kind):
    """Dead saferemock values a foreign patcher put back, which the engine replaced."""

    name = "repair"
    locate_as = ""

    def judge(self, key: Any, old: object, new: Any, context: Context) -> Finding | None:
        subject = new.describe()
        return Finding(
            subject,
            f"{subject} got a dead saferemock mock back from a patcher that outlived the "
            "saferemock patch (a with mock.patch(...) block, say); the original was put back",
            "end patches of one target in the reverse order of their start, or patch it with "
            "one tool",
        )


KINDS: Final[dict[str, Kind]] = {
    kind.name: kind
    for kind in (
        Modules(),
        Builtins(),
        Environ(),
        Lists(),
        Objects(),
        Patchers(),
        Runs(),
        Attrs(),
        Repairs(),
    )
}


def iter_lists() -> Iterator[tuple[str, list[Any]]]:
    """The current ``sys.path``-like lists, by name."""
    for name, (owner, attribute) in LISTS.items():
        value = vars(owner).get(attribute)
        if isinstance(value, list):
            yield name, value


def snapshot_lists() -> dict[str, tuple[Any, ...]]:
    """An identity snapshot of the ``sys.path``-like lists."""
    return {name: tuple(value) for name, value in iter_lists()}


def snapshot_objects() -> dict[str, object]:
    """The objects in `OBJECTS`, by name."""
    return {
        name: vars(owner).get(attribute, MISSING) for name, (owner, attribute) in OBJECTS.items()
    }


def values_of(mapping: Mapping[str, Any]) -> list[object]:
    """The values of a mapping, for cheap identity comparisons."""
    return list(mapping.values())
