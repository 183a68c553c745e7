#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Coverage of engine/ by the ctest suite: ci/coverage.sh [--fail-under-line N] [--build-dir DIR] -> DIR/coverage.html.
set -euo pipefail

# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: ci/coverage.sh [--fail-under-line PERCENT] [--build-dir DIR (default build/coverage)]" >&2
	exit "${1:-2}"
}

build_dir="$repo/build/coverage"
fail_under=()
while [[ $# -gt 0 ]]; do
	case "$1" in
	--fail-under-line)
		[[ $# -ge 2 && "$2" =~ ^[0-9]+([.][0-9]+)?$ ]] || usage
		fail_under=(--fail-under-line "$2")
		shift 2
		;;
	--build-dir)
		[[ $# -ge 2 && -n "$2" ]] || usage
		build_dir="$(mkdir -p "$2" && cd "$2" && pwd)"
		shift 2
		;;
	-h | --help) usage 0 ;;
	*) usage ;;
	esac
done

cd "$repo"

if [[ -e /dev/kvm ]]; then
	export NUB_REQUIRE_KVM=1
fi

bash "$repo/ci/build.sh" coverage "$build_dir"

# Counters from an earlier run would inflate the figures.
find "$build_dir" -name '*.gcda' -delete

tests_rc=0
ctest --test-dir "$build_dir" --output-on-failure --no-tests=error -j"$(nproc)" || tests_rc=$?

gcovr --root "$repo" --filter "$nub_engine_dir/" \
	--html-details "$build_dir/coverage.html" --print-summary "${fail_under[@]}" "$build_dir"
echo "coverage report: $build_dir/coverage.html"

if [[ $tests_rc -ne 0 ]]; then
	warn "tests failed (ctest exit $tests_rc)"
	exit "$tests_rc"
fi
