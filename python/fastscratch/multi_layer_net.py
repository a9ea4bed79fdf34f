"""The book's MultiLayerNet (common/multi_layer_net.py): a fully connected net of any depth with
ReLU or sigmoid activations, He/Xavier/fixed-std init and L2 weight decay."""

from collections import OrderedDict

from .layers import Affine, Relu, Sigmoid, SoftmaxWithLoss
from .net_common import accuracy, backprop, forward, layer_size, numerical_gradients
from .params_io import ParamsIO
from .weight_init import normal_weight, param_dtype, weight_scale, zeros

__all__ = ["MultiLayerNet"]

ACTIVATIONS = {'sigmoid': Sigmoid, 'relu': Relu}


def activation_layer(activation):
    try:
        return ACTIVATIONS[activation]()
    except (KeyError, TypeError):
        raise ValueError(f"activation must be 'relu' or 'sigmoid', got {activation!r}") from None


class MultiLayerNet(ParamsIO):
    """input_size -> hidden_size_list... -> output_size. weight_init_std: 'relu'/'he' (std
    sqrt(2/n_in)), 'sigmoid'/'xavier' (sqrt(1/n_in)) or a number. weight_decay_lambda: L2
    strength, 0.5*lambda*sum(W**2) over every W added to the loss. dtype (keyword): the
    parameters' dtype (None: float64, the book's)."""

    def __init__(
        self,
        input_size,
        hidden_size_list,
        output_size,
        activation='relu',
        weight_init_std='relu',
        weight_decay_lambda=0,
        *,
        dtype=None,
    ):
        self._dtype = param_dtype(dtype)
        self.input_size = layer_size(input_size, "input_size")
        self.output_size = layer_size(output_size, "output_size")
        try:
            sizes = list(hidden_size_list)
        except TypeError:
            raise TypeError(
                f"hidden_size_list must be a list of sizes, got {hidden_size_list!r}"
            ) from None
        for i, size in enumerate(sizes):
            layer_size(size, f"hidden_size_list[{i}]")
        self.hidden_size_list = hidden_size_list
        self.hidden_layer_num = len(hidden_size_list)
        self.weight_decay_lambda = weight_decay_lambda
        self.params = {}
        self._init_weights(weight_init_std)

        self.layers = OrderedDict()
        for idx in range(1, self.hidden_layer_num + 1):
            self.layers[f'Affine{idx}'] = Affine(self.params[f'W{idx}'], self.params[f'b{idx}'])
            self.layers[f'Activation_function{idx}'] = activation_layer(activation)
        idx = self.hidden_layer_num + 1
        self.layers[f'Affine{idx}'] = Affine(self.params[f'W{idx}'], self.params[f'b{idx}'])
        self.last_layer = SoftmaxWithLoss()

    def _init_weights(self, weight_init_std):
        hidden = [int(size) for size in self.hidden_size_list]  # checked in __init__
        sizes = [self.input_size] + hidden + [self.output_size]
        for idx in range(1, len(sizes)):
            std = weight_scale(weight_init_std, sizes[idx - 1])
            self.params[f'W{idx}'] = normal_weight(std, (sizes[idx - 1], sizes[idx]), self._dtype)
            self.params[f'b{idx}'] = zeros(sizes[idx], self._dtype)

    def _affine_indices(self):
        return range(1, self.hidden_layer_num + 2)

    def _bind_params(self):
        for idx in self._affine_indices():
            layer = self.layers[f'Affine{idx}']
            layer.W, layer.b = self.params[f'W{idx}'], self.params[f'b{idx}']

    def _weight_decay(self):
        decay = 0
        for idx in self._affine_indices():
            W = self.params[f'W{idx}']
            # ndarray.sum is np.sum's own reduction (same bits) without its dispatch wrapper,
            # which costs more than the sum on the small nets of chapter 6's gradient checks.
            decay += 0.5 * self.weight_decay_lambda * (W**2).sum()
        return decay

    def predict(self, x):
        return forward(self.layers.values(), x)

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t) + self._weight_decay()

    def accuracy(self, x, t):
        return accuracy(self.predict(x), t)

    def numerical_gradient(self, x, t):
        keys = [key for idx in self._affine_indices() for key in (f'W{idx}', f'b{idx}')]
        return numerical_gradients(lambda: self.loss(x, t), self.params, keys)

    def gradient(self, x, t):
        self.loss(x, t)
        backprop(self.last_layer, self.layers.values())
        grads = {}
        for idx in self._affine_indices():
            layer = self.layers[f'Affine{idx}']
            grads[f'W{idx}'] = layer.dW + self.weight_decay_lambda * layer.W
            grads[f'b{idx}'] = layer.db
        return grads
