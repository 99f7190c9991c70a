"""Computation graphs and network diagrams: DOT content, determinism, clusters, limits, rendering."""

import re

import pytest

import micrograd_like as mg
from micrograd_like.nn import MLP
from micrograd_like.viz import INSTALL_HINT, draw_graph, draw_network, render


def neuron_expression():
    x, w, b = mg.Value(2.0, "x"), mg.Value(-3.0, "w"), mg.Value(6.88, "b")
    n = x * w + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return x, w, b, n, o


def test_records_show_label_data_and_grad_and_ops_are_nodes():
    x, w, b, n, o = neuron_expression()
    o.backward()
    src = draw_graph(o).source
    assert "{ x | data 2 | grad -1.503 }" in src
    assert "{ o | data 0.7064 | grad 1 }" in src
    assert re.search(r'v\d+_op \[label=tanh', src)
    assert src.count("_op [label=") == 3  # *, + and tanh


def test_a_times_a_keeps_both_edges():
    a = mg.Value(3.0, "a")
    y = a * a
    src = draw_graph(y).source
    assert src.count("v0 -> v1_op") == 2


def test_same_graph_gives_identical_dot_text_and_ids_are_not_memory_addresses():
    first = draw_graph(neuron_expression()[-1]).source
    second = draw_graph(neuron_expression()[-1]).source
    assert first == second
    assert not re.search(r"\d{8,}", first)


def test_local_grads_on_edges_and_highlight_and_colours():
    x, w, b, n, o = neuron_expression()
    o.backward()
    src = draw_graph(o, show_local_grads=True, highlight={w}, color_by_grad=True).source
    assert "label=0.501" in src and "label=-3" in src
    assert "penwidth=3" in src
    assert "#" in re.search(r"v0 \[label=\"\{ [^\"]*\" [^\]]*fillcolor=\"(#[0-9a-f]{6})\"", src).group(1)


def test_a_gradient_of_zero_is_shown_as_a_number_after_backward():
    # notebook 06's case: the drawn neuron feeds a dead relu, so after backward its grads are all 0
    x, w = mg.Value(2.0, "x"), mg.Value(3.0, "w")
    h = (x * w).relu()
    h.label = "h"
    loss = (h * -1.0).relu()
    loss.backward()
    assert (h.grad, x.grad, w.grad) == (0.0, 0.0, 0.0)
    src = draw_graph(h).source
    assert "grad ?" not in src and "dashed" not in src
    assert "{ x | data 2 | grad 0 }" in src and "{ h | data 6 | grad 0 }" in src


def test_nn_graphs_cluster_per_layer_and_neuron_and_can_collapse():
    model = MLP(2, [2, 1], seed=0)
    out = model([1.0, -1.0])
    out.backward()
    src = draw_graph(out).source
    assert "subgraph cluster_layers_0 {" in src and "subgraph cluster_layers_0_neurons_1 {" in src
    assert "layers.1.neurons.0.w[1]" in src
    collapsed = draw_graph(out, collapse_neurons=True).source
    assert "n_layers_0_neurons_0" in collapsed and "w[1]" not in collapsed
    assert collapsed.count("n_layers_0_neurons_0 -> n_layers_1_neurons_0") == 1


def test_huge_graphs_are_refused_with_advice():
    out = mg.sum([mg.Value(float(i)) * 2 for i in range(1000)])
    with pytest.raises(ValueError, match="collapse_neurons=True"):
        draw_graph(out, max_nodes=500)


def test_draw_network_colours_and_thickens_edges_by_weight():
    model = MLP(2, [3, 1], seed=0)
    src = draw_network(model, x=[1.0, 0.5]).source
    assert src.count(" -> ") == 2 * 3 + 3
    assert "#2b6cb0" in src and "#c53030" in src
    w = model.layers[0].neurons[0].w[0].data
    assert f"b {0:.4g}" in src and "\\na " in src
    assert ("#2b6cb0" if w >= 0 else "#c53030") in src.split("in0 -> l0n0")[1].split("\n")[0]


def test_dot_files_need_no_binary_and_unknown_extensions_are_refused(tmp_path):
    g = draw_graph(neuron_expression()[-1])
    path = render(g, tmp_path / "g.dot")
    assert open(path).read() == g.source
    with pytest.raises(ValueError, match="cannot tell the format"):
        render(g, tmp_path / "g.jpeg")


def test_missing_graphviz_binary_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on this PATH
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        render(draw_graph(neuron_expression()[-1]), tmp_path / "g.svg")
    assert "brew install graphviz" in INSTALL_HINT


@pytest.mark.graphviz
def test_renders_svg_and_png(tmp_path):
    x, w, b, n, o = neuron_expression()
    o.backward()
    svg = render(draw_graph(o, show_local_grads=True), tmp_path / "g.svg")
    text = open(svg).read()
    assert text.lstrip().startswith("<?xml") and "grad 0.501" in text
    png = render(draw_network(MLP(2, [4, 1], seed=0)), tmp_path / "n.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
