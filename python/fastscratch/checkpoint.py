"""Checkpoints of a training run (`Trainer(checkpoint=...)`, `Trainer.resume`): everything a
run needs to go on as if it had never stopped, in one `.npz` written atomically.

A checkpoint holds the net's parameters (and a fastscratch net's extra state, BatchNorm's
running statistics), the optimizer's state (Momentum's `v`, AdaGrad's `h`, Adam's `m`, `v` and
`iter`, ...), the Trainer's counters and history, and NumPy's global random state (the book's
Trainer draws its batches, and Dropout its masks, from `np.random`). Restored into a Trainer
built with the same net, data and settings, the rest of the run draws the same batches and ends
with the same parameters, bit for bit, as a run that never stopped.

Writing goes to a temporary file in the target's folder, flushed to disk, then renamed over the
target: a run killed while saving leaves the previous checkpoint whole. Reading checks the whole
file against the Trainer (every parameter and state array present, same shapes and dtypes, the
same optimizer) before it changes anything.
"""

import os
import tempfile

import numpy as np

__all__ = ["save_checkpoint", "load_checkpoint"]

_FORMAT = 1  # bumped when the layout below changes


def _optimizer_state(optimizer):
    """name -> {key: array} for each state dict the optimizer holds (None while unused)."""
    return {name: getattr(optimizer, name) for name in getattr(optimizer, "_state_names", ())}


def _arrays_of(trainer):
    """The checkpoint's members: a flat dict name -> ndarray."""
    net, opt = trainer.network, trainer.optimizer
    arrays = {"format": np.array(_FORMAT), "optimizer": np.array(type(opt).__name__)}
    for key, val in net.params.items():
        arrays[f"param/{key}"] = np.asarray(val)
    saved_state = getattr(net, "_saved_state", None)
    for key, val in (saved_state() if saved_state else {}).items():
        arrays[f"netstate/{key}"] = np.asarray(val)
    for name, state in _optimizer_state(opt).items():
        for key, val in (state or {}).items():
            arrays[f"opt/{name}/{key}"] = val
    if hasattr(opt, "iter"):
        arrays["opt_iter"] = np.array(opt.iter)
    arrays["current_iter"] = np.array(trainer.current_iter)
    arrays["current_epoch"] = np.array(trainer.current_epoch)
    for name in ("train_loss_list", "train_acc_list", "test_acc_list"):
        arrays[name] = np.array([float(v) for v in getattr(trainer, name)], dtype=np.float64)
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    arrays["rng_kind"] = np.array(kind)
    arrays["rng_keys"] = keys
    arrays["rng_numbers"] = np.array([pos, has_gauss], dtype=np.int64)
    arrays["rng_cached_gaussian"] = np.array(cached, dtype=np.float64)
    return arrays


def save_checkpoint(trainer, path):
    """Write `trainer`'s run state to `path` (an .npz whatever its name), atomically."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    arrays = _arrays_of(trainer)
    fd, temp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        # Also on KeyboardInterrupt: no half-written temporary file is left behind.
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def _expect(arrays, name, shape, dtype, path):
    if name not in arrays:
        raise ValueError(f"checkpoint {path} has no {name}: it is not a checkpoint of this run")
    val = arrays[name]
    if val.shape != shape or val.dtype != dtype:
        raise ValueError(
            f"checkpoint {path}: {name} must be {np.dtype(dtype)} {shape} for this run, "
            f"got {val.dtype} {val.shape}"
        )
    return val


def load_checkpoint(trainer, path):
    """Restore `trainer`'s run state from `path`; nothing changes unless all of it fits."""
    import zipfile

    path = os.fspath(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(f"checkpoint {path} is not a checkpoint (.npz) file")
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    net, opt = trainer.network, trainer.optimizer
    fmt = arrays.get("format")
    if fmt is None or fmt.shape != () or int(fmt) != _FORMAT:
        raise ValueError(f"checkpoint {path} is not a fastscratch checkpoint (format {_FORMAT})")
    saved_opt = str(arrays.get("optimizer", ""))
    if saved_opt != type(opt).__name__:
        raise ValueError(
            f"checkpoint {path} was written by a run with optimizer {saved_opt}, "
            f"this Trainer uses {type(opt).__name__}"
        )

    # Check everything first.
    params = {
        key: _expect(arrays, f"param/{key}", np.shape(val), np.asarray(val).dtype, path)
        for key, val in net.params.items()
    }
    # A fastscratch net's extra state (BatchNorm's running statistics) exists only once a
    # forward pass made it: what the net may hold is what _state_shapes names.
    state_shapes = getattr(net, "_state_shapes", None)
    net_state = {}
    for key, shape in (state_shapes() if state_shapes else {}).items():
        val = arrays.get(f"netstate/{key}")
        if val is None:
            continue
        if val.shape != tuple(shape) or val.dtype.kind != "f":
            raise ValueError(
                f"checkpoint {path}: netstate/{key} must be a floating array of shape "
                f"{tuple(shape)} for this net, got {val.dtype} {val.shape}"
            )
        net_state[key] = val
    opt_state = {}
    for name in getattr(opt, "_state_names", ()):
        held = {k[len(f"opt/{name}/") :] for k in arrays if k.startswith(f"opt/{name}/")}
        if held and set(held) != set(net.params):
            raise ValueError(
                f"checkpoint {path}: the optimizer's {name} holds {sorted(held)}, "
                f"the net's parameters are {sorted(net.params)}"
            )
        opt_state[name] = (
            {
                key: _expect(
                    arrays, f"opt/{name}/{key}", params[key].shape, params[key].dtype, path
                )
                for key in net.params
            }
            if held
            else None
        )
    counters = {
        name: int(_expect(arrays, name, (), np.int64, path))
        for name in ("current_iter", "current_epoch")
    }
    if not 0 <= counters["current_iter"] <= trainer.max_iter:
        raise ValueError(
            f"checkpoint {path} is at step {counters['current_iter']}, past this run's "
            f"{trainer.max_iter} steps"
        )
    history = {}
    for name in ("train_loss_list", "train_acc_list", "test_acc_list"):
        val = arrays.get(name)
        if val is None or val.ndim != 1 or val.dtype != np.float64:
            raise ValueError(f"checkpoint {path}: {name} must be a 1-D float64 array")
        history[name] = val
    rng_keys = _expect(arrays, "rng_keys", (624,), np.uint32, path)
    pos, has_gauss = _expect(arrays, "rng_numbers", (2,), np.int64, path)
    cached = float(_expect(arrays, "rng_cached_gaussian", (), np.float64, path))
    opt_iter = (
        int(_expect(arrays, "opt_iter", (), np.int64, path)) if hasattr(opt, "iter") else None
    )

    # Then change: in place, so that the layers holding the net's arrays see the values.
    for key, val in params.items():
        net.params[key][...] = val
    if net_state:
        net._restore_state(net_state)
    for name, state in opt_state.items():
        setattr(opt, name, None if state is None else {k: v.copy() for k, v in state.items()})
    if opt_iter is not None:
        opt.iter = opt_iter
    trainer.current_iter = counters["current_iter"]
    trainer.current_epoch = counters["current_epoch"]
    trainer.train_loss_list = list(history["train_loss_list"])
    trainer.train_acc_list = list(history["train_acc_list"])
    trainer.test_acc_list = list(history["test_acc_list"])
    np.random.set_state((str(arrays["rng_kind"]), rng_keys, int(pos), int(has_gauss), cached))
