"""Optimizers with PyTorch's update rules and defaults: SGD (with momentum), RMSprop and Adam."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

from .engine import Value, _describe

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam"]


def _param_list(params: Iterable[Value], owner: str) -> list[Value]:
    """The parameters as a list (a generator such as ``model.parameters()`` is read once, here)."""
    if isinstance(params, Value):
        raise TypeError(f"{owner}: params must be an iterable of Values (a list, say), got a single Value")
    try:
        ps = list(params)
    except TypeError:
        raise TypeError(f"{owner}: params must be an iterable of Values, got {type(params).__name__}") from None
    if not ps:
        raise ValueError(f"{owner}: got an empty parameter list (was a generator already used up?)")
    seen: set[int] = set()
    for i, p in enumerate(ps):
        if not isinstance(p, Value):
            raise TypeError(f"{owner}: parameters must be Values, got {type(p).__name__} at position {i}")
        if id(p) in seen:
            # the same Value twice would be stepped twice per step()
            raise ValueError(f"{owner}: parameter {p.label or i!r} appears more than once")
        seen.add(id(p))
    return ps


def _hyper(name: str, value: object, owner: str, below: float | None = None, positive: bool = False) -> float:
    """A hyperparameter as a float, checked to be finite, >= 0 (> 0 if ``positive``) and (if given) < ``below``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__} {value!r:.40}")
    try:
        x = float(value)
    except OverflowError:
        # an int past 1e308 has no float; say which setting it is rather than Python's bare message
        raise ValueError(f"{owner}: {name} must be a finite number, got {_describe(value)}, "
                         "too large for a float") from None
    if not (math.isfinite(x) and (x > 0.0 if positive else x >= 0.0)):
        raise ValueError(f"{owner}: {name} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    if below is not None and x >= below:
        raise ValueError(f"{owner}: {name} must be < {below}, got {value!r}")
    return x


class Optimizer:
    """Base class: holds the parameters; ``step()`` updates their data from their grads.

    Subclasses implement ``step()``. Like ``torch.optim``, ``weight_decay`` adds
    ``weight_decay * p`` to each gradient before the update (an L2 penalty of
    ``weight_decay / 2 * sum(p**2)``, without building it into the graph).
    A parameter whose ``grad`` is None is skipped by ``step()``, as in PyTorch: it
    does not move, decay or count a step. A grad that is not a real number is a
    TypeError naming the optimizer and the parameter.
    """

    def __init__(self, params: Iterable[Value], lr: float, weight_decay: float = 0.0) -> None:
        owner = type(self).__name__
        self.params = _param_list(params, owner)
        self.lr = _hyper("lr", lr, owner)
        self.weight_decay = _hyper("weight_decay", weight_decay, owner)
        self.steps = 0  # how many times step() has run

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 before the next backward() (leaves accumulate)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter once from its current grad."""
        raise NotImplementedError(f"{type(self).__name__} must implement step()")

    def _grads(self) -> list[float | None]:
        """Each parameter's grad as a float, plus weight_decay * p when weight decay is on.

        A parameter whose grad is None gets None: the optimizers skip it (no update, no
        decay, its running averages untouched), as ``torch.optim`` skips a parameter
        that took no part in the loss.
        """
        wd = self.weight_decay
        grads: list[float | None] = []
        for i, p in enumerate(self.params):
            g = p.grad
            if type(g) is not float:  # the usual case is a float: one type test and on
                if g is None:
                    grads.append(None)
                    continue
                g = self._real_grad(g, i)
            grads.append(g + wd * p.data if wd else g)
        return grads

    def _real_grad(self, g: object, i: int) -> float:
        """A grad that is not a float, as a float, or an error naming the optimizer and the parameter."""
        p = self.params[i]
        where = f"parameter {p.label!r} (position {i})" if p.label else f"the parameter at position {i}"
        if not isinstance(g, numbers.Real):
            raise TypeError(f"{type(self).__name__}: the grad of {where} must be a real number (or None to "
                            f"skip it), got {type(g).__name__} {g!r:.40}")
        try:
            return float(g)
        except OverflowError:
            raise ValueError(f"{type(self).__name__}: the grad of {where} is an int too large for a float") from None

    def _settings(self) -> str:
        return f"lr={self.lr:g}" + (f", weight_decay={self.weight_decay:g}" if self.weight_decay else "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._settings()}, {len(self.params)} parameters)"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, as ``torch.optim.SGD``.

    Without momentum: p <- p - lr * g. With momentum mu, each parameter keeps a
    buffer b (b = g on the first step, then b <- mu * b + g) and p <- p - lr * b,
    so steps keep going in directions the gradient keeps pointing.
    Defaults are PyTorch's (lr=0.001).
    """

    def __init__(
        self, params: Iterable[Value], lr: float = 0.001, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = _hyper("momentum", momentum, "SGD")
        # momentum buffers, one per parameter, each made on that parameter's first update (torch's lazy state)
        self.buffers: list[float | None] = [None] * len(self.params)

    def step(self) -> None:
        """p <- p - lr * g, or with momentum b <- mu * b + g, p <- p - lr * b (b = g the first time)."""
        lr, mu, buffers = self.lr, self.momentum, self.buffers
        for i, (p, g) in enumerate(zip(self.params, self._grads())):
            if g is None:
                continue
            if mu:
                b = buffers[i]
                g = buffers[i] = g if b is None else mu * b + g
            p.data -= lr * g
        self.steps += 1

    def _settings(self) -> str:
        return super()._settings() + (f", momentum={self.momentum:g}" if self.momentum else "")


class RMSprop(Optimizer):
    """RMSprop as ``torch.optim.RMSprop``: divide each step by a running root-mean-square of the gradient.

    v <- alpha * v + (1 - alpha) * g**2 (v starts at 0); p <- p - lr * g / (sqrt(v) + eps),
    with 0 <= alpha <= 1. Parameters with large gradients take smaller steps and vice versa.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.alpha = _hyper("alpha", alpha, "RMSprop")
        if self.alpha > 1.0:
            # alpha = 1 is allowed, as in torch (v then stays 0); past 1, (1 - alpha) * g**2 < 0 drives v
            # negative and step() into sqrt of a negative number
            raise ValueError(f"RMSprop: alpha must be <= 1, got {alpha!r}")
        # eps > 0 keeps g / (sqrt(v) + eps) defined when g and v are both 0 (torch accepts 0 and gives nan)
        self.eps = _hyper("eps", eps, "RMSprop", positive=True)
        self.square_avg = [0.0] * len(self.params)

    def step(self) -> None:
        """v <- alpha * v + (1 - alpha) * g**2; p <- p - lr * g / (sqrt(v) + eps)."""
        a, lr, eps, v = self.alpha, self.lr, self.eps, self.square_avg
        for i, (p, g) in enumerate(zip(self.params, self._grads())):
            if g is None:
                continue
            v[i] = a * v[i] + (1.0 - a) * (g * g)
            p.data -= lr * (g / (math.sqrt(v[i]) + eps))
        self.steps += 1

    def _settings(self) -> str:
        return super()._settings() + f", alpha={self.alpha:g}, eps={self.eps:g}"


class Adam(Optimizer):
    """Adam as ``torch.optim.Adam``: momentum and RMSprop together, with bias correction.

    m <- b1 * m + (1 - b1) * g;  v <- b2 * v + (1 - b2) * g**2  (both start at 0);
    m^ = m / (1 - b1**t);  v^ = v / (1 - b2**t);  p <- p - lr * m^ / (sqrt(v^) + eps).
    The corrections undo the pull towards 0 of the zero start, so the first step
    moves every parameter by about lr, whatever the size of its gradient.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_hyper("betas[0]", betas[0], "Adam", below=1.0), _hyper("betas[1]", betas[1], "Adam", below=1.0))
        # eps > 0 keeps m / (sqrt(v) + eps) defined when m and v are both 0 (torch accepts 0 and gives nan)
        self.eps = _hyper("eps", eps, "Adam", positive=True)
        self.exp_avg = [0.0] * len(self.params)  # m
        self.exp_avg_sq = [0.0] * len(self.params)  # v
        # t per parameter, as torch keeps it: a parameter skipped (grad None) is not counted
        self.param_steps = [0] * len(self.params)

    def step(self) -> None:
        """One Adam update with bias-corrected moments (t counts the steps from 1)."""
        b1, b2 = self.betas
        self.steps += 1
        m, v, ts, eps, lr = self.exp_avg, self.exp_avg_sq, self.param_steps, self.eps, self.lr
        corrections: dict[int, tuple[float, float]] = {}  # t -> (lr / c1, sqrt(c2)), computed once per t
        for i, (p, g) in enumerate(zip(self.params, self._grads())):
            if g is None:
                continue
            t = ts[i] = ts[i] + 1
            if t not in corrections:
                corrections[t] = (lr / (1.0 - b1**t), math.sqrt(1.0 - b2**t))
            # PyTorch's arrangement of the same formula: p -= (lr / c1) * m / (sqrt(v) / sqrt(c2) + eps)
            step_size, c2_sqrt = corrections[t]
            m[i] = m[i] + (1.0 - b1) * (g - m[i])  # = b1*m + (1-b1)*g, written as torch's lerp
            v[i] = b2 * v[i] + (1.0 - b2) * (g * g)
            p.data -= step_size * (m[i] / (math.sqrt(v[i]) / c2_sqrt + eps))

    def _settings(self) -> str:
        return super()._settings() + f", betas=({self.betas[0]:g}, {self.betas[1]:g}), eps={self.eps:g}"
