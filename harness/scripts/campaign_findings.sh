#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/campaign_findings.sh: a campaign's findings (issue #10 item 6), in a campaign
# folder of its own (NUB_CAMPAIGN_DIR=build/test-campaigns/findings, removed first).
# Two --plant-bug campaigns (fuzz_wire's planted heap-buffer-overflow, found in seconds; the
# second one with the first's minimised crash in its corpus, so it meets the same finding): each
# exits 1 and prints the finding's signature and the ci/repro.sh command of its minimised file;
# the findings store then holds one entry, whose minimised input is no larger than the original,
# crashes with the stored signature through the printed command, and after the second run has
# count 2 and the same first_seen; findings.json is valid JSON naming it. ci/keep-crash.sh on the
# minimised file: kept with a warning against the planted build (it still crashes), refused over
# an existing name (1) or with a bad name (2), kept silently against build/asan (no planted bug).
# ci/minimize.sh: the campaign corpus with a duplicate added loses it ("N -> M files").
# Builds build/libfuzzer-plant, build/asan-plant, build/asan and build/libfuzzer as needed.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export NUB_CAMPAIGN_DIR="$repo/build/test-campaigns/findings"
rm -rf "$NUB_CAMPAIGN_DIR"
mkdir -p "$NUB_CAMPAIGN_DIR/regress"
work="$NUB_CAMPAIGN_DIR/fuzz_wire"
store="$work/findings"
log="$NUB_CAMPAIGN_DIR/out.log"
failed=0

fail() {
	echo "FAIL: $*"
	failed=1
}

# show: the last command's output, indented.
show() { sed 's/^/    /' "$log"; }

# The planted bug is armed at run time: the campaign exports this too, the reproductions need it.
export NUB_PLANTED=wire-log-overread
sig_re='fuzz_wire \| heap-buffer-overflow READ 1 \| __wrap_nub_wire_decode_log > [^|]* \| -'
first_seen=""
for round in 1 2; do
	rc=0
	timeout 600 bash "$repo/ci/campaign.sh" --plant-bug --time 120 --no-coverage >"$log" 2>&1 \
		</dev/null || rc=$?
	entries=("$store"/*/)
	if [[ $rc -ne 1 || ${#entries[@]} -ne 1 || ! -f "${entries[0]}signature.txt" ]]; then
		fail "run $round: exit $rc (expected 1), ${#entries[@]} store entries (expected 1); output:"
		show
		break
	fi
	d="${entries[0]%/}"
	rel="${d#"$repo"/}"
	want_cmd="      NUB_PLANTED=$NUB_PLANTED ci/repro.sh $rel/minimized --target fuzz_wire --build-dir build/asan-plant"
	grep -qE "^  [0-9]+ x signature: $sig_re \((new|first seen .*)\)$" "$log" ||
		fail "run $round: no signature line in the summary"
	grep -qxF -- "$want_cmd" "$log" || fail "run $round: no line '$want_cmd'"
	sig="$(cat "$d/signature.txt")"
	[[ "$sig" =~ ^$sig_re$ ]] || fail "run $round: stored signature '$sig'"
	count="$(cat "$d/count")"
	[[ "$(wc -c <"$d/minimized")" -le "$(wc -c <"$d/original")" ]] ||
		fail "run $round: the minimised input is larger than the original"
	if [[ $round -eq 1 ]]; then
		first_seen="$(cat "$d/first_seen")"
		[[ "$first_seen" =~ ^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z$ ]] ||
			fail "first_seen is '$first_seen', not a UTC time"
		[[ $count -ge 1 ]] || fail "run 1: count $count"
		# The printed command reproduces the stored signature.
		rc=0
		(cd "$repo" && bash ci/repro.sh "$rel/minimized" --target fuzz_wire \
			--build-dir build/asan-plant --no-build) >"$log" 2>&1 || rc=$?
		if [[ $rc -ne 1 ]] || ! grep -qxF "signature: $sig" "$log"; then
			fail "the printed ci/repro.sh command exited $rc, not 1 with the stored signature"
		fi
		first_count="$count"
		# The planted bug is reached through two call paths of fuzz_wire (two signatures): run 2
		# starts from run 1's minimised crash, so it finds the same one on its first input.
		cp "$d/minimized" "$work/corpus/run1-crash"
	else
		[[ "$(cat "$d/first_seen")" == "$first_seen" ]] ||
			fail "run 2 changed first_seen from $first_seen to $(cat "$d/first_seen")"
		[[ $count -gt $first_count ]] || fail "run 2: count $count, not above run 1's $first_count"
	fi
	if ! python3 - "$work/latest/findings.json" "$sig" "$count" "$first_seen" "$rel/minimized" <<'PY'; then
import json, sys
path, sig, count, first, minimized = sys.argv[1:]
f = json.load(open(path))
assert len(f) == 1, f
e = f[0]
assert (e["signature"], e["count"], e["first_seen"], e["minimized"]) == (sig, int(count), first, minimized), e
assert e["reproduce"].startswith("NUB_PLANTED=wire-log-overread ci/repro.sh " + minimized + " --target fuzz_wire"), e
PY
		fail "run $round: findings.json ($work/latest/findings.json) does not list the finding"
	fi
	[[ $failed -ne 0 ]] || echo "ok: run $round exited 1; one finding, count $count, first seen $first_seen"
done

if [[ $failed -eq 0 ]]; then
	keep=("$repo/ci/keep-crash.sh" "$d/minimized" --target wire --corpus "$NUB_CAMPAIGN_DIR/regress")
	expect_keep() {
		local want_rc="$1" want="$2" rc=0
		shift 2
		bash "${keep[@]}" "$@" >"$log" 2>&1 || rc=$?
		if [[ $rc -ne $want_rc ]] || ! grep -qF -- "$want" "$log"; then
			fail "ci/keep-crash.sh ... $* exited $rc (expected $want_rc with '$want'):"
			show
		else
			echo "ok: ci/keep-crash.sh ... $* -> $rc"
		fi
	}
	expect_keep 0 "WARNING: it still crashes with the reproducer in build/asan-plant" \
		--name planted --build-dir build/asan-plant
	cmp -s "$d/minimized" "$NUB_CAMPAIGN_DIR/regress/regress-planted" || fail "regress-planted not kept"
	expect_keep 1 "refused: $NUB_CAMPAIGN_DIR/regress/regress-planted exists" --name planted \
		--build-dir build/asan-plant
	expect_keep 2 "--name takes 1 to 64 of a-z 0-9 - (it becomes regress-WHAT), not 'Planted_1'" \
		--name Planted_1
	expect_keep 0 "handled by the reproducer in build/asan (exit 0)" --name fixed
	! grep -q WARNING "$log" || fail "a warning for an input the build handles"

	# ci/minimize.sh on the campaign corpus plus a duplicate.
	corpus="$work/corpus"
	n="$(find "$corpus" -maxdepth 1 -type f | wc -l)"
	cp "$(find "$corpus" -maxdepth 1 -type f | head -n 1)" "$corpus/duplicate"
	rc=0
	bash "$repo/ci/minimize.sh" wire --corpus "$corpus" >"$log" 2>&1 || rc=$?
	m="$(find "$corpus" -maxdepth 1 -type f | wc -l)"
	if [[ $rc -ne 0 || -e "$corpus/duplicate" ]] ||
		! grep -qxF "ci/minimize.sh: fuzz_wire: $((n + 1)) -> $m files ($corpus, libfuzzer)" "$log"; then
		fail "ci/minimize.sh exited $rc (expected 0, the duplicate gone, '$((n + 1)) -> $m files'):"
		show
	else
		echo "ok: ci/minimize.sh: $((n + 1)) -> $m files"
	fi
fi

[[ $failed -ne 0 ]] || {
	rm -rf "$NUB_CAMPAIGN_DIR"
	echo "campaign findings: all passed"
}
exit "$failed"
