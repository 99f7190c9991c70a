"""Seeded toy datasets in pure Python, plus one-hot encoding, splits and mini-batches."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Iterator, Sequence

__all__ = [
    "make_moons", "make_circles", "make_spirals", "make_xor", "make_blobs", "make_line", "make_fruits",
    "Fruits", "one_hot", "train_test_split", "batches", "standardize", "to_signs",
]

Rows = list[list[float]]


def _check_n(n_samples: int) -> None:
    if not isinstance(n_samples, int) or n_samples < 2:
        raise ValueError(f"n_samples must be an int >= 2, got {n_samples!r}")


def _shuffled(X: Rows, y: list, rng: random.Random) -> tuple[Rows, list]:
    idx = list(range(len(X)))
    rng.shuffle(idx)
    return [X[i] for i in idx], [y[i] for i in idx]


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[Rows, list[int]]:
    """Two interleaving half circles (labels 0 and 1), with Gaussian noise of std ``noise``."""
    _check_n(n_samples)
    rng = random.Random(seed)
    X, y = [], []
    n0 = n_samples // 2
    for i in range(n_samples):
        cls = 0 if i < n0 else 1
        k, m = (i, n0) if cls == 0 else (i - n0, n_samples - n0)
        t = math.pi * k / max(m - 1, 1)
        x0, x1 = (math.cos(t), math.sin(t)) if cls == 0 else (1 - math.cos(t), 0.5 - math.sin(t))
        X.append([x0 + rng.gauss(0, noise), x1 + rng.gauss(0, noise)])
        y.append(cls)
    return _shuffled(X, y, rng)


def make_circles(
    n_samples: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 0
) -> tuple[Rows, list[int]]:
    """A small circle (label 1) inside a large one (label 0); ``factor`` is the ratio of radii."""
    _check_n(n_samples)
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor!r}")
    rng = random.Random(seed)
    X, y = [], []
    for i in range(n_samples):
        cls = i % 2
        t = 2 * math.pi * rng.random()
        r = factor if cls else 1.0
        X.append([r * math.cos(t) + rng.gauss(0, noise), r * math.sin(t) + rng.gauss(0, noise)])
        y.append(cls)
    return X, y


def make_spirals(
    n_samples: int = 100, n_classes: int = 2, noise: float = 0.1, turns: float = 1.0, seed: int = 0
) -> tuple[Rows, list[int]]:
    """``n_classes`` interleaved spiral arms (labels 0..n_classes-1)."""
    _check_n(n_samples)
    rng = random.Random(seed)
    X, y = [], []
    for i in range(n_samples):
        cls = i % n_classes
        r = (i // n_classes + 1) / (n_samples / n_classes)
        t = 2 * math.pi * turns * r + 2 * math.pi * cls / n_classes
        X.append([r * math.cos(t) + rng.gauss(0, noise * r), r * math.sin(t) + rng.gauss(0, noise * r)])
        y.append(cls)
    return X, y


def make_xor(n_samples: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[Rows, list[int]]:
    """Points around the four corners (+-1, +-1); label 1 where the signs differ (XOR)."""
    _check_n(n_samples)
    rng = random.Random(seed)
    X, y = [], []
    for i in range(n_samples):
        a, b = (i >> 0) & 1, (i >> 1) & 1
        X.append([2 * a - 1 + rng.gauss(0, noise), 2 * b - 1 + rng.gauss(0, noise)])
        y.append(a ^ b)
    return X, y


def make_blobs(
    n_samples: int = 100,
    centers: int | Sequence[Sequence[float]] = 3,
    std: float = 0.5,
    n_features: int = 2,
    seed: int = 0,
) -> tuple[Rows, list[int]]:
    """Gaussian blobs around ``centers`` (a count, placed at random in [-5, 5], or the points themselves)."""
    _check_n(n_samples)
    rng = random.Random(seed)
    if isinstance(centers, int):
        pts = [[rng.uniform(-5, 5) for _ in range(n_features)] for _ in range(centers)]
    else:
        pts = [list(map(float, c)) for c in centers]
    X, y = [], []
    for i in range(n_samples):
        cls = i % len(pts)
        X.append([c + rng.gauss(0, std) for c in pts[cls]])
        y.append(cls)
    return X, y


def make_line(
    n_samples: int = 50, m: float = 2.0, b: float = -1.0, noise: float = 0.1, x_range: tuple[float, float] = (-1, 1),
    seed: int = 0,
) -> tuple[list[float], list[float]]:
    """Noisy points on y = m*x + b for linear regression: (xs, ys), plain lists of floats."""
    _check_n(n_samples)
    rng = random.Random(seed)
    xs = [rng.uniform(*x_range) for _ in range(n_samples)]
    return xs, [m * x + b + rng.gauss(0, noise) for x in xs]


@dataclass
class Fruits:
    """The fruit dataset: rows X, class indices y, and the names of both."""

    X: Rows
    y: list[int]
    feature_names: list[str]
    class_names: list[str]

    def __iter__(self) -> Iterator:
        # so that `X, y = make_fruits()` works too
        return iter((self.X, self.y))


_FRUITS = {
    # grams (mean, std), colour weights, texture weights, size in cm (mean, std)
    "apple": ((170, 25), {"red": 0.6, "green": 0.3, "yellow": 0.1}, {"smooth": 0.9, "bumpy": 0.1}, (7.5, 0.7)),
    "banana": ((120, 20), {"yellow": 0.85, "green": 0.15}, {"smooth": 1.0}, (19.0, 2.0)),
    "orange": ((140, 25), {"orange": 0.95, "green": 0.05}, {"bumpy": 0.9, "smooth": 0.1}, (7.5, 0.8)),
}
_COLOURS = ["red", "green", "yellow", "orange"]
_TEXTURES = ["smooth", "bumpy"]


def make_fruits(n_samples: int = 150, seed: int = 0) -> Fruits:
    """Apples, bananas and oranges by weight (g), colour, texture and size (cm).

    Colour and texture are categories, one-hot encoded; weight and size stay in
    their units (standardize them before training). Returns a ``Fruits`` with X, y,
    ``feature_names`` and ``class_names``; ``X, y = make_fruits()`` also works.
    """
    _check_n(n_samples)
    rng = random.Random(seed)
    classes = list(_FRUITS)
    X, y = [], []
    for i in range(n_samples):
        cls = i % len(classes)
        (gm, gs), colours, textures, (sm, ss) = _FRUITS[classes[cls]]
        colour = rng.choices(list(colours), weights=list(colours.values()))[0]
        texture = rng.choices(list(textures), weights=list(textures.values()))[0]
        row = [max(rng.gauss(gm, gs), 30.0)]
        row += one_hot(_COLOURS.index(colour), len(_COLOURS))
        row += one_hot(_TEXTURES.index(texture), len(_TEXTURES))
        row.append(max(rng.gauss(sm, ss), 2.0))
        X.append(row)
        y.append(cls)
    X, y = _shuffled(X, y, rng)
    names = ["weight_g"] + [f"colour={c}" for c in _COLOURS] + [f"texture={t}" for t in _TEXTURES] + ["size_cm"]
    return Fruits(X, y, names, classes)


def one_hot(index: int | Sequence[int], n_classes: int) -> list[float] | list[list[float]]:
    """[0, .., 1, .., 0] with the 1 at ``index``; a list of indices gives a list of rows."""
    if not isinstance(index, int):
        return [one_hot(i, n_classes) for i in index]  # type: ignore[misc]
    if not 0 <= index < n_classes:
        raise ValueError(f"one_hot: index {index} is out of range for {n_classes} classes")
    row = [0.0] * n_classes
    row[index] = 1.0
    return row


def to_signs(y: Sequence[int]) -> list[int]:
    """Map labels 0/1 to -1/+1, as the hinge loss wants."""
    return [1 if t else -1 for t in y]


def train_test_split(
    X: Sequence, y: Sequence, test_size: float = 0.25, seed: int = 0
) -> tuple[list, list, list, list]:
    """Shuffle and split into (X_train, X_test, y_train, y_test), like scikit-learn's."""
    if len(X) != len(y):
        raise ValueError(f"train_test_split: {len(X)} rows but {len(y)} labels")
    if not 0 < test_size < 1:
        raise ValueError(f"train_test_split: test_size must be in (0, 1), got {test_size!r}")
    Xs, ys = _shuffled(list(X), list(y), random.Random(seed))
    n_test = max(1, round(len(Xs) * test_size))
    return Xs[n_test:], Xs[:n_test], ys[n_test:], ys[:n_test]


def batches(
    X: Sequence, y: Sequence, batch_size: int, shuffle: bool = True, seed: int | None = 0
) -> Iterator[tuple[list, list]]:
    """Yield (X_batch, y_batch) of ``batch_size`` rows (the last may be smaller)."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batches: batch_size must be a positive int, got {batch_size!r}")
    idx = list(range(len(X)))
    if shuffle:
        random.Random(seed).shuffle(idx)
    for start in range(0, len(idx), batch_size):
        chunk = idx[start : start + batch_size]
        yield [X[i] for i in chunk], [y[i] for i in chunk]


def standardize(X: Rows, stats: tuple[list[float], list[float]] | None = None) -> tuple[Rows, tuple]:
    """Scale each column to mean 0 and std 1; pass the returned stats to scale test data the same way."""
    if stats is None:
        cols = list(zip(*X))
        means = [sum(c) / len(c) for c in cols]
        stds = [math.sqrt(sum((v - m) ** 2 for v in c) / len(c)) or 1.0 for c, m in zip(cols, means)]
        stats = (means, stds)
    means, stds = stats
    return [[(v - m) / s for v, m, s in zip(row, means, stds)] for row in X], stats
