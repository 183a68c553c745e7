/* SPDX-License-Identifier: Apache-2.0 */
/* Host mappings of guest memory: the only place a guest address becomes a host pointer. */
#ifndef NUB_MEM_H
#define NUB_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nub/nub.h"

#define NUB_REGION_MAX_GAPS 4u

/*
 * One contiguous guest-physical region backed by host memory between two PROT_NONE guard pages,
 * with up to NUB_REGION_MAX_GAPS PROT_NONE pages inside (the guest's guard pages).
 */
struct nub_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host; /* host address of gpa; NULL when unmapped */
	void *map;     /* the whole mapping including guards */
	size_t map_size;
	uint64_t gaps[NUB_REGION_MAX_GAPS]; /* GPAs of the PROT_NONE pages inside, ascending */
	uint32_t ngaps;
};

struct nub_mem {
	struct nub_region primary; /* NUB_PRIMARY_BASE .. */
	struct nub_region scratch; /* .. NUB_GPA_TOP */
};

/*
 * Maps memory for the primary region ([NUB_PRIMARY_BASE, + primary_size)) and the scratch region
 * ([scratch_gpa, + scratch_size)), each between host guard pages so a host-side overrun faults
 * instead of corrupting the neighbour: zeroed anonymous memory when (fd) < 0, else private
 * copy-on-write views of a snapshot memfd (primary at offset 0, scratch right after it), so
 * unmodified pages stay shared with the snapshot. Sizes must be non-zero multiples of the page
 * size. NUB_E_NOMEM names the region and size; on failure nothing stays mapped.
 */
enum nub_status nub_mem_map(struct nub_mem *m, uint64_t primary_size, uint64_t scratch_gpa,
			    uint64_t scratch_size, int fd, struct nub_error *err);

struct nub_layout;

/*
 * nub_mem_map for layout (l), then every guard page of the guest inside a region (the stack
 * guard, the exception-stack guard and the unused top page: nub_layout_guards) made PROT_NONE
 * on the host too, and poisoned for AddressSanitizer in the sanitizer flavours, so a host access
 * through a miscomputed guest pointer faults instead of reading or writing mapped memory. Such
 * pages are holes from then on: nub_mem_ptr refuses ranges touching them and the region copies
 * skip them. (The NULL guard below NUB_PRIMARY_BASE has no host mapping at all.)
 */
enum nub_status nub_mem_map_guarded(struct nub_mem *m, const struct nub_layout *l, int fd,
				    struct nub_error *err);

/* Whether the page holding (gpa) is a PROT_NONE gap of (r). */
bool nub_region_is_gap(const struct nub_region *r, uint64_t gpa);

/* Copies region (r) to (dst) (r->size bytes), leaving the bytes of its gaps in (dst) alone. */
void nub_region_copy_out(const struct nub_region *r, uint8_t *dst);

/* Copies (src) (r->size bytes) over region (r), except over its gaps. */
void nub_region_copy_in(struct nub_region *r, const uint8_t *src);

/* Unmaps both regions; a zeroed or already-unmapped nub_mem is fine. */
void nub_mem_unmap(struct nub_mem *m);

/*
 * The host pointer for guest-physical [gpa, gpa + len) if that whole range lies inside one region
 * (overflow-safe), else NULL. len 0 is refused. The memory is shared with the guest: access it
 * only through volatile reads/writes or nub_mem_read/nub_mem_write.
 */
volatile uint8_t *nub_mem_ptr(const struct nub_mem *m, uint64_t gpa, uint64_t len);

/* Volatile copies between guest memory and host buffers; NUB_E_INVALID names the range if it is not backed. */
enum nub_status nub_mem_read(const struct nub_mem *m, uint64_t gpa, void *dst, uint64_t len,
			     struct nub_error *err);
enum nub_status nub_mem_write(const struct nub_mem *m, uint64_t gpa, const void *src, uint64_t len,
			      struct nub_error *err);

/* Copies between guest-shared memory and private host buffers (see mem.c for why memcpy is safe). */
void nub_mem_copy_in(volatile uint8_t *dst, const uint8_t *src, size_t len);
void nub_mem_copy_out(uint8_t *dst, const volatile uint8_t *src, size_t len);

#endif
