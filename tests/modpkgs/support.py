"""Helpers shared by the ``test_modules*`` files (not a test module itself)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import modpkgs


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
