"""DistributedTrainer on 2 ranks, N steps with global batch B, ends at the parameters (and the
loss history) of the book's Trainer on one process for the same N steps and B, same seed; the
common generator that picks the batches stays in step on every rank, also with Dropout."""

import hashlib

import numpy as np

import fastscratch.distributed as dist
from fastscratch.multi_layer_net import MultiLayerNet
from fastscratch.multi_layer_net_extend import MultiLayerNetExtend
from fastscratch.testing import assert_close
from fastscratch.trainer import Trainer

comm = dist.init()
assert dist.size() == 2, dist.size()

data = np.random.default_rng(0)
x = data.standard_normal((120, 20))
t = data.integers(0, 4, size=120)
settings = dict(
    epochs=3, mini_batch_size=25, optimizer="Adam", optimizer_param={"lr": 0.01}, verbose=False
)


def train(trainer_class):
    np.random.seed(7)
    net = MultiLayerNet(20, [16, 16], 4, weight_decay_lambda=0.01)
    trainer = trainer_class(net, x, t, x[:40], t[:40], **settings)
    trainer.train()
    return net, trainer


net, trainer = train(dist.DistributedTrainer)
steps = trainer.current_iter
assert steps == int(3 * 120 / 25), steps
dist.check_in_sync(net.params)
if dist.is_root():
    assert len(trainer.test_acc_list) == trainer.current_epoch > 0
    single_net, single = train(Trainer)
    assert single.current_iter == steps
    for k in single_net.params:
        assert_close(net.params[k], single_net.params[k])
    assert_close(np.array(trainer.train_loss_list), np.array(single.train_loss_list, float))
    print(f"OK {steps} steps match one process")
else:
    assert trainer.test_acc_list == [], "only rank 0 evaluates"

# Dropout draws on each rank's own stream; the batches' generator must still agree.
np.random.seed(3)
net = MultiLayerNetExtend(20, [16], 4, use_dropout=True, dropout_ration=0.3)
dist.DistributedTrainer(net, x, t, x[:40], t[:40], **settings).train()
state = np.random.get_state()
digest = hashlib.sha256(state[1].tobytes() + str(state[2]).encode()).hexdigest()
assert len(set(comm.allgather(digest))) == 1, "the common generator drifted between ranks"
if dist.is_root():
    print("OK dropout")

try:
    dist.DistributedTrainer(net, x, t, x, t, mini_batch_size=1, verbose=False)
except ValueError as exc:
    assert "mini_batch_size must be at least the number of ranks (2)" in str(exc), exc
else:
    raise AssertionError("a batch smaller than the number of ranks was accepted")
