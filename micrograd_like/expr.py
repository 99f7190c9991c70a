"""`python -m micrograd_like graph EXPR name=value ...`: a safe expression parser and its picture."""

from __future__ import annotations

import argparse
import ast
import math
import os
import sys
from typing import Callable

from .engine import Value

__all__ = ["ExpressionError", "parse", "main", "FUNCTIONS"]

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
    the given ones. Each variable becomes one leaf Value labelled with its name.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ExpressionError(f"cannot parse {text!r}: {e.msg}") from None
    leaves = {name: Value(value, label=name) for name, value in variables.items()}
    used: set[str] = set()
    out = _build(tree.body, leaves, used)
    if not isinstance(out, Value):
        out = Value(out)
    unused = sorted(set(leaves) - used)
    if unused:
        raise ExpressionError(f"variables given but not used: {', '.join(unused)}")
    out.label = out.label or "out"
    return out


def _build(node: ast.AST, leaves: dict[str, Value], used: set[str]) -> Value | float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
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
        raise ExpressionError(f"calls are limited to {', '.join(sorted(FUNCTIONS))}; not {name!r}")
    raise ExpressionError(f"not allowed in an expression: {ast.unparse(node)!r} ({type(node).__name__})")


def _assignment(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise ExpressionError(f"expected NAME=NUMBER, got {text!r}")
    try:
        number = float(value)
    except ValueError:
        raise ExpressionError(f"{name}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ExpressionError(f"{name}: {value!r} is not a finite number")
    return name, number


def main(argv: list[str] | None = None) -> int:
    """Parse, backprop and draw; exit 2 with a one-line message on any bad input."""
    parser = argparse.ArgumentParser(
        prog="python -m micrograd_like graph",
        description="Draw the computation graph of an expression after backward(), "
                    "e.g.: graph \"tanh(x*w + b)\" x=2 w=-3 b=6.88 -o graph.svg",
    )
    parser.add_argument("expression")
    parser.add_argument("values", nargs="*", metavar="NAME=NUMBER")
    parser.add_argument("-o", "--output", default="graph.svg", help=".svg, .png, .pdf or .dot (DOT text)")
    parser.add_argument("--local-grads", action="store_true", help="write local derivatives on the edges")
    args = parser.parse_args(argv)
    try:
        variables = dict(_assignment(a) for a in args.values)
        out = parse(args.expression, variables)
        out.backward()
        from .viz import draw_graph, render

        render(draw_graph(out, show_local_grads=args.local_grads), args.output)
    except (ExpressionError, ArithmeticError, ValueError, TypeError, RuntimeError, ImportError, OSError) as e:
        print(f"graph: {e}", file=sys.stderr)
        return 2
    print(f"{out.label} = {out.data:.6g}; wrote {os.path.abspath(args.output)}")
    return 0
