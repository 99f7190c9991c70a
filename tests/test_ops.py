"""Every op of the table, checked automatically: forward against math, derivative against gradcheck."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd_like as mg
from micrograd_like.ops import OPS
from micrograd_like.testing import call_op, gradcheck
from micrograd_like.testing.strategies import op_inputs


def _dot_reference(xs):
    n, has_bias = divmod(len(xs), 2)
    ws, inputs = xs[has_bias : has_bias + n], xs[has_bias + n :]
    return math.fsum(w * x for w, x in zip(ws, inputs)) + (xs[0] if has_bias else 0.0)


# Independent reference for each op, written from the math module. An op added to the
# table without a line here fails test_every_op_has_a_reference.
REFERENCE = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "neg": lambda a: -a,
    "**": lambda a, n: math.pow(a, n),
    "pow": lambda a, b: math.pow(a, b),
    "abs": math.fabs,
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "tanh": lambda x: (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1) if abs(x) < 300 else math.copysign(1.0, x),
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)) if x > -700 else 0.0,
    "relu": lambda x: max(0.0, x),
    "leaky_relu": lambda x, s: x if x > 0 else s * x,
    "prelu": lambda x, a: x if x > 0 else a * x,
    "step": lambda x: 1.0 if x > 0 else 0.0,
    "sum": lambda *xs: math.fsum(xs),
    "dot": lambda *xs: _dot_reference(xs),
    "logsumexp": lambda *xs: math.log(math.fsum(math.exp(x) for x in xs)),
}

ALL_OPS = sorted(OPS)


def test_every_op_has_a_reference():
    assert set(REFERENCE) == set(OPS)


@pytest.mark.parametrize("name", ALL_OPS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_forward_matches_math(name, data):
    inputs, params = data.draw(op_inputs(name))
    out = call_op(name, [mg.Value(x) for x in inputs], params)
    expected = REFERENCE[name](*inputs, *params)
    assert out.data == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", ALL_OPS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_derivative_matches_finite_differences(name, data):
    inputs, params = data.draw(op_inputs(name))
    assert gradcheck(lambda *vs: call_op(name, vs, params), *inputs, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ALL_OPS)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_local_grads_are_the_table_derivative(name, data):
    inputs, params = data.draw(op_inputs(name))
    vs = [mg.Value(x) for x in inputs]
    out = call_op(name, vs, params)
    op = OPS[name]
    args = (tuple(inputs),) if op.arity == -1 else tuple(inputs) + tuple(params)
    assert out.parents == tuple(vs)
    assert out.local_grads == pytest.approx(op.derivative(out.data, *args))


@settings(max_examples=100, deadline=None)
@given(a=st.floats(-1e6, 1e6), b=st.floats(-1e6, 1e6))
def test_fast_add_mul_and_relu_agree_with_the_table(a, b):
    # +, * and relu are written out by hand in Value for speed; they must say what the table says
    va, vb = mg.Value(a), mg.Value(b)
    for name, out, args in (("+", va + vb, (a, b)), ("*", va * vb, (a, b)), ("relu", va.relu(), (a,))):
        assert out.data == OPS[name].forward(*args)
        assert out.local_grads == OPS[name].derivative(out.data, *args)
        assert out.op == name
        assert out.parents == (va, vb)[: len(args)]


@settings(max_examples=100, deadline=None)
@given(xs=st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=13), with_bias=st.booleans())
def test_fast_dot_agrees_with_the_table(xs, with_bias):
    # dot (a neuron's weighted sum) is written out too, and a layer hands it pre-gathered data
    n = (len(xs) - 1) // 2  # leaves room for the bias
    vs = [mg.Value(x) for x in xs[: 2 * n + with_bias]]  # the bias first, if any
    out = mg.dot(vs[with_bias : with_bias + n], vs[with_bias + n :], vs[0] if with_bias else None)
    floats = tuple(v.data for v in vs)
    assert out.data == OPS["dot"].forward(floats)
    assert out.local_grads == OPS["dot"].derivative(out.data, floats)
    assert out.parents == tuple(vs) and out.op == "dot"


def test_no_grad_records_no_parents_for_any_op():
    with mg.no_grad():
        for name in ALL_OPS:
            op = OPS[name]
            args = [mg.Value(0.5)] * (3 if op.arity == -1 else op.arity)
            params = (2.0,) if name == "**" else (0.1,) * len(op.params)
            out = call_op(name, args, params)
            assert out.parents == () and out.local_grads == (), name


def test_logsumexp_at_large_logits_is_exact_and_its_grad_is_softmax():
    out = mg.logsumexp([1000.0, 1000.0, 1000.0 - math.log(2)])
    assert out.data == pytest.approx(1000.0 + math.log(2.5))
    xs = [mg.Value(1000.0), mg.Value(999.0)]
    lse = mg.logsumexp(xs)
    lse.backward()
    e = math.exp(-1.0)
    assert xs[0].grad == pytest.approx(1 / (1 + e))
    assert xs[1].grad == pytest.approx(e / (1 + e))


INF = math.inf


@pytest.mark.parametrize("xs, value, grads", [
    ([-INF, -INF], -INF, [0.0, 0.0]),  # torch's grads are nan here; 0 is the slope (see ops.py)
    ([-INF], -INF, [0.0]),
    ([-INF, 0.0], 0.0, [0.0, 1.0]),
    ([-INF, 2.0, 2.0], 2.0 + math.log(2), [0.0, 0.5, 0.5]),
    ([INF, 1.0], INF, [None, 0.0]),  # None: nan, as torch
])
def test_logsumexp_with_infinite_inputs(xs, value, grads):
    vs = [mg.Value(x) for x in xs]
    out = mg.logsumexp(vs)
    assert out.data == value
    out.backward()
    for v, g in zip(vs, grads):
        assert math.isnan(v.grad) if g is None else v.grad == pytest.approx(g, abs=1e-15)


def test_logsumexp_with_infinite_inputs_follows_torch_except_the_all_minus_inf_gradient():
    torch = pytest.importorskip("torch")
    for xs in ([-INF, -INF], [-INF, 0.0], [INF, 1.0], [INF, -INF], [-INF, math.nan], [math.nan, -INF]):
        t = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
        ref = torch.logsumexp(t, 0)
        ref.backward()
        vs = [mg.Value(x) for x in xs]
        out = mg.logsumexp(vs)
        out.backward()
        assert out.data == pytest.approx(ref.item(), nan_ok=True), xs
        ours, theirs = [v.grad for v in vs], t.grad.tolist()
        if xs == [-INF, -INF]:
            assert all(math.isnan(g) for g in theirs) and ours == [0.0, 0.0]
        else:
            assert ours == pytest.approx(theirs, nan_ok=True), xs


def test_logsumexp_gradchecks_next_to_a_minus_inf_input():
    # a -inf input contributes nothing: the gradient of the others is still the softmax of the finite ones
    assert gradcheck(lambda a, b: mg.logsumexp([a, b, mg.Value(-INF)]) * a, 0.3, -1.2)


def test_dot_with_bias_is_one_node_with_the_right_grads():
    ws = [mg.Value(2.0), mg.Value(-1.0)]
    xs = [mg.Value(3.0), mg.Value(4.0)]
    b = mg.Value(0.5)
    out = mg.dot(ws, xs, b)
    assert out.data == 2.5
    assert len(out.parents) == 5
    out.backward()
    assert [w.grad for w in ws] == [3.0, 4.0]
    assert [x.grad for x in xs] == [2.0, -1.0]
    assert b.grad == 1.0


def test_dot_length_mismatch_is_a_value_error():
    with pytest.raises(ValueError, match="2 weights but 3 inputs"):
        mg.dot([1, 2], [1, 2, 3])


def test_unknown_op_name_is_a_clear_error():
    with pytest.raises(KeyError, match="no op named 'cosh'"):
        op_inputs("cosh")
    with pytest.raises(KeyError, match="no op named 'cosh'"):
        call_op("cosh", [1.0])


# ---- powers at and around a zero base (each of these once passed unnoticed under mutation) ----


@pytest.mark.parametrize(
    "n, slope",
    [(1, 1.0), (1.0, 1.0), (1.5, 0.0), (2, 0.0), (3, 0.0), (2.5, 0.0)],
)
def test_the_slope_of_x_to_a_power_of_at_least_one_at_zero_is_finite(n, slope):
    # d/dx x**n = n * x**(n-1): 1 at 0 for n = 1, 0 for n > 1 (only 0 < n < 1 is infinite there)
    x = mg.Value(0.0)
    y = x**n
    y.backward()
    assert y.data == 0.0
    assert x.grad == slope


def test_the_slope_of_x_to_a_power_below_one_at_zero_is_infinite():
    x = mg.Value(0.0)
    (x**0.5).backward()
    assert x.grad == math.inf


@pytest.mark.parametrize("n, wanted", [(0, 1.0), (0.0, 1.0), (0.5, 0.0), (1, 0.0), (2.0, 0.0)])
def test_a_zero_base_to_a_non_negative_power_is_a_number_not_an_error(n, wanted):
    # 0 ** 0 is 1 (Python and PyTorch agree), 0 ** 0.5 is 0: neither is a division by zero
    y = mg.Value(0.0) ** n
    assert y.data == wanted
    assert OPS["**"].forward(0.0, float(n)) == wanted


def test_the_slope_of_x_to_the_zero_is_zero_everywhere_even_at_zero():
    for x0 in (0.0, -2.0, 3.5):
        x = mg.Value(x0)
        (x**0).backward()
        assert x.grad == 0.0


@pytest.mark.parametrize("n", [-1, -0.5, -2.0])
def test_a_zero_base_to_a_negative_power_is_a_division_by_zero_naming_the_power(n):
    with pytest.raises(ZeroDivisionError, match=rf"'\*\*': 0\.0 cannot be raised to the negative power {float(n)!r}"):
        mg.Value(0.0) ** n


def test_a_negative_base_to_a_fractional_power_names_base_and_power():
    negative_base = r"'\*\*': a negative base \(-2\.0\) to the fractional power 0\.5 is not a real"
    with pytest.raises(ValueError, match=negative_base):
        mg.Value(-2.0) ** 0.5
    assert (mg.Value(-2.0) ** 3).data == -8.0 and (mg.Value(-2.0) ** 2.0).data == 4.0


@pytest.mark.parametrize(
    "x0, n, slope",
    [(5e-324, 0.01, math.inf), (1e-120, -2, -math.inf), (-1e-120, -2, math.inf), (-1e-300, 3.5e-1, None)],
)
def test_an_overflowing_slope_is_infinite_with_the_sign_of_n_times_x_to_the_n_minus_one(x0, n, slope):
    x = mg.Value(x0)
    if slope is None:  # a negative base to a fractional power is refused before any slope
        with pytest.raises(ValueError, match="negative base"):
            x**n
        return
    out = x**n
    out.backward()
    assert math.isfinite(out.data) and out.data == x0**n
    assert x.grad == slope


def test_a_value_exponent_of_zero_has_a_flat_base_even_where_base_to_the_minus_one_overflows():
    # d/da a**b = b * a**(b-1) is 0 at b = 0 (a**0 = 1 for every a), as torch masks it
    a, b = mg.Value(1e-320), mg.Value(0.0)
    out = a**b
    out.backward()
    assert out.data == 1.0
    assert a.grad == 0.0
    assert b.grad == pytest.approx(math.log(1e-320), rel=1e-12)


def test_a_value_exponent_needs_a_positive_base_and_says_why():
    with pytest.raises(ValueError, match=r"'\*\*': the base must be positive when the exponent is a Value, got base "
                                         r"-2\.0 \(d/db a\*\*b = a\*\*b \* log\(a\) needs log\(a\)\)"):
        mg.Value(-2.0) ** mg.Value(2.0)
    with pytest.raises(ValueError, match=r"got base 0\.0 \(d/db"):
        0.0 ** mg.Value(2.0)


@pytest.mark.parametrize("a0", [math.nan, math.inf, 2.5])
def test_a_zero_value_exponent_gives_the_base_a_zero_slope_even_at_a_nan_or_infinite_base(a0):
    # a**0 is 1 for every a, so d/da is 0, as torch masks it; 0 * a**-1 would make it nan at a nan base
    a, b = mg.Value(a0), mg.Value(0.0)
    out = a**b
    out.backward()
    assert out.data == 1.0
    assert a.grad == 0.0


@pytest.mark.parametrize("x, n, slope", [
    (1e-300, -1.0, -math.inf), (-1e-300, -1.0, -math.inf), (-1e-150, -2.0, math.inf), (-1e-102, -3.0, -math.inf),
    (1e-300, 0.5, 5e149),
])
def test_a_power_slope_past_the_float_range_is_an_infinity_with_its_sign(x, n, slope):
    # -1 * x**-2, -2 * x**-3 (x**-3 negative), -3 * x**-4: past the float range, the result itself finite
    v = mg.Value(x)
    out = v ** n
    assert math.isfinite(out.data)
    out.backward()
    assert v.grad == slope
    assert mg.grad(v ** n, v, create_graph=True).data == slope
