"""Export a net's saved parameters to ONNX (needs `pip install "fastscratch[onnx]"`).

The layer sizes come from the parameter file (.npz or the book's pickle); what the file cannot
tell is an option: --activation and --dropout for multi and multi-extend (batch norm is used when
the file holds gamma1), --pad/--stride of SimpleConvNet's convolution (the book's 0 and 1),
--input-dim of a convnet (the book's 1,28,28). DeepConvNet is the book's architecture.
The graph computes predict(x) (train_flg=False): input x (N, ...), output scores (N, classes).
"""

import os
import re

from . import UsageError, check_output

NETS = ("two", "multi", "multi-extend", "simple", "deep")


def add_arguments(parser):
    parser.add_argument("--net", choices=NETS, required=True, help="which of the book's nets")
    parser.add_argument(
        "--params", metavar="FILE", required=True, help="its saved parameters (.npz or .pkl)"
    )
    parser.add_argument("-o", "--output", metavar="FILE", required=True, help="the .onnx to write")
    parser.add_argument(
        "--activation",
        choices=("relu", "sigmoid"),
        default="relu",
        help="multi, multi-extend: the hidden activation (relu)",
    )
    parser.add_argument(
        "--dropout",
        type=float,
        default=None,
        metavar="RATIO",
        help="multi-extend: the dropout ratio it was trained with (default: no dropout)",
    )
    parser.add_argument("--pad", type=int, default=0, help="simple: the convolution's pad (0)")
    parser.add_argument("--stride", type=int, default=1, help="simple: its stride (1)")
    parser.add_argument(
        "--input-dim",
        default="1,28,28",
        metavar="C,H,W",
        help="simple, deep: one image's shape (1,28,28)",
    )
    parser.add_argument(
        "--dtype",
        choices=("auto", "float32", "float64"),
        default="auto",
        help="the model's float type (auto: the parameters'; float32 for a float64 convnet, "
        "as ONNX Runtime has no float64 Conv on CPU)",
    )
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset (17)")


def _input_dim(text):
    parts = re.split(r"[,x ]+", text.strip())
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if len(dims) != 3 or min(dims) < 1:
        raise UsageError(f"--input-dim must be C,H,W (three positive ints), got {text!r}")
    return dims


def _sizes(params, prefix="W"):
    """The shapes of W1, W2, ... in order, as far as they go."""
    shapes, idx = [], 1
    while f"{prefix}{idx}" in params:
        shapes.append(params[f"{prefix}{idx}"].shape)
        idx += 1
    return shapes


def build_net(args, params):
    """(net, input_shape): the net of kind args.net whose sizes fit `params` (not yet loaded),
    and one sample's shape for a convnet (None: the exporter takes it from the net)."""
    from .. import (
        DeepConvNet,
        MultiLayerNet,
        MultiLayerNetExtend,
        SimpleConvNet,
        TwoLayerNet,
    )

    shapes = _sizes(params)
    if args.net in ("two", "multi", "multi-extend"):
        if not shapes or any(len(s) != 2 for s in shapes):
            raise UsageError(
                f"--params {args.params}: a fully connected net needs 2-D W1, W2, ...; "
                f"got {', '.join(f'{k} {v.shape}' for k, v in params.items()) or 'nothing'}"
            )
        sizes = [shapes[0][0]] + [s[1] for s in shapes]
        if args.net == "two":
            if len(shapes) != 2:
                raise UsageError(
                    f"--params {args.params}: TwoLayerNet has W1 and W2, got {len(shapes)} W's"
                )
            return TwoLayerNet(*sizes), None
        if args.net == "multi":
            return (
                MultiLayerNet(sizes[0], sizes[1:-1], sizes[-1], activation=args.activation),
                None,
            )
        net = MultiLayerNetExtend(
            sizes[0],
            sizes[1:-1],
            sizes[-1],
            activation=args.activation,
            use_dropout=args.dropout is not None,
            dropout_ration=0.5 if args.dropout is None else args.dropout,
            use_batchnorm="gamma1" in params,
        )
        return net, None
    input_dim = _input_dim(args.input_dim)
    if args.net == "simple":
        if len(shapes) != 3 or len(shapes[0]) != 4 or len(shapes[2]) != 2:
            raise UsageError(
                f"--params {args.params}: SimpleConvNet has W1 (FN, C, FH, FW), W2 and W3"
            )
        fn, _, fs, _ = shapes[0]
        conv = {"filter_num": fn, "filter_size": fs, "pad": args.pad, "stride": args.stride}
        net = SimpleConvNet(input_dim, conv, shapes[2][0], shapes[2][1])
    else:
        net = DeepConvNet(input_dim)
    return net, input_dim


def _check(args):
    if not os.path.isfile(args.params):
        raise UsageError(f"--params: no such file: {args.params}")
    if args.dropout is not None and not 0 <= args.dropout < 1:
        raise UsageError(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.dropout is not None and args.net != "multi-extend":
        raise UsageError(f"--dropout applies to --net multi-extend only, got --net {args.net}")
    for name, default in (("pad", 0), ("stride", 1)):
        if getattr(args, name) != default and args.net != "simple":
            raise UsageError(f"--{name} applies to --net simple only, got --net {args.net}")
        if getattr(args, name) < default:
            raise UsageError(f"--{name} must be >= {default}, got {getattr(args, name)}")
    check_output("-o", args.output)


def run(args):
    _check(args)
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise UsageError('export needs the onnx package: pip install "fastscratch[onnx]"') from None
    from .. import onnx as onnx_export
    from ..params_io import load_params

    try:
        params = load_params(args.params)
        net, input_shape = build_net(args, params)
        net.load_params(args.params)
    except (ValueError, TypeError, OSError) as exc:
        raise UsageError(f"--params {args.params}: {exc}") from None
    dtype = None if args.dtype == "auto" else args.dtype
    try:
        model = onnx_export.export(
            net, args.output, opset=args.opset, dtype=dtype, input_shape=input_shape
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    graph = model.graph
    elem = graph.input[0].type.tensor_type.elem_type
    import onnx

    dims = [d.dim_param or str(d.dim_value) for d in graph.input[0].type.tensor_type.shape.dim]
    print(
        f"wrote {args.output}: {type(net).__name__}, {len(graph.node)} nodes, input x "
        f"({', '.join(dims)}) {onnx.helper.tensor_dtype_to_np_dtype(elem)}, "
        f"opset {model.opset_import[0].version}"
    )
    return 0
