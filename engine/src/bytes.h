/* SPDX-License-Identifier: Apache-2.0 */
/* Little-endian loads and stores for wire frames and guest memory views. */
#ifndef NUB_BYTES_H
#define NUB_BYTES_H

#include <stdint.h>

static inline uint32_t nub_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t nub_le64(const uint8_t *p)
{
	return (uint64_t)nub_le32(p) | (uint64_t)nub_le32(p + 4) << 32;
}

static inline void nub_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void nub_put_le64(uint8_t *p, uint64_t v)
{
	nub_put_le32(p, (uint32_t)v);
	nub_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* A little-endian field of 1 to 8 bytes (a format's fields of any width: the fuzz mutators). */
static inline uint64_t nub_le_n(const uint8_t *p, unsigned int width)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void nub_put_le_n(uint8_t *p, unsigned int width, uint64_t v)
{
	for (unsigned int i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Volatile 64-bit load/store of guest-shared memory: exactly one access each, never re-read. */
static inline uint64_t nub_vload64(const volatile uint8_t *p)
{
	return *(const volatile uint64_t *)(const volatile void *)p;
}

static inline void nub_vstore64(volatile uint8_t *p, uint64_t v)
{
	*(volatile uint64_t *)(volatile void *)p = v;
}

/* Rounds (v) up to a multiple of the power of two (a); false on overflow. */
static inline _Bool nub_align_up(uint64_t v, uint64_t a, uint64_t *out)
{
	uint64_t r;
	if (__builtin_add_overflow(v, a - 1, &r))
		return 0;
	*out = r & ~(a - 1);
	return 1;
}

#endif
