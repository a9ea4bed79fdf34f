"""ONNX export (fastscratch.onnx, `python -m fastscratch export`): for every net of the book the
exported model, run by ONNX Runtime, gives predict(x)'s scores (train_flg=False) at any batch
size and the same accuracy on the real MNIST test images; the book's pretrained convnets keep
their 0.9890 / 0.9935 through ONNX Runtime. Skipped when onnx or onnxruntime is missing
(`pip install "fastscratch[onnx]"`).

Scores are compared as the project compares kernels (fastscratch.testing): relative error by
norm within 1e-5 for float32, 1e-12 for float64.
"""

import functools
import subprocess
import sys
import warnings

import numpy as np
import pytest

import fastscratch
from fastscratch import DeepConvNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet, TwoLayerNet
from fastscratch.testing import assert_close, relative_error

onnx = pytest.importorskip("onnx", reason='needs the onnx package: pip install "fastscratch[onnx]"')
ort = pytest.importorskip(
    "onnxruntime", reason='needs onnxruntime: pip install "fastscratch[onnx]"'
)

from fastscratch import onnx as fs_onnx  # noqa: E402
from fastscratch.dataset.mnist import load_mnist_split  # noqa: E402
from fastscratch.layers import Relu  # noqa: E402
from fastscratch.optimizer import Adam  # noqa: E402

NETS = ("two", "multi-relu", "multi-sigmoid", "extend", "simple", "deep")


def _randomize_biases(net, rng):
    """Biases start at zero; random ones make the export of b (and beta) count."""
    for key, value in net.params.items():
        if key.startswith(("b", "beta")):
            value[...] = 0.1 * rng.standard_normal(value.shape)  # in place: the layers hold it


def _train_a_little(net, rng, x, t, steps=20):
    """Training steps with batch norm and dropout active, so the running statistics are far
    from their start and differ from one batch's."""
    opt = Adam(lr=0.01)
    for _ in range(steps):
        idx = rng.integers(0, len(x), 64)
        opt.update(net.params, net.gradient(x[idx], t[idx]))


def make_net(kind, dtype, rng):
    np.random.seed(int(rng.integers(2**31)))
    if kind == "two":
        net = TwoLayerNet(784, 50, 10, weight_init_std=0.1, dtype=dtype)
    elif kind == "multi-relu":
        net = MultiLayerNet(784, [60, 40, 30], 10, dtype=dtype)
    elif kind == "multi-sigmoid":
        net = MultiLayerNet(
            784, [50, 50], 10, activation="sigmoid", weight_init_std="sigmoid", dtype=dtype
        )
    elif kind == "extend":
        net = MultiLayerNetExtend(
            784,
            [60, 40],
            10,
            use_dropout=True,
            dropout_ration=0.3,
            use_batchnorm=True,
            dtype=dtype,
        )
    elif kind == "simple":
        net = SimpleConvNet(weight_init_std=0.1, dtype=dtype)
    else:
        net = DeepConvNet(dtype=dtype)
    _randomize_biases(net, rng)
    if kind == "extend":
        x = (rng.random((200, 784)) + np.arange(200)[:, None] % 3).astype(dtype)
        _train_a_little(net, rng, x, rng.integers(0, 10, 200))
        bn = net.layers["BatchNorm1"]
        assert np.ptp(bn.running_mean) > 0.1 and np.ptp(bn.running_var) > 0.1
    return net


def sample_shape(model):
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "N"  # the dynamic batch
    return tuple(d.dim_value for d in dims[1:])


def session(model):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def ort_predict(sess, x, batch_size=1000):
    return np.concatenate(
        [sess.run(None, {"x": x[i : i + batch_size]})[0] for i in range(0, len(x), batch_size)]
    )


def export_quietly(net, path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fs_onnx.export(net, path, **kwargs)


def test_export_needs_the_onnx_package_and_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ImportError, match=r'pip install "fastscratch\[onnx\]"'):
        fs_onnx.export(TwoLayerNet(4, 3, 2), tmp_path / "m.onnx")


@pytest.mark.parametrize("kind", NETS)
def test_float32_model_is_valid_and_onnxruntime_gives_predicts_scores(kind, rng, tmp_path):
    net = make_net(kind, np.float32, rng)
    path = tmp_path / f"{kind}.onnx"
    model = fs_onnx.export(net, path)
    checked = onnx.load(path)
    onnx.checker.check_model(checked, full_check=True)
    onnx.shape_inference.infer_shapes(checked, strict_mode=True)
    assert {op.domain for op in checked.opset_import} == {""}  # standard operators only
    assert checked.opset_import[0].version == fs_onnx.DEFAULT_OPSET
    out_type = checked.graph.output[0].type.tensor_type
    assert out_type.elem_type == onnx.TensorProto.FLOAT
    assert out_type.shape.dim[0].dim_param == "N" and out_type.shape.dim[1].dim_value == 10
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (1, 37):
        x = rng.random((batch, *sample_shape(model)), dtype=np.float32)
        y = sess.run(None, {"x": x})[0]
        assert_close(y, net.predict(x))


@pytest.mark.parametrize("kind", ("two", "multi-relu", "multi-sigmoid", "extend"))
def test_float64_fully_connected_nets_export_in_float64(kind, rng):
    net = make_net(kind, np.float64, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no dtype warning: ONNX Runtime runs these in float64
        model = fs_onnx.to_model(net)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    sess = session(model)
    for batch in (1, 37):
        x = rng.random((batch, 784))
        y = sess.run(None, {"x": x})[0]
        assert y.dtype == np.float64
        assert_close(y, net.predict(x))


@pytest.mark.parametrize("kind", ("simple", "deep"))
def test_float64_convnets_export_in_float32_with_a_warning(kind, rng):
    net = make_net(kind, np.float64, rng)
    with pytest.warns(UserWarning, match="no float64 Conv"):
        model = fs_onnx.to_model(net)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    x = rng.random((37, 1, 28, 28))
    y = session(model).run(None, {"x": x.astype(np.float32)})[0]
    expected = net.predict(x)
    assert expected.dtype == np.float64 and y.dtype == np.float32
    assert relative_error(y, expected) <= 1e-5
    # Asked for, float64 is written (a valid model; ONNX Runtime's CPU provider cannot run it).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model64 = fs_onnx.to_model(net, dtype=np.float64)
    assert model64.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


def test_float32_export_of_a_float64_net_on_request(rng):
    net = make_net("extend", np.float64, rng)
    model = fs_onnx.to_model(net, dtype="float32")
    x = rng.random((37, 784))
    y = session(model).run(None, {"x": x.astype(np.float32)})[0]
    assert relative_error(y, net.predict(x)) <= 1e-5


def test_batchnorm_statistics_and_dropout_scale_are_the_trained_ones(rng):
    """The model follows the net's state when exported: retraining changes predict, and only a
    new export follows it."""
    net = make_net("extend", np.float32, rng)
    x = rng.random((37, 784), dtype=np.float32)
    before = session(fs_onnx.to_model(net)).run(None, {"x": x})[0]
    xt = rng.random((100, 784), dtype=np.float32) * 3
    _train_a_little(net, rng, xt, rng.integers(0, 10, 100), steps=5)
    after = session(fs_onnx.to_model(net)).run(None, {"x": x})[0]
    assert relative_error(before, net.predict(x)) > 1e-3
    assert_close(after, net.predict(x))


def test_an_unused_batchnorm_exports_predicts_zero_statistics(rng):
    # Before any forward the layer has no running statistics; predict starts from zeros.
    net = MultiLayerNetExtend(20, [8], 3, use_batchnorm=True, dtype=np.float32)
    _randomize_biases(net, rng)
    model = fs_onnx.to_model(net)
    x = rng.random((5, 20), dtype=np.float32)
    assert_close(session(model).run(None, {"x": x})[0], net.predict(x))


def test_batchnorm_on_images_and_padded_pooling(rng):
    """A net of the book's layers in another order: BatchNormalization on (N, C, H, W) (per
    activation, as the layer computes it), pooling with pad and stride 1, Affine after it."""
    from fastscratch.layers import Affine, BatchNormalization, Convolution, Pooling

    class Net:
        pass

    net = Net()
    net.layers = {
        "conv": Convolution(rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4), 2, 1),
        "bn": BatchNormalization(rng.random(4 * 5 * 5) + 0.5, rng.standard_normal(4 * 5 * 5)),
        "pool": Pooling(3, 3, stride=1, pad=1),
        "affine": Affine(rng.standard_normal((100, 6)), rng.standard_normal(6)),
    }
    bn = net.layers["bn"]
    for _ in range(3):  # training forwards: running statistics move
        bn.forward(rng.standard_normal((16, 4, 5, 5)), train_flg=True)
    model = fs_onnx.to_model(net, dtype=np.float32, input_shape=(2, 10, 10))
    x = rng.standard_normal((7, 2, 10, 10))
    y = x
    for name, layer in net.layers.items():
        y = layer.forward(y, train_flg=False) if name == "bn" else layer.forward(y)
    out = session(model).run(None, {"x": x.astype(np.float32)})[0]
    assert relative_error(out, y) <= 1e-5


def test_a_net_with_a_users_own_layer_is_refused_naming_it():
    class Scale:
        def forward(self, x):
            return 2 * x

    net = TwoLayerNet(4, 3, 2)
    net.layers["MyScale"] = Scale()
    with pytest.raises(ValueError, match=r"layer 'MyScale' \(Scale\) cannot be exported"):
        fs_onnx.to_model(net)

    class LeakyRelu(Relu):  # a subclass may compute anything: refused too
        pass

    deep = DeepConvNet()
    deep.layers[1] = LeakyRelu()
    with pytest.raises(ValueError, match=r"layer 'layers\[1\]' \(LeakyRelu\)"):
        fs_onnx.to_model(deep)


def test_bad_arguments_name_themselves(tmp_path):
    net = TwoLayerNet(4, 3, 2)
    with pytest.raises(ValueError, match="opset must be between 13 and .*got 7"):
        fs_onnx.to_model(net, opset=7)
    with pytest.raises(TypeError, match="opset must be an int or None, got str"):
        fs_onnx.to_model(net, opset="17")
    with pytest.raises(ValueError, match="dtype must be float32, float64 or None, got int32"):
        fs_onnx.to_model(net, dtype=np.int32)
    with pytest.raises(TypeError, match="net must be one of the book's nets"):
        fs_onnx.to_model(object())
    with pytest.raises(TypeError, match="path must be a file name, got int"):
        fs_onnx.export(net, 3)
    with pytest.raises(ValueError, match=r"'Affine1' \(Affine\): W must have shape \(5, M\)"):
        fs_onnx.to_model(net, input_shape=(5,))
    with pytest.raises(ValueError, match="a 5x5 filter does not fit"):
        fs_onnx.to_model(SimpleConvNet(), dtype=np.float32, input_shape=(1, 3, 3))


def test_other_opsets_and_n_d_input_to_a_fully_connected_net(rng):
    net = make_net("extend", np.float32, rng)
    x = rng.random((3, 1, 28, 28), dtype=np.float32)  # the book's Affine flattens it
    for opset in (fs_onnx.MIN_OPSET, 19):
        model = fs_onnx.to_model(net, opset=opset, input_shape=(1, 28, 28))
        assert model.opset_import[0].version == opset
        assert_close(session(model).run(None, {"x": x})[0], net.predict(x))


@functools.cache
def _load_t10k(folder):
    x, t = load_mnist_split("test", normalize=True, flatten=False, data_dir=folder, download=False)
    x.flags.writeable = t.flags.writeable = False  # shared between tests
    return x, t


@pytest.fixture
def mnist_t10k(shared_data):
    return (shared_data, *_load_t10k(str(shared_data / "mnist")))


def _accuracies(net, sess, x, t, flatten):
    xs = x.reshape(len(x), -1) if flatten else x
    onnx_acc = np.mean(np.argmax(ort_predict(sess, xs), axis=1) == t)
    net_acc = net.accuracy(xs, t)
    return onnx_acc, net_acc


@pytest.mark.parametrize("kind", NETS)
def test_random_weights_give_predicts_accuracy_on_real_mnist(kind, rng, mnist_t10k):
    # All 10,000 test images, as for the pretrained nets below.
    _, x, t = mnist_t10k
    flatten = kind not in ("simple", "deep")
    net = make_net(kind, np.float32, rng)
    if kind == "extend":  # some steps on MNIST itself, so that the statistics are MNIST's
        _train_a_little(net, rng, x.reshape(-1, 784), t, steps=30)
    onnx_acc, net_acc = _accuracies(net, session(fs_onnx.to_model(net)), x, t, flatten)
    assert onnx_acc == net_acc
    if kind == "extend":
        assert onnx_acc > 0.6  # the trained statistics and weights are in use


@pytest.mark.parametrize(
    "cls, file, accuracy",
    [
        (SimpleConvNet, "simple_convnet_params.pkl", 0.9890),
        (DeepConvNet, "deep_convnet_params.pkl", 0.9935),
    ],
)
def test_book_pretrained_convnets_keep_their_accuracy_through_onnxruntime(
    cls, file, accuracy, mnist_t10k, tmp_path
):
    folder, x, t = mnist_t10k
    net = cls()
    net.load_params(folder / "book" / file)  # float64, as published
    with pytest.warns(UserWarning, match="no float64 Conv"):
        fs_onnx.export(net, tmp_path / "book.onnx")
    sess = ort.InferenceSession(str(tmp_path / "book.onnx"), providers=["CPUExecutionProvider"])
    scores = ort_predict(sess, x)  # all 10,000 images
    assert np.mean(np.argmax(scores, axis=1) == t) == accuracy
    assert relative_error(scores[:37], net.predict(x[:37])) <= 1e-5
    assert relative_error(scores[:1], net.predict(x[:1])) <= 1e-5


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "fastscratch", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "kind, cli_args",
    [
        ("two", ["--net", "two"]),
        ("multi-sigmoid", ["--net", "multi", "--activation", "sigmoid"]),
        ("extend", ["--net", "multi-extend", "--dropout", "0.3"]),
        ("simple", ["--net", "simple"]),
        ("deep", ["--net", "deep", "--dtype", "float32"]),
    ],
)
def test_cli_export_from_saved_params(kind, cli_args, rng, tmp_path):
    net = make_net(kind, np.float32, rng)
    params, model = tmp_path / "params.npz", tmp_path / "m.onnx"
    net.save_params(params)
    out = run_cli("export", *cli_args, "--params", params, "-o", model)
    assert out.returncode == 0, out.stderr
    assert "wrote" in out.stdout and "float32" in out.stdout
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    shape = (784,) if kind in ("two", "multi-sigmoid", "extend") else (1, 28, 28)
    x = rng.random((37, *shape), dtype=np.float32)
    assert_close(sess.run(None, {"x": x})[0], net.predict(x))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--net", "two", "--params", "/no/such.npz"], "--params: no such file"),
        (["--net", "multi", "--dropout", "0.5"], "--dropout applies to --net multi-extend only"),
        (["--net", "simple", "--input-dim", "28,28"], "--input-dim must be C,H,W"),
        (["--net", "deep", "--pad", "1"], "--pad applies to --net simple only"),
        (["--net", "simple", "--stride", "0"], "--stride must be >= 1"),
        (["--net", "deep"], "W1 must have shape (16, 1, 3, 3) for this net"),
    ],
)
def test_cli_mistakes_are_one_line_and_exit_status_2(args, message, tmp_path):
    params = tmp_path / "p.npz"
    TwoLayerNet(784, 20, 10).save_params(params)
    if "--params" not in args:
        args = args + ["--params", params]
    out = run_cli("export", *args, "-o", tmp_path / "m.onnx")
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr


def test_demo_exports_the_trained_net(tmp_path, write_mnist):
    data = write_mnist(tmp_path / "mnist", n_train=200, n_test=50)
    out = run_cli(
        "demo",
        "--data",
        data,
        "--epochs",
        "1",
        "--reference-steps",
        "0",
        "--export",
        tmp_path / "demo.onnx",
    )
    assert out.returncode == 0, out.stderr
    assert "demo.onnx" in out.stdout
    model = onnx.load(tmp_path / "demo.onnx")
    onnx.checker.check_model(model, full_check=True)
    assert fastscratch.onnx is fs_onnx


def test_a_failed_export_keeps_the_previous_model(tmp_path):
    # A write that fails half-way (here a file-size limit, as a full disk would): the model
    # exported before is still whole, and no temporary file is left.
    pytest.importorskip("onnx")
    import subprocess
    import sys
    import textwrap

    from fastscratch import onnx as onnx_export
    from fastscratch.two_layer_net import TwoLayerNet

    path = tmp_path / "m.onnx"
    onnx_export.export(TwoLayerNet(20, 10, 10, dtype=np.float32), path)
    before = path.read_bytes()
    code = textwrap.dedent(f"""
        import resource, signal, sys
        import numpy as np
        from fastscratch import onnx as onnx_export
        from fastscratch.two_layer_net import TwoLayerNet
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
        try:
            onnx_export.export(TwoLayerNet(784, 50, 10, dtype=np.float32), {str(path)!r})
        except OSError as exc:
            print("failed:", exc)
            sys.exit(0)
        sys.exit("the export did not fail")
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "failed:" in out.stdout, out.stdout + out.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
