/* SPDX-License-Identifier: Apache-2.0 */
/* The host-function registry: an array sorted by fn_id, searched by bisection. */
#include "hostfn.h"

#include <string.h>

#include "alloc.h"
#include "error.h"

#define TABLE_MIN_CAP 8u

/* Index of the first entry whose fn_id is >= (fn_id) (== count if none). */
static size_t lower_bound(const struct nub_hostfn_table *t, uint32_t fn_id)
{
	size_t lo = 0, hi = t->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->fns[mid].fn_id < fn_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static enum nub_status grow(struct nub_hostfn_table *t, const struct nub_alloc_hook *hook,
			    struct nub_error *err)
{
	size_t cap, bytes;
	struct nub_hostfn *p;

	if (t->cap == 0)
		cap = TABLE_MIN_CAP;
	else if (__builtin_mul_overflow(t->cap, 2, &cap))
		return nub_error_set(err, NUB_E_NOMEM, "host function table: too many entries");
	if (__builtin_mul_overflow(cap, sizeof *p, &bytes))
		return nub_error_set(err, NUB_E_NOMEM, "host function table: too many entries");
	p = nub_alloc_resize(hook, t->fns, bytes);
	if (!p)
		return nub_error_set(err, NUB_E_NOMEM,
				     "host function table: allocating %zu entries failed", cap);
	t->fns = p;
	t->cap = cap;
	return NUB_OK;
}

enum nub_status nub_hostfn_register(struct nub_hostfn_table *t, const struct nub_alloc_hook *hook,
				    uint32_t fn_id, nub_host_fn fn, void *ctx,
				    struct nub_error *err)
{
	enum nub_status st;
	size_t i;

	if (!t)
		return nub_error_set(err, NUB_E_INVALID, "host function table is NULL");
	if (!fn)
		return nub_error_set(err, NUB_E_INVALID,
				     "host function fn_id %u has a NULL function", fn_id);
	i = lower_bound(t, fn_id);
	if (i < t->count && t->fns[i].fn_id == fn_id)
		return nub_error_set(err, NUB_E_EXISTS,
				     "host function fn_id %u is already registered", fn_id);
	if (t->count == t->cap) {
		st = grow(t, hook, err);
		if (st)
			return st;
	}
	memmove(&t->fns[i + 1], &t->fns[i], (t->count - i) * sizeof t->fns[0]);
	t->fns[i] = (struct nub_hostfn){ .fn_id = fn_id, .fn = fn, .ctx = ctx };
	t->count++;
	return NUB_OK;
}

const struct nub_hostfn *nub_hostfn_find(const struct nub_hostfn_table *t, uint32_t fn_id)
{
	size_t i;

	if (!t)
		return NULL;
	i = lower_bound(t, fn_id);
	if (i < t->count && t->fns[i].fn_id == fn_id)
		return &t->fns[i];
	return NULL;
}

void nub_hostfn_free(struct nub_hostfn_table *t, const struct nub_alloc_hook *hook)
{
	if (!t)
		return;
	nub_alloc_free(hook, t->fns);
	memset(t, 0, sizeof *t);
}
