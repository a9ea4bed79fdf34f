"""The command line under faults and hostile input (issue 11): a mistake is found before the
work starts and reported in one line with exit status 2, the demo writes no progress bar into
a log, `run` ends as `python SCRIPT.py` would, and files are replaced whole or not at all."""

import os
import signal
import subprocess
import sys
import textwrap

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


@pytest.mark.parametrize("option,name", [("--save", "p.npz"), ("--plot", "c.png")])
def test_an_unwritable_output_is_refused_before_training(tmp_path, write_mnist, option, name):
    data = write_mnist(tmp_path / "mnist", n_train=100, n_test=20)
    target = str(tmp_path / "no" / "such" / "dir" / name)
    out = fastscratch("demo", "--data", str(data), "--epochs", "1", option, target)
    assert_one_line_error(out, option, "folder does not exist")
    assert "training" not in out.stdout


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_folder_is_refused_before_training(tmp_path, write_mnist):
    data = write_mnist(tmp_path / "mnist", n_train=100, n_test=20)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        out = fastscratch("demo", "--data", str(data), "--save", str(folder / "p.npz"))
    finally:
        folder.chmod(0o700)
    assert_one_line_error(out, "--save", "not writable")


def test_a_plot_format_matplotlib_cannot_write_is_refused_before_training(tmp_path):
    pytest.importorskip("matplotlib")
    out = fastscratch("demo", "--plot", str(tmp_path / "curves.nope"))
    assert_one_line_error(out, "--plot", "png", "curves.nope")


@pytest.mark.parametrize("how", ["--data", "FASTSCRATCH_DATA"])
def test_an_explicit_data_folder_without_mnist_is_an_error(tmp_path, how):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "readme.txt").write_text("not MNIST")
    if how == "--data":
        out = fastscratch("demo", "--data", str(folder), "--epochs", "1")
    else:
        out = fastscratch("demo", "--epochs", "1", env={"FASTSCRATCH_DATA": str(folder)})
    assert_one_line_error(
        out, how, str(folder), "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
    )
    assert "digits" not in out.stdout


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


def test_the_progress_bar_stays_out_of_a_log(tmp_path, write_mnist):
    data = write_mnist(tmp_path / "mnist", n_train=300, n_test=20)
    out = fastscratch(
        "demo", "--data", str(data), "--epochs", "2", "--batch-size", "10", "--reference-steps", "0"
    )
    assert out.returncode == 0, out.stderr
    assert "\r" not in out.stderr and "it/s" not in out.stderr
    assert "epoch 2: test accuracy" in out.stdout  # the per-epoch lines are still printed


@pytest.mark.parametrize("lr", ["-1", "0", "nan", "inf"])
def test_a_learning_rate_that_cannot_train_is_refused(lr):
    out = fastscratch("demo", "--lr", lr)
    assert_one_line_error(out, "--lr", lr)


def test_the_speedup_is_a_median_beside_the_machines_load(tmp_path, write_mnist):
    data = write_mnist(tmp_path / "mnist", n_train=100, n_test=20)
    out = fastscratch("demo", "--data", str(data), "--epochs", "1", "--reference-steps", "3")
    assert out.returncode == 0, out.stderr
    line = next(line for line in out.stdout.splitlines() if "faster natively" in line)
    assert "median of 3" in line
    if hasattr(os, "getloadavg"):
        assert "load average" in line and f"on {os.cpu_count()} cores" in line


def test_no_subcommand_is_a_usage_error():
    out = fastscratch()
    assert out.returncode == 2
    assert "usage:" in out.stderr and "required: SUBCOMMAND" in out.stderr


def test_run_without_a_script_asks_only_for_the_script():
    out = fastscratch("run")
    assert out.returncode == 2
    assert "the following arguments are required: script\n" in out.stderr


def _script(tmp_path, body):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(body))
    return script


def _plain_python(script):
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)


def test_a_script_with_a_syntax_error_shows_only_its_own_line_as_python_does(tmp_path):
    script = _script(tmp_path, "print('fine')\ndef broken(:\n    pass\n")
    out = fastscratch("run", str(script))
    assert out.returncode == 1
    assert out.stderr == _plain_python(script).stderr
    assert "runpy" not in out.stderr and "fastscratch" not in out.stderr


def test_ctrl_c_in_a_script_exits_130_with_its_traceback(tmp_path):
    script = _script(
        tmp_path,
        """\
        import os, signal, time
        def train():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(10)
        train()
        """,
    )
    out = fastscratch("run", str(script))
    assert out.returncode == 128 + signal.SIGINT, out.stderr
    assert "KeyboardInterrupt" in out.stderr and "in train" in out.stderr
    assert "runpy" not in out.stderr and "fastscratch/cli" not in out.stderr


def test_distributed_demo_refuses_what_it_cannot_do_yet(tmp_path):
    out = fastscratch("demo", "--distributed", "--checkpoint", str(tmp_path / "c.npz"))
    assert_one_line_error(out, "--checkpoint cannot be combined with --distributed")


def test_export_outputs_are_checked_like_every_other_output(tmp_path):
    params = tmp_path / "p.npz"
    params.write_bytes(b"")  # never read: the output is refused first
    missing = str(tmp_path / "no" / "such" / "m.onnx")
    out = fastscratch("export", "--net", "two", "--params", str(params), "-o", missing)
    assert_one_line_error(out, "-o", "folder does not exist")
    out = fastscratch("export", "--net", "two", "--params", str(params), "-o", str(tmp_path))
    assert_one_line_error(out, "-o", "must be a file")
    pytest.importorskip("onnx")
    out = fastscratch("demo", "--epochs", "1", "--export", missing)
    assert_one_line_error(out, "--export", "folder does not exist")
    assert "training" not in out.stdout


def test_check_refuses_a_negative_seed():
    # NumPy's generator raised its own ValueError: a traceback
    assert_one_line_error(fastscratch("check", "--seed", "-5"), "--seed", "-5")
