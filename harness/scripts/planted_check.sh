#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/planted_check.sh BUG TARGET FUZZER REPRO SEEDS TARGET_DIR TYPE HEAD: the ctest
# planted-bug-BUG (libfuzzer flavour, NUB_PLANT_BUG=all), one row of harness/fuzz/planted.cmake.
# With env NUB_PLANTED=BUG (the shim armed; the rest of the environment, e.g. an oracle's rate
# from the table's ENV column, is passed on), libFuzzer runs FUZZER from a copy of the committed seeds SEEDS with a fixed seed, value profiling (it steers
# mutations towards compared constants such as 0x4242), TARGET_DIR/TARGET.dict and the
# [libfuzzer] settings of TARGET_DIR/TARGET.options (max_len, len_control, ...), bounded by
# EXECUTIONS (NUB_PLANT_RUNS, default 20000000) and, so that CI cannot hang, by time
# (NUB_PLANT_MAX_TIME seconds, default 180). It must stop on a crash whose signature contains
# "| TYPE | HEAD"; the reproducer REPRO must then crash on the saved input with that same
# signature twice, equal to the one derived from libFuzzer's report (but for the outcome class,
# which only the reproducer prints), and, with NUB_PLANTED unset
# (every shim passing through), must handle the input (exit 0): the bug is the shim's.
# Prints the executions libFuzzer needed (stat::number_of_executed_units), the crash input and the
# signature.
# Exit status: 0 found as expected, 1 not found or not as expected, 2 usage, 77 skipped (a KVM
# target without /dev/kvm).
set -euo pipefail

if [[ $# -ne 8 ]]; then
	echo "usage: harness/scripts/planted_check.sh BUG TARGET FUZZER REPRO SEEDS TARGET_DIR TYPE HEAD" >&2
	exit 2
fi
bug="$1" target="$2" fuzzer="$3" repro="$4" seeds="$5" target_dir="$6" type="$7" head="$8"
scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runs="${NUB_PLANT_RUNS:-20000000}"
max_time="${NUB_PLANT_MAX_TIME:-180}"
for v in runs max_time; do
	[[ "${!v}" =~ ^[1-9][0-9]{0,9}$ ]] || {
		echo "planted_check.sh: NUB_PLANT_${v^^} '${!v}' is not a count in 1..9999999999" >&2
		exit 2
	}
done
test_name="planted-bug-$bug"
expected="| $type | $head"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/corpus"
cp "$seeds"/* "$tmp/corpus/"

fail() {
	echo "$test_name: FAIL: $*" >&2
	exit 1
}

# The target's own [libfuzzer] settings (key = value), as libFuzzer flags.
options=()
if [[ -f "$target_dir/$target.options" ]]; then
	while IFS= read -r flag; do
		options+=("$flag")
	done < <(awk -F'[ \t]*=[ \t]*' '/^\[/{s = ($0 == "[libfuzzer]")} s && /^[a-z_]+[ \t]*=/{print "-" $1 "=" $2}' \
		"$target_dir/$target.options")
fi

export NUB_PLANTED="$bug"
rc=0
# -error_exitcode: libFuzzer's default for a crash is 77, which ctest and this script read as
# "skipped, no /dev/kvm"; a crash must never look like a skip.
timeout --signal=KILL $((max_time + 60)) "$fuzzer" "${options[@]}" -error_exitcode=99 \
	-runs="$runs" -max_total_time="$max_time" -seed=1 -use_value_profile=1 \
	-dict="$target_dir/$target.dict" -artifact_prefix="$tmp/" -print_final_stats=1 \
	"$tmp/corpus" >"$tmp/fuzz.log" 2>&1 || rc=$?
if [[ $rc -eq 77 ]]; then
	tail -n 3 "$tmp/fuzz.log"
	echo "$test_name: skipped (exit 77: /dev/kvm cannot be opened)"
	exit 77
fi
grep -q "^nub-fuzz: planted bug $bug armed" "$tmp/fuzz.log" || {
	tail -n 5 "$tmp/fuzz.log" >&2
	fail "the fuzzer never armed the shim (is $target built with NUB_PLANT_BUG=all?)"
}
if [[ $rc -eq 0 ]]; then
	tail -n 5 "$tmp/fuzz.log" >&2
	fail "libFuzzer did not find the planted bug within $runs executions / ${max_time}s"
fi
crash="$(find "$tmp" -maxdepth 1 -name 'crash-*' | head -n 1)"
[[ -n "$crash" ]] || { tail -n 40 "$tmp/fuzz.log" >&2; fail "libFuzzer stopped (exit $rc) without a crash file"; }
execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log" | tail -n 1)"
sig_fuzzer="$(bash "$scripts/signature.sh" "$target" "$tmp/fuzz.log" "$rc")"
[[ "$sig_fuzzer" == *"$expected"* ]] ||
	{ tail -n 40 "$tmp/fuzz.log" >&2; fail "libFuzzer found '$sig_fuzzer', not '$expected'"; }

sigs=()
for i in 1 2; do
	rc=0
	timeout --signal=KILL 60 "$repro" "$crash" >"$tmp/repro$i.log" 2>&1 || rc=$?
	[[ $rc -ne 0 ]] || {
		grep -E '^nub-fuzz: .*(oracle|invariant)' "$tmp/fuzz.log" | tail -n 5 >&2
		fail "the reproducer handled the crash file (exit 0) on run $i"
	}
	sigs+=("$(bash "$scripts/signature.sh" "$target" "$tmp/repro$i.log" "$rc")")
done
[[ "${sigs[0]}" == "${sigs[1]}" ]] || fail "unstable signature: '${sigs[0]}' then '${sigs[1]}'"
[[ "${sigs[0]}" == *"$expected"* ]] || fail "the reproducer gives '${sigs[0]}', not '$expected'"
# The outcome field aside: only the reproducer prints the input's outcome class.
[[ "${sig_fuzzer% | *}" == "${sigs[0]% | *}" ]] ||
	fail "libFuzzer's report gives '$sig_fuzzer', the reproducer '${sigs[0]}'"

rc=0
env -u NUB_PLANTED "$repro" "$crash" >"$tmp/unarmed.log" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || {
	tail -n 20 "$tmp/unarmed.log" >&2
	fail "without NUB_PLANTED the reproducer fails on the crash input too (exit $rc): not the shim's bug"
}

echo "$test_name: libFuzzer found the planted bug in ${execs:-?} executions (limits $runs executions, ${max_time}s; load: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "$test_name: crash input ($(wc -c <"$crash") bytes): $(xxd -p "$crash" | tr -d '\n' | head -c 120)"
echo "${sigs[0]}"
