/* SPDX-License-Identifier: Apache-2.0 */
/* Guest start-up and the call loop: wait for a request, dispatch it, push the response. */
#include "internal.h"

/* The ABI note the host checks before loading the image (guest.ld gives it a PT_NOTE). */
static const struct {
	uint32_t namesz, descsz, type;
	char name[4];
	uint32_t version;
} nub_abi_note __attribute__((section(".note.nub"), aligned(4), used)) = {
	sizeof NUB_NOTE_NAME, sizeof(uint32_t), NUB_NOTE_TYPE_ABI, NUB_NOTE_NAME, NUB_ABI_VERSION,
};

/*
 * What serve() writes at each call's entry, before the function runs, lives in its own section
 * (guest.ld brackets it with __nub_call_state_start/end), so that a digest of the guest's data
 * as a call sees it (nub_guest_state_layout) can leave out exactly these words.
 */
#define CALL_STATE __attribute__((section(".bss.nub_call_state")))

const struct nub_boot_info *nub_rt_boot;
struct nub_guest_out *nub_rt_out CALL_STATE;
uint64_t nub_rt_resp_base CALL_STATE;
static bool end_with_hlt;
static uint64_t call_loop_sp; /* the call loop's rsp: the snapshot's rsp */

/* guest.ld: the writable data segment and the call state inside it. */
extern const uint8_t __nub_data_start[], __nub_call_state_start[], __nub_call_state_end[],
	__nub_data_end[];

__attribute__((weak)) void nub_guest_main(void)
{
}

const struct nub_boot_info *nub_guest_boot_info(void)
{
	return nub_rt_boot;
}

void nub_guest_state_layout(struct nub_guest_state_layout *out)
{
	out->data_start = (uint64_t)(uintptr_t)__nub_data_start;
	out->call_state_start = (uint64_t)(uintptr_t)__nub_call_state_start;
	out->call_state_end = (uint64_t)(uintptr_t)__nub_call_state_end;
	/* The host maps the whole last page of the segment writable. */
	out->data_end = ((uint64_t)(uintptr_t)__nub_data_end + NUB_PAGE_SIZE - 1) &
			~(uint64_t)(NUB_PAGE_SIZE - 1);
	out->call_sp = call_loop_sp;
}

void nub_guest_end_call_with_hlt(void)
{
	end_with_hlt = true;
}

/*
 * The table entry for (fn_id), or NULL. Each step costs real time under emulation, so the usual
 * table of consecutive ids in order is indexed directly; any other table is scanned.
 */
static const struct nub_guest_fn *find(uint32_t fn_id)
{
	const struct nub_guest_fn *t = nub_guest_functions;
	uint32_t n = nub_guest_function_count, i;

	if (n == 0)
		return NULL;
	i = fn_id - t[0].fn_id;
	if (i < n && t[i].fn_id == fn_id)
		return &t[i];
	for (i = 0; i < n; i++)
		if (t[i].fn_id == fn_id)
			return &t[i];
	return NULL;
}

/* Runs the function the request names; returns its status, with out->msg set on errors. */
static uint32_t dispatch(const uint8_t *el, uint64_t el_len, struct nub_guest_out *out)
{
	static char msg[96];
	char *p = msg, *end = msg + sizeof msg;
	const struct nub_guest_fn *fn;
	uint32_t fn_id, payload_len;

	if (el_len < sizeof(struct nub_wire_request)) {
		p = nub_guest_fmt_str(p, end, "request element of ");
		p = nub_guest_fmt_dec(p, end, el_len);
		nub_guest_fmt_str(p, end, " bytes is shorter than the 8-byte request header");
		out->msg = msg;
		return NUB_STATUS_BAD_REQUEST;
	}
	fn_id = nub_rd32(el);
	payload_len = nub_rd32(el + 4);
	if ((uint64_t)payload_len + sizeof(struct nub_wire_request) != el_len) {
		p = nub_guest_fmt_str(p, end, "request payload_len ");
		p = nub_guest_fmt_dec(p, end, payload_len);
		p = nub_guest_fmt_str(p, end, " does not match its ");
		p = nub_guest_fmt_dec(p, end, el_len);
		nub_guest_fmt_str(p, end, "-byte element");
		out->msg = msg;
		return NUB_STATUS_BAD_REQUEST;
	}
	fn = find(fn_id);
	if (fn)
		return fn->fn(el + sizeof(struct nub_wire_request), payload_len, out);
	p = nub_guest_fmt_str(p, end, "no guest function with fn_id ");
	nub_guest_fmt_dec(p, end, fn_id);
	out->msg = msg;
	return NUB_STATUS_NO_SUCH_FUNCTION;
}

/*
 * Serves one call: pops the request from the input buffer, runs it, and pushes exactly one
 * response onto the output buffer. The request stays on the input stack until the function has
 * returned, so its payload stays valid while the host pushes host-call responses above it.
 * Never inlined: its locals are the call's own and must live below the call loop's stack
 * pointer, where each call rebuilds them, not in the loop's frame, which persists across calls
 * (a state digest of the stack covers only what lies above that pointer; nub_guest.h).
 */
__attribute__((noinline)) static void serve(void)
{
	const struct nub_boot_info *b = nub_rt_boot;
	uint8_t *obuf = nub_ptr(b->output_gva), *resp;
	uint64_t back, el_len, base = nub_rd64(obuf), used;
	struct nub_guest_out out;
	uint32_t status, mlen;
	char msg[96];

	nub_rt_input_top("request", &back, &el_len);
	if (base < NUB_IOBUF_SP_INIT || base > b->output_size ||
	    b->output_size - base < sizeof(struct nub_wire_response) + 8)
		nub_rt_protocol(
			"request: output buffer stack pointer leaves no room for a response");
	resp = obuf + base;
	used = b->output_size - base - sizeof(struct nub_wire_response) - 8;
	out.data = resp + sizeof(struct nub_wire_response);
	out.cap = used > UINT32_MAX ? UINT32_MAX : (uint32_t)used;
	out.len = 0;
	out.msg = NULL;
	nub_rt_resp_base = base;
	nub_rt_out = &out;

	status = dispatch(nub_ptr(b->input_gva) + back, el_len, &out);
	nub_rt_out = NULL;
	if (status == NUB_STATUS_OK && out.len > out.cap) {
		char *p = msg, *end = msg + sizeof msg;

		p = nub_guest_fmt_str(p, end, "response of ");
		p = nub_guest_fmt_dec(p, end, out.len);
		p = nub_guest_fmt_str(p, end, " bytes exceeds the ");
		p = nub_guest_fmt_dec(p, end, out.cap);
		nub_guest_fmt_str(p, end, " bytes of output space");
		out.msg = msg;
		status = NUB_STATUS_RESPONSE_TOO_LARGE;
	}
	mlen = 0;
	if (status != NUB_STATUS_OK) {
		out.len = 0;
		if (out.msg) {
			uint64_t n = strlen(out.msg);

			mlen = n > out.cap ? out.cap : (uint32_t)n;
			/* The message may live in the output buffer itself. */
			memmove(out.data, out.msg, mlen);
		}
	}
	nub_wr32(resp, status);
	nub_wr32(resp + 4, out.len);
	nub_wr32(resp + 8, mlen);
	used = sizeof(struct nub_wire_response) + (uint64_t)out.len + mlen;
	nub_wr64(resp + used, base);
	nub_wr64(obuf, base + used + 8);
	nub_wr64(nub_ptr(b->input_gva), back);
}

_Noreturn void nub_runtime_start(const struct nub_boot_info *boot)
{
	/* First, so that any fault from here on is a clean exception abort, not a triple fault. */
	nub_cpu_init(boot->exception_stack_top_gva);
	nub_rt_boot = boot;
	if (boot->abi_version != NUB_ABI_VERSION) {
		char msg[64], *p = msg, *end = msg + sizeof msg;

		p = nub_guest_fmt_str(p, end, "boot info abi_version ");
		p = nub_guest_fmt_dec(p, end, boot->abi_version);
		p = nub_guest_fmt_str(p, end, ", the guest speaks ");
		nub_guest_fmt_dec(p, end, NUB_ABI_VERSION);
		nub_rt_protocol(msg);
	}
	nub_heap_init(boot->heap_gva, boot->heap_size);
	nub_guest_main();

	/*
	 * "Ready" (the first time) and "call done" are an OUT to NUB_PORT_HALT, or a HLT when the
	 * function asked for it; the host resumes the vCPU right after either to make the next call.
	 */
	/* This frame has no variable-size parts, so rsp is the same at the halt below. */
	__asm__ volatile("movq %%rsp, %0" : "=r"(call_loop_sp));
	for (;;) {
		if (end_with_hlt) {
			end_with_hlt = false;
			__asm__ volatile("hlt" : : : "memory");
		} else {
			nub_guest_outl(NUB_PORT_HALT, 0);
		}
		serve();
	}
}
