"""Save and load parameters as JSON (never pickle): exact floats, a format version, clear errors."""

from __future__ import annotations

import errno
import json
import math
import os
import re
import secrets
import stat
from typing import Any, Union

from .engine import _describe, is_real

__all__ = ["FORMAT", "MAX_FILE_BYTES", "VERSION", "load", "save"]

FORMAT = "micrograd_like.state_dict"
VERSION = 1
# A saved parameter takes about 30 bytes, so this is room for millions of parameters, far more
# than a scalar engine can train; anything larger is not a model file and is refused unread.
MAX_FILE_BYTES = 256 * 1024 * 1024
PathLike = Union[str, "os.PathLike[str]"]

_TMP_SUFFIX = ".tmp-mgl"
# File names may be up to 255 bytes; keep room for ".", ".<pid>.<token>" and the suffix.
_TMP_NAME_KEEP = 180
# Every digit string longer than this is beyond 1.8e308, the largest float.
_MAX_INT_DIGITS = 310


def _finite_float(value: object, name: str, op: str) -> float:
    """``value`` as a float if it is a finite real number, else ValueError naming ``op`` and ``name``.

    Accepts what the engine's ``Value`` accepts (``engine.is_real``: float, int, bool,
    Fraction, NumPy scalars and 0-d arrays), as long as it fits in a float and is finite.
    Anything else is a TypeError: the wrong type handed over by code (``load`` refuses a
    non-number in a file itself, as bad data).
    """
    if not is_real(value):
        raise TypeError(f"{op}: {name} must be a real number, got {_describe(value)}")
    try:
        x = float(value)  # type: ignore[arg-type]  # is_real() made sure it converts
    except OverflowError:
        raise ValueError(f"{op}: {name} is {_describe(value)}, too large for a float (beyond 1.8e308)") from None
    if not math.isfinite(x):
        raise ValueError(f"{op}: {name} must be a finite number, got {_describe(value)}")
    return x


def _pid_alive(pid: int) -> bool:
    """True if a process ``pid`` exists on this machine (signal 0 only checks, it sends nothing)."""
    try:
        os.kill(pid, 0)  # pragma: no mutate (another signal number would really be sent, to a live test run)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, it belongs to someone else
        return True
    except OSError:
        return True  # unsure: keep the file
    return True


def _remove_stale_temps(folder: str, base: str) -> None:
    """Delete temporary files of earlier saves to ``base`` whose process died (e.g. by kill -9)."""
    if os.name != "posix":  # os.kill(pid, 0) is not a harmless probe on Windows
        return
    pattern = re.compile(re.escape(f".{base[:_TMP_NAME_KEEP]}.") + r"(\d+)\.[0-9a-f]+" + re.escape(_TMP_SUFFIX))
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or int(match.group(1)) == os.getpid() or _pid_alive(int(match.group(1))):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
        except OSError:
            pass  # someone else removed it, or we may not: not our save's problem


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _write_in_place(path: str, data: bytes) -> None:
    """Overwrite ``path`` itself (keeps every hard link to it, not atomic)."""
    fd = os.open(path, os.O_WRONLY)
    try:
        old_size = os.fstat(fd).st_size
        if len(data) > old_size and hasattr(os, "posix_fallocate"):
            # reserve the room first, so a full disk fails before a byte of the old model is lost
            try:
                os.posix_fallocate(fd, 0, len(data))
            except OSError as e:
                os.ftruncate(fd, old_size)
                if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # not supported here: just write
                    raise
        _write_all(fd, data)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def save(state_dict: dict[str, float], path: PathLike) -> None:
    """Write ``state_dict`` ({name: number}) to ``path`` as JSON.

    Values may be any finite real number the engine accepts (float, int, bool, Fraction,
    NumPy scalars); they are written as floats with repr, so they read back bit for bit.

    How the file is written:

    - ``path`` is resolved through symlinks: the link stays and its target gets the model.
    - A new file or a file with one name is written atomically: to a temporary file
      ``.NAME.<pid>.<random>.tmp-mgl`` in the target's folder, flushed to disk, then renamed
      over the target. A crash leaves either the old or the new model, never half a file.
      The next ``save`` to the same path deletes temporary files left by processes that no
      longer exist (a ``kill -9``), so they never pile up.
    - An existing file keeps its permission bits (and owner, where allowed); a new file gets
      ``0o666`` minus the umask, as ``open(path, "w")`` would give it.
    - A file with several hard links is overwritten in place, so every name sees the new
      model (a rename would split the link). This is not atomic: a crash in the middle can
      leave a damaged file, which ``load`` then refuses.
    - A path that exists but is not a regular file (a folder, a device such as /dev/null, a
      FIFO, a socket) is refused and left untouched, as is a file we may not write.
    """
    if not isinstance(state_dict, dict):
        raise TypeError(f"save: expected a dict from model.state_dict(), got {type(state_dict).__name__}")
    params: dict[str, float] = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save: parameter names must be str, got {name!r}")
        params[name] = _finite_float(value, name, "save")
    doc = {"format": FORMAT, "version": VERSION, "parameters": params}
    data = json.dumps(doc, indent=1, allow_nan=False).encode("utf-8")

    _write_file(data, path, "save")


def _write_file(data: bytes, path: PathLike, op: str, example: str = "model.json") -> None:
    """Write ``data`` to ``path`` as ``save`` describes (atomically where it can); errors start with ``op``.

    ``save`` and ``exercises.make_student`` both write through it.
    """
    path = os.fspath(path)
    if path.endswith(os.sep) or (os.altsep and path.endswith(os.altsep)):
        raise IsADirectoryError(f"{op}: {path} names a folder; give a file name such as {example}")
    target = os.path.realpath(path)
    folder, base = os.path.split(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{op}: cannot write {path}: {folder} is not an existing folder")
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(f"{op}: {path} is a folder; give a file name such as {example}")
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{op}: {path} is not a regular file (a device, FIFO or socket); refusing to write to it")
        if not os.access(target, os.W_OK):
            raise PermissionError(f"{op}: {path} is not writable")
        if st.st_nlink > 1:
            _write_in_place(target, data)
            return

    _remove_stale_temps(folder, base)
    tmp = os.path.join(folder, f".{base[:_TMP_NAME_KEEP]}.{os.getpid()}.{secrets.token_hex(4)}{_TMP_SUFFIX}")
    # 0o666 here lets the kernel apply the umask (and a folder's default ACL) to a new file
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            if st is not None:
                if hasattr(os, "fchown"):
                    try:
                        os.fchown(fd, st.st_uid, st.st_gid)
                    except OSError:
                        pass  # only root may give a file away; keeping the mode is what matters
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, stat.S_IMODE(st.st_mode))
                else:
                    os.chmod(tmp, stat.S_IMODE(st.st_mode))
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _sync_folder(folder)


def _sync_folder(folder: str) -> None:
    """Flush the rename to disk where the OS allows it, so a power cut keeps the new name."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _BadFile(ValueError):
    """A problem found while parsing; ``load`` adds the file's name."""


def _refuse_constant(text: str) -> Any:
    raise _BadFile(f"contains {text}, but a saved model holds only finite numbers")


def _parse_float(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        raise _BadFile(f"contains the number {text[:40]}, which is too large for a float")
    return x


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise _BadFile(f"contains an integer of {len(text.lstrip('-'))} digits, too large for a float")
    return int(text)


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:  # json would keep the last silently; a saved model never repeats a name
            raise _BadFile(f"has the key {key[:80]!r} twice")
        doc[key] = value
    return doc


def _read_bounded(path: str) -> bytes:
    """The bytes of ``path``, refusing anything but a regular file of at most MAX_FILE_BYTES."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; it changes nothing for a regular file
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    too_big = f"load: {path} is larger than {MAX_FILE_BYTES} bytes (MAX_FILE_BYTES): not a saved model"
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(f"load: {path} is a folder, not a saved model")
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"load: {path} is not a regular file (a device, FIFO or socket)")
        if st.st_size > MAX_FILE_BYTES:
            raise ValueError(too_big)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as f:
        raw = f.read(MAX_FILE_BYTES + 1)  # the file may have grown since fstat
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(too_big)
    return raw


def load(path: PathLike) -> dict[str, float]:
    """Read a file written by ``save`` back into {name: float}.

    Anything else is a ValueError naming the file and the problem: not JSON, not a state
    dict, another format version, a value that is not a finite number (``NaN``,
    ``Infinity``, ``1e999``, a 400-digit integer), a repeated key, deep nesting, or a file
    larger than ``MAX_FILE_BYTES`` (refused before it is read).
    """
    path = os.fspath(path)
    raw = _read_bounded(path)
    try:
        text = raw.decode("utf-8")
        doc = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
            object_pairs_hook=_object_without_duplicates,
        )
    except _BadFile as e:
        raise ValueError(f"load: {path} {e}") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"load: {path} is not valid JSON (truncated or not a saved model?): {e}") from None
    except UnicodeDecodeError:
        raise ValueError(f"load: {path} is not a text file written by micrograd_like.save") from None
    except RecursionError:
        raise ValueError(f"load: {path} is nested too deeply to be a saved model") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"load: {path} is not a micrograd_like state dict (no '\"format\": \"{FORMAT}\"' key)")
    version = doc.get("version")
    if type(version) is not int or version != VERSION:  # bool is an int, but true is no version
        raise ValueError(f"load: {path} has format version {version!r}; this version reads {VERSION}")
    params = doc.get("parameters")
    if not isinstance(params, dict):
        raise ValueError(f"load: {path} has no 'parameters' object")
    out: dict[str, float] = {}
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"load: {path}: {name} is {value!r:.60}, not a number")
        try:
            out[name] = _finite_float(value, name, "load")
        except ValueError as e:
            raise ValueError(f"load: {path}: {str(e).removeprefix('load: ')}") from None
    return out
