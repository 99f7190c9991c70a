"""Move a model to PyTorch and back: ``to_torch(mlp)`` and ``from_torch(sequential)``, weights and all.

A learner who outgrows scalars keeps their trained network: ``to_torch`` builds a
``torch.nn.Sequential`` of ``Linear`` layers and activation modules that computes the
same function (in float64, so outputs and gradients agree to rounding), and
``from_torch`` reads such a Sequential back into an ``MLP``. torch is optional
(``pip install "micrograd_like[torch]"``) and imported only when one of them is called.

How activations map (one torch module after each ``Linear``):

==============  =======================================================
micrograd_like  torch
==============  =======================================================
relu            ``ReLU()``
leaky_relu      ``LeakyReLU(0.01)`` (a neuron's slope is always 0.01)
prelu           ``PReLU(num_parameters=nout)``: one learnable slope per neuron
sigmoid         ``Sigmoid()``
tanh            ``Tanh()``
linear          nothing (``from_torch`` also reads ``Identity()`` as linear)
softmax output  ``Softmax(dim=-1)`` last
step            none: torch has no step module (and nothing learns through it)
==============  =======================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .nn import MLP, Layer

if TYPE_CHECKING:  # only for the annotations: importing this module never imports torch
    import torch

__all__ = ["to_torch", "from_torch", "SUPPORTED_TORCH_MODULES"]

INSTALL_HINT = 'pip install "micrograd_like[torch]"  (or: pip install torch)'

# what from_torch reads, in the order its error messages list them
SUPPORTED_TORCH_MODULES = ("Linear", "ReLU", "LeakyReLU(0.01)", "PReLU", "Sigmoid", "Tanh", "Identity",
                           "Softmax(dim=-1) last")

_LEAKY_SLOPE = 0.01  # what Value.leaky_relu uses when a Neuron calls it, and torch's default too

# activations whose torch module takes no arguments and holds no parameters, both ways round
_PLAIN = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}
_PLAIN_BACK = {torch_name: name for name, torch_name in _PLAIN.items()}
_ACTIVATION_NAMES = {*_PLAIN_BACK, "LeakyReLU", "PReLU", "Identity"}  # torch activations from_torch reads


def _torch() -> Any:
    """The torch module, or an ImportError that says how to install it."""
    try:
        import torch
    except ImportError as e:
        raise ImportError(f"micrograd_like.bridge needs PyTorch, which is not installed; install it with: "
                          f"{INSTALL_HINT}") from e
    return torch


# ---- micrograd_like -> torch ---------------------------------------------------------------


def _layer_activation(layer: Layer, where: str) -> str:
    """The one activation every neuron of ``layer`` uses (neurons can be switched one by one)."""
    names = {n.activation for n in layer.neurons}
    if len(names) > 1:
        raise ValueError(f"{where}: its neurons use different activations ({', '.join(sorted(names))}); a torch "
                         "layer applies one activation to all its outputs")
    return names.pop()


def _linear(layer: Layer, torch: Any) -> Any:
    """A float64 ``torch.nn.Linear`` holding the layer's weights (row j = neuron j) and biases."""
    # skip_init: the weights are overwritten at once, so drawing them would only move torch's global RNG
    linear = torch.nn.utils.skip_init(torch.nn.Linear, layer.nin, len(layer.neurons), dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64))
        linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
    return linear


def _activation_module(layer: Layer, name: str, where: str, torch: Any) -> Any | None:
    """The torch module for activation ``name`` (None for linear), or a ValueError when torch has none."""
    if name == "linear":
        return None
    if name in _PLAIN:
        return getattr(torch.nn, _PLAIN[name])()
    if name == "leaky_relu":
        return torch.nn.LeakyReLU(_LEAKY_SLOPE)
    if name == "prelu":
        slopes = [n.slope.data for n in layer.neurons]  # type: ignore[union-attr]  # a prelu neuron has one
        module = torch.nn.PReLU(num_parameters=len(slopes), dtype=torch.float64)
        with torch.no_grad():
            module.weight.copy_(torch.tensor(slopes, dtype=torch.float64))
        return module
    raise ValueError(f"{where}: activation {name!r} has no torch module (torch has no binary step, and no "
                     "gradient flows through one); switch it to another activation first")


def to_torch(model: MLP | Layer) -> torch.nn.Sequential:
    """A ``torch.nn.Sequential`` (float64) that computes what ``model`` computes, with copies of its weights.

    Each layer becomes a ``Linear`` followed by its activation's module (see the table
    in this module's docstring); an MLP with a softmax output ends with ``Softmax(dim=-1)``.
    The torch model takes a batch, a tensor of shape (N, nin) in float64, and returns
    (N, nout): even one output stays a column, where the MLP returns a lone Value.
    Parameters are copied, not shared: training one does not move the other.
    """
    torch = _torch()
    if isinstance(model, Layer):
        layers, softmax = [model], False
    elif isinstance(model, MLP):
        layers, softmax = model.layers, model.softmax
    else:
        raise TypeError(f"to_torch: expected an MLP or a Layer, got {type(model).__name__}")
    modules = []
    for i, layer in enumerate(layers):
        where = f"to_torch: layer {i}"
        name = _layer_activation(layer, where)
        modules.append(_linear(layer, torch))
        activation = _activation_module(layer, name, where, torch)
        if activation is not None:
            modules.append(activation)
    if softmax:
        modules.append(torch.nn.Softmax(dim=-1))
    return torch.nn.Sequential(*modules)


# ---- torch -> micrograd_like ---------------------------------------------------------------


def _unsupported(i: int, module: Any, why: str = "") -> ValueError:
    kind = type(module).__name__
    return ValueError(f"from_torch: layer {i}: {kind}{' ' + why if why else ''} is not supported; supported: "
                      f"{', '.join(SUPPORTED_TORCH_MODULES)}")


def _read_activation(i: int, module: Any, linear: Any, torch: Any) -> tuple[str, list[float] | None]:
    """(activation name, prelu slopes or None) for the activation module at Sequential index ``i``."""
    kind = type(module)  # exact types: a subclass may compute something else in its forward()
    if kind.__name__ in _PLAIN_BACK and kind is getattr(torch.nn, kind.__name__):
        return _PLAIN_BACK[kind.__name__], None
    if kind is torch.nn.Identity:
        return "linear", None
    if kind is torch.nn.LeakyReLU:
        if module.negative_slope != _LEAKY_SLOPE:
            raise _unsupported(i, module, f"with negative_slope={module.negative_slope!r} (a neuron's leaky relu "
                                          f"has slope {_LEAKY_SLOPE}; for a learnable slope use PReLU)")
        return "leaky_relu", None
    if kind is torch.nn.PReLU:
        n = linear.out_features
        if module.num_parameters != n:
            raise _unsupported(i, module, f"with {module.num_parameters} slope(s) after a Linear of {n} outputs "
                                          f"(each neuron has its own slope: use PReLU(num_parameters={n}))")
        return "prelu", module.weight.detach().double().tolist()
    raise _unsupported(i, module)


def _read_sequential(module: Any, torch: Any) -> tuple[list[tuple[Any, str, list[float] | None]], bool]:
    """The layers of a Sequential as (Linear, activation, prelu slopes), and whether it ends with a softmax."""
    children = list(module) if type(module) is torch.nn.Sequential else [module]
    if not children:
        raise ValueError("from_torch: the Sequential is empty; it needs at least one Linear")
    layers: list[tuple[Any, str, list[float] | None]] = []
    softmax = False
    for i, child in enumerate(children):
        if softmax:
            raise _unsupported(i, child, "after the Softmax (Softmax must come last)")
        if type(child) is torch.nn.Linear:
            _check_linear(i, child, layers)
            layers.append((child, "linear", None))
        elif type(child) is torch.nn.Softmax:
            if child.dim not in (-1, 1) or not layers:
                raise _unsupported(i, child, f"with dim={child.dim!r}" if layers else "before any Linear")
            softmax = True
        elif not layers or children[i - 1] is not layers[-1][0]:  # an activation belongs right after a Linear
            what = "before any Linear" if not layers else "right after another activation"
            raise _unsupported(i, child, what if type(child).__name__ in _ACTIVATION_NAMES else "")
        else:
            linear = layers[-1][0]
            layers[-1] = (linear, *_read_activation(i, child, linear, torch))
    return layers, softmax


def _check_linear(i: int, linear: Any, layers: Sequence[tuple[Any, str, list[float] | None]]) -> None:
    if any(linear is earlier for earlier, _, _ in layers):
        raise _unsupported(i, linear, "used twice (shared weights; a neuron owns its weights)")
    if linear.bias is None:
        raise _unsupported(i, linear, "without a bias (bias=False; every neuron has a bias)")
    if layers and layers[-1][0].out_features != linear.in_features:
        raise ValueError(f"from_torch: layer {i}: Linear takes {linear.in_features} inputs but the Linear before "
                         f"it gives {layers[-1][0].out_features} outputs")


def _state(layers: Sequence[tuple[Any, str, list[float] | None]]) -> dict[str, float]:
    """The MLP's state_dict, parameter names as MLP.named_parameters() gives them."""
    state: dict[str, float] = {}
    for i, (linear, _, slopes) in enumerate(layers):
        weights = linear.weight.detach().double().tolist()
        biases = linear.bias.detach().double().tolist()
        for j, (row, bias) in enumerate(zip(weights, biases)):
            prefix = f"layers.{i}.neurons.{j}."
            state.update({f"{prefix}w[{k}]": w for k, w in enumerate(row)})
            state[f"{prefix}b"] = bias
            if slopes is not None:
                state[f"{prefix}slope"] = slopes[j]
    return state


def from_torch(module: torch.nn.Module, fused: bool = True) -> MLP:
    """An ``MLP`` with the weights of ``module``: a ``torch.nn.Sequential`` of ``Linear`` and activations.

    Each ``Linear`` (with bias) becomes a layer; the activation module after it (if
    any) becomes the layer's activation (see the table in this module's docstring), and
    a final ``Softmax(dim=-1)`` becomes ``output_activation="softmax"``. A lone
    ``Linear`` is read as a one-layer MLP. Anything else (a Conv2d, Dropout, a
    LeakyReLU with another slope, two activations in a row, ...) raises a ValueError
    naming the first part it cannot read, by its index in the Sequential.
    Weights of any floating dtype are read as Python floats (exactly, for float64);
    ``fused`` is passed on to the neurons.
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):  # a subclass of Sequential is refused later, by name
        raise TypeError(f"from_torch: expected a torch.nn.Sequential, got {type(module).__name__}")
    layers, softmax = _read_sequential(module, torch)
    model = MLP(layers[0][0].in_features, [linear.out_features for linear, _, _ in layers],
                activations=[name for _, name, _ in layers], output_activation="softmax" if softmax else "linear",
                fused=fused)
    model.load_state_dict(_state(layers))  # checks every number is finite, naming the parameter if not
    return model

