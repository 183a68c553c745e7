/* SPDX-License-Identifier: Apache-2.0 */
/* memcpy and friends; bulk moves use rep string instructions, 8 bytes per step. */
#include "internal.h"

/*
 * Guest instructions are emulated here, each rep step costing about as much as an instruction, so
 * bulk moves go 8 bytes per step (rep movsq / stosq) and only the 0..7 byte tail goes bytewise.
 * x86 allows unaligned qword moves, so no alignment prologue is needed. DF is 0 (the ABI's state)
 * except inside memmove's backward copy.
 */

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	void *d = dst;
	size_t q = n >> 3, r = n & 7;

	__asm__ volatile("rep movsq\n\t"
			 "movq %[r], %%rcx\n\t"
			 "rep movsb"
			 : "+D"(d), "+S"(src), "+c"(q)
			 : [r] "r"(r)
			 : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	/* Forward is safe unless dst starts inside [src, src + n). */
	if ((uintptr_t)dst - (uintptr_t)src >= n)
		return memcpy(dst, src, n);

	/* Backward: the tail bytes first from the last byte down, then the qwords below them. */
	void *d = (uint8_t *)dst + n - 1;
	const void *s = (const uint8_t *)src + n - 1;
	size_t r = n & 7, q = n >> 3;

	__asm__ volatile("std\n\t"
			 "rep movsb\n\t"
			 "subq $7, %%rsi\n\t"
			 "subq $7, %%rdi\n\t"
			 "movq %[q], %%rcx\n\t"
			 "rep movsq\n\t"
			 "cld"
			 : "+D"(d), "+S"(s), "+c"(r)
			 : [q] "r"(q)
			 : "memory");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	size_t q = n >> 3, r = n & 7;
	uint64_t pattern = (uint8_t)c * 0x0101010101010101ull;

	__asm__ volatile("rep stosq\n\t"
			 "movq %[r], %%rcx\n\t"
			 "rep stosb"
			 : "+D"(d), "+c"(q)
			 : "a"(pattern), [r] "r"(r)
			 : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
