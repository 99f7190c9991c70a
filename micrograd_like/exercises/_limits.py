"""Run a learner's function with a time limit, turning every way it can go wrong into an Outcome.

Whatever the learner's code does to the interpreter is undone after each call: the recursion
limit, the interval timer and the SIGALRM and SIGINT handlers, the trace and profile functions
(sys.settrace/setprofile and threading's), and sys.stdin/stdout/stderr (Python's ``exit()``
closes stdin: it is opened again). ``exit()``, ``sys.exit`` and ``raise SystemExit`` become an
error in the Outcome, in a notebook too, where IPython's ``exit()`` would not raise but shut
the kernel down; only KeyboardInterrupt goes through, so that the teacher (or Jupyter's stop
button) can still stop a check.

How an endless loop is stopped, in layers, each covering what the one before cannot:

- A watchdog thread, at the deadline, raises ``LearnerTimeout`` in the learner's thread with
  ``PyThreadState_SetAsyncExc``, and again every ``REFIRE`` seconds until the call is over.
  It needs no timer and no handler, so ``signal.alarm(0)``, ``setitimer(..., 0)``, a new
  SIGALRM handler or ``sys.settrace(None)`` cannot cancel it, and it works on any thread.
  Firing again and again gets out of an ``except BaseException`` inside a loop: sooner or
  later the exception lands where no handler of the learner's is.
- On the main thread it also sends SIGALRM to it, handled by our handler, so that a blocking
  call (``time.sleep``, a lock) is interrupted too: an async exception waits for the call to
  return. It is sent only while our handler is in place, so a learner who set SIGALRM to its
  default action does not get the process killed.
- A trace function would add nothing: a trace function that raises is switched off by
  CPython, and it sees no more than the watchdog reaches; it would only slow the learner's
  code down. It is used only where ctypes is missing (the watchdog needs it).

What cannot be stopped in-process: a long loop in C (``sum(range(10**12))``, ``10**10**8``)
until it returns, a blocking call off the main thread, on Python 3.13 a loop nested in
``except BaseException`` inside another endless loop (the exception nearly always lands in the
inner loop, and is swallowed; 3.10 to 3.12 raise it at the inner loop's jump back, outside the
handler, and the loop stops), and code that ends the process itself (``os._exit``, ``os.kill``).
"""

from __future__ import annotations

import math
import numbers
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# How often the watchdog raises again once time is up: often enough that a learner's
# ``except BaseException`` meets it at a moment outside the handler within the second.
REFIRE = 0.005
# The largest wait the watchdog is given: threading refuses waits beyond ~292 years, and no
# check needs more than a day per call.
_MAX_SECONDS = 86_400.0


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


def check_time_limit(name: str, time_limit: object) -> float:
    """``time_limit`` as a float if it is a finite number of seconds > 0, else ValueError naming ``name``.

    A bool is refused although Python counts it as an int: ``time_limit=True`` is a slip,
    not one second. So is a string such as ``"1"``.
    """
    ok = isinstance(time_limit, numbers.Real) and not isinstance(time_limit, bool)
    value = float(time_limit) if ok else math.nan  # type: ignore[arg-type]  # a Real converts
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}: time_limit must be a finite number of seconds > 0, got {time_limit!r}")
    return value


# ---- what a call may change, and puts back ---------------------------------------------------------


@dataclass
class _State:
    """The interpreter state a learner's code can change and the grader (or the kernel) relies on."""

    recursion_limit: int
    trace: Any
    profile: Any
    thread_trace: Any
    thread_profile: Any
    streams: tuple[Any, Any, Any]
    open_streams: tuple[bool, ...]
    timer: tuple[float, float]
    handlers: dict[int, Any]
    taken_at: float
    shell: Any

    @classmethod
    def capture(cls) -> _State:
        """The state now; in a Jupyter kernel, exit() is also made to raise until ``restore``."""
        main = threading.current_thread() is threading.main_thread()
        handlers = {s: _signals.getsignal(s) for s in _HANDLED} if main else {}
        streams = (sys.stdin, sys.stdout, sys.stderr)
        return cls(sys.getrecursionlimit(), sys.gettrace(), sys.getprofile(), _thread_hook("gettrace"),
                   _thread_hook("getprofile"), streams, tuple(not getattr(s, "closed", False) for s in streams),
                   _get_timer(), handlers, time.monotonic(), _guard_kernel_exit())

    def restore(self) -> None:
        """Put everything back as it was at ``capture``; safe to repeat."""
        if sys.getrecursionlimit() != self.recursion_limit:
            sys.setrecursionlimit(self.recursion_limit)
        if sys.gettrace() is not self.trace:
            sys.settrace(self.trace)
        if sys.getprofile() is not self.profile:
            sys.setprofile(self.profile)
        if _thread_hook("gettrace") is not self.thread_trace:
            threading.settrace(self.thread_trace)
        if _thread_hook("getprofile") is not self.thread_profile:
            threading.setprofile(self.thread_profile)
        sys.stdin, sys.stdout, sys.stderr = (_reopened(s) if was_open and getattr(s, "closed", False) else s
                                             for s, was_open in zip(self.streams, self.open_streams))
        self._restore_timer()
        for signum, handler in self.handlers.items():
            if handler is not None and _signals.getsignal(signum) is not handler:
                if signum == _SIGALRM and handler == _signals.SIG_DFL:
                    # SIG_IGN first discards a SIGALRM of ours still pending, which the default action would
                    # turn into the end of the process
                    _signals.signal(signum, _signals.SIG_IGN)
                _signals.signal(signum, handler)
        if self.shell is not None:
            vars(self.shell).pop("ask_exit", None)

    def _restore_timer(self) -> None:
        if not hasattr(signal, "setitimer"):
            return
        remaining, interval = self.timer
        if remaining == 0.0:
            if _get_timer() != (0.0, 0.0):
                signal.setitimer(signal.ITIMER_REAL, 0.0)
            return
        # someone else's timer was running: leave it as it would be had the learner not touched it
        left = remaining - (time.monotonic() - self.taken_at)
        signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), interval)


# signal's own functions wrap every handler in an enum, which made them most of a call's cost; _signal is the
# C module underneath, with the same functions
try:
    import _signal as _signals
except ImportError:  # pragma: no cover - every CPython has it
    _signals = signal  # type: ignore[assignment]
_SIGALRM = getattr(signal, "SIGALRM", None)
# SIGINT too: a learner's handler for it would take the teacher's (and Jupyter's) way to stop a check
_HANDLED = [s for s in (_SIGALRM, getattr(signal, "SIGINT", None)) if s is not None]


def _reopened(stream: Any) -> Any:
    """Python's own closed stdin, stdout or stderr opened again on its file descriptor; any other stream as it is.

    Python's own ``exit()`` closes sys.stdin before it raises SystemExit; the file descriptor
    stays open (Python opens the standard streams with closefd=False), so a new stream on it
    reads where the old one would have.
    """
    originals = (sys.__stdin__, sys.__stdout__, sys.__stderr__)
    if not any(stream is o for o in originals):
        return stream
    fd = [stream is o for o in originals].index(True)
    try:
        return open(fd, getattr(stream, "mode", "r"), encoding=getattr(stream, "encoding", None),
                    errors=getattr(stream, "errors", None), closefd=False)
    except (OSError, ValueError, TypeError):
        return stream


def _get_timer() -> tuple[float, float]:
    return signal.getitimer(signal.ITIMER_REAL) if hasattr(signal, "getitimer") else (0.0, 0.0)


def _thread_hook(name: str) -> Any:
    get = getattr(threading, name, None)  # threading.gettrace/getprofile are new in Python 3.10
    return get() if get is not None else None


def _kernel_shell() -> Any:
    """The running IPython shell, if the check runs in one (IPython is never imported here)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    try:
        return get() if get is not None else None
    except Exception:  # noqa: BLE001 - a half-imported IPython is no shell
        return None


def _refuse_kernel_exit() -> None:
    raise SystemExit("exit() in a notebook shuts the kernel down")


def _guard_kernel_exit() -> Any:
    """In a Jupyter kernel, make exit() raise SystemExit for the call; the shell, or None outside IPython.

    IPython's exit() raises nothing: it asks the kernel to stop, and the kernel schedules its
    own end at once, which no later clean-up can take back. So for the length of the call the
    shell's ask_exit raises SystemExit instead, graded like sys.exit().
    """
    shell = _kernel_shell()
    if shell is None or not callable(getattr(shell, "ask_exit", None)) or "ask_exit" in vars(shell):
        return None
    shell.ask_exit = _refuse_kernel_exit
    return shell


# ---- the watchdog --------------------------------------------------------------------------------


def _async_raiser() -> Callable[[int, Any], int] | None:
    """``PyThreadState_SetAsyncExc(thread id, exception class)``, or None without ctypes.

    Never called with NULL to take back an exception not raised yet: on CPython 3.11 that
    leaves the interpreter's eval breaker set for good, which slows every loop down and hangs
    a profiled one. An exception set just before a call ends lands in our own code instead,
    where ``call_with_time_limit`` catches it.
    """
    try:
        import ctypes

        proto = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)
        raise_in = proto(("PyThreadState_SetAsyncExc", ctypes.pythonapi))
    except (ImportError, AttributeError, OSError):
        return None

    def call(ident: int, exc: Any) -> int:
        return int(raise_in(ident, exc))

    return call


class _Watch:
    """The deadline of one call of the learner's code, on one thread."""

    def __init__(self, seconds: float, watchdog: _Watchdog) -> None:
        self.deadline = time.monotonic() + min(seconds, _MAX_SECONDS)
        self.ident = threading.get_ident()
        self.watchdog = watchdog
        self.running = True
        self.handler: Any = None
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_kill") \
                and hasattr(signal, "SIGALRM") and _get_timer() == (0.0, 0.0):
            # only when no one else's timer is running, whose alarm our handler would take
            self.handler = self._on_alarm
            _signals.signal(signal.SIGALRM, self.handler)

    def _on_alarm(self, signum: int, frame: object) -> None:
        if self.running:
            raise LearnerTimeout

    def fire(self) -> None:
        """Raise LearnerTimeout in the learner's thread (the watchdog holds its lock)."""
        self.watchdog.raise_in(self.ident, LearnerTimeout)
        if self.handler is not None and _signals.getsignal(signal.SIGALRM) is self.handler:
            try:
                signal.pthread_kill(self.ident, signal.SIGALRM)  # wakes a sleep, which an async exception waits for
            except OSError:
                pass  # the thread is gone: nothing to wake

    def start(self) -> None:
        self.watchdog.arm(self)

    def stop(self) -> None:
        self.running = False
        self.watchdog.disarm(self)


class _Watchdog:
    """One daemon thread for the whole process, firing at the watches whose deadline has passed.

    One thread serves every call: starting a thread per call cost ~300 us, 25 times the call
    itself. It sleeps until the earliest deadline, so it wakes about once per time limit,
    not once per call.
    """

    def __init__(self, raise_in: Callable[[int, Any], int]) -> None:
        self.raise_in = raise_in
        # A C-level lock taken with `with` only: an exception landing in the learner's thread
        # cannot come between taking and releasing it (a Condition's Python-level enter could).
        self.lock = threading.RLock()
        self.wake = threading.Condition(self.lock)
        self.watches: set[_Watch] = set()
        self.next_wake = math.inf
        self.thread: threading.Thread | None = None

    def arm(self, watch: _Watch) -> None:
        with self.lock:
            self.watches.add(watch)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="micrograd_like time limit", daemon=True)
                self.thread.start()
            if watch.deadline < self.next_wake:
                self.wake.notify()

    def disarm(self, watch: _Watch) -> None:
        with self.lock:
            self.watches.discard(watch)

    def _run(self) -> None:
        with self.lock:
            while True:
                now = time.monotonic()
                for watch in self.watches:
                    if watch.running and watch.deadline <= now:
                        watch.fire()
                # the due ones are fired again every REFIRE until they are disarmed
                self.next_wake = min((max(w.deadline, now + REFIRE) for w in self.watches), default=math.inf)
                self.wake.wait(None if self.next_wake == math.inf else self.next_wake - now)


_WATCHDOG: list[_Watchdog | None] = []


def _watchdog() -> _Watchdog | None:
    """The process's watchdog, made on first use; None where ctypes is missing."""
    if not _WATCHDOG:
        raise_in = _async_raiser()
        _WATCHDOG.append(_Watchdog(raise_in) if raise_in is not None else None)
    return _WATCHDOG[0]


def _forget_watchdog() -> None:
    _WATCHDOG.clear()  # a forked child has no watchdog thread, and its lock may be held by the parent's


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_watchdog)


def _call_with_trace(fn: Callable[..., Any], args: tuple, seconds: float) -> Any:
    # Only without ctypes: the learner's code checks the clock itself, through a trace function that
    # sees every opcode (line events alone miss `while True: pass`). It slows that code down, and
    # sys.settrace(None) in it switches it off.
    deadline = time.monotonic() + seconds
    ticks = [0]

    def tracer(frame: Any, event: str, arg: object) -> Any:
        frame.f_trace_opcodes = True
        ticks[0] += 1
        if ticks[0] % 256 == 0 and time.monotonic() > deadline:
            raise LearnerTimeout
        return tracer

    sys.settrace(tracer)
    return fn(*args)


def _call(fn: Callable[..., Any], args: tuple, watch: _Watch | None, seconds: float, state: _State) -> Outcome:
    """``fn(*args)`` as an Outcome; LearnerTimeout and KeyboardInterrupt go through."""
    try:
        if watch is None:
            return Outcome(value=_call_with_trace(fn, args, seconds))
        watch.start()
        return Outcome(value=fn(*args))
    except (LearnerTimeout, KeyboardInterrupt):
        raise
    except BaseException as e:  # noqa: BLE001 - the learner's code may raise anything (SystemExit too), and is graded
        if type(e) is SystemExit and e.args == (None,):
            e = SystemExit()  # exit() says SystemExit(None): the report should not read "SystemExit: None"
        return Outcome(error=_showable(e))
    finally:
        # a plain store first: from here the watchdog fires at most once more
        if watch is not None:
            watch.running = False
        # then, before any call of ours: the learner may have left a recursion limit our calls would exceed
        sys.setrecursionlimit(state.recursion_limit)


def _showable(error: BaseException) -> BaseException:
    """``error``, if its message can be read; else a RuntimeError saying so.

    The report shows ``str(error)``, which runs the learner's ``__str__``: here, still under
    the time limit, rather than later in the grader, where a loop in it would hang the check.
    """
    try:
        str(error)
    except (LearnerTimeout, KeyboardInterrupt):
        raise
    except BaseException as e:  # noqa: BLE001 - whatever the learner's __str__ raises
        return RuntimeError(f"{type(error).__name__}, whose message raised {type(e).__name__}")
    return error


def call_with_time_limit(fn: Callable[..., Any], args: tuple, seconds: float) -> Outcome:
    """Call ``fn(*args)``: never raise (but KeyboardInterrupt), never take much more than ``seconds``.

    Afterwards the interpreter is as it was before (see the module's docstring), whatever
    ``fn`` did. A check should refuse a bad ``time_limit`` at its start with
    ``check_time_limit``, naming itself; ``seconds`` is checked here again, so that a check
    that forgot refuses the setting too, rather than fail every case of a right solution.
    """
    seconds = check_time_limit("exercises", seconds)
    state = _State.capture()
    watchdog = _watchdog()
    watch = _Watch(seconds, watchdog) if watchdog is not None else None
    outcome = Outcome(timed_out=True)
    interrupted: KeyboardInterrupt | None = None
    try:
        outcome = _call(fn, args, watch, seconds, state)
    except LearnerTimeout:
        pass  # in the learner's code, or just after it on the way out: its time was up all the same
    except KeyboardInterrupt as e:
        interrupted = e
    # Once watch.running is False the watchdog fires at most once more, and one exception set just
    # before may be pending: at most two more LearnerTimeouts can land, wherever a call is made. So
    # tidying up is tried three times, each try inside a handler of the one before (a loop would
    # expose its jump back, where an exception lands outside any handler).
    try:
        _tidy_up(watch, state)
    except LearnerTimeout:
        try:
            _tidy_up(watch, state)
        except LearnerTimeout:
            _tidy_up(watch, state)
    if interrupted is not None:
        raise interrupted
    return outcome


def _tidy_up(watch: _Watch | None, state: _State) -> None:
    """Stop the watchdog and put the state back; safe to repeat after an interruption anywhere in it."""
    if watch is not None:
        watch.stop()
    state.restore()
