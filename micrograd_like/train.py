"""A small training loop: mini-batches, a progress bar, history, early stop and the best checkpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from . import engine, functional as F
from .data import batches as make_batches
from .engine import Value
from .nn import Module
from .optim import SGD, Optimizer

__all__ = ["fit", "History", "LOSSES", "accuracy"]

LossFn = Callable[[list, list], Value]

# named losses; each takes the model's outputs for a batch and the batch's targets
LOSSES: dict[str, LossFn] = {
    "hinge": F.hinge,
    "mse": F.mse,
    "mae": F.mae,
    "cross_entropy": F.cross_entropy,
    "bce": F.binary_cross_entropy_with_logits,
}


@dataclass
class History:
    """Per-epoch loss and accuracy for training and validation (accuracy is None for regression)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False


def accuracy(outputs: Sequence[Value | list[Value]], targets: Sequence, loss: str | LossFn) -> float | None:
    """Fraction classified right, read from the loss: hinge/bce by sign, cross_entropy by argmax.

    Regression losses (mse, mae, or a custom callable) have no accuracy: None.
    """
    if loss == "cross_entropy":
        right = sum(max(range(len(o)), key=lambda i: o[i].data) == t for o, t in zip(outputs, targets))
    elif loss == "hinge":
        right = sum((o.data > 0) == (t > 0) for o, t in zip(outputs, targets))
    elif loss == "bce":
        right = sum((o.data > 0) == (t > 0.5) for o, t in zip(outputs, targets))
    else:
        return None
    return right / len(targets)


def _evaluate(
    model: Module, X: Sequence, y: Sequence, loss: str | LossFn, loss_fn: LossFn
) -> tuple[float, float | None]:
    with engine.no_grad():
        outputs = [model(x) for x in X]
        return loss_fn(outputs, list(y)).data, accuracy(outputs, y, loss)


def fit(
    model: Module,
    X: Sequence,
    y: Sequence,
    loss: str | LossFn = "mse",
    optimizer: Optimizer | None = None,
    epochs: int = 10,
    batch_size: int | None = None,
    validation_data: tuple[Sequence, Sequence] | None = None,
    l2: float = 0.0,
    progress: bool = True,
    stop_loss: float | None = None,
    keep_best: bool = True,
    seed: int = 0,
) -> History:
    """Train ``model`` on (X, y) and return the History.

    Each epoch: shuffled mini-batches of ``batch_size`` (all of X when None), loss
    (+ ``l2`` * sum of squared parameters), zero_grad, backward, optimizer step.
    ``stop_loss`` ends training once the epoch's training loss falls below it. With
    ``validation_data`` and ``keep_best``, the parameters of the epoch with the best
    validation accuracy (or loss, for regression) are restored at the end.
    """
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"fit: unknown loss {loss!r}; choose one of {', '.join(LOSSES)} or pass a function")
        loss_fn = LOSSES[loss]
    elif callable(loss):
        loss_fn = loss
    else:
        raise TypeError(f"fit: loss must be a name or a function, got {type(loss).__name__}")
    if len(X) != len(y):
        raise ValueError(f"fit: {len(X)} samples but {len(y)} targets")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive int, got {epochs!r}")
    params = model.parameters()
    optimizer = optimizer or SGD(params, lr=0.05)
    history = History()
    best_score: float | None = None
    best_state: dict[str, float] | None = None

    bar = None
    if progress:
        from tqdm.auto import tqdm  # lazily: importing micrograd_like must stay cheap

        bar = tqdm(total=epochs, desc="training", unit="epoch")
    try:
        for epoch in range(epochs):
            for xb, yb in make_batches(X, y, batch_size or len(X), shuffle=True, seed=seed + epoch):
                total = loss_fn([model(x) for x in xb], yb)
                if l2:
                    total = total + F.l2_penalty(params, l2)
                optimizer.zero_grad()
                total.backward()
                with engine.no_grad():
                    optimizer.step()
            train_loss, train_acc = _evaluate(model, X, y, loss, loss_fn)
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
            if bar is not None:
                bar.set_postfix(info)
                bar.update(1)
            if stop_loss is not None and train_loss < stop_loss:
                history.stopped_early = True
                break
    finally:
        if bar is not None:
            bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return history

