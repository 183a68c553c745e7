/* SPDX-License-Identifier: Apache-2.0 */
/* nub-bench: raw KVM primitives measured in this run, then the engine's figures as ratios to them (numbers only). */
#include <errno.h>
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

#include "bytes.h"
#include "fuzz_cmds.h"
#include "host_fns.h"
#include "nub/nub.h"
#include "nub/x86.h"
#include "rawkvm.h"
#include "simple_fns.h"
#include "snapshot.h"
#include "timing.h"

#ifndef NUB_GUEST_DIR
#define NUB_GUEST_DIR "guests"
#endif

/* ---- ioctl counting through the linker's --wrap=ioctl ----
 * The linker sends every ioctl() call made from this program and from libnub.a to __wrap_ioctl.
 * A wrapped libc symbol has no context argument, so the counters must be process globals; they
 * are only touched while (counting) is set, under (count_lock). While counting, the wall time
 * spent inside each real KVM_RUN (two CLOCK_MONOTONIC reads right around it) is summed too, so a
 * call's time splits into time inside KVM_RUN and the engine's own host time. Timed medians run
 * with counting off; the counts and the split come from a separate pass with counting on.
 * Each (fd, request) slot also sums the wall time inside its ioctls (the restore split).
 */
int __real_ioctl(int fd, unsigned long request, ...);
/* Counts (fd, request) while counting is enabled, then performs the real ioctl; while counting,
 * also sums the wall time inside every KVM_RUN. Preserves the real ioctl's result and errno. */
int __wrap_ioctl(int fd, unsigned long request, ...);

#define IOCTL_SLOTS 64
struct ioctl_slot {
	int fd;
	unsigned long request;
	unsigned long count;
	uint64_t ns; /* wall time inside these ioctls */
};
static atomic_bool counting;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ioctl_slot count_slots[IOCTL_SLOTS];
static unsigned long count_nslots;
static unsigned long count_overflow; /* calls whose (fd, request) found no free slot */
static uint64_t run_ns;              /* wall time inside the real KVM_RUNs counted */
static unsigned long run_timed;      /* KVM_RUNs summed into (run_ns) */

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap,
			   void *); /* every KVM ioctl takes one pointer- or integer-sized arg */
	va_end(ap);

	if (!atomic_load_explicit(&counting, memory_order_relaxed))
		return __real_ioctl(fd, request, arg);

	bool run = request == KVM_RUN;
	uint64_t t0 = timing_now_ns();
	int r = __real_ioctl(fd, request, arg);
	uint64_t t1 = timing_now_ns();
	int e = errno;

	pthread_mutex_lock(&count_lock);
	unsigned long i;
	for (i = 0; i < count_nslots; i++)
		if (count_slots[i].fd == fd && count_slots[i].request == request)
			break;
	if (i == count_nslots && count_nslots < IOCTL_SLOTS)
		count_slots[count_nslots++] = (struct ioctl_slot){ .fd = fd, .request = request };
	if (i < count_nslots) {
		count_slots[i].count++;
		count_slots[i].ns += t1 - t0;
	} else
		count_overflow++;
	if (run) {
		run_ns += t1 - t0;
		run_timed++;
	}
	pthread_mutex_unlock(&count_lock);
	errno = e;
	return r;
}

static void counting_start(void)
{
	pthread_mutex_lock(&count_lock);
	memset(count_slots, 0, sizeof(count_slots));
	count_nslots = 0;
	count_overflow = 0;
	run_ns = 0;
	run_timed = 0;
	pthread_mutex_unlock(&count_lock);
	atomic_store(&counting, true);
}

static void counting_stop(void)
{
	atomic_store(&counting, false);
}

/* Wall time inside KVM_RUN since counting_start, in nanoseconds; (*runs) gets their count. */
static uint64_t run_time_read(unsigned long *runs)
{
	pthread_mutex_lock(&count_lock);
	uint64_t ns = run_ns;
	if (runs)
		*runs = run_timed;
	pthread_mutex_unlock(&count_lock);
	return ns;
}

/* Wall time inside every counted ioctl since counting_start, in nanoseconds; (*n) gets their
 * count. */
static uint64_t ioctl_time_read(unsigned long *n)
{
	uint64_t ns = 0;
	unsigned long c = count_overflow;
	pthread_mutex_lock(&count_lock);
	for (unsigned long i = 0; i < count_nslots; i++) {
		ns += count_slots[i].ns;
		c += count_slots[i].count;
	}
	pthread_mutex_unlock(&count_lock);
	if (n)
		*n = c;
	return ns;
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

/* Median of (n) samples in nanoseconds, as microseconds. Sorts (v). */
static double median_us(uint64_t *v, size_t n)
{
	return timing_median_ns(v, n) / 1000.0;
}

/* The (pct)-th percentile of sorted samples, in microseconds. */
static double pct_us(const uint64_t *sorted, size_t n, unsigned pct)
{
	return timing_percentile_ns(sorted, n, pct) / 1000.0;
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

/* ---- measurements ---- */

/* The page counts restore is measured for (the guest dirties that many heap pages). */
static const uint32_t restore_pages[] = { 0, 1, 16, 256, 4096 };
#define RESTORE_SIZES (sizeof(restore_pages) / sizeof(restore_pages[0]))
#define RESTORE_HEAP_SIZE (17u << 20) /* room for 4096 dirty heap pages */
#define RESTORE_NEXT_PAGES 256u       /* page count of the "next call after restore" comparison */
#define MEM_SANDBOXES 64u             /* sandboxes made from one snapshot for the memory figures */
#define DIRTY_OFFSET 2048u            /* where SIMPLE_DIRTY_HEAP_PAGES writes in each page */

struct iters {
	size_t rt, ioctl, create, evolve, call;
	size_t fuzz;                   /* fuzz iterations: restore + FUZZ_FN_RUN */
	size_t restore[RESTORE_SIZES]; /* per page count: raw reset + copy, and engine restore */
	size_t next_call;              /* restore, then two timed calls */
};

/* Iterations per restore page count: fewer for the big copies (and the guest's 4096 writes). */
static void restore_iters(struct iters *it, bool quick)
{
	static const size_t full[RESTORE_SIZES] = { 2000, 2000, 2000, 300, 30 };
	static const size_t fast[RESTORE_SIZES] = { 200, 200, 100, 20, 5 };
	for (size_t s = 0; s < RESTORE_SIZES; s++)
		it->restore[s] = quick ? fast[s] : full[s];
	it->next_call = quick ? 10 : 100;
}

struct raw_figures {
	double rt_us;                   /* KVM_RUN -> out -> back */
	double create_us;               /* create -> first exit */
	double reset_us[RESTORE_SIZES]; /* register reset + copy of restore_pages[s] pages */
};

static void print_row(const char *what, double us, const char *extra)
{
	printf("  %-44s %10.2f us%s\n", what, us, extra ? extra : "");
}

/* struct kvm_msrs with room for exactly one entry. */
union msr_one {
	struct kvm_msrs head;
	uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
};

/* The vCPU state a register reset writes back with ioctls, read once with the GET variants. */
struct raw_reset_state {
	struct kvm_fpu fpu;
	struct kvm_debugregs dbg;
	union msr_one msr;
};

/* The part of a restore that is not page copying: one KVM_RUN with immediate_exit (completes a
 * pending exit without running guest code; returns EINTR), then KVM_SET_FPU, KVM_SET_DEBUGREGS
 * and KVM_SET_MSRS (MSR_KERNEL_GS_BASE). General and special registers would go through the
 * kvm_run sync area, which costs no ioctl. */
static void raw_register_reset(struct rawkvm_vm *vm, struct raw_reset_state *rs)
{
	vm->run->immediate_exit = 1;
	int r = ioctl(vm->vcpu_fd, KVM_RUN, NULL);
	int e = errno;
	vm->run->immediate_exit = 0;
	if (r == 0 || e != EINTR)
		die("KVM_RUN with immediate_exit: %s",
		    r == 0 ? "returned 0, not EINTR" : strerror(e));
	xioctl(vm->vcpu_fd, KVM_SET_FPU, &rs->fpu, "KVM_SET_FPU");
	xioctl(vm->vcpu_fd, KVM_SET_DEBUGREGS, &rs->dbg, "KVM_SET_DEBUGREGS");
	if (xioctl(vm->vcpu_fd, KVM_SET_MSRS, &rs->msr, "KVM_SET_MSRS") != 1)
		die("KVM_SET_MSRS(KERNEL_GS_BASE) did not set the MSR");
}

/* Two 17 MiB buffers (the restore sandbox's heap size) for the page-copy floor: N 4 KiB pages
 * spread evenly over (dst) are copied from the same offsets of (src). Both are faulted in. */
struct page_bufs {
	uint8_t *dst, *src;
};
#define PAGE_BUFS_SIZE ((size_t)RESTORE_HEAP_SIZE)

static uint8_t *map_bytes(size_t size, const char *what)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap %s (%zu bytes): %s", what, size, strerror(errno));
	return p;
}

static struct page_bufs page_bufs_new(void)
{
	struct page_bufs b = { map_bytes(PAGE_BUFS_SIZE, "the page-copy destination"),
			       map_bytes(PAGE_BUFS_SIZE, "the page-copy source") };
	memset(b.dst, 0, PAGE_BUFS_SIZE); /* no page faults inside the timed copies */
	memset(b.src, 0x5a, PAGE_BUFS_SIZE);
	return b;
}

static void page_bufs_free(struct page_bufs *b)
{
	if (munmap(b->dst, PAGE_BUFS_SIZE) != 0 || munmap(b->src, PAGE_BUFS_SIZE) != 0)
		die("munmap: %s", strerror(errno));
}

/* Byte offset of page (p) of (n) spread over the buffers. */
static size_t page_off(size_t p, size_t n)
{
	return p * (PAGE_BUFS_SIZE / X86_PAGE_SIZE) / n * X86_PAGE_SIZE;
}

/* Writes one byte into each of the (n) destination pages, as the guest does (callers leave it
 * untimed). */
static void pages_mark(struct page_bufs *b, size_t n, uint8_t v)
{
	for (size_t p = 0; p < n; p++)
		b->dst[page_off(p, n) + DIRTY_OFFSET] = v;
}

static void pages_copy(struct page_bufs *b, size_t n)
{
	for (size_t p = 0; p < n; p++)
		memcpy(b->dst + page_off(p, n), b->src + page_off(p, n), X86_PAGE_SIZE);
}

/* Measures "register reset + copying N pages" on the raw vCPU for every restore page count: the
 * floor a restore of N dirty pages is judged against. The N pages are 4 KiB pages spread evenly
 * over a 17 MiB buffer (the restore sandbox's heap size), copied from a second buffer of that
 * size; before each timed run (untimed) one word of each is written, as the guest does. */
static void bench_raw_reset(struct rawkvm_vm *vm, const struct iters *it, struct raw_figures *f)
{
	struct raw_reset_state rs;
	memset(&rs, 0, sizeof(rs));
	rs.msr.head.nmsrs = 1;
	rs.msr.head.entries[0].index = X86_MSR_KERNEL_GS_BASE;
	xioctl(vm->vcpu_fd, KVM_GET_FPU, &rs.fpu, "KVM_GET_FPU");
	xioctl(vm->vcpu_fd, KVM_GET_DEBUGREGS, &rs.dbg, "KVM_GET_DEBUGREGS");
	if (xioctl(vm->vcpu_fd, KVM_GET_MSRS, &rs.msr, "KVM_GET_MSRS") != 1)
		die("KVM_GET_MSRS(KERNEL_GS_BASE) did not read the MSR");

	struct page_bufs b = page_bufs_new();
	for (size_t s = 0; s < RESTORE_SIZES; s++) {
		size_t n = restore_pages[s], iters = it->restore[s];
		uint64_t *v = samples_new(iters);
		for (size_t i = 0; i <= iters; i++) { /* iteration 0 is a warm-up */
			pages_mark(&b, n, (uint8_t)(i + 1));
			uint64_t t0 = timing_now_ns();
			raw_register_reset(vm, &rs);
			pages_copy(&b, n);
			uint64_t t1 = timing_now_ns();
			if (i > 0)
				v[i - 1] = t1 - t0;
		}
		f->reset_us[s] = median_us(v, iters);
		free(v);
	}
	page_bufs_free(&b);
}

/* The raw restore floor rows, printed at the end of the raw section. */
static void print_raw_reset(const struct raw_figures *f, const struct iters *it)
{
	char name[64], extra[96];
	printf("  register reset = KVM_RUN(immediate_exit) + KVM_SET_FPU + KVM_SET_DEBUGREGS + "
	       "KVM_SET_MSRS; pages: 4 KiB memcpy, spread over 17 MiB\n");
	for (size_t s = 0; s < RESTORE_SIZES; s++) {
		snprintf(name, sizeof(name), "register reset + copy of %u page%s", restore_pages[s],
			 restore_pages[s] == 1 ? "" : "s");
		snprintf(extra, sizeof(extra), "  = %.2f RT (n = %zu)", f->reset_us[s] / f->rt_us,
			 it->restore[s]);
		print_row(name, f->reset_us[s], extra);
	}
}

static struct raw_figures bench_raw(const struct iters *it)
{
	struct rawkvm k;
	struct rawkvm_vm vm;
	struct rawkvm_error e;
	struct raw_figures f;
	char extra[96];

	if (rawkvm_open(&k, &e) != 0 ||
	    rawkvm_create(&k, &vm, NULL, &e) != 0) /* warm-up, and the sregs template */
		die("%s", e.message);

	/* RT: one KVM_RUN that resumes after the OUT, runs the jmp and exits at the OUT again. */
	uint64_t *v = samples_new(it->rt);
	if (rawkvm_round_trips(&vm, v, it->rt, &e) != 0)
		die("%s", e.message);
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
		uint64_t t0 = timing_now_ns();
		xioctl(vm.vcpu_fd, KVM_GET_REGS, &regs, "KVM_GET_REGS");
		v[i] = timing_now_ns() - t0;
	}
	double ioctl_us = median_us(v, it->ioctl);
	snprintf(extra, sizeof(extra), "  = %.2f RT (n = %zu)", ioctl_us / f.rt_us, it->ioctl);
	print_row("one vCPU ioctl (KVM_GET_REGS)", ioctl_us, extra);
	free(v);
	bench_raw_reset(&vm, it, &f); /* printed at the end of this section */
	if (rawkvm_destroy(&k, &vm, &e) != 0)
		die("%s", e.message);

	/* Create -> first exit, step by step; teardown measured apart. */
	uint64_t *steps[RAWKVM_STEP_COUNT];
	for (int s = 0; s < RAWKVM_STEP_COUNT; s++)
		steps[s] = samples_new(it->create);
	uint64_t *total = samples_new(it->create);
	uint64_t *down = samples_new(it->create);
	for (size_t i = 0; i < it->create; i++) {
		uint64_t t[RAWKVM_STEP_COUNT];
		uint64_t t0 = timing_now_ns();
		if (rawkvm_create(&k, &vm, t, &e) != 0)
			die("%s", e.message);
		uint64_t t1 = timing_now_ns();
		if (rawkvm_destroy(&k, &vm, &e) != 0)
			die("%s", e.message);
		down[i] = timing_now_ns() - t1;
		total[i] = t1 - t0;
		for (int s = 0; s < RAWKVM_STEP_COUNT; s++)
			steps[s][i] = t[s];
	}
	f.create_us = median_us(total, it->create);
	snprintf(extra, sizeof(extra), "  = %.1f RT (p10 %.1f, p90 %.1f; n = %zu)",
		 f.create_us / f.rt_us, pct_us(total, it->create, 10),
		 pct_us(total, it->create, 90), it->create);
	print_row("create -> first exit", f.create_us, extra);
	for (int s = 0; s < RAWKVM_STEP_COUNT; s++) {
		char name[64];
		snprintf(name, sizeof(name), "  %s", rawkvm_step_names[s]);
		print_row(name, median_us(steps[s], it->create), NULL);
		free(steps[s]);
	}
	double down_us = median_us(down, it->create);
	snprintf(extra, sizeof(extra), "  = %.1f RT (not part of create)", down_us / f.rt_us);
	print_row("teardown (munmap + close)", down_us, extra);
	free(total);
	free(down);
	print_raw_reset(&f, it);
	rawkvm_close(&k);
	return f;
}

/* ---- engine ---- */

static void engine_die(const char *what, enum nub_status st, const struct nub_error *err)
{
	die("%s: %s: %s", what, nub_status_str(st), err->message);
}

/* The trivial host function the guest calls (host_fn_nop: an empty successful response). */
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
		st = nub_uninit_register(u, HOST_NOP_ID, host_fn_nop, NULL, &err);
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
static void timed_calls(struct nub_sandbox *sb, uint32_t fn_id, const uint8_t *payload, size_t len,
			size_t n, uint64_t *v, const char *what)
{
	struct nub_buf resp = { 0 };
	struct nub_error err = { 0 };
	for (size_t i = 0; i < n; i++) {
		resp.len = 0; /* reuse the storage: no allocation inside the timed region */
		uint64_t t0 = timing_now_ns();
		enum nub_status st = nub_sandbox_call(sb, fn_id, payload, len, &resp, &err);
		uint64_t t1 = timing_now_ns();
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
	case KVM_RUN:
		return "KVM_RUN";
	case KVM_GET_REGS:
		return "KVM_GET_REGS";
	case KVM_SET_REGS:
		return "KVM_SET_REGS";
	case KVM_GET_SREGS:
		return "KVM_GET_SREGS";
	case KVM_SET_SREGS:
		return "KVM_SET_SREGS";
	case KVM_GET_FPU:
		return "KVM_GET_FPU";
	case KVM_SET_FPU:
		return "KVM_SET_FPU";
	case KVM_GET_MSRS:
		return "KVM_GET_MSRS";
	case KVM_SET_MSRS:
		return "KVM_SET_MSRS";
	case KVM_GET_DEBUGREGS:
		return "KVM_GET_DEBUGREGS";
	case KVM_SET_DEBUGREGS:
		return "KVM_SET_DEBUGREGS";
	case KVM_GET_VCPU_EVENTS:
		return "KVM_GET_VCPU_EVENTS";
	case KVM_SET_VCPU_EVENTS:
		return "KVM_SET_VCPU_EVENTS";
	case KVM_GET_XSAVE:
		return "KVM_GET_XSAVE";
	case KVM_SET_XSAVE:
		return "KVM_SET_XSAVE";
	case KVM_GET_XCRS:
		return "KVM_GET_XCRS";
	case KVM_SET_XCRS:
		return "KVM_SET_XCRS";
	case KVM_SET_SIGNAL_MASK:
		return "KVM_SET_SIGNAL_MASK";
	case KVM_GET_DIRTY_LOG:
		return "KVM_GET_DIRTY_LOG";
	case KVM_CLEAR_DIRTY_LOG:
		return "KVM_CLEAR_DIRTY_LOG";
	case KVM_SET_USER_MEMORY_REGION:
		return "KVM_SET_USER_MEMORY_REGION";
	case KVM_TRANSLATE:
		return "KVM_TRANSLATE";
	default:
		return NULL;
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
		printf("    (%lu ioctls not classified: more than %d distinct kinds)\n",
		       count_overflow, IOCTL_SLOTS);
	pthread_mutex_unlock(&count_lock);
	return vcpu_other;
}

/* One call kind's wall time split over a pass with counting on; means per call in microseconds. */
struct call_split {
	size_t n;           /* calls in the pass */
	double wall_us;     /* wall time of a call in this pass (with the wrapper's bookkeeping) */
	double run_us;      /* time inside KVM_RUN */
	double runs;        /* KVM_RUNs */
	double host_us;     /* engine host time: wall - inside KVM_RUN */
	double host_p50_us; /* median of the per-call engine host times */
};

/* A separate pass of (n) calls with counting on, after the timed medians: leaves the ioctl counts
 * for report_ioctls and returns each call's wall time split into time inside KVM_RUN and the
 * engine's own host time (encoding, buffer push/pop, decoding, the run loop). */
static struct call_split split_calls(struct nub_sandbox *sb, uint32_t fn_id, const uint8_t *payload,
				     size_t len, size_t n, const char *what)
{
	struct nub_buf resp = { 0 };
	struct nub_error err = { 0 };
	uint64_t *host = samples_new(n);
	uint64_t wall = 0;
	counting_start();
	for (size_t i = 0; i < n; i++) {
		resp.len = 0;
		uint64_t r0 = run_time_read(NULL);
		uint64_t t0 = timing_now_ns();
		enum nub_status st = nub_sandbox_call(sb, fn_id, payload, len, &resp, &err);
		uint64_t t1 = timing_now_ns();
		uint64_t r1 = run_time_read(NULL);
		if (st != NUB_OK)
			engine_die(what, st, &err);
		/* Every KVM_RUN's clock reads lie between t0 and t1, so (r1 - r0) <= (t1 - t0). */
		uint64_t in_run = r1 - r0, w = t1 - t0;
		host[i] = w > in_run ? w - in_run : 0;
		wall += w;
	}
	counting_stop();
	nub_buf_free(&resp);

	unsigned long runs;
	uint64_t in_run = run_time_read(&runs);
	struct call_split sp = { .n = n };
	sp.wall_us = (double)wall / (double)n / 1000.0;
	sp.run_us = (double)in_run / (double)n / 1000.0;
	sp.runs = (double)runs / (double)n;
	sp.host_us = sp.wall_us - sp.run_us;
	sp.host_p50_us = median_us(host, n);
	free(host);
	return sp;
}

/* Prints the split under a call's rows: inside KVM_RUN, engine host time, guest work beyond
 * the exits. */
static void print_split(const struct call_split *sp, double rt_us)
{
	char name[64], extra[128];
	printf("    split: means per call over a separate pass with counting on "
	       "(n = %zu; wall %.2f us)\n",
	       sp->n, sp->wall_us);
	snprintf(name, sizeof(name), "  inside KVM_RUN (%.2f per call)", sp->runs);
	snprintf(extra, sizeof(extra), "  = %.2f RT", sp->run_us / rt_us);
	print_row(name, sp->run_us, extra);
	snprintf(extra, sizeof(extra), "  = %.2f RT (p50 %.2f us)", sp->host_us / rt_us,
		 sp->host_p50_us);
	print_row("  engine host time (wall - inside KVM_RUN)", sp->host_us, extra);
	double guest_us = sp->run_us - sp->runs * rt_us;
	snprintf(extra, sizeof(extra), "  = %.2f RT (inside KVM_RUN - %.2f x RT)", guest_us / rt_us,
		 sp->runs);
	print_row("  guest work beyond the exits", guest_us, extra);
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
		uint64_t t0 = timing_now_ns();
		enum nub_status st = nub_uninit_new(&env, NULL, &u, &err);
		if (st != NUB_OK)
			engine_die(dummy, st, &err);
		uint64_t t1 = timing_now_ns();
		st = nub_uninit_evolve(u, &sb, &err);
		uint64_t t2 = timing_now_ns();
		if (st != NUB_OK)
			engine_die("nub_uninit_evolve (dummy)", st, &err);
		nub_sandbox_free(sb);
		uint64_t t3 = timing_now_ns();
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
	nub_put_le32(hc, HOST_NOP_ID);
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
	timed_calls(sb, SIMPLE_ECHO, echo, sizeof(echo), it->call, v, "SIMPLE_ECHO");
	double call_us = median_us(v, it->call);
	snprintf(extra, sizeof(extra), "  = %.2f RT (goal <= 1.3 RT; p10 %.2f, p90 %.2f; n = %zu)",
		 call_us / raw->rt_us, pct_us(v, it->call, 10), pct_us(v, it->call, 90), it->call);
	print_row("call: SIMPLE_ECHO, 16 bytes", call_us, extra);
	struct call_split cs = split_calls(sb, SIMPLE_ECHO, echo, sizeof(echo), it->call,
					   "SIMPLE_ECHO");
	report_ioctls("call", it->call);
	print_split(&cs, raw->rt_us);
	printf("    goal judgement on engine cost alone (guest work beyond the exits left out):\n");
	printf("      engine host time %.2f us = %.2f RT; %.2f KVM_RUN x RT + engine host time = "
	       "%.2f RT (goal <= 1.3 RT)\n",
	       cs.host_us, cs.host_us / raw->rt_us, cs.runs, cs.runs + cs.host_us / raw->rt_us);

	timed_calls(sb, SIMPLE_HOST_CALL, hc, sizeof(hc), warm, NULL, "SIMPLE_HOST_CALL");
	timed_calls(sb, SIMPLE_HOST_CALL, hc, sizeof(hc), it->call, v, "SIMPLE_HOST_CALL");
	double hc_us = median_us(v, it->call);
	snprintf(extra, sizeof(extra), "  = %.2f RT (n = %zu)", hc_us / raw->rt_us, it->call);
	print_row("call: SIMPLE_HOST_CALL of a no-op host fn", hc_us, extra);
	snprintf(extra, sizeof(extra), "  = %.2f RT (goal <= 1.2 RT)",
		 (hc_us - call_us) / raw->rt_us);
	print_row("  guest -> host call (host call - call)", hc_us - call_us, extra);
	struct call_split hs = split_calls(sb, SIMPLE_HOST_CALL, hc, sizeof(hc), it->call,
					   "SIMPLE_HOST_CALL");
	report_ioctls("host call", it->call);
	print_split(&hs, raw->rt_us);
	double more_runs = hs.runs - cs.runs, more_host_us = hs.host_us - cs.host_us;
	printf("    goal judgement on engine cost alone (guest work beyond the exits left out):\n");
	printf("      engine host time %.2f us = %.2f RT; guest -> host call: %+.2f KVM_RUN x RT "
	       "%+.2f us engine host time = %.2f RT (goal <= 1.2 RT)\n",
	       hs.host_us, hs.host_us / raw->rt_us, more_runs, more_host_us,
	       more_runs + more_host_us / raw->rt_us);
	free(v);
	nub_sandbox_free(sb);
}

/* ---- restore ---- */

/* Evolves (path) with (cfg), no host functions. */
static struct nub_sandbox *make_sandbox_cfg(const char *path, const struct nub_config *cfg)
{
	struct nub_guest_env env = { .path = path };
	struct nub_uninit *u = NULL;
	struct nub_sandbox *sb = NULL;
	struct nub_error err = { 0 };
	enum nub_status st = nub_uninit_new(&env, cfg, &u, &err);
	if (st != NUB_OK)
		engine_die(path, st, &err);
	st = nub_uninit_evolve(u, &sb, &err);
	if (st != NUB_OK)
		engine_die("nub_uninit_evolve", st, &err);
	return sb;
}

/* SIMPLE_DIRTY_HEAP_PAGES(n, v): the guest writes (v) into heap pages 0..n-1. */
static void dirty_pages(struct nub_sandbox *sb, uint32_t n, uint32_t v, struct nub_buf *resp)
{
	uint8_t req[8];
	struct nub_error err = { 0 };
	nub_put_le32(req, n);
	nub_put_le32(req + 4, v);
	resp->len = 0;
	enum nub_status st = nub_sandbox_call(sb, SIMPLE_DIRTY_HEAP_PAGES, req, sizeof(req), resp,
					      &err);
	if (st != NUB_OK)
		engine_die("SIMPLE_DIRTY_HEAP_PAGES", st, &err);
}

static uint64_t timed_restore(struct nub_sandbox *sb, struct nub_snapshot *snap)
{
	struct nub_error err = { 0 };
	uint64_t t0 = timing_now_ns();
	enum nub_status st = nub_sandbox_restore(sb, snap, &err);
	uint64_t t1 = timing_now_ns();
	if (st != NUB_OK)
		engine_die("nub_sandbox_restore", st, &err);
	return t1 - t0;
}

/* Times one call; SIMPLE_DIRTY_HEAP_PAGES(RESTORE_NEXT_PAGES, v) when (dirty), else a 16-byte
 * SIMPLE_ECHO. */
static uint64_t timed_next_call(struct nub_sandbox *sb, bool dirty, uint32_t v,
				struct nub_buf *resp)
{
	static const uint8_t echo[16] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
					  'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p' };
	struct nub_error err = { 0 };
	uint64_t t0 = timing_now_ns();
	if (dirty) {
		dirty_pages(sb, RESTORE_NEXT_PAGES, v, resp);
	} else {
		resp->len = 0;
		enum nub_status st = nub_sandbox_call(sb, SIMPLE_ECHO, echo, sizeof(echo), resp,
						      &err);
		if (st != NUB_OK)
			engine_die("SIMPLE_ECHO", st, &err);
	}
	return timing_now_ns() - t0;
}

/* Prints the ioctls counted since counting_start by name, per (what) over (n) of them, with the
 * mean time inside each kind (one line, no newline at the end); returns the total time inside
 * them in nanoseconds. */
static uint64_t print_ioctl_list(const char *what, size_t n)
{
	uint64_t in_ioctls = 0;
	pthread_mutex_lock(&count_lock);
	printf("    ioctls per %s (separate pass with counting on, n = %zu):", what, n);
	for (unsigned long i = 0; i < count_nslots; i++) {
		const struct ioctl_slot *s = &count_slots[i];
		const char *name = ioctl_name(s->request);
		printf("%s %s %.2f x %.1f us", i ? "," : "", name ? name : "other",
		       (double)s->count / (double)n,
		       s->count ? (double)s->ns / (double)s->count / 1000.0 : 0.0);
		in_ioctls += s->ns;
	}
	pthread_mutex_unlock(&count_lock);
	return in_ioctls;
}

/* The ioctls of the (n) restores counted since counting_start, by name, per restore, with the
 * mean time inside each kind; (wall_ns) is the restores' total wall time. */
static void print_restore_ioctls(size_t n, uint64_t wall_ns)
{
	uint64_t in_ioctls = print_ioctl_list("restore", n);
	printf("\n    split (means): inside ioctls %.1f us + outside them (page copies, buffer "
	       "compares, bookkeeping) %.1f us = wall %.1f us\n",
	       (double)in_ioctls / (double)n / 1000.0,
	       ((double)wall_ns - (double)in_ioctls) / (double)n / 1000.0,
	       (double)wall_ns / (double)n / 1000.0);
}

/* ---- fuzz iteration ---- */

/* One part of a fuzz iteration over the counting pass: sums in nanoseconds. */
struct part_sums {
	uint64_t wall, in_ioctls, in_run;
	unsigned long ioctls, runs;
};

/* Adds the time and counts since (ioctl0, run0, nio0, nrun0) (read before the part) to (p). */
static void part_add(struct part_sums *p, uint64_t wall, uint64_t ioctl0, unsigned long nio0,
		     uint64_t run0, unsigned long nrun0)
{
	unsigned long nio, nrun;
	uint64_t io = ioctl_time_read(&nio), run = run_time_read(&nrun);
	p->wall += wall;
	p->in_ioctls += io - ioctl0;
	p->in_run += run - run0;
	p->ioctls += nio - nio0;
	p->runs += nrun - nrun0;
}

/* Prints one part's means: inside ioctls (of which KVM_RUN) + outside them (engine only). */
static void print_part(const char *what, const struct part_sums *p, size_t n, double rt_us)
{
	char name[64], extra[160];
	double wall = (double)p->wall / (double)n / 1000.0;
	double io = (double)p->in_ioctls / (double)n / 1000.0;
	double run = (double)p->in_run / (double)n / 1000.0;
	snprintf(name, sizeof(name), "  %s: wall", what);
	snprintf(extra, sizeof(extra), "  = %.2f RT", wall / rt_us);
	print_row(name, wall, extra);
	snprintf(name, sizeof(name), "    inside ioctls (%.2f per iteration)",
		 (double)p->ioctls / (double)n);
	snprintf(extra, sizeof(extra), "  = %.2f RT (of which KVM_RUN x %.2f: %.2f us)", io / rt_us,
		 (double)p->runs / (double)n, run);
	print_row(name, io, extra);
	snprintf(extra, sizeof(extra), "  = %.2f RT (%.0f%% of this part's wall time)",
		 (wall - io) / rt_us, wall > 0 ? 100.0 * (wall - io) / wall : 0.0);
	print_row("    outside them: engine only", wall - io, extra);
}

/* "fuzz iteration (trivial KVM target)": what a KVM fuzz target does per input, on the `fuzz`
 * guest with its snapshot taken right after init: nub_sandbox_restore to that snapshot, then
 * nub_sandbox_call(FUZZ_FN_RUN) with an empty command stream (the guest does nothing and returns
 * an empty response). Medians of the whole iteration and of each part, then a separate pass with
 * counting on that splits both parts into time inside ioctls and the engine's own time. */
static void bench_fuzz_iteration(const struct iters *it, const struct raw_figures *raw,
				 const char *dir)
{
	char path[4096], extra[192];
	guest_path(path, sizeof(path), dir, "fuzz");
	if (access(path, R_OK) != 0) {
		printf("  fuzz iteration (trivial KVM target): not measured: %s: %s\n", path,
		       strerror(errno));
		return;
	}

	struct nub_sandbox *sb = make_sandbox_cfg(path, NULL);
	struct nub_snapshot *snap = NULL;
	struct nub_error err = { 0 };
	enum nub_status st = nub_sandbox_snapshot(sb, &snap, &err);
	if (st != NUB_OK)
		engine_die("nub_sandbox_snapshot (fuzz)", st, &err);

	static const uint8_t empty[1] = { 0 }; /* a valid pointer; the payload length is 0 */
	struct nub_buf resp = { 0 };
	size_t n = it->fuzz;
	uint64_t *whole = samples_new(n), *rest = samples_new(n), *call = samples_new(n);
	for (size_t i = 0; i <= n + n / 10; i++) { /* the first n / 10 + 1 are a warm-up */
		resp.len = 0;
		uint64_t t0 = timing_now_ns();
		st = nub_sandbox_restore(sb, snap, &err);
		uint64_t t1 = timing_now_ns();
		if (st != NUB_OK)
			engine_die("nub_sandbox_restore (fuzz)", st, &err);
		st = nub_sandbox_call(sb, FUZZ_FN_RUN, empty, 0, &resp, &err);
		uint64_t t2 = timing_now_ns();
		if (st != NUB_OK)
			engine_die("FUZZ_FN_RUN (empty payload)", st, &err);
		if (resp.len != 0)
			die("FUZZ_FN_RUN of an empty command stream returned %zu bytes", resp.len);
		if (i > n / 10) {
			size_t j = i - n / 10 - 1;
			whole[j] = t2 - t0;
			rest[j] = t1 - t0;
			call[j] = t2 - t1;
		}
	}
	double whole_us = median_us(whole, n);
	snprintf(extra, sizeof(extra), "  = %.2f RT (goal <= 4.4 RT; p10 %.2f, p90 %.2f; n = %zu)",
		 whole_us / raw->rt_us, pct_us(whole, n, 10), pct_us(whole, n, 90), n);
	print_row("fuzz iteration (trivial KVM target)", whole_us, extra);
	printf("    = nub_sandbox_restore to the fuzz guest's post-init snapshot + "
	       "nub_sandbox_call(FUZZ_FN_RUN) of an empty command stream\n");
	double rest_us = median_us(rest, n), call_us = median_us(call, n);
	snprintf(extra, sizeof(extra), "  = %.2f RT (p10 %.2f, p90 %.2f)", rest_us / raw->rt_us,
		 pct_us(rest, n, 10), pct_us(rest, n, 90));
	print_row("  nub_sandbox_restore", rest_us, extra);
	snprintf(extra, sizeof(extra), "  = %.2f RT (p10 %.2f, p90 %.2f)", call_us / raw->rt_us,
		 pct_us(call, n, 10), pct_us(call, n, 90));
	print_row("  nub_sandbox_call(FUZZ_FN_RUN, empty)", call_us, extra);
	free(whole);
	free(rest);
	free(call);

	/* The split: a separate pass with counting on, reading the counters between the parts
	 * (outside the timed windows). */
	struct part_sums pr = { 0 }, pc = { 0 };
	counting_start();
	for (size_t i = 0; i < n; i++) {
		unsigned long nio, nrun;
		resp.len = 0;
		uint64_t io = ioctl_time_read(&nio), run = run_time_read(&nrun);
		uint64_t t0 = timing_now_ns();
		st = nub_sandbox_restore(sb, snap, &err);
		uint64_t t1 = timing_now_ns();
		if (st != NUB_OK)
			engine_die("nub_sandbox_restore (fuzz)", st, &err);
		part_add(&pr, t1 - t0, io, nio, run, nrun);
		io = ioctl_time_read(&nio);
		run = run_time_read(&nrun);
		t0 = timing_now_ns();
		st = nub_sandbox_call(sb, FUZZ_FN_RUN, empty, 0, &resp, &err);
		t1 = timing_now_ns();
		if (st != NUB_OK)
			engine_die("FUZZ_FN_RUN (empty payload)", st, &err);
		part_add(&pc, t1 - t0, io, nio, run, nrun);
	}
	counting_stop();
	print_ioctl_list("iteration", n);
	printf("\n    split: means per iteration over that pass (wall %.2f us)\n",
	       (double)(pr.wall + pc.wall) / (double)n / 1000.0);
	print_part("restore", &pr, n, raw->rt_us);
	print_part("call", &pc, n, raw->rt_us);
	struct part_sums all = {
		.wall = pr.wall + pc.wall,
		.in_ioctls = pr.in_ioctls + pc.in_ioctls,
		.in_run = pr.in_run + pc.in_run,
		.ioctls = pr.ioctls + pc.ioctls,
		.runs = pr.runs + pc.runs,
	};
	print_part("iteration", &all, n, raw->rt_us);
	/* The call's KVM_RUNs also run guest code (emulated here); the restore's KVM_RUN only
	 * completes a pending exit (immediate_exit), so it is left as it is. */
	double call_runs = (double)pc.runs / (double)n;
	double guest_us = (double)pc.in_run / (double)n / 1000.0 - call_runs * raw->rt_us;
	snprintf(extra, sizeof(extra), "  = %.2f RT (the call's inside KVM_RUN - %.2f x RT)",
		 guest_us / raw->rt_us, call_runs);
	print_row("  guest work beyond the exits", guest_us, extra);
	double wall_us = (double)all.wall / (double)n / 1000.0;
	double outside_us = (double)(all.wall - all.in_ioctls) / (double)n / 1000.0;
	printf("    goal judgement on engine cost alone (guest work beyond the exits left out):\n");
	printf("      iteration %.2f us - guest work %.2f us = %.2f RT (goal <= 4.4 RT), of which the "
	       "engine's own time outside ioctls %.2f us = %.2f RT\n",
	       wall_us, guest_us, (wall_us - guest_us) / raw->rt_us, outside_us,
	       outside_us / raw->rt_us);

	nub_buf_free(&resp);
	nub_snapshot_unref(snap);
	nub_sandbox_free(sb);
}

/* A 64-bit multiply-xor hash of (n) bytes (a multiple of 8): the per-page-hash alternative. */
static uint64_t hash_words(const uint8_t *p, size_t n)
{
	uint64_t h = 0;
	for (size_t i = 0; i < n; i += 8)
		h = (h ^ nub_le64(p + i)) * 0x9e3779b97f4a7c15ull;
	return h;
}

/* "nub_sandbox_verify" right after a restore, on the fuzz and the simple guest, then the two ways
 * to compare that much memory it was chosen between: memcmp against the snapshot, and hashing
 * the sandbox's side for per-page hashes of the snapshot computed once (median of n each). */
static void bench_verify(const struct iters *it, const struct raw_figures *raw, const char *dir)
{
	static const char *const guests[] = { "fuzz", "simple" };
	char path[4096], name[96], extra[160];
	struct nub_error err = { 0 };
	size_t n = it->fuzz / 10;
	uint64_t *v = samples_new(n);
	printf("\nrestore oracle (nub_sandbox_verify right after nub_sandbox_restore)\n");
	for (size_t g = 0; g < sizeof guests / sizeof guests[0]; g++) {
		guest_path(path, sizeof(path), dir, guests[g]);
		if (access(path, R_OK) != 0) {
			printf("  %s guest: not measured: %s: %s\n", guests[g], path,
			       strerror(errno));
			continue;
		}
		struct nub_sandbox *sb = make_sandbox_cfg(path, NULL);
		struct nub_snapshot *snap = NULL;
		enum nub_status st = nub_sandbox_snapshot(sb, &snap, &err);
		if (st != NUB_OK)
			engine_die("nub_sandbox_snapshot (verify)", st, &err);
		for (size_t i = 0; i <= n + n / 10; i++) {
			(void)timed_restore(sb, snap);
			uint64_t t0 = timing_now_ns();
			st = nub_sandbox_verify(sb, snap, &err);
			uint64_t t1 = timing_now_ns();
			if (st != NUB_OK)
				engine_die("nub_sandbox_verify", st, &err);
			if (i > n / 10)
				v[i - n / 10 - 1] = t1 - t0;
		}
		double us = median_us(v, n);
		size_t bytes = (size_t)snap->mem_size;
		snprintf(name, sizeof(name), "nub_sandbox_verify (%s guest, %zu KiB)", guests[g],
			 bytes / 1024);
		snprintf(extra, sizeof(extra), "  = %.2f RT (p10 %.2f, p90 %.2f; n = %zu)",
			 us / raw->rt_us, pct_us(v, n, 10), pct_us(v, n, 90), n);
		print_row(name, us, extra);

		uint8_t *copy = map_bytes(bytes, "verify comparison copy");
		memcpy(copy, snap->mem, bytes);
		volatile uint64_t sink = 0;
		for (int way = 0; way < 2; way++) {
			for (size_t i = 0; i < n; i++) {
				uint64_t t0 = timing_now_ns();
				if (way == 0)
					sink += (uint64_t)memcmp(copy, snap->mem, bytes);
				else
					sink += hash_words(copy, bytes);
				v[i] = timing_now_ns() - t0;
			}
			us = median_us(v, n);
			snprintf(extra, sizeof(extra), "  = %.2f RT", us / raw->rt_us);
			print_row(way == 0 ? "  memcmp of that memory with the snapshot"
					   : "  hashing that memory (per-page hash alternative)",
				  us, extra);
		}
		(void)sink;
		munmap(copy, bytes);
		nub_snapshot_unref(snap);
		nub_sandbox_free(sb);
	}
	free(v);
}

static void bench_restore(const struct iters *it, const struct raw_figures *raw, const char *dir)
{
	char simple[4096], name[64], extra[160];
	guest_path(simple, sizeof(simple), dir, "simple");
	struct nub_config cfg;
	nub_config_default(&cfg);
	cfg.heap_size = RESTORE_HEAP_SIZE;
	struct nub_sandbox *sb = make_sandbox_cfg(simple, &cfg);
	struct nub_snapshot *snap = NULL;
	struct nub_error err = { 0 };
	enum nub_status st = nub_sandbox_snapshot(sb, &snap, &err);
	if (st != NUB_OK)
		engine_die("nub_sandbox_snapshot", st, &err);

	printf("restore (simple, 17 MiB heap; SIMPLE_DIRTY_HEAP_PAGES(N) untimed, then "
	       "nub_sandbox_restore timed; medians)\n");
	struct nub_buf resp = { 0 };
	struct page_bufs bufs = page_bufs_new();
	for (size_t s = 0; s < RESTORE_SIZES; s++) {
		uint32_t n = restore_pages[s];
		size_t iters = it->restore[s];
		uint64_t *v = samples_new(iters);
		for (size_t i = 0; i <= iters; i++) { /* iteration 0 is a warm-up */
			if (n)
				dirty_pages(sb, n, (uint32_t)i + 1, &resp);
			uint64_t t = timed_restore(sb, snap);
			if (i > 0)
				v[i - 1] = t;
		}
		double us = median_us(v, iters);
		const char *plural = n == 1 ? "" : "s";
		if (n)
			snprintf(name, sizeof(name), "restore %u dirty page%s", n, plural);
		else
			snprintf(name, sizeof(name), "restore 0 dirty pages (no call between)");
		snprintf(extra, sizeof(extra),
			 "  = %.2f x (register reset + copy of %u page%s) (goal <= 1.5x; "
			 "p10 %.2f, p90 %.2f; n = %zu)",
			 us / raw->reset_us[s], n, plural, pct_us(v, iters, 10),
			 pct_us(v, iters, 90), iters);
		print_row(name, us, extra);

		/* The ioctls of one restore and the time inside them, over a separate pass with
		 * counting on (only around the restores). */
		uint64_t wall = 0;
		counting_start();
		for (size_t i = 0; i < iters; i++) {
			atomic_store(&counting, false);
			if (n)
				dirty_pages(sb, n, (uint32_t)i + 1, &resp);
			atomic_store(&counting, true);
			wall += timed_restore(sb, snap);
		}
		counting_stop();
		print_restore_ioctls(iters, wall);
		if (!n) {
			free(v);
			continue;
		}

		/* The same page copy as the raw floor, but each right after the same untimed guest
		 * call: a long guest call leaves the host caches colder than the raw loop's, and the
		 * restore pays that too. Restored once afterwards. */
		for (size_t i = 0; i <= iters; i++) { /* iteration 0 is a warm-up */
			dirty_pages(sb, n, (uint32_t)i + 1, &resp);
			pages_mark(&bufs, n, (uint8_t)(i + 1));
			uint64_t t0 = timing_now_ns();
			pages_copy(&bufs, n);
			uint64_t t1 = timing_now_ns();
			if (i > 0)
				v[i - 1] = t1 - t0;
		}
		timed_restore(sb, snap);
		double copy_us = median_us(v, iters);
		double floor_us = raw->reset_us[0] + copy_us;
		snprintf(extra, sizeof(extra),
			 "  (the raw copy after the same untimed guest call; p10 %.2f, p90 %.2f)",
			 pct_us(v, iters, 10), pct_us(v, iters, 90));
		print_row("  copy alone right after the guest call", copy_us, extra);
		snprintf(extra, sizeof(extra),
			 "  restore = %.2f x (raw register reset %.2f us + this copy)",
			 us / floor_us, raw->reset_us[0]);
		print_row("  floor in the same conditions", floor_us, extra);
		free(v);
	}

	/* The next run after a restore: the same call right after a restore and again without one. */
	size_t nc = it->next_call;
	uint64_t *after = samples_new(nc), *again = samples_new(nc);
	for (int kind = 0; kind < 2; kind++) {
		bool dirty = kind == 0;
		for (size_t i = 0; i <= nc; i++) { /* iteration 0 is a warm-up */
			timed_restore(sb, snap);
			uint64_t a = timed_next_call(sb, dirty, (uint32_t)i + 1, &resp);
			uint64_t b = timed_next_call(sb, dirty, (uint32_t)i + 2, &resp);
			if (i > 0) {
				after[i - 1] = a;
				again[i - 1] = b;
			}
		}
		double a_us = median_us(after, nc), b_us = median_us(again, nc);
		if (dirty) {
			snprintf(name, sizeof(name), "next call after restore: DIRTY_HEAP %u",
				 RESTORE_NEXT_PAGES);
			snprintf(extra, sizeof(extra),
				 "  (rewrites the %u pages restore copied back; n = %zu)",
				 RESTORE_NEXT_PAGES, nc);
			print_row(name, a_us, extra);
			snprintf(extra, sizeof(extra),
				 "  (pages already written since the restore; n = %zu)", nc);
			print_row("  same call again, no restore between", b_us, extra);
			snprintf(extra, sizeof(extra), "  = %+.3f us per page",
				 (a_us - b_us) / RESTORE_NEXT_PAGES);
			print_row("  after restore - again", a_us - b_us, extra);
		} else {
			snprintf(extra, sizeof(extra), "  = %.2f RT (n = %zu)", a_us / raw->rt_us,
				 nc);
			print_row("next call after restore: SIMPLE_ECHO, 16 B", a_us, extra);
			snprintf(extra, sizeof(extra), "  = %.2f RT", b_us / raw->rt_us);
			print_row("  same call again, no restore between", b_us, extra);
			snprintf(extra, sizeof(extra), "  = %.2f RT", (a_us - b_us) / raw->rt_us);
			print_row("  after restore - again", a_us - b_us, extra);
		}
	}
	free(after);
	free(again);
	page_bufs_free(&bufs);
	nub_buf_free(&resp);
	nub_snapshot_unref(snap);
	nub_sandbox_free(sb);
}

/* ---- memory per sandbox ---- */

/* This process's memory from /proc/self/smaps_rollup, in KiB. */
struct rollup {
	uint64_t private_kb; /* Private_Clean + Private_Dirty */
	uint64_t pss_kb;
};

/* Reads "Name:  N kB" from one line into (*out) when the line starts with (name). */
static bool field_kb(const char *line, const char *name, uint64_t *out)
{
	size_t n = strlen(name);
	unsigned long long v;
	if (strncmp(line, name, n) != 0 || sscanf(line + n, "%llu", &v) != 1)
		return false;
	*out = v;
	return true;
}

static struct rollup read_rollup(void)
{
	struct rollup r = { 0 };
	char line[512];
	uint64_t v;
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	if (!f)
		die("/proc/self/smaps_rollup: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (field_kb(line, "Pss:", &v))
			r.pss_kb += v;
		else if (field_kb(line, "Private_Clean:", &v) ||
			 field_kb(line, "Private_Dirty:", &v))
			r.private_kb += v;
	}
	fclose(f);
	return r;
}

/* /proc/self/smaps split by what a mapping holds, in KiB. */
enum map_kind {
	MAP_GUEST, /* a sandbox's MAP_PRIVATE view of a snapshot memfd (and the snapshot's own) */
	MAP_VCPU,  /* a vCPU's kvm_run mapping */
	MAP_OTHER, /* the engine's heap and everything else in the process */
	MAP_KINDS
};
struct smaps_split {
	uint64_t private_kb[MAP_KINDS];
	uint64_t pss_kb[MAP_KINDS];
	unsigned long maps[MAP_KINDS];
};

static struct smaps_split read_smaps(void)
{
	struct smaps_split r;
	char line[1024];
	uint64_t v;
	enum map_kind kind = MAP_OTHER;
	memset(&r, 0, sizeof(r));
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		die("/proc/self/smaps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			kind = strstr(line, "nub-snapshot") ? MAP_GUEST
			       : strstr(line, "kvm-vcpu")   ? MAP_VCPU
							    : MAP_OTHER;
			r.maps[kind]++;
		} else if (field_kb(line, "Pss:", &v)) {
			r.pss_kb[kind] += v;
		} else if (field_kb(line, "Private_Clean:", &v) ||
			   field_kb(line, "Private_Dirty:", &v)) {
			r.private_kb[kind] += v;
		}
	}
	fclose(f);
	return r;
}

/* MemAvailable from /proc/meminfo, in KiB. */
static uint64_t mem_available_kb(void)
{
	char line[256];
	uint64_t v = 0;
	bool found = false;
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f)
		die("/proc/meminfo: %s", strerror(errno));
	while (!found && fgets(line, sizeof(line), f))
		found = field_kb(line, "MemAvailable:", &v);
	fclose(f);
	if (!found)
		die("/proc/meminfo has no MemAvailable");
	return v;
}

/* (after - before) / n for KiB counters that may also shrink. */
static double per_kb(uint64_t before, uint64_t after, size_t n)
{
	return ((double)after - (double)before) / (double)n;
}

static void print_kb_row(const char *what, double kb, const char *extra)
{
	printf("  %-44s %10.1f KiB%s\n", what, kb, extra ? extra : "");
}

static void bench_memory(const char *dir)
{
	char simple[4096], extra[192];
	guest_path(simple, sizeof(simple), dir, "simple");
	struct nub_error err = { 0 };
	struct nub_snapshot *snap = NULL;
	struct nub_sandbox *src = make_sandbox_cfg(simple, NULL);
	enum nub_status st = nub_sandbox_snapshot(src, &snap, &err);
	if (st != NUB_OK)
		engine_die("nub_sandbox_snapshot", st, &err);
	nub_sandbox_free(src);

	static const uint8_t echo[16] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
					  'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p' };
	struct nub_buf resp = { 0 };
	struct nub_sandbox *sb[MEM_SANDBOXES];
	/* One full round first (warms the allocator and the snapshot's page cache), then the K. */
	for (size_t round = 0; round < 2; round++) {
		size_t k = round ? MEM_SANDBOXES : 1;
		struct rollup r0 = read_rollup();
		struct smaps_split s0 = read_smaps();
		uint64_t a0 = mem_available_kb();
		for (size_t i = 0; i < k; i++) {
			st = nub_sandbox_from_snapshot(snap, NULL, 0, NULL, &sb[i], &err);
			if (st != NUB_OK)
				engine_die("nub_sandbox_from_snapshot", st, &err);
		}
		struct smaps_split s1 = read_smaps();
		for (size_t i = 0; i < k; i++) {
			resp.len = 0;
			st = nub_sandbox_call(sb[i], SIMPLE_ECHO, echo, sizeof(echo), &resp, &err);
			if (st != NUB_OK)
				engine_die("SIMPLE_ECHO", st, &err);
			if (resp.len != sizeof(echo) || memcmp(resp.data, echo, sizeof(echo)) != 0)
				die("SIMPLE_ECHO from a snapshot sandbox returned other bytes");
		}
		struct rollup r2 = read_rollup();
		struct smaps_split s2 = read_smaps();
		uint64_t a2 = mem_available_kb();
		for (size_t i = 0; i < k; i++)
			nub_sandbox_free(sb[i]);
		if (!round)
			continue;

		printf("memory per idle sandbox (K = %zu from one snapshot of simple, default config, "
		       "one SIMPLE_ECHO each; per sandbox = (after - before) / K)\n",
		       k);
		snprintf(extra, sizeof(extra), "  (before %llu KiB, after %llu KiB)",
			 (unsigned long long)r0.private_kb, (unsigned long long)r2.private_kb);
		print_kb_row("this process: Private_Clean + Private_Dirty",
			     per_kb(r0.private_kb, r2.private_kb, k), extra);
		snprintf(extra, sizeof(extra), "  (before %llu KiB, after %llu KiB)",
			 (unsigned long long)r0.pss_kb, (unsigned long long)r2.pss_kb);
		print_kb_row("this process: Pss", per_kb(r0.pss_kb, r2.pss_kb, k), extra);

		double guest_kb = per_kb(s0.private_kb[MAP_GUEST], s2.private_kb[MAP_GUEST], k);
		double guest_new_kb = per_kb(s0.private_kb[MAP_GUEST], s1.private_kb[MAP_GUEST], k);
		double guest_echo_kb = per_kb(s1.private_kb[MAP_GUEST], s2.private_kb[MAP_GUEST],
					      k);
		snprintf(extra, sizeof(extra),
			 "  = %.1f guest pages copied on write: %.1f by from_snapshot, %.1f by the "
			 "echo call (%.1f maps per sandbox)",
			 guest_kb / 4.0, guest_new_kb / 4.0, guest_echo_kb / 4.0,
			 per_kb(s0.maps[MAP_GUEST], s2.maps[MAP_GUEST], k));
		print_kb_row("  private in guest memory maps (smaps)", guest_kb, extra);
		snprintf(extra, sizeof(extra),
			 "  (shared snapshot pages the guests read, split over the sandboxes)");
		print_kb_row("  Pss in guest memory maps - private",
			     per_kb(s0.pss_kb[MAP_GUEST], s2.pss_kb[MAP_GUEST], k) - guest_kb,
			     extra);
		double vcpu_kb = per_kb(s0.private_kb[MAP_VCPU], s2.private_kb[MAP_VCPU], k);
		print_kb_row("  private in kvm_run maps (kernel pages)", vcpu_kb, NULL);
		double other_kb = per_kb(s0.private_kb[MAP_OTHER], s2.private_kb[MAP_OTHER], k);
		snprintf(extra, sizeof(extra),
			 "  (goal <= 64 KiB beyond the kernel's VM cost plus touched guest pages)");
		print_kb_row("  private elsewhere (engine: heap, buffers)", other_kb, extra);
		double user_kb = per_kb(r0.private_kb, r2.private_kb, k) - guest_kb;
		snprintf(extra, sizeof(extra), "  = %.2fx the 64 KiB goal (kvm_run pages included)",
			 user_kb / 64.0);
		print_kb_row("  user space beyond touched guest pages", user_kb, extra);
		snprintf(
			extra, sizeof(extra),
			"  (noisy: whole machine; includes KVM's own per-VM cost; before %llu, after %llu KiB)",
			(unsigned long long)a0, (unsigned long long)a2);
		print_kb_row("kernel view: MemAvailable drop per sandbox",
			     ((double)a0 - (double)a2) / (double)k, extra);
	}
	nub_buf_free(&resp);
	nub_snapshot_unref(snap);
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
		"vCPU ioctls per call. A separate pass splits each call into time inside KVM_RUN, the\n"
		"engine's own host time and the guest's work beyond the exits (means). Then a fuzz\n"
		"iteration on the fuzz guest (restore to its post-init snapshot + FUZZ_FN_RUN of an\n"
		"empty command stream), split into restore and call and into time inside ioctls and\n"
		"the engine's own time (skipped with a note when fuzz.elf is missing). Prints numbers\n"
		"only.\n"
		"Then restore: nub_sandbox_restore after the guest dirtied N heap pages, as a ratio to\n"
		"the raw register reset (KVM_RUN with immediate_exit, KVM_SET_FPU, KVM_SET_DEBUGREGS,\n"
		"KVM_SET_MSRS) plus memcpy of N pages; the next call after a restore against the same\n"
		"call without one; and the memory of %u idle sandboxes made from one snapshot\n"
		"(/proc/self/smaps_rollup, /proc/self/smaps, MemAvailable).\n"
		"\n"
		"  --quick          fewer iterations (CI smoke run)\n"
		"  --guest-dir DIR  directory holding dummy.elf, simple.elf and fuzz.elf (default %s)\n"
		"  --help           this text\n",
		MEM_SANDBOXES, NUB_GUEST_DIR);
}

/* Entry point: nub-bench [--quick] [--guest-dir DIR]; exits 1 if anything fails. */
int main(int argc, char **argv)
{
	struct iters it = { .rt = 20000,
			    .ioctl = 5000,
			    .create = 200,
			    .evolve = 200,
			    .call = 20000,
			    .fuzz = 10000 };
	const char *dir = NUB_GUEST_DIR;
	bool quick = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			it = (struct iters){ .rt = 2000,
					     .ioctl = 500,
					     .create = 20,
					     .evolve = 20,
					     .call = 2000,
					     .fuzz = 1000 };
			quick = true;
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
	restore_iters(&it, quick);
	struct raw_figures raw = bench_raw(&it);
	bench_engine(&it, &raw, dir);
	bench_fuzz_iteration(&it, &raw, dir); /* the last rows of the engine section */
	bench_restore(&it, &raw, dir);
	bench_verify(&it, &raw, dir);
	bench_memory(dir);
	return 0;
}
