"""How much cheaper ``sm.create_autospec`` is than ``unittest.mock.create_autospec``.

Run: ``python benchmarks/bench_autospec.py``.  Prints, from one run, the median time of
``unittest.mock.create_autospec(X)``, ``sm.create_autospec(X)`` and a bare
``MagicMock()`` for each spec, the ratios, and the cost of the first read of one method
(the stdlib has built it already; saferemock builds it then).  Targets:
stdlib/saferemock >= 50x for the 200-method class and the S3 client, and
saferemock/MagicMock() <= 3x.  A function spec (``json.dumps``) has no children to
defer; there saferemock reuses what it learnt about the function, and the row shows it
against ``MagicMock()``, which is what ``mock.patch`` makes without autospec.

The three candidates are timed in interleaved rounds, so a noisy machine slows all of
them alike.
"""

from __future__ import annotations

import gc
import http.client
import json
import pathlib
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests"))

from generated_classes import Generated

import saferemock as sm


def _per_call(action: Callable[[], Any], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        action()
    return (time.perf_counter() - start) / number


def _rounds(candidates: dict[str, tuple[Callable[[], Any], int]], rounds: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for action, _ in candidates.values():
        action()  # warm caches and imports before timing
    for _ in range(rounds):
        for name, (action, number) in candidates.items():
            samples[name].append(_per_call(action, number))
    return {name: statistics.median(values) for name, values in samples.items()}


def _first_access(factory: Callable[[], Any], attribute: str, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        made = factory()
        start = time.perf_counter()
        getattr(made, attribute)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:10.1f} us"


def bench(label: str, spec: Any, method: str, stdlib_rounds: int) -> None:
    # The stdlib takes up to a second per call on the big specs, so it gets one call per
    # round; the cheap candidates get enough calls per round to be measurable.
    medians = _rounds(
        {
            "stdlib": (lambda: mock.create_autospec(spec), 1),
            "saferemock": (lambda: sm.create_autospec(spec), 200),
            "MagicMock()": (mock.MagicMock, 200),
        },
        stdlib_rounds,
    )
    std_first = _first_access(lambda: mock.create_autospec(spec), method, 3)
    sm_first = _first_access(lambda: sm.create_autospec(spec), method, 200)
    print(f"\n{label}")
    print(f"  unittest.mock.create_autospec  {_us(medians['stdlib'])}")
    print(f"  sm.create_autospec             {_us(medians['saferemock'])}")
    print(f"  MagicMock()                    {_us(medians['MagicMock()'])}")
    print(f"  stdlib / saferemock            {medians['stdlib'] / medians['saferemock']:10.1f} x")
    print(
        f"  saferemock / MagicMock()       {medians['saferemock'] / medians['MagicMock()']:10.2f} x"
    )
    print(f"  first read of .{method}:  stdlib {_us(std_first)}   saferemock {_us(sm_first)}")


def bench_function(label: str, spec: Any, rounds: int) -> None:
    medians = _rounds(
        {
            "stdlib": (lambda: mock.create_autospec(spec), 200),
            "saferemock": (lambda: sm.create_autospec(spec), 200),
            "MagicMock()": (mock.MagicMock, 200),
        },
        rounds,
    )
    print(f"\n{label}")
    print(f"  unittest.mock.create_autospec  {_us(medians['stdlib'])}")
    print(f"  sm.create_autospec             {_us(medians['saferemock'])}")
    print(f"  MagicMock()                    {_us(medians['MagicMock()'])}")
    print(f"  stdlib / saferemock            {medians['stdlib'] / medians['saferemock']:10.1f} x")
    print(
        f"  saferemock / MagicMock()       {medians['saferemock'] / medians['MagicMock()']:10.2f} x"
    )


def main() -> None:
    gc.disable()  # collections would land on random samples
    try:
        print(f"Python {sys.version.split()[0]}; medians of interleaved rounds")
        bench("200-method generated class", Generated, "m000_method", stdlib_rounds=7)
        bench("http.client.HTTPConnection", http.client.HTTPConnection, "request", stdlib_rounds=15)
        bench_function("function json.dumps", json.dumps, rounds=15)
        try:
            import boto3
        except ImportError:
            print("\nboto3 S3 client: skipped (boto3 is not installed; pip install -e '.[bench]')")
        else:
            client = boto3.client("s3", region_name="us-east-1")
            bench("boto3 S3 client", client, "get_object", stdlib_rounds=9)
    finally:
        gc.enable()


if __name__ == "__main__":
    main()
