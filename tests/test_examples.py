"""The shipped examples run and show what they claim."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_autospec_demo_catches_the_wrong_call() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "autospec_demo.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "unittest.mock.patch: save() returned '{}'; the bug went unseen",
        "saferemock.patch:   save() raised TypeError: too many positional arguments",
    ]
