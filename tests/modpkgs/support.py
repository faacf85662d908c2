"""Helpers shared by the ``test_modules*`` files (not a test module itself)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from typing import Any

from statecheck import active_changes

import modpkgs

BOOTSTRAP: Any = importlib._bootstrap  # type: ignore[attr-defined]
# The import system's own loader function, before any block or recording wrapped it.
FIND_AND_LOAD = BOOTSTRAP._find_and_load


def forget_modpkgs() -> Iterator[None]:
    """Yield, then drop the ``modpkgs`` submodules a test imported and did not evict.

    Used as an autouse fixture body, so a test that keeps a module on purpose (an
    ``evict="none"`` scope, a module that holds no fake) leaves no trace for the next.
    """
    before = {key for key in sys.modules if key.startswith("modpkgs.")}
    attributes = set(vars(modpkgs))
    yield
    for key in [key for key in list(sys.modules) if key.startswith("modpkgs.")]:
        if key not in before:
            del sys.modules[key]
    for name in [name for name in vars(modpkgs) if name not in attributes]:
        delattr(modpkgs, name)


def forget_modpkgs_unblocked() -> Iterator[None]:
    """``forget_modpkgs``, then check that no change and no block outlived the test."""
    yield from forget_modpkgs()
    assert active_changes() == []
    assert BOOTSTRAP._find_and_load is FIND_AND_LOAD
