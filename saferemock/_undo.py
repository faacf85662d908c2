"""The teardown engine: every global change saferemock makes goes through here.

A :class:`Journal` records changes (attribute set/delete, mapping item set/delete, or an
arbitrary undo callback) *after* they succeed, with the exact prior state of the slot,
and undoes them in reverse order.  Undo keeps going past a failing step and raises one
:class:`~saferemock.UndoError` naming every failure.

Changes that stack on the same slot know about each other through a per-slot stack, so
undo in any order ends with the original value: a lower change undone first hands its
prior state to the change above it.  A slot that something other than saferemock changed
since we wrote it is left alone, with a :class:`~saferemock.SaferemockWarning`.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable, Hashable, Iterator, MutableMapping
from typing import Any, Final
from unittest import mock

from saferemock._missing import MISSING
from saferemock._warn import warn
from saferemock.exceptions import SaferemockWarning, UndoError

__all__ = ["Change", "Journal", "describe_owner", "read_attr", "read_item"]


def _uses_instance_dict(owner: object, name: str) -> bool:
    """Tell whether ``owner.name`` lives in ``owner.__dict__``.

    Classes and modules always keep attributes in their ``__dict__``.  An instance keeps
    them there unless its class defines a data descriptor of that name (a ``property``
    or a ``__slots__`` member), which ``setattr`` would go through instead.
    """
    if isinstance(owner, (type, types.ModuleType)):
        return True
    try:
        vars(owner)
    except TypeError:
        return False
    for klass in type(owner).__mro__:
        if name in klass.__dict__:
            attr = klass.__dict__[name]
            return not (hasattr(attr, "__set__") or hasattr(attr, "__delete__"))
    return True


def _mock_tables(owner: object, name: str) -> tuple[dict[str, Any], ...] | None:
    """Return the dicts a mock keeps ``name`` in, or None for any other owner.

    A mock keeps a child in ``_mock_children`` (and a set value also in its ``__dict__``),
    and its ``__delattr__`` does not delete but marks the child deleted.  Restoring both
    tables item by item is the only undo that leaves the mock as it was, including a
    child that had never been created.
    """
    if not isinstance(owner, mock.NonCallableMock) or name[:2] == name[-2:] == "__":
        return None
    own: dict[str, Any] = owner.__dict__
    children: dict[str, Any] = owner._mock_children
    return (own, children)


@contextlib.contextmanager
def untouched(owner: object, name: str) -> Iterator[None]:
    """Let the block read ``owner.name`` without a mock owner keeping what the read built.

    Reading an attribute of a mock creates the child and files it in the mock's tables.
    Putting the tables back afterwards lets the journal record the true prior state, so
    undo returns the mock to "never touched" and it builds the same child on next access.
    """
    tables = _mock_tables(owner, name)
    if tables is None:
        yield
        return
    before = [table.get(name, MISSING) for table in tables]
    try:
        yield
    finally:
        for table, prior in zip(tables, before, strict=True):
            if prior is MISSING:
                table.pop(name, None)
            else:
                table[name] = prior


def read_attr(owner: object, name: str) -> object:
    """Return the value that undoing a change to ``owner.name`` must put back.

    Reads the owner's own ``__dict__`` so that an inherited attribute reads as
    :data:`MISSING` (undo deletes the shadow instead of copying the parent's value down)
    and a ``staticmethod``/``classmethod``/``property`` is kept as the descriptor itself.
    """
    if _uses_instance_dict(owner, name):
        return vars(owner).get(name, MISSING)
    return getattr(owner, name, MISSING)


def read_item(mapping: MutableMapping[Any, Any], key: Hashable) -> object:
    """Return ``mapping[key]``, or :data:`MISSING` when the key is absent."""
    try:
        return mapping[key]
    except KeyError:
        return MISSING


def describe_owner(owner: object) -> str:
    """Name an object the way Python's own ``AttributeError`` messages do."""
    if isinstance(owner, types.ModuleType):
        return f"module {owner.__name__!r}"
    if isinstance(owner, type):
        return f"class {owner.__qualname__!r}"
    return f"{type(owner).__name__!r} object"


def _same(current: object, expected: object) -> bool:
    # os.environ decodes a fresh str at every read, so strings compare by value.
    if current is expected:
        return True
    return (
        type(expected) in (str, bytes) and type(current) is type(expected) and current == expected
    )


class Change:
    """One recorded change to one slot, with the state to put back."""

    __slots__ = ("_done", "key", "kind", "new", "owner", "prior", "slot")

    def __init__(self, kind: str, owner: Any, key: Any, prior: object, new: object) -> None:
        self.kind = kind
        self.owner = owner
        self.key = key
        self.prior = prior
        self.new = new
        self._done = False
        self.slot = _slot(kind, owner, key)

    def describe(self) -> str:
        """Name the slot for messages: ``sys.modules['boto3']`` or ``module 'json' attribute 'dumps'``."""
        if self.kind == "attr":
            return f"{describe_owner(self.owner)} attribute {self.key!r}"
        return f"{_describe_mapping(self.owner)}[{self.key!r}]"

    def read(self) -> object:
        if self.kind == "attr":
            return read_attr(self.owner, self.key)
        return read_item(self.owner, self.key)

    def write(self, value: object) -> None:
        if self.kind == "attr":
            if value is MISSING:
                delattr(self.owner, self.key)
            else:
                setattr(self.owner, self.key, value)
        elif value is MISSING:
            del self.owner[self.key]
        else:
            self.owner[self.key] = value

    def _leave_stack(self) -> tuple[list[Change], int]:
        """Mark this change done and take it off its slot's stack; return where it stood."""
        self._done = True
        stack = _STACKS[self.slot]
        index = next(i for i, change in enumerate(stack) if change is self)
        del stack[index]
        if not stack:
            del _STACKS[self.slot]
        return stack, index

    def undo(self) -> None:
        """Put the prior state back, or hand it to the change stacked above this one."""
        if self._done:
            return
        stack, index = self._leave_stack()
        if index < len(stack):
            # A later saferemock change sits on this slot: it now owns our prior state,
            # so whichever of us is undone last writes the original back.
            stack[index].prior = self.prior
            return
        current = self.read()
        if not _same(current, self.new):
            warn(
                f"saferemock did not restore {self.describe()}: it was changed by other "
                f"code to {_short(current)} after saferemock set it, so the newer value was "
                "left in place; undo that change in the code that made it.",
                SaferemockWarning,
            )
            return
        if current is self.prior:
            # A hand-off can leave nothing to do (an absent slot handed "absent").
            return
        self.write(self.prior)


def _slot(kind: str, owner: Any, key: Any) -> tuple[int, Any]:
    """Identify the storage a change writes to.

    ``module.x`` and ``module.__dict__["x"]`` (``sm.patch`` and ``sm.patch.dict`` on a
    module's globals, or a builtin injected into a consumer module) are one slot, so
    their changes stack and hand off like any other.  A class's ``__dict__`` is a fresh
    read-only proxy at each access, so a class attribute is keyed by the class.
    """
    if kind == "attr" and not isinstance(owner, type) and _uses_instance_dict(owner, key):
        return (id(vars(owner)), key)
    return (id(owner), key)


def _short(value: object) -> str:
    if value is MISSING:
        return "nothing (deleted)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _describe_mapping(mapping: object) -> str:
    import os
    import sys

    if mapping is sys.modules:
        return "sys.modules"
    if mapping is os.environ:
        return "os.environ"
    return f"{type(mapping).__qualname__} at {id(mapping):#x}"


# Active changes per slot, oldest first.  Keyed by the id of the owner (or of its
# ``__dict__``): each Change holds a strong reference to its owner, which holds its
# ``__dict__``, so the id cannot be reused while the change is on a stack.
_STACKS: Final[dict[tuple[int, Any], list[Change]]] = {}


def is_owned(kind: str, owner: Any, key: Any) -> bool:
    """Tell whether an active saferemock change holds this slot (``"attr"`` or ``"item"``)."""
    return _slot(kind, owner, key) in _STACKS


class Journal:
    """An ordered record of changes, undone together in reverse order.

    Every primitive owns one journal per activation.  Methods make the change first and
    record it only once it succeeded, so a failing ``setattr`` leaves nothing to undo.
    """

    __slots__ = ("_steps",)

    def __init__(self) -> None:
        self._steps: list[Change | tuple[str, Callable[[], None]]] = []

    def __len__(self) -> int:
        return len(self._steps)

    def setattr(self, owner: object, name: str, value: object) -> object:
        """Set ``owner.name = value`` and record the prior state; return that prior state."""
        tables = _mock_tables(owner, name)
        if tables is not None:
            return self._through_tables(tables, name, lambda: setattr(owner, name, value))
        prior = read_attr(owner, name)
        setattr(owner, name, value)
        self._record("attr", owner, name, prior, read_attr(owner, name))
        return prior

    def delattr(self, owner: object, name: str) -> object:
        """Delete ``owner.name`` and record the prior state; return that prior state."""
        tables = _mock_tables(owner, name)
        if tables is not None:
            return self._through_tables(tables, name, lambda: delattr(owner, name))
        prior = read_attr(owner, name)
        delattr(owner, name)
        self._record("attr", owner, name, prior, MISSING)
        return prior

    def _through_tables(
        self, tables: tuple[dict[str, Any], ...], name: str, change: Callable[[], None]
    ) -> object:
        priors = [table.get(name, MISSING) for table in tables]
        change()
        for table, prior in zip(tables, priors, strict=True):
            new = table.get(name, MISSING)
            if new is not prior:
                self._record("item", table, name, prior, new)
        return next((prior for prior in priors if prior is not MISSING), MISSING)

    def setitem(self, mapping: MutableMapping[Any, Any], key: Hashable, value: object) -> object:
        """Set ``mapping[key] = value`` and record the prior state; return that prior state."""
        prior = read_item(mapping, key)
        mapping[key] = value
        self._record("item", mapping, key, prior, value)
        return prior

    def delitem(self, mapping: MutableMapping[Any, Any], key: Hashable) -> object:
        """Delete ``mapping[key]`` and record the prior state; return that prior state."""
        prior = read_item(mapping, key)
        del mapping[key]
        self._record("item", mapping, key, prior, MISSING)
        return prior

    def callback(self, description: str, undo: Callable[[], None]) -> None:
        """Record an undo step that is not a slot write (stopping a nested activation)."""
        self._steps.append((description, undo))

    def _record(self, kind: str, owner: object, key: object, prior: object, new: object) -> None:
        change = Change(kind, owner, key, prior, new)
        _STACKS.setdefault(change.slot, []).append(change)
        self._steps.append(change)

    def changes(self) -> list[Change]:
        """The slot changes recorded so far, oldest first (callbacks left out)."""
        return [step for step in self._steps if isinstance(step, Change)]

    def commit(self) -> None:
        """Make every recorded change final: nothing will undo it.

        The changes leave their slots' stacks, so a saferemock change below one of them
        no longer hands its prior state up to it; undoing that lower change later finds
        the committed value and leaves it, with a warning, as for any foreign change.
        """
        steps, self._steps = self._steps, []
        for step in steps:
            if isinstance(step, Change) and not step._done:
                step._leave_stack()

    def undo(self) -> None:
        """Undo every step in reverse order; raise :class:`UndoError` naming all failures.

        Undoing twice is a no-op: the steps are consumed by the first call.
        """
        steps, self._steps = self._steps, []
        errors: list[BaseException] = []
        names: list[str] = []
        for step in reversed(steps):
            try:
                if isinstance(step, Change):
                    step.undo()
                else:
                    step[1]()
            except Exception as exc:
                errors.append(exc)
                names.append(
                    f"restoring {step.describe()}" if isinstance(step, Change) else step[0]
                )
        if errors:
            if len(errors) == 1 and isinstance(errors[0], UndoError):
                raise errors[0]
            raise UndoError(errors, names)
