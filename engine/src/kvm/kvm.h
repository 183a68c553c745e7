/* SPDX-License-Identifier: Apache-2.0 */
/* The KVM backend: VM, memory slots, CPUID, MSR filter, long-mode vCPU, run. */
#ifndef NUB_KVM_H
#define NUB_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "exit.h"
#include "nub/nub.h"
#include "snapshot.h"

/*
 * KVM_EXIT_MEMORY_FAULT and its kvm_run member (Linux 6.8 uapi), spelled out because Debian 12's
 * headers (6.1) predate them; both are ABI and cannot change.
 */
#ifdef KVM_EXIT_MEMORY_FAULT
#define NUB_KVM_EXIT_MEMORY_FAULT KVM_EXIT_MEMORY_FAULT
#else
#define NUB_KVM_EXIT_MEMORY_FAULT 39
#endif
struct nub_kvm_memory_fault {
	uint64_t flags, gpa, size;
};

enum nub_kvm_owes {
	NUB_KVM_OWES_UNKNOWN, /* port read, MMIO, errors, anything else: complete it to be sure */
	NUB_KVM_OWES_NOTHING, /* EINTR, hlt, shutdown */
	NUB_KVM_OWES_SKIP_AT, /* a port write: at most a skip of the OUT, if RIP stays on it */
};

struct nub_kvm {
	int vm_fd;   /* -1 when closed */
	int vcpu_fd; /* -1 when closed */
	struct kvm_run *run;
	size_t run_size;
	/* Counters for nub_sandbox_get_stats. */
	uint64_t guest_runs, guest_run_ns; /* nub_kvm_run calls and the wall time inside them */
	uint64_t completion_runs;          /* KVM_RUNs of nub_kvm_flush */
	/* What KVM owes the last exit on the next KVM_RUN (nub_kvm_exit_needs_completion). */
	enum nub_kvm_owes exit_owes;
	uint64_t port_write_rip; /* linear address of the OUT, for NUB_KVM_OWES_SKIP_AT */
	/* KVM lets this guest change XCR0 (it does not hold XCR0 to the CPUID we give): see kvm.c. */
	bool xcr0_settable;
	struct nub_ioctl_hook hook; /* config.ioctl: every ioctl below goes through it */
};

/* Register state at the guest's entry point. */
struct nub_kvm_boot {
	uint64_t rip;
	uint64_t rsp;
	uint64_t rdi;
	uint64_t cr3;
};

/*
 * Opens /dev/kvm (API 12, with the capabilities the engine needs), creates a VM with a CPUID that
 * hides VMX/SVM/x2APIC and reports NUB_GPA_BITS physical address bits, installs a default-deny MSR
 * filter (a guest rdmsr/wrmsr then raises #GP inside the guest), creates vCPU 0 and maps its
 * kvm_run. On failure everything is closed. Errors: NUB_E_KVM naming the ioctl and errno.
 */
enum nub_status nub_kvm_create(struct nub_kvm *k, const struct nub_ioctl_hook *hook,
			       struct nub_error *err);

/* Closes the vCPU and the VM; a zeroed (fds -1) or closed struct is fine. */
void nub_kvm_destroy(struct nub_kvm *k);

#define NUB_KVM_LOG_DIRTY 1u /* track guest writes (nub_kvm_collect_dirty) */
#define NUB_KVM_READONLY 2u  /* guest writes become MMIO exits */

/*
 * Maps host memory (host, size) at guest-physical (gpa) in memory slot (slot) with NUB_KVM_*
 * (flags); size 0 deletes the slot.
 */
enum nub_status nub_kvm_map(struct nub_kvm *k, uint32_t slot, uint64_t gpa, uint64_t size,
			    void *host, uint32_t flags, struct nub_error *err);

/*
 * Ors into (accum) the pages of (slot) ((npages) pages) the guest dirtied since the last
 * collection, and re-arms tracking for exactly those pages. (tmp) holds ceil(npages / 64) words.
 * VM ioctls only (GET_DIRTY_LOG, CLEAR_DIRTY_LOG): no vCPU round trip.
 */
enum nub_status nub_kvm_collect_dirty(struct nub_kvm *k, uint32_t slot, uint64_t npages,
				      uint64_t *tmp, uint64_t *accum, struct nub_error *err);

/*
 * Whether the last exit may leave KVM work that changes registers or memory on the next KVM_RUN,
 * if that run enters at linear address (next_rip): false after EINTR, hlt, shutdown and a port
 * write (OUT) at another address. When true, nub_kvm_flush before overwriting registers.
 */
bool nub_kvm_exit_needs_completion(const struct nub_kvm *k, uint64_t next_rip);

/* One KVM_RUN of engine-owned code (the reset stub): not counted as guest work. 0 or -errno. */
int nub_kvm_run_engine_code(struct nub_kvm *k);

/*
 * Completes a pending I/O or MMIO exit without running guest code (KVM_RUN with immediate_exit):
 * KVM finishes such instructions only on re-entry, so registers are neither consistent to read
 * nor safe to overwrite before this.
 */
enum nub_status nub_kvm_flush(struct nub_kvm *k, struct nub_error *err);

/* Reads the whole vCPU state a snapshot keeps (after nub_kvm_flush). */
enum nub_status nub_kvm_get_state(struct nub_kvm *k, struct nub_vcpu_state *s,
				  struct nub_error *err);

/*
 * Reads the vCPU state the guest will see on its next entry, changing nothing: the general and
 * special registers (and events) queued in the sync area when there are (a restore's or
 * nub_kvm_set_state's), else the vCPU's own (KVM_GET_REGS/SREGS/VCPU_EVENTS: call nub_kvm_flush
 * first if the last exit may owe completion); the rest with vCPU ioctls, which the reset stub or
 * nub_kvm_set_state already loaded. *(pending) names an exception, interrupt, NMI or interrupt
 * shadow that entry would deliver or keep, else NULL.
 */
enum nub_status nub_kvm_get_next_state(struct nub_kvm *k, struct nub_vcpu_state *s,
				       const char **pending, struct nub_error *err);

/*
 * Queues (s)'s general and special registers and cleared events in the kvm_run sync area: the
 * next KVM_RUN loads them, no ioctl.
 */
void nub_kvm_queue_sync_state(struct nub_kvm *k, const struct nub_vcpu_state *s);

/* Queues cleared events (no exception, interrupt, NMI or shadow) with whatever sync registers are set. */
void nub_kvm_queue_clean_events(struct nub_kvm *k);

/*
 * Loads (s) into the vCPU: nub_kvm_queue_sync_state, then the XSAVE state (x87/SSE from (s),
 * every other component at its init value), XCR0, debug registers and MSR_KERNEL_GS_BASE (four
 * ioctls). Call nub_kvm_flush first unless nothing is pending.
 */
enum nub_status nub_kvm_set_state(struct nub_kvm *k, const struct nub_vcpu_state *s,
				  struct nub_error *err);

/* Long-mode special registers with paging at (cr3): see nub_kvm_boot. */
void nub_kvm_long_mode_sregs(struct kvm_sregs *sregs, uint64_t cr3);

/*
 * Puts the vCPU in 64-bit long mode with paging rooted at (b->cr3) (CR0 PE|MP|ET|NE|WP|AM|PG, CR4
 * PAE|OSFXSR|OSXMMEXCPT, EFER SCE|LME|LMA|NXE, flat CS 0x08 / data 0x10, empty GDT and IDT: the
 * guest loads its own) and sets rip, rsp, rdi, rflags 0x2.
 */
enum nub_status nub_kvm_boot(struct nub_kvm *k, const struct nub_kvm_boot *b,
			     struct nub_error *err);

/*
 * One KVM_RUN of guest code, counted and timed in (k)'s counters. Returns 0 or -errno (EINTR when
 * kicked or immediate_exit was set).
 */
int nub_kvm_run(struct nub_kvm *k);

/*
 * Whether a failed nub_kvm_run (its result (r) < 0) is a guest access KVM could not back with
 * host memory, which it reports as -EFAULT with KVM_EXIT_MEMORY_FAULT (Linux 6.8+,
 * KVM_CAP_MEMORY_FAULT_INFO): nub_kvm_read_exit then describes it (NUB_EXIT_MEMORY_FAULT).
 */
bool nub_kvm_run_faulted_on_memory(const struct nub_kvm *k, int r);

/*
 * Describes the exit of the last nub_kvm_run that succeeded, or failed on guest memory
 * (nub_kvm_run_faulted_on_memory), as a neutral record (port data copied out of kvm_run), for
 * the core's nub_exit_handle. No ioctl.
 */
void nub_kvm_read_exit(const struct nub_kvm *k, struct nub_exit *x);

/*
 * KVM_SET_GUEST_DEBUG (the GDB stub's breakpoints and single step), through the ioctl hook.
 * Errors: NUB_E_KVM.
 */
enum nub_status nub_kvm_set_guest_debug(struct nub_kvm *k, const struct kvm_guest_debug *d,
					struct nub_error *err);

/*
 * Delivers exception (vector), without an error code, to the guest on the next KVM_RUN
 * (KVM_SET_VCPU_EVENTS, the other events as they are): the GDB stub gives a guest its own int3
 * back after KVM_GUESTDBG_USE_SW_BP took it. Right after the exit, so KVM still knows the
 * instruction's length for a software exception. Errors: NUB_E_KVM.
 */
enum nub_status nub_kvm_inject_exception(struct nub_kvm *k, uint8_t vector, struct nub_error *err);

/* Reads RIP and CR2 (for fault and shutdown reports). */
enum nub_status nub_kvm_read_fault_regs(struct nub_kvm *k, uint64_t *rip, uint64_t *cr2,
					struct nub_error *err);

#endif
