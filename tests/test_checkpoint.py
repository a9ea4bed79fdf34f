"""Trainer checkpoints (fastscratch.checkpoint): a run stopped and resumed ends with the same
parameters, optimizer state and history as one that never stopped; a failed save keeps the
previous checkpoint; a checkpoint of another run is refused before anything changes."""

import os
import subprocess
import sys

import numpy as np
import pytest

from fastscratch import checkpoint as checkpoint_module
from fastscratch.multi_layer_net_extend import MultiLayerNetExtend
from fastscratch.trainer import OPTIMIZERS, Trainer

OPTIMIZER_PARAMS = {
    "sgd": {"lr": 0.1},
    "momentum": {"lr": 0.05},
    "nesterov": {"lr": 0.05},
    "adagrad": {"lr": 0.05},
    "rmsprop": {"lr": 0.01},
    "adam": {"lr": 0.01},
}


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 8))
    t = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    return x[:40], t[:40], x[40:], t[40:]


def _net():
    # Batch norm (running statistics to keep) and dropout (masks from np.random): the run
    # state that is easiest to lose.
    return MultiLayerNetExtend(
        input_size=8,
        hidden_size_list=[16, 16],
        output_size=3,
        use_batchnorm=True,
        use_dropout=True,
        dropout_ration=0.2,
    )


def _trainer(optimizer, **kw):
    np.random.seed(1)
    net = _net()
    return Trainer(
        net,
        *_data(),
        epochs=3,
        mini_batch_size=10,
        optimizer=optimizer,
        optimizer_param=dict(OPTIMIZER_PARAMS[optimizer]),
        verbose=False,
        **kw,
    )


class _Stop(Exception):
    pass


def _run_until_stopped(trainer, steps):
    """Train, then stop the run after `steps` steps, as a kill between steps would."""
    real_step = trainer.train_step
    done = [0]

    def step():
        if done[0] == steps:
            raise _Stop
        real_step()
        done[0] += 1

    trainer.train_step = step
    with pytest.raises(_Stop):
        trainer.train()


def _run_state(trainer):
    opt = trainer.optimizer
    state = {f"param {k}": v.copy() for k, v in trainer.network.params.items()}
    state.update({f"netstate {k}": v for k, v in trainer.network._saved_state().items()})
    for name in getattr(opt, "_state_names", ()):
        for k, v in (getattr(opt, name) or {}).items():
            state[f"{name} {k}"] = v.copy()
    return state, getattr(opt, "iter", None), trainer.current_iter, trainer.train_loss_list


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_a_stopped_and_resumed_run_ends_as_one_that_never_stopped(tmp_path, optimizer):
    straight = _trainer(optimizer)
    straight.train()
    want, want_iter, want_steps, want_losses = _run_state(straight)

    path = tmp_path / "run.npz"
    stopped = _trainer(optimizer, checkpoint=path, checkpoint_every=3)
    _run_until_stopped(stopped, steps=7)  # the last checkpoint is at step 6

    np.random.seed(12345)  # a new process: another random state, fresh weights
    resumed = Trainer(
        _net(),
        *_data(),
        epochs=3,
        mini_batch_size=10,
        optimizer=optimizer,
        optimizer_param=dict(OPTIMIZER_PARAMS[optimizer]),
        verbose=False,
        checkpoint=path,
        checkpoint_every=3,
    )
    resumed.resume(path)
    got, got_iter, got_steps, got_losses = _run_state(resumed)
    assert got_steps == want_steps == straight.max_iter
    assert got_iter == want_iter
    assert got_losses == want_losses
    assert resumed.train_acc_list == straight.train_acc_list
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def test_checkpoints_come_every_k_steps_and_at_the_end(tmp_path, monkeypatch):
    saved_at = []
    monkeypatch.setattr(
        checkpoint_module,
        "save_checkpoint",
        lambda trainer, path: saved_at.append(trainer.current_iter),
    )
    trainer = _trainer("sgd", checkpoint=tmp_path / "c.npz", checkpoint_every=5)
    trainer.train()
    assert trainer.max_iter == 12
    assert saved_at == [5, 10, 12]


def test_the_default_is_one_checkpoint_per_epoch(tmp_path):
    trainer = _trainer("sgd", checkpoint=tmp_path / "c.npz")
    assert trainer.checkpoint_every == 4  # 40 samples, batches of 10


def test_a_failed_save_keeps_the_previous_checkpoint_and_leaves_no_temporary_file(
    tmp_path, monkeypatch
):
    path = tmp_path / "run.npz"
    trainer = _trainer("adam", checkpoint=path, checkpoint_every=1)
    trainer.train_step()
    before = path.read_bytes()

    def failing_savez(f, **arrays):
        f.write(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="No space left"):
        trainer.train_step()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["run.npz"]


def test_a_checkpoint_of_another_run_is_refused_and_changes_nothing(tmp_path):
    path = tmp_path / "run.npz"
    trainer = _trainer("adam", checkpoint=path, checkpoint_every=2)
    for _ in range(2):
        trainer.train_step()

    other = _trainer("momentum")
    before = {k: v.copy() for k, v in other.network.params.items()}
    with pytest.raises(ValueError, match="optimizer Adam, this run uses Momentum"):
        other.load_checkpoint(path)

    np.random.seed(1)
    bigger = Trainer(
        MultiLayerNetExtend(8, [32, 16], 3, use_batchnorm=True),
        *_data(),
        optimizer="adam",
        verbose=False,
    )
    bigger_before = {k: v.copy() for k, v in bigger.network.params.items()}
    with pytest.raises(ValueError, match="param/W1 must be float64 \\(8, 32\\)"):
        bigger.load_checkpoint(path)
    for net, params in ((other.network, before), (bigger.network, bigger_before)):
        for k, v in params.items():
            np.testing.assert_array_equal(net.params[k], v)
    assert bigger.optimizer.iter == 0 and bigger.optimizer.m is None

    (tmp_path / "not.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="is not a checkpoint"):
        other.load_checkpoint(tmp_path / "not.npz")


def _damaged(data, field, value):
    """The zip `data` with a 2-byte field of its first central-directory entry set to `value`:
    offset 6 the version needed to extract, 8 the flags (bit 0: encrypted), 10 the compression
    method."""
    at = data.index(b"PK\x01\x02") + field
    return data[:at] + value.to_bytes(2, "little") + data[at + 2 :]


@pytest.mark.parametrize(
    "field, value", [(6, 0xFFFF), (8, 1), (10, 99)], ids=["version", "encrypted", "method"]
)
def test_a_damaged_checkpoint_is_a_valueerror_and_changes_nothing(tmp_path, field, value):
    # zipfile raised NotImplementedError ('zip file version 25.5', 'That compression method is
    # not supported') or RuntimeError ('is encrypted, password required'), naming no file.
    path = tmp_path / "run.npz"
    trainer = _trainer("adam", checkpoint=path, checkpoint_every=2)
    for _ in range(2):
        trainer.train_step()
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(_damaged(path.read_bytes(), field, value))
    other = _trainer("adam")
    before = _run_state(other)
    with pytest.raises(ValueError, match="damaged.npz is a damaged .npz"):
        other.load_checkpoint(damaged)
    params = tmp_path / "params.npz"
    other.network.save_params(params)
    params.write_bytes(_damaged(params.read_bytes(), field, value))
    with pytest.raises(ValueError, match="params.npz is a damaged .npz"):
        other.network.load_params(params)
    after = _run_state(other)
    for key, value in before[0].items():
        np.testing.assert_array_equal(after[0][key], value)
    assert before[1:] == after[1:]


def test_bad_checkpoint_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="checkpoint_every must be an integer >= 1, got 0"):
        _trainer("sgd", checkpoint=tmp_path / "c.npz", checkpoint_every=0)
    with pytest.raises(FileNotFoundError, match="existing folder"):
        _trainer("sgd", checkpoint=tmp_path / "no" / "c.npz")


def _demo(tmp_path, *args):
    env = dict(os.environ, FASTSCRATCH_NO_DOWNLOAD="1", HOME=str(tmp_path))  # digits: no MNIST
    env.pop("FASTSCRATCH_DATA", None)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "fastscratch",
            "demo",
            "--net",
            "simple",
            "--batch-size",
            "50",
            "--optimizer",
            "adam",
            "--reference-steps",
            "0",
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_demo_resume_ends_where_an_unstopped_demo_ends(tmp_path):
    pytest.importorskip("sklearn", reason="trains on scikit-learn's digits (no MNIST here)")
    whole, resumed = tmp_path / "whole.npz", tmp_path / "resumed.npz"
    run = tmp_path / "run.npz"
    _demo(tmp_path, "--epochs", "2", "--save", str(whole))
    _demo(tmp_path, "--epochs", "1", "--checkpoint", str(run))  # stops after epoch 1
    out = _demo(tmp_path, "--epochs", "2", "--resume", str(run), "--save", str(resumed))
    assert "1 of 2 epoch(s) done" in out
    with np.load(whole) as a, np.load(resumed) as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_demo_resume_of_a_missing_file_is_one_line_and_exit_2(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "fastscratch", "demo", "--resume", str(tmp_path / "no.npz")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and "--resume: no such file" in out.stderr
    assert "Traceback" not in out.stderr
