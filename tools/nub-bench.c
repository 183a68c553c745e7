/* nub-bench: raw KVM primitives measured in this run, then the engine's figures as ratios to them (numbers only). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "nub/nub.h"
#include "simple_fns.h"

#ifndef NUB_GUEST_DIR
#define NUB_GUEST_DIR "guests"
#endif

/* ---- ioctl counting through the linker's --wrap=ioctl ----
 * The linker sends every ioctl() call made from this program and from libnub.a to __wrap_ioctl.
 * A wrapped libc symbol has no context argument, so the counters must be process globals; they
 * are only touched while (counting) is set, under (count_lock).
 */
int __real_ioctl(int fd, unsigned long request, ...);
/* Counts (fd, request) while counting is enabled, then performs the real ioctl. */
int __wrap_ioctl(int fd, unsigned long request, ...);

#define IOCTL_SLOTS 64
struct ioctl_slot {
	int fd;
	unsigned long request;
	unsigned long count;
};
static atomic_bool counting;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ioctl_slot count_slots[IOCTL_SLOTS];
static unsigned long count_nslots;
static unsigned long count_overflow; /* calls whose (fd, request) found no free slot */

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *); /* every KVM ioctl takes one pointer- or integer-sized arg */
	va_end(ap);

	if (atomic_load_explicit(&counting, memory_order_relaxed)) {
		pthread_mutex_lock(&count_lock);
		unsigned long i;
		for (i = 0; i < count_nslots; i++)
			if (count_slots[i].fd == fd && count_slots[i].request == request)
				break;
		if (i == count_nslots && count_nslots < IOCTL_SLOTS)
			count_slots[count_nslots++] = (struct ioctl_slot){ .fd = fd, .request = request };
		if (i < count_nslots)
			count_slots[i].count++;
		else
			count_overflow++;
		pthread_mutex_unlock(&count_lock);
	}
	return __real_ioctl(fd, request, arg);
}

static void counting_start(void)
{
	pthread_mutex_lock(&count_lock);
	memset(count_slots, 0, sizeof(count_slots));
	count_nslots = 0;
	count_overflow = 0;
	pthread_mutex_unlock(&count_lock);
	atomic_store(&counting, true);
}

static void counting_stop(void)
{
	atomic_store(&counting, false);
}

/* ---- small helpers ---- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("nub-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		die("clock_gettime: %s", strerror(errno));
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Sorts (v) in place; the statistics below read the sorted array. */
static void sort_samples(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
}

/* Median of (n) samples in nanoseconds, as microseconds. Sorts (v). */
static double median_us(uint64_t *v, size_t n)
{
	sort_samples(v, n);
	if (n % 2)
		return (double)v[n / 2] / 1000.0;
	return ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2000.0;
}

/* The (pct)-th percentile of sorted samples, in microseconds. */
static double pct_us(const uint64_t *sorted, size_t n, unsigned pct)
{
	size_t i = n * pct / 100;
	if (i >= n)
		i = n - 1;
	return (double)sorted[i] / 1000.0;
}

static uint64_t *samples_new(size_t n)
{
	uint64_t *v = calloc(n, sizeof(*v));
	if (!v)
		die("out of memory for %zu samples", n);
	return v;
}

static int xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	int r;
	do
		r = ioctl(fd, req, arg);
	while (r < 0 && (errno == EINTR || errno == EAGAIN));
	if (r < 0)
		die("%s: %s", what, strerror(errno));
	return r;
}

/* ---- the raw KVM guest ----
 * One 2 MiB slot at GPA 0, identity-mapped by one 2 MiB page: PML4 at 0x1000, PDPT at 0x2000, PD
 * at 0x3000, code at 0x4000: `out %al, $0x10; jmp .-2`, so every KVM_RUN ends at the next OUT.
 */
#define RAW_MEM_SIZE 0x200000u
#define RAW_PML4 0x1000u
#define RAW_PDPT 0x2000u
#define RAW_PD 0x3000u
#define RAW_CODE 0x4000u
#define RAW_PORT 0x10u

#define PTE_P 0x1u
#define PTE_RW 0x2u
#define PTE_PS 0x80u
#define CR0_PE 0x1u
#define CR0_MP 0x2u
#define CR0_ET 0x10u
#define CR0_NE 0x20u
#define CR0_WP 0x10000u
#define CR0_PG 0x80000000u
#define CR4_PAE 0x20u
#define EFER_LME 0x100u
#define EFER_LMA 0x400u

struct raw_kvm {
	int kvm_fd;
	int run_size;
	struct kvm_cpuid2 *cpuid; /* the full supported list, fetched once */
	struct kvm_sregs sregs;   /* long-mode template, built once from a fresh vCPU's state */
	bool have_sregs;
};

struct raw_vm {
	int vm_fd;
	int vcpu_fd;
	uint8_t *mem;
	struct kvm_run *run;
};

/* Per-step times of one create, in nanoseconds. */
enum raw_step {
	STEP_CREATE_VM,
	STEP_MEMORY,
	STEP_SET_MEMORY,
	STEP_CREATE_VCPU,
	STEP_SET_CPUID,
	STEP_SET_REGS,
	STEP_FIRST_RUN,
	STEP_COUNT
};
static const char *const step_names[STEP_COUNT] = {
	"KVM_CREATE_VM",
	"mmap 2 MiB + write tables and code",
	"KVM_SET_USER_MEMORY_REGION",
	"KVM_CREATE_VCPU + mmap kvm_run",
	"KVM_SET_CPUID2 (supported list)",
	"KVM_SET_SREGS + KVM_SET_REGS",
	"first KVM_RUN to the out exit",
};

static void raw_open(struct raw_kvm *k)
{
	memset(k, 0, sizeof(*k));
	k->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->kvm_fd < 0)
		die("cannot open /dev/kvm: %s", strerror(errno));
	int v = xioctl(k->kvm_fd, KVM_GET_API_VERSION, NULL, "KVM_GET_API_VERSION");
	if (v != KVM_API_VERSION)
		die("KVM API version %d, expected %d", v, KVM_API_VERSION);
	k->run_size = xioctl(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL, "KVM_GET_VCPU_MMAP_SIZE");
	if (k->run_size < (int)sizeof(struct kvm_run))
		die("KVM_GET_VCPU_MMAP_SIZE returned %d", k->run_size);

	for (uint32_t nent = 128;; nent *= 2) {
		if (nent > 4096)
			die("KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
		struct kvm_cpuid2 *c =
			calloc(1, sizeof(*c) + nent * sizeof(struct kvm_cpuid_entry2));
		if (!c)
			die("out of memory for the CPUID list");
		c->nent = nent;
		if (ioctl(k->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			k->cpuid = c;
			break;
		}
		int e = errno;
		free(c);
		if (e != E2BIG)
			die("KVM_GET_SUPPORTED_CPUID: %s", strerror(e));
	}
}

static void raw_close(struct raw_kvm *k)
{
	free(k->cpuid);
	close(k->kvm_fd);
}

static void write_u64(uint8_t *mem, uint64_t gpa, uint64_t v)
{
	memcpy(mem + gpa, &v, sizeof(v));
}

static void raw_fill_memory(uint8_t *mem)
{
	static const uint8_t code[] = { 0xE6, RAW_PORT, /* out %al, $0x10 */
					0xEB, 0xFC };   /* jmp .-2 (back to the out) */
	write_u64(mem, RAW_PML4, RAW_PDPT | PTE_P | PTE_RW);
	write_u64(mem, RAW_PDPT, RAW_PD | PTE_P | PTE_RW);
	write_u64(mem, RAW_PD, 0 | PTE_P | PTE_RW | PTE_PS);
	memcpy(mem + RAW_CODE, code, sizeof(code));
}

/* Turns a fresh vCPU's special registers into 64-bit CPL0 long mode with our page tables. */
static void make_long_mode(struct kvm_sregs *s)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x8, .type = 11, .present = 1,
		.dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = code;
	data.selector = 0x10;
	data.type = 3;
	data.db = 1;
	data.l = 0;
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->cr3 = RAW_PML4;
	s->cr4 = CR4_PAE;
	s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s->efer = EFER_LME | EFER_LMA;
}

static void check_out_exit(const struct kvm_run *run, const char *when)
{
	if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
	    run->io.port == RAW_PORT && run->io.size == 1)
		return;
	if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		die("%s: KVM_EXIT_FAIL_ENTRY, hardware reason 0x%llx", when,
		    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		die("%s: KVM_EXIT_INTERNAL_ERROR, suberror %u", when, run->internal.suberror);
	if (run->exit_reason == KVM_EXIT_IO)
		die("%s: unexpected I/O exit on port 0x%x", when, run->io.port);
	die("%s: unexpected exit reason %u", when, run->exit_reason);
}

/* Creates a VM and runs it to its first OUT exit, recording each step's time in (t) (may be NULL). */
static void raw_create(struct raw_kvm *k, struct raw_vm *vm, uint64_t t[STEP_COUNT])
{
	uint64_t s[STEP_COUNT + 1];

	s[0] = now_ns();
	vm->vm_fd = xioctl(k->kvm_fd, KVM_CREATE_VM, NULL, "KVM_CREATE_VM");

	s[1] = now_ns();
	vm->mem = mmap(NULL, RAW_MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED)
		die("mmap guest memory: %s", strerror(errno));
	raw_fill_memory(vm->mem);

	s[2] = now_ns();
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = RAW_MEM_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)vm->mem,
	};
	xioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");

	s[3] = now_ns();
	vm->vcpu_fd = xioctl(vm->vm_fd, KVM_CREATE_VCPU, NULL, "KVM_CREATE_VCPU");
	vm->run = mmap(NULL, (size_t)k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED)
		die("mmap kvm_run: %s", strerror(errno));

	s[4] = now_ns();
	xioctl(vm->vcpu_fd, KVM_SET_CPUID2, k->cpuid, "KVM_SET_CPUID2");

	s[5] = now_ns();
	if (!k->have_sregs) {
		/* Once per process, outside any measured create: a template of the reset state. */
		xioctl(vm->vcpu_fd, KVM_GET_SREGS, &k->sregs, "KVM_GET_SREGS");
		make_long_mode(&k->sregs);
		k->have_sregs = true;
		s[5] = now_ns();
	}
	xioctl(vm->vcpu_fd, KVM_SET_SREGS, &k->sregs, "KVM_SET_SREGS");
	struct kvm_regs regs = { .rip = RAW_CODE, .rflags = 0x2, .rsp = RAW_MEM_SIZE };
	xioctl(vm->vcpu_fd, KVM_SET_REGS, &regs, "KVM_SET_REGS");

	s[6] = now_ns();
	xioctl(vm->vcpu_fd, KVM_RUN, NULL, "KVM_RUN (first)");
	s[7] = now_ns();
	check_out_exit(vm->run, "first KVM_RUN");

	if (t)
		for (int i = 0; i < STEP_COUNT; i++)
			t[i] = s[i + 1] - s[i];
}

static void raw_destroy(struct raw_kvm *k, struct raw_vm *vm)
{
	if (munmap(vm->run, (size_t)k->run_size) != 0 || munmap(vm->mem, RAW_MEM_SIZE) != 0)
		die("munmap: %s", strerror(errno));
	if (close(vm->vcpu_fd) != 0 || close(vm->vm_fd) != 0)
		die("close VM fds: %s", strerror(errno));
}

/* ---- measurements ---- */

struct iters {
	size_t rt, ioctl, create, evolve, call;
};

struct raw_figures {
	double rt_us;        /* KVM_RUN -> out -> back */
	double create_us;    /* create -> first exit */
};

static void print_row(const char *what, double us, const char *extra)
{
	printf("  %-44s %10.2f us%s\n", what, us, extra ? extra : "");
}

static struct raw_figures bench_raw(const struct iters *it)
{
	struct raw_kvm k;
	struct raw_vm vm;
	struct raw_figures f;
	char extra[96];

	raw_open(&k);
	raw_create(&k, &vm, NULL); /* warm-up, and the sregs template */

	/* RT: one KVM_RUN that resumes after the OUT, runs the jmp and exits at the OUT again. */
	uint64_t *v = samples_new(it->rt);
	for (size_t i = 0; i < it->rt; i++) {
		uint64_t t0 = now_ns();
		xioctl(vm.vcpu_fd, KVM_RUN, NULL, "KVM_RUN");
		v[i] = now_ns() - t0;
		check_out_exit(vm.run, "KVM_RUN");
	}
	f.rt_us = median_us(v, it->rt);
	printf("raw KVM (CPL0 long-mode guest, 2 MiB slot; CPUID list and sregs template fetched once)\n");
	snprintf(extra, sizeof(extra), "  (p10 %.2f, p90 %.2f; n = %zu)", pct_us(v, it->rt, 10),
		 pct_us(v, it->rt, 90), it->rt);
	print_row("RT: KVM_RUN -> out exit -> back", f.rt_us, extra);
	free(v);

	/* A vCPU ioctl that does no work: the unit cost of "one extra ioctl per call". */
	v = samples_new(it->ioctl);
	for (size_t i = 0; i < it->ioctl; i++) {
		struct kvm_regs regs;
		uint64_t t0 = now_ns();
		xioctl(vm.vcpu_fd, KVM_GET_REGS, &regs, "KVM_GET_REGS");
		v[i] = now_ns() - t0;
	}
	double ioctl_us = median_us(v, it->ioctl);
	snprintf(extra, sizeof(extra), "  = %.2f RT (n = %zu)", ioctl_us / f.rt_us, it->ioctl);
	print_row("one vCPU ioctl (KVM_GET_REGS)", ioctl_us, extra);
	free(v);
	raw_destroy(&k, &vm);

	/* Create -> first exit, step by step; teardown measured apart. */
	uint64_t *steps[STEP_COUNT];
	for (int s = 0; s < STEP_COUNT; s++)
		steps[s] = samples_new(it->create);
	uint64_t *total = samples_new(it->create);
	uint64_t *down = samples_new(it->create);
	for (size_t i = 0; i < it->create; i++) {
		uint64_t t[STEP_COUNT];
		uint64_t t0 = now_ns();
		raw_create(&k, &vm, t);
		uint64_t t1 = now_ns();
		raw_destroy(&k, &vm);
		down[i] = now_ns() - t1;
		total[i] = t1 - t0;
		for (int s = 0; s < STEP_COUNT; s++)
			steps[s][i] = t[s];
	}
	f.create_us = median_us(total, it->create);
	snprintf(extra, sizeof(extra), "  = %.1f RT (p10 %.1f, p90 %.1f; n = %zu)",
		 f.create_us / f.rt_us, pct_us(total, it->create, 10),
		 pct_us(total, it->create, 90), it->create);
	print_row("create -> first exit", f.create_us, extra);
	for (int s = 0; s < STEP_COUNT; s++) {
		char name[64];
		snprintf(name, sizeof(name), "  %s", step_names[s]);
		print_row(name, median_us(steps[s], it->create), NULL);
		free(steps[s]);
	}
	double down_us = median_us(down, it->create);
	snprintf(extra, sizeof(extra), "  = %.1f RT (not part of create)", down_us / f.rt_us);
	print_row("teardown (munmap + close)", down_us, extra);
	free(total);
	free(down);
	raw_close(&k);
	return f;
}

/* ---- engine ---- */

static void engine_die(const char *what, enum nub_status st, const struct nub_error *err)
{
	die("%s: %s: %s", what, nub_status_str(st), err->message);
}

/* The trivial host function the guest calls: an empty successful response. */
static int host_nop(void *ctx, const uint8_t *req, size_t len, struct nub_buf *resp,
		    struct nub_error *err)
{
	(void)ctx;
	(void)req;
	(void)len;
	(void)resp;
	(void)err;
	return 0;
}

#define HOST_NOP_ID 1u

static void guest_path(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s.elf", dir, name);
	if (n < 0 || (size_t)n >= size)
		die("guest path too long: %s/%s.elf", dir, name);
}

static struct nub_sandbox *make_sandbox(const char *path, bool with_host_fn)
{
	struct nub_guest_env env = { .path = path };
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_error err = { 0 };
	enum nub_status st = nub_uninit_new(&env, NULL, &u, &err);
	if (st != NUB_OK)
		engine_die(path, st, &err);
	if (with_host_fn) {
		st = nub_uninit_register(u, HOST_NOP_ID, host_nop, NULL, &err);
		if (st != NUB_OK) {
			nub_uninit_free(u);
			engine_die("nub_uninit_register", st, &err);
		}
	}
	st = nub_uninit_evolve(u, &sb, &err);
	if (st != NUB_OK)
		engine_die("nub_uninit_evolve", st, &err);
	return sb;
}

/* Runs (n) calls of (fn_id) with (payload), returns their times (sorted later by the caller). */
static void timed_calls(struct nub_sandbox *sb, uint32_t fn_id, const uint8_t *payload,
			size_t len, size_t n, uint64_t *v, const char *what)
{
	struct nub_buf resp = { 0 };
	struct nub_error err = { 0 };
	for (size_t i = 0; i < n; i++) {
		resp.len = 0; /* reuse the storage: no allocation inside the timed region */
		uint64_t t0 = now_ns();
		enum nub_status st = nub_sandbox_call(sb, fn_id, payload, len, &resp, &err);
		uint64_t t1 = now_ns();
		if (st != NUB_OK)
			engine_die(what, st, &err);
		if (v)
			v[i] = t1 - t0;
	}
	nub_buf_free(&resp);
}

static bool fd_is_vcpu(int fd)
{
	char link[64], target[128];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strstr(target, "kvm-vcpu") != NULL;
}

static const char *ioctl_name(unsigned long req)
{
	switch (req) {
	case KVM_RUN: return "KVM_RUN";
	case KVM_GET_REGS: return "KVM_GET_REGS";
	case KVM_SET_REGS: return "KVM_SET_REGS";
	case KVM_GET_SREGS: return "KVM_GET_SREGS";
	case KVM_SET_SREGS: return "KVM_SET_SREGS";
	case KVM_GET_FPU: return "KVM_GET_FPU";
	case KVM_SET_FPU: return "KVM_SET_FPU";
	case KVM_GET_MSRS: return "KVM_GET_MSRS";
	case KVM_SET_MSRS: return "KVM_SET_MSRS";
	case KVM_GET_VCPU_EVENTS: return "KVM_GET_VCPU_EVENTS";
	case KVM_SET_VCPU_EVENTS: return "KVM_SET_VCPU_EVENTS";
	case KVM_GET_XSAVE: return "KVM_GET_XSAVE";
	case KVM_SET_XSAVE: return "KVM_SET_XSAVE";
	case KVM_GET_XCRS: return "KVM_GET_XCRS";
	case KVM_SET_XCRS: return "KVM_SET_XCRS";
	case KVM_SET_SIGNAL_MASK: return "KVM_SET_SIGNAL_MASK";
	case KVM_GET_DIRTY_LOG: return "KVM_GET_DIRTY_LOG";
	case KVM_CLEAR_DIRTY_LOG: return "KVM_CLEAR_DIRTY_LOG";
	case KVM_SET_USER_MEMORY_REGION: return "KVM_SET_USER_MEMORY_REGION";
	case KVM_TRANSLATE: return "KVM_TRANSLATE";
	default: return NULL;
	}
}

/* Prints the ioctls counted over (ncalls) calls; returns the vCPU ioctls other than KVM_RUN per call. */
static double report_ioctls(const char *what, size_t ncalls)
{
	double runs = 0, vcpu_other = 0, other = 0;
	pthread_mutex_lock(&count_lock);
	for (unsigned long i = 0; i < count_nslots; i++) {
		const struct ioctl_slot *s = &count_slots[i];
		double per = (double)s->count / (double)ncalls;
		bool vcpu = fd_is_vcpu(s->fd);
		if (s->request == KVM_RUN)
			runs += per;
		else if (vcpu)
			vcpu_other += per;
		else
			other += per;
	}
	printf("  %s: ioctls per call: KVM_RUN %.2f, other vCPU %.2f (goal <= 1), VM/system %.2f\n",
	       what, runs, vcpu_other, other);
	for (unsigned long i = 0; i < count_nslots; i++) {
		const struct ioctl_slot *s = &count_slots[i];
		if (s->request == KVM_RUN)
			continue;
		const char *name = ioctl_name(s->request);
		char hex[32];
		if (!name) {
			snprintf(hex, sizeof(hex), "ioctl 0x%lx", s->request);
			name = hex;
		}
		printf("    %-30s on %s fd %d: %.3f per call\n", name,
		       fd_is_vcpu(s->fd) ? "vCPU" : "other", s->fd,
		       (double)s->count / (double)ncalls);
	}
	if (count_overflow)
		printf("    (%lu ioctls not classified: more than %d distinct kinds)\n", count_overflow,
		       IOCTL_SLOTS);
	pthread_mutex_unlock(&count_lock);
	return vcpu_other;
}

static void bench_engine(const struct iters *it, const struct raw_figures *raw, const char *dir)
{
	char dummy[4096], simple[4096], extra[128];
	guest_path(dummy, sizeof(dummy), dir, "dummy");
	guest_path(simple, sizeof(simple), dir, "simple");

	printf("engine (medians; ratios to the raw figures above)\n");

	/* Evolve: nub_uninit_new + nub_uninit_evolve of the minimal guest; free measured apart. */
	uint64_t *full = samples_new(it->evolve);
	uint64_t *evo = samples_new(it->evolve);
	uint64_t *fr = samples_new(it->evolve);
	for (size_t i = 0; i <= it->evolve; i++) { /* iteration 0 is a warm-up */
		struct nub_guest_env env = { .path = dummy };
		struct nub_uninit *u = NULL;
		struct nub_sandbox *sb = NULL;
		struct nub_error err = { 0 };
		uint64_t t0 = now_ns();
		enum nub_status st = nub_uninit_new(&env, NULL, &u, &err);
		if (st != NUB_OK)
			engine_die(dummy, st, &err);
		uint64_t t1 = now_ns();
		st = nub_uninit_evolve(u, &sb, &err);
		uint64_t t2 = now_ns();
		if (st != NUB_OK)
			engine_die("nub_uninit_evolve (dummy)", st, &err);
		nub_sandbox_free(sb);
		uint64_t t3 = now_ns();
		if (i > 0) {
			full[i - 1] = t2 - t0;
			evo[i - 1] = t2 - t1;
			fr[i - 1] = t3 - t2;
		}
	}
	double full_us = median_us(full, it->evolve);
	double evo_us = median_us(evo, it->evolve);
	double free_us = median_us(fr, it->evolve);
	snprintf(extra, sizeof(extra), "  = %.2fx raw create (goal <= 1.5x; n = %zu)",
		 full_us / raw->create_us, it->evolve);
	print_row("evolve: nub_uninit_new + evolve (dummy)", full_us, extra);
	snprintf(extra, sizeof(extra), "  = %.2fx raw create", evo_us / raw->create_us);
	print_row("  nub_uninit_evolve alone", evo_us, extra);
	snprintf(extra, sizeof(extra), "  = %.1f RT (not part of evolve)", free_us / raw->rt_us);
	print_row("nub_sandbox_free", free_us, extra);
	free(full);
	free(evo);
	free(fr);

	/* Calls: SIMPLE_ECHO of 16 bytes, and SIMPLE_HOST_CALL of a trivial host function. */
	struct nub_sandbox *sb = make_sandbox(simple, true);
	uint8_t echo[16];
	for (size_t i = 0; i < sizeof(echo); i++)
		echo[i] = (uint8_t)('a' + i);
	uint8_t hc[4 + 16];
	hc[0] = (uint8_t)HOST_NOP_ID;
	hc[1] = (uint8_t)(HOST_NOP_ID >> 8);
	hc[2] = (uint8_t)(HOST_NOP_ID >> 16);
	hc[3] = (uint8_t)(HOST_NOP_ID >> 24);
	memcpy(hc + 4, echo, sizeof(echo));

	/* Correctness first: echo must return the payload, the host call an empty response. */
	struct nub_buf resp = { 0 };
	struct nub_error err = { 0 };
	enum nub_status st = nub_sandbox_call(sb, SIMPLE_ECHO, echo, sizeof(echo), &resp, &err);
	if (st != NUB_OK)
		engine_die("SIMPLE_ECHO", st, &err);
	if (resp.len != sizeof(echo) || memcmp(resp.data, echo, sizeof(echo)) != 0)
		die("SIMPLE_ECHO returned %zu bytes that differ from the payload", resp.len);
	resp.len = 0;
	st = nub_sandbox_call(sb, SIMPLE_HOST_CALL, hc, sizeof(hc), &resp, &err);
	if (st != NUB_OK)
		engine_die("SIMPLE_HOST_CALL", st, &err);
	if (resp.len != 0)
		die("SIMPLE_HOST_CALL of an empty host response returned %zu bytes", resp.len);
	nub_buf_free(&resp);

	size_t warm = it->call / 10 + 1;
	uint64_t *v = samples_new(it->call);
	timed_calls(sb, SIMPLE_ECHO, echo, sizeof(echo), warm, NULL, "SIMPLE_ECHO");
	counting_start();
	timed_calls(sb, SIMPLE_ECHO, echo, sizeof(echo), it->call, v, "SIMPLE_ECHO");
	counting_stop();
	double call_us = median_us(v, it->call);
	snprintf(extra, sizeof(extra), "  = %.2f RT (goal <= 1.3 RT; p10 %.2f, p90 %.2f; n = %zu)",
		 call_us / raw->rt_us, pct_us(v, it->call, 10), pct_us(v, it->call, 90), it->call);
	print_row("call: SIMPLE_ECHO, 16 bytes", call_us, extra);
	report_ioctls("call", it->call);

	timed_calls(sb, SIMPLE_HOST_CALL, hc, sizeof(hc), warm, NULL, "SIMPLE_HOST_CALL");
	counting_start();
	timed_calls(sb, SIMPLE_HOST_CALL, hc, sizeof(hc), it->call, v, "SIMPLE_HOST_CALL");
	counting_stop();
	double hc_us = median_us(v, it->call);
	snprintf(extra, sizeof(extra), "  = %.2f RT (n = %zu)", hc_us / raw->rt_us, it->call);
	print_row("call: SIMPLE_HOST_CALL of a no-op host fn", hc_us, extra);
	snprintf(extra, sizeof(extra), "  = %.2f RT (goal <= 1.2 RT)",
		 (hc_us - call_us) / raw->rt_us);
	print_row("  guest -> host call (host call - call)", hc_us - call_us, extra);
	report_ioctls("host call", it->call);
	free(v);
	nub_sandbox_free(sb);
}

/* ---- command line ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nub-bench [--quick] [--guest-dir DIR]\n"
		"\n"
		"Measures raw KVM primitives with its own minimal guest (RT = one KVM_RUN -> out exit ->\n"
		"back round trip; create = KVM_CREATE_VM .. first exit), then the engine's evolve, call\n"
		"and guest-to-host call as medians and as ratios to them, with the DESIGN goals, and the\n"
		"vCPU ioctls per call. Prints numbers only.\n"
		"\n"
		"  --quick          fewer iterations (CI smoke run)\n"
		"  --guest-dir DIR  directory holding dummy.elf and simple.elf (default %s)\n"
		"  --help           this text\n",
		NUB_GUEST_DIR);
}

/* Entry point: nub-bench [--quick] [--guest-dir DIR]; exits 1 if anything fails. */
int main(int argc, char **argv)
{
	struct iters it = { .rt = 20000, .ioctl = 5000, .create = 200, .evolve = 200, .call = 20000 };
	const char *dir = NUB_GUEST_DIR;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			it = (struct iters){ .rt = 2000, .ioctl = 500, .create = 20, .evolve = 20,
					     .call = 2000 };
		} else if (strcmp(argv[i], "--guest-dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strncmp(argv[i], "--guest-dir=", 12) == 0) {
			dir = argv[i] + 12;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 1;
		}
	}
	if (*dir == '\0')
		die("--guest-dir must not be empty");

	if (access("/dev/kvm", F_OK) != 0)
		die("/dev/kvm is missing: %s", strerror(errno));

	setvbuf(stdout, NULL, _IOLBF, 0);
	struct raw_figures raw = bench_raw(&it);
	bench_engine(&it, &raw, dir);
	return 0;
}
