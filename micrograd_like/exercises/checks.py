"""check_derivative, check_topological_order and check_backward: grade a learner's code on hypothesis-drawn cases."""

from __future__ import annotations

import contextlib
import inspect
import math
import numbers
import operator
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..engine import Value, topological_order
from ..ops import OPS
from ._limits import Outcome, call_with_time_limit, check_time_limit
from .report import MAX_DRAWN_NODES, Counterexample, Report, fmt, legend, mark_node

if TYPE_CHECKING:
    import graphviz

    from ..testing.strategies import Expression, _Node

__all__ = ["check_derivative", "check_backward", "check_topological_order", "MISTAKES"]

# The sentences that name a mistake. Tests look for them, and learners read them, so they are written once here.
MISTAKES = {
    "not written": "not written yet: your function raises NotImplementedError (replace the placeholder with your code)",
    "timeout": "your code did not return within {limit:g} s on this case: a loop that never ends? (a stack that "
               "never empties, a value visited again and again)",
    "raised": "your code raised {error}",
    "too deep": "the chain is deeper than the recursion limit (sys.getrecursionlimit() is {limit}): a recursive walk "
                "dies on it; walk the graph with a loop and a list as your own stack",
    "assigned": "a value used twice got one contribution: gradients are assigned, not added "
                "(write p.grad += ..., not p.grad = ...)",
    "skipped edges": "some edges passed nothing back: a value must pass its grad on to every one of its parents "
                     "(all of v.parents, each with its own entry of v.local_grads)",
    "forward order": "your pass walks the order forwards, leaves first: each value passed its grad on before the "
                     "values that use it had added theirs, so only the root's own parents got a grad (walk it "
                     "backwards, from the root: for v in reversed(order))",
    "not topological": "a parent was processed before all its children: the order is not topological (a value may "
                       "pass its grad on only after every value that uses it has added its part)",
    "never reset": "intermediate grads were never reset: a second backward() on the same graph adds onto the grads "
                   "left by the first, so they compound (set every non-leaf grad to 0 before the pass; leaves keep "
                   "theirs and accumulate)",
    "leaves reset": "leaf grads were reset: backward() should add to a leaf's grad, so two calls give twice the grad "
                    "(as in PyTorch); only the intermediate values start again from 0",
    "seed": "the root's grad should be 1 after the pass (d root / d root = 1): seed it before the loop",
    "not numbers": "some grads are not numbers after your backward ({example}): every grad must stay a float",
    "wrong grads": "some grads are wrong, though no classic mistake matches; walking back from the root, the first "
                   "wrong one is {name}'s (expected {expected}, yours {yours}): look at what each value that uses it "
                   "passes on",
    "order type": "your function returned {what}, not a list of the Values in the graph",
    "order missing": "{name} is missing from your order: list every value the root depends on, leaves included",
    "order extra": "your order has a value that is not in the graph",
    "order twice": "{name} is listed twice: remember which values you have visited, and list each once",
    "order reversed": "your order is reversed: parents come first and the root last",
    "order parent after": "{child} comes before its parent {parent}: a value must come after all its parents",
    "d none": "your derivative returned None: did you forget to return?",
    "d type": "your derivative returned {what}, not a number",
    "d count": "your derivative returned {got} for an op of {want} inputs: return one derivative per input, "
               "as a tuple in the order of the inputs",
    "d not finite": "your derivative returned {value} where the slope is {slope}",
    "d sign": "the sign is wrong ({names}): your derivative is minus the slope",
    "d input for output": "your rule is written in terms of the op's output but you gave it the input: "
                          "{rule}, so it needs the output {op}(x), not x",
    "d input for output partly": "you used the input x in a place where the op's output belongs: {rule}, and "
                                 "each {op}(x) in it is the output, not x",
    "d value": "you returned the op's value, not its derivative",
    "d swapped": "the derivatives are swapped: return them in the order of the inputs",
    "d factor": "your derivative is off by a factor of {factor:g} everywhere it was wrong",
    "d wrong": "your derivative is wrong for {names}: it gives {yours} where the slope is {slope}",
    # check_neuron, check_mlp and check_training_step (nn_checks.py)
    "nn params type": "{cls}.parameters() returned {what}, not a list of Values",
    "nn shared": "{n} of the parameters are one and the same Value: neurons share one weight list, so they compute "
                 "the same thing and learn alike (give each neuron a new list of new Values)",
    "nn bias params": "the bias is left out of parameters(): list each neuron's weights, then its bias, so that an "
                      "optimiser trains it too",
    "nn count": "{cls}.parameters() has {got} Values where a {shape} has {want} (each neuron: its weights, then its "
                "bias; neuron by neuron, layer by layer)",
    "nn missing layer": "parameters() is missing layer {layer} (its {n} Values): collect the parameters of every "
                        "layer, or an optimiser never trains that one",
    "nn output type": "{call} returned {what}, not a Value: compute with the Values themselves (not their .data) "
                      "so that backward() reaches the weights",
    "nn bias": "the bias is left out of the sum: a neuron computes activation(w . x + b)",
    "nn output activation": "the output layer has an activation: every layer but the last uses tanh, the last is "
                            "linear, so the network can output any number",
    "nn hidden linear": "the hidden layers have no activation: every layer but the last needs tanh, or the whole "
                        "network is one linear map",
    "nn activation": "the activation is wrong: with activation={act!r} the neuron should give {expect}",
    "nn wrong output": "{call} gives {yours} where it should be {expected}",
    "nn wrong grads": "the output is right, but d out/d {name} is {yours} where it should be {expected}: compute the "
                      "output from the parameters' Values themselves, each used once",
    "step loss": "your step returned {yours} where the loss (the mean over the batch of (model(x) - y) ** 2) is "
                 "{expected}: return the loss",
    "step zero_grad": "you did not reset the grads before backward(): backward() adds to each parameter's grad, so "
                      "the grads left by the previous step joined this step's (set every p.grad = 0 first)",
    "step sign": "the update's sign is flipped: your step climbs the loss; step against the gradient, "
                 "p.data -= lr * p.grad",
    "step lr twice": "the learning rate is applied twice: your parameters moved by lr * lr * grad, not lr * grad",
    "step sum": "your loss is the sum of the squared errors, not their mean: divide by the number of samples",
    "step no update": "the parameters did not change: update each parameter in place, p.data -= lr * p.grad",
    "step wrong": "after your step {name} is {yours} where it should be {expected}",
}


def _sentence(key: str, **kw: Any) -> str:
    return MISTAKES[key].format(**kw)


def _error_sentence(outcome: Outcome, limit: float) -> str:
    if outcome.timed_out:
        return _sentence("timeout", limit=limit)
    e = outcome.error
    if isinstance(e, NotImplementedError):
        return _sentence("not written")
    if isinstance(e, RecursionError):
        return _sentence("too deep", limit=sys.getrecursionlimit())
    text = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    return _sentence("raised", error=text)


def _todo(outcome: Outcome) -> str:
    """What the learner has still to write, when their code is the placeholder that raises NotImplementedError."""
    e = outcome.error
    if not isinstance(e, NotImplementedError):
        return ""
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "replace raise NotImplementedError() with your code"
    code = tb.tb_frame.f_code
    name = getattr(code, "co_qualname", code.co_name)  # Neuron.__init__ on Python 3.11+, __init__ before
    return f"write {name} (replace its raise NotImplementedError() with your code)"


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _close(yours: Any, expected: float, rtol: float = 1e-7, atol: float = 1e-9) -> bool:
    if not _is_real(yours):
        return False
    y = float(yours)
    if math.isnan(expected) or math.isnan(y):
        return math.isnan(expected) and math.isnan(y)
    if math.isinf(expected) or math.isinf(y):
        return y == expected
    return abs(y - expected) <= atol + rtol * max(abs(expected), abs(y))


# ---- running a search with hypothesis -------------------------------------------------------------


class _Failed(Exception):
    """Tells hypothesis that this case fails, so that it shrinks it."""


class _Stop(BaseException):
    """Stops hypothesis at once: the learner's code ran out of time, and shrinking would run it out again and again."""


@dataclass
class _Failure:
    mistake: str
    counterexample: Counterexample
    case: Any = None
    data: Any = None  # what a recogniser of the mistake needs
    timed_out: bool = False
    todo: str = ""  # the learner's code is still the placeholder: what to write

    @property
    def stops(self) -> bool:
        """No point shrinking: the learner's code runs out of time, or is not written, on every case."""
        return self.timed_out or bool(self.todo)


def _failed(outcome: Outcome, limit: float, counterexample: Counterexample, case: Any) -> _Failure:
    """The failure of a call that did not return: timed out, raised, or not written yet."""
    return _Failure(_error_sentence(outcome, limit), counterexample, case, timed_out=outcome.timed_out,
                    todo=_todo(outcome))


def _report(check: str, runs: int, seed: int, failures: list[_Failure], mistake: str = "") -> Report:
    """The Report of a search: passed when nothing failed; a short neutral one when the code is not written yet."""
    if not failures:
        return Report(check, True, runs, seed)
    last = failures[-1]
    if last.todo:
        return Report(check, False, runs, seed, last.mistake, None, todo=last.todo)
    return Report(check, False, runs, seed, mistake or last.mistake, last.counterexample)


def _search(name: str, strategy: Any, grade: Callable[[Any], _Failure | None], max_examples: int,
            seed: int) -> tuple[int, list[_Failure]]:
    """Run ``grade`` on cases drawn from ``strategy``: (cases run, failures as seen, the last one the smallest)."""
    # hypothesis is imported here, not at the top, so that `import micrograd_like` stays cheap
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed

    if not isinstance(max_examples, int) or max_examples < 1:
        raise ValueError(f"{name}: max_examples must be a positive int, got {max_examples!r}")
    if not isinstance(seed, int):
        raise TypeError(f"{name}: seed must be an int, got {type(seed).__name__}")
    runs = [0]
    failures: list[_Failure] = []

    @settings(max_examples=max_examples, database=None, deadline=None, derandomize=False, print_blob=False,
              verbosity=Verbosity.quiet, report_multiple_bugs=False, phases=(Phase.generate, Phase.shrink),
              suppress_health_check=list(HealthCheck))
    @hypothesis_seed(seed)
    @given(strategy)
    def probe(case: Any) -> None:
        runs[0] += 1
        failure = grade(case)
        if failure is not None:
            failures.append(failure)
            raise _Stop if failure.stops else _Failed

    try:
        with _no_local_constants():
            probe()
    except (_Failed, _Stop):
        pass
    except Exception:
        # hypothesis's own complaints (a flaky learner function, say) still leave the failures it saw
        if not failures:
            raise
    return runs[0], failures


# ---- graphs for check_backward and check_topological_order ---------------------------------------


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Keep hypothesis from mixing in constants read from the source of whatever local modules are imported.

    Hypothesis sometimes draws a number found in the code of modules loaded from outside
    site-packages, so the cases it draws for a seed would change with what else the notebook
    (or test run) has imported. Without them, a seed gives the same cases everywhere. This
    reaches into hypothesis's internals; if they change, the check still runs, only less
    reproducible across environments.
    """
    try:
        from hypothesis.internal.conjecture import providers

        original = providers._get_local_constants
        empty = providers.Constants(integers=providers.SortedSet(),
                                    floats=providers.SortedSet(key=providers.float_to_int),
                                    bytes=providers.SortedSet(), strings=providers.SortedSet())
        cache = providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError, TypeError):
        yield
        return
    cache.clear()
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()


@dataclass(frozen=True)
class _Case:
    """One graph to grade on: an expression over inputs x0, x1, ..., or a chain of ``chain`` additions."""

    expr: Expression | None
    inputs: tuple[float, ...]
    chain: int = 0
    passes: int = 1

    def build(self) -> Value:
        leaves = [Value(x, label=f"x{i}") for i, x in enumerate(self.inputs)]
        if self.expr is not None:
            return self.expr(*leaves)
        v = leaves[0]
        for _ in range(self.chain):
            v = v + 1.0
        return v

    @property
    def formula(self) -> str:
        if self.expr is None:
            return f"x0 + 1 + 1 + ... + 1, a chain of {self.chain} additions"
        from ..testing.strategies import _show

        return _show(self.expr.root)


def _classics() -> list[tuple[str, _Node, int]]:
    """The small graphs learners get wrong, tried first: (what it tests, expression, number of inputs)."""
    from ..testing.strategies import _Node

    x0, x1 = _Node("input", index=0), _Node("input", index=1)
    twice = _Node("+", (x0, x0))
    shared = _Node("tanh", (_Node("*", (x0, x1)),))
    return [
        ("a value used twice by one op", _Node("*", (x0, x0)), 1),
        ("a value used twice, then its result used twice", _Node("*", (twice, twice)), 1),
        ("a shared subexpression", _Node("+", (_Node("*", (shared, x0)), shared)), 2),
        ("a short chain", _Node("tanh", (_Node("tanh", (x0,)),)), 1),
    ]


def _chain_length() -> int:
    # deeper than any recursive walk can go at the current limit (capped: a raised limit needs no million-node chain)
    return min(sys.getrecursionlimit(), 20_000) + 200


def _cases(max_depth: int) -> Any:
    """Classic small graphs and random expressions, each graded after one or two backward passes.

    Hypothesis shrinks towards the first kind, so a mistake that shows on a classic
    graph is reported on it.
    """
    from hypothesis import assume
    from hypothesis import strategies as st

    from ..testing.strategies import Expression, expressions, floats

    classics = _classics()

    @st.composite
    def draw_case(draw: Any) -> _Case:
        kind = draw(st.sampled_from(["classic", "random"]))
        passes = draw(st.sampled_from([1, 2]))
        if kind == "classic":
            _, node, n = draw(st.sampled_from(classics))
            inputs = draw(st.tuples(*[floats(-2.0, 2.0)] * n))
            return _Case(Expression(node, n, inputs), inputs, passes=passes)
        expr = draw(expressions(max_inputs=3, max_depth=max_depth))
        # a lone input is no graph to backprop through (and a leaf root accumulates: a corner not worth grading)
        assume(expr.root.op != "input")
        return _Case(expr, expr.inputs, passes=passes)

    return draw_case()


def _graph_search(name: str, grade: Callable[[_Case], _Failure | None], max_examples: int, seed: int,
                  max_depth: int, passes: tuple[int, ...]) -> tuple[int, list[_Failure]]:
    """Small graphs first, through hypothesis; then, if they all pass, a chain deeper than the recursion limit.

    The chain comes last so that a mistake that shows on small graphs is reported on a
    small graph, which can be drawn. It runs outside hypothesis, which raises the
    recursion limit while a test runs: the learner's code meets the limit it will live with.
    """
    runs, failures = _search(name, _cases(max_depth), grade, max_examples, seed)
    if failures:
        return runs, failures
    for n in passes:
        runs += 1
        failure = grade(_Case(None, (1.0,), chain=_chain_length(), passes=n))
        if failure is not None:
            return runs, [failure]
    return runs, []


def _graph_picture(root: Value, fields: Callable[[int, Value, str], tuple[list[str], bool]],
                   caption: str) -> graphviz.Digraph:
    """``viz.draw_graph(root)``, each node's record replaced by ``fields(index, value, name)``, wrong ones red."""
    from .. import viz

    g = viz.draw_graph(root)
    names = viz.node_names(root)
    any_wrong = False
    for i, v in enumerate(topological_order(root)):
        cells, wrong = fields(i, v, names[v])
        any_wrong |= wrong
        mark_node(g, f"v{i}", cells, wrong)  # draw_graph's node ids are v<index in topological order>
    legend(g, caption, swatch=any_wrong)  # a swatch no node wears would only puzzle
    return g


def _counterexample(case: _Case, root: Value, note: str) -> Counterexample:
    inputs = {f"x{i}": x for i, x in enumerate(case.inputs)}
    return Counterexample(case=case.formula, inputs=inputs, root=root, note=note)


def _passes_note(case: _Case) -> str:
    return "backward() called twice on the same graph" if case.passes == 2 else "backward() called once"


# ---- check_backward --------------------------------------------------------------------------------


def _run_backward(backward: Callable[[Value], Any], case: _Case, passes: int,
                  time_limit: float) -> tuple[Value, list[Value], Outcome]:
    root = case.build()
    order = topological_order(root)
    outcome = Outcome()
    for _ in range(passes):
        outcome = call_with_time_limit(backward, (root,), time_limit)
        if not outcome.returned:
            break
    return root, order, outcome


def _expected(case: _Case, passes: int) -> tuple[Value, list[Value]]:
    root = case.build()
    for _ in range(passes):
        root.backward()
    return root, topological_order(root)


def _grade_backward(backward: Callable[[Value], Any], case: _Case, time_limit: float) -> _Failure | None:
    root_e, order_e = _expected(case, case.passes)
    _, order_l, outcome = _run_backward(backward, case, case.passes, time_limit)
    if not outcome.returned:
        cx = _counterexample(case, root_e, _passes_note(case))
        if len(order_e) <= MAX_DRAWN_NODES:
            cx._draw = lambda: _graph_picture(root_e, lambda i, v, n: ([n, f"data {fmt(v.data)}",
                                                                          f"expected grad {fmt(v.grad)}"], False),
                                              "the graph your code failed on, with the grads it should give")
        return _failed(outcome, time_limit, cx, case)
    yours = [v.grad for v in order_l]
    expected = [v.grad for v in order_e]
    wrong = [not _close(y, e) for y, e in zip(yours, expected)]
    if not any(wrong):
        return None
    mistake = _diagnose_backward(backward, case, order_l, yours, expected, wrong, time_limit)
    return _Failure(mistake, _backward_counterexample(case, root_e, order_e, yours, wrong), case)


def _backward_counterexample(case: _Case, root: Value, order: list[Value], yours: list[Any],
                             wrong: list[bool]) -> Counterexample:
    from ..viz import node_names

    names = node_names(root)
    cx = _counterexample(case, root, _passes_note(case))
    cx.columns = ["value", "op", "data", "expected grad", "your grad"]
    shown = [i for i in range(len(order)) if wrong[i]][:12] if len(order) > 20 else list(range(len(order)))
    if len(order) > 20:
        cx.note += f"; {len(order)} values, only wrong ones listed"
    for i in shown:
        v = order[i]
        cx.rows.append([names[v], v.op, v.data, v.grad, yours[i]])
        cx.wrong.append(wrong[i])
    for i, v in enumerate(order):
        cx.expected[names[v]] = v.grad
        cx.yours[names[v]] = yours[i]
    if len(order) <= MAX_DRAWN_NODES:
        def fields(i: int, v: Value, name: str) -> tuple[list[str], bool]:
            if wrong[i]:
                return [name, f"data {fmt(v.data)}", f"expected grad {fmt(v.grad)}", f"your grad {fmt(yours[i])}"], True
            return [name, f"data {fmt(v.data)}", f"grad {fmt(v.grad)}"], False

        cx._draw = lambda: _graph_picture(root, fields, "wrong grad: expected and yours (the others are right)")
    return cx


def _diagnose_backward(backward: Callable[[Value], Any], case: _Case, order: list[Value], yours: list[Any],
                       expected: list[float], wrong: list[bool], time_limit: float) -> str:
    bad = [(v, y) for v, y in zip(order, yours) if not _is_real(y)]
    if bad:
        v, y = bad[0]
        return _sentence("not numbers", example=f"{v.label or 'a value'}.grad is {fmt(y)}")
    if case.passes == 2:
        _, order1, outcome = _run_backward(backward, case, 1, time_limit)
        if not outcome.returned:
            return _error_sentence(outcome, time_limit)
        _, order_e1 = _expected(case, 1)
        once = [v.grad for v in order1]
        if all(_close(y, e.grad) for y, e in zip(once, order_e1)):
            # one pass is right, so the mistake is in what a pass does with the grads left by the one before
            if any(w and not v.is_leaf for v, w in zip(order, wrong)):
                return _sentence("never reset")
            if all(_close(y, o) for v, y, o, w in zip(order, yours, once, wrong) if w):
                return _sentence("leaves reset")
            return _first_wrong(order, yours, expected)
        # one pass is wrong already: name what it does wrong
        order, yours, expected = order1, once, [e.grad for e in order_e1]
    root = order[-1]
    if not root.is_leaf and not _close(yours[-1], 1.0):
        return _sentence("seed")
    from .bugs import walked_forwards

    if _acts_like(backward, walked_forwards, [case], time_limit):
        return _sentence("forward order")
    mistake = _chain_rule_mistake(order, yours)
    if mistake == _sentence("not topological") and not _matches_an_unordered_pass(case, yours):
        mistake = ""  # the grads break the chain rule, but not the way a known wrong order does
    if mistake == _sentence("assigned") and not _assigns_everywhere(backward, time_limit):
        mistake = ""  # on this small case another mistake looks like it; a sentence must not guess
    return mistake or _first_wrong(order, yours, expected)


def _assigns_everywhere(backward: Callable[[Value], Any], time_limit: float) -> bool:
    """True when ``backward`` gives exactly the grads of an assigning pass on every classic graph.

    The smallest failing case can mislead: at x0 = 0.5 in (x0 + x0) * (x0 + x0), using a
    value's data where its local derivative belongs gives the grads an assigning pass gives.
    Inputs chosen away from 0, 1/2 and 1, where such coincidences live, tell them apart.
    """
    from .bugs import assigned_not_accumulated

    return _acts_like(backward, assigned_not_accumulated, [], time_limit)


def _acts_like(backward: Callable[[Value], Any], bug: Callable[[Value], None], cases: list[_Case],
               time_limit: float) -> bool:
    """True when one pass of ``backward`` gives exactly the grads ``bug`` gives on ``cases`` and every classic graph."""
    from ..testing.strategies import Expression

    tried = [_Case(c.expr, c.inputs, c.chain) for c in cases]
    for _, node, n in _classics():
        inputs = (0.7, -1.3)[:n]
        tried.append(_Case(Expression(node, n, inputs), inputs))
    for case in tried:
        _, order, outcome = _run_backward(backward, case, 1, time_limit)
        if not outcome.returned:
            return False
        _, order_bug, _ = _run_backward(bug, case, 1, time_limit)
        if not all(_is_real(v.grad) and _close(v.grad, b.grad) for v, b in zip(order, order_bug)):
            return False
    return True


def _matches_an_unordered_pass(case: _Case, yours: list[float]) -> bool:
    """True when a pass in a non-topological order (recursive, depth-first, breadth-first) gives ``yours``."""

    def recursive(v: Value) -> None:
        for p, local in zip(v.parents, v.local_grads):
            p.grad += v.grad * local
            recursive(p)

    def depth_first(v: Value, seen: set[int]) -> None:
        for p, local in zip(v.parents, v.local_grads):
            p.grad += v.grad * local
            if id(p) not in seen:
                seen.add(id(p))
                depth_first(p, seen)

    def breadth_first(root: Value) -> None:
        queue, seen = [root], {id(root)}
        while queue:
            v = queue.pop(0)
            for p, local in zip(v.parents, v.local_grads):
                p.grad += v.grad * local
                if id(p) not in seen:
                    seen.add(id(p))
                    queue.append(p)

    walks: list[Callable[[Value], None]] = [recursive, lambda r: depth_first(r, {id(r)}), breadth_first]
    for walk in walks:
        root = case.build()
        root.grad = 1.0
        try:
            walk(root)
        except RecursionError:
            continue
        if all(_close(y, v.grad) for y, v in zip(yours, topological_order(root))):
            return True
    return False


def _first_wrong(order: list[Value], yours: list[float], expected: list[float]) -> str:
    """The generic sentence, naming the wrong grad nearest the root: the mistake is at it or just below it."""
    from ..viz import node_names

    names = node_names(order[-1])
    for v, y, e in zip(reversed(order), reversed(yours), reversed(expected)):
        if not _close(y, e):
            return _sentence("wrong grads", name=names[v], expected=fmt(e), yours=fmt(y))
    return _sentence("wrong grads", name="?", expected="?", yours="?")


def _chain_rule_mistake(order: list[Value], yours: list[float]) -> str:
    """Which mistake explains grads that break the chain rule when read against each other.

    After a right pass every value's grad is the sum, over the edges to the values that
    use it, of (that value's grad) * (the edge's local derivative). Processed in
    topological order but with ``=`` for ``+=``, a value keeps one of those terms;
    processed before all its users are done, it has passed on a grad that was not final.
    '' when neither explains them; a grad of 0 where a term is 0 proves nothing (the learner
    may have skipped edges), so it never counts as assigned.
    """
    index = {id(v): i for i, v in enumerate(order)}
    terms: list[list[float]] = [[] for _ in order]
    for i, v in enumerate(order):
        for p, local in zip(v.parents, v.local_grads):
            terms[index[id(p)]].append(yours[i] * local)
    broken = [i for i in range(len(order) - 1) if not _close(yours[i], math.fsum(terms[i]))]
    if not broken:
        return ""
    if all(len(terms[i]) > 1 and yours[i] and any(_close(yours[i], t) for t in terms[i]) for i in broken):
        return _sentence("assigned")
    if all(_is_part_of(yours[i], terms[i]) for i in broken):
        return _sentence("skipped edges")
    if any(yours[i] == 0 for i in broken):
        return ""
    return _sentence("not topological")


def _is_part_of(total: float, terms: list[float]) -> bool:
    """True when ``total`` is the sum of some of ``terms`` but not all (none counts): edges were left out."""
    if len(terms) > 12:
        return False
    partial = [0.0]  # the sums of every subset of the terms seen so far; the last is the sum of them all
    for t in terms:
        partial = partial + [p + t for p in partial]
    return any(_close(total, p) for p in partial[:-1])


def check_backward(backward: Callable[[Value], Any], *, max_examples: int = 100, seed: int = 0,
                   time_limit: float = 2.0, max_depth: int = 4) -> Report:
    """Grade a learner's ``backward(root)`` against the engine's on random graphs.

    ``backward(root)`` must fill ``.grad`` of every Value ``root`` depends on, reading
    only ``parents`` and ``local_grads``; as ``Value.backward`` it resets intermediate
    grads and accumulates into leaves, so calling it twice doubles the leaves' grads.
    The graphs: the classic traps (a value used twice, ``(a + a) * (a + a)``, a shared
    subexpression), random expressions from ``testing.strategies`` up to ``max_depth``,
    and a chain deeper than the recursion limit; each after one or two passes. Each call
    gets ``time_limit`` seconds. The same ``seed`` gives the same cases, and the same
    failing case for the same code.
    """
    if not callable(backward):
        raise TypeError(f"check_backward: backward must be a function of the root, got {type(backward).__name__}")
    time_limit = check_time_limit("check_backward", time_limit)
    runs, failures = _graph_search("check_backward", lambda case: _grade_backward(backward, case, time_limit),
                                   max_examples, seed, max_depth, passes=(1, 2))
    return _report("check_backward", runs, seed, failures)


# ---- check_topological_order -----------------------------------------------------------------------


def _grade_order(topological_order_fn: Callable[[Value], Any], case: _Case, time_limit: float) -> _Failure | None:
    from ..viz import node_names

    root = case.build()
    truth = topological_order(root)
    names = node_names(root)
    outcome = call_with_time_limit(topological_order_fn, (root,), time_limit)
    cx = _counterexample(case, root, "")
    small = len(truth) <= MAX_DRAWN_NODES
    if not outcome.returned:
        if small:
            cx._draw = lambda: _graph_picture(root, lambda i, v, n: ([n, f"data {fmt(v.data)}"], False),
                                              "the graph your code failed on")
        return _failed(outcome, time_limit, cx, case)
    got = outcome.value
    if not isinstance(got, (list, tuple)) or not all(isinstance(v, Value) for v in got):
        what = "a list with things that are not Values" if isinstance(got, (list, tuple)) else f"a {type(got).__name__}"
        return _Failure(_sentence("order type", what="None" if got is None else what), cx, case)
    position: dict[int, list[int]] = {}
    for k, v in enumerate(got):
        position.setdefault(id(v), []).append(k)
    in_graph = {id(v) for v in truth}
    mistake, wrong_ids = "", set()
    missing = [v for v in truth if id(v) not in position]
    twice = [v for v in truth if len(position.get(id(v), ())) > 1]
    if missing:
        mistake, wrong_ids = _sentence("order missing", name=names[missing[0]]), {id(v) for v in missing}
    elif any(id(v) not in in_graph for v in got):
        mistake = _sentence("order extra")
    elif twice:
        mistake, wrong_ids = _sentence("order twice", name=names[twice[0]]), {id(v) for v in twice}
    else:
        late = [(v, p) for v in truth for p in v.parents if position[id(p)][0] > position[id(v)][0]]
        if not late:
            return None
        ok_reversed = all(position[id(p)][0] < position[id(v)][0] for v in truth for p in v.parents)
        if not ok_reversed and all(position[id(p)][0] > position[id(v)][0] for v in truth for p in v.parents):
            mistake = _sentence("order reversed")
        else:
            mistake = _sentence("order parent after", child=names[late[0][0]], parent=names[late[0][1]])
        wrong_ids = {id(v) for v, _ in late}
    cx.columns = ["value", "op", "position in your order"]
    for v in truth:
        pos = position.get(id(v), [])
        cx.rows.append([names[v], v.op, ", ".join(map(str, pos)) or "missing"])
        cx.wrong.append(id(v) in wrong_ids)
        cx.yours[names[v]] = pos
        cx.expected[names[v]] = "after " + (", ".join(names[p] for p in v.parents) or "nothing")
    if small:
        def fields(i: int, v: Value, name: str) -> tuple[list[str], bool]:
            pos = position.get(id(v), [])
            return [name, f"data {fmt(v.data)}", "your position " + (", ".join(map(str, pos)) or "missing")], \
                id(v) in wrong_ids

        caption = "listed too early, twice or not at all (arrows: parent to child)"
        cx._draw = lambda: _graph_picture(root, fields, caption)
    return _Failure(mistake, cx, case)


def check_topological_order(topological_order: Callable[[Value], Any], *, max_examples: int = 100, seed: int = 0,
                            time_limit: float = 2.0, max_depth: int = 4) -> Report:
    """Grade a learner's ``topological_order(root)``: every Value ``root`` depends on, once, parents first, root last.

    Runs on the graphs ``check_backward`` uses (the deep chain included) and reports the
    smallest where the list is wrong, with each value's position in it drawn on the graph.
    """
    if not callable(topological_order):
        raise TypeError("check_topological_order: expected a function of the root, got "
                        f"{type(topological_order).__name__}")
    time_limit = check_time_limit("check_topological_order", time_limit)
    runs, failures = _graph_search("check_topological_order",
                                   lambda case: _grade_order(topological_order, case, time_limit),
                                   max_examples, seed, max_depth, passes=(1,))
    return _report("check_topological_order", runs, seed, failures)


# ---- check_derivative ------------------------------------------------------------------------------


@dataclass
class _DerivativeSpec:
    """What check_derivative knows of the function whose derivative is asked for."""

    title: str
    names: list[str]
    forward: Callable[..., float]  # of the flat inputs
    rule: Callable[..., tuple[float, ...]] | None  # the engine's derivative, when the op is named
    strategy: Any
    nary: bool = False
    params: list[str] = field(default_factory=list)
    op_name: str = ""
    domain: tuple[float, float] = (-3.0, 3.0)


def _spec(op: str | Callable[..., float], arity: int | None, domain: tuple[float, float]) -> _DerivativeSpec:
    from hypothesis import strategies as st

    from ..testing.strategies import floats, op_inputs

    if isinstance(op, str):
        if op not in OPS:
            raise KeyError(f"check_derivative: no op named {op!r}; the table has {sorted(OPS)}")
        o = OPS[op]
        if o.arity == -1:
            return _DerivativeSpec(
                f"check_derivative({op!r})", [], lambda *xs: o.forward(xs),
                lambda out, *xs: o.derivative(out, xs), op_inputs(op), nary=True, op_name=op)
        names = ["x"] if o.arity == 1 else ["a", "b"]
        n_params = len(o.params)

        def forward(*args: float) -> float:
            return o.forward(*args)

        def rule(out: float, *args: float) -> tuple[float, ...]:
            return o.derivative(out, *args)

        return _DerivativeSpec(f"check_derivative({op!r})", names, forward, rule, op_inputs(op),
                               params=list(o.params)[:n_params], op_name=op)
    if not callable(op):
        raise TypeError(f"check_derivative: op must be an op's name or a function of floats, got {type(op).__name__}")
    if arity is None:
        try:
            sig = inspect.signature(op)
        except (TypeError, ValueError):
            raise TypeError("check_derivative: cannot read how many inputs op takes; pass arity=") from None
        ps = [p for p in sig.parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
        if any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values()) or not ps:
            raise TypeError("check_derivative: cannot tell how many inputs op takes; pass arity=")
        names = [p.name for p in ps]
    else:
        if not isinstance(arity, int) or arity < 1:
            raise ValueError(f"check_derivative: arity must be a positive int, got {arity!r}")
        names = [f"x{i}" for i in range(arity)] if arity > 1 else ["x"]
    lo, hi = domain
    if not lo < hi:
        raise ValueError(f"check_derivative: domain must be (low, high) with low < high, got {domain!r}")
    title = f"check_derivative({getattr(op, '__name__', 'f')})"
    strategy = st.tuples(st.tuples(*[floats(lo, hi)] * len(names)), st.just(()))
    return _DerivativeSpec(title, names, op, None, strategy, domain=(lo, hi))


def _numeric(forward: Callable[..., float], xs: Sequence[float], params: Sequence[float]) -> list[float]:
    out = []
    for i, x in enumerate(xs):
        h = 1e-6 * max(1.0, abs(x))
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        out.append((forward(*up, *params) - forward(*down, *params)) / (2 * h))
    return out


def _grade_derivative(spec: _DerivativeSpec, derivative: Callable[..., Any], case: Any,
                      time_limit: float) -> _Failure | None:
    xs, params = case
    xs, params = list(xs), list(params)
    names = spec.names or [f"x{i}" for i in range(len(xs))]
    out = spec.forward(*xs, *params)
    numeric = _numeric(spec.forward, xs, params)
    expected = list(spec.rule(out, *xs, *params)) if spec.rule else numeric
    args = (tuple(xs),) if spec.nary else (*xs, *params)
    outcome = call_with_time_limit(derivative, args, time_limit)
    shown_inputs = dict(zip(names, xs)) | dict(zip(spec.params, params))
    call = _call_text(spec, names, params)
    cx = Counterexample(case=call, inputs=shown_inputs)
    cx.columns = ["input", "value", "expected d/d input", "central difference", "yours"]
    failure = _Failure("", cx, case, data=None)
    if not outcome.returned:
        return _failed(outcome, time_limit, cx, case)
    got = outcome.value
    if got is None:
        failure.mistake = _sentence("d none")
        return failure
    values = list(got) if isinstance(got, (tuple, list)) else [got]
    if isinstance(got, (str, bytes)) or not all(_is_real(v) for v in values):
        bad = got if not isinstance(got, (tuple, list)) else next(v for v in values if not _is_real(v))
        failure.mistake = _sentence("d type", what=f"a {type(bad).__name__} ({fmt(bad)})")
        return failure
    if len(values) != len(xs):
        failure.mistake = _sentence("d count", got=f"{len(values)} value" + "s" * (len(values) != 1), want=len(xs))
        return failure
    wrong = [not (_close(y, e, rtol=1e-6) if spec.rule else _close(y, e, rtol=1e-4, atol=1e-5))
             for y, e in zip(values, expected)]
    if not any(wrong):
        return None
    for n, x, e, num, y, w in zip(names, xs, expected, numeric, values, wrong):
        cx.rows.append([n, x, e, num, y])
        cx.wrong.append(w)
        cx.expected[n] = e
        cx.yours[n] = y
    cx._draw = lambda: _derivative_picture(spec, names, xs, params, out, expected, values, wrong)
    failure.data = (xs, params, out, expected, [float(v) for v in values])
    failure.mistake = _sentence("d wrong", names=", ".join(n for n, w in zip(names, wrong) if w),
                                yours=", ".join(fmt(float(v)) for v, w in zip(values, wrong) if w),
                                slope=", ".join(fmt(e) for e, w in zip(expected, wrong) if w))
    return failure


def _call_text(spec: _DerivativeSpec, names: list[str], params: list[float]) -> str:
    """How the op is written: ``a / b``, ``x ** 2``, ``tanh(x)``, ``softmax0(a, b, c)``."""
    op = spec.op_name
    if op in ("+", "-", "*", "/") and len(names) == 2:
        return f"{names[0]} {op} {names[1]}"
    if op == "**":
        return f"{names[0]} ** {fmt(params[0])}"
    if op == "pow":
        return f"{names[0]} ** {names[1]}"
    if spec.nary:
        return f"{op}({', '.join(names)})"
    args = list(names) + [fmt(p) for p in params]
    return f"{op or spec.title[len('check_derivative('):-1]}({', '.join(args)})"


def _derivative_picture(spec: _DerivativeSpec, names: list[str], xs: list[float], params: list[float], out: float,
                        expected: list[float], yours: list[float], wrong: list[bool]) -> graphviz.Digraph:
    """The op as a one-node graph: its inputs, with the expected slope and the learner's on each wrong one."""
    from ..viz import _graphviz

    graphviz = _graphviz()
    g = graphviz.Digraph("derivative", graph_attr={"rankdir": "LR", "nodesep": "0.25", "ranksep": "0.4"},
                         node_attr={"fontname": "Helvetica", "fontsize": "11"}, edge_attr={"color": "#4a5568"})
    label = spec.op_name or "f"
    g.node("op", label=label, shape="circle" if len(label) <= 2 else "ellipse", style="filled", fillcolor="#edf2f7",
           fontsize="10")
    g.node("out", shape="record", style="rounded,filled", fillcolor="white")
    mark_node(g, "out", ["out", f"data {fmt(out)}"], False)
    g.edge("op", "out")
    for i, (n, x) in enumerate(zip(names, xs)):
        g.node(f"in{i}", shape="record", style="rounded,filled", fillcolor="white")
        if wrong[i]:
            mark_node(g, f"in{i}", [n, f"data {fmt(x)}", f"expected d out/d {n} {fmt(expected[i])}",
                                    f"yours {fmt(yours[i])}"], True)
        else:
            mark_node(g, f"in{i}", [n, f"data {fmt(x)}", f"d out/d {n} {fmt(expected[i])}"], False)
        g.edge(f"in{i}", "op", label=fmt(yours[i]), fontsize="9", fontcolor="#c53030" if wrong[i] else "#2f855a")
    for j, (pn, p) in enumerate(zip(spec.params, params)):
        g.node(f"p{j}", label=f"{pn} {fmt(p)}", shape="plaintext")
        g.edge(f"p{j}", "op", style="dashed")
    legend(g, "wrong derivative: expected and yours (edges: your local derivative)")
    return g


class _Slot:
    """Stands for the op's output inside its derivative rule and counts its uses: use i reads ``choose(i)``.

    A rule is plain arithmetic on its arguments (``out * (1.0 - out)``), so passing a _Slot
    as ``out`` finds each place the output is read, and can put the input in some of them:
    the rule as a learner writes it who uses x in one place where the output belongs.
    """

    def __init__(self, choose: Callable[[int], float]) -> None:
        self.uses = 0
        self._choose = choose

    def value(self) -> float:
        v = self._choose(self.uses)
        self.uses += 1
        return v

    def __float__(self) -> float:
        return self.value()

    def __bool__(self) -> bool:
        return bool(self.value())

    def __neg__(self) -> float:
        return -self.value()

    def __abs__(self) -> float:
        return abs(self.value())

    __hash__ = None  # type: ignore[assignment]


def _slot_binary(name: str) -> Callable[[_Slot, Any], Any]:
    def method(self: _Slot, other: Any) -> Any:
        mine = self.value()
        if isinstance(other, _Slot):
            other = other.value()
        return getattr(operator, name)(mine, other) if not name.startswith("r") else \
            getattr(operator, name[1:])(other, mine)
    return method


for _name in ("add", "sub", "mul", "truediv", "pow", "lt", "le", "gt", "ge", "eq", "ne"):
    setattr(_Slot, f"__{_name}__", _slot_binary(_name))
for _name in ("add", "sub", "mul", "truediv", "pow"):
    setattr(_Slot, f"__r{_name}__", _slot_binary("r" + _name))


def _rule_with_input(o: Any, x: float, out: float, mask: int) -> tuple[float, ...] | None:
    """The rule of unary op ``o`` at x, with x read in the places of the output whose bit is set in ``mask``."""
    slot = _Slot(lambda i: x if mask >> i & 1 else out)
    try:
        return tuple(float(v) for v in o.derivative(slot, x))
    except (ArithmeticError, ValueError, TypeError):
        return None


def _output_uses(o: Any) -> int:
    """How many times the rule of unary op ``o`` reads the op's output (0: it is written in the input alone)."""
    slot = _Slot(lambda i: 0.5)
    try:
        [float(v) for v in o.derivative(slot, 0.5)]  # a rule may return the output itself: reading it is a use
    except (ArithmeticError, ValueError, TypeError):
        return 0
    return slot.uses


def _probe_points(spec: _DerivativeSpec, n: int) -> list[list[float]]:
    """A few fixed inputs away from 0, 1/2 and 1, where different mistakes give different numbers."""
    if spec.op_name:
        bases = [0.7, -1.3, 1.9, 0.45]
    else:
        lo, hi = spec.domain
        bases = [lo + (hi - lo) * f for f in (0.62, 0.29, 0.83, 0.41)]
    return [[bases[(k + i) % len(bases)] for i in range(n)] for k in range(3)]


def _probe_data(spec: _DerivativeSpec, derivative: Callable[..., Any], seen: list[Any],
                time_limit: float) -> list[Any]:
    """(xs, params, out, expected, yours) at the probe points, where the op and the learner's code both answer."""
    if spec.nary or not seen:
        return []
    params = list(seen[0][1])
    data = []
    for xs in _probe_points(spec, len(seen[0][0])):
        try:
            out = float(spec.forward(*xs, *params))
            expected = list(spec.rule(out, *xs, *params)) if spec.rule else _numeric(spec.forward, xs, params)
        except (ArithmeticError, ValueError, TypeError):
            continue
        if not (math.isfinite(out) and all(math.isfinite(e) for e in expected)):
            continue
        outcome = call_with_time_limit(derivative, (*xs, *params), time_limit)
        got = outcome.value if outcome.returned else None
        values: list[Any] = list(got) if isinstance(got, (tuple, list)) else [got]
        if len(values) == len(xs) and all(_is_real(v) for v in values):
            data.append((xs, params, out, [float(e) for e in expected], [float(v) for v in values]))
    return data


def _recognise_derivative(spec: _DerivativeSpec, derivative: Callable[..., Any], failures: list[_Failure],
                          time_limit: float) -> str:
    """A sentence for a mistake that explains every failing point seen, or '' when none does.

    The points shrinking ends on (0, 1, small whole numbers) are where mistakes look alike:
    at x = 0 sigmoid's ``s * (1 - x)`` is the op's value. So every explanation must also hold
    at a few fixed points away from them.
    """
    seen = [f.data for f in failures if f.data is not None]
    if not seen:
        return ""
    seen = seen + _probe_data(spec, derivative, seen, time_limit)

    def everywhere(test: Callable[[Any], bool]) -> bool:
        return all(test(d) for d in seen)

    def same(a: Sequence[float] | None, b: Sequence[float]) -> bool:
        return a is not None and len(a) == len(b) and all(_close(x, y, rtol=1e-6) for x, y in zip(a, b))

    def flipped(d: Any) -> bool:  # every wrong derivative is minus the right one
        return all(_close(y, -e) for y, e in zip(d[4], d[3]) if not _close(y, e))

    if everywhere(flipped):
        names = spec.names or [f"x{i}" for i in range(len(seen[0][4]))]
        flips = [n for i, n in enumerate(names) if any(not _close(d[4][i], d[3][i]) for d in seen)]
        return _sentence("d sign", names="d/d" + ", d/d".join(flips))
    o = OPS.get(spec.op_name)
    uses = _output_uses(o) if o is not None and o.arity == 1 and not o.params else 0
    if o is not None and 0 < uses <= 6:
        rule = o.doc.split(": ", 1)[-1] if ": " in o.doc else o.doc
        everywhere_out = (1 << uses) - 1
        for mask in range(everywhere_out, 0, -1):  # every output read as x first, then fewer
            def gives(d: Any, m: int = mask) -> bool:
                return same(_rule_with_input(o, d[0][0], d[2], m), d[4])

            if everywhere(gives):
                key = "d input for output" if mask == everywhere_out else "d input for output partly"
                return _sentence(key, rule=rule, op=o.name)
    if everywhere(lambda d: same(d[4], [d[2]] * len(d[4]))):
        return _sentence("d value")
    if everywhere(lambda d: len(d[4]) == 2 and same(d[4], d[3][::-1])):
        return _sentence("d swapped")
    ratios = {round(y / e, 6) for d in seen for y, e in zip(d[4], d[3]) if e and not _close(y, e)}
    if len(ratios) == 1 and 0.0 not in ratios:
        factor = next(iter(ratios))
        if all(_close(y, e) or (e and _close(y / e, factor, rtol=1e-5)) for d in seen for y, e in zip(d[4], d[3])):
            return _sentence("d factor", factor=factor)
    return ""


def check_derivative(op: str | Callable[..., float], derivative: Callable[..., Any], *, arity: int | None = None,
                     domain: tuple[float, float] = (-3.0, 3.0), max_examples: int = 100, seed: int = 0,
                     time_limit: float = 2.0) -> Report:
    """Grade a learner's derivative of ``op`` on inputs hypothesis draws across its domain.

    ``op`` names an op of the engine (``"tanh"``, ``"/"``, ``"**"``, a key of
    ``ops.OPS``), whose domain the op table gives, or is a plain function of floats,
    drawn on ``domain``. ``derivative`` takes the same inputs (and an op's parameters,
    the exponent of ``"**"``; an op of many inputs gets them as one tuple) and returns
    d op / d input: a float, or a tuple with one per input. It is compared with the
    engine's own rule when ``op`` is a name, with central differences
    (f(x + h) - f(x - h)) / 2h otherwise; both are in the report.
    """
    spec = _spec(op, arity, domain)
    if not callable(derivative):
        raise TypeError(f"check_derivative: derivative must be a function, got {type(derivative).__name__}")
    time_limit = check_time_limit(spec.title, time_limit)
    runs, failures = _search(spec.title, spec.strategy,
                             lambda case: _grade_derivative(spec, derivative, case, time_limit), max_examples, seed)
    mistake = ""
    if failures and failures[-1].data is not None:
        mistake = _recognise_derivative(spec, derivative, failures, time_limit)
    return _report(spec.title, runs, seed, failures, mistake)
