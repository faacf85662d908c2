"""sm.patch, sm.patch.object and sm.patch.dict."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import re
import sys
from typing import Any
from unittest import mock

import patchtargets
import pytest
from patchtargets import Base, Service
from statecheck import Snapshot, active_runs

import saferemock as sm
from saferemock._patch import settings


@pytest.fixture(autouse=True)
def _clean() -> Any:
    snap = Snapshot(patchtargets, Service, Base, os.environ)
    yield
    assert active_runs() == []
    snap.assert_unchanged()


# -- autospec by default ------------------------------------------------------------------


def test_default_replacement_is_autospecced() -> None:
    with sm.patch("patchtargets.greet", return_value="hi") as greet:
        assert patchtargets.use_greet() == "hi"
        with pytest.raises(TypeError, match="too many positional arguments"):
            patchtargets.greet("a", "b")
        with pytest.raises(TypeError, match="got an unexpected keyword argument 'colour'"):
            patchtargets.greet("a", colour="red")
    greet.assert_called_once_with("world")


def test_autospecced_class_rejects_unknown_attributes_and_bad_calls() -> None:
    with sm.patch("patchtargets.Service") as service_cls:
        instance = patchtargets.Service("host")
        instance.method(1, y=2)
        with pytest.raises(AttributeError, match="Mock object has no attribute 'methd'"):
            instance.methd
        with pytest.raises(TypeError):
            instance.method()
        with pytest.raises(TypeError):
            patchtargets.Service()
    service_cls.assert_called_once_with("host")
    service_cls.return_value.method.assert_called_once_with(1, y=2)


def test_autospec_false_gives_a_plain_magicmock() -> None:
    with sm.patch("patchtargets.greet", autospec=False) as greet:
        patchtargets.greet(1, 2, 3, anything=True)
    assert type(greet).__mro__[1] is mock.MagicMock
    greet.assert_called_once_with(1, 2, 3, anything=True)


def test_autospec_false_on_async_function_gives_async_mock() -> None:
    with sm.patch("patchtargets.fetch", autospec=False) as fetch:
        assert isinstance(fetch, mock.AsyncMock)


def test_autospecced_async_function_is_awaitable() -> None:
    with sm.patch("patchtargets.fetch", return_value="mocked") as fetch:
        assert asyncio.run(patchtargets.fetch("u")) == "mocked"
        with pytest.raises(TypeError):
            patchtargets.fetch()
    fetch.assert_awaited_once_with("u")


def test_autospec_with_an_explicit_spec_object() -> None:
    with sm.patch("patchtargets.greet", autospec=patchtargets.fetch) as greet:
        with pytest.raises(TypeError):
            patchtargets.greet("u", 1, 2)
    assert greet.call_count == 0


def test_new_is_used_as_given_and_not_passed_to_the_decorated_function() -> None:
    sentinel = object()

    @sm.patch("patchtargets.CONSTANT", new=sentinel)
    def body(*args: Any) -> tuple[Any, ...]:
        assert patchtargets.CONSTANT is sentinel
        return args

    assert body() == ()


def test_spec_true_and_new_callable() -> None:
    with sm.patch("patchtargets.Service", spec=True) as service:
        with pytest.raises(AttributeError):
            service.nothing
        service.method
    with sm.patch("patchtargets.greet", new_callable=mock.NonCallableMagicMock) as greet:
        assert isinstance(greet, mock.NonCallableMagicMock)
    with sm.patch("patchtargets.greet", spec_set=True) as greet2, pytest.raises(AttributeError):
        greet2.not_there = 1


def test_spec_set_true_allows_what_the_original_has_and_refuses_new_attributes() -> None:
    with sm.patch("patchtargets.Service", spec_set=True) as service:
        assert isinstance(service, mock.MagicMock)
        service.method(1)
        service.class_value = "set"
        with pytest.raises(AttributeError):
            service.not_there = 1
    with sm.patch("patchtargets.Service", spec=True) as service:
        # spec=True checks reads only: a new attribute can still be set.
        service.not_there = 1
        assert service.not_there == 1


def test_spec_true_gives_a_specced_magicmock_not_an_autospec() -> None:
    with sm.patch("patchtargets.greet", spec=True) as greet:
        assert isinstance(greet, mock.MagicMock)
        # No signature check: an autospec would refuse a call without name.
        greet()
    assert greet.mock_calls == [mock.call()]


def test_spec_true_on_a_missing_attribute_names_the_target() -> None:
    with pytest.raises(sm.SaferemockError) as info:
        sm.patch("patchtargets.absent", create=True, spec=True).start()
    assert str(info.value) == (
        "Cannot use spec=True for 'patchtargets.absent': the attribute does not exist to "
        "take a spec from; pass a spec object instead."
    )


def test_autospec_with_an_object_takes_the_return_value_and_spec_set() -> None:
    with sm.patch("patchtargets.fetch", autospec=patchtargets.greet, return_value="r") as made:
        assert patchtargets.fetch("x") == "r"
        with pytest.raises(TypeError):
            patchtargets.fetch()
    made.assert_called_once_with("x")
    with sm.patch("patchtargets.fetch", autospec=patchtargets.greet, spec_set=True) as made:
        # An autospecced function is a real function; its mock carries the spec.
        with pytest.raises(AttributeError):
            made.mock.not_there = 1


def test_autospec_true_with_spec_set_refuses_new_attributes() -> None:
    with sm.patch("patchtargets.Service", autospec=True, spec_set=True) as service:
        service.method
        with pytest.raises(AttributeError):
            service.not_there = 1
    with sm.patch.object(patchtargets.Service, "static", autospec=True, spec_set=True) as static:
        with pytest.raises(AttributeError):
            static.mock.not_there = 1


def test_patch_object_passes_on_every_option() -> None:
    with sm.patch.object(json, "dumps", new_callable=dict) as made:
        assert made == {}
    with sm.patch.object(patchtargets, "Service", spec=True) as service:
        with pytest.raises(AttributeError):
            service.nothing
        # Unlike the default autospec, the instance it returns is a plain mock.
        assert service().anything is service.return_value.anything
    with sm.patch.object(patchtargets, "Service", spec_set=True) as service:
        with pytest.raises(AttributeError):
            service.not_there = 1
    with pytest.raises(sm.UnusedPatchError) as info:
        with sm.patch.object(patchtargets, "greet", require_use=True):
            pass
    assert str(info.value) == UNUSED


def test_patch_object_names_its_target_by_the_owner() -> None:
    class Outer:
        class Inner:
            x = 1

    assert sm.patch.object(json, "loads").target == "json.loads"
    assert sm.patch.object(Outer.Inner, "x").target == (
        "test_patch_object_names_its_target_by_the_owner.<locals>.Outer.Inner.x"
    )
    assert sm.patch.object(Outer.Inner(), "x").target == (
        "test_patch_object_names_its_target_by_the_owner.<locals>.Outer.Inner.x"
    )


@pytest.mark.parametrize(
    ("in_dict", "name"),
    [
        ({}, "the patch of a dict"),
        ("os.environ", "the patch of dict 'os.environ'"),
        (os.environ, "the patch of dict os.environ"),
        (sys.modules, "the patch of dict sys.modules"),
    ],
)
def test_stopping_a_dict_patch_that_is_not_active_names_it(in_dict: Any, name: str) -> None:
    with pytest.raises(sm.SaferemockError) as info:
        sm.patch.dict(in_dict).stop()
    assert str(info.value) == (
        f"Cannot stop {name}: it is not active; call start() first or stop it only once."
    )


def test_kwargs_configure_the_mock() -> None:
    with sm.patch("patchtargets.Service", **{"return_value.method.return_value": 7}):
        assert patchtargets.Service("h").method(1) == 7


# -- descriptors, inheritance, instances ----------------------------------------------------


def test_staticmethod_stays_callable_from_class_and_instance() -> None:
    raw = Service.__dict__["static"]
    with sm.patch.object(Service, "static", return_value=5) as static:
        assert Service.static(1) == 5
        assert Service("h").static(2) == 5
        with pytest.raises(TypeError):
            Service.static()
        assert isinstance(Service.__dict__["static"], staticmethod)
    assert static.call_args_list == [mock.call(1), mock.call(2)]
    assert Service.__dict__["static"] is raw


def test_an_inherited_staticmethod_patched_on_a_subclass_stays_static() -> None:
    class SubService(Service):
        pass

    with sm.patch.object(SubService, "static", return_value=5) as static:
        assert SubService.static(1) == 5
        # Stored unwrapped, the mock would bind the instance and record it as well.
        assert SubService("h").static(2) == 5
    assert static.call_args_list == [mock.call(1), mock.call(2)]
    assert "static" not in vars(SubService)
    assert SubService.static(3) == 3


def test_classmethod_is_specced_without_cls() -> None:
    raw = Service.__dict__["klass"]
    with sm.patch.object(Service, "klass", return_value=6) as klass:
        assert Service.klass(1) == 6
        assert Service("h").klass(2) == 6
        with pytest.raises(TypeError):
            Service.klass(1, 2)
    assert klass.call_args_list == [mock.call(1), mock.call(2)]
    assert Service.__dict__["klass"] is raw
    assert Service.klass(3) == 3


def test_method_on_class_records_self_like_unittest_mock() -> None:
    instance = Service("h")
    with sm.patch.object(Service, "method") as method:
        instance.method(1)
    method.assert_called_once_with(instance, 1)
    with mock.patch.object(Service, "method", autospec=True) as stdlib_method:
        instance.method(1)
    stdlib_method.assert_called_once_with(instance, 1)


def test_inherited_attribute_is_deleted_not_copied_down() -> None:
    with sm.patch.object(Service, "inherited_method") as inherited:
        assert "inherited_method" in vars(Service)
        Service("h").inherited_method(1)
    assert "inherited_method" not in vars(Service)
    assert Service.inherited_method is Base.inherited_method
    inherited.assert_called_once()


def test_property_and_instance_attribute() -> None:
    instance = Service("host")
    with sm.patch.object(Service, "prop", new=mock.PropertyMock(return_value="p")):
        assert instance.prop == "p"
    assert instance.prop == "host"
    with sm.patch.object(instance, "host", new="other"):
        assert instance.host == "other"
    assert vars(instance) == {"host": "host"}


# -- create and target errors --------------------------------------------------------------


def test_missing_attribute_is_refused_with_a_suggestion() -> None:
    with pytest.raises(sm.TargetAttributeError) as info:
        sm.patch("json.dump_s").start()
    assert str(info.value) == (
        "module 'json' has no attribute 'dump_s'; did you mean 'dumps'? Pass create=True to add it."
    )
    assert isinstance(info.value, AttributeError)


def test_missing_attribute_without_a_close_name() -> None:
    with pytest.raises(sm.TargetAttributeError) as info:
        sm.patch.object(Service, "zzzzzz").start()
    assert str(info.value) == (
        "class 'Service' has no attribute 'zzzzzz'; pass create=True to add it."
    )


def test_create_true_adds_then_removes() -> None:
    with sm.patch("patchtargets.brand_new", create=True) as new:
        assert patchtargets.brand_new is new  # type: ignore[attr-defined]
        new(1, 2, anything=3)
    assert not hasattr(patchtargets, "brand_new")


@pytest.mark.parametrize(
    ("target", "error", "message"),
    [
        (
            "json",
            sm.InvalidTargetError,
            "Cannot patch 'json': the target must be 'module.attribute', such as 'json.dumps'.",
        ),
        (
            "json..dumps",
            sm.InvalidTargetError,
            "Cannot patch 'json..dumps': the target must be 'module.attribute', such as "
            "'json.dumps'.",
        ),
        (
            42,
            sm.InvalidTargetError,
            "Cannot patch 42: the target must be a string such as 'json.dumps'; use "
            "patch.object(owner, 'name') to patch an object you hold.",
        ),
    ],
)
def test_malformed_targets_fail_at_construction(target: Any, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        sm.patch(target)
    assert str(info.value) == message


def test_unimportable_first_part_is_named() -> None:
    with pytest.raises(sm.TargetImportError) as info:
        sm.patch("jsonn.dumps").start()
    assert (
        str(info.value)
        == "Cannot resolve 'jsonn.dumps': no module named 'jsonn'; did you mean 'json'?"
    )
    with pytest.raises(sm.TargetImportError) as info2:
        sm.patch("qqqqzzzz.thing").start()
    assert str(info2.value) == (
        "Cannot resolve 'qqqqzzzz.thing': no module named 'qqqqzzzz'; check the spelling of "
        "'qqqqzzzz' or install it."
    )


def test_unresolvable_middle_part_is_named_with_a_suggestion() -> None:
    with pytest.raises(sm.TargetImportError) as info:
        sm.patch("xml.etree.ElementTre.parse").start()
    assert str(info.value) == (
        "Cannot resolve 'xml.etree.ElementTre.parse': module 'xml.etree' has no attribute or "
        "submodule 'ElementTre'; did you mean 'ElementTree'?"
    )


@pytest.mark.parametrize(
    ("target", "name", "message"),
    [
        (
            "qqqqzzzz.x",
            "qqqqzzzz",
            "Cannot resolve 'qqqqzzzz.x': no module named 'qqqqzzzz'; check the spelling of "
            "'qqqqzzzz' or install it.",
        ),
        (
            "json.qqqqzzzz.x",
            "json.qqqqzzzz",
            "Cannot resolve 'json.qqqqzzzz.x': module 'json' has no attribute or submodule "
            "'qqqqzzzz'.",
        ),
        (
            # Only top-level names are candidates: 'json.decoder' is not suggested.
            "jsondecoder.thing",
            "jsondecoder",
            "Cannot resolve 'jsondecoder.thing': no module named 'jsondecoder'; check the "
            "spelling of 'jsondecoder' or install it.",
        ),
        (
            # A plain module has no __path__: only its attributes are candidates.
            "json.decoder.JSONDecodr.x",
            "json.decoder.JSONDecodr",
            "Cannot resolve 'json.decoder.JSONDecodr.x': module 'json.decoder' has no "
            "attribute or submodule 'JSONDecodr'; did you mean 'JSONDecoder'?",
        ),
    ],
)
def test_unresolvable_parts_name_the_missing_module(target: str, name: str, message: str) -> None:
    with pytest.raises(sm.TargetImportError) as info:
        sm.patch(target).start()
    assert str(info.value) == message
    assert info.value.name == name


def test_a_misspelled_submodule_not_imported_yet_is_suggested(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import modpkgs

    monkeypatch.delitem(sys.modules, "modpkgs.plain", raising=False)
    monkeypatch.delattr(modpkgs, "plain", raising=False)
    with pytest.raises(sm.TargetImportError) as info:
        sm.patch("modpkgs.plian.x").start()
    assert str(info.value) == (
        "Cannot resolve 'modpkgs.plian.x': module 'modpkgs' has no attribute or submodule "
        "'plian'; did you mean 'plain'?"
    )
    assert "modpkgs.plain" not in sys.modules


def test_a_value_shadowing_its_submodule_gets_suggestions_from_its_attributes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As a package doing "from .version import version": the attribute is a str, with no
    # __dict__, while the submodule is still in sys.modules.
    import modpkgs.plain

    monkeypatch.setattr(modpkgs, "plain", "1.0")
    with pytest.raises(sm.TargetImportError) as info:
        sm.patch("modpkgs.plain.uper.x").start()
    assert str(info.value) == (
        "Cannot resolve 'modpkgs.plain.uper.x': 'str' object has no attribute or submodule "
        "'uper'; did you mean 'upper'?"
    )


def test_import_errors_inside_the_target_module_propagate(tmp_path: Any) -> None:
    (tmp_path / "broken_target_mod.py").write_text("import not_a_real_dependency_xyz\n")
    with sm.patch.object(__import__("sys"), "path", new=[str(tmp_path), *__import__("sys").path]):
        with pytest.raises(ModuleNotFoundError, match="not_a_real_dependency_xyz"):
            sm.patch("broken_target_mod.anything").start()
    __import__("sys").modules.pop("broken_target_mod", None)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"new": 1, "autospec": True},
            TypeError,
            "autospec creates the mock for you; pass either new= or autospec=, not both.",
        ),
        (
            {"new": 1, "new_callable": mock.Mock},
            ValueError,
            "Cannot use 'new' and 'new_callable' together.",
        ),
        (
            {"autospec": True, "new_callable": mock.Mock},
            ValueError,
            "Cannot use 'autospec' and 'new_callable' together.",
        ),
        (
            {"new": 1, "return_value": 2},
            TypeError,
            "Cannot configure the mock with ['return_value'] when new= is given; configure "
            "the object you pass as new instead.",
        ),
    ],
)
def test_conflicting_arguments(kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error) as info:
        sm.patch("patchtargets.greet", **kwargs)
    assert str(info.value) == message


def test_patch_object_needs_a_string_attribute() -> None:
    with pytest.raises(TypeError) as info:
        sm.patch.object(Service, 3)  # type: ignore[arg-type]
    assert str(info.value) == "patch.object() takes the attribute name as a string, not 3."


def test_nothing_happens_at_construction() -> None:
    p = sm.patch("qqqqzzzz_never_imported.x")
    assert not p.active
    assert p.target == "qqqqzzzz_never_imported.x"


# -- decorators ----------------------------------------------------------------------------


def test_stacked_decorators_pass_mocks_innermost_first_like_unittest_mock() -> None:
    seen: list[bool] = []

    @sm.patch("patchtargets.greet")
    @sm.patch("json.dumps")
    def ours(dumps: Any, greet: Any) -> None:
        seen.append(dumps is json.dumps and greet is patchtargets.greet)

    @mock.patch("patchtargets.greet")
    @mock.patch("json.dumps")
    def theirs(dumps: Any, greet: Any) -> None:
        seen.append(dumps is json.dumps and greet is patchtargets.greet)

    ours()
    theirs()
    assert seen == [True, True]


def test_decorated_function_keeps_its_metadata_and_arguments() -> None:
    @sm.patch("patchtargets.greet")
    def body(a: int, greet: Any, *, b: int = 0) -> int:
        """Docstring."""
        patchtargets.greet("x")
        greet.assert_called_once_with("x")
        return a + b

    assert body(1, b=2) == 3
    assert body.__name__ == "body"
    assert body.__doc__ == "Docstring."


def test_async_decorator_is_active_from_first_step_to_end() -> None:
    @sm.patch("patchtargets.CONSTANT", new=1)
    async def body() -> int:
        await asyncio.sleep(0)
        return patchtargets.CONSTANT

    coroutine = body()
    assert patchtargets.CONSTANT == 42
    assert asyncio.run(coroutine) == 1
    assert patchtargets.CONSTANT == 42
    assert inspect.iscoroutinefunction(body)


def test_async_decorator_undoes_on_cancellation_and_close() -> None:
    started = asyncio.Event()

    @sm.patch("patchtargets.CONSTANT", new=1)
    async def body() -> None:
        started.set()
        await asyncio.sleep(3600)

    async def main() -> None:
        task = asyncio.create_task(body())
        await started.wait()
        assert patchtargets.CONSTANT == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert patchtargets.CONSTANT == 42

    coroutine = body()
    with pytest.raises(RuntimeError):
        # Drive one step by hand, then close: the patch is undone on close().
        coroutine.send(None)
    coroutine.close()
    assert patchtargets.CONSTANT == 42


def test_class_decorator_patches_each_test_method() -> None:
    @sm.patch("patchtargets.greet")
    class Suite:
        def test_one(self, greet: Any) -> Any:
            patchtargets.greet("one")
            return greet

        def not_a_test(self) -> Any:
            return patchtargets.greet

    first = Suite().test_one()
    first.assert_called_once_with("one")
    assert Suite().not_a_test() is patchtargets.greet


# -- patch.dict ----------------------------------------------------------------------------


def test_patch_dict_sets_and_restores_exactly() -> None:
    data = {"a": 1, "b": 2}
    snap = Snapshot(data)
    with sm.patch.dict(data, {"a": 10, "c": 3}, d=4) as same:
        assert same is data
        assert data == {"a": 10, "b": 2, "c": 3, "d": 4}
    snap.assert_unchanged()
    assert list(data) == ["a", "b"]


def test_patch_dict_clear_and_dotted_target() -> None:
    with sm.patch.dict("os.environ", {"ONLY": "1"}, clear=True):
        assert dict(os.environ) == {"ONLY": "1"}
    assert "ONLY" not in os.environ
    assert "PATH" in os.environ


def test_patch_dict_decorator_passes_nothing() -> None:
    @sm.patch.dict("os.environ", {"SAFEREMOCK_DECORATED": "yes"})
    def body(*args: Any) -> tuple[Any, ...]:
        assert os.environ["SAFEREMOCK_DECORATED"] == "yes"
        return args

    assert body() == ()


def test_patch_dict_missing_target() -> None:
    with pytest.raises(sm.TargetAttributeError) as info:
        sm.patch.dict("os.environs", {}).start()
    # patch.dict has no create=True: the message does not suggest it.
    assert str(info.value) == (
        "Cannot patch.dict('os.environs'): module 'os' has no attribute 'environs'; did you "
        "mean 'environ'?"
    )


# -- require_use ---------------------------------------------------------------------------

UNUSED = (
    "The patch of 'patchtargets.greet' was never used: nothing called it or read an "
    "attribute of it, which usually means the code under test imports the name from "
    "somewhere else; patch it where it is looked up."
)


def test_require_use_catches_the_phantom_patch() -> None:
    with pytest.raises(sm.UnusedPatchError) as info:
        with sm.patch("patchtargets.greet", require_use=True) as greet:
            greet.return_value = "configured, but nothing calls it"
    assert str(info.value) == UNUSED


def test_require_use_is_satisfied_by_a_call_or_an_attribute() -> None:
    with sm.patch("patchtargets.greet", require_use=True):
        patchtargets.use_greet()
    with sm.patch("patchtargets.Service", require_use=True) as service:
        service.static


def test_require_use_stays_quiet_when_the_block_raised() -> None:
    with pytest.raises(KeyError), sm.patch("patchtargets.greet", require_use=True):
        raise KeyError("first problem")


def test_require_use_default_comes_from_settings() -> None:
    settings.require_use = True
    try:
        with pytest.raises(sm.UnusedPatchError), sm.patch("patchtargets.greet"):
            pass
        with sm.patch("patchtargets.greet", require_use=False):
            pass
    finally:
        settings.require_use = False


def test_require_use_in_a_decorator() -> None:
    @sm.patch("patchtargets.greet", require_use=True)
    def body(greet: Any) -> None:
        pass

    with pytest.raises(sm.UnusedPatchError, match=re.escape(UNUSED)):
        body()


def test_require_use_checks_at_a_plain_stop() -> None:
    greet = sm.patch("patchtargets.greet", require_use=True)
    greet.start()
    with pytest.raises(sm.UnusedPatchError) as info:
        greet.stop()
    assert str(info.value) == UNUSED
    assert not greet.active


def test_require_use_stays_quiet_when_the_decorated_function_raised() -> None:
    @sm.patch("patchtargets.greet", require_use=True)
    def body(greet: Any) -> None:
        raise KeyError("first problem")

    with pytest.raises(KeyError):
        body()


def test_require_use_stays_quiet_when_a_later_decorator_fails_to_start() -> None:
    @sm.patch("patchtargets.zzz_absent")
    @sm.patch("patchtargets.greet", require_use=True)
    def body(greet: Any, absent: Any) -> None:
        pass

    with pytest.raises(sm.TargetAttributeError) as info:
        body()
    assert str(info.value) == (
        "module 'patchtargets' has no attribute 'zzz_absent'; pass create=True to add it."
    )


def test_require_use_stays_quiet_when_a_scope_is_left_by_an_exception() -> None:
    with pytest.raises(KeyError), sm.scope():
        sm.patch("patchtargets.greet", require_use=True).start()
        raise KeyError("first problem")


def test_require_use_only_checks_the_mocks_it_makes() -> None:
    # A new_callable that makes no mock gives nothing to watch for use.
    with sm.patch("patchtargets.greet", new_callable=dict, require_use=True) as made:
        assert made == {}
    assert patchtargets.greet("x") == "hello x!"


# -- living next to unittest.mock ---------------------------------------------------------


def test_stacked_on_unittest_mock_patch_unwinds_in_lifo_order() -> None:
    original = json.dumps
    with mock.patch("json.dumps") as outer, sm.patch("json.dumps") as inner:
        assert json.dumps is inner
        # The default autospec has no real signature to copy from a mock: plain mock.
        assert type(inner).__mro__[1] is mock.MagicMock
        inner(1, 2, 3)
    assert json.dumps is original
    assert outer.call_count == 0


def test_explicit_autospec_of_a_mock_still_raises_like_unittest_mock() -> None:
    with mock.patch("json.dumps"), pytest.raises(mock.InvalidSpecError):
        sm.patch("json.dumps", autospec=True).start()


def test_a_foreign_patch_started_later_keeps_its_value_and_then_restores_the_original() -> None:
    ours = sm.patch("patchtargets.CONSTANT", new=1)
    theirs = mock.patch("patchtargets.CONSTANT", 2)
    ours.start()
    theirs.start()
    ours.stop()
    # theirs is still active: its value stays.
    assert patchtargets.CONSTANT == 2
    theirs.stop()
    # unittest.mock puts back what it saw when it started, our value, which is dead by
    # now: saferemock handed it the original instead.
    assert patchtargets.CONSTANT == 42


def test_patch_object_on_a_mock_child_restores_the_mock_exactly() -> None:
    shared = mock.MagicMock()
    shared.find.return_value = [1]
    configured = shared.find
    with sm.patch.object(shared, "find", return_value=[2]):
        assert shared.find() == [2]
    assert shared.find is configured
    assert shared.find() == [1]
    with sm.patch.object(shared, "insert", new="x"):
        assert shared.insert == "x"
    assert "insert" not in shared._mock_children
    assert "insert" not in vars(shared)
    assert isinstance(shared.insert, mock.MagicMock)


def test_pytest_skips_the_parameters_that_decorators_fill(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import json
        import pytest
        import saferemock as sm

        @pytest.fixture
        def value():
            return 3

        @sm.patch("json.loads")
        @sm.patch("json.dumps", return_value="{}")
        @sm.patch("json.JSONDecoder", new=object)
        def test_mocks_then_fixtures(dumps, loads, value):
            assert json.dumps({}) == "{}"
            assert json.loads is loads
            assert value == 3

        class TestInClass:
            @sm.patch("json.dumps")
            def test_method(self, dumps, value):
                assert json.dumps is dumps
        """
    )
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:hypothesispytest"
    )
    result.assert_outcomes(passed=2)


def test_patch_on_top_of_a_patch_of_the_same_builtin_falls_back_to_a_plain_mock() -> None:
    # The first patch's replacement is a function-specced mock, which claims to be a
    # function; the second must still see it as a mock rather than autospec it.
    with sm.patch("json.dumps") as first, sm.patch("json.dumps") as second:
        assert json.dumps is second
        second("anything", 1, 2)
    first.assert_not_called()
    assert json.dumps.__module__ == "json"


ORIGINAL_DUMPS = json.dumps


def test_a_class_decorator_patches_inherited_test_methods_too() -> None:
    # As unittest.mock does (it walks dir(), not vars()), without touching the base class.
    class Base:
        def test_inherited(self, *mocks: Any) -> tuple[tuple[Any, ...], Any]:
            return mocks, json.dumps

    @sm.patch("json.dumps")
    class Child(Base):
        def test_own(self, dumps: Any) -> bool:
            return json.dumps is dumps

    (passed,), seen = Child().test_inherited()
    assert passed is seen
    assert seen is not ORIGINAL_DUMPS
    assert Child().test_own()
    assert Base().test_inherited() == ((), ORIGINAL_DUMPS)


def test_a_class_decorator_stacks_onto_an_inherited_wrapper_without_changing_it() -> None:
    @sm.patch("json.loads")
    class Base:
        def test_it(self, *mocks: Any) -> int:
            return len(mocks)

    @sm.patch("json.dumps")
    class Child(Base):
        pass

    assert Child().test_it() == 2
    assert Base().test_it() == 1


def test_a_class_decorator_passes_its_mock_after_the_method_decorators_like_unittest_mock() -> None:
    @sm.patch("json.dumps")
    class Tests:
        # Sorts first: a test-named attribute that is not callable is skipped, not an end.
        test_a_value = "not a test"

        @sm.patch("json.loads")
        def test_both(self, loads: Any, dumps: Any) -> None:
            assert loads is json.loads
            assert dumps is json.dumps

    Tests().test_both()
    assert Tests.test_a_value == "not a test"


# -- patch.multiple -------------------------------------------------------------------------


def test_patch_multiple_yields_the_mocks_made_for_default_autospecced() -> None:
    with sm.patch.multiple(patchtargets, greet=sm.DEFAULT, fetch=sm.DEFAULT, CONSTANT=7) as mocks:
        assert sorted(mocks) == ["fetch", "greet"]
        assert patchtargets.greet is mocks["greet"]
        assert patchtargets.CONSTANT == 7
        mocks["greet"].return_value = "hi"
        assert patchtargets.use_greet() == "hi"
        with pytest.raises(TypeError, match="too many positional arguments"):
            patchtargets.greet("a", "b")
        assert asyncio.run(patchtargets.fetch("url")) is mocks["fetch"].return_value
        mocks["fetch"].assert_awaited_once_with("url")
    mocks["greet"].assert_called_once_with("world")
    assert patchtargets.CONSTANT == 42


def test_patch_multiple_takes_a_dotted_name_imported_at_start() -> None:
    patcher = sm.patch.multiple("patchtargets.Service", class_value="patched")
    assert Service.class_value == "service"
    with patcher as mocks:
        assert mocks == {}
        assert Service.class_value == "patched"
    with pytest.raises(sm.TargetImportError) as info:
        sm.patch.multiple("patchtargetz.Service", class_value=1).start()
    assert str(info.value) == (
        "Cannot resolve 'patchtargetz.Service': no module named 'patchtargetz'; did you "
        "mean 'patchtargets'?"
    )


def test_patch_multiple_keeps_descriptors_and_creates_with_create_true() -> None:
    with sm.patch.multiple(Service, static=sm.DEFAULT, extra=1, create=True) as mocks:
        mocks["static"].return_value = 5
        assert Service.static(1) == 5
        assert Service("h").static(2) == 5
        assert Service.extra == 1  # type: ignore[attr-defined]
    assert "extra" not in vars(Service)
    assert isinstance(vars(Service)["static"], staticmethod)


def test_patch_multiple_makes_settings_apply_only_to_the_mocks_it_makes() -> None:
    # unittest.mock raises for autospec=True beside a value given; the value is used as is.
    given = mock.Mock()
    with sm.patch.multiple(
        patchtargets, greet=sm.DEFAULT, use_greet=given, new_callable=mock.NonCallableMock
    ) as mocks:
        assert type(mocks["greet"]).__mro__[1] is mock.NonCallableMock
        assert patchtargets.use_greet is given
    with sm.patch.multiple(patchtargets, greet=sm.DEFAULT, autospec=False) as mocks:
        patchtargets.greet(1, 2, 3)
    with sm.patch.multiple(patchtargets, greet=sm.DEFAULT, spec_set=["x"]) as mocks:
        with pytest.raises(AttributeError):
            mocks["greet"].y = 1


def test_patch_multiple_undoes_the_attributes_before_one_that_fails() -> None:
    snap = Snapshot(patchtargets)
    with pytest.raises(sm.TargetAttributeError) as info:
        sm.patch.multiple(patchtargets, greet=sm.DEFAULT, gret=sm.DEFAULT).start()
    assert str(info.value) == (
        "module 'patchtargets' has no attribute 'gret'; did you mean 'greet'? Pass "
        "create=True to add it."
    )
    snap.assert_unchanged()


def test_patch_multiple_that_fails_half_way_raises_its_own_error_not_the_unused_check() -> None:
    snap = Snapshot(patchtargets)
    with pytest.raises(sm.TargetAttributeError) as info:
        sm.patch.multiple(patchtargets, greet=sm.DEFAULT, gret=sm.DEFAULT, require_use=True).start()
    assert str(info.value) == (
        "module 'patchtargets' has no attribute 'gret'; did you mean 'greet'? Pass "
        "create=True to add it."
    )
    snap.assert_unchanged()


def test_patch_multiple_as_a_decorator_passes_the_mocks_by_keyword() -> None:
    @sm.patch.multiple(patchtargets, greet=sm.DEFAULT, CONSTANT=1)
    @sm.patch("patchtargets.fetch")
    def check(fetch: Any, *, greet: Any) -> tuple[Any, ...]:
        return fetch, greet, patchtargets.CONSTANT

    fetch, greet, constant = check()
    assert constant == 1
    assert (fetch.__name__, greet.__name__) == ("fetch", "greet")
    assert patchtargets.CONSTANT == 42

    @sm.patch.multiple("patchtargets", greet=sm.DEFAULT)
    async def check_async(greet: Any) -> str:
        greet.return_value = "async"
        return patchtargets.use_greet()

    assert asyncio.run(check_async()) == "async"
    # As unittest.mock: pytest must not take the keyword-passed mocks for fixtures'
    # positional slots.
    assert check.patchings == [check.patchings[0]]


def test_patch_multiple_require_use_names_each_unused_attribute() -> None:
    with pytest.raises(sm.UnusedPatchError) as info:
        with sm.patch.multiple(
            patchtargets, greet=sm.DEFAULT, use_greet=sm.DEFAULT, require_use=True
        ):
            patchtargets.use_greet()
    assert str(info.value) == (
        "The patch of 'patchtargets.greet' was never used: nothing called it or read an "
        "attribute of it, which usually means the code under test imports the name from "
        "somewhere else; patch it where it is looked up."
    )


def test_patch_multiple_rejects_bad_arguments_with_the_fix() -> None:
    with pytest.raises(TypeError) as empty:
        sm.patch.multiple(patchtargets)
    assert str(empty.value) == (
        "patch.multiple('patchtargets') needs the attributes to patch as keyword "
        "arguments, such as dumps=sm.DEFAULT for an autospecced mock."
    )
    with pytest.raises(sm.InvalidTargetError) as none:
        sm.patch.multiple(None, greet=1)
    assert str(none.value) == (
        "patch.multiple() takes the object to patch, not None: pass the module, class or "
        "instance whose attributes to replace, or its dotted name."
    )
    with pytest.raises(sm.InvalidTargetError) as dotted:
        sm.patch.multiple("patchtargets..Service", greet=1)
    assert str(dotted.value) == (
        "Cannot patch.multiple('patchtargets..Service'): the target must be a dotted name "
        "such as 'os.path' or 'myapp.models.User', or the object itself."
    )
    with pytest.raises(ValueError, match="Cannot use 'autospec' and 'new_callable' together"):
        sm.patch.multiple(patchtargets, greet=sm.DEFAULT, autospec=True, new_callable=mock.Mock)
    assert repr(sm.patch.multiple(Service, x=1).target) == "'Service'"
