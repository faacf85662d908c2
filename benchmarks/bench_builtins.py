"""Time patching the builtin ``open``: saferemock against ``unittest.mock``, in one run.

Printed, as medians over several rounds of many enter+exit cycles each:

* ``sm.patch_builtin("open")`` (autospecced, signature enforced, routed so pytest keeps
  the real ``open``, and covering ``io.open`` too);
* ``unittest.mock.patch("builtins.open", autospec=True)`` (whose autospec of a builtin
  function checks no call at all: it accepts ``open(1, 2, 3, 4, 5, 6, 7, 8, 9)``);
* ``sm.fake_open({...})`` and ``unittest.mock.patch("builtins.open", mock_open(...))``,
  the usual pair for serving file contents;
* one call of the patched ``open`` from user code (the router's cost).

Target: ``patch_builtin`` no slower than ``unittest.mock.patch`` (ratio <= 1.0).

Run: ``python benchmarks/bench_builtins.py``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from unittest import mock

import saferemock as sm

ROUNDS = 7
CYCLES = 300


def sm_patch_builtin() -> None:
    with sm.patch_builtin("open"):
        pass


def stdlib_patch_autospec() -> None:
    with mock.patch("builtins.open", autospec=True):
        pass


def sm_fake_open() -> None:
    with sm.fake_open({"config.yaml": "debug: true"}):
        pass


def stdlib_mock_open() -> None:
    with mock.patch("builtins.open", mock.mock_open(read_data="debug: true")):
        pass


def median_us(func: Callable[[], None], cycles: int = CYCLES) -> float:
    """Return the median over ROUNDS of the mean time of one call, in microseconds."""
    func()  # warm caches (imports, signature stubs) outside the timing
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(cycles):
            func()
        samples.append((time.perf_counter() - start) / cycles * 1e6)
    return statistics.median(samples)


def call_cost_us() -> tuple[float, float]:
    """Time one call of ``open`` patched by saferemock and by unittest.mock, from user code."""
    with sm.patch_builtin("open", return_value=None):
        ours = median_us(lambda: open("x"), cycles=5000)  # noqa: SIM115
    with mock.patch("builtins.open", autospec=True, return_value=None):
        theirs = median_us(lambda: open("x"), cycles=5000)  # noqa: SIM115
    return ours, theirs


def main() -> None:
    ours = median_us(sm_patch_builtin)
    theirs = median_us(stdlib_patch_autospec)
    fake = median_us(sm_fake_open)
    stdlib_fake = median_us(stdlib_mock_open)
    call_ours, call_theirs = call_cost_us()
    print(f"sm.patch_builtin('open') enter+exit:                  {ours:9.1f} us")
    print(f"mock.patch('builtins.open', autospec=True) enter+exit: {theirs:9.1f} us")
    print(
        f"  ratio saferemock / unittest.mock:                    {ours / theirs:9.2f}  (target <= 1.00)"
    )
    print(f"sm.fake_open({{...}}) enter+exit:                       {fake:9.1f} us")
    print(f"mock.patch('builtins.open', mock_open(...)) enter+exit: {stdlib_fake:9.1f} us")
    print(f"  ratio saferemock / unittest.mock:                    {fake / stdlib_fake:9.2f}")
    print(f"one call of the patched open, saferemock:              {call_ours:9.2f} us")
    print(f"one call of the patched open, unittest.mock:           {call_theirs:9.2f} us")
    print(f"  ratio saferemock / unittest.mock:                    {call_ours / call_theirs:9.2f}")


if __name__ == "__main__":
    main()
