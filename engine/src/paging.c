/* SPDX-License-Identifier: Apache-2.0 */
/* 4-level x86-64 page tables (Intel SDM vol. 3A, 4.5): W^X identity maps and a checked walker. */
#include "paging.h"

#include <inttypes.h>
#include <stdbool.h>

#include "bytes.h"
#include "error.h"
#include "nub/x86.h"

/* Paging-structure entry bits: X86_PTE_* (nub/x86.h, SDM vol. 3A tables 4-15 to 4-20). */
#define LEVELS 4

_Static_assert(NUB_PAGE_SIZE == 4096u, "4 KiB pages");
_Static_assert(NUB_PAGE_SIZE == X86_PAGE_SIZE, "nub's page is the architectural 4 KiB page");
_Static_assert(X86_PT_ENTRIES * 8u == NUB_PAGE_SIZE, "a table is one page of u64 entries");
_Static_assert(NUB_GPA_TOP <= (X86_PTE_ADDR | 0xFFFull) + 1,
	       "every GPA fits an entry's address field");

/*
 * Intermediate entries are writable and executable so that the leaf alone decides; U/S stays 0
 * because the guest runs at CPL0 only. A is preset here and A|D on leaves so the CPU never has to
 * write back into the tables on first use: no extra dirty page in snapshots and no A/D assist exit.
 */
#define TABLE_FLAGS (X86_PTE_P | X86_PTE_RW | X86_PTE_A)
#define LEAF_FLAGS (X86_PTE_P | X86_PTE_A | X86_PTE_D)

/* Index of (va) in the table at (level) (4 = PML4 ... 1 = PT). */
static unsigned table_index(uint64_t va, int level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & (X86_PT_ENTRIES - 1);
}

/*
 * Offset into the table area of the table at (addr), or false if a whole table there would not lie
 * inside [tables_gpa, tables_gpa + tables_size).
 */
static bool table_offset(uint64_t tables_gpa, uint64_t tables_size, uint64_t addr, uint64_t *off)
{
	if (tables_size < NUB_PAGE_SIZE || addr < tables_gpa)
		return false;
	uint64_t o = addr - tables_gpa;
	if (o > tables_size - NUB_PAGE_SIZE)
		return false;
	*off = o;
	return true;
}

static enum nub_status check_map(const struct nub_page_map *m, size_t i, struct nub_error *err)
{
	uint64_t end;
	if (m->gpa & (NUB_PAGE_SIZE - 1))
		return nub_error_set(err, NUB_E_INVALID,
				     "maps[%zu]: gpa 0x%" PRIx64 " is not page-aligned", i, m->gpa);
	if (m->size == 0)
		return nub_error_set(err, NUB_E_INVALID, "maps[%zu]: size 0", i);
	if (m->size & (NUB_PAGE_SIZE - 1))
		return nub_error_set(err, NUB_E_INVALID,
				     "maps[%zu]: size 0x%" PRIx64 " is not page-aligned", i,
				     m->size);
	if (__builtin_add_overflow(m->gpa, m->size, &end))
		return nub_error_set(err, NUB_E_INVALID,
				     "maps[%zu]: gpa 0x%" PRIx64 " + size 0x%" PRIx64 " overflows",
				     i, m->gpa, m->size);
	if (end > NUB_GPA_TOP)
		return nub_error_set(err, NUB_E_INVALID,
				     "maps[%zu]: gpa 0x%" PRIx64 " + size 0x%" PRIx64
				     " ends above the guest-physical top 0x%llx",
				     i, m->gpa, m->size, NUB_GPA_TOP);
	if (m->perms & ~(uint32_t)(NUB_MEM_READ | NUB_MEM_WRITE | NUB_MEM_EXECUTE))
		return nub_error_set(err, NUB_E_INVALID, "maps[%zu]: perms 0x%x has unknown bits",
				     i, m->perms);
	if (!(m->perms & NUB_MEM_READ))
		return nub_error_set(err, NUB_E_INVALID, "maps[%zu]: perms 0x%x is not readable", i,
				     m->perms);
	/*
	 * W^X: no guest page is ever writable and executable at once, so a guest bug (or an
	 * attacker steering one) cannot inject code; writing to code or running data is a clean
	 * page fault.
	 */
	if ((m->perms & NUB_MEM_WRITE) && (m->perms & NUB_MEM_EXECUTE))
		return nub_error_set(err, NUB_E_INVALID,
				     "maps[%zu]: perms 0x%x are both writable and executable", i,
				     m->perms);
	return NUB_OK;
}

/* Index of the earlier map that covers (page), for the overlap message. */
static size_t earlier_map(const struct nub_page_map *maps, size_t n, uint64_t page)
{
	for (size_t j = 0; j < n; j++)
		if (page >= maps[j].gpa && page - maps[j].gpa < maps[j].size)
			return j;
	return n;
}

/*
 * The PT slot for (va), allocating missing tables from the area's next free page (*used of
 * npages); NULL when the area is exhausted.
 */
static uint8_t *leaf_slot(uint8_t *tables, uint64_t tables_gpa, uint64_t npages, uint64_t *used,
			  uint64_t va)
{
	uint64_t table = 0; /* offset of the current table in the area; the PML4 first */
	for (int level = LEVELS; level > 1; level--) {
		uint8_t *slot = tables + table + 8u * table_index(va, level);
		uint64_t e = nub_le64(slot);
		if (!(e & X86_PTE_P)) {
			if (*used == npages)
				return NULL;
			e = (tables_gpa + *used * NUB_PAGE_SIZE) | TABLE_FLAGS;
			nub_put_le64(slot, e);
			(*used)++;
		}
		/* Only this builder wrote the area (zeroed by the caller): e points inside. */
		table = (e & X86_PTE_ADDR) - tables_gpa;
	}
	return tables + table + 8u * table_index(va, 1);
}

enum nub_status nub_paging_build(uint8_t *tables, uint64_t tables_gpa, uint64_t tables_size,
				 const struct nub_page_map *maps, size_t n, uint64_t *root_gpa,
				 struct nub_error *err)
{
	uint64_t tables_end;
	if (!tables || !root_gpa || (!maps && n))
		return nub_error_set(err, NUB_E_INVALID,
				     "nub_paging_build: tables, maps and root_gpa are required");
	if ((tables_gpa | tables_size) & (NUB_PAGE_SIZE - 1))
		return nub_error_set(err, NUB_E_INVALID,
				     "page tables at 0x%" PRIx64 " size 0x%" PRIx64
				     " are not page-aligned",
				     tables_gpa, tables_size);
	if (__builtin_add_overflow(tables_gpa, tables_size, &tables_end) ||
	    tables_end > NUB_GPA_TOP)
		return nub_error_set(err, NUB_E_INVALID,
				     "page tables at 0x%" PRIx64 " size 0x%" PRIx64
				     " end above the guest-physical top 0x%llx",
				     tables_gpa, tables_size, NUB_GPA_TOP);

	uint64_t npages = tables_size / NUB_PAGE_SIZE;
	if (npages == 0)
		return nub_error_set(err, NUB_E_LAYOUT, "page tables need more than 0 pages");
	uint64_t used = 1; /* page 0 is the PML4 */

	/*
	 * NULL guard: only the given maps are entered, and none covers GPA 0..0x3FFF (the layout
	 * starts at NUB_PRIMARY_BASE), so a NULL dereference in the guest is a clean page fault.
	 */
	for (size_t i = 0; i < n; i++) {
		const struct nub_page_map *m = &maps[i];
		enum nub_status st = check_map(m, i, err);
		if (st != NUB_OK)
			return st;

		uint64_t leaf = LEAF_FLAGS;
		if (m->perms & NUB_MEM_WRITE)
			leaf |= X86_PTE_RW;
		if (!(m->perms & NUB_MEM_EXECUTE))
			leaf |= X86_PTE_NX;

		for (uint64_t va = m->gpa; va - m->gpa < m->size; va += NUB_PAGE_SIZE) {
			uint8_t *slot = leaf_slot(tables, tables_gpa, npages, &used, va);
			if (!slot)
				return nub_error_set(err, NUB_E_LAYOUT,
						     "page tables need more than %" PRIu64
						     " pages (0x%" PRIx64 " bytes at 0x%" PRIx64
						     ")",
						     npages, tables_size, tables_gpa);
			if (nub_le64(slot) & X86_PTE_P)
				return nub_error_set(err, NUB_E_INVALID,
						     "maps[%zu] [0x%" PRIx64 ", 0x%" PRIx64
						     ") overlaps maps[%zu] at page 0x%" PRIx64,
						     i, m->gpa, m->gpa + m->size,
						     earlier_map(maps, i, va), va);
			nub_put_le64(slot, va | leaf);
		}
	}
	*root_gpa = tables_gpa;
	return NUB_OK;
}

bool nub_paging_translate(const uint8_t *tables, uint64_t tables_gpa, uint64_t tables_size,
			  uint64_t root_gpa, uint64_t gva, uint64_t *gpa, uint32_t *perms)
{
	if (!tables || !gpa || !perms)
		return false;
	/* 4-level paging: bits 63..47 must equal bit 47 (canonical), else #GP, not a mapping. */
	uint64_t high = gva >> 47;
	if (high != 0 && high != 0x1FFFF)
		return false;

	/* The guest can rewrite these tables: every table address is checked before it is read. */
	uint64_t addr = root_gpa & X86_PTE_ADDR; /* like CR3: the low bits are flags */
	bool writable = true, executable = true;
	for (int level = LEVELS; level >= 1; level--) {
		uint64_t off;
		if (!table_offset(tables_gpa, tables_size, addr, &off))
			return false;
		uint64_t e = nub_le64(tables + off + 8u * table_index(gva, level));
		if (!(e & X86_PTE_P))
			return false;
		writable = writable && (e & X86_PTE_RW);
		executable = executable && !(e & X86_PTE_NX);
		if (level > 1 && !(e & X86_PTE_PS)) {
			addr = e & X86_PTE_ADDR;
			continue;
		}
		if (level == LEVELS)
			return false; /* PS is reserved in a PML4E */
		/* A leaf: a 4 KiB PTE, or a 2 MiB / 1 GiB page the guest may have written. */
		uint64_t in_page = level == 1 ? 0xFFFull : level == 2 ? 0x1FFFFFull : 0x3FFFFFFFull;
		*gpa = (e & X86_PTE_ADDR & ~in_page) | (gva & in_page);
		*perms = NUB_MEM_READ | (writable ? NUB_MEM_WRITE : 0u) |
			 (executable ? NUB_MEM_EXECUTE : 0u);
		return true;
	}
	return false;
}
