/* SPDX-License-Identifier: Apache-2.0 */
/* The neutral exit record the backend makes of each vCPU exit, and its decoding into outcomes. */
#ifndef NUB_EXIT_H
#define NUB_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"
#include "mem.h"
#include "nub/nub.h"
#include "outb.h"

/* Why the vCPU stopped running guest code. */
enum nub_exit_kind {
	NUB_EXIT_PORT_OUT,          /* OUT/OUTS: io */
	NUB_EXIT_PORT_IN,           /* IN/INS: io (no data) */
	NUB_EXIT_HLT,               /* hlt */
	NUB_EXIT_MMIO,              /* an access to unbacked guest-physical memory: mmio */
	NUB_EXIT_MEMORY_FAULT,      /* backed for the guest, not for the host: mmio.gpa, .len */
	NUB_EXIT_SHUTDOWN,          /* triple fault */
	NUB_EXIT_FAIL_ENTRY,        /* the hypervisor could not enter the guest: hardware_reason */
	NUB_EXIT_EMULATION_FAILURE, /* the hypervisor cannot emulate the guest's instruction */
	NUB_EXIT_INTERNAL_ERROR,    /* any other hypervisor internal error: suberror */
	NUB_EXIT_UNKNOWN,           /* anything else: raw_reason */
};

/*
 * One vCPU exit, as the backend read it from the hypervisor. Only the fields of (kind) mean
 * anything; the backend zeroes the others.
 */
struct nub_exit {
	enum nub_exit_kind kind;
	uint32_t raw_reason; /* the hypervisor's own exit reason, whatever the kind */
	struct {
		uint16_t port;
		uint8_t size;   /* bytes per element: 1, 2 or 4 */
		uint32_t count; /* elements: more than 1 for string I/O */
		/*
		 * OUT: the size * count bytes written, valid until the vCPU runs again (NULL for IN).
		 * Why the backend's buffer and not a copy: the decoder reads the bytes only for ports
		 * that carry a value, so an exit that needs none (halt) never touches the page they
		 * are in (KVM's PIO page, which would add 4 KiB to every sandbox's memory).
		 */
		const uint8_t *data;
	} io;
	struct {
		uint64_t gpa;
		uint32_t len;
		bool is_write;
	} mmio;
	uint64_t hardware_reason; /* NUB_EXIT_FAIL_ENTRY */
	uint32_t suberror;        /* NUB_EXIT_INTERNAL_ERROR */
};

/* What decoding an exit may use besides the record. */
/* The frame the CPU pushed for a guest exception (abi.h: NUB_EXCEPTION_FRAME_SIZE bytes). */
struct nub_fault_frame {
	uint64_t error_code, rip, cs, rflags, rsp, ss;
};

/*
 * Reads the frame at the top of (l)'s exception stack from (m) into (f), copied out of guest
 * memory; false if that memory is not backed (f is then zeroed).
 */
bool nub_exit_fault_frame(const struct nub_mem *m, const struct nub_layout *l,
			  struct nub_fault_frame *f);

struct nub_exit_env {
	struct nub_outb_env *outb;       /* the guest-to-host port protocol's state */
	const struct nub_mem *mem;       /* guest memory: the exception frame of a fault */
	const struct nub_layout *layout; /* where the exception stack is */
	/*
	 * Reads the vCPU's RIP and CR2 (the backend's vCPU (vcpu)); called only for fault, shutdown
	 * and emulation-failure reports, which is what makes them cost a vCPU round trip.
	 */
	enum nub_status (*read_fault_regs)(void *vcpu, uint64_t *rip, uint64_t *cr2,
					   struct nub_error *err);
	void *vcpu;
};

/*
 * Decides what exit (x) means: NUB_OUTB_CONTINUE (a port write handled: resume the guest),
 * NUB_OUTB_HALT (the guest halted) or NUB_OUTB_STOP with the outcome in (err): a guest abort,
 * a guest fault (vector, RIP, CR2 and error code from the exception frame and the vCPU),
 * NUB_E_PROTOCOL (port read, string I/O, bad port traffic), NUB_E_MMIO (with err->gpa),
 * NUB_E_TRIPLE_FAULT or NUB_E_EMULATION (with err->rip), NUB_E_KVM (entry failure, internal
 * error, unknown exit).
 */
enum nub_outb_result nub_exit_handle(const struct nub_exit_env *env, const struct nub_exit *x,
				     struct nub_error *err);

#endif
