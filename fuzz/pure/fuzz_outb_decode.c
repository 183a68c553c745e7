/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_outb_decode: guest port writes (log, host call, abort stream, debug print) on fake I/O buffers. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_formats.h"
#include "fuzz_input.h"
#include "host_fns.h"
#include "hostfn.h"
#include "iobuf.h"
#include "nub_fuzz.h"
#include "outb.h"
#include "wire.h"

#define MAX_INPUT (256u << 10)
#define MAX_EXPECTED 256u
#define MAX_DESCRIBED_OPS 200u
#define GROW_FACTOR 64u

static const uint64_t io_sizes[] = OUTB_SIZES;

/* The abort stream as abi.h specifies it, fed alongside the engine's. */
struct abort_model {
	uint8_t bytes[NUB_ABORT_MAX_BYTES];
	size_t len;
};

/* What the guest must find in the input buffer after a host call the host answered. */
struct expected_response {
	int fn; /* enum fuzz_outb_fn, or 0: no function was called */
	uint64_t req_len;
	uint64_t req_hash;
};

struct state {
	uint8_t *input, *output, *staging, *popped;
	uint64_t input_size, output_size, staging_size;
	struct nub_hostfn_table fns;
	struct nub_config cfg;
	struct nub_abort_stream abort;
	struct nub_print_line print;
	struct nub_outb_env env;
	struct abort_model port_model;
	struct nub_abort_stream direct;
	struct abort_model direct_model;
	/* Set by the host functions during a call. */
	int called;
	uint64_t req_len, req_hash;
	struct expected_response expected[MAX_EXPECTED];
	size_t nexpected;
	bool expected_overflow;
	size_t logs;
};

static uint64_t fnv1a(const uint8_t *p, uint64_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint64_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void record_call(struct state *s, int fn, const uint8_t *req, size_t len)
{
	s->called = fn;
	s->req_len = len;
	s->req_hash = fnv1a(req, len);
}

/* The shared host functions (host_fns.h), recording what they were called with. */
static int echo_fn(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		   struct nub_error *err)
{
	record_call(ctx, OUTB_FN_ECHO, req, len);
	return host_fn_echo(NULL, req, len, resp, err);
}

static int fail_fn(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		   struct nub_error *err)
{
	record_call(ctx, OUTB_FN_FAIL, req, len);
	return host_fn_fail(NULL, req, len, resp, err);
}

static int grow_fn(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		   struct nub_error *err)
{
	record_call(ctx, OUTB_FN_GROW, req, len);
	for (size_t i = 0; i < len; i++) {
		uint8_t block[GROW_FACTOR];
		memset(block, req[i], sizeof block);
		if (nub_buf_append(resp, block, sizeof block) != NUB_OK) {
			snprintf(err->message, sizeof err->message, "grow: out of memory");
			return -1;
		}
	}
	return 0;
}

/* A log record delivered to the configured callback. */
static void log_cb(void *ctx, const struct nub_log_record *r)
{
	struct state *s = ctx;

	NUB_FUZZ_CHECK_OP("nub_config.log", r->source == NUB_LOG_FROM_GUEST);
	NUB_FUZZ_CHECK_OP("nub_config.log",
			  r->level >= NUB_LEVEL_ERROR && r->level <= s->cfg.max_guest_log_level);
	NUB_FUZZ_CHECK_OP("nub_config.log", r->file != NULL && strnlen(r->file, 256) < 256);
	NUB_FUZZ_CHECK_OP("nub_config.log", r->message != NULL || r->message_len == 0);
	NUB_FUZZ_CHECK_OP("nub_config.log", r->message_len <= s->output_size);
	s->logs++;
}

/* Debug-print text: checked by the shared harness rule. */
static void print_cb(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	nub_fuzz_check_print(text, len);
}

/*
 * Feeds (value) to (m) as abi.h describes the stream. Returns false for a bad byte count (m is
 * unchanged); sets *(done) when the terminator arrives or the stream is full.
 */
static bool model_feed(struct abort_model *m, uint32_t value, bool *done, bool *truncated)
{
	uint32_t n = value & 0xff;

	*done = *truncated = false;
	if (n < 1 || n > 3)
		return false;
	for (uint32_t i = 1; i <= n; i++) {
		uint8_t b = (uint8_t)(value >> (8 * i));
		if (b == NUB_ABORT_TERMINATOR) {
			*done = true;
			return true;
		}
		m->bytes[m->len++] = b;
		if (m->len == NUB_ABORT_MAX_BYTES) {
			*done = *truncated = true;
			return true;
		}
	}
	return true;
}

/* A finished abort matches the model's bytes: code, vector, message (control bytes may become '?'). */
static void check_abort(const struct abort_model *m, const struct nub_abort *ab, bool truncated)
{
	size_t start = 1;
	uint8_t code = m->len ? m->bytes[0] : 0;

	NUB_FUZZ_CHECK_OP("nub_outb_abort_feed", ab->code == code);
	NUB_FUZZ_CHECK_OP("nub_outb_abort_feed", ab->truncated == truncated);
	if (code == NUB_ABORT_EXCEPTION && m->len >= 2) {
		NUB_FUZZ_CHECK_OP("nub_outb_abort_feed",
				  ab->has_vector && ab->vector == m->bytes[1]);
		start = 2;
	} else {
		NUB_FUZZ_CHECK_OP("nub_outb_abort_feed", !ab->has_vector);
	}
	size_t expect_len = m->len > start ? m->len - start : 0;
	NUB_FUZZ_CHECK_OP("nub_outb_abort_feed",
			  memchr(ab->message, '\0', sizeof ab->message) != NULL);
	NUB_FUZZ_CHECK_OP("nub_outb_abort_feed",
			  strlen(ab->message) == expect_len && expect_len <= NUB_ABORT_MAX_BYTES);
	for (size_t i = 0; i < expect_len; i++) {
		uint8_t want = m->bytes[start + i], got = (uint8_t)ab->message[i];
		bool control = (want < 0x20 && want != '\n' && want != '\t') || want == 0x7f;
		NUB_FUZZ_CHECK_OP("nub_outb_abort_feed", got == want || (control && got == '?'));
		NUB_FUZZ_CHECK_OP("nub_outb_abort_feed", got >= 0x20 || got == '\n' || got == '\t');
	}
}

static void op_feed_direct(struct state *s, uint32_t value)
{
	struct nub_error err;
	struct nub_abort ab;
	bool done = true, mdone, trunc;
	size_t before = s->direct.len;

	memset(&ab, 0, sizeof ab);
	enum nub_status st = nub_outb_abort_feed(&s->direct, value, &done, &ab, &err);
	if (!model_feed(&s->direct_model, value, &mdone, &trunc)) {
		NUB_FUZZ_CHECK_OP("nub_outb_abort_feed",
				  st == NUB_E_PROTOCOL && !done && nub_fuzz_error_ok(&err));
		NUB_FUZZ_CHECK_OP("nub_outb_abort_feed", s->direct.len == before);
		return;
	}
	NUB_FUZZ_CHECK_OP("nub_outb_abort_feed", st == NUB_OK && done == mdone);
	if (done) {
		check_abort(&s->direct_model, &ab, trunc);
		s->direct_model.len = 0;
	}
	NUB_FUZZ_CHECK_OP("nub_outb_abort_feed", s->direct.len == s->direct_model.len);
}

static void check_stop(const struct state *s, const struct nub_error *err)
{
	NUB_FUZZ_CHECK_OP("nub_outb_handle", err->status != NUB_OK && nub_fuzz_error_ok(err));
	/* NUB_E_NOMEM only when an allocation really failed. */
	NUB_FUZZ_CHECK_OP("nub_outb_handle",
			  err->status != NUB_E_NOMEM || nub_fuzz_alloc_failures() > 0);
	(void)s;
}

/* One OUT; returns true when it ended the call (HALT or STOP). */
static bool out(struct state *s, uint16_t port, uint32_t value, uint32_t size)
{
	struct nub_error err;
	uint8_t d[4] = { (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
			 (uint8_t)(value >> 24) };
	bool is_protocol_port = port == NUB_PORT_LOG || port == NUB_PORT_HOST_CALL ||
				port == NUB_PORT_ABORT || port == NUB_PORT_DEBUG_PRINT;
	size_t logs = s->logs;
	bool mdone = false, trunc = false, mvalid = true;

	memset(&err, 0, sizeof err);
	s->called = 0;
	if (port == NUB_PORT_ABORT && size == 4)
		mvalid = model_feed(&s->port_model, value, &mdone, &trunc);
	enum nub_outb_result r = nub_outb_handle(&s->env, port, d, size, &err);

	if (port == NUB_PORT_HALT) {
		NUB_FUZZ_CHECK_OP("nub_outb_handle", r == NUB_OUTB_HALT);
		nub_fuzz_outcome("halt");
		return true;
	}
	if (!is_protocol_port || size != 4) {
		NUB_FUZZ_CHECK_OP("nub_outb_handle",
				  r == NUB_OUTB_STOP && err.status == NUB_E_PROTOCOL);
		check_stop(s, &err);
		nub_fuzz_outcome(nub_status_str(err.status));
		return true;
	}
	NUB_FUZZ_CHECK_OP("nub_outb_handle", r == NUB_OUTB_CONTINUE || r == NUB_OUTB_STOP);
	if (port == NUB_PORT_ABORT) {
		if (!mvalid) {
			NUB_FUZZ_CHECK_OP("nub_outb_handle",
					  r == NUB_OUTB_STOP && err.status == NUB_E_PROTOCOL);
		} else if (mdone && s->port_model.len == 1 &&
			   s->port_model.bytes[0] == NUB_ABORT_EXCEPTION) {
			/* abi.h: a vector byte follows an exception code; without it there is no fault. */
			NUB_FUZZ_CHECK_OP("nub_outb_handle",
					  r == NUB_OUTB_STOP && err.status == NUB_E_PROTOCOL);
		} else if (mdone) {
			NUB_FUZZ_CHECK_OP("nub_outb_handle",
					  r == NUB_OUTB_STOP && err.status == NUB_E_GUEST_ABORT);
			NUB_FUZZ_CHECK_OP("nub_outb_handle",
					  err.guest_code ==
						  (s->port_model.len ? s->port_model.bytes[0] : 0));
			if (s->port_model.len >= 2 && s->port_model.bytes[0] == NUB_ABORT_EXCEPTION)
				NUB_FUZZ_CHECK_OP("nub_outb_handle",
						  err.vector == s->port_model.bytes[1]);
		} else {
			NUB_FUZZ_CHECK_OP("nub_outb_handle", r == NUB_OUTB_CONTINUE);
		}
		if (r == NUB_OUTB_CONTINUE)
			NUB_FUZZ_CHECK_OP("nub_outb_handle", s->abort.len == s->port_model.len);
	} else if (port == NUB_PORT_DEBUG_PRINT) {
		bool scalar = value <= 0x10ffff && !(value >= 0xd800 && value <= 0xdfff);
		NUB_FUZZ_CHECK_OP("nub_outb_handle",
				  scalar ? r == NUB_OUTB_CONTINUE : err.status == NUB_E_PROTOCOL);
		NUB_FUZZ_CHECK_OP("nub_outb_handle", s->print.len <= sizeof s->print.text);
	} else if (port == NUB_PORT_LOG) {
		NUB_FUZZ_CHECK_OP("nub_outb_handle",
				  r == NUB_OUTB_CONTINUE || err.status == NUB_E_PROTOCOL);
		NUB_FUZZ_CHECK_OP("nub_outb_handle", s->logs - logs <= 1);
	} else if (r == NUB_OUTB_CONTINUE) {
		/* A host call was answered: one response more in the input buffer. */
		if (s->nexpected < MAX_EXPECTED)
			s->expected[s->nexpected++] = (struct expected_response){
				.fn = s->called, .req_len = s->req_len, .req_hash = s->req_hash
			};
		else
			s->expected_overflow = true;
	}
	if (r == NUB_OUTB_STOP) {
		check_stop(s, &err);
		nub_fuzz_outcome(nub_status_str(err.status));
		return true;
	}
	return false;
}

/* The guest pops the host's latest response and checks it against what the host function did. */
static void op_pop_input(struct state *s)
{
	struct nub_error err;
	struct nub_response_view v;
	uint64_t len = 0;

	enum nub_status st = nub_iobuf_pop(s->input, s->input_size, s->popped, s->input_size, &len,
					   "input", &err);
	if (s->expected_overflow)
		return;
	if (s->nexpected == 0) {
		NUB_FUZZ_CHECK_OP("nub_outb_handle",
				  st == NUB_E_PROTOCOL); /* nothing was pushed: sp is 8 */
		return;
	}
	NUB_FUZZ_CHECK_OP("nub_outb_handle", st == NUB_OK);
	/* Frames the host writes are always well formed. */
	NUB_FUZZ_CHECK_OP("nub_outb_handle",
			  nub_wire_decode_response(s->popped, len, &v, &err) == NUB_OK);
	struct expected_response e = s->expected[--s->nexpected];
	switch (v.status) {
	case NUB_STATUS_OK:
		NUB_FUZZ_CHECK_OP("nub_outb_handle", v.msg_len == 0);
		NUB_FUZZ_CHECK_OP("nub_outb_handle", e.fn == OUTB_FN_ECHO || e.fn == OUTB_FN_GROW);
		if (e.fn == OUTB_FN_ECHO)
			NUB_FUZZ_CHECK_OP("nub_outb_handle",
					  v.payload_len == e.req_len &&
						  fnv1a(v.payload, v.payload_len) == e.req_hash);
		else
			NUB_FUZZ_CHECK_OP("nub_outb_handle",
					  v.payload_len == e.req_len * GROW_FACTOR);
		break;
	case NUB_STATUS_NO_SUCH_FUNCTION:
		NUB_FUZZ_CHECK_OP("nub_outb_handle",
				  e.fn == 0 && v.payload_len == 0 && v.msg_len > 0);
		break;
	case NUB_STATUS_HOST_ERROR:
		NUB_FUZZ_CHECK_OP("nub_outb_handle", v.payload_len == 0);
		NUB_FUZZ_CHECK_OP("nub_outb_handle",
				  e.fn == OUTB_FN_FAIL || nub_fuzz_alloc_failures() > 0);
		break;
	case NUB_STATUS_RESPONSE_TOO_LARGE:
		NUB_FUZZ_CHECK_OP("nub_outb_handle", v.payload_len == 0 && v.msg_len > 0);
		break;
	default:
		nub_fuzz_fail_op("nub_outb_handle", "response status is one the host sends",
				 __FILE__, __LINE__,
				 "the host wrote a response status it never sends");
	}
}

static void push_output(struct state *s, const uint8_t *p, size_t n)
{
	/* A push that does not fit is the guest's problem: it simply does not happen. */
	(void)nub_iobuf_push(s->output, s->output_size, p, n, NULL);
}

static void op_push_log(struct state *s, struct fuzz_input *in)
{
	const uint8_t *file, *msg;
	size_t written;
	uint8_t level = fuzz_read_u8(in);
	uint32_t line = fuzz_read_u32(in);
	uint8_t want_file = fuzz_read_u8(in);
	uint16_t want_msg = fuzz_read_u16(in);
	size_t nf = fuzz_read_bytes(in, want_file, &file);
	size_t nm = fuzz_read_bytes(in, want_msg, &msg);

	if (nub_wire_encode_log(s->staging, s->staging_size, level, line, (const char *)file, nf,
				(const char *)msg, nm, &written, NULL) == NUB_OK)
		push_output(s, s->staging, written);
}

static void op_push_request(struct state *s, struct fuzz_input *in)
{
	const uint8_t *payload;
	size_t written;
	uint32_t fn_id = fuzz_read_u32(in);
	uint16_t want = fuzz_read_u16(in);
	size_t n = fuzz_read_bytes(in, want, &payload);

	if (nub_wire_encode_request(s->staging, s->staging_size, fn_id, payload, n, &written,
				    NULL) == NUB_OK)
		push_output(s, s->staging, written);
}

static struct state *state_new(struct fuzz_input *in)
{
	struct state *s = calloc(1, sizeof *s);
	struct nub_error err;

	NUB_FUZZ_CHECK(s != NULL); /* the harness's own allocation */
	nub_config_default(&s->cfg);
	s->cfg.max_guest_log_level = (enum nub_abi_log_level)(fuzz_read_u8(in) % 6);
	uint8_t sizes = fuzz_read_u8(in);
	s->input_size = io_sizes[sizes & 3];
	s->output_size = io_sizes[(sizes >> 2) & 3];
	s->staging_size = s->input_size > s->output_size ? s->input_size : s->output_size;
	nub_fuzz_alloc_reset(fuzz_read_u8(in));
	s->cfg.alloc = nub_fuzz_alloc_hook();
	s->cfg.log = log_cb;
	s->cfg.log_ctx = s;
	s->cfg.debug_print = print_cb;
	/* Exact sizes: an access past a buffer's end reaches an ASan redzone. */
	s->input = aligned_alloc(8, s->input_size);
	s->output = aligned_alloc(8, s->output_size);
	s->staging = malloc(s->staging_size);
	s->popped = malloc(s->input_size);
	NUB_FUZZ_CHECK(s->input && s->output && s->staging &&
		       s->popped); /* the harness's own allocation */
	nub_iobuf_reset(s->input, s->input_size);
	nub_iobuf_reset(s->output, s->output_size);

	static const struct {
		uint32_t id;
		nub_host_fn fn;
	} fns[] = { { OUTB_FN_ECHO, echo_fn },
		    { OUTB_FN_FAIL, fail_fn },
		    { OUTB_FN_GROW, grow_fn } };
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		enum nub_status st = nub_hostfn_register(&s->fns, &s->cfg.alloc, fns[i].id,
							 fns[i].fn, s, &err);
		NUB_FUZZ_CHECK_OP("nub_hostfn_register",
				  st == NUB_OK ||
					  (st == NUB_E_NOMEM && nub_fuzz_alloc_failures() > 0));
	}
	s->env = (struct nub_outb_env){
		.input = s->input,
		.input_size = s->input_size,
		.output = s->output,
		.output_size = s->output_size,
		.staging = s->staging,
		.staging_size = s->staging_size,
		.hostfns = &s->fns,
		.cfg = &s->cfg,
		.abort = &s->abort,
		.print = &s->print,
	};
	return s;
}

static void state_free(struct state *s)
{
	nub_hostfn_free(&s->fns, &s->cfg.alloc);
	NUB_FUZZ_CHECK_OP("nub_hostfn_free",
			  nub_fuzz_alloc_live() == 0); /* the engine freed all it allocated */
	free(s->input);
	free(s->output);
	free(s->staging);
	free(s->popped);
	free(s);
}

/* Runs the ops; returns when the input ends or a port write ends the call. */
static void run(struct state *s, struct fuzz_input *in)
{
	const uint8_t *p;

	while (fuzz_remaining(in)) {
		switch (fuzz_read_u8(in) % OUTB_OPS) {
		case OUTB_OUT_LOG:
			if (out(s, NUB_PORT_LOG, fuzz_read_u32(in), 4))
				return;
			break;
		case OUTB_OUT_HOST_CALL:
			if (out(s, NUB_PORT_HOST_CALL, fuzz_read_u32(in), 4))
				return;
			break;
		case OUTB_OUT_ABORT:
			if (out(s, NUB_PORT_ABORT, fuzz_read_u32(in), 4))
				return;
			break;
		case OUTB_OUT_PRINT:
			if (out(s, NUB_PORT_DEBUG_PRINT, fuzz_read_u32(in), 4))
				return;
			break;
		case OUTB_OUT_HALT:
			if (out(s, NUB_PORT_HALT, fuzz_read_u32(in), 4))
				return;
			break;
		case OUTB_OUT_RAW: {
			uint16_t port = fuzz_read_u16(in);
			uint32_t size = fuzz_read_u8(in) % 5;
			if (out(s, port, fuzz_read_u32(in), size))
				return;
			break;
		}
		case OUTB_PUSH_LOG:
			op_push_log(s, in);
			break;
		case OUTB_PUSH_REQUEST:
			op_push_request(s, in);
			break;
		case OUTB_PUSH_RAW: {
			uint16_t want = fuzz_read_u16(in);
			size_t n = fuzz_read_bytes(in, want, &p);
			push_output(s, p, n);
			break;
		}
		case OUTB_POKE_OUTPUT: {
			uint64_t off = fuzz_read_u16(in) % (s->output_size - 7);
			uint64_t v = fuzz_read_u64(in);
			for (unsigned i = 0; i < 8; i++)
				s->output[off + i] = (uint8_t)(v >> (8 * i));
			break;
		}
		case OUTB_POP_INPUT:
			op_pop_input(s);
			break;
		case OUTB_FEED_ABORT:
			op_feed_direct(s, fuzz_read_u32(in));
			break;
		case OUTB_ABORT_BYTES: {
			uint16_t want = fuzz_read_u16(in);
			size_t n = fuzz_read_bytes(in, want, &p);
			for (size_t i = 0; i < n; i += 3) {
				uint32_t k = n - i < 3 ? (uint32_t)(n - i) : 3, v = k;
				for (uint32_t j = 0; j < k; j++)
					v |= (uint32_t)p[i + j] << (8 * (j + 1));
				if (out(s, NUB_PORT_ABORT, v, 4))
					return;
			}
			break;
		}
		default: {
			uint16_t want = fuzz_read_u16(in);
			size_t n = fuzz_read_bytes(in, want, &p);
			for (size_t i = 0; i < n; i++)
				if (out(s, NUB_PORT_DEBUG_PRINT, p[i], 4))
					return;
			break;
		}
		}
	}
	/* The input ended with the guest still running: the call ends here, as on a time limit. */
	nub_outb_flush_print(&s->env);
	NUB_FUZZ_CHECK_OP("nub_outb_flush_print", s->print.len == 0);
	nub_fuzz_outcome("continue");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;

	if (nub_fuzz_oversize(size, MAX_INPUT))
		return 0;
	fuzz_input_init(&in, data, size);
	struct state *s = state_new(&in);
	run(s, &in);
	state_free(s);
	return 0;
}

static const char *const op_names[] = {
	[OUTB_OUT_LOG] = "out log",     [OUTB_OUT_HOST_CALL] = "out host-call",
	[OUTB_OUT_ABORT] = "out abort", [OUTB_OUT_PRINT] = "out debug-print",
	[OUTB_OUT_HALT] = "out halt",
};

void nub_fuzz_describe(const uint8_t *data, size_t len, FILE *out_file)
{
	FILE *o = out_file;
	struct fuzz_input in;
	const uint8_t *p;
	unsigned ops = 0;

	fuzz_input_init(&in, data, len);
	unsigned level = fuzz_read_u8(&in) % 6;
	uint8_t sizes = fuzz_read_u8(&in);
	unsigned fail_at = fuzz_read_u8(&in);
	fprintf(o, "  max guest log level %u, input buffer %llu bytes, output buffer %llu bytes, ",
		level, (unsigned long long)io_sizes[sizes & 3],
		(unsigned long long)io_sizes[(sizes >> 2) & 3]);
	if (fail_at)
		fprintf(o, "allocation #%u fails\n", fail_at);
	else
		fprintf(o, "no allocation failure\n");
	while (fuzz_remaining(&in)) {
		if (++ops > MAX_DESCRIBED_OPS) {
			fprintf(o, "  ... (%zu more input bytes)\n", fuzz_remaining(&in));
			return;
		}
		unsigned op = fuzz_read_u8(&in) % OUTB_OPS;
		switch (op) {
		case OUTB_OUT_LOG:
		case OUTB_OUT_HOST_CALL:
		case OUTB_OUT_ABORT:
		case OUTB_OUT_PRINT:
		case OUTB_OUT_HALT:
			fprintf(o, "  %s 0x%08x\n", op_names[op], fuzz_read_u32(&in));
			break;
		case OUTB_OUT_RAW: {
			uint16_t port = fuzz_read_u16(&in);
			unsigned size = fuzz_read_u8(&in) % 5;
			fprintf(o, "  out port %u, %u bytes, value 0x%08x\n", port, size,
				fuzz_read_u32(&in));
			break;
		}
		case OUTB_PUSH_LOG: {
			const uint8_t *file;
			uint8_t lv = fuzz_read_u8(&in);
			uint32_t line = fuzz_read_u32(&in);
			uint8_t wf = fuzz_read_u8(&in);
			uint16_t wm = fuzz_read_u16(&in);
			size_t nf = fuzz_read_bytes(&in, wf, &file);
			size_t nm = fuzz_read_bytes(&in, wm, &p);
			fprintf(o, "  guest pushes log record: level %u, line %u, file ", lv, line);
			nub_fuzz_print_string(o, file, nf, 40);
			fprintf(o, ", message ");
			nub_fuzz_print_string(o, p, nm, 60);
			fputc('\n', o);
			break;
		}
		case OUTB_PUSH_REQUEST: {
			uint32_t fn_id = fuzz_read_u32(&in);
			uint16_t want = fuzz_read_u16(&in);
			size_t n = fuzz_read_bytes(&in, want, &p);
			fprintf(o, "  guest pushes request: fn_id %u, payload ", fn_id);
			nub_fuzz_print_string(o, p, n, 60);
			fputc('\n', o);
			break;
		}
		case OUTB_PUSH_RAW: {
			uint16_t want = fuzz_read_u16(&in);
			size_t n = fuzz_read_bytes(&in, want, &p);
			fprintf(o, "  guest pushes a raw %zu-byte element:\n", n);
			nub_fuzz_hexdump(o, p, n, 48);
			break;
		}
		case OUTB_POKE_OUTPUT: {
			uint16_t off = fuzz_read_u16(&in);
			fprintf(o,
				"  guest writes u64 0x%llx into the output buffer at offset %u (mod size - 7)\n",
				(unsigned long long)fuzz_read_u64(&in), off);
			break;
		}
		case OUTB_POP_INPUT:
			fprintf(o, "  guest pops the response from the input buffer\n");
			break;
		case OUTB_FEED_ABORT:
			fprintf(o, "  nub_outb_abort_feed 0x%08x (separate stream)\n",
				fuzz_read_u32(&in));
			break;
		case OUTB_ABORT_BYTES: {
			uint16_t want = fuzz_read_u16(&in);
			size_t n = fuzz_read_bytes(&in, want, &p);
			fprintf(o, "  abort port bytes (3 per write): ");
			nub_fuzz_print_string(o, p, n, 80);
			fputc('\n', o);
			break;
		}
		default: {
			uint16_t want = fuzz_read_u16(&in);
			size_t n = fuzz_read_bytes(&in, want, &p);
			fprintf(o, "  debug-print bytes as scalars: ");
			nub_fuzz_print_string(o, p, n, 80);
			fputc('\n', o);
			break;
		}
		}
	}
}
