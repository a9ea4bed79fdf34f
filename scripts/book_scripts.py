#!/usr/bin/env python3
"""Run the book's chapter scripts twice, on the book's own code and through fastscratch, and
print a Markdown table: same output?, wall seconds of each side, and the ratio.

    python scripts/book_scripts.py BOOK_CHECKOUT [--chapters 4-8] [--only REGEX] [--nets]
        [--data DIR] [--weights DIR] [--seed 0] [--timeout 600] [--repeats 1]
        [--threads N] [--busy N] [--no-edits] [--python PYTHON] [--output FILE] [--keep]

BOOK_CHECKOUT is a clone of the book's repository (oreilly-japan/deep-learning-from-scratch,
or the Korean edition), or a bare git directory of one (then `git archive REV` is used).
Nothing is written into it: every run gets a fresh temporary copy.

Each side runs `python -c PRELUDE` with cwd = the script's chapter folder, MPLBACKEND=Agg and
stdin closed. Both preludes seed with the same `import numpy as np; np.random.seed(SEED)`; the
book's then runs the script with runpy exactly as `python SCRIPT` would (sys.argv, sys.path[0]),
fastscratch's (which imports fastscratch before NumPy, as `python -m fastscratch` does) calls
`python -m fastscratch run [--nets] SCRIPT` in-process. The long trainings
are shortened by the textual EDITS below, applied to the temporary copy before either side runs.
See docs/book-scripts.md. Standard library only.
"""

import argparse
import contextlib
import gzip
import io
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

DEFAULT_CHAPTERS = "4-8"
DEFAULT_TIMEOUT = 600.0
# Scripts that run in under this many seconds on both sides get --short-repeats pairs at least.
SHORT_SECONDS = 1.0
DEFAULT_SHORT_REPEATS = 15

# The long trainings, shortened identically on both sides: (script, old text, new text, why).
# `old` must occur in the script; a missing one is reported in the header and not applied.
EDITS = [
    (
        "ch04/train_neuralnet.py",
        "iters_num = 10000",
        "iters_num = 1000",
        "10,000 SGD steps -> 1,000",
    ),
    (
        "ch05/train_neuralnet.py",
        "iters_num = 10000",
        "iters_num = 1000",
        "10,000 SGD steps -> 1,000",
    ),
    (
        "ch06/batch_norm_test.py",
        "max_epochs = 20",
        "max_epochs = 5",
        "16 weight scales x 20 epochs -> x 5 epochs",
    ),
    (
        "ch06/hyperparameter_optimization.py",
        "optimization_trial = 100",
        "optimization_trial = 5",
        "100 random trials -> 5",
    ),
    (
        "ch06/optimizer_compare_mnist.py",
        "max_iterations = 2000",
        "max_iterations = 500",
        "2,000 steps x 4 optimizers -> 500",
    ),
    (
        "ch06/weight_init_compare.py",
        "max_iterations = 2000",
        "max_iterations = 500",
        "2,000 steps x 3 initialisations -> 500",
    ),
    ("ch06/overfit_dropout.py", "epochs=301", "epochs=31", "301 epochs -> 31"),
    ("ch06/overfit_weight_decay.py", "max_epochs = 201", "max_epochs = 21", "201 epochs -> 21"),
    ("ch07/train_convnet.py", "max_epochs = 20", "max_epochs = 2", "20 epochs -> 2"),
    (
        "ch07/train_convnet.py",
        "#x_train, t_train = x_train[:5000], t_train[:5000]",
        "x_train, t_train = x_train[:5000], t_train[:5000]",
        "the book's own commented-out reduction, enabled: 5,000 training images",
    ),
    (
        "ch07/train_convnet.py",
        "#x_test, t_test = x_test[:1000], t_test[:1000]",
        "x_test, t_test = x_test[:1000], t_test[:1000]",
        "the book's own commented-out reduction, enabled: 1,000 test images",
    ),
    ("ch08/train_deepnet.py", "epochs=20", "epochs=1", "20 epochs -> 1"),
    (
        "ch08/train_deepnet.py",
        "network = DeepConvNet()",
        "x_train, t_train = x_train[:500], t_train[:500]; "
        "x_test, t_test = x_test[:500], t_test[:500]\nnetwork = DeepConvNet()",
        "a line added before the net is built: 500 training and 500 test images",
    ),
    (
        "ch08/misclassified_mnist.py",
        "#sampled = 1000",
        "sampled = 1000",
        "the book's own commented-out sampling, enabled: 1,000 test images",
    ),
    (
        "ch08/misclassified_mnist.py",
        "#x_test = x_test[:sampled]",
        "x_test = x_test[:sampled]",
        "(same)",
    ),
    (
        "ch08/misclassified_mnist.py",
        "#t_test = t_test[:sampled]",
        "t_test = t_test[:sampled]",
        "(same)",
    ),
    (
        "ch08/half_float_network.py",
        "sampled = 10000",
        "sampled = 1000",
        "10,000 test images -> 1,000",
    ),
]

# Files a script reads that are not code: without them the row says "skipped" (both sides).
# The book's repository ships all of them; --weights DIR replaces the two parameter pickles.
NEEDS = {
    "ch07/apply_filter.py": ["ch07/params.pkl", "dataset/lena_gray.png"],
    "ch07/visualize_filter.py": ["ch07/params.pkl"],
    "ch08/misclassified_mnist.py": ["ch08/deep_convnet_params.pkl"],
    "ch08/half_float_network.py": ["ch08/deep_convnet_params.pkl"],
}
# --weights DIR: file in DIR -> where the book's scripts read it
WEIGHTS = {
    "simple_convnet_params.pkl": "ch07/params.pkl",
    "deep_convnet_params.pkl": "ch08/deep_convnet_params.pkl",
}

MNIST_FILES = {
    "train_img": "train-images-idx3-ubyte.gz",
    "train_label": "train-labels-idx1-ubyte.gz",
    "test_img": "t10k-images-idx3-ubyte.gz",
    "test_label": "t10k-labels-idx1-ubyte.gz",
}
STAND_INS = {"train_img": "test_img", "train_label": "test_label"}

SEED_PRELUDE = "import numpy as np; np.random.seed({seed}); "
BOOK_PRELUDE = (
    SEED_PRELUDE + "import os, runpy, sys; sys.argv = [{script!r}]; "
    "sys.path[0] = os.getcwd(); runpy.run_path({script!r}, run_name='__main__')"
)
# fastscratch first, as `python -m fastscratch run` imports it before anything else: its import
# sets the thread variables the OpenBLAS of a NumPy imported after it reads (fastscratch's
# __init__, docs/performance.md "OpenBLAS's spinning workers");
# seeding NumPy first would have measured a NumPy no user of `run` gets.
FASTSCRATCH_PRELUDE = (
    "import fastscratch; "
    + SEED_PRELUDE
    + "import sys; from fastscratch.__main__ import main; sys.exit(main({argv!r}))"
)

PROBE = r"""
import json, platform, sys
info = {"python": platform.python_version(), "executable": sys.executable}
try:
    import numpy
    info["numpy"] = numpy.__version__
except Exception as exc:
    info["numpy"] = "not importable: %s" % exc
try:
    import matplotlib, matplotlib.pyplot
    info["matplotlib"] = matplotlib.__version__ + " (backend " + matplotlib.get_backend() + ")"
except Exception as exc:
    info["matplotlib"] = "not importable: %s" % exc
try:
    import fastscratch
    info["fastscratch"] = getattr(fastscratch, "__version__", "?")
    info["fastscratch_dir"] = fastscratch.__path__[0]
    try:
        info["backend"] = fastscratch.get_backend()
    except Exception:
        pass
except Exception as exc:
    info["fastscratch_error"] = "%s: %s" % (type(exc).__name__, exc)
print(json.dumps(info))
"""


class UsageError(Exception):
    pass


# --- the book checkout ----------------------------------------------------------------------


def is_bare_git(path):
    return (
        (path / "HEAD").is_file() and (path / "objects").is_dir() and not (path / "common").is_dir()
    )


def export_book(book, rev, dest):
    """Copies the book's files (not .git) into dest; returns a description of the source."""
    if is_bare_git(book):
        try:
            tar = subprocess.run(
                ["git", "--git-dir", str(book), "archive", "--format=tar", rev],
                capture_output=True,
                check=True,
            ).stdout
            commit = subprocess.run(
                ["git", "--git-dir", str(book), "rev-parse", "--short", rev],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        except FileNotFoundError:
            raise UsageError("git is needed to read a bare repository") from None
        except subprocess.CalledProcessError as exc:
            raise UsageError(
                f"git archive {rev} of {book} failed: {exc.stderr.decode(errors='replace').strip()}"
            ) from None
        with tarfile.open(fileobj=io.BytesIO(tar), mode="r:") as archive:
            if hasattr(tarfile, "data_filter"):
                archive.extractall(dest, filter="data")
            else:  # Python < 3.11.4: the archive is git's own output, member names are plain
                archive.extractall(dest)
        return f"{book} (bare git, {rev} = {commit})"
    shutil.copytree(
        book, dest, ignore=shutil.ignore_patterns(".git"), symlinks=True, dirs_exist_ok=True
    )
    return str(book)


def select_scripts(root, chapters, only):
    pattern = re.compile(only) if only else None
    scripts = []
    for chapter in chapters:
        folder = root / chapter
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.py")):
            rel = f"{chapter}/{path.name}"
            if pattern is None or pattern.search(rel):
                scripts.append(rel)
    return scripts


def parse_chapters(text):
    chapters = []
    for item in re.split(r"[,\s]+", text.strip()):
        if not item:
            continue
        m = re.fullmatch(r"(?:ch)?(\d+)(?:-(?:ch)?(\d+))?", item)
        if not m:
            raise UsageError(f"--chapters: cannot read {item!r} (use e.g. 4-8, ch05 or 5,7)")
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        chapters += [f"ch{n:02d}" for n in range(first, last + 1)]
    return list(dict.fromkeys(chapters))


# --- MNIST ----------------------------------------------------------------------------------


def find_mnist_file(folder, name):
    for candidate in (name, name[:-3]):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def mnist_source(data_arg, book):
    """The folder to take MNIST from, and the folders looked in."""
    candidates = []
    if data_arg:
        candidates.append(Path(data_arg).expanduser())
    else:
        if os.environ.get("FASTSCRATCH_DATA"):
            candidates.append(Path(os.environ["FASTSCRATCH_DATA"]).expanduser())
        if not is_bare_git(book):
            candidates.append(book / "dataset")
        candidates.append(Path.home() / ".cache" / "fastscratch" / "mnist")
    for folder in candidates:
        if all(find_mnist_file(folder, MNIST_FILES[k]) for k in ("test_img", "test_label")):
            return folder, candidates
    if data_arg:
        raise UsageError(
            f"--data {data_arg}: no {MNIST_FILES['test_img']} and "
            f"{MNIST_FILES['test_label']} there (gzipped or not)"
        )
    return None, candidates


def stage_mnist(source, dataset_dir):
    """Puts the four .gz files the book's loader wants into dataset_dir; returns a note."""
    for stale in ["mnist.pkl"] + list(MNIST_FILES.values()):
        if (dataset_dir / stale).exists():
            (dataset_dir / stale).unlink()
    stood_in = []
    for key, name in MNIST_FILES.items():
        path = find_mnist_file(source, name)
        if path is None:
            path = find_mnist_file(source, MNIST_FILES[STAND_INS[key]])
            stood_in.append(name)
        data = path.read_bytes()
        if data[:2] != b"\x1f\x8b":  # the book's loader reads .gz only
            data = gzip.compress(data, mtime=0)
        (dataset_dir / name).write_bytes(data)
    note = f"MNIST from `{source.resolve()}`"
    if stood_in:
        note += (
            f"; **{' and '.join(stood_in)} not found: the test images and labels "
            "(MNIST's 10,000) stand in for the training set on both sides** (train = "
            "test, so the accuracies are not the book's)"
        )
    return note


# --- running --------------------------------------------------------------------------------


def run_side(cmd, cwd, env, timeout):
    """{'rc', 'seconds', 'stdout', 'stderr', 'timeout'} of one run; kills its group on timeout."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
    seconds = time.perf_counter() - start
    return {
        "rc": proc.returncode,
        "seconds": seconds,
        "timeout": timed_out,
        "stdout": out.decode("utf-8", "replace"),
        "stderr": err.decode("utf-8", "replace"),
    }


def side_command(python, side, script, seed, nets):
    if side == "book":
        code = BOOK_PRELUDE.format(seed=seed, script=script)
    else:
        argv = ["run"] + (["--nets"] if nets else []) + [script]
        code = FASTSCRATCH_PRELUDE.format(seed=seed, argv=argv)
    return [python, "-c", code]


def failed(result):
    return result["timeout"] or result["rc"] != 0


def is_short(results):
    """Whether both sides' first runs took under SHORT_SECONDS: their difference is then a few
    milliseconds of start-up against as much noise, and only many pairs tell it apart."""
    runs = [results[side][0] for side in ("book", "fastscratch") if results[side]]
    return len(runs) == 2 and all(not failed(r) and r["seconds"] < SHORT_SECONDS for r in runs)


def last_stderr_line(result):
    lines = [line for line in result["stderr"].splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no stderr)"


def failure_text(name, result, timeout):
    if result["timeout"]:
        return f"{name} timed out ({timeout:g} s)"
    return f"{name} exit {result['rc']}: {last_stderr_line(result)}"


def shorten(text, width):
    text = text.strip()
    return text if len(text) <= width else text[: width - 1] + "…"


NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|\b(?:nan|inf)\b")


def compare(book_out, fs_out):
    """None if the stdouts are the same, else a dict: the first differing line (1-based) and
    its pair, how many lines differ, and `rel`, the largest relative difference between
    corresponding numbers when the outputs differ only in numbers (else None)."""
    a, b = book_out.splitlines(), fs_out.splitlines()
    if a == b:
        return None
    pairs = [
        (a[i] if i < len(a) else "(no line)", b[i] if i < len(b) else "(no line)")
        for i in range(max(len(a), len(b)))
    ]
    differing = [i for i, (x, y) in enumerate(pairs) if i >= min(len(a), len(b)) or x != y]
    first = differing[0]
    rel = None
    if len(a) == len(b) and all(NUMBER.sub("#", x) == NUMBER.sub("#", y) for x, y in pairs):
        rel = 0.0
        for x, y in pairs:
            for u, v in zip(NUMBER.findall(x), NUMBER.findall(y)):
                u, v = float(u), float(v)
                if u != v and not (math.isnan(u) and math.isnan(v)):
                    scale = max(abs(u), abs(v))
                    rel = max(
                        rel, abs(u - v) / scale if scale and math.isfinite(scale) else math.inf
                    )
    return {
        "line": first + 1,
        "book": pairs[first][0],
        "fastscratch": pairs[first][1],
        "lines": len(differing),
        "rel": rel,
    }


def md_cell(text):
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")


def md_code(text):
    """Inline code that survives backticks and pipes inside a table cell."""
    text = text.replace("\n", " ").replace("|", "\\|")
    ticks = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fmt_seconds(results, timeout):
    if not results:
        return "—"
    if results[-1]["timeout"]:
        return f"> {timeout:g}"
    return f"{statistics.median(r['seconds'] for r in results):.2f}"


# --- the machine ----------------------------------------------------------------------------


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if (
                line.lower().startswith(("model name", "hardware", "processor\t: "))
                and ":" in line
                and not line.split(":", 1)[1].strip().isdigit()
            ):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine() or "unknown CPU"


def load_average():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


# --- main -----------------------------------------------------------------------------------


# --busy: processes that spin one core each, as `python -m fastscratch bench --busy` starts (this
# tool uses the standard library only, so it has its own few lines for them).
SPIN_COMMAND = ["-S", "-c", "while True: pass"]
BUSY_PER_CORE = 8  # the most per usable core, as bench's (a typo must not stall the machine)


@contextlib.contextmanager
def spinning(count):
    """`count` processes spinning a core each for the time of the with-block; killed and reaped
    when it ends, also on Ctrl-C or an error."""
    spinners = []
    try:
        for _ in range(count):
            spinners.append(
                subprocess.Popen(
                    [sys.executable, *SPIN_COMMAND],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        if spinners:
            time.sleep(0.5)  # the interpreters reach their loop before the first timed run
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python scripts/book_scripts.py",
        description="Run the book's chapter scripts on the book's code and through "
        "`python -m fastscratch run`, compare their outputs and times, and print "
        "a Markdown table. See docs/book-scripts.md.",
    )
    parser.add_argument(
        "book",
        metavar="BOOK_CHECKOUT",
        help="a clone of the book's repository, or a bare git directory of one",
    )
    parser.add_argument(
        "--rev",
        default="HEAD",
        help="the revision to export from a bare git directory (default HEAD)",
    )
    parser.add_argument(
        "--chapters",
        default=DEFAULT_CHAPTERS,
        help="chapters to run, e.g. 4-8 (the default), ch05, 5,7",
    )
    parser.add_argument(
        "--only",
        metavar="REGEX",
        help="only scripts whose 'chNN/name.py' matches this regular expression",
    )
    parser.add_argument(
        "--nets",
        action="store_true",
        help="pass --nets to fastscratch run (the chapter's simple_convnet, "
        "deep_convnet and two_layer_net become fastscratch's)",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="MNIST IDX files (default: $FASTSCRATCH_DATA, the checkout's "
        "dataset/, ~/.cache/fastscratch/mnist)",
    )
    parser.add_argument(
        "--weights",
        metavar="DIR",
        help="copy DIR/simple_convnet_params.pkl to ch07/params.pkl and "
        "DIR/deep_convnet_params.pkl to ch08/deep_convnet_params.pkl "
        "(default: the checkout's own files)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="np.random.seed before each script, both sides (default 0)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds per run before it is killed (default 600)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="run each side N times, interleaved, and report medians",
    )
    parser.add_argument(
        "--short-repeats",
        type=int,
        default=DEFAULT_SHORT_REPEATS,
        help=f"at least N runs a side for a script under {SHORT_SECONDS:g} s on both sides "
        f"(default {DEFAULT_SHORT_REPEATS}: start-up differences of milliseconds need many pairs)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="set OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS and "
        "FASTSCRATCH_NUM_THREADS to N on both sides",
    )
    parser.add_argument(
        "--busy",
        type=int,
        default=0,
        metavar="N",
        help="run N processes that each spin a core beside the timed runs (a busy "
        "machine on purpose; default 0)",
    )
    parser.add_argument(
        "--no-edits",
        action="store_true",
        help="run the scripts unshortened (the trainings take hours)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter for both sides (default: this one); it needs "
        "numpy, matplotlib and fastscratch",
    )
    parser.add_argument("--output", metavar="FILE", help="also write the Markdown to FILE")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary copies (their path is printed)"
    )
    return parser


def apply_edits(stage, scripts):
    """Applies EDITS to the staged copy; returns [(script, old, new, why, applied)]."""
    done = []
    for script, old, new, why in EDITS:
        if script not in scripts:
            continue
        path = stage / script
        text = path.read_text(encoding="utf-8")
        applied = old in text
        if applied:
            path.write_text(text.replace(old, new), encoding="utf-8")
        done.append((script, old, new, why, applied))
    return done


def probe(python, env):
    try:
        out = subprocess.run(
            [python, "-c", PROBE],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"cannot run {python}: {exc}") from None
    if out.returncode != 0:
        raise UsageError(f"{python} failed: {last_stderr_line({'stderr': out.stderr})}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def prepare(python, args, env, cwd=None):
    """One untimed preparation step before the runs: `python ARGS`, output captured."""
    return subprocess.run(
        [python, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def why(result):
    """The last line of a failed preparation step's stderr, shortened for a header note."""
    return shorten(last_stderr_line({"stderr": result.stderr}), 120)


def compile_bytecode(python, folders, env):
    """Compiles the book's staged modules (each run's copy then holds their bytecode) and
    fastscratch's (an editable install has none until it is first imported with bytecode
    writing on; pip compiled a regular install's already). Returns a line for the header."""
    folders = [str(folder) for folder in folders if folder]
    # -q: errors only; a folder that cannot be written to (a system install) is left as it is
    prepare(python, ["-m", "compileall", "-q", *folders], env)
    return (
        "bytecode: the book's modules and fastscratch's compiled beforehand (`compileall`), so "
        "neither side times compiling its imports (a user's second run)"
    )


def build_mnist_pickle(python, stage, env):
    """Runs the book's own init_mnist() in the staged copy so that no run times it."""
    if not (stage / "dataset" / "mnist.py").is_file():
        return "no dataset/mnist.py in the checkout: no pickle cache prepared"
    code = (
        "import sys; sys.path.insert(0, '.'); import dataset.mnist as m; "
        "init = getattr(m, 'init_mnist', None); init and init(); "
        "print('built' if init else 'no init_mnist')"
    )
    out = prepare(python, ["-c", code], env, cwd=stage)
    if out.returncode != 0:
        return f"the book's init_mnist() failed ({why(out)}): its loader converts each run"
    if out.stdout.strip().endswith("built"):
        return (
            "the book's `dataset/mnist.pkl` cache is built once beforehand with its own "
            "`init_mnist()` (a user's second run), so no run times or prints the conversion"
        )
    return "the book's dataset/mnist.py has no init_mnist(): no pickle cache prepared"


def build_decoded_copies(python, stage, env):
    """Loads MNIST once through fastscratch so that its decoded copies exist before any run
    (the counterpart of build_mnist_pickle)."""
    code = "from fastscratch.dataset.mnist import load_mnist; load_mnist(download=False)"
    out = prepare(python, ["-c", code], dict(env, FASTSCRATCH_DATA=str(stage / "dataset")))
    if out.returncode != 0:
        return f"fastscratch's load_mnist failed beforehand ({why(out)}): its runs decode the files"
    return (
        "fastscratch's decoded copies of the MNIST files (`$FASTSCRATCH_CACHE`, in the run's "
        "temporary folder) are made once beforehand too, so no run times the decompression"
    )


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except UsageError as exc:
        print(f"book_scripts: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("book_scripts: interrupted", file=sys.stderr)
        return 130


def run(args):
    book = Path(args.book).expanduser().resolve()
    if not book.is_dir():
        raise UsageError(f"no such folder: {args.book}")
    if not is_bare_git(book) and not (book / "common").is_dir():
        raise UsageError(
            f"{args.book} is neither a checkout of the book (no common/) nor a bare git directory"
        )
    if args.timeout <= 0:
        raise UsageError("--timeout must be > 0")
    if args.repeats < 1:
        raise UsageError("--repeats must be >= 1")
    if args.short_repeats < 1:
        raise UsageError("--short-repeats must be >= 1")
    most = BUSY_PER_CORE * max(len(os.sched_getaffinity(0)), 1)
    if not 0 <= args.busy <= most:
        raise UsageError(
            f"--busy must be >= 0 and at most {most} ({BUSY_PER_CORE} per usable core), "
            f"got {args.busy}"
        )
    if args.threads is not None and args.threads < 1:
        raise UsageError("--threads must be >= 1")
    if args.weights and not Path(args.weights).is_dir():
        raise UsageError(f"--weights: no such folder: {args.weights}")
    try:
        chapters = parse_chapters(args.chapters)
        if args.only:
            re.compile(args.only)
    except re.error as exc:
        raise UsageError(f"--only: bad regular expression: {exc}") from None

    env = dict(os.environ, MPLBACKEND="Agg", PYTHONIOENCODING="utf-8", FASTSCRATCH_NO_DOWNLOAD="1")
    # Imported modules run from cached bytecode on both sides, as on a user's second run:
    # without this (PYTHONDONTWRITEBYTECODE set, or a fresh copy of the book per run) each run
    # would also time compiling every imported module, the book's common/ and fastscratch alike.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.threads:
        for name in (
            "OMP_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "MKL_NUM_THREADS",
            "FASTSCRATCH_NUM_THREADS",
        ):
            env[name] = str(args.threads)
    load_start = load_average()
    # also warms up: a pending editable rebuild of fastscratch or matplotlib's font cache
    # happens here, not inside the first timed run
    info = probe(args.python, env)
    if "fastscratch_error" in info:
        raise UsageError(
            f"fastscratch does not import with {args.python}: {info['fastscratch_error']}"
        )

    tmp = Path(tempfile.mkdtemp(prefix="book_scripts-"))
    try:
        return run_in(args, book, chapters, env, info, load_start, tmp)
    finally:
        if args.keep:
            print(f"(temporary copies kept in {tmp})", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run_in(args, book, chapters, env, info, load_start, tmp):
    stage = tmp / "stage"
    stage.mkdir()
    source_text = export_book(book, args.rev, stage)
    scripts = select_scripts(stage, chapters, args.only)
    if not scripts:
        raise UsageError(
            f"no scripts selected (chapters {', '.join(chapters)}"
            + (f", --only {args.only!r}" if args.only else "")
            + ")"
        )

    notes = []
    # fastscratch's decoded MNIST copies (its mnist.pkl) in this run's folder, not the user's
    env = dict(env, FASTSCRATCH_CACHE=str(tmp / "decoded"))
    source, looked = mnist_source(args.data, book)
    if source is None:
        notes.append(
            "MNIST: no test files found (looked in "
            + ", ".join(f"`{p}`" for p in looked)
            + "): scripts that load MNIST fail on both sides"
        )
    else:
        (stage / "dataset").mkdir(exist_ok=True)
        notes.append(stage_mnist(source, stage / "dataset"))
        notes.append(build_mnist_pickle(args.python, stage, env))
        notes.append(build_decoded_copies(args.python, stage, env))
    if args.weights:
        for name, target in WEIGHTS.items():
            if (Path(args.weights) / name).is_file():
                (stage / target).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(args.weights) / name, stage / target)
                notes.append(f"`{target}` replaced by `{Path(args.weights) / name}`")
    edits = [] if args.no_edits else apply_edits(stage, scripts)
    notes.append(compile_bytecode(args.python, [stage, info.get("fastscratch_dir")], env))

    rows = []
    with spinning(args.busy):
        for script in scripts:
            rows.append(time_script(args, script, stage, env, tmp))
            verdict = row_verdict(rows[-1], args.timeout)[0]
            print(f"  {script}: {verdict}", file=sys.stderr, flush=True)

    header = header_lines(args, source_text, info, load_start, load_average(), notes, edits)
    markdown = (
        "\n".join(
            header
            + [""]
            + table_lines(rows, args.timeout)
            + summary_lines(rows)
            + details_lines(rows, args.timeout)
        )
        + "\n"
    )
    print(markdown, end="")
    if args.output:
        Path(args.output).write_text(markdown, encoding="utf-8")
    # exit status 1 when fastscratch fails a script the book runs
    regressions = [
        row
        for row in rows
        if "skipped" not in row and failed(row["fastscratch"][-1]) and not failed(row["book"][-1])
    ]
    return 1 if regressions else 0


def time_script(args, script, stage, env, tmp):
    """One script's row: both sides' runs, interleaved, each in a fresh copy of the stage
    (`args.repeats` a side, `args.short_repeats` for a short script), or what it needs and lacks."""
    missing = [need for need in NEEDS.get(script, []) if not (stage / need).exists()]
    if missing:
        return {"script": script, "skipped": missing}
    results = {"book": [], "fastscratch": []}
    repeats, repeat = args.repeats, 0
    while repeat < repeats:
        order = ("book", "fastscratch") if repeat % 2 == 0 else ("fastscratch", "book")
        for side in order:
            if results[side] and failed(results[side][-1]):
                continue  # a failure is not repeated
            copy = tmp / "run"
            shutil.copytree(stage, copy, symlinks=True)
            chapter, name = script.split("/")
            # the staged files themselves (fastscratch only reads them): its decoded copies
            # are keyed by the files' path, the same for every run
            side_env = dict(env, FASTSCRATCH_DATA=str(stage / "dataset"))
            cmd = side_command(args.python, side, name, args.seed, args.nets)
            results[side].append(run_side(cmd, copy / chapter, side_env, args.timeout))
            shutil.rmtree(copy, ignore_errors=True)
        if repeat == 0 and is_short(results):
            repeats = max(repeats, args.short_repeats)
        repeat += 1
    return {"script": script, **results}


def row_verdict(row, timeout):
    """(short text for the table, details or None)."""
    if "skipped" in row:
        return "skipped: needs " + ", ".join(row["skipped"]), None
    book, fs = row["book"], row["fastscratch"]
    book_failed, fs_failed = failed(book[-1]), failed(fs[-1])
    if book_failed or fs_failed:
        parts = []
        if book_failed:
            parts.append(failure_text("book", book[-1], timeout))
        if fs_failed:
            parts.append(failure_text("fastscratch", fs[-1], timeout))
        short = "; ".join(shorten(p, 110) for p in parts)
        details = []
        for name, result in (("book", book[-1]), ("fastscratch", fs[-1])):
            if failed(result):
                tail = [
                    line
                    for line in result["stderr"].rstrip().splitlines()
                    if "<frozen runpy>" not in line
                ][-6:] or ["(empty)"]
                what = "killed after the timeout; " if result["timeout"] else ""
                details.append(f"{name}: {what}stderr (last lines):\n" + "\n".join(tail))
        return short, "\n".join(details)
    verdict, detail = "same", None
    diff = compare(book[0]["stdout"], fs[0]["stdout"])
    if diff is not None:
        line, a, b, n = diff["line"], diff["book"], diff["fastscratch"], diff["lines"]
        what = (
            "differs"
            if diff["rel"] is None
            else f"numbers differ (largest relative difference {diff['rel']:.1e})"
        )
        verdict = (
            f"{what}, {n} line{'s' if n != 1 else ''} from line {line}: "
            f"{md_code(shorten(a, 45))} vs {md_code(shorten(b, 45))}"
        )
        detail = (
            f"first difference, line {line}:\nbook:        {shorten(a, 300)}\n"
            f"fastscratch: {shorten(b, 300)}"
        )
    for name, results in (("book", book), ("fastscratch", fs)):
        if any(r["stdout"] != results[0]["stdout"] for r in results[1:]):
            verdict += f" ({name}'s output varies between repeats)"
    return verdict, detail


def timed(row):
    """Whether both sides of a row ran to the end (so their times compare)."""
    if "skipped" in row:
        return False
    return not failed(row["book"][-1]) and not failed(row["fastscratch"][-1])


def pair_ratios(row):
    """book ÷ fastscratch of each interleaved pair of runs (run i of both sides ran back to
    back, so a pair saw about the same load)."""
    return [
        b["seconds"] / f["seconds"]
        for b, f in zip(row["book"], row["fastscratch"])
        if f["seconds"] > 0
    ]


def table_lines(rows, timeout):
    lines = [
        "| script | same output | book s | fastscratch s | book ÷ fastscratch | pairs' range |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        verdict, _ = row_verdict(row, timeout)
        book_s = fs_s = ratio = spread = "—"
        if "skipped" not in row:
            book_s = fmt_seconds(row["book"], timeout)
            fs_s = fmt_seconds(row["fastscratch"], timeout)
        if timed(row):
            b = statistics.median(r["seconds"] for r in row["book"])
            f = statistics.median(r["seconds"] for r in row["fastscratch"])
            ratio = f"{b / f:.2f}" if f > 0 else "—"
            pairs = pair_ratios(row)
            if len(pairs) > 1:
                spread = f"{min(pairs):.2f}–{max(pairs):.2f}"
        cell = md_cell(verdict) if not timed(row) else verdict  # else it holds code spans
        lines.append(f"| {row['script']} | {cell} | {book_s} | {fs_s} | {ratio} | {spread} |")
    return lines


def summary_lines(rows):
    """Which scripts were faster through fastscratch in every pair of runs, which slower in
    every pair, and which in some pairs only (the difference within the runs' noise)."""
    groups = {"faster": [], "slower": [], "mixed": []}
    for row in rows:
        pairs = pair_ratios(row) if timed(row) else []
        if len(pairs) < 2:
            continue
        key = "faster" if min(pairs) > 1 else "slower" if max(pairs) < 1 else "mixed"
        groups[key].append(row["script"])
    if not any(groups.values()):
        return []
    text = {
        "faster": "faster through fastscratch in every pair of runs",
        "slower": "**slower through fastscratch in every pair of runs**",
        "mixed": "faster in some pairs and slower in others (within the noise of a run)",
    }
    lines = ["", "Pairs of runs (book ÷ fastscratch of runs made back to back):"]
    for key in ("faster", "slower", "mixed"):
        names = groups[key]
        if names:
            lines.append(f"- {len(names)} {text[key]}: " + ", ".join(names))
    return lines


def details_lines(rows, timeout):
    out = []
    for row in rows:
        _, detail = row_verdict(row, timeout)
        if detail:
            out += ["", f"**{row['script']}**", "", "```", detail.replace("```", "'''"), "```"]
    return (["", "### Details"] + out) if out else []


def header_lines(args, source_text, info, load_start, load_end, notes, edits):
    versions = (
        f"Python {info.get('python')}, NumPy {info.get('numpy')}, "
        f"fastscratch {info.get('fastscratch')}"
    )
    if info.get("backend"):
        versions += f" (backend {info['backend']})"
    versions += f", matplotlib {info.get('matplotlib')}"
    threads = (
        f"{args.threads} (OMP/OpenBLAS/MKL/FASTSCRATCH_NUM_THREADS)"
        if args.threads
        else "each library's default"
    )
    fs_cmd = "python -m fastscratch run " + ("--nets " if args.nets else "") + "SCRIPT"
    lines = [
        "## The book's scripts: the book's code vs fastscratch",
        "",
        f"- book: {source_text}; chapters {args.chapters}"
        + (f", only `{args.only}`" if args.only else ""),
        f"- machine: {cpu_model()}, {os.cpu_count()} cores ({usable_cores()} usable); "
        f"load average (1, 5, 15 min) at start {load_start}, at end {load_end}",
        f"- {versions}; interpreter `{info.get('executable')}`; threads: {threads}",
        f"- each side: cwd = the script's chapter folder in a fresh temporary copy, "
        f"MPLBACKEND=Agg, stdin closed; `np.random.seed({args.seed})` first on both sides "
        f"(fastscratch's side imports fastscratch before NumPy, as `python -m fastscratch` "
        f"does), then the book's side runs the script with runpy as `python SCRIPT` would, "
        f"fastscratch's as `{fs_cmd}`",
        f"- wall seconds per run (time.perf_counter around the subprocess, interpreter start "
        f"included); {args.repeats} run{'s' if args.repeats > 1 else ''} per side"
        + (", interleaved, medians" if args.repeats > 1 else "")
        + (
            f" ({args.short_repeats} for a script under {SHORT_SECONDS:g} s on both sides)"
            if args.short_repeats > args.repeats
            else ""
        )
        + f"; timeout {args.timeout:g} s; 'same output' compares the two stdouts line by line",
    ]
    if args.busy:
        lines.append(
            f"- **load: {args.busy} spinning process{'es' if args.busy > 1 else ''} "
            f"(`while True: pass`, one core each) ran beside every timed run (--busy "
            f"{args.busy})**; the load average at the end includes them"
        )
    lines += [f"- {note}" for note in notes]
    if args.no_edits:
        lines.append("- edits: none (--no-edits): the scripts run at the book's full length")
    elif edits:
        lines.append("- edits applied to both sides' copies (the long trainings shortened):")
        for script, old, new, why, applied in edits:
            status = "" if applied else " — **not found, not applied**"
            lines.append(f"  - {script}: {md_code(old)} → {md_code(new)} ({why}){status}")
    else:
        lines.append("- edits: none apply to the selected scripts")
    return lines


if __name__ == "__main__":
    sys.exit(main())
