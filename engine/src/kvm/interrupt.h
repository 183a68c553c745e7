/* SPDX-License-Identifier: Apache-2.0 */
/* Interrupt handle: kill a running call from another thread, and the per-call time limit. */
#ifndef NUB_INTERRUPT_H
#define NUB_INTERRUPT_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "nub/nub.h"

/*
 * Creates a handle (refcount 1) that kicks with signal SIGRTMIN + (signal_offset). Installs the
 * engine's no-op kick handler for that signal if the signal still has its default disposition;
 * NUB_E_INVALID if the application has its own handler there. Allocation goes through (hook),
 * which the handle keeps for its own release.
 */
enum nub_status nub_interrupt_new(int signal_offset, const struct nub_alloc_hook *hook,
				  struct nub_interrupt **out, struct nub_error *err);

/* Takes another reference. */
struct nub_interrupt *nub_interrupt_ref(struct nub_interrupt *h);

/*
 * Marks the start of a call on the calling thread whose vCPU uses (run), and arms the time limit
 * (ms, 0 = none). Returns the call's generation; a kill only ever applies to the generation it saw.
 */
enum nub_status nub_interrupt_begin(struct nub_interrupt *h, struct kvm_run *run,
				    uint32_t time_limit_ms, uint64_t *gen, struct nub_error *err);

/*
 * Called before every KVM_RUN and after every EINTR: NUB_E_CANCELLED if call (gen) was killed,
 * NUB_E_TIME_LIMIT if its deadline passed (with the message filled), else NUB_OK (and a stale kick
 * is forgotten: immediate_exit is cleared).
 */
enum nub_status nub_interrupt_check(struct nub_interrupt *h, uint64_t gen, struct nub_error *err);

/*
 * Stops the running call's time-limit clock (a debugger holds the guest) until
 * nub_interrupt_resume; no-ops without a limit or when already paused. Calling thread only.
 */
void nub_interrupt_pause(struct nub_interrupt *h);

/* Restarts the clock nub_interrupt_pause stopped, with the time that was left. */
void nub_interrupt_resume(struct nub_interrupt *h);

/* Marks the end of the call: disarms the timer; later kicks are no-ops for this call. */
void nub_interrupt_end(struct nub_interrupt *h);

/* Releases the time-limit timer (the sandbox is going away; the handle may live on). */
void nub_interrupt_detach(struct nub_interrupt *h);

#endif
