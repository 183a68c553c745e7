/* SPDX-License-Identifier: Apache-2.0 */
/* A sandbox's operations under injected KVM ioctl failures; see kvm_faults.h. */
#include "kvm_faults.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "simple_fns.h"

const char *const kvm_fault_op_names[KF_COUNT] = {
	"echo", "host call", "snapshot", "dirty", "restore", "spin",
};

enum nub_status kvm_fault_run(struct nub_sandbox *sb, struct nub_snapshot **snap,
			      enum kvm_fault_op op, const struct nub_alloc_hook *alloc, bool *wrong,
			      struct nub_error *err)
{
	struct nub_buf resp = { .alloc = *alloc };
	uint8_t req[8];
	enum nub_status st = NUB_OK;

	*wrong = false;
	switch (op) {
	case KF_ECHO:
		st = nub_sandbox_call(sb, SIMPLE_ECHO, "hi", 2, &resp, err);
		*wrong = st == NUB_OK && (resp.len != 2 || memcmp(resp.data, "hi", 2) != 0);
		break;
	case KF_HOST_CALL:
		nub_put_le32(req, KVM_FAULT_HOST_ECHO);
		memcpy(req + 4, "ping", 4);
		st = nub_sandbox_call(sb, SIMPLE_HOST_CALL, req, 8, &resp, err);
		*wrong = st == NUB_OK && (resp.len != 4 || memcmp(resp.data, "ping", 4) != 0);
		break;
	case KF_SNAPSHOT: {
		struct nub_snapshot *s = NULL;
		st = nub_sandbox_snapshot(sb, &s, err);
		if (st == NUB_OK) {
			nub_snapshot_unref(*snap);
			*snap = s;
		}
		break;
	}
	case KF_DIRTY:
		nub_put_le32(req, 4);
		nub_put_le32(req + 4, 0xabcd);
		st = nub_sandbox_call(sb, SIMPLE_DIRTY_HEAP_PAGES, req, 8, &resp, err);
		*wrong = st == NUB_OK && resp.len != 0;
		break;
	case KF_RESTORE:
		st = *snap ? nub_sandbox_restore(sb, *snap, err) : NUB_OK;
		break;
	case KF_SPIN:
		st = nub_sandbox_call(sb, SIMPLE_SPIN, NULL, 0, &resp, err);
		break;
	case KF_COUNT:
		break;
	}
	nub_buf_free(&resp);
	return st;
}

const char *kvm_fault_rule(enum kvm_fault_op op, enum nub_status st, const struct nub_error *err,
			   unsigned long failed_request, int errnum, enum nub_sandbox_status before,
			   enum nub_sandbox_status after)
{
	static _Thread_local char why[NUB_ERROR_MESSAGE_MAX + 128];
	const char *name = op < KF_COUNT ? kvm_fault_op_names[op] : "?";
	bool call = op == KF_ECHO || op == KF_HOST_CALL || op == KF_DIRTY || op == KF_SPIN;
	bool retried = failed_request == KVM_RUN && (errnum == EINTR || errnum == EAGAIN);
	enum nub_status ok = op == KF_SPIN ? NUB_E_TIME_LIMIT : NUB_OK;

#define BROKEN(...) (snprintf(why, sizeof why, __VA_ARGS__), why)
	if (before == NUB_SANDBOX_POISONED && op != KF_RESTORE)
		return st == NUB_E_POISONED ? NULL
					    : BROKEN("%s on a poisoned sandbox gave %s", name,
						     nub_status_str(st));
	/* Any step may run into the time limit on a loaded host (the fuzzers' limit is 20 ms). */
	if (st == NUB_E_TIME_LIMIT)
		return after == NUB_SANDBOX_POISONED
			       ? NULL
			       : BROKEN("%s: a time limit left status %d, not poisoned", name,
					after);
	if (st != ok) {
		if (st != NUB_E_KVM || !failed_request || retried)
			return BROKEN("%s gave %s (%s)", name, nub_status_str(st), err->message);
		if (!strstr(err->message, nub_ioctl_name(failed_request)))
			return BROKEN("%s: '%s' does not name %s", name, err->message,
				      nub_ioctl_name(failed_request));
		if (err->sys_errno != errnum)
			return BROKEN("%s: errno %d, not the injected %d", name, err->sys_errno,
				      errnum);
		if (call && after != NUB_SANDBOX_POISONED)
			return BROKEN("a failed %s left status %d, not poisoned", name, after);
		if (op == KF_SNAPSHOT && after != before)
			return BROKEN("a failed snapshot changed the status %d -> %d", before,
				      after);
		if (op == KF_RESTORE && after != NUB_SANDBOX_UNRECOVERABLE && after != before)
			return BROKEN("a failed restore left status %d", after);
		return NULL;
	}
	if (op == KF_RESTORE && after != NUB_SANDBOX_READY && after != before)
		return BROKEN("a successful restore left status %d", after);
	if (call && op != KF_SPIN && before == NUB_SANDBOX_READY && after != NUB_SANDBOX_READY)
		return BROKEN("a successful %s left status %d", name, after);
#undef BROKEN
	return NULL;
}

const char *kvm_fault_evolve_rule(enum nub_status st, const struct nub_error *err,
				  unsigned long failed_request, bool sandbox_left)
{
	static _Thread_local char why[NUB_ERROR_MESSAGE_MAX + 128];
	if (sandbox_left)
		return "a failed evolve left a sandbox";
	if (st == NUB_E_TIME_LIMIT)
		return NULL;
	if (st != NUB_E_KVM || !failed_request) {
		snprintf(why, sizeof why, "evolve gave %s (%s)", nub_status_str(st), err->message);
		return why;
	}
	if (!strstr(err->message, nub_ioctl_name(failed_request))) {
		snprintf(why, sizeof why, "evolve: '%s' does not name %s", err->message,
			 nub_ioctl_name(failed_request));
		return why;
	}
	return NULL;
}
