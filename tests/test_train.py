"""fit(): history, early stop, best checkpoint, progress bar and argument errors."""

import math
import re

import pytest

from micrograd_like import data
from micrograd_like.nn import MLP
from micrograd_like.optim import SGD, Adam, RMSprop
from micrograd_like.train import TrainingDiverged, accuracy, fit


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
    # the best epoch is the first with the highest validation accuracy (a later tie does not replace it)
    assert h.best_epoch == h.val_accuracy.index(max(h.val_accuracy))
    assert not h.stopped_early and all(math.isfinite(v) and v >= 0.0 for v in h.loss + h.val_loss)


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


# ---- divergence: fit stops at the first non-finite loss or parameter ------------------------


class RecordingSGD(SGD):
    """SGD that keeps copies of the parameters from just before and just after its last step."""

    def step(self):
        self.before = [p.data for p in self.params]
        super().step()
        self.after = [p.data for p in self.params]


def diverge(loss, lr, momentum, seed=0):
    """Train moons with momentum past 1, which grows every step until the numbers overflow."""
    X, y = moons(20)
    model = MLP(2, [4, 1], seed=seed)
    opt = RecordingSGD(model.parameters(), lr=lr, momentum=momentum)
    with pytest.raises(TrainingDiverged) as info:
        fit(model, X, y, loss=loss, optimizer=opt, epochs=300, batch_size=5, progress=False)
    return model, opt, info.value


def test_hinge_with_momentum_5_stops_at_the_first_infinite_loss():
    # the case: it used to run on through dozens of epochs of infinite loss
    model, opt, err = diverge("hinge", lr=1.0, momentum=5)
    assert err.loss == math.inf and err.batch is not None and 10 < err.epoch < 300
    assert isinstance(err, ArithmeticError)
    assert f"epoch {err.epoch}, batch {err.batch}" in str(err) and "the loss is inf" in str(err)
    assert "smaller learning rate" in str(err) and "momentum=5" in str(err)
    assert len(err.history.loss) == err.epoch and all(map(math.isfinite, err.history.loss))
    params = [p.data for p in model.parameters()]
    assert all(map(math.isfinite, params))
    assert params == opt.after  # no step was taken on the infinite loss


def test_mae_stops_at_the_first_nan_loss():
    model, _, err = diverge("mae", lr=1.0, momentum=5)
    assert math.isnan(err.loss) and "the loss is nan" in str(err)
    assert all(math.isfinite(p.data) for p in model.parameters())


class OverflowingSGD(RecordingSGD):
    """SGD whose step on epoch 3 throws one weight to inf, as huge momentum does while the loss is still finite."""

    calls = 0

    def step(self):
        self.before = [p.data for p in self.params]
        SGD.step(self)
        self.calls += 1
        if self.calls == 7:
            self.params[2].data = math.inf


def test_a_step_that_makes_a_parameter_infinite_is_undone():
    X, y = moons(20)
    model = MLP(2, [4, 1], seed=0)
    opt = OverflowingSGD(model.parameters(), lr=0.1)
    with pytest.raises(TrainingDiverged) as info:
        fit(model, X, y, loss="hinge", optimizer=opt, epochs=300, batch_size=10, progress=False)
    err = info.value
    assert math.isfinite(err.loss) and (err.epoch, err.batch) == (3, 0)
    assert "the step made parameter layers." in str(err) and "inf" in str(err)
    params = [p.data for p in model.parameters()]
    assert all(map(math.isfinite, params)) and params == opt.before


def test_an_epoch_loss_that_overflows_after_the_last_step_stops_too():
    X, y = moons(20)
    model = MLP(2, [4, 1], seed=0)
    with pytest.raises(TrainingDiverged, match=r"at epoch \d+ \(counting from 0.*the training loss after the epoch"):
        fit(model, X, y, loss="hinge", optimizer=SGD(model.parameters(), lr=1.0, momentum=50), epochs=300,
            progress=False)
    assert all(math.isfinite(p.data) for p in model.parameters())


# ---- data and arguments are checked before training -----------------------------------------


@pytest.mark.parametrize("bad, where", [(math.nan, "X has nan at row 3, column 1"),
                                        (-math.inf, "X has -inf at row 3, column 1"),
                                        (10**400, "X has an int of 401 digits at row 3, column 1")],
                         ids=["nan", "-inf", "huge int"])
def test_nan_or_infinity_in_X_is_refused_naming_row_and_column(bad, where):
    X, y = moons(10)
    X = [list(row) for row in X]
    X[3][1] = bad
    model = MLP(2, [2, 1], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match=re.escape(where)):
        fit(model, X, y, loss="hinge", progress=False)
    assert [p.data for p in model.parameters()] == before


def test_nan_in_y_or_validation_data_is_refused_naming_the_row():
    X, y = moons(10)
    model = MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match=r"fit: y has nan at row 4;"):
        fit(model, X, y[:4] + [math.nan] + y[5:], loss="mse", progress=False)
    with pytest.raises(ValueError, match=r"fit: validation_data X has inf at row 0, column 0"):
        fit(model, X, y, loss="mse", progress=False, validation_data=([[math.inf, 0.0]], [1.0]))


def test_empty_data_and_bad_batch_sizes_are_clear_errors():
    model = MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match="fit: no training data: X and y are empty"):
        fit(model, [], [], progress=False)
    with pytest.raises(ValueError, match="fit: no validation_data: X and y are empty"):
        fit(model, [[0.0, 1.0]], [1.0], validation_data=([], []), progress=False)
    X, y = moons(10)
    for bad in (0, -2, 2.5, "4", True):
        with pytest.raises(ValueError, match=f"fit: batch_size must be a positive int.*got {re.escape(repr(bad))}"):
            fit(model, X, y, batch_size=bad, progress=False)


@pytest.mark.parametrize("name, cls, lr", [("adam", Adam, 0.001), ("Adam", Adam, 0.001), ("SGD", SGD, 0.05),
                                           ("rmsprop", RMSprop, 0.01)])
def test_optimizer_by_name_uses_fits_lr(name, cls, lr, monkeypatch):
    made = []
    monkeypatch.setattr(cls, "step", lambda self, real=cls.step: made.append(self) or real(self))
    X, y = moons(10)
    model = MLP(2, [2, 1], seed=0)
    fit(model, X, y, optimizer=name, epochs=1, progress=False)
    assert type(made[0]) is cls and made[0].lr == lr and made[0].params == model.parameters()
    fit(model, X, y, optimizer=name, lr=0.3, epochs=1, progress=False)
    assert made[-1].lr == 0.3


def test_bad_optimizer_arguments_say_what_to_pass():
    X, y = moons(10)
    model = MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match="unknown optimizer 'adagrad'; choose one of 'sgd', 'adam', 'rmsprop'"):
        fit(model, X, y, optimizer="adagrad", progress=False)
    with pytest.raises(TypeError, match=r"the class Adam, not an optimizer; pass Adam\(model.parameters\(\), lr"):
        fit(model, X, y, optimizer=Adam, progress=False)
    with pytest.raises(TypeError, match="lr=0.1 is for an optimizer given by name"):
        fit(model, X, y, optimizer=SGD(model.parameters(), lr=0.2), lr=0.1, progress=False)
    with pytest.raises(TypeError, match="optimizer must be an optimizer object .* got int"):
        fit(model, X, y, optimizer=3, progress=False)


def test_an_int_too_long_to_print_is_described_by_its_digits():
    X, y = moons(10)
    X = [list(row) for row in X]
    X[2][0] = 10 ** 5000  # str() refuses ints past 4,300 digits
    with pytest.raises(ValueError, match=r"X has an int of about 5001 digits at row 2, column 0"):
        fit(MLP(2, [2, 1], seed=0), X, y, loss="hinge", progress=False)
