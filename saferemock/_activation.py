"""One object as context manager, decorator and ``start()``/``stop()``: the shape of every primitive.

A primitive subclasses :class:`Activation` and implements :meth:`Activation._apply`, which
makes its changes through the :class:`~saferemock._undo.Journal` it is given.  This module
turns that into ``with``, ``@decorator`` (sync, ``async def`` and classes), ``start()`` and
``stop()``, and keeps the registry that :func:`stopall` and :func:`scope` work from.

Each activation is a fresh :class:`Run` with its own journal, so one object can be active
several times at once (nested ``with``, or a decorated coroutine running concurrently).
"""

from __future__ import annotations

import contextvars
import copy
import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Generic, TypeVar, overload
from unittest import mock

from typing_extensions import ParamSpec, Self, final

from saferemock._undo import Journal
from saferemock.exceptions import SaferemockError, UndoError

__all__ = ["Activation", "Run", "active_runs", "scope", "stopall"]

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")

# Runs started and not yet stopped, oldest first (a dict keeps insertion order and
# removes in O(1)).  stopall() and the pollution guard read it.
_STARTED: dict[int, Run[Any]] = {}

# The scopes open in the current context, innermost last.  A ContextVar so that two
# asyncio tasks each see their own scope.
_SCOPES: contextvars.ContextVar[tuple[scope, ...]] = contextvars.ContextVar(
    "saferemock_scopes", default=()
)


@final
class Run(Generic[T]):
    """One activation of a primitive: its journal and what it yielded."""

    __slots__ = ("activation", "journal", "manual", "stopped", "value")

    def __init__(
        self, activation: Activation[T], journal: Journal, value: T, *, manual: bool = False
    ) -> None:
        self.activation = activation
        self.journal = journal
        self.value = value
        #: Started with start(): only these are stopall()'s to stop.  A with block or a
        #: decorator stops its own run, and must not find it stopped under its feet.
        self.manual = manual
        self.stopped = False

    def stop(self, *, failed: bool = False) -> None:
        """Undo this run; stopping twice is a no-op.

        ``failed`` says an exception is already propagating, so checks that would
        raise on top of it (``require_use``) stay quiet.
        """
        if self.stopped:
            return
        self.stopped = True
        _STARTED.pop(id(self), None)
        runs = self.activation._runs
        for index in range(len(runs) - 1, -1, -1):
            if runs[index] is self:
                del runs[index]
                break
        self.activation._before_undo(failed)
        try:
            self.journal.undo()
        finally:
            if not failed:
                self.activation._after_stop(self)


def active_runs() -> list[Run[Any]]:
    """Return the runs started and not yet stopped, oldest first (for the guard)."""
    return list(_STARTED.values())


class Activation(Generic[T]):
    """Base of every primitive.

    Subclasses validate their arguments in ``__init__`` (nothing global changes at
    construction time) and make their changes in :meth:`_apply`.
    """

    #: True when the decorator passes the yielded value as an extra positional argument.
    _passes_value: bool = False

    def __init__(self) -> None:
        self._runs: list[Run[T]] = []

    # -- what subclasses provide -------------------------------------------------------

    def _apply(self, journal: Journal) -> T:
        """Make the changes through ``journal`` and return the value ``with`` yields."""
        raise NotImplementedError

    def _after_stop(self, run: Run[T]) -> None:
        """Checks that run after the undo, such as ``require_use``; may raise."""

    def _before_undo(self, failed: bool) -> None:
        """Hook run just before a run's journal is undone."""

    def _describe(self) -> str:
        return type(self).__name__

    # -- start / stop ------------------------------------------------------------------

    def start(self) -> T:
        """Apply the change and return the value; undo it later with :meth:`stop`.

        A started activation is known to :func:`stopall` and to the innermost open
        :func:`scope`.
        """
        __tracebackhide__ = True
        return self._activate(manual=True).value

    def _activate(self, *, manual: bool) -> Run[T]:
        __tracebackhide__ = True
        journal = Journal()
        try:
            value = self._apply(journal)
        except BaseException:
            # Nothing is left half-applied: undo whatever _apply recorded before failing.
            journal.undo()
            raise
        run = Run(self, journal, value, manual=manual)
        self._runs.append(run)
        _STARTED[id(run)] = run
        scopes = _SCOPES.get()
        if scopes:
            scopes[-1]._runs_inside.append(run)
        return run

    def stop(self, *, failed: bool = False) -> None:
        """Undo the most recent activation that is still active.

        Raises :class:`~saferemock.SaferemockError` when nothing is active.
        """
        __tracebackhide__ = True
        if not self._runs:
            raise SaferemockError(
                f"Cannot stop {self._describe()}: it is not active; call start() first "
                "or stop it only once."
            )
        self._runs[-1].stop(failed=failed)

    @property
    def active(self) -> bool:
        """Whether at least one activation is in force."""
        return bool(self._runs)

    # -- context manager ---------------------------------------------------------------

    def __enter__(self) -> T:
        __tracebackhide__ = True
        run = self._activate(manual=False)
        self.__dict__.setdefault("_entered", []).append(run)
        return run.value

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        __tracebackhide__ = True
        # Stop the run this with block made (a no-op if scope() or stop() got there
        # first), not whichever run happens to be newest.
        self.__dict__["_entered"].pop().stop(failed=exc_type is not None)

    # -- decorator ---------------------------------------------------------------------

    def _copy(self) -> Self:
        # Each decorated call gets its own activation, so concurrent calls of a
        # decorated coroutine never stop each other's runs.
        clone = copy.copy(self)
        clone._runs = []
        clone.__dict__.pop("_entered", None)
        return clone

    @overload
    def __call__(self, func: type[R]) -> type[R]: ...

    @overload
    def __call__(self, func: Callable[P, R]) -> Callable[..., R]: ...

    def __call__(self, func: Any) -> Any:
        """Decorate a function, an ``async def`` function, or a class's test methods."""
        if isinstance(func, type):
            return self._decorate_class(func)
        if not callable(func):
            raise TypeError(
                f"{self._describe()} can decorate a function, an async function or a class, "
                f"not {func!r}."
            )
        existing = getattr(func, "_saferemock_activations", None)
        if existing is not None:
            # Stack onto the wrapper that is already there, as unittest.mock does, so
            # extra arguments arrive innermost decorator first.
            existing.append(self)
            if self._passes_value:
                func.patchings.append(_ArgumentSlot())
            return func
        activations: list[Activation[Any]] = [self]
        if inspect.iscoroutinefunction(func):
            wrapper: Any = _async_wrapper(func, activations)
        else:
            wrapper = _sync_wrapper(func, activations)
        wrapper._saferemock_activations = activations
        # pytest counts the entries of ``patchings`` that look like a unittest.mock patch
        # with no ``new`` to know how many leading parameters are mocks, not fixtures.
        wrapper.patchings = [_ArgumentSlot()] if self._passes_value else []
        return wrapper

    def _decorate_class(self, klass: type[R]) -> type[R]:
        prefix = mock.patch.TEST_PREFIX
        for name, value in list(vars(klass).items()):
            if name.startswith(prefix) and callable(value):
                setattr(klass, name, self._copy()(value))
        return klass


@final
class _ArgumentSlot:
    """What pytest reads to skip a parameter that a decorator fills with a mock."""

    __slots__ = ()
    attribute_name = None
    new = mock.DEFAULT


class _Entered:
    """The activations a decorated call entered, stopped together in reverse order."""

    __slots__ = ("args", "runs")

    def __init__(self, activations: list[Activation[Any]]) -> None:
        self.runs: list[Run[Any]] = []
        self.args: list[Any] = []
        try:
            for activation in activations:
                run = activation._copy()._activate(manual=False)
                self.runs.append(run)
                if activation._passes_value:
                    self.args.append(run.value)
        except BaseException:
            self.stop(failed=True)
            raise

    def stop(self, *, failed: bool = False) -> None:
        runs, self.runs = self.runs, []
        _stop_runs(runs, failed=failed)


def _raise_all(errors: list[BaseException], names: list[str]) -> None:
    if not errors:
        return
    if len(errors) == 1:
        raise errors[0]
    raise UndoError(errors, names)


def _sync_wrapper(func: Callable[..., R], activations: list[Activation[Any]]) -> Callable[..., R]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        entered = _Entered(activations)
        try:
            result = func(*args, *entered.args, **kwargs)
        except BaseException:
            entered.stop(failed=True)
            raise
        entered.stop()
        return result

    return wrapper


def _async_wrapper(
    func: Callable[..., Awaitable[R]], activations: list[Activation[Any]]
) -> Callable[..., Coroutine[Any, Any, R]]:
    # The activation happens at the coroutine's first step, not when it is created, and
    # the finally runs on completion, exception, cancellation or close(), as with
    # unittest.mock's patch on an async def.
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> R:
        entered = _Entered(activations)
        try:
            result = await func(*args, *entered.args, **kwargs)
        except BaseException:
            entered.stop(failed=True)
            raise
        entered.stop()
        return result

    return wrapper


def stopall() -> None:
    """Stop every saferemock activation started with ``start()`` and still active.

    Newest first, as ``unittest.mock.patch.stopall`` does; every one is stopped even if
    some fail, and the failures are raised together as :class:`~saferemock.UndoError`.

    Example:
        >>> import json, saferemock as sm
        >>> _ = sm.patch("json.dumps").start()
        >>> _ = sm.patch("json.loads").start()
        >>> sm.stopall()
        >>> json.dumps.__module__
        'json'
    """
    __tracebackhide__ = True
    _stop_runs([run for run in _STARTED.values() if run.manual])


def _stop_runs(runs: Sequence[Run[Any] | Activation[Any]], *, failed: bool = False) -> None:
    """Stop runs (or activations' newest runs) newest first, every one, then raise.

    One failure is raised as itself; several as one :class:`~saferemock.UndoError`.
    """
    errors: list[BaseException] = []
    names: list[str] = []
    for run in reversed(runs):
        try:
            run.stop(failed=failed)
        except Exception as exc:
            errors.append(exc)
            activation = run.activation if isinstance(run, Run) else run
            names.append(f"stopping {activation._describe()}")
    _raise_all(errors, names)


def start_collecting(activation: Activation[T]) -> tuple[T, list[Run[Any]]]:
    """Start ``activation`` and return its value with every run the start made.

    The runs (its own and any nested ones) belong to the caller, not to a scope the user
    happens to have open: what a fixture starts lives until the fixture's teardown.  An
    unstarted scope pushed as the innermost one collects them; pushing it directly costs
    a fraction of ``scope().start()``/``stop()``.
    """
    __tracebackhide__ = True
    tap = scope()
    token = _SCOPES.set((*_SCOPES.get(), tap))
    try:
        value = activation.start()
    except BaseException:
        _SCOPES.reset(token)
        # start() undid its own changes; stop anything nested it left behind.
        _stop_runs([run for run in tap._runs_inside if not run.stopped], failed=True)
        raise
    _SCOPES.reset(token)
    return value, tap._runs_inside


@final
class scope(Activation[None]):
    """Collect every saferemock activation started inside and undo them all at exit.

    Works as a context manager, as a sync or ``async`` decorator, and with
    ``start()``/``stop()``.  Activations already stopped inside are skipped; the rest are
    stopped newest first, exceptions or not.

    Example:
        >>> import json, saferemock as sm
        >>> original = json.dumps
        >>> with sm.scope():
        ...     mocked = sm.patch("json.dumps").start()
        ...     json.dumps is mocked
        True
        >>> json.dumps is original
        True
    """

    def __init__(self) -> None:
        super().__init__()
        self._runs_inside: list[Run[Any]] = []
        self._failing = False

    def _copy(self) -> Self:
        clone = super()._copy()
        clone._runs_inside = []
        return clone

    def _describe(self) -> str:
        return "saferemock.scope()"

    def _apply(self, journal: Journal) -> None:
        self._runs_inside = []
        _SCOPES.set((*_SCOPES.get(), self))
        journal.callback("closing saferemock.scope()", self._close)

    def _close(self) -> None:
        # Take this scope off the context's stack by value: a token reset would fail when
        # start() and stop() run in different contexts.
        _SCOPES.set(tuple(s for s in _SCOPES.get() if s is not self))
        runs, self._runs_inside = self._runs_inside, []
        failed, self._failing = self._failing, False
        _stop_runs([run for run in runs if not run.stopped], failed=failed)

    def _before_undo(self, failed: bool) -> None:
        self._failing = failed

    def _activate(self, *, manual: bool) -> Run[None]:
        journal = Journal()
        self._apply(journal)
        run = Run(self, journal, None, manual=manual)
        self._runs.append(run)
        # A scope is not itself a leak to report, so it stays out of _STARTED; an
        # enclosing scope still closes it.
        scopes = _SCOPES.get()
        if len(scopes) > 1:
            scopes[-2]._runs_inside.append(run)
        return run
