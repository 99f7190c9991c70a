"""Neural networks made of Values: Module, Neuron, Layer and MLP, with PyTorch's names."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from . import engine
from .engine import Value

Input = Value | float

__all__ = ["Module", "Neuron", "Layer", "MLP", "ACTIVATION_NAMES", "INITS", "HealthReport", "diagnose"]

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


class _Weights(list):  # type: ignore[type-arg]
    """A neuron's list of weights: assigning an element updates what the neuron computes.

    The neuron keeps its (bias, *weights) in a tuple that every forward pass shares (see
    engine._dot), so a plain list would let ``n.w[0] = Value(3.0)`` change ``parameters()``
    but not the output. Changing how many weights there are is refused: that is a new neuron.
    """

    __slots__ = ("_neuron",)

    def __init__(self, values: list[Value], neuron: Neuron) -> None:
        super().__init__(values)
        self._neuron = neuron

    def __setitem__(self, index, value):  # type: ignore[no-untyped-def]
        new = list(self)
        new[index] = value
        self._neuron.w = new  # the neuron checks the new weights and refreshes its tuple

    def _fixed_size(self, *args: object, **kwargs: object) -> None:
        raise TypeError(
            f"{self._neuron._where()}: a neuron has exactly {len(self)} weights (one per input); "
            "assign them (n.w[i] = Value(...) or n.w = [...]) or build a new Neuron"
        )

    append = extend = insert = pop = remove = clear = sort = reverse = _fixed_size  # type: ignore[assignment]
    __delitem__ = __iadd__ = __imul__ = _fixed_size  # type: ignore[assignment]

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (list, (list(self),))  # copies and pickles are plain lists; the neuron rewraps them

    def __deepcopy__(self, memo: dict) -> list[Value]:
        import copy

        return [copy.deepcopy(v, memo) for v in self]


def _as_parameter(value: object, where: str) -> Value:
    if not isinstance(value, Value):
        raise TypeError(f"{where}: a parameter must be a Value, got {type(value).__name__} {value!r:.40}; "
                        "wrap a number as Value(number)")
    return value


class Neuron(Module):
    """activation(w . x + b), with every piece readable after a forward pass.

    ``z`` is the pre-activation and ``a`` the activation of the last forward pass
    (Values, so their grads can be read after backward). ``fused=True`` computes
    w . x + b as one ``dot`` node; ``fused=False`` builds micrograd's individual
    ``*`` and ``+`` nodes for teaching. Both give the same numbers and gradients.

    The weights ``w``, bias ``b``, ``slope`` (prelu) and ``activation`` can be
    reassigned, whole or one weight at a time (``n.w[0] = Value(3.0)``), and the
    next forward pass uses them.

    Initialisation (seeded by ``rng``/``seed``): ``"uniform"`` draws weights from
    U(-1, 1) as micrograd does; ``"he"`` from N(0, 2/nin) (Kaiming normal, for relu),
    ``"xavier"`` from N(0, 2/(nin + fan_out)) (Glorot normal, as
    ``torch.nn.init.xavier_normal_``; a Layer passes its number of neurons as ``fan_out``).
    Biases start at 0; a prelu slope at 0.25, as in PyTorch.
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
        fan_out: int = 1,
    ) -> None:
        if not isinstance(nin, int) or nin < 1:
            raise ValueError(f"Neuron: nin must be a positive int, got {nin!r}")
        if isinstance(fan_out, bool) or not isinstance(fan_out, int) or fan_out < 1:
            raise ValueError(f"Neuron: fan_out must be a positive int, got {fan_out!r}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
        rng = rng or random.Random(seed)
        if init == "uniform":
            w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        else:
            std = math.sqrt(2.0 / nin) if init == "he" else math.sqrt(2.0 / (nin + fan_out))
            w = [Value(rng.gauss(0.0, std)) for _ in range(nin)]
        self.prefix = prefix
        self._nin = nin
        self._slope: Value | None = None
        self.activation = activation  # also makes the slope of a prelu
        self._b = Value(0.0, label=f"{prefix}b")
        self.w = w  # labels them and builds the tuple the forward pass shares
        self.fused = fused
        self.z: Value | None = None
        self.a: Value | None = None
        self._z_label, self._a_label = f"{prefix}z", f"{prefix}a"

    def _where(self) -> str:
        return self.prefix.rstrip(".") or "Neuron"

    # ---- parameters a learner may reassign: each refreshes what forward() uses ----

    @property
    def w(self) -> list[Value]:
        """The weights, one per input: assign the list or one element to change them."""
        return self._w

    @w.setter
    def w(self, values: Sequence[Value]) -> None:
        values = list(values)
        if len(values) != self._nin:
            raise ValueError(f"{self._where()}: got {len(values)} weights for {self._nin} inputs; they must match")
        values = [_as_parameter(v, f"{self._where()}.w[{i}]") for i, v in enumerate(values)]
        for i, v in enumerate(values):
            if not v.label:
                v.label = f"{self.prefix}w[{i}]"  # for pictures; names come from named_parameters()
        self._w = _Weights(values, self)
        self._bw = (self._b, *values)  # the first parents of every z: see engine._dot

    @property
    def b(self) -> Value:
        """The bias."""
        return self._b

    @b.setter
    def b(self, value: Value) -> None:
        self._b = _as_parameter(value, f"{self._where()}.b")
        if not value.label:
            value.label = f"{self.prefix}b"
        self._bw = (value, *self._w)

    @property
    def slope(self) -> Value | None:
        """The learnable negative slope of a prelu neuron (None for other activations)."""
        return self._slope

    @slope.setter
    def slope(self, value: Value | None) -> None:
        if self._activation != "prelu":
            raise ValueError(f"{self._where()}: only a prelu neuron has a slope; this one is {self._activation!r}")
        self._slope = _as_parameter(value, f"{self._where()}.slope")
        if not value.label:  # type: ignore[union-attr]
            value.label = f"{self.prefix}slope"  # type: ignore[union-attr]

    @property
    def activation(self) -> str:
        """The activation's name; assigning another switches it (a prelu gets a slope of 0.25)."""
        return self._activation

    @activation.setter
    def activation(self, name: str) -> None:
        if name not in ACTIVATION_NAMES:
            raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATION_NAMES)}")
        self._activation = name
        # the Value method itself: z is always a Value here, so skip the checks of F.relu & co.
        self._act = None if name in ("prelu", "linear") else getattr(Value, name)
        if name != "prelu":
            self._slope = None
        elif self._slope is None:
            self._slope = Value(0.25, label=f"{self.prefix}slope")

    def named_parameters(self) -> list[tuple[str, Value]]:
        # names come from where a parameter sits, never from its label (which is for pictures)
        params = [(f"w[{i}]", p) for i, p in enumerate(self._w)] + [("b", self._b)]
        if self._slope is not None:
            params.append(("slope", self._slope))
        return params

    def __getstate__(self) -> dict:
        # the last forward pass's graph is not part of a model: copies and pickles leave it
        # behind (a deep graph would overflow the recursion of copy and pickle)
        state = self.__dict__.copy()
        state["z"] = state["a"] = None
        state["_w"] = list(self._w)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._w = _Weights(state["_w"], self)

    def forward(self, x: Sequence[Input]) -> Value:
        """activation(w . x + b) for one sample ``x`` (numbers or Values)."""
        if len(x) != self._nin:
            raise ValueError(f"{self._where()}: expected {self._nin} inputs, got {len(x)}")
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
        elif self._slope is not None:
            a = z.prelu(self._slope)
        else:
            a = z  # linear: the activation is the pre-activation itself
        if a is not z:
            a.label = self._a_label
        self.z, self.a = z, a
        return a

    def _unfused(self, x: Sequence[Input]) -> Value:
        """w0*x0 + w1*x1 + ... + b as separate nodes, each labelled, the way micrograd builds it."""
        total = self._b
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
            Neuron(nin, activation, fused, init, rng=rng, prefix=f"{prefix}neurons.{j}.", fan_out=nout)
            for j in range(nout)
        ]
        self.nin, self.activation = nin, activation

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [(f"neurons.{j}.{name}", p) for j, n in enumerate(self.neurons) for name, p in n.named_parameters()]

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
        return [(f"layers.{i}.{name}", p)
                for i, layer in enumerate(self.layers) for name, p in layer.named_parameters()]

    def forward(self, x: Sequence[Input]) -> Value | list[Value]:
        """Run one sample through every layer; one output comes back as a Value."""
        out: list[Value] = self.layers[0](x)
        for layer in self.layers[1:]:
            out = layer(out)
        if self.softmax:
            from .functional import softmax

            out = softmax(out)
        return out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"MLP(\n{inner}\n)"



# at the end: health needs nothing from here at import time, and nn.diagnose is where a learner looks
from .health import HealthReport, diagnose  # noqa: E402
