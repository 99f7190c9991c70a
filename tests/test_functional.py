"""Activations, softmax and losses: values, stability, errors, and gradients against finite differences."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd_like as mg
from micrograd_like import functional as F
from micrograd_like.testing import gradcheck
from micrograd_like.testing.strategies import floats


def test_softmax_classic_example():
    probs = [p.data for p in F.softmax([34, 32, 25])]
    assert [round(p, 4) for p in probs] == [0.8807, 0.1192, 0.0001]
    denominator = 1 + math.exp(-2) + math.exp(-9)
    assert probs == pytest.approx([1 / denominator, math.exp(-2) / denominator, math.exp(-9) / denominator], rel=1e-12)
    assert sum(probs) == pytest.approx(1.0)


def test_softmax_and_log_softmax_at_logits_of_1000():
    probs = [p.data for p in F.softmax([1000.0, 1000.0, 0.0])]
    assert probs == pytest.approx([0.5, 0.5, 0.0])
    logp = [v.data for v in F.log_softmax([1000.0, 0.0])]
    assert logp == pytest.approx([0.0, -1000.0])
    assert F.cross_entropy([1000.0, 0.0], 1).data == pytest.approx(1000.0)


@settings(max_examples=50, deadline=None)
@given(st.lists(floats(-30, 30), min_size=1, max_size=5))
def test_log_softmax_is_log_of_softmax(xs):
    for a, b in zip(F.log_softmax(xs), F.softmax(xs)):
        if b.data > 1e-300:  # below that, softmax underflows and log is not defined
            assert a.data == pytest.approx(math.log(b.data), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(floats(-5, 5), min_size=2, max_size=4), st.data())
def test_cross_entropy_gradcheck_and_value(xs, data):
    t = data.draw(st.integers(0, len(xs) - 1))
    assert gradcheck(lambda *v: F.cross_entropy(list(v), t), *xs)
    expected = -math.log(math.exp(xs[t]) / sum(math.exp(x) for x in xs))
    assert F.cross_entropy(xs, t).data == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_cross_entropy_batch_is_the_mean_and_checks_targets():
    batch = [[1.0, 2.0], [0.5, -0.5]]
    mean = F.cross_entropy(batch, [1, 0]).data
    assert mean == pytest.approx((F.cross_entropy(batch[0], 1).data + F.cross_entropy(batch[1], 0).data) / 2)
    with pytest.raises(ValueError, match="target 2 is out of range for 2 classes"):
        F.cross_entropy([1.0, 2.0], 2)
    with pytest.raises(TypeError, match="class index"):
        F.cross_entropy([1.0, 2.0], 0.5)
    with pytest.raises(ValueError, match="2 samples but 1 targets"):
        F.cross_entropy(batch, [1])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(floats(-5, 5), floats(-5, 5)), min_size=1, max_size=4))
def test_mse_and_mae_values_and_grads(pairs):
    ps, ts = [p for p, _ in pairs], [t for _, t in pairs]
    assert F.mse(ps, ts).data == pytest.approx(sum((p - t) ** 2 for p, t in pairs) / len(pairs))
    assert F.mae(ps, ts).data == pytest.approx(sum(abs(p - t) for p, t in pairs) / len(pairs))
    assert gradcheck(lambda *v: F.mse(list(v), ts), *ps)
    if all(abs(p - t) > 1e-3 for p, t in pairs):
        assert gradcheck(lambda *v: F.mae(list(v), ts), *ps)


def test_mae_gradient_at_zero_error_is_zero_like_torch():
    p = mg.Value(2.0)
    F.mae([p], [2.0]).backward()
    assert p.grad == 0.0


@settings(max_examples=40, deadline=None)
@given(floats(-30, 30), st.sampled_from([0.0, 1.0, 0.3]))
def test_bce_with_logits_matches_the_naive_formula_and_gradchecks(x, t):
    s = 1 / (1 + math.exp(-x))
    # the naive formula itself loses digits once s is within 1e-6 of 0 or 1
    naive = -(t * math.log(s) + (1 - t) * math.log(1 - s)) if abs(x) < 12 else None
    got = F.binary_cross_entropy_with_logits(x, t).data
    if naive is not None:
        assert got == pytest.approx(naive, rel=1e-7, abs=1e-9)
    if abs(x) > 1e-3:
        assert gradcheck(lambda v: F.binary_cross_entropy_with_logits(v, t), x)


def test_bce_with_huge_logits_is_finite():
    assert F.binary_cross_entropy_with_logits(1000.0, 0.0).data == pytest.approx(1000.0)
    assert F.binary_cross_entropy_with_logits(-1000.0, 0.0).data == 0.0


def test_hinge_is_micrograds_max_margin_loss():
    loss = F.hinge([2.0, 0.5, -1.0], [1, 1, 1])
    assert loss.data == pytest.approx((0 + 0.5 + 2.0) / 3)
    with pytest.raises(ValueError, match="targets must be -1 or \\+1, got 0"):
        F.hinge([1.0], [0])
    with pytest.raises(ValueError, match="2 predictions but 1 targets"):
        F.hinge([1.0, 2.0], [1])


def test_l2_penalty_is_one_node():
    ps = [mg.Value(1.0), mg.Value(-2.0), mg.Value(3.0)]
    pen = F.l2_penalty(ps, 0.5)
    assert pen.data == 7.0
    pen.backward()
    assert [p.grad for p in ps] == [1.0, -2.0, 3.0]


def test_activation_lookup():
    assert F.get_activation("tanh")(mg.Value(0.5)).data == pytest.approx(math.tanh(0.5))
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        F.get_activation("gelu")
    assert F.linear(2.0).data == 2.0 and F.step(0.1).data == 1.0
    assert F.leaky_relu(-1.0, 0.1).data == pytest.approx(-0.1)
    assert F.prelu(-2.0, mg.Value(0.5)).data == -1.0


class TestAgainstPyTorch:
    """Optional: exact agreement with PyTorch where it is installed."""

    def test_losses_and_grads_match_torch(self):
        torch = pytest.importorskip("torch")
        tF = torch.nn.functional
        logits = [0.3, -1.2, 2.5]
        t = torch.tensor([logits], dtype=torch.float64, requires_grad=True)
        ref = tF.cross_entropy(t, torch.tensor([2]))
        ref.backward()
        vs = [mg.Value(x) for x in logits]
        ours = F.cross_entropy(vs, 2)
        ours.backward()
        assert ours.data == pytest.approx(ref.item(), abs=1e-9)
        assert [v.grad for v in vs] == pytest.approx(t.grad[0].tolist(), abs=1e-9)

        preds, targets = [0.5, -1.5, 2.0], [1.0, 0.0, 1.0]
        for name, tfn in (("mse", tF.mse_loss), ("mae", tF.l1_loss),
                          ("binary_cross_entropy_with_logits", tF.binary_cross_entropy_with_logits)):
            p = torch.tensor(preds, dtype=torch.float64, requires_grad=True)
            ref = tfn(p, torch.tensor(targets, dtype=torch.float64))
            ref.backward()
            vs = [mg.Value(x) for x in preds]
            ours = getattr(F, name)(vs, targets)
            ours.backward()
            assert ours.data == pytest.approx(ref.item(), abs=1e-9), name
            assert [v.grad for v in vs] == pytest.approx(p.grad.tolist(), abs=1e-9), name

        p = torch.tensor(logits, dtype=torch.float64)
        assert [v.data for v in F.softmax(logits)] == pytest.approx(torch.softmax(p, 0).tolist(), abs=1e-12)
        assert [v.data for v in F.log_softmax(logits)] == pytest.approx(torch.log_softmax(p, 0).tolist(), abs=1e-12)
