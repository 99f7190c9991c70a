"""The `graph` command: a whitelist parser that never evaluates what it is given."""

import math
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "micrograd_like", "graph", *args], capture_output=True, text=True,
                          timeout=60, env=env)


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


# --- bounds: every input ends in a Value or an ExpressionError, never MemoryError or RecursionError


@pytest.mark.parametrize(
    "text, bound",
    [
        ("+" * 10000 + "x", "has 10001 characters; the limit is MAX_LENGTH=2000"),
        ("x" + "**x" * 30000, "has 90001 characters; the limit is MAX_LENGTH=2000"),
        ("+".join(["x"] * 1000), "has 1999 parts (numbers, names, operations); the limit is MAX_PARTS=500"),
        ("0+" + "-" * 140 + "x" + "+x" * 120,
         "nests 262 levels deep (x+x+...+x nests once per +); the limit is MAX_DEPTH=250"),
        ("-" * 300 + "x", "nests 301 levels deep"),
    ],
)
def test_oversized_expressions_name_the_bound_and_its_value(text, bound):
    with pytest.raises(ExpressionError) as info:
        parse(text, {"x": 1.0})
    assert bound in str(info.value)
    assert len(str(info.value)) < 200  # the expression itself is cut short in the message


def test_expressions_just_inside_the_bounds_are_built():
    from micrograd_like.expr import MAX_DEPTH

    # MAX_DEPTH - 1 additions nest MAX_DEPTH - 1 deep, below the root: MAX_DEPTH levels in all
    out = parse("+".join(["x"] * MAX_DEPTH), {"x": 0.5})
    out.backward()
    assert out.data == MAX_DEPTH * 0.5
    assert out.grad == 1.0


@pytest.mark.parametrize("error", [MemoryError, RecursionError])
def test_the_parser_giving_up_is_an_expression_error(monkeypatch, error):
    import micrograd_like.expr as expr

    def give_up(*args, **kwargs):
        raise error()

    monkeypatch.setattr(expr.ast, "parse", give_up)
    with pytest.raises(ExpressionError, match="nested too deeply for Python's parser"):
        parse("x", {"x": 1.0})


UNITS = ["+", "-", "~", "(", "[", "x+", "x*", "x**", "**x", "exp(", "-(", "x if x else ", "lambda:", "not ", "1e9"]


@given(unit=st.sampled_from(UNITS), n=st.integers(0, 3500), tail=st.sampled_from(["x", "x)", ""]))
@settings(max_examples=150)
def test_repeated_patterns_never_crash_the_parser(unit, n, tail):
    text = unit * n + tail
    try:
        out = parse(text, {"x": 0.5})
    except (ExpressionError, ValueError, ArithmeticError):
        return
    assert isinstance(out.data, float)


@given(st.text(alphabet="x+-*/() .e1234567890**,", max_size=3000))
@settings(max_examples=150)
def test_random_text_never_crashes_the_parser(text):
    try:
        parse(text, {"x": 0.5})
    except (ExpressionError, ValueError, ArithmeticError):
        pass


# --- names and numbers


def test_names_are_matched_after_nfkc_normalisation_like_python_does():
    # Python reads 𝑥 (mathematical italic x) as x and the ligature ﬁ as fi
    assert parse("𝑥 * ﬁ", {"x": 2.0, "fi": 3.0}).data == 6.0
    assert parse("x * fi", {"𝑥": 2.0, "ﬁ": 3.0}).data == 6.0
    assert {v.label for v in parse("𝑥 + 1", {"𝑥": 2.0}).parents} >= {"x"}


def test_one_name_given_twice_is_an_error():
    with pytest.raises(ExpressionError, match=r"'x' is given twice \('x' and '𝑥' are the same name to Python\)"):
        parse("x", {"x": 1.0, "𝑥": 2.0})


@pytest.mark.parametrize(
    "text, variables, named",
    [
        ("x * 1e999", {"x": 1.0}, "the number '1e999' is not finite"),
        ("x * 1" + "0" * 400, {"x": 1.0}, "the number '1000000"),
        ("x", {"x": math.inf}, "x: inf is not finite"),
        ("x", {"x": math.nan}, "x: nan is not finite"),
    ],
)
def test_non_finite_numbers_are_refused_alike_in_the_text_and_the_variables(text, variables, named):
    with pytest.raises(ExpressionError, match="not finite") as info:
        parse(text, variables)
    assert named in str(info.value)
