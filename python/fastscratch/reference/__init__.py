"""The reference backend: every kernel of `fastscratch.kernels` in plain NumPy.

Written to be obviously right rather than fast: it is the oracle the native kernels are tested
against. It never imports the native extension.
"""
from .patches import im2col, col2im
