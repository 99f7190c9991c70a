"""check_neuron, check_mlp and check_training_step: a learner's network and training step against ``nn`` and ``optim``.

What the learner's code must provide (notebook 15 asks for exactly this):

- ``Neuron(nin, activation="tanh")``, activation ``"tanh"`` or ``"linear"``: ``.w`` (a list of
  ``nin`` Values), ``.b`` (a Value), ``neuron(x)`` -> a Value, ``parameters()`` -> the
  weights, then the bias;
- ``MLP(nin, nouts)``: tanh on every layer but the last, which is linear; ``mlp(x)`` -> a
  Value when the last layer has one neuron, else a list of Values; ``parameters()`` ->
  layer by layer, neuron by neuron, each neuron's weights then its bias (``nn.MLP``'s order);
- ``training_step(model, xs, ys, lr)``: one step of gradient descent on the mean squared
  error (1/n) sum (model(x) - y)**2 over the batch; returns the loss.

The checks set the learner's parameters to the drawn ones by assigning ``p.data`` to each
Value ``parameters()`` returns, in that order, so the learner's initialisation does not matter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine import Value
from ._limits import Outcome, call_with_time_limit, check_time_limit
from .checks import _close, _failed, _Failure, _graph_picture, _is_real, _report, _search, _sentence
from .report import MAX_DRAWN_NODES, Counterexample, Report, fmt

if TYPE_CHECKING:
    from .. import nn

__all__ = ["check_neuron", "check_mlp", "check_training_step"]

_LRS = (0.1, 0.05, 0.3)  # never 1: there lr and lr * lr are the same number


def _call(fn: Callable[..., Any], limit: float, *args: Any, **kwargs: Any) -> Outcome:
    return call_with_time_limit(lambda: fn(*args, **kwargs), (), limit)


def _shape_text(nin: int, nouts: Sequence[int] | None, activation: str = "") -> str:
    if nouts is None:
        return f"Neuron({nin}, activation={activation!r})"
    return f"MLP({nin}, {list(nouts)})"


def _values_text(xs: Sequence[float]) -> str:
    return "[" + ", ".join(fmt(x) for x in xs) + "]"


# ---- the learner's model: built, its parameters set, run -----------------------------------------


@dataclass(frozen=True)
class _ModelCase:
    """A shape, every parameter's value (in ``nn``'s order) and one input sample."""

    nin: int
    nouts: tuple[int, ...] | None  # None: a single neuron
    activation: str
    weights: tuple[float, ...]
    x: tuple[float, ...]

    @property
    def text(self) -> str:
        return _shape_text(self.nin, self.nouts, self.activation)

    def reference(self, hidden: str = "tanh", output: str = "linear", bias: bool = True,
                  activation: str = "") -> nn.Module:
        """The library's model of this shape with these parameters (variants: other activations, no bias)."""
        from .. import nn

        model: nn.Module
        if self.nouts is None:
            model = nn.Neuron(self.nin, activation=activation or self.activation)
        else:
            model = nn.MLP(self.nin, list(self.nouts), activation=hidden, output_activation=output)
        for (name, p), w in zip(model.named_parameters(), self.weights):
            p.data = 0.0 if not bias and name.endswith("b") else w
            p.label = name
        return model

    def inputs(self) -> list[Value]:
        return [Value(x, label=f"x[{i}]") for i, x in enumerate(self.x)]


def _model_cases(neuron: bool) -> Any:
    from hypothesis import strategies as st

    from ..testing.strategies import floats

    @st.composite
    def draw(d: Any) -> _ModelCase:
        nin = d(st.integers(1, 3 if not neuron else 4))
        if neuron:
            nouts, activation, n = None, d(st.sampled_from(["tanh", "linear"])), nin + 1
        else:
            nouts = tuple(d(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
            sizes = (nin,) + nouts
            activation, n = "", sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(nouts)))
        weights = tuple(d(st.lists(floats(-1.5, 1.5), min_size=n, max_size=n)))
        x = tuple(d(st.lists(floats(-2.0, 2.0), min_size=nin, max_size=nin)))
        return _ModelCase(nin, nouts, activation, weights, x)

    return draw()


def _parameters(model: Any, cls: str, limit: float) -> tuple[list[Value] | None, Outcome, str]:
    """(the learner's parameters, the call's outcome, the mistake if they are not a list of Values)."""
    outcome = _call(model.parameters, limit) if callable(getattr(model, "parameters", None)) else \
        Outcome(error=AttributeError(f"{cls} has no parameters() method"))
    if not outcome.returned:
        return None, outcome, ""
    got = outcome.value
    if hasattr(got, "__next__"):  # a generator, as torch's parameters() is: its body is the learner's code too
        outcome = _call(list, limit, got)
        if not outcome.returned:
            return None, outcome, ""
        got = outcome.value
    if isinstance(got, (list, tuple)) and all(isinstance(p, Value) for p in got):
        return list(got), outcome, ""
    what = "a list with things that are not Values" if isinstance(got, (list, tuple)) else \
        ("None" if got is None else f"a {type(got).__name__}")
    return None, outcome, _sentence("nn params type", cls=cls, what=what)


def _shared(params: list[Value]) -> int:
    """How many entries of ``params`` are a Value listed before."""
    return len(params) - len({id(p) for p in params})


def _count_mistake(case: _ModelCase, cls: str, got: int) -> str:
    """Why the learner's parameters() has ``got`` Values: the biases missing, a layer missing, or just how many."""
    want = len(case.weights)
    if case.nouts is None:
        neurons, layers = 1, [want]
    else:
        sizes = (case.nin,) + case.nouts
        neurons = sum(case.nouts)
        layers = [(sizes[i] + 1) * sizes[i + 1] for i in range(len(case.nouts))]
    if got == want - neurons:
        return _sentence("nn bias params")
    if case.nouts is not None:
        for i, n in enumerate(layers):
            if got == want - n:
                return _sentence("nn missing layer", layer=i, n=n)
    return _sentence("nn count", cls=cls, got=got, shape=case.text, want=want)


def _outputs(value: Any, many: bool) -> list[Value] | None:
    """The learner's output as a list of Values (a single Value, or a list of them), None if it is not that."""
    if isinstance(value, Value):
        return [value]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Value) for v in value):
        return list(value) if many or len(value) == 1 else None
    return None


def _total(outs: list[Value]) -> Value:
    total = outs[0]
    for o in outs[1:]:
        total = total + o
    return total


def _grade_model(cls: Any, name: str, case: _ModelCase, time_limit: float) -> _Failure | None:
    args = (case.nin,) if case.nouts is None else (case.nin, list(case.nouts))
    kwargs = {"activation": case.activation} if case.nouts is None else {}
    cx = Counterexample(case=case.text + f" on x = {_values_text(case.x)}",
                        inputs={f"x[{i}]": x for i, x in enumerate(case.x)})
    built = _call(cls, time_limit, *args, **kwargs)
    if not built.returned:
        return _failed(built, time_limit, cx, case)
    model = built.value
    params, outcome, mistake = _parameters(model, name, time_limit)
    if params is None:
        return _failed(outcome, time_limit, cx, case) if not outcome.returned else _Failure(mistake, cx, case)
    if _shared(params):
        return _Failure(_sentence("nn shared", n=_shared(params) + 1), cx, case)
    if len(params) != len(case.weights):
        return _Failure(_count_mistake(case, name, len(params)), cx, case)
    for p, w in zip(params, case.weights):
        p.data, p.grad = w, 0.0
    ran = _call(model, time_limit, [float(x) for x in case.x])
    if not ran.returned:
        return _failed(ran, time_limit, cx, case)
    many = case.nouts is not None and case.nouts[-1] > 1
    outs = _outputs(ran.value, many)
    call = f"{name.split('(')[0]}(x)"
    if outs is None or (len(outs) != (case.nouts[-1] if case.nouts else 1)):
        what = "None" if ran.value is None else f"a {type(ran.value).__name__} ({fmt(ran.value)})"
        return _Failure(_sentence("nn output type", call=call, what=what), cx, case)
    ref = case.reference()
    ref_outs = ref(case.inputs())
    ref_outs = ref_outs if isinstance(ref_outs, list) else [ref_outs]
    ref_root = _total(ref_outs)
    ref_root.backward()
    yours_out = [o.data for o in outs]
    out_wrong = [not _close(y, r.data, rtol=1e-6) for y, r in zip(yours_out, ref_outs)]
    backward = _call(lambda: _total(outs).backward(), time_limit)
    yours_grad = [p.grad for p in params] if backward.returned else [math.nan] * len(params)
    ref_params = ref.named_parameters()
    grad_wrong = [not (_is_real(y) and _close(y, p.grad, rtol=1e-6)) for y, (_, p) in zip(yours_grad, ref_params)]
    if not any(out_wrong) and not any(grad_wrong):
        return None
    cx.columns = ["value", "expected", "yours"]
    for k, (y, r, w) in enumerate(zip(yours_out, ref_outs, out_wrong)):
        label = "out" if len(ref_outs) == 1 else f"out[{k}]"
        cx.rows.append([label, r.data, y])
        cx.wrong.append(w)
        cx.expected[label], cx.yours[label] = r.data, y
    for (pname, p), w, y, g in zip(ref_params, case.weights, yours_grad, grad_wrong):
        label = f"d out/d {pname}" if len(ref_outs) == 1 else f"d sum(out)/d {pname}"
        cx.rows.append([f"{label} (= {fmt(w)})", p.grad, y])
        cx.wrong.append(g)
        cx.expected[pname], cx.yours[pname] = p.grad, y
    cx.root = ref_root
    cx._draw = _model_picture(ref_root, ref_params, yours_out, ref_outs, yours_grad, grad_wrong)
    mistake = _classic_model_mistake(cls, case, yours_out, yours_grad, time_limit)
    if mistake:
        pass
    elif any(out_wrong):
        right = _values_text([r.data for r in ref_outs])
        mistake = _sentence("nn wrong output", call=call, yours=_values_text(yours_out), expected=right)
    else:
        first = grad_wrong.index(True)
        mistake = _sentence("nn wrong grads", name=ref_params[first][0], yours=fmt(yours_grad[first]),
                            expected=fmt(ref_params[first][1].grad))
    return _Failure(mistake, cx, case)


def _learner_numbers(cls: Any, case: _ModelCase, limit: float) -> tuple[list[float], list[Any]] | None:
    """The learner's outputs and parameter grads on ``case``, or None when any step of it goes wrong."""
    args = (case.nin,) if case.nouts is None else (case.nin, list(case.nouts))
    kwargs = {"activation": case.activation} if case.nouts is None else {}
    built = _call(cls, limit, *args, **kwargs)
    if not built.returned:
        return None
    params, outcome, mistake = _parameters(built.value, "", limit)
    if params is None or len(params) != len(case.weights):
        return None
    for p, w in zip(params, case.weights):
        p.data, p.grad = w, 0.0
    ran = _call(built.value, limit, list(case.x))
    outs = _outputs(ran.value, True) if ran.returned else None
    if outs is None or not _call(lambda: _total(outs).backward(), limit).returned:
        return None
    return [o.data for o in outs], [p.grad for p in params]


def _probe(case: _ModelCase) -> _ModelCase:
    """The same shape with fixed numbers away from 0 and 1, where the classic mistakes differ from each other."""
    weights = tuple((0.3 + 0.11 * (k % 7)) * (-1) ** k for k in range(len(case.weights)))
    x = tuple(0.7 - 0.45 * k for k in range(case.nin))
    return _ModelCase(case.nin, case.nouts, case.activation, weights, x)


def _classic_model_mistake(cls: Any, case: _ModelCase, yours: list[float], yours_grad: list[Any],
                           limit: float) -> str:
    """Which classic mistake gives the learner's outputs and grads: the bias left out, a wrong activation, or ''.

    It must give them on the failing case and on a probe of the same shape: on the smallest
    case (a bias of 0, an input of 0) several mistakes give the same numbers.
    """
    probe = _probe(case)
    theirs = _learner_numbers(cls, probe, limit)
    if theirs is None:
        return ""
    for key, variant in _variants(case):
        if _gives(case, variant, yours, yours_grad) and _gives(probe, variant, *theirs):
            act = case.activation
            expect = "tanh(w . x + b)" if act == "tanh" else "w . x + b, with no tanh"
            return _sentence(key, act=act, expect=expect)
    return ""


def _variants(case: _ModelCase) -> list[tuple[str, dict[str, Any]]]:
    if case.nouts is None:
        other = "linear" if case.activation == "tanh" else "tanh"
        return [("nn bias", {"bias": False}), ("nn activation", {"activation": other})]
    variants: list[tuple[str, dict[str, Any]]] = [("nn bias", {"bias": False}),
                                                  ("nn output activation", {"output": "tanh"})]
    if len(case.nouts) > 1:
        variants.append(("nn hidden linear", {"hidden": "linear"}))
    return variants


def _gives(case: _ModelCase, variant: dict[str, Any], yours: list[float], yours_grad: list[Any]) -> bool:
    """True when the library's model, changed by ``variant``, gives ``yours`` and ``yours_grad`` on ``case``."""
    model = case.reference(**variant)
    outs = model(case.inputs())
    outs = outs if isinstance(outs, list) else [outs]
    _total(outs).backward()
    no_bias = not variant.get("bias", True)  # a bias outside the sum gets no grad
    grads = [0.0 if no_bias and name.endswith("b") else p.grad for name, p in model.named_parameters()]
    return len(yours) == len(outs) and all(_close(y, o.data, rtol=1e-6) for y, o in zip(yours, outs)) and \
        all(_is_real(y) and _close(y, g, rtol=1e-6) for y, g in zip(yours_grad, grads))


def _model_picture(root: Value, params: list[tuple[str, Value]], yours_out: list[float], ref_outs: list[Value],
                   yours_grad: list[Any], grad_wrong: list[bool]) -> Callable[[], Any] | None:
    """The reference model's graph; the wrong output and the parameters with a wrong grad in red, with both numbers."""
    from ..engine import topological_order

    if len(topological_order(root)) > MAX_DRAWN_NODES:
        return None
    by_param = {id(p): (y, w) for (_, p), y, w in zip(params, yours_grad, grad_wrong)}
    by_out = {id(o): y for o, y in zip(ref_outs, yours_out)}

    def fields(i: int, v: Value, name: str) -> tuple[list[str], bool]:
        if id(v) in by_out and not _close(by_out[id(v)], v.data, rtol=1e-6):
            return [name, f"expected {fmt(v.data)}", f"yours {fmt(by_out[id(v)])}"], True
        if id(v) in by_param and by_param[id(v)][1]:
            return [name, f"data {fmt(v.data)}", f"expected grad {fmt(v.grad)}",
                    f"your grad {fmt(by_param[id(v)][0])}"], True
        return [name, f"data {fmt(v.data)}", f"grad {fmt(v.grad)}"], False

    return lambda: _graph_picture(root, fields, "wrong: expected and yours (grads of the sum of the outputs)")


def _check_model(check: str, cls: Any, neuron: bool, max_examples: int, seed: int, time_limit: float) -> Report:
    if not isinstance(cls, type) and not callable(cls):
        raise TypeError(f"{check}: expected your class, got {type(cls).__name__}")
    name = getattr(cls, "__name__", "model")
    time_limit = check_time_limit(check, time_limit)
    runs, failures = _search(check, _model_cases(neuron), lambda case: _grade_model(cls, name, case, time_limit),
                             max_examples, seed)
    return _report(check, runs, seed, failures)


def check_neuron(Neuron: Any, *, max_examples: int = 100, seed: int = 0, time_limit: float = 2.0) -> Report:  # noqa: N803
    """Grade a learner's ``Neuron`` class against ``nn.Neuron`` on drawn sizes, weights and inputs.

    ``Neuron(nin, activation="tanh")`` (activation ``"tanh"`` or ``"linear"``) must give
    ``parameters()``, the nin weights then the bias, and ``neuron(x)`` for a list of nin
    floats: a Value, tanh(w . x + b) or w . x + b. The check sets each parameter's ``.data``
    to a drawn number, runs the neuron, compares its output and, after ``backward()``, each
    parameter's grad with ``nn.Neuron``'s. Each call gets ``time_limit`` seconds; the same
    ``seed`` gives the same cases.
    """
    return _check_model("check_neuron", Neuron, True, max_examples, seed, time_limit)


def check_mlp(MLP: Any, *, max_examples: int = 100, seed: int = 0, time_limit: float = 2.0) -> Report:  # noqa: N803
    """Grade a learner's ``MLP`` class against ``nn.MLP(nin, nouts, activation="tanh")`` on drawn shapes.

    ``MLP(nin, nouts)`` (1 to 3 layers of 1 to 3 neurons are drawn) must use tanh on every
    layer but the last, which is linear; ``mlp(x)`` gives a Value when the last layer has
    one neuron, else a list of Values; ``parameters()`` lists layer by layer, neuron by
    neuron, each neuron's weights then its bias. The check sets the parameters to drawn
    numbers in that order, compares the outputs, and the grads of their sum after backward().
    """
    return _check_model("check_mlp", MLP, False, max_examples, seed, time_limit)


# ---- check_training_step ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _StepCase:
    """A library MLP's shape and parameters, the grads an earlier step left on them, a batch and a learning rate."""

    nin: int
    nouts: tuple[int, ...]
    weights: tuple[float, ...]
    stale: tuple[float, ...]
    xs: tuple[tuple[float, ...], ...]
    ys: tuple[float, ...]
    lr: float

    def model(self) -> nn.MLP:
        from .. import nn

        model = nn.MLP(self.nin, list(self.nouts), activation="tanh")
        for (name, p), w, g in zip(model.named_parameters(), self.weights, self.stale):
            p.data, p.grad, p.label = w, g, name
        return model

    @property
    def text(self) -> str:
        xs = "[" + ", ".join(_values_text(x) for x in self.xs) + "]"
        model = f"MLP({self.nin}, {list(self.nouts)})"
        return f"training_step({model}, xs={xs}, ys={_values_text(self.ys)}, lr={self.lr:g})"


def _step_cases() -> Any:
    from hypothesis import strategies as st

    from ..testing.strategies import floats

    @st.composite
    def draw(d: Any) -> _StepCase:
        nin = d(st.integers(1, 2))
        nouts = d(st.sampled_from([(1,), (2, 1)]))
        sizes = (nin,) + nouts
        n = sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(nouts)))
        weights = tuple(d(st.lists(floats(-1.5, 1.5), min_size=n, max_size=n)))
        stale = tuple(d(st.lists(floats(-1.0, 1.0), min_size=n, max_size=n)))
        batch = d(st.integers(1, 3))
        xs = tuple(tuple(d(st.lists(floats(-2.0, 2.0), min_size=nin, max_size=nin))) for _ in range(batch))
        ys = tuple(d(st.lists(floats(-2.0, 2.0), min_size=batch, max_size=batch)))
        return _StepCase(nin, nouts, weights, stale, xs, ys, d(st.sampled_from(_LRS)))

    return draw()


def _mse(model: nn.MLP, xs: Sequence[Sequence[float]], ys: Sequence[float]) -> Value:
    # written out, not F.mse_loss: the graph drawn is then the one the learner's step builds
    loss = Value(0.0)
    for x, y in zip(xs, ys):
        loss = loss + (model([Value(v, label=f"x[{i}]") for i, v in enumerate(x)]) - y) ** 2
    return loss / len(xs)


def _grade_step(step: Callable[..., Any], case: _StepCase, time_limit: float) -> _Failure | None:
    from .. import optim

    ref = case.model()
    opt = optim.SGD(ref.parameters(), lr=case.lr)
    opt.zero_grad()
    loss = _mse(ref, case.xs, case.ys)
    loss.backward()
    grads = [p.grad for p in ref.parameters()]
    opt.step()
    expected = [p.data for p in ref.parameters()]
    names = [n for n, _ in ref.named_parameters()]
    cx = Counterexample(case=case.text, inputs={}, note="the grads an earlier step left: " + _values_text(case.stale))
    model = case.model()
    ran = _call(step, time_limit, model, [list(x) for x in case.xs], list(case.ys), case.lr)
    if not ran.returned:
        return _failed(ran, time_limit, cx, case)
    yours = [p.data for p in model.parameters()]
    wrong = [not _close(y, e, rtol=1e-6) for y, e in zip(yours, expected)]
    returned = ran.value.data if isinstance(ran.value, Value) else ran.value
    loss_ok = _is_real(returned) and _close(returned, loss.data, rtol=1e-6)
    if not any(wrong) and loss_ok:
        return None
    cx.columns = ["parameter", "before", "grad left", "this step's grad", "expected after", "yours after"]
    for name, w, s, g, e, y, bad in zip(names, case.weights, case.stale, grads, expected, yours, wrong):
        cx.rows.append([name, w, s, g, e, y])
        cx.wrong.append(bad)
        cx.expected[name], cx.yours[name] = e, y
    cx.expected["loss"], cx.yours["loss"] = loss.data, returned
    cx.root = loss
    # the picture is the model on the first sample, not the whole loss: the parameters are what is wrong,
    # and the loss's chain of a sum, a square and a mean would only widen it
    picture_root = _total(_outputs(case.model()([Value(v, label=f"x[{i}]") for i, v in enumerate(case.xs[0])]),
                                   True) or [])
    moved = {name: (e, y, bad) for name, e, y, bad in zip(names, expected, yours, wrong)}
    if len(names) + 4 * sum(case.nouts) <= MAX_DRAWN_NODES:
        def fields(i: int, v: Value, name: str) -> tuple[list[str], bool]:
            if v.label in moved:
                e, y, bad = moved[v.label]
                if bad:
                    return [name, f"expected after {fmt(e)}", f"yours after {fmt(y)}"], True
                return [name, f"after {fmt(e)}"], False
            return [name, f"data {fmt(v.data)}"], False

        cx._draw = lambda: _graph_picture(picture_root, fields, "the model on the first sample; parameters wrong "
                                                                "after your step: expected and yours")
    return _Failure(_step_mistake(case, grads, yours, wrong, returned, loss.data, names, expected), cx, case)


def _step_mistake(case: _StepCase, grads: list[float], yours: list[float], wrong: list[bool], returned: Any,
                  loss: float, names: list[str], expected: list[float]) -> str:
    """Which classic mistake moves every parameter to where the learner's step moved it."""
    n = len(case.xs)
    candidates = [
        ("step zero_grad", [w - case.lr * (g + s) for w, g, s in zip(case.weights, grads, case.stale)]),
        ("step sign", [w + case.lr * g for w, g in zip(case.weights, grads)]),
        ("step lr twice", [w - case.lr * case.lr * g for w, g in zip(case.weights, grads)]),
        ("step sum", [w - case.lr * n * g for w, g in zip(case.weights, grads)]),
        ("step no update", list(case.weights)),
    ]
    if any(wrong):
        for key, moved in candidates:
            if all(_close(y, m, rtol=1e-6) for y, m in zip(yours, moved)):
                return _sentence(key)
        first = wrong.index(True)
        return _sentence("step wrong", name=names[first], yours=fmt(yours[first]), expected=fmt(expected[first]))
    if _is_real(returned) and n > 1 and _close(returned, loss * n, rtol=1e-6):
        return _sentence("step sum")
    shown = "None" if returned is None else fmt(returned)
    return _sentence("step loss", yours=shown, expected=fmt(loss))


def check_training_step(training_step: Callable[..., Any], *, max_examples: int = 100, seed: int = 0,
                        time_limit: float = 2.0) -> Report:
    """Grade a learner's ``training_step(model, xs, ys, lr)`` against ``optim.SGD`` on drawn models and batches.

    The step must make one step of gradient descent on the mean squared error
    (1/n) sum (model(x) - y)**2 over the batch ``xs``, ``ys``: reset every parameter's grad,
    ``backward()``, then p.data -= lr * p.grad; and return the loss (a Value or a number).
    It gets a ``nn.MLP`` (tanh hidden layers, a linear output) whose parameters hold drawn
    numbers and the grads an earlier step left on them, so a step that forgets to reset
    them shows. After the call each parameter is compared with one ``optim.SGD`` step's.
    """
    if not callable(training_step):
        raise TypeError(f"check_training_step: expected your function, got {type(training_step).__name__}")
    time_limit = check_time_limit("check_training_step", time_limit)
    runs, failures = _search("check_training_step", _step_cases(),
                             lambda case: _grade_step(training_step, case, time_limit), max_examples, seed)
    return _report("check_training_step", runs, seed, failures)
