"""The mutation-testing set-up stays in step with the code: what it mutates, the tests it runs, how it scores."""

import ast
import configparser
import importlib.util
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("mutation", ROOT / "tests" / "mutation.py")
mutation = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutation)


def _mutmut_setting(name):
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config["mutmut"][name].split()


def test_mutmut_mutates_exactly_the_modules_the_script_offers():
    files = [f"micrograd_like/{m}/__init__.py" if m in mutation.PACKAGES else f"micrograd_like/{m}.py"
             for m in mutation.MODULES]
    assert _mutmut_setting("only_mutate") == files
    assert all((ROOT / f).is_file() for f in files)


def test_every_test_file_named_for_mutants_exists():
    files = _mutmut_setting("pytest_add_cli_args_test_selection")
    files += [f for tests in mutation.TESTS_BY_MODULE.values() for f in tests]
    assert set(mutation.TESTS_BY_MODULE) <= set(mutation.MODULES)
    assert [f for f in files if not (ROOT / f).is_file()] == []


def test_every_deselected_test_exists():
    # a renamed test would stop being deselected without a word, and every mutant would run it again
    ids = [a.split("=", 1)[1] for a in _mutmut_setting("pytest_add_cli_args") if a.startswith("--deselect=")]
    assert ids
    for test_id in ids:
        path, name = test_id.split("::")
        tree = ast.parse((ROOT / path).read_text())
        assert name in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}, test_id


def test_exit_codes_are_scored_killed_survived_timeout_or_other(monkeypatch):
    codes = {"m_killed": 1, "m_error": 3, "m_alive": 0, "m_slow": 36, "m_never_run": None, "m_odd": 5}
    monkeypatch.setattr(mutation, "results", lambda module: codes)
    counts, survivors = mutation.summary("engine")
    assert counts == Counter({"killed": 2, "survived": 1, "timeout": 1, "exit code None": 1, "exit code 5": 1})
    # a mutant that was not run, or ended oddly, is listed with the survivors: nothing shows it was caught
    assert survivors == ["m_alive", "m_never_run", "m_odd"]


def test_the_report_prints_the_score_and_each_survivor(monkeypatch, capsys):
    codes = {f"m{i}": 1 for i in range(7)} | {"m_slow": 24, "m_alive": 0}
    monkeypatch.setattr(mutation, "results", lambda module: codes)
    assert mutation.main(["optim", "--report"]) == 0
    out = capsys.readouterr().out
    assert "optim.py: 9 mutants, 8 killed (1 by timeout), 1 survived" in out
    assert "score: 88.9 % killed" in out and "survived: m_alive   (mutmut show m_alive)" in out


def test_an_unknown_module_is_refused():
    with pytest.raises(SystemExit) as e:
        mutation.main(["no_such_module", "--report"])
    assert e.value.code == 2
