/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of port-write handling: abort stream, logs, host calls, debug print, bad ports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_fns.h"
#include "hostfn.h"
#include "iobuf.h"
#include "outb.h"
#include "testlib.h"
#include "wire.h"

#define BUF 4096

struct fixture {
	uint8_t input[BUF] __attribute__((aligned(8)));
	uint8_t output[BUF] __attribute__((aligned(8)));
	uint8_t staging[BUF];
	struct nub_hostfn_table fns;
	struct nub_config cfg;
	struct nub_abort_stream abort;
	struct nub_print_line print;
	struct nub_test_capture cap;
	struct nub_outb_env env;
	struct nub_error err;
};

/* The message of host function 2. */
static char fail_message[] = "nope";

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	nub_config_default(&f->cfg);
	nub_test_capture_attach(&f->cfg, &f->cap);
	f->cfg.max_guest_log_level = NUB_LEVEL_INFO;
	nub_iobuf_reset(f->input, BUF);
	nub_iobuf_reset(f->output, BUF);
	assert_int_equal(nub_hostfn_register(&f->fns, NULL, 1, host_fn_echo, NULL, NULL), NUB_OK);
	assert_int_equal(nub_hostfn_register(&f->fns, NULL, 2, host_fn_fail, fail_message, NULL),
			 NUB_OK);
	f->env = (struct nub_outb_env){
		.input = f->input,
		.input_size = BUF,
		.output = f->output,
		.output_size = BUF,
		.staging = f->staging,
		.staging_size = BUF,
		.hostfns = &f->fns,
		.cfg = &f->cfg,
		.abort = &f->abort,
		.print = &f->print,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	nub_hostfn_free(&f->fns, NULL);
	free(f);
	return 0;
}

static enum nub_outb_result out32(struct fixture *f, uint16_t port, uint32_t v)
{
	uint8_t d[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	return nub_outb_handle(&f->env, port, d, 4, &f->err);
}

/* Sends (bytes) over the abort port, three per write, then the terminator if (terminate). */
static enum nub_outb_result send_abort(struct fixture *f, const uint8_t *bytes, size_t n,
				       bool terminate)
{
	enum nub_outb_result r = NUB_OUTB_CONTINUE;
	size_t i = 0;
	while (i < n && r == NUB_OUTB_CONTINUE) {
		uint32_t k = n - i < 3 ? (uint32_t)(n - i) : 3, v = k;
		for (uint32_t j = 0; j < k; j++)
			v |= (uint32_t)bytes[i + j] << (8 * (j + 1));
		r = out32(f, NUB_PORT_ABORT, v);
		i += k;
	}
	if (terminate && r == NUB_OUTB_CONTINUE)
		r = out32(f, NUB_PORT_ABORT, 1 | 0xffu << 8);
	return r;
}

static void test_abort_code_and_message(void **state)
{
	struct fixture *f = *state;
	const uint8_t msg[] = { 9, 'o', 'o', 'p', 's', '\x01' };
	assert_int_equal(send_abort(f, msg, sizeof msg, true), NUB_OUTB_STOP);
	nub_assert_error(&f->err, NUB_E_GUEST_ABORT, "guest aborted with code 9: oops?");
	assert_int_equal(f->err.guest_code, 9);
	assert_int_equal(f->abort.len, 0); /* reset for the next stream */
}

static void test_abort_exception_vector(void **state)
{
	struct fixture *f = *state;
	const uint8_t msg[] = { NUB_ABORT_EXCEPTION, 14, 'p', 'f' };
	assert_int_equal(send_abort(f, msg, sizeof msg, true), NUB_OUTB_STOP);
	assert_int_equal(f->err.guest_code, NUB_ABORT_EXCEPTION);
	assert_int_equal(f->err.vector, 14);
	nub_assert_error(&f->err, NUB_E_GUEST_ABORT, "code 2: pf");
}

/* Regression: an exception code with no vector byte once became a fabricated #DE at rip 0. */
static void test_abort_exception_without_vector(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(out32(f, NUB_PORT_ABORT, 2 | NUB_ABORT_EXCEPTION << 8 | 0xffu << 16),
			 NUB_OUTB_STOP);
	nub_assert_error(&f->err, NUB_E_PROTOCOL,
			 "guest exception abort (code 2) carries no vector byte");
}

static void test_abort_terminator_mid_write_and_empty(void **state)
{
	struct fixture *f = *state;
	/* [3, 5, 'x', 0xff]: the terminator ends the stream inside the write */
	assert_int_equal(out32(f, NUB_PORT_ABORT, 3 | 5u << 8 | 'x' << 16 | 0xffu << 24),
			 NUB_OUTB_STOP);
	nub_assert_error(&f->err, NUB_E_GUEST_ABORT, "guest aborted with code 5: x");
	/* A bare terminator: code 0, empty message. */
	assert_int_equal(out32(f, NUB_PORT_ABORT, 1 | 0xffu << 8), NUB_OUTB_STOP);
	assert_int_equal(f->err.guest_code, 0);
	nub_assert_error(&f->err, NUB_E_GUEST_ABORT, "guest aborted with code 0: ");
}

static void test_abort_cap(void **state)
{
	struct fixture *f = *state;
	uint8_t msg[1100];
	msg[0] = 7;
	for (size_t i = 1; i < sizeof msg; i++)
		msg[i] = (uint8_t)('a' + i % 26);
	/* The 1024th byte completes the stream even without a terminator. */
	assert_int_equal(send_abort(f, msg, 1023, false), NUB_OUTB_CONTINUE);
	assert_int_equal(send_abort(f, msg + 1023, 1, false), NUB_OUTB_STOP);
	nub_assert_error(&f->err, NUB_E_GUEST_ABORT, "[abort stream truncated at 1024 bytes]");
	assert_int_equal(f->err.guest_code, 7);
	struct nub_abort_stream s = { .len = 0 };
	struct nub_abort ab;
	bool done = false;
	for (int i = 0; i < 400 && !done; i++)
		assert_int_equal(nub_outb_abort_feed(&s, 3 | 0x414141u << 8, &done, &ab, NULL),
				 NUB_OK);
	assert_true(done);
	assert_true(ab.truncated);
	assert_int_equal(strlen(ab.message), 1023);
}

static void test_abort_bad_byte_count(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(out32(f, NUB_PORT_ABORT, 0), NUB_OUTB_STOP);
	nub_assert_error(&f->err, NUB_E_PROTOCOL,
			 "abort port write 0x00000000 has byte count 0 (must be 1..3)");
	assert_int_equal(out32(f, NUB_PORT_ABORT, 4 | 0x414141u << 8), NUB_OUTB_STOP);
	nub_assert_error(&f->err, NUB_E_PROTOCOL, "byte count 4");
}

static void test_ports_and_sizes(void **state)
{
	struct fixture *f = *state;
	uint8_t d[4] = { 0 };
	assert_int_equal(nub_outb_handle(&f->env, NUB_PORT_HALT, d, 1, &f->err), NUB_OUTB_HALT);
	assert_int_equal(out32(f, 0x3f8, 0), NUB_OUTB_STOP);
	nub_assert_error(&f->err, NUB_E_PROTOCOL, "guest wrote to unknown port 0x3f8");
	assert_int_equal(nub_outb_handle(&f->env, NUB_PORT_HOST_CALL, d, 2, &f->err),
			 NUB_OUTB_STOP);
	nub_assert_error(&f->err, NUB_E_PROTOCOL, "guest wrote 2 bytes to port 101 (must be 4)");
}

static void push_frame(struct fixture *f, const uint8_t *frame, size_t n)
{
	assert_int_equal(nub_iobuf_push(f->output, BUF, frame, n, NULL), NUB_OK);
}

static void test_log_delivery_and_filter(void **state)
{
	struct fixture *f = *state;
	uint8_t frame[128];
	size_t n;
	assert_int_equal(nub_wire_encode_log(frame, sizeof frame, NUB_LEVEL_INFO, 12, "g.c", 3,
					     "hello", 5, &n, NULL),
			 NUB_OK);
	push_frame(f, frame, n);
	assert_int_equal(out32(f, NUB_PORT_LOG, 0), NUB_OUTB_CONTINUE);
	assert_int_equal(f->cap.nlogs, 1);
	assert_int_equal(f->cap.levels[0], NUB_LEVEL_INFO);
	assert_int_equal(f->cap.lines[0], 12);
	assert_string_equal(f->cap.files[0], "g.c");
	assert_string_equal(f->cap.messages[0], "hello");
	/* above the configured level: consumed, not delivered */
	assert_int_equal(nub_wire_encode_log(frame, sizeof frame, NUB_LEVEL_DEBUG, 1, "", 0, "x", 1,
					     &n, NULL),
			 NUB_OK);
	push_frame(f, frame, n);
	assert_int_equal(out32(f, NUB_PORT_LOG, 0), NUB_OUTB_CONTINUE);
	assert_int_equal(f->cap.nlogs, 1);
	assert_int_equal(nub_iobuf_sp(f->output), NUB_IOBUF_SP_INIT);
	/* a corrupt frame and an empty buffer */
	const uint8_t junk[3] = { 1, 2, 3 };
	push_frame(f, junk, sizeof junk);
	assert_int_equal(out32(f, NUB_PORT_LOG, 0), NUB_OUTB_STOP);
	assert_int_equal(f->err.status, NUB_E_PROTOCOL);
	assert_int_equal(out32(f, NUB_PORT_LOG, 0), NUB_OUTB_STOP);
	nub_assert_error(&f->err, NUB_E_PROTOCOL, "output buffer stack pointer 0x8");
}

/* Pops the response the host pushed into input and decodes it into (v) (pointing at f->staging). */
static void pop_response(struct fixture *f, struct nub_response_view *v)
{
	uint64_t len;
	assert_int_equal(nub_iobuf_pop(f->input, BUF, f->staging, BUF, &len, "input", NULL),
			 NUB_OK);
	assert_int_equal(nub_wire_decode_response(f->staging, len, v, NULL), NUB_OK);
}

static void host_call(struct fixture *f, uint32_t fn_id, const void *payload, size_t len,
		      enum nub_outb_result want)
{
	uint8_t frame[BUF];
	size_t n;
	assert_int_equal(nub_wire_encode_request(frame, sizeof frame, fn_id, payload, len, &n,
						 NULL),
			 NUB_OK);
	push_frame(f, frame, n);
	assert_int_equal(out32(f, NUB_PORT_HOST_CALL, 0), want);
}

static void test_host_calls(void **state)
{
	struct fixture *f = *state;
	struct nub_response_view v;
	host_call(f, 1, "ping", 4, NUB_OUTB_CONTINUE);
	pop_response(f, &v);
	assert_int_equal(v.status, NUB_STATUS_OK);
	assert_int_equal(v.payload_len, 4);
	assert_memory_equal(v.payload, "ping", 4);

	host_call(f, 77, NULL, 0, NUB_OUTB_CONTINUE);
	pop_response(f, &v);
	assert_int_equal(v.status, NUB_STATUS_NO_SUCH_FUNCTION);
	assert_int_equal(v.msg_len, strlen("no host function with fn_id 77"));
	assert_memory_equal(v.msg, "no host function with fn_id 77", v.msg_len);

	host_call(f, 2, "x", 1, NUB_OUTB_CONTINUE);
	pop_response(f, &v);
	assert_int_equal(v.status, NUB_STATUS_HOST_ERROR);
	assert_memory_equal(v.msg, "nope", 4);

	/* An echo of 3000 bytes fits output but its 3020-byte response not the rest of input. */
	static uint8_t big[3000];
	uint8_t filler[1500] = { 0 };
	assert_int_equal(nub_iobuf_push(f->input, BUF, filler, sizeof filler, NULL), NUB_OK);
	host_call(f, 1, big, sizeof big, NUB_OUTB_CONTINUE);
	pop_response(f, &v);
	assert_int_equal(v.status, NUB_STATUS_RESPONSE_TOO_LARGE);
	assert_non_null(strstr((const char *)v.msg, "does not fit the input buffer"));
}

static void test_host_call_corrupt_frames(void **state)
{
	struct fixture *f = *state;
	const uint8_t short_frame[5] = { 1, 0, 0, 0, 9 };
	push_frame(f, short_frame, sizeof short_frame);
	assert_int_equal(out32(f, NUB_PORT_HOST_CALL, 0), NUB_OUTB_STOP);
	nub_assert_error(&f->err, NUB_E_PROTOCOL, "request frame");
	/* a stack pointer beyond the buffer */
	uint64_t sp = BUF + 8;
	memcpy(f->output, &sp, 8);
	assert_int_equal(out32(f, NUB_PORT_HOST_CALL, 0), NUB_OUTB_STOP);
	nub_assert_error(&f->err, NUB_E_PROTOCOL, "output buffer stack pointer 0x1008");
	/* input so full that not even an error frame fits: a protocol error, not a host bug */
	nub_iobuf_reset(f->output, BUF);
	uint8_t filler[BUF - 24] = { 0 };
	assert_int_equal(nub_iobuf_push(f->input, BUF, filler, sizeof filler, NULL), NUB_OK);
	host_call(f, 77, NULL, 0, NUB_OUTB_STOP);
	assert_int_equal(f->err.status, NUB_E_PROTOCOL);
}

static void test_debug_print(void **state)
{
	struct fixture *f = *state;
	const uint32_t text[] = { 'h', 'i', 0xe9, 0x20ac, 0x1f600, '\n' };
	for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
		assert_int_equal(out32(f, NUB_PORT_DEBUG_PRINT, text[i]), NUB_OUTB_CONTINUE);
	assert_string_equal(f->cap.printed, "hi\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n");
	/* no newline: delivered by the flush at the end of a call */
	assert_int_equal(out32(f, NUB_PORT_DEBUG_PRINT, 'z'), NUB_OUTB_CONTINUE);
	nub_outb_flush_print(&f->env);
	assert_int_equal(f->cap.printed_len, 13);
	/* a full line is delivered before it would overflow */
	for (int i = 0; i < 1500; i++)
		assert_int_equal(out32(f, NUB_PORT_DEBUG_PRINT, 'a'), NUB_OUTB_CONTINUE);
	assert_int_equal(f->cap.printed_len, 13 + 1024);
	assert_int_equal(out32(f, NUB_PORT_DEBUG_PRINT, 0xd800), NUB_OUTB_STOP);
	nub_assert_error(&f->err, NUB_E_PROTOCOL,
			 "debug print value 0xd800 is not a Unicode scalar");
	assert_int_equal(out32(f, NUB_PORT_DEBUG_PRINT, 0x110000), NUB_OUTB_STOP);
	assert_int_equal(f->err.status, NUB_E_PROTOCOL);
}

/* Abort messages keep tabs and newlines; DEL, like other control bytes, becomes '?'. */
static void test_abort_message_control_bytes(void **state)
{
	struct fixture *f = *state;
	const uint8_t msg[] = { 9, 'a', '\t', 'b', '\n', 0x7f, 0x1b, 'c' };
	assert_int_equal(send_abort(f, msg, sizeof msg, true), NUB_OUTB_STOP);
	nub_assert_error(&f->err, NUB_E_GUEST_ABORT, "guest aborted with code 9: a\tb\n??c");
}

/* Without log and print callbacks, records and text are consumed and dropped. */
static void test_no_callbacks(void **state)
{
	struct fixture *f = *state;
	f->cfg.log = NULL;
	f->cfg.debug_print = NULL;
	uint8_t frame[64];
	size_t n;
	assert_int_equal(nub_wire_encode_log(frame, sizeof frame, NUB_LEVEL_ERROR, 1, "g.c", 3,
					     "hi", 2, &n, NULL),
			 NUB_OK);
	push_frame(f, frame, n);
	assert_int_equal(out32(f, NUB_PORT_LOG, 0), NUB_OUTB_CONTINUE);
	assert_int_equal(nub_iobuf_sp(f->output), NUB_IOBUF_SP_INIT);
	assert_int_equal(out32(f, NUB_PORT_DEBUG_PRINT, 'x'), NUB_OUTB_CONTINUE);
	assert_int_equal(out32(f, NUB_PORT_DEBUG_PRINT, '\n'), NUB_OUTB_CONTINUE);
	assert_int_equal(out32(f, NUB_PORT_DEBUG_PRINT, 'y'), NUB_OUTB_CONTINUE);
	nub_outb_flush_print(&f->env);
	assert_int_equal(f->print.len, 0);
	assert_int_equal(f->cap.nlogs, 0);
	assert_int_equal(f->cap.printed_len, 0);
}

static const struct CMUnitTest tests[] = {
	NUB_TEST_CASE(test_abort_code_and_message),
	NUB_TEST_CASE(test_abort_exception_vector),
	NUB_TEST_CASE(test_abort_exception_without_vector),
	NUB_TEST_CASE(test_abort_terminator_mid_write_and_empty),
	NUB_TEST_CASE(test_abort_cap),
	NUB_TEST_CASE(test_abort_bad_byte_count),
	NUB_TEST_CASE(test_ports_and_sizes),
	NUB_TEST_CASE(test_log_delivery_and_filter),
	NUB_TEST_CASE(test_host_calls),
	NUB_TEST_CASE(test_host_call_corrupt_frames),
	NUB_TEST_CASE(test_debug_print),
	NUB_TEST_CASE(test_abort_message_control_bytes),
	NUB_TEST_CASE(test_no_callbacks),
};

NUB_TEST_SUITE(tests);
