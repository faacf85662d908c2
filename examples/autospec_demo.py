"""Demo: an autospecced ``sm.patch`` catches a call that a plain MagicMock lets through.

Run: ``python examples/autospec_demo.py``
"""

from __future__ import annotations

import json
from unittest import mock

import saferemock as sm


def save(data: dict[str, int]) -> str:
    # The bug: indent passed positionally, which json.dumps (keyword-only after obj)
    # rejects. With a plain MagicMock the tests still pass: it accepts any call.
    return json.dumps(data, 2)  # type: ignore[misc]


def main() -> int:
    with mock.patch("json.dumps", return_value="{}"):
        print(f"unittest.mock.patch: save() returned {save({'a': 1})!r}; the bug went unseen")

    with sm.patch("json.dumps", return_value="{}"):
        try:
            save({"a": 1})
        except TypeError as exc:
            print(f"saferemock.patch:   save() raised TypeError: {exc}")
            return 0
    print("saferemock.patch did not catch the wrong call")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
