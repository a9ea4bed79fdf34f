"""show_config(): what this fastscratch build runs on, like numpy.show_config()."""

import os
import platform
import sys
import time

from . import _native, backend, threads
from ._native import _build_info


def _adaptive_text():
    if not threads.get_adaptive_threads():
        return "off (every kernel with enough work uses all threads)"
    load = _native.foreign_load()
    if load is None:  # just loaded: one measuring window (0.2 s) gives a real figure
        time.sleep(0.25)
        load = _native.foreign_load()
    measured = "not measured yet" if load is None else f"other threads use {load:.2f} cores"
    return f"on: {threads.free_cores()} of {_native.cpu_set_size()} cores free now ({measured})"


def cpu_model():
    """The CPU's name ("AMD EPYC", "Intel(R) Xeon(R) ..."): performance figures name it."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores():
    """The cores this process may run on (its affinity mask), else all of them."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def openmp_library():
    """The OpenMP runtime file(s) mapped in this process. The extension takes whichever
    `libgomp.so.1` was loaded first: the system's, or PyTorch's copy after `import torch`
    (docs/design.md)."""
    try:
        with open("/proc/self/maps") as f:
            fields = (line.split(None, 5) for line in f)
            paths = {x[5].strip() for x in fields if len(x) == 6 and "libgomp" in x[5]}
    except OSError:
        return "unknown (no /proc/self/maps)"
    return ", ".join(sorted(paths)) or "no libgomp mapped"


def config_info():
    """show_config's figures as a dict."""
    return {
        "fastscratch": _build_info.version,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": f"{cpu_model()}, {os.cpu_count()} logical cores ({usable_cores()} usable)",
        "backend": backend.get_backend(),
        "blas": {
            "library": "OpenBLAS (scipy-openblas32 wheel, symbols scipy_cblas_*)",
            "version": _build_info.openblas_version,
            "config": _native.blas_config(),
            "core": _native.blas_corename(),
            "threads": f"{_native.get_blas_threads()} (products are split over the OpenMP "
            "threads instead)",
        },
        "openmp": {
            "version": _native.openmp_version(),
            "library": openmp_library(),
            "threads": f"{threads.get_num_threads()} (from {threads.thread_count_source()})",
            "adaptive": _adaptive_text(),
        },
        "build": {
            "compiler": _build_info.c_compiler,
            "flags": _build_info.c_flags,
            "build_type": _build_info.build_type,
            "sanitizers": _build_info.sanitizers,
            "simd": _simd_text(_build_info.simd_clones),
            "cpu_runs": ", ".join(_native.cpu_simd_levels()) or "baseline only",
        },
    }


# What each instruction-set level the build can clone its hot loops for adds.
_SIMD_LEVELS = {"x86-64-v4": "AVX-512", "x86-64-v3": "AVX2+FMA", "x86-64-v2": "SSE4.2"}


def _simd_text(clones):
    """The build's clone list (CMake's FS_SIMD_CLONES, comma-separated) said for a reader."""
    levels = [level.strip() for level in clones.split(",") if level.strip()]
    if not levels:
        return "baseline only (this build has no SIMD clones)"
    named = [
        f"{level} ({_SIMD_LEVELS[level]})" if level in _SIMD_LEVELS else level for level in levels
    ]
    return ", ".join(named) + ", baseline x86-64, chosen at run time"


def show_config():
    """Print the version, the CPU, backend, BLAS (version, core, threads), OpenMP and build
    flags."""
    info = config_info()
    for key, value in info.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k:<11} {v}")
        else:
            print(f"{key + ':':<13}{value}")
