/* SPDX-License-Identifier: Apache-2.0 */
/* The I/O buffer "stack" protocol (push/pop with back-pointers) over guest-shared memory. */
#include "iobuf.h"

#include <inttypes.h>
#include <string.h>

#include "bytes.h"
#include "error.h"

/* nub_vload64 reads native order, the unaligned paths little-endian: they agree on x86-64 only. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the I/O buffer ABI is little-endian");

#define MIN_SIZE 16u

/*
 * One read of a u64 in guest-shared memory. Elements have any length, so back-pointers are often
 * unaligned: those are read as eight single volatile byte loads (a misaligned u64 access is
 * undefined behaviour in C). Either way each byte is read exactly once and the caller uses only
 * the returned value.
 */
static uint64_t load64(const volatile uint8_t *p)
{
	uint8_t b[8];

	if (((uintptr_t)p & 7) == 0)
		return nub_vload64(p);
	for (int i = 0; i < 8; i++)
		b[i] = p[i];
	return nub_le64(b);
}

static void store64(volatile uint8_t *p, uint64_t v)
{
	if (((uintptr_t)p & 7) == 0) {
		nub_vstore64(p, v);
		return;
	}
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Volatile copy out of guest memory: every source byte is read once, in aligned words where possible. */
static void copy_out(uint8_t *dst, const volatile uint8_t *src, uint64_t n)
{
	for (; n && ((uintptr_t)src & 7); n--)
		*dst++ = *src++;
	for (; n >= 8; n -= 8, src += 8, dst += 8) {
		uint64_t w = nub_vload64(src);

		memcpy(dst, &w, 8);
	}
	for (; n; n--)
		*dst++ = *src++;
}

static void copy_in(volatile uint8_t *dst, const uint8_t *src, uint64_t n)
{
	for (; n && ((uintptr_t)dst & 7); n--)
		*dst++ = *src++;
	for (; n >= 8; n -= 8, src += 8, dst += 8) {
		uint64_t w;

		memcpy(&w, src, 8);
		nub_vstore64(dst, w);
	}
	for (; n; n--)
		*dst++ = *src++;
}

static void zero(volatile uint8_t *dst, uint64_t n)
{
	for (; n && ((uintptr_t)dst & 7); n--)
		*dst++ = 0;
	for (; n >= 8; n -= 8, dst += 8)
		nub_vstore64(dst, 0);
	for (; n; n--)
		*dst++ = 0;
}

void nub_iobuf_reset(volatile uint8_t *buf, uint64_t size)
{
	if (!buf || size < NUB_IOBUF_SP_INIT)
		return;
	zero(buf + NUB_IOBUF_SP_INIT, size - NUB_IOBUF_SP_INIT);
	store64(buf, NUB_IOBUF_SP_INIT);
}

uint64_t nub_iobuf_sp(const volatile uint8_t *buf)
{
	return buf ? load64(buf) : 0;
}

enum nub_status nub_iobuf_push(volatile uint8_t *buf, uint64_t size, const uint8_t *data,
			       uint64_t len, struct nub_error *err)
{
	uint64_t sp, room, need;

	if (!buf || size < MIN_SIZE || (!data && len))
		return nub_error_set(err, NUB_E_INVALID,
				     "input buffer push: NULL buffer or data, or size 0x%" PRIx64
				     " below %u",
				     size, MIN_SIZE);
	/* The guest may rewrite sp at any time: read it once, check that value, use only it. */
	sp = load64(buf);
	if (sp < NUB_IOBUF_SP_INIT || sp > size)
		return nub_error_set(err, NUB_E_PROTOCOL,
				     "input buffer stack pointer 0x%" PRIx64
				     " is outside %u..0x%" PRIx64,
				     sp, NUB_IOBUF_SP_INIT, size);
	room = size - sp;
	if (room < 8 || len > room - 8) {
		if (__builtin_add_overflow(len, 8, &need))
			need = UINT64_MAX;
		return nub_error_set(err, NUB_E_LAYOUT,
				     "input buffer full: element needs 0x%" PRIx64
				     " bytes, 0x%" PRIx64 " free",
				     need, room);
	}
	copy_in(buf + sp, data, len);
	store64(buf + sp + len, sp);
	/* sp moves last, so the guest never sees an element whose back-pointer is not yet written. */
	store64(buf, sp + len + 8);
	return NUB_OK;
}

enum nub_status nub_iobuf_pop(volatile uint8_t *buf, uint64_t size, uint8_t *dst, uint64_t cap,
			      uint64_t *len, const char *what, struct nub_error *err)
{
	uint64_t sp, back, n;

	if (!what)
		what = "I/O";
	if (!buf || !len || size < MIN_SIZE)
		return nub_error_set(err, NUB_E_INVALID,
				     "%s buffer pop: NULL buffer or length, or size 0x%" PRIx64
				     " below %u",
				     what, size, MIN_SIZE);
	/*
	 * sp and the back-pointer are guest-written: each is read once and every check and use
	 * below sees that one value, so a concurrent rewrite cannot slip past a check.
	 */
	sp = load64(buf);
	if (sp < MIN_SIZE || sp > size)
		return nub_error_set(err, NUB_E_PROTOCOL,
				     "%s buffer stack pointer 0x%" PRIx64
				     " is outside %u..0x%" PRIx64,
				     what, sp, MIN_SIZE, size);
	back = load64(buf + sp - 8);
	if (back < NUB_IOBUF_SP_INIT || back > sp - 8)
		return nub_error_set(err, NUB_E_PROTOCOL,
				     "%s buffer back-pointer 0x%" PRIx64
				     " is outside %u..0x%" PRIx64 " (sp 0x%" PRIx64 ")",
				     what, back, NUB_IOBUF_SP_INIT, sp - 8, sp);
	n = sp - back - 8;
	if (n > cap || (!dst && n))
		return nub_error_set(err, NUB_E_PROTOCOL,
				     "%s buffer element of 0x%" PRIx64
				     " bytes exceeds the 0x%" PRIx64 " bytes available to copy it",
				     what, n, dst ? cap : 0);
	/* Copy out before anyone parses it: the guest cannot change what the host validates. */
	copy_out(dst, buf + back, n);
	zero(buf + back, sp - back);
	store64(buf, back);
	*len = n;
	return NUB_OK;
}
