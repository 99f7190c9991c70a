"""Re-execute notebooks in place so their committed outputs are current: `python tests/refresh_notebooks.py [paths]`.

With no paths it refreshes every notebook in notebooks/. Run it with the package importable (an
editable install, or PYTHONPATH=.) after changing a notebook or anything its outputs show; the
test suite (nbval) fails until the committed outputs match a fresh run.
"""

from __future__ import annotations

import pathlib
import sys

import nbclient
import nbformat

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"


def refresh(path: pathlib.Path) -> None:
    """Run ``path`` top to bottom in a fresh python3 kernel and write it back with its outputs."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    # record_timing=False: no per-cell timestamps in the metadata, so an unchanged notebook diffs clean
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", record_timing=False,
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {"name": "python"}  # no interpreter version: it would churn across machines
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def main(argv: list[str]) -> int:
    """Refresh the notebooks named in ``argv`` (all of notebooks/ when empty); print each one's name."""
    paths = [pathlib.Path(a) for a in argv] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        print("refreshing", path.name, flush=True)
        refresh(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
