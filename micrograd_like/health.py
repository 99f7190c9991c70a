"""Network health: the dead relus, saturated neurons and vanishing gradients of an MLP on a batch of inputs."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence, Sized
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import engine
from .engine import Value

if TYPE_CHECKING:  # nn imports this module to re-export it, so nn itself is imported inside diagnose
    from .nn import MLP, Neuron

__all__ = ["HealthReport", "diagnose", "SATURATION", "SATURATED_SHARE", "VANISHING_RATIO"]

SATURATION = 0.99  # tanh: |a| > 0.99; sigmoid: a > 0.99 or a < 0.01 (0.01 from either end of (0, 1))
SATURATED_SHARE = 0.95  # a neuron is saturated when it is saturated on at least this share of the rows
VANISHING_RATIO = 100.0  # a layer's gradient this many times smaller than the last layer's, or more, vanishes


def _saturated(activation: str, a: float) -> bool:
    """Whether the activation ``a`` sits on a flat end of a tanh or a sigmoid.

    There tanh' = 1 - a² is below 0.02 (a 50th of its peak of 1) and sigmoid' = a(1 - a)
    is below 0.0099 (a 25th of its peak of 0.25): a gradient through the neuron is nearly 0.
    """
    if activation == "tanh":
        return abs(a) > SATURATION
    return a > SATURATION or a < 1.0 - SATURATION


@dataclass(frozen=True)
class HealthReport:
    """What ``diagnose`` found: lists of names for reading, and the numbers behind them for tests.

    Neurons are named as their parameters are, without the parameter (``layers.0.neurons.3``),
    layers as ``layers.0``. ``str(report)`` lists every finding.
    """

    rows: int  # how many rows of X the report is about
    gradient_of: str  # what was differentiated: "the sum of the outputs" or "the mse loss", say
    dead: tuple[str, ...]  # relu neurons whose output is 0 on every row
    saturated: dict[str, float]  # tanh and sigmoid neurons saturated on >= 95 % of rows: their share of rows
    grad_norms: dict[str, float]  # every layer: the root-mean-square gradient of its parameters
    vanishing: tuple[str, ...]  # layers whose grad_norm is VANISHING_RATIO times the last layer's or less
    relu_neurons: int = 0  # how many neurons could be dead (relu)
    squashing_neurons: int = 0  # how many could be saturated (tanh or sigmoid)
    activations: dict[str, str] = field(default_factory=dict)  # every layer's activation

    @property
    def healthy(self) -> bool:
        """True when nothing is dead, saturated or vanishing."""
        return not (self.dead or self.saturated or self.vanishing)

    def __str__(self) -> str:
        names = list(self.grad_norms)
        last, top = names[-1], self.grad_norms[names[-1]]
        lines = [f"Network health on {self.rows} row{'s' if self.rows != 1 else ''} of X "
                 f"(gradients of {self.gradient_of})"]
        if self.relu_neurons:
            lines.append(f"dead relu neurons (output 0 on every row): {_count(self.dead, self.relu_neurons)}")
            lines += [f"  {name}" for name in self.dead]
        if self.squashing_neurons:
            lines.append(f"saturated neurons (tanh |a| > {SATURATION}, sigmoid a > {SATURATION} or a < "
                         f"{1 - SATURATION:.2f}, on {SATURATED_SHARE:.0%} of rows or more): "
                         f"{_count(self.saturated, self.squashing_neurons)}")
            lines += [f"  {name} ({share:.0%} of rows)" for name, share in self.saturated.items()]
        lines.append(f"vanishing gradients (a layer's gradient {VANISHING_RATIO:g} times {last}'s or smaller): "
                     f"{_count(self.vanishing, len(names) - 1)}")
        lines.append("  gradient by layer, the root mean square over its parameters:")
        for name, norm in self.grad_norms.items():
            flag = f"  vanishing: {_times_smaller(norm, top)}" if name in self.vanishing else ""
            lines.append(f"  {name} ({self.activations.get(name, '?')}) {_fmt(norm)}{flag}")
        if not top and len(names) > 1:
            lines.append(f"  (no layer can be flagged: {last}'s gradient is 0, so there is nothing to compare with)")
        return "\n".join(lines)


def _count(found: Sized, out_of: int) -> str:
    return f"{len(found) or 'none'} of {out_of}"


def _fmt(x: float) -> str:
    return f"{x:.2g}"


def _times_smaller(norm: float, top: float) -> str:
    return "no gradient at all" if not norm else f"{top / norm:,.0f} times smaller than the last layer's"


def _sized(x: object) -> bool:
    # lists, tuples and NumPy arrays alike: anything with a length that is not text
    return hasattr(x, "__len__") and hasattr(x, "__iter__") and not isinstance(x, (str, bytes))


def _check_rows(X: object, nin: int) -> list[Sequence]:
    """X as a list of rows, refusing an empty X and any NaN or infinity, naming the row and column."""
    if not _sized(X):
        raise TypeError(f"diagnose: X must be a sequence of rows, got {type(X).__name__}")
    rows = list(X)  # type: ignore[call-overload]
    if not rows:
        raise ValueError("diagnose: X is empty; pass the rows to look at (the training data, say)")
    for i, row in enumerate(rows):
        if not _sized(row) or len(row) != nin:
            got = len(row) if _sized(row) else type(row).__name__
            raise ValueError(f"diagnose: row {i} of X must hold the model's {nin} inputs, got {got}")
        for j, cell in enumerate(row):
            x = cell.data if isinstance(cell, Value) else cell
            if isinstance(x, numbers.Real) and not math.isfinite(x):
                raise ValueError(f"diagnose: X has {float(x)!r} at row {i}, column {j}; the inputs must be finite")
    return rows


def _loss_function(loss: str | Callable[[list, list], Value]) -> tuple[Callable[[list, list], Value], str]:
    """The loss by name (fit's names) or as given, and how the report calls it."""
    if callable(loss):
        return loss, f"the loss {getattr(loss, '__name__', 'given')}"
    from .train import LOSSES

    if loss not in LOSSES:
        raise ValueError(f"diagnose: unknown loss {loss!r}; choose one of {', '.join(LOSSES)} or pass a function")
    return LOSSES[loss], f"the {loss} loss"


def _forward_and_count(
    model: MLP, rows: list[Sequence], neurons: list[tuple[str, str, Neuron]]
) -> tuple[list, list[Value], dict[str, bool], dict[str, int]]:
    """Run every row through ``model``, keeping the graph, and count what each neuron did.

    Returns the model's outputs, the last layer's outputs (before a softmax), whether each
    relu neuron was ever nonzero, and on how many rows each tanh or sigmoid neuron was saturated.
    """
    nonzero = {name: False for name, act, _ in neurons if act == "relu"}
    flat = {name: 0 for name, act, _ in neurons if act in ("tanh", "sigmoid")}
    outputs: list = []
    last_outputs: list[Value] = []
    for row in rows:
        outputs.append(model(row))
        last_outputs += [n.a for n in model.layers[-1].neurons if n.a is not None]  # every one, after a pass
        for name, act, n in neurons:
            a = n.a.data  # type: ignore[union-attr]
            if name in nonzero:
                nonzero[name] |= a != 0.0
            elif name in flat and _saturated(act, a):
                flat[name] += 1
    return outputs, last_outputs, nonzero, flat


def _rms(grads: list[float]) -> float:
    """sqrt(sum g² / count): a layer's gradient norm per parameter."""
    return math.sqrt(math.fsum(g * g for g in grads) / len(grads))


def diagnose(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence | None = None,
    loss: str | Callable[[list, list], Value] = "mse",
) -> HealthReport:
    """Find what keeps ``model`` from learning on the rows ``X``: dead, saturated and vanishing parts.

    - **dead**: a relu neuron whose output is 0 on every row of X. Its weights get
      gradient 0 from every row, so training never changes them.
    - **saturated**: a tanh neuron with |a| > 0.99, or a sigmoid neuron with a > 0.99 or
      a < 0.01 (as close to either of its ends, 0 and 1, as tanh's 0.99 is to its ends),
      on at least 95 % of the rows. There its derivative is under a 25th of its peak.
    - **vanishing**: a layer whose gradient norm is 100 times the last layer's or smaller,
      so it learns 100 times slower or more. A layer's gradient norm is the root mean
      square of the gradients of its parameters (weights, biases, prelu slopes),
      sqrt(sum g² / count), so wide and narrow layers compare fairly.

    Which gradient: without ``y``, of the sum over X of the last layer's outputs (before a
    softmax, whose outputs always sum to 1), which needs no targets; with targets ``y``, of
    ``loss`` (a name ``fit`` knows, such as ``"mse"`` or ``"cross_entropy"``, or a function
    of the outputs and targets) over X, the gradient training would follow.

    The model is left as it was found: every parameter's ``grad`` is put back (diagnose
    zeroes them for its own backward pass, then restores them), and so is each neuron's
    ``z`` and ``a`` from the last forward pass. Called inside ``no_grad()`` it raises,
    since there would be no gradient to measure.
    """
    from .nn import MLP

    if not isinstance(model, MLP):
        raise TypeError(f"diagnose: expected an MLP, got {type(model).__name__}")
    if not engine.is_grad_enabled():
        raise RuntimeError("diagnose: gradients are off here (inside no_grad()); call it outside no_grad()")
    rows = _check_rows(X, model.nin)
    if y is not None and len(y) != len(rows):
        raise ValueError(f"diagnose: {len(rows)} rows in X but {len(y)} targets in y")
    loss_fn, gradient_of = _loss_function(loss) if y is not None else (None, "the sum of the outputs")

    neurons = [(f"layers.{li}.neurons.{ni}", n.activation, n)
               for li, layer in enumerate(model.layers) for ni, n in enumerate(layer.neurons)]
    params = model.parameters()
    saved_grads = [p.grad for p in params]
    saved_passes = [(n.z, n.a) for _, _, n in neurons]
    try:
        for p in params:
            p.grad = 0.0
        outputs, last_outputs, nonzero, flat = _forward_and_count(model, rows, neurons)
        objective = engine.sum(last_outputs) if loss_fn is None else loss_fn(outputs, list(y))  # type: ignore[arg-type]
        objective.backward()
        grad_norms = {f"layers.{li}": _rms([p.grad for p in layer.parameters()])
                      for li, layer in enumerate(model.layers)}
    finally:
        for p, g in zip(params, saved_grads):
            p.grad = g
        for (_, _, n), (z, a) in zip(neurons, saved_passes):
            n.z, n.a = z, a
    shares = {name: count / len(rows) for name, count in flat.items()}
    top = list(grad_norms.values())[-1]
    vanishing = tuple(name for name, norm in list(grad_norms.items())[:-1] if top > 0 and norm * VANISHING_RATIO <= top)
    return HealthReport(
        rows=len(rows),
        gradient_of=gradient_of,
        dead=tuple(name for name, alive in nonzero.items() if not alive),
        saturated={name: share for name, share in shares.items() if share >= SATURATED_SHARE},
        grad_norms=grad_norms,
        vanishing=vanishing,
        relu_neurons=len(nonzero),
        squashing_neurons=len(flat),
        activations={f"layers.{li}": layer.activation for li, layer in enumerate(model.layers)},
    )
