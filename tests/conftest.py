"""Shared test settings: the graphviz and browser markers skip without their programs locally, and fail in CI."""

import importlib.util
import os
import shutil

import pytest
from hypothesis import settings

settings.register_profile("default", deadline=None)
settings.load_profile("default")

CHROMIUM = "/usr/bin/chromium"


def _missing_browser() -> str:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"Chromium at {CHROMIUM} (apt-get install chromium)"
    return ""


def pytest_collection_modifyitems(config, items):
    in_ci = os.environ.get("CI", "").lower() == "true"
    missing = {
        "graphviz": "" if shutil.which("dot") else "the Graphviz 'dot' program (apt-get install graphviz)",
        "browser": _missing_browser(),
    }
    for marker, what in missing.items():
        if not what:
            continue
        for item in items:
            if marker in item.keywords:
                if in_ci:
                    item.add_marker(pytest.mark.usefixtures(f"_{marker}_required_in_ci"))
                else:
                    item.add_marker(pytest.mark.skip(reason=f"needs {what}"))


@pytest.fixture
def _graphviz_required_in_ci():
    pytest.fail("CI=true but the Graphviz 'dot' program is missing: .ci/run must install it", pytrace=False)


@pytest.fixture
def _browser_required_in_ci():
    pytest.fail(f"CI=true but the browser tests lack {_missing_browser()}: .ci/run must install it", pytrace=False)
