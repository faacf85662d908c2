"""SafeMockTestCase: ``self.safemock`` undone through addCleanup, under unittest and pytest."""

from __future__ import annotations

import io
import json
import os
import unittest
from collections.abc import Iterator
from typing import Any

import patchtargets
import pytest
from statecheck import Snapshot, active_runs

import saferemock as sm


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    snap = Snapshot(patchtargets, json, os.environ)
    yield
    assert active_runs() == []
    snap.assert_unchanged()


def run(*tests: unittest.TestCase) -> unittest.TestResult:
    result = unittest.TestResult()
    unittest.TestSuite(tests).run(result)
    return result


def messages(result: unittest.TestResult) -> list[str]:
    """The exception line of each error and failure (the first unindented line after the trace)."""
    lines = []
    for _, text in result.errors + result.failures:
        body = [
            line for line in text.splitlines() if line and not line.startswith((" ", "Traceback"))
        ]
        lines.append(body[0])
    return lines


def test_safemock_is_created_on_first_use_and_closed_by_a_cleanup() -> None:
    seen: list[Any] = []

    class Test(sm.SafeMockTestCase):
        def setUp(self) -> None:
            seen.append(self._saferemock_safemock)
            self.safemock.patch.object(patchtargets, "CONSTANT", 1)

        def test_it(self) -> None:
            seen.append(self.safemock)
            assert self.safemock is seen[-1]
            assert patchtargets.CONSTANT == 1

        def tearDown(self) -> None:
            # tearDown runs before cleanups: the patch is still in force here.
            seen.append(patchtargets.CONSTANT)

    result = run(Test("test_it"))
    assert result.wasSuccessful(), messages(result)
    assert result.testsRun == 1
    assert seen[0] is None
    assert seen[2] == 1
    assert seen[1].closed
    assert patchtargets.CONSTANT == 42


def test_each_test_gets_its_own_safemock() -> None:
    seen: list[sm.SafeMock] = []

    class Test(sm.SafeMockTestCase):
        def test_a(self) -> None:
            seen.append(self.safemock)
            self.safemock.patch.object(patchtargets, "CONSTANT", 1)

        def test_b(self) -> None:
            seen.append(self.safemock)
            assert patchtargets.CONSTANT == 42

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(Test).run(result)
    assert result.wasSuccessful(), messages(result)
    assert result.testsRun == 2
    assert seen[0] is not seen[1]


def test_setup_without_super_still_gets_a_safemock() -> None:
    class Test(sm.SafeMockTestCase):
        def setUp(self) -> None:  # no super().setUp(): nothing in SafeMockTestCase needs it
            self.env = self.safemock.patch.dict(os.environ, SAFEMOCK_TEST="1")

        def test_it(self) -> None:
            assert os.environ["SAFEMOCK_TEST"] == "1"

    result = run(Test("test_it"))
    assert result.wasSuccessful(), messages(result)
    assert "SAFEMOCK_TEST" not in os.environ


def test_state_is_restored_after_a_failing_and_an_erroring_test() -> None:
    class Test(sm.SafeMockTestCase):
        def test_fails(self) -> None:
            self.safemock.patch("json.dumps", return_value="x")
            self.safemock.patch.dict(os.environ, SAFEMOCK_TEST="1")
            assert json.dumps(1) == "1"

        def test_errors(self) -> None:
            self.safemock.patch.object(patchtargets, "CONSTANT", 1)
            raise KeyError("boom")

    result = run(Test("test_fails"), Test("test_errors"))
    assert len(result.failures) == 1
    assert len(result.errors) == 1
    assert messages(result) == ["KeyError: 'boom'", "AssertionError: assert 'x' == '1'"]


def test_cleanups_added_before_first_use_run_after_the_close() -> None:
    order: list[object] = []

    class Test(sm.SafeMockTestCase):
        def test_it(self) -> None:
            self.addCleanup(lambda: order.append(patchtargets.CONSTANT))
            self.safemock.patch.object(patchtargets, "CONSTANT", 1)
            self.addCleanup(lambda: order.append(patchtargets.CONSTANT))

    result = run(Test("test_it"))
    assert result.wasSuccessful(), messages(result)
    # Cleanups are LIFO: the later one sees the patch, the earlier one sees it undone.
    assert order == [1, 42]


def test_an_undo_failure_is_reported_as_a_test_error() -> None:
    class Frozen:
        frozen = False

        def __delattr__(self, name: str) -> None:
            if type(self).frozen:
                raise AttributeError(f"frozen: {name}")
            object.__delattr__(self, name)

    target = Frozen()

    class Test(sm.SafeMockTestCase):
        def test_it(self) -> None:
            self.safemock.patch.object(target, "value", 1, create=True)
            self.safemock.patch.object(patchtargets, "CONSTANT", 1)
            Frozen.frozen = True

    result = run(Test("test_it"))
    Frozen.frozen = False
    assert messages(result) == [
        "saferemock.UndoError: 1 undo step failed and the rest were undone: restoring "
        "'Frozen' object attribute 'value': AttributeError('frozen: value')."
    ]
    assert patchtargets.CONSTANT == 42


def test_the_same_test_instance_can_run_twice() -> None:
    class Test(sm.SafeMockTestCase):
        def test_it(self) -> None:
            assert not self.safemock.closed
            self.safemock.patch.object(patchtargets, "CONSTANT", 1)

    case = Test("test_it")
    assert run(case).wasSuccessful()
    result = run(case)
    assert result.wasSuccessful(), messages(result)
    assert result.testsRun == 1


def test_a_kept_reference_refuses_use_after_the_test() -> None:
    kept: list[sm.SafeMock] = []

    class Test(sm.SafeMockTestCase):
        def test_it(self) -> None:
            kept.append(self.safemock)

    assert run(Test("test_it")).wasSuccessful()
    with pytest.raises(sm.SaferemockError) as info:
        kept[0].patch("json.dumps")
    assert str(info.value) == (
        "Cannot call safemock.patch(): this SafeMock is closed, so nothing started now would "
        "be undone; use the safemock of a fixture or test that is still running, or create a "
        "new SafeMock."
    )


def test_mixes_with_another_testcase_base() -> None:
    class OtherBase(unittest.TestCase):
        def helper(self) -> str:
            return "helper"

    class Test(sm.SafeMockTestCase, OtherBase):
        def test_it(self) -> None:
            self.safemock.patch.object(patchtargets, "CONSTANT", 1)
            assert self.helper() == "helper"

    result = run(Test("test_it"))
    assert result.wasSuccessful(), messages(result)


def test_mixes_with_isolated_asyncio_test_case() -> None:
    class Test(sm.SafeMockTestCase, unittest.IsolatedAsyncioTestCase):
        async def asyncSetUp(self) -> None:
            self.fetch = self.safemock.patch("patchtargets.fetch", return_value="mocked")

        async def test_it(self) -> None:
            assert await patchtargets.fetch("url") == "mocked"
            self.fetch.assert_awaited_once_with("url")

    original = patchtargets.fetch
    result = run(Test("test_it"))
    assert result.wasSuccessful(), messages(result)
    assert patchtargets.fetch is original


def test_under_the_unittest_text_runner() -> None:
    class Test(sm.SafeMockTestCase):
        def test_a_patches(self) -> None:
            self.safemock.patch("json.dumps", return_value="{}")
            assert json.dumps([]) == "{}"

        def test_b_sees_the_real_function(self) -> None:
            assert json.dumps([]) == "[]"

    stream = io.StringIO()
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(Test)
    result = unittest.TextTestRunner(stream=stream, verbosity=0).run(suite)
    assert result.wasSuccessful(), stream.getvalue()
    assert result.testsRun == 2


# -- under pytest ----------------------------------------------------------------------------

PYTEST_SUITE = """
import json
import os
import unittest

import saferemock as sm


class TestWithSafemock(sm.SafeMockTestCase):
    def setUp(self):
        self.dumps = self.safemock.patch("json.dumps", return_value="{}")

    def test_a_patched(self):
        self.safemock.patch.dict(os.environ, SAFEMOCK_TEST="1")
        self.assertEqual(json.dumps([1]), "{}")
        self.dumps.assert_called_once_with([1])

    def test_b_failing_restores_too(self):
        self.safemock.patch.dict(os.environ, SAFEMOCK_TEST="2")
        self.assertEqual(json.dumps([1]), "[1]")

    def test_d_undo_failure_is_an_error(self):
        class Frozen:
            def __delattr__(self, name):
                raise AttributeError("frozen")
        self.safemock.patch.object(Frozen(), "value", 1, create=True)

    @unittest.skip("skipped")
    def test_e_skipped(self):
        self.safemock.patch("json.loads")


class TestLazy(sm.SafeMockTestCase):
    def test_closed_after_use(self):
        # Registered before the first use of self.safemock, so it runs after the close.
        self.addCleanup(lambda: self.assertTrue(self.kept.closed))
        self.kept = self.safemock
        self.kept.patch("json.loads")


class TestAfterwards(unittest.TestCase):
    def test_state_is_clean(self):
        self.assertEqual(json.dumps([1]), "[1]")
        self.assertNotIn("SAFEMOCK_TEST", os.environ)


def test_plain_function_afterwards():
    assert json.dumps([]) == "[]"
    assert "SAFEMOCK_TEST" not in os.environ
"""


# pytest-asyncio is not needed here, and without it no ini option has to quiet it.
QUIET = ("-p", "no:cacheprovider", "-p", "no:asyncio")


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(test_suite=PYTEST_SUITE)
    return pytester


@pytest.mark.parametrize(
    "args",
    [[], ["-p", "no:saferemock"], ["--saferemock-guard=strict"]],
    ids=["plugin", "no-plugin", "strict-guard"],
)
def test_under_pytest_in_process(suite: pytest.Pytester, args: list[str]) -> None:
    result = suite.runpytest(*QUIET, *args)
    result.assert_outcomes(passed=4, failed=2, skipped=1, errors=0)
    # The guard finds nothing to report: self.safemock undid everything in time.
    result.stdout.no_fnmatch_line("*= saferemock: *")
    result.stdout.fnmatch_lines(
        [
            "*_ TestWithSafemock.test_b_failing_restores_too _*",
            "E       AssertionError: '{}' != '[1]'",
            "*_ TestWithSafemock.test_d_undo_failure_is_an_error _*",
            "E       saferemock.UndoError: 1 undo step failed and the rest were undone: "
            "restoring 'Frozen' object attribute 'value': AttributeError('frozen').",
        ]
    )


def test_under_pytest_in_a_subprocess(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess(*QUIET)
    result.assert_outcomes(passed=4, failed=2, skipped=1, errors=0)
