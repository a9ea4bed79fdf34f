"""Export a trained net of the book to ONNX, so that it runs elsewhere (ONNX Runtime, other
frameworks) without fastscratch: `fastscratch.onnx.export(net, "model.onnx")`.

The graph chains `net.layers` in order, as the book's `predict(x)` (train_flg=False) does, and
outputs the scores (no softmax, as `predict`). Each layer maps to standard ONNX operators (the
table and the limits are in docs/onnx.md); a layer of any other class, a user's own included,
is refused with a ValueError naming it rather than exported wrongly.

Needs the `onnx` package (`pip install "fastscratch[onnx]"`), imported only when `export` runs:
the core install does not depend on it. This module is named after the format; `import onnx`
below is absolute, so it is the onnx package, not this file.
"""

import math
import os
import warnings

import numpy as np

from .layers import (
    BATCHNORM_EPS,
    Affine,
    BatchNormalization,
    Convolution,
    Dropout,
    Pooling,
    Relu,
    Sigmoid,
)

__all__ = ["export", "to_model", "DEFAULT_OPSET", "MIN_OPSET"]

# 17 is run by every ONNX Runtime since 1.13 and written by every onnx since 1.12, so the
# default model opens with the oldest versions the [onnx] extra admits. Below 13 some operators
# used here (Flatten, Gemm, BatchNormalization) had other type or attribute rules.
DEFAULT_OPSET = 17
MIN_OPSET = 13

# The book's MNIST images: the input size assumed for a convnet that does not say its own.
_BOOK_INPUT_DIM = (1, 28, 28)

_INSTALL_HINT = 'ONNX export needs the onnx package: pip install "fastscratch[onnx]"'


def _import_onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(f"{_INSTALL_HINT} ({exc})") from exc
    return onnx


def _named_layers(net):
    """(name, layer) pairs of net.layers: an OrderedDict's keys, or 'layers[i]' for the list
    DeepConvNet keeps."""
    layers = getattr(net, "layers", None)
    if layers is None:
        raise TypeError(
            f"net must be one of the book's nets (an object with `layers`), "
            f"got {type(net).__name__} without a `layers` attribute"
        )
    if hasattr(layers, "items"):
        pairs = [(str(name), layer) for name, layer in layers.items()]
    else:
        try:
            pairs = [(f"layers[{i}]", layer) for i, layer in enumerate(layers)]
        except TypeError:
            raise TypeError(
                f"net.layers must be an OrderedDict or a list of layers, "
                f"got {type(layers).__name__}"
            ) from None
    if not pairs:
        raise ValueError("net.layers is empty: there is nothing to export")
    # Exact classes: a subclass may compute something else in forward, which would be
    # exported silently wrong.
    for name, layer in pairs:
        if type(layer) not in _EMITTERS:
            known = ", ".join(cls.__name__ for cls in _EMITTERS)
            raise ValueError(
                f"layer {name!r} ({type(layer).__name__}) cannot be exported to ONNX: "
                f"the exporter maps only fastscratch's {known}"
            )
    return pairs


def _param_arrays(pairs):
    arrays = []
    for _, layer in pairs:
        for attr in ("W", "b", "gamma", "beta", "running_mean", "running_var"):
            value = getattr(layer, attr, None)
            if value is not None:
                arrays.append(np.asarray(value))
    return arrays


def _export_dtype(pairs, dtype, stacklevel):
    """The dtype of the graph: `dtype` when given, else the parameters' (float32 when ONNX
    Runtime's CPU operators have no float64 kernel for a layer: Conv has none). stacklevel:
    the user's frame, for the warning."""
    if dtype is not None:
        try:
            dt = np.dtype(dtype)
        except TypeError:
            raise ValueError(f"dtype must be float32, float64 or None, got {dtype!r}") from None
        if dt not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32, float64 or None, got {dt}")
        return dt
    arrays = _param_arrays(pairs)
    dt = np.result_type(*arrays) if arrays else np.dtype(np.float32)
    if dt != np.float64:
        return np.dtype(np.float32)
    if any(type(layer) is Convolution for _, layer in pairs):
        warnings.warn(
            "the net's parameters are float64, but ONNX Runtime's CPU provider has no float64 "
            "Conv, so the model is exported in float32 (its input and scores are float32); "
            "pass dtype=np.float64 to export float64 anyway",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
        return np.dtype(np.float32)
    return dt


def _input_shape(net, pairs, input_shape):
    """The shape of one sample: input_shape when given; for a net starting with an Affine, its
    W's row count; for a convnet, net.input_dim when it has one, else the book's (1, 28, 28)."""
    first_name, first = pairs[0]
    if input_shape is not None:
        try:
            shape = tuple(int(d) for d in input_shape)
        except (TypeError, ValueError):
            raise ValueError(
                f"input_shape must be a tuple of positive ints (one sample's shape), "
                f"got {input_shape!r}"
            ) from None
        if not shape or any(d < 1 for d in shape):
            raise ValueError(
                f"input_shape must be a tuple of positive ints (one sample's shape), "
                f"got {input_shape!r}"
            )
        return shape
    if type(first) is Affine:
        return (np.shape(first.W)[0],)
    if type(first) is Convolution:
        shape = getattr(net, "input_dim", None) or _BOOK_INPUT_DIM
        return tuple(int(d) for d in shape)
    raise ValueError(
        f"the input shape cannot be told from the first layer {first_name!r} "
        f"({type(first).__name__}): pass input_shape=(...) (one sample's shape)"
    )


class _Graph:
    """Nodes and initializers being built, with the static shape (batch axis excluded) of the
    current value."""

    def __init__(self, onnx, dtype):
        self.onnx = onnx
        self.dtype = dtype
        self.nodes = []
        self.initializers = []

    def const(self, name, value, dtype=None):
        from onnx import numpy_helper

        value = np.asarray(value, dtype=dtype or self.dtype)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op, inputs, output, name, **attrs):
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], name=name, **attrs))
        return output


def _fail(name, layer, message):
    raise ValueError(f"layer {name!r} ({type(layer).__name__}): {message}")


def _window_out(size, window, stride, pad):
    return (size + 2 * pad - window) // stride + 1


def _emit_affine(g, name, layer, x, shape):
    W, b = np.asarray(layer.W), np.asarray(layer.b)
    size = math.prod(shape)
    if W.ndim != 2 or W.shape[0] != size:
        _fail(name, layer, f"W must have shape ({size}, M) for an input of {shape}, got {W.shape}")
    if b.size != W.shape[1]:
        _fail(name, layer, f"b must have {W.shape[1]} elements, got shape {b.shape}")
    if len(shape) != 1:  # the book's Affine flattens (N, ...) to (N, -1)
        x = g.node("Flatten", [x], f"{name}.flat", f"{name}.Flatten", axis=1)
    w = g.const(f"{name}.W", W)
    c = g.const(f"{name}.b", b.reshape(-1))
    return g.node("Gemm", [x, w, c], f"{name}.out", f"{name}.Gemm"), (W.shape[1],)


def _emit_relu(g, name, layer, x, shape):
    return g.node("Relu", [x], f"{name}.out", f"{name}.Relu"), shape


def _emit_sigmoid(g, name, layer, x, shape):
    return g.node("Sigmoid", [x], f"{name}.out", f"{name}.Sigmoid"), shape


def _emit_dropout(g, name, layer, x, shape):
    # The book's inference: x * (1 - dropout_ratio), no rescaling at training time.
    scale = g.const(f"{name}.scale", 1.0 - layer.dropout_ratio)
    return g.node("Mul", [x, scale], f"{name}.out", f"{name}.Mul"), shape


def _emit_batchnorm(g, name, layer, x, shape):
    # Per activation over the flattened sample, like the layer: on (N, D) ONNX's
    # BatchNormalization normalises per column, which is the same thing.
    size = math.prod(shape)
    arrays = {}
    for attr in ("gamma", "beta", "running_mean", "running_var"):
        value = getattr(layer, attr)
        if value is None:  # never run forward: predict would start from zero statistics
            value = np.zeros(size)
        value = np.asarray(value).reshape(-1)
        if value.size != size:
            _fail(name, layer, f"{attr} must have {size} elements, got shape {value.shape}")
        arrays[attr] = g.const(f"{name}.{attr}", value)
    if len(shape) != 1:
        x = g.node("Flatten", [x], f"{name}.flat", f"{name}.Flatten", axis=1)
    out = g.node(
        "BatchNormalization",
        [x, arrays["gamma"], arrays["beta"], arrays["running_mean"], arrays["running_var"]],
        f"{name}.out" if len(shape) == 1 else f"{name}.norm",
        f"{name}.BatchNormalization",
        epsilon=BATCHNORM_EPS,
    )
    if len(shape) != 1:  # the layer returns its input's shape; 0 keeps the batch size
        target = g.const(f"{name}.shape", (0,) + tuple(shape), np.int64)
        out = g.node("Reshape", [out, target], f"{name}.out", f"{name}.Reshape")
    return out, shape


def _emit_conv(g, name, layer, x, shape):
    W, b = np.asarray(layer.W), np.asarray(layer.b)
    if len(shape) != 3:
        _fail(name, layer, f"needs (C, H, W) samples, got samples of shape {shape}")
    if W.ndim != 4 or W.shape[1] != shape[0]:
        _fail(name, layer, f"W must have shape (FN, {shape[0]}, FH, FW), got {W.shape}")
    if b.size != W.shape[0]:
        _fail(name, layer, f"b must have {W.shape[0]} elements, got shape {b.shape}")
    stride, pad = int(layer.stride), int(layer.pad)
    fh, fw = W.shape[2:]
    out_h, out_w = _window_out(shape[1], fh, stride, pad), _window_out(shape[2], fw, stride, pad)
    if out_h < 1 or out_w < 1:
        _fail(name, layer, f"a {fh}x{fw} filter does not fit samples of shape {shape}")
    out = g.node(
        "Conv",
        [x, g.const(f"{name}.W", W), g.const(f"{name}.b", b.reshape(-1))],
        f"{name}.out",
        f"{name}.Conv",
        kernel_shape=[fh, fw],
        strides=[stride, stride],
        pads=[pad, pad, pad, pad],
    )
    return out, (W.shape[0], out_h, out_w)


def _emit_pool(g, name, layer, x, shape):
    if len(shape) != 3:
        _fail(name, layer, f"needs (C, H, W) samples, got samples of shape {shape}")
    ph, pw, stride, pad = int(layer.pool_h), int(layer.pool_w), int(layer.stride), int(layer.pad)
    out_h, out_w = _window_out(shape[1], ph, stride, pad), _window_out(shape[2], pw, stride, pad)
    if out_h < 1 or out_w < 1:
        _fail(name, layer, f"a {ph}x{pw} window does not fit samples of shape {shape}")
    # MaxPool's padding never wins (it is -inf), as in the layer; floor rounding (ceil_mode 0)
    # is the layer's output size.
    out = g.node(
        "MaxPool",
        [x],
        f"{name}.out",
        f"{name}.MaxPool",
        kernel_shape=[ph, pw],
        strides=[stride, stride],
        pads=[pad, pad, pad, pad],
    )
    return out, (shape[0], out_h, out_w)


_EMITTERS = {
    Affine: _emit_affine,
    Relu: _emit_relu,
    Sigmoid: _emit_sigmoid,
    Dropout: _emit_dropout,
    BatchNormalization: _emit_batchnorm,
    Convolution: _emit_conv,
    Pooling: _emit_pool,
}


def to_model(net, opset=None, *, dtype=None, input_shape=None):
    """The ONNX ModelProto of `net` (see `export`), checked, not written."""
    return _model(net, opset, dtype, input_shape, stacklevel=3)


def _model(net, opset, dtype, input_shape, stacklevel):
    onnx = _import_onnx()
    from onnx import helper

    newest = onnx.defs.onnx_opset_version()
    if opset is None:
        opset = min(DEFAULT_OPSET, newest)
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise TypeError(f"opset must be an int or None, got {type(opset).__name__}")
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(
            f"opset must be between {MIN_OPSET} and {newest} (the newest this onnx "
            f"{onnx.__version__} knows), got {opset}"
        )
    pairs = _named_layers(net)
    dt = _export_dtype(pairs, dtype, stacklevel)
    shape = _input_shape(net, pairs, input_shape)
    elem = helper.np_dtype_to_tensor_dtype(dt)

    g = _Graph(onnx, dt)
    x = "x"
    in_shape = shape
    for name, layer in pairs:
        x, shape = _EMITTERS[type(layer)](g, name, layer, x, shape)
    g.nodes.append(helper.make_node("Identity", [x], ["scores"], name="scores"))

    graph = helper.make_graph(
        g.nodes,
        type(net).__name__,
        [helper.make_tensor_value_info("x", elem, ["N", *in_shape])],
        [helper.make_tensor_value_info("scores", elem, ["N", *shape])],
        g.initializers,
    )
    opsets = [helper.make_opsetid("", int(opset))]
    model = helper.make_model(
        graph,
        opset_imports=opsets,
        # The oldest IR version that carries this opset, so that older runtimes open the model.
        ir_version=helper.find_min_ir_version_for(opsets),
        producer_name="fastscratch",
        doc_string=f"{type(net).__name__}.predict(x) (train_flg=False): scores, no softmax",
    )
    onnx.checker.check_model(model, full_check=True)
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)


def export(net, path, opset=None, *, dtype=None, input_shape=None):
    """Write `net` (TwoLayerNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet, DeepConvNet)
    to `path` as an ONNX model computing `net.predict(x)` with train_flg=False.

    The graph's input `x` is (N, *input_shape) with a dynamic batch N, its output `scores`
    (N, output_size). opset: ONNX operator set (None: DEFAULT_OPSET). dtype: the graph's
    float type; None takes the parameters', except that a float64 convnet is exported as
    float32 with a warning (ONNX Runtime's CPU provider has no float64 Conv). input_shape: one
    sample's shape; None takes it from the first Affine, or the book's (1, 28, 28) for a
    convnet. Returns the checked ModelProto. Raises ValueError naming a layer that cannot be
    exported, ImportError when the onnx package is missing.
    """
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"path must be a file name, got {type(path).__name__}") from None
    model = _model(net, opset, dtype, input_shape, stacklevel=3)
    from .atomic_file import atomic_write

    # Through a temporary file: a failed export leaves a previous model whole.
    with atomic_write(path) as f:
        f.write(model.SerializeToString())
    return model
