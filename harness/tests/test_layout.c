/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the guest memory layout (layout.c): pinned vectors, invariants and overflow cases. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "layout.h"
#include "testlib.h"

#define TOP 0x1000000000ull /* NUB_GPA_TOP, 64 GiB */

static struct nub_layout compute_ok(const struct nub_layout_params *p)
{
	struct nub_layout l;
	struct nub_error err;

	memset(&l, 0xAA, sizeof l);
	assert_int_equal(nub_layout_compute(p, &l, &err), NUB_OK);
	return l;
}

/* ---- pinned vectors, computed by hand ---- */

/* The parameters of the three pinned layouts: defaults, unaligned sizes, the table fixed point. */
static const struct nub_layout_params vector_params[3] = {
	{ .image_end = 0x10000,
	  .heap_size = 0x20000,
	  .input_size = 0x4000,
	  .output_size = 0x4000,
	  .stack_size = 0x8000 },
	{ .image_end = 0x12345,
	  .heap_size = 0x1001,
	  .init_data_size = 0x1801,
	  .input_size = 0x2001,
	  .output_size = 0x2000,
	  .stack_size = 0x3fff },
	/*
	 * Crosses 2 MiB and 1 GiB boundaries so the table count feeds back on itself: before
	 * the tables, [0x4000, 0x40101000) needs 513 PT + 2 PD + 1 PDPT = 516; scratch
	 * [0xFFEEEA000, 2^36) needs 9 PT + 1 PD + 1 PDPT = 11; so 528 pages, ending at 0x40311000,
	 * which reaches PT index 0x201: 529 pages, ending at 0x40312000, still 517 + 11 + 1 = 529.
	 */
	{ .image_end = 0x200000,
	  .heap_size = 0x3FE00000,
	  .init_data_size = 0x100000,
	  .input_size = 0x1000000,
	  .output_size = 0x10000,
	  .stack_size = 0x100000 },
};

/* Every field of the three layouts, in the order of vector_params. */
#define FIELD(f) offsetof(struct nub_layout, f), #f
static const struct {
	size_t offset;
	const char *name;
	uint64_t want[3];
} vector_fields[] = {
	{ FIELD(image_end), { 0x10000, 0x12345, 0x200000 } },
	{ FIELD(boot_info_gpa), { 0x10000, 0x13000, 0x200000 } },
	{ FIELD(heap_gpa), { 0x11000, 0x14000, 0x201000 } },
	{ FIELD(heap_size), { 0x20000, 0x2000, 0x3FE00000 } },
	{ FIELD(init_data_gpa), { 0, 0x16000, 0x40001000 } },
	{ FIELD(init_data_size), { 0, 0x1801, 0x100000 } }, /* exact, but a 0x2000 slot */
	{ FIELD(page_tables_gpa), { 0x31000, 0x18000, 0x40101000 } },
	/* defaults: primary 1 PT + 1 PD + 1 PDPT; scratch the same; + root */
	{ FIELD(page_tables_size), { 7 * 0x1000, 7 * 0x1000, 529 * 0x1000 } },
	{ FIELD(primary_size), { 0x34000, 0x1B000, 0x4030E000 } },
	/* defaults: 0x4000 + 0x4000 + guard + 0x8000 + guard + 0x2000 + meta + top = 0x16000 */
	{ FIELD(scratch_size), { 0x16000, 0xF000, 0x1116000 } },
	{ FIELD(scratch_gpa), { 0xFFFFEA000, 0xFFFFF1000, 0xFFEEEA000 } },
	{ FIELD(input_gpa), { 0xFFFFEA000, 0xFFFFF1000, 0xFFEEEA000 } },
	{ FIELD(input_size), { 0x4000, 0x3000, 0x1000000 } },
	{ FIELD(output_gpa), { 0xFFFFEE000, 0xFFFFF4000, 0xFFFEEA000 } },
	{ FIELD(output_size), { 0x4000, 0x2000, 0x10000 } },
	{ FIELD(stack_guard_gpa), { 0xFFFFF2000, 0xFFFFF6000, 0xFFFEFA000 } },
	{ FIELD(stack_gpa), { 0xFFFFF3000, 0xFFFFF7000, 0xFFFEFB000 } },
	{ FIELD(stack_size), { 0x8000, 0x4000, 0x100000 } },
	{ FIELD(exception_guard_gpa), { 0xFFFFFB000, 0xFFFFFB000, 0xFFFFFB000 } },
	{ FIELD(exception_stack_gpa), { 0xFFFFFC000, 0xFFFFFC000, 0xFFFFFC000 } },
	{ FIELD(exception_stack_size), { 0x2000, 0x2000, 0x2000 } },
	{ FIELD(meta_gpa), { 0xFFFFFE000, 0xFFFFFE000, 0xFFFFFE000 } },
	{ FIELD(counter_gpa), { 0xFFFFFEFF8, 0xFFFFFEFF8, 0xFFFFFEFF8 } },
};
#undef FIELD

/* Computes pinned layout (v) and checks every field against vector_fields. */
static void check_vector(unsigned v)
{
	struct nub_layout l = compute_ok(&vector_params[v]);

	for (size_t i = 0; i < sizeof vector_fields / sizeof vector_fields[0]; i++) {
		uint64_t got;
		memcpy(&got, (const char *)&l + vector_fields[i].offset, sizeof got);
		if (got != vector_fields[i].want[v])
			fail_msg("layout.%s is 0x%llx, expected 0x%llx", vector_fields[i].name,
				 (unsigned long long)got,
				 (unsigned long long)vector_fields[i].want[v]);
	}
}

static void test_vector_defaults(void **state)
{
	(void)state;
	check_vector(0);
}

static void test_vector_unaligned(void **state)
{
	(void)state;
	check_vector(1);
}

static void test_vector_fixed_point(void **state)
{
	(void)state;
	check_vector(2);
}

/* ---- invariants over a spread of parameters ---- */

static void check_invariants(const struct nub_layout_params *p, const struct nub_layout *l)
{
	uint64_t end = NUB_PRIMARY_BASE + l->primary_size, init_slot;
	uint64_t need;

	assert_int_equal(l->boot_info_gpa % 0x1000, 0);
	assert_true(l->boot_info_gpa >= p->image_end && l->boot_info_gpa - p->image_end < 0x1000);
	assert_int_equal(l->heap_gpa, l->boot_info_gpa + 0x1000);
	assert_int_equal(l->heap_size % 0x1000, 0);
	assert_true(l->heap_size >= p->heap_size && l->heap_size - p->heap_size < 0x1000);
	init_slot = (l->init_data_size + 0xfff) & ~0xfffull;
	if (p->init_data_size) {
		assert_int_equal(l->init_data_gpa, l->heap_gpa + l->heap_size);
		assert_int_equal(l->init_data_size, p->init_data_size);
	} else {
		assert_int_equal(l->init_data_gpa, 0);
		assert_int_equal(l->init_data_size, 0);
	}
	assert_int_equal(l->page_tables_gpa, l->heap_gpa + l->heap_size + init_slot);
	assert_int_equal(l->page_tables_size % 0x1000, 0);
	assert_int_equal(end, l->page_tables_gpa + l->page_tables_size);
	assert_true(l->primary_size <= NUB_MAX_PRIMARY_SIZE);
	need = 1 + nub_layout_table_pages(NUB_PRIMARY_BASE, l->primary_size) +
	       nub_layout_table_pages(l->scratch_gpa, l->scratch_size);
	assert_true(l->page_tables_size / 0x1000 >= need);

	assert_int_equal(l->scratch_gpa + l->scratch_size, TOP);
	assert_true(l->scratch_size <= NUB_MAX_SCRATCH_SIZE);
	assert_true(l->scratch_gpa > end);
	assert_int_equal(l->input_gpa, l->scratch_gpa);
	assert_int_equal(l->output_gpa, l->input_gpa + l->input_size);
	assert_int_equal(l->stack_guard_gpa, l->output_gpa + l->output_size);
	assert_int_equal(l->stack_gpa, l->stack_guard_gpa + 0x1000);
	assert_int_equal(l->exception_guard_gpa, l->stack_gpa + l->stack_size);
	assert_int_equal(l->exception_stack_gpa, l->exception_guard_gpa + 0x1000);
	assert_int_equal(l->meta_gpa, l->exception_stack_gpa + l->exception_stack_size);
	assert_int_equal(l->meta_gpa + 0x2000, TOP); /* meta page, then the unused top page */
	assert_true(l->counter_gpa >= l->meta_gpa && l->counter_gpa + 8 <= l->meta_gpa + 0x1000);
}

static void test_invariants(void **state)
{
	static const uint64_t images[] = { 0x4001, 0x5000, 0x1FFFFF, 0x10000000 };
	static const uint64_t heaps[] = { 0, 1, 0x20000, 0x3FFFF001 };
	static const uint64_t inits[] = { 0, 1, 0x1000, 0x12345 };
	static const uint64_t ios[] = { 0x2000, 0x4001, 0x1000000 };
	struct nub_error err;

	(void)state;
	for (size_t a = 0; a < 4; a++)
		for (size_t b = 0; b < 4; b++)
			for (size_t c = 0; c < 4; c++)
				for (size_t d = 0; d < 3; d++) {
					struct nub_layout_params p = {
						.image_end = images[a],
						.heap_size = heaps[b],
						.init_data_size = inits[c],
						.input_size = ios[d],
						.output_size = ios[2 - d],
						.stack_size = ios[d],
					};
					struct nub_layout l;

					assert_int_equal(nub_layout_compute(&p, &l, &err), NUB_OK);
					check_invariants(&p, &l);
				}
}

/* ---- refused parameters ---- */

static void assert_refused(const struct nub_layout_params *p, const char *needle)
{
	struct nub_layout l, before;
	struct nub_error err;

	memset(&l, 0x5A, sizeof l);
	before = l;
	assert_int_equal(nub_layout_compute(p, &l, &err), NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT, needle);
	assert_memory_equal(&l, &before, sizeof l); /* nothing written on failure */
}

static struct nub_layout_params base_params(void)
{
	struct nub_layout_params p = { .image_end = 0x10000,
				       .heap_size = 0x20000,
				       .input_size = 0x4000,
				       .output_size = 0x4000,
				       .stack_size = 0x8000 };
	return p;
}

static void test_image_end_refused(void **state)
{
	struct nub_layout_params p = base_params();

	(void)state;
	p.image_end = 0x3FFF;
	assert_refused(&p, "layout.image_end 0x3fff is not above the primary base 0x4000");
	p.image_end = 0x4000;
	assert_refused(&p, "layout.image_end 0x4000 is not above the primary base 0x4000");
	p.image_end = 0;
	assert_refused(&p, "layout.image_end 0x0 is not above");
	p.image_end = UINT64_MAX;
	assert_refused(
		&p,
		"layout.image_end 0xffffffffffffffff exceeds the primary region maximum 0x80004000");
	p.image_end = 0x80004001;
	assert_refused(&p, "layout.image_end 0x80004001 exceeds");
	p.image_end = 0x80004000; /* the image alone fills the region: no room for the rest */
	assert_refused(&p,
		       "layout: primary region of 0x80021000 bytes exceeds the maximum 0x80000000");
}

static void test_huge_heap_and_init_data(void **state)
{
	struct nub_layout_params p = base_params();

	(void)state;
	p.heap_size = UINT64_MAX;
	assert_refused(&p,
		       "layout.heap_size 0xffffffffffffffff overflows when rounded up to a page");
	p.heap_size = UINT64_MAX - 0xFFF;
	assert_refused(&p, "layout.heap_size 0xfffffffffffff000 exceeds the maximum 0x80000000");
	p.heap_size = 0x80000001;
	assert_refused(&p, "layout.heap_size 0x80000001 exceeds the maximum 0x80000000");
	p.heap_size = 0x80000000; /* allowed alone, too much with the image */
	assert_refused(
		&p,
		"layout: primary region of 0x8000d000 bytes exceeds the maximum 0x80000000 (image_end 0x10000, heap_size 0x80000000, init_data_size 0x0)");

	p = base_params();
	p.init_data_size = UINT64_MAX - 1;
	assert_refused(&p, "layout.init_data_size 0xfffffffffffffffe overflows");
	p.init_data_size = 0x40000000;
	p.heap_size = 0x40000000;
	assert_refused(&p, "layout: primary region of");
}

/*
 * Everything before the tables fits the 2 GiB region, but the tables needed to map it do not.
 */
static void test_tables_push_primary_over(void **state)
{
	struct nub_layout_params p = base_params();
	struct nub_error err;
	struct nub_layout l;

	(void)state;
	p.image_end = 0x5000;
	p.heap_size = NUB_MAX_PRIMARY_SIZE - 0x3000; /* tables would start at 0x80003000 */
	assert_refused(&p, "layout: primary region of 0x80");

	/*
	 * Tables ending exactly at the limit 0x80004000: [0x4000, 0x80004000) needs 1025 PT + 3 PD +
	 * 1 PDPT, scratch 3, root 1 = 1033 pages, so the heap ends 1033 pages below it.
	 */
	p.heap_size = NUB_MAX_PRIMARY_SIZE - 0x2000 - 1033 * 0x1000;
	assert_int_equal(nub_layout_compute(&p, &l, &err), NUB_OK);
	assert_int_equal(l.page_tables_gpa, 0x80004000 - 1033 * 0x1000);
	assert_int_equal(l.page_tables_size, 1033 * 0x1000);
	assert_int_equal(l.primary_size, NUB_MAX_PRIMARY_SIZE);
	check_invariants(&p, &l);
	p.heap_size += 0x1000;
	assert_refused(&p, "layout: primary region of");
}

static void test_scratch_refused(void **state)
{
	struct nub_layout_params p = base_params();
	struct nub_layout l;
	struct nub_error err;

	(void)state;
	p.input_size = UINT64_MAX;
	assert_refused(&p,
		       "layout.input_size 0xffffffffffffffff overflows when rounded up to a page");
	p = base_params();
	p.output_size = UINT64_MAX - 0x7FF;
	assert_refused(&p, "layout.output_size 0xfffffffffffff800 overflows");
	p = base_params();
	p.stack_size = 0x40000001;
	assert_refused(&p, "layout.stack_size 0x40000001 exceeds the maximum 0x40000000");
	p = base_params();
	p.input_size = 0x20000000;
	p.output_size = 0x20000000;
	assert_refused(
		&p,
		"layout: scratch region exceeds the maximum 0x40000000 (input_size 0x20000000, output_size 0x20000000, stack_size 0x8000)");

	/* Exactly at the scratch limit: 0x40000000 - 4 fixed pages - exception stack - 2 pages. */
	p.input_size = 0x40000000 - 0x4000 - 0x2000 - 0x2000;
	p.output_size = 0x1000;
	p.stack_size = 0x1000;
	assert_int_equal(nub_layout_compute(&p, &l, &err), NUB_OK);
	assert_int_equal(l.scratch_size, NUB_MAX_SCRATCH_SIZE);
	assert_int_equal(l.scratch_gpa, TOP - NUB_MAX_SCRATCH_SIZE);
	check_invariants(&p, &l);
	p.stack_size = 0x1001;
	assert_refused(&p, "layout: scratch region exceeds");
}

static void test_null_arguments(void **state)
{
	struct nub_layout_params p = base_params();
	struct nub_layout l;
	struct nub_error err;

	(void)state;
	assert_int_equal(nub_layout_compute(NULL, &l, &err), NUB_E_INVALID);
	assert_int_equal(nub_layout_compute(&p, NULL, &err), NUB_E_INVALID);
	assert_int_equal(nub_layout_compute(&p, &l, NULL), NUB_OK);
	p.image_end = 0;
	assert_int_equal(nub_layout_compute(&p, &l, NULL), NUB_E_LAYOUT);
}

/* ---- nub_layout_table_pages ---- */

static void test_table_pages(void **state)
{
	(void)state;
	assert_int_equal(nub_layout_table_pages(0, 0), 0);
	assert_int_equal(nub_layout_table_pages(0x4000, 0), 0);
	assert_int_equal(nub_layout_table_pages(0, 1), 3);
	assert_int_equal(nub_layout_table_pages(0, 0x1000), 3);
	assert_int_equal(nub_layout_table_pages(0x4000, 0x1FC000), 3);     /* up to 2 MiB exactly */
	assert_int_equal(nub_layout_table_pages(0x4000, 0x1FC001), 4);     /* one byte over */
	assert_int_equal(nub_layout_table_pages(0x1FF000, 0x2000), 4);     /* straddles 2 MiB */
	assert_int_equal(nub_layout_table_pages(0x3FFFF000, 0x2000), 5);   /* straddles 1 GiB */
	assert_int_equal(nub_layout_table_pages(0x7FFFFFF000, 0x2000), 6); /* straddles 512 GiB */
	assert_int_equal(nub_layout_table_pages(0, 0x40000000), 512 + 1 + 1);
	assert_int_equal(nub_layout_table_pages(0x1000, 0x40000000), 513 + 2 + 1);
	assert_int_equal(nub_layout_table_pages(0xFFFFEA000, 0x16000), 3);
	assert_int_equal(nub_layout_table_pages(0xFFEEEA000, 0x1116000), 9 + 1 + 1);
	assert_int_equal(nub_layout_table_pages(0, TOP), 0x8000 + 64 + 1);
	/* Ranges reaching the top of the address space are clamped, never wrapped. */
	assert_int_equal(nub_layout_table_pages(UINT64_MAX - 0xFFF, 0x1000), 3);
	assert_int_equal(nub_layout_table_pages(UINT64_MAX, 2), 3);
	assert_int_equal(nub_layout_table_pages(0, UINT64_MAX),
			 (1ull << 43) + (1ull << 34) + (1ull << 25));
	assert_int_equal(nub_layout_table_pages(UINT64_MAX, UINT64_MAX), 3);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_vector_defaults),
	cmocka_unit_test(test_vector_unaligned),
	cmocka_unit_test(test_vector_fixed_point),
	cmocka_unit_test(test_invariants),
	cmocka_unit_test(test_image_end_refused),
	cmocka_unit_test(test_huge_heap_and_init_data),
	cmocka_unit_test(test_tables_push_primary_over),
	cmocka_unit_test(test_scratch_refused),
	cmocka_unit_test(test_null_arguments),
	cmocka_unit_test(test_table_pages),
};

NUB_TEST_SUITE(tests);
