"""Benchmark micrograd_like against micrograd 0.1.0, each engine in its own process, rounds interleaved.

    python tests/benchmarks/bench.py [--rounds 7] [--workload w1 w1-fused chain] [--json out.json]

Every measurement runs in a fresh worker process (this script with --worker), because
micrograd's cyclic garbage slows down whatever shares its process, and a fresh process
gives both engines the same starting heap. Rounds alternate which engine goes first.
Ratios are median(micrograd) / median(micrograd_like), with Python's default garbage
collector and with it disabled. Not part of the test suite: timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import statistics
import subprocess
import sys
import threading
import time

STEPS = 3  # timed training steps per worker, after one untimed warm-up step


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles, labels -1/+1 (the same points for both engines)."""
    rng = random.Random(seed)
    xs, ys = [], []
    for i in range(n):
        t = math.pi * (i // 2) / (n // 2 - 1)
        if i % 2 == 0:
            x, y, label = math.cos(t), math.sin(t), -1
        else:
            x, y, label = 1 - math.cos(t), 0.5 - math.sin(t), 1
        xs.append([x + rng.gauss(0, noise), y + rng.gauss(0, noise)])
        ys.append(label)
    return xs, ys


def micrograd_style_mlp(Value, nin: int, nouts: list[int], seed: int = 1):  # noqa: N803 - a class
    """MLP built exactly as micrograd's nn.py builds it: binary * and + nodes, relu hidden layers."""
    rng = random.Random(seed)
    sizes = [nin] + nouts
    layers = []
    for i in range(len(nouts)):
        layer = []
        for _ in range(sizes[i + 1]):
            w = [Value(rng.uniform(-1, 1)) for _ in range(sizes[i])]
            layer.append((w, Value(0), i != len(nouts) - 1))
        layers.append(layer)

    def forward(x):
        for layer in layers:
            out = []
            for w, b, nonlin in layer:
                act = sum((wi * xi for wi, xi in zip(w, x)), b)
                out.append(act.relu() if nonlin else act)
            x = out[0] if len(out) == 1 else out
        return x

    params = [p for layer in layers for w, b, _ in layer for p in w + [b]]
    return forward, params


def w1_step(engine: str, fused: bool):
    """Return a function doing micrograd's demo step: forward, SVM loss + L2, zero_grad, backward, SGD."""
    if engine == "micrograd":
        from micrograd.engine import Value
    else:
        from micrograd_like import Value
    X, y = make_moons()
    if fused:
        from micrograd_like.nn import MLP

        model = MLP(2, [16, 16, 1], seed=1)
        forward, params = model, model.parameters()
    else:
        forward, params = micrograd_style_mlp(Value, 2, [16, 16, 1])

    def step() -> float:
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(forward, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in params)
        total = data_loss + reg_loss
        for p in params:
            p.grad = 0.0
        total.backward()
        for p in params:
            p.data -= 0.01 * p.grad
        return total.data

    return step


def chain_run(engine: str, n: int) -> dict:
    """Build y = x + x + ... (n nodes deep) and backprop; micrograd needs a raised recursion limit."""
    if engine == "micrograd":
        from micrograd.engine import Value
    else:
        from micrograd_like import Value
    result: dict = {}

    def body() -> None:
        start = time.perf_counter()
        x = Value(1.0)
        y = x
        for _ in range(n):
            y = y + x
        y.backward()
        result["seconds"] = time.perf_counter() - start
        result["ok"] = x.grad == n + 1

    try:
        body()
        result["note"] = "default recursion limit"
    except RecursionError:
        if engine != "micrograd":
            raise
        # micrograd's recursive topological sort: give it room so a ratio can still be reported
        sys.setrecursionlimit(10 * n + 1000)
        threading.stack_size(1 << 30)
        t = threading.Thread(target=body)
        t.start()
        t.join()
        result["note"] = "RecursionError at the default limit; timed with the limit raised in a 1 GiB-stack thread"
    return result


def worker(engine: str, workload: str, gc_mode: str, chain_n: int) -> None:
    """Time one workload in this process and print the timing as JSON."""
    if gc_mode == "off":
        gc.disable()
    if workload == "chain":
        print(json.dumps(chain_run(engine, chain_n)))
        return
    step = w1_step(engine, fused=(workload == "w1-fused" and engine == "micrograd_like"))
    step()  # warm-up: imports, first allocations
    times = []
    for _ in range(STEPS):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    print(json.dumps({"seconds": statistics.median(times), "ok": True}))


def run_worker(engine: str, workload: str, gc_mode: str, chain_n: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", engine, workload, gc_mode, "--chain-n", str(chain_n)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"seconds": math.nan, "ok": False, "note": f"failed (exit {proc.returncode}): {tail}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--workload", nargs="+", default=["w1", "w1-fused", "chain"],
                        choices=["w1", "w1-fused", "chain"])
    parser.add_argument("--chain-n", type=int, default=1_000_000)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--worker", nargs=3, metavar=("ENGINE", "WORKLOAD", "GC"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker, chain_n=args.chain_n)
        return 0

    rows = []
    for workload in args.workload:
        for gc_mode in ("default", "off"):
            times: dict[str, list[float]] = {"micrograd": [], "micrograd_like": []}
            notes: dict[str, str] = {}
            rounds = args.rounds if workload != "chain" else max(1, min(args.rounds, 3))
            for r in range(rounds):
                order = ["micrograd", "micrograd_like"] if r % 2 == 0 else ["micrograd_like", "micrograd"]
                for engine in order:
                    res = run_worker(engine, workload, gc_mode, args.chain_n)
                    times[engine].append(res["seconds"])
                    if res.get("note"):
                        notes[engine] = res["note"]
                    if not res["ok"]:
                        notes[engine] = res.get("note", "wrong gradient")
            med = {e: statistics.median(t) for e, t in times.items()}
            ratio = med["micrograd"] / med["micrograd_like"]
            # this machine's speed drifts from minute to minute; the ratio within each round shows by how much
            per_round = sorted(m / o for m, o in zip(times["micrograd"], times["micrograd_like"]))
            rows.append({"workload": workload, "gc": gc_mode, "rounds": rounds,
                         "micrograd_ms": med["micrograd"] * 1e3, "micrograd_like_ms": med["micrograd_like"] * 1e3,
                         "ratio": ratio, "round_ratios": per_round, "notes": notes})
            print(f"{workload:9} gc={gc_mode:7} micrograd {med['micrograd'] * 1e3:9.1f} ms   "
                  f"micrograd_like {med['micrograd_like'] * 1e3:8.1f} ms   ratio {ratio:5.1f}x   "
                  f"(rounds {per_round[0]:.1f}x to {per_round[-1]:.1f}x)", flush=True)

    print(f"\nPython {sys.version.split()[0]}, {args.rounds} rounds, median of {STEPS} steps per worker "
          "(w1-fused: micrograd runs its own W1 graph; ours uses nn.MLP fused)\n")
    print("| workload | GC | micrograd 0.1.0 (ms) | micrograd_like (ms) | speed-up | one round, lowest to highest |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        r = row["round_ratios"]
        print(f"| {row['workload']} | {row['gc']} | {row['micrograd_ms']:.1f} | {row['micrograd_like_ms']:.1f} "
              f"| {row['ratio']:.1f}x | {r[0]:.1f}x to {r[-1]:.1f}x |")
    for row in rows:
        for engine, note in row["notes"].items():
            if note != "default recursion limit":
                print(f"note: {row['workload']} gc={row['gc']} {engine}: {note}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"python": sys.version, "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
