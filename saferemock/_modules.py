"""``fake_module_tree``, ``block_modules`` and ``fresh_import``: ``sys.modules`` done right.

The most dangerous line in a test suite is ``sys.modules["x"] = MagicMock()``: it outlives
the test, and every module imported while it is in place keeps a reference to the mock.
The three primitives here make the same changes through the teardown engine, so every
``sys.modules`` item and every parent-package attribute comes back exactly, and they also
clean up what the engine cannot see by itself: the modules that were first imported
while the fakes were installed and captured them (*eviction*).

CPython sends every import of a module that is missing or ``None`` in ``sys.modules``
(``import`` statements, ``importlib.import_module``, ``__import__``) through the
``_find_and_load`` attribute of ``importlib._bootstrap``, looked up at each call, on 3.10
to 3.13.  Both ``block_modules`` and the eviction wrap it, through the engine, for the
duration of a scope:

* blocking needs it because a ``None`` item in ``sys.modules`` is the only state in which
  ``importlib.util.find_spec(name)`` returns ``None`` for an installed module, and that
  ``None`` short-circuits every ``sys.meta_path`` finder, so a finder could never put
  saferemock's name into the error ("import of x halted; None in sys.modules");
* eviction needs the list of modules first imported inside the scope, and recording
  them as they are loaded costs nothing at enter and exit, where comparing ``sys.modules``
  before and after costs a pass over a thousand keys each time.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import importlib.machinery
import os
import sys
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final, Literal, TypeAlias, cast, final
from unittest import mock

from saferemock._activation import Activation
from saferemock._imports import as_import_machinery
from saferemock._missing import MISSING
from saferemock._patch import patch
from saferemock._taint import Taint
from saferemock._targets import suggest
from saferemock._undo import Journal, is_owned, read_attr
from saferemock.exceptions import ModuleTreeError

__all__ = [
    "BlockModules",
    "FakeModuleTree",
    "FreshImport",
    "block_modules",
    "fake_module_tree",
    "fresh_import",
]

Entry: TypeAlias = Mapping[str, object] | types.ModuleType | None
Tree: TypeAlias = Iterable[str] | Mapping[str, Entry]
Evict: TypeAlias = Literal["dependents", "all", "none"]

_EVICT_CHOICES: Final = ("dependents", "all", "none")

# The bootstrap module CPython's import machinery calls into by attribute lookup.
_BOOTSTRAP: Final[Any] = importlib._bootstrap

_ABSENT: Final = object()

# Values that many modules share, so holding one says nothing about a fake.
_SHARED_TYPES: Final = (str, bytes, int, float, complex, bool, type(None), tuple, frozenset, range)
_BUILTIN_IDS: Final = frozenset(id(value) for value in vars(builtins).values())


def _check_name(name: object, caller: str) -> str:
    __tracebackhide__ = True
    if not isinstance(name, str):
        raise TypeError(
            f"{caller} takes module names as strings such as 'confluent_kafka.schema_registry', "
            f"not {name!r}."
        )
    if not all(part.isidentifier() for part in name.split(".")):
        raise ModuleTreeError(
            f"{name!r} is not a module name: {caller} takes dotted Python identifiers such as "
            "'confluent_kafka.schema_registry'."
        )
    return name


# Modules the import system, the mock library or saferemock itself use while a fake or
# block is in place: replacing one would break the very machinery that undoes it.
_IRREPLACEABLE: Final = frozenset(
    {
        "_frozen_importlib",
        "_frozen_importlib_external",
        "_imp",
        "_io",
        "_thread",
        "_warnings",
        "_weakref",
        "builtins",
        "importlib",
        "importlib._bootstrap",
        "importlib._bootstrap_external",
        "importlib.machinery",
        "importlib.util",
        "marshal",
        "sys",
        "unittest",
        "unittest.mock",
        "zipimport",
    }
)


def _check_replaceable(name: str, caller: str) -> None:
    __tracebackhide__ = True
    if name.partition(".")[0] == "saferemock":
        raise ModuleTreeError(
            f"{caller} cannot replace {name!r}: saferemock itself runs while the block is "
            "in place; name only modules that the code under test imports."
        )
    if name in _IRREPLACEABLE:
        raise ModuleTreeError(
            f"{caller} cannot replace {name!r}: the import system and unittest.mock need "
            "the real module while the block runs; patch only the attribute you need, "
            f"with sm.patch('{name}.<attribute>')."
        )


def _check_names(names: object, caller: str, argument: str) -> tuple[str, ...]:
    """Validate an iterable of module names (not a lone string) and drop duplicates."""
    __tracebackhide__ = True
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise TypeError(
            f"{caller} takes {argument} as a list of module names, not {names!r}; "
            f"write [{names!r}] for a single name."
        )
    checked = tuple(dict.fromkeys(_check_name(name, caller) for name in names))
    for name in checked:
        _check_replaceable(name, caller)
    return checked


def _ancestors(name: str) -> Iterator[str]:
    """Yield ``"a"``, ``"a.b"`` for ``"a.b.c"``."""
    parts = name.split(".")
    for depth in range(1, len(parts)):
        yield ".".join(parts[:depth])


# -- fake modules -----------------------------------------------------------------------


def _make_getattr(name: str, namespace: dict[str, Any], strict: bool) -> Callable[[str], Any]:
    """Build the PEP 562 ``__getattr__`` that a fake module keeps in its ``__dict__``.

    A function in the module's own namespace, rather than a ``ModuleType`` subclass, keeps
    every fake a plain ``types.ModuleType``.  Dunder and private names raise, because the
    import system and tools probe them (``__path__``, ``__file__``, ``__wrapped__``) and a
    mock there would make a module look like a package or a wrapper.
    """

    def __getattr__(attr: str) -> Any:
        __tracebackhide__ = True
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(f"module {name!r} has no attribute {attr!r}", name=attr)
        declare = f"fake_module_tree({{{name!r}: {{{attr!r}: ...}}}}"
        if attr.startswith("_"):
            raise AttributeError(
                f"module {name!r} has no attribute {attr!r}; saferemock fakes make mocks only "
                f"for public names, so declare it: {declare}).",
                name=attr,
            )
        submodule = sys.modules.get(f"{name}.{attr}", _ABSENT)
        if submodule is None:
            raise AttributeError(
                f"module {name!r} has no attribute {attr!r}: saferemock.block_modules() "
                f"blocked {name + '.' + attr!r}.",
                name=attr,
            )
        if submodule is not _ABSENT:
            return submodule  # imported, not bound to this fake: the module, not a mock
        if strict:
            hint = suggest(attr, [key for key in namespace if not key.startswith("_")])
            fix = f"this saferemock fake is strict, so declare it: {declare}, strict=True)."
            raise AttributeError(
                f"module {name!r} has no attribute {attr!r}"
                + (f"{hint} If not, {fix}" if hint else f"; {fix}"),
                name=attr,
            )
        # setdefault keeps the first mock if two threads race: one object per name.
        return namespace.setdefault(attr, mock.MagicMock(name=f"{name}.{attr}"))

    return __getattr__


def _new_fake(name: str, attrs: Mapping[str, object] | None, package: bool, strict: bool) -> Any:
    module = types.ModuleType(name, _FAKE_DOC)
    namespace = module.__dict__
    # loader None and no __file__: importlib.util.find_spec returns this spec, and nothing
    # tries to read source for a module that has none.
    namespace["__spec__"] = _ModuleSpec(name, None, is_package=package)
    namespace["__package__"] = name if package else name.rpartition(".")[0]
    namespace["__saferemock_fake__"] = True
    namespace["__getattr__"] = _make_getattr(name, namespace, strict)
    if package:
        namespace["__path__"] = []
    if attrs:
        namespace.update(attrs)
    return module


_FAKE_DOC: Final = "A saferemock fake module: see saferemock.fake_module_tree."
_ModuleSpec: Final = importlib.machinery.ModuleSpec


@final
class _Fakes(Mapping[str, types.ModuleType]):
    """The modules a fake tree put in effect, by dotted name."""

    __slots__ = ("_modules",)

    def __init__(self, modules: dict[str, types.ModuleType]) -> None:
        self._modules = modules

    def __getitem__(self, name: str) -> types.ModuleType:
        try:
            return self._modules[name]
        except KeyError:
            hint = suggest(name, self._modules) if isinstance(name, str) else ""
            raise KeyError(
                f"{name!r} is not in this fake tree{hint or '; it has ' + ', '.join(self._modules)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __repr__(self) -> str:
        return f"<saferemock fakes {list(self._modules)!r}>"


# -- eviction ---------------------------------------------------------------------------


def _owned(key: str) -> bool:
    """Tell whether an active saferemock change holds ``sys.modules[key]``; its owner undoes it."""
    return is_owned("item", sys.modules, key)


# Set on the ModuleNotFoundError a blocked import raises, so a recorder that sees it pass
# knows which modules asked (the error stays a plain ModuleNotFoundError for the user).
_BLOCKED_MARK: Final = "__saferemock_blocked__"


class _Recorder:
    """What one scope sees of the imports made while it is active.

    ``loaded`` lists the modules first imported, in order; ``refused`` names the modules
    that were being imported when a blocked import failed under them (they took the
    fallback path, so they hold it).
    """

    __slots__ = ("active", "in_flight", "loaded", "refused")

    def __init__(self) -> None:
        self.active = True
        self.loaded: list[tuple[str, object]] = []
        self.in_flight: list[str] = []
        self.refused: set[str] = set()


def _recording_hook(
    delegate: Callable[[str, Any], Any], recorder: _Recorder
) -> Callable[[str, Any], Any]:
    # Every import of a module that is not in sys.modules goes through _find_and_load (see
    # the module docstring), so wrapping it lists exactly the first imports, at no cost to
    # imports of cached modules and without scanning sys.modules at enter or exit.  A
    # wrapper left in the chain after its scope ended (scopes undone out of order) sees an
    # inactive recorder and only delegates.
    @as_import_machinery
    def _find_and_load(name: str, import_: Any) -> Any:
        __tracebackhide__ = True
        if not recorder.active:
            return delegate(name, import_)
        first = sys.modules.get(name) is None
        in_flight = recorder.in_flight
        in_flight.append(name)
        try:
            module = delegate(name, import_)
        except ModuleNotFoundError as exc:
            if getattr(exc, _BLOCKED_MARK, False):
                recorder.refused.update(in_flight[:-1])
            raise
        finally:
            in_flight.pop()
        if first and recorder.active:
            recorder.loaded.append((name, module))
        return module

    return _find_and_load


def _record_imports(journal: Journal) -> _Recorder:
    recorder = _Recorder()
    namespace = _BOOTSTRAP.__dict__
    # The module's namespace item and its attribute are one slot to the engine.
    journal.setitem(
        namespace, "_find_and_load", _recording_hook(namespace["_find_and_load"], recorder)
    )
    journal.callback("ending the import recording", functools.partial(_stop, recorder))
    return recorder


def _stop(recorder: _Recorder) -> None:
    recorder.active = False


def _unbind(key: str, module: object) -> None:
    """Remove ``sys.modules[key]`` (if it is ``module``) and its attribute on the parent."""
    modules = sys.modules
    if modules.get(key) is module:
        del modules[key]
    parent_name, _, child = key.rpartition(".")
    parent = modules.get(parent_name) if parent_name else None
    if parent is not None and read_attr(parent, child) is module:
        delattr(parent, child)


def _fake_ids(fakes: Iterable[object]) -> set[int]:
    """The ids of the fakes and of what they hold, the seed of a `Taint`."""
    fakes = list(fakes)
    ids = {id(fake) for fake in fakes}
    for fake in fakes:
        if not vars(fake).get("__saferemock_fake__"):
            continue  # a module the caller gave: only the object itself is a fake
        for key, value in vars(fake).items():
            if key.startswith("__") or id(value) in _BUILTIN_IDS:
                continue
            kind = type(value)
            if kind in _SHARED_TYPES:
                continue
            if issubclass(kind, types.ModuleType) and id(value) not in ids:
                continue  # a real submodule kept under a fake parent
            ids.add(id(value))
    return ids


class _Evictor:
    """Remove, at exit, the modules first imported inside a scope that it must not outlive.

    Recorded in the journal as a callback, so it runs as one step of the undo.  ``mode``
    is ``"all"`` (every module first imported inside) or ``"dependents"`` (those that hold
    a fake, a mock or a blocked import's fallback, directly or through another evicted
    module); ``seeds`` gives the ids of the fakes and mocks.
    """

    __slots__ = ("mark", "mode", "recorder", "seeds", "size")

    def __init__(self, recorder: _Recorder, mode: str, seeds: Callable[[], set[int]]) -> None:
        self.recorder = recorder
        self.mode = mode
        self.seeds = seeds
        # Imports before this point belong to someone else (fresh_import's own import).
        self.mark = 0
        # len(sys.modules) at the point of the undo where this step runs.
        self.size = len(sys.modules)

    def __call__(self) -> None:
        recorder = self.recorder
        recorder.active = False
        modules = sys.modules
        loaded = recorder.loaded[self.mark :]
        if not loaded and len(modules) == self.size:
            return  # nothing was imported or put in sys.modules inside the scope
        # Only the very object that was imported: a key that another scope has put its
        # own old module back under since then is not ours to remove.
        candidates = {
            key: module for key, module in loaded if modules.get(key) is module and not _owned(key)
        }
        forced: dict[str, object] = {}
        seeds: set[int] | None = None
        if len(modules) != self.size + len(loaded):
            # Something besides imports changed sys.modules.  Any item that holds one of
            # our fakes (sys.modules["alias"] = fake, by the code under test) was written
            # inside the scope, since the fakes did not exist before it: it goes too.
            seeds = self.seeds()
            for key, value in list(modules.items()):
                if id(value) in seeds and not _owned(key):
                    forced[key] = value
                    candidates.pop(key, None)
        if self.mode == "all":
            evicted = {**forced, **candidates}
        else:
            taint = Taint(self.seeds() if seeds is None else seeds)
            for key in recorder.refused:
                if key in candidates:
                    taint.add(key, candidates[key])
            for key, module in forced.items():
                taint.add(key, module)
            evicted = {**forced, **dict(taint.spread(candidates))}
        for key, module in evicted.items():
            _unbind(key, module)


# -- fake_module_tree -------------------------------------------------------------------


@final
class _Layout:
    """The shape of a tree, parents first: ``(name, parent, child, given, package)`` each.

    A pure function of the names, so it is computed once per distinct tree and shared:
    a test suite builds the same few trees over and over.
    """

    __slots__ = ("names", "steps")

    def __init__(self, names: tuple[str, ...]) -> None:
        given = set(names)
        every = given.union(*(_ancestors(name) for name in names))
        packages = {name.rpartition(".")[0] for name in every}
        self.names = names
        self.steps = tuple(
            (name, *_split(name), name in given, name in packages)
            for name in sorted(every, key=lambda name: (name.count("."), name))
        )


def _split(name: str) -> tuple[str, str]:
    parent, _, child = name.rpartition(".")
    return parent, child


_LAYOUTS: dict[tuple[str, ...], _Layout] = {}


def _layout(names: tuple[Any, ...]) -> _Layout:
    __tracebackhide__ = True
    try:
        layout = _LAYOUTS.get(names)
    except TypeError:  # an unhashable item: the check below names it
        layout = None
    if layout is None:
        for name in names:
            _check_name(name, "fake_module_tree()")
            _check_replaceable(name, "fake_module_tree()")
        if len(_LAYOUTS) >= 512:
            _LAYOUTS.clear()  # a bound, not an LRU: the cache is only ever a shortcut
        layout = _LAYOUTS[names] = _Layout(tuple(dict.fromkeys(names)))
    return layout


def _normalize(tree: object) -> tuple[_Layout, dict[str, Entry]]:
    """Validate a tree; return its layout and the declared entries (names with None omitted)."""
    __tracebackhide__ = True
    caller = "fake_module_tree()"
    if isinstance(tree, (str, bytes)):
        raise TypeError(
            f"{caller} takes a list of module names or a mapping, not the string {tree!r}; "
            f"write fake_module_tree([{tree!r}])."
        )
    if not isinstance(tree, Mapping):
        if not isinstance(tree, Iterable):
            raise TypeError(
                f"{caller} takes a list of module names or a mapping of names to attributes, "
                f"not {tree!r}."
            )
        return _layout(tuple(tree)), {}
    entries: dict[str, Entry] = {}
    for name, entry in tree.items():
        _check_name(name, caller)
        if isinstance(entry, Mapping):
            for attr in entry:
                if not isinstance(attr, str) or not attr.isidentifier():
                    raise ModuleTreeError(
                        f"{attr!r} is not an attribute name for the fake module {name!r}: use "
                        "Python identifiers, and declare submodules by their dotted name, such "
                        f"as {name + '.submodule'!r}."
                    )
            entries[name] = dict(entry)
        elif isinstance(entry, types.ModuleType):
            entries[name] = entry
        elif entry is not None:
            raise TypeError(
                f"{caller} maps {name!r} to {entry!r}: map each module name to a dict of "
                "its attributes, to a module object, or to None."
            )
    layout = _layout(tuple(tree))
    for name, parent, child, _, _ in layout.steps:
        attrs = entries.get(parent)
        if isinstance(attrs, dict) and child in attrs:
            raise ModuleTreeError(
                f"{name!r} is given both as a module and as the attribute {child!r} of "
                f"{parent!r}: declare it once, as the module {name!r} or in the attributes "
                f"of {parent!r}."
            )
    return layout, entries


@final
class FakeModuleTree(Activation[Mapping[str, types.ModuleType]]):
    """One ``sm.fake_module_tree(...)``; see `fake_module_tree`.

    Examples:
        >>> import saferemock as sm
        >>> fake_grpc = sm.fake_module_tree({"grpc": {"insecure_channel": "channel"}})
        >>> @fake_grpc
        ... def connect(fakes):
        ...     import grpc
        ...     return grpc.insecure_channel
        >>> connect()
        'channel'
        >>> import importlib.util
        >>> importlib.util.find_spec("grpc") is None
        True
    """

    _passes_value = True

    def __init__(
        self,
        tree: Tree,
        *,
        strict: bool = False,
        keep_real: bool = False,
        evict: Evict = "dependents",
    ) -> None:
        __tracebackhide__ = True
        super().__init__()
        self._layout, self._entries = _normalize(tree)
        if not self._layout.names:
            raise ModuleTreeError(
                "fake_module_tree() was given no module names: pass at least one, such as "
                "fake_module_tree(['grpc'])."
            )
        if evict not in _EVICT_CHOICES:
            raise ModuleTreeError(
                f"evict={evict!r} is not a choice: pass 'dependents' (the default), 'all' or "
                "'none'."
            )
        self._strict = bool(strict)
        self._keep_real = bool(keep_real)
        self._evict: str = evict
        # Ancestors that fresh_import leaves for the import system to load for real.
        self._protect: frozenset[str] = frozenset()

    @property
    def names(self) -> tuple[str, ...]:
        """The dotted names given, in order (missing ancestors are faked too)."""
        return self._layout.names

    def describe(self) -> str:
        return f"fake_module_tree({list(self._layout.names)!r})"

    def leave_real(self, names: frozenset[str]) -> FakeModuleTree:
        """A copy that never fakes a missing ancestor in ``names`` and evicts nothing.

        ``fresh_import`` needs the package of the module it imports to be loaded for real,
        and evicts by its own rule.
        """
        copy = FakeModuleTree.__new__(FakeModuleTree)
        copy.__dict__.update(self.__dict__)
        Activation.__init__(copy)
        copy._evict = "none"
        copy._protect = names
        return copy

    def apply(self, journal: Journal) -> Mapping[str, types.ModuleType]:
        __tracebackhide__ = True
        made: list[Any] = []
        if self._evict != "none":
            recorder = _Recorder()
            # Recorded first so that it runs last: by then our own items are gone and
            # real parents have their attributes back.
            evictor = _Evictor(recorder, self._evict, lambda: _fake_ids(made))
            journal.callback("evicting the modules that hold fake_module_tree() fakes", evictor)
            evictor.recorder = _record_imports(journal)
        return _Fakes(self._install(journal, made))

    def _install(self, journal: Journal, made: list[Any]) -> dict[str, types.ModuleType]:
        """Put the fakes in ``sys.modules``, bind each to its parent, return them by name."""
        modules = sys.modules
        entries = self._entries
        strict = self._strict
        in_effect: dict[str, Any] = {}
        result: dict[str, types.ModuleType] = {}
        created: set[int] = set()
        hide: list[str] = []
        keep_real = self._keep_real
        for name, parent_name, child, given, package in self._layout.steps:
            current = modules.get(name)
            if current is not None and (keep_real or not given):
                # A real (or outer) parent stays, and so does a real module under
                # keep_real: the setdefault semantics of conftest hacks.
                in_effect[name] = module = current
                if given:
                    result[name] = current
            elif not given and name in self._protect:
                continue
            else:
                replaces_package = current is not None and _is_package(current)
                entry = entries.get(name)
                if isinstance(entry, types.ModuleType):
                    module = entry
                else:
                    # A fake of a real package is a package too, so its submodules fail
                    # to import the way they would in an empty package.
                    module = _new_fake(name, entry, package or replaces_package, strict)
                    created.add(id(module))
                if replaces_package:
                    hide.append(name + ".")
                journal.setitem(modules, name, module)
                made.append(module)
                in_effect[name] = result[name] = module
            # Parents come first in the layout, so the parent is settled by now.
            parent = in_effect.get(parent_name)
            if parent is None:
                continue
            if id(parent) in created:
                parent.__dict__[child] = module  # our own fresh fake: dropped with the scope
            elif read_attr(parent, child) is not module:
                journal.setattr(parent, child, module)
        if hide:
            # Real submodules of a replaced package would still import from the cache.  A
            # None entry is a block, not a module: it stays.
            prefixes = tuple(hide)
            for key in [key for key in list(modules) if key.startswith(prefixes)]:
                if key not in in_effect and modules.get(key) is not None:
                    journal.delitem(modules, key)
        return result


def _is_package(module: object) -> bool:
    return isinstance(module, types.ModuleType) and "__path__" in vars(module)


def fake_module_tree(
    tree: Tree,
    *,
    strict: bool = False,
    keep_real: bool = False,
    evict: Evict = "dependents",
) -> FakeModuleTree:
    """Fake a hierarchy of modules in ``sys.modules`` for a block, and undo it exactly.

    ``tree`` is a list of dotted names, or a mapping of each name to the attributes its
    module should have (or to a ready module object, installed as is).  Every name and
    every ancestor that is not imported becomes a plain ``types.ModuleType`` with a
    ``__spec__`` (and ``__path__ = []`` for packages), bound as an attribute of its parent;
    an ancestor that is already imported stays real and gets the child as an attribute,
    removed on exit.  ``import a.b.c``, ``from a.b import c``, ``importlib.import_module``,
    ``importlib.util.find_spec`` and ``pkgutil.resolve_name`` all work.

    An attribute that was not declared is a ``MagicMock`` named after its dotted path, the
    same object at every access; ``strict=True`` makes it an ``AttributeError`` instead.
    A real module under a faked name is replaced (its imported submodules hidden) unless
    ``keep_real=True``.  On exit, ``evict`` decides which modules first imported inside
    the block are removed: ``"dependents"`` (those that hold a fake, directly or through
    another evicted module), ``"all"``, or ``"none"``.

    Works as a context manager (yielding the name-to-module mapping), as a decorator
    (passing that mapping as an extra argument) and with ``start()``/``stop()``.

    Examples:
        >>> import sys, saferemock as sm
        >>> with sm.fake_module_tree(["confluent_kafka.schema_registry.avro"]) as fakes:
        ...     from confluent_kafka.schema_registry.avro import AvroDeserializer
        ...     AvroDeserializer is fakes["confluent_kafka.schema_registry.avro"].AvroDeserializer
        True
        >>> AvroDeserializer
        <MagicMock name='confluent_kafka.schema_registry.avro.AvroDeserializer' id=...>
        >>> "confluent_kafka" in sys.modules
        False
    """
    __tracebackhide__ = True
    return FakeModuleTree(tree, strict=strict, keep_real=keep_real, evict=evict)


# -- block_modules ----------------------------------------------------------------------


def _blocking_hook(delegate: Callable[[str, Any], Any], block: _Block) -> Callable[[str, Any], Any]:
    # Each activation wraps whatever is installed.  A wrapper left in place after its own
    # block stopped (blocks undone out of order) passes every import straight through.
    @as_import_machinery
    def _find_and_load(name: str, import_: Any) -> Any:
        __tracebackhide__ = True
        if block.active:
            blocked = block.covering(name)
            if blocked is not None:
                error = ModuleNotFoundError(
                    f"No module named {name!r}: saferemock.block_modules() blocked "
                    f"{blocked!r} for this test.",
                    name=name,
                )
                setattr(error, _BLOCKED_MARK, True)
                raise error
        return delegate(name, import_)

    return _find_and_load


@final
class _Block:
    """The names one activation of `BlockModules` blocks, while it is active."""

    __slots__ = ("active", "names", "prefixes")

    def __init__(self, names: frozenset[str], prefixes: tuple[str, ...]) -> None:
        self.names = names
        self.prefixes = prefixes
        self.active = True

    def covering(self, name: str) -> str | None:
        if name in self.names:
            return name
        if name.startswith(self.prefixes):
            return next(p[:-1] for p in self.prefixes if name.startswith(p))
        return None


@final
class BlockModules(Activation[None]):
    """One ``sm.block_modules(...)``; see `block_modules`.

    Examples:
        >>> import saferemock as sm
        >>> blocker = sm.block_modules("ujson")
        >>> blocker.names
        ('ujson',)
        >>> blocker.start()
        >>> import ujson
        Traceback (most recent call last):
        ...
        ModuleNotFoundError: No module named 'ujson': saferemock.block_modules() blocked 'ujson' for this test.
        >>> blocker.stop()
    """

    def __init__(self, *names: str, evict: bool = True) -> None:
        __tracebackhide__ = True
        super().__init__()
        self._names = _check_names(names, "block_modules()", "names")
        if not self._names:
            raise ModuleTreeError(
                "block_modules() was given no module names: pass at least one, such as "
                "block_modules('ujson')."
            )
        if not isinstance(evict, bool):
            raise TypeError(f"block_modules() takes evict=True or False, not {evict!r}.")
        self._set = frozenset(self._names)
        self._prefixes = tuple(name + "." for name in self._names)
        self._evict = evict

    @property
    def names(self) -> tuple[str, ...]:
        """The blocked module names."""
        return self._names

    def describe(self) -> str:
        return f"block_modules({', '.join(map(repr, self._names))})"

    def apply(self, journal: Journal) -> None:
        __tracebackhide__ = True
        modules = sys.modules
        if self._evict:
            # Recorded first so that it runs last, once the earlier copies are back.
            evictor = _Evictor(_Recorder(), "all", set)
            journal.callback("evicting the modules first imported while blocked", evictor)
            evictor.recorder = _record_imports(journal)
        block = _Block(self._set, self._prefixes)
        namespace = _BOOTSTRAP.__dict__
        journal.setitem(
            namespace, "_find_and_load", _blocking_hook(namespace["_find_and_load"], block)
        )
        journal.callback("ending the block", functools.partial(_unblock, block))
        for key in [key for key in list(modules) if key.startswith(self._prefixes)]:
            if key not in self._set and modules.get(key) is not None:
                journal.delitem(modules, key)
        for name in self._names:
            current = modules.get(name)
            parent_name, _, child = name.rpartition(".")
            parent = modules.get(parent_name) if parent_name else None
            if current is not None and parent is not None and read_attr(parent, child) is current:
                journal.delattr(parent, child)
            # None is the state in which importlib.util.find_spec(name) returns None.
            journal.setitem(modules, name, None)


def _unblock(block: _Block) -> None:
    block.active = False


def block_modules(*names: str, evict: bool = True) -> BlockModules:
    """Make ``import name`` (and ``import name.anything``) fail inside a block.

    Imports raise ``ModuleNotFoundError`` saying saferemock blocked them, and
    ``importlib.util.find_spec(name)`` returns ``None``; copies already imported (and their
    submodules, and the attribute on the parent package) are hidden and put back on exit.
    This is how a test reaches an optional-dependency fallback.  A module first imported
    inside the block may have taken that fallback (``FAST = False``), so it is evicted on
    exit, as ``mock.patch.dict(sys.modules, {name: None})`` would; ``evict=False`` keeps
    it.  Context manager, decorator, or ``start()``/``stop()``.

    Examples:
        >>> import importlib.util, saferemock as sm
        >>> with sm.block_modules("json"):
        ...     importlib.util.find_spec("json") is None
        ...     try:
        ...         import json
        ...     except ModuleNotFoundError as exc:
        ...         print(exc)
        True
        No module named 'json': saferemock.block_modules() blocked 'json' for this test.
        >>> import json
    """
    __tracebackhide__ = True
    return BlockModules(*names, evict=evict)


# -- fresh_import -----------------------------------------------------------------------


def _add_note(exc: BaseException, note: str) -> None:
    if sys.version_info >= (3, 11):
        exc.add_note(note)
        return
    # 3.10 has no add_note; the attribute is what 3.11+ tracebacks and pytest display.
    notes = getattr(exc, "__notes__", None)
    if not isinstance(notes, list):
        notes = []
        exc.__notes__ = notes  # type: ignore[attr-defined]
    notes.append(note)


_FRESH_EVICT_CHOICES: Final = ("dependents", "all")


@final
class FreshImport(Activation[types.ModuleType]):
    """One ``sm.fresh_import(...)``; see `fresh_import`.

    Examples:
        >>> import json, saferemock as sm
        >>> importer = sm.fresh_import("json", env={"JSON_DEBUG": "1"})
        >>> importer.name
        'json'
        >>> fresh = importer.start()
        >>> fresh is json
        False
        >>> importer.stop()
    """

    _passes_value = True

    def __init__(
        self,
        name: str,
        *,
        fakes: Tree | FakeModuleTree = (),
        blocked: Iterable[str] = (),
        env: Mapping[str, str | None] | None = None,
        patches: Iterable[str | Activation[Any]] = (),
        evict: Literal["dependents", "all"] = "dependents",
    ) -> None:
        __tracebackhide__ = True
        super().__init__()
        caller = "fresh_import()"
        self._name = _check_name(name, caller)
        _check_replaceable(name, caller)
        lineage = frozenset({*_ancestors(name), name})
        self._tree = self._make_tree(fakes, lineage)
        self._blocked = _check_names(blocked, caller, "blocked")
        self._env = self._check_env(env)
        self._patches = self._check_patches(patches)
        if evict not in _FRESH_EVICT_CHOICES:
            raise ModuleTreeError(
                f"evict={evict!r} is not a choice for fresh_import(): pass 'dependents' (the "
                "default) or 'all'."
            )
        self._evict: str = evict
        for fake in self._tree.names if self._tree else ():
            if fake in lineage:
                raise ModuleTreeError(
                    f"fresh_import({name!r}) cannot fake {fake!r}: a fake has no real code to "
                    f"import {name!r} from; fake only what {name!r} imports."
                )
        for block in self._blocked:
            if name == block or name.startswith(block + "."):
                raise ModuleTreeError(
                    f"fresh_import({name!r}) cannot block {block!r}, which it must import; "
                    "block only what the module imports."
                )
        self._block = BlockModules(*self._blocked, evict=False) if self._blocked else None

    @staticmethod
    def _make_tree(fakes: object, lineage: frozenset[str]) -> FakeModuleTree | None:
        __tracebackhide__ = True
        if isinstance(fakes, FakeModuleTree):
            return fakes.leave_real(lineage)
        if isinstance(fakes, (str, bytes)):
            raise TypeError(
                "fresh_import() takes fakes as a list of module names or a mapping, not the "
                f"string {fakes!r}; write fakes=[{fakes!r}]."
            )
        if not isinstance(fakes, Mapping) and isinstance(fakes, Iterable):
            fakes = list(fakes)
        if not fakes and isinstance(fakes, (list, Mapping)):
            return None
        return FakeModuleTree(cast(Tree, fakes)).leave_real(lineage)

    @staticmethod
    def _check_env(env: object) -> dict[str, str | None]:
        __tracebackhide__ = True
        if env is None:
            return {}
        if not isinstance(env, Mapping):
            raise TypeError(
                f"fresh_import() takes env as a mapping of names to strings (None deletes), "
                f"not {env!r}."
            )
        for key, value in env.items():
            if not isinstance(key, str):
                raise TypeError(f"fresh_import() takes env names as strings, not {key!r}.")
            if value is not None and not isinstance(value, str):
                raise TypeError(
                    f"fresh_import() got env[{key!r}] = {value!r}: environment values are "
                    f"strings, so write {str(value)!r}, or None to delete the variable."
                )
        return dict(env)

    @staticmethod
    def _check_patches(patches: object) -> tuple[Activation[Any], ...]:
        __tracebackhide__ = True
        if isinstance(patches, (str, bytes, Activation)) or not isinstance(patches, Iterable):
            raise TypeError(
                "fresh_import() takes patches as a list of sm.patch objects or target strings, "
                f"not {patches!r}; write [{patches!r}] for a single one."
            )
        result: list[Activation[Any]] = []
        for item in patches:
            if isinstance(item, str):
                result.append(patch(item))
            elif isinstance(item, Activation):
                result.append(item)
            else:
                raise TypeError(
                    "fresh_import() takes each patch as an sm.patch object or a target string "
                    f"such as 'threading.Thread', not {item!r}."
                )
        return tuple(result)

    @property
    def name(self) -> str:
        """The dotted name of the module imported afresh."""
        return self._name

    def describe(self) -> str:
        return f"fresh_import({self._name!r})"

    def _note(self) -> str:
        parts: list[str] = []
        if self._tree is not None:
            parts.append("fakes: " + ", ".join(self._tree.names))
        if self._blocked:
            parts.append("blocked: " + ", ".join(self._blocked))
        set_keys = [key for key, value in self._env.items() if value is not None]
        if set_keys:
            parts.append("env set: " + ", ".join(set_keys))
        deleted = [key for key, value in self._env.items() if value is None]
        if deleted:
            parts.append("env deleted: " + ", ".join(deleted))
        if self._patches:
            parts.append("patches: " + ", ".join(_patch_name(p) for p in self._patches))
        done = "; ".join(parts) if parts else "no fakes, blocks, env or patches"
        return (
            f"saferemock.fresh_import({self._name!r}) was importing it with {done}. "
            "All of it was undone."
        )

    def apply(self, journal: Journal) -> types.ModuleType:
        __tracebackhide__ = True
        modules = sys.modules
        # The order of the import contract: fakes, blocks, environment, patches, import.
        fakes = self._tree.apply(journal).values() if self._tree is not None else ()
        if self._block is not None:
            self._block.apply(journal)
        # Installed after the blocks, so it sees a refused import pass on its way out.
        recorder = _record_imports(journal)
        for key, value in self._env.items():
            if value is not None:
                journal.setitem(os.environ, key, value)
            elif key in os.environ:
                journal.delitem(os.environ, key)
        replacements = [item.apply(journal) for item in self._patches]
        name = self._name
        prefix = name + "."
        hidden = [key for key in list(modules) if key == name or key.startswith(prefix)]
        previous = modules.get(name)
        for key in hidden:
            journal.delitem(modules, key)
        parent_name, _, child = name.rpartition(".")
        parent = modules.get(parent_name) if parent_name else None
        if previous is not None and parent is not None and read_attr(parent, child) is previous:
            journal.delattr(parent, child)

        def seeds() -> set[int]:
            return _fake_ids(fakes) | {id(value) for value in replacements}

        # Modules imported later inside the block that hold a fake go too; this runs
        # after our own import's modules are gone and before the hidden copies are back.
        evictor = _Evictor(recorder, self._evict, seeds)
        journal.callback(f"evicting the modules {self.describe()} imported", evictor)
        mark = len(recorder.loaded)
        try:
            module = importlib.import_module(name)
        except BaseException as exc:
            _add_note(exc, self._note())
            raise
        loaded = recorder.loaded[mark:]
        evictor.mark = len(recorder.loaded)
        evictor.size = len(modules)
        self._own_import(journal, loaded, seeds(), recorder.refused)
        return module

    def _own_import(
        self,
        journal: Journal,
        loaded: list[tuple[str, object]],
        seeds: set[int],
        refused: set[str],
    ) -> None:
        """Make the modules our import brought in that must not outlive us changes of ours.

        The target and its submodules always; with ``evict="dependents"`` also what holds
        a fake, a patch's mock or a blocked import's fallback, so a shared dependency that
        merely got imported alongside keeps its identity.
        """
        modules = sys.modules
        name = self._name
        present = {key: module for key, module in loaded if modules.get(key) is module}
        if self._evict == "all":
            owned = present
        else:
            prefix = name + "."
            owned = {
                key: module
                for key, module in present.items()
                if key == name or key.startswith(prefix) or key in refused
            }
            candidates = {key: module for key, module in present.items() if key not in owned}
            taint = Taint(seeds)
            for key, module in owned.items():
                taint.add(key, module)
            owned.update(taint.spread(candidates))
        for key, module in owned.items():
            journal.adopt("item", modules, key, MISSING, module)
            parent_name, _, child = key.rpartition(".")
            parent = modules.get(parent_name) if parent_name else None
            if parent is not None and read_attr(parent, child) is module:
                journal.adopt("attr", parent, child, MISSING, module)


def _patch_name(item: Activation[Any]) -> str:
    target = getattr(item, "target", None)
    return target if isinstance(target, str) else item.describe()


def fresh_import(
    name: str,
    *,
    fakes: Tree | FakeModuleTree = (),
    blocked: Iterable[str] = (),
    env: Mapping[str, str | None] | None = None,
    patches: Iterable[str | Activation[Any]] = (),
    evict: Literal["dependents", "all"] = "dependents",
) -> FreshImport:
    """Import ``name`` afresh under fakes, blocks, environment variables and patches.

    The steps run in this order, the import-order contract of module-level side effects
    made explicit: ``fakes`` (as `fake_module_tree`), ``blocked`` (as
    `block_modules`), ``env`` (``None`` deletes a variable), ``patches``
    (``sm.patch`` objects, or target strings that become ``sm.patch(target)``), then the
    import.  On exit everything is undone in reverse, and a copy of ``name`` imported
    before is put back in ``sys.modules`` and on its parent package.  If the import
    raises, everything is undone and the exception propagates with a note listing what
    was set up.

    Which modules imported along the way are evicted on exit: the fresh module and its
    submodules always.  With ``evict="dependents"`` (the default), also every module
    that captured something from the controlled world (a fake, a patch's mock, or the
    fallback of a blocked import), directly or through another evicted module, while a
    shared dependency that merely got imported alongside keeps its identity, so objects
    made inside stay instances of live classes and registries see each class once.  With
    ``evict="all"``, every module first imported inside the block goes: the choice when
    a module reads the environment at import, or checks ``find_spec`` instead of
    importing, so the rule cannot see what it captured; the price is that objects made
    inside become instances of classes no longer in ``sys.modules``.

    Examples:
        >>> import json, sys, saferemock as sm
        >>> with sm.fresh_import("json", env={"JSON_DEBUG": "1"}) as fresh:
        ...     fresh is json, fresh is sys.modules["json"]
        (False, True)
        >>> sys.modules["json"] is json
        True
    """
    __tracebackhide__ = True
    return FreshImport(name, fakes=fakes, blocked=blocked, env=env, patches=patches, evict=evict)
