#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/campaign_status.sh: ci/campaign.sh's live status and reports (issue #10 items 2
# and 5). A campaign on fuzz_wire in a tmux terminal (100 x 40) redraws one status block in place
# (two screen captures seconds apart: the block once, on the same rows, its figures changed);
# Ctrl-C there leaves no process of the campaign alive, the summary is printed and the run
# directory holds coverage/index.html, plot.png and a valid summary.json. Without a terminal the
# campaign prints compact status lines every --status-every seconds. JSON escaping and
# --status-every's argument errors are checked too. Uses build/libfuzzer and build/coverage.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
campaign="$repo/ci/campaign.sh"
fuzzer="$repo/build/libfuzzer/fuzz/fuzz_wire"
latest="$repo/build/campaign/fuzz_wire/latest"
tmp="$(mktemp -d)"
sock="nub-campaign-status-$$" # a tmux server of this test's own
tmux_() { tmux -L "$sock" "$@"; }
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	tmux_ kill-server 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
failed=0

fail() {
	echo "FAIL: $*"
	failed=1
}

# ---- JSON strings and numbers (ci/campaign_report.sh) ----
# shellcheck source=ci/campaign_report.sh
. "$repo/ci/campaign_report.sh"
for s in 'plain' 'a "quoted" \ back\slash' $'new\nline\ttab\rcr' $'esc\033[1mape \001 bell\a' 'é ünïcode'; do
	if ! python3 -c 'import json, sys; sys.exit(json.loads(sys.argv[1]) != sys.argv[2])' \
		"$(json_str "$s")" "$s"; then
		fail "json_str does not round-trip $(printf '%q' "$s"): $(json_str "$s")"
	fi
done
for pair in 007=7 1.50=1.50 0=0 -3=-3 abc=null =null 1e5=null; do
	got="$(json_num "${pair%%=*}")"
	[[ "$got" == "${pair#*=}" ]] || fail "json_num '${pair%%=*}' gave '$got', expected '${pair#*=}'"
done
[[ $failed -ne 0 ]] || echo "ok: json_str round-trips quotes, backslashes and control characters; json_num"

# ---- --status-every's range ----
for bad in 0 3601 soon; do
	rc=0
	bash "$campaign" --status-every "$bad" >"$tmp/out" 2>&1 </dev/null || rc=$?
	want="ci/campaign.sh: --status-every takes seconds from 1 to 3600, not '$bad'"
	if [[ $rc -ne 2 ]] || ! grep -qxF -- "$want" "$tmp/out"; then
		fail "--status-every $bad exited $rc (expected 2 and: $want):"
		sed 's/^/    /' "$tmp/out"
	fi
done
[[ $failed -ne 0 ]] || echo "ok: --status-every 0, 3601 and 'soon' are refused (exit 2, the range named)"

# ---- Without a terminal: compact lines, plot.tsv, summary.json ----
rc=0
bash "$campaign" wire --time 6 --no-coverage --status-every 2 >"$tmp/pipe.log" 2>&1 </dev/null || rc=$?
line_re='^\[fuzz [0-9]+\] execs [0-9]+ \([0-9]+/s now, [0-9]+/s avg\) corp [0-9]+ cov [0-9]+ ft [0-9]+ new cov [0-9]+s ago findings 0( \(figures [0-9]+s old\))?$'
n="$(grep -cE "$line_re" "$tmp/pipe.log" || true)"
if [[ $rc -ne 0 || $n -lt 2 ]] || grep -q $'\033' "$tmp/pipe.log"; then
	fail "the campaign in a pipe exited $rc with $n compact status lines (expected 0, >= 2, no escapes):"
	sed 's/^/    /' "$tmp/pipe.log"
else
	run="$(readlink -f "$latest")"
	rows="$(($(wc -l <"$run/plot.tsv") - 1))"
	if [[ $rows -lt 3 ]] || ! awk -F'\t' 'NR > 2 && $1 <= t { exit 1 } NR > 1 { t = $1 }' "$run/plot.tsv"; then
		fail "plot.tsv has $rows rows (expected >= 3, time increasing):"
		cat "$run/plot.tsv"
	fi
	if ! python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
assert s["target"] == "fuzz_wire" and s["engine"] == "libfuzzer", s
assert s["duration_s"]["requested"] == 6 and s["stopped_by"] is None, s
assert s["executions"] > 0 and s["findings"] == [] and s["corpus"]["merged"] is True, s
assert s["coverage"]["lines_percent"] is None and s["coverage"]["fuzzer"]["cov"] > 0, s
assert s["files"]["coverage_html"] is None and s["files"]["plot"] == "plot.png", s' \
		"$run/summary.json"; then
		fail "summary.json of the piped campaign:"
		cat "$run/summary.json"
	fi
	echo "ok: in a pipe: $n compact lines ($(grep -m1 -E "$line_re" "$tmp/pipe.log")), $rows plot rows"
fi

# ---- In a terminal: the block redraws in place; Ctrl-C; the reports ----
header='fuzz_wire, libfuzzer, 1 job(s): fuzzing '
# The campaign is the pane's process (no shell between: Ctrl-C reaches it alone) and the leader
# of the pane's session; the pane stays when it exits, for its screen and exit status. CI=true
# would select the compact lines.
tmux_ -f /dev/null new-session -d -s status -x 100 -y 40 env -u CI bash "$campaign" wire --time 600
tmux_ set-option -t status remain-on-exit on
pane_pid="$(tmux_ display-message -p -t status '#{pane_pid}')"
capture() { tmux_ capture-pane -p -t status; }
started=0
for ((i = 0; i < 600; i++)); do # the first build may take minutes
	if capture | grep -qF "$header"; then
		started=1
		break
	fi
	sleep 1
done
if [[ $started -eq 0 ]]; then
	fail "no status block in the terminal; the screen:"
	capture | sed 's/^/    /'
	exit 1
fi
sleep 1
capture >"$tmp/screen1"
sleep 3
capture >"$tmp/screen2"
rows1="$(grep -nF "$header" "$tmp/screen1" | cut -d: -f1 | tr '\n' ' ')"
rows2="$(grep -nF "$header" "$tmp/screen2" | cut -d: -f1 | tr '\n' ' ')"
exec1="$(grep -n '^executions ' "$tmp/screen1" | cut -d: -f1 | tr '\n' ' ')"
exec2="$(grep -n '^executions ' "$tmp/screen2" | cut -d: -f1 | tr '\n' ' ')"
if [[ "$rows1" != "$rows2" || "$rows1" =~ [0-9]\ [0-9] || "$exec1" != "$exec2" || -z "$exec1" ]] ||
	cmp -s "$tmp/screen1" "$tmp/screen2"; then
	fail "the status block did not redraw in place (header rows '$rows1' then '$rows2'," \
		"executions rows '$exec1' then '$exec2'); the screens:"
	sed 's/^/  1| /' "$tmp/screen1"
	sed 's/^/  2| /' "$tmp/screen2"
else
	echo "ok: in a terminal the block redraws in place (row ${rows1% }):"
	grep -A3 -F "$header" "$tmp/screen2" | sed 's/^/    /'
fi

tmux_ send-keys -t status C-c
# tmux marks the pane dead when its terminal closes and learns the exit status when it reaps the
# process, on SIGCHLD: wait for both. Debian's tmux is built with libutempter, whose own SIGCHLD
# handler can swallow that signal (tmux issue #311), leaving the campaign a zombie that tmux never
# reaps; a SIGCHLD sent to the server makes it reap (the workaround tmux's author gives there).
server_pid="$(tmux_ display-message -p '#{pid}')"
for ((i = 0; i < 1200; i++)); do
	status="$(tmux_ display-message -p -t status '#{pane_dead}:#{pane_dead_status}')"
	[[ ! "$status" =~ ^1:[0-9]+$ ]] || break
	[[ "$status" != 1:* ]] || kill -CHLD "$server_pid" 2>/dev/null || true
	sleep 0.1
done
tmux_ capture-pane -p -S -200 -t status >"$tmp/final"
if [[ "$status" != 1:0 ]]; then
	fail "after Ctrl-C the campaign did not end with exit 0 within 120 s (dead:status $status):"
	sed 's/^/    /' "$tmp/final"
fi
# Nothing of the campaign is left: no process runs this tree's fuzzer (its own sessions), and
# none is left in the campaign's session.
if pgrep -af -- "$fuzzer " >"$tmp/left"; then
	fail "fuzzer processes alive after Ctrl-C:"
	cat "$tmp/left"
	while read -r left _; do kill -KILL "$left" 2>/dev/null || true; done <"$tmp/left"
fi
if ps -o pid=,stat=,args= -s "$pane_pid" | awk '$2 !~ /^Z/' | grep . >"$tmp/session"; then
	fail "processes of the campaign's session alive after Ctrl-C:"
	cat "$tmp/session"
fi
for want in '^stopped: +by SIGINT after [0-9]+s of fuzzing \(of 600s\); corpus kept$' \
	'^engine coverage: lines: [0-9.]+% \([0-9]+ out of [0-9]+\)$' \
	'^reports: +summary.json, plot.png, coverage/index.html \(table: coverage.txt\)$' \
	'^crashes: +none$'; do
	grep -qE "$want" "$tmp/final" || fail "no summary line matching $want"
done
run="$(readlink -f "$latest")"
[[ "$(head -c 8 "$run/plot.png" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]] ||
	fail "$run/plot.png is not a PNG"
grep -q '<html' "$run/coverage/index.html" 2>/dev/null || fail "no HTML report $run/coverage/index.html"
if ! python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
assert s["stopped_by"] == "SIGINT" and s["duration_s"]["requested"] == 600, s
assert 0 < s["coverage"]["lines_percent"] <= 100 and s["files"]["coverage_html"] == "coverage/index.html", s' \
	"$run/summary.json"; then
	fail "summary.json of the terminal campaign:"
	cat "$run/summary.json"
fi
summary_lines="$(sed -n '/^== summary: /,/^ci\/campaign.sh: done in /p' "$tmp/final" | wc -l)"
[[ $summary_lines -le 16 ]] || fail "the summary takes $summary_lines lines (at most 16)"
if [[ $failed -eq 0 ]]; then
	echo "ok: Ctrl-C in the terminal: exit 0, no process left, summary ($summary_lines lines)," \
		"index.html, plot.png, summary.json"
else
	sed 's/^/    /' "$tmp/final"
fi

[[ $failed -eq 0 ]] && echo "campaign status and reports: all passed"
exit "$failed"
