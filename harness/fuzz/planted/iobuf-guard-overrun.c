/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Planted bug iobuf-guard-overrun (harness/fuzz/planted.cmake), in fuzz_outb: a host overrun
 * through a guest-memory pointer. A shim around the engine's I/O-buffer pop
 * (-Wl,--wrap=nub_iobuf_pop), which the KVM path calls on the output buffer for every host call,
 * log record and response. Armed, it peeks at the u64 at the stack pointer (the word above the top
 * element) once the pointer passes the pop's own range check (8..size): inside the buffer that is
 * harmless, but with the pointer at the buffer's end the word read is the first of the stack guard
 * page, which follows the output buffer (engine/src/layout.h). The guard is PROT_NONE on the host
 * and ASan-poisoned (engine/src/mem.c), so ASan reports a use-after-poison READ of size 8 (a build
 * without ASan takes SIGSEGV).
 */
#include <string.h>

#include "iobuf.h"
#include "nub_fuzz.h"
#include "planted.h"

enum nub_status __real_nub_iobuf_pop(volatile uint8_t *buf, uint64_t size, uint8_t *dst,
				     uint64_t cap, uint64_t *len, const char *what,
				     struct nub_error *err);
enum nub_status __wrap_nub_iobuf_pop(volatile uint8_t *buf, uint64_t size, uint8_t *dst,
				     uint64_t cap, uint64_t *len, const char *what,
				     struct nub_error *err);

/* Keeps the planted read from being optimised away. */
volatile uint64_t nub_planted_iobuf_sink;

enum nub_status __wrap_nub_iobuf_pop(volatile uint8_t *buf, uint64_t size, uint8_t *dst,
				     uint64_t cap, uint64_t *len, const char *what,
				     struct nub_error *err)
{
	if (buf && size >= 16 && nub_planted("iobuf-guard-overrun")) {
		uint64_t sp = nub_iobuf_sp(buf);
		if (sp >= 8 && sp <= size) /* PLANTED BUG: the word at sp, past the top element */
			nub_planted_iobuf_sink = *(const volatile uint64_t *)(buf + sp);
	}
	return __real_nub_iobuf_pop(buf, size, dst, cap, len, what, err);
}
