"""The native extension loads at the first kernel, not at `import fastscratch`: a script that
calls no kernel does not pay for mapping OpenBLAS and libgomp. What must not change with that:
a build without its extension still fails at import, one whose extension cannot load fails at
the first kernel (never a silent fallback to the reference), the environment's thread settings
reach the core whenever it loads (and every thread of the process), a process forked before
the load runs its kernels on one thread as one forked after it does, and after the load every
kernel is a plain attribute."""

import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

import fastscratch
import fastscratch._native as native

CORE = "fastscratch._native._core"


def _run(code, env=None, args=()):
    return subprocess.run(
        [sys.executable, *args, "-c", code],
        env=dict(os.environ, **(env or {})),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _printed(code, env=None):
    """What `code` printed, run in a fresh interpreter that must exit cleanly."""
    out = _run(code, env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _loaded_after(code, env=None):
    return (
        _printed(f"import sys\n{code}\nprint({CORE!r} in sys.modules)", env).split()[-1] == "True"
    )


def test_importing_fastscratch_and_its_command_line_does_not_load_the_extension():
    assert not _loaded_after("import fastscratch")
    assert not _loaded_after("import fastscratch.__main__, fastscratch.cli.run")
    # the book's modules without a kernel call: `from common.layers import *` and a layer made
    assert not _loaded_after("from fastscratch.layers import *; Relu(); Affine(None, None)")
    assert not _loaded_after("import fastscratch; fastscratch.__version__")


def test_a_script_without_kernels_runs_through_fastscratch_run_without_loading_it(tmp_path):
    script = tmp_path / "buy_apple.py"
    script.write_text(f"import sys\nprint(2 * 100 * 1.1, {CORE!r} in sys.modules)\n")
    out = subprocess.run(
        [sys.executable, "-m", "fastscratch", "run", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["220.00000000000003", "False"]


def test_the_first_kernel_loads_it_and_applies_the_environments_thread_settings():
    code = (
        "import numpy as np, fastscratch\n"
        "from fastscratch.layers import Relu\n"
        "out = Relu().forward(np.full((1000, 1000), -1.0))\n"
        "import fastscratch._native as n\n"
        "print(float(out.max()), n.max_threads(), n.get_adaptive_threads())"
    )
    printed = _printed(code, {"FASTSCRATCH_NUM_THREADS": "1", "FASTSCRATCH_ADAPTIVE_THREADS": "0"})
    assert printed.split() == ["0.0", "1", "False"]


def test_a_thread_setting_made_before_the_load_wins_over_the_environment():
    code = (
        "import fastscratch\n"
        "fastscratch.set_adaptive_threads(False)\n"
        "fastscratch.set_num_threads(1)\n"
        "import fastscratch._native as n\n"
        "print(n.max_threads(), n.get_adaptive_threads(), fastscratch.get_num_threads())"
    )
    printed = _printed(code, {"FASTSCRATCH_NUM_THREADS": "2", "FASTSCRATCH_ADAPTIVE_THREADS": "1"})
    assert printed.split() == ["1", "False", "1"]


def test_a_bad_thread_variable_is_still_refused_at_import():
    out = _run("import fastscratch", {"FASTSCRATCH_ADAPTIVE_THREADS": "sometimes"})
    assert out.returncode != 0
    assert "FASTSCRATCH_ADAPTIVE_THREADS" in out.stderr and "'sometimes'" in out.stderr


def test_threads_racing_for_the_first_kernel_all_get_it():
    code = (
        "import threading, numpy as np, fastscratch._native as n\n"
        "start = threading.Barrier(8); results = []\n"
        "def first():\n"
        "    start.wait()\n"
        "    results.append(float(n.relu_forward(np.full(64, -2.0))[0].max()))\n"
        "threads = [threading.Thread(target=first) for _ in range(8)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print(results)"
    )
    printed = _printed(code)
    assert printed.strip() == str([0.0] * 8)


def test_after_the_load_every_kernel_is_a_plain_attribute_of_the_backend_module():
    native.load()
    from fastscratch._native import _core

    plain = vars(native)
    for name in native.NAMES:
        assert plain[name] is getattr(_core, name), name
    assert set(native.NAMES) <= set(dir(native))
    with pytest.raises(AttributeError, match="no attribute 'no_such_kernel'"):
        native.no_such_kernel  # noqa: B018


def test_the_package_names_every_function_the_extension_defines():
    # NAMES is written out by hand: a binding added to src/ but not to NAMES would be missing
    # from the backend (and from the contract test that every kernel exists).
    from fastscratch._native import _core

    defined = {
        name
        for name in dir(_core)
        if not name.startswith("_") and callable(getattr(_core, name)) and name != "np"
    }
    assert defined == set(native.NAMES)


def _package_copy(tmp_path, core_source=None):
    """fastscratch's Python files in `tmp_path`, with the build's _build_info and, if given, a
    stand-in `_core` module; no extension."""
    root = tmp_path / "site"
    shutil.copytree(
        os.path.dirname(fastscratch.__file__),
        root / "fastscratch",
        ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__", "lib*"),
    )
    from fastscratch._native import _build_info

    shutil.copy(_build_info.__file__, root / "fastscratch" / "_native" / "_build_info.py")
    if core_source is not None:
        (root / "fastscratch" / "_native" / "_core.py").write_text(core_source)
    return root


def _run_copy(root, code):
    # -S: no site-packages, so no installed (or editable) fastscratch; NumPy's folder after ours.
    path = os.pathsep.join([str(root), os.path.dirname(os.path.dirname(np.__file__))])
    return _run(code, {"PYTHONPATH": path}, args=("-S",))


def test_a_build_without_its_extension_fails_at_import_saying_how_to_rebuild(tmp_path):
    root = _package_copy(tmp_path)
    assert not list(root.rglob("_core*"))
    out = _run_copy(root, "import fastscratch")
    assert out.returncode != 0
    assert "ImportError" in out.stderr
    assert "native extension could not be loaded" in out.stderr and "pip install" in out.stderr


def test_an_extension_that_cannot_load_fails_at_the_first_kernel_not_silently(tmp_path):
    root = _package_copy(
        tmp_path, 'raise ImportError("libscipy_openblas.so: cannot open shared object file")\n'
    )
    code = (
        "import numpy as np, fastscratch\n"
        "print('imported', fastscratch.get_backend(), flush=True)\n"
        "from fastscratch.layers import Relu\n"
        "Relu().forward(np.ones((1000, 1000)))\n"
        "print('computed on some backend')"
    )
    out = _run_copy(root, code)
    assert out.returncode != 0
    assert out.stdout.split() == ["imported", "native"]
    assert "native extension could not be loaded" in out.stderr
    assert "libscipy_openblas.so: cannot open shared object file" in out.stderr


# The thread count is the process's, not the calling thread's: omp_set_num_threads() sets it for
# the calling thread only, so before it was kept in the core, FASTSCRATCH_NUM_THREADS=1 (applied
# on the thread that loaded the extension) left kernels on other threads all the cores.
_THREADS_OF_A_WORKER = """
import os, threading, numpy as np, fastscratch, fastscratch._native as n
{before}
x = np.full((2000, 2000), -1.0)
seen = []
def work():
    seen.append(n.max_threads())  # loads the extension if nothing has (OpenBLAS starts threads)
    start = len(os.listdir("/proc/self/task"))
    for _ in range(3):
        n.relu_forward(x)
    seen.append(len(os.listdir("/proc/self/task")) - start)
worker = threading.Thread(target=work)
worker.start(); worker.join()
print(seen[0], seen[1], n.max_threads())
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
@pytest.mark.parametrize(
    "before, env",
    [
        ("", {"FASTSCRATCH_NUM_THREADS": "1"}),  # loads on the worker
        ("n.load()", {"FASTSCRATCH_NUM_THREADS": "1"}),  # loads on the main thread
        ("fastscratch.set_num_threads(1)", {"FASTSCRATCH_NUM_THREADS": "2"}),
    ],
)
def test_a_thread_count_holds_for_kernels_called_from_any_thread(before, env):
    env = dict(env, FASTSCRATCH_ADAPTIVE_THREADS="0")  # the load must not decide the team
    printed = _printed(_THREADS_OF_A_WORKER.format(before=before), env)
    # the worker's limit, the OpenMP threads its kernels started, the main thread's limit
    assert printed.split() == ["1", "0", "1"]


def test_two_threads_set_on_the_main_thread_reach_a_worker():
    # the other way round: a worker's kernels get the process's count (2), not 1
    env = {"FASTSCRATCH_NUM_THREADS": "1", "FASTSCRATCH_ADAPTIVE_THREADS": "0"}
    printed = _printed(_THREADS_OF_A_WORKER.format(before="fastscratch.set_num_threads(2)"), env)
    assert printed.split()[0] == "2" and printed.split()[2] == "2"


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="reads /proc/self/maps")
def test_show_config_names_the_openmp_runtime_the_kernels_run_on():
    printed = _printed("import fastscratch; fastscratch.show_config()")
    lines = printed.splitlines()
    library = lines[lines.index("openmp:") + 2]
    assert library.split()[0] == "library" and "libgomp" in library


def test_after_pytorch_the_kernels_share_its_openmp_runtime():
    # The lazy load's documented consequence (docs/design.md): one runtime, PyTorch's copy.
    pytest.importorskip("torch")
    code = (
        "import fastscratch, torch, numpy as np\n"
        "fastscratch.Relu().forward(np.ones((1000, 1000)))\n"
        "from fastscratch.config import openmp_library\n"
        "print(openmp_library())"
    )
    printed = _printed(code)
    mapped = printed.strip().split(", ")
    assert len(mapped) == 1 and "torch" in mapped[0], mapped


_FORK = """
import os, sys, numpy as np, fastscratch
{parent}
pid = os.fork()
if pid == 0:
    import fastscratch._native as n
    n.relu_forward(np.ones((4000, 4000)))  # big enough for two threads
    print(n.in_forked_child(), n.max_threads(), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_before_the_load_runs_kernels_on_one_thread():
    # As when the core loaded at import (its fork handler marked the child): a multiprocessing
    # worker forked from a parent that ran no kernel yet gets one thread, not the whole pool.
    printed = _printed(_FORK.format(parent=""), {"FASTSCRATCH_ADAPTIVE_THREADS": "0"})
    assert printed.split() == ["True", "1"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_after_pytorch_ran_threads_does_not_hang():
    # PyTorch's OpenMP pool ran in the parent; the child's core shares that libgomp, whose pool
    # did not survive the fork: a kernel on two threads there waited forever (lazy load, before
    # the fork was noted).
    pytest.importorskip("torch")
    parent = "import torch\ntorch.set_num_threads(2)\na = torch.rand(1000, 1000)\n(a @ a).sum()"
    stdout = _run_forking(_FORK.format(parent=parent), {"FASTSCRATCH_ADAPTIVE_THREADS": "0"})
    assert stdout.split() == ["True", "1"]


def _run_forking(code, env=None):
    """stdout of `code`, which forks: a hung child is killed with its parent (its own session),
    not left behind, and the test fails saying so."""
    run = subprocess.Popen(
        [sys.executable, "-c", code],
        env=dict(os.environ, **(env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = run.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        run.communicate()
        pytest.fail("the forked child hung")
    assert run.returncode == 0, stderr
    return stdout


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_threadpoolctl_still_limits_the_kernels():
    # Keeping the count in the core must not lose threadpoolctl's limit, set through OpenMP.
    code = (
        "import os, numpy as np, fastscratch._native as n\n"
        "from threadpoolctl import threadpool_limits\n"
        "x = np.ones((4000, 4000)); n.relu_forward(x[:1])\n"
        "with threadpool_limits(1):\n"
        "    start = len(os.listdir('/proc/self/task'))\n"
        "    n.relu_forward(x)\n"
        "    print(n.max_threads(), len(os.listdir('/proc/self/task')) - start)\n"
        "print(n.max_threads())"
    )
    printed = _printed(code, {"FASTSCRATCH_ADAPTIVE_THREADS": "0", "FASTSCRATCH_NUM_THREADS": "2"})
    assert printed.split() == ["1", "0", "2"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_fork_while_another_thread_holds_the_load_lock_leaves_the_child_a_free_one():
    code = (
        "import os, numpy as np, fastscratch._native as n\n"
        "n._load_lock.acquire()  # as a thread loading the core at the fork would hold it\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    print(float(n.relu_forward(np.full(8, -1.0))[0].max()), flush=True)\n"
        "    os._exit(0)\n"
        "n._load_lock.release()\n"
        "os.waitpid(pid, 0)"
    )
    assert _run_forking(code).split() == ["0.0"]
