"""Pictures: computation graphs and network diagrams as graphviz.Digraph objects."""

from __future__ import annotations

import html
import os
import re
import subprocess
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .engine import _MANY, Value, made_by_backward_pass, no_grad, topological_order

if TYPE_CHECKING:  # graphviz is imported lazily so that `import micrograd_like` stays cheap
    import graphviz

    from .health import HealthReport
    from .nn import MLP, Neuron

__all__ = ["INSTALL_HINT", "LAYOUT_TIMEOUT", "GraphOf", "LayoutError", "NodeNames", "draw", "draw_graph",
           "draw_network", "draw_neuron", "node_names", "pipe", "render", "scalable_svg", "short_name"]

INSTALL_HINT = (
    "the Graphviz program 'dot' is not installed; the Python package alone cannot render. "
    "Install it with `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) "
    "or `conda install graphviz`; DOT text (graph.source, or a .dot path) works without it"
)
LAYOUT_TIMEOUT = 10.0  # seconds; graphs draw_graph accepts lay out in well under this

_NEURON = re.compile(r"^(layers\.(\d+))\.neurons\.(\d+)\.")
_UNFUSED_PRODUCT = re.compile(r"w\[(\d+)\]\*x\[\d+\]$")  # nn's label of w[i] * x[i] when not fused
_POS, _NEG = "#2b6cb0", "#c53030"
_BACKWARD_FILL = "#e9d8fd"  # values and ops made by grad(..., create_graph=True): the backward pass, drawn
# A value used by at least _MANY_USES nodes is drawn in full by its first use and from a small
# copy of it (a reference node) by every other: many edges from one value are what make
# Graphviz's layout take minutes on `x+x+...+x` or a sum of 100 `x*y`, since they hold every
# user of the value near it and stretch long edges from there across the graph. A value used
# once or twice keeps its edges.
_MANY_USES = 3


class LayoutError(RuntimeError):
    """Graphviz did not finish laying out a graph in time, or failed on it."""


def _graphviz():  # type: ignore[no-untyped-def]
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "pictures need the graphviz package: pip install graphviz (or pip install -e '.[viz]')"
        ) from None
    return graphviz


_picture_class = None


def _digraph(*args: Any, **kwargs: Any) -> graphviz.Digraph:
    """A ``graphviz.Digraph`` that shows itself in a notebook at most as wide as the page.

    Graphviz gives its SVG a fixed width, so a wide graph is cut off on the right in a
    notebook, an exported HTML page or nbviewer. This subclass's inline picture is at most
    ``PAGE_WIDTH_PT`` wide (``page_wide_svg``) and shrinks further with a narrower page
    (``scalable_svg``), never growing past its natural size; its layout is bounded by the
    same time limit as ``render`` and ``pipe``. Files written by ``render`` keep their
    natural size. Everything else is the graphviz package's own.
    """
    global _picture_class
    if _picture_class is None:
        graphviz = _graphviz()

        class Picture(graphviz.Digraph):  # type: ignore[misc, name-defined]
            """A graphviz.Digraph whose inline SVG scales down to the width of the page."""

            def _repr_image_svg_xml(self) -> str:
                return scalable_svg(page_wide_svg(pipe(self, "svg")))

        Picture.__qualname__ = "Picture"  # its text repr reads micrograd_like.viz.Picture, not a local class
        _picture_class = Picture
    return _picture_class(*args, **kwargs)


def _fmt(x: float) -> str:
    return f"{x + 0.0:.4g}"  # + 0.0 turns -0.0 into 0.0: a picture never prints "-0"


class NodeNames(Mapping[Value, str]):
    """The name of every Value a root depends on, keyed by identity, in drawing order.

    Built by ``node_names``; ``names[v]`` is v's name, iteration gives the Values
    parents first (the order ``draw_graph`` draws them).
    """

    def __init__(self, order: Sequence[Value], names: Sequence[str]) -> None:
        self._values = list(order)
        self._by_id = {id(v): n for v, n in zip(order, names)}

    def __getitem__(self, v: Value) -> str:
        try:
            return self._by_id[id(v)]
        except KeyError:
            raise KeyError(f"node_names: {v!r} is not part of this graph") from None

    def __contains__(self, v: object) -> bool:
        return id(v) in self._by_id

    def __iter__(self) -> Iterator[Value]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _model_inputs(order: Sequence[Value]) -> dict[int, tuple[int, int]]:
    """id -> (index i, occurrence k) of unlabelled leaves that a neuron takes as its inputs.

    A fused neuron's dot node keeps its inputs as its second tuple of parents; an unfused
    neuron labels its product ``...w[i]*x[i]`` with the input second. The k-th distinct
    leaf seen at index i is the input of the k-th sample drawn.
    """
    found: dict[int, tuple[int, int]] = {}
    seen_per_index: dict[int, int] = {}

    def add(v: Value, i: int) -> None:
        if v.is_leaf and not v.label and id(v) not in found:
            k = seen_per_index.get(i, 0)
            seen_per_index[i] = k + 1
            found[id(v)] = (i, k)

    for v in order:
        if v._b is _MANY and v.op == "dot":
            for i, x in enumerate(v._c):  # type: ignore[attr-defined]
                add(x, i)
        elif v.op == "*" and v.label:
            m = _UNFUSED_PRODUCT.search(v.label)
            if m:
                add(v.parents[1], int(m.group(1)))
    return found


def node_names(root: Value) -> NodeNames:
    """One name for every Value ``root`` depends on: the names every picture and text uses.

    A label is the name. A model's unlabelled inputs are ``x[0]``, ``x[1]``, ... (the
    next sample's ``x1[0]``, ...). Every other unlabelled Value, the root included, is
    ``v1``, ``v2``, ... numbered in the order ``draw_graph`` draws them, without gaps.
    ``draw_graph``, ``trace.explain`` and the steppers all name nodes this way. Iterating
    the result gives ``topological_order(root)``, so a caller needs to walk the graph once.
    """
    if not isinstance(root, Value):
        raise TypeError(f"node_names: expected a Value, got {type(root).__name__}")
    order = topological_order(root)
    inputs = _model_inputs(order)
    names, counter = [], 0
    for v in order:
        if v.label:
            names.append(v.label)
        elif id(v) in inputs:
            i, k = inputs[id(v)]
            names.append(f"x{k or ''}[{i}]")
        else:
            counter += 1
            names.append(f"v{counter}")
    return NodeNames(order, names)


def _neuron_of(v: Value) -> tuple[str, str] | None:
    m = _NEURON.match(v.label)
    return (m.group(1), m.group(0).rstrip(".")) if m else None


def _record_text(s: str) -> str:
    # characters that mean something inside a Graphviz record label
    return re.sub(r"([|{}<>\\\"])", r"\\\1", s).replace(" ", "\\ ")


def _short(name: str) -> str:
    """nn's long names shortened for a port of a dot node inside its neuron: ``w[1]``, ``b``."""
    return name.rsplit(".", 1)[-1] if _NEURON.match(name) else name


def short_name(name: str) -> tuple[str, str]:
    """A name of ``node_names`` split for text that has little room: ``(short name, where)``.

    ``"layers.1.neurons.0.w[2]"`` gives ``("w[2]", "layers.1.neurons.0")``; any other
    name is its own short name, with ``where`` empty.
    """
    m = _NEURON.match(name)
    return (name[m.end():], m.group(0).rstrip(".")) if m else (name, "")


class GraphOf:
    """What every picture of one root needs, computed once: the order, the names, ids and users.

    ``order`` is ``topological_order(root)`` (it is the iteration of ``names``),
    ``index`` the DOT id number of each Value (by id), ``users`` the nodes that use each
    Value as a parent, in drawing order (``a * a`` is one use). A flipbook draws many
    frames of one graph from one of these.
    """

    def __init__(self, root: Value) -> None:
        self.root = root
        self.names = node_names(root)
        self.order = list(self.names)
        self.index = {id(v): i for i, v in enumerate(self.order)}
        self.users: dict[int, list[Value]] = {}
        for v in self.order:
            for p in v.parents:
                seen = self.users.setdefault(id(p), [])
                if not seen or seen[-1] is not v:
                    seen.append(v)


@dataclass(frozen=True)
class _Style:
    """The options of ``draw_graph`` that hold for every frame of one picture."""

    rankdir: str = "LR"
    show_grad: bool = True
    show_local_grads: bool = False
    color_by_grad: bool = False
    collapse_neurons: bool = False
    clusters: bool = True
    top: float = 1.0  # |grad| drawn at full colour
    fixed_scale: bool = False  # top was given (a flipbook's scale for its whole pass), not read from the grads
    highlight_pen: str = "3"


def _style(graph: GraphOf, rankdir: str = "LR", show_grad: bool = True, show_local_grads: bool = False,
           color_by_grad: bool = False, collapse_neurons: bool = False, clusters: bool = True,
           max_nodes: int = 1500, grad_scale: float | None = None, highlight_pen: str = "3") -> _Style:
    """Check ``draw_graph``'s options against the graph and fix the colour scale."""
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be LR, RL, TB or BT, got {rankdir!r}")
    order = graph.order
    shown = len({_neuron_of(v) or id(v) for v in order}) if collapse_neurons else len(order)
    if shown > max_nodes:
        raise ValueError(
            f"draw_graph: {shown} values is more than max_nodes={max_nodes}; draw a smaller graph "
            "(one sample, one neuron), pass collapse_neurons=True, or raise max_nodes"
        )
    if grad_scale is None:
        top = max((abs(v.grad) for v in order), default=0.0) or 1.0
    elif isinstance(grad_scale, (int, float)) and not isinstance(grad_scale, bool) and 0 < grad_scale < float("inf"):
        top = float(grad_scale)
    else:
        raise ValueError(f"draw_graph: grad_scale must be a positive finite number, got {grad_scale!r}")
    return _Style(rankdir, show_grad, show_local_grads, color_by_grad, collapse_neurons, clusters, top,
                  grad_scale is not None, highlight_pen)


def draw_graph(
    root: Value,
    rankdir: str = "LR",
    show_grad: bool = True,
    show_local_grads: bool = False,
    highlight: Collection[Value] = (),
    color_by_grad: bool = False,
    collapse_neurons: bool = False,
    clusters: bool = True,
    max_nodes: int = 1500,
    grad_scale: float | None = None,
) -> graphviz.Digraph:
    """The computation graph of ``root``: a record per Value (name | data | grad), a small node per op.

    Names come from ``node_names(root)``; node ids from the topological order (v0, v1,
    ...), never from ``id()``, so the same graph always gives the same DOT text.
    ``show_local_grads`` writes d child / d parent on each edge (an op of more than two
    inputs gets one labelled port per input, so each number sits where its edge ends);
    ``highlight`` outlines the given Values; ``color_by_grad`` fills blue for positive
    and red for negative gradients, stronger for larger ones, with a legend that names
    the strongest positive and the strongest negative gradient; full strength is
    ``grad_scale`` (default: the largest |grad| in the graph; a flipbook passes the
    largest of its whole backward pass, so a colour means one thing in every frame, and
    the legend, which then gives the scale, stays put). Values built by ``nn`` are
    grouped in a cluster per neuron inside one per layer, or drawn as one node per
    neuron with ``collapse_neurons``. Every grad shows its number: 0 before backward()
    and wherever no gradient reached. A value used by three nodes or more (``x`` in
    ``x+x+...+x``) is drawn in full by its first use and as a small dashed copy by each
    other use, which keeps the layout fast and readable; a layer's input, which every
    neuron of the layer uses, keeps its edges. Values and ops that ``grad(...,
    create_graph=True)`` made (the backward pass of a gradient's graph) are filled
    purple, with a legend.
    """
    graph = GraphOf(root)
    style = _style(graph, rankdir, show_grad, show_local_grads, color_by_grad, collapse_neurons, clusters,
                   max_nodes, grad_scale)
    return draw(graph, style, highlight)


def draw(graph: GraphOf, style: _Style, highlight: Collection[Value] = ()) -> graphviz.Digraph:
    """``draw_graph`` of a graph already walked: each frame of a flipbook is one call."""
    g = _digraph("computation_graph", graph_attr={"rankdir": style.rankdir, "nodesep": "0.25", "ranksep": "0.4",
                                                      "fontname": "Helvetica", "fontsize": "11"},
                 node_attr={"fontname": "Helvetica", "fontsize": "11"},
                 edge_attr={"color": "#4a5568", "fontname": "Helvetica"})
    ids = _NodeIds(graph, style)
    ported = _add_values(g, graph, style, ids, {id(v) for v in highlight})
    _add_edges(g, graph, style, ids, ported)
    _add_clusters(g, ids.cluster_members)
    _add_legend(g, graph, style)
    return g


class _NodeIds:
    """DOT ids of the values (``v3``, or ``n_layers_0_neurons_1`` for a collapsed neuron) and cluster membership."""

    def __init__(self, graph: GraphOf, style: _Style) -> None:
        self.graph, self.style = graph, style
        grouped = style.clusters or style.collapse_neurons
        self.groups = {id(v): _neuron_of(v) for v in graph.order} if grouped else {}
        self.cluster_members: dict[str, dict[str, list[str]]] = {}

    def of(self, v: Value) -> str:
        grp = self.groups.get(id(v))
        if self.style.collapse_neurons and grp:
            return "n_" + grp[1].replace(".", "_")
        return f"v{self.graph.index[id(v)]}"

    def place(self, node_id: str, v: Value) -> None:
        grp = self.groups.get(id(v))
        if self.style.clusters and grp and not self.style.collapse_neurons:
            self.cluster_members.setdefault(grp[0], {}).setdefault(grp[1], []).append(node_id)


def _add_values(g: graphviz.Digraph, graph: GraphOf, style: _Style, ids: _NodeIds, highlighted: set[int]) -> set[str]:
    """A record per value and a node per op (collapsed neurons: one box each); returns the ops drawn with ports."""
    names = graph.names
    ported: set[str] = set()
    collapsed: dict[str, Value] = {}
    for v in graph.order:
        vid = ids.of(v)
        if vid.startswith("n_"):
            collapsed[vid] = v  # a collapsed neuron is drawn once, showing its activation (the last of its nodes)
            continue
        # inside its neuron's cluster, which names the layer and neuron, a value goes by its short name
        in_cluster = style.clusters and not style.collapse_neurons and ids.groups.get(id(v))
        attrs = _value_attrs(v, _short(names[v]) if in_cluster else names[v], style.show_grad, style.color_by_grad,
                             style.top)
        backward = made_by_backward_pass(v)
        if backward and attrs["fillcolor"] == "white":
            attrs["fillcolor"] = _BACKWARD_FILL
        if id(v) in highlighted:
            attrs.update(color="#dd6b20", penwidth=style.highlight_pen)
        g.node(vid, **attrs)
        ids.place(vid, v)
        if v.op:
            oid = f"{vid}_op"
            fill = _BACKWARD_FILL if backward else "#edf2f7"
            if style.show_local_grads and len(v.parents) > 2:
                ported.add(oid)
                rows = [f"<p{k}> {_record_text(_short(names[p]))}: {_fmt(loc)}"
                        for k, (p, loc) in enumerate(zip(v.parents, v.local_grads))]
                g.node(oid, label=" | ".join([_record_text(v.op)] + rows), shape="record", style="rounded,filled",
                       fillcolor=fill, fontsize="11")
            else:
                g.node(oid, label=v.op, shape="circle" if len(v.op) <= 2 else "ellipse", width="0.3",
                       height="0.3", style="filled", fillcolor=fill, fontsize="11")
            ids.place(oid, v)
            g.edge(oid, vid)
    for vid, v in collapsed.items():
        grp = ids.groups[id(v)]
        assert grp is not None
        grad = f"\\ngrad {_fmt(v.grad)}" if style.show_grad else ""
        g.node(vid, label=f"{grp[1]}\\n{_fmt(v.data)}{grad}", shape="box", style="rounded,filled", fillcolor="#fefcbf")
    return ported


def _copied(graph: GraphOf, parent: Value, user: Value) -> bool:
    """Whether the edge parent -> user starts at a dashed copy of parent rather than at parent itself.

    A value used by at least ``_MANY_USES`` nodes is drawn in full by its first use and
    copied for the others; a layer's input is not (every neuron of the layer uses it, and a
    copy per neuron would hide that the layer shares it).
    """
    used_by = graph.users[id(parent)]
    if len(used_by) < _MANY_USES or used_by[0] is user:
        return False
    return not all(_neuron_of(u) for u in used_by)


def _add_edges(g: graphviz.Digraph, graph: GraphOf, style: _Style, ids: _NodeIds, ported: set[str]) -> None:
    """An edge from each parent (or its dashed copy) to the op that uses it, with its local derivative."""
    names = graph.names
    seen_edges: set[tuple[str, str]] = set()
    copies: dict[tuple[str, str], str] = {}
    for v in graph.order:
        vid = ids.of(v)
        target = vid if vid.startswith("n_") else f"{vid}_op"
        for k, (parent, local) in enumerate(zip(v.parents, v.local_grads)):
            pid = ids.of(parent)
            if pid == vid:
                continue  # inside one collapsed neuron
            if vid.startswith("n_") and (pid, target) in seen_edges:
                continue
            seen_edges.add((pid, target))
            source = pid
            if not pid.startswith("n_") and _copied(graph, parent, v):
                source = copies.get((pid, target), "")
                if not source:
                    source = copies[(pid, target)] = f"{pid}_copy{len(copies)}"
                    g.node(source, label=names[parent], shape="box", style="rounded,dashed", color="#a0aec0",
                           fontcolor="#4a5568", fontsize="11", height="0.3",
                           tooltip=f"{names[parent]} again (drawn in full once)")
            head = f"{target}:p{k}" if target in ported else target
            label = ({"label": _fmt(local), "fontsize": "11", "fontcolor": "#2f855a"}
                     if style.show_local_grads and target not in ported else {})
            g.edge(source, head, **label)


def _add_clusters(g: graphviz.Digraph, members: Mapping[str, Mapping[str, list[str]]]) -> None:
    """A cluster per layer holding a dashed cluster per neuron."""
    for layer, neurons in sorted(members.items()):
        with g.subgraph(name=f"cluster_{layer.replace('.', '_')}") as lc:
            lc.attr(label=layer, style="rounded", color="#a0aec0", fontname="Helvetica")
            for neuron, nodes in sorted(neurons.items()):
                with lc.subgraph(name=f"cluster_{neuron.replace('.', '_')}") as nc:
                    nc.attr(label=neuron.split(".", 2)[-1], style="rounded,dashed", color="#cbd5e0")
                    for m in nodes:
                        nc.node(m)


def _grad_rows(graph: GraphOf, style: _Style) -> list[tuple[str, str]]:
    """The legend rows of color_by_grad: the strongest positive and negative gradient each by name and value.

    With a fixed scale (a flipbook's) the rows give the scale instead, which holds in
    every frame.
    """
    top = style.top
    if style.fixed_scale:
        return [("#" + _grad_fill(top, top), f"grad > 0 (full colour at {_fmt(top)} and above)"),
                ("#" + _grad_fill(top / 4, top), "small grad > 0"),
                ("#" + _grad_fill(-top, top), f"grad < 0 (full colour at {_fmt(-top)} and below)"),
                ("white", "grad 0")]
    rows = []
    for sign, label in ((1.0, "grad > 0"), (-1.0, "grad < 0")):
        found = [v for v in graph.order if v.grad * sign > 0]
        if found:
            v = max(found, key=lambda u: u.grad * sign)  # the first drawn wins a tie
            text = f"{label}, strongest: {graph.names[v]} = {_fmt(v.grad)}"
            rows.append(("#" + _grad_fill(v.grad, top), text))
        else:
            rows.append(("#" + _grad_fill(sign * top, top), f"{label}: none"))
    return [rows[0], ("#" + _grad_fill(top / 4, top), "small grad > 0"), rows[1], ("white", "grad 0")]


def _add_legend(g: graphviz.Digraph, graph: GraphOf, style: _Style) -> None:
    legend: list[tuple[str, str]] = _grad_rows(graph, style) if style.color_by_grad else []
    if any(made_by_backward_pass(v) for v in graph.order):
        legend.append((_BACKWARD_FILL, "made by the backward pass (grad with create_graph=True)"))
    if legend:
        title = "fill: sign and size of the gradient" if style.color_by_grad else "fill"
        g.attr(label=_legend(legend, title), labelloc="b", labeljust="l")


def _legend(rows: Sequence[tuple[str, str]], title: str) -> str:
    """An HTML-like Graphviz label: a title and a colour swatch per row."""
    cells = "".join(
        f'<tr><td bgcolor="{colour}" width="18" height="10" border="1"></td>'
        f'<td align="left">{html.escape(text)}</td></tr>'
        for colour, text in rows)
    return (f'<<table border="0" cellspacing="2" cellpadding="2"><tr><td colspan="2" align="left">'
            f'<b>{html.escape(title)}</b></td></tr>{cells}</table>>')


def _grad_fill(grad: float, top: float) -> str:
    strength = min(1.0, abs(grad) / top)
    base = (43, 108, 176) if grad > 0 else (197, 48, 48)
    mix = [round(255 - (255 - c) * (0.15 + 0.6 * strength)) for c in base]
    return "{:02x}{:02x}{:02x}".format(*mix)


def _value_attrs(v: Value, name: str, show_grad: bool, color_by_grad: bool, top: float) -> dict:
    fields = [_record_text(name), f"data {_fmt(v.data)}"]
    attrs = {"shape": "record", "style": "rounded,filled", "fillcolor": "white"}
    if show_grad:
        fields.append(f"grad {_fmt(v.grad)}")
    if color_by_grad and v.grad:
        attrs["fillcolor"] = "#" + _grad_fill(v.grad, top)
    attrs["label"] = "{ " + " | ".join(fields) + " }"
    return attrs


def draw_network(
    mlp: MLP, x: Sequence[float] | None = None, rankdir: str = "LR", health: HealthReport | None = None
) -> graphviz.Digraph:
    """The classic layered diagram: a node per input and neuron, edges by weight, and a legend.

    Edge colour is the weight's sign (blue +, red -), thickness its size; each neuron
    shows its bias, and its activation when an input ``x`` is given. Every edge leaves
    its node on the side facing the next layer and Graphviz routes it around the other
    nodes, so no edge crosses a node it does not connect, or the text in it; top to bottom
    (``TB``, ``BT``) each layer's name is written at the end of its row for the same reason.
    ``health``, a report of ``nn.diagnose(mlp, X)``, marks what it found: dead neurons
    grey, saturated ones orange (each also says so in words), and a layer whose gradient
    vanishes inside a red dashed frame, with a legend.
    """
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_network: rankdir must be LR, RL, TB or BT, got {rankdir!r}")
    states, vanishing = _health_marks(mlp, health)
    across = rankdir in ("TB", "BT")  # each layer is a row
    acts: list[list[float]] = []
    if x is not None:
        with no_grad():
            mlp(x)
        acts = [[n.a.data for n in layer.neurons] for layer in mlp.layers]  # type: ignore[union-attr]
    out_side, in_side = {"LR": ("e", "w"), "RL": ("w", "e"), "TB": ("s", "n"), "BT": ("n", "s")}[rankdir]
    g = _digraph(
        "network",
        graph_attr={"rankdir": rankdir, "splines": "spline", "nodesep": "0.12", "ranksep": "2.2",
                    "fontname": "Helvetica", "fontsize": "10"},
        node_attr={"fontname": "Helvetica", "fontsize": "10"},
        edge_attr={"arrowsize": "0.4", "tailport": out_side, "headport": in_side},
    )
    with g.subgraph(name="cluster_inputs") as c:
        c.attr(label="inputs", color="white")
        for i in range(mlp.nin):
            text = f"x[{i}]" + (f"\\n{_fmt(x[i])}" if x is not None else "")
            c.node(f"in{i}", text, shape="circle", style="filled", fillcolor="#e2e8f0", width="0.85", fixedsize="true")
    top = max((abs(w.data) for layer in mlp.layers for n in layer.neurons for w in n.w), default=1.0) or 1.0
    previous = [f"in{i}" for i in range(mlp.nin)]
    for li, layer in enumerate(mlp.layers):
        ids = []
        name = f"layers.{li} ({layer.activation})" + (f"\\n{vanishing[li]}" if li in vanishing else "")
        with g.subgraph(name=f"cluster_layer{li}") as c:
            # top to bottom, a cluster's label sits where the edges come in and they cross it; a plain
            # node at the end of the layer's row is a thing Graphviz routes edges around
            frame = ({"color": _NEG, "fontcolor": _NEG, "style": "dashed,rounded", "penwidth": "2"}
                     if li in vanishing else {"color": "white"})
            c.attr(label="" if across else name, **frame)
            for ni, n in enumerate(layer.neurons):
                nid = f"l{li}n{ni}"
                text = f"b {_fmt(n.b.data)}" + (f"\\na {_fmt(acts[li][ni])}" if acts else "")
                state = states.get((li, ni))
                fill = _HEALTH_FILLS[state] if state else "#fefcbf"
                c.node(nid, text + (f"\\n{state}" if state else ""), shape="circle", style="filled", fillcolor=fill,
                       width="0.85", fixedsize="true")
                ids.append(nid)
            if across:
                c.node(f"l{li}name", name, shape="plaintext", **({"fontcolor": _NEG} if li in vanishing else {}))
        for ni, n in enumerate(layer.neurons):
            for src, w in zip(previous, n.w):
                g.edge(src, ids[ni], color=_POS if w.data >= 0 else _NEG, penwidth=_weight_pen(w.data, top))
        previous = ids
    rows = "".join(
        f'<tr><td width="40" height="14" fixedsize="true">'
        f'<table border="0" cellspacing="0" cellpadding="0"><tr><td width="36" '
        f'height="{max(1, round(float(pen)))}" fixedsize="true" bgcolor="{colour}"></td></tr></table></td>'
        f'<td align="left" width="110" height="14" fixedsize="true">{text}</td></tr>'
        for colour, pen, text in [(_POS, _weight_pen(top, top), f"weight +{_fmt(top)}"),
                                  (_POS, _weight_pen(top / 4, top), f"weight +{_fmt(top / 4)}"),
                                  (_NEG, _weight_pen(-top / 4, top), f"weight -{_fmt(top / 4)}"),
                                  (_NEG, _weight_pen(-top, top), f"weight -{_fmt(top)}")])
    note = "b: bias" + (", a: activation for the input x" if acts else "")
    g.attr(label=(f'<<table border="0" cellspacing="2" cellpadding="0"><tr><td align="left"><b>edges: colour is '
                  f'the sign of the weight, thickness its size</b></td></tr><tr><td align="left"><table border="0" '
                  f'cellspacing="3" cellpadding="0">{rows}</table></td></tr><tr><td align="left">{note}</td></tr>'
                  f'{_health_legend(health) if health is not None else ""}</table>>'), labelloc="b", labeljust="l")
    return g


# a neuron's fill for what nn.diagnose found in it; a healthy neuron keeps draw_network's pale yellow
_HEALTH_FILLS = {"dead": "#a0aec0", "saturated": "#f6ad55"}


def _health_marks(mlp: MLP, health: HealthReport | None) -> tuple[dict[tuple[int, int], str], dict[int, str]]:
    """(layer, neuron) -> "dead" or "saturated", and layer -> its note, from a report of this model."""
    if health is None:
        return {}, {}
    from .health import HealthReport

    if not isinstance(health, HealthReport):
        raise TypeError(f"draw_network: health must be a report of nn.diagnose, got {type(health).__name__}")
    sizes = [len(layer.neurons) for layer in mlp.layers]
    states: dict[tuple[int, int], str] = {}
    for state, names in (("dead", health.dead), ("saturated", health.saturated)):
        for name in names:
            m = re.fullmatch(r"layers\.(\d+)\.neurons\.(\d+)", name)
            if not m or int(m.group(1)) >= len(sizes) or int(m.group(2)) >= sizes[int(m.group(1))]:
                raise ValueError(f"draw_network: the health report names {name}, which this model does not have; "
                                 "pass the report of nn.diagnose(model, X) for this model")
            states[(int(m.group(1)), int(m.group(2)))] = state
    if len(health.grad_norms) != len(sizes):
        raise ValueError(f"draw_network: the health report is of {len(health.grad_norms)} layers, this model has "
                         f"{len(sizes)}; pass the report of nn.diagnose(model, X) for this model")
    top = list(health.grad_norms.values())[-1]
    vanishing = {}
    for name in health.vanishing:
        norm = health.grad_norms[name]
        vanishing[int(name.split(".")[1])] = (f"gradient 1/{top / norm:,.0f} of the last layer's" if norm
                                              else "no gradient at all")
    return states, vanishing


def _health_legend(health: HealthReport) -> str:
    """Rows of draw_network's legend for a health report: one swatch per kind of finding."""
    from .health import SATURATED_SHARE, SATURATION, VANISHING_RATIO

    swatch = '<td width="36" height="12" fixedsize="true" bgcolor="{}" border="1"></td>'
    rows = [(swatch.format("#fefcbf"), "neuron: healthy"),
            (swatch.format(_HEALTH_FILLS["dead"]), f"dead: a relu whose output is 0 on all {health.rows} rows"),
            (swatch.format(_HEALTH_FILLS["saturated"]),
             f"saturated: |tanh| &gt; {SATURATION}, or sigmoid &gt; {SATURATION} or &lt; {1 - SATURATION:.2f}, "
             f"on {SATURATED_SHARE:.0%} of rows or more"),
            (f'<td width="36" height="12" fixedsize="true" border="2" color="{_NEG}"></td>',
             f"red frame: a layer whose gradient is {VANISHING_RATIO:g} times the last layer's or smaller "
             f"(gradients of {html.escape(health.gradient_of)})")]
    cells = "".join(f'<tr>{cell}<td align="left">{text}</td></tr>' for cell, text in rows)
    return (f'<tr><td align="left"><b>neurons and layers: health on {health.rows} rows</b></td></tr>'
            f'<tr><td align="left"><table border="0" cellspacing="3" cellpadding="0">{cells}</table></td></tr>')


def _weight_pen(w: float, top: float) -> str:
    return f"{0.3 + 3.0 * abs(w) / top:.2f}"


def pipe(graph: graphviz.Digraph, format: str = "svg", timeout: float = LAYOUT_TIMEOUT) -> bytes:
    """Lay out and render ``graph`` with Graphviz's ``dot``, giving up after ``timeout`` seconds.

    Raises RuntimeError saying how to install Graphviz when ``dot`` is missing, and
    LayoutError (a RuntimeError) naming the bound and what to do when it takes longer.
    """
    if not timeout > 0:
        raise ValueError(f"pipe: timeout must be a positive number of seconds, got {timeout!r}")
    engine = getattr(graph, "engine", "dot") or "dot"
    try:
        done = subprocess.run([engine, f"-T{format}"], input=graph.source.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except FileNotFoundError:
        raise RuntimeError(INSTALL_HINT) from None
    except subprocess.TimeoutExpired:
        raise LayoutError(
            f"Graphviz took longer than the layout time limit of {timeout:g} s and was stopped; draw a smaller "
            "graph (one sample, one neuron, collapse_neurons=True), or pass a larger timeout=") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise LayoutError(f"Graphviz failed on this graph (exit {done.returncode}): "
                          f"{message[-1] if message else 'no message'}")
    return done.stdout


PAGE_WIDTH_PT = 720.0  # 10 inches: what a notebook page or an exported notebook shows without clipping


def page_wide_svg(svg: str | bytes, max_width_pt: float = PAGE_WIDTH_PT) -> str:
    """Graphviz's SVG with its size capped at ``max_width_pt`` points wide, proportions kept.

    Where an SVG is shown as an image (an exported notebook, nbviewer), CSS cannot shrink
    it, so a graph wider than the page is cut off on the right; capping the size the SVG
    declares (its viewBox, and so the drawing, is unchanged) fits it in every viewer.
    """
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    size = re.search(r'<svg width="([\d.]+)pt"\s+height="([\d.]+)pt"', text)
    if size is None:
        raise ValueError("page_wide_svg: no <svg> element with a width and height in points")
    width, height = float(size.group(1)), float(size.group(2))
    if width <= max_width_pt:
        return text
    scaled = f'<svg width="{max_width_pt:g}pt" height="{height * max_width_pt / width:.2f}pt"'
    return text[:size.start()] + scaled + text[size.end():]


def scalable_svg(svg: str | bytes) -> str:
    """Graphviz's SVG made to shrink to the width of its container (a notebook, a web page).

    The natural size stays the largest size; the viewBox keeps the proportions.
    """
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    start = text.find("<svg")
    end = text.find(">", start)
    if start < 0 or end < 0:
        raise ValueError("scalable_svg: no <svg> element in the text")
    tag = re.sub(r'\s(?:height|style)="[^"]*"', "", text[start:end])
    if "viewBox=" not in tag:
        raise ValueError("scalable_svg: the <svg> element has no viewBox, so it cannot scale")
    tag += ' style="max-width:100%;height:auto"'
    return text[:start] + tag + text[end:]


def render(graph: graphviz.Digraph, path: str | os.PathLike[str], timeout: float = LAYOUT_TIMEOUT) -> str:
    """Write ``graph`` to ``path``: SVG, PNG or PDF by extension, or DOT text for ``.dot``/``.gv``.

    Without the Graphviz program, rendering raises RuntimeError saying how to install it;
    a layout that takes longer than ``timeout`` seconds is stopped with a LayoutError.
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext in ("dot", "gv"):
        with open(path, "w", encoding="utf-8") as f:
            f.write(graph.source)
        return path
    if ext not in ("svg", "png", "pdf"):
        raise ValueError(f"render: cannot tell the format of {path!r}; use .svg, .png, .pdf or .dot")
    data = pipe(graph, ext, timeout)
    with open(path, "wb") as f:
        f.write(data)
    return path


def draw_neuron(neuron: Neuron, **draw_options: Any) -> graphviz.Digraph:
    """The close-up of one neuron after a backward pass: ``draw_graph(neuron.a)`` and what its inputs' grads mean.

    An input's grad is d loss / d input over the whole network: every neuron that uses
    the input adds to it, so it is larger than what this picture's edges give. The note
    under the picture gives each input's part through this neuron (z's grad times its
    weight) beside its total, and says the rest comes from the other neurons that use it.
    ``draw_options`` go to ``draw_graph`` (``show_local_grads`` is on by default).
    """
    from .nn import Neuron

    if not isinstance(neuron, Neuron):
        raise TypeError(f"draw_neuron: expected an nn.Neuron, got {type(neuron).__name__}")
    if neuron.z is None or neuron.a is None:
        raise ValueError("draw_neuron: the neuron has not run yet; call the model (and backward) first")
    draw_options.setdefault("show_local_grads", True)
    g = draw_graph(neuron.a, **draw_options)
    names = node_names(neuron.a)
    z = neuron.z
    rows = []
    for w, x in zip(neuron.w, _inputs_of(neuron)):
        part = z.grad * w.data if z.grad else 0.0
        xname = html.escape(names[x])
        rows.append(f"{xname}: grad {_fmt(x.grad)} over the whole network, of which {_fmt(part)} through this "
                    f"neuron (dL/dz {_fmt(z.grad)} × {html.escape(_short(names[w]))} {_fmt(w.data)})")
        rows.append(f"    and {_fmt(x.grad - part)} through the other neurons that use {xname} (not drawn)")
    title = "grads are d loss / d value for the whole network (one backward pass of the loss)"
    cells = "".join(f'<tr><td align="left">{r}</td></tr>' for r in rows)
    g.attr(label=f'<<table border="0" cellspacing="1" cellpadding="1"><tr><td align="left"><b>{html.escape(title)}'
                 f"</b></td></tr>{cells}</table>>", labelloc="b", labeljust="l", fontsize="12")
    return g


def _inputs_of(neuron: Neuron) -> list[Value]:
    """The Values the neuron's last forward pass took as its inputs, in order."""
    z = neuron.z
    assert z is not None
    if z._b is _MANY and z.op == "dot":
        return list(z._c)  # type: ignore[attr-defined]
    found = {}
    for v in topological_order(z):
        m = _UNFUSED_PRODUCT.search(v.label) if v.op == "*" else None
        if m and v.label.startswith(neuron.prefix):
            found[int(m.group(1))] = v.parents[1]
    return [found[i] for i in sorted(found)]
