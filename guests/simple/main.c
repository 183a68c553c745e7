/* The `simple` test guest: one function per behaviour promised in simple_fns.h. */
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
	static const char *const text[5] = { "level 1", "level 2", "level 3", "level 4", "level 5" };

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

#define PTE_PRESENT 0x1ull
#define PTE_WRITE 0x2ull
#define PTE_LARGE 0x80ull
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ull
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
	table = (volatile uint64_t *)(uintptr_t)(cr3 & PTE_ADDR);
	for (unsigned shift = 39; shift > 12; shift -= 9) {
		uint64_t e = table[(va >> shift) & 511];

		if (!(e & PTE_PRESENT) || (e & PTE_LARGE))
			nub_guest_abort(NUB_ABORT_PANIC, "mmio: heap page is not mapped by a 4 KiB PTE");
		table = (volatile uint64_t *)(uintptr_t)(e & PTE_ADDR);
	}
	pte = &table[(va >> 12) & 511];
	/* Same flags, another frame: a guest-physical address no memory slot backs. */
	*pte = (*pte & ~PTE_ADDR) | MMIO_GPA | PTE_PRESENT | PTE_WRITE | PTE_NX;
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
};
const uint32_t nub_guest_function_count =
	sizeof nub_guest_functions / sizeof nub_guest_functions[0];
