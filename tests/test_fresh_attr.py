"""``sm.fresh_attr``: a brand-new autospecced mock per activation, the original back exactly."""

from __future__ import annotations

import asyncio
import functools
import json
import re
import sys
import textwrap
import types
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from statecheck import Snapshot, active_changes

import saferemock as sm


class Base:
    greeting = "hello"

    def method(self, x: int, y: int = 0) -> int:
        return x + y

    @staticmethod
    def static(x: int) -> int:
        return x

    @classmethod
    def klass(cls, x: int) -> int:
        return x

    @property
    def config(self) -> dict[str, int]:
        return {"real": 1}

    @property
    def untyped(self):  # type: ignore[no-untyped-def]
        return 1

    @property
    def settable(self) -> int:
        return 1

    @settable.setter
    def settable(self, value: int) -> None:
        raise AssertionError("the real setter must not run")

    @settable.deleter
    def settable(self) -> None:
        raise AssertionError("the real deleter must not run")

    @functools.cached_property
    def computed(self) -> list[int]:
        return [1]


class Sub(Base):
    def own(self, a: str) -> str:
        return a


class Slotted:
    __slots__ = ("conn", "unset")

    def __init__(self) -> None:
        self.conn = Base()

    def method(self) -> int:
        return 1


class Unresolvable:
    @property
    def broken(self) -> NotDefinedAnywhere:  # type: ignore[name-defined]  # noqa: F821
        return None


def fetch(url: str, *, timeout: float = 1.0) -> str:
    return url


APP_SOURCE = """
from unittest.mock import MagicMock


def fetch(url, *, timeout=1.0):
    return url


class Repository:
    def find(self, query):
        return [query]


collection = MagicMock(name="collection")
repository = Repository()
"""


@pytest.fixture
def app() -> Iterator[types.ModuleType]:
    """A throwaway module ``fa_app`` in sys.modules, removed exactly afterwards."""
    module = types.ModuleType("fa_app")
    exec(textwrap.dedent(APP_SOURCE), vars(module))
    with sm.patch.dict(sys.modules, {"fa_app": module}):
        yield module


def everything() -> Snapshot:
    return Snapshot(Base, Sub, Slotted, sys.modules[__name__])


# -- module attributes ---------------------------------------------------------------------


def test_dotted_target_is_replaced_by_an_autospecced_mock_and_restored(
    app: types.ModuleType,
) -> None:
    snapshot = Snapshot(app)
    original = app.fetch
    with sm.fresh_attr("fa_app.fetch") as fresh:
        assert app.fetch is fresh
        fresh.return_value = "mocked"
        assert app.fetch("u", timeout=2) == "mocked"
        with pytest.raises(TypeError, match=re.escape("got an unexpected keyword argument 'x'")):
            app.fetch("u", x=1)
    fresh.assert_called_once_with("u", timeout=2)
    assert app.fetch is original
    snapshot.assert_unchanged()


def test_object_and_attribute_form() -> None:
    module = sys.modules[__name__]
    snapshot = Snapshot(module)
    with sm.fresh_attr(module, "fetch") as fresh:
        assert fetch is fresh  # the global name is looked up at run time
        with pytest.raises(TypeError, match="missing a required argument: 'url'"):
            fetch()
    assert fetch.__name__ == "fetch"
    snapshot.assert_unchanged()


def test_every_activation_makes_a_new_mock_with_no_configuration(app: types.ModuleType) -> None:
    attr = sm.fresh_attr("fa_app.fetch")
    with attr as first:
        first.return_value = ["configured"]
        first("a")
    with attr as second:
        assert second is not first
        assert second.call_count == 0
        assert not isinstance(second.return_value, list)


def test_class_attribute_of_a_module_is_autospecced(app: types.ModuleType) -> None:
    original = app.Repository
    with sm.fresh_attr(app, "Repository") as fresh:
        assert app.Repository is fresh
        instance = app.Repository()
        instance.find.return_value = []
        assert instance.find({"q": 1}) == []
        with pytest.raises(AttributeError, match="Mock object has no attribute 'insert'"):
            instance.insert
    assert app.Repository is original


def test_autospec_false_gives_a_plain_mock(app: types.ModuleType) -> None:
    with sm.fresh_attr("fa_app.fetch", autospec=False) as fresh:
        assert type(fresh) is not type(app.Repository)
        assert isinstance(fresh, mock.MagicMock)
        app.fetch(1, 2, 3, anything=True)  # no signature to check
    fresh.assert_called_once_with(1, 2, 3, anything=True)


def test_async_function_gets_an_async_mock_without_autospec() -> None:
    async def load() -> int:
        return 1

    holder = types.SimpleNamespace(load=load)
    with sm.fresh_attr(holder, "load", autospec=False) as fresh:
        assert isinstance(fresh, mock.AsyncMock)
        fresh.return_value = 5
        assert asyncio.run(holder.load()) == 5
    assert holder.load is load


def test_new_puts_the_given_object_and_restores(app: types.ModuleType) -> None:
    replacement = object()
    snapshot = Snapshot(app)
    with sm.fresh_attr("fa_app.fetch", new=replacement) as value:
        assert value is replacement
        assert app.fetch is replacement
    snapshot.assert_unchanged()


def test_lazy_module_attribute_served_by_getattr_is_replaced_then_removed() -> None:
    module = types.ModuleType("fa_lazy")

    def module_getattr(name: str) -> Any:
        if name == "lazy":
            return fetch
        raise AttributeError(name)

    module.__getattr__ = module_getattr  # type: ignore[method-assign]
    snapshot = Snapshot(module)
    with sm.fresh_attr(module, "lazy") as fresh:
        assert vars(module)["lazy"] is fresh
        with pytest.raises(TypeError, match="missing a required argument: 'url'"):
            module.lazy()
    assert "lazy" not in vars(module)
    assert module.lazy is fetch
    snapshot.assert_unchanged()


# -- class attributes ----------------------------------------------------------------------


def test_own_method_is_autospecced_with_self_and_restored() -> None:
    snapshot = everything()
    original = Sub.__dict__["own"]
    with sm.fresh_attr(Sub, "own") as fresh:
        fresh.return_value = "mocked"
        instance = Sub()
        assert instance.own("a") == "mocked"
        fresh.assert_called_once_with(instance, "a")
        with pytest.raises(TypeError, match="too many positional arguments"):
            instance.own("a", "b")
    assert Sub.__dict__["own"] is original
    snapshot.assert_unchanged()


def test_inherited_method_is_shadowed_then_deleted_not_copied_down() -> None:
    snapshot = everything()
    with sm.fresh_attr(Sub, "method") as fresh:
        assert "method" in Sub.__dict__
        assert Base.__dict__["method"] is not fresh
        Sub().method(1, y=2)
        fresh.assert_called_once()
    assert "method" not in Sub.__dict__
    assert Sub.method is Base.__dict__["method"]
    snapshot.assert_unchanged()


@pytest.mark.parametrize("name", ["static", "klass"])
def test_staticmethod_and_classmethod_stay_non_binding_and_descriptors_come_back(
    name: str,
) -> None:
    snapshot = everything()
    descriptor = Base.__dict__[name]
    with sm.fresh_attr(Base, name) as fresh:
        fresh.return_value = 7
        assert getattr(Base, name)(1) == 7
        assert getattr(Base(), name)(2) == 7
        assert fresh.call_args_list == [mock.call(1), mock.call(2)]
        with pytest.raises(TypeError, match="too many positional arguments"):
            getattr(Base, name)(1, 2)
    assert Base.__dict__[name] is descriptor
    assert type(Base.__dict__[name]) is type(descriptor)
    snapshot.assert_unchanged()


def test_property_becomes_a_property_driven_by_a_property_mock() -> None:
    snapshot = everything()
    descriptor = Base.__dict__["config"]
    with sm.fresh_attr(Base, "config") as fresh:
        assert isinstance(fresh, mock.PropertyMock)
        assert isinstance(Base.__dict__["config"], property)
        assert Base.config is Base.__dict__["config"]  # class access does not call it
        value = Base().config
        assert value is fresh.return_value
        # Autospecced from the getter's return annotation (dict[str, int] -> dict).
        value.keys()
        with pytest.raises(AttributeError, match="Mock object has no attribute 'nope'"):
            value.nope
        assert fresh.mock_calls[0] == mock.call()
    assert Base.__dict__["config"] is descriptor
    snapshot.assert_unchanged()


def test_read_only_property_stays_read_only_with_pythons_own_message() -> None:
    instance = Base()
    with pytest.raises(AttributeError) as real:
        instance.config = {}  # type: ignore[misc]
    with sm.fresh_attr(Base, "config"):
        with pytest.raises(AttributeError) as fake:
            instance.config = {}  # type: ignore[misc]
        with pytest.raises(AttributeError) as fake_delete:
            del instance.config  # type: ignore[misc]
    with pytest.raises(AttributeError) as real_delete:
        del instance.config  # type: ignore[misc]
    assert str(fake.value) == str(real.value)
    assert str(fake_delete.value) == str(real_delete.value)


def test_settable_property_records_reads_writes_and_deletions() -> None:
    snapshot = everything()
    with sm.fresh_attr(Base, "settable") as fresh:
        fresh.return_value = 3
        instance = Base()
        instance.settable = 5
        assert instance.settable == 3
        del instance.settable
    assert fresh.mock_calls == [mock.call(5), mock.call(), mock.call.fdel()]
    snapshot.assert_unchanged()


def test_property_without_usable_annotation_returns_a_plain_mock() -> None:
    with sm.fresh_attr(Base, "untyped") as fresh:
        Base().untyped.anything_goes()
    with sm.fresh_attr(Unresolvable, "broken") as broken:
        Unresolvable().broken.anything_goes()
    assert fresh.mock_calls[-1] == mock.call().anything_goes()
    assert broken.mock_calls[-1] == mock.call().anything_goes()


def test_property_with_autospec_false_has_no_return_spec() -> None:
    with sm.fresh_attr(Base, "config", autospec=False):
        Base().config.nope()


def test_cached_property_is_replaced_on_the_class() -> None:
    snapshot = everything()
    descriptor = Base.__dict__["computed"]
    with sm.fresh_attr(Base, "computed") as fresh:
        fresh.return_value = [9]
        instance = Base()
        assert instance.computed == [9]
        instance.computed = [1]
        assert "computed" not in vars(instance)
    assert fresh.mock_calls == [mock.call(), mock.call([1])]
    assert Base.__dict__["computed"] is descriptor
    snapshot.assert_unchanged()


# -- instance attributes -------------------------------------------------------------------


def test_bound_method_on_an_instance_is_autospecced_without_self() -> None:
    instance = Sub()
    snapshot = Snapshot(instance, Sub, Base)
    with sm.fresh_attr(instance, "method") as fresh:
        instance.method(1, y=2)
        fresh.assert_called_once_with(1, y=2)
        with pytest.raises(TypeError, match="too many positional arguments"):
            instance.method(1, 2, 3)
        assert Sub().method(1) == 1  # other instances keep the real method
    assert "method" not in vars(instance)
    snapshot.assert_unchanged()


def test_own_instance_value_is_restored() -> None:
    instance = Base()
    instance.greeting = "own"
    snapshot = Snapshot(instance, Base)
    with sm.fresh_attr(instance, "greeting") as fresh:
        assert instance.greeting is fresh
        assert Base.greeting == "hello"
    assert instance.greeting == "own"
    snapshot.assert_unchanged()


def test_slot_attribute_is_replaced_through_the_slot_and_restored() -> None:
    instance = Slotted()
    original = instance.conn
    with sm.fresh_attr(instance, "conn") as fresh:
        assert instance.conn is fresh
        fresh.method(1)
        with pytest.raises(TypeError, match="too many positional arguments"):
            fresh.method(1, 2, 3)
    assert instance.conn is original


def test_unset_slot_cannot_be_freshened() -> None:
    instance = Slotted()
    message = (
        "'Slotted' object has no attribute 'unset'; fresh_attr replaces only attributes that "
        "exist, so check the name or use sm.patch(..., create=True) to add it."
    )
    with pytest.raises(sm.TargetAttributeError, match=re.escape(message)):
        sm.fresh_attr(instance, "unset").start()


def test_method_of_a_slotted_instance_must_be_replaced_on_the_class() -> None:
    instance = Slotted()
    message = (
        "Cannot give one 'Slotted' object a fresh 'method': the class has __slots__ and no "
        "instance __dict__, so only its slots can change per instance; use "
        "sm.fresh_attr(Slotted, 'method') instead."
    )
    with pytest.raises(sm.InvalidTargetError, match=re.escape(message)):
        sm.fresh_attr(instance, "method").start()


@pytest.mark.parametrize(
    ("name", "kind"), [("config", "property"), ("computed", "cached_property")]
)
def test_property_through_an_instance_is_refused(name: str, kind: str) -> None:
    instance = Sub()
    snapshot = Snapshot(instance, Sub, Base)
    message = (
        f"Cannot give one 'Sub' object a fresh {name!r}: it is a {kind} of class 'Sub', "
        f"shared by every instance; use sm.fresh_attr(Sub, {name!r}) instead."
    )
    with pytest.raises(sm.InvalidTargetError, match=re.escape(message)):
        sm.fresh_attr(instance, name).start()
    snapshot.assert_unchanged()


# -- mocks: the Trap 4 shared singleton ----------------------------------------------------


def test_child_of_a_shared_mock_is_swapped_in_its_child_table_and_restored(
    app: types.ModuleType,
) -> None:
    collection = app.collection
    collection.find.return_value = [{"base": "EX001"}]
    original = collection.find
    snapshot = Snapshot(collection, collection._mock_children, app)
    with sm.fresh_attr("fa_app.collection.find") as fresh:
        assert collection.find is fresh
        assert not isinstance(fresh.return_value, list)
        fresh.return_value.sort.return_value = ["doc"]
        assert list(collection.find({}).sort("ts", 1)) == ["doc"]
        # Linked to the shared mock as the original child was.
        assert collection.mock_calls[-2:] == [mock.call.find({}), mock.call.find().sort("ts", 1)]
    assert collection.find is original
    assert collection.find.return_value == [{"base": "EX001"}]
    snapshot.assert_unchanged()


def test_never_touched_child_of_a_mock_is_absent_again_afterwards(
    app: types.ModuleType,
) -> None:
    collection = app.collection
    snapshot = Snapshot(collection, collection._mock_children)
    with sm.fresh_attr(collection, "aggregate") as fresh:
        assert collection.aggregate is fresh
        assert repr(fresh).startswith("<MagicMock name='collection.aggregate'")
    assert "aggregate" not in collection._mock_children
    snapshot.assert_unchanged()


def test_child_set_by_assignment_on_a_mock_is_restored(app: types.ModuleType) -> None:
    collection = app.collection
    assigned = mock.MagicMock()
    collection.count = assigned
    snapshot = Snapshot(collection, collection._mock_children)
    with sm.fresh_attr(collection, "count") as fresh:
        assert collection.count is fresh
    assert collection.count is assigned
    snapshot.assert_unchanged()


def test_mock_api_names_and_names_outside_a_spec_are_refused() -> None:
    specced = mock.MagicMock(spec=Base)
    message = (
        "Cannot give a mock a fresh 'return_value': it is part of the mock's own API, not a "
        "child mock; configure it directly or reset it with reset_mock()."
    )
    with pytest.raises(sm.InvalidTargetError, match=re.escape(message)):
        sm.fresh_attr(specced, "return_value").start()
    with pytest.raises(
        sm.TargetAttributeError,
        match=re.escape("'MagicMock' object has no attribute 'methd'; did you mean 'method'?"),
    ):
        sm.fresh_attr(specced, "methd").start()


def test_a_mock_original_is_replaced_by_a_new_mock_with_the_same_spec(
    app: types.ModuleType,
) -> None:
    original = mock.MagicMock(spec=Base)
    original.method.return_value = 1
    app.service = original
    with sm.fresh_attr("fa_app.service") as fresh:
        assert fresh is not original
        assert isinstance(fresh, Base)
        assert not isinstance(fresh.method.return_value, int)
        with pytest.raises(AttributeError, match="Mock object has no attribute 'nope'"):
            fresh.nope
    with sm.fresh_attr("fa_app.service", autospec=False) as loose:
        loose.nope()
    assert app.service is original


def test_autospecced_child_keeps_its_signature_check() -> None:
    shared = mock.create_autospec(Base, instance=True)
    shared.method.return_value = 1
    with sm.fresh_attr(shared, "method") as fresh:
        shared.method(1, y=2)
        with pytest.raises(TypeError, match="too many positional arguments"):
            shared.method(1, 2, 3)
    fresh.assert_called_once_with(1, y=2)


@pytest.mark.parametrize("factory", [sm.create_autospec, mock.create_autospec])
def test_never_built_child_of_an_autospecced_mock_is_specced_and_unbuilt_again(
    factory: Any,
) -> None:
    shared = factory(Base, instance=True)
    children = vars(shared)["_mock_children"]
    snapshot = Snapshot(shared, children)
    with sm.fresh_attr(shared, "method") as fresh:
        assert shared.method is fresh
        with pytest.raises(TypeError, match="too many positional arguments"):
            shared.method(1, 2, 3)
    snapshot.assert_unchanged()
    with pytest.raises(TypeError, match="too many positional arguments"):
        shared.method(1, 2, 3)


def test_lazy_child_spec_state_is_put_back_as_it_was() -> None:
    shared = mock.create_autospec(Sub)
    children = vars(shared)["_mock_children"]
    state = children["greeting"]
    assert type(state).__name__ == "_SpecState"
    with sm.fresh_attr(shared, "greeting") as fresh:
        assert shared.greeting is fresh
        assert children["greeting"] is fresh
    assert children["greeting"] is state


# -- errors --------------------------------------------------------------------------------


def test_missing_attribute_names_it_and_suggests() -> None:
    with pytest.raises(
        sm.TargetAttributeError,
        match=re.escape(
            "module 'json' has no attribute 'dump_s'; did you mean 'dumps'? fresh_attr "
            "replaces only attributes that exist."
        ),
    ):
        sm.fresh_attr("json.dump_s").start()


def test_bad_target_forms() -> None:
    with pytest.raises(
        sm.InvalidTargetError,
        match=re.escape(
            "Cannot use attribute='find' with the dotted target 'fa_app.collection'; write the "
            "whole path as 'fa_app.collection.find' or pass the object itself."
        ),
    ):
        sm.fresh_attr("fa_app.collection", "find")
    with pytest.raises(
        sm.InvalidTargetError,
        match=re.escape(
            "Cannot give 42 a fresh attribute without its name; pass a dotted string such as "
            "'myapp.db.collection.find' or the object and the name, as "
            "fresh_attr(collection, 'find')."
        ),
    ):
        sm.fresh_attr(42)
    with pytest.raises(
        TypeError, match=re.escape("fresh_attr() takes the attribute name as a string, not 3.")
    ):
        sm.fresh_attr(json, 3)  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=re.escape("fresh_attr() takes autospec=True or False, not 'yes'.")
    ):
        sm.fresh_attr(json, "dumps", autospec="yes")  # type: ignore[arg-type]
    with pytest.raises(sm.InvalidTargetError, match=re.escape("Cannot patch 'json'")):
        sm.fresh_attr("json")


def test_missing_module_is_reported_at_start_not_construction() -> None:
    attr = sm.fresh_attr("fa_not_a_module.thing")
    with pytest.raises(sm.TargetImportError, match="no module named 'fa_not_a_module'"):
        attr.start()
    assert not attr.active


# -- restoration under exceptions, nesting, interleaving ----------------------------------


class Boom(Exception):
    pass


def test_exception_inside_the_block_still_restores_everything(app: types.ModuleType) -> None:
    snapshot = Snapshot(app, Base, Sub, app.collection._mock_children)
    with pytest.raises(Boom):
        with sm.fresh_attr("fa_app.fetch"), sm.fresh_attr(Base, "config"):
            with sm.fresh_attr(Sub, "static"), sm.fresh_attr("fa_app.collection.find"):
                raise Boom
    snapshot.assert_unchanged()


@pytest.mark.parametrize("name", ["klass", "static", "method", "config", "greeting"])
def test_nested_fresh_attrs_on_one_slot_unwind_to_the_original(name: str) -> None:
    snapshot = everything()
    with sm.fresh_attr(Base, name) as outer:
        with sm.fresh_attr(Base, name) as inner:
            assert inner is not outer
            inner_slot = Base.__dict__[name]
        outer_slot = Base.__dict__[name]
        assert outer_slot is not inner_slot
    snapshot.assert_unchanged()


def test_nested_fresh_classmethod_calls_reach_the_innermost_mock() -> None:
    with sm.fresh_attr(Base, "klass") as outer:
        with sm.fresh_attr(Base, "klass") as inner:
            Base.klass(1)
            with pytest.raises(TypeError, match="too many positional arguments"):
                Base.klass(1, 2)
        Base.klass(2)
    inner.assert_called_once_with(1)
    outer.assert_called_once_with(2)


@pytest.mark.parametrize("first_stopped", ["outer", "inner"])
def test_interleaved_start_stop_on_one_slot_ends_with_the_original(first_stopped: str) -> None:
    snapshot = everything()
    outer = sm.fresh_attr(Base, "config")
    inner = sm.patch.object(Base, "config", new=mock.PropertyMock(return_value=5))
    outer.start()
    inner.start()
    if first_stopped == "outer":
        outer.stop()
        assert Base().config == 5  # the newer patch stays in force
        inner.stop()
    else:
        inner.stop()
        outer.stop()
    snapshot.assert_unchanged()
    # No change to Base is still on the engine's per-slot stacks (other tests' are theirs).
    assert [change for change in active_changes() if change.slot[0] == id(Base)] == []


# -- the activation shapes -----------------------------------------------------------------


def test_decorator_passes_the_fresh_mock(app: types.ModuleType) -> None:
    seen: list[Any] = []

    @sm.fresh_attr("fa_app.fetch")
    def check(fresh: Any) -> None:
        assert app.fetch is fresh
        seen.append(fresh)

    check()
    check()
    assert seen[0] is not seen[1]
    assert app.fetch.__name__ == "fetch"


def test_decorator_with_new_passes_nothing(app: types.ModuleType) -> None:
    @sm.fresh_attr("fa_app.fetch", new="value")
    def check() -> str:
        return str(app.fetch)

    assert check() == "value"


def test_async_decorator(app: types.ModuleType) -> None:
    @sm.fresh_attr("fa_app.fetch")
    async def check(fresh: Any) -> Any:
        await asyncio.sleep(0)
        return app.fetch is fresh

    assert asyncio.run(check()) is True
    assert app.fetch.__name__ == "fetch"


def test_class_decorator_wraps_each_test_method() -> None:
    @sm.fresh_attr(Base, "static")
    class Tests:
        def test_one(self, fresh: Any) -> Any:
            return Base.static is fresh

        def helper(self) -> Any:
            return Base.static

    assert Tests().test_one() is True  # type: ignore[call-arg]
    assert Tests().helper() is Base.__dict__["static"].__func__


def test_start_stop_scope_and_stopall() -> None:
    snapshot = everything()
    attr = sm.fresh_attr("json.dumps")
    fresh = attr.start()
    assert json.dumps is fresh
    attr.stop()
    assert json.dumps.__module__ == "json"
    with sm.scope():
        sm.fresh_attr(Base, "config").start()
        assert isinstance(Base.__dict__["config"], property)
        assert Base.__dict__["config"] is not snapshot.before[0]["config"]
    sm.fresh_attr(Base, "static").start()
    sm.fresh_attr(Sub, "method").start()
    sm.stopall()
    snapshot.assert_unchanged()
    with pytest.raises(
        sm.SaferemockError,
        match=re.escape(
            "Cannot stop fresh_attr('json.dumps'): it is not active; call start() first or "
            "stop it only once."
        ),
    ):
        attr.stop()


def test_target_property_names_the_attribute() -> None:
    assert sm.fresh_attr(Base, "static").target == "Base.static"
    assert sm.fresh_attr("json.dumps").target == "json.dumps"
    assert sm.fresh_attr(Base(), "greeting").target == "<Base object>.greeting"


# -- Trap 4 in a real pytest run, both orders ----------------------------------------------

SHOP_DB = """
from unittest.mock import MagicMock

collection = MagicMock(name="collection")
"""

SHOP = """
import shopdb


def equipment_history(equipment_id):
    return list(shopdb.collection.find({"id": equipment_id}).sort("timestamp", 1))


def locations_today():
    return [doc["base"]["code"] for doc in shopdb.collection.find({}, {"base": 1})]
"""

TEST_EQUIP = """
def test_equip(mock_collection):
    mock_collection.find.return_value.sort.return_value = [{"id": 1}, {"id": 2}]
    assert shop.equipment_history(1) == [{"id": 1}, {"id": 2}]
"""

TEST_LOCATIONS = """
def test_locations(mock_collection):
    mock_collection.find.return_value = [{"base": {"code": "EX001"}}]
    assert shop.locations_today() == ["EX001"]
"""

FIXTURES = {
    "reset_mock": """
@pytest.fixture
def mock_collection():
    yield shopdb.collection
    shopdb.collection.reset_mock()
""",
    "fresh_attr": """
@pytest.fixture
def mock_collection():
    with sm.fresh_attr("shopdb.collection.find"):
        yield shopdb.collection
""",
    "fresh_attr_whole_mock": """
@pytest.fixture
def mock_collection():
    with sm.fresh_attr("shopdb.collection") as collection:
        yield collection
""",
}


def run_shop_suite(pytester: pytest.Pytester, fixture: str, order: tuple[str, str]) -> Any:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(shopdb=SHOP_DB, shop=SHOP)
    header = "import pytest\nimport saferemock as sm\nimport shop\nimport shopdb\n"
    tests = {"equip": TEST_EQUIP, "locations": TEST_LOCATIONS}
    body = header + FIXTURES[fixture] + "".join(tests[name] for name in order)
    pytester.makepyfile(test_shop=body)
    # Without the hypothesis plugin, which would import hypothesis afresh in every run.
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


@pytest.mark.parametrize("fixture", ["fresh_attr", "fresh_attr_whole_mock"])
@pytest.mark.parametrize("order", [("equip", "locations"), ("locations", "equip")])
def test_trap4_fresh_attr_passes_in_either_order(
    pytester: pytest.Pytester, fixture: str, order: tuple[str, str]
) -> None:
    result = run_shop_suite(pytester, fixture, order)
    result.assert_outcomes(passed=2, failed=0, errors=0, skipped=0, xfailed=0, xpassed=0)


def test_trap4_reset_mock_passes_in_one_order(pytester: pytest.Pytester) -> None:
    result = run_shop_suite(pytester, "reset_mock", ("equip", "locations"))
    result.assert_outcomes(passed=2, failed=0, errors=0, skipped=0, xfailed=0, xpassed=0)


def test_trap4_reset_mock_fails_in_the_other(pytester: pytest.Pytester) -> None:
    result = run_shop_suite(pytester, "reset_mock", ("locations", "equip"))
    result.assert_outcomes(passed=1, failed=1, errors=0, skipped=0, xfailed=0, xpassed=0)
    result.stdout.fnmatch_lines(
        [
            # Python 3.13 adds "and no __dict__ for setting new attributes".
            "E       AttributeError: 'builtin_function_or_method' object has no attribute "
            "'return_value'*",
            "FAILED test_shop.py::test_equip - AttributeError: *",
        ]
    )
