"""The rule: when an activation ends, every slot it changed has its prior value again.

In any order, after any exception (``BaseException`` included), in any thread or task,
next to ``unittest.mock``, ``monkeypatch`` and pytest-mock, unless a still-active
activation holds a later change of the slot.  Each test here is a case where saferemock
once restored less than the ``unittest.mock`` it wraps.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import json.decoder
import os
import sys
import threading
import types
from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest import mock

import pytest
from patchtargets import Meta
from statecheck import Snapshot, active_runs, engine_is_idle

import saferemock as sm


@pytest.fixture(autouse=True)
def _idle() -> Iterator[None]:
    yield
    assert engine_is_idle()


# -- patch.dict has unittest.mock.patch.dict's semantics ------------------------------------


def test_patch_dict_of_os_environ_restores_the_whole_mapping() -> None:
    snapshot = Snapshot(os.environ)
    with sm.patch.dict(os.environ, {"APP_MODE": "test"}):
        os.environ["ADDED_INSIDE"] = "1"
        os.environ["APP_MODE"] = "changed inside"
    assert "ADDED_INSIDE" not in os.environ
    snapshot.assert_unchanged()


def test_patch_dict_of_sys_modules_forgets_modules_imported_inside(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dictpkg").mkdir()
    (tmp_path / "dictpkg" / "__init__.py").write_text("")
    (tmp_path / "dictpkg" / "sub.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    package = importlib.import_module("dictpkg")
    snapshot = Snapshot(sys.modules, package)
    with sm.patch.dict(sys.modules):
        sub = importlib.import_module("dictpkg.sub")
        assert vars(package)["sub"] is sub
    # Out of sys.modules, and off its package too (unittest.mock leaves that stale).
    snapshot.assert_unchanged()
    del sys.modules["dictpkg"]


def test_patch_dict_clear_values_as_pairs_and_a_dotted_target() -> None:
    data = {"kept": 1, "cleared": 2}
    module = types.ModuleType("dict_owner")
    module.CONFIG = data  # type: ignore[attr-defined]
    sys.modules["dict_owner"] = module
    try:
        with sm.patch.dict("dict_owner.CONFIG", [("new", 3)], clear=True) as same:
            assert same is data
            assert data == {"new": 3}
        assert data == {"kept": 1, "cleared": 2}
    finally:
        del sys.modules["dict_owner"]


def test_patch_dict_composes_with_other_activations_on_the_same_keys() -> None:
    data: dict[str, object] = {"x": "x0"}
    first = sm.patch.dict(data, {"x": "x1"})
    second = sm.patch.dict(data, {"y": "y2"})
    first.start()
    second.start()
    first.stop()  # out of order: second still holds y, and nobody holds x any more
    assert data == {"x": "x0", "y": "y2"}
    second.stop()
    assert data == {"x": "x0"}


def test_patch_dict_ended_under_a_later_key_patch_leaves_that_key_alone() -> None:
    data: dict[str, object] = {}
    whole = sm.patch.dict(data)
    whole.start()
    key = sm.patch.dict(data, {"k": "v"})
    key.start()
    whole.stop()
    assert data == {"k": "v"}
    key.stop()
    assert data == {}


# -- what the code under test wrote is discarded ---------------------------------------------


def test_a_value_written_into_a_patched_slot_is_discarded() -> None:
    settings = types.SimpleNamespace(FEATURE="off")
    with sm.patch.object(settings, "FEATURE", "beta"):
        settings.FEATURE = "on"
    assert settings.FEATURE == "off"


def test_stacked_changes_with_a_write_in_between_unwind_to_the_original() -> None:
    settings = types.SimpleNamespace(FEATURE="off")
    outer = sm.patch.object(settings, "FEATURE", "outer")
    inner = sm.patch.object(settings, "FEATURE", "inner")
    outer.start()
    inner.start()
    settings.FEATURE = "written"
    inner.stop()
    assert settings.FEATURE == "outer"
    outer.stop()
    assert settings.FEATURE == "off"


# -- foreign patchers that unwind out of order ----------------------------------------------


def test_a_foreign_patch_started_later_is_handed_the_original() -> None:
    original = json.dumps
    ours = sm.patch("json.dumps")
    ours.start()
    theirs = mock.patch("json.dumps")
    foreign = theirs.start()
    ours.stop()
    assert json.dumps is foreign  # theirs is still active
    theirs.stop()
    assert json.dumps is original


def test_a_foreign_patch_started_earlier_and_stopped_first_keeps_its_original() -> None:
    original = json.dumps
    theirs = mock.patch("json.dumps")
    theirs.start()
    ours = sm.patch("json.dumps")
    ours.start()
    theirs.stop()
    ours.stop()
    # Our prior value was their mock, dead by now: the original they put back stays.
    assert json.dumps is original


def test_a_foreign_patch_dict_started_later_is_handed_the_original() -> None:
    with sm.patch.dict(os.environ, {"HANDED": "ours"}):
        theirs = mock.patch.dict(os.environ, {"OTHER": "1"})
        theirs.start()
    assert os.environ["OTHER"] == "1"  # theirs still active
    theirs.stop()
    assert "HANDED" not in os.environ
    assert "OTHER" not in os.environ


def test_monkeypatch_is_handed_the_original(monkeypatch: pytest.MonkeyPatch) -> None:
    from saferemock._foreign import watch

    watch(monkeypatch)  # the plugin does this for the monkeypatch fixture
    settings = types.SimpleNamespace(FEATURE="off")
    with sm.patch.object(settings, "FEATURE", "ours"):
        monkeypatch.setattr(settings, "FEATURE", "theirs")
    assert settings.FEATURE == "theirs"
    monkeypatch.undo()
    assert settings.FEATURE == "off"


def test_monkeypatch_is_handed_an_absent_attribute(monkeypatch: pytest.MonkeyPatch) -> None:
    from saferemock._foreign import watch

    watch(monkeypatch)
    settings = types.SimpleNamespace()
    with sm.patch.object(settings, "FEATURE", "ours", create=True):
        monkeypatch.setattr(settings, "FEATURE", "theirs")
    monkeypatch.undo()
    assert not hasattr(settings, "FEATURE")


def test_an_invisible_foreign_patch_that_puts_a_dead_value_back_is_repaired() -> None:
    from saferemock._undo import drain_repairs

    drain_repairs()
    original = json.dumps
    ours = sm.patch("json.dumps")
    mocked = ours.start()
    with mock.patch("json.dumps"):  # a with block: unittest.mock lists it nowhere
        ours.stop()
        assert json.dumps is original  # as unittest.mock would: ours wrote its prior
    # The with block put back what it saw, our dead mock: the repair pass notices.
    assert json.dumps is mocked
    (repair,) = drain_repairs()
    assert json.dumps is original
    assert repair.describe() == "module 'json' attribute 'dumps'"
    assert repair.dead is mocked
    assert repair.restored is original


MOCKER_SUITE = """
import json

ORIGINAL = json.dumps

def test_both_patch_json_dumps({fixtures}):
    {body}

def test_json_dumps_is_real_again():
    assert json.dumps is ORIGINAL
"""


@pytest.mark.parametrize("order", ["mocker,safemock", "safemock,mocker"])
@pytest.mark.parametrize(
    "body",
    [
        "safemock.patch('json.dumps'); mocker.patch('json.dumps')",
        "mocker.patch('json.dumps'); safemock.patch('json.dumps')",
    ],
)
def test_mocker_and_safemock_on_one_target_unwind_in_any_order(
    pytester: pytest.Pytester, order: str, body: str
) -> None:
    # The fixture order decides which tool unwinds first at teardown.
    pytester.makepyfile(MOCKER_SUITE.format(fixtures=order.replace(",", ", "), body=body))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=2)


# -- stopall stops only what start() began and nothing else owns ------------------------------


def test_stopall_leaves_fixtures_ini_fakes_and_markers_alone(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nsaferemock_fake_modules = inifake\n")
    pytester.makepyfile(
        """
        import json
        import pytest
        import saferemock as sm

        ORIGINAL = json.dumps

        @pytest.fixture(scope="module")
        def fakes(module_safemock):
            module_safemock.fake_module_tree(["modfake"])

        @pytest.mark.fake_modules("markfake")
        def test_addcleanup_stopall_idiom(fakes):
            started = sm.patch("json.dumps").start()
            sm.stopall()
            assert json.dumps is ORIGINAL
            import inifake, modfake, markfake

        def test_later_tests_still_have_the_fakes(fakes):
            import inifake, modfake
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=2)


def test_stopall_inside_a_decorated_function_leaves_the_decorator_alone() -> None:
    @sm.patch("json.dumps")
    def body(dumps: Any) -> bool:
        sm.stopall()
        return json.dumps is dumps

    assert body()


# -- generators and yield fixtures ------------------------------------------------------------

TARGET = types.SimpleNamespace(value="original")


def test_a_decorated_generator_is_patched_for_its_whole_life() -> None:
    @sm.patch.object(TARGET, "value", "patched")
    def values() -> Iterator[str]:
        yield TARGET.value
        yield TARGET.value

    first = values()
    assert TARGET.value == "original"  # nothing happens until the first next()
    assert next(first) == "patched"
    assert TARGET.value == "patched"  # still in force while suspended
    second = values()
    assert next(second) == "patched"
    first.close()
    assert TARGET.value == "patched"  # the second generator still holds it
    assert list(second) == ["patched"]
    assert TARGET.value == "original"


def test_a_decorated_generator_passes_the_mock_and_undoes_on_an_exception() -> None:
    @sm.patch("json.dumps")
    def failing(dumps: Any) -> Iterator[Any]:
        yield dumps
        raise KeyError("inside")

    generator = failing()
    assert next(generator) is json.dumps
    with pytest.raises(KeyError):
        next(generator)
    assert json.dumps.__module__ == "json"


def test_a_decorated_async_generator_is_patched_for_its_whole_life() -> None:
    @sm.patch.object(TARGET, "value", "patched")
    async def values() -> AsyncIterator[str]:
        received = yield TARGET.value
        yield f"{TARGET.value} {received}"

    async def main() -> list[str]:
        generator = values()
        seen = [await generator.__anext__(), await generator.asend("sent")]
        assert TARGET.value == "patched"
        await generator.aclose()
        assert TARGET.value == "original"
        return seen

    assert asyncio.run(main()) == ["patched", "patched sent"]
    assert TARGET.value == "original"


def test_an_async_generator_throw_reaches_the_inner_generator() -> None:
    @sm.patch.object(TARGET, "value", "patched")
    async def catching() -> AsyncIterator[str]:
        try:
            yield "first"
        except ValueError:
            yield f"caught while {TARGET.value}"

    async def main() -> str:
        generator = catching()
        await generator.__anext__()
        caught = await generator.athrow(ValueError)
        await generator.aclose()
        return caught

    assert asyncio.run(main()) == "caught while patched"
    assert TARGET.value == "original"


def test_a_decorated_yield_fixture_keeps_the_patch_until_teardown(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import json
        import pytest
        import saferemock as sm

        ORIGINAL = json.dumps

        @pytest.fixture
        @sm.patch("json.dumps", return_value="{}")
        def dumps(mocked):
            yield mocked
            assert json.dumps is mocked

        def test_uses_it(dumps):
            assert json.dumps({"a": 1}) == "{}"
            dumps.assert_called_once_with({"a": 1})

        def test_after():
            assert json.dumps is ORIGINAL
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=2)


# -- fresh_import keeps shared dependencies --------------------------------------------------


def test_fresh_import_keeps_a_shared_dependency_and_its_registrations(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = pytester.mkpydir("registrypkg")
    (package / "registry.py").write_text(
        "SEEN = []\n"
        "class Model:\n"
        "    def __init_subclass__(cls):\n"
        "        if cls.__name__ in SEEN:\n"
        "            raise RuntimeError(f'{cls.__name__} registered twice')\n"
        "        SEEN.append(cls.__name__)\n"
    )
    (package / "mixins.py").write_text(
        "from registrypkg.registry import Model\nclass Timestamped(Model):\n    pass\n"
    )
    (package / "models.py").write_text(
        "from registrypkg.mixins import Timestamped\ndef make():\n    return Timestamped()\n"
    )
    monkeypatch.syspath_prepend(str(pytester.path))
    import registrypkg.registry as registry

    with sm.fresh_import("registrypkg.models") as models:
        made = models.make()
    # mixins was first imported with the target but holds nothing from the controlled
    # world: it keeps its identity, so the object made inside is an instance of a live
    # class, and importing the module again registers nothing twice.
    assert "registrypkg.models" not in sys.modules
    mixins = sys.modules["registrypkg.mixins"]
    assert type(made) is mixins.Timestamped
    importlib.import_module("registrypkg.models")
    assert registry.SEEN == ["Timestamped"]
    for key in ["registrypkg.models", "registrypkg.mixins", "registrypkg.registry", "registrypkg"]:
        del sys.modules[key]


# -- sys.modules primitives stopped out of order --------------------------------------------


@pytest.mark.parametrize("stop_tree_first", [True, False])
def test_fake_json_and_fresh_json_stopped_in_any_order_keep_json_whole(
    stop_tree_first: bool,
) -> None:
    snapshot = Snapshot(sys.modules, json)
    tree = sm.fake_module_tree(["json"])
    fresh = sm.fresh_import("json")
    tree.start()
    fresh.start()
    for activation in (tree, fresh) if stop_tree_first else (fresh, tree):
        activation.stop()
    snapshot.assert_unchanged()
    assert json.decoder.JSONDecodeError is json.JSONDecodeError


# -- threads and tasks -------------------------------------------------------------------------


def test_one_patch_object_in_two_tasks_gets_one_run_per_task() -> None:
    target = types.SimpleNamespace(value="original")
    patcher = sm.patch.object(target, "value", "patched")
    entered = asyncio.Event()
    log: list[str] = []

    async def task(name: str, wait: bool) -> None:
        with patcher:
            if wait:
                entered.set()
                await asyncio.sleep(0.01)
            else:
                await entered.wait()
            log.append(f"{name} exits")
        log.append(f"{name} exited while {target.value}")

    async def main() -> None:
        await asyncio.gather(task("slow", True), task("fast", False))

    asyncio.run(main())
    # The fast task's exit ended its own run only: the slow one still had the patch.
    assert log == [
        "fast exits",
        "fast exited while patched",
        "slow exits",
        "slow exited while original",
    ]
    assert target.value == "original"
    assert active_runs() == []


def one_stress_trial() -> tuple[str, list[BaseException]]:
    """Four threads patch one slot 300 times each; half share one patch object."""
    target = types.SimpleNamespace(slot="original")
    shared = sm.patch.object(target, "slot", "shared")
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work(index: int) -> None:
        barrier.wait()
        try:
            for step in range(300):
                if index % 2:
                    with shared:
                        pass
                else:
                    with sm.patch.object(target, "slot", f"{index}-{step}"):
                        pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return target.slot, errors


def test_threads_patching_one_slot_always_end_with_the_original() -> None:
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        results = [one_stress_trial() for _ in range(100)]
    finally:
        sys.setswitchinterval(switch)
    assert results == [("original", [])] * 100


# -- descriptors on the metaclass and type attributes -------------------------------------------


class Configured(metaclass=Meta):
    """The documented class."""


def test_a_metaclass_data_descriptor_is_restored() -> None:
    # Through the setter, both ways (unittest.mock's delattr fails on this property).
    with sm.patch.object(Configured, "level", "patched"):
        assert Configured.level == "patched"
    assert Configured.level == "meta"


@pytest.mark.parametrize(
    ("name", "value"), [("__name__", "Renamed"), ("__qualname__", "Re.named"), ("__doc__", "new")]
)
def test_type_attributes_are_restored(name: str, value: str) -> None:
    before = getattr(Configured, name)
    with sm.patch.object(Configured, name, value):
        assert getattr(Configured, name) == value
    assert getattr(Configured, name) == before


# -- a BaseException in one undo step --------------------------------------------------------


class Interrupting:
    """An object whose attribute deletion raises KeyboardInterrupt once."""

    armed = True

    def __delattr__(self, name: str) -> None:
        if Interrupting.armed:
            Interrupting.armed = False
            raise KeyboardInterrupt
        object.__delattr__(self, name)


def test_a_keyboard_interrupt_in_one_step_still_runs_the_rest_then_propagates() -> None:
    interrupting = Interrupting()
    settings = types.SimpleNamespace(FEATURE="off")
    safemock = sm.SafeMock()
    safemock.patch.object(settings, "FEATURE", "on")
    safemock.patch.object(interrupting, "added", 1, create=True)
    with pytest.raises(KeyboardInterrupt):
        safemock.close()
    # The step before the interrupt's ran, and nothing is left for stopall or the guard.
    assert settings.FEATURE == "off"
    assert active_runs() == []
    object.__delattr__(interrupting, "added")
