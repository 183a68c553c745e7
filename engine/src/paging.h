/* SPDX-License-Identifier: Apache-2.0 */
/* Building and walking 4-level x86-64 page tables (4 KiB leaves, W^X, identity GVA == GPA); pure. */
#ifndef NUB_PAGING_H
#define NUB_PAGING_H

#include <stddef.h>
#include <stdint.h>

#include "nub/nub.h"

/* One identity mapping: [gpa, gpa + size), page-aligned, with NUB_MEM_* permissions. */
struct nub_page_map {
	uint64_t gpa;
	uint64_t size;
	uint32_t perms;
};

/*
 * Writes page tables into (tables) (host memory of (tables_size) bytes, zeroed by the caller) that
 * live at guest-physical (tables_gpa); the root (PML4) is the first page, *(root_gpa) receives its
 * address. Every map must be page-aligned, below NUB_GPA_TOP, readable, and not both writable and
 * executable; overlaps are refused. Leaves: P | A | D | (RW if WRITE) | (NX unless EXECUTE), U/S=0.
 * Intermediate entries: P | RW | A. Errors: NUB_E_LAYOUT (table space exhausted, naming the need)
 * and NUB_E_INVALID (a bad map, naming the index and field).
 */
enum nub_status nub_paging_build(uint8_t *tables, uint64_t tables_gpa, uint64_t tables_size,
				 const struct nub_page_map *maps, size_t n, uint64_t *root_gpa,
				 struct nub_error *err);

/*
 * Translates (gva) through the tables at (tables)/(tables_gpa) whose root is (root_gpa); entries
 * pointing outside the table area count as not present. On success *(gpa) and *(perms) (NUB_MEM_*)
 * are set and true is returned; false if not mapped.
 */
bool nub_paging_translate(const uint8_t *tables, uint64_t tables_gpa, uint64_t tables_size,
			  uint64_t root_gpa, uint64_t gva, uint64_t *gpa, uint32_t *perms);

#endif
