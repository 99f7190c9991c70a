"""JSON save/load: exact round trips, atomic writes, and clear errors that leave the model alone."""

import errno
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
import tracemalloc
from fractions import Fraction

import pytest

import micrograd_like as mg
from micrograd_like import io as mg_io
from micrograd_like.nn import MLP


def test_round_trip_is_exact_and_versioned(tmp_path):
    model = MLP(2, [4, 1], seed=0)
    for p in model.parameters():
        p.data = p.data / 3 + 1e-17  # digits that a short decimal would lose
    path = tmp_path / "model.json"
    mg.save(model.state_dict(), path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "micrograd_like.state_dict" and doc["version"] == 1
    other = MLP(2, [4, 1], seed=9)
    other.load_state_dict(mg.load(path))
    assert other.state_dict() == model.state_dict()
    x = [0.3, -0.8]
    assert other(x).data == model(x).data
    assert [f for f in os.listdir(tmp_path)] == ["model.json"]  # no temporary file left behind


@pytest.mark.parametrize(
    "content, pattern",
    [
        ('{"format": "micrograd_like.state_dict", "version": 1, "parame', "not valid JSON"),
        ('{"weights": [1, 2]}', "not a micrograd_like state dict"),
        ("[1, 2, 3]", "not a micrograd_like state dict"),
        ('{"format": "micrograd_like.state_dict", "version": 99, "parameters": {}}', "format version 99"),
        ('{"format": "micrograd_like.state_dict", "version": 1, "parameters": {"a": "x"}}', "a is 'x', not a number"),
        ('{"format": "micrograd_like.state_dict", "version": 1}', "no 'parameters'"),
    ],
)
def test_bad_files_are_value_errors_naming_the_file(tmp_path, content, pattern):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=pattern) as info:
        mg.load(path)
    assert "bad.json" in str(info.value)


def test_binary_file_is_a_value_error(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x04\x95\xff\xfe")
    with pytest.raises(ValueError, match="model.pkl"):
        mg.load(path)


def test_loading_a_wrong_shape_leaves_the_model_unchanged(tmp_path):
    small, big = MLP(2, [2, 1], seed=0), MLP(2, [3, 1], seed=1)
    path = tmp_path / "big.json"
    mg.save(big.state_dict(), path)
    before = small.state_dict()
    with pytest.raises(KeyError, match="unexpected"):
        small.load_state_dict(mg.load(path))
    assert small.state_dict() == before


def test_save_refuses_non_finite_values_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "m.json"
    mg.save({"a": 1.0}, path)
    with pytest.raises(ValueError, match="^save: b must be a finite number, got float inf$"):
        mg.save({"a": 2.0, "b": float("inf")}, path)
    assert mg.load(path) == {"a": 1.0}
    with pytest.raises(TypeError, match="expected a dict from model.state_dict.., got list$"):
        mg.save([1.0], path)


# ---- save: what it writes to -----------------------------------------------------------------


def _temps(folder):
    return sorted(f for f in os.listdir(folder) if f.endswith(".tmp-mgl") or f.startswith(".tmp-"))


def test_save_through_a_symlink_updates_its_target_and_keeps_the_link(tmp_path):
    real_dir = tmp_path / "models"
    real_dir.mkdir()
    target = real_dir / "real.json"
    mg.save({"a": 1.0}, target)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    mg.save({"a": 2.0}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert mg.load(target) == {"a": 2.0}
    assert _temps(tmp_path) == [] and _temps(real_dir) == []


def test_save_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.json"
    target = tmp_path / "sub" / "new.json"
    target.parent.mkdir()
    link.symlink_to(target)
    mg.save({"a": 3.0}, link)
    assert link.is_symlink()
    assert mg.load(target) == {"a": 3.0}


def test_save_to_a_hard_linked_file_writes_in_place_and_keeps_the_link(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    mg.save({f"p{i}": i / 3 for i in range(50)}, first)
    os.link(first, second)
    small = {"only": 0.25}
    mg.save(small, first)  # shorter than what was there: the rest must be cut off
    assert os.stat(first).st_ino == os.stat(second).st_ino and os.stat(first).st_nlink == 2
    assert mg.load(second) == small
    big = {f"q{i}": i / 7 for i in range(80)}
    mg.save(big, second)
    assert mg.load(first) == big
    assert _temps(tmp_path) == []


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o600, 0o666])
def test_an_existing_file_keeps_its_mode(tmp_path, mode):
    path = tmp_path / "m.json"
    mg.save({"a": 1.0}, path)
    os.chmod(path, mode)
    mg.save({"a": 2.0}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert mg.load(path) == {"a": 2.0}


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077, 0o002])
def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path, umask):
    old = os.umask(umask)
    try:
        mg.save({"a": 1.0}, tmp_path / "m.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "m.json").st_mode) == 0o666 & ~umask


def test_a_fifo_is_refused_and_left_alone(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="save: .*pipe is not a regular file"):
        mg.save({"a": 1.0}, fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe"]


def test_a_device_node_is_refused_and_left_alone(tmp_path):
    # a copy of /dev/full's node inside tmp_path: if save ever replaced it, no real device is harmed
    dev = tmp_path / "full"
    try:
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except (PermissionError, AttributeError, OSError):
        pytest.skip("cannot make a device node here (not root?)")
    before = os.lstat(dev)
    with pytest.raises(ValueError, match="save: .*full is not a regular file"):
        mg.save({"a": 1.0}, dev)
    after = os.lstat(dev)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    link = tmp_path / "link"
    link.symlink_to(dev)  # through a symlink as well
    with pytest.raises(ValueError, match="not a regular file"):
        mg.save({"a": 1.0}, link)
    assert stat.S_ISCHR(os.lstat(dev).st_mode) and link.is_symlink()
    assert sorted(os.listdir(tmp_path)) == ["full", "link"]


def test_a_folder_is_refused_with_its_name(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=r"^save: .*models is a folder"):
        mg.save({"a": 1.0}, folder)
    with pytest.raises(IsADirectoryError, match=r"^save: "):
        mg.save({"a": 1.0}, str(tmp_path / "new") + os.sep)
    assert os.listdir(folder) == [] and sorted(os.listdir(tmp_path)) == ["models"]


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_save_removes_temporary_files_of_dead_processes_only(tmp_path):
    path = tmp_path / "model.json"
    dead = _dead_pid()
    stale = tmp_path / f".model.json.{dead}.0badc0de.tmp-mgl"
    stale.write_text('{"format": "micrograd_like.st')  # what a kill -9 leaves
    alive = tmp_path / f".model.json.{os.getppid()}.12345678.tmp-mgl"  # another process still writing
    alive.write_text("{")
    other = tmp_path / f".other.json.{dead}.0badc0de.tmp-mgl"  # another file's: its own save cleans it
    other.write_text("{")
    mg.save({"a": 1.0}, path)
    assert sorted(os.listdir(tmp_path)) == sorted(["model.json", alive.name, other.name])
    mg.save({"b": 1.0}, tmp_path / "other.json")
    assert sorted(os.listdir(tmp_path)) == sorted(["model.json", "other.json", alive.name])


_SAVE_FOREVER = """
import sys
import micrograd_like as mg
state = {f"layers.{i}.w": i / 7 for i in range(40000)}
mg.save(state, sys.argv[1])
print("ready", flush=True)
while True:
    mg.save(state, sys.argv[1])
"""


def test_kill_9_during_save_leaves_the_model_and_the_next_save_cleans_up(tmp_path):
    path = tmp_path / "model.json"
    root = os.path.dirname(os.path.dirname(os.path.abspath(mg.__file__)))
    env = {**os.environ, "PYTHONPATH": root}
    for delay in (0.05, 0.2):
        proc = subprocess.Popen([sys.executable, "-c", _SAVE_FOREVER, str(path)], stdout=subprocess.PIPE, env=env)
        try:
            assert proc.stdout.readline().strip() == b"ready"
            time.sleep(delay)
        finally:
            proc.kill()
            proc.wait(timeout=30)
            proc.stdout.close()
        assert len(mg.load(path)) == 40000  # the old model or the new one, never half
    mg.save({"a": 1.0}, path)
    assert os.listdir(tmp_path) == ["model.json"]


# ---- save and load_state_dict: numbers -------------------------------------------------------


@pytest.mark.parametrize("big", [10**309, -(10**400), 10**5000], ids=["309 digits", "-400 digits", "5000 digits"])
def test_ints_too_large_for_a_float_are_value_errors_naming_the_parameter(tmp_path, big):
    with pytest.raises(ValueError, match="save: layer.w is .*too large for a float"):
        mg.save({"ok": 1.0, "layer.w": big}, tmp_path / "m.json")
    assert os.listdir(tmp_path) == []
    model = MLP(2, [1], seed=0)
    before = model.state_dict()
    state = dict(before)
    name = next(iter(state))
    state[name] = big
    with pytest.raises(ValueError, match=rf"load_state_dict: {re.escape(name)} is .*too large for a float"):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_every_real_number_the_engine_takes_is_saved_and_loaded(tmp_path):
    values = {"frac": Fraction(1, 3), "int": 7, "big_int": 2**1000, "true": True, "float": -0.1}
    for v in values.values():
        mg.Value(v)  # the engine takes each of them
    path = tmp_path / "m.json"
    mg.save(values, path)
    assert mg.load(path) == {k: float(v) for k, v in values.items()}
    model = MLP(1, [1], seed=0)  # w[0] and b
    names = list(model.state_dict())
    model.load_state_dict({names[0]: Fraction(-2, 3), names[1]: True})
    assert model.state_dict() == {names[0]: -2 / 3, names[1]: 1.0}
    assert all(type(p.data) is float for p in model.parameters())


def test_numpy_scalars_are_saved_and_loaded():
    np = pytest.importorskip("numpy")
    model = MLP(2, [1], seed=0)  # w[0], w[1], b
    names = list(model.state_dict())
    state = {names[0]: np.float32(0.1), names[1]: np.int64(-3), names[2]: np.float64(2.5)}
    model.load_state_dict(state)
    assert model.state_dict() == {k: float(v) for k, v in state.items()}
    assert all(type(p.data) is float for p in model.parameters())
    before = model.state_dict()
    with pytest.raises(ValueError, match=rf"{re.escape(names[0])} must be a finite number"):
        model.load_state_dict({**state, names[0]: np.float32("inf")})
    assert model.state_dict() == before


def test_numpy_scalars_go_through_save(tmp_path):
    np = pytest.importorskip("numpy")
    path = tmp_path / "m.json"
    mg.save({"a": np.float32(0.1), "b": np.int64(5)}, path)
    assert mg.load(path) == {"a": float(np.float32(0.1)), "b": 5.0}
    with pytest.raises(ValueError, match="save: c must be a finite number"):
        mg.save({"c": np.float64("nan")}, path)


def test_non_numbers_are_refused_naming_the_parameter_and_type(tmp_path):
    with pytest.raises(TypeError, match="save: w must be a real number, got str"):
        mg.save({"w": "1.0"}, tmp_path / "m.json")
    with pytest.raises(TypeError, match="save: w must be a real number, got complex"):
        mg.save({"w": 1j}, tmp_path / "m.json")
    assert os.listdir(tmp_path) == []


# ---- load: what save refuses ----------------------------------------------------------------

_HEAD = '{"format": "micrograd_like.state_dict", "version": 1, "parameters": '


@pytest.mark.parametrize(
    "params, pattern",
    [
        ('{"w": NaN}', "NaN"),
        ('{"w": Infinity}', "Infinity"),
        ('{"w": -Infinity}', "-Infinity"),
        ('{"w": 1e999}', "1e999.*too large"),
        ('{"w": -1e999}', "too large"),
        ('{"w": ' + "9" * 400 + "}", "400 digits"),
        ('{"w": ' + "1" * 5000 + "}", "5000 digits"),
        ('{"w": ' + "9" * 309 + "}", r"^load: .*bad\.json: w is an int of 309 digits, too large"),
        # the longest integer the parser converts: the error still names its parameter
        ('{"w": ' + "9" * 310 + "}", r"^load: .*bad\.json: w is an int of 310 digits, too large"),
        ('{"w": 1.0, "w": 2.0}', "key 'w' twice"),
    ],
)
def test_load_refuses_what_save_refuses_naming_the_file(tmp_path, params, pattern):
    path = tmp_path / "bad.json"
    path.write_text(_HEAD + params + "}")
    with pytest.raises(ValueError, match=pattern) as info:
        mg.load(path)
    assert str(info.value).startswith(f"load: {path}")
    assert str(info.value).count("load: ") == 1  # no second "load: " inside


def test_deep_nesting_is_a_value_error_naming_the_file(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(ValueError, match="deep.json is nested too deeply"):
        mg.load(path)


def test_a_boolean_version_is_refused(tmp_path):
    path = tmp_path / "v.json"
    path.write_text('{"format": "micrograd_like.state_dict", "version": true, "parameters": {}}')
    with pytest.raises(ValueError, match="v.json has format version True"):
        mg.load(path)


def test_a_file_larger_than_the_bound_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "big.json"
    mg.save({f"p{i}": i / 3 for i in range(100)}, path)  # a valid model, just too large
    monkeypatch.setattr(mg_io, "MAX_FILE_BYTES", 1000)
    assert os.path.getsize(path) > 1000
    with pytest.raises(ValueError, match="big.json is larger than 1000 bytes"):
        mg.load(path)
    sparse = tmp_path / "sparse.json"
    with open(sparse, "wb") as f:
        f.truncate(64 * 1024 * 1024)  # 64 MiB that take no disk
    assert _peak_bytes_of_a_refused_load(sparse) < 1024 * 1024


def _peak_bytes_of_a_refused_load(path):
    """The most memory ``load(path)`` held before it refused the file as larger than 1000 bytes."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=f"{path.name} is larger than 1000 bytes"):
            mg.load(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _bound_1000_and_a_size_checked_before_the_file_grew(monkeypatch):
    """MAX_FILE_BYTES 1000, and fstat reports 10 bytes: the size as it was a moment before the file grew."""
    monkeypatch.setattr(mg_io, "MAX_FILE_BYTES", 1000)
    real_fstat = os.fstat

    def small_fstat(fd):
        st = list(real_fstat(fd))
        st[stat.ST_SIZE] = 10
        return os.stat_result(st)

    monkeypatch.setattr(mg_io.os, "fstat", small_fstat)


def test_a_file_that_grows_after_its_size_was_checked_is_read_only_up_to_the_bound(tmp_path, monkeypatch):
    path = tmp_path / "growing.json"
    mg.save({f"p{i}": i / 3 for i in range(100)}, path)
    _bound_1000_and_a_size_checked_before_the_file_grew(monkeypatch)
    with pytest.raises(ValueError, match="growing.json is larger than 1000 bytes"):
        mg.load(path)


def test_loading_a_fifo_is_refused_without_waiting(tmp_path):
    # in this process (not a child), so that mutation testing sees the test reach load
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome = []

    def load():
        try:
            mg.load(fifo)
        except ValueError as e:
            outcome.append(str(e))

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=20)
    waited = reader.is_alive()
    if waited:  # load sits in open() waiting for a writer: give it one, so the thread ends
        os.close(os.open(fifo, os.O_WRONLY))
        reader.join(timeout=20)
    assert not waited, "load waited for a writer to open the FIFO"
    assert outcome == [f"load: {fifo} is not a regular file (a device, FIFO or socket)"]


def test_loading_a_device_is_refused_naming_it():
    if not os.path.exists(os.devnull) or not stat.S_ISCHR(os.stat(os.devnull).st_mode):
        pytest.skip("no character device at os.devnull")
    with pytest.raises(ValueError, match=rf"^load: {re.escape(os.devnull)} is not a regular file"):
        mg.load(os.devnull)


def test_load_works_where_the_os_has_no_o_nonblock(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    mg.save({"a": 0.5}, path)
    monkeypatch.delattr(os, "O_NONBLOCK", raising=False)  # Windows has none
    assert mg.load(path) == {"a": 0.5}


def test_loading_a_folder_names_it(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"^load: .* is a folder"):
        mg.load(tmp_path)


def test_an_existing_file_keeps_its_owner_when_root_saves(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root may give a file to another user")
    path = tmp_path / "m.json"
    mg.save({"a": 1.0}, path)
    os.chown(path, 4321, 4322)
    mg.save({"a": 2.0}, path)
    assert (os.stat(path).st_uid, os.stat(path).st_gid) == (4321, 4322)
    assert mg.load(path) == {"a": 2.0}


def test_save_and_load_state_dict_take_every_number_the_engine_takes(tmp_path):
    np = pytest.importorskip("numpy")
    model = mg.nn.MLP(1, [1], seed=0)
    state = {"layers.0.neurons.0.w[0]": np.array(0.5), "layers.0.neurons.0.b": np.bool_(True)}
    assert mg.Value(np.array(0.5)).data == 0.5 and mg.Value(np.bool_(True)).data == 1.0  # the engine takes both
    model.load_state_dict(state)
    assert model.state_dict() == {"layers.0.neurons.0.w[0]": 0.5, "layers.0.neurons.0.b": 1.0}
    mg.save(state, tmp_path / "m.json")
    assert mg.load(tmp_path / "m.json") == {"layers.0.neurons.0.w[0]": 0.5, "layers.0.neurons.0.b": 1.0}
    with pytest.raises(TypeError, match=r"load_state_dict: layers.0.neurons.0.b must be a real number, got ndarray"):
        model.load_state_dict({**state, "layers.0.neurons.0.b": np.array([1.0, 2.0])})


# ---- what the messages show, and the edges of the limits ----------------------------------------


def test_long_keys_and_numbers_are_cut_short_in_messages(tmp_path):
    path = tmp_path / "bad.json"
    key = "k" * 200
    path.write_text(_HEAD + f'{{"{key}": 1.0, "{key}": 2.0}}}}')
    with pytest.raises(ValueError, match=f"has the key '{'k' * 80}' twice$"):
        mg.load(path)
    number = "1." + "0" * 100 + "e999"
    path.write_text(_HEAD + f'{{"w": {number}}}}}')
    with pytest.raises(ValueError, match=rf"contains the number {re.escape(number[:40])}, which is too large"):
        mg.load(path)


def test_a_parameter_name_that_is_not_a_string_is_named(tmp_path):
    with pytest.raises(TypeError, match=r"^save: parameter names must be str, got 1$"):
        mg.save({1: 2.0}, tmp_path / "m.json")
    assert os.listdir(tmp_path) == []


def test_a_missing_folder_is_named(tmp_path):
    path = tmp_path / "nowhere" / "m.json"
    with pytest.raises(FileNotFoundError, match=rf"^save: cannot write {re.escape(str(path))}: "
                                                rf"{re.escape(str(tmp_path / 'nowhere'))} is not an existing folder$"):
        mg.save({"a": 1.0}, path)


def test_a_file_we_may_not_write_is_refused_and_kept(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    mg.save({"a": 1.0}, path)
    os.chmod(path, 0o444)
    if os.geteuid() == 0:  # root may write anything: let access() answer as for another user
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: not (mode & os.W_OK and os.fspath(p) == str(path))
                            and real_access(p, mode, **kw))
    with pytest.raises(PermissionError, match=rf"^save: {re.escape(str(path))} is not writable$"):
        mg.save({"a": 2.0}, path)
    monkeypatch.undo()
    assert mg.load(path) == {"a": 1.0} and os.listdir(tmp_path) == ["m.json"]


def test_a_file_of_exactly_max_file_bytes_is_loaded(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    mg.save({f"p{i}": i / 3 for i in range(20)}, path)
    monkeypatch.setattr(mg_io, "MAX_FILE_BYTES", os.path.getsize(path))
    assert mg.load(path) == {f"p{i}": i / 3 for i in range(20)}


def test_a_file_that_grows_after_its_size_was_checked_is_not_read_whole(tmp_path, monkeypatch):
    path = tmp_path / "growing.json"
    with open(path, "wb") as f:
        f.truncate(64 * 1024 * 1024)  # 64 MiB that take no disk
    _bound_1000_and_a_size_checked_before_the_file_grew(monkeypatch)
    assert _peak_bytes_of_a_refused_load(path) < 1024 * 1024


def test_the_saved_file_has_one_parameter_per_line(tmp_path):
    # a saved model reads and diffs line by line
    path = tmp_path / "m.json"
    mg.save({"a": 0.5, "b": -2.0}, path)
    lines = [line.strip() for line in path.read_text().splitlines()]
    assert '"a": 0.5,' in lines and '"b": -2.0' in lines


def test_a_file_name_of_255_bytes_can_be_saved_and_saved_again(tmp_path):
    path = tmp_path / ("m" * 250 + ".json")
    mg.save({"a": 1.0}, path)
    mg.save({"a": 2.0}, path)  # the temporary file's name must fit too
    assert mg.load(path) == {"a": 2.0}
    assert os.listdir(tmp_path) == [path.name]


def test_a_reader_of_the_old_file_sees_the_whole_old_model(tmp_path):
    # a file with one name is replaced by a rename, never overwritten where a reader reads it
    path = tmp_path / "m.json"
    old = {f"p{i}": i / 3 for i in range(100)}
    mg.save(old, path)
    with open(path) as reader:
        mg.save({"new": 1.0}, path)
        assert json.loads(reader.read())["parameters"] == old
    assert mg.load(path) == {"new": 1.0}


def test_the_temporary_file_is_made_in_the_target_folder(tmp_path, monkeypatch):
    # a rename works only within one file system, and the target's folder is the one sure to be it
    folder = tmp_path / "models"
    folder.mkdir()
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    renames = []
    real_replace = os.replace

    def replace(src, dst, **kw):
        renames.append((os.fspath(src), os.fspath(dst)))
        return real_replace(src, dst, **kw)

    monkeypatch.setattr(os, "replace", replace)
    mg.save({"a": 1.0}, folder / "m.json")
    [(src, dst)] = renames
    assert os.path.dirname(src) == str(folder) and dst == str(folder / "m.json")
    assert os.path.basename(src).startswith(".m.json.") and src.endswith(".tmp-mgl")


def test_a_failed_save_leaves_the_old_model_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    mg.save({"a": 1.0}, path)

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError) as info:
        mg.save({"a": 2.0}, path)
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert mg.load(path) == {"a": 1.0} and os.listdir(tmp_path) == ["m.json"]


def test_an_existing_file_keeps_its_mode_where_the_os_has_no_fchmod(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    mg.save({"a": 1.0}, path)
    os.chmod(path, 0o604)
    monkeypatch.delattr(os, "fchmod", raising=False)
    mg.save({"a": 2.0}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o604
    assert mg.load(path) == {"a": 2.0} and os.listdir(tmp_path) == ["m.json"]


def test_a_path_ending_in_the_alternate_separator_is_refused(tmp_path, monkeypatch):
    # Windows accepts "/" as well as "\\"; here the alternate separator is made "@" to test that branch
    monkeypatch.setattr(os, "altsep", "@")
    with pytest.raises(IsADirectoryError, match=r"^save: .*new@ names a folder"):
        mg.save({"a": 1.0}, str(tmp_path / "new") + "@")
    mg.save({"a": 1.0}, tmp_path / "m.json")
    assert os.listdir(tmp_path) == ["m.json"]


# ---- stale temporary files: only a dead process's, only regular files -----------------------------


@pytest.mark.parametrize("error", [PermissionError(errno.EPERM, "not yours"), OSError(errno.EIO, "unsure")],
                         ids=["another user's", "unsure"])
def test_a_temporary_file_of_a_process_that_may_be_alive_is_kept(tmp_path, monkeypatch, error):
    pid = _dead_pid()
    temp = tmp_path / f".m.json.{pid}.0badc0de.tmp-mgl"
    temp.write_text("{")
    real_kill = os.kill

    def kill(p, sig):
        assert sig == 0, "save must only probe with signal 0"
        if p == pid:  # as the OS answers for a process of another user (or when it cannot tell)
            raise error
        return real_kill(p, 0)

    monkeypatch.setattr(os, "kill", kill)
    mg.save({"a": 1.0}, tmp_path / "m.json")
    assert sorted(os.listdir(tmp_path)) == sorted(["m.json", temp.name])


def test_a_symlink_named_like_a_stale_temporary_file_is_kept(tmp_path):
    pid = _dead_pid()
    target = tmp_path / "other.txt"
    target.write_text("not ours")
    link = tmp_path / f".m.json.{pid}.0badc0de.tmp-mgl"
    link.symlink_to(target)
    mg.save({"a": 1.0}, tmp_path / "m.json")
    assert link.is_symlink() and target.read_text() == "not ours"


# ---- in-place writes of hard-linked files on a full disk ------------------------------------------


def _fallocate_fails(monkeypatch, code):
    calls = []

    def fallocate(fd, offset, length):
        calls.append(length)
        os.ftruncate(fd, offset + length // 2)  # a part was reserved before the disk was full
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "posix_fallocate", fallocate, raising=False)
    return calls


def _linked_pair(tmp_path, state):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    mg.save(state, first)
    os.link(first, second)
    return first, second


def test_a_hard_linked_file_on_a_full_disk_keeps_its_old_model(tmp_path, monkeypatch):
    old = {"a": 1.0}
    first, second = _linked_pair(tmp_path, old)
    size = os.path.getsize(first)
    calls = _fallocate_fails(monkeypatch, errno.ENOSPC)
    with pytest.raises(OSError) as info:
        mg.save({f"p{i}": i / 3 for i in range(50)}, first)  # larger: needs room the disk lacks
    assert info.value.errno == errno.ENOSPC and calls
    monkeypatch.undo()
    assert os.path.getsize(second) == size and mg.load(second) == old


def test_a_hard_linked_file_that_does_not_grow_needs_no_room(tmp_path, monkeypatch):
    first, second = _linked_pair(tmp_path, {"a": 1.5, "b": 2.5})
    calls = _fallocate_fails(monkeypatch, errno.ENOSPC)
    size = os.path.getsize(first)
    mg.save({"a": 2.5, "b": 1.5}, first)  # the same length
    assert os.path.getsize(second) == size
    mg.save({"a": 2.0}, second)  # shorter
    assert calls == []
    monkeypatch.undo()
    assert mg.load(first) == {"a": 2.0}


@pytest.mark.parametrize("code", ["EOPNOTSUPP", "EINVAL"])
def test_a_file_system_without_fallocate_still_gets_the_model(tmp_path, monkeypatch, code):
    first, second = _linked_pair(tmp_path, {"a": 1.0})
    calls = _fallocate_fails(monkeypatch, getattr(errno, code))
    big = {f"p{i}": i / 3 for i in range(50)}
    mg.save(big, first)
    assert calls
    monkeypatch.undo()
    assert mg.load(second) == big
