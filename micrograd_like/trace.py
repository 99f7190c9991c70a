"""Backprop one step at a time, and the chain rule for one value written out with its numbers.

The pictures of those steps (``flipbook``, ``stepper``, ``step_svgs``) live in
``micrograd_like.flipbook``, which builds on this module.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from .engine import Value, _sends, _start_backward, topological_order
from .viz import _fmt, node_names

__all__ = ["EdgeStep", "Step", "backward_steps", "explain"]


@dataclass(frozen=True)
class EdgeStep:
    """What one step adds to one parent: contribution = node grad * local derivative."""

    parent: Value
    local: float
    contribution: float
    parent_grad: float  # the parent's grad right after this contribution


@dataclass(frozen=True)
class Step:
    """One node of the backward pass: its (final) grad and what it sends to each parent.

    Steps are counted as the flipbook counts its frames: step 0 is the seed (d root /
    d root = 1, no Step of its own), step 1 the root passing its gradient to its parents,
    ..., step ``total`` the last node.
    """

    index: int
    node: Value
    grad: float
    edges: tuple[EdgeStep, ...]
    # viz.node_names of the root: the names the pictures of this pass use
    names: Mapping[Value, str] = field(default_factory=dict, compare=False, repr=False)
    total: int = 0  # the number of steps of the pass; 0 when not known

    def name(self, v: Value) -> str:
        """``v``'s name in the pictures of this backward pass (its label when not known)."""
        return self.names.get(v, v.label or f"({v.op or 'leaf'})")

    def __str__(self) -> str:
        name = self.name(self.node)
        of = f" of {self.total}" if self.total else ""
        lines = [f"step {self.index}{of}: {name} = {_fmt(self.node.data)} ({self.node.op}), grad {_fmt(self.grad)}"]
        for e in self.edges:
            pname = self.name(e.parent)
            lines.append(f"  -> {pname}: {_fmt(self.grad)} * {_fmt(e.local)} = {_fmt(e.contribution)}, "
                         f"its grad is now {_fmt(e.parent_grad)}")
        return "\n".join(lines)


def backward_steps(root: Value, gradient: float = 1.0) -> Iterator[Step]:
    """Run ``root.backward()`` lazily: one Step per non-leaf node, in backward order, numbered from 1.

    Step 0 is the seed (``root.grad`` set to ``gradient``), as in the flipbook; step 1 is
    the root passing it on. The same reset, seed, order and rule for each edge as
    ``Value.backward`` (nothing passes from a zero grad, nor from an infinite or NaN grad
    along an edge whose local derivative is 0), so consuming every step leaves exactly the
    gradients ``backward()`` gives (the same floats, bit for bit, inf and NaN included).
    Each Step carries ``viz.node_names(root)``, so its text names nodes as the pictures do.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps: root must be a Value, got {type(root).__name__}")
    return _steps(root, node_names(root), gradient)


def _steps(root: Value, names: Mapping[Value, str], gradient: float = 1.0) -> Iterator[Step]:
    """``backward_steps`` with the names already made (a flipbook makes them once for everything)."""
    order = _start_backward(root, gradient)
    total = len(order)
    for i, v in enumerate(reversed(order), start=1):
        g = v.grad
        edges = []
        for parent, local in zip(v.parents, v.local_grads):
            sent = 0.0
            if _sends(g, local):
                sent = g * local
                parent.grad += sent
            edges.append(EdgeStep(parent, local, sent, parent.grad))
        yield Step(i, v, g, tuple(edges), names, total)


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
        parts = [f"d{name}/d{own[p]} = {_fmt(loc)}" for p, loc in value.edges]
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
        texts.append((f"{grad_r} * {symbols}", " * ".join(["1"] + [_fmt(loc) for _, loc in path]), product))
        products.append(product)
    if len(paths) == 1:
        sym, nums, prod = texts[0]
        return f"d{r}/d{t} = {sym} = {nums} = {_fmt(prod)}"
    more = " + ... (more paths not shown)" if len(paths) > max_paths else ""
    sym = " + ".join(f"({s})" for s, _, _ in texts)
    nums = " + ".join(f"({n})" for _, n, _ in texts)
    return f"d{r}/d{t} = {sym}{more} = {nums}{more} = {_fmt(sum(products))}" + (
        f" (over the {len(texts)} path{'s' if len(texts) > 1 else ''} shown; {t}.grad holds the full sum)"
        if more else "")


_MOVED = ("flipbook", "stepper", "step_svgs")


def __getattr__(name: str) -> object:
    # flipbook(), stepper() and step_svgs() moved to micrograd_like.flipbook; looked up on first use,
    # so `from micrograd_like.trace import flipbook` keeps working without an import cycle
    if name in _MOVED:
        from . import flipbook

        return getattr(flipbook, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
