"""Data sets for the book's code: `fastscratch.dataset.mnist` stands in for the book's
`dataset/mnist.py` (same `load_mnist`, validated IDX reading, no pickle cache)."""

from .mnist import load_mnist

__all__ = ["load_mnist"]
