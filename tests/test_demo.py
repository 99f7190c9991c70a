"""The README's main command: `python -m micrograd_like demo`, and the parts it is built from."""

import os
import re
import subprocess
import sys
from pathlib import Path

from micrograd_like import demo
from micrograd_like.engine import no_grad

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def test_demo_trains_prints_accuracy_per_split_and_writes_the_boundary(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "micrograd_like", "demo", "--epochs", "12", "--out", str(tmp_path), "--no-progress"],
        capture_output=True, text=True, timeout=300, env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    assert "120 training, 40 validation and 40 test points" in proc.stdout
    kept = int(re.search(r"kept epoch (\d+) \(best validation accuracy\)", proc.stdout).group(1))
    train = float(re.search(r"train accuracy: +([\d.]+)% \(training set, epoch (\d+)\)", proc.stdout).group(1))
    val = float(re.search(r"validation accuracy: +([\d.]+)% \(validation set, used to choose the epoch\)",
                          proc.stdout).group(1))
    test = float(re.search(r"test accuracy: +([\d.]+)% \(test set, read once after training\)", proc.stdout).group(1))
    assert 1 <= kept <= 12
    assert train >= 95 and val >= 90 and test >= 90
    assert os.path.getsize(tmp_path / "moons_boundary.png") > 10_000


def test_main_help_and_unknown_command():
    out = subprocess.run([sys.executable, "-m", "micrograd_like", "--help"], capture_output=True, text=True,
                         timeout=60, env=ENV)
    assert out.returncode == 0 and "demo" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "micrograd_like", "fly"], capture_output=True, text=True,
                         timeout=60, env=ENV)
    assert bad.returncode == 2 and "unknown command 'fly'" in bad.stderr


def test_the_three_splits_are_disjoint_and_cover_the_moons():
    splits = demo.split(seed=3)
    assert {name: len(X) for name, (X, _) in splits.items()} == {"train": 120, "validation": 40, "test": 40}
    rows = [tuple(x) for X, _ in splits.values() for x in X]
    assert len(set(rows)) == len(rows) == demo.N_POINTS
    for X, y in splits.values():
        assert len(X) == len(y) and set(y) <= {-1, 1}


def test_the_epoch_is_chosen_on_validation_and_the_test_set_is_read_after(monkeypatch):
    seen = {}
    real_fit = demo.fit

    def spy(model, X, y, **kwargs):
        seen["train"], seen["validation"] = X, kwargs["validation_data"][0]
        return real_fit(model, X, y, **kwargs)

    monkeypatch.setattr(demo, "fit", spy)
    run = demo.train(epochs=4, seed=0)
    test_rows = {tuple(x) for x in run.splits["test"][0]}
    assert seen["validation"] == run.splits["validation"][0]
    assert not test_rows & {tuple(x) for x in seen["validation"] + seen["train"]}
    # the kept epoch is the first with the best validation accuracy, and the model is that epoch's
    h = run.history
    assert h.best_epoch == h.val_accuracy.index(max(h.val_accuracy))
    X_val, y_val = run.splits["validation"]
    X_test, y_test = run.splits["test"]
    with no_grad():
        val_right = sum((run.model(x).data > 0) == (t > 0) for x, t in zip(X_val, y_val))
        test_right = sum((run.model(x).data > 0) == (t > 0) for x, t in zip(X_test, y_test))
    assert val_right / len(X_val) == h.val_accuracy[h.best_epoch]
    assert run.test_accuracy == test_right / len(X_test)


def test_the_neuron_picture_starts_from_zeroed_grads():
    from micrograd_like.viz import draw_graph

    run = demo.train(epochs=3, seed=0)  # training leaves its last batch's grads in the parameters
    assert any(p.grad != 0 for p in run.model.parameters())
    root, neuron, name = demo.neuron_picture(run.model, *run.splits["train"])
    assert root is neuron.a and neuron.z.data > 0
    # b enters z with local derivative 1 and nowhere else: their grads are the same number
    assert neuron.b.grad == neuron.z.grad != 0
    lines = draw_graph(root).source.splitlines()

    def drawn_grad(label):
        (line,) = [line for line in lines if re.search(rf"\b{re.escape(label)}\b", line)]
        return re.search(r"grad (-?[\d.e+-]+)", line).group(1)

    assert drawn_grad(f"{name}.b") == drawn_grad(f"{name}.z") != "0"


def test_the_readme_numbers_of_the_default_demo(tmp_path):
    # README: "seed 0: training 99.2 %, validation 100 %, test 97.5 %", the epoch kept on validation
    proc = subprocess.run([sys.executable, "-m", "micrograd_like", "demo", "--no-progress", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert "kept epoch 12 (best validation accuracy)" in proc.stdout
    assert "train accuracy:      99.2% (training set, epoch 12)" in proc.stdout
    assert "validation accuracy: 100.0%" in proc.stdout and "test accuracy:       97.5%" in proc.stdout
