"""atomic_write: the target is either the whole new content or untouched, and no temporary file
is left beside it."""

import os

import pytest

from fastscratch.atomic_file import atomic_write


def test_the_content_replaces_the_file_when_the_block_ends(tmp_path):
    path = tmp_path / "out.md"
    path.write_text("old")
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write("new")
        assert path.read_text() == "old"  # not yet: the target changes in one step at the end
    assert path.read_text() == "new"
    assert os.listdir(tmp_path) == ["out.md"]


def test_a_failing_block_leaves_the_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(path) as f:
            f.write(b"half")
            raise KeyboardInterrupt
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_a_new_file_gets_the_permissions_open_would_give(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "new.bin") as f:
            f.write(b"x")
        with open(tmp_path / "plain.bin", "wb") as f:
            f.write(b"x")
    finally:
        os.umask(umask)
    mode = (tmp_path / "new.bin").stat().st_mode & 0o777
    assert mode == (tmp_path / "plain.bin").stat().st_mode & 0o777 == 0o644


def test_a_bad_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be 'wb' or 'w', got 'a'"):
        with atomic_write("x", "a"):
            pass
