"""Neural networks made of Values: Module, Neuron, Layer and MLP, with PyTorch's names."""

from __future__ import annotations

import math
import random
from typing import Sequence, Union

from . import engine
from .engine import Value

Input = Union[Value, float]

__all__ = ["Module", "Neuron", "Layer", "MLP", "ACTIVATION_NAMES", "INITS"]

ACTIVATION_NAMES = ("relu", "leaky_relu", "prelu", "sigmoid", "tanh", "step", "linear")
INITS = ("uniform", "he", "xavier")


class Module:
    """Base class: parameters, names, gradients and state, as in ``torch.nn.Module``."""

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, parameter) pairs, names like ``layers.0.neurons.3.w[1]``."""
        return []

    def parameters(self) -> list[Value]:
        """Every trainable Value of the module."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (backward accumulates into leaves)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """{name: value} of every parameter: what ``micrograd_like.save`` writes."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Set parameters from ``state``; on any problem raise and leave the model unchanged.

        Values may be any real number the engine's ``Value`` accepts (float, int, bool,
        ``Fraction``, NumPy scalars such as ``np.float32`` and ``np.int64``); each must be
        finite and fit in a float, else a ValueError names the parameter.
        """
        from .io import _finite_float  # io is stdlib only and already imported by the package

        if not isinstance(state, dict):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state).__name__}")
        params = dict(self.named_parameters())
        missing = [k for k in params if k not in state]
        extra = [k for k in state if k not in params]
        if missing or extra:
            raise KeyError(
                f"load_state_dict: the state does not fit this model: missing {missing[:5]}"
                f"{' ...' if len(missing) > 5 else ''} ({len(missing)}), unexpected {extra[:5]}"
                f"{' ...' if len(extra) > 5 else ''} ({len(extra)})"
            )
        values = {name: _finite_float(state[name], name, "load_state_dict") for name in params}
        for name, p in params.items():  # only now that everything is checked
            p.data = values[name]

    def __call__(self, x: Sequence[Input]):  # type: ignore[no-untyped-def]
        return self.forward(x)

    def forward(self, x: Sequence[Input]):  # type: ignore[no-untyped-def]
        raise NotImplementedError


def _label_params(prefix: str, w: list[Value], b: Value, slope: Value | None) -> None:
    for i, wi in enumerate(w):
        wi.label = f"{prefix}w[{i}]"
    b.label = f"{prefix}b"
    if slope is not None:
        slope.label = f"{prefix}slope"


class Neuron(Module):
    """activation(w . x + b), with every piece readable after a forward pass.

    ``z`` is the pre-activation and ``a`` the activation of the last forward pass
    (Values, so their grads can be read after backward). ``fused=True`` computes
    w . x + b as one ``dot`` node; ``fused=False`` builds micrograd's individual
    ``*`` and ``+`` nodes for teaching. Both give the same numbers and gradients.

    Initialisation (seeded by ``rng``/``seed``): ``"uniform"`` draws weights from
    U(-1, 1) as micrograd does; ``"he"`` from N(0, 2/nin), ``"xavier"`` from
    N(0, 1/nin). Biases start at 0; a prelu slope at 0.25, as in PyTorch.
    """

    def __init__(
        self,
        nin: int,
        activation: str = "relu",
        fused: bool = True,
        init: str = "uniform",
        seed: int | None = None,
        rng: random.Random | None = None,
        prefix: str = "",
    ) -> None:
        if not isinstance(nin, int) or nin < 1:
            raise ValueError(f"Neuron: nin must be a positive int, got {nin!r}")
        if activation not in ACTIVATION_NAMES:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATION_NAMES)}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
        rng = rng or random.Random(seed)
        if init == "uniform":
            self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        else:
            std = math.sqrt((2.0 if init == "he" else 1.0) / nin)
            self.w = [Value(rng.gauss(0.0, std)) for _ in range(nin)]
        self.b = Value(0.0)
        self.slope: Value | None = Value(0.25) if activation == "prelu" else None
        self.activation = activation
        self.fused = fused
        self.prefix = prefix
        self.z: Value | None = None
        self.a: Value | None = None
        self._w = tuple(self.w)
        self._bw = (self.b, *self.w)  # the first parents of every z: see engine._dot
        # the Value method itself: z is always a Value here, so skip the checks of F.relu & co.
        self._act = None if activation in ("prelu", "linear") else getattr(Value, activation)
        self._z_label, self._a_label = f"{prefix}z", f"{prefix}a"
        _label_params(prefix, self.w, self.b, self.slope)

    def named_parameters(self) -> list[tuple[str, Value]]:
        params = [(p.label, p) for p in self.w] + [(self.b.label, self.b)]
        if self.slope is not None:
            params.append((self.slope.label, self.slope))
        return params

    def forward(self, x: Sequence[Input]) -> Value:
        """activation(w . x + b) for one sample ``x`` (numbers or Values)."""
        if len(x) != len(self._w):
            raise ValueError(f"{self.prefix or 'Neuron'}: expected {len(self._w)} inputs, got {len(x)}")
        xs = engine._as_values(x, "Neuron")
        return self._forward(xs, engine._one_xdata(xs))

    def _forward(self, xs: tuple[Value, ...], one_xdata: tuple[float, ...]) -> Value:
        """forward() for checked inputs ``xs``; ``one_xdata`` is (1.0, *their data), which a Layer gathers once."""
        if self.fused:
            z = engine._dot(self._bw, xs, one_xdata)
        else:
            z = self._unfused(xs)
        z.label = self._z_label
        act = self._act  # read as an attribute: self._act(z) would look it up as a method, slowly
        if act is not None:
            a = act(z)
        elif self.slope is not None:
            a = z.prelu(self.slope)
        else:
            a = z  # linear: the activation is the pre-activation itself
        if a is not z:
            a.label = self._a_label
        self.z, self.a = z, a
        return a

    def _unfused(self, x: Sequence[Input]) -> Value:
        """w0*x0 + w1*x1 + ... + b as separate nodes, each labelled, the way micrograd builds it."""
        total = self.b
        for i, (wi, xi) in enumerate(zip(self._w, x)):
            product = wi * xi
            product.label = f"{self.prefix}w[{i}]*x[{i}]"
            total = total + product
            total.label = f"{self.prefix}sum[{i}]"
        return total

    def __repr__(self) -> str:
        return f"Neuron(nin={len(self.w)}, activation={self.activation!r}{'' if self.fused else ', fused=False'})"


class Layer(Module):
    """``nout`` neurons that all see the same inputs."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "relu",
        fused: bool = True,
        init: str = "uniform",
        seed: int | None = None,
        rng: random.Random | None = None,
        prefix: str = "",
    ) -> None:
        if not isinstance(nout, int) or nout < 1:
            raise ValueError(f"Layer: nout must be a positive int, got {nout!r}")
        rng = rng or random.Random(seed)
        self.neurons = [
            Neuron(nin, activation, fused, init, rng=rng, prefix=f"{prefix}neurons.{j}.") for j in range(nout)
        ]
        self.nin, self.activation = nin, activation

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [item for n in self.neurons for item in n.named_parameters()]

    def forward(self, x: Sequence[Input]) -> list[Value]:
        """The outputs of every neuron, as a list."""
        if len(x) != self.nin:
            raise ValueError(f"Layer: expected {self.nin} inputs, got {len(x)}")
        # convert numbers and gather the data once for all the neurons, not once per neuron
        xs = engine._as_values(x, "Layer")
        one_xdata = engine._one_xdata(xs)
        return [n._forward(xs, one_xdata) for n in self.neurons]

    def __repr__(self) -> str:
        return f"Layer(nin={self.nin}, nout={len(self.neurons)}, activation={self.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: relu hidden layers and a linear output unless told otherwise.

    ``MLP(2, [16, 16, 1])`` is micrograd's: 337 parameters, and a single output
    comes back as a Value (several as a list). ``activations`` gives one name per
    layer; ``output_activation="softmax"`` returns probabilities (for training,
    prefer the raw logits with ``F.cross_entropy``, as in PyTorch).
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        output_activation: str = "linear",
        activations: Sequence[str] | None = None,
        fused: bool = True,
        init: str = "uniform",
        seed: int | None = None,
    ) -> None:
        nouts = list(nouts)
        if not nouts:
            raise ValueError("MLP: nouts must name at least one layer size")
        for name in [activation, output_activation] + list(activations or []):
            if name not in ACTIVATION_NAMES and name != "softmax":
                raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATION_NAMES)}")
        self.softmax = output_activation == "softmax"
        if activations is None:
            out_act = "linear" if self.softmax else output_activation
            activations = [activation] * (len(nouts) - 1) + [out_act]
        elif len(activations) != len(nouts):
            raise ValueError(f"MLP: got {len(activations)} activations for {len(nouts)} layers")
        rng = random.Random(seed)
        sizes = [nin] + nouts
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activations[i], fused, init, rng=rng, prefix=f"layers.{i}.")
            for i in range(len(nouts))
        ]
        self.nin = nin

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [item for layer in self.layers for item in layer.named_parameters()]

    def forward(self, x: Sequence[Input]) -> Value | list[Value]:
        """Run one sample through every layer; one output comes back as a Value."""
        out: Sequence[Input] = x
        for layer in self.layers:
            out = layer(out)
        if self.softmax:
            from .functional import softmax

            out = softmax(out)
        return out[0] if len(out) == 1 else list(out)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"MLP(\n{inner}\n)"

