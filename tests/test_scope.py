"""One object as context manager, decorator and start/stop; scope() and stopall()."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import json
import re
import weakref
from typing import Any
from unittest import mock

import patchtargets
import pytest
from statecheck import Snapshot, active_runs

import saferemock as sm


@pytest.fixture(autouse=True)
def _nothing_left_started() -> Any:
    yield
    assert active_runs() == []


def test_scope_undoes_everything_started_inside() -> None:
    snap = Snapshot(patchtargets, json)
    with sm.scope():
        sm.patch("patchtargets.greet").start()
        sm.patch("json.dumps").start()
        sm.patch.dict("patchtargets.__dict__", {"EXTRA": 1}).start()
        assert isinstance(patchtargets.greet, type(json.dumps))
    snap.assert_unchanged()


def test_scope_undoes_on_exception_and_lets_it_through() -> None:
    snap = Snapshot(patchtargets)
    with pytest.raises(KeyError, match="inside"), sm.scope():
        sm.patch("patchtargets.CONSTANT", new=1).start()
        raise KeyError("inside")
    snap.assert_unchanged()


def test_scope_skips_what_was_already_stopped() -> None:
    snap = Snapshot(patchtargets)
    with sm.scope():
        p = sm.patch("patchtargets.CONSTANT", new=1)
        p.start()
        p.stop()
        patchtargets.CONSTANT = 7
    assert patchtargets.CONSTANT == 7
    patchtargets.CONSTANT = 42
    snap.assert_unchanged()


def test_nested_scopes_close_inner_first_and_outer_closes_inner_left_open() -> None:
    snap = Snapshot(patchtargets)
    with sm.scope():
        sm.patch("patchtargets.CONSTANT", new=1).start()
        with sm.scope():
            sm.patch("patchtargets.CONSTANT", new=2).start()
            assert patchtargets.CONSTANT == 2
        assert patchtargets.CONSTANT == 1
        inner = sm.scope()
        inner.start()
        sm.patch("patchtargets.CONSTANT", new=3).start()
        assert patchtargets.CONSTANT == 3
    snap.assert_unchanged()
    assert not inner.active


def test_scope_as_sync_and_async_decorator() -> None:
    snap = Snapshot(patchtargets)

    @sm.scope()
    def sync() -> int:
        sm.patch("patchtargets.CONSTANT", new=5).start()
        return patchtargets.CONSTANT

    @sm.scope()
    async def coro() -> int:
        sm.patch("patchtargets.CONSTANT", new=6).start()
        await asyncio.sleep(0)
        return patchtargets.CONSTANT

    assert sync() == 5
    snap.assert_unchanged()
    assert asyncio.run(coro()) == 6
    snap.assert_unchanged()


def test_scopes_of_concurrent_tasks_do_not_mix() -> None:
    async def task(value: int, gate: asyncio.Event, other: asyncio.Event) -> None:
        with sm.scope():
            sm.patch.dict("patchtargets.__dict__", {f"V{value}": value}).start()
            gate.set()
            await other.wait()
        assert f"V{value}" not in vars(patchtargets)

    async def main() -> None:
        first, second = asyncio.Event(), asyncio.Event()
        await asyncio.gather(task(1, first, second), task(2, second, first))

    snap = Snapshot(patchtargets)
    asyncio.run(main())
    snap.assert_unchanged()


def test_stopall_stops_newest_first_and_reports_every_failure() -> None:
    snap = Snapshot(patchtargets)
    sm.patch("patchtargets.CONSTANT", new=1).start()
    sm.patch("patchtargets.CONSTANT", new=2).start()
    sm.stopall()
    snap.assert_unchanged()


UNUSED = (
    "The patch of {!r} was never used: nothing called it or read an attribute of it, "
    "which usually means the code under test imports the name from somewhere else; patch "
    "it where it is looked up."
)


def test_stopall_reports_every_failed_stop_in_one_error() -> None:
    sm.patch("json.loads", require_use=True).start()
    sm.patch("json.dumps", require_use=True).start()
    with pytest.raises(sm.UndoError) as info:
        sm.stopall()
    assert info.value.steps == [
        "stopping the patch of 'json.dumps'",
        "stopping the patch of 'json.loads'",
    ]
    assert [str(error) for error in info.value.errors] == [
        UNUSED.format("json.dumps"),
        UNUSED.format("json.loads"),
    ]
    assert all(type(error) is sm.UnusedPatchError for error in info.value.errors)


def test_a_scope_reports_each_failed_stop_under_its_own_name() -> None:
    with pytest.raises(sm.UnusedPatchError) as alone, sm.scope():
        sm.patch("json.loads", require_use=True).start()
    assert str(alone.value) == UNUSED.format("json.loads")
    with pytest.raises(sm.UndoError) as info, sm.scope():
        sm.patch("json.loads", require_use=True).start()
        sm.patch("json.dumps", require_use=True).start()
    assert info.value.steps == [
        "stopping the patch of 'json.dumps'",
        "stopping the patch of 'json.loads'",
    ]
    assert [str(error) for error in info.value.errors] == [
        UNUSED.format("json.dumps"),
        UNUSED.format("json.loads"),
    ]


def test_a_scope_names_a_suspended_decorated_generator_by_its_decorator() -> None:
    @sm.patch("json.dumps", require_use=True)
    def steps(dumps: Any) -> Any:
        yield

    with pytest.raises(sm.UndoError) as info, sm.scope():
        sm.patch("json.loads", require_use=True).start()
        running = steps()
        next(running)
    assert info.value.steps == ["stopping decorator", "stopping the patch of 'json.loads'"]
    assert [str(error) for error in info.value.errors] == [
        UNUSED.format("json.dumps"),
        UNUSED.format("json.loads"),
    ]
    running.close()


def test_stopping_the_older_of_two_runs_leaves_the_object_inactive_at_the_end() -> None:
    original = json.dumps
    p = sm.patch("json.dumps")
    with p:
        p.start()
    # The with block ended its own run, not the start(): one run is still in force.
    assert p.active
    assert json.dumps is not original
    p.stop()
    assert not p.active
    assert json.dumps is original


def test_stop_ends_the_newest_start() -> None:
    p = sm.patch("json.dumps")
    first = p.start()
    p.start()
    p.stop()
    assert json.dumps is first
    p.stop()


def test_stopall_inside_a_decorated_function_leaves_the_decorator_its_run() -> None:
    @sm.patch("json.dumps")
    def body(dumps: Any) -> None:
        sm.stopall()
        assert json.dumps is dumps

    original = json.dumps
    body()
    assert json.dumps is original


def test_what_starts_after_a_scope_closed_belongs_to_the_outer_scope() -> None:
    # Two things ensure it (leaving the scope resets the current one, and a closed one is
    # skipped when read); breaking either alone changes nothing.
    with sm.scope():
        pass
    p = sm.patch("json.dumps")
    p.start()
    sm.stopall()
    assert not p.active


def test_a_scope_ends_a_decorated_generator_left_suspended_inside_it() -> None:
    @sm.patch("json.dumps")
    def steps(dumps: Any) -> Any:
        yield dumps

    original = json.dumps
    with sm.scope():
        running = steps()
        assert next(running) is json.dumps
    ended = json.dumps is original
    running.close()
    assert ended


def test_stop_when_not_active_names_the_patch() -> None:
    p = sm.patch("patchtargets.greet")
    with pytest.raises(sm.SaferemockError) as info:
        p.stop()
    assert str(info.value) == (
        "Cannot stop the patch of 'patchtargets.greet': it is not active; call start() first "
        "or stop it only once."
    )


def test_one_object_can_be_entered_twice_and_unwinds_lifo() -> None:
    p = sm.patch("patchtargets.CONSTANT", new=9)
    with p:
        with p:
            assert patchtargets.CONSTANT == 9
        assert patchtargets.CONSTANT == 9
        assert p.active
    assert patchtargets.CONSTANT == 42
    assert not p.active


def test_failing_apply_leaves_nothing_behind() -> None:
    snap = Snapshot(patchtargets)
    failing = sm.patch.dict("patchtargets.__dict__", {"A": 1, "B": 2})
    original = failing._values

    class Boom(dict):  # type: ignore[type-arg]
        def items(self) -> Any:
            yield ("A", 1)
            raise RuntimeError("half way")

    failing._values = Boom(original)
    with pytest.raises(RuntimeError, match="half way"):
        failing.start()
    snap.assert_unchanged()
    assert not failing.active


def test_scope_decorating_a_class() -> None:
    @sm.patch("patchtargets.CONSTANT", new=3)
    class Tests:
        def test_one(self) -> int:
            return patchtargets.CONSTANT

        def helper(self) -> int:
            return patchtargets.CONSTANT

    assert Tests().test_one() == 3
    assert Tests().helper() == 42


def test_decorating_a_non_callable_is_a_type_error() -> None:
    with pytest.raises(TypeError) as info:
        sm.scope()(42)  # type: ignore[call-overload]
    assert str(info.value) == (
        "saferemock.scope() can decorate a function, an async function, a generator or a class, not 42."
    )


def test_undo_failure_inside_decorator_is_raised() -> None:
    class Frozen:
        allowed = True

        def __setattr__(self, name: str, value: object) -> None:
            if not type(self).allowed:
                raise AttributeError(f"frozen: {name}")
            object.__setattr__(self, name, value)

    target = Frozen()
    target.value = 1  # type: ignore[attr-defined]

    @sm.patch.object(target, "value", new=2)
    def body() -> None:
        Frozen.allowed = False

    with pytest.raises(sm.UndoError, match=re.escape("AttributeError('frozen: value')")):
        body()
    Frozen.allowed = True
    assert target.value == 2  # type: ignore[attr-defined]


def test_unittest_mock_patches_are_not_ours() -> None:
    p = mock.patch("patchtargets.CONSTANT", 1)
    p.start()
    try:
        assert active_runs() == []
    finally:
        p.stop()


def test_stopall_leaves_with_blocks_to_their_own_exit() -> None:
    with sm.patch("patchtargets.CONSTANT", new=1):
        started = sm.patch("patchtargets.greet")
        started.start()
        sm.stopall()
        assert not started.active
        assert patchtargets.CONSTANT == 1
    assert patchtargets.CONSTANT == 42


def test_with_block_exit_is_quiet_when_a_scope_already_stopped_it() -> None:
    outer = sm.scope()
    outer.start()
    p = sm.patch("patchtargets.CONSTANT", new=1)
    with p:
        outer.stop()
        assert patchtargets.CONSTANT == 42
    assert not p.active


def test_a_with_block_entered_in_another_context_is_ended_by_its_exit() -> None:
    # An async fixture's setup and teardown can run in different tasks: the exit finds
    # no with block of its own context and ends the newest one this object entered
    # elsewhere, never a start() of it.
    p = sm.patch("patchtargets.CONSTANT")
    started = p.start()
    first = contextvars.copy_context().run(p.__enter__)
    second = contextvars.copy_context().run(p.__enter__)
    assert patchtargets.CONSTANT is second
    p.__exit__(None, None, None)
    assert patchtargets.CONSTANT is first
    p.__exit__(None, None, None)
    assert patchtargets.CONSTANT is started
    p.stop()
    assert patchtargets.CONSTANT == 42
    assert not p.active


def test_each_context_exits_its_own_with_blocks_even_out_of_order() -> None:
    # Two tasks entering the same two patch objects, each leaving the outer block while
    # its inner one is still open: every exit ends the run its own context entered.
    p = sm.patch("patchtargets.CONSTANT")
    q = sm.patch("patchtargets.greet")
    original = patchtargets.greet
    other = contextvars.copy_context()
    p.__enter__()
    theirs_p = other.run(p.__enter__)
    q.__enter__()
    theirs_q = other.run(q.__enter__)
    p.__exit__(None, None, None)
    assert patchtargets.CONSTANT is theirs_p
    q.__exit__(None, None, None)
    assert patchtargets.greet is theirs_q
    other.run(p.__exit__, None, None, None)
    other.run(q.__exit__, None, None, None)
    assert patchtargets.CONSTANT == 42
    assert patchtargets.greet is original
    assert not p.active
    assert not q.active


def test_a_scope_that_ended_is_not_kept_alive_by_its_context() -> None:
    ended = sm.scope()
    with ended:
        pass
    gone = weakref.ref(ended)
    del ended
    gc.collect()
    assert gone() is None
