/* SPDX-License-Identifier: Apache-2.0 */
/* The allocation-failure injector: a counting nub_alloc_hook that fails a chosen allocation. */
#ifndef NUB_HARNESS_ALLOC_INJECT_H
#define NUB_HARNESS_ALLOC_INJECT_H

#include "nub/nub.h"

/*
 * The state of one hook. Zero-initialise it, set (fail_at), hand alloc_inject_hook(&a) to the
 * engine (nub_config.alloc, a nub_buf's alloc, a decoder's hook). Walking fail_at = 1, 2, ...
 * until an operation succeeds with (calls) < (fail_at) visits every allocation failure; (live)
 * == 0 once everything is freed is the leak check.
 */
struct alloc_inject {
	long fail_at;  /* this allocation or growth fails (1-based); 0: none */
	long calls;    /* allocations and growths attempted so far */
	long live;     /* blocks allocated and not yet freed */
	long failures; /* allocations made to fail (0 or 1) */
};

/*
 * The hook over (a), which must outlive every block allocated through it. Freeing a block the
 * hook never allocated (live would go negative) is an invariant violation and aborts.
 */
struct nub_alloc_hook alloc_inject_hook(struct alloc_inject *a);

#endif
