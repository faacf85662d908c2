"""``sm.patch`` as a decorator of an ``async def``: in force from the first step to the end.

Creating the coroutine changes nothing; the patch is applied when the coroutine first
runs and undone when it returns, raises, is cancelled (asyncio and trio), is closed, or
is dropped half-way.  Each behaviour runs on asyncio and trio (anyio's plugin) and under
pytest-asyncio; the manual-stepping tests need no event loop at all.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import types
import warnings
from collections.abc import Callable, Coroutine, Generator
from typing import Any

import anyio
import pytest
import trio
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from statecheck import Snapshot

import saferemock as sm

TARGET = "tests_async_patch_target.clock"


def real_clock() -> float:
    return 0.0


async def real_fetch(key: str) -> str:
    raise AssertionError("the real function must not run in tests")


def make_target() -> types.ModuleType:
    module = types.ModuleType("tests_async_patch_target")
    module.clock = real_clock  # type: ignore[attr-defined]
    module.fetch = real_fetch  # type: ignore[attr-defined]
    return module


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def target() -> Any:
    module = make_target()
    modules = Snapshot(sys.modules)
    with sm.patch.dict(sys.modules, {module.__name__: module}):
        snapshot = Snapshot(module)
        yield module
        snapshot.assert_unchanged()
    modules.assert_unchanged()


class Fake:
    """A distinct stand-in per use, named in assertion messages."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<Fake {self.name}>"


# -- the checks, run on every backend ----------------------------------------------------


async def check_applied_from_first_step_to_end(target: Any) -> None:
    fake = Fake("A")
    seen = []

    @sm.patch(TARGET, new=fake)
    async def job() -> str:
        seen.append(target.clock)
        await anyio.sleep(0)
        seen.append(target.clock)
        return "done"

    coro = job()
    assert target.clock is real_clock, "creating the coroutine must change nothing"
    assert await coro == "done"
    assert seen == [fake, fake]
    assert target.clock is real_clock


async def check_undone_on_exception(target: Any) -> None:
    @sm.patch(TARGET, new=Fake("A"))
    async def job() -> None:
        await anyio.sleep(0)
        raise LookupError("inside")

    with pytest.raises(LookupError, match=r"^inside$"):
        await job()
    assert target.clock is real_clock


async def check_undone_on_cancellation(target: Any) -> None:
    fake = Fake("A")
    started = anyio.Event()
    finished = []

    @sm.patch(TARGET, new=fake)
    async def job() -> None:
        started.set()
        await anyio.sleep_forever()
        finished.append(True)  # pragma: no cover

    async with anyio.create_task_group() as group:
        group.start_soon(job)
        await started.wait()
        assert target.clock is fake
        group.cancel_scope.cancel()
    assert finished == []
    assert target.clock is real_clock


async def check_undone_on_timeout(target: Any) -> None:
    fake = Fake("A")
    inside = []

    @sm.patch(TARGET, new=fake)
    async def job() -> None:
        inside.append(target.clock)
        await anyio.sleep_forever()

    with anyio.move_on_after(0.01) as scope:
        await job()
    assert scope.cancelled_caught
    assert inside == [fake]
    assert target.clock is real_clock


async def check_concurrent_runs_unwind_in_any_order(target: Any) -> None:
    first, second = Fake("first"), Fake("second")
    both_in = anyio.Event()
    first_out = anyio.Event()
    first_in = anyio.Event()
    release_late = anyio.Event()

    @sm.patch(TARGET, new=first)
    async def early() -> None:
        first_in.set()
        await both_in.wait()

    @sm.patch(TARGET, new=second)
    async def late() -> None:
        both_in.set()
        await release_late.wait()

    async with anyio.create_task_group() as group:

        async def run_early() -> None:
            await early()
            first_out.set()

        group.start_soon(run_early)
        await first_in.wait()
        assert target.clock is first
        group.start_soon(late)
        await both_in.wait()
        assert target.clock is second
        await first_out.wait()
        # The earlier patch ended first: the later one is still in force.
        assert target.clock is second
        release_late.set()
    assert target.clock is real_clock


async def check_one_decorated_function_runs_concurrently(target: Any) -> None:
    fake = Fake("shared")
    release = anyio.Event()
    entered = []

    @sm.patch(TARGET, new=fake)
    async def job(number: int) -> None:
        entered.append(number)
        await release.wait()
        assert target.clock is fake

    async with anyio.create_task_group() as group:
        for number in range(3):
            group.start_soon(job, number)
        while len(entered) < 3:
            await anyio.sleep(0)
        release.set()
    assert sorted(entered) == [0, 1, 2]
    assert target.clock is real_clock


async def check_autospecced_mock_is_passed(target: Any) -> None:
    @sm.patch(TARGET, return_value=42.0)
    @sm.patch("tests_async_patch_target.fetch", return_value="cached")
    async def job(fetch: Any, clock: Any) -> tuple[float, str]:
        value = await target.fetch("k")
        return target.clock(), value

    assert await job() == (42.0, "cached")
    assert target.clock is real_clock
    assert target.fetch is real_fetch


CHECKS = [value for name, value in dict(globals()).items() if name.startswith("check_")]


@pytest.mark.anyio
@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
async def test_on_anyio_backends(
    check: Callable[[Any], Coroutine[Any, Any, None]], target: Any
) -> None:
    await check(target)


@pytest.mark.asyncio
@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
async def test_under_pytest_asyncio(
    check: Callable[[Any], Coroutine[Any, Any, None]], target: Any
) -> None:
    await check(target)


def test_every_check_is_collected() -> None:
    assert len(CHECKS) == 7


@pytest.mark.asyncio
async def test_asyncio_task_cancel(target: Any) -> None:
    fake = Fake("A")
    started = asyncio.Event()

    @sm.patch(TARGET, new=fake)
    async def job() -> None:
        started.set()
        await asyncio.sleep(3600)

    task = asyncio.ensure_future(job())
    await started.wait()
    assert target.clock is fake
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert target.clock is real_clock


def test_trio_nursery_cancel(target: Any) -> None:
    fake = Fake("A")
    seen = []

    @sm.patch(TARGET, new=fake)
    async def job(task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        seen.append(target.clock)
        await trio.sleep_forever()

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(job)
            seen.append(target.clock)
            nursery.cancel_scope.cancel()

    trio.run(main)
    assert seen == [fake, fake]
    assert target.clock is real_clock


# -- stepping by hand: closed, dropped, never started ------------------------------------------


class Suspend:
    """An awaitable that suspends once without any event loop."""

    def __await__(self) -> Generator[None, None, None]:
        yield


def test_never_started_changes_nothing_and_warns_nothing(target: Any) -> None:
    @sm.patch(TARGET, new=Fake("A"))
    async def job() -> None:
        raise AssertionError("must not run")  # pragma: no cover

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        coro = job()
        assert target.clock is real_clock
        coro.close()
        del coro
        gc.collect()
    assert caught == []
    assert target.clock is real_clock


def test_closed_half_way_is_undone(target: Any) -> None:
    fake = Fake("A")

    @sm.patch(TARGET, new=fake)
    async def job() -> None:
        await Suspend()
        raise AssertionError("must not resume")  # pragma: no cover

    coro = job()
    coro.send(None)
    assert target.clock is fake
    coro.close()
    assert target.clock is real_clock


def test_dropped_half_way_is_undone(target: Any) -> None:
    fake = Fake("A")

    @sm.patch(TARGET, new=fake)
    async def job() -> None:
        await Suspend()

    coro = job()
    coro.send(None)
    assert target.clock is fake
    del coro
    gc.collect()
    assert target.clock is real_clock


def test_cancelled_error_thrown_in_is_undone_and_propagates(target: Any) -> None:
    @sm.patch(TARGET, new=Fake("A"))
    async def job() -> None:
        await Suspend()

    coro = job()
    coro.send(None)
    with pytest.raises(asyncio.CancelledError):
        coro.throw(asyncio.CancelledError())
    assert target.clock is real_clock


def test_a_failing_target_at_first_step_leaves_nothing(target: Any) -> None:
    @sm.patch(TARGET, new=Fake("A"))
    @sm.patch("tests_async_patch_target.clokc", new=Fake("B"))
    async def job() -> None:
        raise AssertionError("must not run")  # pragma: no cover

    coro = job()
    with pytest.raises(sm.TargetAttributeError) as info:
        coro.send(None)
    assert str(info.value) == (
        "module 'tests_async_patch_target' has no attribute 'clokc'; did you mean 'clock'? "
        "Pass create=True to add it."
    )
    assert target.clock is real_clock


# -- a state machine over interleaved coroutines ------------------------------------------------


class InterleavedCoroutines(RuleBasedStateMachine):
    """Start, resume, cancel, close and drop decorated coroutines in any order.

    Model: the patched slot holds the fake of the most recently started coroutine still
    running (the undo engine unwinds stacked patches right in any order), and the
    original when none runs.
    """

    def __init__(self) -> None:
        super().__init__()
        self.module = make_target()
        self.snapshot = Snapshot(self.module)
        self.created: list[tuple[Fake, Coroutine[Any, Any, None]]] = []
        self.running: list[tuple[Fake, Coroutine[Any, Any, None]]] = []
        self.stack: list[Fake] = []
        self.counter = 0

    def _take(self, pool: list[Any], index: int) -> Any:
        return pool.pop(index % len(pool))

    @rule(steps=st.integers(min_value=1, max_value=3))
    def create(self, steps: int) -> None:
        self.counter += 1
        fake = Fake(str(self.counter))

        @sm.patch.object(self.module, "clock", new=fake)
        async def job() -> None:
            for _ in range(steps):
                await Suspend()

        self.created.append((fake, job()))

    @precondition(lambda self: self.created)
    @rule(index=st.integers(min_value=0, max_value=9))
    def start(self, index: int) -> None:
        fake, coro = self._take(self.created, index)
        coro.send(None)
        self.stack.append(fake)
        self.running.append((fake, coro))

    @precondition(lambda self: self.created)
    @rule(index=st.integers(min_value=0, max_value=9))
    def close_unstarted(self, index: int) -> None:
        self._take(self.created, index)[1].close()

    @precondition(lambda self: self.running)
    @rule(index=st.integers(min_value=0, max_value=9))
    def resume(self, index: int) -> None:
        fake, coro = self.running[index % len(self.running)]
        try:
            coro.send(None)
        except StopIteration:
            self.running.remove((fake, coro))
            self.stack.remove(fake)

    @precondition(lambda self: self.running)
    @rule(index=st.integers(min_value=0, max_value=9))
    def cancel(self, index: int) -> None:
        fake, coro = self._take(self.running, index)
        with pytest.raises(asyncio.CancelledError):
            coro.throw(asyncio.CancelledError())
        self.stack.remove(fake)

    @precondition(lambda self: self.running)
    @rule(index=st.integers(min_value=0, max_value=9))
    def close(self, index: int) -> None:
        fake, coro = self._take(self.running, index)
        coro.close()
        self.stack.remove(fake)

    @precondition(lambda self: self.running)
    @rule(index=st.integers(min_value=0, max_value=9))
    def drop(self, index: int) -> None:
        fake, _ = self._take(self.running, index)
        # The last reference is gone: the coroutine's finalizer closes it right away.
        self.stack.remove(fake)

    @invariant()
    def slot_holds_the_newest_running_fake(self) -> None:
        expected = self.stack[-1] if self.stack else real_clock
        assert self.module.clock is expected

    def teardown(self) -> None:
        for _, coro in self.running + self.created:
            coro.close()
        assert self.module.clock is real_clock
        self.snapshot.assert_unchanged()


TestInterleavedCoroutines = InterleavedCoroutines.TestCase
TestInterleavedCoroutines.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None
)


# -- pytest plugins: decorated async tests ---------------------------------------------------------

INI = """
[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
"""


def test_decorated_async_tests_run_under_both_plugins(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        """
        import json
        import pytest
        import saferemock as sm

        FAKE = object()

        @pytest.fixture(params=["asyncio", "trio"])
        def anyio_backend(request):
            return request.param

        @pytest.mark.anyio
        @sm.patch("json.dumps", new=FAKE)
        async def test_anyio():
            assert json.dumps is FAKE

        @pytest.mark.asyncio
        @sm.patch("json.dumps", new=FAKE)
        async def test_pytest_asyncio():
            assert json.dumps is FAKE

        def test_after():
            assert json.dumps is not FAKE
        """
    )
    result = pytester.runpytest_inprocess("-W", "error", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_decorated_async_tests_receive_the_mock(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        """
        import json
        import pytest
        import saferemock as sm

        @pytest.mark.asyncio
        @sm.patch("json.dumps", return_value="{}")
        async def test_pytest_asyncio(dumps):
            assert json.dumps({}) == "{}"
            dumps.assert_called_once_with({})
        """
    )
    result = pytester.runpytest_inprocess("-W", "error", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
