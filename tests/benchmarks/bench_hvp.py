"""The cost of second derivatives relative to one plain gradient, each measurement in its own process.

    python tests/benchmarks/bench_hvp.py [--rounds 7] [--json out.json]

Two workloads, each timed with Python's default garbage collector and with it disabled:

- hvp: a Hessian-vector product H v of micrograd's demo loss (W1: nn.MLP(2, [16, 16, 1]) on 100
  moons points, SVM loss + 1e-4 L2, 337 parameters): forward, grad(loss, params,
  create_graph=True), then grad(g . v, params). Against: forward and loss.backward().
- hessian2: the full 2x2 Hessian of f(x, y) = tanh(x*y) + x**3 * exp(-y) / (1 + y*y):
  grad(f, [x, y], create_graph=True), then grad of each component. Against: f and f.backward().

Each round runs a fresh worker process (this script with --worker), which times the plain
gradient and the second-order computation in turns, after a warm-up, and reports the median
of each; the ratio reported is the median over the rounds of each round's ratio. The times
are medians over the rounds. Not part of the test suite: timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench import make_moons  # noqa: E402 - the same 100 points as the main benchmark

# (timed batches of each, calls per batch) per worker, after one untimed warm-up call
BATCHES = {"hvp": (7, 1), "hessian2": (7, 200)}


def w1_functions():  # type: ignore[no-untyped-def]
    """(plain, hvp, check): one plain gradient step and one Hessian-vector product of the W1 loss."""
    import micrograd_like as mg
    from micrograd_like.nn import MLP

    X, y = make_moons()
    model = MLP(2, [16, 16, 1], seed=1)
    params = model.parameters()
    rng = random.Random(0)
    vector = [rng.uniform(-1.0, 1.0) for _ in params]

    def loss():  # type: ignore[no-untyped-def]
        inputs = [list(map(mg.Value, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
        return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)

    def plain() -> None:
        total = loss()
        for p in params:
            p.grad = 0.0
        total.backward()

    def hvp() -> tuple:
        g = mg.grad(loss(), params, create_graph=True)
        return mg.grad(mg.dot(g, vector), params)

    def check() -> bool:
        # H v against a central difference of the gradient along v
        eps = 1e-6
        hv = [h.data for h in hvp()]
        saved = [p.data for p in params]

        def gradient_at(sign: float) -> list[float]:
            for p, s, d in zip(params, saved, vector):
                p.data = s + sign * eps * d
            return [g.data for g in mg.grad(loss(), params)]

        up, down = gradient_at(1.0), gradient_at(-1.0)
        for p, s in zip(params, saved):
            p.data = s
        return all(abs(h - (u - d) / (2 * eps)) <= 1e-4 + 1e-3 * abs(h) for h, u, d in zip(hv, up, down))

    return plain, hvp, check


def hessian2_functions():  # type: ignore[no-untyped-def]
    """(plain, hessian, check) for f(x, y) = tanh(x*y) + x**3 * exp(-y) / (1 + y*y) at (0.7, -0.4)."""
    import micrograd_like as mg

    def f(x, y):  # type: ignore[no-untyped-def]
        return (x * y).tanh() + x**3 * (-y).exp() / (1 + y * y)

    def plain() -> None:
        x, y = mg.Value(0.7), mg.Value(-0.4)
        f(x, y).backward()

    def hessian() -> list[list[float]]:
        x, y = mg.Value(0.7), mg.Value(-0.4)
        gx, gy = mg.grad(f(x, y), [x, y], create_graph=True)
        return [[h.data for h in mg.grad(gx, [x, y])], [h.data for h in mg.grad(gy, [x, y])]]

    def check() -> bool:
        h = hessian()
        return abs(h[0][1] - h[1][0]) <= 1e-12 * (1 + abs(h[0][1])) and all(math.isfinite(v) for r in h for v in r)

    return plain, hessian, check


WORKLOADS = {"hvp": w1_functions, "hessian2": hessian2_functions}


def worker(workload: str, gc_mode: str) -> None:
    """Time the plain gradient and the second-order computation of one workload, interleaved; print JSON.

    Both run in this one process, taking turns batch by batch, so a machine that slows
    down for a while slows both: the ratio of their medians is steadier than the times.
    """
    if gc_mode == "off":
        gc.disable()
    plain, second, check = WORKLOADS[workload]()
    plain()  # warm-up: imports, first allocations
    second()
    batches, calls = BATCHES[workload]
    times: dict[str, list[float]] = {"plain": [], "second": []}
    for _ in range(batches):
        for name, fn in (("plain", plain), ("second", second)):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            times[name].append((time.perf_counter() - start) / calls)
    print(json.dumps({name: statistics.median(t) for name, t in times.items()} | {"ok": check()}))


def run_worker(workload: str, gc_mode: str) -> dict:
    cmd = [sys.executable, __file__, "--worker", workload, gc_mode]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"plain": math.nan, "second": math.nan, "ok": False, "note": f"failed (exit {proc.returncode}): {tail}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--workload", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--worker", nargs=2, metavar=("WORKLOAD", "GC"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0

    rows = []
    for workload in args.workload:
        for gc_mode in ("default", "off"):
            times: dict[str, list[float]] = {"plain": [], "second": []}
            ok = True
            for _ in range(args.rounds):
                res = run_worker(workload, gc_mode)
                for which in times:
                    times[which].append(res[which])
                ok = ok and res["ok"]
            med = {k: statistics.median(t) for k, t in times.items()}
            per_round = sorted(s / p for s, p in zip(times["second"], times["plain"]))
            ratio = statistics.median(per_round)
            rows.append({"workload": workload, "gc": gc_mode, "rounds": args.rounds, "plain_ms": med["plain"] * 1e3,
                         "second_ms": med["second"] * 1e3, "ratio": ratio, "round_ratios": per_round, "ok": ok})
            print(f"{workload:9} gc={gc_mode:7} gradient {med['plain'] * 1e3:8.3f} ms   second order "
                  f"{med['second'] * 1e3:8.3f} ms   ratio {ratio:5.2f}x   (rounds {per_round[0]:.2f}x to "
                  f"{per_round[-1]:.2f}x){'' if ok else '   WRONG RESULT'}", flush=True)

    print(f"\nPython {sys.version.split()[0]}, {args.rounds} rounds; hvp: one Hessian-vector product of W1 "
          "(337 parameters) vs one gradient; hessian2: the full 2x2 Hessian vs one gradient\n")
    print("| workload | GC | gradient (ms) | second order (ms) | ratio | one round, lowest to highest |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        r = row["round_ratios"]
        print(f"| {row['workload']} | {row['gc']} | {row['plain_ms']:.3f} | {row['second_ms']:.3f} "
              f"| {row['ratio']:.2f}x | {r[0]:.2f}x to {r[-1]:.2f}x |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"python": sys.version, "rows": rows}, f, indent=2)
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
