/* SPDX-License-Identifier: Apache-2.0 */
/* Pure arithmetic of the guest memory layout; every formula is overflow-checked. */
#ifndef NUB_LAYOUT_H
#define NUB_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "nub/nub.h"

/* What the layout is computed from. Sizes need not be page-aligned; they are rounded up. */
struct nub_layout_params {
	uint64_t image_end; /* first GPA after the ELF image (> NUB_PRIMARY_BASE) */
	uint64_t heap_size;
	uint64_t init_data_size; /* 0 = none */
	uint64_t input_size;
	uint64_t output_size;
	uint64_t stack_size;
};

/*
 * Primary region, from NUB_PRIMARY_BASE: image | boot info page | heap | init data | page tables.
 * Scratch region, ending at NUB_GPA_TOP: input | output | stack guard | stack | exception-stack
 * guard | exception stack | metadata page (holds the counter) | unused top page.
 * All *_gpa and *_size are page-aligned; GVA == GPA everywhere.
 */
struct nub_layout {
	uint64_t image_end;
	uint64_t boot_info_gpa;
	uint64_t heap_gpa, heap_size;
	uint64_t init_data_gpa,
		init_data_size; /* init_data_size is the exact byte count, gpa 0 if none */
	uint64_t page_tables_gpa, page_tables_size;
	uint64_t primary_size; /* bytes from NUB_PRIMARY_BASE */

	uint64_t scratch_gpa, scratch_size;
	uint64_t input_gpa, input_size;
	uint64_t output_gpa, output_size;
	uint64_t stack_guard_gpa;
	uint64_t stack_gpa, stack_size; /* stack top = stack_gpa + stack_size */
	uint64_t exception_guard_gpa;
	uint64_t exception_stack_gpa, exception_stack_size;
	uint64_t meta_gpa;    /* one page, mapped read-only to the guest */
	uint64_t counter_gpa; /* = scratch_gpa + scratch_size - NUB_COUNTER_TOP_OFFSET */
};

#define NUB_EXCEPTION_STACK_SIZE 0x2000u
/* Upper bound on everything mapped, to keep every sum far from overflow and KVM's limits. */
#define NUB_MAX_PRIMARY_SIZE 0x80000000ull /* 2 GiB */
#define NUB_MAX_SCRATCH_SIZE 0x40000000ull /* 1 GiB */

/*
 * Computes (out) from (p). Errors (NUB_E_LAYOUT) name the field and value: image_end below
 * NUB_PRIMARY_BASE, any size too large, or a sum that overflows or exceeds the region limits.
 */
enum nub_status nub_layout_compute(const struct nub_layout_params *p, struct nub_layout *out,
				   struct nub_error *err);

/* The guard pages inside the scratch region: stack guard, exception-stack guard, top page. */
#define NUB_LAYOUT_GUARDS 3u

/*
 * Writes the GPAs of (l)'s guard pages inside its regions, ascending, to (out) and returns their
 * number (NUB_LAYOUT_GUARDS). The guest's tables never map them; the host keeps them PROT_NONE.
 */
size_t nub_layout_guards(const struct nub_layout *l, uint64_t out[NUB_LAYOUT_GUARDS]);

/*
 * Upper bound on the 4 KiB page-table pages needed to map [gpa, gpa + size) with 4-level, 4 KiB
 * leaf paging (tables for that range only; the root is not counted). size 0 needs 0; a range
 * running past 2^64 is clamped at the top.
 */
uint64_t nub_layout_table_pages(uint64_t gpa, uint64_t size);

#endif
