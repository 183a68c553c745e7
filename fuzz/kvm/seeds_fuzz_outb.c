/* SPDX-License-Identifier: Apache-2.0 */
/* Seeds of fuzz_outb: programs of the `fuzz` guest (fuzz_cmds_codec.h) covering every op. */
#include <string.h>

#include "bytes.h"
#include "fuzz_cmds_codec.h"
#include "nub/abi.h"
#include "seedgen.h"

static void prog_check(bool ok)
{
	if (!ok)
		seedgen_die("fuzz_prog", "out of memory");
}

/* Writes (p) as the seed (name) and empties it for the next one. */
static void prog_emit(struct seedgen *g, struct fuzz_prog *p, const char *name)
{
	seedgen_write(g, name, p->buf, p->len);
	fuzz_prog_free(p);
	fuzz_prog_init(p);
}

void seeds_fuzz_outb(struct seedgen *g)
{
	struct fuzz_prog prog;
	static const char hello[] = "hello from the fuzz guest";
	uint8_t sp[8], elem[24], big[2048];

	fuzz_prog_init(&prog);
	prog_emit(g, &prog, "empty");

	prog_check(fuzz_prog_respond(&prog, "pong", 4));
	prog_emit(g, &prog, "respond");

	prog_check(fuzz_prog_host_call(&prog, 1, "echo me", 7));
	prog_check(fuzz_prog_host_call(&prog, 2, "upper me", 8));
	prog_check(fuzz_prog_respond(&prog, "done", 4));
	prog_emit(g, &prog, "host-call-echo-upper");

	prog_check(fuzz_prog_host_call(&prog, 3, "fail me", 7));
	prog_check(fuzz_prog_host_call(&prog, 4, "huge", 4));
	prog_check(fuzz_prog_host_call(&prog, 99, "nobody", 6));
	prog_emit(g, &prog, "host-call-fail-huge-unregistered");

	memset(big, 'b', sizeof big);
	prog_check(fuzz_prog_host_call(&prog, 1, big, sizeof big));
	prog_check(fuzz_prog_respond(&prog, big, 512));
	prog_emit(g, &prog, "host-call-2k-respond-512");

	for (uint8_t level = 0; level <= 6; level++)
		prog_check(fuzz_prog_log(&prog, level, hello, sizeof hello - 1));
	prog_emit(g, &prog, "log-levels-0-to-6");

	prog_check(fuzz_prog_log(&prog, NUB_LEVEL_ERROR, "", 0));
	prog_check(fuzz_prog_log(&prog, NUB_LEVEL_WARN, big, sizeof big));
	prog_emit(g, &prog, "log-empty-and-long");

	prog_check(fuzz_prog_debug_print(&prog, "hello, world\n", 13));
	prog_check(fuzz_prog_debug_print(&prog, "\xe9\xff\x7f\x00 no newline", 15));
	prog_emit(g, &prog, "debug-print");

	prog_check(fuzz_prog_abort(&prog, NUB_ABORT_PANIC, "boom", 4));
	prog_emit(g, &prog, "abort-panic");

	prog_check(fuzz_prog_abort(&prog, NUB_ABORT_EXCEPTION,
				   "\x0e"
				   "fake page fault",
				   16));
	prog_emit(g, &prog, "abort-exception-code");

	prog_check(fuzz_prog_abort(&prog, NUB_ABORT_OUT_OF_MEMORY, "\xff\xff\xff", 3));
	prog_emit(g, &prog, "abort-oom-0xff-bytes");

	for (uint8_t kind = 0; kind < FUZZ_EXC_COUNT; kind++) {
		static const char *const names[FUZZ_EXC_COUNT] = {
			"exception-divide",         "exception-ud2",        "exception-gp",
			"exception-null",           "exception-write-code", "exception-exec-data",
			"exception-stack-overflow",
		};
		prog_check(fuzz_prog_exception(&prog, kind));
		prog_emit(g, &prog, names[kind]);
	}

	prog_check(fuzz_prog_spin(&prog, 100));
	prog_check(fuzz_prog_respond(&prog, "after spin", 10));
	prog_emit(g, &prog, "spin-100");

	prog_check(fuzz_prog_spin(&prog, FUZZ_SPIN_FOREVER));
	prog_emit(g, &prog, "spin-forever");

	prog_check(fuzz_prog_push_output(&prog, "\0\0\0\0\0\0\0\0\0\0\0\0", 12));
	prog_check(fuzz_prog_halt(&prog));
	prog_emit(g, &prog, "halt-mid-call");

	prog_check(fuzz_prog_hlt(&prog));
	prog_check(fuzz_prog_respond(&prog, "resumed?", 8));
	prog_emit(g, &prog, "hlt-mid-call");

	prog_check(fuzz_prog_out(&prog, NUB_PORT_DEBUG_PRINT, 'A'));
	prog_check(fuzz_prog_out(&prog, NUB_PORT_DEBUG_PRINT, 0x1f600));
	prog_check(fuzz_prog_out(&prog, NUB_PORT_DEBUG_PRINT, '\n'));
	prog_check(fuzz_prog_respond(&prog, "printed", 7));
	prog_emit(g, &prog, "out-debug-print-scalars");

	prog_check(fuzz_prog_out(&prog, NUB_PORT_DEBUG_PRINT, 0xd800));
	prog_emit(g, &prog, "out-debug-print-surrogate");

	prog_check(fuzz_prog_out(&prog, NUB_PORT_ABORT, 0x78020203)); /* exception, vector 2, 'x' */
	prog_check(fuzz_prog_out(&prog, NUB_PORT_ABORT, 0x0000ff01));
	prog_emit(g, &prog, "out-abort-stream");

	prog_check(fuzz_prog_out(&prog, NUB_PORT_ABORT, 0x41414100)); /* byte count 0 */
	prog_emit(g, &prog, "out-abort-bad-count");

	prog_check(fuzz_prog_out(&prog, NUB_PORT_LOG, 0));
	prog_emit(g, &prog, "out-log-empty-output");

	prog_check(fuzz_prog_out(&prog, NUB_PORT_HOST_CALL, 0));
	prog_emit(g, &prog, "out-host-call-empty-output");

	prog_check(fuzz_prog_out(&prog, NUB_PORT_HALT, 0));
	prog_emit(g, &prog, "out-halt-empty-output");

	prog_check(fuzz_prog_out(&prog, 0x3f8, 0x41));
	prog_emit(g, &prog, "out-unknown-port");

	prog_check(fuzz_prog_out8(&prog, NUB_PORT_LOG, 1));
	prog_emit(g, &prog, "out8-log-port");

	prog_check(fuzz_prog_out8(&prog, NUB_PORT_HALT, 0));
	prog_emit(g, &prog, "out8-halt-port");

	nub_put_le64(sp, 0xfffffff0u);
	prog_check(fuzz_prog_write_output(&prog, 0, sp, 8));
	prog_check(fuzz_prog_out(&prog, NUB_PORT_HOST_CALL, 0));
	prog_emit(g, &prog, "write-output-sp-then-host-call");

	prog_check(fuzz_prog_set_output_sp(&prog, 4));
	prog_check(fuzz_prog_log(&prog, NUB_LEVEL_ERROR, "sp too low", 10));
	prog_emit(g, &prog, "set-output-sp-low-then-log");

	/* A request element for fn 1 whose payload_len lies (1000, holds 4). */
	nub_put_le32(elem, 1);
	nub_put_le32(elem + 4, 1000);
	memcpy(elem + 8, "ping", 4);
	prog_check(fuzz_prog_push_output(&prog, elem, 12));
	prog_check(fuzz_prog_out(&prog, NUB_PORT_HOST_CALL, 0));
	prog_emit(g, &prog, "push-output-lying-request");

	/* A log element: level 9 (no such level). */
	memset(elem, 0, sizeof elem);
	nub_put_le32(elem, 9);
	nub_put_le32(elem + 4, 1);
	prog_check(fuzz_prog_push_output(&prog, elem, 16));
	prog_check(fuzz_prog_out(&prog, NUB_PORT_LOG, 0));
	prog_emit(g, &prog, "push-output-log-bad-level");

	prog_check(fuzz_prog_write_input(&prog, 0, "\xff\xff\xff\xff\xff\xff\xff\x7f", 8));
	prog_check(fuzz_prog_host_call(&prog, 1, "after a bad input sp", 20));
	prog_emit(g, &prog, "write-input-sp-then-host-call");

	prog_check(fuzz_prog_write_input(&prog, 16, "scribble", 8));
	prog_check(fuzz_prog_respond(&prog, "survived", 8));
	prog_emit(g, &prog, "write-input-scribble");

	prog_check(fuzz_prog_log(&prog, NUB_LEVEL_INFO, "start", 5));
	prog_check(fuzz_prog_debug_print(&prog, "step\n", 5));
	prog_check(fuzz_prog_host_call(&prog, 2, "mixed", 5));
	prog_check(fuzz_prog_spin(&prog, 10));
	prog_check(fuzz_prog_respond(&prog, "mixed ok", 8));
	prog_emit(g, &prog, "mixed-well-formed");

	prog_check(fuzz_prog_respond(&prog, "before", 6));
	prog_check(fuzz_prog_raw(&prog, "\x7f\x01\x02", 3));
	prog_emit(g, &prog, "stop-unknown-op");

	prog_check(fuzz_prog_respond(&prog, "before", 6));
	prog_check(fuzz_prog_raw(&prog, "\x01\x63\x00", 3)); /* OUT needs 6 argument bytes */
	prog_emit(g, &prog, "stop-truncated");

	prog_check(fuzz_prog_raw(&prog,
				 "\x0f\xff\x00"
				 "short",
				 8)); /* RESPOND declares 255 */
	prog_emit(g, &prog, "respond-length-past-end");
	/*
	 * An element that ends exactly at the end of the 16 KiB output buffer (the stack guard page
	 * follows it): the stack pointer 2 KiB below the end, a push clamped to fill the rest, a halt
	 * that pops it as the response.
	 */
	prog_check(fuzz_prog_set_output_sp(&prog, 0x4000 - sizeof big));
	prog_check(fuzz_prog_push_output(&prog, big, sizeof big));
	prog_check(fuzz_prog_halt(&prog));
	prog_emit(g, &prog, "push-output-to-buffer-end-then-halt");
	fuzz_prog_free(&prog);
}
