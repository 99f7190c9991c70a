"""Hypothesis strategies for Values, valid inputs of every op, and random expression graphs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from ..engine import Value
from ..ops import OPS, Op
from . import call_op

__all__ = ["floats", "values", "op_inputs", "expressions", "Expression", "KINK_MARGIN"]

# finite differences are meaningless across a kink; stay this far from one
KINK_MARGIN = 1e-2


def floats(min_value: float = -5.0, max_value: float = 5.0) -> st.SearchStrategy[float]:
    """Finite floats in [min_value, max_value]."""
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False)


def values(min_value: float = -5.0, max_value: float = 5.0) -> st.SearchStrategy[Value]:
    """Leaf Values with finite data in [min_value, max_value]."""
    return floats(min_value, max_value).map(Value)


def _away_from_zero(lo: float, hi: float) -> st.SearchStrategy[float]:
    return floats(lo, hi).filter(lambda x: abs(x) > KINK_MARGIN)


def _nonzero(magnitude_lo: float, magnitude_hi: float) -> st.SearchStrategy[float]:
    return st.one_of(floats(magnitude_lo, magnitude_hi), floats(-magnitude_hi, -magnitude_lo))


@st.composite
def _power_inputs(draw: Any) -> tuple[tuple[float, ...], tuple[float, ...]]:
    n = draw(st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0]))
    # a negative base only has a real power for whole exponents
    base = draw(_nonzero(0.2, 4.0) if n.is_integer() else floats(0.2, 4.0))
    return (base,), (n,)


def _n_ary_inputs(op: Op) -> st.SearchStrategy[tuple[tuple[float, ...], tuple[float, ...]]]:
    if op.name == "dot":
        # sometimes a bias (an odd length), then weights, then inputs
        sizes = st.integers(1, 5).flatmap(lambda k: st.sampled_from([2 * k, 2 * k + 1]))
    else:
        sizes = st.integers(1, 6)
    return sizes.flatmap(lambda n: st.tuples(st.tuples(*[floats(-20.0, 20.0)] * n), st.just(())))


# how to draw valid inputs for each domain named in ops.OPS; a new domain needs an entry here
_DOMAINS: dict[str, Callable[[Op], st.SearchStrategy[tuple[tuple[float, ...], tuple[float, ...]]]]] = {
    "real": lambda op: st.tuples(st.tuples(*[floats(-20.0, 20.0)] * op.arity), st.just(())),
    "positive": lambda op: st.tuples(st.tuples(floats(0.05, 20.0)), st.just(())),
    "below 709": lambda op: st.tuples(st.tuples(floats(-20.0, 20.0)), st.just(())),
    "nonzero divisor": lambda op: st.tuples(st.tuples(floats(-5.0, 5.0), _nonzero(0.2, 5.0)), st.just(())),
    "positive base": lambda op: st.tuples(st.tuples(floats(0.2, 5.0), floats(-3.0, 3.0)), st.just(())),
    "power": lambda op: _power_inputs(),
    "kink at 0": lambda op: st.tuples(
        st.tuples(_away_from_zero(-5.0, 5.0), *[floats(-1.0, 1.0)] * (op.arity - 1)),
        st.tuples(*[floats(0.0, 1.0)] * len(op.params)),
    ),
}


def op_inputs(name: str) -> st.SearchStrategy[tuple[tuple[float, ...], tuple[float, ...]]]:
    """(inputs, params) where the op called ``name`` is defined and smooth.

    Inputs come from the op's ``domain`` in ``ops.OPS``: log and sqrt get positives,
    relu, abs, step and the leaky relus stay away from their kink at 0, and so on.
    """
    if name not in OPS:
        raise KeyError(f"op_inputs: no op named {name!r}; the table has {sorted(OPS)}")
    op = OPS[name]
    if op.arity == -1:
        return _n_ary_inputs(op)
    if op.domain not in _DOMAINS:
        raise ValueError(
            f"op_inputs: op {name!r} has domain {op.domain!r}, which has no input strategy; "
            "add one to _DOMAINS in micrograd_like/testing/strategies.py"
        )
    return _DOMAINS[op.domain](op)


# ---- random expressions ---------------------------------------------------------------------


@dataclass(eq=False)
class _Node:
    """One node of an expression tree; the same _Node object may appear twice (a shared subexpression)."""

    op: str  # an ops.OPS name, or "input" / "const"
    children: tuple[_Node, ...] = ()
    params: tuple[float, ...] = ()
    index: int = 0  # which input, for op == "input"
    value: float = 0.0  # for op == "const"


@dataclass
class Expression:
    """A random expression over the op table: call it with Values to build the graph.

    ``inputs`` are valid input values drawn with it; ``gradcheck(expr, *expr.inputs)``
    is the intended use. Shared subexpressions evaluate to one shared Value, so the
    graph is a real DAG (a node with several children).
    """

    root: _Node
    n_inputs: int
    inputs: tuple[float, ...] = ()
    _kink_args: list[float] = field(default_factory=list, repr=False)

    def __call__(self, *xs: Value | float) -> Value:
        if len(xs) != self.n_inputs:
            raise ValueError(f"expression takes {self.n_inputs} inputs, got {len(xs)}")
        leaves = [x if isinstance(x, Value) else Value(x) for x in xs]
        self._kink_args = []
        memo: dict[int, Value] = {}
        return self._eval(self.root, leaves, memo)

    def _eval(self, node: _Node, leaves: list[Value], memo: dict[int, Value]) -> Value:
        if id(node) in memo:
            return memo[id(node)]
        if node.op == "input":
            out = leaves[node.index]
        elif node.op == "const":
            out = Value(node.value)
        else:
            args = [self._eval(c, leaves, memo) for c in node.children]
            if OPS[node.op].domain == "kink at 0":
                self._kink_args.append(args[0].data)
            out = call_op(node.op, args, node.params)
        memo[id(node)] = out
        return out

    def is_smooth_at(self, *xs: float, margin: float = KINK_MARGIN) -> bool:
        """True when no relu/abs/step/leaky relu in the graph sees an input within ``margin`` of 0."""
        self(*xs)
        return all(abs(a) > margin for a in self._kink_args)

    def __repr__(self) -> str:
        return f"Expression({_show(self.root)}, inputs={self.inputs})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # hypothesis (and IPython) print a failing example with this, not __repr__; without it a
        # dataclass is shown field by field, a nest of _Node(...) no learner can read
        printer.text(repr(self))


def _show(node: _Node) -> str:
    if node.op == "input":
        return f"x{node.index}"
    if node.op == "const":
        return repr(node.value)
    args = [_show(c) for c in node.children]
    if node.op in ("+", "-", "*", "/"):
        return f"({args[0]} {node.op} {args[1]})"
    if node.op == "neg":
        return f"-{args[0]}"
    if node.op == "**":
        return f"({args[0]} ** {node.params[0]!r})"
    if node.op == "pow":
        return f"({args[0]} ** {args[1]})"
    return f"{node.op}({', '.join(args + [repr(p) for p in node.params])})"


def _positive(child: _Node) -> _Node:
    """child*child + 0.5: positive and smooth whatever child is, for log, sqrt, divisors and bases."""
    return _Node("+", (_Node("*", (child, child)), _Node("const", value=0.5)))


def _bounded(child: _Node) -> _Node:
    """3*tanh(child): keeps exp's argument small so nested exps cannot overflow."""
    return _Node("*", (_Node("tanh", (child,)), _Node("const", value=3.0)))


@st.composite
def _expression_node(draw: Any, pool: list[_Node], depth: int, names: list[str]) -> _Node:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(pool))  # reuse: inputs and earlier subexpressions
    name = draw(st.sampled_from(names))
    op = OPS[name]
    arity = draw(st.integers(1, 3)) if op.arity == -1 else op.arity
    if name == "dot":
        arity = 2 * arity + draw(st.integers(0, 1))
    children = [draw(_expression_node(pool, depth - 1, names)) for _ in range(arity)]
    params: tuple[float, ...] = ()
    if op.domain in ("positive", "nonzero divisor", "positive base", "power"):
        # the restricted argument is the last one for '/', the first otherwise
        i = 1 if name == "/" else 0
        children[i] = _positive(children[i])
    elif op.domain == "below 709":
        children[0] = _bounded(children[0])
    if name == "pow":
        children[1] = _bounded(children[1])  # a**b with an unbounded b overflows or loses every digit
    if name == "**":
        params = (draw(st.sampled_from([-1.0, 0.5, 2.0, 3.0])),)
    elif op.params:
        params = tuple(draw(floats(0.0, 1.0)) for _ in op.params)
    node = _Node(name, tuple(children), params)
    pool.append(node)
    return node


@st.composite
def expressions(
    draw: Any,
    max_inputs: int = 3,
    max_depth: int = 3,
    ops: list[str] | None = None,
) -> Expression:
    """Random expressions over the op table (all of it, or ``ops``), with valid inputs drawn.

    Arguments are kept inside each op's domain (log and sqrt see child*child + 0.5, exp
    and the exponent of a Value power see 3*tanh(child)), and inputs that put a relu-like op within ``KINK_MARGIN`` of
    its kink are rejected, so ``gradcheck(expr, *expr.inputs)`` must pass.
    """
    names = sorted(OPS) if ops is None else list(ops)
    unknown = [n for n in names if n not in OPS]
    if unknown:
        raise KeyError(f"expressions: unknown op names {unknown}; the table has {sorted(OPS)}")
    n_inputs = draw(st.integers(1, max_inputs))
    pool = [_Node("input", index=i) for i in range(n_inputs)]
    root = draw(_expression_node(pool, max_depth, names))
    inputs = draw(st.tuples(*[floats(-2.0, 2.0)] * n_inputs))
    expr = Expression(root, n_inputs, inputs)
    assume(expr.is_smooth_at(*inputs))
    return expr
