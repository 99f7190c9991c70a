"""Pictures: computation graphs and network diagrams as graphviz.Digraph objects."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Collection, Sequence

from .engine import Value, no_grad, topological_order

if TYPE_CHECKING:  # graphviz is imported lazily so that `import micrograd_like` stays cheap
    import graphviz

    from .nn import MLP

__all__ = ["draw_graph", "draw_network", "render", "INSTALL_HINT"]

INSTALL_HINT = (
    "the Graphviz program 'dot' is not installed; the Python package alone cannot render. "
    "Install it with `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) "
    "or `conda install graphviz`; DOT text (graph.source, or a .dot path) works without it"
)

_NEURON = re.compile(r"^(layers\.(\d+))\.neurons\.(\d+)\.")
_POS, _NEG, _UNKNOWN = "#2b6cb0", "#c53030", "#a0aec0"


def _graphviz():  # type: ignore[no-untyped-def]
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "pictures need the graphviz package: pip install graphviz (or pip install -e '.[viz]')"
        ) from None
    return graphviz


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _name(v: Value, i: int) -> str:
    return v.label or f"v{i}"


def _neuron_of(v: Value) -> tuple[str, str] | None:
    m = _NEURON.match(v.label)
    return (m.group(1), m.group(0).rstrip(".")) if m else None


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
) -> graphviz.Digraph:
    """The computation graph of ``root``: a record per Value (label | data | grad), a small node per op.

    Node ids come from the topological order (v0, v1, ...), never from ``id()``, so the
    same graph always gives the same DOT text. ``show_local_grads`` writes d child /
    d parent on each edge; ``highlight`` outlines the given Values; ``color_by_grad``
    fills blue for positive and red for negative gradients, stronger for larger ones.
    Values built by ``nn`` are grouped in a cluster per neuron inside one per layer, or
    drawn as one node per neuron with ``collapse_neurons``. When ``root.grad`` is 0,
    backward() has not run (it always seeds the root), so every grad shows as "?".
    """
    graphviz = _graphviz()
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be LR, RL, TB or BT, got {rankdir!r}")
    order = topological_order(root)
    groups = {id(v): _neuron_of(v) for v in order} if (clusters or collapse_neurons) else {}
    shown = len({groups[id(v)] or id(v) for v in order}) if collapse_neurons else len(order)
    if shown > max_nodes:
        raise ValueError(
            f"draw_graph: {shown} values is more than max_nodes={max_nodes}; draw a smaller graph "
            "(one sample, one neuron), pass collapse_neurons=True, or raise max_nodes"
        )
    index = {id(v): i for i, v in enumerate(order)}
    grads_known = root.grad != 0.0
    highlighted = {id(v) for v in highlight}
    top = max((abs(v.grad) for v in order), default=0.0) or 1.0

    g = graphviz.Digraph("computation_graph", graph_attr={"rankdir": rankdir, "nodesep": "0.25", "ranksep": "0.4"},
                         node_attr={"fontname": "Helvetica", "fontsize": "11"}, edge_attr={"color": "#4a5568"})
    cluster_members: dict[str, dict[str, list[str]]] = {}

    def place(node_id: str, v: Value) -> None:
        grp = groups.get(id(v))
        if clusters and grp and not collapse_neurons:
            cluster_members.setdefault(grp[0], {}).setdefault(grp[1], []).append(node_id)

    def value_id(v: Value) -> str:
        grp = groups.get(id(v))
        if collapse_neurons and grp:
            return "n_" + grp[1].replace(".", "_")
        return f"v{index[id(v)]}"

    collapsed: dict[str, Value] = {}
    for v in order:
        vid = value_id(v)
        if vid.startswith("n_"):
            # a collapsed neuron is drawn once, showing its activation (the last of its nodes)
            collapsed[vid] = v
            continue
        attrs = _value_attrs(v, index[id(v)], show_grad, grads_known, color_by_grad, top)
        if id(v) in highlighted:
            attrs.update(color="#dd6b20", penwidth="3")
        g.node(vid, **attrs)
        place(vid, v)
        if v.op:
            oid = f"{vid}_op"
            g.node(oid, label=v.op, shape="circle" if len(v.op) <= 2 else "ellipse", width="0.3", height="0.3",
                   style="filled", fillcolor="#edf2f7", fontsize="10")
            place(oid, v)
            g.edge(oid, vid)
    for vid, v in collapsed.items():
        grp = groups[id(v)]
        assert grp is not None
        grad = f"\\ngrad {_fmt(v.grad)}" if show_grad and grads_known else ""
        g.node(vid, label=f"{grp[1]}\\n{_fmt(v.data)}{grad}", shape="box", style="rounded,filled", fillcolor="#fefcbf")

    seen_edges: set[tuple[str, str]] = set()
    for v in order:
        vid = value_id(v)
        target = vid if vid.startswith("n_") else f"{vid}_op"
        for parent, local in zip(v.parents, v.local_grads):
            pid = value_id(parent)
            if pid == vid:
                continue  # inside one collapsed neuron
            if vid.startswith("n_") and (pid, target) in seen_edges:
                continue
            seen_edges.add((pid, target))
            label = {"label": _fmt(local), "fontsize": "9", "fontcolor": "#2f855a"} if show_local_grads else {}
            g.edge(pid, target, **label)

    for layer, neurons in sorted(cluster_members.items()):
        with g.subgraph(name=f"cluster_{layer.replace('.', '_')}") as lc:
            lc.attr(label=layer, style="rounded", color="#a0aec0", fontname="Helvetica")
            for neuron, members in sorted(neurons.items()):
                with lc.subgraph(name=f"cluster_{neuron.replace('.', '_')}") as nc:
                    nc.attr(label=neuron.split(".", 2)[-1], style="rounded,dashed", color="#cbd5e0")
                    for m in members:
                        nc.node(m)
    return g


def _value_attrs(v: Value, i: int, show_grad: bool, grads_known: bool, color_by_grad: bool, top: float) -> dict:
    fields = [_name(v, i).replace("|", "\\|").replace("{", "\\{").replace("}", "\\}"), f"data {_fmt(v.data)}"]
    attrs = {"shape": "record", "style": "rounded,filled", "fillcolor": "white"}
    if show_grad:
        fields.append(f"grad {_fmt(v.grad)}" if grads_known else "grad ?")
    if show_grad and not grads_known:
        attrs.update(style="rounded,dashed", color=_UNKNOWN, fontcolor="#718096")
    elif color_by_grad and v.grad:
        strength = min(1.0, abs(v.grad) / top)
        base = (43, 108, 176) if v.grad > 0 else (197, 48, 48)
        mix = [round(255 - (255 - c) * (0.15 + 0.6 * strength)) for c in base]
        attrs["fillcolor"] = "#{:02x}{:02x}{:02x}".format(*mix)
    attrs["label"] = "{ " + " | ".join(fields) + " }"
    return attrs


def draw_network(mlp: MLP, x: Sequence[float] | None = None, rankdir: str = "LR") -> graphviz.Digraph:
    """The classic layered diagram: a node per input and neuron, edges by weight.

    Edge colour is the weight's sign (blue +, red -), thickness its size; each neuron
    shows its bias, and its activation when an input ``x`` is given.
    """
    graphviz = _graphviz()
    acts: list[list[float]] = []
    if x is not None:
        with no_grad():
            mlp(x)
        acts = [[n.a.data for n in layer.neurons] for layer in mlp.layers]  # type: ignore[union-attr]
    g = graphviz.Digraph(
        "network",
        graph_attr={"rankdir": rankdir, "splines": "line", "nodesep": "0.15", "ranksep": "1.2",
                    "fontname": "Helvetica"},
        node_attr={"fontname": "Helvetica", "fontsize": "10"},
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
        with g.subgraph(name=f"cluster_layer{li}") as c:
            c.attr(label=f"layers.{li} ({layer.activation})", color="white")
            for ni, n in enumerate(layer.neurons):
                nid = f"l{li}n{ni}"
                text = f"b {_fmt(n.b.data)}" + (f"\\na {_fmt(acts[li][ni])}" if acts else "")
                c.node(nid, text, shape="circle", style="filled", fillcolor="#fefcbf", width="0.85", fixedsize="true")
                ids.append(nid)
        for ni, n in enumerate(layer.neurons):
            for src, w in zip(previous, n.w):
                g.edge(src, ids[ni], color=_POS if w.data >= 0 else _NEG,
                       penwidth=f"{0.3 + 3.0 * abs(w.data) / top:.2f}", arrowsize="0.4")
        previous = ids
    return g


def render(graph: graphviz.Digraph, path: str | os.PathLike[str]) -> str:
    """Write ``graph`` to ``path``: SVG, PNG or PDF by extension, or DOT text for ``.dot``/``.gv``.

    Without the Graphviz program, rendering raises RuntimeError saying how to install it.
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext in ("dot", "gv"):
        with open(path, "w", encoding="utf-8") as f:
            f.write(graph.source)
        return path
    if ext not in ("svg", "png", "pdf"):
        raise ValueError(f"render: cannot tell the format of {path!r}; use .svg, .png, .pdf or .dot")
    graphviz = _graphviz()
    try:
        data = graph.pipe(format=ext)
    except graphviz.ExecutableNotFound:
        raise RuntimeError(INSTALL_HINT) from None
    with open(path, "wb") as f:
        f.write(data)
    return path
