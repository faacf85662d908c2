"""The rule under random interleavings of saferemock, unittest.mock, monkeypatch and writes.

Slots of every kind (module, class and instance attributes, a property, a metaclass
property, dict items, ``os.environ``, ``sys.modules``) are patched by saferemock, by
``unittest.mock`` patchers started with ``start()`` (as pytest-mock does) and by
``MonkeyPatch`` objects, and written to by "code under test".  saferemock's activations
end in any order, ``with`` blocks are left by exceptions (``BaseException`` included);
foreign patchers unwind newest first among themselves.  One foreign tool holds a slot at a
time: which of a unittest.mock patcher and a MonkeyPatch took a slot first cannot be
observed, and is documented as such.

What must hold, the rule:

* when saferemock's newest change to a slot is the newest change of anyone, and nothing
  wrote the slot since, the slot shows saferemock's value;
* when nothing is active on a slot, the slot holds its original: whatever was written
  while it was patched went with the last patch;
* when everything has ended, every slot holds its original.
"""

from __future__ import annotations

import os
import sys
import types
from itertools import count
from typing import Any
from unittest import mock

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from patchtargets import Meta
from statecheck import engine_is_idle

import saferemock as sm
from saferemock._foreign import watch

_VALUES = count()


class Owner(metaclass=Meta):
    plain = "class original"

    @property
    def prop(self) -> str:
        return "property original"


MODULE = types.ModuleType("rule_machine_module")
MODULE.value = "module original"  # type: ignore[attr-defined]
INSTANCE = types.SimpleNamespace(value="instance original")
DATA: dict[str, object] = {"k": "dict original"}
ENV_KEY = "SAFEREMOCK_RULE_MACHINE"
MODULE_KEY = "saferemock_rule_machine_mod"
ORIGINAL_MODULE = types.ModuleType(MODULE_KEY)
MONKEYPATCHES: list[pytest.MonkeyPatch] = []

# (name, kind, owner, key, tools that can patch it)
SLOTS: dict[str, tuple[str, Any, str, tuple[str, ...]]] = {
    "module": ("attr", MODULE, "value", ("sm", "mock", "mp")),
    "class": ("attr", Owner, "plain", ("sm", "mock", "mp")),
    "property": ("attr", Owner, "prop", ("sm", "mock", "mp")),
    # unittest.mock and monkeypatch cannot undo a metaclass property (no deleter).
    "metaclass": ("attr", Owner, "level", ("sm",)),
    "instance": ("attr", INSTANCE, "value", ("sm", "mock", "mp")),
    "dict": ("item", DATA, "k", ("sm", "mock", "mp")),
    "environ": ("item", os.environ, ENV_KEY, ("sm", "mock", "mp")),
    "sys.modules": ("item", sys.modules, MODULE_KEY, ("sm", "mock", "mp")),
}


def read(name: str) -> object:
    kind, owner, key, _ = SLOTS[name]
    if kind == "attr":
        return getattr(owner, key)
    return owner.get(key, "<absent>")


def fresh_value(name: str) -> object:
    number = next(_VALUES)
    if name == "sys.modules":
        return types.ModuleType(f"{MODULE_KEY}_{number}")
    return f"value {number}"


def same(current: object, expected: object) -> bool:
    return current is expected or (isinstance(expected, str) and current == expected)


class Layer:
    """One patch of one slot by one tool, until it is stopped."""

    def __init__(self, tool: str, slot: str, value: object, step: int) -> None:
        self.tool = tool
        self.slot = slot
        self.value = value
        self.step = step
        kind, owner, key, _ = SLOTS[slot]
        self.handle: Any
        if tool == "sm":
            self.handle = (
                sm.patch.object(owner, key, value)
                if kind == "attr"
                else sm.patch.dict(owner, {key: value})
            )
            self.handle.start()
        elif tool == "mock":
            self.handle = (
                mock.patch.object(owner, key, value)
                if kind == "attr"
                else mock.patch.dict(owner, {key: value})
            )
            self.handle.start()
        else:
            self.handle = MONKEYPATCHES.pop(0)  # in the order they were watched
            if kind == "attr":
                self.handle.setattr(owner, key, value)
            else:
                self.handle.setitem(owner, key, value)

    def stop(self) -> None:
        if self.tool == "mp":
            self.handle.undo()
        else:
            self.handle.stop()


class RuleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # As the plugin does for the monkeypatch fixture: watched from their creation,
        # before anything in the test runs.
        MONKEYPATCHES[:] = [pytest.MonkeyPatch() for _ in range(40)]
        for monkeypatch in MONKEYPATCHES:
            watch(monkeypatch)
        os.environ.pop(ENV_KEY, None)
        sys.modules[MODULE_KEY] = ORIGINAL_MODULE
        self.originals = {name: read(name) for name in SLOTS}
        self.layers: list[Layer] = []
        self.step = 0
        # When code last wrote each slot, or a foreign patcher wrote its original over it.
        self.disturbed: dict[str, int] = {}

    def _tick(self) -> int:
        self.step += 1
        return self.step

    def _newest(self, slot: str) -> Layer | None:
        return next((layer for layer in reversed(self.layers) if layer.slot == slot), None)

    @rule(slot=st.sampled_from(sorted(SLOTS)), tool=st.sampled_from(["sm", "mock", "mp"]))
    def start(self, slot: str, tool: str) -> None:
        if tool not in SLOTS[slot][3]:
            tool = "sm"
        foreign = {layer.tool for layer in self.layers if layer.slot == slot} - {"sm"}
        if tool != "sm" and foreign:
            # One foreign tool per slot at a time: the order in which a unittest.mock
            # patcher and a MonkeyPatch took one slot cannot be observed (see _foreign).
            tool = foreign.pop()
        self.layers.append(Layer(tool, slot, fresh_value(slot), self._tick()))

    @precondition(lambda self: any(layer.tool == "sm" for layer in self.layers))
    @rule(data=st.data())
    def stop_saferemock(self, data: st.DataObject) -> None:
        # saferemock's own activations end in any order.
        ours = [layer for layer in self.layers if layer.tool == "sm"]
        layer = data.draw(st.sampled_from(ours))
        self.layers.remove(layer)
        layer.stop()

    @precondition(lambda self: any(layer.tool != "sm" for layer in self.layers))
    @rule()
    def stop_foreign(self) -> None:
        # Foreign patchers unwind newest first among themselves (out of order, the stdlib
        # leaks with no saferemock involved), in any order relative to saferemock's.
        layer = [layer for layer in self.layers if layer.tool != "sm"][-1]
        was_newest = self._newest(layer.slot) is layer
        self.layers.remove(layer)
        layer.stop()
        if not was_newest:
            # It puts back what it saw, over whatever is newer: what the stdlib does, and
            # nothing a patch above it can prevent until that one ends too.
            self.disturbed[layer.slot] = self._tick()

    @precondition(lambda self: self.layers)
    @rule(data=st.data())
    def code_writes(self, data: st.DataObject) -> None:
        # Into a patched slot: what every tool is there to discard.
        slot = data.draw(st.sampled_from(sorted({layer.slot for layer in self.layers})))
        kind, owner, key, _ = SLOTS[slot]
        value = fresh_value(slot)
        if kind == "attr":
            setattr(owner, key, value)
        else:
            owner[key] = value
        self.disturbed[slot] = self._tick()

    @rule(
        slot=st.sampled_from(sorted(SLOTS)),
        error=st.sampled_from([KeyError, KeyboardInterrupt, None]),
    )
    def with_block(self, slot: str, error: type[BaseException] | None) -> None:
        before = read(slot)
        value = fresh_value(slot)
        kind, owner, key, _ = SLOTS[slot]
        patcher = (
            sm.patch.object(owner, key, value)
            if kind == "attr"
            else sm.patch.dict(owner, {key: value})
        )
        try:
            with patcher:
                assert same(read(slot), value)
                if error is not None:
                    raise error
        except (KeyError, KeyboardInterrupt):
            pass
        assert same(read(slot), before)

    @invariant()
    def the_rule_holds(self) -> None:
        for slot in SLOTS:
            newest = self._newest(slot)
            if newest is None:
                # Whatever happened while it was patched was undone with the last patch.
                assert same(read(slot), self.originals[slot]), slot
            elif newest.tool == "sm" and self.disturbed.get(slot, -1) < newest.step:
                assert same(read(slot), newest.value), slot

    def teardown(self) -> None:
        for layer in [layer for layer in self.layers if layer.tool == "sm"]:
            layer.stop()
        for layer in reversed([layer for layer in self.layers if layer.tool != "sm"]):
            layer.stop()
        for slot in SLOTS:
            assert same(read(slot), self.originals[slot]), slot
        assert engine_is_idle()
        del sys.modules[MODULE_KEY]


RuleMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
test_the_rule = RuleMachine.TestCase
