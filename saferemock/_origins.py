"""Who made each mock: the test that was running, or the module that was being imported.

A mock found on ``time.sleep`` at the end of a test file tells nothing about which of the
file's tests left it there, and a mock on ``adc.ads1015.adc`` is the module's own only if
the module made it while it was being imported.  While the pollution guard is on,
`MockOrigins` notes the culprit of the moment for every mock created, keyed by the
mock's own class (``unittest.mock`` gives every mock instance a class of its own), so
the note goes away with the mock.  No mock can be made before ``unittest.mock`` is
imported, and importing it costs a pytest start more than the rest of it, so the notes
start when it is (see :meth:`MockOrigins.install`).
"""

from __future__ import annotations

import types
import weakref
from collections.abc import Callable
from typing import Any, final

from saferemock._mocklib import is_mock_type, mock_bases, mock_class
from saferemock._undo import Journal

__all__ = ["MockOrigins"]


@final
class MockOrigins:
    """Notes ``current()`` (the culprit of the moment) for every mock made while installed.

    Example:
        >>> from unittest import mock
        >>> from saferemock._undo import Journal
        >>> origins = MockOrigins(lambda: "tests/test_app.py::test_upload")
        >>> journal = Journal()
        >>> origins.install(journal)
        >>> made = mock.MagicMock()
        >>> origins.origin(made), origins.made
        ('tests/test_app.py::test_upload', 1)
        >>> journal.close()
    """

    __slots__ = ("_current", "_hooked", "_made", "made")

    def __init__(self, current: Callable[[], object]) -> None:
        self._current = current
        self._made: weakref.WeakKeyDictionary[type, object] = weakref.WeakKeyDictionary()
        #: How many mocks were made so far: a cheap sign that a test made any.
        self.made = 0
        # The mock base classes whose __new__ notes origins (unittest.mock's, mock's).
        self._hooked: list[type] = []

    @property
    def installed(self) -> bool:
        """Whether ``unittest.mock``'s mocks are noted (the PyPI ``mock``'s may be too)."""
        return mock_class() in self._hooked

    def install(self, journal: Journal) -> None:
        """Note the origin of every mock made from now on while ``journal`` is open.

        Does nothing while no mock library is imported (nothing can make a mock yet) or
        for one already noted; call it again as soon as the import system has loaded
        ``unittest.mock`` (or the PyPI ``mock``), before the code that imported it runs on.
        """
        for base in mock_bases():
            if base not in self._hooked:
                self._hook(base, journal)

    def _hook(self, base: type, journal: Journal) -> None:
        real = base.__new__

        def __new__(cls: Any, /, *args: Any, **kwargs: Any) -> Any:
            instance = real(cls, *args, **kwargs)
            self._made[type(instance)] = self._current()
            self.made += 1
            return instance

        journal.setattr(base, "__new__", staticmethod(__new__))
        self._hooked.append(base)

    def origin(self, value: object) -> object:
        """What ``current()`` said when ``value`` (a mock, or an autospecced function) was made."""
        if type(value) is types.FunctionType:
            value = vars(value).get("mock")
        return self._made.get(type(value)) if is_mock_type(type(value)) else None
