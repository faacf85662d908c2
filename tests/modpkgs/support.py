"""Helpers shared by the ``test_modules*`` files (not a test module itself)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import modpkgs
from saferemock._modules import _BLOCKED
from saferemock._undo import _STACKS


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
    assert _STACKS == {}
    assert _BLOCKED == {}
