"""The teaching notebooks are committed with their outputs, small, and checked by nbval on every test run.

nbval itself (setup.cfg: ``testpaths = tests notebooks``, ``--nbval``) re-executes each notebook in a
fresh python3 kernel and compares every cell's output with the committed one, after the
sanitizer in notebooks/sanitize.cfg. These tests check what nbval does not: that there are
outputs to compare at all, that they come from one top-to-bottom run, and that they stay small.
Refresh them with ``python tests/refresh_notebooks.py``.
"""

import configparser
import pathlib

import pytest
from packaging.requirements import Requirement

nbformat = pytest.importorskip("nbformat")

ROOT = pathlib.Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IMAGE_TYPES = ("image/png", "image/svg+xml")


def test_the_notebooks_are_numbered_in_order():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, 19)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_with_the_outputs_of_one_top_to_bottom_run(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: refresh it (python tests/refresh_notebooks.py)"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: committed with an error output"
    assert any(c.outputs for c in code), f"{path.name}: no outputs at all"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_small(path):
    assert path.stat().st_size < 1_000_000, f"{path.name} is {path.stat().st_size} bytes"
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            for mime, value in out.get("data", {}).items():
                size = len(value if isinstance(value, str) else "".join(value))
                assert size < 200_000, f"{path.name} cell {i}: a {size}-character {mime} output"


def test_every_notebook_shows_a_picture():
    # a notebook read on the repository's web page should show what it draws
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        mimes = {m for c in nb.cells for o in c.get("outputs", []) for m in o.get("data", {})}
        assert mimes & set(IMAGE_TYPES) or path.name.startswith("07"), f"{path.name}: no picture in its outputs"


def test_the_test_command_compares_notebook_outputs():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    pytest_cfg = cfg["tool:pytest"]
    assert "notebooks" in pytest_cfg["testpaths"].split()
    assert "--nbval" in pytest_cfg["addopts"].split()
    assert (ROOT / "notebooks" / "sanitize.cfg").exists()


def test_hypothesis_is_the_version_the_notebook_outputs_were_made_with():
    # notebooks 07 and 12 show cases hypothesis drew; another release draws others, and nbval's
    # diffs of those cells would not say why
    hypothesis = pytest.importorskip("hypothesis")
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    wanted = [Requirement(r) for r in cfg["options.extras_require"]["test"].split("\n") if r.startswith("hypothesis")]
    pins = [r for r in wanted if r.marker is None or r.marker.evaluate()]  # the pin for this Python
    assert len(pins) == 1 and str(pins[0].specifier).startswith("=="), "setup.cfg's test extra should pin hypothesis"
    pinned = str(pins[0].specifier)[2:]
    assert hypothesis.__version__ == pinned, (
        f"hypothesis {hypothesis.__version__} is installed, but the notebooks' outputs were made with {pinned}: "
        f"pip install -e '.[test]', or raise the pin and run python tests/refresh_notebooks.py")
