/* SPDX-License-Identifier: Apache-2.0 */
/* The one allocation path of the engine (struct nub_alloc_hook) and struct nub_buf. */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MIN_CAP 64u

static int hooked(const struct nub_alloc_hook *hook)
{
	return hook && hook->realloc;
}

void *nub_alloc_zeroed(const struct nub_alloc_hook *hook, size_t size)
{
	void *p;

	if (size == 0)
		return NULL;
	if (!hooked(hook))
		return calloc(1, size);
	p = hook->realloc(hook->ctx, NULL, size);
	if (p)
		memset(p, 0, size);
	return p;
}

void *nub_alloc_resize(const struct nub_alloc_hook *hook, void *ptr, size_t size)
{
	/*
	 * Size 0 would free (ptr) through realloc semantics while returning NULL, which callers
	 * read as "failed, ptr untouched": refuse it instead of risking a double free.
	 */
	if (size == 0)
		return NULL;
	if (!hooked(hook))
		return realloc(ptr, size);
	return hook->realloc(hook->ctx, ptr, size);
}

void nub_alloc_free(const struct nub_alloc_hook *hook, void *ptr)
{
	if (!ptr)
		return;
	if (!hooked(hook))
		free(ptr);
	else
		hook->realloc(hook->ctx, ptr, 0);
}

enum nub_status nub_buf_append(struct nub_buf *buf, const void *data, size_t len)
{
	size_t need, cap;
	uint8_t *p;

	if (!buf || (!data && len > 0))
		return NUB_E_INVALID;
	if (len == 0)
		return NUB_OK;
	if (__builtin_add_overflow(buf->len, len, &need))
		return NUB_E_NOMEM;
	if (need > buf->cap) {
		/* (data) may point into the buffer itself: remember where, the block may move. */
		uintptr_t d = (uintptr_t)data, base = (uintptr_t)buf->data;
		int inside = buf->data && d >= base && d < base + buf->len;
		size_t offset = inside ? d - base : 0;

		cap = buf->cap ? buf->cap : BUF_MIN_CAP;
		while (cap < need) {
			if (__builtin_mul_overflow(cap, 2, &cap)) {
				cap = need;
				break;
			}
		}
		p = nub_alloc_resize(&buf->alloc, buf->data, cap);
		if (!p)
			return NUB_E_NOMEM;
		buf->data = p;
		buf->cap = cap;
		if (inside)
			data = p + offset;
	}
	memmove(buf->data + buf->len, data, len);
	buf->len = need;
	return NUB_OK;
}

void nub_buf_free(struct nub_buf *buf)
{
	if (!buf)
		return;
	nub_alloc_free(&buf->alloc, buf->data);
	memset(buf, 0, sizeof *buf);
}
