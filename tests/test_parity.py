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
    snap = Snapshot(patchtargets, json, os.environ, Counter, SubCounter)
    yield
    assert active_runs() == []
    snap.assert_unchanged()


@pytest.fixture(params=["mocker", "safemock"])
def double(request: pytest.FixtureRequest) -> Any:
    """``mocker`` or ``safemock``: the same test body runs with each."""
    return request.getfixturevalue(request.param)


class Counter:
    """Something to spy on, with one attribute of each kind."""

    def add(self, x: int, y: int = 1) -> int:
        return x + y

    async def fetch(self, key: str) -> str:
        await asyncio.sleep(0)
        if not key:
            raise KeyError(key)
        return key.upper()

    @staticmethod
    def double(x: int) -> int:
        return 2 * x

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @property
    def size(self) -> int:
        return 7

    def countdown(self, start: int) -> Iterator[int]:
        return iter(range(start, 0, -1))


class SubCounter(Counter):
    pass


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


# -- patch, patch.object, patch.dict, create_autospec --------------------------------------


def test_patch_starts_at_once_and_returns_the_mock(double: Any) -> None:
    greet = double.patch("patchtargets.greet", return_value="hi")
    assert patchtargets.use_greet() == "hi"
    greet.assert_called_once_with("world")
    constant = double.patch("patchtargets.CONSTANT", 7)
    assert constant == patchtargets.CONSTANT == 7
    created = double.patch("patchtargets.EXTRA", create=True, new_callable=double.Mock)
    assert patchtargets.EXTRA is created  # type: ignore[attr-defined]
    loads = double.patch.object(json, "loads", return_value={"a": 1})
    assert json.loads("[]") == {"a": 1}
    loads.assert_called_once_with("[]")
    environ = double.patch.dict(os.environ, {"SAFEREMOCK_PARITY": "1"})
    assert environ is os.environ
    assert os.environ["SAFEREMOCK_PARITY"] == "1"
    service = double.patch("patchtargets.Service", autospec=True)
    patchtargets.Service("host").method(1)
    service.return_value.method.assert_called_once_with(1)


def test_create_autospec_checks_calls_and_attributes(double: Any) -> None:
    service = double.create_autospec(patchtargets.Service, instance=True)
    service.method(1, y=2)
    service.method.assert_called_once_with(1, y=2)
    with pytest.raises(TypeError, match="missing a required argument: 'x'"):
        service.method()
    with pytest.raises(AttributeError, match="Mock object has no attribute 'methd'"):
        service.methd


def test_patch_autospecs_by_default_where_mocker_makes_a_magicmock(
    mocker: Any, safemock: Any
) -> None:
    plain = mocker.patch("patchtargets.greet")
    patchtargets.greet("too", "many", "arguments", colour="red")
    plain.assert_called_once()
    mocker.stop(plain)
    specced = safemock.patch("patchtargets.greet")
    with pytest.raises(TypeError, match="too many positional arguments"):
        patchtargets.greet("too", "many")
    with pytest.raises(AttributeError, match="has no attribute 'retrun_value'"):
        specced.retrun_value
    plain = safemock.patch("patchtargets.use_greet", autospec=False)
    patchtargets.use_greet("anything")  # type: ignore[call-arg]
    plain.assert_called_once_with("anything")


def test_a_misspelt_target_raises_at_once_naming_the_fix(mocker: Any, safemock: Any) -> None:
    with pytest.raises(AttributeError) as plain:
        mocker.patch("patchtargets.gret")
    assert (
        str(plain.value)
        == "<module 'patchtargets' from '"
        + str(patchtargets.__file__)
        + "'> does not have the attribute 'gret'"
    )
    with pytest.raises(sm.TargetAttributeError) as info:
        safemock.patch("patchtargets.gret")
    assert str(info.value) == (
        "module 'patchtargets' has no attribute 'gret'; did you mean 'greet'? Pass "
        "create=True to add it."
    )


def test_patch_context_manager_is_not_needed_patch_works_both_ways(
    mocker: Any, safemock: Any
) -> None:
    # pytest-mock warns when a started mock is used as a context manager, and has
    # patch.context_manager to patch one quietly; saferemock's patch is already a
    # context manager (sm.patch) and starts at once on the fixture (safemock.patch).
    assert hasattr(mocker.patch, "context_manager")
    assert not hasattr(safemock.patch, "context_manager")
    noisy = mocker.patch("patchtargets.Base")
    with pytest.warns(UserWarning, match="do not need to be used as context managers"), noisy:
        pass
    quiet = safemock.patch("patchtargets.Service", autospec=False)
    with quiet as entered:  # the suite runs with warnings as errors
        assert entered is quiet.__enter__.return_value
    with sm.patch("patchtargets.greet", return_value="block"):
        assert patchtargets.use_greet() == "block"
    assert patchtargets.use_greet() == "hello world!"


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


# -- spy ------------------------------------------------------------------------------------


def test_spy_runs_the_original_and_records_calls_and_results(double: Any) -> None:
    counter = Counter()
    add = double.spy(Counter, "add")
    assert counter.add(1, y=2) == 3
    assert counter.add(5) == 6
    add.assert_called_with(counter, 5)
    assert add.call_count == 2
    assert add.spy_return == 6
    assert add.spy_return_list == [3, 6]
    assert add.spy_exception is None
    loads = double.spy(json, "loads")
    with pytest.raises(json.JSONDecodeError):
        json.loads("{")
    assert isinstance(loads.spy_exception, json.JSONDecodeError)
    assert loads.spy_return is None
    assert json.loads("[]") == []
    assert loads.spy_exception is None


def test_spy_on_an_instance_a_staticmethod_and_an_async_method(double: Any) -> None:
    counter = Counter()
    add = double.spy(counter, "add")
    assert counter.add(1) == 2
    add.assert_called_once_with(1)
    twice = double.spy(Counter, "double")
    assert Counter.double(2) == 4
    assert counter.double(3) == 6
    assert twice.spy_return_list == [4, 6]
    fetch = double.spy(Counter, "fetch")
    assert asyncio.run(counter.fetch("a")) == "A"
    assert fetch.spy_return == "A"
    with pytest.raises(KeyError):
        asyncio.run(counter.fetch(""))
    assert isinstance(fetch.spy_exception, KeyError)
    fetch.assert_awaited_with(counter, "")


def test_spy_checks_the_signature_of_a_function(double: Any) -> None:
    add = double.spy(Counter, "add")
    with pytest.raises(TypeError, match="too many positional arguments"):
        Counter().add(1, 2, 3)
    assert add.spy_return_list == []


def test_spy_duplicate_iterators_keeps_a_copy(double: Any) -> None:
    countdown = double.spy(Counter, "countdown", duplicate_iterators=True)
    assert list(Counter().countdown(3)) == [3, 2, 1]
    assert list(countdown.spy_return_iter) == [3, 2, 1]


def test_resetall_clears_a_spys_records_and_it_keeps_calling_the_original(double: Any) -> None:
    add = double.spy(Counter, "add")
    Counter().add(1)
    add.side_effect = ValueError("stubbed")
    double.resetall(side_effect=True)
    assert (add.call_count, add.spy_return, add.spy_return_list) == (0, None, [])
    assert Counter().add(2) == 3
    double.stop(add)
    assert Counter.add is not add


def test_a_spied_classmethod_keeps_its_class_where_pytest_mock_loses_it(
    mocker: Any, safemock: Any
) -> None:
    # pytest-mock's spy of a classmethod calls it bound to the class it was spied on,
    # whatever subclass the code used; saferemock's hands the original its real class.
    name = mocker.spy(Counter, "name")
    assert SubCounter.name() == "Counter"
    mocker.stop(name)
    name = safemock.spy(Counter, "name")
    assert SubCounter.name() == "SubCounter"
    assert Counter.name() == "Counter"
    assert name.call_args_list == [sm.call(), sm.call()]


def test_a_spied_property_records_reads_where_pytest_mock_replaces_it(
    mocker: Any, safemock: Any
) -> None:
    counter = Counter()
    size = mocker.spy(Counter, "size")
    assert isinstance(counter.size, unittest.mock.MagicMock)
    mocker.stop(size)
    size = safemock.spy(Counter, "size")
    assert counter.size == 7
    size.assert_called_once_with(counter)
    assert size.spy_return == 7


def test_a_spied_class_is_autospecced_where_pytest_mock_makes_a_magicmock(
    mocker: Any, safemock: Any
) -> None:
    plain = mocker.spy(patchtargets, "Service")
    with pytest.raises(TypeError, match="takes 2 positional arguments but 3 were given"):
        patchtargets.Service("host", "extra")  # refused by the real class, once recorded
    assert plain.call_count == 1
    assert isinstance(patchtargets.Service.no_such_method, unittest.mock.MagicMock)
    mocker.stop(plain)
    specced = safemock.spy(patchtargets, "Service")
    with pytest.raises(TypeError, match="too many positional arguments"):
        patchtargets.Service("host", "extra")
    assert specced.call_count == 0
    with pytest.raises(AttributeError, match="Mock object has no attribute 'no_such_method'"):
        patchtargets.Service.no_such_method


# -- the fixtures ---------------------------------------------------------------------------

# Plugins these suites do not need: fewer plugins, faster in-process runs.
QUIET = ("-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:anyio", "-p", "no:xdist")
QUIET += ("-p", "no:hypothesispytest", "-p", "no:randomly")

SCOPED_SUITE = """
import json

import pytest


@pytest.fixture(scope="{scope}")
def dumps({fixture}):
    return {fixture}.patch("json.dumps", return_value="patched")


class TestShared:
    def test_one(self, dumps):
        assert json.dumps(1) == "patched"

    def test_two(self, dumps):
        assert json.dumps(2) == "patched"
        assert dumps.call_count == 2
"""


@pytest.mark.parametrize("scope", ["class", "module", "package", "session"])
@pytest.mark.parametrize("tool", ["mocker", "safemock"])
def test_each_scoped_fixture_has_its_saferemock_twin(
    pytester: pytest.Pytester, scope: str, tool: str
) -> None:
    pytester.makepyfile(SCOPED_SUITE.format(scope=scope, fixture=f"{scope}_{tool}"))
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(passed=2)
    assert json.dumps(1) == "1"
