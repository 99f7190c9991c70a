"""A small training loop: mini-batches, a progress bar, history, early stop and the best checkpoint."""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from . import anomaly, engine
from . import functional as F
from .data import batches as make_batches
from .engine import Value
from .nn import Module
from .optim import SGD, Adam, Optimizer, RMSprop

if TYPE_CHECKING:
    from .replay import Recording, Replay

__all__ = ["fit", "History", "LOSSES", "OPTIMIZERS", "TrainingDiverged", "accuracy"]

LossFn = Callable[[list, list], Value]

# named losses; each takes the model's outputs for a batch and the batch's targets
LOSSES: dict[str, LossFn] = {
    "hinge": F.hinge,
    "mse": F.mse,
    "mae": F.mae,
    "cross_entropy": F.cross_entropy,
    "bce": F.binary_cross_entropy_with_logits,
}


# optimizers fit builds by name, each with the learning rate fit uses when it is given none
# (SGD's is fit's long-standing 0.05; Adam's and RMSprop's are PyTorch's defaults)
OPTIMIZERS: dict[str, tuple[type[Optimizer], float]] = {
    "sgd": (SGD, 0.05),
    "adam": (Adam, 0.001),
    "rmsprop": (RMSprop, 0.01),
}


class TrainingDiverged(ArithmeticError):
    """The training loss or the parameters stopped being finite numbers (inf or nan).

    ``epoch`` and ``batch`` count from 0; ``loss`` is the non-finite loss (or the last
    loss, when a parameter went first). ``fit`` has put the model back at the
    parameters it had before the step that failed, all of them finite. ``history``
    holds the epochs that did finish (``batch`` is None when the loss of a whole epoch,
    measured after its last step, is the one that went).
    """

    def __init__(self, message: str, epoch: int, batch: int | None, loss: float, history: History) -> None:
        super().__init__(message)
        self.epoch, self.batch, self.loss, self.history = epoch, batch, loss, history


@dataclass
class History:
    """Per-epoch loss and accuracy for training and validation (accuracy is None for regression)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    # what fit(record=True) or fit(live=True) kept of each epoch, for replay()
    recording: Recording | None = field(default=None, repr=False, compare=False)

    def replay(self, link: str | None = "epoch", seconds: float = 0.4) -> Replay:
        """The recorded training as a kernel-free player: boundary, loss curves and network, epoch by epoch.

        Needs ``fit(..., record=True)``. Frame 0 is the model before training, frame k the
        model after k epochs. The result shows itself in Jupyter and saves as one HTML page
        (``.save("training.html")``, ``training.html#epoch=N`` opens epoch N) or a GIF;
        ``link`` names the epoch in the address, ``seconds`` is the time per epoch when playing.
        """
        if self.recording is None:
            raise ValueError("History.replay: nothing was recorded; train with fit(..., record=True)")
        return self.recording.replay(link=link, seconds=seconds)


def accuracy(outputs: Sequence[Value | list[Value]], targets: Sequence, loss: str | LossFn) -> float | None:
    """Fraction classified right, read from the loss: hinge/bce by sign, cross_entropy by argmax.

    Regression losses (mse, mae, or a custom callable) have no accuracy: None.
    """
    if loss == "cross_entropy":
        rows = cast("Sequence[list[Value]]", outputs)  # a classifier gives one list of logits per sample
        right = sum(max(range(len(o)), key=lambda i: o[i].data) == t for o, t in zip(rows, targets))
    elif loss in ("hinge", "bce"):
        scores = cast("Sequence[Value]", outputs)  # one score per sample
        cut = 0.0 if loss == "hinge" else 0.5  # targets are -1/+1 for hinge, 0/1 for bce
        right = sum((o.data > 0) == (t > cut) for o, t in zip(scores, targets))
    else:
        return None
    return right / len(targets)


def _evaluate(
    model: Module, X: Sequence, y: Sequence, loss: str | LossFn, loss_fn: LossFn
) -> tuple[float, float | None]:
    with engine.no_grad():
        outputs = [model(x) for x in X]
        return loss_fn(outputs, list(y)).data, accuracy(outputs, y, loss)


def _check_rows(rows: Sequence, what: str) -> None:
    """Refuse nan or infinity anywhere in ``rows`` (X, y or validation data), naming the row and column.

    A relu turns nan into 0 and the loss would go on looking fine, so bad data is
    stopped here, before the first step. Entries that are not numbers are left to the
    model and the loss, which name them.
    """
    for i, row in enumerate(rows):
        cells = row if isinstance(row, (list, tuple)) else None
        for j, cell in enumerate(cells if cells is not None else (row,)):
            x = cell.data if isinstance(cell, Value) else cell
            if type(x) is float and -math.inf < x < math.inf:
                continue  # the common case, checked without conversions
            if not isinstance(x, numbers.Real):
                continue
            try:
                finite = math.isfinite(float(x))
            except OverflowError:  # an int past 1e308
                finite = False
            if not finite:
                where = f"row {i}" + (f", column {j}" if cells is not None else "")
                shown = engine._describe(x) if isinstance(x, int) else f"{x!r:.40}"  # never a 5,000-digit repr
                raise ValueError(f"fit: {what} has {shown} at {where}; the data must be finite numbers "
                                 "(drop or fill missing values, clip or rescale huge ones) before training")


def _check_data(X: Sequence, y: Sequence, what: str) -> None:
    """Same length, not empty, every number finite."""
    if len(X) != len(y):
        raise ValueError(f"fit: {len(X)} samples but {len(y)} targets" + (f" in {what}" if what else ""))
    if len(X) == 0:
        raise ValueError(f"fit: no {what or 'training data'}: X and y are empty")
    _check_rows(X, f"{what} X" if what else "X")
    _check_rows(y, f"{what} y" if what else "y")


def _make_optimizer(optimizer: Optimizer | str | None, lr: float | None, params: list[Value]) -> Optimizer:
    """The optimizer fit steps: the one given, or one built from a name (None means "sgd")."""
    names = ", ".join(repr(n) for n in OPTIMIZERS)
    if optimizer is None or isinstance(optimizer, str):
        name = "sgd" if optimizer is None else optimizer.lower()
        if name not in OPTIMIZERS:
            raise ValueError(f"fit: unknown optimizer {optimizer!r}; choose one of {names} "
                             "or pass an optimizer object such as optim.Adam(model.parameters(), lr=0.01)")
        cls, default_lr = OPTIMIZERS[name]
        return cls(params, lr=default_lr if lr is None else lr)
    if isinstance(optimizer, Optimizer):
        if lr is not None:
            raise TypeError(f"fit: lr={lr!r} is for an optimizer given by name; {optimizer!r} has its own lr, "
                            "set it when you build the optimizer")
        return optimizer
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        cls_name = optimizer.__name__
        raise TypeError(f"fit: optimizer is the class {cls_name}, not an optimizer; pass "
                        f"{cls_name}(model.parameters(), lr=...) or the name {cls_name.lower()!r} with fit's lr=")
    raise TypeError(f"fit: optimizer must be an optimizer object such as optim.Adam(model.parameters(), lr=0.01) "
                    f"or one of the names {names}, got {type(optimizer).__name__}")


def _diverged(
    what: str, epoch: int, batch: int | None, loss: float, optimizer: Optimizer, history: History
) -> TrainingDiverged:
    """The error fit raises when training stops being finite, with what to try next."""
    where = f"epoch {epoch}" + (f", batch {batch}" if batch is not None else "")
    return TrainingDiverged(
        f"fit: training diverged at {where} (counting from 0, as History does): {what}. The model keeps its "
        f"last finite parameters, from before that step. Try a smaller learning rate ({optimizer!r}), "
        "less momentum, inputs scaled to about [-1, 1], or clipping the gradients.",
        epoch, batch, loss, history,
    )


def fit(
    model: Module,
    X: Sequence,
    y: Sequence,
    loss: str | LossFn = "mse",
    optimizer: Optimizer | str | None = None,
    epochs: int = 10,
    batch_size: int | None = None,
    validation_data: tuple[Sequence, Sequence] | None = None,
    l2: float = 0.0,
    progress: bool = True,
    stop_loss: float | None = None,
    keep_best: bool = True,
    seed: int = 0,
    lr: float | None = None,
    detect_anomaly: bool = False,
    live: bool = False,
    record: bool = False,
) -> History:
    """Train ``model`` on (X, y) and return the History.

    Each epoch: shuffled mini-batches of ``batch_size`` (all of X when None), loss
    (+ ``l2`` * sum of squared parameters), zero_grad, backward, optimizer step.
    ``stop_loss`` ends training once the epoch's training loss falls below it. With
    ``validation_data`` and ``keep_best``, the parameters of the epoch with the best
    validation accuracy (or loss, for regression) are restored at the end.

    ``optimizer`` is an optimizer object (``optim.Adam(model.parameters(), lr=0.01)``)
    or a name, ``"sgd"``, ``"adam"`` or ``"rmsprop"`` (any case), built on the model's
    parameters with ``lr`` (default: 0.05 for SGD, PyTorch's 0.001 for Adam and 0.01 for
    RMSprop); None is ``"sgd"``. ``lr`` goes with a name only: an optimizer object has its own.

    Data with nan or infinity is refused before training, naming the row and column.
    If the loss becomes inf or nan, or a step makes a parameter inf or nan, fit stops
    with ``TrainingDiverged`` naming the epoch, the batch and the loss, and leaves the
    model at the finite parameters it had before that step. With ``detect_anomaly`` the
    loop runs inside ``micrograd_like.detect_anomaly()``: the first op or gradient that makes
    a NaN or an infinity raises ``AnomalyError`` at once, naming where (slower; off by default).

    ``record=True`` keeps every epoch compactly in ``history.recording`` (the decision
    boundary of 2-D inputs as a 16 x 16 grid, an MLP's weights and biases, the losses),
    and ``history.replay()`` plays it back without a kernel. ``live=True`` records too and
    draws the boundary, the loss curves and the network in the notebook after every
    epoch; outside Jupyter it warns once and shows the progress bar instead.
    """
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"fit: unknown loss {loss!r}; choose one of {', '.join(LOSSES)} or pass a function")
        loss_fn = LOSSES[loss]
    elif callable(loss):
        loss_fn = loss
    else:
        raise TypeError(f"fit: loss must be a name or a function, got {type(loss).__name__}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive int, got {epochs!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1
    ):
        raise ValueError(f"fit: batch_size must be a positive int, or None for all the data in one batch, "
                         f"got {batch_size!r}")
    for name, flag in (("live", live), ("record", record)):
        if not isinstance(flag, bool):
            raise TypeError(f"fit: {name} must be True or False, got {flag!r}")
    _check_data(X, y, "")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("fit: validation_data must be a pair (X_val, y_val)")
        _check_data(*validation_data, "validation_data")
    params = model.parameters()
    optimizer = _make_optimizer(optimizer, lr, params)
    size = len(X) if batch_size is None else int(batch_size)
    history = History()
    best_score: float | None = None
    best_state: dict[str, float] | None = None

    recorder: Any = None
    if live or record:
        from .replay import start_recording

        recorder = start_recording(model, X, y, loss, epochs, validation_data, live,
                                   lambda data: _evaluate(model, *data, loss, loss_fn))
        history.recording = recorder.recording
        progress = progress and recorder.live is None  # the live view says what the bar would
    bar = None
    if progress:
        from tqdm.auto import tqdm  # lazily: importing micrograd_like must stay cheap

        bar = tqdm(total=epochs, desc="training", unit="epoch")
    checks = contextlib.ExitStack()  # the loop inside detect_anomaly(), when asked, without indenting it
    if detect_anomaly:
        checks.enter_context(anomaly.detect_anomaly())
    try:
        for epoch in range(epochs):
            for batch, (xb, yb) in enumerate(make_batches(X, y, size, shuffle=True, seed=seed + epoch)):
                try:
                    total = loss_fn([model(x) for x in xb], yb)
                    if l2:
                        total = total + F.l2_penalty(params, l2)
                except OverflowError as e:
                    # finite parameters so large that the forward pass overflows: the same divergence
                    raise _diverged(f"computing the loss overflowed ({e})", epoch, batch, math.inf, optimizer,
                                    history) from e
                if not math.isfinite(total.data):
                    raise _diverged(f"the loss is {total.data!r}", epoch, batch, total.data, optimizer, history)
                optimizer.zero_grad()
                total.backward()
                before = [p.data for p in params]
                with engine.no_grad():
                    optimizer.step()
                # momentum can throw a parameter to inf before any loss shows it: look after every step
                if not all(map(math.isfinite, [p.data for p in params])):
                    bad = next(p for p in params if not math.isfinite(p.data))
                    shown = bad.data
                    name = next((n for n, p in model.named_parameters() if p is bad and n), "") or bad.label
                    for p, data in zip(params, before):
                        p.data = data
                    raise _diverged(f"the step made parameter {name or '?'} {shown!r} (the loss before it was "
                                    f"{total.data!r})", epoch, batch, total.data, optimizer, history)
            try:
                train_loss, train_acc = _evaluate(model, X, y, loss, loss_fn)
            except OverflowError as e:
                raise _diverged(f"computing the epoch's loss overflowed ({e})", epoch, None, math.inf, optimizer,
                                history) from e
            if not math.isfinite(train_loss):
                raise _diverged(f"the training loss after the epoch is {train_loss!r}", epoch, None, train_loss,
                                optimizer, history)
            history.loss.append(train_loss)
            history.accuracy.append(train_acc)
            info = {"loss": f"{train_loss:.4f}"}
            if train_acc is not None:
                info["acc"] = f"{train_acc:.3f}"
            if validation_data is not None:
                val_loss, val_acc = _evaluate(model, *validation_data, loss, loss_fn)
                history.val_loss.append(val_loss)
                history.val_accuracy.append(val_acc)
                score = val_acc if val_acc is not None else -val_loss
                if keep_best and (best_score is None or score > best_score):
                    best_score, best_state, history.best_epoch = score, model.state_dict(), epoch
                info["val_loss"] = f"{val_loss:.4f}"
            if recorder is not None:
                recorder.epoch(epoch + 1, train_loss, train_acc, *(
                    (history.val_loss[-1], history.val_accuracy[-1]) if validation_data is not None else (None, None)))
            if bar is not None:
                bar.set_postfix(info)
                bar.update(1)
            if stop_loss is not None and train_loss < stop_loss:
                history.stopped_early = True
                break
    finally:
        checks.close()
        if bar is not None:
            bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return history

