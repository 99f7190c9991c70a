"""Train the README's digits classifier in pure Python and report its training time and test accuracy.

    python tests/benchmarks/bench_digits.py [--seeds 0 1 2] [--no-progress] [--json out.json]

The recipe (README, "Real data: handwritten digits"): load_digits() scaled to [0, 1]; a held-out
quarter as the test set (train_test_split(test_size=0.25, seed=0): 1,348 training and 449 test
images); MLP(64, [64, 10]) with relu and He initialisation, seeded; fit() with cross-entropy,
Adam (lr 0.005) and mini-batches of 32 for 12 epochs, with its progress bar. The time is fit's
wall-clock time: 12 epochs of forward, backward and Adam steps, plus fit's own loss and accuracy
on the whole training set after each epoch. It also reports the CPU time of the training process,
which stays close to the wall-clock time of a quiet machine when other work shares the cores. Each
seed runs in a fresh worker process (this script with --worker). Not part of the test suite: times
are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

EPOCHS, LR, BATCH, HIDDEN = 12, 0.005, 32, 64
TARGET_ACCURACY, TARGET_SECONDS = 0.95, 60.0


def worker(seed: int, progress: bool) -> dict:
    """Train once with model seed ``seed``; return the seconds fit took and the accuracies."""
    import micrograd_like as mg
    from micrograd_like.data import load_digits, train_test_split
    from micrograd_like.nn import MLP
    from micrograd_like.train import accuracy, fit

    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
    model = MLP(64, [HIDDEN, 10], init="he", seed=seed)
    start, start_cpu = time.perf_counter(), time.process_time()
    history = fit(model, X_train, y_train, loss="cross_entropy", optimizer="adam", lr=LR, epochs=EPOCHS,
                  batch_size=BATCH, progress=progress, seed=seed)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    with mg.no_grad():
        test_accuracy = accuracy([model(x) for x in X_test], y_test, "cross_entropy")
    return {"seed": seed, "seconds": seconds, "cpu_seconds": cpu_seconds, "train_accuracy": history.accuracy[-1],
            "test_accuracy": test_accuracy, "n_train": len(y_train), "n_test": len(y_test),
            "parameters": len(model.parameters())}


def main(argv: list[str]) -> int:
    """Run one worker per seed, print each result and a summary; return 1 if a run missed a target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.worker, not args.no_progress)))
        return 0
    results = []
    for seed in args.seeds:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(seed)]
        if args.no_progress:
            cmd.append("--no-progress")
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout  # the bar goes to stderr
        result = json.loads(out.strip().splitlines()[-1])
        results.append(result)
        print(f"seed {seed}: {result['seconds']:.1f} s of training ({result['cpu_seconds']:.1f} s of CPU), "
              f"train accuracy {result['train_accuracy']:.1%}, test accuracy {result['test_accuracy']:.1%} "
              f"({result['n_test']} held-out images)", flush=True)
    seconds = [r["seconds"] for r in results]
    cpu = [r["cpu_seconds"] for r in results]
    accuracies = [r["test_accuracy"] for r in results]
    print(f"MLP(64, [{HIDDEN}, 10]), {results[0]['parameters']} parameters, {EPOCHS} epochs: median "
          f"{statistics.median(seconds):.1f} s (max {max(seconds):.1f} s; CPU median {statistics.median(cpu):.1f} s, "
          f"max {max(cpu):.1f} s), test accuracy "
          f"{min(accuracies):.1%} to {max(accuracies):.1%}; os.getloadavg() {os.getloadavg()[0]:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0 if min(accuracies) >= TARGET_ACCURACY and max(seconds) < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
