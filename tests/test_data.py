"""Toy datasets are deterministic per seed and shaped as documented; helpers split and batch."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd_like import data
import micrograd_like as mg
from micrograd_like import functional as F
from micrograd_like.nn import MLP
from micrograd_like.optim import SGD, Adam
from micrograd_like.train import fit


@pytest.mark.parametrize("make", [data.make_moons, data.make_circles, data.make_spirals, data.make_xor, data.make_blobs])
def test_datasets_are_seeded_and_two_dimensional(make):
    X, y = make(60, seed=3)
    assert len(X) == len(y) == 60 and all(len(row) == 2 for row in X)
    assert make(60, seed=3) == (X, y)
    assert make(60, seed=4) != (X, y)
    assert set(y) >= {0, 1}


def test_moons_are_balanced_and_labels_convert_to_signs():
    X, y = data.make_moons(100, noise=0.0, seed=0)
    assert y.count(0) == y.count(1) == 50
    assert set(data.to_signs(y)) == {-1, 1}


def test_xor_labels_follow_the_signs():
    X, y = data.make_xor(40, noise=0.05, seed=0)
    assert all(t == int((x0 > 0) != (x1 > 0)) for (x0, x1), t in zip(X, y))


def test_make_fruits_has_named_one_hot_features():
    fr = data.make_fruits(90, seed=0)
    assert fr.class_names == ["apple", "banana", "orange"]
    assert len(fr.feature_names) == len(fr.X[0]) == 8
    for row in fr.X:
        assert sum(row[1:5]) == 1.0 and sum(row[5:7]) == 1.0  # one colour, one texture
        assert row[0] > 30 and row[-1] > 2
    X, y = data.make_fruits(30, seed=1)
    assert len(X) == len(y) == 30


def test_one_hot_split_batches_standardize():
    assert data.one_hot(2, 4) == [0.0, 0.0, 1.0, 0.0]
    assert data.one_hot([0, 1], 2) == [[1.0, 0.0], [0.0, 1.0]]
    with pytest.raises(ValueError, match="index 3 is out of range for 3 classes"):
        data.one_hot(3, 3)
    X = [[float(i)] for i in range(10)]
    y = list(range(10))
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_size=0.3, seed=0)
    assert len(Xte) == 3 and sorted(ytr + yte) == y
    assert all(Xtr[i][0] == ytr[i] for i in range(len(ytr)))
    sizes = [len(xb) for xb, _ in data.batches(X, y, 4)]
    assert sizes == [4, 4, 2]
    Z, stats = data.standardize([[1.0, 10.0], [3.0, 30.0]])
    assert Z == [[-1.0, -1.0], [1.0, 1.0]]
    assert data.standardize([[2.0, 20.0]], stats)[0] == [[0.0, 0.0]]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 200), seed=st.integers(0, 10**6))
def test_moons_any_size_is_deterministic(n, seed):
    assert data.make_moons(n, seed=seed) == data.make_moons(n, seed=seed)
    assert len(data.make_moons(n, seed=seed)[0]) == n


def test_bad_sizes_are_value_errors():
    with pytest.raises(ValueError, match="n_samples must be an int >= 2"):
        data.make_moons(1)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        list(data.batches([1], [1], 0))


def test_line_regression_recovers_m_and_b():
    xs, ys = data.make_line(60, m=2.5, b=-0.7, noise=0.05, seed=0)
    m, b = mg.Value(0.0, "m"), mg.Value(0.0, "b")
    opt = SGD([m, b], lr=0.3)
    for _ in range(200):
        loss = F.mse([m * x + b for x in xs], ys)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert m.data == pytest.approx(2.5, abs=0.05)
    assert b.data == pytest.approx(-0.7, abs=0.05)


def test_fruits_classifier_reaches_95_percent_test_accuracy():
    fr = data.make_fruits(240, seed=0)
    X, _ = data.standardize(fr.X)
    Xtr, Xte, ytr, yte = data.train_test_split(X, fr.y, test_size=0.25, seed=0)
    model = MLP(8, [8, 3], seed=0)
    fit(model, Xtr, ytr, loss="cross_entropy", optimizer=Adam(model.parameters(), lr=0.02), epochs=15,
        batch_size=20, progress=False)
    with mg.no_grad():
        probs = [F.softmax(model(x)) for x in Xte]
    acc = sum(max(range(3), key=lambda k: p[k].data) == t for p, t in zip(probs, yte)) / len(yte)
    assert acc >= 0.95
