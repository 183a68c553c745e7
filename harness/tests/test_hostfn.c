/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the host-function registry (hostfn.c), including every allocation failure. */
#include <stdint.h>
#include <string.h>

#include "alloc_inject.h"
#include "hostfn.h"
#include "testlib.h"

static int fn_a(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		struct nub_error *err)
{
	(void)ctx, (void)req, (void)len, (void)resp, (void)err;
	return 0;
}

static int fn_b(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		struct nub_error *err)
{
	(void)ctx, (void)req, (void)len, (void)resp, (void)err;
	return 1;
}

static void assert_sorted(const struct nub_hostfn_table *t)
{
	assert_true(t->count <= t->cap);
	for (size_t i = 1; i < t->count; i++)
		assert_true(t->fns[i - 1].fn_id < t->fns[i].fn_id);
}

static void test_register_and_find(void **state)
{
	struct nub_hostfn_table t = { 0 };
	struct nub_error err;
	int ca, cb, cc;
	const struct nub_hostfn *h;

	(void)state;
	assert_null(nub_hostfn_find(&t, 7));
	assert_int_equal(nub_hostfn_register(&t, NULL, 7, fn_a, &ca, &err), NUB_OK);
	assert_int_equal(nub_hostfn_register(&t, NULL, 3, fn_b, &cb, &err), NUB_OK);
	assert_int_equal(nub_hostfn_register(&t, NULL, UINT32_MAX, fn_a, &cc, &err), NUB_OK);
	assert_int_equal(nub_hostfn_register(&t, NULL, 0, fn_b, NULL, &err), NUB_OK);
	assert_int_equal(t.count, 4);
	assert_sorted(&t);

	h = nub_hostfn_find(&t, 7);
	assert_non_null(h);
	assert_int_equal(h->fn_id, 7);
	assert_ptr_equal(h->fn, fn_a);
	assert_ptr_equal(h->ctx, &ca);
	h = nub_hostfn_find(&t, 3);
	assert_non_null(h);
	assert_ptr_equal(h->fn, fn_b);
	assert_ptr_equal(h->ctx, &cb);
	h = nub_hostfn_find(&t, UINT32_MAX);
	assert_non_null(h);
	assert_ptr_equal(h->ctx, &cc);
	h = nub_hostfn_find(&t, 0);
	assert_non_null(h);
	assert_null(h->ctx);
	assert_null(nub_hostfn_find(&t, 1));
	assert_null(nub_hostfn_find(&t, 4));
	assert_null(nub_hostfn_find(&t, 8));
	assert_null(nub_hostfn_find(&t, UINT32_MAX - 1));

	nub_hostfn_free(&t, NULL);
	assert_null(t.fns);
	assert_int_equal(t.count, 0);
	assert_int_equal(t.cap, 0);
	assert_null(nub_hostfn_find(&t, 7));
}

static void test_duplicate(void **state)
{
	struct nub_hostfn_table t = { 0 };
	struct nub_error err;
	int ctx;

	(void)state;
	assert_int_equal(nub_hostfn_register(&t, NULL, 7, fn_a, &ctx, &err), NUB_OK);
	assert_int_equal(nub_hostfn_register(&t, NULL, 7, fn_b, NULL, &err), NUB_E_EXISTS);
	nub_assert_error(&err, NUB_E_EXISTS, "host function fn_id 7 is already registered");
	assert_int_equal(t.count, 1);
	assert_ptr_equal(nub_hostfn_find(&t, 7)->fn, fn_a); /* the first one stays */
	assert_ptr_equal(nub_hostfn_find(&t, 7)->ctx, &ctx);
	assert_int_equal(nub_hostfn_register(&t, NULL, 7, fn_a, NULL, NULL), NUB_E_EXISTS);
	nub_hostfn_free(&t, NULL);
}

static void test_null_fn(void **state)
{
	struct nub_hostfn_table t = { 0 };
	struct nub_error err;

	(void)state;
	assert_int_equal(nub_hostfn_register(&t, NULL, 9, NULL, NULL, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "host function fn_id 9 has a NULL function");
	assert_int_equal(t.count, 0);
	assert_null(t.fns);
	assert_int_equal(nub_hostfn_register(NULL, NULL, 9, fn_a, NULL, &err), NUB_E_INVALID);
	assert_null(nub_hostfn_find(NULL, 9));
	nub_hostfn_free(NULL, NULL);
	nub_hostfn_free(&t, NULL); /* empty: no-op */
}

static uint32_t nth_id(uint32_t i)
{
	return (uint32_t)((i * 2654435761u) ^ 0x5bd1e995u); /* a permutation of u32 */
}

static void test_many(void **state)
{
	struct nub_hostfn_table t = { 0 };
	struct nub_error err;

	(void)state;
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(nub_hostfn_register(&t, NULL, nth_id(i), fn_a,
						     (void *)(uintptr_t)(i + 1), &err),
				 NUB_OK);
	assert_int_equal(t.count, 1000);
	assert_sorted(&t);
	for (uint32_t i = 0; i < 1000; i++) {
		const struct nub_hostfn *h = nub_hostfn_find(&t, nth_id(i));

		assert_non_null(h);
		assert_int_equal((uintptr_t)h->ctx, i + 1);
		assert_null(nub_hostfn_find(&t, nth_id(i + 1000)));
	}
	nub_hostfn_free(&t, NULL);
}

/* Fails every allocation in turn: the failing register reports NOMEM, changes nothing, leaks nothing. */
static void test_allocation_failures(void **state)
{
	(void)state;
	for (long fail_at = 1;; fail_at++) {
		struct alloc_inject a = { .fail_at = fail_at };
		struct nub_alloc_hook hook = alloc_inject_hook(&a);
		struct nub_hostfn_table t = { 0 };
		struct nub_error err;
		uint32_t registered = 0;
		int failed = 0;

		for (uint32_t i = 0; i < 100; i++) {
			struct nub_hostfn_table before = t;
			enum nub_status st = nub_hostfn_register(&t, &hook, nth_id(i), fn_b, NULL,
								 &err);

			if (st != NUB_OK) {
				nub_assert_error(&err, NUB_E_NOMEM, "host function table");
				assert_memory_equal(&t, &before, sizeof t);
				assert_null(nub_hostfn_find(&t, nth_id(i)));
				failed = 1;
				continue;
			}
			registered++;
		}
		assert_int_equal(t.count, registered);
		assert_sorted(&t);
		for (size_t i = 0; i < t.count; i++)
			assert_non_null(nub_hostfn_find(&t, t.fns[i].fn_id));
		nub_hostfn_free(&t, &hook);
		assert_int_equal(a.live, 0);
		if (!failed) {
			assert_true(fail_at > a.calls);
			assert_int_equal(registered, 100);
			break;
		}
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_register_and_find),
	cmocka_unit_test(test_duplicate),
	cmocka_unit_test(test_null_fn),
	cmocka_unit_test(test_many),
	cmocka_unit_test(test_allocation_failures),
};

NUB_TEST_SUITE(tests);
