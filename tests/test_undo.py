"""The teardown engine: exact prior state, reverse order, no clobbering, keep going."""

from __future__ import annotations

import os
import sys
import types
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statecheck import Snapshot, active_changes

import saferemock as sm
from saferemock._missing import MISSING
from saferemock._undo import Journal, drain_repairs, read_attr, repair


class Parent:
    inherited = "parent"

    @staticmethod
    def static() -> str:
        return "static"

    @classmethod
    def klass(cls) -> str:
        return "klass"

    @property
    def prop(self) -> str:
        return "prop"


class Child(Parent):
    own = "child"


class Slots:
    __slots__ = ("empty", "filled")

    def __init__(self) -> None:
        self.filled = "filled"


class WithProperty:
    def __init__(self) -> None:
        self._value = 1

    @property
    def value(self) -> int:
        return self._value

    @value.setter
    def value(self, new: int) -> None:
        self._value = new


@pytest.fixture(autouse=True)
def _no_stacks_left() -> Any:
    yield
    assert active_changes() == []


def test_read_attr_sees_own_dict_only() -> None:
    assert read_attr(Child, "own") == "child"
    assert read_attr(Child, "inherited") is MISSING
    assert isinstance(read_attr(Parent, "static"), staticmethod)
    assert read_attr(Slots(), "filled") == "filled"
    assert read_attr(Slots(), "empty") is MISSING


@pytest.mark.parametrize("name", ["own", "inherited", "absent", "static", "klass", "prop"])
def test_setattr_on_class_restores_exactly(name: str) -> None:
    snap = Snapshot(Child, Parent)
    journal = Journal()
    journal.setattr(Child, name, "replaced")
    assert Child.__dict__[name] == "replaced"
    journal.undo()
    snap.assert_unchanged()
    if name != "own":
        assert name not in vars(Child)


@pytest.mark.parametrize("name", ["static", "klass", "prop"])
def test_descriptors_survive_on_their_own_class(name: str) -> None:
    raw = Parent.__dict__[name]
    journal = Journal()
    journal.setattr(Parent, name, "replaced")
    journal.undo()
    assert Parent.__dict__[name] is raw
    assert Parent.static() == "static"
    assert Parent.klass() == "klass"
    assert Parent().prop == "prop"


def test_setattr_on_module_and_instance() -> None:
    module = types.ModuleType("fake_for_undo")
    module.value = 1  # type: ignore[attr-defined]
    instance = Child()
    instance.mine = "mine"  # type: ignore[attr-defined]
    snap = Snapshot(module, instance)
    journal = Journal()
    journal.setattr(module, "value", 2)
    journal.setattr(module, "new", 3)
    journal.setattr(instance, "mine", "other")
    journal.setattr(instance, "own", "shadow")
    assert vars(instance)["own"] == "shadow"
    journal.undo()
    snap.assert_unchanged()
    assert instance.own == "child"


def test_slots_and_properties_on_instances() -> None:
    slotted = Slots()
    with_property = WithProperty()
    journal = Journal()
    journal.setattr(slotted, "filled", "x")
    journal.setattr(slotted, "empty", "y")
    journal.setattr(with_property, "value", 5)
    assert (slotted.filled, slotted.empty, with_property.value) == ("x", "y", 5)
    journal.undo()
    assert slotted.filled == "filled"
    assert not hasattr(slotted, "empty")
    assert with_property.value == 1
    assert "value" not in vars(with_property)


class Stored:
    """A data descriptor that keeps its value on the instance under another name."""

    def __get__(self, obj: Any, owner: type) -> Any:
        return self if obj is None else obj.stored


class SetOnly(Stored):
    def __set__(self, obj: Any, value: Any) -> None:
        obj.stored = value


class DeleteOnly(Stored):
    def __delete__(self, obj: Any) -> None:
        del obj.stored


class Described:
    settable = SetOnly()
    deletable = DeleteOnly()

    def __init__(self) -> None:
        self.stored = "original"


def test_an_instance_attribute_behind_a_set_only_data_descriptor_goes_through_it() -> None:
    instance = Described()
    journal = Journal()
    assert journal.setattr(instance, "settable", "new") == "original"
    assert instance.stored == "new"
    journal.undo()
    assert vars(instance) == {"stored": "original"}


def test_read_attr_reads_through_a_delete_only_data_descriptor() -> None:
    # A data descriptor owns the name even without __set__: the instance dict is not it.
    assert read_attr(Described(), "deletable") == "original"


def test_delattr_restores_and_inherited_delete_is_refused_cleanly() -> None:
    snap = Snapshot(Child)
    journal = Journal()
    journal.delattr(Child, "own")
    assert not hasattr(Child, "own")
    journal.undo()
    snap.assert_unchanged()
    with pytest.raises(AttributeError):
        journal.delattr(Child, "inherited")
    assert len(journal) == 0


def test_a_magic_method_patched_on_a_mock_is_a_class_slot_not_a_child() -> None:
    # MagicMock serves dunders from its own per-instance class, not from its child
    # tables: going through the tables would leave len() answering 5.
    magic = mock.MagicMock()
    with sm.patch.object(magic, "__len__", new=lambda self: 5):
        assert len(magic) == 5
    assert len(magic) == 0


def test_deleting_a_mock_child_and_undoing_brings_back_the_same_child() -> None:
    owner = mock.Mock()
    child = owner.child
    snap = Snapshot(owner, owner._mock_children)
    journal = Journal()
    assert journal.delattr(owner, "child") is child
    assert not hasattr(owner, "child")
    journal.undo()
    assert owner.child is child
    snap.assert_unchanged()


def test_setattr_on_a_mock_returns_the_child_it_replaced() -> None:
    owner = mock.Mock()
    child = owner.child
    journal = Journal()
    assert journal.setattr(mock.Mock(), "fresh", 1) is MISSING
    assert journal.setattr(owner, "child", 1) is child
    journal.undo()
    assert owner.child is child


def test_mapping_items_and_environ() -> None:
    data = {"a": 1, "b": 2}
    snap = Snapshot(data, os.environ)
    journal = Journal()
    journal.setitem(data, "a", 10)
    journal.setitem(data, "c", 30)
    journal.delitem(data, "b")
    journal.setitem(os.environ, "SAFEREMOCK_TEST_VAR", "1")
    journal.setitem(os.environ, "PATH", "/nowhere")
    assert data == {"a": 10, "c": 30}
    journal.undo()
    snap.assert_unchanged()
    assert list(data) == ["a", "b"]
    assert "SAFEREMOCK_TEST_VAR" not in os.environ


def test_changes_and_snapshots_name_the_mappings_they_restore() -> None:
    data: dict[str, int] = {}
    journal = Journal()
    journal.setitem(os.environ, "SAFEREMOCK_NAMED", "1")
    journal.setitem(sys.modules, "saferemock_named", types.ModuleType("saferemock_named"))
    journal.setitem(data, "k", 1)
    names = [change.describe() for change in journal.changes()]
    names += [journal.snapshot(mapping).describe() for mapping in (os.environ, sys.modules)]
    journal.undo()
    assert names == [
        "os.environ['SAFEREMOCK_NAMED']",
        "sys.modules['saferemock_named']",
        f"dict at {id(data):#x}['k']",
        "restoring os.environ",
        "restoring sys.modules",
    ]


def test_a_journal_without_an_activation_is_named_by_its_holder_or_else_its_kind() -> None:
    assert Journal(kind="part").describe() == "part"
    assert Journal(kind="safemock", holder="fixture 'safemock'").describe() == "fixture 'safemock'"


def test_a_journal_shows_its_kind_its_owner_and_whether_it_is_open() -> None:
    journal = Journal(kind="safemock", holder="fixture 'safemock'")
    assert repr(journal) == "<Journal safemock fixture 'safemock' open>"
    journal.close()
    assert repr(journal) == "<Journal safemock fixture 'safemock' closed>"


def test_undo_runs_in_reverse_order() -> None:
    order: list[str] = []
    journal = Journal()
    journal.callback("first", lambda: order.append("first"))
    journal.callback("second", lambda: order.append("second"))
    journal.callback("third", lambda: order.append("third"))
    journal.undo()
    assert order == ["third", "second", "first"]


def test_change_is_recorded_only_after_it_succeeded() -> None:
    class Refuses:
        def __setattr__(self, name: str, value: object) -> None:
            raise RuntimeError("read-only")

    journal = Journal()
    with pytest.raises(RuntimeError, match="read-only"):
        journal.setattr(Refuses(), "x", 1)
    with pytest.raises(KeyError):
        journal.delitem({}, "missing")
    assert len(journal) == 0


def test_undo_twice_is_a_no_op() -> None:
    data = {"a": 1}
    journal = Journal()
    journal.setitem(data, "a", 2)
    journal.undo()
    data["a"] = 3
    journal.undo()
    assert data == {"a": 3}


def test_undo_keeps_going_and_reports_every_failure() -> None:
    class Fragile:
        armed = False

        def __setattr__(self, name: str, value: object) -> None:
            if type(self).armed:
                raise RuntimeError(f"cannot restore {name}")
            object.__setattr__(self, name, value)

    fragile = Fragile()
    fragile.kept = "old"  # type: ignore[attr-defined]
    data = {"k": "v"}
    journal = Journal()
    journal.setattr(fragile, "kept", "new")
    journal.setitem(data, "k", "changed")
    journal.callback("a failing callback", lambda: 1 / 0)  # type: ignore[func-returns-value]
    Fragile.armed = True
    with pytest.raises(sm.UndoError) as info:
        journal.undo()
    assert str(info.value) == (
        "2 undo steps failed and the rest were undone: "
        "a failing callback: ZeroDivisionError('division by zero'); "
        "restoring 'Fragile' object attribute 'kept': RuntimeError('cannot restore kept')."
    )
    assert [type(e) for e in info.value.errors] == [ZeroDivisionError, RuntimeError]
    # The steps between the failures still ran.
    assert data == {"k": "v"}


def test_a_single_nested_undo_error_is_not_wrapped_twice() -> None:
    inner = Journal()
    inner.callback("inner step", lambda: 1 / 0)  # type: ignore[func-returns-value]
    outer = Journal()
    outer.callback("inner journal", inner.undo)
    with pytest.raises(sm.UndoError) as info:
        outer.undo()
    assert info.value.steps == ["inner step"]


@pytest.mark.parametrize("lower_first", [True, False])
def test_stacked_changes_unwind_right_in_any_order(lower_first: bool) -> None:
    data = {"slot": "original"}
    lower, upper = Journal(), Journal()
    lower.setitem(data, "slot", "lower")
    upper.setitem(data, "slot", "upper")
    first, second = (lower, upper) if lower_first else (upper, lower)
    first.undo()
    assert data["slot"] == ("upper" if lower_first else "lower")
    second.undo()
    assert data == {"slot": "original"}


def test_stacked_changes_on_an_absent_slot_end_absent() -> None:
    module = types.ModuleType("stack_absent")
    lower, upper = Journal(), Journal()
    lower.setattr(module, "x", 1)
    upper.setattr(module, "x", 2)
    lower.undo()
    assert module.x == 2  # type: ignore[attr-defined]
    upper.undo()
    assert not hasattr(module, "x")


def test_a_value_other_code_wrote_into_the_slot_is_discarded() -> None:
    # As unittest.mock does: what the code under test wrote while the change was in force
    # does not outlive it (the suite turns any warning into an error, so none is emitted).
    data = {"slot": "original"}
    journal = Journal()
    journal.setitem(data, "slot", "ours")
    data["slot"] = "theirs"
    journal.undo()
    assert data == {"slot": "original"}
    assert active_changes() == []


def test_a_slot_other_code_deleted_gets_its_prior_state_back() -> None:
    module = types.ModuleType("foreign_delete")
    journal = Journal()
    journal.setattr(module, "x", 1)
    del module.x  # type: ignore[attr-defined]
    journal.undo()
    assert not hasattr(module, "x")
    module.x = "before"  # type: ignore[attr-defined]
    journal.setattr(module, "x", 1)
    del module.x  # type: ignore[attr-defined]
    journal.undo()
    assert module.x == "before"  # type: ignore[attr-defined]


def test_environ_values_compare_by_value() -> None:
    journal = Journal()
    journal.setitem(os.environ, "SAFEREMOCK_EQ", "same")
    # os.environ decodes a new str at each read: identity differs, value does not.
    journal.undo()
    assert "SAFEREMOCK_EQ" not in os.environ


SLOTS = ["a", "b", "c"]


WRITES = st.lists(
    st.tuples(st.sampled_from(SLOTS), st.booleans()),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_undo_order_ends_in_the_original_state(data: st.DataObject) -> None:
    # Draw everything before touching state: an aborted draw must not strand a change.
    writes = data.draw(WRITES)
    order = data.draw(st.permutations(range(len(writes))))
    module = types.ModuleType("hypothesis_undo")
    module.a = "A"  # type: ignore[attr-defined]
    mapping: dict[str, object] = {"b": "B"}
    snap = Snapshot(module, mapping)
    journals = []
    for slot, delete in writes:
        journal = Journal()
        if slot == "b":
            if delete and slot in mapping:
                journal.delitem(mapping, slot)
            else:
                journal.setitem(mapping, slot, object())
        elif delete and hasattr(module, slot):
            journal.delattr(module, slot)
        else:
            journal.setattr(module, slot, object())
        journals.append(journal)
    for index in order:
        journals[index].undo()
    snap.assert_unchanged()


def test_module_attribute_and_its_dict_item_are_one_slot() -> None:
    module = types.ModuleType("one_slot")
    module.x = "original"  # type: ignore[attr-defined]
    as_attr, as_item = Journal(), Journal()
    as_attr.setattr(module, "x", "attr")
    as_item.setitem(vars(module), "x", "item")
    as_attr.undo()  # lower first: hands "original" up to the item change
    assert module.x == "item"  # type: ignore[attr-defined]
    as_item.undo()
    assert module.x == "original"  # type: ignore[attr-defined]


def test_commit_makes_changes_final_and_leaves_the_stacks() -> None:
    data = {"slot": "original"}
    below, restore = Journal(), Journal()
    below.setitem(data, "slot", "leaked")
    restore.setitem(data, "slot", "original again")
    assert [change.key for change in restore.changes()] == ["slot"]
    restore.commit()
    assert restore.changes() == []
    restore.undo()
    assert data["slot"] == "original again"
    # The lower change finds a value it did not write: no later change holds the slot,
    # so, as for any value written by code it does not know, its own prior comes back.
    below.undo()
    assert data["slot"] == "original"


def _dead_mock_after_a_foreign_write(owner: types.SimpleNamespace) -> object:
    """Patch ``owner.x`` while other code writes it: the stop restores it and watches the slot."""
    patch = sm.patch.object(owner, "x")
    mocked = patch.start()
    owner.x = "written by the code under test"
    patch.stop()
    assert owner.x == "original"
    return mocked


def test_only_the_newest_hundred_dead_values_are_watched_and_kept_for_the_report() -> None:
    drain_repairs()
    owners = [types.SimpleNamespace(x="original") for _ in range(102)]
    dead = [_dead_mock_after_a_foreign_write(owner) for owner in owners]
    # An invisible patcher of each slot ends and puts back what it saw: our dead mock.
    for owner, mocked in zip(owners, dead, strict=True):
        owner.x = mocked
    made = repair()
    assert [change.owner for change in made] == owners[2:]
    assert [owner.x for owner in owners[2:]] == ["original"] * 100
    assert [owner.x for owner in owners[:2]] == dead[:2]
    late = types.SimpleNamespace(x="original")
    late.x = _dead_mock_after_a_foreign_write(late)
    assert [change.owner for change in drain_repairs()] == [*owners[3:], late]
    assert late.x == "original"
