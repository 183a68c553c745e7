/* SPDX-License-Identifier: Apache-2.0 */
/* KVM tests: every ioctl of a sandbox's life fails in turn, with each errno; outcomes, states, leaks. */
#include <dirent.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "alloc_inject.h"
#include "host_fns.h"
#include "ioctl_inject.h"
#include "kvm_faults.h"
#include "testlib.h"

/* One life after evolve: calls (one with a host call), snapshot, dirtying, restore, a call. */
static const enum kvm_fault_op life_ops[] = { KF_ECHO,  KF_HOST_CALL, KF_SNAPSHOT,
					      KF_DIRTY, KF_RESTORE,   KF_ECHO };
#define NOPS (sizeof life_ops / sizeof life_ops[0])

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/*
 * Lives one life with (in) as the ioctl hook and (a) counting allocations, checking every step
 * against kvm_fault_rule; (what) names the injection in failures.
 */
static void live(struct ioctl_inject *in, struct alloc_inject *a, const char *what)
{
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.ioctl = ioctl_inject_hook(in);
	cfg.alloc = alloc_inject_hook(a);
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_snapshot *snap = NULL;
	struct nub_error err;

	assert_int_equal(nub_uninit_new(&env, &cfg, &u, NULL), NUB_OK);
	assert_int_equal(nub_uninit_register(u, KVM_FAULT_HOST_ECHO, host_fn_echo, NULL, NULL),
			 NUB_OK);
	enum nub_status st = nub_uninit_evolve(u, &sb, &err);
	if (st != NUB_OK) {
		const char *broken = kvm_fault_evolve_rule(st, &err,
							   in->failures ? in->failed_request : 0,
							   sb != NULL);
		if (broken)
			fail_msg("%s: %s", what, broken);
		return;
	}
	for (size_t i = 0; i < NOPS; i++) {
		enum nub_sandbox_status before = nub_sandbox_status(sb);
		long failures = in->failures;
		bool wrong;
		st = kvm_fault_run(sb, &snap, life_ops[i], &cfg.alloc, &wrong, &err);
		if (wrong)
			fail_msg("%s: %s succeeded with a wrong response", what,
				 kvm_fault_op_names[life_ops[i]]);
		const char *broken = kvm_fault_rule(life_ops[i], st, &err,
						    in->failures > failures ? in->failed_request
									    : 0,
						    in->errnum, before, nub_sandbox_status(sb));
		if (broken)
			fail_msg("%s: %s", what, broken);
		if (nub_sandbox_status(sb) == NUB_SANDBOX_UNRECOVERABLE)
			break;
	}
	nub_sandbox_free(sb);
	nub_snapshot_unref(snap);
}

/* One errno at every ioctl of the life, in turn; (repeat) more failures of the same request. */
static void walk(int errnum, int repeat)
{
	struct alloc_inject a = { 0 };
	struct ioctl_inject count = { 0 };
	live(&count, &a, "no injection");
	assert_true(count.calls > 20);
	int fds = open_fds();
	for (long at = 1; at <= count.calls; at++) {
		struct ioctl_inject in = { .fail_at = at, .errnum = errnum, .repeat = repeat };
		char what[96];
		snprintf(what, sizeof what, "ioctl %ld of %ld failing with %s x%d", at, count.calls,
			 strerror(errnum), repeat + 1);
		a = (struct alloc_inject){ 0 };
		live(&in, &a, what);
		if (a.live != 0)
			fail_msg("%s (%s): %ld allocations leaked", what,
				 nub_ioctl_name(in.failed_request), a.live);
		if (open_fds() != fds)
			fail_msg("%s (%s): file descriptors %d -> %d", what,
				 nub_ioctl_name(in.failed_request), fds, open_fds());
	}
}

static void test_every_ioctl_fails_with_eio(void **state)
{
	(void)state;
	walk(EIO, 0);
}

static void test_every_ioctl_fails_with_enomem(void **state)
{
	(void)state;
	walk(ENOMEM, 0);
}

static void test_every_ioctl_fails_with_efault(void **state)
{
	(void)state;
	walk(EFAULT, 0);
}

/* EAGAIN: a KVM_RUN is retried (the run loop's rule); any other ioctl fails. */
static void test_every_ioctl_fails_with_eagain(void **state)
{
	(void)state;
	walk(EAGAIN, 0);
}

/* EINTR three times in a row: every ioctl is retried and the life succeeds as if nothing happened. */
static void test_every_ioctl_interrupted(void **state)
{
	(void)state;
	walk(EINTR, 2);
}

/* A hook that always answers EINTR cannot hang the engine: the retry is bounded. */
static void test_endless_eintr_is_bounded(void **state)
{
	(void)state;
	struct nub_config cfg;
	struct ioctl_inject in = { .fail_at = 1, .errnum = EINTR, .repeat = 1000000 };
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_error err;
	nub_config_default(&cfg);
	cfg.ioctl = ioctl_inject_hook(&in);
	assert_int_equal(nub_uninit_new(&env, &cfg, &u, NULL), NUB_OK);
	assert_int_equal(nub_uninit_evolve(u, &sb, &err), NUB_E_KVM);
	nub_assert_error(&err, NUB_E_KVM, "KVM_GET_API_VERSION: Interrupted system call");
	assert_null(sb);
	assert_int_equal(in.failures, 100);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(nub_ioctl_name(KVM_RUN), "KVM_RUN");
	assert_string_equal(nub_ioctl_name(KVM_GET_DIRTY_LOG), "KVM_GET_DIRTY_LOG");
	assert_string_equal(nub_ioctl_name(0), "unknown ioctl");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_every_ioctl_fails_with_eio),
	cmocka_unit_test(test_every_ioctl_fails_with_enomem),
	cmocka_unit_test(test_every_ioctl_fails_with_efault),
	cmocka_unit_test(test_every_ioctl_fails_with_eagain),
	cmocka_unit_test(test_every_ioctl_interrupted),
	cmocka_unit_test(test_endless_eintr_is_bounded),
	cmocka_unit_test(test_names),
};

NUB_TEST_SUITE(tests);
