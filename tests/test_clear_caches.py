"""``sm.clear_caches``: find every functools cache without importing, clear on entry and exit."""

from __future__ import annotations

import asyncio
import functools
import pathlib
import re
import sys
import textwrap
import types
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from statecheck import Snapshot, active_changes

import saferemock as sm
from saferemock._missing import MISSING

OTHER_SOURCE = """
import functools


@functools.cache
def helper(x):
    return x


class Foreign:
    @functools.cache
    def method(self, x):
        return x
"""

PACKAGE_SOURCE = """
import functools

CALLS = []


@functools.cache
def settings():
    return {"env": "prod"}


def __getattr__(name):
    # A lazy package: attribute access would import a submodule.  Recorded, so tests can
    # prove discovery never runs it.
    CALLS.append(name)
    raise AttributeError(name)
"""

LOADERS_SOURCE = """
import functools

from cc_other import Foreign, helper

LOADS = []


@functools.lru_cache(maxsize=None)
def load_config(path):
    LOADS.append(path)
    with open(path) as handle:
        return handle.read()


@functools.cache
def parse(text):
    return text.split()


def not_cached(x):
    return x


def logged(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)

    return wrapper


@logged
@functools.cache
def decorated(x):
    return x


class Loader:
    @functools.lru_cache(maxsize=8)
    def method(self, x):
        return x

    @staticmethod
    @functools.cache
    def static(x):
        return x

    @classmethod
    @functools.cache
    def klass(cls, x):
        return x

    @property
    @functools.cache
    def prop(self):
        return 1

    def plain(self):
        return 1

    class Inner:
        @functools.cache
        def deep(self, x):
            return x

        class Innermost:
            @staticmethod
            @functools.cache
            def deepest(x):
                return x

    Alias = Inner
"""

MODELS_SOURCE = """
class Model:
    def plain(self):
        return 1
"""

LOADERS_NAMES = (
    "cc_pkg.loaders.helper",
    "cc_pkg.loaders.load_config",
    "cc_pkg.loaders.parse",
    "cc_pkg.loaders.decorated",
    "cc_pkg.loaders.Loader.method",
    "cc_pkg.loaders.Loader.static",
    "cc_pkg.loaders.Loader.klass",
    "cc_pkg.loaders.Loader.prop",
    "cc_pkg.loaders.Loader.Inner.deep",
    "cc_pkg.loaders.Loader.Inner.Innermost.deepest",
)


def make_module(name: str, source: str, **extra: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    vars(module).update(extra)
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), vars(module))
    return module


@pytest.fixture
def pkg(tmp_path: pathlib.Path) -> Iterator[types.SimpleNamespace]:
    """``cc_pkg`` (a lazy package), ``cc_pkg.loaders``, ``cc_pkg.models`` and ``cc_other``.

    The package's directory on disk also holds ``unimported.py``, which must stay unimported.
    """
    directory = tmp_path / "cc_pkg"
    directory.mkdir()
    (directory / "unimported.py").write_text(
        "import functools\n\n@functools.cache\ndef never():\n    return 1\n", encoding="utf-8"
    )
    other = make_module("cc_other", OTHER_SOURCE)
    package = make_module("cc_pkg", PACKAGE_SOURCE, __path__=[str(directory)])
    with sm.patch.dict(sys.modules, {"cc_other": other, "cc_pkg": package}):
        loaders = make_module("cc_pkg.loaders", LOADERS_SOURCE)
        models = make_module("cc_pkg.models", MODELS_SOURCE)
        with sm.patch.dict(sys.modules, {"cc_pkg.loaders": loaders, "cc_pkg.models": models}):
            yield types.SimpleNamespace(
                package=package, loaders=loaders, models=models, other=other, directory=directory
            )


def caches_of(loaders: types.ModuleType) -> list[Any]:
    """Every cache wrapper of cc_pkg.loaders, in LOADERS_NAMES order."""
    ns = vars(loaders)
    loader = vars(ns["Loader"])
    inner = vars(loader["Inner"])
    return [
        ns["helper"],
        ns["load_config"],
        ns["parse"],
        ns["decorated"].__wrapped__,
        loader["method"],
        loader["static"].__func__,
        loader["klass"].__func__,
        loader["prop"].fget,
        inner["deep"],
        vars(inner["Innermost"])["deepest"].__func__,
    ]


def fill(loaders: types.ModuleType, tmp_path: pathlib.Path) -> None:
    config = tmp_path / "config.txt"
    config.write_text("v1", encoding="utf-8")
    loaders.load_config(str(config))
    loaders.parse("a b")
    loaders.decorated(1)
    loaders.helper(1)
    instance = loaders.Loader()
    instance.method(1)
    loaders.Loader.static(1)
    loaders.Loader.klass(1)
    instance.prop
    loaders.Loader.Inner().deep(1)
    loaders.Loader.Inner.Innermost.deepest(1)


def sizes(wrappers: list[Any]) -> list[int]:
    return [wrapper.cache_info().currsize for wrapper in wrappers]


# -- discovery -----------------------------------------------------------------------------


def test_module_target_finds_functions_methods_and_nested_classes(
    pkg: types.SimpleNamespace, tmp_path: pathlib.Path
) -> None:
    wrappers = caches_of(pkg.loaders)
    fill(pkg.loaders, tmp_path)
    assert sizes(wrappers) == [1] * 10
    with sm.clear_caches(pkg.loaders) as cleared:
        assert cleared.names == LOADERS_NAMES
        assert sizes(wrappers) == [0] * 10
        assert [w.cache_info().hits + w.cache_info().misses for w in wrappers] == [0] * 10
        fill(pkg.loaders, tmp_path)
    assert sizes(wrappers) == [0] * 10


def test_foreign_classes_are_not_crawled_but_bound_caches_are_cleared(
    pkg: types.SimpleNamespace,
) -> None:
    foreign = vars(pkg.other.Foreign)["method"]
    foreign(None, 1)
    with sm.clear_caches("cc_pkg.loaders") as cleared:
        assert "cc_pkg.loaders.helper" in cleared
        assert foreign.cache_info().currsize == 1
        assert not any("Foreign" in name for name in cleared)


def test_dotted_names_reach_modules_classes_methods_and_functions(
    pkg: types.SimpleNamespace,
) -> None:
    with sm.clear_caches("cc_pkg.loaders.Loader") as cleared:
        assert cleared.names == tuple(n for n in LOADERS_NAMES if ".Loader." in n)
    with sm.clear_caches("cc_pkg.loaders.Loader.klass", "cc_pkg.loaders.parse") as cleared:
        assert cleared.names == ("cc_pkg.loaders.Loader.klass", "cc_pkg.loaders.parse")


def test_function_class_bound_method_and_decorated_function_objects(
    pkg: types.SimpleNamespace,
) -> None:
    loaders = pkg.loaders
    with sm.clear_caches(
        loaders.parse, loaders.Loader.Inner, loaders.Loader.klass, loaders.decorated
    ) as cleared:
        assert cleared.names == (
            "cc_pkg.loaders.parse",
            "cc_pkg.loaders.Loader.Inner.deep",
            "cc_pkg.loaders.Loader.Inner.Innermost.deepest",
            "cc_pkg.loaders.Loader.klass",
            "cc_pkg.loaders.decorated",
        )


def test_package_includes_imported_submodules_and_imports_nothing(
    pkg: types.SimpleNamespace,
) -> None:
    modules_before = Snapshot(sys.modules)
    with sm.clear_caches("cc_pkg") as cleared:
        assert cleared.names == ("cc_pkg.settings", *LOADERS_NAMES)
    with sm.clear_caches(pkg.package) as cleared:
        assert cleared.names == ("cc_pkg.settings", *LOADERS_NAMES)
    assert "cc_pkg.unimported" not in sys.modules
    modules_before.assert_unchanged()
    assert pkg.package.CALLS == []


def test_lazy_module_getattr_never_runs(pkg: types.SimpleNamespace) -> None:
    with sm.clear_caches(pkg.package, "cc_pkg", "cc_pkg.settings"):
        pass
    with pytest.raises(sm.CacheTargetError):
        sm.clear_caches("cc_pkg.unimported").start()
    with pytest.raises(sm.CacheTargetError):
        sm.clear_caches("cc_pkg.never").start()
    assert pkg.package.CALLS == []
    # The recorder works: ordinary attribute access does run it.
    assert not hasattr(pkg.package, "anything")
    assert pkg.package.CALLS == ["anything"]


LAZY_MODULE_SOURCE = """
import functools

CALLS = []


@functools.cache
def cached():
    return 1


def __getattr__(name):
    CALLS.append(name)
    raise AttributeError(name)
"""


def test_lazy_plain_module_is_read_through_its_dict_only() -> None:
    lazy = make_module("cc_lazy", LAZY_MODULE_SOURCE)
    with sm.patch.dict(sys.modules, {"cc_lazy": lazy}):
        with sm.clear_caches(lazy, "cc_lazy", "cc_lazy.cached") as cleared:
            assert cleared.names == ("cc_lazy.cached",)
        with pytest.raises(sm.CacheTargetError):
            sm.clear_caches("cc_lazy.missing").start()
    # hasattr(module, "__path__") or getattr(module, "missing") would have recorded a call.
    assert lazy.CALLS == []


def test_mocks_in_a_namespace_are_never_cleared_or_called(pkg: types.SimpleNamespace) -> None:
    specced = mock.MagicMock(spec=pkg.loaders.parse)
    autospecced = mock.create_autospec(pkg.loaders.parse)
    with (
        sm.patch.object(pkg.loaders, "parse", specced),
        sm.patch.object(pkg.loaders, "helper", autospecced),
    ):
        with sm.clear_caches(pkg.loaders) as cleared:
            assert "cc_pkg.loaders.parse" not in cleared
            assert "cc_pkg.loaders.helper" not in cleared
    assert specced.mock_calls == []
    assert autospecced.mock_calls == []


def test_the_same_cache_is_reported_once(pkg: types.SimpleNamespace) -> None:
    with sm.clear_caches("cc_pkg", "cc_pkg.loaders", pkg.loaders.parse) as cleared:
        assert len(cleared) == len(set(cleared)) == 11


def test_discovery_leaves_every_namespace_unchanged(pkg: types.SimpleNamespace) -> None:
    loader = pkg.loaders.Loader
    snapshot = Snapshot(pkg.package, pkg.loaders, pkg.models, loader, loader.Inner, sys.modules)
    with sm.clear_caches("cc_pkg"):
        snapshot.assert_unchanged()
    snapshot.assert_unchanged()


# -- the report ----------------------------------------------------------------------------


def test_report_iterates_counts_contains_and_repr(pkg: types.SimpleNamespace) -> None:
    with sm.clear_caches(pkg.loaders.parse, "cc_pkg.nothing_here", missing_ok=True) as cleared:
        assert list(cleared) == ["cc_pkg.loaders.parse"]
        assert len(cleared) == 1
        assert "cc_pkg.loaders.parse" in cleared
        assert cleared.skipped == ("cc_pkg.nothing_here",)
        assert repr(cleared) == (
            "CachesCleared(['cc_pkg.loaders.parse'], skipped=['cc_pkg.nothing_here'])"
        )


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "cc_pkgg.loaders",
            "Cannot clear caches of 'cc_pkgg.loaders': no module of that name is imported "
            "(did you mean 'cc_pkg.loaders'?) and clear_caches never imports one; fix the "
            "name, import it first, or pass missing_ok=True.",
        ),
        (
            "cc_pkg.loaders.load_cnfig",
            "Cannot clear caches of 'cc_pkg.loaders.load_cnfig': module 'cc_pkg.loaders' has "
            "no attribute or imported submodule 'load_cnfig' (did you mean 'load_config'?) "
            "and clear_caches never imports one; fix the name, import it first, or pass "
            "missing_ok=True.",
        ),
        (
            "cc_pkg.unimported",
            "Cannot clear caches of 'cc_pkg.unimported': module 'cc_pkg' has no attribute or "
            "imported submodule 'unimported' and clear_caches never imports one; fix the "
            "name, import it first, or pass missing_ok=True.",
        ),
        (
            "cc_pkg.loaders.Loader.methd",
            "Cannot clear caches of 'cc_pkg.loaders.Loader.methd': class 'Loader' has no "
            "attribute 'methd' (did you mean 'method'?); fix the name or pass "
            "missing_ok=True.",
        ),
        (
            "cc_pkg.models",
            "Cannot clear caches of 'cc_pkg.models': it holds no functools.lru_cache or "
            "functools.cache wrapper; name the module, class or function that has one, or "
            "pass missing_ok=True.",
        ),
        (
            "cc_pkg.loaders.not_cached",
            "Cannot clear caches of 'cc_pkg.loaders.not_cached': it holds no "
            "functools.lru_cache or functools.cache wrapper; name the module, class or "
            "function that has one, or pass missing_ok=True.",
        ),
    ],
)
def test_missing_or_cacheless_dotted_targets_raise(
    pkg: types.SimpleNamespace, target: str, message: str
) -> None:
    wrappers = caches_of(pkg.loaders)
    pkg.loaders.parse("x")
    with pytest.raises(sm.CacheTargetError, match=re.escape(message)):
        sm.clear_caches("cc_pkg.loaders.parse", target).start()
    # Nothing half-applied: the valid target before the bad one was not cleared.
    assert wrappers[2].cache_info().currsize == 1
    assert isinstance(sm.CacheTargetError(message), LookupError)


def test_cacheless_objects_raise_naming_them(pkg: types.SimpleNamespace) -> None:
    cases = [
        (pkg.models, "module 'cc_pkg.models'"),
        (pkg.models.Model, "class 'Model'"),
        (pkg.loaders.not_cached, "function 'cc_pkg.loaders.not_cached'"),
    ]
    for target, label in cases:
        message = (
            f"Cannot clear caches of {label}: it holds no functools.lru_cache or "
            "functools.cache wrapper; name the module, class or function that has one, or "
            "pass missing_ok=True."
        )
        with pytest.raises(sm.CacheTargetError, match=re.escape(message)):
            sm.clear_caches(target).start()


def test_missing_ok_skips_and_still_clears_the_rest(pkg: types.SimpleNamespace) -> None:
    pkg.loaders.parse("x")
    with sm.clear_caches(
        "cc_pkg.models", "cc_nowhere", pkg.models.Model, "cc_pkg.loaders.parse", missing_ok=True
    ) as cleared:
        assert cleared.names == ("cc_pkg.loaders.parse",)
        assert cleared.skipped == ("cc_pkg.models", "cc_nowhere", "cc_pkg.models.Model")
        assert pkg.loaders.parse.cache_info().currsize == 0


def test_invalid_arguments_are_rejected_at_construction() -> None:
    with pytest.raises(
        TypeError,
        match=re.escape(
            "clear_caches() needs at least one target: a module, class, function or dotted "
            "name such as 'myapp'."
        ),
    ):
        sm.clear_caches()
    with pytest.raises(
        TypeError,
        match=re.escape(
            "clear_caches() takes modules, classes, functions or dotted names, not 42."
        ),
    ):
        sm.clear_caches(42)  # type: ignore[arg-type]
    with pytest.raises(
        sm.InvalidTargetError,
        match=re.escape(
            "Cannot clear caches of 'my-app': a dotted name must look like 'myapp.loaders' "
            "or 'myapp.loaders.load_config'."
        ),
    ):
        sm.clear_caches("my-app")


# -- entry, exit, and the undo order -------------------------------------------------------


def test_cache_filled_inside_the_block_is_cleared_on_exit_even_after_an_exception(
    pkg: types.SimpleNamespace, tmp_path: pathlib.Path
) -> None:
    wrappers = caches_of(pkg.loaders)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), sm.clear_caches("cc_pkg"):
        fill(pkg.loaders, tmp_path)
        raise Boom
    assert sizes(wrappers) == [0] * 10


LATE_SOURCE = """
import functools


@functools.cache
def f():
    return 1
"""


def test_exit_also_clears_a_submodule_imported_inside(pkg: types.SimpleNamespace) -> None:
    late = make_module("cc_pkg.late", LATE_SOURCE)
    registered = sm.patch.dict(sys.modules, {"cc_pkg.late": late})
    with sm.clear_caches("cc_pkg") as cleared:
        registered.start()  # "imported" inside the block, and still imported at exit
        late.f()
        assert "cc_pkg.late.f" not in cleared
    assert late.f.cache_info().currsize == 0
    registered.stop()


def test_exit_search_runs_after_inner_undo(pkg: types.SimpleNamespace) -> None:
    late = make_module("cc_pkg.late", LATE_SOURCE)
    with sm.clear_caches("cc_pkg"):
        with sm.patch.dict(sys.modules, {"cc_pkg.late": late}):
            late.f()
        # The inner patch is undone first, so the exit search no longer sees cc_pkg.late.
    assert late.f.cache_info().currsize == 1


def test_exit_clearing_runs_in_undo_order_after_inner_patches(
    pkg: types.SimpleNamespace, tmp_path: pathlib.Path
) -> None:
    """Seed 004 in one test: a value cached from patched data must not outlive the patch."""
    config = str(tmp_path / "config.txt")
    pathlib.Path(config).write_text("real", encoding="utf-8")
    with sm.clear_caches(pkg.loaders.load_config):
        with sm.patch.object(pkg.loaders, "open", mock.mock_open(read_data="fake"), create=True):
            assert pkg.loaders.load_config(config) == "fake"
    assert pkg.loaders.load_config(config) == "real"
    # Started the other way round, the clearing still comes after the patch is undone.
    outer = sm.clear_caches(pkg.loaders.load_config)
    outer.start()
    patcher = sm.patch.object(pkg.loaders, "open", mock.mock_open(read_data="fake"), create=True)
    patcher.start()
    assert pkg.loaders.load_config(config) == "fake"
    patcher.stop()
    assert pkg.loaders.load_config(config) == "fake"  # stale until the clear_caches exit
    outer.stop()
    assert pkg.loaders.load_config(config) == "real"


def test_nested_and_interleaved_clear_caches(pkg: types.SimpleNamespace) -> None:
    parse = pkg.loaders.parse
    first = sm.clear_caches(parse)
    second = sm.clear_caches("cc_pkg.loaders")
    first.start()
    parse("a")
    second.start()
    assert parse.cache_info().currsize == 0
    parse("b")
    first.stop()
    assert parse.cache_info().currsize == 0
    parse("c")
    second.stop()
    assert parse.cache_info().currsize == 0


# -- the activation shapes -----------------------------------------------------------------


def test_decorator_passes_no_argument_and_clears_around_each_call(
    pkg: types.SimpleNamespace,
) -> None:
    parse = pkg.loaders.parse

    @sm.clear_caches("cc_pkg.loaders.parse")
    def check() -> int:
        before = parse.cache_info().currsize
        parse("inside")
        return before

    parse("outside")
    assert check() == 0
    assert parse.cache_info().currsize == 0


def test_async_decorator(pkg: types.SimpleNamespace) -> None:
    parse = pkg.loaders.parse

    @sm.clear_caches(parse)
    async def check() -> int:
        await asyncio.sleep(0)
        parse("inside")
        return parse.cache_info().currsize

    parse("outside")
    assert asyncio.run(check()) == 1
    assert parse.cache_info().currsize == 0


def test_scope_and_stopall_clear_on_the_way_out(pkg: types.SimpleNamespace) -> None:
    parse = pkg.loaders.parse
    with sm.scope():
        report = sm.clear_caches(parse).start()
        assert report.names == ("cc_pkg.loaders.parse",)
        parse("x")
    assert parse.cache_info().currsize == 0
    started = sm.clear_caches(parse)
    started.start()
    parse("y")
    started.stop()
    assert parse.cache_info().currsize == 0
    with pytest.raises(
        sm.SaferemockError,
        match=re.escape(
            "Cannot stop clear_caches(function 'cc_pkg.loaders.parse'): it is not active; "
            "call start() first or stop it only once."
        ),
    ):
        started.stop()


def test_stopall_clears_on_the_way_out() -> None:
    # No fixture here: stopall() stops every started activation, a fixture's included.
    @functools.cache
    def local(x: int) -> int:
        return x

    sm.clear_caches(local).start()
    local(1)
    assert local.cache_info().currsize == 1
    sm.stopall()
    assert local.cache_info().currsize == 0
    assert local.cache_info().hits == local.cache_info().misses == 0


# -- seed 004 in a real pytest run ---------------------------------------------------------

MESSAGES = """
import functools
import json


@functools.lru_cache(maxsize=None)
def load_ui_messages(path):
    with open(path) as handle:
        return json.load(handle)
"""

SEED_004_TESTS = """
from unittest import mock

import pytest

import messages
import saferemock as sm

{fixture}


def test_english():
    data = mock.mock_open(read_data='{{"greeting": "hello"}}')
    with sm.patch("messages.open", data, create=True):
        assert messages.load_ui_messages("ui.json") == {{"greeting": "hello"}}


def test_french():
    data = mock.mock_open(read_data='{{"greeting": "bonjour"}}')
    with sm.patch("messages.open", data, create=True):
        assert messages.load_ui_messages("ui.json") == {{"greeting": "bonjour"}}
"""

WITH_CLEAR_CACHES = """
@pytest.fixture(autouse=True)
def fresh_caches():
    with sm.clear_caches("messages") as cleared:
        assert cleared.names == ("messages.load_ui_messages",)
        yield
"""


def run_seed_004(pytester: pytest.Pytester, fixture: str) -> Any:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(messages=MESSAGES, test_messages=SEED_004_TESTS.format(fixture=fixture))
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def test_seed_004_without_clear_caches_the_second_test_sees_stale_data(
    pytester: pytest.Pytester,
) -> None:
    result = run_seed_004(pytester, "")
    result.assert_outcomes(passed=1, failed=1, errors=0, skipped=0, xfailed=0, xpassed=0)
    result.stdout.fnmatch_lines(["FAILED test_messages.py::test_french - AssertionError: *"])


def test_seed_004_with_clear_caches_both_tests_see_their_own_data(
    pytester: pytest.Pytester,
) -> None:
    result = run_seed_004(pytester, WITH_CLEAR_CACHES)
    result.assert_outcomes(passed=2, failed=0, errors=0, skipped=0, xfailed=0, xpassed=0)


# -- a state machine mixing fresh_attr, clear_caches and sm.patch --------------------------

WORLD_SOURCE = """
import functools
from unittest.mock import MagicMock


@functools.cache
def fetch(x):
    return x


def helper(x):
    return x


class Repo:
    @functools.lru_cache(maxsize=4)
    def method(self, x):
        return x

    @staticmethod
    @functools.cache
    def static(x):
        return x

    @property
    def prop(self) -> int:
        return 1


class SubRepo(Repo):
    pass


collection = MagicMock(name="collection")
collection.find.return_value = [1]
"""

WORLD = make_module("cc_world", WORLD_SOURCE)
REPO = WORLD.Repo
SUB = WORLD.SubRepo
COLLECTION = WORLD.collection
WRAPPERS = {
    "cc_world.fetch": vars(WORLD)["fetch"],
    "cc_world.Repo.method": vars(REPO)["method"],
    "cc_world.Repo.static": vars(REPO)["static"].__func__,
}
# Drawn by label: hypothesis pretty-prints drawn values, and reading _repr_pretty_ on the
# shared mock would add a child to it.
SLOTS: dict[str, tuple[Any, str]] = {
    "cc_world.fetch": (WORLD, "fetch"),
    "cc_world.helper": (WORLD, "helper"),
    "cc_world.collection": (WORLD, "collection"),
    "Repo.method": (REPO, "method"),
    "Repo.static": (REPO, "static"),
    "Repo.prop": (REPO, "prop"),
    "SubRepo.method": (SUB, "method"),
    "collection.find": (COLLECTION, "find"),
}
FRESH_SLOTS = list(SLOTS.values())
# sm.patch.object on a child of a mock writes the mock's __dict__ and undoes with delattr,
# which marks the child deleted; that slot is fresh_attr's alone.
PATCH_LABELS = [label for label in SLOTS if label != "collection.find"]
CACHE_TARGETS: dict[str, Any] = {
    "cc_world": WORLD,
    "Repo": REPO,
    "fetch": vars(WORLD)["fetch"],
    "SubRepo": SUB,
}


def raw(owner: Any, name: str) -> Any:
    if owner is COLLECTION:
        return vars(owner)["_mock_children"].get(name, MISSING)
    return vars(owner).get(name, MISSING)


class Mixed(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.snapshot = Snapshot(WORLD, REPO, SUB, COLLECTION, vars(COLLECTION)["_mock_children"])
        self.originals = {(id(o), n): raw(o, n) for o, n in FRESH_SLOTS}
        # (activation, slot or None, value stored in the slot, report)
        self.active: list[tuple[Any, Any, Any, Any]] = []

    @rule(label=st.sampled_from(sorted(SLOTS)), autospec=st.booleans())
    def fresh(self, label: str, autospec: bool) -> None:
        slot = SLOTS[label]
        activation = sm.fresh_attr(*slot, autospec=autospec)
        activation.start()
        self.active.append((activation, slot, raw(*slot), None))

    @rule(label=st.sampled_from(PATCH_LABELS))
    def patch(self, label: str) -> None:
        slot = SLOTS[label]
        activation = sm.patch.object(*slot, new=mock.sentinel.patched)
        activation.start()
        self.active.append((activation, slot, raw(*slot), None))

    @rule(chosen=st.lists(st.sampled_from(sorted(CACHE_TARGETS)), min_size=1, max_size=3))
    def clear(self, chosen: list[str]) -> None:
        activation = sm.clear_caches(*(CACHE_TARGETS[c] for c in chosen), missing_ok=True)
        report = activation.start()
        assert set(report.names) <= set(WRAPPERS)
        for name in report.names:
            assert WRAPPERS[name].cache_info().currsize == 0
        self.active.append((activation, None, None, report))

    @rule()
    def use_caches(self) -> None:
        WRAPPERS["cc_world.fetch"](1)
        WRAPPERS["cc_world.Repo.method"](None, 1)
        WRAPPERS["cc_world.Repo.static"](1)

    @precondition(lambda self: self.active)
    @rule(data=st.data())
    def stop_any(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.active) - 1))
        activation, _, _, report = self.active.pop(index)
        activation.stop()
        if report is not None:
            for name in report.names:
                assert WRAPPERS[name].cache_info().currsize == 0

    @invariant()
    def each_slot_shows_its_newest_active_value(self) -> None:
        for owner, name in FRESH_SLOTS:
            expected = self.originals[(id(owner), name)]
            for _, slot, stored, _ in self.active:
                # By identity: == would ask the shared MagicMock, which records __eq__.
                if slot is not None and slot[0] is owner and slot[1] == name:
                    expected = stored
            assert raw(owner, name) is expected, (owner, name)

    def teardown(self) -> None:
        while self.active:
            self.active.pop()[0].stop()
        self.snapshot.assert_unchanged()
        owners = {
            id(WORLD),
            id(REPO),
            id(SUB),
            id(COLLECTION),
            id(vars(COLLECTION)["_mock_children"]),
        }
        assert [change for change in active_changes() if change.slot[0] in owners] == []


Mixed.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
test_mixed_state_machine = Mixed.TestCase
