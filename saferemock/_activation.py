"""One object as context manager, decorator and ``start()``/``stop()``: the shape of every primitive.

A primitive subclasses `Activation` and implements `Activation.apply`, which
makes its changes through the `Journal` it is given; a composite
primitive applies its parts into that same journal.  This module turns ``apply`` into
``with``, ``@decorator`` (functions, ``async def``, generators, async generators and
classes), ``start()`` and ``stop()``, and provides `scope` and `stopall`.

Every use opens a journal of its own, a child of the current scope, so one object can be
active several times at once: nested ``with`` blocks, a decorated coroutine running in
several tasks, the same patch object entered by two threads.  Which ``with`` block a
``__exit__`` ends is kept per thread and task in a context variable.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator
from typing import Any, Generic, ParamSpec, TypeVar, final, overload
from unittest import mock

from saferemock._autospec import is_mock_like, reset_mock
from saferemock._undo import (
    ROOT,
    Journal,
    close_all,
    current_scope,
    leave_scope,
    set_scope,
)
from saferemock.exceptions import SaferemockError

__all__ = ["Activation", "scope", "stopall"]

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")

# The journals of the with blocks open in this thread or task, innermost last.
_ENTERED: contextvars.ContextVar[tuple[Journal, ...]] = contextvars.ContextVar(
    "saferemock_entered", default=()
)


class Activation(Generic[T]):
    """Base of every primitive.

    Subclasses validate their arguments in ``__init__`` (nothing global changes at
    construction time) and make their changes in `apply`.
    """

    #: True when the decorator passes the yielded value as an extra positional argument.
    _passes_value: bool = False
    #: True when the yielded value is a dict the decorator passes as keyword arguments.
    _passes_keywords: bool = False

    def __init__(self) -> None:
        self._journals: list[Journal] = []

    # -- what subclasses provide -------------------------------------------------------

    def apply(self, journal: Journal) -> T:
        """Make the changes through ``journal`` and return the value ``with`` yields."""
        raise NotImplementedError

    def describe(self) -> str:
        """Name this activation for messages and reports."""
        return type(self).__name__

    def mocks(self, value: T) -> list[Any]:
        """The mocks in ``value``, what one activation yielded: what ``SafeMock.resetall`` resets.

        ``SafeMock.stop(mock)`` also finds the activation that made a mock by them.
        """
        return [value] if is_mock_like(value) else []

    def reset(self, value: T, *, return_value: bool, side_effect: bool) -> None:
        """Reset the mocks of one activation that yielded ``value``, keeping what it works by.

        A primitive whose mock works through its ``side_effect`` (``fake_open``, a spy)
        keeps it, so resetting never turns it into a plain mock.
        """
        for made in self.mocks(value):
            reset_mock(made, return_value=return_value, side_effect=side_effect)

    # -- journals ----------------------------------------------------------------------

    def open(self, kind: str, parent: Journal | None = None) -> Journal:
        """Apply into a new child journal of ``parent`` (the current scope by default).

        Nothing is left half-applied: if `apply` fails, what it recorded is undone
        and the journal leaves the tree before the error propagates.
        """
        __tracebackhide__ = True
        journal = Journal(parent if parent is not None else current_scope(), kind, self)
        try:
            journal.value = self.apply(journal)
        except BaseException:
            journal.close(failed=True)
            raise
        self._journals.append(journal)
        return journal

    def closed(self, journal: Journal) -> None:
        """Forget ``journal``: it was closed (called by the journal itself)."""
        try:
            self._journals.remove(journal)
        except ValueError:
            pass  # it failed to apply, and was never added

    @property
    def active(self) -> bool:
        """Whether at least one use of this object is in force."""
        return bool(self._journals)

    # -- start / stop ------------------------------------------------------------------

    def start(self) -> T:
        """Apply the change and return the value; undo it later with `stop`.

        What ``start()`` began is also ended by `stopall`, and by the
        `scope` that is open when it starts.
        """
        __tracebackhide__ = True
        return self.open("start").value  # type: ignore[no-any-return]

    def stop(self) -> None:
        """Undo the most recent ``start()`` of this object that is still active.

        Raises `SaferemockError` when nothing started is active.
        """
        __tracebackhide__ = True
        for journal in reversed(list(self._journals)):
            if journal.kind == "start":
                journal.close()
                return
        raise SaferemockError(
            f"Cannot stop {self.describe()}: it is not active; call start() first or stop "
            "it only once."
        )

    # -- context manager ---------------------------------------------------------------

    def __enter__(self) -> T:
        __tracebackhide__ = True
        journal = self.open("with")
        _ENTERED.set((*_ENTERED.get(), journal))
        return journal.value  # type: ignore[no-any-return]

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        __tracebackhide__ = True
        entered = _ENTERED.get()
        for index in range(len(entered) - 1, -1, -1):
            if entered[index].activation is self:
                journal = entered[index]
                _ENTERED.set(entered[:index] + entered[index + 1 :])
                break
        else:
            # Exited from another thread or task than it was entered in.
            entered_here = [j for j in self._journals if j.kind == "with"]
            if not entered_here:
                return
            journal = entered_here[-1]
        journal.close(failed=exc_type is not None)

    # -- decorator ---------------------------------------------------------------------

    @overload
    def __call__(self, func: type[R]) -> type[R]: ...

    @overload
    def __call__(self, func: Callable[P, R]) -> Callable[..., R]: ...

    def __call__(self, func: Any) -> Any:
        """Decorate a function, an ``async def`` function, a generator or a class's test methods."""
        if isinstance(func, type):
            return self._decorate_class(func)
        if not callable(func):
            raise TypeError(
                f"{self.describe()} can decorate a function, an async function, a generator "
                f"or a class, not {func!r}."
            )
        existing = getattr(func, "_saferemock_activations", None)
        if existing is not None:
            # Stack onto the wrapper that is already there, as unittest.mock does, so
            # extra arguments arrive innermost decorator first.
            existing.append(self)
            if self._passes_value:
                func.patchings.append(_ArgumentSlot())
            return func
        return _decorate(func, [self])

    def _decorate_class(self, klass: type[R]) -> type[R]:
        # dir(), as unittest.mock does, so inherited test methods are patched too.  Each
        # gets a wrapper of its own: stacking onto an inherited wrapper would patch the
        # base class's test as well.
        prefix = mock.patch.TEST_PREFIX
        for name in dir(klass):
            if not name.startswith(prefix):
                continue
            value = getattr(klass, name)
            if not callable(value):
                continue
            activations = getattr(value, "_saferemock_activations", None)
            if activations is not None:
                setattr(klass, name, _decorate(value.__wrapped__, [*activations, self]))
            else:
                setattr(klass, name, _decorate(value, [self]))
        return klass


@final
class _ArgumentSlot:
    """What pytest reads to skip a parameter that a decorator fills with a mock."""

    __slots__ = ()
    attribute_name = None
    new = mock.DEFAULT


def _decorate(func: Callable[..., Any], activations: list[Activation[Any]]) -> Any:
    if inspect.isasyncgenfunction(func):
        wrapper: Any = _async_generator_wrapper(func, activations)
    elif inspect.isgeneratorfunction(func):
        wrapper = _generator_wrapper(func, activations)
    elif inspect.iscoroutinefunction(func):
        wrapper = _async_wrapper(func, activations)
    else:
        wrapper = _sync_wrapper(func, activations)
    wrapper._saferemock_activations = activations
    # pytest counts the entries of ``patchings`` that look like a unittest.mock patch
    # with no ``new`` to know how many leading parameters are mocks, not fixtures.
    wrapper.patchings = [_ArgumentSlot() for a in activations if a._passes_value]
    return wrapper


@final
class _Call:
    """One decorated call: a journal, and one part in it per stacked activation."""

    __slots__ = ("args", "journal", "kwargs")

    def __init__(self, activations: list[Activation[Any]]) -> None:
        __tracebackhide__ = True
        self.journal = Journal(current_scope(), "decorator")
        self.args: list[Any] = []
        self.kwargs: dict[str, Any] = {}
        try:
            for activation in activations:
                part = activation.open("part", self.journal)
                if activation._passes_value:
                    self.args.append(part.value)
                elif activation._passes_keywords:
                    # As unittest.mock's patch.multiple: these win over the caller's.
                    self.kwargs.update(part.value)
        except BaseException:
            self.journal.close(failed=True)
            raise


def _sync_wrapper(func: Callable[..., R], activations: list[Activation[Any]]) -> Callable[..., R]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        __tracebackhide__ = True
        call = _Call(activations)
        try:
            result = func(*args, *call.args, **{**kwargs, **call.kwargs})
        except BaseException:
            call.journal.close(failed=True)
            raise
        call.journal.close()
        return result

    return wrapper


def _async_wrapper(
    func: Callable[..., Awaitable[R]], activations: list[Activation[Any]]
) -> Callable[..., Coroutine[Any, Any, R]]:
    # The activation happens at the coroutine's first step, not when it is created, and
    # the undo on completion, exception, cancellation or close(), as with unittest.mock's
    # patch on an async def.
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> R:
        __tracebackhide__ = True
        call = _Call(activations)
        try:
            result = await func(*args, *call.args, **{**kwargs, **call.kwargs})
        except BaseException:
            call.journal.close(failed=True)
            raise
        call.journal.close()
        return result

    return wrapper


def _generator_wrapper(
    func: Callable[..., Generator[Any, Any, Any]], activations: list[Activation[Any]]
) -> Callable[..., Generator[Any, Any, Any]]:
    # Active from the first next() to exhaustion, an exception or close(): for the whole
    # life of each generator object (a pytest yield fixture: setup to teardown).
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        __tracebackhide__ = True
        call = _Call(activations)
        try:
            result = yield from func(*args, *call.args, **{**kwargs, **call.kwargs})
        except BaseException:
            call.journal.close(failed=True)
            raise
        call.journal.close()
        return result

    return wrapper


def _async_generator_wrapper(
    func: Callable[..., AsyncIterator[Any]], activations: list[Activation[Any]]
) -> Callable[..., AsyncIterator[Any]]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        __tracebackhide__ = True
        call = _Call(activations)
        try:
            inner: Any = func(*args, *call.args, **{**kwargs, **call.kwargs})
            # No "yield from" for async generators: forward what the caller sends or throws.
            try:
                value = await inner.__anext__()
            except StopAsyncIteration:
                value = _DONE
            while value is not _DONE:
                try:
                    sent = yield value
                except GeneratorExit:
                    await inner.aclose()
                    raise
                except BaseException as exc:
                    try:
                        value = await inner.athrow(exc)
                    except StopAsyncIteration:
                        value = _DONE
                else:
                    try:
                        value = await inner.asend(sent)
                    except StopAsyncIteration:
                        value = _DONE
        except BaseException:
            call.journal.close(failed=True)
            raise
        call.journal.close()

    return wrapper


_DONE: Any = object()


def stopall() -> None:
    """Stop everything started with ``start()`` that nothing else owns, newest first.

    As ``unittest.mock.patch.stopall``, for saferemock's activations; what a
    ``SafeMock``, a fixture, a marker or the ini options started is theirs to undo and is
    left alone, and so are ``with`` blocks and decorated calls.  Every one is stopped even
    if some fail; the failures are raised together as `UndoError`.

    Examples:
        >>> import json, saferemock as sm
        >>> _ = sm.patch("json.dumps").start()
        >>> _ = sm.patch("json.loads").start()
        >>> sm.stopall()
        >>> json.dumps.__module__
        'json'
    """
    __tracebackhide__ = True
    started: list[Journal] = []
    pending = [ROOT]
    while pending:
        for child in pending.pop().children():
            if child.kind == "safemock" or child.holder is not None:
                continue
            if child.kind == "start":
                started.append(child)
            else:
                pending.append(child)
    close_all(reversed(started))


@final
class scope(Activation[None]):
    """Collect every saferemock activation started inside and undo them all at exit.

    Works as a context manager, as a sync or ``async`` decorator, and with
    ``start()``/``stop()``.  What ``start()`` begins while the scope is the current one
    (in this thread or task) belongs to it; activations already stopped inside are
    skipped, and the rest are stopped newest first, exceptions or not.

    Examples:
        >>> import json, saferemock as sm
        >>> original = json.dumps
        >>> with sm.scope():
        ...     mocked = sm.patch("json.dumps").start()
        ...     json.dumps is mocked
        True
        >>> json.dumps is original
        True
    """

    def describe(self) -> str:
        return "saferemock.scope()"

    def apply(self, journal: Journal) -> None:
        previous = current_scope()
        # Recorded first, so it runs last: the activations inside are undone by then.
        journal.callback("closing saferemock.scope()", lambda: leave_scope(journal, previous))
        set_scope(journal)
