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
import os
import pathlib
import stat
import sys
from typing import Any, NoReturn

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
TEXT_STUB = ("YOUR ANSWER HERE",)

__all__ = ["clear_solutions", "make_student", "main", "BEGIN", "END", "MarkerError", "NotebookError"]


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


class NotebookError(ValueError):
    """A file that is JSON but not a notebook make_student can read (not a dict of cells, nbformat < 4, ...)."""


def _text(source: Any, where: str) -> str:
    """A cell's source as one string; nbformat 4 allows a string or a list of strings."""
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    raise NotebookError(f"{where}: its source is {_json_kind(source)}, not text (a string or an array of strings)")


def _json_kind(x: Any) -> str:
    """What a parsed JSON value is, in JSON's words, with the start of it: 'the array [1, 2, 3]'."""
    kinds = {dict: "the object", list: "the array", str: "the string", bool: "the constant", int: "the number",
             float: "the number", type(None): "the constant"}
    return f"{kinds.get(type(x), 'the value')} {json.dumps(x)[:40]}"


def _check_notebook(notebook: Any) -> list[Any]:
    """The cells of ``notebook``, or NotebookError saying why it is not an nbformat 4 notebook."""
    if not isinstance(notebook, dict):
        raise NotebookError(f"not a notebook: it holds {_json_kind(notebook)}, not an object with 'cells'")
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise NotebookError("not a notebook: it has no 'cells'" if cells is None else
                            f"not a notebook: its 'cells' is {_json_kind(cells)}, not an array of cells")
    version = notebook.get("nbformat")
    if version is not None and (type(version) is not int or version < 4):
        raise NotebookError(f"nbformat {version!r} is older than 4; convert it first "
                            "(jupyter nbconvert --to notebook --nbformat 4)")
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict):
            raise NotebookError(f"cell {i} is {_json_kind(cell)}, not a cell (an object)")
    return cells


def make_student(notebook: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The learner's version of a notebook (as read by ``json``); (notebook, solution regions cleared).

    Raises NotebookError for what is not an nbformat 4 notebook, MarkerError for markers that
    do not pair up; both name the cell.
    """
    total = 0
    cells = []
    for i, cell in enumerate(_check_notebook(notebook)):
        cell = dict(cell)
        text = _text(cell.get("source", ""), f"cell {i}")
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


class _Refused(Exception):
    """One line for stderr: what went wrong, naming the file."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the usage as well: two lines. One line, like every other error here.
        raise _Refused(f"{message} (see --help)")


def _read(path: str) -> dict[str, Any]:
    """The notebook at ``path`` as parsed JSON; _Refused naming the file and the problem."""
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise _Refused(f"{path} is a folder, not a notebook")
        if not stat.S_ISREG(st.st_mode):
            raise _Refused(f"{path} is not a regular file (a device, FIFO or socket), not a notebook")
        raw = pathlib.Path(path).read_bytes()
    except OSError as e:
        raise _Refused(f"cannot read {path}: {e.strerror or e}") from None
    try:
        return json.loads(raw.decode("utf-8"))  # type: ignore[no-any-return]  # checked by make_student
    except UnicodeDecodeError as e:
        raise _Refused(f"{path} is not UTF-8 text (at byte {e.start}), so not a notebook") from None
    except json.JSONDecodeError as e:
        raise _Refused(f"{path} is not JSON, so not a notebook: {e}") from None
    except RecursionError:
        raise _Refused(f"{path} is nested too deeply to be a notebook") from None


def _same_file(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are one file, whatever the names: a hard link, a symlink, ``./``."""
    try:
        return os.path.samestat(os.stat(a), os.stat(b))
    except OSError:
        return False  # b does not exist yet (or cannot be looked at: writing it will say why)


def _write(path: str, student: dict[str, Any]) -> None:
    """Write atomically, as ``micrograd_like.save`` does: a temporary file in the folder, fsync, rename."""
    from ..io import _write_file

    try:
        text = json.dumps(student, indent=1, ensure_ascii=False) + "\n"
    except RecursionError:
        raise _Refused(f"cannot write {path}: the notebook is nested too deeply") from None
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        # a lone surrogate ("\ud800" in the JSON) has no UTF-8 form: written as an escape, it reads back the same
        data = (json.dumps(student, indent=1) + "\n").encode("ascii")
    try:
        _write_file(data, path, "make_student", example="student.ipynb")
    except (OSError, ValueError) as e:
        text = str(e)
        if text.startswith("make_student: "):  # the writer's own sentence, which names the file
            raise _Refused(text.removeprefix("make_student: ")) from None
        raise _Refused(f"cannot write {path}: {getattr(e, 'strerror', None) or e}") from None


def _run(argv: list[str] | None) -> int:
    parser = _Parser(prog="python -m micrograd_like.exercises.make_student",
                     description="Write the learner's version of an exercise notebook: every "
                                 f"'{BEGIN}' ... '{END}' region becomes a blank.")
    # plain strings, not Paths: an error names a file as it was typed (pathlib turns ./a into a)
    parser.add_argument("notebook", help="the reference notebook, with the solutions")
    parser.add_argument("-o", "--output", required=True, help="where to write the learner's version")
    args = parser.parse_args(argv)
    if _same_file(args.notebook, args.output):
        raise _Refused(f"{args.output} and {args.notebook} are the same file: the learner's version would overwrite "
                       "the reference notebook; choose another output")
    notebook = _read(args.notebook)
    try:
        student, count = make_student(notebook)
    except (MarkerError, NotebookError) as e:
        raise _Refused(f"{args.notebook}: {e}") from None
    except RecursionError:
        raise _Refused(f"{args.notebook} is nested too deeply to be a notebook") from None
    if count == 0:
        print(f"make_student: {args.notebook} has no '{BEGIN}' region; nothing to clear", file=sys.stderr)
        return 1
    _write(args.output, student)
    print(f"wrote {args.output}: {count} solution{'s' * (count != 1)} cleared")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line: read the reference notebook, write the learner's version atomically.

    Exit 0 when written, 1 when the notebook has no solution to clear (nothing written), 2 on
    any error: one line on stderr naming the file and the problem, never a traceback.
    """
    try:
        return _run(argv)
    except _Refused as e:
        # one line even for a file name with a line break in it
        print("make_student: " + str(e).replace("\n", "\\n").replace("\r", "\\r"), file=sys.stderr)
        return 2
    except SystemExit as e:  # argparse's --help: a code to return, for a caller in the same process
        return e.code if isinstance(e.code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
