"""to_torch and from_torch carry a model across with the same weights: outputs and gradients agree to 1e-12
both ways, a round trip gives the same parameters, what torch cannot express is refused by name, and
without torch the bridge says how to install it."""

import math
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd_like as mg
from micrograd_like import bridge
from micrograd_like.nn import MLP, Layer

try:
    import torch
except ImportError:  # the tests that compare with torch skip; the one that simulates its absence still runs
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs PyTorch (pip install 'micrograd_like[torch]')")

TOL = 1e-12
ACTIVATIONS = ["relu", "leaky_relu", "prelu", "sigmoid", "tanh", "linear"]  # every one torch has a module for


def close(a, b):
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


# ---- building models and comparing them ------------------------------------------------------


@st.composite
def architectures(draw):
    """(nin, layer sizes, one activation per layer, softmax output?)."""
    nin = draw(st.integers(1, 4))
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    activations = draw(st.lists(st.sampled_from(ACTIVATIONS), min_size=len(sizes), max_size=len(sizes)))
    return nin, sizes, activations, draw(st.booleans())


def numbers(n, bound=2.0):
    return st.lists(st.floats(-bound, bound, allow_nan=False), min_size=n, max_size=n)


def build_mlp(arch, params):
    """An MLP of ``arch`` whose parameters, in named_parameters() order, are ``params``."""
    nin, sizes, activations, softmax = arch
    model = MLP(nin, sizes, activations=activations, output_activation="softmax" if softmax else "linear")
    model.load_state_dict(dict(zip(model.state_dict(), params)))
    return model


def build_sequential(arch, params):
    """The torch.nn.Sequential a learner would write for ``arch``, float64, filled from ``params``."""
    nin, sizes, activations, softmax = arch
    values = iter(params)
    modules = []
    for n_in, n_out, name in zip([nin] + sizes, sizes, activations):
        linear = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[next(values) for _ in range(n_in)] for _ in range(n_out)]))
            linear.bias.copy_(torch.tensor([next(values) for _ in range(n_out)]))
        modules.append(linear)
        if name == "prelu":
            prelu = torch.nn.PReLU(n_out, dtype=torch.float64)
            with torch.no_grad():
                prelu.weight.copy_(torch.tensor([next(values) for _ in range(n_out)]))
            modules.append(prelu)
        elif name == "leaky_relu":
            modules.append(torch.nn.LeakyReLU(0.01))
        elif name != "linear":
            modules.append({"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}[name]())
    if softmax:
        modules.append(torch.nn.Softmax(dim=-1))
    return torch.nn.Sequential(*modules)


def n_params(arch):
    nin, sizes, activations, _ = arch
    return sum(n_out * (n_in + 1) + (n_out if name == "prelu" else 0)
               for n_in, n_out, name in zip([nin] + sizes, sizes, activations))


def torch_named_grads(seq, what="grad"):
    """{MLP parameter name: number} for a Sequential's parameters (or their grads), by the MLP's names."""
    out = {}
    layer = -1
    for module in seq:
        if isinstance(module, torch.nn.Linear):
            layer += 1
            weight = getattr(module.weight, what) if what == "grad" else module.weight.detach()
            bias = getattr(module.bias, what) if what == "grad" else module.bias.detach()
            for j, row in enumerate(weight.tolist()):
                out.update({f"layers.{layer}.neurons.{j}.w[{k}]": w for k, w in enumerate(row)})
                out[f"layers.{layer}.neurons.{j}.b"] = bias[j].item()
        elif isinstance(module, torch.nn.PReLU):
            weight = module.weight.grad if what == "grad" else module.weight.detach()
            for j, a in enumerate(weight.tolist()):
                out[f"layers.{layer}.neurons.{j}.slope"] = a
    return out


def assert_same_function_and_gradients(model, seq, xs, coefficients):
    """Same outputs for the batch ``xs``; same grads of sum(c * output) for every parameter and input."""
    model.zero_grad()
    x_values = [[mg.Value(v) for v in row] for row in xs]
    outputs = [model(row) for row in x_values]
    outputs = [o if isinstance(o, list) else [o] for o in outputs]
    mg.sum([c * o for row_c, row_o in zip(coefficients, outputs) for c, o in zip(row_c, row_o)]).backward()

    x_tensor = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    seq.zero_grad()
    y = seq(x_tensor)
    (y * torch.tensor(coefficients, dtype=torch.float64)).sum().backward()

    assert y.shape == (len(xs), len(outputs[0]))
    for mine, theirs in zip(outputs, y.tolist()):
        assert all(close(o.data, t) for o, t in zip(mine, theirs)), (mine, theirs)
    torch_grads = torch_named_grads(seq)
    assert set(torch_grads) == {name for name, _ in model.named_parameters()}
    for name, p in model.named_parameters():
        assert close(p.grad, torch_grads[name]), (name, p.grad, torch_grads[name])
    for row_v, row_t in zip(x_values, x_tensor.grad.tolist()):
        assert all(close(v.grad, t) for v, t in zip(row_v, row_t))


@st.composite
def cases(draw):
    """An architecture, its parameters, a batch of 1-3 inputs and the output weights of the scalar to backprop."""
    arch = draw(architectures())
    params = draw(numbers(n_params(arch)))
    batch = draw(st.integers(1, 3))
    xs = [draw(numbers(arch[0], 3.0)) for _ in range(batch)]
    coefficients = [draw(numbers(arch[1][-1])) for _ in range(batch)]
    return arch, params, xs, coefficients


# ---- both directions agree with torch --------------------------------------------------------


@needs_torch
@settings(max_examples=150)
@given(cases())
def test_to_torch_computes_the_same_outputs_and_gradients(case):
    arch, params, xs, coefficients = case
    model = build_mlp(arch, params)
    seq = bridge.to_torch(model)
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    assert_same_function_and_gradients(model, seq, xs, coefficients)


@needs_torch
@settings(max_examples=150)
@given(cases())
def test_from_torch_computes_the_same_outputs_and_gradients(case):
    arch, params, xs, coefficients = case
    seq = build_sequential(arch, params)
    model = bridge.from_torch(seq)
    assert [layer.activation for layer in model.layers] == arch[2] and model.softmax == arch[3]
    assert_same_function_and_gradients(model, seq, xs, coefficients)


@needs_torch
@given(cases())
def test_a_round_trip_gives_back_equal_parameters(case):
    arch, params, _, _ = case
    model = build_mlp(arch, params)
    back = bridge.from_torch(bridge.to_torch(model))
    assert back.state_dict() == model.state_dict()  # exactly: float64 holds every float
    assert [layer.activation for layer in back.layers] == arch[2] and back.softmax == model.softmax
    seq = build_sequential(arch, params)
    again = bridge.to_torch(bridge.from_torch(seq))
    assert [type(m) for m in again] == [type(m) for m in seq]
    assert torch_named_grads(again, "data") == torch_named_grads(seq, "data")


@needs_torch
def test_to_torch_builds_what_a_learner_would_write():
    model = MLP(3, [4, 4, 2], activations=["relu", "prelu", "linear"], output_activation="softmax", seed=0)
    seq = bridge.to_torch(model)
    assert isinstance(seq, torch.nn.Sequential)
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear", "PReLU", "Linear", "Softmax"]
    assert (seq[0].in_features, seq[0].out_features, seq[4].out_features) == (3, 4, 2)
    assert seq[3].num_parameters == 4 and seq[3].weight.tolist() == [0.25] * 4
    assert seq[5].dim == -1
    assert seq[0].weight[2].tolist() == [w.data for w in model.layers[0].neurons[2].w]
    leaky = bridge.to_torch(MLP(2, [3, 1], activation="leaky_relu", seed=0))
    assert [type(m).__name__ for m in leaky] == ["Linear", "LeakyReLU", "Linear"]
    assert leaky[1].negative_slope == 0.01


@needs_torch
def test_the_copies_are_independent():
    model = MLP(2, [3, 1], seed=0)
    seq = bridge.to_torch(model)
    with torch.no_grad():
        seq[0].weight[0, 0] = 42.0
    assert model.layers[0].neurons[0].w[0].data != 42.0
    back = bridge.from_torch(seq)
    seq[0].weight.data[0, 1] = -42.0
    assert back.layers[0].neurons[0].w[1].data != -42.0 and back.layers[0].neurons[0].w[0].data == 42.0


@needs_torch
def test_to_torch_leaves_torchs_random_numbers_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    bridge.to_torch(MLP(8, [16, 4], seed=0))
    assert torch.equal(torch.rand(3), expected)  # so a learner's seeded torch code runs as before


@needs_torch
def test_a_layer_and_a_lone_linear_cross_too():
    layer = Layer(3, 2, activation="tanh", seed=1)
    seq = bridge.to_torch(layer)
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh"]
    x = [0.5, -1.0, 2.0]
    assert [v.data for v in layer(x)] == pytest.approx(seq(torch.tensor([x], dtype=torch.float64))[0].tolist(),
                                                      rel=TOL)
    lone = torch.nn.Linear(2, 3)
    model = bridge.from_torch(lone)
    assert [layer.activation for layer in model.layers] == ["linear"]
    # a float32 weight is read exactly as the float it is
    assert model.layers[0].neurons[1].w[0].data == lone.weight[1, 0].item()


@needs_torch
def test_from_torch_reads_identity_as_linear_and_a_softmax_after_an_activation():
    seq = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Identity(), torch.nn.Linear(3, 2), torch.nn.Sigmoid(),
                              torch.nn.Softmax(dim=1))
    model = bridge.from_torch(seq)
    assert [layer.activation for layer in model.layers] == ["linear", "sigmoid"] and model.softmax
    x = [0.3, -0.7]
    expected = seq(torch.tensor([x])).tolist()[0]
    assert [v.data for v in model(x)] == pytest.approx(expected, rel=1e-6)  # the Sequential is float32


# ---- what cannot cross is refused, by name -------------------------------------------------


if torch is not None:
    class _Doubled(torch.nn.ReLU):
        """A ReLU by type, yet another function: read by exact type, it is refused, not taken for a ReLU."""

        def forward(self, x):
            return 2 * super().forward(x)


def _refusals():
    nn = torch.nn
    return [
        (nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Conv2d(1, 1, 1)),
         r"layer 2: Conv2d is not supported; supported: Linear, ReLU, LeakyReLU\(0.01\), PReLU, Sigmoid, Tanh, "
         r"Identity, Softmax\(dim=-1\) last$"),
        (nn.Sequential(nn.Linear(4, 3), nn.Dropout()), "layer 1: Dropout is not supported"),
        (nn.Sequential(nn.ReLU(), nn.Linear(4, 3)), "layer 0: ReLU before any Linear is not supported"),
        (nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Tanh()),
         "layer 2: Tanh right after another activation is not supported"),
        (nn.Sequential(nn.Linear(4, 3), nn.LeakyReLU(0.2)), "layer 1: LeakyReLU with negative_slope=0.2"),
        (nn.Sequential(nn.Linear(4, 3), nn.PReLU()),
         r"layer 1: PReLU with 1 slope\(s\) after a Linear of 3 outputs .*use PReLU\(num_parameters=3\)"),
        (nn.Sequential(nn.Linear(4, 3, bias=False)), "layer 0: Linear without a bias"),
        (nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=0)), "layer 1: Softmax with dim=0 is not supported"),
        (nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=-1), nn.Linear(3, 2)),
         r"layer 2: Linear after the Softmax \(Softmax must come last\)"),
        (nn.Sequential(nn.Linear(4, 3), nn.Linear(2, 1)),
         "layer 1: Linear takes 2 inputs but the Linear before it gives 3 outputs"),
        (nn.Sequential(nn.Linear(4, 3), nn.Sequential(nn.ReLU())), "layer 1: Sequential is not supported"),
        (nn.Sequential(), "the Sequential is empty"),
        (nn.Sequential(_shared := nn.Linear(3, 3), nn.ReLU(), _shared), "layer 2: Linear used twice"),
        (nn.Sequential(nn.Linear(3, 3), _Doubled()), "layer 1: _Doubled is not supported"),
        (nn.Conv2d(1, 1, 1), "layer 0: Conv2d is not supported"),
    ]


@needs_torch
def test_from_torch_names_the_first_part_it_cannot_read():
    for module, message in _refusals():
        with pytest.raises(ValueError, match="^from_torch: " + message):
            bridge.from_torch(module)


@needs_torch
def test_from_torch_refuses_what_is_no_torch_module_and_weights_that_are_not_finite():
    with pytest.raises(TypeError, match="expected a torch.nn.Sequential, got MLP"):
        bridge.from_torch(MLP(2, [1]))
    broken = torch.nn.Sequential(torch.nn.Linear(2, 1))
    with torch.no_grad():
        broken[0].weight[0, 1] = math.nan
    with pytest.raises(ValueError, match=r"layers\.0\.neurons\.0\.w\[1\]"):
        bridge.from_torch(broken)


@needs_torch
def test_to_torch_refuses_a_step_mixed_activations_and_what_is_no_model():
    with pytest.raises(ValueError, match="to_torch: layer 1: activation 'step' has no torch module"):
        bridge.to_torch(MLP(2, [3, 1], activations=["relu", "step"]))
    model = MLP(2, [3, 1], seed=0)
    model.layers[0].neurons[1].activation = "tanh"
    with pytest.raises(ValueError, match=r"to_torch: layer 0: its neurons use different activations \(relu, tanh\)"):
        bridge.to_torch(model)
    with pytest.raises(TypeError, match="expected an MLP or a Layer, got Sequential"):
        bridge.to_torch(torch.nn.Sequential())


# ---- torch stays optional ------------------------------------------------------------------


def test_without_torch_the_bridge_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # what an import of a missing package meets
    model = MLP(2, [1], seed=0)
    for call in (lambda: bridge.to_torch(model), lambda: bridge.from_torch(object())):
        with pytest.raises(ImportError, match=r'needs PyTorch.*pip install "micrograd_like\[torch\]"'):
            call()


def test_importing_the_package_and_the_bridge_never_imports_torch():
    probe = ("import sys, micrograd_like, micrograd_like.bridge, micrograd_like.data, micrograd_like.train; "
             "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"
