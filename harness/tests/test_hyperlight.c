/* SPDX-License-Identifier: Apache-2.0 */
/* KVM + threads tests mirroring Hyperlight's interrupt and sandbox tests that nub lacked. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "host_fns.h"
#include "simple_fns.h"
#include "testlib.h"

/*
 * Hyperlight runs some of these with hundreds of threads and iterations; on a host that
 * emulates CPL0 guest code (this project's CI machines) that would take minutes, so the counts
 * below are scaled down. What each test asserts is the same.
 */
#define HOST_ECHO 1
#define HOST_FAIL 2
#define HOST_BLOCK 3

/* host_fn_fail's message (its ctx, which the host-function signature takes as void *). */
static char host_says_no[] = "host says no";

struct block {
	atomic_bool entered;  /* the host function is running */
	atomic_bool released; /* the test let it return */
};

/* A host function that waits (at most 5 s) until the test releases it. */
static int host_block(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		      struct nub_error *err)
{
	struct block *b = ctx;
	(void)req;
	(void)len;
	(void)resp;
	(void)err;
	atomic_store(&b->entered, true);
	for (int i = 0; i < 5000 && !atomic_load(&b->released); i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return 0;
}

static void sleep_ms(long ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000L }, NULL);
}

static struct nub_sandbox *make(struct block *b)
{
	struct nub_guest_env env = { .path = NUB_TEST_GUEST("simple") };
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_error err;
	if (nub_uninit_new(&env, NULL, &u, &err) != NUB_OK ||
	    nub_uninit_register(u, HOST_ECHO, host_fn_echo, NULL, &err) != NUB_OK ||
	    nub_uninit_register(u, HOST_FAIL, host_fn_fail, host_says_no, &err) != NUB_OK ||
	    nub_uninit_register(u, HOST_BLOCK, host_block, b, &err) != NUB_OK ||
	    nub_uninit_evolve(u, &sb, &err) != NUB_OK)
		fail_msg("%s: %s", nub_status_str(err.status), err.message);
	return sb;
}

static void expect_echo(struct nub_sandbox *sb)
{
	struct nub_buf resp = { 0 };
	struct nub_error err;
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, "hi", 2, &resp, &err), NUB_OK);
	assert_int_equal(resp.len, 2);
	assert_memory_equal(resp.data, "hi", 2);
	nub_buf_free(&resp);
}

/* Kills (h) until a kill lands on a running call (true), at most (ms) milliseconds. */
static bool kill_running(struct nub_interrupt *h, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (nub_interrupt_kill(h))
			return true;
		sleep_ms(1);
	}
	return false;
}

struct killer {
	struct nub_interrupt *h;
	struct block *wait_for; /* kill only once this host function runs, then release it */
	atomic_bool done;
	atomic_bool landed;
};

static void *killer(void *arg)
{
	struct killer *k = arg;
	if (k->wait_for)
		while (!atomic_load(&k->wait_for->entered) && !atomic_load(&k->done))
			sleep_ms(1);
	while (!atomic_load(&k->done)) {
		if (nub_interrupt_kill(k->h)) {
			atomic_store(&k->landed, true);
			if (k->wait_for)
				atomic_store(&k->wait_for->released, true);
		}
		sleep_ms(2);
	}
	return NULL;
}

/* Runs (fn, payload) on (sb) while another thread kills it: the call must be cancelled. */
static void call_under_kill(struct nub_sandbox *sb, struct block *wait_for, uint32_t fn,
			    const void *payload, size_t len)
{
	struct killer k = { .h = nub_sandbox_interrupt_handle(sb), .wait_for = wait_for };
	pthread_t t;
	struct nub_buf resp = { 0 };
	struct nub_error err;
	assert_int_equal(pthread_create(&t, NULL, killer, &k), 0);
	assert_int_equal(nub_sandbox_call(sb, fn, payload, len, &resp, &err), NUB_E_CANCELLED);
	nub_assert_error(&err, NUB_E_CANCELLED, "nub_interrupt_kill");
	atomic_store(&k.done, true);
	pthread_join(t, NULL);
	assert_true(atomic_load(&k.landed));
	nub_interrupt_unref(k.h);
	nub_buf_free(&resp);
	assert_int_equal(nub_sandbox_status(sb), NUB_SANDBOX_POISONED);
}

/* interrupt_host_call: a kill during a host function cancels the call; restore makes it ready. */
static void test_kill_during_host_function(void **state)
{
	(void)state;
	struct block b = { 0 };
	struct nub_sandbox *sb = make(&b);
	struct nub_snapshot *snap = NULL;
	struct nub_error err;
	uint8_t req[4];
	assert_int_equal(nub_sandbox_snapshot(sb, &snap, &err), NUB_OK);
	nub_put_le32(req, HOST_BLOCK);
	call_under_kill(sb, &b, SIMPLE_HOST_CALL, req, sizeof req);
	assert_true(atomic_load(&b.entered));
	assert_int_equal(nub_sandbox_restore(sb, snap, &err), NUB_OK);
	assert_int_equal(nub_sandbox_status(sb), NUB_SANDBOX_READY);
	expect_echo(sb);
	nub_snapshot_unref(snap);
	nub_sandbox_free(sb);
}

/* interrupt_spamming_host_call: a guest looping on host calls is cancelled by a kill. */
static void test_kill_while_guest_spams_host_calls(void **state)
{
	(void)state;
	struct nub_sandbox *sb = make(NULL);
	uint8_t req[12];
	nub_put_le32(req, 0xffffffffu); /* calls, each feeding its response to the next */
	nub_put_le32(req + 4, HOST_ECHO);
	memcpy(req + 8, "spam", 4);
	call_under_kill(sb, NULL, SIMPLE_HOST_CALL_CHAIN, req, sizeof req);
	nub_sandbox_free(sb);
}

/* interrupt_same_thread: three sandboxes on one thread; only the targeted one is ever cancelled. */
static void test_three_sandboxes_one_thread(void **state)
{
	(void)state;
	struct nub_sandbox *a = make(NULL), *b = make(NULL), *c = make(NULL);
	struct nub_snapshot *snap = NULL;
	struct nub_error err;
	assert_int_equal(nub_sandbox_snapshot(b, &snap, &err), NUB_OK);
	for (int i = 0; i < 100; i++) {
		expect_echo(a);
		call_under_kill(b, NULL, SIMPLE_SPIN, NULL, 0);
		assert_int_equal(nub_sandbox_restore(b, snap, &err), NUB_OK);
		expect_echo(c);
		assert_int_equal(nub_sandbox_status(a), NUB_SANDBOX_READY);
		assert_int_equal(nub_sandbox_status(c), NUB_SANDBOX_READY);
	}
	nub_snapshot_unref(snap);
	nub_sandbox_free(a);
	nub_sandbox_free(b);
	nub_sandbox_free(c);
}

/*
 * interrupt_random_kill_stress_test: each worker owns a sandbox and chooses at random which of
 * its calls to have killed; its own killer thread fires at the chosen calls only. After each
 * call the worker waits until the killer has seen that it may no longer fire (so a kill can
 * never be meant for one call and land on the next, which would be a correct cancellation),
 * then kills between calls itself, where nothing runs: a call that was not chosen must never be
 * cancelled.
 */
#define STRESS_THREADS 6
#define STRESS_ITERATIONS 40

struct stress {
	unsigned seed;
	struct nub_interrupt *h;
	atomic_bool aim;   /* the current call was chosen */
	atomic_uint epoch; /* calls finished (the worker's count) */
	atomic_uint acked; /* the epoch at which the killer last saw aim off */
	atomic_bool done;
	int chosen, cancelled, wrongly_cancelled, other_errors;
};

static void *stress_killer(void *arg)
{
	struct stress *s = arg;
	while (!atomic_load(&s->done)) {
		unsigned epoch = atomic_load(&s->epoch);
		if (atomic_load(&s->aim))
			nub_interrupt_kill(s->h);
		else
			atomic_store(&s->acked, epoch);
		sleep_ms(1);
	}
	return NULL;
}

static void *stress_worker(void *arg)
{
	struct stress *s = arg;
	struct nub_sandbox *sb = make(NULL);
	struct nub_snapshot *snap = NULL;
	struct nub_buf resp = { 0 };
	struct nub_error err;
	pthread_t t;
	if (nub_sandbox_snapshot(sb, &snap, &err) != NUB_OK)
		s->other_errors++;
	s->h = nub_sandbox_interrupt_handle(sb);
	pthread_create(&t, NULL, stress_killer, s);
	for (int i = 0; i < STRESS_ITERATIONS; i++) {
		bool chosen = rand_r(&s->seed) % 3 == 0;
		atomic_store(&s->aim, chosen);
		enum nub_status st = chosen ? nub_sandbox_call(sb, SIMPLE_SPIN, NULL, 0, &resp,
							       &err)
					    : nub_sandbox_call(sb, SIMPLE_ECHO, "x", 1, &resp,
							       &err);
		atomic_store(&s->aim, false);
		unsigned epoch = atomic_fetch_add(&s->epoch, 1) + 1;
		while (atomic_load(&s->acked) != epoch)
			sleep_ms(1);
		if (nub_interrupt_kill(s->h)) /* between calls: nothing to cancel */
			s->other_errors++;
		s->chosen += chosen;
		if (st == NUB_E_CANCELLED && chosen)
			s->cancelled++;
		else if (st == NUB_E_CANCELLED)
			s->wrongly_cancelled++;
		else if (st != NUB_OK || chosen)
			s->other_errors++;
		if (st != NUB_OK && nub_sandbox_restore(sb, snap, &err) != NUB_OK)
			s->other_errors++;
		nub_buf_free(&resp);
	}
	atomic_store(&s->done, true);
	pthread_join(t, NULL);
	nub_interrupt_unref(s->h);
	nub_snapshot_unref(snap);
	nub_sandbox_free(sb);
	return NULL;
}

static void test_random_kill_stress(void **state)
{
	(void)state;
	struct stress s[STRESS_THREADS];
	pthread_t t[STRESS_THREADS];
	memset(s, 0, sizeof s);
	for (int i = 0; i < STRESS_THREADS; i++) {
		s[i].seed = 0x5eed0000u + (unsigned)i;
		assert_int_equal(pthread_create(&t[i], NULL, stress_worker, &s[i]), 0);
	}
	int chosen = 0;
	for (int i = 0; i < STRESS_THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(s[i].wrongly_cancelled, 0);
		assert_int_equal(s[i].other_errors, 0);
		assert_int_equal(s[i].cancelled, s[i].chosen);
		chosen += s[i].chosen;
	}
	assert_true(chosen > 0);
}

/*
 * interrupt_infinite_moving_loop_stress_test: the sandbox is made on one thread, spins on
 * another and is killed from a third, a new pair of threads each round: a kill always stops
 * the loop, wherever the sandbox went.
 */
struct spin_job {
	struct nub_sandbox *sb;
	atomic_bool running;
	enum nub_status st;
};

static void *spin_on_this_thread(void *arg)
{
	struct spin_job *j = arg;
	struct nub_buf resp = { 0 };
	struct nub_error err;
	atomic_store(&j->running, true);
	j->st = nub_sandbox_call(j->sb, SIMPLE_SPIN, NULL, 0, &resp, &err);
	nub_buf_free(&resp);
	return NULL;
}

static void *kill_job(void *arg)
{
	struct spin_job *j = arg;
	struct nub_interrupt *h = nub_sandbox_interrupt_handle(j->sb);
	while (!atomic_load(&j->running))
		sleep_ms(1);
	kill_running(h, 5000);
	nub_interrupt_unref(h);
	return NULL;
}

static void test_moving_infinite_loop(void **state)
{
	(void)state;
	struct nub_sandbox *sb = make(NULL);
	struct nub_snapshot *snap = NULL;
	struct nub_error err;
	assert_int_equal(nub_sandbox_snapshot(sb, &snap, &err), NUB_OK);
	for (int round = 0; round < 20; round++) {
		struct spin_job j = { .sb = sb };
		pthread_t spinner, killer_thread;
		assert_int_equal(pthread_create(&spinner, NULL, spin_on_this_thread, &j), 0);
		assert_int_equal(pthread_create(&killer_thread, NULL, kill_job, &j), 0);
		pthread_join(spinner, NULL);
		pthread_join(killer_thread, NULL);
		assert_int_equal(j.st, NUB_E_CANCELLED);
		assert_int_equal(nub_sandbox_restore(sb, snap, &err), NUB_OK);
	}
	expect_echo(sb);
	nub_snapshot_unref(snap);
	nub_sandbox_free(sb);
}

/* Many live sandboxes at once: 200 made from one snapshot, each called, all alive together. */
static void test_200_live_sandboxes(void **state)
{
	(void)state;
	enum { N = 200 };
	static struct nub_sandbox *many[N];
	struct nub_sandbox *first = make(NULL);
	struct nub_snapshot *snap = NULL;
	struct nub_error err;
	const struct nub_host_function fns[] = {
		{ HOST_ECHO, host_fn_echo, NULL },
		{ HOST_FAIL, host_fn_fail, host_says_no },
		{ HOST_BLOCK, host_block, NULL },
	};
	assert_int_equal(nub_sandbox_snapshot(first, &snap, &err), NUB_OK);
	nub_sandbox_free(first);
	for (int i = 0; i < N; i++)
		if (nub_sandbox_from_snapshot(snap, fns, 3, NULL, &many[i], &err) != NUB_OK)
			fail_msg("sandbox %d of %d: %s: %s", i + 1, N, nub_status_str(err.status),
				 err.message);
	for (int i = 0; i < N; i++) {
		struct nub_buf resp = { 0 };
		uint8_t id[4];
		nub_put_le32(id, (uint32_t)i);
		assert_int_equal(nub_sandbox_call(many[i], SIMPLE_ECHO, id, 4, &resp, &err),
				 NUB_OK);
		assert_memory_equal(resp.data, id, 4);
		nub_buf_free(&resp);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(nub_sandbox_status(many[i]), NUB_SANDBOX_READY);
	for (int i = 0; i < N; i++)
		nub_sandbox_free(many[i]);
	nub_snapshot_unref(snap);
}

/* host_function_error: a failing host function reaches the caller 1000 times, restores between. */
static void test_host_function_fails_1000_times(void **state)
{
	(void)state;
	struct nub_sandbox *sb = make(NULL);
	struct nub_snapshot *snap = NULL;
	struct nub_buf resp = { 0 };
	struct nub_error err;
	uint8_t req[8];
	nub_put_le32(req, HOST_FAIL);
	memcpy(req + 4, "why?", 4);
	assert_int_equal(nub_sandbox_snapshot(sb, &snap, &err), NUB_OK);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(nub_sandbox_call(sb, SIMPLE_HOST_CALL, req, sizeof req, &resp,
						  &err),
				 NUB_E_GUEST_ERROR);
		if (i == 0)
			nub_assert_error(&err, NUB_E_GUEST_ERROR, "host says no");
		assert_int_equal(err.guest_code, NUB_STATUS_HOST_ERROR);
		assert_int_equal(nub_sandbox_status(sb),
				 NUB_SANDBOX_READY); /* an error, not poison */
		assert_int_equal(nub_sandbox_restore(sb, snap, &err), NUB_OK);
	}
	expect_echo(sb);
	nub_buf_free(&resp);
	nub_snapshot_unref(snap);
	nub_sandbox_free(sb);
}

/* A snapshot file, loaded, turned into a sandbox and called: guest and host functions work. */
static void test_snapshot_file_to_sandbox(void **state)
{
	(void)state;
	char dir[] = "/tmp/nub-test-snapfile-XXXXXX", path[64];
	struct nub_sandbox *sb = make(NULL), *from = NULL;
	struct nub_snapshot *snap = NULL, *loaded = NULL;
	struct nub_buf resp = { 0 };
	struct nub_error err;
	const struct nub_host_function fns[] = {
		{ HOST_ECHO, host_fn_echo, NULL },
		{ HOST_FAIL, host_fn_fail, host_says_no },
		{ HOST_BLOCK, host_block, NULL },
	};
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/simple.snap", dir);
	/* State the snapshot must carry: the guest's static counter is at 2 when it is taken. */
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_STATIC_COUNTER, NULL, 0, &resp, &err), NUB_OK);
	nub_buf_free(&resp);
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_STATIC_COUNTER, NULL, 0, &resp, &err), NUB_OK);
	nub_buf_free(&resp);
	assert_int_equal(nub_sandbox_snapshot(sb, &snap, &err), NUB_OK);
	assert_int_equal(nub_snapshot_save(snap, path, &err), NUB_OK);
	nub_snapshot_unref(snap);
	nub_sandbox_free(sb);

	assert_int_equal(nub_snapshot_load(path, NULL, &loaded, &err), NUB_OK);
	assert_int_equal(nub_sandbox_from_snapshot(loaded, fns, 3, NULL, &from, &err), NUB_OK);
	assert_int_equal(nub_sandbox_call(from, SIMPLE_STATIC_COUNTER, NULL, 0, &resp, &err),
			 NUB_OK);
	assert_int_equal(resp.len, 4);
	assert_int_equal(nub_le32(resp.data), 3);
	nub_buf_free(&resp);
	uint8_t req[8];
	nub_put_le32(req, HOST_ECHO);
	memcpy(req + 4, "ping", 4);
	assert_int_equal(nub_sandbox_call(from, SIMPLE_HOST_CALL, req, sizeof req, &resp, &err),
			 NUB_OK);
	assert_int_equal(resp.len, 4);
	assert_memory_equal(resp.data, "ping", 4);
	nub_buf_free(&resp);
	assert_int_equal(nub_sandbox_restore(from, loaded, &err), NUB_OK);
	assert_int_equal(nub_sandbox_call(from, SIMPLE_STATIC_COUNTER, NULL, 0, &resp, &err),
			 NUB_OK);
	assert_int_equal(nub_le32(resp.data), 3);
	nub_buf_free(&resp);
	nub_sandbox_free(from);
	nub_snapshot_unref(loaded);
	unlink(path);
	rmdir(dir);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_kill_during_host_function),
	cmocka_unit_test(test_kill_while_guest_spams_host_calls),
	cmocka_unit_test(test_three_sandboxes_one_thread),
	cmocka_unit_test(test_random_kill_stress),
	cmocka_unit_test(test_moving_infinite_loop),
	cmocka_unit_test(test_200_live_sandboxes),
	cmocka_unit_test(test_host_function_fails_1000_times),
	cmocka_unit_test(test_snapshot_file_to_sandbox),
};

NUB_TEST_SUITE(tests);
