/* SPDX-License-Identifier: Apache-2.0 */
/* KVM tests of snapshots: exact restore after every kind of damage, chains, refusals, from_snapshot, counter, init data. */
#include <linux/kvm.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm.h"
#include "le_bytes.h"
#include "nub/x86.h"
#include "reset.h"
#include "simple_fns.h"
#include "snapshot.h"
#include "host_fns.h"
#include "testlib.h"

#define HOST_UPPER 10

struct fixture {
	struct nub_config cfg;
	struct nub_sandbox *sb;
	struct nub_snapshot *snap;
	struct nub_counter *counter;
	struct nub_buf resp;
	struct nub_error err;
};

/* A simple sandbox per (f->cfg) with host fn HOST_UPPER (when with_fns) and, optionally, a counter. */
static struct nub_sandbox *make(struct fixture *f, bool with_fns, struct nub_counter **counter,
				const struct nub_guest_env *env_in)
{
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	if (env_in)
		env = *env_in;
	assert_int_equal(nub_uninit_new(&env, &f->cfg, &u, &f->err), NUB_OK);
	if (with_fns)
		assert_int_equal(nub_uninit_register(u, HOST_UPPER, host_fn_upper, NULL, &f->err),
				 NUB_OK);
	if (counter)
		assert_int_equal(nub_uninit_guest_counter(u, counter, &f->err), NUB_OK);
	if (nub_uninit_evolve(u, &sb, &f->err) != NUB_OK)
		fail_msg("evolve: %s", f->err.message);
	return sb;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	nub_config_default(&f->cfg);
	f->cfg.time_limit_ms = 300;
	f->sb = make(f, true, &f->counter, NULL);
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

static enum nub_status call_on(struct fixture *f, struct nub_sandbox *sb, uint32_t fn,
			       const void *p, size_t len)
{
	nub_buf_free(&f->resp);
	return nub_sandbox_call(sb, fn, p, len, &f->resp, &f->err);
}

static enum nub_status call(struct fixture *f, uint32_t fn, const void *p, size_t len)
{
	return call_on(f, f->sb, fn, p, len);
}

static uint64_t call_u64(struct fixture *f, struct nub_sandbox *sb, uint32_t fn, const void *p,
			 size_t len)
{
	assert_int_equal(call_on(f, sb, fn, p, len), NUB_OK);
	uint64_t v = 0;
	assert_true(f->resp.len == 4 || f->resp.len == 8);
	memcpy(&v, f->resp.data, f->resp.len);
	return v;
}

/* The restore oracle (nub_sandbox_verify) finds (sb) equal to (want); (what) names the case. */
static void assert_verifies(struct fixture *f, struct nub_sandbox *sb,
			    const struct nub_snapshot *want, const char *what)
{
	if (nub_sandbox_verify(sb, want, &f->err) != NUB_OK)
		fail_msg("verify after %s: %s", what, f->err.message);
}

/* Memory and vCPU state of (sb) equal (want) exactly: a new snapshot is byte-identical. */
static void assert_state_is(struct fixture *f, struct nub_sandbox *sb,
			    const struct nub_snapshot *want)
{
	struct nub_snapshot *now = NULL;
	assert_int_equal(nub_sandbox_snapshot(sb, &now, &f->err), NUB_OK);
	assert_int_equal(now->mem_size, want->mem_size);
	for (uint64_t off = 0; off < want->mem_size; off += NUB_PAGE_SIZE)
		if (memcmp(now->mem + off, want->mem + off, NUB_PAGE_SIZE) != 0)
			fail_msg("page at image offset 0x%llx differs after restore",
				 (unsigned long long)off);
	assert_memory_equal(&now->vcpu, &want->vcpu, sizeof want->vcpu);
	nub_snapshot_unref(now);
}

/* What the guest reports about its own state: static counter, next heap address, counter. */
struct observation {
	uint64_t static_counter, heap_addr, counter;
};

static struct observation observe(struct fixture *f, struct nub_sandbox *sb)
{
	struct observation o;
	uint32_t size = 64;
	o.static_counter = call_u64(f, sb, SIMPLE_STATIC_COUNTER, NULL, 0);
	o.heap_addr = call_u64(f, sb, SIMPLE_HEAP_ALLOC, &size, 4);
	o.counter = call_u64(f, sb, SIMPLE_READ_COUNTER, NULL, 0);
	return o;
}

/*
 * How a restore resets the vCPU, seen in its stats deltas. The reset stub runs in the guest VM and
 * reloads what the kvm_run sync area cannot carry; a stub fault (e.g. on a guest-armed breakpoint)
 * falls back to vCPU ioctls. Restore first completes the last exit, unless KVM owes it nothing:
 * an interrupted run (time limit), hlt, shutdown, or a port write once the vCPU enters elsewhere.
 */
enum reset_path {
	RESET_STUB,           /* stub_resets +1, ioctl_resets +0, exit_completions +0 */
	RESET_STUB_COMPLETED, /* stub_resets +1, ioctl_resets +0, exit_completions +1 */
	RESET_IOCTL,          /* stub_resets +0, ioctl_resets +1 (completions not asserted) */
};

static const char *const reset_names[] = { "stub", "stub after an exit completion", "ioctls" };

/* Restores (sb) to f->snap and asserts the reset took (want); (what) names the case on failure. */
static void restore_via(struct fixture *f, struct nub_sandbox *sb, enum reset_path want,
			const char *what)
{
	struct nub_sandbox_stats a, b;
	nub_sandbox_get_stats(sb, &a);
	assert_int_equal(nub_sandbox_restore(sb, f->snap, &f->err), NUB_OK);
	nub_sandbox_get_stats(sb, &b);
	uint64_t stub = b.stub_resets - a.stub_resets, ioctl = b.ioctl_resets - a.ioctl_resets;
	uint64_t completions = b.exit_completions - a.exit_completions;
	bool ok = b.restores - a.restores == 1 && stub == (want != RESET_IOCTL) &&
		  ioctl == (want == RESET_IOCTL);
	if (want != RESET_IOCTL)
		ok = ok && completions == (want == RESET_STUB_COMPLETED);
	if (!ok)
		fail_msg(
			"restore after %s: want reset via %s, got restores +%llu stub_resets +%llu "
			"ioctl_resets +%llu exit_completions +%llu",
			what, reset_names[want], (unsigned long long)(b.restores - a.restores),
			(unsigned long long)stub, (unsigned long long)ioctl,
			(unsigned long long)completions);
}

struct damage {
	const char *what;
	uint32_t fn;
	uint8_t payload[40];
	size_t len;
	enum nub_status st;
	enum reset_path reset; /* of the restore that follows */
};

/* SSE invalid-operation unmasked (0x1f00), round toward zero (0x6000), flush to zero, IE flag set. */
#define DAMAGED_MXCSR (0x1f00u | 0x6000u | 0x8000u | 0x1u)

/* Data-write breakpoints (R/W 01, LEN 11 = 4 bytes) on addresses the guest never maps. */
#define DATA_BP_DR7 (X86_DR7_FIXED_VALUE | 0x55u | 0xddddu << 16) /* L0..L3, R/W and LEN = 1101b */

/* Calls, aborts, faults and protocol errors end on a port write; the rest on another exit. */
static const struct damage damages[] = {
	{ "static state", SIMPLE_STATIC_COUNTER, { 0 }, 0, NUB_OK, RESET_STUB },
	{ "heap", SIMPLE_HEAP_ALLOC, { 0, 16 }, 4, NUB_OK, RESET_STUB },
	{ "raw heap pages",
	  SIMPLE_DIRTY_HEAP_PAGES,
	  { 32, 0, 0, 0, 0xab, 0xcd },
	  8,
	  NUB_OK,
	  RESET_STUB },
	{ "stack", SIMPLE_STACK_SMASH, { 0 }, 0, NUB_OK, RESET_STUB },
	{ "I/O buffers", SIMPLE_BUFFER_SCRIBBLE, { 0 }, 0, NUB_OK, RESET_STUB },
	{ "abort", SIMPLE_ABORT, { 9, 'x' }, 2, NUB_E_GUEST_ABORT, RESET_STUB },
	{ "page fault", SIMPLE_NULL_DEREF, { 0 }, 0, NUB_E_GUEST_FAULT, RESET_STUB },
	{ "stack overflow", SIMPLE_STACK_OVERFLOW, { 0 }, 0, NUB_E_GUEST_FAULT, RESET_STUB },
	{ "time limit", SIMPLE_SPIN, { 0 }, 0, NUB_E_TIME_LIMIT, RESET_STUB },
	{ "corrupt output stack pointer",
	  SIMPLE_CORRUPT_OUTPUT_SP,
	  { 0 },
	  0,
	  NUB_E_PROTOCOL,
	  RESET_STUB },
	{ "page-table edit", SIMPLE_MMIO, { 0 }, 0, NUB_E_MMIO, RESET_STUB_COMPLETED },
	{ "triple fault", SIMPLE_TRIPLE_FAULT, { 0 }, 0, NUB_E_TRIPLE_FAULT, RESET_STUB },
	{ "heap exhaustion", SIMPLE_HEAP_EXHAUST, { 0 }, 0, NUB_E_GUEST_ABORT, RESET_STUB },
	{ "hlt", SIMPLE_HLT, { 0 }, 0, NUB_OK, RESET_STUB },
	{ "x87/SSE state",
	  SIMPLE_SET_FPU_STATE,
	  { LE32(DAMAGED_MXCSR), LE16(0x27f) },
	  6,
	  NUB_OK,
	  RESET_STUB },
	{ "debug registers",
	  SIMPLE_SET_DEBUG_REGS,
	  { LE64(0x100000), LE64(0x100008), LE64(0x100010), LE64(0x100018), LE64(DATA_BP_DR7) },
	  40,
	  NUB_OK,
	  RESET_STUB },
	{ "swapgs", SIMPLE_SWAPGS, { LE32(0x12345000) }, 4, NUB_OK, RESET_STUB },
};

static void test_restore_after_every_damage_is_exact(void **state)
{
	struct fixture *f = *state;
	struct observation fresh = observe(f, f->sb);
	assert_int_equal(fresh.static_counter, 1);
	for (size_t i = 0; i < sizeof damages / sizeof damages[0]; i++) {
		const struct damage *d = &damages[i];
		assert_int_equal(nub_sandbox_restore(f->sb, f->snap, &f->err), NUB_OK);
		for (int k = 0; k < 3; k++) {
			enum nub_status st = call(f, d->fn, d->payload, d->len);
			if (st != d->st)
				fail_msg("damage '%s': %s (%s)", d->what, nub_status_str(st),
					 f->err.message);
			if (st != NUB_OK)
				break;
		}
		restore_via(f, f->sb, d->reset, d->what);
		assert_int_equal(nub_sandbox_status(f->sb), NUB_SANDBOX_READY);
		assert_verifies(f, f->sb, f->snap, d->what);
		assert_state_is(f, f->sb, f->snap);
		struct observation o = observe(f, f->sb);
		if (memcmp(&o, &fresh, sizeof o) != 0)
			fail_msg("after damage '%s' the guest sees static %llu heap 0x%llx",
				 d->what, (unsigned long long)o.static_counter,
				 (unsigned long long)o.heap_addr);
	}
}

static void test_restore_is_repeatable_from_any_state(void **state)
{
	struct fixture *f = *state;
	/* Restoring twice in a row, and restoring a sandbox that did nothing, are exact too. */
	assert_int_equal(nub_sandbox_restore(f->sb, f->snap, &f->err), NUB_OK);
	assert_int_equal(nub_sandbox_restore(f->sb, f->snap, &f->err), NUB_OK);
	assert_state_is(f, f->sb, f->snap);
}

static void test_snapshot_chain(void **state)
{
	struct fixture *f = *state;
	struct nub_snapshot *s1 = f->snap, *s2 = NULL;
	assert_int_equal(call_u64(f, f->sb, SIMPLE_STATIC_COUNTER, NULL, 0), 1);
	assert_int_equal(nub_sandbox_snapshot(f->sb, &s2, &f->err), NUB_OK);
	assert_int_equal(call_u64(f, f->sb, SIMPLE_STATIC_COUNTER, NULL, 0), 2);
	/* back to the older snapshot (a full copy), then the newer one, then the newer again */
	assert_int_equal(nub_sandbox_restore(f->sb, s1, &f->err), NUB_OK);
	assert_state_is(f, f->sb, s1);
	assert_int_equal(call_u64(f, f->sb, SIMPLE_STATIC_COUNTER, NULL, 0), 1);
	assert_int_equal(nub_sandbox_restore(f->sb, s2, &f->err), NUB_OK);
	assert_int_equal(call_u64(f, f->sb, SIMPLE_STATIC_COUNTER, NULL, 0), 2);
	assert_int_equal(nub_sandbox_restore(f->sb, s2, &f->err), NUB_OK);
	assert_state_is(f, f->sb, s2);
	assert_int_equal(call_u64(f, f->sb, SIMPLE_STATIC_COUNTER, NULL, 0), 2);
	nub_snapshot_unref(s2);
}

static void test_restore_clears_poison(void **state)
{
	struct fixture *f = *state;
	uint8_t p[2] = { 42, 'x' };
	assert_int_equal(call(f, SIMPLE_ABORT, p, 2), NUB_E_GUEST_ABORT);
	assert_int_equal(nub_sandbox_status(f->sb), NUB_SANDBOX_POISONED);
	assert_int_equal(nub_sandbox_snapshot(f->sb, &(struct nub_snapshot *){ NULL }, &f->err),
			 NUB_E_POISONED);
	assert_int_equal(nub_sandbox_restore(f->sb, f->snap, &f->err), NUB_OK);
	assert_int_equal(nub_sandbox_status(f->sb), NUB_SANDBOX_READY);
	assert_int_equal(call(f, SIMPLE_ECHO, "hi", 2), NUB_OK);
	assert_memory_equal(f->resp.data, "hi", 2);
}

static void test_restore_refusals_change_nothing(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(call_u64(f, f->sb, SIMPLE_STATIC_COUNTER, NULL, 0), 1);

	/* a snapshot with another layout */
	struct nub_config big = f->cfg;
	big.heap_size = 0x40000;
	struct fixture g = { .cfg = big };
	struct nub_sandbox *other = make(&g, true, NULL, NULL);
	struct nub_snapshot *other_snap = NULL;
	assert_int_equal(nub_sandbox_snapshot(other, &other_snap, &f->err), NUB_OK);
	assert_int_equal(nub_sandbox_restore(f->sb, other_snap, &f->err), NUB_E_INVALID);
	nub_assert_error(
		&f->err, NUB_E_INVALID,
		"snapshot layout differs: heap_size is 0x40000 in the snapshot, 0x20000 in the sandbox");
	nub_sandbox_free(other);
	nub_snapshot_unref(other_snap);

	/* a snapshot that needs a host function this sandbox lacks */
	struct fixture h = { .cfg = f->cfg };
	struct nub_sandbox *bare = make(&h, false, NULL, NULL);
	assert_int_equal(nub_sandbox_restore(bare, f->snap, &f->err), NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID,
			 "needs host function fn_id 10, which the sandbox lacks");
	assert_int_equal(call_u64(f, bare, SIMPLE_STATIC_COUNTER, NULL, 0), 1);
	nub_sandbox_free(bare);

	/* the refused sandbox carried on where it was */
	assert_int_equal(nub_sandbox_status(f->sb), NUB_SANDBOX_READY);
	assert_int_equal(call_u64(f, f->sb, SIMPLE_STATIC_COUNTER, NULL, 0), 2);
	assert_int_equal(nub_sandbox_restore(NULL, f->snap, &f->err), NUB_E_INVALID);
	assert_int_equal(nub_sandbox_restore(f->sb, NULL, &f->err), NUB_E_INVALID);
}

static void test_from_snapshot_twice_stays_isolated(void **state)
{
	struct fixture *f = *state;
	const struct nub_host_function fns[] = { { HOST_UPPER, host_fn_upper, NULL } };
	struct nub_sandbox *x = NULL, *y = NULL;
	assert_int_equal(nub_sandbox_from_snapshot(f->snap, fns, 1, &f->cfg, &x, &f->err), NUB_OK);
	assert_int_equal(nub_sandbox_from_snapshot(f->snap, fns, 1, NULL, &y, &f->err), NUB_OK);
	assert_int_equal(call_u64(f, x, SIMPLE_STATIC_COUNTER, NULL, 0), 1);
	assert_int_equal(call_u64(f, x, SIMPLE_STATIC_COUNTER, NULL, 0), 2);
	assert_int_equal(call_u64(f, y, SIMPLE_STATIC_COUNTER, NULL, 0), 1);
	assert_int_equal(call_u64(f, x, SIMPLE_STATIC_COUNTER, NULL, 0), 3);
	assert_int_equal(call_u64(f, f->sb, SIMPLE_STATIC_COUNTER, NULL, 0), 1);
	/* host calls work from a snapshot-made sandbox; it has no counter, so the guest reads 0 */
	uint8_t p[8] = { HOST_UPPER, 0, 0, 0, 'a', 'b' };
	assert_int_equal(call_on(f, x, SIMPLE_HOST_CALL, p, 6), NUB_OK);
	assert_memory_equal(f->resp.data, "AB", 2);
	assert_int_equal(call_u64(f, y, SIMPLE_READ_COUNTER, NULL, 0), 0);
	/* restoring a snapshot-made sandbox to its snapshot is exact */
	assert_int_equal(nub_sandbox_restore(x, f->snap, &f->err), NUB_OK);
	assert_state_is(f, x, f->snap);
	assert_int_equal(call_u64(f, x, SIMPLE_STATIC_COUNTER, NULL, 0), 1);
	nub_sandbox_free(x);
	nub_sandbox_free(y);
}

static void test_from_snapshot_refusals(void **state)
{
	struct fixture *f = *state;
	struct nub_sandbox *x = NULL;
	assert_int_equal(nub_sandbox_from_snapshot(f->snap, NULL, 0, NULL, &x, &f->err),
			 NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID, "needs host function fn_id 10");
	assert_null(x);
	const struct nub_host_function fns[] = { { HOST_UPPER, host_fn_upper, NULL } };
	struct nub_config cfg = f->cfg;
	cfg.heap_size = 0x10000;
	assert_int_equal(nub_sandbox_from_snapshot(f->snap, fns, 1, &cfg, &x, &f->err),
			 NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID,
			 "config.heap_size 0x10000 differs from the snapshot's 0x20000");
	const struct nub_host_function dup[] = { { HOST_UPPER, host_fn_upper, NULL },
						 { HOST_UPPER, host_fn_upper, NULL } };
	assert_int_equal(nub_sandbox_from_snapshot(f->snap, dup, 2, NULL, &x, &f->err),
			 NUB_E_EXISTS);
	assert_int_equal(nub_sandbox_from_snapshot(NULL, fns, 1, NULL, &x, &f->err), NUB_E_INVALID);
}

static void test_counter_rules(void **state)
{
	struct fixture *f = *state;
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
	struct nub_uninit *u = NULL;
	struct nub_counter *c = NULL, *c2 = NULL;
	assert_int_equal(nub_uninit_new(&env, &f->cfg, &u, &f->err), NUB_OK);
	assert_int_equal(nub_uninit_guest_counter(u, &c, &f->err), NUB_OK);
	assert_int_equal(nub_uninit_guest_counter(u, &c2, &f->err), NUB_E_EXISTS);
	assert_int_equal(nub_counter_increment(c, &f->err), NUB_E_STATE);
	nub_assert_error(&f->err, NUB_E_STATE, "has not evolved yet");
	assert_int_equal(nub_counter_value(c), 0);
	nub_uninit_free(u); /* frees the counter with it */

	c = f->counter;
	assert_int_equal(call_u64(f, f->sb, SIMPLE_READ_COUNTER, NULL, 0), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(nub_counter_increment(c, &f->err), NUB_OK);
	assert_int_equal(nub_counter_value(c), 3);
	assert_int_equal(call_u64(f, f->sb, SIMPLE_READ_COUNTER, NULL, 0), 3);
	assert_int_equal(nub_counter_decrement(c, &f->err), NUB_OK);
	assert_int_equal(call_u64(f, f->sb, SIMPLE_READ_COUNTER, NULL, 0), 2);
	/* restore rewrites the host's value, not the snapshot's (0) */
	assert_int_equal(nub_sandbox_restore(f->sb, f->snap, &f->err), NUB_OK);
	assert_int_equal(call_u64(f, f->sb, SIMPLE_READ_COUNTER, NULL, 0), 2);
	assert_int_equal(nub_counter_decrement(c, &f->err), NUB_OK);
	assert_int_equal(nub_counter_decrement(c, &f->err), NUB_OK);
	assert_int_equal(nub_counter_decrement(c, &f->err), NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID, "would go below 0");
	assert_int_equal(nub_counter_value(c), 0);
	/* the guest cannot write it: the page is read-only (a write faults) */
	assert_int_equal(call_u64(f, f->sb, SIMPLE_READ_COUNTER, NULL, 0), 0);
	assert_int_equal(nub_counter_increment(NULL, &f->err), NUB_E_INVALID);
}

/* Init data of 2 pages whose first byte is `ret`, with the given permissions. */
static struct nub_sandbox *with_init_data(struct fixture *f, uint32_t perms)
{
	static uint8_t blob[8192];
	blob[0] = 0xc3;
	blob[5000] = 0x77;
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple"),
				     .init_data = blob,
				     .init_data_len = sizeof blob,
				     .init_data_perms = perms };
	return make(f, false, NULL, &env);
}

static void expect_pf(struct fixture *f, struct nub_sandbox *sb, uint32_t fn, const void *p,
		      size_t len, uint64_t code)
{
	assert_int_equal(call_on(f, sb, fn, p, len), NUB_E_GUEST_FAULT);
	assert_int_equal(f->err.vector, 14);
	assert_int_equal(f->err.error_code & 0x13, code);
}

static void test_init_data_permissions(void **state)
{
	struct fixture *f = *state;
	uint8_t rd[8] = { 0x88, 0x13, 0, 0, 1, 0, 0, 0 }; /* offset 5000, length 1 */
	uint8_t wr[5] = { 0x88, 0x13, 0, 0, 0x55 };
	uint8_t ex[4] = { 0, 0, 0, 0 };

	struct nub_sandbox *r = with_init_data(f, 0);
	assert_int_equal(call_on(f, r, SIMPLE_INIT_DATA_READ, rd, 8), NUB_OK);
	assert_int_equal(f->resp.data[0], 0x77);
	expect_pf(f, r, SIMPLE_INIT_DATA_WRITE, wr, 5, 0x3);
	nub_sandbox_free(r);
	r = with_init_data(f, NUB_MEM_READ);
	expect_pf(f, r, SIMPLE_INIT_DATA_EXEC, ex, 4, 0x11);
	nub_sandbox_free(r);

	struct nub_sandbox *rw = with_init_data(f, NUB_MEM_READ | NUB_MEM_WRITE);
	assert_int_equal(call_on(f, rw, SIMPLE_INIT_DATA_WRITE, wr, 5), NUB_OK);
	assert_int_equal(call_on(f, rw, SIMPLE_INIT_DATA_READ, rd, 8), NUB_OK);
	assert_int_equal(f->resp.data[0], 0x55);
	expect_pf(f, rw, SIMPLE_INIT_DATA_EXEC, ex, 4, 0x11);
	nub_sandbox_free(rw);

	struct nub_sandbox *rx = with_init_data(f, NUB_MEM_READ | NUB_MEM_EXECUTE);
	assert_int_equal(call_on(f, rx, SIMPLE_INIT_DATA_EXEC, ex, 4), NUB_OK);
	expect_pf(f, rx, SIMPLE_INIT_DATA_WRITE, wr, 5, 0x3);
	nub_sandbox_free(rx);

	uint8_t out_of_range[8] = { 0, 0x20, 0, 0, 1, 0, 0, 0 }; /* offset 8192 */
	struct nub_sandbox *plain = with_init_data(f, 0);
	assert_int_equal(call_on(f, plain, SIMPLE_INIT_DATA_READ, out_of_range, 8),
			 NUB_E_GUEST_ERROR);
	nub_assert_error(&f->err, NUB_E_GUEST_ERROR, "init data range 8192+1 outside 8192 bytes");
	nub_sandbox_free(plain);
}

/* Writes (len) bytes (byte 0 = `ret`, then i & 0xff) to a new temporary file; returns its path. */
static void temp_file(char *path, size_t len)
{
	strcpy(path, "/tmp/nub-map-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < len; i++) {
		uint8_t b = i == 0 ? 0xc3 : (uint8_t)i;
		assert_int_equal(write(fd, &b, 1), 1);
	}
	close(fd);
}

#define MAP_GPA 0x100000000ull

static void test_map_file_rules(void **state)
{
	struct fixture *f = *state;
	char file[64], empty[64];
	temp_file(file, 5000);
	temp_file(empty, 0);
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
	struct nub_uninit *u = NULL;
	uint64_t size = 0;
	assert_int_equal(nub_uninit_new(&env, &f->cfg, &u, &f->err), NUB_OK);
	static const struct {
		uint64_t gpa;
		const char *needle;
	} bad[] = {
		{ MAP_GPA + 1, "gpa 0x100000001 is not page-aligned" },
		{ 0, "overlaps the NULL guard or the primary region" },
		{ 0x4000, "overlaps the NULL guard or the primary region" },
		{ NUB_GPA_TOP - 0x2000, "overlaps the scratch region" },
		{ 0xfffffffffffff000ull, "exceeds the 36-bit guest-physical space" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(nub_uninit_map_file(u, file, bad[i].gpa, &size, &f->err),
				 NUB_E_INVALID);
		nub_assert_error(&f->err, NUB_E_INVALID, bad[i].needle);
	}
	assert_int_equal(nub_uninit_map_file(u, empty, MAP_GPA, &size, &f->err), NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID, "is empty");
	assert_int_equal(nub_uninit_map_file(u, "/nonexistent", MAP_GPA, &size, &f->err), NUB_E_IO);
	assert_int_equal(nub_uninit_map_file(u, "/tmp", MAP_GPA, &size, &f->err), NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID, "not a regular file");
	assert_int_equal(nub_uninit_map_file(u, file, MAP_GPA, &size, &f->err), NUB_OK);
	assert_int_equal(size, 0x2000);
	assert_int_equal(nub_uninit_map_file(u, file, MAP_GPA + 0x1000, &size, &f->err),
			 NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID,
			 "overlaps the file mapped at [0x100000000, 0x100002000)");

	struct nub_sandbox *sb = NULL;
	assert_int_equal(nub_uninit_evolve(u, &sb, &f->err), NUB_OK);
	uint8_t rd[12] = { 0 };
	uint64_t gpa = MAP_GPA + 0x1000;
	uint32_t len = 16;
	memcpy(rd, &gpa, 8);
	memcpy(rd + 8, &len, 4);
	assert_int_equal(call_on(f, sb, SIMPLE_MAPPED_READ, rd, 12), NUB_OK);
	assert_int_equal(f->resp.len, 16);
	for (int i = 0; i < 16; i++)
		assert_int_equal(f->resp.data[i], (uint8_t)(0x1000 + i));
	uint8_t ex[8];
	memcpy(ex, &(uint64_t){ MAP_GPA }, 8);
	assert_int_equal(call_on(f, sb, SIMPLE_MAPPED_EXEC, ex, 8), NUB_OK);
	/* the KVM slot is read-only whatever the guest's page tables say */
	uint8_t wr[9] = { 0 };
	memcpy(wr, &(uint64_t){ MAP_GPA }, 8);
	assert_int_equal(call_on(f, sb, SIMPLE_MAPPED_WRITE, wr, 9), NUB_E_MMIO);
	assert_int_equal(f->err.gpa, MAP_GPA);
	nub_sandbox_free(sb);
	unlink(file);
	unlink(empty);
}

static void test_restore_removes_later_mappings(void **state)
{
	struct fixture *f = *state;
	char file[64];
	temp_file(file, 100);
	uint8_t rd[12] = { 0 };
	memcpy(rd, &(uint64_t){ MAP_GPA }, 8);
	memcpy(rd + 8, &(uint32_t){ 4 }, 4);
	assert_int_equal(nub_sandbox_map_file(f->sb, file, MAP_GPA, NULL, &f->err), NUB_OK);
	assert_int_equal(call(f, SIMPLE_MAPPED_READ, rd, 12), NUB_OK);
	assert_int_equal(f->resp.data[1], 1);
	assert_int_equal(nub_sandbox_restore(f->sb, f->snap, &f->err), NUB_OK);
	assert_int_equal(call(f, SIMPLE_MAPPED_READ, rd, 12), NUB_E_MMIO);
	assert_int_equal(f->err.gpa, MAP_GPA);

	/* a snapshot taken with a mapping refuses a sandbox without it */
	assert_int_equal(nub_sandbox_restore(f->sb, f->snap, &f->err), NUB_OK);
	assert_int_equal(nub_sandbox_map_file(f->sb, file, MAP_GPA, NULL, &f->err), NUB_OK);
	struct nub_snapshot *with_map = NULL;
	assert_int_equal(nub_sandbox_snapshot(f->sb, &with_map, &f->err), NUB_OK);
	assert_int_equal(nub_sandbox_restore(f->sb, with_map, &f->err), NUB_OK);
	assert_int_equal(call(f, SIMPLE_MAPPED_READ, rd, 12), NUB_OK);
	struct fixture g = { .cfg = f->cfg };
	struct nub_sandbox *bare = make(&g, true, NULL, NULL);
	assert_int_equal(nub_sandbox_restore(bare, with_map, &f->err), NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID,
			 "file mapped at 0x100000000 (0x1000 bytes), which the sandbox lacks");
	nub_sandbox_free(bare);
	nub_snapshot_unref(with_map);
	unlink(file);
}

/*
 * XCR0 and the extended state behind it are not in the snapshot's registers, so restore must
 * reset them. Where KVM enforces the guest CPUID (XSAVE hidden) the guest cannot even change
 * them; kvm_pvm lets a CPL0 guest set CR4.OSXSAVE and XCR0 anyway, which restore then undoes.
 */
static void test_restore_resets_xcr0(void **state)
{
	struct fixture *f = *state;
	if (access("/sys/module/kvm_pvm", F_OK) != 0) {
		assert_int_equal(call(f, SIMPLE_ENABLE_XSAVE, NULL, 0), NUB_E_GUEST_FAULT);
		assert_int_equal(f->err.vector, 13);
		return;
	}
	assert_int_equal(f->snap->vcpu.xcr0, NUB_XCR0_X87);
	assert_int_equal(call(f, SIMPLE_ENABLE_XSAVE, NULL, 0), NUB_OK);
	struct nub_snapshot *s = NULL;
	assert_int_equal(nub_sandbox_snapshot(f->sb, &s, &f->err), NUB_E_STATE);
	nub_assert_error(&f->err, NUB_E_STATE, "the guest enabled XSAVE state (XCR0 0x7)");
	assert_int_equal(nub_sandbox_restore(f->sb, f->snap, &f->err), NUB_OK);
	assert_state_is(f, f->sb, f->snap); /* compares XCR0 too */
}

/*
 * The vCPU damage above is real: what SIMPLE_SET_FPU_STATE, SIMPLE_SET_DEBUG_REGS and SIMPLE_SWAPGS
 * change shows in a snapshot taken right after, and their refusals are the documented ones.
 */
static void test_vcpu_damage_reaches_snapshots(void **state)
{
	struct fixture *f = *state;
	static const uint8_t fpu[6] = { LE32(DAMAGED_MXCSR), LE16(0x27f) };
	static const uint64_t drs[5] = { 0x100000, 0x100008, 0x100010, 0x100018, DATA_BP_DR7 };
	const uint32_t base = 0x12345000;
	assert_int_equal(call(f, SIMPLE_SET_FPU_STATE, fpu, sizeof fpu), NUB_OK);
	assert_int_equal(call(f, SIMPLE_SET_DEBUG_REGS, drs, sizeof drs), NUB_OK);
	assert_int_equal(call(f, SIMPLE_SWAPGS, &base, sizeof base), NUB_OK);
	struct nub_snapshot *s = NULL;
	assert_int_equal(nub_sandbox_snapshot(f->sb, &s, &f->err), NUB_OK);
	uint32_t mxcsr;
	uint16_t fcw, fsw;
	memcpy(&mxcsr, s->vcpu.fpu + offsetof(struct kvm_fpu, mxcsr), sizeof mxcsr);
	memcpy(&fcw, s->vcpu.fpu + offsetof(struct kvm_fpu, fcw), sizeof fcw);
	memcpy(&fsw, s->vcpu.fpu + offsetof(struct kvm_fpu, fsw), sizeof fsw);
	assert_int_equal(mxcsr, DAMAGED_MXCSR);
	assert_int_equal(fcw, 0x27f);
	assert_int_equal(fsw, 7u << 11);
	assert_memory_equal(s->vcpu.dr, drs, sizeof s->vcpu.dr);
	assert_int_equal(s->vcpu.dr7, DATA_BP_DR7);
	assert_int_equal(s->vcpu.kernel_gs_base, base);
	assert_int_equal(s->vcpu.gs.base, 0); /* the old MSR_KERNEL_GS_BASE */
	nub_snapshot_unref(s);
	/* a second swapgs finds the base in both */
	assert_int_equal(call(f, SIMPLE_SWAPGS, &base, sizeof base), NUB_OK);
	assert_int_equal(nub_sandbox_snapshot(f->sb, &s, &f->err), NUB_OK);
	assert_int_equal(s->vcpu.kernel_gs_base, base);
	assert_int_equal(s->vcpu.gs.base, base);
	nub_snapshot_unref(s);
	assert_int_equal(nub_sandbox_restore(f->sb, f->snap, &f->err), NUB_OK);
	assert_state_is(f, f->sb, f->snap);

	assert_int_equal(call(f, SIMPLE_SET_FPU_STATE, fpu, 5), NUB_E_GUEST_ERROR);
	nub_assert_error(&f->err, NUB_E_GUEST_ERROR, "set fpu state needs 6 bytes, got 5");
	assert_int_equal(call(f, SIMPLE_SET_DEBUG_REGS, drs, 39), NUB_E_GUEST_ERROR);
	nub_assert_error(&f->err, NUB_E_GUEST_ERROR, "set debug regs needs 40 bytes, got 39");
	assert_int_equal(call(f, SIMPLE_SWAPGS, NULL, 0), NUB_E_GUEST_ERROR);
	nub_assert_error(&f->err, NUB_E_GUEST_ERROR, "swapgs needs 4 bytes, got 0");
	static const uint8_t wide_mxcsr[6] = { LE32(0x11f80), LE16(0x37f) };
	assert_int_equal(call(f, SIMPLE_SET_FPU_STATE, wide_mxcsr, sizeof wide_mxcsr),
			 NUB_E_GUEST_FAULT);
	assert_int_equal(f->err.vector, 13);
	assert_int_equal(nub_sandbox_restore(f->sb, f->snap, &f->err), NUB_OK);
	static const uint64_t wide_dr7[5] = { 0, 0, 0, 0, 1ull << 32 | 0x400 };
	assert_int_equal(call(f, SIMPLE_SET_DEBUG_REGS, wide_dr7, sizeof wide_dr7),
			 NUB_E_GUEST_FAULT);
	assert_int_equal(f->err.vector, 13);
	assert_int_equal(nub_sandbox_restore(f->sb, f->snap, &f->err), NUB_OK);
	/* DR7.GD: the next MOV DR raises #DB */
	static const uint64_t gd[5] = { 0, 0, 0, 0, 0x2400 };
	assert_int_equal(call(f, SIMPLE_SET_DEBUG_REGS, gd, sizeof gd), NUB_OK);
	assert_int_equal(call(f, SIMPLE_SET_DEBUG_REGS, gd, sizeof gd), NUB_E_GUEST_FAULT);
	assert_int_equal(f->err.vector, 1);
	assert_int_equal(nub_sandbox_restore(f->sb, f->snap, &f->err), NUB_OK);
	assert_state_is(f, f->sb, f->snap);
}

/* SIMPLE_SET_DEBUG_REGS with (dr0) (dr1..dr3 0) and (dr7). */
static void set_debug_regs(struct fixture *f, uint64_t dr0, uint64_t dr7)
{
	const uint64_t regs[5] = { dr0, 0, 0, 0, dr7 };
	assert_int_equal(call(f, SIMPLE_SET_DEBUG_REGS, regs, sizeof regs), NUB_OK);
}

/* The reset stub's first instruction, mov %r14, %dr7, at linear (= physical) address 0x3000. */
#define STUB_ENTRY 0x3000u

/*
 * Which way restore resets the vCPU. The stub's first instruction clears DR7, so only what fires on
 * that instruction can stop it: an instruction breakpoint on it, or DR7.GD (any MOV DR raises #DB).
 * Restore then falls back to vCPU ioctls, just as exactly, and the next restore from a clean state
 * uses the stub again.
 */
static void test_restore_reset_path(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *what;
		uint64_t dr0, dr7;
	} traps[] = {
		{ "an instruction breakpoint on the reset stub", STUB_ENTRY,
		  0x401 }, /* L0, R/W 00, LEN 00 */
		{ "DR7.GD", 0, 0x2400 },
	};
	assert_int_equal(call(f, SIMPLE_ECHO, "hi", 2), NUB_OK);
	restore_via(f, f->sb, RESET_STUB, "a call");
	assert_int_equal(call(f, SIMPLE_MMIO, NULL, 0), NUB_E_MMIO);
	restore_via(f, f->sb, RESET_STUB_COMPLETED, "an MMIO exit");
	for (size_t i = 0; i < sizeof traps / sizeof traps[0]; i++) {
		set_debug_regs(f, traps[i].dr0, traps[i].dr7);
		restore_via(f, f->sb, RESET_IOCTL, traps[i].what);
		assert_verifies(f, f->sb, f->snap, traps[i].what);
		assert_state_is(f, f->sb, f->snap);
		assert_int_equal(call(f, SIMPLE_ECHO, "hi", 2), NUB_OK);
		restore_via(f, f->sb, RESET_STUB, "a call after the ioctl fallback");
		assert_state_is(f, f->sb, f->snap);
	}
}

/*
 * The x87/SSE control state the guest sees comes back exactly, MXCSR included: KVM_GET_FPU does
 * not report MXCSR, so a snapshot once stored 0 and restore unmasked every SSE exception.
 */
static void test_restore_resets_fpu_state(void **state)
{
	struct fixture *f = *state;
	/* SIMPLE_GET_FPU_STATE after boot: MXCSR 0x1f80, FCW 0x37f, FSW 0, xmm0 and xmm15 zero */
	static const uint8_t fresh[40] = { LE32(0x1f80), LE16(0x37f), LE16(0) };
	static const uint8_t set[6] = { LE32(DAMAGED_MXCSR), LE16(0x27f) };
	/* and after SIMPLE_SET_FPU_STATE: the pattern in xmm0 and xmm15, TOP 7 (one value pushed) */
	uint8_t want[40] = { LE32(DAMAGED_MXCSR), LE16(0x27f), LE16(7u << 11) };
	for (uint32_t j = 0; j < 16; j++) {
		want[8 + j] = (uint8_t)j ^ set[j % 6];
		want[24 + j] = (uint8_t)(240 + j) ^ set[(240 + j) % 6];
	}
	uint32_t mxcsr;
	uint16_t fcw;
	memcpy(&mxcsr, f->snap->vcpu.fpu + offsetof(struct kvm_fpu, mxcsr), sizeof mxcsr);
	memcpy(&fcw, f->snap->vcpu.fpu + offsetof(struct kvm_fpu, fcw), sizeof fcw);
	assert_int_equal(mxcsr, 0x1f80);
	assert_int_equal(fcw, 0x37f);

	assert_int_equal(call(f, SIMPLE_GET_FPU_STATE, NULL, 0), NUB_OK);
	assert_int_equal(f->resp.len, sizeof fresh);
	assert_memory_equal(f->resp.data, fresh, sizeof fresh);
	assert_int_equal(call(f, SIMPLE_SET_FPU_STATE, set, sizeof set), NUB_OK);
	assert_int_equal(call(f, SIMPLE_GET_FPU_STATE, NULL, 0), NUB_OK);
	assert_int_equal(f->resp.len, sizeof want);
	assert_memory_equal(f->resp.data, want, sizeof want);

	assert_int_equal(nub_sandbox_restore(f->sb, f->snap, &f->err), NUB_OK);
	assert_state_is(f, f->sb, f->snap);
	assert_int_equal(call(f, SIMPLE_GET_FPU_STATE, NULL, 0), NUB_OK);
	assert_int_equal(f->resp.len, sizeof fresh);
	assert_memory_equal(f->resp.data, fresh, sizeof fresh);
}

/*
 * The rule restore uses to skip the completion run, case by case: a port write owes at most a skip
 * of the OUT, and only when the next entry is the OUT's own address; a guest cannot get an OUT
 * to the stub's linear address through the simple guest, so that case is checked here directly.
 */
static void test_completion_rule(void **state)
{
	(void)state;
	struct nub_kvm k = { .exit_owes = NUB_KVM_OWES_NOTHING };
	assert_false(nub_kvm_exit_needs_completion(&k, NUB_RESET_CODE_GPA));
	k.exit_owes = NUB_KVM_OWES_UNKNOWN;
	assert_true(nub_kvm_exit_needs_completion(&k, NUB_RESET_CODE_GPA));
	k.exit_owes = NUB_KVM_OWES_SKIP_AT;
	k.port_write_rip = NUB_RESET_CODE_GPA + 2;
	assert_false(nub_kvm_exit_needs_completion(&k, NUB_RESET_CODE_GPA));
	k.port_write_rip = NUB_RESET_CODE_GPA;
	assert_true(nub_kvm_exit_needs_completion(&k, NUB_RESET_CODE_GPA));
}

static const struct CMUnitTest tests[] = {
	NUB_TEST_CASE(test_restore_after_every_damage_is_exact),
	NUB_TEST_CASE(test_restore_is_repeatable_from_any_state),
	NUB_TEST_CASE(test_snapshot_chain),
	NUB_TEST_CASE(test_restore_clears_poison),
	NUB_TEST_CASE(test_restore_refusals_change_nothing),
	NUB_TEST_CASE(test_from_snapshot_twice_stays_isolated),
	NUB_TEST_CASE(test_from_snapshot_refusals),
	NUB_TEST_CASE(test_counter_rules),
	NUB_TEST_CASE(test_init_data_permissions),
	NUB_TEST_CASE(test_map_file_rules),
	NUB_TEST_CASE(test_restore_resets_xcr0),
	NUB_TEST_CASE(test_restore_removes_later_mappings),
	NUB_TEST_CASE(test_vcpu_damage_reaches_snapshots),
	NUB_TEST_CASE(test_restore_reset_path),
	NUB_TEST_CASE(test_restore_resets_fpu_state),
	cmocka_unit_test(test_completion_rule),
};

NUB_TEST_SUITE(tests);
