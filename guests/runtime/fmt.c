/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded message building: strings, decimal and hexadecimal numbers. */
#include "internal.h"

char *nub_guest_fmt_str(char *p, char *end, const char *s)
{
	if (p >= end)
		return p;
	while (*s && p < end - 1)
		*p++ = *s++;
	*p = 0;
	return p;
}

/* Appends tmp[n-1] down to tmp[0]: digits are produced least significant first. */
static char *put_reversed(char *p, char *end, const char *tmp, unsigned n)
{
	if (p >= end)
		return p;
	while (n && p < end - 1)
		*p++ = tmp[--n];
	*p = 0;
	return p;
}

char *nub_guest_fmt_dec(char *p, char *end, uint64_t v)
{
	char tmp[20];
	unsigned n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put_reversed(p, end, tmp, n);
}

char *nub_guest_fmt_hex(char *p, char *end, uint64_t v)
{
	char tmp[16];
	unsigned n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	p = nub_guest_fmt_str(p, end, "0x");
	return put_reversed(p, end, tmp, n);
}
