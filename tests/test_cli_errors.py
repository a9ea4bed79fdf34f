"""The command line under faults and hostile input (issue 11): a mistake is reported in one line
with exit status 2."""

import os
import subprocess
import sys

import pytest

SUBCOMMANDS = ("demo", "run", "check", "bench", "info")


def fastscratch(*args, cwd=None, env=None, timeout=300):
    full_env = dict(os.environ, FASTSCRATCH_NO_DOWNLOAD="1")
    full_env.pop("FASTSCRATCH_DATA", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "fastscratch", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(out, *fragments):
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    for fragment in fragments:
        assert fragment in out.stderr, out.stderr


@pytest.mark.parametrize(
    "variable,value",
    [
        ("FASTSCRATCH_BACKEND", "bogus"),
        ("FASTSCRATCH_NUM_THREADS", "many"),
        ("FASTSCRATCH_ADAPTIVE_THREADS", "maybe"),
    ],
)
@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_a_bad_environment_variable_is_one_line_in_every_command(command, variable, value):
    out = fastscratch(command, "--help", env={variable: value})
    assert_one_line_error(out, variable, repr(value))


def test_a_bad_environment_variable_still_raises_on_import():
    code = "import fastscratch"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, FASTSCRATCH_BACKEND="bogus"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1  # a library's user gets the exception, as before
    assert "FASTSCRATCH_BACKEND must be one of native, reference, got 'bogus'" in out.stderr
