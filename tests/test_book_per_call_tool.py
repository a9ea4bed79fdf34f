"""scripts/book_per_call.py, the per-call comparison of the book's layers, functions and nets with
fastscratch's, on a fake "book" whose common/ and chapter modules are fastscratch's own (no book
needed): every case runs on both sides and agrees; a layer that computes something else is
reported as different numbers, with exit status 1."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

TOOL = Path(__file__).resolve().parents[1] / "scripts" / "book_per_call.py"

FAKE_BOOK = {
    "common/__init__.py": "",
    "common/functions.py": "from fastscratch.functions import *\n",
    "common/gradient.py": "from fastscratch.gradient import *\n",
    "common/layers.py": "from fastscratch.layers import *\n",
    "common/multi_layer_net_extend.py": "from fastscratch.multi_layer_net_extend import *\n",
    "ch05/two_layer_net.py": "from fastscratch.two_layer_net import TwoLayerNet\n",
    "ch07/simple_convnet.py": "from fastscratch.simple_convnet import SimpleConvNet\n",
    # chapter 4's sigmoid net in the book's manner: it imports common.* (the tool maps those to
    # fastscratch on its fastscratch side)
    "ch04/two_layer_net.py": """\
        import os, sys
        sys.path.append(os.pardir)
        import numpy as np
        from common.functions import sigmoid, softmax, cross_entropy_error


        class TwoLayerNet:
            def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
                self.params = {
                    "W1": weight_init_std * np.random.randn(input_size, hidden_size),
                    "b1": np.zeros(hidden_size),
                    "W2": weight_init_std * np.random.randn(hidden_size, output_size),
                    "b2": np.zeros(output_size),
                }

            def loss(self, x, t):
                p = self.params
                a = sigmoid(np.dot(x, p["W1"]) + p["b1"])
                return cross_entropy_error(softmax(np.dot(a, p["W2"]) + p["b2"]), t)
        """,
}


def make_fake_book(root, layers=None):
    for rel, text in FAKE_BOOK.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    if layers is not None:
        (root / "common" / "layers.py").write_text(textwrap.dedent(layers))
    return root


def per_call(*args):
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )


def rows(markdown):
    return {
        cells[0]: cells[1:]
        for line in markdown.splitlines()
        if line.startswith("| ") and not line.startswith("| call")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }


def test_every_case_runs_on_both_sides_and_agrees(tmp_path):
    out = per_call(make_fake_book(tmp_path / "book"), "--repeats", "1", "--target", "1000")
    assert out.returncode == 0, out.stderr
    table = rows(out.stdout)
    for name in (
        "Relu (3,50) backward",
        "Dropout (3,50) forward",
        "BatchNormalization (1,100) train backward",
        "Convolution (1,1,10,10)x(10,1,3,3) forward",
        "cross_entropy_error (3,10) labels",
        "ch04 TwoLayerNet.loss (3,784)",
        "ch07 SimpleConvNet.gradient (1,1,10,10)",
    ):
        assert name in table
    assert len(table) >= 25
    assert all(cells[-1] == "yes" for cells in table.values()), out.stdout
    assert "best of 1 interleaved rounds" in out.stdout and "- machine: " in out.stdout


def test_a_layer_that_computes_something_else_is_reported(tmp_path):
    layers = """\
        from fastscratch.layers import *
        import fastscratch.layers


        class Relu(fastscratch.layers.Relu):
            def forward(self, x):
                return super().forward(x) * 2
        """
    book = make_fake_book(tmp_path / "book", layers=layers)
    out = per_call(book, "--repeats", "1", "--target", "1000", "--only", "Relu")
    assert out.returncode == 1
    table = rows(out.stdout)
    assert table["Relu (3,50) forward"][-1] == "**no**"
    assert table["Relu (3,50) backward"][-1] == "yes"


def test_a_folder_that_is_not_the_book_is_refused(tmp_path):
    out = per_call(tmp_path)
    assert out.returncode == 2
    assert "neither a checkout of the book" in out.stderr
