"""Value, backward, no_grad, memory and bad input: the engine's contract."""

import dis
import gc
import inspect
import math
import re
import sys
import weakref

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import micrograd_like as mg
from micrograd_like import Value, engine
from micrograd_like.nn import MLP
from micrograd_like.testing import gradcheck
from micrograd_like.testing.strategies import expressions


def test_value_stores_a_float_and_reprs_like_micrograd():
    v = Value(2)
    assert type(v.data) is float and v.data == 2.0 and v.grad == 0.0
    assert repr(v) == "Value(data=2.0, grad=0.0)"
    assert repr(Value(1.5, label="x")) == "Value(data=1.5, grad=0.0, label='x')"
    assert float(Value(3.25)) == 3.25 and Value(3.25).item() == 3.25


def test_parents_op_and_local_grads_are_readable():
    a, b = Value(3.0, "a"), Value(-2.0, "b")
    c = a * b
    assert c.parents == (a, b) and c.op == "*" and c.local_grads == (-2.0, 3.0)
    assert c.edges == ((a, -2.0), (b, 3.0))
    assert a.is_leaf and not c.is_leaf and a.op == "" and a.parents == ()
    assert (a ** 2).op == "**2"


def test_a_times_a_keeps_both_edges():
    a = Value(3.0)
    y = a * a
    assert y.parents == (a, a)
    y.backward()
    assert a.grad == 6.0


def test_backward_twice_doubles_leaves_and_never_compounds_intermediates():
    x = Value(2.0)
    h = x * 2
    y = h * 3
    y.backward()
    assert (x.grad, h.grad, y.grad) == (6.0, 3.0, 1.0)
    y.backward()
    assert (x.grad, h.grad, y.grad) == (12.0, 3.0, 1.0)


def test_backward_of_a_leaf_accumulates_the_seed():
    x = Value(5.0)
    x.backward()
    x.backward(gradient=2.0)
    assert x.grad == 3.0


def test_backward_seed_scales_every_gradient():
    x = Value(1.5)
    y = x.exp() * x
    y.backward(gradient=-2.0)
    assert x.grad == pytest.approx(-2.0 * (math.exp(1.5) * 1.5 + math.exp(1.5)))


def test_mixing_numbers_on_either_side():
    x = Value(4.0)
    assert (x + 1).data == 5 and (1 + x).data == 5
    assert (x - 1).data == 3 and (1 - x).data == -3
    assert (x * 2).data == 8 and (2 * x).data == 8
    assert (x / 2).data == 2 and (2 / x).data == 0.5
    assert (-x).data == -4 and abs(Value(-4.0)).data == 4
    assert (x ** 0.5).data == 2 and (2 ** Value(3.0)).data == 8
    assert (Value(4.0) ** Value(0.5)).data == 2


def test_topological_order_puts_parents_first_and_root_last():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = mg.topological_order(e)
    assert order[-1] is e and len(order) == len(set(map(id, order))) == 5
    pos = {id(v): i for i, v in enumerate(order)}
    assert all(pos[id(p)] < pos[id(v)] for v in order for p in v.parents)


def test_a_million_node_chain_backprops_at_the_default_recursion_limit():
    limit = sys.getrecursionlimit()
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + x
    y.backward()
    assert x.grad == 1_000_001.0
    assert y.data == 1_000_001.0
    assert sys.getrecursionlimit() == limit
    del y  # freeing a million-deep chain must not overflow the C stack either


def test_a_20000_term_sum_is_one_node():
    xs = [Value(float(i)) for i in range(20_000)]
    s = mg.sum(xs)
    assert len(mg.topological_order(s)) == 20_001
    assert s.data == sum(range(20_000))
    s.backward()
    assert all(x.grad == 1.0 for x in xs)


def test_sum_and_dot_accept_numbers_and_generators():
    assert mg.sum(x for x in [1, 2.5, Value(3)]).data == 6.5
    assert mg.sum([]).data == 0.0
    assert mg.dot((1, 2), iter([3, 4])).data == 11.0


def test_no_grad_builds_no_graph_and_restores_the_flag():
    x = Value(2.0)
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = (x * x).exp() + x
        assert y.parents == () and y.is_leaf
    assert mg.is_grad_enabled()
    with pytest.raises(RuntimeError):
        with mg.no_grad():
            raise RuntimeError("boom")
    assert mg.is_grad_enabled()
    assert (x * x).parents == (x, x)


def test_no_grad_nests_and_works_as_a_decorator():
    @mg.no_grad()
    def f(v):
        return v * 3

    x = Value(1.0)
    with mg.no_grad():
        with mg.no_grad():
            pass
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    assert f(x).parents == () and mg.is_grad_enabled()


def test_dropped_graph_is_freed_by_reference_counting_alone():
    gc.collect()
    gc.disable()
    try:
        x = Value(0.5)
        inner = (x * 3).tanh()
        out = (inner + x).relu() * inner
        out.backward()
        ref = weakref.ref(inner)
        del inner, out
        assert ref() is None, "the graph was kept alive by a reference cycle"
        assert x.grad != 0.0
    finally:
        gc.enable()


def test_backward_resets_any_intermediate_grad_even_one_set_to_none():
    # PyTorch users clear grads with None; an intermediate node's grad is reset whatever it holds
    x = Value(1.5)
    mid = x * 2
    y = (mid * 3).tanh() + mid
    y.backward()
    expected = x.grad
    x.grad = 0.0
    mid.grad = None
    y.backward()
    assert x.grad == expected and mid.grad == pytest.approx(3 * (1 - y.parents[0].data ** 2) + 1)


@pytest.mark.parametrize("seed", ["1", None, 1j, [1.0]])
def test_backward_seed_must_be_a_real_number(seed):
    x = Value(2.0)
    y = x * 3
    with pytest.raises(TypeError, match=f"backward: .*{type(seed).__name__}"):
        y.backward(seed)
    assert x.grad == 0.0 and y.grad == 0.0  # nothing was touched
    y.backward(2)  # an int is a real number
    assert x.grad == 6.0


def test_a_node_of_one_or_two_parents_is_one_tracked_object():
    # The cyclic GC's work grows with the number of container objects a step allocates;
    # + * and relu nodes keep their edges in slots, so each is one object and no tuples.
    a, b = Value(1.5), Value(-2.0)
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        nodes = [((a * b) + a).relu() for _ in range(1000)]
        created = len(gc.get_objects()) - before
    finally:
        gc.enable()
    assert 3000 <= created <= 3000 + 10, created  # 3 nodes per item, plus the list itself
    assert nodes[0].data == 0.0 and nodes[0].parents[0].parents == (nodes[0].parents[0].parents[0], a)


def test_sigmoid_and_tanh_are_finite_and_right_at_1000():
    for x, s, t in ((1000.0, 1.0, 1.0), (-1000.0, 0.0, -1.0)):
        vs, vt = Value(x).sigmoid(), Value(x).tanh()
        assert vs.data == s and vt.data == t
        vs.backward()
        vt.backward()
        assert vs.parents[0].grad == 0.0 and vt.parents[0].grad == 0.0


def test_sigmoid_far_left_tail_is_accurate():
    # the naive 1 / (1 + exp(800)) overflows; the stable form returns the tiny true value
    assert Value(-700.0).sigmoid().data == pytest.approx(math.exp(-700.0), rel=1e-9)


@pytest.mark.parametrize("bad", ["abc", None, 1j, [1.0], {"a": 1}])
def test_value_of_a_non_number_is_a_type_error_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_value_of_a_value_is_a_type_error():
    with pytest.raises(TypeError, match="got a Value"):
        Value(Value(1.0))


@pytest.mark.parametrize(
    "make, op",
    [
        (lambda: Value(1) + "a", r"\+"),
        (lambda: "a" * Value(1), r"\*"),
        (lambda: Value(1) - None, "-"),
        (lambda: Value(1) / [2], "/"),
        (lambda: Value(1) ** "2", r"\*\*"),
        (lambda: mg.sum([Value(1), "x"]), "sum"),
        (lambda: mg.dot([1j], [1]), "dot"),
    ],
)
def test_bad_operand_is_a_type_error_naming_type_and_op(make, op):
    with pytest.raises(TypeError, match=op) as info:
        make()
    assert any(t in str(info.value) for t in ("str", "NoneType", "list", "complex"))


@pytest.mark.parametrize(
    "make, pattern",
    [
        (lambda: Value(0.0).log(), r"log: undefined for 0\.0"),
        (lambda: Value(-1.0).log(), r"log: undefined for -1\.0"),
        (lambda: Value(-1.0).sqrt(), r"sqrt: undefined for -1\.0"),
        (lambda: Value(-8.0) ** (1 / 3), r"negative base \(-8\.0\)"),
        (lambda: Value(-2.0) ** Value(0.5), r"base must be positive.*-2\.0"),
        (lambda: 0 ** Value(2.0), r"base must be positive.*0\.0"),
    ],
)
def test_math_domain_errors_name_the_op_and_the_value(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()


def test_negative_base_to_a_whole_power_is_fine():
    y = Value(-2.0) ** 3
    y.backward()
    assert y.data == -8.0 and y.parents[0].grad == 12.0


def test_division_by_zero_says_so():
    with pytest.raises(ZeroDivisionError, match=r"'\*\*': 0\.0 cannot be raised to the negative power -1\.0"):
        Value(0.0) ** -1
    with pytest.raises(ZeroDivisionError, match=r"'/': division by zero \(1\.0 / 0\.0\)"):
        1 / Value(0)


def test_overflow_is_an_overflow_error_naming_the_op():
    with pytest.raises(OverflowError, match=r"exp: exp\(1000\.0\) is too large"):
        Value(1000).exp()
    with pytest.raises(OverflowError, match=r"'\*\*': 10\.0 \*\* 400\.0 is too large"):
        Value(10.0) ** 400


def test_sqrt_at_zero_has_an_infinite_slope_not_a_clamped_one():
    x = Value(0.0)
    y = x.sqrt()
    y.backward()
    assert y.data == 0.0 and x.grad == math.inf


def test_kinks_follow_pytorch():
    for method, expected in (("relu", 0.0), ("step", 0.0), ("__abs__", 0.0)):
        x = Value(0.0)
        getattr(x, method)().backward()
        assert x.grad == expected, method
    x = Value(0.0)
    x.leaky_relu(0.2).backward()
    assert x.grad == 0.2


def test_value_supports_weak_references_and_identity_hashing():
    v = Value(1.0)
    assert weakref.ref(v)() is v
    assert len({v, Value(1.0)}) == 2


@settings(max_examples=150, deadline=None)
@given(expr=expressions())
def test_random_expressions_pass_gradcheck(expr):
    assert gradcheck(expr, *expr.inputs)


@settings(max_examples=80, deadline=None)
@given(expr=expressions())
def test_backward_twice_doubles_leaf_grads(expr):
    # exact for one path per leaf (see the hand test above); summing over several paths
    # in a different grouping rounds differently, which shows when the paths nearly cancel
    leaves = [Value(x) for x in expr.inputs]
    out = expr(*leaves)
    out.backward()
    first = [leaf.grad for leaf in leaves]
    out.backward()
    assert [leaf.grad for leaf in leaves] == pytest.approx([2 * g for g in first], rel=1e-12, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(expr=expressions(max_inputs=3, max_depth=5))
def test_backward_order_lists_each_interior_node_once_after_its_parents(expr):
    # backward()'s walk takes shortcuts (marks on grads, nodes whose parents are done);
    # it must still be a topological order of exactly the graph's non-leaf nodes
    leaves = [Value(x) for x in expr.inputs]
    out = expr(*leaves)
    assume(not out.is_leaf)
    _check_backward_order(out)


def _check_backward_order(out: Value) -> None:
    """The walk lists every interior node once, parents first, resets their grads, leaves leaves alone."""
    for v in mg.topological_order(out):
        v.grad = 1.5  # whatever was there: the walk resets intermediate grads
    order = engine._backward_order(out)
    interior = [v for v in mg.topological_order(out) if not v.is_leaf]
    assert len(order) == len(set(order)) and set(order) == set(interior) and order[-1] is out
    position = {v: i for i, v in enumerate(order)}
    assert all(position[p] < position[v] for v in order for p in v.parents if not p.is_leaf)
    assert all(v.grad == 0.0 for v in order)
    assert all(v.grad == 1.5 for v in mg.topological_order(out) if v.is_leaf)  # leaves keep theirs


def _reference_grads(out: Value) -> dict[Value, float]:
    """The chain rule done the slow, obvious way over topological_order: what backward() must give."""
    order = mg.topological_order(out)
    grads = {v: 0.0 for v in order}
    grads[out] = 1.0
    for v in reversed(order):
        for parent, local in zip(v.parents, v.local_grads):
            grads[parent] += grads[v] * local
    return grads


@settings(max_examples=300, deadline=None)
@given(data=st.data(), k=st.integers(1, 3), n_leaves=st.integers(1, 5), n_nodes=st.integers(1, 25))
def test_backward_through_shared_parent_tuples_is_a_topological_order_with_the_right_grads(data, k, n_leaves, n_nodes):
    # A neuron's dot node shares its (bias, *weights) tuple with its dot nodes of other samples and
    # its inputs tuple with the other neurons of the layer; the walk looks at each tuple once. Here
    # tuples of any Values (leaves or not) are shared at random between dot nodes and + and * nodes.
    value = st.floats(-2.0, 2.0)
    pool = [Value(data.draw(value)) for _ in range(n_leaves)]
    bws: list[tuple[Value, ...]] = []
    xss: list[tuple[Value, ...]] = []
    for _ in range(n_nodes):
        pick = st.sampled_from(pool)
        kind = data.draw(st.sampled_from(["dot", "dot", "new tuples", "+", "*", "relu"]))
        if kind == "new tuples" or (kind == "dot" and not bws):
            bws.append(tuple(data.draw(pick) for _ in range(k + 1)))
            xss.append(tuple(data.draw(pick) for _ in range(k)))
        elif kind == "dot":
            bw, xs = data.draw(st.sampled_from(bws)), data.draw(st.sampled_from(xss))
            pool.append(engine._dot(bw, xs, engine._one_xdata(xs)))
        elif kind == "relu":
            pool.append(data.draw(pick).relu())
        else:
            a, b = data.draw(pick), data.draw(pick)
            pool.append(a + b if kind == "+" else a * b)
    # the root sums some of the nodes in any order, so the walk meets them late as well as early
    built = data.draw(st.permutations(pool[n_leaves:] or pool))
    out = mg.sum(built[: data.draw(st.integers(1, len(built)))])
    _check_backward_order(out)
    everything = mg.topological_order(out)
    for v in everything:
        v.grad = 0.0
    out.backward()
    expected = _reference_grads(out)
    assert [v.grad for v in everything] == pytest.approx([expected[v] for v in everything], rel=1e-9, abs=1e-12)


def test_a_tuple_shared_with_a_node_met_while_walking_another_tuple_is_walked_there():
    # n holds (q, x1) and (r,); walking q's parents meets p, which holds (r,) too. p must walk
    # (r,) itself, although n's walk will come to it later: else p would come before r.
    x0, x1 = Value(2.0), Value(3.0)
    r = x0 + x1
    rs = (r,)  # the one tuple p and n share
    p = engine._dot((x0, x1), rs, engine._one_xdata(rs))
    q = p.relu()
    n = engine._dot((q, x1), rs, engine._one_xdata(rs))
    out = n.relu()
    order = engine._backward_order(out)
    assert order.index(r) < order.index(p) < order.index(q) < order.index(n) < order.index(out)
    out.backward()
    assert r.grad == _reference_grads(out)[r] == 3.0 + 3.0  # x1 straight into n, and x1 through p


def test_a_neurons_dot_nodes_share_their_parent_tuples():
    # what makes the walk fast: one (bias, *weights) tuple per neuron, one inputs tuple per layer and sample
    from micrograd_like.nn import Layer

    layer = Layer(3, 4, seed=0)
    first, second = layer([1.0, 2.0, 3.0]), layer([4.0, 5.0, 6.0])
    zs = [n.z for n in layer.neurons]
    assert all(z._a is n._bw for z, n in zip(zs, layer.neurons))
    assert len({id(z._c) for z in zs}) == 1 and [x.data for x in zs[0]._c] == [4.0, 5.0, 6.0]
    n0 = layer.neurons[0]
    assert n0.z.parents == (n0.b, *n0.w, *zs[0]._c)
    assert n0.z.local_grads == (1.0, 4.0, 5.0, 6.0, *(w.data for w in n0.w))
    assert first[0] is not second[0] and first[0].parents[0].parents[:4] == (n0.b, *n0.w)


# ---- no silent wrong answers (issue 10) ----------------------------------------------------


def _interleave_no_grad_in_two_threads(during=None):
    """A enters no_grad, B enters, A exits, B exits; ``during(name)`` runs in each thread while inside."""
    import threading

    steps = [threading.Event() for _ in range(4)]
    seen = {}

    def thread_a():
        with mg.no_grad():
            steps[0].set()
            steps[1].wait(5)
            if during:
                seen["A inside"] = during()
        steps[2].set()

    def thread_b():
        steps[0].wait(5)
        with mg.no_grad():
            steps[1].set()
            steps[2].wait(5)
            if during:
                seen["B inside"] = during()
        steps[3].set()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert all(s.is_set() for s in steps)
    return seen


def test_no_grad_in_two_threads_never_leaves_grad_mode_off():
    _interleave_no_grad_in_two_threads()
    assert mg.is_grad_enabled()
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0


def test_no_grad_applies_to_its_own_thread_only():
    import threading

    inside, go_on, built = threading.Event(), threading.Event(), {}

    def evaluator():
        with mg.no_grad():
            built["evaluator"] = Value(2.0) * Value(3.0), mg.is_grad_enabled()
            inside.set()
            go_on.wait(5)

    t = threading.Thread(target=evaluator)
    t.start()
    inside.wait(5)
    try:
        # while another thread evaluates under no_grad, this one still trains
        assert mg.is_grad_enabled()
        a, b = Value(2.0), Value(3.0)
        c = (a * b + a).relu() + mg.dot([a], [b], bias=a)
        c.backward()
        assert (a.grad, b.grad) == (3.0 + 1.0 + 3.0 + 1.0, 2.0 + 2.0)
    finally:
        go_on.set()
        t.join(5)
    product, enabled_there = built["evaluator"]
    assert product.parents == () and enabled_there is False


def test_relu_and_step_of_nan_are_nan_as_in_pytorch():
    nan = float("nan")
    for method in ("relu", "step"):
        assert math.isnan(getattr(Value(nan), method)().data)
        assert math.isnan(mg.engine.OPS[method].forward(nan))
    x = Value(nan)
    x.relu().backward()
    assert x.grad == 1.0  # torch.relu's gradient at NaN is 1 (its mask is "not <= 0")
    assert Value(-2.0).relu().data == 0.0 and Value(-2.0).step().data == 0.0


@pytest.mark.parametrize("build", [
    lambda x: x.relu().sqrt(),
    lambda x: x.relu() ** 0.5,
    lambda x: x.step().sqrt(),
    lambda x: (x.relu() * 0.0 + x.relu()).sqrt(),
])
def test_an_edge_with_zero_local_derivative_passes_nothing_back(build):
    # sqrt's slope at 0 is infinite; the relu (or step) below it was off, so x gets 0, as in PyTorch
    x = Value(-1.0)
    build(x).backward()
    assert x.grad == 0.0


def test_infinite_and_nan_grads_still_flow_along_nonzero_edges():
    x = Value(0.0)
    (x * 2.0).sqrt().backward()
    assert x.grad == math.inf
    a, b = Value(2.0), Value(0.0)
    (a * b).backward(float("nan"))  # NaN reaches a through the edge b = 0? no: that edge is 0
    assert a.grad == 0.0 and math.isnan(b.grad)
    w = [Value(1.0), Value(-1.0)]
    out = mg.dot(w, [Value(0.0), Value(3.0)], bias=Value(0.5))
    out.backward(math.inf)
    assert [wi.grad for wi in w] == [0.0, math.inf]


def test_matches_pytorch_where_an_infinite_slope_meets_a_dead_relu():
    torch = pytest.importorskip("torch")
    for x0 in (-1.0, 0.0):
        for ours, theirs in [
            (lambda v: v.relu().sqrt(), lambda t: torch.relu(t).sqrt()),
            (lambda v: v.relu() ** 0.5, lambda t: torch.relu(t) ** 0.5),
        ]:
            x = Value(x0)
            ours(x).backward()
            t = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
            theirs(t).backward()
            assert x.grad == t.grad.item()


@pytest.mark.parametrize("make, wanted_data, wanted_grads", [
    (lambda: (Value(1.0), Value(1e-200)), 1e200, (1e200, -math.inf)),
])
def test_a_finite_result_is_not_refused_because_its_derivative_overflows(make, wanted_data, wanted_grads):
    a, b = make()
    out = a / b
    out.backward()
    assert out.data == wanted_data and (a.grad, b.grad) == wanted_grads


def test_powers_with_overflowing_slopes_give_infinite_gradients_like_pytorch():
    torch = pytest.importorskip("torch")
    for x0, n in [(1e-200, -1.0), (-1e-200, -1.0), (-1e-150, -2.0), (-1e-100, -3.0), (1e-100, -3.0)]:
        x = Value(x0)
        out = x ** n
        out.backward()
        t = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        (t ** n).backward()
        assert out.data == pytest.approx(x0 ** n) and x.grad == t.grad.item(), (x0, n)
    x, e = Value(1e-200), Value(-1.0)
    out = x ** e
    out.backward()
    assert out.data == pytest.approx(1e200) and x.grad == -math.inf
    assert e.grad == pytest.approx(1e200 * math.log(1e-200))


def test_ints_too_large_for_a_float_name_the_op():
    big = 10 ** 400
    for do, op in [(lambda: Value(big), "Value"), (lambda: Value(1.0) + big, "+"), (lambda: Value(1.0) * big, "*"),
                   (lambda: big - Value(1.0), "-"), (lambda: Value(2.0) ** big, "**"), (lambda: mg.sum([big]), "sum"),
                   (lambda: Value(10 ** 5000), "Value")]:  # too long even for repr: described by its digits
        with pytest.raises(OverflowError, match=rf"^{re.escape(op)}: .*too large for a float"):
            do()


def test_numpy_scalars_and_0d_arrays_work_on_either_side():
    np = pytest.importorskip("numpy")
    for x in (np.bool_(True), np.array(2.5), np.array(3), np.float32(1.5), np.int64(4), np.array(True)):
        left, right = Value(1.0) + x, x + Value(1.0)
        assert isinstance(left, Value) and left.data == 1.0 + float(x)
        assert float(right if not isinstance(right, np.ndarray) else right.item()) == 1.0 + float(x)
        assert (Value(2.0) * x).data == 2.0 * float(x)
    for bad in (np.array([1.0, 2.0]), np.array(1 + 2j), np.array("a")):
        with pytest.raises(TypeError, match=r"^\+: expected a real number or a Value, got ndarray"):
            Value(1.0) + bad


def test_threads_may_train_separate_graphs_at_once():
    # what the README promises threads may do: each builds and backprops its own graph
    import threading

    errors = []

    def train(seed):
        try:
            for i in range(300):
                a, b = Value(seed + i), Value(2.0)
                out = (a * b + a).relu() * a
                out.backward()
                assert (a.grad, b.grad) == (2 * (seed + i) * 3.0, (seed + i) ** 2), (a.grad, b.grad)
                with mg.no_grad():
                    assert (a * b).parents == ()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=train, args=(s,)) for s in (1.0, 5.0, 9.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and mg.is_grad_enabled()


# ---- an interrupted backward() (Ctrl-C in a notebook, say) ----

_GRAD_SLOT = Value.grad  # the slot's descriptor, which the subclass below wraps


class _InterruptedWhenMarked(Value):
    """A Value whose grad setter stores what it is given, then raises KeyboardInterrupt the first time
    backward's walk marks it: an interrupt that lands right after the walk has marked a node."""

    __slots__ = ("armed",)

    @property
    def grad(self):
        return _GRAD_SLOT.__get__(self)

    @grad.setter
    def grad(self, g):
        _GRAD_SLOT.__set__(self, g)
        if getattr(self, "armed", False) and type(g) is not float:
            self.armed = False
            raise KeyboardInterrupt


def _interruptible_copy(node):
    """The op node ``node`` (same data, parents and local derivatives) as an _InterruptedWhenMarked."""
    trap = _InterruptedWhenMarked(node.data)
    for slot in ("_a", "_b", "_c", "_da", "_db", "_op"):
        if hasattr(node, slot):  # a unary node has no second derivative slot
            setattr(trap, slot, getattr(node, slot))
    trap.armed = True
    return trap


@pytest.mark.parametrize("shape", ["chain", "sum", "dot"])
def test_an_interrupted_backward_leaves_every_grad_a_number_and_the_next_one_right(shape):
    x, w, c = Value(0.5, "x"), Value(-1.5, "w"), Value(2.0, "c")
    inner = {"chain": lambda: (x * w).tanh(), "sum": lambda: mg.sum([x * w, c * x, w]),
             "dot": lambda: mg.dot([x, w], [c, x]) * 1.0}[shape]()
    trap = _interruptible_copy((inner * c).exp())
    root = (trap + (x * c).relu()) * w
    with pytest.raises(KeyboardInterrupt):
        root.backward()
    graph = mg.topological_order(root)
    # every grad is a plain 0 again, as before the pass: no mark (a NaN) and no other number left
    assert all(type(v.grad) is float and v.grad == 0.0 for v in graph), [v for v in graph if v.grad != 0.0]
    for leaf in (x, w, c):
        leaf.grad = 0.0
    root.backward()  # the trap is disarmed: a normal pass over the same graph
    assert gradcheck(lambda x_, w_, c_: _interrupted_graph(shape, x_, w_, c_), x.data, w.data, c.data)
    wanted = [v.grad for v in _fresh_leaf_grads(shape, x.data, w.data, c.data)]
    assert [x.grad, w.grad, c.grad] == pytest.approx(wanted, rel=1e-12)


# CPython acts on a signal (Ctrl-C raises KeyboardInterrupt) only at some bytecodes: right after a
# call returns and at the jump back of a loop (and as a function starts). Other code runs on without
# a break: the few bytecodes of a `break` out of a try, between its block's end and its inlined
# finally, say, where an exception would skip the clean-up.
_SIGNAL_CHECKED_AFTER = ("CALL", "JUMP_BACKWARD", "POP_JUMP_BACKWARD", "JUMP_ABSOLUTE", "RESUME")


def _interrupt_walk(k):
    """A tracer that raises KeyboardInterrupt where the k-th signal could land in backward()'s walk.

    Returns (the tracer, a record): the record counts those places and keeps the frame and the
    line (counted from the walk's ``def``) the interrupt landed on.
    """
    record = {"count": 0, "frame": None, "line": None, "after": ""}

    def opcodes(frame, event, arg):
        frame.f_trace_opcodes = True  # Python 3.13 ignores it when set by the call event alone
        if frame.f_lineno is not None:  # None on a few bytecodes the compiler added: keep the last
            record["line"] = frame.f_lineno - frame.f_code.co_firstlineno
        if event == "opcode":
            if record["after"].startswith(_SIGNAL_CHECKED_AFTER):
                record["count"] += 1
                if record["count"] == k:
                    record["frame"] = frame
                    raise KeyboardInterrupt
            record["after"] = dis.opname[frame.f_code.co_code[frame.f_lasti]]
        return opcodes

    def calls(frame, event, arg):
        if "_backward_order" in frame.f_code.co_name:  # the walk (mutmut renames a copy it mutates)
            frame.f_trace_opcodes = True
            return opcodes
        return None

    return calls, record


def _traced(tracer, fn):
    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(old)


def test_ctrl_c_at_any_bytecode_of_the_walk_leaves_the_next_backward_right():
    """Ctrl-C can land at any of the walk's signal checks, those of its clean-up included (on a
    million nodes the clean-up runs for a while). Wherever it lands, the next backward() computes
    every grad right, and until then each grad the walk touched is 0 (reset) or, only if the
    clean-up itself was cut short, nan (a mark the next walk tells from its own)."""
    net = MLP(2, [3, 2], seed=3)  # dot nodes that share their tuples of parents
    xs = [Value(0.5, "x0"), Value(-1.25, "x1")]
    a, b = net(xs)
    root = (a * b + a.tanh()).relu() * (b + 1.0) + mg.sum([a, b, a * a])
    leaves = [*net.parameters(), *xs]
    inner = [v for v in mg.topological_order(root) if v.parents]

    def right_grads():
        for v in leaves:
            v.grad = 0.0
        root.backward()
        return [v.grad for v in leaves]

    wanted = right_grads()
    tracer, record = _interrupt_walk(0)  # counts the bytecodes of one whole walk, interrupts none
    _traced(tracer, root.backward)
    if record["count"] == 0:
        pytest.skip(f"Python {sys.version.split()[0]} sends a tracer no opcode events (seen on CPython 3.12.1)")
    assert record["frame"] is None and record["count"] > 100
    for k in range(1, record["count"] + 1):
        for v in inner:
            v.grad = 7.0  # what a node's grad holds before the pass
        tracer, record = _interrupt_walk(k)
        with pytest.raises(KeyboardInterrupt):
            _traced(tracer, root.backward)
        source = inspect.getsource(record["frame"].f_code).splitlines()
        clean_up = next(i for i, line in enumerate(source) if "except BaseException" in line)
        left = {v.grad for v in inner if v.grad not in (0.0, 7.0)}
        if record["line"] < clean_up:
            assert not left, (k, source[record["line"]], left)
        else:
            assert all(math.isnan(g) for g in left), (k, source[record["line"]], left)
        assert right_grads() == wanted, (k, source[record["line"]])


def _interrupted_graph(shape, x, w, c):
    inner = {"chain": lambda: (x * w).tanh(), "sum": lambda: mg.sum([x * w, c * x, w]),
             "dot": lambda: mg.dot([x, w], [c, x]) * 1.0}[shape]()
    return ((inner * c).exp() + (x * c).relu()) * w


def _fresh_leaf_grads(shape, *data):
    leaves = [Value(d) for d in data]
    _interrupted_graph(shape, *leaves).backward()
    return leaves


# ---- what a new node looks like, errors that name their op, and threads that never used no_grad ----


@pytest.mark.parametrize("make", [
    lambda x, y: x + y, lambda x, y: x * y, lambda x, y: x - y, lambda x, y: x / y, lambda x, y: x**2,
    lambda x, y: x**y, lambda x, y: x.relu(), lambda x, y: x.tanh(), lambda x, y: mg.sum([x, y]),
    lambda x, y: mg.dot([x], [y]), lambda x, y: mg.dot([x], [y], bias=y), lambda x, y: mg.logsumexp([x, y]),
])
def test_a_new_node_has_grad_zero_and_no_label(make):
    for grad_mode in (True, False):
        x, y = Value(1.5, "x"), Value(2.0, "y")
        if grad_mode:
            out = make(x, y)
        else:
            with mg.no_grad():
                out = make(x, y)
        assert out.grad == 0.0 and type(out.grad) is float
        assert out.label == ""
        assert repr(out) == f"Value(data={out.data!r}, grad=0.0)"


@pytest.mark.parametrize("make, op", [
    (lambda v: "a" + v, "+"), (lambda v: "a" * v, "*"), (lambda v: v - "a", "-"), (lambda v: "a" - v, "-"),
    (lambda v: v / "a", "/"), (lambda v: "a" / v, "/"), (lambda v: "a" ** v, "**"),
    (lambda v: v.leaky_relu("a"), "leaky_relu"), (lambda v: v.prelu("a"), "prelu"),
    (lambda v: mg.dot(["a"], [v]), "dot"), (lambda v: mg.dot([v], ["a"]), "dot"),
    (lambda v: mg.dot([v], [v], bias="a"), "dot"), (lambda v: mg.sum([v, "a"]), "sum"),
    (lambda v: mg.logsumexp([v, "a"]), "logsumexp"),
])
def test_every_entry_point_names_its_op_when_given_a_string(make, op):
    with pytest.raises(TypeError, match=rf"^{re.escape(op)}: expected a real number or a Value, got str 'a'$"):
        make(Value(2.0))


def test_a_thread_that_never_used_no_grad_builds_graphs_while_another_is_inside_it():
    import threading

    inside, done = threading.Event(), threading.Event()
    seen = {}

    def evaluator():
        with mg.no_grad():
            inside.set()
            done.wait(5)

    def fresh():
        x = Value(2.0)
        seen["enabled"] = mg.is_grad_enabled()
        seen["parents"] = len((x * x + 1.0).parents)

    t = threading.Thread(target=evaluator)
    t.start()
    try:
        assert inside.wait(5)
        u = threading.Thread(target=fresh)  # a new thread: it has never entered no_grad()
        u.start()
        u.join(5)
    finally:
        done.set()
        t.join(5)
    assert seen == {"enabled": True, "parents": 2}
    assert mg.is_grad_enabled()


def test_zero_dimensional_unsigned_arrays_are_numbers_and_look_alikes_without_a_dtype_are_not():
    np = pytest.importorskip("numpy")
    assert Value(np.array(7, dtype=np.uint32)).data == 7.0
    assert (Value(1.0) + np.array(3, dtype=np.uint8)).data == 4.0

    class ZeroDimensional:
        ndim = 0  # looks like a 0-d array, but has no dtype to say it holds a number

    with pytest.raises(TypeError, match="^Value: expected a real number or a Value, got ZeroDimensional"):
        Value(ZeroDimensional())


def test_an_infinite_grad_meeting_an_infinite_slope_stays_infinite_and_opposite_infinities_make_nan():
    torch = pytest.importorskip("torch")
    x = Value(0.0)
    x.sqrt().sqrt().backward()  # inf arrives at a node whose own slope is inf: inf * inf
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    t.sqrt().sqrt().backward()
    assert x.grad == t.grad.item() == math.inf
    x = Value(0.0)
    (x.sqrt().sqrt() - x.sqrt().sqrt()).backward()  # +inf and -inf both reach x: they add up to nan
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    (t.sqrt().sqrt() - t.sqrt().sqrt()).backward()
    assert math.isnan(x.grad) and math.isnan(t.grad.item())


# ---- pinned by mutation testing (docs/mutation.md): what the error messages say, exactly ----


def test_a_value_in_an_error_message_is_its_repr_cut_after_40_characters():
    def message(bad):
        with pytest.raises(TypeError) as info:
            Value(bad)
        return str(info.value)

    assert message("a" * 38) == "Value: expected a real number or a Value, got str '" + "a" * 38 + "'"  # repr: 40
    assert message("a" * 39) == "Value: expected a real number or a Value, got str '" + "a" * 39 + "..."  # 41
    assert message("a" * 60) == "Value: expected a real number or a Value, got str '" + "a" * 39 + "..."


def test_an_int_in_an_error_message_is_shown_whole_up_to_128_bits_then_by_its_number_of_digits():
    def message(n):
        with pytest.raises(TypeError) as info:
            mg.grad(Value(1.0), Value(2.0), create_graph=n)
        return str(info.value)

    assert message(2 ** 128 - 1) == f"grad: create_graph must be True or False, got int {2 ** 128 - 1}"
    assert message(2 ** 128) == "grad: create_graph must be True or False, got an int of 39 digits"
    assert message(-(10 ** 50)) == "grad: create_graph must be True or False, got an int of 51 digits"


def test_an_int_too_long_to_print_is_described_by_about_how_many_digits_it_has():
    def message(n):
        with pytest.raises(OverflowError) as info:
            Value(n)
        return str(info.value)

    # below 14,000 bits str() is asked for the digits and they are counted exactly; from there on
    # they are estimated from the bits (str() of an int is refused beyond 4,300 digits)
    assert message(2 ** 13998) == "Value: an int of 4214 digits is too large for a float (the largest is about 1.8e308)"
    assert message(2 ** 13999).startswith("Value: an int of about 4215 digits is too large")  # 4215 exactly
    assert message(10 ** 5000).startswith("Value: an int of about 5001 digits is too large")
    assert message(-(2 ** 20000)).startswith("Value: an int of about 6021 digits is too large")


def test_a_stepped_backward_reports_each_contribution_as_grad_times_local_bit_for_bit():
    from micrograd_like.trace import backward_steps

    x = Value(-1.0)
    out = x.relu() * -3.0  # the relu is off: its node gets grad -3 and passes -3 * 0.0 = -0.0 to x
    contributions = [e.contribution for step in backward_steps(out) for e in step.edges if e.parent is x]
    assert len(contributions) == 1 and math.copysign(1.0, contributions[0]) == -1.0
    assert x.grad == 0.0


def test_leaving_the_last_no_grad_turns_the_one_read_fast_path_back_on():
    # every op reads engine._plain first and takes the slow path only when it is off: it is off
    # exactly while some no_grad() or detect_anomaly() block is open, so ordinary graph building
    # never pays for either
    assert engine._plain is True
    with mg.no_grad():
        assert not engine._plain
        with mg.no_grad():
            pass
        assert not engine._plain
    assert engine._plain is True and engine._slow_blocks == 0
    with mg.detect_anomaly():
        assert not engine._plain
        with mg.no_grad():
            assert not engine._plain
        assert not engine._plain
    assert engine._plain is True and engine._slow_blocks == 0

    @mg.no_grad()
    def evaluate():
        return engine._plain

    assert not evaluate() and engine._plain is True


@pytest.mark.parametrize("call, error, message", [
    (lambda: mg.logsumexp([]), ValueError, "logsumexp: needs at least one value"),
    (lambda: mg.logsumexp(iter(())), ValueError, "logsumexp: needs at least one value"),
    (lambda: Value(Value(1.0)), TypeError, "Value: got a Value; use it directly, or Value(v.data) for a new leaf"),
    (lambda: Value(1.0, label=3), TypeError, "Value: label must be a str, got int"),
    (lambda: mg.dot([1.0, 2.0], [3.0]), ValueError, "dot: got 2 weights but 1 inputs; they must match"),
    (lambda: mg.dot([1.0], [3.0, 4.0], bias=0.5), ValueError, "dot: got 1 weights but 2 inputs; they must match"),
    (lambda: mg.grad(Value(1.0), []), ValueError,
     "grad: inputs is empty; pass the Values to differentiate with respect to"),
])
def test_bad_calls_say_what_is_wrong_in_words_a_learner_reads(call, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        call()


def test_leaky_relu_defaults_to_pytorchs_slope_of_one_hundredth():
    x = Value(-2.0)
    y = x.leaky_relu()
    y.backward()
    assert y.data == -2.0 * 0.01 and x.grad == 0.01


def test_a_fused_neuron_is_bit_for_bit_its_chain_of_adds_even_for_a_sum_of_negative_zeros():
    w, x, b = Value(1.0), Value(-0.0), Value(-0.0)
    fused = mg.dot([w], [x], bias=b).data
    unfused = (b + w * x).data  # -0.0 + -0.0 is -0.0
    assert fused == unfused == 0.0 and math.copysign(1.0, fused) == math.copysign(1.0, unfused) == -1.0
