"""Optimizers follow PyTorch's formulas and defaults, step by step."""

import math

import pytest

import micrograd_like as mg
from micrograd_like.optim import SGD, Adam, RMSprop

GRADS = [0.5, -1.5, 0.25, 2.0]  # the gradient fed at each step, same for every parameter


def run(opt_cls, start, **kw):
    p = mg.Value(start)
    opt = opt_cls([p], **kw)
    trace = []
    for g in GRADS:
        opt.zero_grad()
        assert p.grad == 0.0
        p.grad = g
        opt.step()
        trace.append(p.data)
    return trace


def test_sgd_plain_and_with_momentum_by_hand():
    assert run(SGD, 1.0, lr=0.1) == pytest.approx([0.95, 1.1, 1.075, 0.875])
    b, p, expected = None, 1.0, []
    for g in GRADS:
        b = g if b is None else 0.9 * b + g
        p -= 0.1 * b
        expected.append(p)
    assert run(SGD, 1.0, lr=0.1, momentum=0.9) == pytest.approx(expected, abs=1e-15)


def test_rmsprop_by_hand_with_torch_defaults():
    v, p, expected = 0.0, 1.0, []
    for g in GRADS:
        v = 0.99 * v + 0.01 * g * g
        p -= 0.01 * g / (math.sqrt(v) + 1e-8)
        expected.append(p)
    assert run(RMSprop, 1.0) == pytest.approx(expected, abs=1e-15)


def test_adam_by_hand_with_torch_defaults():
    m = v = 0.0
    p, expected = 1.0, []
    for t, g in enumerate(GRADS, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p -= 0.001 * (m / (1 - 0.9**t)) / (math.sqrt(v / (1 - 0.999**t)) + 1e-8)
        expected.append(p)
    assert run(Adam, 1.0) == pytest.approx(expected, abs=1e-12)
    # the first Adam step moves every parameter by about lr, whatever the gradient's size
    assert run(Adam, 1.0, lr=0.1)[0] == pytest.approx(0.9, abs=1e-6)


def test_optimizers_accept_generators_and_reject_bad_arguments():
    params = (mg.Value(float(i)) for i in range(3))
    assert len(SGD(params, lr=0.1).params) == 3
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam([])
    with pytest.raises(ValueError, match="lr must be a finite number >= 0, got -0.1"):
        SGD([mg.Value(1.0)], lr=-0.1)
    with pytest.raises(ValueError, match="betas\\[1\\] must be < 1.0"):
        Adam([mg.Value(1.0)], betas=(0.9, 1.0))
    with pytest.raises(TypeError, match="parameters must be Values, got float"):
        SGD([1.0], lr=0.1)


def test_sgd_minimises_a_quadratic():
    x = mg.Value(5.0)
    opt = SGD([x], lr=0.1, momentum=0.5)
    for _ in range(100):
        opt.zero_grad()
        ((x - 2) ** 2).backward()
        opt.step()
    assert x.data == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize("name, kw", [("SGD", {"lr": 0.1, "momentum": 0.9}), ("RMSprop", {}), ("Adam", {"lr": 0.01})])
def test_trajectories_match_torch_optim(name, kw):
    torch = pytest.importorskip("torch")
    start = [1.0, -0.5, 2.0]
    tp = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    topt = getattr(torch.optim, name)([tp], **kw)
    ours = [mg.Value(x) for x in start]
    oopt = {"SGD": SGD, "RMSprop": RMSprop, "Adam": Adam}[name](ours, **kw)
    for _ in range(6):
        topt.zero_grad()
        (tp**3 - tp).sum().backward()
        topt.step()
        oopt.zero_grad()
        mg.sum([p**3 - p for p in ours]).backward()
        oopt.step()
        assert [p.data for p in ours] == pytest.approx(tp.tolist(), abs=1e-8)
