"""Toy datasets are deterministic per seed and shaped as documented; helpers encode, split, batch and scale;
a line and the fruits are learnable with the package's own losses and optimizers."""

import math
import random

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
