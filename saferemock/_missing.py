"""The "absent" sentinel: a slot that held nothing is a state of its own, never ``None``."""

from __future__ import annotations

import enum
from typing import Final, Literal


class _Missing(enum.Enum):
    MISSING = enum.auto()

    def __repr__(self) -> str:
        return "<MISSING>"


MISSING: Final = _Missing.MISSING
MissingType = Literal[_Missing.MISSING]
