"""The commands as a user runs them: a real subprocess, a time limit, an exit code, one line on stderr."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def environment(**extra):
    """The test's environment with this checkout first on the path and no inherited I/O encoding."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "PYTHONUTF8")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env.update(extra)
    return env


def command(*args, timeout=60, env=None, **kwargs):
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run([sys.executable, "-m", "micrograd_like", *args], text=True, timeout=timeout,
                          env=env or environment(), **kwargs)


def assert_one_line_error(proc, *words):
    """Exit code 2, no traceback, and exactly one line on stderr containing each of ``words``."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0]


# --- graph: input of any size under 10 KB


@pytest.mark.parametrize(
    "expression, message",
    [
        ("+" * 10000 + "x", "10001 characters; the limit is MAX_LENGTH=2000"),
        ("x" + "**x" * 30000, "90001 characters; the limit is MAX_LENGTH=2000"),
        ("+".join(["x"] * 1000), "1999 parts (numbers, names, operations); the limit is MAX_PARTS=500"),
        ("0+" + "-" * 140 + "x" + "+x" * 120,
         "nests 262 levels deep (x+x+...+x nests once per +); the limit is MAX_DEPTH=250"),
        ("(" * 300 + "x" + ")" * 300, "too many nested parentheses"),
    ],
)
def test_graph_refuses_oversized_expressions_in_one_line(tmp_path, expression, message):
    proc = command("graph", expression, "x=1", "-o", str(tmp_path / "g.dot"), timeout=30)
    assert_one_line_error(proc, "graph: ", message)
    assert not (tmp_path / "g.dot").exists()


def test_graph_expression_that_looks_like_an_option_after_double_dash(tmp_path):
    proc = command("graph", "-o", str(tmp_path / "g.dot"), "--", "-" * 300 + "x", "x=1", timeout=30)
    assert_one_line_error(proc, "nests 301 levels deep")


# --- graph: names and numbers


def test_graph_refuses_a_name_given_twice(tmp_path):
    proc = command("graph", "x", "x=1", "x=2", "-o", str(tmp_path / "g.dot"))
    assert_one_line_error(proc, "'x' is given twice")
    proc = command("graph", "x", "x=1", "𝑥=2", "-o", str(tmp_path / "g.dot"))
    assert_one_line_error(proc, "'x' is given twice ('x' and '𝑥' are the same name to Python)")


def test_graph_matches_names_as_python_normalises_them(tmp_path):
    out = tmp_path / "g.dot"
    proc = command("graph", "𝑥*ﬁ", "𝑥=2", "ﬁ=3", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("out = 6;")
    proc = command("graph", "x*fi", "𝑥=2", "ﬁ=3", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("out = 6;")
    assert "{ x | data 2" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args, message",
    [
        (["x*1e999", "x=1"], "the number '1e999' is not finite"),
        (["x", "x=1e999"], "x: '1e999' is not finite"),
        (["x", "x=nan"], "x: 'nan' is not finite"),
        (["x*1" + "0" * 400, "x=1"], "is not finite (it overflows a float)"),
    ],
)
def test_graph_refuses_non_finite_numbers_alike(tmp_path, args, message):
    assert_one_line_error(command("graph", *args, "-o", str(tmp_path / "g.dot")), message)


def test_graph_refuses_a_keyword_as_a_name(tmp_path):
    assert_one_line_error(command("graph", "x", "x=1", "if=2", "-o", str(tmp_path / "g.dot")),
                          "'if' is a Python keyword")


def test_graph_argument_errors_are_one_line(tmp_path):
    assert_one_line_error(command("graph"), "error: the following arguments are required: expression")


# --- graph: where the output goes


def test_graph_stops_quietly_when_the_reader_closed_the_pipe(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -c0`: nobody will read what the command prints
    try:
        proc = command("graph", "x*2", "x=1", "-o", str(tmp_path / "g.dot"), stdout=write_end,
                       stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 141  # 128 + SIGPIPE, what a shell reports for `cat big | head -c0`
    assert "digraph" in (tmp_path / "g.dot").read_text()


def test_graph_prints_on_an_ascii_terminal(tmp_path):
    out = tmp_path / "gé.dot"
    proc = command("graph", "é", "é=3", "-o", str(out), env=environment(PYTHONIOENCODING="ascii"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.startswith("\\xe9 = 3; wrote ") and proc.stdout.rstrip().endswith("g\\xe9.dot")
    assert out.exists()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_graph_reports_a_full_stdout_in_one_line(tmp_path):
    with open("/dev/full", "w") as full:
        proc = command("graph", "x", "x=1", "-o", str(tmp_path / "g.dot"), stdout=full, stderr=subprocess.PIPE)
    assert_one_line_error(proc, "cannot write the output", "No space left on device")


# --- demo: arguments checked before any training


@pytest.mark.parametrize("epochs", ["0", "-1", "two"])
def test_demo_epochs_must_be_a_positive_int(tmp_path, epochs):
    proc = command("demo", "--epochs", epochs, "--out", str(tmp_path), "--no-progress", timeout=30)
    assert_one_line_error(proc, f"argument --epochs: must be a positive int, got '{epochs}'")


def bad_folders(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    cases = [(str(a_file), "exists and is not a folder"), ("", "--out is empty"),
             (str(a_file / "under"), "cannot write there (Not a directory)")]
    if os.path.exists("/dev/full"):
        cases.append(("/dev/full", "'/dev/full' exists and is not a folder"))
    return cases


def test_demo_refuses_an_output_folder_it_cannot_use_before_training(tmp_path):
    for out, message in bad_folders(tmp_path):
        # a million epochs would take hours: the error must come before training starts
        proc = command("demo", "--epochs", "1000000", "--out", out, "--no-progress", timeout=30)
        assert_one_line_error(proc, message)
        assert "accuracy" not in proc.stdout


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes in a 0o555 folder anyway; see the /sys test")
def test_demo_refuses_a_read_only_folder_before_training(tmp_path):
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        proc = command("demo", "--epochs", "1000000", "--out", str(folder), "--no-progress", timeout=30)
    finally:
        folder.chmod(0o755)
    assert_one_line_error(proc, "cannot write there (Permission denied)")


@pytest.mark.skipif(not os.path.isdir("/sys") or sys.platform != "linux", reason="needs Linux's /sys")
def test_demo_tries_a_write_rather_than_trusting_permission_bits():
    # /sys takes no new files, not even from root, for whom os.access() says every folder is writable
    proc = command("demo", "--epochs", "1000000", "--out", "/sys", "--no-progress", timeout=30)
    assert_one_line_error(proc, "--out '/sys': cannot write there")


def test_demo_creates_a_missing_folder_and_writes_into_it(tmp_path):
    out = tmp_path / "new" / "pictures"
    proc = command("demo", "--epochs", "2", "--out", str(out), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert (out / "moons_boundary.png").stat().st_size > 10_000
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # the write probe is gone


@pytest.mark.graphviz
@pytest.mark.parametrize("expression", [
    "+".join(["x"] * 80),
    "*".join(["x"] * 70),
    "(" * 50 + "x" + "".join("*x+1)" for _ in range(50)),  # a 50-step Horner polynomial
    "+".join(["x"] * 240),
    "+".join(["x*y"] * 120),  # each x*y used once, far from x and y: as slow as x+x+... until x, y are copied
    "*".join(["(x+y)"] * 120),
    "+".join(["tanh(x*y)"] * 80),
], ids=["80-term sum", "70-factor product", "Horner 50", "240-term sum", "120 x*y", "120 (x+y)", "80 tanh(x*y)"])
def test_graph_draws_a_value_used_by_many_nodes_within_the_time_limit(tmp_path, expression):
    # each of these ran for minutes in Graphviz when every use of x was an edge to one box;
    # the subprocess timeout is the failure condition, not a timed assertion
    names = ["x=0.5", "y=0.3"] if "y" in expression else ["x=0.5"]
    proc = command("graph", expression, *names, "-o", str(tmp_path / "g.svg"), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "g.svg").read_text().count('class="node"') > 70


# --- graph --steps: the flipbook


NEURON = ("tanh(x*w + b)", "x=2", "w=-3", "b=6.88")


@pytest.mark.graphviz
def test_graph_steps_writes_a_flipbook_page(tmp_path):
    import html
    import re

    out = tmp_path / "steps.html"
    proc = command("graph", *NEURON, "--steps", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("out = 0.706419; wrote ") and proc.stdout.rstrip().endswith("(4 frames)")
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count('<figure class="mgl-frame"') == 4
    captions = [html.unescape(c) for c in re.findall(r"<figcaption><div[^>]*>(.*?)</div>", page)]
    assert captions[0] == "step 0 of 3: the seed, dout/dout = 1"
    assert captions[1].startswith("step 1 of 3: out = tanh(v2) = 0.7064")
    assert captions[3].startswith("step 3 of 3: v1 = *(x, w) = -6")


@pytest.mark.graphviz
def test_graph_steps_writes_an_animated_gif(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    pytest.importorskip("cairosvg")
    out = tmp_path / "steps.gif"
    proc = command("graph", *NEURON, "--steps", "-o", str(out), "--local-grads")
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as gif:
        assert gif.format == "GIF" and gif.n_frames == 4 and gif.width > 300


@pytest.mark.parametrize("name", ["steps.svg", "steps.png", "steps", "steps.dot"])
def test_graph_steps_with_another_extension_is_a_one_line_error(tmp_path, name):
    proc = command("graph", *NEURON, "--steps", "-o", str(tmp_path / name), timeout=30)
    assert_one_line_error(proc, "--steps writes a flipbook: -o must end in .html or .gif", name)
    assert not list(tmp_path.iterdir())


def test_graph_steps_gif_without_the_extra_names_it(tmp_path):
    # a module that fails to import stands in for a machine without cairosvg
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "cairosvg.py").write_text("raise ImportError('No module named cairosvg')\n")
    env = environment()
    env["PYTHONPATH"] = os.pathsep.join([str(fake), env["PYTHONPATH"]])
    proc = command("graph", *NEURON, "--steps", "-o", str(tmp_path / "steps.gif"), env=env, timeout=30)
    assert_one_line_error(proc, "graph: ", "pip install 'micrograd_like[gif]'")
    assert not (tmp_path / "steps.gif").exists()
