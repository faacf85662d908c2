"""What the pollution guard costs a whole run, and what ``safemock.patch`` costs a test.

1. A generated suite: 2,000 tests in 40 files, a project package of 60 modules (with
   classes, so the guard watches their attributes too), and enough other modules imported
   to pass 1,000 in ``sys.modules``.  It runs with plain pytest (the plugin disabled), with
   the guard in warn mode and in strict mode, interleaved, each in a fresh subprocess; the
   medians of the wall times and their ratios to plain pytest are printed.  Target: the
   guard adds at most 5% to the run.
2. In-process: one guard checkpoint on an unchanged world (what every test pays), and one
   patch-and-undo cycle of ``safemock.patch`` against pytest-mock's ``mocker.patch`` on
   the same target, medians per call.  Target: no slower.

Run: ``python benchmarks/bench_guard.py [--rounds N]`` (about 30 s with the default 2).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import timeit
from pathlib import Path

FILES = 40
TESTS_PER_FILE = 50
APP_MODULES = 60
VENDOR_MODULES = 700
PLUGINS_OFF = ["-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:anyio", "-p", "no:xdist"]
PLUGINS_OFF += ["-p", "no:hypothesispytest", "-p", "no:randomly"]
CONFIGS = {
    "plain pytest": ["-p", "no:saferemock"],
    "guard warn": ["--saferemock-guard=warn"],
    "guard strict": ["--saferemock-guard=strict"],
}


def generate(root: Path) -> Path:
    """Write the suite under ``root``; return the directory of the vendored modules."""
    project = root / "project"
    app = project / "benchapp"
    app.mkdir(parents=True)
    (app / "__init__.py").write_text("")
    for index in range(APP_MODULES):
        (app / f"mod{index}.py").write_text(
            textwrap.dedent(
                f"""\
                import functools

                LIMIT = {index}


                class Service{index}:
                    retries = 3

                    def run(self, value):
                        return value + LIMIT


                @functools.lru_cache
                def compute(value):
                    return value * {index}
                """
            )
        )
    # Installed-looking modules outside the rootdir: imported, not watched attribute-wise.
    vendor = root / "vendor" / "benchvendor"
    vendor.mkdir(parents=True)
    (vendor / "__init__.py").write_text("")
    for index in range(VENDOR_MODULES):
        (vendor / f"v{index}.py").write_text(f"VALUE = {index}\n")
    imports = "\n".join(f"import benchvendor.v{i}" for i in range(VENDOR_MODULES))
    app_imports = "\n".join(f"import benchapp.mod{i}" for i in range(APP_MODULES))
    (project / "conftest.py").write_text(
        "import email.mime.text, http.client, json, logging.handlers, unittest.mock, xml.dom\n"
        "import argparse, asyncio, csv, decimal, sqlite3, urllib.request, zipfile\n"
        f"{imports}\n{app_imports}\n"
    )
    (project / "pytest.ini").write_text("[pytest]\n")
    for number in range(FILES):
        module = number % APP_MODULES
        # Small unit tests: build a service, call it, round-trip a payload; every tenth
        # uses monkeypatch, and a module-scoped fixture holds a patch for its file.
        lines = [
            f"import json\nfrom unittest import mock\n\nimport pytest\n\n"
            f"import benchapp.mod{module} as app\n\n\n"
            f"@pytest.fixture(scope='module')\ndef patched_limit():\n"
            f"    with mock.patch.object(app.Service{module}, 'retries', 5):\n        yield\n"
        ]
        for test in range(TESTS_PER_FILE):
            body = (
                f"    service = app.Service{module}()\n"
                f"    payload = {{'id': {test}, 'values': [service.run(i) for i in range(20)]}}\n"
                f"    assert json.loads(json.dumps(payload))['id'] == {test}\n"
            )
            if test % 10 == 0:
                lines.append(
                    f"\n\ndef test_{test}(monkeypatch):\n"
                    f"    monkeypatch.setattr(app, 'LIMIT', {test})\n{body}"
                )
            elif test % 10 == 1:
                lines.append(
                    f"\n\ndef test_{test}(patched_limit):\n"
                    f"    assert app.Service{module}.retries == 5\n{body}"
                )
            else:
                lines.append(f"\n\ndef test_{test}():\n{body}")
        (project / f"test_file{number}.py").write_text("".join(lines))
    (project / "test_zz_count.py").write_text(
        "import os, sys\n\n\ndef test_count():\n"
        "    with open(os.environ['BENCH_COUNT_FILE'], 'w') as f:\n"
        "        f.write(str(len(sys.modules)))\n"
    )
    return vendor.parent


def run_suite(project: Path, vendor: Path, extra: list[str], count_file: Path) -> float:
    """Run the suite in a subprocess; return the CPU time it used (user + system).

    CPU time, not wall time: on a shared machine the wall time of one run swings by more
    than the 5% being measured, the CPU time a run needs much less.  Bytecode is cached
    (under a private prefix, never in the source tree) as in a normal installation, so
    compiling saferemock is not counted against it in every run.
    """
    env = dict(os.environ, PYTHONPATH=str(vendor), BENCH_COUNT_FILE=str(count_file))
    env["PYTHONPYCACHEPREFIX"] = str(project.parent / "pycache")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTEST_ADDOPTS", None)
    command = [sys.executable, "-m", "pytest", "-q", *PLUGINS_OFF, *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:])
        raise SystemExit(f"the generated suite failed under {extra}")
    return elapsed


def bench_suite(rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="saferemock-bench-") as tmp:
        root = Path(tmp)
        vendor = generate(root)
        project = root / "project"
        count_file = root / "count.txt"
        times: dict[str, list[float]] = {name: [] for name in CONFIGS}
        for extra in CONFIGS.values():  # compile and cache everything each config imports
            run_suite(project, vendor, [*extra, "--collect-only"], count_file)
        for _ in range(rounds):
            for name, extra in CONFIGS.items():
                times[name].append(run_suite(project, vendor, extra, count_file))
        modules = int(count_file.read_text())
        checkpoint = time_checkpoint(project, vendor)
    tests = FILES * TESTS_PER_FILE + 1
    print(
        f"suite: {tests} tests in {FILES + 1} files, {APP_MODULES} project modules, "
        f"{modules} modules in sys.modules; CPU time of the whole run (startup included), "
        f"median of {rounds} interleaved runs each"
    )
    base = statistics.median(times["plain pytest"])
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"  {name:<13} {median:6.2f} s CPU   ratio {median / base:5.3f}   "
            f"({(median - base) / tests * 1e6:+7.1f} us per test)   runs: "
            + ", ".join(f"{value:.2f}" for value in values)
        )
    # The whole-run ratio swings by several percent between identical runs on a busy
    # machine; the check after each test, timed in-process, does not.
    print(
        f"guard check after each test, in the suite's world: {checkpoint * 1e6:.1f} us, "
        f"{checkpoint * tests / base:.1%} of the plain run"
    )


def time_checkpoint(project: Path, vendor: Path) -> float:
    """Median time of one guard check on an unchanged world as big as the suite's."""
    from saferemock._guard import Culprit, Guard

    sys.path[:0] = [str(vendor), str(project)]
    try:
        __import__("conftest")  # the suite's imports: vendored modules and the project
        guard = Guard(
            str(project),
            strict=False,
            is_test_file=lambda path: os.path.basename(path).startswith(("test_", "conftest")),
        )

        def culprit() -> Culprit:
            return Culprit("test", "t")

        number = 2000
        runs = timeit.repeat(lambda: guard.checkpoint(culprit), number=number, repeat=7)
        return statistics.median(runs) / number
    finally:
        del sys.path[:2]


def bench_in_process() -> None:
    import pytest_mock

    import saferemock as sm

    class Config:
        def getini(self, name: str) -> bool:
            return False

    config = Config()

    def safemock_cycle() -> None:
        safemock = sm.SafeMock()
        safemock.patch("json.dumps")
        safemock.close()

    def mocker_cycle(**kwargs: object) -> None:
        mocker = pytest_mock.MockerFixture(config)
        mocker.patch("json.dumps", **kwargs)
        mocker.stopall()

    number = 300
    results = {
        "safemock.patch (autospec, lazy)": safemock_cycle,
        "mocker.patch (plain MagicMock)": mocker_cycle,
        "mocker.patch(autospec=True)": lambda: mocker_cycle(autospec=True),
    }
    medians = {
        name: statistics.median(timeit.repeat(func, number=number, repeat=5)) / number
        for name, func in results.items()
    }
    base = medians["mocker.patch (plain MagicMock)"]
    print("per-test patch cost (create, patch json.dumps, undo), median per cycle:")
    for name, value in medians.items():
        print(f"  {name:<33} {value * 1e6:7.1f} us   ratio to mocker.patch {value / base:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    bench_suite(args.rounds)
    bench_in_process()


if __name__ == "__main__":
    main()
