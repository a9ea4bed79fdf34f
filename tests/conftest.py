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
    parser.addoption("--backend", default="both", choices=("both",) + BACKENDS,
                     help="run the API tests on this backend only (default: both)")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--backend")
        metafunc.parametrize("backend", BACKENDS if chosen == "both" else (chosen,),
                             indirect=True)


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
