/* SPDX-License-Identifier: Apache-2.0 */
/* KVM tests of guard pages that bite on the host: a guest that maps one and touches it gets a guest outcome. */
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "mem.h"
#include "nub/x86.h"
#include "sandbox.h"
#include "simple_fns.h"
#include "testlib.h"

struct fixture {
	struct nub_sandbox *sb;
	struct nub_snapshot *snap;
	struct nub_buf resp;
	struct nub_error err;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
	struct nub_config cfg;
	struct nub_uninit *u = NULL;
	nub_config_default(&cfg);
	cfg.time_limit_ms = 300;
	assert_int_equal(nub_uninit_new(&env, &cfg, &u, &f->err), NUB_OK);
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

/* The guest's 4 KiB PTE for (va), found through the host mapping of its page tables. */
static volatile uint64_t *guest_pte(struct nub_sandbox *sb, uint64_t va)
{
	uint64_t table = sb->img.cr3 & X86_PTE_ADDR;
	for (unsigned shift = 39;; shift -= 9) {
		volatile uint8_t *t = nub_mem_ptr(&sb->img.mem, table, NUB_PAGE_SIZE);
		assert_non_null(t);
		volatile uint64_t *e = (volatile uint64_t *)(t + ((va >> shift) & 511) * 8);
		if (shift == 12)
			return e;
		assert_true((*e & X86_PTE_P) && !(*e & X86_PTE_PS));
		table = *e & X86_PTE_ADDR;
	}
}

/*
 * The guest owns its page tables (it runs at CPL0): here the host plays such a guest and points
 * heap page 0 at each guard page, then the guest writes that page (SIMPLE_DIRTY_HEAP_PAGES).
 * The outcome is the guest's, NUB_E_MMIO at the guard's GPA, never NUB_E_KVM; restore recovers.
 */
static void test_guest_touching_a_guard_page_is_mmio(void **state)
{
	struct fixture *f = *state;
	const struct nub_layout *l = &f->sb->img.layout;
	uint64_t guards[NUB_LAYOUT_GUARDS];
	size_t n = nub_layout_guards(l, guards);
	const uint32_t args[2] = { 1, 0x77 }; /* u32 0x77 at offset 2048 of heap page 0 */
	for (size_t i = 0; i < n; i++) {
		volatile uint64_t *pte = guest_pte(f->sb, l->heap_gpa);
		uint64_t was = *pte;
		*pte = (was & ~X86_PTE_ADDR) | guards[i];
		/* A snapshot of the edited tables, restored: the vCPU reloads CR3 and its TLB is cold. */
		struct nub_snapshot *edited = NULL;
		assert_int_equal(nub_sandbox_snapshot(f->sb, &edited, &f->err), NUB_OK);
		assert_int_equal(nub_sandbox_restore(f->sb, edited, &f->err), NUB_OK);
		nub_buf_free(&f->resp);
		enum nub_status st = nub_sandbox_call(f->sb, SIMPLE_DIRTY_HEAP_PAGES, args,
						      sizeof args, &f->resp, &f->err);
		if (st != NUB_E_MMIO)
			fail_msg("guard page 0x%llx: %s: %s", (unsigned long long)guards[i],
				 nub_status_str(st), f->err.message);
		assert_int_equal(f->err.gpa, guards[i] + 2048);
		assert_int_equal(nub_sandbox_status(f->sb), NUB_SANDBOX_POISONED);
		assert_int_equal(nub_sandbox_restore(f->sb, f->snap, &f->err), NUB_OK);
		nub_snapshot_unref(edited);
		*pte = was; /* a host write: restore's dirty log does not see it */
		if (nub_sandbox_verify(f->sb, f->snap, &f->err) != NUB_OK)
			fail_msg("verify after guard page 0x%llx: %s",
				 (unsigned long long)guards[i], f->err.message);
	}
}

static const struct CMUnitTest tests[] = {
	NUB_TEST_CASE(test_guest_touching_a_guard_page_is_mmio),
};
NUB_TEST_SUITE(tests);
