/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_kvm_fault: failed KVM ioctls, anywhere in a sandbox's life. Input: u16 fail_at (the
 * fail_at-th ioctl of the life fails; 0: none), u8 errno (index into EINTR, EAGAIN, ENOMEM,
 * EFAULT, EIO), u8 repeat (0..3 more failures of the same request), then one byte per step,
 * each an operation of kvm_faults.h (echo, host call, snapshot, dirty, restore, spin), at most
 * 32. The target evolves a fresh `simple` sandbox with the injecting ioctl hook, runs the steps
 * and frees everything.
 *
 * Reset: every input builds a fresh sandbox from nothing and frees it.
 *
 * Invariants: each step keeps nub.h's promises for a failed ioctl (kvm_fault_rule: NUB_E_KVM
 * naming the ioctl and errno, or a retry; poisoned after a failed call, unchanged after a failed
 * snapshot, unrecoverable or unchanged after a failed restore); a successful call returns the
 * right bytes; a successful restore leaves the sandbox equal to the snapshot (nub_sandbox_verify);
 * every allocation and every file descriptor is released once the sandbox is freed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "host_fns.h"
#include "ioctl_inject.h"
#include "kvm_faults.h"
#include "kvm_skip.h"
#include "kvm_target.h"
#include "nub_fuzz.h"

#define MAX_FAULT_INPUT 64u
#define MAX_STEPS 32u

static const int errnos[] = { EINTR, EAGAIN, ENOMEM, EFAULT, EIO };
#define NERRNOS (sizeof errnos / sizeof errnos[0])

static bool ready;

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kvm_skip_unless_available("fuzz_kvm_fault");
	kvm_fuzz_warm_up();
	kvm_fuzz_outcome("evolve", NUB_OK);
	kvm_fuzz_outcome("life", NUB_OK);
	ready = true;
	kvm_fuzz_report_iteration("fuzz_kvm_fault", NULL); /* after (ready): it runs TestOneInput */
	return 0;
}

/* The engine operation each step runs, which names its invariants. */
static const char *const engine_op[KF_COUNT] = {
	[KF_ECHO] = "nub_sandbox_call",         [KF_HOST_CALL] = "nub_sandbox_call",
	[KF_SNAPSHOT] = "nub_sandbox_snapshot", [KF_DIRTY] = "nub_sandbox_call",
	[KF_RESTORE] = "nub_sandbox_restore",   [KF_SPIN] = "nub_sandbox_call",
};

/* Aborts with the broken promise of (op), so the crash signature names the operation and rule. */
static void check_rule(const char *op, const char *broken)
{
	if (broken) {
		fprintf(stderr, "nub-fuzz: invariant kvm_fault_rule: %s\n", broken);
		nub_fuzz_fail_op(op, "kvm_fault_rule", __FILE__, __LINE__, "kvm_fault_rule");
	}
}

/*
 * nub.h: a restore that succeeded leaves the sandbox equal to the snapshot, failed ioctls on the
 * way or not. Checked by the restore oracle with the injection paused (its ioctls are neither
 * failed nor counted), so the input's fail_at keeps meaning the same ioctl of the life.
 */
static void check_exact(struct nub_sandbox *sb, const struct nub_snapshot *snap,
			struct ioctl_inject *inj)
{
	struct ioctl_inject saved = *inj;
	inj->fail_at = 0;
	inj->repeat = -1;
	kvm_fuzz_check_exact(sb, snap);
	*inj = saved;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	struct nub_config cfg;
	struct nub_error err;
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_snapshot *snap = NULL;
	char guest[4096];

	if (nub_fuzz_oversize(size, MAX_FAULT_INPUT))
		return 0;
	if (!ready)
		LLVMFuzzerInitialize(NULL, NULL);
	int fds = open_fds(); /* the driver's own files stay open across the input */
	fuzz_input_init(&in, data, size);
	struct ioctl_inject inj = { .fail_at = fuzz_read_u16(&in) };
	inj.errnum = errnos[fuzz_read_u8(&in) % NERRNOS];
	inj.repeat = fuzz_read_u8(&in) % 4;

	nub_fuzz_alloc_reset(0);
	kvm_fuzz_config(&cfg);
	cfg.alloc = nub_fuzz_alloc_hook();
	cfg.ioctl = ioctl_inject_hook(&inj);
	kvm_fuzz_guest_path("simple", guest, sizeof guest);
	struct nub_guest_env env = { .path = guest };
	kvm_fuzz_setup_check(nub_uninit_new(&env, &cfg, &u, &err), &err, "nub_uninit_new");
	kvm_fuzz_setup_check(nub_uninit_register(u, KVM_FAULT_HOST_ECHO, host_fn_echo, NULL, &err),
			     &err, "nub_uninit_register");
	enum nub_status st = nub_uninit_evolve(u, &sb, &err);
	if (st != NUB_OK) {
		nub_fuzz_outcome(kvm_fuzz_outcome("evolve", st));
		check_rule("nub_uninit_evolve",
			   kvm_fault_evolve_rule(st, &err, inj.failures ? inj.failed_request : 0,
						 sb != NULL));
	} else {
		enum nub_status last = NUB_OK;
		for (unsigned i = 0; i < MAX_STEPS && fuzz_remaining(&in); i++) {
			enum kvm_fault_op op = (enum kvm_fault_op)(fuzz_read_u8(&in) % KF_COUNT);
			enum nub_sandbox_status before = nub_sandbox_status(sb);
			long failures = inj.failures;
			bool wrong;
			st = kvm_fault_run(sb, &snap, op, &cfg.alloc, &wrong, &err);
			NUB_FUZZ_CHECK_OP(engine_op[op], !wrong);
			check_rule(engine_op[op],
				   kvm_fault_rule(op, st, &err,
						  inj.failures > failures ? inj.failed_request : 0,
						  inj.errnum, before, nub_sandbox_status(sb)));
			if (op == KF_RESTORE && st == NUB_OK && snap)
				check_exact(sb, snap, &inj);
			if (st != NUB_OK)
				last = st;
			if (nub_sandbox_status(sb) == NUB_SANDBOX_UNRECOVERABLE)
				break;
		}
		nub_fuzz_outcome(kvm_fuzz_outcome("life", last));
		nub_sandbox_free(sb);
		nub_snapshot_unref(snap);
	}
	NUB_FUZZ_CHECK_OP("nub_sandbox_free", nub_fuzz_alloc_live() == 0);
	NUB_FUZZ_CHECK_OP("nub_sandbox_free", fds < 0 || open_fds() == fds);
	return 0;
}

void nub_fuzz_describe(const uint8_t *data, size_t len, FILE *out)
{
	struct fuzz_input in;
	fuzz_input_init(&in, data, len);
	unsigned fail_at = fuzz_read_u16(&in);
	int e = errnos[fuzz_read_u8(&in) % NERRNOS];
	unsigned repeat = fuzz_read_u8(&in) % 4;
	if (fail_at)
		fprintf(out, "  ioctl %u of the life fails with %s, %u time(s)\n", fail_at,
			strerror(e), repeat + 1);
	else
		fprintf(out, "  no ioctl fails\n");
	fprintf(out, "  steps: evolve");
	for (unsigned i = 0; i < MAX_STEPS && fuzz_remaining(&in); i++)
		fprintf(out, ", %s", kvm_fault_op_names[fuzz_read_u8(&in) % KF_COUNT]);
	fprintf(out, "\n");
}
