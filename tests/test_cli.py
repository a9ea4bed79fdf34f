"""The command line: `python -m fastscratch` lists its subcommands, each has --help, a user's
mistake is one line and exit status 2, `run` executes book-style scripts unchanged on
fastscratch, and `demo` trains and reports."""

import os
import subprocess
import sys
import textwrap

import pytest

SUBCOMMANDS = ("demo", "run", "check", "bench", "info", "sweep")


def fastscratch(*args, cwd=None, env=None, timeout=300):
    full_env = dict(os.environ, FASTSCRATCH_NO_DOWNLOAD="1", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "fastscratch", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_lists_every_subcommand_with_a_line_each():
    out = fastscratch("--help")
    assert out.returncode == 0
    for name in SUBCOMMANDS:
        assert any(
            line.strip().startswith(name) and len(line.split()) > 1
            for line in out.stdout.splitlines()
        ), name


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(name):
    out = fastscratch(name, "--help")
    assert out.returncode == 0 and "usage:" in out.stdout


def test_info_prints_the_configuration():
    out = fastscratch("info")
    assert out.returncode == 0 and "OpenBLAS" in out.stdout and "backend" in out.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (("run", "no_such_script.py"), "no such script"),
        (("demo", "--epochs", "0"), "--epochs must be >= 1"),
        (("demo", "--data", "/no/such/folder"), "no such folder"),
        (("demo", "--threads", "100000"), "--threads must be at most 1024"),
        (("check", "--kernel", "nope"), "unknown kernel"),
        (("check", "--cases", "0"), "--cases must be >= 1"),
    ],
)
def test_a_users_mistake_is_one_line_and_exit_status_2(args, message):
    out = fastscratch(*args)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_an_unknown_option_is_refused_without_a_traceback():
    out = fastscratch("demo", "--no-such-option")
    assert out.returncode == 2 and "Traceback" not in out.stderr


BOOK_SCRIPT = textwrap.dedent("""\
    # A training script in the style of the book's chapters, written for this test.
    import sys, os
    sys.path.append(os.pardir)
    import numpy as np
    from dataset.mnist import load_mnist
    from common.layers import *
    from common.trainer import Trainer
    from common.multi_layer_net import MultiLayerNet
    import common.layers

    print("file", os.path.basename(__file__), "argv", sys.argv[1:], "path0",
          os.path.basename(sys.path[0]))
    print("layers from", common.layers.Affine.__module__)
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
    np.random.seed(0)
    net = MultiLayerNet(784, [20], 10)
    trainer = Trainer(net, x_train, t_train, x_test, t_test, epochs=2, mini_batch_size=50,
                      optimizer='Adam', optimizer_param={'lr': 0.01}, verbose=False)
    trainer.train()
    print("final test acc", net.accuracy(x_test, t_test))
""")


def _book_tree(tmp_path, body):
    chapter = tmp_path / "book" / "ch06"
    chapter.mkdir(parents=True)
    # The book's own checkout has common/ beside the chapters; the hook must win over it.
    (tmp_path / "book" / "common").mkdir()
    (tmp_path / "book" / "common" / "__init__.py").write_text("raise ImportError('book copy')\n")
    script = chapter / "train.py"
    script.write_text(body)
    return chapter, script


def test_run_executes_a_book_script_unchanged_on_fastscratch(tmp_path, write_mnist):
    data = write_mnist(tmp_path / "mnist", n_train=300, n_test=100)
    chapter, script = _book_tree(tmp_path, BOOK_SCRIPT)
    out = fastscratch(
        "run", str(script), "alpha", "--beta", cwd=chapter, env={"FASTSCRATCH_DATA": str(data)}
    )
    assert out.returncode == 0, out.stderr
    assert "file train.py argv ['alpha', '--beta'] path0 ch06" in out.stdout
    assert "layers from fastscratch.layers" in out.stdout
    acc = float(out.stdout.split("final test acc")[-1])
    assert acc > 0.8  # the fake digits are a bright bar at the label's height: easy to learn


def test_run_maps_the_chapter_nets_only_with_nets_flag(tmp_path):
    body = "import simple_convnet\nprint(simple_convnet.__name__, simple_convnet.__file__)\n"
    chapter, script = _book_tree(tmp_path, body)
    (chapter / "simple_convnet.py").write_text("print('the chapter copy')\n")
    own = fastscratch("run", str(script), cwd=chapter)
    assert "the chapter copy" in own.stdout
    ours = fastscratch("run", "--nets", str(script), cwd=chapter)
    assert ours.returncode == 0, ours.stderr
    assert "fastscratch" in ours.stdout and "the chapter copy" not in ours.stdout


@pytest.mark.parametrize(
    "chapter,module,mapped",
    [
        ("ch04", "two_layer_net", False),  # the sigmoid net of numerical gradients: another net
        ("ch05", "two_layer_net", True),
        ("ch07", "simple_convnet", True),
        ("ch08", "deep_convnet", True),
    ],
)
def test_nets_maps_each_chapter_net_only_where_it_is_that_chapters_net(
    tmp_path, chapter, module, mapped
):
    # Issue 15: ch04/train_neuralnet.py --nets trained ch05's Affine/ReLU net instead of
    # ch04's sigmoid net (epoch-1 accuracy 0.7587 where the book prints 0.2113).
    folder = tmp_path / "book" / chapter
    folder.mkdir(parents=True)
    (folder / f"{module}.py").write_text("WHERE = 'the chapter copy'\n")
    script = folder / "train.py"
    script.write_text(f"import {module}\nprint(getattr({module}, 'WHERE', {module}.__name__))\n")
    out = fastscratch("run", "--nets", str(script), cwd=folder)
    assert out.returncode == 0, out.stderr
    expected = f"fastscratch.{module}" if mapped else "the chapter copy"
    assert out.stdout.strip().splitlines()[-1] == expected


def test_run_updates_numbers_as_the_books_optimizer_compare_naive_does(tmp_path):
    # Issue 15: ch06/optimizer_compare_naive.py exited 1 (params held as Python floats).
    body = textwrap.dedent("""
        from common.optimizer import *
        params = {'x': -7.0, 'y': 2.0}
        optimizer = Momentum(lr=0.1)
        for i in range(30):
            grads = {'x': params['x'] / 10.0, 'y': 2.0 * params['y']}
            optimizer.update(params, grads)
        print(repr(params['x']), repr(params['y']))
        """)
    chapter, script = _book_tree(tmp_path, body)
    out = fastscratch("run", str(script), cwd=chapter)
    assert out.returncode == 0, out.stderr
    x, y, v = -7.0, 2.0, {"x": 0.0, "y": 0.0}
    for _ in range(30):
        gx, gy = x / 10.0, 2.0 * y
        v["x"] = 0.9 * v["x"] - 0.1 * gx
        v["y"] = 0.9 * v["y"] - 0.1 * gy
        x, y = x + v["x"], y + v["y"]
    assert out.stdout.split() == [repr(x), repr(y)]


def test_a_failing_script_reports_its_own_traceback(tmp_path):
    body = "def f():\n    raise ValueError('broken on purpose')\nf()\n"
    chapter, script = _book_tree(tmp_path, body)
    out = fastscratch("run", str(script), cwd=chapter)
    assert out.returncode == 1
    assert "broken on purpose" in out.stderr and str(script) in out.stderr
    assert "fastscratch/cli" not in out.stderr and "runpy" not in out.stderr


def test_sys_exit_of_a_script_is_its_exit_status(tmp_path):
    chapter, script = _book_tree(tmp_path, "import sys\nsys.exit(3)\n")
    assert fastscratch("run", str(script), cwd=chapter).returncode == 3


def test_demo_trains_on_mnist_files_and_reports_the_speedup(tmp_path, write_mnist):
    data = write_mnist(tmp_path / "mnist", n_train=300, n_test=100)
    out = fastscratch(
        "demo",
        "--data",
        str(data),
        "--epochs",
        "2",
        "--reference-steps",
        "1",
        "--save",
        str(tmp_path / "p.npz"),
    )
    assert out.returncode == 0, out.stderr
    assert "data: MNIST" in out.stdout
    assert "test accuracy:" in out.stdout and "faster natively" in out.stdout
    assert (tmp_path / "p.npz").exists()


def no_mnist_anywhere(home):
    """An environment where neither --data nor $FASTSCRATCH_DATA is given and the MNIST cache
    (under $HOME) is empty: the only case in which the demo falls back to the digits."""
    env = {"HOME": str(home), "FASTSCRATCH_DATA": ""}
    try:
        import matplotlib

        env["MPLCONFIGDIR"] = matplotlib.get_configdir()  # its font cache, not a new one
    except ImportError:
        pass
    return env


def test_demo_uses_the_digits_when_no_mnist_is_found(tmp_path):
    pytest.importorskip("sklearn")
    out = fastscratch(
        "demo",
        "--epochs",
        "1",
        "--reference-steps",
        "0",
        env=no_mnist_anywhere(tmp_path),
    )
    assert out.returncode == 0, out.stderr
    assert "scikit-learn's 8x8 digits" in out.stdout and "--data DIR" in out.stdout


def test_demo_on_the_digits_reaches_95_percent_in_under_a_minute(tmp_path):
    pytest.importorskip("sklearn")
    out = fastscratch(
        "demo",
        "--reference-steps",
        "1",
        "--plot",
        str(tmp_path / "c.png"),
        env=no_mnist_anywhere(tmp_path),
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    accuracy = float(out.stdout.split("test accuracy:")[1].split()[0])
    seconds = float(out.stdout.split("trained in")[1].split()[0])
    assert accuracy >= 0.95 and seconds < 60
    assert (tmp_path / "c.png").stat().st_size > 1000


def test_the_demo_offers_the_trainers_optimizers():
    from fastscratch.cli.demo import OPTIMIZER_NAMES
    from fastscratch.trainer import OPTIMIZERS

    assert OPTIMIZER_NAMES == tuple(OPTIMIZERS)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "s.py"],
        ["run", "--nets", "s.py"],
        ["run", "s.py", "--nets", "-x", "--", "a"],
        ["run", "--nets", "s.py", "--help"],
        ["run", "dir/s.py", "1", "2"],
    ],
)
def test_run_is_parsed_without_argparse_as_argparse_parses_it(argv):
    from fastscratch.__main__ import build_parser, parse_run_quickly

    quick = vars(parse_run_quickly(argv))
    assert quick == vars(build_parser(argv).parse_args(argv))


@pytest.mark.parametrize(
    "argv",
    [
        ["run"],
        ["run", "--nets"],
        ["run", "-h"],
        ["run", "--nets", "--nets", "s.py"],
        ["run", "--", "s.py"],
        ["run", "--net", "s.py"],
        ["demo"],
        [],
    ],
)
def test_anything_but_a_plain_run_is_left_to_argparse(argv):
    from fastscratch.__main__ import parse_run_quickly

    assert parse_run_quickly(argv) is None


def test_run_starts_the_script_without_building_a_parser(tmp_path):
    # argparse's parser cost ~6 ms of a ~90 ms start; a book script that only prints pays it
    script = tmp_path / "s.py"
    script.write_text("import sys\nprint(sorted({'argparse', 'gettext'} & set(sys.modules)))\n")
    out = fastscratch("run", str(script))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
