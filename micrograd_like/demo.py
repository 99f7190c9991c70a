"""`python -m micrograd_like demo`: train an MLP on two moons and draw what it learned."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass

from . import data
from . import functional as F
from .engine import Value, no_grad
from .nn import MLP, Neuron
from .optim import SGD
from .replay import check_replay_path
from .train import History, fit

# 200 points: 120 to train on, 40 to choose the epoch, 40 read once at the end
N_POINTS, N_VALIDATION, N_TEST = 200, 40, 40


@dataclass
class DemoRun:
    """What the demo trained: the model (at its kept epoch), the three splits, the history, the test accuracy."""

    model: MLP
    splits: dict[str, tuple[list, list]]
    history: History
    test_accuracy: float


def split(seed: int = 0) -> dict[str, tuple[list, list]]:
    """Two moons in three disjoint parts: {"train", "validation", "test"}: (X, y) with labels -1/+1.

    The moons are already centred and of unit scale, so there is nothing to standardize
    (had there been, its statistics would come from the training part alone).
    """
    X, y01 = data.make_moons(N_POINTS, noise=0.1, seed=seed)
    X_rest, X_test, y_rest, y_test = data.train_test_split(X, data.to_signs(y01), test_size=N_TEST, seed=seed)
    X_train, X_val, y_train, y_val = data.train_test_split(X_rest, y_rest, test_size=N_VALIDATION, seed=seed + 1)
    return {"train": (X_train, y_train), "validation": (X_val, y_val), "test": (X_test, y_test)}


def train(epochs: int = 30, seed: int = 0, progress: bool = False, record: bool = False) -> DemoRun:
    """Train MLP(2, [16, 16, 1]), keep the epoch of best validation accuracy, then read the test set once.

    ``record=True`` keeps every epoch for ``run.history.replay()``.
    """
    splits = split(seed)
    model = MLP(2, [16, 16, 1], seed=seed)
    X_train, y_train = splits["train"]
    history = fit(model, X_train, y_train, loss="hinge", l2=1e-4,
                  optimizer=SGD(model.parameters(), lr=0.1, momentum=0.9), epochs=epochs, batch_size=16,
                  validation_data=splits["validation"], keep_best=True, progress=progress, seed=seed,
                  record=record)
    X_test, y_test = splits["test"]
    with no_grad():
        test_accuracy = sum((model(x).data > 0) == (t > 0) for x, t in zip(X_test, y_test)) / len(X_test)
    return DemoRun(model, splits, history, test_accuracy)


def check_out_folder(folder: str) -> str | None:
    """None if ``folder`` is a folder we can write in (it is created if missing), else why not, in one line."""
    if not folder.strip():
        return "--out is empty: give a folder, e.g. --out pictures"
    if os.path.exists(folder) and not os.path.isdir(folder):
        return f"--out {folder!r} exists and is not a folder"
    try:
        os.makedirs(folder, exist_ok=True)
        # os.access() says yes to root even for a read-only folder: only writing a file proves it
        fd, probe = tempfile.mkstemp(prefix=".micrograd_like-probe-", dir=folder)
        try:
            os.write(fd, b"probe")
        finally:
            os.close(fd)
            os.remove(probe)
    except OSError as e:
        return f"--out {folder!r}: cannot write there ({e.strerror or e})"
    return None


def main(argv: list[str] | None = None) -> int:
    """Train MLP(2, [16, 16, 1]) with hinge loss + L2 on two moons; print accuracy; write pictures."""
    from ._cli import ArgumentParser, one_line, positive_int

    parser = ArgumentParser(prog="python -m micrograd_like demo", description=main.__doc__)
    parser.add_argument("--epochs", type=positive_int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=".", help="folder for moons_boundary.png and neuron_graph.svg")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--replay", metavar="PAGE", help="also write the training replay to PAGE: training.html "
                        "(one page, no kernel; PAGE#epoch=N opens epoch N) or training.gif")
    args = parser.parse_args(argv)
    problem = check_out_folder(args.out) or check_replay_path(args.replay)
    if problem:  # before training, so a typo costs nothing
        parser.error(problem)

    start = time.perf_counter()
    run = train(args.epochs, args.seed, progress=not args.no_progress, record=args.replay is not None)
    seconds = time.perf_counter() - start
    history = run.history
    n = {name: len(X) for name, (X, _) in run.splits.items()}
    print(f"model: {run.model!r}".replace("\n", "\n       "))
    print(f"{len(run.model.parameters())} parameters; {n['train']} training, {n['validation']} validation "
          f"and {n['test']} test points")
    best = history.best_epoch if history.best_epoch is not None else len(history.loss) - 1
    print(f"trained {len(history.loss)} epochs in {seconds:.1f} s; kept epoch {best + 1} "
          "(best validation accuracy)")
    print(f"train accuracy:      {history.accuracy[best]:.1%} (training set, epoch {best + 1})")
    print(f"validation accuracy: {history.val_accuracy[best]:.1%} (validation set, used to choose the epoch)")
    print(f"test accuracy:       {run.test_accuracy:.1%} (test set, read once after training)")
    X_all = [x for X, _ in run.splits.values() for x in X]
    y_all = [int(t > 0) for _, y in run.splits.values() for t in y]
    try:
        _draw_boundary(run.model, X_all, y_all, os.path.join(args.out, "moons_boundary.png"))
        _draw_neuron(run.model, *run.splits["train"], os.path.join(args.out, "neuron_graph.svg"))
        if args.replay is not None:
            print(f"training replay ({len(history.loss) + 1} epochs, 0 = before training): "
                  f"{history.replay().save(args.replay)}")
    except OSError as e:
        print(f"demo: cannot write the pictures: {one_line(e)}", file=sys.stderr)
        return 2
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


def neuron_picture(model: MLP, X: list, y: list) -> tuple[Value, Neuron, str]:
    """One first-layer neuron after a backward pass of one training point's loss, for a picture.

    The point is the one with the largest hinge loss (the model's worst), the neuron the
    first that is active for it, so the picture has gradients to show. Grads are zeroed
    first: what training left in the parameters would be added to this pass's gradients.
    Returns (the neuron's activation to draw, the neuron, its name).
    """
    with no_grad():
        margins = [t * model(x).data for x, t in zip(X, y)]
    worst = min(range(len(X)), key=margins.__getitem__)
    model.zero_grad()
    loss = F.hinge([model(X[worst])], [y[worst]])
    loss.label = "loss"
    loss.backward()
    first = model.layers[0].neurons
    k = next((i for i, neuron in enumerate(first) if neuron.z is not None and neuron.z.data > 0), 0)
    neuron = first[k]
    root = neuron.a if isinstance(neuron.a, Value) else loss
    return root, neuron, f"layers.0.neurons.{k}"


def _draw_neuron(model: MLP, X: list, y: list, path: str) -> None:
    """Render one neuron's graph for the worst training point, with grads after a fresh backward pass."""
    try:
        from .viz import draw_neuron, render
    except ImportError as e:
        print(f"neuron graph: skipped ({e}); pip install graphviz, and apt-get/brew install graphviz")
        return
    _, neuron, name = neuron_picture(model, X, y)
    # its inputs' grads are totals over the whole network: the picture says so, and gives this neuron's part
    graph = draw_neuron(neuron)
    try:
        render(graph, path)
    except RuntimeError as e:
        print(f"neuron graph: skipped: {e}")
        return
    print(f"neuron graph ({name} for the training point with the largest loss): {path}")
