#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/nub_run_inputs.sh NUB_RUN: nub-run's hostile-input and exit-status checks (issue #10 item 8).
# Each case asserts the exit status and one exact line of the output. Exits 77 without /dev/kvm.
set -euo pipefail

[[ $# -eq 1 ]] || {
	echo "usage: harness/scripts/nub_run_inputs.sh NUB_RUN" >&2
	exit 2
}
nub_run="$(realpath "$1")"
if ! { : <>/dev/kvm; } 2>/dev/null; then
	echo "skipped: /dev/kvm cannot be opened"
	exit 77
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
mkfifo fifo
ln -s fifo link
expect_timeout=5
# shellcheck source=harness/scripts/expect.sh
. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"

expect 1 "nub-run: --file fifo: is a FIFO, not a regular file" "$nub_run" --file fifo simple 1
expect 1 "nub-run: --init-data fifo: is a FIFO, not a regular file" "$nub_run" --init-data fifo simple
expect 1 "nub-run: --file /dev/null: is a character device, not a regular file" \
	"$nub_run" --file /dev/null simple 1
expect 1 "nub-run: --file .: is a directory, not a regular file" "$nub_run" --file . simple 1
expect 1 "nub-run: --file missing: No such file or directory" "$nub_run" --file missing simple 1
expect 1 "nub-run: loading the snapshot failed: NUB_E_IO: fifo is not a regular file" \
	"$nub_run" --from-snapshot fifo
ln -s missing dangling
expect 1 "nub-run: --init-data dangling: a symbolic link to a missing file" \
	"$nub_run" --init-data dangling simple

save_refused() { echo "nub-run: saving the snapshot failed: NUB_E_INVALID: snapshot save $1: it exists and is $2; not replacing it"; }
expect 1 "$(save_refused /dev/full "a character device")" "$nub_run" simple --save-snapshot /dev/full
expect 1 "$(save_refused fifo "a FIFO")" "$nub_run" simple --save-snapshot fifo
expect 1 "$(save_refused link "a symbolic link")" "$nub_run" simple --save-snapshot link
[[ -p fifo && -L link && -c /dev/full ]] || {
	echo "FAIL: a refused --save-snapshot replaced its target"
	failed=1
}
if grep -q 'snapshot saved' out; then
	echo "FAIL: a refused --save-snapshot printed 'snapshot saved'"
	failed=1
fi
expect 0 "nub-run: snapshot saved to snap" "$nub_run" simple --save-snapshot snap

expect 0 "hello" "$nub_run" --text hello simple 1
expect 2 "nub-run: --gdb-breakpoints takes auto, int3 or debugreg, not 'hw'" \
	"$nub_run" --gdb 1234 --gdb-breakpoints hw simple
expect 2 "nub-run: --gdb-breakpoints needs --gdb" "$nub_run" --gdb-breakpoints int3 simple
# shellcheck disable=SC2016 # $0 is expanded by sh
expect 1 "nub-run: writing to stdout failed: No space left on device" \
	sh -c '"$0" --text hello simple 1 >/dev/full' "$nub_run"
# shellcheck disable=SC2016 # $0 is expanded by sh
expect 1 "nub-run: writing to stdout failed: No space left on device" \
	sh -c '"$0" --help >/dev/full' "$nub_run"
expect 3 "nub-run: call 2 failed: NUB_E_GUEST_ERROR: guest error 5: add needs 8 bytes, got 2" \
	"$nub_run" --hex 0102 simple 2
expect 4 "nub-run: call 9 failed: NUB_E_GUEST_ABORT: guest aborted with code 7: A" \
	"$nub_run" --hex 0741 simple 9

expect 2 "nub-run: bad function id '-1': FN_ID must be a number in 0..4294967295" \
	"$nub_run" simple -1
expect 2 "nub-run: bad function id '-1': FN_ID must be a number in 0..4294967295" \
	"$nub_run" --text x simple -1
expect 2 "nub-run: bad function id '4294967296': FN_ID must be a number in 0..4294967295" \
	"$nub_run" simple 4294967296
expect 2 "nub-run: unknown option '--bogus'" "$nub_run" --bogus simple
expect 2 "nub-run: --heap needs a size from 1 byte to 1073741824 bytes (1g; k/m/g suffix), not '2g'" \
	"$nub_run" --heap 2g simple
expect 2 "nub-run: --heap needs a size from 1 byte to 1073741824 bytes (1g; k/m/g suffix), not '1073741825'" \
	"$nub_run" --heap 1073741825 simple
expect 0 "  --heap SIZE         guest heap in bytes, 1 to 1073741824 (1g); suffix k, m or g for KiB," \
	"$nub_run" --help
expect 0 "  4  guest outcome: NUB_E_GUEST_ABORT, NUB_E_GUEST_FAULT, NUB_E_MMIO, NUB_E_TRIPLE_FAULT," \
	"$nub_run" --help

expect 1 "nub-run: guest directory /nonexistent: No such file or directory" \
	"$nub_run" --guest-dir /nonexistent simple
expect 1 "nub-run: guest 'simple' not found: tried simple, /nonexistent/simple and /nonexistent/simple.elf (set the directory with --guest-dir)" \
	"$nub_run" --guest-dir /nonexistent simple

[[ $failed -eq 0 ]] && echo "nub-run inputs: all passed"
exit "$failed"
