/* SPDX-License-Identifier: Apache-2.0 */
/* The `simple` test guest: one function per behaviour promised in simple_fns.h. */
#include <stdbool.h>

#include "nub_guest.h"
#include "simple_fns.h"

#define FILE_NAME "simple.c"

/* Error messages outlive the function (the runtime copies them after it returns). */
static char msg[128];

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, sizeof v);
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	__builtin_memcpy(p, &v, sizeof v);
}

/* "(need), got (len)" with status NUB_STATUS_GUEST_ERROR, e.g. "add needs 8 bytes, got 3". */
static uint32_t bad_length(struct nub_guest_out *out, const char *need, uint32_t len)
{
	char *p = msg, *end = msg + sizeof msg;

	p = nub_guest_fmt_str(p, end, need);
	p = nub_guest_fmt_str(p, end, ", got ");
	nub_guest_fmt_dec(p, end, len);
	out->msg = msg;
	return NUB_STATUS_GUEST_ERROR;
}

/* "(what) (n) bytes: only (cap) fit" with status NUB_STATUS_RESPONSE_TOO_LARGE. */
static uint32_t too_large(struct nub_guest_out *out, const char *what, uint64_t n)
{
	char *p = msg, *end = msg + sizeof msg;

	p = nub_guest_fmt_str(p, end, what);
	p = nub_guest_fmt_str(p, end, " ");
	p = nub_guest_fmt_dec(p, end, n);
	p = nub_guest_fmt_str(p, end, " bytes: only ");
	p = nub_guest_fmt_dec(p, end, out->cap);
	nub_guest_fmt_str(p, end, " fit");
	out->msg = msg;
	return NUB_STATUS_RESPONSE_TOO_LARGE;
}

/* Returns (len) bytes of (data) as the response payload. */
static uint32_t respond(struct nub_guest_out *out, const char *what, const void *data, uint32_t len)
{
	if (len > out->cap)
		return too_large(out, what, len);
	memcpy(out->data, data, len);
	out->len = len;
	return NUB_STATUS_OK;
}

/*
 * Pushes a hand-made element onto the output buffer at its stack pointer, for the tests that break
 * the protocol on purpose; returns the offset of its back-pointer.
 */
static uint64_t raw_push(const void *el, uint32_t len)
{
	const struct nub_boot_info *b = nub_guest_boot_info();
	uint8_t *buf = (uint8_t *)(uintptr_t)b->output_gva;
	uint64_t sp;

	__builtin_memcpy(&sp, buf, sizeof sp);
	if (sp < NUB_IOBUF_SP_INIT || sp > b->output_size || b->output_size - sp < len + 8ull)
		nub_guest_abort(NUB_ABORT_PANIC, "raw_push: no room in the output buffer");
	memcpy(buf + sp, el, len);
	__builtin_memcpy(buf + sp + len, &sp, sizeof sp);
	sp += len + 8ull;
	__builtin_memcpy(buf, &sp, sizeof sp);
	return sp - 8;
}

static uint32_t fn_echo(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	return respond(out, "echo", in, len);
}

static uint32_t fn_add(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	if (len != 8)
		return bad_length(out, "add needs 8 bytes", len);
	if (out->cap < 4)
		return too_large(out, "add", 4);
	put32(out->data, get32(in) + get32(in + 4));
	out->len = 4;
	return NUB_STATUS_OK;
}

#define P4(n) n, n + 1, n + 2, n + 3
#define P16(n) P4(n), P4(n + 4), P4(n + 8), P4(n + 12)
#define P64(n) P16(n), P16(n + 16), P16(n + 32), P16(n + 48)
static const uint8_t fill_pattern[256] = { P64(0), P64(64), P64(128), P64(192) };

static uint32_t fn_fill(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint32_t n;

	if (len != 4)
		return bad_length(out, "fill needs 4 bytes", len);
	n = get32(in);
	if (n > out->cap)
		return too_large(out, "fill", n);
	/* One table copy, then doubling copies of what is written: few rep movs, no byte loop. */
	memcpy(out->data, fill_pattern, n < 256 ? n : 256);
	for (uint64_t k = 256; k < n; k *= 2)
		memcpy(out->data + k, out->data, k < n - k ? k : n - k);
	out->len = n;
	return NUB_STATUS_OK;
}

/* The result of a host call as this function's response. */
static uint32_t relay(struct nub_guest_out *out, uint32_t status,
		      const struct nub_guest_host_result *res)
{
	if (status != NUB_STATUS_OK) {
		out->msg = res->msg;
		return status;
	}
	return respond(out, "host call result", res->payload, res->payload_len);
}

static uint32_t fn_host_call(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	struct nub_guest_host_result res;
	uint32_t status;

	if (len < 4)
		return bad_length(out, "host call needs at least 4 bytes", len);
	status = nub_guest_host_call(get32(in), in + 4, len - 4, &res);
	return relay(out, status, &res);
}

static uint32_t fn_host_call_chain(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	struct nub_guest_host_result res;
	uint32_t count, fn_id, status = NUB_STATUS_OK;

	if (len < 8)
		return bad_length(out, "host call chain needs at least 8 bytes", len);
	count = get32(in);
	fn_id = get32(in + 4);
	/* Count 0 returns the bytes unchanged; each call's result is the next call's request. */
	res.payload = in + 8;
	res.payload_len = len - 8;
	for (uint32_t i = 0; i < count && status == NUB_STATUS_OK; i++)
		status = nub_guest_host_call(fn_id, res.payload, res.payload_len, &res);
	return relay(out, status, &res);
}

static uint32_t fn_log(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	if (len < 4)
		return bad_length(out, "log needs at least 4 bytes", len);
	nub_guest_log_n(get32(in), FILE_NAME, __LINE__, (const char *)in + 4, len - 4);
	return NUB_STATUS_OK;
}

static uint32_t fn_log_all(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	static const char *const text[5] = { "level 1", "level 2", "level 3", "level 4",
					     "level 5" };

	(void)in, (void)len, (void)out;
	for (uint32_t level = 1; level <= 5; level++)
		nub_guest_log(level, FILE_NAME, __LINE__, text[level - 1]);
	return NUB_STATUS_OK;
}

static uint32_t fn_debug_print(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)out;
	nub_guest_debug_print((const char *)in, len);
	return NUB_STATUS_OK;
}

static uint32_t fn_abort(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	if (len < 1)
		return bad_length(out, "abort needs at least 1 byte", len);
	nub_guest_abort_n(in[0], (const char *)in + 1, len - 1);
}

static uint32_t fn_abort_long(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	static char text[2000];

	(void)in, (void)len, (void)out;
	/* 'a' + (i % 26): the alphabet, then doubling copies (every copy offset is a multiple of 26). */
	memcpy(text, "abcdefghijklmnopqrstuvwxyz", 26);
	for (uint32_t k = 26; k < sizeof text; k *= 2)
		memcpy(text + k, text, k < sizeof text - k ? k : sizeof text - k);
	nub_guest_abort_n(7, text, sizeof text);
}

static uint32_t fn_divide_by_zero(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len, (void)out;
	__asm__ volatile("xorl %%ecx, %%ecx\n\tdivl %%ecx" : : : "eax", "ecx", "edx");
	return NUB_STATUS_OK;
}

static uint32_t fn_invalid_opcode(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len, (void)out;
	__asm__ volatile("ud2");
	return NUB_STATUS_OK;
}

static uint32_t fn_breakpoint(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len, (void)out;
	__asm__ volatile("int3");
	return NUB_STATUS_OK;
}

/* A load from (addr) the compiler cannot drop or reason about. */
static void load_from(uint64_t addr)
{
	__asm__ volatile("movq (%0), %%rax" : : "r"(addr) : "rax", "memory");
}

static uint32_t fn_general_protection(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len, (void)out;
	load_from(0x8000000000000000ull); /* non-canonical */
	return NUB_STATUS_OK;
}

static uint32_t fn_null_deref(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len, (void)out;
	load_from(8);
	return NUB_STATUS_OK;
}

static uint32_t fn_write_code(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len, (void)out;
	__asm__ volatile("movb $0, (%0)" : : "r"(fn_write_code) : "memory");
	return NUB_STATUS_OK;
}

static uint32_t fn_execute_data(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	static volatile uint8_t ret_insn = 0xC3; /* "ret", in a writable (so no-execute) page */

	(void)in, (void)len, (void)out;
	((void (*)(void))(uintptr_t)&ret_insn)();
	return NUB_STATUS_OK;
}

/* 1 KiB frames forever; the array is used after the call, so the call cannot become a jump. */
__attribute__((noinline, noclone)) static uint32_t recurse(uint32_t depth)
{
	volatile uint8_t frame[1024];

	frame[depth & 1023] = (uint8_t)depth;
	if (depth == UINT32_MAX)
		return 0;
	return recurse(depth + 1) + frame[(depth * 7) & 1023];
}

static uint32_t fn_stack_overflow(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len, (void)out;
	return recurse(0);
}

static uint32_t fn_heap_exhaust(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	char *p = msg, *end = msg + sizeof msg;
	uint64_t count = 0;

	(void)in, (void)len, (void)out;
	while (nub_guest_malloc(4096))
		count++;
	p = nub_guest_fmt_str(p, end, "heap exhausted after ");
	p = nub_guest_fmt_dec(p, end, count);
	nub_guest_fmt_str(p, end, " allocations");
	nub_guest_abort(NUB_ABORT_OUT_OF_MEMORY, msg);
}

static _Noreturn void spin(void)
{
	for (;;)
		__asm__ volatile("pause");
}

static uint32_t fn_spin(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len, (void)out;
	spin();
}

static uint32_t fn_bad_port(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len, (void)out;
	nub_guest_outl(0x1234, 0);
	return NUB_STATUS_OK;
}

static uint32_t fn_corrupt_output_sp(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint64_t sp = 0xfffffff0u;

	(void)in, (void)len, (void)out;
	__builtin_memcpy((void *)(uintptr_t)nub_guest_boot_info()->output_gva, &sp, sizeof sp);
	nub_guest_outl(NUB_PORT_HOST_CALL, 0);
	return NUB_STATUS_OK;
}

static uint32_t fn_corrupt_output_back(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint8_t req[8];
	uint8_t *buf = (uint8_t *)(uintptr_t)nub_guest_boot_info()->output_gva;
	uint64_t back_at, back;

	(void)in, (void)len, (void)out;
	put32(req, 1);
	put32(req + 4, 0);
	back_at = raw_push(req, sizeof req);
	back = back_at + 8 + 64; /* the stack pointer + 64: beyond the element */
	__builtin_memcpy(buf + back_at, &back, sizeof back);
	nub_guest_outl(NUB_PORT_HOST_CALL, 0);
	return NUB_STATUS_OK;
}

static uint32_t fn_corrupt_output_frame(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint8_t req[12];

	(void)in, (void)len, (void)out;
	put32(req, 1);
	put32(req + 4, 1000); /* but 4 payload bytes follow */
	put32(req + 8, 0x64636261);
	raw_push(req, sizeof req);
	nub_guest_outl(NUB_PORT_HOST_CALL, 0);
	return NUB_STATUS_OK;
}

/*
 * SIMPLE_MMIO remaps a heap page to a guest-physical address no memory slot backs, so the next
 * access exits to the host as MMIO. The walk reads the host's entries with the architectural bits
 * (X86_PTE_*); a large page on the path cannot be split here, so the guest aborts on one.
 */
#define MMIO_GPA 0x800000000ull

static uint32_t fn_mmio(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint8_t *page = nub_guest_alloc_pages(1);
	uint64_t va = (uintptr_t)page, cr3;
	volatile uint64_t *table, *pte;

	(void)in, (void)len;
	if (!page) {
		out->msg = "mmio: no heap page";
		return NUB_STATUS_GUEST_ERROR;
	}
	/* Walk the host's 4-level tables (identity-mapped, writable) down to the page's PTE. */
	__asm__ volatile("movq %%cr3, %0" : "=r"(cr3));
	table = (volatile uint64_t *)(uintptr_t)(cr3 & X86_PTE_ADDR);
	for (unsigned shift = 39; shift > 12; shift -= 9) {
		uint64_t e = table[(va >> shift) & 511];

		if (!(e & X86_PTE_P) || (e & X86_PTE_PS))
			nub_guest_abort(NUB_ABORT_PANIC,
					"mmio: heap page is not mapped by a 4 KiB PTE");
		table = (volatile uint64_t *)(uintptr_t)(e & X86_PTE_ADDR);
	}
	pte = &table[(va >> 12) & 511];
	/* Same flags, another frame: a guest-physical address no memory slot backs. */
	*pte = (*pte & ~X86_PTE_ADDR) | MMIO_GPA | X86_PTE_P | X86_PTE_RW | X86_PTE_NX;
	__asm__ volatile("invlpg (%0)" : : "r"(page) : "memory");
	load_from(va);
	return NUB_STATUS_OK;
}

static uint32_t fn_triple_fault(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty_idt = { 0, 0 };

	(void)in, (void)len, (void)out;
	/*
	 * #UD finds no gate -> #GP finds none -> #DF finds none -> shutdown. ud2, not int3: the CPL0
	 * instruction emulator of this project's KVM hosts (PVM) cannot emulate int3 at all.
	 */
	__asm__ volatile("lidt %0\n\tud2" : : "m"(empty_idt) : "memory");
	return NUB_STATUS_OK;
}

static uint32_t fn_enable_xsave(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint64_t cr4;

	(void)in, (void)len, (void)out;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= X86_CR4_OSXSAVE;
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
	/* XCR0 = x87 | SSE | AVX: refused, whether or not the CR4 write got through */
	__asm__ volatile("xsetbv" : : "c"(0), "a"(7), "d"(0) : "memory");
	return NUB_STATUS_OK;
}

static uint32_t fn_static_counter(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	static uint32_t counter;

	(void)in, (void)len;
	if (out->cap < 4)
		return too_large(out, "counter", 4);
	put32(out->data, ++counter);
	out->len = 4;
	return NUB_STATUS_OK;
}

static uint32_t fn_boot_info(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len;
	return respond(out, "boot info", nub_guest_boot_info(), sizeof(struct nub_boot_info));
}

static _Noreturn void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli\n\thlt");
}

static uint32_t fn_bad_response(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint8_t resp[12];

	(void)in, (void)len, (void)out;
	put32(resp, NUB_STATUS_OK);
	put32(resp + 4, 1000); /* but no payload follows */
	put32(resp + 8, 0);
	raw_push(resp, sizeof resp);
	nub_guest_outl(NUB_PORT_HALT, 0);
	/* Never back to the runtime: it would push a second response. */
	halt_forever();
}

static uint32_t fn_log_bad_level(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint8_t rec[16 + sizeof FILE_NAME - 1 + 3];

	(void)in, (void)len, (void)out;
	put32(rec, 9);
	put32(rec + 4, __LINE__);
	put32(rec + 8, sizeof FILE_NAME - 1);
	put32(rec + 12, 3);
	memcpy(rec + 16, FILE_NAME "bad", sizeof FILE_NAME - 1 + 3);
	raw_push(rec, sizeof rec);
	nub_guest_outl(NUB_PORT_LOG, 0);
	return NUB_STATUS_OK;
}

static uint32_t fn_print_bad_scalar(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len, (void)out;
	nub_guest_outl(NUB_PORT_DEBUG_PRINT, 0xD800);
	return NUB_STATUS_OK;
}

static uint32_t fn_abort_bad_count(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len, (void)out;
	nub_guest_outl(NUB_PORT_ABORT, 0);
	return NUB_STATUS_OK;
}

static uint32_t fn_hlt(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len, (void)out;
	nub_guest_end_call_with_hlt();
	return NUB_STATUS_OK;
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

/* (v) as an 8-byte response. */
static uint32_t respond64(struct nub_guest_out *out, const char *what, uint64_t v)
{
	if (out->cap < 8)
		return too_large(out, what, 8);
	put64(out->data, v);
	out->len = 8;
	return NUB_STATUS_OK;
}

static uint32_t fn_read_counter(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len;
	return respond64(out, "counter",
			 *(const volatile uint64_t *)(uintptr_t)nub_guest_boot_info()->counter_gva);
}

/*
 * Offset 2048 rather than 0 of each page: the allocator's first block header sits at the start of
 * the heap, and the heap must stay usable after the raw writes.
 */
#define DIRTY_OFFSET 2048u

static uint32_t fn_dirty_heap_pages(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	const struct nub_boot_info *b = nub_guest_boot_info();
	uint64_t pages = b->heap_size / NUB_PAGE_SIZE;
	uint32_t n, v;

	if (len != 8)
		return bad_length(out, "dirty heap pages needs 8 bytes", len);
	n = get32(in);
	v = get32(in + 4);
	if (n > pages) {
		char *p = msg, *end = msg + sizeof msg;

		p = nub_guest_fmt_str(p, end, "heap has only ");
		p = nub_guest_fmt_dec(p, end, pages);
		nub_guest_fmt_str(p, end, " pages");
		out->msg = msg;
		return NUB_STATUS_GUEST_ERROR;
	}
	for (uint64_t i = 0; i < n; i++)
		*(volatile uint32_t *)(uintptr_t)(b->heap_gva + i * NUB_PAGE_SIZE +
						  DIRTY_OFFSET) = v;
	return NUB_STATUS_OK;
}

static uint32_t fn_heap_alloc(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint32_t size;
	uint8_t *p;

	if (len != 4)
		return bad_length(out, "heap alloc needs 4 bytes", len);
	size = get32(in);
	p = nub_guest_malloc(size);
	if (p && size > 0)
		*(volatile uint8_t *)p = 0x5a;
	return respond64(out, "heap alloc", (uintptr_t)p);
}

/* A 4 KiB frame filled with one rep stos; reading a byte back keeps it from being optimised out. */
__attribute__((noinline, noclone)) static uint32_t smash_frame(void)
{
	volatile uint8_t frame[4096];

	memset((void *)frame, 0xcc, sizeof frame);
	return frame[sizeof frame - 1];
}

static uint32_t fn_stack_smash(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	(void)in, (void)len, (void)out;
	smash_frame();
	return NUB_STATUS_OK;
}

/* Fills [from, min(from + 1024, size)) of the buffer at (gva) with 0xee; nothing if from >= size. */
static void scribble(uint64_t gva, uint64_t size, uint64_t from)
{
	if (from >= size)
		return;
	memset((void *)(uintptr_t)(gva + from), 0xee, size - from < 1024 ? size - from : 1024);
}

static uint32_t fn_buffer_scribble(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	const struct nub_boot_info *b = nub_guest_boot_info();
	uint64_t isp = get64((const uint8_t *)(uintptr_t)b->input_gva);
	uint64_t osp = get64((const uint8_t *)(uintptr_t)b->output_gva);

	(void)in, (void)len, (void)out;
	/* The request lies below the input sp; the response will be pushed at the output sp. */
	scribble(b->input_gva, b->input_size, isp);
	if (osp <= b->output_size && b->output_size - osp > 1024)
		scribble(b->output_gva, b->output_size, osp + 1024);
	return NUB_STATUS_OK;
}

/* Checks [off, off + n) against the init data; on failure sets the error message and returns false. */
static bool init_data_range(struct nub_guest_out *out, uint64_t off, uint64_t n)
{
	const struct nub_boot_info *b = nub_guest_boot_info();
	char *p = msg, *end = msg + sizeof msg;

	if (b->init_data_gva != 0 && off <= b->init_data_size && n <= b->init_data_size - off)
		return true;
	p = nub_guest_fmt_str(p, end, "init data range ");
	p = nub_guest_fmt_dec(p, end, off);
	p = nub_guest_fmt_str(p, end, "+");
	p = nub_guest_fmt_dec(p, end, n);
	p = nub_guest_fmt_str(p, end, " outside ");
	p = nub_guest_fmt_dec(p, end, b->init_data_gva ? b->init_data_size : 0);
	nub_guest_fmt_str(p, end, " bytes");
	out->msg = msg;
	return false;
}

static uint32_t fn_init_data_read(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint32_t off, n;

	if (len != 8)
		return bad_length(out, "init data read needs 8 bytes", len);
	off = get32(in);
	n = get32(in + 4);
	if (!init_data_range(out, off, n))
		return NUB_STATUS_GUEST_ERROR;
	return respond(out, "init data read",
		       (const void *)(uintptr_t)(nub_guest_boot_info()->init_data_gva + off), n);
}

static uint32_t fn_init_data_write(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint32_t off;

	if (len != 5)
		return bad_length(out, "init data write needs 5 bytes", len);
	off = get32(in);
	if (!init_data_range(out, off, 1))
		return NUB_STATUS_GUEST_ERROR;
	*(volatile uint8_t *)(uintptr_t)(nub_guest_boot_info()->init_data_gva + off) = in[4];
	return NUB_STATUS_OK;
}

static uint32_t fn_init_data_exec(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint32_t off;

	if (len != 4)
		return bad_length(out, "init data exec needs 4 bytes", len);
	off = get32(in);
	if (!init_data_range(out, off, 1))
		return NUB_STATUS_GUEST_ERROR;
	((void (*)(void))(uintptr_t)(nub_guest_boot_info()->init_data_gva + off))();
	return NUB_STATUS_OK;
}

#define PAGE_MASK ((uint64_t)NUB_PAGE_SIZE - 1)

/*
 * Identity-maps every page of [gpa, gpa + n) (n > 0) with (perms); on failure sets "(what): cannot
 * map page 0x(page): error (e)" and returns false.
 */
static bool map_range(struct nub_guest_out *out, const char *what, uint64_t gpa, uint64_t n,
		      uint32_t perms)
{
	uint64_t page = gpa & ~PAGE_MASK, last;
	char *p = msg, *end = msg + sizeof msg;
	int e = NUB_GUEST_MAP_EINVAL;

	if (gpa <= UINT64_MAX - (n - 1)) {
		last = (gpa + (n - 1)) & ~PAGE_MASK;
		for (;;) {
			e = nub_guest_map_page(page, page, perms);
			if (e != 0 || page == last)
				break;
			page += NUB_PAGE_SIZE;
		}
		if (e == 0)
			return true;
	}
	p = nub_guest_fmt_str(p, end, what);
	p = nub_guest_fmt_str(p, end, ": cannot map page ");
	p = nub_guest_fmt_hex(p, end, page);
	p = nub_guest_fmt_str(p, end, ": error -");
	nub_guest_fmt_dec(p, end, (uint64_t) - (int64_t)e);
	out->msg = msg;
	return false;
}

static uint32_t fn_mapped_read(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint64_t gpa;
	uint32_t n;

	if (len != 12)
		return bad_length(out, "mapped read needs 12 bytes", len);
	gpa = get64(in);
	n = get32(in + 8);
	if (n == 0) {
		out->msg = "mapped read needs a length of at least 1";
		return NUB_STATUS_GUEST_ERROR;
	}
	if (n > out->cap)
		return too_large(out, "mapped read", n);
	if (!map_range(out, "mapped read", gpa, n, NUB_MEM_READ))
		return NUB_STATUS_GUEST_ERROR;
	return respond(out, "mapped read", (const void *)(uintptr_t)gpa, n);
}

static uint32_t fn_mapped_write(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint64_t gpa;

	if (len != 9)
		return bad_length(out, "mapped write needs 9 bytes", len);
	gpa = get64(in);
	if (!map_range(out, "mapped write", gpa, 1, NUB_MEM_READ | NUB_MEM_WRITE))
		return NUB_STATUS_GUEST_ERROR;
	*(volatile uint8_t *)(uintptr_t)gpa = in[8];
	return NUB_STATUS_OK;
}

static uint32_t fn_mapped_exec(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	uint64_t gpa;

	if (len != 8)
		return bad_length(out, "mapped exec needs 8 bytes", len);
	gpa = get64(in);
	if (!map_range(out, "mapped exec", gpa, 1, NUB_MEM_READ | NUB_MEM_EXECUTE))
		return NUB_STATUS_GUEST_ERROR;
	((void (*)(void))(uintptr_t)gpa)();
	return NUB_STATUS_OK;
}

/*
 * The x87/SSE state as FXSAVE stores it. fxsave, fxrstor and movdqu are the only x87/SSE state
 * instructions the CPL0 emulator of kvm_pvm (this project's KVM) handles: ldmxcsr, stmxcsr, fldcw
 * and fld1 all end the call with NUB_E_EMULATION there. So the functions below read and write the
 * state through this image. Guests are built with -mgeneral-regs-only: the compiler itself never
 * touches x87 or SSE registers, so what the asm loads stays until the next call changes it.
 */
#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4 /* abridged tag word: bit n set = physical register n is valid */
#define FX_MXCSR 24
#define FX_ST 32   /* ST(0) .. ST(7), 16 bytes apart, in stack order */
#define FX_XMM 160 /* xmm0 .. xmm15, 16 bytes apart */

struct fx_image {
	uint8_t b[512];
} __attribute__((aligned(16)));

static void fxsave(struct fx_image *fx)
{
	__asm__ volatile("fxsave %0" : "=m"(*fx));
}

static uint32_t fn_set_fpu_state(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	/* 1.0 in the 80-bit format: significand 0x8000000000000000, exponent 0x3fff, sign 0. */
	static const uint8_t one[10] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f };
	struct fx_image fx;
	uint16_t fsw;
	unsigned top;

	if (len != 6)
		return bad_length(out, "set fpu state needs 6 bytes", len);
	fxsave(&fx);
	memcpy(fx.b + FX_MXCSR, in, 4);
	memcpy(fx.b + FX_FCW, in + 4, 2);
	for (uint32_t i = 0; i < 256; i++)
		fx.b[FX_XMM + i] = (uint8_t)i ^ in[i % 6];
	/* fld1: TOP - 1, that register valid, ST(i) becomes ST(i + 1), ST(0) = 1.0 */
	__builtin_memcpy(&fsw, fx.b + FX_FSW, sizeof fsw);
	top = ((fsw >> 11) - 1u) & 7u;
	fsw = (uint16_t)((fsw & ~0x3800u) | top << 11);
	__builtin_memcpy(fx.b + FX_FSW, &fsw, sizeof fsw);
	fx.b[FX_FTW] |= (uint8_t)(1u << top);
	memmove(fx.b + FX_ST + 16, fx.b + FX_ST, 7 * 16);
	memset(fx.b + FX_ST, 0, 16);
	memcpy(fx.b + FX_ST, one, sizeof one);
	/* fxrstor raises #GP for MXCSR bits 16..31 (and, on hardware, for bits outside MXCSR_MASK). */
	__asm__ volatile("fxrstor %0" : : "m"(fx));
	return NUB_STATUS_OK;
}

static uint32_t fn_get_fpu_state(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	struct fx_image fx;
	uint8_t r[40];

	(void)in, (void)len;
	fxsave(&fx);
	memcpy(r, fx.b + FX_MXCSR, 4);
	memcpy(r + 4, fx.b + FX_FCW, 2);
	memcpy(r + 6, fx.b + FX_FSW, 2);
	memcpy(r + 8, fx.b + FX_XMM, 16);
	memcpy(r + 24, fx.b + FX_XMM + 15 * 16, 16);
	return respond(out, "fpu state", r, sizeof r);
}

static uint32_t fn_set_debug_regs(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	if (len != 40)
		return bad_length(out, "set debug regs needs 40 bytes", len);
	/* DR7 last: with DR7.GD set, every later MOV DR raises #DB. */
	__asm__ volatile("mov %0, %%dr0\n\t"
			 "mov %1, %%dr1\n\t"
			 "mov %2, %%dr2\n\t"
			 "mov %3, %%dr3\n\t"
			 "mov %4, %%dr7"
			 :
			 : "r"(get64(in)), "r"(get64(in + 8)), "r"(get64(in + 16)),
			   "r"(get64(in + 24)), "r"(get64(in + 32))
			 : "memory");
	return NUB_STATUS_OK;
}

/*
 * GS.base and MSR_KERNEL_GS_BASE are both 0 after boot, where a bare swapgs changes nothing, and a
 * CPL0 guest has no wrmsr (MSRs are default-deny) nor wrgsbase (CR4.FSGSBASE is clear). So GS.base
 * is first loaded the only other way: GS's selector 0x10 is reloaded from a temporary GDT whose
 * entry 2 is the runtime's data descriptor with that base, and the runtime's GDT is put back. The
 * runtime never uses GS, so neither base matters to it.
 */
static uint32_t fn_swapgs(const uint8_t *in, uint32_t len, struct nub_guest_out *out)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) old, tmp;
	uint64_t gdt[3], base;

	if (len != 4)
		return bad_length(out, "swapgs needs 4 bytes", len);
	base = get32(in);
	gdt[0] = 0;
	gdt[1] = 0;
	/* base 0..23 at bits 16..39, base 24..31 at bits 56..63; accessed preset, as in the runtime's */
	gdt[2] = 0x00CF93000000FFFFull | (base & 0xFFFFFF) << 16 | (base >> 24) << 56;
	tmp.limit = sizeof gdt - 1;
	tmp.base = (uintptr_t)gdt;
	__asm__ volatile("sgdt %0" : "=m"(old));
	__asm__ volatile("lgdt %[tmp]\n\t"
			 "movl $0x10, %%eax\n\t"
			 "movl %%eax, %%gs\n\t"
			 "lgdt %[old]\n\t"
			 "swapgs"
			 :
			 : [tmp] "m"(tmp), [old] "m"(old), "m"(gdt)
			 : "rax", "memory");
	return NUB_STATUS_OK;
}

const struct nub_guest_fn nub_guest_functions[] = {
	{ SIMPLE_ECHO, fn_echo },
	{ SIMPLE_ADD, fn_add },
	{ SIMPLE_FILL, fn_fill },
	{ SIMPLE_HOST_CALL, fn_host_call },
	{ SIMPLE_HOST_CALL_CHAIN, fn_host_call_chain },
	{ SIMPLE_LOG, fn_log },
	{ SIMPLE_LOG_ALL, fn_log_all },
	{ SIMPLE_DEBUG_PRINT, fn_debug_print },
	{ SIMPLE_ABORT, fn_abort },
	{ SIMPLE_ABORT_LONG, fn_abort_long },
	{ SIMPLE_DIVIDE_BY_ZERO, fn_divide_by_zero },
	{ SIMPLE_INVALID_OPCODE, fn_invalid_opcode },
	{ SIMPLE_BREAKPOINT, fn_breakpoint },
	{ SIMPLE_GENERAL_PROTECTION, fn_general_protection },
	{ SIMPLE_NULL_DEREF, fn_null_deref },
	{ SIMPLE_WRITE_CODE, fn_write_code },
	{ SIMPLE_EXECUTE_DATA, fn_execute_data },
	{ SIMPLE_STACK_OVERFLOW, fn_stack_overflow },
	{ SIMPLE_HEAP_EXHAUST, fn_heap_exhaust },
	{ SIMPLE_SPIN, fn_spin },
	{ SIMPLE_BAD_PORT, fn_bad_port },
	{ SIMPLE_CORRUPT_OUTPUT_SP, fn_corrupt_output_sp },
	{ SIMPLE_CORRUPT_OUTPUT_BACK, fn_corrupt_output_back },
	{ SIMPLE_CORRUPT_OUTPUT_FRAME, fn_corrupt_output_frame },
	{ SIMPLE_MMIO, fn_mmio },
	{ SIMPLE_TRIPLE_FAULT, fn_triple_fault },
	{ SIMPLE_STATIC_COUNTER, fn_static_counter },
	{ SIMPLE_BOOT_INFO, fn_boot_info },
	{ SIMPLE_BAD_RESPONSE, fn_bad_response },
	{ SIMPLE_LOG_BAD_LEVEL, fn_log_bad_level },
	{ SIMPLE_PRINT_BAD_SCALAR, fn_print_bad_scalar },
	{ SIMPLE_ABORT_BAD_COUNT, fn_abort_bad_count },
	{ SIMPLE_HLT, fn_hlt },
	{ SIMPLE_READ_COUNTER, fn_read_counter },
	{ SIMPLE_DIRTY_HEAP_PAGES, fn_dirty_heap_pages },
	{ SIMPLE_HEAP_ALLOC, fn_heap_alloc },
	{ SIMPLE_STACK_SMASH, fn_stack_smash },
	{ SIMPLE_BUFFER_SCRIBBLE, fn_buffer_scribble },
	{ SIMPLE_INIT_DATA_READ, fn_init_data_read },
	{ SIMPLE_INIT_DATA_WRITE, fn_init_data_write },
	{ SIMPLE_INIT_DATA_EXEC, fn_init_data_exec },
	{ SIMPLE_MAPPED_READ, fn_mapped_read },
	{ SIMPLE_MAPPED_WRITE, fn_mapped_write },
	{ SIMPLE_MAPPED_EXEC, fn_mapped_exec },
	{ SIMPLE_ENABLE_XSAVE, fn_enable_xsave },
	{ SIMPLE_SET_FPU_STATE, fn_set_fpu_state },
	{ SIMPLE_GET_FPU_STATE, fn_get_fpu_state },
	{ SIMPLE_SET_DEBUG_REGS, fn_set_debug_regs },
	{ SIMPLE_SWAPGS, fn_swapgs },
};
const uint32_t nub_guest_function_count = sizeof nub_guest_functions /
					  sizeof nub_guest_functions[0];
