"""`python -m micrograd_like graph EXPR name=value ...`: a safe expression parser and its picture."""

from __future__ import annotations

import ast
import keyword
import math
import os
import sys
import unicodedata
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .engine import Value

if TYPE_CHECKING:  # typing.TypeGuard is Python 3.10+, and annotations here are never evaluated
    from typing import TypeGuard

__all__ = ["ExpressionError", "parse", "main", "FUNCTIONS", "MAX_LENGTH", "MAX_PARTS", "MAX_DEPTH"]

# Bounds on what `parse` accepts. The picture of anything bigger is unreadable anyway, and they keep
# every input away from the limits that would otherwise end in MemoryError or RecursionError:
# CPython's parser and its ast construction recurse in C, and `_build` recurses in Python.
MAX_LENGTH = 2000  # characters of the expression
MAX_PARTS = 500  # numbers, names and operations (x + 2*y has 5)
MAX_DEPTH = 250  # operations nested inside each other (a chain x+x+...+x nests once per +)

# the only calls an expression may make: method names of Value
FUNCTIONS: dict[str, Callable[..., Value]] = {
    name: getattr(Value, name) for name in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "step", "leaky_relu")
}
FUNCTIONS["abs"] = Value.__abs__
_BINARY = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__", ast.Div: "__truediv__", ast.Pow: "__pow__"}


class ExpressionError(ValueError):
    """The expression uses something outside the whitelist, or does not parse."""


def parse(text: str, variables: dict[str, float]) -> Value:
    """Build the Value of ``text`` from numbers, the named ``variables``, + - * / **, and FUNCTIONS.

    The text is read with ``ast`` and every node is checked against a whitelist before
    anything is computed: no eval, no attribute access, no other calls, no names but
    the given ones. Each variable becomes one leaf Value labelled with its name. Names
    are compared after NFKC normalisation, as Python compares identifiers (``𝑥`` is ``x``).
    The expression is bounded by MAX_LENGTH characters, MAX_PARTS parts and MAX_DEPTH
    levels of nesting; numbers (literals and variables) must be finite.
    """
    leaves = {name: Value(value, label=name) for name, value in _normalised(variables.items()).items()}
    tree = _checked_tree(text)
    used: set[str] = set()
    out = _build(tree.body, leaves, used)
    if not isinstance(out, Value):
        out = Value(out)
    unused = sorted(set(leaves) - used)
    if unused:
        raise ExpressionError(f"variables given but not used: {', '.join(unused)}")
    out.label = out.label or "out"
    return out


def _short(text: str, limit: int = 60) -> str:
    """repr of ``text``, cut to about ``limit`` characters for an error message."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


def _checked_tree(text: str) -> ast.Expression:
    """ast of ``text`` once it is within the bounds and its numbers are finite; ExpressionError otherwise."""
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression has {len(text)} characters; the limit is MAX_LENGTH={MAX_LENGTH}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ExpressionError(f"cannot parse {_short(text)}: {e.msg}") from None
    except (MemoryError, RecursionError):
        # CPython's parser gives up on deep nesting (-----x, x**x**...**x) this way
        raise ExpressionError(f"cannot parse {_short(text)}: nested too deeply for Python's parser "
                              f"(the limit here is MAX_DEPTH={MAX_DEPTH} levels)") from None
    except ValueError as e:  # e.g. characters that are not valid text (lone surrogates from a bad argv)
        raise ExpressionError(f"cannot parse {_short(text)}: {e}") from None
    parts = [node for node in ast.walk(tree) if isinstance(node, ast.expr)]
    if len(parts) > MAX_PARTS:
        raise ExpressionError(f"the expression has {len(parts)} parts (numbers, names, operations); "
                              f"the limit is MAX_PARTS={MAX_PARTS}")
    depth = _depth(tree.body)
    if depth > MAX_DEPTH:
        raise ExpressionError(f"the expression nests {depth} levels deep (x+x+...+x nests once per +); "
                              f"the limit is MAX_DEPTH={MAX_DEPTH}")
    for node in parts:
        if isinstance(node, ast.Constant) and _is_number(node.value):
            source = ast.get_source_segment(text.strip(), node) or repr(node.value)
            try:
                number = float(node.value)
            except OverflowError:
                number = math.inf
            if not math.isfinite(number):
                raise ExpressionError(f"the number {_short(source)} is not finite (it overflows a float); "
                                      "use a finite number")
    return tree


def _is_number(value: object) -> TypeGuard[int | float]:
    return type(value) in (int, float)  # not bool (True + 1), not complex (1j)


def _depth(root: ast.AST) -> int:
    """Levels of nesting below ``root``, counted with a stack so that depth itself cannot overflow."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr))
    return deepest


def _normalised(pairs: Iterable[tuple[str, float]]) -> dict[str, float]:
    """{NFKC name: value}, refusing a name given twice (also as two spellings of one name) and non-finite values."""
    out: dict[str, float] = {}
    spelled: dict[str, str] = {}
    for name, value in pairs:
        key = unicodedata.normalize("NFKC", name)
        if key in out:
            first = spelled[key]
            same = f" ({first!r} and {name!r} are the same name to Python)" if first != name else ""
            raise ExpressionError(f"{key!r} is given twice{same}: give each name one value")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ExpressionError(f"{key}: {value!r} is not a number") from None
        if not math.isfinite(number):
            raise ExpressionError(f"{key}: {value!r} is not finite; give a finite number")
        out[key], spelled[key] = number, name
    return out


def _build(node: ast.AST, leaves: dict[str, Value], used: set[str]) -> Value | float:
    if isinstance(node, ast.Constant) and _is_number(node.value):
        return float(node.value)  # finite: _checked_tree made sure
    if isinstance(node, ast.Name):
        if node.id not in leaves:
            hint = f" (functions: {', '.join(sorted(FUNCTIONS))})" if node.id in FUNCTIONS else ""
            raise ExpressionError(f"unknown name {node.id!r}: give it a value, e.g. {node.id}=1.5{hint}")
        used.add(node.id)
        return leaves[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _build(node.left, leaves, used), _build(node.right, leaves, used)
        if not isinstance(left, Value):
            left = Value(left)
        return getattr(left, _BINARY[type(node.op)])(right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand, leaves, used)
        return operand if isinstance(node.op, ast.UAdd) else -operand
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        if node.keywords or not 1 <= len(node.args) <= (2 if node.func.id == "leaky_relu" else 1):
            raise ExpressionError(f"{node.func.id}() takes one argument" +
                                  (" (and a slope for leaky_relu)" if node.func.id == "leaky_relu" else ""))
        args = [_build(a, leaves, used) for a in node.args]
        first = args[0] if isinstance(args[0], Value) else Value(args[0])
        return FUNCTIONS[node.func.id](first, *args[1:])
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        raise ExpressionError(f"calls are limited to {', '.join(sorted(FUNCTIONS))}; not {_short(name)}")
    raise ExpressionError(f"not allowed in an expression: {_short(ast.unparse(node))} ({type(node).__name__})")


def _assignment(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise ExpressionError(f"expected NAME=NUMBER, got {_short(text)}")
    if keyword.iskeyword(unicodedata.normalize("NFKC", name)):
        raise ExpressionError(f"{name!r} is a Python keyword and cannot name a variable")
    try:
        number = float(value)
    except ValueError:
        raise ExpressionError(f"{name}: {_short(value)} is not a number") from None
    if not math.isfinite(number):
        raise ExpressionError(f"{name}: {_short(value)} is not finite; give a finite number")
    return name, number


def main(argv: list[str] | None = None) -> int:
    """Parse, backprop and draw; exit 2 with a one-line message on any bad input."""
    from ._cli import ArgumentParser, one_line

    parser = ArgumentParser(
        prog="python -m micrograd_like graph",
        description="Draw the computation graph of an expression after backward(), "
                    "e.g.: graph \"tanh(x*w + b)\" x=2 w=-3 b=6.88 -o graph.svg; with --steps, "
                    "a flipbook of the backward pass, one frame per step: -o steps.html or -o steps.gif",
    )
    parser.add_argument("expression")
    parser.add_argument("values", nargs="*", default=[], metavar="NAME=NUMBER")
    parser.add_argument("-o", "--output", default=None,
                        help=".svg, .png, .pdf or .dot (DOT text), default graph.svg; "
                             "with --steps .html (a page that needs no kernel) or .gif, default steps.html")
    parser.add_argument("--local-grads", action="store_true", help="write local derivatives on the edges")
    parser.add_argument("--steps", action="store_true",
                        help="draw backprop one step at a time: a flipbook (.html) or an animated GIF (.gif)")
    args = parser.parse_args(argv)
    output = args.output or ("steps.html" if args.steps else "graph.svg")
    ext = os.path.splitext(output)[1].lower()
    if args.steps and ext not in (".html", ".htm", ".gif"):
        parser.error(f"--steps writes a flipbook: -o must end in .html or .gif, got {output!r}")
    try:
        variables = _normalised(_assignment(a) for a in args.values)
        out = parse(args.expression, variables)
        frames = ""
        if args.steps:
            from .flipbook import flipbook
            from .player import gif_modules

            if ext == ".gif":
                gif_modules()  # say which extra is missing before the work
            book = flipbook(out, show_local_grads=args.local_grads)  # runs backward() step by step
            book.save(output)
            frames = f" ({len(book)} frames)"
        else:
            out.backward()
            from .viz import draw_graph, render

            render(draw_graph(out, show_local_grads=args.local_grads), output)
    except (ExpressionError, ArithmeticError, ValueError, TypeError, RuntimeError, ImportError, OSError,
            MemoryError) as e:
        print(f"graph: {one_line(e)}", file=sys.stderr)
        return 2
    print(f"{out.label} = {out.data:.6g}; wrote {os.path.abspath(output)}{frames}")
    return 0
