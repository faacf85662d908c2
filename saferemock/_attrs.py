"""``sm.fresh_attr``: swap one attribute for a brand-new mock and put the original back exactly.

This is the cure for mock contamination between tests: a shared mock whose
``find.return_value`` one test set to a list and another to a mock chain cannot be
repaired by ``reset_mock()`` (it keeps a ``return_value`` that was replaced by a real
object).  A brand-new mock per activation can.

Most attributes are exactly what `Patch` already handles
(functions, methods, ``staticmethod``/``classmethod``, classes, plain values), so those go
through it with ``autospec`` forced on.  This module adds the three cases ``patch`` does
not get right:

* a ``property`` (or ``functools.cached_property``) on a class becomes a real ``property``
  driven by a `unittest.mock.PropertyMock`, so getting and setting are recorded and
  a read-only property stays read-only;
* an original that is itself a mock (``create_autospec`` refuses those) is replaced by a
  new mock of the same class with the same spec and none of the configuration;
* an attribute of a mock (``collection.find`` where ``collection`` is a shared
  ``MagicMock``) lives in the mock's child table, not its ``__dict__``, so it is swapped
  there; writing it with ``setattr`` and undoing with ``delattr`` would mark the child as
  deleted and break the shared mock for every later test.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, final
from unittest import mock

from saferemock._activation import Activation
from saferemock._autospec import create_autospec, is_mock, is_mock_like
from saferemock._missing import MISSING
from saferemock._patch import DEFAULT, patch
from saferemock._targets import dotted_target, label, locate, suggest
from saferemock._undo import Journal, describe_owner, read_attr, untouched
from saferemock.exceptions import InvalidTargetError, TargetAttributeError

__all__ = ["FreshAttr", "fresh_attr"]

# The attributes NonCallableMock._mock_add_spec writes: copying them gives a new mock the
# spec of an old one (allowed names, isinstance() answer, call signature, async methods).
_SPEC_FIELDS = ("_spec_class", "_spec_set", "_spec_signature", "_mock_methods", "_spec_asyncs")
# create_autospec puts the signature check on the mock's own per-instance class.
_SIGNATURE_FIELDS = ("_mock_check_sig", "__signature__")

_PROPERTY_TYPES = (property, functools.cached_property)


def _class_attribute(klass: type, name: str) -> object:
    """Return what ``klass`` or a base defines as ``name``, without running descriptors."""
    for base in klass.__mro__:
        if name in base.__dict__:
            return base.__dict__[name]
    return MISSING


def _return_spec(getter: object) -> type | None:
    """Return the class a property getter is annotated to return, if it is one."""
    try:
        hints = typing.get_type_hints(getter)
    except Exception:
        # Names imported only under TYPE_CHECKING, forward references to missing classes:
        # an annotation we cannot evaluate gives no spec rather than an error.
        return None
    returned = hints.get("return")
    # A parametrised generic (dict[str, int], list[Item]) specs as its class.
    returned = typing.get_origin(returned) or returned
    if isinstance(returned, type) and returned is not type(None):
        return returned
    return None


def _fresh_property(
    original: property | functools.cached_property[Any], owner: type, name: str, autospec: bool
) -> tuple[Any, property]:
    """Return (the PropertyMock the caller configures, the property that goes in the slot).

    A real ``property`` in the slot, not the ``PropertyMock`` itself: class access still
    returns a property object, and a property without setter or deleter still refuses to
    be set or deleted, with Python's own error.  Reads are recorded as ``call()``, writes
    as ``call(value)`` (the ``PropertyMock`` convention) and deletions as ``fdel()``.
    """
    getter = original.fget if isinstance(original, property) else original.func
    fresh = mock.PropertyMock(name=name)
    if autospec and getter is not None:
        returned = _return_spec(getter)
        if returned is not None:
            fresh.return_value = create_autospec(returned, instance=True)

    def fget(_self: object) -> Any:
        return fresh()

    def fset(_self: object, value: object) -> None:
        fresh(value)

    def fdel(_self: object) -> None:
        fresh.fdel()

    # A cached_property can be assigned and deleted on the instance, so its stand-in can.
    settable = not isinstance(original, property) or original.fset is not None
    deletable = not isinstance(original, property) or original.fdel is not None
    slot = property(
        fget,
        fset if settable else None,
        fdel if deletable else None,
        getattr(original, "__doc__", None),
    )
    # Python names the property in its "has no setter" message from __set_name__, which
    # class creation called for the original but nothing calls for ours.
    slot.__set_name__(owner, name)  # type: ignore[attr-defined]
    return fresh, slot


def _stand_in(function: types.FunctionType) -> Callable[..., Any]:
    """A plain function with ``function``'s name and signature, to autospec from."""

    def stand_in(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError  # pragma: no cover - only its signature is used

    stand_in.__name__ = function.__name__
    stand_in.__qualname__ = function.__qualname__
    stand_in.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]
    return stand_in


def _public_mock_class(original: mock.NonCallableMock) -> type[Any]:
    # Every mock instance gets its own subclass (NonCallableMock.__new__); the class the
    # user chose is its last base, as _get_child_mock assumes.
    return type(original).__bases__[-1]


def _fresh_mock_like(
    original: mock.NonCallableMock, owner: object, name: str, keep_spec: bool
) -> Any:
    """A new mock of the original's class and spec, with none of its configuration."""
    klass = _public_mock_class(original)
    if is_mock(owner):
        # Linked to the owner as the original child was, so calls still show up in the
        # owner's mock_calls as call.find(...).
        fresh = klass(name=name, parent=owner, _new_name=name, _new_parent=owner)
    else:
        fresh = klass(name=name)
    if keep_spec:
        state = vars(original)
        vars(fresh).update({field: state[field] for field in _SPEC_FIELDS if field in state})
        for field in _SIGNATURE_FIELDS:
            if field in type(original).__dict__:
                setattr(type(fresh), field, type(original).__dict__[field])
    return fresh


def _names(owner: object) -> list[str]:
    """The names ``owner`` has, for "did you mean" hints (read from ``__dict__``s only)."""
    if isinstance(owner, types.ModuleType):
        return list(vars(owner))
    if isinstance(owner, type):
        return [key for klass in owner.__mro__ for key in vars(klass)]
    names = [key for klass in type(owner).__mro__ for key in vars(klass)]
    try:
        names.extend(vars(owner))
    except TypeError:
        pass
    return names


def _missing(owner: object, name: str, candidates: Any) -> TargetAttributeError:
    # An unset __slots__ member is in the class __dict__ under the very name asked for.
    hint = suggest(name, [candidate for candidate in candidates if candidate != name])
    if hint:
        return TargetAttributeError(
            f"{describe_owner(owner)} has no attribute {name!r}{hint} fresh_attr replaces "
            "only attributes that exist."
        )
    return TargetAttributeError(
        f"{describe_owner(owner)} has no attribute {name!r}; fresh_attr replaces only "
        "attributes that exist, so check the name or use sm.patch(..., create=True) to add it."
    )


@final
class FreshAttr(Activation[Any]):
    """One ``sm.fresh_attr(...)``; see `fresh_attr`.

    Each activation makes a brand-new mock, so what one use configured never reaches the
    next.

    Examples:
        >>> import json, saferemock as sm
        >>> fresh_loads = sm.fresh_attr("json.loads")
        >>> with fresh_loads as loads:
        ...     loads.return_value = {"cached": True}
        ...     json.loads("{}")
        {'cached': True}
        >>> with fresh_loads as loads:
        ...     loads.return_value is None, loads.called
        (False, False)
        >>> with fresh_loads as loads:
        ...     json.loads("{}")
        <MagicMock name='loads()' id='...'>
    """

    def __init__(self, target: object, attribute: str | None, autospec: bool, new: object) -> None:
        __tracebackhide__ = True
        super().__init__()
        if isinstance(target, str):
            self._description = dotted_target(target, attribute)
        else:
            if attribute is None:
                raise InvalidTargetError(
                    f"Cannot give {target!r} a fresh attribute without its name; pass a "
                    "dotted string such as 'myapp.db.collection.find' or the object and the "
                    "name, as fresh_attr(collection, 'find')."
                )
            if not isinstance(attribute, str):
                raise TypeError(
                    f"fresh_attr() takes the attribute name as a string, not {attribute!r}."
                )
            self._description = f"{label(target)}.{attribute}"
        if not isinstance(autospec, bool):
            raise TypeError(f"fresh_attr() takes autospec=True or False, not {autospec!r}.")
        self._target = target
        self._attribute = attribute
        self._autospec = autospec
        self._new = new
        self._passes_value = new is DEFAULT

    @property
    def target(self) -> str:
        """The attribute this activation replaces, as ``'owner.name'``."""
        return self._description

    def describe(self) -> str:
        return f"fresh_attr({self._description!r})"

    def _locate(self) -> tuple[Any, str]:
        __tracebackhide__ = True
        return locate(self._target, self._attribute)

    def apply(self, journal: Journal) -> Any:
        __tracebackhide__ = True
        owner, name = self._locate()
        if is_mock(owner):
            return self._apply_to_mock(journal, owner, name)
        if not isinstance(owner, (type, types.ModuleType)):
            self._check_instance_slot(owner, name)
        original = self._original(owner, name)
        new = self._new
        if new is not DEFAULT:
            journal.setattr(owner, name, new)
            return new
        if isinstance(owner, type):
            static = _class_attribute(owner, name)
            if isinstance(static, _PROPERTY_TYPES):
                fresh, slot = _fresh_property(static, owner, name, self._autospec)
                journal.setattr(owner, name, slot)
                return fresh
            if isinstance(static, (staticmethod, classmethod)) and is_mock_like(static.__func__):
                # An outer patch or fresh_attr left a mock here, kept non-binding.
                fresh = self._fresh_from_mock(static.__func__, owner, name)
                journal.setattr(owner, name, staticmethod(fresh))
                return fresh
        if is_mock_like(original):
            fresh = self._fresh_from_mock(original, owner, name)
            journal.setattr(owner, name, fresh)
            return fresh
        # Everything else is exactly sm.patch.object with autospec: functions, bound and
        # unbound methods, staticmethod/classmethod (kept non-binding), classes, values.
        return patch.object(owner, name, autospec=self._autospec).apply(journal)

    def _fresh_from_mock(self, original: Any, owner: object, name: str) -> Any:
        """Replace a mock, or a function that ``create_autospec`` made, without copying it."""
        if is_mock(original):
            return _fresh_mock_like(original, owner, name, self._autospec)
        if not self._autospec:
            return mock.MagicMock(name=name)
        return create_autospec(_stand_in(original), _name=name)

    def _original(self, owner: Any, name: str) -> Any:
        __tracebackhide__ = True
        raw = read_attr(owner, name)
        if raw is not MISSING:
            return raw
        static = inspect.getattr_static(owner, name, MISSING)
        if static is not MISSING and not isinstance(static, types.MemberDescriptorType):
            return static
        if static is MISSING:
            # Attributes served by __getattr__ (a lazy module, a proxy object) exist too.
            value = getattr(owner, name, MISSING)
            if value is not MISSING:
                return value
        raise _missing(owner, name, _names(owner))

    def _check_instance_slot(self, owner: object, name: str) -> None:
        """Refuse instance attributes that cannot be swapped for this instance alone."""
        __tracebackhide__ = True
        klass = type(owner)
        static = _class_attribute(klass, name)
        if isinstance(static, _PROPERTY_TYPES):
            kind = "property" if isinstance(static, property) else "cached_property"
            raise InvalidTargetError(
                f"Cannot give one {klass.__qualname__!r} object a fresh {name!r}: it is a "
                f"{kind} of class {klass.__qualname__!r}, shared by every instance; use "
                f"sm.fresh_attr({klass.__qualname__}, {name!r}) instead."
            )
        try:
            vars(owner)
            has_dict = True
        except TypeError:
            has_dict = False
        if not has_dict and not isinstance(static, types.MemberDescriptorType):
            raise InvalidTargetError(
                f"Cannot give one {klass.__qualname__!r} object a fresh {name!r}: the class "
                "has __slots__ and no instance __dict__, so only its slots can change per "
                f"instance; use sm.fresh_attr({klass.__qualname__}, {name!r}) instead."
            )

    def _apply_to_mock(self, journal: Journal, owner: Any, name: str) -> Any:
        """Swap a child of a mock in the table the mock reads it from."""
        __tracebackhide__ = True
        state = vars(owner)
        if name not in state and inspect.getattr_static(type(owner), name, MISSING) is not MISSING:
            raise InvalidTargetError(
                f"Cannot give a mock a fresh {name!r}: it is part of the mock's own API, not "
                "a child mock; configure it directly or reset it with reset_mock()."
            )
        children = state["_mock_children"]
        if name in state:
            # Set by plain assignment: the instance __dict__ wins over the child table.
            # Written as an item so that mock's __setattr__ does not also file the new
            # value in the child table, where nothing would undo it.
            original = state[name]
            table = state
        else:
            original = children.get(name, MISSING)
            methods = state.get("_mock_methods")
            if original is mock._deleted or (methods is not None and name not in methods):  # type: ignore[attr-defined]
                raise _missing(owner, name, [*children, *(methods or [])])
            table = children
        fresh = self._new
        if fresh is DEFAULT:
            fresh = self._fresh_child(owner, name, original, children)
        journal.setitem(table, name, fresh)
        return fresh

    def _fresh_child(self, owner: Any, name: str, original: object, children: Any) -> Any:
        if original is MISSING or not (is_mock(original) or callable(original)):
            # Never touched, or a child spec not built yet (create_autospec's _SpecState):
            # the brand-new child is exactly what the mock makes on first access, specced
            # as the mock would spec it.  That access files the child in the table; put
            # the table back as it was at once, so the journal records the true prior state
            # and undo returns the mock to "never touched".
            with untouched(owner, name):
                made = getattr(owner, name)
            if self._autospec:
                return made
            return mock.MagicMock(name=name, parent=owner, _new_name=name, _new_parent=owner)
        if is_mock(original):
            return _fresh_mock_like(original, owner, name, self._autospec)  # type: ignore[arg-type]
        if not self._autospec:
            return mock.MagicMock(name=name)
        return create_autospec(original, _name=name)


def fresh_attr(
    target: object,
    attribute: str | None = None,
    *,
    autospec: bool = True,
    new: object = DEFAULT,
) -> FreshAttr:
    """Replace an attribute with a brand-new mock, autospecced from the original, for a block.

    ``target`` is a dotted string (``"myapp.db.collection.find"``; the owner may be any
    object reached through attributes, including a shared mock) or an object, with the
    name in ``attribute``.  Every activation makes a new mock, so nothing one test
    configured (not even a replaced ``return_value``, which ``reset_mock()`` keeps) reaches
    the next.  On exit the original is put back exactly: an inherited attribute is deleted
    again, and ``staticmethod``, ``classmethod`` and ``property`` objects come back as the
    descriptors they were.

    What the new mock is, by original:

    * function, method, class or value: ``create_autospec`` of it (a ``staticmethod`` or
      ``classmethod`` stays non-binding, as with `patch`);
    * ``property`` or ``functools.cached_property`` on a class: a
      `unittest.mock.PropertyMock`; reading records ``call()``, setting records
      ``call(value)``, and its ``return_value`` is autospecced from the getter's return
      annotation when that is a class.  A property without a setter stays read-only;
    * a mock: a new mock of the same class and spec, without its configuration;
    * a never-touched child of a mock: the child the mock would make on first access.

    ``autospec=False`` gives plain mocks instead; ``new`` puts that object in place, ``None``
    included (and the decorator then passes no extra argument).

    Examples:
        >>> import json, saferemock as sm
        >>> with sm.fresh_attr(json, "dumps") as dumps:
        ...     dumps.return_value = "{}"
        ...     json.dumps({"a": 1})
        '{}'
        >>> dumps.assert_called_once_with({"a": 1})
        >>> json.dumps({"a": 1})
        '{"a": 1}'
    """
    __tracebackhide__ = True
    return FreshAttr(target, attribute, autospec, new)
