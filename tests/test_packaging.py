"""The sdist holds what a build needs and nothing else; the wheel's metadata carries the license
(issue 12). Built with scikit-build-core's own sdist hook, from the checkout these tests are in."""

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NEEDED = [
    "pyproject.toml",
    "CMakeLists.txt",
    "LICENSE",
    "README.md",
    "csrc/conv_body.h",
    "csrc/thread_policy.c",
    "src/_core.pyx",
    "src/_conv.pxi",
    "src/fs_checks.pxd",
    "python/fastscratch/__init__.py",
    "python/fastscratch/_native/_build_info.py.in",
]
# Build outputs, environments and caches: never in an sdist.
UNWANTED_PARTS = {"build", "dist", ".ci-venv", ".hypothesis", ".pytest_cache", ".ruff_cache"}


def _build_sdist(out):
    script = (
        "import sys; from scikit_build_core.build import build_sdist; "
        "print(build_sdist(sys.argv[1]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return out / done.stdout.strip().splitlines()[-1]


@pytest.mark.skipif(
    not (ROOT / "pyproject.toml").exists() or not (ROOT / "csrc").is_dir(),
    reason="needs the source checkout (the tests run from an installed wheel elsewhere)",
)
def test_the_sdist_holds_what_a_build_needs_and_nothing_else(tmp_path):
    pytest.importorskip("scikit_build_core", reason="scikit-build-core builds the sdist")
    sdist = _build_sdist(tmp_path)
    with tarfile.open(sdist) as tar:
        names = [name.split("/", 1)[1] for name in tar.getnames() if "/" in name]
    for needed in NEEDED:
        assert needed in names, f"{needed} missing from the sdist"
    for name in names:
        parts = set(Path(name).parts)
        assert not parts & UNWANTED_PARTS, f"{name} should not be in the sdist"
        assert not name.endswith((".so", ".o", ".pyc")), f"{name} is a build output"


def test_the_installed_package_declares_its_license_and_pythons():
    from importlib.metadata import files, metadata

    meta = metadata("fastscratch")
    assert meta["License"] == "MIT" or "MIT" in (meta.get("License-Expression") or "")
    assert meta["Requires-Python"] == ">=3.9"
    assert "License :: OSI Approved :: MIT License" in meta.get_all("Classifier")
    installed = [str(f) for f in files("fastscratch") or []]
    assert any(os.path.basename(f) == "LICENSE" for f in installed), "LICENSE not in the install"
