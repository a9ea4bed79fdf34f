"""safe_pickle loads the book's parameter pickles (2016, protocol 3, `numpy.core` names) under
today's NumPy, round-trips dicts of arrays, and refuses, without running them, pickles that
call anything else."""

import collections
import io
import os
import pickle

import numpy as np
import pytest

from fastscratch import safe_pickle

BOOK_PICKLES = {
    "sample_weight.pkl": (
        {"W1": (784, 50), "b1": (50,), "W2": (50, 100), "b2": (100,), "W3": (100, 10), "b3": (10,)},
        np.float32,
    ),
    "simple_convnet_params.pkl": (
        {
            "W1": (30, 1, 5, 5),
            "b1": (30,),
            "W2": (4320, 100),
            "b2": (100,),
            "W3": (100, 10),
            "b3": (10,),
        },
        np.float64,
    ),
    "deep_convnet_params.pkl": (
        {
            "W1": (16, 1, 3, 3),
            "W2": (16, 16, 3, 3),
            "W3": (32, 16, 3, 3),
            "W4": (32, 32, 3, 3),
            "W5": (64, 32, 3, 3),
            "W6": (64, 64, 3, 3),
            "W7": (1024, 50),
            "W8": (50, 10),
            "b1": (16,),
            "b2": (16,),
            "b3": (32,),
            "b4": (32,),
            "b5": (64,),
            "b6": (64,),
            "b7": (50,),
            "b8": (10,),
        },
        np.float64,
    ),
}


@pytest.fixture
def book_dir(shared_data):
    if not (shared_data / "book").is_dir():
        pytest.skip("the book's pickles (../shared/data/book) are not present")
    return shared_data / "book"


@pytest.mark.parametrize("name", sorted(BOOK_PICKLES))
def test_book_pickle_loads_with_the_spec_keys_shapes_and_dtypes(book_dir, name):
    shapes, dtype = BOOK_PICKLES[name]
    params = safe_pickle.load(book_dir / name)
    assert type(params) is dict
    assert {key: value.shape for key, value in params.items()} == shapes
    assert all(type(value) is np.ndarray and value.dtype == dtype for value in params.values())
    assert all(np.isfinite(value).all() for value in params.values())


def test_sample_weight_keeps_its_fortran_ordered_weights(book_dir):
    params = safe_pickle.load(str(book_dir / "sample_weight.pkl"))  # a str path works too
    for key in ("W1", "W2", "W3"):
        assert params[key].flags.f_contiguous and not params[key].flags.c_contiguous


def test_book_pickle_loads_from_an_open_file_like_pickle_load(book_dir):
    path = book_dir / "simple_convnet_params.pkl"
    with open(path, "rb") as file:
        safe = safe_pickle.load(file)
    with open(path, "rb") as file:
        trusted = pickle.load(file)
    assert safe.keys() == trusted.keys()
    for key in safe:
        np.testing.assert_array_equal(safe[key], trusted[key])


class _RunsAShellCommand:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_pickle_calling_os_system_is_refused_and_runs_nothing(tmp_path):
    witness = tmp_path / "pwned"
    payload = tmp_path / "evil.pkl"
    payload.write_bytes(pickle.dumps({"W1": _RunsAShellCommand(f"touch {witness}")}))
    with pytest.raises(pickle.UnpicklingError, match=r"refused.*(posix|os|nt)\.system"):
        safe_pickle.load(payload)
    assert not witness.exists()


@pytest.mark.parametrize(
    "module, name",
    [
        ("builtins", "eval"),
        ("builtins", "getattr"),
        ("subprocess", "Popen"),
        ("numpy", "load"),
        ("numpy.testing", "assert_equal"),
        ("collections", "namedtuple"),
    ],
)
def test_any_global_outside_the_numpy_array_set_is_refused_by_name(module, name):
    data = b"\x80\x03c" + f"{module}\n{name}\n".encode() + b")R."  # GLOBAL, call with ()
    with pytest.raises(pickle.UnpicklingError, match=rf"refused.*{module}\.{name}"):
        safe_pickle.loads(data)


def test_codecs_encode_is_admitted_only_for_latin1_bytes():
    evil = b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x05\x00\x00\x00rot13\x86R."
    with pytest.raises(pickle.UnpicklingError, match="latin1"):
        safe_pickle.loads(evil)


def _mixed_params():
    rng = np.random.default_rng(3)
    return {
        "W32": rng.standard_normal((4, 3)).astype(np.float32),
        "WF": np.asfortranarray(rng.standard_normal((5, 7))),
        "W64": rng.standard_normal((2, 3, 4)),
        "idx": np.arange(12, dtype=np.int64).reshape(3, 4),
        "mask": rng.random(6) > 0.5,
        "empty": np.zeros((0, 3), np.float32),
        "lr": np.float64(0.01),
        "nested": collections.OrderedDict(
            a=[np.ones(2, np.int32)], b=(1, "x", None), c={b"raw", 2.5}, d=frozenset({3})
        ),
    }


def _assert_same(loaded, original):
    assert loaded.keys() == original.keys()
    for key, value in original.items():
        if isinstance(value, np.ndarray):
            assert loaded[key].dtype == value.dtype
            assert loaded[key].flags.f_contiguous == value.flags.f_contiguous
            np.testing.assert_array_equal(loaded[key], value)
    assert type(loaded["lr"]) is np.float64 and loaded["lr"] == 0.01
    assert type(loaded["nested"]) is collections.OrderedDict
    np.testing.assert_array_equal(loaded["nested"]["a"][0], np.ones(2, np.int32))
    assert loaded["nested"]["b"] == (1, "x", None)
    assert loaded["nested"]["c"] == {b"raw", 2.5} and loaded["nested"]["d"] == frozenset({3})


def test_dump_then_load_round_trips_a_dict_of_arrays_including_fortran_order(tmp_path):
    params = _mixed_params()
    safe_pickle.dump(params, tmp_path / "params.pkl")
    _assert_same(safe_pickle.load(tmp_path / "params.pkl"), params)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_every_pickle_protocol_of_plain_arrays_loads(protocol):
    params = _mixed_params()
    loaded = safe_pickle.load(io.BytesIO(pickle.dumps(params, protocol=protocol)))
    _assert_same(loaded, params)


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage", b"\x80\x04K", b"PK\x03\x04junk", b"\x93NUMPY", b"\x80\x04\x95\x10"],
    ids=["empty", "text", "truncated", "zip-like", "npy-magic", "frame"],
)
def test_a_file_that_is_no_pickle_raises_unpicklingerror_naming_it(tmp_path, content):
    # They raised EOFError, IndexError ("pop from empty list") or a ValueError about base-10
    # literals, none naming the file.
    path = tmp_path / "params.pkl"
    path.write_bytes(content)
    with pytest.raises(pickle.UnpicklingError, match="params.pkl"):
        safe_pickle.load(path)
    with pytest.raises(pickle.UnpicklingError, match="the bytes"):
        safe_pickle.loads(content)
