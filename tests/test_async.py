"""The async factories: behaviour, errors, and no stray coroutines.

The ``check_*`` coroutines hold the behaviour; each runs three ways: on asyncio and trio
through anyio's pytest plugin, and under pytest-asyncio.  Synchronous tests cover what
happens at call time (errors raised before any await) and drive the mocks' coroutines by
hand with :func:`run_now`, which also proves they never suspend or touch an event loop.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import itertools
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any
from unittest import mock

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import saferemock as sm

# -- harness -------------------------------------------------------------------------------


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run_now(awaitable: Awaitable[Any]) -> Any:
    """Run an awaitable that must finish without suspending; return its result."""
    coro = awaitable.__await__()
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise AssertionError("the awaitable suspended: it waits for an event loop")


class RateLimited(Exception):
    pass


class Client:
    async def get(self, url: str, *, params: dict[str, str] | None = None) -> str:
        raise AssertionError("the real client must not run in tests")

    @staticmethod
    async def ping(host: str) -> bool:
        raise AssertionError("the real client must not run in tests")

    async def pages(self, query: str, *, size: int = 10) -> AsyncIterator[list[str]]:
        raise AssertionError("the real client must not run in tests")
        yield []  # pragma: no cover - makes this an async generator

    def stream(self, query: str) -> AsyncIterator[str]:
        raise AssertionError("the real client must not run in tests")

    def close(self) -> None:
        raise AssertionError("the real client must not run in tests")


async def fetch_user(user_id: int, *, fields: tuple[str, ...] = ()) -> dict[str, Any]:
    raise AssertionError("the real function must not run in tests")


class AsyncCallable:
    async def __call__(self, key: str) -> str:
        raise AssertionError("the real object must not run in tests")


# -- the checks, run on every backend ----------------------------------------------------


async def check_async_return() -> None:
    fetch = sm.async_return({"id": 1}, spec=fetch_user)
    assert await fetch(1) == {"id": 1}
    assert await fetch(2, fields=("name",)) == {"id": 1}
    fetch.assert_awaited_with(2, fields=("name",))
    assert fetch.await_count == 2


async def check_async_return_default_is_none() -> None:
    assert await sm.async_return()() is None


async def check_async_raise() -> None:
    connect = sm.async_raise(ConnectionError("refused"), spec=fetch_user)
    with pytest.raises(ConnectionError, match=r"^refused$"):
        await connect(1)
    connect.assert_awaited_once_with(1)


async def check_async_sequence() -> None:
    get = sm.async_sequence("a", TimeoutError, ValueError("bad"), "b", spec=Client.get)
    assert await get("/1") == "a"
    with pytest.raises(TimeoutError):
        await get("/2")
    with pytest.raises(ValueError, match=r"^bad$"):
        await get("/3")
    assert await get("/4") == "b"
    with pytest.raises(sm.SequenceExhaustedError) as info:
        await get("/5")
    assert str(info.value) == (
        "The async_sequence of 4 items for Client.get is exhausted: await number 5 has no "
        "item left; pass one item for every await the code under test makes."
    )
    assert [c.args for c in get.await_args_list] == [("/1",), ("/2",), ("/3",), ("/4",), ("/5",)]


async def check_async_context_manager() -> None:
    conn = mock.NonCallableMock(name="conn")
    session = sm.async_context_manager(enter=conn)
    async with session(timeout=5) as entered:
        assert entered is conn
    session.assert_called_once_with(timeout=5)
    session.__aenter__.assert_awaited_once_with()
    session.__aexit__.assert_awaited_once_with(None, None, None)
    assert session.exception is None


async def check_async_context_manager_records_the_exception() -> None:
    session = sm.async_context_manager()
    error = KeyError("row")
    with pytest.raises(KeyError):
        async with session() as entered:
            assert entered is None
            raise error
    assert session.exception is error
    session.__aexit__.assert_awaited_once_with(KeyError, error, mock.ANY)
    # A later clean exit resets what the last exit saw.
    async with session:
        pass
    assert session.exception is None
    assert session.__aexit__.await_count == 2


async def check_async_context_manager_suppress() -> None:
    session = sm.async_context_manager(suppress=True)
    async with session:
        raise OSError("swallowed")
    assert isinstance(session.exception, OSError)


async def check_async_context_manager_raises() -> None:
    session = sm.async_context_manager(enter="unused", raises=PermissionError("denied"))
    with pytest.raises(PermissionError, match=r"^denied$"):
        async with session():
            raise AssertionError("the body must not run")  # pragma: no cover
    session.__aenter__.assert_awaited_once_with()
    session.__aexit__.assert_not_awaited()


async def check_async_iterator() -> None:
    pages = sm.async_iterator([["a"], RateLimited("slow down"), ["b"], RateLimited, ["c"]])
    seen: list[object] = []
    errors: list[type[BaseException]] = []
    while True:
        try:
            async for page in pages:
                seen.append(page)
            break
        except RateLimited as exc:
            errors.append(type(exc))
    assert seen == [["a"], ["b"], ["c"]]
    assert errors == [RateLimited, RateLimited]
    assert pages.__anext__.await_count == 6


async def check_async_iterator_as_async_generator_function() -> None:
    stream = sm.async_iterator(["x", "y", "z"], spec=Client.pages)
    rows = []
    async with contextlib.aclosing(stream("q", size=2)) as opened:
        async for row in opened:
            rows.append(row)
            if row == "y":
                break
    assert rows == ["x", "y"]
    stream.assert_called_once_with("q", size=2)
    assert opened is stream.return_value
    opened.aclose.assert_awaited_once_with()
    # Closed, as an async generator: nothing more comes out.
    assert [row async for row in opened] == []
    # A new call is a new generator: from the first item again.
    assert [row async for row in stream("q")] == ["x", "y", "z"]
    stream.aclose.assert_not_awaited()


async def check_async_iterator_called_twice() -> None:
    # Replacing an async generator function that the code under test calls twice.
    pages = sm.async_iterator([["a"], RateLimited("slow down"), ["b"]], spec=Client.pages)

    async def read_all(query: str) -> tuple[list[list[str]], bool]:
        seen: list[list[str]] = []
        try:
            async for page in pages(query):
                seen.append(page)
        except RateLimited:
            return seen, False
        return seen, True

    assert await read_all("first") == ([["a"]], False)
    assert await read_all("second") == ([["a"]], False)
    assert pages.call_args_list == [mock.call("first"), mock.call("second")]
    assert pages.return_value.__anext__.await_count == 2
    assert pages.mock_calls == [
        mock.call("first"),
        mock.call().__aiter__(),
        mock.call().__anext__(),
        mock.call().__anext__(),
        mock.call("second"),
        mock.call().__aiter__(),
        mock.call().__anext__(),
        mock.call().__anext__(),
    ]


async def check_async_iterator_calls_and_its_own_iteration_are_independent() -> None:
    rows = sm.async_iterator(["r1", "r2", "r3"])
    first = rows()
    assert await anext(first) == "r1"
    assert await anext(rows) == "r1"  # the mock's own pass starts at the beginning too
    second = rows()
    assert [row async for row in second] == ["r1", "r2", "r3"]
    assert [row async for row in first] == ["r2", "r3"]
    assert [row async for row in rows] == ["r2", "r3"]
    assert rows.__anext__.await_count == 4  # r1, r2, r3 and the end
    assert first.__anext__.await_count == 4
    assert rows.return_value is second


async def check_async_iterator_as_return_value() -> None:
    client = mock.NonCallableMock()
    client.stream = mock.Mock(return_value=sm.async_iterator(["r1", "r2"]))
    assert [row async for row in client.stream("q")] == ["r1", "r2"]
    client.stream.assert_called_once_with("q")


async def check_async_iterator_anext() -> None:
    rows = sm.async_iterator(itertools.count())
    assert await rows.__anext__() == 0
    assert await anext(rows) == 1
    await rows.aclose()
    with pytest.raises(StopAsyncIteration):
        await anext(rows)


async def check_patch_with_factories() -> None:
    # The factories are what goes into sm.patch(new=...): nothing global in themselves.
    with sm.patch("tests_async_target.fetch_user", new=sm.async_return({"id": 7})) as fake:
        assert await sys.modules["tests_async_target"].fetch_user(7) == {"id": 7}
    fake.assert_awaited_once_with(7)
    assert sys.modules["tests_async_target"].fetch_user is fetch_user


CHECKS = [value for name, value in dict(globals()).items() if name.startswith("check_")]


@pytest.fixture
def target_module() -> Any:
    # A module whose attribute the patch check replaces; registered through the journal.
    module = type(sys)("tests_async_target")
    module.fetch_user = fetch_user  # type: ignore[attr-defined]
    with sm.patch.dict(sys.modules, {"tests_async_target": module}):
        yield module


@pytest.mark.anyio
@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
async def test_on_anyio_backends(
    check: Callable[[], Coroutine[Any, Any, None]], target_module: Any
) -> None:
    await check()


@pytest.mark.asyncio
@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
async def test_under_pytest_asyncio(
    check: Callable[[], Coroutine[Any, Any, None]], target_module: Any
) -> None:
    await check()


def test_every_check_is_collected() -> None:
    assert len(CHECKS) == 15


def test_the_mocks_never_suspend() -> None:
    # So they cannot depend on which event loop runs them.
    assert run_now(sm.async_return(3)()) == 3
    assert run_now(sm.async_sequence(4)()) == 4
    assert run_now(sm.async_iterator([5]).__anext__()) == 5
    assert run_now(sm.async_context_manager(enter=6).__aenter__()) == 6


# -- what each factory returns -------------------------------------------------------------


def test_awaitable_factories_return_async_mocks() -> None:
    for made in (sm.async_return(1), sm.async_raise(OSError), sm.async_sequence(1)):
        assert type(made).__mro__[1] is mock.AsyncMock
        assert inspect.iscoroutinefunction(made)


def test_context_manager_and_iterator_are_plain_mocks() -> None:
    assert type(sm.async_context_manager()).__mro__[1] is mock.Mock
    assert type(sm.async_iterator([])).__mro__[1] is mock.Mock


def test_async_return_keeps_the_value_as_given() -> None:
    response = mock.MagicMock(name="response")
    fetch = sm.async_return(response)
    assert run_now(fetch()) is response
    # Not adopted as a child of the AsyncMock (which would rename and re-parent it).
    assert repr(response).startswith("<MagicMock name='response' ")
    assert fetch.return_value is response


def test_async_context_manager_keeps_the_enter_value_as_given() -> None:
    client = mock.MagicMock(name="client")
    session = sm.async_context_manager(enter=client)
    assert run_now(session.__aenter__()) is client
    assert repr(client).startswith("<MagicMock name='client' ")
    assert session.__aenter__.return_value is client


# -- spec: a wrong call fails where it is made, before any await -----------------------------


def test_spec_rejects_a_wrong_call_before_any_coroutine_exists() -> None:
    fetch = sm.async_return({}, spec=fetch_user)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TypeError, match=r"^missing a required argument: 'user_id'$"):
            fetch()
        with pytest.raises(TypeError, match=r"^got an unexpected keyword argument 'field'$"):
            fetch(1, field="name")
        with pytest.raises(TypeError, match=r"^too many positional arguments$"):
            fetch(1, 2)
        gc.collect()
    assert caught == []
    assert fetch.call_count == 0
    assert fetch.await_count == 0


@pytest.mark.parametrize(
    "factory",
    [
        lambda spec: sm.async_return(None, spec=spec),
        lambda spec: sm.async_raise(OSError, spec=spec),
        lambda spec: sm.async_sequence(1, spec=spec),
    ],
    ids=["async_return", "async_raise", "async_sequence"],
)
def test_every_awaitable_factory_checks_its_spec(factory: Callable[[Any], Any]) -> None:
    made = factory(Client.get)
    with pytest.raises(TypeError, match=r"^got an unexpected keyword argument 'parms'$"):
        made("/x", parms={})
    assert made.call_count == 0


def test_a_method_taken_from_its_class_is_checked_without_self() -> None:
    get = sm.async_return("ok", spec=Client.get)
    assert run_now(get("/rates", params={"a": "b"})) == "ok"
    with pytest.raises(TypeError, match=r"^missing a required argument: 'url'$"):
        get()
    assert (
        str(inspect.signature(get))
        == "(url: 'str', *, params: 'dict[str, str] | None' = None) -> 'str'"
    )


def test_a_bound_method_is_checked_as_bound() -> None:
    get = sm.async_return("ok", spec=Client().get)
    assert run_now(get("/rates")) == "ok"
    with pytest.raises(TypeError, match=r"^too many positional arguments$"):
        get("/rates", {"a": "b"})


def test_a_staticmethod_keeps_its_first_parameter() -> None:
    ping = sm.async_return(True, spec=Client.ping)
    assert run_now(ping("db")) is True
    with pytest.raises(TypeError, match=r"^missing a required argument: 'host'$"):
        ping()


def test_a_local_function_keeps_its_first_parameter() -> None:
    async def handler(self: object, event: str) -> None: ...

    handle = sm.async_return(None, spec=handler)
    run_now(handle("me", "click"))
    with pytest.raises(TypeError, match=r"^missing a required argument: 'event'$"):
        handle("me")


def test_an_instance_with_async_call_is_a_valid_spec() -> None:
    lookup = sm.async_return("v", spec=AsyncCallable())
    assert run_now(lookup("k")) == "v"
    with pytest.raises(TypeError, match=r"^missing a required argument: 'key'$"):
        lookup()


def test_spec_lets_await_assertions_match_keyword_and_positional_forms() -> None:
    get = sm.async_return("ok", spec=Client.get)
    run_now(get("/rates"))
    get.assert_awaited_once_with(url="/rates")


def test_spec_restricts_attributes_to_the_spec() -> None:
    get = sm.async_return("ok", spec=Client.get)
    with pytest.raises(AttributeError, match="Mock object has no attribute 'retrun_value'"):
        get.retrun_value


# -- bad input: TypeError, one sentence naming the value ---------------------------------------


def sync_function(x: int) -> int:
    return x


@pytest.mark.parametrize(
    ("spec", "shown"),
    [
        (sync_function, repr(sync_function)),
        (Client, repr(Client)),
        (Client.close, repr(Client.close)),
        (Client.pages, repr(Client.pages)),
        (42, "42"),
    ],
    ids=["sync-function", "class", "sync-method", "async-generator", "int"],
)
def test_a_non_awaitable_spec_is_refused(spec: object, shown: str) -> None:
    for name, factory in [
        ("async_return", lambda: sm.async_return(None, spec=spec)),  # type: ignore[arg-type]
        ("async_raise", lambda: sm.async_raise(OSError, spec=spec)),  # type: ignore[arg-type]
        ("async_sequence", lambda: sm.async_sequence(1, spec=spec)),  # type: ignore[arg-type]
    ]:
        with pytest.raises(TypeError) as info:
            factory()
        assert str(info.value) == (
            f"{name}() needs spec to be an async def function or method, not {shown}; "
            "pass the coroutine function that the mock stands in for."
        )


@pytest.mark.parametrize("bad", ["boom", 3, None, Exception.__init__])
def test_async_raise_refuses_what_is_not_an_exception(bad: object) -> None:
    with pytest.raises(TypeError) as info:
        sm.async_raise(bad)  # type: ignore[arg-type]
    assert str(info.value) == (
        f"async_raise() needs exc to be an exception class or instance, not {bad!r}; "
        "pass for example TimeoutError or TimeoutError('slow')."
    )


@pytest.mark.parametrize("bad", ["boom", 0, KeyError.__str__])
def test_async_context_manager_refuses_raises_that_is_not_an_exception(bad: object) -> None:
    with pytest.raises(TypeError) as info:
        sm.async_context_manager(raises=bad)  # type: ignore[arg-type]
    assert str(info.value) == (
        f"async_context_manager() needs raises to be an exception class or instance, not "
        f"{bad!r}; pass for example TimeoutError or TimeoutError('slow')."
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda value: sm.async_raise(value),
        lambda value: sm.async_sequence(1, value),
        lambda value: sm.async_context_manager(raises=value),
    ],
    ids=["async_raise", "async_sequence", "async_context_manager"],
)
@pytest.mark.parametrize("value", [StopIteration, StopIteration("x")], ids=["class", "instance"])
def test_stop_iteration_is_refused(call: Callable[[object], object], value: object) -> None:
    # Inside a coroutine it would surface as RuntimeError, not as what the test asked for.
    with pytest.raises(TypeError) as info:
        call(value)
    assert str(info.value).endswith(
        f"cannot raise {value!r}: Python turns a StopIteration raised inside a coroutine into "
        "RuntimeError; raise StopAsyncIteration or another exception."
    )


def test_stop_async_iteration_is_allowed() -> None:
    with pytest.raises(StopAsyncIteration):
        run_now(sm.async_raise(StopAsyncIteration)())


@pytest.mark.parametrize("items", [3, None, object()])
def test_async_iterator_refuses_items_that_are_not_iterable(items: object) -> None:
    with pytest.raises(TypeError) as info:
        sm.async_iterator(items)  # type: ignore[arg-type]
    assert str(info.value) == (
        f"async_iterator() needs an iterable of items, not {items!r}; pass a list such as "
        "[page1, page2]."
    )


@pytest.mark.parametrize(
    "spec", [fetch_user, Client.get, 5], ids=["async-def", "async-method", "int"]
)
def test_async_iterator_refuses_a_spec_that_is_not_an_iterator_factory(spec: object) -> None:
    with pytest.raises(TypeError) as info:
        sm.async_iterator([], spec=spec)  # type: ignore[arg-type]
    assert str(info.value) == (
        "async_iterator() needs spec to be an async generator function or a method that "
        f"returns an async iterator, not {spec!r}; for an async def that must be awaited "
        "first, use async_return(async_iterator(...), spec=...)."
    )


def test_async_iterator_checks_calls_against_its_spec() -> None:
    pages = sm.async_iterator([], spec=Client.pages)
    with pytest.raises(TypeError, match=r"^got an unexpected keyword argument 'limit'$"):
        pages("q", limit=3)
    stream = sm.async_iterator([], spec=Client.stream)
    assert stream("q") is stream.return_value
    with pytest.raises(TypeError, match=r"^missing a required argument: 'query'$"):
        stream()


# -- async_sequence: exhaustion, and a model ----------------------------------------------------


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ((), "The async_sequence of 0 items is exhausted: await number 1"),
        (("a",), "The async_sequence of 1 item is exhausted: await number 2"),
        (("a", "b"), "The async_sequence of 2 items is exhausted: await number 3"),
    ],
)
def test_exhaustion_names_the_count(items: tuple[str, ...], message: str) -> None:
    get = sm.async_sequence(*items)
    for item in items:
        assert run_now(get()) == item
    with pytest.raises(sm.SequenceExhaustedError) as info:
        run_now(get())
    assert str(info.value) == (
        f"{message} has no item left; pass one item for every await the code under test makes."
    )


def test_exhaustion_keeps_counting_and_is_never_a_stop_iteration() -> None:
    get = sm.async_sequence("only")
    run_now(get())
    for number in (2, 3):
        with pytest.raises(sm.SequenceExhaustedError, match=f"await number {number} has") as info:
            run_now(get())
        assert not isinstance(info.value, (StopIteration, StopAsyncIteration))
    assert issubclass(sm.SequenceExhaustedError, sm.SaferemockError)


def test_exhaustion_inside_an_async_for_is_not_a_silent_end() -> None:
    get = sm.async_sequence(1, 2)

    class Pages:
        def __aiter__(self) -> Pages:
            return self

        async def __anext__(self) -> int:
            return int(await get())

    async def consume() -> list[int]:
        return [page async for page in Pages()]

    with pytest.raises(sm.SequenceExhaustedError):
        run_now(consume())


def test_a_created_but_unawaited_call_consumes_no_item() -> None:
    get = sm.async_sequence("a", "b")
    get().close()
    assert run_now(get()) == "a"


ITEMS = st.lists(
    st.one_of(st.integers(), st.sampled_from([ValueError("v"), KeyError, TimeoutError])),
    max_size=8,
)


@settings(max_examples=80, deadline=None)
@given(items=ITEMS, extra=st.integers(min_value=1, max_value=3))
def test_async_sequence_follows_its_items(items: list[object], extra: int) -> None:
    get = sm.async_sequence(*items)
    for item in items:
        if isinstance(item, int):
            assert run_now(get()) == item
        else:
            expected = item if isinstance(item, type) else type(item)
            with pytest.raises(expected):  # type: ignore[call-overload]
                run_now(get())
    for _ in range(extra):
        with pytest.raises(sm.SequenceExhaustedError):
            run_now(get())
    assert get.await_count == len(items) + extra


@settings(max_examples=80, deadline=None)
@given(items=ITEMS, close_after=st.integers(min_value=0, max_value=10))
def test_async_iterator_follows_its_items(items: list[object], close_after: int) -> None:
    rows = sm.async_iterator(items)
    for step, item in enumerate(items):
        if step == close_after:
            run_now(rows.aclose())
            break
        if isinstance(item, int):
            assert run_now(rows.__anext__()) == item
        else:
            expected = item if isinstance(item, type) else type(item)
            with pytest.raises(expected):  # type: ignore[call-overload]
                run_now(rows.__anext__())
    for _ in range(2):
        with pytest.raises(StopAsyncIteration):
            run_now(rows.__anext__())


# -- protocols the real objects do not have ------------------------------------------------------


def test_the_context_manager_refuses_plain_with_and_for() -> None:
    session = sm.async_context_manager()
    with pytest.raises((TypeError, AttributeError)):  # AttributeError on 3.10
        with session:  # type: ignore[attr-defined]
            pass  # pragma: no cover
    with pytest.raises(TypeError, match="'Mock' object is not iterable"):
        iter(session)


def test_the_iterator_refuses_plain_for() -> None:
    rows = sm.async_iterator([1, 2])
    with pytest.raises(TypeError, match="'Mock' object is not iterable"):
        list(rows)
    assert rows.__anext__.await_count == 0


def test_the_iterator_takes_items_lazily() -> None:
    pulled: list[int] = []

    def source() -> Any:
        for number in range(3):
            pulled.append(number)
            yield number

    rows = sm.async_iterator(source())
    assert pulled == []
    assert run_now(rows.__anext__()) == 0
    assert pulled == [0]


def test_the_iterator_is_its_own_async_iterator() -> None:
    rows = sm.async_iterator([1])
    assert rows.__aiter__() is rows
    returned = rows()
    assert returned is not rows
    assert returned.__aiter__() is returned
    assert type(returned).__mro__[1] is mock.NonCallableMock  # a generator is not callable
    assert run_now(returned.__anext__()) == 1


def test_each_call_returns_a_fresh_iterator_and_return_value_is_the_last() -> None:
    rows = sm.async_iterator(["a", "b"])
    upcoming = rows.return_value  # an iterator before the first call, as a mock's would be
    assert rows() is upcoming
    assert rows.return_value is upcoming
    again = rows()
    assert again is not upcoming
    assert rows.return_value is again
    assert run_now(again.__anext__()) == "a"
    assert run_now(upcoming.__anext__()) == "a"
    rows.reset_mock(return_value=True)
    third = rows()
    assert third is rows.return_value
    assert run_now(third.__anext__()) == "a"


def test_a_generator_of_items_is_read_once_for_every_call() -> None:
    pulled: list[int] = []

    def source() -> Any:
        for number in range(3):
            pulled.append(number)
            yield number

    rows = sm.async_iterator(source())
    first, second = rows(), rows()
    assert run_now(first.__anext__()) == 0
    assert run_now(second.__anext__()) == 0
    assert run_now(second.__anext__()) == 1
    assert pulled == [0, 1]
    assert run_now(rows.__anext__()) == 0
    assert pulled == [0, 1]


# -- no "coroutine ... was never awaited" ----------------------------------------------------


def _never_awaited(caught: list[warnings.WarningMessage]) -> list[str]:
    return [
        str(w.message)
        for w in caught
        if issubclass(w.category, RuntimeWarning) and "never awaited" in str(w.message)
    ]


def _make_every_factory() -> list[Any]:
    return [
        sm.async_return(1),
        sm.async_return(1, spec=fetch_user),
        sm.async_raise(OSError),
        sm.async_raise(OSError("x"), spec=Client.get),
        sm.async_sequence(1, KeyError),
        sm.async_sequence(spec=Client.get),
        sm.async_context_manager(enter=mock.MagicMock()),
        sm.async_context_manager(raises=OSError, suppress=True),
        sm.async_iterator([1, ValueError]),
        sm.async_iterator([1], spec=Client.pages),
    ]


def test_detector_sees_the_known_async_mock_child_pitfall() -> None:
    # Control: the assertion below can fail.  A plain AsyncMock's children are AsyncMocks,
    # so calling what should be a sync method makes a coroutine nobody awaits.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = mock.AsyncMock()
        client.close()
        del client
        gc.collect()
    assert _never_awaited(caught) == [
        "coroutine 'AsyncMockMixin._execute_mock_call' was never awaited"
    ]


def test_no_factory_leaves_an_unawaited_coroutine_when_never_used() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = _make_every_factory()
        for each in made:
            repr(each)
        del made, each
        gc.collect()
    assert _never_awaited(caught) == []


async def _use_every_factory() -> None:
    made = _make_every_factory()
    assert await made[0]() == 1
    assert await made[1](1) == 1
    for index, args in ((2, ()), (3, ("/x",))):
        with contextlib.suppress(OSError):
            await made[index](*args)
    assert await made[4]() == 1
    with contextlib.suppress(KeyError):
        await made[4]()
    with contextlib.suppress(sm.SequenceExhaustedError):
        await made[5]("/x")
    async with made[6]() as client:
        client.close()  # a sync call on the entered MagicMock: no coroutine
    with contextlib.suppress(OSError):
        async with made[7]:
            raise AssertionError("the body must not run")  # pragma: no cover
    with contextlib.suppress(ValueError):
        async for _ in made[8]:
            pass
    async for _ in made[9]("q"):
        pass
    await made[9].aclose()


def test_no_factory_leaves_an_unawaited_coroutine_when_used() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        anyio.run(_use_every_factory, backend="asyncio")
        anyio.run(_use_every_factory, backend="trio")
        gc.collect()
    assert _never_awaited(caught) == []


def test_unittest_mock_names_are_left_alone() -> None:
    # The factories configure instances only; the classes every other test uses stay clean.
    for klass in (mock.Mock, mock.MagicMock, mock.AsyncMock):
        before = dict(vars(klass))
        _make_every_factory()
        assert dict(vars(klass)) == before


def test_the_mock_reports_the_signature_of_its_spec() -> None:
    # inspect.signature() of the mock is the spec's, so tools that introspect it agree.
    fetch = sm.async_return(None, spec=fetch_user)
    assert inspect.signature(fetch) == inspect.signature(fetch_user)
