"""MNIST for the book's code: `load_mnist` with the book's signature, dtypes and arithmetic.

Unlike the book's loader it reads the IDX files directly (gzip or raw) from a folder you choose,
validates their headers instead of trusting fixed offsets, verifies downloads by SHA-256, and
says which files to put where when it cannot fetch them.

Folder: the `data_dir` argument, else $FASTSCRATCH_DATA, else ~/.cache/fastscratch/mnist.

Like the book's `mnist.pkl`, the decoded arrays are kept for the next run, but as plain `.npy`
files (no pickle) in ~/.cache/fastscratch/decoded ($FASTSCRATCH_CACHE names another folder,
`off` keeps none), one per IDX file, keyed by its path, size and modification time: a run then
skips the decompression (0.2-0.3 s for MNIST's training images). A copy that is unreadable or
not what the IDX file could hold is ignored and rewritten.
"""

import gzip
import hashlib
import http.client
import math
import os
import tempfile
import urllib.request
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "load_mnist",
    "load_mnist_split",
    "read_idx",
    "IDXFormatError",
    "mnist_dir",
    "default_data_dir",
    "find_file",
    "download_mnist",
    "decoded_cache_dir",
    "key_file",
    "train_num",
    "test_num",
    "img_dim",
    "img_size",
]

# The book's constants.
key_file = {
    "train_img": "train-images-idx3-ubyte.gz",
    "train_label": "train-labels-idx1-ubyte.gz",
    "test_img": "t10k-images-idx3-ubyte.gz",
    "test_label": "t10k-labels-idx1-ubyte.gz",
}
train_num = 60000
test_num = 10000
img_dim = (1, 28, 28)
img_size = 784

# The book's JP mirror (yann.lecun.com now answers 403).
url_base = "https://ossci-datasets.s3.amazonaws.com/mnist/"
DOWNLOAD_TIMEOUT = 10  # seconds; an offline machine must fail fast
# SHA-256 of the canonical .gz files (md5s: f68b3c2d..., d53e105e..., 9fb629c4..., ec29112d...)
SHA256 = {
    key_file["train_img"]: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    key_file["train_label"]: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    key_file["test_img"]: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    key_file["test_label"]: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

_SPLITS = {"train": ("train_img", "train_label"), "test": ("test_img", "test_label")}
_MAGIC = {"images": 2051, "labels": 2049}  # IDX: unsigned bytes, 3 and 1 dimensions

# IDX type code -> dtype; multi-byte types are big-endian in the file.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IDXFormatError(ValueError):
    """A file is not the IDX file it should be (foreign, truncated, too long, wrong kind)."""


# --- IDX ------------------------------------------------------------------------------------


# Beyond the declared size, at most this much more is read, only to say how long a file is.
_EXCESS_REPORTED = 1 << 20


def _read_at_most(file, size):
    """Up to `size` bytes of `file`, in chunks: a header declaring a huge size costs only what
    the file really holds, and a decompression bomb is inflated no further than `size`."""
    chunks, total = [], 0
    while total < size:
        chunk = file.read(min(size - total, 1 << 24))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _read_idx(path, check_header=None):
    """(magic, array) of the IDX file at `path`, gzip or raw. `check_header(magic, dims)` may
    refuse the file before its data is read.

    Reads the header, then no more than the data it declares plus one byte (which tells a file
    that is too long): a small .gz that inflates to gigabytes is refused after that many bytes,
    not after inflating all of it."""
    path = Path(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"  # gzip by content: users gunzip and keep names
        raw.seek(0)
        try:
            if compressed:
                with gzip.GzipFile(fileobj=raw) as file:
                    return _parse_idx(path, file, check_header)
            return _parse_idx(path, raw, check_header)
        except (OSError, EOFError, zlib.error) as exc:
            if not compressed:
                raise
            raise IDXFormatError(
                f"{path}: starts like gzip but does not decompress ({exc})"
            ) from None


def _parse_idx(path, file, check_header):
    head = _read_at_most(file, 4)
    if not head:
        raise IDXFormatError(
            f"{path}: empty; expected an IDX file (a 4-byte magic number, "
            "the dimensions, then the data)"
        )
    if len(head) < 4:
        raise IDXFormatError(
            f"{path}: truncated header; expected at least 4 bytes, found {len(head)}"
        )
    if head[:2] != b"\0\0":
        raise IDXFormatError(
            f"{path}: not an IDX file; expected the magic number to start "
            f"with bytes 00 00, found {head.hex(' ')}"
        )
    type_code, ndim = head[2], head[3]
    if type_code not in _IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in _IDX_DTYPES)
        raise IDXFormatError(
            f"{path}: unknown IDX type code 0x{type_code:02X}; expected one of {known}"
        )
    if ndim == 0:
        raise IDXFormatError(f"{path}: IDX header declares 0 dimensions; expected at least 1")
    header = 4 + 4 * ndim
    dims_bytes = _read_at_most(file, 4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise IDXFormatError(
            f"{path}: truncated header; {ndim} dimensions need {header} bytes, "
            f"found {4 + len(dims_bytes)}"
        )
    dims = tuple(int(d) for d in np.frombuffer(dims_bytes, ">u4"))
    magic = int.from_bytes(head, "big")
    if check_header is not None:
        check_header(magic, dims)
    dtype = _IDX_DTYPES[type_code]
    expected = math.prod(dims) * dtype.itemsize  # exact: no int64 wrap-around
    data = _read_at_most(file, expected + 1)
    found = len(data)
    if found != expected:
        if found > expected:  # how much longer, within a bound, for the message
            found += len(_read_at_most(file, _EXCESS_REPORTED))
        what = "truncated" if found < expected else "too long"
        found_text = f"more than {found - 1}" if found > expected + _EXCESS_REPORTED else f"{found}"
        raise IDXFormatError(
            f"{path}: {what}; shape {dims} of {dtype.name} needs {expected} "
            f"bytes of data after the header, found {found_text}"
        )
    array = np.frombuffer(data, dtype).reshape(dims)
    # a writable array in native byte order, like the book's (unpickled) arrays
    return magic, array.astype(dtype.newbyteorder("="))


def read_idx(path):
    """The array stored in the IDX file at `path` (gzip or raw), of the header's shape and type.

    Raises IDXFormatError (a ValueError) naming the file when it is empty, not IDX, truncated
    or longer than its header says.
    """
    return _read_idx(path)[1]


# --- decoded copies (see the module docstring) ----------------------------------------------

_CACHE_FORMAT = 1  # part of every key: a new layout of the copies makes the old ones unused


def decoded_cache_dir():
    """The folder of the decoded copies, or None when $FASTSCRATCH_CACHE is `off`."""
    value = os.environ.get("FASTSCRATCH_CACHE", "").strip()
    if value.lower() == "off":
        return None
    return Path(value).expanduser() if value else Path.home() / ".cache" / "fastscratch" / "decoded"


def _decoded_path(path, role):
    folder = decoded_cache_dir()
    if folder is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = f"{os.path.realpath(path)}\0{st.st_size}\0{st.st_mtime_ns}\0{role}\0{_CACHE_FORMAT}"
    return folder / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".npy")


def _valid_for_role(array, role):
    """Whether `array` could be what an MNIST IDX file of `role` decodes to."""
    if array.dtype != np.uint8:
        return False
    if role == "images":
        return array.ndim == 3 and array.shape[1:] == img_dim[1:]
    return array.ndim == 1 and (array.size == 0 or int(array.max()) <= 9)


def _load_decoded(cache, role):
    """The copy at `cache` (a new writable array), or None when it is absent or not valid.
    Memory-mapped first: a header that declares more data than the file holds is refused
    without allocating it."""
    if cache is None:
        return None
    try:
        mapped = np.load(cache, mmap_mode="r", allow_pickle=False)
        if not isinstance(mapped, np.ndarray) or not _valid_for_role(mapped, role):
            return None
        return np.array(mapped, order="C")
    except (OSError, ValueError, EOFError):
        return None


def _store_decoded(cache, array):
    """Writes the copy (atomically: a reader never sees half of one); a folder that cannot be
    written to (a read-only home) just means no copy."""
    if cache is None:
        return
    from ..atomic_file import atomic_write

    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(cache) as file:
            np.save(file, array, allow_pickle=False)
    except OSError:
        pass


def _read_role(path, role):
    cache = _decoded_path(path, role)
    array = _load_decoded(cache, role)
    if array is None:
        array = _decode_role(path, role)
        _store_decoded(cache, array)
    return array


def _decode_role(path, role):
    def check_header(magic, dims):
        # before the data is read: a file of the wrong kind or size is refused unread
        if magic != _MAGIC[role]:
            raise IDXFormatError(
                f"{path}: magic number {magic}; expected {_MAGIC[role]} for MNIST {role}"
            )
        if role == "images" and dims[1:] != img_dim[1:]:
            raise IDXFormatError(
                f"{path}: images of {dims[1]}x{dims[2]} pixels; expected {img_dim[1]}x{img_dim[2]}"
            )

    array = _read_idx(path, check_header)[1]
    if role == "labels" and array.size and array.max() > 9:
        raise IDXFormatError(f"{path}: label {array.max()} found; expected digits 0..9")
    return array


# --- where the files are --------------------------------------------------------------------


def default_data_dir():
    """~/.cache/fastscratch/mnist, where files go when neither data_dir nor $FASTSCRATCH_DATA is
    given."""
    return Path.home() / ".cache" / "fastscratch" / "mnist"


def mnist_dir(data_dir=None):
    """The folder MNIST is read from: `data_dir`, else $FASTSCRATCH_DATA, else the cache."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get("FASTSCRATCH_DATA")
    return Path(env).expanduser() if env else default_data_dir()


def find_file(folder, file_name):
    """The path of `file_name` (a `*-ubyte.gz` name) in `folder`, gzipped or not; else None."""
    for name in (file_name, file_name[:-3] if file_name.endswith(".gz") else None):
        if name and (Path(folder) / name).is_file():
            return Path(folder) / name
    return None


# --- download -------------------------------------------------------------------------------


def _download(file_name, folder):
    """Fetches `file_name` into `folder`, verified by SHA-256 before it takes the real name."""
    print(f"Downloading {file_name} ... ")
    folder.mkdir(parents=True, exist_ok=True)
    request = urllib.request.Request(
        url_base + file_name, headers={"User-Agent": "fastscratch (MNIST loader)"}
    )
    # a temporary file in the target folder: os.replace is then atomic, and an interrupted
    # download never leaves a half file under the real name
    fd, tmp_name = tempfile.mkstemp(prefix=f".{file_name}.", suffix=".part", dir=folder)
    try:
        digest = hashlib.sha256()
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response,
        ):
            for chunk in iter(lambda: response.read(1 << 16), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != SHA256[file_name]:
            raise OSError(
                f"{url_base + file_name}: SHA-256 {digest.hexdigest()}, expected "
                f"{SHA256[file_name]}"
            )
        os.replace(tmp_name, folder / file_name)
    except BaseException:
        os.unlink(tmp_name)
        raise
    print("Done")


def _download_enabled(download):
    if download is not None:
        return bool(download)
    flag = os.environ.get("FASTSCRATCH_NO_DOWNLOAD", "").strip().lower()
    return flag in ("", "0", "false", "no")


def _ensure_files(keys, folder, download):
    """{key: path} for the book's `keys`, fetching missing files; FileNotFoundError if it can't."""
    missing = [key_file[key] for key in keys if find_file(folder, key_file[key]) is None]
    reason = "downloads are disabled (download=False or FASTSCRATCH_NO_DOWNLOAD)"
    if missing and _download_enabled(download):
        existed = folder.exists()
        try:
            for file_name in missing:
                _download(file_name, folder)
            missing = []
        # URLError, timeouts, a broken connection, a full disk, a wrong checksum
        except (OSError, http.client.HTTPException) as exc:
            missing = [name for name in missing if find_file(folder, name) is None]
            reason = f"the download from {url_base} failed ({exc})"
            if not existed:  # leave no empty folder behind (a mistyped data_dir, say)
                try:
                    folder.rmdir()
                except OSError:
                    pass
    if missing:
        raise FileNotFoundError(
            f"MNIST file(s) {', '.join(missing)} not found in {folder}, and {reason}. Put "
            "them there (gzipped or not), or point data_dir=... or $FASTSCRATCH_DATA at the "
            "folder that holds them."
        )
    return {key: find_file(folder, key_file[key]) for key in keys}


def download_mnist(data_dir=None):
    """Fetches whichever of the four MNIST files are missing (the book's `download_mnist`)."""
    _ensure_files(list(key_file), mnist_dir(data_dir), download=True)


# --- the book's API -------------------------------------------------------------------------


def _prepare(images, labels, normalize, flatten, one_hot_label):
    if normalize:  # the book's arithmetic exactly, so values match it bit for bit
        images = images.astype(np.float32)
        images /= 255.0
    images = images.reshape(-1, img_size) if flatten else images.reshape(-1, *img_dim)
    if one_hot_label:
        one_hot = np.zeros((labels.size, 10))  # float64, as the book's
        one_hot[np.arange(labels.size), labels] = 1
        labels = one_hot
    return images, labels


def load_mnist_split(
    split, normalize=True, flatten=True, one_hot_label=False, *, data_dir=None, download=None
):
    """(x, t) of MNIST's 'train' or 'test' split, with `load_mnist`'s options and dtypes.

    download: None fetches missing files unless $FASTSCRATCH_NO_DOWNLOAD is set; False never.
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    img_key, label_key = _SPLITS[split]
    paths = _ensure_files(_SPLITS[split], mnist_dir(data_dir), download)
    images = _read_role(paths[img_key], "images")
    labels = _read_role(paths[label_key], "labels")
    if len(images) != len(labels):
        raise IDXFormatError(
            f"{paths[img_key]} holds {len(images)} images but "
            f"{paths[label_key]} holds {len(labels)} labels; expected as many"
        )
    return _prepare(images, labels, normalize, flatten, one_hot_label)


def load_mnist(normalize=True, flatten=True, one_hot_label=False, *, data_dir=None, download=None):
    """The book's `load_mnist`: ((x_train, t_train), (x_test, t_test)).

    normalize: images float32 in [0, 1], else uint8 0..255. flatten: images (N, 784), else
    (N, 1, 28, 28). one_hot_label: labels float64 (N, 10), else uint8 (N,).
    """
    # all four first, so that a failure names every missing file at once
    _ensure_files(list(key_file), mnist_dir(data_dir), download)
    options = dict(
        normalize=normalize,
        flatten=flatten,
        one_hot_label=one_hot_label,
        data_dir=data_dir,
        download=False,
    )
    return load_mnist_split("train", **options), load_mnist_split("test", **options)
