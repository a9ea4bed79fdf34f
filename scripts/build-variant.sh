# Sourced by the scripts that test a variant build of the native core (sanitize-tests.sh,
# test-baseline.sh): `build_variant NAME CMAKE_OPTION=VALUE` makes build/NAME-venv with what the
# build and the tests need, builds this checkout into it with that CMake option (build folder
# build/NAME, kept for quick rebuilds) and leaves the venv active.
build_variant() {
    local name=$1 option=$2
    python3 -m venv "build/$name-venv"
    . "build/$name-venv/bin/activate"
    python -m pip install --quiet scikit-build-core cython cython-cmake scipy-openblas32 numpy \
        threadpoolctl tqdm pytest hypothesis
    python -m pip install --quiet --no-build-isolation --force-reinstall --no-deps \
        "-Cbuild-dir=build/$name" "-Ccmake.define.$option" .
}
