"""fastscratch.dataset.mnist: the book's load_mnist dtypes, shapes and arithmetic from IDX files
written here (gzip and raw), header validation with clear errors, the folder search order,
verified downloads (faked: these tests never touch the network), and the real t10k set."""

import gzip
import hashlib
import io
import os
import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from fastscratch.dataset import mnist
from fastscratch.dataset.mnist import (
    IDXFormatError,
    find_file,
    key_file,
    load_mnist,
    load_mnist_split,
    mnist_dir,
    read_idx,
)

N_TRAIN, N_TEST = 5, 3


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Every test runs with downloads disabled, and any attempt to open a URL fails loudly."""
    monkeypatch.setenv("FASTSCRATCH_NO_DOWNLOAD", "1")
    monkeypatch.delenv("FASTSCRATCH_DATA", raising=False)

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to reach the network")

    monkeypatch.setattr(mnist.urllib.request, "urlopen", refuse)


def idx_bytes(array, type_code=0x08, magic=None):
    array = np.asarray(array)
    head = magic if magic is not None else (type_code << 8) | array.ndim
    dims = struct.pack(f">{array.ndim}I", *array.shape)
    return struct.pack(">I", head) + dims + array.tobytes()


def write(path, data, compress=True):
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def fake_split(folder, split, n, rng, compress=True):
    """Writes n random 28x28 images and their labels under the book's names; returns them."""
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # the ends of the range
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    for key, array in ((f"{split}_img", images), (f"{split}_label", labels)):
        name = key_file[key] if compress else key_file[key][:-3]
        write(folder / name, idx_bytes(array), compress)
    return images, labels


@pytest.fixture
def mnist_folder(tmp_path, rng):
    """A folder with a tiny train set (gzip) and test set (raw, as if gunzipped)."""
    train = fake_split(tmp_path, "train", N_TRAIN, rng)
    test = fake_split(tmp_path, "test", N_TEST, rng, compress=False)
    return tmp_path, train, test


# --- load_mnist: the book's dtypes, shapes and arithmetic ------------------------------------


def test_load_mnist_defaults_give_the_books_float32_flat_images_and_uint8_labels(mnist_folder):
    folder, (train_x, train_t), (test_x, test_t) = mnist_folder
    (x_train, t_train), (x_test, t_test) = load_mnist(data_dir=folder)
    assert x_train.dtype == np.float32 and x_train.shape == (N_TRAIN, 784)
    assert x_test.dtype == np.float32 and x_test.shape == (N_TEST, 784)
    assert t_train.dtype == np.uint8 and t_train.shape == (N_TRAIN,)
    np.testing.assert_array_equal(t_train, train_t)
    np.testing.assert_array_equal(t_test, test_t)
    assert x_train.min() == 0.0 and x_train.max() == 1.0


def test_normalize_is_bit_identical_to_the_books_astype_then_divide(mnist_folder):
    folder, (train_x, _), _ = mnist_folder
    (x_train, _), _ = load_mnist(data_dir=folder)
    expected = train_x.reshape(-1, 784).astype(np.float32)
    expected /= 255.0
    assert x_train.tobytes() == expected.tobytes()


def test_normalize_false_keeps_uint8_pixels(mnist_folder):
    folder, (train_x, _), _ = mnist_folder
    (x_train, _), _ = load_mnist(normalize=False, data_dir=folder)
    assert x_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, train_x.reshape(-1, 784))


def test_flatten_false_gives_nchw_images(mnist_folder):
    folder, (train_x, _), _ = mnist_folder
    (x_train, _), (x_test, _) = load_mnist(normalize=False, flatten=False, data_dir=folder)
    assert x_train.shape == (N_TRAIN, 1, 28, 28) and x_test.shape == (N_TEST, 1, 28, 28)
    np.testing.assert_array_equal(x_train[:, 0], train_x)


def test_one_hot_labels_are_float64_rows_with_a_single_one(mnist_folder):
    folder, (_, train_t), _ = mnist_folder
    (_, t_train), (_, t_test) = load_mnist(one_hot_label=True, data_dir=folder)
    assert t_train.dtype == np.float64 and t_train.shape == (N_TRAIN, 10)
    assert t_test.shape == (N_TEST, 10)
    np.testing.assert_array_equal(t_train.argmax(axis=1), train_t)
    np.testing.assert_array_equal(t_train.sum(axis=1), 1.0)


def test_loaded_arrays_are_writable_like_the_books(mnist_folder):
    folder = mnist_folder[0]
    (x_train, t_train), _ = load_mnist(normalize=False, data_dir=folder)
    x_train[0, 0] = 7
    t_train[0] = 3


def test_load_mnist_split_returns_one_split(mnist_folder):
    folder, _, (test_x, test_t) = mnist_folder
    x, t = load_mnist_split("test", normalize=False, flatten=False, data_dir=folder)
    np.testing.assert_array_equal(x[:, 0], test_x)
    np.testing.assert_array_equal(t, test_t)


def test_load_mnist_split_needs_only_its_own_files(tmp_path, rng):
    fake_split(tmp_path, "test", N_TEST, rng)
    x, t = load_mnist_split("test", data_dir=tmp_path)
    assert x.shape == (N_TEST, 784)


def test_unknown_split_is_refused_naming_the_argument(mnist_folder):
    with pytest.raises(ValueError, match=r"split.*'train' or 'test'.*'valid'"):
        load_mnist_split("valid", data_dir=mnist_folder[0])


def test_load_mnist_prints_nothing_without_a_download(mnist_folder, capsys):
    load_mnist(data_dir=mnist_folder[0])
    assert capsys.readouterr() == ("", "")


# --- read_idx and header validation ---------------------------------------------------------


def test_read_idx_detects_gzip_by_content_not_by_name(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    gz_named_raw = write(tmp_path / "raw.gz", idx_bytes(labels), compress=False)
    raw_named_gz = write(tmp_path / "labels-ubyte", idx_bytes(labels))
    np.testing.assert_array_equal(read_idx(gz_named_raw), labels)
    np.testing.assert_array_equal(read_idx(raw_named_gz), labels)


@pytest.mark.parametrize(
    "type_code, dtype",
    [(0x08, "u1"), (0x09, "i1"), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"), (0x0E, ">f8")],
)
def test_read_idx_reads_every_idx_type_in_native_byte_order(tmp_path, type_code, dtype):
    array = np.arange(24).reshape(2, 3, 4).astype(dtype)
    path = write(tmp_path / "any.idx", idx_bytes(array, type_code))
    loaded = read_idx(path)
    assert loaded.shape == (2, 3, 4) and loaded.dtype.isnative
    assert loaded.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(loaded, array)


def _labels_file(tmp_path, data):
    return write(tmp_path / key_file["test_label"], data)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", r"empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), r"not an IDX file.*00 00.*89 50 4e 47"),
        (b"\0\0\x08", r"truncated header.*4 bytes, found 3"),
        (b"\0\0\x07\x01" + bytes(8), r"unknown IDX type code 0x07"),
        (b"\0\0\x08\x00", r"0 dimensions"),
        (b"\0\0\x08\x03\0\0\0\x05", r"truncated header.*16 bytes.*found 8"),
        (idx_bytes(np.arange(10, dtype=np.uint8))[:-1], r"truncated.*\(10,\).*10 bytes.*found 9"),
        (idx_bytes(np.arange(10, dtype=np.uint8)) + b"\0\0", r"too long.*10 bytes.*found 12"),
    ],
)
def test_read_idx_refuses_a_malformed_file_saying_what_it_expected(tmp_path, data, message):
    path = _labels_file(tmp_path, data)
    with pytest.raises(IDXFormatError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_read_idx_refuses_garbage_after_a_gzip_magic(tmp_path):
    path = write(tmp_path / "bad.gz", b"\x1f\x8b" + b"not really deflate data" * 4, compress=False)
    with pytest.raises(IDXFormatError, match=r"bad\.gz.*gzip.*does not decompress"):
        read_idx(path)


def test_read_idx_refuses_a_truncated_gzip(tmp_path):
    whole = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8) % 10))
    path = write(tmp_path / "cut.gz", whole[: len(whole) // 2], compress=False)
    with pytest.raises(IDXFormatError, match="does not decompress"):
        read_idx(path)


# --- MNIST roles: magic numbers, image size, labels, counts ---------------------------------


def test_swapped_image_and_label_files_are_refused_by_magic_number(tmp_path, rng):
    images, labels = fake_split(tmp_path, "test", N_TEST, rng)
    write(tmp_path / key_file["test_img"], idx_bytes(labels))
    write(tmp_path / key_file["test_label"], idx_bytes(images))
    with pytest.raises(IDXFormatError, match=r"t10k-images.*magic number 2049.*expected 2051"):
        load_mnist_split("test", data_dir=tmp_path)


def test_labels_with_the_wrong_number_of_dimensions_are_refused(tmp_path, rng):
    fake_split(tmp_path, "test", N_TEST, rng)
    write(tmp_path / key_file["test_label"], idx_bytes(np.zeros((N_TEST, 1), np.uint8)))
    with pytest.raises(IDXFormatError, match=r"t10k-labels.*magic number 2050.*expected 2049"):
        load_mnist_split("test", data_dir=tmp_path)


def test_images_that_are_not_28_by_28_are_refused(tmp_path, rng):
    fake_split(tmp_path, "test", N_TEST, rng)
    write(tmp_path / key_file["test_img"], idx_bytes(np.zeros((N_TEST, 32, 32), np.uint8)))
    with pytest.raises(IDXFormatError, match=r"32x32 pixels; expected 28x28"):
        load_mnist_split("test", data_dir=tmp_path)


def test_a_label_outside_0_to_9_is_refused(tmp_path, rng):
    fake_split(tmp_path, "test", N_TEST, rng)
    write(tmp_path / key_file["test_label"], idx_bytes(np.array([1, 10, 2], np.uint8)))
    with pytest.raises(IDXFormatError, match=r"label 10.*0\.\.9"):
        load_mnist_split("test", data_dir=tmp_path)


def test_image_and_label_counts_must_agree(tmp_path, rng):
    fake_split(tmp_path, "test", N_TEST, rng)
    write(tmp_path / key_file["test_label"], idx_bytes(np.zeros(N_TEST + 1, np.uint8)))
    with pytest.raises(IDXFormatError, match=rf"{N_TEST} images but .*{N_TEST + 1} labels"):
        load_mnist_split("test", data_dir=tmp_path)


# --- where the files are looked for ---------------------------------------------------------


def test_missing_files_raise_file_not_found_naming_every_file_and_the_folder(tmp_path, rng):
    fake_split(tmp_path, "test", N_TEST, rng)
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(data_dir=tmp_path)
    message = str(info.value)
    assert key_file["train_img"] in message and key_file["train_label"] in message
    assert key_file["test_img"] not in message
    assert str(tmp_path) in message
    assert "FASTSCRATCH_DATA" in message and "data_dir" in message
    assert "disabled" in message


def test_download_false_overrides_an_unset_no_download_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("FASTSCRATCH_NO_DOWNLOAD")
    with pytest.raises(FileNotFoundError, match="disabled"):
        load_mnist_split("test", data_dir=tmp_path, download=False)


def test_data_dir_argument_beats_the_environment_variable(tmp_path, rng, monkeypatch):
    chosen, other = tmp_path / "chosen", tmp_path / "other"
    chosen.mkdir(), other.mkdir()
    monkeypatch.setenv("FASTSCRATCH_DATA", str(other))
    _, labels = fake_split(chosen, "test", N_TEST, rng)
    assert mnist_dir(chosen) == chosen
    np.testing.assert_array_equal(load_mnist_split("test", data_dir=chosen)[1], labels)


def test_environment_variable_is_used_without_data_dir(tmp_path, rng, monkeypatch):
    monkeypatch.setenv("FASTSCRATCH_DATA", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    _, labels = fake_split(tmp_path, "test", N_TEST, rng)
    assert mnist_dir() == tmp_path
    np.testing.assert_array_equal(load_mnist_split("test")[1], labels)


def test_the_cache_folder_is_the_last_resort(tmp_path, rng, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    cache = tmp_path / ".cache" / "fastscratch" / "mnist"
    assert mnist_dir() == cache == mnist.default_data_dir()
    cache.mkdir(parents=True)
    _, labels = fake_split(cache, "test", N_TEST, rng)
    np.testing.assert_array_equal(load_mnist_split("test")[1], labels)


def test_find_file_accepts_the_gz_name_or_the_gunzipped_name(tmp_path):
    assert find_file(tmp_path, key_file["test_img"]) is None
    raw = write(tmp_path / "t10k-images-idx3-ubyte", b"", compress=False)
    assert find_file(tmp_path, key_file["test_img"]) == raw
    gz = write(tmp_path / key_file["test_img"], b"")
    assert find_file(tmp_path, key_file["test_img"]) == gz  # the .gz name first


# --- downloads (faked) ----------------------------------------------------------------------


def _serve(monkeypatch, files):
    """Makes urlopen answer from `files` {name: bytes}; returns the list of URLs requested."""
    requested = []

    def fake_urlopen(request, timeout):
        assert timeout <= 10
        assert request.get_header("User-agent")
        requested.append(request.full_url)
        name = request.full_url.rsplit("/", 1)[1]
        if name not in files:
            raise urllib.error.URLError("no route to host")
        return io.BytesIO(files[name])

    monkeypatch.delenv("FASTSCRATCH_NO_DOWNLOAD")
    monkeypatch.setattr(mnist.urllib.request, "urlopen", fake_urlopen)
    return requested


def _served_test_split(monkeypatch, rng):
    labels = rng.integers(0, 10, N_TEST, dtype=np.uint8)
    files = {
        key_file["test_img"]: gzip.compress(idx_bytes(np.zeros((N_TEST, 28, 28), np.uint8))),
        key_file["test_label"]: gzip.compress(idx_bytes(labels)),
    }
    for name, data in files.items():
        monkeypatch.setitem(mnist.SHA256, name, hashlib.sha256(data).hexdigest())
    return files, labels


def test_a_verified_download_lands_under_its_name_and_prints_like_the_book(
    tmp_path, rng, monkeypatch, capsys
):
    files, labels = _served_test_split(monkeypatch, rng)
    requested = _serve(monkeypatch, files)
    folder = tmp_path / "new" / "mnist"
    x, t = load_mnist_split("test", data_dir=folder)
    np.testing.assert_array_equal(t, labels)
    assert requested == [
        mnist.url_base + key_file["test_img"],
        mnist.url_base + key_file["test_label"],
    ]
    assert sorted(os.listdir(folder)) == sorted(files)  # no temporary file left
    assert capsys.readouterr().out == "".join(
        f"Downloading {name} ... \nDone\n"
        for name in (key_file["test_img"], key_file["test_label"])
    )


def test_a_download_with_the_wrong_checksum_is_discarded(tmp_path, rng, monkeypatch):
    files, _ = _served_test_split(monkeypatch, rng)
    monkeypatch.setitem(mnist.SHA256, key_file["test_label"], "0" * 64)
    _serve(monkeypatch, files)
    with pytest.raises(FileNotFoundError, match=r"t10k-labels.*SHA-256") as info:
        load_mnist_split("test", data_dir=tmp_path)
    assert key_file["test_img"] not in str(info.value).split("failed")[0]  # that one arrived
    assert os.listdir(tmp_path) == [key_file["test_img"]]


def test_a_network_failure_names_every_missing_file_and_leaves_no_folder(tmp_path, monkeypatch):
    _serve(monkeypatch, {})
    folder = tmp_path / "typo"
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(data_dir=folder)
    message = str(info.value)
    assert all(name in message for name in key_file.values())
    assert str(folder) in message and "no route to host" in message
    assert not folder.exists()


def test_the_no_download_variable_stops_a_download(tmp_path, monkeypatch):
    requested = _serve(monkeypatch, {})
    monkeypatch.setenv("FASTSCRATCH_NO_DOWNLOAD", "1")
    with pytest.raises(FileNotFoundError, match="disabled"):
        load_mnist_split("test", data_dir=tmp_path)
    assert requested == []


def test_known_checksums_cover_the_four_book_files():
    assert set(mnist.SHA256) == set(key_file.values())
    assert mnist.SHA256[key_file["test_img"]] == (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    )


# --- the real MNIST test set ----------------------------------------------------------------


@pytest.fixture
def real_mnist(shared_data):
    folder = shared_data / "mnist"
    if find_file(folder, key_file["test_img"]) is None:
        pytest.skip("the real MNIST test files are not present")
    return folder


def test_real_t10k_files_have_the_idx_magic_numbers(real_mnist):
    for key, magic in (("test_img", 2051), ("test_label", 2049)):
        with gzip.open(real_mnist / key_file[key]) as file:
            assert struct.unpack(">I", file.read(4))[0] == magic


def test_real_t10k_set_loads_with_the_known_class_counts(real_mnist):
    x, t = load_mnist_split("test", data_dir=real_mnist)
    assert x.shape == (10000, 784) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() == 1.0
    assert t.dtype == np.uint8
    assert np.bincount(t, minlength=10).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]


def test_real_t10k_file_matches_its_known_checksum(real_mnist):
    for key in ("test_img", "test_label"):
        data = (real_mnist / key_file[key]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == mnist.SHA256[key_file[key]]


def test_real_t10k_images_read_as_uint8_via_read_idx(real_mnist):
    images = read_idx(real_mnist / key_file["test_img"])
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8


# --- decoded copies (the book's mnist.pkl, as .npy) -------------------------------------------


def _copies():
    return sorted(Path(os.environ["FASTSCRATCH_CACHE"]).glob("*.npy"))


@pytest.fixture
def fresh_copies(tmp_path, monkeypatch):
    folder = tmp_path / "decoded"
    monkeypatch.setenv("FASTSCRATCH_CACHE", str(folder))
    return folder


def test_a_second_load_reads_the_decoded_copies_not_the_idx_files(mnist_folder, fresh_copies):
    folder, (train_x, train_t), (test_x, test_t) = mnist_folder
    first = load_mnist(normalize=False, data_dir=folder)
    assert len(_copies()) == 4  # one per IDX file
    real = mnist._decode_role
    mnist._decode_role = None  # a second load that decoded a file would fail
    try:
        second = load_mnist(normalize=False, data_dir=folder)
    finally:
        mnist._decode_role = real
    for a, b, want in zip(
        (first[0][0], first[0][1], first[1][0], first[1][1]),
        (second[0][0], second[0][1], second[1][0], second[1][1]),
        (train_x, train_t, test_x, test_t),
    ):
        np.testing.assert_array_equal(a.reshape(want.shape), want)
        np.testing.assert_array_equal(b.reshape(want.shape), want)
        assert b.flags.writeable


def test_a_changed_idx_file_is_decoded_again(mnist_folder, fresh_copies, rng):
    folder, _, _ = mnist_folder
    load_mnist_split("test", normalize=False, data_dir=folder)
    _, labels = fake_split(folder, "test", N_TEST + 3, rng, compress=False)
    np.testing.assert_array_equal(load_mnist_split("test", data_dir=folder)[1], labels)


@pytest.mark.parametrize(
    "damage",
    ["empty", "garbage", "truncated", "wrong dtype", "label 12", "huge header", "pickle"],
)
def test_a_damaged_copy_is_ignored_and_rewritten(mnist_folder, fresh_copies, damage):
    folder, _, (test_x, test_t) = mnist_folder
    load_mnist_split("test", normalize=False, data_dir=folder)
    for copy in _copies():
        data = copy.read_bytes()
        is_labels = np.load(copy).ndim == 1
        if damage == "empty":
            copy.write_bytes(b"")
        elif damage == "garbage":
            copy.write_bytes(b"\x93NUMPY garbage" * 10)
        elif damage == "truncated":
            copy.write_bytes(data[: len(data) - 7])
        elif damage == "wrong dtype":
            np.save(copy, np.load(copy).astype(np.int16))
        elif damage == "label 12":
            np.save(copy, np.full(N_TEST, 12, np.uint8) if is_labels else np.load(copy)[:, :, :5])
        elif damage == "huge header":  # declares 2**40 images; the file holds a few bytes
            header = {"descr": "|u1", "fortran_order": False, "shape": (2**40, 28, 28)}
            with open(copy, "wb") as file:
                np.lib.format.write_array_header_1_0(file, header)
                file.write(b"\0" * 64)
        else:
            np.save(copy, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    x, t = load_mnist_split("test", normalize=False, data_dir=folder)
    np.testing.assert_array_equal(x.reshape(test_x.shape), test_x)
    np.testing.assert_array_equal(t, test_t)
    for copy in _copies():  # rewritten whole
        assert np.load(copy).dtype == np.uint8


def test_off_keeps_no_copies(mnist_folder, monkeypatch, tmp_path):
    monkeypatch.setenv("FASTSCRATCH_CACHE", "off")
    assert mnist.decoded_cache_dir() is None
    folder, _, (_, test_t) = mnist_folder
    np.testing.assert_array_equal(load_mnist_split("test", data_dir=folder)[1], test_t)


def test_an_unwritable_cache_folder_only_means_no_copies(mnist_folder, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("FASTSCRATCH_CACHE", str(blocker / "decoded"))
    folder, _, (_, test_t) = mnist_folder
    np.testing.assert_array_equal(load_mnist_split("test", data_dir=folder)[1], test_t)
    np.testing.assert_array_equal(load_mnist_split("test", data_dir=folder)[1], test_t)


def test_the_default_folder_of_copies_is_under_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("FASTSCRATCH_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert mnist.decoded_cache_dir() == tmp_path / ".cache" / "fastscratch" / "decoded"
