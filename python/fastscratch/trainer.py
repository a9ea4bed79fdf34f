"""The book's Trainer (common/trainer.py): mini-batch training with one of the book's optimizers,
a per-epoch accuracy check and the book's printed lines.

On a terminal (verbose, stdout a tty) it also shows a tqdm progress bar with the latest loss;
the book's lines are still printed, above the bar. Anywhere else (a pipe, a file, a notebook's
captured stdout) it prints exactly the book's lines and nothing else.

Beyond the book: `checkpoint=PATH` saves the whole run state (fastscratch.checkpoint) every
`checkpoint_every` steps (default: once per epoch) and at the end; `resume(PATH)` restores it
and trains the remaining steps, ending where an uninterrupted run would.
"""

import os
import sys

import numpy as np

from .kernels import check_float, check_int
from .optimizer import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop
from .util import paired_samples

__all__ = ["Trainer", "OPTIMIZERS"]

OPTIMIZERS = {
    'sgd': SGD,
    'momentum': Momentum,
    'nesterov': Nesterov,
    'adagrad': AdaGrad,
    'rmsprop': RMSprop,
    'adam': Adam,
}


def optimizer_class(name):
    """The optimizer class called `name` (case-insensitive)."""
    try:
        return OPTIMIZERS[str(name).lower()]
    except KeyError:
        raise ValueError(
            f"optimizer must be one of {', '.join(OPTIMIZERS)} (any case), got {name!r}"
        ) from None


# What the Trainer calls of its network.
_NETWORK_API = ("params", "gradient", "loss", "accuracy")


def _stdout_is_terminal():
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stdout
        return False


class Trainer:
    """Trains `network` (anything with params, gradient, loss and accuracy) for `epochs` epochs
    of `x_train.shape[0] / mini_batch_size` steps, each on a batch drawn with replacement by
    `np.random.choice`. History: train_loss_list (every step), train_acc_list and test_acc_list
    (once per epoch, on the first evaluate_sample_num_per_epoch samples when given)."""

    def __init__(
        self,
        network,
        x_train,
        t_train,
        x_test,
        t_test,
        epochs=20,
        mini_batch_size=100,
        optimizer='SGD',
        optimizer_param={'lr': 0.01},
        evaluate_sample_num_per_epoch=None,
        verbose=True,
        checkpoint=None,
        checkpoint_every=None,
    ):
        missing = [name for name in _NETWORK_API if not hasattr(network, name)]
        if missing:
            raise TypeError(
                f"network must have {', '.join(_NETWORK_API)} (a net of the book's), got "
                f"{type(network).__name__} without {', '.join(missing)}"
            )
        self.network = network
        self.verbose = verbose
        self.x_train, self.t_train = paired_samples(x_train, t_train, "x_train", "t_train", 1)
        self.x_test, self.t_test = paired_samples(x_test, t_test, "x_test", "t_test", 0)
        if not 0 <= check_float(epochs, "epochs") < float("inf"):
            raise ValueError(f"epochs must be a finite number >= 0, got {epochs}")
        self.epochs = epochs
        self.batch_size = mini_batch_size = check_int(mini_batch_size, "mini_batch_size", 1)
        if evaluate_sample_num_per_epoch is not None:
            evaluate_sample_num_per_epoch = check_int(
                evaluate_sample_num_per_epoch, "evaluate_sample_num_per_epoch", 1
            )
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch

        self.optimizer = optimizer_class(optimizer)(**optimizer_param)

        self.train_size = self.x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0

        self.train_loss_list = []
        self.train_acc_list = []
        self.test_acc_list = []
        self._bar = None

        self.checkpoint = None if checkpoint is None else os.fspath(checkpoint)
        if checkpoint_every is None:
            checkpoint_every = max(1, round(self.iter_per_epoch))
        if (
            isinstance(checkpoint_every, bool)
            or not isinstance(checkpoint_every, (int, np.integer))
            or checkpoint_every < 1
        ):
            raise ValueError(f"checkpoint_every must be an integer >= 1, got {checkpoint_every!r}")
        self.checkpoint_every = int(checkpoint_every)
        if self.checkpoint is not None:
            folder = os.path.dirname(os.path.abspath(self.checkpoint))
            if not os.path.isdir(folder):
                raise FileNotFoundError(
                    f"checkpoint must be in an existing folder, got {self.checkpoint!r}"
                )
        self._steps_restored = 0  # steps of this run a resume() found already done

    def _print(self, line):
        if self._bar is not None:
            self._bar.write(line)  # above the bar, which is redrawn below it
        else:
            print(line)

    def train_step(self):
        batch_mask = np.random.choice(self.train_size, self.batch_size)
        loss = self._learn(batch_mask)
        self.train_loss_list.append(loss)
        if self.verbose:
            self._print("train loss:" + str(loss))
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{float(loss):.4f}", refresh=False)
            self._bar.update(1)

        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            self._evaluate()
        self.current_iter += 1
        if self.checkpoint is not None and self.current_iter % self.checkpoint_every == 0:
            self.save_checkpoint(self.checkpoint)

    def _learn(self, batch_mask):
        """One update on the samples `batch_mask` picks; returns the loss the book records (after
        the update, on the same batch)."""
        x_batch = self.x_train[batch_mask]
        t_batch = self.t_train[batch_mask]
        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)
        return self.network.loss(x_batch, t_batch)

    def _evaluate(self):
        """The book's per-epoch accuracies (on the first evaluate_sample_num_per_epoch samples
        when given), recorded and printed."""
        x_train_sample, t_train_sample = self.x_train, self.t_train
        x_test_sample, t_test_sample = self.x_test, self.t_test
        if self.evaluate_sample_num_per_epoch is not None:
            n = self.evaluate_sample_num_per_epoch
            x_train_sample, t_train_sample = self.x_train[:n], self.t_train[:n]
            x_test_sample, t_test_sample = self.x_test[:n], self.t_test[:n]
        train_acc = self.network.accuracy(x_train_sample, t_train_sample)
        test_acc = self.network.accuracy(x_test_sample, t_test_sample)
        self.train_acc_list.append(train_acc)
        self.test_acc_list.append(test_acc)
        if self.verbose:
            self._print(
                "=== epoch:"
                + str(self.current_epoch)
                + ", train acc:"
                + str(train_acc)
                + ", test acc:"
                + str(test_acc)
                + " ==="
            )

    def save_checkpoint(self, path):
        """Save the run's whole state (parameters, optimizer state, counters, history, NumPy's
        random state) to `path`, atomically (fastscratch.checkpoint)."""
        from .checkpoint import save_checkpoint

        save_checkpoint(self, path)

    def load_checkpoint(self, path):
        """Restore a state save_checkpoint wrote; the next train() runs only the steps left."""
        from .checkpoint import load_checkpoint

        load_checkpoint(self, path)
        self._steps_restored = self.current_iter

    def resume(self, path):
        """Continue a stopped run: load the checkpoint at `path`, then train the steps left."""
        self.load_checkpoint(path)
        self.train()

    def train(self):
        self._run_steps()
        self._final_test()

    def _run_steps(self):
        """The steps left (all of them, unless a checkpoint was loaded), then the last
        checkpoint."""
        if self.verbose and _stdout_is_terminal():
            from tqdm import tqdm

            self._bar = tqdm(
                total=self.max_iter, initial=self._steps_restored, unit="iter", dynamic_ncols=True
            )
        steps, self._steps_restored = self.max_iter - self._steps_restored, 0
        try:
            for _ in range(steps):
                self.train_step()
        finally:
            if self._bar is not None:
                self._bar.close()
                self._bar = None

        if self.checkpoint is not None and self.current_iter % self.checkpoint_every:
            self.save_checkpoint(self.checkpoint)  # the last steps, past the last multiple

    def _final_test(self):
        test_acc = self.network.accuracy(self.x_test, self.t_test)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(test_acc))
