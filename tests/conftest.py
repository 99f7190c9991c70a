"""Shared test settings: the graphviz marker skips without `dot` locally, and fails in CI."""

import os
import shutil

import pytest
from hypothesis import settings

settings.register_profile("default", deadline=None)
settings.load_profile("default")


def pytest_collection_modifyitems(config, items):
    if shutil.which("dot"):
        return
    in_ci = os.environ.get("CI", "").lower() == "true"
    for item in items:
        if "graphviz" in item.keywords:
            if in_ci:
                item.add_marker(pytest.mark.usefixtures("_dot_required_in_ci"))
            else:
                item.add_marker(pytest.mark.skip(reason="needs the Graphviz 'dot' program (apt-get install graphviz)"))


@pytest.fixture
def _dot_required_in_ci():
    pytest.fail("CI=true but the Graphviz 'dot' program is missing: .ci/run must install it", pytrace=False)
