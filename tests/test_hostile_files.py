"""Hostile files (issue 11 items 9 and 10): forged pickles whose dtypes carry hidden fields, and
decompression bombs in MNIST's .gz and in .npz parameters. Each is refused with a clear error
before anything changes, and without reading (or inflating) more than the header declares."""

import gzip
import io
import pickle
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
from numpy.lib import format as npy

from fastscratch import params_io, safe_pickle
from fastscratch.dataset.mnist import IDXFormatError, key_file, load_mnist_split, read_idx
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


# --- decompression bombs (item 10) -----------------------------------------------------------

BOMB_SIZE = 48 << 20  # inflated bytes: enough to see, far below what the fix lets through
PEAK_LIMIT = 8 << 20  # what reading a refused bomb may allocate at most


def _peak_while(function):
    """(exception raised by function(), peak bytes traced while it ran)."""
    tracemalloc.start()
    try:
        try:
            function()
        except Exception as exc:  # noqa: BLE001 -- the test checks which
            raised = exc
        else:
            raised = None
        return raised, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_gzip_mnist_bomb_is_refused_after_the_declared_size_not_inflated(tmp_path):
    # Labels header declaring 10 labels, followed by 48 MiB of zeros (a 48 KiB .gz): before the
    # fix the whole stream was inflated before the size was compared.
    header = struct.pack(">HBBI", 0, 0x08, 1, 10)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunks = [compressor.compress(header)]
    chunks += [compressor.compress(bytes(1 << 20)) for _ in range(BOMB_SIZE >> 20)]
    path = tmp_path / key_file["test_label"]
    path.write_bytes(b"".join(chunks) + compressor.flush())
    assert path.stat().st_size < BOMB_SIZE // 100
    raised, peak = _peak_while(lambda: read_idx(path))
    assert isinstance(raised, IDXFormatError) and "too long" in str(raised)
    assert "needs 10 bytes" in str(raised) and "found more than" in str(raised)
    assert peak < PEAK_LIMIT


def test_a_gzip_mnist_file_of_the_wrong_kind_is_refused_before_its_data_is_read(
    tmp_path, monkeypatch
):
    # 32x32 images: refused from the header, so not one byte of data is read
    header = struct.pack(">HBB3I", 0, 0x08, 3, 5, 32, 32)
    (tmp_path / key_file["test_img"]).write_bytes(gzip.compress(header + bytes(5 * 32 * 32)))
    (tmp_path / key_file["test_label"]).write_bytes(
        gzip.compress(struct.pack(">HBBI", 0, 0x08, 1, 5) + bytes(5))
    )
    reads = []
    original = gzip.GzipFile.read

    def counting_read(self, size=-1):
        data = original(self, size)
        reads.append(len(data))
        return data

    monkeypatch.setattr(gzip.GzipFile, "read", counting_read)
    with pytest.raises(IDXFormatError, match="32x32 pixels"):
        load_mnist_split("test", data_dir=tmp_path, download=False)
    assert sum(reads) == len(header)


def _npz_with_member(path, name, shape, dtype, data_bytes, compress=True):
    """An .npz whose member `name` has a .npy header declaring (shape, dtype) followed by
    `data_bytes` zero bytes (deflated, so that a large member stays a small file)."""
    head = io.BytesIO()
    npy.write_array_header_1_0(
        head, {"descr": npy.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    )
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as archive:
        with archive.open(name + ".npy", "w", force_zip64=True) as member:
            member.write(head.getvalue())
            for start in range(0, data_bytes, 1 << 20):
                member.write(bytes(min(1 << 20, data_bytes - start)))
    return path


def _tiny_net():
    np.random.seed(0)
    return TwoLayerNet(input_size=4, hidden_size=3, output_size=2)


def test_an_npz_bomb_member_of_a_huge_declared_shape_is_refused_before_its_data_is_read(tmp_path):
    # W1 should be (4, 3); this one declares 48 MiB of float64 and holds them (a ~50 KiB file)
    path = _npz_with_member(tmp_path / "bomb.npz", "W1", (BOMB_SIZE // 8,), "f8", BOMB_SIZE)
    assert path.stat().st_size < BOMB_SIZE // 100
    net = _tiny_net()
    before = dict(net.params)
    raised, peak = _peak_while(lambda: net.load_params(path))
    assert isinstance(raised, ValueError)
    assert "W1 must have shape (4, 3)" in str(raised) and f"({BOMB_SIZE // 8},)" in str(raised)
    assert peak < PEAK_LIMIT
    assert all(net.params[key] is val for key, val in before.items())


def test_an_npz_member_declaring_more_data_than_the_zip_holds_is_refused_unread(tmp_path):
    # no net to compare with (the module's load_params): the zip's own record of the member's
    # size still bounds it, so a forged header cannot make it allocate gigabytes
    path = _npz_with_member(tmp_path / "forged.npz", "W1", (1 << 30,), "f8", 16, compress=False)
    raised, peak = _peak_while(lambda: params_io.load_params(path))
    assert isinstance(raised, ValueError) and "W1" in str(raised)
    assert "declares" in str(raised) and "more than the whole member" in str(raised)
    assert peak < PEAK_LIMIT


def test_an_npz_member_of_another_name_or_a_non_number_dtype_is_refused_from_its_header(tmp_path):
    net = _tiny_net()
    path = _npz_with_member(tmp_path / "other.npz", "W9", (4, 3), "f8", 96)
    with pytest.raises(ValueError, match="W9, which this net does not have"):
        net.load_params(path)
    path = _npz_with_member(tmp_path / "void.npz", "W1", (4, 3), "V1000000", 0)
    with pytest.raises(TypeError, match="W1 must hold real numbers, got dtype"):
        net.load_params(path)


def test_an_npz_the_net_expects_still_loads_after_the_header_checks(tmp_path):
    source = _tiny_net()
    source.save_params(tmp_path / "p.npz")
    np.random.seed(5)
    net = TwoLayerNet(input_size=4, hidden_size=3, output_size=2)
    net.load_params(tmp_path / "p.npz")
    for key, val in source.params.items():
        np.testing.assert_array_equal(net.params[key], val)
        assert net.params[key].flags.writeable
    loaded = params_io.load_params(tmp_path / "p.npz")
    assert sorted(loaded) == sorted(source.params)
