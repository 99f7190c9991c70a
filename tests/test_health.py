"""Network health: dead relus, saturated neurons and vanishing layers, found in models built to have them."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import micrograd_like as mg
from micrograd_like import functional as F
from micrograd_like.health import HealthReport
from micrograd_like.nn import MLP, diagnose


def set_neuron(model, layer, neuron, w, b):
    n = model.layers[layer].neurons[neuron]
    n.w = [mg.Value(float(v)) for v in w]
    n.b = mg.Value(float(b))


def one_neuron(activation, w=1.0, b=0.0):
    """MLP(1, [1]) computing activation(w * x + b): its one neuron sees each row's x directly."""
    model = MLP(1, [1], activations=[activation], seed=0)
    set_neuron(model, 0, 0, [w], b)
    return model


X2 = [[1.0, 2.0], [-1.0, 0.5], [3.0, -2.0], [0.0, 0.0]]


def test_a_relu_neuron_that_is_0_on_every_row_is_dead_and_one_positive_row_keeps_it_alive():
    model = MLP(2, [3, 1], seed=0)
    set_neuron(model, 0, 0, [0, 0], -1)  # z = -1 on every row
    set_neuron(model, 0, 1, [1, 0], -2.5)  # z > 0 only on the row x[0] = 3
    set_neuron(model, 0, 2, [1, 1], 0)  # z = 0 at the origin and on row 1 (relu(0) = 0), 3 elsewhere
    report = diagnose(model, X2)
    assert report.dead == ("layers.0.neurons.0",)
    assert report.relu_neurons == 3 and report.squashing_neurons == 0
    assert not report.healthy
    assert diagnose(model, X2[:2] + X2[3:]).dead == ("layers.0.neurons.0", "layers.0.neurons.1")


def test_a_neuron_after_a_dead_layer_is_dead_too_and_the_dead_layer_gets_no_gradient():
    model = MLP(2, [2, 2, 1], seed=0)
    set_neuron(model, 0, 0, [0, 0], -1)
    set_neuron(model, 0, 1, [0, 0], -1)
    set_neuron(model, 1, 0, [1, 1], -0.5)  # sees only zeros: z = -0.5
    set_neuron(model, 1, 1, [1, 1], 0.5)  # z = 0.5: alive, a constant
    report = diagnose(model, X2)
    assert report.dead == ("layers.0.neurons.0", "layers.0.neurons.1", "layers.1.neurons.0")
    assert report.grad_norms["layers.0"] == 0.0
    assert report.vanishing == ("layers.0",)  # no gradient at all is the extreme of vanishing
    assert "layers.0 (relu) 0  vanishing: no gradient at all" in str(report)


@given(st.lists(st.lists(st.integers(-5, 5), min_size=2, max_size=2), min_size=1, max_size=8),
       st.lists(st.integers(-3, 3), min_size=2, max_size=2), st.integers(-3, 3))
def test_a_relu_neuron_is_dead_exactly_when_its_pre_activation_is_never_positive(rows, w, b):
    model = MLP(2, [1, 1], seed=0)
    set_neuron(model, 0, 0, w, b)
    X = [[float(v) for v in row] for row in rows]
    never_positive = all(w[0] * x0 + w[1] * x1 + b <= 0 for x0, x1 in rows)  # integers: exact
    assert diagnose(model, X).dead == (("layers.0.neurons.0",) if never_positive else ())


def test_leaky_relu_and_linear_neurons_are_never_called_dead():
    model = MLP(2, [2, 1], activations=["leaky_relu", "linear"], seed=0)
    set_neuron(model, 0, 0, [0, 0], -1)
    set_neuron(model, 1, 0, [0, 0], 0)
    report = diagnose(model, X2)
    assert report.dead == () and report.relu_neurons == 0


@pytest.mark.parametrize("activation, b, a", [("tanh", 10.0, math.tanh(10)), ("tanh", -10.0, -math.tanh(10)),
                                              ("sigmoid", 10.0, 1 / (1 + math.exp(-10))),
                                              ("sigmoid", -10.0, 1 / (1 + math.exp(10)))])
def test_a_neuron_stuck_at_either_end_of_tanh_or_sigmoid_is_saturated(activation, b, a):
    model = one_neuron(activation, w=0.0, b=b)
    report = diagnose(model, [[0.0], [1.0], [2.0]])
    assert model.layers[0].neurons[0]([0.0]).data == pytest.approx(a)
    assert report.saturated == {"layers.0.neurons.0": 1.0}
    assert report.squashing_neurons == 1 and report.dead == ()


@pytest.mark.parametrize("activation, near, far", [("tanh", 2.64, 2.66),  # tanh(2.64) = 0.98985, tanh(2.66) = 0.99019
                                                   ("sigmoid", 4.59, 4.60)])  # 0.98994 and 0.99005
def test_saturated_means_beyond_0_99_in_size(activation, near, far):
    assert diagnose(one_neuron(activation, b=0.0), [[near], [-near]]).saturated == {}
    assert diagnose(one_neuron(activation, b=0.0), [[far], [-far]]).saturated == {"layers.0.neurons.0": 1.0}


def test_saturated_needs_95_percent_of_rows():
    model = one_neuron("tanh")
    flat, middle = [[10.0]] * 19, [[0.0]]
    assert diagnose(model, flat + middle).saturated == {"layers.0.neurons.0": 0.95}
    assert diagnose(model, flat[:18] + middle * 2).saturated == {}  # 90 %
    assert diagnose(model, flat[:9] + [[-10.0]] * 10 + middle).saturated == {"layers.0.neurons.0": 0.95}  # both ends


@given(st.lists(st.floats(-8, 8, allow_nan=False), min_size=1, max_size=30))
def test_a_tanh_neuron_is_saturated_exactly_when_95_percent_of_its_outputs_pass_0_99(zs):
    share = sum(abs(math.tanh(z)) > 0.99 for z in zs) / len(zs)
    expected = {"layers.0.neurons.0": share} if share >= 0.95 else {}
    assert diagnose(one_neuron("tanh"), [[z] for z in zs]).saturated == expected


def linear_chain(w1, b1, w2, b2):
    """MLP(1, [1, 1]) of identity activations: out = w2 * (w1 * x + b1) + b2, gradients by hand."""
    model = MLP(1, [1, 1], activations=["linear", "linear"], seed=0)
    set_neuron(model, 0, 0, [w1], b1)
    set_neuron(model, 1, 0, [w2], b2)
    return model


def rms(*gs):
    return math.sqrt(sum(g * g for g in gs) / len(gs))


def test_without_targets_the_gradient_is_of_the_sum_of_the_outputs_as_an_rms_per_layer():
    model = linear_chain(w1=2.0, b1=1.0, w2=3.0, b2=0.5)
    X = [[1.0], [2.0], [-4.0]]
    report = diagnose(model, X)
    xs = [x for (x,) in X]
    # d sum(out) / d w1 = sum(w2 x), / d b1 = 3 w2; / d w2 = sum(w1 x + b1), / d b2 = 3
    assert report.grad_norms == {"layers.0": pytest.approx(rms(3.0 * sum(xs), 3 * 3.0)),
                                 "layers.1": pytest.approx(rms(sum(2.0 * x + 1.0 for x in xs), 3.0))}
    assert report.gradient_of == "the sum of the outputs"


@pytest.mark.parametrize("activation", ["tanh", "prelu"])  # a prelu layer's slopes count among its parameters
def test_with_targets_the_gradient_is_of_the_loss_training_would_follow(activation):
    model = MLP(3, [4, 4, 2], activation=activation, seed=3)
    X = [[0.5, -1.0, 2.0], [1.0, 0.0, -0.5], [-2.0, 1.5, 0.25]]
    y = [0, 1, 1]
    report = diagnose(model, X, y, loss="cross_entropy")
    model.zero_grad()
    F.cross_entropy([model(x) for x in X], y).backward()
    by_hand = {f"layers.{i}": rms(*(p.grad for p in layer.parameters())) for i, layer in enumerate(model.layers)}
    assert report.grad_norms == pytest.approx(by_hand)
    assert report.gradient_of == "the cross_entropy loss"
    own = diagnose(model, X, y, loss=lambda out, t: F.cross_entropy(out, t) * 2)
    assert own.grad_norms == pytest.approx({k: 2 * v for k, v in by_hand.items()})
    assert own.gradient_of == "the loss <lambda>"


def test_a_softmax_model_is_measured_before_its_softmax():
    # softmax outputs sum to 1 whatever the weights: their sum has no gradient, the logits' does
    model = MLP(2, [3], output_activation="softmax", seed=0)
    report = diagnose(model, X2)
    model.zero_grad()
    mg.sum([n(x) for x in X2 for n in model.layers[0].neurons]).backward()
    assert report.grad_norms["layers.0"] == pytest.approx(rms(*(p.grad for p in model.parameters())))
    assert report.grad_norms["layers.0"] > 1


@pytest.mark.parametrize("w2, flagged", [(2.0 ** -7, ("layers.0",)), (2.0 ** -6, ()),
                                         (0.01, ("layers.0",)), (0.0101, ())])  # exactly 100 times, and 99
def test_a_layer_is_vanishing_when_its_gradient_is_100_times_the_last_layers_or_smaller(w2, flagged):
    # one row x = 1 and w1 = 1, b1 = 0: layer 0's gradients are (w2, w2), layer 1's (1, 1)
    report = diagnose(linear_chain(w1=1.0, b1=0.0, w2=w2, b2=0.0), [[1.0]])
    assert report.grad_norms == {"layers.0": w2, "layers.1": 1.0}
    assert report.vanishing == flagged


def test_nothing_vanishes_when_the_last_layer_has_no_gradient_to_compare_with():
    model = MLP(1, [2, 1], activations=["linear", "relu"], seed=0)
    set_neuron(model, 1, 0, [0, 0], -1)  # the output is a dead relu: no gradient anywhere
    report = diagnose(model, [[1.0], [2.0]])
    assert report.grad_norms == {"layers.0": 0.0, "layers.1": 0.0}
    assert report.vanishing == () and report.dead == ("layers.1.neurons.0",)
    assert str(report).endswith(
        "(no layer can be flagged: layers.1's gradient is 0, so there is nothing to compare with)")


def test_the_model_is_left_as_it_was_found():
    model = MLP(2, [3, 1], seed=1)
    for k, p in enumerate(model.parameters()):
        p.grad = k / 7  # a learner's accumulated gradients, mid-step
    out = model([0.25, -0.5])
    before = [(p.data, p.grad) for p in model.parameters()]
    passes = [(n.z, n.a) for layer in model.layers for n in layer.neurons]
    diagnose(model, X2)
    diagnose(model, X2, [1.0] * 4)
    assert [(p.data, p.grad) for p in model.parameters()] == before
    assert all(n.z is z and n.a is a for n, (z, a) in zip((n for layer in model.layers for n in layer.neurons), passes))
    assert model.layers[-1].neurons[0].a is out


def test_the_report_lists_every_finding_by_name():
    model = MLP(2, [2, 2, 1], activations=["relu", "sigmoid", "linear"], seed=0)
    set_neuron(model, 0, 0, [0, 0], -1)
    set_neuron(model, 0, 1, [1, 1], 0)
    set_neuron(model, 1, 0, [0, 0], 8)
    set_neuron(model, 1, 1, [0, 2.0 ** -6], 0)
    set_neuron(model, 2, 0, [1, 1], 0)
    report = diagnose(model, [[1.0, 1.0], [2.0, 1.0]])
    assert report.dead == ("layers.0.neurons.0",) and list(report.saturated) == ["layers.1.neurons.0"]
    assert report.vanishing == ("layers.0",)
    norms = report.grad_norms
    assert str(report) == "\n".join([
        "Network health on 2 rows of X (gradients of the sum of the outputs)",
        "dead relu neurons (output 0 on every row): 1 of 2",
        "  layers.0.neurons.0",
        "saturated neurons (tanh |a| > 0.99, sigmoid a > 0.99 or a < 0.01, on 95% of rows or more): 1 of 2",
        "  layers.1.neurons.0 (100% of rows)",
        "vanishing gradients (a layer's gradient 100 times layers.2's or smaller): 1 of 2",
        "  gradient by layer, the root mean square over its parameters:",
        f"  layers.0 (relu) {norms['layers.0']:.2g}  vanishing: "
        f"{norms['layers.2'] / norms['layers.0']:,.0f} times smaller than the last layer's",
        f"  layers.1 (sigmoid) {norms['layers.1']:.2g}",
        f"  layers.2 (linear) {norms['layers.2']:.2g}"])
    assert norms["layers.2"] / norms["layers.0"] > 100


def test_a_healthy_network_says_so():
    report = diagnose(MLP(2, [4, 1], activation="tanh", init="xavier", seed=0), X2)
    assert report.healthy and isinstance(report, HealthReport)
    assert "saturated neurons" in str(report) and "dead relu" not in str(report)  # no relu to be dead


@pytest.mark.parametrize("args, error, message", [
    (("not a model", X2), TypeError, "diagnose: expected an MLP, got str"),
    ((MLP(2, [1], seed=0), []), ValueError, "diagnose: X is empty; pass the rows to look at (the training data, say)"),
    ((MLP(2, [1], seed=0), 5), TypeError, "diagnose: X must be a sequence of rows, got int"),
    ((MLP(2, [1], seed=0), [[1.0, 2.0], [1.0]]), ValueError,
     "diagnose: row 1 of X must hold the model's 2 inputs, got 1"),
    ((MLP(2, [1], seed=0), [[1.0, 2.0], 3.0]), ValueError,
     "diagnose: row 1 of X must hold the model's 2 inputs, got float"),
    ((MLP(2, [1], seed=0), [[1.0, float("nan")]]), ValueError,
     "diagnose: X has nan at row 0, column 1; the inputs must be finite"),
    ((MLP(2, [1], seed=0), X2, [1.0]), ValueError, "diagnose: 4 rows in X but 1 targets in y"),
])
def test_bad_input_is_refused_with_a_message_naming_it(args, error, message):
    with pytest.raises(error) as caught:
        diagnose(*args)
    assert str(caught.value) == message


def test_an_unknown_loss_and_no_grad_are_refused():
    model = MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match=r"^diagnose: unknown loss 'l2'; choose one of hinge, mse, "):
        diagnose(model, X2, [0.0] * 4, loss="l2")
    with mg.no_grad(), pytest.raises(RuntimeError, match=r"^diagnose: gradients are off here \(inside no_grad\(\)\)"):
        diagnose(model, X2)


def test_rows_may_be_tuples_or_a_numpy_array():
    np = pytest.importorskip("numpy")
    model = MLP(2, [3, 1], seed=0)
    set_neuron(model, 0, 0, [0, 0], -1)
    expected = diagnose(model, X2)
    assert expected.dead == ("layers.0.neurons.0",)
    assert diagnose(model, tuple(tuple(row) for row in X2)) == expected
    assert diagnose(model, np.array(X2)) == expected
    with pytest.raises(ValueError, match=r"^diagnose: X has inf at row 1, column 0;"):
        diagnose(model, np.array([[1.0, 2.0], [np.inf, 0.0]]))
