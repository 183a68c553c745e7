/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of error.c, alloc.c (including struct nub_buf under allocation failure) and config.c. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "alloc.h"
#include "alloc_inject.h"
#include "config.h"
#include "error.h"
#include "testlib.h"

/* ---- error.c ---- */

static void test_status_str_names(void **state)
{
	(void)state;
	assert_string_equal(nub_status_str(NUB_OK), "NUB_OK");
	assert_string_equal(nub_status_str(NUB_E_INVALID), "NUB_E_INVALID");
	assert_string_equal(nub_status_str(NUB_E_NOMEM), "NUB_E_NOMEM");
	assert_string_equal(nub_status_str(NUB_E_LAYOUT), "NUB_E_LAYOUT");
	assert_string_equal(nub_status_str(NUB_E_GUEST_ABORT), "NUB_E_GUEST_ABORT");
	assert_string_equal(nub_status_str(NUB_E_PROTOCOL), "NUB_E_PROTOCOL");
	assert_string_equal(nub_status_str(NUB_E_EXISTS), "NUB_E_EXISTS");
}

static void test_status_str_every_status_distinct(void **state)
{
	(void)state;
	for (int i = 0; i < NUB_STATUS_COUNT; i++) {
		const char *a = nub_status_str((enum nub_status)i);

		assert_non_null(a);
		assert_int_equal(strncmp(a, "NUB_", 4), 0);
		assert_string_not_equal(a, "NUB_E_UNKNOWN");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a, nub_status_str((enum nub_status)j));
	}
}

static void test_status_str_out_of_range(void **state)
{
	(void)state;
	assert_string_equal(nub_status_str(NUB_STATUS_COUNT), "NUB_E_UNKNOWN");
	assert_string_equal(nub_status_str((enum nub_status) - 1), "NUB_E_UNKNOWN");
	assert_string_equal(nub_status_str((enum nub_status)1000), "NUB_E_UNKNOWN");
	assert_string_equal(nub_status_str((enum nub_status)INT32_MIN), "NUB_E_UNKNOWN");
}

static void test_error_set_resets_and_formats(void **state)
{
	struct nub_error err;

	(void)state;
	memset(&err, 0xAA, sizeof err);
	assert_int_equal(nub_error_set(&err, NUB_E_ELF, "segment %d at 0x%x", 3, 0x1000),
			 NUB_E_ELF);
	nub_assert_error(&err, NUB_E_ELF, NULL);
	assert_string_equal(err.message, "segment 3 at 0x1000");
	assert_int_equal(err.sys_errno, 0);
	assert_int_equal(err.guest_code, 0);
	assert_int_equal(err.vector, 0);
	assert_int_equal(err.error_code, 0);
	assert_int_equal(err.rip, 0);
	assert_int_equal(err.cr2, 0);
	assert_int_equal(err.gpa, 0);
}

static void test_error_set_null_err(void **state)
{
	(void)state;
	assert_int_equal(nub_error_set(NULL, NUB_E_IO, "x %s", "y"), NUB_E_IO);
	assert_int_equal(nub_error_set_errno(NULL, NUB_E_IO, ENOENT, "x"), NUB_E_IO);
	nub_error_clear(NULL);
}

static void test_error_set_truncates(void **state)
{
	static char big[3 * NUB_ERROR_MESSAGE_MAX];
	struct nub_error err;
	size_t n;

	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	nub_error_set(&err, NUB_E_INVALID, "%s", big);
	n = strlen(err.message);
	assert_int_equal(n, NUB_ERROR_MESSAGE_MAX - 1);
	assert_string_equal(err.message + n - 3, "...");
	assert_int_equal(err.message[0], 'x');

	/* Exactly fitting: no ellipsis. */
	big[NUB_ERROR_MESSAGE_MAX - 1] = '\0';
	nub_error_set(&err, NUB_E_INVALID, "%s", big);
	assert_int_equal(strlen(err.message), NUB_ERROR_MESSAGE_MAX - 1);
	assert_int_equal(err.message[NUB_ERROR_MESSAGE_MAX - 2], 'x');
}

/*
 * vsnprintf fails outright on a wide character the C locale cannot encode: the message says so
 * instead of holding a half-written text.
 */
static void test_error_set_unformattable(void **state)
{
	struct nub_error err;

	(void)state;
	assert_int_equal(nub_error_set(&err, NUB_E_PROTOCOL, "scalar %lc", (wint_t)0x100),
			 NUB_E_PROTOCOL);
	nub_assert_error(&err, NUB_E_PROTOCOL, NULL);
	assert_string_equal(err.message, "(unformattable message)");
	assert_int_equal(nub_error_set_errno(&err, NUB_E_IO, ENOENT, "path %lc", (wint_t)0x100),
			 NUB_E_IO);
	assert_string_equal(err.message, "(unformattable message): No such file or directory");
	assert_int_equal(err.sys_errno, ENOENT);
}

static void test_error_set_errno(void **state)
{
	struct nub_error err;

	(void)state;
	memset(&err, 0x55, sizeof err);
	assert_int_equal(nub_error_set_errno(&err, NUB_E_IO, ENOENT, "opening %s", "/x"), NUB_E_IO);
	nub_assert_error(&err, NUB_E_IO, "opening /x: ");
	assert_int_equal(err.sys_errno, ENOENT);
	assert_string_equal(err.message, "opening /x: No such file or directory");
	assert_int_equal(err.guest_code, 0);
}

static void test_error_set_errno_truncates(void **state)
{
	static const char tail[] = "...: Invalid argument";
	static char big[2 * NUB_ERROR_MESSAGE_MAX];
	struct nub_error err;
	size_t n;

	(void)state;
	memset(big, 'y', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	nub_error_set_errno(&err, NUB_E_KVM, EINVAL, "%s", big);
	n = strlen(err.message);
	assert_int_equal(n, NUB_ERROR_MESSAGE_MAX - 1);
	assert_int_equal(err.sys_errno, EINVAL);
	/* The message gives way to the errno text, never the reverse. */
	assert_string_equal(err.message + n - strlen(tail), tail);

	/* Just short of the whole array: the message still yields to the errno text. */
	big[NUB_ERROR_MESSAGE_MAX - 5] = '\0';
	nub_error_set_errno(&err, NUB_E_KVM, EINVAL, "%s", big);
	n = strlen(err.message);
	assert_int_equal(n, NUB_ERROR_MESSAGE_MAX - 1);
	assert_string_equal(err.message + n - strlen(tail), tail);

	/* Fits whole: no ellipsis. */
	big[10] = '\0';
	nub_error_set_errno(&err, NUB_E_KVM, EINVAL, "%s", big);
	assert_string_equal(err.message, "yyyyyyyyyy: Invalid argument");
}

static void test_error_clear(void **state)
{
	struct nub_error err, zero;

	(void)state;
	memset(&zero, 0, sizeof zero);
	nub_error_set_errno(&err, NUB_E_KVM, EBADF, "KVM_RUN");
	nub_error_clear(&err);
	assert_memory_equal(&err, &zero, sizeof err);
	assert_int_equal(err.status, NUB_OK);
}

/* ---- alloc.c ---- */

static void test_alloc_hook_paths(void **state)
{
	struct alloc_inject a = { 0 };
	struct nub_alloc_hook hook = alloc_inject_hook(&a);
	uint8_t *p, *q;

	(void)state;
	p = nub_alloc_zeroed(&hook, 100);
	assert_non_null(p);
	assert_int_equal(a.live, 1);
	for (int i = 0; i < 100; i++)
		assert_int_equal(p[i], 0);
	memset(p, 7, 100);
	q = nub_alloc_resize(&hook, p, 200);
	assert_non_null(q);
	assert_int_equal(q[99], 7);
	assert_int_equal(a.live, 1);
	/* Size 0 is refused and leaves the block alone (no hidden free). */
	assert_null(nub_alloc_resize(&hook, q, 0));
	assert_int_equal(a.live, 1);
	nub_alloc_free(&hook, q);
	assert_int_equal(a.live, 0);
	nub_alloc_free(&hook, NULL);
	assert_null(nub_alloc_zeroed(&hook, 0));
	assert_int_equal(a.live, 0);
}

static void test_alloc_hook_failure(void **state)
{
	struct alloc_inject a = { .fail_at = 2 };
	struct nub_alloc_hook hook = alloc_inject_hook(&a);
	uint8_t *p;

	(void)state;
	p = nub_alloc_zeroed(&hook, 16);
	assert_non_null(p);
	p[0] = 42;
	assert_null(nub_alloc_resize(&hook, p, 32)); /* 2nd allocation fails */
	assert_int_equal(p[0], 42);                  /* untouched */
	nub_alloc_free(&hook, p);
	assert_int_equal(a.live, 0);
	a.fail_at = 3;
	assert_null(nub_alloc_zeroed(&hook, 8));
	assert_int_equal(a.live, 0);
}

static void test_alloc_libc_paths(void **state)
{
	struct nub_alloc_hook none = { 0 };
	uint8_t *p;

	(void)state;
	p = nub_alloc_zeroed(NULL, 64);
	assert_non_null(p);
	assert_int_equal(p[63], 0);
	p = nub_alloc_resize(NULL, p, 128);
	assert_non_null(p);
	nub_alloc_free(NULL, p);
	p = nub_alloc_zeroed(&none, 8); /* a hook with no function is the C library */
	assert_non_null(p);
	nub_alloc_free(&none, p);
	p = nub_alloc_resize(&none, NULL, 8);
	assert_non_null(p);
	nub_alloc_free(&none, p);
}

/* ---- struct nub_buf ---- */

static void test_buf_append_grows(void **state)
{
	struct nub_buf buf = { 0 };
	uint8_t chunk[100];

	(void)state;
	for (int i = 0; i < 50; i++) {
		memset(chunk, i, sizeof chunk);
		assert_int_equal(nub_buf_append(&buf, chunk, sizeof chunk), NUB_OK);
		assert_true(buf.cap >= buf.len);
	}
	assert_int_equal(buf.len, 5000);
	for (int i = 0; i < 50; i++)
		assert_int_equal(buf.data[i * 100 + 99], i);
	/* Doubling from 64: 5000 bytes need 8192. */
	assert_int_equal(buf.cap, 8192);
	nub_buf_free(&buf);
	assert_null(buf.data);
	assert_int_equal(buf.len, 0);
	assert_int_equal(buf.cap, 0);
	nub_buf_free(&buf); /* empty: no-op */
	nub_buf_free(NULL);
}

static void test_buf_append_edge_cases(void **state)
{
	struct nub_buf buf = { 0 };
	uint8_t x = 1;

	(void)state;
	assert_int_equal(nub_buf_append(&buf, NULL, 0), NUB_OK);
	assert_null(buf.data);
	assert_int_equal(nub_buf_append(&buf, NULL, 1), NUB_E_INVALID);
	assert_int_equal(nub_buf_append(NULL, &x, 1), NUB_E_INVALID);
	/* A big first append is sized to fit, not to the minimum. */
	static uint8_t big[1000];
	assert_int_equal(nub_buf_append(&buf, big, sizeof big), NUB_OK);
	assert_int_equal(buf.cap, 1024);
	nub_buf_free(&buf);
}

static void test_buf_append_overflow(void **state)
{
	uint8_t storage[4] = { 1, 2, 3, 4 };
	struct nub_buf buf = { .data = storage, .len = SIZE_MAX - 2, .cap = SIZE_MAX - 2 };
	uint8_t x[4] = { 0 };

	(void)state;
	assert_int_equal(nub_buf_append(&buf, x, sizeof x), NUB_E_NOMEM);
	assert_ptr_equal(buf.data, storage);
	assert_int_equal(buf.len, SIZE_MAX - 2);
	assert_int_equal(buf.cap, SIZE_MAX - 2);
}

/* Refuses (and records) any request above 1 MiB; frees through the C library. */
static void *refuse_huge(void *ctx, void *ptr, size_t size)
{
	size_t *asked = ctx;

	if (size == 0) {
		free(ptr);
		return NULL;
	}
	*asked = size;
	return size > ((size_t)1 << 20) ? NULL : realloc(ptr, size);
}

/*
 * A length that doubling the capacity cannot reach without overflowing is requested as is, and
 * its failure leaves the buffer as it was.
 */
static void test_buf_append_capacity_doubling_overflow(void **state)
{
	size_t asked = 0;
	struct nub_buf buf = { .alloc = { .realloc = refuse_huge, .ctx = &asked } };
	uint8_t x[4] = { 1, 2, 3, 4 };

	(void)state;
	assert_int_equal(nub_buf_append(&buf, x, sizeof x), NUB_OK);
	assert_int_equal(buf.cap, 64);
	uint8_t *data = buf.data;
	/* Lengths are checked and the block sized before any source byte is read. */
	size_t len = SIZE_MAX / 2 + 2;
	assert_int_equal(nub_buf_append(&buf, x, len), NUB_E_NOMEM);
	assert_int_equal(asked, sizeof x + len);
	assert_ptr_equal(buf.data, data);
	assert_int_equal(buf.len, sizeof x);
	assert_int_equal(buf.cap, 64);
	assert_memory_equal(buf.data, x, sizeof x);
	nub_buf_free(&buf);
}

static void test_buf_append_self(void **state)
{
	struct nub_buf buf = { 0 };

	(void)state;
	assert_int_equal(nub_buf_append(&buf, "0123456789", 10), NUB_OK);
	for (int i = 0; i < 8; i++) /* each doubling moves the block under the source */
		assert_int_equal(nub_buf_append(&buf, buf.data, buf.len), NUB_OK);
	assert_int_equal(buf.len, 2560);
	for (size_t i = 0; i < buf.len; i++)
		assert_int_equal(buf.data[i], '0' + (int)(i % 10));
	nub_buf_free(&buf);
}

static void test_buf_allocation_failures(void **state)
{
	uint8_t chunk[100];

	(void)state;
	for (long fail_at = 1;; fail_at++) {
		struct alloc_inject a = { .fail_at = fail_at };
		struct nub_buf buf = { .alloc = alloc_inject_hook(&a) };
		int failed = 0;

		for (int i = 0; i < 40; i++) {
			struct nub_buf before = buf;
			enum nub_status st;

			memset(chunk, i, sizeof chunk);
			st = nub_buf_append(&buf, chunk, sizeof chunk);
			if (st != NUB_OK) {
				assert_int_equal(st, NUB_E_NOMEM);
				assert_memory_equal(&buf, &before, sizeof buf);
				failed = 1;
				continue;
			}
			assert_int_equal(buf.data[buf.len - 1], i);
		}
		for (size_t i = 1; i < buf.len / 100; i++)
			assert_true(buf.data[i * 100] >= buf.data[(i - 1) * 100]);
		nub_buf_free(&buf);
		assert_int_equal(a.live, 0);
		if (!failed) {
			assert_true(fail_at > a.calls);
			break;
		}
	}
}

/* ---- config.c ---- */

static void test_config_default(void **state)
{
	struct nub_config cfg;
	struct nub_error err;

	(void)state;
	memset(&cfg, 0xAA, sizeof cfg);
	nub_config_default(&cfg);
	assert_int_equal(cfg.input_size, 0x4000);
	assert_int_equal(cfg.output_size, 0x4000);
	assert_int_equal(cfg.heap_size, 0x20000);
	assert_int_equal(cfg.stack_size, 0x8000);
	assert_int_equal(cfg.time_limit_ms, 0);
	assert_int_equal(cfg.interrupt_signal_offset, 0);
	assert_int_equal(cfg.max_guest_log_level, NUB_LEVEL_ERROR);
	assert_null(cfg.log);
	assert_null(cfg.log_ctx);
	assert_null(cfg.debug_print);
	assert_null(cfg.alloc.realloc);
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_OK);
	nub_config_default(NULL);
}

static struct nub_config defaults(void)
{
	struct nub_config cfg;

	nub_config_default(&cfg);
	return cfg;
}

static void test_config_validate_sizes(void **state)
{
	struct nub_config cfg;
	struct nub_error err;

	(void)state;
	cfg = defaults();
	cfg.input_size = cfg.output_size = cfg.heap_size = cfg.stack_size = 0; /* = defaults */
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_OK);

	cfg = defaults();
	cfg.input_size = 0x1000;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT,
			 "config.input_size 0x1000 is below the minimum 0x2000");

	cfg = defaults();
	cfg.output_size = 0x1000001;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT,
			 "config.output_size 0x1000001 is above the maximum 0x1000000");

	cfg = defaults();
	cfg.stack_size = 0x1fff; /* rounds up to the minimum: accepted */
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_OK);
	cfg.stack_size = 0x1000;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT,
			 "config.stack_size 0x1000 is below the minimum 0x2000");

	cfg = defaults();
	cfg.heap_size = 0x40000001;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT, "config.heap_size 0x40000001 is above the maximum");
	cfg.heap_size = 0x40000000;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_OK);
	cfg.heap_size = 1;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_OK);

	cfg = defaults();
	cfg.heap_size = UINT64_MAX;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT,
			 "config.heap_size 0xffffffffffffffff overflows when rounded up to a page");
	cfg = defaults();
	cfg.input_size = UINT64_MAX - 0xffe;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT, "config.input_size 0xfffffffffffff001 overflows");
}

static void test_config_validate_log_level(void **state)
{
	struct nub_config cfg = defaults();
	struct nub_error err;

	(void)state;
	cfg.max_guest_log_level = NUB_LEVEL_OFF;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_OK);
	cfg.max_guest_log_level = NUB_LEVEL_TRACE;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_OK);
	cfg.max_guest_log_level = (enum nub_abi_log_level)6;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "config.max_guest_log_level 6 is not 0..5");
	cfg.max_guest_log_level = (enum nub_abi_log_level) - 1;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "config.max_guest_log_level -1 is not 0..5");
}

static void test_config_validate_signal(void **state)
{
	struct nub_config cfg = defaults();
	struct nub_error err;

	(void)state;
	cfg.interrupt_signal_offset = SIGRTMAX - SIGRTMIN;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_OK);
	cfg.interrupt_signal_offset = SIGRTMAX - SIGRTMIN + 1;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "config.interrupt_signal_offset");
	nub_assert_error(&err, NUB_E_INVALID, "SIGRTMAX");
	cfg.interrupt_signal_offset = -1;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "config.interrupt_signal_offset -1 is outside 0..");
	cfg.interrupt_signal_offset = INT32_MAX;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_E_INVALID);
	cfg.interrupt_signal_offset = INT32_MIN;
	assert_int_equal(nub_config_validate(&cfg, &err), NUB_E_INVALID);
}

static void test_config_validate_null(void **state)
{
	struct nub_error err;

	(void)state;
	assert_int_equal(nub_config_validate(NULL, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "config");
	assert_int_equal(nub_config_validate(NULL, NULL), NUB_E_INVALID);
}

static void cb_log(void *ctx, const struct nub_log_record *r)
{
	(void)ctx;
	(void)r;
}

static void test_config_resolve(void **state)
{
	struct nub_config in, out;
	struct nub_error err;
	int marker;

	(void)state;
	memset(&out, 0xAA, sizeof out);
	assert_int_equal(nub_config_resolve(NULL, &out, &err), NUB_OK);
	assert_int_equal(out.input_size, NUB_DEFAULT_IO_SIZE);
	assert_int_equal(out.stack_size, NUB_DEFAULT_STACK_SIZE);
	assert_int_equal(out.max_guest_log_level, NUB_LEVEL_ERROR);
	assert_null(out.log);

	memset(&in, 0, sizeof in); /* all zero: every size defaults */
	in.input_size = 0x2001;
	in.heap_size = 1;
	in.time_limit_ms = 250;
	in.log = cb_log;
	in.log_ctx = &marker;
	in.max_guest_log_level = NUB_LEVEL_DEBUG;
	assert_int_equal(nub_config_resolve(&in, &out, &err), NUB_OK);
	assert_int_equal(out.input_size, 0x3000);
	assert_int_equal(out.output_size, NUB_DEFAULT_IO_SIZE);
	assert_int_equal(out.heap_size, 0x1000);
	assert_int_equal(out.stack_size, NUB_DEFAULT_STACK_SIZE);
	assert_int_equal(out.time_limit_ms, 250);
	assert_ptr_equal(out.log, cb_log);
	assert_ptr_equal(out.log_ctx, &marker);
	assert_int_equal(out.max_guest_log_level, NUB_LEVEL_DEBUG);
	assert_int_equal(in.input_size, 0x2001); /* input untouched */
}

static void test_config_resolve_failure_leaves_out(void **state)
{
	struct nub_config in = defaults(), out, before;
	struct nub_error err;

	(void)state;
	memset(&out, 0x5A, sizeof out);
	before = out;
	in.stack_size = 0x1000001;
	assert_int_equal(nub_config_resolve(&in, &out, &err), NUB_E_LAYOUT);
	nub_assert_error(&err, NUB_E_LAYOUT, "config.stack_size 0x1000001 is above the maximum");
	assert_memory_equal(&out, &before, sizeof out);
	assert_int_equal(nub_config_resolve(&in, NULL, &err), NUB_E_INVALID);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_status_str_names),
	cmocka_unit_test(test_status_str_every_status_distinct),
	cmocka_unit_test(test_status_str_out_of_range),
	cmocka_unit_test(test_error_set_resets_and_formats),
	cmocka_unit_test(test_error_set_null_err),
	cmocka_unit_test(test_error_set_truncates),
	cmocka_unit_test(test_error_set_unformattable),
	cmocka_unit_test(test_error_set_errno),
	cmocka_unit_test(test_error_set_errno_truncates),
	cmocka_unit_test(test_error_clear),
	cmocka_unit_test(test_alloc_hook_paths),
	cmocka_unit_test(test_alloc_hook_failure),
	cmocka_unit_test(test_alloc_libc_paths),
	cmocka_unit_test(test_buf_append_grows),
	cmocka_unit_test(test_buf_append_edge_cases),
	cmocka_unit_test(test_buf_append_overflow),
	cmocka_unit_test(test_buf_append_capacity_doubling_overflow),
	cmocka_unit_test(test_buf_append_self),
	cmocka_unit_test(test_buf_allocation_failures),
	cmocka_unit_test(test_config_default),
	cmocka_unit_test(test_config_validate_sizes),
	cmocka_unit_test(test_config_validate_log_level),
	cmocka_unit_test(test_config_validate_signal),
	cmocka_unit_test(test_config_validate_null),
	cmocka_unit_test(test_config_resolve),
	cmocka_unit_test(test_config_resolve_failure_leaves_out),
};

NUB_TEST_SUITE(tests);
