"""What installing saferemock adds to a pytest start.

Runs ``pytest --version`` and a tiny suite (one file, three trivial tests), each with the
plugin disabled (``-p no:saferemock``) and enabled (the guard on, in warn mode),
interleaved, each in a fresh subprocess, and prints the medians of the wall times and of
the CPU times, and what the plugin adds.  Then ``python -X importtime -c "import
saferemock.plugin"``: what the plugin's own imports cost on top of pytest's (median of
the same number of runs), and whether ``unittest.mock`` and ``asyncio`` are among them.
pytest 8 and later answer ``--version`` before loading any plugin, so there it is the
control: what it shows is the noise of the machine.

Run it with the Python of an environment holding only pytest and saferemock, so that no
other plugin pays for the imports saferemock should not need:
``python benchmarks/bench_startup.py [--rounds N]`` (about 20 s with the default 15).
Target: the plugin adds at most 30 ms to a start.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = {
    "without saferemock": ["-p", "no:saferemock"],
    "with saferemock": [],
}


def _env() -> dict[str, str]:
    """The environment of a normal installation: bytecode written once, then read."""
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run(command: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``command``; return its wall time and CPU time (user + system)."""
    env = _env()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        print(result.stdout[-2000:], result.stderr[-2000:])
        raise SystemExit(f"{command} failed")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def bench_starts(rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="saferemock-start-") as tmp:
        root = Path(tmp)
        (root / "pytest.ini").write_text("[pytest]\n")
        (root / "test_tiny.py").write_text(
            "def test_one():\n    assert 1\n\n\ndef test_two():\n    assert 2\n\n\n"
            "def test_three():\n    assert 3\n"
        )
        pytest = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
        workloads = {"pytest --version": [*pytest, "--version"], "tiny suite": [*pytest, "-q"]}
        for command in workloads.values():  # compile and cache the bytecode first
            for extra in CONFIGS.values():
                run([*command, *extra], root)
        for workload, command in workloads.items():
            walls: dict[str, list[float]] = {name: [] for name in CONFIGS}
            cpus: dict[str, list[float]] = {name: [] for name in CONFIGS}
            for _ in range(rounds):
                for name, extra in CONFIGS.items():
                    wall, cpu = run([*command, *extra], root)
                    walls[name].append(wall)
                    cpus[name].append(cpu)
            print(f"{workload}: median of {rounds} interleaved runs")
            for name in CONFIGS:
                print(
                    f"  {name:<19} wall {statistics.median(walls[name]) * 1e3:6.0f} ms   "
                    f"CPU {statistics.median(cpus[name]) * 1e3:6.0f} ms"
                )
            added_wall = statistics.median(walls["with saferemock"]) - statistics.median(
                walls["without saferemock"]
            )
            added_cpu = statistics.median(cpus["with saferemock"]) - statistics.median(
                cpus["without saferemock"]
            )
            print(
                f"  saferemock adds     wall {added_wall * 1e3:+6.0f} ms   CPU {added_cpu * 1e3:+6.0f} ms"
            )


def bench_imports(rounds: int) -> None:
    """The ``-X importtime`` cumulative time of saferemock's imports beyond pytest's."""
    code = (
        "import sys, pytest, saferemock.plugin; "
        "print(*sorted(m for m in ('unittest.mock', 'asyncio') if m in sys.modules))"
    )
    totals: list[float] = []
    loaded = ""
    command = [sys.executable, "-X", "importtime", "-c", code]
    subprocess.run(command, capture_output=True, check=True, env=_env())  # write bytecode
    for _ in range(rounds):
        result = subprocess.run(command, capture_output=True, text=True, check=True, env=_env())
        loaded = result.stdout.strip()
        total = 0
        for line in result.stderr.splitlines():
            # "import time: self | cumulative | name"; top-level rows have one space.
            parts = line.split("|")
            if len(parts) == 3 and parts[2].startswith(" saferemock"):
                total += int(parts[1])
        totals.append(total / 1e6)
    print(
        f"import saferemock.plugin after pytest (-X importtime, median of {rounds}): "
        f"{statistics.median(totals) * 1e3:.1f} ms; "
        f"unittest.mock/asyncio imported: {loaded or 'neither'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    bench_imports(args.rounds)
    bench_starts(args.rounds)


if __name__ == "__main__":
    main()
