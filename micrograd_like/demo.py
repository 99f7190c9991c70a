"""`python -m micrograd_like demo`: train an MLP on two moons and draw what it learned."""

from __future__ import annotations

import argparse
import os
import time

from . import data, functional as F
from .engine import Value, no_grad
from .nn import MLP
from .optim import SGD
from .train import fit


def main(argv: list[str] | None = None) -> int:
    """Train MLP(2, [16, 16, 1]) with hinge loss + L2 on two moons; print accuracy; write pictures."""
    parser = argparse.ArgumentParser(prog="python -m micrograd_like demo", description=main.__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=".", help="folder for moons_boundary.png and neuron_graph.svg")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    X, y01 = data.make_moons(200, noise=0.1, seed=args.seed)
    X_train, X_test, y_train, y_test = data.train_test_split(X, data.to_signs(y01), test_size=0.25, seed=args.seed)
    model = MLP(2, [16, 16, 1], seed=args.seed)
    print(f"model: {model!r}".replace("\n", "\n       "))
    print(f"{len(model.parameters())} parameters, {len(X_train)} training and {len(X_test)} test points")
    start = time.perf_counter()
    history = fit(model, X_train, y_train, loss="hinge", l2=1e-4,
                  optimizer=SGD(model.parameters(), lr=0.1, momentum=0.9), epochs=args.epochs, batch_size=16,
                  validation_data=(X_test, y_test), progress=not args.no_progress, seed=args.seed)
    seconds = time.perf_counter() - start
    best = history.best_epoch if history.best_epoch is not None else len(history.loss) - 1
    print(f"trained {len(history.loss)} epochs in {seconds:.1f} s; kept epoch {best + 1} (best test accuracy)")
    print(f"train accuracy: {history.accuracy[best]:.1%}")
    print(f"test accuracy:  {history.val_accuracy[best]:.1%}")
    _draw_boundary(model, X, y01, os.path.join(args.out, "moons_boundary.png"))
    _draw_neuron(model, X_test[0], y_test[0], os.path.join(args.out, "neuron_graph.svg"))
    return 0


def _draw_boundary(model: MLP, X: list, y01: list, path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("decision boundary: skipped, matplotlib is not installed (pip install matplotlib)")
        return
    n = 60
    xs = [-1.5 + 4.0 * i / (n - 1) for i in range(n)]
    ys = [-1.2 + 2.9 * j / (n - 1) for j in range(n)]
    with no_grad():
        grid = [[model([x, y]).data for x in xs] for y in ys]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.contourf(xs, ys, grid, levels=[-1e9, 0, 1e9], colors=["#f4c2a1", "#a9c8ec"], alpha=0.8)
    ax.contour(xs, ys, grid, levels=[0], colors="k", linewidths=1)
    ax.scatter([p[0] for p in X], [p[1] for p in X], c=y01, cmap="coolwarm_r", edgecolors="k", s=22)
    ax.set_title("MLP(2, [16, 16, 1]) on two moons: decision boundary")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"decision boundary: {path}")


def _draw_neuron(model: MLP, x: list, target: int, path: str) -> None:
    """Render the graph of one output neuron's loss for one sample, with grads after backward."""
    try:
        from .viz import draw_graph, render
    except ImportError as e:
        print(f"neuron graph: skipped ({e}); pip install graphviz, and apt-get/brew install graphviz")
        return
    score = model(x)
    loss = F.hinge([score], [target])
    loss.label = "loss"
    loss.backward()
    neuron = model.layers[0].neurons[0]
    graph = draw_graph(neuron.a if isinstance(neuron.a, Value) else loss, show_local_grads=True)
    try:
        render(graph, path)
    except RuntimeError as e:
        print(f"neuron graph: skipped: {e}")
        return
    print(f"neuron graph (layers.0.neurons.0 for one test point): {path}")
