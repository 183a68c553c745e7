/* SPDX-License-Identifier: Apache-2.0 */
/* Walking guest-owned page tables: identity tables, hostile loops, unbacked and reserved entries, limits. */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#include "mem.h"
#include "pagewalk.h"
#include "paging.h"

#define PAGE 0x1000ull
#define PRIMARY_SIZE (4ull << 20) /* 0x4000 .. 0x404000 */
#define SCRATCH_SIZE 0x10000ull
#define SCRATCH_GPA (NUB_GPA_TOP - SCRATCH_SIZE)
#define TABLES 0x100000ull /* hand-made tables: PML4 here, then one page per further table */
#define TOP NUB_GPA_TOP

#define R NUB_MEM_READ
#define W NUB_MEM_WRITE
#define X NUB_MEM_EXECUTE

/* Entry bits, spelled out independently of pagewalk.c. */
#define E_P 0x1ull
#define E_RW 0x2ull
#define E_PS 0x80ull
#define E_NX (1ull << 63)

static int setup(void **state)
{
	struct nub_mem *m = calloc(1, sizeof *m);
	assert_non_null(m);
	assert_int_equal(nub_mem_map(m, PRIMARY_SIZE, SCRATCH_GPA, SCRATCH_SIZE, -1, NULL), NUB_OK);
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	nub_mem_unmap(*state);
	free(*state);
	return 0;
}

/* Writes entry (i) of the hand-made table page (table) (0 = the PML4 at TABLES). */
static void set_entry(struct nub_mem *m, unsigned table, unsigned i, uint64_t e)
{
	assert_int_equal(nub_mem_write(m, TABLES + table * PAGE + i * 8u, &e, 8, NULL), NUB_OK);
}

static uint64_t table_gpa(unsigned table)
{
	return TABLES + table * PAGE;
}

static size_t walk(struct nub_mem *m, const struct nub_pagewalk_limits *lim, struct nub_vrange *out,
		   struct nub_pagewalk_stats *st)
{
	size_t n = 99;
	assert_int_equal(nub_pagewalk_ranges(m, TABLES, lim, out, &n, st, NULL), NUB_OK);
	return n;
}

static void assert_range(const struct nub_vrange *r, uint64_t gva, uint64_t gpa, uint64_t size,
			 uint32_t perms)
{
	assert_int_equal(r->gva, gva);
	assert_int_equal(r->gpa, gpa);
	assert_int_equal(r->size, size);
	assert_int_equal(r->perms, perms);
}

/* Tables the engine itself builds come back as exactly the maps they were built from. */
static void test_identity_tables(void **state)
{
	struct nub_mem *m = *state;
	const struct nub_page_map maps[] = {
		{ 0x4000, 0x2000, R | X },       { 0x6000, 0x1000, R },
		{ 0x8000, 0x3000, R | W },       { TABLES, 32 * PAGE, R | W },
		{ TOP - 0x3000, 0x2000, R | W },
	};
	uint64_t root;
	uint8_t *host = (uint8_t *)(uintptr_t)nub_mem_ptr(m, TABLES, 32 * PAGE);
	assert_non_null(host);
	assert_int_equal(nub_paging_build(host, TABLES, 32 * PAGE, maps, 5, &root, NULL), NUB_OK);

	struct nub_vrange out[16];
	struct nub_pagewalk_stats st;
	size_t n = 0;
	assert_int_equal(nub_pagewalk_ranges(m, root, NULL, out, &n, &st, NULL), NUB_OK);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < 5; i++)
		assert_range(&out[i], maps[i].gpa, maps[i].gpa, maps[i].size, maps[i].perms);
	assert_false(st.truncated);
	assert_int_equal(st.unbacked, 0);
	assert_int_equal(st.bytes, 0x2000 + 0x1000 + 0x3000 + 32 * PAGE + 0x2000);

	uint64_t gpa;
	uint32_t perms;
	assert_true(nub_pagewalk_translate(m, root, 0x8123, &gpa, &perms));
	assert_int_equal(gpa, 0x8123);
	assert_int_equal(perms, R | W);
	assert_true(nub_pagewalk_translate(m, root, TOP - 0x1001, &gpa, &perms));
	assert_int_equal(gpa, TOP - 0x1001);
	assert_false(nub_pagewalk_translate(m, root, 0x7000, &gpa, &perms));       /* the hole */
	assert_false(nub_pagewalk_translate(m, root, TOP - 0x1000, &gpa, &perms)); /* top page */
}

/*
 * Every PML4 entry points back at the PML4: each level reuses it, so it is mapped at 2^36
 * addresses. The walk stops at its limits, having said so, with only valid ranges.
 */
static void test_self_reference_is_bounded(void **state)
{
	struct nub_mem *m = *state;
	for (unsigned i = 0; i < 512; i++)
		set_entry(m, 0, i, table_gpa(0) | E_P | E_RW);

	static struct nub_vrange out[NUB_PAGEWALK_DEFAULT_RANGES];
	struct nub_pagewalk_stats st;
	size_t n = walk(m, NULL, out, &st);
	assert_true(st.truncated);
	assert_int_equal(n, NUB_PAGEWALK_DEFAULT_RANGES);
	for (size_t i = 0; i < n; i++)
		assert_range(&out[i], i * PAGE, table_gpa(0), PAGE, R | W | X);

	struct nub_pagewalk_limits lim = { .max_entries = 5000 };
	n = walk(m, &lim, out, &st);
	assert_true(st.truncated);
	assert_true(st.entries <= 5000);
	assert_int_equal(st.entries, 9 * 512); /* PML4, PDPT, PD, then 6 PTs before a 10th */
	assert_int_equal(n, 6 * 512);
}

/* Tables and pages outside guest memory are skipped; a large page over a region's end is clipped. */
static void test_unbacked_and_clipped(void **state)
{
	struct nub_mem *m = *state;
	set_entry(m, 0, 0, 0x100000000ull | E_P | E_RW);       /* a PDPT outside guest memory */
	set_entry(m, 0, 1, table_gpa(1) | E_P | E_RW);         /* 512 GiB .. */
	set_entry(m, 1, 0, 0x0ull | E_P | E_RW | E_PS);        /* 1 GiB page over [0, 1 GiB) */
	set_entry(m, 1, 2, 0x80000000ull | E_P | E_RW | E_PS); /* 1 GiB page, no memory at all */

	struct nub_vrange out[8];
	struct nub_pagewalk_stats st;
	size_t n = walk(m, NULL, out, &st);
	assert_int_equal(n, 1);
	assert_range(&out[0], (1ull << 39) + 0x4000, 0x4000, PRIMARY_SIZE, R | W | X);
	assert_int_equal(st.unbacked, 2);
	assert_false(st.truncated);

	uint64_t gpa;
	uint32_t perms;
	assert_false(nub_pagewalk_translate(m, TABLES, 0x1000, &gpa, &perms));
	assert_true(nub_pagewalk_translate(m, TABLES, (1ull << 39) + 0x4000, &gpa, &perms));
	assert_int_equal(gpa, 0x4000);
	assert_false(nub_pagewalk_translate(m, TABLES, (1ull << 39) + 0x3FFF, &gpa, &perms));
}

/* Entries the CPU would fault on are not mappings. */
static void test_reserved_bits(void **state)
{
	struct nub_mem *m = *state;
	set_entry(m, 0, 0, table_gpa(1) | E_P | E_RW | E_PS); /* PS in a PML4E */
	set_entry(m, 0, 1, table_gpa(1) | E_P | E_RW);
	set_entry(m, 1, 0, table_gpa(2) | E_P | E_RW);
	set_entry(m, 2, 0, 0x202000ull | E_P | E_RW | E_PS); /* 2 MiB page with frame bit 13 set */
	set_entry(m, 2, 1, 0x201000ull | E_P | E_RW | E_PS); /* bit 12 is PAT: a valid 2 MiB page */

	struct nub_vrange out[8];
	struct nub_pagewalk_stats st;
	size_t n = walk(m, NULL, out, &st);
	assert_int_equal(st.reserved, 2);
	assert_int_equal(n, 1);
	assert_range(&out[0], (1ull << 39) + (2ull << 20), 0x200000, 2ull << 20, R | W | X);

	uint64_t gpa;
	uint32_t perms;
	assert_false(nub_pagewalk_translate(m, TABLES, 0x0, &gpa, &perms));
	assert_false(nub_pagewalk_translate(m, TABLES, (1ull << 39) + 0x10, &gpa, &perms));
	assert_true(nub_pagewalk_translate(m, TABLES, (1ull << 39) + (2ull << 20) + 0x10, &gpa,
					   &perms));
	assert_int_equal(gpa, 0x200010);
}

/* PML4 slot 511 maps the top of the canonical upper half; non-canonical addresses never translate. */
static void test_upper_half_and_canonical(void **state)
{
	struct nub_mem *m = *state;
	set_entry(m, 0, 511, table_gpa(1) | E_P | E_RW);
	set_entry(m, 1, 511, table_gpa(2) | E_P | E_RW);
	set_entry(m, 2, 511, table_gpa(3) | E_P | E_RW);
	set_entry(m, 3, 511, 0x5000ull | E_P);

	struct nub_vrange out[4];
	struct nub_pagewalk_stats st;
	size_t n = walk(m, NULL, out, &st);
	assert_int_equal(n, 1);
	assert_range(&out[0], 0xFFFFFFFFFFFFF000ull, 0x5000, PAGE, R | X);

	uint64_t gpa;
	uint32_t perms;
	assert_true(nub_pagewalk_translate(m, TABLES, 0xFFFFFFFFFFFFF123ull, &gpa, &perms));
	assert_int_equal(gpa, 0x5123);
	assert_int_equal(perms, R | X);
	assert_false(nub_pagewalk_translate(m, TABLES, 0x00007FFFFFFFF123ull | 1ull << 47, &gpa,
					    &perms));
	assert_false(nub_pagewalk_translate(m, TABLES, 0x0000FFFFFFFFF123ull, &gpa, &perms));
}

/* Writable only if every level says so; NX anywhere removes execute. */
static void test_permissions_combine(void **state)
{
	struct nub_mem *m = *state;
	set_entry(m, 0, 0, table_gpa(1) | E_P | E_RW);
	set_entry(m, 1, 0, table_gpa(2) | E_P | E_NX | E_RW); /* NX for the whole first GiB */
	set_entry(m, 2, 0, table_gpa(3) | E_P);               /* read-only for the first 2 MiB */
	set_entry(m, 3, 4, 0x4000ull | E_P | E_RW);
	set_entry(m, 3, 5, 0x5000ull | E_P | E_RW);          /* merges with the previous page */
	set_entry(m, 3, 7, 0x8000ull | E_P | E_RW);          /* virtual gap: a new range */
	set_entry(m, 3, 8, 0xA000ull | E_P | E_RW);          /* physical gap: a new range */
	set_entry(m, 2, 1, 0x400000ull | E_P | E_RW | E_PS); /* 2 MiB page, clipped at 0x404000 */

	struct nub_vrange out[8];
	struct nub_pagewalk_stats st;
	size_t n = walk(m, NULL, out, &st);
	assert_int_equal(n, 4);
	assert_range(&out[0], 0x4000, 0x4000, 2 * PAGE, R);
	assert_range(&out[1], 0x7000, 0x8000, PAGE, R);
	assert_range(&out[2], 0x8000, 0xA000, PAGE, R);
	assert_range(&out[3], 0x200000, 0x400000, 0x4000, R | W);
}

/* max_ranges and max_bytes cut the walk at exactly the limit. */
static void test_limits(void **state)
{
	struct nub_mem *m = *state;
	set_entry(m, 0, 0, table_gpa(1) | E_P | E_RW);
	set_entry(m, 1, 0, table_gpa(2) | E_P | E_RW);
	set_entry(m, 2, 0, table_gpa(3) | E_P | E_RW);
	set_entry(m, 3, 4, 0x4000ull | E_P);
	set_entry(m, 3, 6, 0x6000ull | E_P);
	set_entry(m, 3, 8, 0x8000ull | E_P);

	struct nub_vrange out[3];
	struct nub_pagewalk_stats st;
	struct nub_pagewalk_limits lim = { .max_ranges = 2 };
	size_t n = walk(m, &lim, out, &st);
	assert_int_equal(n, 2);
	assert_true(st.truncated);

	lim = (struct nub_pagewalk_limits){ .max_ranges = 3, .max_bytes = 0x1800 };
	n = walk(m, &lim, out, &st);
	assert_int_equal(n, 2);
	assert_true(st.truncated);
	assert_int_equal(st.bytes, 0x1800);
	assert_range(&out[1], 0x6000, 0x6000, 0x800, R | X);

	lim = (struct nub_pagewalk_limits){ .max_ranges = 3, .max_bytes = 0x3000 };
	n = walk(m, &lim, out, &st);
	assert_int_equal(n, 3);
	assert_false(st.truncated); /* exactly enough */
}

/* A root outside guest memory, an empty PML4, NULL arguments. */
static void test_degenerate(void **state)
{
	struct nub_mem *m = *state;
	struct nub_vrange out[2];
	struct nub_pagewalk_stats st;
	struct nub_error err;
	size_t n = 7;

	assert_int_equal(nub_pagewalk_ranges(m, 0x0, NULL, out, &n, &st, NULL), NUB_OK);
	assert_int_equal(n, 0);
	assert_int_equal(st.unbacked, 1);
	assert_int_equal(nub_pagewalk_ranges(m, TABLES | 0xFFF, NULL, out, &n, &st, NULL), NUB_OK);
	assert_int_equal(n, 0);
	assert_int_equal(st.entries, 512);

	assert_int_equal(nub_pagewalk_ranges(NULL, TABLES, NULL, out, &n, &st, &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "mem is NULL");
	assert_int_equal(nub_pagewalk_ranges(m, TABLES, NULL, out, &n, NULL, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "stats is NULL");

	uint64_t gpa;
	uint32_t perms;
	assert_false(nub_pagewalk_translate(m, 0x0, 0x4000, &gpa, &perms));
	assert_false(nub_pagewalk_translate(m, TABLES, 0x4000, &gpa, &perms));
}

static const struct CMUnitTest tests[] = {
	NUB_TEST_CASE(test_identity_tables),
	NUB_TEST_CASE(test_self_reference_is_bounded),
	NUB_TEST_CASE(test_unbacked_and_clipped),
	NUB_TEST_CASE(test_reserved_bits),
	NUB_TEST_CASE(test_upper_half_and_canonical),
	NUB_TEST_CASE(test_permissions_combine),
	NUB_TEST_CASE(test_limits),
	NUB_TEST_CASE(test_degenerate),
};

NUB_TEST_SUITE(tests);
