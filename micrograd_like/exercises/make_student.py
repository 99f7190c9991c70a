"""Make the learner's version of an exercise notebook: every solution between nbgrader's markers becomes a blank.

    python -m micrograd_like.exercises.make_student notebooks/12_write_your_own_backward.ipynb -o student.ipynb

This is what nbgrader's ClearSolutions step does, without nbgrader: in a code cell the
lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION`` become ``# YOUR CODE HERE`` and
``raise NotImplementedError()`` at the marker's indentation; in a markdown cell they
become ``YOUR ANSWER HERE``. Outputs and execution counts are cleared, so the reference
answers do not show in what the cells printed. Teachers who use nbgrader can run its
``generate_assignment`` on the same notebook instead.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
TEXT_STUB = ("YOUR ANSWER HERE",)

__all__ = ["clear_solutions", "make_student", "main", "BEGIN", "END"]


class MarkerError(ValueError):
    """A solution region whose markers do not pair up."""


def clear_solutions(source: str, code: bool = True) -> tuple[str, int]:
    """``source`` with each solution region replaced by the stub; (new source, regions replaced)."""
    out: list[str] = []
    inside = False
    count = 0
    for n, line in enumerate(source.split("\n"), 1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise MarkerError(f"line {n}: {BEGIN} inside a solution region (a missing {END}?)")
            inside = True
            count += 1
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + stub for stub in (CODE_STUB if code else TEXT_STUB))
        elif stripped == END:
            if not inside:
                raise MarkerError(f"line {n}: {END} without a {BEGIN} before it")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{BEGIN} without an {END}")
    return "\n".join(out), count


def make_student(notebook: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The learner's version of a notebook (as read by ``json``); (notebook, solution regions cleared)."""
    total = 0
    cells = []
    for i, cell in enumerate(notebook.get("cells", [])):
        cell = dict(cell)
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        if cell.get("cell_type") in ("code", "markdown"):
            try:
                text, count = clear_solutions(text, code=cell["cell_type"] == "code")
            except MarkerError as e:
                raise MarkerError(f"cell {i}: {e}") from None
            total += count
        cell["source"] = text
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cells.append(cell)
    return dict(notebook, cells=cells), total


def main(argv: list[str] | None = None) -> int:
    """Command line: read the reference notebook, write the learner's; exit 1 when it has no solution to clear."""
    parser = argparse.ArgumentParser(prog="python -m micrograd_like.exercises.make_student",
                                     description="Write the learner's version of an exercise notebook: every "
                                                 f"'{BEGIN}' ... '{END}' region becomes a blank.")
    parser.add_argument("notebook", type=pathlib.Path, help="the reference notebook, with the solutions")
    parser.add_argument("-o", "--output", type=pathlib.Path, required=True, help="where to write the learner's version")
    args = parser.parse_args(argv)
    if args.output.resolve() == args.notebook.resolve():
        parser.error("the output would overwrite the reference notebook; choose another path")
    try:
        notebook = json.loads(args.notebook.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        print(f"make_student: cannot read {args.notebook}: {e}", file=sys.stderr)
        return 2
    try:
        student, count = make_student(notebook)
    except MarkerError as e:
        print(f"make_student: {args.notebook}: {e}", file=sys.stderr)
        return 2
    if count == 0:
        print(f"make_student: {args.notebook} has no '{BEGIN}' region; nothing to clear", file=sys.stderr)
        return 1
    args.output.write_text(json.dumps(student, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.output}: {count} solution{'s' * (count != 1)} cleared")
    return 0


if __name__ == "__main__":
    sys.exit(main())
