"""scripts/book_scripts.py, the tool that runs the book's chapter scripts on the book's code and
through `python -m fastscratch run`, on a tiny fake "book checkout" of our own (no book
needed): same-output detection, a difference, failures on one and on both sides, the edits
table, the MNIST stand-in, the timeout, and the user's checkout left untouched."""

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "scripts" / "book_scripts.py"


def book_style(body):
    """A chapter script in the book's manner: the parent folder on sys.path, then `body`."""
    return "import sys, os\nsys.path.append(os.pardir)\nimport numpy as np\n" + textwrap.dedent(
        body
    )


FAKE_BOOK = {
    "common/__init__.py": "",
    "common/functions.py": """\
        import numpy as np


        def sigmoid(x):
            return 1 / (1 + np.exp(-x))


        def fake_book_helper():
            return 42
        """,
    "dataset/__init__.py": "",
    # a loader in the book's manner: IDX .gz files beside it, a pickle cache made on first use
    "dataset/mnist.py": """\
        import gzip, os, pickle
        import numpy as np

        here = os.path.dirname(os.path.abspath(__file__))
        names = {"train_img": "train-images-idx3-ubyte.gz",
                 "train_label": "train-labels-idx1-ubyte.gz",
                 "test_img": "t10k-images-idx3-ubyte.gz",
                 "test_label": "t10k-labels-idx1-ubyte.gz"}


        def init_mnist():
            print("Converting the IDX files ...")
            data = {}
            for key, name in names.items():
                with gzip.open(os.path.join(here, name)) as f:
                    raw = f.read()
                if key.endswith("img"):
                    data[key] = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 784)
                else:
                    data[key] = np.frombuffer(raw, np.uint8, offset=8)
            with open(os.path.join(here, "mnist.pkl"), "wb") as f:
                pickle.dump(data, f)


        def load_mnist(normalize=True, flatten=True, one_hot_label=False):
            path = os.path.join(here, "mnist.pkl")
            if not os.path.exists(path):
                init_mnist()
            with open(path, "rb") as f:
                d = pickle.load(f)
            return (d["train_img"], d["train_label"]), (d["test_img"], d["test_label"])
        """,
    # same output both sides: seeded random numbers, a common function, the MNIST stand-in
    "ch04/print_numbers.py": book_style("""\
        from common.functions import sigmoid
        from dataset.mnist import load_mnist

        (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False)
        print(x_train.shape, x_test.shape, int(x_train.sum()), t_test[:5])
        print("train is test:", bool((x_train == x_test).all()))
        for v in sigmoid(np.random.randn(4)):
            print("%.6f" % v)
        """),
    "ch04/differs.py": book_style("""\
        import common.functions
        print("same line")
        print(common.functions.__name__)
        """),
    "ch04/fails.py": book_style("""\
        print("about to fail")
        raise ValueError("boom in the fake book")
        """),
    # fastscratch's functions module has no fake_book_helper: fails on that side only
    "ch04/fs_fails.py": book_style("""\
        from common.functions import fake_book_helper
        print(fake_book_helper())
        """),
    # the tool's EDITS shorten `iters_num = 10000` in this file; unshortened it fails
    "ch04/train_neuralnet.py": book_style("""\
        iters_num = 10000
        assert iters_num < 10000, "not shortened"
        print("iterations:", iters_num)
        """),
    "ch05/sleepy.py": """\
        import time
        time.sleep(60)
        """,
}


def make_fake_book(root):
    for rel, text in FAKE_BOOK.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def book_scripts(*args, env=None):
    env = {**os.environ, **{k: str(v) for k, v in (env or {}).items()}}
    env.pop("FASTSCRATCH_DATA", None)
    if "--short-repeats" not in args:  # the fake book's scripts are all short: one run each
        args = (*args, "--short-repeats", "1")
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def table_rows(markdown, spread=False):
    """{script: (same output, book s, fastscratch s, ratio)} of the table's rows (and the
    pairs' range with `spread`)."""
    rows = {}
    for line in markdown.splitlines():
        if re.match(r"\| ch\d\d/", line):
            cells = re.split(r"(?<!\\) \| ", line[2:-2])
            assert len(cells) == 6, line
            rows[cells[0]] = tuple(cells[1:] if spread else cells[1:5])
    return rows


def test_the_table_on_a_fake_book(tmp_path, write_mnist):
    book = make_fake_book(tmp_path / "book")
    data = write_mnist(tmp_path / "data", n_train=30, n_test=20)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (data / name).unlink()
    before = sorted(p.relative_to(book) for p in book.rglob("*"))
    report = tmp_path / "report.md"

    out = book_scripts(book, "--chapters", "ch04", "--data", data, "--output", report)

    # fastscratch fails a script the book runs: exit status 1; the table is still printed
    assert out.returncode == 1, out.stderr
    assert report.read_text(encoding="utf-8") == out.stdout
    assert (
        "| script | same output | book s | fastscratch s | book ÷ fastscratch | pairs' range |"
        in out.stdout
    )
    rows = table_rows(out.stdout)
    assert sorted(rows) == [
        "ch04/differs.py",
        "ch04/fails.py",
        "ch04/fs_fails.py",
        "ch04/print_numbers.py",
        "ch04/train_neuralnet.py",
    ]

    # same output (seeded alike, same MNIST stand-in, the book's pickle built beforehand)
    verdict, book_s, fs_s, ratio = rows["ch04/print_numbers.py"]
    assert verdict == "same"
    assert float(book_s) > 0 and float(fs_s) > 0 and float(ratio) > 0
    assert "stand in for the training set" in out.stdout

    # a difference: the first differing line pair, and how many lines differ
    verdict = rows["ch04/differs.py"][0]
    assert verdict.startswith("differs, 1 line from line 2:")
    assert "common.functions" in verdict and "fastscratch.functions" in verdict

    # failures: exit status and the last line of stderr, per side; no ratio
    verdict, _, _, ratio = rows["ch04/fails.py"]
    assert "book exit 1: ValueError: boom in the fake book" in verdict
    assert "fastscratch exit 1: ValueError: boom in the fake book" in verdict
    assert ratio == "—"
    verdict, _, _, ratio = rows["ch04/fs_fails.py"]
    assert verdict.startswith("fastscratch exit 1: ImportError:") and "fake_book_helper" in verdict
    assert "book exit" not in verdict and ratio == "—"

    # the edit is listed, applied to both sides (unshortened the script fails)
    assert rows["ch04/train_neuralnet.py"][0] == "same"
    assert "ch04/train_neuralnet.py: `iters_num = 10000` → `iters_num = 1000`" in out.stdout
    assert "not applied" not in out.stdout

    # the header: machine, versions, seed
    assert "cores" in out.stdout and "load average" in out.stdout
    assert "NumPy" in out.stdout and "np.random.seed(0)" in out.stdout

    # nothing was written into the user's checkout
    assert sorted(p.relative_to(book) for p in book.rglob("*")) == before


def test_repeats_give_each_pairs_range_and_a_summary(tmp_path, write_mnist):
    book = make_fake_book(tmp_path / "book")
    data = write_mnist(tmp_path / "data", n_train=20, n_test=20)
    out = book_scripts(
        book, "--chapters", "ch04", "--only", "print_numbers", "--repeats", "3", "--data", data
    )
    assert out.returncode == 0, out.stderr
    verdict, book_s, fs_s, ratio, spread = table_rows(out.stdout, spread=True)[
        "ch04/print_numbers.py"
    ]
    assert verdict == "same"
    low, high = (float(v) for v in spread.split("–"))
    assert 0 < low <= float(ratio) <= high
    # the script falls in exactly one of the summary's three groups
    summary = [line for line in out.stdout.splitlines() if "ch04/print_numbers.py" in line]
    assert len(summary) == 2, summary  # its table row and one summary line
    assert any(w in summary[1] for w in ("every pair", "some pairs"))


def test_a_short_script_gets_more_pairs(tmp_path, write_mnist):
    # Three pairs of 0.1 s runs once called three scripts "slower in every pair" that 30 pairs
    # found level: a script under a second on both sides runs --short-repeats times a side.
    book = make_fake_book(tmp_path / "book")
    data = write_mnist(tmp_path / "data", n_train=20, n_test=20)
    out = book_scripts(
        book,
        "--chapters",
        "ch04",
        "--only",
        "print_numbers",
        "--short-repeats",
        "4",
        "--data",
        data,
    )
    assert out.returncode == 0, out.stderr
    assert "1 run per side (4 for a script under 1 s on both sides)" in out.stdout
    verdict, book_s, fs_s, ratio, spread = table_rows(out.stdout, spread=True)[
        "ch04/print_numbers.py"
    ]
    assert verdict == "same" and "–" in spread  # pairs, so a range
    assert book_scripts(tmp_path, "--short-repeats", "0").returncode == 2


def test_timeout_kills_both_sides(tmp_path):
    book = make_fake_book(tmp_path / "book")
    out = book_scripts(book, "--chapters", "5", "--timeout", "2")
    assert out.returncode == 0, out.stderr
    verdict, book_s, fs_s, ratio = table_rows(out.stdout)["ch05/sleepy.py"]
    assert verdict == "book timed out (2 s); fastscratch timed out (2 s)"
    assert book_s == fs_s == "> 2" and ratio == "—"
    assert "no test files found" in out.stdout or "MNIST from" in out.stdout


def test_a_usage_mistake_is_one_line_and_exit_status_2(tmp_path):
    out = book_scripts(tmp_path)  # an empty folder: not a book checkout
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "neither a checkout of the book" in out.stderr


def test_outputs_that_differ_only_in_numbers_are_told_apart():
    spec = importlib.util.spec_from_file_location("book_scripts", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.compare("a 1\nb | 2.5\n", "a 1\nb | 2.5\n") is None
    diff = tool.compare("W1:3.2454e-10\nb1:2.0\nnan\n", "W1:3.2455e-10\nb1:2.0\nnan\n")
    assert diff["line"] == 1 and diff["lines"] == 1
    assert abs(diff["rel"] - 1e-4 / 3.2455) < 1e-9
    diff = tool.compare("acc 0.5\n", "acc 0.5\nextra\n")
    assert diff == {"line": 2, "book": "(no line)", "fastscratch": "extra", "lines": 1, "rel": None}
    assert tool.compare("train acc 0.5\n", "test acc 0.5\n")["rel"] is None


def test_fastscratchs_side_imports_fastscratch_before_numpy_as_the_command_does():
    """`python -m fastscratch run` imports fastscratch first, and its import sets the thread
    variables that a NumPy imported after it reads (OPENBLAS_THREAD_TIMEOUT): the tool's side
    must not seed NumPy first, or it measures a NumPy no user of `run` gets (it did: a busy
    chapter 4 training took 27 s through the tool's side, 6 s through the command)."""
    spec = importlib.util.spec_from_file_location("book_scripts", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    code = tool.side_command(sys.executable, "fastscratch", "s.py", 0, False)[-1]
    statements = [part.strip() for part in code.split(";")]
    assert statements.index("import fastscratch") < statements.index("import numpy as np")
    book = tool.side_command(sys.executable, "book", "s.py", 0, False)[-1]
    assert "fastscratch" not in book


def _spinners():
    """Processes running the --busy spinners' loop now (Linux: /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if b"while True: pass" in f.read():
                        found.append(int(entry))
            except OSError:  # gone meanwhile
                pass
    return found


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="counts processes through /proc")
def test_busy_spins_beside_every_timed_run_and_stops_after(tmp_path):
    # The speed issue's "busy or quiet": the tool starts the load itself, for the timed runs only.
    book = make_fake_book(tmp_path / "book")
    seen = tmp_path / "seen.txt"
    (book / "ch05" / "count_spinners.py").write_text(
        book_style("""\
            import os
            n = 0
            for e in os.listdir("/proc"):
                try:
                    with open(f"/proc/{e}/cmdline", "rb") as f:
                        n += e.isdigit() and b"while True: pass" in f.read()
                except OSError:  # gone meanwhile, or not a process
                    pass
            with open(os.environ["SEEN_FILE"], "a") as f:
                f.write(f"{n}\\n")
            print("counted")
            """)
    )
    before = set(_spinners())
    out = book_scripts(
        book, "--chapters", "5", "--only", "count_spinners", "--busy", "2", env={"SEEN_FILE": seen}
    )
    assert out.returncode == 0, out.stderr
    assert table_rows(out.stdout)["ch05/count_spinners.py"][0] == "same"
    assert "2 spinning processes" in out.stdout and "(--busy 2)" in out.stdout
    counts = [int(v) - len(before) for v in seen.read_text().split()]
    assert counts == [2, 2]  # both sides ran beside both spinners
    assert set(_spinners()) <= before  # and none outlives the tool
    for count in (-1, 8 * len(os.sched_getaffinity(0)) + 1):  # a typo must not stall the machine
        refused = book_scripts(book, "--busy", count)
        assert refused.returncode == 2 and "--busy must be >= 0 and at most" in refused.stderr
