"""Unit tests for ``sm.create_autospec``: each rule of the stdlib, and the laziness.

Wherever the stdlib raises, the test compares saferemock's message with the message
``unittest.mock.create_autospec`` gives on the running Python, and also states it.
"""

from __future__ import annotations

import asyncio
import gc
import http.client
import inspect
import json
import re
import sys
import threading
import warnings
import weakref
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from generated_classes import CALL_SHAPES, Generated, make_class
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from test_autospec_conformance import describe

import saferemock as sm
from saferemock import _autospec

_ID = re.compile(r"id='\d+'")


class Service:
    """A small spec with one of everything."""

    retries = 3

    def __init__(self, url: str, *, timeout: float = 1.0) -> None:
        self.url = url

    def fetch(self, path: str, params: dict[str, str] | None = None) -> str:
        return path

    async def fetch_async(self, path: str) -> str:
        return path

    @classmethod
    def from_env(cls, name: str) -> Service:
        return cls(name)

    @staticmethod
    def version() -> str:
        return "1"

    @property
    def healthy(self) -> bool:
        return True

    class Config:
        def load(self, path: str) -> None:
            """Load a file."""


class AsyncResource:
    """An async context manager class with sync and async methods."""

    async def __aenter__(self) -> AsyncResource:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def read(self, size: int) -> bytes:
        return b""

    def close(self) -> None:
        """Release the resource."""


def _raised(action: Callable[[], Any]) -> tuple[type[BaseException], str]:
    """The exception an action raises, as (type, message without ids)."""
    with pytest.raises(Exception) as info:
        action()
    return type(info.value), _ID.sub("id=...", str(info.value))


def _both(action: Callable[[Any], Any]) -> tuple[Any, Any]:
    return action(mock.create_autospec), action(sm.create_autospec)


# -- what the mock is ----------------------------------------------------------------


def test_returns_unittest_mock_objects_with_the_stdlib_classes() -> None:
    made = sm.create_autospec(Service)
    assert isinstance(made, mock.MagicMock)
    assert type(made).__mro__[1] is mock.MagicMock
    assert isinstance(made.return_value, mock.NonCallableMagicMock)
    assert isinstance(made.fetch, mock.MagicMock)
    assert isinstance(made.fetch_async, mock.AsyncMock)
    assert isinstance(made, Service)


def test_describe_matches_the_stdlib_for_every_kind_of_attribute() -> None:
    for name in ("fetch", "fetch_async", "from_env", "version", "healthy", "retries", "Config"):
        std, ours = _both(lambda factory, name=name: describe(getattr(factory(Service), name)))
        assert std == ours, name


def test_repr_and_dir_match_the_stdlib() -> None:
    std, ours = mock.create_autospec(Service), sm.create_autospec(Service)
    assert _ID.sub("", repr(ours)) == "<MagicMock spec='Service' >"
    assert _ID.sub("", repr(ours.fetch)) == "<MagicMock name='mock.fetch' spec='function' >"
    assert _ID.sub("", repr(ours.return_value)) == _ID.sub("", repr(std.return_value))
    assert dir(ours) == dir(std)
    assert dir(ours.return_value) == dir(std.return_value)


def test_usual_mock_api_works() -> None:
    made = sm.create_autospec(Service)
    made.fetch.return_value = "body"
    assert made.fetch("/a") == "body"
    made.fetch.assert_called_once_with("/a")
    made.fetch.side_effect = KeyError("k")
    with pytest.raises(KeyError):
        made.fetch("/b")
    assert made.mock_calls == [mock.call.fetch("/a"), mock.call.fetch("/b")]
    made.assert_has_calls([mock.call.fetch(path="/a")])


# -- rejections, with the stdlib's messages -----------------------------------------


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda m: m.fetch(), "missing a required argument: 'path'"),
        (lambda m: m.fetch("/", {}, 3), "too many positional arguments"),
        (lambda m: m.fetch("/", colour=1), "got an unexpected keyword argument 'colour'"),
        (lambda m: m(), "missing a required argument: 'url'"),
        (lambda m: m("u", 1), "too many positional arguments"),
        (lambda m: m.from_env(), "missing a required argument: 'name'"),
        (lambda m: m.version(1), "too many positional arguments"),
        (lambda m: m.return_value.fetch(), "missing a required argument: 'path'"),
        (lambda m: m.Config.return_value.load(), "missing a required argument: 'path'"),
        (lambda m: m.return_value(), "'NonCallableMagicMock' object is not callable"),
        (lambda m: m.fetch_async(), "missing a required argument: 'path'"),
    ],
)
def test_wrong_calls_raise_type_error_as_the_stdlib(
    action: Callable[[Any], Any], message: str
) -> None:
    std, ours = _both(lambda factory: _raised(lambda: action(factory(Service))))
    assert ours == std == (TypeError, message)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda m: m.fetchh, "Mock object has no attribute 'fetchh'"),
        (lambda m: m.return_value.url, "Mock object has no attribute 'url'"),
        (lambda m: m.Config.missing, "Mock object has no attribute 'missing'"),
        (lambda m: m.assert_fetched, "Mock object has no attribute 'assert_fetched'"),
        (lambda m: m.__iter__, "Mock object has no attribute '__iter__'"),
    ],
)
def test_unknown_attributes_raise_attribute_error_as_the_stdlib(
    action: Callable[[Any], Any], message: str
) -> None:
    std, ours = _both(lambda factory: _raised(lambda: action(factory(Service))))
    assert ours == std == (AttributeError, message)


def test_spec_set_rejects_setting_unknown_attributes() -> None:
    def set_unknown(factory: Any) -> Any:
        made = factory(Service, spec_set=True)
        made.retries = 5  # on the spec: allowed
        made.return_value.fetch = None
        return _raised(lambda: setattr(made, "retriess", 5))

    std, ours = _both(set_unknown)
    assert ours == std == (AttributeError, "Mock object has no attribute 'retriess'")


def test_spec_set_applies_to_children() -> None:
    std, ours = _both(
        lambda factory: _raised(lambda: setattr(factory(Service, spec_set=True).Config, "x", 1))
    )
    assert ours == std == (AttributeError, "Mock object has no attribute 'x'")


def test_a_mock_as_spec_is_rejected() -> None:
    spec = mock.MagicMock()
    std, ours = _both(lambda factory: _raised(lambda: factory(spec)))
    assert (
        ours
        == std
        == (
            _autospec._InvalidSpecError,
            "Cannot autospec a Mock object. [object=<MagicMock id=...>]",
        )
    )


def test_an_attribute_that_is_already_a_mock_is_rejected_on_read() -> None:
    class Holder:
        client = mock.MagicMock()

    std, ours = _both(lambda factory: _raised(lambda: factory(Holder).client))
    assert ours == std
    assert ours[1].startswith("Cannot autospec attr 'client' from target ")
    assert "as it has already been mocked out." in ours[1]


def test_misspelt_keyword_arguments_raise_unless_unsafe() -> None:
    std, ours = _both(lambda factory: _raised(lambda: factory(Service, autospect=True)))
    assert (
        ours
        == std
        == (
            RuntimeError,
            "'autospect' might be a typo; use unsafe=True if this is intended",
        )
    )
    made = sm.create_autospec(Service, unsafe=True, autospect=True)
    assert made.autospect is True


# -- misspelt settings: return_valu=, m.side_affect = ... ----------------------------------


def _typo(target: str, name: str, setting: str) -> tuple[type[BaseException], str]:
    return (
        AttributeError,
        f"Cannot set {name!r} on {target}: its spec has no such attribute; did you mean "
        f"{setting!r}? Pass unsafe=True to set it anyway.",
    )


async def _fetch(url: str) -> str:
    return url


def _configured(made: Any, name: str) -> Any:
    # A function spec gives a function; the keywords configure the mock behind it.
    return getattr(made.mock if inspect.isfunction(made) else made, name)


@pytest.mark.parametrize(
    ("spec", "options"),
    [
        (Service, {}),
        (Service, {"instance": True}),
        (Service("u"), {}),
        (json, {}),
        (_fetch, {}),
        (json.dumps, {}),
    ],
    ids=["class", "instance=True", "instance spec", "module", "async def", "function"],
)
@pytest.mark.parametrize(
    ("name", "setting"),
    [
        ("return_valu", "return_value"),
        ("retrun_value", "return_value"),
        ("return_values", "return_value"),
        ("side_affect", "side_effect"),
        ("side_effects", "side_effect"),
        ("sideeffect", "side_effect"),
    ],
)
def test_a_misspelt_setting_keyword_is_refused(
    spec: Any, options: dict[str, Any], name: str, setting: str
) -> None:
    # The stdlib takes it for a new attribute: the mock then ignores what was meant.
    assert _configured(mock.create_autospec(spec, **options, **{name: 1}), name) == 1
    assert _raised(lambda: sm.create_autospec(spec, **options, **{name: 1})) == _typo(
        "mock", name, setting
    )
    made = sm.create_autospec(spec, **options, unsafe=True, **{name: 1})
    assert _configured(made, name) == 1


def test_a_misspelt_setting_on_a_spec_set_mock_says_what_was_meant() -> None:
    # spec_set refused it already, without saying why; unsafe=True leaves that refusal.
    assert _raised(lambda: sm.create_autospec(Service, spec_set=True, return_valu=1)) == _typo(
        "mock", "return_valu", "return_value"
    )
    std, ours = _both(
        lambda factory: _raised(lambda: factory(Service, spec_set=True, unsafe=True, return_valu=1))
    )
    assert ours == std == (AttributeError, "Mock object has no attribute 'return_valu'")


def test_a_misspelt_dotted_setting_keyword_names_the_child() -> None:
    assert _raised(
        lambda: sm.create_autospec(Service, **{"return_value.fetch.side_affect": KeyError})
    ) == _typo("mock().fetch", "side_affect", "side_effect")
    assert _raised(
        lambda: sm.create_autospec(Service, **{"fetch_async.return_valu": 1}, name="svc")
    ) == _typo("svc.fetch_async", "return_valu", "return_value")


@pytest.mark.parametrize(
    ("reach", "target"),
    [
        (lambda m: m, "mock"),
        (lambda m: m.fetch, "mock.fetch"),
        (lambda m: m.fetch_async, "mock.fetch_async"),
        (lambda m: m.return_value, "mock()"),
        (lambda m: m.Config, "mock.Config"),
        (lambda m: m.return_value.fetch, "mock().fetch"),
    ],
    ids=["mock", "method", "async method", "instance", "nested class", "instance method"],
)
def test_a_misspelt_setting_attribute_is_refused(reach: Callable[[Any], Any], target: str) -> None:
    child = reach(sm.create_autospec(Service))
    assert _raised(lambda: setattr(child, "return_valu", 1)) == _typo(
        target, "return_valu", "return_value"
    )
    assert _raised(lambda: setattr(child, "side_affect", KeyError)) == _typo(
        target, "side_affect", "side_effect"
    )
    assert "return_valu" not in vars(child)
    unsafe_child = reach(sm.create_autospec(Service, unsafe=True))
    unsafe_child.side_affect = KeyError
    assert unsafe_child.side_affect is KeyError


def test_patch_refuses_a_misspelt_setting_and_changes_nothing() -> None:
    dumps = json.dumps
    patcher = sm.patch("json.dumps", return_valu="{}")
    assert _raised(patcher.start) == _typo("dumps", "return_valu", "return_value")
    assert json.dumps is dumps
    with sm.patch.object(Service, "fetch", unsafe=True, side_affect=KeyError) as fetch:
        assert fetch.mock.side_affect is KeyError
    with sm.patch("http.client.HTTPConnection") as conn:
        with pytest.raises(AttributeError) as info:
            conn.return_value.request.side_affect = OSError
    assert str(info.value) == (
        "Cannot set 'side_affect' on HTTPConnection().request: its spec has no such "
        "attribute; did you mean 'side_effect'? Pass unsafe=True to set it anyway."
    )


class Recorder:
    """A spec whose own attributes are close to the mock's settings."""

    return_values: tuple[int, ...] = ()

    def side_effects(self) -> list[str]:
        return []


def test_names_on_the_spec_and_names_far_from_a_setting_can_still_be_set() -> None:
    made = sm.create_autospec(Recorder)
    made.return_values = (1,)  # on the spec
    made.side_effects.return_value = ["sent"]
    made.return_value.side_effects = mock.MagicMock(return_value=["mail"])
    assert made.return_value.side_effects() == ["mail"]
    for name in ("returned", "return_code", "reset_value", "retval", "effect", "_private"):
        setattr(made, name, 1)  # not on the spec, as the stdlib allows
        assert getattr(made, name) == 1
    made.return_value = "instance"
    made.side_effect = None
    assert made() == "instance"
    made.mock_add_spec(["return_valu"])  # a spec given later counts too
    made.return_valu = 2
    assert made.return_valu == 2


def test_spec_set_still_refuses_other_names_with_the_stdlib_message() -> None:
    std, ours = _both(
        lambda factory: _raised(lambda: setattr(factory(Service, spec_set=True), "results", 1))
    )
    assert ours == std == (AttributeError, "Mock object has no attribute 'results'")


# -- instance=True and the class's return value --------------------------------------


def test_instance_true_gives_a_non_callable_instance_mock() -> None:
    std, ours = _both(lambda factory: describe(factory(Service, instance=True)))
    assert ours == std
    made = sm.create_autospec(Service, instance=True)
    assert type(made).__name__ == "NonCallableMagicMock"
    made.fetch("/x")  # self is skipped
    made.fetch.assert_called_once_with("/x")


def test_instance_true_of_a_callable_class_is_callable() -> None:
    class Handler:
        def __call__(self, event: str) -> None:
            """Handle an event."""

    made = sm.create_autospec(Handler, instance=True)
    made("event")
    assert _raised(lambda: made()) == (TypeError, "missing a required argument: 'event'")
    assert describe(made) == describe(mock.create_autospec(Handler, instance=True))


def test_class_return_value_is_an_instance_autospec_made_on_first_read() -> None:
    made = sm.create_autospec(Service)
    assert made.__dict__["_mock_return_value"] is mock.DEFAULT
    instance = made("http://x")
    assert instance is made.return_value
    assert describe(instance) == describe(mock.create_autospec(Service).return_value)
    instance.fetch("/p")
    assert made.mock_calls == [mock.call("http://x"), mock.call().fetch("/p")]


def test_return_value_keyword_replaces_the_instance_autospec() -> None:
    sentinel = object()
    made = sm.create_autospec(Service, return_value=sentinel)
    assert made("u") is sentinel


def test_name_keyword_names_the_mock() -> None:
    std, ours = _both(lambda factory: describe(factory(Service, name="svc").fetch))
    assert ours == std
    assert _ID.sub("", repr(sm.create_autospec(Service, name="svc"))) == (
        "<MagicMock name='svc' spec='Service' >"
    )


def test_keyword_configuration_of_children_applies_on_every_version() -> None:
    # Python 3.13 applies dotted kwargs again once the children exist (gh-90848);
    # 3.10-3.12 silently drop them. saferemock applies them everywhere, as 3.13 does.
    config = {"fetch.return_value": "body", "return_value.fetch.return_value": "inner"}
    made = sm.create_autospec(Service, **config)
    assert made.fetch("/") == "body"
    assert made("u").fetch("/") == "inner"
    assert _raised(lambda: made.fetch()) == (TypeError, "missing a required argument: 'path'")
    assert _raised(lambda: made.return_value.fetch()) == (
        TypeError,
        "missing a required argument: 'path'",
    )
    if sys.version_info >= (3, 13):
        std = mock.create_autospec(Service, **config)
        assert describe(made.fetch) == describe(std.fetch)
        assert describe(made.return_value) == describe(std.return_value)


def test_keyword_configuration_sets_plain_attributes() -> None:
    def configure(factory: Any) -> Any:
        made = factory(Service, retries=5, side_effect=KeyError)
        return made.retries, _raised(lambda: made("u"))

    std, ours = _both(configure)
    assert ours == std == (5, (KeyError, ""))


# -- async ----------------------------------------------------------------------------


def test_awaiting_an_async_method_child_works() -> None:
    made = sm.create_autospec(Service)
    instance = made("u")
    instance.fetch_async.return_value = "payload"
    assert asyncio.run(instance.fetch_async("/a")) == "payload"
    instance.fetch_async.assert_awaited_once_with("/a")


def test_sync_methods_of_a_class_with_async_methods_never_make_coroutines() -> None:
    made = sm.create_autospec(AsyncResource)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = made.return_value.close()
        assert not inspect.iscoroutine(result)
        assert not inspect.isawaitable(result)
        del result
        gc.collect()
    assert isinstance(made.return_value.read, mock.AsyncMock)
    assert not isinstance(made.return_value.close, mock.AsyncMock)


def test_async_context_manager_class_works_with_async_with() -> None:
    made = sm.create_autospec(AsyncResource)

    async def use() -> bytes:
        async with made() as resource:
            assert resource is made.return_value  # __aenter__ returns self
            assert resource.close() is resource.close.return_value  # no coroutine
            return await resource.read(10)  # type: ignore[no-any-return]

    made.return_value.read.return_value = b"data"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert asyncio.run(use()) == b"data"
        gc.collect()
    made.return_value.read.assert_awaited_once_with(10)
    made.return_value.__aexit__.assert_awaited_once()
    assert isinstance(made.return_value.__aenter__, mock.AsyncMock)
    assert made.mock_calls[:3] == [mock.call(), mock.call().__aenter__(), mock.call().close()]


class Response:
    def text(self) -> str:
        return ""


class RequestContext:
    async def __aenter__(self) -> Response:
        return Response()

    async def __aexit__(self, *exc: object) -> None:
        return None


class Lock:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


class Unannotated:
    async def __aenter__(self):  # type: ignore[no-untyped-def]
        return self

    async def __aexit__(self, *exc):  # type: ignore[no-untyped-def]
        return None

    def ping(self) -> None:
        """Ping."""


def _enter(made: Any) -> Any:
    async def use() -> Any:
        async with made as entered:
            return entered

    return asyncio.run(use())


def test_async_with_hands_out_what_the_annotation_of_aenter_says() -> None:
    # Unannotated, `-> Self` or `-> "ClassName"`: the mock itself (the usual `return self`).
    for spec in (Unannotated, AsyncResource):
        made = sm.create_autospec(spec, instance=True)
        assert _enter(made) is made
    # Another class: an instance autospec of it, whose sync methods stay sync.
    entered = _enter(sm.create_autospec(RequestContext, instance=True))
    assert (
        _ID.sub("", repr(entered))
        == "<NonCallableMagicMock name='mock.__aenter__()' spec='Response' >"
    )
    assert entered.text() is entered.text.return_value
    assert _raised(lambda: entered.status) == (
        AttributeError,
        "Mock object has no attribute 'status'",
    )
    # `-> None`: None, as the real object gives.
    assert _enter(sm.create_autospec(Lock, instance=True)) is None


def test_the_class_mock_keeps_the_stdlib_aenter() -> None:
    # `async with` applies to instances; the class mock's own __aenter__ is the stdlib's.
    std, ours = _both(lambda factory: describe(factory(Unannotated).__aenter__.return_value))
    assert ours == std


def test_an_async_function_spec_is_an_async_mock() -> None:
    async def fetch(url: str) -> str:
        return url

    made = sm.create_autospec(fetch)
    assert asyncio.run(made("u")) is made.return_value
    made.assert_awaited_once_with("u")
    assert inspect.iscoroutinefunction(made) is inspect.iscoroutinefunction(
        mock.create_autospec(fetch)
    )


def test_an_async_function_spec_checks_and_records_calls_when_called() -> None:
    # Python 3.13's stdlib only checks the signature (and records the call) at the
    # first await (CPython gh-137594); saferemock checks where the call is made.
    async def fetch(url: str) -> str:
        return url

    made = sm.create_autospec(fetch)
    assert _raised(lambda: made()) == (TypeError, "missing a required argument: 'url'")
    assert _raised(lambda: made("u", 1)) == (TypeError, "too many positional arguments")
    pending = made("u")
    made.assert_called_once_with("u")
    made.assert_not_awaited()
    asyncio.run(pending)
    made.assert_awaited_once_with("u")
    std, ours = _both(lambda factory: _raised(lambda: factory(fetch, instance=True)))
    assert (
        ours
        == std
        == (
            RuntimeError,
            "Instance can not be True when create_autospec is mocking an async function",
        )
    )


# -- laziness and the cache ----------------------------------------------------------


def test_children_are_made_on_first_read_only() -> None:
    made = sm.create_autospec(Generated)
    assert made._mock_children == {}
    assert "m000_method" not in vars(made)
    child = made.m000_method
    assert list(made._mock_children) == ["m000_method"]
    assert vars(made)["m000_method"] is child  # where the stdlib keeps it too
    assert made.m000_method is child
    made.Nested.nested_method(1)
    assert sorted(made._mock_children) == ["Nested", "m000_method"]
    assert sorted(made.Nested._mock_children) == ["nested_method"]
    # int.real is an int: the child keeps the stdlib's pending marker for that one
    # name (seal relies on it) and builds nothing else.
    real = made.limit.real
    assert list(real._mock_children) == ["real"]
    assert isinstance(real._mock_children["real"], _autospec._SpecState)
    assert describe(real.real) == describe(mock.create_autospec(Generated).limit.real.real)
    assert list(real.real._mock_children) == ["real"]  # built lazily from the marker


def test_method_return_values_are_the_ones_the_stdlib_makes() -> None:
    std, ours = _both(lambda factory: factory(Service))
    assert describe(ours.fetch.return_value) == describe(std.fetch.return_value)
    assert ours.fetch("/") is ours.fetch.return_value
    assert describe(ours.fetch_async.return_value) == describe(std.fetch_async.return_value)


_DIR_CALLS: list[type] = []  # outside the metaclass: changing it would change the spec


class _CountingMeta(type):
    def __dir__(cls) -> list[str]:
        _DIR_CALLS.append(cls)
        return sorted(type.__dir__(cls))


def test_the_spec_of_a_class_is_computed_once() -> None:
    class Counted(metaclass=_CountingMeta):
        def run(self, a: int) -> None:
            """Run."""

    mock.NonCallableMock(spec=Counted)
    one_spec = len(_DIR_CALLS)  # what reading one spec costs (1, or 2 before 3.12)
    _DIR_CALLS.clear()
    mock.create_autospec(Counted)
    assert len(_DIR_CALLS) == 2 * (one_spec + 1)  # add_spec and the loop, class and ()
    _DIR_CALLS.clear()
    for _ in range(5):
        made = sm.create_autospec(Counted)
        made.return_value.run(1)
        made.run(1)
    assert [Counted] * one_spec == _DIR_CALLS


def test_the_cache_notices_a_changed_class() -> None:
    class Changing:
        def run(self, a: int) -> None:
            """Run."""

    assert not isinstance(sm.create_autospec(Changing).run, mock.AsyncMock)

    async def run(self: Any, a: int, b: int) -> None:
        """Run, now asynchronously."""

    Changing.run = run  # type: ignore[method-assign]
    Changing.added = 1  # type: ignore[attr-defined]
    made = sm.create_autospec(Changing)
    assert isinstance(made.run, mock.AsyncMock)
    assert _raised(lambda: made.run(1)) == (TypeError, "missing a required argument: 'b'")
    assert "added" in dir(made)
    assert describe(made.added) == describe(mock.create_autospec(Changing).added)


def test_the_cache_notices_a_changed_init() -> None:
    class Changing:
        def __init__(self, a: int) -> None:
            """Build."""

    sm.create_autospec(Changing)(1)

    def init(self: Any, a: int, b: int) -> None:
        """Build with two."""

    Changing.__init__ = init  # type: ignore[method-assign]
    assert _raised(lambda: sm.create_autospec(Changing)(1)) == (
        TypeError,
        "missing a required argument: 'b'",
    )


def test_the_cache_compares_without_calling_eq() -> None:
    # A patched attribute is a mock; comparing it with == would record a call on it.
    class Patched:
        def run(self) -> None:
            """Run."""

    sm.create_autospec(Patched)
    stand_in = mock.MagicMock()
    with sm.patch.object(Patched, "run", new=stand_in):
        with pytest.raises(_autospec._InvalidSpecError):
            sm.create_autospec(Patched).run
    assert stand_in.mock_calls == []


def test_an_instance_spec_is_not_kept_alive_by_the_cache() -> None:
    class Resource:
        def read(self) -> bytes:
            return b""

    resource = Resource()
    ref = weakref.ref(resource)
    made = sm.create_autospec(resource)
    made.read()
    del made, resource
    gc.collect()
    assert ref() is None


def test_instance_spec_attributes_are_read_when_first_read() -> None:
    # The one documented difference: the stdlib reads every attribute of an instance
    # spec (running its properties) when the mock is made; saferemock on first read.
    reads: list[str] = []

    class Lazy:
        @property
        def value(self) -> int:
            reads.append("value")
            return 1

    made = sm.create_autospec(Lazy())
    sm.create_autospec(Lazy(), instance=True)
    assert reads == []  # on every version: 3.10-3.12's coroutine scan is not run
    assert describe(made.value) == describe(mock.create_autospec(Lazy()).value)
    assert reads.count("value") >= 1


class Configured:
    """An instance spec whose properties fail until the object is set up."""

    def __init__(self) -> None:
        self.reads: list[str] = []
        self.handler = self.fetch  # a bound async method kept on the instance

    @property
    def token(self) -> str:
        self.reads.append("token")
        raise RuntimeError("no token configured")

    @property
    def loop(self) -> None:
        self.reads.append("loop")
        warnings.warn("the loop property is deprecated", DeprecationWarning, stacklevel=2)

    @property
    def called(self) -> bool:  # shadows the mock's own `called`
        self.reads.append("called")
        raise RuntimeError("not connected")

    @property
    def handlers(self) -> list[Any]:
        self.reads.append("handlers")
        raise RuntimeError("not connected")

    def get(self, url: str) -> str:
        return url

    async def fetch(self, url: str) -> str:
        return url

    @classmethod
    async def connect(cls, dsn: str) -> Configured:
        return cls()

    @staticmethod
    async def ping(host: str) -> bool:
        return True


def test_a_raising_property_of_an_instance_spec_raises_only_when_read() -> None:
    # Python 3.10-3.12's stdlib runs every property of an instance spec (its coroutine
    # scan reads them with getattr); sm.patch("app.client") then failed at start.
    spec = Configured()
    module = type(sys)("instance_spec_app")
    module.client = spec  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with sm.patch.object(module, "client") as client:
            assert spec.reads == []
            assert client.get("/") is client.get.return_value
            assert _raised(lambda: client.token) == (RuntimeError, "no token configured")
            assert _raised(lambda: client.loop) == (
                DeprecationWarning,
                "the loop property is deprecated",
            )
        made = sm.create_autospec(spec, instance=True)
        assert _raised(lambda: made.handlers) == (RuntimeError, "not connected")
    assert spec.reads == ["token", "loop", "handlers"]


def test_the_coroutine_scan_of_an_instance_spec_finds_async_methods_without_reading() -> None:
    spec = Configured()
    made = sm.create_autospec(spec)
    assert spec.reads == []
    assert sorted(made._spec_asyncs) == ["connect", "fetch", "handler", "ping"]
    assert isinstance(made.fetch, mock.AsyncMock)
    assert isinstance(made.handler, mock.AsyncMock)
    assert isinstance(made.connect, mock.AsyncMock)
    assert not isinstance(made.get, mock.AsyncMock)
    module_mock = sm.create_autospec(asyncio)
    assert "sleep" in module_mock._spec_asyncs
    assert isinstance(module_mock.sleep, mock.AsyncMock)


def test_reading_a_child_does_not_run_the_same_property_one_level_down() -> None:
    reads: list[int] = []

    class Node:
        def __init__(self, depth: int) -> None:
            self.depth = depth

        @property
        def next(self) -> Node:
            reads.append(self.depth)
            if self.depth:
                raise RuntimeError("the end of the list")
            return Node(self.depth + 1)

    made = sm.create_autospec(Node(0))
    child = made.next
    assert reads == [0]
    assert _raised(lambda: child.next) == (RuntimeError, "the end of the list")


def test_first_reads_from_many_threads_get_one_child() -> None:
    made = sm.create_autospec(Generated)
    seen: list[Any] = []
    barrier = threading.Barrier(8)

    def read() -> None:
        barrier.wait()
        seen.append(made.m006_method)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8
    assert all(child is seen[0] for child in seen)


# -- the rest of the mock API on a lazy mock ----------------------------------------


def test_assert_has_calls_sees_the_signature_of_an_unread_method() -> None:
    def check(factory: Any) -> Any:
        made = factory(Service)
        made.version()
        return _raised(lambda: made.assert_has_calls([mock.call.fetch(1, 2, 3)]))

    std, ours = _both(check)
    assert ours == std
    assert ours[1].startswith("Error processing expected calls.")


def test_reset_mock_with_return_value_matches_the_stdlib() -> None:
    def reset(factory: Any) -> Any:
        made = factory(Service)
        made.fetch
        made.reset_mock(return_value=True)
        return describe(made.return_value), describe(made.fetch.return_value)

    std, ours = _both(reset)
    assert ours == std


def test_seal_after_reset_mock_matches_the_stdlib() -> None:
    # From 3.12 the stdlib gives each method a return value up front; reset_mock(
    # return_value=True) drops it, so a later seal forbids making one.  A method the
    # lazy mock has not built yet must behave as if it had been reset too.
    def reset_then_seal(factory: Any) -> Any:
        made = factory(Service)
        made.reset_mock(return_value=True)
        mock.seal(made)
        try:
            return describe(made.fetch("/"))
        except AttributeError as exc:
            return str(exc)

    std, ours = _both(reset_then_seal)
    assert ours == std


def test_seal_matches_the_stdlib_and_stops_on_self_similar_specs() -> None:
    def seal(factory: Any) -> Any:
        made = factory(Service)
        mock.seal(made)
        # Before 3.12 a method's return value does not exist yet, so sealing forbids it.
        try:
            returned = describe(made.fetch("/"))
        except AttributeError as exc:
            returned = str(exc)
        return (
            returned,
            describe(made.retries),  # an int: int.real is an int, and so on
            _raised(lambda: made.unknown),
            repr(made.mock_calls),
        )

    std, ours = _both(seal)
    assert ours == std


def test_mock_add_spec_after_creation_matches_the_stdlib() -> None:
    def respec(factory: Any) -> Any:
        made = factory(Service)
        made.mock_add_spec(["fetch", "other"])
        return describe(made.fetch), describe(made.other), _raised(lambda: made.retries)

    std, ours = _both(respec)
    assert ours == std


def test_deleting_an_unread_method_matches_the_stdlib() -> None:
    def delete(factory: Any) -> Any:
        made = factory(Service)
        del made.fetch
        return _raised(lambda: made.fetch), "fetch" in dir(made)

    std, ours = _both(delete)
    assert ours == std == ((AttributeError, "fetch"), True)


def test_methods_named_like_mock_attributes_are_built_up_front() -> None:
    class Shadowing:
        def called(self) -> bool:
            return True

        def reset_mock(self, hard: bool) -> None:
            """Reset."""

    std, ours = _both(lambda factory: factory(Shadowing, instance=True))
    assert describe(ours.called) == describe(std.called)
    assert _raised(lambda: ours.reset_mock()) == _raised(lambda: std.reset_mock())


# -- other kinds of spec ------------------------------------------------------------


def test_module_spec_matches_the_stdlib() -> None:
    std, ours = mock.create_autospec(json), sm.create_autospec(json)
    assert describe(ours) == describe(std)
    assert describe(ours.dumps) == describe(std.dumps)
    assert _raised(lambda: ours.dumps(1, 2)) == _raised(lambda: std.dumps(1, 2))
    assert _raised(lambda: ours.dumpz) == (AttributeError, "Mock object has no attribute 'dumpz'")


@pytest.mark.parametrize("spec", [5, "text", [1, 2], {"a": 1}, None], ids=repr)
def test_plain_value_specs_match_the_stdlib(spec: Any) -> None:
    std, ours = _both(lambda factory: describe(factory(spec)))
    assert ours == std


def test_function_spec_is_the_stdlib_function_mock() -> None:
    def handler(event: str, *, retry: bool = False) -> None:
        """Handle."""

    made = sm.create_autospec(handler)
    assert inspect.isfunction(made)
    made("e", retry=True)
    made.assert_called_once_with("e", retry=True)
    assert _raised(lambda: made()) == (TypeError, "missing a required argument: 'event'")


def test_boto3_client_matches_the_stdlib() -> None:
    boto3 = pytest.importorskip("boto3")
    client = boto3.client("s3", region_name="us-east-1")
    std, ours = mock.create_autospec(client), sm.create_autospec(client)
    assert describe(ours) == describe(std)
    for name in ("get_object", "put_object", "list_objects_v2", "meta", "exceptions"):
        assert describe(getattr(ours, name)) == describe(getattr(std, name)), name
    ours.get_object(Bucket="b", Key="k")
    ours.get_object.assert_called_once_with(Bucket="b", Key="k")


# -- sm.patch uses it ----------------------------------------------------------------


def test_patch_of_a_class_uses_the_lazy_autospec() -> None:
    with sm.patch("http.client.HTTPConnection") as conn:
        assert http.client.HTTPConnection is conn
        assert conn._mock_children == {}
        http.client.HTTPConnection("example.com").request("GET", "/")
        assert _raised(lambda: http.client.HTTPConnection("h").request("GET")) == (
            TypeError,
            "missing a required argument: 'url'",
        )
    conn.return_value.request.assert_called_once_with("GET", "/")
    assert _ID.sub("", repr(conn)) == "<MagicMock name='HTTPConnection' spec='HTTPConnection' >"


def test_patch_object_of_a_method_checks_the_signature() -> None:
    with sm.patch.object(Service, "fetch") as fetch:
        Service("u").fetch("/p")
        assert _raised(lambda: Service("u").fetch()) == (
            TypeError,
            "missing a required argument: 'path'",
        )
    fetch.assert_called_once_with(mock.ANY, "/p")


# -- random sequences of operations against the stdlib --------------------------------

_SMALL = make_class(16, name="Small")
_NAMES = [*sorted(name for name in dir(_SMALL) if not name.startswith("__")), "nope"]


class SameAsStdlib(RuleBasedStateMachine):
    """Two mocks, one from each implementation, given the same operations."""

    @initialize(options=st.sampled_from([{}, {"instance": True}, {"spec_set": True}]))
    def build(self, options: dict[str, Any]) -> None:
        self.pair = (mock.create_autospec(_SMALL, **options), sm.create_autospec(_SMALL, **options))

    def _apply(self, action: Callable[[Any], Any]) -> None:
        outcomes = []
        for made in self.pair:
            try:
                result = action(made)
            except Exception as exc:
                outcomes.append(("raises", type(exc).__name__, _ID.sub("", str(exc))))
            else:
                if inspect.iscoroutine(result):
                    result.close()
                    result = "coroutine"
                outcomes.append(("ok", describe(result) if isinstance(result, mock.Base) else 0))
        assert outcomes[0] == outcomes[1]

    @rule(name=st.sampled_from(_NAMES), on_instance=st.booleans())
    def read(self, name: str, on_instance: bool) -> None:
        self._apply(lambda m: getattr(m.return_value if on_instance else m, name))

    @rule(name=st.sampled_from(_NAMES), shape=st.sampled_from(CALL_SHAPES))
    def call(self, name: str, shape: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
        self._apply(lambda m: getattr(m, name)(*shape[0], **shape[1]))

    @rule(name=st.sampled_from(_NAMES))
    def write(self, name: str) -> None:
        self._apply(lambda m: setattr(m, name, 1))

    @rule(name=st.sampled_from(_NAMES))
    def delete(self, name: str) -> None:
        self._apply(lambda m: delattr(m, name))

    @rule(return_value=st.booleans())
    def reset(self, return_value: bool) -> None:
        self._apply(lambda m: m.reset_mock(return_value=return_value))

    @invariant()
    def same_calls(self) -> None:
        if hasattr(self, "pair"):
            std, ours = self.pair
            assert repr(std.mock_calls) == repr(ours.mock_calls)
            assert dir(std) == dir(ours)


SameAsStdlib.TestCase.settings = settings(max_examples=40, stateful_step_count=20, deadline=None)
test_random_operations_match_the_stdlib = SameAsStdlib.TestCase


# -- function specs ------------------------------------------------------------------


def _plain(a: int, b: str = "x", *args: Any, c: int, d: int = 4, **kwargs: Any) -> str:
    """Every kind of parameter."""
    return b


def _positional_only(a: int, /, b: int) -> None:
    pass


def _no_parameters() -> None:
    pass


async def _coroutine(url: str, *, retries: int = 3) -> str:
    return url


class _Owner:
    def method(self, value: int) -> int:
        return value

    @classmethod
    def build(cls, name: str) -> _Owner:
        return cls()


_FUNCTION_SPECS = [
    _plain,
    _positional_only,
    _no_parameters,
    _coroutine,
    json.dumps,
    _Owner.method,
    _Owner().method,
    _Owner.build,
    (lambda x, y=1: x),
]
_FUNCTION_CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((), {}),
    ((1,), {}),
    ((1, 2), {}),
    ((1, "b", 3), {"c": 5}),
    ((1,), {"c": 5, "z": 6}),
    ((), {"a": 1, "b": 2}),
    ((_Owner(), 1), {}),
    (("u",), {"retries": 1}),
    ((object(),), {}),
]


def _call_outcome(made: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """What calling (and, for a coroutine, awaiting) the autospec does."""
    try:
        result = made(*args, **kwargs)
        if inspect.iscoroutine(result):
            # 3.13's stdlib checks the signature at the await, saferemock at the call;
            # awaiting makes both report the same outcome.
            result = asyncio.run(result)
    except Exception as error:
        return type(error), _ID.sub("id=...", str(error))
    return ("ok", _ID.sub("id=...", repr(result)))


def _exercise(spec: Any, factory: Any) -> list[Any]:
    made = factory(spec)
    seen: list[Any] = [
        type(made),
        made.__name__,
        made.__doc__,
        str(inspect.signature(made)),
        describe(made.mock),
        # 3.13's stdlib makes an ``async def``; saferemock a function marked as a
        # coroutine function (see test_an_async_function_spec_checks_...), with the mark.
        sorted(key for key in vars(made) if key not in ("mock", "_is_coroutine_marker")),
        _ID.sub("", repr(made.return_value)),
        made.return_value is made.mock.return_value,
    ]
    seen += [_call_outcome(made, args, kwargs) for args, kwargs in _FUNCTION_CALLS]
    records = [made.call_args, made.call_args_list, made.mock_calls, made.method_calls]
    seen += [made.called, made.call_count, *(_ID.sub("", repr(value)) for value in records)]
    made.reset_mock()
    seen += [made.called, made.call_count, repr(made.mock_calls), repr(made.mock.call_args)]
    made.return_value = 7
    made.side_effect = [1, mock.DEFAULT]
    seen += [_call_outcome(made, args, kwargs) for args, kwargs in _FUNCTION_CALLS]
    made.side_effect = ValueError("boom")
    seen += [_call_outcome(made, args, kwargs) for args, kwargs in _FUNCTION_CALLS]
    seen.append(sorted(made.mock._mock_children))
    return seen


@pytest.mark.parametrize("spec", _FUNCTION_SPECS, ids=lambda spec: spec.__qualname__)
def test_function_specs_behave_as_the_stdlib(spec: Any) -> None:
    std, ours = _both(lambda factory: _exercise(spec, factory))
    assert ours == std


@pytest.mark.parametrize("spec", _FUNCTION_SPECS, ids=lambda spec: spec.__qualname__)
def test_function_spec_assert_helpers_match_the_stdlib(spec: Any) -> None:
    def check(factory: Any) -> list[Any]:
        made = factory(spec)
        helpers = sorted(name for name in vars(made) if name.startswith("assert"))
        outcomes = [_raised(made.assert_called), _raised(made.assert_called_once)]
        made.assert_not_called()
        return [helpers, outcomes, inspect.iscoroutinefunction(made)]

    std, ours = _both(check)
    assert ours == std


def test_function_spec_as_a_child_is_registered_like_the_stdlib() -> None:
    def build(factory: Any) -> list[Any]:
        parent = mock.MagicMock()
        made = factory(_plain, _parent=parent, _name="child")
        made(1, c=2)
        return [
            parent._mock_children["child"] is made,
            _ID.sub("", repr(made.mock)),
            repr(parent.mock_calls),
            repr(parent.method_calls),
            repr(made.mock_calls),
        ]

    std, ours = _both(build)
    assert ours == std


def test_function_spec_keyword_configuration_matches_the_stdlib() -> None:
    def build(factory: Any) -> list[Any]:
        first = factory(_plain, return_value=3)
        second = factory(_plain, side_effect=KeyError("k"))
        third = factory(_plain, spec_set=True)
        return [
            first(1, c=2),
            _raised(lambda: second(1, c=2)),
            describe(third.mock),
            _raised(lambda: setattr(third.mock, "nope", 1)),
        ]

    std, ours = _both(build)
    assert ours == std


def test_a_function_spec_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    def spec(a: int, *, b: int = 2) -> None:
        pass

    sm.create_autospec(spec)
    reads: list[Any] = []
    read_signature = _autospec._std._get_signature_object

    def counting(*args: Any) -> Any:
        reads.append(args[0])
        return read_signature(*args)

    monkeypatch.setattr(_autospec._std, "_get_signature_object", counting)
    for _ in range(5):
        made = sm.create_autospec(spec)
        made(1, b=3)
        made.assert_called_once_with(1, b=3)
    assert reads == []
    # A changed function is read again.
    spec.__defaults__ = None
    spec.__kwdefaults__ = {"b": 5}
    sm.create_autospec(spec)
    assert reads
