/* SPDX-License-Identifier: Apache-2.0 */
/* rawkvm: the raw-KVM yardstick; see rawkvm.h. */
#include "rawkvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nub/x86.h"
#include "timing.h"

/* Page tables and code of the raw guest (rawkvm.h): PML4, PDPT, PD, then the code page. */
#define RAW_PML4 0x1000u
#define RAW_PDPT 0x2000u
#define RAW_PD 0x3000u
#define RAW_CODE RAWKVM_CODE

const char *const rawkvm_step_names[RAWKVM_STEP_COUNT] = {
	"KVM_CREATE_VM",
	"mmap 2 MiB + write tables and code",
	"KVM_SET_USER_MEMORY_REGION",
	"KVM_CREATE_VCPU + mmap kvm_run",
	"KVM_SET_CPUID2 (supported list)",
	"KVM_SET_SREGS + KVM_SET_REGS",
	"first KVM_RUN to the out exit",
};

static int fail(struct rawkvm_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct rawkvm_error *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* ioctl, retried on EINTR/EAGAIN; returns its result, or -1 with (*e) naming (what). */
static int xioctl(int fd, unsigned long req, void *arg, const char *what, struct rawkvm_error *e)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r < 0 && (errno == EINTR || errno == EAGAIN));
	if (r < 0)
		return fail(e, "%s: %s", what, strerror(errno));
	return r;
}

int rawkvm_open(struct rawkvm *k, struct rawkvm_error *e)
{
	memset(k, 0, sizeof(*k));
	k->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->kvm_fd < 0)
		return fail(e, "cannot open /dev/kvm: %s", strerror(errno));
	int v = xioctl(k->kvm_fd, KVM_GET_API_VERSION, NULL, "KVM_GET_API_VERSION", e);
	if (v < 0)
		goto out;
	if (v != KVM_API_VERSION) {
		fail(e, "KVM API version %d, expected %d", v, KVM_API_VERSION);
		goto out;
	}
	k->run_size = xioctl(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL, "KVM_GET_VCPU_MMAP_SIZE", e);
	if (k->run_size < 0)
		goto out;
	if (k->run_size < (int)sizeof(struct kvm_run)) {
		fail(e, "KVM_GET_VCPU_MMAP_SIZE returned %d", k->run_size);
		goto out;
	}

	for (uint32_t nent = 128;; nent *= 2) {
		if (nent > 4096) {
			fail(e, "KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
			goto out;
		}
		struct kvm_cpuid2 *c = calloc(1,
					      sizeof(*c) + nent * sizeof(struct kvm_cpuid_entry2));
		if (!c) {
			fail(e, "out of memory for the CPUID list");
			goto out;
		}
		c->nent = nent;
		if (ioctl(k->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			k->cpuid = c;
			return 0;
		}
		int err = errno;
		free(c);
		if (err != E2BIG) {
			fail(e, "KVM_GET_SUPPORTED_CPUID: %s", strerror(err));
			goto out;
		}
	}
out:
	close(k->kvm_fd);
	k->kvm_fd = -1;
	return -1;
}

void rawkvm_close(struct rawkvm *k)
{
	free(k->cpuid);
	k->cpuid = NULL;
	if (k->kvm_fd >= 0)
		close(k->kvm_fd);
	k->kvm_fd = -1;
}

static void write_u64(uint8_t *mem, uint64_t gpa, uint64_t v)
{
	memcpy(mem + gpa, &v, sizeof(v));
}

static void fill_memory(uint8_t *mem)
{
	static const uint8_t code[] = { 0xE6, RAWKVM_PORT, /* out %al, $0x10 */
					0xEB, 0xFC };      /* jmp .-2 (back to the out) */
	write_u64(mem, RAW_PML4, RAW_PDPT | X86_PTE_P | X86_PTE_RW);
	write_u64(mem, RAW_PDPT, RAW_PD | X86_PTE_P | X86_PTE_RW);
	write_u64(mem, RAW_PD, 0 | X86_PTE_P | X86_PTE_RW | X86_PTE_PS);
	memcpy(mem + RAW_CODE, code, sizeof(code));
}

/* Turns a fresh vCPU's special registers into 64-bit CPL0 long mode with our page tables. */
static void make_long_mode(struct kvm_sregs *s)
{
	struct kvm_segment code = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = X86_SEL_CODE64,
		.type = X86_SEG_TYPE_CODE_RX_ACCESSED,
		.present = 1,
		.dpl = 0,
		.db = 0,
		.s = 1,
		.l = 1,
		.g = 1,
	};
	struct kvm_segment data = code;
	data.selector = X86_SEL_DATA;
	data.type = X86_SEG_TYPE_DATA_RW_ACCESSED;
	data.db = 1;
	data.l = 0;
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->cr3 = RAW_PML4;
	s->cr4 = X86_CR4_PAE;
	s->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
	s->efer = X86_EFER_LME | X86_EFER_LMA;
}

/* 0 if the vCPU stopped at the guest's OUT, else -1 with (*e) saying what happened (when). */
static int check_out_exit(const struct kvm_run *run, const char *when, struct rawkvm_error *e)
{
	if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
	    run->io.port == RAWKVM_PORT && run->io.size == 1)
		return 0;
	if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		return fail(e, "%s: KVM_EXIT_FAIL_ENTRY, hardware reason 0x%llx", when,
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		return fail(e, "%s: KVM_EXIT_INTERNAL_ERROR, suberror %u", when,
			    run->internal.suberror);
	if (run->exit_reason == KVM_EXIT_IO)
		return fail(e, "%s: unexpected I/O exit on port 0x%x", when, run->io.port);
	return fail(e, "%s: unexpected exit reason %u", when, run->exit_reason);
}

int rawkvm_create(struct rawkvm *k, struct rawkvm_vm *vm, uint64_t t[RAWKVM_STEP_COUNT],
		  struct rawkvm_error *e)
{
	uint64_t s[RAWKVM_STEP_COUNT + 1];
	struct rawkvm_error ignored;

	*vm = (struct rawkvm_vm){
		.vm_fd = -1, .vcpu_fd = -1, .mem = MAP_FAILED, .run = MAP_FAILED
	};
	s[0] = timing_now_ns();
	vm->vm_fd = xioctl(k->kvm_fd, KVM_CREATE_VM, NULL, "KVM_CREATE_VM", e);
	if (vm->vm_fd < 0)
		goto fail;

	s[1] = timing_now_ns();
	vm->mem = mmap(NULL, RAWKVM_MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		fail(e, "mmap guest memory: %s", strerror(errno));
		goto fail;
	}
	fill_memory(vm->mem);

	s[2] = timing_now_ns();
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = RAWKVM_MEM_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)vm->mem,
	};
	if (xioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION",
		   e) < 0)
		goto fail;

	s[3] = timing_now_ns();
	vm->vcpu_fd = xioctl(vm->vm_fd, KVM_CREATE_VCPU, NULL, "KVM_CREATE_VCPU", e);
	if (vm->vcpu_fd < 0)
		goto fail;
	vm->run = mmap(NULL, (size_t)k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd,
		       0);
	if (vm->run == MAP_FAILED) {
		fail(e, "mmap kvm_run: %s", strerror(errno));
		goto fail;
	}

	s[4] = timing_now_ns();
	if (xioctl(vm->vcpu_fd, KVM_SET_CPUID2, k->cpuid, "KVM_SET_CPUID2", e) < 0)
		goto fail;

	s[5] = timing_now_ns();
	if (!k->have_sregs) {
		/* Once per process, outside any measured create: a template of the reset state. */
		if (xioctl(vm->vcpu_fd, KVM_GET_SREGS, &k->sregs, "KVM_GET_SREGS", e) < 0)
			goto fail;
		make_long_mode(&k->sregs);
		k->have_sregs = true;
		s[5] = timing_now_ns();
	}
	if (xioctl(vm->vcpu_fd, KVM_SET_SREGS, &k->sregs, "KVM_SET_SREGS", e) < 0)
		goto fail;
	struct kvm_regs regs = { .rip = RAW_CODE,
				 .rflags = X86_RFLAGS_FIXED1,
				 .rsp = RAWKVM_MEM_SIZE };
	if (xioctl(vm->vcpu_fd, KVM_SET_REGS, &regs, "KVM_SET_REGS", e) < 0)
		goto fail;

	s[6] = timing_now_ns();
	if (xioctl(vm->vcpu_fd, KVM_RUN, NULL, "KVM_RUN (first)", e) < 0)
		goto fail;
	s[7] = timing_now_ns();
	if (check_out_exit(vm->run, "first KVM_RUN", e) != 0)
		goto fail;

	if (t)
		for (int i = 0; i < RAWKVM_STEP_COUNT; i++)
			t[i] = s[i + 1] - s[i];
	return 0;
fail:
	rawkvm_destroy(k, vm, &ignored); /* (*e) already says what failed first */
	return -1;
}

int rawkvm_destroy(struct rawkvm *k, struct rawkvm_vm *vm, struct rawkvm_error *e)
{
	int rc = 0;

	if (vm->run != MAP_FAILED && munmap(vm->run, (size_t)k->run_size) != 0)
		rc = fail(e, "munmap: %s", strerror(errno));
	if (vm->mem != MAP_FAILED && munmap(vm->mem, RAWKVM_MEM_SIZE) != 0)
		rc = fail(e, "munmap: %s", strerror(errno));
	if (vm->vcpu_fd >= 0 && close(vm->vcpu_fd) != 0)
		rc = fail(e, "close VM fds: %s", strerror(errno));
	if (vm->vm_fd >= 0 && close(vm->vm_fd) != 0)
		rc = fail(e, "close VM fds: %s", strerror(errno));
	*vm = (struct rawkvm_vm){
		.vm_fd = -1, .vcpu_fd = -1, .mem = MAP_FAILED, .run = MAP_FAILED
	};
	return rc;
}

int rawkvm_round_trips(struct rawkvm_vm *vm, uint64_t *ns, size_t n, struct rawkvm_error *e)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = timing_now_ns();
		if (xioctl(vm->vcpu_fd, KVM_RUN, NULL, "KVM_RUN", e) < 0)
			return -1;
		uint64_t t1 = timing_now_ns();
		if (ns)
			ns[i] = t1 - t0;
		if (check_out_exit(vm->run, "KVM_RUN", e) != 0)
			return -1;
	}
	return 0;
}

int rawkvm_measure_rt(size_t warmup, size_t n, double *rt_ns, struct rawkvm_error *e)
{
	struct rawkvm k;
	struct rawkvm_vm vm;
	struct rawkvm_error ignored;
	int rc = -1;

	uint64_t *v = calloc(n, sizeof(*v));
	if (!v)
		return fail(e, "out of memory for %zu samples", n);
	if (rawkvm_open(&k, e) != 0) {
		free(v);
		return -1;
	}
	if (rawkvm_create(&k, &vm, NULL, e) == 0) {
		if (rawkvm_round_trips(&vm, NULL, warmup, e) == 0 &&
		    rawkvm_round_trips(&vm, v, n, e) == 0) {
			*rt_ns = timing_median_ns(v, n);
			rc = 0;
		}
		/* (*e) keeps the first failure. */
		if (rawkvm_destroy(&k, &vm, rc == 0 ? e : &ignored) != 0)
			rc = -1;
	}
	rawkvm_close(&k);
	free(v);
	return rc;
}
