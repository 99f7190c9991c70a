"""Optimizers with PyTorch's update rules and defaults: SGD (with momentum), RMSprop and Adam."""

from __future__ import annotations

import math
from typing import Iterable

from .engine import Value

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam"]


class Optimizer:
    """Holds the parameters; ``step()`` updates their data from their grads, ``zero_grad()`` clears grads."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Value):
                raise TypeError(f"{type(self).__name__}: parameters must be Values, got {type(p).__name__}")
        _check("lr", lr, type(self).__name__)
        self.lr = float(lr)

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 before the next backward()."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter once."""
        raise NotImplementedError


def _check(name: str, value: float, owner: str, upper: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")
    if upper is not None and value >= upper:
        raise ValueError(f"{owner}: {name} must be < {upper}, got {value!r}")


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum as in ``torch.optim.SGD``.

    b = momentum * b + g (b = g on the first step); p -= lr * b. Without momentum, p -= lr * g.
    """

    def __init__(self, params: Iterable[Value], lr: float = 0.01, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        _check("momentum", momentum, "SGD")
        self.momentum = float(momentum)
        self._buffers: list[float] | None = None

    def step(self) -> None:
        if not self.momentum:
            for p in self.params:
                p.data -= self.lr * p.grad
            return
        if self._buffers is None:
            self._buffers = [p.grad for p in self.params]
        else:
            self._buffers = [self.momentum * b + p.grad for b, p in zip(self._buffers, self.params)]
        for p, b in zip(self.params, self._buffers):
            p.data -= self.lr * b


class RMSprop(Optimizer):
    """RMSprop as in ``torch.optim.RMSprop``: v = alpha*v + (1-alpha)*g**2; p -= lr * g / (sqrt(v) + eps)."""

    def __init__(self, params: Iterable[Value], lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        _check("alpha", alpha, "RMSprop", upper=1.0 + 1e-12)
        _check("eps", eps, "RMSprop")
        self.alpha, self.eps = float(alpha), float(eps)
        self._v = [0.0] * len(self.params)

    def step(self) -> None:
        a = self.alpha
        for i, p in enumerate(self.params):
            g = p.grad
            self._v[i] = v = a * self._v[i] + (1 - a) * g * g
            p.data -= self.lr * g / (math.sqrt(v) + self.eps)


class Adam(Optimizer):
    """Adam as in ``torch.optim.Adam``, with bias correction.

    m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g**2; m^ = m/(1-b1**t); v^ = v/(1-b2**t);
    p -= lr * m^ / (sqrt(v^) + eps).
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        if len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair, got {betas!r}")
        for i, b in enumerate(betas):
            _check(f"betas[{i}]", b, "Adam", upper=1.0)
        _check("eps", eps, "Adam")
        self.betas, self.eps = (float(betas[0]), float(betas[1])), float(eps)
        self._m = [0.0] * len(self.params)
        self._v = [0.0] * len(self.params)
        self.t = 0

    def step(self) -> None:
        b1, b2 = self.betas
        self.t += 1
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        for i, p in enumerate(self.params):
            g = p.grad
            self._m[i] = m = b1 * self._m[i] + (1 - b1) * g
            self._v[i] = v = b2 * self._v[i] + (1 - b2) * g * g
            # PyTorch's form: p -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps)
            p.data -= (self.lr / c1) * m / (math.sqrt(v) / math.sqrt(c2) + self.eps)
