"""Patchers saferemock did not make, but can see, treated as layers of a slot.

A foreign patcher saves the value a slot holds when it starts and writes it back when it
stops, whatever happened in between.  Next to saferemock that goes wrong in two ways,
and both are repaired here:

* it started after a saferemock change and is still active when that change ends: it
  saved saferemock's value (or what the code under test wrote over it), and would put
  that dead value back for good.  It is handed the state saferemock would have restored
  instead, and its own value stays until it stops;
* it started before a saferemock change and stops first: it writes its original over
  saferemock's value.  That original is final, so the saferemock change that ends later
  leaves it in place rather than restoring the foreign patcher's dead value.

Two kinds are visible without any bookkeeping of ours: ``unittest.mock`` patchers started
with ``start()`` (pytest-mock's ``mocker`` among them), which the stdlib lists in
``_patch._active_patches``, and pytest ``MonkeyPatch`` objects the pytest plugin hands
to `watch`.  A ``with mock.patch(...)`` block is invisible; what it puts back after
saferemock ended is caught by the engine's repair pass instead.
"""

from __future__ import annotations

import enum
import sys
import weakref
from typing import Any, Final, final

from saferemock._missing import MISSING
from saferemock._mocklib import ACTIVE_PATCHES, loaded

__all__ = [
    "UNKNOWN",
    "Foreign",
    "Seen",
    "dict_patchers",
    "hand_over",
    "holds",
    "later_views",
    "see",
    "settle_views",
    "watch",
]

UNKNOWN: Final = object()
"""A slot value that cannot be told (what a patcher put in, when it does not say)."""

# MonkeyPatch objects of the running tests, each with when it was first watched; weak, so
# a finished test's object goes away.
_MONKEYPATCHES: Final[weakref.WeakKeyDictionary[Any, int]] = weakref.WeakKeyDictionary()


class Foreign(enum.Enum):
    """What `hand_over` found on a slot."""

    NONE = enum.auto()
    """No foreign patcher started later holds the slot."""
    HANDED = enum.auto()
    """One holds it and will now put back the state saferemock would have restored."""
    HELD = enum.auto()
    """One holds it but cannot be told what to put back: watch the slot instead."""


@final
class Seen:
    """The foreign patchers active on a slot when a saferemock change was made to it.

    ``below`` pairs each of them with what it will put back when it stops, oldest first.
    """

    __slots__ = ("below", "ids", "mark")

    def __init__(self, below: list[list[Any]], mark: int) -> None:
        self.below = below
        self.ids = frozenset(id(patcher) for patcher, _ in below)
        # MonkeyPatch objects watched before this point were seen too (with no entry here).
        self.mark = mark

    def ended_below(self, kind: str, owner: object, key: object) -> tuple[bool, object]:
        """Whether patchers under the change stopped since, and what the last one wrote.

        They wrote their originals over the change, newest first; what the oldest of
        those that stopped wrote is final.
        """
        if not self.below:
            return False, MISSING
        active = {id(hold.patcher) for hold in _holds(kind, owner, key)}
        ended = False
        written: object = MISSING
        for patcher, saved in reversed(self.below):
            if id(patcher) in active:
                break
            ended, written = True, saved
        return ended, written

    def learn(self, patchers: frozenset[int] | set[int], prior: object) -> None:
        """These patchers below the change now put back ``prior`` (they were told)."""
        for pair in self.below:
            if id(pair[0]) in patchers:
                pair[1] = prior


@final
class _Counter:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


_WATCHED: Final = _Counter()


def watch(monkeypatch: object) -> None:
    """Let the engine see (and hand state to) a pytest ``MonkeyPatch`` object."""
    if monkeypatch not in _MONKEYPATCHES:
        _MONKEYPATCHES[monkeypatch] = _WATCHED.value
        _WATCHED.value += 1


def _same(current: object, expected: object) -> bool:
    # os.environ decodes a fresh str at every read, so strings compare by value.
    if current is expected:
        return True
    return (
        type(expected) in (str, bytes) and type(current) is type(expected) and current == expected
    )


def _sub_on(patcher: Any, kind: str, owner: object, key: object) -> Any:
    """The part of a started unittest.mock patcher that holds this slot, or None."""
    if kind == "item":
        state = vars(patcher)
        return patcher if state.get("in_dict") is owner and "_original" in state else None
    for sub in (patcher, *getattr(patcher, "additional_patchers", ())):
        state = vars(sub)
        if state.get("target") is owner and state.get("attribute") == key:
            return sub
    return None


def _notset(monkeypatch: object) -> object:
    # MonkeyPatch marks "absent" with its module's sentinel (NOTSET; notset before 8.1).
    namespace = vars(sys.modules.get(type(monkeypatch).__module__, sys))
    return namespace.get("NOTSET", namespace.get("notset", MISSING))


@final
class _Hold:
    """One foreign patcher's hold on one slot: what it will put back, and how to change it."""

    __slots__ = ("entries", "index", "key", "kind", "known", "order", "patcher", "saved", "sub")

    def __init__(self, patcher: Any, kind: str, key: object) -> None:
        self.patcher = patcher
        self.kind = kind
        self.key = key
        self.sub: Any = None
        self.entries: list[Any] = []
        self.index = 0
        self.order = -1  # when a MonkeyPatch was first watched; -1 for unittest.mock
        self.saved: object = MISSING
        self.known: object = UNKNOWN  # what it put in, learnt from the slot itself

    @property
    def installed(self) -> object:
        """The value it put into the slot, when that can be told (``UNKNOWN`` otherwise)."""
        if self.sub is None:
            return self.known
        state = vars(self.sub)
        if self.kind == "item":
            return state.get("values", {}).get(self.key, UNKNOWN)
        new = state.get("new", UNKNOWN)
        # A patcher exists, so unittest.mock is loaded.
        return UNKNOWN if new is getattr(loaded(), "DEFAULT", UNKNOWN) else new

    @property
    def view(self) -> bool:
        """A ``patch.dict`` that only saw the key: it restores it, but never set it."""
        if self.sub is None or self.kind != "item":
            return False
        state = vars(self.sub)
        return not (state.get("clear") or self.key in state.get("values", {}))

    def give(self, prior: object) -> bool:
        """Make it put back ``prior`` when it stops; False if it cannot be told."""
        if self.sub is not None:
            state = vars(self.sub)
            if self.kind == "item":
                original = state["_original"]
                if prior is MISSING:
                    original.pop(self.key, None)
                else:
                    original[self.key] = prior
                return True
            if prior is MISSING:
                # Its stop() deletes and then may set the saved value again (for
                # proxies), so it cannot be told to leave the slot empty.
                return False
            state["temp_original"] = prior
            return True
        if prior is MISSING:
            prior = _notset(self.patcher)
            if prior is MISSING:
                return False
        container, name, _ = self.entries[self.index]
        self.entries[self.index] = (container, name, prior)
        return True


def _holds(kind: str, owner: object, key: object, current: object = UNKNOWN) -> list[_Hold]:
    """Every foreign patcher active on a slot, oldest first as far as can be told.

    Each tool lists its own in order; across tools, the one whose value the slot holds
    (``current``, when known) is the newest, one that saved the value another put in
    started after it, and otherwise unittest.mock's are taken to be older.
    """
    found = _mock_holds(kind, owner, key) + _monkeypatch_holds(kind, owner, key)
    for _ in range(len(found)):
        moved = False
        for index, hold in enumerate(found):
            lower = next(
                (
                    other
                    for other in found[index + 1 :]
                    if other.installed is not UNKNOWN and _same(hold.saved, other.installed)
                ),
                None,
            )
            if lower is not None:
                found.remove(hold)
                found.insert(found.index(lower) + 1, hold)
                moved = True
                break
        if not moved:
            break
    if current is not UNKNOWN and len(found) > 1:
        newest = next((hold for hold in found if _same(current, hold.installed)), None)
        if newest is None:
            # The slot holds no started patcher's value: the newest is a MonkeyPatch.
            newest = next((hold for hold in reversed(found) if hold.sub is None), None)
        if newest is not None:
            found.remove(newest)
            found.append(newest)
    return found


def _monkeypatch_holds(kind: str, owner: object, key: object) -> list[_Hold]:
    found: list[_Hold] = []
    for monkeypatch, order in list(_MONKEYPATCHES.items()):
        entries = vars(monkeypatch).get("_setitem" if kind == "item" else "_setattr")
        if not isinstance(entries, list):
            continue
        for index, (container, name, saved) in enumerate(entries):
            if container is owner and name == key:
                # The first entry is undone last: it decides what the slot ends with.
                hold = _Hold(monkeypatch, kind, key)
                hold.entries, hold.index, hold.order = entries, index, order
                hold.saved = MISSING if saved is _notset(monkeypatch) else saved
                found.append(hold)
                break
    return found


def _mock_holds(kind: str, owner: object, key: object) -> list[_Hold]:
    found: list[_Hold] = []
    for patcher in list(ACTIVE_PATCHES):
        sub = _sub_on(patcher, kind, owner, key)
        if sub is None:
            continue
        hold = _Hold(patcher, kind, key)
        hold.sub = sub
        state = vars(sub)
        if kind == "item":
            hold.saved = state["_original"].get(key, MISSING)
        elif state.get("is_local"):
            hold.saved = state.get("temp_original", MISSING)
        found.append(hold)
    return found


def see(kind: str, owner: object, key: object, current: object, before: Seen | None = None) -> Seen:
    """Record the foreign patchers active on a slot whose value was ``current``.

    Called just after saferemock changed it, with the value it had before, or with
    ``before``, what the saferemock change whose value it was saw: their order stands.
    """
    if not ACTIVE_PATCHES and not _MONKEYPATCHES:
        return Seen([], _WATCHED.value)
    holds = _holds(kind, owner, key, current)
    if before is not None and before.below:
        rank = {id(patcher): index for index, (patcher, _) in enumerate(before.below)}
        holds.sort(key=lambda hold: rank.get(id(hold.patcher), len(rank)))
    return Seen([[hold.patcher, hold.saved] for hold in holds], _WATCHED.value)


def dict_patchers(mapping: object) -> list[Any]:
    """The started ``unittest.mock.patch.dict`` objects of ``mapping``, oldest first."""
    return [patcher for patcher in list(ACTIVE_PATCHES) if _sub_on(patcher, "item", mapping, None)]


def later_views(mapping: object, earlier: set[int]) -> list[Any]:
    """The started ``patch.dict`` objects of ``mapping`` not among the ids in ``earlier``."""
    return [patcher for patcher in dict_patchers(mapping) if id(patcher) not in earlier]


def settle_views(views: list[Any], key: object, prior: object) -> bool:
    """Hand ``prior`` to every ``patch.dict`` in ``views`` (from `later_views`).

    Such a patcher started while a saferemock change of the mapping was in force, so it
    restores, at its end, the state saferemock is now taking back.  Returns whether one
    of them set ``key`` itself, which then keeps its value until it stops.
    """
    held = False
    for patcher in views:
        hold = _Hold(patcher, "item", key)
        hold.sub = patcher
        hold.give(prior)
        held = held or not hold.view
    return held


def hand_over(
    seen: Seen,
    kind: str,
    owner: object,
    key: object,
    ours: object,
    prior: object,
    current: object,
    only: frozenset[int] = frozenset(),
) -> tuple[Foreign, object | None]:
    """Tell the foreign patcher right above a saferemock change to put back ``prior``.

    ``seen`` is what was active when the change was made, ``ours`` the value it wrote,
    ``current`` what the slot holds now, ``kind`` ``"attr"`` or ``"item"``; ``only``, when given, the ids of the patchers that
    may be told (those started before the next saferemock change of the slot).  Returns
    what was found, and the patcher told (a saferemock change made on top of it must
    learn what it now puts back).
    """
    later: list[_Hold] = []
    for hold in _holds(kind, owner, key, current):
        if id(hold.patcher) in seen.ids or (only and id(hold.patcher) not in only):
            continue  # below us, or above the next saferemock change
        if hold.order >= seen.mark and not _same(hold.saved, ours):
            # A MonkeyPatch watched only after our change: that it patched after us is
            # read from what it saved, our value.
            continue
        if hold.view:
            hold.give(prior)  # it saw our state, and will restore the whole mapping
            continue
        later.append(hold)
    if not later:
        return Foreign.NONE, None
    above = _right_above(later, ours)
    if above is None:
        # Which started first cannot be told: each puts back our prior, so whichever
        # stops last leaves the slot right.
        told = [hold.give(prior) for hold in later]
        return (Foreign.HANDED if all(told) else Foreign.HELD), later[0].patcher
    return (Foreign.HANDED if above.give(prior) else Foreign.HELD), above.patcher


def _right_above(later: list[_Hold], ours: object) -> _Hold | None:
    """Of the foreign patchers that started after our change, the one started first.

    The one that saved our value; failing that (the code under test wrote in between),
    the only one that did not save what another of them put in; None if unsure.
    """
    if len(later) == 1:
        return later[0]
    exact = [hold for hold in later if _same(hold.saved, ours)]
    if exact:
        return exact[0]
    bottom = [
        hold
        for hold in later
        if not any(
            other is not hold
            and other.installed is not UNKNOWN
            and _same(hold.saved, other.installed)
            for other in later
        )
    ]
    return bottom[0] if len(bottom) == 1 else None


def holds(kind: str, owner: object, key: object, value: object) -> bool:
    """Tell whether a still-active foreign patcher will put ``value`` back into the slot."""
    return any(_same(hold.saved, value) for hold in _holds(kind, owner, key))
