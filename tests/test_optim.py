"""Optimizers follow PyTorch's formulas and defaults, step by step, and reject bad settings with a message."""

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd_like as mg
from micrograd_like.nn import MLP
from micrograd_like.optim import SGD, Adam, Optimizer, RMSprop
from micrograd_like.testing.strategies import floats

GRADS = [0.5, -1.5, 0.25, 2.0]  # the gradient fed to the parameter at each step


def trajectory(opt_cls, start, grads=GRADS, **kw):
    """Feed ``grads`` one per step to a single parameter and record where it goes."""
    p = mg.Value(start)
    opt = opt_cls([p], **kw)
    path = []
    for g in grads:
        opt.zero_grad()
        assert p.grad == 0.0
        p.grad = g
        opt.step()
        path.append(p.data)
    return path


# ---- the update rules, computed by hand ---------------------------------------------------


def test_sgd_plain_by_hand():
    # 1 - 0.1*0.5 = 0.95, then + 0.15, - 0.025, - 0.2
    assert trajectory(SGD, 1.0, lr=0.1) == pytest.approx([0.95, 1.1, 1.075, 0.875], abs=1e-15)


@settings(max_examples=30, deadline=None)
@given(floats(-3, 3), st.lists(floats(-5, 5), min_size=1, max_size=6), floats(0, 0.99), floats(0, 0.5))
def test_sgd_momentum_and_weight_decay_by_hand(start, grads, momentum, weight_decay):
    buf, p, expected = None, start, []
    for g in grads:
        g = g + weight_decay * p
        buf = g if buf is None else momentum * buf + g  # the first step copies the gradient
        p -= 0.1 * buf
        expected.append(p)
    got = trajectory(SGD, start, grads, lr=0.1, momentum=momentum, weight_decay=weight_decay)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_rmsprop_by_hand_with_torch_defaults():
    v, p, expected = 0.0, 1.0, []
    for g in GRADS:
        v = 0.99 * v + 0.01 * g * g
        p -= 0.01 * g / (math.sqrt(v) + 1e-8)
        expected.append(p)
    assert trajectory(RMSprop, 1.0) == pytest.approx(expected, abs=1e-14)
    # the first step divides g by sqrt(0.01 g**2) = 0.1 |g|: a step of lr * 10 whatever g is
    assert trajectory(RMSprop, 1.0, [123.0], lr=0.01)[0] == pytest.approx(0.9, abs=1e-9)


def test_adam_by_hand_with_torch_defaults():
    m = v = 0.0
    p, expected = 1.0, []
    for t, g in enumerate(GRADS, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.999**t)
        p -= 0.001 * m_hat / (math.sqrt(v_hat) + 1e-8)
        expected.append(p)
    assert trajectory(Adam, 1.0) == pytest.approx(expected, abs=1e-14)


@pytest.mark.parametrize("g", [1e-3, -0.7, 250.0])
def test_adam_first_step_moves_by_lr_whatever_the_gradient(g):
    # bias correction: m^ = g and v^ = g**2 after one step, so the step is lr * g / |g|
    assert trajectory(Adam, 1.0, [g], lr=0.1)[0] == pytest.approx(1.0 - math.copysign(0.1, g), abs=1e-5)


def test_weight_decay_acts_like_an_l2_term_in_the_gradient():
    p = mg.Value(2.0)
    opt = SGD([p], lr=0.1, weight_decay=0.5)
    opt.zero_grad()
    opt.step()  # no gradient at all: only the decay pulls towards 0
    assert p.data == pytest.approx(2.0 - 0.1 * 0.5 * 2.0, abs=1e-15)
    # the same step as from the loss 0.25 * p**2 (d/dp = 0.5 p) with no decay
    q = mg.Value(2.0)
    plain = SGD([q], lr=0.1)
    (0.25 * q**2).backward()
    plain.step()
    assert q.data == p.data


# ---- the optimizers minimise things ------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.1, momentum=0.5),
    lambda ps: RMSprop(ps, lr=0.03),
    lambda ps: Adam(ps, lr=0.05),
])
def test_optimizers_minimise_a_quadratic_bowl(make):
    x, y = mg.Value(5.0), mg.Value(-3.0)
    opt = make([x, y])
    for _ in range(400):
        opt.zero_grad()
        ((x - 2) ** 2 + 3 * (y + 1) ** 2).backward()
        opt.step()
    assert (x.data, y.data) == pytest.approx((2.0, -1.0), abs=1e-3)
    assert opt.steps == 400


def test_adam_trains_a_small_mlp_to_fit_points():
    model = MLP(1, [8, 1], seed=1)
    opt = Adam(model.parameters(), lr=0.05)
    xs = [[-1.0], [-0.5], [0.0], [0.5], [1.0]]
    ys = [1.0, 0.25, 0.0, 0.25, 1.0]  # x**2

    def loss():
        return mg.sum([(model(x) - y) ** 2 for x, y in zip(xs, ys)]) / len(xs)

    first = loss().data
    for _ in range(150):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert loss().data < 0.02 < first


# ---- arguments -----------------------------------------------------------------------------


def test_parameters_can_come_from_a_generator():
    model = MLP(2, [3, 1], seed=0)
    opt = SGD(p for p in model.parameters())
    assert opt.params == model.parameters() and len(opt.params) == 13


def test_defaults_are_pytorchs():
    p = [mg.Value(1.0)]
    assert SGD(p).lr == 0.001 and SGD(p).momentum == 0.0
    rms = RMSprop(p)
    assert (rms.lr, rms.alpha, rms.eps) == (0.01, 0.99, 1e-8)
    adam = Adam(p)
    assert (adam.lr, adam.betas, adam.eps, adam.weight_decay) == (0.001, (0.9, 0.999), 1e-8, 0.0)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: Adam([]), ValueError, "Adam: got an empty parameter list"),
        (lambda: SGD(mg.Value(1.0), lr=0.1), TypeError, "iterable of Values .*single Value"),
        (lambda: SGD(3, lr=0.1), TypeError, "iterable of Values, got int"),
        (lambda: SGD([1.0], lr=0.1), TypeError, "parameters must be Values, got float at position 0"),
        (lambda: SGD([mg.Value(1.0, "w")] * 2, lr=0.1), ValueError, "parameter 'w' appears more than once"),
        (lambda: SGD([mg.Value(1.0)], lr=-0.1), ValueError, "SGD: lr must be a finite number >= 0, got -0.1"),
        (lambda: SGD([mg.Value(1.0)], lr=float("nan")), ValueError, "lr must be a finite number"),
        (lambda: SGD([mg.Value(1.0)], lr="0.1"), TypeError, "lr must be a number, got str"),
        (lambda: SGD([mg.Value(1.0)], momentum=-0.9), ValueError, "momentum must be a finite number >= 0"),
        (lambda: SGD([mg.Value(1.0)], weight_decay=-1), ValueError, "weight_decay must be a finite number >= 0"),
        (lambda: RMSprop([mg.Value(1.0)], alpha=1.5), ValueError, "RMSprop: alpha must be <= 1, got 1.5"),
        (lambda: RMSprop([mg.Value(1.0)], eps=-1e-8), ValueError, "RMSprop: eps must be a finite number > 0"),
        (lambda: RMSprop([mg.Value(1.0)], eps=0), ValueError, "RMSprop: eps must be a finite number > 0, got 0"),
        (lambda: Adam([mg.Value(1.0)], eps=0.0), ValueError, "Adam: eps must be a finite number > 0, got 0.0"),
        (lambda: SGD([mg.Value(1.0)], lr=10**400), ValueError,
         "SGD: lr must be a finite number, got an int of 401 digits, too large for a float"),
        (lambda: Adam([mg.Value(1.0)], lr=-10**400), ValueError, "Adam: lr must be a finite number, .*too large"),
        (lambda: SGD([mg.Value(1.0)], lr=10**5000), ValueError,  # too long even for str()
         "SGD: lr must be a finite number, got an int of about 5001 digits, too large for a float"),
        (lambda: SGD([mg.Value(1.0)], momentum=10**309), ValueError, "SGD: momentum must be a finite number"),
        (lambda: Adam([mg.Value(1.0)], betas=(0.9, 1.0)), ValueError, "Adam: betas\\[1\\] must be < 1.0"),
        (lambda: Adam([mg.Value(1.0)], betas=0.9), ValueError, "betas must be a pair"),
    ],
)
def test_bad_arguments_raise_with_a_message(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_zero_grad_clears_every_parameter_and_repr_shows_settings():
    ps = [mg.Value(1.0), mg.Value(2.0)]
    opt = Adam(ps, lr=0.01)
    (ps[0] * ps[1]).backward()
    assert [p.grad for p in ps] == [2.0, 1.0]
    opt.zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]
    assert repr(opt) == "Adam(lr=0.01, betas=(0.9, 0.999), eps=1e-08, 2 parameters)"
    assert repr(SGD(ps, lr=0.1, momentum=0.9)) == "SGD(lr=0.1, momentum=0.9, 2 parameters)"
    with pytest.raises(NotImplementedError, match="Optimizer must implement step"):
        Optimizer(ps, lr=0.1).step()


# ---- grads that are None or not numbers ----------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.1),
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda ps: RMSprop(ps, lr=0.1, weight_decay=0.1),
    lambda ps: Adam(ps, lr=0.1, weight_decay=0.1),
])
def test_a_parameter_whose_grad_is_none_is_skipped_like_torch(make):
    used, unused = mg.Value(1.0), mg.Value(2.0)
    opt = make([unused, used])
    for _ in range(3):
        opt.zero_grad()
        unused.grad = None  # as torch leaves a parameter that took no part in the loss
        (used * used).backward()
        opt.step()
    assert unused.data == 2.0 and unused.grad is None
    assert used.data < 1.0


@pytest.mark.parametrize("name, kw", [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
])
def test_skipping_a_parameter_for_some_steps_matches_torch(name, kw):
    # torch keeps a per-parameter state (momentum buffer, Adam's step count t) that a skipped step leaves alone
    torch = pytest.importorskip("torch")
    start = [1.0, -0.5]
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in start]
    their_opt = getattr(torch.optim, name)(theirs, **kw)
    ours = [mg.Value(x) for x in start]
    our_opt = {"SGD": SGD, "RMSprop": RMSprop, "Adam": Adam}[name](ours, **kw)
    for step in range(8):
        skip_b = step in (0, 1, 4)  # b misses the first steps (its state starts late) and one in the middle
        their_opt.zero_grad(set_to_none=True)
        our_opt.zero_grad()
        for a, b in (theirs, ours):
            (a**3 - a if skip_b else a * a + (a * b - 1) ** 2).backward()
        if skip_b:
            ours[1].grad = None  # torch's b.grad is None already: it took no part in the loss
        their_opt.step()
        our_opt.step()
        assert [p.data for p in ours] == pytest.approx([t.item() for t in theirs], rel=0, abs=1e-12)
    assert ours[1].data != start[1]


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam])
@pytest.mark.parametrize("bad, shown", [("0.5", "str '0.5'"), (1 + 2j, "complex (1+2j)"), (mg.Value(1.0), "Value")])
def test_a_grad_that_is_not_a_real_number_names_the_optimizer_and_parameter(cls, bad, shown):
    ps = [mg.Value(1.0), mg.Value(2.0, label="w")]
    opt = cls(ps, lr=0.1)
    ps[0].grad = 0.5
    ps[1].grad = bad
    with pytest.raises(TypeError, match=f"{cls.__name__}: the grad of parameter 'w' \\(position 1\\) must be a real "
                                        f"number .*got {re.escape(shown)}"):
        opt.step()
    assert ps[0].data == 1.0  # checked before anything moves
    ps[1].label = ""
    with pytest.raises(TypeError, match="the grad of the parameter at position 1 must be a real number"):
        opt.step()


def test_grads_of_other_real_types_are_used_and_a_huge_int_is_named():
    from fractions import Fraction

    p = mg.Value(1.0)
    opt = SGD([p], lr=0.5)
    p.grad = Fraction(1, 2)
    opt.step()
    assert p.data == 0.75
    p.grad = 10**400
    with pytest.raises(ValueError, match="SGD: the grad of the parameter at position 0 is an int too large"):
        opt.step()


@pytest.mark.parametrize("cls", [RMSprop, Adam])
def test_a_zero_gradient_with_the_smallest_eps_stays_put(cls):
    p = mg.Value(1.0)
    opt = cls([p], lr=0.1, eps=5e-324)
    for _ in range(3):
        p.grad = 0.0
        opt.step()
    assert p.data == 1.0


# ---- PyTorch, when it is installed ----------------------------------------------------------

TORCH_CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}),
    ("SGD", {}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.05, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.01}),
    ("Adam", {}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.01}),
]


def _coupled_loss(ps, sum_fn):
    # the parameters interact, so every gradient changes with every step
    a, b, c = ps
    return sum_fn([a**3 - a, (a * b - 1) ** 2, 0.5 * (b + c) ** 2, (c - 0.3) ** 4])


@pytest.mark.parametrize("name, kw", TORCH_CONFIGS)
def test_trajectories_match_torch_optim(name, kw):
    torch = pytest.importorskip("torch")
    start = [1.0, -0.5, 2.0]
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in start]
    their_opt = getattr(torch.optim, name)(theirs, **kw)
    ours = [mg.Value(x) for x in start]
    our_opt = {"SGD": SGD, "RMSprop": RMSprop, "Adam": Adam}[name](ours, **kw)
    for _ in range(10):
        their_opt.zero_grad()
        _coupled_loss(theirs, lambda terms: torch.stack(terms).sum()).backward()
        their_opt.step()
        our_opt.zero_grad()
        _coupled_loss(ours, mg.sum).backward()
        our_opt.step()
        assert [p.data for p in ours] == pytest.approx([t.item() for t in theirs], rel=0, abs=1e-12)
    assert ours[0].data != start[0]  # the parameters did move


# ---- the bounds of alpha and the betas, at and just past their edges ----


def test_rmsprop_accepts_alpha_one_and_then_keeps_v_at_zero():
    # the docstring allows 0 <= alpha <= 1, as torch does; alpha = 1 never updates the running average
    p = mg.Value(2.0)
    opt = RMSprop([p], lr=0.1, alpha=1, eps=0.5)
    assert opt.alpha == 1.0
    p.grad = 3.0
    opt.step()
    assert opt.square_avg == [0.0]
    assert p.data == 2.0 - 0.1 * 3.0 / 0.5
    zero = RMSprop([mg.Value(1.0)], alpha=0)
    assert zero.alpha == 0.0


@pytest.mark.parametrize("alpha", [math.nextafter(1.0, 2.0), 1.0 + 1e-12, 2])
def test_rmsprop_refuses_alpha_past_one_before_a_step_could_take_sqrt_of_a_negative(alpha):
    with pytest.raises(ValueError, match=rf"RMSprop: alpha must be <= 1, got {re.escape(repr(alpha))}"):
        RMSprop([mg.Value(1.0)], alpha=alpha)


@pytest.mark.parametrize(
    "betas, message",
    [
        ((1.0, 0.999), r"Adam: betas\[0\] must be < 1.0, got 1.0"),
        ((1, 0.999), r"Adam: betas\[0\] must be < 1.0, got 1"),
        ((-0.1, 0.999), r"Adam: betas\[0\] must be a finite number >= 0, got -0.1"),
        ((0.9, -0.5), r"Adam: betas\[1\] must be a finite number >= 0, got -0.5"),
        ((math.nan, 0.999), r"Adam: betas\[0\] must be a finite number >= 0, got nan"),
        ((0.9, 0.999, 0.5), r"Adam: betas must be a pair \(beta1, beta2\), got \(0.9, 0.999, 0.5\)"),
    ],
)
def test_adam_refuses_betas_outside_zero_to_one(betas, message):
    # beta1 = 1 would make the bias correction 1 - beta1**t zero, and the first step divide by it
    with pytest.raises(ValueError, match=message):
        Adam([mg.Value(1.0)], betas=betas)


def test_adam_takes_betas_at_zero_and_just_below_one_and_as_a_list():
    p = mg.Value(1.0)
    opt = Adam([p], lr=0.1, betas=[0.0, 0.0])
    assert opt.betas == (0.0, 0.0)
    p.grad = -4.0
    opt.step()
    # beta1 = beta2 = 0: m = g, v = g**2, no correction: a step of lr * g / (|g| + eps)
    assert p.data == pytest.approx(1.0 + 0.1 * 4.0 / (4.0 + 1e-8), rel=1e-15)
    assert Adam([mg.Value(1.0)], betas=(0.999999, 0.999999)).betas == (0.999999, 0.999999)


def test_reprs_show_exactly_the_settings_that_are_on():
    ps = [mg.Value(1.0), mg.Value(2.0)]
    assert repr(SGD(ps, lr=0.1)) == "SGD(lr=0.1, 2 parameters)"
    assert repr(SGD(ps, lr=0.1, weight_decay=0.01)) == "SGD(lr=0.1, weight_decay=0.01, 2 parameters)"
    assert repr(RMSprop(ps)) == "RMSprop(lr=0.01, alpha=0.99, eps=1e-08, 2 parameters)"
    shown = "Adam(lr=0.001, weight_decay=0.5, betas=(0.9, 0.999), eps=1e-08, 2 parameters)"
    assert repr(Adam(ps, weight_decay=0.5)) == shown


def test_the_base_optimizer_has_no_weight_decay_unless_asked_and_errors_name_the_optimizer():
    assert Optimizer([mg.Value(1.0)], lr=0.1).weight_decay == 0.0
    with pytest.raises(ValueError, match=r"^SGD: weight_decay must be a finite number >= 0, got -1$"):
        SGD([mg.Value(1.0)], weight_decay=-1)
    with pytest.raises(ValueError, match=r"^Adam: weight_decay must be a finite number >= 0, got inf$"):
        Adam([mg.Value(1.0)], weight_decay=math.inf)


@pytest.mark.parametrize(
    "alpha, error, message",
    [
        (-0.5, ValueError, r"^RMSprop: alpha must be a finite number >= 0, got -0\.5$"),
        (math.nan, ValueError, r"^RMSprop: alpha must be a finite number >= 0, got nan$"),
        ("0.9", TypeError, r"^RMSprop: alpha must be a number, got str '0\.9'$"),
    ],
)
def test_rmsprop_names_itself_and_alpha_when_alpha_is_negative_or_not_a_number(alpha, error, message):
    with pytest.raises(error, match=message):
        RMSprop([mg.Value(1.0)], alpha=alpha)
