"""The backprop stepper equals backward(), and explain() writes the chain rule with numbers."""

import math
import re
import struct

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import micrograd_like as mg
from micrograd_like.engine import _sends
from micrograd_like.flipbook import flipbook, step_svgs, stepper
from micrograd_like.testing.strategies import expressions
from micrograd_like.trace import backward_steps, explain


@settings(max_examples=80, deadline=None)
@given(expr=expressions())
def test_consuming_all_steps_gives_exactly_the_backward_gradients(expr):
    a = [mg.Value(x) for x in expr.inputs]
    b = [mg.Value(x) for x in expr.inputs]
    out_a, out_b = expr(*a), expr(*b)
    out_a.backward()
    steps = list(backward_steps(out_b))
    assert [v.grad for v in a] == [v.grad for v in b]
    assert [v.grad for v in mg.topological_order(out_a)] == [v.grad for v in mg.topological_order(out_b)]
    assert len(steps) == sum(1 for v in mg.topological_order(out_b) if not v.is_leaf)


def test_steps_record_local_derivative_contribution_and_running_grad():
    a = mg.Value(3.0, "a")
    y = a * a
    y.label = "y"
    (step,) = list(backward_steps(y))
    assert step.node is y and step.grad == 1.0
    assert [(e.local, e.contribution, e.parent_grad) for e in step.edges] == [(3.0, 3.0, 3.0), (3.0, 3.0, 6.0)]
    assert "y = 9 (*), grad 1" in str(step)


def test_steps_take_the_same_seed_checks_as_backward():
    x = mg.Value(2.0)
    y = (x * 3).tanh()
    with pytest.raises(TypeError, match="backward: .*complex"):
        list(backward_steps(y, 1j))
    steps = list(backward_steps(y, 2))
    assert steps[0].grad == 2.0 and x.grad == pytest.approx(2 * 3 * (1 - y.data**2))


def test_explain_one_path_with_numbers():
    x, w = mg.Value(2.0, "x"), mg.Value(0.5, "w")
    n = x * w
    n.label = "n"
    o = n * 4.0
    o.label = "o"
    o.backward()
    assert explain(w, o) == "do/dw = do/do * do/dn * dn/dw = 1 * 4 * 2 = 8"
    assert w.grad == 8.0


def test_explain_sums_over_paths_and_handles_edge_cases():
    a = mg.Value(3.0, "a")
    y = a * a
    y.label = "y"
    assert explain(a, y) == "dy/da = (dy/dy * dy/da) + (dy/dy * dy/da) = (1 * 3) + (1 * 3) = 6"
    other = mg.Value(1.0, "z")
    assert explain(other, y) == "dy/dz = 0 (z does not affect y)"
    assert explain(y, y) == "dy/dy = 1"
    assert explain(y) == "y = *(...): dy/da = 3, dy/da = 3"
    assert "leaf" in explain(a)


def test_explain_caps_the_paths_shown():
    x = mg.Value(1.0, "x")
    h = x
    for _ in range(4):
        h = h + h  # 16 paths from the top to x
    h.label = "L"
    text = explain(x, h, max_paths=3)
    assert "more paths not shown" in text


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, None, "3"])
def test_explain_refuses_a_max_paths_that_is_no_positive_int(bad):
    # -1 used to answer "dy/da = 0 (a does not affect y)", which is false, and 0 an IndexError
    a = mg.Value(3.0, "a")
    y = a * a
    y.label = "y"
    with pytest.raises(ValueError, match=rf"^explain: max_paths must be a positive int, got {re.escape(repr(bad))}$"):
        explain(a, y, max_paths=bad)
    assert explain(a, y, max_paths=1) == (
        "dy/da = (dy/dy * dy/da) + ... (more paths not shown) = (1 * 3) + ... (more paths not shown) = 3 "
        "(over the 1 path shown; a.grad holds the full sum)")
    cube = a * a * a  # three paths from the cube to a
    cube.label = "c"
    assert explain(a, cube, max_paths=2).endswith(" = 18 (over the 2 paths shown; a.grad holds the full sum)")


@pytest.mark.graphviz
def test_static_steps_and_widget():
    x, w = mg.Value(2.0, "x"), mg.Value(-1.0, "w")
    o = (x * w).tanh()
    svgs = list(step_svgs(o))
    assert len(svgs) == 2 and all(s.lstrip().startswith("<?xml") for s in svgs)
    assert "grad ?" not in svgs[-1]
    widgets = pytest.importorskip("ipywidgets")
    box = stepper((x * w).tanh())
    assert isinstance(box, widgets.VBox)


@pytest.mark.graphviz
def test_step_svgs_and_the_stepper_show_the_flipbooks_frames_from_one_layout(monkeypatch):
    import html
    import re
    import subprocess



    def build():
        x, w = mg.Value(2.0, "x"), mg.Value(-1.0, "w")
        h = (x * w).tanh()
        return h * h + x

    runs = []

    class Counting(subprocess.Popen):
        def __init__(self, args, *a, **k):
            runs.append(args)
            super().__init__(args, *a, **k)

    monkeypatch.setattr(subprocess, "Popen", Counting)
    svgs = list(step_svgs(build()))
    assert len(runs) == 1 and len(svgs) == 4  # one Graphviz layout for the four steps
    book = flipbook(build())
    texts = [re.findall(r"<text[^>]*>(.*?)</text>", svg) for svg in svgs]
    assert texts == [re.findall(r"<text[^>]*>(.*?)</text>", f.overview) for f in book.frames[1:]]
    positions = {tuple(re.findall(r'<text text-anchor="middle" x="([\d.-]+)"', svg)) for svg in svgs}
    assert len(positions) == 1  # nodes stay put from picture to picture

    pytest.importorskip("ipywidgets")
    box = stepper(build())
    buttons, text, picture = box.children
    prev_b, next_b = buttons.children
    shown = []
    for _ in range(len(book)):
        shown.append((html.unescape(re.sub(r"</?pre>", "", text.value)), picture.value))
        next_b.click()
    assert [c for c, _ in shown] == [f.caption for f in book.frames]  # the same captions, seed first
    assert shown[0][0].startswith("step 0 of 4: the seed")
    assert all('class="node current"' in svg for _, svg in shown) and next_b.disabled and not prev_b.disabled


def test_explain_the_stepper_and_draw_graph_give_a_node_one_name():
    from micrograd_like.viz import draw_graph, node_names

    x, w = mg.Value(2.0, "x"), mg.Value(0.5, "w")
    o = (x * w).tanh() * 3.0  # the root and its intermediates are unlabelled
    o.backward()
    names = node_names(o)
    text = explain(w, o)
    root = names[o]
    assert root.startswith("v") and text.startswith(f"d{root}/dw = d{root}/d{root} * d{root}/")
    assert "dL/" not in text
    src = draw_graph(o).source
    for v in names:
        assert f"{{ {names[v]} | data {v.data:.4g}" in src
    steps = list(backward_steps(o))
    assert str(steps[0]).startswith(f"step 1 of {len(steps)}: {root} = ")  # step 0 is the seed, as in the flipbook
    tanh_node = o.parents[0]
    assert f"-> {names[tanh_node]}: " in str(steps[0])


@pytest.mark.graphviz
def test_step_frames_shrink_to_the_page_width():
    x, w = mg.Value(2.0, "x"), mg.Value(-1.0, "w")
    for svg in step_svgs((x * w).tanh()):
        tag = svg[svg.index("<svg"):svg.index(">", svg.index("<svg"))]
        assert "viewBox=" in tag and "max-width:100%" in tag and " height=" not in tag


def bits(x):
    """The float's 8 bytes: equal bits, so NaN equals NaN and -0.0 differs from 0.0."""
    return struct.pack("<d", x)


@settings(max_examples=120, deadline=None)
@given(expr=expressions(), seed=st.sampled_from([1.0, -2.5, math.inf, -math.inf, math.nan, 0.0, 1e308]))
@example(expr=None, seed=math.inf)  # sqrt(relu(x)) at x = -1: the infinite slope meets a relu that is off
def test_steps_agree_with_backward_bit_for_bit_also_for_infinite_and_nan_grads(expr, seed):
    if expr is None:
        def build(x):
            return x.relu().sqrt() * 2.0
        inputs = (-1.0,)
    else:
        build, inputs = expr, expr.inputs
    a = [mg.Value(x) for x in inputs]
    b = [mg.Value(x) for x in inputs]
    out_a, out_b = build(*a), build(*b)
    out_a.backward(seed)
    steps = list(backward_steps(out_b, seed))
    assert [bits(v.grad) for v in mg.topological_order(out_a)] == [bits(v.grad) for v in mg.topological_order(out_b)]
    for step in steps:  # what a step says it sent is what backward() sends along that edge
        for e in step.edges:
            assert bits(e.contribution) == bits(step.grad * e.local if _sends(step.grad, e.local) else 0.0)
    if expr is None:
        assert a[0].grad == 0.0 and b[0].grad == 0.0  # not NaN: the relu edge passes nothing


def test_an_infinite_grad_passes_nothing_along_a_zero_edge_in_the_steps_too():
    x = mg.Value(-1.0, "x")
    y = x.relu().sqrt()  # relu is off: its local derivative is 0; sqrt's slope at 0 is infinite
    (s_sqrt, s_relu) = list(backward_steps(y))
    assert s_sqrt.grad == 1.0 and s_relu.grad == math.inf
    (edge,) = s_relu.edges
    assert edge.local == 0.0 and edge.contribution == 0.0 and edge.parent_grad == 0.0 and x.grad == 0.0


def test_each_step_reads_as_a_sentence_with_its_numbers():
    x, w = mg.Value(2.0, "x"), mg.Value(0.5, "w")
    o = (x * w).tanh() * 3.0  # unlabelled: v1 = x*w, v2 = tanh, v3 = 3.0, v4 = the root
    assert [str(s) for s in backward_steps(o)] == [
        "step 1 of 3: v4 = 2.285 (*), grad 1\n"
        "  -> v2: 1 * 3 = 3, its grad is now 3\n"
        "  -> v3: 1 * 0.7616 = 0.7616, its grad is now 0.7616",
        "step 2 of 3: v2 = 0.7616 (tanh), grad 3\n"
        "  -> v1: 3 * 0.42 = 1.26, its grad is now 1.26",
        "step 3 of 3: v1 = 1 (*), grad 1.26\n"
        "  -> x: 1.26 * 0.5 = 0.63, its grad is now 0.63\n"
        "  -> w: 1.26 * 2 = 2.52, its grad is now 2.52",
    ]


def test_a_step_made_without_names_calls_a_node_by_its_label_else_by_its_op():
    from micrograd_like.trace import EdgeStep, Step

    x, c = mg.Value(2.0, "x"), mg.Value(0.5)  # c: an unlabelled leaf
    n = x * c
    step = Step(0, n, 2.0, (EdgeStep(x, 0.5, 1.0, 1.0), EdgeStep(c, 2.0, 4.0, 4.0)))
    assert (step.name(n), step.name(x), step.name(c)) == ("(*)", "x", "(leaf)")
    assert str(step) == ("step 0: (*) = 1 (*), grad 2\n"  # made by hand: no total to give
                         "  -> x: 2 * 0.5 = 1, its grad is now 1\n"
                         "  -> (leaf): 2 * 2 = 4, its grad is now 4")


def test_explain_writes_every_case_out_in_full():
    a = mg.Value(3.0, "a")
    y = a * a
    y.label = "y"
    assert explain(a) == "a is a leaf: it has no parents to pass a gradient to"
    # exactly max_paths paths: all shown, nothing said about more
    assert explain(a, y, max_paths=2) == "dy/da = (dy/dy * dy/da) + (dy/dy * dy/da) = (1 * 3) + (1 * 3) = 6"
    # a value outside the graph, unlabelled: called x, or x' where the graph has an x
    assert explain(mg.Value(1.0), y) == "dy/dx = 0 (x does not affect y)"
    x_in_graph = mg.Value(2.0, "x")
    z = x_in_graph * 2.0
    z.label = "z"
    assert explain(mg.Value(1.0), z) == "dz/dx' = 0 (x' does not affect z)"
    assert explain(mg.Value(1.0, "x"), z) == "dz/dx' = 0 (x' does not affect z)"  # the same label, another Value
    assert explain(x_in_graph, z) == "dz/dx = dz/dz * dz/dx = 1 * 2 = 2"
    # an unlabelled node inside the graph: its name in the pictures
    x, w = mg.Value(2.0, "x"), mg.Value(0.5, "w")
    h = x * w
    o = h.tanh() * 3.0
    assert explain(h, o) == "dv4/dv1 = dv4/dv4 * dv4/dv2 * dv2/dv1 = 1 * 3 * 0.42 = 1.26"
    assert explain(h) == "v1 = *(...): dv1/dx = 0.5, dv1/dw = 2"


def test_explain_shows_four_paths_by_default_and_says_the_rest_are_left_out():
    x = mg.Value(1.0, "x")
    h = x
    for _ in range(4):
        h = h + h  # 16 paths from the top to x
    h.label = "L"
    path = "(dL/dL * dL/dv3 * dv3/dv2 * dv2/dv1 * dv1/dx)"
    more = " + ... (more paths not shown)"
    numbers = "(1 * 1 * 1 * 1 * 1)"
    assert explain(x, h) == (f"dL/dx = {path} + {path} + {path} + {path}{more} = "
                             f"{numbers} + {numbers} + {numbers} + {numbers}{more} = "
                             "4 (over the 4 paths shown; x.grad holds the full sum)")
    h.backward()
    assert x.grad == 16.0


def test_stepper_without_ipywidgets_says_what_to_install_and_what_to_use_instead(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # makes `import ipywidgets` raise ImportError
    x = mg.Value(2.0, "x")
    with pytest.raises(ImportError, match=r"^stepper needs ipywidgets \(pip install ipywidgets\); "
                                          r"flipbook\(root\) gives the same frames without it$"):
        stepper(x * 3.0)


@pytest.mark.graphviz
def test_the_stepper_buttons_walk_forward_and_back_and_stop_at_both_ends():
    import html



    def build():
        x, w = mg.Value(2.0, "x"), mg.Value(-1.0, "w")
        h = (x * w).tanh()
        return h * h + x

    captions = [f.caption for f in flipbook(build()).frames]
    assert len(captions) == 5
    pytest.importorskip("ipywidgets")
    buttons, text, _ = stepper(build()).children
    prev_b, next_b = buttons.children
    assert (prev_b.description, next_b.description) == ("previous", "next")

    def state():
        shown = html.unescape(text.value.removeprefix("<pre>").removesuffix("</pre>"))
        return captions.index(shown), prev_b.disabled, next_b.disabled

    assert state() == (0, True, False)
    prev_b.click()  # at the seed already: stays there
    assert state() == (0, True, False)
    next_b.click()
    assert state() == (1, False, False)
    for _ in range(3):
        next_b.click()
    assert state() == (4, False, True)
    next_b.click()  # at the last step already: stays there
    assert state() == (4, False, True)
    for i in (3, 2, 1, 0):
        prev_b.click()
        assert state() == ((i, False, False) if i else (0, True, False))


def test_a_step_never_prints_minus_zero():
    x, w = mg.Value(0.0, "x"), mg.Value(-2.0, "w")
    o = x * w  # do/dw = x = 0, and the grad sent to w is -0.0 * ... : printed as 0
    o.label = "o"
    (step,) = list(backward_steps(o, gradient=-1.0))
    assert str(step) == ("step 1 of 1: o = 0 (*), grad -1\n"
                         "  -> x: -1 * -2 = 2, its grad is now 2\n"
                         "  -> w: -1 * 0 = 0, its grad is now 0")
    assert explain(w, o) == "do/dw = do/do * do/dw = 1 * 0 = 0"


def test_trace_does_not_import_the_pictures():
    # the flipbook builds on trace; trace importing flipbook back was an import cycle
    import ast
    import pathlib

    import micrograd_like.trace as trace

    tree = ast.parse(pathlib.Path(trace.__file__).read_text())
    imported = {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}  # at import time
    assert imported == {"__future__", "collections.abc", "dataclasses", "engine", "viz"}
    # the one later import: the module's __getattr__, which finds the moved pictures on first use
    late = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node not in tree.body]
    assert [(n.module, [a.name for a in n.names]) for n in late] == [(None, ["flipbook"])]
    shim = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "__getattr__")
    assert late[0] in list(ast.walk(shim))


def test_the_pictures_moved_to_flipbook_are_still_found_in_trace():
    import micrograd_like.flipbook as fb
    from micrograd_like import trace

    assert (trace.flipbook, trace.stepper, trace.step_svgs) == (fb.flipbook, fb.stepper, fb.step_svgs)
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        trace.nothing  # noqa: B018
