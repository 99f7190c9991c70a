"""Activations, softmax and losses: values, stability, errors, gradients against finite differences and PyTorch."""

import math
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import micrograd_like as mg
from micrograd_like import functional as F
from micrograd_like.testing import gradcheck
from micrograd_like.testing.strategies import floats


def datas(values):
    return [v.data for v in values]


def naive_softmax(xs):
    exps = [math.exp(x) for x in xs]
    return [e / sum(exps) for e in exps]


# ---- activations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, x, expected",
    [
        ("relu", -2.0, 0.0), ("relu", 3.0, 3.0),
        ("leaky_relu", -2.0, -0.02), ("leaky_relu", 3.0, 3.0),
        ("sigmoid", 0.7, 1 / (1 + math.exp(-0.7))),
        ("tanh", -0.4, math.tanh(-0.4)),
        ("step", 0.3, 1.0), ("step", 0.0, 0.0), ("step", -5.0, 0.0),
        ("linear", -1.5, -1.5), ("identity", 2.5, 2.5),
    ],
)
def test_activations_by_name_compute_their_formula(name, x, expected):
    fn = F.get_activation(name)
    assert fn is getattr(F, name)
    assert fn(mg.Value(x)).data == pytest.approx(expected, rel=1e-15)
    assert fn(x).data == pytest.approx(expected, rel=1e-15)  # a plain number works too


def test_prelu_learns_its_slope():
    slope = mg.Value(0.25)
    x = mg.Value(-2.0)
    out = F.get_activation("prelu")(x, slope)
    assert out.data == -0.5
    out.backward()
    assert (x.grad, slope.grad) == (0.25, -2.0)
    assert F.prelu(3.0, slope).data == 3.0


@settings(max_examples=40, deadline=None)
@given(floats(-6, 6))
def test_smooth_activations_gradcheck(x):
    for fn in (F.sigmoid, F.tanh, F.linear):
        assert gradcheck(fn, x)
    assume(abs(x) > 1e-3)  # away from the kink of relu and friends
    for fn in (F.relu, F.leaky_relu, F.step):
        assert gradcheck(fn, x)


def test_step_passes_no_gradient():
    x = mg.Value(0.5)
    F.step(x).backward()
    assert x.grad == 0.0


def test_unknown_activation_names_it_and_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown activation 'gelu'") as info:
        F.get_activation("gelu")
    for name in ("relu", "leaky_relu", "prelu", "sigmoid", "tanh", "step", "linear"):
        assert name in str(info.value)
    with pytest.raises(TypeError, match="must be a str, got int"):
        F.get_activation(3)
    with pytest.raises(TypeError, match="relu: expected a Value or a real number, got str"):
        F.relu("1.0")


# ---- softmax and log-softmax ----------------------------------------------------------------


def test_softmax_classic_example():
    probs = datas(F.softmax([34, 32, 25]))
    assert [round(p, 4) for p in probs] == [0.8807, 0.1192, 0.0001]
    denominator = 1 + math.exp(-2) + math.exp(-9)
    assert probs == pytest.approx([1 / denominator, math.exp(-2) / denominator, math.exp(-9) / denominator],
                                  rel=1e-12)


def test_softmax_and_log_softmax_at_logits_of_1000():
    # the logits are shifted by the largest before exp, so 1000 loses nothing; rel=1e-12 allows for exp and log
    assert datas(F.softmax([1000.0, 1000.0, 0.0])) == pytest.approx([0.5, 0.5, 0.0], rel=1e-12, abs=1e-300)
    assert datas(F.softmax([-1000.0, -1001.0])) == pytest.approx([1 / (1 + math.exp(-1)), 1 / (1 + math.e)])
    assert datas(F.log_softmax([1000.0, 0.0])) == [0.0, -1000.0]
    logits = [mg.Value(1000.0), mg.Value(0.0)]
    loss = F.cross_entropy(logits, 1)
    assert loss.data == 1000.0
    loss.backward()
    assert datas(logits) == [1000.0, 0.0] and [v.grad for v in logits] == [1.0, -1.0]


@settings(max_examples=50, deadline=None)
@given(st.lists(floats(-30, 30), min_size=1, max_size=5), floats(-100, 100))
def test_softmax_properties(xs, shift):
    probs = datas(F.softmax(xs))
    assert math.fsum(probs) == pytest.approx(1.0, abs=1e-12)
    assert probs == pytest.approx(naive_softmax(xs), rel=1e-9, abs=1e-300)
    # adding the same number to every logit changes nothing
    assert datas(F.softmax([x + shift for x in xs])) == pytest.approx(probs, rel=1e-9, abs=1e-300)
    for logp, p in zip(datas(F.log_softmax(xs)), probs):
        if p > 1e-300:  # below that the probability underflows and has no log
            assert logp == pytest.approx(math.log(p), abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.lists(floats(-4, 4), min_size=2, max_size=4), st.data())
def test_softmax_and_log_softmax_gradcheck(xs, data):
    i = data.draw(st.integers(0, len(xs) - 1))
    assert gradcheck(lambda *v: F.softmax(list(v))[i], *xs)
    assert gradcheck(lambda *v: F.log_softmax(list(v))[i], *xs)


def test_softmax_needs_logits():
    with pytest.raises(ValueError, match="log_softmax: needs at least one logit"):
        F.softmax([])
    assert datas(F.softmax(mg.Value(3.0))) == [1.0]


# ---- cross-entropy ----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(floats(-5, 5), min_size=2, max_size=4), st.data())
def test_cross_entropy_value_gradient_and_gradcheck(xs, data):
    t = data.draw(st.integers(0, len(xs) - 1))
    assert F.cross_entropy(xs, t).data == pytest.approx(-math.log(naive_softmax(xs)[t]), rel=1e-9, abs=1e-12)
    assert gradcheck(lambda *v: F.cross_entropy(list(v), t), *xs)
    # the gradient is softmax - one_hot(t)
    vs = [mg.Value(x) for x in xs]
    F.cross_entropy(vs, t).backward()
    expected = [p - (i == t) for i, p in enumerate(naive_softmax(xs))]
    assert [v.grad for v in vs] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("logit", [-1e12, -1e16, 1e16, -1e300, 0.0])
def test_equal_logits_of_any_size_give_log_n(logit):
    # the case: x - logsumexp(x) gave 1.38635 at -1e12 and 2.0 at -1e16 (it cancels two huge numbers)
    vs = [mg.Value(logit) for _ in range(4)]
    loss = F.cross_entropy(vs, 0)
    assert loss.data == pytest.approx(math.log(4), rel=0, abs=1e-12)
    loss.backward()
    assert [v.grad for v in vs] == pytest.approx([-0.75, 0.25, 0.25, 0.25], abs=1e-12)
    assert datas(F.log_softmax([logit] * 4)) == pytest.approx([-math.log(4)] * 4, rel=0, abs=1e-12)
    assert datas(F.softmax([logit] * 4)) == pytest.approx([0.25] * 4, rel=0, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-20, 20), min_size=2, max_size=5), st.integers(-2**12, 2**12), st.data())
def test_log_softmax_and_cross_entropy_ignore_a_huge_common_shift(ks, k, data):
    # x + c is exact in floats for small integers x and c a multiple of 2**40 (about 1e12),
    # so the shifted logits must give the same answers to the last few bits
    xs = [float(x) for x in ks]
    c = k * 2.0**40
    t = data.draw(st.integers(0, len(xs) - 1))
    assert F.cross_entropy([x + c for x in xs], t).data == pytest.approx(F.cross_entropy(xs, t).data,
                                                                         rel=1e-13, abs=1e-13)
    assert datas(F.log_softmax([x + c for x in xs])) == pytest.approx(datas(F.log_softmax(xs)), rel=1e-13, abs=1e-13)
    assert gradcheck(lambda *v: F.cross_entropy(list(v), t), *xs)
    assert gradcheck(lambda *v: F.log_softmax(list(v))[t] * v[0], *xs)


def test_cross_entropy_needs_a_logit_per_sample():
    with pytest.raises(ValueError, match="cross_entropy: needs at least one logit per sample"):
        F.cross_entropy([], 0)


def test_cross_entropy_batch_is_the_mean_over_samples():
    batch = [[1.0, 2.0, 0.5], [0.5, -0.5, 3.0]]
    singles = [F.cross_entropy(batch[0], 1).data, F.cross_entropy(batch[1], 0).data]
    assert F.cross_entropy(batch, [1, 0]).data == pytest.approx(sum(singles) / 2, rel=1e-15)
    assert gradcheck(lambda a, b, c, d: F.cross_entropy([[a, b], [c, d]], (0, 1)), 0.3, -0.2, 1.5, 0.1)


def test_cross_entropy_rejects_bad_targets():
    with pytest.raises(ValueError, match="target 2 is out of range for 2 classes"):
        F.cross_entropy([1.0, 2.0], 2)
    with pytest.raises(ValueError, match="target -1 is out of range"):
        F.cross_entropy([1.0, 2.0], -1)
    with pytest.raises(TypeError, match="class index \\(an int\\), got float 0.5"):
        F.cross_entropy([1.0, 2.0], 0.5)
    with pytest.raises(TypeError, match="got bool"):
        F.cross_entropy([1.0, 2.0], True)
    with pytest.raises(ValueError, match="2 samples but 1 targets"):
        F.cross_entropy([[1.0, 2.0], [0.0, 1.0]], [1])
    with pytest.raises(ValueError, match="needs at least one sample"):
        F.cross_entropy([], [])
    with pytest.raises(TypeError, match="logits must be a list of logit lists"):
        F.cross_entropy([1.0, 2.0], [0, 1])


# ---- regression losses ------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(floats(-5, 5), floats(-5, 5)), min_size=1, max_size=4))
def test_mse_and_mae_values_and_gradients(pairs):
    ps, ts = [p for p, _ in pairs], [t for _, t in pairs]
    assert F.mse(ps, ts).data == pytest.approx(sum((p - t) ** 2 for p, t in pairs) / len(pairs), rel=1e-12)
    assert F.mae(ps, ts).data == pytest.approx(sum(abs(p - t) for p, t in pairs) / len(pairs), rel=1e-12)
    assert gradcheck(lambda *v: F.mse(list(v), ts), *ps)
    if all(abs(p - t) > 1e-3 for p, t in pairs):
        assert gradcheck(lambda *v: F.mae(list(v), ts), *ps)


def test_mse_and_mae_take_single_values_and_check_lengths():
    p = mg.Value(3.0)
    loss = F.mse(p, 1.0)
    assert loss.data == 4.0
    loss.backward()
    assert p.grad == 4.0  # 2 (p - t)
    assert F.mae(mg.Value(-1.0), 2).data == 3.0
    with pytest.raises(ValueError, match="mse: got 2 predictions but 3 targets"):
        F.mse([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="mae: needs at least one prediction"):
        F.mae([], [])
    with pytest.raises(TypeError, match="mse: expected a Value or a real number, got NoneType"):
        F.mse([1.0], [None])


def test_mae_gradient_at_zero_error_is_zero_like_torch():
    p, q = mg.Value(2.0), mg.Value(5.0)
    F.mae([p, q], [2.0, 4.0]).backward()
    assert (p.grad, q.grad) == (0.0, 0.5)


# ---- binary cross-entropy with logits -----------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(floats(-30, 30), st.sampled_from([0.0, 1.0, 0.3]))
def test_bce_with_logits_matches_the_naive_formula_and_gradchecks(x, t):
    s = 1 / (1 + math.exp(-x))
    got = F.binary_cross_entropy_with_logits(x, t).data
    if abs(x) < 12:  # past that the naive formula itself loses its digits (1 - s rounds)
        assert got == pytest.approx(-(t * math.log(s) + (1 - t) * math.log(1 - s)), rel=1e-7, abs=1e-9)
    assert gradcheck(lambda v: F.binary_cross_entropy_with_logits(v, t), x)
    v = mg.Value(x)
    F.binary_cross_entropy_with_logits(v, t).backward()
    assert v.grad == pytest.approx(s - t, abs=1e-12)  # d/dx = sigmoid(x) - t


def test_bce_gradient_at_logit_zero_is_sigmoid_minus_target():
    # max(x,0) and |x| both have a kink at 0; the loss itself has none, so its slope there is 0.5 - t
    for t in (0.0, 1.0, 0.25):
        x = mg.Value(0.0)
        loss = F.binary_cross_entropy_with_logits(x, t)
        assert loss.data == pytest.approx(math.log(2), rel=1e-15)
        loss.backward()
        assert x.grad == 0.5 - t


def test_bce_batch_and_huge_logits():
    assert F.binary_cross_entropy_with_logits(1000.0, 0.0).data == 1000.0
    assert F.binary_cross_entropy_with_logits(-1000.0, 0.0).data == 0.0
    batch = F.binary_cross_entropy_with_logits([2.0, -1.0], [1.0, 1.0]).data
    assert batch == pytest.approx((math.log1p(math.exp(-2)) + math.log1p(math.e)) / 2, rel=1e-14)
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits([a, b], [0.0, 1.0]), 0.7, -2.0)


def test_bce_rejects_sign_labels():
    with pytest.raises(ValueError, match="targets must be in \\[0, 1\\].*got -1.0.*hinge"):
        F.binary_cross_entropy_with_logits([0.5, 0.2], [1, -1])


# ---- hinge ----------------------------------------------------------------------------------


def test_hinge_is_micrograds_max_margin_loss():
    scores = [mg.Value(2.0), mg.Value(0.5), mg.Value(-1.0), mg.Value(-3.0)]
    loss = F.hinge(scores, [1, 1, 1, -1])
    assert loss.data == (0 + 0.5 + 2.0 + 0) / 4
    loss.backward()
    # only the samples inside the margin push back: -y / n
    assert [s.grad for s in scores] == [0.0, -0.25, -0.25, 0.0]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(floats(-3, 3), st.sampled_from([-1, 1])), min_size=1, max_size=4))
def test_hinge_gradcheck_and_value(pairs):
    assume(all(abs(1 - y * s) > 1e-3 for s, y in pairs))
    ss, ys = [s for s, _ in pairs], [y for _, y in pairs]
    assert F.hinge(ss, ys).data == pytest.approx(sum(max(0.0, 1 - y * s) for s, y in pairs) / len(pairs))
    assert gradcheck(lambda *v: F.hinge(list(v), ys), *ss)


def test_hinge_checks_targets_and_lengths():
    with pytest.raises(ValueError, match="targets must be -1 or \\+1, got 0.0"):
        F.hinge([1.0], [0])
    with pytest.raises(ValueError, match="hinge: got 2 predictions but 1 targets"):
        F.hinge([1.0, 2.0], [1])


# ---- L2 penalty ----------------------------------------------------------------------------


def test_l2_penalty_value_gradient_and_single_node():
    ps = [mg.Value(1.0), mg.Value(-2.0), mg.Value(3.0)]
    pen = F.l2_penalty(ps, 0.5)
    assert pen.data == 7.0  # 0.5 * (1 + 4 + 9)
    pen.backward()
    assert [p.grad for p in ps] == [1.0, -2.0, 3.0]  # 2 * alpha * p
    # the sum of squares is one node, however many parameters
    many = [mg.Value(0.1 * i) for i in range(1000)]
    assert len(mg.topological_order(F.l2(many, 1e-3))) == 1000 + 3  # leaves, dot, alpha, product
    assert F.l2 is F.l2_penalty
    assert gradcheck(lambda a, b: F.l2_penalty([a, b], 0.1), 0.3, -1.7)
    with pytest.raises(ValueError, match="alpha must be a number >= 0, got -1"):
        F.l2_penalty(ps, -1)


# ---- PyTorch, when it is installed --------------------------------------------------------


def _torch_loss_and_grad(torch, fn, inputs, *args):
    x = torch.tensor(inputs, dtype=torch.float64, requires_grad=True)
    loss = fn(x, *args)
    loss.backward()
    return loss.item(), x.grad.flatten().tolist()


def _our_loss_and_grad(fn, inputs, *args):
    if isinstance(inputs[0], list):
        vs = [[mg.Value(x) for x in row] for row in inputs]
        flat = [v for row in vs for v in row]
    else:
        vs = flat = [mg.Value(x) for x in inputs]
    loss = fn(vs, *args)
    loss.backward()
    return loss.data, [v.grad for v in flat]


def _torch_cases(torch):
    tF = torch.nn.functional
    f64 = torch.float64
    logits = [[0.3, -1.2, 2.5], [1000.0, 0.0, -3.0], [0.0, 0.0, 0.0], [-2.0, 5.0, 4.9]]
    classes = [2, 1, 0, 1]
    huge = [[-1e12] * 4, [-1e16] * 4, [1e15, 1e15 + 2.0, 1e15 - 4.0, 1e15 + 0.5], [-1e12, -1e12 - 1.0, -3e12, -1e12]]
    preds = [0.5, -1.5, 2.0, 0.0, 40.0, -40.0]
    targets = [1.0, 0.0, 1.0, 0.25, 0.0, 1.0]
    signs = [1.0, -1.0, 1.0, -1.0, 1.0, -1.0]
    cases = [
        ("cross_entropy one", F.cross_entropy, lambda x: tF.cross_entropy(x[None], torch.tensor([2])),
         logits[0], (2,)),
        ("cross_entropy batch", F.cross_entropy, lambda x: tF.cross_entropy(x, torch.tensor(classes)),
         logits, (classes,)),
        ("mse", F.mse, lambda x: tF.mse_loss(x, torch.tensor(targets, dtype=f64)), preds, (targets,)),
        ("mae", F.mae, lambda x: tF.l1_loss(x, torch.tensor(preds[:3] + targets[3:], dtype=f64)),
         preds, (preds[:3] + targets[3:],)),
        ("bce", F.binary_cross_entropy_with_logits,
         lambda x: tF.binary_cross_entropy_with_logits(x, torch.tensor(targets, dtype=f64)), preds, (targets,)),
        ("hinge", F.hinge, lambda x: torch.relu(1 - torch.tensor(signs, dtype=f64) * x).mean(), preds, (signs,)),
        ("l2", F.l2_penalty, lambda x: 0.01 * (x * x).sum(), preds, (0.01,)),
        ("log_softmax", lambda v: mg.sum([w * lp for w, lp in zip((0.2, -1.0, 3.0), F.log_softmax(v))]),
         lambda x: (torch.tensor([0.2, -1.0, 3.0], dtype=f64) * torch.log_softmax(x, 0)).sum(), logits[3], ()),
        ("cross_entropy huge logits", F.cross_entropy, lambda x: tF.cross_entropy(x, torch.tensor([0, 3, 1, 2])),
         huge, ([0, 3, 1, 2],)),
        ("log_softmax huge logits",
         lambda v: mg.sum([w * lp for w, lp in zip((0.2, -1.0, 3.0, 0.5), F.log_softmax(v))]),
         lambda x: (torch.tensor([0.2, -1.0, 3.0, 0.5], dtype=f64) * torch.log_softmax(x, 0)).sum(), huge[2], ()),
        ("softmax", lambda v: mg.sum([w * p for w, p in zip((0.2, -1.0, 3.0), F.softmax(v))]),
         lambda x: (torch.tensor([0.2, -1.0, 3.0], dtype=f64) * torch.softmax(x, 0)).sum(), logits[0], ()),
    ]
    return {case[0]: case[1:] for case in cases}


TORCH_CASES = ["cross_entropy one", "cross_entropy batch", "mse", "mae", "bce", "hinge", "l2", "log_softmax", "softmax",
               "cross_entropy huge logits", "log_softmax huge logits"]


@pytest.mark.parametrize("name", TORCH_CASES)
def test_losses_and_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    cases = _torch_cases(torch)
    assert sorted(cases) == sorted(TORCH_CASES)
    ours, theirs, inputs, args = cases[name]
    ref_loss, ref_grad = _torch_loss_and_grad(torch, theirs, inputs)
    loss, grad = _our_loss_and_grad(ours, inputs, *args)
    assert loss == pytest.approx(ref_loss, rel=1e-12, abs=1e-9), name
    assert grad == pytest.approx(ref_grad, rel=1e-12, abs=1e-9), name


# ---- argument bounds and defaults that nothing pinned before ----


@pytest.mark.parametrize("bad", [2.0, 1.0000001, -0.5, -1e-9, math.nan])
def test_bce_with_logits_refuses_a_target_outside_zero_to_one_and_names_it(bad):
    with pytest.raises(ValueError, match=rf"binary_cross_entropy_with_logits: targets must be in \[0, 1\] "
                                         rf"\(labels 0/1\), got {re.escape(repr(bad))}; for -1/\+1 labels use hinge"):
        F.binary_cross_entropy_with_logits([0.3, 0.1], [0.0, bad])


@pytest.mark.parametrize("t", [0.0, 0.25, 1.0, 0, 1])
def test_bce_with_logits_takes_targets_at_and_between_the_ends(t):
    x = 0.8
    wanted = -(t * math.log(1 / (1 + math.exp(-x))) + (1 - t) * math.log(1 - 1 / (1 + math.exp(-x))))
    assert F.binary_cross_entropy_with_logits(x, t).data == pytest.approx(wanted, rel=1e-12)


def test_l2_penalty_default_strength_is_one_in_ten_thousand():
    ps = [mg.Value(3.0), mg.Value(-4.0)]
    loss = F.l2_penalty(ps)
    assert loss.data == pytest.approx(1e-4 * 25.0, rel=1e-15)
    loss.backward()
    assert [p.grad for p in ps] == pytest.approx([2e-4 * 3.0, 2e-4 * -4.0], rel=1e-15)
    assert F.l2 is F.l2_penalty
    assert F.l2_penalty(ps, alpha=0).data == 0.0
    assert F.l2_penalty(ps, alpha=2).data == 50.0


@pytest.mark.parametrize("alpha", [-1e-4, math.nan, True, "0.1"])
def test_l2_penalty_refuses_a_strength_that_is_not_a_number_at_least_zero(alpha):
    with pytest.raises(ValueError, match=rf"l2_penalty: alpha must be a number >= 0, got {re.escape(repr(alpha))}"):
        F.l2_penalty([mg.Value(1.0)], alpha=alpha)


# ---- messages and names that mutation testing found unpinned (issue 14) ----


@pytest.mark.parametrize("name, call", [
    ("relu", lambda bad: F.relu(bad)), ("leaky_relu", lambda bad: F.leaky_relu(bad)),
    ("prelu", lambda bad: F.prelu(bad, 0.25)), ("prelu", lambda bad: F.prelu(1.0, bad)),
    ("sigmoid", lambda bad: F.sigmoid(bad)), ("tanh", lambda bad: F.tanh(bad)), ("step", lambda bad: F.step(bad)),
    ("linear", lambda bad: F.linear(bad)), ("l2_penalty", lambda bad: F.l2_penalty([mg.Value(1.0), bad])),
])
def test_a_bad_argument_is_named_by_the_function_it_was_given_to(name, call):
    with pytest.raises(TypeError, match=rf"^{name}: expected a Value or a real number, got str 'x'$"):
        call("x")


def test_l2_penalty_wants_parameters_as_an_iterable_and_says_so():
    with pytest.raises(TypeError, match=r"^l2_penalty: expected a Value, a number or a list of them, got NoneType$"):
        F.l2_penalty(None)
    assert F.l2_penalty(mg.Value(2.0), 1.0).data == 4.0  # a lone Value is a list of one


def test_an_unknown_activation_lists_every_valid_name_comma_separated():
    with pytest.raises(ValueError) as info:
        F.get_activation("gelu")
    assert str(info.value) == ("unknown activation 'gelu'; valid names are: "
                               "relu, leaky_relu, prelu, sigmoid, tanh, step, linear, identity")


def test_cross_entropy_errors_say_which_argument_and_what_is_valid():
    with pytest.raises(ValueError, match=r"^cross_entropy: target 3 is out of range for 3 classes "
                                         r"\(valid indices are 0 to 2\)$"):
        F.cross_entropy([1.0, 2.0, 3.0], 3)
    with pytest.raises(TypeError, match=r"^cross_entropy: expected a Value or a real number, got str 'a'$"):
        F.cross_entropy(["a", 1.0], 0)
    with pytest.raises(TypeError, match=r"^cross_entropy: expected a Value or a real number, got str 'a'$"):
        F.cross_entropy([[1.0, 2.0], ["a", 1.0]], [0, 1])
    for logits, target in ((None, 0), (None, [0]), ([[1.0, 2.0]], "1")):
        with pytest.raises(TypeError, match=r"^cross_entropy: expected a Value, a number or a list of them, got "):
            F.cross_entropy(logits, target)
    with pytest.raises(ValueError, match=r"^cross_entropy: needs at least one logit per sample$"):
        F.cross_entropy([[1.0], []], [0, 0])
    with pytest.raises(ValueError, match=r"^cross_entropy: needs at least one sample$"):
        F.cross_entropy([], [])
    with pytest.raises(TypeError, match=r"^cross_entropy: with a list of targets, logits must be a list of logit "
                                        r"lists \(one per sample\)$"):
        F.cross_entropy([1.0, 2.0], [0, 1])


def test_bce_with_logits_names_itself_for_a_bad_logit_or_length():
    fn = "binary_cross_entropy_with_logits"
    with pytest.raises(TypeError, match=rf"^{fn}: expected a Value or a real number, got str 'a'$"):
        F.binary_cross_entropy_with_logits(["a"], [1.0])
    with pytest.raises(ValueError, match=rf"^{fn}: got 1 predictions but 2 targets; they must match$"):
        F.binary_cross_entropy_with_logits([0.5], [1.0, 0.0])


def test_log_softmax_and_softmax_name_themselves_in_errors():
    with pytest.raises(TypeError, match=r"^log_softmax: expected a Value or a real number, got str 'a'$"):
        F.log_softmax(["a", 1.0])
    with pytest.raises(TypeError, match=r"^log_softmax: expected a Value, a number or a list of them, got NoneType$"):
        F.softmax(None)
    with pytest.raises(ValueError, match=r"^log_softmax: needs at least one logit$"):
        F.log_softmax([])


def test_an_infinite_largest_logit_is_not_shifted_and_takes_all_the_mass_from_finite_ones():
    # no finite shift exists, so the logits stay as they are (the docstring's promise): e**0 / inf is 0
    assert datas(F.softmax([math.inf, 0.0]))[1] == 0.0
    assert datas(F.log_softmax([math.inf, -math.inf]))[1] == -math.inf


def test_losses_name_themselves_when_the_predictions_are_not_a_list():
    for fn in ("mse", "mae", "hinge", "binary_cross_entropy_with_logits"):
        with pytest.raises(TypeError, match=rf"^{fn}: expected a Value, a number or a list of them, got NoneType$"):
            getattr(F, fn)(None, [1.0])
        with pytest.raises(TypeError, match=rf"^{fn}: expected a Value, a number or a list of them, got str$"):
            getattr(F, fn)([1.0], "1")


def test_losses_name_themselves_for_a_bad_prediction_or_target():
    for fn in ("mse", "mae", "hinge"):
        for preds, targets in ((["a"], [1.0]), ([1.0], ["a"])):
            with pytest.raises(TypeError, match=rf"^{fn}: expected a Value or a real number, got str 'a'$"):
                getattr(F, fn)(preds, targets)
