"""The foundation: the native core loads and reports itself, backends switch, threads are set
in both pools, and the first native kernel (im2col/col2im) equals the reference."""

import os
import subprocess
import sys

import numpy as np
import pytest
import threadpoolctl

import fastscratch
from fastscratch import kernels


def test_native_extension_is_loaded_and_reports_its_blas(capsys):
    import fastscratch._native as native

    assert native.blas_corename()
    fastscratch.show_config()
    printed = capsys.readouterr().out
    assert "OpenBLAS" in printed and "threads" in printed and fastscratch.__version__ in printed


def test_show_config_names_the_cpu(capsys):
    # Performance figures name the CPU they were measured on (an Intel Xeon or an AMD EPYC
    # here): `fastscratch info` says which, with its cores.
    import os

    fastscratch.show_config()
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("cpu:")]
    assert len(line) == 1 and f"{os.cpu_count()} logical cores" in line[0]
    try:
        with open("/proc/cpuinfo") as f:
            models = [x.split(":", 1)[1].strip() for x in f if x.lower().startswith("model name")]
    except OSError:
        models = []
    if models:
        assert models[0] in line[0]


def test_set_backend_switches_and_use_backend_restores():
    assert fastscratch.get_backend() == "native"
    with fastscratch.use_backend("reference"):
        assert fastscratch.get_backend() == "reference"
    assert fastscratch.get_backend() == "native"
    fastscratch.set_backend("reference")
    try:
        assert fastscratch.get_backend() == "reference"
    finally:
        fastscratch.set_backend("native")


def test_unknown_backend_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="native.*reference.*'gpu'"):
        fastscratch.set_backend("gpu")
    assert fastscratch.get_backend() == "native"


def test_use_backend_restores_after_an_exception():
    with pytest.raises(RuntimeError):
        with fastscratch.use_backend("reference"):
            raise RuntimeError
    assert fastscratch.get_backend() == "native"


def test_use_backend_in_two_threads_keeps_each_threads_backend_and_leaves_the_default():
    # The backend was one global: thread A entered use_backend("reference"), thread B
    # use_backend("native") (noting "reference" as the one to restore), A's kernels then ran
    # natively, and after both blocks the whole process stayed on the reference, 10-100x slower.
    import threading

    reference_in, native_in, reference_out = (threading.Event() for _ in range(3))
    seen, used = {}, {}

    def work(name):
        # enter reference first, then native; leave reference first: the order that broke it
        if name == "native":
            assert reference_in.wait(30)
        with fastscratch.use_backend(name):
            (reference_in if name == "reference" else native_in).set()
            if name == "reference":
                assert native_in.wait(30)  # both blocks open at once
            seen[name] = fastscratch.get_backend()
            x = np.random.default_rng(0).standard_normal((1, 1, 4, 4))
            used[name] = type(kernels.conv_forward(x, x[:, :, :2, :2], np.zeros(1), 1, 0)[1])
            if name == "native":
                assert reference_out.wait(30)
        if name == "reference":
            reference_out.set()

    threads = [threading.Thread(target=work, args=(name,)) for name in ("reference", "native")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)  # the waits time out, so a failing thread cannot hang the test
    assert seen == {"reference": "reference", "native": "native"}
    # the reference's conv_forward keeps its patch matrix as the cache, the native's keeps None
    assert used == {"reference": np.ndarray, "native": type(None)}
    assert fastscratch.get_backend() == "native"


def test_set_backend_inside_use_backend_lasts_until_the_block_ends():
    with fastscratch.use_backend("reference"):
        fastscratch.set_backend("native")
        assert fastscratch.get_backend() == "native"
        fastscratch.set_backend("reference")
    assert fastscratch.get_backend() == "native"


def test_set_backend_reaches_threads_started_after_it():
    import threading

    seen = []
    fastscratch.set_backend("reference")
    try:
        thread = threading.Thread(target=lambda: seen.append(fastscratch.get_backend()))
        thread.start()
        thread.join()
    finally:
        fastscratch.set_backend("native")
    assert seen == ["reference"]


def _run(code, **env):
    full_env = dict(os.environ, **env)
    return subprocess.run(
        [sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=120
    )


def test_backend_environment_variable_picks_the_reference():
    out = _run(
        "import fastscratch; print(fastscratch.get_backend())", FASTSCRATCH_BACKEND="reference"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("reference")


def test_thread_environment_variable_sets_the_pool_and_openblas_stays_on_one_thread():
    code = (
        "import fastscratch, fastscratch._native as n; "
        "print(fastscratch.get_num_threads(), n.get_blas_threads())"
    )
    out = _run(code, FASTSCRATCH_NUM_THREADS="1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["1", "1"]


def test_set_num_threads_sets_the_pool_and_threadpoolctl_sees_openblas_on_one_thread():
    import fastscratch._native as native

    before = fastscratch.get_num_threads()
    try:
        fastscratch.set_num_threads(1)
        assert fastscratch.get_num_threads() == 1 and native.get_blas_threads() == 1
        pools = threadpoolctl.threadpool_info()
        ours = [p for p in pools if "scipy_openblas32" in p["filepath"]]
        assert ours and ours[0]["num_threads"] == 1
        with threadpoolctl.threadpool_limits(limits=1):
            assert native.get_blas_threads() == 1
    finally:
        fastscratch.set_num_threads(before)


def test_the_testing_thread_count_restores_the_count_also_after_an_exception():
    from fastscratch.testing import thread_count

    before = fastscratch.get_num_threads()
    other = 1 if before != 1 else 2
    with pytest.raises(RuntimeError):
        with thread_count(other):
            assert fastscratch.get_num_threads() == other
            raise RuntimeError
    assert fastscratch.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_set_num_threads_refuses_non_positive_integers(bad):
    with pytest.raises(ValueError, match="positive integer"):
        fastscratch.set_num_threads(bad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape,fh,fw,stride,pad",
    [
        ((2, 3, 7, 6), 3, 2, 2, 1),
        ((1, 1, 5, 5), 5, 5, 1, 0),
        ((3, 2, 4, 9), 1, 3, 3, 2),
        ((2, 4, 8, 8), 3, 3, 1, 1),
        ((0, 2, 5, 5), 2, 2, 1, 0),
    ],
)
def test_native_im2col_and_col2im_equal_the_reference(dtype, shape, fh, fw, stride, pad, rng):
    x = rng.standard_normal(shape).astype(dtype)
    with fastscratch.use_backend("native"):
        col = kernels.im2col(x, fh, fw, stride, pad)
        img = kernels.col2im(col, shape, fh, fw, stride, pad)
    with fastscratch.use_backend("reference"):
        col_ref = kernels.im2col(x, fh, fw, stride, pad)
        img_ref = kernels.col2im(col_ref, shape, fh, fw, stride, pad)
    assert col.dtype == img.dtype == dtype
    np.testing.assert_array_equal(col, col_ref)  # a pure copy: exactly equal
    np.testing.assert_allclose(img, img_ref, rtol=1e-6 if dtype == np.float32 else 1e-14)


def test_im2col_has_the_books_layout(backend):
    x = np.arange(32, dtype=np.float64).reshape(1, 2, 4, 4)
    col = kernels.im2col(x, 3, 3)
    assert col.shape == (4, 18)
    assert col[0].tolist() == [0, 1, 2, 4, 5, 6, 8, 9, 10, 16, 17, 18, 20, 21, 22, 24, 25, 26]


def test_col2im_is_the_adjoint_of_im2col(backend, rng):
    x = rng.standard_normal((2, 3, 6, 5))
    y = rng.standard_normal(kernels.im2col(x, 3, 2, 2, 1).shape)
    lhs = np.sum(kernels.im2col(x, 3, 2, 2, 1) * y)
    rhs = np.sum(x * kernels.col2im(y, x.shape, 3, 2, 2, 1))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_im2col_accepts_any_memory_layout(backend, rng):
    base = rng.standard_normal((6, 3, 8, 10))
    views = [base[::2], base[:, :, ::-1], np.asfortranarray(base), base.transpose(0, 1, 3, 2)]
    for x in views:
        x_readonly = x.copy()
        x.flags.writeable = False if x.base is None else x.flags.writeable
        np.testing.assert_array_equal(
            kernels.im2col(x, 3, 3, 1, 1), kernels.im2col(x_readonly, 3, 3, 1, 1)
        )


def test_im2col_refuses_bad_arguments_naming_them(backend):
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match="stride must be >= 1, got 0"):
        kernels.im2col(x, 2, 2, 0, 0)
    with pytest.raises(ValueError, match="pad must be >= 0, got -1"):
        kernels.im2col(x, 2, 2, 1, -1)
    with pytest.raises(ValueError, match="filter_h.*must fit"):
        kernels.im2col(x, 7, 2, 1, 1)
    with pytest.raises(ValueError, match="x must be 4-D"):
        kernels.im2col(np.zeros((4, 4)), 2, 2)
    with pytest.raises(TypeError, match="complex"):
        kernels.im2col(np.zeros((1, 1, 4, 4), complex), 2, 2)
    with pytest.raises(ValueError, match="col must have shape"):
        kernels.col2im(np.zeros((3, 4)), (1, 1, 4, 4), 2, 2)


def test_integer_input_computes_in_float64(backend):
    col = kernels.im2col(np.arange(16).reshape(1, 1, 4, 4), 2, 2)
    assert col.dtype == np.float64


def test_openblas_workers_spin_briefly_unless_the_user_says_otherwise():
    code = "import os, fastscratch; print(os.environ['OPENBLAS_THREAD_TIMEOUT'])"
    out = _run(code)
    assert out.returncode == 0, out.stderr
    expected = os.environ.get("OPENBLAS_THREAD_TIMEOUT", "20")
    assert out.stdout.split()[-1] == expected
    mine = _run(code, OPENBLAS_THREAD_TIMEOUT="25")
    assert mine.stdout.split()[-1] == "25"


def test_the_simd_clone_list_show_config_reports_is_the_one_the_c_was_built_with():
    from fastscratch import config
    from fastscratch._native import _build_info

    built = fastscratch._native.simd_clones()
    reported = [level.strip() for level in _build_info.simd_clones.split(",") if level.strip()]
    assert built == reported
    text = config.config_info()["build"]["simd"]
    assert all(level in text for level in built)
    assert ("baseline only" in text) == (not built)
