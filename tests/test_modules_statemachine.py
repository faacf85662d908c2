"""Random nested and interleaved module fakes and blocks leave ``sys.modules`` exactly as it was.

The pool mixes real stdlib packages (``xml.etree``, ``email.mime``, ``json``, ``xml.dom``)
with fake names under fake and real parents.  A simple model says what ``sys.modules``
must hold for each pool name at every step: the value set by the most recently started
activation that changed it, or the original.
"""

from __future__ import annotations

import email.mime
import email.mime.text
import importlib
import json
import json.decoder
import sys
import xml
import xml.dom
import xml.dom.minidom
import xml.etree
import xml.etree.ElementTree
from typing import Any

import modpkgs
import modpkgs.plain
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from statecheck import Snapshot, active_changes

import saferemock as sm

BOOTSTRAP = importlib._bootstrap  # type: ignore[attr-defined]
REAL = ["xml.etree", "email.mime", "json", "xml.dom"]
FAKE = [
    "fk_alpha",
    "fk_alpha.beta",
    "fk_alpha.beta.gamma",
    "xml.fakechild",
    "email.mime.fakeleaf",
    "json.fakesub",
]
POOL = REAL + FAKE
IMPORTS = [*POOL, "xml.etree.ElementTree", "email.mime.text", "modpkgs.alpha_user", "modpkgs.plain"]
ABSENT = object()


class Boom(Exception):
    pass


def is_package(module: object) -> bool:
    return isinstance(module, type(sys)) and "__path__" in vars(module)


class ModulesMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.snapshot = Snapshot(
            sys.modules, xml, xml.etree, xml.dom, email, email.mime, json, modpkgs, BOOTSTRAP
        )
        self.original = {name: sys.modules.get(name, ABSENT) for name in POOL}
        self.hook = BOOTSTRAP._find_and_load
        # (activation, what it set: pool name -> value, ABSENT for removed), oldest first.
        self.active: list[tuple[Any, dict[str, object]]] = []

    def expected(self, name: str) -> object:
        for _, sets in reversed(self.active):
            if name in sets:
                return sets[name]
        return self.original[name]

    def record(
        self, activation: Any, before: dict[str, object], sets: dict[str, object], names: list[str]
    ) -> None:
        # A replaced package hides the pool names imported under it at that moment, except
        # the ones the tree itself uses (its names and their ancestors).
        used = {".".join(n.split(".")[:i]) for n in names for i in range(1, n.count(".") + 2)}
        for name, value in list(sets.items()):
            if value is not None and is_package(before.get(name)):
                for other in POOL:
                    if (
                        other.startswith(name + ".")
                        and before.get(other) is not None
                        and other not in sets
                        and other not in used
                    ):
                        sets[other] = ABSENT
        self.active.append((activation, sets))

    @rule(
        names=st.lists(st.sampled_from(POOL), min_size=1, max_size=3, unique=True),
        keep_real=st.booleans(),
        strict=st.booleans(),
        evict=st.sampled_from(["dependents", "all"]),
    )
    def start_tree(self, names: list[str], keep_real: bool, strict: bool, evict: Any) -> None:
        before = {name: sys.modules.get(name) for name in POOL}
        tree = sm.fake_module_tree(names, keep_real=keep_real, strict=strict, evict=evict)
        fakes = tree.start()
        sets: dict[str, object] = {
            name: module for name, module in fakes.items() if module is not before.get(name)
        }
        for name, module in sets.items():
            assert sys.modules[name] is module
        self.record(tree, before, sets, names)

    @rule(names=st.lists(st.sampled_from(POOL), min_size=1, max_size=2, unique=True))
    def start_block(self, names: list[str]) -> None:
        before = {name: sys.modules.get(name) for name in POOL}
        block = sm.block_modules(*names)
        block.start()
        sets: dict[str, object] = dict.fromkeys(names)
        prefixes = tuple(name + "." for name in names)
        for other in POOL:
            if other not in sets and other.startswith(prefixes) and before[other] is not None:
                sets[other] = ABSENT
        self.active.append((block, sets))

    @precondition(lambda self: self.active)
    @rule(data=st.data())
    def stop_any(self, data: st.DataObject) -> None:
        activation, _ = self.active.pop(data.draw(st.integers(0, len(self.active) - 1)))
        activation.stop()

    @rule(name=st.sampled_from(IMPORTS))
    def import_one(self, name: str) -> None:
        try:
            importlib.import_module(name)
        except ImportError:
            pass

    @rule(
        names=st.lists(st.sampled_from(POOL), min_size=1, max_size=3, unique=True),
        block=st.booleans(),
        raise_inside=st.booleans(),
    )
    def with_block(self, names: list[str], block: bool, raise_inside: bool) -> None:
        local = Snapshot(sys.modules)
        activation = sm.block_modules(*names) if block else sm.fake_module_tree(names)
        try:
            with activation:
                for name in names:
                    try:
                        importlib.import_module(name + ".inner")
                    except ImportError:
                        pass
                if raise_inside:
                    raise Boom
        except Boom:
            pass
        local.assert_unchanged()

    @rule(
        fakes=st.lists(st.sampled_from(FAKE), max_size=2, unique=True),
        blocked=st.lists(st.sampled_from(REAL), max_size=1),
        raise_inside=st.booleans(),
    )
    def fresh(self, fakes: list[str], blocked: list[str], raise_inside: bool) -> None:
        local = Snapshot(sys.modules, modpkgs)
        try:
            with sm.fresh_import("modpkgs.plain", fakes=fakes, blocked=blocked) as plain:
                assert sys.modules["modpkgs.plain"] is plain
                if raise_inside:
                    raise Boom
        except (Boom, ImportError, AttributeError):
            pass  # AttributeError: modpkgs.plain calls json.loads, and json may be a strict fake
        local.assert_unchanged()

    @invariant()
    def sys_modules_matches_the_model(self) -> None:
        for name in POOL:
            expected = self.expected(name)
            actual = sys.modules.get(name, ABSENT)
            assert actual is expected, (name, actual, expected)
            if expected is None:
                with pytest.raises(ModuleNotFoundError, match=r"saferemock\.block_modules\(\)"):
                    importlib.import_module(name)

    def teardown(self) -> None:
        for activation, _ in reversed(self.active):
            activation.stop()
        sm.stopall()
        self.snapshot.assert_unchanged()
        assert BOOTSTRAP._find_and_load is self.hook
        assert active_changes() == []


ModulesMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=25, deadline=None)
TestModulesMachine = ModulesMachine.TestCase
