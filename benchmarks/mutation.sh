#!/usr/bin/env bash
# Mutation score of the core modules with mutmut 3 (not part of CI: it takes hours).
#
#   benchmarks/mutation.sh                      # all five core modules
#   benchmarks/mutation.sh _undo _activation    # only these
#   benchmarks/mutation.sh --summary _undo      # the table again, from the last run
#
# The mutmut settings are [tool.mutmut] in pyproject.toml.  The script copies the
# checkout (tracked and untracked files, as they are now) to $MUTATION_DIR (default
# .mutation/, git-ignored), wiping the previous copy, since mutmut keeps earlier results
# in its mutants/ folder and would report them for code that has changed since.  mutmut
# runs the whole suite once under its tracing (about 5 minutes), then each mutant against
# the tests that reach the mutated function, each in a fresh pytest session, with
# $MAX_CHILDREN workers (default 2).  On two shared cores that is about 20 mutants a
# minute: _activation (226 mutants) 12 minutes, _undo (905) 45; all five modules (about
# 2900) two and a half hours.  It prints the elapsed time, then a table per module:
# mutants, killed, survived, the other outcomes, and score = killed / (killed +
# survived); it writes the surviving mutants' names to $MUTATION_DIR/survivors.txt (see
# one with `cd .mutation && mutmut show NAME`) and mutmut's own output to
# $MUTATION_DIR/mutmut.log.
#
# Three things make mutmut work with this project:
# * PYTHONPATH starts with the copy's mutants/, so tests that start a Python subprocess
#   (pytester's runpytest_subprocess, python -m saferemock check) run the mutant too
#   rather than the editable install's original code;
# * benchmarks/mutmut_harness/sitecustomize.py hides mutmut's trampolines from
#   saferemock's frame walking (see its docstring).  Without it the clean run fails;
# * [tool.mutmut] process_isolation = "forkserver" (see the comment there).
#
# $PYTHON is an interpreter with the project (".[test]") and mutmut 3 installed
# (default: python on PATH).  Run it niced if the machine is shared.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python}
MAX_CHILDREN=${MAX_CHILDREN:-2}
WORK=${MUTATION_DIR:-$ROOT/.mutation}
ALL=(_undo _activation _patch _targets _modules)

version=$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("mutmut"))' 2>/dev/null) || {
    echo "mutation.sh: $PYTHON has no mutmut; pip install 'mutmut>=3,<4'" >&2
    exit 2
}
[[ $version == 3.* ]] || {
    echo "mutation.sh: needs mutmut 3.x, found $version" >&2
    exit 2
}
MUTMUT=$(dirname "$("$PYTHON" -c 'import sys; print(sys.executable)')")/mutmut

only_summary=
if [[ ${1:-} == --summary ]]; then
    only_summary=1
    shift
fi
modules=("${@:-${ALL[@]}}")
patterns=()
for module in "${modules[@]}"; do
    module=${module#saferemock/}
    module=${module#saferemock.}
    module=${module%.py}
    if ! grep -q "\"saferemock/$module.py\"" pyproject.toml; then
        echo "mutation.sh: $module is not in [tool.mutmut] only_mutate (choose from ${ALL[*]})" >&2
        exit 2
    fi
    patterns+=("saferemock.$module.*")
done

# The table, from the results mutmut keeps in mutants/*.meta (also for a run stopped early:
# what it did not reach counts as "not checked").
summary() {
    "$PYTHON" - "${modules[@]}" <<'PY'
import json
import sys
from pathlib import Path

from mutmut.stats import status_by_exit_code

columns = ["killed", "survived", "no tests", "timeout", "suspicious", "not checked"]
rows = []
survivors = []
for module in sys.argv[1:]:
    meta = Path("mutants/saferemock") / f"{module}.py.meta"
    codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
    counts = dict.fromkeys([*columns, "other"], 0)
    for name, code in sorted(codes.items()):
        status = status_by_exit_code[code]
        counts[status if status in counts else "other"] += 1
        if status == "survived":
            survivors.append(name)
    tried = counts["killed"] + counts["survived"]
    score = f"{100 * counts['killed'] / tried:.1f}%" if tried else "-"
    rows.append([f"saferemock/{module}.py", str(len(codes)), *map(str, counts.values()), score])

header = ["module", "mutants", *columns, "other", "score"]
widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
for row in [header, *rows]:
    print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
Path("survivors.txt").write_text("".join(f"{name}\n" for name in survivors))
print(f"{len(survivors)} survivors listed in {Path('survivors.txt').resolve()}")
PY
}

if [[ -n $only_summary ]]; then
    cd "$WORK"
    summary
    exit 0
fi

rm -rf "$WORK"
# mutants/ must exist before Python starts: a PYTHONPATH entry that is missing then is
# cached as "no importer" and skipped for good, and mutmut's main process would test the
# editable install's code, finding no test that reaches a mutant.
mkdir -p "$WORK/mutants"
git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' file; do [[ -e $file ]] && printf '%s\0' "$file"; done |
    tar --null -T - -cf - | tar -xf - -C "$WORK"
# The copy is not a git checkout: git must not find the outer one either.
export GIT_CEILING_DIRECTORIES=$(dirname "$WORK")

cd "$WORK"
# Without debug, mutmut 3.8.1's stats run failed in its fork server with no output, for
# a reason not found; with it, the same run passes.  Debug also makes mutmut print every
# pytest run, which goes to mutmut.log rather than the terminal.
sed -i 's/^\[tool\.mutmut\]$/[tool.mutmut]\ndebug = true/' pyproject.toml
echo "mutmut $version on $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD || echo ' + uncommitted changes'), modules: ${modules[*]}"
start=$SECONDS
status=0
echo "full output in $WORK/mutmut.log"
PYTHONPATH="$WORK/mutants:$ROOT/benchmarks/mutmut_harness${PYTHONPATH:+:$PYTHONPATH}" \
    "$MUTMUT" run --max-children "$MAX_CHILDREN" "${patterns[@]}" >mutmut.log 2>&1 || status=$?
echo "mutmut ran for $(((SECONDS - start) / 60)) min (exit status $status)"
if ((status != 0)); then
    tr '\r' '\n' <mutmut.log | grep -v -e PASSED -e SKIPPED | tail -n 40
fi
summary
exit "$status"
