/* SPDX-License-Identifier: Apache-2.0 */
/* KVM tests of the restore oracle (nub_sandbox_verify): exact states pass, broken restores are named. */
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "host_fns.h"
#include "kvm.h"
#include "sandbox.h"
#include "simple_fns.h"
#include "snapshot.h"
#include "testlib.h"

struct fixture {
	struct nub_config cfg;
	struct nub_sandbox *sb;
	struct nub_snapshot *snap;
	struct nub_counter *counter;
	struct nub_buf resp;
	struct nub_error err;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
	struct nub_uninit *u = NULL;
	nub_config_default(&f->cfg);
	f->cfg.time_limit_ms = 300;
	assert_int_equal(nub_uninit_new(&env, &f->cfg, &u, &f->err), NUB_OK);
	assert_int_equal(nub_uninit_guest_counter(u, &f->counter, &f->err), NUB_OK);
	if (nub_uninit_evolve(u, &f->sb, &f->err) != NUB_OK)
		fail_msg("evolve: %s", f->err.message);
	assert_int_equal(nub_sandbox_snapshot(f->sb, &f->snap, &f->err), NUB_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	nub_sandbox_free(f->sb);
	nub_snapshot_unref(f->snap);
	nub_buf_free(&f->resp);
	free(f);
	return 0;
}

static enum nub_status call(struct fixture *f, uint32_t fn, const void *p, size_t len)
{
	nub_buf_free(&f->resp);
	return nub_sandbox_call(f->sb, fn, p, len, &f->resp, &f->err);
}

static void restore(struct fixture *f)
{
	if (nub_sandbox_restore(f->sb, f->snap, &f->err) != NUB_OK)
		fail_msg("restore: %s", f->err.message);
}

static void assert_verifies(struct fixture *f, const char *what)
{
	if (nub_sandbox_verify(f->sb, f->snap, &f->err) != NUB_OK)
		fail_msg("verify %s: %s", what, f->err.message);
}

/* Verify fails with NUB_E_DIVERGED and exactly (want) as its message. */
static void assert_diverged(struct fixture *f, const char *want)
{
	assert_int_equal(nub_sandbox_verify(f->sb, f->snap, &f->err), NUB_E_DIVERGED);
	assert_int_equal(f->err.status, NUB_E_DIVERGED);
	assert_string_equal(f->err.message, want);
}

/* The snapshot's byte at (gpa), read from its image. */
static uint8_t snap_byte(const struct nub_snapshot *s, uint64_t gpa)
{
	const struct nub_layout *l = &s->layout;
	if (gpa >= l->scratch_gpa)
		return s->mem[l->primary_size + (gpa - l->scratch_gpa)];
	return s->mem[gpa - NUB_PRIMARY_BASE];
}

static void test_exact_states_verify(void **state)
{
	struct fixture *f = *state;
	struct nub_sandbox_stats a, b;
	assert_verifies(f, "right after the snapshot");
	assert_int_equal(call(f, SIMPLE_STATIC_COUNTER, NULL, 0), NUB_OK);
	restore(f);
	/* After a restore verify only reads: no KVM_RUN, and the next call sees the snapshot. */
	nub_sandbox_get_stats(f->sb, &a);
	assert_verifies(f, "after a call and a restore");
	assert_verifies(f, "twice");
	nub_sandbox_get_stats(f->sb, &b);
	assert_memory_equal(&a, &b, sizeof a);
	assert_int_equal(call(f, SIMPLE_STATIC_COUNTER, NULL, 0), NUB_OK);
	assert_int_equal(f->resp.len, 4);
	assert_int_equal(f->resp.data[0], 1);
	/* The counter slot holds the host's value, which restore writes instead of the snapshot's. */
	restore(f);
	assert_int_equal(nub_counter_increment(f->counter, &f->err), NUB_OK);
	assert_verifies(f, "after a counter increment");
	/* A poisoned sandbox restored is exact too; a sandbox made from the snapshot is as well. */
	assert_int_equal(call(f, SIMPLE_NULL_DEREF, NULL, 0), NUB_E_GUEST_FAULT);
	restore(f);
	assert_verifies(f, "after a fault and a restore");
	struct nub_sandbox *other = NULL;
	assert_int_equal(nub_sandbox_from_snapshot(f->snap, NULL, 0, NULL, &other, &f->err),
			 NUB_OK);
	if (nub_sandbox_verify(other, f->snap, &f->err) != NUB_OK)
		fail_msg("verify a sandbox made from the snapshot: %s", f->err.message);
	nub_sandbox_free(other);
}

/* A call that changed memory: verify without a restore names the first page that differs. */
static void test_unrestored_call_diverges(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(call(f, SIMPLE_STATIC_COUNTER, NULL, 0), NUB_OK);
	assert_int_equal(nub_sandbox_verify(f->sb, f->snap, &f->err), NUB_E_DIVERGED);
	nub_assert_error(&f->err, NUB_E_DIVERGED, "differs from the snapshot");
	restore(f);
	assert_verifies(f, "after the restore");
}

/* A write behind the dirty log's back (through the host mapping) after restore, in each region. */
static void test_write_behind_dirty_log_is_named(void **state)
{
	struct fixture *f = *state;
	const struct nub_layout *l = &f->sb->img.layout;
	const struct {
		const char *region;
		uint64_t gpa;
	} pokes[] = {
		{ "primary", l->heap_gpa + 0x123 },
		{ "scratch", l->stack_gpa + 0x800 },
		{ "primary", NUB_PRIMARY_BASE + l->primary_size - 1 },
		{ "scratch", l->meta_gpa },
	};
	for (size_t i = 0; i < sizeof pokes / sizeof pokes[0]; i++) {
		uint64_t gpa = pokes[i].gpa, page = gpa & ~(uint64_t)(NUB_PAGE_SIZE - 1);
		uint8_t was = snap_byte(f->snap, gpa), now = (uint8_t)(was ^ 0xa5);
		restore(f);
		volatile uint8_t *p = nub_mem_ptr(&f->sb->img.mem, gpa, 1);
		assert_non_null(p);
		*p = now;
		char want[256];
		snprintf(want, sizeof want,
			 "guest page 0x%llx (%s region) differs from the snapshot: byte 0x%llx is "
			 "0x%02x in the sandbox, 0x%02x in the snapshot",
			 (unsigned long long)page, pokes[i].region, (unsigned long long)gpa, now,
			 was);
		assert_diverged(f, want);
		*p = was;
		assert_verifies(f, "once the byte is back");
	}
}

/*
 * A restore that loses part of the dirty log: the guest dirties heap pages, the log is harvested
 * and dropped behind restore's back, so restore copies nothing back. Verify names the first page.
 */
static void test_lost_dirty_log_is_caught(void **state)
{
	struct fixture *f = *state;
	const struct nub_layout *l = &f->sb->img.layout;
	const uint32_t args[2] = { 3, 0x77 }; /* u32 0x77 at offset 2048 of heap pages 0..2 */
	assert_int_equal(call(f, SIMPLE_DIRTY_HEAP_PAGES, args, sizeof args), NUB_OK);
	uint64_t lost[64] = { 0 };
	assert_true(f->sb->slot_pages[0] <= 64 * 64);
	assert_int_equal(nub_kvm_collect_dirty(&f->sb->kvm, SLOT_PRIMARY, f->sb->slot_pages[0],
					       f->sb->dirty_tmp, lost, &f->err),
			 NUB_OK);
	restore(f);
	uint64_t gpa = l->heap_gpa + 2048;
	char want[256];
	snprintf(want, sizeof want,
		 "guest page 0x%llx (primary region) differs from the snapshot: byte 0x%llx is "
		 "0x77 in the sandbox, 0x%02x in the snapshot",
		 (unsigned long long)l->heap_gpa, (unsigned long long)gpa, snap_byte(f->snap, gpa));
	/* Lower pages the call dirtied (its static data, say) may come first: find the heap's. */
	assert_int_equal(nub_sandbox_verify(f->sb, f->snap, &f->err), NUB_E_DIVERGED);
	nub_assert_error(&f->err, NUB_E_DIVERGED, "(primary region) differs from the snapshot");
	for (uint64_t page = NUB_PRIMARY_BASE; page < l->heap_gpa; page += NUB_PAGE_SIZE) {
		volatile uint8_t *p = nub_mem_ptr(&f->sb->img.mem, page, NUB_PAGE_SIZE);
		const uint8_t *s = f->snap->mem + (page - NUB_PRIMARY_BASE);
		for (size_t i = 0; i < NUB_PAGE_SIZE; i++)
			p[i] = s[i];
	}
	assert_diverged(f, want);
}

/* One register changed after restore, in the sync area or in the vCPU: named with both values. */
static void test_register_difference_is_named(void **state)
{
	struct fixture *f = *state;
	char want[256];
	int fd = f->sb->kvm.vcpu_fd;

	restore(f);
	struct kvm_regs *r = &f->sb->kvm.run->s.regs.regs;
	uint64_t rax = r->rax;
	r->rax = rax ^ 0x1000;
	snprintf(want, sizeof want,
		 "vCPU register rax is 0x%llx in the sandbox, 0x%llx in the snapshot",
		 (unsigned long long)(rax ^ 0x1000), (unsigned long long)rax);
	assert_diverged(f, want);
	r->rax = rax;
	assert_verifies(f, "once rax is back");

	struct kvm_sregs *sr = &f->sb->kvm.run->s.regs.sregs;
	uint64_t cr3 = sr->cr3;
	sr->cr3 = cr3 + 0x1000;
	snprintf(want, sizeof want,
		 "vCPU register cr3 is 0x%llx in the sandbox, 0x%llx in the snapshot",
		 (unsigned long long)(cr3 + 0x1000), (unsigned long long)cr3);
	assert_diverged(f, want);
	sr->cr3 = cr3;

	/* What the reset stub loaded: a debug register and an XMM register, set behind its back. */
	struct kvm_debugregs dbg;
	assert_int_equal(ioctl(fd, KVM_GET_DEBUGREGS, &dbg), 0);
	uint64_t dr2 = dbg.db[2];
	dbg.db[2] = 0x5000;
	assert_int_equal(ioctl(fd, KVM_SET_DEBUGREGS, &dbg), 0);
	snprintf(want, sizeof want,
		 "vCPU register dr2 is 0x5000 in the sandbox, 0x%llx in the snapshot",
		 (unsigned long long)dr2);
	assert_diverged(f, want);
	dbg.db[2] = dr2;
	assert_int_equal(ioctl(fd, KVM_SET_DEBUGREGS, &dbg), 0);

	struct kvm_xsave xs;
	assert_int_equal(ioctl(fd, KVM_GET_XSAVE, &xs), 0);
	uint8_t *xmm3 = (uint8_t *)xs.region + 160 + 3 * 16; /* FXSAVE's XMM area starts at 160 */
	uint8_t saved[16];
	memcpy(saved, xmm3, 16);
	memset(xmm3, 0, 16);
	xmm3[0] = 0x42;
	/* XSTATE_BV (byte 512) must say the SSE state is in the image, or KVM loads its init value. */
	uint8_t *xstate_bv = (uint8_t *)xs.region + 512, bv = *xstate_bv;
	*xstate_bv |= 0x3;
	assert_int_equal(ioctl(fd, KVM_SET_XSAVE, &xs), 0);
	assert_int_equal(nub_sandbox_verify(f->sb, f->snap, &f->err), NUB_E_DIVERGED);
	nub_assert_error(&f->err, NUB_E_DIVERGED,
			 "vCPU register xmm3 is 0x0:0000000000000042 in the sandbox");
	memcpy(xmm3, saved, 16);
	*xstate_bv = bv;
	assert_int_equal(ioctl(fd, KVM_SET_XSAVE, &xs), 0);
	assert_verifies(f, "once every register is back");
}

/* Another snapshot of the same sandbox: the page that changed between them is named. */
static void test_other_snapshot_diverges(void **state)
{
	struct fixture *f = *state;
	struct nub_snapshot *later = NULL;
	assert_int_equal(call(f, SIMPLE_STATIC_COUNTER, NULL, 0), NUB_OK);
	assert_int_equal(nub_sandbox_snapshot(f->sb, &later, &f->err), NUB_OK);
	if (nub_sandbox_verify(f->sb, later, &f->err) != NUB_OK)
		fail_msg("verify against the new snapshot: %s", f->err.message);
	assert_int_equal(nub_sandbox_verify(f->sb, f->snap, &f->err), NUB_E_DIVERGED);
	nub_assert_error(&f->err, NUB_E_DIVERGED, "differs from the snapshot");
	nub_snapshot_unref(later);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(nub_sandbox_verify(NULL, f->snap, &f->err), NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID, "sandbox is NULL");
	assert_int_equal(nub_sandbox_verify(f->sb, NULL, &f->err), NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID, "snapshot is NULL");
	assert_int_equal(nub_sandbox_verify(f->sb, f->snap, NULL), NUB_OK);
	assert_string_equal(nub_status_str(NUB_E_DIVERGED), "NUB_E_DIVERGED");
}

static const struct CMUnitTest tests[] = {
	NUB_TEST_CASE(test_exact_states_verify),
	NUB_TEST_CASE(test_unrestored_call_diverges),
	NUB_TEST_CASE(test_write_behind_dirty_log_is_named),
	NUB_TEST_CASE(test_lost_dirty_log_is_caught),
	NUB_TEST_CASE(test_register_difference_is_named),
	NUB_TEST_CASE(test_other_snapshot_diverges),
	NUB_TEST_CASE(test_refusals),
};
NUB_TEST_SUITE(tests);
