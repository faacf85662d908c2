"""Random nested and interleaved patches end with every touched ``__dict__`` as it was."""

from __future__ import annotations

import os
from typing import Any

import patchtargets
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from patchtargets import Base, Service
from statecheck import Snapshot, active_changes, started_journals

import saferemock as sm

TARGETS: list[Any] = [
    ("patch", "patchtargets.CONSTANT"),
    ("patch", "patchtargets.greet"),
    ("patch", "patchtargets.fetch"),
    ("object", Service, "method"),
    ("object", Service, "static"),
    ("object", Service, "klass"),
    ("object", Service, "prop"),
    ("object", Service, "inherited_method"),
    ("object", Service, "inherited_value"),
    ("object", Service, "class_value"),
    ("object", Base, "inherited_value"),
    ("dict", "patchtargets.__dict__", "CONSTANT"),
    ("dict", "patchtargets.__dict__", "NEW_KEY"),
    ("dict", "os.environ", "SAFEREMOCK_SM_VAR"),
    ("dict", "os.environ", "HOME"),
]


def make(spec: Any, autospec: bool) -> Any:
    kind = spec[0]
    # None is the default (autospec unless the slot already holds a mock).
    choice = None if autospec else False
    if kind == "patch":
        return sm.patch(spec[1], autospec=choice)
    if kind == "object":
        return sm.patch.object(spec[1], spec[2], autospec=choice)
    return sm.patch.dict(spec[1], {spec[2]: "value"})


class Boom(Exception):
    pass


class PatchMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.snapshot = Snapshot(patchtargets, Service, Base, os.environ)
        self.started: list[Any] = []
        self.scopes: list[sm.scope] = []

    @rule(spec=st.sampled_from(TARGETS), autospec=st.booleans())
    def start(self, spec: Any, autospec: bool) -> None:
        patch = make(spec, autospec)
        patch.start()
        self.started.append(patch)

    @precondition(lambda self: self.started)
    @rule(data=st.data())
    def stop_any(self, data: st.DataObject) -> None:
        patch = self.started.pop(data.draw(st.integers(0, len(self.started) - 1)))
        patch.stop()

    @rule(
        outer=st.sampled_from(TARGETS),
        inner=st.lists(st.sampled_from(TARGETS), max_size=3),
        leave_started=st.booleans(),
        raise_inside=st.booleans(),
    )
    def with_block(
        self, outer: Any, inner: list[Any], leave_started: bool, raise_inside: bool
    ) -> None:
        try:
            with make(outer, True):
                for spec in inner:
                    patch = make(spec, False)
                    patch.start()
                    if leave_started:
                        self.started.append(patch)
                    else:
                        with make(spec, True):
                            pass
                        patch.stop()
                if raise_inside:
                    raise Boom
        except Boom:
            pass

    @rule(specs=st.lists(st.sampled_from(TARGETS), max_size=3), raise_inside=st.booleans())
    def in_scope(self, specs: list[Any], raise_inside: bool) -> None:
        try:
            with sm.scope():
                for spec in specs:
                    make(spec, True).start()
                if raise_inside:
                    raise Boom
        except Boom:
            pass

    @rule()
    def open_scope(self) -> None:
        scope = sm.scope()
        scope.start()
        self.scopes.append(scope)

    @precondition(lambda self: self.scopes)
    @rule()
    def close_scope(self) -> None:
        scope = self.scopes.pop()
        scope.stop()
        self.started = [patch for patch in self.started if patch.active]

    @invariant()
    def engine_matches_the_patches(self) -> None:
        assert len(started_journals()) == len([p for p in self.started if p.active])

    def teardown(self) -> None:
        for scope in reversed(self.scopes):
            scope.stop()
        sm.stopall()
        self.snapshot.assert_unchanged()
        assert active_changes() == []


PatchMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
TestPatchMachine = PatchMachine.TestCase
