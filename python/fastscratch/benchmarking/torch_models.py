"""PyTorch twins of the book's SimpleConvNet, DeepConvNet, TwoLayerNet and MultiLayerNet for the
benchmark's third column: the same layer shapes and order, cross-entropy loss and
torch.optim.Adam, as a PyTorch user would write them (with torch's default init: the timings do
not depend on the weights' values). Imported only when torch imports; fastscratch never depends
on torch."""

import torch
from torch import nn

from .cases import MULTI_LAYER_HIDDEN

LEARNING_RATE = 0.001  # ch07 and ch08 train with Adam(lr=0.001)


class SimpleConvNet(nn.Module):
    """conv(30, 5x5) - relu - pool 2x2 - affine(4320->100) - relu - affine(100->10)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 30, 5)
        self.affine1 = nn.Linear(30 * 12 * 12, 100)
        self.affine2 = nn.Linear(100, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2, 2)
        x = torch.relu(self.affine1(x.flatten(1)))
        return self.affine2(x)


class DeepConvNet(nn.Module):
    """[conv-relu-conv-relu-pool] x 3 (3x3 filters 16, 16, 32, 32 (pad 2), 64, 64) -
    affine(1024->50) - relu - dropout - affine(50->10) - dropout."""

    def __init__(self):
        super().__init__()
        specs = [(1, 16, 1), (16, 16, 1), (16, 32, 1), (32, 32, 2), (32, 64, 1), (64, 64, 1)]
        self.convs = nn.ModuleList(
            nn.Conv2d(c_in, c_out, 3, padding=pad) for c_in, c_out, pad in specs
        )
        self.affine1 = nn.Linear(64 * 4 * 4, 50)
        self.affine2 = nn.Linear(50, 10)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x):
        for i, conv in enumerate(self.convs):
            x = torch.relu(conv(x))
            if i % 2 == 1:
                x = torch.max_pool2d(x, 2, 2)
        x = self.dropout(torch.relu(self.affine1(x.flatten(1))))
        return self.dropout(self.affine2(x))


class TwoLayerNet(nn.Module):
    """affine(784->50) - relu - affine(50->10), the book's ch05 net on flattened MNIST."""

    def __init__(self):
        super().__init__()
        self.affine1 = nn.Linear(784, 50)
        self.affine2 = nn.Linear(50, 10)

    def forward(self, x):
        return self.affine2(torch.relu(self.affine1(x)))


class MultiLayerNet(nn.Module):
    """[affine - relu] x 6 (784->100, then 100->100) - affine(100->10), the book's ch06
    MultiLayerNet with hidden_size_list=MULTI_LAYER_HIDDEN."""

    def __init__(self):
        super().__init__()
        sizes = [784] + MULTI_LAYER_HIDDEN
        self.hidden = nn.ModuleList(nn.Linear(n_in, n_out) for n_in, n_out in zip(sizes, sizes[1:]))
        self.output = nn.Linear(sizes[-1], 10)

    def forward(self, x):
        for affine in self.hidden:
            x = torch.relu(affine(x))
        return self.output(x)


MODELS = {
    "SimpleConvNet": SimpleConvNet,
    "DeepConvNet": DeepConvNet,
    "TwoLayerNet": TwoLayerNet,
    "MultiLayerNet": MultiLayerNet,
}


def build(net_name, dtype):
    """(model, optimizer) for `net_name` in the torch dtype `dtype`."""
    model = MODELS[net_name]().to(dtype)
    return model, torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)


def train_step(model, optimizer, x, t):
    """One gradient + Adam update, the book's `gradient` then `optimizer.update`."""
    model.train()
    optimizer.zero_grad(set_to_none=False)
    loss = nn.functional.cross_entropy(model(x), t)
    loss.backward()
    optimizer.step()
    return loss


def predict(model, x):
    """Raw scores in inference mode (no autograd graph, dropout off)."""
    model.eval()
    with torch.inference_mode():
        return model(x)
