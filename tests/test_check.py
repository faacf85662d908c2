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
    report = result.stdout.lines[result.stdout.lines.index("saferemock check: pollution report") :]
    assert report == [
        "saferemock check: pollution report",
        "  tests/test_monitor_engine.py:6 (collection): sys.modules['boto3'] is a MagicMock; "
        "list boto3 in the saferemock_fake_modules ini option for a session-wide fake, or use "
        "safemock.fake_module_tree(['boto3']) in a fixture",
        "saferemock check: FAILED: 1 leak from 1 culprit; each was undone right after its "
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
    assert result.stdout.lines[-2:] == [
        "saferemock check: pollution report",
        "saferemock check: OK: no leaks (2 tests ran).",
    ]


CLEAN_LINES = [
    "saferemock check: pollution report",
    "saferemock check: OK: no leaks (1 test ran).",
]


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
    assert result.stdout.lines[-2:] == CLEAN_LINES
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
    ("args", "message"),
    [
        (
            ["--no-such-option"],
            "saferemock check: pytest rejected the arguments (see the error above).",
        ),
    ],
    ids=["bad-pytest-argument"],
)
def test_pytest_usage_errors_exit_2(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = check(pytester, *args)
    assert result.ret == 2
    assert result.stdout.lines[-1] == message


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
