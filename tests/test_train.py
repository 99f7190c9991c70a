"""fit(): history, early stop, best checkpoint, progress bar and argument errors."""

import math
import re

import pytest

from micrograd_like import data
from micrograd_like import functional as F
from micrograd_like.engine import Value
from micrograd_like.nn import MLP, Module
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
    with pytest.raises(ValueError, match="unknown loss 'nll'; choose one of hinge, mse, mae, cross_entropy, bce or "
                                         "pass a function"):
        fit(model, X, y, loss="nll", progress=False)
    with pytest.raises(TypeError, match="^fit: loss must be a name or a function, got int$"):
        fit(model, X, y, loss=3, progress=False)
    with pytest.raises(ValueError, match="^fit: 20 samples but 19 targets$"):
        fit(model, X, y[:-1], progress=False)
    with pytest.raises(ValueError, match="^fit: 20 samples but 19 targets in validation_data$"):
        fit(model, X, y, validation_data=(X, y[:-1]), progress=False)
    for bad in ((X, y, X), [X], X):
        with pytest.raises(TypeError, match=r"^fit: validation_data must be a pair \(X_val, y_val\)$"):
            fit(model, X, y, validation_data=bad, progress=False)
    for bad in (0, True, 2.5, "3"):
        with pytest.raises(ValueError, match=f"^fit: epochs must be a positive int, got {re.escape(repr(bad))}$"):
            fit(model, X, y, epochs=bad, progress=False)


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
    assert str(err).endswith(f"Try a smaller learning rate ({opt!r}), less momentum, inputs scaled to about "
                             "[-1, 1], or clipping the gradients.") and "momentum=5" in str(err)
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
    assert f"the step made parameter layers.0.neurons.0.b inf (the loss before it was {err.loss!r})" in str(err)
    assert f"({opt!r})" in str(err) and len(err.history.loss) == 3
    params = [p.data for p in model.parameters()]
    assert all(map(math.isfinite, params)) and params == opt.before


def test_an_epoch_loss_that_overflows_after_the_last_step_stops_too():
    X, y = moons(20)
    model = MLP(2, [4, 1], seed=0)
    opt = SGD(model.parameters(), lr=1.0, momentum=50)
    with pytest.raises(TrainingDiverged, match=r"at epoch \d+ \(counting from 0.*the training loss after the") as info:
        fit(model, X, y, loss="hinge", optimizer=opt, epochs=300, progress=False)
    err = info.value
    assert err.batch is None and not math.isfinite(err.loss) and len(err.history.loss) == err.epoch
    assert f"the training loss after the epoch is {err.loss!r}" in str(err) and f"({opt!r})" in str(err)
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
    message = f"fit: {where}; the data must be finite numbers (drop or fill missing values, clip or rescale huge ones) "
    with pytest.raises(ValueError, match=re.escape(message + "before training")):
        fit(model, X, y, loss="hinge", progress=False)
    assert [p.data for p in model.parameters()] == before


def test_nan_in_y_or_validation_data_is_refused_naming_the_row():
    X, y = moons(10)
    model = MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match=r"fit: y has nan at row 4;"):
        fit(model, X, y[:4] + [math.nan] + y[5:], loss="mse", progress=False)
    with pytest.raises(ValueError, match=r"fit: validation_data X has inf at row 0, column 0"):
        fit(model, X, y, loss="mse", progress=False, validation_data=([[math.inf, 0.0]], [1.0]))
    with pytest.raises(ValueError, match=r"fit: validation_data y has -inf at row 1;"):
        fit(model, X, y, loss="mse", progress=False, validation_data=([[0.0, 0.0]] * 2, [1.0, -math.inf]))


def test_nan_is_found_in_value_cells_and_after_cells_that_are_not_numbers():
    X, y = moons(10)
    X = [list(row) for row in X]
    X[1] = [Value(0.3), Value(math.nan)]
    with pytest.raises(ValueError, match=r"^fit: X has nan at row 1, column 1;"):
        fit(MLP(2, [2, 1], seed=0), X, y, loss="hinge", progress=False)
    X[1] = ["a", math.nan]  # the check leaves "a" to the model, which would name it
    with pytest.raises(ValueError, match=r"^fit: X has nan at row 1, column 1;"):
        fit(MLP(2, [2, 1], seed=0), X, y, loss="hinge", progress=False)


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
    with pytest.raises(ValueError, match=re.escape("unknown optimizer 'adagrad'; choose one of 'sgd', 'adam', "
                                                   "'rmsprop' or pass an optimizer object such as "
                                                   "optim.Adam(model.parameters(), lr=0.01)")):
        fit(model, X, y, optimizer="adagrad", progress=False)
    with pytest.raises(TypeError, match=re.escape("the class Adam, not an optimizer; pass Adam(model.parameters(), "
                                                  "lr=...) or the name 'adam' with fit's lr=")):
        fit(model, X, y, optimizer=Adam, progress=False)
    opt = SGD(model.parameters(), lr=0.2)
    with pytest.raises(TypeError, match=re.escape(f"lr=0.1 is for an optimizer given by name; {opt!r} has its own lr, "
                                                  "set it when you build the optimizer")):
        fit(model, X, y, optimizer=opt, lr=0.1, progress=False)
    with pytest.raises(TypeError, match="optimizer must be an optimizer object .* got int"):
        fit(model, X, y, optimizer=3, progress=False)


def test_an_int_too_long_to_print_is_described_by_its_digits():
    X, y = moons(10)
    X = [list(row) for row in X]
    X[2][0] = 10 ** 5000  # str() refuses ints past 4,300 digits
    with pytest.raises(ValueError, match=r"X has an int of about 5001 digits at row 2, column 0"):
        fit(MLP(2, [2, 1], seed=0), X, y, loss="hinge", progress=False)


# ---- accuracy, read from the loss -------------------------------------------------------------


def test_accuracy_of_cross_entropy_is_the_share_of_rows_whose_largest_logit_is_the_target():
    rows = [[Value(v) for v in row] for row in ([2.0, 0.5, -1.0], [0.1, -3.0, 0.2], [-1.0, 4.0, 0.0], [0.0, 1.0, 3.0])]
    # the largest logits sit at 0, 2, 1 and 2
    assert accuracy(rows, [0, 2, 1, 1], "cross_entropy") == 0.75
    assert accuracy(rows, [1, 0, 0, 2], "cross_entropy") == 0.25


def test_accuracy_of_bce_reads_a_positive_logit_as_class_1_even_with_smoothed_labels():
    logits = [Value(v) for v in (2.0, 0.5, 0.0, -0.5, -3.0)]  # a logit of 0 is a probability of 0.5: class 0
    assert accuracy(logits, [1, 1, 0, 0, 1], "bce") == 0.8
    assert accuracy(logits, [0, 0, 1, 1, 0], "bce") == 0.2
    # label smoothing (0.1 for class 0, 0.9 for class 1) names the same classes
    assert accuracy(logits, [0.9, 0.9, 0.1, 0.1, 0.9], "bce") == 0.8


def test_accuracy_of_hinge_reads_the_sign_of_the_score_and_regression_has_none():
    scores = [Value(v) for v in (1.5, 0.2, 0.0, -0.7)]
    assert accuracy(scores, [1, -1, -1, -1], "hinge") == 0.75
    assert accuracy(scores, [1, 1, 1, -1], "hinge") == 0.75
    assert accuracy(scores, [1.0, -1.0, 1.0, 1.0], "mse") is None
    assert accuracy(scores, [1.0, -1.0, 1.0, 1.0], F.mse) is None


# ---- what fit trains with ---------------------------------------------------------------------


def test_l2_adds_its_penalty_to_the_loss_that_is_minimised():
    X, y = [[1.0], [2.0], [-1.0]], [2.0, 3.0, 0.5]
    model, plain, twin = (MLP(1, [1], seed=0) for _ in range(3))
    fit(model, X, y, loss="mse", epochs=1, l2=0.1, optimizer="sgd", lr=0.2, progress=False)
    fit(plain, X, y, loss="mse", epochs=1, optimizer="sgd", lr=0.2, progress=False)
    params = twin.parameters()
    (F.mse([twin(x) for x in X], y) + F.l2_penalty(params, 0.1)).backward()
    expected = [p.data - 0.2 * p.grad for p in params]
    assert [p.data for p in model.parameters()] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert [p.data for p in plain.parameters()] != pytest.approx(expected, rel=1e-6)


def test_each_epoch_sees_the_shuffled_batches_of_data_batches_with_seed_plus_epoch():
    X, y = [[float(i)] for i in range(7)], [float(i) for i in range(7)]
    seen = []

    def loss(preds, targets):
        if len(targets) < len(y):  # not the epoch's evaluation on all of X
            seen.append(list(targets))
        return F.mse(preds, targets)

    fit(MLP(1, [1], seed=0), X, y, loss=loss, epochs=3, batch_size=3, seed=5, optimizer="sgd", lr=0.01,
        progress=False)
    expected = [yb for epoch in range(3) for _, yb in data.batches(X, y, 3, shuffle=True, seed=5 + epoch)]
    assert seen == expected and len(seen) == 9
    assert seen[:3] != [y[0:3], y[3:6], y[6:]]  # shuffled


def test_batch_size_1_steps_once_per_sample_and_the_defaults_are_10_epochs_and_a_bar(capsys):
    X, y = moons(6)
    model = MLP(2, [2, 1], seed=0)
    opt = OverflowingSGD(model.parameters(), lr=0.001)
    opt.calls = -1000  # counts the steps, and never reaches the 7th that would go wrong
    h = fit(model, X, y, loss="hinge", optimizer=opt, batch_size=1)
    assert opt.calls + 1000 == 6 * 10 and len(h.loss) == 10
    assert "10/10" in capsys.readouterr().err


def test_the_progress_bar_shows_training_epochs_and_the_latest_losses(capsys):
    X, y = moons(20)
    model = MLP(2, [2, 1], seed=0)
    h = fit(model, X[:14], y[:14], loss="hinge", epochs=2, validation_data=(X[14:], y[14:]), progress=True,
            optimizer=SGD(model.parameters(), lr=0.05))
    last = capsys.readouterr().err.split("\r")[-1].strip()
    assert last.startswith("training: 100%") and " 2/2 [" in last and "epoch" in last
    assert last.endswith(f"epoch/s, loss={h.loss[-1]:.4f}, acc={h.accuracy[-1]:.3f}, "
                         f"val_loss={h.val_loss[-1]:.4f}]") or last.endswith(
        f"s/epoch, loss={h.loss[-1]:.4f}, acc={h.accuracy[-1]:.3f}, val_loss={h.val_loss[-1]:.4f}]")


def test_stop_loss_stops_only_once_the_loss_falls_below_it():
    xs, ys = data.make_line(20, m=1.0, b=0.0, noise=0.0, seed=0)
    X = [[x] for x in xs]
    full = fit(MLP(1, [1], seed=0), X, ys, loss="mse", epochs=3, optimizer="sgd", lr=0.1, progress=False)
    assert full.loss[0] > full.loss[1] > full.loss[2]
    h = fit(MLP(1, [1], seed=0), X, ys, loss="mse", epochs=3, optimizer="sgd", lr=0.1, progress=False,
            stop_loss=full.loss[1])  # equal to epoch 1's loss is not below it
    assert h.loss == full.loss and h.stopped_early
    h = fit(MLP(1, [1], seed=0), X, ys, loss="mse", epochs=3, optimizer="sgd", lr=0.1, progress=False,
            stop_loss=full.loss[2])
    assert h.loss == full.loss and not h.stopped_early


def test_keep_best_for_regression_restores_the_epoch_of_the_lowest_validation_loss():
    # trained towards y = x, judged on y = 0.5 x: the weight passes 0.5 on the way, and the
    # validation loss falls, then rises
    xs = [-1.0, -0.5, 0.5, 1.0]
    X, y = [[x] for x in xs], xs
    X_val, y_val = X, [0.5 * x for x in xs]
    model = MLP(1, [1], seed=0)
    model.load_state_dict({"layers.0.neurons.0.w[0]": -0.5, "layers.0.neurons.0.b": 0.0})
    h = fit(model, X, y, loss="mse", epochs=12, optimizer="sgd", lr=0.2, validation_data=(X_val, y_val),
            progress=False)
    best = h.val_loss.index(min(h.val_loss))
    assert 0 < best < 11 and h.val_loss[-1] > h.val_loss[best] and h.best_epoch == best
    assert F.mse([model(x) for x in X_val], y_val).data == h.val_loss[best]


def test_keep_best_keeps_the_first_of_tied_epochs():
    X, y = moons(20)
    model = MLP(2, [4, 1], seed=0)
    # a tiny learning rate: the one validation sample stays on the same side every epoch
    h = fit(model, X, y, loss="hinge", epochs=4, optimizer=SGD(model.parameters(), lr=1e-6),
            validation_data=(X[:1], y[:1]), progress=False)
    assert len(set(h.val_accuracy)) == 1 and len(set(h.val_loss)) == 4 and h.best_epoch == 0
    twin = MLP(2, [4, 1], seed=0)
    fit(twin, X, y, loss="hinge", epochs=1, optimizer=SGD(twin.parameters(), lr=1e-6), progress=False)
    assert model.state_dict() == twin.state_dict()


# ---- divergence: the details of the error ----------------------------------------------------


class HugeStepSGD(SGD):
    """SGD whose step number ``at`` (from 1) sets the first weight to 1e200: finite, but its square overflows."""

    def __init__(self, params, at, lr):
        super().__init__(params, lr=lr)
        self.at, self.calls = at, 0

    def step(self):
        super().step()
        self.calls += 1
        if self.calls == self.at:
            self.params[0].data = 1e200


def line(n=10):
    xs, ys = data.make_line(n, m=2.0, b=0.5, noise=0.0, seed=0)
    return [[x] for x in xs], ys


def test_a_batch_loss_that_overflows_is_a_divergence_at_that_batch():
    X, y = line()
    model = MLP(1, [1], seed=0)
    opt = HugeStepSGD(model.parameters(), at=3, lr=0.01)  # the last step of epoch 1's first batch
    with pytest.raises(TrainingDiverged) as info:
        fit(model, X, y, loss="mse", optimizer=opt, epochs=5, batch_size=5, progress=False)
    err = info.value
    assert (err.epoch, err.batch, err.loss) == (1, 1, math.inf) and isinstance(err.__cause__, OverflowError)
    assert len(err.history.loss) == 1 and math.isfinite(err.history.loss[0])
    assert str(err).startswith("fit: training diverged at epoch 1, batch 1 (counting from 0, as History does): "
                               "computing the loss overflowed ('**': ")
    assert f"Try a smaller learning rate ({opt!r})" in str(err)


def test_an_epoch_loss_that_overflows_is_a_divergence_of_that_epoch():
    X, y = line()
    model = MLP(1, [1], seed=0)
    opt = HugeStepSGD(model.parameters(), at=2, lr=0.01)  # epoch 1's only step
    with pytest.raises(TrainingDiverged) as info:
        fit(model, X, y, loss="mse", optimizer=opt, epochs=5, progress=False)
    err = info.value
    assert (err.epoch, err.batch, err.loss) == (1, None, math.inf) and isinstance(err.__cause__, OverflowError)
    assert len(err.history.loss) == 1 and math.isfinite(err.history.loss[0])
    assert str(err).startswith("fit: training diverged at epoch 1 (counting from 0, as History does): "
                               "computing the epoch's loss overflowed ('**': ")
    assert f"Try a smaller learning rate ({opt!r})" in str(err)


class TwoWeights(Module):
    """w * x + b, with names that are not its labels; ``named=False`` leaves both unnamed."""

    def __init__(self, named=True):
        self.w, self.b, self.named = Value(0.5, label="slope in pictures"), Value(0.0), named

    def named_parameters(self):
        return [("w", self.w), ("b", self.b)] if self.named else []

    def parameters(self):
        return [self.w, self.b]

    def forward(self, x):
        return self.w * x[0] + self.b


class InfOnFirstStep(SGD):
    """SGD whose first step throws parameter ``which`` to inf."""

    def __init__(self, params, which):
        super().__init__(params, lr=0.01)
        self.which = which

    def step(self):
        super().step()
        self.params[self.which].data = math.inf


@pytest.mark.parametrize("named, which, shown", [(True, 0, "w"), (True, 1, "b"), (False, 0, "slope in pictures"),
                                                 (False, 1, "?")])
def test_a_parameter_thrown_to_inf_is_named_by_the_model_else_by_its_label(named, which, shown):
    X, y = line(4)
    model = TwoWeights(named)
    with pytest.raises(TrainingDiverged, match=re.escape(f"the step made parameter {shown} inf (the loss before")):
        fit(model, X, y, loss="mse", optimizer=InfOnFirstStep(model.parameters(), which), progress=False)
    assert (model.w.data, model.b.data) == (0.5, 0.0)


def _distance_loss(outs, ys):
    # sqrt of a squared error: its slope at a perfect fit is infinite, a classic source of NaN weights
    return sum(((o - t) * (o - t)).sqrt() for o, t in zip(outs, ys)) * (1.0 / len(outs))


def test_with_detect_anomaly_fit_stops_at_the_op_that_makes_the_first_infinity():
    import micrograd_like as mg

    X, y = [[0.0], [1.0]], [0.0, 0.0]
    model = MLP(1, [1], seed=0)
    model.layers[0].neurons[0].w[0].data, model.layers[0].neurons[0].b.data = 0.0, 0.0  # a perfect fit: o = t
    before = model.state_dict()
    fit(model, X, y, loss=_distance_loss, epochs=3, progress=False)
    # without it, silence: inf * 0 passes nothing back (as in PyTorch), so the model never moves
    assert model.state_dict() == before
    with pytest.raises(mg.AnomalyError) as info:
        fit(model, X, y, loss=_distance_loss, epochs=1, progress=False, detect_anomaly=True)
    e = info.value
    assert (e.when, e.op, e.local, e.upstream) == ("backward()", "sqrt", math.inf, 0.5)
    assert model.state_dict() == before and not mg.is_anomaly_enabled()
    h = fit(MLP(2, [4, 1], seed=0), *moons(20), loss="hinge", epochs=2, progress=False, detect_anomaly=True)
    assert h.loss == fit(MLP(2, [4, 1], seed=0), *moons(20), loss="hinge", epochs=2, progress=False).loss


# ---- record and live (the pictures themselves are tested in test_replay.py)

def test_record_keeps_one_frame_per_finished_epoch_and_history_is_unchanged():
    X, y = moons()
    runs = []
    for record in (False, True):
        model = MLP(2, [6, 1], seed=0)
        runs.append(fit(model, X, y, loss="hinge", epochs=5, batch_size=15, progress=False, record=record,
                        optimizer=SGD(model.parameters(), lr=0.1)))
    plain, recorded = runs
    assert plain.recording is None and recorded.loss == plain.loss and recorded.accuracy == plain.accuracy
    assert [f.epoch for f in recorded.recording.frames] == list(range(6))
    assert [f.loss for f in recorded.recording.frames[1:]] == recorded.loss
    assert plain == recorded  # the recording is left out of History's comparison and repr
    assert "recording" not in repr(recorded)


def test_record_stops_with_early_stop_and_keeps_the_epochs_before_a_divergence():
    X, y = moons()
    model = MLP(2, [6, 1], seed=0)
    full = fit(MLP(2, [6, 1], seed=0), X, y, loss="hinge", epochs=6, progress=False, lr=0.5)
    h = fit(model, X, y, loss="hinge", epochs=6, progress=False, lr=0.5, record=True, stop_loss=full.loss[2])
    assert len(h.loss) == 4 and len(h.recording.frames) == 5 and h.recording.epochs_planned == 6
    assert h.replay().captions[-1].startswith("epoch 4 of 4: ")
    X20, y20 = moons(20)
    model = MLP(2, [4, 1], seed=0)
    with pytest.raises(TrainingDiverged) as info:
        fit(model, X20, y20, loss="hinge", optimizer=SGD(model.parameters(), lr=1.0, momentum=5), epochs=300,
            batch_size=5, progress=False, record=True)
    err = info.value
    frames = err.history.recording.frames
    assert len(frames) == err.epoch + 1 == len(err.history.loss) + 1
    assert all(math.isfinite(f.loss) for f in frames)


@pytest.mark.parametrize("option", ["live", "record"])
def test_live_and_record_must_be_booleans(option):
    X, y = moons(10)
    with pytest.raises(TypeError, match=f"fit: {option} must be True or False, got 'yes'"):
        fit(MLP(2, [2, 1], seed=0), X, y, loss="hinge", progress=False, **{option: "yes"})
