#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/campaign_lifecycle.sh: ci/campaign.sh's life cycle (issue #10 item 1).
# Argument errors (exit 2, the reason named); a campaign on fuzz_wire sent SIGINT, SIGTERM or
# SIGHUP (and SIGINT with --jobs 2) after a few seconds of fuzzing leaves no process of it alive
# (pgrep on the fuzzer's path), prints the summary and exits 0, its corpus merged in place; a
# --plant-bug campaign exits 1 with its finding (in summary.json too), 0 with --keep-going.
# Builds build/libfuzzer, build/libfuzzer-plant and build/asan-plant as the campaigns need them.
#   NUB_CAMPAIGN_TEST_PLANT=0  skips the planted-bug campaigns
set -euo pipefail
set -m # job control: the background campaign gets its own process group and does not ignore SIGINT

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
campaign="$repo/ci/campaign.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=0

fail() {
	echo "FAIL: $*"
	failed=1
}

expect_timeout=60
expect_out="$tmp/out"
# shellcheck source=harness/scripts/expect.sh
. "$repo/harness/scripts/expect.sh"
# expect_campaign RC LINE ARGS...: ci/campaign.sh ARGS exits RC and prints LINE.
expect_campaign() {
	local want_rc="$1" want_line="$2"
	shift 2
	expect "$want_rc" "$want_line" bash "$campaign" "$@"
}

expect_campaign 2 "ci/campaign.sh: --time must be from 1 s to 604800 s (7 days), not '0'" --time 0
expect_campaign 2 "ci/campaign.sh: --jobs takes a whole number from 1 to 64, not '0'" --jobs 0
expect_campaign 2 "ci/campaign.sh: --engine takes libfuzzer or afl, not 'honggfuzz'" --engine honggfuzz
expect_campaign 2 "ci/campaign.sh: --time takes 30s, 5m, 1h or seconds, not 'soon'" --time soon
expect_campaign 2 "ci/campaign.sh: unknown option '--bogus'" --bogus
expect_campaign 2 "ci/campaign.sh: no fuzz target 'fuzz_nonesuch'; the targets are:" nonesuch
expect_campaign 2 "  fuzz_wire (pure)" nonesuch
expect_campaign 0 "  --jobs N           parallel workers, 1 to 64 (libFuzzer -fork=N; AFL++ one -M and N-1 -S)" --help
expect_campaign 0 "  3  the campaign itself failed: a build, or the fuzzer did not start or failed without a finding" --help

# stop_test SIG [ARG...]: a campaign (with ARGs) sent SIG during fuzzing stops, leaves no process
# behind, prints the summary and exits 0.
fuzzer="$repo/build/libfuzzer/fuzz/fuzz_wire"
log="$tmp/campaign.log"
stop_test() {
	local sig="$1" pid started=0 rc=0 i before="$failed" corpus="$repo/build/campaign/fuzz_wire/corpus" n
	shift
	failed=0
	# A duplicate under a name of its own: the merge at the end drops it.
	local first
	first="$(find "$corpus" -maxdepth 1 -type f 2>/dev/null | head -n 1 || true)" # none on a fresh clone
	[[ -z "$first" ]] || cp "$first" "$corpus/dup-lifecycle-test"
	: >"$log"
	bash "$campaign" wire --time 600 --no-coverage --status-every 1 "$@" >"$log" 2>&1 </dev/null &
	pid=$!
	for ((i = 0; i < 600; i++)); do # the first build may take minutes
		if grep -qE '^\[fuzz [0-9]+\] execs [1-9]' "$log"; then
			started=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	if [[ $started -eq 0 ]]; then
		fail "the campaign did not start fuzzing; its output:"
		sed 's/^/    /' "$log"
		kill -KILL -- "-$pid" 2>/dev/null || true
		exit 1
	fi
	pgrep -f -- "$fuzzer " >/dev/null || fail "no process runs $fuzzer while the campaign fuzzes"
	sleep 2
	kill -"$sig" "$pid"
	wait "$pid" || rc=$?
	# Every process running this tree's fuzzer binary (libFuzzer's -fork workers run it
	# through sh -c): the path is this checkout's, so they are the campaign's.
	if pgrep -af -- "$fuzzer " >"$tmp/left"; then
		fail "processes of the campaign are alive after SIG$sig:"
		cat "$tmp/left"
		while read -r left _; do kill -KILL "$left" 2>/dev/null || true; done <"$tmp/left"
	fi
	[[ $rc -eq 0 ]] || fail "the campaign stopped by SIG$sig exited $rc, expected 0"
	grep -qxE "stopped: +by SIG$sig after [0-9]+s of fuzzing \(of 600s\); corpus kept" "$log" ||
		fail "no 'stopped: by SIG$sig' summary line"
	n="$(find "$corpus" -maxdepth 1 -type f | wc -l)"
	grep -qxE "corpus: +[0-9]+ inputs \([^)]*\) before, $n inputs \([^)]*\) after, merged from [0-9]+ files \(.*/build/campaign/fuzz_wire/corpus\)" \
		"$log" || fail "no corpus summary line counting the merged corpus ($n files)"
	[[ ! -e "$corpus/dup-lifecycle-test" && ! -e "$corpus.merge" ]] ||
		fail "the corpus was not merged in place"
	grep -qxF 'crashes:         none' "$log" || fail "no 'crashes: none' line"
	grep -qxF "ci/campaign.sh: SIG$sig: stopping the fuzzer(s), then the summary (SIG$sig again: exit at once)" \
		"$log" || fail "no SIG$sig message"
	if [[ $failed -eq 0 ]]; then
		echo "ok: SIG$sig stopped the campaign${1:+ ($*)}; no process of it left; summary printed; exit 0"
	else
		sed 's/^/    /' "$log"
	fi
	[[ $before -eq 0 ]] || failed=1
}
stop_test INT
stop_test TERM
stop_test HUP
stop_test INT --jobs 2

# A planted bug is a finding: exit 1.
if [[ "${NUB_CAMPAIGN_TEST_PLANT:-1}" != 0 ]]; then
	rc=0
	bash "$campaign" --plant-bug --time 120 --no-coverage >"$log" 2>&1 </dev/null || rc=$?
	if [[ $rc -ne 1 ]] || ! grep -qE '^crashes: +[1-9][0-9]* file\(s\), [1-9][0-9]* signature\(s\)' "$log" ||
		! grep -qE '^ci/campaign.sh: done in [0-9]+s: [1-9][0-9]* finding\(s\) \(exit 1\)$' "$log"; then
		fail "the --plant-bug campaign exited $rc (expected 1 with a crash); its output:"
		sed 's/^/    /' "$log"
	else
		echo "ok: the --plant-bug campaign exited 1: $(grep -m1 'x signature:' "$log")"
	fi
	# Its summary.json lists the finding with its signature and reproduce command.
	summary="$repo/build/campaign/fuzz_wire/latest/summary.json"
	if ! python3 -c 'import json, sys
f = json.load(open(sys.argv[1]))["findings"]
assert len(f) >= 1 and all(x["signature"] and "ci/repro.sh " in x["reproduce"] for x in f), f' \
		"$summary"; then
		fail "the --plant-bug campaign's summary.json has no finding with signature and reproduce:"
		cat "$summary"
	else
		echo "ok: its summary.json lists the finding, signature and reproduce command"
	fi
	rc=0
	bash "$campaign" --plant-bug --keep-going --time 120 --no-coverage >"$log" 2>&1 </dev/null || rc=$?
	if [[ $rc -ne 0 ]] ||
		! grep -qE '^ci/campaign.sh: done in [0-9]+s: [1-9][0-9]* finding\(s\) \(--keep-going: exit 0\)$' "$log"; then
		fail "the --plant-bug --keep-going campaign exited $rc (expected 0 with a finding); its output:"
		sed 's/^/    /' "$log"
	else
		echo "ok: the --plant-bug --keep-going campaign reported its finding and exited 0"
	fi
fi

[[ $failed -eq 0 ]] && echo "campaign life cycle: all passed"
exit "$failed"
