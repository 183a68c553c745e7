/* SPDX-License-Identifier: Apache-2.0 */
/* Interrupt handle: kill a running call from another thread, and the per-call time limit. */
#define _GNU_SOURCE
#include "interrupt.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"

struct nub_interrupt {
	atomic_long refs;
	struct nub_alloc_hook alloc;
	int signo;

	pthread_mutex_t
		lock; /* guards running, thread, gen: a kick never targets an exited thread */
	bool running;
	pthread_t thread;
	uint64_t gen;
	atomic_uint_least64_t cancel_gen; /* generation a kill asked to stop (0 = none) */

	/* Time limit, used only by the thread running calls. */
	uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0 = none */
	uint32_t limit_ms;
	uint64_t paused_left_ns; /* nub_interrupt_pause: what was left of the limit; 0 = running */
	bool have_timer;
	pid_t timer_tid;
	timer_t timer;
};

/*
 * The kvm_run of the call running on this thread. Why: a kick that lands after the run loop
 * checked for cancellation but before KVM_RUN entered the guest would otherwise be lost; setting
 * immediate_exit from the handler makes that KVM_RUN return EINTR at once.
 */
static _Thread_local struct kvm_run *volatile current_run;

static void kick_handler(int sig)
{
	(void)sig;
	struct kvm_run *run = current_run;
	if (run)
		run->immediate_exit = 1;
}

/*
 * The one piece of process-wide state the engine installs: a no-op handler (so a kick interrupts
 * KVM_RUN instead of killing the process), only on a signal nobody else handles.
 */
static enum nub_status install_handler(int signo, struct nub_error *err)
{
	struct sigaction old;
	if (sigaction(signo, NULL, &old) != 0)
		return nub_error_set_errno(err, NUB_E_INVALID, errno, "sigaction(SIGRTMIN+%d)",
					   signo - SIGRTMIN);
	if (old.sa_handler == kick_handler)
		return NUB_OK;
	if (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO))
		return nub_error_set(err, NUB_E_INVALID,
				     "signal SIGRTMIN+%d already has a handler; choose another "
				     "config.interrupt_signal_offset",
				     signo - SIGRTMIN);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: KVM_RUN must return EINTR */
	if (sigaction(signo, &sa, NULL) != 0)
		return nub_error_set_errno(err, NUB_E_INVALID, errno, "sigaction(SIGRTMIN+%d)",
					   signo - SIGRTMIN);
	return NUB_OK;
}

enum nub_status nub_interrupt_new(int signal_offset, const struct nub_alloc_hook *hook,
				  struct nub_interrupt **out, struct nub_error *err)
{
	int signo = SIGRTMIN + signal_offset;
	if (signal_offset < 0 || signo > SIGRTMAX)
		return nub_error_set(err, NUB_E_INVALID,
				     "config.interrupt_signal_offset %d is outside 0..%d",
				     signal_offset, SIGRTMAX - SIGRTMIN);
	enum nub_status st = install_handler(signo, err);
	if (st != NUB_OK)
		return st;
	struct nub_interrupt *h = nub_alloc_zeroed(hook, sizeof *h);
	if (!h)
		return nub_error_set(err, NUB_E_NOMEM, "interrupt handle (%zu bytes)", sizeof *h);
	atomic_init(&h->refs, 1);
	if (hook)
		h->alloc = *hook;
	h->signo = signo;
	pthread_mutex_init(&h->lock, NULL);
	atomic_init(&h->cancel_gen, 0);
	*out = h;
	return NUB_OK;
}

struct nub_interrupt *nub_interrupt_ref(struct nub_interrupt *h)
{
	atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed);
	return h;
}

void nub_interrupt_unref(struct nub_interrupt *h)
{
	if (!h || atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) != 1)
		return;
	nub_interrupt_detach(h);
	pthread_mutex_destroy(&h->lock);
	struct nub_alloc_hook hook = h->alloc;
	nub_alloc_free(&hook, h);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A timer that signals this very thread (not the process) when the deadline passes. */
static enum nub_status ensure_timer(struct nub_interrupt *h, struct nub_error *err)
{
	pid_t tid = gettid();
	if (h->have_timer && h->timer_tid == tid)
		return NUB_OK;
	nub_interrupt_detach(h);
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = h->signo;
	sev._sigev_un._tid = tid; /* glibc 2.36 lacks the sigev_notify_thread_id macro */
	if (timer_create(CLOCK_MONOTONIC, &sev, &h->timer) != 0)
		return nub_error_set_errno(err, NUB_E_NOMEM, errno,
					   "timer_create for the call time limit");
	h->have_timer = true;
	h->timer_tid = tid;
	return NUB_OK;
}

static void set_timer(struct nub_interrupt *h, uint64_t ns)
{
	struct itimerspec its;
	memset(&its, 0, sizeof its);
	its.it_value.tv_sec = (time_t)(ns / 1000000000u);
	its.it_value.tv_nsec = (long)(ns % 1000000000u);
	timer_settime(h->timer, 0, &its, NULL);
}

enum nub_status nub_interrupt_begin(struct nub_interrupt *h, struct kvm_run *run,
				    uint32_t time_limit_ms, uint64_t *gen, struct nub_error *err)
{
	h->deadline_ns = 0;
	h->paused_left_ns = 0;
	h->limit_ms = time_limit_ms;
	if (time_limit_ms) {
		enum nub_status st = ensure_timer(h, err);
		if (st != NUB_OK)
			return st;
		h->deadline_ns = now_ns() + (uint64_t)time_limit_ms * 1000000u;
	}
	run->immediate_exit = 0;
	current_run = run;
	pthread_mutex_lock(&h->lock);
	*gen = ++h->gen;
	h->thread = pthread_self();
	h->running = true;
	pthread_mutex_unlock(&h->lock);
	if (time_limit_ms)
		set_timer(h, (uint64_t)time_limit_ms * 1000000u);
	return NUB_OK;
}

enum nub_status nub_interrupt_check(struct nub_interrupt *h, uint64_t gen, struct nub_error *err)
{
	struct kvm_run *run = current_run;
	if (atomic_load_explicit(&h->cancel_gen, memory_order_acquire) == gen)
		return nub_error_set(err, NUB_E_CANCELLED, "call cancelled by nub_interrupt_kill");
	if (h->deadline_ns && now_ns() >= h->deadline_ns)
		return nub_error_set(err, NUB_E_TIME_LIMIT, "call exceeded the time limit of %u ms",
				     h->limit_ms);
	/* A kick meant for an earlier call, or a spurious signal: forget it and run on. */
	if (run)
		run->immediate_exit = 0;
	return NUB_OK;
}

void nub_interrupt_pause(struct nub_interrupt *h)
{
	if (!h->deadline_ns)
		return;
	uint64_t now = now_ns();
	/* A deadline that passed while pausing still fires as soon as the clock restarts. */
	h->paused_left_ns = h->deadline_ns > now ? h->deadline_ns - now : 1;
	h->deadline_ns = 0;
	set_timer(h, 0);
}

void nub_interrupt_resume(struct nub_interrupt *h)
{
	if (!h->paused_left_ns)
		return;
	h->deadline_ns = now_ns() + h->paused_left_ns;
	set_timer(h, h->paused_left_ns);
	h->paused_left_ns = 0;
}

void nub_interrupt_end(struct nub_interrupt *h)
{
	pthread_mutex_lock(&h->lock);
	h->running = false;
	pthread_mutex_unlock(&h->lock);
	if (h->deadline_ns)
		set_timer(h, 0);
	h->deadline_ns = 0;
	h->paused_left_ns = 0;
	current_run = NULL;
}

void nub_interrupt_detach(struct nub_interrupt *h)
{
	if (h->have_timer)
		timer_delete(h->timer);
	h->have_timer = false;
}

bool nub_interrupt_kill(struct nub_interrupt *h)
{
	bool was_running;
	pthread_mutex_lock(&h->lock);
	was_running = h->running;
	if (was_running) {
		atomic_store_explicit(&h->cancel_gen, h->gen, memory_order_release);
		/* The thread is inside the call (we hold the lock it needs to leave), so it exists. */
		pthread_kill(h->thread, h->signo);
	}
	pthread_mutex_unlock(&h->lock);
	return was_running;
}
