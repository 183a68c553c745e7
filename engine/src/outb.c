/* SPDX-License-Identifier: Apache-2.0 */
/* What a guest port write means: log, host call, abort stream, debug print, halt. */
#include "outb.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "iobuf.h"
#include "wire.h"

static void finish_abort(struct nub_abort_stream *s, bool truncated, struct nub_abort *out)
{
	size_t start = 1;
	memset(out, 0, sizeof *out);
	out->code = s->len ? s->bytes[0] : 0;
	out->truncated = truncated;
	if (out->code == NUB_ABORT_EXCEPTION && s->len >= 2) {
		out->has_vector = true;
		out->vector = s->bytes[1];
		start = 2;
	}
	size_t n = 0;
	for (size_t i = start; i < s->len; i++) {
		uint8_t b = s->bytes[i];
		/* Messages end up in logs and terminals: no control characters from the guest. */
		out->message[n++] = (b < 0x20 && b != '\n' && b != '\t') || b == 0x7f ? '?'
										      : (char)b;
	}
	out->message[n] = '\0';
	s->len = 0;
}

enum nub_status nub_outb_abort_feed(struct nub_abort_stream *s, uint32_t value, bool *done,
				    struct nub_abort *out, struct nub_error *err)
{
	uint32_t n = value & 0xff;
	*done = false;
	if (n < 1 || n > 3)
		return nub_error_set(err, NUB_E_PROTOCOL,
				     "abort port write 0x%08x has byte count %u (must be 1..3)",
				     value, n);
	for (uint32_t i = 1; i <= n; i++) {
		uint8_t b = (uint8_t)(value >> (8 * i));
		if (b == NUB_ABORT_TERMINATOR) {
			finish_abort(s, false, out);
			*done = true;
			return NUB_OK;
		}
		s->bytes[s->len++] = b;
		if (s->len == NUB_ABORT_MAX_BYTES) {
			finish_abort(s, true, out);
			*done = true;
			return NUB_OK;
		}
	}
	return NUB_OK;
}

static enum nub_outb_result handle_abort(struct nub_outb_env *env, uint32_t value,
					 struct nub_error *err)
{
	struct nub_abort ab;
	bool done;
	if (nub_outb_abort_feed(env->abort, value, &done, &ab, err) != NUB_OK)
		return NUB_OUTB_STOP;
	if (!done)
		return NUB_OUTB_CONTINUE;
	/* abi.h: the vector byte follows an exception code. Without it there is no fault to report. */
	if (ab.code == NUB_ABORT_EXCEPTION && !ab.has_vector) {
		nub_error_set(err, NUB_E_PROTOCOL,
			      "guest exception abort (code %u) carries no vector byte", ab.code);
		return NUB_OUTB_STOP;
	}
	nub_error_set(err, NUB_E_GUEST_ABORT, "guest aborted with code %u: %s%s", ab.code,
		      ab.message, ab.truncated ? " [abort stream truncated at 1024 bytes]" : "");
	err->guest_code = ab.code;
	if (ab.has_vector)
		err->vector = ab.vector;
	return NUB_OUTB_STOP;
}

static enum nub_outb_result handle_log(struct nub_outb_env *env, struct nub_error *err)
{
	uint64_t len;
	struct nub_log_view v;
	if (nub_iobuf_pop(env->output, env->output_size, env->staging, env->staging_size, &len,
			  "output", err) != NUB_OK ||
	    nub_wire_decode_log(env->staging, len, &v, err) != NUB_OK)
		return NUB_OUTB_STOP;
	const struct nub_config *cfg = env->cfg;
	if (cfg->log && v.level <= (uint32_t)cfg->max_guest_log_level) {
		char file[256];
		snprintf(file, sizeof file, "%.*s", (int)v.file_len, v.file);
		struct nub_log_record r = {
			.source = NUB_LOG_FROM_GUEST,
			.level = (enum nub_abi_log_level)v.level,
			.file = file,
			.line = v.line,
			.message = v.msg,
			.message_len = v.msg_len,
		};
		cfg->log(cfg->log_ctx, &r);
	}
	return NUB_OUTB_CONTINUE;
}

/*
 * Pushes a response frame into the input buffer. A response too large for the buffer becomes a
 * NUB_STATUS_RESPONSE_TOO_LARGE frame: the host function's size is not the guest's fault.
 */
static enum nub_outb_result push_response(struct nub_outb_env *env, uint32_t status,
					  const uint8_t *payload, size_t payload_len,
					  const char *msg, size_t msg_len, struct nub_error *err)
{
	size_t n;
	enum nub_status st = nub_wire_encode_response(env->staging, env->staging_size, status,
						      payload, payload_len, msg, msg_len, &n, err);
	if (st == NUB_OK)
		st = nub_iobuf_push(env->input, env->input_size, env->staging, n, err);
	if (st == NUB_E_LAYOUT) {
		char small[160];
		int k = snprintf(
			small, sizeof small,
			"host response of %zu payload bytes does not fit the input buffer (0x%llx bytes)",
			payload_len, (unsigned long long)env->input_size);
		st = nub_wire_encode_response(env->staging, env->staging_size,
					      NUB_STATUS_RESPONSE_TOO_LARGE, NULL, 0, small,
					      (size_t)k, &n, err);
		if (st == NUB_OK)
			st = nub_iobuf_push(env->input, env->input_size, env->staging, n, err);
	}
	if (st != NUB_OK) {
		if (st == NUB_E_LAYOUT)
			err->status =
				NUB_E_PROTOCOL; /* not even an error frame fits: the guest filled input */
		return NUB_OUTB_STOP;
	}
	return NUB_OUTB_CONTINUE;
}

static enum nub_outb_result handle_host_call(struct nub_outb_env *env, struct nub_error *err)
{
	uint64_t len;
	struct nub_request_view req;
	if (nub_iobuf_pop(env->output, env->output_size, env->staging, env->staging_size, &len,
			  "output", err) != NUB_OK ||
	    nub_wire_decode_request(env->staging, len, &req, err) != NUB_OK)
		return NUB_OUTB_STOP;

	const struct nub_hostfn *hf = nub_hostfn_find(env->hostfns, req.fn_id);
	if (!hf) {
		char msg[64];
		int k = snprintf(msg, sizeof msg, "no host function with fn_id %u", req.fn_id);
		return push_response(env, NUB_STATUS_NO_SUCH_FUNCTION, NULL, 0, msg, (size_t)k,
				     err);
	}

	/* The payload lives in staging, which the response encoding reuses: give the function its own copy. */
	struct nub_buf in = { .alloc = env->cfg->alloc };
	struct nub_buf out = { .alloc = env->cfg->alloc };
	if (nub_buf_append(&in, req.payload, req.payload_len) != NUB_OK) {
		nub_error_set(err, NUB_E_NOMEM, "copy of a %u-byte host call payload",
			      req.payload_len);
		return NUB_OUTB_STOP;
	}
	struct nub_error fn_err;
	memset(&fn_err, 0, sizeof fn_err);
	int rc = hf->fn(hf->ctx, in.data, in.len, &out, &fn_err);
	nub_buf_free(&in);
	enum nub_outb_result r;
	if (rc == 0)
		r = push_response(env, NUB_STATUS_OK, out.data, out.len, NULL, 0, err);
	else {
		fn_err.message[sizeof fn_err.message - 1] = '\0';
		r = push_response(env, NUB_STATUS_HOST_ERROR, NULL, 0, fn_err.message,
				  strlen(fn_err.message), err);
	}
	nub_buf_free(&out);
	return r;
}

static void deliver_print(struct nub_outb_env *env)
{
	const struct nub_config *cfg = env->cfg;
	if (env->print->len && cfg->debug_print)
		cfg->debug_print(cfg->debug_print_ctx, env->print->text, env->print->len);
	env->print->len = 0;
}

void nub_outb_flush_print(struct nub_outb_env *env)
{
	deliver_print(env);
}

static enum nub_outb_result handle_print(struct nub_outb_env *env, uint32_t c,
					 struct nub_error *err)
{
	uint8_t u[4];
	size_t n;
	if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
		nub_error_set(err, NUB_E_PROTOCOL, "debug print value 0x%x is not a Unicode scalar",
			      c);
		return NUB_OUTB_STOP;
	}
	if (c < 0x80) {
		u[0] = (uint8_t)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (uint8_t)(0xc0 | c >> 6);
		u[1] = (uint8_t)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (uint8_t)(0xe0 | c >> 12);
		u[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (uint8_t)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (uint8_t)(0xf0 | c >> 18);
		u[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (uint8_t)(0x80 | (c & 0x3f));
		n = 4;
	}
	struct nub_print_line *line = env->print;
	if (line->len + n > sizeof line->text)
		deliver_print(env);
	memcpy(line->text + line->len, u, n);
	line->len += n;
	if (c == '\n')
		deliver_print(env);
	return NUB_OUTB_CONTINUE;
}

enum nub_outb_result nub_outb_handle(struct nub_outb_env *env, uint16_t port, const uint8_t *data,
				     uint32_t size, struct nub_error *err)
{
	if (port == NUB_PORT_HALT)
		return NUB_OUTB_HALT;
	if (port != NUB_PORT_LOG && port != NUB_PORT_HOST_CALL && port != NUB_PORT_ABORT &&
	    port != NUB_PORT_DEBUG_PRINT) {
		nub_error_set(err, NUB_E_PROTOCOL, "guest wrote to unknown port 0x%x", port);
		return NUB_OUTB_STOP;
	}
	if (size != 4) {
		nub_error_set(err, NUB_E_PROTOCOL, "guest wrote %u bytes to port %u (must be 4)",
			      size, port);
		return NUB_OUTB_STOP;
	}
	uint32_t value = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
			 (uint32_t)data[3] << 24;
	switch (port) {
	case NUB_PORT_LOG:
		return handle_log(env, err);
	case NUB_PORT_HOST_CALL:
		return handle_host_call(env, err);
	case NUB_PORT_ABORT:
		return handle_abort(env, value, err);
	default:
		return handle_print(env, value, err);
	}
}
