/* SPDX-License-Identifier: Apache-2.0 */
/* Exit decoding: what a vCPU exit means for the call (outcome, fault report, error); no KVM. */
#include "exit.h"

#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "error.h"
#include "nub/abi.h"

static const char *vector_name(uint8_t v)
{
	static const char *const names[] = {
		"divide error (#DE)",
		"debug (#DB)",
		"NMI",
		"breakpoint (#BP)",
		"overflow (#OF)",
		"bound range (#BR)",
		"invalid opcode (#UD)",
		"device not available (#NM)",
		"double fault (#DF)",
		"coprocessor segment overrun",
		"invalid TSS (#TS)",
		"segment not present (#NP)",
		"stack fault (#SS)",
		"general protection (#GP)",
		"page fault (#PF)",
		"reserved",
		"x87 floating point (#MF)",
		"alignment check (#AC)",
		"machine check (#MC)",
		"SIMD floating point (#XM)",
		"virtualization (#VE)",
		"control protection (#CP)",
	};
	return v < sizeof names / sizeof names[0] ? names[v] : "reserved vector";
}

bool nub_exit_fault_frame(const struct nub_mem *m, const struct nub_layout *l,
			  struct nub_fault_frame *f)
{
	uint8_t frame[NUB_EXCEPTION_FRAME_SIZE];
	uint64_t top = l->exception_stack_gpa + l->exception_stack_size;
	_Static_assert(sizeof(struct nub_fault_frame) == NUB_EXCEPTION_FRAME_SIZE, "frame layout");

	memset(f, 0, sizeof *f);
	if (nub_mem_read(m, top - NUB_EXCEPTION_FRAME_SIZE, frame, sizeof frame, NULL) != NUB_OK)
		return false;
	f->error_code = nub_le64(frame);
	f->rip = nub_le64(frame + 8);
	f->cs = nub_le64(frame + 16);
	f->rflags = nub_le64(frame + 24);
	f->rsp = nub_le64(frame + 32);
	f->ss = nub_le64(frame + 40);
	return true;
}

/*
 * Turns an exception abort into a fault report. RIP and the error code come from the frame the CPU
 * pushed at the top of the exception stack and CR2 from the vCPU, not from the guest's message.
 */
static void report_fault(const struct nub_exit_env *env, struct nub_error *err)
{
	struct nub_fault_frame f;
	uint64_t cr2 = 0, vcpu_rip;
	uint8_t vector = err->vector;
	char guest_msg[NUB_ABORT_MAX_BYTES + 1];

	/* Keep only the guest's own words: the abort message is "guest aborted with code N: <text>". */
	const char *text = strstr(err->message, ": ");
	snprintf(guest_msg, sizeof guest_msg, "%s", text ? text + 2 : "");
	nub_exit_fault_frame(env->mem, env->layout, &f);
	uint64_t rip = f.rip, code = f.error_code;
	if (env->read_fault_regs(env->vcpu, &vcpu_rip, &cr2, NULL) != NUB_OK)
		cr2 = 0;
	nub_error_set(
		err, NUB_E_GUEST_FAULT,
		"guest fault: %s, vector %u, at rip 0x%llx, cr2 0x%llx, error code 0x%llx (%s)",
		vector_name(vector), vector, (unsigned long long)rip, (unsigned long long)cr2,
		(unsigned long long)code, guest_msg);
	err->guest_code = NUB_ABORT_EXCEPTION;
	err->vector = vector;
	err->rip = rip;
	err->cr2 = cr2;
	err->error_code = code;
}

enum nub_outb_result nub_exit_handle(const struct nub_exit_env *env, const struct nub_exit *x,
				     struct nub_error *err)
{
	uint64_t rip = 0, cr2 = 0;

	switch (x->kind) {
	case NUB_EXIT_PORT_IN:
		nub_error_set(err, NUB_E_PROTOCOL, "guest read from port 0x%x", x->io.port);
		return NUB_OUTB_STOP;
	case NUB_EXIT_PORT_OUT: {
		if (x->io.count != 1) {
			nub_error_set(err, NUB_E_PROTOCOL,
				      "guest string OUT (count %u) to port 0x%x", x->io.count,
				      x->io.port);
			return NUB_OUTB_STOP;
		}
		enum nub_outb_result r = nub_outb_handle(env->outb, x->io.port, x->io.data,
							 x->io.size, err);
		if (r == NUB_OUTB_STOP && err->status == NUB_E_GUEST_ABORT &&
		    err->guest_code == NUB_ABORT_EXCEPTION)
			report_fault(env, err);
		return r;
	}
	case NUB_EXIT_HLT:
		return NUB_OUTB_HALT;
	case NUB_EXIT_MMIO:
		nub_error_set(err, NUB_E_MMIO,
			      "guest %s of %u bytes at unbacked guest-physical address 0x%llx",
			      x->mmio.is_write ? "write" : "read", x->mmio.len,
			      (unsigned long long)x->mmio.gpa);
		err->gpa = x->mmio.gpa;
		return NUB_OUTB_STOP;
	case NUB_EXIT_MEMORY_FAULT:
		/*
		 * KVM could not reach the host memory behind a guest access (KVM_RUN failed with
		 * EFAULT and said where). A guard page is PROT_NONE on the host on purpose, so a
		 * guest touching one there is a guest outcome like MMIO; anywhere else the engine's
		 * own mapping failed, which is NUB_E_KVM.
		 */
		if (nub_region_is_gap(&env->mem->primary, x->mmio.gpa) ||
		    nub_region_is_gap(&env->mem->scratch, x->mmio.gpa)) {
			nub_error_set(
				err, NUB_E_MMIO,
				"guest access of %u bytes at guest-physical address 0x%llx, a guard page",
				x->mmio.len, (unsigned long long)x->mmio.gpa);
			err->gpa = x->mmio.gpa;
		} else {
			nub_error_set(
				err, NUB_E_KVM,
				"KVM_RUN: EFAULT on %u bytes at guest-physical address 0x%llx, which the engine maps",
				x->mmio.len, (unsigned long long)x->mmio.gpa);
		}
		return NUB_OUTB_STOP;
	case NUB_EXIT_SHUTDOWN:
		env->read_fault_regs(env->vcpu, &rip, &cr2, NULL);
		nub_error_set(err, NUB_E_TRIPLE_FAULT,
			      "vCPU shut down (triple fault) at rip 0x%llx",
			      (unsigned long long)rip);
		err->rip = rip;
		return NUB_OUTB_STOP;
	case NUB_EXIT_FAIL_ENTRY:
		nub_error_set(err, NUB_E_KVM, "vCPU entry failed, hardware reason 0x%llx",
			      (unsigned long long)x->hardware_reason);
		return NUB_OUTB_STOP;
	case NUB_EXIT_EMULATION_FAILURE:
		/*
		 * Hosts that emulate CPL0 guests (kvm_pvm) cannot run some instructions, e.g. int3.
		 * The guest chose to execute it: a guest outcome, not an engine failure.
		 */
		env->read_fault_regs(env->vcpu, &rip, &cr2, NULL);
		nub_error_set(err, NUB_E_EMULATION,
			      "the hypervisor cannot emulate the guest instruction at rip 0x%llx",
			      (unsigned long long)rip);
		err->rip = rip;
		return NUB_OUTB_STOP;
	case NUB_EXIT_INTERNAL_ERROR:
		nub_error_set(err, NUB_E_KVM, "KVM internal error, suberror %u", x->suberror);
		return NUB_OUTB_STOP;
	case NUB_EXIT_UNKNOWN:
	default:
		nub_error_set(err, NUB_E_KVM, "unexpected KVM exit reason %u", x->raw_reason);
		return NUB_OUTB_STOP;
	}
}
