"""Bad input: one sentence that names the bad value and the fix, and nothing applied."""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from statecheck import Snapshot, engine_is_idle

import saferemock as sm


class Slotted:
    __slots__ = ("a", "b")


def slotted() -> Slotted:
    value = Slotted()
    value.a = 1
    return value


@pytest.fixture(autouse=True)
def _nothing_applied() -> Iterator[None]:
    snapshot = Snapshot(sys.modules, os.environ)
    yield
    snapshot.assert_unchanged()
    assert engine_is_idle()


CASES: list[tuple[str, Callable[[], Any], type[BaseException], str]] = [
    (
        "patch.dict(None)",
        lambda: sm.patch.dict(None),  # type: ignore[arg-type]
        TypeError,
        "patch.dict() takes a mapping such as os.environ, or its dotted name such as "
        "'os.environ', not None.",
    ),
    (
        "patch.dict([])",
        lambda: sm.patch.dict([]),  # type: ignore[arg-type]
        TypeError,
        "patch.dict() takes a mapping such as os.environ, or its dotted name such as "
        "'os.environ', not [].",
    ),
    (
        "patch.dict of a function",
        lambda: sm.patch.dict("json.dumps").start(),
        sm.InvalidTargetError,
        "Cannot patch.dict('json.dumps'): it is a 'function' object, not a mapping; use "
        "sm.patch() to replace it, or name a dict such as 'os.environ'.",
    ),
    (
        "patch.dict of a missing name",
        lambda: sm.patch.dict("json.nothere").start(),
        sm.TargetAttributeError,
        "Cannot patch.dict('json.nothere'): module 'json' has no attribute 'nothere'; name a "
        "mapping that exists, such as os.environ.",
    ),
    (
        "an int in os.environ",
        lambda: sm.patch.dict(os.environ, {"PORT": 8080}),
        TypeError,
        "os.environ takes values as strings: patch.dict() got 'PORT': 8080; write 'PORT': '8080'.",
    ),
    (
        "an int name in os.environ",
        lambda: sm.patch.dict(os.environ, {1: "x"}),
        TypeError,
        "os.environ takes names as strings: patch.dict() got the name 1; write '1'.",
    ),
    (
        "values that are not pairs",
        lambda: sm.patch.dict({}, 3),  # type: ignore[arg-type]
        TypeError,
        "patch.dict() takes values as a mapping or as (key, value) pairs, not 3.",
    ),
    (
        "patch.object of a module name",
        lambda: sm.patch.object("json", "dumps"),
        sm.InvalidTargetError,
        "patch.object() takes the object to patch, not the string 'json': pass the object "
        "itself, or use sm.patch('json.dumps').",
    ),
    (
        "patch.object of None",
        lambda: sm.patch.object(None, "x"),
        sm.InvalidTargetError,
        "patch.object() takes the object to patch, not None: pass the module, class or "
        "instance whose 'x' to replace.",
    ),
    (
        "patch.object of an unset slot",
        lambda: sm.patch.object(slotted(), "b").start(),
        sm.TargetAttributeError,
        "'Slotted' object has no value in its slot 'b'; set it first, or pass create=True "
        "to set one for the block.",
    ),
    (
        "fake_open(strict='no')",
        lambda: sm.fake_open({}, strict="no"),  # type: ignore[arg-type]
        TypeError,
        "fake_open() takes strict=True or False, not 'no'.",
    ),
    (
        "fake_module_tree(['sys'])",
        lambda: sm.fake_module_tree(["sys"]),
        sm.ModuleTreeError,
        "fake_module_tree() cannot replace 'sys': the import system and unittest.mock need "
        "the real module while the block runs; patch only the attribute you need, with "
        "sm.patch('sys.<attribute>').",
    ),
    (
        "fake_module_tree(['builtins'])",
        lambda: sm.fake_module_tree({"builtins": {}}),
        sm.ModuleTreeError,
        "fake_module_tree() cannot replace 'builtins': the import system and unittest.mock "
        "need the real module while the block runs; patch only the attribute you need, with "
        "sm.patch('builtins.<attribute>').",
    ),
    (
        "fake_module_tree(['importlib._bootstrap'])",
        lambda: sm.fake_module_tree(["importlib._bootstrap"]),
        sm.ModuleTreeError,
        "fake_module_tree() cannot replace 'importlib._bootstrap': the import system and "
        "unittest.mock need the real module while the block runs; patch only the attribute "
        "you need, with sm.patch('importlib._bootstrap.<attribute>').",
    ),
    (
        "block_modules('sys')",
        lambda: sm.block_modules("sys"),
        sm.ModuleTreeError,
        "block_modules() cannot replace 'sys': the import system and unittest.mock need the "
        "real module while the block runs; patch only the attribute you need, with "
        "sm.patch('sys.<attribute>').",
    ),
    (
        "block_modules('saferemock')",
        lambda: sm.block_modules("saferemock"),
        sm.ModuleTreeError,
        "block_modules() cannot replace 'saferemock': saferemock itself runs while the block "
        "is in place; name only modules that the code under test imports.",
    ),
    (
        "fresh_import('sys')",
        lambda: sm.fresh_import("sys"),
        sm.ModuleTreeError,
        "fresh_import() cannot replace 'sys': the import system and unittest.mock need the "
        "real module while the block runs; patch only the attribute you need, with "
        "sm.patch('sys.<attribute>').",
    ),
    (
        "fresh_import(evict='none')",
        lambda: sm.fresh_import("json", evict="none"),  # type: ignore[arg-type]
        sm.ModuleTreeError,
        "evict='none' is not a choice for fresh_import(): pass 'dependents' (the default) "
        "or 'all'.",
    ),
    (
        "block_modules(evict='yes')",
        lambda: sm.block_modules("ujson", evict="yes"),  # type: ignore[arg-type]
        TypeError,
        "block_modules() takes evict=True or False, not 'yes'.",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_one_sentence_and_changes_nothing(
    call: Callable[[], Any], error: type[BaseException], message: str
) -> None:
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


def test_fresh_attr_new_none_installs_none() -> None:
    owner = types.SimpleNamespace(handler=print)
    with sm.fresh_attr(owner, "handler", new=None) as installed:
        assert installed is None
        assert owner.handler is None
    assert owner.handler is print
