"""Activations, softmax and losses as functions of Values (imported as ``F`` in the docs)."""

from __future__ import annotations

from typing import Callable, Sequence, Union

from . import engine
from .engine import Value

Number = Union[Value, float]

__all__ = [
    "relu", "leaky_relu", "prelu", "sigmoid", "tanh", "step", "linear", "ACTIVATIONS", "get_activation",
    "softmax", "log_softmax", "mse", "mae", "cross_entropy", "binary_cross_entropy_with_logits", "hinge",
    "l2_penalty",
]


def _v(x: Number, op: str) -> Value:
    return x if isinstance(x, Value) else engine._as_value(x, op)


def relu(x: Number) -> Value:
    """max(0, x)."""
    return _v(x, "relu").relu()


def leaky_relu(x: Number, negative_slope: float = 0.01) -> Value:
    """x for x > 0, else negative_slope * x."""
    return _v(x, "leaky_relu").leaky_relu(negative_slope)


def prelu(x: Number, slope: Value) -> Value:
    """Leaky relu with a learnable slope (a Value)."""
    return _v(x, "prelu").prelu(slope)


def sigmoid(x: Number) -> Value:
    """1 / (1 + e**-x)."""
    return _v(x, "sigmoid").sigmoid()


def tanh(x: Number) -> Value:
    """Hyperbolic tangent."""
    return _v(x, "tanh").tanh()


def step(x: Number) -> Value:
    """Binary step: 1 for x > 0, else 0. Its gradient is 0 everywhere, so it cannot be trained by backprop."""
    return _v(x, "step").step()


def linear(x: Number) -> Value:
    """The identity: a neuron with no nonlinearity."""
    return _v(x, "linear")


# activations a layer can be given by name; prelu is absent because it needs a slope per neuron
ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": relu, "leaky_relu": leaky_relu, "sigmoid": sigmoid, "tanh": tanh, "step": step, "linear": linear,
}


def get_activation(name: str) -> Callable[[Value], Value]:
    """The activation function called ``name``; ValueError naming it and the valid names otherwise."""
    if name not in ACTIVATIONS:
        valid = sorted(ACTIVATIONS) + ["prelu"]
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(valid)}")
    return ACTIVATIONS[name]


def log_softmax(logits: Sequence[Number]) -> list[Value]:
    """log softmax(x)_i = x_i - logsumexp(x): stable for logits of any size."""
    xs = engine._as_values(logits, "log_softmax")
    lse = engine.logsumexp(xs)
    return [x - lse for x in xs]


def softmax(logits: Sequence[Number]) -> list[Value]:
    """softmax(x)_i = e**x_i / sum_j e**x_j, computed as exp(x_i - logsumexp(x)) so it never overflows."""
    return [v.exp() for v in log_softmax(logits)]


def _pairs(preds: Sequence[Number] | Number, targets: Sequence[float] | float, op: str) -> tuple[list, list]:
    ps = [preds] if not isinstance(preds, (list, tuple)) else list(preds)
    ts = [targets] if not isinstance(targets, (list, tuple)) else list(targets)
    if len(ps) != len(ts):
        raise ValueError(f"{op}: got {len(ps)} predictions but {len(ts)} targets")
    if not ps:
        raise ValueError(f"{op}: needs at least one prediction")
    return ps, ts


def _mean(terms: list[Value]) -> Value:
    return engine.sum(terms) * (1.0 / len(terms))


def mse(preds: Sequence[Number] | Number, targets: Sequence[float] | float) -> Value:
    """Mean squared error: mean((p - t)**2)."""
    ps, ts = _pairs(preds, targets, "mse")
    return _mean([(_v(p, "mse") - t) ** 2 for p, t in zip(ps, ts)])


def mae(preds: Sequence[Number] | Number, targets: Sequence[float] | float) -> Value:
    """Mean absolute error: mean(|p - t|) (gradient 0 where p == t, as in PyTorch)."""
    ps, ts = _pairs(preds, targets, "mae")
    return _mean([abs(_v(p, "mae") - t) for p, t in zip(ps, ts)])


def _one_cross_entropy(logits: Sequence[Number], target: int) -> Value:
    if not isinstance(target, int) or isinstance(target, bool):
        raise TypeError(f"cross_entropy: target must be a class index (int), got {type(target).__name__}")
    if not 0 <= target < len(logits):
        raise ValueError(f"cross_entropy: target {target} is out of range for {len(logits)} classes")
    xs = engine._as_values(logits, "cross_entropy")
    return engine.logsumexp(xs) - xs[target]


def cross_entropy(logits: Sequence[Number] | Sequence[Sequence[Number]], target: int | Sequence[int]) -> Value:
    """-log softmax(logits)[target] = logsumexp(logits) - logits[target].

    Takes one sample's logits and a class index, or a batch (a list of logit lists
    and a list of indices), then it is the mean over the batch, as in PyTorch.
    """
    if isinstance(target, (list, tuple)):
        if len(logits) != len(target):
            raise ValueError(f"cross_entropy: got {len(logits)} samples but {len(target)} targets")
        return _mean([_one_cross_entropy(lg, t) for lg, t in zip(logits, target)])  # type: ignore[arg-type]
    return _one_cross_entropy(logits, target)  # type: ignore[arg-type]


def binary_cross_entropy_with_logits(logits: Sequence[Number] | Number, targets: Sequence[float] | float) -> Value:
    """Mean of -[t log s(x) + (1 - t) log(1 - s(x))], computed stably from the logit x.

    Written as max(x, 0) - x*t + log(1 + e**-|x|), which never overflows.
    """
    ps, ts = _pairs(logits, targets, "binary_cross_entropy_with_logits")
    terms = []
    for p, t in zip(ps, ts):
        x = _v(p, "binary_cross_entropy_with_logits")
        terms.append(x.relu() - x * t + ((-abs(x)).exp() + 1).log())
    return _mean(terms)


def hinge(scores: Sequence[Number] | Number, targets: Sequence[float] | float) -> Value:
    """SVM max-margin loss: mean(relu(1 - y * s)) with targets y in {-1, +1} (micrograd's demo loss)."""
    ss, ys = _pairs(scores, targets, "hinge")
    for y in ys:
        if y not in (-1, 1):
            raise ValueError(f"hinge: targets must be -1 or +1, got {y!r}")
    return _mean([(1 + -y * _v(s, "hinge")).relu() for s, y in zip(ss, ys)])


def l2_penalty(parameters: Sequence[Value], alpha: float = 1e-4) -> Value:
    """alpha * sum(p**2): weight decay as a loss term, one node however many parameters."""
    ps = engine._as_values(parameters, "l2_penalty")
    return alpha * engine.dot(ps, ps)
