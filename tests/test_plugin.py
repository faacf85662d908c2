"""The pytest plugin end to end, with pytester (in-process unless a test says why not).

Each test writes a small suite, runs it, and asserts the outcomes and the exact lines of
the saferemock report.  Suites that leak in warn mode end with a test that puts the
world back (restoring a value to its original is never a leak), so nothing leaks into
this run.
"""

from __future__ import annotations

import builtins
import re
import sys
import textwrap

import pytest
from pluginreport import QUIET, failures, report
from statecheck import stacked_on

import saferemock as sm
from saferemock._patch import settings

PHASES = ("conftest", "collection", "setup", "call", "teardown")

LEAKS = """\
sys.modules["fake_{p}"] = MagicMock()
import app.mod_{p}
with mock.patch.dict(sys.modules):
    del sys.modules["app.mod_{p}"]
    importlib.import_module("app.mod_{p}")
builtins.helper_{p} = MagicMock()
mock.patch("app.models.f_{p}").start()
sm.patch("app.models.g_{p}").start()
app.models.h_{p} = MagicMock()
app.models.Model.attr_{p} = MagicMock()
os.environ["GUARD_{P}"] = "1"
"""

IMPORTS = """\
import builtins, importlib, os, sys
from unittest import mock
from unittest.mock import MagicMock

import pytest

import app.models
import saferemock as sm
"""

CLEANUP = """\
import builtins, os
from unittest import mock

import saferemock as sm


def test_zz_cleanup():
    # Only what the suite started: stopall() would also stop pytest-mock's own patches.
    for patcher in list(mock._patch._active_patches):
        if getattr(patcher, "attribute", "").startswith("f_"):
            patcher.stop()
    sm.stopall()
    for name in [n for n in vars(builtins) if n.startswith("helper_")]:
        delattr(builtins, name)
    for name in [n for n in os.environ if n.startswith("GUARD_")]:
        del os.environ[name]
"""


def indent(text: str, spaces: int) -> str:
    return textwrap.indent(text, " " * spaces)


def leak_suite(pytester: pytest.Pytester) -> None:
    """One leak of every kind in every phase."""
    models = "class Model:\n    pass\n\n" + "".join(
        f"def f_{p}(): ...\n\n\ndef g_{p}(): ...\n\n\n" for p in PHASES
    )
    pytester.makepyfile(
        **{
            "app/__init__": "",
            "app/models": models,
            **{f"app/mod_{p}": "" for p in PHASES},
        }
    )
    pytester.makeconftest(IMPORTS + "\n" + LEAKS.format(p="conftest", P="CONFTEST"))
    pytester.makepyfile(
        test_collect=IMPORTS
        + "\n"
        + LEAKS.format(p="collection", P="COLLECTION")
        + "\n\ndef test_collected():\n    pass\n",
        test_phases=IMPORTS
        + textwrap.dedent(
            """

            @pytest.fixture
            def leaky_setup():
            {setup}
                yield


            @pytest.fixture
            def leaky_teardown():
                yield
            {teardown}


            def test_setup(leaky_setup):
                pass


            def test_call():
            {call}


            def test_teardown(leaky_teardown):
                pass
            """
        ).format(
            setup=indent(LEAKS.format(p="setup", P="SETUP"), 4),
            teardown=indent(LEAKS.format(p="teardown", P="TEARDOWN"), 4),
            call=indent(LEAKS.format(p="call", P="CALL"), 4),
        ),
        test_zz_cleanup=CLEANUP,
    )


def expected_lines(pytester: pytest.Pytester, phases: tuple[str, ...] = PHASES) -> list[str]:
    """The report for :func:`leak_suite`, line numbers read from the files written."""

    def line_of(filename: str, text: str) -> int:
        source = (pytester.path / filename).read_text().splitlines()
        return next(n for n, line in enumerate(source, 1) if text in line)

    expected = []
    for p in phases:
        if p in ("conftest", "collection"):
            filename = "conftest.py" if p == "conftest" else "test_collect.py"
            label = "conftest import" if p == "conftest" else "collection"

            def where(text: str, filename: str = filename, label: str = label) -> str:
                return f"{filename}:{line_of(filename, text)} ({label})"

            module_fix = (
                f"list fake_{p} in the saferemock_fake_modules ini option for a session-wide "
                f"fake, or use safemock.fake_module_tree(['fake_{p}']) in a fixture"
            )
        else:
            test = {"setup": "test_setup", "call": "test_call", "teardown": "test_teardown"}[p]

            def where(text: str, test: str = test) -> str:
                return f"test_phases.py::{test}"

            module_fix = (
                f"use safemock.fake_module_tree(['fake_{p}']) (or "
                f"@pytest.mark.fake_modules('fake_{p}')) instead, undone at teardown"
            )
        rows = [
            (
                f'sys.modules["fake_{p}"]',
                f"sys.modules['fake_{p}'] is a MagicMock; {module_fix}",
            ),
            (
                f'del sys.modules["app.mod_{p}"]',
                f"app.mod_{p} is not sys.modules['app.mod_{p}'] (the package attribute is "
                f"the module 'app.mod_{p}'); use safemock.fresh_import('app.mod_{p}') to "
                "import a fresh copy for one test",
            ),
            (
                f"builtins.helper_{p}",
                f"builtins.helper_{p} was added (a MagicMock); add it with "
                f"safemock.patch.object(builtins, 'helper_{p}', value, create=True) instead",
            ),
            (
                f'mock.patch("app.models.f_{p}")',
                f"the unittest.mock patch of app.models.f_{p} was started with start() and "
                "never stopped; stop it in the same test (a with block, a decorator, or "
                "request.addfinalizer(patcher.stop)), or use the safemock fixture, which "
                "undoes it at teardown",
            ),
            (
                f'sm.patch("app.models.g_{p}")',
                f"the patch of 'app.models.g_{p}' was started with start() and never "
                "stopped; use it as a with block or a decorator, or through the safemock "
                "fixture, which undoes it at teardown",
            ),
            (
                f"app.models.h_{p} =",
                f"app.models.h_{p} is a MagicMock; use safemock.patch('app.models.h_{p}') "
                "instead, undone at teardown",
            ),
            (
                f"app.models.Model.attr_{p}",
                f"app.models.Model.attr_{p} is a MagicMock; use "
                f"safemock.patch('app.models.Model.attr_{p}') instead, undone at teardown",
            ),
        ]
        if p != "conftest":
            rows.append(
                (
                    f'os.environ["GUARD_{p.upper()}"]',
                    f"os.environ['GUARD_{p.upper()}'] was set to '1'; use "
                    f"safemock.patch.dict(os.environ, {{'GUARD_{p.upper()}': ...}}) or "
                    f"monkeypatch.setenv('GUARD_{p.upper()}', ...) instead",
                ),
            )
        expected.extend((where(text), what) for text, what in rows)

    def order(row: tuple[str, str]) -> tuple[int, str, int, str]:
        where, what = row
        culprit, _, line = where.partition(" ")[0].partition(":")
        rank = {"conftest.py": 0, "test_collect.py": 1}.get(culprit, 2)
        return (rank, where if rank == 2 else culprit, int(line) if rank < 2 else 0, what)

    expected.sort(key=order)
    return [f"{where}: {what}" for where, what in expected]


def test_warn_mode_reports_every_leak_kind_in_every_phase_and_changes_no_outcome(
    pytester: pytest.Pytester,
) -> None:
    leak_suite(pytester)
    result = pytester.runpytest(*QUIET, "-W", "error")
    result.assert_outcomes(passed=5)
    assert report(result) == expected_lines(pytester)
    assert len(report(result)) == 39
    # Recorded in the warnings summary (at the culprit's line) even under -W error.
    source = (pytester.path / "test_phases.py").read_text().splitlines()
    call_line = source.index("def test_call():") + 1
    result.stdout.fnmatch_lines(
        [
            f"  {pytester.path}/test_collect.py:10: SaferemockLeakWarning: saferemock: "
            "test_collect.py:10 (collection): sys.modules*'fake_collection'*",
            '    sys.modules["fake_collection"] = MagicMock()',
            f"  {pytester.path}/test_phases.py:{call_line}: SaferemockLeakWarning: saferemock: "
            "test_phases.py::test_call: sys.modules*'fake_call'*",
            "(warn mode: nothing was restored and no outcome changed; run 'python -m "
            "saferemock check' or --saferemock-guard=strict to fail only the culprits)",
        ]
    )


def test_strict_mode_reports_the_same_leaks_and_fails_only_the_culprits(
    pytester: pytest.Pytester,
) -> None:
    leak_suite(pytester)
    # The conftest leaks would fail every test below it: move them out of the way so the
    # other phases can be seen (conftest leaks in strict mode are tested on their own).
    conftest = pytester.path / "conftest.py"
    conftest.write_text(IMPORTS)
    result = pytester.runpytest(*QUIET, "--saferemock-guard=strict")
    # The file's test fails without running; each leaking test passes, and its teardown,
    # checked once the test's fixtures are torn down, is an error that names the leaks.
    result.assert_outcomes(passed=4, failed=1, errors=3)
    assert report(result) == expected_lines(pytester, PHASES[1:])
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at teardown of test_call _*",
            "saferemock (strict mode) restored global state that this test left behind:",
            "  test_phases.py::test_call: app.mod_call is not sys.modules*",
            "(strict mode: each leak was undone right after its culprit, which failed; "
            "every other test ran in a clean world)",
        ]
    )
    assert failures(result) == {
        "FAILED test_collect.py::test_collected",
        "ERROR test_phases.py::test_setup",
        "ERROR test_phases.py::test_call",
        "ERROR test_phases.py::test_teardown",
    }
    assert "Interrupted" not in result.stdout.str()


def test_strict_mode_fails_the_teardown_of_a_leaking_test_whatever_its_own_outcome(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_outcomes="""\
        import os

        import pytest


        def test_passes_and_leaks():
            os.environ["GUARD_PASSES"] = "1"


        def test_fails_and_leaks():
            os.environ["GUARD_FAILS"] = "1"
            assert False


        @pytest.mark.xfail(reason="known")
        def test_xfail_and_leaks():
            os.environ["GUARD_XFAIL"] = "1"
            assert False


        def test_victim():
            assert not [name for name in os.environ if name.startswith("GUARD_")]
        """
    )
    result = pytester.runpytest(*QUIET, "--saferemock-guard=strict")
    # A leak in an xfail test is still an error: the marker expects the failure, not it.
    result.assert_outcomes(passed=2, failed=1, xfailed=1, errors=3)
    assert failures(result) == {
        "ERROR test_outcomes.py::test_passes_and_leaks",
        "FAILED test_outcomes.py::test_fails_and_leaks",
        "ERROR test_outcomes.py::test_fails_and_leaks",
        "ERROR test_outcomes.py::test_xfail_and_leaks",
    }
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at teardown of test_xfail_and_leaks _*",
            "saferemock (strict mode) restored global state that this test left behind:",
            "  test_outcomes.py::test_xfail_and_leaks: os.environ['GUARD_XFAIL'] was set to "
            "'1'; use safemock.patch.dict(os.environ, {'GUARD_XFAIL': ...}) or "
            "monkeypatch.setenv('GUARD_XFAIL', ...) instead",
        ]
    )
    assert report(result) == [
        f"test_outcomes.py::test_{test}_and_leaks: os.environ['GUARD_{name}'] was set to '1'; "
        f"use safemock.patch.dict(os.environ, {{'GUARD_{name}': ...}}) or "
        f"monkeypatch.setenv('GUARD_{name}', ...) instead"
        for test, name in [("fails", "FAILS"), ("passes", "PASSES"), ("xfail", "XFAIL")]
    ]


HAUNTED_CULPRIT = """\
import sys
from unittest.mock import MagicMock

sys.modules["cloudsdk"] = MagicMock()

import cloudapp.monitor


def test_culprit():
    assert cloudapp.monitor.sdk.connect()
"""

HAUNTED_VICTIM = """\
def test_victim():
    import cloudapp.regions
    assert cloudapp.regions.region() is None
"""


def haunted(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        **{
            "cloudapp/__init__": "",
            "cloudapp/monitor": "import cloudsdk as sdk\n",
            "cloudapp/regions": textwrap.dedent(
                """\
                try:
                    import cloudsdk
                except ImportError:
                    cloudsdk = None


                def region():
                    return None if cloudsdk is None else cloudsdk.region
                """
            ),
            "test_a_culprit": HAUNTED_CULPRIT,
            "test_b_victim": HAUNTED_VICTIM,
        }
    )


def test_the_seed_story_warn_mode_names_the_file_and_line_strict_mode_saves_the_victim(
    pytester: pytest.Pytester,
) -> None:
    haunted(pytester)
    expected = [
        "test_a_culprit.py:4 (collection): sys.modules['cloudsdk'] is a MagicMock; list "
        "cloudsdk in the saferemock_fake_modules ini option for a session-wide fake, or use "
        "safemock.fake_module_tree(['cloudsdk']) in a fixture"
    ]
    alone = pytester.runpytest(*QUIET, "test_b_victim.py")
    alone.assert_outcomes(passed=1)
    warn = pytester.runpytest(*QUIET)
    warn.assert_outcomes(passed=1, failed=1)
    warn.stdout.fnmatch_lines(["FAILED test_b_victim.py::test_victim - AssertionError*"])
    assert report(warn) == expected
    strict = pytester.runpytest(*QUIET, "--saferemock-guard=strict")
    strict.assert_outcomes(passed=1, failed=1)
    strict.stdout.fnmatch_lines(["FAILED test_a_culprit.py::test_culprit*"])
    assert report(strict) == expected
    # Deselecting the culprit's test does not hide its file's leak, and still fails the run.
    selected = pytester.runpytest(*QUIET, "--saferemock-guard=strict", "-k", "victim")
    selected.assert_outcomes(passed=1)
    # assert_outcomes(deselected=...) is pytest 7.0 and later.
    assert selected.parseoutcomes()["deselected"] == 1
    assert report(selected) == expected
    assert selected.ret == pytest.ExitCode.TESTS_FAILED


def test_strict_collection_leak_fails_its_tests_even_xfail_ones_and_the_rest_runs(
    pytester: pytest.Pytester,
) -> None:
    haunted(pytester)
    pytester.makepyfile(
        test_a_culprit="import pytest\n"
        + HAUNTED_CULPRIT
        + "\n\n@pytest.mark.xfail(reason='known')\ndef test_known():\n    assert False\n",
    )
    result = pytester.runpytest(*QUIET, "--saferemock-guard=strict")
    result.assert_outcomes(passed=1, failed=2)


KEPT = (
    " (strict mode left it in place: the rest of the run may depend on it, so undoing it "
    "would only make later tests fail)"
)


def test_strict_mode_reports_a_conftest_leak_and_leaves_what_collection_depends_on(
    pytester: pytest.Pytester,
) -> None:
    # A conftest's session-wide stub (the RPi.GPIO one of a Raspberry Pi project): later
    # collection imports code that needs it, so strict mode reports it, fails the run,
    # and leaves it in place instead of pulling it out from under every test.
    pytester.makepyfile(
        **{
            "sub/conftest": "import builtins\nbuiltins.helper_sub = 1\n",
            "sub/test_below": "import builtins\nassert builtins.helper_sub == 1\n\n"
            "def test_below():\n    pass\n",
            "test_zz_cleanup": "def test_cleanup():\n    import builtins\n"
            "    del builtins.helper_sub\n",
        }
    )
    result = pytester.runpytest(*QUIET, "--saferemock-guard=strict")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert report(result) == [
        "sub/conftest.py:2 (conftest import): builtins.helper_sub was added (1); add it with "
        "safemock.patch.object(builtins, 'helper_sub', value, create=True) instead" + KEPT
    ]


def test_a_strict_run_that_leaked_fails_even_when_it_collected_no_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest("import builtins\nbuiltins.helper_empty = 1\n")
    try:
        result = pytester.runpytest(*QUIET, "--saferemock-guard=strict")
    finally:
        del builtins.helper_empty  # type: ignore[attr-defined]
    result.assert_outcomes()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert report(result) == [
        "conftest.py:2 (conftest import): builtins.helper_empty was added (1); add it with "
        "safemock.patch.object(builtins, 'helper_empty', value, create=True) instead" + KEPT
    ]


def test_a_module_fixture_is_judged_at_its_teardown_and_blamed_by_name(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """\
        import builtins
        from unittest import mock

        import pytest


        @pytest.fixture(scope="module")
        def keeps_it():
            mock.patch("json.dumps").start()
            builtins.helper_fixture = mock.MagicMock()
            yield


        @pytest.fixture(scope="module")
        def restores_it():
            patcher = mock.patch("json.loads")
            patcher.start()
            yield
            patcher.stop()
        """
    )
    pytester.makepyfile(
        test_fixtures="""\
        import json


        def test_one(keeps_it, restores_it):
            pass


        def test_two(keeps_it, restores_it):
            pass
        """,
        test_later="""\
        import builtins
        import json


        def test_clean_world():
            assert json.dumps(1) == "1"
            assert not hasattr(builtins, "helper_fixture")
        """,
    )
    result = pytester.runpytest(*QUIET, "--saferemock-guard=strict")
    result.assert_outcomes(passed=3, errors=1)
    assert report(result) == [
        "conftest.py:7 (fixture 'keeps_it'): builtins.helper_fixture was added (a "
        "MagicMock); add it with safemock.patch.object(builtins, 'helper_fixture', value, "
        "create=True) instead",
        "conftest.py:7 (fixture 'keeps_it'): the unittest.mock patch of json.dumps was "
        "started with start() and never stopped; stop it in the same test (a with block, a "
        "decorator, or request.addfinalizer(patcher.stop)), or use the safemock fixture, "
        "which undoes it at teardown",
    ]
    result.stdout.fnmatch_lines(["ERROR test_fixtures.py::test_two*"])


def test_a_leak_in_setupclass_or_setup_module_is_blamed_on_that_method(
    pytester: pytest.Pytester,
) -> None:
    # pytest runs them through fixtures of its own, defined in pytest's files.
    pytester.makepyfile(
        test_xunit="""\
        import builtins
        import unittest
        from unittest import mock


        def setup_module():
            builtins.helper_module = mock.MagicMock()


        class TestCase(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                builtins.helper_class = mock.MagicMock()

            def test_it(self):
                pass
        """
    )
    with sm.patch.dict(vars(builtins)):  # the leaks are real, in this process
        result = pytester.runpytest(*QUIET, "--saferemock-guard=warn")
    result.assert_outcomes(passed=1)
    # pytest before 8 names its fixtures without the leading underscore.
    assert [re.sub("'_?", "'_", line, count=1) for line in report(result)] == [
        f"test_xunit.py:{line} (fixture '{fixture}'): builtins.helper_{name} was added (a "
        f"MagicMock); add it with safemock.patch.object(builtins, 'helper_{name}', value, "
        "create=True) instead"
        for line, fixture, name in [
            (11, "_unittest_setUpClass_fixture_TestCase", "class"),
            (6, "_xunit_setup_module_fixture_test_xunit", "module"),
        ]
    ]


CLEAN_CONFTEST = """\
import json
import os
from unittest import mock

import pytest


@pytest.fixture(scope="session", autouse=True)
def no_network():
    with mock.patch("socket.create_connection"):
        yield


@pytest.fixture(scope="module")
def module_patch(module_mocker):
    return module_mocker.patch("json.loads", return_value={})


@pytest.fixture(scope="class")
def class_env():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLASS_MODE", "on")
        yield


@pytest.fixture(scope="session")
def session_fakes(session_safemock):
    session_safemock.fake_module_tree(["grpc.aio"])
    return session_safemock


@pytest.fixture(scope="module")
def module_fakes(module_safemock):
    return module_safemock.patch("json.dumps", return_value="mocked")


@pytest.fixture(scope="package")
def package_fakes(package_safemock):
    return package_safemock.patch.dict(os.environ, {"PACKAGE_MODE": "on"})


def pytest_collection_modifyitems(items):
    items.reverse()  # like pytest-randomly: attribution must not depend on order
"""

CLEAN_TESTS = """\
import builtins
import importlib
import json
import os
import sys
import unittest
from unittest import mock

import pytest

import saferemock as sm
import cleanapp.rates
import cleanapp.settings

setup_patch = None


def setup_module():
    global setup_patch
    setup_patch = mock.patch("cleanapp.settings.load")
    setup_patch.start()


def teardown_module():
    setup_patch.stop()


@mock.patch("json.dumps", return_value="x")
def test_unittest_patch_decorator(dumps):
    assert json.dumps(1) == "x"


def test_unittest_patch_context_and_started_with_cleanup(request):
    with mock.patch.dict(sys.modules, {"ghost": mock.MagicMock()}):
        import ghost  # noqa: F401
    patcher = mock.patch.object(cleanapp.settings, "TIMEOUT", 1)
    patcher.start()
    request.addfinalizer(patcher.stop)
    with mock.patch.dict(os.environ, {"APP_MODE": "test"}):
        pass


def test_monkeypatch(monkeypatch):
    monkeypatch.setattr(cleanapp.settings, "TIMEOUT", mock.MagicMock())
    monkeypatch.setattr(builtins, "input", lambda *a: "y")
    monkeypatch.setenv("APP_MODE", "test")
    monkeypatch.setitem(sys.modules, "ghost", mock.MagicMock())
    monkeypatch.delattr(builtins, "copyright")


def test_mocker(mocker):
    mocker.patch("json.dumps", return_value="y")
    mocker.patch.dict(os.environ, {"APP_MODE": "mocker"})
    mocker.patch.object(cleanapp.settings.Config, "debug", True)


def test_module_mocker(module_patch):
    assert json.loads("[]") == {}


def test_safemock_every_primitive(safemock, tmp_path):
    safemock.patch("json.dumps", return_value="z")
    safemock.patch.object(cleanapp.settings, "TIMEOUT", 2)
    safemock.patch.dict(os.environ, {"APP_MODE": "safemock"})
    safemock.fake_module_tree(["confluent_kafka.schema_registry.avro"])
    import confluent_kafka.schema_registry.avro  # noqa: F401
    safemock.block_modules("yaml")
    safemock.fresh_import("cleanapp.settings")
    safemock.patch_builtin("input", return_value="n")
    safemock.fake_open({"config.yaml": "debug: true"})
    safemock.fresh_attr("cleanapp.settings.Config.load")
    safemock.clear_caches("cleanapp.rates")


@pytest.mark.fake_modules("RPi.GPIO")
@pytest.mark.clear_caches("cleanapp.rates")
def test_markers():
    import RPi.GPIO  # noqa: F401


@pytest.mark.fake_modules({"vendor_sdk": {"VERSION": "1.0"}})
def test_fake_modules_marker_with_attributes():
    import vendor_sdk

    assert vendor_sdk.VERSION == "1.0"


@pytest.mark.parametrize("run", [1, 2])
def test_the_ini_option_clears_caches_around_each_test(run):
    assert cleanapp.rates.rate.cache_info().currsize == 0
    cleanapp.rates.rate()


def test_scoped_fixtures(session_fakes, module_fakes, package_fakes):
    import grpc.aio  # noqa: F401
    assert json.dumps(1) == "mocked"
    session_fakes.patch.dict(os.environ, {"SESSION_MODE": "on"})


@pytest.fixture(scope="class")
def class_dumps(class_safemock):
    return class_safemock.patch("json.dumps", return_value="c")


@pytest.mark.usefixtures("class_env", "class_dumps")
class TestClass:
    def test_one(self):
        assert json.dumps(1) == "c"

    def test_two(self, class_safemock):
        class_safemock.patch.dict(os.environ, {"IN_CLASS": "1"})
        assert json.dumps(1) == "c"


class TestCase(sm.SafeMockTestCase):
    def setUp(self):
        self.safemock.patch("json.dumps", return_value="tc")

    def test_it(self):
        self.assertEqual(json.dumps(1), "tc")
        importlib.import_module("email.mime.text")
"""

CLEAN_APP = """\
import functools

TIMEOUT = 30


class Config:
    debug = False

    def load(self):
        return {}


@functools.cache
def load():
    return {"timeout": TIMEOUT}
"""


def test_a_clean_suite_using_every_mocking_tool_correctly_has_no_report(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(
        "[pytest]\nsaferemock_fake_modules = kafka_fake.consumer\n"
        "saferemock_clear_caches = cleanapp.rates\n"
    )
    pytester.makepyfile(
        **{
            "cleanapp/__init__": "",
            "cleanapp/settings": CLEAN_APP,
            "cleanapp/rates": "import functools\n\n\n@functools.lru_cache\ndef rate():\n"
            "    return 1.0\n",
            "pkg/__init__": "",
            "pkg/conftest": CLEAN_CONFTEST + "\nimport kafka_fake.consumer\n",
            "pkg/test_clean": CLEAN_TESTS,
        }
    )
    result = pytester.runpytest(*QUIET, "--saferemock-guard=strict")
    result.assert_outcomes(passed=14)
    assert report(result) == []
    assert "Saferemock" not in result.stdout.str()
    # The session fakes were removed through their journal at the end of the run.
    assert not stacked_on(sys.modules)


def test_saferemock_allow_accepts_named_leaks_from_a_test_or_a_whole_file(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_allowed="""\
        import builtins, os, sys
        from unittest.mock import MagicMock

        import pytest

        pytestmark = pytest.mark.saferemock_allow("sys.modules['legacy_*']")
        sys.modules["legacy_sdk"] = MagicMock()


        @pytest.mark.saferemock_allow("builtins.helper_allowed")
        def test_named():
            builtins.helper_allowed = 1
            builtins.helper_other = 1


        @pytest.mark.saferemock_allow()
        def test_everything():
            os.environ["GUARD_ALLOWED"] = "1"


        def test_zz_cleanup():
            del builtins.helper_allowed, builtins.helper_other
            del os.environ["GUARD_ALLOWED"]
        """
    )
    result = pytester.runpytest(*QUIET, "--strict-markers")
    result.assert_outcomes(passed=3)
    assert report(result) == [
        "test_allowed.py::test_named: builtins.helper_other was added (1); add it with "
        "safemock.patch.object(builtins, 'helper_other', value, create=True) instead"
    ]


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (
            ["--saferemock-guard=loud"],
            "",
            "ERROR: --saferemock-guard=loud is not a guard mode: use one of off, warn, strict.",
        ),
        (
            [],
            "saferemock_guard = quiet",
            "ERROR: saferemock_guard = quiet (ini option) is not a guard mode: use one of off, "
            "warn, strict.",
        ),
        (
            [],
            "saferemock_require_use = maybe",
            "ERROR: saferemock_require_use = maybe (ini option) is not a boolean: use one of "
            "true, false (or yes/no, on/off, 1/0).",
        ),
        (
            [],
            "saferemock_fake_modules = good.name 9bad",
            "ERROR: saferemock_fake_modules (ini option) lists '9bad', which is not a dotted "
            "module name: use names such as boto3 or confluent_kafka.schema_registry, "
            "separated by spaces or new lines.",
        ),
    ],
    ids=["flag", "guard-ini", "require-use-ini", "fake-modules-ini"],
)
def test_a_bad_option_value_is_a_usage_error_naming_the_valid_values(
    pytester: pytest.Pytester, args: list[str], ini: str, message: str
) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest(*QUIET, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.lines


def test_off_mode_and_disabling_the_plugin_report_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_leak="""\
        import sys
        from unittest.mock import MagicMock

        sys.modules["cloudsdk"] = MagicMock()


        def test_x():
            pass
        """
    )
    off = pytester.runpytest(*QUIET, "--saferemock-guard=off")
    off.assert_outcomes(passed=1)
    assert report(off) == []
    disabled = pytester.runpytest(*QUIET, "-p", "no:saferemock", "--fixtures")
    assert "safemock" not in disabled.stdout.str()
    enabled = pytester.runpytest(*QUIET, "--fixtures")
    for name in ("safemock", "session_safemock"):
        # pytest before 7 prints a function-scoped fixture's name alone on its line.
        enabled.stdout.re_match_lines([rf"{name}( |$)"])


def test_require_use_ini_option_makes_unused_patches_fail(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nsaferemock_require_use = true\n")
    pytester.makepyfile(
        test_unused="""\
        import json


        def test_unused(safemock):
            safemock.patch("json.dumps")


        def test_used(safemock):
            safemock.patch("json.dumps")
            json.dumps(1)
        """
    )
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["E *UnusedPatchError: The patch of 'json.dumps' was never used*"])
    assert settings.require_use is False
    assert not stacked_on(settings)


def test_a_marker_that_cannot_be_undone_fails_the_teardown_of_its_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_marker_undo="""\
        import functools

        import pytest


        @functools.lru_cache
        def rate():
            return 1.0


        def cannot_clear():
            raise RuntimeError("this cache cannot be cleared")


        @pytest.mark.clear_caches(__name__)
        def test_breaks_its_cache():
            rate.cache_clear = cannot_clear


        def test_next():
            del rate.cache_clear
        """
    )
    result = pytester.runpytest(*QUIET)
    assert result.parseoutcomes() == {"passed": 2, "errors": 1}
    assert failures(result) == {"ERROR test_marker_undo.py::test_breaks_its_cache"}
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at teardown of test_breaks_its_cache _*",
            "E *saferemock.UndoError: 1 undo step failed and the rest were undone: clearing "
            "the caches of clear_caches('test_marker_undo'): RuntimeError('this cache cannot "
            "be cleared').",
        ]
    )


def test_last_failed_rerun_and_keyword_selection_keep_working(pytester: pytest.Pytester) -> None:
    haunted(pytester)
    plugins = ("-p", "no:xdist", "-p", "no:asyncio", "-p", "no:anyio")
    first = pytester.runpytest(*plugins)
    first.assert_outcomes(passed=1, failed=1)
    # Only the victim's file is collected again: no culprit, no leak, and it passes.
    again = pytester.runpytest(*plugins, "--lf", "--saferemock-guard=strict")
    again.assert_outcomes(passed=1)
    assert report(again) == []


def test_unittest_test_cases_are_guarded_like_functions(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_cases="""\
        import os
        import unittest


        class TestLeaky(unittest.TestCase):
            def setUp(self):
                os.environ["GUARD_TESTCASE"] = "1"

            def test_it(self):
                pass


        class TestVictim(unittest.TestCase):
            def test_clean_world(self):
                self.assertNotIn("GUARD_TESTCASE", os.environ)
        """
    )
    result = pytester.runpytest(*QUIET, "--saferemock-guard=strict")
    result.assert_outcomes(passed=2, errors=1)
    assert failures(result) == {"ERROR test_cases.py::TestLeaky::test_it"}
    assert report(result) == [
        "test_cases.py::TestLeaky::test_it: os.environ['GUARD_TESTCASE'] was set to '1'; use "
        "safemock.patch.dict(os.environ, {'GUARD_TESTCASE': ...}) or "
        "monkeypatch.setenv('GUARD_TESTCASE', ...) instead"
    ]
