"""``sm.spy``: record the calls of a real callable while it keeps doing what it does.

A spy is an autospecced mock whose ``side_effect`` calls the original, so a wrong call
raises ``TypeError`` before the original runs, every call is recorded, and the spy's
``spy_return``, ``spy_return_list`` and ``spy_exception`` say what the original did, as
pytest-mock's ``mocker.spy`` does.  The slot is written through the journal like any
patch, so the original comes back exactly.

What goes into the slot keeps the attribute's behaviour, by kind:

* a function, a method (on a class or on one instance), a class or a builtin: the
  autospecced mock itself, which binds ``self`` like the function it copies;
* a ``staticmethod``: the mock, as a ``staticmethod``;
* a ``classmethod``: a ``classmethod`` that calls the mock, so the original still gets
  the class it was called on (a subclass, too) while the mock records the call without
  ``cls``, as for a patched ``classmethod``;
* a ``property``: a ``property`` whose getter is the mock, which records ``call(obj)``;
  setting and deleting go to the original's setter and deleter.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import itertools
from collections.abc import Callable, Iterator
from typing import Any, final

from saferemock._activation import Activation
from saferemock._autospec import create_autospec, is_mock_like
from saferemock._missing import MISSING
from saferemock._targets import dotted_target, label, locate, suggest
from saferemock._undo import Journal, describe_owner, untouched
from saferemock.exceptions import InvalidTargetError, SaferemockError, TargetAttributeError

__all__ = ["Spy", "spy"]

# The class a spied classmethod was called on, for that spy's side effect: the mock in
# between is called without it.  A context variable, so threads and tasks do not mix.
_CALLED_ON: contextvars.ContextVar[tuple[object, type] | None] = contextvars.ContextVar(
    "saferemock_spy_called_on", default=None
)


@final
class _Record:
    """Writes what the original did onto the spy: the ``spy_*`` attributes."""

    __slots__ = ("duplicate_iterators", "side_effect", "spy")

    def __init__(self, duplicate_iterators: bool) -> None:
        self.duplicate_iterators = duplicate_iterators
        self.spy: Any = None
        self.side_effect: Any = None

    def clear(self) -> None:
        """Forget every call, as when the spy was made."""
        self.spy.spy_return = None
        self.spy.spy_return_iter = None
        self.spy.spy_return_list = []
        self.spy.spy_exception = None

    def begin(self) -> None:
        self.spy.spy_return = None
        self.spy.spy_return_iter = None
        self.spy.spy_exception = None

    def returned(self, result: Any) -> Any:
        if self.duplicate_iterators and isinstance(result, Iterator):
            # The caller consumes one copy; the spy keeps the other to look at.
            result, kept = itertools.tee(result, 2)
            self.spy.spy_return_iter = kept
        self.spy.spy_return = result
        self.spy.spy_return_list.append(result)
        return result

    def raised(self, exc: BaseException) -> None:
        self.spy.spy_exception = exc


def _side_effect(
    original: Callable[..., Any], call: Callable[..., Any], record: _Record, is_async: bool
) -> Callable[..., Any]:
    """The spy's ``side_effect``: run ``call`` (the original) and record what it did."""

    def spied(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        record.begin()
        try:
            result = call(*args, **kwargs)
        except BaseException as exc:
            record.raised(exc)
            raise
        return record.returned(result)

    async def spied_async(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        record.begin()
        try:
            result = await call(*args, **kwargs)
        except BaseException as exc:
            record.raised(exc)
            raise
        return record.returned(result)

    # updated=(): a class's __dict__ is not the wrapper's to copy.
    return functools.update_wrapper(spied_async if is_async else spied, original, updated=())


def _spied_classmethod(descriptor: classmethod[Any, Any, Any], owner: type) -> Any:
    """Call what ``descriptor`` binds to the class the spy's slot was read from."""

    def call(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        called_on = _CALLED_ON.get()
        klass = called_on[1] if called_on is not None and called_on[0] is call else owner
        return descriptor.__get__(None, klass)(*args, **kwargs)

    return call


def _classmethod_slot(
    spied: Any, call: Any, is_async: bool, original: Any
) -> classmethod[Any, Any, Any]:
    """A ``classmethod`` that hands its class to ``call`` and records through ``spied``."""

    def through_spy(cls: type, /, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        token = _CALLED_ON.set((call, cls))
        try:
            return spied(*args, **kwargs)
        finally:
            _CALLED_ON.reset(token)

    async def through_spy_async(cls: type, /, *args: Any, **kwargs: Any) -> Any:
        # async def, so the slot stays a coroutine function on every Python; the call
        # is recorded and checked when it is awaited.
        __tracebackhide__ = True
        token = _CALLED_ON.set((call, cls))
        try:
            return await spied(*args, **kwargs)
        finally:
            _CALLED_ON.reset(token)

    made = through_spy_async if is_async else through_spy
    return classmethod(functools.update_wrapper(made, original, updated=()))


def _property_slot(spied: Any, original: property) -> property:
    def fget(obj: object) -> Any:
        __tracebackhide__ = True
        return spied(obj)

    return property(fget, original.fset, original.fdel, original.__doc__)


@final
class Spy(Activation[Any]):
    """One ``sm.spy(...)``: a context manager, a decorator and ``start()``/``stop()``.

    Each activation makes a new spy; see `spy`.

    Examples:
        >>> import json, saferemock as sm
        >>> spying = sm.spy(json, "dumps")
        >>> with spying as dumps:
        ...     json.dumps([1])
        '[1]'
        >>> dumps.spy_return_list
        ['[1]']
        >>> @spying
        ... def render(dumps):
        ...     json.dumps({})
        ...     return dumps.call_count
        >>> render()
        1
    """

    _passes_value = True

    def __init__(self, target: object, attribute: str | None, duplicate_iterators: bool) -> None:
        __tracebackhide__ = True
        super().__init__()
        if isinstance(target, str):
            self._description = dotted_target(target, attribute)
        else:
            if target is None:
                raise InvalidTargetError(
                    "spy() takes the object that has the callable, not None: pass the "
                    "module, class or instance and the name, or a dotted string."
                )
            if attribute is None:
                raise InvalidTargetError(
                    f"Cannot spy on {target!r} without the name of what to spy on; pass "
                    "the object and the name, as spy(json, 'dumps'), or a dotted string "
                    "such as 'json.dumps'."
                )
            if not isinstance(attribute, str):
                raise TypeError(f"spy() takes the attribute name as a string, not {attribute!r}.")
            self._description = f"{label(target)}.{attribute}"
        self._target = target
        self._attribute = attribute
        self._duplicate_iterators = bool(duplicate_iterators)
        # The record of each spy still active, by the spy's id, for reset.
        self._records: dict[int, _Record] = {}

    @property
    def target(self) -> str:
        """What this activation spies on, as ``'owner.name'``."""
        return self._description

    def describe(self) -> str:
        return f"spy({self._description!r})"

    def _locate(self) -> tuple[Any, str]:
        __tracebackhide__ = True
        return locate(self._target, self._attribute)

    def apply(self, journal: Journal) -> Any:
        __tracebackhide__ = True
        owner, name = self._locate()
        record = _Record(self._duplicate_iterators)
        with untouched(owner, name):
            static = inspect.getattr_static(owner, name, MISSING)
            if isinstance(static, property):
                # Not read: on an instance, reading would run the getter.
                spied, slot = self._spy_property(owner, name, static, record)
            else:
                if static is MISSING and not hasattr(owner, name):
                    raise self._missing(owner, name)
                spied, slot = self._spy_callable(owner, name, static, record)
        record.spy = spied
        record.side_effect = spied.side_effect
        record.clear()
        journal.setattr(owner, name, slot)
        self._records[id(spied)] = record
        return spied

    def _spy_callable(
        self, owner: object, name: str, static: object, record: _Record
    ) -> tuple[Any, Any]:
        __tracebackhide__ = True
        original = getattr(owner, name)
        self._check_callable(original)
        if isinstance(owner, type) and isinstance(static, classmethod):
            is_async = inspect.iscoroutinefunction(static.__func__)
            call = _spied_classmethod(static, owner)
            side_effect = _side_effect(original, call, record, is_async)
            spied = create_autospec(original, _name=name, side_effect=side_effect)
            return spied, _classmethod_slot(spied, call, is_async, static.__func__)
        is_async = inspect.iscoroutinefunction(original)
        side_effect = _side_effect(original, original, record, is_async)
        spied = create_autospec(original, _name=name, side_effect=side_effect)
        # On an instance, the instance's own attribute is never bound: no wrapper needed.
        if isinstance(owner, type) and isinstance(static, staticmethod):
            return spied, staticmethod(spied)
        return spied, spied

    def _spy_property(
        self, owner: object, name: str, static: property, record: _Record
    ) -> tuple[Any, property]:
        __tracebackhide__ = True
        if not isinstance(owner, type):
            raise SaferemockError(
                f"Cannot spy on {self._description!r}: {name!r} is a property of class "
                f"{type(owner).__qualname__!r}, which an instance cannot override; spy on "
                f"the class instead, as spy({type(owner).__qualname__}, {name!r})."
            )
        getter = static.fget
        if getter is None:
            raise SaferemockError(
                f"Cannot spy on {self._description!r}: the property has no getter to wrap; "
                "spy on its setter's callers instead, or patch it."
            )
        spied = create_autospec(
            getter, _name=name, side_effect=_side_effect(getter, getter, record, False)
        )
        return spied, _property_slot(spied, static)

    def _missing(self, owner: object, name: str) -> TargetAttributeError:
        hint = suggest(name, [candidate for candidate in dir(owner) if candidate != name])
        fix = f"{hint} spy() wraps only" if hint else "; spy() wraps only"
        return TargetAttributeError(
            f"{describe_owner(owner)} has no attribute {name!r}{fix} attributes that exist."
        )

    def _check_callable(self, original: object) -> None:
        __tracebackhide__ = True
        if is_mock_like(original):
            raise SaferemockError(
                f"Cannot spy on {self._description!r}: it is a mock already (a patch or "
                "spy that is still active), which records its own calls; assert on that "
                "mock, or spy before patching."
            )
        if not callable(original):
            raise TypeError(
                f"Cannot spy on {self._description!r}: it is a {type(original).__name__!r} "
                "object, not a function, method or property; use sm.patch() to replace a "
                "value."
            )

    def closed(self, journal: Journal) -> None:
        self._records.pop(id(journal.value), None)
        super().closed(journal)

    def reset(self, value: Any, *, return_value: bool, side_effect: bool) -> None:
        super().reset(value, return_value=return_value, side_effect=side_effect)
        record = self._records[id(value)]
        if side_effect:
            # Back to calling the original, not to a plain mock.
            value.side_effect = record.side_effect
        record.clear()


def spy(target: object, attribute: str | None = None, *, duplicate_iterators: bool = False) -> Spy:
    """Wrap a real callable in an autospecced mock that records every call and still runs it.

    ``target`` is a dotted string (``"myapp.billing.charge"``) or an object, with the name
    in ``attribute``: functions, methods (on a class, which records ``self``, or on one
    instance), ``classmethod`` and ``staticmethod`` objects, ``async def`` functions,
    classes, builtins and properties (on their class; a read records ``call(obj)``).
    The spy is the mock: ``assert_called_once_with`` and friends work, a call that does
    not fit the original's signature raises ``TypeError`` without running it, and
    after each call ``spy_return`` holds what the original returned (an ``async def``'s
    awaited result), ``spy_return_list`` every result so far and ``spy_exception`` what it
    raised, or None.  With ``duplicate_iterators=True``, a returned iterator is teed and
    the spy's copy is ``spy_return_iter``.  Setting ``side_effect`` or ``return_value``
    on the spy overrides the original, as on any mock.

    When the block ends the original is back exactly, as with `patch`.

    Examples:
        >>> import json, saferemock as sm
        >>> with sm.spy("json.dumps") as dumps:
        ...     json.dumps({"a": 1})
        '{"a": 1}'
        >>> dumps.assert_called_once_with({"a": 1})
        >>> dumps.spy_return
        '{"a": 1}'
        >>> with sm.spy(json, "loads") as loads:
        ...     json.loads("{")
        Traceback (most recent call last):
        ...
        json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
        >>> type(loads.spy_exception).__name__
        'JSONDecodeError'
        >>> with sm.spy(json, "loads"):
        ...     json.loads()
        Traceback (most recent call last):
        ...
        TypeError: missing a required argument: 's'
    """
    __tracebackhide__ = True
    return Spy(target, attribute, duplicate_iterators)
