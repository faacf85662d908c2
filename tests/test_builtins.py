"""sm.patch_builtin: builtins replaced for every module or for one consumer, autospecced."""

# These tests call open() and io.open() bare on purpose: the calls are what is tested.
# ruff: noqa: SIM115, UP020

from __future__ import annotations

import asyncio
import builtins
import codecs
import importlib
import inspect
import io
import json
import math
import os
import pathlib
import re
import sys
import types
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from statecheck import Snapshot, active_runs, builtin_slots

import saferemock as sm
from saferemock._builtins import SIGNATURE_TABLE
from saferemock._missing import MISSING

REAL_LEN = builtins.len
REAL_OPEN = builtins.open
REAL_PRINT = builtins.print


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    snap = Snapshot(*builtin_slots(), json)
    yield
    assert active_runs() == []
    snap.assert_unchanged()


def _consumer(name: str = "builtins_consumer", source: str = "") -> types.ModuleType:
    """A module whose functions use builtins, as application code does."""
    module = types.ModuleType(name)
    exec(
        "def count(x):\n"
        "    return len(x)\n"
        "def ask():\n"
        "    return input('name? ')\n"
        "def show(*args, **kwargs):\n"
        "    print(*args, **kwargs)\n"
        "def call(name, *args, **kwargs):\n"
        "    return eval(name)(*args, **kwargs)\n" + source,
        vars(module),
    )
    return module


# -- global mode ---------------------------------------------------------------------------


def test_global_patch_yields_an_autospecced_mock_and_restores_the_builtin() -> None:
    consumer = _consumer()
    with sm.patch_builtin("len", return_value=7) as fake_len:
        assert consumer.count([]) == 7
        assert len("abc") == 7
        with pytest.raises(TypeError, match=re.escape("missing a required argument: 'obj'")):
            len()
        with pytest.raises(TypeError, match=re.escape("too many positional arguments")):
            len(1, 2)
    assert builtins.len is REAL_LEN
    assert fake_len.call_args_list == [mock.call([]), mock.call("abc")]
    assert isinstance(fake_len, mock.MagicMock)


def test_bad_calls_raise_type_error_as_the_real_builtin_does() -> None:
    with pytest.raises(TypeError):
        REAL_OPEN(1, 2, 3, 4, 5, 6, 7, 8, 9)
    with sm.patch_builtin("open") as fake_open:
        with pytest.raises(TypeError, match=re.escape("too many positional arguments")):
            open(1, 2, 3, 4, 5, 6, 7, 8, 9)
        with pytest.raises(
            TypeError, match=re.escape("got an unexpected keyword argument 'encodng'")
        ):
            open("a.txt", encodng="utf-8")
        open("a.txt", "rb", buffering=0)
    fake_open.assert_called_once_with("a.txt", "rb", buffering=0)


def test_unittest_mock_autospec_of_a_builtin_checks_nothing() -> None:
    # Why patch_builtin builds its own signature check: the stdlib autospecs a builtin
    # from its __call__ method-wrapper, whose signature is (*args, **kwargs).
    with mock.patch("builtins.open", autospec=True) as stdlib_open:
        open(1, 2, 3, 4, 5, 6, 7, 8, 9)
        open("a.txt", encodng="utf-8")
    assert stdlib_open.call_count == 2


def test_global_open_covers_io_open_and_pathlib() -> None:
    with sm.patch_builtin("open") as fake_open:
        assert builtins.open is io.open
        io.open("via-io")
        pathlib.Path("via-pathlib").open()
        pathlib.Path("read-text").read_text()
    assert [c.args[0] for c in fake_open.call_args_list] == [
        "via-io",
        pathlib.Path("via-pathlib"),
        pathlib.Path("read-text"),
    ]
    assert io.open is REAL_OPEN


def test_new_is_installed_as_given_and_kwargs_with_new_are_refused() -> None:
    def fake_print(*args: Any, **kwargs: Any) -> None:
        seen.append(args)

    seen: list[tuple[Any, ...]] = []
    with sm.patch_builtin("print", fake_print) as value:
        print("hello", 1)
    assert value is fake_print
    assert seen == [("hello", 1)]
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Cannot configure the mock with ['return_value'] when new= is given; configure "
            "the object you pass as new instead."
        ),
    ):
        sm.patch_builtin("print", fake_print, return_value=None)


def test_autospec_false_gives_a_plain_magicmock() -> None:
    with sm.patch_builtin("len", autospec=False) as fake_len:
        len(1, 2, 3, anything=True)
    fake_len.assert_called_once_with(1, 2, 3, anything=True)


def test_module_builtins_means_global_mode() -> None:
    consumer = _consumer()
    with sm.patch_builtin("len", module="builtins", return_value=1):
        assert consumer.count([]) == 1
    with sm.patch_builtin("len", module=builtins, return_value=2):
        assert consumer.count([]) == 2


# -- module mode ---------------------------------------------------------------------------


def test_module_mode_changes_only_the_consumer() -> None:
    consumer = _consumer()
    other = _consumer("other_consumer")
    snap = Snapshot(consumer, other)
    with sm.patch_builtin("input", module=consumer, return_value="Ada") as fake_input:
        assert consumer.ask() == "Ada"
        assert vars(consumer)["input"] is fake_input
        assert "input" not in vars(other)
        assert builtins.input is not fake_input
    snap.assert_unchanged()
    assert "input" not in vars(consumer)
    fake_input.assert_called_once_with("name? ")


def test_module_mode_autospecs_from_the_real_builtin() -> None:
    consumer = _consumer()
    with sm.patch_builtin("len", module=consumer):
        with pytest.raises(TypeError, match=re.escape("too many positional arguments")):
            consumer.count.__globals__["len"](1, 2)
    with sm.patch_builtin("print", module=consumer):
        with pytest.raises(TypeError, match=re.escape("got an unexpected keyword argument 'sepp'")):
            consumer.show("a", sepp="-")


def test_unittest_mock_cannot_autospec_a_consumer_scoped_builtin() -> None:
    consumer = _consumer()
    with sm.patch.dict(sys.modules, {"builtins_consumer": consumer}):
        # unittest.mock patches a builtin's name on a module with an implied create=True,
        # and refuses autospec together with create.
        with mock.patch("builtins_consumer.len", return_value=3):
            assert consumer.count([]) == 3
        with pytest.raises(TypeError, match=re.escape("Can't use 'autospec' with create=True")):
            mock.patch("builtins_consumer.len", autospec=True).start()
        with sm.patch_builtin("len", module="builtins_consumer", return_value=3):
            assert consumer.count([]) == 3
    assert "len" not in vars(consumer)


def test_module_mode_restores_the_consumers_own_global() -> None:
    consumer = _consumer(source="def len(x):\n    return -1\n")
    own = vars(consumer)["len"]
    snap = Snapshot(consumer)
    with sm.patch_builtin("len", module=consumer, return_value=5):
        assert consumer.count([]) == 5
    snap.assert_unchanged()
    assert vars(consumer)["len"] is own
    assert consumer.count([]) == -1


def test_module_mode_patches_a_builtin_class() -> None:
    consumer = _consumer(source="def parse(text):\n    return int(text)\n")
    with sm.patch_builtin("int", module=consumer) as fake_int:
        fake_int.return_value = 42
        assert consumer.parse("x") == 42
        # Classes are autospecced as classes: attributes are checked, calls are not.
        consumer.int("anything", 1, 2, key=3)
        assert consumer.int.from_bytes is not None
        with pytest.raises(AttributeError, match="Mock object has no attribute 'from_byts'"):
            consumer.int.from_byts
    assert consumer.parse("7") == 7


def test_module_mode_resolves_a_dotted_name_at_start_not_at_construction() -> None:
    patcher = sm.patch_builtin("len", module="builtins_consumer_late")
    consumer = _consumer("builtins_consumer_late")
    with pytest.raises(sm.TargetImportError):
        patcher.start()
    with sm.patch.dict(sys.modules, {"builtins_consumer_late": consumer}):
        with patcher as fake_len:
            fake_len.return_value = 0
            assert consumer.count("abc") == 0


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("opne", sm.TargetAttributeError, "'opne' is not a builtin; did you mean 'open'?"),
        (
            "isinstence",
            sm.TargetAttributeError,
            "'isinstence' is not a builtin; did you mean 'isinstance'?",
        ),
        (
            "frobnicate_all",
            sm.TargetAttributeError,
            "'frobnicate_all' is not a builtin; use sm.patch('module.attribute') to replace "
            "anything else.",
        ),
        (
            "__name__",
            sm.TargetAttributeError,
            "'__name__' is not a builtin; use sm.patch('module.attribute') to replace "
            "anything else.",
        ),
        (
            42,
            sm.InvalidTargetError,
            "patch_builtin() takes the builtin's name as a string such as 'open', not 42.",
        ),
        (
            "True",
            sm.InvalidTargetError,
            "Cannot patch builtin 'True': the compiler turns it into a constant, so no lookup "
            "would ever see the replacement; change the code that uses it instead.",
        ),
        (
            "int",
            sm.InvalidTargetError,
            "Cannot patch builtin class 'int' for every module: pytest and the standard "
            "library use it as a type too; pass module='yourapp.module' to replace it only "
            "where your code looks it up.",
        ),
    ],
)
def test_bad_names_are_refused_at_construction(
    name: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        sm.patch_builtin(name)


def test_not_a_builtin_is_also_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        sm.patch_builtin("opne")


@pytest.mark.parametrize("module", [42, "not a module", "trailing."])
def test_bad_module_argument(module: Any) -> None:
    message = (
        "patch_builtin() takes module= as a module or its dotted name such as 'myapp.io', "
        f"not {module!r}."
    )
    with pytest.raises(sm.InvalidTargetError, match=re.escape(message)):
        sm.patch_builtin("len", module=module)


def test_module_that_is_not_a_module() -> None:
    snap = Snapshot(*builtin_slots(), json)
    with pytest.raises(
        sm.InvalidTargetError,
        match=re.escape(
            "Cannot patch builtin 'len' in 'json.dumps': it is a function object, not a "
            "module; pass the module whose code calls it."
        ),
    ):
        sm.patch_builtin("len", module="json.dumps").start()
    snap.assert_unchanged()


def test_module_that_cannot_be_imported_names_it() -> None:
    with pytest.raises(
        sm.TargetImportError,
        match=re.escape("Cannot resolve 'jsonn': no module named 'jsonn'"),
    ):
        sm.patch_builtin("len", module="jsonn").start()


# -- the signature rule --------------------------------------------------------------------


def _builtin_functions() -> list[str]:
    return sorted(
        name
        for name, value in vars(builtins).items()
        if callable(value)
        and not isinstance(value, type)
        and type(value) is types.BuiltinFunctionType
    )


def test_table_signatures_match_what_inspect_reads_where_it_can() -> None:
    compared = []
    for name, stub in SIGNATURE_TABLE.items():
        try:
            real = inspect.signature(vars(builtins)[name])
        except ValueError:
            continue
        assert str(inspect.signature(stub)) == str(real), name
        compared.append(name)
    # 3.11+ can read these three; 3.10 none of the table.
    assert set(compared) <= {"__import__", "breakpoint", "print"}


def test_table_covers_every_builtin_function_inspect_cannot_read() -> None:
    unreadable = []
    for name in _builtin_functions():
        try:
            inspect.signature(vars(builtins)[name])
        except ValueError:
            unreadable.append(name)
    assert set(unreadable) <= set(SIGNATURE_TABLE)


@pytest.mark.parametrize("name", _builtin_functions())
def test_every_builtin_function_rejects_an_unknown_keyword(name: str) -> None:
    consumer = _consumer()
    with sm.patch_builtin(name, module=consumer):
        replacement = vars(consumer)[name]
        parameters = inspect.signature(replacement).parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            replacement(object(), object(), saferemock_bogus=1)
            replacement.assert_called_once()
        else:
            with pytest.raises(TypeError):
                replacement(saferemock_bogus=1)


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("next", [(iter([]), None)], [(), (1, 2, 3)]),
        ("iter", [([],), (lambda: 1, 1)], [(), (1, 2, 3)]),
        ("getattr", [(1, "real"), (1, "x", None)], [(1,), (1, 2, 3, 4)]),
        ("vars", [(), (1,)], [(1, 2)]),
        ("dir", [(), (1,)], [(1, 2)]),
        ("min", [([1],), (1, 2, 3)], [()]),
        ("max", [([1],), (1, 2, 3)], [()]),
        ("print", [(), (1, 2, 3)], []),
        ("anext", [(1,), (1, 2)], [(), (1, 2, 3)]),
    ],
)
def test_table_builtins_check_positional_arguments(
    name: str, good: list[tuple[Any, ...]], bad: list[tuple[Any, ...]]
) -> None:
    consumer = _consumer()
    with sm.patch_builtin(name, module=consumer):
        replacement = vars(consumer)[name]
        for args in good:
            replacement(*args)
        for args in bad:
            with pytest.raises(TypeError):
                replacement(*args)
    assert replacement.call_args_list == [mock.call(*args) for args in good]


def test_keyword_arguments_of_table_builtins() -> None:
    consumer = _consumer()
    with sm.patch_builtin("min", module=consumer), sm.patch_builtin("print", module=consumer):
        consumer.call("min", [1], key=abs, default=0)
        consumer.call("print", "a", sep="", end="", file=None, flush=True)
        with pytest.raises(
            TypeError, match=re.escape("got an unexpected keyword argument 'reverse'")
        ):
            consumer.call("min", [1], reverse=True)


def test_a_builtin_without_any_readable_signature_accepts_any_call() -> None:
    # math.hypot has no text signature on any supported Python and is not in the table.
    with pytest.raises(ValueError):
        inspect.signature(math.hypot)
    with sm.patch.dict(vars(builtins), {"saferemock_unreadable": math.hypot}):
        consumer = _consumer()
        with sm.patch_builtin("saferemock_unreadable", module=consumer) as fake:
            consumer.call("saferemock_unreadable", 1, 2, 3, anything=4)
        fake.assert_called_once_with(1, 2, 3, anything=4)


# -- machinery keeps the real builtins ------------------------------------------------------


SITE = next(p for p in sys.path if p.endswith("site-packages"))


def machinery_file(module_name: str) -> str:
    """Where code of ``module_name`` lives: its real file, else a file where it would be."""
    if module_name.startswith("importlib._bootstrap"):
        return f"<frozen {module_name}>"
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return os.path.join(SITE, *module_name.split(".")) + ".py"
    return str(module.__file__)


def run_as(module_name: str, filename: str, code: str, **names: Any) -> dict[str, Any]:
    """Run ``code`` as if it were a line of ``module_name`` in ``filename``."""
    namespace: dict[str, Any] = {"__name__": module_name, **names}
    exec(compile(code, filename, "exec"), namespace)
    return namespace


@pytest.mark.parametrize(
    "module_name",
    [
        "_pytest.python",
        "pytest",
        "pluggy._hooks",
        "unittest.case",
        "doctest",
        "hypothesis.core",
        "pytest_asyncio.plugin",
        "pytest_someplugin.plugin",
        "importlib._bootstrap",
        "coverage.collector",
    ],
)
def test_calls_from_test_machinery_reach_the_real_builtin(module_name: str) -> None:
    code = "result = len([1, 2, 3])"
    with sm.patch_builtin("len", return_value=-1):
        machinery = run_as(module_name, machinery_file(module_name), code)
        user = run_as("myapp.service", "/srv/project/myapp/service.py", code)
    assert machinery["result"] == 3
    assert user["result"] == -1


def test_a_pytest_plugin_under_test_is_code_under_test(tmp_path: pathlib.Path) -> None:
    # Named like a plugin but living in the project, not installed: it gets the fake,
    # and what it writes never reaches the disk.
    plugin = tmp_path / "pytest_myplugin.py"
    plugin.write_text(
        "def save(path, text):\n    with open(path, 'w') as f:\n        f.write(text)\n"
        "def load(path):\n    with open(path) as f:\n        return f.read()\n"
    )
    namespace = run_as("pytest_myplugin", str(plugin), plugin.read_text())
    report = tmp_path / "report.txt"
    with sm.fake_open({tmp_path / "config.ini": "fake"}, strict=False) as fake:
        namespace["save"](report, "secret")
        assert namespace["load"](tmp_path / "config.ini") == "fake"
        assert fake.files[str(report)] == "secret"
    assert not report.exists()


def test_the_standard_library_is_judged_by_who_called_it(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "real.txt"
    path.write_text("real", encoding="utf-8")
    code = "with codecs.open(path, encoding='utf-8') as f:\n    result = f.read()"
    with sm.fake_open({path: "fake"}):
        # codecs.open calls builtins.open: pytest calling codecs gets the disk...
        machinery = run_as(
            "_pytest.probe", machinery_file("_pytest.python"), code, codecs=codecs, path=path
        )
        # ...and the test calling codecs gets the fake.
        with codecs.open(path, encoding="utf-8") as f:
            from_test = f.read()
    assert (machinery["result"], from_test) == ("real", "fake")


def test_code_without_a_file_is_code_under_test() -> None:
    namespace: dict[str, Any] = {}
    with sm.patch_builtin("len", return_value=-1):
        exec("result = len([1])", namespace)
    assert namespace["result"] == -1


def test_unittest_mock_keeps_working_while_len_and_isinstance_are_patched() -> None:
    with (
        sm.patch_builtin("len", return_value=0),
        sm.patch_builtin("isinstance", return_value=False),
        sm.patch_builtin("getattr", return_value=None),
    ):
        other = mock.MagicMock()
        other(1, key="v")
        other.assert_called_once_with(1, key="v")
        assert len([1]) == 0
        assert isinstance(1, int) is False


def test_router_keeps_the_real_signature_for_nested_autospec() -> None:
    with sm.patch_builtin("open"):
        assert inspect.signature(builtins.open) == inspect.signature(REAL_OPEN)
        with mock.patch("builtins.open", autospec=True) as inner:
            open("x")
        inner.assert_called_once_with("x")


# -- pytest keeps working (pytester) --------------------------------------------------------

PYTESTER_SUITE = """
import builtins
from unittest import mock

import pytest
import saferemock as sm

NAMES = ["open", "print", "input", "len", "isinstance"]
REAL = {name: getattr(builtins, name) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_fails_inside_the_block(name):
    with sm.patch_builtin(name):
        assert [1, 2, 3] == [1, 2, 4]


@pytest.fixture(params=NAMES)
def patched(request):
    patcher = sm.patch_builtin(request.param)
    yield patcher.start()
    patcher.stop()


def test_fails_while_a_fixture_keeps_it_patched(patched):
    assert {"key": "left"} == {"key": "right"}


def test_passes_while_a_fixture_keeps_it_patched(patched):
    assert patched is not None


for _name in NAMES:
    @sm.patch_builtin(_name, mock.MagicMock())
    def _decorated():
        assert "abc" == "abd"

    globals()[f"test_decorated_and_failing_{_name}"] = _decorated


def test_fake_open_and_assertion_rewriting_of_a_new_module():
    with sm.fake_open({}):
        import helper
        helper.check(2)


def test_print_and_input_are_mocks_for_the_test(capsys):
    with sm.patch_builtin("print") as fake_print, sm.patch_builtin("input", return_value="y"):
        print("hidden")
        assert input("?") == "y"
    fake_print.assert_called_once_with("hidden")
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("name", NAMES)
def test_the_rest_of_the_suite_sees_the_real_builtins(name):
    assert getattr(builtins, name) is REAL[name]
    assert len([1, 2]) == 2 and isinstance(1, int)
"""


@pytest.mark.parametrize("runner", ["runpytest_subprocess", "runpytest"])
def test_pytest_keeps_working_while_builtins_are_patched(
    pytester: pytest.Pytester, runner: str
) -> None:
    pytester.makeconftest("import pytest\npytest.register_assert_rewrite('helper')\n")
    pytester.makepyfile(helper="def check(x):\n    assert x == 1\n")
    pytester.makepyfile(test_suite=PYTESTER_SUITE)
    result = getattr(pytester, runner)("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=11, failed=16, errors=0, skipped=0, xpassed=0, xfailed=0)
    result.stdout.fnmatch_lines(
        [
            "*test_fails_inside_the_block?isinstance?*",
            "*assert ?1, 2, 3? == ?1, 2, 4?*",
            "*At index 2 diff: 3 != 4*",
        ]
    )
    result.stdout.fnmatch_lines(["*Differing items:*", "*{'key': 'left'} != {'key': 'right'}*"])
    result.stdout.fnmatch_lines(["*def check(x):*", "*assert 2 == 1*"])
    result.stdout.fnmatch_lines(["*AssertionError: assert 'abc' == 'abd'*"])
    assert "INTERNALERROR" not in result.stdout.str()


# -- activation: decorators, start/stop, scope ----------------------------------------------


@sm.patch_builtin("input", return_value="decorated")
def _decorated(fake_input: Any) -> str:
    answer = input("?")
    fake_input.assert_called_once_with("?")
    return str(answer)


def test_decorator_passes_the_mock_and_is_fresh_each_call() -> None:
    assert _decorated() == "decorated"
    assert _decorated() == "decorated"


def test_decorator_with_new_passes_nothing() -> None:
    @sm.patch_builtin("input", lambda prompt="": "given")
    def body(*args: Any) -> tuple[Any, ...]:
        return (*args, input())

    assert body() == ("given",)


def test_async_decorator() -> None:
    @sm.patch_builtin("input", return_value="async")
    async def body(fake_input: Any) -> str:
        await asyncio.sleep(0)
        return str(input())

    assert asyncio.run(body()) == "async"
    assert builtins.input.__module__ == "builtins"


def test_class_decorator_patches_each_test_method() -> None:
    @sm.patch_builtin("len", return_value=9)
    class Suite:
        def test_one(self, fake_len: Any) -> Any:
            assert len([]) == 9
            return fake_len

        def helper(self) -> Any:
            return builtins.len

    Suite().test_one().assert_called_once_with([])
    assert Suite().helper() is REAL_LEN


def test_start_stop_scope_and_stopall() -> None:
    patcher = sm.patch_builtin("len", return_value=1)
    patcher.start()
    assert len([]) == 1
    patcher.stop()
    with pytest.raises(
        sm.SaferemockError,
        match=re.escape(
            "Cannot stop the patch of builtin 'len': it is not active; call start() first or "
            "stop it only once."
        ),
    ):
        patcher.stop()
    consumer = _consumer()
    with pytest.raises(
        sm.SaferemockError,
        match=re.escape("the patch of builtin 'len' in module 'builtins_consumer'"),
    ):
        sm.patch_builtin("len", module=consumer).stop()
    with sm.scope():
        sm.patch_builtin("len", return_value=2).start()
        sm.patch_builtin("len", module=consumer, return_value=3).start()
        assert (len([]), consumer.count([])) == (2, 3)
    assert builtins.len is REAL_LEN
    assert "len" not in vars(consumer)
    sm.patch_builtin("print").start()
    sm.patch_builtin("open").start()
    sm.stopall()
    assert (builtins.print, builtins.open, io.open) == (REAL_PRINT, REAL_OPEN, REAL_OPEN)
    assert patcher.name == "len"


# -- restoring state -------------------------------------------------------------------------


def test_state_restored_after_an_exception_inside() -> None:
    consumer = _consumer(source="open = 'shadow'\n")
    snap = Snapshot(*builtin_slots(), consumer)
    for kwargs in ({}, {"module": consumer}):
        with pytest.raises(KeyError), sm.patch_builtin("open", **kwargs):
            raise KeyError("boom")
    snap.assert_unchanged()


def test_nested_global_and_module_patches_unwind_exactly() -> None:
    consumer = _consumer()
    snap = Snapshot(*builtin_slots(), consumer)
    with sm.patch_builtin("len", return_value=1):
        with sm.patch_builtin("len", module=consumer, return_value=2):
            with sm.patch_builtin("len", return_value=3):
                assert (len([]), consumer.count([])) == (3, 2)
            assert (len([]), consumer.count([])) == (1, 2)
        assert (len([]), consumer.count([])) == (1, 1)
    snap.assert_unchanged()


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 0, 2), (0, 2, 1)])
def test_interleaved_stops_restore_exactly(order: tuple[int, int, int]) -> None:
    consumer = _consumer()
    snap = Snapshot(*builtin_slots(), consumer)
    patchers = [
        sm.patch_builtin("open", return_value="first"),
        sm.fake_open({"a": "second"}),
        sm.patch_builtin("open", module=consumer),
    ]
    for patcher in patchers:
        patcher.start()
    for index in order:
        patchers[index].stop()
    snap.assert_unchanged()


def test_a_value_written_into_the_patched_slot_is_discarded_at_stop() -> None:
    patcher = sm.patch_builtin("print")
    patcher.start()
    builtins.print = object()  # type: ignore[assignment]
    patcher.stop()
    assert builtins.print is REAL_PRINT


# -- a state machine mixing patch_builtin, fake_open and sm.patch ----------------------------

_NAMES = ["open", "print", "input", "sorted"]


class BuiltinsMachine(RuleBasedStateMachine):
    """Start and stop random mixes of global, module-scoped and stdlib-style patches.

    The model: each slot shows the replacement of the most recently started patch of it
    that is still active, or the original.
    """

    runs = Bundle("runs")

    def __init__(self) -> None:
        super().__init__()
        self.consumer = _consumer("machine_consumer")
        self.snapshot = Snapshot(*builtin_slots(), json, self.consumer)
        self.active: list[tuple[Any, list[tuple[object, str]], Any]] = []
        self.slots = [(builtins, n) for n in _NAMES] + [(io, "open"), (json, "dumps")]
        self.slots += [(self.consumer, n) for n in _NAMES]
        self.originals = {(id(o), n): vars(o).get(n, MISSING) for o, n in self.slots}

    def _push(self, patcher: Any, slots: list[tuple[object, str]]) -> Any:
        value = patcher.start()
        entry = (patcher, slots, value)
        self.active.append(entry)
        return entry

    @rule(target=runs, name=st.sampled_from(_NAMES), scoped=st.booleans())
    def patch_builtin(self, name: str, scoped: bool) -> Any:
        owner: object = self.consumer if scoped else builtins
        slots = [(owner, name)]
        if name == "open" and not scoped:
            slots.append((io, "open"))
        return self._push(sm.patch_builtin(name, module=self.consumer if scoped else None), slots)

    @rule(target=runs, scoped=st.booleans())
    def fake_open(self, scoped: bool) -> Any:
        slots: list[tuple[object, str]] = (
            [(self.consumer, "open")]
            if scoped
            else [
                (builtins, "open"),
                (io, "open"),
            ]
        )
        return self._push(sm.fake_open({"f": "x"}, module=self.consumer if scoped else None), slots)

    @rule(target=runs, target_name=st.sampled_from(["builtins.print", "json.dumps"]))
    def stdlib_style_patch(self, target_name: str) -> Any:
        owner: object = builtins if target_name.startswith("builtins") else json
        name = target_name.rpartition(".")[2]
        # sm.patch autospecs from what the slot holds: saferemock's router is fine, but
        # nobody can autospec a Mock object, so stack a plain value on another sm.patch.
        stacked = isinstance(vars(owner)[name], mock.Mock)
        patcher = sm.patch(target_name, object()) if stacked else sm.patch(target_name)
        return self._push(patcher, [(owner, name)])

    @rule(run=runs)
    def stop(self, run: Any) -> None:
        if run in self.active:
            self.active.remove(run)
            run[0].stop()

    @rule()
    def stopall(self) -> None:
        sm.stopall()
        self.active.clear()

    @invariant()
    def slots_show_the_newest_active_replacement(self) -> None:
        expected: dict[tuple[int, str], Any] = {}
        for _patcher, slots, value in self.active:
            for owner, name in slots:
                expected[(id(owner), name)] = value
        for owner, name in self.slots:
            current = vars(owner).get(name, MISSING)
            if inspect.isfunction(current):
                # A global patch of a builtin puts a router in the slot; look through it.
                current = vars(current).get("__saferemock_replacement__", current)
            want = expected.get((id(owner), name), self.originals[(id(owner), name)])
            assert current is want

    def teardown(self) -> None:
        sm.stopall()
        self.snapshot.assert_unchanged()


TestBuiltinsMachine = BuiltinsMachine.TestCase
TestBuiltinsMachine.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
