"""``sm.create_autospec`` on classes that mix ``async def`` and plain methods.

Async methods must become awaitable mocks and sync methods must stay plain callables,
including on the object an async context manager hands out from ``async with``: calling
a sync method must never create a coroutine (the ``AsyncMock`` child pitfall, where every
child of an ``AsyncMock`` is itself async and a forgotten coroutine warns at garbage
collection, or, under ``-W error``, breaks some later unrelated test).
"""

from __future__ import annotations

import gc
import inspect
import sys
import types
import warnings
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any
from unittest.mock import AsyncMock

import pytest
from typing_extensions import Self

import saferemock as sm


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Service:
    """A client with both kinds of methods."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def fetch(self, key: str, *, timeout: float = 1.0) -> bytes:
        raise AssertionError("the real service must not run in tests")

    def parse(self, raw: bytes) -> dict[str, Any]:
        raise AssertionError("the real service must not run in tests")

    @classmethod
    async def connect(cls, dsn: str) -> Self:
        raise AssertionError("the real service must not run in tests")

    @staticmethod
    def version() -> str:
        raise AssertionError("the real service must not run in tests")

    async def rows(self, query: str) -> AsyncIterator[bytes]:
        raise AssertionError("the real service must not run in tests")
        yield b""  # pragma: no cover - makes this an async generator


class Session:
    """An async context manager that returns itself, as httpx.AsyncClient does."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def get(self, url: str) -> bytes:
        raise AssertionError("the real session must not run in tests")

    def close_nowait(self) -> None:
        raise AssertionError("the real session must not run in tests")

    def headers(self) -> dict[str, str]:
        raise AssertionError("the real session must not run in tests")


def _never_awaited(caught: list[warnings.WarningMessage]) -> list[str]:
    return [
        str(w.message)
        for w in caught
        if issubclass(w.category, RuntimeWarning) and "never awaited" in str(w.message)
    ]


def assert_sync_method(method: Any, *args: Any) -> None:
    result = method(*args)
    if inspect.iscoroutine(result):
        # Close it so that this failure does not turn into a warning in a later test.
        result.close()
        raise AssertionError(f"{method!r} is a sync method but returned a coroutine")


async def assert_async_method(method: Any, *args: Any) -> None:
    pending = method(*args)
    assert inspect.isawaitable(pending), f"{method!r} returned {pending!r}, not an awaitable"
    await pending


# -- the checks, run on every backend ----------------------------------------------------


async def check_instance_of_a_mixed_class() -> None:
    service = sm.create_autospec(Service, instance=True)
    service.fetch.return_value = b"payload"
    assert await service.fetch("k", timeout=2.0) == b"payload"
    service.fetch.assert_awaited_once_with("k", timeout=2.0)
    assert_sync_method(service.parse, b"x")
    assert_sync_method(service.version)
    await assert_async_method(service.connect, "dsn")


async def check_the_class_itself() -> None:
    service_class = sm.create_autospec(Service)
    service = service_class("dsn")
    await assert_async_method(service.fetch, "k")
    assert_sync_method(service.parse, b"x")
    await assert_async_method(service_class.connect, "dsn")
    service_class.assert_called_once_with("dsn")


async def check_wrong_calls_fail_before_any_await() -> None:
    service = sm.create_autospec(Service, instance=True)
    with pytest.raises(TypeError):
        service.fetch("k", "positional-timeout")
    with pytest.raises(TypeError):
        service.parse()
    service.fetch.assert_not_called()


async def check_async_context_manager_instance() -> None:
    session = sm.create_autospec(Session, instance=True)
    async with session as entered:
        assert_sync_method(entered.close_nowait)
        assert_sync_method(entered.headers)
        await assert_async_method(entered.get, "/x")
    session.__aenter__.assert_awaited_once_with()
    session.__aexit__.assert_awaited_once()


async def check_async_context_manager_class() -> None:
    session_class = sm.create_autospec(Session)
    async with session_class() as entered:
        assert_sync_method(entered.close_nowait)
        await assert_async_method(entered.get, "/x")
    session_class.assert_called_once_with()


async def check_the_instance_itself_outside_async_with() -> None:
    session = sm.create_autospec(Session, instance=True)
    assert_sync_method(session.close_nowait)
    await assert_async_method(session.get, "/x")


CHECKS = [value for name, value in dict(globals()).items() if name.startswith("check_")]


def _run_without_stray_coroutines(run: Callable[[], Any]) -> Any:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run()
        gc.collect()
    assert _never_awaited(caught) == []
    return result


async def _await_without_stray_coroutines(check: Callable[[], Coroutine[Any, Any, None]]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await check()
        gc.collect()
    assert _never_awaited(caught) == []


@pytest.mark.anyio
@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
async def test_on_anyio_backends(check: Callable[[], Coroutine[Any, Any, None]]) -> None:
    await _await_without_stray_coroutines(check)


@pytest.mark.asyncio
@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
async def test_under_pytest_asyncio(check: Callable[[], Coroutine[Any, Any, None]]) -> None:
    await _await_without_stray_coroutines(check)


def test_every_check_is_collected() -> None:
    assert len(CHECKS) == 6


def test_creating_unused_autospecs_leaves_no_coroutine() -> None:
    def make() -> None:
        for spec in (Service, Session):
            sm.create_autospec(spec)
            sm.create_autospec(spec, instance=True)

    _run_without_stray_coroutines(make)


def test_sync_method_on_the_entered_object_makes_no_coroutine() -> None:
    # Reaches the entered object without an event loop: __aenter__'s coroutine never
    # suspends, so one send() finishes it.
    session = sm.create_autospec(Session, instance=True)

    def use() -> None:
        pending = session.__aenter__()
        try:
            pending.send(None)
        except StopIteration as stop:
            entered = stop.value
        else:  # pragma: no cover
            raise AssertionError("__aenter__ suspended")
        assert_sync_method(entered.close_nowait)

    _run_without_stray_coroutines(use)


# -- what `async with` hands out, for each way of annotating __aenter__ ---------------------

# Stand-ins written as real code (exec'd into a module namespace of their own), both
# with and without `from __future__ import annotations`: without it the annotations are
# objects, with it strings that saferemock evaluates where they were written.
_STAND_IN = """\
{future}
import typing
import typing_extensions
{header}


class Base:
    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def get(self, url: str) -> bytes:
        raise AssertionError("the real client must not run in tests")

    def close(self) -> None:
        raise AssertionError("the real client must not run in tests")


def make():
    class Client(Base):
        async def __aenter__({self_parameter}) -> {returned}:
            return self

    return Client


Client = make()
{footer}
"""

# name: (lines before the class, the self parameter, the return annotation, lines after)
ENTERS_AS_ITSELF = {
    "typing_extensions.Self": ("", "self", "typing_extensions.Self", ""),
    "Self imported by name": ("from typing_extensions import Self", "self", "Self", ""),
    "TypeVar bound to the class, on self (httpx)": (
        'U = typing.TypeVar("U", bound="Client")',
        "self: U",
        "U",
        "",
    ),
    "TypeVar bound to the class, not on self": (
        'U = typing.TypeVar("U", bound="Client")',
        "self",
        "U",
        "",
    ),
    "TypeVar bound to a base": ('U = typing.TypeVar("U", bound="Base")', "self", "U", ""),
    "unbound TypeVar on self": ('T = typing.TypeVar("T")', "self: T", "T", ""),
    "the class itself": (
        "",
        "self",
        "None",
        'Client.__aenter__.__annotations__["return"] = Client',
    ),
    "a forward reference to the class": ("", "self", '"Client"', ""),
    "a base class": ("", "self", "Base", ""),
    "a name only a type checker can resolve": ("", "self", '"_typing_only.Client"', ""),
}
if sys.version_info >= (3, 11):
    ENTERS_AS_ITSELF["typing.Self"] = ("", "self", "typing.Self", "")


def _stand_in(form: tuple[str, str, str, str], future: bool) -> type:
    header, self_parameter, returned, footer = form
    source = _STAND_IN.format(
        future="from __future__ import annotations" if future else "",
        header=header,
        self_parameter=self_parameter,
        returned=returned,
        footer=footer,
    )
    namespace: dict[str, Any] = {"__name__": "stand_in_client"}
    exec(compile(source, "<stand-in>", "exec"), namespace)
    client: type = namespace["Client"]
    return client


FORM_CASES = [
    pytest.param(form, future, id=f"{name}{' (string)' if future else ''}")
    for name, form in ENTERS_AS_ITSELF.items()
    for future in (False, True)
]


async def check_async_with_hands_out_the_instance(
    form: tuple[str, str, str, str], future: bool
) -> None:
    client_class = _stand_in(form, future)
    module = types.ModuleType("stand_in_app")
    module.Client = client_class  # type: ignore[attr-defined]
    with sm.patch.object(module, "Client") as factory:
        async with module.Client() as client:
            assert client is factory.return_value
            assert_sync_method(client.close)
            client.get.return_value = b"body"
            assert await client.get("/x") == b"body"
    client.get.assert_awaited_once_with("/x")
    client.__aexit__.assert_awaited_once_with(None, None, None)
    instance = sm.create_autospec(client_class, instance=True)
    async with instance as entered:
        assert entered is instance


@pytest.mark.anyio
@pytest.mark.parametrize(("form", "future"), FORM_CASES)
async def test_aenter_annotations_on_anyio_backends(
    form: tuple[str, str, str, str], future: bool
) -> None:
    await _await_without_stray_coroutines(
        lambda: check_async_with_hands_out_the_instance(form, future)
    )


@pytest.mark.asyncio
@pytest.mark.parametrize(("form", "future"), FORM_CASES)
async def test_aenter_annotations_under_pytest_asyncio(
    form: tuple[str, str, str, str], future: bool
) -> None:
    await _await_without_stray_coroutines(
        lambda: check_async_with_hands_out_the_instance(form, future)
    )


# Annotations that do not say "the object itself": the stdlib's AsyncMock stays.
ENTERS_AS_SOMETHING_ELSE = {
    "an unbound TypeVar, not on self": ('T = typing.TypeVar("T")', "self", "T", ""),
    "a TypeVar bound to another class": ('T = typing.TypeVar("T", bound=int)', "self", "T", ""),
    "a constrained TypeVar": ('T = typing.TypeVar("T", int, str)', "self", "T", ""),
    "a union": ("", "self", "typing.Optional[Base]", ""),
    "an unknown name": ("", "self", '"Unknown"', ""),
}


@pytest.mark.parametrize(
    ("form", "future"),
    [
        pytest.param(form, future, id=f"{name}{' (string)' if future else ''}")
        for name, form in ENTERS_AS_SOMETHING_ELSE.items()
        for future in (False, True)
    ],
)
def test_other_aenter_annotations_keep_the_stdlib_async_mock(
    form: tuple[str, str, str, str], future: bool
) -> None:
    made = sm.create_autospec(_stand_in(form, future), instance=True)
    entered = made.__aenter__.return_value
    assert type(entered).__mro__[1] is AsyncMock
    assert entered is not made
