/* SPDX-License-Identifier: Apache-2.0 */
/* The host-function registry keyed by fn_id (u32). */
#ifndef NUB_HOSTFN_H
#define NUB_HOSTFN_H

#include <stddef.h>
#include <stdint.h>

#include "nub/nub.h"

struct nub_hostfn {
	uint32_t fn_id;
	nub_host_fn fn;
	void *ctx;
};

/* Sorted by fn_id; lookups are binary searches. Zero-initialise before use. */
struct nub_hostfn_table {
	struct nub_hostfn *fns;
	size_t count;
	size_t cap;
};

/* Adds (fn_id). NUB_E_EXISTS ("host function fn_id 7 is already registered"), NUB_E_INVALID (NULL fn), NUB_E_NOMEM. */
enum nub_status nub_hostfn_register(struct nub_hostfn_table *t, const struct nub_alloc_hook *hook,
				    uint32_t fn_id, nub_host_fn fn, void *ctx,
				    struct nub_error *err);
/* The entry for (fn_id), or NULL. */
const struct nub_hostfn *nub_hostfn_find(const struct nub_hostfn_table *t, uint32_t fn_id);
/* Frees the table's storage and zeroes it. */
void nub_hostfn_free(struct nub_hostfn_table *t, const struct nub_alloc_hook *hook);

#endif
