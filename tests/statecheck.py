"""Snapshots of global state, compared by identity, for restoration tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# pytest itself rewrites this variable between setup, call and teardown.
_VOLATILE = {"PYTEST_CURRENT_TEST"}


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
