/* SPDX-License-Identifier: Apache-2.0 */
/* First-fit free-list allocator over the boot-info heap, with neighbour coalescing. */
#include "internal.h"

/*
 * Every block starts with this 16-byte header, so payloads stay 16-byte aligned. Free blocks are
 * linked in address order (which makes merging neighbours a local step); a block in use holds
 * IN_USE in (next) instead, which lets free() reject pointers it never handed out.
 */
struct block {
	uint64_t size; /* bytes, header included, a multiple of 16 */
	struct block *next;
};
_Static_assert(sizeof(struct block) == 16, "block headers keep 16-byte alignment");

#define IN_USE ((struct block *)(uintptr_t)0xA110CA7EDB10C000ull) /* non-canonical: never a link */
#define MIN_BLOCK (2 * sizeof(struct block))

static struct block *free_list;

void nub_heap_init(uint64_t base, uint64_t size)
{
	uint64_t start = (base + 15) & ~15ull;
	struct block *b;

	if (size < start - base + MIN_BLOCK)
		return;
	b = (struct block *)(uintptr_t)start;
	b->size = (size - (start - base)) & ~15ull;
	b->next = NULL;
	free_list = b;
}

void *nub_guest_malloc(size_t size)
{
	struct block **link, *b, *rest;
	uint64_t need;

	if (size > UINT64_MAX - 2 * sizeof(struct block))
		return NULL;
	need = ((uint64_t)size + sizeof(struct block) + 15) & ~15ull;
	if (need < MIN_BLOCK)
		need = MIN_BLOCK;
	for (link = &free_list; (b = *link) != NULL; link = &b->next) {
		if (b->size < need)
			continue;
		if (b->size - need >= MIN_BLOCK) {
			rest = (struct block *)((uint8_t *)b + need);
			rest->size = b->size - need;
			rest->next = b->next;
			b->size = need;
			*link = rest;
		} else {
			*link = b->next;
		}
		b->next = IN_USE;
		return b + 1;
	}
	return NULL;
}

void nub_guest_free(void *p)
{
	struct block *b, *prev = NULL, *next;

	if (!p)
		return;
	b = (struct block *)p - 1;
	if (((uintptr_t)p & 15) || b->next != IN_USE)
		nub_guest_abort(NUB_ABORT_PANIC, "nub_guest_free: not a block in use");
	for (next = free_list; next && next < b; next = next->next)
		prev = next;
	if (next && (uint8_t *)b + b->size == (uint8_t *)next) {
		b->size += next->size;
		next = next->next;
	}
	b->next = next;
	if (prev && (uint8_t *)prev + prev->size == (uint8_t *)b) {
		prev->size += b->size;
		prev->next = next;
	} else if (prev) {
		prev->next = b;
	} else {
		free_list = b;
	}
}

void *nub_guest_alloc_pages(size_t n)
{
	uint8_t *p;

	if (n > (UINT64_MAX - NUB_PAGE_SIZE) / NUB_PAGE_SIZE - 1)
		return NULL;
	/* A 16-byte aligned block holds n aligned pages once it has 4080 spare bytes in front. */
	p = nub_guest_malloc(n * NUB_PAGE_SIZE + NUB_PAGE_SIZE - 16);
	if (!p)
		return NULL;
	return (void *)(((uintptr_t)p + NUB_PAGE_SIZE - 1) & ~(uintptr_t)(NUB_PAGE_SIZE - 1));
}
