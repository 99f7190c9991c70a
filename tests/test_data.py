"""Toy datasets are deterministic per seed and shaped as documented; helpers encode, split, batch and scale;
a line and the fruits are learnable with the package's own losses and optimizers."""

import math
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd_like as mg
from micrograd_like import data
from micrograd_like import functional as F
from micrograd_like.nn import MLP
from micrograd_like.optim import SGD, Adam

TWO_D = [data.make_moons, data.make_circles, data.make_spirals, data.make_xor, data.make_blobs]


# ---- every generator ------------------------------------------------------------------------


@pytest.mark.parametrize("make", TWO_D)
def test_datasets_are_seeded_and_two_dimensional(make):
    X, y = make(60, seed=3)
    assert len(X) == len(y) == 60
    assert all(len(row) == 2 and all(isinstance(v, float) for v in row) for row in X)
    assert make(60, seed=3) == (X, y)
    assert make(60, seed=4)[0] != X
    assert set(y) >= {0, 1} and all(isinstance(t, int) for t in y)


@pytest.mark.parametrize("make", TWO_D + [data.make_fruits, data.make_line])
def test_generators_leave_the_global_random_state_alone(make):
    random.seed(123)
    before = random.random()
    random.seed(123)
    make(20, seed=1)
    assert random.random() == before


@pytest.mark.parametrize("make", TWO_D + [data.make_line])
def test_bad_arguments_are_value_errors(make):
    with pytest.raises(ValueError, match="n_samples must be an int >= 2, got 1"):
        make(1)
    with pytest.raises(ValueError, match="must be a finite number >= 0, got -0.1"):
        make(10, **{"std" if make is data.make_blobs else "noise": -0.1})


# ---- moons ----------------------------------------------------------------------------------


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = data.make_moons(101, noise=0.0, seed=0)
    assert (y.count(0), y.count(1)) == (50, 51)
    for (a, b), label in zip(X, y):
        if label == 0:  # upper arc of the unit circle around (0, 0)
            assert math.hypot(a, b) == pytest.approx(1.0) and b >= -1e-12
        else:  # lower arc of the unit circle around (1, 0.5)
            assert math.hypot(a - 1, b - 0.5) == pytest.approx(1.0) and b <= 0.5 + 1e-12
    assert sorted(round(a, 9) for (a, b), t in zip(X, y) if t == 0)[:2] == [-1.0, round(math.cos(math.pi * 48 / 49), 9)]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 200), seed=st.integers(0, 10**6), noise=st.sampled_from([0.0, 0.1, 0.3]))
def test_moons_any_size_is_deterministic_and_balanced(n, seed, noise):
    X, y = data.make_moons(n, noise=noise, seed=seed)
    assert (X, y) == data.make_moons(n, noise=noise, seed=seed)
    assert len(X) == len(y) == n and y.count(0) == n // 2


def test_moons_labels_convert_to_signs_for_the_hinge_loss():
    _, y = data.make_moons(10, seed=0)
    signs = data.to_signs(y)
    assert [s == 1 for s in signs] == [t == 1 for t in y] and set(signs) == {-1, 1}
    with pytest.raises(ValueError, match="labels must be 0 or 1, got 2"):
        data.to_signs([0, 2])


# ---- the other shapes -------------------------------------------------------------------------


def test_circles_have_their_radii():
    X, y = data.make_circles(40, noise=0.0, factor=0.3, seed=0)
    assert [round(math.hypot(*row), 12) for row in X] == [0.3 if t else 1.0 for t in y]
    assert y.count(1) == 20
    with pytest.raises(ValueError, match="factor must be a number in \\(0, 1\\), got 1.5"):
        data.make_circles(10, factor=1.5)


def test_spirals_grow_outwards_to_radius_one():
    X, y = data.make_spirals(90, n_classes=3, noise=0.0, seed=0)
    assert sorted(set(y)) == [0, 1, 2] and y.count(2) == 30
    radii = [math.hypot(*row) for row in X]
    assert radii[::3] == sorted(radii[::3]) and max(radii) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="n_classes must be an int >= 2, got 1"):
        data.make_spirals(10, n_classes=1)


def test_xor_labels_follow_the_signs():
    X, y = data.make_xor(40, noise=0.05, seed=0)
    assert all(t == int((a > 0) != (b > 0)) for (a, b), t in zip(X, y))
    assert y.count(1) == 20


def test_blobs_gather_around_their_centres():
    centres = [[0.0, 0.0, 0.0], [10.0, -10.0, 5.0]]
    X, y = data.make_blobs(200, centers=centres, std=0.5, seed=0)
    for label, centre in enumerate(centres):
        rows = [row for row, t in zip(X, y) if t == label]
        means = [sum(col) / len(rows) for col in zip(*rows)]
        assert means == pytest.approx(centre, abs=0.2)
    X, y = data.make_blobs(30, centers=4, n_features=5, seed=0)
    assert len(X[0]) == 5 and sorted(set(y)) == [0, 1, 2, 3]
    assert all(-7 < v < 7 for row in X for v in row)
    with pytest.raises(ValueError, match="centers must be a count or a non-empty list"):
        data.make_blobs(10, centers=[[0.0, 0.0], [1.0]])


def test_line_without_noise_lies_on_the_line():
    xs, ys = data.make_line(30, m=-1.5, b=4.0, noise=0.0, x_range=(2.0, 3.0), seed=0)
    assert all(2.0 <= x <= 3.0 for x in xs)
    assert ys == [-1.5 * x + 4.0 for x in xs]
    with pytest.raises(ValueError, match="x_range must be \\(low, high\\) with low < high"):
        data.make_line(10, x_range=(1.0, 1.0))


# ---- fruits ---------------------------------------------------------------------------------


def test_fruits_have_named_one_hot_features():
    fruits = data.make_fruits(90, seed=0)
    assert fruits.class_names == ["apple", "banana", "orange"]
    assert fruits.feature_names == ["weight_g", "colour=red", "colour=green", "colour=yellow", "colour=orange",
                                    "texture=smooth", "texture=bumpy", "size_cm"]
    assert len(fruits) == 90 and sorted(set(fruits.y)) == [0, 1, 2] and fruits.y.count(1) == 30
    for row, label in zip(fruits.X, fruits.y):
        assert len(row) == 8
        assert sorted(row[1:5]) == [0.0, 0.0, 0.0, 1.0] and sorted(row[5:7]) == [0.0, 1.0]
        assert 30 <= row[0] < 300 and 2 <= row[7] < 30
        if label == 1:
            assert row[5] == 1.0 and row[7] > 10  # bananas: smooth and long
        if row[4] == 1.0:
            assert label == 2  # only oranges are orange
    X, y = data.make_fruits(30, seed=1)  # unpacks like the others
    assert (X, y) == (data.make_fruits(30, seed=1).X, data.make_fruits(30, seed=1).y)
    bananas = [row[0] for row, t in zip(*data.make_fruits(600, seed=2)) if t == 1]
    assert sum(bananas) / len(bananas) == pytest.approx(120, abs=5)


# ---- helpers ----------------------------------------------------------------------------------


def test_one_hot():
    assert data.one_hot(2, 4) == [0.0, 0.0, 1.0, 0.0]
    assert data.one_hot([0, 1], 2) == [[1.0, 0.0], [0.0, 1.0]]
    with pytest.raises(ValueError, match="index 3 is out of range for 3 classes"):
        data.one_hot(3, 3)
    with pytest.raises(ValueError, match="n_classes must be a positive int, got 0"):
        data.one_hot(0, 0)
    with pytest.raises(TypeError, match="index must be an int or a list of ints, got float"):
        data.one_hot(1.0, 3)


def test_train_test_split_keeps_rows_and_labels_together():
    X = [[float(i)] for i in range(10)]
    y = list(range(10))
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_size=0.3, seed=0)
    assert (len(Xtr), len(Xte)) == (7, 3) and sorted(ytr + yte) == y
    assert [row[0] for row in Xtr + Xte] == ytr + yte
    assert data.train_test_split(X, y, test_size=0.3, seed=0) == (Xtr, Xte, ytr, yte)
    assert data.train_test_split(X, y, test_size=0.3, seed=1) != (Xtr, Xte, ytr, yte)
    assert len(data.train_test_split(X, y, test_size=4)[1]) == 4
    with pytest.raises(ValueError, match="10 rows but 9 labels"):
        data.train_test_split(X, y[:-1])
    with pytest.raises(ValueError, match="test_size must be a fraction in \\(0, 1\\) or a row count, got 1.5"):
        data.train_test_split(X, y, test_size=1.5)
    with pytest.raises(ValueError, match="cannot put 10 of 10 rows in the test set"):
        data.train_test_split(X, y, test_size=10)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 50), batch_size=st.integers(1, 20), seed=st.integers(0, 100), shuffle=st.booleans())
def test_batches_cover_every_row_once(n, batch_size, seed, shuffle):
    X = [[float(i)] for i in range(n)]
    y = list(range(n))
    got = list(data.batches(X, y, batch_size, shuffle=shuffle, seed=seed))
    assert [len(xb) for xb, _ in got] == [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    seen = [t for _, yb in got for t in yb]
    assert sorted(seen) == y and all(row[0] == t for xb, yb in got for row, t in zip(xb, yb))
    if not shuffle:
        assert seen == y
    assert got == list(data.batches(X, y, batch_size, shuffle=shuffle, seed=seed))


def test_batches_check_their_arguments():
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        list(data.batches([1], [1], 0))
    with pytest.raises(ValueError, match="2 rows but 1 labels"):
        list(data.batches([1, 2], [1], 1))


def test_standardize_scales_columns_and_reuses_stats():
    Z, stats = data.standardize([[1.0, 10.0, 5.0], [3.0, 30.0, 5.0]])
    assert Z == [[-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]]  # a constant column becomes zeros
    assert stats == ([2.0, 20.0, 5.0], [1.0, 10.0, 1.0])
    assert data.standardize([[2.0, 40.0, 6.0]], stats)[0] == [[0.0, 2.0, 1.0]]
    with pytest.raises(ValueError, match="row 0 has 2 columns, the stats have 3"):
        data.standardize([[1.0, 2.0]], stats)


# ---- what the docstrings promise, generator by generator -------------------------------------------


def _mean(values):
    return math.fsum(values) / len(values)


def _std(values):
    m = _mean(values)
    return math.sqrt(math.fsum((v - m) ** 2 for v in values) / len(values))


DEFAULTS = [
    (data.make_moons, {"n_samples": 100, "noise": 0.1, "seed": 0}),
    (data.make_circles, {"n_samples": 100, "noise": 0.05, "factor": 0.5, "seed": 0}),
    (data.make_spirals, {"n_samples": 100, "n_classes": 2, "noise": 0.1, "turns": 1.0, "seed": 0}),
    (data.make_xor, {"n_samples": 100, "noise": 0.1, "seed": 0}),
    (data.make_blobs, {"n_samples": 100, "centers": 3, "std": 0.5, "n_features": 2, "seed": 0}),
    (data.make_line, {"n_samples": 50, "m": 2.0, "b": -1.0, "noise": 0.1, "x_range": (-1.0, 1.0), "seed": 0}),
    (data.make_fruits, {"n_samples": 150, "seed": 0}),
]


@pytest.mark.parametrize("make, documented", DEFAULTS, ids=[make.__name__ for make, _ in DEFAULTS])
def test_defaults_are_the_documented_values(make, documented):
    made = make()
    assert made == make(**documented)
    rows, _ = made
    assert len(rows) == documented["n_samples"]


@pytest.mark.parametrize("make", TWO_D + [data.make_line, data.make_fruits])
def test_sizes_are_checked_and_the_error_names_the_function(make):
    name = make.__name__
    for bad in (1, 0, -3, 2.0, "10", True, None):
        with pytest.raises(ValueError, match=f"^{name}: n_samples must be an int >= 2, got {re.escape(repr(bad))}$"):
            make(bad)
    rows, labels = make(2, seed=0)
    assert len(rows) == len(labels) == 2  # the smallest size allowed


@pytest.mark.parametrize("make", TWO_D + [data.make_line])
def test_noise_is_checked_and_the_error_names_the_function_and_the_argument(make):
    param = "std" if make is data.make_blobs else "noise"
    for bad in (-0.1, math.inf, math.nan, True, "0.1", None):
        with pytest.raises(ValueError, match=f"^{make.__name__}: {param} must be a finite number >= 0, got "
                                             f"{re.escape(repr(bad))}$"):
            make(10, **{param: bad})
    assert make(10, **{param: 0}) == make(10, **{param: 0.0})  # an int is a number too


@pytest.mark.parametrize("make", [data.make_line, data.make_fruits])
def test_line_and_fruits_are_seeded(make):
    assert make(20, seed=3) == make(20, seed=3)
    assert make(20, seed=3) != make(20, seed=4)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 101])
def test_moons_arcs_run_from_end_to_end_with_evenly_spaced_points(n):
    X, y = data.make_moons(n, noise=0.0, seed=0)
    assert (y.count(0), y.count(1)) == (n // 2, n - n // 2)
    upper = sorted(math.atan2(b, a) for (a, b), t in zip(X, y) if t == 0)  # (cos t, sin t)
    lower = sorted(math.atan2(0.5 - b, 1.0 - a) for (a, b), t in zip(X, y) if t == 1)  # (1 - cos t, 0.5 - sin t)
    for angles in (upper, lower):
        k = len(angles)
        assert angles == pytest.approx([math.pi * j / max(k - 1, 1) for j in range(k)], abs=1e-9)
    for (a, b), t in zip(X, y):
        assert math.hypot(a - t, b - 0.5 * t) == pytest.approx(1.0)


def test_moons_rows_come_shuffled_by_the_seed():
    X0, y0 = data.make_moons(40, noise=0.0, seed=0)
    X1, y1 = data.make_moons(40, noise=0.0, seed=1)
    assert sorted(zip(map(tuple, X0), y0)) == sorted(zip(map(tuple, X1), y1))  # the same points ...
    assert X0 != X1 and y0 != y1 and y0 != sorted(y0)  # ... in another order, not class by class


@pytest.mark.parametrize("noise", [None, 0.05, 0.2])
def test_moons_noise_has_the_given_std(noise):
    X, y = data.make_moons(2000, seed=1) if noise is None else data.make_moons(2000, noise=noise, seed=1)
    noise = 0.1 if noise is None else noise  # the default
    off_arc = [math.hypot(a - t, b - 0.5 * t) - 1.0 for (a, b), t in zip(X, y)]
    assert _std(off_arc) == pytest.approx(noise, rel=0.1)
    assert abs(_mean(off_arc)) < noise / 4


def test_circles_alternate_classes_at_uniform_random_angles():
    X, y = data.make_circles(2000, noise=0.0, seed=1)
    assert y == [i % 2 for i in range(2000)]
    angles = [math.atan2(b, a) % (2 * math.pi) for a, b in X]
    for quarter in range(4):
        share = sum(quarter * math.pi / 2 <= t < (quarter + 1) * math.pi / 2 for t in angles) / len(angles)
        assert share == pytest.approx(0.25, abs=0.04)
    assert data.make_circles(20, noise=0.0, seed=2)[0] != X[:20]


@pytest.mark.parametrize("noise, factor", [(None, None), (0.1, 0.3), (0.02, 0.8)])
def test_circles_are_centred_with_the_given_radii_and_noise(noise, factor):
    kwargs = {k: v for k, v in (("noise", noise), ("factor", factor)) if v is not None}
    X, y = data.make_circles(2000, seed=3, **kwargs)
    noise, factor = kwargs.get("noise", 0.05), kwargs.get("factor", 0.5)  # the defaults
    for label, radius in ((0, 1.0), (1, factor)):
        radii = [math.hypot(*row) for row, t in zip(X, y) if t == label]
        assert _mean(radii) == pytest.approx(radius, abs=noise / 4 + 0.002)
        assert _std(radii) == pytest.approx(noise, rel=0.1)
    assert _mean([a for a, _ in X]) == pytest.approx(0.0, abs=0.05)
    assert _mean([b for _, b in X]) == pytest.approx(0.0, abs=0.05)


def test_circles_factor_must_lie_strictly_between_0_and_1():
    for bad in (0, 0.0, 1, 1.0, -0.5, True, False, "0.5", None):
        with pytest.raises(ValueError, match=f"^make_circles: factor must be a number in \\(0, 1\\), got "
                                             f"{re.escape(repr(bad))}$"):
            data.make_circles(10, factor=bad)
    for factor in (1e-9, 0.999):
        X, y = data.make_circles(10, noise=0.0, factor=factor)
        assert [math.hypot(*row) for row, t in zip(X, y) if t == 1] == pytest.approx([factor] * 5)


@pytest.mark.parametrize("n, k, turns", [(90, 3, None), (100, 2, 0.5), (60, 4, 2.0), (50, 5, 0.0), (40, 3, 1.5),
                                         (7, 2, None)])
def test_spirals_arms_sit_at_their_documented_angles(n, k, turns):
    X, y = (data.make_spirals(n, n_classes=k, noise=0.0, seed=0) if turns is None
            else data.make_spirals(n, n_classes=k, noise=0.0, turns=turns, seed=0))
    turns = 1.0 if turns is None else turns  # the default
    assert y == [i % k for i in range(n)]
    for (a, b), c in zip(X, y):
        r = math.hypot(a, b)
        angle = 2 * math.pi * (turns * r + c / k)
        assert (a, b) == pytest.approx((r * math.cos(angle), r * math.sin(angle)), abs=1e-9)
    for c in range(k):  # from the centre out to radius 1
        radii = [math.hypot(*row) for row, t in zip(X, y) if t == c]
        assert radii == sorted(radii) and max(radii) == pytest.approx(1.0)
        assert 0 < min(radii) <= 1 / len(radii) + 1e-9


@pytest.mark.parametrize("noise", [None, 0.2])
def test_spirals_noise_is_scaled_by_the_radius(noise):
    clean, _ = data.make_spirals(3000, n_classes=3, noise=0.0, seed=0)
    noisy, _ = (data.make_spirals(3000, n_classes=3, seed=5) if noise is None
                else data.make_spirals(3000, n_classes=3, noise=noise, seed=5))
    noise = 0.1 if noise is None else noise  # the default
    radii = [math.hypot(*row) for row in clean]
    assert radii[:3] < radii[-3:]  # rows go outwards, so the first third is the inner third
    for axis in (0, 1):
        scaled = [(p[axis] - c[axis]) / r for p, c, r in zip(noisy, clean, radii)]
        for part in (scaled[:1000], scaled[2000:]):  # as much noise per unit of radius inside as outside
            assert _std(part) == pytest.approx(noise, rel=0.12) and abs(_mean(part)) < noise / 5


def test_spirals_n_classes_must_be_an_int_of_at_least_2():
    for bad in (1, 0, 2.0, True, "3", None):
        with pytest.raises(ValueError, match=f"^make_spirals: n_classes must be an int >= 2, got "
                                             f"{re.escape(repr(bad))}$"):
            data.make_spirals(10, n_classes=bad)


def test_xor_corners_take_turns_and_give_the_labels():
    X, y = data.make_xor(40, noise=0.0, seed=0)
    for start in range(0, 40, 4):
        assert sorted(map(tuple, X[start:start + 4])) == [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]
    assert all(t == int(a != b) for (a, b), t in zip(X, y))
    assert y.count(1) == 20


@pytest.mark.parametrize("noise", [None, 0.3])
def test_xor_noise_has_the_given_std(noise):
    X, _ = data.make_xor(2000, seed=2) if noise is None else data.make_xor(2000, noise=noise, seed=2)
    noise = 0.1 if noise is None else noise  # the default
    for axis in (0, 1):
        off_corner = [row[axis] - math.copysign(1.0, row[axis]) for row in X]
        assert _std(off_corner) == pytest.approx(noise, rel=0.1) and abs(_mean(off_corner)) < noise / 5


def test_xor_labels_come_from_the_corner_so_big_noise_overlaps_them():
    X, y = data.make_xor(400, noise=1.0, seed=0)
    against_signs = sum(t != int((a > 0) != (b > 0)) for (a, b), t in zip(X, y)) / len(y)
    assert 0.2 < against_signs < 0.5


def test_blobs_take_turns_on_the_given_centres():
    centres = [[1, 2], [-3, 0.5], [0, 0]]
    X, y = data.make_blobs(9, centers=centres, std=0.0, seed=0)
    assert y == [0, 1, 2] * 3
    assert X == [centres[t] for t in y] and all(type(v) is float for row in X for v in row)
    X, y = data.make_blobs(4, centers=[[1.0, 2.0, 3.0]], n_features=5, std=0.0)  # n_features only counts
    assert (X, y) == ([[1.0, 2.0, 3.0]] * 4, [0] * 4)


def test_blob_centres_are_drawn_uniformly_from_minus_5_to_5():
    X, y = data.make_blobs(1000, centers=1000, std=0.0, seed=0)
    values = [v for row in X for v in row]
    assert len(X[0]) == 2 and len({tuple(row) for row in X}) == 1000
    assert all(-5.0 <= v <= 5.0 for v in values) and min(values) < -4.9 and max(values) > 4.9
    assert _mean(values) == pytest.approx(0.0, abs=0.3)
    assert data.make_blobs(3, std=0.0, seed=0) != data.make_blobs(3, std=0.0, seed=1)
    X, y = data.make_blobs(5, centers=1, n_features=1, std=0.0, seed=0)  # the smallest count and dimension
    assert y == [0] * 5 and len(X[0]) == 1 and X == [X[0]] * 5


@pytest.mark.parametrize("std", [None, 0.3])
def test_blobs_spread_with_the_given_std(std):
    centres = [[0.0, 0.0], [5.0, 5.0]]
    X, y = (data.make_blobs(2000, centers=centres, seed=1) if std is None
            else data.make_blobs(2000, centers=centres, std=std, seed=1))
    std = 0.5 if std is None else std  # the default
    for axis in (0, 1):
        off_centre = [row[axis] - centres[t][axis] for row, t in zip(X, y)]
        assert _std(off_centre) == pytest.approx(std, rel=0.1) and abs(_mean(off_centre)) < std / 5


def test_blobs_check_their_centres():
    with pytest.raises(TypeError, match="^make_blobs: centers must be a count or a list of points, got bool$"):
        data.make_blobs(10, centers=True)
    for centers, n_features in ((0, 2), (-1, 2), (3, 0), (3, True), (3, 2.5)):
        with pytest.raises(ValueError, match=f"^make_blobs: need centers >= 1 and n_features >= 1, got {centers!r} "
                                             f"and {n_features!r}$"):
            data.make_blobs(10, centers=centers, n_features=n_features)
    for centers in ([], [[]], [[0.0, 0.0], [1.0]]):
        with pytest.raises(ValueError, match="^make_blobs: centers must be a count or a non-empty list of points of "
                                             "one dimension$"):
            data.make_blobs(10, centers=centers)


@pytest.mark.parametrize("noise", [None, 0.3])
def test_line_spreads_x_uniformly_and_y_by_the_noise(noise):
    xs, ys = (data.make_line(2000, x_range=(2.0, 5.0), seed=1) if noise is None
              else data.make_line(2000, x_range=(2.0, 5.0), noise=noise, seed=1))
    noise = 0.1 if noise is None else noise  # the default
    assert all(2.0 <= x <= 5.0 for x in xs) and min(xs) < 2.05 and max(xs) > 4.95
    assert _mean(xs) == pytest.approx(3.5, abs=0.1) and sum(x < 3.5 for x in xs) == pytest.approx(1000, abs=80)
    residuals = [y - (2.0 * x - 1.0) for x, y in zip(xs, ys)]  # the default line
    assert _std(residuals) == pytest.approx(noise, rel=0.1) and abs(_mean(residuals)) < noise / 5


def test_line_defaults_span_minus_1_to_1_on_y_equals_2x_minus_1():
    xs, ys = data.make_line(noise=0.0)
    assert len(xs) == 50 and all(-1.0 <= x <= 1.0 for x in xs) and min(xs) < -0.8 and max(xs) > 0.8
    assert ys == [2.0 * x - 1.0 for x in xs]


def test_line_x_range_must_be_increasing():
    for bad in ((1.0, 1.0), (2.0, -1.0)):
        with pytest.raises(ValueError, match=f"^make_line: x_range must be \\(low, high\\) with low < high, got "
                                             f"{re.escape(repr(bad))}$"):
            data.make_line(10, x_range=bad)


def test_fruits_clip_impossible_weights_and_sizes(monkeypatch):
    # a made-up fruit whose weight and size centre on 0: every draw lands on the floors
    ghost = data._FruitKind((0.0, 1.0), {"green": 1.0}, {"smooth": 1.0}, (0.0, 0.1))
    monkeypatch.setitem(data._FRUITS, "banana", ghost)
    fruits = data.make_fruits(30, seed=0)
    ghosts = [row for row, t in zip(fruits.X, fruits.y) if t == 1]
    assert len(ghosts) == 10 and {row[0] for row in ghosts} == {30.0} and {row[7] for row in ghosts} == {2.0}
    others = [row for row, t in zip(fruits.X, fruits.y) if t != 1]
    assert len({row[0] for row in others}) == 20  # real fruits are not clipped


# ---- the helpers' promises ----------------------------------------------------------------------


def test_one_hot_accepts_one_class_and_integral_indices():
    assert data.one_hot(0, 1) == [1.0] and data.one_hot([0, 0], 1) == [[1.0], [1.0]]
    assert data.one_hot(range(3), 3) == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    with pytest.raises(ValueError, match="^one_hot: index -1 is out of range for 3 classes$"):
        data.one_hot(-1, 3)
    with pytest.raises(ValueError, match="^one_hot: index 2 is out of range for 2 classes$"):
        data.one_hot([0, 2], 2)


def test_one_hot_refuses_bools_and_non_integers():
    for bad in (0, -1, True, 2.0, "3", None):
        with pytest.raises(ValueError, match=f"^one_hot: n_classes must be a positive int, got "
                                             f"{re.escape(repr(bad))}$"):
            data.one_hot(0, bad)
    for bad, name in ((True, "bool"), (1.0, "float"), ("1", "str"), (None, "NoneType")):
        with pytest.raises(TypeError, match=f"^one_hot: index must be an int or a list of ints, got {name}$"):
            data.one_hot(bad, 3)
    for bad, name in ((True, "bool"), (1.0, "float"), ("1", "str")):
        with pytest.raises(TypeError, match=f"^one_hot: index must be an int or a list of ints, got a {name} in the "
                                            "list$"):
            data.one_hot([0, bad], 3)


def test_train_test_split_defaults_to_a_quarter_and_seed_0():
    X = [[float(i)] for i in range(20)]
    y = list(range(20))
    Xtr, Xte, ytr, yte = data.train_test_split(X, y)
    assert (Xtr, Xte, ytr, yte) == data.train_test_split(X, y, test_size=0.25, seed=0)
    assert len(yte) == 5 and yte + ytr != y and sorted(yte + ytr) == y  # shuffled, then split


def test_train_test_split_sizes():
    X = [[float(i)] for i in range(10)]
    y = list(range(10))
    assert [len(data.train_test_split(X, y, test_size=s)[3]) for s in (1, 9, 0.01, 0.04, 0.26, 0.9)] == [1, 9, 1, 1,
                                                                                                          3, 9]
    for bad in (0.0, 1.0, -0.5, True, "0.3", None):
        with pytest.raises(ValueError, match=f"^train_test_split: test_size must be a fraction in \\(0, 1\\) or a row "
                                             f"count, got {re.escape(repr(bad))}$"):
            data.train_test_split(X, y, test_size=bad)
    for bad, n_test in ((0, 0), (-2, -2), (10, 10), (0.99, 10)):
        with pytest.raises(ValueError, match=f"^train_test_split: cannot put {n_test} of 10 rows in the test set and "
                                             "keep some for training$"):
            data.train_test_split(X, y, test_size=bad)


def test_batches_shuffle_with_seed_0_by_default():
    X = [[float(i)] for i in range(20)]
    y = list(range(20))
    got = list(data.batches(X, y, 6))
    assert got == list(data.batches(X, y, 6, shuffle=True, seed=0))
    seen = [t for _, yb in got for t in yb]
    assert seen != y and sorted(seen) == y
    for bad in (0, -1, True, 2.0, None):
        with pytest.raises(ValueError, match=f"^batches: batch_size must be a positive int, got "
                                             f"{re.escape(repr(bad))}$"):
            list(data.batches(X, y, bad))


def test_standardize_needs_rows_unless_given_stats():
    with pytest.raises(ValueError, match="^standardize: needs at least one row to compute column statistics$"):
        data.standardize([])
    assert data.standardize([], ([1.0], [2.0])) == ([], ([1.0], [2.0]))


# ---- learning from the data ---------------------------------------------------------------------


def test_line_regression_recovers_m_and_b():
    xs, ys = data.make_line(60, m=2.5, b=-0.7, noise=0.05, seed=0)
    m, b = mg.Value(0.0, "m"), mg.Value(0.0, "b")
    opt = SGD([m, b], lr=0.3)
    for _ in range(200):
        loss = F.mse([m * x + b for x in xs], ys)
        opt.zero_grad()
        loss.backward()
        opt.step()
    # gradient descent lands on the least-squares line, which is close to the true one
    n, sx, sy = len(xs), sum(xs), sum(ys)
    m_ls = (n * sum(x * y for x, y in zip(xs, ys)) - sx * sy) / (n * sum(x * x for x in xs) - sx * sx)
    b_ls = (sy - m_ls * sx) / n
    assert (m.data, b.data) == pytest.approx((m_ls, b_ls), abs=1e-6)
    assert (m.data, b.data) == pytest.approx((2.5, -0.7), abs=0.05)


def accuracy(model, X, y):
    with mg.no_grad():
        probs = [F.softmax(model(x)) for x in X]
    return sum(max(range(len(p)), key=lambda k: p[k].data) == t for p, t in zip(probs, y)) / len(y)


def test_fruits_classifier_reaches_95_percent_test_accuracy():
    fruits = data.make_fruits(240, seed=0)
    X_train, X_test, y_train, y_test = data.train_test_split(fruits.X, fruits.y, test_size=0.25, seed=0)
    X_train, stats = data.standardize(X_train)
    X_test, _ = data.standardize(X_test, stats)  # scaled with the training set's statistics
    model = MLP(8, [8, 3], seed=0)
    opt = Adam(model.parameters(), lr=0.02)
    assert accuracy(model, X_test, y_test) < 0.8  # not solved before training
    for epoch in range(15):
        for xb, yb in data.batches(X_train, y_train, 20, seed=epoch):
            loss = F.cross_entropy([model(x) for x in xb], yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert len(y_test) == 60
    assert accuracy(model, X_test, y_test) >= 0.95
    assert accuracy(model, X_train, y_train) >= 0.95


# ---- the handwritten digits -----------------------------------------------------------------

# Measured once on the file taken from scikit-learn 1.9.1 (sklearn/datasets/data/digits.csv.gz, whose
# rows it checked equal to its load_digits()): any change to the shipped file shows here.
DIGITS_FILE_SHA256 = "aba6a27ad603878314d1389211dc277c7055da6f25dad4daf7516348ac7d0dd3"
DIGITS_TEXT_SHA256 = "129eef24fe845dfb9ee752501689a6be3cb8afde16fdb4118c6ad9635b5545be"
DIGITS_PER_CLASS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]  # UCI's counts for its test set
FIRST_ZERO = [  # image 0, a zero, in counts 0..16 (scikit-learn's digits.images[0])
    [0, 0, 5, 13, 9, 1, 0, 0],
    [0, 0, 13, 15, 10, 15, 5, 0],
    [0, 3, 15, 2, 0, 11, 8, 0],
    [0, 4, 12, 0, 0, 8, 8, 0],
    [0, 5, 8, 0, 0, 9, 8, 0],
    [0, 4, 11, 0, 1, 12, 7, 0],
    [0, 2, 14, 5, 10, 12, 0, 0],
    [0, 0, 6, 13, 10, 0, 0, 0],
]


def _shipped_digits_file():
    import importlib.resources

    return importlib.resources.files("micrograd_like").joinpath(data.DIGITS_FILE).read_bytes()


def test_the_shipped_digits_file_is_the_one_measured():
    import gzip
    import hashlib

    raw = _shipped_digits_file()
    assert hashlib.sha256(raw).hexdigest() == DIGITS_FILE_SHA256
    text = gzip.decompress(raw)
    assert hashlib.sha256(text).hexdigest() == DIGITS_TEXT_SHA256
    lines = text.decode("ascii").splitlines()
    assert len(lines) == 1797
    assert all(re.fullmatch(r"[0-9] [0-9a-g]{64}", line) for line in lines)


def test_digits_have_the_uci_shape_classes_and_pixels():
    digits = data.load_digits(scale=False)
    assert len(digits) == len(digits.X) == len(digits.y) == 1797
    assert all(len(row) == 64 for row in digits.X)
    assert [digits.y.count(c) for c in range(10)] == DIGITS_PER_CLASS
    assert digits.class_names == [str(c) for c in range(10)]
    assert digits.y[:12] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]  # the file's own order, as scikit-learn's
    assert digits.image(0) == FIRST_ZERO
    assert digits.X[1][3:6] == [12.0, 13.0, 5.0] and digits.y[1] == 1
    # a few more pixels as scikit-learn's load_digits() gives them (read from its arrays)
    assert digits.X[-1][-12:-8] == [8.0, 16.0, 8.0, 0.0] and digits.y[-1] == 8
    assert digits.image(1000)[4] == [0.0, 0.0, 0.0, 3.0, 14.0, 6.0, 0.0, 0.0] and digits.y[1000] == 1
    pixels = [v for row in digits.X for v in row]
    assert all(type(v) is float for v in pixels)
    assert min(pixels) == 0.0 and max(pixels) == 16.0 and set(pixels) == {float(k) for k in range(17)}
    assert math.fsum(pixels) == 561718.0  # the sum of every count, measured on scikit-learn's array
    assert all(type(t) is int for t in digits.y)


def test_scaled_digits_are_the_counts_over_16_and_unpack_like_the_other_sets():
    X, y = data.load_digits()  # scale=True is the default
    counts = data.load_digits(scale=False)
    assert y == counts.y
    assert X == [[v / 16.0 for v in row] for row in counts.X]
    assert min(map(min, X)) == 0.0 and max(map(max, X)) == 1.0
    assert data.load_digits().X is not X  # a fresh copy each call: a learner may change theirs


def test_to_image_folds_a_row_of_64_into_8_rows():
    row = [float(k) for k in range(64)]
    image = data.to_image(row)
    assert image[0] == row[:8] and image[7] == row[56:] and len(image) == 8
    assert data.to_image(tuple(row))[3][2] == 26.0
    with pytest.raises(ValueError, match="expected 64 values, got 63"):
        data.to_image(row[:63])


def test_load_digits_refuses_a_scale_that_is_not_a_bool():
    with pytest.raises(TypeError, match="scale must be True or False, got int"):
        data.load_digits(scale=1)


def test_a_small_mlp_learns_the_digits_pipeline():
    # a reduced run of the README's recipe (the benchmark times the full one): 600 training images,
    # one epoch of Adam on mini-batches, through fit and its cross-entropy accuracy
    from micrograd_like.train import accuracy, fit

    X, y = data.load_digits()
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=0)
    model = MLP(64, [16, 10], init="he", seed=0)
    with mg.no_grad():
        before = accuracy([model(x) for x in X_test], y_test, "cross_entropy")
    history = fit(model, X_train[:600], y_train[:600], loss="cross_entropy", optimizer="adam", lr=0.01, epochs=3,
                  batch_size=32, progress=False)
    with mg.no_grad():
        after = accuracy([model(x) for x in X_test], y_test, "cross_entropy")
    assert before < 0.3 < 0.75 < after  # 0.81 measured; the full recipe reaches 0.96
    assert history.loss[-1] < history.loss[0]
    assert len(y_test) == 449


def _can_build_wheels_here():
    import importlib.metadata
    import importlib.util

    try:
        version = tuple(int(part) for part in importlib.metadata.version("setuptools").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return version >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.mark.slow
def test_a_wheel_built_from_the_project_ships_the_digits(tmp_path):
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    src = tmp_path / "src"  # a copy, so the build leaves no build/ or egg-info in the checkout
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(root / name, src / name)
    shutil.copytree(root / "micrograd_like", src / "micrograd_like",
                    ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    # build with this environment's setuptools when it can make wheels (70.1 and later can, alone); an
    # older one (a Python 3.11 venv's own) lets pip fetch the build requirements, as `pip install .` does
    isolation = ["--no-build-isolation"] if _can_build_wheels_here() else []
    subprocess.run(pip + ["wheel", str(src), "--no-deps", *isolation, "-w", str(tmp_path / "dist")],
                   check=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("micrograd_like-*.whl")
    target = tmp_path / "installed"
    subprocess.run(pip + ["install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
                   check=True, cwd=tmp_path)
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import micrograd_like.data as d; "
             "print(d.__file__); digits = d.load_digits(scale=False); print(len(digits), digits.image(0)[1])")
    out = subprocess.run([sys.executable, "-c", probe, str(target)], check=True, capture_output=True, text=True,
                         cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}).stdout.splitlines()
    assert out[0] == str(target / "micrograd_like" / "data.py")
    assert out[1] == "1797 [0.0, 0.0, 13.0, 15.0, 10.0, 15.0, 5.0, 0.0]"
