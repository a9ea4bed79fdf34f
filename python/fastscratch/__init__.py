"""fastscratch: the layers of "Deep Learning from Scratch" with C kernels, drop-in.

Replace `from common.layers import *` with `from fastscratch.layers import *`. Kernels run on
the 'native' backend (C, OpenMP, OpenBLAS) unless `set_backend('reference')` picks the pure-NumPy
oracle. See `show_config()` for what this build runs on.
"""
import os as _os

# Idle OpenMP workers that spin steal the cores OpenBLAS needs right after them (measured 2.3x
# slower on 2 cores); a passive wait policy must be set before libgomp loads.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Likewise OpenBLAS's own workers spin for 2**28 cycles (~0.1 s) after each product by default,
# taking the cores from the OpenMP loops that follow; 2**20 cycles (~0.4 ms) made a SimpleConvNet
# train step 1.5x and a DeepConvNet step 1.75x faster on 2 cores (docs/performance.md). Read
# when the library loads, so it must be set before scipy_openblas32 is imported below.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")

try:
    # Loads the BLAS globally first, so that an editable build (whose extension's rpath does
    # not reach site-packages) finds it too.
    import scipy_openblas32 as _scipy_openblas32  # noqa: F401
    from . import _native  # noqa: F401
except ImportError as _exc:  # pragma: no cover - exercised only by a broken install
    raise ImportError(
        "fastscratch's native extension could not be loaded "
        f"({_exc}). Reinstall with `pip install --force-reinstall --no-cache-dir fastscratch` "
        "(from a checkout: `pip install .`), which needs a C compiler; "
        "fastscratch never falls back to the slow reference backend silently.") from _exc

from ._native._build_info import version as __version__
from .backend import get_backend, set_backend, use_backend
from .threads import set_num_threads, get_num_threads, set_adaptive_threads, get_adaptive_threads
from .config import show_config

__all__ = ["__version__", "get_backend", "set_backend", "use_backend", "set_num_threads",
           "get_num_threads", "set_adaptive_threads", "get_adaptive_threads", "show_config"]

# The book's API at the top level too (`from fastscratch import Affine, Adam`).
from .layers import (Relu, Sigmoid, Affine, SoftmaxWithLoss, Dropout,  # noqa: E402
                     BatchNormalization, Convolution, Pooling)
from .optimizer import SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam  # noqa: E402

__all__ += ["Relu", "Sigmoid", "Affine", "SoftmaxWithLoss", "Dropout", "BatchNormalization",
            "Convolution", "Pooling", "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]

# The book's nets and Trainer (`from fastscratch import SimpleConvNet, Trainer`).
from .two_layer_net import TwoLayerNet  # noqa: E402
from .multi_layer_net import MultiLayerNet  # noqa: E402
from .multi_layer_net_extend import MultiLayerNetExtend  # noqa: E402
from .simple_convnet import SimpleConvNet  # noqa: E402
from .deep_convnet import DeepConvNet  # noqa: E402
from .trainer import Trainer  # noqa: E402

__all__ += ["TwoLayerNet", "MultiLayerNet", "MultiLayerNetExtend", "SimpleConvNet",
            "DeepConvNet", "Trainer"]
