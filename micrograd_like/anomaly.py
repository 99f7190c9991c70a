"""Anomaly mode: stop at the first op or gradient contribution that makes a NaN or an infinity, and show where."""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from . import engine
from .engine import _MANY, Value, _new, _sends, _start_backward, topological_order
from .ops import _val

if TYPE_CHECKING:  # graphviz is imported lazily, by viz, only when a picture is asked for
    import graphviz

__all__ = ["AnomalyError", "detect_anomaly"]

T = TypeVar("T")
_BAD_FILL, _BAD_PEN = "#fed7d7", "#c53030"
_SHOWN_INPUTS = 6  # an error lists at most this many of an op's inputs (a dot node may have hundreds)


class detect_anomaly:
    """Context manager (or decorator) under which the first NaN or infinity raises ``AnomalyError``.

    Inside it, in this thread:

    * forward: an op whose result is NaN, or infinite while all its inputs are finite
      (an overflow, 1/tiny), raises. An infinity that came in (``Value(math.inf)``, a mask
      of -inf) passes through the ops that keep it infinite, as a learner who wrote it
      expects; the op where it turns into NaN (inf - inf, 0 * inf) raises.
    * ``backward()`` and ``grad()`` (with ``create_graph`` too): a contribution
      upstream grad * local derivative that is NaN, or infinite from a finite upstream
      grad (an infinite slope: sqrt at 0), raises; so does a grad whose sum over its uses
      overflows. So a NaN is always caught where it first appears, and an infinity where it
      is made, not where it was put in.

    The error names the op, its inputs, the edge and the path of node names from the
    output; in a notebook it draws that path with the bad node marked. Off by default, and
    then it costs nothing: ops read the one flag that no_grad sets (see engine.py).
    Per thread, like ``no_grad``.
    """

    def __enter__(self) -> detect_anomaly:
        engine._enter_slow("anomaly")
        return self

    def __exit__(self, *exc_info: object) -> None:
        engine._exit_slow("anomaly")

    def __call__(self, func: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            with detect_anomaly():
                return func(*args, **kwargs)

        return wrapper


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` in this thread."""
    return engine._anomaly_here()


def _finite(x: float) -> bool:
    return not x - x  # 0.0 for a finite x, NaN for inf or NaN


def _num(x: float) -> str:
    return f"{x:.6g}"


class AnomalyError(ArithmeticError):
    """The first NaN or infinity made inside ``detect_anomaly()``: where, from what, and by which path.

    ``when`` is "forward" (an op's result) or the call that found it ("backward()",
    "grad()", "grad(..., create_graph=True)"). ``op`` and ``node`` are the op and the Value
    it made (a refused forward result is linked to its inputs only to be named and drawn:
    its local derivatives are NaN, never computed); ``inputs`` its inputs. For a gradient: ``parent`` is the input the
    contribution went to, ``local`` the local derivative d node / d parent, ``upstream``
    d output / d node and ``contribution`` their product. ``path`` holds node names
    (``viz.node_names``): from the output to ``node`` and ``parent`` for a gradient; for
    the forward pass, which has no output yet, from ``node`` back through the inputs that
    were already NaN or infinite to where they came from. ``picture()`` draws it.
    """

    def __init__(self, message: str, *, when: str, node: Value, names: Any, path: Sequence[Value],
                 parent: Value | None = None, local: float | None = None, upstream: float | None = None,
                 contribution: float | None = None, grads: dict[Value, float] | None = None) -> None:
        super().__init__(message)
        self.when = when
        self.op = str(node.op)
        self.node = node
        self.inputs = node.parents
        self.parent = parent
        self.local = local
        self.upstream = upstream
        self.contribution = contribution
        self.path = tuple(names[v] for v in path)
        self._names = names
        self._path_nodes = tuple(path)
        self._grads = grads or {}  # the grads as the walk had them when it stopped

    def picture(self) -> graphviz.Digraph:
        """The path drawn with ``viz.draw_graph``, the bad node filled red (its op's inputs shown).

        A gradient's picture shows each node's grad as the walk had it, and the local
        derivatives on the edges.
        """
        from . import viz

        backward = self.when != "forward"
        root, copies = _mirror(self._path_nodes, self.node, self._names, self._grads)
        bad = copies[id(self.node)]
        marked = [bad] + ([copies[id(self.parent)]] if self.parent is not None else [])
        # top to bottom: a path from an output is long and thin, and drawn across a page its text would shrink
        g = viz.draw_graph(root, rankdir="TB", show_grad=backward, show_local_grads=backward, highlight=marked)
        order = topological_order(root)
        g.node(f"v{order.index(bad)}", fillcolor=_BAD_FILL, color=_BAD_PEN, penwidth="3")
        for i, c in enumerate(order):
            if c._op and c._a is None:  # a copy whose inputs are cut off: dashed, as draw_graph's other copies
                g.node(f"v{i}", style="rounded,dashed,filled", tooltip="its inputs are not drawn")
        if not any(line.lstrip().startswith("label=") for line in g.body):
            g.attr(label=f"detect_anomaly: {self.args[0].splitlines()[0]}", labelloc="t", fontcolor=_BAD_PEN)
        return g

    def _repr_html_(self) -> str:
        text = f"<pre>AnomalyError: {html.escape(str(self))}</pre>"
        try:
            from . import viz

            svg = viz.scalable_svg(viz.page_wide_svg(viz.pipe(self.picture(), "svg")))
        except Exception as e:  # no graphviz: the text still says everything
            return text + f"<p><i>(no picture: {html.escape(str(e))})</i></p>"
        return text + svg


def _mirror(path: Sequence[Value], full: Value, names: Any,
            grads: dict[Value, float]) -> tuple[Value, dict[int, Value]]:
    """Copies of the Values on ``path`` (output first), each linked to the next, and of their inputs.

    ``full`` keeps all its inputs; another node on the path keeps its other inputs too when it
    has at most ``_SHOWN_INPUTS`` (a neuron's dot node of hundreds keeps only the one on the
    path). A copy carries the real node's name as its label, its data, its op and its grad in
    ``grads`` (0 if none), so ``draw_graph`` draws just that part of the graph. The inputs of
    a copy off the path are cut off: it keeps its op, drawn without inputs.
    """
    keep: dict[int, set[int]] = {}
    for v, nxt in zip(path, list(path[1:]) + [None]):
        parents = v.parents
        keep[id(v)] = {id(p) for p in parents} if v is full or len(parents) <= _SHOWN_INPUTS else {id(nxt)}
    copies: dict[int, Value] = {}

    def copy(v: Value) -> Value:
        c = copies.get(id(v))
        if c is None:
            c = copies[id(v)] = _new(Value)
            c.data, c.grad, c.label, c._op = v.data, grads.get(v, 0.0), names[v], v._op
            c._a = c._b = None
        return c

    for v in reversed(path):
        edges = [(copy(p), local) for p, local in zip(v.parents, v.local_grads) if id(p) in keep[id(v)]]
        c = copy(v)
        if len(edges) > 2:
            c._a, c._da = tuple(e[0] for e in edges), tuple(e[1] for e in edges)
            c._b, c._c, c._db = _MANY, (), ()
        elif edges:
            c._a, c._da = edges[0]
            c._b, c._db = edges[1] if len(edges) == 2 else (None, None)
    return copies[id(path[0])], copies


def _describe_inputs(node: Value, names: Any) -> str:
    parents = node.parents
    shown = sorted(range(len(parents)), key=lambda i: _finite(parents[i].data))[:_SHOWN_INPUTS]
    text = ", ".join(f"{names[parents[i]]} = {_num(parents[i].data)}" for i in sorted(shown))
    more = len(parents) - len(shown)
    return text + (f" and {more} more, all finite" if more else "")


def _arrow(names: Any, path: Sequence[Value]) -> str:
    return " <- ".join(names[v] for v in path)


# ---- the forward pass -------------------------------------------------------------------------


def check_forward(out: Value, inputs: tuple[Value, ...]) -> None:
    """Raise AnomalyError if ``out`` (not yet linked to ``inputs``) is NaN, or infinite from finite inputs."""
    d = out.data
    if d == d and not all(_finite(x.data) for x in inputs):
        return  # an infinity that came in, passed on (a NaN, or an infinity made from finite inputs, stops here)
    _link(out, inputs)
    from .viz import node_names

    names = node_names(out)
    path = [out]
    while True:
        came_in = next((p for p in path[-1].parents if not _finite(p.data)), None)
        if came_in is None:
            break
        path.append(came_in)
    made = "NaN" if d != d else "an infinity"
    lines = [f"{out.op} made {made}: {names[out]} = {_num(d)} in the forward pass",
             f"  inputs: {_describe_inputs(out, names)}"]
    if len(path) > 1:
        lines.append(f"  the input {names[path[1]]} was already {_num(path[1].data)}; "
                     f"it came from: {_arrow(names, path[1:])}")
    else:
        lines.append("  every input is finite: the result overflowed, or the op is undefined there")
    raise AnomalyError("\n".join(lines), when="forward", node=out, names=names, path=path)


def _link(out: Value, inputs: tuple[Value, ...]) -> None:
    """Give a refused result its inputs as parents (it is never returned), so it can be named and drawn."""
    if len(inputs) > 2:
        out._a, out._da, out._b, out._c, out._db = inputs, (math.nan,) * len(inputs), _MANY, (), ()
    elif inputs:
        out._a, out._da = inputs[0], math.nan
        out._b, out._db = (inputs[1], math.nan) if len(inputs) == 2 else (None, None)


# ---- backward() and grad() ---------------------------------------------------------------------


class EdgeCheck:
    """The grads of one backward walk as floats, and the check of each contribution to them.

    ``backward()`` and ``grad()`` inside ``detect_anomaly()`` walk through here
    (``walk_floats``); ``grad(..., create_graph=True)`` builds its Values as ever and calls
    the check with each pair (upstream grad, local derivative), Values or floats.
    """

    def __init__(self, order: list[Value], when: str, start: dict[Value, float] | None = None,
                 old: Callable[[Value], float] = lambda v: 0.0) -> None:
        self.order = order
        self.root = order[-1]
        self.when = when
        self.grads = {self.root: 1.0} if start is None else start
        self.old = old  # a node's grad before this walk adds to it: 0, or a leaf's .grad for backward()

    def walk_floats(self) -> dict[Value, float]:
        """The walk of ``backward()``, in the same order and so to the same bits, checking each contribution."""
        grads = self.grads
        for v in reversed(self.order):
            g = grads.get(v, 0.0)
            if not g or v._a is None:
                continue
            for parent, local in zip(v.parents, v.local_grads):
                if _sends(g, local):
                    self(v, parent, local, g)
        return grads

    def __call__(self, v: Value, parent: Value, local: Any, g: Any) -> None:
        """Add g * local to parent's grad, or raise AnomalyError if that makes a NaN or an infinity here."""
        g, local = _val(g), _val(local)
        c = g * local
        old = self.grads[parent] if parent in self.grads else self.old(parent)
        new = old + c
        self.grads[parent] = new
        if c != c or (not _finite(c) and _finite(g)):
            problem = "NaN" if c != c else "an infinite gradient"
        elif new != new or (not _finite(new) and _finite(old) and _finite(c)):
            problem = f"{'NaN' if new != new else 'an infinity'} in the sum of the gradient"
        else:
            return
        self._raise(v, parent, local, g, c, old, problem)

    def _raise(self, v: Value, parent: Value, local: float, g: float, c: float, old: float, problem: str) -> None:
        from .viz import node_names

        names = node_names(self.root)
        path = _path(self.root, v) + [parent]
        out, n, p = names[self.root], names[v], names[parent]
        lines = [f"{self.when} sent {problem} from {n} ({v.op}) to {p}",
                 f"  op: {v.op}, inputs {_describe_inputs(v, names)}, result {n} = {_num(v.data)}",
                 f"  edge {n} -> {p}: local derivative d{n}/d{p} = {_num(local)}, "
                 f"upstream grad d{out}/d{n} = {_num(g)}, contribution {_num(c)}"]
        if "sum" in problem:
            lines.append(f"  {p}'s grad was {_num(old)} before it: the sum overflowed")
        lines.append(f"  path from the output: {_arrow(names, path)}")
        raise AnomalyError("\n".join(lines), when=self.when, node=v, names=names, path=path, parent=parent,
                           local=local, upstream=g, contribution=c, grads=dict(self.grads))


def _path(root: Value, target: Value) -> list[Value]:
    """A shortest path of parents from ``root`` to ``target``, both included."""
    came_from: dict[int, Value | None] = {id(root): None}
    frontier, by_id = [root], {id(root): root}
    while frontier and id(target) not in came_from:
        nxt = []
        for v in frontier:
            for p in v.parents:
                if id(p) not in came_from:
                    came_from[id(p)], by_id[id(p)] = v, p
                    nxt.append(p)
        frontier = nxt
    path, v_ = [target], came_from.get(id(target))
    while v_ is not None:
        path.append(v_)
        v_ = came_from[id(v_)]
    return path[::-1]


def checked_backward(root: Value, gradient: float) -> None:
    """``root.backward(gradient)`` with each contribution checked: the same grads, bit for bit.

    On an anomaly no grad is changed (the graph's intermediate ones are reset, as ever): an
    optimizer step after it moves nothing by half a gradient.
    """
    order = _start_backward(root, gradient)
    if not order:
        return
    check = EdgeCheck(order, "backward()", {root: root.grad}, lambda v: v.grad)
    for v, g in check.walk_floats().items():
        v.grad = g
