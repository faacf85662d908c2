"""``sm.block_modules``: imports fail with saferemock's name, and everything comes back."""

from __future__ import annotations

import asyncio
import email
import email.mime
import email.mime.text
import importlib
import importlib.util
import json
import linecache
import sys
import warnings
import xml
import xml.etree
from collections.abc import Iterator
from typing import Any

import modpkgs
import modpkgs.fastjson
import pytest
from modpkgs.support import forget_modpkgs_unblocked
from statecheck import Snapshot

import saferemock as sm

BOOTSTRAP = importlib._bootstrap  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    yield from forget_modpkgs_unblocked()


def world() -> Snapshot:
    return Snapshot(sys.modules, BOOTSTRAP, email, email.mime, xml, json, modpkgs)


def blocked_message(name: str, blocked: str) -> str:
    return (
        f"No module named {name!r}: saferemock.block_modules() blocked {blocked!r} for this test."
    )


def test_every_import_form_raises_naming_saferemock() -> None:
    snapshot = world()
    with sm.block_modules("email.mime", "ujson"):
        for statement, name, blocked in [
            ("import ujson", "ujson", "ujson"),
            ("import ujson.extra", "ujson.extra", "ujson"),
            ("import email.mime", "email.mime", "email.mime"),
            ("import email.mime.text", "email.mime.text", "email.mime"),
            ("from email.mime import text", "email.mime", "email.mime"),
            ("from email import mime", "email.mime", "email.mime"),
            ("importlib.import_module('email.mime.audio')", "email.mime.audio", "email.mime"),
            ("__import__('ujson')", "ujson", "ujson"),
        ]:
            with pytest.raises(ModuleNotFoundError) as info:
                exec(statement, {"importlib": importlib})
            assert str(info.value) == blocked_message(name, blocked), statement
            assert info.value.name == name
    snapshot.assert_unchanged()


def test_find_spec_returns_none() -> None:
    with sm.block_modules("json", "ujson"):
        assert importlib.util.find_spec("json") is None
        assert importlib.util.find_spec("ujson") is None
    assert importlib.util.find_spec("json") is json.__spec__


def test_imported_copies_submodules_and_parent_attribute_are_hidden_then_restored() -> None:
    snapshot = world()
    real_text = email.mime.text
    with sm.block_modules("email.mime"):
        assert sys.modules["email.mime"] is None
        assert "email.mime.text" not in sys.modules
        assert not hasattr(email, "mime")
    snapshot.assert_unchanged()
    assert email.mime.text is real_text
    assert sys.modules["email.mime.text"] is real_text


def test_a_module_three_names_deep_is_unbound_from_its_own_parent() -> None:
    snapshot = world()
    real_text = email.mime.text
    with sm.block_modules("email.mime.text"):
        assert sys.modules["email.mime.text"] is None
        assert "text" not in vars(email.mime)
    snapshot.assert_unchanged()
    assert email.mime.text is real_text


def test_seed_optional_dependency_fallback() -> None:
    snapshot = world()
    with sm.block_modules("modpkgs.fastjson"):
        from modpkgs import serializer

        assert serializer.FAST is False
        assert serializer.backend is json
        assert serializer.encode({"a": 1}) == '{"a": 1}'
    # First imported while blocked, it holds the fallback: evicted, as
    # mock.patch.dict(sys.modules, {"modpkgs.fastjson": None}) would.
    assert "modpkgs.serializer" not in sys.modules
    assert "serializer" not in vars(modpkgs)
    snapshot.assert_unchanged()
    from modpkgs import serializer

    assert serializer.FAST is True
    assert serializer.encode({"a": 1}) == '{"a":1}'


def test_other_imports_still_work_and_the_hook_is_restored() -> None:
    real = BOOTSTRAP._find_and_load
    with sm.block_modules("ujson"):
        assert BOOTSTRAP._find_and_load is not real
        import modpkgs.plain

        assert modpkgs.plain.ANSWER == 42
    assert BOOTSTRAP._find_and_load is real


@pytest.mark.parametrize(
    "wrapping",
    [
        lambda: sm.block_modules("ujson"),
        lambda: sm.fresh_import("modpkgs.plain"),
    ],
    ids=["block_modules", "fresh_import"],
)
def test_a_module_warning_at_import_still_points_at_the_importing_line(wrapping: Any) -> None:
    # warnings skips the import system's frames to find the importer; the wrappers of
    # _find_and_load must be skipped too, or the warning names saferemock's file.
    with wrapping(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import modpkgs.warns_on_import  # noqa: F401
    assert [w.filename for w in caught] == [__file__]
    assert (
        linecache.getline(__file__, caught[0].lineno)
        .strip()
        .startswith("import modpkgs.warns_on_import")
    )


def test_nested_and_interleaved_blocks() -> None:
    snapshot = world()
    outer = sm.block_modules("json")
    inner = sm.block_modules("email.mime", "json")
    outer.start()
    inner.start()
    outer.stop()  # out of order: the inner block still holds both names
    for name in ("json", "email.mime"):
        with pytest.raises(ModuleNotFoundError, match=r"saferemock\.block_modules"):
            importlib.import_module(name)
    inner.stop()
    snapshot.assert_unchanged()
    assert importlib.import_module("json") is json

    with sm.block_modules("json"):
        with sm.block_modules("email.mime"):
            pass
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module("json")
        assert importlib.import_module("email.mime") is email.mime
    snapshot.assert_unchanged()


def test_a_stale_hook_lets_imports_through() -> None:
    first = sm.block_modules("ujson")
    second = sm.block_modules("orjson")
    first.start()
    second.start()
    first.stop()
    with pytest.raises(ModuleNotFoundError) as info:
        importlib.import_module("ujson")
    assert str(info.value) == "No module named 'ujson'"
    second.stop()


def test_restored_after_an_exception_and_by_scope_and_stopall() -> None:
    snapshot = world()
    with pytest.raises(KeyError), sm.block_modules("json"):
        raise KeyError("inside")
    snapshot.assert_unchanged()
    with sm.scope():
        sm.block_modules("json").start()
    snapshot.assert_unchanged()
    sm.block_modules("email.mime").start()
    sm.stopall()
    snapshot.assert_unchanged()


def test_blocks_a_fake_and_gives_it_back() -> None:
    snapshot = world()
    with sm.fake_module_tree(["grpc.aio"]) as fakes:
        with sm.block_modules("grpc.aio"):
            with pytest.raises(AttributeError) as info:
                fakes["grpc"].aio
            assert str(info.value) == (
                "module 'grpc' has no attribute 'aio': saferemock.block_modules() blocked "
                "'grpc.aio'."
            )
            with pytest.raises(ModuleNotFoundError):
                importlib.import_module("grpc.aio")
        assert fakes["grpc"].aio is fakes["grpc.aio"]
    snapshot.assert_unchanged()


def test_decorates_sync_and_async_functions() -> None:
    @sm.block_modules("json")
    def sync(*args: Any) -> tuple[Any, ...]:
        assert importlib.util.find_spec("json") is None
        return args

    @sm.block_modules("json")
    async def run() -> bool:
        await asyncio.sleep(0)
        return importlib.util.find_spec("json") is None

    assert sync(1) == (1,)  # nothing extra is passed
    assert asyncio.run(run()) is True
    assert sys.modules["json"] is json


@pytest.mark.parametrize(
    ("names", "error", "message"),
    [
        (
            (),
            sm.ModuleTreeError,
            "block_modules() was given no module names: pass at least one, such as "
            "block_modules('ujson').",
        ),
        (
            ("",),
            sm.ModuleTreeError,
            "'' is not a module name: block_modules() takes dotted Python identifiers such as "
            "'confluent_kafka.schema_registry'.",
        ),
        (
            ("a..b",),
            sm.ModuleTreeError,
            "'a..b' is not a module name: block_modules() takes dotted Python identifiers such "
            "as 'confluent_kafka.schema_registry'.",
        ),
        (
            ("json", 42),
            TypeError,
            "block_modules() takes module names as strings such as "
            "'confluent_kafka.schema_registry', not 42.",
        ),
        (
            (["json"],),
            TypeError,
            "block_modules() takes module names as strings such as "
            "'confluent_kafka.schema_registry', not ['json'].",
        ),
    ],
)
def test_bad_names(names: tuple[Any, ...], error: type[Exception], message: str) -> None:
    snapshot = world()
    with pytest.raises(error) as info:
        sm.block_modules(*names)
    assert str(info.value) == message
    snapshot.assert_unchanged()


def test_describe_and_names() -> None:
    block = sm.block_modules("json", "ujson", "json")
    assert block.names == ("json", "ujson")
    assert block.describe() == "block_modules('json', 'ujson')"
