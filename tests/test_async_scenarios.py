"""The field reports' async scenarios: the brittle hand-made mock, then saferemock's.

Each scenario has four checks: the hand-made version from the seeds passing on correct
code, the same hand-made version passing on *buggy* code (the lie), the saferemock
version passing on correct code, and the saferemock version catching the bug.  The
saferemock versions are the ones shown in ``docs/async.md``.  Every check runs on asyncio
and trio (anyio's plugin) and under pytest-asyncio.

The application and a tiny stand-in for ``httpx`` are built in memory (httpx is not a
dependency) and registered in ``sys.modules`` through ``sm.patch.dict`` for each test, so
the patches use real dotted targets such as ``"scenario_app.httpx.AsyncClient"``.
"""

from __future__ import annotations

import sys
import textwrap
import types
from collections.abc import Callable, Coroutine
from typing import Any
from unittest import mock

import anyio
import pytest
from statecheck import Snapshot

import saferemock as sm

HTTPX_SOURCE = """
class HTTPStatusError(Exception):
    pass


class Response:
    def __init__(self, status_code, *, json=None):
        self.status_code = status_code
        self._json = json

    def json(self):
        return self._json

    def raise_for_status(self):
        if self.status_code >= 400:
            raise HTTPStatusError(f"status {self.status_code}")


class AsyncClient:
    def __init__(self, *, timeout=5.0):
        self.timeout = timeout

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        return None

    async def get(self, url, *, params=None):
        raise RuntimeError("the network is disabled in tests")

    async def aclose(self):
        return None
"""

NOTIFY_SOURCE = """
async def send_confirmation(user_id):
    raise RuntimeError("the mail server is disabled in tests")
"""

APP_SOURCE = """
import contextlib

import anyio


# -- 003: async with httpx.AsyncClient() --------------------------------------------------

async def get_exchange_rate(from_ccy, to_ccy):
    async with httpx.AsyncClient() as client:
        r = await client.get(
            "https://fx.example.com/rate", params={"from": from_ccy, "to": to_ccy}
        )
        return r.json()["rate"]


async def get_exchange_rate_with_typo(from_ccy, to_ccy):
    async with httpx.AsyncClient() as client:
        r = await client.get(
            "https://fx.example.com/rate", parms={"from": from_ccy, "to": to_ccy}
        )
        return r.json()["rate"]


# -- retry, then succeed ---------------------------------------------------------------

async def fetch_with_retry(client, url, *, attempts=3):
    for attempt in range(1, attempts + 1):
        try:
            return await client.get(url)
        except TimeoutError:
            if attempt == attempts:
                raise
            await anyio.sleep(0)


async def fetch_with_retry_off_by_one(client, url, *, attempts=3):
    for attempt in range(attempts + 1):
        try:
            return await client.get(url)
        except TimeoutError:
            if attempt == attempts:
                raise
            await anyio.sleep(0)


# -- a paginated API -------------------------------------------------------------------

class Pages:
    def __init__(self, client, *, end=""):
        self._client = client
        self._cursor = ""
        self._end = end
        self._done = False

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self._done:
            raise StopAsyncIteration
        page = await self._client.get_page(self._cursor)
        self._cursor = page["next"]
        self._done = self._cursor == self._end
        return page["items"]


async def all_items(client):
    return [item async for page in Pages(client) for item in page]


async def all_items_buggy(client):
    # The API ends with "next": "", but this waits for None: it never stops asking.
    return [item async for page in Pages(client, end=None) for item in page]


class RateLimited(Exception):
    pass


async def export(client, query):
    rows = []
    async with contextlib.aclosing(client.rows(query, batch=500)) as stream:
        try:
            async for row in stream:
                rows.append(row)
        except RateLimited:
            return rows, False
    return rows, True


async def export_ignoring_limits(client, query):
    # The bug: no handling of RateLimited at all.
    rows = []
    async with contextlib.aclosing(client.rows(query, batch=500)) as stream:
        async for row in stream:
            rows.append(row)
    return rows, True


# -- 004: a side effect that raises the second time ------------------------------------

async def confirm_all(user_ids):
    results = {}
    for user_id in user_ids:
        try:
            await notify.send_confirmation(user_id)
            results[user_id] = "sent"
        except Exception as exc:
            results[user_id] = f"failed: {exc}"
    return results
"""

# The seed's helper, verbatim in spirit: a module-level counter behind a hand-made
# coroutine.  It lives in a throwaway module per test, as it would in a test helper file.
BRITTLE_HELPERS_SOURCE = """
count = 0


def make_side_effect_coroutine(side_effect):
    async def coroutine(*args, **kwargs):
        return side_effect(*args, **kwargs) if callable(side_effect) else side_effect
    return coroutine


def side_effects(*args, **kwargs):
    global count
    if count > 0:
        raise Exception("whoops")
    count += 1
    return
"""


def _module(name: str, source: str, **namespace: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(namespace)
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), module.__dict__)
    return module


class Apps:
    """The stand-in modules one test works with."""

    def __init__(self) -> None:
        self.httpx = _module("scenario_httpx", HTTPX_SOURCE)
        self.notify = _module("scenario_notify", NOTIFY_SOURCE)
        self.app = _module("scenario_app", APP_SOURCE, httpx=self.httpx, notify=self.notify)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def apps() -> Any:
    made = Apps()
    modules = Snapshot(sys.modules)
    with sm.patch.dict(
        sys.modules,
        {"scenario_httpx": made.httpx, "scenario_notify": made.notify, "scenario_app": made.app},
    ):
        touched = Snapshot(made.httpx, made.notify, made.app)
        yield made
        touched.assert_unchanged()
    modules.assert_unchanged()


# -- 003: async with httpx.AsyncClient() as client -----------------------------------------


def _seed_client(apps: Apps) -> mock.AsyncMock:
    # 003_*.txt "Async Mock with AsyncMock", as written there.
    mock_response = mock.MagicMock()
    mock_response.json.return_value = {"rate": 1.25}
    mock_client = mock.AsyncMock()
    mock_client.__aenter__.return_value.get = mock.AsyncMock(return_value=mock_response)
    return mock_client


async def check_httpx_brittle(apps: Apps) -> None:
    with mock.patch("scenario_app.httpx.AsyncClient", return_value=_seed_client(apps)):
        rate = await apps.app.get_exchange_rate("GBP", "USD")
    assert rate == 1.25


async def check_httpx_brittle_hides_a_typo(apps: Apps) -> None:
    with mock.patch("scenario_app.httpx.AsyncClient", return_value=_seed_client(apps)):
        rate = await apps.app.get_exchange_rate_with_typo("GBP", "USD")
    assert rate == 1.25, "the hand-made client accepts parms= that the real one rejects"


def _fake_client(apps: Apps) -> Any:
    response = apps.httpx.Response(200, json={"rate": 1.25})
    return types.SimpleNamespace(get=sm.async_return(response, spec=apps.httpx.AsyncClient.get))


async def check_httpx_saferemock(apps: Apps) -> None:
    client = _fake_client(apps)
    fake_client = sm.async_context_manager(enter=client)
    with sm.patch("scenario_app.httpx.AsyncClient", new=fake_client):
        assert await apps.app.get_exchange_rate("GBP", "USD") == 1.25
    fake_client.assert_called_once_with()
    client.get.assert_awaited_once_with(
        "https://fx.example.com/rate", params={"from": "GBP", "to": "USD"}
    )
    fake_client.__aenter__.assert_awaited_once_with()
    fake_client.__aexit__.assert_awaited_once_with(None, None, None)
    assert fake_client.exception is None


async def check_httpx_saferemock_catches_the_typo(apps: Apps) -> None:
    client = _fake_client(apps)
    fake_client = sm.async_context_manager(enter=client)
    with sm.patch("scenario_app.httpx.AsyncClient", new=fake_client):
        with pytest.raises(TypeError, match=r"^got an unexpected keyword argument 'parms'$"):
            await apps.app.get_exchange_rate_with_typo("GBP", "USD")
    # The TypeError went through the async with, and __aexit__ saw it.
    assert isinstance(fake_client.exception, TypeError)
    client.get.assert_not_called()


# -- retry, then succeed ----------------------------------------------------------------------


async def check_retry_brittle(apps: Apps) -> None:
    response = mock.MagicMock()
    client = mock.MagicMock()
    client.get = mock.AsyncMock(side_effect=[TimeoutError(), TimeoutError(), response])
    assert await apps.app.fetch_with_retry(client, "/rate") is response
    assert client.get.await_count == 3


async def check_retry_brittle_leaks_stop_async_iteration(apps: Apps) -> None:
    client = mock.MagicMock()
    client.get = mock.AsyncMock(side_effect=[TimeoutError(), TimeoutError(), TimeoutError()])
    # The off-by-one attempt gets the iterator's end as an exception: a bare
    # StopAsyncIteration that says nothing about the bug (and that an async for would
    # take for a normal end).
    with pytest.raises(StopAsyncIteration) as info:
        await apps.app.fetch_with_retry_off_by_one(client, "/rate")
    assert str(info.value) == ""


async def check_retry_saferemock(apps: Apps) -> None:
    ok = apps.httpx.Response(200, json={"rate": 1.25})
    get = sm.async_sequence(TimeoutError, TimeoutError, ok, spec=apps.httpx.AsyncClient.get)
    client = types.SimpleNamespace(get=get)
    assert await apps.app.fetch_with_retry(client, "/rate") is ok
    assert [c.args for c in get.await_args_list] == [("/rate",)] * 3


async def check_retry_saferemock_gives_up(apps: Apps) -> None:
    get = sm.async_sequence(TimeoutError, TimeoutError, TimeoutError("third"))
    client = types.SimpleNamespace(get=get)
    with pytest.raises(TimeoutError, match=r"^third$"):
        await apps.app.fetch_with_retry(client, "/rate")


async def check_retry_saferemock_names_the_extra_attempt(apps: Apps) -> None:
    get = sm.async_sequence(
        TimeoutError, TimeoutError, TimeoutError, spec=apps.httpx.AsyncClient.get
    )
    client = types.SimpleNamespace(get=get)
    with pytest.raises(sm.SequenceExhaustedError) as info:
        await apps.app.fetch_with_retry_off_by_one(client, "/rate")
    assert str(info.value) == (
        "The async_sequence of 3 items for AsyncClient.get is exhausted: await number 4 has "
        "no item left; pass one item for every await the code under test makes."
    )


# -- a paginated API with async for -------------------------------------------------------------

PAGE_1 = {"items": [1, 2], "next": "c2"}
PAGE_2 = {"items": [3], "next": ""}


async def get_page(cursor: str) -> dict[str, Any]:
    raise AssertionError("the real API must not run in tests")


async def check_pages_brittle(apps: Apps) -> None:
    client = mock.MagicMock()
    client.get_page = mock.AsyncMock(side_effect=[PAGE_1, PAGE_2])
    assert await apps.app.all_items(client) == [1, 2, 3]


async def check_pages_brittle_hides_endless_paging(apps: Apps) -> None:
    client = mock.MagicMock()
    client.get_page = mock.AsyncMock(side_effect=[PAGE_1, PAGE_2])
    # The buggy iterator asks for a third page; the exhausted side effect raises
    # StopAsyncIteration inside __anext__, and the async for ends as if all were well.
    assert await apps.app.all_items_buggy(client) == [1, 2, 3]
    assert client.get_page.await_count == 3


async def check_pages_saferemock(apps: Apps) -> None:
    client = types.SimpleNamespace(get_page=sm.async_sequence(PAGE_1, PAGE_2, spec=get_page))
    assert await apps.app.all_items(client) == [1, 2, 3]
    assert [c.args for c in client.get_page.await_args_list] == [("",), ("c2",)]


async def check_pages_saferemock_catches_endless_paging(apps: Apps) -> None:
    client = types.SimpleNamespace(get_page=sm.async_sequence(PAGE_1, PAGE_2, spec=get_page))
    with pytest.raises(sm.SequenceExhaustedError, match="await number 3 has no item left"):
        await apps.app.all_items_buggy(client)


class ExportClient:
    async def rows(self, query: str, *, batch: int = 100) -> Any:
        raise AssertionError("the real API must not run in tests")
        yield  # pragma: no cover - makes this an async generator


async def check_stream_brittle(apps: Apps) -> None:
    client = mock.MagicMock()
    stream = client.rows.return_value
    stream.__aiter__.return_value = ["a", "b", "c"]
    stream.aclose = mock.AsyncMock()  # MagicMock's own aclose cannot be awaited
    assert await apps.app.export(client, "q") == (["a", "b", "c"], True)


async def check_stream_brittle_hides_missing_rate_limit_handling(apps: Apps) -> None:
    client = mock.MagicMock()
    stream = client.rows.return_value
    limited = apps.app.RateLimited("slow down")
    # MagicMock's __aiter__ yields exceptions as values: the rate limit is never raised.
    stream.__aiter__.return_value = ["a", limited, "b"]
    stream.aclose = mock.AsyncMock()
    assert await apps.app.export_ignoring_limits(client, "q") == (["a", limited, "b"], True)


async def check_stream_saferemock(apps: Apps) -> None:
    rows = sm.async_iterator(
        ["a", "b", apps.app.RateLimited("slow down"), "c"], spec=ExportClient.rows
    )
    client = types.SimpleNamespace(rows=rows)
    assert await apps.app.export(client, "q") == (["a", "b"], False)
    rows.assert_called_once_with("q", batch=500)
    rows.return_value.aclose.assert_awaited_once_with()


async def check_stream_saferemock_catches_missing_rate_limit_handling(apps: Apps) -> None:
    rows = sm.async_iterator(["a", apps.app.RateLimited("slow down"), "b"], spec=ExportClient.rows)
    client = types.SimpleNamespace(rows=rows)
    with pytest.raises(apps.app.RateLimited, match=r"^slow down$"):
        await apps.app.export_ignoring_limits(client, "q")
    rows.return_value.aclose.assert_awaited_once_with()


# -- 004: a side effect that raises the second time ------------------------------------------------


async def _brittle_confirm(apps: Apps, helpers: types.ModuleType) -> dict[int, str]:
    # 004_*.txt: @mock.patch(...) then mock_thing.side_effect = make_side_effect_coroutine(...)
    with mock.patch("scenario_app.notify.send_confirmation") as mock_thing:
        mock_thing.side_effect = helpers.make_side_effect_coroutine(helpers.side_effects)
        result: dict[int, str] = await apps.app.confirm_all([1, 2])
    return result


async def check_raise_second_time_brittle(apps: Apps) -> None:
    helpers = _module("brittle_helpers", BRITTLE_HELPERS_SOURCE)
    assert await _brittle_confirm(apps, helpers) == {1: "sent", 2: "failed: whoops"}


async def check_raise_second_time_brittle_depends_on_order(apps: Apps) -> None:
    helpers = _module("brittle_helpers", BRITTLE_HELPERS_SOURCE)
    first = await _brittle_confirm(apps, helpers)
    # The next test that uses the helper starts with the counter the last one left.
    second = await _brittle_confirm(apps, helpers)
    assert first == {1: "sent", 2: "failed: whoops"}
    assert second == {1: "failed: whoops", 2: "failed: whoops"}


async def _saferemock_confirm(apps: Apps) -> tuple[dict[int, str], Any]:
    send = sm.async_sequence(None, RuntimeError("whoops"), spec=apps.notify.send_confirmation)
    with sm.patch("scenario_app.notify.send_confirmation", new=send):
        result: dict[int, str] = await apps.app.confirm_all([1, 2])
    return result, send


async def check_raise_second_time_saferemock(apps: Apps) -> None:
    result, send = await _saferemock_confirm(apps)
    assert result == {1: "sent", 2: "failed: whoops"}
    assert [c.args for c in send.await_args_list] == [(1,), (2,)]


async def check_raise_second_time_saferemock_is_order_free(apps: Apps) -> None:
    first, _ = await _saferemock_confirm(apps)
    second, _ = await _saferemock_confirm(apps)
    assert first == second == {1: "sent", 2: "failed: whoops"}


CHECKS = [value for name, value in dict(globals()).items() if name.startswith("check_")]


@pytest.mark.anyio
@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
async def test_on_anyio_backends(
    check: Callable[[Apps], Coroutine[Any, Any, None]], apps: Apps
) -> None:
    await check(apps)


@pytest.mark.asyncio
@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
async def test_under_pytest_asyncio(
    check: Callable[[Apps], Coroutine[Any, Any, None]], apps: Apps
) -> None:
    await check(apps)


def test_every_scenario_has_its_four_checks() -> None:
    names = [check.__name__ for check in CHECKS]
    assert len(names) == 21
    for scenario in ("httpx", "retry", "pages", "stream", "raise_second_time"):
        assert f"check_{scenario}_brittle" in names
        assert f"check_{scenario}_saferemock" in names


def test_the_scenarios_run_under_anyio_run_too() -> None:
    # Outside any pytest plugin: anyio.run on both backends, as a library user would.
    async def main() -> None:
        with sm.patch.dict(
            sys.modules,
            {
                "scenario_httpx": made.httpx,
                "scenario_notify": made.notify,
                "scenario_app": made.app,
            },
        ):
            await check_httpx_saferemock(made)
            await check_retry_saferemock(made)
            await check_stream_saferemock(made)

    for backend in ("asyncio", "trio"):
        made = Apps()
        anyio.run(main, backend=backend)
    assert "scenario_app" not in sys.modules
