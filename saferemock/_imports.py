"""What the import system does while the pollution guard watches: seen from inside.

A ``sys.modules`` entry that no test put there is not a leak, however odd it looks:
Cython extensions register ``cython_runtime``, cffi registers ``_openssl.lib``,
``xml.parsers.expat`` aliases ``pyexpat``'s submodules, a module may replace its own
entry with a wrapper while it is being imported.  What these have in common is when they
happen: while the import system is loading a library.  `ImportWatch` wraps
``importlib._bootstrap._find_and_load`` (which CPython calls for every first import;
see `saferemock._modules`) and notes, for each import, the keys that appeared while
it was in flight.  The guard then knows, by what it saw and not by a list of names:

* ``bookkeeping``: keys that appeared while a library (not the project) was being
  imported;
* ``imported``: names the import system loaded, so a key that replaced itself during its
  own import is its own doing.

It also tells the guard when a module of the project starts and ends loading, so what a
package ``__init__`` or a helper module does at import time is blamed on that file, not
on the test file that happened to import it first.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import Any, Final, TypeVar, final

from saferemock._undo import Journal

__all__ = ["ImportWatch", "Interval", "as_import_machinery"]

_BOOTSTRAP: Final[Any] = importlib._bootstrap

_F = TypeVar("_F", bound=Callable[..., Any])

# warnings.warn(stacklevel=N) skips the import system's own frames (code whose file name
# contains both "importlib" and "_bootstrap"), so a module that warns while it is imported
# blames the line that imported it.  A wrapper of _find_and_load is one more frame on that
# path; named like the import system's own, it is skipped too.
_MACHINERY_FILENAME: Final = "<saferemock's wrapper of importlib._bootstrap._find_and_load>"


def as_import_machinery(func: _F) -> _F:
    """Make a wrapper of ``_find_and_load`` invisible to ``warnings``' stack levels."""
    func.__code__ = func.__code__.replace(co_filename=_MACHINERY_FILENAME)
    return func


@final
class Interval:
    """What the import system did between two checkpoints."""

    __slots__ = ("bookkeeping", "entries", "imported", "replaced")

    def __init__(self) -> None:
        self.imported: set[str] = set()
        """Names the import system loaded."""
        self.bookkeeping: set[str] = set()
        """``sys.modules`` keys that appeared while a library was being imported."""
        self.replaced: set[str] = set()
        """Names whose module put another object in its own place while being imported."""
        self.entries: set[int] = set()
        """Ids of ``sys.path``-like entries a library added while being imported."""


def _lists() -> tuple[tuple[Any, ...], ...]:
    return (tuple(sys.path), tuple(sys.meta_path), tuple(sys.path_hooks))


def _newest_key() -> object:
    try:
        return next(reversed(sys.modules))
    except StopIteration:  # pragma: no cover - sys.modules is never empty
        return None


def _added_since(last: object) -> list[str]:
    """The ``sys.modules`` keys inserted after ``last`` (a dict keeps insertion order)."""
    added: list[str] = []
    for key in reversed(sys.modules):
        if key is last or key == last:
            return added
        added.append(key)
    return []  # ``last`` itself was removed: nothing can be told apart


@final
class ImportWatch:
    """Notes what each first import adds to ``sys.modules`` while the guard is on.

    ``is_library(module)`` says whether a loaded module is not the project's own;
    ``enter(name)`` is called before each first import and returns a token for the ones
    it cares about (or None); ``leave(token, module)`` is called after such a one loaded,
    with ``None`` if it failed.
    """

    __slots__ = ("_enter", "_is_library", "_leave", "active", "in_flight", "interval")

    def __init__(
        self,
        is_library: Callable[[object], bool],
        enter: Callable[[str], object],
        leave: Callable[[object, object], None],
    ) -> None:
        self._is_library = is_library
        self._enter = enter
        self._leave = leave
        self.active = True
        self.in_flight: list[str] = []
        self.interval = Interval()

    def install(self, journal: Journal) -> None:
        """Wrap the import system's loader for as long as ``journal`` is open."""
        namespace = _BOOTSTRAP.__dict__
        journal.setitem(namespace, "_find_and_load", self._hook(namespace["_find_and_load"]))
        journal.callback("ending the import watch", self._stop)

    def _stop(self) -> None:
        self.active = False

    def drain(self) -> Interval:
        """Return what happened since the last call, and start afresh."""
        interval, self.interval = self.interval, Interval()
        return interval

    def _hook(self, delegate: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
        @as_import_machinery
        def _find_and_load(name: str, import_: Any) -> Any:
            __tracebackhide__ = True
            # importlib.import_module() comes through here for loaded modules too.
            if not self.active or sys.modules.get(name) is not None:
                return delegate(name, import_)
            in_flight = self.in_flight
            token = self._enter(name)
            last = _newest_key()
            lists = _lists()
            in_flight.append(name)
            try:
                module = delegate(name, import_)
            except BaseException:
                in_flight.pop()
                if token is not None:
                    self._leave(token, None)
                raise
            in_flight.pop()
            interval = self.interval
            interval.imported.add(name)
            if type(module) is not types.ModuleType:
                # Its own code put another object in its place (a wrapper that warns
                # about deprecated names, a lazy proxy): its business.
                interval.replaced.add(name)
            if self._is_library(module):
                interval.bookkeeping.update(_added_since(last))
                after = _lists()
                if after != lists:
                    for before, now in zip(lists, after, strict=True):
                        known = {id(entry) for entry in before}
                        interval.entries.update(id(e) for e in now if id(e) not in known)
            if token is not None:
                self._leave(token, module)
            return module

        return _find_and_load
