#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# harness/scripts/signature_test.sh: the signature-rules test. Feeds signature.sh made-up reports
# and checks the signatures: a named invariant (NUB_FUZZ_CHECK_OP) signs with its engine operation
# and check in place of the frames, an unnamed one keeps the harness frames, other crash types
# are untouched, unsymbolized frames (libFuzzer's) are left out.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail=0

# expect NAME WANT: the signature of $tmp/NAME (exit status 1) must be WANT.
expect() {
	local got
	got="$(bash "$here/signature.sh" fuzz_t "$tmp/$1" 1)"
	if [[ "$got" != "$2" ]]; then
		echo "signature of $1: got '$got', want '$2'" >&2
		fail=1
	fi
}

cat >"$tmp/named" <<'R'
outcome: call/ok
nub-fuzz: restore oracle: NUB_E_DIVERGED: guest page 0x9000 (primary region) differs
nub-fuzz: invariant: nub_sandbox_restore exact (nub_sandbox_verify)
nub-fuzz: invariant violated at /w/harness/fuzz/kvm_target.c:265: restore oracle
==1== ERROR: libFuzzer: deadly signal
    #0 0x1 in abort /lib/abort.c:79:7
    #1 0x2 in check_restore_exact /w/harness/fuzz/kvm_target.c:265:2
    #2 0x3 in kvm_fuzz_restore /w/harness/fuzz/kvm_target.c:300:2

R
expect named "signature: fuzz_t | invariant | nub_sandbox_restore exact (nub_sandbox_verify) | call/ok"

cat >"$tmp/unnamed" <<'R'
nub-fuzz: invariant violated at /w/fuzz/pure/fuzz_wire.c:86: inside(p, n, buf, len)
==1== ERROR: libFuzzer: deadly signal
    #1 0x2 in check_view /w/fuzz/pure/fuzz_wire.c:86:3
    #2 0x3 in LLVMFuzzerTestOneInput /w/fuzz/pure/fuzz_wire.c:120:2

R
expect unnamed "signature: fuzz_t | invariant | check_view > LLVMFuzzerTestOneInput | -"

cat >"$tmp/asan" <<'R'
==1==ERROR: AddressSanitizer: use-after-poison on address 0x7f00 at pc 0x1 bp 0x2 sp 0x3
READ of size 8 at 0x7f00 thread T0
    #0 0x1 in nub_iobuf_pop /w/engine/src/iobuf.c:90:3
    #1 0x2 in take_response /w/engine/src/kvm/sandbox.c:190:7

R
expect asan "signature: fuzz_t | use-after-poison READ 8 | nub_iobuf_pop > take_response | -"

# libFuzzer's own frames are not symbolized to a source file: "(binary+0xoffset)", and a build's
# binary lies in its fuzz/ folder; they must not count as frames of nub code.
cat >"$tmp/unsymbolized" <<'R'
==1==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x6020 at pc 0x1 bp 0x2 sp 0x3
READ of size 1 at 0x6020 thread T0
    #0 0x1 in __wrap_nub_elf_load /w/harness/fuzz/planted/elf-load-overread.c:34:27
    #1 0x2 in LLVMFuzzerTestOneInput /w/fuzz/pure/fuzz_elf.c:134:3
    #2 0x3 in fuzzer::Fuzzer::ExecuteCallback(unsigned char const*, unsigned long) (/w/build/libfuzzer/fuzz/fuzz_elf+0x4f2c1)

R
expect unsymbolized "signature: fuzz_t | heap-buffer-overflow READ 1 | __wrap_nub_elf_load > LLVMFuzzerTestOneInput | -"

if [[ $fail -ne 0 ]]; then
	exit 1
fi
echo "signature rules: 4 reports signed as expected"
