/* SPDX-License-Identifier: Apache-2.0 */
/* Host mappings of guest memory, guard pages, and checked guest-address translation. */
#include "mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "error.h"
#include "layout.h"

#if defined(__SANITIZE_ADDRESS__)
#define NUB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NUB_ASAN 1
#endif
#endif
#ifdef NUB_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#endif

/* Maps one region: anonymous zeroed memory (fd < 0), or a private copy-on-write view of fd at offset. */
static enum nub_status map_region(struct nub_region *r, const char *name, uint64_t gpa,
				  uint64_t size, int fd, uint64_t offset, struct nub_error *err)
{
	size_t total;

	if (size == 0 || size % NUB_PAGE_SIZE != 0 ||
	    __builtin_add_overflow(size, 2 * (uint64_t)NUB_PAGE_SIZE, &total))
		return nub_error_set(err, NUB_E_INVALID,
				     "%s region size 0x%llx is not a non-zero page multiple", name,
				     (unsigned long long)size);
	/*
	 * Why guards: the region is written with lengths that came from the guest; even with every
	 * check in place, a bug must fault at the edge instead of silently hitting other memory.
	 * MAP_NORESERVE: untouched guest pages cost nothing.
	 */
	void *map = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			 0);
	if (map == MAP_FAILED)
		return nub_error_set_errno(err, NUB_E_NOMEM, errno,
					   "mmap of the %s region (0x%llx bytes)", name,
					   (unsigned long long)size);
	uint8_t *host = (uint8_t *)map + NUB_PAGE_SIZE;
	if (fd >= 0 &&
	    mmap(host, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd,
		 (off_t)offset) == MAP_FAILED) {
		int e = errno;
		munmap(map, total);
		return nub_error_set_errno(err, NUB_E_NOMEM, e,
					   "mmap of the %s region from a snapshot", name);
	}
	if (fd < 0 && mprotect(host, size, PROT_READ | PROT_WRITE) != 0) {
		int e = errno;
		munmap(map, total);
		return nub_error_set_errno(err, NUB_E_NOMEM, e,
					   "mprotect of the %s region (0x%llx bytes)", name,
					   (unsigned long long)size);
	}
	r->gpa = gpa;
	r->size = size;
	r->host = host;
	r->map = map;
	r->map_size = total;
	return NUB_OK;
}

static void unmap_region(struct nub_region *r)
{
	/* The shadow outlives the mapping: a later mapping at this address must not look poisoned. */
	for (uint32_t i = 0; i < r->ngaps; i++)
		ASAN_UNPOISON_MEMORY_REGION(r->host + (r->gaps[i] - r->gpa), NUB_PAGE_SIZE);
	if (r->map)
		munmap(r->map, r->map_size);
	memset(r, 0, sizeof *r);
}

enum nub_status nub_mem_map(struct nub_mem *m, uint64_t primary_size, uint64_t scratch_gpa,
			    uint64_t scratch_size, int fd, struct nub_error *err)
{
	memset(m, 0, sizeof *m);
	enum nub_status st = map_region(&m->primary, "primary", NUB_PRIMARY_BASE, primary_size, fd,
					0, err);
	if (st != NUB_OK)
		return st;
	st = map_region(&m->scratch, "scratch", scratch_gpa, scratch_size, fd, primary_size, err);
	if (st != NUB_OK)
		unmap_region(&m->primary);
	return st;
}

/* Makes the page at (gpa) of (r) a PROT_NONE gap; gaps come in ascending order. */
static enum nub_status add_gap(struct nub_region *r, const char *name, uint64_t gpa,
			       struct nub_error *err)
{
	if (r->ngaps == NUB_REGION_MAX_GAPS || gpa % NUB_PAGE_SIZE || gpa < r->gpa ||
	    gpa - r->gpa >= r->size || (r->ngaps && gpa <= r->gaps[r->ngaps - 1]))
		return nub_error_set(err, NUB_E_INVALID, "guard page 0x%llx in the %s region",
				     (unsigned long long)gpa, name);
	uint8_t *p = r->host + (gpa - r->gpa);
	if (mprotect(p, NUB_PAGE_SIZE, PROT_NONE) != 0)
		return nub_error_set_errno(err, NUB_E_NOMEM, errno,
					   "mprotect of the guard page 0x%llx",
					   (unsigned long long)gpa);
	ASAN_POISON_MEMORY_REGION(p, NUB_PAGE_SIZE);
	r->gaps[r->ngaps++] = gpa;
	return NUB_OK;
}

enum nub_status nub_mem_map_guarded(struct nub_mem *m, const struct nub_layout *l, int fd,
				    struct nub_error *err)
{
	uint64_t guards[NUB_LAYOUT_GUARDS];
	enum nub_status st = nub_mem_map(m, l->primary_size, l->scratch_gpa, l->scratch_size, fd,
					 err);
	size_t n = nub_layout_guards(l, guards);
	for (size_t i = 0; st == NUB_OK && i < n; i++)
		st = add_gap(&m->scratch, "scratch", guards[i], err);
	if (st != NUB_OK)
		nub_mem_unmap(m);
	return st;
}

bool nub_region_is_gap(const struct nub_region *r, uint64_t gpa)
{
	for (uint32_t i = 0; i < r->ngaps; i++)
		if (gpa - r->gaps[i] < NUB_PAGE_SIZE)
			return true;
	return false;
}

void nub_region_copy_out(const struct nub_region *r, uint8_t *dst)
{
	uint64_t from = 0;
	for (uint32_t i = 0; i <= r->ngaps; i++) {
		uint64_t to = i < r->ngaps ? r->gaps[i] - r->gpa : r->size;
		memcpy(dst + from, r->host + from, (size_t)(to - from));
		from = to + NUB_PAGE_SIZE;
	}
}

void nub_region_copy_in(struct nub_region *r, const uint8_t *src)
{
	uint64_t from = 0;
	for (uint32_t i = 0; i <= r->ngaps; i++) {
		uint64_t to = i < r->ngaps ? r->gaps[i] - r->gpa : r->size;
		memcpy(r->host + from, src + from, (size_t)(to - from));
		from = to + NUB_PAGE_SIZE;
	}
}

void nub_mem_unmap(struct nub_mem *m)
{
	unmap_region(&m->primary);
	unmap_region(&m->scratch);
}

static volatile uint8_t *region_ptr(const struct nub_region *r, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (!r->host || gpa < r->gpa || __builtin_add_overflow(gpa, len, &end) ||
	    end > r->gpa + r->size)
		return NULL;
	for (uint32_t i = 0; i < r->ngaps; i++)
		if (gpa < r->gaps[i] + NUB_PAGE_SIZE && end > r->gaps[i])
			return NULL; /* a guard page: not backed, as far as the host is concerned */
	return r->host + (gpa - r->gpa);
}

volatile uint8_t *nub_mem_ptr(const struct nub_mem *m, uint64_t gpa, uint64_t len)
{
	if (len == 0)
		return NULL;
	volatile uint8_t *p = region_ptr(&m->primary, gpa, len);
	return p ? p : region_ptr(&m->scratch, gpa, len);
}

/*
 * Bulk copies use memcpy: the bytes are only ever parsed from the private copy, so a guest changing
 * them mid-copy can only change what the copy holds, never make a checked value differ from a used
 * one. The mapping is plain memory; the volatile qualifier only guards the single-field reads.
 */
void nub_mem_copy_in(volatile uint8_t *dst, const uint8_t *src, size_t len)
{
	memcpy((uint8_t *)(uintptr_t)dst, src, len);
}

void nub_mem_copy_out(uint8_t *dst, const volatile uint8_t *src, size_t len)
{
	memcpy(dst, (const uint8_t *)(uintptr_t)src, len);
}

enum nub_status nub_mem_read(const struct nub_mem *m, uint64_t gpa, void *dst, uint64_t len,
			     struct nub_error *err)
{
	volatile uint8_t *p = nub_mem_ptr(m, gpa, len);
	if (!p)
		return nub_error_set(err, NUB_E_INVALID, "guest range 0x%llx+0x%llx is not backed",
				     (unsigned long long)gpa, (unsigned long long)len);
	nub_mem_copy_out(dst, p, len);
	return NUB_OK;
}

enum nub_status nub_mem_write(const struct nub_mem *m, uint64_t gpa, const void *src, uint64_t len,
			      struct nub_error *err)
{
	volatile uint8_t *p = nub_mem_ptr(m, gpa, len);
	if (!p)
		return nub_error_set(err, NUB_E_INVALID, "guest range 0x%llx+0x%llx is not backed",
				     (unsigned long long)gpa, (unsigned long long)len);
	nub_mem_copy_in(p, src, len);
	return NUB_OK;
}
