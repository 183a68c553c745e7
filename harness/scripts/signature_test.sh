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

# The state-leak oracle: the guest's view differs although the host's equals the snapshot.
cat >"$tmp/leak" <<'R'
outcome: ok
nub-fuzz: state-leak oracle: NUB_E_DIVERGED: the guest sees its heap at [0x9000, +0x1000) with digest 0x1, the snapshot holds 0x2
nub-fuzz: state-leak oracle: host view: guest memory equals the snapshot (only the guest sees it)
nub-fuzz: invariant: nub_sandbox_restore guest state digest == snapshot
nub-fuzz: invariant violated at /w/harness/fuzz/kvm_target.c:372: state-leak oracle
==1== ERROR: libFuzzer: deadly signal
    #1 0x2 in check_no_leak /w/harness/fuzz/kvm_target.c:372:3
    #2 0x3 in kvm_fuzz_restore /w/harness/fuzz/kvm_target.c:440:3

R
expect leak "signature: fuzz_t | invariant | nub_sandbox_restore guest state digest == snapshot | ok"

# Two engine operations whose checks sit in one harness function keep apart: the check is the
# expression without blanks (NUB_FUZZ_CHECK_OP with no check name).
for op in request response; do
	cat >"$tmp/wire-$op" <<R
outcome: ok
nub-fuzz: invariant: nub_wire_decode_$op total==len
nub-fuzz: invariant violated at /w/fuzz/pure/fuzz_wire.c:114: total == len
==1== ERROR: libFuzzer: deadly signal
    #1 0x2 in check_view /w/fuzz/pure/fuzz_wire.c:114:2
    #2 0x3 in fuzz_decode /w/fuzz/pure/fuzz_wire.c:150:3

R
	expect "wire-$op" "signature: fuzz_t | invariant | nub_wire_decode_$op total==len | ok"
done

# A broken promise of fuzz_kvm_fault's rules names the operation the step ran.
cat >"$tmp/kvm-rule" <<'R'
outcome: life/NUB_E_KVM
nub-fuzz: invariant kvm_fault_rule: a failed restore left the sandbox ready
nub-fuzz: invariant: nub_sandbox_restore kvm_fault_rule
nub-fuzz: invariant violated at /w/fuzz/kvm/fuzz_kvm_fault.c:76: kvm_fault_rule
    #1 0x2 in check_rule /w/fuzz/kvm/fuzz_kvm_fault.c:76:3

R
expect kvm-rule "signature: fuzz_t | invariant | nub_sandbox_restore kvm_fault_rule | life/NUB_E_KVM"

# A check about the harness itself (its own allocation) keeps the harness frames.
cat >"$tmp/unnamed" <<'R'
nub-fuzz: invariant violated at /w/fuzz/pure/fuzz_wire.c:48: c != NULL
==1== ERROR: libFuzzer: deadly signal
    #1 0x2 in copy_exact /w/fuzz/pure/fuzz_wire.c:48:2
    #2 0x3 in LLVMFuzzerTestOneInput /w/fuzz/pure/fuzz_wire.c:240:2

R
expect unnamed "signature: fuzz_t | invariant | copy_exact > LLVMFuzzerTestOneInput | -"

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
echo "signature rules: 8 reports signed as expected"
