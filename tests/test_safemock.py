"""SafeMock: every primitive as a method, started at once, undone together by close()."""

from __future__ import annotations

import asyncio
import builtins
import functools
import importlib
import inspect
import json
import os
import re
import sys
import xml
from collections.abc import Iterator, MutableMapping
from typing import Any
from unittest import mock

import modpkgs
import patchtargets
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from patchtargets import Base, Service
from statecheck import Snapshot, active_runs

import saferemock as sm
from saferemock._activation import Activation
from saferemock._undo import Journal

CLOSED = (
    "Cannot call safemock.{}(): this SafeMock is closed, so nothing started now would be "
    "undone; use the safemock of a fixture or test that is still running, or create a new "
    "SafeMock."
)


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    snap = Snapshot(patchtargets, Service, Base, json, os.environ)
    yield
    assert active_runs() == []
    snap.assert_unchanged()


class Recorder:
    """An object that logs every attribute write and delete, to observe undo order."""

    def __init__(self) -> None:
        object.__setattr__(self, "log", [])

    def __setattr__(self, name: str, value: object) -> None:
        self.log.append(f"set {name}={value}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.log.append(f"del {name}")
        object.__delattr__(self, name)


class FailingDict(MutableMapping[str, object]):
    """A mapping whose deletes fail once ``frozen`` is set: an undo step that raises."""

    def __init__(self) -> None:
        self.data: dict[str, object] = {}
        self.frozen = False

    def __getitem__(self, key: str) -> object:
        return self.data[key]

    def __setitem__(self, key: str, value: object) -> None:
        self.data[key] = value

    def __delitem__(self, key: str) -> None:
        if self.frozen:
            raise RuntimeError(f"cannot delete {key}")
        del self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


# -- every method mirrors its factory -----------------------------------------------------

FACTORIES = [
    "create_autospec",
    "fake_module_tree",
    "block_modules",
    "fresh_import",
    "patch_builtin",
    "fake_open",
    "fresh_attr",
    "clear_caches",
    "async_return",
    "async_raise",
    "async_sequence",
    "async_context_manager",
    "async_iterator",
    "stub",
    "async_stub",
    "spy",
]


def _parameters(func: Any) -> list[tuple[str, Any, Any]]:
    return [
        (p.name, p.kind, p.default)
        for p in inspect.signature(func).parameters.values()
        if p.name != "self"
    ]


@pytest.mark.parametrize("name", FACTORIES)
def test_each_method_shows_the_signature_of_its_factory(name: str) -> None:
    # The methods are derived from the factories; inspect (help(), IDEs) must see the
    # factory's parameters, not (*args, **kwargs), on the bound method too.
    assert _parameters(getattr(sm.SafeMock(), name)) == _parameters(getattr(sm, name))


@pytest.mark.parametrize("name", ["__call__", "object", "dict", "multiple"])
def test_patch_methods_have_the_signatures_of_sm_patch(name: str) -> None:
    bound = getattr(sm.SafeMock().patch, name)
    assert _parameters(bound) == _parameters(getattr(sm.patch, name))


# -- patch, patch.object, patch.dict ------------------------------------------------------


def test_patch_starts_at_once_autospecs_and_close_restores() -> None:
    snap = Snapshot(patchtargets)
    safemock = sm.SafeMock()
    greet = safemock.patch("patchtargets.greet", return_value="hi")
    assert patchtargets.use_greet() == "hi"
    with pytest.raises(TypeError, match="too many positional arguments"):
        patchtargets.greet("a", "b")
    greet.assert_called_once_with("world")
    safemock.close()
    snap.assert_unchanged()
    assert patchtargets.use_greet() == "hello world!"


def test_patch_forwards_every_argument() -> None:
    with sm.SafeMock() as safemock:
        assert safemock.patch("patchtargets.CONSTANT", 7) == 7
        assert patchtargets.CONSTANT == 7
        created = safemock.patch("patchtargets.EXTRA", create=True, new_callable=mock.Mock)
        assert isinstance(created, mock.Mock)
        assert not isinstance(created, mock.MagicMock)
        assert patchtargets.EXTRA is created  # type: ignore[attr-defined]
        plain = safemock.patch("patchtargets.fetch", autospec=False)
        assert isinstance(plain, mock.AsyncMock)
        specced = safemock.patch("patchtargets.Service", spec=True)
        with pytest.raises(AttributeError, match="Mock object has no attribute 'nope'"):
            specced.nope
    assert not hasattr(patchtargets, "EXTRA")


def test_patch_errors_are_the_primitive_errors_and_leave_nothing_owned() -> None:
    with sm.SafeMock() as safemock:
        with pytest.raises(sm.TargetAttributeError) as info:
            safemock.patch("patchtargets.gret")
        assert str(info.value) == (
            "module 'patchtargets' has no attribute 'gret'; did you mean 'greet'? "
            "Pass create=True to add it."
        )
        with pytest.raises(sm.InvalidTargetError) as invalid:
            safemock.patch("patchtargets")
        assert str(invalid.value) == (
            "Cannot patch 'patchtargets': the target must be 'module.attribute', such as "
            "'json.dumps'."
        )
        assert safemock.active_runs() == []


def test_require_use_is_forwarded_and_reported_at_close() -> None:
    safemock = sm.SafeMock()
    safemock.patch("patchtargets.greet", require_use=True)
    with pytest.raises(sm.UnusedPatchError) as info:
        safemock.close()
    assert str(info.value) == (
        "The patch of 'patchtargets.greet' was never used: nothing called it or read an "
        "attribute of it, which usually means the code under test imports the name from "
        "somewhere else; patch it where it is looked up."
    )


def test_two_failures_at_close_are_reported_together() -> None:
    safemock = sm.SafeMock()
    safemock.patch("patchtargets.greet", require_use=True)
    safemock.patch("patchtargets.use_greet", require_use=True)
    with pytest.raises(sm.UndoError) as info:
        safemock.close()
    assert [type(error) for error in info.value.errors] == [sm.UnusedPatchError] * 2
    assert info.value.steps == [
        "stopping the patch of 'patchtargets.use_greet'",
        "stopping the patch of 'patchtargets.greet'",
    ]


def test_close_failed_true_keeps_require_use_quiet() -> None:
    safemock = sm.SafeMock()
    safemock.patch("patchtargets.greet", require_use=True)
    safemock.close(failed=True)
    assert safemock.closed


def test_patch_object_forwards_and_restores_descriptors() -> None:
    snap = Snapshot(Service, Base)
    with sm.SafeMock() as safemock:
        static = safemock.patch.object(Service, "static", return_value=5)
        assert Service.static(1) == 5
        assert Service("h").static(1) == 5
        inherited = safemock.patch.object(Service, "inherited_value", "patched")
        assert inherited == "patched"
        assert Service.inherited_value == "patched"
        static.assert_called_with(1)
    snap.assert_unchanged()
    assert "inherited_value" not in vars(Service)


def test_patch_dict_returns_the_mapping_and_restores_items() -> None:
    target = {"keep": 1, "drop": 2}
    snap = Snapshot(target, os.environ)
    with sm.SafeMock() as safemock:
        assert safemock.patch.dict(target, {"new": 3}, clear=True) is target
        assert target == {"new": 3}
        env = safemock.patch.dict("os.environ", SAFEMOCK_TEST="1")
        assert env is os.environ
        assert os.environ["SAFEMOCK_TEST"] == "1"
    snap.assert_unchanged()
    assert target == {"keep": 1, "drop": 2}


def test_patch_multiple_returns_the_dict_of_mocks_and_close_restores() -> None:
    snap = Snapshot(patchtargets, Service)
    with sm.SafeMock() as safemock:
        mocks = safemock.patch.multiple(patchtargets, greet=sm.DEFAULT, CONSTANT=1)
        assert mocks == {"greet": patchtargets.greet}
        assert patchtargets.CONSTANT == 1
        made = safemock.patch.multiple("patchtargets.Service", static=sm.DEFAULT)
        made["static"].return_value = 3
        assert Service.static(1) == 3
        assert [run.value for run in safemock.active_runs()] == [mocks, made]
    snap.assert_unchanged()


def test_patch_namespace_is_bound_to_its_safemock() -> None:
    first, second = sm.SafeMock(), sm.SafeMock()
    first.patch.object(patchtargets, "CONSTANT", 1)
    second.patch.object(patchtargets, "CONSTANT", 2)
    first.close()
    assert patchtargets.CONSTANT == 2
    second.close()
    assert patchtargets.CONSTANT == 42
    assert repr(first.patch) == "<patch of <SafeMock closed>>"


def test_create_autospec_forwards_and_needs_no_undo() -> None:
    with sm.SafeMock() as safemock:
        service = safemock.create_autospec(Service, instance=True)
        service.method(1, y=2)
        with pytest.raises(TypeError, match=re.escape("missing a required argument: 'x'")):
            service.method()
        service.method.assert_called_once_with(1, y=2)
        greet = safemock.create_autospec(patchtargets.greet, return_value="x")
        assert greet("a") == "x"
        assert safemock.active_runs() == []


# -- fake_module_tree, block_modules, fresh_import ---------------------------------------


def test_fake_module_tree_installs_and_close_restores_sys_modules() -> None:
    snap = Snapshot(sys.modules, xml)
    with sm.SafeMock() as safemock:
        fakes = safemock.fake_module_tree(["confluent_kafka.schema_registry.avro", "xml.fakechild"])
        import confluent_kafka.schema_registry.avro as avro

        assert avro is fakes["confluent_kafka.schema_registry.avro"]
        assert xml.fakechild is fakes["xml.fakechild"]  # type: ignore[attr-defined]
        strict = safemock.fake_module_tree({"grpc": {"insecure_channel": "channel"}}, strict=True)
        assert strict["grpc"].insecure_channel == "channel"
        with pytest.raises(AttributeError) as info:
            strict["grpc"].secure_channel
        assert str(info.value) == (
            "module 'grpc' has no attribute 'secure_channel'; did you mean 'insecure_channel'? "
            "If not, this saferemock fake is strict, so declare it: "
            "fake_module_tree({'grpc': {'secure_channel': ...}}, strict=True)."
        )
        kept = safemock.fake_module_tree(["json"], keep_real=True)
        assert sys.modules["json"] is json
        assert kept["json"] is json
    snap.assert_unchanged()
    assert getattr(xml, "fakechild", None) is None


def test_fake_module_tree_bad_input_raises_and_leaves_nothing() -> None:
    snap = Snapshot(sys.modules)
    with sm.SafeMock() as safemock:
        with pytest.raises(sm.ModuleTreeError) as name:
            safemock.fake_module_tree(["a..b"])
        assert str(name.value) == (
            "'a..b' is not a module name: fake_module_tree() takes dotted Python identifiers "
            "such as 'confluent_kafka.schema_registry'."
        )
        with pytest.raises(sm.ModuleTreeError) as evict:
            safemock.fake_module_tree(["grpc"], evict="sometimes")  # type: ignore[arg-type]
        assert str(evict.value) == (
            "evict='sometimes' is not a choice: pass 'dependents' (the default), 'all' or 'none'."
        )
        assert safemock.active_runs() == []
    snap.assert_unchanged()


def test_block_modules_blocks_until_close() -> None:
    snap = Snapshot(sys.modules, xml)
    with sm.SafeMock() as safemock:
        assert safemock.block_modules("json", "xml.dom") is None
        message = "No module named {0!r}: saferemock.block_modules() blocked {0!r} for this test."
        with pytest.raises(ModuleNotFoundError, match=re.escape(message.format("json"))):
            import json as _  # noqa: F401
        with pytest.raises(ModuleNotFoundError) as info:
            importlib.import_module("xml.dom.minidom")
        assert str(info.value) == (
            "No module named 'xml.dom.minidom': saferemock.block_modules() blocked 'xml.dom' "
            "for this test."
        )
    snap.assert_unchanged()
    import json as again

    assert again is json


def test_fresh_import_applies_the_contract_and_close_undoes_it() -> None:
    import threading

    snap = Snapshot(sys.modules, os.environ, threading, modpkgs)
    with sm.SafeMock() as safemock:
        service = safemock.fresh_import(
            "modpkgs.threaded_service",
            fakes=["confluent_kafka"],
            env={"KAFKA_IP": "10.0.0.1", "KAFKA_PORT": "9092", "CURRENT_TOPIC": None},
            patches=["threading.Thread"],
        )
        assert service.KAFKA_IP == "10.0.0.1"
        assert service.TOPIC == "current"
        assert isinstance(threading.Thread, mock.NonCallableMock)
        threading.Thread.assert_called_once()
        (run,) = safemock.active_runs()
        assert run.activation.name == "modpkgs.threaded_service"
        blocked = safemock.fresh_import("modpkgs.plain", blocked=["decimal"])
        assert blocked.ANSWER == 42
    snap.assert_unchanged()
    assert "modpkgs.threaded_service" not in sys.modules


def test_a_failing_fresh_import_leaves_nothing_and_keeps_the_safemock_usable() -> None:
    snap = Snapshot(sys.modules, os.environ)
    with sm.SafeMock() as safemock:
        with pytest.raises(KeyError) as info:
            safemock.fresh_import("modpkgs.threaded_service", fakes=["confluent_kafka"])
        assert str(info.value) == "'KAFKA_IP'"
        assert info.value.__notes__ == [
            "saferemock.fresh_import('modpkgs.threaded_service') was importing it with fakes: "
            "confluent_kafka. All of it was undone."
        ]
        assert safemock.active_runs() == []
        snap.assert_unchanged()
        safemock.patch.dict(os.environ, SAFEMOCK_TEST="1")
    snap.assert_unchanged()


# -- patch_builtin and fake_open ----------------------------------------------------------


def test_patch_builtin_global_and_per_module_restore_exactly() -> None:
    snap = Snapshot(builtins, patchtargets)
    with sm.SafeMock() as safemock:
        fake_input = safemock.patch_builtin("input", return_value="yes")
        assert input("Continue? ") == "yes"
        fake_input.assert_called_once_with("Continue? ")
        with pytest.raises(TypeError, match="too many positional arguments"):
            input("a", "b")
        plain = safemock.patch_builtin("len", module=patchtargets, autospec=False)
        assert vars(patchtargets)["len"] is plain
        assert len([1]) == 1
        given = safemock.patch_builtin("print", new=print, module="patchtargets")
        assert given is print
    snap.assert_unchanged()


def test_patch_builtin_unknown_name_suggests() -> None:
    with sm.SafeMock() as safemock, pytest.raises(sm.TargetAttributeError) as info:
        safemock.patch_builtin("opne")
    assert str(info.value) == "'opne' is not a builtin; did you mean 'open'?"


def test_fake_open_serves_files_and_close_restores_open() -> None:
    import io

    snap = Snapshot(builtins, io, patchtargets)
    with sm.SafeMock() as safemock:
        fake = safemock.fake_open({"config.yaml": "debug: true"})
        with open("config.yaml") as f:
            assert f.read() == "debug: true"
        with open("out.bin", "wb") as f:
            f.write(b"done")
        assert fake.files["out.bin"] == b"done"
        fake.assert_any_call("config.yaml")
        with pytest.raises(FileNotFoundError), open("missing.txt"):
            pass
        local = safemock.fake_open({"a": "A"}, module=patchtargets, strict=False)
        assert vars(patchtargets)["open"] is local
    snap.assert_unchanged()


# -- resetall and stop ---------------------------------------------------------------------


def test_resetall_forgets_calls_of_every_primitive_but_keeps_what_they_work_by() -> None:
    with sm.SafeMock() as safemock:
        fake = safemock.fake_open({"config.yaml": "debug: true"})
        fresh = safemock.fresh_attr(Service, "prop")
        dumps = safemock.patch("json.dumps", return_value="x")
        env = safemock.patch.dict(os.environ, {"SAFEMOCK_TEST": "1"})
        with open("config.yaml") as f:
            f.read()
        Service("h").prop
        json.dumps(1)
        safemock.resetall(return_value=True, side_effect=True)
        assert (fake.call_count, fresh.call_count, dumps.call_count) == (0, 0, 0)
        with open("config.yaml") as f:
            assert f.read() == "debug: true"
        assert env["SAFEMOCK_TEST"] == "1"


def test_resetall_leaves_what_was_stopped_and_what_close_forgot() -> None:
    safemock = sm.SafeMock()
    stopped = safemock.patch("json.dumps")
    json.dumps(1)
    safemock.stop(stopped)
    safemock.resetall()
    assert stopped.call_count == 1
    callback = safemock.stub()
    callback()
    safemock.close()
    callback()
    assert callback.call_count == 2


def test_stop_raises_what_closing_the_primitive_raises_and_forgets_it() -> None:
    safemock = sm.SafeMock()
    greet = safemock.patch("patchtargets.greet", require_use=True)
    with pytest.raises(sm.UnusedPatchError):
        safemock.stop(greet)
    assert safemock.active_runs() == []
    with pytest.raises(ValueError, match=r"^Cannot stop <function greet at 0x"):
        safemock.stop(greet)
    safemock.close()


def test_stop_undoes_the_newest_primitive_that_returned_the_value() -> None:
    with sm.SafeMock() as safemock:
        given = mock.Mock()
        safemock.patch.object(patchtargets, "greet", given)
        safemock.patch.object(patchtargets, "use_greet", given)
        safemock.stop(given)
        assert patchtargets.greet is given
        assert patchtargets.use_greet is not given
        created = safemock.create_autospec(json.loads)
        with pytest.raises(ValueError):
            safemock.stop(created)


# -- fresh_attr and clear_caches ----------------------------------------------------------


def test_fresh_attr_gives_a_new_autospecced_mock_each_time_and_restores() -> None:
    snap = Snapshot(patchtargets, Service, Base)
    with sm.SafeMock() as safemock:
        first = safemock.fresh_attr("patchtargets.greet")
        first.return_value = "first"
        assert patchtargets.use_greet() == "first"
        with pytest.raises(TypeError, match="too many positional arguments"):
            patchtargets.greet("a", "b")
        safemock.stopall()
        second = safemock.fresh_attr(patchtargets, "greet")
        assert second is not first
        assert second.return_value != "first"
        prop = safemock.fresh_attr(Service, "prop")
        prop.return_value = "fake host"
        assert Service("real").prop == "fake host"
        inherited = safemock.fresh_attr(Service, "inherited_method", autospec=False)
        Service("h").inherited_method(1, 2, 3)
        inherited.assert_called_once_with(1, 2, 3)
        assert safemock.fresh_attr(patchtargets, "CONSTANT", new=7) == 7
        assert patchtargets.CONSTANT == 7
        assert len(safemock.active_runs()) == 4
    snap.assert_unchanged()
    assert "inherited_method" not in vars(Service)
    assert patchtargets.use_greet() == "hello world!"


def test_fresh_attr_errors_come_from_the_primitive() -> None:
    with sm.SafeMock() as safemock, pytest.raises(sm.InvalidTargetError) as info:
        safemock.fresh_attr("patchtargets.greet", "x")
    assert str(info.value) == (
        "Cannot use attribute='x' with the dotted target 'patchtargets.greet'; write the whole "
        "path as 'patchtargets.greet.x' or pass the object itself."
    )


LOADS: list[str] = []


@functools.cache
def cached_load(path: str) -> str:
    LOADS.append(path)
    return path.upper()


def test_clear_caches_clears_at_start_and_at_close() -> None:
    LOADS.clear()
    cached_load("a")
    with sm.SafeMock() as safemock:
        cleared = safemock.clear_caches(cached_load)
        assert cleared.names == (f"{__name__}.cached_load",)
        assert cached_load.cache_info().currsize == 0
        cached_load("a")
        assert LOADS == ["a", "a"]
        skipped = safemock.clear_caches("no_such_module_here", missing_ok=True)
        assert skipped.names == ()
        assert len(skipped.skipped) == 1
    assert cached_load.cache_info().currsize == 0


# -- async factories: new mocks, nothing to undo -------------------------------------------


def test_async_factories_forward_their_arguments_and_start_nothing() -> None:
    async def scenario(safemock: sm.SafeMock) -> list[object]:
        seen: list[object] = []
        fetch = safemock.async_return("value", spec=patchtargets.fetch)
        seen.append(await fetch("url"))
        fetch.assert_awaited_once_with("url")
        with pytest.raises(TypeError, match="too many positional arguments"):
            fetch("a", 1, 2)
        with pytest.raises(TimeoutError, match="slow"):
            await safemock.async_raise(TimeoutError("slow"), spec=patchtargets.fetch)("u")
        retry = safemock.async_sequence(TimeoutError, "ok", spec=patchtargets.fetch)
        with pytest.raises(TimeoutError):
            await retry("u")
        seen.append(await retry("u"))
        with pytest.raises(sm.SequenceExhaustedError):
            await retry("u")
        client = safemock.async_context_manager(enter="client", raises=None, suppress=True)
        async with client() as entered:
            seen.append(entered)
            raise KeyError("suppressed")
        assert isinstance(client.exception, KeyError)
        with pytest.raises(ValueError, match="enter failed"):
            async with safemock.async_context_manager(raises=ValueError("enter failed")):
                pass  # pragma: no cover
        pages = safemock.async_iterator([1, RuntimeError("page 2"), 3])
        with pytest.raises(RuntimeError, match="page 2"):
            async for page in pages:
                seen.append(page)
        return seen

    with sm.SafeMock() as safemock:
        assert asyncio.run(scenario(safemock)) == ["value", "ok", "client", 1]
        assert safemock.active_runs() == []


# -- close(): order, failures, exceptions, idempotence -------------------------------------


def test_close_undoes_newest_first() -> None:
    target = Recorder()
    target.a = 0  # type: ignore[attr-defined]
    target.log.clear()
    safemock = sm.SafeMock()
    safemock.patch.object(target, "a", 1)
    safemock.patch.object(target, "b", 2, create=True)
    safemock.patch.object(target, "a", 3)
    safemock.close()
    assert target.log == ["set a=1", "set b=2", "set a=3", "set a=1", "del b", "set a=0"]


def test_close_keeps_going_past_failures_and_raises_one_undo_error() -> None:
    first, second = FailingDict(), FailingDict()
    safemock = sm.SafeMock()
    safemock.patch.dict(first, {"x": 1})
    safemock.patch.object(patchtargets, "CONSTANT", 0)
    safemock.patch.dict(second, {"y": 2})
    first.frozen = second.frozen = True
    with pytest.raises(sm.UndoError) as info:
        safemock.close()
    assert str(info.value) == (
        "2 undo steps failed and the rest were undone: restoring FailingDict at "
        f"{id(second):#x}['y']: RuntimeError('cannot delete y'); restoring FailingDict at "
        f"{id(first):#x}['x']: RuntimeError('cannot delete x')."
    )
    assert [type(e) for e in info.value.errors] == [RuntimeError, RuntimeError]
    assert patchtargets.CONSTANT == 42
    assert safemock.closed
    assert safemock.active_runs() == []
    safemock.close()


def test_with_block_closes_after_an_exception_and_lets_it_through() -> None:
    snap = Snapshot(patchtargets, os.environ)
    with pytest.raises(KeyError, match="inside"), sm.SafeMock() as safemock:
        safemock.patch("patchtargets.greet")
        safemock.patch.dict(os.environ, SAFEMOCK_TEST="1")
        raise KeyError("inside")
    snap.assert_unchanged()
    assert safemock.closed


def test_close_after_an_exception_in_the_test_body() -> None:
    snap = Snapshot(patchtargets)
    safemock = sm.SafeMock()
    try:
        safemock.patch.object(patchtargets, "CONSTANT", 1)
        raise ValueError("test failed")
    except ValueError:
        pass
    finally:
        safemock.close()
    snap.assert_unchanged()


def test_close_is_idempotent_and_stopall_keeps_the_object_usable() -> None:
    safemock = sm.SafeMock()
    safemock.patch.object(patchtargets, "CONSTANT", 1)
    safemock.stopall()
    assert patchtargets.CONSTANT == 42
    assert not safemock.closed
    safemock.patch.object(patchtargets, "CONSTANT", 2)
    assert patchtargets.CONSTANT == 2
    safemock.close()
    safemock.close()
    assert patchtargets.CONSTANT == 42
    assert repr(safemock) == "<SafeMock closed>"


def test_sm_stopall_leaves_what_a_safemock_started() -> None:
    # The addCleanup(patch.stopall) idiom must not undo a fixture's fakes.
    safemock = sm.SafeMock()
    safemock.patch.object(patchtargets, "CONSTANT", 1)
    started = sm.patch.object(patchtargets, "greet", None)
    started.start()
    sm.stopall()
    assert patchtargets.CONSTANT == 1
    assert not started.active
    safemock.close()
    assert patchtargets.CONSTANT == 42


def test_a_value_other_code_wrote_is_discarded_at_close() -> None:
    safemock = sm.SafeMock()
    safemock.patch.object(patchtargets, "CONSTANT", 1)
    patchtargets.CONSTANT = 5
    safemock.close()
    assert patchtargets.CONSTANT == 42


METHOD_CALLS: list[tuple[str, Any]] = [
    ("patch", lambda s: s.patch("json.dumps")),
    ("patch.object", lambda s: s.patch.object(json, "dumps")),
    ("patch.dict", lambda s: s.patch.dict(os.environ, {})),
    ("fake_module_tree", lambda s: s.fake_module_tree(["grpc"])),
    ("block_modules", lambda s: s.block_modules("grpc")),
    ("fresh_import", lambda s: s.fresh_import("json")),
    ("patch_builtin", lambda s: s.patch_builtin("open")),
    ("fake_open", lambda s: s.fake_open({})),
    ("fresh_attr", lambda s: s.fresh_attr("json.dumps")),
    ("clear_caches", lambda s: s.clear_caches("json")),
    ("stopall", lambda s: s.stopall()),
    ("resetall", lambda s: s.resetall()),
    ("stop", lambda s: s.stop(json.dumps)),
    ("spy", lambda s: s.spy(json, "dumps")),
]


def test_the_factories_of_new_mocks_still_work_on_a_closed_safemock() -> None:
    # They change nothing global, so there is nothing a closed object could fail to undo.
    safemock = sm.SafeMock()
    safemock.close()
    assert safemock.create_autospec(json.dumps, return_value="x")([]) == "x"
    assert asyncio.run(safemock.async_return(1)()) == 1
    assert safemock.stub("late")() is not None


@pytest.mark.parametrize(("method", "call"), METHOD_CALLS, ids=[m for m, _ in METHOD_CALLS])
def test_every_method_refuses_a_closed_safemock(method: str, call: Any) -> None:
    safemock = sm.SafeMock()
    safemock.close()
    with pytest.raises(sm.SaferemockError) as info:
        call(safemock)
    assert str(info.value) == CLOSED.format(method)


# -- ownership: what belongs to the fixture ------------------------------------------------


def test_what_a_safemock_starts_belongs_to_it_until_close() -> None:
    safemock = sm.SafeMock(intentional=True)
    assert safemock.intentional
    assert repr(safemock) == "<SafeMock 0 active, intentional>"
    safemock.patch.object(patchtargets, "CONSTANT", 1)
    (run,) = safemock.active_runs()
    assert active_runs() == [run]
    assert run.root().holder == "intentional fakes"
    assert repr(safemock) == "<SafeMock 1 active, intentional>"
    safemock.close()
    assert active_runs() == []
    assert not sm.SafeMock().intentional
    assert sm.SafeMock(holder="fixture 'fakes'").holder == "fixture 'fakes'"


def test_runs_started_by_the_test_itself_are_not_owned_or_stopped() -> None:
    own = sm.patch.object(patchtargets, "CONSTANT", 1)
    with sm.SafeMock() as safemock:
        own.start()
        safemock.patch("patchtargets.greet")
        assert [run.root().kind for run in active_runs()] == ["start", "safemock"]
    assert patchtargets.CONSTANT == 1
    own.stop()


def test_a_user_scope_does_not_stop_what_the_safemock_started() -> None:
    with sm.SafeMock() as safemock:
        with sm.scope():
            safemock.patch.object(patchtargets, "CONSTANT", 1)
            sm.patch.object(patchtargets, "greet", None).start()
        assert patchtargets.CONSTANT == 1
        assert patchtargets.greet is not None
    assert patchtargets.CONSTANT == 42


def test_an_inner_safemock_does_not_capture_an_outer_ones_runs() -> None:
    outer = sm.SafeMock()
    with sm.SafeMock():
        outer.patch.object(patchtargets, "CONSTANT", 1)
    assert patchtargets.CONSTANT == 1
    outer.close()
    assert patchtargets.CONSTANT == 42


class Composite(Activation[str]):
    """A primitive made of another one, applied into the same journal (as fresh_import)."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail

    def apply(self, journal: Journal) -> str:
        sm.patch.object(patchtargets, "CONSTANT", 1).apply(journal)
        if self.fail:
            raise RuntimeError("apply failed")
        return "value"


def test_the_parts_of_a_composite_are_one_run_of_the_safemock() -> None:
    safemock = sm.SafeMock()
    assert safemock._start("composite", Composite) == "value"
    assert patchtargets.CONSTANT == 1
    assert len(safemock.active_runs()) == 1
    safemock.close()
    assert patchtargets.CONSTANT == 42


def test_a_failing_start_leaves_nothing_behind() -> None:
    safemock = sm.SafeMock()
    with pytest.raises(RuntimeError, match="apply failed"):
        safemock._start("composite", lambda: Composite(fail=True))
    assert active_runs() == []
    assert patchtargets.CONSTANT == 42
    assert safemock.active_runs() == []
    safemock.close()


# -- a state machine over interleaved SafeMocks ---------------------------------------------


class Pool:
    """A patchable object and mapping the machine works on."""

    def __init__(self) -> None:
        self.a = "a0"
        self.b = "b0"


ATTRS = ["a", "b", "c"]
KEYS = ["x", "y"]


class SafeMockMachine(RuleBasedStateMachine):
    """Open, patch, stopall and close several SafeMocks in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = Pool()
        self.mapping: dict[str, object] = {"x": "x0"}
        self.snapshot = Snapshot(self.pool, self.mapping)
        self.open: list[sm.SafeMock] = []
        # (safemock, slot, value), oldest first: the model of what is in force.
        self.changes: list[tuple[sm.SafeMock, tuple[str, str], object]] = []
        self.counter = 0

    def _value(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    @precondition(lambda self: len(self.open) < 3)
    @rule()
    def open_one(self) -> None:
        self.open.append(sm.SafeMock())

    @precondition(lambda self: self.open)
    @rule(index=st.integers(0, 2), attr=st.sampled_from(ATTRS))
    def patch_attr(self, index: int, attr: str) -> None:
        safemock = self.open[index % len(self.open)]
        value = self._value()
        safemock.patch.object(self.pool, attr, value, create=True)
        self.changes.append((safemock, ("attr", attr), value))

    @precondition(lambda self: self.open)
    @rule(index=st.integers(0, 2), key=st.sampled_from(KEYS))
    def patch_item(self, index: int, key: str) -> None:
        safemock = self.open[index % len(self.open)]
        value = self._value()
        safemock.patch.dict(self.mapping, {key: value})
        self.changes.append((safemock, ("item", key), value))

    @precondition(lambda self: self.open)
    @rule(index=st.integers(0, 2))
    def stopall(self, index: int) -> None:
        safemock = self.open[index % len(self.open)]
        safemock.stopall()
        self.changes = [c for c in self.changes if c[0] is not safemock]

    @precondition(lambda self: self.open)
    @rule(index=st.integers(0, 2))
    def close(self, index: int) -> None:
        safemock = self.open.pop(index % len(self.open))
        safemock.close()
        self.changes = [c for c in self.changes if c[0] is not safemock]

    @rule(attr=st.sampled_from(ATTRS), key=st.sampled_from(KEYS))
    def block_that_raises(self, attr: str, key: str) -> None:
        with pytest.raises(KeyError, match="inside"), sm.SafeMock() as safemock:
            safemock.patch.object(self.pool, attr, self._value(), create=True)
            safemock.patch.dict(self.mapping, {key: self._value()})
            raise KeyError("inside")

    @invariant()
    def state_matches_the_model(self) -> None:
        expected_attrs: dict[str, object] = {"a": "a0", "b": "b0"}
        expected_items: dict[str, object] = {"x": "x0"}
        for _, (kind, name), value in self.changes:
            (expected_attrs if kind == "attr" else expected_items)[name] = value
        assert vars(self.pool) == expected_attrs
        assert self.mapping == expected_items

    def teardown(self) -> None:
        for safemock in reversed(self.open):
            safemock.close()
        self.snapshot.assert_unchanged()
        assert active_runs() == []


SafeMockMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
test_safemock_machine = SafeMockMachine.TestCase
