"""The `graph` command: a whitelist parser that never evaluates what it is given."""

import subprocess
import sys

import pytest

from micrograd_like.expr import ExpressionError, parse


def test_parse_builds_labelled_leaves_and_the_right_value():
    out = parse("tanh(x*w + b)", {"x": 2.0, "w": -3.0, "b": 6.88})
    out.backward()
    assert out.data == pytest.approx(0.7064193203)
    labels = {v.label for v in __import__("micrograd_like").topological_order(out) if v.is_leaf}
    assert {"x", "w", "b"} <= labels


def test_parse_supports_the_arithmetic_and_functions():
    assert parse("-x ** 2 / 4 + exp(0) - abs(-1)", {"x": 2.0}).data == pytest.approx(-1.0)
    assert parse("leaky_relu(x, 0.1)", {"x": -2.0}).data == pytest.approx(-0.2)
    assert parse("sqrt(x) * log(x)", {"x": 4.0}).data == pytest.approx(2 * 1.3862943611)


@pytest.mark.parametrize(
    "text, message",
    [
        ("__import__('os').system('echo hi')", "calls are limited"),
        ("x.__class__", "Attribute"),
        ("lambda: 1", "Lambda"),
        ("[x for x in y]", "ListComp"),
        ("open('f')", "not 'open'"),
        ("x[0]", "Subscript"),
        ("x +", "cannot parse"),
        ("y * 2", "unknown name 'y'"),
        ("'a' * 3", "Constant"),
        ("x if x else 1", "IfExp"),
        ("exp(x, x)", "takes one argument"),
        ("exp(x=1)", "takes one argument"),
    ],
)
def test_hostile_or_bad_input_is_rejected(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse(text, {"x": 1.0})


def run(*args):
    return subprocess.run([sys.executable, "-m", "micrograd_like", "graph", *args], capture_output=True, text=True)


def test_command_rejects_with_exit_2_one_line_and_no_traceback(tmp_path):
    marker = tmp_path / "pwned"
    proc = run(f"__import__('os').system('touch {marker}')", "-o", str(tmp_path / "g.dot"))
    assert proc.returncode == 2 and not marker.exists()
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    proc = run("x", "x=1", "-o", str(tmp_path / "no" / "such" / "dir" / "g.svg"))
    assert proc.returncode == 2 and "No such file or directory" in proc.stderr and "Traceback" not in proc.stderr
    for args in (["x*y", "x=2", "y=abc"], ["x*y", "x=2"], ["log(x)", "x=0"], ["x", "x=1", "z=2"]):
        proc = run(*args, "-o", str(tmp_path / "g.dot"))
        assert proc.returncode == 2, args
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_command_writes_dot_without_the_binary(tmp_path):
    out = tmp_path / "g.dot"
    proc = run("tanh(x*w + b)", "x=2", "w=-3", "b=6.88", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "digraph" in out.read_text() and "out = 0.706419" in proc.stdout


@pytest.mark.graphviz
def test_command_renders_svg_and_png(tmp_path):
    for name in ("g.svg", "g.png"):
        proc = run("tanh(x*w + b)", "x=2", "w=-3", "b=6.88", "-o", str(tmp_path / name), "--local-grads")
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / name).stat().st_size > 1000
