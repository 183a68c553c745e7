/* SPDX-License-Identifier: Apache-2.0 */
/* KVM + threads tests: kill from another thread, time limits, many sandboxes on several threads. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simple_fns.h"
#include "testlib.h"

#include "interrupt.h"

#define THREADS 4
#define CALLS_PER_THREAD 20

static struct nub_sandbox *make(uint32_t time_limit_ms)
{
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.time_limit_ms = time_limit_ms;
	return nub_test_evolve("simple", &cfg);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

struct killer {
	struct nub_interrupt *h;
	atomic_bool done;
	atomic_int kills;
};

/* Keeps killing until the spinning call is reported cancelled. */
static void *kill_loop(void *arg)
{
	struct killer *k = arg;
	while (!atomic_load(&k->done)) {
		if (nub_interrupt_kill(k->h))
			atomic_fetch_add(&k->kills, 1);
		sleep_ms(5);
	}
	return NULL;
}

static void test_kill_from_another_thread(void **state)
{
	(void)state;
	struct nub_sandbox *sb = make(0); /* no time limit: only the kill can end the spin */
	struct killer k = { .h = nub_sandbox_interrupt_handle(sb) };
	pthread_t t;
	pthread_create(&t, NULL, kill_loop, &k);
	struct nub_buf resp = { 0 };
	struct nub_error err;
	assert_int_equal(nub_sandbox_call(sb, SIMPLE_SPIN, NULL, 0, &resp, &err), NUB_E_CANCELLED);
	nub_assert_error(&err, NUB_E_CANCELLED, "nub_interrupt_kill");
	atomic_store(&k.done, true);
	pthread_join(t, NULL);
	assert_true(atomic_load(&k.kills) >= 1);
	assert_int_equal(nub_sandbox_status(sb), NUB_SANDBOX_POISONED);
	nub_interrupt_unref(k.h);
	nub_sandbox_free(sb);
}

static void test_kill_between_calls_never_carries_over(void **state)
{
	(void)state;
	struct nub_sandbox *sb = make(0);
	struct nub_interrupt *h = nub_sandbox_interrupt_handle(sb);
	struct nub_buf resp = { 0 };
	struct nub_error err;
	assert_false(nub_interrupt_kill(h)); /* nothing running */
	for (int i = 0; i < 50; i++) {
		assert_int_equal(nub_sandbox_call(sb, SIMPLE_ECHO, "a", 1, &resp, &err), NUB_OK);
		assert_false(nub_interrupt_kill(h));
	}
	assert_int_equal(nub_sandbox_status(sb), NUB_SANDBOX_READY);
	nub_buf_free(&resp);
	/* The handle outlives the sandbox. */
	nub_sandbox_free(sb);
	assert_false(nub_interrupt_kill(h));
	nub_interrupt_unref(h);
}

struct worker {
	int id;
	atomic_bool started;
	struct nub_interrupt *h;
	enum nub_status spin_status;
	int echoes_ok;
};

/* Each worker owns one sandbox: echo calls, then a spin that someone must cancel. */
static void *work(void *arg)
{
	struct worker *w = arg;
	struct nub_sandbox *sb = make(w->id % 2 ? 300 : 0);
	struct nub_buf resp = { 0 };
	struct nub_error err;
	uint8_t msg[8];
	for (int i = 0; i < CALLS_PER_THREAD; i++) {
		memset(msg, w->id * 16 + i, sizeof msg);
		if (nub_sandbox_call(sb, SIMPLE_ECHO, msg, sizeof msg, &resp, &err) == NUB_OK &&
		    resp.len == sizeof msg && memcmp(resp.data, msg, sizeof msg) == 0)
			w->echoes_ok++;
		nub_buf_free(&resp);
	}
	w->h = nub_sandbox_interrupt_handle(sb);
	atomic_store(&w->started, true);
	w->spin_status = nub_sandbox_call(sb, SIMPLE_SPIN, NULL, 0, &resp, &err);
	nub_sandbox_free(sb);
	return NULL;
}

static void test_many_sandboxes_on_many_threads(void **state)
{
	(void)state;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	memset(w, 0, sizeof w);
	for (int i = 0; i < THREADS; i++) {
		w[i].id = i;
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	/* Even workers have no time limit: kill them. Odd workers end by their 300 ms limit. */
	for (int i = 0; i < THREADS; i += 2) {
		while (!atomic_load(&w[i].started))
			sleep_ms(1);
		while (!nub_interrupt_kill(w[i].h))
			sleep_ms(1);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].echoes_ok, CALLS_PER_THREAD);
		assert_int_equal(w[i].spin_status, i % 2 ? NUB_E_TIME_LIMIT : NUB_E_CANCELLED);
		nub_interrupt_unref(w[i].h);
	}
}

/*
 * Defence in depth: nub_config_validate refuses these offsets before a sandbox is built, and the
 * handle refuses them again, naming the same config field.
 */
static void test_handle_refuses_offsets_outside_the_rt_range(void **state)
{
	(void)state;
	struct nub_interrupt *h = NULL;
	struct nub_error err;
	assert_int_equal(nub_interrupt_new(-1, NULL, &h, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "config.interrupt_signal_offset -1 is outside 0..");
	assert_null(h);
	const int max = SIGRTMAX - SIGRTMIN;
	char want[96];
	snprintf(want, sizeof want, "config.interrupt_signal_offset %d is outside 0..%d", max + 1,
		 max);
	assert_int_equal(nub_interrupt_new(max + 1, NULL, &h, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, want);
	assert_null(h);

	/* The last real-time signal is fine; without a hook the handle lives in C-library memory. */
	assert_int_equal(nub_interrupt_new(max, NULL, &h, &err), NUB_OK);
	assert_non_null(h);
	assert_false(nub_interrupt_kill(h));
	struct sigaction cur;
	assert_int_equal(sigaction(SIGRTMAX, NULL, &cur), 0);
	assert_true(cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN);
	nub_interrupt_unref(h);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_kill_from_another_thread),
	cmocka_unit_test(test_kill_between_calls_never_carries_over),
	cmocka_unit_test(test_many_sandboxes_on_many_threads),
	cmocka_unit_test(test_handle_refuses_offsets_outside_the_rt_range),
};

NUB_TEST_SUITE(tests);
