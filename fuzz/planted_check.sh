#!/usr/bin/env bash
# fuzz/planted_check.sh FUZZER REPRO SEEDS FUZZ_DIR: the planted-bug-pure test (libfuzzer flavour,
# NUB_PLANT_BUG=pure). libFuzzer, started from the committed fuzz_wire seeds with a fixed seed,
# value profiling (it guides mutations towards compared constants such as the planted 0x4242),
# bounded by runs and time (typically found within 20 k - 400 k runs, a few seconds; libFuzzer is
# not fully deterministic even with -seed, so the bound is generous: 20 M runs or 180 s), must
# find the planted heap-buffer-overflow (fuzz/planted_wire.c); the
# reproducer must then crash on the saved input with the same signature twice, equal to the one
# derived from libFuzzer's own report.
set -euo pipefail

if [[ $# -ne 4 ]]; then
	echo "usage: fuzz/planted_check.sh FUZZER REPRO SEEDS FUZZ_DIR" >&2
	exit 2
fi
fuzzer="$1" repro="$2" seeds="$3" fuzz_dir="$4"
runs="${NUB_PLANT_RUNS:-20000000}"
max_time="${NUB_PLANT_MAX_TIME:-180}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/corpus"
cp "$seeds"/* "$tmp/corpus/"

fail() {
	echo "planted-bug-pure: FAIL: $*" >&2
	exit 1
}

rc=0
timeout --signal=KILL $((max_time + 60)) "$fuzzer" -runs="$runs" -max_total_time="$max_time" -seed=1 -use_value_profile=1 -max_len=4096 -dict="$fuzz_dir/fuzz_wire.dict" \
	-artifact_prefix="$tmp/" -print_final_stats=1 "$tmp/corpus" >"$tmp/fuzz.log" 2>&1 || rc=$?
if [[ $rc -eq 0 ]]; then
	tail -n 5 "$tmp/fuzz.log" >&2
	fail "libFuzzer did not find the planted bug within $runs runs / ${max_time}s"
fi
grep -q 'ERROR: AddressSanitizer: heap-buffer-overflow' "$tmp/fuzz.log" ||
	{ tail -n 40 "$tmp/fuzz.log" >&2; fail "libFuzzer stopped (exit $rc) without a heap-buffer-overflow"; }
crash="$(find "$tmp" -maxdepth 1 -name 'crash-*' | head -n 1)"
[[ -n "$crash" ]] || fail "libFuzzer saved no crash file"
execs="$(grep -Eo '^#[0-9]+' "$tmp/fuzz.log" | tail -n 1 || true)"
sig_fuzzer="$(bash "$fuzz_dir/signature.sh" fuzz_wire "$tmp/fuzz.log" "$rc")"

sigs=()
for i in 1 2; do
	rc=0
	timeout --signal=KILL 60 "$repro" "$crash" >"$tmp/repro$i.log" 2>&1 || rc=$?
	[[ $rc -ne 0 ]] || fail "the reproducer handled the crash file (exit 0) on run $i"
	sigs+=("$(bash "$fuzz_dir/signature.sh" fuzz_wire "$tmp/repro$i.log" "$rc")")
done
[[ "${sigs[0]}" == "${sigs[1]}" ]] || fail "unstable signature: '${sigs[0]}' then '${sigs[1]}'"
[[ "${sigs[0]}" == *"| heap-buffer-overflow READ 1 |"* ]] || fail "unexpected signature: ${sigs[0]}"
[[ "${sigs[0]}" == *"__wrap_nub_wire_decode_log"* ]] || fail "the planted frame is missing: ${sigs[0]}"
[[ "$sig_fuzzer" == "${sigs[0]}" ]] ||
	fail "libFuzzer's report gives '$sig_fuzzer', the reproducer '${sigs[0]}'"

echo "planted-bug-pure: libFuzzer found the planted bug (last status line ${execs:-?}; limits $runs runs, ${max_time}s)"
echo "planted-bug-pure: crash input: $(xxd -p "$crash" | head -c 120)"
echo "${sigs[0]}"
