"""Watch a network learn: what fit(record=True) keeps per epoch, drawn live in Jupyter or as a kernel-free replay."""

from __future__ import annotations

import base64
import functools
import html
import math
import os
import re
import struct
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import add, mul
from typing import Any

from .engine import Value, no_grad
from .nn import MLP, Module
from .player import caption_image, check_link, gif_modules, html_or_gif, player_html, player_id, write_gif
from .viz import _NEG, _POS, _fmt, _weight_pen

__all__ = ["EpochRecord", "FloatMLP", "LiveView", "Recording", "Replay", "check_replay_path"]

RESOLUTION = 16  # the boundary grid is 16 x 16: cheap enough to redraw every epoch, smooth once scaled up
# class colours: orange for class 0 / the negative side, blue for class 1 / the positive side, as the
# demo's boundary picture and TensorFlow Playground do; more classes take the next colours
CLASS_COLOURS = ["#dd6b20", "#2b6cb0", "#38a169", "#805ad5", "#d69e2e", "#d53f8c", "#319795", "#718096"]
MAX_POINTS = 400  # the boundary panel draws at most 400 training points (and 200 validation points)
_TRAIN_COLOUR, _VAL_COLOUR = "#1a202c", "#dd6b20"
_PANEL, _GAP, _TOP = 300, 24, 28  # each panel's drawing is 300 x 300 units under a 28-unit title
_FONT = 'font-family="Helvetica,Arial,sans-serif"'


@dataclass
class EpochRecord:
    """One epoch, compactly: losses, accuracies, the boundary grid and the parameters.

    ``epoch`` 0 is the model before training; epoch k is the model after k epochs
    (History's entry k-1). ``grid`` holds one number per grid cell, row by row from the
    top: for one output the score minus the cut between the classes (its sign is the
    class), for several the winning class plus its softmax probability (``3.82``: class 3,
    0.82). ``weights[l][j]`` are neuron j of layer l's weights, ``biases[l][j]`` its bias.
    """

    epoch: int
    loss: float
    accuracy: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    grid: list[float] | None = None
    weights: list[list[list[float]]] | None = None
    biases: list[list[float]] | None = None


@dataclass
class Recording:
    """What ``fit(..., record=True)`` keeps: the set-up once, then an EpochRecord per epoch (``history.recording``)."""

    epochs_planned: int
    bounds: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1 of the boundary grid (2-D inputs)
    resolution: int = RESOLUTION
    classes: int = 2  # classes the boundary colours
    argmax: bool = False  # the model has several outputs and the grid holds the winning class (EpochRecord.grid)
    points: list[tuple[float, float, int]] = field(default_factory=list)  # training points (x, y, class), <= 400
    val_points: list[tuple[float, float, int]] = field(default_factory=list)
    layers: list[tuple[int, str]] | None = None  # (size, activation) per layer of an MLP; inputs first
    frames: list[EpochRecord] = field(default_factory=list)

    def replay(self, link: str | None = "epoch", seconds: float = 0.4) -> Replay:
        """The recorded epochs as a Replay (see ``History.replay``)."""
        return Replay(self, link=link, seconds=seconds)


# ---- recording during fit

class FloatMLP:
    """An MLP's forward pass on plain floats, with its parameters as they are now (no graph, far faster).

    Used for the boundary grid, evaluated every epoch: through Values it would cost as
    much as the epoch's training. The tests compare it with ``model(x)`` for every activation.
    """

    def __init__(self, model: MLP) -> None:
        # per layer: (weights and bias of each neuron, the layer's activation or "mixed", each neuron's
        # activation as a float function, each neuron's activation name and prelu slope)
        self.layers: list[tuple[list[tuple[list[float], float]], str, list[Callable[[float], float]],
                                list[tuple[str, float]]]] = []
        for layer in model.layers:
            neurons = [([w.data for w in n.w], n.b.data) for n in layer.neurons]
            kinds = [(n.activation, n.slope.data if n.slope is not None else 0.0) for n in layer.neurons]
            names = {name for name, _ in kinds}
            # a learner may give one neuron of a layer its own activation; prelu slopes are each neuron's own
            kind = names.pop() if len(names) == 1 else "mixed"
            self.layers.append((neurons, kind, [_float_activation(*k) for k in kinds], kinds))
        self.softmax = model.softmax

    def __call__(self, x: Sequence[float]) -> float | list[float]:
        """The model's output for one sample: a float, or a list for several outputs."""
        return self._rest(list(x), 0)

    def grid(self, xs: Sequence[float], ys: Sequence[float], use_numpy: bool = True) -> list[float | list[float]]:
        """The outputs at every (x, y), rows of ``ys`` by columns of ``xs``; the inputs must be 2-D.

        With NumPy installed (and ``use_numpy``) the grid is a few matrix products: the live
        view redraws it every epoch, and in plain Python it would cost a sixth of the demo's
        epoch. Without NumPy the first layer's sum splits as (b + w1*y) + w0*x, each part
        computed once per row or column. Both give the same numbers to about 1e-15.
        """
        if use_numpy:
            try:
                import numpy
            except ImportError:
                pass
            else:
                return self._grid_numpy(numpy, xs, ys)
        neurons, kind, acts, _ = self.layers[0]
        cols = [[w[0] * x for w, _ in neurons] for x in xs]
        out = []
        for y in ys:
            row = [b + w[1] * y for w, b in neurons]
            for col in cols:
                out.append(self._rest(_activate(list(map(add, row, col)), kind, acts), 1))
        return out

    def _grid_numpy(self, np: Any, xs: Sequence[float], ys: Sequence[float]) -> list[float | list[float]]:
        h = np.array([(x, y) for y in ys for x in xs], dtype=float)
        for neurons, kind, _, kinds in self.layers:
            w = np.array([n[0] for n in neurons], dtype=float)
            b = np.array([n[1] for n in neurons], dtype=float)
            z = h @ w.T + b
            if kind in ("mixed", "prelu"):
                h = np.stack([_numpy_activation(np, name, z[:, j], slope) for j, (name, slope) in enumerate(kinds)],
                             axis=1)
            else:
                h = _numpy_activation(np, kind, z, 0.0)
        if self.softmax:
            e = np.exp(h - h.max(axis=1, keepdims=True))
            h = e / e.sum(axis=1, keepdims=True)
        return h[:, 0].tolist() if h.shape[1] == 1 else h.tolist()

    def _rest(self, out: list[float], start: int) -> float | list[float]:
        for neurons, kind, acts, _ in self.layers[start:]:
            out = _activate([b + sum(map(mul, w, out)) for w, b in neurons], kind, acts)
        if self.softmax:
            top = max(out)
            exps = [math.exp(v - top) for v in out]
            out = [e / sum(exps) for e in exps]
        return out[0] if len(out) == 1 else out


def _activate(zs: list[float], kind: str, acts: Sequence[Callable[[float], float]]) -> list[float]:
    # relu and linear inline: a function call per neuron would double the cost of the grid
    if kind == "relu":
        return [z if z > 0 else 0.0 for z in zs]
    return zs if kind == "linear" else [act(z) for act, z in zip(acts, zs)]


def _numpy_activation(np: Any, name: str, z: Any, slope: float) -> Any:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name in ("leaky_relu", "prelu"):
        return np.where(z > 0, z, (0.01 if name == "leaky_relu" else slope) * z)
    if name == "sigmoid":
        e = np.exp(-np.abs(z))  # never overflows: e**-|z| is at most 1
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    if name == "tanh":
        return np.tanh(z)
    if name == "step":
        return (z > 0).astype(float)
    return z


def _float_activation(name: str, slope: float) -> Callable[[float], float]:
    table: dict[str, Callable[[float], float]] = {
        "relu": lambda z: z if z > 0 else 0.0,
        "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
        "prelu": lambda z: z if z > 0 else slope * z,
        "sigmoid": lambda z: 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z)),
        "tanh": math.tanh,
        "step": lambda z: 1.0 if z > 0 else 0.0,
        "linear": lambda z: z,
    }
    return table[name]


class Recorder:
    """Keeps an EpochRecord per epoch for fit, and shows the latest in a LiveView when asked."""

    def __init__(self, model: Module, X: Sequence, y: Sequence, loss: object, epochs: int,
                 validation_data: tuple[Sequence, Sequence] | None, live: LiveView | None = None) -> None:
        self.model, self.live, self.loss = model, live, loss
        self.recording = Recording(epochs)
        two_d = all(isinstance(x, (list, tuple)) and len(x) == 2 for x in X)
        self.cut, self.target_cut = _cuts(loss, y)
        if isinstance(model, MLP):
            self.recording.layers = [(model.nin, "input")] + [(len(la.neurons), la.activation) for la in model.layers]
        if two_d:
            self.recording.bounds = _bounds([_floats(x) for x in X])
            classes = [self._target_class(t) for t in y]
            self.recording.points = _some([(*_floats(x), c) for x, c in zip(X, classes)], MAX_POINTS)
            if validation_data is not None:
                self.recording.val_points = _some([(*_floats(x), self._target_class(t))
                                                   for x, t in zip(*validation_data)], MAX_POINTS // 2)
            self.recording.classes = max(2, 1 + max(c for _, _, c in self.recording.points + self.recording.val_points))

    def _target_class(self, t: Any) -> int:
        t = t.data if isinstance(t, Value) else t
        if isinstance(t, (list, tuple)):
            values = [v.data if isinstance(v, Value) else float(v) for v in t]
            return max(range(len(values)), key=values.__getitem__)
        if self.loss == "cross_entropy":
            return int(t)
        return int(float(t) > self.target_cut)

    def epoch(self, k: int, loss: float, accuracy: float | None, val_loss: float | None,
              val_accuracy: float | None) -> None:
        """Keep epoch ``k`` (0: before training) and redraw the live view."""
        record = EpochRecord(k, loss, accuracy, val_loss, val_accuracy)
        if isinstance(self.model, MLP):
            record.weights = [[[w.data for w in n.w] for n in la.neurons] for la in self.model.layers]
            record.biases = [[n.b.data for n in la.neurons] for la in self.model.layers]
        if self.recording.bounds is not None:
            record.grid = self._grid()
        self.recording.frames.append(record)
        if self.live is not None:
            self.live.update(self.recording)

    def _grid(self) -> list[float]:
        x0, x1, y0, y1 = self.recording.bounds or (0.0, 1.0, 0.0, 1.0)
        n = self.recording.resolution
        xs = [x0 + (x1 - x0) * (i + 0.5) / n for i in range(n)]
        ys = [y1 - (y1 - y0) * (j + 0.5) / n for j in range(n)]  # row 0 is the top of the picture
        if isinstance(self.model, MLP) and self.model.nin == 2:
            outputs = FloatMLP(self.model).grid(xs, ys)
        else:
            with no_grad():
                values = [self.model([xv, yv]) for yv in ys for xv in xs]
            outputs = [v.data if isinstance(v, Value) else [o.data for o in v] for v in values]
        grid = []
        for out in outputs:
            if isinstance(out, list):
                self.recording.argmax = True
                k = max(range(len(out)), key=out.__getitem__)
                grid.append(round(k + _top_probability(out), 3))
            else:
                grid.append(round(out - self.cut, 4))
        return grid


def _some(points: list[tuple[float, float, int]], most: int) -> list[tuple[float, float, int]]:
    """At most ``most`` of the points, evenly spread through the list: a picture needs no more."""
    if len(points) <= most:
        return points
    return [points[i * len(points) // most] for i in range(most)]


def _top_probability(logits: Sequence[float]) -> float:
    top = max(logits)
    return min(0.999, 1 / sum(math.exp(v - top) for v in logits))


def _floats(x: Sequence) -> tuple[float, float]:
    a, b = (v.data if isinstance(v, Value) else float(v) for v in x)
    return a, b


def _cuts(loss: object, y: Sequence) -> tuple[float, float]:
    """Where a single output's score and the targets split into the two classes: (score cut, target cut)."""
    if loss == "hinge":
        return 0.0, 0.0
    if loss == "bce":
        return 0.0, 0.5  # the output is a logit, the targets are 0/1
    numbers = [t.data if isinstance(t, Value) else t for t in y]
    numbers = [float(t) for t in numbers if isinstance(t, (int, float))]
    mid = (min(numbers) + max(numbers)) / 2 if numbers else 0.0
    return mid, mid


def _bounds(points: Sequence[tuple[float, float]]) -> tuple[float, float, float, float]:
    """The data's box with a margin of a tenth of its size on each side (a unit box around a single point)."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]

    def pad(lo: float, hi: float) -> tuple[float, float]:
        m = (hi - lo) * 0.1 or 0.5
        return lo - m, hi + m

    return (*pad(min(xs), max(xs)), *pad(min(ys), max(ys)))


def start_recording(model: Module, X: Sequence, y: Sequence, loss: object, epochs: int,
                    validation_data: tuple[Sequence, Sequence] | None, live: bool,
                    evaluate: Callable[[tuple[Sequence, Sequence]], tuple[float, float | None]]) -> Recorder:
    """fit's recorder, with epoch 0 (the model before training) kept; live only inside Jupyter."""
    view = live_view() if live else None
    if live and view is None:
        warnings.warn("fit: live=True draws in a Jupyter notebook only; showing the progress bar instead",
                      stacklevel=3)
    recorder = Recorder(model, X, y, loss, epochs, validation_data, view)
    train = evaluate((X, y))
    val = evaluate(validation_data) if validation_data is not None else (None, None)
    recorder.epoch(0, *train, *val)
    return recorder


# ---- drawing one epoch: three panels side by side in one SVG

def _png(rows: Sequence[Sequence[tuple[int, int, int]]]) -> bytes:
    """A truecolour PNG of ``rows`` of RGB pixels, written with zlib alone (no Pillow needed)."""
    raw = b"".join(b"\0" + bytes(c for px in row for c in px) for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    head = struct.pack(">IIBBBBB", len(rows[0]), len(rows), 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@functools.lru_cache(maxsize=1024)  # a frame has a few hundred cells in at most 16 shades
def _tint(colour: str, strength: float) -> tuple[int, int, int]:
    """``colour`` mixed into white: strength 0 is white, 1 is 60 % of the colour (points stay readable on it)."""
    s = 0.6 * max(0.0, min(1.0, strength))
    return tuple(round(255 + (c - 255) * s) for c in _rgb(colour))  # type: ignore[return-value]


def _cell(value: float, classes: int, argmax: bool) -> tuple[int, float]:
    """(class, strength in [0, 1]) of a grid value (see EpochRecord.grid)."""
    if argmax:
        k = int(value)
        strength = (value - k - 1 / classes) / (1 - 1 / classes)
    else:
        k, strength = int(value > 0), math.tanh(abs(value))
    return k, round(strength * 8) / 8  # eight shades per class: the eye sees no more, and the PNG stays small


def _boundary_image(rec: Recording, grid: Sequence[float]) -> str:
    n = rec.resolution
    cells = [_cell(v, rec.classes, rec.argmax) for v in grid]
    rows = [[_tint(CLASS_COLOURS[k % len(CLASS_COLOURS)], s) for k, s in cells[r * n:(r + 1) * n]] for r in range(n)]
    return "data:image/png;base64," + base64.b64encode(_png(rows)).decode("ascii")


def _contour(grid: Sequence[float], n: int, size: float) -> str:
    """Path data of the zero line of a single output's grid (marching squares between cell centres)."""
    cell = size / n
    d = []
    positive = [v > 0 for v in grid]
    for r in range(n - 1):
        for c in range(n - 1):
            i = r * n + c
            if positive[i] == positive[i + 1] == positive[i + n] == positive[i + n + 1]:
                continue  # the line does not pass through this cell (most cells)
            corners = [(c, r), (c + 1, r), (c + 1, r + 1), (c, r + 1)]
            vals = [grid[y * n + x] for x, y in corners]
            cross = []
            for i in range(4):
                (xa, ya), (xb, yb), va, vb = corners[i], corners[(i + 1) % 4], vals[i], vals[(i + 1) % 4]
                if (va > 0) != (vb > 0):
                    t = va / (va - vb)
                    cross.append(((xa + t * (xb - xa) + 0.5) * cell, (ya + t * (yb - ya) + 0.5) * cell))
            for k in range(0, len(cross) - 1, 2):  # a saddle cell has two segments
                (pa, qa), (pb, qb) = cross[k], cross[k + 1]
                d.append(f"M{pa:.0f} {qa:.0f}L{pb:.0f} {qb:.0f}")  # a unit is about a pixel
    return "".join(d)


def _points_svg(rec: Recording) -> str:
    """The data points in the boundary panel's units: training as dots, validation as open squares.

    Each mark is a zero-length line with a round or square cap ("M12 46h0"), one path per
    class and split: about 8 characters a point, so the live view's updates stay small.
    """
    x0, x1, y0, y1 = rec.bounds or (0.0, 1.0, 0.0, 1.0)

    def marks(points: list[tuple[float, float, int]], k: int, step: str = "h0") -> str:
        return "".join(f"M{(x - x0) / (x1 - x0) * _PANEL:.0f} {(y1 - y) / (y1 - y0) * _PANEL:.0f}{step}"
                       for x, y, c in points if c == k)

    parts = []
    for k in sorted({c for _, _, c in rec.points}):
        d, colour = marks(rec.points, k), CLASS_COLOURS[k % len(CLASS_COLOURS)]
        parts.append(f'<path d="{d}" stroke="white" stroke-width="8.8"/><path d="{d}" stroke="{colour}" '
                     'stroke-width="7.2"/>')
    for k in sorted({c for _, _, c in rec.val_points}):
        # a square cap needs a direction: a line of 0.1, where Cairo (the GIF) draws no cap on one of 0
        d, colour = marks(rec.val_points, k, "h.1"), CLASS_COLOURS[k % len(CLASS_COLOURS)]
        parts.append(f'<g stroke-linecap="square"><path d="{d}" stroke="white" stroke-width="8.4"/>'
                     f'<path d="{d}" stroke="{colour}" stroke-width="6.8"/><path d="{d}" stroke="white" '
                     'stroke-width="3.6"/></g>')
    return f'<g fill="none" stroke-linecap="round">{"".join(parts)}</g>'


def _key_svg(rec: Recording) -> str:
    """The boundary panel's key, under it: which colour is which class, which mark is which split."""
    names = ["class 0", "class 1"] if rec.classes == 2 else [f"class {k}" for k in range(rec.classes)]
    parts, x = [], 0
    for k, name in enumerate(names[:6]):
        parts.append(f'<circle cx="{x + 5}" cy="-4" r="4.5" fill="{CLASS_COLOURS[k]}"/>'
                     f'<text x="{x + 13}" y="0">{name}</text>')
        x += 13 + 7 * len(name) + 10
    line = "".join(parts)
    marks = ('<circle cx="5" cy="14" r="4" fill="#4a5568"/><text x="13" y="18">training</text>'
             '<rect x="80" y="10" width="8" height="8" fill="white" stroke="#4a5568" stroke-width="1.6"/>'
             '<text x="93" y="18">validation</text>' if rec.val_points else "")
    return f'<g font-size="12" fill="#1a202c">{line}{marks}</g>'


def _boundary_cells(rec: Recording, grid: Sequence[float]) -> str:
    """The grid as vector cells, one path per shade (runs of equal cells merged along each row)."""
    n, size = rec.resolution, _PANEL / rec.resolution
    shades: dict[tuple[int, int, int], list[str]] = {}
    cells = [_cell(v, rec.classes, rec.argmax) for v in grid]
    for r in range(n):
        c = 0
        while c < n:
            end = c
            while end + 1 < n and cells[r * n + end + 1] == cells[r * n + c]:
                end += 1
            k, strength = cells[r * n + c]
            shades.setdefault(_tint(CLASS_COLOURS[k % len(CLASS_COLOURS)], strength), []).append(
                f"M{c * size:.1f} {r * size:.1f}h{(end - c + 1) * size:.1f}v{size:.1f}h-{(end - c + 1) * size:.1f}z")
            c = end + 1
    paths = "".join(f'<path d="{"".join(d)}" fill="#{red:02x}{green:02x}{blue:02x}"/>'
                    for (red, green, blue), d in shades.items())
    return f'<g shape-rendering="crispEdges">{paths}</g>'  # crisp: no seams between neighbouring cells


def _boundary_panel(rec: Recording, frame: EpochRecord, points: str, vector: bool = False) -> str:
    """The decision boundary of this epoch (background and zero line) under the shared points.

    The background is a small PNG that the browser smooths as it scales it up, or with
    ``vector`` cells: the live view uses those, since a replaced image is decoded before it
    is drawn, and a redraw after every epoch would flash.
    """
    if frame.grid is None:
        return ""
    line = "" if rec.argmax else _contour(frame.grid, rec.resolution, _PANEL)
    background = _boundary_cells(rec, frame.grid) if vector else (
        f'<image href="{_boundary_image(rec, frame.grid)}" width="{_PANEL}" height="{_PANEL}" '
        'preserveAspectRatio="none"/>')
    return (background + (f'<path d="{line}" fill="none" stroke="#1a202c" stroke-width="1.5"/>' if line else "")
            + points)


def _loss_range(rec: Recording) -> float:
    values = [v for f in rec.frames for v in (f.loss, f.val_loss) if v is not None and math.isfinite(v)]
    return max(values, default=1.0) * 1.05 or 1.0


def _loss_static(rec: Recording, top: float) -> str:
    """Axes, ticks and the key of the loss panel: the same in every frame."""
    last = max(rec.epochs_planned, 1)
    parts = [f'<path d="M0 0V{_PANEL}H{_PANEL}" fill="none" stroke="#4a5568"/>']
    for frac in (0.0, 0.5, 1.0):
        y = _PANEL - frac * _PANEL
        parts.append(f'<path d="M0 {y:.0f}H{_PANEL}" stroke="#e2e8f0"/>' if frac else "")
        parts.append(f'<text x="-5" y="{y + 4:.0f}" text-anchor="end">{_fmt(top * frac)}</text>')
    for e in sorted({0, last // 2, last}):
        x = e / last * _PANEL
        parts.append(f'<text x="{x:.0f}" y="{_PANEL + 16}" text-anchor="middle">{e}</text>')
    parts.append(f'<text x="{_PANEL / 2:.0f}" y="{_PANEL + 31}" text-anchor="middle">epoch</text>')
    key = (f'<path d="M150 14h22" stroke="{_TRAIN_COLOUR}" stroke-width="2"/><text x="176" y="18">training</text>')
    if any(f.val_loss is not None for f in rec.frames):
        key += (f'<path d="M150 32h22" stroke="{_VAL_COLOUR}" stroke-width="2" stroke-dasharray="5,3"/>'
                '<text x="176" y="36">validation</text>')
    return f'<g font-size="12" fill="#1a202c">{"".join(parts)}{key}</g>'


def _loss_panel(rec: Recording, k: int, top: float, static: str) -> str:
    """The loss curves up to frame ``k`` and a dot on its epoch."""
    last = max(rec.epochs_planned, 1)
    frames = rec.frames[:k + 1]

    def line(values: list[float | None], colour: str, dash: str) -> str:
        pts = [(f.epoch / last * _PANEL, _PANEL - min(v, top) / top * _PANEL)
               for f, v in zip(frames, values) if v is not None and math.isfinite(v)]
        if not pts:
            return ""
        d = "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in pts)
        x, y = pts[-1]
        return (f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>')

    return (static + line([f.loss for f in frames], _TRAIN_COLOUR, "")
            + line([f.val_loss for f in frames], _VAL_COLOUR, ' stroke-dasharray="5,3"'))


def _node_step(layers: Sequence[tuple[int, str]]) -> float:
    """The distance between two nodes of a column: the widest layer fills the panel's height."""
    return min(34.0, (_PANEL - 20) / max(max(size for size, _ in layers), 1))


def _network_layout(layers: Sequence[tuple[int, str]]) -> list[list[tuple[float, float]]]:
    """Node centres per layer: columns across the panel, each column centred."""
    cols, step = len(layers), _node_step(layers)
    out = []
    for i, (size, _) in enumerate(layers):
        x = 18 + i * (_PANEL - 36) / max(cols - 1, 1)
        top = (_PANEL - 20 - step * (size - 1)) / 2
        out.append([(x, top + j * step) for j in range(size)])
    return out


@functools.lru_cache(maxsize=8)
def _edge_lines(layers: tuple[tuple[int, str], ...]) -> list[list[list[str]]]:
    """Path data of every edge, ``[layer][neuron][input]``: the same in every frame, so formatted once."""
    pos = _network_layout(layers)
    return [[[f"M{xa:.0f} {ya:.0f}L{xb:.0f} {yb:.0f}" for xa, ya in pos[li]] for xb, yb in pos[li + 1]]
            for li in range(len(layers) - 1)]


def _weight_top(rec: Recording) -> float:
    return max((abs(w) for f in rec.frames for layer in f.weights or [] for n in layer for w in n), default=1.0) or 1.0


def _network_panel(rec: Recording, frame: EpochRecord, top: float) -> str:
    """The MLP with each weight coloured by sign and drawn thicker by size (viz.draw_network's pens)."""
    if rec.layers is None or frame.weights is None or frame.biases is None:
        return ""
    pos = _network_layout(rec.layers)
    radius = max(2.5, min(8.0, 0.3 * _node_step(rec.layers)))
    lines = _edge_lines(tuple(rec.layers))
    pens: dict[tuple[str, str], list[str]] = {}  # one path per colour and pen (rounded to 0.1) keeps frames small
    for layer, layer_lines in zip(frame.weights, lines):
        for weights, neuron_lines in zip(layer, layer_lines):
            for w, line in zip(weights, neuron_lines):
                pen = f"{float(_weight_pen(w, top)):.1f}"
                pens.setdefault((_POS if w >= 0 else _NEG, pen), []).append(line)
    edges = "".join(f'<g stroke="{colour}">' + "".join(f'<path d="{"".join(d)}" stroke-width="{p}"/>'
                                                      for (c, p), d in sorted(pens.items()) if c == colour) + "</g>"
                    for colour in (_POS, _NEG))
    btop = max((abs(b) for layer in frame.biases for b in layer), default=0.0) or 1.0
    nodes = [f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{radius:.1f}" fill="#e2e8f0"/>' for x, y in pos[0]]
    for li, biases in enumerate(frame.biases):
        for (x, y), b in zip(pos[li + 1], biases):
            r, g, bl = _tint(_POS if b >= 0 else _NEG, abs(b) / btop)
            nodes.append(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{radius:.1f}" fill="#{r:02x}{g:02x}{bl:02x}"/>')
    return (f'<g fill="none" stroke-opacity="0.75">{edges}</g>'
            f'<g stroke="#4a5568" stroke-width="0.8">{"".join(nodes)}</g>')


def _network_key(rec: Recording, top: float) -> str:
    """The network panel's texts: each layer's activation under its column, and what colour and width mean."""
    if rec.layers is None:
        return ""
    pos = _network_layout(rec.layers)
    labels = "".join(f'<text x="{col[0][0]:.0f}" y="{_PANEL + 2}" text-anchor="middle">{act}</text>'
                     for col, (_, act) in zip(pos, rec.layers))
    legend = (f'<text x="0" y="{_PANEL + 18}">blue +, red -, thickness |w| (max {_fmt(top)})</text>'
              f'<text x="0" y="{_PANEL + 33}">fill: the bias of the neuron</text>')
    return f'<g font-size="12" fill="#1a202c">{labels}{legend}</g>'


def _titles(titles: Sequence[str]) -> str:
    return "".join(f'<text x="{_panel_x(i, t)}" y="16" font-size="14" font-weight="bold" fill="#1a202c">{t}</text>'
                   for i, t in enumerate(titles))


def _panel_x(i: int, title: str) -> int:
    return _GAP + i * (_PANEL + 2 * _GAP) + (_GAP if title == "loss" else 0)  # room for the loss axis's numbers


@dataclass
class _Panels:
    """The frame-independent pieces of a recording's pictures, computed once; ``pieces`` may be shared by <use>."""

    titles: list[str]
    loss_top: float
    weight_top: float
    pieces: dict[str, str]


def _panels(rec: Recording, weight_top: float | None = None, still: dict[str, str] | None = None) -> _Panels:
    """The pieces every frame shares; ``still`` caches the points and the key between calls (the live view)."""
    titles = []
    if rec.bounds is not None:
        titles.append("decision boundary")
    titles.append("loss")
    if rec.layers is not None:
        titles.append("network")
    top = _loss_range(rec)
    wtop = weight_top or _weight_top(rec)
    still = {} if still is None else still
    if "points" not in still:
        still.update(points=_points_svg(rec), keys=_key_svg(rec)) if rec.bounds else still.update(points="", keys="")
    pieces = dict(still, axes=_loss_static(rec, top), netkey=_network_key(rec, wtop), titles=_titles(titles))
    return _Panels(titles, top, wtop, pieces)


def frame_svg(rec: Recording, k: int, panels: _Panels, use: Callable[[str], str] | None = None,
              vector: bool = False) -> str:
    """Frame ``k`` as one SVG of its panels. ``use(name)`` may draw a shared piece with a ``<use>``;
    ``vector`` draws the boundary's background as cells rather than an image (the live view)."""
    frame = rec.frames[k]

    def share(name: str) -> str:
        return use(name) if use is not None and panels.pieces[name] else panels.pieces[name]

    bodies = {
        "decision boundary": _boundary_panel(rec, frame, share("points"), vector)
        + f'<g transform="translate(0 {_PANEL + 18})">{share("keys")}</g>',
        "loss": _loss_panel(rec, k, panels.loss_top, share("axes")),
        "network": _network_panel(rec, frame, panels.weight_top) + share("netkey"),
    }
    width = len(panels.titles) * (_PANEL + 2 * _GAP) + _GAP
    height = _TOP + _PANEL + 50
    parts = [share("titles")]
    for i, title in enumerate(panels.titles):
        parts.append(f'<g transform="translate({_panel_x(i, title)} {_TOP})">{bodies[title]}</g>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'style="max-width:{width}px;height:auto" data-width="{width}" data-height="{height}" {_FONT}>'
            f'<rect width="{width}" height="{height}" fill="white"/>{"".join(parts)}</svg>')


def caption(rec: Recording, k: int, last: int | None = None) -> str:
    """The frame's caption: the epoch (of ``last``, the last recorded by default), the losses and accuracies."""
    f = rec.frames[k]
    last = rec.frames[-1].epoch if last is None else last

    def scores(loss: float | None, acc: float | None) -> str:
        return f"loss {_fmt(loss) if loss is not None else '-'}" + (f", accuracy {acc:.1%}" if acc is not None else "")

    head = f"epoch {f.epoch} of {last}" + (" (before training)" if f.epoch == 0 else "")
    lines = [f"{head}: training {scores(f.loss, f.accuracy)}"]
    if f.val_loss is not None:
        lines.append(f"validation {scores(f.val_loss, f.val_accuracy)}")
    return "\n".join(lines)


# ---- the replay and the live view

def check_replay_path(path: str | None) -> str | None:
    """None if ``path`` (the --replay option) names an .html or .gif file in an existing folder, else why not."""
    if path is None:
        return None
    if os.path.splitext(path)[1].lower() not in (".html", ".htm", ".gif"):
        return f"--replay {path!r}: give a file ending in .html or .gif, e.g. --replay training.html"
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        return f"--replay {path!r}: the folder {folder!r} does not exist"
    if path.lower().endswith(".gif"):
        try:
            gif_modules()
        except ImportError as e:
            return f"--replay {path!r}: {e}"
    return None



class Replay:
    """A recorded training run as frames, one per epoch, in the shared kernel-free player.

    Shows itself in Jupyter; ``save("training.html")`` writes one self-contained page
    (play/pause, a slider, the arrow keys, ``#epoch=N`` in the address), and
    ``save("training.gif")`` an animated GIF (the ``gif`` extra).
    """

    def __init__(self, recording: Recording, link: str | None = "epoch", seconds: float = 0.4) -> None:
        if not isinstance(recording, Recording):
            raise TypeError(f"Replay: needs a Recording (history.recording), got {type(recording).__name__}")
        if not recording.frames:
            raise ValueError("Replay: the recording has no epochs")
        check_link(link, "replay")
        if not seconds > 0:
            raise ValueError(f"replay: seconds per epoch must be > 0, got {seconds!r}")
        self.recording, self.link, self.seconds = recording, link, seconds

    def __len__(self) -> int:
        return len(self.recording.frames)

    def __repr__(self) -> str:
        return f"<Replay of {len(self)} frames: epochs 0 to {self.recording.frames[-1].epoch}>"

    @property
    def captions(self) -> list[str]:
        """Every frame's caption, epoch 0 first."""
        return [caption(self.recording, k) for k in range(len(self))]

    def fallback(self) -> list[int]:
        """The frames shown without JavaScript: the first, two between and the last."""
        last = len(self) - 1
        return sorted({0, round(last / 3), round(2 * last / 3), last})

    def html(self, standalone: bool = False) -> str:
        """The replay as an HTML fragment, or a whole page with ``standalone=True``."""
        rec, captions = self.recording, self.captions
        pid = player_id("mglrp", captions)
        panels = _panels(rec)
        shared = ('<svg width="0" height="0" style="position:absolute" aria-hidden="true" focusable="false"><defs>'
                  + "".join(f'<g id="{pid}-{name}">{svg}</g>' for name, svg in panels.pieces.items() if svg)
                  + "</defs></svg>")

        def use(name: str) -> str:
            return f'<use href="#{pid}-{name}"/>'

        bodies = [frame_svg(rec, k, panels, use) for k in range(len(self))]
        return player_html(pid, captions, bodies, kind="replay", word="epoch", link=self.link, shared=shared,
                           fallback=self.fallback(), play_ms=round(self.seconds * 1000), standalone=standalone,
                           title="training replay")

    def _repr_html_(self) -> str:
        return self.html()

    def save(self, path: str | os.PathLike[str], **gif_options: Any) -> str:
        """Write ``path``: a self-contained HTML page (``.html``) or an animated GIF (``.gif``)."""
        path, ext = html_or_gif(path, "Replay.save", gif_options)
        if ext == ".gif":
            return self.to_gif(path, **gif_options)
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html(standalone=True))
        return path

    def svg(self, k: int = -1) -> str:
        """Frame ``k`` (the last by default) as one standalone SVG picture, e.g. for ``IPython.display.SVG``."""
        if not -len(self) <= k < len(self):
            raise IndexError(f"Replay.svg: frame {k} of a replay of {len(self)} frames (0 to {len(self) - 1})")
        svg = frame_svg(self.recording, k % len(self), _panels(self.recording))
        return re.sub(r' style="max-width:(\d+)px;height:auto" data-width="\d+" data-height="\d+"',
                      r' style="max-width:\1px;height:auto"', svg, count=1)

    def to_gif(self, path: str | os.PathLike[str], seconds: float | None = None, width: int = 960) -> str:
        """An animated GIF of the frames, each with its caption, ``width`` pixels wide. Needs the ``gif`` extra."""
        if width < 300 or (seconds is not None and not seconds > 0):
            raise ValueError(f"to_gif: width must be >= 300 and seconds > 0, got {width!r}, {seconds!r}")
        cairosvg, Image = gif_modules()
        from io import BytesIO

        panels = _panels(self.recording)
        images = []
        for k, text in enumerate(self.captions):
            svg = re.sub(r'width="100%" style="max-width:(\d+)px;height:auto" data-width="\d+" data-height="(\d+)"',
                         r'width="\1" height="\2"', frame_svg(self.recording, k, panels), count=1)  # cairo wants a size
            png = cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=width, background_color="white")
            images.append(caption_image(text, Image.open(BytesIO(png)), width))
        return write_gif(path, images, self.seconds if seconds is None else seconds)


class LiveView:
    """The latest epoch's panels in one Jupyter output, redrawn in place (``display_id``) after every epoch."""

    def __init__(self) -> None:
        from IPython.display import HTML, display

        self._html = HTML
        self._handle = display(HTML('<div style="min-height:400px">training starts...</div>'), display_id=True)
        self.updates = 0
        self._weight_top = 0.0
        self._still: dict[str, str] = {}  # the points and the key never change: drawn once

    def update(self, rec: Recording) -> None:
        """Draw the last recorded epoch (axes scaled to what has been seen so far)."""
        k = len(rec.frames) - 1
        last = rec.frames[-1]
        # the thickest pen stands for the largest weight seen so far: one running scale, not one per epoch
        self._weight_top = max([self._weight_top] + [abs(w) for la in last.weights or [] for n in la for w in n])
        panels = _panels(rec, self._weight_top or 1.0, self._still)
        svg = frame_svg(rec, k, panels, vector=True)
        text = "".join(f"<div>{html.escape(line)}</div>" for line in caption(rec, k, rec.epochs_planned).split("\n"))
        self._handle.update(self._html(
            '<div class="mgl-live" style="font-family:Helvetica,Arial,sans-serif">'
            f'<div style="font-family:Menlo,Consolas,monospace;font-size:13px;margin-bottom:.3em">{text}</div>'
            f"{svg}</div>"))
        self.updates += 1


def live_view() -> LiveView | None:
    """A LiveView when running in a Jupyter kernel, else None (the caller falls back to the progress bar)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return None
    return LiveView()
