"""nbval settings for the notebooks: the sanitizer's absolute path, and skips without Graphviz or torch (not in CI)."""

import importlib.util
import os
import pathlib
import shutil

import pytest

HERE = pathlib.Path(__file__).parent


def pytest_configure(config):
    # an absolute path, so the comparison works whatever folder pytest is started from
    if getattr(config.option, "nbval_sanitize_with", "absent") is None:
        config.option.nbval_sanitize_with = str(HERE / "sanitize.cfg")


# notebooks that move a model to PyTorch (micrograd_like.bridge), an optional extra
NEEDS_TORCH = {"18_digits.ipynb"}


def pytest_collection_modifyitems(config, items):
    # the notebooks draw graphs inline, which needs Graphviz's dot, and those in NEEDS_TORCH need torch;
    # in CI they run and fail without them
    if os.environ.get("CI", "").lower() == "true":
        return
    no_dot = not shutil.which("dot")
    no_torch = importlib.util.find_spec("torch") is None
    for item in items:
        if item.path.suffix != ".ipynb":
            continue
        if no_dot:
            item.add_marker(pytest.mark.skip(reason="needs the Graphviz 'dot' program (apt-get install graphviz)"))
        elif no_torch and item.path.name in NEEDS_TORCH:
            item.add_marker(pytest.mark.skip(reason='needs PyTorch (pip install "micrograd_like[torch]")'))
