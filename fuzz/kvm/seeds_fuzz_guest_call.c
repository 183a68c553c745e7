/* SPDX-License-Identifier: Apache-2.0 */
/* Seeds of fuzz_guest_call: one input per function of the `simple` guest. */
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "nub/abi.h"
#include "seedgen.h"
#include "simple_fns.h"

static void guest_call(struct seedgen *g, const char *name, uint32_t fn, const void *payload,
		       size_t n)
{
	struct fuzz_output o = { 0 };
	char full[96];

	fuzz_write_u32(&o, fn);
	fuzz_write_bytes(&o, payload, n);
	snprintf(full, sizeof full, "%02u-%s", fn, name);
	seedgen_emit(g, full, &o);
}

void seeds_fuzz_guest_call(struct seedgen *g)
{
	uint8_t b[16];

	guest_call(g, "echo", SIMPLE_ECHO, "hello", 5);
	nub_put_le32(b, 2);
	nub_put_le32(b + 4, 0xffffffff);
	guest_call(g, "add-wrapping", SIMPLE_ADD, b, 8);
	nub_put_le32(b, 300);
	guest_call(g, "fill-300", SIMPLE_FILL, b, 4);
	nub_put_le32(b, 1);
	memcpy(b + 4, "ping", 4);
	guest_call(g, "host-call-echo", SIMPLE_HOST_CALL, b, 8);
	nub_put_le32(b, 3);
	nub_put_le32(b + 4, 2);
	memcpy(b + 8, "abc", 3);
	guest_call(g, "host-call-chain-upper", SIMPLE_HOST_CALL_CHAIN, b, 11);
	nub_put_le32(b, NUB_LEVEL_WARN);
	memcpy(b + 4, "careful", 7);
	guest_call(g, "log-warn", SIMPLE_LOG, b, 11);
	guest_call(g, "log-all", SIMPLE_LOG_ALL, "", 0);
	guest_call(g, "debug-print", SIMPLE_DEBUG_PRINT, "hi there\n", 9);
	guest_call(g, "abort", SIMPLE_ABORT,
		   "\x01"
		   "boom",
		   5);
	guest_call(g, "abort-long", SIMPLE_ABORT_LONG, "", 0);
	guest_call(g, "divide-by-zero", SIMPLE_DIVIDE_BY_ZERO, "", 0);
	guest_call(g, "invalid-opcode", SIMPLE_INVALID_OPCODE, "", 0);
	guest_call(g, "breakpoint", SIMPLE_BREAKPOINT, "", 0);
	guest_call(g, "general-protection", SIMPLE_GENERAL_PROTECTION, "", 0);
	guest_call(g, "null-deref", SIMPLE_NULL_DEREF, "", 0);
	guest_call(g, "write-code", SIMPLE_WRITE_CODE, "", 0);
	guest_call(g, "execute-data", SIMPLE_EXECUTE_DATA, "", 0);
	guest_call(g, "stack-overflow", SIMPLE_STACK_OVERFLOW, "", 0);
	guest_call(g, "heap-exhaust", SIMPLE_HEAP_EXHAUST, "", 0);
	guest_call(g, "spin", SIMPLE_SPIN, "", 0);
	guest_call(g, "bad-port", SIMPLE_BAD_PORT, "", 0);
	guest_call(g, "corrupt-output-sp", SIMPLE_CORRUPT_OUTPUT_SP, "", 0);
	guest_call(g, "corrupt-output-back", SIMPLE_CORRUPT_OUTPUT_BACK, "", 0);
	guest_call(g, "corrupt-output-frame", SIMPLE_CORRUPT_OUTPUT_FRAME, "", 0);
	guest_call(g, "mmio", SIMPLE_MMIO, "", 0);
	guest_call(g, "triple-fault", SIMPLE_TRIPLE_FAULT, "", 0);
	guest_call(g, "static-counter", SIMPLE_STATIC_COUNTER, "", 0);
	guest_call(g, "boot-info", SIMPLE_BOOT_INFO, "", 0);
	guest_call(g, "bad-response", SIMPLE_BAD_RESPONSE, "", 0);
	guest_call(g, "log-bad-level", SIMPLE_LOG_BAD_LEVEL, "", 0);
	guest_call(g, "print-bad-scalar", SIMPLE_PRINT_BAD_SCALAR, "", 0);
	guest_call(g, "abort-bad-count", SIMPLE_ABORT_BAD_COUNT, "", 0);
	guest_call(g, "hlt", SIMPLE_HLT, "", 0);
	guest_call(g, "read-counter", SIMPLE_READ_COUNTER, "", 0);
	nub_put_le32(b, 4);
	nub_put_le32(b + 4, 0x55);
	guest_call(g, "dirty-heap-pages", SIMPLE_DIRTY_HEAP_PAGES, b, 8);
	nub_put_le32(b, 100);
	guest_call(g, "heap-alloc", SIMPLE_HEAP_ALLOC, b, 4);
	guest_call(g, "stack-smash", SIMPLE_STACK_SMASH, "", 0);
	guest_call(g, "buffer-scribble", SIMPLE_BUFFER_SCRIBBLE, "", 0);
	nub_put_le32(b, 0);
	nub_put_le32(b + 4, 4);
	guest_call(g, "init-data-read", SIMPLE_INIT_DATA_READ, b, 8);
	guest_call(g, "init-data-write", SIMPLE_INIT_DATA_WRITE, "\0\0\0\0\x01", 5);
	guest_call(g, "init-data-exec", SIMPLE_INIT_DATA_EXEC, "\0\0\0\0", 4);
	nub_put_le64(b, 0x100000000ull);
	nub_put_le32(b + 8, 16);
	guest_call(g, "mapped-read-unmapped", SIMPLE_MAPPED_READ, b, 12);
	b[8] = 0x77;
	guest_call(g, "mapped-write-unmapped", SIMPLE_MAPPED_WRITE, b, 9);
	guest_call(g, "mapped-exec-unmapped", SIMPLE_MAPPED_EXEC, b, 8);
	guest_call(g, "enable-xsave", SIMPLE_ENABLE_XSAVE, "", 0);
	guest_call(g, "no-such-function", 99, "x", 1);

	/* Inputs at and just past 4 KiB and at the 8 KiB limit, straight and through a host call. */
	static uint8_t large[8192 - 4];
	memset(large, 'e', sizeof large);
	guest_call(g, "echo-4095", SIMPLE_ECHO, large, 4095 - 4);
	guest_call(g, "echo-4096", SIMPLE_ECHO, large, 4096 - 4);
	guest_call(g, "echo-4097", SIMPLE_ECHO, large, 4097 - 4);
	guest_call(g, "echo-8192", SIMPLE_ECHO, large, 8192 - 4);
	nub_put_le32(large, 1); /* SIMPLE_HOST_CALL's u32 fn_id: the host's echo */
	guest_call(g, "host-call-echo-8192", SIMPLE_HOST_CALL, large, 8192 - 4);
}
