"""Save and load parameters as JSON (never pickle): exact floats, a format version, clear errors."""

from __future__ import annotations

import json
import math
import os
import tempfile
from typing import Union

__all__ = ["save", "load", "FORMAT", "VERSION"]

FORMAT = "micrograd_like.state_dict"
VERSION = 1
PathLike = Union[str, "os.PathLike[str]"]


def save(state_dict: dict[str, float], path: PathLike) -> None:
    """Write ``state_dict`` ({name: float}) to ``path`` as JSON.

    Floats are written with repr, so they read back bit for bit. The file is written
    to a temporary name and renamed, so a crash never leaves half a file behind.
    """
    if not isinstance(state_dict, dict):
        raise TypeError(f"save: expected a dict from model.state_dict(), got {type(state_dict).__name__}")
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save: parameter names must be str, got {name!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"save: {name} must be a finite number, got {value!r}")
    doc = {"format": FORMAT, "version": VERSION, "parameters": {k: float(v) for k, v in state_dict.items()}}
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, allow_nan=False)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path: PathLike) -> dict[str, float]:
    """Read a file written by ``save`` back into {name: float}; ValueError naming the file if it is not one."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"load: {path} is not valid JSON (truncated or not a saved model?): {e}") from None
    except UnicodeDecodeError:
        raise ValueError(f"load: {path} is not a text file written by micrograd_like.save") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"load: {path} is not a micrograd_like state dict (no '\"format\": \"{FORMAT}\"' key)")
    if doc.get("version") != VERSION:
        raise ValueError(f"load: {path} has format version {doc.get('version')!r}; this version reads {VERSION}")
    params = doc.get("parameters")
    if not isinstance(params, dict):
        raise ValueError(f"load: {path} has no 'parameters' object")
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"load: {path}: {name} is {value!r}, not a number")
    return {k: float(v) for k, v in params.items()}
