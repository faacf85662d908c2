"""``python -m saferemock check``: strict guard, a pollution report, and an exit status.

The runs that start pytest go through a real ``python -m saferemock`` subprocess (the
command users type); the usage errors that stop before pytest runs are checked in-process.
"""

from __future__ import annotations

import io
import pathlib
import sys

import pytest

from saferemock.__main__ import USAGE, main

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "haunted_suite"


# pytest-asyncio warns at configure time when its ini option is unset: not ours to test.
QUIET = ("-p", "no:cacheprovider", "-p", "no:asyncio")


def check(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.run(sys.executable, "-m", "saferemock", "check", *args, *QUIET, timeout=120)


def report(result: pytest.RunResult) -> list[str]:
    """The check's own output: the pollution report and the verdict."""
    lines = result.stdout.lines
    return lines[lines.index("saferemock check: pollution report") :]


def test_the_haunted_suite_names_the_culprit_file_and_line_and_exits_1(
    pytester: pytest.Pytester,
) -> None:
    result = check(pytester, str(EXAMPLE), "-q")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "FAILED *tests/test_monitor_engine.py::test_flags_days_above_threshold*",
            "1 failed, 1 passed in *",
            "",
            "saferemock check: pollution report",
        ]
    )
    assert report(result) == [
        "saferemock check: pollution report",
        "  tests/test_monitor_engine.py:6 (collection): sys.modules['boto3'] is a MagicMock; "
        "list boto3 in the saferemock_fake_modules ini option for a session-wide fake, or use "
        "safemock.fake_module_tree(['boto3']) in a fixture",
        "saferemock check: FAILED: 1 leak from 1 culprit; each leak was undone right after its "
        "culprit, which failed, so every other test ran in a clean world.",
    ]


def test_a_clean_suite_exits_0(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_clean="""\
        import json


        def test_patched(safemock):
            safemock.patch("json.dumps", return_value="x")
            assert json.dumps(1) == "x"


        def test_real():
            assert json.dumps(1) == "1"
        """
    )
    result = check(pytester)
    assert result.ret == 0
    assert report(result) == [
        "saferemock check: pollution report",
        "saferemock check: OK: the suite passed and nothing leaked (2 tests).",
    ]


FAILING = """\
def test_fails():
    assert False


def test_passes():
    pass
"""

LEAKING = """\
import os


def test_passes_and_leaks():
    os.environ["GUARD_CHECK"] = "1"


def test_fails_and_leaks():
    os.environ["GUARD_CHECK_TOO"] = "1"
    assert False
"""

LEAK_LINES = [
    f"  test_leaking.py::test_{test}_and_leaks: os.environ['{name}'] was set to '1'; use "
    f"safemock.patch.dict(os.environ, {{'{name}': ...}}) or monkeypatch.setenv('{name}', ...) "
    "instead"
    for test, name in [("fails", "GUARD_CHECK_TOO"), ("passes", "GUARD_CHECK")]
]


def test_failed_tests_exit_1_even_when_nothing_leaked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_failing=FAILING)
    result = check(pytester)
    assert result.ret == 1
    assert report(result) == [
        "saferemock check: pollution report",
        "saferemock check: FAILED: 1 test failed; nothing leaked.",
    ]


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_the_verdict_counts_failed_tests_apart_from_culprits_that_only_leaked(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    pytester.makepyfile(test_failing=FAILING, test_leaking=LEAKING)
    result = check(pytester, *workers)
    assert result.ret == 1
    # test_passes_and_leaks failed only for its leak; test_fails_and_leaks failed anyway.
    assert report(result) == [
        "saferemock check: pollution report",
        *LEAK_LINES,
        "saferemock check: FAILED: 2 tests failed, and 2 leaks from 2 culprits; each leak was "
        "undone right after its culprit, which failed, so every other test ran in a clean "
        "world.",
    ]


def test_a_collection_error_passes_pytest_interrupted_status_through(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_broken="import no_such_module\n", test_leaking=LEAKING)
    result = check(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert report(result) == [
        "saferemock check: pollution report",
        "saferemock check: INTERRUPTED: 1 error during collection: pytest stopped before the "
        "end of the run (exit status 2), so the check is incomplete.",
    ]


def test_an_internal_error_passes_pytest_status_through(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "def pytest_collection_modifyitems(items):\n    raise RuntimeError('broken hook')\n"
    )
    pytester.makepyfile(test_failing=FAILING)
    result = check(pytester)
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    assert report(result) == [
        "saferemock check: pollution report",
        "saferemock check: INTERNAL ERROR: pytest could not complete the run (exit status 3; "
        "see the error above), so the check is incomplete.",
    ]


def test_pytest_main_raising_is_an_internal_error_not_a_leak(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "def pytest_unconfigure(config):\n    raise RuntimeError('broken unconfigure')\n"
    )
    pytester.makepyfile(test_failing=FAILING)
    result = check(pytester)
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    assert result.stdout.lines[-1] == (
        "saferemock check: pytest crashed (see the traceback above), so nothing was checked "
        "(exit status 3)."
    )
    assert "RuntimeError: broken unconfigure" in result.stderr.lines


def test_no_tests_collected_passes_pytest_status_through(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(helper="VALUE = 1\n")
    result = check(pytester)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert report(result) == [
        "saferemock check: pollution report",
        "saferemock check: NO TESTS: pytest collected no test, so nothing was checked (exit "
        "status 5).",
    ]


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (
            ["nowhere"],
            "",
            "saferemock check: pytest stopped with a usage error: file or directory not found: "
            "nowhere.",
        ),
        (
            [],
            "[pytest]\nsaferemock_require_use = maybe\n",
            "saferemock check: pytest stopped with a usage error: saferemock_require_use = "
            "maybe (ini option) is not a boolean: use one of true, false (or yes/no, on/off, "
            "1/0).",
        ),
    ],
    ids=["missing-path", "bad-ini-value"],
)
def test_pytest_usage_errors_pass_its_status_through(
    pytester: pytest.Pytester, args: list[str], ini: str, message: str
) -> None:
    if ini:
        pytester.makeini(ini)
    pytester.makepyfile(test_failing=FAILING)
    result = check(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stdout.lines[-1] == message
    assert "saferemock check: pollution report" not in result.stdout.lines


@pytest.mark.parametrize(
    ("args", "ini"),
    [(["-W", "error"], ""), ([], "[pytest]\nfilterwarnings = error\n")],
    ids=["W-error", "filterwarnings-error"],
)
def test_warnings_as_errors_do_not_stop_the_check(
    pytester: pytest.Pytester, args: list[str], ini: str
) -> None:
    if ini:
        pytester.makeini(ini)
    pytester.makepyfile(test_clean="def test_clean():\n    pass\n")
    result = check(pytester, *args)
    assert result.ret == 0
    assert report(result) == [
        "saferemock check: pollution report",
        "saferemock check: OK: the suite passed and nothing leaked (1 test).",
    ]
    assert "Warning" not in result.stdout.str() + result.stderr.str()


def test_pytest_does_not_warn_that_saferemock_was_imported_before_it(
    pytester: pytest.Pytester,
) -> None:
    # What python -m saferemock does (import the package, then start pytest), with the
    # package named as a plugin so pytest marks it for rewriting whether or not it is
    # installed as a wheel: a warning would be an error here.
    pytester.makepyfile(test_clean="def test_clean():\n    pass\n")
    code = (
        "import sys, saferemock, pytest; "
        "sys.exit(pytest.main(['-W', 'error', '-p', 'saferemock', *sys.argv[1:]]))"
    )
    result = pytester.run(sys.executable, "-c", code, *QUIET, timeout=120)
    assert result.ret == 0
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
        (["--maxfail=x"], "argument --maxfail: invalid int value: 'x'"),
    ],
    ids=["unknown-option", "bad-option-value"],
)
def test_arguments_pytest_rejects_exit_2_with_one_sentence(
    pytester: pytest.Pytester, args: list[str], why: str
) -> None:
    pytester.makepyfile(test_failing=FAILING)
    result = check(pytester, *args)
    assert result.ret == 2
    assert result.stdout.lines == [
        f"saferemock check: pytest rejected the arguments ({why}); run python -m pytest "
        "--help for the options it accepts."
    ]


@pytest.mark.parametrize(
    ("argv", "status", "output"),
    [
        ([], 2, USAGE),
        (["--help"], 0, USAGE),
        (
            ["lint"],
            2,
            "saferemock: unknown command 'lint'; the only command is 'check'.\n" + USAGE,
        ),
        (
            ["check", "--saferemock-guard=warn"],
            2,
            "saferemock check: drop --saferemock-guard; check always runs the guard in strict "
            "mode.\n",
        ),
        (
            ["check", "tests", "-p", "no:saferemock"],
            2,
            "saferemock check: drop -p no:saferemock; the check needs the saferemock plugin.\n",
        ),
    ],
    ids=["no-command", "help", "unknown-command", "guard-flag", "plugin-disabled"],
)
def test_command_line_usage(argv: list[str], status: int, output: str) -> None:
    out = io.StringIO()
    assert main(argv, out) == status
    assert out.getvalue() == output


LATE = """\
import json


def test_leaves_a_function():
    def fake_dumps(*args, **kwargs):
        return ""

    json.dumps = fake_dumps


def test_runs_after_it():
    pass
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_leak_found_when_its_file_ended_does_not_claim_its_test_failed(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    # No mock made, so no sweep right after the test: the one at the file's end finds the
    # function, names its test, undoes it, and says the test was not failed.
    pytester.makepyfile(test_late=LATE)
    result = check(pytester, *workers)
    assert result.ret == 1
    result.assert_outcomes(passed=2)
    assert report(result) == [
        "saferemock check: pollution report",
        "  test_late.py::test_leaves_a_function: json.dumps is the function "
        "'test_leaves_a_function.<locals>.fake_dumps' from a test file; use "
        "safemock.patch('json.dumps', new=...) instead, undone at teardown (strict mode "
        "undid it when the file ended; the test was not failed)",
        "saferemock check: FAILED: 1 leak from 1 culprit; the leaks of tests, fixtures and "
        "test files were undone right after their culprit, which failed, unless the line "
        "says otherwise.",
    ]


def test_the_verdict_does_not_claim_a_clean_world_when_a_leak_was_left_in_place(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """\
        import sys
        from unittest.mock import MagicMock

        sys.modules["fancyhw"] = MagicMock()
        """
    )
    pytester.makepyfile(test_uses_it="def test_it():\n    import fancyhw\n")
    result = check(pytester)
    assert result.ret == 1
    lines = report(result)
    assert lines[1].endswith(
        "(strict mode left it in place: the rest of the run may depend on it, so undoing it "
        "would only make later tests fail)"
    )
    assert lines[2:] == [
        "saferemock check: FAILED: 1 leak from 1 culprit; the leaks of tests, fixtures and "
        "test files were undone right after their culprit, which failed, unless the line "
        "says otherwise.",
    ]
