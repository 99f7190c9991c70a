"""Time the flipbook of issue 21's network: `python tests/benchmarks/bench_flipbook.py` (the target is under 2 s).

MLP(2, [4, 4, 1]) with an MSE loss on one point: 62 values, 22 frames, one Graphviz layout.
Prints the best and the median of a few builds; no assertion (timings belong here, not in tests).
"""

from __future__ import annotations

import statistics
import time

from micrograd_like import functional as F
from micrograd_like.flipbook import flipbook
from micrograd_like.nn import MLP


def build_once() -> float:
    """Seconds to build the flipbook of a fresh graph, Graphviz's layout included."""
    model = MLP(2, [4, 4, 1], seed=0)
    loss = F.mse([model([0.5, -1.0])], [1.0])
    start = time.perf_counter()
    flipbook(loss)
    return time.perf_counter() - start


def main(repeats: int = 5) -> None:
    """Print the best and the median time of ``repeats`` builds."""
    times = [build_once() for _ in range(repeats)]
    print(f"flipbook of MLP(2, [4, 4, 1]) + MSE: best {min(times):.3f} s, median {statistics.median(times):.3f} s "
          f"over {repeats} builds (target: under 2 s)")


if __name__ == "__main__":
    main()
