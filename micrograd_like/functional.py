"""Activations, softmax and losses as plain functions of Values (imported as ``F`` in the docs)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence

from .engine import Value, dot, logsumexp
from .engine import sum as value_sum

Scalar = Value | float
Scalars = Scalar | Iterable[Scalar]

__all__ = [
    "relu", "leaky_relu", "prelu", "sigmoid", "tanh", "step", "linear", "identity", "ACTIVATIONS",
    "get_activation", "softmax", "log_softmax", "mse", "mae", "cross_entropy",
    "binary_cross_entropy_with_logits", "hinge", "l2_penalty", "l2",
]


# ---- turning arguments into Values, with errors that name the function ----------------------


def _value(x: object, fn: str) -> Value:
    """``x`` itself if it is a Value, a new leaf if it is a real number, else TypeError."""
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real):
        return Value(float(x))
    raise TypeError(f"{fn}: expected a Value or a real number, got {type(x).__name__} {x!r:.40}")


def _as_list(xs: object, fn: str) -> list:
    """A lone scalar becomes a list of one; any other iterable (not a string) becomes a list."""
    if isinstance(xs, (Value, numbers.Real)):
        return [xs]
    if isinstance(xs, (str, bytes)) or not isinstance(xs, Iterable):
        raise TypeError(f"{fn}: expected a Value, a number or a list of them, got {type(xs).__name__}")
    return list(xs)


def _pairs(preds: Scalars, targets: Scalars, fn: str) -> tuple[list[Value], list[Value]]:
    """Predictions and targets as two equally long, non-empty lists of Values."""
    ps, ts = _as_list(preds, fn), _as_list(targets, fn)
    if len(ps) != len(ts):
        raise ValueError(f"{fn}: got {len(ps)} predictions but {len(ts)} targets; they must match")
    if not ps:
        raise ValueError(f"{fn}: needs at least one prediction")
    return [_value(p, fn) for p in ps], [_value(t, fn) for t in ts]


def _mean(terms: list[Value]) -> Value:
    """(t1 + ... + tn) / n: one sum node however long the batch, then one division (PyTorch's 'mean')."""
    return value_sum(terms) / len(terms)


# ---- activations --------------------------------------------------------------------------


def relu(x: Scalar) -> Value:
    """relu(x) = max(0, x); relu'(x) = 1 for x > 0, else 0 (0 at the kink, as in PyTorch)."""
    return _value(x, "relu").relu()


def leaky_relu(x: Scalar, negative_slope: float = 0.01) -> Value:
    """x for x > 0, else negative_slope * x, so a negative input still passes a small gradient."""
    return _value(x, "leaky_relu").leaky_relu(negative_slope)


def prelu(x: Scalar, slope: Scalar) -> Value:
    """Leaky relu whose negative slope a is itself a Value: d/dx = 1 or a, d/da = 0 or x."""
    return _value(x, "prelu").prelu(_value(slope, "prelu"))


def sigmoid(x: Scalar) -> Value:
    """s(x) = 1 / (1 + e**-x); s'(x) = s(x) * (1 - s(x)). Never overflows."""
    return _value(x, "sigmoid").sigmoid()


def tanh(x: Scalar) -> Value:
    """tanh(x) = (e**x - e**-x) / (e**x + e**-x); tanh'(x) = 1 - tanh(x)**2."""
    return _value(x, "tanh").tanh()


def step(x: Scalar) -> Value:
    """Binary step: 1 for x > 0, else 0.

    Its derivative is 0 wherever it exists, so no gradient flows back through it:
    a network of step neurons cannot be trained by backprop (the perceptron rule
    trains it instead). It is here to show exactly that.
    """
    return _value(x, "step").step()


def linear(x: Scalar) -> Value:
    """The identity, f(x) = x: a neuron with no nonlinearity (an output layer for regression or logits)."""
    return _value(x, "linear")


identity = linear

# Every activation a layer can be given by name. prelu takes a second argument (its slope),
# which a Neuron owns and passes; the others take only x.
ACTIVATIONS: dict[str, Callable[..., Value]] = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "prelu": prelu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "step": step,
    "linear": linear,
    "identity": identity,
}


def get_activation(name: str) -> Callable[..., Value]:
    """The activation function called ``name`` (see ``ACTIVATIONS``); ``"prelu"`` also wants a slope.

    An unknown name is a ValueError that names it and lists the valid names.
    """
    if not isinstance(name, str):
        raise TypeError(f"get_activation: the name must be a str, got {type(name).__name__}")
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; valid names are: {', '.join(ACTIVATIONS)}") from None


# ---- softmax ------------------------------------------------------------------------------


def _shifted(xs: list[Value]) -> list[Value]:
    """x_i - m for the largest logit m, taken as a constant (the shift cancels in every gradient).

    The largest shifted logit is exactly 0, so the sum of exponentials below lies in
    [1, n] and nothing is lost to rounding however large the logits are. With an
    infinite or nan largest logit there is no finite shift to make; the logits stay.
    """
    m = max(x.data for x in xs)
    if not -math.inf < m < math.inf:
        return xs
    return [x - m for x in xs]


def log_softmax(logits: Scalars) -> list[Value]:
    """log softmax(x)_i = (x_i - m) - log(sum_j e**(x_j - m)), m the largest logit.

    Shifting by m before exponentiating means logits of 1000 (or -1000) give finite,
    exact answers where e**1000 would overflow. The shift is subtracted first, not
    folded into a logsumexp: x_i - logsumexp(x) would cancel two huge numbers and
    keep only their rounding (four equal logits of -1e16 would give -2.0 for -log 4).
    """
    xs = [_value(x, "log_softmax") for x in _as_list(logits, "log_softmax")]
    if not xs:
        raise ValueError("log_softmax: needs at least one logit")
    shifted = _shifted(xs)
    lse = logsumexp(shifted)
    return [s - lse for s in shifted]


def softmax(logits: Scalars) -> list[Value]:
    """softmax(x)_i = e**x_i / sum_j e**x_j, computed as e**(x_i - logsumexp(x)) so it never overflows.

    ``softmax([34, 32, 25])`` is about ``[0.88, 0.12, 0.0001]``: the exponential
    turns a gap of 2 between logits into a ratio of e**2 = 7.4 between probabilities.
    """
    return [v.exp() for v in log_softmax(logits)]


# ---- losses, each the mean over the samples as PyTorch's default reduction="mean" -------------


def mse(preds: Scalars, targets: Scalars) -> Value:
    """Mean squared error: (1/n) sum (p_i - t_i)**2; d/dp_i = 2 (p_i - t_i) / n."""
    ps, ts = _pairs(preds, targets, "mse")
    return _mean([(p - t) ** 2 for p, t in zip(ps, ts)])


def mae(preds: Scalars, targets: Scalars) -> Value:
    """Mean absolute error: (1/n) sum |p_i - t_i|; d/dp_i = sign(p_i - t_i) / n, 0 where p_i == t_i as in PyTorch."""
    ps, ts = _pairs(preds, targets, "mae")
    return _mean([abs(p - t) for p, t in zip(ps, ts)])


def _class_index(target: object, n_classes: int) -> int:
    """``target`` as an int in [0, n_classes), or an error that says what is wrong with it."""
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        raise TypeError(f"cross_entropy: a target must be a class index (an int), got {type(target).__name__} "
                        f"{target!r:.40}")
    index = int(target)
    if not 0 <= index < n_classes:
        raise ValueError(f"cross_entropy: target {index} is out of range for {n_classes} classes "
                         f"(valid indices are 0 to {n_classes - 1})")
    return index


def _one_cross_entropy(logits: object, target: object) -> Value:
    """-log softmax(x)[t] = log(sum_j e**(x_j - m)) - (x_t - m) for one sample, m its largest logit."""
    xs = [_value(x, "cross_entropy") for x in _as_list(logits, "cross_entropy")]
    if not xs:
        raise ValueError("cross_entropy: needs at least one logit per sample")
    t = _class_index(target, len(xs))
    shifted = _shifted(xs)  # see log_softmax: shift first, so huge logits keep their digits
    return logsumexp(shifted) - shifted[t]


def cross_entropy(logits: Sequence[Scalar] | Sequence[Sequence[Scalar]], target: int | Sequence[int]) -> Value:
    """Cross-entropy of raw logits against a class index: -log softmax(x)[t] = logsumexp(x) - x[t].

    Its gradient is softmax(x) - one_hot(t): push the right logit up, the others down.
    Give one sample (a list of logits and an int), or a batch (a list of logit lists
    and a list of ints): then it is the mean over the batch, as ``torch.nn.functional.cross_entropy``.
    Pass the logits, not probabilities: the softmax is inside, done stably.
    """
    if isinstance(target, (bool, numbers.Real, Value)):
        return _one_cross_entropy(logits, target)
    samples, targets = _as_list(logits, "cross_entropy"), _as_list(target, "cross_entropy")
    if len(samples) != len(targets):
        raise ValueError(f"cross_entropy: got {len(samples)} samples but {len(targets)} targets; they must match")
    if not samples:
        raise ValueError("cross_entropy: needs at least one sample")
    for row in samples:
        if isinstance(row, (Value, numbers.Real)):
            raise TypeError("cross_entropy: with a list of targets, logits must be a list of logit lists "
                            "(one per sample)")
    return _mean([_one_cross_entropy(row, t) for row, t in zip(samples, targets)])


def _one_bce_with_logits(x: Value, t: Value) -> Value:
    """softplus(x) - x*t, softplus(x) = log(1 + e**x), in the branch whose e**(...) cannot overflow.

    The textbook stable form max(x, 0) - x*t + log(1 + e**-|x|) is the same number, but
    built from relu and abs it would get gradient -t at x = 0 (both kinks count as 0) instead of
    the true sigmoid(0) - t = 0.5 - t. Each branch below is smooth, so the gradient
    sigmoid(x) - t is right everywhere, 0 included.
    """
    if x.data >= 0.0:
        return x * (1.0 - t) + ((-x).exp() + 1.0).log()  # softplus(x) = x + log(1 + e**-x)
    return (x.exp() + 1.0).log() - x * t


def binary_cross_entropy_with_logits(logits: Scalars, targets: Scalars) -> Value:
    """Mean of -[t log s(x) + (1 - t) log(1 - s(x))] with s the sigmoid, computed from the logit x.

    Equal to max(x, 0) - x*t + log(1 + e**-|x|), which never overflows (a logit of 1000
    is fine); d/dx = (s(x) - t) / n. Targets are probabilities in [0, 1] (labels 0/1,
    not -1/+1: use ``hinge`` for those). One logit or a list (a batch, mean-reduced).
    """
    fn = "binary_cross_entropy_with_logits"
    xs, ts = _pairs(logits, targets, fn)
    for t in ts:
        if not 0.0 <= t.data <= 1.0:
            raise ValueError(f"{fn}: targets must be in [0, 1] (labels 0/1), got {t.data!r}; "
                             "for -1/+1 labels use hinge")
    return _mean([_one_bce_with_logits(x, t) for x, t in zip(xs, ts)])


def hinge(scores: Scalars, targets: Scalars) -> Value:
    """SVM max-margin loss, micrograd's demo loss: (1/n) sum relu(1 - y_i * s_i) with y_i in {-1, +1}.

    A sample costs nothing once it is on the right side by a margin of 1 (y*s >= 1);
    otherwise d/ds_i = -y_i / n.
    """
    ss, ys = _pairs(scores, targets, "hinge")
    for y in ys:
        if y.data not in (-1.0, 1.0):
            raise ValueError(f"hinge: targets must be -1 or +1, got {y.data!r} (map 0/1 labels with data.to_signs)")
    return _mean([(1.0 - y * s).relu() for s, y in zip(ss, ys)])


def l2_penalty(parameters: Iterable[Value], alpha: float = 1e-4) -> Value:
    """alpha * sum(p**2): weight decay written as a loss term; d/dp = 2 * alpha * p.

    The sum of squares is one ``dot`` node however many parameters there are.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha >= 0:
        raise ValueError(f"l2_penalty: alpha must be a number >= 0, got {alpha!r}")
    ps = [_value(p, "l2_penalty") for p in _as_list(parameters, "l2_penalty")]
    return dot(ps, ps) * float(alpha)


l2 = l2_penalty
