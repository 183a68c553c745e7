/* SPDX-License-Identifier: Apache-2.0 */
/* Runtime-private declarations shared by the files of nub_guest_runtime. */
#ifndef NUB_GUEST_INTERNAL_H
#define NUB_GUEST_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "nub_guest.h"

/* Buffer fields may sit at any byte offset (elements carry no padding): access them unaligned. */
typedef uint64_t __attribute__((aligned(1), may_alias)) nub_u64u;
typedef uint32_t __attribute__((aligned(1), may_alias)) nub_u32u;

static inline uint64_t nub_rd64(const void *p)
{
	return *(const nub_u64u *)p;
}

static inline uint32_t nub_rd32(const void *p)
{
	return *(const nub_u32u *)p;
}

static inline void nub_wr64(void *p, uint64_t v)
{
	*(nub_u64u *)p = v;
}

static inline void nub_wr32(void *p, uint32_t v)
{
	*(nub_u32u *)p = v;
}

static inline uint8_t *nub_ptr(uint64_t gva)
{
	return (uint8_t *)(uintptr_t)gva;
}

/* The boot info (set first thing by nub_runtime_start). */
extern const struct nub_boot_info *nub_rt_boot;

/*
 * The call in progress, or out == NULL outside calls: the response header goes at output offset
 * resp_base, its payload is being written through out.
 */
extern struct nub_guest_out *nub_rt_out;
extern uint64_t nub_rt_resp_base;

/* entry.S -> runtime.c */
_Noreturn void nub_runtime_start(const struct nub_boot_info *boot);

/* cpu.c: loads the GDT, TSS (IST1 = ist1) and IDT. */
void nub_cpu_init(uint64_t ist1);
/* cpu.c, called by the vector stubs in exceptions.S. */
_Noreturn void nub_rt_exception(uint64_t vector);
/* exceptions.S: the IDT register image for lidt. */
extern const uint8_t nub_idtr[10];

/* heap.c */
void nub_heap_init(uint64_t base, uint64_t size);

/*
 * io.c: the abort stream. (vector) < 0 means none; (code) and the message are sent as described in
 * abi.h, then the vCPU halts for good.
 */
_Noreturn void nub_rt_abort(uint8_t code, int vector, const char *msg, uint32_t len);
/* io.c: aborts with NUB_ABORT_PROTOCOL and a NUL-terminated message. */
_Noreturn void nub_rt_protocol(const char *msg);
/* io.c: aborts with NUB_ABORT_PROTOCOL: "(what): input (field) 0x(value) outside (lo)..0x(hi)". */
_Noreturn void nub_rt_input_corrupt(const char *what, const char *field, uint64_t value,
				    uint64_t lo, uint64_t hi);

/*
 * Validates the top element of the input buffer and returns its offset and length; a corrupt
 * stack pointer or back-pointer aborts with NUB_ABORT_PROTOCOL naming (what). Inline: it is on
 * every call's path.
 */
static inline void nub_rt_input_top(const char *what, uint64_t *back, uint64_t *len)
{
	const uint8_t *buf = nub_ptr(nub_rt_boot->input_gva);
	uint64_t size = nub_rt_boot->input_size, sp = nub_rd64(buf), b;

	if (sp < 16 || sp > size)
		nub_rt_input_corrupt(what, "stack pointer", sp, 16, size);
	b = nub_rd64(buf + sp - 8);
	if (b < 8 || b > sp - 8)
		nub_rt_input_corrupt(what, "back-pointer", b, 8, sp - 8);
	*back = b;
	*len = sp - b - 8;
}

#endif /* NUB_GUEST_INTERNAL_H */
