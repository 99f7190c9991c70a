"""What watching a network learn costs on the demo's set-up: record=True, live=True in a kernel, and the replay page.

    python tests/benchmarks/bench_replay.py [--rounds 5] [--no-live]

The demo's training (MLP(2, [16, 16, 1]) on 120 moons points, hinge + 1e-4 L2, SGD with
momentum, batches of 16, 30 epochs, 40 validation points) is timed:

- in this process, plain and with ``record=True``, in turns, ``--rounds`` times each;
- in a Jupyter kernel (nbclient runs one cell), plain, with ``record=True`` and with ``live=True``,
  in turns: the live view's drawing and the messages that carry it to the notebook are measured;
- then ``history.replay().save("training.html")`` (the page the demo's ``--replay`` writes):
  its build time and its size.

Ratios are medians over the rounds of each round's ratio; the machine is shared, so
single runs vary. Not part of the test suite: timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

SETUP = """
import time
from micrograd_like import demo
from micrograd_like.nn import MLP
from micrograd_like.optim import SGD
from micrograd_like.train import fit

splits = demo.split(0)

def run(**options):
    model = MLP(2, [16, 16, 1], seed=0)
    start, cpu = time.perf_counter(), time.process_time()
    history = fit(model, *splits["train"], loss="hinge", l2=1e-4,
                  optimizer=SGD(model.parameters(), lr=0.1, momentum=0.9), epochs=30, batch_size=16,
                  validation_data=splits["validation"], progress=False, seed=0, **options)
    return time.process_time() - cpu, time.perf_counter() - start, history
"""


def turns(run, options: list, rounds: int) -> dict:  # type: ignore[no-untyped-def]
    """Plain runs and a run with each of ``options`` set, in turns, after a warm-up of each: times and ratios.

    The process's CPU time is the measure that matters on a shared machine: the wall time
    also counts the time other programs held the cores.
    """
    kinds = [None] + list(options)
    for kind in kinds:
        run(**({kind: True} if kind else {}))
    times: dict = {kind or "plain": [] for kind in kinds}
    for _ in range(rounds):
        for kind in kinds:
            times[kind or "plain"].append(run(**({kind: True} if kind else {}))[:2])
    result = {"plain_cpu_s": [t[0] for t in times["plain"]], "plain_wall_s": [t[1] for t in times["plain"]]}
    for kind in options:
        for k, what in enumerate(("cpu", "wall")):
            result[f"{kind}_ratio_{what}"] = statistics.median(
                o[k] / p[k] for o, p in zip(times[kind], times["plain"]))
    return result


def in_process(rounds: int) -> tuple[dict, object]:
    namespace: dict = {}
    exec(SETUP, namespace)
    result = turns(namespace["run"], ["record"], rounds)
    return result, namespace["run"](record=True)[2]


def in_kernel(rounds: int) -> dict:
    """The live view's cost measured inside a Jupyter kernel, whose displays nbclient receives."""
    import nbformat
    from nbclient import NotebookClient

    code = (SETUP + "\nimport json\n" + _source_of_turns()
            + f"\nprint(json.dumps(turns(run, ['record', 'live'], {rounds})))\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(nb, timeout=600, kernel_name="python3").execute()
    printed = [o["text"] for o in nb.cells[0].outputs if o.get("name") == "stdout"]
    result = json.loads(printed[-1].strip().splitlines()[-1])
    result["displays"] = sum(1 for o in nb.cells[0].outputs if o.get("output_type") == "display_data")
    return result


SHARE = """
from micrograd_like import replay

spent = {"record": 0.0, "live": 0.0}


def timed(kind, function):
    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[kind] += time.process_time() - start
    return wrapper


# the recorder's work (epoch 0's evaluation and every epoch's grid and weights) and the live view's
# drawing and publishing, each timed where it happens
replay.start_recording = timed("record", replay.start_recording)
replay.Recorder._grid = timed("record", replay.Recorder._grid)
replay.LiveView.update = timed("live", replay.LiveView.update)
run(live=True)
spent.update(record=0.0, live=0.0)
total = 0.0
for _ in range(ROUNDS):
    total += run(live=True)[0]
print(json.dumps({"total": total, "record": spent["record"], "live": spent["live"]}))
"""


def in_kernel_share(rounds: int) -> dict:
    """The CPU time the recorder and the live view take inside live trainings, timed where they run."""
    import nbformat
    from nbclient import NotebookClient

    code = SETUP + "\nimport json\nROUNDS = " + str(rounds) + "\n" + SHARE
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(nb, timeout=600, kernel_name="python3").execute()
    printed = [o["text"] for o in nb.cells[0].outputs if o.get("name") == "stdout"]
    return json.loads(printed[-1].strip().splitlines()[-1])


def _source_of_turns() -> str:
    import inspect

    return "import statistics\n" + inspect.getsource(turns)


def report(where: str, result: dict, options: list, rounds: int) -> None:
    print(f"{where} (medians of {rounds} rounds; plain training: {min(result['plain_cpu_s']):.2f} s CPU, "
          f"{min(result['plain_wall_s']):.2f} s wall at best):")
    for kind in options:
        print(f"  {kind}=True: {result[kind + '_ratio_cpu']:.3f} x the plain training's CPU time, "
              f"{result[kind + '_ratio_wall']:.3f} x its wall time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-live", action="store_true", help="skip the measurement in a Jupyter kernel")
    args = parser.parse_args()
    record, history = in_process(args.rounds)
    report("in this process", record, ["record"], args.rounds)
    if not args.no_live:
        report("in a Jupyter kernel", in_kernel(args.rounds), ["record", "live"], args.rounds)
        share = in_kernel_share(args.rounds)
        plain = share["total"] - share["record"] - share["live"]
        print(f"  timed where it runs, in {args.rounds} live trainings: recording {share['record']:.2f} s "
              f"({share['record'] / plain:.1%} of the training's own {plain:.2f} s CPU), live view "
              f"{share['live']:.2f} s ({share['live'] / plain:.1%}): together "
              f"{(share['record'] + share['live']) / plain:.1%}")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "training.html")
        builds = []
        for _ in range(3):
            start = time.perf_counter()
            history.replay().save(path)  # type: ignore[attr-defined]
            builds.append(time.perf_counter() - start)
        size = os.path.getsize(path)
    print(f"replay page of {len(history.loss) + 1} frames: {size / 1e6:.2f} MB, "  # type: ignore[attr-defined]
          f"built in {min(builds):.2f} s (fastest of 3; median {statistics.median(builds):.2f} s)")


if __name__ == "__main__":
    sys.exit(main())
