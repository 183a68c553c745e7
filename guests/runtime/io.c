/* SPDX-License-Identifier: Apache-2.0 */
/* Guest side of the port protocols: abort stream, debug print, log records and host calls. */
#include "internal.h"

/* ---- Abort ---- */

/* Packs abort-stream bytes three to an OUT: value = n | b1 << 8 | b2 << 16 | b3 << 24. */
struct abort_stream {
	uint32_t word;
	uint32_t n;
};

static void abort_byte(struct abort_stream *s, uint8_t b)
{
	s->word |= (uint32_t)b << (8 * ++s->n);
	if (s->n == 3) {
		nub_guest_outl(NUB_PORT_ABORT, s->word | 3);
		s->word = 0;
		s->n = 0;
	}
}

_Noreturn void nub_rt_abort(uint8_t code, int vector, const char *msg, uint32_t len)
{
	struct abort_stream s = { 0, 0 };

	abort_byte(&s, code);
	if (vector >= 0)
		abort_byte(&s, (uint8_t)vector);
	for (uint32_t i = 0; i < len; i++)
		abort_byte(&s, (uint8_t)msg[i] == NUB_ABORT_TERMINATOR ? '?' : (uint8_t)msg[i]);
	abort_byte(&s, NUB_ABORT_TERMINATOR);
	if (s.n)
		nub_guest_outl(NUB_PORT_ABORT, s.word | s.n);
	for (;;)
		__asm__ volatile("cli\n\thlt" : : : "memory");
}

_Noreturn void nub_guest_abort_n(uint8_t code, const char *msg, uint32_t len)
{
	nub_rt_abort(code, -1, msg, len);
}

_Noreturn void nub_guest_abort(uint8_t code, const char *msg)
{
	nub_rt_abort(code, -1, msg, strlen(msg));
}

_Noreturn void nub_rt_protocol(const char *msg)
{
	nub_rt_abort(NUB_ABORT_PROTOCOL, -1, msg, strlen(msg));
}

/* ---- Debug print ---- */

void nub_guest_debug_print(const char *s, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		nub_guest_outl(NUB_PORT_DEBUG_PRINT, (uint8_t)s[i]);
}

/* ---- Output buffer records (log records, host-call requests) ---- */

/*
 * Where the next record goes in the output buffer: returns its offset and sets *(room) to the
 * bytes it may take, back-pointer excluded. Inside a call the record goes after the response
 * bytes written so far, so a function's out->data[0..len) is kept; the record's back-pointer then
 * names that offset as the "stack pointer before the push", which is all the host's pop looks at.
 * Outside calls it goes at the buffer's stack pointer.
 */
static uint64_t output_reserve(uint64_t *room)
{
	const struct nub_boot_info *b = nub_rt_boot;
	uint8_t *buf = nub_ptr(b->output_gva);
	uint64_t pos;

	if (nub_rt_out) {
		uint32_t len = nub_rt_out->len;

		pos = nub_rt_resp_base + sizeof(struct nub_wire_response) +
		      (len < nub_rt_out->cap ? len : nub_rt_out->cap);
	} else {
		pos = nub_rd64(buf);
		if (pos < NUB_IOBUF_SP_INIT || pos > b->output_size)
			nub_rt_protocol("output buffer stack pointer out of range");
	}
	*room = b->output_size - pos >= 8 ? b->output_size - pos - 8 : 0;
	return pos;
}

/* Closes the record of (len) bytes at (pos): writes its back-pointer and the new stack pointer. */
static void output_commit(uint64_t pos, uint64_t len)
{
	uint8_t *buf = nub_ptr(nub_rt_boot->output_gva);

	nub_wr64(buf + pos + len, pos);
	nub_wr64(buf, pos + len + 8);
}

/* ---- Log ---- */

void nub_guest_log_n(uint32_t level, const char *file, uint32_t line, const char *msg,
		     uint32_t msg_len)
{
	uint64_t room, pos, file_len;
	uint8_t *rec;

	if (level == 0 || level > nub_rt_boot->max_log_level)
		return;
	file_len = strlen(file);
	pos = output_reserve(&room);
	if (room < sizeof(struct nub_wire_log) + file_len)
		return;
	room -= sizeof(struct nub_wire_log) + file_len;
	if (msg_len > room)
		msg_len = (uint32_t)room;
	rec = nub_ptr(nub_rt_boot->output_gva) + pos;
	nub_wr32(rec, level);
	nub_wr32(rec + 4, line);
	nub_wr32(rec + 8, (uint32_t)file_len);
	nub_wr32(rec + 12, msg_len);
	memcpy(rec + 16, file, file_len);
	memcpy(rec + 16 + file_len, msg, msg_len);
	output_commit(pos, sizeof(struct nub_wire_log) + file_len + msg_len);
	nub_guest_outl(NUB_PORT_LOG, 0);
}

void nub_guest_log(uint32_t level, const char *file, uint32_t line, const char *msg)
{
	nub_guest_log_n(level, file, line, msg, strlen(msg));
}

/* ---- Input buffer ---- */

/* Aborts with NUB_ABORT_PROTOCOL: "(what): input (field) 0x(value) outside (lo)..0x(hi)". */
_Noreturn void nub_rt_input_corrupt(const char *what, const char *field, uint64_t value,
				    uint64_t lo, uint64_t hi)
{
	char msg[128], *p = msg, *end = msg + sizeof msg;

	p = nub_guest_fmt_str(p, end, what);
	p = nub_guest_fmt_str(p, end, ": input ");
	p = nub_guest_fmt_str(p, end, field);
	p = nub_guest_fmt_str(p, end, " ");
	p = nub_guest_fmt_hex(p, end, value);
	p = nub_guest_fmt_str(p, end, " outside ");
	p = nub_guest_fmt_dec(p, end, lo);
	p = nub_guest_fmt_str(p, end, "..");
	nub_guest_fmt_hex(p, end, hi);
	nub_rt_protocol(msg);
}

/* ---- Host calls ---- */

/* The private copy of the last host-call response (input_size bytes, allocated on first use). */
static uint8_t *host_result_buf;

uint32_t nub_guest_host_call(uint32_t fn_id, const void *req, uint32_t len,
			     struct nub_guest_host_result *res)
{
	uint8_t *in = nub_ptr(nub_rt_boot->input_gva), *el;
	uint64_t room, pos, back, el_len, body;
	uint32_t status, payload_len, msg_len;

	pos = output_reserve(&room);
	if (room < sizeof(struct nub_wire_request) + (uint64_t)len) {
		res->payload = NULL;
		res->payload_len = 0;
		res->msg = "host call request does not fit the output buffer";
		res->msg_len = (uint32_t)strlen(res->msg);
		return NUB_STATUS_BAD_REQUEST;
	}
	el = nub_ptr(nub_rt_boot->output_gva) + pos;
	nub_wr32(el, fn_id);
	nub_wr32(el + 4, len);
	memcpy(el + 8, req, len);
	output_commit(pos, sizeof(struct nub_wire_request) + (uint64_t)len);
	nub_guest_outl(NUB_PORT_HOST_CALL, 0);

	/* The host pushed the response onto the input buffer (above the request being served). */
	nub_rt_input_top("host call response", &back, &el_len);
	el = in + back;
	if (el_len < sizeof(struct nub_wire_response))
		nub_rt_protocol("host call response: element shorter than the response header");
	status = nub_rd32(el);
	payload_len = nub_rd32(el + 4);
	msg_len = nub_rd32(el + 8);
	body = el_len - sizeof(struct nub_wire_response);
	if ((uint64_t)payload_len + msg_len != body)
		nub_rt_protocol(
			"host call response: payload_len + msg_len differ from the element");
	if (!host_result_buf) {
		host_result_buf = nub_guest_malloc(nub_rt_boot->input_size);
		if (!host_result_buf)
			nub_guest_abort(NUB_ABORT_OUT_OF_MEMORY,
					"no heap for the host-call buffer");
	}
	/* body <= input_size - 16 - 12: the terminating NUL always fits. */
	memcpy(host_result_buf, el + sizeof(struct nub_wire_response), body);
	host_result_buf[body] = 0;
	nub_wr64(in, back);
	res->payload = host_result_buf;
	res->payload_len = payload_len;
	res->msg = (const char *)host_result_buf + payload_len;
	res->msg_len = msg_len;
	return status;
}
