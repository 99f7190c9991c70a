"""nbgrader end to end on every exercise notebook: generate_assignment, autograde and generate_feedback, as in a course.

A temporary course folder holds its own nbgrader_config.py and gradebook, and HOME and the
Jupyter folders point into it, so the tests never touch the user's. Three learners hand in
each notebook: one with the reference solutions, one with the learner's version untouched,
one with a single classic mistake; their scores are read from the gradebook.
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import subprocess
import sys

import pytest

from micrograd_like.exercises.make_student import make_student

pytest.importorskip("nbgrader")

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ASSIGNMENT = "exercises"

# one classic mistake per notebook: (solution cell's grade_id, its wrong source, the graded checks it fails,
# words of the mistake's sentence that the feedback must show)
WRONG = {
    "12_write_your_own_backward": (
        "backward",
        "def backward(root):\n"
        "    order = topological_order(root)\n"
        "    for v in order:\n"
        "        if v.parents:\n"
        "            v.grad = 0.0\n"
        "    root.grad = 1.0\n"
        "    for v in order:\n"
        "        pass_grad_on(v)\n",
        {"check_backward"},
        "your pass walks the order forwards",
    ),
    "13_write_your_own_ops": (
        "sigmoid",
        "def sigmoid_derivative(x):\n"
        "    s = 1 / (1 + math.exp(-x))\n"
        "    return s * (1 - x)\n",
        {"check_sigmoid"},
        "you used the input x in a place where the op",
    ),
    "15_write_your_own_mlp": (
        "training_step",
        "def training_step(model, xs, ys, lr):\n"
        "    loss = mg.Value(0.0)\n"
        "    for x, y in zip(xs, ys):\n"
        "        loss = loss + (model(x) - y) ** 2\n"
        "    loss = loss / len(xs)\n"
        "    loss.backward()\n"
        "    for p in model.parameters():\n"
        "        p.data -= lr * p.grad\n"
        "    return loss\n",
        {"check_training_step"},
        "you did not reset the grads before backward()",
    ),
}
EXERCISES = sorted(WRONG)


def _nbgrader(course: pathlib.Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
    home = course / "home"
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "jupyter_config"),
               JUPYTER_DATA_DIR=str(home / "jupyter_data"), JUPYTER_RUNTIME_DIR=str(home / "jupyter_runtime"),
               IPYTHONDIR=str(home / "ipython"),
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
               # nbgrader runs the `alembic` program of its environment to set up the gradebook
               PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, f"nbgrader {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def _grade_ids(nb: dict, solution: bool) -> dict[str, dict]:
    key = "solution" if solution else "grade"
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
            if c["metadata"].get("nbgrader", {}).get(key)}


def _points(nb: dict) -> dict[str, float]:
    return {gid: float(c["metadata"]["nbgrader"]["points"]) for gid, c in _grade_ids(nb, solution=False).items()}


def _hand_in(course: pathlib.Path, learner: str, name: str, nb: dict) -> None:
    folder = course / "submitted" / learner / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.ipynb").write_text(json.dumps(nb, indent=1), encoding="utf-8")


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A course whose one assignment holds every exercise notebook, released, handed in by three learners, graded."""
    course = tmp_path_factory.mktemp("course")
    (course / "home").mkdir()
    (course / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(course / 'gradebook.db')!r}\n"
        "c.ExecutePreprocessor.timeout = 300\n", encoding="utf-8")
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    for name in EXERCISES:
        (source / f"{name}.ipynb").write_bytes((NOTEBOOKS / f"{name}.ipynb").read_bytes())
    _nbgrader(course, "db", "assignment", "add", ASSIGNMENT)
    for learner in ("right", "blank", "wrong"):
        _nbgrader(course, "db", "student", "add", learner)
    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    for name in EXERCISES:
        reference = json.loads((source / f"{name}.ipynb").read_text(encoding="utf-8"))
        released = json.loads((course / "release" / ASSIGNMENT / f"{name}.ipynb").read_text(encoding="utf-8"))
        right = copy.deepcopy(released)
        answers = _grade_ids(reference, solution=True)
        for gid, cell in _grade_ids(right, solution=True).items():
            cell["source"] = answers[gid]["source"]
        wrong = copy.deepcopy(right)
        gid, text, _, _ = WRONG[name]
        _grade_ids(wrong, solution=True)[gid]["source"] = text
        _hand_in(course, "right", name, right)
        _hand_in(course, "blank", name, released)
        _hand_in(course, "wrong", name, wrong)
    _nbgrader(course, "autograde", ASSIGNMENT)
    _nbgrader(course, "generate_feedback", ASSIGNMENT)
    return course


def _scores(course: pathlib.Path, learner: str, name: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(name, ASSIGNMENT, learner)
        return {grade.name: grade.score for grade in nb.grades}


@pytest.mark.slow
@pytest.mark.parametrize("name", EXERCISES)
def test_a_right_submission_gets_every_point_a_blank_none_and_one_mistake_part(course, name):
    points = _points(json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8")))
    assert len(points) >= 3 and all(p > 0 for p in points.values())
    assert _scores(course, "right", name) == points
    assert _scores(course, "blank", name) == {gid: 0.0 for gid in points}
    failing = WRONG[name][2]
    assert _scores(course, "wrong", name) == {gid: 0.0 if gid in failing else p for gid, p in points.items()}
    assert 0 < sum(_scores(course, "wrong", name).values()) < sum(points.values())


@pytest.mark.slow
@pytest.mark.parametrize("name", EXERCISES)
def test_the_feedback_shows_each_learner_their_reports(course, name):
    def page(learner: str) -> str:
        return (course / "feedback" / learner / ASSIGNMENT / f"{name}.html").read_text(encoding="utf-8")

    graded = len(_points(json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))))
    # every graded check's report, once: passed, not written yet, or the mistake named (the notebooks'
    # demonstrations of wrong code show FAILED reports to every learner alike)
    assert page("right").count(": passed on ") == graded
    assert page("blank").count(": not written yet: write ") == graded and ": passed on " not in page("blank")
    assert page("wrong").count(": passed on ") == graded - len(WRONG[name][2])
    assert WRONG[name][3] in page("wrong").replace("&#x27;", "'")


@pytest.mark.slow
@pytest.mark.parametrize("name", EXERCISES)
def test_make_student_gives_the_learners_version_nbgrader_releases(course, name):
    released = json.loads((course / "release" / ASSIGNMENT / f"{name}.ipynb").read_text(encoding="utf-8"))
    ours, _ = make_student(json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8")))

    def cells(nb: dict) -> list[tuple[str, str]]:
        return [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]

    assert cells(ours) == cells(released)
    assert all(c.get("outputs", []) == [] for c in released["cells"] + ours["cells"])


@pytest.mark.parametrize("name", EXERCISES)
def test_each_graded_cell_asks_for_the_points_its_metadata_gives(name):
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    for gid, cell in _grade_ids(nb, solution=False).items():
        meta = cell["metadata"]["nbgrader"]
        assert meta["locked"] and not meta["solution"] and cell["cell_type"] == "code"
        assert "".join(cell["source"]).rstrip().endswith(f".score(out_of={meta['points']:g})"), gid
    assert _grade_ids(nb, solution=True)
