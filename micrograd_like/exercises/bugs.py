"""The bug zoo: the classic mistakes of the exercises, small enough to read, and the right code to compare them with.

Backward passes take the root of a graph and fill ``.grad`` of every Value it depends
on, reading only ``parents``, ``local_grads`` and ``.grad``, as a learner's would.
Derivatives take an op's inputs. ``Neuron``, ``Layer``, ``MLP`` and ``training_step``
are written as notebook 15 asks a learner to write them; the wrong ones change one thing.
``ZOO`` names every bug with the check that catches it and the mistake it must be named as:
``ZOO[name].run()`` gives the Report.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine import Value

if TYPE_CHECKING:
    from .report import Report

__all__ = ["right_backward", "assigned_not_accumulated", "recursive_without_order", "walked_forwards",
           "grads_never_reset", "recursive_topological_sort", "Neuron", "Layer", "MLP", "training_step",
           "NeuronWithoutBias", "MLPWithOutputActivation", "MLPMissingALayer", "MLPSharingWeights",
           "step_without_zero_grad", "step_uphill", "step_with_lr_twice", "Bug", "ZOO"]


def _order(root: Value) -> list[Value]:
    """Every value root depends on, parents before children, walked with a stack of our own (no recursion)."""
    order: list[Value] = []
    seen = {id(root)}
    stack = [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append((p, iter(p.parents)))
                break
        else:  # every parent of node is listed: node can be listed too
            stack.pop()
            order.append(node)
    return order


def right_backward(root: Value) -> None:
    """The right pass: reset the non-leaf grads, seed the root with 1, walk children before parents, add."""
    order = _order(root)
    for v in order:
        if v.parents:
            v.grad = 0.0
    root.grad = 1.0
    for v in reversed(order):
        for p, local in zip(v.parents, v.local_grads):
            p.grad += v.grad * local


def assigned_not_accumulated(root: Value) -> None:
    """Gradients assigned instead of added: a value used twice (``a * a``) keeps only its last contribution."""
    order = _order(root)
    for v in order:
        if v.parents:
            v.grad = 0.0
    root.grad = 1.0
    for v in reversed(order):
        for p, local in zip(v.parents, v.local_grads):
            p.grad = v.grad * local  # the bug: '=' where the chain rule sums over every use


def recursive_without_order(root: Value) -> None:
    """Each value passes its grad on and recurses at once, with no topological order.

    A value reached along two paths passes its grad on twice: first before its second
    contribution has arrived, then again with it, so the values above it count the first part twice.
    """
    for v in _order(root):
        if v.parents:
            v.grad = 0.0
    root.grad = 1.0

    def push(v: Value) -> None:
        for p, local in zip(v.parents, v.local_grads):
            p.grad += v.grad * local
            push(p)  # the bug: p may not have heard from all the values that use it yet

    push(root)


def walked_forwards(root: Value) -> None:
    """The right steps, with the order walked forwards (``for v in order:``), leaves first.

    Each value passes its grad on while it is still 0: the values that use it come later
    in the order and have not added their part yet. Only the root, last, passes anything.
    """
    order = _order(root)
    for v in order:
        if v.parents:
            v.grad = 0.0
    root.grad = 1.0
    for v in order:  # the bug: reversed(order) visits each value after every value that uses it
        for p, local in zip(v.parents, v.local_grads):
            p.grad += v.grad * local


def grads_never_reset(root: Value) -> None:
    """micrograd's pass: right order, right sums, nothing reset, so a second call compounds the intermediate grads."""
    order = _order(root)
    root.grad = 1.0  # the bug: the other non-leaf grads keep what the previous pass left
    for v in reversed(order):
        for p, local in zip(v.parents, v.local_grads):
            p.grad += v.grad * local


def recursive_topological_sort(root: Value) -> None:
    """The right pass over an order built by a recursive walk, which dies on a chain deeper than the recursion limit."""
    order: list[Value] = []
    seen: set[int] = set()

    def visit(v: Value) -> None:
        if id(v) in seen:
            return
        seen.add(id(v))
        for p in v.parents:
            visit(p)  # the bug: one Python frame per level of the graph
        order.append(v)

    visit(root)
    for v in order:
        if v.parents:
            v.grad = 0.0
    root.grad = 1.0
    for v in reversed(order):
        for p, local in zip(v.parents, v.local_grads):
            p.grad += v.grad * local


def tanh_derivative_of_the_input(x: float) -> float:
    """tanh's rule 1 - tanh(x)**2 with the input where the output belongs."""
    return 1 - x ** 2


def sigmoid_derivative_half_input(x: float) -> float:
    """s * (1 - s) with x for one of the two s."""
    s = 1 / (1 + math.exp(-x))
    return s * (1 - x)


def sigmoid_derivative_is_the_value(x: float) -> float:
    """The op's value, not its slope."""
    return 1 / (1 + math.exp(-x))


def division_derivative_sign_lost(a: float, b: float) -> tuple[float, float]:
    """d(a/b)/db written a / b**2: the minus sign lost."""
    return 1 / b, a / (b * b)


def division_derivatives_swapped(a: float, b: float) -> tuple[float, float]:
    """The two derivatives of a / b, in the wrong order."""
    return -a / (b * b), 1 / b


# ---- notebook 15: a network written by hand --------------------------------------------------------


class Neuron:
    """activation(w . x + b) on one sample: ``Neuron(nin, activation="tanh")``, activation "tanh" or "linear"."""

    def __init__(self, nin: int, activation: str = "tanh") -> None:
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = activation

    def __call__(self, x: Sequence[Value | float]) -> Value:
        z = self.b
        for wi, xi in zip(self.w, x):
            z = z + wi * xi
        return z.tanh() if self.activation == "tanh" else z

    def parameters(self) -> list[Value]:
        return self.w + [self.b]


class Layer:
    """``nout`` neurons that see the same inputs."""

    def __init__(self, nin: int, nout: int, activation: str = "tanh") -> None:
        self.neurons = [Neuron(nin, activation) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return [n(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    """Layers of the sizes ``nouts``: tanh on every layer but the last, which is linear; one output comes as a Value."""

    layer_class: type[Layer] = Layer
    hidden, output = "tanh", "linear"

    def __init__(self, nin: int, nouts: Sequence[int]) -> None:
        sizes = [nin] + list(nouts)
        last = len(nouts) - 1
        self.layers = [self.layer_class(sizes[i], sizes[i + 1], self.output if i == last else self.hidden)
                       for i in range(len(nouts))]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out: Any = x
        for layer in self.layers:
            out = layer(out)
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]


def training_step(model: Any, xs: Sequence[Sequence[float]], ys: Sequence[float], lr: float) -> Value:
    """One step of gradient descent on the mean squared error of ``model`` over the batch; returns the loss."""
    loss = Value(0.0)
    for x, y in zip(xs, ys):
        loss = loss + (model(x) - y) ** 2
    loss = loss / len(xs)
    for p in model.parameters():
        p.grad = 0.0
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss


class NeuronWithoutBias(Neuron):
    """The bias is a parameter but never joins the sum."""

    def __call__(self, x: Sequence[Value | float]) -> Value:
        z: Value | float = 0.0
        for wi, xi in zip(self.w, x):
            z = wi * xi + z  # the bug: no + self.b
        z = z if isinstance(z, Value) else Value(z)
        return z.tanh() if self.activation == "tanh" else z


class MLPWithOutputActivation(MLP):
    """tanh on the output layer too: the network can only say numbers in (-1, 1)."""

    output = "tanh"


class MLPMissingALayer(MLP):
    """parameters() forgets the last layer, so an optimiser never trains it."""

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers[:-1] for p in layer.parameters()]  # the bug: [:-1]


class _LayerSharingWeights(Layer):
    def __init__(self, nin: int, nout: int, activation: str = "tanh") -> None:
        super().__init__(nin, nout, activation)
        shared = self.neurons[0].w
        for n in self.neurons:
            n.w = shared  # the bug: one list of Values for every neuron of the layer


class MLPSharingWeights(MLP):
    """Every neuron of a layer gets the same weight list, so they compute the same thing and learn alike."""

    layer_class = _LayerSharingWeights


def step_without_zero_grad(model: Any, xs: Sequence[Sequence[float]], ys: Sequence[float], lr: float) -> Value:
    """No reset before backward(): the grads left by the previous step are added to this one's."""
    loss = Value(0.0)
    for x, y in zip(xs, ys):
        loss = loss + (model(x) - y) ** 2
    loss = loss / len(xs)
    loss.backward()  # the bug: the grads still hold the last step's
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss


def step_uphill(model: Any, xs: Sequence[Sequence[float]], ys: Sequence[float], lr: float) -> Value:
    """The update's sign flipped: each step climbs the loss."""
    loss = Value(0.0)
    for x, y in zip(xs, ys):
        loss = loss + (model(x) - y) ** 2
    loss = loss / len(xs)
    for p in model.parameters():
        p.grad = 0.0
    loss.backward()
    for p in model.parameters():
        p.data += lr * p.grad  # the bug: += where the step goes against the gradient
    return loss


def step_with_lr_twice(model: Any, xs: Sequence[Sequence[float]], ys: Sequence[float], lr: float) -> Value:
    """The learning rate applied twice: once to the grads, once in the update."""
    loss = Value(0.0)
    for x, y in zip(xs, ys):
        loss = loss + (model(x) - y) ** 2
    loss = loss / len(xs)
    for p in model.parameters():
        p.grad = 0.0
    loss.backward()
    for p in model.parameters():
        p.grad *= lr
        p.data -= lr * p.grad  # the bug: p.grad is already scaled by lr
    return loss


@dataclass(frozen=True)
class Bug:
    """A bug of the zoo: the check that catches it (a name in ``micrograd_like.exercises``), what it is given,
    and the key in ``MISTAKES`` of the sentence it must be named with."""

    check: str
    args: tuple
    mistake: str

    def run(self, **settings: Any) -> Report:
        """The check's Report on this bug."""
        from .. import exercises

        return getattr(exercises, self.check)(*self.args, **settings)


ZOO: dict[str, Bug] = {
    "assigned_not_accumulated": Bug("check_backward", (assigned_not_accumulated,), "assigned"),
    "recursive_without_order": Bug("check_backward", (recursive_without_order,), "not topological"),
    "walked_forwards": Bug("check_backward", (walked_forwards,), "forward order"),
    "grads_never_reset": Bug("check_backward", (grads_never_reset,), "never reset"),
    "recursive_topological_sort": Bug("check_backward", (recursive_topological_sort,), "too deep"),
    "tanh_derivative_of_the_input": Bug("check_derivative", ("tanh", tanh_derivative_of_the_input),
                                        "d input for output"),
    "sigmoid_derivative_half_input": Bug("check_derivative", ("sigmoid", sigmoid_derivative_half_input),
                                         "d input for output partly"),
    "sigmoid_derivative_is_the_value": Bug("check_derivative", ("sigmoid", sigmoid_derivative_is_the_value),
                                           "d value"),
    "division_derivative_sign_lost": Bug("check_derivative", ("/", division_derivative_sign_lost), "d sign"),
    "division_derivatives_swapped": Bug("check_derivative", ("/", division_derivatives_swapped), "d swapped"),
    "neuron_without_bias": Bug("check_neuron", (NeuronWithoutBias,), "nn bias"),
    "mlp_with_output_activation": Bug("check_mlp", (MLPWithOutputActivation,), "nn output activation"),
    "mlp_missing_a_layer": Bug("check_mlp", (MLPMissingALayer,), "nn missing layer"),
    "mlp_sharing_weights": Bug("check_mlp", (MLPSharingWeights,), "nn shared"),
    "step_without_zero_grad": Bug("check_training_step", (step_without_zero_grad,), "step zero_grad"),
    "step_uphill": Bug("check_training_step", (step_uphill,), "step sign"),
    "step_with_lr_twice": Bug("check_training_step", (step_with_lr_twice,), "step lr twice"),
}
"""Every bug of the zoo by name: the check that catches it, and the mistake it must be named as."""
