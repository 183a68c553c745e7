# SPDX-License-Identifier: Apache-2.0
# The planted-bug matrix: known bugs, each in a fuzz-only shim, that prove the harness finds the
# bugs a sandbox must never have. With -DNUB_PLANT_BUG=all (one build tree, build/libfuzzer-plant)
# each shim harness/fuzz/planted/<name>.c is linked into its target only, with
# -Wl,--wrap=<symbol> (the engine's sources stay untouched), and the bug is chosen AT RUN TIME:
# env NUB_PLANTED=<name> arms it; unset, every shim passes straight through (planted.h).
# The libfuzzer flavour gets the ctest planted-bug-<name> (harness/scripts/planted_check.sh):
# libFuzzer must find the bug from the target's committed seeds within a bounded number of
# executions, and the reproducer must give the expected signature, twice, equal to libFuzzer's.
#
# The table: nub_planted_bug(NAME TARGET SYMBOL MODULE KIND TRIGGER TYPE HEAD ENV)
#   TARGET   the fuzz target that carries it (fuzz/<kind>/<TARGET>.c)
#   SYMBOL   the engine function the shim wraps
#   MODULE   the engine source file whose bug it imitates
#   KIND     what goes wrong
#   TRIGGER  what an input must do to reach it
#   TYPE     the signature's crash type (signature.sh), HEAD the start of its frames or its
#            named invariant: the signature must contain "| TYPE | HEAD".
#   ENV      the test's environment (a list), e.g. an oracle's rate (kvm_target.h): the restore
#            oracle after every restore (NUB_FUZZ_ORACLE_EVERY=1) so that the saved input is the
#            one whose restore went wrong, or off (=0) to show that the state-leak oracle alone
#            catches a leak; the memory bugs of fuzz_outb turn the state-leak oracle off
#            (NUB_FUZZ_LEAK_EVERY=0): they do not need it, and under load its emulated digest
#            calls may run into the 20 ms time limit, a finding that no input reproduces.
nub_planted_bug(wire-log-overread fuzz_wire nub_wire_decode_log wire.c
  "heap overflow: one byte past a log frame"
  "a log frame with line 0x4242"
  "heap-buffer-overflow READ 1" "__wrap_nub_wire_decode_log" "")
nub_planted_bug(outb-port-overread fuzz_outb nub_outb_handle outb.c
  "heap overflow behind a real VM exit: one byte past a copy of a port write"
  "a 4-byte OUT of 0x5a5a5a5a to port 0x5a5a"
  "heap-buffer-overflow READ 1" "__wrap_nub_outb_handle" "NUB_FUZZ_LEAK_EVERY=0")
nub_planted_bug(elf-load-overread fuzz_elf nub_elf_load guest_elf.c
  "heap overflow: the loader reads one byte past a segment's file range"
  "a valid ELF whose last loaded segment's file range ends at the end of the file"
  "heap-buffer-overflow READ 1" "__wrap_nub_elf_load" "")
nub_planted_bug(request-4k-uaf fuzz_host_call nub_wire_decode_request wire.c
  "use after free: a request over 4 KiB read from its freed copy"
  "a host-call request whose payload is over 4 KiB (needs an input over 4 KiB)"
  "heap-use-after-free READ 1" "__wrap_nub_wire_decode_request" "")
nub_planted_bug(iobuf-guard-overrun fuzz_outb nub_iobuf_pop iobuf.c
  "host overrun inside guest memory: a pop reads the word at the stack pointer"
  "a pop with the output stack pointer at the buffer's end (the word read is the stack guard page)"
  "use-after-poison READ 8" "__wrap_nub_iobuf_pop" "NUB_FUZZ_LEAK_EVERY=0")
nub_planted_bug(restore-dirty-dropped fuzz_guest_call nub_kvm_collect_dirty restore.c
  "inexact restore: the scratch slot's top four dirty pages are not put back"
  "a call that makes the guest take a CPU exception (its handler dirties the exception stack)"
  "invariant" "nub_sandbox_restore exact (nub_sandbox_verify)" "NUB_FUZZ_ORACLE_EVERY=1")
nub_planted_bug(kvm-fault-ignored fuzz_kvm_fault nub_kvm_collect_dirty kvm.c
  "mishandled KVM ioctl failure: a failed dirty-log harvest reported as success"
  "a KVM_GET_DIRTY_LOG or KVM_CLEAR_DIRTY_LOG failure (not EINTR) in a restore after dirtying"
  "invariant" "nub_sandbox_restore exact (nub_sandbox_verify)" "")
nub_planted_bug(restore-heap-leak fuzz_outb nub_kvm_collect_dirty restore.c
  "leak between inputs: the primary slot's harvest keeps one dirty page per bitmap word"
  "an input that dirties the guest's heap (a host call, or WRITE_INPUT's stream copy)"
  "invariant" "nub_sandbox_restore guest state digest == snapshot"
  "NUB_FUZZ_ORACLE_EVERY=0;NUB_FUZZ_LEAK_EVERY=1")
