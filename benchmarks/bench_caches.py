"""Time ``sm.clear_caches`` over a generated package of 50 modules and 500 cached callables.

The package is written to a temporary directory and imported; every cache is filled
before each measurement.  Printed, in one run:

* ``clear_caches("benchpkg")`` enter+exit (discovery twice, 1,000 ``cache_clear`` calls),
  against the target of 5 ms;
* the stdlib floor: calling ``cache_clear()`` on a hand-kept list of the 500 wrappers,
  twice (what you would write if you knew every cache by heart);
* the popular "clear every lru_cache" recipe that scans ``gc.get_objects()``.

Run: ``python benchmarks/bench_caches.py``.
"""

from __future__ import annotations

import functools
import gc
import importlib
import pathlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import saferemock as sm

MODULES = 50
PACKAGE = "benchpkg"
TARGET_MS = 5.0

# Per module: 4 cached functions and a class with 3 cached methods (plain, staticmethod,
# classmethod) plus a nested class with 3 more: 10 caches, 500 in all.
MODULE_SOURCE = """
import functools


@functools.lru_cache(maxsize=128)
def load_{i}_a(x):
    return x + 1


@functools.cache
def load_{i}_b(x):
    return x * 2


@functools.lru_cache(maxsize=None)
def load_{i}_c(x):
    return -x


@functools.cache
def load_{i}_d(x):
    return str(x)


def plain_{i}(x):
    return x


CONSTANT_{i} = {{"key": {i}}}


class Service{i}:
    @functools.lru_cache(maxsize=32)
    def method(self, x):
        return x

    @staticmethod
    @functools.cache
    def static(x):
        return x

    @classmethod
    @functools.cache
    def klass(cls, x):
        return x

    def plain(self):
        return None

    class Inner:
        @functools.cache
        def method(self, x):
            return x

        @staticmethod
        @functools.cache
        def static(x):
            return x

        @classmethod
        @functools.lru_cache(maxsize=8)
        def klass(cls, x):
            return x
"""


def build(root: pathlib.Path) -> list[Any]:
    package = root / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    for i in range(MODULES):
        (package / f"mod{i:02d}.py").write_text(MODULE_SOURCE.format(i=i), encoding="utf-8")
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    wrappers: list[Any] = []
    for i in range(MODULES):
        module = importlib.import_module(f"{PACKAGE}.mod{i:02d}")
        service = vars(module)[f"Service{i}"]
        inner = vars(service)["Inner"]
        wrappers.extend(vars(module)[f"load_{i}_{letter}"] for letter in "abcd")
        wrappers.append(vars(service)["method"])
        wrappers.append(vars(service)["static"].__func__)
        wrappers.append(vars(service)["klass"].__func__)
        wrappers.append(vars(inner)["method"])
        wrappers.append(vars(inner)["static"].__func__)
        wrappers.append(vars(inner)["klass"].__func__)
    return wrappers


def fill(wrappers: list[Any]) -> None:
    for wrapper in wrappers:
        try:
            wrapper(1)
        except TypeError:  # a plain method's wrapper wants self first
            wrapper(None, 1)


def median_ms(action: Callable[[], object], wrappers: list[Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        fill(wrappers)
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def with_saferemock() -> None:
    with sm.clear_caches(PACKAGE):
        pass


def discovery_only() -> None:
    sm.clear_caches(PACKAGE)._discover(strict=True)


def by_hand(wrappers: list[Any]) -> Callable[[], None]:
    def run() -> None:
        for wrapper in wrappers:
            wrapper.cache_clear()
        for wrapper in wrappers:
            wrapper.cache_clear()

    return run


def gc_recipe() -> None:
    for _ in range(2):
        for obj in gc.get_objects():
            if isinstance(obj, functools._lru_cache_wrapper):
                obj.cache_clear()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wrappers = build(pathlib.Path(tmp))
        try:
            assert len(wrappers) == 500, len(wrappers)
            with sm.clear_caches(PACKAGE) as cleared:
                assert len(cleared) == 500, len(cleared)
            ours = median_ms(with_saferemock, wrappers, 200)
            discovery = median_ms(discovery_only, wrappers, 200)
            hand = median_ms(by_hand(wrappers), wrappers, 200)
            recipe = median_ms(gc_recipe, wrappers, 20)
        finally:
            sys.path.remove(tmp)
            for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
                del sys.modules[name]
    print(f"{MODULES} modules, {len(wrappers)} cached functions and methods (median of runs)")
    verdict = "OK" if ours < TARGET_MS else "OVER TARGET"
    print(
        f"  sm.clear_caches enter+exit:       {ours:7.3f} ms  (target < {TARGET_MS} ms: {verdict})"
    )
    print(f"  of which one discovery pass:      {discovery:7.3f} ms")
    print(f"  stdlib, hand-kept list, 2 passes: {hand:7.3f} ms  ratio {ours / hand:6.1f}x")
    print(f"  gc.get_objects() recipe, 2 passes:{recipe:7.3f} ms  ratio {ours / recipe:6.2f}x")


if __name__ == "__main__":
    main()
