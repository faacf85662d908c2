"""The guard tells the truth: what real libraries do is not a leak, what tests do is.

Each stand-in library below does, in a few lines, what a real one was seen doing on a
real suite (Cython's runtime modules, cffi's ``Lib`` object, cryptography's
self-replacing deprecation wrapper, ``pyexpat``'s submodule aliases, a package's star
import rebinding a submodule's name, coverage's ``sys.modules`` singleton).  They live
under ``lib/site-packages`` in the pytester directory, which the guard treats as
installed code, as it would a virtualenv's.  Every healthy suite must give no report in
warn and strict mode; every leaky one must name its culprit at the statement that made
the leak.
"""

from __future__ import annotations

import builtins
import pathlib
import sys
import textwrap
import unittest.mock
from collections.abc import Iterator

import pytest
from pluginreport import QUIET, failures, report

import saferemock as sm

LIBRARIES = {
    # A Cython extension registers its runtime modules, made without a spec.
    "fastlib/__init__": """\
        import sys, types

        for name in ("_cython_3_1_2", "cython_runtime"):
            sys.modules.setdefault(name, types.ModuleType(name))


        def speed():
            return 1
        """,
    # cffi's out-of-line module registers itself and its Lib object.
    "cffilib/__init__": """\
        import sys, types


        class Lib:
            pass


        _ffi = types.ModuleType("_cffilib_ffi")
        _ffi.lib = Lib()
        sys.modules["_cffilib_ffi"] = _ffi
        sys.modules["_cffilib_ffi.lib"] = _ffi.lib
        """,
    # cryptography's utils.deprecated(): a module replaces its own entry while imported.
    "deprecating/__init__": """\
        from deprecating import old
        """,
    "deprecating/old": """\
        import sys, types

        VALUE = 1


        class _ModuleWithDeprecations(types.ModuleType):
            def __init__(self, module):
                super().__init__(module.__name__)
                self.__dict__["_module"] = module

            def __getattr__(self, attr):
                return getattr(self._module, attr)


        sys.modules[__name__] = _ModuleWithDeprecations(sys.modules[__name__])
        """,
    # pyexpat: C submodules without a spec, aliased under a second package's names.
    "xmlish/__init__": """\
        import sys, types

        errors = types.ModuleType("_xmlish_c.errors")
        model = types.ModuleType("_xmlish_c.model")
        for part in (errors, model):
            sys.modules[part.__name__] = part
            sys.modules[__name__ + part.__name__[len("_xmlish_c"):]] = part
        """,
    # defusedxml's deprecated modules: a warning that names the line that imported them.
    "oldapi": """\
        import warnings

        warnings.warn("oldapi is deprecated", DeprecationWarning, stacklevel=2)
        """,
    # coverage keeps a process-wide singleton in sys.modules, made by a plugin's hook.
    "singleton_plugin": """\
        import sys, types


        def pytest_configure(config):
            the_one = types.ModuleType("$singleton.the_one")
            sys.modules["$singleton.the_one"] = the_one


        def pytest_sessionstart(session):
            sys.modules["$singleton.the_other"] = types.ModuleType("$singleton.the_other")
        """,
}

# pyparsing's own suite: the package's star imports rebind a submodule's name (its
# ``warnings`` submodule) to the stdlib module of the same name, and go on importing
# submodules while the package is still being imported.
PROJECT = {
    "starpkg/__init__": """\
        from .warnings import *
        from .util import *
        from .later import *
        """,
    "starpkg/later": """\
        LATER = 1
        """,
    "starpkg/warnings": """\
        __all__ = ["warn_once"]


        def warn_once():
            return "once"
        """,
    "starpkg/util": """\
        import warnings


        def helper():
            return warnings
        """,
}

HEALTHY_TESTS = """\
    import sys
    import warnings

    import cffilib
    import deprecating
    import starpkg


    def test_libraries_imported_at_collection():
        assert deprecating.old.VALUE == 1
        assert starpkg.warnings is sys.modules["warnings"]


    def test_libraries_imported_lazily_inside_a_test():
        import fastlib
        import xmlish

        assert fastlib.speed() == 1
        assert sys.modules["xmlish.errors"] is xmlish.errors


    def test_a_library_imported_inside_a_fixture(lazy_lib):
        assert lazy_lib.speed() == 1


    def test_a_warning_at_import_names_the_importing_line():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import oldapi
        assert [w.filename for w in caught] == [__file__]
    """

CONFTEST = """\
    import importlib

    import pytest


    @pytest.fixture
    def lazy_lib():
        return importlib.import_module("fastlib")
    """


def write(pytester: pytest.Pytester, files: dict[str, str], under: str = "") -> None:
    pytester.makepyfile(**{f"{under}{name}": text for name, text in files.items()})


@pytest.fixture
def libraries(pytester: pytest.Pytester) -> pytest.Pytester:
    write(pytester, LIBRARIES, under="lib/site-packages/")
    write(pytester, PROJECT)
    pytester.syspathinsert(pytester.path / "lib" / "site-packages")
    pytester.syspathinsert()
    return pytester


@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_what_libraries_and_plugins_do_is_not_a_leak_and_changes_nothing(
    libraries: pytest.Pytester, mode: str
) -> None:
    libraries.makeconftest(CONFTEST)
    libraries.makepyfile(test_healthy=HEALTHY_TESTS)
    result = libraries.runpytest(*QUIET, "-p", "singleton_plugin", f"--saferemock-guard={mode}")
    result.assert_outcomes(passed=4)
    assert report(result) == []
    assert failures(result) == set()


LEAKY_TESTS = {
    "conftest": """\
        import os, sys
        from unittest.mock import MagicMock

        sys.path.append("/nowhere/conftest")
        os.environ = MagicMock()
        """,
    "app/__init__": "",
    "app/clock": """\
        import time


        def pause():
            time.sleep(1)
        """,
    "app/real": "VALUE = 1\n",
    "test_module_level": """\
        import sys
        from unittest.mock import MagicMock

        import app.clock
        import app.real

        app.clock.time = MagicMock()
        sys.modules["hardware"] = app.real
        sys.path.insert(0, "/nowhere/collection")


        def test_nothing():
            pass
        """,
    "test_calls": """\
        import asyncio
        import json
        import sys
        import time
        from unittest.mock import MagicMock


        def test_sleep_patched_by_hand():
            time.sleep = MagicMock()


        def test_subprocess_patched_by_hand():
            asyncio.create_subprocess_shell = MagicMock()


        def test_a_function_of_the_test_left_on_json():
            def fake_dumps(value):
                return "{}"

            json.dumps = fake_dumps


        def test_sys_path_and_meta_path():
            sys.path.append("/nowhere/call")
            sys.meta_path.append(MagicMock())
        """,
}


MORE = {
    "lib/site-packages/fakefs/__init__": """\
        import sys


        class FakePathModule:
            pass


        _PATH = FakePathModule()


        def patch_everything():
            # Every fake module goes into sys.modules, and cleanup forgets the new keys.
            sys.modules["Path"] = _PATH
        """,
    "lib/site-packages/shellish/__init__": """\
        import builtins


        class Shell:
            def get_shell(self):
                return self


        def start():
            # An interactive shell registers itself in builtins, flag and accessor.
            builtins.get_shellish = Shell().get_shell
            builtins.__SHELLISH__ = True
        """,
    "app/hw/__init__": """\
        import sys
        from unittest.mock import MagicMock

        sys.modules["RPi"] = MagicMock()
        """,
    "app/uses_cloud": """\
        try:
            import cloudsdk
        except ImportError:
            cloudsdk = None
        """,
    "test_hw_one": """\
        import app.hw


        def test_one():
            pass
        """,
    "test_hw_two": """\
        import app.hw


        def test_two():
            pass
        """,
    "test_libs": """\
        import fakefs
        import shellish


        def test_fakefs_first():
            fakefs.patch_everything()


        def test_fakefs_again():
            fakefs.patch_everything()


        def test_a_shell_started():
            shellish.start()
        """,
    "test_reload": """\
        import importlib

        import app.uses_cloud
        import saferemock as sm


        def test_reload_under_a_fake():
            with sm.fake_module_tree(["cloudsdk"]):
                importlib.reload(app.uses_cloud)
        """,
}


def test_leaks_made_by_hand_are_named_at_their_statement(pytester: pytest.Pytester) -> None:
    # In a subprocess: these leaks are real, and would reach this run in-process.
    write(pytester, LEAKY_TESTS)
    result = pytester.runpytest_subprocess(*QUIET, "--saferemock-guard=warn")
    result.assert_outcomes(passed=5)
    assert report(result) == [
        "conftest.py:5 (conftest import): os.environ was replaced by a MagicMock; use "
        "safemock.patch.dict(os.environ, {...}) or monkeypatch.setenv(...) instead",
        "test_module_level.py:7 (collection): app.clock.time is a MagicMock; use "
        "safemock.patch('app.clock.time') instead, undone at teardown",
        "test_module_level.py:8 (collection): sys.modules['hardware'] is the module "
        "'app.real', under another name; list hardware in the saferemock_fake_modules ini "
        "option for a session-wide fake, or use safemock.fake_module_tree(['hardware']) in "
        "a fixture",
        "test_module_level.py:9 (collection): '/nowhere/collection' was added to sys.path; "
        "put it in a conftest.py or the pythonpath ini option instead",
        "test_calls.py::test_a_function_of_the_test_left_on_json: json.dumps is the "
        "function 'test_a_function_of_the_test_left_on_json.<locals>.fake_dumps' from a "
        "test file; use safemock.patch('json.dumps', new=...) instead, undone at teardown",
        "test_calls.py::test_sleep_patched_by_hand: time.sleep is a MagicMock; use "
        "safemock.patch('time.sleep') instead, undone at teardown",
        "test_calls.py::test_subprocess_patched_by_hand: asyncio.create_subprocess_shell is "
        "a MagicMock; use safemock.patch('asyncio.create_subprocess_shell') instead, undone "
        "at teardown",
        "test_calls.py::test_sys_path_and_meta_path: '/nowhere/call' was added to sys.path; "
        "use monkeypatch.syspath_prepend(...) instead",
        "test_calls.py::test_sys_path_and_meta_path: a MagicMock was added to sys.meta_path; "
        "use safemock.patch.object(sys, 'meta_path', [...]) instead",
    ]
    # The conftest's sys.path entry is how many projects make themselves importable.
    assert "/nowhere/conftest" not in result.stdout.str()


SWEPT = """\
    import json
    import shutil
    import textwrap
    from unittest.mock import Mock

    import pytest


    @pytest.fixture(scope="module")
    def shared():
        return Mock(name="shared")


    @pytest.mark.saferemock_allow("json.dumps")
    def test_allowed():
        json.dumps = Mock()


    def test_leaves_the_fixture_mock(shared):
        shutil.which = shared


    def test_leaves_its_own_mock():
        textwrap.dedent = Mock()


    def test_later():
        pass
    """
SWEPT_LEAKS = [
    "test_swept.py:9 (fixture 'shared'): shutil.which is a Mock; use "
    "safemock.patch('shutil.which') instead, undone at teardown",
    "test_swept.py::test_leaves_its_own_mock: textwrap.dedent is a Mock; use "
    "safemock.patch('textwrap.dedent') instead, undone at teardown",
]


@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_a_mock_left_on_another_module_is_named_by_its_maker(
    pytester: pytest.Pytester, mode: str
) -> None:
    # Found by the sweep at the end of the file in warn mode, after the test in strict
    # mode: either way the test that made the mock is named, at its line, and its allow
    # marker holds; a longer-lived fixture's mock left after its teardown is its leak.
    pytester.makepyfile(test_swept=textwrap.dedent(SWEPT))
    # In a subprocess: these leaks are real, and would reach this run in-process.
    result = pytester.runpytest_subprocess(*QUIET, f"--saferemock-guard={mode}")
    assert report(result) == SWEPT_LEAKS
    if mode == "warn":
        result.assert_outcomes(passed=4)
        warning = (
            f"  {pytester.path}/test_swept.py:23: SaferemockLeakWarning: saferemock: "
            + SWEPT_LEAKS[1]
        )
        assert warning in result.stdout.lines
    else:
        # The fixture's mock is undone as the test that tore the fixture down ends.
        result.assert_outcomes(passed=4, errors=2)
        assert failures(result) == {
            "ERROR test_swept.py::test_leaves_its_own_mock",
            "ERROR test_swept.py::test_later",
        }
        assert result.ret == pytest.ExitCode.TESTS_FAILED


BACKPORT_TESTS = """\
    import json

    import mock
    import pytest


    @pytest.fixture
    def hardware():
        import sys

        sys.modules["gpiod_line"] = mock.MagicMock()
        yield


    def test_leaves_a_mock_on_json():
        json.loads = mock.Mock()


    def test_with_hardware(hardware):
        pass


    def test_patched_properly():
        with mock.patch("json.dumps"):
            pass
    """


def test_the_pypi_copy_of_unittest_mock_makes_mocks_too(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Older suites import the PyPI package ``mock``, a copy of unittest.mock with classes
    # of its own: its mocks are named, and blamed on whoever made them, as the stdlib's.
    site = pytester.path / "lib" / "site-packages" / "mock"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("from mock.mock import *\n")
    (site / "mock.py").write_text(pathlib.Path(unittest.mock.__file__).read_text())
    monkeypatch.setenv("PYTHONPATH", str(site.parent))
    pytester.makepyfile(test_backport=textwrap.dedent(BACKPORT_TESTS))
    # In a subprocess: these leaks are real, and would reach this run in-process.
    result = pytester.runpytest_subprocess(*QUIET, "--saferemock-guard=strict")
    assert report(result) == [
        "test_backport.py::test_leaves_a_mock_on_json: json.loads is a Mock; use "
        "safemock.patch('json.loads') instead, undone at teardown",
        "test_backport.py::test_with_hardware: sys.modules['gpiod_line'] is a MagicMock; use "
        "safemock.fake_module_tree(['gpiod_line']) (or "
        "@pytest.mark.fake_modules('gpiod_line')) instead, undone at teardown",
    ]
    assert failures(result) == {
        "ERROR test_backport.py::test_leaves_a_mock_on_json",
        "ERROR test_backport.py::test_with_hardware",
    }


PACKAGE_LEAK = (
    "app/hw/__init__.py:4 (import): sys.modules['RPi'] is a MagicMock; list RPi in the "
    "saferemock_fake_modules ini option for a session-wide fake, or use "
    "safemock.fake_module_tree(['RPi']) in a fixture"
)
LIBRARY_LEAK = (
    "test_libs.py::test_fakefs_first: sys.modules['Path'] is a FakePathModule object, not "
    "a module; fakefs made it, not the test: accept it with saferemock_accept = "
    "sys.modules['Path'] in the ini file, or run the call that makes it inside "
    "safemock.patch.dict(sys.modules) / monkeypatch so it is undone"
)
SHELL_LEAKS = [
    f"test_libs.py::test_a_shell_started: builtins.{name} was added ({value}); shellish "
    f"made it, not the test: accept it with saferemock_accept = builtins.{name} in the ini "
    "file, or run the call that makes it inside safemock.patch.dict(vars(builtins)) / "
    "monkeypatch so it is undone"
    for name, value in [
        ("__SHELLISH__", "True"),
        ("get_shellish", "a method object"),
    ]
]
RELOAD_LEAK = (
    "test_reload.py::test_reload_under_a_fake: app.uses_cloud.cloudsdk is a saferemock fake "
    "of 'cloudsdk', outliving its fake_module_tree; reload it inside "
    "safemock.fresh_import('app.uses_cloud', fakes=[...]) instead, undone at teardown"
)


@pytest.fixture
def more(pytester: pytest.Pytester) -> Iterator[pytest.Pytester]:
    write(pytester, MORE)
    pytester.syspathinsert(pytester.path / "lib" / "site-packages")
    # The shell's builtins are real leaks, and these runs share this process's builtins.
    with sm.patch.dict(vars(builtins)):
        yield pytester


def test_each_leak_is_reported_once_at_its_origin(more: pytest.Pytester) -> None:
    # A package imported by two test files leaks once, on its own line; a library that
    # puts one object back on every use is named as its maker, once.
    result = more.runpytest(*QUIET, "--saferemock-guard=warn")
    result.assert_outcomes(passed=6)
    assert report(result) == [PACKAGE_LEAK, *SHELL_LEAKS, LIBRARY_LEAK, RELOAD_LEAK]


def test_strict_mode_fails_only_the_tests_that_can_fix_their_leak(more: pytest.Pytester) -> None:
    result = more.runpytest(*QUIET, "--saferemock-guard=strict")
    result.assert_outcomes(passed=6, errors=1)
    assert failures(result) == {"ERROR test_reload.py::test_reload_under_a_fake"}
    library_kept = " (strict mode left it in place: the library makes it again on every use)"
    assert report(result) == [
        PACKAGE_LEAK + " (strict mode left it in place: the rest of the run may depend on "
        "it, so undoing it would only make later tests fail)",
        *(leak + library_kept for leak in SHELL_LEAKS),
        LIBRARY_LEAK + library_kept,
        RELOAD_LEAK,
    ]
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_accepted_leaks_are_not_reported_and_do_not_fail_the_run(more: pytest.Pytester) -> None:
    more.makeini(
        """\
        [pytest]
        saferemock_accept =
            sys.modules['Path']
            sys.modules['R*']
            builtins.*shellish*
            builtins.__SHELLISH__
        """
    )
    more.path.joinpath("test_reload.py").unlink()
    result = more.runpytest(*QUIET, "--saferemock-guard=strict")
    result.assert_outcomes(passed=5)
    assert report(result) == []
    assert result.ret == pytest.ExitCode.OK


def test_an_accept_pattern_that_names_no_leak_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nsaferemock_accept = Path\n")
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest(*QUIET)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: saferemock_accept (ini option) lists 'Path', which is not a leak as the "
            "report names it: write sys.modules['name'], os.environ['NAME'], builtins.name, "
            "sys.path or module.attribute, one per line, with * as a wildcard."
        ]
    )


# pyfakefs's own suite: a module-scoped fixture patches ``builtins.open`` and puts an
# import hook first in ``sys.meta_path``; its plugin pauses the patch after each test and
# resumes it, with a new hook and a new bound method, before the next.  And its project
# code puts a fake module object in ``sys.modules`` on every use and never takes it out.
PAUSING = {
    "lib/site-packages/pausefs/__init__": """\
        import builtins
        import sys


        class Finder:
            def find_spec(self, name, path=None, target=None):
                return None


        class FakeIo:
            def open(self, *args, **kwargs):
                raise OSError("the fake file system has no files")


        _IO = FakeIo()


        class Patcher:
            current = None

            def __init__(self):
                self.real_open = builtins.open
                self.finder = None

            def start(self):
                Patcher.current = self
                self.finder = Finder()
                sys.meta_path.insert(0, self.finder)
                builtins.open = _IO.open

            def pause(self):
                if self.finder is not None:
                    sys.meta_path.remove(self.finder)
                    builtins.open = self.real_open
                    self.finder = None

            def resume(self):
                if self.finder is None:
                    self.start()

            def stop(self):
                self.pause()
                Patcher.current = None
        """,
    "conftest": """\
        import pausefs
        import pytest


        @pytest.fixture(scope="module")
        def fake_fs():
            patcher = pausefs.Patcher()
            patcher.start()
            yield patcher
            patcher.stop()


        @pytest.hookimpl(tryfirst=True)
        def pytest_runtest_setup(item):
            if pausefs.Patcher.current is not None:
                pausefs.Patcher.current.resume()


        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_logreport(report):
            yield
            if report.when == "teardown" and pausefs.Patcher.current is not None:
                pausefs.Patcher.current.pause()
        """,
    "app/paths": """\
        import sys


        class PathModule:
            pass


        def install():
            sys.modules["Path"] = PathModule()
        """,
    "test_fs": """\
        import pytest


        @pytest.mark.parametrize("name", ["a", "b", "c"])
        def test_open_is_fake(fake_fs, name):
            with pytest.raises(OSError):
                open(name)
        """,
    "test_paths": """\
        import app.paths


        def test_first():
            app.paths.install()


        def test_second():
            app.paths.install()


        def test_third():
            app.paths.install()
        """,
}
PATH_LEAK = (
    "test_paths.py::test_first: sys.modules['Path'] is a PathModule object, not a module; "
    "use safemock.fake_module_tree(['Path']) (or @pytest.mark.fake_modules('Path')) instead, "
    "undone at teardown"
)


@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_a_paused_fixture_and_an_object_put_back_on_every_use_are_reported_once(
    pytester: pytest.Pytester, mode: str
) -> None:
    write(pytester, PAUSING)
    pytester.syspathinsert(pytester.path / "lib" / "site-packages")
    with sm.patch.dict(sys.modules):
        result = pytester.runpytest(*QUIET, f"--saferemock-guard={mode}")
    if mode == "warn":
        result.assert_outcomes(passed=6)
        assert report(result) == [PATH_LEAK]
    else:
        # Undone once, failing the test that left it; the same object back is left alone.
        result.assert_outcomes(passed=6, errors=1)
        assert failures(result) == {"ERROR test_paths.py::test_first"}
        assert report(result) == [PATH_LEAK]


def test_a_rootdir_that_is_a_package_blames_its_test_package_init(
    pytester: pytest.Pytester,
) -> None:
    # Its modules are imported as <rootdir>.unit_test...; the patcher that the package's
    # __init__.py starts is named there, not on the test file that imported it.
    pytester.makepyfile(
        **{
            "__init__": "",
            "unit_test/__init__": """\
                from unittest.mock import MagicMock, patch

                patcher = patch.dict("sys.modules", {"fancysock": MagicMock()})
                patcher.start()
                """,
            "unit_test/test_sock": """\
                import fancysock


                def test_sock():
                    assert fancysock.connect


                def never_called():
                    import sys

                    sys.path.insert(0, "/nowhere")  # pytest's own insertion is not this
                """,
        }
    )
    result = pytester.runpytest_subprocess(*QUIET, "--saferemock-guard=warn")
    result.assert_outcomes(passed=1)
    assert report(result) == [
        "unit_test/__init__.py:4 (import): the unittest.mock patch of "
        "patch.dict(sys.modules) was started with start() and never stopped "
        "(sys.modules['fancysock'] is a MagicMock); stop it in the same test (a with "
        "block, a decorator, or request.addfinalizer(patcher.stop)), or use the safemock "
        "fixture, which undoes it at teardown"
    ]


def test_test_files_are_told_by_the_projects_python_files_patterns(
    pytester: pytest.Pytester,
) -> None:
    # A function from a file that python_files makes a test file is a test's leak; the
    # same function from a helper module is the project's own business.
    pytester.makeini("[pytest]\npython_files = check_*.py specs/*_spec.py\n")
    write(
        pytester,
        {
            "helpers": """\
                def quiet(*args, **kwargs):
                    return ""
                """,
            "check_names": """\
                import json


                def test_left_a_function_by_name():
                    def fake_dumps(*args, **kwargs):
                        return ""

                    json.dumps = fake_dumps
                """,
            "specs/login_spec": """\
                import json

                import helpers


                def test_left_a_function_by_path():
                    def fake_loads(*args, **kwargs):
                        return {}

                    json.loads = fake_loads


                def test_left_a_helper():
                    json.load = helpers.quiet
                """,
        },
    )
    result = pytester.runpytest_subprocess(*QUIET, "--saferemock-guard=warn")
    result.assert_outcomes(passed=3)
    assert report(result) == [
        "check_names.py::test_left_a_function_by_name: json.dumps is the function "
        "'test_left_a_function_by_name.<locals>.fake_dumps' from a test file; use "
        "safemock.patch('json.dumps', new=...) instead, undone at teardown",
        "specs/login_spec.py::test_left_a_function_by_path: json.loads is the function "
        "'test_left_a_function_by_path.<locals>.fake_loads' from a test file; use "
        "safemock.patch('json.loads', new=...) instead, undone at teardown",
    ]


def test_strict_mode_says_which_leaks_it_undid_too_late_to_fail_their_test(
    pytester: pytest.Pytester,
) -> None:
    write(
        pytester,
        {
            "test_late": """\
                import json

                REAL = json.dumps


                def test_leaves_a_function():
                    def fake_dumps(*args, **kwargs):
                        return ""

                    json.dumps = fake_dumps


                def test_runs_with_it_in_place():
                    assert json.dumps is not REAL
                """,
            "test_later": """\
                import json


                def test_runs_without_it():
                    assert json.dumps({}) == "{}"
                """,
        },
    )
    result = pytester.runpytest_subprocess(*QUIET, "--saferemock-guard=strict")
    result.assert_outcomes(passed=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert report(result) == [
        "test_late.py::test_leaves_a_function: json.dumps is the function "
        "'test_leaves_a_function.<locals>.fake_dumps' from a test file; use "
        "safemock.patch('json.dumps', new=...) instead, undone at teardown (strict mode "
        "undid it when the file ended; the test was not failed)"
    ]
    result.stdout.fnmatch_lines(
        [
            "(strict mode: the leaks of tests, fixtures and test files were undone right "
            "after their culprit, which failed, unless the line says otherwise; the run "
            "fails until they are fixed or accepted)"
        ]
    )
