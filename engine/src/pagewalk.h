/* SPDX-License-Identifier: Apache-2.0 */
/* Walking a guest's own (untrusted) 4-level page tables: mapped ranges and translation; pure. */
#ifndef NUB_PAGEWALK_H
#define NUB_PAGEWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem.h"
#include "nub/nub.h"

/*
 * One guest-virtual range [gva, gva + size) mapped onto guest-physical [gpa, gpa + size), all of
 * it backed by guest memory, with one set of effective permissions (NUB_MEM_*).
 */
struct nub_vrange {
	uint64_t gva;
	uint64_t gpa;
	uint64_t size;
	uint32_t perms;
};

/*
 * Bounds of one walk. The guest owns its tables, so a hostile guest can make every entry of every
 * level point back at one table and map the same page 2^36 times: the walk stops at whichever of
 * these comes first and says so. Zero fields take the defaults below.
 */
struct nub_pagewalk_limits {
	uint64_t max_entries; /* table entries examined */
	size_t max_ranges;    /* ranges written */
	uint64_t max_bytes;   /* sum of range sizes */
};

#define NUB_PAGEWALK_DEFAULT_ENTRIES (UINT64_C(1) << 20) /* 2048 full tables, well under 10 ms */
#define NUB_PAGEWALK_DEFAULT_RANGES 4096u
#define NUB_PAGEWALK_DEFAULT_BYTES (UINT64_C(4) << 30)

/* What a walk found beyond its ranges. */
struct nub_pagewalk_stats {
	uint64_t entries;  /* table entries examined */
	uint64_t bytes;    /* sum of the ranges' sizes */
	uint64_t unbacked; /* present entries whose table or page lies outside guest memory */
	uint64_t reserved; /* present entries refused for a reserved bit (PS in a PML4E) */
	bool truncated;    /* a limit stopped the walk; the ranges found so far are valid */
};

/*
 * Enumerates the guest-virtual ranges the tables rooted at (cr3) map, in ascending canonical
 * address order, into (out) (room for limits->max_ranges entries, or the default). Adjacent pages
 * merge when both their virtual and physical addresses are contiguous and their permissions
 * equal. Effective permissions follow the CPU: writable only if every level allows it,
 * executable unless any level sets NX (CR0.WP and EFER.NXE are on in every nub guest). Tables
 * are read from guest memory one page at a time into a private copy before any entry is parsed;
 * an entry whose next table or page is not guest memory is skipped (counted in stats->unbacked),
 * and a leaf partly outside guest memory is clipped to the backed part. Never fails on hostile
 * tables: *(n) and (stats) describe what was found. NUB_E_INVALID only for NULL arguments.
 */
enum nub_status nub_pagewalk_ranges(const struct nub_mem *m, uint64_t cr3,
				    const struct nub_pagewalk_limits *limits,
				    struct nub_vrange *out, size_t *n,
				    struct nub_pagewalk_stats *stats, struct nub_error *err);

/*
 * Translates (gva) through the tables rooted at (cr3): true with *(gpa) and *(perms) set when the
 * address is mapped onto guest memory, false otherwise (not present, non-canonical, a reserved
 * bit, or a table or page outside guest memory). At most four table reads, each checked.
 */
bool nub_pagewalk_translate(const struct nub_mem *m, uint64_t cr3, uint64_t gva, uint64_t *gpa,
			    uint32_t *perms);

#endif
