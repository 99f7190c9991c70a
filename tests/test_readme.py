"""The README's examples run, and the numbers its prose shows are what the code gives."""

import pathlib
import re

README = (pathlib.Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_the_first_example_runs_and_prints_what_its_comments_say():
    namespace = {}
    exec(python_blocks()[0], namespace)  # noqa: S102 - our own README
    o, x, w = namespace["o"], namespace["x"], namespace["w"]
    assert repr(o).startswith("Value(data=0.7064") and repr(o).endswith("grad=1.0)")
    assert x.grad == w.data * (1 - o.data ** 2) and w.grad == x.data * (1 - o.data ** 2)
    assert len(namespace["model"].parameters()) == 337  # "relu hidden layers, linear output: 337 parameters"
    assert any(p.grad for p in namespace["model"].parameters())


def test_explain_prints_the_line_the_readme_shows():
    from micrograd_like.trace import explain

    namespace = {}
    exec(python_blocks()[0], namespace)  # noqa: S102
    shown = re.search(r">>> print\(explain\(w, o\)\).*\n(.*)\n", README).group(1)
    assert explain(namespace["w"], namespace["o"]) == shown


def test_the_third_derivative_the_readme_shows():
    import micrograd_like as mg

    block = next(b for b in python_blocks() if "create_graph=True" in b)
    lines = [line[4:].split("#")[0].strip() for line in block.splitlines() if line.startswith(">>> ")]
    namespace = {"mg": mg}
    for line in lines[:-1]:
        exec(line, namespace)  # noqa: S102
    shown = block.strip().splitlines()[-1]
    assert repr(eval(lines[-1], namespace)) == shown  # noqa: S307


def test_the_exercise_example_fails_with_the_mistake_named():
    block = next(b for b in python_blocks() if "check_backward(" in b)
    namespace = {}
    exec(block.replace("check_backward(assigned_not_accumulated)", "report = check_backward(assigned_not_accumulated)"),
         namespace)  # noqa: S102
    report = namespace["report"]
    assert not report.passed and "gradients are assigned, not added" in str(report)


def test_the_health_example_finds_the_neurons_the_readme_shows():
    block = next(b for b in python_blocks() if "diagnose(model, X)" in b)
    lines = [line[4:].split("#")[0].strip() for line in block.splitlines() if line.startswith(">>> ")]
    namespace = {}
    for line in lines[:-2]:
        exec(line, namespace)  # noqa: S102
    shown = block.strip().splitlines()[-2]
    assert repr(eval(lines[-2], namespace)) == shown  # noqa: S307
    assert "grey" in block and 'fillcolor="#a0aec0"' in eval(lines[-1], namespace).source  # noqa: S307
