/* SPDX-License-Identifier: Apache-2.0 */
/* KVM tests: evolve real guests, call them, and check every guest outcome, message and sandbox state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_inject.h"
#include "bytes.h"
#include "simple_fns.h"
#include "host_fns.h"
#include "testlib.h"

#define HOST_UPPER 10
#define HOST_INCREMENT 11
#define HOST_FAIL 12
#define HOST_HUGE 13

static int host_increment(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
			  struct nub_error *err)
{
	(void)err;
	int *calls = ctx;
	(*calls)++;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)(req[i] + 1);
		if (nub_buf_append(resp, &c, 1) != NUB_OK)
			return -1;
	}
	return 0;
}

/* HOST_FAIL's message, and HOST_HUGE's response size: more than the 16 KiB input buffer holds. */
static char fail_message[] = "host says no";
static size_t huge_bytes = 20000;

struct fixture {
	struct nub_config cfg;
	struct nub_test_capture cap;
	struct nub_sandbox *sb;
	struct nub_buf resp;
	struct nub_error err;
	struct nub_error fault; /* the last expect_fault outcome */
	int increments;
};

static struct nub_sandbox *make(struct fixture *f, const char *guest)
{
	struct nub_guest_env env = { .path = guest };
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;

	assert_int_equal(nub_uninit_new(&env, &f->cfg, &u, &f->err), NUB_OK);
	assert_int_equal(nub_uninit_register(u, HOST_UPPER, host_fn_upper, NULL, &f->err), NUB_OK);
	assert_int_equal(nub_uninit_register(u, HOST_INCREMENT, host_increment, &f->increments,
					     &f->err),
			 NUB_OK);
	assert_int_equal(nub_uninit_register(u, HOST_FAIL, host_fn_fail, fail_message, &f->err),
			 NUB_OK);
	assert_int_equal(nub_uninit_register(u, HOST_HUGE, host_fn_huge, &huge_bytes, &f->err),
			 NUB_OK);
	if (nub_uninit_evolve(u, &sb, &f->err) != NUB_OK)
		fail_msg("evolve %s: %s: %s", guest, nub_status_str(f->err.status), f->err.message);
	assert_int_equal(nub_sandbox_status(sb), NUB_SANDBOX_READY);
	return sb;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	nub_config_default(&f->cfg);
	f->cfg.time_limit_ms = 2000; /* every guest hang in this file is cut short */
	nub_test_capture_attach(&f->cfg, &f->cap);
	f->cfg.max_guest_log_level = NUB_LEVEL_TRACE;
	f->sb = make(f, NUB_TEST_GUEST("simple"));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	nub_sandbox_free(f->sb);
	nub_buf_free(&f->resp);
	free(f);
	return 0;
}

/* Calls (fn) and returns the status; the response replaces f->resp. */
static enum nub_status call(struct fixture *f, uint32_t fn, const void *payload, size_t len)
{
	nub_buf_free(&f->resp);
	return nub_sandbox_call(f->sb, fn, payload, len, &f->resp, &f->err);
}

/* The sandbox is poisoned by (why) and refuses the next call with a message naming it. */
static void assert_poisoned(struct fixture *f, enum nub_status why)
{
	assert_int_equal(nub_sandbox_status(f->sb), NUB_SANDBOX_POISONED);
	assert_int_equal(call(f, SIMPLE_ECHO, "x", 1), NUB_E_POISONED);
	nub_assert_error(&f->err, NUB_E_POISONED, nub_status_str(why));
}

static void assert_ready_echo(struct fixture *f)
{
	assert_int_equal(nub_sandbox_status(f->sb), NUB_SANDBOX_READY);
	assert_int_equal(call(f, SIMPLE_ECHO, "ok", 2), NUB_OK);
	assert_int_equal(f->resp.len, 2);
	assert_memory_equal(f->resp.data, "ok", 2);
}

static void test_dummy_has_no_functions(void **state)
{
	struct fixture *f = *state;
	nub_sandbox_free(f->sb);
	f->sb = make(f, NUB_TEST_GUEST("dummy"));
	assert_int_equal(call(f, 1, NULL, 0), NUB_E_GUEST_ERROR);
	nub_assert_error(&f->err, NUB_E_GUEST_ERROR, "no guest function with fn_id 1");
	assert_int_equal(f->err.guest_code, NUB_STATUS_NO_SUCH_FUNCTION);
	assert_int_equal(nub_sandbox_status(f->sb), NUB_SANDBOX_READY);
}

static void test_echo(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(call(f, SIMPLE_ECHO, "hello", 5), NUB_OK);
	assert_int_equal(f->resp.len, 5);
	assert_memory_equal(f->resp.data, "hello", 5);
	assert_int_equal(call(f, SIMPLE_ECHO, NULL, 0), NUB_OK);
	assert_int_equal(f->resp.len, 0);
}

static void test_add_and_guest_error(void **state)
{
	struct fixture *f = *state;
	uint8_t p[8];
	nub_put_le32(p, 40);
	nub_put_le32(p + 4, 2);
	assert_int_equal(call(f, SIMPLE_ADD, p, 8), NUB_OK);
	assert_int_equal(f->resp.len, 4);
	assert_int_equal(nub_le32(f->resp.data), 42);
	assert_int_equal(call(f, SIMPLE_ADD, p, 3), NUB_E_GUEST_ERROR);
	nub_assert_error(&f->err, NUB_E_GUEST_ERROR, "add needs 8 bytes, got 3");
	assert_int_equal(f->err.guest_code, NUB_STATUS_GUEST_ERROR);
	assert_ready_echo(f); /* a guest error does not poison */
}

static void test_unknown_guest_function(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(call(f, 999, NULL, 0), NUB_E_GUEST_ERROR);
	nub_assert_error(&f->err, NUB_E_GUEST_ERROR, "no guest function with fn_id 999");
	assert_int_equal(f->err.guest_code, NUB_STATUS_NO_SUCH_FUNCTION);
	assert_ready_echo(f);
}

static void test_response_at_and_over_capacity(void **state)
{
	struct fixture *f = *state;
	/* output 16 KiB: 8 (sp) + 12 (response header) + 8 (back-pointer) leave 16356 payload bytes */
	uint32_t fit = 16384 - 8 - 12 - 8;
	uint8_t p[4];
	nub_put_le32(p, fit);
	assert_int_equal(call(f, SIMPLE_FILL, p, 4), NUB_OK);
	assert_int_equal(f->resp.len, fit);
	for (uint32_t i = 0; i < fit; i += 997)
		assert_int_equal(f->resp.data[i], i & 0xff);
	assert_int_equal(f->resp.data[fit - 1], (fit - 1) & 0xff);
	nub_put_le32(p, fit + 1);
	assert_int_equal(call(f, SIMPLE_FILL, p, 4), NUB_E_GUEST_ERROR);
	assert_int_equal(f->err.guest_code, NUB_STATUS_RESPONSE_TOO_LARGE);
	nub_assert_error(&f->err, NUB_E_GUEST_ERROR, "fill 16357 bytes");
	assert_ready_echo(f);
}

static void test_request_too_large(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[16384];
	assert_int_equal(call(f, SIMPLE_ECHO, big, sizeof big), NUB_E_LAYOUT);
	assert_ready_echo(f);
}

static void test_host_calls(void **state)
{
	struct fixture *f = *state;
	uint8_t p[16];
	nub_put_le32(p, HOST_UPPER);
	memcpy(p + 4, "abc", 3);
	assert_int_equal(call(f, SIMPLE_HOST_CALL, p, 7), NUB_OK);
	assert_int_equal(f->resp.len, 3);
	assert_memory_equal(f->resp.data, "ABC", 3);

	nub_put_le32(p, 3);
	nub_put_le32(p + 4, HOST_INCREMENT);
	memcpy(p + 8, "abc", 3);
	assert_int_equal(call(f, SIMPLE_HOST_CALL_CHAIN, p, 11), NUB_OK);
	assert_int_equal(f->increments, 3);
	assert_int_equal(f->resp.len, 3);
	assert_memory_equal(f->resp.data, "def", 3);
}

static void test_host_call_failures_do_not_poison(void **state)
{
	struct fixture *f = *state;
	uint8_t p[8];
	nub_put_le32(p, 99);
	assert_int_equal(call(f, SIMPLE_HOST_CALL, p, 4), NUB_E_GUEST_ERROR);
	assert_int_equal(f->err.guest_code, NUB_STATUS_NO_SUCH_FUNCTION);
	nub_assert_error(&f->err, NUB_E_GUEST_ERROR, "no host function with fn_id 99");
	nub_put_le32(p, HOST_FAIL);
	assert_int_equal(call(f, SIMPLE_HOST_CALL, p, 4), NUB_E_GUEST_ERROR);
	assert_int_equal(f->err.guest_code, NUB_STATUS_HOST_ERROR);
	nub_assert_error(&f->err, NUB_E_GUEST_ERROR, "host says no");
	nub_put_le32(p, HOST_HUGE);
	assert_int_equal(call(f, SIMPLE_HOST_CALL, p, 4), NUB_E_GUEST_ERROR);
	assert_int_equal(f->err.guest_code, NUB_STATUS_RESPONSE_TOO_LARGE);
	nub_assert_error(&f->err, NUB_E_GUEST_ERROR, "does not fit the input buffer");
	assert_ready_echo(f);
}

static void test_logs_every_level(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(call(f, SIMPLE_LOG_ALL, NULL, 0), NUB_OK);
	assert_int_equal(f->cap.nlogs, 5);
	for (int i = 0; i < 5; i++) {
		char want[32];
		snprintf(want, sizeof want, "level %d", i + 1);
		assert_int_equal(f->cap.levels[i], i + 1);
		assert_string_equal(f->cap.messages[i], want);
		assert_string_equal(f->cap.files[i], "simple.c");
	}
	uint8_t p[32];
	nub_put_le32(p, NUB_LEVEL_WARN);
	memcpy(p + 4, "careful", 7);
	assert_int_equal(call(f, SIMPLE_LOG, p, 11), NUB_OK);
	assert_int_equal(f->cap.nlogs, 6);
	assert_int_equal(f->cap.levels[5], NUB_LEVEL_WARN);
	assert_string_equal(f->cap.messages[5], "careful");
}

static void test_log_level_filter(void **state)
{
	struct fixture *f = *state;
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
	struct nub_uninit *u;
	nub_sandbox_free(f->sb);
	f->sb = NULL;
	assert_int_equal(nub_uninit_new(&env, &f->cfg, &u, &f->err), NUB_OK);
	assert_int_equal(nub_uninit_set_max_guest_log_level(u, NUB_LEVEL_WARN, &f->err), NUB_OK);
	assert_int_equal(nub_uninit_set_max_guest_log_level(u, 6, &f->err), NUB_E_INVALID);
	assert_int_equal(nub_uninit_evolve(u, &f->sb, &f->err), NUB_OK);
	assert_int_equal(call(f, SIMPLE_LOG_ALL, NULL, 0), NUB_OK);
	assert_int_equal(f->cap.nlogs, 2);
	assert_int_equal(f->cap.levels[0], NUB_LEVEL_ERROR);
	assert_int_equal(f->cap.levels[1], NUB_LEVEL_WARN);
}

static void test_debug_print(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(call(f, SIMPLE_DEBUG_PRINT, "hi there\nand more", 17), NUB_OK);
	assert_string_equal(f->cap.printed, "hi there\nand more");
}

static void test_abort_with_code_and_message(void **state)
{
	struct fixture *f = *state;
	uint8_t p[8] = { 42, 'b', 'o', 'o', 'm' };
	assert_int_equal(call(f, SIMPLE_ABORT, p, 5), NUB_E_GUEST_ABORT);
	nub_assert_error(&f->err, NUB_E_GUEST_ABORT, "guest aborted with code 42: boom");
	assert_int_equal(f->err.guest_code, 42);
	assert_poisoned(f, NUB_E_GUEST_ABORT);
}

static void test_abort_long_message_is_capped(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(call(f, SIMPLE_ABORT_LONG, NULL, 0), NUB_E_GUEST_ABORT);
	assert_int_equal(f->err.guest_code, 7);
	nub_assert_error(&f->err, NUB_E_GUEST_ABORT, "code 7: abcdefghijklmnopqrstuvwxyzabc");
	nub_assert_error(&f->err, NUB_E_GUEST_ABORT, "[abort stream truncated at 1024 bytes]");
	/* 1024 stream bytes = the code byte + 1023 message bytes */
	const char *msg = strstr(f->err.message, ": ") + 2;
	const char *end = strstr(msg, " [abort");
	assert_int_equal(end - msg, 1023);
	assert_poisoned(f, NUB_E_GUEST_ABORT);
}

struct fault_case {
	uint32_t fn;
	uint8_t vector;
};

/* Fault details survive assert_poisoned (whose refused call clears f->err) in f->fault. */
static void expect_fault(struct fixture *f, uint32_t fn, uint8_t vector)
{
	enum nub_status fst = call(f, fn, NULL, 0);
	if (fst != NUB_E_GUEST_FAULT || getenv("NUB_TEST_VERBOSE"))
		print_message("fn %u: %s: %s\n", fn, nub_status_str(fst), f->err.message);
	assert_int_equal(fst, NUB_E_GUEST_FAULT);
	assert_int_equal(f->err.vector, vector);
	assert_int_equal(f->err.guest_code, NUB_ABORT_EXCEPTION);
	nub_assert_error(&f->err, NUB_E_GUEST_FAULT, "guest fault: ");
	char want[32];
	snprintf(want, sizeof want, "vector %u,", vector);
	nub_assert_error(&f->err, NUB_E_GUEST_FAULT, want);
	/* every fault in `simple` happens in its code, which starts at the primary base */
	assert_true(f->err.rip >= NUB_PRIMARY_BASE && f->err.rip < 0x10000000);
	f->fault = f->err;
	assert_poisoned(f, NUB_E_GUEST_FAULT);
}

static void test_cpu_exceptions(void **state)
{
	struct fixture *f = *state;
	static const struct fault_case cases[] = {
		{ SIMPLE_DIVIDE_BY_ZERO, 0 },
		{ SIMPLE_INVALID_OPCODE, 6 },
		{ SIMPLE_GENERAL_PROTECTION, 13 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		nub_sandbox_free(f->sb);
		f->sb = make(f, NUB_TEST_GUEST("simple"));
		expect_fault(f, cases[i].fn, cases[i].vector);
	}
}

/*
 * int3 is a software interrupt: hardware KVM delivers #BP, but a host that emulates CPL0 guests
 * (kvm_pvm, this project's CI machines) cannot emulate it and reports NUB_E_EMULATION.
 */
static void test_breakpoint(void **state)
{
	struct fixture *f = *state;
	if (access("/sys/module/kvm_pvm", F_OK) != 0) {
		expect_fault(f, SIMPLE_BREAKPOINT, 3);
		return;
	}
	assert_int_equal(call(f, SIMPLE_BREAKPOINT, NULL, 0), NUB_E_EMULATION);
	nub_assert_error(&f->err, NUB_E_EMULATION,
			 "cannot emulate the guest instruction at rip 0x");
	assert_true(f->err.rip >= NUB_PRIMARY_BASE && f->err.rip < 0x10000000);
	assert_poisoned(f, NUB_E_EMULATION);
}

#define PF_PRESENT 1u
#define PF_WRITE 2u
#define PF_FETCH 0x10u

static void test_null_dereference(void **state)
{
	struct fixture *f = *state;
	expect_fault(f, SIMPLE_NULL_DEREF, 14);
	assert_int_equal(f->fault.cr2, 8);
	assert_int_equal(f->fault.error_code & PF_PRESENT, 0);
}

static void test_write_to_code(void **state)
{
	struct fixture *f = *state;
	expect_fault(f, SIMPLE_WRITE_CODE, 14);
	assert_true(f->fault.cr2 >= NUB_PRIMARY_BASE && f->fault.cr2 < 0x10000000);
	assert_int_equal(f->fault.error_code & (PF_PRESENT | PF_WRITE), PF_PRESENT | PF_WRITE);
}

static void test_execute_data(void **state)
{
	struct fixture *f = *state;
	expect_fault(f, SIMPLE_EXECUTE_DATA, 14);
	assert_int_equal(f->fault.error_code & (PF_PRESENT | PF_FETCH), PF_PRESENT | PF_FETCH);
	assert_int_equal(f->fault.cr2, f->fault.rip); /* the fetch itself faulted */
}

static void test_stack_overflow_hits_guard(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(call(f, SIMPLE_BOOT_INFO, NULL, 0), NUB_OK);
	struct nub_boot_info bi;
	assert_int_equal(f->resp.len, sizeof bi);
	memcpy(&bi, f->resp.data, sizeof bi);
	uint64_t guard = bi.stack_top_gva - f->cfg.stack_size - NUB_PAGE_SIZE;
	expect_fault(f, SIMPLE_STACK_OVERFLOW, 14);
	assert_true(f->fault.cr2 >= guard && f->fault.cr2 < guard + NUB_PAGE_SIZE);
}

static void test_heap_exhaustion(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(call(f, SIMPLE_HEAP_EXHAUST, NULL, 0), NUB_E_GUEST_ABORT);
	assert_int_equal(f->err.guest_code, NUB_ABORT_OUT_OF_MEMORY);
	nub_assert_error(&f->err, NUB_E_GUEST_ABORT, "heap exhausted after ");
	assert_poisoned(f, NUB_E_GUEST_ABORT);
}

static void test_infinite_loop_hits_time_limit(void **state)
{
	struct fixture *f = *state;
	f->cfg.time_limit_ms = 200;
	nub_sandbox_free(f->sb);
	f->sb = make(f, NUB_TEST_GUEST("simple"));
	assert_int_equal(call(f, SIMPLE_SPIN, NULL, 0), NUB_E_TIME_LIMIT);
	nub_assert_error(&f->err, NUB_E_TIME_LIMIT, "time limit of 200 ms");
	assert_poisoned(f, NUB_E_TIME_LIMIT);
}

struct protocol_case {
	uint32_t fn;
	enum nub_status st;
	const char *needle;
};

static void test_protocol_violations(void **state)
{
	struct fixture *f = *state;
	static const struct protocol_case cases[] = {
		{ SIMPLE_BAD_PORT, NUB_E_PROTOCOL, "unknown port 0x1234" },
		{ SIMPLE_CORRUPT_OUTPUT_SP, NUB_E_PROTOCOL,
		  "output buffer stack pointer 0xfffffff0" },
		{ SIMPLE_CORRUPT_OUTPUT_BACK, NUB_E_PROTOCOL, "output buffer back-pointer" },
		{ SIMPLE_CORRUPT_OUTPUT_FRAME, NUB_E_PROTOCOL, "payload_len 1000" },
		{ SIMPLE_BAD_RESPONSE, NUB_E_PROTOCOL, "payload_len" },
		{ SIMPLE_LOG_BAD_LEVEL, NUB_E_PROTOCOL, "level 9" },
		{ SIMPLE_PRINT_BAD_SCALAR, NUB_E_PROTOCOL, "0xd800 is not a Unicode scalar" },
		{ SIMPLE_ABORT_BAD_COUNT, NUB_E_PROTOCOL, "byte count 0" },
		{ SIMPLE_MMIO, NUB_E_MMIO, "unbacked guest-physical address 0x800000000" },
		{ SIMPLE_TRIPLE_FAULT, NUB_E_TRIPLE_FAULT, "triple fault" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		nub_sandbox_free(f->sb);
		f->sb = make(f, NUB_TEST_GUEST("simple"));
		assert_int_equal(call(f, cases[i].fn, NULL, 0), cases[i].st);
		nub_assert_error(&f->err, cases[i].st, cases[i].needle);
		if (cases[i].st == NUB_E_MMIO)
			assert_int_equal(f->err.gpa, 0x800000000ull);
		assert_poisoned(f, cases[i].st);
	}
}

static void test_hlt_ends_a_call(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(call(f, SIMPLE_HLT, NULL, 0), NUB_OK);
	assert_int_equal(f->resp.len, 0);
	assert_ready_echo(f);
	assert_int_equal(call(f, SIMPLE_HLT, NULL, 0), NUB_OK);
	assert_ready_echo(f);
}

static void test_static_state_persists_between_calls(void **state)
{
	struct fixture *f = *state;
	for (uint32_t i = 1; i <= 3; i++) {
		assert_int_equal(call(f, SIMPLE_STATIC_COUNTER, NULL, 0), NUB_OK);
		assert_int_equal(nub_le32(f->resp.data), i);
	}
}

static void test_boot_info(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(call(f, SIMPLE_BOOT_INFO, NULL, 0), NUB_OK);
	struct nub_boot_info bi;
	memcpy(&bi, f->resp.data, sizeof bi);
	assert_int_equal(bi.abi_version, NUB_ABI_VERSION);
	assert_int_equal(bi.max_log_level, NUB_LEVEL_TRACE);
	assert_int_equal(bi.input_size, 0x4000);
	assert_int_equal(bi.output_size, 0x4000);
	assert_int_equal(bi.heap_size, 0x20000);
	assert_int_equal(bi.init_data_gva, 0);
	assert_int_equal(bi.scratch_gva + bi.scratch_size, NUB_GPA_TOP);
	assert_int_equal(bi.counter_gva, NUB_GPA_TOP - NUB_COUNTER_TOP_OFFSET);
	assert_true(bi.heap_gva > NUB_PRIMARY_BASE);
}

static void test_init_data_is_described(void **state)
{
	struct fixture *f = *state;
	static const uint8_t blob[5000] = { 1, 2, 3 };
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple"),
				     .init_data = blob,
				     .init_data_len = sizeof blob };
	struct nub_uninit *u;
	nub_sandbox_free(f->sb);
	f->sb = NULL;
	assert_int_equal(nub_uninit_new(&env, &f->cfg, &u, &f->err), NUB_OK);
	assert_int_equal(nub_uninit_evolve(u, &f->sb, &f->err), NUB_OK);
	assert_int_equal(call(f, SIMPLE_BOOT_INFO, NULL, 0), NUB_OK);
	struct nub_boot_info bi;
	memcpy(&bi, f->resp.data, sizeof bi);
	assert_int_equal(bi.init_data_size, sizeof blob);
	assert_int_equal(bi.init_data_perms, NUB_MEM_READ);
	assert_true(bi.init_data_gva > bi.heap_gva);
}

static void test_uninit_argument_errors(void **state)
{
	struct fixture *f = *state;
	struct nub_uninit *u = (struct nub_uninit *)1;
	struct nub_guest_env env = { .path = "/nonexistent/guest.elf" };
	assert_int_equal(nub_uninit_new(&env, &f->cfg, &u, &f->err), NUB_E_IO);
	nub_assert_error(&f->err, NUB_E_IO, "/nonexistent/guest.elf");
	assert_null(u);

	static const uint8_t blob[4] = { 0 };
	struct nub_guest_env both = { .path = NUB_TEST_GUEST("simple"),
				      .data = blob,
				      .data_len = 4 };
	assert_int_equal(nub_uninit_new(&both, &f->cfg, &u, &f->err), NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID, "exactly one of path and data");

	struct nub_guest_env wx = { .path = NUB_TEST_GUEST("simple"),
				    .init_data = blob,
				    .init_data_len = 4,
				    .init_data_perms = NUB_MEM_READ | NUB_MEM_WRITE |
						       NUB_MEM_EXECUTE };
	assert_int_equal(nub_uninit_new(&wx, &f->cfg, &u, &f->err), NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID, "writable and executable at once");

	struct nub_guest_env garbage = { .data = blob, .data_len = 4 };
	assert_int_equal(nub_uninit_new(&garbage, &f->cfg, &u, &f->err), NUB_E_ELF);

	assert_int_equal(nub_uninit_new(&env, &f->cfg, NULL, &f->err), NUB_E_INVALID);
	nub_uninit_free(NULL);
	nub_sandbox_free(NULL);
}

static void test_guest_from_buffer(void **state)
{
	struct fixture *f = *state;
	FILE *fp = fopen(NUB_TEST_GUEST("simple"), "rb");
	assert_non_null(fp);
	static uint8_t image[1 << 20];
	size_t n = fread(image, 1, sizeof image, fp);
	fclose(fp);
	assert_true(n > 0 && n < sizeof image);

	struct nub_guest_env env = { .data = image, .data_len = n };
	struct nub_uninit *u;
	nub_sandbox_free(f->sb);
	f->sb = NULL;
	assert_int_equal(nub_uninit_new(&env, &f->cfg, &u, &f->err), NUB_OK);
	assert_true(nub_uninit_shared_mem_size(u) > 0x20000); /* holds at least the heap */
	assert_int_equal(nub_uninit_register(u, HOST_UPPER, host_fn_upper, NULL, &f->err), NUB_OK);
	assert_int_equal(nub_uninit_register(u, HOST_UPPER, host_fn_upper, NULL, &f->err),
			 NUB_E_EXISTS);
	assert_int_equal(nub_uninit_evolve(u, &f->sb, &f->err), NUB_OK);
	assert_ready_echo(f);
}

/* Fail each engine allocation in turn across new, register, evolve and a call: no crash, no leak. */
static void test_allocation_failures(void **state)
{
	struct fixture *f = *state;
	nub_sandbox_free(f->sb);
	f->sb = NULL;
	bool completed = false;
	for (long fail_at = 1; !completed && fail_at < 200; fail_at++) {
		struct alloc_inject a = { .fail_at = fail_at };
		struct nub_config cfg = f->cfg;
		cfg.alloc = alloc_inject_hook(&a);
		struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
		struct nub_uninit *u = NULL;
		struct nub_sandbox *sb = NULL;
		struct nub_buf resp = { 0 };
		uint8_t p[8];
		nub_put_le32(p, HOST_UPPER);
		memcpy(p + 4, "abcd", 4);
		enum nub_status st = nub_uninit_new(&env, &cfg, &u, &f->err);
		if (st == NUB_OK)
			st = nub_uninit_register(u, HOST_UPPER, host_fn_upper, NULL, &f->err);
		if (st == NUB_OK) {
			st = nub_uninit_evolve(u, &sb, &f->err);
			u = NULL;
		}
		if (st == NUB_OK)
			st = nub_sandbox_call(sb, SIMPLE_HOST_CALL, p, 8, &resp, &f->err);
		if (st == NUB_OK) {
			assert_memory_equal(resp.data, "ABCD", 4);
			completed = a.calls < fail_at;
		} else if (st == NUB_E_GUEST_ERROR) {
			/* the host function's own append failed: reported to the guest, not poisoning */
			assert_int_equal(f->err.guest_code, NUB_STATUS_HOST_ERROR);
		} else {
			assert_int_equal(st, NUB_E_NOMEM);
		}
		nub_buf_free(&resp);
		nub_uninit_free(u);
		nub_sandbox_free(sb);
		assert_int_equal(a.live, 0);
	}
	assert_true(completed);
}

static const struct CMUnitTest tests[] = {
	NUB_TEST_CASE(test_dummy_has_no_functions),
	NUB_TEST_CASE(test_echo),
	NUB_TEST_CASE(test_add_and_guest_error),
	NUB_TEST_CASE(test_unknown_guest_function),
	NUB_TEST_CASE(test_response_at_and_over_capacity),
	NUB_TEST_CASE(test_request_too_large),
	NUB_TEST_CASE(test_host_calls),
	NUB_TEST_CASE(test_host_call_failures_do_not_poison),
	NUB_TEST_CASE(test_logs_every_level),
	NUB_TEST_CASE(test_log_level_filter),
	NUB_TEST_CASE(test_debug_print),
	NUB_TEST_CASE(test_abort_with_code_and_message),
	NUB_TEST_CASE(test_abort_long_message_is_capped),
	NUB_TEST_CASE(test_cpu_exceptions),
	NUB_TEST_CASE(test_breakpoint),
	NUB_TEST_CASE(test_null_dereference),
	NUB_TEST_CASE(test_write_to_code),
	NUB_TEST_CASE(test_execute_data),
	NUB_TEST_CASE(test_stack_overflow_hits_guard),
	NUB_TEST_CASE(test_heap_exhaustion),
	NUB_TEST_CASE(test_infinite_loop_hits_time_limit),
	NUB_TEST_CASE(test_protocol_violations),
	NUB_TEST_CASE(test_hlt_ends_a_call),
	NUB_TEST_CASE(test_static_state_persists_between_calls),
	NUB_TEST_CASE(test_boot_info),
	NUB_TEST_CASE(test_init_data_is_described),
	NUB_TEST_CASE(test_uninit_argument_errors),
	NUB_TEST_CASE(test_guest_from_buffer),
	NUB_TEST_CASE(test_allocation_failures),
};

NUB_TEST_SUITE(tests);
