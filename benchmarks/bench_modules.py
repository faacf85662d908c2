"""What ``sm.fake_module_tree`` costs per ``with`` block, against ``patch.dict(sys.modules)``.

Run: ``python benchmarks/bench_modules.py``.  Loads 1,000+ modules first (a real test
process has that many), then times, in interleaved rounds, the enter and exit of:

* ``sm.fake_module_tree([...])`` for a 3-level tree (three fresh modules with specs,
  parent bindings, undo through the journal, and the eviction check at exit);
* ``unittest.mock.patch.dict(sys.modules, {...})`` of the same three names, with module
  objects built once outside the loop (the cheapest stdlib equivalent, doing much less);
* the same ``patch.dict`` with three ``MagicMock()`` values, as conftest hacks write it.

Target: saferemock at most 3x the cheapest ``patch.dict``.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import pkgutil
import statistics
import sys
import time
import types
import warnings
from collections.abc import Callable
from typing import Any
from unittest import mock

import saferemock as sm

NAMES = ["benchkafka", "benchkafka.schema_registry", "benchkafka.schema_registry.avro"]
TARGET = 1000

# Modules that open windows, print, or are slow or noisy to import.
SKIP = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "__main__"}


def load_modules() -> int:
    """Import real modules (boto3, then the standard library) until TARGET are loaded."""
    with contextlib.suppress(ImportError):
        import boto3

        boto3.client("s3", region_name="us-east-1")
    tops = sorted(name for name in sys.stdlib_module_names if name not in SKIP)
    for name in tops:
        _try_import(name)
    for name in tops:
        module = sys.modules.get(name)
        for info in pkgutil.walk_packages(getattr(module, "__path__", []), f"{name}."):
            if len(sys.modules) >= TARGET:
                return len(sys.modules)
            if not any(part in SKIP or part == "tests" for part in info.name.split(".")):
                _try_import(info.name)
    # Newer Pythons ship fewer modules and boto3 may be missing: top up with placeholder
    # modules, which cost patch.dict exactly what real ones do.
    for index in range(TARGET - len(sys.modules)):
        name = f"bench_placeholder_{index}"
        sys.modules[name] = types.ModuleType(name)
    return len(sys.modules)


def _try_import(name: str) -> None:
    with warnings.catch_warnings(), contextlib.suppress(Exception):
        warnings.simplefilter("ignore")
        importlib.import_module(name)


def saferemock_tree() -> None:
    with sm.fake_module_tree(["benchkafka.schema_registry.avro"]):
        pass


PREBUILT = {name: types.ModuleType(name) for name in NAMES}


def patch_dict_modules() -> None:
    with mock.patch.dict(sys.modules, PREBUILT):
        pass


def patch_dict_fresh_modules() -> None:
    # The same work of making the module objects that fake_module_tree does per block.
    with mock.patch.dict(sys.modules, {name: types.ModuleType(name) for name in NAMES}):
        pass


def patch_dict_mocks() -> None:
    with mock.patch.dict(sys.modules, {name: mock.MagicMock() for name in NAMES}):
        pass


def _per_call(action: Callable[[], Any], number: int) -> float:
    # As timeit does: no collection inside the timed loop, one after it, so the garbage
    # one candidate leaves (MagicMock cycles) is not billed to the next.
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            action()
        return (time.perf_counter() - start) / number
    finally:
        gc.enable()
        gc.collect(1)


def main() -> None:
    loaded = load_modules()
    # (action, calls per round): the MagicMock variant is ~100x slower.
    candidates: dict[str, tuple[Callable[[], Any], int]] = {
        "sm.fake_module_tree (3 levels)": (saferemock_tree, 100),
        "patch.dict(sys.modules), prebuilt modules": (patch_dict_modules, 100),
        "patch.dict(sys.modules), fresh ModuleType": (patch_dict_fresh_modules, 100),
        "patch.dict(sys.modules), MagicMock() values": (patch_dict_mocks, 5),
    }
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for action, _ in candidates.values():
        action()
    # Short interleaved rounds, so a busy machine slows every candidate alike.
    for _ in range(150):
        for name, (action, number) in candidates.items():
            samples[name].append(_per_call(action, number))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    assert len(sys.modules) == loaded, "a benchmark left modules behind"

    placeholders = sum(name.startswith("bench_placeholder_") for name in sys.modules)
    print(f"Python {sys.version.split()[0]}, {loaded} modules loaded ({placeholders} placeholders)")
    print("median enter+exit, microseconds:")
    for name, seconds in medians.items():
        print(f"  {name:<46} {seconds * 1e6:8.2f}")
    ours = medians["sm.fake_module_tree (3 levels)"]
    cheapest = medians["patch.dict(sys.modules), prebuilt modules"]
    hack = medians["patch.dict(sys.modules), MagicMock() values"]
    print(
        f"ratio saferemock / patch.dict (prebuilt modules): {ours / cheapest:5.2f}x (target <= 3x)"
    )
    fresh = medians["patch.dict(sys.modules), fresh ModuleType"]
    print(f"ratio saferemock / patch.dict (fresh ModuleType): {ours / fresh:5.2f}x")
    print(f"ratio saferemock / patch.dict (MagicMock values): {ours / hack:5.2f}x")


if __name__ == "__main__":
    main()
