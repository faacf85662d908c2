"""Autospec against the real async clients: httpx.AsyncClient and aiohttp.ClientSession.

``sm.patch("app.fx.httpx.AsyncClient")`` must hand out the autospecced instance from
``async with``, whatever the real ``__aenter__`` is annotated with (httpx:
``async def __aenter__(self: U) -> U`` with ``U = TypeVar("U", bound="AsyncClient")``;
aiohttp: ``-> "ClientSession"``), so that sync methods stay sync and configuration of
``Client.return_value`` reaches the code under test.  Needs the ``realworld`` extra; the
module skips when they are not installed.  Every check runs on asyncio and trio
(anyio's plugin) and under pytest-asyncio: the mocks never touch an event loop.
"""

from __future__ import annotations

import gc
import inspect
import sys
import types
import warnings
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

import saferemock as sm

# aiohttp's compiled dependencies (yarl, multidict, ...) register Cython's runtime modules
# in sys.modules without a __spec__ when first imported; the guard is right that they are
# not imported modules, and they are not this test's to undo.
pytestmark = pytest.mark.saferemock_allow(
    "sys.modules['cython_runtime']", "sys.modules['_cython_*']"
)

httpx = pytest.importorskip("httpx")
aiohttp = pytest.importorskip("aiohttp")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app() -> Iterator[types.ModuleType]:
    """``fxapp``: application code that imports the clients as modules, as apps do."""
    module = types.ModuleType("fxapp")
    module.httpx = httpx  # type: ignore[attr-defined]
    module.aiohttp = aiohttp  # type: ignore[attr-defined]
    source = """
async def get_exchange_rate(from_ccy, to_ccy):
    async with httpx.AsyncClient() as client:
        r = await client.get(
            "https://fx.example.com/rate", params={"from": from_ccy, "to": to_ccy}
        )
        r.raise_for_status()
        return r.json()["rate"]


async def fetch_rates(url):
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            response.raise_for_status()
            return await response.json()
"""
    exec(compile(source, "fxapp.py", "exec"), vars(module))
    with sm.patch.dict(sys.modules, {"fxapp": module}):
        yield module


def assert_sync(result: Any) -> None:
    if inspect.iscoroutine(result):
        result.close()
        raise AssertionError("a sync method returned a coroutine")


# -- the checks, run on every backend ----------------------------------------------------


async def check_httpx_async_with_hands_out_the_instance(app: types.ModuleType) -> None:
    with sm.patch("fxapp.httpx.AsyncClient") as client_class:
        client = client_class.return_value
        response = sm.create_autospec(httpx.Response, instance=True)
        response.json.return_value = {"rate": 1.25}
        client.get.return_value = response
        assert await app.get_exchange_rate("GBP", "USD") == 1.25
    client_class.assert_called_once_with()
    client.get.assert_awaited_once_with(
        "https://fx.example.com/rate", params={"from": "GBP", "to": "USD"}
    )
    client.__aexit__.assert_awaited_once_with(None, None, None)
    response.raise_for_status.assert_called_once_with()


async def check_httpx_real_response(app: types.ModuleType) -> None:
    request = httpx.Request("GET", "https://fx.example.com/rate")
    with sm.patch("fxapp.httpx.AsyncClient") as client_class:
        client_class.return_value.get.return_value = httpx.Response(
            200, json={"rate": 0.8}, request=request
        )
        assert await app.get_exchange_rate("EUR", "GBP") == 0.8


async def check_httpx_entered_client_is_specced(app: types.ModuleType) -> None:
    with sm.patch("fxapp.httpx.AsyncClient"):
        async with httpx.AsyncClient() as client:
            with pytest.raises(TypeError) as info:
                client.get("https://fx.example.com/rate", parms={"from": "GBP"})
            assert str(info.value) == "got an unexpected keyword argument 'parms'"
            assert_sync(client.build_request("GET", "/"))
            await client.aclose()
            client.aclose.assert_awaited_once_with()


async def check_aiohttp_async_with_hands_out_the_instance(app: types.ModuleType) -> None:
    with sm.patch("fxapp.aiohttp.ClientSession") as session_class:
        session = session_class.return_value
        response = sm.create_autospec(aiohttp.ClientResponse, instance=True)
        response.json.return_value = {"GBP": 1.25}
        session.get.return_value.__aenter__.return_value = response
        assert await app.fetch_rates("https://fx.example.com/rates") == {"GBP": 1.25}
    session.get.assert_called_once_with("https://fx.example.com/rates")
    session.__aexit__.assert_awaited_once_with(None, None, None)
    response.raise_for_status.assert_called_once_with()
    response.json.assert_awaited_once_with()


async def check_aiohttp_entered_session_is_specced(app: types.ModuleType) -> None:
    with sm.patch("fxapp.aiohttp.ClientSession"):
        async with aiohttp.ClientSession() as session:
            assert_sync(session.detach())
            with pytest.raises(AttributeError) as info:
                session.gett
            assert str(info.value) == "Mock object has no attribute 'gett'"
            await session.close()
            session.close.assert_awaited_once_with()


CHECKS = [value for name, value in dict(globals()).items() if name.startswith("check_")]


async def _run(check: Callable[[types.ModuleType], Coroutine[Any, Any, None]], app: Any) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await check(app)
        gc.collect()
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []


@pytest.mark.anyio
@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
async def test_on_anyio_backends(
    check: Callable[[types.ModuleType], Coroutine[Any, Any, None]], app: types.ModuleType
) -> None:
    await _run(check, app)


@pytest.mark.asyncio
@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
async def test_under_pytest_asyncio(
    check: Callable[[types.ModuleType], Coroutine[Any, Any, None]], app: types.ModuleType
) -> None:
    await _run(check, app)


def test_every_check_is_collected() -> None:
    assert len(CHECKS) == 5
