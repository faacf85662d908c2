"""``unittest.mock`` as seen by the code that loads with every pytest run.

Importing ``unittest.mock`` imports ``asyncio``: together they cost more than the rest of
a pytest start, and the plugin and the pollution guard load in every run, most of which
never make a mock.  Nothing can be a mock, and no ``unittest.mock`` patcher can have
started, before something imported ``unittest.mock``; so the guard's side of saferemock
reads it from ``sys.modules`` through these helpers and never imports it itself.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator, Sequence
from typing import Any, Final, final, overload

__all__ = ["ACTIVE_PATCHES", "MOCK_MODULES", "is_mock_type", "loaded", "mock_bases", "mock_class"]

MOCK_MODULES: Final = ("unittest.mock", "mock.mock")
"""Where mock classes come from: the standard library, and its copy on PyPI (``mock``),
which older suites still import (``import mock``; ``mock.Mock()``)."""

# The module once it was seen fully imported: the first one stays, as it would have for
# a module-level ``from unittest import mock``, whatever a test puts in sys.modules later.
_FOUND: Final[list[types.ModuleType]] = []


def loaded() -> types.ModuleType | None:
    """``unittest.mock`` if something imported it, else None (it is never imported here)."""
    if _FOUND:
        return _FOUND[0]
    module = sys.modules.get("unittest.mock")
    # A module still being imported has no _patch yet; a fake put in its place has none
    # of its own either (vars(), so a fake's __getattr__ is not asked).
    if type(module) is not types.ModuleType or not isinstance(vars(module).get("_patch"), type):
        return None
    _FOUND.append(module)
    return module


def mock_class() -> type | None:
    """``unittest.mock.NonCallableMock``, the base of every mock, once it is imported."""
    module = loaded()
    return None if module is None else module.NonCallableMock


def mock_bases() -> tuple[type, ...]:
    """The ``NonCallableMock`` of each module of `MOCK_MODULES` imported so far."""
    bases = []
    for name in MOCK_MODULES:
        module = loaded() if name == "unittest.mock" else sys.modules.get(name)
        base = vars(module).get("NonCallableMock") if type(module) is types.ModuleType else None
        if isinstance(base, type):
            bases.append(base)
    return tuple(bases)


def is_mock_type(kind: type) -> bool:
    """Tell whether ``kind`` is a mock class (a mock's ``type()``, never its ``__class__``)."""
    return issubclass(kind, mock_bases())


@final
class _ActivePatches(Sequence[Any]):
    """``unittest.mock._patch._active_patches``, or empty while it is not imported.

    The stdlib keeps every patcher started with ``start()`` there, oldest first, until it
    is stopped.  A view rather than the list itself, so code that reads it does not have
    to import ``unittest.mock`` first.
    """

    __slots__ = ()

    def _list(self) -> list[Any]:
        module = loaded()
        return [] if module is None else module._patch._active_patches

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        return self._list()[index]

    def __len__(self) -> int:
        return len(self._list())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._list())

    def __eq__(self, other: object) -> bool:
        return self._list() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ACTIVE_PATCHES({self._list()!r})"


ACTIVE_PATCHES: Final = _ActivePatches()
"""Every ``unittest.mock`` patcher (and ``patch.dict``) started with ``start()`` and not
stopped, oldest first."""
