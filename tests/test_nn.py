"""Modules: parameters and names, activations, fused vs unfused, state dicts, and training results."""

import math
import random
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import micrograd_like as mg
from micrograd_like import data
from micrograd_like.nn import MLP, Layer, Neuron
from micrograd_like.optim import SGD
from micrograd_like.train import fit


def test_mlp_like_micrograd():
    model = MLP(2, [16, 16, 1], seed=0)
    assert len(model.parameters()) == 337
    out = model([0.5, -1.0])
    assert isinstance(out, mg.Value)
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "linear"]
    assert isinstance(MLP(2, [16, 1, 1], seed=0)([1.0, 2.0]), mg.Value)
    several = MLP(3, [4, 2], seed=0)([1.0, 2.0, 3.0])
    assert isinstance(several, list) and len(several) == 2


def test_single_layer_perceptron_is_just_an_mlp():
    model = MLP(3, [2], seed=0)
    assert len(model.layers) == 1 and len(model.parameters()) == 8


def test_named_parameters_are_unique_readable_and_label_the_pictures():
    model = MLP(2, [3, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w[0]", "layers.0.neurons.0.w[1]", "layers.0.neurons.0.b"]
    assert names[-1] == "layers.1.neurons.0.b"
    assert len(set(names)) == len(names) == 13
    assert all(p.label == name for name, p in model.named_parameters())  # labels start as the names


def test_prelu_neuron_has_a_learnable_slope():
    n = Neuron(3, activation="prelu", seed=0)
    assert len(n.parameters()) == 5 and n.slope.data == 0.25
    for w in n.w:
        w.data = -1.0
    out = n([1.0, 1.0, 1.0])  # z = -3 -> a = 0.25 * -3
    assert out.data == -0.75
    out.backward()
    assert n.slope.grad == -3.0


@pytest.mark.parametrize(
    "name, z, expected",
    [("relu", -2.0, 0.0), ("relu", 2.0, 2.0), ("leaky_relu", -2.0, -0.02), ("sigmoid", 0.0, 0.5),
     ("tanh", 0.0, 0.0), ("step", 0.5, 1.0), ("step", -0.5, 0.0), ("linear", -2.0, -2.0)],
)
def test_each_activation(name, z, expected):
    n = Neuron(1, activation=name, seed=0)
    n.w[0].data = 1.0
    assert n([z]).data == pytest.approx(expected)
    assert n.z.data == z


def test_unknown_activation_and_wrong_input_count_are_value_errors():
    with pytest.raises(ValueError, match="unknown activation 'swish'.*relu"):
        MLP(2, [2], activation="swish")
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        MLP(2, [2], seed=0)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="expected 2 inputs, got 1"):
        Neuron(2, seed=0)([1.0])


def test_neuron_pre_activation_and_activation_are_inspectable_with_grads():
    model = MLP(2, [2, 1], seed=3)
    out = model([1.0, -2.0])
    out.backward()
    n = model.layers[0].neurons[1]
    w = [p.data for p in n.w]
    assert n.z.data == pytest.approx(w[0] * 1.0 + w[1] * -2.0 + n.b.data)
    assert n.a.data == max(0.0, n.z.data)
    assert n.z.label == "layers.0.neurons.1.z" and n.a.label == "layers.0.neurons.1.a"
    expected = model.layers[1].neurons[0].w[1].data  # d out / d a of that neuron
    assert n.a.grad == pytest.approx(expected)


@pytest.mark.parametrize("activation", ["relu", "tanh", "prelu", "sigmoid"])
def test_fused_and_unfused_give_identical_outputs_and_gradients(activation):
    fused = MLP(3, [4, 4, 2], activation=activation, seed=7)
    plain = MLP(3, [4, 4, 2], activation=activation, seed=7, fused=False)
    x = [0.3, -1.2, 2.0]
    out_f, out_p = fused(x), plain(x)
    assert [o.data for o in out_f] == [o.data for o in out_p]
    (out_f[0] * out_f[1]).backward()
    (out_p[0] * out_p[1]).backward()
    assert [p.grad for p in fused.parameters()] == [p.grad for p in plain.parameters()]
    assert len(mg.topological_order(out_p[0])) > len(mg.topological_order(out_f[0]))


_number = st.floats(-1e3, 1e3) | st.sampled_from([0.0, -0.0, 1e-300, -1e30])


@settings(max_examples=200, deadline=None)
@given(params=st.lists(_number, min_size=8, max_size=8), x=st.lists(_number, min_size=3, max_size=3))
@example(params=[0.0, 0.0, 0.0, -0.0] * 2, x=[-1.0, -2.0, -3.0])  # every term -0.0: the sum is -0.0
def test_fused_and_unfused_agree_bit_for_bit_for_any_weights_bias_and_inputs(params, x):
    # the fused dot node adds b + w0*x0 + w1*x1 + ... in the unfused chain's order, signed zeros included
    fused, plain = Layer(3, 2, activation="linear", seed=0), Layer(3, 2, activation="linear", seed=0, fused=False)
    state = dict(zip(fused.state_dict(), params))
    fused.load_state_dict(state)
    plain.load_state_dict(state)
    out_f, out_p = fused(x), plain(x)
    assert [str(o.data) for o in out_f] == [str(o.data) for o in out_p]  # every digit, and -0.0 is not 0.0
    (out_f[0] * 0.5 + out_f[1]).backward()
    (out_p[0] * 0.5 + out_p[1]).backward()
    assert [p.grad for p in fused.parameters()] == [p.grad for p in plain.parameters()]


def test_unfused_nodes_carry_the_neuron_prefix():
    model = MLP(2, [1], seed=0, fused=False)
    out = model([1.0, 2.0])
    labels = [v.label for v in mg.topological_order(out) if not v.is_leaf]
    assert labels and all(lb.startswith("layers.0.neurons.0.") for lb in labels)


def test_seeded_initialisation_is_deterministic_and_documented_schemes_differ():
    a, b = MLP(2, [4, 1], seed=5), MLP(2, [4, 1], seed=5)
    assert a.state_dict() == b.state_dict()
    assert MLP(2, [4, 1], seed=6).state_dict() != a.state_dict()
    ws = [p.data for name, p in MLP(2, [50], seed=0).named_parameters() if "w[" in name]
    assert all(-1 <= w <= 1 for w in ws)  # micrograd's uniform(-1, 1)
    he = [p.data for name, p in MLP(50, [50], seed=0, init="he").named_parameters() if "w[" in name]
    std = math.sqrt(sum(w * w for w in he) / len(he))
    assert std == pytest.approx(math.sqrt(2 / 50), rel=0.1)


def test_zero_grad_state_dict_round_trip_and_repr():
    model = MLP(2, [2, 1], seed=0)
    model([1.0, 1.0]).backward()
    assert any(p.grad for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    other = MLP(2, [2, 1], seed=1)
    other.load_state_dict(model.state_dict())
    assert other.state_dict() == model.state_dict()
    assert "Layer(nin=2, nout=2, activation='relu')" in repr(model)
    assert repr(Neuron(3, "tanh")) == "Neuron(nin=3, activation='tanh')"


def test_load_state_dict_rejects_bad_states_and_changes_nothing():
    model = MLP(2, [2, 1], seed=0)
    before = model.state_dict()
    missing = dict(before)
    missing.pop("layers.1.neurons.0.b")
    with pytest.raises(KeyError, match="missing.*layers.1.neurons.0.b"):
        model.load_state_dict(missing)
    with pytest.raises(KeyError, match="unexpected.*extra"):
        model.load_state_dict({**before, "extra": 1.0})
    bad = {k: 0.5 for k in before}
    bad["layers.0.neurons.1.w[0]"] = float("nan")
    with pytest.raises(ValueError, match=r"layers.0.neurons.1.w\[0\] must be a finite number"):
        model.load_state_dict(bad)
    bad["layers.0.neurons.1.w[0]"] = "1.0"
    with pytest.raises(TypeError, match=r"load_state_dict: layers.0.neurons.1.w\[0\] must be a real number, got str"):
        model.load_state_dict(bad)
    with pytest.raises(KeyError):
        model.load_state_dict(MLP(2, [3, 1], seed=0).state_dict())
    assert model.state_dict() == before


def test_softmax_head_returns_probabilities():
    model = MLP(4, [5, 3], output_activation="softmax", seed=0)
    probs = model([1.0, 0.0, -1.0, 2.0])
    assert len(probs) == 3 and sum(p.data for p in probs) == pytest.approx(1.0)
    assert all(0 < p.data < 1 for p in probs)


def test_moons_reaches_97_percent_train_accuracy():
    X, y01 = data.make_moons(100, noise=0.1, seed=0)
    y = data.to_signs(y01)
    model = MLP(2, [16, 16, 1], seed=1)
    history = fit(model, X, y, loss="hinge", l2=1e-4, optimizer=SGD(model.parameters(), lr=0.05, momentum=0.9),
                  epochs=25, batch_size=20, progress=False)
    with mg.no_grad():
        acc = sum((model(x).data > 0) == (t > 0) for x, t in zip(X, y)) / len(y)
    assert acc >= 0.97
    assert history.loss[-1] < history.loss[0]


def test_layer_converts_inputs_once_and_accepts_values():
    layer = Layer(2, 3, seed=0)
    xs = [mg.Value(1.0), 2.0]
    outs = layer(xs)
    assert len(outs) == 3
    assert all(n.z.parents[3] is xs[0] for n in layer.neurons)  # (b, w0, w1, x0, x1): one x for all



# ---- reassigned parameters, names, copies (issue 10) -----------------------------------------


@pytest.mark.parametrize("fused", [True, False])
def test_reassigned_weights_and_bias_change_what_the_neuron_computes(fused):
    n = Neuron(2, activation="linear", fused=fused, seed=0)
    n.w = [mg.Value(1.0), mg.Value(2.0)]  # the habit of micrograd's lecture
    n.b = mg.Value(0.5)
    out = n([3.0, -1.0])
    assert out.data == 1.0 * 3.0 + 2.0 * -1.0 + 0.5
    out.backward()
    assert [w.grad for w in n.w] == [3.0, -1.0] and n.b.grad == 1.0
    assert n.parameters() == [*n.w, n.b]
    old = n.w[0]
    n.w[0] = mg.Value(3.0)  # one element
    out = n([3.0, -1.0])
    assert out.data == 3.0 * 3.0 + 2.0 * -1.0 + 0.5
    out.backward()
    assert n.w[0].grad == 3.0 and old.grad == 3.0  # the old weight got nothing from this pass
    assert n.named_parameters()[0] == ("w[0]", n.w[0]) and n.w[0].label == "w[0]"


def test_an_optimizer_updates_the_weights_the_neuron_uses_after_reassignment():
    n = Neuron(1, activation="linear", seed=0)
    n.w = [mg.Value(2.0)]
    n.b = mg.Value(0.0)
    opt = SGD(n.parameters(), lr=0.1)
    loss = (n([1.0]) - 5.0) ** 2
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert n.w[0].data == pytest.approx(2.0 + 0.1 * 2 * 3.0)
    assert n([1.0]).data == pytest.approx(n.w[0].data + n.b.data)


def test_reassigned_slope_and_activation_are_used():
    n = Neuron(1, activation="prelu", seed=0)
    n.w, n.b = [mg.Value(1.0)], mg.Value(0.0)
    n.slope = mg.Value(0.5)
    assert n([-2.0]).data == -1.0 and n.parameters()[-1] is n.slope
    n.activation = "relu"
    assert n([-2.0]).data == 0.0 and n.slope is None and len(n.parameters()) == 2
    n.activation = "tanh"
    assert n([0.5]).data == math.tanh(0.5)
    with pytest.raises(ValueError, match="only a prelu neuron has a slope"):
        n.slope = mg.Value(0.1)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        n.activation = "swish"


def test_a_layer_and_an_mlp_use_reassigned_weights():
    model = MLP(2, [2, 1], activation="linear", seed=0)
    neuron = model.layers[0].neurons[1]
    neuron.w[1] = mg.Value(10.0)
    before = model([0.0, 1.0]).data
    neuron.w[1] = mg.Value(20.0)
    after = model([0.0, 1.0]).data
    assert after - before == pytest.approx(10.0 * model.layers[1].neurons[0].w[1].data)
    assert model.named_parameters()[4] == ("layers.0.neurons.1.w[1]", neuron.w[1])


def test_bad_reassignments_are_refused_and_change_nothing():
    n = Neuron(2, seed=0)
    before = list(n.w)
    with pytest.raises(ValueError, match="got 3 weights for 2 inputs"):
        n.w = [mg.Value(1.0)] * 3
    with pytest.raises(TypeError, match=r"w\[1\]: a parameter must be a Value, got float"):
        n.w = [mg.Value(1.0), 2.0]
    with pytest.raises(TypeError, match=r"a parameter must be a Value, got int"):
        n.w[0] = 1
    with pytest.raises(TypeError, match="b: a parameter must be a Value"):
        n.b = 0.5
    for change in (lambda: n.w.append(mg.Value(1.0)), lambda: n.w.pop(), lambda: n.w.__delitem__(0),
                   lambda: n.w.extend([mg.Value(1.0)])):
        with pytest.raises(TypeError, match="a neuron has exactly 2 weights"):
            change()
    assert list(n.w) == before and n._bw[1:] == tuple(before)


def test_names_come_from_the_structure_not_from_labels():
    model = MLP(2, [2, 1], seed=0)
    for p in model.parameters()[:2]:
        p.label = "w"  # two weights labelled alike, for a picture
    state = model.state_dict()
    assert len(state) == len(model.parameters()) == 9
    assert list(state)[:2] == ["layers.0.neurons.0.w[0]", "layers.0.neurons.0.w[1]"]
    other = MLP(2, [2, 1], seed=1)
    other.load_state_dict(state)
    assert other.state_dict() == state
    assert [name for name, _ in Neuron(2, activation="prelu").named_parameters()] == ["w[0]", "w[1]", "b", "slope"]


def test_deepcopy_and_pickle_work_after_any_forward_pass_and_copy_only_parameters():
    import copy
    import pickle

    model = MLP(200, [4, 1], fused=False, seed=0)
    x = [0.01 * i for i in range(200)]
    fresh_size = len(pickle.dumps(model))
    model(x).backward()  # unfused: a 200-deep chain of + nodes per neuron stays on neuron.z
    clone = copy.deepcopy(model)
    assert clone.state_dict() == model.state_dict()
    assert all(a is not b for a, b in zip(clone.parameters(), model.parameters()))
    assert clone(x).data == model(x).data
    neuron, original = clone.layers[0].neurons[0], model.layers[0].neurons[0]
    neuron.w[1] = mg.Value(original.w[1].data + 5.0)  # the copy's weight list still refreshes the neuron
    neuron(x), original(x)
    assert neuron.z.data == pytest.approx(original.z.data + 5.0 * x[1])
    big = MLP(2000, [4, 1], fused=False, seed=0)
    big_fresh = len(pickle.dumps(big))
    big([0.001] * 2000)
    restored = pickle.loads(pickle.dumps(big))
    assert restored.state_dict() == big.state_dict()
    assert len(pickle.dumps(big)) == big_fresh and len(pickle.dumps(model)) == fresh_size
    assert restored.layers[0].neurons[0].z is None


# ---- initialisation, seeds and argument checks that nothing pinned before ----


def _weights(module):
    return [p.data for name, p in module.named_parameters() if "w[" in name]


@pytest.mark.parametrize("init, variance", [("xavier", lambda nin, nout: 2 / (nin + nout)),
                                            ("he", lambda nin, nout: 2 / nin)])
def test_gaussian_inits_draw_from_the_documented_normal(init, variance):
    # "he" is Kaiming's N(0, 2/nin), "xavier" Glorot's N(0, 2/(nin + nout)), as torch.nn.init's
    # *_normal_: the very draws of random.Random(seed).gauss
    nin = 40
    rng = random.Random(11)
    wanted = [rng.gauss(0.0, math.sqrt(variance(nin, 1))) for _ in range(nin)]
    assert [w.data for w in Neuron(nin, init=init, seed=11).w] == wanted  # a lone neuron: fan-out 1
    rng = random.Random(11)
    wanted = [rng.gauss(0.0, math.sqrt(variance(nin, 7))) for _ in range(nin)]
    assert [w.data for w in Neuron(nin, init=init, seed=11, fan_out=7).w] == wanted
    many = _weights(MLP(nin, [100], init=init, seed=0))  # 4,000 weights of a layer of 100 neurons
    std = math.sqrt(sum(w * w for w in many) / len(many))
    assert std == pytest.approx(math.sqrt(variance(nin, 100)), rel=0.05)


def test_xavier_matches_torchs_glorot_normal_scale():
    torch = pytest.importorskip("torch")
    weight = torch.empty(100, 40, dtype=torch.float64)
    torch.manual_seed(0)
    torch.nn.init.xavier_normal_(weight)
    ours = _weights(MLP(40, [100], init="xavier", seed=0))
    theirs_std = weight.std().item()
    ours_std = math.sqrt(sum(w * w for w in ours) / len(ours))
    assert ours_std == pytest.approx(theirs_std, rel=0.05) and theirs_std == pytest.approx(math.sqrt(2 / 140), rel=0.05)
    with pytest.raises(ValueError, match="fan_out must be a positive int, got 0"):
        Neuron(3, init="xavier", fan_out=0)


def test_uniform_init_is_micrographs_uniform_minus_one_to_one_and_biases_start_at_zero():
    rng = random.Random(4)
    n = Neuron(6, seed=4)
    assert [w.data for w in n.w] == [rng.uniform(-1, 1) for _ in range(6)]
    assert n.b.data == 0.0
    assert Neuron(3, activation="prelu", seed=0).slope.data == 0.25


def test_a_seeded_neuron_or_layer_is_reproducible_and_another_seed_is_not():
    assert _weights(Neuron(8, seed=3)) == _weights(Neuron(8, seed=3))
    assert _weights(Neuron(8, seed=3)) != _weights(Neuron(8, seed=4))
    assert _weights(Layer(5, 4, seed=3)) == _weights(Layer(5, 4, seed=3))
    assert _weights(Layer(5, 4, seed=3)) != _weights(Layer(5, 4, seed=4))
    # a layer's neurons draw one after another from one generator seeded once
    rng = random.Random(3)
    assert _weights(Layer(5, 4, seed=3)) == [rng.uniform(-1, 1) for _ in range(20)]
    # an explicit rng wins, and is shared on: the same draws as the seed
    assert _weights(Layer(5, 4, rng=random.Random(3))) == _weights(Layer(5, 4, seed=3))
    assert _weights(Neuron(8, init="he", seed=9)) == _weights(Neuron(8, init="he", seed=9))


@pytest.mark.parametrize("nin", [0, -1, 2.0, "3", None])
def test_a_neuron_needs_a_positive_int_number_of_inputs(nin):
    with pytest.raises(ValueError, match=rf"Neuron: nin must be a positive int, got {re.escape(repr(nin))}"):
        Neuron(nin)


def test_a_neuron_of_one_input_is_fine():
    n = Neuron(1, activation="linear", seed=0)
    assert n([2.0]).data == 2.0 * n.w[0].data


@pytest.mark.parametrize("nout", [0, -2, 1.5])
def test_a_layer_needs_a_positive_int_number_of_outputs(nout):
    with pytest.raises(ValueError, match=rf"Layer: nout must be a positive int, got {re.escape(repr(nout))}"):
        Layer(2, nout)


def test_an_unknown_init_is_refused_and_listed():
    with pytest.raises(ValueError, match="unknown init 'glorot'; choose one of uniform, he, xavier"):
        Neuron(2, init="glorot")


def test_mlp_activations_must_name_one_activation_per_layer():
    with pytest.raises(ValueError, match="MLP: got 1 activations for 2 layers"):
        MLP(2, [3, 1], activations=["relu"])
    with pytest.raises(ValueError, match="MLP: got 3 activations for 2 layers"):
        MLP(2, [3, 1], activations=["relu", "tanh", "linear"])
    model = MLP(2, [3, 1], activations=["tanh", "sigmoid"], seed=0)
    assert [layer.activation for layer in model.layers] == ["tanh", "sigmoid"]
    assert all(n.activation == "tanh" for n in model.layers[0].neurons)
    assert 0.0 < model([0.3, -0.2]).data < 1.0


def test_mlp_refuses_an_unknown_activation_anywhere_and_no_layers():
    for kwargs in ({"activation": "gelu"}, {"output_activation": "gelu"}, {"activations": ["relu", "gelu"]}):
        with pytest.raises(ValueError, match="unknown activation 'gelu'; choose one of relu, leaky_relu, prelu"):
            MLP(2, [3, 1], **kwargs)
    with pytest.raises(ValueError, match="MLP: nouts must name at least one layer size"):
        MLP(2, [])


# ---- behaviours and messages that mutation testing found unpinned (issue 14) ----


def test_load_state_dict_names_at_most_five_keys_each_way_and_counts_them_all():
    model = MLP(2, [3, 1], seed=0)
    names = list(model.state_dict())
    state = {k: 0.0 for k in names[5:]}  # five missing
    state.update({f"e{i}": 0.0 for i in range(6)})  # six unexpected
    want = (f"load_state_dict: the state does not fit this model: missing {names[:5]} (5), "
            f"unexpected {['e0', 'e1', 'e2', 'e3', 'e4']} ... (6)")
    with pytest.raises(KeyError) as info:
        model.load_state_dict(state)
    assert info.value.args[0] == want
    state = {k: 0.0 for k in names[6:]}  # six missing
    state.update({f"e{i}": 0.0 for i in range(5)})  # five unexpected
    want = (f"load_state_dict: the state does not fit this model: missing {names[:5]} ... (6), "
            f"unexpected {['e0', 'e1', 'e2', 'e3', 'e4']} (5)")
    with pytest.raises(KeyError) as info:
        model.load_state_dict(state)
    assert info.value.args[0] == want
    with pytest.raises(KeyError) as info:
        model.load_state_dict({k: 0.0 for k in names[1:]})
    assert info.value.args[0].endswith(f"missing {names[:1]} (1), unexpected [] (0)")


def test_load_state_dict_refuses_a_state_that_is_not_a_dict_and_names_its_type():
    model = MLP(2, [1], seed=0)
    with pytest.raises(TypeError, match=r"^load_state_dict: expected a dict, got list$"):
        model.load_state_dict(list(model.state_dict().items()))


def test_a_fixed_size_weight_list_says_what_to_do_instead():
    n = Neuron(2, seed=0)
    with pytest.raises(TypeError, match=r"^Neuron: a neuron has exactly 2 weights \(one per input\); "
                                        r"assign them \(n\.w\[i\] = Value\(\.\.\.\) or n\.w = \[\.\.\.\]\) "
                                        r"or build a new Neuron$"):
        n.w.append(mg.Value(1.0))


def test_a_pickled_or_copied_neuron_has_exactly_the_attributes_of_the_original():
    import copy
    import pickle

    n = Neuron(3, activation="prelu", seed=0)
    n([1.0, 2.0, 3.0])
    for clone in (pickle.loads(pickle.dumps(n)), copy.copy(n), copy.deepcopy(n)):
        assert sorted(vars(clone)) == sorted(vars(n))
        assert clone.z is None and clone.a is None
        assert [w.data for w in clone.w] == [w.data for w in n.w]


@pytest.mark.parametrize("module, name", [(Neuron(2, seed=0), "Neuron"), (Layer(2, 3, seed=0), "Layer")])
def test_a_bad_input_is_named_by_the_module_it_was_given_to(module, name):
    with pytest.raises(TypeError, match=rf"^{name}: expected a real number or a Value, got str 'a'$"):
        module(["a", 1.0])


def test_reprs_show_the_structure_and_an_unfused_neuron():
    assert repr(Neuron(3, "tanh", fused=False)) == "Neuron(nin=3, activation='tanh', fused=False)"
    assert repr(MLP(2, [3, 1], seed=0)) == ("MLP(\n  (0): Layer(nin=2, nout=3, activation='relu')\n"
                                            "  (1): Layer(nin=3, nout=1, activation='linear')\n)")


def test_mlp_output_activation_is_the_last_layers_and_nin_is_kept():
    model = MLP(3, [4, 2], output_activation="sigmoid", seed=0)
    assert [layer.activation for layer in model.layers] == ["relu", "sigmoid"]
    assert all(0.0 < o.data < 1.0 for o in model([1.0, -2.0, 3.0]))
    assert model.nin == 3 and model.layers[1].nin == 4
    with pytest.raises(ValueError, match=r"^MLP: nouts must name at least one layer size$"):
        MLP(2, [])


def test_a_weight_list_copied_or_pickled_on_its_own_is_a_plain_list_of_copies():
    import copy
    import pickle

    n = Neuron(3, seed=0)
    restored = pickle.loads(pickle.dumps(n.w))
    assert type(restored) is list and [w.data for w in restored] == [w.data for w in n.w]
    clone = copy.deepcopy(n.w)
    assert type(clone) is list and [w.data for w in clone] == [w.data for w in n.w]
    assert all(c is not w for c, w in zip(clone, n.w))
    # one deepcopy keeps shared objects shared, the weights in the list included
    both = copy.deepcopy({"w": n.w, "first": n.w[0]})
    assert both["first"] is both["w"][0]


def test_a_layer_on_its_own_labels_its_parameters_by_their_names():
    layer = Layer(2, 2, seed=0)
    assert [p.label for p in layer.parameters()] == [name for name, _ in layer.named_parameters()]
    assert layer.neurons[1].b.label == "neurons.1.b"
    assert [p.label for p in Neuron(1, activation="prelu", seed=0).parameters()] == ["w[0]", "b", "slope"]


def test_errors_name_the_neuron_by_its_prefix_without_the_trailing_dot():
    model = MLP(2, [2, 1], seed=0)
    neuron = model.layers[0].neurons[1]
    with pytest.raises(ValueError, match=r"^layers\.0\.neurons\.1: got 3 weights for 2 inputs; they must match$"):
        neuron.w = [mg.Value(1.0)] * 3
    with pytest.raises(TypeError, match=r"^Neuron\.b: a parameter must be a Value, got float 0\.5; "
                                        r"wrap a number as Value\(number\)$"):
        Neuron(2, seed=0).b = 0.5
    with pytest.raises(TypeError, match=r"^maX\.w\[0\]: a parameter must be a Value"):
        Neuron(2, seed=0, prefix="maX.").w[0] = 1.0  # only the one trailing dot goes


@pytest.mark.parametrize("fan_out", [True, 2.0, 0, -3])
def test_fan_out_must_be_a_positive_int(fan_out):
    with pytest.raises(ValueError, match=rf"^Neuron: fan_out must be a positive int, got {re.escape(repr(fan_out))}$"):
        Neuron(3, init="xavier", fan_out=fan_out)


def test_a_neuron_has_no_pre_activation_or_activation_before_its_first_forward_pass():
    n = Neuron(2, seed=0)
    assert n.z is None and n.a is None
    n([1.0, 2.0])
    assert isinstance(n.z, mg.Value) and isinstance(n.a, mg.Value)
