"""The book's pretrained weights on the real MNIST test set give the book's accuracies exactly:
ch03's sample_weight.pkl 0.9352, ch07's SimpleConvNet params 0.9890, ch08's DeepConvNet params
0.9935 (the original 2016 pickles, in ../shared/data; skipped when absent).

Slow on the reference backend, where DeepConvNet classifies the 10,000 images in NumPy; quick on
the native backend.
"""

import functools

import numpy as np

from fastscratch import safe_pickle
from fastscratch.dataset.mnist import load_mnist_split
from fastscratch.deep_convnet import DeepConvNet
from fastscratch.functions import softmax
from fastscratch.layers import Affine, Sigmoid
from fastscratch.simple_convnet import SimpleConvNet


@functools.cache
def mnist_test(data_dir, flatten):
    x, t = load_mnist_split(
        'test', normalize=True, flatten=flatten, data_dir=data_dir, download=False
    )
    x.flags.writeable = t.flags.writeable = False  # shared between tests
    return x, t


def test_ch03_sample_weight_reaches_0_9352(backend, shared_data):
    x, t = mnist_test(str(shared_data / 'mnist'), True)
    params = safe_pickle.load(shared_data / 'book' / 'sample_weight.pkl')
    assert params['W1'].dtype == np.float32 and params['W1'].flags.f_contiguous
    layers = [
        Affine(params['W1'], params['b1']),
        Sigmoid(),
        Affine(params['W2'], params['b2']),
        Sigmoid(),
        Affine(params['W3'], params['b3']),
    ]
    correct = 0
    for start in range(0, len(x), 100):
        y = x[start : start + 100]
        for layer in layers:
            y = layer.forward(y)
        y = softmax(y)
        assert y.dtype == np.float32  # the book computes this net in float32
        correct += np.sum(np.argmax(y, axis=1) == t[start : start + 100])
    assert correct == 9352
    assert correct / len(x) == 0.9352


def test_simple_convnet_book_params_reach_0_9890(backend, shared_data):
    x, t = mnist_test(str(shared_data / 'mnist'), False)
    net = SimpleConvNet()
    net.load_params(shared_data / 'book' / 'simple_convnet_params.pkl')
    assert net.accuracy(x, t, batch_size=100) == 0.9890


def test_deep_convnet_book_params_reach_0_9935_slow_on_reference(backend, shared_data):
    # About a minute on the reference backend (plain NumPy im2col convolutions).
    x, t = mnist_test(str(shared_data / 'mnist'), False)
    net = DeepConvNet()
    net.load_params(shared_data / 'book' / 'deep_convnet_params.pkl')
    assert net.accuracy(x, t, batch_size=100) == 0.9935
