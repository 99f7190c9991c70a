"""JSON save/load: exact round trips, atomic writes, and clear errors that leave the model alone."""

import json
import os

import pytest

import micrograd_like as mg
from micrograd_like.nn import MLP


def test_round_trip_is_exact_and_versioned(tmp_path):
    model = MLP(2, [4, 1], seed=0)
    for p in model.parameters():
        p.data = p.data / 3 + 1e-17  # digits that a short decimal would lose
    path = tmp_path / "model.json"
    mg.save(model.state_dict(), path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "micrograd_like.state_dict" and doc["version"] == 1
    other = MLP(2, [4, 1], seed=9)
    other.load_state_dict(mg.load(path))
    assert other.state_dict() == model.state_dict()
    x = [0.3, -0.8]
    assert other(x).data == model(x).data
    assert [f for f in os.listdir(tmp_path)] == ["model.json"]  # no temporary file left behind


@pytest.mark.parametrize(
    "content, pattern",
    [
        ('{"format": "micrograd_like.state_dict", "version": 1, "parame', "not valid JSON"),
        ('{"weights": [1, 2]}', "not a micrograd_like state dict"),
        ("[1, 2, 3]", "not a micrograd_like state dict"),
        ('{"format": "micrograd_like.state_dict", "version": 99, "parameters": {}}', "format version 99"),
        ('{"format": "micrograd_like.state_dict", "version": 1, "parameters": {"a": "x"}}', "a is 'x', not a number"),
        ('{"format": "micrograd_like.state_dict", "version": 1}', "no 'parameters'"),
    ],
)
def test_bad_files_are_value_errors_naming_the_file(tmp_path, content, pattern):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=pattern) as info:
        mg.load(path)
    assert "bad.json" in str(info.value)


def test_binary_file_is_a_value_error(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x04\x95\xff\xfe")
    with pytest.raises(ValueError, match="model.pkl"):
        mg.load(path)


def test_loading_a_wrong_shape_leaves_the_model_unchanged(tmp_path):
    small, big = MLP(2, [2, 1], seed=0), MLP(2, [3, 1], seed=1)
    path = tmp_path / "big.json"
    mg.save(big.state_dict(), path)
    before = small.state_dict()
    with pytest.raises(KeyError, match="unexpected"):
        small.load_state_dict(mg.load(path))
    assert small.state_dict() == before


def test_save_refuses_non_finite_values_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "m.json"
    mg.save({"a": 1.0}, path)
    with pytest.raises(ValueError, match="b must be a finite number"):
        mg.save({"a": 2.0, "b": float("inf")}, path)
    assert mg.load(path) == {"a": 1.0}
    with pytest.raises(TypeError, match="expected a dict"):
        mg.save([1.0], path)
