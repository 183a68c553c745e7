#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/core_gdb.sh NUB_RUN GUEST_DIR: the real gdb opens each kind of core of the simple
# guest next to its ELF: a fault (SIGSEGV; `info registers rip` equals the RIP nub-run reported;
# bt names the faulting function; code read through the core equals the ELF's), an abort
# (SIGABRT in the runtime's abort path) and a time limit (SIGALRM in the spin loop).
# Exit 77 (skipped) without /dev/kvm or gdb.
set -euo pipefail

nub_run="$1"
guest_dir="$2"
elf="$guest_dir/simple.elf"
[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "core_gdb: no /dev/kvm: skipped"; exit 77; }
command -v gdb >/dev/null || { echo "core_gdb: no gdb: skipped"; exit 77; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "core_gdb: FAIL: $*" >&2
	for f in "$tmp"/*.out "$tmp"/*.err; do
		[[ -f "$f" ]] && { echo "---- $f" >&2; cat "$f" >&2; }
	done
	exit 1
}

# expect FILE REGEX: some line of FILE matches REGEX (extended).
expect() {
	grep -Eq "$2" "$tmp/$1" || fail "no line of $1 matches: $2"
}

# core NAME ARGS...: runs nub-run with --core on ARGS (the outcome exits 4), leaves NAME.err and
# the core's path in NAME.core.
core() {
	local name="$1" rc=0
	shift
	timeout 60 "$nub_run" --core "$tmp/$name" --guest-dir "$guest_dir" "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
	[[ $rc -eq 4 ]] || fail "$name: nub-run exited $rc, want 4 (a guest outcome)"
	sed -n 's/^nub-run: core written to //p' "$tmp/$name.err" >"$tmp/$name.core"
	[[ -s "$tmp/$name.core" && -f "$(cat "$tmp/$name.core")" ]] || fail "$name: no core written"
}

# in_gdb NAME GDB-ARGS...: gdb in batch mode on the ELF and NAME's core, output in NAME.gdb.out.
in_gdb() {
	local name="$1"
	shift
	timeout 60 gdb -batch -nx "$elf" "$(cat "$tmp/$name.core")" "$@" >"$tmp/$name.gdb.out" 2>&1 ||
		fail "$name: gdb exited $?"
}

core fault simple 15
rip="$(sed -n 's/.*at rip \(0x[0-9a-f]*\),.*/\1/p' "$tmp/fault.err" | head -n 1)"
[[ -n "$rip" ]] || fail "fault: nub-run reported no RIP"
# shellcheck disable=SC2016 # $pc is gdb's, not the shell's
in_gdb fault -ex 'info registers rip' -ex bt -ex 'x/8xb $pc'
expect fault.gdb.out '^Program terminated with signal SIGSEGV, Segmentation fault\.$'
expect fault.gdb.out "^rip +$rip +$rip <"
expect fault.gdb.out '^#[01] .*fn_null_deref \('
# The bytes at RIP through the core equal the ELF's own (read by gdb from the ELF alone).
through_core="$(grep -E "^$rip" "$tmp/fault.gdb.out" | head -n 1 | cut -f2-)"
timeout 60 gdb -batch -nx "$elf" -ex "x/8xb $rip" >"$tmp/elf.gdb.out" 2>&1 || fail "gdb on the ELF"
from_elf="$(grep -E "^$rip" "$tmp/elf.gdb.out" | head -n 1 | cut -f2-)"
[[ -n "$through_core" && "$through_core" == "$from_elf" ]] ||
	fail "the code at $rip: '$through_core' through the core, '$from_elf' in the ELF"

core abort simple 9 --hex 2a626f6f6d
in_gdb abort -ex bt
expect abort.gdb.out '^Program terminated with signal SIGABRT, Aborted\.$'
expect abort.gdb.out '^#[0-9]+ .*nub_(rt|guest)_abort'

core limit --time-limit 50 simple 20
in_gdb limit -ex bt
expect limit.gdb.out '^Program terminated with signal SIGALRM, Alarm clock\.$'
expect limit.gdb.out '^#[0-9]+ .*(fn_)?spin \('

echo "core_gdb: gdb opened the fault, abort and time-limit cores (rip $rip, code as in the ELF)"
