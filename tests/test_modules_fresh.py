"""``sm.fresh_import``: the import-order contract made explicit, and all of it undone."""

from __future__ import annotations

import asyncio
import email
import email.mime
import email.mime.text
import importlib
import json
import os
import pathlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

import modpkgs
import modpkgs.plain
import pytest
from modpkgs.support import forget_modpkgs_unblocked
from statecheck import Snapshot

import saferemock as sm

BOOTSTRAP = importlib._bootstrap  # type: ignore[attr-defined]
ENV = {"KAFKA_IP": "localhost", "KAFKA_PORT": "9092", "CURRENT_TOPIC": None}


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    yield from forget_modpkgs_unblocked()


def world() -> Snapshot:
    return Snapshot(sys.modules, os.environ, threading, modpkgs, email, email.mime, json, BOOTSTRAP)


def test_seed_thread_and_environment_at_import_time() -> None:
    snapshot = world()
    real_thread = threading.Thread
    with sm.fresh_import(
        "modpkgs.threaded_service",
        fakes=["confluent_kafka"],
        env=ENV,
        patches=["threading.Thread"],
    ) as service:
        assert service.KAFKA_IP == "localhost"
        assert service.KAFKA_PORT == 9092
        assert service.TOPIC == "current"
        thread = threading.Thread
        thread.assert_called_once_with(target=service.consume_data, daemon=True)
        service.consumer_thread.start.assert_called_once_with()
        kafka = sys.modules["confluent_kafka"]
        kafka.DeserializingConsumer.assert_called_once_with({"bootstrap.servers": "localhost:9092"})
        assert service.consumer is kafka.DeserializingConsumer.return_value
        assert sys.modules["modpkgs.threaded_service"] is service
        assert modpkgs.threaded_service is service  # type: ignore[attr-defined]
    assert threading.Thread is real_thread
    assert "KAFKA_IP" not in os.environ
    snapshot.assert_unchanged()


def test_the_order_is_fakes_blocks_env_patches_then_import() -> None:
    seen: list[str] = []
    with sm.fake_module_tree({"confluent_kafka": {}}) as fakes:
        # A patch target that exists only once the fakes are in place, and whose
        # replacement sees the environment already set.
        def consumer(config: dict[str, str]) -> str:
            seen.append(os.environ["KAFKA_IP"])
            return "consumer"

        patch = sm.patch.object(fakes["confluent_kafka"], "DeserializingConsumer", consumer)
        with sm.fresh_import(
            "modpkgs.threaded_service",
            blocked=["ujson"],
            env=ENV,
            patches=[patch, "threading.Thread"],
        ) as service:
            assert service.consumer == "consumer"
    assert seen == ["localhost"]


def test_a_previous_copy_comes_back_in_sys_modules_and_on_the_parent() -> None:
    snapshot = world()
    old = modpkgs.plain
    with sm.fresh_import("modpkgs.plain") as fresh:
        assert fresh is not old
        assert sys.modules["modpkgs.plain"] is fresh
        assert modpkgs.plain is fresh
        assert fresh.ANSWER == 42
    assert sys.modules["modpkgs.plain"] is old
    assert modpkgs.plain is old
    snapshot.assert_unchanged()


def test_a_module_three_names_deep_comes_back_on_its_own_parent() -> None:
    snapshot = world()
    old = email.mime.text
    with sm.fresh_import("email.mime.text") as fresh:
        assert fresh is not old
        assert vars(email.mime)["text"] is fresh
    assert vars(email.mime)["text"] is old
    assert sys.modules["email.mime.text"] is old
    snapshot.assert_unchanged()


def test_submodules_are_imported_afresh_too() -> None:
    snapshot = world()
    old_decoder = sys.modules["json.decoder"]
    with sm.fresh_import("json") as fresh:
        assert fresh is not json
        assert fresh.decoder is not old_decoder
        assert sys.modules["json.decoder"] is fresh.decoder
    assert sys.modules["json.decoder"] is old_decoder
    assert json.decoder is old_decoder
    snapshot.assert_unchanged()


def test_nested_fresh_imports_of_one_name() -> None:
    snapshot = world()
    old = modpkgs.plain
    with sm.fresh_import("modpkgs.plain") as outer:
        with sm.fresh_import("modpkgs.plain") as inner:
            assert len({id(old), id(outer), id(inner)}) == 3
            assert modpkgs.plain is inner
        assert modpkgs.plain is outer
        assert sys.modules["modpkgs.plain"] is outer
    snapshot.assert_unchanged()


def test_restored_after_an_exception_inside_the_block() -> None:
    snapshot = world()
    with (
        pytest.raises(KeyError),
        sm.fresh_import(
            "modpkgs.threaded_service",
            fakes=["confluent_kafka"],
            env=ENV,
            patches=["threading.Thread"],
        ),
    ):
        raise KeyError("inside")
    snapshot.assert_unchanged()


def test_interleaved_fresh_imports_of_one_name() -> None:
    snapshot = world()
    old = modpkgs.plain
    first = sm.fresh_import("modpkgs.plain", env={"SM_FIRST": "1"})
    second = sm.fresh_import("modpkgs.plain", env={"SM_SECOND": "1"})
    one = first.start()
    two = second.start()
    first.stop()  # out of order: the second copy stays in place
    assert sys.modules["modpkgs.plain"] is two
    assert modpkgs.plain is two
    assert "SM_FIRST" not in os.environ
    second.stop()
    assert sys.modules["modpkgs.plain"] is old
    assert modpkgs.plain is old
    assert one is not two
    snapshot.assert_unchanged()


def test_modules_first_imported_with_it_are_evicted_and_later_holders_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "modpkgs.fastjson", raising=False)
    monkeypatch.delattr(modpkgs, "fastjson", raising=False)
    snapshot = world()
    with sm.fresh_import(
        "modpkgs.indirect", fakes=["confluent_kafka.schema_registry.avro"]
    ) as indirect:
        assert indirect.consumer is sys.modules["modpkgs.kafka_consumer"].make_consumer("again")
        # Imported inside the block, after the import: evicted when it holds a fake...
        class_body = importlib.import_module("modpkgs.class_body")
        fastjson = importlib.import_module("modpkgs.fastjson")

        assert class_body.Service.producer_class.__class__.__name__ == "MagicMock"
    for name in ("indirect", "kafka_consumer", "class_body"):
        assert f"modpkgs.{name}" not in sys.modules
    # ...and kept when it does not.
    assert sys.modules["modpkgs.fastjson"] is fastjson
    assert snapshot.diff() == [
        "dict: 'modpkgs.fastjson' was added",
        "modpkgs: 'fastjson' was added",
    ]


def test_an_import_error_propagates_with_a_note_and_nothing_is_left() -> None:
    snapshot = world()
    previous = os.environ.get("HOME")
    with pytest.raises(RuntimeError) as info:
        sm.fresh_import(
            "modpkgs.broken",
            fakes=["confluent_kafka", "grpc.aio"],
            blocked=["ujson", "orjson"],
            env={"KAFKA_IP": "localhost", "HOME": None},
            patches=["threading.Thread", sm.patch("json.dumps")],
        ).start()
    assert str(info.value) == "cannot reach the broker"
    assert info.value.__notes__ == [
        "saferemock.fresh_import('modpkgs.broken') was importing it with fakes: "
        "confluent_kafka, grpc.aio; blocked: ujson, orjson; env set: KAFKA_IP; env deleted: "
        "HOME; patches: threading.Thread, json.dumps. All of it was undone."
    ]
    assert os.environ.get("HOME") == previous
    snapshot.assert_unchanged()


def test_a_missing_module_gets_a_note_too() -> None:
    snapshot = world()
    with pytest.raises(ModuleNotFoundError) as info, sm.fresh_import("modpkgs.nothing_here"):
        pass
    assert str(info.value) == "No module named 'modpkgs.nothing_here'"
    assert info.value.__notes__ == [
        "saferemock.fresh_import('modpkgs.nothing_here') was importing it with no fakes, "
        "blocks, env or patches. All of it was undone."
    ]
    snapshot.assert_unchanged()


def test_blocked_reaches_the_fallback() -> None:
    snapshot = world()
    with sm.fresh_import("modpkgs.serializer", blocked=["modpkgs.fastjson"]) as serializer:
        assert serializer.FAST is False
        assert serializer.backend is json
    with sm.fresh_import("modpkgs.serializer") as serializer:
        assert serializer.FAST is True
    snapshot.assert_unchanged()


def test_a_strict_tree_can_be_given(tmp_path: pathlib.Path) -> None:
    tree = sm.fake_module_tree({"confluent_kafka": {"DeserializingConsumer": dict}}, strict=True)
    with sm.fresh_import(
        "modpkgs.threaded_service", fakes=tree, env=ENV, patches=["threading.Thread"]
    ) as service:
        assert service.consumer == {"bootstrap.servers": "localhost:9092"}
        with pytest.raises(AttributeError, match="strict"):
            sys.modules["confluent_kafka"].Producer
    assert not tree.active


def test_require_use_of_a_patch_is_checked_at_exit() -> None:
    unused = sm.patch("json.dumps", require_use=True)
    with (
        pytest.raises(sm.UnusedPatchError) as info,
        sm.fresh_import("modpkgs.plain", patches=[unused]),
    ):
        pass
    assert str(info.value).startswith("The patch of 'json.dumps' was never used")
    # Quiet when the block already raises.
    with pytest.raises(KeyError), sm.fresh_import("modpkgs.plain", patches=[unused]):
        raise KeyError("inside")
    # Used (modpkgs.plain calls json.loads at import time): no error.
    with sm.fresh_import("modpkgs.plain", patches=[sm.patch("json.loads", require_use=True)]):
        pass


def test_the_package_of_the_module_is_imported_for_real(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "freshpkg_sm"
    package.mkdir()
    (package / "__init__.py").write_text("REAL = True\n")
    (package / "service.py").write_text(
        "from freshpkg_sm.native import fast\nfrom freshpkg_sm import REAL\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    snapshot = world()
    with sm.fresh_import("freshpkg_sm.service", fakes=["freshpkg_sm.native"]) as service:
        assert service.REAL is True
        assert service.fast is sys.modules["freshpkg_sm.native"].fast
        package = sys.modules["freshpkg_sm"]
    # The package is a shared dependency that holds nothing fake: it keeps its identity,
    # without the fresh module or the fake on it.
    assert sys.modules["freshpkg_sm"] is package
    assert sorted(key for key in sys.modules if key.startswith("freshpkg_sm")) == ["freshpkg_sm"]
    assert "service" not in vars(package)
    assert "native" not in vars(package)
    del sys.modules["freshpkg_sm"]
    snapshot.assert_unchanged()


def test_decorates_sync_and_async_functions() -> None:
    @sm.fresh_import("modpkgs.plain")
    def sync(module: Any) -> Any:
        assert sys.modules["modpkgs.plain"] is module
        return module

    @sm.fresh_import("modpkgs.plain", env={"SM_FRESH": "1"})
    async def run(module: Any) -> str:
        await asyncio.sleep(0)
        return os.environ["SM_FRESH"]

    assert sync() is not modpkgs.plain
    assert asyncio.run(run()) == "1"
    assert "SM_FRESH" not in os.environ


def test_scope_and_stopall() -> None:
    snapshot = world()
    with sm.scope():
        sm.fresh_import("modpkgs.plain", env={"SM_FRESH": "1"}).start()
    sm.fresh_import("json", fakes=["grpc"]).start()
    sm.stopall()
    snapshot.assert_unchanged()


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "message"),
    [
        (
            "",
            {},
            sm.ModuleTreeError,
            "'' is not a module name: fresh_import() takes dotted Python identifiers such as "
            "'confluent_kafka.schema_registry'.",
        ),
        (
            "1abc",
            {},
            sm.ModuleTreeError,
            "'1abc' is not a module name: fresh_import() takes dotted Python identifiers such "
            "as 'confluent_kafka.schema_registry'.",
        ),
        (
            42,
            {},
            TypeError,
            "fresh_import() takes module names as strings such as "
            "'confluent_kafka.schema_registry', not 42.",
        ),
        (
            "app",
            {"env": {"KAFKA_PORT": 9092}},
            TypeError,
            "fresh_import() got env['KAFKA_PORT'] = 9092: environment values are strings, so "
            "write '9092', or None to delete the variable.",
        ),
        (
            "app",
            {"env": {1: "x"}},
            TypeError,
            "fresh_import() takes env names as strings, not 1.",
        ),
        (
            "app",
            {"env": "KAFKA_IP=localhost"},
            TypeError,
            "fresh_import() takes env as a mapping of names to strings (None deletes), not "
            "'KAFKA_IP=localhost'.",
        ),
        (
            "app.service",
            {"fakes": ["app"]},
            sm.ModuleTreeError,
            "fresh_import('app.service') cannot fake 'app': a fake has no real code to import "
            "'app.service' from; fake only what 'app.service' imports.",
        ),
        (
            "app.service",
            {"fakes": {"app.service": {}}},
            sm.ModuleTreeError,
            "fresh_import('app.service') cannot fake 'app.service': a fake has no real code to "
            "import 'app.service' from; fake only what 'app.service' imports.",
        ),
        (
            "app.service",
            {"blocked": ["app"]},
            sm.ModuleTreeError,
            "fresh_import('app.service') cannot block 'app', which it must import; block only "
            "what the module imports.",
        ),
        (
            "app",
            {"blocked": "ujson"},
            TypeError,
            "fresh_import() takes blocked as a list of module names, not 'ujson'; write "
            "['ujson'] for a single name.",
        ),
        (
            "app",
            {"fakes": "grpc"},
            TypeError,
            "fresh_import() takes fakes as a list of module names or a mapping, not the string "
            "'grpc'; write fakes=['grpc'].",
        ),
        (
            "app",
            {"fakes": ["grpc..aio"]},
            sm.ModuleTreeError,
            "'grpc..aio' is not a module name: fake_module_tree() takes dotted Python "
            "identifiers such as 'confluent_kafka.schema_registry'.",
        ),
        (
            "app",
            {"patches": "threading.Thread"},
            TypeError,
            "fresh_import() takes patches as a list of sm.patch objects or target strings, not "
            "'threading.Thread'; write ['threading.Thread'] for a single one.",
        ),
        (
            "app",
            {"patches": [42]},
            TypeError,
            "fresh_import() takes each patch as an sm.patch object or a target string such as "
            "'threading.Thread', not 42.",
        ),
        (
            "app",
            {"patches": ["threading"]},
            sm.InvalidTargetError,
            "Cannot patch 'threading': the target must be 'module.attribute', such as "
            "'json.dumps'.",
        ),
    ],
)
def test_bad_input(name: Any, kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    snapshot = world()
    with pytest.raises(error) as info:
        sm.fresh_import(name, **kwargs)
    assert str(info.value) == message
    snapshot.assert_unchanged()


def test_a_failing_patch_leaves_nothing_applied() -> None:
    snapshot = world()
    with pytest.raises(sm.TargetAttributeError):
        sm.fresh_import(
            "modpkgs.plain", fakes=["grpc"], env={"SM_FRESH": "1"}, patches=["json.dump_s"]
        ).start()
    snapshot.assert_unchanged()
    assert importlib.import_module("modpkgs.plain") is modpkgs.plain
