"""Patchers saferemock did not make, but can see, treated as layers of a slot.

When a saferemock change ends and its slot no longer holds what saferemock put there,
the value was written either by the code under test (discarded, as ``unittest.mock``
discards it) or by another patcher that started later and is still active.  Such a
patcher saved saferemock's value as the one to put back when it stops, which would
leave a dead saferemock mock in place for good.  So it is treated like a saferemock layer
above ours: its value stays for now, and it is handed the state saferemock would have
restored.  Two kinds are visible without any bookkeeping of ours:

* ``unittest.mock`` patchers started with ``start()`` (pytest-mock's ``mocker`` among
  them), which the stdlib lists in ``_patch._active_patches``;
* pytest ``MonkeyPatch`` objects the pytest plugin hands to :func:`watch`.

A ``with mock.patch(...)`` block is invisible; what it puts back after saferemock ended
is caught by the engine's repair pass instead.
"""

from __future__ import annotations

import enum
import sys
import weakref
from typing import Any, Final
from unittest import mock

from saferemock._missing import MISSING

__all__ = [
    "Foreign",
    "any_active",
    "dict_patchers",
    "hand_over",
    "holder",
    "holds",
    "later_views",
    "settle_views",
    "still_holds",
    "watch",
]

# The stdlib's own list of started patchers (and patch.dict objects), oldest first.
_ACTIVE: Final[list[Any]] = mock._patch._active_patches  # type: ignore[attr-defined]

# MonkeyPatch objects of the running tests; weak, so a finished test's object goes away.
_MONKEYPATCHES: Final[weakref.WeakSet[Any]] = weakref.WeakSet()


class Foreign(enum.Enum):
    """What :func:`hand_over` found on a slot."""

    NONE = enum.auto()
    """No foreign patcher holds the slot."""
    HANDED = enum.auto()
    """One holds it and will now put back the state saferemock would have restored."""
    HELD = enum.auto()
    """One holds it but cannot be told what to put back: watch the slot instead."""


def watch(monkeypatch: object) -> None:
    """Let the engine see (and hand state to) a pytest ``MonkeyPatch`` object."""
    _MONKEYPATCHES.add(monkeypatch)


def any_active() -> bool:
    """Tell, cheaply, whether any foreign patcher could be active at all."""
    return bool(_ACTIVE) or len(_MONKEYPATCHES) > 0


def _same(current: object, expected: object) -> bool:
    # os.environ decodes a fresh str at every read, so strings compare by value.
    if current is expected:
        return True
    return (
        type(expected) in (str, bytes) and type(current) is type(expected) and current == expected
    )


def dict_patchers(mapping: object) -> list[Any]:
    """The started ``unittest.mock.patch.dict`` objects of ``mapping``, oldest first."""
    return [
        patcher
        for patcher in list(_ACTIVE)
        if vars(patcher).get("in_dict") is mapping
        and isinstance(vars(patcher).get("_original"), dict)
    ]


def _holds_key(patcher: Any, key: object) -> bool:
    """Tell whether a started ``patch.dict`` set ``key`` itself (not only saw it)."""
    state = vars(patcher)
    return bool(state.get("clear")) or key in state.get("values", {})


def later_views(mapping: object, earlier: set[int]) -> list[Any]:
    """The started ``patch.dict`` objects of ``mapping`` not among the ids in ``earlier``."""
    return [patcher for patcher in dict_patchers(mapping) if id(patcher) not in earlier]


def settle_views(views: list[Any], key: object, prior: object) -> bool:
    """Hand ``prior`` to every ``patch.dict`` in ``views`` (from :func:`later_views`).

    Such a patcher started while a saferemock snapshot of the mapping was in force, so
    it restores, at its end, the state the snapshot is now taking back.  Returns whether
    one of them set ``key`` itself, which then keeps its value until it stops.
    """
    held = False
    for patcher in views:
        original = vars(patcher)["_original"]
        if prior is MISSING:
            original.pop(key, None)
        else:
            original[key] = prior
        held = held or _holds_key(patcher, key)
    return held


def _patchers(kind: str, owner: object, key: object, value: object) -> Any:
    """The started unittest.mock patcher that will put ``value`` back into the slot, or None."""
    for patcher in reversed(list(_ACTIVE)):
        if kind == "item":
            original = vars(patcher).get("_original")
            if (
                vars(patcher).get("in_dict") is owner
                and isinstance(original, dict)
                and _same(original.get(key, MISSING), value)
            ):
                return patcher
            continue
        for sub in (patcher, *getattr(patcher, "additional_patchers", ())):
            state = vars(sub)
            if (
                state.get("target") is owner
                and state.get("attribute") == key
                and state.get("is_local")
                and _same(state.get("temp_original", MISSING), value)
            ):
                return sub
    return None


def _monkeypatch_entry(kind: str, owner: object, key: object, value: object) -> Any:
    """``(MonkeyPatch, its undo list, index)`` of the entry that will put ``value`` back."""
    for monkeypatch in list(_MONKEYPATCHES):
        entries = vars(monkeypatch).get("_setitem" if kind == "item" else "_setattr")
        if not isinstance(entries, list):
            continue
        for index in range(len(entries) - 1, -1, -1):
            container, name, saved = entries[index]
            if container is owner and name == key:
                if _same(saved, value):
                    return monkeypatch, entries, index
                break
    return None


def _touches(patcher: Any, kind: str, owner: object, key: object) -> bool:
    """Tell whether an active unittest.mock patcher (or patch.dict) is on this slot."""
    if kind == "item":
        return vars(patcher).get("in_dict") is owner
    return any(
        vars(sub).get("target") is owner and vars(sub).get("attribute") == key
        for sub in (patcher, *getattr(patcher, "additional_patchers", ()))
    )


def _entry(monkeypatch: Any, kind: str, owner: object, key: object) -> bool:
    entries = vars(monkeypatch).get("_setitem" if kind == "item" else "_setattr")
    return isinstance(entries, list) and any(
        container is owner and name == key for container, name, _ in entries
    )


def holder(kind: str, owner: object, key: object) -> object | None:
    """The newest still-active foreign patcher of this slot, or None.

    Asked before saferemock writes a slot: if that patcher stops while saferemock's change
    is in force, what it puts back is its own original, which then stays.
    """
    found: object | None = None
    for patcher in reversed(list(_ACTIVE)):
        if _touches(patcher, kind, owner, key):
            found = patcher
            break
    else:
        for monkeypatch in list(_MONKEYPATCHES):
            if _entry(monkeypatch, kind, owner, key):
                found = monkeypatch
    return found


def still_holds(patcher: object, kind: str, owner: object, key: object) -> bool:
    """Tell whether ``patcher`` (from :func:`holder`) is still active on the slot."""
    if any(active is patcher for active in list(_ACTIVE)):
        return True
    return patcher in _MONKEYPATCHES and _entry(patcher, kind, owner, key)


def holds(kind: str, owner: object, key: object, value: object) -> bool:
    """Tell whether a still-active foreign patcher will put ``value`` back into the slot."""
    return (
        _patchers(kind, owner, key, value) is not None
        or _monkeypatch_entry(kind, owner, key, value) is not None
    )


def hand_over(kind: str, owner: object, key: object, ours: object, prior: object) -> Foreign:
    """Tell a foreign patcher that saved ``ours`` to put back ``prior`` instead.

    ``kind`` is ``"attr"`` or ``"item"``.  Returns what was found.
    """
    patcher = _patchers(kind, owner, key, ours)
    if patcher is not None:
        if kind == "item":
            # A patch.dict saw our value: it now restores our prior instead.  It holds
            # the key only if it set it; otherwise the key is ours to write now.
            original = vars(patcher)["_original"]
            if prior is MISSING:
                original.pop(key, None)
            else:
                original[key] = prior
            return Foreign.HANDED if _holds_key(patcher, key) else Foreign.NONE
        if prior is MISSING:
            # Its stop() deletes and then may set the saved value again (for proxies),
            # so it cannot be told to leave the slot empty.
            return Foreign.HELD
        patcher.temp_original = prior
        return Foreign.HANDED
    found = _monkeypatch_entry(kind, owner, key, ours)
    if found is None:
        return Foreign.NONE
    monkeypatch, entries, index = found
    if prior is MISSING:
        # MonkeyPatch marks "absent" with its module's sentinel (NOTSET; notset before
        # pytest 8.1).
        module = vars(sys.modules.get(type(monkeypatch).__module__, sys))
        notset = module.get("NOTSET", module.get("notset", MISSING))
        if notset is MISSING:
            return Foreign.HELD
        prior = notset
    container, name, _ = entries[index]
    entries[index] = (container, name, prior)
    return Foreign.HANDED
