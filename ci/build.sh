#!/usr/bin/env bash
# Configures and builds one flavour: ci/build.sh FLAVOR [BUILD_DIR] (default build/FLAVOR).
set -euo pipefail

usage() {
	echo "usage: ci/build.sh release|debug|asan|tsan|coverage|libfuzzer|afl [BUILD_DIR]" >&2
	exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
flavor="$1"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${2:-$repo/build/$flavor}"

case "$flavor" in
release | debug | asan | tsan | coverage) cc=gcc ;;
libfuzzer) cc=clang ;;
afl) cc=afl-clang-fast ;;
*) usage ;;
esac

cc_path="$(command -v "$cc")" || {
	echo "ci/build.sh: compiler '$cc' for flavour '$flavor' not found (run ci/deps.sh)" >&2
	exit 1
}

werror=OFF
if [[ "${CI:-}" == "true" ]]; then
	werror=ON
fi

# The compiler is passed as an absolute path so re-running on an existing directory does not
# make CMake discard its cache.
cmake -S "$repo" -B "$build_dir" \
	-DNUB_FLAVOR="$flavor" \
	-DNUB_WERROR="$werror" \
	-DCMAKE_C_COMPILER="$cc_path" \
	--log-level=WARNING
cmake --build "$build_dir" -j"$(nproc)"
