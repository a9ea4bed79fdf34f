"""`python -m fastscratch bench`: the quick mode runs and prints its table, options are validated
with one-line errors, a contender that cannot run a case is reported (not fatal), `--busy` spinners
live exactly as long as the run, and the benchmark's bookkeeping (FLOPs, interleaved medians, peak
memory) is sound."""

import importlib.util
import math
import os
import re
import signal

import numpy as np
import pytest

import fastscratch
from fastscratch.__main__ import main
from fastscratch.benchmarking import busy, cases, timing

HAS_TORCH = importlib.util.find_spec("torch") is not None


def _bench(capsys, *argv):
    status = main(["bench", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _table_rows(markdown):
    return [line for line in markdown.splitlines() if line.startswith("| ")]


def test_quick_bench_prints_header_and_a_row_per_selected_case(capsys):
    status, out, _ = _bench(capsys, "--quick", "--only", "softmax", "--dtype", "float32,float64")
    assert status == 0
    assert out.startswith("# fastscratch benchmark")
    assert "quick smoke mode" in out and "numpy" in out and "BLAS" in out
    headings = [line for line in out.splitlines() if line.startswith("## ")]
    assert len(headings) == 2 and "float32" in headings[0] and "float64" in headings[1]
    assert all("GEMM" in h for h in headings)
    rows = _table_rows(out)
    header = rows[0]
    for column in ("reference", "native", "native ÷ reference", "GFLOP/s", "% of GEMM"):
        assert column in header
    assert ("PyTorch" in header) == HAS_TORCH
    body = [r for r in rows if r.startswith("| softmax")]
    assert len(body) == 4  # fwd and fwd+bwd, two dtypes
    assert all(r.count("|") == header.count("|") for r in body)
    # the reference backend always runs: its cell is a time
    assert all(re.match(r"\| [^|]+ \| [^|]+ \| [\d.]+ (s|ms|µs) \|", r) for r in body)


def test_quick_bench_without_torch_drops_its_columns(capsys):
    status, out, _ = _bench(capsys, "--quick", "--only", "softmax.*fwd$", "--no-torch")
    assert status == 0
    assert "PyTorch" not in _table_rows(out)[0]
    assert "--no-torch" in out


def test_bench_output_file_holds_the_printed_table(capsys, tmp_path):
    target = tmp_path / "bench.md"
    status, out, _ = _bench(
        capsys, "--quick", "--only", "softmax.*fwd$", "--no-torch", "--output", str(target)
    )
    assert status == 0
    assert target.read_text(encoding="utf-8") == out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--repeats", "0"], "--repeats"),
        (["--repeats", "many"], "--repeats"),
        (["--threads", "0"], "--threads"),
        (["--threads", "1,some"], "--threads"),
        (["--threads", "100000"], "--threads must be at most 1024"),
        (["--dtype", "float16"], "--dtype"),
        (["--only", "("], "--only"),
        (["--only", "no such case"], "matches no case"),
        (["--output", "/no/such/folder/bench.md"], "--output"),
        (["--busy", "-1"], "--busy"),
        (["--busy", "two"], "--busy"),
        (["--busy", "1.5"], "--busy"),
    ],
)
def test_bench_refuses_bad_options_with_one_line(capsys, argv, message):
    status, out, err = _bench(capsys, "--quick", *argv)
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("fastscratch bench:")


def _alive(pid):
    """True while `pid` exists, a zombie (killed but not reaped) included."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def started_spinners(monkeypatch):
    """The Popen of every spinner started during the test; killed at teardown should the code
    under test have left one running, so a failing test does not leave a core spinning."""
    started = []
    start = busy.start_spinner

    def recording_start():
        started.append(start())
        return started[-1]

    monkeypatch.setattr(busy, "start_spinner", recording_start)
    yield started
    for spinner in started:
        spinner.kill()
        spinner.wait()


def test_busy_spinners_run_beside_the_benchmark_and_are_gone_after_it(capsys, started_spinners):
    status, out, err = _bench(
        capsys, "--quick", "--busy", "1", "--only", "train step MultiLayerNet"
    )
    assert status == 0
    assert "1 spinning process ran beside the benchmark (--busy 1)" in out
    assert "median of 15 interleaved rounds" in out  # busy samples are bimodal: more rounds
    assert "spinning process" in err
    assert [r for r in _table_rows(out) if r.startswith("| train step MultiLayerNet")]
    if fastscratch.get_num_threads() > 1:  # --quick runs all threads: native at 1 thread too
        line = [x for x in out.splitlines() if x.startswith("Native at ")]
        assert len(line) == 1 and "timed in the same rounds beside the same load" in line[0]
        assert re.search(
            r"train step MultiLayerNet batch 100 [\d.]+ .?s vs [\d.]+ .?s \([\d.]+x\)", line[0]
        )
    assert len(started_spinners) == 1
    spinner = started_spinners[0]
    assert spinner.returncode == -signal.SIGKILL  # still spinning at the end, then killed
    assert not _alive(spinner.pid)  # and reaped


def test_busy_samples_last_long_enough_to_average_the_schedulers_placements(
    capsys, monkeypatch, started_spinners
):
    # Beside spinners a call gets a core or half of one, changing from call to call: samples of
    # one or two calls made the busy target's ratio swing 0.69x-1.54x with the same code.
    from fastscratch.cli import bench

    asked = []
    real = timing.interleaved

    def recording(runners, repeats, warmup=1, min_sample=0.02, **kwargs):
        asked.append(min_sample)
        return real(runners, 1, 1, 0)  # the test checks what is asked, not the timing

    monkeypatch.setattr(timing, "interleaved", recording)
    argv = ["--only", "softmax.*fwd$", "--no-torch", "--threads", "1", "--dtype", "float32"]
    status, out, _ = _bench(capsys, "--busy", "1", *argv)
    assert status == 0
    assert asked and set(asked) == {bench.BUSY_MIN_SAMPLE} and bench.BUSY_MIN_SAMPLE >= 0.4
    assert "as many calls as fill 400 ms" in out
    asked.clear()
    status, out, _ = _bench(capsys, *argv)  # a quiet run keeps its 50 ms samples
    assert status == 0 and set(asked) == {0.05} and "fill 50 ms" in out


def test_busy_spinners_are_stopped_when_the_run_is_interrupted(
    capsys, monkeypatch, started_spinners
):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cases, "gemm_rate", interrupted)
    status, _, err = _bench(capsys, "--quick", "--busy", "2", "--only", "softmax", "--no-torch")
    assert status == 130 and "interrupted" in err
    assert len(started_spinners) == 2
    assert not any(_alive(spinner.pid) for spinner in started_spinners)


def test_spinning_kills_and_reaps_its_processes_when_the_block_raises(started_spinners):
    with pytest.raises(RuntimeError):
        with busy.spinning(2, start_seconds=0) as pids:
            assert len(pids) == 2 and all(_alive(pid) for pid in pids)
            raise RuntimeError("a failing case")
    assert not any(_alive(pid) for pid in pids)


def test_no_busy_no_spinners_and_no_load_line(capsys, started_spinners):
    status, out, _ = _bench(capsys, "--quick", "--only", "softmax.*fwd$", "--no-torch")
    assert status == 0
    assert started_spinners == [] and "spinning" not in out


def test_a_contender_that_raises_becomes_failed_and_the_others_are_timed():
    calls = []

    def broken():
        raise RuntimeError("conv_forward failed")

    results = timing.interleaved(
        {"good": lambda: calls.append(1), "broken": broken, "absent": timing.Failed("not built")},
        repeats=3,
        warmup=1,
        min_sample=0,
    )
    assert isinstance(results["good"], float) and results["good"] >= 0
    assert isinstance(results["broken"], timing.Failed)
    assert "conv_forward" in results["broken"].reason
    assert results["absent"].reason == "not built"
    assert len(calls) >= 1 + 3  # warm-up and every round
    assert list(results) == ["good", "broken", "absent"]


def test_interleaved_reports_the_median_of_the_rounds():
    durations = iter([0.0, 0.08, 0.001, 0.02])  # warm-up, then three rounds
    import time

    def sleeper():
        time.sleep(next(durations))

    seconds = timing.interleaved({"s": sleeper}, repeats=3, warmup=1, min_sample=0)["s"]
    assert 0.02 <= seconds < 0.08


def test_conv_flops_count_two_per_multiply_add():
    # SimpleConvNet's conv: 30 filters of 1x5x5 slide to 24x24 outputs on 100 images
    assert cases.conv_flops((100, 1, 28, 28), (30, 1, 5, 5), 0) == 2 * 100 * 30 * 24 * 24 * 25
    # pad 1 keeps 3x3 convolutions' size
    assert cases.conv_flops((1, 16, 28, 28), (16, 16, 3, 3), 1) == 2 * 16 * 28 * 28 * 16 * 9


@pytest.mark.parametrize("net", sorted(cases.NET_LAYERS))
def test_net_layer_shapes_chain_like_the_book(net):
    """Each conv's input is the previous output (pooled 2x2 where the net pools), the first
    affine layer takes the flattened feature map (or the flattened image, in the MLPs) and each
    later affine the previous one's output, as the book's nets compute it."""
    layers = cases.NET_LAYERS[net]
    convs = [layer for layer in layers if layer[0] == "conv"]
    affines = [layer for layer in layers if layer[0] == "affine"]
    if convs:
        channels, size = convs[0][1], convs[0][2]
        pools_after = {0} if net == "SimpleConvNet" else {1, 3, 5}
        for i, (_, C, H, _W, FN, k, pad) in enumerate(convs):
            assert (C, H) == (channels, size)
            channels, size = FN, cases.conv_out(size, k, pad)
            if i in pools_after:
                size //= 2
        features = channels * size * size
    else:  # an MLP takes the flattened 28x28 image
        assert cases.net_input_shape(net) == (784,)
        features = 784
    for _, D, M in affines:
        assert D == features
        features = M
    assert features == 10
    assert cases.net_forward_flops(net, 10) == pytest.approx(10 * cases.net_forward_flops(net, 1))


MLP_CASES = [
    "train step TwoLayerNet batch 100",
    "train step MultiLayerNet batch 100",
    "predict TwoLayerNet batch 1 (latency)",
    "predict TwoLayerNet batch 1000 (throughput)",
    "predict MultiLayerNet batch 1 (latency)",
    "predict MultiLayerNet batch 1000 (throughput)",
]


def test_the_mlp_cases_count_their_affine_products():
    by_name = {case.name: case for case in cases.all_cases()}
    assert set(MLP_CASES) <= set(by_name)
    two_layer = 2 * (784 * 50 + 50 * 10)
    multi_layer = 2 * (784 * 100 + 5 * 100 * 100 + 100 * 10)
    assert by_name["train step TwoLayerNet batch 100"].flops == 3 * 100 * two_layer
    assert by_name["train step MultiLayerNet batch 100"].flops == 3 * 100 * multi_layer
    assert by_name["predict TwoLayerNet batch 1 (latency)"].flops == two_layer
    assert by_name["predict MultiLayerNet batch 1000 (throughput)"].flops == 1000 * multi_layer
    quick = {case.name for case in cases.all_cases() if case.quick}
    assert "train step MultiLayerNet batch 100" in quick


@pytest.mark.parametrize("contender", ["reference", "native"] + (["torch"] if HAS_TORCH else []))
@pytest.mark.parametrize("name", MLP_CASES)
def test_the_mlp_cases_run_on_every_contender(name, contender):
    (case,) = [c for c in cases.all_cases() if c.name == name]
    for dtype in (np.float32, np.float64):
        run = case.runner(contender, dtype)
        out = run()
        run()  # the timer calls a runner again and again
        if case.kind == "predict":
            assert tuple(out.shape) == (case.images, 10)


def test_gemm_rate_is_a_positive_rate_and_says_how_it_was_measured():
    rate, how = cases.gemm_rate(
        np.float32, 128, 3, lambda runners, n: timing.interleaved(runners, n, 1, 0)
    )
    assert rate > 0 and math.isfinite(rate)
    assert "128²" in how and "sgemm" in how


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
@pytest.mark.parametrize("net", ["SimpleConvNet", "DeepConvNet", "TwoLayerNet", "MultiLayerNet"])
def test_torch_twins_have_the_books_parameter_shapes(net):
    import torch

    from fastscratch.benchmarking import torch_models

    model, optimizer = torch_models.build(net, torch.float64)
    shapes = [tuple(p.shape) for p in model.parameters() if p.ndim > 1]
    # torch keeps Linear weights as (out, in); the book's W is (in, out)
    shapes = [s if len(s) == 4 else s[::-1] for s in shapes]
    expected = {
        "SimpleConvNet": [(30, 1, 5, 5), (4320, 100), (100, 10)],
        "DeepConvNet": [
            (16, 1, 3, 3),
            (16, 16, 3, 3),
            (32, 16, 3, 3),
            (32, 32, 3, 3),
            (64, 32, 3, 3),
            (64, 64, 3, 3),
            (1024, 50),
            (50, 10),
        ],
        "TwoLayerNet": [(784, 50), (50, 10)],
        "MultiLayerNet": [(784, 100)] + [(100, 100)] * 5 + [(100, 10)],
    }[net]
    assert shapes == expected
    x = torch.rand(3, *cases.net_input_shape(net), dtype=torch.float64)
    assert tuple(torch_models.predict(model, x).shape) == (3, 10)
    before = [p.detach().clone() for p in model.parameters()]
    torch_models.train_step(model, optimizer, x, torch.tensor([1, 2, 3]))
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))


def test_peak_memory_of_a_training_step_is_measured_in_a_fresh_process():
    from fastscratch.benchmarking import memory

    result = memory.measure("reference", "SimpleConvNet", "float32", 1, 20)
    assert not isinstance(result, timing.Failed), result
    # a step holds at least the gradients of W2 (4320x100 float32) beyond what was there before
    assert result["step_mb"] >= 4320 * 100 * 4 / memory.MB
    assert result["peak_mb"] >= result["before_mb"]


def test_peak_memory_of_an_unknown_contender_is_a_failure_not_a_crash():
    from fastscratch.benchmarking import memory

    result = memory.measure("nobody", "SimpleConvNet", "float32", 1, 2)
    assert isinstance(result, timing.Failed) and result.reason


def test_the_report_names_the_cases_after_which_the_policy_saw_fewer_cores():
    from fastscratch.benchmarking import report

    policy = [("conv", (2, 0.02)), ("predict MLP", (1, 0.91)), ("pool", (1, None))]
    text = "".join(report.policy_lines(2, policy))
    assert "after 2 of 3 cases: predict MLP (1, load 0.91); pool (1)." in text
    assert "conv" not in text
    calm = "".join(report.policy_lines(2, [("conv", (2, 0.0))]))
    assert "saw 2 free cores after every case" in calm
    assert report.policy_lines(1, policy) == []


def test_busy_beyond_eight_spinners_a_core_is_refused_before_any_starts(capsys, started_spinners):
    # --busy 99999 started processes until the machine stalled (load average 159 on 2 cores)
    from fastscratch.config import usable_cores

    most = busy.most_spinners(usable_cores())
    status, _, err = _bench(capsys, "--quick", "--busy", str(most + 1), "--only", "softmax")
    assert status == 2
    assert f"--busy must be at most {most}" in err and f"got {most + 1}" in err
    assert started_spinners == []
