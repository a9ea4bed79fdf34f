"""Writing a file so that it is either entirely the new content or still the old one.

A checkpoint written straight into its target is destroyed by a save that fails half-way (a full
disk, a file-size limit, a killed process): the old parameters are gone and the new ones are
truncated. `atomic_write` writes to a temporary file in the target's folder (same file system,
so the rename is atomic), flushes and fsyncs it, then `os.replace`s it onto the target; on any
failure the temporary file is removed and the target is left as it was. A process killed with
SIGKILL cannot clean up: it leaves a hidden `.NAME.*.tmp` beside the target, never a broken
target.
"""

import contextlib
import os
import stat

__all__ = ["atomic_write"]


def _create_temporary(folder, name):
    """(descriptor, path) of a new empty file `.name.<random>.tmp` in `folder`. Created with mode
    0o666 as `open` does, so that the umask applies as for any other file the user writes
    (tempfile.mkstemp would make it 0o600)."""
    for _ in range(100):
        # os.urandom, not the secrets module: importing secrets costs every start-up ~3 ms
        path = os.path.join(folder, f".{name}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {name} in {folder}")


def _fsync_folder(folder):
    """Make the rename itself durable; not every system can open a folder, and then the rename
    is as durable as that system makes it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path, mode="wb", encoding=None):
    """`with atomic_write(path) as f:` gives a file open for writing (`mode` "wb" or "w") on a
    temporary file beside `path`; when the block ends normally its content replaces `path` in one
    step. If the block raises, `path` is untouched and the temporary file is removed."""
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    fd, temporary = _create_temporary(folder, name)
    try:
        try:
            # An existing file keeps its permissions, as it would if it were overwritten in place.
            os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode))
        except FileNotFoundError:
            pass
        with os.fdopen(fd, mode, encoding=encoding) as file:
            fd = None  # the file object owns it now
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if fd is not None:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    _fsync_folder(folder)
