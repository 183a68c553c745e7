#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/repro_inputs.sh BUILD_DIR: ci/repro.sh and <target>-repro on hostile inputs (issue #10 item 8).
# Uses BUILD_DIR's fuzz_wire-repro (and fuzz_outb-repro with /dev/kvm) through
# `ci/repro.sh --build-dir BUILD_DIR --no-build`; asserts exit statuses and exact lines. The
# ASAN_OPTIONS case runs only when BUILD_DIR is an asan-flavour tree.
set -euo pipefail

[[ $# -eq 1 ]] || {
	echo "usage: harness/scripts/repro_inputs.sh BUILD_DIR" >&2
	exit 2
}
build_dir="$(realpath "$1")"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
expect_timeout=30
# shellcheck source=harness/scripts/expect.sh
. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"
# ./repro ARGS...: ci/repro.sh ARGS --build-dir BUILD_DIR --no-build (a script, for timeout).
printf '#!/bin/sh\nexec bash "%s/ci/repro.sh" "$@" --build-dir "%s" --no-build\n' "$repo" \
	"$build_dir" >repro
chmod +x repro
wire_repro="$build_dir/fuzz/fuzz_wire-repro"

mkfifo fifo
mkdir empty dangling corpus
ln -s missing dangling/x
printf 'abc' >corpus/small
head -c 1048577 /dev/zero >big # fuzz_wire's MAX_INPUT is 1 MiB

# The reproducer itself.
expect 3 "fuzz_wire-repro: setup error: fifo: is a FIFO, not a regular file" "$wire_repro" fifo
expect 3 "fuzz_wire-repro: setup error: dangling/x: a symbolic link to a missing file" \
	"$wire_repro" dangling
expect 4 "fuzz_wire-repro: 0 inputs handled, 0 skipped, 0 refused" "$wire_repro" empty
expect 4 "skipped: 1048577 bytes over the limit 1048576" "$wire_repro" big
expect 0 "fuzz_wire-repro: 1 inputs handled, 0 skipped, 0 refused" "$wire_repro" corpus

# The AFL++ binary outside afl-fuzz (afl-flavour trees only).
if [[ -x "$build_dir/fuzz/fuzz_wire-afl" ]]; then
	expect 3 "nub-fuzz: fifo: is a FIFO, not a regular file" "$build_dir/fuzz/fuzz_wire-afl" fifo
	expect 1 "nub-fuzz: cannot read missing: No such file or directory" \
		"$build_dir/fuzz/fuzz_wire-afl" missing
fi

# ci/repro.sh: setup errors (3), skips (4), handled (0).
expect 3 "ci/repro.sh: setup error: $tmp/fifo is a FIFO, not a regular file or directory" \
	./repro "$tmp/fifo" --target wire
expect 3 "ci/repro.sh: setup error: $tmp/dangling/x: a symbolic link to a missing file (reproducer exit 3)" \
	./repro dangling --target wire
expect 3 "ci/repro.sh: setup error: NUB_REPRO_TIMEOUT must be a whole number of seconds (1 or more), not 'abc'" \
	env NUB_REPRO_TIMEOUT=abc bash "$repo/ci/repro.sh" corpus --target wire \
	--build-dir "$build_dir" --no-build
expect 4 "ci/repro.sh: skipped: no inputs in $tmp/empty (exit 4)" ./repro empty --target wire
expect 4 "ci/repro.sh: skipped: 1 input(s) over the target's size limit, none ran (exit 4)" \
	./repro big --target wire
expect 4 "skipped: 1048577 bytes over the limit 1048576" ./repro big --target wire
expect 0 "ci/repro.sh: handled by the engine (exit 0)" ./repro corpus --target wire
cp big corpus/
expect 0 "ci/repro.sh: handled by the engine (exit 0); skipped: 1 input(s) over the target's size limit" \
	./repro corpus --target wire
expect 3 "ci/repro.sh: setup error: $tmp/fuzz/fuzz_wire-repro is missing (build it, or drop --no-build)" \
	bash "$repo/ci/repro.sh" corpus --target wire --build-dir "$tmp" --no-build
expect 2 "ci/repro.sh: no fuzz target fuzz_nonesuch (fuzz/fuzz_nonesuch.c)" \
	./repro corpus --target nonesuch
expect 0 "  3  setup error: an input that is not a regular file or directory, a bad NUB_REPRO_TIMEOUT," \
	bash "$repo/ci/repro.sh" --help

if [[ "$(sed -n 's/^NUB_FLAVOR:[A-Z]*=//p' "$build_dir/CMakeCache.txt")" == asan ]]; then
	expect 3 "ci/repro.sh: setup error: the sanitizer refused ASAN_OPTIONS='detect_leaks=1:handle_abort=1:abort_on_error=0:symbolize=1:detect_leaks=maybe' or UBSAN_OPTIONS='print_stacktrace=1:halt_on_error=1'" \
		env -u UBSAN_OPTIONS ASAN_OPTIONS=detect_leaks=maybe bash "$repo/ci/repro.sh" corpus --target wire \
		--build-dir "$build_dir" --no-build
else
	echo "skipped: the ASAN_OPTIONS case (not an asan build)"
fi

if { : <>/dev/kvm; } 2>/dev/null && [[ -x "$build_dir/fuzz/fuzz_outb-repro" ]]; then
	mkdir guests
	expect 3 "ci/repro.sh: setup error: NUB_GUEST_DIR=$tmp/guests holds no guests (no dummy.elf)" \
		env NUB_GUEST_DIR="$tmp/guests" bash "$repo/ci/repro.sh" corpus --target outb \
		--build-dir "$build_dir" --no-build
	expect 3 "ci/repro.sh: setup error: NUB_GUEST_DIR=/nonexistent is not a directory" \
		env NUB_GUEST_DIR=/nonexistent bash "$repo/ci/repro.sh" corpus --target outb \
		--build-dir "$build_dir" --no-build
else
	echo "skipped: the NUB_GUEST_DIR cases (no /dev/kvm or no fuzz_outb-repro)"
fi

[[ $failed -eq 0 ]] && echo "repro inputs: all passed"
exit "$failed"
