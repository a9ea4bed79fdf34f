"""Shared fixtures. A test that takes the `backend` fixture runs once per backend ('reference'
and 'native', or the one --backend names); the real data in ../shared/data is found (or the
test skips) in one place."""

import os
from pathlib import Path

import numpy as np
import pytest

import fastscratch

BACKENDS = ("reference", "native")


def pytest_addoption(parser):
    parser.addoption(
        "--backend",
        default="both",
        choices=("both",) + BACKENDS,
        help="run the API tests on this backend only (default: both)",
    )


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--backend")
        metafunc.parametrize("backend", BACKENDS if chosen == "both" else (chosen,), indirect=True)


@pytest.fixture(scope="session", autouse=True)
def _decoded_copies_in_a_temporary_folder(tmp_path_factory):
    """MNIST's decoded copies (dataset/mnist.py) go to a folder of this session, not the user's
    ~/.cache; subprocesses inherit the variable."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FASTSCRATCH_CACHE", str(tmp_path_factory.mktemp("decoded")))
        yield


@pytest.fixture
def backend(request):
    """Runs the test with the kernels on one backend; the test's id says which."""
    with fastscratch.use_backend(request.param):
        yield request.param


def shared_data_dir():
    """../shared/data beside the checkout, or $FASTSCRATCH_SHARED_DATA; None when absent."""
    env = os.environ.get("FASTSCRATCH_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[1].parent / "shared" / "data")
    for path in candidates:
        if (path / "mnist").is_dir():
            return path
    return None


@pytest.fixture
def shared_data():
    path = shared_data_dir()
    if path is None:
        pytest.skip("the real data (../shared/data) is not present in this checkout")
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(20261129)


def _idx_bytes(array):
    """An IDX file's bytes: magic (0x0803 images, 0x0801 labels), dimensions, uint8 payload."""
    import struct

    head = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(np.uint8).tobytes()


@pytest.fixture
def write_mnist(rng):
    """write_mnist(folder, n_train, n_test): fake MNIST IDX files (gzip) whose images are the
    label drawn as a bright block, so a net can learn them; returns the folder."""
    import gzip

    def write(folder, n_train=200, n_test=50):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for split, n in (("train", n_train), ("t10k", n_test)):
            labels = rng.integers(0, 10, size=n).astype(np.uint8)
            images = rng.integers(0, 40, size=(n, 28, 28)).astype(np.uint8)
            for i, label in enumerate(labels):
                images[i, 2 + 2 * label : 6 + 2 * label, 4:24] = 255
            (folder / f"{split}-images-idx3-ubyte.gz").write_bytes(
                gzip.compress(_idx_bytes(images))
            )
            (folder / f"{split}-labels-idx1-ubyte.gz").write_bytes(
                gzip.compress(_idx_bytes(labels))
            )
        return folder

    return write
