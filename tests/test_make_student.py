"""Tests of micrograd_like.exercises.make_student's command line: one line and exit 2 for every error, no file lost."""

from __future__ import annotations

import errno
import json
import os
import pathlib
import subprocess
import sys

import pytest

from micrograd_like import io as mg_io
from micrograd_like.exercises.make_student import NotebookError, main, make_student

ROOT = pathlib.Path(__file__).parent.parent
REFERENCE = ROOT / "notebooks" / "13_write_your_own_ops.ipynb"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A folder holding ref.ipynb, a copy of an exercise notebook, as the working directory."""
    (tmp_path / "ref.ipynb").write_bytes(REFERENCE.read_bytes())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _refused(capsys, argv, *words):
    """Run main(argv): it must exit 2 with one line on stderr that has every one of ``words``."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith("make_student: ")
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


# ---- what is not a notebook ---------------------------------------------------------------------------


@pytest.mark.parametrize("content, words", [
    (b"\xff\xfe{}", ["bad.ipynb", "not UTF-8"]),
    (b"{not json", ["bad.ipynb", "not JSON"]),
    (b"[1, 2, 3]", ["bad.ipynb", "not a notebook", "the array [1, 2, 3]"]),
    (b'"hello"', ["bad.ipynb", "not a notebook", 'the string "hello"']),
    (b'{"cells": 5}', ["bad.ipynb", "not a notebook", "'cells' is the number 5"]),
    (b'{"metadata": {}}', ["bad.ipynb", "not a notebook", "no 'cells'"]),
    (b'{"cells": [], "nbformat": 3}', ["bad.ipynb", "nbformat 3 is older than 4"]),
    (b'{"cells": [], "nbformat": "4"}', ["bad.ipynb", "nbformat '4' is older than 4"]),
    (b'{"cells": [7]}', ["bad.ipynb", "cell 0 is the number 7, not a cell"]),
    (b'{"cells": [{"cell_type": "code", "source": 5}]}', ["bad.ipynb", "cell 0", "source is the number 5, not text"]),
    (b'{"cells": [{"cell_type": "markdown", "source": ["a", 1]}]}', ["bad.ipynb", "cell 0", "not text"]),
    (b"[" * 100_000 + b"]" * 100_000, ["bad.ipynb", "nested too deeply"]),
    (b'{"cells": [{"cell_type": "code", "source": "### BEGIN SOLUTION\\nx"}]}', ["bad.ipynb", "cell 0",
                                                                               "without an ### END SOLUTION"]),
], ids=["not utf-8", "not json", "array", "string", "cells a number", "no cells", "nbformat 3", "nbformat a string",
        "cell a number", "source a number", "source not all text", "deep", "unpaired marker"])
def test_a_file_that_is_not_a_notebook_is_one_line_and_exit_2(folder, capsys, content, words):
    (folder / "bad.ipynb").write_bytes(content)
    _refused(capsys, ["bad.ipynb", "-o", "out.ipynb"], *words)
    assert (folder / "bad.ipynb").read_bytes() == content
    assert _files(folder) == ["bad.ipynb", "ref.ipynb"]


def test_a_missing_input_or_a_folder_as_input(folder, capsys):
    _refused(capsys, ["missing.ipynb", "-o", "out.ipynb"], "missing.ipynb", "No such file")
    (folder / "sub").mkdir()
    _refused(capsys, ["sub", "-o", "out.ipynb"], "sub", "is a folder, not a notebook")
    _refused(capsys, ["/dev/null", "-o", "out.ipynb"], "/dev/null", "not a regular file")


def test_a_usage_error_is_one_line_too(folder, capsys):
    _refused(capsys, ["ref.ipynb"], "-o/--output", "--help")


def test_a_file_name_with_a_line_break_is_still_one_line(folder, capsys):
    _refused(capsys, ["no\nsuch.ipynb", "-o", "out.ipynb"], "no\\nsuch.ipynb")


def test_help_returns_0(capsys):
    assert main(["--help"]) == 0
    assert "usage:" in capsys.readouterr().out


def test_a_lone_surrogate_is_written_as_an_escape(folder, capsys):
    # JSON may escape half a UTF-16 pair, which has no UTF-8 form
    (folder / "odd.ipynb").write_text(r'{"cells": [{"cell_type": "markdown", "source": "half \ud800"},'
                                      r' {"cell_type": "code", "source": "### BEGIN SOLUTION\nx\n### END SOLUTION"}]}')
    assert main(["odd.ipynb", "-o", "out.ipynb"]) == 0
    assert json.loads((folder / "out.ipynb").read_text())["cells"][0]["source"] == "half \ud800"


def test_make_student_itself_raises_notebook_error():
    with pytest.raises(NotebookError, match="cell 1"):
        make_student({"cells": [{"cell_type": "code", "source": "x"}, {"cell_type": "code", "source": None}]})


# ---- the output: never the input, never half written ---------------------------------------------------


@pytest.mark.parametrize("make_output", [
    lambda f: "ref.ipynb",
    lambda f: "./ref.ipynb",
    lambda f: str(f / "ref.ipynb"),
    lambda f: f"../{f.name}/ref.ipynb",
    lambda f: os.link(f / "ref.ipynb", f / "hard.ipynb") or "hard.ipynb",
    lambda f: os.symlink("ref.ipynb", f / "sym.ipynb") or "sym.ipynb",
    lambda f: (f / "sub").mkdir() or os.link(f / "ref.ipynb", f / "sub" / "r.ipynb") or "sub/r.ipynb",
], ids=["same name", "./", "absolute", "../", "hard link", "symlink", "hard link elsewhere"])
def test_an_output_that_is_the_input_under_any_name_is_refused(folder, capsys, make_output):
    output = make_output(folder)
    _refused(capsys, ["ref.ipynb", "-o", output], "same file", "ref.ipynb", output)
    assert (folder / "ref.ipynb").read_bytes() == REFERENCE.read_bytes()


@pytest.mark.parametrize("output, words", [
    ("nowhere/out.ipynb", ["nowhere/out.ipynb", "not an existing folder"]),
    ("sub", ["sub is a folder", "student.ipynb"]),
    ("sub/", ["sub/ names a folder"]),
    ("/dev/full", ["/dev/full", "not a regular file"]),
], ids=["folder missing", "a folder", "a folder with /", "a device"])
def test_an_output_that_cannot_be_a_notebook_is_refused(folder, capsys, output, words):
    (folder / "sub").mkdir()
    _refused(capsys, ["ref.ipynb", "-o", output], *words)
    assert (folder / "ref.ipynb").read_bytes() == REFERENCE.read_bytes()
    assert _files(folder) == ["ref.ipynb", "sub"]
    assert _files(folder / "sub") == []


def test_a_full_disk_is_one_line_and_leaves_the_old_output_and_no_temporary_file(folder, capsys, monkeypatch):
    (folder / "out.ipynb").write_text("the learner's version of last year")

    def full(fd, data):
        os.write(fd, bytes(data)[:100])  # some bytes made it, then the disk was full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(mg_io, "_write_all", full)
    _refused(capsys, ["ref.ipynb", "-o", "out.ipynb"], "cannot write out.ipynb", "No space left on device")
    assert (folder / "out.ipynb").read_text() == "the learner's version of last year"
    assert _files(folder) == ["out.ipynb", "ref.ipynb"]
    assert (folder / "ref.ipynb").read_bytes() == REFERENCE.read_bytes()


def test_an_unwritable_folder_is_one_line(folder, capsys, monkeypatch):
    # chmod cannot lock root out (the tests may run as root), so the temporary file's creation is refused
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if str(path).endswith(mg_io._TMP_SUFFIX):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    _refused(capsys, ["ref.ipynb", "-o", "out.ipynb"], "cannot write out.ipynb", "Permission denied")
    assert _files(folder) == ["ref.ipynb"]


def test_the_output_is_written_whole_and_replaces_an_old_one(folder, capsys):
    (folder / "out.ipynb").write_text("old")
    assert main(["ref.ipynb", "-o", "out.ipynb"]) == 0
    assert capsys.readouterr().out == "wrote out.ipynb: 5 solutions cleared\n"
    student = json.loads((folder / "out.ipynb").read_text(encoding="utf-8"))
    assert student == make_student(json.loads(REFERENCE.read_text(encoding="utf-8")))[0]
    assert _files(folder) == ["out.ipynb", "ref.ipynb"]  # no temporary file left


def test_errors_through_python_m_in_a_subprocess(folder):
    (folder / "bad.ipynb").write_bytes(b"[1, 2, 3]")
    os.link(folder / "ref.ipynb", folder / "hard.ipynb")
    run = [sys.executable, "-m", "micrograd_like.exercises.make_student"]
    env = {"PYTHONPATH": str(ROOT)}
    for argv, word in [(["bad.ipynb", "-o", "out.ipynb"], "not a notebook"),
                       (["ref.ipynb", "-o", "hard.ipynb"], "same file"),
                       (["ref.ipynb", "-o", "/dev/full"], "not a regular file")]:
        done = subprocess.run(run + argv, capture_output=True, text=True, env=env, cwd=folder, timeout=120)
        assert done.returncode == 2
        assert done.stdout == ""
        assert len(done.stderr.splitlines()) == 1 and word in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert (folder / "ref.ipynb").read_bytes() == REFERENCE.read_bytes()
    assert _files(folder) == ["bad.ipynb", "hard.ipynb", "ref.ipynb"]
