/* SPDX-License-Identifier: Apache-2.0 */
/* Page tables: permissions at boundaries, every refusal, exhaustion, hostile entries. */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#include "bytes.h"
#include "nub/x86.h"
#include "paging.h"

#define PAGE X86_PAGE_SIZE
#define TABLES_GPA 0x200000ull /* the tables' own map crosses the first 2 MiB boundary */
#define TABLES_PAGES 32u
#define TABLES_SIZE (TABLES_PAGES * PAGE)
#define TOP NUB_GPA_TOP

#define R NUB_MEM_READ
#define W NUB_MEM_WRITE
#define X NUB_MEM_EXECUTE

/*
 * PML4 (page 0), PDPT (1), PD for 0..1 GiB (2), PT for 0..2 MiB (3), PT for 2..4 MiB (4),
 * PD for the top GiB (5), PT for the top 2 MiB (6): 7 pages in all.
 */
static const struct nub_page_map maps[] = {
	{ 0x4000, 0x2000, R | X },          /* code */
	{ 0x6000, 0x1000, R },              /* rodata; 0x7000 stays unmapped */
	{ 0x8000, 0x3000, R | W },          /* data */
	{ TABLES_GPA, TABLES_SIZE, R | W }, /* the tables themselves */
	{ TOP - 0x3000, 0x2000, R | W },    /* near the top; the last page stays unmapped */
};
#define NMAPS (sizeof maps / sizeof maps[0])
#define PAGES_NEEDED 7u

struct fixture {
	uint8_t *t;
	uint64_t root;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	/*
	 * One decoy page follows the area: a walker that strays past the end finds 1 GiB leaves
	 * there and reports a mapping where there is none.
	 */
	f->t = aligned_alloc(PAGE, TABLES_SIZE + PAGE);
	if (!f->t)
		return -1;
	memset(f->t, 0, TABLES_SIZE);
	for (unsigned i = 0; i < PAGE / 8; i++)
		nub_put_le64(f->t + TABLES_SIZE + i * 8u,
			     0x40000000ull | X86_PTE_P | X86_PTE_RW | X86_PTE_PS);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	free(f->t);
	free(f);
	return 0;
}

static void build_all(struct fixture *f)
{
	struct nub_error err;
	assert_int_equal(nub_paging_build(f->t, TABLES_GPA, TABLES_SIZE, maps, NMAPS, &f->root,
					  &err),
			 NUB_OK);
	assert_int_equal(f->root, TABLES_GPA);
}

static uint64_t entry(struct fixture *f, unsigned page, unsigned index)
{
	return nub_le64(f->t + page * PAGE + index * 8u);
}

static void set_entry(struct fixture *f, unsigned page, unsigned index, uint64_t v)
{
	nub_put_le64(f->t + page * PAGE + index * 8u, v);
}

/* Asserts that (gva) translates to itself with (perms), or is unmapped when perms is 0. */
#define assert_maps(f, gva, perms_)                                                                \
	do {                                                                                       \
		uint64_t gpa_ = 0xdead;                                                            \
		uint32_t p_ = 0xdead;                                                              \
		bool ok_ = nub_paging_translate((f)->t, TABLES_GPA, TABLES_SIZE, (f)->root, (gva), \
						&gpa_, &p_);                                       \
		if ((perms_) == 0) {                                                               \
			assert_false(ok_);                                                         \
		} else {                                                                           \
			assert_true(ok_);                                                          \
			assert_int_equal(gpa_, (gva));                                             \
			assert_int_equal(p_, (perms_));                                            \
		}                                                                                  \
	} while (0)

/* Builds (map) alone into fresh tables and asserts the status and message. */
#define assert_build_fails(f, map_list, n, st, needle)                                             \
	do {                                                                                       \
		struct nub_error err_;                                                             \
		uint64_t root_ = 0;                                                                \
		memset((f)->t, 0, TABLES_SIZE);                                                    \
		assert_int_equal(nub_paging_build((f)->t, TABLES_GPA, TABLES_SIZE, (map_list),     \
						  (n), &root_, &err_),                             \
				 (st));                                                            \
		nub_assert_error(&err_, (st), (needle));                                           \
	} while (0)

static void test_translate_boundaries(void **state)
{
	struct fixture *f = *state;
	build_all(f);

	/* The NULL guard: nothing below NUB_PRIMARY_BASE. */
	assert_maps(f, 0, 0);
	assert_maps(f, 0x1000, 0);
	assert_maps(f, 0x3FFF, 0);

	assert_maps(f, 0x4000, R | X);
	assert_maps(f, 0x4123, R | X);
	assert_maps(f, 0x5FFF, R | X);
	assert_maps(f, 0x6000, R);
	assert_maps(f, 0x6FFF, R);
	assert_maps(f, 0x7000, 0);
	assert_maps(f, 0x7FFF, 0);
	assert_maps(f, 0x8000, R | W);
	assert_maps(f, 0xAFFF, R | W);
	assert_maps(f, 0xB000, 0);

	assert_maps(f, TABLES_GPA - 1, 0);
	assert_maps(f, TABLES_GPA, R | W);
	assert_maps(f, TABLES_GPA + TABLES_SIZE - 1, R | W);
	assert_maps(f, TABLES_GPA + TABLES_SIZE, 0);

	assert_maps(f, TOP - 0x3001, 0);
	assert_maps(f, TOP - 0x3000, R | W);
	assert_maps(f, TOP - 0x1001, R | W);
	assert_maps(f, TOP - 0x1000, 0);
	assert_maps(f, TOP - 1, 0);
	assert_maps(f, TOP, 0);
	assert_maps(f, TOP + 0x4000, 0);

	/* Non-canonical and high-half addresses. */
	assert_maps(f, 0x0000800000000000ull, 0);
	assert_maps(f, 0xFFFF800000004000ull, 0);
	assert_maps(f, 0xFFFFFFFFFFFFF000ull, 0);
	assert_maps(f, 0x8000000000004000ull, 0);
}

static void test_entry_bits(void **state)
{
	struct fixture *f = *state;
	build_all(f);

	const uint64_t table = X86_PTE_P | X86_PTE_RW | X86_PTE_A;
	assert_int_equal(entry(f, 0, 0), (TABLES_GPA + 1 * PAGE) | table); /* PML4[0] -> PDPT */
	assert_int_equal(entry(f, 0, 1), 0);
	assert_int_equal(entry(f, 1, 0), (TABLES_GPA + 2 * PAGE) | table);  /* PDPT[0] -> PD */
	assert_int_equal(entry(f, 1, 63), (TABLES_GPA + 5 * PAGE) | table); /* top GiB */
	assert_int_equal(entry(f, 2, 0), (TABLES_GPA + 3 * PAGE) | table);  /* PD[0] -> PT */
	assert_int_equal(entry(f, 2, 1), (TABLES_GPA + 4 * PAGE) | table);  /* PD[1] -> PT */
	assert_int_equal(entry(f, 5, 511), (TABLES_GPA + 6 * PAGE) | table);

	const uint64_t leaf = X86_PTE_P | X86_PTE_A | X86_PTE_D;
	assert_int_equal(entry(f, 3, 3), 0);
	assert_int_equal(entry(f, 3, 4), 0x4000 | leaf);
	assert_int_equal(entry(f, 3, 5), 0x5000 | leaf);
	assert_int_equal(entry(f, 3, 6), 0x6000 | leaf | X86_PTE_NX);
	assert_int_equal(entry(f, 3, 7), 0);
	assert_int_equal(entry(f, 3, 8), 0x8000 | leaf | X86_PTE_RW | X86_PTE_NX);
	assert_int_equal(entry(f, 4, 0), TABLES_GPA | leaf | X86_PTE_RW | X86_PTE_NX);
	assert_int_equal(entry(f, 6, 509), (TOP - 0x3000) | leaf | X86_PTE_RW | X86_PTE_NX);
	assert_int_equal(entry(f, 6, 511), 0);

	/* Nothing beyond the pages in use was touched. */
	for (size_t i = PAGES_NEEDED * PAGE; i < TABLES_SIZE; i++)
		assert_int_equal(f->t[i], 0);
}

static void test_no_maps(void **state)
{
	struct fixture *f = *state;
	struct nub_error err;
	assert_int_equal(nub_paging_build(f->t, TABLES_GPA, PAGE, NULL, 0, &f->root, &err), NUB_OK);
	assert_int_equal(f->root, TABLES_GPA);
	assert_maps(f, 0x4000, 0);
}

static void test_exact_table_budget(void **state)
{
	struct fixture *f = *state;
	struct nub_error err;
	uint64_t root;
	assert_int_equal(nub_paging_build(f->t, TABLES_GPA, PAGES_NEEDED * PAGE, maps, NMAPS, &root,
					  &err),
			 NUB_OK);
	memset(f->t, 0, TABLES_SIZE);
	assert_int_equal(nub_paging_build(f->t, TABLES_GPA, (PAGES_NEEDED - 1) * PAGE, maps, NMAPS,
					  &root, &err),
			 NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT, "page tables need more than 6 pages");
	/* Pages past the budget are never written. */
	for (size_t i = (PAGES_NEEDED - 1) * PAGE; i < TABLES_SIZE; i++)
		assert_int_equal(f->t[i], 0);
	/* One page holds only the root. */
	memset(f->t, 0, TABLES_SIZE);
	assert_int_equal(nub_paging_build(f->t, TABLES_GPA, PAGE, maps, 1, &root, &err),
			 NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT, "page tables need more than 1 pages");
	assert_int_equal(nub_paging_build(f->t, TABLES_GPA, 0, maps, 1, &root, &err), NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT, "page tables need more than 0 pages");
}

static void test_large_map(void **state)
{
	struct fixture *f = *state;
	/* 64 MiB from 0x4000: 33 PTs + PD + PDPT + PML4 = 36 pages; 32 are not enough. */
	const struct nub_page_map big = { 0x4000, 64ull << 20, R };
	assert_build_fails(f, &big, 1, NUB_E_LAYOUT, "page tables need more than 32 pages");
	/* Up to 56 MiB: 28 PTs + 3 = 31 pages. */
	const struct nub_page_map fits = { 0x4000, (56ull << 20) - 0x4000, R };
	struct nub_error err;
	memset(f->t, 0, TABLES_SIZE);
	assert_int_equal(nub_paging_build(f->t, TABLES_GPA, TABLES_SIZE, &fits, 1, &f->root, &err),
			 NUB_OK);
	assert_maps(f, 0x3FFF, 0);
	assert_maps(f, 0x4000, R);
	assert_maps(f, 0x1FFFFF, R);
	assert_maps(f, 0x200000, R);
	assert_maps(f, (56ull << 20) - 1, R);
	assert_maps(f, 56ull << 20, 0);
	for (size_t i = 31 * PAGE; i < TABLES_SIZE; i++)
		assert_int_equal(f->t[i], 0);
}

static void test_bad_maps(void **state)
{
	struct fixture *f = *state;
	struct nub_page_map m;

	m = (struct nub_page_map){ 0x4001, 0x1000, R };
	assert_build_fails(f, &m, 1, NUB_E_INVALID, "maps[0]: gpa 0x4001 is not page-aligned");
	m = (struct nub_page_map){ 0x4000, 0x1001, R };
	assert_build_fails(f, &m, 1, NUB_E_INVALID, "maps[0]: size 0x1001 is not page-aligned");
	m = (struct nub_page_map){ 0x4000, 0x800, R };
	assert_build_fails(f, &m, 1, NUB_E_INVALID, "maps[0]: size 0x800 is not page-aligned");
	m = (struct nub_page_map){ 0x4000, 0, R };
	assert_build_fails(f, &m, 1, NUB_E_INVALID, "maps[0]: size 0");
	m = (struct nub_page_map){ 0xFFFFFFFFFFFFF000ull, 0x2000, R };
	assert_build_fails(f, &m, 1, NUB_E_INVALID,
			   "maps[0]: gpa 0xfffffffffffff000 + size 0x2000 overflows");
	m = (struct nub_page_map){ TOP - 0x1000, 0x2000, R };
	assert_build_fails(
		f, &m, 1, NUB_E_INVALID,
		"maps[0]: gpa 0xffffff000 + size 0x2000 ends above the guest-physical top "
		"0x1000000000");
	m = (struct nub_page_map){ TOP, 0x1000, R };
	assert_build_fails(f, &m, 1, NUB_E_INVALID, "ends above the guest-physical top");
	m = (struct nub_page_map){ 0x4000, 0x1000, W };
	assert_build_fails(f, &m, 1, NUB_E_INVALID, "maps[0]: perms 0x2 is not readable");
	m = (struct nub_page_map){ 0x4000, 0x1000, X };
	assert_build_fails(f, &m, 1, NUB_E_INVALID, "maps[0]: perms 0x4 is not readable");
	m = (struct nub_page_map){ 0x4000, 0x1000, 0 };
	assert_build_fails(f, &m, 1, NUB_E_INVALID, "maps[0]: perms 0x0 is not readable");
	m = (struct nub_page_map){ 0x4000, 0x1000, R | W | X };
	assert_build_fails(f, &m, 1, NUB_E_INVALID,
			   "maps[0]: perms 0x7 are both writable and executable");
	m = (struct nub_page_map){ 0x4000, 0x1000, R | 8 };
	assert_build_fails(f, &m, 1, NUB_E_INVALID, "maps[0]: perms 0x9 has unknown bits");

	/* The index names the bad map, not the first one. */
	const struct nub_page_map two[] = { { 0x4000, 0x1000, R }, { 0x8000, 0x1000, W | X } };
	assert_build_fails(f, two, 2, NUB_E_INVALID, "maps[1]: perms 0x6 is not readable");
}

static void test_overlaps(void **state)
{
	struct fixture *f = *state;
	const struct nub_page_map inside[] = { { 0x4000, 0x2000, R | X }, { 0x5000, 0x1000, R } };
	assert_build_fails(f, inside, 2, NUB_E_INVALID,
			   "maps[1] [0x5000, 0x6000) overlaps maps[0] at page 0x5000");
	const struct nub_page_map same[] = { { 0x4000, 0x1000, R }, { 0x4000, 0x1000, R } };
	assert_build_fails(f, same, 2, NUB_E_INVALID,
			   "maps[1] [0x4000, 0x5000) overlaps maps[0] at page 0x4000");
	const struct nub_page_map tail[] = { { 0x4000, 0x1000, R },
					     { 0x8000, 0x2000, R | W },
					     { 0x9000, 0x3000, R } };
	assert_build_fails(f, tail, 3, NUB_E_INVALID,
			   "maps[2] [0x9000, 0xc000) overlaps maps[1] at page 0x9000");
	const struct nub_page_map around[] = { { 0x9000, 0x1000, R }, { 0x8000, 0x3000, R } };
	assert_build_fails(f, around, 2, NUB_E_INVALID,
			   "maps[1] [0x8000, 0xb000) overlaps maps[0] at page 0x9000");

	/* Adjacent maps are fine. */
	const struct nub_page_map adjacent[] = { { 0x4000, 0x1000, R | X }, { 0x5000, 0x1000, R } };
	struct nub_error err;
	memset(f->t, 0, TABLES_SIZE);
	assert_int_equal(nub_paging_build(f->t, TABLES_GPA, TABLES_SIZE, adjacent, 2, &f->root,
					  &err),
			 NUB_OK);
	assert_maps(f, 0x4FFF, R | X);
	assert_maps(f, 0x5000, R);
}

static void test_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct nub_error err;
	uint64_t root;
	assert_int_equal(nub_paging_build(NULL, TABLES_GPA, TABLES_SIZE, maps, 1, &root, &err),
			 NUB_E_INVALID);
	assert_int_equal(nub_paging_build(f->t, TABLES_GPA, TABLES_SIZE, maps, 1, NULL, &err),
			 NUB_E_INVALID);
	assert_int_equal(nub_paging_build(f->t, TABLES_GPA, TABLES_SIZE, NULL, 1, &root, &err),
			 NUB_E_INVALID);
	assert_int_equal(nub_paging_build(f->t, TABLES_GPA + 8, TABLES_SIZE, maps, 1, &root, &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID,
			 "page tables at 0x200008 size 0x20000 are not page-aligned");
	assert_int_equal(nub_paging_build(f->t, TABLES_GPA, TABLES_SIZE - 8, maps, 1, &root, &err),
			 NUB_E_INVALID);
	assert_int_equal(nub_paging_build(f->t, TOP - PAGE, 2 * PAGE, maps, 1, &root, &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "end above the guest-physical top");
	assert_int_equal(nub_paging_build(f->t, 0xFFFFFFFFFFFFF000ull, 2 * PAGE, maps, 1, &root,
					  &err),
			 NUB_E_INVALID);
	/* A NULL error pointer is allowed. */
	assert_int_equal(nub_paging_build(f->t, TABLES_GPA, 0, maps, 1, &root, NULL), NUB_E_LAYOUT);

	uint64_t gpa;
	uint32_t perms;
	build_all(f);
	assert_false(
		nub_paging_translate(NULL, TABLES_GPA, TABLES_SIZE, f->root, 0x4000, &gpa, &perms));
	assert_false(
		nub_paging_translate(f->t, TABLES_GPA, TABLES_SIZE, f->root, 0x4000, NULL, &perms));
	assert_false(
		nub_paging_translate(f->t, TABLES_GPA, TABLES_SIZE, f->root, 0x4000, &gpa, NULL));
	assert_false(
		nub_paging_translate(f->t, TABLES_GPA, PAGE - 1, f->root, 0x4000, &gpa, &perms));
	assert_false(nub_paging_translate(f->t, TABLES_GPA, 0, f->root, 0x4000, &gpa, &perms));
}

/* The guest can write its page tables: nothing it writes may send the walker outside them. */
static void test_hostile_entries(void **state)
{
	struct fixture *f = *state;
	uint64_t gpa;
	uint32_t perms;
	build_all(f);
	const uint64_t table = X86_PTE_P | X86_PTE_RW | X86_PTE_A;

	/* The root itself outside the area. */
	assert_false(nub_paging_translate(f->t, TABLES_GPA, TABLES_SIZE, TABLES_GPA + TABLES_SIZE,
					  0x4000, &gpa, &perms));
	assert_false(nub_paging_translate(f->t, TABLES_GPA, TABLES_SIZE, TABLES_GPA - PAGE, 0x4000,
					  &gpa, &perms));
	assert_false(nub_paging_translate(f->t, TABLES_GPA, TABLES_SIZE, 0, 0x4000, &gpa, &perms));

	/* PML4[0] just past the end, below the start, far away, with bits above MAXPHYADDR. */
	set_entry(f, 0, 0, (TABLES_GPA + TABLES_SIZE) | table);
	assert_maps(f, 0x4000, 0);
	set_entry(f, 0, 0, (TABLES_GPA - PAGE) | table);
	assert_maps(f, 0x4000, 0);
	set_entry(f, 0, 0, 0x000FFFFFFFFFF000ull | table);
	assert_maps(f, 0x4000, 0);
	set_entry(f, 0, 0, 0xFFFFFFFFFFFFFFFFull);
	assert_maps(f, 0x4000, 0);
	/* The last page of the area is a valid table address (all zero: not present). */
	set_entry(f, 0, 0, (TABLES_GPA + TABLES_SIZE - PAGE) | table);
	assert_maps(f, 0x4000, 0);
	set_entry(f, 0, 0, (TABLES_GPA + 1 * PAGE) | table);
	assert_maps(f, 0x4000, R | X);

	/* PDPT and PD entries pointing outside. */
	set_entry(f, 1, 0, 0x4000 | table);
	assert_maps(f, 0x4000, 0);
	set_entry(f, 1, 0, (TABLES_GPA + 2 * PAGE) | table);
	set_entry(f, 2, 0, (TABLES_GPA + 64 * PAGE) | table);
	assert_maps(f, 0x4000, 0);
	assert_maps(f, TABLES_GPA, R | W); /* PD[1] is intact */
	set_entry(f, 2, 0, (TABLES_GPA + 3 * PAGE) | table);
	assert_maps(f, 0x4000, R | X);

	/* A table that points at itself ends after four levels. */
	set_entry(f, 0, 0, TABLES_GPA | table);
	assert_maps(f, 0x4000, 0);
	set_entry(f, 0, 0, (TABLES_GPA + 1 * PAGE) | table);

	/* A leaf may point anywhere: it names data, not a table. */
	set_entry(f, 3, 4, 0xFFFFF000ull | X86_PTE_P);
	assert_true(
		nub_paging_translate(f->t, TABLES_GPA, TABLES_SIZE, f->root, 0x4ABC, &gpa, &perms));
	assert_int_equal(gpa, 0xFFFFFABCull);
	assert_int_equal(perms, R | X);
	/* Not present leaf. */
	set_entry(f, 3, 4, 0x4000 | X86_PTE_RW);
	assert_maps(f, 0x4000, 0);
}

static void test_permissions_combine_across_levels(void **state)
{
	struct fixture *f = *state;
	build_all(f);
	const uint64_t table = X86_PTE_P | X86_PTE_RW | X86_PTE_A;
	/* A read-only PD entry makes every data page below it read-only. */
	set_entry(f, 1, 0, (TABLES_GPA + 2 * PAGE) | X86_PTE_P);
	assert_maps(f, 0x8000, R);
	assert_maps(f, 0x4000, R | X);
	/* An NX PML4 entry makes the code non-executable. */
	set_entry(f, 1, 0, (TABLES_GPA + 2 * PAGE) | table);
	set_entry(f, 0, 0, (TABLES_GPA + 1 * PAGE) | table | X86_PTE_NX);
	assert_maps(f, 0x4000, R);
	assert_maps(f, 0x8000, R | W);
}

static void test_large_pages(void **state)
{
	struct fixture *f = *state;
	uint64_t gpa;
	uint32_t perms;
	build_all(f);

	/* A 2 MiB page in PD[0]; bit 12 of a large-page entry is PAT, not address. */
	set_entry(f, 2, 0, 0x40000000ull | 0x1000 | X86_PTE_P | X86_PTE_PS | X86_PTE_NX);
	assert_true(nub_paging_translate(f->t, TABLES_GPA, TABLES_SIZE, f->root, 0x123456, &gpa,
					 &perms));
	assert_int_equal(gpa, 0x40123456ull);
	assert_int_equal(perms, R);

	/* A 1 GiB page in PDPT[0]. */
	set_entry(f, 1, 0, 0x80000000ull | X86_PTE_P | X86_PTE_RW | X86_PTE_PS);
	assert_true(nub_paging_translate(f->t, TABLES_GPA, TABLES_SIZE, f->root, 0x3ABCDEF0, &gpa,
					 &perms));
	assert_int_equal(gpa, 0xBABCDEF0ull);
	assert_int_equal(perms, R | W | X);

	/* PS is reserved in a PML4 entry. */
	set_entry(f, 0, 0, (TABLES_GPA + 1 * PAGE) | X86_PTE_P | X86_PTE_RW | X86_PTE_PS);
	assert_maps(f, 0x4000, 0);
}

static const struct CMUnitTest tests[] = {
	NUB_TEST_CASE(test_translate_boundaries),
	NUB_TEST_CASE(test_entry_bits),
	NUB_TEST_CASE(test_no_maps),
	NUB_TEST_CASE(test_exact_table_budget),
	NUB_TEST_CASE(test_large_map),
	NUB_TEST_CASE(test_bad_maps),
	NUB_TEST_CASE(test_overlaps),
	NUB_TEST_CASE(test_bad_arguments),
	NUB_TEST_CASE(test_hostile_entries),
	NUB_TEST_CASE(test_permissions_combine_across_levels),
	NUB_TEST_CASE(test_large_pages),
};

NUB_TEST_SUITE(tests);
