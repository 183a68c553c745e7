/* SPDX-License-Identifier: Apache-2.0 */
/* The structure-aware mutator as an AFL++ custom mutator library (mutator.h). */
#include <stdlib.h>
#include <string.h>

#include "mutator.h"

/* One in this many mutations splices with the second input AFL++ offers. */
#define CROSS_ONE_IN 8u

struct afl_mut {
	unsigned int seed; /* the next mutation's */
	uint8_t *buf;      /* the output, handed to afl-fuzz until the next call */
	size_t cap;
};

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *state, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
void afl_custom_deinit(void *state);

/* The mutator's state for one afl-fuzz instance seeded with (seed) (-s); NULL without memory. */
void *afl_custom_init(void *afl, unsigned int seed)
{
	struct afl_mut *s = calloc(1, sizeof *s);

	(void)afl;
	if (s)
		s->seed = seed;
	return s;
}

/*
 * One mutation of (buf, buf_size), or a splice with (add_buf, add_buf_size) when given, in at most
 * min(max_size, NUB_MUTATOR_MAX_SIZE) bytes (the target ignores larger inputs); *out_buf is
 * the mutator's own buffer, valid until the next call. Returns its size, 0 (AFL++ skips the
 * mutation) when out of memory.
 */
size_t afl_custom_fuzz(void *state, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
	struct afl_mut *s = state;
	struct nub_mut m;

	if (max_size > NUB_MUTATOR_MAX_SIZE)
		max_size = NUB_MUTATOR_MAX_SIZE;
	if (max_size == 0)
		return 0;
	if (s->cap < max_size) {
		uint8_t *p = realloc(s->buf, max_size);
		if (!p)
			return 0;
		s->buf = p;
		s->cap = max_size;
	}
	nub_mut_init(&m, s->seed++, NULL);
	*out_buf = s->buf;
	if (!nub_mut_disabled() && add_buf && add_buf_size && nub_mut_chance(&m, 1, CROSS_ONE_IN)) {
		size_t n = nub_mut_cross(&m, NUB_MUTATOR_FORMAT, buf, buf_size, add_buf,
					 add_buf_size, s->buf, max_size);
		if (n)
			return n;
	}
	size_t n = buf_size < max_size ? buf_size : max_size;
	memcpy(s->buf, buf, n);
	if (nub_mut_disabled()) /* NUB_FUZZ_MUTATOR=off: the built-in byte-level mutations only */
		return nub_mut_bytes(&m, s->buf, n, max_size);
	return nub_mut_run(&m, NUB_MUTATOR_FORMAT, s->buf, n, max_size);
}

/* Frees what afl_custom_init made. */
void afl_custom_deinit(void *state)
{
	struct afl_mut *s = state;

	if (s)
		free(s->buf);
	free(s);
}
