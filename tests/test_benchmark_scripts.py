"""The scripts in benchmarks/ start: each answers --help, and the two-thread one runs a block."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py"))


def _run(*args):
    return subprocess.run(
        [sys.executable, *map(str, args)], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_script_answers_help(script):
    out = _run(BENCHMARKS / script, "--help")
    assert out.returncode == 0, out.stderr
    assert "usage" in out.stdout.lower()


def test_two_threads_taking_turns_time_both():
    out = _run(BENCHMARKS / "bench_two_threads.py", "--net", "mlp", "--blocks", "1")
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(r"mlp both threads=\d+: main [\d.]+ ms, worker [\d.]+ ms\n", out.stdout)
