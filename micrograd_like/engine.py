"""The scalar autograd engine: `Value`, topological order, `backward()` and `no_grad`."""

from __future__ import annotations

import contextlib
import functools
import math
import numbers
import threading
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from operator import attrgetter, mul
from typing import Any, TypeVar, overload

from .ops import OPS, Op, add_in_order

T = TypeVar("T")

# Grad mode is per thread, as in PyTorch: no_grad() in one thread never turns off another's graph.
# So is anomaly mode (detect_anomaly() in anomaly.py). Every op reads one module global, _plain,
# which is True while no thread is inside no_grad() or detect_anomaly() (nearly always), so the
# common case costs one global read. Only while some thread is inside one of them do ops take the
# slow path, _records_here(), which checks the result for detect_anomaly and asks this thread's
# no_grad depth.
_plain = True
_slow_blocks = 0  # how many no_grad() and detect_anomaly() blocks are open, over all threads
_slow_lock = threading.Lock()
_local = threading.local()  # .depth: how many no_grad() blocks this thread is inside; .anomaly: detect_anomaly()


def _thread_grad_enabled() -> bool:
    return not getattr(_local, "depth", 0)


def _anomaly_here() -> bool:
    """True inside detect_anomaly() in this thread."""
    return bool(getattr(_local, "anomaly", 0))


def _enter_slow(attr: str) -> None:
    """Open a no_grad() (``attr`` "depth") or detect_anomaly() ("anomaly") block in this thread."""
    global _plain, _slow_blocks
    with _slow_lock:
        setattr(_local, attr, getattr(_local, attr, 0) + 1)
        _slow_blocks += 1
        _plain = False


def _exit_slow(attr: str) -> None:
    global _plain, _slow_blocks
    with _slow_lock:
        setattr(_local, attr, getattr(_local, attr) - 1)
        _slow_blocks -= 1
        _plain = _slow_blocks == 0


def _records_here(out: Value, inputs: tuple[Value, ...]) -> bool:
    """The slow path of every op: whether this thread records ``out``'s parents ``inputs``.

    Inside detect_anomaly() it first refuses a result that is NaN, or infinite from
    finite inputs (``anomaly.check_forward``).
    """
    d = out.data
    if d - d and getattr(_local, "anomaly", 0):  # d - d is 0.0 for a finite d, NaN otherwise
        from .anomaly import check_forward

        check_forward(out, inputs)
    return not getattr(_local, "depth", 0)


class no_grad:
    """Context manager (or decorator) under which ops record no parents, as ``torch.no_grad``.

    Results built inside are leaves: nothing to backprop through, nothing kept alive.
    Use it for evaluation and for optimizer steps. Like PyTorch's, it applies to the
    thread that enters it: other threads keep building graphs meanwhile.
    """

    def __enter__(self) -> no_grad:
        _enter_slow("depth")
        return self

    def __exit__(self, *exc_info: object) -> None:
        _exit_slow("depth")

    def __call__(self, func: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            with no_grad():
                return func(*args, **kwargs)

        return wrapper


def is_grad_enabled() -> bool:
    """True unless this thread is inside ``no_grad()``."""
    return _plain or _thread_grad_enabled()


def is_real(x: object) -> bool:
    """True for what the engine takes as a number: any ``numbers.Real``, NumPy's bool_ and real 0-d arrays.

    bool is an int, which is fine; str, None, complex and containers are not real numbers.
    NumPy's bool_ and 0-d arrays are not registered as numbers.Real, but each is one real number.
    """
    return isinstance(x, numbers.Real) or (
        getattr(x, "ndim", None) == 0 and getattr(getattr(x, "dtype", None), "kind", "") in ("b", "i", "u", "f")
    )


def _describe(value: object) -> str:
    """A short readable description of ``value`` for an error message (never a 5,000-digit repr)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        if value.bit_length() < 14_000:  # str() of an int is refused beyond 4,300 digits
            return f"an int of {len(str(abs(value)))} digits"
        return f"an int of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def _to_float(x: object, op: str) -> float:
    """Turn a real number into a float, or raise TypeError naming its type and the op."""
    if is_real(x):
        try:
            return float(x)  # type: ignore[arg-type]
        except OverflowError:
            raise OverflowError(f"{op}: {_describe(x)} is too large for a float "
                                "(the largest is about 1.8e308)") from None
    raise TypeError(f"{op}: expected a real number or a Value, got {_describe(x)}")


class Value:
    """A scalar in a computation graph: its data, its gradient and how it was made.

    Each node keeps its parents and the local derivative d self / d parent of each edge,
    computed during the forward pass, so ``backward()`` is one flat loop over the edges.
    Nearly every node has one or two parents, so they are stored in plain slots rather
    than in tuples: ``_a`` with ``_da`` and ``_b`` with ``_db`` (``_b`` is None for an op
    of one input, both are None for a leaf). Ops of many inputs (``sum``, ``dot``) set
    ``_b`` to ``_MANY`` and keep their parents in two tuples: ``_a`` with derivatives ``_da``,
    and ``_c`` with ``_db`` (``_c`` is empty for ``sum``). A neuron's ``dot`` node takes its
    first tuple from the neuron and its second from the layer, so it builds no tuple of parents.
    Few objects per node are most of the speed of a training step (each is work for
    Python's cyclic garbage collector), and with no closure per node a dropped graph is
    freed by reference counting alone.
    ``grad(..., create_graph=True)`` finds each node's op in ``ops.OPS`` without a slot of
    its own: ``+``, ``*`` and ``relu`` nodes (written out below) and many-input nodes are
    named by ``_op``; any other node has ``_c`` free and keeps its ``Op`` there, or
    ``(Op, params)`` for an op with params (``**`` and its exponent, ``leaky_relu``).
    Read the graph through ``parents``, ``local_grads`` and ``edges``.
    """

    __slots__ = ("data", "grad", "_a", "_b", "_c", "_da", "_db", "_op", "label", "__weakref__")
    data: float
    grad: float
    label: str
    _op: str
    # each of these holds a Value, a tuple, a float or a marker, by the kind of node (above)
    _a: Any
    _b: Any
    _c: Any
    _da: Any
    _db: Any

    def __init__(self, data: float, label: str = "") -> None:
        if isinstance(data, Value):
            raise TypeError("Value: got a Value; use it directly, or Value(v.data) for a new leaf")
        self.data = data if type(data) is float else _to_float(data, "Value")
        if type(label) is not str:
            raise TypeError(f"Value: label must be a str, got {type(label).__name__}")
        self.grad = 0.0
        self._a = self._b = None
        self._op = ""
        self.label = label

    # ---- what a learner reads -------------------------------------------------------------

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in argument order (empty for a leaf)."""
        a, b = self._a, self._b
        if b is None:
            return () if a is None else (a,)
        return a + self._c if b is _MANY else (a, b)

    @property
    def op(self) -> str:
        """The name of the op that made this Value ('' for a leaf)."""
        return self._op

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d self / d parent for each parent, as computed in the forward pass."""
        a, b = self._a, self._b
        if b is None:
            return () if a is None else (self._da,)
        return self._da + self._db if b is _MANY else (self._da, self._db)

    @property
    def edges(self) -> tuple[tuple[Value, float], ...]:
        """(parent, local derivative) pairs: the edges the chain rule walks."""
        return tuple(zip(self.parents, self.local_grads))

    @property
    def is_leaf(self) -> bool:
        """True for inputs and parameters (and anything built under no_grad)."""
        return self._a is None

    def item(self) -> float:
        """The data as a Python float, as ``torch.Tensor.item()``."""
        return self.data

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # ---- +, * and relu make up nearly every node of a network, so they are written out ----
    # They compute exactly what their entries in ops.OPS say (a test checks it); the generic
    # path below costs a few function calls per node, which is most of the time of a step.

    def __add__(self, other: Value | float) -> Value:
        if type(other) is not Value:
            other = _as_value(other, "+")
        out = _new(Value)
        out.data = self.data + other.data
        out.grad = 0.0
        out._op = "+"
        out.label = ""
        if _plain or _records_here(out, (self, other)):
            out._a, out._da = self, 1.0
            out._b, out._db = other, 1.0
        else:
            out._a = out._b = None
        return out

    def __mul__(self, other: Value | float) -> Value:
        if type(other) is not Value:
            other = _as_value(other, "*")
        out = _new(Value)
        a = self.data
        b = other.data
        out.data = a * b
        out.grad = 0.0
        out._op = "*"
        out.label = ""
        if _plain or _records_here(out, (self, other)):
            out._a, out._da = self, b
            out._b, out._db = other, a
        else:
            out._a = out._b = None
        return out

    def __radd__(self, other: float) -> Value:
        return _as_value(other, "+") + self

    def __rmul__(self, other: float) -> Value:
        return _as_value(other, "*") * self

    def __sub__(self, other: Value | float) -> Value:
        return _apply(OPS["-"], (self, _as_value(other, "-")))

    def __rsub__(self, other: float) -> Value:
        return _apply(OPS["-"], (_as_value(other, "-"), self))

    def __truediv__(self, other: Value | float) -> Value:
        return _apply(OPS["/"], (self, _as_value(other, "/")))

    def __rtruediv__(self, other: float) -> Value:
        return _apply(OPS["/"], (_as_value(other, "/"), self))

    def __neg__(self) -> Value:
        return _apply(OPS["neg"], (self,))

    def __pow__(self, exponent: Value | float) -> Value:
        if isinstance(exponent, Value):
            return _apply(OPS["pow"], (self, exponent))
        n = _to_float(exponent, "**")
        return _apply(OPS["**"], (self,), (n,), op_label=f"**{n:g}")

    def __rpow__(self, base: float) -> Value:
        return _apply(OPS["pow"], (_as_value(base, "**"), self))

    def __abs__(self) -> Value:
        return _apply(OPS["abs"], (self,))

    # ---- functions as methods, PyTorch style: v.exp(), v.relu() ----

    def exp(self) -> Value:
        """e ** self. Raises OverflowError past exp(709.78), the largest float."""
        return _apply(OPS["exp"], (self,))

    def log(self) -> Value:
        """Natural logarithm; ValueError for inputs <= 0."""
        return _apply(OPS["log"], (self,))

    def sqrt(self) -> Value:
        """Square root; ValueError for negative inputs, infinite slope at 0."""
        return _apply(OPS["sqrt"], (self,))

    def tanh(self) -> Value:
        """tanh(x) = (e**x - e**-x) / (e**x + e**-x); finite for every input."""
        return _apply(OPS["tanh"], (self,))

    def sigmoid(self) -> Value:
        """1 / (1 + e**-x), computed without overflow for any input."""
        return _apply(OPS["sigmoid"], (self,))

    def relu(self) -> Value:
        """max(0, x); the gradient at 0 is 0 and relu(NaN) is NaN, as in PyTorch."""
        x = self.data
        out = _new(Value)
        out.grad = 0.0
        if x <= 0.0:  # asked this way round, NaN goes to the other branch and stays NaN, as in PyTorch
            out.data, out._da = 0.0, 0.0
        else:
            out.data, out._da = x, 1.0
        out._op = "relu"
        out.label = ""
        out._a = self if _plain or _records_here(out, (self,)) else None
        out._b = None
        return out

    def leaky_relu(self, negative_slope: float = 0.01) -> Value:
        """x for x > 0, else negative_slope * x (PyTorch's default slope)."""
        slope = _to_float(negative_slope, "leaky_relu")
        return _apply(OPS["leaky_relu"], (self,), (slope,))

    def prelu(self, slope: Value) -> Value:
        """Leaky relu whose negative slope is itself a Value, so it can be learned."""
        return _apply(OPS["prelu"], (self, _as_value(slope, "prelu")))

    def step(self) -> Value:
        """Binary step: 1.0 for x > 0, 0.0 for x <= 0 (NaN stays NaN).

        Its gradient is 0, so nothing learns through it.
        """
        return _apply(OPS["step"], (self,))

    # ---- backprop ----

    def backward(self, gradient: float = 1.0) -> None:
        """Fill in d self / d v as ``v.grad`` for every Value v this one depends on.

        The output is seeded with ``gradient`` (1 by default). Grads of the graph's
        intermediate nodes are reset first and leaves accumulate, as in PyTorch:
        calling it twice doubles leaf grads and never compounds intermediate ones.
        Inside ``detect_anomaly()`` each contribution is checked on its way (anomaly.py).
        """
        if not _plain and _anomaly_here():
            from .anomaly import checked_backward

            return checked_backward(self, gradient)
        for v in reversed(_start_backward(self, gradient)):
            g = v.grad
            if not g:
                continue  # a zero gradient (a dead relu, say) would add nothing upstream
            if g - g:  # g is infinite or NaN (a finite g gives 0.0): see _send_masked
                _send_masked(v, g)
                continue
            b = v._b
            if b is None:
                v._a.grad += g * v._da
            elif b is _MANY:  # many parents, in two tuples
                for parent, local in zip(v._a, v._da):
                    parent.grad += g * local
                for parent, local in zip(v._c, v._db):
                    parent.grad += g * local
            else:
                v._a.grad += g * v._da
                b.grad += g * v._db


def _sends(g: float, local: float) -> bool:
    """Whether an edge with local derivative ``local`` passes the grad ``g`` on: the rule of ``backward()``.

    A zero grad passes nothing (backward() skips it). An infinite or NaN grad passes
    nothing along an edge whose local derivative is 0: inf * 0 is NaN, but such an edge (a
    relu that was off, a step) depends on nothing upstream, so sqrt(relu(x)) at x = -1
    gives x.grad = 0, as in PyTorch, not NaN. Every other edge passes g * local.
    ``backward()`` inlines the rule for finite grads, its hot path; ``trace.backward_steps``
    calls it per edge, so both agree bit for bit.
    """
    return bool(g) and (not g - g or bool(local))


def _send_masked(v: Value, g: float) -> None:
    """Pass an infinite or NaN grad ``g`` from ``v`` to its parents along the edges ``_sends`` lets through."""
    for parent, local in zip(v.parents, v.local_grads):
        if _sends(g, local):
            parent.grad += g * local


_new = object.__new__
_MANY = object()  # the _b of a node with many parents, which sit in the tuples _a and _c


class _Mark(float):
    """The grad of a node while ``_backward_order`` walks the graph: NaN, a number that was never computed.

    Each walk makes its own mark, so a mark left behind by a walk cut short (Ctrl-C while
    it cleaned up) is not taken for "seen" by the next walk, which resets that grad. A
    float, so the leftover prints and draws as nan instead of breaking a repr.
    """

    __slots__ = ()


_data = attrgetter("data")


def _as_value(x: object, op: str) -> Value:
    return x if isinstance(x, Value) else Value(_to_float(x, op))


def _apply(op: Op, inputs: tuple[Value, ...], params: tuple[float, ...] = (), op_label: str = "") -> Value:
    """Run ``op`` on the data of ``inputs`` and record the result as a new node."""
    if len(inputs) == 1:
        xs: tuple[float, ...] = (inputs[0].data,)  # most ops are unary; skip the generic gather
    else:
        xs = tuple(map(_data, inputs))
    args = xs + params
    return _record(op, inputs, op.forward(*args), args, op_label, params)


def _apply_nary(op: Op, inputs: tuple[Value, ...]) -> Value:
    """Record an n-ary op, which takes the data of all its inputs as one tuple."""
    xs = tuple(map(_data, inputs))
    return _record(op, inputs, op.forward(xs), (xs,))


def _record(op: Op, inputs: tuple[Value, ...], data: float, args: tuple, op_label: str = "",
            params: tuple[float, ...] = ()) -> Value:
    """A new node holding ``data``, its parents and the local derivatives ``op`` gives for ``args``.

    A node of one or two inputs keeps its op (with its params, if any) in its free ``_c``
    slot, for ``grad(..., create_graph=True)``: ``_op`` may be a label such as ``**2``.
    """
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out._a = out._b = None
    out._op = op_label or op.name
    out.label = ""
    if inputs and (_plain or _records_here(out, inputs)):
        local = op.derivative(data, *args)
        if len(inputs) > 2:
            out._a, out._da, out._b, out._c, out._db = inputs, local, _MANY, (), ()
        else:
            out._c = (op, params) if params else op
            if len(inputs) == 1:
                out._a, out._da = inputs[0], local[0]
            else:
                out._a, out._b = inputs
                out._da, out._db = local
    return out


def _as_values(xs: Iterable[Value | float], op: str) -> tuple[Value, ...]:
    given = tuple(xs)
    for x in given:
        if type(x) is not Value:
            return tuple(_as_value(x, op) for x in given)
    return given  # type: ignore[return-value]  # the common case: already Values, nothing to convert


def sum(values: Iterable[Value | float]) -> Value:  # noqa: A001 - mirrors torch.sum
    """x1 + x2 + ... as one node, so a 20,000-term sum backprops without a deep chain."""
    vs = _as_values(values, "sum")
    return _apply_nary(OPS["sum"], vs)


def dot(ws: Iterable[Value | float], xs: Iterable[Value | float], bias: Value | float | None = None) -> Value:
    """(bias +) w1*x1 + w2*x2 + ... as one node: d/dbias = 1, d/dwi = xi, d/dxi = wi.

    This is a neuron's weighted sum in a single node, which is what makes the
    fused ``nn`` layers fast: one node and one flat loop per neuron instead of
    2n binary nodes. Its parents are the bias (if any), the weights, then the inputs.
    """
    ws_ = _as_values(ws, "dot")
    xs_ = _as_values(xs, "dot")
    if len(ws_) != len(xs_):
        raise ValueError(f"dot: got {len(ws_)} weights but {len(xs_)} inputs; they must match")
    if bias is None:
        return _apply_nary(OPS["dot"], ws_ + xs_)  # no neuron here (an L2 penalty, say): the table's node
    return _dot((_as_value(bias, "dot"), *ws_), xs_, _one_xdata(xs_))


def _one_xdata(xs: tuple[Value, ...]) -> tuple[float, ...]:
    """(1.0, *data of xs): what ``_dot`` takes with inputs ``xs`` (1.0 is the bias's input)."""
    return (1.0, *map(_data, xs))


def _dot(bw: tuple[Value, ...], xs: tuple[Value, ...], one_xdata: tuple[float, ...]) -> Value:
    """A neuron's b + w . x written out: ``bw`` is (bias, *weights), ``one_xdata`` is (1.0, *data of xs).

    The bias is the weight of a constant input 1. So the node's first tuple of parents
    is the neuron's own ``bw``, with derivatives ``one_xdata``, which a layer gathers once
    for all its neurons; the second is the layer's inputs ``xs``, with the weights' data
    as derivatives. The result is exactly what OPS["dot"] computes (a test checks it).
    """
    bwdata = tuple([w.data for w in bw])
    out = _new(Value)
    # -0.0 + b*1 + w1*x1 + w2*x2 + ... one addition at a time: bit for bit the unfused neuron's
    # chain of + nodes that starts from b (b*1 is exact, and -0.0 + b is b, even for b = -0.0)
    out.data = add_in_order(map(mul, bwdata, one_xdata), -0.0)
    out.grad = 0.0
    out._op = "dot"
    out.label = ""
    if _plain or _records_here(out, bw + xs):
        out._a, out._da = bw, one_xdata
        out._b, out._c, out._db = _MANY, xs, bwdata[1:]
    else:
        out._a = out._b = None
    return out


def logsumexp(values: Iterable[Value | float]) -> Value:
    """log(e**x1 + e**x2 + ...) computed stably; its gradient is the softmax of the inputs."""
    vs = _as_values(values, "logsumexp")
    if not vs:
        raise ValueError("logsumexp: needs at least one value")
    return _apply_nary(OPS["logsumexp"], vs)


# ---- gradients of gradients ------------------------------------------------------------------


class BackwardOpName(str):
    """The op name of a Value made by ``grad(..., create_graph=True)``: equal to the plain name.

    Being a str, it works wherever the name is used; its type tells a picture that the
    node belongs to a backward pass. Marking the name, rather than listing the nodes
    somewhere, costs nothing to anything else and keeps nothing alive.
    """

    __slots__ = ()


_BACKWARD_NAMES: dict[str, BackwardOpName] = {}
_WRITTEN_OUT = {name: OPS[name] for name in ("+", "*", "relu")}  # nodes with no op in _c
_JUST_VALUE, _JUST_ONE = {Value}, {1.0}


def made_by_backward_pass(v: Value) -> bool:
    """True for a Value that ``grad(..., create_graph=True)`` made (a node of a derivative's graph)."""
    return type(v._op) is BackwardOpName


@overload
def grad(output: Value, inputs: Value, create_graph: bool = False) -> Value: ...
@overload
def grad(output: Value, inputs: Iterable[Value], create_graph: bool = False) -> tuple[Value, ...]: ...


def grad(output: Value, inputs: Value | Iterable[Value], create_graph: bool = False) -> Value | tuple[Value, ...]:
    """d output / d input for each input, as ``torch.autograd.grad``: no ``.grad`` is touched.

    ``inputs`` is a Value (the answer is a Value) or a sequence of Values (a tuple of
    Values, in order); an input ``output`` does not depend on gets 0. Without
    ``create_graph`` the answers are new leaves holding the same numbers ``backward()``
    would add to ``.grad``. With it, the chain rule is run on Values: each op's derivative
    rule in ``ops.OPS`` (the one ``backward()`` runs on floats) is called on the graph's own
    Values, so each answer is a Value whose graph computes it from the inputs, and
    ``grad`` or ``backward()`` of it gives a second derivative, and so on to any order.
    An answer may be a Value of the forward graph itself: d(a*b)/da is b.
    Like PyTorch, create_graph builds that graph even inside ``no_grad()``: asking for it
    is explicit. Its new nodes answer True to ``made_by_backward_pass``, so pictures can
    tell them apart. Kinks follow PyTorch: relu, abs, step and leaky relu have local
    derivatives that are constants, so their second derivative is 0.
    """
    xs = _grad_inputs(output, inputs)
    if type(create_graph) is not bool:
        raise TypeError(f"grad: create_graph must be True or False, got {_describe(create_graph)}")
    order = topological_order(output)
    check = None
    if not _plain and _anomaly_here():
        from .anomaly import EdgeCheck

        check = EdgeCheck(order, "grad(..., create_graph=True)" if create_graph else "grad()")
    if create_graph:
        with _grad_here():
            found = _grad_walk_values(order, set(xs), check)
            answers = tuple(_as_value(found.get(x, 0.0), "grad") for x in xs)
        _mark_backward_pass(answers, order)
    else:
        floats = check.walk_floats() if check else _grad_walk_floats(order)
        answers = tuple(Value(floats.get(x, 0.0)) for x in xs)
    return answers[0] if isinstance(inputs, Value) else answers


def _grad_inputs(output: object, inputs: object) -> tuple[Value, ...]:
    """``inputs`` as a tuple of Values, or a TypeError/ValueError that says what is wrong with the call."""
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {_describe(output)}")
    if isinstance(inputs, Value):
        return (inputs,)
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(f"grad: inputs must be a Value or a sequence of Values, got {_describe(inputs)}")
    xs = tuple(inputs)
    if not xs:
        raise ValueError("grad: inputs is empty; pass the Values to differentiate with respect to")
    for i, x in enumerate(xs):
        if not isinstance(x, Value):
            raise TypeError(f"grad: inputs[{i}] must be a Value, got {_describe(x)}")
    return xs


def _grad_walk_floats(order: list[Value]) -> dict[Value, float]:
    """node -> d output / d node, from the float local derivatives on the edges: ``backward()`` into a dict.

    Like every dict and set of this walk it is keyed by the Values themselves, which hash
    by identity (Value defines no ``==``), so no ``.grad`` is needed.
    """
    grads = {order[-1]: 1.0}
    get = grads.get
    for v in reversed(order):
        g = get(v)
        if not g or v._a is None:
            continue
        if g - g:  # inf or NaN: as in backward(), it does not cross an edge whose derivative is 0
            for parent, local in zip(v.parents, v.local_grads):
                if _sends(g, local):
                    grads[parent] = get(parent, 0.0) + g * local
            continue
        b = v._b
        if b is None:
            a = v._a
            grads[a] = get(a, 0.0) + g * v._da
        elif b is _MANY:
            for parent, local in chain(zip(v._a, v._da), zip(v._c, v._db)):
                grads[parent] = get(parent, 0.0) + g * local
        else:
            a = v._a
            grads[a] = get(a, 0.0) + g * v._da
            grads[b] = get(b, 0.0) + g * v._db
    return grads


def _grad_walk_values(order: list[Value], wanted: set[Value], check: Any = None) -> dict[Value, Value | float]:
    """input -> d output / d input for the inputs in ``wanted``, as Values built from the graph's Values.

    A gradient stays a plain float while it is a constant (the seed 1, through +, sum, or
    the constant slopes of relu and abs), since a constant has no graph to differentiate;
    a constant 0 slope passes nothing back. Only nodes on a path from an input get a
    gradient: any other would be graph built for nothing. A node's gradient is the sum of
    (child's gradient) * (local derivative) over its uses; the pairs wait in ``pending``
    until the node's turn, then become one node (see ``_chain_rule_sum``). ``check``, inside
    detect_anomaly(), is told of each contribution before it is kept (``anomaly.EdgeCheck``).
    """
    needed = set(wanted)
    for v in order:
        if not needed.isdisjoint(v.parents):
            needed.add(v)
    pending: dict[Value, list[tuple[Value | float, Value | float]]] = {order[-1]: [(1.0, 1.0)]}
    found: dict[Value, Value | float] = {}
    for v in reversed(order):
        pairs = pending.pop(v, None)
        if pairs is None:
            continue
        g = _chain_rule_sum(pairs)
        if v in wanted:
            found[v] = g
        if v._a is None or (type(g) is not Value and not g):
            continue
        finite = math.isfinite(g.data if type(g) is Value else g)
        for parent, local in zip(v.parents, _local_derivatives(v)):
            if parent not in needed:
                continue
            if type(local) is not Value:
                if not local:
                    continue  # the slope is the constant 0 (relu off, step): nothing flows, not even inf*0
            elif not finite and not local.data:
                continue  # the mask of backward(), for a slope that is 0 here
            if check:
                check(v, parent, local, g)
            if parent in pending:
                pending[parent].append((g, local))
            else:
                pending[parent] = [(g, local)]
    return found


def _chain_rule_sum(pairs: list[tuple[Value | float, Value | float]]) -> Value | float:
    """g1*d1 + g2*d2 + ...: constants multiplied out, a factor 1 skipped, the products in one ``dot`` node.

    One node for a weight used by 100 samples, where 100 products and a sum would make 101.
    """
    if len(pairs) == 1 and type(pairs[0][1]) is not Value and pairs[0][1] == 1.0:
        return pairs[0][0]  # the common case: one use, through a slope of 1 (+, relu on, sum)
    gs_, ds_ = zip(*pairs)
    if set(map(type, gs_)) == _JUST_VALUE:  # the other common cases, without a look at each pair
        if set(map(type, ds_)) == _JUST_VALUE:
            return _apply_nary(OPS["dot"], gs_ + ds_)  # a weight used by many samples
        if set(ds_) == _JUST_ONE:
            return _apply_nary(OPS["sum"], gs_)  # a bias used by many samples
    constant = 0.0
    terms: list[Value | float] = []
    gs: list[Value | float] = []
    ds: list[Value | float] = []
    for g, d in pairs:
        if type(d) is not Value and d == 1.0:
            terms.append(g)
        elif type(g) is not Value and g == 1.0:
            terms.append(d)
        elif type(g) is not Value and type(d) is not Value:
            constant += g * d  # type: ignore[assignment,operator]
        else:
            gs.append(g)
            ds.append(d)
    if len(gs) == 1:
        terms.append(gs[0] * ds[0])
    elif gs:
        terms.append(dot(gs, ds))
    if all(type(t) is not Value for t in terms):
        return add_in_order(terms, constant)  # type: ignore[arg-type]  # a constant: no graph to build
    if constant:
        terms.append(constant)
    return terms[0] if len(terms) == 1 else sum(terms)


def _local_derivatives(v: Value) -> tuple[Value | float, ...]:
    """d v / d parent for each parent of ``v``, from its op's rule called on Values (a graph)."""
    if v._b is _MANY:
        return OPS[v._op].derivative(v, v._a + v._c)  # type: ignore[attr-defined]
    op = _WRITTEN_OUT.get(v._op)
    if op is not None:
        return op.derivative(v, *v.parents)
    rule = v._c  # type: ignore[attr-defined]
    if type(rule) is tuple:
        return rule[0].derivative(v, *v.parents, *rule[1])
    if rule.arity == -1:  # sum, dot or logsumexp of one or two inputs: stored like a binary node
        return rule.derivative(v, v.parents)
    return rule.derivative(v, *v.parents)


@contextlib.contextmanager
def _grad_here() -> Iterator[None]:
    """Build graphs in this thread for the duration, even inside no_grad() (other threads keep theirs).

    detect_anomaly() checks no op made here: a derivative may rightly be infinite (sqrt's at
    0), and the walk checks each contribution, which names the edge, instead.
    """
    depth, anomaly = getattr(_local, "depth", 0), getattr(_local, "anomaly", 0)
    _local.depth = _local.anomaly = 0
    try:
        yield
    finally:
        _local.depth, _local.anomaly = depth, anomaly


def _mark_backward_pass(answers: tuple[Value, ...], order: list[Value]) -> None:
    """Give the Values the create_graph walk made (behind ``answers``, not in ``order``) a ``BackwardOpName``."""
    forward = set(order)
    stack = list(answers)
    while stack:
        v = stack.pop()
        op = v._op
        if type(op) is not BackwardOpName and v not in forward:
            v._op = _BACKWARD_NAMES.get(op) or _BACKWARD_NAMES.setdefault(op, BackwardOpName(op))
            stack.extend(v.parents)


def topological_order(root: Value) -> list[Value]:
    """Every Value ``root`` depends on, parents before children, ``root`` last.

    A post-order depth-first walk with an explicit stack instead of recursion, so a
    chain of a million nodes works at Python's default recursion limit. A leaf is
    listed when the walk first meets it.
    """
    order: list[Value] = []
    visited = {root}
    stack: list[tuple[Value, Iterator[Value]]] = []  # the nodes whose parents are half walked
    node, parents = root, iter(root.parents)
    while True:
        for p in parents:
            if p not in visited:
                visited.add(p)
                if p._a is None:
                    order.append(p)  # a leaf is done as soon as it is seen
                else:
                    stack.append((node, parents))  # come back to the rest of node's parents later
                    node, parents = p, iter(p.parents)
                    break
        else:
            order.append(node)  # all its parents are in order: node is done
            if not stack:
                return order
            node, parents = stack.pop()


def _start_backward(root: Value, gradient: float) -> list[Value]:
    """Check the seed, reset the graph's intermediate grads, seed ``root``: the order to backprop in."""
    if type(gradient) is not float:
        gradient = _to_float(gradient, "backward")  # a str or complex seed would spread through every grad
    order = _backward_order(root)
    root.grad += gradient
    return order


def _backward_order(root: Value) -> list[Value]:
    """The non-leaf Values ``root`` depends on, parents first, each with its grad reset to 0.

    The walk of ``topological_order`` without the leaves, tuned because it was a third of
    a training step. A node is marked as seen by setting its grad to this walk's own
    ``_Mark`` (its grad is reset right after), which is cheaper than a set of seen nodes
    and cannot be confused with a mark an interrupted walk left; a leaf is skipped
    by a look at ``_a``; and a node whose one or two parents are leaves or done already
    (``w * x`` once x is done, in most neurons) is done at once, without a trip through
    the stack. The two tuples of parents of a many-input node are often shared: a
    neuron's (bias, *weights) by its dot node of every sample, a layer's inputs by the dot
    nodes of all its neurons. Once a tuple has been walked to its end, each Value in it
    is a leaf or done, so each tuple is walked about once per pass, not once per node
    that holds it. (A tuple counts as walked only when its node is done: while a node
    walks its first tuple, another node that holds its second may come up, and must
    walk that itself.)
    """
    if root._a is None:
        return []
    order: list[Value] = []
    stack: list[tuple[Value, Iterator[Value]]] = []
    walked: set[int] = set()  # ids of the tuples of parents walked so far; the graph keeps them alive
    seen = _Mark(math.nan)
    node, parents = root, iter(root.parents)  # root needs no mark: it is nobody's parent here
    try:
        while True:
            for p in parents:
                a = p._a
                if a is not None and p.grad is not seen:
                    p.grad = seen
                    b = p._b
                    if b is _MANY:
                        c = p._c
                        if id(a) in walked:
                            a = ()
                        if id(c) in walked:
                            c = ()
                        p_parents = a + c  # the parents still to look at
                        if not p_parents:
                            order.append(p)  # every tuple was walked already: p is done
                            continue
                    elif (a._a is None or a.grad is seen) and (b is None or b._a is None or b.grad is seen):
                        order.append(p)  # its parents are leaves or done already: p is done too
                        continue
                    else:
                        p_parents = (a,) if b is None else (a, b)
                    stack.append((node, parents))
                    node, parents = p, iter(p_parents)
                    break
            else:
                order.append(node)
                if node._b is _MANY:  # both its tuples are walked to the end now
                    walked.add(id(node._a))
                    walked.add(id(node._c))
                if not stack:
                    break
                node, parents = stack.pop()
    except BaseException:
        # interrupted (Ctrl-C, say): a node may be marked but not yet in order, on the stack or
        # current (the walk had just met it), so look for marks over the whole graph (and clear
        # any that an earlier walk, interrupted while it cleaned up, left)
        for v in topological_order(root):
            if type(v.grad) is _Mark:
                v.grad = 0.0
        raise
    finally:
        # every marked node is in order, on the stack or the current one (if we were interrupted)
        for v in order:
            v.grad = 0.0
        for v, _ in stack:
            v.grad = 0.0
        node.grad = 0.0
    return order


__all__ = ["Value", "no_grad", "is_grad_enabled", "sum", "dot", "logsumexp", "topological_order", "grad",
           "made_by_backward_pass"]
