"""The book's ch07 SimpleConvNet: conv - relu - pool - affine - relu - affine - softmax."""

from collections import OrderedDict

from .layers import Affine, Convolution, Pooling, Relu, SoftmaxWithLoss
from .net_common import (
    backprop,
    batched_accuracy,
    conv_geometry,
    forward,
    layer_size,
    numerical_gradients,
)
from .params_io import ParamsIO
from .weight_init import normal_weight, param_dtype, zeros

__all__ = ["SimpleConvNet"]


class SimpleConvNet(ParamsIO):
    """input_dim (C, H, W); conv_param: filter_num, filter_size, pad, stride; weights
    weight_init_std * randn (W1, W2, W3 in that order), biases zeros. dtype (keyword): the
    parameters' dtype (None: float64, the book's; load_params then keeps the file's dtypes)."""

    def __init__(
        self,
        input_dim=(1, 28, 28),
        conv_param={'filter_num': 30, 'filter_size': 5, 'pad': 0, 'stride': 1},
        hidden_size=100,
        output_size=10,
        weight_init_std=0.01,
        *,
        dtype=None,
    ):
        self._dtype = param_dtype(dtype)
        input_dim, (checked,) = conv_geometry(input_dim, [("conv_param", conv_param)])
        hidden_size = layer_size(hidden_size, "hidden_size")
        output_size = layer_size(output_size, "output_size")
        filter_num = checked['filter_num']
        filter_size = checked['filter_size']
        filter_pad = checked['pad']
        filter_stride = checked['stride']
        input_size = input_dim[1]
        # The book's arithmetic (a float; the pooled size assumes an even conv output).
        conv_output_size = (input_size - filter_size + 2 * filter_pad) / filter_stride + 1
        if not (conv_output_size >= 2 and conv_output_size % 2 == 0):
            # The book's arithmetic below sizes W2 for a 2x2 pooling of an even output; any other
            # net failed at its first prediction (or drew weights of a negative size).
            raise ValueError(
                f"SimpleConvNet needs an even convolution output of at least 2 for its 2x2 "
                f"pooling, got {conv_output_size:g} from input_dim {input_dim} and conv_param "
                f"{checked} ((H - filter_size + 2*pad) / stride + 1)"
            )
        pool_output_size = int(filter_num * (conv_output_size / 2) * (conv_output_size / 2))

        std, dt = weight_init_std, self._dtype
        self.params = {}
        self.params['W1'] = normal_weight(
            std, (filter_num, input_dim[0], filter_size, filter_size), dt
        )
        self.params['b1'] = zeros(filter_num, dt)
        self.params['W2'] = normal_weight(std, (pool_output_size, hidden_size), dt)
        self.params['b2'] = zeros(hidden_size, dt)
        self.params['W3'] = normal_weight(std, (hidden_size, output_size), dt)
        self.params['b3'] = zeros(output_size, dt)

        self.layers = OrderedDict()
        self.layers['Conv1'] = Convolution(
            self.params['W1'], self.params['b1'], filter_stride, filter_pad
        )
        self.layers['Relu1'] = Relu()
        self.layers['Pool1'] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers['Affine1'] = Affine(self.params['W2'], self.params['b2'])
        self.layers['Relu2'] = Relu()
        self.layers['Affine2'] = Affine(self.params['W3'], self.params['b3'])
        self.last_layer = SoftmaxWithLoss()

    _PARAM_LAYERS = (('Conv1', 1), ('Affine1', 2), ('Affine2', 3))

    def _bind_params(self):
        for name, idx in self._PARAM_LAYERS:
            layer = self.layers[name]
            layer.W, layer.b = self.params[f'W{idx}'], self.params[f'b{idx}']

    def predict(self, x):
        return forward(self.layers.values(), x)

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x, t, batch_size=100):
        return batched_accuracy(self.predict, x, t, batch_size)

    def numerical_gradient(self, x, t):
        keys = [key for idx in (1, 2, 3) for key in (f'W{idx}', f'b{idx}')]
        return numerical_gradients(lambda: self.loss(x, t), self.params, keys)

    def gradient(self, x, t):
        self.loss(x, t)
        backprop(self.last_layer, self.layers.values())
        grads = {}
        for name, idx in self._PARAM_LAYERS:
            grads[f'W{idx}'] = self.layers[name].dW
            grads[f'b{idx}'] = self.layers[name].db
        return grads
