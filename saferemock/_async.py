"""Async mock factories: one call each for the awaitables that hand-made mocks get wrong.

Every factory returns a plain `unittest.mock` object, so ``assert_awaited_once_with``
and friends work: an ``AsyncMock`` for things that are awaited, and a ``Mock`` with only
the async protocol configured for the context manager and the iterator.  A ``Mock``
rather than a ``MagicMock`` there on purpose: a ``MagicMock`` also answers ``with``,
``for`` and ``len()``, so code that forgot an ``async`` would pass silently.

No factory changes global state (put the mock in place with ``sm.patch(..., new=...)``),
and none creates a coroutine before the code under test calls the mock, so a mock that
is never used leaves no "coroutine ... was never awaited" warning behind.  Awaiting an
``AsyncMock`` runs a coroutine that never suspends and touches no event loop, which is
why the same objects work under asyncio, trio and anyio.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn, TypeAlias, Union, final
from unittest import mock

from saferemock.exceptions import SequenceExhaustedError

__all__ = [
    "async_context_manager",
    "async_iterator",
    "async_raise",
    "async_return",
    "async_sequence",
]

ExceptionLike: TypeAlias = Union[BaseException, "type[BaseException]"]


# -- validation ------------------------------------------------------------------------


def _is_exception(value: object) -> bool:
    return isinstance(value, BaseException) or (
        isinstance(value, type) and issubclass(value, BaseException)
    )


def _check_exception(factory: str, what: str, value: object) -> None:
    __tracebackhide__ = True
    if not _is_exception(value):
        raise TypeError(
            f"{factory}() needs {what} to be an exception class or instance, not {value!r}; "
            "pass for example TimeoutError or TimeoutError('slow')."
        )
    klass = value if isinstance(value, type) else type(value)
    if issubclass(klass, StopIteration):
        # PEP 479: a StopIteration that escapes a coroutine becomes a RuntimeError, so
        # the code under test would never see the exception the test asked for.
        raise TypeError(
            f"{factory}() cannot raise {value!r}: Python turns a StopIteration raised inside "
            "a coroutine into RuntimeError; raise StopAsyncIteration or another exception."
        )


def _is_async_callable(spec: object) -> bool:
    if inspect.iscoroutinefunction(spec):
        return True
    # An instance whose class defines ``async def __call__``.
    if isinstance(spec, type) or not callable(spec):
        return False
    return inspect.iscoroutinefunction(type(spec).__call__)


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _is_unbound_method(spec: object) -> bool:
    """Tell whether ``spec`` is a method taken from its class, such as ``Client.get``.

    The mock is not a descriptor, so when it replaces ``Client.get`` an instance's call
    ``client.get(url)`` reaches it without ``self``: the check must skip that parameter.
    """
    # type() rather than isinstance(): a mock with a function spec claims that class.
    if type(spec) is not types.FunctionType:
        return False
    owner = spec.__qualname__.rpartition(".")[0]
    if not owner or owner.endswith("<locals>"):
        return False
    params = list(inspect.signature(spec).parameters.values())
    return bool(params) and params[0].name == "self" and params[0].kind in _POSITIONAL


def _signature(spec: Callable[..., Any]) -> inspect.Signature | None:
    try:
        sig = inspect.signature(spec)
    except (TypeError, ValueError):
        return None
    if _is_unbound_method(spec):
        sig = sig.replace(parameters=list(sig.parameters.values())[1:])
    return sig


def _enforce_signature(target: mock.NonCallableMock, sig: inspect.Signature) -> None:
    def checksig(_self: object, /, *args: Any, **kwargs: Any) -> None:
        __tracebackhide__ = True
        sig.bind(*args, **kwargs)

    # Every mock has a class of its own (NonCallableMock.__new__), so this reaches only
    # ``target``.  CallableMixin.__call__ runs _mock_check_sig before it records the call
    # or builds the coroutine: a wrong call raises TypeError on the line that makes it and
    # leaves nothing behind to await.  The same hook create_autospec uses.
    setattr(type(target), "_mock_check_sig", checksig)  # noqa: B010 - a class attribute
    setattr(type(target), "__signature__", sig)  # noqa: B010
    # Lets assert_awaited_with match url="x" against a call made as get("x").
    target.__dict__["_spec_signature"] = sig


def _spec_label(spec: object) -> str:
    name = getattr(spec, "__qualname__", None)
    return name if isinstance(name, str) else repr(spec)


def _awaitable_mock(factory: str, spec: Callable[..., Any] | None, **kwargs: Any) -> mock.AsyncMock:
    __tracebackhide__ = True
    if spec is None:
        return mock.AsyncMock(**kwargs)
    if not _is_async_callable(spec):
        raise TypeError(
            f"{factory}() needs spec to be an async def function or method, not {spec!r}; "
            "pass the coroutine function that the mock stands in for."
        )
    result = mock.AsyncMock(spec=spec, **kwargs)
    sig = _signature(spec)
    if sig is not None:
        _enforce_signature(result, sig)
    return result


# -- awaitables --------------------------------------------------------------------------

# What next() returns when the items run out; a private object, so None can be an item.
_END = object()


def async_return(value: Any = None, *, spec: Callable[..., Any] | None = None) -> mock.AsyncMock:
    """Return an ``AsyncMock`` that, called and awaited, returns ``value``.

    With ``spec`` (an ``async def`` function or method) the call is checked against its
    signature, so a wrong call raises ``TypeError`` where it is made, before any await.
    A method taken from its class (``Client.get``) is checked without ``self``, since
    the mock replaces it unbound.  ``value`` is stored as is: a mock passed in is not
    re-parented.

    Examples:
        >>> import asyncio, saferemock as sm
        >>> async def fetch_user(user_id: int) -> dict[str, str]: ...
        >>> fetch = sm.async_return({"name": "Alice"}, spec=fetch_user)
        >>> asyncio.run(fetch(1))
        {'name': 'Alice'}
        >>> fetch.assert_awaited_once_with(1)
        >>> fetch(1, 2)
        Traceback (most recent call last):
        ...
        TypeError: too many positional arguments
    """
    __tracebackhide__ = True
    return _awaitable_mock("async_return", spec, return_value=value)


def async_raise(exc: ExceptionLike, *, spec: Callable[..., Any] | None = None) -> mock.AsyncMock:
    """Return an ``AsyncMock`` that, called and awaited, raises ``exc`` (a class or instance).

    ``spec`` works as for `async_return`.

    Examples:
        >>> import asyncio, saferemock as sm
        >>> connect = sm.async_raise(ConnectionError("refused"))
        >>> asyncio.run(connect("db"))
        Traceback (most recent call last):
        ...
        ConnectionError: refused
        >>> connect.assert_awaited_once_with("db")
    """
    __tracebackhide__ = True
    _check_exception("async_raise", "exc", exc)
    return _awaitable_mock("async_raise", spec, side_effect=exc)


@final
class _Sequence:
    """The side effect behind `async_sequence`: one item per await, then a clear error.

    The stdlib's iterator side effect turns exhaustion into a bare ``StopAsyncIteration``,
    which an ``async for`` in the code under test mistakes for a normal end.
    """

    __slots__ = ("_awaits", "_count", "_items", "_label")

    def __init__(self, items: tuple[Any, ...], label: str) -> None:
        self._items: Iterator[Any] = iter(items)
        self._count = len(items)
        self._awaits = 0
        self._label = label

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._awaits += 1
        item: Any = next(self._items, _END)
        if item is _END:
            self._exhausted()
        if _is_exception(item):
            raise item
        return item

    def _exhausted(self) -> NoReturn:
        noun = "item" if self._count == 1 else "items"
        raise SequenceExhaustedError(
            f"The async_sequence of {self._count} {noun}{self._label} is exhausted: await "
            f"number {self._awaits} has no item left; pass one item for every await the "
            "code under test makes."
        )

    def __repr__(self) -> str:
        noun = "item" if self._count == 1 else "items"
        return f"<async_sequence of {self._count} {noun}>"


def async_sequence(*items: Any, spec: Callable[..., Any] | None = None) -> mock.AsyncMock:
    """Return an ``AsyncMock`` whose awaits return ``items`` one by one.

    An exception class or instance among the items is raised at its turn.  One await
    past the last item raises `SequenceExhaustedError`, never a bare
    ``StopIteration``/``StopAsyncIteration`` that the code under test could mistake for
    the end of an iteration.  ``spec`` works as for `async_return`.

    Examples:
        >>> import asyncio, saferemock as sm
        >>> get = sm.async_sequence(TimeoutError, "ok")
        >>> async def retry() -> str:
        ...     while True:
        ...         try:
        ...             return await get("/health")
        ...         except TimeoutError:
        ...             pass
        >>> asyncio.run(retry())
        'ok'
        >>> get.await_count
        2
    """
    __tracebackhide__ = True
    for item in items:
        if _is_exception(item):
            _check_exception("async_sequence", "every exception item", item)
    label = "" if spec is None else f" for {_spec_label(spec)}"
    return _awaitable_mock("async_sequence", spec, side_effect=_Sequence(items, label))


# -- async context manager -----------------------------------------------------------------


@final
class _Exit:
    """The side effect of ``__aexit__``: note the exception seen, say whether to suppress it."""

    __slots__ = ("_owner", "_suppress")

    def __init__(self, owner: mock.Mock, suppress: bool) -> None:
        self._owner = owner
        self._suppress = suppress

    def __call__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        self._owner.exception = exc if exc is not None else exc_type
        return self._suppress


def async_context_manager(
    enter: Any = None, *, raises: ExceptionLike | None = None, suppress: bool = False
) -> mock.Mock:
    """Return a mock for ``async with X as v`` (and for ``async with X(...) as v``).

    ``__aenter__`` returns ``enter`` (or raises ``raises``); ``__aexit__`` stores the
    exception it saw in ``.exception`` (``None`` after a clean exit) and returns
    ``suppress``.  Calling the mock returns the mock itself, so it can replace a class
    such as ``httpx.AsyncClient`` directly; the call's arguments are recorded.  Both
    ``__aenter__`` and ``__aexit__`` are ``AsyncMock`` children, so their awaits can be
    asserted.  Plain ``with`` and ``for`` fail, as they would on the real object.

    Examples:
        >>> import asyncio, saferemock as sm
        >>> session = sm.async_context_manager(enter="connection")
        >>> async def use() -> str:
        ...     async with session(timeout=5) as conn:
        ...         return conn
        >>> asyncio.run(use())
        'connection'
        >>> session.assert_called_once_with(timeout=5)
        >>> session.__aexit__.assert_awaited_once_with(None, None, None)
        >>> print(session.exception)
        None
    """
    __tracebackhide__ = True
    if raises is not None:
        _check_exception("async_context_manager", "raises", raises)
    manager = mock.Mock()
    manager.return_value = manager
    manager.exception = None
    # Built with the value in the constructor: assigning return_value later would adopt
    # a caller's mock as a child and rename it.
    if raises is not None:
        manager.__aenter__ = mock.AsyncMock(side_effect=raises)
    else:
        manager.__aenter__ = mock.AsyncMock(return_value=enter)
    manager.__aexit__ = mock.AsyncMock(side_effect=_Exit(manager, bool(suppress)))
    return manager


# -- async iterator ------------------------------------------------------------------------


@final
class _Items:
    """The items of an `async_iterator`, taken from the iterable once, on demand.

    Every iteration (the mock's own, and one per call) reads them from here, so a
    generator given as ``items`` is consumed lazily and only once, yet each call
    still starts from the first item.
    """

    __slots__ = ("_seen", "_source")

    def __init__(self, source: Iterator[Any]) -> None:
        self._source: Iterator[Any] | None = source
        self._seen: list[Any] = []

    def get(self, index: int) -> Any:
        while index >= len(self._seen):
            if self._source is None:
                return _END
            item: Any = next(self._source, _END)
            if item is _END:
                self._source = None
                return _END
            self._seen.append(item)
        return self._seen[index]


@final
class _Iteration:
    """One pass over the items: where it is, and whether it was closed."""

    __slots__ = ("_items", "_position", "closed")

    def __init__(self, items: _Items) -> None:
        self._items = items
        self._position = 0
        self.closed = False

    def anext(self) -> Any:
        if self.closed:
            raise StopAsyncIteration
        item: Any = self._items.get(self._position)
        if item is _END:
            # Inside __anext__ this is the protocol's own end signal, not a leak.
            raise StopAsyncIteration
        self._position += 1
        if _is_exception(item):
            raise item
        return item

    def aclose(self) -> None:
        self.closed = True


def _make_iterator(iterator: mock.NonCallableMock, items: _Items) -> None:
    state = _Iteration(items)
    # Given to the constructor: assigning return_value would adopt the iterator as a
    # child of its own __aiter__.
    iterator.__aiter__ = mock.Mock(return_value=iterator)
    iterator.__anext__ = mock.AsyncMock(side_effect=state.anext)
    iterator.aclose = mock.AsyncMock(side_effect=state.aclose)


@final
class _Calls:
    """The side effect of calling an `async_iterator`: a fresh iterator per call.

    The iterator becomes the mock's ``return_value`` (the stdlib then returns it and
    parents it as ``()``), so what the code under test does with the iterator of any
    call shows in the mock's ``mock_calls`` as ``call().__anext__()``.  The first one
    is made with the mock, so ``return_value`` is an iterator before the first call.
    """

    __slots__ = ("_items", "_next", "_owner")

    def __init__(self, owner: mock.Mock, items: _Items) -> None:
        self._owner = owner
        self._items = items
        self._next: mock.NonCallableMock | None = None
        self._prepare()

    def _prepare(self) -> None:
        fresh = mock.NonCallableMock()
        _make_iterator(fresh, self._items)
        self._owner.return_value = fresh
        self._next = fresh

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._next is None or self._owner.return_value is not self._next:
            self._prepare()
        self._next = None  # handed out: the next call makes another
        return mock.DEFAULT

    def __repr__(self) -> str:
        return "<async_iterator calls>"


def async_iterator(items: Iterable[Any], *, spec: Callable[..., Any] | None = None) -> mock.Mock:
    """Return a mock async iterator: ``async for`` yields ``items`` in order.

    Exception items are raised at their turn (iteration can go on after them);
    ``await it.aclose()`` ends the iteration, as on an async generator.  The mock serves
    both as an async iterator (the ``return_value`` of a method that returns one) and
    as the replacement of an async generator function: each call returns a fresh
    iterator over the same items, as each call of an async generator function returns
    a new generator.  With ``spec`` (that function or method) calls are checked against
    its signature.  The mock itself is single-use, like a generator object.  ``items``
    is read lazily, and only once, however many iterations there are.

    Call records follow ``unittest.mock``: ``__anext__`` and ``aclose`` are ``AsyncMock``
    children, on the mock for its own iteration and on ``return_value`` (the iterator the
    last call returned) for the calls; ``mock_calls`` lists every call's steps, as
    ``call(...)``, ``call().__anext__()``, ``call().aclose()``.

    Examples:
        >>> import asyncio, saferemock as sm
        >>> async def pages(query: str): yield []
        >>> fake = sm.async_iterator([["a", "b"], ["c"]], spec=pages)
        >>> async def collect(query: str) -> list[str]:
        ...     return [row async for page in fake(query) for row in page]
        >>> asyncio.run(collect("q"))
        ['a', 'b', 'c']
        >>> asyncio.run(collect("again"))  # a fresh iterator for each call
        ['a', 'b', 'c']
        >>> fake.call_args_list
        [call('q'), call('again')]
        >>> fake.return_value.__anext__.await_count  # the last call's iterator
        3
    """
    __tracebackhide__ = True
    try:
        source = iter(items)
    except TypeError:
        raise TypeError(
            f"async_iterator() needs an iterable of items, not {items!r}; pass a list such "
            "as [page1, page2]."
        ) from None
    iterator = mock.Mock()
    if spec is not None:
        if not callable(spec) or _is_async_callable(spec):
            raise TypeError(
                f"async_iterator() needs spec to be an async generator function or a method "
                f"that returns an async iterator, not {spec!r}; for an async def that must "
                "be awaited first, use async_return(async_iterator(...), spec=...)."
            )
        sig = _signature(spec)
        if sig is not None:
            _enforce_signature(iterator, sig)
    shared = _Items(source)
    _make_iterator(iterator, shared)
    iterator.side_effect = _Calls(iterator, shared)
    return iterator
