"""The book's MultiLayerNetExtend (common/multi_layer_net_extend.py): MultiLayerNet with optional
Batch Normalization and Dropout in every hidden layer. The keyword `dropout_ration` keeps the
book's spelling."""

from collections import OrderedDict

import numpy as np

from .layers import Affine, BatchNormalization, Dropout, SoftmaxWithLoss
from .multi_layer_net import MultiLayerNet, activation_layer
from .net_common import accuracy, backprop, numerical_gradients

__all__ = ["MultiLayerNetExtend"]


class MultiLayerNetExtend(MultiLayerNet):
    """Per hidden layer: Affine{i} [-> BatchNorm{i}] -> Activation_function{i} [-> Dropout{i}].
    BatchNorm adds params gamma{i} (ones) and beta{i} (zeros). predict/loss default to
    train_flg=False (inference); gradient runs the training forward. save_params also stores
    the BatchNorm running statistics (as running_mean{i} / running_var{i}) once they exist."""

    def __init__(
        self,
        input_size,
        hidden_size_list,
        output_size,
        activation='relu',
        weight_init_std='relu',
        weight_decay_lambda=0,
        use_dropout=False,
        dropout_ration=0.5,
        use_batchnorm=False,
        *,
        dtype=None,
    ):
        # The parent builds params and the plain layers; this net's layer order differs, so the
        # layers are rebuilt here (no random draws happen after the weights).
        super().__init__(
            input_size,
            hidden_size_list,
            output_size,
            activation,
            weight_init_std,
            weight_decay_lambda,
            dtype=dtype,
        )
        self.use_dropout = use_dropout
        self.use_batchnorm = use_batchnorm

        self.layers = OrderedDict()
        for idx in range(1, self.hidden_layer_num + 1):
            self.layers[f'Affine{idx}'] = Affine(self.params[f'W{idx}'], self.params[f'b{idx}'])
            if use_batchnorm:
                size = hidden_size_list[idx - 1]
                self.params[f'gamma{idx}'] = np.ones(size, dtype=self._dtype or np.float64)
                self.params[f'beta{idx}'] = np.zeros(size, dtype=self._dtype or np.float64)
                # The layer would create float64 running statistics on its first forward; a
                # float32 net gets float32 ones (of the same size) now, so it stays float32.
                running = (
                    {}
                    if self._dtype is None
                    else {
                        'running_mean': np.zeros(size, self._dtype),
                        'running_var': np.zeros(size, self._dtype),
                    }
                )
                self.layers[f'BatchNorm{idx}'] = BatchNormalization(
                    self.params[f'gamma{idx}'], self.params[f'beta{idx}'], **running
                )
            self.layers[f'Activation_function{idx}'] = activation_layer(activation)
            if use_dropout:
                self.layers[f'Dropout{idx}'] = Dropout(dropout_ration)
        idx = self.hidden_layer_num + 1
        self.layers[f'Affine{idx}'] = Affine(self.params[f'W{idx}'], self.params[f'b{idx}'])
        self.last_layer = SoftmaxWithLoss()

    def _bind_params(self):
        super()._bind_params()
        if self.use_batchnorm:
            for idx in range(1, self.hidden_layer_num + 1):
                layer = self.layers[f'BatchNorm{idx}']
                layer.gamma, layer.beta = self.params[f'gamma{idx}'], self.params[f'beta{idx}']

    def _batchnorms(self):
        if not self.use_batchnorm:
            return []
        return [
            (idx, self.layers[f'BatchNorm{idx}']) for idx in range(1, self.hidden_layer_num + 1)
        ]

    def _saved_state(self):
        state = {}
        for idx, layer in self._batchnorms():
            if layer.running_mean is not None:
                state[f'running_mean{idx}'] = layer.running_mean
                state[f'running_var{idx}'] = layer.running_var
        return state

    def _state_shapes(self):
        shapes = {}
        for idx, _ in self._batchnorms():
            shape = (self.hidden_size_list[idx - 1],)
            shapes[f'running_mean{idx}'] = shapes[f'running_var{idx}'] = shape
        return shapes

    def _restore_state(self, arrays):
        for idx, layer in self._batchnorms():
            if f'running_mean{idx}' in arrays:
                layer.running_mean = arrays[f'running_mean{idx}']
            if f'running_var{idx}' in arrays:
                layer.running_var = arrays[f'running_var{idx}']

    def predict(self, x, train_flg=False):
        for key, layer in self.layers.items():
            if "Dropout" in key or "BatchNorm" in key:
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def loss(self, x, t, train_flg=False):
        return self.last_layer.forward(self.predict(x, train_flg), t) + self._weight_decay()

    def accuracy(self, x, t):
        return accuracy(self.predict(x, train_flg=False), t)

    def _param_keys(self):
        keys = []
        for idx in self._affine_indices():
            keys += [f'W{idx}', f'b{idx}']
            if self.use_batchnorm and idx != self.hidden_layer_num + 1:
                keys += [f'gamma{idx}', f'beta{idx}']
        return keys

    def numerical_gradient(self, x, t):
        """Central differences of the training-mode loss (random with dropout, so only meaningful
        without it, as in the book)."""
        return numerical_gradients(
            lambda: self.loss(x, t, train_flg=True), self.params, self._param_keys()
        )

    def gradient(self, x, t):
        self.loss(x, t, train_flg=True)
        backprop(self.last_layer, self.layers.values())
        grads = {}
        for idx in self._affine_indices():
            layer = self.layers[f'Affine{idx}']
            grads[f'W{idx}'] = layer.dW + self.weight_decay_lambda * layer.W
            grads[f'b{idx}'] = layer.db
            if self.use_batchnorm and idx != self.hidden_layer_num + 1:
                grads[f'gamma{idx}'] = self.layers[f'BatchNorm{idx}'].dgamma
                grads[f'beta{idx}'] = self.layers[f'BatchNorm{idx}'].dbeta
        return grads
