/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the KVM fuzz targets (fuzz_outb, fuzz_guest_call, fuzz_host_call, fuzz_guest_blob,
 * fuzz_snapshot_run): where the guests are, the /dev/kvm check, the configuration, the host
 * functions they register and the invariants every call outcome must satisfy.
 *
 * The VM of a target is created lazily, on the first input (or in LLVMFuzzerInitialize): with
 * AFL++ both run in the fork server's child, after __AFL_INIT, because KVM serves a VM only to the
 * process that created it.
 */
#ifndef NUB_FUZZ_KVM_TARGET_H
#define NUB_FUZZ_KVM_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "nub/nub.h"

/* The engine's per-call (and init) time limit: guest hangs end here, far below -timeout. */
#define KVM_FUZZ_TIME_LIMIT_MS 20u
/*
 * The reproducer's limit: ten times longer, so that a legitimately long input (hundreds of exits)
 * never flips to NUB_E_TIME_LIMIT on a loaded or sanitizer-slowed machine and a replay's outcome
 * depends on the input alone. Real hangs still end, just later.
 */
#define KVM_FUZZ_REPLAY_TIME_LIMIT_MS 200u

/*
 * The host functions every KVM target registers (fn_ids; anything else is unregistered):
 * ECHO returns the request; UPPER returns it upper-cased (ASCII); FAIL fails with a message;
 * HUGE returns KVM_FUZZ_HUGE_BYTES + request-length bytes, more than any input buffer of the
 * default configuration holds (NUB_STATUS_RESPONSE_TOO_LARGE for the guest).
 */
enum kvm_fuzz_fn { KFN_ECHO = 1, KFN_UPPER = 2, KFN_FAIL = 3, KFN_HUGE = 4, KFN_COUNT = 4 };
#define KVM_FUZZ_HUGE_BYTES (64u << 10)

/*
 * Evolves, snapshots, restores and frees one `dummy` sandbox, for targets that build a sandbox
 * per input: the engine's once-per-process paths (CPUID cache, XCR0 probe, kick handler) then run
 * before the first input, and AFL++ sees the same edges for every input. Aborts on failure.
 */
void kvm_fuzz_warm_up(void);

/*
 * Writes the path of guest (name) ("fuzz", "simple", "dummy") to (buf): $NUB_GUEST_DIR/<name>.elf,
 * else the build's guest directory (compile definition NUB_GUEST_DIR).
 */
void kvm_fuzz_guest_path(const char *name, char *buf, size_t size);

/*
 * nub_config_default() plus: the time limit above, guest log level TRACE (every record is
 * delivered) and log / debug-print callbacks that check what the engine delivers.
 */
void kvm_fuzz_config(struct nub_config *cfg);

/* The host functions above, for nub_uninit_register (aborts on failure) or from_snapshot. */
void kvm_fuzz_register(struct nub_uninit *u);
const struct nub_host_function *kvm_fuzz_host_functions(size_t *n);

/* Aborts with (what) and the engine's message when a setup step (not an input) failed. */
void kvm_fuzz_setup_check(enum nub_status st, const struct nub_error *err, const char *what);

/* A sandbox evolved once per process and its snapshot, for the snapshot-restoring targets. */
struct kvm_fuzz_sandbox {
	struct nub_sandbox *sb;
	struct nub_snapshot *snap;
};

/*
 * On the first call only (later calls return at once): checks /dev/kvm for (target)
 * (kvm_skip_unless_available), evolves
 * the guest named (guest) with the fuzz configuration and host functions, snapshots it into (s)
 * and prints the trivial-iteration line (kvm_fuzz_report_iteration, which runs the target's
 * LLVMFuzzerTestOneInput). Lazy so that under AFL++ the VM is made in the persistent child,
 * never the fork server.
 */
void kvm_fuzz_sandbox_once(struct kvm_fuzz_sandbox *s, const char *target, const char *guest);

/*
 * Prints the trivial-iteration line for (target) to stderr, once per process (later calls return
 * at once); targets call it as soon as their set-up is done (kvm_fuzz_sandbox_once does):
 *   nub-fuzz: <target>: trivial iteration (empty input; medians of n = 200): wall W us = X RT;
 *   engine E RT (goal <= 4.4 RT; restore R RT via ..., guest work G RT); RT = T us (...)
 * DESIGN §4 asks for a trivial KVM fuzz iteration of at most 4.4 RT. RT is measured now, with a
 * raw VM (harness/common/rawkvm.h: median of 2000 KVM_RUN -> out -> back round trips after 200
 * untimed). The iteration is the target's own LLVMFuzzerTestOneInput on an empty input, 200
 * timed runs after 20 untimed ones, with the outcome sink muted; restore is the part in
 * kvm_fuzz_restore.
 * Guest work is the time inside (sb)'s guest KVM_RUNs less one RT each (nub_sandbox_get_stats):
 * guest instructions, which this host emulates; engine = wall - guest work. Each is a median of
 * its per-run values, so they need not add up exactly. (sb) is the target's long-lived sandbox,
 * or NULL for a target that builds a sandbox per input (an empty input may stop before it): its
 * line says so in place of the split. Costs about 50 ms. Every run restores the sandbox (or
 * builds none), so fuzzing still starts from the snapshot. If RT cannot be measured, the line
 * says why instead; that is not fatal.
 */
void kvm_fuzz_report_iteration(const char *target, const struct nub_sandbox *sb);

/*
 * The restore oracle's rate, once per process (later calls return at once; kvm_fuzz_sandbox_once
 * calls it after the trivial-iteration line): times nub_sandbox_verify right after a restore of
 * (sb) to (snap) (median of 50 after 5 untimed), picks the smallest N for which one check every N
 * restores costs under 10 % of the trivial iteration, and prints on stderr:
 *   nub-fuzz: <target>: restore oracle: nub_sandbox_verify V us = X RT per check (median of 50);
 *   checked after every N restores = P % of the trivial iteration's W us (goal < 10 %); after
 *   every restore when replaying
 * Without a trivial-iteration measurement it checks after every restore and says so. The
 * environment variable NUB_FUZZ_ORACLE_EVERY=N (0..1000000) sets N instead and the line says so:
 * with 1 a fuzzer saves the very input whose restore went wrong (planted-bug tests use it), where
 * a later check would blame a later input that does not reproduce alone; 0 turns the oracle off,
 * also when replaying, to show what the other oracles catch alone. Another value exits (2).
 */
void kvm_fuzz_calibrate_oracle(const char *target, struct nub_sandbox *sb,
			       struct nub_snapshot *snap);

/*
 * The state-leak oracle's check: aborts, naming the check, unless the guest in (sb), a sandbox
 * of the `fuzz` guest just restored to (snap), sees exactly (snap)'s state (leak_oracle_check);
 * then restores (sb) again, since the check's own calls dirtied it. On a difference it prints
 *   nub-fuzz: state-leak oracle: NUB_E_DIVERGED: <the first chunk that differs>
 *   nub-fuzz: state-leak oracle: host view: <what nub_sandbox_verify found just before>
 * (the host view tells a stale host copy apart from memory only the guest sees) and fails the
 * named invariant "nub_sandbox_restore guest state digest == snapshot". A check whose call ran
 * into the time limit (a loaded host) is restored and tried again, up to 3 times, before it
 * counts.
 */
void kvm_fuzz_check_no_leak(struct nub_sandbox *sb, struct nub_snapshot *snap);

/*
 * Turns on the state-leak oracle (leak_oracle.h) for (s), a sandbox of the `fuzz` guest, once
 * per process (later calls return at once; not under gdb): times one check right after a restore
 * (FUZZ_FN_DIGEST, the comparison with the snapshot and the restore the check's call needs
 * afterwards; median of 10 after 2 untimed), picks N as kvm_fuzz_calibrate_oracle does, and
 * prints on stderr:
 *   nub-fuzz: <target>: state-leak oracle: FUZZ_FN_DIGEST + restore V us = X RT per check
 *   (median of 10); checked before every N inputs = P % of the trivial iteration's W us (goal
 *   < 10 %); before every input when replaying
 * Call it after kvm_fuzz_sandbox_once. NUB_FUZZ_LEAK_EVERY=N (0..1000000) sets N instead, without
 * the timing (0: off, also when replaying), as NUB_FUZZ_ORACLE_EVERY does for the restore oracle.
 */
void kvm_fuzz_enable_leak_oracle(const char *target, struct kvm_fuzz_sandbox *s);

/*
 * Restores (sb) to (snap); aborts (an invariant) if that fails or leaves the sandbox not ready.
 * Then, every N restores (kvm_fuzz_calibrate_oracle) and after every restore when replaying (the
 * reproducer and the corpus replay tests), runs the restore oracle: a sandbox that differs from
 * (snap) (nub_sandbox_verify) prints "nub-fuzz: restore oracle: NUB_E_DIVERGED: <difference>"
 * and fails the named invariant "nub_sandbox_restore exact (nub_sandbox_verify)" (the crash
 * signature's frames field).
 * The snapshot-restoring targets call it after each input, never before: the sandbox equals its
 * snapshot when taken and every input ends with a restore (or the process aborts), so each input
 * still starts from the snapshot, and the restore's own work (copying the pages the input
 * dirtied) counts towards the input that caused it, which keeps coverage stable under AFL++.
 * One restore per input instead of two: about a third off a trivial iteration.
 * With the state-leak oracle enabled, every N restores (and after every restore when replaying)
 * it then checks that the guest sees exactly (snap) (leak_oracle_check, which leaves the sandbox
 * restored again); a difference prints "nub-fuzz: state-leak oracle: NUB_E_DIVERGED: <the first
 * range that differs>" and the host's view (nub_sandbox_verify), and fails the named invariant
 * "nub_sandbox_restore guest state digest == snapshot".
 */
void kvm_fuzz_restore(struct nub_sandbox *sb, struct nub_snapshot *snap);

/*
 * The restore oracle alone: unless (sb) equals (snap) (nub_sandbox_verify returns NUB_OK), prints
 * "nub-fuzz: restore oracle: <status>: <difference>" and fails the named invariant
 * "nub_sandbox_restore exact (nub_sandbox_verify)". For targets that restore on their own.
 */
void kvm_fuzz_check_exact(struct nub_sandbox *sb, const struct nub_snapshot *snap);

/*
 * Invariants of any result (st, err) of engine operation (op) (e.g. "nub_uninit_evolve", which
 * names the invariant): st is a known status, never NUB_E_KVM (every guest-caused outcome has its
 * own status, so NUB_E_KVM means an engine bug), and on failure err->status == st with a
 * NUL-terminated, non-empty message.
 */
void kvm_fuzz_check_result(const char *op, enum nub_status st, const struct nub_error *err);

/*
 * kvm_fuzz_check_result plus the sandbox state nub.h promises after nub_sandbox_call (after, as
 * nub_sandbox_status returned it then): ready after NUB_OK, NUB_E_GUEST_ERROR and refusals before
 * the guest ran (NUB_E_INVALID), poisoned after every other guest outcome.
 */
void kvm_fuzz_check_call(enum nub_sandbox_status after, enum nub_status st,
			 const struct nub_error *err);

/*
 * The outcome class "<stage>/<status>" (e.g. "init/NUB_E_GUEST_FAULT", "call/ok") as a string
 * that stays valid for nub_fuzz_outcome. (stage) must be a string literal; at most 8 stages.
 */
const char *kvm_fuzz_outcome(const char *stage, enum nub_status st);

/* "ok" for NUB_OK, else nub_status_str(st). */
const char *kvm_fuzz_status_class(enum nub_status st);

#endif
