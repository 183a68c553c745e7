#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/campaign_scale.sh: ci/campaign.sh's scale-out (issue #10 item 4) on fuzz_wire,
# in campaign folders of its own (NUB_CAMPAIGN_DIR under build/test-campaigns/scale, removed
# first): the --sync-dir argument errors; --jobs 2 under libFuzzer (-fork=2) and AFL++ (-M main,
# -S sec2: both fuzz), then the same campaign again, each instance resuming its output directory,
# and a third time with main's fuzzer_stats removed (main starts over from the corpus, sec2 resumes);
# and, from the committed seeds, two campaign processes sharing one sync directory, "alpha"
# (--main) and "beta" (secondary, started once alpha has found inputs of its own): beta's queue
# must hold entries named sync:alpha (AFL++'s name for an input taken from another instance) and
# .synced/alpha.
# Builds build/libfuzzer and build/afl as the campaigns need them. About 40 s.
set -euo pipefail
set -m # job control: the background campaign gets its own process group

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
campaign="$repo/ci/campaign.sh"
# Under build/, beside the campaigns of the repository.
root="$repo/build/test-campaigns/scale"
rm -rf "$root"
mkdir -p "$root/jobs" "$root/sync-campaign"
export NUB_CAMPAIGN_DIR="$root/jobs"
sync="$root/sync"
out="$NUB_CAMPAIGN_DIR/fuzz_wire/afl"
log="$root/campaign.log"
alpha_pid=""
failed=0

trap '[[ -z "$alpha_pid" ]] || kill -KILL -- "-$alpha_pid" 2>/dev/null || true' EXIT

fail() {
	echo "FAIL: $*"
	failed=1
}

expect_timeout=60
expect_out="$log"
# shellcheck source=harness/scripts/expect.sh
. "$repo/harness/scripts/expect.sh"
# expect_campaign RC LINE ARGS...: ci/campaign.sh ARGS exits RC and prints LINE.
expect_campaign() {
	local want_rc="$1" want_line="$2"
	shift 2
	expect "$want_rc" "$want_line" bash "$campaign" "$@"
}

# run_campaign NAME LOG ARGS...: ci/campaign.sh wire ARGS must exit 0.
run_campaign() {
	local name="$1" l="$2" rc=0
	shift 2
	timeout 300 bash "$campaign" wire --no-coverage "$@" >"$l" 2>&1 </dev/null || rc=$?
	if [[ $rc -ne 0 ]]; then
		fail "$name: ci/campaign.sh wire $* exited $rc, expected 0; its output:"
		sed 's/^/    /' "$l"
		return 1
	fi
}

# ran INSTANCE: the AFL++ instance OUT/INSTANCE (or SYNC/INSTANCE) executed inputs.
ran() {
	local e
	e="$(sed -n 's/^execs_done *: *//p' "$1/fuzzer_stats" 2>/dev/null)"
	[[ "$e" =~ ^[0-9]+$ && $e -gt 0 ]]
}

expect_campaign 2 "ci/campaign.sh: --sync-dir, --instance and --main are for --engine afl" \
	--sync-dir "$sync" --instance a
expect_campaign 2 "ci/campaign.sh: --sync-dir and --instance go together" --engine afl --sync-dir "$sync"
expect_campaign 2 "ci/campaign.sh: --sync-dir and --instance go together" --engine afl --main
expect_campaign 2 "ci/campaign.sh: --instance takes 1 to 32 of A-Z a-z 0-9 _ - (a letter or digit first), not '-x'" \
	--engine afl --sync-dir "$sync" --instance -x
: >"$root/file"
expect_campaign 2 "ci/campaign.sh: --sync-dir $root/file exists and is not a directory" \
	--engine afl --sync-dir "$root/file" --instance a

# libFuzzer --jobs 2: fork mode with two workers.
if run_campaign "libFuzzer --jobs 2" "$log" --jobs 2 --time 3; then
	if grep -q '^INFO: -fork=2: fuzzing in separate process(s)' "$NUB_CAMPAIGN_DIR/fuzz_wire/latest/fuzz.log"; then
		echo "ok: libFuzzer --jobs 2 ran -fork=2"
	else
		fail "libFuzzer --jobs 2: no '-fork=2' line in fuzz.log"
	fi
fi

# AFL++ --jobs 2, three times: one -M and one -S that both fuzz, then both resume, then a broken
# main starts over.
for round in 1 2 3; do
	[[ $round -ne 3 ]] || rm -f "$out/main/fuzzer_stats"
	run_campaign "AFL++ --jobs 2 ($round)" "$log" --engine afl --jobs 2 --time 3 || continue
	if ! ran "$out/main" || ! ran "$out/sec2"; then
		fail "AFL++ --jobs 2: main or sec2 executed nothing"
	fi
	if ! grep -q "^afl-fuzz -M main -i .* -o $out " "$log" ||
		! grep -q "^afl-fuzz -S sec2 -i .* -o $out " "$log"; then
		fail "AFL++ --jobs 2: not one -M main and one -S sec2 in $out"
	fi
	if [[ $round -eq 2 ]] && { ! grep -q "^afl: main: resuming $out/main " "$log" ||
		! grep -q "^afl: sec2: resuming $out/sec2 " "$log" ||
		! grep -q '^afl-fuzz -M main -i - ' "$log"; }; then
		fail "AFL++ --jobs 2, second run: the instances did not resume (-i -)"
	fi
	broken="afl: main: starting from the campaign corpus ($out/main could not be resumed:"
	broken="$broken it has no fuzzer_stats; removed)"
	if [[ $round -eq 3 ]] && { ! grep -qxF "$broken" "$log" ||
		! grep -q "^afl: sec2: resuming $out/sec2 " "$log"; }; then
		fail "AFL++ --jobs 2, third run: a main without fuzzer_stats did not start over," \
			"or sec2 did not resume"
	fi
done
[[ $failed -ne 0 ]] || echo "ok: AFL++ --jobs 2 ran -M main and -S sec2; the second run resumed" \
	"both, the third started a broken main over"

# Two campaign processes on one sync directory, from the committed seeds (alpha soon finds more).
export NUB_CAMPAIGN_DIR="$root/sync-campaign"
alpha_log="$root/alpha.log"
bash "$campaign" wire --engine afl --sync-dir "$sync" --instance alpha --main --time 120 \
	--no-coverage >"$alpha_log" 2>&1 </dev/null &
alpha_pid=$!
found=0
for ((i = 0; i < 600; i++)); do # up to 60 s: alpha's own finds (src: in the name, not orig:)
	if find "$sync/alpha/queue" -maxdepth 1 -name 'id:*,src:*' 2>/dev/null | grep -q .; then
		found=1
		break
	fi
	kill -0 "$alpha_pid" 2>/dev/null || break
	sleep 0.1
done
if [[ $found -eq 0 ]]; then
	fail "alpha found no input of its own within 60 s; its output:"
	sed 's/^/    /' "$alpha_log"
else
	run_campaign "beta" "$root/beta.log" --engine afl --sync-dir "$sync" --instance beta \
		--time 3 || true
	grep -q "^afl-fuzz -S beta -i .* -o $sync " "$root/beta.log" ||
		fail "beta did not run as -S beta in $sync"
	crossed="$(find "$sync/beta/queue" -maxdepth 1 -name 'id:*sync:alpha*' | wc -l)"
	if [[ $crossed -gt 0 && -f "$sync/beta/.synced/alpha" ]]; then
		echo "ok: $crossed of alpha's inputs crossed into beta's queue (e.g." \
			"$(find "$sync/beta/queue" -maxdepth 1 -name 'id:*sync:alpha*' -printf '%f\n' | head -n 1))"
	else
		fail "no input crossed from alpha to beta ($crossed sync:alpha entries in $sync/beta/queue)"
	fi
fi
rc=0
kill -INT "$alpha_pid" 2>/dev/null || true
wait "$alpha_pid" || rc=$?
alpha_pid=""
if [[ $rc -ne 0 ]] || ! grep -q "^afl-fuzz -M alpha -i .* -o $sync " "$alpha_log"; then
	fail "alpha (-M alpha, stopped by SIGINT) exited $rc, expected 0; its output:"
	sed 's/^/    /' "$alpha_log"
fi

[[ $failed -ne 0 ]] || {
	rm -rf "$root"
	echo "campaign scale-out: all passed"
}
exit "$failed"
