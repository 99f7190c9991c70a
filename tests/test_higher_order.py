"""grad(..., create_graph=True): gradients of gradients of every op, against PyTorch, differences and closed forms."""

import dataclasses
import math
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import micrograd_like as mg
from micrograd_like import engine, ops
from micrograd_like.engine import made_by_backward_pass
from micrograd_like.nn import MLP
from micrograd_like.testing import call_op, gradcheck, gradgradcheck
from micrograd_like.testing.strategies import expressions, floats, op_inputs


def leaves(*xs):
    return [mg.Value(x) for x in xs]


# ---- grad() itself -------------------------------------------------------------------------


def test_a_value_in_gives_a_value_out_and_a_list_gives_a_tuple():
    x, y = leaves(2.0, 3.0)
    out = x * y + x
    g = mg.grad(out, x)
    assert isinstance(g, mg.Value) and g.data == 4.0
    gs = mg.grad(out, [x, y])
    assert isinstance(gs, tuple) and [v.data for v in gs] == [4.0, 2.0]
    assert [v.data for v in mg.grad(out, (y, x))] == [2.0, 4.0]


@settings(max_examples=60)
@given(expressions(max_inputs=3, max_depth=4))
def test_without_create_graph_it_gives_exactly_what_backward_gives(expr):
    xs = leaves(*expr.inputs)
    out = expr(*xs)
    got = [g.data for g in mg.grad(out, xs)]
    out.backward()
    assert got == [x.grad for x in xs]  # the same floats, added in the same order


@settings(max_examples=60)
@given(expressions(max_inputs=3, max_depth=4))
def test_with_create_graph_the_numbers_are_the_same(expr):
    xs = leaves(*expr.inputs)
    out = expr(*xs)
    plain = [g.data for g in mg.grad(out, xs)]
    built = [g.data for g in mg.grad(out, xs, create_graph=True)]
    assert built == pytest.approx(plain, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("create_graph", [False, True])
def test_no_grad_field_is_touched(create_graph):
    x, y = leaves(0.5, -1.5)
    mid = (x * y).tanh()
    out = mid * x + y.exp()
    nodes = engine.topological_order(out)
    for i, v in enumerate(nodes):
        v.grad = 100.0 + i  # whatever a user left there
    g = mg.grad(out, [x, y, mid], create_graph=create_graph)
    if create_graph:
        mg.grad(g[0], [x, y], create_graph=True)
    assert [v.grad for v in nodes] == [100.0 + i for i in range(len(nodes))]


def test_an_intermediate_input_gets_what_backward_gives_it():
    x = mg.Value(0.3)
    mid = x.sigmoid()
    out = mid * mid + mid.exp()
    g = mg.grad(out, mid)
    out.backward()
    assert g.data == mid.grad


def test_inputs_the_output_does_not_depend_on_get_zero():
    x, y, z = leaves(1.0, 2.0, 3.0)
    for create_graph in (False, True):
        gx, gz = mg.grad(x * y, [x, z], create_graph=create_graph)
        assert gz.data == 0.0 and gx.data == 2.0
    assert mg.grad(x, x).data == 1.0
    assert mg.grad(x, y, create_graph=True).data == 0.0


def test_answers_are_leaves_without_create_graph_and_graphs_with_it():
    x = mg.Value(0.4)
    out = x.tanh()
    assert mg.grad(out, x).is_leaf
    g = mg.grad(out, x, create_graph=True)
    assert not g.is_leaf and x in engine.topological_order(g)


def test_bad_calls_raise_clear_errors():
    x = mg.Value(1.0)
    y = x * 2
    with pytest.raises(TypeError, match="grad: output must be a Value, got float"):
        mg.grad(2.0, x)
    with pytest.raises(TypeError, match="grad: inputs must be a Value or a sequence of Values, got float"):
        mg.grad(y, 1.0)
    with pytest.raises(TypeError, match="grad: inputs must be a Value or a sequence of Values, got str"):
        mg.grad(y, "x")
    with pytest.raises(TypeError, match=r"grad: inputs\[1\] must be a Value, got float 3.0"):
        mg.grad(y, [x, 3.0])
    with pytest.raises(ValueError, match="grad: inputs is empty"):
        mg.grad(y, [])
    with pytest.raises(TypeError, match="create_graph must be True or False, got str"):
        mg.grad(y, x, create_graph="yes")


def test_the_mask_of_backward_holds_in_both_modes():
    # sqrt(relu(x)) at x = -1: an infinite slope meets a dead relu; nothing passes, as in backward() and PyTorch
    for create_graph in (False, True):
        x = mg.Value(-1.0)
        assert mg.grad(x.relu().sqrt(), x, create_graph=create_graph).data == 0.0
    x = mg.Value(-1.0)
    g = mg.grad(x.relu().sqrt() + x * x, x, create_graph=True)
    assert g.data == -2.0 and mg.grad(g, x).data == 2.0


def test_create_graph_builds_a_graph_even_inside_no_grad_as_pytorch_does():
    x = mg.Value(0.5)
    out = x.tanh()
    with mg.no_grad():
        g = mg.grad(out, x, create_graph=True)
        assert not (x * x).parents  # no_grad still holds for everything else
        plain = mg.grad(out, x)
    assert not g.is_leaf and plain.is_leaf
    t = math.tanh(0.5)
    assert mg.grad(g, x).data == pytest.approx(-2 * t * (1 - t * t), rel=1e-12)
    assert mg.is_grad_enabled()


def test_backward_of_a_gradient_fills_in_second_derivatives():
    x, y = leaves(0.7, -0.2)
    gx = mg.grad(x * x * y + y.exp() * x, x, create_graph=True)  # 2xy + e**y
    gx.backward()
    assert x.grad == pytest.approx(2 * -0.2) and y.grad == pytest.approx(2 * 0.7 + math.exp(-0.2))


# ---- every op, second order --------------------------------------------------------------


def _op_function(name, params):
    return lambda *vs: call_op(name, vs, params)


@pytest.mark.parametrize("name", sorted(ops.OPS))
@settings(max_examples=25)
@given(data=st.data())
def test_every_op_passes_gradcheck_and_gradgradcheck(name, data):
    inputs, params = data.draw(op_inputs(name))
    f = _op_function(name, params)
    assert gradcheck(f, *inputs)
    assert gradgradcheck(f, *inputs, eps=1e-5, atol=1e-4, rtol=1e-4)


def test_a_rule_that_drops_the_graph_fails_gradgradcheck_but_not_gradcheck(monkeypatch):
    # right on floats, but it takes the number out of the Value, so create_graph sees a constant
    graphless = dataclasses.replace(ops.OPS["tanh"], derivative=lambda out, x: (1.0 - ops._val(out) ** 2,))
    monkeypatch.setitem(ops.OPS, "tanh", graphless)
    f = lambda x: x.tanh()  # noqa: E731
    assert gradcheck(f, 0.5)
    with pytest.raises(AssertionError) as info:
        gradgradcheck(f, 0.5)
    message = str(info.value)
    t = math.tanh(0.5)
    assert "d/dx0 of d f/dx0 at (x0 = 0.5)" in message and "analytic 0.0" in message
    assert f"numeric {-2 * t * (1 - t * t):.5f}" in message  # -0.72686...


@settings(max_examples=40)
@given(expressions(max_inputs=2, max_depth=3))
def test_random_expressions_pass_gradgradcheck(expr):
    try:
        gradgradcheck(expr, *expr.inputs, eps=1e-5, atol=1e-3, rtol=1e-3)
    except (OverflowError, ZeroDivisionError, ValueError):
        assume(False)  # a step of eps left the domain somewhere deep in the expression


def _torch_table(torch):
    """name -> the same function on torch tensors (inputs, params as in ops.OPS)."""
    F = torch.nn.functional
    return {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
        "neg": lambda x: -x,
        "**": lambda x, n: x**n,
        "pow": lambda a, b: a**b,
        "abs": torch.abs,
        "exp": torch.exp,
        "log": torch.log,
        "sqrt": torch.sqrt,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "leaky_relu": lambda x, s: F.leaky_relu(x, s),
        "prelu": lambda x, a: F.prelu(x.reshape(1), a.reshape(1)).reshape(()),
        "step": lambda x: (x > 0).to(x.dtype) + 0 * x,  # torch's heaviside has no backward; its slope is 0
        "sum": lambda *xs: torch.stack(xs).sum(),
        "dot": lambda *bwx: _torch_dot(torch, bwx),
        "logsumexp": lambda *xs: torch.logsumexp(torch.stack(xs), 0),
    }


def _torch_dot(torch, bwx):
    b, ws, xs = ops.dot_parts(bwx)
    out = (torch.stack(list(ws)) * torch.stack(list(xs))).sum()
    return out if b is None else out + b


def _torch_hessian(torch, fn, inputs, params):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    out = fn(*ts, *params)
    firsts = torch.autograd.grad(out, ts, create_graph=True, allow_unused=True)
    rows = []
    for g in firsts:
        if g is None or not g.requires_grad:
            rows.append([0.0] * len(ts))
            continue
        seconds = torch.autograd.grad(g, ts, retain_graph=True, allow_unused=True)
        rows.append([0.0 if s is None else s.item() for s in seconds])
    return rows


def _our_hessian(name, inputs, params):
    vs = leaves(*inputs)
    out = call_op(name, vs, params)
    return [[h.data for h in mg.grad(g, vs)] for g in mg.grad(out, vs, create_graph=True)]


def test_the_torch_table_covers_every_op():
    torch = pytest.importorskip("torch")
    assert set(_torch_table(torch)) == set(ops.OPS), "add the new op's torch counterpart to _torch_table"


@pytest.mark.parametrize("name", sorted(ops.OPS))
@settings(max_examples=20)
@given(data=st.data())
def test_second_derivatives_of_every_op_match_pytorch_double_backward(name, data):
    torch = pytest.importorskip("torch")
    inputs, params = data.draw(op_inputs(name))
    ours = _our_hessian(name, inputs, params)
    theirs = _torch_hessian(torch, _torch_table(torch)[name], inputs, params)
    if name == "pow" and inputs[1] == 0.0:
        # torch's d/da a**b is where(b == 0, 0, b * a**(b-1)): right, but the where cuts its slope in b,
        # d2/da db = a**(b-1) * (1 + b log a) = 1/a at b = 0 (gradgradcheck confirms ours)
        assert ours[0][1] == ours[1][0] == pytest.approx(1 / inputs[0]) and theirs[0][1] == 0.0
        theirs[0][1] = theirs[1][0] = 1 / inputs[0]
    for row_ours, row_theirs in zip(ours, theirs):
        assert row_ours == pytest.approx(row_theirs, rel=1e-9, abs=1e-12), (name, inputs, params)


@pytest.mark.parametrize("name", ["relu", "abs", "step", "leaky_relu", "prelu"])
def test_kinks_have_the_second_derivatives_pytorch_gives_on_both_sides(name):
    torch = pytest.importorskip("torch")
    fn = _torch_table(torch)[name]
    for x in (-0.7, 0.0, 0.7):
        inputs = (x, 0.3) if name == "prelu" else (x,)
        params = (0.2,) if name == "leaky_relu" else ()
        if name == "prelu" and x == 0.0:
            # at 0 torch's prelu kernel takes d/dx = a (the x <= 0 side) but gives d/da (d/dx) = 0; ours
            # stays on that side for both orders, as torch's own where(x > 0, x, a * x) does
            fn = lambda x, a: torch.where(x > 0, x, a * x)  # noqa: E731
        assert _our_hessian(name, inputs, params) == _torch_hessian(torch, fn, inputs, params), (name, x)


def test_nn_hessian_vector_product_matches_pytorch():
    torch = pytest.importorskip("torch")
    model = MLP(2, [4, 3, 1], activation="tanh", seed=3)
    params = model.parameters()
    rng = random.Random(5)
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(6)]
    ys = [rng.choice([-1.0, 1.0]) for _ in X]
    v = [rng.uniform(-1, 1) for _ in params]

    def our_loss():
        scores = [model([mg.Value(a) for a in row]) for row in X]
        return mg.sum([(s - yi) ** 2 for s, yi in zip(scores, ys)]) + 1e-2 * mg.dot(params, params)

    g = mg.grad(our_loss(), params, create_graph=True)
    hv = [h.data for h in mg.grad(mg.dot(g, v), params)]

    # the same network in torch, parameter by parameter
    tp = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in params]
    named = dict(zip([n for n, _ in model.named_parameters()], tp))

    def torch_forward(row):
        h = [torch.tensor(a, dtype=torch.float64) for a in row]
        for i, layer in enumerate(model.layers):
            outs = []
            for j, neuron in enumerate(layer.neurons):
                pre = named[f"layers.{i}.neurons.{j}.b"] + sum(
                    named[f"layers.{i}.neurons.{j}.w[{k}]"] * h[k] for k in range(len(h)))
                outs.append(_torch_activation(torch, neuron.activation, pre))
            h = outs
        return h[0]

    loss = sum((torch_forward(row) - yi) ** 2 for row, yi in zip(X, ys)) + 1e-2 * sum(p * p for p in tp)
    tg = torch.autograd.grad(loss, tp, create_graph=True)
    thv = torch.autograd.grad(sum(a * b for a, b in zip(tg, v)), tp)
    assert hv == pytest.approx([t.item() for t in thv], rel=1e-9, abs=1e-12)


def _torch_activation(torch, name, x):
    return {"tanh": torch.tanh, "linear": lambda t: t}[name](x)


def test_fused_and_unfused_networks_have_the_same_hessian_vector_product():
    results = []
    for fused in (True, False):
        model = MLP(2, [3, 1], seed=2, fused=fused)
        params = model.parameters()
        out = model([mg.Value(0.3), mg.Value(-0.8)])
        loss = (out - 1.0) ** 2 + mg.dot(params, params) * 0.1
        g = mg.grad(loss, params, create_graph=True)
        results.append([h.data for h in mg.grad(mg.sum(g), params)])
    assert results[0] == pytest.approx(results[1], rel=1e-12, abs=1e-15)


def test_hessian_vector_product_matches_a_difference_of_gradients():
    model = MLP(2, [5, 5, 1], seed=4)
    params = model.parameters()
    X = [[0.2, -0.4], [0.9, 0.1], [-0.5, 0.6]]
    v = [((i * 7) % 11 - 5) / 5 for i in range(len(params))]

    def loss():
        scores = [model([mg.Value(a) for a in row]) for row in X]
        return mg.sum([(1 + -s).relu() ** 2 for s in scores]) + mg.dot(params, params) * 1e-2

    hv = [h.data for h in mg.grad(mg.dot(mg.grad(loss(), params, create_graph=True), v), params)]
    saved = [p.data for p in params]
    eps = 1e-6

    def gradient_at(sign):
        for p, s, d in zip(params, saved, v):
            p.data = s + sign * eps * d
        return [g.data for g in mg.grad(loss(), params)]

    up, down = gradient_at(1.0), gradient_at(-1.0)
    assert hv == pytest.approx([(u - d) / (2 * eps) for u, d in zip(up, down)], rel=1e-5, abs=1e-6)


# ---- orders three and four against closed forms -------------------------------------------


def derivatives(f, x0, order):
    """[f(x0), f'(x0), ..., f^(order)(x0)] by repeated grad(..., create_graph=True)."""
    x = mg.Value(x0)
    d = f(x)
    out = [d.data]
    for _ in range(order):
        d = mg.grad(d, x, create_graph=True)
        out.append(d.data)
    return out


def _tanh_derivatives(x):
    t = math.tanh(x)
    s = 1 - t * t
    return [t, s, -2 * t * s, s * (6 * t * t - 2), 8 * t * s * (2 - 3 * t * t)]


def _sigmoid_derivatives(x):
    s = 1 / (1 + math.exp(-x))
    q = s * (1 - s)
    return [s, q, q * (1 - 2 * s), q * (1 - 6 * s + 6 * s * s), q * (1 - 2 * s) * (1 - 12 * s + 12 * s * s)]


CLOSED_FORMS = {
    "tanh": (lambda v: v.tanh(), _tanh_derivatives),
    "sigmoid": (lambda v: v.sigmoid(), _sigmoid_derivatives),
    "exp": (lambda v: v.exp(), lambda x: [math.exp(x)] * 5),
    "x**5": (lambda v: v**5, lambda x: [x**5, 5 * x**4, 20 * x**3, 60 * x**2, 120 * x]),
    "log": (lambda v: (v * v + 1).log(),  # log(1 + x^2)
            lambda x: [math.log(1 + x * x), 2 * x / (1 + x * x), 2 * (1 - x * x) / (1 + x * x) ** 2,
                       4 * x * (x * x - 3) / (1 + x * x) ** 3, -12 * (x**4 - 6 * x * x + 1) / (1 + x * x) ** 4]),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
@settings(max_examples=30)
@given(x=floats(-3.0, 3.0))
def test_orders_three_and_four_match_closed_forms(name, x):
    f, closed = CLOSED_FORMS[name]
    assert derivatives(f, x, 4) == pytest.approx(closed(x), rel=1e-9, abs=1e-12)


def test_the_fifth_derivative_of_x_to_the_fifth_is_the_constant_120_and_then_zero():
    assert derivatives(lambda v: v**5, 1.3, 6)[5:] == [120.0, 0.0]


def test_mixed_third_derivative_of_a_product():
    # f = x**2 * y**3: d3f / dx dy dy = 2x * 6y = 12xy
    x, y = leaves(1.5, -0.5)
    fx = mg.grad(x**2 * y**3, x, create_graph=True)
    fxy = mg.grad(fx, y, create_graph=True)
    assert mg.grad(fxy, y).data == pytest.approx(12 * 1.5 * -0.5)


# ---- the backward pass is told apart -----------------------------------------------------


def test_nodes_made_by_create_graph_are_marked_and_the_forward_ones_are_not():
    x = mg.Value(0.5, label="x")
    y = x.tanh()
    forward = engine.topological_order(y)
    g = mg.grad(y, x, create_graph=True)
    made = [v for v in engine.topological_order(g) if engine.made_by_backward_pass(v)]
    assert g in made and not any(engine.made_by_backward_pass(v) for v in forward)
    assert g.op == "-"  # 1 - tanh(x) * tanh(x): the name still reads as the op
    assert len(made) == 3  # the 1, tanh*tanh and 1 - that
    z = x * x
    z.backward()
    mg.grad(z, x)  # neither backward() nor grad() without create_graph marks anything
    assert not engine.made_by_backward_pass(z)


def test_draw_graph_of_a_gradient_draws_the_backward_pass_apart():
    pytest.importorskip("graphviz")
    from micrograd_like.viz import draw_graph

    x = mg.Value(0.5, label="x")
    y = x.tanh()
    g = mg.grad(y, x, create_graph=True)
    dot = draw_graph(g).source
    assert "made by the backward pass" in dot  # the legend
    marked = [line for line in dot.splitlines() if "#e9d8fd" in line and line.strip().startswith("v")]
    # the three backward values and their two op nodes are filled purple; x and tanh(x) are not
    assert len(marked) == 5
    assert not any("tanh" in line for line in marked)
    assert "backward pass" not in draw_graph(y).source  # a forward graph has no legend for it
    both = draw_graph(g, color_by_grad=True).source  # one legend with both meanings
    assert "made by the backward pass" in both and "grad &gt; 0" in both


# ---- pinned by mutation testing (docs/mutation.md) -------------------------------------------


def test_a_gradient_that_cancels_to_zero_stops_as_in_backward_even_before_an_infinite_slope():
    # z's two uses cancel: its gradient is the constant 0, and backward() sends nothing on from a
    # zero gradient, so sqrt's infinite slope at 0 never meets it (0 * inf would be NaN)
    for create_graph in (False, True):
        x = mg.Value(0.0)
        z = x.sqrt()
        y = z - z
        g = mg.grad(y, x, create_graph=create_graph)
        y.backward()
        assert g.data == x.grad == 0.0 and g.is_leaf


@pytest.mark.parametrize("make, wanted", [
    (lambda x: x.sqrt().sqrt(), math.inf),  # inf meets the inner sqrt's infinite slope: inf * inf
    (lambda x: (x + 0.0).sqrt().sqrt(), math.inf),  # the same, then on through one more node to x
    (lambda x: x.sqrt().sqrt() - x.sqrt().sqrt(), math.nan),  # +inf and -inf reach x: NaN
    (lambda x: (x.sqrt() * 2.0 + x.relu().sqrt()) * 3.0, math.inf),  # a dead relu takes no inf * 0
])
def test_infinite_gradients_flow_and_add_up_in_grad_as_in_backward(make, wanted):
    x = mg.Value(0.0)
    out = make(x)
    g = mg.grad(out, x)
    out.backward()
    assert math.isnan(g.data) if math.isnan(wanted) else g.data == wanted
    assert math.isnan(x.grad) if math.isnan(wanted) else x.grad == wanted


def test_an_infinite_gradient_is_masked_by_a_slope_that_is_a_value_of_zero_in_both_modes():
    # out = sqrt(x * y) at y = 0: x's slope is the Value y, 0 here, so the infinite gradient of
    # x * y does not reach x (inf * 0 would be NaN); y's slope is the Value x, 3 here, so y gets inf
    for create_graph in (False, True):
        x, y = mg.Value(3.0), mg.Value(0.0)
        out = (x * y).sqrt()
        gx, gy = mg.grad(out, [x, y], create_graph=create_graph)
        out.backward()
        assert (gx.data, gy.data) == (x.grad, y.grad) == (0.0, math.inf)


def test_a_constant_slope_other_than_one_multiplies_the_gradient_under_create_graph():
    # leaky_relu(2.0) of a negative input has the constant slope 2: out = (2 * -x*x) ** 2 = 4 x**4
    x = mg.Value(1.5)
    y = (-(x * x)).leaky_relu(2.0)
    first = mg.grad(y, x, create_graph=True)  # one use, with the constant gradient 1 from the seed
    assert first.data == -4.0 * 1.5
    out = y * y
    dx = mg.grad(out, x, create_graph=True)  # here the gradient reaching the slope is a Value (2y)
    assert dx.data == 16.0 * 1.5 ** 3
    assert mg.grad(dx, x).data == 48.0 * 1.5 ** 2


def test_a_value_used_in_many_sums_gets_the_sum_of_its_gradients_under_create_graph():
    # b enters out through two + nodes, whose gradients are Values: d out/d b = q + p
    x, b = mg.Value(2.0), mg.Value(0.5)
    p, q = x + b, x * x + b
    out = p * q
    db = mg.grad(out, b, create_graph=True)
    assert db.data == q.data + p.data
    assert mg.grad(db, x).data == 1.0 + 2.0 * 2.0  # d(q + p)/dx = 2x + 1
    assert mg.grad(db, b).data == 2.0


def test_a_slope_of_one_multiplies_nothing_in_the_graph_of_a_derivative():
    # what grad(create_graph=True) builds is what a picture of f' shows (notebook 14): the slope 1
    # of a + node passes the gradient on as it is, with no factor 1 in a * or dot node
    x, b = mg.Value(2.0), mg.Value(0.5)
    p, q = x + b, x * x + b
    out = p * q
    db = mg.grad(out, b, create_graph=True)  # q * 1 + p * 1
    made = [v for v in mg.topological_order(db) if made_by_backward_pass(v)]
    assert made == [db] and set(db.parents) == {p, q}
    dx = mg.grad(out, x, create_graph=True)  # q * 1 + p * x + p * x
    made = [v for v in mg.topological_order(dx) if made_by_backward_pass(v)]
    assert len(made) == 2 and set(dx.parents) == {q, made[0]}
    assert sorted(map(id, made[0].parents)) == sorted(map(id, (p, p, x, x)))


def test_constant_gradients_through_constant_slopes_are_multiplied_and_summed_to_a_constant():
    # x < 0: each leaky_relu is a constant slope, so d out/dx is the constant 2*3 + 2*5 = 16
    x = mg.Value(-1.0)
    out = x.leaky_relu(3.0).leaky_relu(2.0) + x.leaky_relu(5.0).leaky_relu(2.0)
    dx = mg.grad(out, x, create_graph=True)
    assert dx.data == 16.0 and dx.is_leaf  # a constant has no graph
    # with a term that does have a graph (x * x), the constant is added to it
    out = x * x + x.leaky_relu(3.0).leaky_relu(2.0)
    dx = mg.grad(out, x, create_graph=True)
    assert dx.data == 2.0 * -1.0 + 6.0 and mg.grad(dx, x).data == 2.0


def test_a_zero_value_exponent_keeps_a_flat_base_with_create_graph_where_base_to_the_minus_one_overflows():
    # d/da a**b = b * a**(b-1) is 0 at b = 0 for every a > 0; building the graph of it must not turn
    # the overflowing a**-1 of a subnormal base into an infinite slope that backward() does not give
    for a0 in (1e-310, 5e-324):
        a, b = leaves(a0, 0.0)
        plain = [g.data for g in mg.grad(a**b, [a, b])]
        built = [g.data for g in mg.grad(a**b, [a, b], create_graph=True)]
        assert plain[0] == built[0] == 0.0
        assert built[1] == plain[1] == pytest.approx(math.log(a0), rel=1e-12)


# ---- orders 1 to 3 at the kinks and the edges of the domain (the README's list) ----------------

# (op, inputs, params): every op at least once. The README's "Gradients of gradients" lists the same points.
EDGES = [
    ("relu", (0.0,), ()), ("abs", (0.0,), ()), ("step", (0.0,), ()),
    ("leaky_relu", (0.0,), (0.01,)), ("leaky_relu", (0.0,), (0.2,)), ("prelu", (0.0, 0.3), ()),
    ("sqrt", (0.0,), ()),
    *[("**", (0.0,), (p,)) for p in (0.0, 0.25, 0.5, 1.0, 1.5, 1.75, 2.0, 2.5, 3.0)],
    ("**", (1e-300,), (-1.0,)), ("pow", (1e-300, 0.5), ()),
    ("log", (1e-300,), ()), ("log", (1e-160,), ()), ("/", (1.0, 1e-200), ()), ("/", (0.0, 1e-200), ()),
    ("exp", (709.0,), ()), ("exp", (-800.0,), ()),
    ("tanh", (20.0,), ()), ("tanh", (-800.0,), ()), ("sigmoid", (-800.0,), ()), ("sigmoid", (40.0,), ()),
    ("logsumexp", (-math.inf, 0.0), ()), ("logsumexp", (-math.inf, 0.0, 1.0), ()),
    ("+", (0.0, 0.0), ()), ("-", (0.0, 0.0), ()), ("*", (0.0, 0.0), ()), ("neg", (0.0,), ()),
    ("sum", (0.0, 0.0, 0.0), ()), ("dot", (0.0, 0.0, 0.0, 0.0, 0.0), ()),
]


def _our_derivatives(name, inputs, params, order=3):
    """(i, j, ...) -> d^k out / d x_i d x_j ... for k = 1..order, by grad(..., create_graph=True)."""
    vs = leaves(*inputs)
    found, level = {}, [((), call_op(name, vs, params))]
    for _ in range(order):
        level = [(path + (i,), g) for path, y in level for i, g in enumerate(mg.grad(y, vs, create_graph=True))]
        found.update((path, g.data) for path, g in level)
    return found


def _torch_derivatives(torch, fn, inputs, params, order=3):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    found, level = {}, [((), fn(*ts, *params))]
    for _ in range(order):
        nxt = []
        for path, y in level:
            gs = (torch.autograd.grad(y, ts, create_graph=True, allow_unused=True) if y.requires_grad
                  else [None] * len(ts))
            nxt += [(path + (i,), torch.zeros((), dtype=torch.float64) if g is None else g) for i, g in enumerate(gs)]
        level = nxt
        found.update((path, g.item()) for path, g in level)
    return found


def _same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b or (math.isfinite(a) and a == pytest.approx(b, rel=1e-12))


def _torch_fn(torch, name):
    if name == "prelu":
        # torch's prelu kernel takes d/dx = a at 0 but gives d/da (d/dx) = 0 there; its own
        # where(x > 0, x, a * x), like ours, stays on the x <= 0 side for every order
        return lambda x, a: torch.where(x > 0, x, a * x)
    return _torch_table(torch)[name]


def test_the_edges_cover_every_op():
    assert {name for name, _, _ in EDGES} == set(ops.OPS)


@pytest.mark.parametrize("name, inputs, params", EDGES, ids=[f"{n}{i}{p or ''}" for n, i, p in EDGES])
def test_derivatives_of_order_1_to_3_at_kinks_and_domain_edges_match_pytorch(name, inputs, params):
    torch = pytest.importorskip("torch")
    ours = _our_derivatives(name, inputs, params)
    theirs = _torch_derivatives(torch, _torch_fn(torch, name), inputs, params)
    assert ours.keys() == theirs.keys()
    wrong = {path: (ours[path], theirs[path]) for path in ours if not _same(ours[path], theirs[path])}
    assert not wrong, (name, inputs, params, wrong)


@settings(max_examples=40)
@given(p=st.floats(0.01, 3.5), x=st.sampled_from([0.0, 1e-300, 1e-200, 1e-100]))
def test_powers_at_and_near_zero_match_pytorch_to_the_third_derivative(p, x):
    torch = pytest.importorskip("torch")
    ours = _our_derivatives("**", (x,), (p,))
    theirs = _torch_derivatives(torch, _torch_table(torch)["**"], (x,), (p,))
    assert all(_same(ours[k], theirs[k]) for k in ours), (p, x, ours, theirs)


def test_sqrt_and_half_powers_at_zero_have_the_infinities_of_pytorch():
    # the slope at 0 is +inf and so are its own slopes, with alternating signs; a constant inf had 0s
    for f in (lambda x: x.sqrt(), lambda x: x ** 0.5):
        x = mg.Value(0.0)
        d1 = mg.grad(f(x), x, create_graph=True)
        d2 = mg.grad(d1, x, create_graph=True)
        assert (d1.data, d2.data, mg.grad(d2, x).data) == (math.inf, -math.inf, math.inf)
    x = mg.Value(0.0)
    d2 = mg.grad(mg.grad(x ** 1.5, x, create_graph=True), x, create_graph=True)
    assert (d2.data, mg.grad(d2, x).data) == (math.inf, -math.inf)
