"""``SafeMock``: every primitive as a method, each started at once and undone together.

This is the object behind the ``safemock`` fixtures and `SafeMockTestCase`.  Each
method is derived from the public factory of the same name (same parameters, same
types): it builds the primitive, starts it at once (as ``mocker.patch`` does) under the
object's own journal, and returns what a ``with`` block would yield.
`SafeMock.close` undoes all of it, newest first, keeps going past failures and
raises once.

The journal is a child of the root, not of the current ``saferemock.scope()``: a
``SafeMock`` is an owner in its own right, so a scope the test happens to have open
neither swallows what a longer-lived fixture started nor hides it from the guard.
"""

from __future__ import annotations

import functools
import inspect
import textwrap
import unittest
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, final
from unittest import mock

from typing_extensions import Self

from saferemock._activation import Activation
from saferemock._async import (
    async_context_manager,
    async_iterator,
    async_raise,
    async_return,
    async_sequence,
)
from saferemock._attrs import fresh_attr
from saferemock._autospec import create_autospec, reset_mock
from saferemock._builtins import patch_builtin
from saferemock._caches import clear_caches
from saferemock._fakeopen import fake_open
from saferemock._modules import block_modules, fake_module_tree, fresh_import
from saferemock._patch import patch
from saferemock._spy import spy
from saferemock._stubs import async_stub, stub
from saferemock._undo import ROOT, Journal
from saferemock.exceptions import SaferemockError

__all__ = ["SafeMock", "SafeMockTestCase"]

P = ParamSpec("P")
T = TypeVar("T")


def _started(
    factory: Callable[P, Activation[T]], example: str, name: str = ""
) -> Callable[Concatenate[Any, P], T]:
    """A method that starts ``factory(...)`` under its object's journal and returns the value.

    The object is a `SafeMock`, or the ``patch`` namespace of one; ``name`` is the
    method's name as users call it, when it is not the factory's.
    """
    name = name or factory.__name__

    @functools.wraps(factory)
    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        __tracebackhide__ = True
        owner: SafeMock = self if isinstance(self, SafeMock) else self._safemock
        return owner._start(name, functools.partial(factory, *args, **kwargs))

    _describe(
        method,
        factory,
        f"Start ``saferemock.{name}`` at once; `SafeMock.close` undoes it.\n\n"
        "Takes the arguments of the factory and returns what its ``with`` block yields.",
        example,
    )
    return method


def _remembered(factory: Callable[P, T], example: str) -> Callable[Concatenate[Any, P], T]:
    """A method that returns ``factory(...)``, a new mock, and keeps it for ``resetall()``."""
    name = factory.__name__

    @functools.wraps(factory)
    def method(self: SafeMock, /, *args: P.args, **kwargs: P.kwargs) -> T:
        __tracebackhide__ = True
        made = factory(*args, **kwargs)
        if not self._closed:
            self._made.append(made)
        return made

    _describe(
        method,
        factory,
        f"Return ``saferemock.{name}(...)``, which changes nothing global; "
        "`SafeMock.resetall` resets it.\n\nTakes the arguments of the factory.",
        example,
    )
    return method


def _describe(method: Any, factory: Callable[..., Any], summary: str, example: str) -> None:
    """Give a method derived from ``factory`` its docstring and the factory's parameters."""
    method.__doc__ = (
        f"{summary}\n\nExamples:\n{textwrap.indent(textwrap.dedent(example).strip(), '    ')}\n"
    )
    # The factory's parameters after self; __wrapped__ would make inspect drop the first.
    del method.__wrapped__
    signature = inspect.signature(factory)
    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    method.__signature__ = signature.replace(
        parameters=[self_parameter, *signature.parameters.values()]
    )


@final
class _SafeMockPatch:
    """``safemock.patch``: `saferemock.patch` started at once, with ``.object``, ``.dict``, ``.multiple``.

    ``patch.context_manager`` (pytest-mock's) is not needed: each of these starts at once,
    and a patch meant for one block is ``with sm.patch(...)``.
    """

    __slots__ = ("_safemock",)

    def __init__(self, safemock: SafeMock) -> None:
        self._safemock = safemock

    def __repr__(self) -> str:
        return f"<patch of {self._safemock!r}>"

    __call__ = _started(
        patch.__call__,
        """
        >>> import json, saferemock as sm
        >>> with sm.SafeMock() as safemock:
        ...     dumps = safemock.patch("json.dumps", return_value="{}")
        ...     json.dumps([1])
        '{}'
        >>> dumps.assert_called_once_with([1])
        >>> json.dumps([1])
        '[1]'
        """,
        "patch",
    )

    object = _started(
        patch.object,
        """
        >>> import json, saferemock as sm
        >>> with sm.SafeMock() as safemock:
        ...     loads = safemock.patch.object(json, "loads", return_value={})
        ...     json.loads("[]")
        {}
        >>> json.loads("[]")
        []
        """,
        "patch.object",
    )

    dict = _started(
        patch.dict,
        """
        >>> import os, saferemock as sm
        >>> with sm.SafeMock() as safemock:
        ...     env = safemock.patch.dict(os.environ, {"APP_MODE": "test"})
        ...     os.environ["APP_MODE"], env is os.environ
        ('test', True)
        >>> "APP_MODE" in os.environ
        False
        """,
        "patch.dict",
    )

    multiple = _started(
        patch.multiple,
        """
        >>> import os.path, saferemock as sm
        >>> with sm.SafeMock() as safemock:
        ...     mocks = safemock.patch.multiple(os.path, exists=sm.DEFAULT, isfile=sm.DEFAULT)
        ...     mocks["exists"].return_value = True
        ...     os.path.exists("/nowhere"), sorted(mocks)
        (True, ['exists', 'isfile'])
        >>> os.path.exists("/nowhere")
        False
        """,
        "patch.multiple",
    )


@final
class SafeMock:
    """Every saferemock primitive as a method, started at once and undone by `close`.

    This is the class of the ``safemock`` fixture (and its ``class_``, ``module_``,
    ``package_`` and ``session_`` variants), exported for annotations::

        def test_upload(safemock: sm.SafeMock) -> None: ...

    Each method takes the arguments of the factory of the same name, starts the
    primitive right away and returns what a ``with`` block would yield; `close`
    undoes everything newest first.  ``intentional=True`` marks session-wide fakes the
    pollution guard never reports; ``holder`` names the owner that closes the object
    (a fixture), so the guard leaves what it holds alone until then.

    Examples:
        >>> import json, os, saferemock as sm
        >>> safemock = sm.SafeMock()
        >>> dumps = safemock.patch("json.dumps", return_value="[]")
        >>> env = safemock.patch.dict(os.environ, {"APP_MODE": "test"})
        >>> json.dumps({}), os.environ["APP_MODE"]
        ('[]', 'test')
        >>> safemock.close()
        >>> json.dumps({}), "APP_MODE" in os.environ
        ('{}', False)
        >>> safemock.patch("json.dumps")
        Traceback (most recent call last):
        ...
        saferemock.SaferemockError: Cannot call safemock.patch(): this SafeMock is closed, so nothing started now would be undone; use the safemock of a fixture or test that is still running, or create a new SafeMock.
    """

    __slots__ = ("_closed", "_journal", "_made", "holder", "intentional", "patch")

    intentional: bool
    """Whether the guard treats what this object changed as a deliberate, session-wide fake."""

    holder: str | None
    """Who closes this object (``"fixture 'safemock'"``), or None when the test itself must."""

    patch: _SafeMockPatch
    """`saferemock.patch`, started at once, with ``.object``, ``.dict`` and ``.multiple``."""

    def __init__(self, *, intentional: bool = False, holder: str | None = None) -> None:
        self.intentional = intentional
        self.holder = holder
        self.patch = _SafeMockPatch(self)
        self._journal: Journal | None = None
        self._closed = False
        # The mocks create_autospec(), stub() and async_stub() made: nothing to undo, but
        # resetall() resets them.
        self._made: list[Any] = []

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self.active_runs())} active"
        extra = ", intentional" if self.intentional else ""
        return f"<SafeMock {state}{extra}>"

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether `close` ran; a closed object refuses to start anything.

        Examples:
            >>> import saferemock as sm
            >>> safemock = sm.SafeMock()
            >>> safemock.close()
            >>> safemock.closed
            True
        """
        return self._closed

    def active_runs(self) -> list[Journal]:
        """Return one record per primitive started and still active, oldest first.

        Each has the ``activation`` that was started and the ``value`` it returned.

        Examples:
            >>> import saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     dumps = safemock.patch("json.dumps")
            ...     [run.value is dumps for run in safemock.active_runs()]
            [True]
        """
        journal = self._journal
        return journal.children() if journal is not None else []

    def stopall(self) -> None:
        """Undo everything started so far, newest first; the object stays usable.

        Every step runs even when some fail; the failures are raised together as one
        `UndoError`.

        Examples:
            >>> import json, saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     _ = safemock.patch("json.dumps", return_value="x")
            ...     safemock.stopall()
            ...     json.dumps(1)
            '1'
        """
        __tracebackhide__ = True
        self._check_open("stopall")
        journal = self._journal
        if journal is not None:
            journal.undo()

    def stop(self, mock: object) -> None:
        """Undo the one primitive that returned ``mock``, as ``mocker.stop(mock)``.

        ``mock`` is what a method returned (the mock of a patch or a spy, the dict of
        ``patch.dict``) or a mock in the dict of ``patch.multiple``, which stops all of
        that call.  The newest active one that returned it is undone; anything else
        raises ``ValueError``, as pytest-mock does.

        Examples:
            >>> import json, saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     dumps = safemock.patch("json.dumps", return_value="x")
            ...     loads = safemock.patch("json.loads", return_value=[])
            ...     safemock.stop(dumps)
            ...     json.dumps(1), json.loads("{}")
            ('1', [])
            >>> safemock = sm.SafeMock()
            >>> safemock.stop(json.dumps)
            Traceback (most recent call last):
            ...
            ValueError: Cannot stop <function dumps at 0x...>: nothing this safemock started and still holds returned it; pass the mock that one of its methods, such as safemock.patch(), returned, and stop it only once.
        """
        __tracebackhide__ = True
        self._check_open("stop")
        for run in reversed(self.active_runs()):
            activation = run.activation
            if run.value is mock or any(made is mock for made in activation.mocks(run.value)):
                run.close()
                return
        raise ValueError(
            f"Cannot stop {mock!r}: nothing this safemock started and still holds returned "
            "it; pass the mock that one of its methods, such as safemock.patch(), returned, "
            "and stop it only once."
        )

    def resetall(self, *, return_value: bool = False, side_effect: bool = False) -> None:
        """Call ``reset_mock()`` on every mock this object made and still holds, as ``mocker.resetall()``.

        That is the mocks of the patches, spies and other primitives still active, and
        those ``create_autospec``, ``stub`` and ``async_stub`` returned.  ``return_value``
        and ``side_effect`` are passed on to ``reset_mock()``; a spy keeps calling the
        original and a ``fake_open`` keeps serving its files, with their calls forgotten.

        Examples:
            >>> import json, saferemock as sm
            >>> safemock = sm.SafeMock()
            >>> dumps = safemock.patch("json.dumps", return_value="x")
            >>> callback = safemock.stub("callback")
            >>> json.dumps(1), callback(2)
            ('x', <MagicMock name='callback()' id='...'>)
            >>> safemock.resetall(return_value=True)
            >>> dumps.call_count, callback.call_count
            (0, 0)
            >>> json.dumps(1)
            <MagicMock name='dumps()' id='...'>
            >>> safemock.close()
        """
        __tracebackhide__ = True
        self._check_open("resetall")
        for run in self.active_runs():
            run.activation.reset(run.value, return_value=return_value, side_effect=side_effect)
        for made in self._made:
            reset_mock(made, return_value=return_value, side_effect=side_effect)

    def close(self, *, failed: bool = False) -> None:
        """Undo everything started, newest first, and refuse further use; closing twice is a no-op.

        ``failed=True`` says the test already failed, so post-undo checks such as
        ``require_use`` stay quiet instead of adding a second error.

        Examples:
            >>> import json, saferemock as sm
            >>> safemock = sm.SafeMock()
            >>> _ = safemock.patch("json.dumps", return_value="x")
            >>> safemock.close()
            >>> safemock.close()
            >>> json.dumps(1)
            '1'
        """
        __tracebackhide__ = True
        self._closed = True
        self._made.clear()
        journal, self._journal = self._journal, None
        if journal is not None:
            journal.close(failed=failed)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        __tracebackhide__ = True
        self.close(failed=exc_type is not None)

    def _check_open(self, method: str) -> None:
        __tracebackhide__ = True
        if self._closed:
            raise SaferemockError(
                f"Cannot call safemock.{method}(): this SafeMock is closed, so nothing started "
                "now would be undone; use the safemock of a fixture or test that is still "
                "running, or create a new SafeMock."
            )

    def _start(self, method: str, build: Callable[[], Activation[T]]) -> T:
        """Build an activation and start it under this object's journal."""
        __tracebackhide__ = True
        self._check_open(method)
        activation = build()
        journal = self._journal
        if journal is None:
            holder = self.holder or ("intentional fakes" if self.intentional else None)
            journal = self._journal = Journal(ROOT, "safemock", holder=holder)
        return activation.open("start", journal).value  # type: ignore[no-any-return]

    # -- primitives that change global state: started at once, undone by close() ----------

    fake_module_tree = _started(
        fake_module_tree,
        """
        >>> import sys, saferemock as sm
        >>> with sm.SafeMock() as safemock:
        ...     fakes = safemock.fake_module_tree(["grpc.aio"])
        ...     import grpc.aio
        ...     grpc.aio is fakes["grpc.aio"]
        True
        >>> "grpc" in sys.modules
        False
        """,
    )

    block_modules = _started(
        block_modules,
        """
        >>> import saferemock as sm
        >>> with sm.SafeMock() as safemock:
        ...     safemock.block_modules("json")
        ...     try:
        ...         import json
        ...     except ModuleNotFoundError:
        ...         print("blocked")
        blocked
        >>> import json
        """,
    )

    fresh_import = _started(
        fresh_import,
        """
        >>> import json, saferemock as sm
        >>> with sm.SafeMock() as safemock:
        ...     fresh = safemock.fresh_import("json")
        ...     fresh is json
        False
        >>> import json as again
        >>> again is json
        True
        """,
    )

    patch_builtin = _started(
        patch_builtin,
        """
        >>> import saferemock as sm
        >>> with sm.SafeMock() as safemock:
        ...     fake_input = safemock.patch_builtin("input", return_value="yes")
        ...     input("Continue? ")
        'yes'
        >>> fake_input.assert_called_once_with("Continue? ")
        """,
    )

    fake_open = _started(
        fake_open,
        """
        >>> import saferemock as sm
        >>> with sm.SafeMock() as safemock:
        ...     fake = safemock.fake_open({"config.yaml": "debug: true"})
        ...     with open("config.yaml") as f:
        ...         f.read()
        'debug: true'
        >>> fake.assert_called_once_with("config.yaml")
        """,
    )

    fresh_attr = _started(
        fresh_attr,
        """
        >>> import json, saferemock as sm
        >>> with sm.SafeMock() as safemock:
        ...     loads = safemock.fresh_attr("json.loads")
        ...     loads.return_value = {"a": 1}
        ...     json.loads("{}")
        {'a': 1}
        >>> json.loads("{}")
        {}
        """,
    )

    clear_caches = _started(
        clear_caches,
        """
        >>> import functools, saferemock as sm
        >>> @functools.cache
        ... def load() -> list[int]:
        ...     return []
        >>> load().append(1)
        >>> with sm.SafeMock() as safemock:
        ...     _ = safemock.clear_caches(load)
        ...     load()
        []
        """,
    )

    spy = _started(
        spy,
        """
        >>> import json, saferemock as sm
        >>> with sm.SafeMock() as safemock:
        ...     loads = safemock.spy(json, "loads")
        ...     json.loads("[1]")
        [1]
        >>> loads.assert_called_once_with("[1]")
        >>> loads.spy_return
        [1]
        """,
    )

    # -- factories of new mocks: nothing global changes, so nothing to undo ---------------

    create_autospec = _remembered(
        create_autospec,
        """
        >>> import json, saferemock as sm
        >>> safemock = sm.SafeMock()
        >>> dumps = safemock.create_autospec(json.dumps, return_value="{}")
        >>> dumps({"a": 1})
        '{}'
        >>> dumps(1, 2, 3)
        Traceback (most recent call last):
        ...
        TypeError: too many positional arguments
        >>> safemock.resetall()
        >>> dumps.call_count
        0
        """,
    )

    stub = _remembered(
        stub,
        """
        >>> import saferemock as sm
        >>> safemock = sm.SafeMock()
        >>> on_done = safemock.stub("on_done")
        >>> def finish(callback):
        ...     callback("ok", code=0)
        >>> finish(on_done)
        >>> on_done.assert_called_once_with("ok", code=0)
        >>> safemock.resetall()
        >>> on_done.called
        False
        """,
    )

    async_stub = _remembered(
        async_stub,
        """
        >>> import asyncio, saferemock as sm
        >>> safemock = sm.SafeMock()
        >>> on_message = safemock.async_stub("on_message")
        >>> async def consume(handler):
        ...     await handler({"id": 1})
        >>> asyncio.run(consume(on_message))
        >>> on_message.assert_awaited_once_with({"id": 1})
        """,
    )

    async_return = staticmethod(async_return)
    async_raise = staticmethod(async_raise)
    async_sequence = staticmethod(async_sequence)
    async_context_manager = staticmethod(async_context_manager)
    async_iterator = staticmethod(async_iterator)

    # -- unittest.mock's own names, so a test needs one import (``safemock.MagicMock``) ----

    Mock = mock.Mock
    MagicMock = mock.MagicMock
    NonCallableMock = mock.NonCallableMock
    NonCallableMagicMock = mock.NonCallableMagicMock
    AsyncMock = mock.AsyncMock
    PropertyMock = mock.PropertyMock
    call = mock.call
    ANY = mock.ANY
    DEFAULT = mock.DEFAULT
    sentinel = mock.sentinel
    mock_open = staticmethod(mock.mock_open)
    seal = staticmethod(mock.seal)


class SafeMockTestCase(unittest.TestCase):
    """A ``unittest.TestCase`` base whose ``self.safemock`` is undone through ``addCleanup``.

    ``self.safemock`` is a `SafeMock` created on first use in each test and closed
    by a cleanup, so it works in ``setUp``, in the test and in ``tearDown``, and even when
    a subclass overrides ``setUp`` without calling ``super()``.  Combine it with other
    bases (``class T(SafeMockTestCase, django.test.TestCase)``) as with any mixin.  For
    fakes shared by a whole class, create a ``SafeMock()`` in ``setUpClass`` and register
    its ``close`` with ``cls.addClassCleanup``.

    Examples:
        >>> import json, unittest, saferemock as sm
        >>> class Test(sm.SafeMockTestCase):
        ...     def setUp(self):
        ...         self.dumps = self.safemock.patch("json.dumps", return_value="{}")
        ...     def test_dumps(self):
        ...         self.assertEqual(json.dumps([1]), "{}")
        ...         self.dumps.assert_called_once_with([1])
        >>> result = unittest.TestResult()
        >>> _ = Test("test_dumps").run(result)
        >>> result.wasSuccessful(), json.dumps([1])
        (True, '[1]')
    """

    _saferemock_safemock: SafeMock | None = None

    @property
    def safemock(self) -> SafeMock:
        """This test's `SafeMock`, created on first access and closed by a cleanup.

        Examples:
            >>> import os, unittest, saferemock as sm
            >>> class Test(sm.SafeMockTestCase):
            ...     def test_it(self):
            ...         self.assertIs(self.safemock, self.safemock)
            ...         _ = self.safemock.patch.dict(os.environ, {"APP_MODE": "test"})
            ...         self.assertEqual(os.environ["APP_MODE"], "test")
            >>> result = unittest.TestResult()
            >>> _ = Test("test_it").run(result)
            >>> result.wasSuccessful(), "APP_MODE" in os.environ
            (True, False)
        """
        safemock = self._saferemock_safemock
        if safemock is None:
            safemock = SafeMock()
            self._saferemock_safemock = safemock
            self.addCleanup(self._saferemock_close)
        return safemock

    def _saferemock_close(self) -> None:
        __tracebackhide__ = True
        safemock, self._saferemock_safemock = self._saferemock_safemock, None
        if safemock is not None:
            safemock.close()
