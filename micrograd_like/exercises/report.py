"""What a check found: passed or not, the smallest failing case, the likely mistake, and its picture."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import graphviz

__all__ = ["Report", "Counterexample", "MAX_DRAWN_NODES"]

MAX_DRAWN_NODES = 60  # a graph larger than this (the deep chain) is described, not drawn
_WRONG_FILL, _WRONG_EDGE = "#fed7d7", "#c53030"


def fmt(x: Any) -> str:
    """A number as a short text (4 significant digits); anything else as its repr, cut short."""
    if isinstance(x, float) or (isinstance(x, int) and not isinstance(x, bool)):
        return f"{x:.4g}" if math.isfinite(x) else str(x)
    text = repr(x)
    return text if len(text) <= 30 else text[:27] + "..."


@dataclass
class Counterexample:
    """The smallest failing case hypothesis shrank to.

    ``case`` is the expression (or the op and its inputs) as text, ``inputs`` its input
    values by name; ``columns`` and ``rows`` the table the report prints (one row per
    node or per input, ``wrong[i]`` marking the rows that are wrong); ``expected`` and
    ``yours`` map each row's name to the right value and to the learner's. ``root`` is
    the graph itself (with the right grads) when the case is a graph.
    """

    case: str
    inputs: dict[str, float]
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    wrong: list[bool] = field(default_factory=list)
    expected: dict[str, Any] = field(default_factory=dict)
    yours: dict[str, Any] = field(default_factory=dict)
    root: Any = None
    note: str = ""
    _draw: Callable[[], graphviz.Digraph] | None = field(default=None, repr=False)

    def picture(self) -> graphviz.Digraph | None:
        """The failing graph, both values on each wrong node and the wrong ones marked (None if too large to draw)."""
        return None if self._draw is None else self._draw()


class Report:
    """The result of a check: ``passed``, and on failure ``mistake`` and ``counterexample``.

    ``str(report)`` is the full text; in Jupyter it shows itself as HTML with the
    picture of the failing graph. ``bool(report)`` is ``report.passed``.
    """

    def __init__(self, check: str, passed: bool, cases: int, seed: int, mistake: str = "",
                 counterexample: Counterexample | None = None, todo: str = "") -> None:
        self.check = check
        self.passed = passed
        self.cases = cases
        self.seed = seed
        self.mistake = mistake
        self.counterexample = counterexample
        self.todo = todo

    @property
    def not_written(self) -> bool:
        """True when the learner's code is still the placeholder: nothing was graded, so nothing is shown wrong."""
        return bool(self.todo)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        if self.not_written:
            return f"<Report {self.check}: not written yet ({self.todo})>"
        verdict = "passed" if self.passed else "FAILED"
        return f"<Report {self.check}: {verdict} after {self.cases} cases (seed {self.seed})>"

    @property
    def headline(self) -> str:
        """One line: what was checked and how it went."""
        if self.not_written:
            return f"{self.check}: not written yet: {self.todo}"
        cases = f"{self.cases} case" + "s" * (self.cases != 1)
        if self.passed:
            return f"{self.check}: passed on {cases} (seed {self.seed})"
        return f"{self.check}: FAILED (seed {self.seed}; {cases} run, the failing one shrunk to the smallest)"

    def score(self, out_of: float) -> float:
        """Show this report and return the points it earns: ``out_of`` when passed, else 0.0.

        An exercise notebook's graded cell ends with ``check_...(...).score(out_of=N)``:
        the learner sees the report, and nbgrader's autograder reads the number the cell
        returns as the cell's points (its partial credit), so ``N`` must equal the cell's
        points in its nbgrader metadata.
        """
        if isinstance(out_of, bool) or not isinstance(out_of, (int, float)) or not out_of > 0 \
                or not math.isfinite(out_of):
            raise ValueError(f"Report.score: out_of must be a finite number > 0, got {out_of!r}")
        _show(self)
        return float(out_of) if self.passed else 0.0

    def picture(self) -> graphviz.Digraph | None:
        """The counterexample's picture (a graphviz.Digraph), or None when the check passed."""
        return None if self.counterexample is None else self.counterexample.picture()

    def __str__(self) -> str:
        lines = [self.headline]
        if self.passed or self.not_written:
            return lines[0]
        lines.append(f"Likely mistake: {self.mistake}")
        cx = self.counterexample
        if cx is not None:
            lines.append(f"Smallest failing case: {cx.case}")
            if cx.inputs:
                lines.append("  inputs: " + ", ".join(f"{k} = {fmt(v)}" for k, v in cx.inputs.items()))
            if cx.note:
                lines.append(f"  {cx.note}")
            if cx.rows:
                table = [cx.columns] + [[fmt(c) if not isinstance(c, str) else c for c in r] for r in cx.rows]
                widths = [max(len(str(r[i])) for r in table) for i in range(len(cx.columns))]
                for i, r in enumerate(table):
                    mark = "   <- wrong" if i and cx.wrong[i - 1] else ""
                    lines.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() + mark)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if self.not_written:  # neutral: the learner has not started, nothing is wrong yet
            return f'<div class="mgl-report"><p>{html.escape(self.headline)}</p></div>'
        colour = "#2f855a" if self.passed else _WRONG_EDGE
        parts = [f'<div class="mgl-report"><p style="color:{colour};font-weight:bold">{html.escape(self.headline)}</p>']
        cx = self.counterexample
        if not self.passed:
            parts.append(f"<p><b>Likely mistake:</b> {html.escape(self.mistake)}</p>")
        if cx is not None:
            parts.append(f"<p><b>Smallest failing case:</b> <code>{html.escape(cx.case)}</code>")
            if cx.inputs:
                parts.append("<br>inputs: " + html.escape(", ".join(f"{k} = {fmt(v)}" for k, v in cx.inputs.items())))
            if cx.note:
                parts.append(f"<br>{html.escape(cx.note)}")
            parts.append("</p>")
            if cx.rows:
                head = "".join(f"<th>{html.escape(c)}</th>" for c in cx.columns)
                body = []
                for r, bad in zip(cx.rows, cx.wrong):
                    style = f' style="background:{_WRONG_FILL}"' if bad else ""
                    cells = "".join(f"<td>{html.escape(fmt(c) if not isinstance(c, str) else c)}</td>" for c in r)
                    body.append(f"<tr{style}>{cells}<td>{'wrong' if bad else ''}</td></tr>")
                parts.append(f"<table><tr>{head}<th></th></tr>{''.join(body)}</table>")
            parts.append(_svg_or_note(cx))
        parts.append("</div>")
        return "".join(parts)


def _show(report: Report) -> None:
    """Display ``report`` as a notebook shows a cell's value (HTML and text), or print it outside one."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        print(report)
        return
    if get_ipython() is None:
        print(report)
    else:
        display(report)


def _svg_or_note(cx: Counterexample) -> str:
    """The picture as inline SVG; a short note instead when it cannot be drawn here."""
    try:
        graph = cx.picture()
    except ImportError as e:
        return f"<p><i>(no picture: {html.escape(str(e))})</i></p>"
    if graph is None:
        return ""
    from .. import viz

    try:
        return viz.scalable_svg(viz.pipe(graph, "svg"))
    except RuntimeError as e:  # no Graphviz program, or a layout that took too long
        return f"<p><i>(no picture: {html.escape(str(e))})</i></p>"


def record_text(s: str) -> str:
    """Text made safe inside a Graphviz record label."""
    return re.sub(r"([|{}<>\\\"])", r"\\\1", s).replace(" ", "\\ ")


def legend(graph: graphviz.Digraph, text: str, swatch: bool = True) -> None:
    """A caption under the picture; with ``swatch``, the red swatch the wrong nodes wear (only if some node does)."""
    cell = (f'<td bgcolor="{_WRONG_FILL}" width="18" border="1" color="{_WRONG_EDGE}"></td>' if swatch else "")
    graph.attr(label=(f'<<table border="0" cellspacing="2"><tr>{cell}<td align="left">{html.escape(text)}</td>'
                      '</tr></table>>'),
               labelloc="b", labeljust="l", fontname="Helvetica", fontsize="11")


def mark_node(graph: graphviz.Digraph, node_id: str, fields: list[str], wrong: bool) -> None:
    """Re-declare a node of ``graph`` (DOT merges the attributes) with new record ``fields``, in red when wrong."""
    attrs = {"label": "{ " + " | ".join(record_text(f) for f in fields) + " }"}
    if wrong:
        attrs.update(fillcolor=_WRONG_FILL, color=_WRONG_EDGE, penwidth="3")
    graph.node(node_id, **attrs)
