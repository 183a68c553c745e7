#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/iteration_line.sh REPRO TARGET: the iteration-line-<target> test. Runs a KVM target's
# reproducer on an empty input and checks that it printed its trivial-iteration line
# (kvm_fuzz_report_iteration in harness/fuzz/kvm_target.h) once, with numbers where they belong, and
# for targets with a long-lived sandbox the restore oracle's rate line (kvm_fuzz_calibrate_oracle). The
# times are printed, never judged: tests do not assert absolute times or ratios.
# Exit 77 from the reproducer (no /dev/kvm) is passed on as "skipped".
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: harness/scripts/iteration_line.sh REPRO TARGET" >&2
	exit 2
fi
repro="$1" target="$2"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/empty"

rc=0
"$repro" "$tmp/empty" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [[ $rc -eq 77 ]]; then
	echo "iteration line: skipped (the reproducer exited 77: /dev/kvm cannot be opened)"
	exit 77
fi
if [[ $rc -ne 0 ]]; then
	cat "$tmp/out" "$tmp/err" >&2
	echo "iteration line: $(basename "$repro") on an empty input exited $rc" >&2
	exit 1
fi

num='-?[0-9]+\.[0-9]+'
# Targets with a long-lived sandbox split the engine's share; the others say why they cannot.
pattern="^nub-fuzz: $target: trivial iteration \(empty input; medians of n = [0-9]+\): "
pattern+="wall $num us = $num RT; engine $num RT "
pattern+="\((goal <= $num RT; restore $num RT via [a-zA-Z0-9 ]+, guest work $num RT|no long-lived sandbox: [^)]+)\); "
pattern+="RT = $num us \(raw KVM_RUN/out round trip, median of [0-9]+, measured now\)$"
lines="$(grep -c "^nub-fuzz: $target: trivial iteration" "$tmp/err" || true)"
if [[ "$lines" -ne 1 ]] || ! grep -Eq "$pattern" "$tmp/err"; then
	cat "$tmp/err" >&2
	echo "iteration line: expected exactly one line matching" >&2
	echo "  $pattern" >&2
	echo "on stderr; found $lines trivial-iteration line(s)" >&2
	exit 1
fi
grep -E "$pattern" "$tmp/err"
# Targets with a long-lived sandbox also print the restore oracle's rate (kvm_fuzz_calibrate_oracle).
if grep -Eq "^nub-fuzz: $target: trivial iteration .*restore $num RT via" "$tmp/err"; then
	oracle="^nub-fuzz: $target: restore oracle: nub_sandbox_verify $num us = $num RT per check "
	oracle+="\(median of [0-9]+\); checked after every [0-9]+ restores = $num % of the trivial "
	oracle+="iteration's $num us \(goal < 10 %\); after every restore when replaying$"
	if [[ "$(grep -c "^nub-fuzz: $target: restore oracle:" "$tmp/err" || true)" -ne 1 ]] ||
		! grep -Eq "$oracle" "$tmp/err"; then
		cat "$tmp/err" >&2
		echo "iteration line: expected exactly one restore-oracle line matching" >&2
		echo "  $oracle" >&2
		exit 1
	fi
	grep -E "$oracle" "$tmp/err"
fi
