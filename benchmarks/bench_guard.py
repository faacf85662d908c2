"""What the pollution guard costs a whole run, and what ``safemock.patch`` costs a test.

1. Two generated suites, each of 2,000 tests in 40 files, with a project package of 60
   modules (with classes, so the guard watches their attributes too) and enough other
   modules imported to pass 1,000 in ``sys.modules``:

   * ``unit``: small unit tests; every tenth uses ``monkeypatch``, and a module-scoped
     fixture holds one ``mock.patch`` for its file.
   * ``patching``: tests that change global state the way real suites do.  Each file has
     module-scoped fixtures that, like pyfakefs's ``Patcher``, replace the ``os`` of every
     project module and of a fifth of the installed ones, ``builtins.open``, a
     ``sys.modules`` entry and an environment variable, and put them all back at its
     end; every fifth test patches a method with a mock, so the guard sweeps every
     module after it, and every tenth uses ``monkeypatch``.

   Each runs with plain pytest (the plugin disabled), with the guard in warn mode and in
   strict mode, interleaved, each in a fresh subprocess; the medians of the CPU times and
   their ratios to plain pytest are printed.  Targets: warn mode adds at most 3% to a
   run, strict mode at most 5%.
2. In-process: one guard checkpoint on an unchanged world (what every test pays), and one
   patch-and-undo cycle of ``safemock.patch`` against pytest-mock's ``mocker.patch`` on
   the same target, medians per call.  Target: no slower.

Run: ``python benchmarks/bench_guard.py [--rounds N]`` (about a minute with the default 2;
the ratios of a busy machine need 7 or more).  ``--instructions 8`` instead runs suites of
8 files once per configuration under valgrind's callgrind and prints the ratios of the
instructions executed, which a busy machine does not change (about 15 minutes).
"""

from __future__ import annotations

import argparse
import os
import re
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
WORKLOADS = {
    "unit": "small unit tests, a few patches",
    "patching": "module-scoped fixtures patching os, open, sys.modules, environ; mocks",
}
CONFIGS = {
    "plain pytest": ["-p", "no:saferemock"],
    "guard warn": ["--saferemock-guard=warn"],
    "guard strict": ["--saferemock-guard=strict"],
}


def generate(root: Path, workload: str, files: int = FILES) -> Path:
    """Write the ``workload`` suite under ``root``; return the directory of the vendored modules."""
    project = root / "project"
    app = project / "benchapp"
    app.mkdir(parents=True)
    (app / "__init__.py").write_text("")
    for index in range(APP_MODULES):
        (app / f"mod{index}.py").write_text(
            textwrap.dedent(
                f"""\
                import functools
                import os

                LIMIT = {index}


                class Service{index}:
                    retries = 3

                    def run(self, value):
                        return value + LIMIT


                @functools.lru_cache
                def compute(value):
                    return value * {index}


                def configured(path):
                    return os.path.exists(path)
                """
            )
        )
    # Installed-looking modules outside the rootdir: imported, not watched attribute-wise.
    vendor = root / "vendor" / "benchvendor"
    vendor.mkdir(parents=True)
    (vendor / "__init__.py").write_text("")
    for index in range(VENDOR_MODULES):
        (vendor / f"v{index}.py").write_text(f"import os\n\nVALUE = {index}\n")
    imports = "\n".join(f"import benchvendor.v{i}" for i in range(VENDOR_MODULES))
    app_imports = "\n".join(f"import benchapp.mod{i}" for i in range(APP_MODULES))
    conftest = (
        "import email.mime.text, http.client, json, logging.handlers, unittest.mock, xml.dom\n"
        "import argparse, asyncio, csv, decimal, sqlite3, urllib.request, zipfile\n"
        f"{imports}\n{app_imports}\n"
    )
    if workload == "patching":
        conftest += PATCHING_CONFTEST
    (project / "conftest.py").write_text(conftest)
    (project / "pytest.ini").write_text("[pytest]\n")
    write_file = unit_file if workload == "unit" else patching_file
    for number in range(files):
        (project / f"test_file{number}.py").write_text(write_file(number % APP_MODULES))
    (project / "test_zz_count.py").write_text(
        "import os, sys\n\n\ndef test_count():\n"
        "    with open(os.environ['BENCH_COUNT_FILE'], 'w') as f:\n"
        "        f.write(str(len(sys.modules)))\n"
    )
    return vendor.parent


def unit_file(module: int) -> str:
    """Small unit tests: build a service, call it, round-trip a payload; every tenth
    uses monkeypatch, and a module-scoped fixture holds a patch for its file."""
    lines = [
        f"import json\nfrom unittest import mock\n\nimport pytest\n\n"
        f"import benchapp.mod{module} as app\n\n\n"
        f"@pytest.fixture(scope='module')\ndef patched_limit():\n"
        f"    with mock.patch.object(app.Service{module}, 'retries', 5):\n        yield\n"
    ]
    for test in range(TESTS_PER_FILE):
        body = _body(module, test)
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
    return "".join(lines)


def _body(module: int, test: int) -> str:
    return (
        f"    service = app.Service{module}()\n"
        f"    payload = {{'id': {test}, 'values': [service.run(i) for i in range(20)]}}\n"
        f"    assert json.loads(json.dumps(payload))['id'] == {test}\n"
    )


# What pyfakefs's Patcher does, in miniature: for the whole of a test file, every loaded
# module that imported os (the project's, and many installed ones) sees a fake os, and
# builtins.open is a fake; all of it is put back at the file's end.
PATCHING_CONFTEST = """
import builtins
import os
import shutil
import sys
import types
from unittest import mock

import pytest

_REAL_OPEN = builtins.open


class FakeOs:
    def __init__(self, real):
        self._real = real
        self.path = real.path

    def __getattr__(self, name):
        return getattr(self._real, name)


def fake_open(*args, **kwargs):
    return _REAL_OPEN(*args, **kwargs)


def _os_users():
    return [
        module
        for name, module in list(sys.modules.items())
        if name.startswith(("benchapp.", "benchvendor.v"))
        and vars(module).get("os") is os
        and (name.startswith("benchapp.") or int(name.rpartition("v")[2]) % 5 == 0)
    ]


class Patcher:
    def __init__(self):
        self.saved = []

    def setUp(self):
        fake = FakeOs(os)
        for module in _os_users():
            self.saved.append((module, "os", module.os))
            module.os = fake
        self.saved.append((builtins, "open", builtins.open))
        builtins.open = fake_open

    def tearDown(self):
        for owner, name, value in reversed(self.saved):
            setattr(owner, name, value)
        self.saved.clear()


@pytest.fixture(scope="module")
def fake_fs():
    patcher = Patcher()
    patcher.setUp()
    try:
        with mock.patch.object(shutil, "disk_usage", return_value=(1, 1, 0)):
            with mock.patch.dict(os.environ, {"BENCH_FAKE_FS": "1"}):
                yield patcher
    finally:
        patcher.tearDown()
"""


def patching_file(module: int) -> str:
    """Tests under module-scoped fixtures that patch and restore global state."""
    lines = [
        f"import json\nimport os\nimport shutil\nimport sys\nimport types\n"
        f"from unittest import mock\n\nimport pytest\n\n"
        f"import benchapp.mod{module} as app\n\n"
        f"pytestmark = pytest.mark.usefixtures('fake_fs', 'fake_dependency')\n\n\n"
        f"@pytest.fixture(scope='module')\ndef fake_dependency():\n"
        f"    sys.modules['benchdep'] = types.ModuleType('benchdep')\n"
        f"    yield\n    del sys.modules['benchdep']\n"
    ]
    for test in range(TESTS_PER_FILE):
        body = _body(module, test) + (
            "    assert app.os is not os and 'benchdep' in sys.modules\n"
            "    assert os.environ['BENCH_FAKE_FS'] == '1' and shutil.disk_usage('/')[0] == 1\n"
        )
        if test % 10 == 0:
            lines.append(
                f"\n\ndef test_{test}(monkeypatch):\n"
                f"    monkeypatch.setattr(app, 'LIMIT', {test})\n{body}"
            )
        elif test % 5 == 1:
            lines.append(
                f"\n\ndef test_{test}():\n"
                f"    with mock.patch.object(app.Service{module}, 'run', return_value=7):\n"
                f"        assert app.Service{module}().run(1) == 7\n{body}"
            )
        else:
            lines.append(f"\n\ndef test_{test}():\n{body}")
    return "".join(lines)


def _suite_env(project: Path, vendor: Path, count_file: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(vendor), BENCH_COUNT_FILE=str(count_file))
    env["PYTHONPYCACHEPREFIX"] = str(project.parent / "pycache")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTEST_ADDOPTS", None)
    return env


def run_suite(project: Path, vendor: Path, extra: list[str], count_file: Path) -> float:
    """Run the suite in a subprocess; return the CPU time it used (user + system).

    CPU time, not wall time: on a shared machine the wall time of one run swings by more
    than the 5% being measured, the CPU time a run needs much less.  Bytecode is cached
    (under a private prefix, never in the source tree) as in a normal installation, so
    compiling saferemock is not counted against it in every run.
    """
    env = _suite_env(project, vendor, count_file)
    command = [sys.executable, "-m", "pytest", "-q", *PLUGINS_OFF, *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0 or "saferemock:" in result.stdout:
        print(result.stdout[-3000:], result.stderr[-3000:])
        raise SystemExit(f"the generated suite failed or leaked under {extra}")
    return elapsed


def bench_suites(rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="saferemock-bench-") as tmp:
        suites: dict[str, tuple[Path, Path]] = {}
        for workload in WORKLOADS:
            root = Path(tmp) / workload
            vendor = generate(root, workload)
            suites[workload] = (root / "project", vendor)
        count_file = Path(tmp) / "count.txt"
        times = {(workload, name): [] for workload in WORKLOADS for name in CONFIGS}
        for project, vendor in suites.values():
            for extra in CONFIGS.values():  # compile and cache everything each config imports
                run_suite(project, vendor, [*extra, "--collect-only"], count_file)
        for _ in range(rounds):
            for workload, (project, vendor) in suites.items():
                for name, extra in CONFIGS.items():
                    times[workload, name].append(run_suite(project, vendor, extra, count_file))
        modules = int(count_file.read_text())
        checkpoint = time_checkpoint(*suites["unit"])
    tests = FILES * TESTS_PER_FILE + 1
    print(
        f"suites: {tests} tests in {FILES + 1} files, {APP_MODULES} project modules, "
        f"{modules} modules in sys.modules; CPU time of the whole run (startup included), "
        f"median of {rounds} interleaved runs each"
    )
    for workload in WORKLOADS:
        print(f"{workload}: {WORKLOADS[workload]}")
        base = statistics.median(times[workload, "plain pytest"])
        for name in CONFIGS:
            values = times[workload, name]
            median = statistics.median(values)
            print(
                f"  {name:<13} {median:6.2f} s CPU   ratio {median / base:5.3f}   "
                f"({(median - base) / tests * 1e6:+7.1f} us per test)   runs: "
                + ", ".join(f"{value:.2f}" for value in values)
            )
    # The whole-run ratio swings by several percent between identical runs on a busy
    # machine; the check after each test, timed in-process, does not.
    base = statistics.median(times["unit", "plain pytest"])
    print(
        f"guard check after each test, in the unit suite's world: {checkpoint * 1e6:.1f} us, "
        f"{checkpoint * tests / base:.1%} of the plain run"
    )


def count_instructions(files: int) -> None:
    """The suites at ``files`` files each, run once per configuration under callgrind.

    valgrind counts the instructions a run executes, which another process on the machine
    does not change: the ratios are the same from one run to the next, where CPU times
    swing by several percent.  (An instruction is not a fixed time, so they are a second
    view, not a replacement.)  Slow: each run takes about fifty times its normal time.
    """
    with tempfile.TemporaryDirectory(prefix="saferemock-bench-") as tmp:
        count_file = Path(tmp) / "count.txt"
        print(
            f"instructions of a whole run (startup included), {files * TESTS_PER_FILE + 1} tests:"
        )
        for workload in WORKLOADS:
            root = Path(tmp) / workload
            vendor = generate(root, workload, files)
            project = root / "project"
            # One string-hash seed for every run: sets iterate, and dicts probe, alike, so
            # the counts of two runs of one configuration differ by a few thousand, not
            # by millions.
            env = {**_suite_env(project, vendor, count_file), "PYTHONHASHSEED": "0"}
            counts: dict[str, int] = {}
            for name, extra in CONFIGS.items():
                command = [sys.executable, "-m", "pytest", "-q", *PLUGINS_OFF, *extra]
                subprocess.run(command, cwd=project, env=env, capture_output=True, check=True)
                result = subprocess.run(
                    ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
                    cwd=project,
                    env=env,
                    capture_output=True,
                    text=True,
                )
                found = re.search(r"refs:\s+([\d,]+)", result.stderr)
                if result.returncode != 0 or found is None:
                    print(result.stdout[-3000:], result.stderr[-3000:])
                    raise SystemExit(f"the {workload} suite failed under {extra} and valgrind")
                counts[name] = int(found.group(1).replace(",", ""))
            base = counts["plain pytest"]
            print(f"{workload}: {WORKLOADS[workload]}")
            for name, count in counts.items():
                print(f"  {name:<13} {count / 1e9:6.2f} G instructions   ratio {count / base:5.3f}")


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
    parser.add_argument(
        "--instructions",
        type=int,
        metavar="FILES",
        help="count instructions with valgrind instead, on suites of FILES files (8 is enough)",
    )
    args = parser.parse_args()
    if args.instructions:
        count_instructions(args.instructions)
        return
    bench_suites(args.rounds)
    bench_in_process()


if __name__ == "__main__":
    main()
