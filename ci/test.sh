#!/usr/bin/env bash
# The README's test command: installs deps, builds release/asan/tsan and runs the ctest suites in each.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

jobs="$(nproc)"
start="$(date +%s)"
phase="setup"
summary=()

# On any failure, name the phase that failed.
on_exit() {
	local rc=$?
	local elapsed=$(($(date +%s) - start))
	if [[ $rc -ne 0 ]]; then
		echo
		echo "ci/test.sh: FAILED in phase '$phase' (exit $rc) after ${elapsed}s" >&2
	fi
}
trap on_exit EXIT

banner() {
	phase="$1"
	echo
	echo "=================================================================="
	echo "== $1"
	echo "=================================================================="
}

# KVM tests fail instead of skipping when this machine has /dev/kvm; skips are then an error too.
require_kvm=0
if [[ -e /dev/kvm ]]; then
	require_kvm=1
	export NUB_REQUIRE_KVM=1
fi

# run_ctest NAME BUILD_DIR [ctest args...]: runs ctest, keeps its output, refuses skipped tests
# when /dev/kvm exists, and records the outcome line for the summary.
run_ctest() {
	local name="$1" dir="$2"
	shift 2
	local log="$dir/ctest-$name.log"
	if ! ctest --test-dir "$dir" --output-on-failure --no-tests=error -j"$jobs" "$@" 2>&1 |
		tee "$log"; then
		echo "ci/test.sh: ctest failed in $name" >&2
		return 1
	fi
	if [[ $require_kvm -eq 1 ]] && grep -Eq '\*\*\*Skipped|\(Skipped\)' "$log"; then
		echo "ci/test.sh: /dev/kvm exists but these tests were skipped in $name:" >&2
		grep -E '\*\*\*Skipped|\(Skipped\)' "$log" >&2
		return 1
	fi
	local result
	result="$(grep -E 'tests passed' "$log" | tail -n 1 || true)"
	summary+=("$name: ${result:-no ctest summary}")
}

# smoke_tools BUILD_DIR: nub-run's response and exit codes on the simple guest, and one quick
# nub-bench run (numbers only, for the log). Needs /dev/kvm.
smoke_tools() {
	local tools="$1/tools" out rc
	out="$("$tools/nub-run" --text hello simple 1)" || return 1
	if [[ "$out" != "hello" ]]; then
		echo "ci/test.sh: nub-run echo printed '$out', expected 'hello'" >&2
		return 1
	fi
	rc=0
	"$tools/nub-run" --hex 0102 simple 2 || rc=$?
	if [[ $rc -ne 2 ]]; then
		echo "ci/test.sh: nub-run on a guest error response exited $rc, expected 2" >&2
		return 1
	fi
	rc=0
	"$tools/nub-run" --hex 0741 simple 9 || rc=$?
	if [[ $rc -ne 3 ]]; then
		echo "ci/test.sh: nub-run on a guest abort exited $rc, expected 3" >&2
		return 1
	fi
	"$tools/nub-bench" --quick || return 1
}

banner "deps: ci/deps.sh"
bash "$repo/ci/deps.sh"

for flavor in release asan tsan; do
	banner "build: $flavor (build/$flavor)"
	bash "$repo/ci/build.sh" "$flavor" "$repo/build/$flavor"
done

banner "test: release, all tests"
run_ctest release "$repo/build/release"

banner "test: asan (ASan + UBSan), all tests"
run_ctest asan "$repo/build/asan"

if [[ $require_kvm -eq 1 ]]; then
	for flavor in release asan; do
		banner "smoke: nub-run and nub-bench --quick ($flavor)"
		smoke_tools "$repo/build/$flavor"
		summary+=("tools smoke ($flavor): ok")
	done
fi

# Every test runs under TSan, not only those labelled 'threads': the kick signal, timers and
# snapshot refcounts are shared between threads by design, and the whole suite takes seconds.
banner "test: tsan, all tests"
run_ctest tsan "$repo/build/tsan"

phase="summary"
echo
echo "=================================================================="
for line in "${summary[@]}"; do
	echo "   $line"
done
kvm_note="/dev/kvm absent: KVM tests may have been skipped"
if [[ $require_kvm -eq 1 ]]; then
	kvm_note="/dev/kvm present: no test skipped"
fi
echo "ci/test.sh: PASS (release, asan, tsan; $kvm_note) in $(($(date +%s) - start))s"
