"""Warnings that point at the user's line, not at saferemock's internals."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from unittest import mock

# Frames in these files are plumbing between the user's line and ours: saferemock itself,
# contextlib (``with`` blocks and ``ExitStack`` call our ``__exit__`` from there) and
# unittest.mock (a mock's ``__call__`` runs our side effects).
_SKIP_FILES = (
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
    os.path.abspath(contextlib.__file__),
    os.path.abspath(mock.__file__),
)


def warn(message: str, category: type[Warning]) -> None:
    """Emit ``message`` attributed to the first frame outside saferemock."""
    level = 1
    frame = sys._getframe(0)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_SKIP_FILES):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
