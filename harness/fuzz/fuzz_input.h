/* SPDX-License-Identifier: Apache-2.0 */
/* A bounded input cursor for fuzz targets: reads past the end yield zeros / short spans, never more. */
#ifndef NUB_FUZZ_INPUT_H
#define NUB_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct fuzz_input {
	const uint8_t *data;
	size_t len;
	size_t pos;
};

static inline void fuzz_input_init(struct fuzz_input *in, const uint8_t *data, size_t len)
{
	in->data = data;
	in->len = data ? len : 0;
	in->pos = 0;
}

static inline size_t fuzz_remaining(const struct fuzz_input *in)
{
	return in->len - in->pos;
}

/* Little-endian unsigned of (n) <= 8 bytes; missing bytes read as 0. */
static inline uint64_t fuzz_read_le(struct fuzz_input *in, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n && in->pos < in->len; i++)
		v |= (uint64_t)in->data[in->pos++] << (8 * i);
	return v;
}

static inline uint8_t fuzz_read_u8(struct fuzz_input *in)
{
	return (uint8_t)fuzz_read_le(in, 1);
}

static inline uint16_t fuzz_read_u16(struct fuzz_input *in)
{
	return (uint16_t)fuzz_read_le(in, 2);
}

static inline uint32_t fuzz_read_u32(struct fuzz_input *in)
{
	return (uint32_t)fuzz_read_le(in, 4);
}

static inline uint64_t fuzz_read_u64(struct fuzz_input *in)
{
	return fuzz_read_le(in, 8);
}

/* Up to (want) bytes: *(out) points into the input; returns how many are available (maybe fewer). */
static inline size_t fuzz_read_bytes(struct fuzz_input *in, size_t want, const uint8_t **out)
{
	size_t n = fuzz_remaining(in) < want ? fuzz_remaining(in) : want;

	*out = in->data + in->pos;
	in->pos += n;
	return n;
}

/* Everything left. */
static inline size_t fuzz_read_rest(struct fuzz_input *in, const uint8_t **out)
{
	return fuzz_read_bytes(in, fuzz_remaining(in), out);
}

#endif
