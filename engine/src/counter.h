/* SPDX-License-Identifier: Apache-2.0 */
/* The host-authoritative guest counter: its shape and the calls the sandbox modules make. */
#ifndef NUB_COUNTER_H
#define NUB_COUNTER_H

#include <pthread.h>
#include <stdint.h>

#include "nub/nub.h"

struct nub_image;

/* The host-owned guest counter; the sandbox (or the uninit before evolve) owns it. */
struct nub_counter {
	pthread_mutex_t lock; /* value and its store into guest memory change together */
	uint64_t value;
	struct nub_image *img; /* the evolved sandbox's image; NULL until evolve */
};

/* Frees (c); NULL is a no-op. */
void nub_counter_free(struct nub_counter *c, const struct nub_alloc_hook *hook);

/* Stores the host's counter value (0 without a counter) into the read-only guest slot of (img). */
void nub_counter_write(struct nub_image *img);

#endif
