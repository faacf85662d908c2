"""Snapshots of global state, compared by identity, for restoration tests."""

from __future__ import annotations

import builtins
import io
import pathlib
from collections.abc import Mapping
from typing import Any

from saferemock._guard import live_runs
from saferemock._undo import ROOT, Change, Journal
from saferemock._undo import active_changes as all_changes

# pytest itself rewrites this variable between setup, call and teardown.
_VOLATILE = {"PYTEST_CURRENT_TEST"}


def builtin_slots() -> list[object]:
    """Every object whose __dict__ a global patch_builtin or fake_open may change."""
    slots: list[object] = [builtins, io]
    accessor = getattr(pathlib, "_NormalAccessor", None)  # Python 3.10
    if accessor is not None:
        slots.append(accessor)
    return slots


def _items(obj: Any) -> dict[Any, Any]:
    if isinstance(obj, Mapping):
        return {k: v for k, v in obj.items() if k not in _VOLATILE}
    return dict(vars(obj))


class Snapshot:
    """The keys of some dicts (``__dict__``s or mappings) and the identity of each value.

    Holds strong references to every value, so an identity can never be recycled
    between the snapshot and the comparison.
    """

    def __init__(self, *objects: Any) -> None:
        self.objects = objects
        self.before = [_items(obj) for obj in objects]

    def diff(self) -> list[str]:
        problems: list[str] = []
        for obj, before in zip(self.objects, self.before, strict=True):
            after = _items(obj)
            label = getattr(obj, "__name__", None) or type(obj).__name__
            for key in before.keys() - after.keys():
                problems.append(f"{label}: {key!r} was removed")
            for key in after.keys() - before.keys():
                problems.append(f"{label}: {key!r} was added")
            for key in before.keys() & after.keys():
                if before[key] is not after[key] and not (
                    isinstance(before[key], str) and before[key] == after[key]
                ):
                    problems.append(f"{label}: {key!r} is a different object")
        return problems

    def assert_unchanged(self) -> None:
        problems = self.diff()
        assert not problems, "\n".join(problems)


def stacked_on(*owners: object) -> list[object]:
    """Changes still in force for these owners (a restore leaves none)."""
    return [change for change in active_changes() if any(change.owner is owner for owner in owners)]


def _guards() -> list[Journal]:
    # The pollution guard of the session running these tests keeps its own hooks.
    return [journal for journal in ROOT.children() if journal.holder == "the pollution guard"]


def active_changes() -> list[Change]:
    """Every change still in force, but the running guard's own hooks."""
    own = {id(change) for journal in _guards() for change in journal.changes()}
    return [change for change in all_changes() if id(change) not in own]


def active_runs() -> list[object]:
    """What saferemock started and has not ended, one entry per primitive."""
    return list(live_runs().values())


def started_journals() -> list[Any]:
    """The open journals that a ``start()`` of something other than a scope opened."""
    found: list[Any] = []
    pending = [ROOT]
    while pending:
        for child in pending.pop().children():
            pending.append(child)
            if child.kind == "start" and child.describe() != "saferemock.scope()":
                found.append(child)
    return found


def engine_is_idle() -> bool:
    """Nothing open in the ownership tree and no change in force."""
    guards = _guards()
    return [j for j in ROOT.children() if j not in guards] == [] and active_changes() == []
