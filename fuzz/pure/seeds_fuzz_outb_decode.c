/* SPDX-License-Identifier: Apache-2.0 */
/* Seeds of fuzz_outb_decode: every port, abort streams, logs, host calls, debug print. */
#include <string.h>

#include "fuzz_formats.h"
#include "nub/abi.h"
#include "seedgen.h"

#define SIZES(in, out) ((uint8_t)((in) | (out) << 2)) /* indices into OUTB_SIZES */
#define BIG 3u
#define IDX_512 2u
#define IDX_16 0u

static void outb_begin(struct fuzz_output *o, uint8_t level, uint8_t sizes, uint8_t fail_at)
{
	fuzz_write_u8(o, level);
	fuzz_write_u8(o, sizes);
	fuzz_write_u8(o, fail_at);
}

static void outb_out(struct fuzz_output *o, enum fuzz_outb_op op, uint32_t v)
{
	fuzz_write_u8(o, (uint8_t)op);
	fuzz_write_u32(o, v);
}

static void outb_raw(struct fuzz_output *o, uint16_t port, uint8_t size, uint32_t v)
{
	fuzz_write_u8(o, OUTB_OUT_RAW);
	fuzz_write_u16(o, port);
	fuzz_write_u8(o, size);
	fuzz_write_u32(o, v);
}

static void outb_bytes(struct fuzz_output *o, enum fuzz_outb_op op, const void *p, size_t n)
{
	fuzz_write_u8(o, (uint8_t)op);
	fuzz_write_u16(o, (uint16_t)n);
	fuzz_write_bytes(o, p, n);
}

static void outb_push_log(struct fuzz_output *o, uint8_t level, uint32_t line, const char *file,
			  const char *msg)
{
	fuzz_write_u8(o, OUTB_PUSH_LOG);
	fuzz_write_u8(o, level);
	fuzz_write_u32(o, line);
	fuzz_write_u8(o, (uint8_t)strlen(file));
	fuzz_write_u16(o, (uint16_t)strlen(msg));
	fuzz_write_bytes(o, file, strlen(file));
	fuzz_write_bytes(o, msg, strlen(msg));
}

static void outb_push_request(struct fuzz_output *o, uint32_t fn_id, const void *p, size_t n)
{
	fuzz_write_u8(o, OUTB_PUSH_REQUEST);
	fuzz_write_u32(o, fn_id);
	fuzz_write_u16(o, (uint16_t)n);
	fuzz_write_bytes(o, p, n);
}

static void outb_host_call(struct fuzz_output *o, uint32_t fn_id, const void *p, size_t n)
{
	outb_push_request(o, fn_id, p, n);
	outb_out(o, OUTB_OUT_HOST_CALL, 0);
	fuzz_write_u8(o, OUTB_POP_INPUT);
}

/* An abort stream: (n) bytes then the terminator, 3 bytes per write. */
static void outb_abort(struct fuzz_output *o, const void *p, size_t n)
{
	outb_bytes(o, OUTB_ABORT_BYTES, p, n);
	outb_out(o, OUTB_OUT_ABORT, 1 | NUB_ABORT_TERMINATOR << 8);
}

void seeds_fuzz_outb_decode(struct seedgen *g)
{
	struct fuzz_output o = { 0 };
	uint8_t big[1100];

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_out(&o, OUTB_OUT_HALT, 0);
	seedgen_emit(g, "halt", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_abort(&o,
		   "\x01"
		   "boom",
		   5);
	seedgen_emit(g, "abort-panic", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_abort(&o,
		   "\x02\x0e"
		   "page fault at 0x0",
		   19);
	seedgen_emit(g, "abort-exception-vector", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_abort(&o,
		   "\x01"
		   "tab\there\x01\x7f"
		   "nl\n",
		   14);
	seedgen_emit(g, "abort-control-bytes", &o);

	memset(big, 'A', sizeof big);
	big[0] = NUB_ABORT_PANIC;
	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_bytes(&o, OUTB_ABORT_BYTES, big, sizeof big);
	seedgen_emit(g, "abort-truncated-1024", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_out(&o, OUTB_OUT_ABORT, 0x41414100);
	seedgen_emit(g, "abort-bad-byte-count", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_out(&o, OUTB_FEED_ABORT, 0x780d0203); /* exception, vector 13, 'x' */
	outb_out(&o, OUTB_FEED_ABORT, 0x00ff7902); /* 'y', terminator */
	outb_out(&o, OUTB_FEED_ABORT, 0x00000004); /* bad count */
	outb_out(&o, OUTB_FEED_ABORT, 0x69680103); /* panic "hi" */
	outb_out(&o, OUTB_FEED_ABORT, 0x0000ff01);
	outb_out(&o, OUTB_FEED_ABORT, 0x0000ff01); /* empty stream */
	seedgen_emit(g, "abort-feed-direct", &o);

	outb_begin(&o, NUB_LEVEL_INFO, SIZES(BIG, BIG), 0);
	outb_push_log(&o, NUB_LEVEL_INFO, 7, "guest.c", "hello from the guest");
	outb_out(&o, OUTB_OUT_LOG, 0);
	outb_push_log(&o, NUB_LEVEL_ERROR, 8, "", "");
	outb_out(&o, OUTB_OUT_LOG, 0);
	outb_out(&o, OUTB_OUT_HALT, 0);
	seedgen_emit(g, "log-delivered", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_push_log(&o, NUB_LEVEL_TRACE, 1, "guest.c", "filtered out");
	outb_out(&o, OUTB_OUT_LOG, 0);
	outb_out(&o, OUTB_OUT_HALT, 0);
	seedgen_emit(g, "log-filtered", &o);

	outb_begin(&o, NUB_LEVEL_TRACE, SIZES(BIG, BIG), 0);
	outb_push_log(&o, 9, 1, "guest.c", "level 9");
	outb_out(&o, OUTB_OUT_LOG, 0);
	seedgen_emit(g, "log-bad-level", &o);

	outb_begin(&o, NUB_LEVEL_TRACE, SIZES(BIG, BIG), 0);
	outb_out(&o, OUTB_OUT_LOG, 0);
	seedgen_emit(g, "log-empty-buffer", &o);

	outb_begin(&o, NUB_LEVEL_TRACE, SIZES(BIG, BIG), 0);
	outb_bytes(&o, OUTB_PUSH_RAW, "\x03\x00\x00\x00garbage", 11);
	outb_out(&o, OUTB_OUT_LOG, 0);
	seedgen_emit(g, "log-garbage-frame", &o);

	outb_begin(&o, NUB_LEVEL_TRACE, SIZES(BIG, BIG), 0);
	outb_push_log(&o, NUB_LEVEL_WARN, 3, "guest.c", "sp is rewritten");
	fuzz_write_u8(&o, OUTB_POKE_OUTPUT);
	fuzz_write_u16(&o, 0);
	fuzz_write_u64(&o, 0x100000);
	outb_out(&o, OUTB_OUT_LOG, 0);
	seedgen_emit(g, "log-corrupt-sp", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_host_call(&o, OUTB_FN_ECHO, "ping", 4);
	outb_out(&o, OUTB_OUT_HALT, 0);
	seedgen_emit(g, "host-call-echo", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_push_request(&o, OUTB_FN_ECHO, "first", 5);
	outb_out(&o, OUTB_OUT_HOST_CALL, 0);
	outb_push_request(&o, OUTB_FN_ECHO, "second", 6);
	outb_out(&o, OUTB_OUT_HOST_CALL, 0);
	fuzz_write_u8(&o, OUTB_POP_INPUT);
	fuzz_write_u8(&o, OUTB_POP_INPUT);
	fuzz_write_u8(&o, OUTB_POP_INPUT); /* nothing left */
	seedgen_emit(g, "host-calls-stacked", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_host_call(&o, 77, "x", 1);
	seedgen_emit(g, "host-call-unknown-fn", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_host_call(&o, OUTB_FN_FAIL, "please", 6);
	seedgen_emit(g, "host-call-host-error", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(IDX_512, BIG), 0);
	outb_host_call(&o, OUTB_FN_GROW, "0123456789", 10);
	seedgen_emit(g, "host-call-response-too-large", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(IDX_16, BIG), 0);
	outb_host_call(&o, OUTB_FN_ECHO, "no room", 7);
	seedgen_emit(g, "host-call-input-too-small", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 2);
	outb_host_call(&o, OUTB_FN_ECHO, "copy fails", 10);
	seedgen_emit(g, "host-call-alloc-fail-copy", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 3);
	outb_host_call(&o, OUTB_FN_ECHO, "echo fails", 10);
	seedgen_emit(g, "host-call-alloc-fail-echo", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_bytes(&o, OUTB_PUSH_RAW, "\x01\x00\x00", 3);
	outb_out(&o, OUTB_OUT_HOST_CALL, 0);
	seedgen_emit(g, "host-call-short-frame", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, IDX_512), 0);
	outb_push_request(&o, OUTB_FN_ECHO, "abc", 3);
	fuzz_write_u8(&o, OUTB_POKE_OUTPUT);
	fuzz_write_u16(&o, 19); /* the element's back-pointer */
	fuzz_write_u64(&o, 2);
	outb_out(&o, OUTB_OUT_HOST_CALL, 0);
	seedgen_emit(g, "host-call-corrupt-back-pointer", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_bytes(&o, OUTB_PRINT_BYTES, "hello, world\n", 13);
	outb_out(&o, OUTB_OUT_HALT, 0);
	seedgen_emit(g, "print-line", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_out(&o, OUTB_OUT_PRINT, 0xe9);
	outb_out(&o, OUTB_OUT_PRINT, 0x20ac);
	outb_out(&o, OUTB_OUT_PRINT, 0x1f600);
	outb_out(&o, OUTB_OUT_PRINT, '\n');
	outb_out(&o, OUTB_OUT_PRINT, 0x7ff);
	seedgen_emit(g, "print-unicode", &o);

	memset(big, 'x', sizeof big);
	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_bytes(&o, OUTB_PRINT_BYTES, big, sizeof big);
	seedgen_emit(g, "print-long-line", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_out(&o, OUTB_OUT_PRINT, 'a');
	outb_out(&o, OUTB_OUT_PRINT, 0xd800);
	seedgen_emit(g, "print-surrogate", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_out(&o, OUTB_OUT_PRINT, 0x110000);
	seedgen_emit(g, "print-above-unicode", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_raw(&o, 0x3f8, 1, 'A');
	seedgen_emit(g, "port-unknown", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_raw(&o, NUB_PORT_LOG, 2, 0);
	seedgen_emit(g, "port-wrong-size", &o);

	outb_begin(&o, NUB_LEVEL_ERROR, SIZES(BIG, BIG), 0);
	outb_raw(&o, NUB_PORT_HALT, 1, 0);
	seedgen_emit(g, "port-halt-byte", &o);
}
