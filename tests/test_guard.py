"""The pollution guard on its own (no pytest plugin): what it finds, whom it blames, what it undoes.

Each test makes a raw change the way a careless test would, runs a checkpoint, and asserts
the exact report line.  Raw changes go through ``monkeypatch`` (so the outer run is clean
even when the guard under test is in warn mode) and ``sys.modules`` is snapshotted by the
``world`` fixture.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.machinery
import json
import os
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from statecheck import Snapshot, active_runs, stacked_on

import saferemock as sm
from saferemock._guard import Culprit, Guard, Leak, allow_matches, iter_leak_lines
from saferemock._locate import locate

TEST: Callable[[], Culprit] = lambda: Culprit("test", "test_x.py::test_it")  # noqa: E731

APP = {
    "guardapp/__init__.py": "",
    "guardapp/client.py": """\
        class Client:
            retries = 3

        session = None
        """,
    "guardapp/fakes.py": """\
        from unittest.mock import MagicMock

        FAKE = MagicMock()

        class Doubles:
            CLIENT = MagicMock()
        """,
    "guardapp/plain.py": """\
        class Service:
            pass

        value = 1
        """,
    "guardapp/uses_sdk.py": "import cloudsdk\n",
    "guardapp/innocent.py": "import json\n",
    "test_helpers_leak.py": "import guardapp.client\nguardapp.client.session = 1\n",
}


@pytest.fixture
def world() -> Iterator[None]:
    """Put sys.modules back exactly after the test, whatever the guard under test did."""
    snapshot = Snapshot(sys.modules)
    with mock.patch.dict(sys.modules):
        yield
    snapshot.assert_unchanged()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, world: None) -> Path:
    for name, text in APP.items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


ACTIVE_PATCHES: list[object] = mock._patch._active_patches  # type: ignore[attr-defined]


GUARDS: list[Guard] = []


@pytest.fixture(autouse=True)
def _close_guards() -> Iterator[None]:
    # A guard hooks the import system and mock creation until it is closed.
    yield
    while GUARDS:
        GUARDS.pop().close()


def make_guard(root: Path, *, strict: bool = False) -> Guard:
    guard = Guard(
        str(root),
        strict=strict,
        is_test_file=lambda path: os.path.basename(path).startswith("test_"),
    )
    guard.current = TEST()  # as the plugin sets it while the test runs
    GUARDS.append(guard)
    return guard


def lines(leaks: list[Leak]) -> list[str]:
    return [leak.report_line() for leak in leaks]


FAKE_FIX = (
    "use safemock.fake_module_tree(['cloudsdk']) (or @pytest.mark.fake_modules('cloudsdk')) "
    "instead, undone at teardown"
)


class Lazy:
    pass


# -- sys.modules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "what", "fix"),
    [
        (mock.MagicMock(), "is a MagicMock", FAKE_FIX),
        (mock.NonCallableMagicMock(spec=types.ModuleType), "is a NonCallableMagicMock", FAKE_FIX),
        (types.ModuleType("cloudsdk"), "is a hand-made module object (no __spec__)", FAKE_FIX),
        (Lazy(), "is a Lazy object, not a module", FAKE_FIX),
        (None, "is None", "use safemock.block_modules('cloudsdk') instead, undone at teardown"),
    ],
    ids=["mock", "spec-mock", "hand-made", "object", "none"],
)
def test_sys_modules_items_the_import_system_did_not_make_are_leaks(
    project: Path, monkeypatch: pytest.MonkeyPatch, value: object, what: str, fix: str
) -> None:
    guard = make_guard(project)
    monkeypatch.setitem(sys.modules, "cloudsdk", value)
    assert lines(guard.checkpoint(TEST)) == [
        f"test_x.py::test_it: sys.modules['cloudsdk'] {what}; {fix}"
    ]


def test_real_imports_removals_and_restored_items_are_not_leaks(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = make_guard(project)
    # A script's __main__ has no spec (an xdist worker's, say); multiprocessing aliases it.
    script = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", script)
    monkeypatch.setitem(sys.modules, "__mp_main__", script)
    importlib.import_module("guardapp.plain")
    monkeypatch.setitem(sys.modules, "json", mock.MagicMock())
    monkeypatch.setitem(sys.modules, "json", json)
    monkeypatch.delitem(sys.modules, "guardapp.innocent", raising=False)
    del sys.modules["guardapp.plain"]
    assert guard.checkpoint(TEST) == []


def test_warn_mode_accepts_what_it_reported_so_the_next_culprit_is_not_blamed(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = make_guard(project)
    fake = mock.MagicMock()
    monkeypatch.setitem(sys.modules, "cloudsdk", fake)
    assert len(guard.checkpoint(TEST)) == 1
    assert sys.modules["cloudsdk"] is fake
    assert guard.checkpoint(lambda: Culprit("test", "test_x.py::test_next")) == []


def test_collection_leaks_name_the_file_and_the_line(project: Path) -> None:
    source = project / "test_engine.py"
    source.write_text(
        "import sys\nfrom unittest.mock import MagicMock\n\n"
        "sys.modules['json'] = sys.modules['json']\nsys.modules['cloudsdk'] = MagicMock()\n"
    )
    guard = make_guard(project)
    sys.modules["cloudsdk"] = mock.MagicMock()
    culprit = Culprit("collection", "test_engine.py", path=str(source), relpath="test_engine.py")
    assert lines(guard.checkpoint(lambda: culprit)) == [
        "test_engine.py:5 (collection): sys.modules['cloudsdk'] is a MagicMock; list cloudsdk "
        "in the saferemock_fake_modules ini option for a session-wide fake, or use "
        "safemock.fake_module_tree(['cloudsdk']) in a fixture"
    ]


def test_strict_mode_restores_and_evicts_modules_that_captured_the_fake(project: Path) -> None:
    guard = make_guard(project, strict=True)
    before = Snapshot(sys.modules)
    sys.modules["cloudsdk"] = fake = mock.MagicMock()
    holder = importlib.import_module("guardapp.uses_sdk")
    innocent = importlib.import_module("guardapp.innocent")
    assert holder.cloudsdk is fake
    leaks = guard.checkpoint(TEST)
    assert [leak.subject for leak in leaks] == ["sys.modules['cloudsdk']"]
    assert "cloudsdk" not in sys.modules
    assert "guardapp.uses_sdk" not in sys.modules
    assert not hasattr(sys.modules["guardapp"], "uses_sdk")
    assert sys.modules["guardapp.innocent"] is innocent
    assert sorted(before.diff()) == [
        "dict: 'guardapp' was added",
        "dict: 'guardapp.innocent' was added",
    ]
    assert not stacked_on(sys.modules)
    assert guard.checkpoint(TEST) == []


def test_a_package_attribute_out_of_step_with_sys_modules_is_a_leak(project: Path) -> None:
    guard = make_guard(project)
    old = importlib.import_module("guardapp.client")
    guard.checkpoint(TEST)
    with mock.patch.dict(sys.modules):
        del sys.modules["guardapp.client"]
        new = importlib.import_module("guardapp.client")
    assert sys.modules["guardapp.client"] is old
    assert sys.modules["guardapp"].client is new
    assert lines(guard.checkpoint(TEST)) == [
        "test_x.py::test_it: guardapp.client is not sys.modules['guardapp.client'] (the "
        "package attribute is the module 'guardapp.client'); use "
        "safemock.fresh_import('guardapp.client') to import a fresh copy for one test"
    ]


def test_modules_a_library_registers_while_it_is_imported_are_not_leaks(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What Cython (cython_runtime), cffi (_openssl.lib) and xml.parsers.expat (pyexpat's
    # submodules under its own name) do while they are imported; and a module that puts
    # a wrapper in its own place (cryptography's deprecated modules).
    site = tmp_path_factory.mktemp("lib") / "site-packages"
    (site / "bookkeeper").mkdir(parents=True)
    (site / "bookkeeper" / "__init__.py").write_text(
        "import sys, types\n"
        "sys.modules['bookkeeper_runtime'] = types.ModuleType('bookkeeper_runtime')\n"
        "from bookkeeper import wrapped\n"
    )
    (site / "bookkeeper" / "wrapped.py").write_text(
        "import sys\n"
        "class Wrapper:\n"
        "    def __init__(self, module):\n"
        "        self.module = module\n"
        "sys.modules[__name__] = Wrapper(sys.modules[__name__])\n"
    )
    monkeypatch.syspath_prepend(str(site))
    guard = make_guard(project)
    importlib.import_module("bookkeeper")
    assert guard.checkpoint(TEST) == []
    # The same thing done by a test is a leak.
    monkeypatch.setitem(sys.modules, "hand_made", types.ModuleType("hand_made"))
    assert [leak.subject for leak in guard.checkpoint(TEST)] == ["sys.modules['hand_made']"]


# -- builtins and os.environ ---------------------------------------------------------------


def test_builtins_changed_added_and_removed(project: Path) -> None:
    guard = make_guard(project)
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(builtins, "input", mock.MagicMock())
    monkeypatch.setattr(builtins, "helper", "x", raising=False)
    monkeypatch.delattr(builtins, "ascii")
    monkeypatch.setattr(builtins, "_", 42, raising=False)
    assert sorted(lines(guard.checkpoint(TEST))) == [
        "test_x.py::test_it: builtins.ascii was removed; delete it with "
        "monkeypatch.delattr(builtins, 'ascii') instead",
        "test_x.py::test_it: builtins.helper was added ('x'); add it with "
        "safemock.patch.object(builtins, 'helper', value, create=True) instead",
        "test_x.py::test_it: builtins.input is a MagicMock; use "
        "safemock.patch_builtin('input', ...) instead",
    ]
    monkeypatch.undo()
    assert guard.checkpoint(TEST) == []


class _Console:
    def show(self) -> None:
        pass


def test_a_method_bound_again_to_the_same_object_is_the_same_value(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each read of console.show makes a new bound method: code that puts it back after a
    # pause (pyfakefs does, between tests) changes nothing.
    console, other = _Console(), _Console()
    monkeypatch.setattr(builtins, "show", console.show, raising=False)
    guard = make_guard(project)
    monkeypatch.setattr(builtins, "show", console.show)
    monkeypatch.setattr(builtins, "shown", 1, raising=False)  # so builtins differ at all
    assert lines(guard.checkpoint(TEST)) == [
        "test_x.py::test_it: builtins.shown was added (1); add it with "
        "safemock.patch.object(builtins, 'shown', value, create=True) instead"
    ]
    monkeypatch.setattr(builtins, "show", other.show)
    assert lines(guard.checkpoint(TEST)) == [
        "test_x.py::test_it: builtins.show is a method object; use "
        "safemock.patch_builtin('show', ...) instead"
    ]


def test_a_copy_of_a_path_already_searched_is_no_sys_path_change(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pytest puts a copy of the rootdir back in front when it imports a package again.
    monkeypatch.setattr(sys, "path", [*sys.path])  # this test's own sys.path
    guard = make_guard(project)
    searched = sys.path[-1]
    copy = "".join(list(searched))
    assert copy == searched
    assert copy is not searched
    sys.path.insert(0, copy)
    assert guard.checkpoint(TEST) == []
    sys.path.remove(copy)
    assert guard.checkpoint(TEST) == []
    sys.path.insert(0, "/nowhere/else")
    assert lines(guard.checkpoint(TEST)) == [
        "test_x.py::test_it: '/nowhere/else' was added to sys.path; use "
        "monkeypatch.syspath_prepend(...) instead"
    ]


def test_environment_changes_are_leaks_except_in_conftests(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARD_CHANGED", "old")
    monkeypatch.setenv("GUARD_REMOVED", "here")
    guard = make_guard(project)
    monkeypatch.setenv("GUARD_SET", "test")
    monkeypatch.setenv("GUARD_CHANGED", "new")
    monkeypatch.delenv("GUARD_REMOVED")
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "ignored")
    assert sorted(lines(guard.checkpoint(TEST))) == [
        "test_x.py::test_it: os.environ['GUARD_CHANGED'] was changed to 'new'; use "
        "safemock.patch.dict(os.environ, {'GUARD_CHANGED': ...}) or "
        "monkeypatch.setenv('GUARD_CHANGED', ...) instead",
        "test_x.py::test_it: os.environ['GUARD_REMOVED'] was removed; use "
        "monkeypatch.delenv('GUARD_REMOVED') instead",
        "test_x.py::test_it: os.environ['GUARD_SET'] was set to 'test'; use "
        "safemock.patch.dict(os.environ, {'GUARD_SET': ...}) or "
        "monkeypatch.setenv('GUARD_SET', ...) instead",
    ]
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "settings")
    assert guard.checkpoint(lambda: Culprit("conftest", "conftest.py")) == []


def test_strict_mode_restores_builtins_and_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARD_KEPT", "1")
    guard = make_guard(project, strict=True)
    state = Snapshot(vars(builtins), os.environ)
    builtins.input = mock.MagicMock()
    builtins.helper = 1  # type: ignore[attr-defined]
    os.environ["GUARD_SET"] = "x"
    del os.environ["GUARD_KEPT"]
    assert len(guard.checkpoint(TEST)) == 4
    state.assert_unchanged()
    assert not stacked_on(builtins, os.environ)


# -- patches started and never stopped -----------------------------------------------------


def test_a_unittest_patch_never_stopped_is_one_leak_and_strict_stops_it(project: Path) -> None:
    # pytest-mock keeps patches of its own for the whole session.
    session_patches = list(ACTIVE_PATCHES)
    guard = make_guard(project, strict=True)
    mock.patch("json.dumps").start()
    mock.patch.dict(os.environ, {"GUARD_IN_DICT": "1"}).start()
    assert sorted(lines(guard.checkpoint(TEST))) == [
        f"test_x.py::test_it: the unittest.mock patch of {target} was started with start() "
        "and never stopped; stop it in the same test (a with block, a decorator, or "
        "request.addfinalizer(patcher.stop)), or use the safemock fixture, which undoes it "
        "at teardown"
        for target in ("json.dumps", "patch.dict(os.environ)")
    ]
    assert json.dumps(1) == "1"
    assert "GUARD_IN_DICT" not in os.environ
    assert session_patches == ACTIVE_PATCHES


def test_a_saferemock_run_never_stopped_is_a_leak_unless_a_fixture_owns_it(project: Path) -> None:
    guard = make_guard(project, strict=True)
    intentional = sm.SafeMock(intentional=True)
    managed = sm.SafeMock(holder="fixture 'managed'")
    try:
        intentional.patch("json.loads")
        managed.patch.dict(os.environ, {"GUARD_MANAGED": "1"})
        sm.patch("json.dumps").start()
        assert lines(guard.checkpoint(TEST)) == [
            "test_x.py::test_it: the patch of 'json.dumps' was started with start() and never "
            "stopped; use it as a with block or a decorator, or through the safemock "
            "fixture, which undoes it at teardown"
        ]
        assert json.dumps(1) == "1"
        assert os.environ["GUARD_MANAGED"] == "1"
    finally:
        intentional.close()
        managed.close()
    assert guard.checkpoint(TEST) == []


# -- mocks left on the project's own modules ---------------------------------------------


def test_mocks_left_on_project_module_and_class_attributes(project: Path) -> None:
    client = importlib.import_module("guardapp.client")
    importlib.import_module("test_helpers_leak")
    guard = make_guard(project, strict=True)
    client.session = mock.MagicMock()
    client.Client.retries = mock.create_autospec(lambda: 3)
    client.plain_value = 5
    sys.modules["test_helpers_leak"].own = mock.MagicMock()
    assert sorted(lines(guard.checkpoint(TEST))) == [
        "test_x.py::test_it: guardapp.client.Client.retries is an autospecced mock function; "
        "use safemock.patch('guardapp.client.Client.retries') instead, undone at teardown",
        "test_x.py::test_it: guardapp.client.session is a MagicMock; use "
        "safemock.patch('guardapp.client.session') instead, undone at teardown",
    ]
    assert client.session == 1
    assert client.Client.retries == 3
    assert client.plain_value == 5


def test_a_new_module_is_only_blamed_for_mocks_it_does_not_define_itself(project: Path) -> None:
    guard = make_guard(project)
    fakes = importlib.import_module("guardapp.fakes")
    plain = importlib.import_module("guardapp.plain")
    plain.injected = mock.MagicMock()
    plain.Service.method = mock.MagicMock()
    assert isinstance(fakes.FAKE, mock.MagicMock)
    assert sorted(leak.subject for leak in guard.checkpoint(TEST)) == [
        "guardapp.plain.Service.method",
        "guardapp.plain.injected",
    ]


def test_modules_outside_the_root_are_not_watched(project: Path) -> None:
    guard = make_guard(project / "guardapp" / "nowhere")
    client = importlib.import_module("guardapp.client")
    client.session = mock.MagicMock()
    assert guard.checkpoint(TEST) == []
    assert guard.is_project_file(str(project / "guardapp" / "nowhere" / "x.py"))
    assert not guard.is_project_file(
        str(project / "guardapp" / "nowhere" / "site-packages" / "x.py")
    )


# -- the sweep: every other module's attributes ------------------------------------------------


@pytest.mark.parametrize(
    ("change", "subject"),
    [
        (lambda module, value: setattr(module, "added", value), "sweepmod.added"),
        (lambda module, value: setattr(module, "helper", value), "sweepmod.helper"),
    ],
    ids=["added", "replaced"],
)
def test_a_sweep_finds_a_mock_put_on_a_module_since_the_last_sweep(
    project: Path,
    change: Callable[[types.ModuleType, object], None],
    subject: str,
) -> None:
    made = mock.MagicMock()
    module = types.ModuleType("sweepmod")
    module.__file__ = str(project.parent / "elsewhere" / "sweepmod.py")
    module.helper = len
    module.last = made
    sys.modules["sweepmod"] = module
    guard = make_guard(project)
    for _ in range(2):  # the first one after the guard started, then one that finds nothing
        assert guard.sweep(TEST) == []
    change(module, made)
    assert [leak.subject for leak in guard.sweep(TEST)] == [subject]
    assert guard.sweep(TEST) == []


def _outside_module(project: Path, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = str(project.parent / "elsewhere" / f"{name}.py")
    return module


def test_a_sweep_after_modules_came_and_went_finds_what_a_whole_sweep_finds(
    project: Path,
) -> None:
    made = mock.MagicMock()
    first, second, third = (_outside_module(project, f"sweep{x}") for x in "abc")
    sys.modules["sweepa"], sys.modules["sweepb"] = first, second
    guard = make_guard(project)
    assert guard.sweep(TEST) == []
    del sys.modules["sweepb"]
    sys.modules["sweepc"] = third
    first.gone, second.gone = made, made  # sweepb is no module of the process any more
    assert [leak.subject for leak in guard.sweep(TEST)] == ["sweepa.gone"]
    third.later = made  # sweepc was only copied by the sweep that first saw it
    first.later = made
    sys.modules["sweepb"] = second  # back, at the end: copied again, not judged
    assert [leak.subject for leak in guard.sweep(TEST)] == ["sweepa.later", "sweepc.later"]
    second.back = made
    del sys.modules["sweepc"]
    third.back = made
    assert [leak.subject for leak in guard.sweep(TEST)] == ["sweepb.back"]
    assert guard.sweep(TEST) == []


def test_a_module_that_changes_at_every_sweep_is_looked_at_alone(project: Path) -> None:
    made = mock.MagicMock()
    first, busy, third, fourth = (_outside_module(project, f"sweep{x}") for x in "abcd")
    guard = make_guard(project)
    # Imported after the guard started: the sweep that first sees them groups them alone.
    for module in (first, busy, third, fourth):
        sys.modules[module.__name__] = module
    assert guard.sweep(TEST) == []
    last = guard._last_sweep
    assert last is not None

    def group_of(module: types.ModuleType) -> list[types.ModuleType]:
        (modules,) = [group.modules for group in last.groups if module in group.modules]
        return modules

    together = {id(first), id(busy), id(third), id(fourth)}
    assert set(map(id, group_of(busy))) == together
    # Changed once, or three of a group at a time, twice: the group stays whole.
    busy.hook = object()
    assert guard.sweep(TEST) == []
    for _ in range(2):
        first.os, third.os, fourth.os = (mock.MagicMock() for _ in range(3))
        assert len(guard.sweep(TEST)) == 3
    assert together <= set(map(id, group_of(busy)))
    # Changed at two sweeps in a row, as pytest changes warnings around every test.
    for _ in range(2):
        busy.hook = object()
        assert guard.sweep(TEST) == []
    assert group_of(busy) == [busy]
    assert {id(first), id(third), id(fourth)} <= set(map(id, group_of(first) + group_of(third)))
    # The groups still hold every module, in order: mocks are found and reported in it.
    fourth.later, busy.later, first.later = made, made, made
    assert [leak.subject for leak in guard.sweep(TEST)] == [
        "sweepa.later",
        "sweepb.later",
        "sweepd.later",
    ]
    assert guard.sweep(TEST) == []


# -- longer-lived owners ---------------------------------------------------------------------


def test_a_fixture_holds_what_it_changed_until_its_teardown(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conftest = project / "conftest.py"
    conftest.write_text("import pytest\n\n@pytest.fixture(scope='module')\ndef fake(): ...\n")
    fixture = Culprit("fixture", "fake", path=str(conftest), relpath="conftest.py", line=3)
    guard = make_guard(project)
    mark = guard.mark()
    monkeypatch.setitem(sys.modules, "cloudsdk", mock.MagicMock())
    hold = guard.hold(mark, fixture)
    assert guard.checkpoint(TEST) == []
    assert guard.checkpoint(TEST) == []
    guard.release(hold)
    assert lines(guard.checkpoint(lambda: Culprit("test", "test_x.py::test_last"))) == [
        "conftest.py:3 (fixture 'fake'): sys.modules['cloudsdk'] is a MagicMock; use "
        "safemock.fake_module_tree(['cloudsdk']) (or @pytest.mark.fake_modules('cloudsdk')) "
        "instead, undone at teardown"
    ]


def test_a_fixture_that_restores_at_teardown_is_clean(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = make_guard(project)
    mark = guard.mark()
    patcher = mock.patch("json.dumps")
    patcher.start()
    with pytest.MonkeyPatch.context() as fixture:
        fixture.setattr(builtins, "input", mock.MagicMock())
        hold = guard.hold(mark, Culprit("fixture", "fake"))
        assert guard.checkpoint(TEST) == []
        patcher.stop()
    guard.release(hold)
    assert guard.checkpoint(TEST) == []


def test_a_test_overwriting_what_a_fixture_holds_is_blamed_and_strict_restores_the_fixture_value(
    project: Path,
) -> None:
    guard = make_guard(project, strict=True)
    with sm.SafeMock(holder="fixture 'owner'") as owner:
        kept = owner.patch_builtin("input", return_value="y")
        guard.checkpoint(TEST)
        builtins.input = mock.MagicMock()
        assert [leak.subject for leak in guard.checkpoint(TEST)] == ["builtins.input"]
        assert input() == "y"
        kept.assert_called_once_with()
    assert guard.checkpoint(TEST) == []


# -- allowing, locating, reporting ----------------------------------------------------------


def test_saferemock_allow_patterns(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    guard = make_guard(project)
    monkeypatch.setitem(sys.modules, "cloudsdk", mock.MagicMock())
    monkeypatch.setattr(builtins, "input", mock.MagicMock())
    allowed = Culprit("test", "t", allow=("sys.modules['cloud*']",))
    assert [leak.subject for leak in guard.checkpoint(lambda: allowed)] == ["builtins.input"]
    monkeypatch.setenv("GUARD_ALL", "1")
    assert guard.checkpoint(lambda: Culprit("test", "t", allow=())) == []
    assert allow_matches(["builtins.*"], "builtins.open")
    assert allow_matches(["sys.modules['boto3']"], "sys.modules['boto3']")
    assert not allow_matches(["sys.modules['boto']"], "sys.modules['boto3']")


def test_locate_finds_the_statement_that_made_each_kind_of_change(tmp_path: Path) -> None:
    source = tmp_path / "conftest.py"
    source.write_text(
        textwrap.dedent(
            """\
            import builtins, os, sys
            from unittest import mock

            sys.modules.update({"grpc": mock.MagicMock()})
            sys.modules.setdefault("kafka", None)
            sys.modules["boto3"] = mock.MagicMock()
            builtins.open = mock.MagicMock()
            setattr(builtins, "input", lambda: "y")
            os.environ["APP_MODE"] = "test"
            mock.patch("json.dumps").start()
            sys.path.append("../Client")
            sys.path.append(os.path.join(os.path.dirname(__file__), "Server"))


            def later():
                sys.modules["late"] = mock.MagicMock()
            """
        )
    )
    path = str(source)
    assert locate(path, "module", "grpc") == 4
    assert locate(path, "module", "kafka") == 5
    assert locate(path, "module", "boto3") == 6
    assert locate(path, "module", "other") == 4
    assert locate(path, "module", "other", exact=True) == 0
    assert locate(path, "builtin", "open") == 7
    assert locate(path, "builtin", "input") == 8
    assert locate(path, "environ", "APP_MODE") == 9
    assert locate(path, "patch", "json.dumps") == 10
    assert locate(path, "list", "sys.path") == 11
    assert locate(path, "list", ("sys.path", "/app/tests/Server")) == 12
    assert locate(path, "list", ("sys.path", "../Client")) == 11
    assert locate(path, "module", "late") == 16
    assert locate(path, "module", "late", module_level=True) == 4
    assert locate(path, "module", "late", exact=True, module_level=True) == 0
    assert locate(str(tmp_path / "missing.py"), "module", "boto3") == 0


def test_report_lines_are_sorted_by_phase_and_deduplicated() -> None:
    test = Leak("t.py::t", "test", "s", "s is a MagicMock", "fix", "t.py::t")
    collection = Leak("c.py", "collection", "s", "s is None", "fix", "c.py:3 (collection)")
    assert Leak.from_dict(test.to_dict()) == test
    assert list(iter_leak_lines([test, collection, test])) == [
        "c.py:3 (collection): s is None; fix",
        "t.py::t: s is a MagicMock; fix",
    ]


# -- strict mode over any sequence of leaks ------------------------------------------------


REAL_JSON = (json.dumps, json.loads)


class StrictGuardMachine(RuleBasedStateMachine):
    """Any mix of leaks, checkpoint after any of them: strict mode always ends clean."""

    def __init__(self) -> None:
        super().__init__()
        self.modules = Snapshot(sys.modules)
        self.state = Snapshot(vars(builtins), os.environ)
        self.guard = make_guard(Path(os.getcwd()) / "no-project", strict=True)
        self.patches = list(ACTIVE_PATCHES)

    @rule(
        name=st.sampled_from(["cloudsdk", "cloudsdk.v2", "guard_tmp"]),
        value=st.sampled_from(["mock", "none", "module"]),
    )
    def leak_module(self, name: str, value: str) -> None:
        made = {"mock": mock.MagicMock(), "none": None, "module": types.ModuleType(name)}
        sys.modules[name] = made[value]

    @rule(name=st.sampled_from(["input", "guard_added", "credits"]), delete=st.booleans())
    def leak_builtin(self, name: str, delete: bool) -> None:
        if delete and hasattr(builtins, name):
            delattr(builtins, name)
        else:
            setattr(builtins, name, mock.MagicMock())

    @rule(key=st.sampled_from(["GUARD_A", "GUARD_B"]), value=st.sampled_from(["1", None]))
    def leak_environ(self, key: str, value: str | None) -> None:
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value

    @rule(saferemock=st.booleans())
    def leak_patch(self, saferemock: bool) -> None:
        if saferemock:
            sm.patch("json.loads").start()
        else:
            mock.patch("json.dumps").start()

    @rule()
    def checkpoint(self) -> None:
        self.guard.checkpoint(TEST)
        self.state.assert_unchanged()
        assert (json.dumps, json.loads) == REAL_JSON
        assert self.patches == ACTIVE_PATCHES
        assert active_runs() == []

    @invariant()
    def nothing_is_left_on_the_engine_stacks(self) -> None:
        assert not stacked_on(sys.modules, builtins, os.environ)

    def teardown(self) -> None:
        self.checkpoint()
        GUARDS.remove(self.guard)
        self.guard.close()
        self.modules.assert_unchanged()


StrictGuardMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=20, deadline=None
)


def test_strict_guard_restores_any_sequence_of_leaks(
    world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARD_B", "original")
    StrictGuardMachine.TestCase().runTest()
