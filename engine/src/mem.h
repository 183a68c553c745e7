/* SPDX-License-Identifier: Apache-2.0 */
/* Host mappings of guest memory: the only place a guest address becomes a host pointer. */
#ifndef NUB_MEM_H
#define NUB_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "nub/nub.h"

/* One contiguous guest-physical region backed by host memory between two PROT_NONE guard pages. */
struct nub_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host; /* host address of gpa; NULL when unmapped */
	void *map;     /* the whole mapping including guards */
	size_t map_size;
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
