"""The README's main command: `python -m micrograd_like demo`, run as a user would."""

import os
import re
import subprocess
import sys


def test_demo_trains_prints_accuracy_and_writes_the_boundary(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "micrograd_like", "demo", "--epochs", "12", "--out", str(tmp_path), "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    train = float(re.search(r"train accuracy: ([\d.]+)%", proc.stdout).group(1))
    test = float(re.search(r"test accuracy:\s+([\d.]+)%", proc.stdout).group(1))
    assert train >= 95 and test >= 90
    assert os.path.getsize(tmp_path / "moons_boundary.png") > 10_000


def test_main_help_and_unknown_command():
    out = subprocess.run([sys.executable, "-m", "micrograd_like", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "demo" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "micrograd_like", "fly"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown command 'fly'" in bad.stderr
