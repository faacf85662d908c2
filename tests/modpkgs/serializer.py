"""Uses the optional accelerator when it is installed, the standard library otherwise."""

from __future__ import annotations

try:
    from modpkgs import fastjson as backend

    FAST = True
except ImportError:
    import json as backend  # type: ignore[no-redef]

    FAST = False


def encode(value: object) -> str:
    return backend.dumps(value)
