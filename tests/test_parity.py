"""pytest-mock parity: what a ``mocker`` user types works on ``safemock``.

Where the behaviour is meant to be the same, one test body runs with pytest-mock's
``mocker`` and with saferemock's ``safemock`` (the ``double`` fixture).  Where saferemock
differs on purpose (autospec by default, a spied classmethod that keeps its class, a
spied property), the difference is asserted side by side.
"""

from __future__ import annotations

import asyncio
import json
import os
import unittest.mock
from collections.abc import Iterator
from typing import Any

import patchtargets
import pytest
from statecheck import Snapshot, active_runs

import saferemock as sm

ALIASES = (
    "Mock",
    "MagicMock",
    "NonCallableMock",
    "NonCallableMagicMock",
    "AsyncMock",
    "PropertyMock",
    "call",
    "ANY",
    "DEFAULT",
    "sentinel",
    "mock_open",
    "seal",
)


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    snap = Snapshot(patchtargets, json, os.environ)
    yield
    assert active_runs() == []
    snap.assert_unchanged()


@pytest.fixture(params=["mocker", "safemock"])
def double(request: pytest.FixtureRequest) -> Any:
    """``mocker`` or ``safemock``: the same test body runs with each."""
    return request.getfixturevalue(request.param)


# -- aliases ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALIASES)
def test_each_alias_is_unittest_mocks_own_object(double: Any, name: str) -> None:
    assert getattr(double, name) is getattr(unittest.mock, name)
    assert getattr(sm, name) is getattr(unittest.mock, name)
    assert getattr(sm.SafeMock, name) is getattr(unittest.mock, name)
    assert name in sm.__all__


def test_the_aliases_do_in_a_test_what_unittest_mock_does(double: Any) -> None:
    handler = double.MagicMock()
    handler(1, token=double.sentinel.token)
    handler.assert_called_once_with(double.ANY, token=double.sentinel.token)
    assert handler.call_args == double.call(1, token=double.sentinel.token)
    double.seal(handler)
    with pytest.raises(AttributeError, match=r"mock\.unknown"):
        handler.unknown
    opened = double.mock_open(read_data="data")
    assert opened("f.txt").read() == "data"
    assert isinstance(double.Mock(), unittest.mock.Mock)
    assert not callable(double.NonCallableMock())
    assert len(double.NonCallableMagicMock()) == 0

    class Config:
        mode = double.PropertyMock(return_value="test")

    assert Config().mode == "test"
    assert asyncio.run(double.AsyncMock(return_value=1)()) == 1
    assert double.DEFAULT is unittest.mock.DEFAULT


# -- patch.multiple -----------------------------------------------------------------------


def test_patch_multiple_returns_the_mocks_made_for_default(double: Any) -> None:
    mocks = double.patch.multiple("patchtargets", greet=double.DEFAULT, CONSTANT=7)
    assert list(mocks) == ["greet"]
    assert patchtargets.greet is mocks["greet"]
    assert patchtargets.CONSTANT == 7
    mocks["greet"].return_value = "hi"
    assert patchtargets.use_greet() == "hi"
    mocks["greet"].assert_called_once_with("world")
    also = double.patch.multiple(patchtargets.Service, class_value="patched")
    assert also == {}
    assert patchtargets.Service.class_value == "patched"


def test_patch_multiple_autospecs_what_mocker_leaves_a_magicmock(
    mocker: Any, safemock: Any
) -> None:
    plain = mocker.patch.multiple(patchtargets, greet=mocker.DEFAULT)["greet"]
    plain("too", "many", "arguments")
    specced = safemock.patch.multiple(patchtargets, use_greet=safemock.DEFAULT)["use_greet"]
    with pytest.raises(TypeError, match="too many positional arguments"):
        specced("one too many")


# -- stub, async_stub ---------------------------------------------------------------------


def test_stub_accepts_any_arguments_and_records_them(double: Any) -> None:
    callback = double.stub("callback")
    callback(1, 2, key="value")
    callback()
    assert callback.call_args_list == [double.call(1, 2, key="value"), double.call()]
    assert repr(callback).startswith("<MagicMock name='callback' spec='function' id=")
    with pytest.raises(AttributeError, match="Mock object has no attribute 'missing'"):
        callback.missing
    assert double.stub().call_count == 0


def test_async_stub_records_the_call_and_the_await_apart(double: Any) -> None:
    handler = double.async_stub("handler")
    coroutine = handler(1, x=2)
    handler.assert_called_once_with(1, x=2)
    handler.assert_not_awaited()
    asyncio.run(coroutine)
    handler.assert_awaited_once_with(1, x=2)
    assert repr(handler).startswith("<AsyncMock name='handler' spec='function' id=")


# -- resetall, stop, stopall --------------------------------------------------------------


def test_resetall_resets_the_mocks_of_patches_and_create_autospec(double: Any) -> None:
    greet = double.patch("patchtargets.greet", return_value="hi")
    made = double.create_autospec(patchtargets.Service, instance=True)
    several = double.patch.multiple(patchtargets, use_greet=double.DEFAULT)
    greet("a")
    made.method(1)
    several["use_greet"]()
    double.resetall()
    assert (greet.call_count, made.method.call_count, several["use_greet"].call_count) == (0, 0, 0)
    assert patchtargets.greet("b") == "hi"
    greet.side_effect = ValueError("boom")
    double.resetall(side_effect=True)
    assert patchtargets.greet("c") == "hi"
    double.resetall(return_value=True)
    assert patchtargets.greet("d") != "hi"


def test_resetall_also_resets_stubs_and_return_values_of_function_specs(
    mocker: Any, safemock: Any
) -> None:
    # pytest-mock keeps no record of its stubs, and calls a function autospec's
    # reset_mock() without the flags; saferemock resets both as asked.
    for double in (mocker, safemock):
        callback = double.stub()
        function = double.create_autospec(patchtargets.greet, return_value="x")
        callback(1)
        function("a")
        double.resetall(return_value=True)
        reset = (callback.call_count, function.call_count, function("b"))
        if double is mocker:
            assert reset == (1, 0, "x")
        else:
            assert reset[:2] == (0, 0)
            assert reset[2] != "x"


def test_stop_undoes_the_one_patch_that_made_a_mock(double: Any) -> None:
    greet = double.patch("patchtargets.greet", return_value="hi")
    double.patch.object(patchtargets, "CONSTANT", 1)
    several = double.patch.multiple(patchtargets, use_greet=double.DEFAULT)
    double.stop(greet)
    assert patchtargets.greet("world") == "hello world!"
    assert patchtargets.CONSTANT == 1
    double.stop(several)
    assert patchtargets.use_greet() == "hello world!"
    with pytest.raises(ValueError):
        double.stop(greet)


def test_stop_of_an_unknown_mock_raises_value_error_that_says_the_fix(
    mocker: Any, safemock: Any
) -> None:
    with pytest.raises(ValueError) as plain:
        mocker.stop(unittest.mock.MagicMock())
    assert str(plain.value) == "This mock object is not registered"
    stranger = unittest.mock.MagicMock(name="stranger")
    with pytest.raises(ValueError) as info:
        safemock.stop(stranger)
    assert str(info.value) == (
        f"Cannot stop {stranger!r}: nothing this safemock started and still holds "
        "returned it; pass the mock that one of its methods, such as safemock.patch(), "
        "returned, and stop it only once."
    )


def test_stop_finds_a_mock_of_patch_multiple_where_pytest_mock_does_not(
    mocker: Any, safemock: Any
) -> None:
    made = mocker.patch.multiple(patchtargets, greet=mocker.DEFAULT)
    with pytest.raises(ValueError, match="This mock object is not registered"):
        mocker.stop(made["greet"])
    mocker.stop(made)
    made = safemock.patch.multiple(patchtargets, greet=safemock.DEFAULT, CONSTANT=3)
    safemock.stop(made["greet"])
    assert (patchtargets.greet("x"), patchtargets.CONSTANT) == ("hello x!", 42)


def test_stopall_undoes_everything_and_the_object_stays_usable(double: Any) -> None:
    double.patch("patchtargets.greet", return_value="hi")
    double.patch.dict("os.environ", {"SAFEREMOCK_PARITY": "1"})
    double.stopall()
    double.stopall()
    assert patchtargets.use_greet() == "hello world!"
    assert "SAFEREMOCK_PARITY" not in os.environ
    double.patch("patchtargets.greet", return_value="again")
    assert patchtargets.use_greet() == "again"
