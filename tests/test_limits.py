"""Tests of micrograd_like.exercises._limits: no line of a learner's code breaks the grader or the kernel."""

from __future__ import annotations

import io
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from micrograd_like import nn
from micrograd_like.exercises import (
    MISTAKES,
    _limits,
    check_backward,
    check_derivative,
    check_mlp,
    check_neuron,
    check_topological_order,
    check_training_step,
)
from micrograd_like.exercises._limits import LearnerTimeout, Outcome, call_with_time_limit, check_time_limit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = MISTAKES["timeout"].format(limit=0.3)


def _state():
    """Everything a learner's line could leave changed."""
    return {
        "recursion limit": sys.getrecursionlimit(),
        "timer": signal.getitimer(signal.ITIMER_REAL),
        "SIGALRM": signal.getsignal(signal.SIGALRM),
        "SIGINT": signal.getsignal(signal.SIGINT),
        "trace": sys.gettrace(),
        "profile": sys.getprofile(),
        "thread trace": threading.gettrace(),
        "streams": (sys.stdin, sys.stdout, sys.stderr),
    }


@pytest.fixture
def unchanged():
    """Asserts, after the test, that the interpreter is as it was before it."""
    before = _state()
    yield before
    assert _state() == before


def _exp_then(line):
    """A right derivative of exp that first runs ``line`` (a function of no arguments)."""
    def derivative(x):
        line()
        return math.exp(x)
    return derivative


def _forever():
    while True:
        pass


def _settle():
    """Run long enough for a watchdog that was not stopped to fire again; it must not."""
    end = time.monotonic() + 30 * _limits.REFIRE
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


# ---- time_limit must be a finite number > 0 ----------------------------------------------------------


BAD_LIMITS = [0, 0.0, -1, -0.5, math.nan, math.inf, -math.inf, "1", True, False, None, [1], 1j]


@pytest.mark.parametrize("limit", BAD_LIMITS, ids=repr)
@pytest.mark.parametrize("check", [
    lambda limit: check_derivative("exp", math.exp, time_limit=limit),
    lambda limit: check_backward(lambda root: root.backward(), time_limit=limit),
    lambda limit: check_topological_order(lambda root: [], time_limit=limit),
    lambda limit: check_neuron(nn.Neuron, time_limit=limit),
    lambda limit: check_mlp(nn.MLP, time_limit=limit),
    lambda limit: check_training_step(lambda *a: 0.0, time_limit=limit),
], ids=["derivative", "backward", "order", "neuron", "mlp", "step"])
def test_a_time_limit_that_is_not_a_finite_number_above_0_is_refused(check, limit):
    expected = f"time_limit must be a finite number of seconds > 0, got {limit!r}"
    with pytest.raises(ValueError, match=re.escape(expected)):
        check(limit)


def test_the_refusal_names_the_check():
    with pytest.raises(ValueError, match=r"^check_backward: time_limit"):
        check_backward(lambda root: None, time_limit=-1)
    with pytest.raises(ValueError, match=r"^check_derivative\('exp'\): time_limit"):
        check_derivative("exp", math.exp, time_limit="1")
    for name, check in [("check_neuron", check_neuron), ("check_mlp", check_mlp)]:
        with pytest.raises(ValueError, match=rf"^{name}: time_limit"):
            check(nn.MLP, time_limit=0)
    with pytest.raises(ValueError, match=r"^check_training_step: time_limit"):
        check_training_step(lambda *a: 0.0, time_limit=math.nan)


@pytest.mark.parametrize("limit", BAD_LIMITS, ids=repr)
def test_call_with_time_limit_refuses_a_bad_limit_too(limit, unchanged):
    # the safety net for a check that does not refuse it at its start
    with pytest.raises(ValueError, match=r"^exercises: time_limit must be a finite number"):
        call_with_time_limit(abs, (1,), limit)


@pytest.mark.parametrize("limit, seconds", [(1, 1.0), (0.25, 0.25), (1e-9, 1e-9), (10 ** 6, 1e6)])
def test_a_good_time_limit_is_a_float(limit, seconds):
    assert check_time_limit("f", limit) == seconds
    assert type(check_time_limit("f", limit)) is float


def test_a_tiny_or_huge_time_limit_still_works():
    assert call_with_time_limit(_forever, (), 1e-9).timed_out
    assert call_with_time_limit(abs, (-2,), 1e300).value == 2


# ---- hostile lines: each graded, each undone -----------------------------------------------------------


def test_a_low_recursion_limit_is_put_back(unchanged):
    # a fresh thread has a shallow stack, so the learner's setrecursionlimit(50) takes effect
    results = []

    def learner():
        sys.setrecursionlimit(50)
        return sys.getrecursionlimit()

    worker = threading.Thread(target=lambda: results.append(call_with_time_limit(learner, (), 2.0)))
    worker.start()
    worker.join(30)
    assert results[0].value == 50  # it did take effect inside the call
    assert sys.getrecursionlimit() == unchanged["recursion limit"]
    import json  # noqa: F401 - what died after the learner's line in the issue: an import
    assert sys.getrecursionlimit() == unchanged["recursion limit"]


def test_a_recursion_limit_set_in_a_derivative_is_put_back_and_the_check_passes(unchanged):
    def low():
        import inspect
        sys.setrecursionlimit(len(inspect.stack()) + 15)

    report = check_derivative("exp", _exp_then(low), max_examples=10)
    assert report.passed, str(report)


def test_exit_is_a_failed_report_naming_it(unchanged):
    report = check_derivative("exp", _exp_then(exit))
    assert not report.passed
    assert report.mistake == MISTAKES["raised"].format(error="SystemExit")


def test_sys_exit_with_a_code_is_a_failed_report_naming_it(unchanged):
    report = check_backward(lambda root: sys.exit(3))
    assert report.mistake == MISTAKES["raised"].format(error="SystemExit: 3")


def test_raise_system_exit_is_a_failed_report(unchanged):
    def learner(root):
        raise SystemExit

    assert check_topological_order(learner).mistake == MISTAKES["raised"].format(error="SystemExit")


def test_exit_closes_no_standard_stream_for_good():
    # Python's exit() closes sys.stdin before raising: a new stream on the same descriptor replaces it
    read, write = os.pipe()
    os.write(write, b"still here\n")
    os.close(write)
    code = ("import sys\nfrom micrograd_like.exercises._limits import call_with_time_limit\n"
            "o = call_with_time_limit(exit, (), 2.0)\n"
            "print(type(o.error).__name__, sys.stdin.closed, sys.stdin.readline().strip())\n")
    done = subprocess.run([sys.executable, "-c", code], stdin=read, capture_output=True, text=True,
                          env={"PYTHONPATH": ROOT}, timeout=60)
    os.close(read)
    assert done.stdout.strip() == "SystemExit False still here", done.stderr


class _Unreadable(Exception):
    def __str__(self):
        raise ValueError("no")


class _Endless(Exception):
    def __str__(self):
        while True:
            pass


def test_an_exception_whose_message_raises_or_never_ends_is_graded(unchanged):
    def raises(x):
        raise _Unreadable

    def endless(x):
        raise _Endless

    assert check_derivative("exp", raises).mistake == MISTAKES["raised"].format(
        error="RuntimeError: _Unreadable, whose message raised ValueError")
    assert check_derivative("exp", endless, time_limit=0.3).mistake == TIMEOUT


def test_keyboard_interrupt_still_stops_the_check(unchanged):
    def learner(x):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check_derivative("exp", learner, time_limit=0.2)
    _settle()  # the watchdog of the interrupted call fires no more


def test_keyboard_interrupt_during_an_endless_loop_stops_it(unchanged):
    # the teacher presses the stop button while the learner's loop runs: a real SIGINT
    def learner(x):
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        while True:
            pass

    with pytest.raises(KeyboardInterrupt):
        check_derivative("exp", learner, time_limit=5.0)


@pytest.mark.parametrize("cancel", [
    lambda: signal.setitimer(signal.ITIMER_REAL, 0),
    lambda: signal.alarm(0),
    lambda: signal.signal(signal.SIGALRM, signal.SIG_IGN),
    lambda: signal.signal(signal.SIGALRM, signal.SIG_DFL),  # the process must not die of it either
    lambda: signal.signal(signal.SIGALRM, lambda *a: None),
    lambda: sys.settrace(None),
    lambda: sys.setprofile(None),
], ids=["setitimer 0", "alarm 0", "SIGALRM ignored", "SIGALRM default", "SIGALRM handler", "settrace None",
        "setprofile None"])
def test_an_endless_loop_is_stopped_whatever_the_learner_cancels_first(cancel, unchanged):
    def learner(x):
        cancel()
        while True:
            pass

    report = check_derivative("exp", learner, time_limit=0.3)
    assert report.mistake == TIMEOUT
    assert report.cases == 1
    _settle()


def test_a_timer_the_learner_starts_is_stopped(unchanged):
    report = check_derivative("exp", _exp_then(lambda: signal.setitimer(signal.ITIMER_REAL, 100.0)),
                              max_examples=5)
    assert report.passed


def test_a_sigint_handler_the_learner_sets_is_put_back(unchanged):
    report = check_derivative("exp", _exp_then(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)),
                              max_examples=5)
    assert report.passed


def test_trace_and_profile_functions_the_learner_sets_are_put_back(unchanged):
    def hooks():
        sys.settrace(lambda *a: None)
        sys.setprofile(lambda *a: None)
        threading.settrace(lambda *a: None)

    assert check_backward(lambda root: (hooks(), root.backward()), max_examples=5).passed


@pytest.mark.parametrize("name", ["stdout", "stderr", "stdin"])
def test_a_standard_stream_the_learner_replaces_is_put_back(name, unchanged):
    def replace():
        setattr(sys, name, io.StringIO())

    assert check_derivative("exp", _exp_then(replace), max_examples=5).passed


def test_a_learner_print_still_reaches_the_notebook(capsys):
    check_derivative("exp", _exp_then(lambda: print("hello from the learner")), max_examples=1)
    assert "hello from the learner" in capsys.readouterr().out


def test_a_sleep_on_the_main_thread_is_interrupted(unchanged):
    # an async exception waits for a blocking call to return; the SIGALRM sent along wakes it
    outcome = call_with_time_limit(time.sleep, (60,), 0.2)
    assert outcome.timed_out


def test_a_loop_that_swallows_every_exception_is_stopped(unchanged):
    def learner(x):
        while True:
            try:
                sum(range(100))
            except BaseException:
                pass

    assert check_derivative("exp", learner, time_limit=0.3).mistake == TIMEOUT


def test_the_timeout_is_caught_off_the_main_thread_after_the_timer_is_cancelled():
    results = []

    def learner(x):
        sys.settrace(None)
        while True:
            pass

    worker = threading.Thread(target=lambda: results.append(check_derivative("exp", learner, time_limit=0.3)))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert results[0].mistake == TIMEOUT


def test_without_ctypes_a_trace_function_still_stops_a_loop(monkeypatch, unchanged):
    monkeypatch.setattr(_limits, "_WATCHDOG", [None])
    assert call_with_time_limit(_forever, (), 0.2).timed_out
    assert call_with_time_limit(abs, (-1,), 0.2).value == 1


def test_a_timer_running_before_is_left_running(unchanged):
    # someone else's alarm (pytest-timeout's, say): the call neither takes nor cancels it
    fired = []

    def theirs(*args):
        fired.append(1)

    previous = signal.signal(signal.SIGALRM, theirs)
    signal.setitimer(signal.ITIMER_REAL, 50.0)
    try:
        outcome = call_with_time_limit(_forever, (), 0.2)
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert outcome.timed_out and 0 < remaining <= 50.0
        assert signal.getsignal(signal.SIGALRM) is theirs
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not fired


# ---- no LearnerTimeout ever escapes into the grader ---------------------------------------------------


def test_calls_that_end_around_their_deadline_never_leak_a_timeout(unchanged):
    # the watchdog fires while the learner's code is returning, or just after: each call must still
    # come back as an Outcome, and no exception may land in the code after it
    limit = 0.002

    def busy(seconds):
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            pass
        return "done"

    outcomes = [call_with_time_limit(busy, (limit * (0.25 + (i % 10) / 2),), limit) for i in range(150)]
    assert all(isinstance(o, Outcome) for o in outcomes)
    assert {o.timed_out for o in outcomes} == {True, False}  # both sides of the deadline were met
    assert all(o.value == "done" for o in outcomes if o.returned)
    _settle()


def test_a_timeout_landing_while_tidying_up_is_absorbed(monkeypatch, unchanged):
    # the watchdog may fire once more after the learner's code returned, and one may be pending: two
    # LearnerTimeouts can land in the clean-up, which must then start again and finish
    real_restore = _limits._State.restore
    landings = [2]

    def restore(self):
        if landings[0]:
            landings[0] -= 1
            raise LearnerTimeout
        real_restore(self)

    monkeypatch.setattr(_limits._State, "restore", restore)
    assert call_with_time_limit(abs, (-3,), 1.0).value == 3
    assert landings == [0]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_child_gets_a_watchdog_of_its_own():
    call_with_time_limit(abs, (1,), 1.0)  # the parent's watchdog thread exists; a child does not inherit it
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os._exit(0 if call_with_time_limit(_forever, (), 0.2).timed_out else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_the_watchdog_is_one_thread_for_every_call():
    for _ in range(20):
        call_with_time_limit(abs, (1,), 1.0)
    names = [t.name for t in threading.enumerate()]
    assert names.count("micrograd_like time limit") == 1


# ---- exit() in a notebook: IPython's asks the kernel to stop instead of raising ----------------------


class _FakeShell:
    """IPython's kernel shell as exit() sees it: exit() calls ask_exit, which schedules the kernel's end."""

    def __init__(self):
        self.exit_now = False

    def ask_exit(self):
        self.exit_now = True

    def exit(self):
        self.ask_exit()


def test_exit_in_a_notebook_keeps_the_kernel_and_fails_the_case(monkeypatch):
    import types

    shell = _FakeShell()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    outcome = call_with_time_limit(shell.exit, (), 1.0)
    assert isinstance(outcome.error, SystemExit) and "exit() in a notebook" in str(outcome.error)
    assert shell.exit_now is False
    assert "ask_exit" not in vars(shell)  # the shell's own method is back
    report = check_derivative("exp", _exp_then(shell.exit), max_examples=3)
    assert report.mistake == MISTAKES["raised"].format(error="SystemExit: exit() in a notebook shuts the kernel down")
    assert shell.exit_now is False
    shell.exit()
    assert shell.exit_now is True  # outside a check, exit() does what it always did


@pytest.mark.slow
def test_in_a_real_kernel_no_hostile_line_ends_the_kernel_or_leaves_a_change(tmp_path):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    setup = ("import math, signal, sys\n"
             "from micrograd_like.exercises import check_derivative\n"
             "before = (sys.getrecursionlimit(), signal.getsignal(signal.SIGALRM), signal.getsignal(signal.SIGINT),\n"
             "          sys.stdout, sys.stderr, sys.stdin)\n"
             "def hostile(line):\n"
             "    def derivative(x):\n"
             "        exec(line)\n"
             "        return math.exp(x)\n"
             "    return derivative\n")
    lines = ["exit()", "quit()", "sys.exit(3)", "raise SystemExit", "sys.setrecursionlimit(60)",
             "signal.signal(signal.SIGINT, signal.SIG_IGN)", "sys.stdout = None",
             "signal.alarm(0)\nwhile True: pass"]
    cells = [nbformat.v4.new_code_cell(setup)]
    cells += [nbformat.v4.new_code_cell(f"print(check_derivative('exp', hostile({line!r}), time_limit=0.5,"
                                        " max_examples=3).mistake or 'passed')") for line in lines]
    cells.append(nbformat.v4.new_code_cell(
        "import json\nprint('alive', (sys.getrecursionlimit(), signal.getsignal(signal.SIGALRM),"
        " signal.getsignal(signal.SIGINT), sys.stdout, sys.stderr, sys.stdin) == before)"))
    nb = nbformat.v4.new_notebook(cells=cells)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = ["".join(o.get("text", "") + str(o.get("evalue", "")) for o in c.outputs).strip() for c in nb.cells[1:]]
    assert printed == [
        "your code raised SystemExit: exit() in a notebook shuts the kernel down",
        "your code raised SystemExit: exit() in a notebook shuts the kernel down",
        "your code raised SystemExit: 3",
        "your code raised SystemExit",
        "passed",  # a limit of 60 is not too low for a derivative; it is put back after each case
        "passed",
        "passed",
        MISTAKES["timeout"].format(limit=0.5),
        "alive True",
    ]


def test_learner_timeout_is_a_base_exception():
    # an `except Exception` in the learner's code must not swallow it
    assert not issubclass(LearnerTimeout, Exception)
