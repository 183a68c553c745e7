/* SPDX-License-Identifier: Apache-2.0 */
/* The reset stub: engine-owned guest code that reloads the vCPU state the kvm_run sync area cannot carry. */
#include "reset.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "error.h"
#include "nub/abi.h"
#include "nub/x86.h"

/*
 * Why a stub: the sync area carries general and special registers into KVM_RUN for free, but
 * x87/SSE, XCR0, the debug registers and MSR_KERNEL_GS_BASE each need their own vCPU ioctl, and
 * every vCPU ioctl costs about one exit round trip (vcpu_load). One KVM_RUN of this code loads them
 * all; any fault on the way shuts the vCPU down (empty IDT) and the caller falls back to ioctls.
 *
 * What it does not reload: XSAVE components beyond x87/SSE (AVX, PKRU, ...), which the ioctl path
 * puts back to their init value. A guest cannot change them: where KVM holds XCR0 to the CPUID
 * we give (upstream) they stay disabled, and where it does not (kvm_pvm) CPL0 code is emulated
 * and KVM's emulator runs neither AVX instructions nor XRSTOR (measured: both end in an emulation
 * failure). A host that ran CPL0 guests natively without holding XCR0 would break this.
 */
_Static_assert(NUB_RESET_GPA + NUB_RESET_SIZE <= NUB_PRIMARY_BASE,
	       "the stub lives in the NULL guard");
_Static_assert(NUB_RESET_IMAGE_GPA % 16 == 0, "FXRSTOR needs a 16-byte aligned image");

/* Registers the stub reads: r8-r11 DR0-3, r12 DR6, r13 DR7, r14 zero, rbx the image, edx:eax XCR0. */
static const uint8_t code_head[] = {
	0x41, 0x0f, 0x23, 0xfe, /* mov %r14,%dr7: breakpoints the guest armed go off first */
	0x41, 0x0f, 0x23, 0xc0, /* mov %r8,%dr0 */
	0x41, 0x0f, 0x23, 0xc9, /* mov %r9,%dr1 */
	0x41, 0x0f, 0x23, 0xd2, /* mov %r10,%dr2 */
	0x41, 0x0f, 0x23, 0xdb, /* mov %r11,%dr3 */
	0x41, 0x0f, 0x23, 0xf4, /* mov %r12,%dr6 */
	0x48, 0x0f, 0xae, 0x0b, /* fxrstor64 (%rbx) */
};
static const uint8_t code_xsetbv[] = {
	0x0f, 0x01, 0xd1, /* xsetbv: XCR0 = edx:eax (ecx = 0) */
};
static const uint8_t code_tail[] = {
	0x0f, 0x01, 0xf8, /* swapgs: KERNEL_GS_BASE takes GS.base, set to the snapshot's value */
	0x41, 0x0f, 0x23, 0xfd, /* mov %r13,%dr7 */
	0xf4,                   /* hlt: KVM_EXIT_HLT, as the VM has no in-kernel irqchip */
};

static void put_u64(uint8_t *mem, uint64_t gpa, uint64_t v)
{
	memcpy(mem + (gpa - NUB_RESET_GPA), &v, sizeof v);
}

enum nub_status nub_reset_stub_init(struct nub_reset_stub *r, bool load_xcr0, struct nub_error *err)
{
	memset(r, 0, sizeof *r);
	void *mem = mmap(NULL, NUB_RESET_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (mem == MAP_FAILED)
		return nub_error_set_errno(err, NUB_E_NOMEM, errno,
					   "mmap of the reset stub's %u bytes", NUB_RESET_SIZE);
	r->mem = mem;
	r->xcr0 = load_xcr0;
	/* Accessed and dirty preset: the CPU never writes the read-only tables. */
	put_u64(r->mem, NUB_RESET_GPA + 0x0000, (NUB_RESET_GPA + 0x1000) | X86_PTE_P | X86_PTE_A);
	put_u64(r->mem, NUB_RESET_GPA + 0x1000, (NUB_RESET_GPA + 0x2000) | X86_PTE_P | X86_PTE_A);
	put_u64(r->mem, NUB_RESET_GPA + 0x2000, 0 | X86_PTE_P | X86_PTE_A | X86_PTE_D | X86_PTE_PS);

	uint8_t *code = r->mem + (NUB_RESET_CODE_GPA - NUB_RESET_GPA);
	size_t n = 0;
	memcpy(code + n, code_head, sizeof code_head);
	n += sizeof code_head;
	if (load_xcr0) {
		memcpy(code + n, code_xsetbv, sizeof code_xsetbv);
		n += sizeof code_xsetbv;
	}
	memcpy(code + n, code_tail, sizeof code_tail);
	n += sizeof code_tail;
	r->end_rip = NUB_RESET_CODE_GPA + n;
	return NUB_OK;
}

void nub_reset_stub_free(struct nub_reset_stub *r)
{
	if (r->mem)
		munmap(r->mem, NUB_RESET_SIZE);
	r->mem = NULL;
}

void nub_reset_stub_set_image(struct nub_reset_stub *r, const struct nub_vcpu_state *s)
{
	nub_vcpu_fxsave_image(r->mem + (NUB_RESET_IMAGE_GPA - NUB_RESET_GPA), s);
}

/* Queues the stub's entry state: its own paging and flat segments, inputs in registers. */
static void queue_stub_entry(const struct nub_reset_stub *r, struct nub_kvm *k,
			     const struct nub_vcpu_state *s)
{
	struct kvm_regs *regs = &k->run->s.regs.regs;
	struct kvm_sregs *sr = &k->run->s.regs.sregs;
	memset(regs, 0, sizeof *regs);
	regs->r8 = s->dr[0];
	regs->r9 = s->dr[1];
	regs->r10 = s->dr[2];
	regs->r11 = s->dr[3];
	regs->r12 = s->dr6;
	regs->r13 = s->dr7;
	regs->rbx = NUB_RESET_IMAGE_GPA;
	regs->rax = (uint32_t)s->xcr0;
	regs->rdx = s->xcr0 >> 32;
	regs->rip = NUB_RESET_CODE_GPA;
	regs->rflags = X86_RFLAGS_FIXED1; /* TF clear: no single-step trap inside the stub */
	nub_kvm_long_mode_sregs(sr, NUB_RESET_GPA);
	/* xsetbv needs OSXSAVE; the probe showed this host accepts it. */
	if (r->xcr0)
		sr->cr4 |= X86_CR4_OSXSAVE;
	sr->gs.base = s->kernel_gs_base;
	/* The snapshot's APIC base and TPR, so the stub's entry changes neither. */
	sr->apic_base = s->apic_base;
	sr->cr8 = s->cr8;
	nub_kvm_queue_clean_events(k);
}

bool nub_reset_stub_run(struct nub_reset_stub *r, struct nub_kvm *k, const struct nub_vcpu_state *s)
{
	if (r->broken)
		return false;
	queue_stub_entry(r, k, s);
	int rc = nub_kvm_run_engine_code(k);
	const struct kvm_run *run = k->run;
	if (rc == 0 && run->exit_reason == KVM_EXIT_HLT && run->s.regs.regs.rip == r->end_rip) {
		nub_kvm_queue_sync_state(k, s);
		return true;
	}
	/*
	 * A shutdown is the guest's doing (breakpoints, DR7.GD) and a kick is transient; KVM refusing
	 * the entry state or failing to emulate the stub would repeat forever, so stop trying.
	 */
	bool kicked = rc == -EINTR || rc == -EAGAIN;
	bool shutdown = rc == 0 && run->exit_reason == KVM_EXIT_SHUTDOWN;
	if (!kicked && !shutdown)
		r->broken = true;
	return false;
}
