"""Run a learner's function with a time limit, turning every way it can go wrong into an Outcome."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class LearnerTimeout(BaseException):
    """Raised inside the learner's code when its time is up.

    A BaseException, like KeyboardInterrupt, so that a learner's ``except Exception``
    cannot swallow it and loop on.
    """


@dataclass
class Outcome:
    """What a call of the learner's code did: returned ``value``, raised ``error``, or ran out of time."""

    value: Any = None
    error: BaseException | None = None
    timed_out: bool = False

    @property
    def returned(self) -> bool:
        return self.error is None and not self.timed_out


def _signal_usable() -> bool:
    # SIGALRM interrupts any Python code, loops included, at no cost while it runs; but only the
    # main thread may set a handler, and only if nobody else's timer is running (we would cancel it).
    # A Jupyter kernel runs cells on its main thread, so notebooks take this path.
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    )


def _call_with_alarm(fn: Callable[..., Any], args: tuple, seconds: float) -> Any:
    armed = [True]

    def on_alarm(signum: int, frame: object) -> None:
        if armed[0]:
            raise LearnerTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn(*args)
        finally:
            armed[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0.0)
    finally:
        signal.signal(signal.SIGALRM, previous)


def _call_with_trace(fn: Callable[..., Any], args: tuple, seconds: float) -> Any:
    # Off the main thread (or on Windows) no signal can reach the learner's code, and a thread
    # cannot be killed, so the code checks the clock itself: a trace function sees every opcode
    # the learner runs (line events alone miss `while True: pass`) and raises there when time is up.
    # It slows the learner's code down while it runs; our own code runs untraced.
    deadline = time.monotonic() + seconds
    ticks = [0]

    def tracer(frame: Any, event: str, arg: object) -> Any:
        frame.f_trace_opcodes = True
        ticks[0] += 1
        if ticks[0] % 256 == 0 and time.monotonic() > deadline:
            raise LearnerTimeout
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        return fn(*args)
    finally:
        sys.settrace(previous)


def call_with_time_limit(fn: Callable[..., Any], args: tuple, seconds: float) -> Outcome:
    """Call ``fn(*args)``: never raise (but KeyboardInterrupt, SystemExit), never take much more than ``seconds``."""
    call = _call_with_alarm if _signal_usable() else _call_with_trace
    try:
        return Outcome(value=call(fn, args, seconds))
    except LearnerTimeout:
        return Outcome(timed_out=True)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - the learner's code may raise anything, and is graded for it
        return Outcome(error=e)
