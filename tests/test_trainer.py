"""Trainer: the book's counters, batches, update-then-loss order, per-epoch evaluation, history
and printed lines; the optimizer looked up by name; a progress bar only on a terminal."""

import numpy as np
import pytest

from fastscratch import trainer as trainer_module
from fastscratch.multi_layer_net import MultiLayerNet
from fastscratch.optimizer import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop
from fastscratch.trainer import Trainer


class RecordingNet:
    """A stand-in network: one parameter w, gradient always 1, loss = w[0] (so the loss shows
    whether the update came first), accuracy = a fixed value; records every call."""

    def __init__(self):
        self.params = {'w': np.zeros(1)}
        self.calls = []
        self.batches = []

    def gradient(self, x, t):
        self.calls.append('gradient')
        self.batches.append(x[:, 0].astype(int).tolist())
        return {'w': np.ones(1)}

    def loss(self, x, t):
        self.calls.append('loss')
        return self.params['w'][0]

    def accuracy(self, x, t):
        self.calls.append(('accuracy', len(x)))
        return 0.25


def indexed_data(n_train=300, n_test=40):
    """x whose first column is the sample's index, so a batch shows which samples it drew."""
    x_train = np.arange(n_train, dtype=float).reshape(-1, 1)
    x_test = np.arange(n_test, dtype=float).reshape(-1, 1)
    return x_train, np.zeros(n_train, int), x_test, np.zeros(n_test, int)


def test_counters_follow_the_book(capsys):
    tr = Trainer(RecordingNet(), *indexed_data(300), epochs=2, mini_batch_size=100, verbose=False)
    assert tr.train_size == 300
    assert tr.iter_per_epoch == 3.0 and isinstance(tr.iter_per_epoch, float)
    assert tr.max_iter == 6
    assert tr.batch_size == 100
    assert (tr.current_iter, tr.current_epoch) == (0, 0)
    tr.train()
    assert (tr.current_iter, tr.current_epoch) == (6, 2)
    assert capsys.readouterr().out == ""


def test_iter_per_epoch_is_at_least_one_and_may_be_fractional():
    assert Trainer(RecordingNet(), *indexed_data(30), mini_batch_size=100).iter_per_epoch == 1
    tr = Trainer(RecordingNet(), *indexed_data(250), epochs=3, mini_batch_size=100)
    assert tr.iter_per_epoch == 2.5 and tr.max_iter == 7


def test_each_step_updates_then_computes_the_loss_and_evaluates_at_epoch_starts():
    net = RecordingNet()
    tr = Trainer(
        net,
        *indexed_data(300),
        epochs=2,
        optimizer='sgd',
        optimizer_param={'lr': 0.5},
        verbose=False,
    )
    tr.train()
    # loss after the step: w = -0.5, -1.0, ...
    assert tr.train_loss_list == [-0.5 * k for k in range(1, 7)]
    evaluation = [('accuracy', 300), ('accuracy', 40)]
    step = ['gradient', 'loss']
    assert net.calls == (step + evaluation + step * 3 + evaluation + step * 2 + [('accuracy', 40)])
    assert tr.train_acc_list == tr.test_acc_list == [0.25, 0.25]


def test_batches_are_drawn_with_np_random_choice_from_the_global_generator():
    net = RecordingNet()
    tr = Trainer(net, *indexed_data(300), epochs=1, mini_batch_size=7, verbose=False)
    np.random.seed(9)
    tr.train()
    np.random.seed(9)
    expected = [np.random.choice(300, 7).tolist() for _ in range(tr.max_iter)]
    assert net.batches == expected


def test_evaluation_is_truncated_per_epoch_but_the_final_test_is_full():
    net = RecordingNet()
    Trainer(
        net, *indexed_data(300, 40), epochs=2, evaluate_sample_num_per_epoch=25, verbose=False
    ).train()
    sizes = [c[1] for c in net.calls if isinstance(c, tuple)]
    assert sizes == [25, 25, 25, 25, 40]


def test_prints_exactly_the_books_lines(capsys):
    net = RecordingNet()
    tr = Trainer(net, *indexed_data(200), epochs=2, optimizer_param={'lr': 0.5})
    tr.train()
    out = capsys.readouterr().out.splitlines()
    loss = ["train loss:" + str(v) for v in tr.train_loss_list]
    epoch = [f"=== epoch:{e}, train acc:0.25, test acc:0.25 ===" for e in (1, 2)]
    assert out == (
        [loss[0], epoch[0], loss[1], loss[2], epoch[1], loss[3]]
        + ["=============== Final Test Accuracy ===============", "test acc:0.25"]
    )
    assert out[0] == "train loss:-0.5"


def test_verbose_false_prints_nothing(capsys):
    Trainer(RecordingNet(), *indexed_data(200), epochs=2, verbose=False).train()
    assert capsys.readouterr() == ("", "")


def test_on_a_terminal_a_progress_bar_goes_to_stderr_and_the_books_lines_still_print(
    capsys, monkeypatch
):
    monkeypatch.setattr(trainer_module, "_stdout_is_terminal", lambda: True)
    tr = Trainer(RecordingNet(), *indexed_data(200), epochs=2, optimizer_param={'lr': 0.5})
    tr.train()
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == "train loss:-0.5"
    assert lines[1] == "=== epoch:1, train acc:0.25, test acc:0.25 ==="
    assert lines[-2:] == ["=============== Final Test Accuracy ===============", "test acc:0.25"]
    assert len(lines) == 4 + 2 + 2
    assert "4/4" in captured.err and "loss" in captured.err


@pytest.mark.parametrize(
    "name,cls",
    [
        ('SGD', SGD),
        ('sgd', SGD),
        ('Momentum', Momentum),
        ('NESTEROV', Nesterov),
        ('AdaGrad', AdaGrad),
        ('RMSprop', RMSprop),
        ('rmsprop', RMSprop),
        ('Adam', Adam),
    ],
)
def test_optimizer_is_looked_up_case_insensitively_and_given_its_params(name, cls):
    tr = Trainer(RecordingNet(), *indexed_data(), optimizer=name, optimizer_param={'lr': 0.123})
    assert type(tr.optimizer) is cls and tr.optimizer.lr == 0.123


def test_default_optimizer_is_sgd_with_lr_0_01_and_the_default_dict_is_untouched():
    defaults = Trainer.__init__.__defaults__
    tr = Trainer(RecordingNet(), *indexed_data())
    tr.optimizer.lr = 5
    tr.train_step()
    assert type(tr.optimizer) is SGD
    assert {'lr': 0.01} in Trainer.__init__.__defaults__
    assert Trainer.__init__.__defaults__ == defaults
    assert Trainer(RecordingNet(), *indexed_data()).optimizer.lr == 0.01


def test_an_unknown_optimizer_is_a_clear_error_listing_the_choices():
    with pytest.raises(ValueError, match="sgd, momentum, nesterov, adagrad, rmsprop, adam"):
        Trainer(RecordingNet(), *indexed_data(), optimizer='rmsprpo')


def test_trainer_fits_a_separable_problem_with_a_real_net(backend, capsys):
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 4)) * 3
    t = rng.integers(0, 3, size=260)
    x = centres[t] + rng.standard_normal((260, 4)) * 0.5
    np.random.seed(0)
    net = MultiLayerNet(4, [8], 3)
    tr = Trainer(
        net,
        x[:200],
        t[:200],
        x[200:],
        t[200:],
        epochs=10,
        mini_batch_size=20,
        optimizer='Adam',
        optimizer_param={'lr': 0.05},
        verbose=False,
    )
    tr.train()
    assert len(tr.train_loss_list) == 100 and len(tr.test_acc_list) == 10
    assert np.mean(tr.train_loss_list[-10:]) < 0.5 * np.mean(tr.train_loss_list[:10])
    assert net.accuracy(x[200:], t[200:]) > 0.9


def _trainer(**changes):
    args = dict(
        network=MultiLayerNet(4, [3], 2),
        x_train=np.ones((6, 4)),
        t_train=np.zeros(6, int),
        x_test=np.ones((2, 4)),
        t_test=np.zeros(2, int),
        epochs=1,
        mini_batch_size=3,
        verbose=False,
    )
    args.update(changes)
    return Trainer(**args)


@pytest.mark.parametrize(
    "changes, error, word",
    [
        ({"network": np.ones(3)}, TypeError, "network must have params, gradient"),
        ({"x_train": None}, TypeError, "x_train"),  # AttributeError at x_train.shape
        ({"x_train": (1, 2)}, ValueError, "x_train and t_train"),
        ({"t_train": np.zeros(5, int)}, ValueError, "x_train and t_train"),  # IndexError mid-run
        ({"t_test": np.zeros(3, int)}, ValueError, "x_test and t_test"),
        ({"x_train": np.ones((0, 4)), "t_train": np.zeros(0)}, ValueError, "at least 1"),
        ({"epochs": float("inf")}, ValueError, "epochs"),  # OverflowError
        ({"epochs": "2"}, TypeError, "epochs"),
        ({"mini_batch_size": 0}, ValueError, "mini_batch_size"),
        ({"evaluate_sample_num_per_epoch": 0}, ValueError, "evaluate_sample_num_per_epoch"),
    ],
)
def test_trainer_refuses_what_would_fail_in_training(changes, error, word):
    with pytest.raises(error, match=word):
        _trainer(**changes)


def test_trainer_takes_lists_and_integral_floats():
    trainer = _trainer(x_train=np.ones((6, 4)).tolist(), mini_batch_size=3.0)
    trainer.train()
    assert trainer.batch_size == 3 and len(trainer.train_loss_list) == 2
