"""Every scalar operation once, as data: its forward on floats and its local derivatives."""

from __future__ import annotations

import math
import operator
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial, reduce
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Op:
    """One operation of the engine.

    ``method`` names what runs it: a ``Value`` method (``"__mul__"``, ``"exp"``) or,
    for n-ary ops, a function of ``micrograd_like``.
    ``forward(*inputs, *params)`` computes the output from plain floats;
    ``derivative(out, *inputs, *params)`` returns d out / d input for each input,
    in order. A derivative is written in plain arithmetic (and the helpers ``_val``,
    ``_exp_of``, ``_log_of``), so the one rule serves both passes: the engine calls it on
    floats in the forward pass (the numbers ``backward()`` uses) and on Values in
    ``grad(..., create_graph=True)``, where it builds the graph of the derivative.
    ``domain`` names the inputs where the op is defined and smooth;
    ``testing.strategies`` reads it to draw valid inputs, so a new op gets tested
    without anyone writing a test for it.
    """

    name: str
    arity: int
    method: str
    forward: Callable[..., float]
    derivative: Callable[..., tuple[float, ...]]
    domain: str = "real"
    params: tuple[str, ...] = ()
    doc: str = ""


# add_in_order(xs, start) = start + x1 + x2 + ..., one plain float addition at a time, as a
# chain of + nodes computes it, so that fused and unfused neurons agree to the last bit.
# sum() does exactly that before Python 3.12 (and fastest); from 3.12 it compensates rounding.
add_in_order: Callable[[Iterable[float], float], float] = (
    sum if sys.version_info < (3, 12) else partial(reduce, operator.add)
)


def _fmt(x: float) -> str:
    return repr(float(x))


# A derivative rule gets floats in the forward pass and Values (which this module must not
# import) in grad(..., create_graph=True). Arithmetic works on both; these three cover the rest.
def _val(x: Any) -> float:
    """The number in ``x``: a float itself, a Value's data. For the comparisons of a rule (a Value has no order)."""
    return x if type(x) is float else getattr(x, "data", x)


def _exp_of(x: Any) -> Any:
    """e**x of a float, or of a Value as a new node, so an exp inside a rule stays differentiable."""
    return math.exp(x) if type(x) is float or not hasattr(x, "data") else x.exp()


def _log_of(x: Any) -> Any:
    """log(x) of a float, or of a Value as a new node."""
    return math.log(x) if type(x) is float or not hasattr(x, "data") else x.log()


def _div(a: float, b: float) -> float:
    if b == 0.0:
        raise ZeroDivisionError(f"'/': division by zero ({_fmt(a)} / {_fmt(b)})")
    return a / b


def _pow(x: float, n: float) -> float:
    """x ** n with the error cases spelled out instead of a complex number or a bare message."""
    if x == 0.0 and n < 0:
        raise ZeroDivisionError(f"'**': 0.0 cannot be raised to the negative power {_fmt(n)}")
    if x < 0.0 and not float(n).is_integer():
        raise ValueError(
            f"'**': a negative base ({_fmt(x)}) to the fractional power {_fmt(n)} is not a real number"
        )
    try:
        return x**n
    except OverflowError:
        raise OverflowError(f"'**': {_fmt(x)} ** {_fmt(n)} is too large for a float") from None


def _infinite_slope(x: Any) -> Any:
    """+inf, the slope of sqrt(x) and of x**n (0 < n < 1) at x = 0, as a rule whose derivatives are right too.

    At 0 the k-th derivative of that slope is an infinity with the sign of (n-1)(n-2)...(n-k):
    -inf, +inf, -inf, ... for 0 < n < 1, as PyTorch's double backward gives (it computes
    n * 0**(n-1) = inf, and so on). inf * e**-x is exactly that at x = 0: its own derivatives
    there are inf times 1, -1, 1, ... A plain inf would be a constant, whose derivatives are 0.
    """
    return math.inf * _exp_of(-x)


def _power_slope(x: float, n: float) -> float:
    """n * x**(n-1), the slope of x**n, infinite (with its sign) where it is too large for a float.

    The forward result can be finite where the slope is not: 1e-200 ** -1 is 1e200, its
    slope -1e400. A finite result is never refused because of its derivative.
    """
    if _val(n) is n and n == 0:
        # x**0 is 1 for every x: flat, even where x**-1 is too large for a float (a tiny base).
        # Only for a plain number: with create_graph the exponent is a Value and the rule must
        # stay a graph, since d/db of this slope at b = 0 is 1/a, not 0
        return 0.0
    if _val(x) == 0.0 and _val(n) < 1:
        # the slope of x**n at 0 for 0 < n < 1 is infinite; say so rather than clamp it
        return _infinite_slope(x)
    try:
        return n * x ** (n - 1)
    except OverflowError:
        if _val(n) == 0:
            # a Value exponent of 0 (create_graph) with x**-1 past the float range: the slope is
            # 0 * x**-1 = 0, as backward() gives it, not an infinity
            return 0.0
        # x**(n-1) is negative only for a negative x and an odd integer n - 1 (n % 2 is exact, n - 1 may round)
        return n * _huge_power(x, n - 1, _val(x) < 0.0 and _val(n) % 2 == 0)


def _huge_power(x: Any, m: Any, negative: bool) -> Any:
    """x**m where it is past the float range: an infinity, negative if asked, as PyTorch's pow gives it.

    Written as a product of k equal powers that each fit in a float, which IEEE multiplication
    takes to inf, so that with create_graph its own derivatives (n(n-1) x**(n-2), ...) are the
    infinities they are in PyTorch, not the 0s of a constant inf.
    """
    xv, mv = _val(x), _val(m)
    # each piece's exponent in base 2 stays below 1000; x**m with a finite x**(m+1) needs k <= 4
    k = min(2 + int(abs(mv * math.log2(abs(xv)))) // 1000, 64)
    piece = abs(x) ** (m / k)
    power = piece
    for _ in range(k - 1):
        power = power * piece
    return -power if negative else power


def _pow_derivative(out: float, x: float, n: float) -> tuple[float]:
    if n == 0:
        return (0.0,)
    return (_power_slope(x, n),)


def _vpow(a: float, b: float) -> float:
    if a <= 0.0:
        raise ValueError(
            f"'**': the base must be positive when the exponent is a Value, got base {_fmt(a)} "
            "(d/db a**b = a**b * log(a) needs log(a))"
        )
    return _pow(a, b)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: exp({_fmt(x)}) is too large for a float (the limit is exp(709.78))") from None


def _log(x: float) -> float:
    if x <= 0.0:
        raise ValueError(f"log: undefined for {_fmt(x)} (log needs a positive input)")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0.0:
        raise ValueError(f"sqrt: undefined for {_fmt(x)} (sqrt needs a non-negative input)")
    return math.sqrt(x)


def _sigmoid(x: float) -> float:
    # exp of a non-positive number never overflows, so pick the form that only ever needs one
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sign(x: float) -> float:
    # d|x|/dx at 0 is 0, as in PyTorch
    x = _val(x)
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


def _logsumexp(xs: tuple[float, ...]) -> float:
    # shifting by the max keeps every exp <= 1, so logits of 1000 are fine
    m = max(xs)
    if m == math.inf or m == -math.inf:
        # x - m would be inf - inf = nan; the sum of e**x is 0 (all -inf) or infinite (a +inf),
        # so the answer is m itself, as in torch, unless a nan is there (max may have passed over it)
        return math.nan if any(x != x for x in xs) else m
    return m + math.log(math.fsum(math.exp(x - m) for x in xs))


def dot_parts(bwx: Sequence[T]) -> tuple[T | None, Sequence[T], Sequence[T]]:
    """(bias or None, weights, inputs) from dot's flat inputs: an odd count starts with the bias."""
    n, has_bias = divmod(len(bwx), 2)
    return (bwx[0] if has_bias else None), bwx[has_bias : has_bias + n], bwx[has_bias + n :]


def _dot(bwx: tuple[float, ...]) -> float:
    """(b +) w1*x1 + w2*x2 + ... on dot's flat inputs."""
    b, ws, xs = dot_parts(bwx)
    # b + w1*x1 + w2*x2 + ..., exactly as the unfused neuron's chain of + nodes adds
    return add_in_order(map(operator.mul, ws, xs), 0.0 if b is None else b)


def _dot_derivative(out: float, bwx: tuple[float, ...]) -> tuple[float, ...]:
    b, ws, xs = dot_parts(bwx)
    ones: tuple[float, ...] = () if b is None else (1.0,)
    return ones + tuple(xs) + tuple(ws)


UNARY_AND_BINARY: tuple[Op, ...] = (
    Op("+", 2, "__add__", operator.add, lambda out, a, b: (1.0, 1.0), doc="a + b"),
    Op("-", 2, "__sub__", operator.sub, lambda out, a, b: (1.0, -1.0), doc="a - b"),
    Op("*", 2, "__mul__", operator.mul, lambda out, a, b: (b, a), doc="a * b"),
    Op("/", 2, "__truediv__", _div, lambda out, a, b: (1.0 / b, -(a / b) / b), domain="nonzero divisor", doc="a / b"),
    Op("neg", 1, "__neg__", operator.neg, lambda out, x: (-1.0,), doc="-x"),
    Op("**", 1, "__pow__", _pow, _pow_derivative, domain="power", params=("exponent",),
       doc="x ** n for a number n: d/dx = n * x**(n-1)"),
    Op("pow", 2, "__pow__", _vpow, lambda out, a, b: (_power_slope(a, b), out * _log_of(a)), domain="positive base",
       doc="a ** b for a Value exponent: d/da = b * a**(b-1), d/db = a**b * log(a)"),
    Op("abs", 1, "__abs__", abs, lambda out, x: (_sign(x),), domain="kink at 0", doc="|x|: d/dx = sign(x), 0 at 0"),
    Op("exp", 1, "exp", _exp, lambda out, x: (out,), domain="below 709", doc="e**x: d/dx = e**x"),
    Op("log", 1, "log", _log, lambda out, x: (1.0 / x,), domain="positive", doc="natural log: d/dx = 1/x"),
    Op("sqrt", 1, "sqrt", _sqrt, lambda out, x: (0.5 / out if _val(out) else _infinite_slope(x),), domain="positive",
       doc="sqrt(x): d/dx = 1 / (2 sqrt(x))"),
    Op("tanh", 1, "tanh", math.tanh, lambda out, x: (1.0 - out * out,), doc="tanh(x): d/dx = 1 - tanh(x)**2"),
    Op("sigmoid", 1, "sigmoid", _sigmoid, lambda out, x: (out * (1.0 - out),),
       doc="1 / (1 + e**-x): d/dx = s(x) * (1 - s(x))"),
    Op("relu", 1, "relu", lambda x: 0.0 if x <= 0.0 else x, lambda out, x: (0.0 if _val(x) <= 0.0 else 1.0,),
       domain="kink at 0", doc="max(0, x): d/dx = 1 for x > 0, else 0 (0 at 0, and NaN stays NaN, as in PyTorch)"),
    Op("leaky_relu", 1, "leaky_relu", lambda x, slope: x if x > 0.0 else slope * x,
       lambda out, x, slope: (1.0 if _val(x) > 0.0 else slope,), domain="kink at 0", params=("negative_slope",),
       doc="x for x > 0, else negative_slope * x"),
    Op("prelu", 2, "prelu", lambda x, a: x if x > 0.0 else a * x,
       lambda out, x, a: (1.0, 0.0) if _val(x) > 0.0 else (a, x), domain="kink at 0",
       doc="leaky relu whose slope a is a Value that learns: d/dx = 1 or a, d/da = 0 or x"),
    Op("step", 1, "step", lambda x: 1.0 if x > 0.0 else (0.0 if x <= 0.0 else x), lambda out, x: (0.0,),
       domain="kink at 0",
       doc="binary step: 1 for x > 0, else 0. Its derivative is 0 everywhere it exists, "
           "so no gradient flows through it and it cannot be trained by backprop"),
)

# n-ary ops take all their inputs as one flat tuple of floats
NARY: tuple[Op, ...] = (
    Op("sum", -1, "sum", sum, lambda out, xs: (1.0,) * len(xs), doc="x1 + x2 + ...: d/dxi = 1"),
    Op("dot", -1, "dot", _dot, _dot_derivative, doc="(b +) w1*x1 + w2*x2 + ...: d/db = 1, d/dwi = xi, d/dxi = wi"),
    # When every input is -inf, moving one by any finite step leaves it -inf and the output -inf: each
    # slope is 0 (torch gives nan there, from e**(-inf - -inf); a nan would poison every gradient behind it)
    Op("logsumexp", -1, "logsumexp", _logsumexp,
       lambda out, xs: (0.0,) * len(xs) if _val(out) == -math.inf else tuple(_exp_of(x - out) for x in xs),
       doc="log(e**x1 + e**x2 + ...): d/dxi = softmax(x)i"),
)

OPS: dict[str, Op] = {op.name: op for op in UNARY_AND_BINARY + NARY}
