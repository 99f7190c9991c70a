"""Mutation-test one module with mutmut: `python tests/mutation.py engine` (or ops, nn, optim, functional, ...).

mutmut (configured in setup.cfg's [mutmut] section) copies the project into mutants/,
traces the module tests once to learn which tests call which function, then runs each
mutant of MODULE against only the tests that reach the mutated function. This script
runs that for one module and prints its score and its surviving mutants; inspect one
with `mutmut show NAME`. A run takes a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("engine", "ops", "nn", "optim", "functional", "train", "io", "data", "testing", "trace", "expr",
           "viz")
PACKAGES = {"testing"}  # a package's module is its __init__.py

# The test files a module's mutants run against, where setup.cfg's list (every module test file) is
# far more than the module needs: every test touches Value, so a mutant of Value.__add__ that
# survives would rerun the whole list. Each file named here must hold the tests that pin the
# module's behaviour; a mutant still runs only the tests among them that reach its function.
TESTS_BY_MODULE = {
    "engine": ("tests/test_engine.py", "tests/test_higher_order.py", "tests/test_ops.py"),
    "train": ("tests/test_train.py",),
    "io": ("tests/test_io.py",),
    "data": ("tests/test_data.py",),
    "testing": ("tests/test_testing.py",),
    "trace": ("tests/test_trace.py",),
    "expr": ("tests/test_expr.py",),
    "viz": ("tests/test_viz.py",),
}

# mutmut reads its configuration from setup.cfg only; this sets the test files in the config
# object it keeps in memory, before its command line runs (the processes that run the mutants
# are forked from this one, so they see it too). mutmut notices the change of test files, and
# then traces the tests again and forgets the results it kept for every module.
_RUN_WITH_TESTS = (
    "import json, sys\n"
    "from mutmut.configuration import config\n"
    "from mutmut.__main__ import cli\n"
    "config().pytest_add_cli_args_test_selection[:] = json.loads(sys.argv.pop(1))\n"
    "cli(prog_name='mutmut')\n"
)

# mutmut's exit codes of a mutant's test run, by what they mean for the score
KILLED = {1, 3}
SURVIVED = {0}
TIMEOUT = {36, -24, 24, 152, 255}


def results(module: str) -> dict[str, int | None]:
    """{mutant name: exit code of its test run} for MODULE, from mutmut's record in mutants/."""
    path = f"{module}/__init__.py" if module in PACKAGES else f"{module}.py"
    meta = ROOT / "mutants" / "micrograd_like" / f"{path}.meta"
    return json.loads(meta.read_text())["exit_code_by_key"]


def summary(module: str) -> tuple[Counter, list[str]]:
    """Counts of killed / survived / timeout / other mutants of MODULE, and the survivors' names."""
    counts: Counter = Counter()
    survivors = []
    for name, code in sorted(results(module).items()):
        if code in KILLED:
            counts["killed"] += 1
        elif code in SURVIVED:
            counts["survived"] += 1
            survivors.append(name)
        elif code in TIMEOUT:
            counts["timeout"] += 1  # an endless loop or a crawl: the tests noticed
        else:
            counts[f"exit code {code}"] += 1
            survivors.append(name)
    return counts, survivors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", choices=MODULES)
    parser.add_argument("--max-children", type=int, default=2, help="parallel test runs (default 2)")
    parser.add_argument("--report", action="store_true", help="only print the last run's results")
    args = parser.parse_args(argv)

    if not args.report:
        env = dict(os.environ)
        # the tests must import the mutated copy in mutants/, never the package in this checkout
        env.pop("PYTHONPATH", None)
        tests = TESTS_BY_MODULE.get(args.module)
        mutmut = [sys.executable, "-m", "mutmut"] if tests is None else [
            sys.executable, "-c", _RUN_WITH_TESTS, json.dumps(tests)]
        command = [*mutmut, "run", "--max-children", str(args.max_children), f"micrograd_like.{args.module}.*"]
        code = subprocess.call(command, cwd=ROOT, env=env)
        if code:
            return code

    counts, survivors = summary(args.module)
    total = sum(counts.values())
    killed = counts["killed"] + counts["timeout"]
    print(f"\n{args.module}.py: {total} mutants, {killed} killed ({counts['timeout']} by timeout), "
          f"{counts['survived']} survived" + "".join(f", {n} {k}" for k, n in counts.items()
                                                   if k not in ("killed", "survived", "timeout")))
    if total:
        print(f"score: {100 * killed / total:.1f} % killed")
    for name in survivors:
        print(f"  survived: {name}   (mutmut show {name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
