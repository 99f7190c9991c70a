"""Backprop one step at a time, and the chain rule for one value written out with its numbers."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from .engine import Value, _sends, _start_backward, topological_order
from .flipbook import flipbook  # noqa: F401  (re-exported: the kernel-free stepper lives in its own module)
from .viz import node_names

__all__ = ["EdgeStep", "Step", "backward_steps", "explain", "step_svgs", "stepper"]


@dataclass(frozen=True)
class EdgeStep:
    """What one step adds to one parent: contribution = node grad * local derivative."""

    parent: Value
    local: float
    contribution: float
    parent_grad: float  # the parent's grad right after this contribution


@dataclass(frozen=True)
class Step:
    """One node of the backward pass: its (final) grad and what it sends to each parent."""

    index: int
    node: Value
    grad: float
    edges: tuple[EdgeStep, ...]
    # viz.node_names of the root: the names the pictures of this pass use
    names: Mapping[Value, str] = field(default_factory=dict, compare=False, repr=False)

    def name(self, v: Value) -> str:
        """``v``'s name in the pictures of this backward pass (its label when not known)."""
        return self.names.get(v, v.label or f"({v.op or 'leaf'})")

    def __str__(self) -> str:
        name = self.name(self.node)
        lines = [f"step {self.index}: {name} = {self.node.data:.4g} ({self.node.op}), grad {self.grad:.4g}"]
        for e in self.edges:
            pname = self.name(e.parent)
            lines.append(f"  -> {pname}: {self.grad:.4g} * {e.local:.4g} = {e.contribution:.4g}, "
                         f"its grad is now {e.parent_grad:.4g}")
        return "\n".join(lines)


def backward_steps(root: Value, gradient: float = 1.0) -> Iterator[Step]:
    """Run ``root.backward()`` lazily: one Step per non-leaf node, in backward order.

    The same reset, seed, order and rule for each edge as ``Value.backward`` (nothing
    passes from a zero grad, nor from an infinite or NaN grad along an edge whose local
    derivative is 0), so consuming every step leaves exactly the gradients ``backward()``
    gives (the same floats, bit for bit, inf and NaN included). Each Step carries
    ``viz.node_names(root)``, so its text names nodes as the pictures do.
    """
    names = node_names(root)
    for i, v in enumerate(reversed(_start_backward(root, gradient))):
        g = v.grad
        edges = []
        for parent, local in zip(v.parents, v.local_grads):
            sent = 0.0
            if _sends(g, local):
                sent = g * local
                parent.grad += sent
            edges.append(EdgeStep(parent, local, sent, parent.grad))
        yield Step(i, v, g, tuple(edges), names)


def _paths(root: Value, target: Value, limit: int) -> list[list[tuple[Value, float]]]:
    """Up to ``limit`` paths root -> ... -> target, as (child, local derivative) hops."""
    reaches = {id(target)}
    for v in topological_order(root):  # parents first, so one pass finds every node above target
        if any(id(p) in reaches for p in v.parents):
            reaches.add(id(v))
    found: list[list[tuple[Value, float]]] = []
    stack: list[tuple[Value, list[tuple[Value, float]]]] = [(root, [])]
    while stack and len(found) < limit:
        node, path = stack.pop()
        if node is target:
            found.append(path)
            continue
        for parent, local in reversed(list(zip(node.parents, node.local_grads))):
            if id(parent) in reaches:
                stack.append((parent, path + [(node, local)]))
    return found


def explain(value: Value, root: Value | None = None, max_paths: int = 4) -> str:
    """The chain rule for d root / d value, as text with the numbers.

    For example ``dL/dw = dL/do * do/dn * dn/dw = 1 * 0.5 * 2 = 1``. Where several paths
    lead from root to value, each path is a product and the gradient is their sum.
    Without ``root``, the value explains its own local derivatives. ``max_paths`` (a
    positive int) caps the paths written out.
    """
    if isinstance(max_paths, bool) or not isinstance(max_paths, int) or max_paths < 1:
        # 0 or less would show no path, and the text would then claim that value has no effect
        raise ValueError(f"explain: max_paths must be a positive int, got {max_paths!r}")
    if root is None:
        own = node_names(value)
        name = own[value]
        if not value.parents:
            return f"{name} is a leaf: it has no parents to pass a gradient to"
        parts = [f"d{name}/d{own[p]} = {loc:.4g}" for p, loc in value.edges]
        return f"{name} = {value.op}(...): " + ", ".join(parts)
    # one naming for text and pictures: viz.node_names, the names draw_graph(root) shows
    names = node_names(root)
    r = names[root]
    t = names.get(value)
    if t is None:  # not in root's graph: its label, or x, primed until no node of the graph has it
        taken = set(names.values())
        t = value.label or "x"
        while t in taken:
            t += "'"
    paths = _paths(root, value, max_paths + 1)
    if value is root:
        return f"d{r}/d{r} = 1"
    if not paths:
        return f"d{r}/d{t} = 0 ({t} does not affect {r})"

    texts, products = [], []
    for path in paths[:max_paths]:
        hops = [names[v] for v, _ in path] + [t]
        symbols = " * ".join(f"d{hops[k]}/d{hops[k + 1]}" for k in range(len(path)))
        product = 1.0
        for _, loc in path:
            product *= loc
        grad_r = f"d{r}/d{r}"
        texts.append((f"{grad_r} * {symbols}", " * ".join(["1"] + [f"{loc:.4g}" for _, loc in path]), product))
        products.append(product)
    if len(paths) == 1:
        sym, nums, prod = texts[0]
        return f"d{r}/d{t} = {sym} = {nums} = {prod:.4g}"
    more = " + ... (more paths not shown)" if len(paths) > max_paths else ""
    sym = " + ".join(f"({s})" for s, _, _ in texts)
    nums = " + ".join(f"({n})" for _, n, _ in texts)
    return f"d{r}/d{t} = {sym}{more} = {nums}{more} = {sum(products):.4g}" + (
        f" (over the {len(texts)} path{'s' if len(texts) > 1 else ''} shown; {t}.grad holds the full sum)"
        if more else "")


def step_svgs(root: Value, **draw_options: object) -> Iterator[str]:
    """One SVG document (text) per backward step, the current node highlighted: the static stepper.

    The pictures of ``flipbook(root)`` without the seed frame: one Graphviz layout for all
    of them, so nodes stay put from picture to picture while the gradients fill in. Each
    SVG shrinks to the width of the page (``viz.scalable_svg``). Runs ``root``'s backward
    pass; needs the graphviz package and program; options go to ``viz.draw_graph``.
    """
    from .flipbook import _build
    from .viz import scalable_svg

    _, svgs, _ = _build(root, None, draw_options)
    for svg in svgs[1:]:
        yield scalable_svg(svg)


def stepper(root: Value, **draw_options: object):  # type: ignore[no-untyped-def]
    """A notebook widget (ipywidgets) with previous/next buttons that walks through backprop.

    It shows the flipbook's frames (``flipbook(root)``): the seed, then each step with the
    current node highlighted and the chain rule with its numbers as the caption. Without
    ipywidgets, or to share the result, use ``flipbook(root)``: the same frames as plain
    HTML that needs no kernel.
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        raise ImportError("stepper needs ipywidgets (pip install ipywidgets); "
                          "flipbook(root) gives the same frames without it") from None
    from .flipbook import _build

    frames, _, _ = _build(root, None, draw_options)
    picture, text = widgets.HTML(), widgets.HTML()
    prev_b, next_b = widgets.Button(description="previous"), widgets.Button(description="next")
    position = {"i": 0}

    def show(i: int) -> None:
        position["i"] = i
        frame = frames[i]
        picture.value = frame.svg
        text.value = f"<pre>{html.escape(frame.caption)}</pre>"
        prev_b.disabled, next_b.disabled = i == 0, i == len(frames) - 1

    prev_b.on_click(lambda _: show(max(0, position["i"] - 1)))
    next_b.on_click(lambda _: show(min(len(frames) - 1, position["i"] + 1)))
    show(0)
    return widgets.VBox([widgets.HBox([prev_b, next_b]), text, picture])
