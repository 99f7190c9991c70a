"""Shared test settings: the graphviz and browser markers skip without their programs locally, and fail in CI."""

import functools
import importlib.util
import os
import shutil

import pytest
from hypothesis import Phase, settings

settings.register_profile("default", deadline=None)
# mutmut sets MUTANT_UNDER_TEST in every run it makes: each mutant reruns the property tests
# that reach it, so fewer examples per property keep a module's run to minutes; and that a property
# fails is all a mutant's run needs to know: no shrinking (it was most of a killed mutant's time)
settings.register_profile("mutation", deadline=None, max_examples=10, derandomize=True, database=None,
                          phases=(Phase.explicit, Phase.reuse, Phase.generate))
settings.load_profile("mutation" if os.environ.get("MUTANT_UNDER_TEST") is not None else "default")
if os.environ.get("MUTANT_UNDER_TEST") is not None and importlib.util.find_spec("torch") is not None:
    # mutmut forks each mutant's run from a process that collected the tests: imported here, torch
    # is imported once, not again (seconds) by every mutant whose tests compare with PyTorch.
    # Only imported: no op has run, so no thread pool that a fork could catch holding a lock.
    # Frozen out of the garbage collector: pytest collects five times as it ends, and torch's
    # objects made each of those collections a third of a second, in every mutant's run
    import gc

    import torch  # noqa: F401

    gc.freeze()


def pytest_collection_modifyitems(items):
    # a property's own @settings(max_examples=300) outranks any profile, and those few properties
    # were most of the time of every mutant of the engine: under mutmut they get the profile's
    # examples too (hypothesis reads the settings it attached to the test when the test runs)
    if os.environ.get("MUTANT_UNDER_TEST") is None:
        return
    cap = settings.get_profile("mutation")
    for item in items:
        test = getattr(item, "obj", None)
        own = getattr(test, "_hypothesis_internal_use_settings", None)
        if own is not None and (own.max_examples > cap.max_examples or own.phases != cap.phases):
            test._hypothesis_internal_use_settings = settings(
                own, max_examples=min(own.max_examples, cap.max_examples), derandomize=cap.derandomize,
                phases=cap.phases, database=None)



CHROMIUM = "/usr/bin/chromium"
# the flags this machine's closed network needs: no background connections, no first-run work
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by playwright, one per test module (the tests are marked ``browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@functools.cache
def _missing() -> dict[str, str]:
    """For each marker, what its tests lack on this machine ('' when nothing)."""
    browser = ""
    if importlib.util.find_spec("playwright") is None:
        browser = "the playwright package (pip install -e '.[test]')"
    elif not os.access(CHROMIUM, os.X_OK):
        browser = f"Chromium at {CHROMIUM} (apt-get install chromium)"
    return {
        "graphviz": "" if shutil.which("dot") else "the Graphviz 'dot' program (apt-get install graphviz)",
        "browser": browser,
    }


def pytest_runtest_setup(item):
    # decided at setup, not collection: a usefixtures marker added after collection never runs
    for marker, what in _missing().items():
        if what and marker in item.keywords:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"CI=true but this test needs {what}: .ci/run must install it", pytrace=False)
            pytest.skip(f"needs {what}")
