/* SPDX-License-Identifier: Apache-2.0 */
/* The I/O buffer "stack" protocol (push/pop with back-pointers) over guest-shared memory; pure. */
#ifndef NUB_IOBUF_H
#define NUB_IOBUF_H

#include <stdint.h>

#include "nub/nub.h"

/*
 * (buf) is the host view of one whole buffer of (size) bytes (size >= 16, a multiple of 8), shared
 * with the guest: every read of it is a volatile single read, so the guest changing it concurrently
 * cannot make a checked value differ from the used value.
 */

/* Sets the stack pointer to NUB_IOBUF_SP_INIT and zeroes the rest of the buffer. */
void nub_iobuf_reset(volatile uint8_t *buf, uint64_t size);

/*
 * Pushes (len) bytes of (data) as one element. Requires 8 <= sp <= size and len + 8 <= size - sp.
 * Errors: NUB_E_PROTOCOL (corrupt sp: "input buffer stack pointer 0x... outside 8..0x..."),
 * NUB_E_LAYOUT (does not fit: names needed and available bytes).
 */
enum nub_status nub_iobuf_push(volatile uint8_t *buf, uint64_t size, const uint8_t *data,
			       uint64_t len, struct nub_error *err);

/*
 * Pops the top element: checks 16 <= sp <= size, sp % 8 == 0 is NOT required, 8 <= back <= sp - 8,
 * copies the element (sp - back - 8 bytes) into (dst) (capacity (cap) >= size is always enough),
 * zeroes [back, sp) in the buffer and sets sp = back. *(len) receives the element length.
 * (what) names the buffer in messages ("output"). Errors: NUB_E_PROTOCOL naming the field and value.
 */
enum nub_status nub_iobuf_pop(volatile uint8_t *buf, uint64_t size, uint8_t *dst, uint64_t cap,
			      uint64_t *len, const char *what, struct nub_error *err);

/* The current stack pointer (a volatile read), for checks such as "buffer is empty". */
uint64_t nub_iobuf_sp(const volatile uint8_t *buf);

#endif
