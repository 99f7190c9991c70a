"""The README's main command: `python -m micrograd_like demo`, and the parts it is built from."""

import html
import inspect
import os
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from micrograd_like import data, demo
from micrograd_like.engine import no_grad
from micrograd_like.nn import MLP

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
    lines = draw_graph(root, clusters=False).source.splitlines()  # full names: no cluster says the neuron

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


# In-process runs of demo.main: mutmut traces which tests reach main only in this process, never in the
# subprocesses above. Each trains for a few epochs: what is checked is the report, not the accuracy.

def run_main(argv, capsys):
    code = demo.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def expected_report(epochs, seed, out_folder):
    """The demo's report for (epochs, seed), built from a run of train() and neuron_picture() of its own."""
    run = demo.train(epochs, seed)
    h = run.history
    best = h.best_epoch
    _, _, name = demo.neuron_picture(run.model, *run.splits["train"])
    model_lines = repr(run.model).splitlines()
    return [
        f"model: {model_lines[0]}", *[f"       {line}" for line in model_lines[1:]],
        "337 parameters; 120 training, 40 validation and 40 test points",
        f"trained {epochs} epochs in SECONDS s; kept epoch {best + 1} (best validation accuracy)",
        f"train accuracy:      {100 * h.accuracy[best]:.1f}% (training set, epoch {best + 1})",
        f"validation accuracy: {100 * h.val_accuracy[best]:.1f}% (validation set, used to choose the epoch)",
        f"test accuracy:       {100 * run.test_accuracy:.1f}% (test set, read once after training)",
        f"decision boundary: {os.path.join(out_folder, 'moons_boundary.png')}",
        f"neuron graph ({name} for the training point with the largest loss): "
        f"{os.path.join(out_folder, 'neuron_graph.svg')}",
    ]


def test_main_prints_the_report_of_the_kept_epoch_and_writes_both_pictures(tmp_path, capsys):
    # seed 1, 4 epochs: the kept epoch (the 3rd) is neither the first nor the last, and its accuracies
    # differ from those of the epochs either side
    expected = expected_report(4, 1, str(tmp_path))
    capsys.readouterr()
    h = demo.train(4, 1).history
    assert h.best_epoch == 2 and len({h.accuracy[1], h.accuracy[2], h.accuracy[3]}) == 3
    assert len({h.val_accuracy[1], h.val_accuracy[2], h.val_accuracy[3]}) == 3
    start = time.perf_counter()
    code, out, err = run_main(["--epochs", "4", "--seed", "1", "--out", str(tmp_path), "--no-progress"], capsys)
    elapsed = time.perf_counter() - start
    assert (code, err) == (0, "")
    seconds = re.search(r"trained 4 epochs in ([\d.]+) s", out).group(1)
    assert 0 <= float(seconds) <= elapsed + 0.05  # the time of the training, not of something else
    assert out.replace(f"in {seconds} s", "in SECONDS s").splitlines() == expected
    assert (tmp_path / "moons_boundary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "neuron_graph.svg").read_text()
    assert "<svg" in svg and "grad" in svg
    assert ">b: 1</text>" in svg  # the local gradients on the edges: d z / d b is 1
    # an input's grad is a total over the network: the picture says so and gives this neuron's part
    assert ">grads are d loss / d value for the whole network" in svg
    shown = html.unescape(svg)  # Graphviz writes a minus as &#45;
    assert re.search(r">x\[0\]: grad [-\d.e]+ over the whole network, of which [-\d.e]+ through this neuron", shown)
    assert sorted(os.listdir(tmp_path)) == ["moons_boundary.png", "neuron_graph.svg"]  # no probe file left


def test_main_defaults_30_epochs_seed_0_with_progress_into_the_current_folder(tmp_path, monkeypatch, capsys):
    real_train = demo.train
    seen = []

    def spy(*args, **kwargs):
        bound = inspect.signature(real_train).bind(*args, **kwargs)
        bound.apply_defaults()
        seen.append(dict(bound.arguments))
        return real_train(2, bound.arguments["seed"], progress=bound.arguments["progress"])

    monkeypatch.setattr(demo, "train", spy)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main([], capsys)
    assert code == 0
    assert seen == [{"epochs": 30, "seed": 0, "progress": True, "record": False}]
    assert "training" in err  # the progress bar
    assert f"decision boundary: {os.path.join('.', 'moons_boundary.png')}" in out.splitlines()
    assert sorted(os.listdir(tmp_path)) == ["moons_boundary.png", "neuron_graph.svg"]
    seen.clear()
    assert run_main(["--epochs", "7", "--seed", "5", "--no-progress", "--out", "pics"], capsys)[::2] == (0, "")
    assert seen == [{"epochs": 7, "seed": 5, "progress": False, "record": False}]
    assert sorted(os.listdir(tmp_path / "pics")) == ["moons_boundary.png", "neuron_graph.svg"]


def test_main_replay_writes_the_training_page_of_every_epoch(tmp_path, capsys):
    page = tmp_path / "training.html"
    code, out, err = run_main(["--epochs", "3", "--out", str(tmp_path), "--no-progress", "--replay", str(page)],
                              capsys)
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == f"training replay (4 epochs, 0 = before training): {page}"
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count('<figure class="mgl-frame"') == 4
    assert "epoch 3 of 3: training loss " in text and 'class="mgl-player mgl-replay"' in text


def test_main_help_names_the_command_and_its_options(capsys):
    with pytest.raises(SystemExit) as exit_:
        demo.main(["--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    text = " ".join(out.split())
    assert text.startswith("usage: python -m micrograd_like demo [-h] [--epochs EPOCHS] [--seed SEED] [--out OUT] "
                           "[--no-progress] ")
    assert "Train MLP(2, [16, 16, 1]) with hinge loss + L2 on two moons; print accuracy; write pictures." in text
    assert "--out OUT folder for moons_boundary.png and neuron_graph.svg" in text
    assert "--no-progress no progress bar" in text


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "argument --epochs: must be a positive int, got '0'"),
    (["--epochs", "2.5"], "argument --epochs: must be a positive int, got '2.5'"),
    (["--seed", "one"], "argument --seed: invalid int value: 'one'"),
    (["--out", ""], "--out is empty: give a folder, e.g. --out pictures"),
    (["--out", "  "], "--out is empty: give a folder, e.g. --out pictures"),
    (["--replay", "t.png"], "--replay 't.png': give a file ending in .html or .gif, e.g. --replay training.html"),
    (["--replay", "no/such/t.html"], "--replay 'no/such/t.html': the folder 'no/such' does not exist"),
])
def test_main_bad_arguments_are_one_line_and_exit_2_before_training(argv, message, monkeypatch, capsys):
    monkeypatch.setattr(demo, "train", lambda *a, **k: pytest.fail("trained despite a bad argument"))
    with pytest.raises(SystemExit) as exit_:
        demo.main(argv)
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and out == ""
    assert err == f"python -m micrograd_like demo: error: {message} (see --help)\n"


def test_main_refuses_an_out_that_is_a_file_or_under_one_before_training(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demo, "train", lambda *a, **k: pytest.fail("trained despite a bad --out"))
    (tmp_path / "f").write_text("x")
    for folder, message in [
        (str(tmp_path / "f"), f"--out {str(tmp_path / 'f')!r} exists and is not a folder"),
        (str(tmp_path / "f" / "sub"), f"--out {str(tmp_path / 'f' / 'sub')!r}: cannot write there (Not a directory)"),
    ]:
        with pytest.raises(SystemExit) as exit_:
            demo.main(["--out", folder])
        assert exit_.value.code == 2
        assert capsys.readouterr().err == f"python -m micrograd_like demo: error: {message} (see --help)\n"


def test_check_out_folder_creates_a_missing_folder_and_leaves_nothing_in_it(tmp_path):
    folder = tmp_path / "a" / "b"
    assert demo.check_out_folder(str(folder)) is None
    assert folder.is_dir() and os.listdir(folder) == []
    (folder / "keep.txt").write_text("mine")
    assert demo.check_out_folder(str(folder)) is None
    assert os.listdir(folder) == ["keep.txt"]


def test_check_out_folder_tries_to_write_in_the_folder_itself():
    # /proc takes no new files, even from root, while the temporary folder does
    assert demo.check_out_folder("/proc") == "--out '/proc': cannot write there (No such file or directory)"


def test_main_reports_pictures_it_cannot_write_with_exit_2(tmp_path, capsys):
    (tmp_path / "moons_boundary.png").mkdir()  # a folder where the picture would go
    code, out, err = run_main(["--epochs", "1", "--out", str(tmp_path), "--no-progress"], capsys)
    assert code == 2
    assert "test accuracy:" in out  # the report comes first
    path = str(tmp_path / "moons_boundary.png")
    assert err == f"demo: cannot write the pictures: [Errno 21] Is a directory: {path!r}\n"


def test_main_skips_the_pictures_whose_tools_are_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setenv("PATH", str(tmp_path))  # no Graphviz `dot`
    from micrograd_like.viz import INSTALL_HINT

    code, out, err = run_main(["--epochs", "1", "--out", str(tmp_path), "--no-progress"], capsys)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[-2:] == ["decision boundary: skipped, matplotlib is not installed (pip install matplotlib)",
                          f"neuron graph: skipped: {INSTALL_HINT}"]
    assert os.listdir(tmp_path) == []


def test_the_neuron_graph_is_skipped_without_the_viz_module(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "micrograd_like.viz", None)
    run = demo.train(1, 0)
    demo._draw_neuron(run.model, *run.splits["train"], str(tmp_path / "n.svg"))
    out = capsys.readouterr().out
    assert re.fullmatch(r"neuron graph: skipped \(.*micrograd_like\.viz.*\); pip install graphviz, "
                        r"and apt-get/brew install graphviz\n", out)
    assert os.listdir(tmp_path) == []


def test_the_boundary_picture_shows_the_model_sign_on_the_moons_region_and_every_point(tmp_path, monkeypatch,
                                                                                       capsys):
    import matplotlib.colors
    import matplotlib.pyplot as plt

    figures = []
    real_close = plt.close
    monkeypatch.setattr(plt, "close", lambda fig: (figures.append(fig), real_close(fig)))
    run = demo.train(1, 0)
    X = [x for X, _ in run.splits.values() for x in X]
    y01 = [int(t > 0) for _, y in run.splits.values() for t in y]
    path = tmp_path / "b.png"
    demo._draw_boundary(run.model, X, y01, str(path))
    assert capsys.readouterr().out == f"decision boundary: {path}\n"
    # 6 x 4.5 inches at 110 dots per inch
    assert struct.unpack(">II", path.read_bytes()[16:24]) == (660, 495)
    (fig,) = figures
    (ax,) = fig.axes
    assert ax.get_title() == "MLP(2, [16, 16, 1]) on two moons: decision boundary"
    # laid out tight: the plot takes more of the figure than matplotlib's default 0.775 x 0.77
    left, bottom, width, height = ax.get_position().bounds
    assert width > 0.8 and height > 0.8
    assert ax.get_xlim() == (-1.5, 2.5) and ax.get_ylim() == (-1.2, 1.7)
    filled, line, points = ax.collections
    # two filled regions split at the model's 0 (one colour per sign), and the black line at 0
    assert list(filled.levels) == [-1e9, 0, 1e9]
    assert [matplotlib.colors.to_hex(c) for c in filled.get_facecolor()] == ["#f4c2a1", "#a9c8ec"]
    assert filled.get_alpha() == 0.8
    assert list(line.levels) == [0] and [tuple(c) for c in line.get_edgecolor()] == [(0, 0, 0, 1)]
    assert list(line.get_linewidth()) == [1]
    # the boundary is traced on a 60 x 60 grid: each vertex lies on a grid line, where the model is ~0
    xs = [-1.5 + 4.0 * i / 59 for i in range(60)]
    ys = [-1.2 + 2.9 * j / 59 for j in range(60)]
    vertices = [v for p in line.get_paths() for v in p.vertices]
    assert len(vertices) > 20
    for vx, vy in vertices:
        assert min(abs(vx - g) for g in xs) < 1e-9 or min(abs(vy - g) for g in ys) < 1e-9
    with no_grad():
        assert max(abs(run.model([vx, vy]).data) for vx, vy in vertices) < 0.2
    # every point, coloured by its class
    assert points.get_offsets().tolist() == [list(x) for x in X]
    assert points.get_array().tolist() == y01 and points.cmap.name == "coolwarm_r"
    assert list(points.get_sizes()) == [22] and [tuple(c) for c in points.get_edgecolor()] == [(0, 0, 0, 1)]


def test_main_draws_every_point_by_class_and_the_neuron_of_the_training_set(tmp_path, monkeypatch, capsys):
    calls = {}
    monkeypatch.setattr(demo, "_draw_boundary", lambda model, X, y01, path: calls.update(boundary=(X, y01, path)))
    monkeypatch.setattr(demo, "_draw_neuron", lambda model, X, y, path: calls.update(neuron=(X, y, path)))
    assert run_main(["--epochs", "1", "--seed", "2", "--out", str(tmp_path), "--no-progress"], capsys)[0] == 0
    splits = demo.split(2)
    X, y01, path = calls["boundary"]
    assert sorted(map(tuple, X)) == sorted(tuple(x) for X, _ in splits.values() for x in X)
    labels = {tuple(x): int(t == 1) for X, y in splits.values() for x, t in zip(X, y)}
    assert y01 == [labels[tuple(x)] for x in X] and set(y01) == {0, 1}
    assert path == os.path.join(str(tmp_path), "moons_boundary.png")
    assert calls["neuron"] == (*splits["train"], os.path.join(str(tmp_path), "neuron_graph.svg"))


def leaf_data(root):
    seen, stack, leaves = set(), [root], []
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if not v.parents:
            leaves.append(v.data)
        stack.extend(v.parents)
    return leaves


def test_the_neuron_picture_is_of_the_training_point_with_the_largest_hinge_loss():
    run = demo.train(1, 0)
    X, y = run.splits["train"]
    with no_grad():
        losses = [max(0.0, 1 - t * run.model(x).data) for x, t in zip(X, y)]
    worst = losses.index(max(losses))
    root, neuron, name = demo.neuron_picture(run.model, X, y)
    leaves = leaf_data(root)
    assert X[worst][0] in leaves and X[worst][1] in leaves
    k = int(name.rsplit(".", 1)[1])
    assert name == f"layers.0.neurons.{k}" and neuron is run.model.layers[0].neurons[k]
    # the first active neuron: those before it are at or below 0 for that point
    assert neuron.z.data > 0 and all(n.z.data <= 0 for n in run.model.layers[0].neurons[:k])


def test_the_neuron_picture_takes_the_first_neuron_strictly_above_0_and_neuron_0_if_none_is():
    run = demo.train(1, 0)
    X, y = run.splits["train"]
    first = run.model.layers[0].neurons
    for p in first[0].parameters():  # neuron 0 at exactly 0 for every input: inactive, no gradient to show
        p.data = 0.0
    _, neuron, name = demo.neuron_picture(run.model, X, y)
    assert first[0].z.data == 0.0 and name != "layers.0.neurons.0"
    first[0].b.data = 0.25  # just above 0: active
    _, neuron, name = demo.neuron_picture(run.model, X, y)
    assert first[0].z.data == 0.25 and (name, neuron) == ("layers.0.neurons.0", first[0])
    for n in first:  # every neuron below 0: nothing active, the picture falls back on neuron 0
        for p in n.parameters():
            p.data = 0.0
        n.b.data = -1.0
    root, neuron, name = demo.neuron_picture(run.model, X, y)
    assert (name, neuron, root) == ("layers.0.neurons.0", first[0], first[0].a)


def test_train_defaults_give_the_readme_numbers_without_a_progress_bar(capsys):
    # README: "seed 0: training 99.2 %, validation 100 %, test 97.5 %", after 30 epochs, the 12th kept
    run = demo.train()
    h = run.history
    assert len(h.loss) == 30 and h.best_epoch == 11
    assert (h.accuracy[11], h.val_accuracy[11], run.test_accuracy) == (119 / 120, 1.0, 39 / 40)
    assert capsys.readouterr().err == ""
    assert repr(run.model) == repr(MLP(2, [16, 16, 1]))
    assert len(run.model.parameters()) == 337
    # the model is the kept epoch's: its accuracy on the validation set is that epoch's
    X_val, y_val = run.splits["validation"]
    with no_grad():
        assert sum((run.model(x).data > 0) == (t > 0) for x, t in zip(X_val, y_val)) == 40


def test_split_is_reproducible_by_seed_and_labels_are_signs():
    a, b, c = demo.split(4), demo.split(4), demo.split(5)
    assert a == b and a != c
    assert demo.split() == demo.split(0)  # the documented default seed, the README's
    assert all(set(y) == {-1, 1} for _, y in a.values())
    X, y01 = data.make_moons(200, noise=0.1, seed=4)
    moons = {tuple(x): 2 * t - 1 for x, t in zip(X, y01)}
    assert all(moons[tuple(x)] == t for X_part, y in a.values() for x, t in zip(X_part, y))


def test_train_is_the_recipe_of_main_for_any_seed():
    # main's help: MLP(2, [16, 16, 1]), hinge loss + L2 (1e-4), SGD with momentum, mini-batches, all by one seed
    from micrograd_like.optim import SGD
    from micrograd_like.train import fit

    run = demo.train(3, seed=1)
    splits = demo.split(1)
    model = MLP(2, [16, 16, 1], seed=1)
    history = fit(model, *splits["train"], loss="hinge", l2=1e-4, epochs=3, batch_size=16,
                  optimizer=SGD(model.parameters(), lr=0.1, momentum=0.9), validation_data=splits["validation"],
                  keep_best=True, progress=False, seed=1)
    assert run.history == history and run.splits == splits
    assert [p.data for p in run.model.parameters()] == [p.data for p in model.parameters()]
