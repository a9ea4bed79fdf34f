"""Native elementwise / softmax / batchnorm / dropout / optimizer kernels against the NumPy
reference backend: a table of medians (7 repeats) and ratios from one run.
    python benchmarks/bench_elementwise.py          (results: docs/performance-elementwise.md)"""
import timeit, platform, numpy as np
import fastscratch._native as N
import fastscratch.reference as R
rng = np.random.default_rng(0)

def med(f, number):
    ts = timeit.repeat(f, number=number, repeat=7)
    return sorted(ts)[3] / number * 1e6

rows = []
def bench(name, fn, number):
    tn = med(lambda: fn(N), number); tr = med(lambda: fn(R), number)
    rows.append((name, tr, tn, tr / tn))

for shape, number in (((4320, 100), 200), ((30, 1, 5, 5), 20000)):
    for dt in (np.float32, np.float64):
        p = rng.standard_normal(shape).astype(dt); g = rng.standard_normal(shape).astype(dt)
        s = [np.abs(rng.standard_normal(shape)).astype(dt) for _ in range(2)]
        tag = f"{shape} {np.dtype(dt).name}"
        bench(f"sgd {tag}", lambda B: B.sgd_update(p, g, 1e-9), number)
        bench(f"momentum {tag}", lambda B: B.momentum_update(p, g, s[0], 1e-9, 0.9), number)
        bench(f"nesterov {tag}", lambda B: B.nesterov_update(p, g, s[0], 1e-9, 0.9), number)
        bench(f"adagrad {tag}", lambda B: B.adagrad_update(p, g, s[0], 1e-9), number)
        bench(f"rmsprop {tag}", lambda B: B.rmsprop_update(p, g, s[0], 1e-9, 0.99), number)
        bench(f"adam {tag}", lambda B: B.adam_update(p, g, s[0], s[1], 1e-9, 0.9, 0.999), number)

for shape, number in (((100, 4320), 100), ((100, 100), 5000), ((100, 10), 20000)):
    for dt in (np.float32, np.float64):
        x = rng.standard_normal(shape).astype(dt); d = rng.standard_normal(shape).astype(dt)
        tag = f"{shape} {np.dtype(dt).name}"
        mask = x <= 0; o = R.sigmoid_forward(x); r = rng.random(shape)
        bench(f"relu_forward {tag}", lambda B: B.relu_forward(x), number)
        bench(f"relu_backward {tag}", lambda B: B.relu_backward(d, mask), number)
        bench(f"sigmoid_forward {tag}", lambda B: B.sigmoid_forward(x), number)
        bench(f"sigmoid_backward {tag}", lambda B: B.sigmoid_backward(d, o), number)
        bench(f"softmax {tag}", lambda B: B.softmax(x), number)
        bench(f"dropout_forward {tag}", lambda B: B.dropout_forward_train(x, r, 0.5), number)
        bench(f"dropout_backward {tag}", lambda B: B.dropout_backward(d, mask), number)
        gm = rng.standard_normal(shape[1]).astype(dt); bt = rng.standard_normal(shape[1]).astype(dt)
        out = R.batchnorm_forward_train(x, gm, bt, 1e-6)
        bench(f"bn_forward_train {tag}", lambda B: B.batchnorm_forward_train(x, gm, bt, 1e-6), number)
        bench(f"bn_forward_test {tag}", lambda B: B.batchnorm_forward_test(x, gm, bt, out[1], out[2], 1e-6), number)
        bench(f"bn_backward {tag}", lambda B: B.batchnorm_backward(d, gm, out[3], out[4], out[5]), number)
        if shape[1] <= 100:
            t = rng.integers(0, shape[1], shape[0]); ysm = R.softmax(x)
            bench(f"softmax_loss_fwd {tag}", lambda B: B.softmax_loss_forward(x, t), number)
            bench(f"softmax_loss_bwd {tag}", lambda B: B.softmax_loss_backward(ysm, t, None), number)

print(f"machine: {platform.processor() or platform.machine()}, numpy {np.__version__}")
print(f"| kernel | NumPy (µs) | native (µs) | speed-up |\n|---|---:|---:|---:|")
for name, tr, tn, ratio in rows:
    print(f"| {name} | {tr:.1f} | {tn:.1f} | {ratio:.2f}x |")
