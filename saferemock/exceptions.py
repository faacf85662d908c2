"""Every error and warning saferemock raises.

Each error message is one sentence that names the bad value and says how to fix it.
Errors that stand in for a standard exception also inherit from it, so code written
against ``unittest.mock`` (``except AttributeError``) keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "CacheTargetError",
    "FakeFilesError",
    "InvalidTargetError",
    "ModuleTreeError",
    "SaferemockError",
    "SaferemockLeakWarning",
    "SaferemockWarning",
    "SequenceExhaustedError",
    "TargetAttributeError",
    "TargetImportError",
    "UndoError",
    "UnusedPatchError",
]


class SaferemockError(Exception):
    """Base class of every saferemock error.

    Examples:
        >>> import saferemock as sm
        >>> try:
        ...     sm.patch("json.dump_s").start()
        ... except sm.SaferemockError as exc:
        ...     print(exc)
        module 'json' has no attribute 'dump_s'; did you mean 'dumps'? Pass create=True to add it.
    """

    __module__ = "saferemock"


class InvalidTargetError(SaferemockError, TypeError):
    """A patch target that is not a dotted ``"package.module.attribute"`` string.

    Examples:
        >>> import saferemock as sm
        >>> sm.patch("json")
        Traceback (most recent call last):
        ...
        saferemock.InvalidTargetError: Cannot patch 'json': the target must be 'module.attribute', such as 'json.dumps'.
    """

    __module__ = "saferemock"


class TargetImportError(SaferemockError, ImportError):
    """A dotted target whose module part cannot be imported or resolved.

    Examples:
        >>> import saferemock as sm
        >>> sm.patch("jsonn.dumps").start()
        Traceback (most recent call last):
        ...
        saferemock.TargetImportError: Cannot resolve 'jsonn.dumps': no module named 'jsonn'; did you mean 'json'?
    """

    __module__ = "saferemock"


class TargetAttributeError(SaferemockError, AttributeError):
    """A patch of an attribute that does not exist, without ``create=True``.

    Examples:
        >>> import json, saferemock as sm
        >>> sm.patch.object(json, "dump_s").start()
        Traceback (most recent call last):
        ...
        saferemock.TargetAttributeError: module 'json' has no attribute 'dump_s'; did you mean 'dumps'? Pass create=True to add it.
    """

    __module__ = "saferemock"


class UnusedPatchError(SaferemockError):
    """A ``require_use=True`` patch whose mock was never called or touched.

    Examples:
        >>> import saferemock as sm
        >>> with sm.patch("json.dumps", require_use=True):
        ...     pass
        Traceback (most recent call last):
        ...
        saferemock.UnusedPatchError: The patch of 'json.dumps' was never used: nothing called it or read an attribute of it, which usually means the code under test imports the name from somewhere else; patch it where it is looked up.
    """

    __module__ = "saferemock"


class UndoError(SaferemockError):
    """One or more undo steps failed; every other step still ran.

    ``errors`` holds the exceptions in the order they happened.

    Examples:
        >>> from saferemock import UndoError
        >>> err = UndoError([ValueError("boom")], ["setting x"])
        >>> print(err)
        1 undo step failed and the rest were undone: setting x: ValueError('boom').
    """

    __module__ = "saferemock"

    def __init__(self, errors: Sequence[BaseException], steps: Sequence[str]) -> None:
        self.errors = list(errors)
        self.steps = list(steps)
        parts = "; ".join(
            f"{step}: {err!r}" for step, err in zip(self.steps, self.errors, strict=True)
        )
        count = len(self.errors)
        noun = "step" if count == 1 else "steps"
        super().__init__(f"{count} undo {noun} failed and the rest were undone: {parts}.")


class SaferemockWarning(UserWarning):
    """The base of every warning saferemock reports: match it to handle them all.

    The pollution guard reports through pytest's warnings summary, never through
    ``warnings.warn``, so a ``conftest.py`` hook, not ``-W error``, is where to act on them.

    Examples:
        >>> import warnings, saferemock as sm
        >>> seen = []
        >>> def pytest_warning_recorded(warning_message, when, nodeid, location):
        ...     if issubclass(warning_message.category, sm.SaferemockWarning):
        ...         seen.append(nodeid)
        >>> report = sm.SaferemockLeakWarning("saferemock: ...")
        >>> pytest_warning_recorded(
        ...     warnings.WarningMessage(report, type(report), "test_x.py", 3),
        ...     "runtest", "test_x.py::test_x", None,
        ... )
        >>> seen
        ['test_x.py::test_x']
    """

    __module__ = "saferemock"


class SaferemockLeakWarning(SaferemockWarning):
    """The pollution guard found state a test or test file left behind.

    In warn mode each leak shows in pytest's warnings summary as one of these, at the
    culprit's file and line; a ``conftest.py`` hook can collect them, say for a CI report.

    Examples:
        >>> import warnings, saferemock as sm
        >>> def pytest_warning_recorded(warning_message, when, nodeid, location):
        ...     if warning_message.category is sm.SaferemockLeakWarning:
        ...         where = f"{warning_message.filename}:{warning_message.lineno}"
        ...         print(f"{where}: {warning_message.message}")
        >>> report = sm.SaferemockLeakWarning("saferemock: sys.modules['boto3'] was left a mock")
        >>> pytest_warning_recorded(
        ...     warnings.WarningMessage(report, type(report), "tests/test_monitor.py", 7),
        ...     "collect", "tests/test_monitor.py", None,
        ... )
        tests/test_monitor.py:7: saferemock: sys.modules['boto3'] was left a mock
    """

    __module__ = "saferemock"


class CacheTargetError(SaferemockError, LookupError):
    """A ``clear_caches`` target that is not imported or holds no ``functools`` cache.

    Examples:
        >>> import json, saferemock as sm
        >>> sm.clear_caches(json).start()
        Traceback (most recent call last):
        ...
        saferemock.CacheTargetError: Cannot clear caches of module 'json': it holds no functools.lru_cache or functools.cache wrapper; name the module, class or function that has one, or pass missing_ok=True.
    """

    __module__ = "saferemock"


class FakeFilesError(SaferemockError, TypeError):
    """A ``fake_open`` file map with a path or contents of the wrong type.

    Examples:
        >>> import saferemock as sm
        >>> sm.fake_open({"a.txt": 42})
        Traceback (most recent call last):
        ...
        saferemock.FakeFilesError: fake_open() takes file contents as str or bytes, not 42 for 'a.txt'.
    """

    __module__ = "saferemock"


class ModuleTreeError(SaferemockError, ValueError):
    """A module name or tree that ``fake_module_tree``, ``block_modules`` or ``fresh_import`` cannot use.

    Examples:
        >>> import saferemock as sm
        >>> sm.fake_module_tree(["confluent_kafka..avro"])
        Traceback (most recent call last):
        ...
        saferemock.ModuleTreeError: 'confluent_kafka..avro' is not a module name: fake_module_tree() takes dotted Python identifiers such as 'confluent_kafka.schema_registry'.
    """

    __module__ = "saferemock"


class SequenceExhaustedError(SaferemockError):
    """An ``async_sequence`` mock awaited more often than it has items.

    Raised instead of ``StopIteration``/``StopAsyncIteration``, which the code under test
    could mistake for the normal end of an iteration.

    Examples:
        >>> import asyncio, saferemock as sm
        >>> fetch = sm.async_sequence("page 1")
        >>> asyncio.run(fetch())
        'page 1'
        >>> asyncio.run(fetch())
        Traceback (most recent call last):
        ...
        saferemock.SequenceExhaustedError: The async_sequence of 1 item is exhausted: await number 2 has no item left; pass one item for every await the code under test makes.
    """

    __module__ = "saferemock"
