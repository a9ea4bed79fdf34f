"""The book's ch05 TwoLayerNet: Affine - Relu - Affine - SoftmaxWithLoss, with backprop and
numerical gradients. Note `lastLayer` (camelCase), as in the book."""

from collections import OrderedDict

from .layers import Affine, Relu, SoftmaxWithLoss
from .net_common import accuracy, backprop, forward, layer_size, numerical_gradients
from .params_io import ParamsIO
from .weight_init import normal_weight, param_dtype, zeros

__all__ = ["TwoLayerNet"]


class TwoLayerNet(ParamsIO):
    """input_size -> hidden_size (ReLU) -> output_size. Weights weight_init_std * randn from
    the global generator (W1 then W2), biases zeros. dtype (keyword): the parameters' dtype
    (None: float64, the book's)."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, *, dtype=None):
        self._dtype = param_dtype(dtype)
        input_size = layer_size(input_size, "input_size")
        hidden_size = layer_size(hidden_size, "hidden_size")
        output_size = layer_size(output_size, "output_size")
        self.params = {}
        self.params['W1'] = normal_weight(weight_init_std, (input_size, hidden_size), self._dtype)
        self.params['b1'] = zeros(hidden_size, self._dtype)
        self.params['W2'] = normal_weight(weight_init_std, (hidden_size, output_size), self._dtype)
        self.params['b2'] = zeros(output_size, self._dtype)

        self.layers = OrderedDict()
        self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])
        self.layers['Relu1'] = Relu()
        self.layers['Affine2'] = Affine(self.params['W2'], self.params['b2'])
        self.lastLayer = SoftmaxWithLoss()

    def _bind_params(self):
        for i in (1, 2):
            layer = self.layers[f'Affine{i}']
            layer.W, layer.b = self.params[f'W{i}'], self.params[f'b{i}']

    def predict(self, x):
        return forward(self.layers.values(), x)

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def accuracy(self, x, t):
        return accuracy(self.predict(x), t)

    def numerical_gradient(self, x, t):
        return numerical_gradients(lambda: self.loss(x, t), self.params, ('W1', 'b1', 'W2', 'b2'))

    def gradient(self, x, t):
        self.loss(x, t)
        backprop(self.lastLayer, self.layers.values())
        grads = {}
        for i in (1, 2):
            grads[f'W{i}'] = self.layers[f'Affine{i}'].dW
            grads[f'b{i}'] = self.layers[f'Affine{i}'].db
        return grads
