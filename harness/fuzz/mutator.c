/* SPDX-License-Identifier: Apache-2.0 */
/* The structure-aware mutator's dispatch and its shared parts; see mutator.h. */
#include "mutator.h"

#include <stdlib.h>
#include <string.h>

void nub_mut_init(struct nub_mut *m, unsigned int seed, nub_mut_bytes_fn bytes)
{
	m->rng = 0x9e3779b97f4a7c15ull ^ seed;
	m->bytes = bytes;
	m->invalid = false;
}

/* splitmix64: small, fast, and every seed gives a full-period stream. */
static uint64_t next(struct nub_mut *m)
{
	uint64_t z = (m->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t nub_mut_below(struct nub_mut *m, uint64_t n)
{
	return next(m) % n;
}

bool nub_mut_chance(struct nub_mut *m, unsigned int num, unsigned int den)
{
	return nub_mut_below(m, den) < num;
}

size_t nub_mut_bytes(struct nub_mut *m, uint8_t *data, size_t size, size_t max_size)
{
	if (size == 0) {
		data[0] = (uint8_t)next(m);
		size = 1;
	}
	size_t n = m->bytes ? m->bytes(data, size, max_size)
			    : nub_mut_havoc(m, data, size, max_size);
	return n < 1 ? 1 : n > max_size ? max_size : n;
}

/*
 * The values that sit on the engine's boundaries: page and I/O-buffer sizes (NUB_MIN_IO_SIZE is
 * 8 KiB, the fuzz guest's input buffer 16 KiB) with the 8-byte stack-pointer and back-pointer
 * words around them, the u16 length limit, sign bits, and the edges of 48-bit canonical
 * addresses, which the snapshot loader and the CPU check.
 */
static const uint64_t boundaries[] = {
	0,
	1,
	2,
	7,
	8,
	9,
	15,
	16,
	0x7f,
	0x80,
	0xff,
	0x100,
	0xfff,
	0x1000,
	0x1001,
	0x1ff8,
	0x2000,
	0x2008,
	0x3ff8,
	0x4000,
	0x4001,
	0x7fff,
	0x8000,
	0xffff,
	0x10000,
	0x7fffffff,
	0x80000000,
	0xffffffff,
	0x100000000ull,
	0x00007fffffffffffull,
	0x0000800000000000ull,
	0xffff7fffffffffffull,
	0xffff800000000000ull,
	0x7fffffffffffffffull,
	0x8000000000000000ull,
	0xffffffffffffffffull,
};

uint64_t nub_mut_value(struct nub_mut *m, uint64_t cur, unsigned int width)
{
	uint64_t v;

	switch (nub_mut_below(m, 6)) {
	case 0:
	case 1:
		v = boundaries[nub_mut_below(m, sizeof boundaries / sizeof boundaries[0])];
		if (nub_mut_chance(m, 1, 4))
			v -= 1; /* just below the boundary */
		break;
	case 2:
		v = cur + 1 + nub_mut_below(m, 16);
		break;
	case 3:
		v = cur - 1 - nub_mut_below(m, 16);
		break;
	case 4:
		v = cur ^ (1ull << nub_mut_below(m, 8 * width));
		break;
	default:
		v = next(m);
		break;
	}
	return width >= 8 ? v : v & ((1ull << (8 * width)) - 1);
}

void nub_mut_fill(struct nub_mut *m, uint8_t *p, size_t n)
{
	uint8_t b = (uint8_t)next(m);

	switch (nub_mut_below(m, 4)) {
	case 0:
		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)next(m);
		break;
	case 1:
		memset(p, b, n);
		break;
	case 2:
		memset(p, 0, n);
		break;
	default:
		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)(b + i);
		break;
	}
}

bool nub_mut_splice(struct nub_mut *m, uint8_t *data, size_t *size, size_t max_size, size_t at,
		    size_t remove, const uint8_t *ins, size_t ins_len)
{
	size_t n = *size;

	if (at > n || remove > n - at || ins_len > max_size || n - remove > max_size - ins_len)
		return false;
	/* (ins) may lie inside the part about to move: take a copy first. */
	uint8_t *copy = NULL;
	if (ins && ins_len) {
		copy = malloc(ins_len);
		if (!copy)
			return false;
		memcpy(copy, ins, ins_len);
	}
	memmove(data + at + ins_len, data + at + remove, n - at - remove);
	if (copy)
		memcpy(data + at, copy, ins_len);
	else
		nub_mut_fill(m, data + at, ins_len);
	free(copy);
	*size = n - remove + ins_len;
	return true;
}

size_t nub_mut_havoc(struct nub_mut *m, uint8_t *data, size_t size, size_t max_size)
{
	size_t at = nub_mut_below(m, size);
	unsigned int width = 1u << nub_mut_below(m, 3); /* 1, 2 or 4 bytes */
	uint64_t v = 0;

	switch (nub_mut_below(m, 5)) {
	case 0:
		data[at] ^= (uint8_t)(1u << nub_mut_below(m, 8));
		break;
	case 1:
	case 2:
		if (width > size - at)
			width = 1;
		for (unsigned int i = 0; i < width; i++)
			v |= (uint64_t)data[at + i] << (8 * i);
		v = nub_mut_value(m, v, width);
		for (unsigned int i = 0; i < width; i++)
			data[at + i] = (uint8_t)(v >> (8 * i));
		break;
	case 3:
		nub_mut_splice(m, data, &size, max_size, at, 0, NULL, 1 + nub_mut_below(m, 16));
		break;
	default:
		if (size > 1)
			nub_mut_splice(m, data, &size, max_size, at,
				       1 + nub_mut_below(m, size - at - (at == 0)), NULL, 0);
		break;
	}
	return size;
}

size_t nub_mut_run(struct nub_mut *m, enum nub_mut_format fmt, uint8_t *data, size_t size,
		   size_t max_size)
{
	m->invalid = false;
	if (size > max_size)
		size = max_size;
	return fmt == NUB_MUT_CMDS ? nub_mut_cmds(m, data, size, max_size)
				   : nub_mut_snapshot(m, data, size, max_size);
}

size_t nub_mut_cross(struct nub_mut *m, enum nub_mut_format fmt, const uint8_t *a, size_t a_len,
		     const uint8_t *b, size_t b_len, uint8_t *out, size_t max_size)
{
	m->invalid = false;
	return fmt == NUB_MUT_CMDS ? nub_mut_cmds_cross(m, a, a_len, b, b_len, out, max_size)
				   : nub_mut_snapshot_cross(m, a, a_len, b, b_len, out, max_size);
}

bool nub_mut_disabled(void)
{
	static int off = -1;

	if (off < 0) {
		const char *v = getenv("NUB_FUZZ_MUTATOR");
		off = v && strcmp(v, "off") == 0;
	}
	return off;
}
