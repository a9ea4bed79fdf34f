"""`python -m fastscratch check`: the user's own native-vs-reference sweep passes on a healthy
build, and does fail (exit status 1, a FAIL row) when a native kernel is wrong."""

import subprocess
import sys

import numpy as np
import pytest

from fastscratch import _native, equivalence
from fastscratch.cli import check


def test_check_passes_on_every_kernel_and_prints_the_table():
    out = subprocess.run(
        [sys.executable, "-m", "fastscratch", "check", "--cases", "4"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0].startswith("| kernel | dtype | cases | worst relative error")
    body = rows[1:]
    assert len(body) == 2 * len(equivalence.CASES)
    assert all(row.rstrip().endswith("| ok |") for row in body)


class _Args:
    cases, seed = 3, 0

    def __init__(self, kernel):
        self.kernel = [kernel]


def test_check_fails_when_a_native_kernel_is_off_by_a_little(monkeypatch, capsys):
    good = _native.relu_forward

    def off_by_one_ulp_and_more(x):
        out, mask = good(x)
        return out * np.asarray(1 + 1e-4, dtype=out.dtype), mask

    monkeypatch.setattr(_native, "relu_forward", off_by_one_ulp_and_more)
    assert check.run(_Args("relu")) == 1
    printed = capsys.readouterr().out
    assert "| relu | float64 |" in printed and "FAIL" in printed and "1e-12" in printed


def test_check_reports_a_kernel_that_raises(monkeypatch, capsys):
    def broken(*args):
        raise RuntimeError("kernel exploded")

    monkeypatch.setattr(_native, "softmax", broken)
    assert check.run(_Args("softmax_loss")) == 1
    assert "kernel exploded" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(equivalence.CASES))
def test_equivalence_sweep_case_agrees_within_the_bound(name):
    for dtype in (np.float32, np.float64):
        rng = np.random.default_rng(7)
        for big in (False, False, False, True):
            assert (
                equivalence.compare_case(name, rng, dtype, big)
                <= equivalence.TOLERANCE[np.dtype(dtype)]
            )
