"""The bug zoo: the classic wrong backward passes, small enough to read, and the right one to compare them with.

Each function takes the root of a graph and fills ``.grad`` of every Value it depends
on, reading only ``parents``, ``local_grads`` and ``.grad``, as a learner's would.
Run ``check_backward`` on any of them to see the mistake it makes, drawn.
"""

from __future__ import annotations

from collections.abc import Callable

from ..engine import Value

__all__ = ["right_backward", "assigned_not_accumulated", "recursive_without_order", "grads_never_reset",
           "recursive_topological_sort", "ZOO"]


def _order(root: Value) -> list[Value]:
    """Every value root depends on, parents before children, walked with a stack of our own (no recursion)."""
    order: list[Value] = []
    seen = {id(root)}
    stack = [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append((p, iter(p.parents)))
                break
        else:  # every parent of node is listed: node can be listed too
            stack.pop()
            order.append(node)
    return order


def right_backward(root: Value) -> None:
    """The right pass: reset the non-leaf grads, seed the root with 1, walk children before parents, add."""
    order = _order(root)
    for v in order:
        if v.parents:
            v.grad = 0.0
    root.grad = 1.0
    for v in reversed(order):
        for p, local in zip(v.parents, v.local_grads):
            p.grad += v.grad * local


def assigned_not_accumulated(root: Value) -> None:
    """Gradients assigned instead of added: a value used twice (``a * a``) keeps only its last contribution."""
    order = _order(root)
    for v in order:
        if v.parents:
            v.grad = 0.0
    root.grad = 1.0
    for v in reversed(order):
        for p, local in zip(v.parents, v.local_grads):
            p.grad = v.grad * local  # the bug: '=' where the chain rule sums over every use


def recursive_without_order(root: Value) -> None:
    """Each value passes its grad on and recurses at once, with no topological order.

    A value reached along two paths passes its grad on twice: first before its second
    contribution has arrived, then again with it, so the values above it count the first part twice.
    """
    for v in _order(root):
        if v.parents:
            v.grad = 0.0
    root.grad = 1.0

    def push(v: Value) -> None:
        for p, local in zip(v.parents, v.local_grads):
            p.grad += v.grad * local
            push(p)  # the bug: p may not have heard from all the values that use it yet

    push(root)


def walked_forwards(root: Value) -> None:
    """The right steps, with the order walked forwards (``for v in order:``), leaves first.

    Each value passes its grad on while it is still 0: the values that use it come later
    in the order and have not added their part yet. Only the root, last, passes anything.
    """
    order = _order(root)
    for v in order:
        if v.parents:
            v.grad = 0.0
    root.grad = 1.0
    for v in order:  # the bug: reversed(order) visits each value after every value that uses it
        for p, local in zip(v.parents, v.local_grads):
            p.grad += v.grad * local


def grads_never_reset(root: Value) -> None:
    """micrograd's pass: right order, right sums, nothing reset, so a second call compounds the intermediate grads."""
    order = _order(root)
    root.grad = 1.0  # the bug: the other non-leaf grads keep what the previous pass left
    for v in reversed(order):
        for p, local in zip(v.parents, v.local_grads):
            p.grad += v.grad * local


def recursive_topological_sort(root: Value) -> None:
    """The right pass over an order built by a recursive walk, which dies on a chain deeper than the recursion limit."""
    order: list[Value] = []
    seen: set[int] = set()

    def visit(v: Value) -> None:
        if id(v) in seen:
            return
        seen.add(id(v))
        for p in v.parents:
            visit(p)  # the bug: one Python frame per level of the graph
        order.append(v)

    visit(root)
    for v in order:
        if v.parents:
            v.grad = 0.0
    root.grad = 1.0
    for v in reversed(order):
        for p, local in zip(v.parents, v.local_grads):
            p.grad += v.grad * local


ZOO: dict[str, Callable[[Value], None]] = {
    "assigned_not_accumulated": assigned_not_accumulated,
    "recursive_without_order": recursive_without_order,
    "grads_never_reset": grads_never_reset,
    "recursive_topological_sort": recursive_topological_sort,
}
"""Every bug of the zoo by name."""
