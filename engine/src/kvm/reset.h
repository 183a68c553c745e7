/* SPDX-License-Identifier: Apache-2.0 */
/* The reset stub: engine-owned guest code that reloads the vCPU state the kvm_run sync area cannot carry. */
#ifndef NUB_RESET_H
#define NUB_RESET_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm.h"
#include "nub/nub.h"
#include "snapshot.h"

/*
 * The stub's home: the four guest-physical pages under NUB_PRIMARY_BASE, which guest page tables
 * never map (the NULL guard), in a read-only memory slot. Page 0 is its PML4, page 1 its PDPT,
 * page 2 its page directory (one 2 MiB page at 0, so linear = physical), page 3 its code and the
 * FXSAVE image it loads.
 */
#define NUB_RESET_GPA 0x0u
#define NUB_RESET_SIZE 0x4000u
#define NUB_RESET_CODE_GPA 0x3000u  /* the stub's first instruction */
#define NUB_RESET_IMAGE_GPA 0x3800u /* the FXSAVE image (16-byte aligned) */

struct nub_reset_stub {
	uint8_t *mem;     /* NUB_RESET_SIZE bytes, the host side of the read-only slot */
	uint64_t end_rip; /* where the vCPU stops (after the final hlt) when the stub ran through */
	bool xcr0;        /* the stub reloads XCR0 (the host lets guests change it) */
	bool broken;      /* KVM could not enter or emulate the stub: restore uses ioctls only */
};

/*
 * Maps the stub's pages and writes its page tables and code; with (load_xcr0) the code also
 * reloads XCR0. The image stays zero until nub_reset_stub_set_image. Errors: NUB_E_NOMEM.
 */
enum nub_status nub_reset_stub_init(struct nub_reset_stub *r, bool load_xcr0,
				    struct nub_error *err);

/* Unmaps the stub's pages (its KVM slot must already be gone); a zeroed struct is fine. */
void nub_reset_stub_free(struct nub_reset_stub *r);

/*
 * Writes (s)'s x87/SSE state as the image the stub loads. Called whenever the state the sandbox
 * resets to changes (a snapshot is taken, made from or restored), so the page's contents, which a
 * guest could map and read, depend on that snapshot alone.
 */
void nub_reset_stub_set_image(struct nub_reset_stub *r, const struct nub_vcpu_state *s);

/*
 * Resets (k) to (s) with one KVM_RUN of the stub: it loads DR0-3, DR6, the image (x87, SSE,
 * MXCSR), XCR0 when it reloads it, MSR_KERNEL_GS_BASE (swapgs) and DR7, then halts; (s)'s
 * registers and cleared events are then queued in the sync area for the next KVM_RUN.
 * Precondition: the image holds (s)'s state and the last exit needs no completion at
 * NUB_RESET_CODE_GPA (nub_kvm_exit_needs_completion). Returns false when the stub did not run
 * through (a guest-armed breakpoint or DR7.GD faults it, a kick interrupts it, KVM refuses it):
 * the vCPU state is then unknown and the caller must nub_kvm_flush and nub_kvm_set_state.
 */
bool nub_reset_stub_run(struct nub_reset_stub *r, struct nub_kvm *k,
			const struct nub_vcpu_state *s);

#endif
