/* SPDX-License-Identifier: Apache-2.0 */
/* Pure arithmetic of the guest memory layout; every formula is overflow-checked. */
#include "layout.h"

#include <inttypes.h>
#include <string.h>

#include "bytes.h"
#include "error.h"

/* The counter (8 bytes at top - NUB_COUNTER_TOP_OFFSET) must sit inside the metadata page. */
_Static_assert(NUB_COUNTER_TOP_OFFSET >= NUB_PAGE_SIZE + 8 &&
		       NUB_COUNTER_TOP_OFFSET <= 2 * NUB_PAGE_SIZE,
	       "the counter lies in the metadata page, below the unused top page");
_Static_assert(NUB_PRIMARY_BASE + NUB_MAX_PRIMARY_SIZE < NUB_GPA_TOP - NUB_MAX_SCRATCH_SIZE,
	       "the primary and scratch regions can never overlap");

/* Scratch pages besides the buffers and the stack: stack guard, exception guard, meta, top. */
#define SCRATCH_FIXED_PAGES 4u

size_t nub_layout_guards(const struct nub_layout *l, uint64_t out[NUB_LAYOUT_GUARDS])
{
	out[0] = l->stack_guard_gpa;
	out[1] = l->exception_guard_gpa;
	out[2] = l->scratch_gpa + l->scratch_size - NUB_PAGE_SIZE; /* the unused top page */
	return NUB_LAYOUT_GUARDS;
}

uint64_t nub_layout_table_pages(uint64_t gpa, uint64_t size)
{
	uint64_t last;

	if (size == 0)
		return 0;
	/* A range running past 2^64 is clamped: the bound stays an upper bound. */
	if (__builtin_add_overflow(gpa, size - 1, &last))
		last = UINT64_MAX;
	return ((last >> 21) - (gpa >> 21) + 1) + /* page tables, 2 MiB each */
	       ((last >> 30) - (gpa >> 30) + 1) + /* page directories, 1 GiB each */
	       ((last >> 39) - (gpa >> 39) + 1);  /* PDPTs, 512 GiB each */
}

/* Rounds layout.(field) up to a page and caps it at (max). */
static enum nub_status round_size(const char *field, uint64_t value, uint64_t max, uint64_t *out,
				  struct nub_error *err)
{
	if (!nub_align_up(value, NUB_PAGE_SIZE, out))
		return nub_error_set(err, NUB_E_LAYOUT,
				     "layout.%s 0x%" PRIx64 " overflows when rounded up to a page",
				     field, value);
	if (*out > max)
		return nub_error_set(err, NUB_E_LAYOUT,
				     "layout.%s 0x%" PRIx64 " exceeds the maximum 0x%" PRIx64,
				     field, value, max);
	return NUB_OK;
}

/* (a) + (b) into *(r); false on overflow. Sums below are bounded by the caps, this is a backstop. */
static _Bool add(uint64_t a, uint64_t b, uint64_t *r)
{
	return !__builtin_add_overflow(a, b, r);
}

static enum nub_status primary_too_large(const struct nub_layout_params *p, uint64_t size,
					 struct nub_error *err)
{
	return nub_error_set(err, NUB_E_LAYOUT,
			     "layout: primary region of 0x%" PRIx64
			     " bytes exceeds the maximum 0x%llx (image_end 0x%" PRIx64
			     ", heap_size 0x%" PRIx64 ", init_data_size 0x%" PRIx64 ")",
			     size, NUB_MAX_PRIMARY_SIZE, p->image_end, p->heap_size,
			     p->init_data_size);
}

static enum nub_status scratch_region(const struct nub_layout_params *p, struct nub_layout *l,
				      struct nub_error *err)
{
	uint64_t sum, fixed = SCRATCH_FIXED_PAGES * NUB_PAGE_SIZE + NUB_EXCEPTION_STACK_SIZE;
	enum nub_status st;

	st = round_size("input_size", p->input_size, NUB_MAX_SCRATCH_SIZE, &l->input_size, err);
	if (!st)
		st = round_size("output_size", p->output_size, NUB_MAX_SCRATCH_SIZE,
				&l->output_size, err);
	if (!st)
		st = round_size("stack_size", p->stack_size, NUB_MAX_SCRATCH_SIZE, &l->stack_size,
				err);
	if (st)
		return st;
	if (!add(l->input_size, l->output_size, &sum) || !add(sum, l->stack_size, &sum) ||
	    !add(sum, fixed, &sum) || sum > NUB_MAX_SCRATCH_SIZE)
		return nub_error_set(
			err, NUB_E_LAYOUT,
			"layout: scratch region exceeds the maximum 0x%llx (input_size 0x%" PRIx64
			", output_size 0x%" PRIx64 ", stack_size 0x%" PRIx64 ")",
			NUB_MAX_SCRATCH_SIZE, p->input_size, p->output_size, p->stack_size);

	/* Bottom up; sum <= NUB_MAX_SCRATCH_SIZE, so nothing below can wrap. */
	l->scratch_size = sum;
	l->scratch_gpa = NUB_GPA_TOP - sum;
	l->input_gpa = l->scratch_gpa;
	l->output_gpa = l->input_gpa + l->input_size;
	l->stack_guard_gpa = l->output_gpa + l->output_size;
	l->stack_gpa = l->stack_guard_gpa + NUB_PAGE_SIZE;
	l->exception_guard_gpa = l->stack_gpa + l->stack_size;
	l->exception_stack_gpa = l->exception_guard_gpa + NUB_PAGE_SIZE;
	l->exception_stack_size = NUB_EXCEPTION_STACK_SIZE;
	l->meta_gpa = l->exception_stack_gpa + NUB_EXCEPTION_STACK_SIZE;
	l->counter_gpa = l->scratch_gpa + l->scratch_size - NUB_COUNTER_TOP_OFFSET;
	return NUB_OK;
}

/*
 * The tables map the whole primary region, themselves included, so their size feeds back into
 * what they must map: grow from a lower bound until the count covers the region it ends.
 */
static enum nub_status page_tables(const struct nub_layout_params *p, struct nub_layout *l,
				   struct nub_error *err)
{
	uint64_t scratch_tables = nub_layout_table_pages(l->scratch_gpa, l->scratch_size);
	uint64_t pages = 1 + scratch_tables +
			 nub_layout_table_pages(NUB_PRIMARY_BASE,
						l->page_tables_gpa - NUB_PRIMARY_BASE);
	uint64_t bytes, end, need;

	for (;;) {
		if (__builtin_mul_overflow(pages, (uint64_t)NUB_PAGE_SIZE, &bytes) ||
		    !add(l->page_tables_gpa, bytes, &end))
			return primary_too_large(p, UINT64_MAX, err);
		if (end - NUB_PRIMARY_BASE > NUB_MAX_PRIMARY_SIZE)
			return primary_too_large(p, end - NUB_PRIMARY_BASE, err);
		need = 1 + scratch_tables +
		       nub_layout_table_pages(NUB_PRIMARY_BASE, end - NUB_PRIMARY_BASE);
		if (need <= pages)
			break;
		pages = need;
	}
	l->page_tables_size = bytes;
	l->primary_size = end - NUB_PRIMARY_BASE;
	return NUB_OK;
}

enum nub_status nub_layout_compute(const struct nub_layout_params *p, struct nub_layout *out,
				   struct nub_error *err)
{
	struct nub_layout l;
	uint64_t init_space = 0, end = 0;
	enum nub_status st;

	if (!p || !out)
		return nub_error_set(err, NUB_E_INVALID, "layout: NULL parameters or output");
	memset(&l, 0, sizeof l);

	/* GPA 0..NUB_PRIMARY_BASE is the NULL guard: an image reaching into it is refused. */
	if (p->image_end <= NUB_PRIMARY_BASE)
		return nub_error_set(err, NUB_E_LAYOUT,
				     "layout.image_end 0x%" PRIx64
				     " is not above the primary base 0x%x",
				     p->image_end, NUB_PRIMARY_BASE);
	if (p->image_end - NUB_PRIMARY_BASE > NUB_MAX_PRIMARY_SIZE)
		return nub_error_set(err, NUB_E_LAYOUT,
				     "layout.image_end 0x%" PRIx64
				     " exceeds the primary region maximum 0x%llx",
				     p->image_end, NUB_PRIMARY_BASE + NUB_MAX_PRIMARY_SIZE);
	st = round_size("heap_size", p->heap_size, NUB_MAX_PRIMARY_SIZE, &l.heap_size, err);
	if (st)
		return st;
	st = round_size("init_data_size", p->init_data_size, NUB_MAX_PRIMARY_SIZE, &init_space,
			err);
	if (st)
		return st;

	l.image_end = p->image_end;
	if (!nub_align_up(p->image_end, NUB_PAGE_SIZE, &l.boot_info_gpa) ||
	    !add(l.boot_info_gpa, NUB_PAGE_SIZE, &l.heap_gpa) ||
	    !add(l.heap_gpa, l.heap_size, &end) || !add(end, init_space, &l.page_tables_gpa))
		return primary_too_large(p, UINT64_MAX, err);
	if (p->init_data_size) {
		l.init_data_gpa = end;
		l.init_data_size = p->init_data_size;
	}
	if (l.page_tables_gpa - NUB_PRIMARY_BASE > NUB_MAX_PRIMARY_SIZE)
		return primary_too_large(p, l.page_tables_gpa - NUB_PRIMARY_BASE, err);

	st = scratch_region(p, &l, err);
	if (st)
		return st;
	st = page_tables(p, &l, err);
	if (st)
		return st;
	*out = l;
	return NUB_OK;
}
