"""The backprop flipbook: one frame per backward step, saved as one HTML file that needs no kernel."""

from __future__ import annotations

import html
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .engine import Value, topological_order
from .player import check_link, player_html, player_id
from .viz import _fmt  # numbers read the same in a caption as in the boxes

if TYPE_CHECKING:  # graphviz is imported lazily so that `import micrograd_like` stays cheap
    import graphviz

    from .trace import Step

__all__ = ["Flipbook", "Frame", "flipbook", "save_steps"]

GIF_HINT = "writing a GIF needs Pillow and cairosvg: pip install 'micrograd_like[gif]'"


@dataclass(frozen=True)
class Frame:
    """One picture of the flipbook: the caption (plain text, one line per fact) and the inline SVG."""

    caption: str
    svg: str
    node_id: str  # the DOT id of the highlighted node (v0, v1, ... as in draw_graph)
    step: Step | None  # None for the seed frame


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
                           title=self.title)

    def _repr_html_(self) -> str:
        return self.html()

    def save(self, path: str | os.PathLike[str], **gif_options: Any) -> str:
        """Write ``path``: one self-contained HTML page (``.html``/``.htm``) or an animated GIF (``.gif``).

        The page embeds every frame and its script: no network, no kernel; open it in any
        browser, put it on a course site, or link one step with ``page.html#step=5``.
        """
        path = os.fspath(path)
        ext = os.path.splitext(path)[1].lower()
        if ext == ".gif":
            return self.to_gif(path, **gif_options)
        if gif_options:
            raise TypeError(f"Flipbook.save: {sorted(gif_options)} are options for a .gif, not for {ext or path!r}")
        if ext not in (".html", ".htm"):
            raise ValueError(f"Flipbook.save: cannot tell the format of {path!r}; use .html or .gif")
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
        images = [_frame_image(f, max_width) for f in self.frames]
        if not images:
            raise ValueError("to_gif: the flipbook has no frames")
        from PIL import Image

        width = max(im.width for im in images)
        height = max(im.height for im in images)
        padded = []
        for im in images:
            canvas = Image.new("RGB", (width, height), "white")
            canvas.paste(im, (0, 0))
            # one shared palette would blur the orange highlight; an adaptive one per frame keeps it
            padded.append(canvas.convert("P", palette=Image.Palette.ADAPTIVE, colors=64))
        ms = int(seconds * 1000)
        durations = [ms] * len(padded)
        durations[0] = durations[-1] = 2 * ms
        padded[0].save(os.fspath(path), save_all=True, append_images=padded[1:], duration=durations, loop=0,
                       optimize=True, disposal=1)
        return os.fspath(path)


def flipbook(root: Value, *, link: str | None = "step", timeout: float | None = None,
             **draw_options: Any) -> Flipbook:
    """Run ``root.backward()`` one step at a time and draw each step: a Flipbook of frames.

    Frame 0 is the seed, dL/dL = 1; frame k shows backward step k-1: the node whose
    gradient is final (highlighted), and for each parent the chain rule with numbers,
    contribution = dL/dnode * dnode/dparent, and the parent's grad after it. Afterwards
    the gradients are those of ``root.backward()``. Graphviz lays the graph out once;
    the frames differ in text and highlight only, so nodes never move between frames.
    ``link`` names the step in the page address (``#step=5``); on a page with several
    flipbooks the first with a given link owns it; give others their own (``link="neuron"``,
    ``#neuron=2``) or ``None``. ``timeout`` bounds the Graphviz run in seconds
    (``viz.LAYOUT_TIMEOUT`` by default); ``draw_options`` go to ``viz.draw_graph``.
    """
    frames, _, rname = _build(root, timeout, draw_options)
    return Flipbook(frames, link=link, title=f"backprop of {rname}")


def _build(root: Value, timeout: float | None,
           draw_options: Mapping[str, Any]) -> tuple[list[Frame], list[str], str]:
    """The frames of ``root``'s backward pass, their SVGs as Graphviz wrote them, and the root's name."""
    from . import viz
    from .trace import backward_steps

    if not isinstance(root, Value):
        raise TypeError(f"flipbook: root must be a Value, got {type(root).__name__}")
    if "highlight" in draw_options:
        raise TypeError("flipbook: highlight is chosen per frame (the current node); do not pass it")
    viz._graphviz()  # the package is needed to describe the frames: say so before the work
    order = topological_order(root)
    index = {id(v): i for i, v in enumerate(order)}  # DOT ids: draw_graph's v0, v1, ... in this order
    names = viz.node_names(root)  # the names draw_graph, explain and the stepper give the same nodes
    before = [v.grad for v in order]
    steps = list(backward_steps(root))
    final = [v.grad for v in order]
    options = dict(draw_options)
    if options.get("color_by_grad") and options.get("grad_scale") is None:
        # one colour scale for the whole pass: a colour means the same grad in every frame, and
        # the legend (which names the scale) is the same in every frame, so one layout serves them all
        seen = [abs(g) for g in [root.grad, *final, *(e.parent_grad for s in steps for e in s.edges)]
                if g - g == 0 and g]
        options["grad_scale"] = max(seen, default=1.0)

    # Replay the pass: set each frame's gradients, let draw_graph describe the frame (no Graphviz
    # run), and keep the final gradients when done.
    graphs: list[graphviz.Digraph] = []
    try:
        for v, b in zip(order, before):
            v.grad = b if v.is_leaf else 0.0
        root.grad = final[-1]  # the seed; nothing passes a gradient back to the root
        graphs.append(viz.draw_graph(root, highlight={root}, **options))
        for step in steps:
            for e in step.edges:
                e.parent.grad = e.parent_grad
            graphs.append(viz.draw_graph(root, highlight={step.node}, **options))
    finally:
        for v, g in zip(order, final):
            v.grad = g
    svgs = _render(graphs, viz.LAYOUT_TIMEOUT if timeout is None else timeout)
    nodes = [root] + [s.node for s in steps]
    frames = []
    for k, (svg, node) in enumerate(zip(svgs, nodes)):
        node_id = f"v{index[id(node)]}"
        shown = steps[k - 1] if k else None
        caption = _caption(k, len(steps), shown, names, root)
        frames.append(Frame(caption, _inline(svg, node_id), node_id, shown))
    return frames, svgs, names[root]


def save_steps(root: Value, path: str | os.PathLike[str], **draw_options: Any) -> str:
    """Write the flipbook of ``root``'s backward pass to ``path``: ``.html`` page or ``.gif`` animation."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in (".html", ".htm", ".gif"):
        raise ValueError(f"save_steps: cannot tell the format of {os.fspath(path)!r}; use .html or .gif")
    if ext == ".gif":
        _gif_modules()  # fail before the work, with the name of the extra
    return flipbook(root, **draw_options).save(path)


def _caption(k: int, n: int, step: Step | None, names: Mapping[Value, str], root: Value) -> str:
    rname = names[root]
    d = f"d{rname}"
    if step is None:
        return (f"step 0 of {n}: the seed, {d}/d{rname} = 1\n"
                f"{rname} = {_fmt(root.data)}; backward starts at the output with gradient 1")
    node = step.node
    name = names[node]
    args = [names[p] for p in node.parents]
    shown = ", ".join(args[:6]) + (f", ... ({len(args)} inputs)" if len(args) > 6 else "")
    lines = [(f"step {k} of {n}: {name} = {node.op}({shown}) = {_fmt(node.data)}, its gradient is final: "
              f"{d}/d{name} = {_fmt(step.grad)}")]
    for e in step.edges:
        p = names[e.parent]
        lines.append(f"  to {p}: {d}/d{name} * d{name}/d{p} = {_fmt(step.grad)} * {_fmt(e.local)} = "
                     f"{_fmt(e.contribution)}, {p}.grad is now {_fmt(e.parent_grad)}")
    if not step.edges:
        lines.append("  (no parents: nothing to pass on)")
    return "\n".join(lines)


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

def _gif_modules() -> tuple[Any, Any]:
    try:
        import cairosvg
        from PIL import Image
    except (ImportError, OSError) as exc:  # cairosvg raises OSError when the cairo library is missing
        raise ImportError(f"{GIF_HINT} ({exc})") from None
    return cairosvg, Image


def _frame_image(frame: Frame, max_width: int) -> Any:
    """One GIF frame: the caption drawn above the rasterised SVG."""
    cairosvg, Image = _gif_modules()
    from io import BytesIO

    from PIL import ImageDraw, ImageFont

    m = re.search(r'data-width="([\d.]+)" data-height="([\d.]+)"', frame.svg)
    w, h = (float(m.group(1)), float(m.group(2))) if m else (800.0, 400.0)
    scale = min(96 / 72, max_width / w)  # Graphviz measures in points; show 1 pt as 1/72 inch at 96 dpi
    svg = re.sub(r'<svg width="100%" style="[^"]*"', f'<svg width="{w * scale:.0f}" height="{h * scale:.0f}"',
                 frame.svg, count=1)
    graph = Image.open(BytesIO(cairosvg.svg2png(bytestring=svg.encode("utf-8"), background_color="white")))
    try:
        font = ImageFont.load_default(size=14)
    except TypeError:  # Pillow older than 10.1 has one fixed bitmap font
        font = ImageFont.load_default()
    lines = frame.caption.split("\n")
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    line_h = 19
    text_w = max(int(probe.textlength(line, font=font)) for line in lines) + 24
    width = max(graph.width, min(text_w, max_width))
    image = Image.new("RGB", (width, graph.height + line_h * len(lines) + 20), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((12, 10 + i * line_h), line, fill="#1a202c" if i else "#c05621", font=font)
    image.paste(graph.convert("RGB"), (0, line_h * len(lines) + 16))
    return image
