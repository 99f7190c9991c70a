"""Computation graphs and network diagrams: DOT content, determinism, clusters, limits, rendering."""

import re

import pytest

import micrograd_like as mg
from micrograd_like import viz
from micrograd_like.nn import MLP
from micrograd_like.viz import (
    INSTALL_HINT,
    LayoutError,
    draw_graph,
    draw_network,
    node_names,
    pipe,
    render,
    scalable_svg,
)


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
    assert '"{ w[1] | data' in src and "layers.1.neurons.0.w[1]" not in src  # the cluster names the neuron
    assert '"{ layers.1.neurons.0.w[1] | data' in draw_graph(out, clusters=False).source
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


def record_names(src):
    return re.findall(r'\[label="\{ ((?:[^|\\]|\\.)+?) \|', src)


@pytest.mark.parametrize("fused", [True, False])
def test_model_inputs_are_x_i_and_other_unnamed_values_are_numbered_without_gaps(fused):
    model = MLP(3, [2, 1], fused=fused, seed=0)
    out = model([1.0, -2.0, 0.5])
    loss = (out - 1.0) ** 2
    loss.backward()
    names = node_names(loss)
    inputs = {names[v]: v.data for v in names if names[v].startswith("x")}
    assert inputs == {"x[0]": 1.0, "x[1]": -2.0, "x[2]": 0.5}
    drawn = record_names(draw_graph(loss, clusters=False).source)  # in clusters, nn's values go by short names
    assert {"x[0]", "x[1]", "x[2]"} <= set(drawn)
    numbered = [n for n in drawn if re.fullmatch(r"v\d+", n)]
    assert numbered == [f"v{i}" for i in range(1, len(numbered) + 1)] and numbered  # drawn order, no gaps
    assert drawn == [names[v] for v in names]  # the picture draws every value under its one name


def test_a_second_sample_gets_its_own_input_names():
    model = MLP(2, [1], seed=0)
    loss = model([1.0, 2.0]) + model([3.0, 4.0])
    names = set(node_names(loss).values())
    assert {"x[0]", "x[1]", "x1[0]", "x1[1]"} <= names


def test_node_names_is_keyed_by_identity_and_refuses_strangers():
    a = mg.Value(1.0)
    y = a * 2.0
    names = node_names(y)
    assert len(names) == 3 and names[y] == "v3" and names[a] == "v1"
    with pytest.raises(KeyError, match="not part of this graph"):
        names[mg.Value(1.0)]
    with pytest.raises(TypeError, match="expected a Value"):
        node_names(3.0)


def test_a_dot_node_of_seven_inputs_gives_each_edge_its_own_labelled_port():
    from micrograd_like.nn import Neuron

    n = Neuron(7, seed=1)
    a = n([0.5 * i - 1 for i in range(7)])
    a.backward()
    src = draw_graph(a, show_local_grads=True).source
    z = n.z
    names = node_names(a)
    index = {id(v): i for i, v in enumerate(mg.topological_order(a))}
    zid = f"v{index[id(z)]}_op"
    for k, (parent, local) in enumerate(z.edges):
        port_text = f"<p{k}> {names[parent]}: {local:.4g}"
        assert port_text in src, port_text
        assert f"v{index[id(parent)]} -> {zid}:p{k}" in src


def test_color_by_grad_has_a_legend():
    o = neuron_expression()[-1]
    o.backward()
    src = draw_graph(o, color_by_grad=True).source
    assert "sign and size of the gradient" in src and "grad &gt; 0" in src and "grad &lt; 0" in src
    assert "sign and size" not in draw_graph(o).source


def long_expressions():
    from micrograd_like.expr import parse

    horner = "(" * 50 + "x" + "".join("*x+1)" for _ in range(50))
    return [parse("+".join(["x"] * 80), {"x": 2.0}), parse("*".join(["x"] * 70), {"x": 1.01}),
            parse(horner, {"x": 0.5})]


def test_a_value_used_by_many_nodes_is_drawn_again_by_each_use_but_the_first():
    out = long_expressions()[0]
    out.backward()
    src = draw_graph(out).source
    assert src.count('[label=x color="#a0aec0"') == 78  # 79 + nodes use x: the first (x + x) uses x itself
    assert src.count("{ x | data 2 | grad 80 }") == 1  # and x itself, with its grad, once


@pytest.mark.graphviz
def test_values_used_many_times_lay_out_within_the_time_limit():
    # Graphviz took over 10 s on each of these when every use was an edge to the one x;
    # pipe's own timeout of 20 s is the failure condition, not a timed assertion
    for out in long_expressions():
        out.backward()
        svg = pipe(draw_graph(out), "svg", timeout=20).decode()
        assert svg.count("<g id=\"node") > 100


@pytest.mark.graphviz
def test_a_layout_over_the_time_limit_is_stopped_with_a_clear_error(tmp_path):
    out = long_expressions()[0]
    with pytest.raises(LayoutError, match=r"time limit of 1e-06 s .*timeout="):
        render(draw_graph(out), tmp_path / "g.svg", timeout=1e-6)
    with pytest.raises(ValueError, match="timeout must be a positive"):
        pipe(draw_graph(out), "svg", timeout=0)


def _bezier_points(draw_ops, steps=20):
    pts = []
    for d in draw_ops:
        if d["op"] != "b":
            continue
        p = d["points"]
        for i in range(0, len(p) - 3, 3):
            (ax, ay), (bx, by), (cx, cy), (dx, dy) = p[i:i + 4]
            for k in range(steps + 1):
                t = k / steps
                u = 1 - t
                pts.append((u**3 * ax + 3 * u * u * t * bx + 3 * u * t * t * cx + t**3 * dx,
                            u**3 * ay + 3 * u * u * t * by + 3 * u * t * t * cy + t**3 * dy))
    return pts


@pytest.mark.graphviz
def test_draw_network_of_micrograds_mlp_draws_no_edge_across_another_node():
    import json

    graph = draw_network(MLP(2, [16, 16, 1], seed=0), x=[0.5, -1.0])
    layout = json.loads(pipe(graph, "json"))
    boxes = {}
    for o in layout["objects"]:
        if "pos" in o and "nodes" not in o:  # a node, not a cluster
            x, y = map(float, o["pos"].split(","))
            w, h = float(o["width"]) * 72 / 2, float(o["height"]) * 72 / 2
            boxes[o["_gvid"]] = (x - w, y - h, x + w, y + h)
    assert len(boxes) == 2 + 16 + 16 + 1 and len(layout["edges"]) == 2 * 16 + 16 * 16 + 16
    crossings = []
    for e in layout["edges"]:
        points = _bezier_points(e["_draw_"])
        assert len(points) > 10
        for gid, (x0, y0, x1, y1) in boxes.items():
            if gid not in (e["tail"], e["head"]) and any(x0 < px < x1 and y0 < py < y1 for px, py in points):
                crossings.append((e["tail"], e["head"], gid))
    assert crossings == []
    assert "colour is the sign of the weight, thickness its size" in graph.source


def test_scalable_svg_keeps_the_viewbox_and_shrinks_to_the_page():
    svg = ('<?xml version="1.0"?>\n<svg width="1500pt" height="200pt" viewBox="0.00 0.00 1500.00 200.00" '
           'xmlns="http://www.w3.org/2000/svg">\n<g/></svg>')
    out = scalable_svg(svg)
    tag = out[out.index("<svg"):out.index(">", out.index("<svg"))]
    assert 'viewBox="0.00 0.00 1500.00 200.00"' in tag and 'style="max-width:100%;height:auto"' in tag
    assert 'height="200pt"' not in tag and 'width="1500pt"' in tag
    with pytest.raises(ValueError, match="no viewBox"):
        scalable_svg('<svg width="1pt"></svg>')


def test_grad_scale_fixes_the_colour_scale_and_the_legend():
    x = mg.Value(2.0, "x")
    y = x * 3.0
    y.backward()
    own = draw_graph(y, color_by_grad=True).source
    fixed = draw_graph(y, color_by_grad=True, grad_scale=6.0).source
    assert "grad &gt; 0, strongest: x = 3" in own and "full colour at 6 and above" in fixed
    assert "grad &lt; 0: none" in own  # no negative gradient: the legend says so rather than invent a value
    x_fill = re.compile(r'v0 \[label="\{ x \| [^]]*fillcolor="(#[0-9a-f]{6})"')
    assert x_fill.search(own).group(1) == "#" + viz._grad_fill(3.0, 3.0)
    assert x_fill.search(fixed).group(1) == "#" + viz._grad_fill(3.0, 6.0) != x_fill.search(own).group(1)
    for bad in (0, -1.0, float("inf"), float("nan"), "2", True):
        with pytest.raises(ValueError, match="grad_scale must be a positive finite number"):
            draw_graph(y, color_by_grad=True, grad_scale=bad)


@pytest.mark.graphviz
def test_pictures_shown_in_a_notebook_shrink_to_the_page():
    import graphviz

    from micrograd_like.nn import MLP

    o = neuron_expression()[-1]
    o.backward()
    for picture in (draw_graph(o), draw_network(MLP(2, [16, 16, 1], seed=0))):
        assert isinstance(picture, graphviz.Digraph)
        svg = picture._repr_mimebundle_()["image/svg+xml"]  # what Jupyter shows inline
        tag = svg[svg.index("<svg"):svg.index(">", svg.index("<svg"))]
        assert 'style="max-width:100%;height:auto"' in tag and "viewBox=" in tag and "height=" not in tag


@pytest.mark.graphviz
def test_a_wide_picture_declares_at_most_a_page_width_so_image_viewers_do_not_clip_it():
    import re as re_

    from micrograd_like.expr import parse

    wide = parse("tanh(x*w + b) * " + " * ".join(f"tanh(x + {k})" for k in range(12)), {"x": 0.5, "w": 2.0, "b": 1.0})
    wide.backward()
    picture = draw_graph(wide)
    natural = pipe(picture, "svg").decode()
    inline = picture._repr_mimebundle_()["image/svg+xml"]
    w0 = float(re_.search(r'<svg width="([\d.]+)pt"', natural).group(1))
    w1 = float(re_.search(r'<svg width="([\d.]+)pt"', inline).group(1))
    assert w0 > viz.PAGE_WIDTH_PT and w1 == viz.PAGE_WIDTH_PT
    box = re_.search(r'viewBox="([^"]+)"', natural).group(1)
    assert f'viewBox="{box}"' in inline  # the drawing itself is unchanged, only the size it declares
    small = draw_graph(mg.Value(2.0, "a") * mg.Value(3.0, "b"))
    assert viz.page_wide_svg(pipe(small, "svg")) == pipe(small, "svg").decode()  # never grown


def test_a_value_used_once_or_twice_keeps_its_edges():
    a, b = mg.Value(2.0, "a"), mg.Value(3.0, "b")
    twice = (a * b) + (a * 2.0) + (a * a)  # a: used by three nodes (a*a counts once); b: by one
    src = draw_graph(twice).source
    assert src.count('[label=a color="#a0aec0"') == 2  # copies of a for its 2nd and 3rd users
    assert src.count("v0_copy1 -> ") == 2  # a * a: both edges from one copy
    assert "[label=b color=" not in src  # b, used once, is never copied


def test_without_the_graphviz_package_the_error_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz now raises ImportError
    with pytest.raises(ImportError, match=r"^pictures need the graphviz package: pip install graphviz "
                                          r"\(or pip install -e '\.\[viz\]'\)$"):
        viz._graphviz()


def test_a_dot_node_inside_a_neuron_names_its_ports_by_the_short_names():
    model = MLP(3, [1], seed=0)
    out = model([1.0, 2.0, 3.0])
    out.backward()
    src = draw_graph(out, show_local_grads=True).source
    z = model.layers[0].neurons[0].z
    for k, (parent, local) in enumerate(z.edges):
        name = node_names(out)[parent]
        short = name[len("layers.0.neurons.0."):] if name.startswith("layers.") else name
        assert f"<p{k}> {short}: {local:.4g}" in src
    assert "<p0> b: " in src and "<p1> w[0]: " in src and "<p4> x[0]: " in src


# the legend's swatches at full, a quarter and full negative strength: a light mix of the blue and red
# of draw_network's edges with white, 75 % and 30 % of the way from white
FULL_POS, SMALL_POS, FULL_NEG = "#6091c4", "#bfd3e7", "#d46464"


def test_gradient_colours_are_the_legends_and_saturate_at_the_scale():
    x, y = mg.Value(2.0, "x"), mg.Value(-1.0, "y")
    out = x * 0.25 + y * 4.0  # grads: x 0.25, y 4
    out.backward()
    src = draw_graph(out, color_by_grad=True, grad_scale=1.0).source
    legend = src[src.index("fill: sign and size of the gradient"):]
    for colour, text in [(FULL_POS, "grad &gt; 0 (full colour at 1 and above)"), (SMALL_POS, "small grad &gt; 0"),
                         (FULL_NEG, "grad &lt; 0 (full colour at -1 and below)"), ("white", "grad 0")]:
        assert re.search(f'<td bgcolor="{colour}"[^>]*></td><td align="left">{re.escape(text)}</td>', legend), text
    rows = "".join(f'<tr><td bgcolor="{colour}" width="18" height="10" border="1"></td>'
                   f'<td align="left">{text}</td></tr>'
                   for colour, text in [(FULL_POS, "grad &gt; 0 (full colour at 1 and above)"),
                                        (SMALL_POS, "small grad &gt; 0"),
                                        (FULL_NEG, "grad &lt; 0 (full colour at -1 and below)"), ("white", "grad 0")])
    assert ('label=<<table border="0" cellspacing="2" cellpadding="2"><tr><td colspan="2" align="left"><b>fill: sign '
            f'and size of the gradient</b></td></tr>{rows}</table>> labeljust=l labelloc=b\n}}\n') in src
    fills = dict(re.findall(r'\[label="\{ (\w+) \|[^]]*fillcolor="(#[0-9a-f]{6}|white)"', src))
    assert fills["x"] == SMALL_POS  # 0.25 of the scale, and positive though below 1
    x.grad, y.grad = 7.0, -7.0  # beyond the scale: full strength, no darker
    src = draw_graph(out, color_by_grad=True, grad_scale=1.0).source
    fills = dict(re.findall(r'\[label="\{ (\w+) \|[^]]*fillcolor="(#[0-9a-f]{6}|white)"', src))
    assert (fills["x"], fills["y"]) == (FULL_POS, FULL_NEG)


SVG_TAG = '<svg width="{w}pt" height="{h}pt"\n viewBox="0.00 0.00 {w}.00 {h}.00" xmlns="http://www.w3.org/2000/svg">'


@pytest.mark.parametrize("as_bytes", [False, True])
def test_page_wide_svg_caps_the_declared_size_and_keeps_the_proportions(as_bytes):
    def svg(w, h):
        text = '<?xml version="1.0"?>\n' + SVG_TAG.format(w=w, h=h) + "\n<g/></svg>"
        return text.encode() if as_bytes else text

    assert viz.page_wide_svg(svg(1440, 300)) == ('<?xml version="1.0"?>\n<svg width="720pt" height="150.00pt"\n '
                                                 'viewBox="0.00 0.00 1440.00 300.00" xmlns="http://www.w3.org/2000/svg">'
                                                 '\n<g/></svg>')
    out = viz.page_wide_svg(svg(1440, 301))
    assert '<svg width="720pt" height="150.50pt"\n viewBox="0.00 0.00 1440.00 301.00"' in out
    assert viz.page_wide_svg(svg(720, 333)) == (svg(720, 333).decode() if as_bytes else svg(720, 333))
    assert '<svg width="500pt" height="50.00pt"' in viz.page_wide_svg(svg(1000, 100), max_width_pt=500)
    with pytest.raises(ValueError, match=r"^page_wide_svg: no <svg> element with a width and height in points$"):
        viz.page_wide_svg(b"<svg></svg>" if as_bytes else "<svg></svg>")


@pytest.mark.parametrize("as_bytes", [False, True])
def test_scalable_svg_drops_only_the_height_and_style_and_names_what_is_missing(as_bytes):
    text = '<?xml version="1.0"?>\n<svg width="800pt" height="90pt" style="x" viewBox="0 0 800 90">\n<g/></svg>'
    out = scalable_svg(text.encode() if as_bytes else text)
    assert out == '<?xml version="1.0"?>\n<svg width="800pt" viewBox="0 0 800 90" ' \
                  'style="max-width:100%;height:auto">\n<g/></svg>'
    with pytest.raises(ValueError, match=r"^scalable_svg: no <svg> element in the text$"):
        scalable_svg("<html><p>no picture</p></html>")
    with pytest.raises(ValueError, match=r"^scalable_svg: the <svg> element has no viewBox, so it cannot scale$"):
        scalable_svg('<svg width="1pt">')


def test_render_writes_dot_text_for_gv_and_asks_dot_for_svg_png_and_pdf(tmp_path, monkeypatch):
    g = draw_graph(neuron_expression()[-1])
    path = render(g, str(tmp_path / "g.gv"))
    assert path == str(tmp_path / "g.gv") and open(path, encoding="utf-8").read() == g.source
    asked = []

    def fake_pipe(graph, fmt, timeout):
        asked.append((graph, fmt, timeout))
        return b"%" + fmt.encode()

    monkeypatch.setattr(viz, "pipe", fake_pipe)
    for ext in ("svg", "PNG", "pdf"):
        path = render(g, tmp_path / f"g.{ext}", timeout=3.0)
        assert path == str(tmp_path / f"g.{ext}") and open(path, "rb").read() == b"%" + ext.lower().encode()
    assert asked == [(g, "svg", 3.0), (g, "png", 3.0), (g, "pdf", 3.0)]
    assert render(g, tmp_path / "h.svg") and asked[-1][2] == viz.LAYOUT_TIMEOUT == 10.0
    with pytest.raises(ValueError, match=r"^render: cannot tell the format of '.*g\.jpeg'; use \.svg, \.png, \.pdf "
                                         r"or \.dot$"):
        render(g, tmp_path / "g.jpeg")


def network_legend(top, quarter, note):
    def row(colour, height, text):
        return (f'<tr><td width="40" height="14" fixedsize="true"><table border="0" cellspacing="0" cellpadding="0">'
                f'<tr><td width="36" height="{height}" fixedsize="true" bgcolor="{colour}"></td></tr></table></td>'
                f'<td align="left" width="110" height="14" fixedsize="true">{text}</td></tr>')

    rows = (row("#2b6cb0", 3, f"weight +{top}") + row("#2b6cb0", 1, f"weight +{quarter}")
            + row("#c53030", 1, f"weight -{quarter}") + row("#c53030", 3, f"weight -{top}"))
    return ('label=<<table border="0" cellspacing="2" cellpadding="0"><tr><td align="left"><b>edges: colour is the '
            'sign of the weight, thickness its size</b></td></tr><tr><td align="left"><table border="0" '
            f'cellspacing="3" cellpadding="0">{rows}</table></td></tr><tr><td align="left">{note}</td></tr></table>> '
            'labeljust=l labelloc=b')


def test_draw_network_dot_text_of_a_small_network():
    # every line a learner's picture is made of: the layout settings, the nodes and their text, the edges
    # with the weight's colour and thickness (0.3 + 3 |w| / largest |w|), and the legend
    model = MLP(2, [1], seed=0)
    n = model.layers[0].neurons[0]
    n.w[0].data, n.w[1].data, n.b.data = 0.5, -2.0, 0.25
    circle = 'fixedsize=true shape=circle style=filled width=0.85]'
    expected = "\n".join([
        "digraph network {",
        "\tgraph [fontname=Helvetica fontsize=10 nodesep=0.12 rankdir=LR ranksep=2.2 splines=spline]",
        "\tnode [fontname=Helvetica fontsize=10]",
        "\tedge [arrowsize=0.4 headport=w tailport=e]",
        "\tsubgraph cluster_inputs {",
        "\t\tcolor=white label=inputs",
        f'\t\tin0 [label="x[0]\\n1" fillcolor="#e2e8f0" {circle}',
        f'\t\tin1 [label="x[1]\\n0.5" fillcolor="#e2e8f0" {circle}',
        "\t}",
        "\tsubgraph cluster_layer0 {",
        '\t\tcolor=white label="layers.0 (linear)"',
        f'\t\tl0n0 [label="b 0.25\\na -0.25" fillcolor="#fefcbf" {circle}',
        "\t}",
        '\tin0 -> l0n0 [color="#2b6cb0" penwidth=1.05]',
        '\tin1 -> l0n0 [color="#c53030" penwidth=3.30]',
        "\t" + network_legend(2, 0.5, "b: bias, a: activation for the input x"),
        "}", ""])
    assert draw_network(model, x=[1.0, 0.5]).source == expected
    plain = draw_network(model).source
    assert 'in0 [label="x[0]" ' in plain and 'l0n0 [label="b 0.25" ' in plain
    assert plain.endswith(network_legend(2, 0.5, "b: bias") + "\n}\n")


def test_draw_network_layers_connect_in_order_with_zero_weights_blue():
    model = MLP(2, [2, 1], seed=0)
    for layer in model.layers:
        for neuron in layer.neurons:
            for w in neuron.w:
                w.data = 0.0
    model.layers[1].neurons[0].w[1].data = -1.5
    src = draw_network(model, x=[1.0, 2.0]).source
    edges = re.findall(r"\t(\w+) -> (\w+) \[color=\"(#\w+)\" penwidth=([\d.]+)\]", src)
    assert edges == [("in0", "l0n0", "#2b6cb0", "0.30"), ("in1", "l0n0", "#2b6cb0", "0.30"),
                     ("in0", "l0n1", "#2b6cb0", "0.30"), ("in1", "l0n1", "#2b6cb0", "0.30"),
                     ("l0n0", "l1n0", "#2b6cb0", "0.30"), ("l0n1", "l1n0", "#c53030", "3.30")]
    assert 'label="layers.1 (linear)"' in src and 'label="layers.0 (relu)"' in src
    a = model.layers[1].neurons[0].b.data  # the hidden layer gives relu(0 + b) to a weight of 0 and -1.5
    out = a - 1.5 * max(0.0, model.layers[0].neurons[1].b.data)
    assert f'l1n0 [label="b {a:.4g}\\na {out:.4g}"' in src


@pytest.mark.parametrize("rankdir, ports", [("LR", "headport=w tailport=e"), ("RL", "headport=e tailport=w"),
                                            ("TB", "headport=n tailport=s"), ("BT", "headport=s tailport=n")])
def test_network_edges_leave_towards_the_next_layer_in_every_direction(rankdir, ports):
    src = draw_network(MLP(2, [1], seed=0), rankdir=rankdir).source
    assert f"\tedge [arrowsize=0.4 {ports}]\n" in src and f" rankdir={rankdir} " in src


def test_draw_network_refuses_an_unknown_direction():
    with pytest.raises(ValueError, match=r"^draw_network: rankdir must be LR, RL, TB or BT, got 'lr'$"):
        draw_network(MLP(2, [1], seed=0), rankdir="lr")


def fake_graphviz(tmp_path, monkeypatch, script):
    """A PATH whose dot and neato run `script` (sh), so pipe's own handling is seen without Graphviz."""
    import os
    import stat

    for name in ("dot", "neato"):
        path = tmp_path / name
        path.write_text("#!/bin/sh\n" + script.replace("NAME", name))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))


def test_pipe_runs_the_graphs_engine_with_the_format_and_feeds_it_the_dot_text(tmp_path, monkeypatch):
    fake_graphviz(tmp_path, monkeypatch, 'echo "NAME $1"; cat')
    g = draw_graph(mg.Value(2.0, "λ") * 3.0)  # not ASCII: the DOT text goes to Graphviz as UTF-8
    assert pipe(g) == ("dot -Tsvg\n" + g.source).encode("utf-8")
    assert pipe(g, "png") == ("dot -Tpng\n" + g.source).encode("utf-8")
    g.engine = "neato"
    assert pipe(g, "json").startswith(b"neato -Tjson\n")

    class Plain:  # any object with DOT text; no engine named, or none: dot
        source = "digraph {}"
        engine = None

    assert pipe(Plain()) == b"dot -Tsvg\ndigraph {}"
    del Plain.engine
    assert pipe(Plain()) == b"dot -Tsvg\ndigraph {}"


def test_pipe_reports_the_exit_code_and_the_last_line_of_graphvizs_complaint(tmp_path, monkeypatch):
    g = draw_graph(mg.Value(2.0, "a") * 3.0)
    complaint = r"printf 'Warning: first\nWarning: second\nError: syntax \377 here\n' >&2; exit 3"
    fake_graphviz(tmp_path, monkeypatch, complaint)
    with pytest.raises(LayoutError, match=r"^Graphviz failed on this graph \(exit 3\): Error: syntax \ufffd here$"):
        pipe(g)
    fake_graphviz(tmp_path, monkeypatch, "exit 1")
    with pytest.raises(LayoutError, match=r"^Graphviz failed on this graph \(exit 1\): no message$"):
        pipe(g)


def test_pipe_stops_a_slow_layout_with_the_bound_and_what_to_do(tmp_path, monkeypatch):
    fake_graphviz(tmp_path, monkeypatch, "exec sleep 5")
    with pytest.raises(LayoutError, match=r"^Graphviz took longer than the layout time limit of 0\.2 s and was "
                                          r"stopped; draw a smaller graph \(one sample, one neuron, "
                                          r"collapse_neurons=True\), or pass a larger timeout=$"):
        pipe(draw_graph(mg.Value(2.0, "a") * 3.0), timeout=0.2)


def test_draw_graph_dot_text_of_a_small_expression():
    # a record per value (special characters of record labels escaped), a small circle per op, an edge
    # per input; no colour from the grads unless asked
    a, b = mg.Value(2.0, "a|b {c}<d>\\"), mg.Value(-3.0, "b")
    y = a * b + 1.0
    y.backward()
    record = 'fillcolor=white shape=record style="rounded,filled"]'
    op = 'fillcolor="#edf2f7" fontsize=11 height=0.3 shape=circle style=filled width=0.3]'
    assert draw_graph(y).source == "\n".join([
        "digraph computation_graph {",
        "\tgraph [fontname=Helvetica fontsize=11 nodesep=0.25 rankdir=LR ranksep=0.4]",
        "\tnode [fontname=Helvetica fontsize=11]",
        '\tedge [color="#4a5568" fontname=Helvetica]',
        f'\tv0 [label="{{ a\\|b\\ \\{{c\\}}\\<d\\>\\\\ | data 2 | grad -3 }}" {record}',
        f'\tv1 [label="{{ b | data -3 | grad 2 }}" {record}',
        f'\tv2 [label="{{ v1 | data -6 | grad 1 }}" {record}',
        f'\tv2_op [label="*" {op}',
        "\tv2_op -> v2",
        f'\tv3 [label="{{ v2 | data 1 | grad 1 }}" {record}',
        f'\tv4 [label="{{ v3 | data -5 | grad 1 }}" {record}',
        f'\tv4_op [label="+" {op}',
        "\tv4_op -> v4",
        "\tv0 -> v2_op", "\tv1 -> v2_op", "\tv2 -> v4_op", "\tv3 -> v4_op",
        "}", ""])
    no_grad = draw_graph(y, show_grad=False, rankdir="TB").source
    assert '\tv1 [label="{ b | data -3 }" ' in no_grad and " rankdir=TB " in no_grad


def test_only_a_neurons_own_nodes_make_model_inputs():
    # a dot of two plain Values is no neuron (no bias, no fused node), and a node that only carries a
    # product's label is no product: their unlabelled inputs are numbered like any other value
    w, x = mg.Value(2.0), mg.Value(3.0)
    assert list(node_names(mg.dot([w], [x])).values()) == ["v1", "v2", "v3"]
    a, b = mg.Value(1.0), mg.Value(2.0)
    y = a + b
    y.label = "w[0]*x[1]"
    assert list(node_names(y).values()) == ["v1", "v2", "w[0]*x[1]"]


def test_node_names_names_the_type_it_refuses():
    with pytest.raises(TypeError, match=r"^node_names: expected a Value, got float$"):
        node_names(3.0)


@pytest.mark.parametrize("rankdir", ["LR", "RL", "TB", "BT"])
def test_draw_graph_takes_the_four_directions_and_refuses_others(rankdir):
    y = mg.Value(2.0, "a") * 3.0
    assert f" rankdir={rankdir} " in draw_graph(y, rankdir=rankdir).source
    with pytest.raises(ValueError, match=rf"^draw_graph: rankdir must be LR, RL, TB or BT, got '{rankdir.lower()}'$"):
        draw_graph(y, rankdir=rankdir.lower())


def test_max_nodes_counts_values_or_collapsed_neurons_and_defaults_to_1500():
    chain = mg.Value(0.0)
    for _ in range(749):
        chain = chain + 1.0  # two values per step (the 1.0 and the sum): 1 + 2 * 749 = 1499
    assert draw_graph(chain.relu()).source  # 1500 values: allowed
    with pytest.raises(ValueError, match=r"^draw_graph: 1501 values is more than max_nodes=1500; draw a smaller graph "
                                         r"\(one sample, one neuron\), pass collapse_neurons=True, or raise "
                                         r"max_nodes$"):
        draw_graph(chain + 1.0)
    model = MLP(2, [3, 1], seed=0)
    out = model([1.0, 2.0])
    n_values = len(mg.topological_order(out))
    assert draw_graph(out, max_nodes=n_values).source
    with pytest.raises(ValueError, match=rf"^draw_graph: {n_values} values is more than max_nodes={n_values - 1};"):
        draw_graph(out, max_nodes=n_values - 1)
    # collapsed: the 4 neurons and the 2 inputs
    assert "n_layers_1_neurons_0" in draw_graph(out, collapse_neurons=True, max_nodes=6).source
    with pytest.raises(ValueError, match=r"^draw_graph: 6 values is more than max_nodes=5;"):
        draw_graph(out, collapse_neurons=True, max_nodes=5)


def test_colours_before_backward_are_white_and_the_legend_scale_is_1():
    y = mg.Value(2.0, "a") * 3.0
    src = draw_graph(y, color_by_grad=True).source
    assert "grad &gt; 0: none" in src and "grad &lt; 0: none" in src and "fillcolor=white" in src
    assert "full colour at 0.5 and above" in draw_graph(y, color_by_grad=True, grad_scale=0.5).source  # below 1


def test_the_legend_names_the_strongest_positive_and_the_strongest_negative_gradient_each_by_its_own_value():
    # notebook 01's neuron: the largest |grad| is x's -1.503, negative; the largest positive is w's 1.002
    x, w, b = mg.Value(2.0, "x"), mg.Value(-3.0, "w"), mg.Value(6.88, "b")
    o = (x * w + b).tanh()
    o.label = "o"
    o.backward()
    src = draw_graph(o, color_by_grad=True).source
    assert "grad &gt; 0, strongest: w = 1.002" in src and "grad &lt; 0, strongest: x = -1.503" in src
    swatch = dict((text, colour) for colour, text in re.findall(r'<td bgcolor="(#[0-9a-f]{6})"[^>]*></td>'
                                                                r'<td align="left">([^<]*)</td>', src))
    assert swatch["grad &gt; 0, strongest: w = 1.002"] == "#" + viz._grad_fill(w.grad, -x.grad)  # w's own colour
    assert swatch["grad &lt; 0, strongest: x = -1.503"] == "#" + viz._grad_fill(x.grad, -x.grad)


def test_the_inputs_of_a_layer_are_drawn_once_with_an_edge_to_each_neuron():
    from micrograd_like.nn import MLP

    m = MLP(2, [3, 1], seed=0)
    src = draw_graph(m([0.5, -1.0])).source
    assert "_copy" not in src  # x[0], x[1] and each first-layer activation: one node, an edge per neuron
    x0 = re.search(r"^\t(v\d+) \[label=\"\{ x\[0\] ", src, re.MULTILINE).group(1)
    assert len(re.findall(rf"^\t{x0} -> ", src, re.MULTILINE)) == 3


def test_short_names_split_off_the_neuron():
    assert viz.short_name("layers.1.neurons.0.w[2]") == ("w[2]", "layers.1.neurons.0")
    assert viz.short_name("x[0]") == ("x[0]", "") and viz.short_name("v7") == ("v7", "")



RECORD = 'fillcolor=white shape=record style="rounded,filled"]'
OP = 'fillcolor="#edf2f7" fontsize=11 height=0.3 shape=circle style=filled width=0.3]'
HEADER = ["digraph computation_graph {",
          "\tgraph [fontname=Helvetica fontsize=11 nodesep=0.25 rankdir=LR ranksep=0.4]",
          "\tnode [fontname=Helvetica fontsize=11]",
          '\tedge [color="#4a5568" fontname=Helvetica]']


def one_neuron(fused):
    model = MLP(1, [1], seed=0, fused=fused) if fused is not None else MLP(3, [1], seed=0)
    n = model.layers[0].neurons[0]
    for w, value in zip(n.w, (0.5, -1.5, 0.75)):
        w.data = value
    n.b.data = 0.25
    out = model([2.0] if fused is not None else [2.0, 1.0, -1.0])
    out.backward()
    return out


def test_a_neuron_drawn_in_its_clusters_with_local_grads_and_a_highlight():
    out = one_neuron(fused=False)
    local = 'fontcolor="#2f855a" fontsize=11]'
    assert draw_graph(out, show_local_grads=True, highlight={out}).source == "\n".join(HEADER + [
        f'\tv0 [label="{{ b | data 0.25 | grad 1 }}" {RECORD}',
        f'\tv1 [label="{{ w[0] | data 0.5 | grad 2 }}" {RECORD}',
        f'\tv2 [label="{{ x[0] | data 2 | grad 0.5 }}" {RECORD}',
        f'\tv3 [label="{{ w[0]*x[0] | data 1 | grad 1 }}" {RECORD}',
        f"\tv3_op [label=\"*\" {OP}",
        "\tv3_op -> v3",
        '\tv4 [label="{ z | data 1.25 | grad 1 }" color="#dd6b20" fillcolor=white penwidth=3 '
        'shape=record style="rounded,filled"]',
        f"\tv4_op [label=\"+\" {OP}",
        "\tv4_op -> v4",
        f"\tv1 -> v3_op [label=2 {local}", f"\tv2 -> v3_op [label=0.5 {local}",
        f"\tv0 -> v4_op [label=1 {local}", f"\tv3 -> v4_op [label=1 {local}",
        "\tsubgraph cluster_layers_0 {",
        '\t\tcolor="#a0aec0" fontname=Helvetica label="layers.0" style=rounded',
        "\t\tsubgraph cluster_layers_0_neurons_0 {",
        '\t\t\tcolor="#cbd5e0" label="neurons.0" style="rounded,dashed"',
        "\t\t\tv0", "\t\t\tv1", "\t\t\tv3", "\t\t\tv3_op", "\t\t\tv4", "\t\t\tv4_op",
        "\t\t}", "\t}", "}", ""])
    assert "subgraph" not in draw_graph(out, clusters=False).source


def test_a_collapsed_neuron_is_one_box_with_its_activation_and_grad():
    out = one_neuron(fused=False)
    box = 'fillcolor="#fefcbf" shape=box style="rounded,filled"]'
    assert draw_graph(out, collapse_neurons=True).source == "\n".join(HEADER + [
        f'\tv2 [label="{{ x[0] | data 2 | grad 0.5 }}" {RECORD}',
        f'\tn_layers_0_neurons_0 [label="layers.0.neurons.0\\n1.25\\ngrad 1" {box}',
        "\tv2 -> n_layers_0_neurons_0", "}", ""])
    assert 'n_layers_0_neurons_0 [label="layers.0.neurons.0\\n1.25" ' in draw_graph(
        out, collapse_neurons=True, show_grad=False).source


def test_a_fused_neuron_outside_clusters_draws_its_dot_node_with_ports():
    out = one_neuron(fused=None)
    src = draw_graph(out, show_local_grads=True, clusters=False).source
    assert ('\tv7_op [label="dot | <p0> b: 1 | <p1> w[0]: 2 | <p2> w[1]: 1 | <p3> w[2]: -1 | <p4> x[0]: 0.5 | '
            '<p5> x[1]: -1.5 | <p6> x[2]: 0.75" fillcolor="#edf2f7" fontsize=11 shape=record style="rounded,filled"]'
            in src)
    assert "\n".join(f"\tv{k} -> v7_op:p{k}" for k in range(7)) in src and "label=1 " not in src


def test_the_backward_pass_of_a_gradient_is_filled_purple_with_a_legend():
    x = mg.Value(2.0, "x")
    (g,) = mg.grad(x * x * x, [x], create_graph=True)
    purple = 'fillcolor="#e9d8fd"'
    src = draw_graph(g).source
    assert f'\tv1 [label="{{ v1 | data 4 | grad 0 }}" {RECORD}' in src  # x * x: the forward pass
    assert f'\tv2 [label="{{ v2 | data 8 | grad 0 }}" {purple} shape=record' in src
    assert f"\tv2_op [label=dot {purple} fontsize=11 height=0.3 shape=ellipse style=filled width=0.3]" in src
    assert f"\tv3_op [label=sum {purple} fontsize=11" in src
    assert src.endswith(
        '\tlabel=<<table border="0" cellspacing="2" cellpadding="2"><tr><td colspan="2" align="left"><b>fill</b>'
        '</td></tr><tr><td bgcolor="#e9d8fd" width="18" height="10" border="1"></td><td align="left">made by the '
        "backward pass (grad with create_graph=True)</td></tr></table>> labeljust=l labelloc=b\n}\n")
    src = draw_graph(g, show_local_grads=True).source  # ported op nodes are purple too
    assert re.search(r'v2_op \[label="dot \| <p0> [^"]*" fillcolor="#e9d8fd" fontsize=11 shape=record', src)
    coloured = draw_graph(g, color_by_grad=True).source
    assert "fill: sign and size of the gradient" in coloured and "made by the backward pass" in coloured


def test_a_times_a_is_one_use_when_counting_for_copies():
    a = mg.Value(2.0, "a")
    y = (a * a) + (a * 3.0)  # a: used by two nodes
    src = draw_graph(y).source
    assert "_copy" not in src and src.count("v0 -> ") == 3


def test_an_op_of_three_inputs_already_gets_ports():
    s = mg.sum([mg.Value(1.0, "a"), mg.Value(2.0, "b"), mg.Value(3.0, "c")])
    src = draw_graph(s, show_local_grads=True).source
    assert ('\tv3_op [label="sum | <p0> a: 1 | <p1> b: 1 | <p2> c: 1" fillcolor="#edf2f7" fontsize=11 shape=record '
            'style="rounded,filled"]') in src
    assert "\tv2 -> v3_op:p2\n" in src


def test_a_gradient_colour_wins_over_the_backward_pass_purple():
    x = mg.Value(2.0, "x")
    (g,) = mg.grad(x * x * x, [x], create_graph=True)
    g.backward()
    src = draw_graph(g, color_by_grad=True).source
    fills = dict(re.findall(r'\t(v\d+) \[label="\{[^"]*" fillcolor="([^"]+)"', src))
    assert fills["v2"] == fills["v3"] == "#" + viz._grad_fill(1.0, 12.0)  # made by the backward pass, grad 1
    assert fills["v0"] == FULL_POS
    assert 'v2_op [label=dot fillcolor="#e9d8fd"' in src  # the op itself keeps its purple


def test_ops_of_one_or_two_characters_are_circles_and_longer_names_ellipses():
    a = mg.Value(2.0, "a")
    for y, label, shape in [(a - 1.0, '"-"', "circle"), (a**2, '"**2"', "ellipse"), (a.exp(), "exp", "ellipse")]:
        assert re.search(rf"\tv\d+_op \[label={re.escape(label)} [^]]* shape={shape} ", draw_graph(y).source), label


def test_copies_of_a_value_are_small_dashed_boxes_and_its_first_user_keeps_the_value_itself():
    a, b = mg.Value(2.0, "a"), mg.Value(3.0, "b")
    src = draw_graph((a * b) + (a * 2.0) + (a * a)).source
    copy = ('[label=a color="#a0aec0" fontcolor="#4a5568" fontsize=11 height=0.3 shape=box style="rounded,dashed" '
            'tooltip="a again (drawn in full once)"]')
    assert "\n".join(["\tv0 -> v2_op", "\tv1 -> v2_op", f"\tv0_copy0 {copy}", "\tv0_copy0 -> v4_op", "\tv3 -> v4_op",
                      "\tv2 -> v5_op", "\tv4 -> v5_op", f"\tv0_copy1 {copy}", "\tv0_copy1 -> v6_op",
                      "\tv0_copy1 -> v6_op", ""]) in src


def test_collapsed_neurons_connect_layer_to_layer_once():
    model = MLP(1, [2, 1], seed=0)
    out = model([1.0])
    src = draw_graph(out, collapse_neurons=True).source
    edges = re.findall(r"\t(\w+) -> (\w+)\n", src)
    assert edges == [("v5", "n_layers_0_neurons_0"), ("v5", "n_layers_0_neurons_1"),
                     ("n_layers_0_neurons_0", "n_layers_1_neurons_0"), ("n_layers_0_neurons_1", "n_layers_1_neurons_0")]
    assert f'n_layers_1_neurons_0 [label="layers.1.neurons.0\\n{out.data:.4g}\\ngrad 0" ' in src


def test_node_names_knows_which_values_are_in_the_graph():
    a = mg.Value(1.0)
    y = a * 2.0
    names = node_names(y)
    assert a in names and y in names and mg.Value(1.0) not in names and 1.0 not in names
    assert list(names) == mg.topological_order(y)


def test_a_network_of_zero_weights_draws_thin_edges_and_a_legend_scaled_to_1():
    model = MLP(2, [1], seed=0)
    for w in model.layers[0].neurons[0].w:
        w.data = 0.0
    src = draw_network(model).source
    assert src.count('[color="#2b6cb0" penwidth=0.30]') == 2
    assert "weight +1<" in src and "weight +0.25<" in src and "weight -1<" in src


def test_a_negative_gradient_at_part_strength_mixes_the_red_with_white():
    z = mg.Value(1.0, "z")
    y = z * -0.4
    y.backward()
    src = draw_graph(y, color_by_grad=True, grad_scale=1.0).source
    assert re.search(r'\[label="\{ z \|[^]]*fillcolor="#e8aeae"', src)  # 40 % strength: 39 % of the way from white


def test_a_port_keeps_a_dotted_label_that_is_not_a_neurons():
    s = mg.sum([mg.Value(1.0, "loss.part"), mg.Value(2.0, "b"), mg.Value(3.0, "c")])
    assert "<p0> loss.part: 1 | " in draw_graph(s, show_local_grads=True).source


def test_a_picture_reads_as_a_picture_of_this_module():
    assert repr(draw_graph(mg.Value(1.0) * 2.0)).startswith("<micrograd_like.viz.Picture object at ")


def test_an_input_given_twice_is_one_edge_to_its_collapsed_neuron():
    x, y = mg.Value(1.0, "x"), mg.Value(2.0, "y")
    src = draw_graph(MLP(3, [1], seed=0)([x, x, y]), collapse_neurons=True).source
    assert sorted(re.findall(r"\t(\w+) -> (\w+)\n", src)) == [("v4", "n_layers_0_neurons_0"),
                                                              ("v5", "n_layers_0_neurons_0")]
    assert re.search(r'\tv4 \[label="\{ x \|', src) and re.search(r'\tv5 \[label="\{ y \|', src)


def test_a_collapsed_neuron_used_three_times_keeps_its_edges_without_copies():
    model = MLP(1, [1, 3], seed=0)
    src = draw_graph(mg.sum(model([1.0])), collapse_neurons=True).source
    assert "_copy" not in src
    for k in range(3):
        assert f"\tn_layers_0_neurons_0 -> n_layers_1_neurons_{k}\n" in src


def test_the_neuron_close_up_gives_each_inputs_part_through_this_neuron_beside_its_total():
    from micrograd_like.viz import draw_neuron

    model = MLP(2, [3, 1], seed=0)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    loss.backward()
    neuron = model.layers[0].neurons[0]
    x0 = neuron.z._c[0]  # the first input, as the fused dot node keeps it
    part = neuron.z.grad * neuron.w[0].data
    src = draw_neuron(neuron).source
    assert f"x[0]: grad {x0.grad:.4g} over the whole network, of which {part:.4g} through this neuron" in src
    assert f"and {x0.grad - part:.4g} through the other neurons that use x[0] (not drawn)" in src
    total = sum(n.z.grad * n.w[0].data for n in model.layers[0].neurons)
    assert x0.grad == pytest.approx(total)  # the parts of the three neurons add up to the total
    with pytest.raises(TypeError, match="draw_neuron: expected an nn.Neuron, got Value"):
        draw_neuron(loss)


def test_the_close_up_of_an_unfused_neuron_finds_its_inputs_too():
    from micrograd_like.viz import draw_neuron

    model = MLP(2, [2, 1], fused=False, seed=0)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    loss.backward()
    neuron = model.layers[0].neurons[1]
    src = draw_neuron(neuron).source
    total = sum(n.z.grad * n.w[1].data for n in model.layers[0].neurons)  # what both neurons send x[1]
    assert f"x[1]: grad {total:.4g} over the whole network" in src
    assert f"of which {neuron.z.grad * neuron.w[1].data:.4g} through this neuron" in src


# ---- draw_network(model, health=report): what nn.diagnose found, coloured ----


def sick_network():
    """MLP(2, [3, 2, 1]): layers.0.neurons.1 is a dead relu, layers.1.neurons.0 a saturated tanh."""
    model = MLP(2, [3, 2, 1], activations=["relu", "tanh", "linear"], seed=0)
    dead = model.layers[0].neurons[1]
    dead.w, dead.b = [mg.Value(0.0), mg.Value(0.0)], mg.Value(-1.0)
    model.layers[1].neurons[0].b = mg.Value(20.0)
    return model, [[1.0, 2.0], [-1.0, 0.5], [0.5, -2.0]]


def test_draw_network_colours_dead_and_saturated_neurons_and_says_so_in_words():
    from micrograd_like.nn import diagnose

    model, X = sick_network()
    report = diagnose(model, X)
    assert report.dead == ("layers.0.neurons.1",) and list(report.saturated) == ["layers.1.neurons.0"]
    src = draw_network(model, health=report).source
    circle = 'fixedsize=true shape=circle style=filled width=0.85]'
    assert f'\t\tl0n1 [label="b -1\\ndead" fillcolor="#a0aec0" {circle}' in src
    assert f'\t\tl1n0 [label="b 20\\nsaturated" fillcolor="#f6ad55" {circle}' in src
    healthy = re.findall(r"\t\t(l\dn\d) \[[^\n]*fillcolor=\"#fefcbf\"", src)
    assert healthy == ["l0n0", "l0n2", "l1n1", "l2n0"]
    assert "neurons and layers: health on 3 rows" in src
    assert ('<td width="36" height="12" fixedsize="true" bgcolor="#a0aec0" border="1"></td>'
            '<td align="left">dead: a relu whose output is 0 on all 3 rows</td>') in src
    assert "saturated: |tanh| &gt; 0.99, or sigmoid &gt; 0.99 or &lt; 0.01, on 95% of rows or more" in src
    # without a report the picture is the plain one, without the health legend
    plain = draw_network(model).source
    assert "health" not in plain and "#a0aec0" not in plain and "dead" not in plain


def test_draw_network_frames_a_vanishing_layer_in_red_with_its_ratio():
    from micrograd_like.nn import diagnose

    model = MLP(1, [1, 1], activations=["linear", "linear"], seed=0)
    first, last = model.layers[0].neurons[0], model.layers[1].neurons[0]
    first.w, first.b = [mg.Value(1.0)], mg.Value(0.0)
    last.w, last.b = [mg.Value(2.0 ** -9)], mg.Value(0.0)  # layer 0's gradients: 2^-9, layer 1's: (1, 1)
    report = diagnose(model, [[1.0]])
    assert report.vanishing == ("layers.0",)
    src = draw_network(model, health=report).source
    assert ('\t\tcolor="#c53030" fontcolor="#c53030" label="layers.0 (linear)\\ngradient 1/512 of the last '
            'layer\'s" penwidth=2 style="dashed,rounded"') in src
    assert '\t\tcolor=white label="layers.1 (linear)"\n' in src  # the last layer is the yardstick, never framed
    assert ("red frame: a layer whose gradient is 100 times the last layer's or smaller "
            "(gradients of the sum of the outputs)") in src
    # top to bottom, a layer's name is a plain node at the end of its row, which edges go around
    down = draw_network(model, health=report, rankdir="TB").source
    assert ('\t\tcolor="#c53030" fontcolor="#c53030" label="" penwidth=2 style="dashed,rounded"\n'
            '\t\tl0n0 [label="b 0" ') in down
    assert ('\t\tl0name [label="layers.0 (linear)\\ngradient 1/512 of the last layer\'s" fontcolor="#c53030" '
            'shape=plaintext]\n') in down
    assert '\t\tcolor=white label=""\n' in down and '\t\tl1name [label="layers.1 (linear)" shape=plaintext]\n' in down


def test_draw_network_frames_a_layer_without_gradient_as_such():
    from micrograd_like.nn import diagnose

    model, X = sick_network()
    for n in model.layers[0].neurons:
        n.w, n.b = [mg.Value(0.0), mg.Value(0.0)], mg.Value(-1.0)
    report = diagnose(model, X)
    assert report.vanishing == ("layers.0",) and report.grad_norms["layers.0"] == 0.0
    assert 'label="layers.0 (relu)\\nno gradient at all"' in draw_network(model, health=report).source


def test_draw_network_refuses_a_report_of_another_model():
    from micrograd_like.nn import diagnose

    model, X = sick_network()
    report = diagnose(model, X)
    with pytest.raises(ValueError, match=r"^draw_network: the health report names layers\.0\.neurons\.1, which this "
                                         r"model does not have; pass the report of nn\.diagnose\(model, X\) for this"):
        draw_network(MLP(2, [1, 1], seed=0), health=report)
    with pytest.raises(ValueError, match=r"^draw_network: the health report is of 3 layers, this model has 4; "):
        draw_network(MLP(2, [3, 2, 2, 1], seed=0), health=report)
    with pytest.raises(TypeError, match=r"^draw_network: health must be a report of nn\.diagnose, got str$"):
        draw_network(model, health=str(report))


@pytest.mark.graphviz
def test_draw_network_with_health_renders_its_words_and_legend(tmp_path):
    from micrograd_like.nn import diagnose

    model, X = sick_network()
    svg = pipe(draw_network(model, health=diagnose(model, X)), "svg").decode()
    texts = re.findall(r">([^<>]+)</text>", svg)
    assert texts.count("dead") == 1 and texts.count("saturated") == 1
    assert "dead: a relu whose output is 0 on all 3 rows" in texts


@pytest.mark.graphviz
def test_top_to_bottom_no_edge_crosses_a_layers_name_or_its_health_note():
    import json

    from micrograd_like.nn import diagnose

    model = MLP(2, [6, 6, 6, 1], activation="sigmoid", init="xavier", seed=0)
    X = [[0.5 * i, -0.25 * i] for i in range(-4, 5)]
    report = diagnose(model, X)
    layout = json.loads(pipe(draw_network(model, health=report, rankdir="TB"), "json"))
    names = {}
    for o in layout["objects"]:
        if o.get("name", "").endswith("name"):
            x, y = map(float, o["pos"].split(","))
            w, h = float(o["width"]) * 72 / 2, float(o["height"]) * 72 / 2
            names[o["_gvid"]] = (o["label"], (x - w, y - h, x + w, y + h))
    assert [label.split("\\n")[0] for label, _ in names.values()] == [f"layers.{i} (sigmoid)" for i in range(3)] + [
        "layers.3 (linear)"]
    crossing = [(e["tail"], e["head"], label) for e in layout["edges"] for label, (x0, y0, x1, y1) in names.values()
                if any(x0 < px < x1 and y0 < py < y1 for px, py in _bezier_points(e["_draw_"]))]
    assert crossing == []
