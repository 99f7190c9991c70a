"""The flipbook: frames equal the backward steps, one layout serves every frame, and the page works in Chromium."""

import html
import re
import struct
import sys

import pytest
from hypothesis import given, settings

import micrograd_like as mg
from micrograd_like import flipbook as fbmod
from micrograd_like.flipbook import flipbook
from micrograd_like.testing.strategies import expressions
from micrograd_like.trace import backward_steps
from micrograd_like.viz import draw_graph

pytestmark = pytest.mark.graphviz


def neuron():
    x, w, b = mg.Value(2.0, "x"), mg.Value(-3.0, "w"), mg.Value(6.88, "b")
    n = x * w + b
    out = n.tanh()
    out.label = "L"
    return out, (x, w, b)


def wide(terms=12):
    """A graph of 61 values: b + tanh(x0*w0) + ... + tanh(x11*w11)."""
    total = mg.Value(0.0, "b")
    for i in range(terms):
        total = total + (mg.Value(0.1 * i + 0.3, f"x[{i}]") * mg.Value(0.09 * i - 0.5, f"w[{i}]")).tanh()
    total.label = "L"
    return total


def shared(terms=12):
    """A Horner polynomial (((b + w0) * x + w1) * x + ...) * x: one x used by 12 nodes, drawn from dashed copies."""
    x, total = mg.Value(0.7, "x"), mg.Value(0.0, "b")
    for i in range(terms):
        total = (total + mg.Value(0.09 * i - 0.5, f"w[{i}]")) * x
    total.label = "L"
    return total


def node_texts(svg):
    """{node id: [its texts]} and the id of the highlighted node, read from a frame's SVG."""
    texts, current = {}, None
    for cls, title, inner in re.findall(r'<g class="(node[^"]*)">\s*<title>([^<]*)</title>(.*?)</g>', svg, re.DOTALL):
        texts[title] = [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", inner)]
        if "current" in cls:
            current = title
    return texts, current


def test_frames_are_the_seed_then_one_per_backward_step_with_the_chain_rule_numbers():
    out, (x, w, b) = neuron()
    twin, _ = neuron()
    steps = list(backward_steps(twin))
    fb = flipbook(out)
    assert len(fb) == len(fb.frames) == len(steps) + 1 == 4
    assert fb.frames[0].caption.startswith("step 0 of 3: the seed, dL/dL = 1")
    assert fb.frames[0].node_id == "v5" and fb.frames[0].step is None
    for frame, step in zip(fb.frames[1:], steps):
        head, *lines = frame.caption.split("\n")
        assert head.endswith(f"= {step.grad:.4g}") and len(lines) == len(step.edges) > 0
        for e, line in zip(step.edges, lines):
            assert f"{step.grad:.4g} * {e.local:.4g} = {e.contribution:.4g}, " in line
            assert line.endswith(f".grad is now {e.parent_grad:.4g}")
    last = fb.frames[-1].caption.split("\n")
    assert last[0].startswith("step 3 of 3: v1 = *(x, w) = -6")  # x*w is the first unlabelled value drawn
    assert last[1] == f"  to x: dL/dv1 * dv1/dx = {0.501:.4g} * -3 = {x.grad:.4g}, x.grad is now {x.grad:.4g}"
    # afterwards the gradients are exactly those of backward()
    leaves = {v.label: v.grad for v in mg.topological_order(twin) if v.is_leaf}
    assert [x.grad, w.grad, b.grad] == [leaves["x"], leaves["w"], leaves["b"]]


def test_a_node_has_one_name_in_the_captions_draw_graph_and_explain():
    from micrograd_like.trace import explain
    from micrograd_like.viz import node_names

    x, w = mg.Value(2.0, "x"), mg.Value(0.5, "w")
    h = (x * w).tanh()
    o = h * h + x * 3.0  # root and intermediates unlabelled; x and h used twice
    fb = flipbook(o)
    source = draw_graph(o).source
    drawn = dict(re.findall(r'^\t(v\d+) \[label="\{ ([^ |]+) \|', source, re.MULTILINE))  # DOT id -> name
    names = node_names(o)
    root = drawn[fb.frames[0].node_id]
    seed = f"step 0 of {len(fb) - 1}: the seed, d{root}/d{root} = 1"
    assert root == names[o] and fb.frames[0].caption.startswith(seed)
    assert fb.title == f"backprop of {root}"
    seen = set()
    for frame in fb.frames[1:]:
        head, *lines = frame.caption.split("\n")
        name = re.match(r"step \d+ of \d+: (\S+) = ", head).group(1)
        assert name == drawn[frame.node_id] == names[frame.step.node]
        assert head.endswith(f"d{root}/d{name} = {frame.step.grad:.4g}")
        for e, line in zip(frame.step.edges, lines):
            assert line.startswith(f"  to {names[e.parent]}: d{root}/d{name} * d{name}/d{names[e.parent]} = ")
        seen.add(name)
        if frame.step.node is not o:  # explain names the node the same way on the path from the root to x
            text = explain(x, o)
            if any(p is x for p in frame.step.node.parents):
                assert f"d{name}/dx" in text
    assert len(seen) == len(fb) - 1 == sum(1 for v in names if not v.is_leaf)
    assert all(n.startswith("v") and n[1:].isdigit() for n in seen)  # unlabelled: v1, v2, ..., not v{topo index}
    assert max(int(n[1:]) for n in seen) <= len(names) - 2  # two leaves are labelled, so v{len-1} cannot appear


def test_each_frame_shows_the_gradients_of_that_moment_and_highlights_its_node():
    out, (x, w, b) = neuron()
    fb = flipbook(out)
    first, current = node_texts(fb.frames[0].overview)
    assert current == "v5"
    assert first["v5"][-1] == "grad 1" and first["v0"][-1] == "grad 0" and first["v4"][-1] == "grad 0"
    mid, current = node_texts(fb.frames[2].overview)  # after the + node: v2 and b have their grads, x and w not yet
    assert current == "v4"
    assert mid["v2"][-1] == mid["v3"][-1] == f"grad {b.grad:.4g}" and mid["v0"][-1] == "grad 0"
    end, current = node_texts(fb.frames[-1].overview)
    assert current == "v2"
    assert end["v0"] == ["x", "data 2", f"grad {x.grad:.4g}"] and end["v1"][-1] == f"grad {w.grad:.4g}"
    for f in fb.frames:  # exactly one node is highlighted, drawn in the highlight colour
        assert f.overview.count('class="node current"') == 1
        highlighted = re.search(r'class="node current">.*?</g>', f.overview, re.DOTALL).group(0)
        assert 'stroke="#dd6b20"' in highlighted and 'stroke-width="8"' in highlighted  # thick: the overview is small


def test_one_layout_draws_the_same_texts_and_highlight_as_a_graphviz_run_per_frame():
    root = wide(4)
    graphs = []
    for step in backward_steps(root):
        graphs.append(draw_graph(root, highlight={step.node}, show_local_grads=True))
    fast = fbmod._render(graphs)
    slow = [g.pipe(format="svg").decode() for g in graphs]
    assert len(fast) == len(slow) == len(graphs) > 5
    positions = set()
    for f, s, _ in zip(fast, slow, graphs):
        ftexts, _ = node_texts(fbmod._inline(f, "none"))
        stexts, _ = node_texts(fbmod._inline(s, "none"))
        assert ftexts == stexts
        assert f.count('stroke="#dd6b20"') == s.count('stroke="#dd6b20"') > 0
        positions.add(tuple(re.findall(r'<text text-anchor="middle" x="([\d.-]+)"', f)[:4]))
    assert len(positions) == 1  # nodes never move from frame to frame


def count_dot_runs(monkeypatch):
    """A list that grows by one for each Graphviz program started (any route: viz.pipe, graphviz's own)."""
    import subprocess

    runs = []

    class Counting(subprocess.Popen):  # subprocess.run starts its program through Popen too
        def __init__(self, args, *a, **k):
            if args and str(args[0]).rsplit("/", 1)[-1] in ("dot", "neato", "fdp", "sfdp", "circo", "twopi"):
                runs.append(args)
            super().__init__(args, *a, **k)

    monkeypatch.setattr(subprocess, "Popen", Counting)
    return runs


def small_neuron():
    from micrograd_like.nn import Neuron

    n = Neuron(3, activation="tanh", seed=1)
    return n([1.0, -2.0, 0.5])


@pytest.mark.parametrize("make, options, feature", [
    (shared, {}, "_copy"),  # dashed copies of a value used by many nodes far above
    (shared, {"show_local_grads": True}, "_copy"),
    (wide, {"color_by_grad": True}, "label=<<table"),  # the legend
    (small_neuron, {"show_local_grads": True}, ":p6"),  # a dot node with a port per input
    (small_neuron, {"show_local_grads": True, "color_by_grad": True}, "label=<<table"),
])
def test_one_graphviz_run_lays_out_every_frame_of_the_new_pictures(monkeypatch, make, options, feature):
    import time

    root = make()
    assert feature in draw_graph(root, **options).source  # the picture has what the rewrite must cope with
    runs = count_dot_runs(monkeypatch)
    start = time.perf_counter()
    fb = flipbook(root, **options)
    seconds = time.perf_counter() - start
    n = len(mg.topological_order(root))
    print(f"flipbook of {n} values, {len(fb)} frames, {options}: {seconds * 1000:.0f} ms, {len(runs)} dot run(s)")
    assert len(runs) == 1 and len(fb) == 1 + sum(1 for v in mg.topological_order(root) if not v.is_leaf)
    if make is wide:
        assert n == 61
    legends = {re.sub(r'<g class="node.*', "", f.overview, flags=re.DOTALL) for f in fb.frames}
    assert len(legends) == 1  # what comes before the nodes (clusters, legend) is one layout's


def test_one_layout_of_a_neuron_with_ports_and_colours_reads_as_a_run_per_frame():
    root = small_neuron()
    options = {"show_local_grads": True, "color_by_grad": True, "grad_scale": 2.0}
    graphs = []
    for step in backward_steps(root):
        graphs.append(draw_graph(root, highlight={step.node}, **options))
    fast = fbmod._render(graphs)
    slow = [g.pipe(format="svg").decode() for g in graphs]
    assert len(fast) == len(slow) == 2
    for f, s in zip(fast, slow):
        ftexts, _ = node_texts(fbmod._inline(f, "none"))
        stexts, _ = node_texts(fbmod._inline(s, "none"))
        assert ftexts == stexts and any(t[0] == "dot" and len(t) == 8 for t in ftexts.values())
        fills = sorted(re.findall(r'fill="(#[0-9a-f]{6})"', f))
        assert fills == sorted(re.findall(r'fill="(#[0-9a-f]{6})"', s))  # the same colours, the legend's too


def test_colours_keep_one_scale_through_the_flipbook():
    x, w = mg.Value(2.0, "x"), mg.Value(-3.0, "w")
    out = (x * w).tanh() * 4.0
    out.label = "L"
    fb = flipbook(out, color_by_grad=True)
    # the root's grad is 1 in every frame; with one scale its fill never changes
    rid = fb.frames[0].node_id
    fills = {re.search(rf'<title>{rid}</title>\s*<path[^>]* fill="([^"]+)"', f.overview).group(1) for f in fb.frames}
    assert len(fills) == 1
    strongest = max(abs(v.grad) for v in mg.topological_order(out))
    assert all(f"full colour at {strongest:.4g} and above" in f.overview for f in fb.frames)


def test_page_is_self_contained_and_its_svgs_scale_to_the_page(tmp_path):
    fb = flipbook(wide())
    page = tmp_path / "backprop.html"
    assert fb.save(page) == str(page)
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count("<script>") == 1
    assert not re.search(r"(src|href)=\"(https?:)?//", text) and "<link" not in text and "import " not in text
    assert text.count('<figure class="mgl-frame"') == len(fb) == 37
    frames = re.findall(r"<figure.*?</figure>", text, re.DOTALL)
    assert all('<svg width="100%" style="max-width:' in f and "viewBox=" in f for f in frames)
    # the shared parts are drawn with <use>, so 37 frames of a 61-value graph stay small
    assert len(text) < 0.3 * sum(len(f.overview) for f in fb.frames)
    ids = re.findall(r'id="([^"]+)"', text)
    assert len(ids) == len(set(ids))
    a, b = fb._repr_html_(), fb._repr_html_()
    assert re.search(r'id="(mglfb-[^"]+)"', a).group(1) != re.search(r'id="(mglfb-[^"]+)"', b).group(1)


def test_bad_input_is_refused_with_a_clear_message(tmp_path):
    out, _ = neuron()
    with pytest.raises(TypeError, match="flipbook: root must be a Value, got float"):
        flipbook(1.5)
    with pytest.raises(TypeError, match="highlight"):
        flipbook(out, highlight={out})
    with pytest.raises(ValueError, match="link must be a word"):
        flipbook(out, link="step 1")
    with pytest.raises(ValueError, match=r"use \.html or \.gif"):
        flipbook(out).save(tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"save_steps: .*use \.html or \.gif"):
        fbmod.save_steps(out, tmp_path / "x.svg")
    from micrograd_like.viz import LayoutError

    with pytest.raises(LayoutError, match="layout time limit of 1e-06 s"):  # the one run goes through viz.pipe
        flipbook(out, timeout=1e-6)


def test_a_leaf_root_has_only_the_seed_frame():
    a = mg.Value(3.0, "a")
    fb = flipbook(a)
    assert len(fb) == 1 and fb.frames[0].caption.startswith("step 0 of 0: the seed, da/da = 1")
    assert a.grad == 1.0


@settings(max_examples=15, deadline=None)
@given(expr=expressions())
def test_flipbook_leaves_the_gradients_of_backward_and_ends_on_them(expr):
    a = [mg.Value(x) for x in expr.inputs]
    b = [mg.Value(x) for x in expr.inputs]
    out_a, out_b = expr(*a), expr(*b)
    out_a.backward()
    fb = flipbook(out_b)
    assert [v.grad for v in mg.topological_order(out_a)] == [v.grad for v in mg.topological_order(out_b)]
    assert len(fb) == 1 + sum(1 for v in mg.topological_order(out_b) if not v.is_leaf)
    end, _ = node_texts(fb.frames[-1].overview)
    for i, v in enumerate(mg.topological_order(out_b)):
        assert end[f"v{i}"][-1] == f"grad {v.grad:.4g}"


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_gif_has_every_frame_with_its_caption(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    pytest.importorskip("cairosvg")
    out, _ = neuron()
    path = fbmod.save_steps(out, tmp_path / "steps.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == 4 and gif.info["loop"] == 0
        gif.seek(0)
        first = gif.convert("RGB")
        gif.seek(3)
        last = gif.convert("RGB")
    first.save(tmp_path / "first.png")
    assert 600 < first.width <= 1200 and first.height > 100
    rgb = first.tobytes()
    orange = sum(1 for k in range(0, len(rgb), 3) if rgb[k] > 190 and 80 < rgb[k + 1] < 130 and rgb[k + 2] < 70)
    assert orange > 50  # the highlighted node and the caption's first line
    assert first.tobytes() != last.tobytes()


def test_gif_without_the_extra_names_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cairosvg", None)
    out, _ = neuron()
    with pytest.raises(ImportError, match=r"micrograd_like\[gif\]"):
        fbmod.save_steps(out, tmp_path / "steps.gif")


# ---- in a real browser


def visible_caption(page, scope=""):
    return page.locator(f"{scope} .mgl-frame:not([hidden]) figcaption").inner_text()


def address(page):
    # read in the page: Playwright's page.url learns of history.replaceState a moment later
    return page.evaluate("location.hash")


def highlighted(page, scope=""):
    frame = page.locator(f"{scope} .mgl-frame:not([hidden])")
    return frame.get_attribute("data-node"), frame.locator(".node.current title").text_content()


@pytest.mark.browser
def test_browser_steps_with_keys_buttons_slider_and_address(browser, tmp_path):
    out, _ = neuron()
    fb = flipbook(out)
    path = fb.save(tmp_path / "backprop.html")
    page = browser.new_page(viewport={"width": 1200, "height": 700})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"file://{path}")
    assert visible_caption(page) == fb.frames[0].caption
    assert page.locator(".mgl-frame:visible").count() == 1
    assert highlighted(page) == ("v5", "v5")
    page.keyboard.press("ArrowRight")
    assert visible_caption(page) == fb.frames[1].caption
    assert highlighted(page) == (fb.frames[1].node_id,) * 2 == ("v5", "v5")  # the root sends its gradient
    page.click(".mgl-next")
    assert visible_caption(page) == fb.frames[2].caption and highlighted(page) == ("v4", "v4")
    assert address(page) == "#step=2"
    page.keyboard.press("ArrowLeft")
    assert address(page) == "#step=1" and page.locator(".mgl-count").inner_text() == "step 1 of 3"
    page.locator(".mgl-slider").fill("3")
    assert visible_caption(page) == fb.frames[3].caption and address(page) == "#step=3"
    assert page.locator(".mgl-next").is_disabled()

    deep = browser.new_page(viewport={"width": 1200, "height": 700})
    deep.goto(f"file://{path}#step=2")
    assert visible_caption(deep) == fb.frames[2].caption and highlighted(deep) == ("v4", "v4")
    # the whole picture fits at 1200 px: scaled down, not cut off
    for picture in (".mgl-close-up", ".mgl-overview svg"):
        box = deep.locator(f".mgl-frame:not([hidden]) {picture}").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1200 and box["width"] > 150
    shot = deep.screenshot(path=str(tmp_path / "step2.png"))
    assert png_size(shot) == (1200, 700)
    assert errors == []
    page.close()
    deep.close()


@pytest.mark.browser
def test_browser_two_flipbooks_on_one_page_do_not_interfere(browser, tmp_path):
    out, _ = neuron()
    one, two = flipbook(out), flipbook(wide(3), link="other")
    page_file = tmp_path / "two.html"
    page_file.write_text(f"<!DOCTYPE html><html><body><p>notes</p>{one._repr_html_()}<p>more</p>"
                         f"{two._repr_html_()}</body></html>", encoding="utf-8")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(f"file://{page_file}#step=2&other=4")
    first, second = ".mgl-flipbook >> nth=0", ".mgl-flipbook >> nth=1"
    assert page.locator(first).get_attribute("data-step") == "2"
    assert page.locator(second).get_attribute("data-step") == "4"
    page.locator(second).locator(".mgl-next").click()
    page.keyboard.press("ArrowRight")  # the focused (last clicked) flipbook moves, the other stays
    assert page.locator(second).get_attribute("data-step") == "6"
    assert page.locator(first).get_attribute("data-step") == "2"
    assert address(page) == "#step=2&other=6"
    page.locator(first).locator(".mgl-prev").click()
    assert page.locator(first).get_attribute("data-step") == "1"
    assert page.locator(second).get_attribute("data-step") == "6"
    assert page.locator(first).locator(".mgl-frame:not([hidden]) figcaption").inner_text() == one.frames[1].caption
    page.close()


@pytest.mark.browser
def test_browser_without_javascript_shows_every_frame_with_its_caption(browser, tmp_path):
    out, _ = neuron()
    fb = flipbook(out)
    path = fb.save(tmp_path / "backprop.html")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1200, "height": 700})
    page = context.new_page()
    page.goto(f"file://{path}")
    assert page.locator(".mgl-frame:visible").count() == len(fb) == 4
    assert page.locator(".mgl-controls:visible").count() == 0
    assert [page.locator("figcaption").nth(i).inner_text() for i in range(len(fb))] == [f.caption for f in fb.frames]
    shot = page.screenshot(full_page=True, path=str(tmp_path / "nojs.png"))
    width, height = png_size(shot)
    assert width == 1200 and height > 4 * 150
    context.close()


def network_loss():
    """The learner's case of issue 21: MLP(2, [4, 4, 1]) and an MSE loss on one point."""
    from micrograd_like import functional as F
    from micrograd_like.nn import MLP

    model = MLP(2, [4, 4, 1], seed=0)
    return F.mse([model([0.5, -1.0])], [1.0])


def test_a_flipbook_walks_the_graph_once_for_its_order_and_once_for_its_names(monkeypatch):
    from micrograd_like import engine, trace, viz

    calls = {"topological_order": 0, "node_names": 0}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        return wrapper

    walk, name = counting("topological_order", engine.topological_order), counting("node_names", viz.node_names)
    for module in (engine, viz, trace):
        monkeypatch.setattr(module, "topological_order", walk)
    for module in (viz, trace):
        monkeypatch.setattr(module, "node_names", name)
    fb = flipbook(network_loss())
    assert len(fb) == 22 and calls == {"topological_order": 1, "node_names": 1}


def test_captions_of_a_network_use_short_names_say_the_neuron_once_and_never_print_minus_zero():
    fb = flipbook(network_loss())
    text = "\n".join(f.caption for f in fb.frames)
    assert "-0 " not in text + " " and "= -0," not in text and "layers.2.neurons.0.w" not in text
    z = next(f for f in fb.frames if f.caption.split(":")[1].strip().startswith("z = dot") and "layers.2" in f.caption)
    head, *edges = z.caption.split("\n")
    assert " in layers.2.neurons.0, its gradient is final: dv6/dz = " in head
    assert edges[1].startswith("  to w[0]: dv6/dz * dz/dw[0] = ")
    assert edges[5].startswith("  to a (layers.1.neurons.0): dv6/dz * dz/da = ")  # another neuron's: it says whose
    # each step's close-up names every node by its short name, with the full name on hover
    assert "<title>layers.2.neurons.0.w[0]</title>" in z.close_up and ">w[0]</text>" in z.close_up
    assert z.close_up.count("mgl-current") == 1 and z.close_up.count("mgl-parent") == 9
    assert "_copy" not in z.overview  # the inputs of a layer are drawn once, not once per neuron


def test_the_close_up_shows_what_each_user_gave_and_what_each_parent_is_sent():
    x = mg.Value(2.0, "x")
    h = (x * 3.0).tanh()
    h.label = "h"
    out = h * h + h  # h is used twice: by the product (twice) and by the sum
    out.label = "L"
    fb = flipbook(out)
    frame = next(f for f in fb.frames if f.step is not None and f.step.node is h)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", frame.close_up)
    names = mg.viz.node_names(out)
    product, inner = names[out.parents[0]], names[h.parents[0]]  # h * h and x * 3, unlabelled
    assert f"d{product}/dh = {2 * h.data:.4g}" in texts and f"gives {2 * h.data:.4g}" in texts  # its grad is 1
    assert "dL/dh = 1" in texts and "gives 1" in texts
    assert f"grad {h.grad:.4g}" in texts and h.grad == pytest.approx(2 * h.data + 1)
    assert f"dh/d{inner} = {1 - h.data ** 2:.4g}" in texts and f"sends {h.grad * (1 - h.data ** 2):.4g}" in texts


def test_every_gif_frame_shows_the_close_up_at_full_size():
    Image = pytest.importorskip("PIL.Image")
    pytest.importorskip("cairosvg")
    fb = flipbook(network_loss())
    for frame in fb.frames[:3] + fb.frames[-2:]:
        sizes = [int(s) for s in re.findall(r'font-size="(\d+)"', frame.close_up)]
        assert min(sizes) * fbmod.gif_scale(frame, 1200) >= 12  # text at least 12 px tall at the GIF's width
        image = fbmod._frame_image(frame, 1200)
        width = int(re.search(r'width="(\d+)"', frame.close_up).group(1))
        assert image.width >= width and isinstance(image, Image.Image)
    assert fbmod.gif_scale(fb.frames[0], 400) == pytest.approx(400 / width)  # a narrow GIF scales it down


@pytest.mark.browser
def test_browser_a_network_flipbook_shows_the_current_node_large_enough_to_read_on_every_frame(browser, tmp_path):
    path = tmp_path / "net.html"
    fb = flipbook(network_loss())
    fb.save(path)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"file://{path}")
    measures = []
    for k in range(len(fb)):
        page.evaluate(f"document.querySelector('.mgl-flipbook').mglShow({k})")
        measures.append(page.evaluate("""() => {
          const f = [...document.querySelectorAll('.mgl-frame')].find(f => !f.hidden);
          const c = f.querySelector('.mgl-current').getBoundingClientRect();
          const texts = [...f.querySelectorAll('.mgl-current text, .mgl-parent text')];
          return {top: c.top, bottom: c.bottom, left: c.left, right: c.right, n: texts.length,
                  smallest: Math.min(...texts.map(t => t.getBoundingClientRect().height)),
                  parents: f.querySelectorAll('.mgl-parent').length};
        }"""))
    page.close()
    for k, m in enumerate(measures):
        assert 0 <= m["top"] and m["bottom"] <= 800 and 0 <= m["left"] and m["right"] <= 1280, (k, m)
        assert m["smallest"] >= 11, (k, m)
    assert max(m["parents"] for m in measures) == 9  # a second-layer neuron: 4 weights, 4 inputs and a bias


def test_the_overview_of_a_network_keeps_every_node_in_its_place_and_outlines_the_current_one():
    fb = flipbook(network_loss())
    places = {tuple(re.findall(r'<text text-anchor="middle" x="([\d.-]+)" y="([\d.-]+)"', f.overview))
              for f in fb.frames}
    assert len(places) == 1 and len(next(iter(places))) > 100  # one layout: every text in one place
    for f in fb.frames:
        _, current = node_texts(f.overview)
        assert current == f.node_id
        assert f.svg.index(f.close_up) < f.svg.index("<svg width=\"100%\"")  # the close-up first, the graph beside


def test_a_caption_line_shows_the_full_path_of_its_value_on_hover():
    loss = network_loss()
    fb = flipbook(loss)
    names = mg.viz.node_names(loss)
    page = fb.html()
    for frame in fb.frames:
        lines = frame.caption.split("\n")
        if frame.step is None:
            assert frame.hover == (names[loss],)
        else:  # the current node's line, then one line per parent
            assert frame.hover == (names[frame.step.node],) + tuple(names[e.parent] for e in frame.step.edges)
            assert len(lines) == len(frame.hover)
        for line, full in zip(lines, frame.hover):
            assert f'<div title="{html.escape(full)}">{html.escape(line)}</div>' in page
    # the captions themselves keep the short names: a weight is w[0], its path is on hover
    weight_lines = [(line, full) for f in fb.frames for line, full in zip(f.caption.split("\n"), f.hover)
                    if full.endswith(".w[0]")]
    assert weight_lines and all(full.startswith("layers.") and "layers." not in line.split(":")[0]
                                for line, full in weight_lines)


@pytest.mark.browser
def test_browser_hovering_a_caption_line_names_the_full_path(browser, tmp_path):
    fb = flipbook(network_loss())
    path = fb.save(tmp_path / "net.html")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"file://{path}#step=6")
    line = page.locator(".mgl-frame:not([hidden]) figcaption div").first
    assert line.get_attribute("title") == fb.frames[6].hover[0]
    assert line.inner_text() == fb.frames[6].caption.split("\n")[0]
    page.close()
