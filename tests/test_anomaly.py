"""Tests of detect_anomaly: where the first NaN or infinity is caught, and what the error says and draws."""

import math
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd_like as mg
from micrograd_like import AnomalyError, Value, engine
from micrograd_like.testing.strategies import expressions
from micrograd_like.viz import node_names

INF, NAN = math.inf, math.nan


def _raised(fn):
    with mg.detect_anomaly(), pytest.raises(AnomalyError) as info:
        fn()
    return info.value


# ---- the forward pass ----


def test_an_overflow_from_finite_inputs_is_caught_at_the_op_that_made_it():
    a = Value(1e200, "a")
    b = Value(3e200, "b")
    e = _raised(lambda: a * b)
    assert e.when == "forward" and e.op == "*" and e.node.data == INF
    assert e.inputs == (a, b) and e.path == ("v1",)
    assert e.parent is None and e.local is None and e.contribution is None
    assert str(e).splitlines() == [
        "* made an infinity: v1 = inf in the forward pass",
        "  inputs: a = 1e+200, b = 3e+200",
        "  every input is finite: the result overflowed, or the op is undefined there",
    ]


def test_a_nan_made_from_infinities_names_where_the_infinity_came_from():
    i = Value(INF, "i")
    with mg.detect_anomaly():
        j = (i + 1.0) * 2.0  # an infinity that came in passes through: it is the learner's own
    assert j.data == INF
    e = _raised(lambda: j - i)
    assert e.op == "-" and math.isnan(e.node.data)
    assert e.path == ("v5", "v4", "v2", "i")  # back through the infinite inputs to the leaf they came from
    assert "the input v4 was already inf; it came from: v4 <- v2 <- i" in str(e)


def test_a_nan_that_came_in_is_caught_at_the_first_op_that_uses_it():
    x = Value(NAN, "x")
    e = _raised(lambda: x.relu())
    assert e.op == "relu" and e.path == ("v1", "x") and e.inputs == (x,)


@pytest.mark.parametrize("make", [
    lambda: Value(1e308) + Value(1e308),
    lambda: Value(1e-200).__rtruediv__(1e200),
    lambda: mg.dot([Value(1e200)] * 3, [Value(1e200)] * 3),
    lambda: mg.sum([Value(1e308), Value(1e308)]),
    lambda: Value(-1e308) - 1e308,
    lambda: Value(1e200).prelu(Value(2.0)) * 1e200,
], ids=["+", "/", "dot", "sum", "-", "*"])
def test_every_kind_of_op_is_checked(make):
    e = _raised(make)
    assert e.when == "forward" and not math.isfinite(e.node.data)


_BINARY = {"+": Value.__add__, "-": Value.__sub__, "*": Value.__mul__, "/": Value.__truediv__}
_FINITE = st.floats(-1e300, 1e300) | st.sampled_from([1e-300, -1e-300, 1e300])


@settings(max_examples=150)
@given(start=_FINITE, steps=st.lists(st.tuples(st.sampled_from(sorted(_BINARY)), _FINITE.filter(bool)), max_size=8))
def test_it_stops_exactly_at_the_first_op_whose_result_is_not_finite(start, steps):
    def build():
        v, made = Value(start), []
        for op, c in steps:
            v = _BINARY[op](v, c)
            made.append(v)
        return made

    plain = build()
    first = next((i for i, v in enumerate(plain) if not math.isfinite(v.data)), None)
    if first is None:
        with mg.detect_anomaly():
            assert [v.data for v in build()] == [v.data for v in plain]
        return
    e = _raised(build)
    assert e.op == steps[first][0] and repr(e.node.data) == repr(plain[first].data)
    assert len(e.path) == 1  # every input was finite: nothing came in


def test_a_neuron_and_no_grad_are_checked_too():
    from micrograd_like.nn import MLP

    model = MLP(2, [3, 1], seed=0)
    with mg.detect_anomaly(), pytest.raises(AnomalyError) as info:
        model([NAN, 1.0])
    assert info.value.op == "dot" and "and" not in str(info.value).splitlines()[1]
    with mg.detect_anomaly(), mg.no_grad(), pytest.raises(AnomalyError):
        Value(1e308) * 10.0


def test_off_it_checks_nothing_and_inside_it_infinities_that_came_in_pass():
    assert not mg.is_anomaly_enabled()
    assert (Value(1e308) * 10.0).data == INF
    with mg.detect_anomaly():
        assert mg.is_anomaly_enabled()
        masked = mg.logsumexp([Value(-INF), Value(0.0)])  # a -inf mask is a learner's own infinity
        masked.backward()
        assert masked.data == 0.0
    assert not mg.is_anomaly_enabled()


# ---- backward() and grad() ----


def _sqrt_at_zero():
    x = Value(0.0, "x")
    w = Value(3.0, "w")
    loss = (x * w).sqrt() * 2.0 + w
    loss.label = "loss"
    return x, w, loss


@pytest.mark.parametrize("call, when", [
    (lambda loss, x: loss.backward(), "backward()"),
    (lambda loss, x: mg.grad(loss, x), "grad()"),
    (lambda loss, x: mg.grad(loss, [x], create_graph=True), "grad(..., create_graph=True)"),
])
def test_an_infinite_slope_is_caught_on_its_edge_in_every_backward_walk(call, when):
    x, w, loss = _sqrt_at_zero()
    e = _raised(lambda: call(loss, x))
    names = node_names(loss)
    product = loss.parents[0].parents[0].parents[0]
    assert e.when == when and e.op == "sqrt" and e.parent is product
    assert (e.local, e.upstream, e.contribution) == (INF, 2.0, INF)
    assert e.path == ("loss", "v4", "v2", "v1") == tuple(names[v] for v in (loss, loss.parents[0],
                                                                              e.node, product))
    assert str(e).splitlines() == [
        f"{when} sent an infinite gradient from v2 (sqrt) to v1",
        "  op: sqrt, inputs v1 = 0, result v2 = 0",
        "  edge v2 -> v1: local derivative dv2/dv1 = inf, upstream grad dloss/dv2 = 2, contribution inf",
        "  path from the output: loss <- v4 <- v2 <- v1",
    ]
    assert x.grad == 0.0 and w.grad == 0.0  # a stopped backward() leaves no half gradient to step on


def test_a_nan_local_derivative_is_caught_even_with_a_graph_built_outside():
    x = Value(NAN, "x")
    y = x * Value(2.0, "w")  # built outside anomaly mode
    e = _raised(y.backward)
    assert e.op == "*" and e.parent.label == "w" and math.isnan(e.local) and math.isnan(e.contribution)
    assert str(e).startswith("backward() sent NaN from v1 (*) to w")


def test_a_sum_of_finite_contributions_that_overflows_is_caught_where_it_overflows():
    x, w = Value(0.0, "x"), Value(1e308, "w")
    y = x * w + w * x  # each contribution to x is 1e308; their sum is not a float
    e = _raised(y.backward)
    assert e.contribution == 1e308 and e.parent is x
    assert "an infinity in the sum of the gradient" in str(e) and "x's grad was 1e+308 before it" in str(e)


def test_an_infinite_seed_is_the_learners_own_but_a_nan_it_makes_is_caught():
    x = Value(2.0, "x")
    with mg.detect_anomaly():
        (x * 3.0).backward(INF)
    assert x.grad == INF
    y = Value(INF)
    e = _raised(lambda: (x * y).backward(0.5))  # y's own infinity as a slope: made here, from a finite grad
    assert e.parent is x and e.local == INF


@settings(max_examples=60)
@given(expressions())
def test_inside_it_backward_and_grad_give_the_same_numbers_bit_for_bit(expr):
    leaves = [Value(x) for x in expr.inputs]
    out = expr(*leaves)
    if not all(math.isfinite(v.data) for v in mg.topological_order(out)):
        return
    out.backward()
    plain = [v.grad for v in leaves]
    floats = mg.grad(out, leaves)
    for v in leaves:
        v.grad = 0.0
    try:
        with mg.detect_anomaly():
            out.backward()
            checked = mg.grad(out, leaves)
    except AnomalyError:
        assert not all(math.isfinite(g) for g in plain)  # caught only where a plain walk makes inf or nan
        return
    assert [repr(v.grad) for v in leaves] == list(map(repr, plain))
    assert [repr(g.data) for g in checked] == [repr(g.data) for g in floats]


# ---- the flag, threads, nesting ----


def test_it_nests_works_as_a_decorator_and_turns_the_fast_path_back_on():
    @mg.detect_anomaly()
    def overflow():
        return Value(1e308) * 10.0

    with mg.detect_anomaly():
        with mg.detect_anomaly():
            pass
        assert mg.is_anomaly_enabled()
    with pytest.raises(AnomalyError):
        overflow()
    assert not mg.is_anomaly_enabled() and engine._plain is True and engine._slow_blocks == engine._anomaly_blocks == 0


def test_it_applies_to_the_thread_that_enters_it():
    entered, done = threading.Event(), threading.Event()
    seen = {}

    def other():
        entered.wait()
        seen["value"] = (Value(1e308) * 10.0).data  # not checked: another thread's anomaly mode
        seen["enabled"] = mg.is_anomaly_enabled()
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with mg.detect_anomaly():
        entered.set()
        done.wait()
        with pytest.raises(AnomalyError):
            Value(1e308) * 10.0
    t.join()
    assert seen == {"value": INF, "enabled": False}


# ---- the picture ----


def test_the_picture_draws_the_path_with_the_bad_node_filled_red():
    x, w, loss = _sqrt_at_zero()
    e = _raised(loss.backward)
    dot = e.picture().source
    bad = next(line for line in dot.splitlines() if "{ v2 |" in line)
    node_id = bad.split()[0]
    assert f'{node_id} [color="#c53030" fillcolor="#fed7d7" penwidth=3]' in dot
    for name in ("loss", "v4", "v2", "v1", "x", "w"):  # the path, and the inputs of its small ops
        assert f"{{ {name} |" in dot
    assert "grad inf" in dot and "label=inf" in dot  # the parent's grad as it became, the slope on its edge
    assert "detect_anomaly: backward() sent an infinite gradient from v2 (sqrt) to v1" in dot
    assert "rankdir=TB" in dot  # a long thin path, drawn down the page so its text stays readable


def test_a_forward_picture_shows_the_inputs_with_their_own_inputs_cut_off():
    a = Value(1e200, "a")
    e = _raised(lambda: (a + 1.0) * (a * 2.0))
    dot = e.picture().source
    assert "{ v5 | data inf }" in dot and "grad" not in dot
    assert dot.count('style="rounded,dashed,filled"') == 2  # v2 and v4: drawn, their inputs not


@pytest.mark.graphviz
def test_in_a_notebook_the_error_shows_its_text_and_its_picture():
    x, w, loss = _sqrt_at_zero()
    page = _raised(loss.backward)._repr_html_()
    assert page.startswith("<pre>AnomalyError: backward() sent an infinite gradient from v2 (sqrt) to v1")
    assert "<svg" in page and "v4" in page.split("<svg", 1)[1]
