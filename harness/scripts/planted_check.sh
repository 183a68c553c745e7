#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/planted_check.sh KIND TARGET FUZZER REPRO SEEDS TARGET_DIR: the
# planted-bug-<KIND> tests (libfuzzer flavour, NUB_PLANT_BUG=<KIND>; TARGET_DIR holds TARGET.dict):
#   pure: fuzz_wire, the shim harness/fuzz/planted_wire.c (a log frame with line 0x4242);
#   kvm:  fuzz_outb on a real VM, the shim harness/fuzz/planted_outb.c (a 4-byte OUT of
#         0x5a5a5a5a to port 0x5a5a); exit 77 (skipped) when /dev/kvm cannot be opened.
# libFuzzer, started from the committed seeds of TARGET with a fixed seed, value profiling (it
# guides mutations towards compared constants such as the planted 0x4242 or 0x5a5a), the target's
# dictionary, bounded by runs and time (pure: typically found within 20 k - 400 k runs, a few
# seconds; kvm: 10 k - 40 k runs, 5 - 30 s on a real VM; libFuzzer is not fully deterministic
# even with -seed, so the bound is generous: 20 M runs or 180 s), must find the planted
# heap-buffer-overflow; the reproducer must then crash on the saved
# input with the same signature twice, equal to the one derived from libFuzzer's own report.
set -euo pipefail

if [[ $# -ne 6 || ( "$1" != pure && "$1" != kvm ) ]]; then
	echo "usage: harness/scripts/planted_check.sh pure|kvm TARGET FUZZER REPRO SEEDS TARGET_DIR" >&2
	exit 2
fi
kind="$1" target="$2" fuzzer="$3" repro="$4" seeds="$5" target_dir="$6"
scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runs="${NUB_PLANT_RUNS:-20000000}"
max_time="${NUB_PLANT_MAX_TIME:-180}"
case "$kind" in
pure) frame=__wrap_nub_wire_decode_log ;;
kvm) frame=__wrap_nub_outb_handle ;;
esac
test_name="planted-bug-$kind"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/corpus"
cp "$seeds"/* "$tmp/corpus/"

fail() {
	echo "$test_name: FAIL: $*" >&2
	exit 1
}

rc=0
# -error_exitcode: libFuzzer's default for a crash is 77, which ctest and this script read as
# "skipped, no /dev/kvm"; a crash must never look like a skip.
timeout --signal=KILL $((max_time + 60)) "$fuzzer" -error_exitcode=99 -runs="$runs" -max_total_time="$max_time" -seed=1 -use_value_profile=1 -max_len=4096 -dict="$target_dir/$target.dict" \
	-artifact_prefix="$tmp/" -print_final_stats=1 "$tmp/corpus" >"$tmp/fuzz.log" 2>&1 || rc=$?
if [[ $rc -eq 77 ]]; then
	tail -n 3 "$tmp/fuzz.log"
	echo "$test_name: skipped (exit 77: /dev/kvm cannot be opened)"
	exit 77
fi
if [[ $rc -eq 0 ]]; then
	tail -n 5 "$tmp/fuzz.log" >&2
	fail "libFuzzer did not find the planted bug within $runs runs / ${max_time}s"
fi
grep -q 'ERROR: AddressSanitizer: heap-buffer-overflow' "$tmp/fuzz.log" ||
	{ tail -n 40 "$tmp/fuzz.log" >&2; fail "libFuzzer stopped (exit $rc) without a heap-buffer-overflow"; }
crash="$(find "$tmp" -maxdepth 1 -name 'crash-*' | head -n 1)"
[[ -n "$crash" ]] || fail "libFuzzer saved no crash file"
execs="$(grep -Eo '^#[0-9]+' "$tmp/fuzz.log" | tail -n 1 || true)"
sig_fuzzer="$(bash "$scripts/signature.sh" "$target" "$tmp/fuzz.log" "$rc")"

sigs=()
for i in 1 2; do
	rc=0
	timeout --signal=KILL 60 "$repro" "$crash" >"$tmp/repro$i.log" 2>&1 || rc=$?
	[[ $rc -ne 0 ]] || fail "the reproducer handled the crash file (exit 0) on run $i"
	sigs+=("$(bash "$scripts/signature.sh" "$target" "$tmp/repro$i.log" "$rc")")
done
[[ "${sigs[0]}" == "${sigs[1]}" ]] || fail "unstable signature: '${sigs[0]}' then '${sigs[1]}'"
[[ "${sigs[0]}" == *"| heap-buffer-overflow READ 1 |"* ]] || fail "unexpected signature: ${sigs[0]}"
[[ "${sigs[0]}" == *"$frame"* ]] || fail "the planted frame is missing: ${sigs[0]}"
[[ "$sig_fuzzer" == "${sigs[0]}" ]] ||
	fail "libFuzzer's report gives '$sig_fuzzer', the reproducer '${sigs[0]}'"

echo "$test_name: libFuzzer found the planted bug (last status line ${execs:-?}; limits $runs runs, ${max_time}s)"
echo "$test_name: crash input: $(xxd -p "$crash" | head -c 120)"
echo "${sigs[0]}"
