"""Imports a name from a fake package that the state-machine test may or may not provide."""

from __future__ import annotations

from fk_alpha.beta import thing  # type: ignore[import-not-found]

value = thing
