"""Gradient checking: backward() against central differences, second derivatives against differences of the first."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from .. import engine
from ..engine import Value
from ..ops import OPS, Op, dot_parts

__all__ = ["numerical_grad", "gradcheck", "gradgradcheck", "call_op"]


def call_op(op: Op | str, args: Sequence[Value | float], params: Sequence[float] = ()) -> Value:
    """Run the op named in the table through its public entry point (``Op.method``).

    n-ary ops take ``args`` as one flat list; for ``dot`` that list is an optional bias
    (an odd length), then the weights, then the inputs, as in ``ops.OPS["dot"]``.
    This is how tests reach every op of the table without knowing it by name.
    """
    if isinstance(op, str):
        if op not in OPS:
            raise KeyError(f"call_op: no op named {op!r}; the table has {sorted(OPS)}")
        op = OPS[op]
    if op.arity == -1:
        fn = getattr(engine, op.method)
        if op.name == "dot":
            bias, ws, xs = dot_parts(args)
            return fn(ws, xs, bias)
        return fn(args)
    if len(args) != op.arity:
        raise ValueError(f"call_op: {op.name!r} takes {op.arity} inputs, got {len(args)}")
    first = args[0] if isinstance(args[0], Value) else Value(args[0])
    return getattr(first, op.method)(*args[1:], *params)


def _check_settings(fn: str, **settings: float) -> None:
    """Refuse an eps that is not a positive finite number, or a tolerance that is negative or not finite.

    An eps of 0 divided by zero deep inside; an infinite tolerance would pass any gradient.
    """
    for name, value in settings.items():
        if not engine.is_real(value):
            raise TypeError(f"{fn}: {name} must be a number, got {type(value).__name__}")
        x = float(value)
        if not math.isfinite(x) or x < 0.0 or (name == "eps" and x == 0.0):
            low = "positive" if name == "eps" else "non-negative"
            raise ValueError(f"{fn}: {name} must be a {low} finite number, got {value!r}")


def _close(analytic: float, numeric: float, atol: float, rtol: float) -> bool:
    """|analytic - numeric| <= atol + rtol * |numeric|, both finite: the test of both checks.

    Finite on both sides: a difference that overflowed allows inf, and would pass any analytic value.
    """
    return math.isfinite(analytic) and math.isfinite(numeric) and abs(analytic - numeric) <= atol + rtol * abs(numeric)


def _evaluate(f: Callable[..., Value], xs: Sequence[float]) -> Value:
    out = f(*[Value(x) for x in xs])
    if not isinstance(out, Value):
        raise TypeError(f"numerical_grad: f must return a Value, got {type(out).__name__}")
    return out


def numerical_grad(f: Callable[..., Value], *inputs: float, eps: float = 1e-6) -> list[float]:
    """d f / d input_i by central differences: (f(x + eps) - f(x - eps)) / (2 eps).

    ``f`` takes one Value per input and returns a Value; ``inputs`` are plain numbers.
    The error of a central difference shrinks like eps**2, against eps for a one-sided one.
    """
    _check_settings("numerical_grad", eps=eps)
    xs = [float(x) for x in inputs]
    grads = []
    for i in range(len(xs)):
        up = list(xs)
        down = list(xs)
        up[i] += eps
        down[i] -= eps
        grads.append((_evaluate(f, up).data - _evaluate(f, down).data) / (2 * eps))
    return grads


def gradcheck(
    f: Callable[..., Value],
    *inputs: float,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> bool:
    """Check backward() against central differences for every input of ``f``.

    Passes when |analytic - numeric| <= atol + rtol * |numeric| for each input and
    returns True; otherwise raises AssertionError naming the input and both values.
    A value that is not finite on either side (an overflow, a nan) fails.
    For backward(), ``f`` gets leaves labelled x0, x1, ..., the names the message uses.
    """
    _check_settings("gradcheck", eps=eps, atol=atol, rtol=rtol)
    leaves = [Value(float(x), label=f"x{i}") for i, x in enumerate(inputs)]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    out.backward()
    numeric = numerical_grad(f, *inputs, eps=eps)
    for i, (leaf, num) in enumerate(zip(leaves, numeric)):
        analytic = leaf.grad
        if not _close(analytic, num, atol, rtol):
            raise AssertionError(
                f"gradcheck: gradient of input {i} (x{i} = {leaf.data!r}) is wrong: "
                f"analytic {analytic!r} vs numeric {num!r} (difference {analytic - num:.3g}, "
                f"allowed {atol + rtol * abs(num):.3g})"
            )
    return True


def _first_derivatives(f: Callable[..., Value], xs: Sequence[float]) -> tuple[list[Value], tuple[Value, ...]]:
    leaves = [Value(float(x), label=f"x{i}") for i, x in enumerate(xs)]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradgradcheck: f must return a Value, got {type(out).__name__}")
    return leaves, engine.grad(out, leaves, create_graph=True)


def gradgradcheck(
    f: Callable[..., Value],
    *inputs: float,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> bool:
    """Check second derivatives: d/dx_j (d f / d x_i) from ``grad(..., create_graph=True)`` twice.

    Each one is compared with a central difference of the first derivative,
    (df/dx_i at x_j + eps - df/dx_i at x_j - eps) / (2 eps), where that derivative comes
    from ``grad`` without ``create_graph``. Passes when |analytic - numeric| <= atol +
    rtol * |numeric| for every pair (i, j) and returns True; otherwise raises
    AssertionError naming the pair, the inputs and both values; a value that is not
    finite on either side (an overflow, a nan) fails. For the analytic
    derivatives ``f`` gets leaves labelled x0, x1, ..., the names the message uses.
    """
    _check_settings("gradgradcheck", eps=eps, atol=atol, rtol=rtol)
    xs = [float(x) for x in inputs]
    leaves, firsts = _first_derivatives(f, xs)
    analytic = [engine.grad(d, leaves) for d in firsts]  # analytic[i][j] = d/dx_j (df/dx_i)

    def first_at(point: list[float]) -> tuple[Value, ...]:
        vs = [Value(x) for x in point]
        out = f(*vs)
        return engine.grad(out, vs)

    for j in range(len(xs)):
        up, down = list(xs), list(xs)
        up[j] += eps
        down[j] -= eps
        above, below = first_at(up), first_at(down)
        for i in range(len(xs)):
            num = (above[i].data - below[i].data) / (2 * eps)
            ana = analytic[i][j].data
            if not _close(ana, num, atol, rtol):
                raise AssertionError(
                    f"gradgradcheck: d/dx{j} of d f/dx{i} at {_point(xs)} is wrong: analytic {ana!r} vs "
                    f"numeric {num!r} (difference {ana - num:.3g}, allowed {atol + rtol * abs(num):.3g})"
                )
    return True


def _point(xs: Sequence[float]) -> str:
    return "(" + ", ".join(f"x{i} = {x!r}" for i, x in enumerate(xs)) + ")"
