"""Edge cases across whole nets, on both backends: a batch of 0 flows through predict and
gradient, and a NaN in the input propagates to that sample's scores only."""

import numpy as np
import pytest

from fastscratch import DeepConvNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet, TwoLayerNet

NETS = {
    "simple": lambda: SimpleConvNet(
        input_dim=(1, 10, 10),
        conv_param={"filter_num": 3, "filter_size": 3, "pad": 0, "stride": 1},
        hidden_size=6,
    ),
    "deep": lambda: DeepConvNet(),
    "two_layer": lambda: TwoLayerNet(100, 8, 10),
    "multi": lambda: MultiLayerNet(100, [8, 8], 10),
    "extend": lambda: MultiLayerNetExtend(100, [8], 10, use_batchnorm=True),
}


def _input(kind, n):
    shape = {"simple": (n, 1, 10, 10), "deep": (n, 1, 28, 28)}.get(kind, (n, 100))
    return np.random.default_rng(0).random(shape)


@pytest.mark.parametrize("kind", sorted(NETS))
def test_a_batch_of_zero_flows_through_predict_and_gradient(backend, kind):
    np.random.seed(0)
    net = NETS[kind]()
    x, t = _input(kind, 0), np.zeros(0, np.int64)
    assert net.predict(x).shape == (0, 10)
    if kind == "extend":
        return  # batch statistics of no samples are undefined: the layer refuses (tested there)
    grads = net.gradient(x, t)
    for key, value in grads.items():
        assert value.shape == net.params[key].shape
        assert not np.any(value)


@pytest.mark.parametrize("kind", sorted(NETS))
def test_a_nan_pixel_spoils_only_its_own_sample(backend, kind):
    np.random.seed(0)
    net = NETS[kind]()
    x = _input(kind, 3)
    x.reshape(3, -1)[1, 7] = np.nan
    scores = net.predict(x)
    assert np.isnan(scores[1]).any()
    assert np.isfinite(scores[[0, 2]]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_loss_of_a_batch_of_zero_is_nan_without_a_warning_on_both_backends(dtype):
    # The reference warned "invalid value encountered in scalar divide" (0/0); native did not.
    import warnings

    from fastscratch import use_backend
    from fastscratch.layers import SoftmaxWithLoss

    for name in ("native", "reference"):
        with use_backend(name), warnings.catch_warnings():
            warnings.simplefilter("error")
            loss = SoftmaxWithLoss().forward(np.zeros((0, 10), dtype), np.zeros(0, np.int64))
        assert np.isnan(loss) and loss.dtype == dtype, name
