"""``sm.patch`` with ``.object``, ``.dict`` and ``.multiple``: ``unittest.mock.patch`` with a safe default.

Differences from the stdlib, all on purpose:

* with no ``new``, the replacement is autospecced (lazily, so it is cheap);
* the change goes through the teardown engine, so stacked patches of one slot (saferemock's
  or a foreign patcher's) unwind to the original in any order;
* ``require_use=True`` catches the patch that the code under test never touched.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any, TypeVar, final, overload
from unittest import mock

from saferemock._activation import Activation, stopall
from saferemock._autospec import create_autospec, is_mock, is_mock_like
from saferemock._missing import MISSING
from saferemock._targets import import_owner, missing_attribute, resolve, split_target, suggest
from saferemock._undo import Journal, describe_owner, read_attr, untouched
from saferemock.exceptions import (
    InvalidTargetError,
    SaferemockError,
    TargetAttributeError,
    UnusedPatchError,
)

__all__ = ["DEFAULT", "Patch", "PatchDict", "PatchMultiple", "patch", "settings"]

T = TypeVar("T")
DEFAULT: Any = mock.DEFAULT


class _Settings:
    """Process-wide defaults; the pytest plugin sets them from ini options."""

    __slots__ = ("require_use",)

    def __init__(self) -> None:
        self.require_use = False


settings = _Settings()


def _used(replacement: object) -> bool:
    """Tell whether code called the mock or read one of its attributes."""
    if not is_mock_like(replacement):
        return True
    target: Any = replacement if is_mock(replacement) else vars(replacement)["mock"]
    if target.mock_calls:
        return True
    children = target._mock_children
    return any(isinstance(child, mock.NonCallableMock) for child in children.values())


@final
class Patch(Activation[Any]):
    """One ``sm.patch(...)`` or ``sm.patch.object(...)``: a context manager, decorator and start/stop.

    Made by `patch` and ``patch.object``; nothing changes until it is activated.

    Examples:
        >>> import json, saferemock as sm
        >>> patcher = sm.patch("json.dumps", return_value="[]")
        >>> patcher.target, patcher.active
        ('json.dumps', False)
        >>> mocked = patcher.start()
        >>> json.dumps([]), patcher.active
        ('[]', True)
        >>> patcher.stop()
    """

    def __init__(
        self,
        getter: Callable[[], tuple[Any, str]],
        description: str,
        new: Any,
        spec: Any,
        create: bool,
        spec_set: Any,
        autospec: Any,
        new_callable: Any,
        require_use: bool | None,
        kwargs: dict[str, Any],
    ) -> None:
        __tracebackhide__ = True
        super().__init__()
        if new_callable is not None:
            if new is not DEFAULT:
                raise ValueError("Cannot use 'new' and 'new_callable' together.")
            if autospec not in (None, False):
                raise ValueError("Cannot use 'autospec' and 'new_callable' together.")
        if new is not DEFAULT:
            if autospec not in (None, False):
                raise TypeError(
                    "autospec creates the mock for you; pass either new= or autospec=, not both."
                )
            if kwargs:
                raise TypeError(
                    f"Cannot configure the mock with {sorted(kwargs)} when new= is given; "
                    "configure the object you pass as new instead."
                )
        # Autospec is the default only when nothing else says what the mock should be.
        self._implicit_autospec = autospec is None
        if autospec is None:
            autospec = new is DEFAULT and new_callable is None and spec is None and spec_set is None
        self._getter = getter
        self._description = description
        self._new = new
        self._spec = spec
        self._create = create
        self._spec_set = spec_set
        self._autospec = autospec
        self._new_callable = new_callable
        self._require_use = require_use
        self._kwargs = kwargs
        self._passes_value = new is DEFAULT

    @property
    def target(self) -> str:
        """The dotted target this patch replaces, as given."""
        return self._description

    def describe(self) -> str:
        return f"the patch of {self._description!r}"

    def apply(self, journal: Journal) -> Any:
        __tracebackhide__ = True
        owner, name = self._getter()
        raw = read_attr(owner, name)
        with untouched(owner, name):
            exists = raw is not MISSING or hasattr(owner, name)
            if not exists and not self._create:
                raise missing_attribute(owner, name)
            new, stored = self._replacement(owner, name, raw, exists)
        journal.setattr(owner, name, stored)
        require = settings.require_use if self._require_use is None else self._require_use
        if require and self._new is DEFAULT:
            journal.after_close(functools.partial(self._check_used, new))
        return new

    def _replacement(self, owner: Any, name: str, raw: Any, exists: bool) -> tuple[Any, Any]:
        """Return (what the caller gets, what goes into the slot)."""
        if self._new is not DEFAULT:
            return self._new, self._new
        if (
            self._autospec is False
            or (self._autospec is True and not exists)
            or (self._implicit_autospec and is_mock_like(getattr(owner, name)))
        ):
            # An attribute that is already a mock (a fake module's member, an outer patch)
            # has no real signature to copy: the default falls back to a plain mock, while
            # an explicit autospec=True still raises as unittest.mock does.
            replacement = self._plain_mock(owner, name, exists)
            return replacement, replacement
        if self._autospec is not True:
            replacement = create_autospec(
                self._autospec, bool(self._spec_set), _name=name, **self._kwargs
            )
            return replacement, replacement
        static = inspect.getattr_static(owner, name) if isinstance(owner, type) else raw
        if isinstance(static, (staticmethod, classmethod)):
            # Spec from what attribute access returns (the plain function, or the method
            # bound to the class, whose signature has no cls), and keep the slot a
            # staticmethod so neither class nor instance access binds an extra argument.
            replacement = create_autospec(
                getattr(owner, name), bool(self._spec_set), _name=name, **self._kwargs
            )
            return replacement, staticmethod(replacement)
        original = raw if raw is not MISSING else getattr(owner, name)
        replacement = create_autospec(original, bool(self._spec_set), _name=name, **self._kwargs)
        return replacement, replacement

    def _plain_mock(self, owner: Any, name: str, exists: bool) -> Any:
        spec, spec_set = self._spec, self._spec_set
        if spec is True or spec_set is True:
            if not exists:
                raise SaferemockError(
                    f"Cannot use spec=True for {self._description!r}: the attribute does not "
                    "exist to take a spec from; pass a spec object instead."
                )
            original = getattr(owner, name)
            spec = original if spec is True else spec
            spec_set = original if spec_set is True else spec_set
        factory = self._new_callable
        kwargs = dict(self._kwargs)
        if spec is not None:
            kwargs["spec"] = spec
        if spec_set is not None:
            kwargs["spec_set"] = spec_set
        if factory is None:
            original = getattr(owner, name, None) if exists else None
            is_async = spec is None and spec_set is None and inspect.iscoroutinefunction(original)
            factory = mock.AsyncMock if is_async else mock.MagicMock
        return factory(**kwargs)

    def _check_used(self, replacement: object) -> None:
        __tracebackhide__ = True
        if not _used(replacement):
            raise UnusedPatchError(
                f"The patch of {self._description!r} was never used: nothing called it or "
                "read an attribute of it, which usually means the code under test imports "
                "the name from somewhere else; patch it where it is looked up."
            )


@final
class PatchMultiple(Activation[dict[str, Any]]):
    """One ``sm.patch.multiple(...)``: several attributes of one object, patched and undone together.

    Each attribute is one `Patch` applied into the same journal, so they start
    together (if one fails, those before it are undone) and stop together.  The
    ``with`` block yields, and the decorator passes as keyword arguments, the mocks made
    for the attributes given `DEFAULT`; those are autospecced.

    Examples:
        >>> import json, saferemock as sm
        >>> patcher = sm.patch.multiple(json, dumps=sm.DEFAULT, loads=lambda text: {})
        >>> with patcher as mocks:
        ...     sorted(mocks), json.loads("[1]")
        (['dumps'], {})
        >>> @patcher
        ... def render(dumps):
        ...     dumps.return_value = "{}"
        ...     return json.dumps([1])
        >>> render(), json.dumps([1])
        ('{}', '[1]')
    """

    _passes_keywords = True

    def __init__(
        self,
        target: Any,
        spec: Any,
        create: bool,
        spec_set: Any,
        autospec: Any,
        new_callable: Any,
        require_use: bool | None,
        values: dict[str, Any],
    ) -> None:
        __tracebackhide__ = True
        super().__init__()
        if isinstance(target, str):
            if not all(part.isidentifier() for part in target.split(".")):
                raise InvalidTargetError(
                    f"Cannot patch.multiple({target!r}): the target must be a dotted name "
                    "such as 'os.path' or 'myapp.models.User', or the object itself."
                )
            self._description = target
        elif target is None:
            raise InvalidTargetError(
                "patch.multiple() takes the object to patch, not None: pass the module, "
                "class or instance whose attributes to replace, or its dotted name."
            )
        else:
            self._description = _qualname(target)
        if not values:
            raise TypeError(
                f"patch.multiple({self._description!r}) needs the attributes to patch as "
                "keyword arguments, such as dumps=sm.DEFAULT for an autospecced mock."
            )
        self._target = target
        self._values = values
        # How to make a mock applies to the mocks made for DEFAULT; a value given is used
        # as it is, so it takes none of them (unittest.mock raises for autospec there).
        self._parts = {
            name: Patch(
                functools.partial(self._locate, name),
                f"{self._description}.{name}",
                new,
                spec if new is DEFAULT else None,
                create,
                spec_set if new is DEFAULT else None,
                autospec if new is DEFAULT else None,
                new_callable if new is DEFAULT else None,
                require_use,
                {},
            )
            for name, new in values.items()
        }

    @property
    def target(self) -> str:
        """The object whose attributes this patch replaces, as given or by name."""
        return self._description

    def describe(self) -> str:
        return f"the patch.multiple of {self._description!r}"

    def _locate(self, name: str) -> tuple[Any, str]:
        __tracebackhide__ = True
        target = self._target
        if isinstance(target, str):
            target = import_owner(target, target)
        return target, name

    def apply(self, journal: Journal) -> dict[str, Any]:
        __tracebackhide__ = True
        made: dict[str, Any] = {}
        for name, part in self._parts.items():
            value = part.apply(journal)
            if self._values[name] is DEFAULT:
                made[name] = value
        return made

    def mocks(self, value: dict[str, Any]) -> list[Any]:
        given = [new for new in self._values.values() if new is not DEFAULT]
        return [made for made in (*value.values(), *given) if is_mock_like(made)]


def _is_mapping(value: object) -> bool:
    """Tell whether ``value`` can be patched item by item and listed by key."""
    if isinstance(value, MutableMapping):
        return True
    return all(
        callable(getattr(value, method, None))
        for method in ("__getitem__", "__setitem__", "__delitem__", "__iter__", "keys")
    )


@final
class PatchDict(Activation[Any]):
    """One ``sm.patch.dict(...)``: a context manager, decorator and start/stop.

    Examples:
        >>> import saferemock as sm
        >>> settings = {"debug": False}
        >>> patcher = sm.patch.dict(settings, debug=True)
        >>> with patcher as same:
        ...     same is settings, settings["debug"]
        (True, True)
        >>> settings
        {'debug': False}
    """

    def __init__(
        self,
        in_dict: MutableMapping[Any, Any] | str,
        values: Mapping[Any, Any] | Iterable[tuple[Any, Any]],
        clear: bool,
        kwargs: dict[str, Any],
    ) -> None:
        __tracebackhide__ = True
        super().__init__()
        if isinstance(in_dict, str):
            split_target(in_dict)
        elif not _is_mapping(in_dict):
            raise TypeError(
                f"patch.dict() takes a mapping such as os.environ, or its dotted name such "
                f"as 'os.environ', not {in_dict!r}."
            )
        try:
            self._values = dict(values)
        except (TypeError, ValueError):
            raise TypeError(
                f"patch.dict() takes values as a mapping or as (key, value) pairs, not {values!r}."
            ) from None
        self._values.update(kwargs)
        if in_dict is os.environ or isinstance(in_dict, os._Environ):
            _check_environ(self._values)
        self._in_dict = in_dict
        self._clear = clear

    def describe(self) -> str:
        if isinstance(self._in_dict, str):
            return f"the patch of dict {self._in_dict!r}"
        if self._in_dict is os.environ:
            return "the patch of dict os.environ"
        if self._in_dict is sys.modules:
            return "the patch of dict sys.modules"
        return "the patch of a dict"

    def _resolve(self) -> MutableMapping[Any, Any]:
        __tracebackhide__ = True
        in_dict = self._in_dict
        if not isinstance(in_dict, str):
            return in_dict
        owner, name = resolve(in_dict)
        found = getattr(owner, name, MISSING)
        if found is MISSING:
            hint = suggest(name, dir(owner))
            raise TargetAttributeError(
                f"Cannot patch.dict({in_dict!r}): {describe_owner(owner)} has no attribute "
                f"{name!r}{hint or '; name a mapping that exists, such as os.environ.'}"
            )
        if not _is_mapping(found):
            raise InvalidTargetError(
                f"Cannot patch.dict({in_dict!r}): it is a {type(found).__name__!r} object, not a "
                "mapping; use sm.patch() to replace it, or name a dict such as 'os.environ'."
            )
        if isinstance(found, os._Environ):
            _check_environ(self._values)
        return found  # type: ignore[no-any-return]

    def apply(self, journal: Journal) -> Any:
        __tracebackhide__ = True
        in_dict = self._resolve()
        # The whole mapping comes back at the end, as unittest.mock.patch.dict does: keys
        # added inside are removed and changed ones restored.  The items set here are
        # also layers of their own, so other patches of the same keys unwind right.
        snapshot = journal.snapshot(in_dict)
        if self._clear:
            for key in list(in_dict):
                journal.delitem(in_dict, key, snapshot)
        for key, value in self._values.items():
            journal.setitem(in_dict, key, value, snapshot)
        return in_dict


def _check_environ(values: Mapping[Any, Any]) -> None:
    __tracebackhide__ = True
    for key, value in values.items():
        if not isinstance(key, str):
            raise TypeError(
                f"os.environ takes names as strings: patch.dict() got the name {key!r}; "
                f"write {str(key)!r}."
            )
        if not isinstance(value, str):
            raise TypeError(
                f"os.environ takes values as strings: patch.dict() got {key!r}: {value!r}; "
                f"write {key!r}: {str(value)!r}."
            )


@final
class _PatchNamespace:
    """Replace an attribute for a block: ``sm.patch``, with ``.object`` and ``.dict`` beside it.

    Examples:
        >>> import json, saferemock as sm
        >>> with sm.patch("json.dumps", return_value="{}") as dumps:
        ...     json.dumps({"a": 1})
        '{}'
        >>> dumps.assert_called_once_with({"a": 1})
    """

    TEST_PREFIX = "test"

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
    ) -> Patch: ...

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
    ) -> Patch: ...

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
    ) -> Patch:
        """Replace ``target`` (``"package.module.attribute"``) for the duration of a block.

        Mirrors `unittest.mock.patch`, with three differences: with no ``new`` the
        replacement is autospecced from the original (``autospec=False`` opts out), a
        missing attribute raises unless ``create=True``, and ``require_use=True`` raises at
        exit if nothing used the mock.  The module part is imported at start, not here.

        Examples:
            >>> import json, saferemock as sm
            >>> with sm.patch("json.dumps", return_value="{}") as dumps:
            ...     json.dumps({"a": 1})
            '{}'
            >>> dumps.assert_called_once_with({"a": 1})
            >>> with sm.patch("json.dumps"):
            ...     json.dumps(1, 2, 3)
            Traceback (most recent call last):
            ...
            TypeError: too many positional arguments
        """
        __tracebackhide__ = True
        split_target(target)
        return Patch(
            functools.partial(resolve, target),
            target,
            new,
            spec,
            create,
            spec_set,
            autospec,
            new_callable,
            require_use,
            kwargs,
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
    ) -> Patch:
        """Replace ``attribute`` of the object ``target``, as `unittest.mock.patch.object`.

        Examples:
            >>> import json, saferemock as sm
            >>> with sm.patch.object(json, "loads", return_value={}) as loads:
            ...     json.loads("[]")
            {}
            >>> loads.call_count
            1
        """
        __tracebackhide__ = True
        if not isinstance(attribute, str):
            raise TypeError(
                f"patch.object() takes the attribute name as a string, not {attribute!r}."
            )
        if isinstance(target, str):
            raise InvalidTargetError(
                f"patch.object() takes the object to patch, not the string {target!r}: pass "
                f"the object itself, or use sm.patch({target + '.' + attribute!r})."
            )
        if target is None:
            raise InvalidTargetError(
                f"patch.object() takes the object to patch, not None: pass the module, class "
                f"or instance whose {attribute!r} to replace."
            )
        return Patch(
            lambda: (target, attribute),
            f"{_qualname(target)}.{attribute}",
            new,
            spec,
            create,
            spec_set,
            autospec,
            new_callable,
            require_use,
            kwargs,
        )

    def dict(
        self,
        in_dict: MutableMapping[Any, Any] | str,
        values: Mapping[Any, Any] | Iterable[tuple[Any, Any]] = (),
        clear: bool = False,
        **kwargs: Any,
    ) -> PatchDict:
        """Set items of a mapping (or of the mapping at a dotted path) for a block.

        Exactly `unittest.mock.patch.dict`: when the block ends, the whole mapping
        is put back as it was when it started, so keys the code under test added are
        removed and changed ones restored (for ``sys.modules``: modules imported inside
        are forgotten, and their package attributes too).  ``clear=True`` empties the
        mapping first; ``values`` is a mapping or ``(key, value)`` pairs.  Other saferemock
        patches of the same keys that are still active keep their values.  As a
        decorator it passes no extra argument.

        Examples:
            >>> import os, saferemock as sm
            >>> with sm.patch.dict(os.environ, {"APP_MODE": "test"}):
            ...     os.environ["APP_MODE"]
            ...     os.environ["ADDED_INSIDE"] = "1"
            'test'
            >>> "APP_MODE" in os.environ, "ADDED_INSIDE" in os.environ
            (False, False)
        """
        __tracebackhide__ = True
        return PatchDict(in_dict, values, clear, kwargs)

    def multiple(
        self,
        target: Any,
        spec: Any = None,
        create: bool = False,
        spec_set: Any = None,
        autospec: Any = None,
        new_callable: Any = None,
        *,
        require_use: bool | None = None,
        **kwargs: Any,
    ) -> PatchMultiple:
        """Replace several attributes of ``target`` at once, as `unittest.mock.patch.multiple`.

        ``target`` is the object or its dotted name (``"myapp.settings"``, imported at
        start); each keyword names an attribute and its replacement.  An attribute given
        `DEFAULT` gets a mock, autospecced from the original unless
        ``autospec=False``, ``spec``, ``spec_set`` or ``new_callable`` say otherwise (these
        apply only to those mocks).  The ``with`` block yields a dict of those mocks by
        name; as a decorator they are passed as keyword arguments, as ``unittest.mock``
        does.  ``create`` and ``require_use`` apply to every attribute.

        Examples:
            >>> import os.path, saferemock as sm
            >>> with sm.patch.multiple("os.path", exists=sm.DEFAULT, sep="|") as mocks:
            ...     mocks["exists"].return_value = True
            ...     os.path.exists("/nowhere"), os.path.sep
            (True, '|')
            >>> mocks["exists"].assert_called_once_with("/nowhere")
            >>> os.path.exists("/nowhere"), os.path.sep
            (False, '/')
            >>> with sm.patch.multiple("os.path", exists=sm.DEFAULT):
            ...     os.path.exists()
            Traceback (most recent call last):
            ...
            TypeError: missing a required argument: 'path'
        """
        __tracebackhide__ = True
        return PatchMultiple(
            target, spec, create, spec_set, autospec, new_callable, require_use, kwargs
        )

    @staticmethod
    def stopall() -> None:
        """Stop what ``start()`` began and nothing else owns (same as `saferemock.stopall`).

        Examples:
            >>> import json, saferemock as sm
            >>> _ = sm.patch("json.dumps").start()
            >>> sm.patch.stopall()
            >>> json.dumps.__module__
            'json'
        """
        stopall()


def _qualname(obj: object) -> str:
    for attr in ("__qualname__", "__name__"):
        value = getattr(
            type(obj) if not isinstance(obj, type) and not inspect.ismodule(obj) else obj,
            attr,
            None,
        )
        if isinstance(value, str):
            return value
    return type(obj).__qualname__  # pragma: no cover


patch = _PatchNamespace()
"""Replace an attribute for the duration of a block; see `_PatchNamespace.__call__`."""
