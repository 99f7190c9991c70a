"""Command line: `python -m micrograd_like demo` (and `graph` for a picture of an expression)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a subcommand; `--help` lists them."""
    argv = sys.argv[1:] if argv is None else argv
    commands = {"demo": "train an MLP on two moons, print accuracy, write pictures"}
    try:
        from . import expr  # noqa: F401  (the graph command lives there once it exists)

        commands["graph"] = "draw the computation graph of an expression (--steps: its backprop flipbook)"
    except ImportError:
        pass
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in commands:
        lines = [f"  {name:6} {text}" for name, text in commands.items()]
        usage = "usage: python -m micrograd_like COMMAND [options]\n\ncommands:\n" + "\n".join(lines)
        if argv and argv[0] not in ("-h", "--help"):
            print(f"unknown command {argv[0]!r}\n\n{usage}", file=sys.stderr)
            return 2
        print(usage)
        return 0
    if argv[0] == "demo":
        from .demo import main as demo

        return demo(argv[1:])
    from .expr import main as graph

    return graph(argv[1:])


if __name__ == "__main__":
    from ._cli import run

    sys.exit(run(main))
