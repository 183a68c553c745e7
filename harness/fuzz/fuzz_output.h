/* SPDX-License-Identifier: Apache-2.0 */
/* The writer twin of fuzz_input.h, for the seed generator: builds inputs in the same formats. */
#ifndef NUB_FUZZ_OUTPUT_H
#define NUB_FUZZ_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_output {
	uint8_t *data;
	size_t len;
	size_t cap;
};

static inline void fuzz_write_bytes(struct fuzz_output *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		while (cap < o->len + n)
			cap *= 2;
		uint8_t *d = realloc(o->data, cap);
		if (!d) {
			fprintf(stderr, "fuzz_output: out of memory\n");
			abort();
		}
		o->data = d;
		o->cap = cap;
	}
	if (n)
		memcpy(o->data + o->len, p, n);
	o->len += n;
}

static inline void fuzz_write_le(struct fuzz_output *o, uint64_t v, unsigned n)
{
	uint8_t b[8];

	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	fuzz_write_bytes(o, b, n);
}

static inline void fuzz_write_u8(struct fuzz_output *o, uint8_t v)
{
	fuzz_write_le(o, v, 1);
}

static inline void fuzz_write_u16(struct fuzz_output *o, uint16_t v)
{
	fuzz_write_le(o, v, 2);
}

static inline void fuzz_write_u32(struct fuzz_output *o, uint32_t v)
{
	fuzz_write_le(o, v, 4);
}

static inline void fuzz_write_u64(struct fuzz_output *o, uint64_t v)
{
	fuzz_write_le(o, v, 8);
}

static inline void fuzz_output_free(struct fuzz_output *o)
{
	free(o->data);
	memset(o, 0, sizeof *o);
}

#endif
