/* SPDX-License-Identifier: Apache-2.0 */
/*
 * KVM tests of the public API's edges: NULL and malformed arguments to every entry point, config,
 * environment and layout errors surfacing through nub_uninit_new, the interrupt signal and timer
 * rules, and tiny hand-assembled guests that exercise exits the `simple` guest never takes.
 */
#include <elf.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc_inject.h"
#include "host_fns.h"
#include "simple_fns.h"
#include "testlib.h"
#include "timing.h"

/* ---- Helpers ---- */

static struct nub_sandbox *make_simple(const struct nub_config *cfg)
{
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_error err;
	if (nub_uninit_new(&env, cfg, &u, &err) != NUB_OK ||
	    nub_uninit_evolve(u, &sb, &err) != NUB_OK)
		fail_msg("simple guest: %s: %s", nub_status_str(err.status), err.message);
	return sb;
}

static void assert_echo(struct nub_sandbox *sb)
{
	struct nub_buf resp = { 0 };
	struct nub_error err;
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, "ok", 2, &resp, &err), NUB_OK);
	assert_int_equal(resp.len, 2);
	assert_memory_equal(resp.data, "ok", 2);
	assert_int_equal(nub_sandbox_status(sb), NUB_SANDBOX_READY);
	nub_buf_free(&resp);
}

/* Evolves a one-segment guest whose code is (code), loaded R+X at the primary base. */
static enum nub_status evolve_code(const uint8_t *code, size_t code_len, struct nub_config *cfg,
				   struct nub_sandbox **sb, struct nub_error *err)
{
	const struct nub_test_segment s = { NUB_PRIMARY_BASE, PF_R | PF_X, code, code_len };
	size_t len;
	uint8_t *elf = nub_test_build_guest(&s, 1, NUB_PRIMARY_BASE, &len);
	struct nub_guest_env env = { .data = elf, .data_len = len };
	struct nub_uninit *u = NULL;
	enum nub_status st = nub_uninit_new(&env, cfg, &u, err);
	free(elf);
	if (st != NUB_OK)
		fail_msg("uninit_new: %s: %s", nub_status_str(err->status), err->message);
	return nub_uninit_evolve(u, sb, err);
}

/* ---- Crafted guests ---- */

static void test_guest_port_read_during_init(void **state)
{
	(void)state;
	static const uint8_t code[] = {
		0x66, 0xBA, 0x63, 0x00, /* mov dx, 0x63 */
		0xEC,                   /* in al, dx */
		0xF4,                   /* hlt */
	};
	struct alloc_inject a = { 0 };
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.alloc = alloc_inject_hook(&a);
	struct nub_sandbox *sb = (struct nub_sandbox *)1;
	struct nub_error err;
	assert_int_equal(evolve_code(code, sizeof code, &cfg, &sb, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "guest read from port 0x63");
	assert_null(sb);
	assert_int_equal(a.live, 0); /* the half-built sandbox was freed */
}

static void test_guest_spinning_in_init_hits_time_limit(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0xEB, 0xFE }; /* jmp . */
	struct alloc_inject a = { 0 };
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.time_limit_ms = 100;
	cfg.alloc = alloc_inject_hook(&a);
	struct nub_sandbox *sb = (struct nub_sandbox *)1;
	struct nub_error err;
	uint64_t t0 = timing_now_ns();
	assert_int_equal(evolve_code(code, sizeof code, &cfg, &sb, &err), NUB_E_TIME_LIMIT);
	uint64_t ms = (uint64_t)timing_elapsed_ms(t0);
	nub_assert_error(&err, NUB_E_TIME_LIMIT, "time limit of 100 ms");
	assert_true(ms >= 100 && ms < 10000);
	assert_null(sb);
	assert_int_equal(a.live, 0);
}

/*
 * An abort stream with code NUB_ABORT_EXCEPTION but no vector byte ([2, 0xFF]) is malformed (abi.h:
 * the vector follows the code). It once came out as a fabricated "divide error (#DE), vector 0,
 * at rip 0x0" guest fault; it must be a protocol error.
 */
static void test_exception_abort_without_vector_is_a_protocol_error(void **state)
{
	(void)state;
	static const uint8_t code[] = {
		0xB8, 0x02, 0x02, 0xFF, 0x00, /* mov eax, 0x00ff0202: [n=2, code 2, terminator] */
		0x66, 0xBA, 0x66, 0x00,       /* mov dx, 102 (NUB_PORT_ABORT) */
		0xEF,                         /* out dx, eax */
		0xF4,                         /* hlt */
	};
	struct nub_config cfg;
	nub_config_default(&cfg);
	struct nub_sandbox *sb = (struct nub_sandbox *)1;
	struct nub_error err;
	assert_int_equal(evolve_code(code, sizeof code, &cfg, &sb, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "no vector byte");
	assert_int_equal(err.vector, 0);
	assert_int_equal(err.rip, 0);
	assert_null(sb);
}

/*
 * Three segments listed highest address first, two of them R+X code sharing the page 0x4000: the
 * engine sorts them and merges the shared page into one mapping. The code reads the data segment
 * and checks its byte (a wrong byte ends in ud2, a triple fault without an IDT), then jumps into
 * the second code segment, which halts (init done) and on every later run halts again without a
 * response.
 */
static enum nub_status evolve_unsorted(uint8_t data_byte, struct nub_sandbox **sb,
				       struct nub_error *err)
{
	const uint8_t data[] = { data_byte };
	static const uint8_t first[] = {
		0x0F, 0xB6, 0x04, 0x25, 0x00,
		0x60, 0x00, 0x00,             /* 0x4000: movzx eax, byte [0x6000] */
		0x3C, 0x5A,                   /* 0x4008: cmp al, 0x5a */
		0x75, 0x05,                   /* 0x400a: jne 0x4011 */
		0xE9, 0xEF, 0x07, 0x00, 0x00, /* 0x400c: jmp 0x4800 */
		0x0F, 0x0B,                   /* 0x4011: ud2 */
	};
	static const uint8_t second[] = {
		0xF4,       /* 0x4800: hlt */
		0xEB, 0xFD, /* 0x4801: jmp 0x4800 */
	};
	const struct nub_test_segment segs[] = {
		{ 0x6000, PF_R, data, sizeof data },
		{ 0x4800, PF_R | PF_X, second, sizeof second },
		{ 0x4000, PF_R | PF_X, first, sizeof first },
	};
	size_t len;
	uint8_t *elf = nub_test_build_guest(segs, 3, 0x4000, &len);
	struct nub_guest_env env = { .data = elf, .data_len = len };
	struct nub_uninit *u = NULL;
	enum nub_status st = nub_uninit_new(&env, NULL, &u, err);
	free(elf);
	if (st != NUB_OK)
		fail_msg("uninit_new: %s: %s", nub_status_str(err->status), err->message);
	return nub_uninit_evolve(u, sb, err);
}

static void test_unsorted_segments_sharing_a_page(void **state)
{
	(void)state;
	struct nub_sandbox *sb = NULL;
	struct nub_error err;
	/* The check in the guest is real: a wrong data byte ends in a triple fault. */
	assert_int_equal(evolve_unsorted(0x00, &sb, &err), NUB_E_TRIPLE_FAULT);
	nub_assert_error(&err, NUB_E_TRIPLE_FAULT, "triple fault");
	assert_null(sb);

	assert_int_equal(evolve_unsorted(0x5A, &sb, &err), NUB_OK);
	assert_non_null(sb);
	assert_int_equal(nub_sandbox_status(sb), NUB_SANDBOX_READY);

	/* A call resumes the guest, which halts again without pushing a response. */
	struct nub_buf resp = { 0 };
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, "x", 1, &resp, &err), NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, "output buffer stack pointer 0x8 is outside");
	assert_int_equal(resp.len, 0);
	assert_int_equal(nub_sandbox_status(sb), NUB_SANDBOX_POISONED);
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, "x", 1, &resp, &err), NUB_E_POISONED);
	nub_assert_error(&err, NUB_E_POISONED, "by NUB_E_PROTOCOL");
	nub_sandbox_free(sb);
}

/* ---- NULL and malformed arguments ---- */

static void test_null_arguments(void **state)
{
	(void)state;
	struct nub_error err;
	struct nub_uninit *u = (struct nub_uninit *)1;
	assert_int_equal(nub_uninit_new(NULL, NULL, &u, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "env is NULL");
	assert_null(u);

	assert_int_equal(nub_uninit_register(NULL, 1, host_fn_nop, NULL, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "uninit is NULL");
	assert_int_equal(nub_uninit_set_max_guest_log_level(NULL, NUB_LEVEL_INFO, &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "uninit is NULL");
	assert_int_equal(nub_uninit_shared_mem_size(NULL), 0);

	struct nub_sandbox *sb = NULL;
	assert_int_equal(nub_uninit_evolve(NULL, &sb, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "uninit is NULL");
	assert_null(sb);
	assert_int_equal(nub_uninit_evolve(NULL, &sb, NULL), NUB_E_INVALID); /* err is optional */

	nub_interrupt_unref(NULL);
	nub_uninit_free(NULL);
	nub_sandbox_free(NULL);
}

/* nub_uninit_evolve consumes the uninitialized sandbox even when it refuses its arguments. */
static void test_evolve_without_out_consumes_uninit(void **state)
{
	(void)state;
	struct alloc_inject a = { 0 };
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.alloc = alloc_inject_hook(&a);
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
	struct nub_uninit *u = NULL;
	struct nub_error err;
	assert_int_equal(nub_uninit_new(&env, &cfg, &u, &err), NUB_OK);
	assert_int_equal(nub_uninit_register(u, 7, NULL, NULL, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "fn_id 7 has a NULL function");
	assert_int_equal(nub_uninit_register(u, 7, host_fn_nop, NULL, &err), NUB_OK);
	assert_true(a.live > 0);
	assert_int_equal(nub_uninit_evolve(u, NULL, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "out is NULL");
	assert_int_equal(a.live, 0);
}

static void test_call_argument_errors(void **state)
{
	(void)state;
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_error err;
	assert_int_equal(nub_uninit_new(&env, NULL, &u, NULL), NUB_OK);
	assert_int_equal(nub_uninit_evolve(u, &sb, NULL), NUB_OK); /* err is optional */
	assert_non_null(sb);

	struct nub_buf resp = { 0 };
	assert_int_equal(nub_sandbox_call(NULL, SIMPLE_ECHO, "x", 1, &resp, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "sandbox is NULL");
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, "x", 1, NULL, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "resp is NULL");
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, NULL, 3, &resp, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "payload is NULL");
	assert_null(resp.data);
	assert_echo(sb); /* none of them touched the sandbox */

	/* Without an error struct the status alone tells the outcome. */
	assert_int_equal(nub_sandbox_call(sb, 999, NULL, 0, &resp, NULL), NUB_E_GUEST_ERROR);
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, "abc", 3, &resp, NULL), NUB_OK);
	assert_int_equal(resp.len, 3);
	assert_memory_equal(resp.data, "abc", 3);
	assert_int_equal(nub_sandbox_status(sb), NUB_SANDBOX_READY);
	nub_buf_free(&resp);
	nub_sandbox_free(sb);
}

struct env_case {
	struct nub_guest_env env;
	const char *needle;
};

static void test_env_validation(void **state)
{
	(void)state;
	static const uint8_t blob[8] = { 1 };
	const char *simple = NUB_TEST_GUEST("simple");
	const struct env_case cases[] = {
		{ { .data = blob, .data_len = 0 }, "env.data_len is 0" },
		{ { .path = simple, .init_data_len = 4 },
		  "env.init_data is NULL but init_data_len is 4" },
		{ { .path = simple, .init_data = blob, .init_data_len = 8, .init_data_perms = 8 },
		  "env.init_data_perms 0x8 has unknown bits" },
		{ { .path = simple,
		    .init_data = blob,
		    .init_data_len = 8,
		    .init_data_perms = NUB_MEM_WRITE },
		  "env.init_data_perms 0x2 lacks NUB_MEM_READ" },
		{ { .path = simple,
		    .init_data = blob,
		    .init_data_len = 8,
		    .init_data_perms = NUB_MEM_EXECUTE },
		  "env.init_data_perms 0x4 lacks NUB_MEM_READ" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct nub_uninit *u = (struct nub_uninit *)1;
		struct nub_error err;
		assert_int_equal(nub_uninit_new(&cases[i].env, NULL, &u, &err), NUB_E_INVALID);
		nub_assert_error(&err, NUB_E_INVALID, cases[i].needle);
		assert_null(u);
	}

	/* Read-write init data is allowed and described to the guest as such. */
	struct nub_guest_env rw = { .path = simple,
				    .init_data = blob,
				    .init_data_len = 8,
				    .init_data_perms = NUB_MEM_READ | NUB_MEM_WRITE };
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_error err;
	assert_int_equal(nub_uninit_new(&rw, NULL, &u, &err), NUB_OK);
	assert_int_equal(nub_uninit_evolve(u, &sb, &err), NUB_OK);
	struct nub_buf resp = { 0 };
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_BOOT_INFO, NULL, 0, &resp, &err), NUB_OK);
	struct nub_boot_info bi;
	assert_int_equal(resp.len, sizeof bi);
	memcpy(&bi, resp.data, sizeof bi);
	assert_int_equal(bi.init_data_perms, NUB_MEM_READ | NUB_MEM_WRITE);
	assert_int_equal(bi.init_data_size, 8);
	nub_buf_free(&resp);
	nub_sandbox_free(sb);
}

struct config_case {
	uint64_t input_size, heap_size;
	int level, signal_offset;
	enum nub_status st;
	const char *needle;
};

/* Config errors surface unchanged through nub_uninit_new, before any file is read. */
static void test_config_errors_through_uninit_new(void **state)
{
	(void)state;
	static const struct config_case cases[] = {
		{ 0x1000, 0, NUB_LEVEL_ERROR, 0, NUB_E_LAYOUT,
		  "config.input_size 0x1000 is below the minimum 0x2000" },
		{ 0, 0x40001000, NUB_LEVEL_ERROR, 0, NUB_E_LAYOUT,
		  "config.heap_size 0x40001000 is above the maximum 0x40000000" },
		{ 0, 0, 6, 0, NUB_E_INVALID, "config.max_guest_log_level 6" },
		{ 0, 0, NUB_LEVEL_ERROR, -1, NUB_E_INVALID,
		  "config.interrupt_signal_offset -1 is outside 0.." },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct nub_config cfg;
		nub_config_default(&cfg);
		cfg.input_size = cases[i].input_size;
		cfg.heap_size = cases[i].heap_size;
		cfg.max_guest_log_level = (enum nub_abi_log_level)cases[i].level;
		cfg.interrupt_signal_offset = cases[i].signal_offset;
		struct nub_guest_env env = { .path = "/nonexistent/guest.elf" };
		struct nub_uninit *u = (struct nub_uninit *)1;
		struct nub_error err;
		assert_int_equal(nub_uninit_new(&env, &cfg, &u, &err), cases[i].st);
		nub_assert_error(&err, cases[i].st, cases[i].needle);
		assert_null(u);
	}
}

/* A heap at its 1 GiB maximum plus 1.5 GiB of init data overflows the 2 GiB primary region. */
static void test_layout_error_through_uninit_new(void **state)
{
	(void)state;
	size_t init_len = 0x60000000;
	void *init = mmap(NULL, init_len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			  -1, 0);
	assert_true(init != MAP_FAILED);
	struct alloc_inject a = { 0 };
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.heap_size = 0x40000000;
	cfg.alloc = alloc_inject_hook(&a);
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple"),
				     .init_data = init,
				     .init_data_len = init_len };
	struct nub_uninit *u = (struct nub_uninit *)1;
	struct nub_error err;
	assert_int_equal(nub_uninit_new(&env, &cfg, &u, &err), NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT, "exceeds the maximum 0x80000000");
	nub_assert_error(&err, NUB_E_LAYOUT, "heap_size 0x40000000, init_data_size 0x60000000");
	assert_null(u);
	assert_true(a.calls > 0);
	assert_int_equal(a.live, 0); /* the file buffer was released */
	munmap(init, init_len);
}

static void test_shared_mem_size_tracks_heap_and_init_data(void **state)
{
	(void)state;
	static const uint8_t blob[0x1800] = { 1 };
	const uint64_t heaps[] = { 0x20000, 0x30000 };
	uint64_t sizes[2];
	for (int i = 0; i < 2; i++) {
		struct nub_config cfg;
		nub_config_default(&cfg);
		cfg.heap_size = heaps[i];
		struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
		struct nub_uninit *u = NULL;
		struct nub_error err;
		assert_int_equal(nub_uninit_new(&env, &cfg, &u, &err), NUB_OK);
		sizes[i] = nub_uninit_shared_mem_size(u);
		nub_uninit_free(u);
	}
	assert_true(sizes[0] > 0x20000);
	assert_int_equal(sizes[1] - sizes[0], 0x10000);

	/* Init data takes whole pages. */
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple"),
				     .init_data = blob,
				     .init_data_len = sizeof blob };
	struct nub_uninit *u = NULL;
	struct nub_error err;
	assert_int_equal(nub_uninit_new(&env, NULL, &u, &err), NUB_OK);
	assert_int_equal(nub_uninit_shared_mem_size(u) - sizes[0], 0x2000);
	nub_uninit_free(u);
}

/*
 * With an 8 KiB input and a 16 KiB output buffer, the request is built in a 16 KiB staging area,
 * so one that does not fit the input buffer is refused by the push, and the sandbox stays ready.
 */
static void test_request_larger_than_input_buffer(void **state)
{
	(void)state;
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.input_size = 0x2000;
	struct nub_sandbox *sb = make_simple(&cfg);
	static uint8_t payload[0x2000];
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 13u);
	/* 8 (sp) + 8 (request header) + 8 (back-pointer) leave 0x1fe8 payload bytes */
	const size_t fit = 0x2000 - 24;
	struct nub_buf resp = { 0 };
	struct nub_error err;
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, payload, fit + 1, &resp, &err),
			 NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT,
			 "input buffer full: element needs 0x1ff9 bytes, 0x1ff8 free");
	assert_int_equal(nub_sandbox_status(sb), NUB_SANDBOX_READY);
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, payload, sizeof payload, &resp, &err),
			 NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT, "element needs 0x2010 bytes, 0x1ff8 free");
	assert_null(resp.data);
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, payload, fit, &resp, &err), NUB_OK);
	assert_int_equal(resp.len, fit);
	assert_memory_equal(resp.data, payload, fit);
	nub_buf_free(&resp);
	assert_echo(sb);
	nub_sandbox_free(sb);
}

/*
 * The response is appended to the caller's buffer, which keeps its own allocation hook; an empty
 * buffer without a hook gets the sandbox's.
 */
static void test_response_appends_to_callers_buffer(void **state)
{
	(void)state;
	struct alloc_inject engine = { 0 }, caller = { 0 };
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.alloc = alloc_inject_hook(&engine);
	struct nub_sandbox *sb = make_simple(&cfg);
	const long engine_base = engine.live;
	struct nub_error err;

	struct nub_buf resp = { .alloc = alloc_inject_hook(&caller) };
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, "abc", 3, &resp, &err), NUB_OK);
	assert_int_equal(caller.live, 1);
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, "defg", 4, &resp, &err), NUB_OK);
	assert_int_equal(resp.len, 7);
	assert_memory_equal(resp.data, "abcdefg", 7);
	/* A guest error leaves what the buffer held. */
	assert_int_equal(nub_sandbox_call(sb, 999, "x", 1, &resp, &err), NUB_E_GUEST_ERROR);
	assert_int_equal(resp.len, 7);
	assert_int_equal(engine.live, engine_base);
	nub_buf_free(&resp);
	assert_int_equal(caller.live, 0);

	/* An empty buffer without a hook is filled through the sandbox's hook. */
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, "hi", 2, &resp, &err), NUB_OK);
	assert_int_equal(resp.len, 2);
	assert_true(resp.alloc.realloc == cfg.alloc.realloc && resp.alloc.ctx == &engine);
	assert_int_equal(engine.live, engine_base + 1);
	nub_buf_free(&resp);
	assert_int_equal(engine.live, engine_base);
	assert_int_equal(caller.live, 0);
	nub_sandbox_free(sb);
	assert_int_equal(engine.live, 0);
}

/* ---- The interrupt signal and the time-limit timer ---- */

static void app_handler(int sig)
{
	(void)sig;
}

/* An application's own disposition of the kick signal is never replaced. */
static void test_signal_with_application_handler_is_refused(void **state)
{
	(void)state;
	const int off = 5;
	const int signo = SIGRTMIN + off;
	void (*const dispositions[])(int) = { app_handler, SIG_IGN };
	for (size_t i = 0; i < sizeof dispositions / sizeof dispositions[0]; i++) {
		struct sigaction sa, cur;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = dispositions[i];
		sigemptyset(&sa.sa_mask);
		assert_int_equal(sigaction(signo, &sa, NULL), 0);

		struct alloc_inject a = { 0 };
		struct nub_config cfg;
		nub_config_default(&cfg);
		cfg.interrupt_signal_offset = off;
		cfg.alloc = alloc_inject_hook(&a);
		struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
		struct nub_uninit *u = NULL;
		struct nub_sandbox *sb = (struct nub_sandbox *)1;
		struct nub_error err;
		assert_int_equal(nub_uninit_new(&env, &cfg, &u, &err), NUB_OK);
		assert_int_equal(nub_uninit_evolve(u, &sb, &err), NUB_E_INVALID);
		nub_assert_error(&err, NUB_E_INVALID, "signal SIGRTMIN+5 already has a handler");
		nub_assert_error(&err, NUB_E_INVALID, "config.interrupt_signal_offset");
		assert_null(sb);
		assert_int_equal(a.live, 0);
		assert_int_equal(sigaction(signo, NULL, &cur), 0);
		assert_true(cur.sa_handler == dispositions[i]);
	}

	/* Back to the default disposition, the engine installs its own handler there. */
	struct sigaction dfl, cur;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	assert_int_equal(sigaction(signo, &dfl, NULL), 0);
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.interrupt_signal_offset = off;
	struct nub_sandbox *sb = make_simple(&cfg);
	assert_int_equal(sigaction(signo, NULL, &cur), 0);
	assert_true(cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN &&
		    cur.sa_handler != app_handler);
	assert_echo(sb);
	nub_sandbox_free(sb);
}

/* A kick signal arriving when no call runs on the thread changes nothing (and kills nothing). */
static void test_stray_kick_outside_a_call_is_harmless(void **state)
{
	(void)state;
	struct nub_sandbox *sb = make_simple(NULL);
	struct nub_interrupt *h = nub_sandbox_interrupt_handle(sb);
	/* Under the default disposition this signal would end the process. */
	assert_int_equal(raise(SIGRTMIN), 0);
	assert_false(nub_interrupt_kill(h));
	assert_echo(sb);
	assert_int_equal(raise(SIGRTMIN), 0);
	assert_echo(sb);
	nub_interrupt_unref(h);
	nub_sandbox_free(sb);
}

struct thread_call {
	struct nub_sandbox *sb;
	uint32_t fn;
	enum nub_status st;
	uint64_t ms;
	struct nub_error err;
	struct nub_buf resp;
};

static void *call_on_thread(void *arg)
{
	struct thread_call *c = arg;
	uint64_t t0 = timing_now_ns();
	c->st = nub_sandbox_call(c->sb, c->fn, "hey", 3, &c->resp, &c->err);
	c->ms = (uint64_t)timing_elapsed_ms(t0);
	return NULL;
}

static void run_on_thread(struct thread_call *c)
{
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, call_on_thread, c), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
}

/*
 * The time-limit timer signals the thread that runs the call: a sandbox evolved on this thread
 * and then called from others must re-arm it for each of them.
 */
static void test_time_limit_follows_the_calling_thread(void **state)
{
	(void)state;
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.time_limit_ms = 200;
	struct nub_sandbox *sb = make_simple(&cfg); /* init ran here, under the limit */

	struct thread_call echo = { .sb = sb, .fn = SIMPLE_ECHO };
	run_on_thread(&echo);
	assert_int_equal(echo.st, NUB_OK);
	assert_int_equal(echo.resp.len, 3);
	assert_memory_equal(echo.resp.data, "hey", 3);
	nub_buf_free(&echo.resp);
	assert_echo(sb); /* and back on this thread */

	struct thread_call spin = { .sb = sb, .fn = SIMPLE_SPIN };
	run_on_thread(&spin);
	assert_int_equal(spin.st, NUB_E_TIME_LIMIT);
	nub_assert_error(&spin.err, NUB_E_TIME_LIMIT, "time limit of 200 ms");
	assert_true(spin.ms >= 200 && spin.ms < 10000);
	assert_int_equal(nub_sandbox_status(sb), NUB_SANDBOX_POISONED);
	nub_sandbox_free(sb);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_guest_port_read_during_init),
	cmocka_unit_test(test_guest_spinning_in_init_hits_time_limit),
	cmocka_unit_test(test_exception_abort_without_vector_is_a_protocol_error),
	cmocka_unit_test(test_unsorted_segments_sharing_a_page),
	cmocka_unit_test(test_null_arguments),
	cmocka_unit_test(test_evolve_without_out_consumes_uninit),
	cmocka_unit_test(test_call_argument_errors),
	cmocka_unit_test(test_env_validation),
	cmocka_unit_test(test_config_errors_through_uninit_new),
	cmocka_unit_test(test_layout_error_through_uninit_new),
	cmocka_unit_test(test_shared_mem_size_tracks_heap_and_init_data),
	cmocka_unit_test(test_request_larger_than_input_buffer),
	cmocka_unit_test(test_response_appends_to_callers_buffer),
	cmocka_unit_test(test_signal_with_application_handler_is_refused),
	cmocka_unit_test(test_stray_kick_outside_a_call_is_harmless),
	cmocka_unit_test(test_time_limit_follows_the_calling_thread),
};

NUB_TEST_SUITE(tests);
