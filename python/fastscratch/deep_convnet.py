"""The book's ch08 DeepConvNet (about 99.4% on MNIST):

    [conv - relu - conv - relu - pool] x 3 - affine - relu - dropout - affine - dropout - softmax

`layers` is a list, as in the book; the parameterised layers sit at indices
(0, 2, 5, 7, 10, 12, 15, 18) and hold W1..W8 / b1..b8.
"""

import numpy as np

from .layers import Affine, Convolution, Dropout, Pooling, Relu, SoftmaxWithLoss
from .net_common import backprop, batched_accuracy, conv_geometry, layer_size
from .params_io import ParamsIO
from .weight_init import normal_weight, param_dtype, zeros

__all__ = ["DeepConvNet"]

PARAM_LAYER_INDICES = (0, 2, 5, 7, 10, 12, 15, 18)


class DeepConvNet(ParamsIO):
    """He-initialised (std sqrt(2/fan_in), drawn W1..W8 in order from the global generator),
    biases zeros. The fan-ins are the layers' real ones (for the defaults exactly the book's
    [9, 144, 144, 288, 288, 576, 1024, 50]), and the first affine's input size follows from
    input_dim and the conv params (the book fixes it at 64*4*4). dtype (keyword): the
    parameters' dtype (None: float64, the book's; load_params then keeps the file's dtypes)."""

    def __init__(
        self,
        input_dim=(1, 28, 28),
        conv_param_1={'filter_num': 16, 'filter_size': 3, 'pad': 1, 'stride': 1},
        conv_param_2={'filter_num': 16, 'filter_size': 3, 'pad': 1, 'stride': 1},
        conv_param_3={'filter_num': 32, 'filter_size': 3, 'pad': 1, 'stride': 1},
        conv_param_4={'filter_num': 32, 'filter_size': 3, 'pad': 2, 'stride': 1},
        conv_param_5={'filter_num': 64, 'filter_size': 3, 'pad': 1, 'stride': 1},
        conv_param_6={'filter_num': 64, 'filter_size': 3, 'pad': 1, 'stride': 1},
        hidden_size=50,
        output_size=10,
        *,
        dtype=None,
    ):
        self._dtype = param_dtype(dtype)
        conv_params = [
            conv_param_1,
            conv_param_2,
            conv_param_3,
            conv_param_4,
            conv_param_5,
            conv_param_6,
        ]
        input_dim, conv_params = conv_geometry(
            input_dim, [(f"conv_param_{i}", p) for i, p in enumerate(conv_params, start=1)]
        )
        hidden_size = layer_size(hidden_size, "hidden_size")
        output_size = layer_size(output_size, "output_size")
        height, width = _output_image_size(input_dim, conv_params)
        self.params = {}
        channels = input_dim[0]
        for idx, conv_param in enumerate(conv_params, start=1):
            fn, fs = conv_param['filter_num'], conv_param['filter_size']
            std = np.sqrt(2.0 / (channels * fs * fs))
            self.params[f'W{idx}'] = normal_weight(std, (fn, channels, fs, fs), self._dtype)
            self.params[f'b{idx}'] = zeros(fn, self._dtype)
            channels = fn
        flat_size = channels * height * width  # 64*4*4 = 1024 for the defaults
        self.params['W7'] = normal_weight(
            np.sqrt(2.0 / flat_size), (flat_size, hidden_size), self._dtype
        )
        self.params['b7'] = zeros(hidden_size, self._dtype)
        self.params['W8'] = normal_weight(
            np.sqrt(2.0 / hidden_size), (hidden_size, output_size), self._dtype
        )
        self.params['b8'] = zeros(output_size, self._dtype)

        self.layers = []
        for idx, conv_param in enumerate(conv_params, start=1):
            self.layers.append(
                Convolution(
                    self.params[f'W{idx}'],
                    self.params[f'b{idx}'],
                    conv_param['stride'],
                    conv_param['pad'],
                )
            )
            self.layers.append(Relu())
            if idx % 2 == 0:
                self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
        self.layers.append(Affine(self.params['W7'], self.params['b7']))
        self.layers.append(Relu())
        self.layers.append(Dropout(0.5))
        self.layers.append(Affine(self.params['W8'], self.params['b8']))
        self.layers.append(Dropout(0.5))
        self.last_layer = SoftmaxWithLoss()

    def _bind_params(self):
        for i, layer_idx in enumerate(PARAM_LAYER_INDICES, start=1):
            self.layers[layer_idx].W = self.params[f'W{i}']
            self.layers[layer_idx].b = self.params[f'b{i}']

    def predict(self, x, train_flg=False):
        for layer in self.layers:
            if isinstance(layer, Dropout):
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t):
        """The training loss: dropout is active (random), as in the book."""
        return self.last_layer.forward(self.predict(x, train_flg=True), t)

    def accuracy(self, x, t, batch_size=100):
        return batched_accuracy(lambda xb: self.predict(xb, train_flg=False), x, t, batch_size)

    def gradient(self, x, t):
        self.loss(x, t)
        backprop(self.last_layer, self.layers)
        grads = {}
        for i, layer_idx in enumerate(PARAM_LAYER_INDICES, start=1):
            grads[f'W{i}'] = self.layers[layer_idx].dW
            grads[f'b{i}'] = self.layers[layer_idx].db
        return grads


def _output_image_size(input_dim, conv_params):
    """(height, width) of the images after the six convolutions and the three 2x2 stride-2
    poolings (one after every second conv). An input_dim they shrink to nothing is refused here,
    before any weight is drawn from the global generator (the book divides by zero, or fails at
    the first prediction)."""
    height, width = input_dim[1:]
    for idx, conv_param in enumerate(conv_params, start=1):
        fs, pad, stride = conv_param['filter_size'], conv_param['pad'], conv_param['stride']
        height = (height + 2 * pad - fs) // stride + 1
        width = (width + 2 * pad - fs) // stride + 1
        smallest = 2 if idx % 2 == 0 else 1  # the pooling after every second conv needs 2x2
        if height < smallest or width < smallest:
            raise ValueError(
                f"input_dim {tuple(input_dim)} is too small for DeepConvNet: conv_param_{idx} "
                f"leaves {max(height, 0)}x{max(width, 0)} images"
                + (" for its 2x2 pooling" if smallest == 2 else "")
            )
        if idx % 2 == 0:
            height, width = (height - 2) // 2 + 1, (width - 2) // 2 + 1
    return height, width
