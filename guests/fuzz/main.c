/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `fuzz` guest: FUZZ_FN_RUN interprets a command stream (fuzz_cmds.h) so that a fuzzer can
 * drive every guest-to-host path through real VM exits. The parsing and clamping rules are
 * written down once, in harness/fuzz/fuzz_cmds_codec.h; this file implements exactly those.
 *
 * Nothing here faults by accident: every length is clamped to the stream and to the target
 * buffer, so the guest only faults through FUZZ_OP_EXCEPTION or through what the host does.
 * Instructions are emulated on the hosts this runs on, so bytes move with the runtime's
 * memcpy (rep movsq) and only DEBUG_PRINT loops per byte (one OUT each, capped).
 */
#include "fuzz_cmds.h"
#include "nub_guest.h"

#define SPIN_FOREVER 0xffffffffu /* FUZZ_SPIN_FOREVER */
#define SPIN_MAX 4096u           /* FUZZ_SPIN_MAX */
#define DEBUG_PRINT_MAX 64u      /* FUZZ_DEBUG_PRINT_MAX */
#define NO_LEN 0xff

/* Fixed-argument bytes per op, and the offset of the u16 data length in them (NO_LEN: no data). */
static const uint8_t fixed_size[FUZZ_OP_COUNT] = {
	[FUZZ_OP_OUT] = 6,         [FUZZ_OP_OUT8] = 3,          [FUZZ_OP_WRITE_OUTPUT] = 4,
	[FUZZ_OP_WRITE_INPUT] = 4, [FUZZ_OP_SET_OUTPUT_SP] = 8, [FUZZ_OP_PUSH_OUTPUT] = 2,
	[FUZZ_OP_HOST_CALL] = 6,   [FUZZ_OP_LOG] = 3,           [FUZZ_OP_DEBUG_PRINT] = 2,
	[FUZZ_OP_ABORT] = 3,       [FUZZ_OP_EXCEPTION] = 1,     [FUZZ_OP_SPIN] = 4,
	[FUZZ_OP_HALT] = 0,        [FUZZ_OP_HLT] = 0,           [FUZZ_OP_RESPOND] = 2,
};
static const uint8_t len_at[FUZZ_OP_COUNT] = {
	[0] = NO_LEN,
	[FUZZ_OP_OUT] = NO_LEN,
	[FUZZ_OP_OUT8] = NO_LEN,
	[FUZZ_OP_WRITE_OUTPUT] = 2,
	[FUZZ_OP_WRITE_INPUT] = 2,
	[FUZZ_OP_SET_OUTPUT_SP] = NO_LEN,
	[FUZZ_OP_PUSH_OUTPUT] = 0,
	[FUZZ_OP_HOST_CALL] = 4,
	[FUZZ_OP_LOG] = 1,
	[FUZZ_OP_DEBUG_PRINT] = 0,
	[FUZZ_OP_ABORT] = 1,
	[FUZZ_OP_EXCEPTION] = NO_LEN,
	[FUZZ_OP_SPIN] = NO_LEN,
	[FUZZ_OP_HALT] = NO_LEN,
	[FUZZ_OP_HLT] = NO_LEN,
	[FUZZ_OP_RESPOND] = 0,
};

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	__builtin_memcpy(&v, p, sizeof v);
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, sizeof v);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, sizeof v);
	return v;
}

static void put64(uint8_t *p, uint64_t v)
{
	__builtin_memcpy(p, &v, sizeof v);
}

static void outb(uint16_t port, uint8_t value)
{
	__asm__ volatile("outb %b0, %w1" : : "a"(value), "Nd"(port) : "memory");
}

/* Copies the first min(n, size - off % size) bytes of (src) to buffer offset off % size. */
static void buffer_write(uint64_t gva, uint64_t size, uint16_t off, const uint8_t *src, uint64_t n)
{
	uint64_t at = off % size;

	if (n > size - at)
		n = size - at;
	memcpy((uint8_t *)(uintptr_t)(gva + at), src, n);
}

/* A raw element at the output stack pointer, if it lies in 8..size-8; else nothing. */
static void push_output(const uint8_t *src, uint64_t n)
{
	const struct nub_boot_info *b = nub_guest_boot_info();
	uint8_t *buf = (uint8_t *)(uintptr_t)b->output_gva;
	uint64_t sp = get64(buf), size = b->output_size;

	if (sp < NUB_IOBUF_SP_INIT || sp > size - 8)
		return;
	if (n > size - sp - 8)
		n = size - sp - 8;
	memcpy(buf + sp, src, n);
	put64(buf + sp + n, sp);
	put64(buf, sp + n + 8);
}

/* ---- Exceptions (the tricks of guests/simple) ---- */

/* A load from (addr) the compiler cannot drop or reason about. */
static void load_from(uint64_t addr)
{
	__asm__ volatile("movq (%0), %%rax" : : "r"(addr) : "rax", "memory");
}

static void write_code(void)
{
	__asm__ volatile("movb $0, (%0)" : : "r"(write_code) : "memory");
}

static void execute_data(void)
{
	static volatile uint8_t ret_insn = 0xC3; /* "ret", in a writable (so no-execute) page */

	((void (*)(void))(uintptr_t)&ret_insn)();
}

/* GCC could otherwise specialise recurse() for depth 0; clang has no such attribute. */
#ifdef __clang__
#define NOCLONE
#else
#define NOCLONE __attribute__((noclone))
#endif

/* 1 KiB frames until the guard page below the stack; the array is used after the call. */
__attribute__((noinline)) NOCLONE static uint32_t recurse(uint32_t depth)
{
	volatile uint8_t frame[1024];

	frame[depth & 1023] = (uint8_t)depth;
	if (depth == UINT32_MAX)
		return 0;
	return recurse(depth + 1) + frame[(depth * 7) & 1023];
}

static _Noreturn void raise_exception(uint8_t kind)
{
	switch (kind % FUZZ_EXC_COUNT) {
	case FUZZ_EXC_DIVIDE:
		__asm__ volatile("xorl %%ecx, %%ecx\n\tdivl %%ecx" : : : "eax", "ecx", "edx");
		break;
	case FUZZ_EXC_UD2:
		__asm__ volatile("ud2");
		break;
	case FUZZ_EXC_GP:
		load_from(0x8000000000000000ull); /* non-canonical */
		break;
	case FUZZ_EXC_NULL:
		load_from(8);
		break;
	case FUZZ_EXC_WRITE_CODE:
		write_code();
		break;
	case FUZZ_EXC_EXEC_DATA:
		execute_data();
		break;
	case FUZZ_EXC_STACK_OVERFLOW:
		recurse(0);
		break;
	}
	nub_guest_abort(NUB_ABORT_PANIC, "fuzz: the exception did not fault");
}

static _Noreturn void spin_forever(void)
{
	for (;;)
		__asm__ volatile("pause");
}

/* ---- The interpreter ---- */

static uint32_t fn_run(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	const struct nub_boot_info *b = nub_guest_boot_info();
	const uint8_t *s = in; /* the stream: in the input buffer until the first WRITE_INPUT */
	uint32_t pos = 0, resp_at = 0, resp_len = 0;
	int copied = 0;

	while (pos < len) {
		uint32_t at = pos, op = s[pos], fixed, left, n = 0;
		const uint8_t *a, *data;

		if (op == 0 || op >= FUZZ_OP_COUNT)
			break; /* stop: unknown op */
		fixed = fixed_size[op];
		left = len - pos - 1;
		if (left < fixed)
			break; /* stop: truncated */
		a = s + pos + 1;
		data = a + fixed;
		if (len_at[op] != NO_LEN) {
			n = get16(a + len_at[op]);
			if (n > left - fixed)
				n = left - fixed;
		}
		pos += 1 + fixed + n;

		switch (op) {
		case FUZZ_OP_OUT:
			nub_guest_outl(get16(a), get32(a + 2));
			break;
		case FUZZ_OP_OUT8:
			outb(get16(a), a[2]);
			break;
		case FUZZ_OP_WRITE_OUTPUT:
			buffer_write(b->output_gva, b->output_size, get16(a), data, n);
			break;
		case FUZZ_OP_WRITE_INPUT:
			if (!copied) {
				/* The stream must outlive writes over the request it came in. */
				uint8_t *copy = nub_guest_malloc(len);

				if (!copy)
					nub_guest_abort(NUB_ABORT_OUT_OF_MEMORY,
							"fuzz: no heap for the stream copy");
				memcpy(copy, s, len);
				data = copy + (data - s);
				s = copy;
				copied = 1;
			}
			buffer_write(b->input_gva, b->input_size, get16(a), data, n);
			break;
		case FUZZ_OP_SET_OUTPUT_SP:
			put64((uint8_t *)(uintptr_t)b->output_gva, get64(a));
			break;
		case FUZZ_OP_PUSH_OUTPUT:
			push_output(data, n);
			break;
		case FUZZ_OP_HOST_CALL: {
			struct nub_guest_host_result res;

			(void)nub_guest_host_call(get32(a), data, n, &res);
			break;
		}
		case FUZZ_OP_LOG:
			nub_guest_log_n(a[0], "fuzz.c", at, (const char *)data, n);
			break;
		case FUZZ_OP_DEBUG_PRINT:
			nub_guest_debug_print((const char *)data,
					      n < DEBUG_PRINT_MAX ? n : DEBUG_PRINT_MAX);
			break;
		case FUZZ_OP_ABORT:
			nub_guest_abort_n(a[0], (const char *)data, n);
		case FUZZ_OP_EXCEPTION:
			raise_exception(a[0]);
		case FUZZ_OP_SPIN: {
			uint32_t count = get32(a);

			if (count == SPIN_FOREVER)
				spin_forever();
			if (count > SPIN_MAX)
				count = SPIN_MAX;
			for (uint32_t i = 0; i < count; i++)
				__asm__ volatile("pause");
			break;
		}
		case FUZZ_OP_HALT:
			nub_guest_outl(NUB_PORT_HALT, 0);
			break;
		case FUZZ_OP_HLT:
			__asm__ volatile("hlt" : : : "memory");
			break;
		case FUZZ_OP_RESPOND:
			resp_at = (uint32_t)(data - s);
			resp_len = n;
			break;
		}
	}

	if (resp_len > out->cap)
		resp_len = out->cap;
	memcpy(out->data, s + resp_at, resp_len);
	out->len = resp_len;
	return NUB_STATUS_OK;
}

/* ---- The state digest (fuzz_cmds.h, FUZZ_FN_DIGEST) ---- */

/*
 * abi.h's digest of the (n) words at (w). The zero test is one repe scasq (which stops at the
 * first non-zero word), not nub_digest_words's loop: emulated, the string instruction is about
 * three times faster, and most of the state is zero.
 */
static uint64_t digest(const uint64_t *w, uint64_t n)
{
	uint64_t left = n;
	const uint64_t *p = w;
	int zero;

	if (n == 0)
		return 0;
	__asm__ volatile("repe scasq" : "+c"(left), "+D"(p), "=@ccz"(zero) : "a"(0ull) : "memory");
	return zero ? 0 : nub_digest_fnv(w, n);
}

/* Range (i) of fuzz_cmds.h's table as [*start, *end); false for an index past it. */
static int state_range(uint32_t i, uint64_t *start, uint64_t *end)
{
	const struct nub_boot_info *b = nub_guest_boot_info();
	uint64_t in_sp = get64((const uint8_t *)(uintptr_t)b->input_gva);
	struct nub_guest_state_layout s;

	nub_guest_state_layout(&s);
	switch (i) {
	case FUZZ_RANGE_DATA:
		*start = s.data_start, *end = s.call_state_start;
		return 1;
	case FUZZ_RANGE_DATA2:
		*start = s.call_state_end, *end = s.data_end;
		return 1;
	case FUZZ_RANGE_HEAP:
		*start = b->heap_gva, *end = b->heap_gva + b->heap_size;
		return 1;
	case FUZZ_RANGE_STACK:
		*start = s.call_sp, *end = b->stack_top_gva;
		return 1;
	case FUZZ_RANGE_INPUT:
		/* Below sp: the stack pointer and the request the host pushed for this call. */
		in_sp = in_sp <= b->input_size ? in_sp : b->input_size;
		*start = b->input_gva + ((in_sp + 7) & ~7ull);
		*end = b->input_gva + b->input_size;
		return 1;
	case FUZZ_RANGE_OUTPUT:
		*start = b->output_gva, *end = b->output_gva + b->output_size;
		return 1;
	}
	return 0;
}

static uint32_t fn_digest(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint64_t start, end, at, n;
	uint8_t resp[FUZZ_DIGEST_RESPONSE_SIZE];

	if (len != FUZZ_DIGEST_REQUEST_SIZE || !state_range(get32(in), &start, &end) ||
	    get32(in + 4) % 8)
		return NUB_STATUS_BAD_REQUEST;
	if (end < start)
		end = start;
	at = start + get32(in + 4);
	n = at < end ? end - at : 0;
	if (n > get32(in + 8))
		n = get32(in + 8) & ~7u;
	/*
	 * Built on the stack and copied last: out->data lies in the output buffer, which is one of
	 * the ranges.
	 */
	put64(resp, start);
	put64(resp + 8, end - start);
	put64(resp + 16, digest((const uint64_t *)(uintptr_t)at, n / 8));
	if (out->cap < sizeof resp)
		return NUB_STATUS_RESPONSE_TOO_LARGE;
	memcpy(out->data, resp, sizeof resp);
	out->len = sizeof resp;
	return NUB_STATUS_OK;
}

const struct nub_guest_fn nub_guest_functions[] = {
	{ FUZZ_FN_RUN, fn_run },
	{ FUZZ_FN_DIGEST, fn_digest },
};
const uint32_t nub_guest_function_count = sizeof nub_guest_functions /
					  sizeof nub_guest_functions[0];
