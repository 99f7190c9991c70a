"""Pieces shared by the commands: one-line argument errors and output that survives closed pipes and ASCII terminals."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from typing import NoReturn

# what a shell reports for a program stopped by SIGPIPE (`cmd | head`); Python ignores the signal,
# so we report it ourselves instead of a BrokenPipeError traceback
EXIT_BROKEN_PIPE = 128 + getattr(signal, "SIGPIPE", 13)


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose errors are one line, ``prog: error: message (see --help)``, with exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print the one-line error and exit 2 (argparse would print the usage block first)."""
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see --help)\n")


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {text!r}")
    return number


def one_line(message: object, limit: int = 300) -> str:
    """``message`` as a single line of at most ``limit`` characters, so an error never spills over the screen."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run(command: Callable[[], int]) -> int:
    """Call ``command`` as a command-line program: exit code, never a traceback for closed or narrow output.

    Unencodable characters (a variable named é on an ASCII terminal) print as backslash
    escapes; a reader that closed the pipe (`| head -c0`) stops the program quietly.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        code = command()
    except SystemExit as e:  # argparse's --help and its errors: their text still needs the flush below
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
        code = e.code if isinstance(e.code, int) else int(e.code is not None)
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as e:  # the commands report their own files' errors: this is stdout (> /dev/full)
        return _output_failed(e)
    if sys.stdout is None:  # started with stdout closed (`>&-`): print() wrote nothing
        return code
    try:
        # flush here: a failed write at interpreter exit would print "Exception ignored ..." and exit 120
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as e:
        return _output_failed(e)
    return code


def _output_failed(error: OSError) -> int:
    _discard_stdout()
    print(f"cannot write the output: {one_line(error)}", file=sys.stderr)
    return 2


def _discard_stdout() -> None:
    # the text still in the buffer cannot be written; point the descriptor at devnull so the
    # flush at interpreter exit succeeds silently
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
