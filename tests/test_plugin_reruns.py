"""The guard with plugins that run a test more than once: pytest-rerunfailures, pytest-repeat.

Strict mode fails the teardown report of a test that leaked instead of running the test
protocol itself, so these plugins keep the protocol: a flaky test that is clean passes
when it is rerun, and a leak that each attempt makes again is reported once.
"""

from __future__ import annotations

import pytest
from pluginreport import failures, report

QUIET = ("-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:anyio", "-p", "no:xdist")
QUIET += ("-p", "no:hypothesispytest", "-p", "no:randomly", "-p", "no:flaky")

FLAKY_BUT_CLEAN = """\
ATTEMPTS = []


def test_flaky_but_clean():
    ATTEMPTS.append(1)
    assert len(ATTEMPTS) > 1, "the first attempt fails"
"""

LEAKY = """\
import os


def test_leaks():
    os.environ["GUARD_RERUN"] = "1"


def test_victim():
    assert "GUARD_RERUN" not in os.environ
"""

LEAK_LINE = (
    "test_leaky.py::test_leaks: os.environ['GUARD_RERUN'] was set to '1'; use "
    "safemock.patch.dict(os.environ, {'GUARD_RERUN': ...}) or "
    "monkeypatch.setenv('GUARD_RERUN', ...) instead"
)


@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_a_flaky_but_clean_test_passes_when_rerunfailures_reruns_it(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makepyfile(test_flaky=FLAKY_BUT_CLEAN)
    result = pytester.runpytest(*QUIET, f"--saferemock-guard={mode}", "--reruns", "2")
    assert result.parseoutcomes() == {"passed": 1, "rerun": 1}
    assert result.ret == pytest.ExitCode.OK
    assert report(result) == []


def test_a_leak_reruns_like_a_teardown_error_and_is_reported_once(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_leaky=LEAKY)
    result = pytester.runpytest(*QUIET, "--saferemock-guard=strict", "--reruns", "2")
    # Each attempt of test_leaks passes its call, leaks again, is undone again, and fails
    # its teardown: rerunfailures reruns it as it reruns any teardown error (counting the
    # passed call of every attempt), and only the last attempt's error stands.
    assert result.parseoutcomes() == {"passed": 4, "errors": 1, "rerun": 2}
    assert failures(result) == {"ERROR test_leaky.py::test_leaks"}
    assert (
        result.stdout.lines.count(
            "saferemock (strict mode) restored global state that this test left behind:"
        )
        == 1
    )
    assert report(result) == [LEAK_LINE]


def test_warn_mode_warns_once_about_a_leak_that_each_rerun_makes_again(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_flaky_leak="""\
        from unittest import mock

        PATCHERS = []


        def test_fails_twice_and_leaks_each_time():
            PATCHERS.append(mock.patch("json.dumps"))
            PATCHERS[-1].start()
            assert len(PATCHERS) > 2


        def test_zz_cleanup():
            for patcher in reversed(PATCHERS):
                patcher.stop()
        """
    )
    result = pytester.runpytest(*QUIET, "--reruns", "2")
    assert result.parseoutcomes() == {"passed": 2, "rerun": 2, "warnings": 1}
    assert report(result) == [
        "test_flaky_leak.py::test_fails_twice_and_leaks_each_time: the unittest.mock patch of "
        "json.dumps was started with start() and never stopped; stop it in the same test (a "
        "with block, a decorator, or request.addfinalizer(patcher.stop)), or use the safemock "
        "fixture, which undoes it at teardown"
    ]


def test_pytest_repeat_runs_each_repetition_as_its_own_guarded_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_leaky=LEAKY)
    result = pytester.runpytest(*QUIET, "--saferemock-guard=strict", "--count", "2")
    result.assert_outcomes(passed=4, errors=2)
    assert failures(result) == {
        "ERROR test_leaky.py::test_leaks[1-2]",
        "ERROR test_leaky.py::test_leaks[2-2]",
    }
    assert report(result) == [
        LEAK_LINE.replace("test_leaks:", f"test_leaks[{n}-2]:") for n in (1, 2)
    ]
