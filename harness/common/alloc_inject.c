/* SPDX-License-Identifier: Apache-2.0 */
/* The allocation-failure injector; see alloc_inject.h. */
#include "alloc_inject.h"

#include <stdlib.h>

#include "nub_fuzz.h"

static void *inject_realloc(void *ctx, void *ptr, size_t size)
{
	struct alloc_inject *a = ctx;

	if (size == 0) {
		if (ptr) {
			/* The engine freed something it never allocated through its hook. */
			NUB_FUZZ_CHECK_OP("nub_alloc_free", a->live > 0);
			a->live--;
			free(ptr);
		}
		return NULL;
	}
	if (++a->calls == a->fail_at) {
		a->failures++;
		return NULL;
	}
	void *p = realloc(ptr, size);
	if (p && !ptr)
		a->live++;
	return p;
}

struct nub_alloc_hook alloc_inject_hook(struct alloc_inject *a)
{
	return (struct nub_alloc_hook){ .realloc = inject_realloc, .ctx = a };
}
