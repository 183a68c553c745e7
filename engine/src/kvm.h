/* The KVM backend: VM, memory slots, CPUID, MSR filter, long-mode vCPU, run. */
#ifndef NUB_KVM_H
#define NUB_KVM_H

#include <linux/kvm.h>
#include <stdint.h>

#include "nub/nub.h"
#include "snapshot.h"

struct nub_kvm {
	int vm_fd;   /* -1 when closed */
	int vcpu_fd; /* -1 when closed */
	struct kvm_run *run;
	size_t run_size;
	/* Counters for nub_sandbox_get_stats. */
	uint64_t guest_runs, guest_run_ns; /* nub_kvm_run calls and the wall time inside them */
	uint64_t completion_runs;          /* KVM_RUNs of nub_kvm_flush */
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
enum nub_status nub_kvm_create(struct nub_kvm *k, struct nub_error *err);

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
 * Completes a pending I/O or MMIO exit without running guest code (KVM_RUN with immediate_exit):
 * KVM finishes such instructions only on re-entry, so registers are neither consistent to read
 * nor safe to overwrite before this.
 */
enum nub_status nub_kvm_flush(struct nub_kvm *k, struct nub_error *err);

/* Reads the whole vCPU state a snapshot keeps (after nub_kvm_flush). */
enum nub_status nub_kvm_get_state(struct nub_kvm *k, struct nub_vcpu_state *s, struct nub_error *err);

/*
 * Loads (s) into the vCPU: general and special registers and cleared events through the
 * kvm_run sync area (applied by the next KVM_RUN, no ioctl), then the XSAVE state (x87/SSE from
 * (s), every other component at its init value), XCR0 = x87, debug registers and
 * MSR_KERNEL_GS_BASE (four ioctls).
 */
enum nub_status nub_kvm_set_state(struct nub_kvm *k, const struct nub_vcpu_state *s,
				  struct nub_error *err);

/*
 * Puts the vCPU in 64-bit long mode with paging rooted at (b->cr3) (CR0 PE|MP|ET|NE|WP|AM|PG, CR4
 * PAE|OSFXSR|OSXMMEXCPT, EFER SCE|LME|LMA|NXE, flat CS 0x08 / data 0x10, empty GDT and IDT: the
 * guest loads its own) and sets rip, rsp, rdi, rflags 0x2.
 */
enum nub_status nub_kvm_boot(struct nub_kvm *k, const struct nub_kvm_boot *b, struct nub_error *err);

/*
 * One KVM_RUN of guest code, counted and timed in (k)'s counters. Returns 0 or -errno (EINTR when
 * kicked or immediate_exit was set).
 */
int nub_kvm_run(struct nub_kvm *k);

/* Reads RIP and CR2 (for fault and shutdown reports). */
enum nub_status nub_kvm_read_fault_regs(struct nub_kvm *k, uint64_t *rip, uint64_t *cr2,
					struct nub_error *err);

#endif
