"""Hostile files (issue 11 items 9 and 10): forged pickles whose dtypes carry hidden fields, and
decompression bombs in MNIST's .gz and in .npz parameters. Each is refused with a clear error
before anything changes, and without reading (or inflating) more than the header declares."""

import io
import pickle

import numpy as np
import pytest

from fastscratch import safe_pickle
from fastscratch.two_layer_net import TwoLayerNet

# --- forged dtypes in pickles (item 9) ------------------------------------------------------

# What a float64 dtype's __setstate__ normally receives, and a forgery of it: an object field at
# offset 0 of what still compares equal to float64, flags claiming it holds no objects.
PLAIN_F8_STATE = (3, "<", None, None, None, -1, -1, 0)
OBJECT_FIELD_STATE = (3, "|", None, ("a",), {"a": (np.dtype("O"), 0)}, 8, 1, 0)


class _ForgingPickler(pickle.Pickler):
    """Pickles every float64 dtype as numpy.dtype('f8', False, True) with `state` as its state,
    as a hand-edited file would."""

    def __init__(self, file, state, args=("f8", False, True)):
        super().__init__(file, protocol=2)
        self.state, self.args = state, args

    def reducer_override(self, obj):
        if isinstance(obj, np.dtype) and obj == np.float64 and obj.fields is None:
            return np.dtype, self.args, self.state
        return NotImplemented


def forged(obj, state, args=("f8", False, True)):
    buffer = io.BytesIO()
    _ForgingPickler(buffer, state, args).dump(obj)
    return buffer.getvalue()


def test_the_forger_reproduces_a_plain_pickle_with_the_plain_state():
    params = {"W1": np.arange(6.0).reshape(2, 3)}
    loaded = safe_pickle.loads(forged(params, PLAIN_F8_STATE))
    np.testing.assert_array_equal(loaded["W1"], params["W1"])


def test_a_dtype_state_adding_an_object_field_is_refused_before_it_is_applied():
    # Before the fix this loaded: a dtype equal to float64 with an object field, whose data are
    # raw floats read as pointers (reading the field crashed).
    with pytest.raises(pickle.UnpicklingError, match="refused a numpy dtype"):
        safe_pickle.loads(forged({"W1": np.arange(6.0).reshape(2, 3)}, OBJECT_FIELD_STATE))
    with pytest.raises(pickle.UnpicklingError, match="refused a numpy dtype"):
        safe_pickle.loads(forged(np.float64(1.5), OBJECT_FIELD_STATE))


@pytest.mark.parametrize(
    "state",
    [
        (3, "<", None, None, None, -1, -1, 0x3F),  # flags claiming objects (refcounted data)
        (3, "<", (np.dtype("f8"), (2,)), None, None, -1, -1, 0),  # a subarray
        (3, "<", None, None, None, 16, 8, 0),  # a size
        (4, "<", None, None, None, -1, -1, 0, {"evil": 1}),  # metadata
        (3, "|", None, ("a",), {"a": (np.dtype("f8"), 0)}, 8, 1, 0),  # fields of plain types
        "not a tuple",
    ],
)
def test_any_state_other_than_a_plain_dtypes_is_refused(state):
    with pytest.raises(pickle.UnpicklingError, match="refused a numpy dtype"):
        safe_pickle.loads(forged({"W1": np.zeros(3)}, state))


@pytest.mark.parametrize(
    "args", [("O8", False, True), ("V8", False, True), ([("a", "O")], False, True)]
)
def test_dtypes_other_than_plain_numbers_are_refused_before_numpy_builds_them(args):
    with pytest.raises(pickle.UnpicklingError, match="refused a numpy dtype built from"):
        safe_pickle.loads(forged({"W1": np.zeros(3)}, PLAIN_F8_STATE, args))


def test_load_params_of_a_forged_pickle_leaves_the_net_untouched(tmp_path):
    np.random.seed(0)
    net = TwoLayerNet(input_size=4, hidden_size=3, output_size=2)
    saved = {key: val.copy() for key, val in net.params.items()}
    before = dict(net.params)
    path = tmp_path / "params.pkl"
    path.write_bytes(forged(saved, OBJECT_FIELD_STATE))
    with pytest.raises(pickle.UnpicklingError, match="refused a numpy dtype"):
        net.load_params(path)
    for key, val in before.items():
        assert net.params[key] is val
        np.testing.assert_array_equal(val, saved[key])
    assert net.layers["Affine1"].W is net.params["W1"]
