"""``sm.fake_module_tree``: real module objects, named mocks, exact restore, eviction."""

from __future__ import annotations

import asyncio
import email
import email.mime
import email.mime.text
import importlib
import importlib.machinery
import importlib.util
import json
import pkgutil
import re
import sys
import types
import xml
import xml.etree
import xml.etree.ElementTree
from collections.abc import Iterator
from typing import Any
from unittest import mock

import modpkgs
import pytest
from modpkgs.support import forget_modpkgs
from statecheck import Snapshot, active_changes

import saferemock as sm
from saferemock._taint import Taint

KAFKA = "confluent_kafka.schema_registry.avro"
BOOTSTRAP = importlib._bootstrap  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    yield from forget_modpkgs()
    assert active_changes() == []


def world() -> Snapshot:
    """Every global the fakes in these tests can touch, by identity."""
    return Snapshot(sys.modules, xml, xml.etree, email, email.mime, json, modpkgs, BOOTSTRAP)


# -- what a fake is ---------------------------------------------------------------------


def test_every_import_form_works() -> None:
    with sm.fake_module_tree([KAFKA]) as fakes:
        import confluent_kafka.schema_registry.avro
        from confluent_kafka.schema_registry import avro
        from confluent_kafka.schema_registry.avro import AvroDeserializer

        assert confluent_kafka is fakes["confluent_kafka"]
        assert avro is fakes[KAFKA]
        assert confluent_kafka.schema_registry.avro is avro
        assert AvroDeserializer is avro.AvroDeserializer
        assert (
            importlib.import_module("confluent_kafka.schema_registry")
            is (fakes["confluent_kafka.schema_registry"])
        )
        spec = importlib.util.find_spec("confluent_kafka.schema_registry")
        assert spec is fakes["confluent_kafka.schema_registry"].__spec__
        assert pkgutil.resolve_name(f"{KAFKA}:AvroSerializer") is avro.AvroSerializer
        assert pkgutil.resolve_name(f"{KAFKA}.AvroSerializer") is avro.AvroSerializer


def test_fakes_are_plain_modules_with_a_spec_and_packages_have_a_path() -> None:
    with sm.fake_module_tree([KAFKA]) as fakes:
        assert list(fakes) == ["confluent_kafka", "confluent_kafka.schema_registry", KAFKA]
        for name, module in fakes.items():
            assert type(module) is types.ModuleType
            assert module.__name__ == name
            assert isinstance(module.__spec__, importlib.machinery.ModuleSpec)
            assert module.__spec__.name == name
            assert module.__spec__.loader is None
            assert module.__loader__ is None
            assert not hasattr(module, "__file__")
            assert sys.modules[name] is module
        package = fakes["confluent_kafka.schema_registry"]
        assert package.__path__ == []
        assert package.__spec__.submodule_search_locations == []
        assert package.__package__ == "confluent_kafka.schema_registry"
        assert package.avro is fakes[KAFKA]
        leaf = fakes[KAFKA]
        assert not hasattr(leaf, "__path__")
        assert leaf.__spec__.submodule_search_locations is None
        assert leaf.__package__ == "confluent_kafka.schema_registry"
        assert fakes["confluent_kafka"].schema_registry is package


def test_a_fake_three_names_deep_hangs_on_its_own_parent() -> None:
    with sm.fake_module_tree(["deepfake.middle.leaf"]) as fakes:
        import deepfake.middle.leaf

        middle = sys.modules["deepfake.middle"]
        assert middle is fakes["deepfake.middle"]
        assert vars(middle)["leaf"] is fakes["deepfake.middle.leaf"]
        assert vars(sys.modules["deepfake"])["middle"] is middle
        assert "middle.leaf" not in vars(sys.modules["deepfake"])
        assert deepfake.middle.leaf.__package__ == "deepfake.middle"
    assert "deepfake" not in sys.modules


def test_undeclared_attributes_are_stable_named_mocks() -> None:
    with sm.fake_module_tree(["grpc"]) as fakes:
        grpc = fakes["grpc"]
        # Configured before the code under test imports it...
        grpc.insecure_channel.return_value = "channel"
        from grpc import insecure_channel

        assert insecure_channel is grpc.insecure_channel
        assert isinstance(insecure_channel, mock.MagicMock)
        assert repr(insecure_channel).startswith("<MagicMock name='grpc.insecure_channel' id=")
        assert insecure_channel("localhost:50051") == "channel"
        # ...or after.
        from grpc import StatusCode

        grpc.StatusCode.OK = 0
        assert StatusCode.OK == 0
        assert vars(grpc)["StatusCode"] is StatusCode


def test_dunder_and_private_names_raise() -> None:
    with sm.fake_module_tree(["grpc"]) as fakes:
        grpc = fakes["grpc"]
        assert not hasattr(grpc, "__path__")
        assert not hasattr(grpc, "__wrapped__")
        with pytest.raises(AttributeError) as info:
            grpc.__file__
        assert str(info.value) == "module 'grpc' has no attribute '__file__'"
        with pytest.raises(AttributeError) as info:
            grpc._channel
        assert str(info.value) == (
            "module 'grpc' has no attribute '_channel'; saferemock fakes make mocks only for "
            "public names, so declare it: fake_module_tree({'grpc': {'_channel': ...}})."
        )


def test_an_undeclared_submodule_is_not_importable() -> None:
    with sm.fake_module_tree(["grpc", "confluent_kafka.avro"]):
        with pytest.raises(ModuleNotFoundError) as info:
            import grpc.aio  # noqa: F401
        assert str(info.value) == "No module named 'grpc.aio'; 'grpc' is not a package"
        with pytest.raises(ModuleNotFoundError) as info:
            import confluent_kafka.kafkatest  # noqa: F401
        assert str(info.value) == "No module named 'confluent_kafka.kafkatest'"


def test_strict_raises_naming_the_module_and_how_to_declare() -> None:
    tree = {"grpc": {"insecure_channel": len}}
    with sm.fake_module_tree(tree, strict=True) as fakes:
        grpc = fakes["grpc"]
        assert grpc.insecure_channel is len
        with pytest.raises(AttributeError) as info:
            grpc.secure_channel
        assert str(info.value) == (
            "module 'grpc' has no attribute 'secure_channel'; did you mean 'insecure_channel'? "
            "If not, this saferemock fake is strict, so declare it: "
            "fake_module_tree({'grpc': {'secure_channel': ...}}, strict=True)."
        )
        with pytest.raises(AttributeError) as info:
            grpc.StatusCode
        assert str(info.value) == (
            "module 'grpc' has no attribute 'StatusCode'; this saferemock fake is strict, so "
            "declare it: fake_module_tree({'grpc': {'StatusCode': ...}}, strict=True)."
        )
        with pytest.raises(ImportError, match=re.escape("cannot import name 'StatusCode'")):
            from grpc import StatusCode  # noqa: F401


def test_declared_attributes_and_ready_modules() -> None:
    ready = types.ModuleType("psycopg2")
    ready.connect = len  # type: ignore[attr-defined]

    class Consumer:
        pass

    tree: dict[str, Any] = {
        "confluent_kafka": {"DeserializingConsumer": Consumer, "__version__": "2.3.0"},
        "psycopg2": ready,
        "psycopg2.extras": None,
    }
    with sm.fake_module_tree(tree) as fakes:
        from confluent_kafka import DeserializingConsumer, __version__

        assert DeserializingConsumer is Consumer
        assert __version__ == "2.3.0"
        import psycopg2.extras

        assert psycopg2 is ready
        assert fakes["psycopg2"] is ready
        assert ready.extras is fakes["psycopg2.extras"]  # type: ignore[attr-defined]
        # A ready module is installed as is: no mocks are invented on it.
        assert not hasattr(ready, "cursor")
    # The attribute set on the caller's module is removed again.
    assert sorted(vars(ready)) == sorted(
        ["__name__", "__doc__", "__package__", "__loader__", "__spec__", "connect"]
    )


def test_the_mapping_names_what_is_missing() -> None:
    with sm.fake_module_tree(["grpc", "grpc.aio"]) as fakes:
        assert len(fakes) == 2
        assert repr(fakes) == "<saferemock fakes ['grpc', 'grpc.aio']>"
        with pytest.raises(KeyError) as info:
            fakes["grpc.ai"]
        assert info.value.args == ("'grpc.ai' is not in this fake tree; did you mean 'grpc.aio'?",)
        with pytest.raises(KeyError) as info:
            fakes["psycopg2"]
        assert info.value.args == ("'psycopg2' is not in this fake tree; it has grpc, grpc.aio",)


# -- real modules under faked names and real parents --------------------------------------


def test_a_real_module_is_replaced_and_restored() -> None:
    snapshot = world()
    with sm.fake_module_tree(["json"]) as fakes:
        import json as inside

        assert inside is fakes["json"]
        assert inside is not json
        assert isinstance(inside.dumps, mock.MagicMock)
    snapshot.assert_unchanged()
    assert sys.modules["json"] is json


def test_keep_real_keeps_the_real_module() -> None:
    snapshot = world()
    with sm.fake_module_tree(["json", "json.fakechild", "grpc"], keep_real=True) as fakes:
        assert fakes["json"] is json
        assert sys.modules["json"] is json
        assert json.fakechild is fakes["json.fakechild"]  # type: ignore[attr-defined]
        assert fakes["grpc"].__saferemock_fake__ is True
    snapshot.assert_unchanged()
    assert not hasattr(json, "fakechild")


def test_replacing_a_real_package_hides_its_submodules() -> None:
    snapshot = world()
    with sm.fake_module_tree(["xml.etree"]) as fakes:
        assert xml.etree is fakes["xml.etree"]
        assert "xml.etree.ElementTree" not in sys.modules
        with pytest.raises(ModuleNotFoundError) as info:
            importlib.import_module("xml.etree.ElementTree")
        assert str(info.value) == "No module named 'xml.etree.ElementTree'"
        from xml.etree import ElementTree

        assert isinstance(ElementTree, mock.MagicMock)
    snapshot.assert_unchanged()
    assert xml.etree.ElementTree.__name__ == "xml.etree.ElementTree"


def test_parent_attribute_trap() -> None:
    snapshot = world()
    real_mime = sys.modules["email.mime"]
    with sm.fake_module_tree(["xml.fakechild", "email.mime"]) as fakes:
        assert xml.fakechild is fakes["xml.fakechild"]  # type: ignore[attr-defined]
        assert email.mime is fakes["email.mime"]
        assert sys.modules["xml"] is xml
        assert "email.mime.text" not in sys.modules
    assert getattr(xml, "fakechild", None) is None
    assert email.mime is sys.modules["email.mime"]
    assert email.mime is real_mime
    assert sys.modules["email.mime.text"] is email.mime.text
    snapshot.assert_unchanged()


def test_a_parent_that_refuses_the_child_leaves_nothing_applied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Frozen(types.ModuleType):
        def __setattr__(self, name: str, value: object) -> None:
            raise AttributeError(f"{self.__name__} is read-only")

    monkeypatch.setitem(sys.modules, "frozenpkg", Frozen("frozenpkg"))
    snapshot = world()
    with pytest.raises(AttributeError, match=r"^frozenpkg is read-only$"):
        sm.fake_module_tree(["grpc", "frozenpkg.child"]).start()
    snapshot.assert_unchanged()


# -- restore: exceptions, nesting, interleaving, scope, stopall ---------------------------


class Boom(Exception):
    pass


def test_restored_after_an_exception_inside() -> None:
    snapshot = world()
    with pytest.raises(Boom), sm.fake_module_tree([KAFKA, "xml.fakechild", "json"]):
        import modpkgs.kafka_consumer  # noqa: F401

        raise Boom
    snapshot.assert_unchanged()


def test_nested_trees_restore_in_order() -> None:
    snapshot = world()
    with sm.fake_module_tree(["confluent_kafka", "json"]) as outer:
        with sm.fake_module_tree(["confluent_kafka.avro", "json", "xml.fakechild"]) as inner:
            assert list(inner) == ["json", "confluent_kafka.avro", "xml.fakechild"]
            assert outer["confluent_kafka"].avro is inner["confluent_kafka.avro"]
            assert sys.modules["json"] is inner["json"]
        assert sys.modules["json"] is outer["json"]
        assert "avro" not in vars(outer["confluent_kafka"])
        assert "confluent_kafka.avro" not in sys.modules
    snapshot.assert_unchanged()


def test_interleaved_trees_restore_in_any_order() -> None:
    snapshot = world()
    first = sm.fake_module_tree(["json", "grpc"])
    second = sm.fake_module_tree(["json", "grpc.aio", "xml.fakechild"])
    one = first.start()
    two = second.start()
    first.stop()
    assert sys.modules["json"] is two["json"]
    assert "grpc" not in sys.modules
    assert sys.modules["grpc.aio"] is two["grpc.aio"]
    second.stop()
    snapshot.assert_unchanged()
    # The binding on the first tree's fake was the second tree's change: undone with it.
    assert "aio" not in vars(one["grpc"])


def test_the_same_object_is_reentrant() -> None:
    tree = sm.fake_module_tree(["grpc"])
    with tree as outer, tree as inner:
        assert inner["grpc"] is not outer["grpc"]
        assert sys.modules["grpc"] is inner["grpc"]
    assert "grpc" not in sys.modules


def test_scope_and_stopall_undo_started_trees() -> None:
    snapshot = world()
    with sm.scope():
        sm.fake_module_tree(["grpc", "json"]).start()
        assert "grpc" in sys.modules
    snapshot.assert_unchanged()
    sm.fake_module_tree(["email.mime", "xml.fakechild"]).start()
    sm.block_modules("xml.etree").start()
    sm.stopall()
    snapshot.assert_unchanged()


def test_stop_without_start() -> None:
    with pytest.raises(sm.SaferemockError) as info:
        sm.fake_module_tree(["grpc"]).stop()
    assert str(info.value) == (
        "Cannot stop fake_module_tree(['grpc']): it is not active; call start() first or "
        "stop it only once."
    )


def test_decorates_sync_and_async_functions() -> None:
    @sm.fake_module_tree(["grpc"])
    def sync(label: str, fakes: Any) -> str:
        import grpc

        assert grpc is fakes["grpc"]
        return label

    @sm.fake_module_tree({"grpc": {"VERSION": "1"}})
    async def run(fakes: Any) -> str:
        await asyncio.sleep(0)
        from grpc import VERSION

        return str(VERSION)

    assert sync("done") == "done"
    assert asyncio.run(run()) == "1"
    assert "grpc" not in sys.modules


def test_decorates_the_test_methods_of_a_class() -> None:
    @sm.fake_module_tree(["grpc"])
    class Tests:
        def test_one(self, fakes: Any) -> object:
            return sys.modules["grpc"] is fakes["grpc"]

        def helper(self) -> bool:
            return "grpc" in sys.modules

    assert Tests().test_one() is True  # type: ignore[call-arg]
    assert Tests().helper() is False
    assert "grpc" not in sys.modules


# -- eviction -----------------------------------------------------------------------------


def test_seed_kafka_consumer_imported_under_fakes_is_gone_afterwards() -> None:
    snapshot = world()
    with sm.fake_module_tree([KAFKA]) as fakes:
        from modpkgs import kafka_consumer

        avro = fakes[KAFKA]
        assert kafka_consumer.deserializer is avro.AvroDeserializer.return_value
        avro.AvroDeserializer.assert_called_once_with(kafka_consumer.registry)
        assert kafka_consumer.Handler().handle(b"x") is avro.AvroDeserializer.return_value(
            b"x", None
        )
    assert "modpkgs.kafka_consumer" not in sys.modules
    assert not hasattr(modpkgs, "kafka_consumer")
    snapshot.assert_unchanged()


def forget(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make ``modpkgs.<name>`` not imported yet, whatever other test files imported."""
    monkeypatch.delitem(sys.modules, f"modpkgs.{name}", raising=False)
    monkeypatch.delattr(modpkgs, name, raising=False)


def test_dependents_evicts_holders_directly_and_through_evicted_modules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forget(monkeypatch, "plain")
    snapshot = world()
    with sm.fake_module_tree([KAFKA]):
        import modpkgs.class_body
        import modpkgs.indirect
        import modpkgs.instance_holder
        import modpkgs.plain

        assert "_source" not in vars(modpkgs.instance_holder)
    for name in ("kafka_consumer", "indirect", "instance_holder", "class_body"):
        assert f"modpkgs.{name}" not in sys.modules
        assert name not in vars(modpkgs)
    # Imported for the first time inside, but holds no fake: stays, so nothing in it is
    # ever loaded twice.
    assert sys.modules["modpkgs.plain"] is modpkgs.plain
    assert snapshot.diff() == ["dict: 'modpkgs.plain' was added", "modpkgs: 'plain' was added"]


def _module(name: str, **attributes: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    vars(module).update(attributes)
    return module


def _holders(alive: list[object]) -> dict[str, tuple[Taint, types.ModuleType]]:
    """One module per way of holding a fake, with the taint that should take it.

    The taints hold ids only: what they name is put in ``alive``, so that no object made
    later (a bystander module) can get the id of a freed one.
    """
    fake = mock.MagicMock()
    evicted = _module("evicted")
    alive += [fake, evicted]
    exec("def function(): pass\nclass Defined: pass", vars(evicted))

    def tainted() -> Taint:
        taint = Taint({id(fake)})
        taint.add("evicted", evicted)
        return taint

    class Body:
        deserializer = fake.X

    Body.__module__ = "class_body"
    autospecced = mock.create_autospec(lambda: None)
    alive.append(autospecced)
    package = _module("package", sub=_module("package.sub"), client=fake)
    return {
        "child mock": (tainted(), _module("child", client=fake.Client.return_value)),
        "function of an evicted module": (tainted(), _module("uses", function=evicted.function)),
        "class of an evicted module": (tainted(), _module("subclass", Defined=evicted.Defined)),
        "instance of such a class": (tainted(), _module("instance", made=evicted.Defined())),
        "class body member": (tainted(), _module("class_body", Body=Body)),
        "autospecced function": (Taint({id(autospecced.mock)}), _module("spec", f=autospecced)),
        "package past its own submodule": (tainted(), package),
    }


@pytest.mark.parametrize("rule", list(_holders([])))
def test_each_way_of_holding_a_fake_taints_a_module(rule: str) -> None:
    # Every holder and everything a taint names stays alive: a freed object's id could be
    # reused by the bystander or its mock.
    alive: list[object] = []
    holders = _holders(alive)
    taint, holder = holders[rule]
    bystander = _module(
        "bystander", other=mock.MagicMock(), function=test_evict_all_removes_every_new_module
    )
    assert taint.holds(holder.__name__, holder)
    assert not taint.holds("bystander", bystander)


def test_taint_spreads_until_nothing_changes() -> None:
    fake = mock.MagicMock()
    second = _module("second", client=fake)
    exec("def function(): pass", vars(second))
    # Looked at first, before the module it holds from is known to go.
    first = _module("first", function=second.function)
    candidates = {"first": first, "second": second, "bystander": _module("bystander")}
    taken = Taint({id(fake)}).spread(candidates)
    assert taken == [("second", second), ("first", first)]
    assert list(candidates) == ["bystander"]


def test_evict_all_removes_every_new_module(monkeypatch: pytest.MonkeyPatch) -> None:
    forget(monkeypatch, "plain")
    snapshot = world()
    with sm.fake_module_tree(["confluent_kafka"], evict="all"):
        import modpkgs.plain  # noqa: F401
    snapshot.assert_unchanged()


def test_evict_none_keeps_every_new_module() -> None:
    with sm.fake_module_tree([KAFKA], evict="none") as fakes:
        import modpkgs.kafka_consumer
    assert sys.modules["modpkgs.kafka_consumer"] is modpkgs.kafka_consumer
    assert modpkgs.kafka_consumer.AvroDeserializer is fakes[KAFKA].AvroDeserializer


def test_modules_imported_before_are_never_evicted() -> None:
    import modpkgs.plain

    with sm.fake_module_tree(["json"], evict="all"):
        pass
    assert sys.modules["modpkgs.plain"] is modpkgs.plain


def test_a_module_placed_by_another_active_change_is_not_evicted() -> None:
    placed = types.ModuleType("placed")
    with sm.fake_module_tree(["grpc"], evict="all"):
        patch = sm.patch.dict(sys.modules, {"placed": placed})
        patch.start()
    assert sys.modules["placed"] is placed
    patch.stop()
    assert "placed" not in sys.modules


def test_an_alias_of_a_fake_that_an_active_patch_placed_outlives_the_tree() -> None:
    snapshot = world()
    with sm.fake_module_tree(["grpc"]) as fakes:
        fake = fakes["grpc"]
        alias = sm.patch.dict(sys.modules, {"grpc_alias": fake})
        alias.start()
    # The patch still in force owns the key: evicting it would pull it from under the
    # patch, whose stop() would then find a slot someone else emptied.
    assert sys.modules["grpc_alias"] is fake
    alias.stop()
    snapshot.assert_unchanged()


def test_a_dependent_that_an_active_patch_holds_in_sys_modules_is_not_evicted() -> None:
    with sm.fake_module_tree([KAFKA]):
        import modpkgs.kafka_consumer

        held = sm.patch.dict(sys.modules, {"modpkgs.kafka_consumer": modpkgs.kafka_consumer})
        held.start()
    assert sys.modules["modpkgs.kafka_consumer"] is modpkgs.kafka_consumer
    held.stop()
    assert sys.modules["modpkgs.kafka_consumer"] is modpkgs.kafka_consumer


def test_a_fake_put_in_sys_modules_under_another_name_is_removed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snapshot = world()
    unrelated = types.ModuleType("unrelated")
    with sm.fake_module_tree(["confluent_kafka"]) as fakes:
        # What a compatibility shim in the code under test might do.
        sys.modules["kafka"] = fakes["confluent_kafka"]
        sys.modules["kafka_producer"] = fakes["confluent_kafka"].Producer
        monkeypatch.setitem(sys.modules, "unrelated", unrelated)
    assert "kafka" not in sys.modules
    assert "kafka_producer" not in sys.modules
    assert sys.modules["unrelated"] is unrelated  # holds no fake: not ours to remove
    monkeypatch.undo()
    snapshot.assert_unchanged()


def test_a_module_another_scope_puts_back_is_not_evicted() -> None:
    snapshot = world()
    replacing = sm.fake_module_tree(["xml.etree"])
    replacing.start()  # hides the real xml.etree.ElementTree
    with sm.fake_module_tree(["grpc"], evict="all"):
        replacing.stop()  # puts it back inside the second scope: not a new import
    assert sys.modules["xml.etree.ElementTree"] is xml.etree.ElementTree
    snapshot.assert_unchanged()


def test_a_fresh_import_inside_a_tree_leaves_the_old_copy() -> None:
    old = importlib.import_module("modpkgs.plain")
    snapshot = world()
    with sm.fake_module_tree(["grpc"], evict="all"), sm.fresh_import("modpkgs.plain") as fresh:
        assert fresh is not old
    assert sys.modules["modpkgs.plain"] is old
    snapshot.assert_unchanged()


def test_interleaved_trees_each_evict_their_dependents() -> None:
    snapshot = world()
    first = sm.fake_module_tree([KAFKA])
    second = sm.fake_module_tree(["grpc"])
    first.start()
    second.start()
    import modpkgs.kafka_consumer  # noqa: F401

    first.stop()  # holds the first tree's fakes: goes with it
    assert "modpkgs.kafka_consumer" not in sys.modules
    second.stop()
    snapshot.assert_unchanged()


def test_nested_scopes_each_evict_what_holds_their_own_fakes() -> None:
    snapshot = world()
    with sm.fake_module_tree([KAFKA]):
        with sm.fake_module_tree(["grpc"]):
            import modpkgs.kafka_consumer  # noqa: F401
        # Holds only the outer fakes: the inner scope leaves it.
        assert "modpkgs.kafka_consumer" in sys.modules
    snapshot.assert_unchanged()


# -- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "a..b", ".a", "a.", "1abc", "a.1b", "a-b"])
def test_bad_names(name: str) -> None:
    with pytest.raises(sm.ModuleTreeError) as info:
        sm.fake_module_tree([name])
    assert str(info.value) == (
        f"{name!r} is not a module name: fake_module_tree() takes dotted Python identifiers "
        "such as 'confluent_kafka.schema_registry'."
    )


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (
            [42],
            "fake_module_tree() takes module names as strings such as "
            "'confluent_kafka.schema_registry', not 42.",
        ),
        (
            "grpc",
            "fake_module_tree() takes a list of module names or a mapping, not the string "
            "'grpc'; write fake_module_tree(['grpc']).",
        ),
        (
            42,
            "fake_module_tree() takes a list of module names or a mapping of names to "
            "attributes, not 42.",
        ),
        (
            {"grpc": 42},
            "fake_module_tree() maps 'grpc' to 42: map each module name to a dict of its "
            "attributes, to a module object, or to None.",
        ),
    ],
)
def test_wrong_types(tree: Any, message: str) -> None:
    with pytest.raises(TypeError) as info:
        sm.fake_module_tree(tree)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("tree", "kwargs", "message"),
    [
        (
            {"a": {"b": 1}, "a.b": None},
            {},
            "'a.b' is given both as a module and as the attribute 'b' of 'a': declare it once, "
            "as the module 'a.b' or in the attributes of 'a'.",
        ),
        (
            {"a": {"b": 1}, "a.b.c": None},
            {},
            "'a.b' is given both as a module and as the attribute 'b' of 'a': declare it once, "
            "as the module 'a.b' or in the attributes of 'a'.",
        ),
        (
            {"a": {"b.c": 1}},
            {},
            "'b.c' is not an attribute name for the fake module 'a': use Python identifiers, "
            "and declare submodules by their dotted name, such as 'a.submodule'.",
        ),
        (
            [],
            {},
            "fake_module_tree() was given no module names: pass at least one, such as "
            "fake_module_tree(['grpc']).",
        ),
        (
            ["grpc"],
            {"evict": "some"},
            "evict='some' is not a choice: pass 'dependents' (the default), 'all' or 'none'.",
        ),
    ],
)
def test_bad_trees(tree: Any, kwargs: dict[str, Any], message: str) -> None:
    snapshot = world()
    with pytest.raises(sm.ModuleTreeError) as info:
        sm.fake_module_tree(tree, **kwargs)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)
    snapshot.assert_unchanged()
