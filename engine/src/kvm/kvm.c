/* SPDX-License-Identifier: Apache-2.0 */
/* The KVM backend: VM, memory slots, CPUID, MSR filter, long-mode vCPU, run. */
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "nub/x86.h"

#define CPUID_MAX_ENTRIES 256

const char *nub_ioctl_name(unsigned long request)
{
	static const struct {
		unsigned long request;
		const char *name;
	} names[] = {
#define N(r) { r, #r }
		N(KVM_GET_API_VERSION),
		N(KVM_CHECK_EXTENSION),
		N(KVM_CREATE_VM),
		N(KVM_GET_VCPU_MMAP_SIZE),
		N(KVM_X86_SET_MSR_FILTER),
		N(KVM_ENABLE_CAP),
		N(KVM_CREATE_VCPU),
		N(KVM_SET_CPUID2),
		N(KVM_SET_USER_MEMORY_REGION),
		N(KVM_SET_SREGS),
		N(KVM_SET_REGS),
		N(KVM_GET_SREGS),
		N(KVM_GET_REGS),
		N(KVM_RUN),
		N(KVM_GET_DIRTY_LOG),
		N(KVM_CLEAR_DIRTY_LOG),
		N(KVM_GET_XSAVE),
		N(KVM_SET_XSAVE),
		N(KVM_GET_DEBUGREGS),
		N(KVM_SET_DEBUGREGS),
		N(KVM_GET_MSRS),
		N(KVM_SET_MSRS),
		N(KVM_GET_XCRS),
		N(KVM_SET_XCRS),
		N(KVM_GET_SUPPORTED_CPUID),
		N(KVM_SET_GUEST_DEBUG),
		N(KVM_TRANSLATE),
#undef N
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].request == request)
			return names[i].name;
	return "unknown ioctl";
}

bool nub_kvm_available(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* One ioctl of (k), through its hook (config.ioctl) when it has one. */
static int kvm_ioctl(const struct nub_kvm *k, int fd, unsigned long req, void *arg)
{
	return k->hook.ioctl ? k->hook.ioctl(k->hook.ctx, fd, req, arg) : ioctl(fd, req, arg);
}

/*
 * kvm_ioctl, retrying EINTR: a signal (the engine's own kick, say) may interrupt any of them.
 * Bounded, so that a hook that always fails with EINTR cannot hang the caller.
 */
static int xioctl(const struct nub_kvm *k, int fd, unsigned long req, void *arg)
{
	int r, tries = 0;
	do
		r = kvm_ioctl(k, fd, req, arg);
	while (r < 0 && errno == EINTR && ++tries < 100);
	return r;
}

/*
 * Why: a guest must not see (or try to use) virtualization extensions, shadow stacks or x2APIC we
 * do not emulate for it, and its page tables must respect the 36-bit guest-physical space. XSAVE
 * (with AVX, which needs it), PKU and LA57 are hidden too: with them a CPL0 guest could change
 * XCR0 or PKRU, state that restore does not reset. KVM derives the XCR0 values a guest may set
 * from leaf 0xD, so that leaf is emptied as well (kvm_pvm ignores that: see probe_xcr0). HLE, RTM
 * and bus-lock detection are hidden so that DR6 bits 11 and 16 stay fixed at one.
 */
static void filter_cpuid(struct kvm_cpuid2 *c)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 1: /* VMX, x2APIC, XSAVE, OSXSAVE, AVX */
			e->ecx &= ~((1u << 5) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28));
			break;
		case 7:
			if (e->index != 0)
				break;
			e->ebx &= ~((1u << 4) | (1u << 11)); /* HLE, RTM */
			e->ebx &= ~((1u << 5) | (1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) |
				    (1u << 27) | (1u << 28) | (1u << 30) |
				    (1u << 31)); /* AVX2, AVX-512 */
			e->ecx &= ~((1u << 3) | (1u << 4) | (1u << 7) |
				    (1u << 16)); /* PKU, OSPKE, CET SS, LA57 */
			e->ecx &= ~(1u << 24);   /* bus-lock detection */
			e->edx &= ~(1u << 20);   /* CET IBT */
			break;
		case 0xd: /* no XSAVE state: XCR0 stays at its reset value */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0x80000001: /* SVM */
			e->ecx &= ~(1u << 2);
			break;
		case 0x80000008:
			e->eax = (e->eax & ~0xffu) | NUB_GPA_BITS;
			break;
		default:
			break;
		}
	}
}

/*
 * The filtered CPUID table, computed once per process: KVM_GET_SUPPORTED_CPUID costs more than
 * creating the VM itself on hosts like ours and its answer never changes. Written once under
 * pthread_once and read-only afterwards, so it is not mutable shared state.
 */
static union {
	struct kvm_cpuid2 head; /* its entries[] run into the bytes below */
	uint8_t bytes[sizeof(struct kvm_cpuid2) +
		      CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2)];
} cpuid_cache;
static int cpuid_cache_errno;
static pthread_once_t cpuid_once = PTHREAD_ONCE_INIT;

static void load_cpuid(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		cpuid_cache_errno = errno;
		return;
	}
	cpuid_cache.head.nent = CPUID_MAX_ENTRIES;
	/* Process-wide and cached: not through a sandbox's hook (nub.h, struct nub_ioctl_hook). */
	int r;
	do
		r = ioctl(fd, KVM_GET_SUPPORTED_CPUID, &cpuid_cache.head);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		cpuid_cache_errno = errno;
	else
		filter_cpuid(&cpuid_cache.head);
	close(fd);
}

static enum nub_status set_cpuid(const struct nub_kvm *k, struct nub_error *err)
{
	pthread_once(&cpuid_once, load_cpuid);
	if (cpuid_cache_errno)
		return nub_error_set_errno(err, NUB_E_KVM, cpuid_cache_errno,
					   "KVM_GET_SUPPORTED_CPUID");
	if (xioctl(k, k->vcpu_fd, KVM_SET_CPUID2, &cpuid_cache.head) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_SET_CPUID2");
	return NUB_OK;
}

/* Whether KVM lets guests of this process change XCR0: -1 not probed yet, else 0 or 1. */
static atomic_int xcr0_settable_cache = -1;

/*
 * Upstream KVM holds XCR0 to the XSAVE features in the guest's CPUID, which hides them all, so
 * XCR0 stays x87 and restore need not reload it. Some hosts (kvm_pvm) do not: there the guest can
 * xsetbv any value, and the reset stub must reload XCR0. One KVM_SET_XCRS with x87|SSE tells
 * which; it runs once per process, on the first vCPU, which is put back to x87.
 */
static enum nub_status probe_xcr0(struct nub_kvm *k, struct nub_error *err)
{
	int cached = atomic_load(&xcr0_settable_cache);
	if (cached < 0) {
		struct kvm_xcrs x = { .nr_xcrs = 1 };
		x.xcrs[0] = (struct kvm_xcr){ .xcr = 0, .value = X86_XCR0_X87 | X86_XCR0_SSE };
		/* Once per process and cached: not through the hook (nub.h, struct nub_ioctl_hook). */
		cached = ioctl(k->vcpu_fd, KVM_SET_XCRS, &x) == 0;
		x.xcrs[0].value = NUB_XCR0_X87;
		if (cached && ioctl(k->vcpu_fd, KVM_SET_XCRS, &x) < 0)
			return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_SET_XCRS");
		atomic_store(&xcr0_settable_cache, cached);
	}
	k->xcr0_settable = cached;
	return NUB_OK;
}

/*
 * Why default deny: MSRs are host-shared CPU state the guest has no business touching; KVM then
 * injects #GP for every guest rdmsr/wrmsr outside the (empty) allow list. KVM needs at least one
 * range for the filter to be active, so one empty range is installed.
 */
static enum nub_status set_msr_filter(const struct nub_kvm *k, struct nub_error *err)
{
	static const uint8_t deny_bitmap[1] = { 0 };
	struct kvm_msr_filter f;
	memset(&f, 0, sizeof f);
	f.flags = KVM_MSR_FILTER_DEFAULT_DENY;
	f.ranges[0].flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
	f.ranges[0].nmsrs = 1;
	f.ranges[0].base = 0;
	f.ranges[0].bitmap = (uint8_t *)(uintptr_t)deny_bitmap;
	if (xioctl(k, k->vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_X86_SET_MSR_FILTER");
	return NUB_OK;
}

/*
 * Why manual protection: GET_DIRTY_LOG then only reports, and CLEAR_DIRTY_LOG re-arms exactly the
 * pages restore copied back, instead of write-protecting the whole slot on every read.
 */
static enum nub_status enable_manual_dirty_log(const struct nub_kvm *k, struct nub_error *err)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
		.args = { KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE },
	};
	if (xioctl(k, k->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno,
					   "KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)");
	return NUB_OK;
}

static enum nub_status check_caps(const struct nub_kvm *k, int kvm_fd, struct nub_error *err)
{
	static const struct {
		int cap;
		const char *name;
	} need[] = {
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_SYNC_REGS, "KVM_CAP_SYNC_REGS" },
		{ KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2" },
	};
	int v = xioctl(k, kvm_fd, KVM_GET_API_VERSION, NULL);
	if (v < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_API_VERSION");
	if (v != KVM_API_VERSION)
		return nub_error_set(err, NUB_E_KVM, "KVM_GET_API_VERSION returned %d, need %d", v,
				     KVM_API_VERSION);
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		int r = xioctl(k, kvm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)need[i].cap);
		if (r < 0)
			return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_CHECK_EXTENSION %s",
						   need[i].name);
		if (r == 0)
			return nub_error_set(err, NUB_E_KVM, "KVM lacks %s", need[i].name);
	}
	return NUB_OK;
}

enum nub_status nub_kvm_create(struct nub_kvm *k, const struct nub_ioctl_hook *hook,
			       struct nub_error *err)
{
	enum nub_status st;

	k->hook = hook ? *hook : (struct nub_ioctl_hook){ 0 };

	k->vm_fd = -1;
	k->vcpu_fd = -1;
	k->run = NULL;
	k->run_size = 0;
	k->guest_runs = k->guest_run_ns = k->completion_runs = 0;
	k->exit_owes = NUB_KVM_OWES_UNKNOWN;
	k->port_write_rip = 0;
	k->xcr0_settable = false;

	int kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "open /dev/kvm");
	st = check_caps(k, kvm_fd, err);
	if (st != NUB_OK)
		goto err_close_kvm;
	k->vm_fd = xioctl(k, kvm_fd, KVM_CREATE_VM, NULL);
	if (k->vm_fd < 0) {
		st = nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_CREATE_VM");
		goto err_close_kvm;
	}
	st = set_msr_filter(k, err);
	if (st == NUB_OK)
		st = enable_manual_dirty_log(k, err);
	if (st != NUB_OK)
		goto err_destroy;
	k->vcpu_fd = xioctl(k, k->vm_fd, KVM_CREATE_VCPU, NULL);
	if (k->vcpu_fd < 0) {
		st = nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_CREATE_VCPU");
		goto err_destroy;
	}
	int run_size = xioctl(k, kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if (run_size < (int)sizeof(struct kvm_run)) {
		st = nub_error_set_errno(err, NUB_E_KVM, errno,
					 "KVM_GET_VCPU_MMAP_SIZE returned %d", run_size);
		goto err_destroy;
	}
	void *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu_fd, 0);
	if (run == MAP_FAILED) {
		st = nub_error_set_errno(err, NUB_E_KVM, errno, "mmap of kvm_run");
		goto err_destroy;
	}
	k->run = run;
	k->run_size = (size_t)run_size;
	st = set_cpuid(k, err);
	if (st != NUB_OK)
		goto err_destroy;
	/* Every exit reports registers in the sync area: restore reads where a port write happened. */
	k->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	st = probe_xcr0(k, err);
	if (st != NUB_OK)
		goto err_destroy;
	/* The VM and vCPU fds keep KVM alive; the system fd is not needed any more. */
	close(kvm_fd);
	return NUB_OK;

err_destroy:
	nub_kvm_destroy(k);
err_close_kvm:
	close(kvm_fd);
	return st;
}

void nub_kvm_destroy(struct nub_kvm *k)
{
	if (k->run)
		munmap(k->run, k->run_size);
	if (k->vcpu_fd >= 0)
		close(k->vcpu_fd);
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	k->run = NULL;
	k->run_size = 0;
	k->vcpu_fd = -1;
	k->vm_fd = -1;
}

enum nub_status nub_kvm_map(struct nub_kvm *k, uint32_t slot, uint64_t gpa, uint64_t size,
			    void *host, uint32_t flags, struct nub_error *err)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = ((flags & NUB_KVM_LOG_DIRTY) ? KVM_MEM_LOG_DIRTY_PAGES : 0) |
			 ((flags & NUB_KVM_READONLY) ? KVM_MEM_READONLY : 0),
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	if (xioctl(k, k->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return nub_error_set_errno(
			err, NUB_E_KVM, errno,
			"KVM_SET_USER_MEMORY_REGION slot %u gpa 0x%llx size 0x%llx", slot,
			(unsigned long long)gpa, (unsigned long long)size);
	return NUB_OK;
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type, bool code)
{
	memset(s, 0, sizeof *s);
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = selector;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;   /* 64-bit code segment */
	s->db = !code; /* L and D/B must not both be set */
}

void nub_kvm_long_mode_sregs(struct kvm_sregs *sregs, uint64_t cr3)
{
	/* Built from scratch (no KVM_GET_SREGS round trip): every field is set here. */
	memset(sregs, 0, sizeof *sregs);
	/* A present, busy 64-bit TSS and an LDT, as after reset: VM entry checks demand them. */
	sregs->tr.limit = 0xffff;
	sregs->tr.type = X86_SEG_TYPE_TSS64_BUSY;
	sregs->tr.present = 1;
	sregs->ldt.limit = 0xffff;
	sregs->ldt.type = X86_SEG_TYPE_LDT;
	sregs->ldt.present = 1;
	/* The reset value: enabled, bootstrap processor. */
	sregs->apic_base = X86_APIC_BASE_ADDR_DEFAULT | X86_APIC_BASE_EN | X86_APIC_BASE_BSP;
	flat_segment(&sregs->cs, X86_SEL_CODE64, X86_SEG_TYPE_CODE_RX_ACCESSED, true);
	flat_segment(&sregs->ds, X86_SEL_DATA, X86_SEG_TYPE_DATA_RW_ACCESSED, false);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	/* Empty GDT and IDT (base and limit 0): any exception before the guest loads its own shuts the vCPU down. */
	sregs->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_AM |
		     X86_CR0_PG;
	sregs->cr3 = cr3;
	sregs->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	sregs->efer = X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
}

enum nub_status nub_kvm_boot(struct nub_kvm *k, const struct nub_kvm_boot *b, struct nub_error *err)
{
	struct kvm_sregs sregs;
	nub_kvm_long_mode_sregs(&sregs, b->cr3);
	if (xioctl(k, k->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_SET_SREGS");

	struct kvm_regs regs;
	memset(&regs, 0, sizeof regs);
	regs.rip = b->rip;
	regs.rsp = b->rsp;
	regs.rdi = b->rdi;
	regs.rflags = X86_RFLAGS_FIXED1; /* bit 1 is reserved-one; IF clear: no interrupts */
	if (xioctl(k, k->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_SET_REGS");
	return NUB_OK;
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The linear address of the instruction pointer the last exit left in the sync area. */
static uint64_t exit_linear_rip(const struct kvm_run *run)
{
	const struct kvm_sregs *sr = &run->s.regs.sregs;
	uint64_t rip = run->s.regs.regs.rip;
	bool long64 = (sr->efer & X86_EFER_LMA) && sr->cs.l;
	return long64 ? rip : (uint32_t)(sr->cs.base + rip);
}

/*
 * What KVM still owes after a KVM_RUN that returned (r). KVM does that work at the start of the
 * next KVM_RUN, after loading the sync area: port reads, MMIO and string I/O finish their
 * instruction then, writing registers or memory. A port write owes nothing where KVM emulated it
 * (RIP already past it, as on kvm_pvm); on the VMX/SVM fast path KVM skips the OUT then, but only
 * if RIP still equals the OUT's linear address (complete_fast_pio_out checks it). A run that
 * ended in EINTR finished any earlier completion first; hlt and shutdown exits leave none.
 */
static enum nub_kvm_owes exit_owes(const struct kvm_run *run, int r)
{
	if (r == -EINTR)
		return NUB_KVM_OWES_NOTHING;
	if (r != 0)
		return NUB_KVM_OWES_UNKNOWN;
	switch (run->exit_reason) {
	case KVM_EXIT_HLT:
	case KVM_EXIT_SHUTDOWN:
		return NUB_KVM_OWES_NOTHING;
	case KVM_EXIT_IO:
		if (run->io.direction == KVM_EXIT_IO_OUT)
			return NUB_KVM_OWES_SKIP_AT;
		return NUB_KVM_OWES_UNKNOWN;
	default:
		return NUB_KVM_OWES_UNKNOWN;
	}
}

/* Notes what KVM owes the exit of a KVM_RUN that returned (r). */
static void record_exit(struct nub_kvm *k, int r)
{
	k->exit_owes = exit_owes(k->run, r);
	if (k->exit_owes == NUB_KVM_OWES_SKIP_AT)
		k->port_write_rip = exit_linear_rip(k->run);
}

int nub_kvm_run(struct nub_kvm *k)
{
	uint64_t t0 = now_ns();
	/*
	 * KVM sets exit_reason on the failures it explains (KVM_EXIT_MEMORY_FAULT with EFAULT) and
	 * leaves it alone on others: cleared, a failure never reads as the last exit's reason.
	 */
	k->run->exit_reason = KVM_EXIT_UNKNOWN;
	/* No EINTR retry here: EINTR is how a kick or a time limit reaches the run loop. */
	int r = kvm_ioctl(k, k->vcpu_fd, KVM_RUN, NULL) < 0 ? -errno : 0;
	k->guest_run_ns += now_ns() - t0;
	k->guest_runs++;
	record_exit(k, r);
	return r;
}

bool nub_kvm_run_faulted_on_memory(const struct nub_kvm *k, int r)
{
	return r == -EFAULT && k->run->exit_reason == NUB_KVM_EXIT_MEMORY_FAULT;
}

void nub_kvm_read_exit(const struct nub_kvm *k, struct nub_exit *x)
{
	const struct kvm_run *run = k->run;

	*x = (struct nub_exit){ .kind = NUB_EXIT_UNKNOWN, .raw_reason = run->exit_reason };
	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		bool out = run->io.direction == KVM_EXIT_IO_OUT;
		x->kind = out ? NUB_EXIT_PORT_OUT : NUB_EXIT_PORT_IN;
		x->io.port = run->io.port;
		x->io.size = run->io.size;
		x->io.count = run->io.count;
		if (out) /* the bytes sit in the kvm_run mapping, at data_offset */
			x->io.data = (const uint8_t *)run + run->io.data_offset;
		break;
	}
	case KVM_EXIT_HLT:
		x->kind = NUB_EXIT_HLT;
		break;
	case KVM_EXIT_MMIO:
		x->kind = NUB_EXIT_MMIO;
		x->mmio.gpa = run->mmio.phys_addr;
		x->mmio.len = run->mmio.len;
		x->mmio.is_write = run->mmio.is_write;
		break;
	case KVM_EXIT_SHUTDOWN:
		x->kind = NUB_EXIT_SHUTDOWN;
		break;
	case NUB_KVM_EXIT_MEMORY_FAULT: {
		struct nub_kvm_memory_fault f;
		/* Older headers lack the union member: it sits at the start of the union, as all do. */
		memcpy(&f, &run->hw, sizeof f);
		x->kind = NUB_EXIT_MEMORY_FAULT;
		x->mmio.gpa = f.gpa;
		x->mmio.len = f.size > UINT32_MAX ? UINT32_MAX : (uint32_t)f.size;
		break;
	}
	case KVM_EXIT_FAIL_ENTRY:
		x->kind = NUB_EXIT_FAIL_ENTRY;
		x->hardware_reason = run->fail_entry.hardware_entry_failure_reason;
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		x->kind = run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
				  ? NUB_EXIT_EMULATION_FAILURE
				  : NUB_EXIT_INTERNAL_ERROR;
		x->suberror = run->internal.suberror;
		break;
	default:
		break;
	}
}

bool nub_kvm_exit_needs_completion(const struct nub_kvm *k, uint64_t next_rip)
{
	switch (k->exit_owes) {
	case NUB_KVM_OWES_NOTHING:
		return false;
	case NUB_KVM_OWES_SKIP_AT:
		return k->port_write_rip == next_rip;
	default:
		return true;
	}
}

enum nub_status nub_kvm_inject_exception(struct nub_kvm *k, uint8_t vector, struct nub_error *err)
{
	struct kvm_vcpu_events ev;
	memset(&ev, 0, sizeof ev);
	if (xioctl(k, k->vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_VCPU_EVENTS");
	ev.exception.injected = 1;
	ev.exception.nr = vector;
	ev.exception.has_error_code = 0;
	ev.exception.error_code = 0;
	ev.flags = 0; /* no KVM_VCPUEVENT_VALID_*: NMI, SIPI, shadow and SMM stay as they are */
	if (xioctl(k, k->vcpu_fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_SET_VCPU_EVENTS");
	return NUB_OK;
}

enum nub_status nub_kvm_set_guest_debug(struct nub_kvm *k, const struct kvm_guest_debug *d,
					struct nub_error *err)
{
	/* The ioctl takes a non-const pointer but only reads it. */
	if (xioctl(k, k->vcpu_fd, KVM_SET_GUEST_DEBUG, (void *)d) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_SET_GUEST_DEBUG");
	return NUB_OK;
}

int nub_kvm_run_engine_code(struct nub_kvm *k)
{
	/* A kick left over from the last call (its time limit, a kill) is not meant for this run. */
	k->run->immediate_exit = 0;
	int r = kvm_ioctl(k, k->vcpu_fd, KVM_RUN, NULL) < 0 ? -errno : 0;
	record_exit(k, r);
	return r;
}

enum nub_status nub_kvm_read_fault_regs(struct nub_kvm *k, uint64_t *rip, uint64_t *cr2,
					struct nub_error *err)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	if (xioctl(k, k->vcpu_fd, KVM_GET_REGS, &regs) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_REGS");
	if (xioctl(k, k->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_SREGS");
	*rip = regs.rip;
	*cr2 = sregs.cr2;
	return NUB_OK;
}

enum nub_status nub_kvm_collect_dirty(struct nub_kvm *k, uint32_t slot, uint64_t npages,
				      uint64_t *tmp, uint64_t *accum, struct nub_error *err)
{
	size_t words = (size_t)((npages + 63) / 64);
	bool any = false;
	memset(tmp, 0, words * sizeof *tmp);
	struct kvm_dirty_log get = { .slot = slot, .dirty_bitmap = tmp };
	if (xioctl(k, k->vm_fd, KVM_GET_DIRTY_LOG, &get) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_DIRTY_LOG slot %u",
					   slot);
	for (size_t i = 0; i < words; i++) {
		accum[i] |= tmp[i];
		any |= tmp[i] != 0;
	}
	if (!any)
		return NUB_OK;
	struct kvm_clear_dirty_log clr = {
		.slot = slot,
		.num_pages = (uint32_t)npages,
		.first_page = 0,
		.dirty_bitmap = tmp,
	};
	if (xioctl(k, k->vm_fd, KVM_CLEAR_DIRTY_LOG, &clr) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_CLEAR_DIRTY_LOG slot %u",
					   slot);
	return NUB_OK;
}

/* Bound on chained exits while flushing: a rep string instruction over unbacked memory exits once per element. */
#define FLUSH_MAX_EXITS 65536

enum nub_status nub_kvm_flush(struct nub_kvm *k, struct nub_error *err)
{
	struct kvm_run *run = k->run;
	enum nub_status st = NUB_OK;
	int i;

	k->exit_owes = NUB_KVM_OWES_UNKNOWN;
	run->immediate_exit = 1;
	for (i = 0; i < FLUSH_MAX_EXITS; i++) {
		k->completion_runs++;
		int r = kvm_ioctl(k, k->vcpu_fd, KVM_RUN, NULL);
		if (r < 0 && errno == EINTR)
			break; /* everything pending is complete */
		if (r < 0 && errno == EAGAIN)
			continue; /* as the run loop does: KVM asks for the same KVM_RUN again */
		if (r < 0) {
			st = nub_error_set_errno(err, NUB_E_KVM, errno,
						 "KVM_RUN completing a pending exit");
			break;
		}
		/*
		 * Completing one element of a string instruction can exit for the next one; feed reads
		 * zeros (the result is discarded: restore overwrites the registers) and go on.
		 */
		if (run->exit_reason == KVM_EXIT_MMIO) {
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0, sizeof run->mmio.data);
		} else if (run->exit_reason != KVM_EXIT_IO) {
			st = nub_error_set(err, NUB_E_KVM,
					   "KVM exit reason %u while completing a pending exit",
					   run->exit_reason);
			break;
		}
	}
	run->immediate_exit = 0;
	if (st == NUB_OK && i == FLUSH_MAX_EXITS)
		st = nub_error_set(err, NUB_E_KVM,
				   "a pending exit did not complete within %d exits",
				   FLUSH_MAX_EXITS);
	return st;
}

/*
 * The snapshot keeps struct kvm_fpu as it is: the fpu blob's layout (NUB_FPU_* in snapshot.h),
 * which the core's snapshot format relies on, must be the kernel's.
 */
_Static_assert(sizeof(struct kvm_fpu) == sizeof(((struct nub_vcpu_state *)0)->fpu),
	       "the snapshot keeps struct kvm_fpu as it is");
_Static_assert(sizeof(struct kvm_fpu) == NUB_FPU_SIZE, "struct kvm_fpu size");
_Static_assert(offsetof(struct kvm_fpu, fpr) == NUB_FPU_FPR &&
		       offsetof(struct kvm_fpu, fcw) == NUB_FPU_FCW &&
		       offsetof(struct kvm_fpu, fsw) == NUB_FPU_FSW &&
		       offsetof(struct kvm_fpu, ftwx) == NUB_FPU_FTWX &&
		       offsetof(struct kvm_fpu, last_opcode) == NUB_FPU_LAST_OPCODE &&
		       offsetof(struct kvm_fpu, last_ip) == NUB_FPU_LAST_IP &&
		       offsetof(struct kvm_fpu, last_dp) == NUB_FPU_LAST_DP &&
		       offsetof(struct kvm_fpu, xmm) == NUB_FPU_XMM &&
		       offsetof(struct kvm_fpu, mxcsr) == NUB_FPU_MXCSR,
	       "struct kvm_fpu layout");

static void seg_out(struct nub_segment *d, const struct kvm_segment *s)
{
	*d = (struct nub_segment){
		s->base, s->limit, s->selector, s->type, s->present, s->dpl,
		s->db,   s->s,     s->l,        s->g,    s->avl,     s->unusable
	};
}

static void seg_in(struct kvm_segment *d, const struct nub_segment *s)
{
	memset(d, 0, sizeof *d);
	d->base = s->base;
	d->limit = s->limit;
	d->selector = s->selector;
	d->type = s->type;
	d->present = s->present;
	d->dpl = s->dpl;
	d->db = s->db;
	d->s = s->s;
	d->l = s->l;
	d->g = s->g;
	d->avl = s->avl;
	d->unusable = s->unusable;
}

/* struct kvm_msrs with room for exactly one entry. */
union msr_one {
	struct kvm_msrs head;
	uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
};

static void msr_one_init(union msr_one *m, uint64_t data)
{
	memset(m, 0, sizeof *m);
	m->head.nmsrs = 1;
	m->head.entries[0].index = X86_MSR_KERNEL_GS_BASE;
	m->head.entries[0].data = data;
}

/* The general and special registers of (r, sr) into (s). */
static void regs_out(struct nub_vcpu_state *s, const struct kvm_regs *r, const struct kvm_sregs *sr)
{
	const uint64_t gpr[16] = { r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rsp, r->rbp,
				   r->r8,  r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };
	memcpy(s->gpr, gpr, sizeof gpr);
	s->rip = r->rip;
	s->rflags = r->rflags;
	seg_out(&s->cs, &sr->cs);
	seg_out(&s->ds, &sr->ds);
	seg_out(&s->es, &sr->es);
	seg_out(&s->fs, &sr->fs);
	seg_out(&s->gs, &sr->gs);
	seg_out(&s->ss, &sr->ss);
	seg_out(&s->tr, &sr->tr);
	seg_out(&s->ldt, &sr->ldt);
	s->gdt_base = sr->gdt.base;
	s->gdt_limit = sr->gdt.limit;
	s->idt_base = sr->idt.base;
	s->idt_limit = sr->idt.limit;
	s->cr0 = sr->cr0;
	s->cr2 = sr->cr2;
	s->cr3 = sr->cr3;
	s->cr4 = sr->cr4;
	s->cr8 = sr->cr8;
	s->efer = sr->efer;
	s->apic_base = sr->apic_base;
}

/* The state the sync area cannot carry: x87/SSE, debug registers, KERNEL_GS_BASE, XCR0. */
static enum nub_status get_ioctl_state(struct nub_kvm *k, struct nub_vcpu_state *s,
				       struct nub_error *err)
{
	struct kvm_xsave xsave;
	struct kvm_debugregs dbg;
	union msr_one msr;

	msr_one_init(&msr, 0);
	/* Why not KVM_GET_FPU: it never reports MXCSR (kvm_fpu.mxcsr comes back 0). */
	if (xioctl(k, k->vcpu_fd, KVM_GET_XSAVE, &xsave) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_XSAVE");
	if (xioctl(k, k->vcpu_fd, KVM_GET_DEBUGREGS, &dbg) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_DEBUGREGS");
	if (xioctl(k, k->vcpu_fd, KVM_GET_MSRS, &msr) != 1)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_MSRS(KERNEL_GS_BASE)");
	struct kvm_xcrs xcrs;
	memset(&xcrs, 0, sizeof xcrs);
	if (xioctl(k, k->vcpu_fd, KVM_GET_XCRS, &xcrs) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_XCRS");
	s->xcr0 = NUB_XCR0_X87;
	for (uint32_t i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++)
		if (xcrs.xcrs[i].xcr == 0)
			s->xcr0 = xcrs.xcrs[i].value;
	nub_vcpu_fpu_from_fxsave(s, (const uint8_t *)xsave.region);
	memcpy(s->dr, dbg.db, sizeof s->dr);
	s->dr6 = dbg.dr6;
	s->dr7 = dbg.dr7;
	s->kernel_gs_base = msr.head.entries[0].data;
	return NUB_OK;
}

enum nub_status nub_kvm_get_state(struct nub_kvm *k, struct nub_vcpu_state *s,
				  struct nub_error *err)
{
	struct kvm_regs r;
	struct kvm_sregs sr;

	memset(s, 0, sizeof *s);
	if (xioctl(k, k->vcpu_fd, KVM_GET_REGS, &r) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_REGS");
	if (xioctl(k, k->vcpu_fd, KVM_GET_SREGS, &sr) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_SREGS");
	regs_out(s, &r, &sr);
	return get_ioctl_state(k, s, err);
}

/* Whether (e) has an exception, interrupt or NMI in flight, or an interrupt shadow: its name. */
static const char *pending_event(const struct kvm_vcpu_events *e)
{
	if (e->exception.injected || e->exception.pending)
		return "an exception";
	if (e->interrupt.injected)
		return "an interrupt";
	if (e->nmi.injected || e->nmi.pending)
		return "an NMI";
	if (e->interrupt.shadow)
		return "an interrupt shadow";
	return NULL;
}

enum nub_status nub_kvm_get_next_state(struct nub_kvm *k, struct nub_vcpu_state *s,
				       const char **pending, struct nub_error *err)
{
	const uint64_t queued = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	struct kvm_vcpu_events ev;

	*pending = NULL;
	if ((k->run->kvm_dirty_regs & queued) != queued) {
		enum nub_status st = nub_kvm_get_state(k, s, err);
		if (st != NUB_OK)
			return st;
		if (xioctl(k, k->vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
			return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_VCPU_EVENTS");
		*pending = pending_event(&ev);
		return NUB_OK;
	}
	/* Queued: the sync area is what the next KVM_RUN loads, whatever the vCPU holds now. */
	memset(s, 0, sizeof *s);
	regs_out(s, &k->run->s.regs.regs, &k->run->s.regs.sregs);
	if (k->run->kvm_dirty_regs & KVM_SYNC_X86_EVENTS)
		*pending = pending_event(&k->run->s.regs.events);
	return get_ioctl_state(k, s, err);
}

void nub_kvm_queue_sync_state(struct nub_kvm *k, const struct nub_vcpu_state *s)
{
	struct kvm_sync_regs *sync = &k->run->s.regs;
	struct kvm_regs *r = &sync->regs;
	struct kvm_sregs *sr = &sync->sregs;

	memset(r, 0, sizeof *r);
	r->rax = s->gpr[0];
	r->rbx = s->gpr[1];
	r->rcx = s->gpr[2];
	r->rdx = s->gpr[3];
	r->rsi = s->gpr[4];
	r->rdi = s->gpr[5];
	r->rsp = s->gpr[6];
	r->rbp = s->gpr[7];
	r->r8 = s->gpr[8];
	r->r9 = s->gpr[9];
	r->r10 = s->gpr[10];
	r->r11 = s->gpr[11];
	r->r12 = s->gpr[12];
	r->r13 = s->gpr[13];
	r->r14 = s->gpr[14];
	r->r15 = s->gpr[15];
	r->rip = s->rip;
	r->rflags = s->rflags;
	memset(sr, 0, sizeof *sr);
	seg_in(&sr->cs, &s->cs);
	seg_in(&sr->ds, &s->ds);
	seg_in(&sr->es, &s->es);
	seg_in(&sr->fs, &s->fs);
	seg_in(&sr->gs, &s->gs);
	seg_in(&sr->ss, &s->ss);
	seg_in(&sr->tr, &s->tr);
	seg_in(&sr->ldt, &s->ldt);
	sr->gdt.base = s->gdt_base;
	sr->gdt.limit = s->gdt_limit;
	sr->idt.base = s->idt_base;
	sr->idt.limit = s->idt_limit;
	sr->cr0 = s->cr0;
	sr->cr2 = s->cr2;
	sr->cr3 = s->cr3;
	sr->cr4 = s->cr4;
	sr->cr8 = s->cr8;
	sr->efer = s->efer;
	sr->apic_base = s->apic_base;
	nub_kvm_queue_clean_events(k);
}

void nub_kvm_queue_clean_events(struct nub_kvm *k)
{
	struct kvm_sync_regs *sync = &k->run->s.regs;
	/* No exception, interrupt or NMI in flight, no interrupt shadow: a clean instruction boundary. */
	memset(&sync->events, 0, sizeof sync->events);
	sync->events.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
	k->run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
}

/*
 * The XSAVE image restore loads: the legacy region from the snapshot's x87/SSE state, XSTATE_BV =
 * x87 | SSE, so every other component (AVX upper halves, PKRU, ...) returns to its init value. Why
 * not KVM_SET_FPU: it ignores MXCSR, and some hosts (kvm_pvm) let a CPL0 guest set CR4.OSXSAVE
 * and XCR0 despite the CPUID we give it, and KVM_SET_FPU would leave that extended state behind.
 */
enum nub_status nub_kvm_set_state(struct nub_kvm *k, const struct nub_vcpu_state *s,
				  struct nub_error *err)
{
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs = { .nr_xcrs = 1, .xcrs = { { .xcr = 0, .value = s->xcr0 } } };
	struct kvm_debugregs dbg;
	union msr_one msr;

	nub_kvm_queue_sync_state(k, s);
	msr_one_init(&msr, s->kernel_gs_base);
	memset(&xsave, 0, sizeof xsave);
	nub_vcpu_fxsave_image((uint8_t *)xsave.region, s);
	uint64_t xstate_bv = X86_XCR0_X87 | X86_XCR0_SSE; /* XSTATE_BV uses XCR0's bit numbers */
	memcpy((uint8_t *)xsave.region + NUB_FXSAVE_SIZE, &xstate_bv, 8);
	if (xioctl(k, k->vcpu_fd, KVM_SET_XSAVE, &xsave) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_SET_XSAVE");
	if (xioctl(k, k->vcpu_fd, KVM_SET_XCRS, &xcrs) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_SET_XCRS");
	memset(&dbg, 0, sizeof dbg);
	memcpy(dbg.db, s->dr, sizeof dbg.db);
	dbg.dr6 = s->dr6;
	dbg.dr7 = s->dr7;
	if (xioctl(k, k->vcpu_fd, KVM_SET_DEBUGREGS, &dbg) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_SET_DEBUGREGS");
	if (xioctl(k, k->vcpu_fd, KVM_SET_MSRS, &msr) != 1)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_SET_MSRS(KERNEL_GS_BASE)");
	return NUB_OK;
}
