"""gradcheck, numerical_grad and the strategies catch what they are for."""

import dataclasses
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd_like as mg
from micrograd_like import ops
from micrograd_like.testing import call_op, gradcheck, gradgradcheck, numerical_grad
from micrograd_like.testing.strategies import expressions, op_inputs, values


def test_numerical_grad_of_known_functions():
    assert numerical_grad(lambda x: x * x, 3.0) == pytest.approx([6.0], rel=1e-8)
    assert numerical_grad(lambda x, y: x * y + y.exp(), 2.0, 0.5) == pytest.approx(
        [0.5, 2.0 + math.exp(0.5)], rel=1e-7
    )


def test_gradcheck_passes_on_a_correct_function():
    assert gradcheck(lambda a, b: (a * b).tanh() + a.sigmoid() / b, 0.3, 1.7) is True


def test_gradcheck_catches_a_wrong_derivative_and_names_input_and_values(monkeypatch):
    # a tanh whose table entry forgets to square: d/dx = 1 - tanh(x) instead of 1 - tanh(x)**2
    wrong = dataclasses.replace(ops.OPS["tanh"], derivative=lambda out, x: (1.0 - out,))
    monkeypatch.setitem(ops.OPS, "tanh", wrong)
    with pytest.raises(AssertionError) as info:
        gradcheck(lambda a, b: a * b.tanh(), 2.0, 0.5)
    message = str(info.value)
    assert "input 1" in message and "x1 = 0.5" in message
    t = math.tanh(0.5)
    assert f"analytic {2.0 * (1 - t)!r}" in message
    assert "numeric 1.57" in message  # 2 * (1 - tanh(0.5)**2) = 1.5729...


def test_gradcheck_needs_a_value_back():
    with pytest.raises(TypeError, match="must return a Value, got float"):
        gradcheck(lambda a: 1.0, 2.0)


def test_call_op_checks_arity():
    with pytest.raises(ValueError, match="takes 2 inputs, got 1"):
        call_op("*", [1.0])


@pytest.mark.parametrize("name", sorted(ops.OPS))
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_every_op_in_the_table_has_a_strategy_that_draws_inputs_it_takes(name, data):
    # what op_inputs draws has the op's arity and params, lies in its domain and gives a finite result
    op = ops.OPS[name]
    inputs, params = data.draw(op_inputs(name))
    assert len(params) == len(op.params)
    assert len(inputs) == op.arity if op.arity != -1 else len(inputs) >= 1
    assert all(math.isfinite(x) for x in inputs + params)
    out = call_op(name, list(inputs), params)
    assert math.isfinite(out.data)
    assert out.data == (op.forward(tuple(inputs)) if op.arity == -1 else op.forward(*inputs, *params))


def test_an_op_with_an_unknown_domain_cannot_slip_through(monkeypatch):
    odd = dataclasses.replace(ops.OPS["exp"], domain="somewhere new")
    monkeypatch.setitem(ops.OPS, "exp", odd)
    with pytest.raises(ValueError, match="add one to _DOMAINS"):
        op_inputs("exp")


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_expressions_with_an_unknown_op_name_fail_clearly():
    with pytest.raises(KeyError, match="unknown op names"):
        expressions(ops=["tanh", "cosh"]).example()


@settings(max_examples=50, deadline=None)
@given(v=values(-3, 3))
def test_values_strategy_gives_finite_leaves(v):
    assert isinstance(v, mg.Value) and v.is_leaf and -3 <= v.data <= 3


@settings(max_examples=60, deadline=None)
@given(expr=expressions(ops=["log", "sqrt", "/", "relu", "*"]))
def test_expressions_stay_in_domain_and_repr_readably(expr):
    out = expr(*expr.inputs)
    assert math.isfinite(out.data)
    assert "x0" in repr(expr) or "Expression(" in repr(expr)


@settings(max_examples=40, deadline=None)
@given(expr=expressions(max_inputs=2, max_depth=4))
def test_shared_subexpressions_are_one_value(expr):
    # every distinct expression node must become exactly one Value, however often it is used
    distinct, stack = {}, [expr.root]
    while stack:
        node = stack.pop()
        if id(node) not in distinct:
            distinct[id(node)] = node
            stack.extend(node.children)
    out = expr(*expr.inputs)
    assert len(mg.topological_order(out)) == len(distinct)


def test_gradgradcheck_passes_on_a_correct_function():
    assert gradgradcheck(lambda a, b: (a * b).tanh() + a.sigmoid() / b + mg.logsumexp([a, b]), 0.3, 1.7) is True


def test_gradgradcheck_catches_a_wrong_cross_derivative_and_names_the_pair(monkeypatch):
    # a prelu rule right on floats but blind to its slope's graph: d/da (d/dx) comes out 0 instead of 1
    blind = dataclasses.replace(ops.OPS["prelu"],
                                derivative=lambda out, x, a: (1.0, 0.0) if ops._val(x) > 0 else (ops._val(a), x))
    monkeypatch.setitem(ops.OPS, "prelu", blind)
    assert gradcheck(lambda x, a: x.prelu(a), -0.5, 0.2)
    with pytest.raises(AssertionError) as info:
        gradgradcheck(lambda x, a: x.prelu(a), -0.5, 0.2)
    message = str(info.value)
    assert "d/dx1 of d f/dx0 at (x0 = -0.5, x1 = 0.2)" in message
    assert "analytic 0.0 vs numeric 1.0" in message


def test_gradgradcheck_needs_a_value_back():
    with pytest.raises(TypeError, match="gradgradcheck: f must return a Value, got float"):
        gradgradcheck(lambda x: 2.0, 1.0)


def test_a_failing_expression_is_reported_as_a_formula():
    # hypothesis prints the falsifying example with its pretty printer, which reads _repr_pretty_
    from hypothesis import given, settings

    @settings(max_examples=20, database=None, derandomize=True)
    @given(expressions())
    def prop(expr):
        assert False

    with pytest.raises(AssertionError) as info:
        prop()
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "Expression(" in notes and "_Node(" not in notes and "inputs=(" in notes


# A function whose backward() and central differences disagree by a known amount: the part of it
# computed from x.data is outside the graph, so backward() does not see it but a difference does.
# At x = 0 with eps = 0.5 every number below is exact in binary, so the bounds can be hit exactly.
def _off_by(c):
    return lambda x: x + c * x.data  # analytic 1, numeric 1 + c


def test_gradcheck_passes_a_difference_exactly_at_the_bound_and_fails_just_past_it():
    # analytic 1 vs numeric 2: the difference 1 is allowed by atol alone, by rtol alone, or by both
    assert gradcheck(_off_by(1.0), 0.0, eps=0.5, atol=1.0, rtol=0.0) is True
    assert gradcheck(_off_by(1.0), 0.0, eps=0.5, atol=0.0, rtol=0.5) is True
    assert gradcheck(_off_by(1.0), 0.0, eps=0.5, atol=0.5, rtol=0.25) is True
    for atol, rtol in [(1.0 - 2**-20, 0.0), (0.0, 0.5 - 2**-20), (0.5, 0.25 - 2**-20)]:
        with pytest.raises(AssertionError):
            gradcheck(_off_by(1.0), 0.0, eps=0.5, atol=atol, rtol=rtol)


def test_gradcheck_failure_gives_the_difference_and_what_was_allowed():
    with pytest.raises(AssertionError) as info:
        gradcheck(_off_by(1.0), 0.0, eps=0.5, atol=0.0, rtol=0.25)
    message = str(info.value)
    assert "analytic 1.0 vs numeric 2.0" in message
    assert "(difference -1, allowed 0.5)" in message


def test_gradcheck_default_tolerances_are_1e_5_absolute_and_1e_4_relative():
    # numeric 0: only atol = 1e-5 is allowed (c * x - c * x.data has analytic c, numeric exactly 0)
    assert gradcheck(lambda x: 0.99e-5 * x - 0.99e-5 * x.data, 0.3)
    with pytest.raises(AssertionError):
        gradcheck(lambda x: 1.01e-5 * x - 1.01e-5 * x.data, 0.3)
    # numeric about 1000: 1e-5 + 1e-4 * 1000 = 0.10001 is allowed
    assert gradcheck(lambda x: 1000.0 * x + 0.099 * x.data, 0.3)
    with pytest.raises(AssertionError):
        gradcheck(lambda x: 1000.0 * x + 0.101 * x.data, 0.3)


def test_gradcheck_differences_with_the_eps_it_is_given():
    # relu at 0.5: with eps = 1 the central difference straddles the kink, (1.5 - 0) / 2 = 0.75
    assert gradcheck(lambda x: x.relu(), 0.5)
    with pytest.raises(AssertionError, match="analytic 1.0 vs numeric 0.75"):
        gradcheck(lambda x: x.relu(), 0.5, eps=1.0)


def test_numerical_grad_differences_with_the_eps_it_is_given():
    assert numerical_grad(lambda x: x.relu(), 0.5, eps=1.0) == [0.75]
    assert numerical_grad(lambda x: x.relu(), 0.25e-6) == [0.625]  # default eps 1e-6: (1.25e-6 - 0) / 2e-6


def test_gradcheck_and_gradgradcheck_give_f_leaves_named_as_in_their_messages():
    seen = []

    def f(a, b):
        seen.append((a.label, b.label))
        return a * b

    gradcheck(f, 1.0, 2.0)
    assert seen[0] == ("x0", "x1")
    seen.clear()
    gradgradcheck(f, 1.0, 2.0)
    assert seen[0] == ("x0", "x1")


def test_call_op_names_an_unknown_op_and_the_ones_it_has():
    with pytest.raises(KeyError, match=r"no op named 'cosh'; the table has \[.*'tanh'"):
        call_op("cosh", [1.0])


# d f / dx = c * x.data, a constant of the graph: the analytic second derivative is 0, while the
# difference of first derivatives at x = 1 +- 0.5 is (1.5 c - 0.5 c) / 1 = c, exactly.
def _second_off_by(c):
    return lambda x: x * (c * x.data)


def test_gradgradcheck_passes_a_difference_exactly_at_the_bound_and_fails_just_past_it():
    assert gradgradcheck(_second_off_by(2.0), 1.0, eps=0.5, atol=2.0, rtol=0.0) is True
    assert gradgradcheck(_second_off_by(2.0), 1.0, eps=0.5, atol=0.0, rtol=1.0) is True
    assert gradgradcheck(_second_off_by(2.0), 1.0, eps=0.5, atol=1.0, rtol=0.5) is True
    for atol, rtol in [(2.0 - 2**-20, 0.0), (0.0, 1.0 - 2**-20), (1.0, 0.5 - 2**-20)]:
        with pytest.raises(AssertionError):
            gradgradcheck(_second_off_by(2.0), 1.0, eps=0.5, atol=atol, rtol=rtol)


def test_gradgradcheck_failure_gives_the_difference_and_what_was_allowed():
    with pytest.raises(AssertionError) as info:
        gradgradcheck(_second_off_by(2.0), 1.0, eps=0.5, atol=0.0, rtol=0.25)
    message = str(info.value)
    assert "analytic 0.0 vs numeric 2.0" in message
    assert "(difference -2, allowed 0.5)" in message


def test_numerical_grad_needs_a_value_back():
    with pytest.raises(TypeError, match="numerical_grad: f must return a Value, got int"):
        numerical_grad(lambda x: 3, 1.0)


def test_a_difference_that_overflows_fails_whatever_the_analytic_gradient():
    # x * 1e308 just below the largest float: f(x + eps) overflows, so the central difference is inf,
    # and inf - anything is within atol + rtol * inf; that must not pass a wrong gradient (here 0)
    x = 1.7976931348623157 / 1.0000005
    assert numerical_grad(lambda v: v * 1e308, x) == [math.inf]
    with pytest.raises(AssertionError, match="analytic 0.0 vs numeric inf"):
        gradcheck(lambda v: v * 0.0 + v.data * 1e308, x)
    with pytest.raises(AssertionError, match="numeric inf"):
        gradcheck(lambda v: v * 1e308, x)  # right, but no difference can confirm it
    # d f/dx = x.data * 1e308 (a constant of the graph): analytic second derivative 0, numeric inf
    with pytest.raises(AssertionError, match="analytic 0.0 vs numeric inf"):
        gradgradcheck(lambda v: v * (v.data * 1e308), x)


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
@pytest.mark.parametrize("setting, value, error, words", [
    ("eps", 0.0, ValueError, "eps must be a positive finite number, got 0.0"),
    ("eps", -1e-6, ValueError, "eps must be a positive finite number, got -1e-06"),
    ("eps", math.inf, ValueError, "eps must be a positive finite number, got inf"),
    ("eps", "1e-6", TypeError, "eps must be a number, got str"),
    ("atol", -1e-5, ValueError, "atol must be a non-negative finite number, got -1e-05"),
    ("atol", math.nan, ValueError, "atol must be a non-negative finite number, got nan"),
    ("rtol", math.inf, ValueError, "rtol must be a non-negative finite number, got inf"),
    ("rtol", None, TypeError, "rtol must be a number, got NoneType"),
])
def test_bad_settings_are_refused_by_name(check, setting, value, error, words):
    # eps = 0 used to divide by zero deep inside, and an infinite tolerance would pass any gradient
    wrong = lambda x: x + 1e3 * x.data  # noqa: E731 - backward() sees a slope of 1, differences 1001
    with pytest.raises(error, match=f"^{check.__name__}: {re.escape(words)}$"):
        check(wrong, 0.5, **{setting: value})
    with pytest.raises(ValueError, match=r"^numerical_grad: eps must be a positive finite number, got 0$"):
        numerical_grad(lambda x: x * x, 1.0, eps=0)
    # zero tolerances are allowed: then only an exact match passes
    assert check(lambda x: x * 2.0, 0.5, atol=0.0, rtol=0.0, eps=0.5)
