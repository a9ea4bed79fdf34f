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

import numpy as np

__all__ = ["save_checkpoint", "load_checkpoint", "save_run", "load_run"]

_FORMAT = 1  # bumped when the layout below changes


def _optimizer_state(optimizer):
    """name -> {key: array} for each state dict the optimizer holds (None while unused)."""
    return {name: getattr(optimizer, name) for name in getattr(optimizer, "_state_names", ())}


def _arrays_of(net, opt, counters, history):
    """The checkpoint's members: a flat dict name -> ndarray."""
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
        arrays["opt_iter"] = np.array(opt.iter, dtype=np.int64)
    for name, value in counters.items():
        arrays[f"counter/{name}"] = np.array(value, dtype=np.int64)
    for name, values in history.items():
        arrays[f"history/{name}"] = np.array([float(v) for v in values], dtype=np.float64)
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    arrays["rng_kind"] = np.array(kind)
    arrays["rng_keys"] = keys
    arrays["rng_numbers"] = np.array([pos, has_gauss], dtype=np.int64)
    arrays["rng_cached_gaussian"] = np.array(cached, dtype=np.float64)
    return arrays


def save_run(path, net, optimizer, counters, history):
    """Write a run's state to `path` (an .npz whatever its name), atomically: the net's
    parameters and extra state, the optimizer's state, `counters` (name -> int), `history`
    (name -> list of numbers) and NumPy's global random state."""
    from .atomic_file import atomic_write

    arrays = _arrays_of(net, optimizer, counters, history)
    with atomic_write(path) as f:
        np.savez(f, **arrays)


def save_checkpoint(trainer, path):
    """Write `trainer`'s run state to `path`, atomically."""
    save_run(
        path,
        trainer.network,
        trainer.optimizer,
        {"current_iter": trainer.current_iter, "current_epoch": trainer.current_epoch},
        {name: getattr(trainer, name) for name in _TRAINER_HISTORY},
    )


_TRAINER_HISTORY = ("train_loss_list", "train_acc_list", "test_acc_list")


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


def load_run(path, net, opt, counter_limits, history_names):
    """Restore a run state save_run wrote into `net`, `opt` and NumPy's random state, and return
    (counters, history). `counter_limits` maps each counter's name to its largest allowed value.
    Nothing changes unless the whole file fits."""
    import zipfile

    from .params_io import checked_state, load_params

    path = os.fspath(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(f"checkpoint {path} is not a checkpoint (.npz) file")
    # params_io's reader: each member's header checked before its data is read (no objects,
    # never more data than the zip declares), as for a net's parameter file.
    arrays = load_params(path)
    fmt = arrays.get("format")
    if fmt is None or fmt.shape != () or fmt.dtype.kind not in "iu" or int(fmt) != _FORMAT:
        raise ValueError(f"checkpoint {path} is not a fastscratch checkpoint (format {_FORMAT})")
    saved_opt = str(arrays.get("optimizer", ""))
    if saved_opt != type(opt).__name__:
        raise ValueError(
            f"checkpoint {path} was written by a run with optimizer {saved_opt}, "
            f"this run uses {type(opt).__name__}"
        )

    # Check everything first.
    params = {
        key: _expect(arrays, f"param/{key}", np.shape(val), np.asarray(val).dtype, path)
        for key, val in net.params.items()
    }
    # A fastscratch net's extra state (BatchNorm's running statistics) exists only once a
    # forward pass made it: what the net may hold is what _state_shapes names.
    shapes_of = getattr(net, "_state_shapes", None)
    state_shapes = shapes_of() if shapes_of else {}
    net_state = checked_state(
        {key: arrays[f"netstate/{key}"] for key in state_shapes if f"netstate/{key}" in arrays},
        state_shapes,
        f"checkpoint {path}",
        "netstate/",
    )
    opt_state = {}
    for name in getattr(opt, "_state_names", ()):
        held = {k[len(f"opt/{name}/") :] for k in arrays if k.startswith(f"opt/{name}/")}
        if held and held != set(net.params):
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
    counters = {}
    for name, limit in counter_limits.items():
        value = int(_expect(arrays, f"counter/{name}", (), np.int64, path))
        if not 0 <= value <= limit:
            raise ValueError(f"checkpoint {path}: {name} is {value}, outside this run's 0..{limit}")
        counters[name] = value
    history = {}
    for name in history_names:
        val = arrays.get(f"history/{name}")
        if val is None or val.ndim != 1 or val.dtype != np.float64:
            raise ValueError(f"checkpoint {path}: history/{name} must be a 1-D float64 array")
        history[name] = list(val)
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
    np.random.set_state((str(arrays["rng_kind"]), rng_keys, int(pos), int(has_gauss), cached))
    return counters, history


def load_checkpoint(trainer, path):
    """Restore `trainer`'s run state from `path`; nothing changes unless all of it fits."""
    counters, history = load_run(
        path,
        trainer.network,
        trainer.optimizer,
        {"current_iter": trainer.max_iter, "current_epoch": trainer.max_iter + 1},
        _TRAINER_HISTORY,
    )
    trainer.current_iter = counters["current_iter"]
    trainer.current_epoch = counters["current_epoch"]
    for name, values in history.items():
        setattr(trainer, name, values)
