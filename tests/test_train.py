"""fit(): history, early stop, best checkpoint, progress bar and argument errors."""

import pytest

from micrograd_like import data
from micrograd_like.nn import MLP
from micrograd_like.optim import SGD
from micrograd_like.train import accuracy, fit


def moons(n=60):
    X, y = data.make_moons(n, noise=0.1, seed=0)
    return X, data.to_signs(y)


def test_history_has_one_entry_per_epoch_for_train_and_validation():
    X, y = moons()
    model = MLP(2, [8, 1], seed=0)
    h = fit(model, X[:40], y[:40], loss="hinge", epochs=4, batch_size=10, validation_data=(X[40:], y[40:]),
            progress=False, optimizer=SGD(model.parameters(), lr=0.05))
    assert len(h.loss) == len(h.accuracy) == len(h.val_loss) == len(h.val_accuracy) == 4
    assert all(0.0 <= a <= 1.0 for a in h.accuracy + h.val_accuracy)
    assert h.best_epoch is not None


def test_keep_best_restores_the_best_validation_epoch():
    X, y = moons()
    model = MLP(2, [8, 1], seed=0)
    h = fit(model, X[:40], y[:40], loss="hinge", epochs=6, validation_data=(X[40:], y[40:]), progress=False,
            optimizer=SGD(model.parameters(), lr=0.5))
    outputs = [model(x) for x in X[40:]]
    assert accuracy(outputs, y[40:], "hinge") == max(h.val_accuracy) == h.val_accuracy[h.best_epoch]


def test_stop_loss_ends_training_early():
    xs, ys = data.make_line(20, m=1.0, b=0.0, noise=0.0, seed=0)
    model = MLP(1, [1], seed=0)
    h = fit(model, [[x] for x in xs], ys, loss="mse", epochs=500, stop_loss=1e-4, progress=False,
            optimizer=SGD(model.parameters(), lr=0.3))
    assert h.stopped_early and len(h.loss) < 500 and h.loss[-1] < 1e-4
    assert h.accuracy[-1] is None  # regression has no accuracy


def test_progress_bar_is_drawn(capsys):
    X, y = moons(20)
    fit(MLP(2, [2, 1], seed=0), X, y, loss="hinge", epochs=2, progress=True)
    assert "2/2" in capsys.readouterr().err


def test_custom_loss_callable_and_bad_arguments():
    X, y = moons(20)
    model = MLP(2, [2, 1], seed=0)
    h = fit(model, X, y, loss=lambda preds, ts: sum((p - t) ** 2 for p, t in zip(preds, ts)), epochs=1,
            progress=False)
    assert h.accuracy == [None] and h.loss[0] > 0
    with pytest.raises(ValueError, match="unknown loss 'nll'"):
        fit(model, X, y, loss="nll", progress=False)
    with pytest.raises(ValueError, match="20 samples but 19 targets"):
        fit(model, X, y[:-1], progress=False)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        fit(model, X, y, epochs=0, progress=False)
