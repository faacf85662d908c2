"""Lazy ``create_autospec``: the stdlib's mocks, with children specced on first access.

``unittest.mock.create_autospec`` walks ``dir(spec)`` and builds a mock for every method up
front (tens of milliseconds for a class with a few hundred methods), and recomputes
``dir``, the coroutine scan and the signatures on every call.  This module builds the
same mocks one attribute at a time, when the attribute is first read, and keeps what it
learns about a spec (its ``dir`` list, coroutine names, signatures) in a cache that is
checked against a snapshot of the spec's namespaces, so a spec changed by a patch is
read again.

How the laziness is grafted on without changing what users see: each mock is made by
the stdlib's own ``__new__``, which gives every mock its own class; a few methods are
set on that per-mock class (``__getattr__``, ``_get_child_mock``, ...).  So
``type(m).__mro__[1]`` is still ``MagicMock`` (or ``NonCallableMagicMock``/``AsyncMock``),
and the children the stdlib makes itself are plain stdlib mocks.  Where the stdlib
differs between versions (3.12 gives methods a return value up front, 3.13 scans for
coroutines with ``getattr_static``), the running stdlib's own code computes the result,
except for the coroutine scan of an instance or module spec, done without reading any
attribute (3.13's way) on every version.

What differs, on purpose (see docs/autospec.md): attributes of an *instance* spec are
read when first read, not at creation, on every version; a method child enters ``vars(mock)`` when built;
configuration kwargs are applied after the children exist on every version (3.13's fix
of gh-90848); an ``async def`` spec checks its signature when called, also on 3.13
(gh-137594); ``async with`` on an instance mock hands out a specced object, not a bare
``AsyncMock`` whose sync methods make coroutines; a misspelt ``return_value`` or
``side_effect`` that the spec does not have is refused, not set as a new attribute.
"""

from __future__ import annotations

import builtins
import collections
import difflib
import functools
import inspect
import operator
import sys
import types
import typing
import weakref
from collections.abc import Callable
from typing import Any, final
from unittest import mock

from typing_extensions import Self

__all__ = ["create_autospec"]

# The private helpers create_autospec is made of; typeshed does not list them.
_std: Any = mock

_MagicMock: Any = mock.MagicMock
_NonCallableMagicMock: Any = mock.NonCallableMagicMock
_AsyncMock: Any = mock.AsyncMock
_DEFAULT: Any = mock.DEFAULT
_InvalidSpecError: Any = _std.InvalidSpecError
_SpecState: Any = _std._SpecState
_FUNCTION_TYPES: tuple[type, ...] = _std.FunctionTypes
_STD_GETATTR: Callable[[Any, str], Any] = _std.NonCallableMock.__getattr__
_STD_ADD_SPEC: Callable[..., None] = _std.NonCallableMock._mock_add_spec
_STD_SET_MAGICS: Callable[[Any], None] = _std.MagicMixin._mock_set_magics
_STD_CALL_SIG: Callable[[Any, str], Any] = _std.NonCallableMock._get_call_signature_from_name
_STD_SETATTR: Callable[[Any, str, Any], None] = _std.NonCallableMock.__setattr__
_LOCK: Any = _std.NonCallableMock._lock
_MAGICS: frozenset[str] = frozenset(_std._magics | _std._async_method_magics)
_ALL_MAGICS: frozenset[str] = frozenset(_std._all_magics)
_ASSERT_PREFIXES = ("assert", "assret", "asert", "aseert", "assrt")
_DENY: frozenset[str] = frozenset(getattr(_std, "_ATTRIB_DENY_LIST", ()))

# Keyword arguments that change how the mock itself is built (rather than configuring
# it): the lazy path does not model them, so the stdlib handles those calls.
_CONSTRUCTOR_ARGS = frozenset(
    {
        "spec",
        "spec_set",
        "wraps",
        "parent",
        "_spec_state",
        "_new_name",
        "_new_parent",
        "_spec_as_instance",
        "_eat_self",
        "unsafe",
    }
)
# Keyword arguments that never touch magic methods while the mock is being built, so
# the per-mock class can get only the spec's magic methods instead of all of them.
_PLAIN_CONFIG = frozenset({"return_value", "side_effect"})
# What a mock is configured with.  A name close to one of them that the spec does not
# have is a typo (`return_valu=`, `m.side_affect = ...`): the stdlib would set it as a new
# attribute and the mock would silently keep its default behaviour.
_SETTINGS = ("return_value", "side_effect")
# How close a name must be (difflib's ratio): catches `return_val`, `ret_value`,
# `side_effects`, `sideeffect`; lets `returned`, `return_code`, `reset_value` through.
_TYPO_CUTOFF = 0.85
# Exact types whose instances all share one dir(), signature and coroutine scan.
_VALUE_TYPES = frozenset({int, float, complex, str, bytes, bytearray, bool, dict, set, frozenset})
_IMMUTABLE_TYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: built-in types whose dict never changes
_CACHE_SIZE = 2048
_STATE = "_saferemock_lazy"
_MISSING: Any = object()
_SEPARATOR: Any = object()


class _Features:
    """What the running ``unittest.mock`` does, learnt once from the stdlib itself."""

    probed = False
    eager_method_return = False  # 3.12+: methods get ``return_value = child_klass()``
    scan_reads_attributes = False  # before 3.13: the coroutine scan runs every property


def _features() -> type[_Features]:
    if not _Features.probed:
        reads: list[str] = []

        class Probe:
            def method(self) -> None:
                """A method to autospec."""

            @property
            def value(self) -> None:
                reads.append("value")

        plain = mock.create_autospec(Probe)
        _Features.eager_method_return = plain.method._mock_return_value is not _DEFAULT
        _STD_ADD_SPEC(_Probe(), Probe(), False)
        _Features.scan_reads_attributes = bool(reads)
        _Features.probed = True
    return _Features


_SHADOWED: list[frozenset[str]] = []


def _shadowed_names() -> frozenset[str]:
    """Attribute names a fresh mock answers without calling ``__getattr__``."""
    if not _SHADOWED:
        names = {_STATE}
        for klass in (_MagicMock, _NonCallableMagicMock, _AsyncMock):
            names.update(dir(klass))
            names.update(klass().__dict__)
        _SHADOWED.append(frozenset(names))
    return _SHADOWED[0]


class _Probe:
    """An object with a ``__dict__`` for the stdlib's ``_mock_add_spec`` to fill in."""


@final
class _SpecInfo:
    """What ``unittest.mock`` derives from one spec, computed once per spec version."""

    __slots__ = (
        "add_spec",
        "eager",
        "function",
        "magics",
        "pending",
        "ref",
        "signatures",
        "snapshot",
    )

    def __init__(self, snapshot: Any, ref: Any) -> None:
        self.snapshot = snapshot
        self.ref = ref
        self.add_spec: dict[tuple[bool, bool], tuple[Any, Any, tuple[str, ...], tuple[str, ...]]]
        self.add_spec = {}
        self.signatures: dict[tuple[bool, bool], Any] = {}
        self.magics: frozenset[str] | None = None
        self.pending: frozenset[str] | None = None
        self.eager: tuple[str, ...] = ()
        # What _set_signature derives for a function spec: (signature, checksig), or None.
        self.function: Any = _MISSING

    def spec_data(
        self, spec: Any, as_instance: bool, eat_self: bool
    ) -> tuple[Any, Any, tuple[str, ...], tuple[str, ...]]:
        """The values ``_mock_add_spec`` stores: spec class, signature, dir, coroutines."""
        key = (as_instance, eat_self)
        data = self.add_spec.get(key)
        if data is None and self.add_spec:
            # Only the signature depends on the flags; reuse dir() and the coroutine scan.
            spec_class, _, methods, asyncs = next(iter(self.add_spec.values()))
            found = _std._get_signature_object(spec, as_instance, eat_self)
            data = (spec_class, found and found[1], methods, asyncs)
            self.add_spec[key] = data
        if data is None:
            if _stdlib_scan_runs_code(spec):
                data = _static_spec_data(spec, as_instance, eat_self)
            else:
                # Run the stdlib's own code on a stand-in, so each Python version's rules
                # (3.12 scans classes with getattr, 3.13 with getattr_static) apply unchanged.
                probe = _Probe()
                _STD_ADD_SPEC(probe, spec, False, as_instance, eat_self)
                values = probe.__dict__
                data = (
                    values["_spec_class"],
                    values["_spec_signature"],
                    tuple(values["_mock_methods"]),
                    tuple(values["_spec_asyncs"]),
                )
            self.add_spec[key] = data
            if self.magics is None:
                names = data[2]
                self.magics = _MAGICS.intersection(names)
                # What the stdlib's `for entry in dir(spec)` loop would populate; the two
                # names __getattr__ refuses before looking at children are left out.
                self.pending = frozenset(
                    name
                    for name in names
                    if not _std._is_magic(name) and name not in ("_mock_methods", "_mock_unsafe")
                )
                # Names the mock itself has (`called`, `reset_mock`, ...): reading them
                # never reaches __getattr__, so they are built up front, as the stdlib does.
                shadowed = _shadowed_names()
                self.eager = tuple(
                    name for name in names if name in self.pending and name in shadowed
                )
        return data


def _stdlib_scan_runs_code(spec: Any) -> bool:
    """Whether the stdlib's scan of ``spec`` would run its properties (instances, modules).

    Before 3.13 ``_mock_add_spec`` looks for coroutine methods with ``getattr(spec,
    name)`` for every name in ``dir(spec)``: on an instance that runs every property
    when the mock is made, and one that raises makes ``sm.patch("app.client")`` fail
    at start.  A class spec's attributes are its descriptors, read without running them.
    """
    return _features().scan_reads_attributes and not isinstance(spec, (type, *_FUNCTION_TYPES))


def _static_spec_data(
    spec: Any, as_instance: bool, eat_self: bool
) -> tuple[Any, Any, tuple[str, ...], tuple[str, ...]]:
    """What ``_mock_add_spec`` stores, with 3.13's scan: no attribute of ``spec`` is read."""
    found = _std._get_signature_object(spec, as_instance, eat_self)
    names = tuple(dir(spec))
    asyncs = tuple(name for name in names if _static_coroutine(spec, name))
    return type(spec), found and found[1], names, asyncs


def _static_coroutine(spec: Any, name: str) -> bool:
    value = inspect.getattr_static(spec, name, None)
    try:
        value = inspect.unwrap(value)
    except Exception:  # a cycle of __wrapped__, or a value whose __getattr__ fails
        pass
    return bool(_std.iscoroutinefunction(value))


def _runs_code(spec: Any, name: str) -> bool:
    """Whether reading ``spec.name`` on an instance or module spec could run its code.

    True for properties and other descriptors written in Python, and for names only
    ``__getattr__`` provides; False for plain values, functions and C-level slots such
    as ``int.real`` (which ``seal`` relies on being read).
    """
    if isinstance(spec, (type, *_FUNCTION_TYPES)):
        return False
    static = inspect.getattr_static(spec, name, _MISSING)
    if static is _MISSING or isinstance(static, property):
        return True
    getter = getattr(type(static), "__get__", None)
    return isinstance(getter, types.FunctionType)


_CACHE: collections.OrderedDict[Any, _SpecInfo] = collections.OrderedDict()


@final
class _Snapshot:
    """What ``dir(spec)``, the coroutine scan and the signatures are read from.

    Compared by identity only: ``==`` could run user code, and on a mock it would even
    record a call.
    """

    __slots__ = ("ids", "objects")

    def __init__(self, spec: Any) -> None:
        cls = type(spec)
        objects: list[Any] = [cls]
        self.ids: list[int] = []
        mros = (spec.__mro__, cls.__mro__) if isinstance(spec, type) else (cls.__mro__,)
        for mro in mros:
            objects.append(mro)
            for klass in mro:
                if not klass.__flags__ & _IMMUTABLE_TYPE:
                    values = klass.__dict__
                    objects.append(klass)
                    objects.extend(values)
                    objects.extend(values.values())
        if not isinstance(spec, type):
            try:
                own = object.__getattribute__(spec, "__dict__")
            except AttributeError:
                pass
            else:
                objects.append(_SEPARATOR)
                objects.extend(own)
                if isinstance(spec, types.ModuleType):
                    objects.extend(own.values())
                else:
                    # An instance's values are kept by id only: holding them could keep
                    # the instance alive (objects that point back at their owner) and
                    # delay its finalizers.
                    self.ids = [id(value) for value in own.values()]
        if isinstance(spec, types.FunctionType):
            objects.extend((spec.__code__, spec.__defaults__, spec.__kwdefaults__))
        self.objects = objects

    def same(self, other: _Snapshot) -> bool:
        return (
            len(self.objects) == len(other.objects)
            and all(map(operator.is_, self.objects, other.objects))
            and self.ids == other.ids
        )


def _anchor(spec: Any) -> tuple[Any, Any]:
    """The object a cache entry lives as long as, and the object whose snapshot is taken."""
    if isinstance(spec, types.MethodType):
        # Bound methods are new objects on every attribute read; what the stdlib derives
        # from one depends only on the function it wraps.
        return spec.__func__, spec.__func__
    if type(spec) in _VALUE_TYPES:
        return type(spec), spec
    return spec, spec


def is_mock(obj: object) -> bool:
    """Tell a mock object, whatever spec it claims.

    ``type()``, not ``isinstance()``: ``isinstance()`` asks ``obj.__class__``, which a mock
    with a spec answers with the spec's class.
    """
    return issubclass(type(obj), mock.NonCallableMock)


def is_mock_like(obj: object) -> bool:
    """Tell a mock, or the signature-checking function autospec makes of a function.

    ``create_autospec(function)`` returns a real function with the mock on ``.mock``;
    autospeccing it again would walk that mock and fail with "Cannot spec a Mock object".
    """
    return is_mock(obj) or (type(obj) is types.FunctionType and is_mock(vars(obj).get("mock")))


def reset_mock(obj: object, *, return_value: bool = False, side_effect: bool = False) -> None:
    """Reset a mock, or the function autospec makes of a function, as ``Mock.reset_mock`` does.

    The function's own ``reset_mock()`` takes no arguments, and its mock reads
    ``return_value`` and ``side_effect`` from the function, so those are put back here:
    resetting one must not depend on whether the spec was a function or a class.
    """
    made: Any = obj
    if is_mock(made):
        made.reset_mock(return_value=return_value, side_effect=side_effect)
    elif is_mock_like(made):
        made.reset_mock()
        if return_value:
            made.return_value = _DEFAULT
        if side_effect:
            made.side_effect = None


def _forget(key: Any) -> Callable[[Any], None]:
    # Hold the cache in the closure: at interpreter shutdown the module global may
    # already be None when the last weakrefs die.
    cache = _CACHE

    def drop(ref: Any) -> None:
        info = cache.get(key)
        if info is not None and info.ref is ref:
            cache.pop(key, None)

    return drop


def _info_for(spec: Any) -> _SpecInfo:
    anchor, snapshotted = _anchor(spec)
    # The kind keeps a method's function, a value's type and those objects as specs
    # of their own from sharing an entry.
    kind = "method" if type(spec) is types.MethodType else "value" if anchor is not spec else ""
    key = (kind, id(anchor))
    try:
        snapshot = _Snapshot(snapshotted)
    except Exception:  # an exotic namespace: work without the cache
        return _SpecInfo(None, None)
    info = _CACHE.get(key)
    if info is not None and info.ref() is anchor and snapshot.same(info.snapshot):
        _CACHE.move_to_end(key)
        return info
    try:
        ref = weakref.ref(anchor, _forget(key))
    except TypeError:
        return _SpecInfo(None, None)
    info = _SpecInfo(snapshot, ref)
    _CACHE[key] = info
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return info


@final
class _Lazy:
    """Per-mock state, stored on the mock's own class (one class per mock)."""

    __slots__ = (
        "constructing",
        "data",
        "fast_magics",
        "info",
        "is_type",
        "key",
        "methods",
        "ready",
        "return_klass",
        "return_spec",
        "returns_reset",
        "spec",
        "spec_set",
        "unsafe",
    )

    def __init__(
        self, spec: Any, spec_set: Any, is_type: bool, info: _SpecInfo, unsafe: bool = False
    ) -> None:
        self.spec = spec
        self.spec_set = spec_set
        self.is_type = is_type
        self.info = info
        self.key = (False, False)
        self.data: Any = None
        self.methods: Any = None
        self.constructing = True
        self.fast_magics = True
        self.ready = False
        self.return_spec = False
        self.return_klass: Any = None
        self.returns_reset = False
        self.unsafe = unsafe


def _state(mock_: Any) -> _Lazy:
    state: _Lazy = type(mock_).__dict__[_STATE]
    return state


def _lazy_add_spec(
    self: Any, spec: Any, spec_set: Any, _spec_as_instance: bool = False, _eat_self: bool = False
) -> None:
    state = _state(self)
    if state.constructing and spec is state.spec and (_spec_as_instance, _eat_self) == state.key:
        spec_class, signature, methods, asyncs = state.data
        values = self.__dict__
        values["_spec_class"] = spec_class
        values["_spec_set"] = spec_set
        values["_spec_signature"] = signature
        values["_mock_methods"] = state.methods = list(methods)
        values["_spec_asyncs"] = list(asyncs)
        return
    _STD_ADD_SPEC(self, spec, spec_set, _spec_as_instance, _eat_self)


def _lazy_set_magics(self: Any) -> None:
    state = _state(self)
    if state.constructing and state.fast_magics:
        # The stdlib first sets all ~80 magic methods on the class, then deletes those
        # the spec lacks: two passes of class-attribute writes that dominate the cost of
        # a specced mock.  Without kwargs to configure nothing can tell the difference.
        cls = type(self)
        present = cls.__dict__
        for entry in state.info.magics or ():
            if entry not in present:
                setattr(cls, entry, _std.MagicProxy(entry, self))
        return
    _STD_SET_MAGICS(self)


def _lazy_get_child_mock(self: Any, /, **kw: Any) -> Any:
    state = _state(self)
    if (
        state.ready
        and len(kw) == 2
        and kw.get("_new_name") == "()"
        and kw.get("_new_parent") is self
    ):
        # The return value the stdlib would have set eagerly, made when first read.
        if state.return_spec:
            state.return_spec = False
            return create_autospec(
                state.spec,
                state.spec_set,
                instance=True,
                _name="()",
                _parent=self,
                unsafe=state.unsafe,
            )
        klass = state.return_klass
        if klass is not None:
            state.return_klass = None
            return klass()
    child = super(type(self), self)._get_child_mock(**kw)
    if kw.get("_new_name") == "__aenter__" and isinstance(child, _AsyncMock):
        entered = _entered_value(self, state, child)
        if entered is not _MISSING:
            child.return_value = entered
    return child


def _entered_value(parent: Any, state: _Lazy, aenter: Any) -> Any:
    """What ``async with`` on an instance mock should hand out.

    The stdlib's ``__aenter__`` returns a bare ``AsyncMock``, whose every attribute is
    async too: a sync method called on it makes a coroutine nobody awaits.  An
    ``async def __aenter__`` almost always returns ``self``; its annotation says so or
    names what it returns instead (see `_entered_kind`).
    """
    if state.is_type and not state.key[0]:
        return _MISSING  # a class mock: `async with` applies to its instances
    cls = state.spec if state.is_type else type(state.spec)
    enter = inspect.getattr_static(cls, "__aenter__", None)
    if not _std.iscoroutinefunction(enter):
        return _MISSING
    kind = _entered_kind(enter, cls)
    if kind is _SELF:
        return parent
    if isinstance(kind, type):
        return create_autospec(kind, state.spec_set, True, aenter, "()", unsafe=state.unsafe)
    return kind  # None, or _MISSING: the stdlib's AsyncMock


# What _entered_kind answers for "the object itself" (``return self``).
_SELF: Any = object()
# typing.Self (3.11+) and typing_extensions.Self (its own object before 3.11).
_SELF_FORMS: tuple[Any, ...] = tuple(
    {id(form): form for form in (Self, getattr(typing, "Self", Self))}.values()
)


def _entered_kind(enter: Any, cls: type) -> Any:
    """What ``cls.__aenter__`` returns, read from its annotations.

    ``_SELF`` for the object itself: no return annotation, ``Self`` (typing or
    typing_extensions), ``cls`` or one of its bases, a TypeVar that also annotates
    ``self`` (httpx: ``async def __aenter__(self: U) -> U``), or a TypeVar bound to
    ``cls`` or a base.  Another class: that class, to autospec.  ``-> None``: None.
    Anything else (a union, an unbound TypeVar): ``_MISSING``.  String annotations
    (``from __future__ import annotations``, forward references) are evaluated where
    the function was written; a name that only a type checker can resolve is judged by
    its text.
    """
    try:
        function = inspect.unwrap(enter)
        annotations = dict(getattr(function, "__annotations__", None) or {})
        parameters = list(inspect.signature(function).parameters.values())
    except Exception:  # no signature, or annotations that fail to build
        return _MISSING
    if "return" not in annotations:
        return _SELF
    owner = next((klass for klass in cls.__mro__ if "__aenter__" in vars(klass)), cls)
    namespace = getattr(function, "__globals__", {})
    returned = _resolve(annotations["return"], namespace, owner)
    first = parameters[0].name if parameters else ""
    if first in annotations and _same_annotation(
        _resolve(annotations[first], namespace, owner), returned
    ):
        return _SELF  # `self: U -> U`: returns what it was called on
    if isinstance(returned, typing.TypeVar):
        bound = returned.__bound__
        if bound is None:
            return _MISSING
        module = sys.modules.get(getattr(returned, "__module__", ""))
        returned = _resolve(bound, vars(module) if module else namespace, owner)
        if not (isinstance(returned, type) and issubclass(cls, returned)) and not (
            isinstance(returned, str) and _names_a_base(returned, cls)
        ):
            return _MISSING  # some subclass of another class: too vague to spec
    origin = typing.get_origin(returned)
    if isinstance(origin, type):
        returned = origin  # `-> Session[T]`
    if returned is None or returned is type(None):
        return None
    if any(returned is form for form in _SELF_FORMS):
        return _SELF
    if isinstance(returned, type):
        return _SELF if issubclass(cls, returned) else returned
    if isinstance(returned, str):
        if returned == "None":
            return None
        if _names_a_base(returned, cls) or returned.rsplit(".", 1)[-1] == "Self":
            return _SELF
    return _MISSING


def _resolve(annotation: Any, namespace: dict[str, Any], owner: type) -> Any:
    """An annotation as an object, or as its stripped text when it cannot be evaluated."""
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if not isinstance(annotation, str):
        return annotation
    try:
        # What inspect.signature(eval_str=True) does, with the class body's names too.
        return eval(annotation, dict(namespace), dict(vars(owner)))
    except Exception:  # a name only a type checker can resolve: judge the text
        return annotation.strip().strip("'\"").strip()


def _same_annotation(first: Any, second: Any) -> bool:
    if isinstance(first, str) or isinstance(second, str):
        return isinstance(first, str) and isinstance(second, str) and first == second
    return isinstance(first, typing.TypeVar) and first is second


def _names_a_base(text: str, cls: type) -> bool:
    """Whether an unevaluated annotation names ``cls`` or one of its bases."""
    name = text.rsplit(".", 1)[-1]
    return any(klass.__name__ == name for klass in cls.__mro__ if klass is not object)


@functools.lru_cache(maxsize=4096)
def _setting_typo(name: str) -> str | None:
    """The mock setting that ``name`` misspells (``return_valu``: ``return_value``), or None."""
    if name.startswith("_") or name in _SETTINGS:
        return None
    close = difflib.get_close_matches(name, _SETTINGS, n=1, cutoff=_TYPO_CUTOFF)
    return close[0] if close else None


def _typo_error(mock_name: str, name: str, setting: str) -> AttributeError:
    return AttributeError(
        f"Cannot set {name!r} on {mock_name}: its spec has no such attribute; did you mean "
        f"{setting!r}? Pass unsafe=True to set it anyway."
    )


def _check_setting_keywords(spec: Any, kwargs: dict[str, Any], name: Any) -> None:
    """Refuse ``return_valu=`` and the like before a mock is built from them."""
    __tracebackhide__ = True
    for key in kwargs:
        setting = _setting_typo(key)
        if setting is not None and key not in dir(spec):
            raise _typo_error(str(name or "mock"), key, setting)


def _lazy_setattr(self: Any, name: str, value: Any) -> None:
    # Every `mock.x = value` (and configure_mock, and kwargs) comes through here: keep
    # the common case to one cached lookup.
    setting = _setting_typo(name)
    if setting is not None:
        methods = self.__dict__.get("_mock_methods")
        if methods is not None and name not in methods and not _state(self).unsafe:
            __tracebackhide__ = True
            raise _typo_error(self._extract_mock_name(), name, setting)
    _STD_SETATTR(self, name, value)


def _lazy_reset_mock(
    self: Any, visited: Any = None, *, return_value: bool = False, side_effect: bool = False
) -> None:
    if return_value and (visited is None or id(self) not in visited):
        # The eagerly made return values would be dropped here; so are the pending ones.
        state = _state(self)
        state.return_spec = False
        state.return_klass = None
        state.returns_reset = True
    super(type(self), self).reset_mock(visited, return_value=return_value, side_effect=side_effect)


def _stdlib_looks_up(self: Any, state: _Lazy, name: str) -> bool:
    """Whether ``NonCallableMock.__getattr__`` would go on to read ``_mock_children``."""
    methods = self.__dict__["_mock_methods"]
    if methods is state.methods:
        return True
    if methods is not None:
        return name in methods and name not in _ALL_MAGICS
    if self.__dict__.get("_mock_unsafe"):
        return True
    return not name.startswith(_ASSERT_PREFIXES) and name not in _DENY


def _lazy_getattr(self: Any, name: str) -> Any:
    state = _state(self)
    if state.ready and name in (state.info.pending or ()):
        children = self.__dict__["_mock_children"]
        found = children.get(name)
        if (found is None or type(found) is _SpecState) and _stdlib_looks_up(self, state, name):
            with _LOCK:
                found = children.get(name)
                if found is None:
                    _build_child(self, state, name, children)
                elif type(found) is _SpecState:
                    _build_from_spec_state(self, name, found, children)
    return _STD_GETATTR(self, name)


def _lazy_call_signature(self: Any, name: str) -> Any:
    # assert_has_calls & co. read signatures straight from _mock_children; make the
    # method children on that path exist, as they would with the eager stdlib.
    if name:
        current = self
        for part in name.replace("()", "").split("."):
            children = current._mock_children
            child = children.get(part)
            if child is None:
                state = type(current).__dict__.get(_STATE)
                if state is None or not state.ready or part not in (state.info.pending or ()):
                    break
                with _LOCK:
                    if part not in children:
                        _build_child(current, state, part, children, methods_only=True)
                child = children.get(part)
            if child is None or isinstance(child, _SpecState):
                break
            current = _std._extract_mock(child)
    return _STD_CALL_SIG(self, name)


def _build_child(
    parent: Any,
    state: _Lazy,
    name: str,
    children: dict[str, Any],
    methods_only: bool = False,
    eager: bool = False,
) -> None:
    """Make the child the stdlib's ``for entry in dir(spec)`` loop makes for ``name``."""
    if (eager or methods_only) and _runs_code(state.spec, name):
        # Not read for the user: a property of an instance spec runs when it is read.
        return
    try:
        original = getattr(state.spec, name)
    except AttributeError:
        return  # the stdlib skips it too; __getattr__ then makes a plain child
    if isinstance(original, _FUNCTION_TYPES):
        _build_method(parent, state, name, original, children)
        return
    if methods_only:
        return
    # _SpecState(original, spec_set, mock, entry, instance) binds `instance` to its `ids`
    # slot, so the stdlib always materialises these children with instance=False.
    pending = _SpecState(original, state.spec_set, parent, name)
    if eager:
        children[name] = pending
    else:
        _build_from_spec_state(parent, name, pending, children)


def _build_from_spec_state(parent: Any, name: str, pending: Any, children: dict[str, Any]) -> None:
    """What ``NonCallableMock.__getattr__`` does with a ``_SpecState``, but lazily."""
    state = type(parent).__dict__.get(_STATE)
    try:
        child = create_autospec(
            pending.spec,
            pending.spec_set,
            pending.instance,
            pending.parent,
            pending.name,
            unsafe=state is not None and state.unsafe,
        )
    except _InvalidSpecError:
        target = parent.__dict__["_mock_name"] or parent
        raise _InvalidSpecError(
            f"Cannot autospec attr {name!r} from target {target!r} as it has already "
            f"been mocked out. [target={parent!r}, attr={pending.spec!r}]"
        )
    children[name] = child


def _mark_self_similar(child: Any, name: str) -> None:
    """Give ``child`` the ``_SpecState`` the eager stdlib would hold under ``name``.

    ``unittest.mock.seal`` stops recursing into a child whose own child of the same name
    is a ``_SpecState`` (``int.real.real...``, a node's ``.next``); without it, sealing a
    lazy mock of such a spec would recurse forever.
    """
    state = type(child).__dict__.get(_STATE)
    if state is None or name not in (state.info.pending or ()):
        return
    children = child.__dict__["_mock_children"]
    if name in children or _runs_code(state.spec, name):
        return
    try:
        inner = getattr(state.spec, name)
    except AttributeError:
        return
    if not isinstance(inner, _FUNCTION_TYPES):
        children[name] = _SpecState(inner, state.spec_set, child, name)


def _build_method(
    parent: Any, state: _Lazy, name: str, original: Any, children: dict[str, Any]
) -> None:
    skipfirst = _std._must_skip(state.spec, name, state.is_type)
    klass = _AsyncMock if _std.iscoroutinefunction(original) else _MagicMock
    kwargs = {
        "parent": parent,
        "name": name,
        "_new_name": name,
        "_new_parent": parent,
        "spec_set" if state.spec_set else "spec": original,
        "_eat_self": skipfirst,
    }
    info = _info_for(original)
    child_state = _Lazy(original, state.spec_set, False, info, state.unsafe)
    child = _construct(klass, child_state, kwargs, lazy=False)
    children[name] = child
    if _features().eager_method_return and not state.returns_reset:
        child_state.return_klass = klass
    child_state.ready = True
    _apply_signature(info, original, child, skipfirst, False)
    # The stdlib's loop ends with `if isinstance(new, FunctionTypes): setattr(mock, entry,
    # new)`, true for method children (their __class__ is the function's), so they live
    # in the parent's __dict__ too; later reads skip __getattr__.
    setattr(parent, name, child)


def _apply_signature(
    info: _SpecInfo, spec: Any, mock_: Any, skipfirst: bool, instance: bool
) -> None:
    """``_check_signature(spec, mock, skipfirst, instance)``, with its result cached."""
    key = (instance, skipfirst)
    found = info.signatures.get(key, _MISSING)
    if found is _MISSING:
        _std._check_signature(spec, mock_, skipfirst, instance)
        values = type(mock_).__dict__
        found = None
        if "_mock_check_sig" in values:
            found = (values["_mock_check_sig"], values["__signature__"])
        info.signatures[key] = found
    elif found is not None:
        cls = type(mock_)
        cls._mock_check_sig = found[0]
        cls.__signature__ = found[1]


def _construct(klass: Any, state: _Lazy, kwargs: dict[str, Any], lazy: bool) -> Any:
    """``klass(**kwargs)``, with the lazy methods on the per-mock class."""
    spec = state.spec
    parent = kwargs.get("parent")
    eat_self = kwargs.get("_eat_self")
    state.key = (
        bool(kwargs.get("_spec_as_instance", False)),
        parent is not None if eat_self is None else eat_self,
    )
    state.data = state.info.spec_data(spec, *state.key)
    new = klass.__new__(klass, **kwargs)
    cls = type(new)
    setattr(cls, _STATE, state)
    cls._mock_add_spec = _lazy_add_spec
    cls._mock_set_magics = _lazy_set_magics
    cls._get_child_mock = _lazy_get_child_mock
    cls.reset_mock = _lazy_reset_mock
    setattr(cls, "__setattr__", _lazy_setattr)  # noqa: B010 - not the instance's __setattr__
    if lazy:
        cls.__getattr__ = _lazy_getattr
        cls._get_call_signature_from_name = _lazy_call_signature
    new.__init__(**kwargs)
    state.constructing = False
    return new


def _check_async_calls_eagerly(made: Any, original: Any) -> Any:
    """Rebuild 3.13's ``async def`` stand-in for an async function as a plain function.

    Python 3.13 wraps an autospecced ``async def`` in an ``async def`` so that
    ``inspect.iscoroutinefunction`` is true, which moved the signature check and the
    call record to the first ``await`` (CPython gh-137594): a wrong call no longer
    raises where it is made.  A plain function marked as a coroutine function keeps both
    at call time, as on 3.10-3.12, and still passes ``iscoroutinefunction``.
    """
    inner = made.mock
    func, sig = _std._get_signature_object(original, False, isinstance(original, type))

    def checksig(*args: Any, **kwargs: Any) -> None:
        sig.bind(*args, **kwargs)

    _std._copy_func_details(func, checksig)
    context: dict[str, Any] = {"_checksig_": checksig, "mock": inner}
    source = f"def {made.__name__}(*args, **kwargs):\n    _checksig_(*args, **kwargs)\n"
    source += "    return mock(*args, **kwargs)"
    exec(source, context)
    funcopy = context[made.__name__]
    _std._setup_func(funcopy, inner, sig)
    _std._setup_async_mock(funcopy)
    return inspect.markcoroutinefunction(funcopy)  # type: ignore[attr-defined,unused-ignore]


_FUNCOPY_CODE: dict[str, types.CodeType] = {}
_FUNCOPY_SOURCE = (
    "def {}(*args, **kwargs):\n    _checksig_(*args, **kwargs)\n    return mock(*args, **kwargs)"
)
# 3.13's stdlib makes the stand-in of an ``async def`` an ``async def`` itself.
_ASYNC_STAND_IN: bool = hasattr(_std, "_set_async_signature")
_BUILTINS: dict[str, Any] = vars(builtins)


def _funcopy_code(name: str) -> types.CodeType:
    """The code of ``_set_signature``'s stand-in, compiled once per name instead of per mock."""
    code = _FUNCOPY_CODE.get(name)
    if code is None:
        context: dict[str, Any] = {}
        exec(_FUNCOPY_SOURCE.format(name), context)
        code = _FUNCOPY_CODE[name] = context[name].__code__
    return code


def _function_signature(info: _SpecInfo, spec: Any) -> Any:
    """``_set_signature``'s (signature, checksig) for ``spec``, or None; kept per spec."""
    found = info.function
    if found is _MISSING:
        found = None
        result = _std._get_signature_object(spec, False, False)
        if result is not None:
            func, sig = result

            def checksig(*args: Any, **kwargs: Any) -> None:
                sig.bind(*args, **kwargs)

            _std._copy_func_details(func, checksig)
            found = (sig, checksig)
        info.function = found
    return found


def _autospec_function(
    spec: Any, spec_set: Any, _parent: Any, _name: Any, unsafe: bool, kwargs: dict[str, Any]
) -> Any:
    """The stdlib's autospec of a function, from what is cached about ``spec``.

    Same objects as ``create_autospec(function)`` builds: a stdlib mock specced from the
    function, and a plain function that checks the signature, then calls it.  The stdlib
    recomputes ``dir(function)``, a coroutine scan of it and the signature twice, sets and
    then deletes ~80 magic methods and compiles the stand-in with ``exec``, per mock; here
    those come from the cache and a stored code object.  None where the stdlib gives no
    stand-in (no signature): it then builds the result itself.
    """
    info = _info_for(spec)
    found = _function_signature(info, spec)
    if found is None:
        return None
    sig, checksig = found
    is_async = _std._is_async_func(spec)
    klass = _AsyncMock if is_async else _MagicMock
    state = _Lazy(spec, spec_set, False, info, unsafe)
    state.fast_magics = _PLAIN_CONFIG.issuperset(kwargs)
    inner = _construct(
        klass,
        state,
        {
            "parent": _parent,
            "_new_parent": _parent,
            "_new_name": "" if _parent is None else _name,
            "name": _name,
            "spec_set" if spec_set else "spec": spec,
            **kwargs,
        },
        lazy=False,
    )
    name = spec.__name__
    if not name.isidentifier():
        name = "funcopy"
    context = {"_checksig_": checksig, "mock": inner, "__builtins__": _BUILTINS}
    funcopy = types.FunctionType(_funcopy_code(name), context, name)
    _std._setup_func(funcopy, inner, sig)
    if is_async:
        _std._setup_async_mock(funcopy)
        if _ASYNC_STAND_IN:
            # A plain function marked as a coroutine function, as _check_async_calls_eagerly
            # makes: checks and records the call where it is made (gh-137594).
            inspect.markcoroutinefunction(funcopy)  # type: ignore[attr-defined,unused-ignore]
    if _parent is not None:
        _parent._mock_children[_name] = funcopy
    return funcopy


def create_autospec(
    spec: Any,
    spec_set: Any = False,
    instance: bool = False,
    _parent: Any = None,
    _name: Any = None,
    *,
    unsafe: bool = False,
    **kwargs: Any,
) -> Any:
    """Autospec ``spec`` as `unittest.mock.create_autospec` does, but lazily.

    Same arguments, same ``unittest.mock`` objects, and it rejects what the stdlib's
    mock rejects (wrong call signatures raise ``TypeError``, unknown attributes
    ``AttributeError``) with the same messages.  Methods and attributes are specced when
    first read, and what is learnt about a class (its ``dir``, coroutine methods,
    signatures) is reused by the next mock of it.  Two stdlib bugs are not reproduced:
    kwargs such as ``**{"return_value.get.return_value": 1}`` are applied on every
    version (3.10-3.12 drop them), and a mocked ``async def`` checks its arguments when
    called on 3.13 too (3.13 waits for the ``await``).  And ``async with`` on an
    instance mock hands out what the real ``__aenter__`` is annotated to return: the
    mock itself when unannotated or annotated ``Self``, the class, or a TypeVar of
    ``self`` (httpx's ``-> U``), rather than a bare ``AsyncMock``.  A keyword argument or
    attribute assignment that misspells ``return_value`` or ``side_effect``
    (``return_valu=1``) raises ``AttributeError`` unless the spec has that name or
    ``unsafe=True`` is given.

    Examples:
        >>> import http.client, saferemock as sm
        >>> conn = sm.create_autospec(http.client.HTTPConnection)
        >>> conn("example.com").request("GET", "/")
        <MagicMock name='mock().request()' id='...'>
        >>> conn.return_value.request.assert_called_once_with("GET", "/")
        >>> conn("example.com").request("GET")
        Traceback (most recent call last):
        ...
        TypeError: missing a required argument: 'url'
        >>> conn.return_value.no_such_method
        Traceback (most recent call last):
        ...
        AttributeError: Mock object has no attribute 'no_such_method'
    """
    __tracebackhide__ = True
    if _std._is_list(spec):
        spec = type(spec)
    if not unsafe:
        _check_setting_keywords(spec, kwargs, kwargs.get("name", _name))
    made = _without_laziness(spec, spec_set, instance, _parent, _name, unsafe, kwargs)
    if made is not None:
        return made
    return _lazy_autospec(spec, spec_set, instance, _parent, _name, unsafe, kwargs)


def _without_laziness(
    spec: Any,
    spec_set: Any,
    instance: bool,
    parent: Any,
    name: Any,
    unsafe: bool,
    kwargs: dict[str, Any],
) -> Any:
    """The autospec of a spec with nothing to be lazy about, or None to build one lazily."""
    if type(spec) in _FUNCTION_TYPES and not instance and _PLAIN_CONFIG.issuperset(kwargs):
        made = _autospec_function(spec, spec_set, parent, name, unsafe, kwargs)
        if made is not None:
            return made
    if not (
        spec is None
        or _std._is_instance_mock(spec)
        or isinstance(spec, _FUNCTION_TYPES)
        or _std._is_async_func(spec)
        or inspect.isdatadescriptor(spec)
        or not _CONSTRUCTOR_ARGS.isdisjoint(kwargs)
    ):
        return None
    # Nothing to be lazy about, or an option the lazy path does not model.
    made = mock.create_autospec(spec, spec_set, instance, parent, name, unsafe=unsafe, **kwargs)
    # type() rather than isinstance(): a mock specced from a function claims to be one.
    if type(made) is types.FunctionType and made.__code__.co_flags & inspect.CO_COROUTINE:
        return _check_async_calls_eagerly(made, spec)
    return made


def _lazy_autospec(
    spec: Any,
    spec_set: Any,
    instance: bool,
    _parent: Any,
    _name: Any,
    unsafe: bool,
    kwargs: dict[str, Any],
) -> Any:
    """Build the mock of a class or an object whose attributes are specced when read."""
    _features()
    is_type = isinstance(spec, type)
    spec_kwargs: dict[str, Any] = {"spec_set": spec} if spec_set else {"spec": spec}
    if instance:
        spec_kwargs["_spec_as_instance"] = True
    if not unsafe:
        _std._check_spec_arg_typos(kwargs)
    _name = kwargs.pop("name", _name)
    new_name = "" if _parent is None else _name
    spec_kwargs.update(kwargs)

    if not _std._callable(spec) or (is_type and instance and not _std._instance_callable(spec)):
        klass = _NonCallableMagicMock
    else:
        klass = _MagicMock

    info = _info_for(spec)
    state = _Lazy(spec, spec_set, is_type, info, unsafe)
    state.fast_magics = _PLAIN_CONFIG.issuperset(kwargs)
    new = _construct(
        klass,
        state,
        {
            "parent": _parent,
            "_new_parent": _parent,
            "_new_name": new_name,
            "name": _name,
            **spec_kwargs,
        },
        lazy=True,
    )
    _apply_signature(info, spec, new, is_type, instance)
    if _parent is not None and not instance:
        _parent._mock_children[_name] = new
    _settle_children(new, state, instance, kwargs)
    state.ready = True
    if _parent is not None:
        _mark_self_similar(new, "return_value" if _name == "()" else _name)
    if kwargs:
        # Python 3.13 applies kwargs again once the children exist (gh-90848); before,
        # `return_value.method.return_value=...` was silently dropped.  saferemock
        # applies them on every version: a mock must do what it was configured to do.
        new.configure_mock(**kwargs)
    return new


def _settle_children(new: Any, state: _Lazy, instance: bool, kwargs: dict[str, Any]) -> None:
    """Put what the constructor's kwargs configured in step with what the stdlib builds."""
    spec, info = state.spec, state.info
    children = new.__dict__["_mock_children"]
    if children:
        # Children that kwargs configured while the mock was built: the stdlib's loop
        # replaces them with specced ones afterwards, so they go back to pending.
        for entry in [entry for entry in children if entry in (info.pending or ())]:
            try:
                getattr(spec, entry)
            except AttributeError:
                continue
            del children[entry]
    if state.is_type and not instance and "return_value" not in kwargs:
        if new.__dict__["_mock_return_value"] is _DEFAULT:
            state.return_spec = True
        else:  # kwargs configured `return_value.x`: the stdlib replaces it, so do we
            new.return_value = create_autospec(
                spec, state.spec_set, instance=True, _name="()", _parent=new, unsafe=state.unsafe
            )
    for entry in info.eager:
        _build_child(new, state, entry, children, eager=True)
