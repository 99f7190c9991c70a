"""Seeded toy datasets and the 8x8 handwritten digits in pure Python, plus one-hot, splits, batches, scaling.

Every ``make_*`` function draws from its own ``random.Random(seed)``, so the same
arguments give the same data on every run and machine, and nothing touches the
global ``random`` state. Classification sets return ``(X, y)``: ``X`` a list of
rows (lists of floats) and ``y`` a list of class indices 0, 1, ... . For
micrograd's -1/+1 labels (the hinge loss) use ``to_signs(y)``. ``load_digits``
reads real data (1,797 handwritten digits) shipped inside the package.
"""

from __future__ import annotations

import gzip
import math
import numbers
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = [
    "make_moons", "make_circles", "make_spirals", "make_xor", "make_blobs", "make_line", "make_fruits",
    "Fruits", "load_digits", "Digits", "to_image", "one_hot", "to_signs", "train_test_split", "batches", "standardize",
]

Rows = list[list[float]]
Dataset = tuple[Rows, list[int]]
T = TypeVar("T")
U = TypeVar("U")


# ---- argument checks shared by the generators --------------------------------------------


def _check_n(n_samples: object, fn: str, minimum: int = 2) -> None:
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < minimum:
        raise ValueError(f"{fn}: n_samples must be an int >= {minimum}, got {n_samples!r}")


def _check_scale(name: str, value: object, fn: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) < math.inf:
        raise ValueError(f"{fn}: {name} must be a finite number >= 0, got {value!r}")


def _shuffled(X: list[T], y: list[U], rng: random.Random) -> tuple[list[T], list[U]]:
    """X and y shuffled together, so rows and labels stay paired."""
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]


# ---- 2-D classification sets ---------------------------------------------------------------


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles, the dataset of micrograd's demo.

    Class 0 lies on the upper arc (cos t, sin t), class 1 on the lower arc
    (1 - cos t, 0.5 - sin t), t evenly spaced in [0, pi]; Gaussian noise of std
    ``noise`` is added to both coordinates. Half the points (rounded down) are
    class 0. Rows come shuffled. Labels are 0/1; ``to_signs(y)`` gives -1/+1.
    """
    _check_n(n_samples, "make_moons")
    _check_scale("noise", noise, "make_moons")
    rng = random.Random(seed)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    X: Rows = []
    y: list[int] = []
    for k in range(n_upper):
        t = math.pi * k / max(n_upper - 1, 1)
        X.append([math.cos(t) + rng.gauss(0.0, noise), math.sin(t) + rng.gauss(0.0, noise)])
        y.append(0)
    for k in range(n_lower):
        t = math.pi * k / max(n_lower - 1, 1)
        X.append([1.0 - math.cos(t) + rng.gauss(0.0, noise), 0.5 - math.sin(t) + rng.gauss(0.0, noise)])
        y.append(1)
    return _shuffled(X, y, rng)


def make_circles(n_samples: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 0) -> Dataset:
    """A small circle (class 1, radius ``factor``) inside a unit circle (class 0), at random angles.

    Not linearly separable: a good first case for a hidden layer. Classes alternate row by row.
    """
    _check_n(n_samples, "make_circles")
    _check_scale("noise", noise, "make_circles")
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must be a number in (0, 1), got {factor!r}")
    rng = random.Random(seed)
    X: Rows = []
    y: list[int] = []
    for i in range(n_samples):
        label = i % 2
        radius = factor if label else 1.0
        t = 2.0 * math.pi * rng.random()
        X.append([radius * math.cos(t) + rng.gauss(0.0, noise), radius * math.sin(t) + rng.gauss(0.0, noise)])
        y.append(label)
    return X, y


def make_spirals(
    n_samples: int = 100, n_classes: int = 2, noise: float = 0.1, turns: float = 1.0, seed: int = 0
) -> Dataset:
    """``n_classes`` interleaved spiral arms from the centre out to radius 1 (classes 0..n_classes-1).

    Arm c at radius r sits at angle 2 pi (turns * r + c / n_classes); the noise is
    scaled by r, so the crowded centre stays readable. Classes alternate row by row.
    """
    _check_n(n_samples, "make_spirals")
    _check_scale("noise", noise, "make_spirals")
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"make_spirals: n_classes must be an int >= 2, got {n_classes!r}")
    rng = random.Random(seed)
    X: Rows = []
    y: list[int] = []
    for i in range(n_samples):
        label = i % n_classes
        # an arm's own row count, so every arm ends at radius 1 when n_samples is no multiple of n_classes
        arm_rows = (n_samples - label + n_classes - 1) // n_classes
        r = (i // n_classes + 1) / arm_rows
        t = 2.0 * math.pi * (turns * r + label / n_classes)
        X.append([r * math.cos(t) + rng.gauss(0.0, noise * r), r * math.sin(t) + rng.gauss(0.0, noise * r)])
        y.append(label)
    return X, y


def make_xor(n_samples: int = 100, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Points around the corners (+-1, +-1); class 1 where the two signs differ (XOR), else 0.

    The classic problem a single neuron cannot solve. Corners take turns row by row,
    and the label comes from the corner, so with ``noise`` near 1 labels overlap.
    """
    _check_n(n_samples, "make_xor")
    _check_scale("noise", noise, "make_xor")
    rng = random.Random(seed)
    X: Rows = []
    y: list[int] = []
    for i in range(n_samples):
        a, b = i & 1, (i >> 1) & 1
        X.append([2.0 * a - 1.0 + rng.gauss(0.0, noise), 2.0 * b - 1.0 + rng.gauss(0.0, noise)])
        y.append(a ^ b)
    return X, y


def make_blobs(
    n_samples: int = 100,
    centers: int | Sequence[Sequence[float]] = 3,
    std: float = 0.5,
    n_features: int = 2,
    seed: int = 0,
) -> Dataset:
    """Gaussian blobs of std ``std``, one class per centre (classes take turns row by row).

    ``centers`` is either a count (the centres are then drawn uniformly from
    [-5, 5] in each of ``n_features`` dimensions) or the centre points themselves.
    """
    _check_n(n_samples, "make_blobs")
    _check_scale("std", std, "make_blobs")
    rng = random.Random(seed)
    if isinstance(centers, bool):
        raise TypeError("make_blobs: centers must be a count or a list of points, got bool")
    if isinstance(centers, int):
        if centers < 1 or isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 1:
            raise ValueError(f"make_blobs: need centers >= 1 and n_features >= 1, got {centers!r} and {n_features!r}")
        points = [[rng.uniform(-5.0, 5.0) for _ in range(n_features)] for _ in range(centers)]
    else:
        points = [[float(c) for c in centre] for centre in centers]
        if not points or len({len(p) for p in points}) != 1 or not points[0]:
            raise ValueError("make_blobs: centers must be a count or a non-empty list of points of one dimension")
    X: Rows = []
    y: list[int] = []
    for i in range(n_samples):
        label = i % len(points)
        X.append([c + rng.gauss(0.0, std) for c in points[label]])
        y.append(label)
    return X, y


# ---- regression ----------------------------------------------------------------------------


def make_line(
    n_samples: int = 50,
    m: float = 2.0,
    b: float = -1.0,
    noise: float = 0.1,
    x_range: tuple[float, float] = (-1.0, 1.0),
    seed: int = 0,
) -> tuple[list[float], list[float]]:
    """Points on y = m*x + b plus Gaussian noise of std ``noise``, x uniform in ``x_range``.

    Returns ``(xs, ys)``, two plain lists of floats (not rows): fit ``m*x + b`` with
    two Values and ``F.mse`` and you should get ``m`` and ``b`` back. Wrap as
    ``[[x] for x in xs]`` to feed an ``MLP(1, [1])``.
    """
    _check_n(n_samples, "make_line")
    _check_scale("noise", noise, "make_line")
    low, high = x_range
    if not low < high:
        raise ValueError(f"make_line: x_range must be (low, high) with low < high, got {x_range!r}")
    rng = random.Random(seed)
    xs = [rng.uniform(low, high) for _ in range(n_samples)]
    ys = [m * x + b + rng.gauss(0.0, noise) for x in xs]
    return xs, ys


# ---- fruits: mixed numeric and categorical features ----------------------------------------


@dataclass
class Fruits:
    """The fruit dataset: rows ``X``, class indices ``y``, and what the columns and classes are.

    Unpacks like the other datasets, ``X, y = make_fruits()``.
    """

    X: Rows
    y: list[int]
    feature_names: list[str] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator:
        return iter((self.X, self.y))

    def __len__(self) -> int:
        return len(self.X)


@dataclass(frozen=True)
class _FruitKind:
    grams: tuple[float, float]  # mean, std
    colours: dict[str, float]  # colour -> how often
    textures: dict[str, float]
    size_cm: tuple[float, float]  # length of the longest side: mean, std


# Made-up but plausible: weight overlaps between all three, so it alone cannot tell them apart;
# bananas are long, oranges are orange and bumpy, apples are red or green and smooth.
_FRUITS = {
    "apple": _FruitKind((170.0, 25.0), {"red": 0.6, "green": 0.3, "yellow": 0.1}, {"smooth": 0.9, "bumpy": 0.1},
                        (7.5, 0.7)),
    "banana": _FruitKind((120.0, 20.0), {"yellow": 0.85, "green": 0.15}, {"smooth": 1.0}, (19.0, 2.0)),
    "orange": _FruitKind((140.0, 25.0), {"orange": 0.95, "green": 0.05}, {"bumpy": 0.9, "smooth": 0.1},
                         (7.5, 0.8)),
}
_COLOURS = ["red", "green", "yellow", "orange"]
_TEXTURES = ["smooth", "bumpy"]
FRUIT_FEATURES = ["weight_g"] + [f"colour={c}" for c in _COLOURS] + [f"texture={t}" for t in _TEXTURES] + ["size_cm"]


def _pick(weights: dict[str, float], rng: random.Random) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def make_fruits(n_samples: int = 150, seed: int = 0) -> Fruits:
    """Apples, bananas and oranges (classes 0, 1, 2) described by weight, colour, texture and size.

    Each row has 8 numbers, named in ``feature_names``: ``weight_g`` (grams, about
    100-200), four one-hot columns ``colour=red/green/yellow/orange``, two one-hot
    columns ``texture=smooth/bumpy``, and ``size_cm``. The categorical features are
    one-hot encoded so a neuron can weigh each category on its own; the numeric
    ones stay in their units, so ``standardize`` X before training (grams of 150
    would swamp the 0/1 columns). Classes take turns, then rows are shuffled.
    """
    _check_n(n_samples, "make_fruits")
    rng = random.Random(seed)
    names = list(_FRUITS)
    X: Rows = []
    y: list[int] = []
    for i in range(n_samples):
        label = i % len(names)
        kind = _FRUITS[names[label]]
        row = [max(rng.gauss(*kind.grams), 30.0)]  # no fruit weighs nothing; clip the far tail
        row += _one_hot_row(_COLOURS.index(_pick(kind.colours, rng)), len(_COLOURS))
        row += _one_hot_row(_TEXTURES.index(_pick(kind.textures, rng)), len(_TEXTURES))
        row.append(max(rng.gauss(*kind.size_cm), 2.0))
        X.append(row)
        y.append(label)
    X, y = _shuffled(X, y, rng)
    return Fruits(X, y, list(FRUIT_FEATURES), names)


# ---- the handwritten digits: real data shipped with the package ----------------------------

# One line per image: its label, a space, then its 64 pixels row by row, each a count 0..16 of
# inked cells written as one character 0-9a-g. Text compresses as well as bytes here, and
# `zcat` shows a learner what is in the file.
DIGITS_FILE = "_datasets/digits.txt.gz"
_PIXEL_CODES = "0123456789abcdefg"
DIGIT_SIDE = 8  # images are DIGIT_SIDE x DIGIT_SIDE pixels


@dataclass
class Digits:
    """The handwritten digits: ``X`` (one row of 64 pixels per image), ``y`` (the digit 0-9 shown).

    Unpacks like the other datasets, ``X, y = load_digits()``. ``image(i)`` gives
    image ``i`` as 8 rows of 8 pixels, for drawing.
    """

    X: Rows
    y: list[int]
    class_names: list[str] = field(default_factory=lambda: [str(d) for d in range(10)])

    def __iter__(self) -> Iterator:
        return iter((self.X, self.y))

    def __len__(self) -> int:
        return len(self.X)

    def image(self, i: int) -> list[list[float]]:
        """Image ``i`` as ``DIGIT_SIDE`` rows of ``DIGIT_SIDE`` pixels, top row first."""
        return to_image(self.X[i])


def to_image(row: Sequence[float]) -> list[list[float]]:
    """A flat row of 64 pixels (a digit, or a first-layer neuron's 64 weights) as 8 rows of 8."""
    if len(row) != DIGIT_SIDE * DIGIT_SIDE:
        raise ValueError(f"to_image: expected {DIGIT_SIDE * DIGIT_SIDE} values, got {len(row)}")
    return [list(row[r * DIGIT_SIDE : (r + 1) * DIGIT_SIDE]) for r in range(DIGIT_SIDE)]


def _read_digits_file() -> list[str]:
    """The shipped file's lines, read through importlib.resources so it works from a wheel or a zip."""
    from importlib import resources

    raw = resources.files(__package__ or "micrograd_like").joinpath(DIGITS_FILE).read_bytes()
    return gzip.decompress(raw).decode("ascii").splitlines()


def load_digits(scale: bool = True) -> Digits:
    """The 1,797 handwritten digits (8x8 pixels, classes 0-9) of UCI's optdigits test set, no download.

    Each row of ``X`` holds an image's 64 pixels row by row, top left first. A pixel
    counts the inked cells of a 4x4 block of the original 32x32 bitmap, 0..16;
    ``scale=True`` divides by 16 so pixels lie in [0, 1] (what a network wants),
    ``scale=False`` keeps the counts (as floats). ``y`` is the digit drawn. Rows come
    in the dataset's own order (as scikit-learn's ``load_digits``), about 180 per class.

    Source: E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits",
    UCI Machine Learning Repository (1998), https://archive.ics.uci.edu/dataset/80, licence
    CC BY 4.0; the same rows as scikit-learn's ``load_digits``.
    """
    if not isinstance(scale, bool):
        raise TypeError(f"load_digits: scale must be True or False, got {type(scale).__name__}")
    divisor = 16.0 if scale else 1.0
    X: Rows = []
    y: list[int] = []
    for line in _read_digits_file():
        label, pixels = line.split(" ")
        X.append([_PIXEL_CODES.index(c) / divisor for c in pixels])
        y.append(int(label))
    return Digits(X, y)


# ---- helpers -------------------------------------------------------------------------------


def one_hot(index: int | Sequence[int], n_classes: int) -> list[float] | list[list[float]]:
    """[0, ..., 1, ..., 0] of length ``n_classes`` with the 1 at ``index``; a list of indices gives a list of rows."""
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
        raise ValueError(f"one_hot: n_classes must be a positive int, got {n_classes!r}")
    if isinstance(index, numbers.Integral) and not isinstance(index, bool):
        return _one_hot_row(int(index), n_classes)
    if isinstance(index, (str, bytes, bool)) or not isinstance(index, Iterable):
        raise TypeError(f"one_hot: index must be an int or a list of ints, got {type(index).__name__}")
    rows: list[list[float]] = []
    for i in index:
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"one_hot: index must be an int or a list of ints, got a {type(i).__name__} in the list")
        rows.append(_one_hot_row(int(i), n_classes))
    return rows


def _one_hot_row(index: int, n_classes: int) -> list[float]:
    if not 0 <= index < n_classes:
        raise ValueError(f"one_hot: index {index} is out of range for {n_classes} classes")
    row = [0.0] * n_classes
    row[index] = 1.0
    return row


def to_signs(y: Sequence[int]) -> list[int]:
    """Map labels 0/1 to -1/+1, as micrograd's demo and the hinge loss want them."""
    for t in y:
        if t not in (0, 1):
            raise ValueError(f"to_signs: labels must be 0 or 1, got {t!r}")
    return [1 if t else -1 for t in y]


def train_test_split(
    X: Sequence[T], y: Sequence[U], test_size: float = 0.25, seed: int = 0
) -> tuple[list[T], list[T], list[U], list[U]]:
    """Shuffle rows and labels together and split them: ``(X_train, X_test, y_train, y_test)``, like scikit-learn.

    ``test_size`` is a fraction in (0, 1) (rounded, at least one row) or a number of rows.
    """
    if len(X) != len(y):
        raise ValueError(f"train_test_split: {len(X)} rows but {len(y)} labels; they must match")
    if isinstance(test_size, int) and not isinstance(test_size, bool):
        n_test = test_size
    elif isinstance(test_size, float) and 0.0 < test_size < 1.0:
        n_test = max(1, round(len(X) * test_size))
    else:
        raise ValueError(f"train_test_split: test_size must be a fraction in (0, 1) or a row count, got {test_size!r}")
    if not 0 < n_test < len(X):
        raise ValueError(f"train_test_split: cannot put {n_test} of {len(X)} rows in the test set and keep some "
                         "for training")
    Xs, ys = _shuffled(list(X), list(y), random.Random(seed))
    return Xs[n_test:], Xs[:n_test], ys[n_test:], ys[:n_test]


def batches(
    X: Sequence[T], y: Sequence[U], batch_size: int, shuffle: bool = True, seed: int | None = 0
) -> Iterator[tuple[list[T], list[U]]]:
    """Yield ``(X_batch, y_batch)`` pairs of ``batch_size`` rows; the last batch may be smaller.

    With ``shuffle`` the order comes from ``random.Random(seed)``: pass a different
    seed each epoch (``seed=epoch``) to see the data in a new order every time.
    """
    if len(X) != len(y):
        raise ValueError(f"batches: {len(X)} rows but {len(y)} labels; they must match")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batches: batch_size must be a positive int, got {batch_size!r}")
    order = list(range(len(X)))
    if shuffle:
        random.Random(seed).shuffle(order)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        yield [X[i] for i in chunk], [y[i] for i in chunk]


def standardize(
    X: Sequence[Sequence[float]], stats: tuple[list[float], list[float]] | None = None
) -> tuple[Rows, tuple[list[float], list[float]]]:
    """Scale each column to mean 0 and standard deviation 1: x' = (x - mean) / std.

    Returns ``(scaled rows, (means, stds))``. Compute the stats on the training rows
    and pass them back in to scale test rows the same way. A constant column has
    std 0; it is divided by 1 instead (it becomes all zeros).
    """
    if stats is None:
        if not X:
            raise ValueError("standardize: needs at least one row to compute column statistics")
        columns = list(zip(*X))
        means = [math.fsum(c) / len(c) for c in columns]
        stds = [math.sqrt(math.fsum((v - m) ** 2 for v in c) / len(c)) or 1.0 for c, m in zip(columns, means)]
        stats = (means, stds)
    means, stds = stats
    for i, row in enumerate(X):
        if len(row) != len(means):
            raise ValueError(f"standardize: row {i} has {len(row)} columns, the stats have {len(means)}")
    return [[(v - m) / s for v, m, s in zip(row, means, stds)] for row in X], (means, stds)
