"""PyTorch twins of the book's SimpleConvNet and DeepConvNet for the benchmark's third column:
the same layer shapes and order, cross-entropy loss and torch.optim.Adam, as a PyTorch user would
write them. Imported only when torch imports; fastscratch never depends on torch."""
import torch
from torch import nn

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
        self.convs = nn.ModuleList(nn.Conv2d(c_in, c_out, 3, padding=pad)
                                   for c_in, c_out, pad in specs)
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


MODELS = {"SimpleConvNet": SimpleConvNet, "DeepConvNet": DeepConvNet}


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
