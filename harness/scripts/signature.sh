#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/signature.sh TARGET REPORT [EXIT_STATUS]: prints the crash signature of a
# reproducer or libFuzzer run from its combined output (REPORT):
#   signature: <target> | <host crash type or none> | <top 3 frames in nub code or -> | <outcome class>
# Crash type: ASan's "ERROR: AddressSanitizer: <type>" (+ "READ/WRITE <size>"), LeakSanitizer's
# memory-leak, UBSan's "runtime error: <what>" without numbers, libFuzzer's deadly-signal /
# timeout / out-of-memory, or the exit status (timeout, signal-N). Frames: the first stack trace,
# keeping frames whose source lies under engine/, fuzz/ or harness/ (not unsymbolized frames,
# "(binary+0xoffset)", such as libFuzzer's own inside a build's fuzz/ folder; the framework's drivers,
# outcome bookkeeping and allocation hook, harness/fuzz/driver_*.c and harness.c and
# harness/common/alloc_inject.c, excepted), innermost first, function names only so that line
# moves do not change signatures.
# A named invariant (NUB_FUZZ_CHECK_OP: "nub-fuzz: invariant: OP CHECK") signs with "OP CHECK" in
# place of the frames, so the engine operation and check name it rather than harness functions.
# Outcome: the last "outcome:" line of the report (the target's class for the crashing input), or -.
# A report from a reproducer without a sanitizer already holds its signature (after "crash:").
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
	echo "usage: harness/scripts/signature.sh TARGET REPORT [EXIT_STATUS]" >&2
	exit 2
fi
target="$1" report="$2" rc="${3:-0}"

if grep -q '^crash: ' "$report"; then
	awk '/^crash: /{c=1} c && /^signature: /{print; exit}' "$report"
	exit 0
fi

awk -v target="$target" -v rc="$rc" '
function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
BEGIN { type = ""; n = 0; stack = 0; stack_done = 0; outcome = "-"; inv = "" }
inv == "" && /^nub-fuzz: invariant: / { inv = substr($0, 22) }
/^outcome: / { outcome = substr($0, 10) }
type == "" && /ERROR: AddressSanitizer: / {
	s = $0; sub(/.*ERROR: AddressSanitizer: /, "", s); split(s, w, " ")
	type = w[1]; want_access = 1; next
}
type == "" && /ERROR: LeakSanitizer: detected memory leaks/ { type = "memory-leak"; next }
type == "" && /ERROR: ThreadSanitizer: / {
	s = $0; sub(/.*ERROR: ThreadSanitizer: /, "", s); sub(/ \(.*/, "", s)
	type = "tsan: " trim(s); next
}
type == "" && /runtime error: / {
	s = $0; sub(/.*runtime error: /, "", s)
	gsub(/0x[0-9a-fA-F]+/, "", s); gsub(/'"'"'[^'"'"']*'"'"'/, "", s); gsub(/[0-9]+/, "", s)
	sub(/[,:].*/, "", s); gsub(/  +/, " ", s)
	type = "ubsan: " trim(s); next
}
type == "" && /ERROR: libFuzzer: deadly signal/ { type = "deadly-signal"; next }
type == "" && /ERROR: libFuzzer: timeout/ { type = "timeout"; next }
type == "" && /ERROR: libFuzzer: out-of-memory/ { type = "out-of-memory"; next }
type == "" && /^nub-fuzz: invariant violated/ { type = "invariant"; next }
want_access && /^(READ|WRITE) of size [0-9]+/ { type = type " " $1 " " $4; want_access = 0; next }
type != "" && !stack_done && /^ *#[0-9]+ / {
	stack = 1
	if (match($0, / in [^ ]+ /)) {
		fn = substr($0, RSTART + 4, RLENGTH - 5)
		loc = substr($0, RSTART + RLENGTH)
		if (loc ~ /\/(engine|fuzz|harness)\// && loc !~ /\+0x[0-9a-f]+\)/ &&
		    loc !~ /\/harness\/(fuzz\/(driver_[a-z]+|harness)|common\/alloc_inject)\.c/ &&
		    n < 3)
			frames[n++] = fn
	}
	next
}
stack && !stack_done { stack_done = 1 }
END {
	if (type == "") {
		if (rc == 124 || rc == 137) type = "timeout"
		else if (rc == 134) type = "abort"
		else if (rc > 128) type = "signal-" (rc - 128)
		else if (rc != 0) type = "exit-" rc
		else type = "none"
	}
	f = "-"
	for (i = 0; i < n; i++) f = (i ? f " > " : "") frames[i]
	if (type == "invariant" && inv != "") f = inv
	printf "signature: %s | %s | %s | %s\n", target, type, f, outcome
}' "$report"
