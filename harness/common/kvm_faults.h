/* SPDX-License-Identifier: Apache-2.0 */
/* A sandbox's operations under injected KVM ioctl failures, and the promises nub.h makes for them. */
#ifndef NUB_HARNESS_KVM_FAULTS_H
#define NUB_HARNESS_KVM_FAULTS_H

#include <stdbool.h>

#include "nub/nub.h"

/* The host function kvm_fault_run's host call reaches (registered by the caller). */
#define KVM_FAULT_HOST_ECHO 1u

/* What one step does to a sandbox of the `simple` guest. */
enum kvm_fault_op {
	KF_ECHO,      /* SIMPLE_ECHO "hi" */
	KF_HOST_CALL, /* SIMPLE_HOST_CALL to KVM_FAULT_HOST_ECHO with "ping" */
	KF_SNAPSHOT,  /* nub_sandbox_snapshot, replacing the last one */
	KF_DIRTY,     /* SIMPLE_DIRTY_HEAP_PAGES over 4 pages */
	KF_RESTORE,   /* nub_sandbox_restore of the last snapshot (none yet: nothing) */
	KF_SPIN,      /* SIMPLE_SPIN: ends by the configured time limit */
	KF_COUNT
};
extern const char *const kvm_fault_op_names[KF_COUNT];

/*
 * Runs (op) on (sb), with (*snap) the last snapshot (replaced by KF_SNAPSHOT; the caller unrefs
 * it). Responses go through (alloc). Returns the status, with (err) filled; *(wrong) is set when a
 * call succeeded with a response other than the one the guest must give.
 */
enum nub_status kvm_fault_run(struct nub_sandbox *sb, struct nub_snapshot **snap,
			      enum kvm_fault_op op, const struct nub_alloc_hook *alloc, bool *wrong,
			      struct nub_error *err);

/*
 * NULL if (op) returning (st, err) and taking the sandbox from (before) to (after) keeps nub.h's
 * promises when the ioctl (failed_request) failed with (errnum) during it (failed_request 0: no
 * ioctl failed), else what was broken, in a static buffer. The promises: a failure is NUB_E_KVM
 * naming the ioctl and errno (a KVM_RUN interrupted with EINTR or EAGAIN is retried instead and
 * succeeds); a failed call poisons; a failed snapshot changes nothing; a failed restore leaves the
 * sandbox unrecoverable or as it was; on a poisoned sandbox everything but restore is
 * NUB_E_POISONED; a successful restore makes it ready; KF_SPIN ends in NUB_E_TIME_LIMIT, and so
 * may any step on a loaded host, always poisoning.
 */
const char *kvm_fault_rule(enum kvm_fault_op op, enum nub_status st, const struct nub_error *err,
			   unsigned long failed_request, int errnum, enum nub_sandbox_status before,
			   enum nub_sandbox_status after);

/*
 * NULL if a failed evolve (st, err, a sandbox left behind or not) keeps the same promises: no
 * sandbox, and NUB_E_KVM naming the injected ioctl (failed_request, 0 if none failed), or
 * NUB_E_MMIO for EFAULT from KVM_RUN, or NUB_E_TIME_LIMIT from the guest's init.
 */
const char *kvm_fault_evolve_rule(enum nub_status st, const struct nub_error *err,
				  unsigned long failed_request, bool sandbox_left);

#endif
