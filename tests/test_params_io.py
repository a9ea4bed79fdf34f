"""Nets' save_params / load_params: .npz or the book's pickle of a plain dict, read back safely
(no code in a pickle ever runs), checked against the net before anything changes, and the
layers rebound to the loaded arrays as the book does."""

import contextlib
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from fastscratch import params_io
from fastscratch.deep_convnet import DeepConvNet
from fastscratch.multi_layer_net import MultiLayerNet
from fastscratch.multi_layer_net_extend import MultiLayerNetExtend
from fastscratch.simple_convnet import SimpleConvNet
from fastscratch.two_layer_net import TwoLayerNet


def tiny_simple_convnet(**kwargs):
    return SimpleConvNet(
        input_dim=(1, 6, 6),
        hidden_size=4,
        output_size=3,
        conv_param={'filter_num': 2, 'filter_size': 3, 'pad': 0, 'stride': 1},
        **kwargs,
    )


def seeded(make, seed):
    np.random.seed(seed)
    return make()


@pytest.mark.parametrize("name", ["params.pkl", "params.npz", "weights.bin"])
def test_simple_convnet_round_trip_restores_params_and_rebinds_layers(backend, tmp_path, rng, name):
    saved = seeded(tiny_simple_convnet, 1)
    path = tmp_path / name
    saved.save_params(str(path))
    net = seeded(tiny_simple_convnet, 2)
    before = {k: v for k, v in net.params.items()}
    net.load_params(path)
    for key, val in saved.params.items():
        assert np.array_equal(net.params[key], val)
        assert net.params[key] is not before[key]  # rebound, as the book does
    for layer, i in (('Conv1', 1), ('Affine1', 2), ('Affine2', 3)):
        assert net.layers[layer].W is net.params[f'W{i}']
        assert net.layers[layer].b is net.params[f'b{i}']
    x = rng.standard_normal((3, 1, 6, 6))
    assert np.array_equal(net.predict(x), saved.predict(x))


def test_pkl_is_the_books_plain_dict_and_npz_is_numpys_format(tmp_path):
    net = seeded(tiny_simple_convnet, 1)
    net.save_params(tmp_path / "p.pkl")
    net.save_params(tmp_path / "p.npz")
    with open(tmp_path / "p.pkl", "rb") as f:
        book = pickle.load(f)
    assert type(book) is dict and list(book) == list(net.params)
    with np.load(tmp_path / "p.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(net.params)
        assert np.array_equal(npz['W2'], net.params['W2'])


def test_default_file_name_is_the_books_params_pkl(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    net = seeded(tiny_simple_convnet, 1)
    net.save_params()
    assert os.path.exists("params.pkl")
    other = seeded(tiny_simple_convnet, 2)
    other.load_params()
    assert np.array_equal(other.params['W1'], net.params['W1'])


def test_a_file_written_by_plain_pickle_like_the_book_loads(tmp_path):
    net = seeded(tiny_simple_convnet, 1)
    with open(tmp_path / "book.pkl", "wb") as f:
        pickle.dump({k: v.copy() for k, v in net.params.items()}, f, protocol=3)
    other = seeded(tiny_simple_convnet, 2)
    other.load_params(tmp_path / "book.pkl")
    assert all(np.array_equal(other.params[k], net.params[k]) for k in net.params)


@pytest.mark.parametrize("suffix", [".pkl", ".npz"])
def test_deep_convnet_load_rebinds_the_layers_at_the_books_indices(tmp_path, suffix):
    saved = seeded(DeepConvNet, 1)
    saved.save_params(tmp_path / f"deep{suffix}")
    net = seeded(DeepConvNet, 2)
    net.load_params(tmp_path / f"deep{suffix}")
    for i, index in enumerate((0, 2, 5, 7, 10, 12, 15, 18), 1):
        assert net.layers[index].W is net.params[f'W{i}']
        assert net.layers[index].b is net.params[f'b{i}']
        assert np.array_equal(net.params[f'W{i}'], saved.params[f'W{i}'])


@pytest.mark.parametrize(
    "make",
    [lambda: TwoLayerNet(6, 5, 3), lambda: MultiLayerNet(6, [5, 4], 3)],
    ids=["TwoLayerNet", "MultiLayerNet"],
)
def test_fully_connected_nets_save_and_load_too(backend, tmp_path, rng, make):
    saved = seeded(make, 1)
    saved.save_params(tmp_path / "p.npz")
    net = seeded(make, 2)
    net.load_params(tmp_path / "p.npz")
    x = rng.standard_normal((4, 6))
    assert np.array_equal(net.predict(x), saved.predict(x))
    assert net.layers['Affine2'].W is net.params['W2']


def test_extend_round_trip_keeps_batchnorm_params_and_running_statistics(backend, tmp_path, rng):
    def make():
        return MultiLayerNetExtend(6, [5, 4], 3, use_batchnorm=True)

    saved = seeded(make, 1)
    x = rng.standard_normal((8, 6))
    saved.params['gamma1'] *= 1.5
    saved.predict(x, train_flg=True)  # moves the running statistics
    saved.save_params(tmp_path / "bn.pkl")
    net = seeded(make, 2)
    net.load_params(tmp_path / "bn.pkl")
    assert net.layers['BatchNorm1'].gamma is net.params['gamma1']
    assert net.layers['BatchNorm2'].beta is net.params['beta2']
    assert np.array_equal(
        net.layers['BatchNorm1'].running_var, saved.layers['BatchNorm1'].running_var
    )
    assert np.array_equal(net.predict(x), saved.predict(x))


def test_a_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    with open(tmp_path / "evil.pkl", "wb") as f:
        pickle.dump({'W1': Exploit()}, f)
    net = seeded(tiny_simple_convnet, 1)
    before = {k: v.copy() for k, v in net.params.items()}
    W1 = net.params['W1']
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        net.load_params(tmp_path / "evil.pkl")
    assert not marker.exists()
    assert net.params['W1'] is W1 and net.layers['Conv1'].W is W1
    assert all(np.array_equal(net.params[k], before[k]) for k in before)


def test_an_npz_holding_object_arrays_is_refused(tmp_path):
    np.savez(tmp_path / "obj.npz", W1=np.array([{'a': 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        tiny_simple_convnet().load_params(tmp_path / "obj.npz")


def write(path, arrays):
    params_io.save_params(arrays, path)
    return path


def test_a_file_for_another_net_is_refused_before_anything_changes(tmp_path):
    net = seeded(tiny_simple_convnet, 1)
    W1 = net.params['W1']
    good = {k: v.copy() for k, v in net.params.items()}

    wrong_shape = dict(good, W2=np.zeros((9, 4)))
    with pytest.raises(ValueError, match=r"W2 must have shape \(8, 4\)"):
        net.load_params(write(tmp_path / "a.pkl", wrong_shape))
    missing = {k: v for k, v in good.items() if k != 'b3'}
    with pytest.raises(ValueError, match="no b3"):
        net.load_params(write(tmp_path / "b.npz", missing))
    extra = dict(good, W4=np.zeros(3))
    with pytest.raises(ValueError, match="W4"):
        net.load_params(write(tmp_path / "c.pkl", extra))
    ints = dict(good, b1=np.zeros(2, dtype=np.int64))
    with pytest.raises(TypeError, match="b1 must be float32 or float64"):
        net.load_params(write(tmp_path / "d.pkl", ints))
    with open(tmp_path / "list.pkl", "wb") as f:
        pickle.dump([np.zeros(3)], f)
    with pytest.raises(ValueError, match="dict"):
        net.load_params(tmp_path / "list.pkl")
    assert net.params['W1'] is W1 and net.layers['Conv1'].W is W1


def test_loaded_arrays_keep_their_dtype_unless_the_net_has_one(tmp_path):
    source = seeded(tiny_simple_convnet, 1)
    path = write(tmp_path / "f32.pkl", {k: v.astype(np.float32) for k, v in source.params.items()})
    book_style = tiny_simple_convnet()
    book_style.load_params(path)
    assert all(v.dtype == np.float32 for v in book_style.params.values())

    path64 = write(tmp_path / "f64.npz", source.params)
    net32 = tiny_simple_convnet(dtype=np.float32)
    net32.load_params(path64)
    assert all(v.dtype == np.float32 for v in net32.params.values())
    assert np.array_equal(net32.params['W2'], source.params['W2'].astype(np.float32))
    assert net32.layers['Affine1'].W is net32.params['W2']


def test_fortran_ordered_arrays_load_and_predict_the_same(backend, tmp_path, rng):
    source = seeded(lambda: TwoLayerNet(6, 5, 3, weight_init_std=0.5), 1)
    path = write(tmp_path / "f.pkl", {k: np.asfortranarray(v) for k, v in source.params.items()})
    net = TwoLayerNet(6, 5, 3)
    net.load_params(path)
    assert net.params['W1'].flags.f_contiguous and not net.params['W1'].flags.c_contiguous
    x = rng.standard_normal((4, 6))
    np.testing.assert_allclose(net.predict(x), source.predict(x), rtol=1e-12)


# Saving replaces the file in one step (issue 11 item 8): a save that fails half-way leaves the
# previous checkpoint byte for byte and no temporary file beside it.


def _fail_after_some_bytes(*args, **kwargs):
    """Stands in for np.savez(file, ...) or pickle.dump(obj, file), given a path or a file."""
    target = next(arg for arg in args if hasattr(arg, "write") or isinstance(arg, (str, Path)))
    with contextlib.ExitStack() as stack:
        file = target if hasattr(target, "write") else stack.enter_context(open(target, "wb"))
        file.write(b"half a checkpoint " * 100)
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize("name,writer", [("p.npz", (np, "savez")), ("p.pkl", (pickle, "dump"))])
def test_a_save_that_fails_midway_keeps_the_previous_file(tmp_path, monkeypatch, name, writer):
    path = tmp_path / name
    seeded(tiny_simple_convnet, 1).save_params(path)
    before = path.read_bytes()
    monkeypatch.setattr(*writer, _fail_after_some_bytes)
    with pytest.raises(OSError, match="No space left"):
        seeded(tiny_simple_convnet, 2).save_params(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("name", ["p.npz", "p.pkl"])
def test_a_save_past_the_file_size_limit_keeps_the_previous_file(tmp_path, name):
    pytest.importorskip("resource")  # POSIX only
    import subprocess
    import sys
    import textwrap

    path = tmp_path / name
    np.random.seed(0)
    TwoLayerNet(100, 100, 10).save_params(path)  # ~80 KB
    before = path.read_bytes()
    code = textwrap.dedent(f"""
        import resource, signal, sys
        import numpy as np
        from fastscratch.two_layer_net import TwoLayerNet
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
        np.random.seed(1)
        try:
            TwoLayerNet(100, 100, 10).save_params({str(path)!r})
        except OSError as exc:
            print("failed:", exc)
            sys.exit(0)
        sys.exit("the save did not fail")
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "failed:" in out.stdout, out.stdout + out.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_saving_over_a_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "p.npz"
    seeded(tiny_simple_convnet, 1).save_params(path)
    os.chmod(path, 0o640)
    seeded(tiny_simple_convnet, 2).save_params(path)
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.npz"]
