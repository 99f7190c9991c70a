"""The training replay: what fit(record=True) keeps, the pictures of an epoch, the page in Chromium, the live view."""

import base64
import math
import re
import sys
import zlib

import pytest

from micrograd_like import data, demo, replay
from micrograd_like.engine import Value
from micrograd_like.flipbook import flipbook
from micrograd_like.nn import MLP, Module
from micrograd_like.optim import SGD
from micrograd_like.replay import FloatMLP, Recording, Replay
from micrograd_like.train import fit


def moons(n=60):
    X, y = data.make_moons(n, noise=0.1, seed=0)
    return X, data.to_signs(y)


def small_run(epochs=4, **options):
    X, y = moons()
    model = MLP(2, [6, 1], seed=0)
    history = fit(model, X[:40], y[:40], loss="hinge", epochs=epochs, batch_size=10,
                  validation_data=(X[40:], y[40:]), progress=False, record=True,
                  optimizer=SGD(model.parameters(), lr=0.1), **options)
    return model, history, (X, y)


@pytest.fixture(scope="module")
def demo_run():
    """The demo's training (MLP(2, [16, 16, 1]), 30 epochs) with record=True, and its history without."""
    splits = demo.split(0)

    def run(**options):
        model = MLP(2, [16, 16, 1], seed=0)
        return fit(model, *splits["train"], loss="hinge", l2=1e-4,
                   optimizer=SGD(model.parameters(), lr=0.1, momentum=0.9), epochs=30, batch_size=16,
                   validation_data=splits["validation"], progress=False, seed=0, **options)

    return run(record=True), run()


# ---- the float forward pass

@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "prelu", "sigmoid", "tanh", "step", "linear"])
def test_float_forward_is_the_models_forward_for_every_activation(activation):
    model = MLP(2, [5, 4, 1], activation=activation, seed=3)
    if activation == "prelu":
        for layer in model.layers[:-1]:
            for j, n in enumerate(layer.neurons):
                n.slope.data = 0.1 * j - 0.2  # learned slopes, each neuron its own
    fast = FloatMLP(model)
    points = [(-2.0, 1.5), (0.3, -0.7), (1.1, 0.2), (0.0, 0.0), (40.0, -35.0)]
    for p in points:
        assert fast(p) == pytest.approx(model(list(p)).data, rel=1e-12, abs=1e-12)
    xs, ys = [-1.0, 0.5, 2.0, 40.0], [1.0, -0.25, -35.0]
    one_by_one = [fast((x, y)) for y in ys for x in xs]
    assert fast.grid(xs, ys, use_numpy=False) == pytest.approx(one_by_one, rel=1e-12, abs=1e-12)
    pytest.importorskip("numpy")
    assert fast.grid(xs, ys) == pytest.approx(one_by_one, rel=1e-12, abs=1e-12)


def test_float_forward_of_a_layer_whose_neurons_have_different_activations():
    model = MLP(2, [4, 1], seed=2)
    for n, name in zip(model.layers[0].neurons, ["tanh", "prelu", "step", "sigmoid"]):
        n.activation = name
    model.layers[0].neurons[1].slope.data = -0.3
    fast = FloatMLP(model)
    xs, ys = [-1.5, 0.2, 1.0], [0.7, -2.0]
    expected = [model([x, y]).data for y in ys for x in xs]
    assert fast.grid(xs, ys, use_numpy=False) == pytest.approx(expected, rel=1e-12)
    pytest.importorskip("numpy")
    assert fast.grid(xs, ys) == pytest.approx(expected, rel=1e-12)


def test_float_forward_of_several_outputs_and_softmax():
    model = MLP(2, [4, 3], seed=1)
    soft = MLP(2, [4, 3], seed=1, output_activation="softmax")
    p = [0.7, -1.2]
    assert FloatMLP(model)(p) == pytest.approx([v.data for v in model(p)])
    assert FloatMLP(soft)(p) == pytest.approx([v.data for v in soft(p)])
    assert sum(FloatMLP(soft)(p)) == pytest.approx(1.0)
    for net in (model, soft):
        fast = FloatMLP(net)
        grids = [fast.grid([0.7, 2.0], [-1.2, 0.0], use_numpy=flag) for flag in (False, True)]
        assert grids[0][0] == pytest.approx(fast(p)) and len(grids[0]) == 4
        assert all(g == pytest.approx(h, rel=1e-12) for g, h in zip(*grids))


# ---- what fit keeps

def test_record_keeps_the_epoch_before_training_and_one_per_epoch_with_historys_numbers():
    model, h, (X, y) = small_run(epochs=4, keep_best=False)
    rec = h.recording
    assert isinstance(rec, Recording) and rec.epochs_planned == 4
    assert [f.epoch for f in rec.frames] == [0, 1, 2, 3, 4]
    assert [f.loss for f in rec.frames[1:]] == h.loss and [f.val_loss for f in rec.frames[1:]] == h.val_loss
    assert [f.accuracy for f in rec.frames[1:]] == h.accuracy
    assert [f.val_accuracy for f in rec.frames[1:]] == h.val_accuracy
    fresh = MLP(2, [6, 1], seed=0)  # epoch 0 is the model as it was built
    from micrograd_like.functional import hinge

    assert rec.frames[0].loss == pytest.approx(hinge([fresh(x) for x in X[:40]], y[:40]).data)
    assert rec.frames[0].weights == [[[w.data for w in n.w] for n in la.neurons] for la in fresh.layers]
    last = rec.frames[-1]  # keep_best=False: the model ends at the last epoch
    assert last.weights == [[[w.data for w in n.w] for n in la.neurons] for la in model.layers]
    assert last.biases == [[n.b.data for n in la.neurons] for la in model.layers]
    assert rec.layers == [(2, "input"), (6, "relu"), (1, "linear")]
    assert len(rec.points) == 40 and len(rec.val_points) == 20
    assert {c for _, _, c in rec.points} == {0, 1}
    assert all((c == 1) == (t > 0) for (_, _, c), t in zip(rec.points, y[:40]))


def test_the_grid_holds_the_models_score_at_each_cell_centre():
    model, h, _ = small_run(epochs=2, keep_best=False)
    rec = h.recording
    n = rec.resolution
    x0, x1, y0, y1 = rec.bounds
    grid = rec.frames[-1].grid
    assert len(grid) == n * n == 256
    for r, c in [(0, 0), (0, n - 1), (n - 1, 0), (7, 9), (n - 1, n - 1)]:
        x, y = x0 + (x1 - x0) * (c + 0.5) / n, y1 - (y1 - y0) * (r + 0.5) / n  # row 0 is the top
        assert grid[r * n + c] == pytest.approx(model([x, y]).data, abs=1e-4)


def test_recording_changes_nothing_in_the_training(demo_run):
    recorded, plain = demo_run
    assert recorded.loss == plain.loss and recorded.val_accuracy == plain.val_accuracy
    assert recorded.best_epoch == plain.best_epoch and plain.recording is None
    assert len(recorded.recording.frames) == 31


def test_three_classes_colour_the_boundary_by_the_winning_class():
    X, y01 = data.make_blobs(60, centers=[[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]], std=0.6, seed=0)
    model = MLP(2, [8, 3], seed=0)
    h = fit(model, X, y01, loss="cross_entropy", epochs=3, progress=False, record=True, lr=0.1)
    rec = h.recording
    assert rec.argmax and rec.classes == 3 and {c for _, _, c in rec.points} == {0, 1, 2}
    n = rec.resolution
    x0, x1, y0, y1 = rec.bounds
    for value, (r, c) in zip([rec.frames[-1].grid[i] for i in (0, 77, 255)], [(0, 0), (4, 13), (15, 15)]):
        x, y = x0 + (x1 - x0) * (c + 0.5) / n, y1 - (y1 - y0) * (r + 0.5) / n
        out = [v.data for v in model([x, y])]
        assert int(value) == out.index(max(out))
    page = h.replay().html()
    assert page.count('<figure class="mgl-frame"') == 4 and "class 2" in page


def test_models_that_are_not_a_2d_mlp_record_the_losses_only():
    class Line(Module):
        def __init__(self):
            self.w, self.b = Value(0.0, "w"), Value(0.0, "b")

        def named_parameters(self):
            return [("w", self.w), ("b", self.b)]

        def forward(self, x):
            return self.w * x[0] + self.b

    X = [[float(i)] for i in range(6)]
    y = [2.0 * i + 1 for i in range(6)]
    h = fit(Line(), X, y, loss="mse", epochs=3, progress=False, record=True, lr=0.02)
    rec = h.recording
    assert rec.bounds is None and rec.layers is None and rec.frames[-1].grid is None
    svg = h.replay().svg()
    assert ">loss</text>" in svg and "decision boundary" not in svg and ">network</text>" not in svg


# ---- the pictures of an epoch

def png_pixels(uri):
    """(width, height, rows of RGB) of the PNG the replay embeds (zlib only, filter 0)."""
    raw = base64.b64decode(uri.split(",", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")
    start = raw.index(b"IDAT") + 4
    size = int.from_bytes(raw[start - 8:start - 4], "big")
    body = zlib.decompress(raw[start:start + size])
    rows = [body[r * (3 * width + 1) + 1:(r + 1) * (3 * width + 1)] for r in range(height)]
    return width, height, [[tuple(row[3 * i:3 * i + 3]) for i in range(width)] for row in rows]


def test_boundary_picture_is_blue_where_the_score_is_positive_and_orange_where_negative():
    rec = Recording(1, bounds=(0.0, 1.0, 0.0, 1.0), resolution=4)
    grid = [2.0, 2.0, -2.0, -2.0] * 4  # left half positive
    uri = replay._boundary_image(rec, grid)
    width, height, rows = png_pixels(uri)
    assert (width, height) == (4, 4)
    left, right = rows[0][0], rows[0][3]
    assert left[2] > left[0] and right[0] > right[2]  # blue, orange
    # and the zero line runs down the middle, between columns 1 and 2 (cell centres at 0.5, 1.5, ...)
    line = replay._contour(grid, 4, 400.0)
    xs = {float(x) for x in re.findall(r"[ML]([\d.]+) ", line)}
    assert xs == {200.0} and line.count("M") == 3


def test_frame_svg_draws_every_weight_with_the_network_pens(demo_run):
    recorded, _ = demo_run
    rec = recorded.recording
    panels = replay._panels(rec)
    svg = replay.frame_svg(rec, 30, panels)
    edges = [(d, colour, pen) for colour, group in re.findall(r'<g stroke="(#[0-9a-f]{6})">(.*?)</g>', svg)
             for d, pen in re.findall(r'<path d="([^"]*)" stroke-width="([\d.]+)"/>', group)]
    weights = [w for la in rec.frames[30].weights for n in la for w in n]
    assert sum(d.count("M") for d, _, _ in edges) == len(weights) == 2 * 16 + 16 * 16 + 16
    blue = sum(d.count("M") for d, c, _ in edges if c == "#2b6cb0")
    assert blue == sum(1 for w in weights if w >= 0)
    top = max(abs(w) for f in rec.frames for la in f.weights for n in la for w in n)
    widest = max(float(p) for _, _, p in edges)
    assert widest == pytest.approx(0.3 + 3.0 * max(abs(w) for w in weights) / top, abs=0.051)
    assert f"max {top:.4g})" in svg and ">decision boundary</text>" in svg


def test_captions_name_the_epoch_and_the_scores():
    _, h, _ = small_run(epochs=3)
    caps = h.replay().captions
    assert caps[0].startswith("epoch 0 of 3 (before training): training loss ")
    assert caps[2].split("\n") == [f"epoch 2 of 3: training loss {h.loss[1]:.4g}, accuracy {h.accuracy[1]:.1%}",
                                   f"validation loss {h.val_loss[1]:.4g}, accuracy {h.val_accuracy[1]:.1%}"]


# ---- the page

def test_demo_page_is_self_contained_small_and_shows_a_few_epochs_without_javascript(demo_run, tmp_path):
    recorded, _ = demo_run
    r = recorded.replay()
    assert len(r) == 31 and repr(r) == "<Replay of 31 frames: epochs 0 to 30>"
    path = r.save(tmp_path / "training.html")
    text = open(path, encoding="utf-8").read()
    assert len(text.encode()) < 2_000_000
    assert text.startswith("<!DOCTYPE html>") and text.count("<script>") == 1
    assert not re.search(r"(src|href)=\"(https?:)?//", text) and "<link" not in text
    assert text.count('<figure class="mgl-frame"') == 31
    shown = re.findall(r'<figure class="mgl-frame" data-epoch="(\d+)">', text)  # not hidden without the script
    assert shown == ["0", "10", "20", "30"] == [str(i) for i in r.fallback()]
    ids = re.findall(r'id="([^"]+)"', text)
    assert len(ids) == len(set(ids)) and all(i.startswith("mglrp-") for i in ids)
    assert 'data-play-ms="400"' in text


def test_bad_input_is_refused(tmp_path):
    X, y = moons()
    h = fit(MLP(2, [3, 1], seed=0), X, y, loss="hinge", epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"nothing was recorded; train with fit\(\.\.\., record=True\)"):
        h.replay()
    _, rh, _ = small_run(epochs=1)
    with pytest.raises(ValueError, match="link must be a word"):
        rh.replay(link="epoch 2")
    with pytest.raises(ValueError, match="seconds per epoch must be > 0"):
        rh.replay(seconds=0)
    with pytest.raises(ValueError, match=r"use \.html or \.gif"):
        rh.replay().save(tmp_path / "x.png")
    with pytest.raises(TypeError, match="needs a Recording"):
        Replay(h)
    with pytest.raises(ValueError, match="no epochs"):
        Replay(Recording(3))


def test_gif_has_a_frame_per_epoch_with_its_caption(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    pytest.importorskip("cairosvg")
    _, h, _ = small_run(epochs=3)
    path = h.replay().save(tmp_path / "training.gif", width=800)
    with Image.open(path) as gif:
        assert gif.n_frames == 4 and gif.info["loop"] == 0 and gif.width == 800
        gif.seek(0)
        first = gif.convert("RGB")
        gif.seek(3)
        last = gif.convert("RGB")
    assert first.tobytes() != last.tobytes()
    rgb = first.tobytes()
    blue = sum(1 for k in range(0, len(rgb), 3) if rgb[k + 2] > 150 and rgb[k] < 120)
    assert blue > 500  # the boundary's blue side and the blue points are drawn


def test_gif_without_the_extra_names_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cairosvg", None)
    _, h, _ = small_run(epochs=1)
    with pytest.raises(ImportError, match=r"micrograd_like\[gif\]"):
        h.replay().save(tmp_path / "t.gif")


# ---- live

def test_live_outside_a_notebook_warns_once_and_falls_back_to_the_bar(capsys):
    X, y = moons()
    with pytest.warns(UserWarning, match="live=True draws in a Jupyter notebook only") as caught:
        h = fit(MLP(2, [3, 1], seed=0), X, y, loss="hinge", epochs=2, live=True)
    assert len(caught) == 1 and len(h.recording.frames) == 3
    assert "training: 100%" in capsys.readouterr().err  # the progress bar


def test_live_in_a_kernel_redraws_one_output_after_every_epoch(monkeypatch, capsys):
    import IPython
    import IPython.display

    shown = []

    class Handle:
        def update(self, obj):
            shown.append(obj.data)

    def display(obj, display_id=None):
        assert display_id is True
        shown.append(obj.data)
        return Handle()

    class Kernel:
        kernel = object()

    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setattr(IPython, "get_ipython", lambda: Kernel())
    X, y = moons()
    h = fit(MLP(2, [3, 1], seed=0), X[:40], y[:40], loss="hinge", epochs=3, live=True,
            validation_data=(X[40:], y[40:]))
    assert len(shown) == 1 + 4  # the placeholder, then epochs 0 to 3 in the same output
    captions = h.replay().captions
    for html, caption in zip(shown[1:], captions):
        first = caption.split("\n")[0]
        assert f"<div>{first}</div>" in html and html.count("<svg") == 1
    assert capsys.readouterr().err == ""  # no progress bar under the live view


# ---- in a real browser


def open_page(browser, url, width=1100):
    page = browser.new_page(viewport={"width": width, "height": 800})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    return page, errors


def head(page, scope=".mgl-replay"):
    return page.locator(f"{scope} .mgl-frame:not([hidden]) figcaption div >> nth=0").inner_text()


@pytest.mark.browser
def test_browser_plays_steps_and_follows_the_address(browser, tmp_path, demo_run):
    recorded, _ = demo_run
    r = recorded.replay(seconds=0.05)
    caps = [c.split("\n")[0] for c in r.captions]
    path = r.save(tmp_path / "training.html")
    page, errors = open_page(browser, f"file://{path}")
    assert head(page) == caps[0] and page.locator(".mgl-frame:visible").count() == 1
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert head(page) == caps[2] and page.evaluate("location.hash") == "#epoch=2"
    page.locator(".mgl-slider").fill("17")
    assert head(page) == caps[17] and page.locator(".mgl-count").inner_text() == "epoch 17 of 30"
    page.click(".mgl-play")
    page.wait_for_function("location.hash === '#epoch=30'")
    page.wait_for_function("!document.querySelector('.mgl-replay').hasAttribute('data-playing')")
    assert head(page) == caps[30]
    # every text of the picture, drawn in the frame or through <use>, is at least 9 px at an 1100 px page
    sizes = page.evaluate("""() => {
        const box = document.querySelector('.mgl-replay');
        const svg = box.querySelector('.mgl-frame:not([hidden]) svg');
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return Array.from(box.querySelectorAll('text')).filter(t => t.closest('defs') || !t.closest('[hidden]'))
            .map(t => parseFloat(getComputedStyle(t).fontSize) * scale); }""")
    assert len(sizes) > 15 and min(sizes) >= 9
    assert errors == []
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("fragment, expected, address", [
    ("#epoch=12", 12, "#epoch=12"),
    ("#epoch=99", 30, "#epoch=30"),
    ("#epoch=x1", 0, "#epoch=0"),
])
def test_browser_deep_link_opens_the_epoch_and_corrects_the_address(browser, tmp_path, demo_run, fragment, expected,
                                                                  address):
    recorded, _ = demo_run
    r = recorded.replay()
    path = r.save(tmp_path / "training.html")
    page, errors = open_page(browser, f"file://{path}{fragment}")
    assert head(page) == r.captions[expected].split("\n")[0]
    assert page.evaluate("location.hash") == address and errors == []
    page.close()


@pytest.mark.browser
def test_browser_two_replays_and_a_flipbook_share_a_page(browser, tmp_path):
    _, h1, _ = small_run(epochs=3)
    _, h2, _ = small_run(epochs=5)
    x, w = Value(2.0, "x"), Value(-3.0, "w")
    out = (x * w).tanh()
    out.label = "L"
    fb = flipbook(out)
    one, two = h1.replay(), h2.replay(link="run2")
    page_file = tmp_path / "three.html"
    page_file.write_text(f"<!DOCTYPE html><html><body>{one._repr_html_()}<p>between</p>{two._repr_html_()}"
                         f"{fb._repr_html_()}</body></html>", encoding="utf-8")
    page, errors = open_page(browser, f"file://{page_file}#epoch=2&run2=4&step=1")
    a, b = page.locator(".mgl-replay >> nth=0"), page.locator(".mgl-replay >> nth=1")
    book = page.locator(".mgl-flipbook")
    assert (a.get_attribute("data-epoch"), b.get_attribute("data-epoch"), book.get_attribute("data-step")) == \
        ("2", "4", "1")
    b.locator(".mgl-prev").click()
    page.keyboard.press("ArrowLeft")
    assert (a.get_attribute("data-epoch"), b.get_attribute("data-epoch"), book.get_attribute("data-step")) == \
        ("2", "2", "1")
    book.locator(".mgl-next").click()
    a.locator(".mgl-play").click()
    page.wait_for_function("document.querySelector('.mgl-replay').getAttribute('data-epoch') === '3'")
    assert page.evaluate("location.hash") == "#epoch=3&run2=2&step=2"
    assert b.locator(".mgl-frame:not([hidden]) figcaption div").first.inner_text() == two.captions[2].split("\n")[0]
    assert errors == []
    page.close()


@pytest.mark.browser
def test_browser_without_javascript_shows_a_few_epochs_with_captions(browser, tmp_path, demo_run):
    recorded, _ = demo_run
    r = recorded.replay()
    path = r.save(tmp_path / "training.html")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.goto(f"file://{path}")
    visible = page.locator(".mgl-frame:visible")
    assert visible.count() == 4
    assert [visible.nth(i).locator("figcaption").inner_text() for i in range(4)] == \
        [r.captions[i] for i in (0, 10, 20, 30)]
    assert all(visible.nth(i).locator("svg").bounding_box()["height"] > 250 for i in range(4))
    context.close()


def test_live_view_needs_no_display_outside_ipython(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)
    assert replay.live_view() is None
    assert math.isclose(replay._top_probability([0.0, 0.0]), 0.5)


def test_svg_of_one_frame_is_a_standalone_picture():
    _, h, _ = small_run(epochs=2)
    r = h.replay()
    last = r.svg()
    assert last == r.svg(2) != r.svg(0)
    assert last.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ') and "<use" not in last
    assert ">decision boundary</text>" in last and "data-width" not in last
    with pytest.raises(IndexError, match="frame 3 of a replay of 3 frames"):
        r.svg(3)


def test_a_large_data_set_draws_at_most_400_training_points():
    X, y = data.make_moons(1000, noise=0.1, seed=0)
    h = fit(MLP(2, [2, 1], seed=0), X[:900], data.to_signs(y[:900]), loss="hinge", epochs=1, progress=False,
            record=True, validation_data=(X[900:], data.to_signs(y[900:])))
    rec = h.recording
    assert len(rec.points) == 400 and len(rec.val_points) == 100
    assert rec.points[0][:2] == tuple(X[0]) and rec.points[1][:2] == tuple(X[2])  # every 900/400-th point


def test_live_frames_draw_the_boundary_as_vector_cells_of_the_grids_shades():
    rec = Recording(1, bounds=(0.0, 1.0, 0.0, 1.0), resolution=4)
    grid = [2.0, 2.0, -2.0, -2.0] * 4  # left half positive: one run of each class per row
    cells = replay._boundary_cells(rec, grid)
    paths = re.findall(r'<path d="([^"]*)" fill="(#[0-9a-f]{6})"/>', cells)
    assert len(paths) == 2 and all(d.count("M") == 4 for d, _ in paths)
    blue = next(d for d, fill in paths if int(fill[5:7], 16) > int(fill[1:3], 16))
    assert blue.startswith("M0.0 0.0h150.0v75.0h-150.0z")  # the left two cells of the top row, as one run
    rec.frames.append(replay.EpochRecord(0, 1.0, grid=grid))
    assert "<image" in replay.frame_svg(rec, 0, replay._panels(rec))
    live = replay.frame_svg(rec, 0, replay._panels(rec), vector=True)
    assert "<image" not in live and cells in live
