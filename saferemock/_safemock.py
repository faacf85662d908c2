"""``SafeMock``: every primitive as a method, each started at once and undone together.

This is the object behind the ``safemock`` fixtures and :class:`SafeMockTestCase`.  Each
method builds the primitive through the public factory of the same name, starts it at
once (as ``mocker.patch`` does) and records what it started; :meth:`SafeMock.close` stops
all of it, newest first, keeps going past failures and raises one
:class:`~saferemock.UndoError`.

The object records its runs itself instead of opening a ``saferemock.scope()`` when it is
created: a scope is the innermost one of the current context, so it would also swallow
activations the test started on its own (hiding a leak from the guard) or ones started
through another, longer-lived ``SafeMock`` (undoing a module fixture's patch at the end of
one test).  The guard learns which runs belong to a fixture through :func:`owner_of`.
"""

from __future__ import annotations

import types
import unittest
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from typing_extensions import Self, final

import saferemock
from saferemock._activation import Activation, Run, start_collecting
from saferemock._patch import DEFAULT
from saferemock._patch import patch as _patch
from saferemock.exceptions import SaferemockError, UndoError

if TYPE_CHECKING:
    from unittest import mock

    from saferemock._async import ExceptionLike
    from saferemock._caches import CachesCleared, Target
    from saferemock._fakeopen import Contents
    from saferemock._modules import Evict, FakeModuleTree, Tree

__all__ = ["SafeMock", "SafeMockTestCase", "owner_of"]

T = TypeVar("T")
M = TypeVar("M", bound=MutableMapping[Any, Any])

# Runs started through a SafeMock, by id, with a strong reference to the run so the id
# cannot be reused while the entry exists.  The guard asks owner_of(run) whether a run it
# sees still active belongs to a fixture (and whether that fixture is intentional).
_OWNERS: dict[int, tuple[Run[Any], SafeMock]] = {}


def owner_of(run: Run[Any]) -> SafeMock | None:
    """Return the :class:`SafeMock` that started ``run`` (or a run nested in it), if any.

    Example:
        >>> import saferemock as sm
        >>> from saferemock._activation import active_runs
        >>> with sm.SafeMock(intentional=True) as safemock:
        ...     _ = safemock.patch("json.dumps")
        ...     owner_of(active_runs()[-1]) is safemock
        True
    """
    entry = _OWNERS.get(id(run))
    if entry is None or entry[0] is not run:
        return None
    return entry[1]


@final
class _SafeMockPatch:
    """``safemock.patch``: :data:`saferemock.patch` started at once, with ``.object`` and ``.dict``."""

    __slots__ = ("_safemock",)

    def __init__(self, safemock: SafeMock) -> None:
        self._safemock = safemock

    def __repr__(self) -> str:
        return f"<patch of {self._safemock!r}>"

    @overload
    def __call__(
        self,
        target: str,
        new: T,
        spec: Any = None,
        create: bool = False,
        spec_set: Any = None,
        autospec: Any = None,
        new_callable: Any = None,
        *,
        require_use: bool | None = None,
        **kwargs: Any,
    ) -> T: ...

    @overload
    def __call__(
        self,
        target: str,
        *,
        spec: Any = None,
        create: bool = False,
        spec_set: Any = None,
        autospec: Any = None,
        new_callable: Any = None,
        require_use: bool | None = None,
        **kwargs: Any,
    ) -> Any: ...

    def __call__(
        self,
        target: str,
        new: Any = DEFAULT,
        spec: Any = None,
        create: bool = False,
        spec_set: Any = None,
        autospec: Any = None,
        new_callable: Any = None,
        *,
        require_use: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Start :func:`saferemock.patch` on ``target`` and return the replacement.

        Autospecced when no ``new`` is given; undone by :meth:`SafeMock.close`.

        Example:
            >>> import json, saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     dumps = safemock.patch("json.dumps", return_value="{}")
            ...     json.dumps([1])
            '{}'
            >>> dumps.assert_called_once_with([1])
            >>> json.dumps([1])
            '[1]'
        """
        __tracebackhide__ = True
        self._safemock._check_open("patch")
        return self._safemock._start(
            _patch(
                target,
                new,
                spec,
                create,
                spec_set,
                autospec,
                new_callable,
                require_use=require_use,
                **kwargs,
            )
        )

    def object(
        self,
        target: Any,
        attribute: str,
        new: Any = DEFAULT,
        spec: Any = None,
        create: bool = False,
        spec_set: Any = None,
        autospec: Any = None,
        new_callable: Any = None,
        *,
        require_use: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Start :meth:`saferemock.patch.object` and return the replacement.

        Example:
            >>> import json, saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     loads = safemock.patch.object(json, "loads", return_value={})
            ...     json.loads("[]")
            {}
            >>> json.loads("[]")
            []
        """
        __tracebackhide__ = True
        self._safemock._check_open("patch.object")
        return self._safemock._start(
            _patch.object(
                target,
                attribute,
                new,
                spec,
                create,
                spec_set,
                autospec,
                new_callable,
                require_use=require_use,
                **kwargs,
            )
        )

    @overload
    def dict(
        self,
        in_dict: M,
        values: Mapping[Any, Any] | Iterable[tuple[Any, Any]] = (),
        clear: bool = False,
        **kwargs: Any,
    ) -> M: ...

    @overload
    def dict(
        self,
        in_dict: str,
        values: Mapping[Any, Any] | Iterable[tuple[Any, Any]] = (),
        clear: bool = False,
        **kwargs: Any,
    ) -> Any: ...

    def dict(
        self,
        in_dict: MutableMapping[Any, Any] | str,
        values: Mapping[Any, Any] | Iterable[tuple[Any, Any]] = (),
        clear: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Start :meth:`saferemock.patch.dict` and return the patched mapping.

        Example:
            >>> import os, saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     env = safemock.patch.dict(os.environ, {"APP_MODE": "test"})
            ...     os.environ["APP_MODE"], env is os.environ
            ('test', True)
            >>> "APP_MODE" in os.environ
            False
        """
        __tracebackhide__ = True
        self._safemock._check_open("patch.dict")
        return self._safemock._start(_patch.dict(in_dict, values, clear, **kwargs))


@final
class SafeMock:
    """Every saferemock primitive as a method, started at once and undone by :meth:`close`.

    This is the class of the ``safemock`` fixture (and its ``class_``, ``module_``,
    ``package_`` and ``session_`` variants), exported for annotations::

        def test_upload(safemock: sm.SafeMock) -> None: ...

    Each method starts its primitive right away and returns what a ``with`` block would
    yield; :meth:`close` undoes everything newest first.  ``intentional=True`` marks
    session-wide fakes the pollution guard must never report.

    Example:
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

    __slots__ = ("_closed", "_runs", "intentional", "patch")

    intentional: bool
    """Whether the guard treats what this object changed as a deliberate, session-wide fake."""

    patch: _SafeMockPatch
    """:data:`saferemock.patch`, started at once, with ``.object`` and ``.dict``."""

    def __init__(self, *, intentional: bool = False) -> None:
        self.intentional = intentional
        self.patch = _SafeMockPatch(self)
        self._runs: list[Run[Any]] = []
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self.active_runs())} active"
        extra = ", intentional" if self.intentional else ""
        return f"<SafeMock {state}{extra}>"

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` ran; a closed object refuses to start anything.

        Example:
            >>> import saferemock as sm
            >>> safemock = sm.SafeMock()
            >>> safemock.close()
            >>> safemock.closed
            True
        """
        return self._closed

    def active_runs(self) -> list[Run[Any]]:
        """Return the runs this object started that are still active, oldest first.

        Runs that a primitive starts inside its own ``start()`` count too.

        Example:
            >>> import saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     _ = safemock.patch("json.dumps")
            ...     len(safemock.active_runs())
            1
        """
        return [run for run in self._runs if not run.stopped]

    def stopall(self) -> None:
        """Undo everything started so far, newest first; the object stays usable.

        Every step runs even when some fail; the failures are raised together as one
        :class:`~saferemock.UndoError`.

        Example:
            >>> import json, saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     _ = safemock.patch("json.dumps", return_value="x")
            ...     safemock.stopall()
            ...     json.dumps(1)
            '1'
        """
        __tracebackhide__ = True
        self._check_open("stopall")
        self._stop_runs(failed=False)

    def close(self, *, failed: bool = False) -> None:
        """Undo everything started, newest first, and refuse further use; closing twice is a no-op.

        ``failed=True`` says the test already failed, so post-undo checks such as
        ``require_use`` stay quiet instead of adding a second error.

        Example:
            >>> import json, saferemock as sm
            >>> safemock = sm.SafeMock()
            >>> _ = safemock.patch("json.dumps", return_value="x")
            >>> safemock.close()
            >>> safemock.close()
            >>> json.dumps(1)
            '1'
        """
        __tracebackhide__ = True
        if self._closed and not self._runs:
            return
        self._closed = True
        self._stop_runs(failed=failed)

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

    def _start(self, activation: Activation[T]) -> T:
        """Start ``activation`` and own every run it started, its own and nested ones."""
        __tracebackhide__ = True
        value, runs = start_collecting(activation)
        for run in runs:
            _OWNERS[id(run)] = (run, self)
        self._runs.extend(runs)
        return value

    def _stop_runs(self, *, failed: bool) -> None:
        __tracebackhide__ = True
        errors: list[BaseException] = []
        steps: list[str] = []
        # Popping one run at a time keeps the rest owned (and stoppable by a later
        # close()) if a KeyboardInterrupt cuts the loop short.
        while self._runs:
            run = self._runs.pop()
            _OWNERS.pop(id(run), None)
            if run.stopped:
                continue
            try:
                run.stop(failed=failed)
            except UndoError as exc:
                errors.extend(exc.errors)
                steps.extend(exc.steps)
            except Exception as exc:
                errors.append(exc)
                steps.append(f"stopping {run.activation._describe()}")
        if len(errors) == 1 and isinstance(errors[0], SaferemockError):
            # A lone check that failed (an unused require_use patch) reads best as itself;
            # a failed restore keeps the UndoError that names the slot.
            raise errors[0]
        if errors:
            raise UndoError(errors, steps)

    # -- mocks ---------------------------------------------------------------------------

    def create_autospec(
        self,
        spec: Any,
        spec_set: bool = False,
        instance: bool = False,
        _parent: Any = None,
        _name: Any = None,
        *,
        unsafe: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Return :func:`saferemock.create_autospec` of ``spec`` (a new mock; nothing to undo).

        Example:
            >>> import json, saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     dumps = safemock.create_autospec(json.dumps, return_value="{}")
            ...     dumps({})
            '{}'
            >>> dumps(1, 2)
            Traceback (most recent call last):
            ...
            TypeError: too many positional arguments
        """
        __tracebackhide__ = True
        self._check_open("create_autospec")
        return saferemock.create_autospec(
            spec, spec_set, instance, _parent, _name, unsafe=unsafe, **kwargs
        )

    # -- modules (issue 3) ---------------------------------------------------------------

    def fake_module_tree(
        self,
        tree: Tree,
        *,
        strict: bool = False,
        keep_real: bool = False,
        evict: Evict = "dependents",
    ) -> Mapping[str, types.ModuleType]:
        """Start :func:`saferemock.fake_module_tree` and return the fakes by dotted name.

        Example:
            >>> import sys, saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     fakes = safemock.fake_module_tree(["grpc.aio"])
            ...     import grpc.aio
            ...     grpc.aio is fakes["grpc.aio"]
            True
            >>> "grpc" in sys.modules
            False
        """
        __tracebackhide__ = True
        self._check_open("fake_module_tree")
        return self._start(
            saferemock.fake_module_tree(tree, strict=strict, keep_real=keep_real, evict=evict)
        )

    def block_modules(self, *names: str) -> None:
        """Start :func:`saferemock.block_modules`: importing ``names`` raises ``ModuleNotFoundError``.

        Example:
            >>> import saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     _ = safemock.block_modules("json")
            ...     try:
            ...         import json
            ...     except ModuleNotFoundError:
            ...         print("blocked")
            blocked
            >>> import json
        """
        __tracebackhide__ = True
        self._check_open("block_modules")
        self._start(saferemock.block_modules(*names))

    def fresh_import(
        self,
        name: str,
        *,
        fakes: Tree | FakeModuleTree = (),
        blocked: Iterable[str] = (),
        env: Mapping[str, str | None] | None = None,
        patches: Iterable[str | Activation[Any]] = (),
    ) -> types.ModuleType:
        """Start :func:`saferemock.fresh_import` and return the freshly imported module.

        Example:
            >>> import json, saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     fresh = safemock.fresh_import("json")
            ...     fresh is json
            False
            >>> import json as again
            >>> again is json
            True
        """
        __tracebackhide__ = True
        self._check_open("fresh_import")
        return self._start(
            saferemock.fresh_import(name, fakes=fakes, blocked=blocked, env=env, patches=patches)
        )

    # -- builtins, attributes, caches (issue 4) ------------------------------------------

    def patch_builtin(
        self,
        name: str,
        new: Any = DEFAULT,
        *,
        module: types.ModuleType | str | None = None,
        autospec: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Start :func:`saferemock.patch_builtin` and return the replacement.

        Example:
            >>> import saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     fake_input = safemock.patch_builtin("input", return_value="yes")
            ...     input("Continue? ")
            'yes'
            >>> fake_input.assert_called_once_with("Continue? ")
            >>> import json
            >>> with sm.SafeMock() as safemock:
            ...     fake_open = safemock.patch_builtin("open", module="json")
            ...     vars(json)["open"] is fake_open
            True
            >>> "open" in vars(json)
            False
        """
        __tracebackhide__ = True
        self._check_open("patch_builtin")
        return self._start(
            saferemock.patch_builtin(name, new, module=module, autospec=autospec, **kwargs)
        )

    def fake_open(
        self,
        files: Mapping[Any, Contents] | None = None,
        *,
        module: Any = None,
        strict: bool = True,
    ) -> Any:
        """Start :func:`saferemock.fake_open` and return the fake (an in-memory file map).

        Example:
            >>> import saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     fake = safemock.fake_open({"config.yaml": "debug: true"})
            ...     with open("config.yaml") as f:
            ...         f.read()
            'debug: true'
            >>> fake.assert_called_once_with("config.yaml")
        """
        __tracebackhide__ = True
        self._check_open("fake_open")
        return self._start(saferemock.fake_open(files, module=module, strict=strict))

    def fresh_attr(
        self,
        target: object,
        attribute: str | None = None,
        *,
        autospec: bool = True,
        new: object = None,
    ) -> Any:
        """Start :func:`saferemock.fresh_attr` and return the brand-new mock.

        Example:
            >>> import json, saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     loads = safemock.fresh_attr("json.loads")
            ...     loads.return_value = {"a": 1}
            ...     json.loads("{}")
            {'a': 1}
            >>> json.loads("{}")
            {}
        """
        __tracebackhide__ = True
        self._check_open("fresh_attr")
        return self._start(saferemock.fresh_attr(target, attribute, autospec=autospec, new=new))

    def clear_caches(self, *targets: Target, missing_ok: bool = False) -> CachesCleared:
        """Start :func:`saferemock.clear_caches` (cleared now and again at close); return the report.

        Example:
            >>> import functools, saferemock as sm
            >>> @functools.cache
            ... def load() -> list[int]:
            ...     return []
            >>> load().append(1)
            >>> with sm.SafeMock() as safemock:
            ...     _ = safemock.clear_caches(load)
            ...     load()
            []
        """
        __tracebackhide__ = True
        self._check_open("clear_caches")
        return self._start(saferemock.clear_caches(*targets, missing_ok=missing_ok))

    # -- async factories (issue 5): new mocks, nothing to undo ------------------------------

    def async_return(
        self, value: Any = None, *, spec: Callable[..., Any] | None = None
    ) -> mock.AsyncMock:
        """Return :func:`saferemock.async_return`: awaiting the mock returns ``value``.

        Example:
            >>> import asyncio, saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     fetch = safemock.async_return({"id": 1})
            ...     asyncio.run(fetch("/users/1"))
            {'id': 1}
        """
        __tracebackhide__ = True
        self._check_open("async_return")
        return saferemock.async_return(value, spec=spec)

    def async_raise(
        self, exc: ExceptionLike, *, spec: Callable[..., Any] | None = None
    ) -> mock.AsyncMock:
        """Return :func:`saferemock.async_raise`: awaiting the mock raises ``exc``.

        Example:
            >>> import asyncio, saferemock as sm
            >>> with sm.SafeMock() as safemock:
            ...     fetch = safemock.async_raise(TimeoutError("slow"))
            ...     asyncio.run(fetch())
            Traceback (most recent call last):
            ...
            TimeoutError: slow
        """
        __tracebackhide__ = True
        self._check_open("async_raise")
        return saferemock.async_raise(exc, spec=spec)

    def async_sequence(self, *items: Any, spec: Callable[..., Any] | None = None) -> mock.AsyncMock:
        """Return :func:`saferemock.async_sequence`: each await returns (or raises) the next item.

        Example:
            >>> import asyncio, saferemock as sm
            >>> async def twice(fetch):
            ...     try:
            ...         await fetch()
            ...     except TimeoutError:
            ...         return await fetch()
            >>> with sm.SafeMock() as safemock:
            ...     asyncio.run(twice(safemock.async_sequence(TimeoutError, "ok")))
            'ok'
        """
        __tracebackhide__ = True
        self._check_open("async_sequence")
        return saferemock.async_sequence(*items, spec=spec)

    def async_context_manager(
        self, enter: Any = None, *, raises: ExceptionLike | None = None, suppress: bool = False
    ) -> mock.Mock:
        """Return :func:`saferemock.async_context_manager`: ``async with`` yields ``enter``.

        Example:
            >>> import asyncio, saferemock as sm
            >>> async def use(client_factory):
            ...     async with client_factory() as client:
            ...         return client
            >>> with sm.SafeMock() as safemock:
            ...     asyncio.run(use(safemock.async_context_manager(enter="client")))
            'client'
        """
        __tracebackhide__ = True
        self._check_open("async_context_manager")
        return saferemock.async_context_manager(enter, raises=raises, suppress=suppress)

    def async_iterator(
        self, items: Iterable[Any], *, spec: Callable[..., Any] | None = None
    ) -> mock.Mock:
        """Return :func:`saferemock.async_iterator`: ``async for`` yields ``items`` in order.

        Example:
            >>> import asyncio, saferemock as sm
            >>> async def collect(pages):
            ...     return [page async for page in pages]
            >>> with sm.SafeMock() as safemock:
            ...     asyncio.run(collect(safemock.async_iterator([1, 2])))
            [1, 2]
        """
        __tracebackhide__ = True
        self._check_open("async_iterator")
        return saferemock.async_iterator(items, spec=spec)


class SafeMockTestCase(unittest.TestCase):
    """A ``unittest.TestCase`` base whose ``self.safemock`` is undone through ``addCleanup``.

    ``self.safemock`` is a :class:`SafeMock` created on first use in each test and closed
    by a cleanup, so it works in ``setUp``, in the test and in ``tearDown``, and even when
    a subclass overrides ``setUp`` without calling ``super()``.  Combine it with other
    bases (``class T(SafeMockTestCase, django.test.TestCase)``) as with any mixin.  For
    fakes shared by a whole class, create a ``SafeMock()`` in ``setUpClass`` and register
    its ``close`` with ``cls.addClassCleanup``.

    Example:
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
        """This test's :class:`SafeMock`, created on first access and closed by a cleanup.

        Example:
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
