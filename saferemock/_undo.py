"""The teardown engine: every change saferemock makes, who owns it, and how it is undone.

**Changes.**  A `Journal` makes a change (attribute set or delete, mapping item set
or delete) and records it only once it succeeded, with the exact prior state of the slot
("absent" is `saferemock._missing.MISSING`).  ``patch.dict`` also records a
`Snapshot` of a whole mapping, which puts back every key it does not otherwise
hold.

**Layers.**  Every active change to a slot is a layer, ordered by when it was made.  When
a change ends it hands its prior state to the next active layer above it on that slot, if
any, and otherwise writes its prior state back.  So changes to one slot unwind to the
original in any order, and what the code under test wrote into a patched slot is
discarded, as ``unittest.mock`` discards it.  The one exception is a foreign patcher that
started later and is still active (see `saferemock._foreign`): its value stays, and
the engine remembers that saferemock's own value is now dead.  If the slot shows that
dead value again later (the foreign patcher put it back when it stopped),
`repair` writes the original over it and reports it.

**Ownership.**  Journals form a tree.  Each ``with`` block, decorated call, ``start()``,
``scope()`` and ``SafeMock`` opens a child journal of the current scope (a context
variable, so each thread and asyncio task has its own), or of `ROOT`.  A journal
knows its owner (``kind``, the activation, a ``holder`` such as a fixture) and closing it
undoes its steps newest first: its changes and its child journals.  The pollution guard
and `saferemock.stopall` read ownership from the tree; nothing else keeps a
registry.

**Failures.**  Undo keeps going past every failure, ``BaseException`` included, and
raises once at the end from one place (`raise_collected`).

Every structure here is changed under one re-entrant lock, so threads that patch the same
slot at once neither corrupt the bookkeeping nor leave a thread's value behind.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import sys
import threading
import types
from collections.abc import Callable, Hashable, Iterable, Iterator, MutableMapping, Sequence
from typing import Any, Final

from saferemock import _foreign
from saferemock._missing import MISSING
from saferemock._mocklib import mock_class
from saferemock.exceptions import SaferemockError, UndoError

__all__ = [
    "ROOT",
    "Change",
    "Journal",
    "Repair",
    "Snapshot",
    "active_changes",
    "close_all",
    "current_scope",
    "describe_owner",
    "drain_repairs",
    "is_owned",
    "leave_scope",
    "raise_collected",
    "read_attr",
    "read_item",
    "repair",
    "set_scope",
    "untouched",
]

_LOCK: Final = threading.RLock()
_ORDER: Final = itertools.count()

# Values that say nothing about who wrote them: an equal one written later by anyone is
# the same value, so a dead one of these is never "repaired".
_PLAIN: Final = (str, bytes, int, float, complex, bool, type(None))

# Repairs wait for the pollution guard to report them; without the plugin, nobody drains
# them, so only the newest are kept.
_KEPT_REPAIRS: Final = 100


def _uses_instance_dict(owner: object, name: str) -> bool:
    """Tell whether ``owner.name`` lives in ``owner.__dict__``.

    Modules always keep attributes in their ``__dict__``, and so do classes, except for
    names a metaclass serves through a data descriptor (``__name__``, ``__qualname__``,
    a metaclass ``property``), which ``setattr`` goes through instead.  An instance keeps
    them there unless its class defines a data descriptor of that name (a ``property``
    or a ``__slots__`` member).
    """
    if isinstance(owner, types.ModuleType):
        return True
    if not isinstance(owner, type):
        try:
            vars(owner)
        except TypeError:
            return False
    for klass in type(owner).__mro__:
        if name in klass.__dict__:
            attr = klass.__dict__[name]
            if hasattr(attr, "__set__") or hasattr(attr, "__delete__"):
                # A class's own __dict__ entry wins over its metaclass's __doc__ or
                # __module__ descriptor, which store into that very dict.
                return isinstance(owner, type) and name in owner.__dict__
            return True
    return True


def _mock_tables(owner: object, name: str) -> tuple[dict[str, Any], ...] | None:
    """Return the dicts a mock keeps ``name`` in, or None for any other owner.

    A mock keeps a child in ``_mock_children`` (and a set value also in its ``__dict__``),
    and its ``__delattr__`` does not delete but marks the child deleted.  Restoring both
    tables item by item is the only undo that leaves the mock as it was, including a
    child that had never been created.
    """
    base = mock_class()
    if base is None or not isinstance(owner, base) or name[:2] == name[-2:] == "__":
        return None
    tables: Any = owner  # a mock, whose tables mock_class() does not type
    own: dict[str, Any] = tables.__dict__
    children: dict[str, Any] = tables._mock_children
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
    `MISSING` (undo deletes the shadow instead of copying the parent's value down)
    and a ``staticmethod``/``classmethod``/``property`` is kept as the descriptor itself.
    """
    if _uses_instance_dict(owner, name):
        return vars(owner).get(name, MISSING)
    return getattr(owner, name, MISSING)


def read_item(mapping: MutableMapping[Any, Any], key: Hashable) -> object:
    """Return ``mapping[key]``, or `MISSING` when the key is absent."""
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


def _describe_mapping(mapping: object) -> str:
    if mapping is sys.modules:
        return "sys.modules"
    if mapping is os.environ:
        return "os.environ"
    return f"{type(mapping).__qualname__} at {id(mapping):#x}"


def _describe_slot(kind: str, owner: object, key: object) -> str:
    if kind == "attr":
        return f"{describe_owner(owner)} attribute {key!r}"
    return f"{_describe_mapping(owner)}[{key!r}]"


def _read(kind: str, owner: Any, key: Any) -> object:
    return read_attr(owner, key) if kind == "attr" else read_item(owner, key)


def _write(kind: str, owner: Any, key: Any, value: object) -> None:
    if kind == "attr":
        if value is MISSING:
            delattr(owner, key)
        else:
            setattr(owner, key, value)
    elif value is MISSING:
        del owner[key]
    else:
        owner[key] = value


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


# -- layers ----------------------------------------------------------------------------


class Change:
    """One recorded change to one slot, with the state to put back.

    A change made under a `Snapshot` of the same mapping (``patch.dict``'s own
    values) leaves the writing to that snapshot, which is undone right after it.
    """

    __slots__ = (
        "done",
        "key",
        "kind",
        "new",
        "owner",
        "prior",
        "restorer",
        "seen",
        "seq",
        "slot",
    )

    def __init__(
        self,
        kind: str,
        owner: Any,
        key: Any,
        prior: object,
        new: object,
        restorer: Snapshot | None = None,
    ) -> None:
        self.kind = kind
        self.owner = owner
        self.key = key
        self.prior = prior
        self.new = new
        self.restorer = restorer
        self.done = False
        self.slot = _slot(kind, owner, key)
        self.seq = next(_ORDER)
        # The foreign patchers already on the slot: one that stops first writes its
        # original, which is then final; one that starts later is handed our prior.  The
        # value we replaced tells which of them is newest, unless it was ours: then they
        # are in the order the change below us saw them.
        stack = _LAYERS.stacks.get(self.slot)
        below: _foreign.Seen | None = (
            stack[-1].seen if stack and _same(stack[-1].new, prior) else None
        )
        self.seen: _foreign.Seen = _foreign.see(
            kind, owner, key, prior if below is None else _foreign.UNKNOWN, below
        )

    def describe(self) -> str:
        """Name the slot for messages: ``sys.modules['boto3']`` or ``module 'json' attribute 'dumps'``."""
        return _describe_slot(self.kind, self.owner, self.key)

    def read(self) -> object:
        """Return what the slot holds now."""
        return _read(self.kind, self.owner, self.key)

    def undo(self) -> None:
        """Put the prior state back, or hand it to the layer made after this one."""
        __tracebackhide__ = True
        with _LOCK:
            if self.done:
                return
            self.done = True
            _LAYERS.leave(self)
            seen = self.seen
            ended, written = seen.ended_below(self.kind, self.owner, self.key)
            if ended:
                # Foreign patchers below us stopped first and wrote their original over
                # our value: that original is final, and our prior (their value) dead.
                self.prior = written
            if self.restorer is not None:
                # Our snapshot ends right after us, with this key's state from us.
                self.restorer.take_prior(self.key, self.prior)
            above = _LAYERS.settle(self, self.key, self.prior)
            # Foreign patchers started between us and the saferemock change above us.
            between = above.seen.ids - seen.ids if above is not None else frozenset()
            if above is not None and not between:
                # It now owns our prior state: whichever of us ends last writes it back.
                above.prior = self.prior
                return
            current = self.read()
            if between or not _same(current, self.new):
                found, told = _foreign.hand_over(
                    seen,
                    self.kind,
                    self.owner,
                    self.key,
                    self.new,
                    self.prior,
                    _foreign.UNKNOWN if above is not None else current,
                    between,
                )
                if found is not _foreign.Foreign.NONE:
                    # A later foreign patcher holds the slot; it now restores our prior.
                    _LAYERS.told(self, told)
                    if self.restorer is not None:
                        self.restorer.leave_alone(self.key)
                    if found is _foreign.Foreign.HELD:
                        _LAYERS.watch(self)  # it could not be told: repair after it stops
                    return
                if above is not None:
                    above.prior = self.prior  # the foreign patchers between have ended
                    return
                if type(self.new) not in _PLAIN:
                    # A patcher we cannot see may still put our value back: watch for it.
                    _LAYERS.watch(self)
            self._restore(current, self.prior)

    def _restore(self, current: object, prior: object) -> None:
        if self.restorer is not None:
            self.restorer.take_prior(self.key, prior)
        elif not _same(current, prior):
            _write(self.kind, self.owner, self.key, prior)


class Snapshot:
    """The whole state of a mapping when ``patch.dict`` started, put back when it ends.

    Every key, including keys added later, gets its snapshot state back (absent if it
    was absent), unless a change made after the snapshot still holds it.  The snapshot
    is kept current: when a change it saw in force ends, the state that change restores
    replaces the one the snapshot recorded.  For ``sys.modules``, a package whose
    attribute still points to a module taken out gets that attribute put back too.
    """

    __slots__ = ("done", "earlier", "kept", "mapping", "prior", "seq")

    def __init__(self, mapping: MutableMapping[Any, Any]) -> None:
        self.mapping = mapping
        # Foreign patch.dict objects already active: the ones started later saw our state.
        self.earlier = {id(patcher) for patcher in _foreign.dict_patchers(mapping)}
        # Item by item, not mapping.copy(): a mapping-like object need only be iterable
        # and indexable, as for unittest.mock.patch.dict.
        self.prior = {key: mapping[key] for key in list(mapping)}
        self.kept: set[object] = set()
        self.done = False
        self.seq = next(_ORDER)

    def describe(self) -> str:
        return f"restoring {_describe_mapping(self.mapping)}"

    def take_prior(self, key: object, prior: object) -> None:
        if prior is MISSING:
            self.prior.pop(key, None)
        else:
            self.prior[key] = prior

    def leave_alone(self, key: object) -> None:
        """A foreign patcher holds ``key`` now and will restore it: do not write it."""
        self.kept.add(key)

    def undo(self) -> None:
        __tracebackhide__ = True
        with _LOCK:
            if self.done:
                return
            self.done = True
            mapping = self.mapping
            _LAYERS.leave_whole(self)
            modules = mapping is sys.modules
            moved: list[tuple[str, object, object]] = []
            failures: list[tuple[str, BaseException]] = []
            views = _foreign.later_views(mapping, self.earlier)
            for key in [*self.prior.keys(), *(k for k in list(mapping) if k not in self.prior)]:
                if key in self.kept:
                    continue
                prior = self.prior.get(key, MISSING)
                above = _LAYERS.settle(self, key, prior)
                if above is not None:
                    above.prior = prior
                    continue
                if views and _foreign.settle_views(views, key, prior):
                    continue  # a later foreign patch.dict set it and restores it
                current = read_item(mapping, key)
                if _same(current, prior):
                    continue
                try:
                    _write("item", mapping, key, prior)
                except BaseException as exc:  # every key must be tried; raised below
                    failures.append((f"restoring {_describe_slot('item', mapping, key)}", exc))
                    continue
                if modules:
                    moved.append((key, current, prior))
            for key, gone, back in moved:
                _unbind_from_parent(key, gone, back)
            raise_collected(failures)


def _unbind_from_parent(key: str, gone: object, back: object) -> None:
    """Point a package's attribute away from a submodule taken out of ``sys.modules``."""
    parent_name, _, child = key.rpartition(".")
    parent = sys.modules.get(parent_name) if parent_name else None
    if not isinstance(parent, types.ModuleType) or not isinstance(child, str):
        return
    if vars(parent).get(child, MISSING) is not gone or is_owned("attr", parent, child):
        return
    if back is MISSING or back is None:
        del vars(parent)[child]
    else:
        vars(parent)[child] = back


class Repair:
    """A dead saferemock value that a foreign patcher put back, replaced by the original."""

    __slots__ = ("dead", "key", "kind", "owner", "restored")

    def __init__(self, change: Change) -> None:
        self.kind = change.kind
        self.owner = change.owner
        self.key = change.key
        self.dead = change.new
        self.restored = change.prior

    def describe(self) -> str:
        return _describe_slot(self.kind, self.owner, self.key)


class _Layers:
    """The active layers of every slot, in the order they were made, and the dead values."""

    __slots__ = ("repaired", "stacks", "watched", "wholes")

    def __init__(self) -> None:
        # Keyed by the id of the owner (or of its ``__dict__``): each layer holds a strong
        # reference to its owner, so the id cannot be reused while the layer is active.
        self.stacks: dict[tuple[int, Any], list[Change]] = {}
        self.wholes: dict[int, list[Snapshot]] = {}
        # Changes that ended while someone else's value sat in their slot.
        self.watched: dict[tuple[int, Any], Change] = {}
        self.repaired: list[Repair] = []

    def add(self, change: Change) -> None:
        self.watched.pop(change.slot, None)
        self.stacks.setdefault(change.slot, []).append(change)

    def add_whole(self, snapshot: Snapshot) -> None:
        self.wholes.setdefault(id(snapshot.mapping), []).append(snapshot)

    def leave(self, change: Change) -> None:
        """Take ``change`` off its slot."""
        stack = self.stacks.get(change.slot)
        if stack is None:
            return
        for index in range(len(stack) - 1, -1, -1):
            if stack[index] is change:
                del stack[index]
                break
        if not stack:
            del self.stacks[change.slot]

    def settle(self, ending: Change | Snapshot, key: object, prior: object) -> Change | None:
        """A layer ends, restoring ``prior``: tell whoever saw it in force.

        Returns the oldest active change made after it on the slot, which inherits
        ``prior``, or None when the slot is the ending layer's to write.  Snapshots made
        while the ending layer was the newest on the slot recorded its value, which is
        now dead: they take ``prior`` instead.  So does a later change that expects a
        foreign patcher started in the ending layer's time to put back what it saw then.
        """
        seq = ending.seq
        container = ending.slot[0] if isinstance(ending, Change) else id(ending.mapping)
        later = [change for change in self.stacks.get((container, key), ()) if change.seq > seq]
        after = later[0] if later else None
        if after is not None and isinstance(ending, Change):
            between = after.seen.ids - ending.seen.ids
            if between:
                for change in later:
                    change.seen.learn(between, prior)
        for snapshot in self.wholes.get(container, ()):
            if snapshot.seq > seq and (after is None or snapshot.seq < after.seq):
                snapshot.take_prior(key, prior)
        return after

    def leave_whole(self, snapshot: Snapshot) -> None:
        wholes = self.wholes.get(id(snapshot.mapping), [])
        wholes[:] = [other for other in wholes if other is not snapshot]
        if not wholes:
            self.wholes.pop(id(snapshot.mapping), None)

    def told(self, change: Change, patcher: object) -> None:
        """``patcher`` now puts back ``change.prior``: changes made on top of it must know."""
        for later in self.stacks.get(change.slot, ()):
            later.seen.learn({id(patcher)}, change.prior)

    def watch(self, change: Change) -> None:
        self.watched[change.slot] = change
        if len(self.watched) > _KEPT_REPAIRS:
            del self.watched[next(iter(self.watched))]


_LAYERS: Final = _Layers()


def is_owned(kind: str, owner: Any, key: Any) -> bool:
    """Tell whether an active saferemock change holds this slot (``"attr"`` or ``"item"``)."""
    with _LOCK:
        return _slot(kind, owner, key) in _LAYERS.stacks


def active_changes() -> list[Change]:
    """Every change still in force, oldest first (what a test may assert is empty)."""
    with _LOCK:
        changes = [change for stack in _LAYERS.stacks.values() for change in stack]
    return sorted(changes, key=lambda change: change.seq)


def repair() -> list[Repair]:
    """Put the original back wherever a foreign patcher restored a dead saferemock value.

    A watched slot stays watched until it shows the dead value with no foreign patcher
    left holding it (then it is repaired), or until a new saferemock change is made to
    it.  Returns the repairs made, which are also kept for `drain_repairs`.
    """
    with _LOCK:
        made: list[Repair] = []
        for slot, change in list(_LAYERS.watched.items()):
            if not _same(change.read(), change.new) or _foreign.holds(
                change.kind, change.owner, change.key, change.new
            ):
                continue
            del _LAYERS.watched[slot]
            _write(change.kind, change.owner, change.key, change.prior)
            made.append(Repair(change))
        _LAYERS.repaired.extend(made)
        del _LAYERS.repaired[:-_KEPT_REPAIRS]
        return made


def drain_repairs() -> list[Repair]:
    """Repair what needs it, then return every repair not returned before, and forget them."""
    if not _LAYERS.watched and not _LAYERS.repaired:
        # The guard asks after every test; most of the time nothing is watched.  Two
        # reads of a container's size are atomic, and a watch added by another thread
        # right now is seen at the next call.
        return []
    repair()
    with _LOCK:
        made = list(_LAYERS.repaired)
        _LAYERS.repaired.clear()
    return made


# -- errors ----------------------------------------------------------------------------


def raise_collected(
    failures: Sequence[tuple[str, BaseException]],
    checks: Sequence[tuple[str, BaseException]] = (),
) -> None:
    """Raise what an undo collected, once every step has run.

    ``failures`` are steps that could not restore something, ``checks`` the checks that
    run after an undo (an unused ``require_use`` patch), each with the step's name.  A
    ``BaseException`` that is not an ``Exception`` (``KeyboardInterrupt``) wins, so an
    interrupt still interrupts.  A lone failed check is raised as itself; anything else
    as one `UndoError` naming every step.
    """
    __tracebackhide__ = True
    for _, exc in (*failures, *checks):
        if not isinstance(exc, Exception):
            raise exc
    if not failures and len(checks) == 1:
        raise checks[0][1]
    errors: list[BaseException] = []
    steps: list[str] = []
    for step, exc in (*failures, *checks):
        if isinstance(exc, UndoError):
            errors.extend(exc.errors)
            steps.extend(exc.steps)
        else:
            errors.append(exc)
            steps.append(step)
    if errors:
        raise UndoError(errors, steps)


def close_all(journals: Iterable[Journal], *, failed: bool = False) -> None:
    """Close every journal, in the order given, even if some fail; then raise once."""
    __tracebackhide__ = True
    failures: list[tuple[str, BaseException]] = []
    checks: list[tuple[str, BaseException]] = []
    for journal in journals:
        try:
            journal.close(failed=failed)
        except BaseException as exc:  # every one must close; raised below
            (checks if _is_check(exc) else failures).append((f"stopping {journal.describe()}", exc))
    raise_collected(failures, checks)


def _is_check(exc: BaseException) -> bool:
    """Tell a failed check (raised as itself by a closing journal) from a failed restore."""
    return isinstance(exc, SaferemockError) and not isinstance(exc, UndoError)


# -- journals --------------------------------------------------------------------------


class _Callback:
    __slots__ = ("description", "undo")

    def __init__(self, description: str, undo: Callable[[], None]) -> None:
        self.description = description
        self.undo = undo

    def describe(self) -> str:
        return self.description


def _step_name(step: Change | Snapshot | Journal | _Callback) -> str:
    if isinstance(step, Journal):
        return f"stopping {step.describe()}"
    if isinstance(step, Change):
        return f"restoring {step.describe()}"
    return step.describe()


class Journal:
    """A node of the ownership tree: changes, child journals, and who owns them.

    ``kind`` says what opened it: ``"with"``, ``"decorator"``, ``"start"``,
    ``"safemock"``, ``"part"`` (one activation inside a decorated call) or ``"root"``.
    ``activation`` is the primitive it belongs to, ``value`` what that primitive handed
    out (the mock), and ``holder`` a label for an owner that keeps it on purpose (a
    fixture, an ini option), which the pollution guard never reports.

    Methods make the change first and record it only once it succeeded, so a failing
    ``setattr`` leaves nothing to undo.
    """

    __slots__ = (
        "__weakref__",
        "_after",
        "_open",
        "_steps",
        "activation",
        "holder",
        "kind",
        "parent",
        "value",
    )

    def __init__(
        self,
        parent: Journal | None = None,
        kind: str = "part",
        activation: Any = None,
        holder: str | None = None,
    ) -> None:
        self.parent = parent
        self.kind = kind
        self.activation = activation
        self.holder = holder
        self.value: Any = None
        self._steps: list[Change | Snapshot | Journal | _Callback] = []
        self._after: list[Callable[[], None]] = []
        self._open = True
        if parent is not None:
            with _LOCK:
                if not parent._open and parent is not ROOT:
                    raise SaferemockError(
                        f"Cannot start anything under {parent.describe()}: it was already "
                        "closed; start it under a scope or SafeMock that is still open."
                    )
                parent._steps.append(self)

    def __len__(self) -> int:
        return len(self._steps)

    def __repr__(self) -> str:
        state = "open" if self._open else "closed"
        return f"<Journal {self.kind} {self.describe()} {state}>"

    @property
    def open(self) -> bool:
        """Whether the journal has not been closed yet."""
        return self._open

    def describe(self) -> str:
        """Name what this journal belongs to, for messages."""
        activation = self.activation
        if activation is not None:
            return str(activation.describe())
        return self.holder or self.kind

    def root(self) -> Journal:
        """The top-level journal this one belongs to (a child of `ROOT`)."""
        node = self
        while node.parent is not None and node.parent is not ROOT:
            node = node.parent
        return node

    def children(self) -> list[Journal]:
        """The child journals still open, oldest first."""
        with _LOCK:
            return [step for step in self._steps if isinstance(step, Journal)]

    # -- making changes ------------------------------------------------------------------

    def setattr(self, owner: object, name: str, value: object) -> object:
        """Set ``owner.name = value`` and record the prior state; return that prior state."""
        with _LOCK:
            tables = _mock_tables(owner, name)
            if tables is not None:
                return self._through_tables(tables, name, lambda: setattr(owner, name, value))
            prior = read_attr(owner, name)
            setattr(owner, name, value)
            self._record("attr", owner, name, prior, read_attr(owner, name))
            return prior

    def delattr(self, owner: object, name: str) -> object:
        """Delete ``owner.name`` and record the prior state; return that prior state."""
        with _LOCK:
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

    def setitem(
        self,
        mapping: MutableMapping[Any, Any],
        key: Hashable,
        value: object,
        restorer: Snapshot | None = None,
    ) -> object:
        """Set ``mapping[key] = value`` and record the prior state; return that prior state.

        ``restorer`` is a snapshot of the mapping, made by this journal, that puts the
        item back when it is undone.
        """
        with _LOCK:
            prior = read_item(mapping, key)
            mapping[key] = value
            self._record("item", mapping, key, prior, value, restorer)
            return prior

    def delitem(
        self, mapping: MutableMapping[Any, Any], key: Hashable, restorer: Snapshot | None = None
    ) -> object:
        """Delete ``mapping[key]`` and record the prior state; return that prior state."""
        with _LOCK:
            prior = read_item(mapping, key)
            del mapping[key]
            self._record("item", mapping, key, prior, MISSING, restorer)
            return prior

    def adopt(self, kind: str, owner: Any, key: Any, prior: object, new: object) -> None:
        """Own a change already made (``prior`` -> ``new``, by an import, say) as if made here."""
        with _LOCK:
            self._record(kind, owner, key, prior, new)

    def snapshot(self, mapping: MutableMapping[Any, Any]) -> Snapshot:
        """Record the whole mapping, so that ending this journal puts every key back."""
        with _LOCK:
            snapshot = Snapshot(mapping)
            _LAYERS.add_whole(snapshot)
            self._steps.append(snapshot)
            return snapshot

    def callback(self, description: str, undo: Callable[[], None]) -> None:
        """Record an undo step that is not a slot write (evicting modules, clearing caches)."""
        with _LOCK:
            self._steps.append(_Callback(description, undo))

    def after_close(self, check: Callable[[], None]) -> None:
        """Run ``check`` once the journal is undone, unless it closes because of a failure."""
        with _LOCK:
            self._after.append(check)

    def _record(
        self,
        kind: str,
        owner: object,
        key: object,
        prior: object,
        new: object,
        restorer: Snapshot | None = None,
    ) -> None:
        change = Change(kind, owner, key, prior, new, restorer)
        _LAYERS.add(change)
        self._steps.append(change)

    def changes(self) -> list[Change]:
        """Every change recorded here or in an open child journal, oldest first."""
        with _LOCK:
            found: list[Change] = []
            for step in self._steps:
                if isinstance(step, Change):
                    found.append(step)
                elif isinstance(step, Journal):
                    found.extend(step.changes())
            return found

    def commit(self) -> None:
        """Make every recorded change final: nothing will undo it.

        The changes leave their slots' layers, so no earlier change hands its prior state
        to them; undoing that earlier change later discards the committed value, as it
        discards any value written by code it does not know.
        """
        with _LOCK:
            steps, self._steps = self._steps, []
            for step in steps:
                if isinstance(step, Change) and not step.done:
                    step.done = True
                    _LAYERS.leave(step)
                elif isinstance(step, Snapshot) and not step.done:
                    step.done = True
                    _LAYERS.leave_whole(step)

    # -- ending ------------------------------------------------------------------------

    def undo(self, *, failed: bool = False) -> None:
        """Undo every step newest first; raise once, after all of them ran.

        Undoing twice is a no-op: the steps are consumed by the first call.  Child
        journals are closed as steps.  The journal itself stays open (see `close`).
        """
        __tracebackhide__ = True
        with _LOCK:
            steps, self._steps = self._steps, []
        failures: list[tuple[str, BaseException]] = []
        checks: list[tuple[str, BaseException]] = []
        for step in reversed(steps):
            try:
                if isinstance(step, Journal):
                    step.close(failed=failed)
                else:
                    step.undo()
            except BaseException as exc:  # every step must run; raised below
                found = checks if isinstance(step, Journal) and _is_check(exc) else failures
                found.append((_step_name(step), exc))
        raise_collected(failures, checks)

    def close(self, *, failed: bool = False) -> None:
        """Undo everything and leave the tree; closing twice is a no-op.

        ``failed`` says an exception is already propagating, so checks that would raise
        on top of it (``require_use``) stay quiet.
        """
        __tracebackhide__ = True
        with _LOCK:
            if not self._open:
                return
            self._open = False
            parent = self.parent
            if parent is not None:
                siblings = parent._steps
                for index in range(len(siblings) - 1, -1, -1):
                    if siblings[index] is self:
                        del siblings[index]
                        break
            checks, self._after = self._after, []
        failures: list[tuple[str, BaseException]] = []
        found: list[tuple[str, BaseException]] = []
        try:
            self.undo(failed=failed)
        except BaseException as exc:  # the checks still run; raised below
            (found if _is_check(exc) else failures).append((f"stopping {self.describe()}", exc))
        if not failed and not failures:
            for check in checks:
                try:
                    check()
                except BaseException as exc:  # raised below, with the rest
                    found.append((f"stopping {self.describe()}", exc))
        activation = self.activation
        if activation is not None:
            activation.closed(self)
        if parent is ROOT and _LAYERS.watched:
            repair()
        raise_collected(failures, found)


ROOT: Final = Journal(None, "root")
"""The top of the ownership tree: every journal opened outside a scope is its child."""

_SCOPE: Final[contextvars.ContextVar[Journal]] = contextvars.ContextVar(
    "saferemock_scope", default=ROOT
)


def current_scope() -> Journal:
    """The journal that new activations of this thread or task belong to."""
    journal = _SCOPE.get()
    while not journal.open and journal.parent is not None:
        # A scope closed from another context is still what this one points to.
        journal = journal.parent
    return journal


def set_scope(journal: Journal) -> None:
    """Make ``journal`` the current scope of this thread or task."""
    _SCOPE.set(journal)


def leave_scope(journal: Journal, previous: Journal) -> None:
    """Make ``previous`` current again, if ``journal`` is still current in this context.

    By value, not with a context-variable token: a scope may be started in one thread or
    task and stopped in another.
    """
    if _SCOPE.get() is journal:
        _SCOPE.set(previous)
