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


# --- parse: the result, its labels and its messages


def test_each_variable_is_one_leaf_labelled_with_its_name_and_the_root_is_out():
    out = parse("x * y + x", {"x": 2.0, "y": 3.0})
    assert out.data == 8.0 and out.label == "out"
    leaves = {v.label: v for v in __import__("micrograd_like").topological_order(out) if v.is_leaf}
    assert sorted(leaves) == ["x", "y"] and leaves["x"].data == 2.0 and leaves["y"].data == 3.0
    out.backward()
    assert leaves["x"].grad == 4.0 and leaves["y"].grad == 2.0  # x is one leaf, used twice


def test_a_lone_variable_keeps_its_label_and_numbers_alone_make_a_value():
    x = parse("x", {"x": 1.5})
    assert x.label == "x" and x.data == 1.5 and x.is_leaf
    assert parse("+x", {"x": 1.5}).label == "x"  # unary plus is the operand itself
    two = parse("2 * 3", {})
    assert type(two).__name__ == "Value" and two.data == 6.0 and two.label == "out"
    assert parse("7", {}).data == 7.0 and parse("7", {}).label == "out"


def test_unused_variables_are_named_in_order():
    with pytest.raises(ExpressionError, match=r"^variables given but not used: y, z$"):
        parse("x", {"z": 1.0, "x": 1.0, "y": 2.0})


@pytest.mark.parametrize(
    "text, value, grads",
    [
        ("x - y", -1.0, (1.0, -1.0)),
        ("x / y", 0.5, (0.5, -0.25)),
        ("x ** y", 1.0, (2.0, 0.0)),
        ("x + y", 3.0, (1.0, 1.0)),
        ("x * y", 2.0, (2.0, 1.0)),
        ("-x + y", 1.0, (-1.0, 1.0)),
        ("1 - x", 0.0, (-1.0, None)),
        ("2 / x", 2.0, (-2.0, None)),
        ("2 ** x", 2.0, (2 * math.log(2), None)),
    ],
)
def test_each_operator_computes_its_value_and_gradients(text, value, grads):
    names = {"x": 1.0, "y": 2.0} if "y" in text else {"x": 1.0}
    out = parse(text, names)
    out.backward()
    assert out.data == pytest.approx(value)
    leaves = {v.label: v for v in __import__("micrograd_like").topological_order(out) if v.is_leaf and v.label}
    assert leaves["x"].grad == pytest.approx(grads[0])
    if grads[1] is not None:
        assert leaves["y"].grad == pytest.approx(grads[1])


@pytest.mark.parametrize(
    "text, variables, value",
    [
        ("exp(1)", {}, math.e), ("log(y)", {"y": 3.0}, math.log(3.0)), ("sqrt(4)", {}, 2.0),
        ("tanh(y)", {"y": 3.0}, math.tanh(3.0)), ("sigmoid(0)", {}, 0.5), ("relu(-y)", {"y": 3.0}, 0.0),
        ("step(y)", {"y": 3.0}, 1.0), ("abs(-y)", {"y": 3.0}, 3.0), ("leaky_relu(-y, 0.5)", {"y": 3.0}, -1.5),
        ("leaky_relu(-2 * y)", {"y": 3.0}, -0.06), ("leaky_relu(-2)", {}, -0.02),
    ],
)
def test_every_function_is_callable_with_a_number_or_a_value(text, variables, value):
    assert parse(text, variables).data == pytest.approx(value)


@pytest.mark.parametrize(
    "text, message",
    [
        ("exp()", r"^exp\(\) takes one argument$"),
        ("leaky_relu(x, 0.1, 2)", r"^leaky_relu\(\) takes one argument \(and a slope for leaky_relu\)$"),
        ("leaky_relu()", r"^leaky_relu\(\) takes one argument \(and a slope for leaky_relu\)$"),
        ("abs(x, slope=2)", r"^abs\(\) takes one argument$"),
        ("sqrt(x, 2)", r"^sqrt\(\) takes one argument$"),
        ("exp", r"^unknown name 'exp': give it a value, e\.g\. exp=1\.5 \(functions: abs, exp, leaky_relu, log, "
                r"relu, sigmoid, sqrt, step, tanh\)$"),
        ("y", r"^unknown name 'y': give it a value, e\.g\. y=1\.5$"),
        ("x.y(1)", r"^calls are limited to abs, exp, leaky_relu, log, relu, sigmoid, sqrt, step, tanh; not 'x\.y'$"),
        ("open(x)", r"^calls are limited to abs, .*, tanh; not 'open'$"),
        ("x < 1", r"^not allowed in an expression: 'x < 1' \(Compare\)$"),
        ("x % 2", r"^not allowed in an expression: 'x % 2' \(BinOp\)$"),
        ("not x", r"^not allowed in an expression: 'not x' \(UnaryOp\)$"),
        ("True + x", r"^not allowed in an expression: 'True' \(Constant\)$"),
        ("x + 1j", r"^not allowed in an expression: '1j' \(Constant\)$"),
    ],
)
def test_messages_name_what_is_wrong(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse(text, {"x": 1.0})


def test_the_expression_must_be_text():
    with pytest.raises(ExpressionError, match=r"^the expression must be a str, got int$"):
        parse(3, {})


def test_surrounding_spaces_are_ignored_and_numbers_are_quoted_as_written():
    assert parse("  x * 2  ", {"x": 1.5}).data == 3.0
    with pytest.raises(ExpressionError, match=r"^the number '1e999' is not finite \(it overflows a float\); "
                                              r"use a finite number$"):
        parse("  x * 1e999", {"x": 1.0})


def test_a_huge_whole_number_is_refused_as_not_finite():
    with pytest.raises(ExpressionError, match=r"^the number '1000000000.*\(401 characters\) is not finite"):
        parse("1" + "0" * 400, {})


def test_syntax_errors_quote_the_text_and_give_the_reason():
    with pytest.raises(ExpressionError, match=r"^cannot parse 'x \+': invalid syntax$"):
        parse("x +", {"x": 1.0})


def test_text_that_is_not_valid_unicode_is_an_expression_error():
    with pytest.raises(ExpressionError, match=r"^cannot parse '\\ud800': .*surrogates not allowed"):
        parse("\ud800", {})


def test_the_parser_giving_up_names_the_depth_limit(monkeypatch):
    import micrograd_like.expr as expr

    def give_up(*args, **kwargs):
        raise RecursionError()

    monkeypatch.setattr(expr.ast, "parse", give_up)
    with pytest.raises(ExpressionError, match=r"^cannot parse 'x\+1': nested too deeply for Python's parser "
                                              r"\(the limit here is MAX_DEPTH=250 levels\)$"):
        parse("x+1", {"x": 1.0})


def test_long_text_in_a_message_is_cut_after_60_characters():
    from micrograd_like.expr import _short

    assert _short("a" * 60) == repr("a" * 60)
    assert _short("a" * 61) == repr("a" * 60) + "... (61 characters)"
    assert _short("ab", limit=1) == "'a'... (2 characters)"
    with pytest.raises(ExpressionError) as info:
        parse("x +" + " " * 100, {"x": 1.0})
    assert str(info.value).startswith(f"cannot parse {'x +' + ' ' * 57!r}... (103 characters): ")


def test_the_bounds_are_inclusive():
    from micrograd_like.expr import MAX_LENGTH

    assert parse("x" + " " * (MAX_LENGTH - 1), {"x": 1.0}).data == 1.0
    with pytest.raises(ExpressionError, match="has 2001 characters"):
        parse("x" + " " * MAX_LENGTH, {"x": 1.0})
    # 250 names, 249 additions and one minus: 500 parts, nested 250 deep at most
    inside = "+".join(["x"] * 249) + "+-x"
    assert parse(inside, {"x": 1.0}).data == 248.0
    with pytest.raises(ExpressionError, match=r"^the expression has 501 parts \(numbers, names, operations\); "
                                              r"the limit is MAX_PARTS=500$"):
        parse(inside.replace("+-x", "+--x"), {"x": 1.0})
    assert parse("-" * 249 + "x", {"x": 1.0}).data == -1.0
    with pytest.raises(ExpressionError, match=r"^the expression nests 251 levels deep \(x\+x\+\.\.\.\+x nests once "
                                              r"per \+\); the limit is MAX_DEPTH=250$"):
        parse("-" * 250 + "x", {"x": 1.0})


# --- NAME=NUMBER arguments and the values given to parse


def test_normalised_refuses_a_name_given_twice_and_values_that_are_not_numbers():
    from micrograd_like.expr import _normalised

    assert _normalised([("𝑥", 1), ("y", "2.5")]) == {"x": 1.0, "y": 2.5}
    with pytest.raises(ExpressionError, match=r"^'x' is given twice: give each name one value$"):
        _normalised([("x", 1.0), ("x", 2.0)])
    with pytest.raises(ExpressionError, match=r"^'x' is given twice \('𝑥' and 'x' are the same name to Python\): "
                                              r"give each name one value$"):
        _normalised([("𝑥", 1.0), ("x", 2.0)])
    with pytest.raises(ExpressionError, match=r"^x: None is not a number$"):
        _normalised([("𝑥", None)])
    with pytest.raises(ExpressionError, match=r"^y: 'abc' is not a number$"):
        parse("y", {"y": "abc"})
    with pytest.raises(ExpressionError, match=r"^x: -inf is not finite; give a finite number$"):
        _normalised([("x", -math.inf)])


@pytest.mark.parametrize(
    "text, pair",
    [("x=1.5", ("x", 1.5)), ("w=-3", ("w", -3.0)), ("𝑥=2", ("𝑥", 2.0)), ("b= 6.88 ", ("b", 6.88)),
     ("é=1e3", ("é", 1000.0))],
)
def test_an_assignment_is_a_name_and_a_float(text, pair):
    from micrograd_like.expr import _assignment

    name, number = _assignment(text)
    assert (name, number) == pair and type(number) is float


@pytest.mark.parametrize(
    "text, message",
    [
        ("x", r"^expected NAME=NUMBER, got 'x'$"),
        ("=1", r"^expected NAME=NUMBER, got '=1'$"),
        ("1x=2", r"^expected NAME=NUMBER, got '1x=2'$"),
        ("x y=2", r"^expected NAME=NUMBER, got 'x y=2'$"),
        ("if=2", r"^'if' is a Python keyword and cannot name a variable$"),
        ("𝐢𝐟=2", r"^'𝐢𝐟' is a Python keyword and cannot name a variable$"),
        ("x=abc", r"^x: 'abc' is not a number$"),
        ("x=1=2", r"^x: '1=2' is not a number$"),
        ("x=", r"^x: '' is not a number$"),
        ("x=inf", r"^x: 'inf' is not finite; give a finite number$"),
        ("x=nan", r"^x: 'nan' is not finite; give a finite number$"),
        ("x=" + "9" * 400, r"^x: '9{60}'\.\.\. \(400 characters\) is not finite; give a finite number$"),
    ],
)
def test_a_bad_assignment_says_what_is_wrong(text, message):
    from micrograd_like.expr import _assignment

    with pytest.raises(ExpressionError, match=message):
        _assignment(text)


# --- main(argv): the command in-process (test_cli runs it in a subprocess, out of mutmut's sight)

NEURON = ["tanh(x*w + b)", "x=2", "w=-3", "b=6.88"]


def graph(argv, capsys):
    from micrograd_like.expr import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_main_writes_dot_and_prints_the_value_and_the_absolute_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = graph([*NEURON, "-o", "g.dot"], capsys)
    assert (code, err) == (0, "")
    assert out == f"out = 0.706419; wrote {tmp_path / 'g.dot'}\n"
    dot = (tmp_path / "g.dot").read_text()
    assert dot.startswith("digraph") and "fontcolor" not in dot.split("->", 1)[1]  # no local grads by default
    code, out, err = graph(["x / 3", "x=1", "-o", "g.DOT", "--local-grads"], capsys)
    assert (code, out, err) == (0, f"out = 0.333333; wrote {tmp_path / 'g.DOT'}\n", "")
    assert "label=0.3333 " in (tmp_path / "g.DOT").read_text()  # d(x/3)/dx on its edge


def test_main_prints_the_label_of_a_lone_variable_and_needs_no_values(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert graph(["x", "x=1.5", "-o", "x.dot"], capsys) == (0, f"x = 1.5; wrote {tmp_path / 'x.dot'}\n", "")
    assert graph(["2 * 3", "-o", "n.dot"], capsys) == (0, f"out = 6; wrote {tmp_path / 'n.dot'}\n", "")


@pytest.mark.graphviz
def test_main_writes_graph_svg_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = graph(NEURON, capsys)
    assert (code, out, err) == (0, f"out = 0.706419; wrote {tmp_path / 'graph.svg'}\n", "")
    assert (tmp_path / "graph.svg").read_text().lstrip().startswith(("<?xml", "<svg"))


@pytest.mark.graphviz
def test_main_steps_writes_steps_html_by_default_and_counts_the_frames(tmp_path, monkeypatch, capsys):
    from micrograd_like.flipbook import flipbook

    monkeypatch.chdir(tmp_path)
    frames = len(flipbook(parse(NEURON[0], {"x": 2.0, "w": -3.0, "b": 6.88})))
    assert frames > 2
    code, out, err = graph([*NEURON, "--steps"], capsys)
    assert (code, out, err) == (0, f"out = 0.706419; wrote {tmp_path / 'steps.html'} ({frames} frames)\n", "")
    plain = (tmp_path / "steps.html").read_text()
    assert plain.startswith("<!DOCTYPE html>") or "<html" in plain[:200]
    assert graph(["x*w", "x=2", "w=-3", "--steps", "-o", "a.HTM", "--local-grads"], capsys)[0] == 0
    assert graph(["x*w", "x=2", "w=-3", "--steps", "-o", "b.htm"], capsys)[0] == 0
    # the local derivatives are drawn in green on the edges, only when asked
    assert "#2f855a" in (tmp_path / "a.HTM").read_text() and "#2f855a" not in (tmp_path / "b.htm").read_text()


@pytest.mark.graphviz
def test_main_steps_writes_a_gif(tmp_path, monkeypatch, capsys):
    pytest.importorskip("cairosvg")
    pytest.importorskip("PIL")
    monkeypatch.chdir(tmp_path)
    code, out, err = graph(["x*2", "x=1", "--steps", "-o", "s.gif"], capsys)
    assert (code, out, err) == (0, f"out = 2; wrote {tmp_path / 's.gif'} (2 frames)\n", "")
    assert (tmp_path / "s.gif").read_bytes()[:4] == b"GIF8"


@pytest.mark.graphviz
def test_main_steps_checks_the_gif_extra_before_the_work_and_only_for_a_gif(tmp_path, monkeypatch, capsys):
    import micrograd_like.flipbook as fb
    import micrograd_like.player as player

    def missing():
        raise ImportError("the GIF needs pip install 'micrograd_like[gif]'")

    def no_work(*args, **kwargs):
        raise AssertionError("the flipbook was drawn before the missing extra was named")

    monkeypatch.setattr(player, "gif_modules", missing)
    monkeypatch.chdir(tmp_path)
    assert graph(["x*2", "x=1", "--steps", "-o", "page.html"], capsys)[0] == 0  # an .html needs no extra
    monkeypatch.setattr(fb, "flipbook", no_work)
    code, out, err = graph(["x*2", "x=1", "--steps", "-o", "s.GIF"], capsys)
    assert (code, out, err) == (2, "", "graph: the GIF needs pip install 'micrograd_like[gif]'\n")
    assert not (tmp_path / "s.GIF").exists()


@pytest.mark.parametrize("name", ["s.svg", "s.dot", "s"])
def test_main_steps_refuses_an_output_that_is_not_a_flipbook(tmp_path, monkeypatch, capsys, name):
    from micrograd_like.expr import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main([*NEURON, "--steps", "-o", name])
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err == (f"python -m micrograd_like graph: error: --steps writes a flipbook: "
                                 f"-o must end in .html or .gif, got {name!r} (see --help)\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["x*y", "x=2", "y=abc"], "graph: y: 'abc' is not a number\n"),
        (["x*y", "x=2"], "graph: unknown name 'y': give it a value, e.g. y=1.5\n"),
        (["x", "x=1", "z=2"], "graph: variables given but not used: z\n"),
        (["x", "x=1", "𝑥=2"], "graph: 'x' is given twice ('x' and '𝑥' are the same name to Python): "
                              "give each name one value\n"),
        (["x", "x"], "graph: expected NAME=NUMBER, got 'x'\n"),
        (["1/x", "x=0"], None),
    ],
)
def test_main_bad_input_is_exit_2_and_one_line_on_stderr(tmp_path, capsys, args, message):
    code, out, err = graph([*args, "-o", str(tmp_path / "g.dot")], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("graph: ") and err.endswith("\n") and err.count("\n") == 1
    if message is not None:
        assert err == message
    assert not (tmp_path / "g.dot").exists()


def test_main_reports_an_unwritable_output(tmp_path, capsys):
    code, out, err = graph(["x", "x=1", "-o", str(tmp_path / "no" / "g.dot")], capsys)
    assert (code, out) == (2, "") and err.startswith("graph: [Errno 2] No such file or directory")


@pytest.mark.parametrize("error", [ExpressionError, ArithmeticError, ValueError, TypeError, RuntimeError, ImportError,
                                   OSError, MemoryError, OverflowError, ZeroDivisionError])
def test_main_turns_every_expected_error_into_one_line(tmp_path, monkeypatch, capsys, error):
    import micrograd_like.expr as expr

    def fail(*args, **kwargs):
        raise error("first line\n  second   line")

    monkeypatch.setattr(expr, "parse", fail)
    code, out, err = graph(["x", "x=1", "-o", str(tmp_path / "g.dot")], capsys)
    assert (code, out, err) == (2, "", "graph: first line second line\n")


def test_main_does_not_hide_a_bug(tmp_path, monkeypatch, capsys):
    import micrograd_like.expr as expr

    def fail(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(expr, "parse", fail)
    with pytest.raises(KeyError):
        graph(["x", "x=1", "-o", str(tmp_path / "g.dot")], capsys)


def test_main_argument_errors_exit_2_in_one_line(capsys):
    from micrograd_like.expr import main

    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err == ("python -m micrograd_like graph: error: the following arguments are required: "
                                 "expression (see --help)\n")


def test_main_help_explains_the_command_its_formats_and_defaults(capsys):
    from micrograd_like.expr import main

    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert text.startswith("usage: python -m micrograd_like graph [-h] [-o OUTPUT] [--local-grads] [--steps] "
                           "expression [NAME=NUMBER ...]")
    for phrase in [
        "Draw the computation graph of an expression after backward(), e.g.: graph \"tanh(x*w + b)\" x=2 w=-3 "
        "b=6.88 -o graph.svg; with --steps, a flipbook of the backward pass, one frame per step: -o steps.html "
        "or -o steps.gif",
        "-o OUTPUT, --output OUTPUT .svg, .png, .pdf or .dot (DOT text), default graph.svg; with --steps .html "
        "(a page that needs no kernel) or .gif, default steps.html",
        "--local-grads write local derivatives on the edges",
        "--steps draw backprop one step at a time: a flipbook (.html) or an animated GIF (.gif)",
    ]:
        assert phrase in text
