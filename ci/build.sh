#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Configures and builds one flavour: ci/build.sh FLAVOR [BUILD_DIR] (default build/FLAVOR).
# The flavour's preset in CMakePresets.json names its compiler; -DNUB_WERROR=ON under CI=true.
set -euo pipefail

# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: ci/build.sh release|debug|asan|tsan|coverage|libfuzzer|afl [BUILD_DIR]" >&2
	exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
flavor="$1"
case "$flavor" in
release | debug | asan | tsan | coverage | libfuzzer | afl) ;;
*) usage ;;
esac
build_dir="${2:-$repo/build/$flavor}"

nub_configure "$flavor" "$build_dir"
nub_build "$build_dir"
