/* SPDX-License-Identifier: Apache-2.0 */
/* KVM tests: every ioctl of a sandbox's life fails in turn, with each errno; outcomes, states, leaks. */
#include <dirent.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "alloc_inject.h"
#include "bytes.h"
#include "host_fns.h"
#include "ioctl_inject.h"
#include "simple_fns.h"
#include "testlib.h"

/* The steps of one life: evolve, calls (one with a host call), snapshot, dirtying, restore. */
enum step { EVOLVE, ECHO, HOST_CALL, SNAPSHOT, DIRTY, RESTORE, ECHO_AGAIN, NSTEPS };
static const char *const step_names[NSTEPS] = {
	"evolve", "echo", "host call", "snapshot", "dirty", "restore", "echo again",
};

struct life {
	enum nub_status st[NSTEPS];
	struct nub_error err[NSTEPS];
	enum nub_sandbox_status after[NSTEPS]; /* the sandbox's status after each step */
	bool ran[NSTEPS];
};

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

/* What a call's response must be when the call succeeds. */
static bool response_ok(enum step s, const struct nub_buf *r)
{
	switch (s) {
	case ECHO:
	case ECHO_AGAIN:
		return r->len == 2 && memcmp(r->data, "hi", 2) == 0;
	case HOST_CALL:
		return r->len == 4 && memcmp(r->data, "ping", 4) == 0;
	default:
		return true;
	}
}

/* Lives one life with (in) as the ioctl hook and (a) counting allocations. */
static void live(struct ioctl_inject *in, struct alloc_inject *a, struct life *l)
{
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.ioctl = ioctl_inject_hook(in);
	cfg.alloc = alloc_inject_hook(a);
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_snapshot *snap = NULL;
	struct nub_buf resp = { .alloc = cfg.alloc };
	uint8_t host_req[8], dirty[8];
	nub_put_le32(host_req, 1);
	memcpy(host_req + 4, "ping", 4);
	nub_put_le32(dirty, 4);
	nub_put_le32(dirty + 4, 0xabcd);

	memset(l, 0, sizeof *l);
	assert_int_equal(nub_uninit_new(&env, &cfg, &u, NULL), NUB_OK);
	assert_int_equal(nub_uninit_register(u, 1, host_fn_echo, NULL, NULL), NUB_OK);
	for (enum step s = EVOLVE; s < NSTEPS; s++) {
		struct nub_error *e = &l->err[s];
		if (s != EVOLVE && (!sb || nub_sandbox_status(sb) == NUB_SANDBOX_UNRECOVERABLE))
			break;
		/* Poisoned with no snapshot to come back from: nothing more to learn. */
		if (s >= RESTORE && !snap && nub_sandbox_status(sb) != NUB_SANDBOX_READY)
			break;
		l->ran[s] = true;
		switch (s) {
		case EVOLVE:
			l->st[s] = nub_uninit_evolve(u, &sb, e);
			break;
		case ECHO:
		case ECHO_AGAIN:
			l->st[s] = nub_sandbox_call(sb, SIMPLE_ECHO, "hi", 2, &resp, e);
			break;
		case HOST_CALL:
			l->st[s] = nub_sandbox_call(sb, SIMPLE_HOST_CALL, host_req, 8, &resp, e);
			break;
		case SNAPSHOT:
			l->st[s] = nub_sandbox_snapshot(sb, &snap, e);
			break;
		case DIRTY:
			l->st[s] = nub_sandbox_call(sb, SIMPLE_DIRTY_HEAP_PAGES, dirty, 8, &resp,
						    e);
			break;
		case RESTORE:
			/* A poisoned sandbox comes back too; without a snapshot there is nothing to do. */
			l->st[s] = snap ? nub_sandbox_restore(sb, snap, e) : NUB_OK;
			break;
		case NSTEPS:
			break;
		}
		if (l->st[s] == NUB_OK && !response_ok(s, &resp))
			fail_msg("%s succeeded with a wrong response of %zu bytes", step_names[s],
				 resp.len);
		nub_buf_free(&resp);
		l->after[s] = sb ? nub_sandbox_status(sb) : NUB_SANDBOX_UNRECOVERABLE;
	}
	nub_sandbox_free(sb);
	nub_snapshot_unref(snap);
}

/*
 * The promises of nub.h for an ioctl that fails: the operation reports NUB_E_KVM naming the
 * ioctl (or, for a KVM_RUN interrupted with EINTR or EAGAIN, retries and succeeds); a failed
 * evolve leaves no sandbox; a failed call poisons; a failed restore leaves the sandbox
 * unrecoverable or, if it failed before touching it, as it was; a failed snapshot changes
 * nothing; a restore afterwards makes a poisoned sandbox ready; everything is freed.
 */
static void check_life(const struct ioctl_inject *in, const struct life *l, const char *what)
{
	const char *name = nub_ioctl_name(in->failed_request);
	bool retried = in->failed_request == KVM_RUN &&
		       (in->errnum == EINTR || in->errnum == EAGAIN);
	enum nub_sandbox_status before = NUB_SANDBOX_READY;
	for (enum step s = EVOLVE; s < NSTEPS && l->ran[s]; s++) {
		enum nub_status st = l->st[s];
		if (before == NUB_SANDBOX_POISONED && s != RESTORE) {
			if (st != NUB_E_POISONED)
				fail_msg("%s: %s on a poisoned sandbox gave %s", what,
					 step_names[s], nub_status_str(st));
			continue;
		}
		if (st != NUB_OK) {
			if (st != NUB_E_KVM || retried)
				fail_msg("%s: %s gave %s (%s)", what, step_names[s],
					 nub_status_str(st), l->err[s].message);
			if (!strstr(l->err[s].message, name) && !strstr(l->err[s].message, "KVM"))
				fail_msg("%s: %s: the message '%s' names no ioctl", what,
					 step_names[s], l->err[s].message);
			if (l->err[s].sys_errno != in->errnum && in->errnum != EINTR)
				fail_msg("%s: %s: errno %d, injected %d", what, step_names[s],
					 l->err[s].sys_errno, in->errnum);
		}
		enum nub_sandbox_status after = l->after[s];
		bool call = s == ECHO || s == HOST_CALL || s == DIRTY || s == ECHO_AGAIN;
		if (st == NUB_OK && s == RESTORE && after != NUB_SANDBOX_READY)
			fail_msg("%s: a successful restore left status %d", what, after);
		if (st != NUB_OK && call && after != NUB_SANDBOX_POISONED)
			fail_msg("%s: a failed %s left status %d, not poisoned", what,
				 step_names[s], after);
		if (st != NUB_OK && s == SNAPSHOT && after != before)
			fail_msg("%s: a failed snapshot changed the status %d -> %d", what, before,
				 after);
		if (st != NUB_OK && s == RESTORE && after != NUB_SANDBOX_UNRECOVERABLE &&
		    after != before)
			fail_msg("%s: a failed restore left status %d", what, after);
		if (st == NUB_OK && call && before == NUB_SANDBOX_READY &&
		    after != NUB_SANDBOX_READY)
			fail_msg("%s: a successful %s left status %d", what, step_names[s], after);
		before = after;
	}
}

/* One errno at every ioctl of the life, in turn. */
static void walk(int errnum, int repeat)
{
	struct alloc_inject a = { 0 };
	struct ioctl_inject count = { 0 };
	struct life l;
	live(&count, &a, &l);
	for (enum step s = EVOLVE; s < NSTEPS; s++)
		if (l.st[s] != NUB_OK)
			fail_msg("no injection: %s failed: %s", step_names[s], l.err[s].message);
	assert_true(count.calls > 20);
	int fds = open_fds();
	for (long at = 1; at <= count.calls; at++) {
		struct ioctl_inject in = { .fail_at = at, .errnum = errnum, .repeat = repeat };
		a = (struct alloc_inject){ 0 };
		live(&in, &a, &l);
		char what[96];
		snprintf(what, sizeof what, "ioctl %ld of %ld (%s) failing with %s x%d", at,
			 count.calls, nub_ioctl_name(in.failed_request), strerror(errnum),
			 repeat + 1);
		if (in.failures == 0)
			continue; /* this life made fewer ioctls (a failure earlier in an earlier run) */
		check_life(&in, &l, what);
		if (a.live != 0)
			fail_msg("%s: %ld allocations leaked", what, a.live);
		if (open_fds() != fds)
			fail_msg("%s: file descriptors %d -> %d", what, fds, open_fds());
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
	struct alloc_inject a = { 0 };
	struct ioctl_inject in = { .fail_at = 1, .errnum = EINTR, .repeat = 1000000 };
	struct life l;
	live(&in, &a, &l);
	assert_int_equal(l.st[EVOLVE], NUB_E_KVM);
	nub_assert_error(&l.err[EVOLVE], NUB_E_KVM, "KVM_GET_API_VERSION");
	assert_int_equal(a.live, 0);
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
