/* SPDX-License-Identifier: Apache-2.0 */
/* Walking a guest's own (untrusted) 4-level page tables: mapped ranges and translation; pure. */
#include "pagewalk.h"

#include <string.h>

#include "error.h"
#include "nub/x86.h"

/*
 * Levels as the SDM numbers them (§4.5): 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT. The address bits
 * each level's index covers start at shift[level]; a leaf at that level maps 1 << shift bytes.
 */
static const unsigned level_shift[5] = { 0, 12, 21, 30, 39 };

struct walk {
	const struct nub_mem *m;
	struct nub_pagewalk_limits lim;
	struct nub_vrange *out;
	size_t n;
	struct nub_pagewalk_stats *st;
	/* Private copies of the table being parsed at each level: the guest's copy may change. */
	uint64_t table[5][X86_PT_ENTRIES];
};

/*
 * The frame a leaf at (level) maps, in (frame); false if the entry sets a bit the CPU reserves
 * there: the low frame bits of a large page other than PAT (bit 12), which would fault.
 */
static bool leaf_frame(uint64_t e, unsigned level, uint64_t *frame)
{
	uint64_t size = UINT64_C(1) << level_shift[level];
	uint64_t low = e & X86_PTE_ADDR & (size - 1);
	if (level > 1 && (low & ~X86_PAGE_SIZE) != 0)
		return false;
	*frame = e & X86_PTE_ADDR & ~(size - 1);
	return true;
}

/* Sign-extends bit 47 so an address built from indexes is canonical. */
static uint64_t canonical(uint64_t gva)
{
	return (gva & (UINT64_C(1) << 47)) ? gva | UINT64_C(0xFFFF000000000000) : gva;
}

/* Copies the table page at (gpa) into (dst); false if it is not guest memory. */
static bool read_table(const struct nub_mem *m, uint64_t gpa, uint64_t dst[X86_PT_ENTRIES])
{
	volatile uint8_t *p = nub_mem_ptr(m, gpa, X86_PAGE_SIZE);
	if (!p)
		return false;
	nub_mem_copy_out((uint8_t *)dst, p, X86_PAGE_SIZE);
	return true;
}

/* Appends or merges one backed range; false once a limit stops the walk. */
static bool emit(struct walk *w, uint64_t gva, uint64_t gpa, uint64_t size, uint32_t perms)
{
	uint64_t room = w->lim.max_bytes - w->st->bytes;
	if (size > room) {
		size = room;
		w->st->truncated = true;
	}
	if (size == 0)
		return false;
	struct nub_vrange *last = w->n ? &w->out[w->n - 1] : NULL;
	if (last && last->gva + last->size == gva && last->gpa + last->size == gpa &&
	    last->perms == perms) {
		last->size += size;
	} else if (w->n < w->lim.max_ranges) {
		w->out[w->n++] = (struct nub_vrange){ gva, gpa, size, perms };
	} else {
		w->st->truncated = true;
		return false;
	}
	w->st->bytes += size;
	return !w->st->truncated;
}

/*
 * Emits the parts of leaf [gpa, gpa + size) that guest memory backs (each region at most once, in
 * address order, so a large page hanging over a region's end is clipped, not dropped).
 */
static bool emit_leaf(struct walk *w, uint64_t gva, uint64_t gpa, uint64_t size, uint32_t perms)
{
	const struct nub_region *regions[2] = { &w->m->primary, &w->m->scratch };
	bool any = false;
	if (regions[0]->gpa > regions[1]->gpa) {
		regions[0] = &w->m->scratch;
		regions[1] = &w->m->primary;
	}
	for (size_t i = 0; i < 2; i++) {
		const struct nub_region *r = regions[i];
		if (!r->host)
			continue;
		/* All operands are below 2^52 (addresses) or 2^30 (sizes): no sum can wrap. */
		uint64_t lo = gpa > r->gpa ? gpa : r->gpa;
		uint64_t hi_leaf = gpa + size, hi_reg = r->gpa + r->size;
		uint64_t hi = hi_leaf < hi_reg ? hi_leaf : hi_reg;
		if (lo >= hi)
			continue;
		any = true;
		if (!emit(w, gva + (lo - gpa), lo, hi - lo, perms))
			return false;
	}
	if (!any)
		w->st->unbacked++;
	return true;
}

/*
 * Walks the table at (table_gpa), level (level), which maps the addresses from (base) on with
 * the permissions (perms) the levels above allow. False once a limit stopped the walk.
 */
static bool walk_table(struct walk *w, unsigned level, uint64_t table_gpa, uint64_t base,
		       uint32_t perms)
{
	if (w->st->entries + X86_PT_ENTRIES > w->lim.max_entries) {
		w->st->truncated = true;
		return false;
	}
	uint64_t *t = w->table[level];
	if (!read_table(w->m, table_gpa, t)) {
		w->st->unbacked++;
		return true;
	}
	w->st->entries += X86_PT_ENTRIES;
	for (unsigned i = 0; i < X86_PT_ENTRIES; i++) {
		uint64_t e = t[i];
		if (!(e & X86_PTE_P))
			continue;
		uint64_t gva = canonical(base | (uint64_t)i << level_shift[level]);
		uint32_t p = perms;
		if (!(e & X86_PTE_RW))
			p &= ~(uint32_t)NUB_MEM_WRITE;
		if (e & X86_PTE_NX)
			p &= ~(uint32_t)NUB_MEM_EXECUTE;
		bool leaf = level == 1 || (e & X86_PTE_PS);
		uint64_t next = e & X86_PTE_ADDR;
		/* PS is reserved in a PML4E, as are a large page's low frame bits: the CPU faults. */
		if ((leaf && level == 4) || (leaf && !leaf_frame(e, level, &next))) {
			w->st->reserved++;
			continue;
		}
		bool go = leaf ? emit_leaf(w, gva, next, UINT64_C(1) << level_shift[level], p)
			       : walk_table(w, level - 1, next, gva, p);
		if (!go)
			return false;
	}
	return true;
}

enum nub_status nub_pagewalk_ranges(const struct nub_mem *m, uint64_t cr3,
				    const struct nub_pagewalk_limits *limits,
				    struct nub_vrange *out, size_t *n,
				    struct nub_pagewalk_stats *stats, struct nub_error *err)
{
	if (!m || !out || !n || !stats)
		return nub_error_set(err, NUB_E_INVALID, "%s is NULL",
				     !m     ? "mem"
				     : !out ? "out"
				     : !n   ? "n"
					    : "stats");
	struct walk *w = &(struct walk){ .m = m, .out = out, .st = stats };
	if (limits)
		w->lim = *limits;
	if (!w->lim.max_entries)
		w->lim.max_entries = NUB_PAGEWALK_DEFAULT_ENTRIES;
	if (!w->lim.max_ranges)
		w->lim.max_ranges = NUB_PAGEWALK_DEFAULT_RANGES;
	if (!w->lim.max_bytes)
		w->lim.max_bytes = NUB_PAGEWALK_DEFAULT_BYTES;
	memset(stats, 0, sizeof *stats);
	walk_table(w, 4, cr3 & X86_PTE_ADDR, 0, NUB_MEM_READ | NUB_MEM_WRITE | NUB_MEM_EXECUTE);
	*n = w->n;
	return NUB_OK;
}

bool nub_pagewalk_translate(const struct nub_mem *m, uint64_t cr3, uint64_t gva, uint64_t *gpa,
			    uint32_t *perms)
{
	if (canonical(gva & UINT64_C(0x0000FFFFFFFFFFFF)) != gva)
		return false;
	uint64_t table = cr3 & X86_PTE_ADDR;
	uint32_t p = NUB_MEM_READ | NUB_MEM_WRITE | NUB_MEM_EXECUTE;
	for (unsigned level = 4; level >= 1; level--) {
		uint64_t e;
		unsigned index = (unsigned)(gva >> level_shift[level]) & (X86_PT_ENTRIES - 1);
		if (nub_mem_read(m, table + index * 8u, &e, sizeof e, NULL) != NUB_OK)
			return false;
		if (!(e & X86_PTE_P) || (level == 4 && (e & X86_PTE_PS)))
			return false;
		if (!(e & X86_PTE_RW))
			p &= ~(uint32_t)NUB_MEM_WRITE;
		if (e & X86_PTE_NX)
			p &= ~(uint32_t)NUB_MEM_EXECUTE;
		if (level == 1 || (e & X86_PTE_PS)) {
			uint64_t frame, size = UINT64_C(1) << level_shift[level];
			if (!leaf_frame(e, level, &frame))
				return false;
			uint64_t pa = frame | (gva & (size - 1));
			if (!nub_mem_ptr(m, pa, 1))
				return false;
			*gpa = pa;
			*perms = p;
			return true;
		}
		table = e & X86_PTE_ADDR;
	}
	return false;
}
