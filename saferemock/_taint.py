"""Which modules hold something from a controlled world (a fake, a mock, an evicted module).

A module imported while fakes, patches or blocks were in place may have captured one of
them at import (``from boto3 import client``); left in ``sys.modules`` it would hand the
fake to every later test.  `Taint` tells such modules apart from the shared
dependencies that merely got imported alongside, so only the former are evicted.
"""

from __future__ import annotations

import types
from typing import Any, cast

from saferemock._mocklib import is_mock_type

__all__ = ["Taint", "mock_root"]


def mock_root(value: object) -> object:
    """Follow a child mock (``Fake.return_value.method``) up to the mock it came from."""
    for _ in range(1000):
        parent = vars(value).get("_mock_new_parent")
        if parent is None:
            return value
        value = parent
    return value  # pragma: no cover - a parent cycle


class Taint:
    """What counts as a reference to the controlled world, growing as modules are evicted.

    Seeded with the ids of the fakes, mocks and values that must not outlive a scope;
    `spread` then takes every module that holds one of them, directly or through a
    module taken before it.

    Examples:
        >>> import types
        >>> fake = object()
        >>> holder = types.ModuleType("holder")
        >>> holder.client = fake
        >>> bystander = types.ModuleType("bystander")
        >>> [key for key, _ in Taint({id(fake)}).spread({"holder": holder, "bystander": bystander})]
        ['holder']
    """

    __slots__ = ("dict_ids", "ids", "names")

    def __init__(self, ids: set[int]) -> None:
        self.ids = ids
        self.dict_ids: set[int] = set()
        self.names: set[str] = set()

    def add(self, key: str, module: object) -> None:
        """Count ``module`` (known as ``sys.modules[key]``) and what it defines as tainted."""
        self.ids.add(id(module))
        self.names.add(key)
        namespace = getattr(module, "__dict__", None)
        if isinstance(namespace, dict):
            self.dict_ids.add(id(namespace))

    def spread(self, candidates: dict[str, Any]) -> list[tuple[str, Any]]:
        """Take every candidate module that holds something tainted, until nothing changes.

        A module holding a tainted value goes; so does one holding something from a module
        that goes (its module object, a function whose globals are its namespace, a class
        defined there or an instance of one).  Returns what was taken, in order, and
        removes it from ``candidates``.
        """
        taken: list[tuple[str, Any]] = []
        changed = True
        while changed:
            changed = False
            for key, module in list(candidates.items()):
                if self.holds(key, module):
                    del candidates[key]
                    self.add(key, module)
                    taken.append((key, module))
                    changed = True
        return taken

    def holds(self, key: str, module: object) -> bool:
        """Tell whether ``module`` (``sys.modules[key]``) holds something tainted."""
        if id(module) in self.ids:
            return True  # sys.modules["x"] = fake, done by the code under test
        if not issubclass(type(module), types.ModuleType):
            return False
        namespace = vars(module)
        for attr, value in list(namespace.items()):
            kind = type(value)
            if (
                issubclass(kind, types.ModuleType)
                and vars(value).get("__name__") == f"{key}.{attr}"
            ):
                continue  # a package's own submodule; eviction unbinds it from the package
            if self._is_tainted(value, kind):
                return True
            if issubclass(kind, type) and vars(value).get("__module__") == key:
                # Class bodies keep references too (``deserializer = AvroDeserializer``).
                for member in list(vars(value).values()):
                    if self._is_tainted(member, type(member)):
                        return True
        return False

    def _is_tainted(self, value: object, kind: type) -> bool:
        # type(value), never isinstance(): isinstance reads __class__, which a mock with
        # a spec or a lazy proxy answers with something else.
        if id(value) in self.ids:
            return True
        if is_mock_type(kind):
            return id(mock_root(value)) in self.ids
        if kind is types.FunctionType:
            function = cast(types.FunctionType, value)
            if id(function.__globals__) in self.dict_ids:
                return True
            inner = vars(function).get("mock")  # an autospecced function wraps its mock
            return inner is not None and id(mock_root(inner)) in self.ids
        if issubclass(kind, type):
            return vars(value).get("__module__") in self.names
        return getattr(kind, "__module__", None) in self.names
