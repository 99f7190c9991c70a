"""The backprop flipbook: one frame per backward step, saved as one HTML file that needs no kernel."""

from __future__ import annotations

import html
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .engine import Value, _sends
from .player import caption_image, check_link, gif_modules, html_or_gif, player_html, player_id, write_gif
from .trace import Step, _steps
from .viz import _fmt, short_name  # numbers read the same in a caption as in the boxes

if TYPE_CHECKING:  # graphviz is imported lazily so that `import micrograd_like` stays cheap
    import graphviz

    from .viz import GraphOf

__all__ = ["Flipbook", "Frame", "flipbook", "save_steps", "step_svgs", "stepper"]



@dataclass(frozen=True)
class Frame:
    """One picture of the flipbook: the caption (plain text, one line per fact) and the picture.

    ``svg`` is what the page shows: the close-up (``close_up``) and, beside it, the whole
    graph small (``overview``, Graphviz's SVG of ``draw_graph`` with the node highlighted).
    """

    caption: str
    svg: str
    node_id: str  # the DOT id of the highlighted node (v0, v1, ... as in draw_graph)
    step: Step | None  # None for the seed frame
    close_up: str = ""  # the current node, its parents and its users, large enough to read
    overview: str = ""  # the whole graph, small, in the same place in every frame
    hover: tuple[str, ...] = ()  # per caption line, the full path of the value it is about (a tooltip)


class Flipbook:
    """Frames of a backward pass; shows itself in Jupyter and saves as one self-contained HTML file.

    ``len(fb)`` is the number of frames (the seed, then one per non-leaf node).
    ``fb.save("backprop.html")`` writes the page; ``fb.save("backprop.gif")`` an animated GIF.
    """

    def __init__(self, frames: Sequence[Frame], link: str | None = "step", title: str = "backprop") -> None:
        check_link(link, "flipbook")
        self.frames = list(frames)
        self.link = link
        self.title = title

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return f"<Flipbook of {len(self.frames)} frames>"

    def html(self, standalone: bool = False) -> str:
        """The flipbook as an HTML fragment (or a whole page): frames, controls and a small script.

        Without JavaScript every frame shows, one under another with its caption; the
        script (the player's, ``player.player_html``) hides all but the current one and adds the controls.
        """
        captions = [f.caption for f in self.frames]
        fid = player_id("mglfb", captions)
        shared, svgs = _share(f"{fid}-", [f.svg for f in self.frames], [f.node_id for f in self.frames])
        return player_html(fid, captions, svgs, kind="flipbook", word="step", link=self.link, shared=shared,
                           frame_attrs=[{"data-node": f.node_id} for f in self.frames], standalone=standalone,
                           title=self.title, line_titles=[f.hover for f in self.frames])

    def _repr_html_(self) -> str:
        return self.html()

    def save(self, path: str | os.PathLike[str], **gif_options: Any) -> str:
        """Write ``path``: one self-contained HTML page (``.html``/``.htm``) or an animated GIF (``.gif``).

        The page embeds every frame and its script: no network, no kernel; open it in any
        browser, put it on a course site, or link one step with ``page.html#step=5``.
        """
        path, ext = html_or_gif(path, "Flipbook.save", gif_options)
        if ext == ".gif":
            return self.to_gif(path, **gif_options)
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html(standalone=True))
        return path

    def to_gif(self, path: str | os.PathLike[str], seconds: float = 1.5, max_width: int = 1200) -> str:
        """Write an animated GIF of the frames, each with its caption above the graph.

        ``seconds`` per frame (the seed and the last frame stay twice as long);
        the pictures are scaled down to at most ``max_width`` pixels. Needs the ``gif`` extra.
        """
        if seconds <= 0 or max_width < 100:
            raise ValueError(f"to_gif: seconds must be > 0 and max_width >= 100, got {seconds!r}, {max_width!r}")
        if not self.frames:
            raise ValueError("to_gif: the flipbook has no frames")
        return write_gif(path, [_frame_image(f, max_width) for f in self.frames], seconds)


def flipbook(root: Value, *, link: str | None = "step", timeout: float | None = None,
             **draw_options: Any) -> Flipbook:
    """Run ``root.backward()`` one step at a time and draw each step: a Flipbook of frames.

    Frame 0 is step 0, the seed, dL/dL = 1; frame k shows step k of ``trace.backward_steps``
    (the same numbers): the node whose gradient is final, in a close-up with the nodes
    that gave it its gradient (its users, each edge with its local derivative and what it
    gave) and its parents (each edge with d node / d parent and what it sends), and beside
    it the whole graph small with the node highlighted. Captions give the chain rule with
    numbers, contribution = dL/dnode * dnode/dparent, and the parent's grad after it; names
    are short (``z``, ``w[0]``; the neuron they belong to is said once, and the full name
    shows on hover). Afterwards the gradients are those of ``root.backward()``. Graphviz
    lays the graph out once; the frames differ in text and highlight only, so nodes never
    move between frames. ``link`` names the step in the page address (``#step=5``); on a
    page with several flipbooks the first with a given link owns it; give others their own
    (``link="neuron"``, ``#neuron=2``) or ``None``. ``timeout`` bounds the Graphviz run in
    seconds (``viz.LAYOUT_TIMEOUT`` by default); ``draw_options`` go to ``viz.draw_graph``.
    """
    frames, _, rname = _build(root, timeout, draw_options)
    return Flipbook(frames, link=link, title=f"backprop of {rname}")


def _build(root: Value, timeout: float | None,
           draw_options: Mapping[str, Any]) -> tuple[list[Frame], list[str], str]:
    """The frames of ``root``'s backward pass, their overviews as Graphviz wrote them, and the root's name.

    The graph is walked once (``viz.GraphOf``: its order and names); every frame is drawn
    from that walk.
    """
    from . import viz

    if not isinstance(root, Value):
        raise TypeError(f"flipbook: root must be a Value, got {type(root).__name__}")
    if "highlight" in draw_options:
        raise TypeError("flipbook: highlight is chosen per frame (the current node); do not pass it")
    viz._graphviz()  # the package is needed to describe the frames: say so before the work
    graph = viz.GraphOf(root)
    order, names = graph.order, graph.names
    before = [v.grad for v in order]
    steps = list(_steps(root, names))
    final = [v.grad for v in order]
    options = dict(draw_options)
    if options.get("color_by_grad") and options.get("grad_scale") is None:
        # one colour scale for the whole pass: a colour means the same grad in every frame, and
        # the legend (which names the scale) is the same in every frame, so one layout serves them all
        seen = [abs(g) for g in [root.grad, *final, *(e.parent_grad for s in steps for e in s.edges)]
                if g - g == 0 and g]
        options["grad_scale"] = max(seen, default=1.0)
    try:
        # the highlight is drawn thick: in the small overview it is what the eye looks for
        style = viz._style(graph, highlight_pen="8", **options)
    except TypeError as problem:
        raise TypeError(f"flipbook: {problem}") from None

    # Replay the pass: set each frame's gradients, describe the frame (no Graphviz run), and
    # keep the final gradients when done.
    graphs: list[graphviz.Digraph] = []
    close_ups: list[str] = []
    try:
        for v, b in zip(order, before):
            v.grad = b if v.is_leaf else 0.0
        root.grad = final[-1]  # the seed; nothing passes a gradient back to the root
        graphs.append(viz.draw(graph, style, {root}))
        close_ups.append(_close_up(graph, root, None))
        for step in steps:
            for e in step.edges:
                e.parent.grad = e.parent_grad
            graphs.append(viz.draw(graph, style, {step.node}))
            close_ups.append(_close_up(graph, step.node, step))
    finally:
        for v, g in zip(order, final):
            v.grad = g
    svgs = _render(graphs, viz.LAYOUT_TIMEOUT if timeout is None else timeout)
    nodes = [root] + [s.node for s in steps]
    frames = []
    for k, (svg, node, close) in enumerate(zip(svgs, nodes, close_ups)):
        node_id = f"v{graph.index[id(node)]}"
        shown = steps[k - 1] if k else None
        overview = _inline(svg, node_id)
        caption = _caption(k, len(steps), shown, names, root)
        frames.append(Frame(caption, _side_by_side(close, overview), node_id, shown, close, overview,
                            _hover(shown, names, root)))
    return frames, svgs, names[root]


def save_steps(root: Value, path: str | os.PathLike[str], **draw_options: Any) -> str:
    """Write the flipbook of ``root``'s backward pass to ``path``: ``.html`` page or ``.gif`` animation."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in (".html", ".htm", ".gif"):
        raise ValueError(f"save_steps: cannot tell the format of {os.fspath(path)!r}; use .html or .gif")
    if ext == ".gif":
        gif_modules()  # fail before the work, with the name of the extra
    return flipbook(root, **draw_options).save(path)


def step_svgs(root: Value, **draw_options: object) -> Iterator[str]:
    """One SVG document (text) per backward step, the current node highlighted: the static stepper.

    The overviews of ``flipbook(root)``'s frames 1 to N (steps 1 to N; frame 0 is the
    seed): one Graphviz layout for all of them, so nodes stay put from picture to picture
    while the gradients fill in. Each SVG shrinks to the width of the page
    (``viz.scalable_svg``). Runs ``root``'s backward pass; needs the graphviz package and
    program; options go to ``viz.draw_graph``.
    """
    from .viz import scalable_svg

    _, svgs, _ = _build(root, None, draw_options)
    for svg in svgs[1:]:
        yield scalable_svg(svg)


def stepper(root: Value, **draw_options: object):  # type: ignore[no-untyped-def]
    """A notebook widget (ipywidgets) with previous/next buttons that walks through backprop.

    It shows the flipbook's frames (``flipbook(root)``): step 0, the seed, then each step
    with its close-up, the whole graph beside it and the chain rule with its numbers as the
    caption. Without ipywidgets, or to share the result, use ``flipbook(root)``: the same
    frames as plain HTML that needs no kernel.
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        raise ImportError("stepper needs ipywidgets (pip install ipywidgets); "
                          "flipbook(root) gives the same frames without it") from None

    frames, _, _ = _build(root, None, draw_options)
    picture, text = widgets.HTML(), widgets.HTML()
    prev_b, next_b = widgets.Button(description="previous"), widgets.Button(description="next")
    position = {"i": 0}

    def show(i: int) -> None:
        position["i"] = i
        frame = frames[i]
        picture.value = frame.svg
        text.value = f"<pre>{html.escape(frame.caption)}</pre>"
        prev_b.disabled, next_b.disabled = i == 0, i == len(frames) - 1

    prev_b.on_click(lambda _: show(max(0, position["i"] - 1)))
    next_b.on_click(lambda _: show(min(len(frames) - 1, position["i"] + 1)))
    show(0)
    return widgets.VBox([widgets.HBox([prev_b, next_b]), text, picture])


# ---- captions: short names, the neuron said once

def _named(name: str, home: str) -> str:
    """``name`` shortened, with its neuron added when that is not ``home`` (the current node's)."""
    short, where = short_name(name)
    return short if where in ("", home) else f"{short} ({where})"


def _hover(step: Step | None, names: Mapping[Value, str], root: Value) -> tuple[str, ...]:
    """The full name behind each line of ``_caption``: the current node's, then each parent's."""
    if step is None:
        return (names[root],)
    return (names[step.node],) + tuple(names[e.parent] for e in step.edges)


def _caption(k: int, n: int, step: Step | None, names: Mapping[Value, str], root: Value) -> str:
    rname = names[root]
    d = f"d{rname}"
    if step is None:
        return (f"step 0 of {n}: the seed, {d}/d{rname} = 1\n"
                f"{rname} = {_fmt(root.data)}; backward starts at the output with gradient 1")
    node = step.node
    name, home = short_name(names[node])
    args = [short_name(names[p])[0] for p in node.parents]
    shown = ", ".join(args[:6]) + (f", ... ({len(args)} inputs)" if len(args) > 6 else "")
    where = f" in {home}" if home else ""
    lines = [(f"step {k} of {n}: {name} = {node.op}({shown}) = {_fmt(node.data)}{where}, its gradient is final: "
              f"{d}/d{name} = {_fmt(step.grad)}")]
    for e in step.edges:
        p = short_name(names[e.parent])[0]
        lines.append(f"  to {_named(names[e.parent], home)}: {d}/d{name} * d{name}/d{p} = {_fmt(step.grad)} * "
                     f"{_fmt(e.local)} = {_fmt(e.contribution)}, {p}.grad is now {_fmt(e.parent_grad)}")
    if not step.edges:
        lines.append("  (no parents: nothing to pass on)")
    return "\n".join(lines)


# ---- the close-up: the current node, what gave it its gradient, and what it sends on

# in CSS pixels; a close-up is shown at its own size (1 unit = 1 px) on a page that has room for it
_ROW, _BOX_H, _TOP = 58, 44, 34
_X_PARENT, _W_PARENT = 8, 232
_X_OP, _X_NODE, _W_NODE = 420, 456, 192
_X_CHILD, _W_CHILD = 784, 160
_WIDTH = _X_CHILD + _W_CHILD + 8
_FONT = "font-family=\"Helvetica,Arial,sans-serif\""
_CUR, _EDGE_TEXT, _GREY = "#dd6b20", "#276749", "#4a5568"  # a darker green than the graph's: small text on white


def _t(x: float, y: float, text: str, size: int = 14, anchor: str = "start", weight: str = "normal",
       fill: str = "#1a202c") -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}"{bold} text-anchor="{anchor}" fill="{fill}">'
            f"{html.escape(text, quote=False)}</text>")


def _box(cls: str, x: float, y: float, w: float, full: str, home: str, lines: Sequence[str],
         stroke: str = "#4a5568", pen: float = 1.2, fill: str = "white") -> str:
    """A node of the close-up: its short name (its neuron beside it if not ``home``), then a line per fact."""
    short, where = short_name(full)
    h = 22 + 18 * len(lines)
    title = f"<title>{html.escape(full, quote=False)}</title>"
    parts = [f'<g class="mgl-node {cls}">{title}',
             f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h}" rx="6" fill="{fill}" stroke="{stroke}" '
             f'stroke-width="{pen}"/>',
             _t(x + 8, y + 18, short, 15, weight="bold")]
    if where and where != home:
        parts.append(_t(x + w - 6, y + 18, where, 12, anchor="end", fill=_GREY))
    parts += [_t(x + 8, y + 36 + 18 * i, line, 14) for i, line in enumerate(lines)]
    return "".join(parts) + "</g>"


def _edge(x1: float, y1: float, bend: float, x2: float, y2: float, above: str, below: str, text_x: float) -> str:
    """A line from (x1, y1) level to x = bend, then to (x2, y2), with a text above and below its level part."""
    return (f'<g class="mgl-edge"><polyline points="{x1:.0f},{y1:.0f} {bend:.0f},{y1:.0f} {x2:.0f},{y2:.0f}" '
            f'fill="none" stroke="#718096" stroke-width="1.3"/>'
            + _t(text_x, y1 - 6, above, 13, fill=_EDGE_TEXT) + _t(text_x, y1 + 17, below, 13) + "</g>")


def _users_of(graph: GraphOf, node: Value) -> list[tuple[Value, float]]:
    """Each node that uses ``node`` and its derivative with respect to ``node`` (summed over repeated edges)."""
    out = []
    for user in graph.users.get(id(node), []):
        out.append((user, sum(loc for p, loc in zip(user.parents, user.local_grads) if p is node)))
    return out


def _close_up(graph: GraphOf, node: Value, step: Step | None) -> str:
    """One line of SVG: the node of this step, its users on the right and its parents on the left.

    The node's grad is what its users give (each edge: its local derivative, and the user's
    grad times it); at the seed it is 1. Each parent's edge gives d node / d parent and,
    once the step has run, what it sends; parents show their grads as they are now.
    """
    names = graph.names
    name, home = short_name(names[node])
    edges = step.edges if step else ()
    parents = list(zip(node.parents, node.local_grads))
    users = _users_of(graph, node)
    rows = max(len(parents), len(users), 1)
    # the node sits level with the middle of the longer column, but never far down the page
    mid = _TOP + min(rows * _ROW / 2, 3.5 * _ROW) - _ROW / 2
    height = _TOP + rows * _ROW + 8
    body = [_t(_X_PARENT, 18, "parents (gradient sent to them)", 13, fill=_GREY),
            _t(_X_NODE, 18, "this step" if step else "step 0: the seed", 13, fill=_GREY),
            _t(_X_CHILD, 18, "used by (gradient from them)" if users else "", 13, fill=_GREY)]
    cy = mid + _BOX_H / 2
    for i, (parent, local) in enumerate(parents):
        y = _TOP + i * _ROW
        p = short_name(names[parent])[0]
        above = f"d{name}/d{p} = {_fmt(local)}"
        below = f"sends {_fmt(edges[i].contribution)}" if step else "nothing sent yet"
        x0 = _X_PARENT + _W_PARENT
        body.append(_edge(x0, y + _BOX_H / 2, _X_OP - 44, _X_OP - 18, cy, above, below, x0 + 8))
        body.append(_box("mgl-parent", _X_PARENT, y, _W_PARENT, names[parent], home,
                         [f"data {_fmt(parent.data)} · grad {_fmt(parent.grad)}"]))
    if node.op:
        # the op's name in a pill as wide as it needs (up to the node's box), centred where the edges meet
        half = max(18, min(4 + 4 * len(node.op), _X_NODE - _X_OP - 2))
        body.append(f'<g class="mgl-op"><rect x="{_X_OP - half}" y="{cy - 18:.0f}" width="{2 * half}" height="36" '
                    f'rx="18" fill="#edf2f7" stroke="#4a5568"/>' + _t(_X_OP, cy + 5, node.op, 13, anchor="middle")
                    + f'<line x1="{_X_OP + half}" y1="{cy:.0f}" x2="{_X_NODE}" y2="{cy:.0f}" stroke="#718096"/></g>')
    for i, (user, local) in enumerate(users):
        y = _TOP + i * _ROW
        gives = user.grad * local if _sends(user.grad, local) else 0.0
        u = short_name(names[user])[0]
        right = _X_NODE + _W_NODE
        body.append(_edge(_X_CHILD, y + _BOX_H / 2, right + 24, right, cy, f"d{u}/d{name} = {_fmt(local)}",
                          f"gives {_fmt(gives)}", right + 30))
        body.append(_box("mgl-child", _X_CHILD, y, _W_CHILD, names[user], home, [f"grad {_fmt(user.grad)}"]))
    if not users:
        body.append(_t(_X_NODE + _W_NODE + 16, cy + 5, f"seed: d{name}/d{name} = 1", 14, fill=_CUR, weight="bold"))
    body.append(_box("mgl-current", _X_NODE, mid, _W_NODE, names[node], "-",
                     [f"data {_fmt(node.data)}", f"grad {_fmt(node.grad)}"], stroke=_CUR, pen=3, fill="#fffaf0"))
    return (f'<svg class="mgl-close-up" width="{_WIDTH}" height="{height:.0f}" viewBox="0 0 {_WIDTH} {height:.0f}" '
            f'{_FONT} xmlns="http://www.w3.org/2000/svg" style="max-width:100%;height:auto;flex:none" role="img" '
            f'aria-label="step close-up: {html.escape(names[node])}">' + "".join(body) + "</svg>")


def _side_by_side(close_up: str, overview: str) -> str:
    """The frame's picture: the close-up, and the whole graph small beside it (below on a narrow page).

    The close-up is one line, so frames still share the overview's lines (``_share``).
    """
    return ('<div class="mgl-step" style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start">'
            + close_up + '<div class="mgl-overview" style="flex:1 1 200px;min-width:180px;max-width:100%" '
            'title="the whole graph; the current node is outlined in orange">\n' + overview + "\n</div></div>")


# ---- rendering: one Graphviz layout, then each frame is the layout SVG with its text and styles rewritten

class _NoFastPath(Exception):
    """A frame differs from the layout in a way the text rewrite does not cover."""


_NODE_LINE = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*")\s*\[(.*)\]\s*$', re.DOTALL)
_ATTR = re.compile(r'([A-Za-z_]+)=("(?:[^"\\]|\\.)*"|<|[^\s\]]+)')
_GROUP = re.compile(r'(<g id="node\d+" class="node">\s*<title>([^<]*)</title>)(.*?)(</g>)', re.DOTALL)
_SHAPE = re.compile(r"<(path|polygon|ellipse|polyline)\b([^>]*?)/>")
_TEXT = re.compile(r"<text\b([^>]*)>(.*?)</text>", re.DOTALL)
_HTML = "\0html:"  # marks an HTML-like label, kept whole: the rewrite cannot change one, only keep it


def _html_value(text: str, start: int) -> int:
    """The end of the HTML-like value ``<...>`` that starts at ``text[start]`` (its brackets nest)."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "<":
            depth += 1
        elif text[i] == ">":
            depth -= 1
            if depth == 0:
                return i + 1
    raise _NoFastPath("unbalanced HTML-like label")


def _node_attrs(line: str) -> tuple[str, dict[str, str]] | None:
    if "->" in line or "--" in line:
        return None
    m = _NODE_LINE.match(line)
    if not m:
        return None
    attrs, text, pos = {}, m.group(2), 0
    while True:
        a = _ATTR.search(text, pos)
        if a is None:
            break
        key, value = a.group(1), a.group(2)
        if value == "<":
            end = _html_value(text, a.start(2))
            value, pos = _HTML + text[a.start(2):end], end
        else:
            pos = a.end()
            if value.startswith('"'):
                value = value[1:-1].replace('\\"', '"')
        attrs[key] = value
    return m.group(1).strip('"'), attrs


def _split_body(g: graphviz.Digraph) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The graph's non-node lines (edges, clusters, legend) and its node attributes by id."""
    rest: list[str] = []
    nodes: dict[str, dict[str, str]] = {}
    for line in g.body:
        parsed = _node_attrs(line)
        if parsed is None:
            rest.append(line)
        else:
            nodes.setdefault(parsed[0], {}).update(parsed[1])
    return rest, nodes


def _label_pieces(label: str, shape: str) -> list[str]:
    """The texts Graphviz draws for a label, in drawing order (record fields, or lines)."""
    if label.startswith(_HTML):
        raise _NoFastPath("an HTML-like label that changes between frames")
    if shape in ("record", "Mrecord"):
        inner = label.strip()
        if inner.startswith("{") and inner.endswith("}"):
            inner = inner[1:-1]
        fields = [re.sub(r"^\s*<[A-Za-z0-9_]*>", "", f) for f in re.split(r"(?<!\\)\|", inner)]  # drop ports
        if any(re.search(r"(?<!\\)[{}<>]", f) for f in fields):
            raise _NoFastPath("nested record")
        return [re.sub(r"\\(.)", r"\1", f).strip() for f in fields]
    lines = re.split(r"\\[nlr]", label)
    if lines and lines[-1] == "" and len(lines) > 1:
        lines.pop()
    return [re.sub(r"\\(.)", r"\1", s) for s in lines]


def _set(attrs: str, key: str, value: str | None) -> str:
    attrs = re.sub(rf'\s{key}="[^"]*"', "", attrs)
    return attrs if value is None else f' {key}="{value}"' + attrs


def _restyle(group: str, attrs: Mapping[str, str], node_id: str) -> str:
    """The SVG of one node group with the label texts and line/fill styles that ``attrs`` give."""
    style = attrs.get("style", "")
    colors = [attrs.get(k, "") for k in ("color", "fillcolor", "fontcolor")]
    if any(":" in c or (c.startswith("#") and len(c) == 9) for c in colors):
        raise _NoFastPath("gradient or translucent colour")
    stroke = attrs.get("color", "black")
    fill = attrs.get("fillcolor") or attrs.get("color") or "lightgrey"
    pen = attrs.get("penwidth", "1")
    width = None if float(pen) == 1.0 else pen
    dash = "5,2" if "dashed" in style else ("1,5" if "dotted" in style else None)
    pieces = _label_pieces(attrs.get("label", node_id), attrs.get("shape", "ellipse"))
    texts = _TEXT.findall(group)
    if len(texts) != len(pieces):
        raise _NoFastPath("label pieces do not match the drawn texts")

    first = [True]

    def shape(m: re.Match[str]) -> str:
        a = m.group(2)
        if first[0] and m.group(1) != "polyline":
            a = _set(a, "fill", fill if "filled" in style else "none")
        first[0] = False
        a = _set(a, "stroke-dasharray", dash)
        a = _set(a, "stroke-width", width)
        a = _set(a, "stroke", stroke)
        return f"<{m.group(1)}{a}/>"

    group = _SHAPE.sub(shape, group)
    it = iter(pieces)

    def text(m: re.Match[str]) -> str:
        a = _set(m.group(1), "fill", attrs.get("fontcolor"))
        return f"<text{a}>{html.escape(next(it), quote=False)}</text>"

    return _TEXT.sub(text, group)


def _render(graphs: Sequence[graphviz.Digraph], timeout: float = 10.0) -> list[str]:
    """SVG text of each graph: one Graphviz layout when the graphs differ only in node labels and styles.

    Nodes that look the same in every frame (leaves' names, op nodes with their ports,
    dashed copies) are drawn as Graphviz drew them; the others get their texts and
    styles rewritten per frame. Falls back to one Graphviz run per graph when the graphs
    differ in anything else (edges, clusters, the legend, an HTML-like node label).
    """
    from . import viz

    if not graphs:
        return []
    try:
        parts = [_split_body(g) for g in graphs]
        rest0, nodes0 = parts[0]
        if any(rest != rest0 or nodes.keys() != nodes0.keys() for rest, nodes in parts):
            raise _NoFastPath("the frames differ in edges, clusters or legend")
        varying = {nid for nid in nodes0 if any(nodes[nid] != nodes0[nid] for _, nodes in parts)}
        # lay out with each changing node's widest label of all frames, so no text outgrows its box
        widest = {nid: max((nodes[nid].get("label", "") for _, nodes in parts), key=len) for nid in varying}
        if any(label.startswith(_HTML) for label in widest.values()):
            raise _NoFastPath("an HTML-like label that changes between frames")
        layout = graphs[-1].copy()
        layout.body = [_with_label(line, widest) for line in graphs[-1].body]
        base = viz.pipe(layout, "svg", timeout).decode("utf-8")
        segments: list[str | tuple[str, str, str, str]] = []
        pos = 0
        for m in _GROUP.finditer(base):
            segments.append(base[pos:m.start()])
            segments.append((html.unescape(m.group(2)), m.group(1), m.group(3), m.group(4)))
            pos = m.end()
        segments.append(base[pos:])
        # Every changing node is rewritten from its attributes (one spelling of each line, so
        # that lines that look alike are alike and can be shared); a node looks the same in
        # most frames, so each look is rewritten once.
        looks: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
        out = []
        for _, nodes in parts:
            pieces = []
            for seg in segments:
                if isinstance(seg, str):
                    pieces.append(seg)
                    continue
                nid, head, inner, tail = seg
                if nid in varying:
                    key = (nid, tuple(sorted(nodes[nid].items())))
                    if key not in looks:
                        looks[key] = _restyle(inner, nodes[nid], nid)
                    inner = looks[key]
                pieces.append(head + inner + tail)
            out.append("".join(pieces))
        return out
    except _NoFastPath:
        return [viz.pipe(g, "svg", timeout).decode("utf-8") for g in graphs]


def _with_label(line: str, labels: Mapping[str, str]) -> str:
    parsed = _node_attrs(line)
    if parsed is None or parsed[0] not in labels or "label" not in parsed[1]:
        return line
    new = labels[parsed[0]].replace('"', '\\"')
    return re.sub(r'label=("(?:[^"\\]|\\.)*"|[^\s\]]+)', lambda _: f'label="{new}"', line, count=1)


def _inline(svg: str, node_id: str) -> str:
    """Graphviz's SVG made fit for inlining many times in one page, scaled to the page width."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\sid="(?:graph|node|edge|clust)\d+"', "", svg)  # ids repeat across frames; nothing uses them
    m = re.match(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if m:
        # width 100% with the viewBox kept scales the picture down to a narrow page, never up past its size
        svg = svg.replace(m.group(0), f'<svg width="100%" style="max-width:{m.group(1)}pt;height:auto" '
                                      f'data-width="{m.group(1)}" data-height="{m.group(2)}"', 1)
    return re.sub(rf'<g class="node">(\s*<title>{re.escape(node_id)}</title>)', r'<g class="node current">\1',
                  svg, count=1)


_WRAPPER = re.compile(r'^(?:<g class="(?:node|edge|cluster)[^"]*">|</g>|<title>.*</title>)$')


def _share(prefix: str, svgs: Sequence[str], current: Sequence[str]) -> tuple[str, list[str]]:
    """Frames that draw their common parts from one hidden SVG: ``(hidden svg, frame svgs)``.

    Frames of one layout share every line but a few texts and styles; the shared runs are
    defined once and drawn with ``<use>``, which needs no script, so a page of 40 frames is
    about a tenth of the size. The node and edge groups are flattened so that each run is
    well formed; drawing order, and so what covers what, stays that of Graphviz. The
    highlighted node keeps its group (``class="node current"``, its id as title), so a
    reader, a test or a stylesheet can find it.
    """
    split = [s.split("\n") for s in svgs]
    if len(split) < 2 or len({len(lines) for lines in split}) != 1:
        return "", list(svgs)
    first = split[0]
    try:
        top = next(i for i, line in enumerate(first) if line.startswith('<g class="graph"'))
        end = max(i for i, line in enumerate(first) if line == "</g>")
    except (StopIteration, ValueError):
        return "", list(svgs)
    top += 1
    while first[top].startswith(("<title>", "<polygon fill=\"white\"")):
        top += 1  # the graph's title and white background stay in each frame
    body = [i for i in range(top, end) if not _WRAPPER.match(first[i])]
    if any(not (first[i].startswith("<") and first[i].endswith(">")) for i in body):
        return "", list(svgs)
    member: dict[int, str] = {}  # line -> the node whose group holds it
    node = None
    for i in range(top, end):
        m = re.match(r"<title>(.*)</title>$", first[i])
        if m and first[i - 1].startswith('<g class="node'):
            node = html.unescape(m.group(1))
        elif first[i] == "</g>" or first[i].startswith("<g "):
            node = None
        elif node is not None:
            member[i] = node
    lit = set(current)

    def key(i: int) -> str | None:  # runs never cross the edge of a group that is highlighted in some frame
        return member.get(i) if member.get(i) in lit else None

    static = {i for i in body if all(lines[i] == first[i] for lines in split)}
    runs: list[list[int]] = []  # runs of lines every frame shares; any other line is a run of its own
    for i in body:
        if i in static and runs and runs[-1][-1] in static and key(runs[-1][-1]) == key(i):
            runs[-1].append(i)
        else:
            runs.append([i])
    defs: list[str] = []
    middles: list[list[tuple[str, str | None]]] = [[] for _ in split]
    for r in runs:
        # a line that varies is shared in the look most frames give it (a node is highlighted
        # in one frame, and its gradient is final in most)
        common = Counter(lines[r[0]] for lines in split).most_common(1)[0][0] if r[0] not in static else None
        use = f'<use href="#{prefix}c{len(defs)}"/>'
        defs.append(f'<g id="{prefix}c{len(defs)}">' + (common or "\n".join(first[i] for i in r)) + "</g>")
        for lines, middle in zip(split, middles):
            middle.append((use if common is None or lines[r[0]] == common else lines[r[0]], key(r[0])))
    frames = []
    for lines, middle, lit_node in zip(split, middles, current):
        parts, inside = [], False
        for piece, owner in middle:
            if inside and owner != lit_node:
                parts.append("</g>")
                inside = False
            if not inside and owner == lit_node:
                parts.append(f'<g class="node current">\n<title>{html.escape(lit_node)}</title>')
                inside = True
            parts.append(piece)
        if inside:
            parts.append("</g>")
        frames.append("\n".join(lines[:top] + parts + lines[end:]))
    hidden = ('<svg width="0" height="0" style="position:absolute" aria-hidden="true" focusable="false"><defs>'
              + "\n".join(defs) + "</defs></svg>")
    return hidden, frames


# ---- the GIF

def _raster(svg: str, width: float, height: float) -> Any:
    """A PIL image of ``svg`` drawn ``width`` x ``height`` pixels on white."""
    cairosvg, Image = gif_modules()
    from io import BytesIO

    start = svg.index("<svg")
    end = svg.index(">", start)
    # cairosvg reads a style's height:auto as a height of 0: the size is set here instead
    tag = re.sub(r'\s(?:width|height|style)="[^"]*"', "", svg[start:end])
    svg = tag.replace("<svg", f'<svg width="{width:.0f}" height="{height:.0f}"', 1) + svg[end:]
    png = cairosvg.svg2png(bytestring=svg.encode("utf-8"), background_color="white")
    return Image.open(BytesIO(png)).convert("RGB")


def gif_scale(frame: Frame, max_width: int) -> float:
    """How many GIF pixels a CSS pixel of the frame's close-up becomes: 1, or less in a narrow GIF."""
    m = re.search(r'<svg class="mgl-close-up" width="(\d+)"', frame.close_up)
    return min(1.0, max_width / float(m.group(1))) if m else 1.0


def _frame_image(frame: Frame, max_width: int) -> Any:
    """One GIF frame: the caption, the close-up at its own size, and the whole graph under it."""
    pictures = []
    if frame.close_up:
        m = re.search(r'width="(\d+)" height="(\d+)"', frame.close_up)
        assert m is not None  # _close_up writes both
        scale = gif_scale(frame, max_width)
        pictures.append(_raster(frame.close_up, float(m.group(1)) * scale, float(m.group(2)) * scale))
    overview = frame.overview or frame.svg
    m = re.search(r'data-width="([\d.]+)" data-height="([\d.]+)"', overview)
    w, h = (float(m.group(1)), float(m.group(2))) if m else (800.0, 400.0)
    room = pictures[0].width if pictures else max_width
    scale = min(96 / 72, room / w)  # Graphviz measures in points; show 1 pt as 1/72 inch at 96 dpi at most
    pictures.append(_raster(overview, w * scale, h * scale))
    return caption_image(frame.caption, pictures, max_width)
