/* The KVM backend: VM, memory slots, CPUID, MSR filter, long-mode vCPU, run. */
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"

#define CPUID_MAX_ENTRIES 256

#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

bool nub_kvm_available(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;
	do
		r = ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r;
}

/*
 * Why: a guest must not see (or try to use) virtualization extensions, shadow stacks or x2APIC we
 * do not emulate for it, and its page tables must respect the 36-bit guest-physical space.
 */
static void filter_cpuid(struct kvm_cpuid2 *c)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 1)
			e->ecx &= ~((1u << 5) | (1u << 21)); /* VMX, x2APIC */
		else if (e->function == 7 && e->index == 0) {
			e->ecx &= ~(1u << 7);  /* CET shadow stack */
			e->edx &= ~(1u << 20); /* CET IBT */
		} else if (e->function == 0x80000001)
			e->ecx &= ~(1u << 2); /* SVM */
		else if (e->function == 0x80000008)
			e->eax = (e->eax & ~0xffu) | NUB_GPA_BITS;
	}
}

/*
 * The filtered CPUID table, computed once per process: KVM_GET_SUPPORTED_CPUID costs more than
 * creating the VM itself on hosts like ours and its answer never changes. Written once under
 * pthread_once and read-only afterwards, so it is not mutable shared state.
 */
static struct {
	struct kvm_cpuid2 head;
	struct kvm_cpuid_entry2 entries[CPUID_MAX_ENTRIES];
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
	if (xioctl(fd, KVM_GET_SUPPORTED_CPUID, &cpuid_cache.head) < 0)
		cpuid_cache_errno = errno;
	else
		filter_cpuid(&cpuid_cache.head);
	close(fd);
}

static enum nub_status set_cpuid(int vcpu_fd, struct nub_error *err)
{
	pthread_once(&cpuid_once, load_cpuid);
	if (cpuid_cache_errno)
		return nub_error_set_errno(err, NUB_E_KVM, cpuid_cache_errno, "KVM_GET_SUPPORTED_CPUID");
	if (xioctl(vcpu_fd, KVM_SET_CPUID2, &cpuid_cache.head) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_SET_CPUID2");
	return NUB_OK;
}

/*
 * Why default deny: MSRs are host-shared CPU state the guest has no business touching; KVM then
 * injects #GP for every guest rdmsr/wrmsr outside the (empty) allow list. KVM needs at least one
 * range for the filter to be active, so one empty range is installed.
 */
static enum nub_status set_msr_filter(int vm_fd, struct nub_error *err)
{
	static const uint8_t deny_bitmap[1] = { 0 };
	struct kvm_msr_filter f;
	memset(&f, 0, sizeof f);
	f.flags = KVM_MSR_FILTER_DEFAULT_DENY;
	f.ranges[0].flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
	f.ranges[0].nmsrs = 1;
	f.ranges[0].base = 0;
	f.ranges[0].bitmap = (uint8_t *)(uintptr_t)deny_bitmap;
	if (xioctl(vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_X86_SET_MSR_FILTER");
	return NUB_OK;
}

static enum nub_status check_caps(int kvm_fd, struct nub_error *err)
{
	static const struct {
		int cap;
		const char *name;
	} need[] = {
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	};
	int v = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION)
		return nub_error_set(err, NUB_E_KVM, "KVM_GET_API_VERSION returned %d, need %d", v,
				     KVM_API_VERSION);
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, need[i].cap) <= 0)
			return nub_error_set(err, NUB_E_KVM, "KVM lacks %s", need[i].name);
	return NUB_OK;
}

enum nub_status nub_kvm_create(struct nub_kvm *k, struct nub_error *err)
{
	enum nub_status st;

	k->vm_fd = -1;
	k->vcpu_fd = -1;
	k->run = NULL;
	k->run_size = 0;

	int kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "open /dev/kvm");
	st = check_caps(kvm_fd, err);
	if (st != NUB_OK)
		goto err_close_kvm;
	k->vm_fd = xioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0) {
		st = nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_CREATE_VM");
		goto err_close_kvm;
	}
	st = set_msr_filter(k->vm_fd, err);
	if (st != NUB_OK)
		goto err_destroy;
	k->vcpu_fd = xioctl(k->vm_fd, KVM_CREATE_VCPU, 0);
	if (k->vcpu_fd < 0) {
		st = nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_CREATE_VCPU");
		goto err_destroy;
	}
	int run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run)) {
		st = nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_VCPU_MMAP_SIZE returned %d",
					 run_size);
		goto err_destroy;
	}
	void *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu_fd, 0);
	if (run == MAP_FAILED) {
		st = nub_error_set_errno(err, NUB_E_KVM, errno, "mmap of kvm_run");
		goto err_destroy;
	}
	k->run = run;
	k->run_size = (size_t)run_size;
	st = set_cpuid(k->vcpu_fd, err);
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
			    void *host, struct nub_error *err)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	if (xioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno,
					   "KVM_SET_USER_MEMORY_REGION slot %u gpa 0x%llx size 0x%llx",
					   slot, (unsigned long long)gpa, (unsigned long long)size);
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
	s->l = code;  /* 64-bit code segment */
	s->db = !code; /* L and D/B must not both be set */
}

enum nub_status nub_kvm_boot(struct nub_kvm *k, const struct nub_kvm_boot *b, struct nub_error *err)
{
	/* Built from scratch (no KVM_GET_SREGS round trip): every field is set here. */
	struct kvm_sregs sregs;
	memset(&sregs, 0, sizeof sregs);
	/* A present, busy 64-bit TSS and an LDT, as after reset: VM entry checks demand them. */
	sregs.tr.limit = 0xffff;
	sregs.tr.type = 0xb;
	sregs.tr.present = 1;
	sregs.ldt.limit = 0xffff;
	sregs.ldt.type = 0x2;
	sregs.ldt.present = 1;
	sregs.apic_base = 0xfee00900; /* the reset value: enabled, bootstrap processor */
	flat_segment(&sregs.cs, 0x08, 0xb, true);
	flat_segment(&sregs.ds, 0x10, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	/* Empty GDT and IDT: the guest runtime installs its own before it can fault. */
	sregs.gdt.base = 0;
	sregs.gdt.limit = 0;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	sregs.cr3 = b->cr3;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	sregs.cr2 = 0;
	sregs.cr8 = 0;
	if (xioctl(k->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_SET_SREGS");

	struct kvm_regs regs;
	memset(&regs, 0, sizeof regs);
	regs.rip = b->rip;
	regs.rsp = b->rsp;
	regs.rdi = b->rdi;
	regs.rflags = 0x2; /* bit 1 is reserved-one; IF clear: no interrupts */
	if (xioctl(k->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_SET_REGS");
	return NUB_OK;
}

int nub_kvm_run(struct nub_kvm *k)
{
	/* No EINTR retry here: EINTR is how a kick or a time limit reaches the run loop. */
	return ioctl(k->vcpu_fd, KVM_RUN, 0) < 0 ? -errno : 0;
}

enum nub_status nub_kvm_read_fault_regs(struct nub_kvm *k, uint64_t *rip, uint64_t *cr2,
					struct nub_error *err)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	if (xioctl(k->vcpu_fd, KVM_GET_REGS, &regs) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_REGS");
	if (xioctl(k->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return nub_error_set_errno(err, NUB_E_KVM, errno, "KVM_GET_SREGS");
	*rip = regs.rip;
	*cr2 = sregs.cr2;
	return NUB_OK;
}
