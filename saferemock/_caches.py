"""``sm.clear_caches``: empty every ``functools`` cache of some code on entry and on exit.

A cached loader whose ``open`` a test patches keeps serving the first test's data to
every later test.  ``clear_caches`` finds the ``functools.lru_cache``/``functools.cache``
wrappers of functions, classes, modules and packages and clears them on entry and again
on exit, so no cached value crosses the boundary in either direction.

Discovery reads ``__dict__``s only.  ``dir()``, ``getattr()`` and ``hasattr()`` on a module
run its module-level ``__getattr__``, which in lazy-loading packages imports submodules;
``clear_caches`` must never import anything, so it walks ``vars()`` and finds a package's
submodules by their names in ``sys.modules``.
"""

from __future__ import annotations

import functools
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any, final

from saferemock._activation import Activation
from saferemock._targets import suggest
from saferemock._undo import Journal, describe_owner
from saferemock.exceptions import CacheTargetError, InvalidTargetError

__all__ = ["CachesCleared", "ClearCaches", "clear_caches"]

Target = str | types.ModuleType | type | Callable[..., Any]

_WRAPPER: Any = functools._lru_cache_wrapper
# Without the C accelerator, functools builds each wrapper as a plain function.
_WRAPPER_IS_TYPE: bool = isinstance(_WRAPPER, type)

# Values that can never be or hold a cache, skipped with one set lookup: most of what a
# module or class __dict__ holds.
_INERT: frozenset[type] = frozenset(
    {
        str,
        bytes,
        int,
        float,
        bool,
        complex,
        type(None),
        tuple,
        list,
        dict,
        set,
        frozenset,
        types.ModuleType,
        types.BuiltinFunctionType,
        types.WrapperDescriptorType,
        types.MethodDescriptorType,
        types.GetSetDescriptorType,
        types.MemberDescriptorType,
    }
)


def _is_cache(obj: object) -> bool:
    # type(), not isinstance(): isinstance() asks obj.__class__, which a mock specced
    # from a cached function answers with the wrapper type, and clearing a mock would
    # record a call on it.
    if _WRAPPER_IS_TYPE:
        return type(obj) is _WRAPPER
    return type(obj) is types.FunctionType and "cache_clear" in vars(obj)  # pragma: no cover


def _cache_in(value: object) -> Any:
    """Return the cache wrapper that ``value`` is or wraps, or ``None``.

    Sees through ``staticmethod``/``classmethod``, a ``property`` getter, a bound method,
    and ``functools.wraps`` decorators stacked on top of the cache (``__wrapped__``).
    """
    for _ in range(16):  # a __wrapped__ cycle must not hang discovery
        kind = type(value)
        if kind is _WRAPPER or (not _WRAPPER_IS_TYPE and _is_cache(value)):
            return value
        if kind in _INERT:
            return None
        if kind is types.FunctionType:
            value = vars(value).get("__wrapped__")
        elif issubclass(kind, (staticmethod, classmethod, types.MethodType)):
            value = value.__func__  # type: ignore[attr-defined]
        elif issubclass(kind, property):
            value = value.fget  # type: ignore[attr-defined]
        else:
            return None
    return None


def _is_class(value: object) -> bool:
    return issubclass(type(value), type)


def _is_package(module: types.ModuleType) -> bool:
    return "__path__" in vars(module)


@final
class _Finder:
    """Collects cache wrappers by identity, each under the first dotted path that reached it."""

    __slots__ = ("_seen", "found")

    def __init__(self) -> None:
        self.found: dict[int, tuple[str, Any]] = {}
        self._seen: set[int] = set()

    def add(self, path: str, wrapper: Any) -> None:
        self.found.setdefault(id(wrapper), (path, wrapper))

    def module(self, module: types.ModuleType, name: str) -> None:
        if id(module) in self._seen:
            return
        self._seen.add(id(module))
        # A cache bound at module level is module state even if the function was defined
        # elsewhere (load = lru_cache(parse)); a class is searched only where it is
        # defined, so a module never crawls the third-party classes it imports.
        for key, value in list(vars(module).items()):
            wrapper = _cache_in(value)
            if wrapper is not None:
                self.add(f"{name}.{key}", wrapper)
            elif _is_class(value) and vars(value).get("__module__") == name:
                self.klass(value, f"{name}.{key}")

    def package(self, module: types.ModuleType, name: str) -> None:
        self.module(module, name)
        if not _is_package(module):
            return
        prefix = name + "."
        for key, value in list(sys.modules.items()):
            if key.startswith(prefix) and isinstance(value, types.ModuleType):
                self.module(value, key)

    def klass(self, klass: type, path: str) -> None:
        if id(klass) in self._seen:
            return
        self._seen.add(id(klass))
        module = vars(klass).get("__module__")
        for key, value in list(vars(klass).items()):
            wrapper = _cache_in(value)
            if wrapper is not None:
                self.add(f"{path}.{key}", wrapper)
            elif _is_class(value) and vars(value).get("__module__") == module:
                self.klass(value, f"{path}.{key}")


def _lookup_name(target: str) -> tuple[object, str]:
    """Find an imported module, or an attribute reached from one, by dotted name.

    Returns ``(object, "")`` or ``(None, reason)``; never imports and never calls a
    module's ``__getattr__``.
    """
    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if isinstance(module, types.ModuleType):
            break
    else:
        hint = suggest(
            target, [name for name in sys.modules if name.count(".") == target.count(".")]
        )
        return None, (
            f"no module of that name is imported{_paren(hint)} and clear_caches never "
            "imports one; fix the name, import it first, or pass missing_ok=True."
        )
    obj: object = module
    for part in parts[cut:]:
        namespace = _namespace(obj)
        if part not in namespace:
            hint = _paren(suggest(part, namespace))
            if isinstance(obj, types.ModuleType):
                return None, (
                    f"{describe_owner(obj)} has no attribute or imported submodule {part!r}"
                    f"{hint} and clear_caches never imports one; fix the name, import it "
                    "first, or pass missing_ok=True."
                )
            return None, (
                f"{describe_owner(obj)} has no attribute {part!r}{hint}; fix the name or "
                "pass missing_ok=True."
            )
        obj = namespace[part]
    return obj, ""


def _namespace(obj: object) -> dict[str, Any]:
    """What ``obj.name`` can find without running code: ``__dict__``s, classes by MRO."""
    if isinstance(obj, types.ModuleType):
        return dict(vars(obj))
    klasses = obj.__mro__ if _is_class(obj) else type(obj).__mro__  # type: ignore[attr-defined]
    merged: dict[str, Any] = {}
    for klass in reversed(klasses):
        merged.update(vars(klass))
    if not _is_class(obj):
        try:
            merged.update(vars(obj))
        except TypeError:
            pass
    return merged


def _paren(hint: str) -> str:
    """Turn ``"; did you mean 'x'?"`` into ``" (did you mean 'x'?)"``."""
    return f" ({hint[2:]})" if hint else ""


def _label(target: object) -> str:
    if isinstance(target, str):
        return repr(target)
    if isinstance(target, (type, types.ModuleType)):
        return describe_owner(target)
    name = getattr(target, "__qualname__", None)
    module = getattr(target, "__module__", None)
    if isinstance(name, str):
        return f"function {(module + '.' if isinstance(module, str) else '') + name!r}"
    return repr(target)


def _qualified(obj: object) -> str:
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)
    return f"{module}.{name}" if isinstance(module, str) else str(name)


@final
class CachesCleared:
    """What `clear_caches` cleared: the dotted names of the caches, in discovery order.

    Iterating, ``len()`` and ``in`` work on `names`; `skipped` lists the
    targets that ``missing_ok=True`` let through (not imported, or holding no cache).

    Examples:
        >>> import functools, saferemock as sm
        >>> @functools.cache
        ... def answer():
        ...     return 42
        >>> answer()
        42
        >>> with sm.clear_caches(answer) as cleared:
        ...     print(len(cleared), answer.cache_info().currsize)
        1 0
        >>> cleared.names[0].endswith(".answer")
        True
    """

    __slots__ = ("names", "skipped")

    def __init__(self, names: tuple[str, ...], skipped: tuple[str, ...]) -> None:
        self.names = names
        self.skipped = skipped

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __repr__(self) -> str:
        skipped = f", skipped={list(self.skipped)!r}" if self.skipped else ""
        return f"CachesCleared({list(self.names)!r}{skipped})"


@final
class ClearCaches(Activation[CachesCleared]):
    """One ``sm.clear_caches(...)``; see `clear_caches`.

    One object, active as often as it is entered: each entry clears the caches again.

    Examples:
        >>> import functools, saferemock as sm
        >>> @functools.cache
        ... def settings() -> dict[str, str]:
        ...     return {"mode": "prod"}
        >>> settings()["mode"] = "test"  # a test that wrote into a cached value
        >>> fresh_settings = sm.clear_caches(settings)
        >>> @fresh_settings
        ... def test_mode() -> str:
        ...     return settings()["mode"]
        >>> test_mode()
        'prod'
        >>> with fresh_settings:
        ...     settings.cache_info().currsize
        0
    """

    def __init__(self, targets: tuple[Target, ...], missing_ok: bool) -> None:
        __tracebackhide__ = True
        super().__init__()
        if not targets:
            raise TypeError(
                "clear_caches() needs at least one target: a module, class, function or "
                "dotted name such as 'myapp'."
            )
        for target in targets:
            if isinstance(target, str):
                if not all(part.isidentifier() for part in target.split(".")):
                    raise InvalidTargetError(
                        f"Cannot clear caches of {target!r}: a dotted name must look like "
                        "'myapp.loaders' or 'myapp.loaders.load_config'."
                    )
            elif not (isinstance(target, (type, types.ModuleType)) or callable(target)):
                raise TypeError(
                    "clear_caches() takes modules, classes, functions or dotted names, "
                    f"not {target!r}."
                )
        self._targets = targets
        self._missing_ok = missing_ok

    def describe(self) -> str:
        return f"clear_caches({', '.join(_label(t) for t in self._targets)})"

    def _discover(self, *, strict: bool) -> tuple[dict[int, tuple[str, Any]], list[str]]:
        __tracebackhide__ = True
        finder = _Finder()
        skipped: list[str] = []
        for target in self._targets:
            before = len(finder.found)
            reason = self._search(finder, target)
            if not reason and len(finder.found) == before and not self._holds_cache(target):
                reason = (
                    "it holds no functools.lru_cache or functools.cache wrapper; name the "
                    "module, class or function that has one, or pass missing_ok=True."
                )
            if reason:
                if strict and not self._missing_ok:
                    raise CacheTargetError(f"Cannot clear caches of {_label(target)}: {reason}")
                skipped.append(target if isinstance(target, str) else _qualified(target))
        return finder.found, skipped

    def _holds_cache(self, target: Target) -> bool:
        # A target whose caches an earlier target already found still holds them.
        finder = _Finder()
        self._search(finder, target)
        return bool(finder.found)

    @staticmethod
    def _search(finder: _Finder, target: Target) -> str:
        obj: object = target
        path = ""
        if isinstance(target, str):
            obj, reason = _lookup_name(target)
            if reason:
                return reason
            path = target
        if isinstance(obj, types.ModuleType):
            # The module's own name, not the path that reached it ("myapp.os" is "os"):
            # classes are searched where they are defined, and submodules by that prefix.
            finder.package(obj, vars(obj).get("__name__") or path)
        elif _is_class(obj):
            finder.klass(obj, path or _qualified(obj))  # type: ignore[arg-type]
        else:
            wrapper = _cache_in(obj)
            if wrapper is not None:
                finder.add(path or _qualified(wrapper), wrapper)
        return ""

    def apply(self, journal: Journal) -> CachesCleared:
        __tracebackhide__ = True
        found, skipped = self._discover(strict=True)
        wrappers = [wrapper for _, wrapper in found.values()]
        for wrapper in wrappers:
            wrapper.cache_clear()

        def clear_on_exit() -> None:
            # Look again: a submodule imported or a cached function defined inside the
            # block has a cache too.  The wrappers found on entry are cleared even if a
            # patch still active hides them from the new search.
            again, _ = self._discover(strict=False)
            every = {id(wrapper): wrapper for wrapper in wrappers}
            every.update((key, wrapper) for key, (_, wrapper) in again.items())
            for wrapper in every.values():
                wrapper.cache_clear()

        journal.callback(f"clearing the caches of {self.describe()}", clear_on_exit)
        return CachesCleared(tuple(path for path, _ in found.values()), tuple(skipped))


def clear_caches(*targets: Target, missing_ok: bool = False) -> ClearCaches:
    """Clear every ``functools.lru_cache``/``functools.cache`` of ``targets`` on entry and on exit.

    Targets are functions, classes, modules, or dotted names of imported modules,
    packages, classes and functions (``"myapp"``, ``"myapp.loaders.load_config"``).  A
    module is searched for cached functions and for the cached methods (plain,
    ``staticmethod``, ``classmethod``, ``property`` getters) of the classes it defines,
    nested classes included; a package adds its submodules that are already imported.
    Nothing is ever imported, and modules are read through their ``__dict__`` only, so a
    lazy module's ``__getattr__`` never runs.

    The ``with`` block gets a `CachesCleared` naming what was cleared.  A target
    that is not imported, or holds no cache, raises
    `CacheTargetError` unless ``missing_ok=True``.  On exit the same
    caches are cleared again, with any cache that appeared meanwhile.  As a decorator it
    passes no extra argument.

    Examples:
        >>> import functools, saferemock as sm
        >>> calls = []
        >>> @functools.lru_cache(maxsize=None)
        ... def load(path):
        ...     calls.append(path)
        ...     return path.upper()
        >>> load("a.txt")
        'A.TXT'
        >>> with sm.clear_caches(load):
        ...     load("a.txt")
        'A.TXT'
        >>> calls
        ['a.txt', 'a.txt']
        >>> load.cache_info().currsize
        0
    """
    __tracebackhide__ = True
    return ClearCaches(targets, missing_ok)
