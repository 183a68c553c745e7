/* SPDX-License-Identifier: Apache-2.0 */
/* Host mappings of guest memory (mem.c): region sizes, mapping failures, checked translation, copies. */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdint.h>
#include <string.h>

#include "testlib.h"

#include "exit.h"
#include "layout.h"
#include "mem.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

#define PRIMARY_SIZE 0x3000u
#define SCRATCH_GPA (NUB_GPA_TOP - 0x2000u)
#define SCRATCH_SIZE 0x2000u

static void assert_unmapped(const struct nub_mem *m)
{
	assert_null(m->primary.host);
	assert_null(m->primary.map);
	assert_null(m->scratch.host);
	assert_null(m->scratch.map);
}

static void test_map_and_translate(void **state)
{
	(void)state;
	struct nub_mem m;
	struct nub_error err;
	assert_int_equal(nub_mem_map(&m, PRIMARY_SIZE, SCRATCH_GPA, SCRATCH_SIZE, -1, &err),
			 NUB_OK);
	assert_int_equal(m.primary.gpa, NUB_PRIMARY_BASE);
	assert_int_equal(m.primary.size, PRIMARY_SIZE);
	assert_int_equal(m.scratch.gpa, SCRATCH_GPA);
	assert_int_equal(m.scratch.size, SCRATCH_SIZE);

	/* Each region translates from its first to its last byte, and nowhere else. */
	assert_ptr_equal(nub_mem_ptr(&m, NUB_PRIMARY_BASE, 1), m.primary.host);
	assert_ptr_equal(nub_mem_ptr(&m, NUB_PRIMARY_BASE, PRIMARY_SIZE), m.primary.host);
	assert_ptr_equal(nub_mem_ptr(&m, NUB_PRIMARY_BASE + PRIMARY_SIZE - 1, 1),
			 m.primary.host + PRIMARY_SIZE - 1);
	assert_ptr_equal(nub_mem_ptr(&m, SCRATCH_GPA + 0x10, 0x20), m.scratch.host + 0x10);
	assert_ptr_equal(nub_mem_ptr(&m, NUB_GPA_TOP - 1, 1), m.scratch.host + SCRATCH_SIZE - 1);

	assert_null(nub_mem_ptr(&m, NUB_PRIMARY_BASE, 0)); /* len 0 is refused */
	assert_null(nub_mem_ptr(&m, NUB_PRIMARY_BASE - 1, 1));
	assert_null(nub_mem_ptr(&m, NUB_PRIMARY_BASE - 1, 2)); /* straddles the start */
	assert_null(nub_mem_ptr(&m, NUB_PRIMARY_BASE, PRIMARY_SIZE + 1));
	assert_null(nub_mem_ptr(&m, NUB_PRIMARY_BASE + PRIMARY_SIZE, 1)); /* the gap */
	assert_null(nub_mem_ptr(&m, SCRATCH_GPA - 1, 2));
	assert_null(nub_mem_ptr(&m, NUB_GPA_TOP, 1));
	assert_null(nub_mem_ptr(&m, NUB_GPA_TOP - 1, 2));
	assert_null(nub_mem_ptr(&m, 0, 1));
	/* gpa + len wraps past 2^64 in both regions */
	assert_null(nub_mem_ptr(&m, NUB_PRIMARY_BASE + 1, UINT64_MAX));
	assert_null(nub_mem_ptr(&m, SCRATCH_GPA + 1, UINT64_MAX));
	assert_null(nub_mem_ptr(&m, UINT64_MAX, 2));

	/* Fresh mappings are zeroed. */
	for (size_t i = 0; i < PRIMARY_SIZE; i++)
		assert_int_equal(m.primary.host[i], 0);

	nub_mem_unmap(&m);
	assert_unmapped(&m);
	nub_mem_unmap(&m); /* twice is fine */
	assert_null(nub_mem_ptr(&m, NUB_PRIMARY_BASE, 1));
}

static void test_read_write(void **state)
{
	(void)state;
	struct nub_mem m;
	struct nub_error err;
	assert_int_equal(nub_mem_map(&m, PRIMARY_SIZE, SCRATCH_GPA, SCRATCH_SIZE, -1, &err),
			 NUB_OK);

	const uint8_t msg[] = "guest bytes";
	uint8_t back[sizeof msg];
	assert_int_equal(nub_mem_write(&m, NUB_PRIMARY_BASE + 0x123, msg, sizeof msg, &err),
			 NUB_OK);
	assert_memory_equal(m.primary.host + 0x123, msg, sizeof msg);
	memset(back, 0, sizeof back);
	assert_int_equal(nub_mem_read(&m, NUB_PRIMARY_BASE + 0x123, back, sizeof back, &err),
			 NUB_OK);
	assert_memory_equal(back, msg, sizeof msg);

	/* The last bytes of the scratch region. */
	assert_int_equal(nub_mem_write(&m, NUB_GPA_TOP - 4, "abcd", 4, &err), NUB_OK);
	assert_int_equal(nub_mem_read(&m, NUB_GPA_TOP - 4, back, 4, &err), NUB_OK);
	assert_memory_equal(back, "abcd", 4);

	/* Unbacked ranges are refused with the range named, and nothing is copied. */
	memset(back, 0x5a, sizeof back);
	assert_int_equal(nub_mem_read(&m, NUB_GPA_TOP - 4, back, 5, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "guest range 0xffffffffc+0x5 is not backed");
	assert_int_equal(back[0], 0x5a);
	assert_int_equal(nub_mem_write(&m, 0x1000, msg, 4, &err), NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "guest range 0x1000+0x4 is not backed");
	assert_int_equal(nub_mem_write(&m, NUB_PRIMARY_BASE + PRIMARY_SIZE - 2, msg, 4, &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "guest range 0x6ffe+0x4 is not backed");
	assert_int_equal(m.primary.host[PRIMARY_SIZE - 2], 0);
	assert_int_equal(nub_mem_read(&m, NUB_PRIMARY_BASE, back, 0, &err), NUB_E_INVALID);
	nub_mem_unmap(&m);
}

struct size_case {
	uint64_t primary, scratch;
	const char *needle;
};

static void test_bad_sizes(void **state)
{
	(void)state;
	static const struct size_case cases[] = {
		{ 0, SCRATCH_SIZE, "primary region size 0x0 is not a non-zero page multiple" },
		{ 0x1001, SCRATCH_SIZE,
		  "primary region size 0x1001 is not a non-zero page multiple" },
		{ UINT64_MAX & ~0xfffull, SCRATCH_SIZE, "primary region size 0xfffffffffffff000" },
		{ PRIMARY_SIZE, 0, "scratch region size 0x0 is not a non-zero page multiple" },
		{ PRIMARY_SIZE, 0x800,
		  "scratch region size 0x800 is not a non-zero page multiple" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct nub_mem m;
		struct nub_error err;
		memset(&m, 0x5a, sizeof m);
		assert_int_equal(nub_mem_map(&m, cases[i].primary, SCRATCH_GPA, cases[i].scratch,
					     -1, &err),
				 NUB_E_INVALID);
		nub_assert_error(&err, NUB_E_INVALID, cases[i].needle);
		assert_unmapped(&m); /* on failure nothing stays mapped */
	}
}

/* A region larger than the address space cannot be mapped: NUB_E_NOMEM with errno and size. */
static void test_mmap_failure(void **state)
{
	(void)state;
	const uint64_t huge = 1ull << 62;
	struct nub_mem m;
	struct nub_error err;
	assert_int_equal(nub_mem_map(&m, huge, SCRATCH_GPA, SCRATCH_SIZE, -1, &err), NUB_E_NOMEM);
	nub_assert_error(&err, NUB_E_NOMEM,
			 "mmap of the primary region (0x4000000000000000 bytes)");
	assert_int_equal(err.sys_errno, ENOMEM);
	assert_unmapped(&m);

	/* The scratch mapping fails after the primary one succeeded: the primary is released. */
	assert_int_equal(nub_mem_map(&m, PRIMARY_SIZE, SCRATCH_GPA, huge, -1, &err), NUB_E_NOMEM);
	nub_assert_error(&err, NUB_E_NOMEM,
			 "mmap of the scratch region (0x4000000000000000 bytes)");
	assert_int_equal(err.sys_errno, ENOMEM);
	assert_unmapped(&m);
}

/*
 * Backed by a file (a snapshot memfd): the primary region views offset 0, the scratch region the
 * bytes right after it, both copy-on-write, so guest writes never reach the file.
 */
static void test_map_from_fd(void **state)
{
	(void)state;
	int fd = memfd_create("nub-test-mem", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, PRIMARY_SIZE + SCRATCH_SIZE), 0);
	assert_int_equal(pwrite(fd, "PRIM", 4, 0x10), 4);
	assert_int_equal(pwrite(fd, "SCRA", 4, PRIMARY_SIZE + 0x20), 4);

	struct nub_mem m;
	struct nub_error err;
	assert_int_equal(nub_mem_map(&m, PRIMARY_SIZE, SCRATCH_GPA, SCRATCH_SIZE, fd, &err),
			 NUB_OK);
	uint8_t back[4];
	assert_int_equal(nub_mem_read(&m, NUB_PRIMARY_BASE + 0x10, back, 4, &err), NUB_OK);
	assert_memory_equal(back, "PRIM", 4);
	assert_int_equal(nub_mem_read(&m, SCRATCH_GPA + 0x20, back, 4, &err), NUB_OK);
	assert_memory_equal(back, "SCRA", 4);

	assert_int_equal(nub_mem_write(&m, NUB_PRIMARY_BASE + 0x10, "prim", 4, &err), NUB_OK);
	assert_int_equal(nub_mem_write(&m, SCRATCH_GPA + 0x20, "scra", 4, &err), NUB_OK);
	assert_int_equal(nub_mem_read(&m, NUB_PRIMARY_BASE + 0x10, back, 4, &err), NUB_OK);
	assert_memory_equal(back, "prim", 4);
	assert_int_equal(pread(fd, back, 4, 0x10), 4);
	assert_memory_equal(back, "PRIM", 4); /* the file is untouched */
	assert_int_equal(pread(fd, back, 4, PRIMARY_SIZE + 0x20), 4);
	assert_memory_equal(back, "SCRA", 4);
	nub_mem_unmap(&m);
	assert_unmapped(&m);
	close(fd);
}

/* A file that cannot be mapped for reading: NUB_E_NOMEM naming the region, nothing mapped. */
static void test_map_from_unreadable_fd(void **state)
{
	(void)state;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	struct nub_mem m;
	struct nub_error err;
	assert_int_equal(nub_mem_map(&m, PRIMARY_SIZE, SCRATCH_GPA, SCRATCH_SIZE, fd, &err),
			 NUB_E_NOMEM);
	nub_assert_error(&err, NUB_E_NOMEM, "mmap of the primary region from a snapshot");
	assert_int_equal(err.sys_errno, EACCES);
	assert_unmapped(&m);
	close(fd);
}

/* The copy helpers move bytes of any length and alignment. */
static void test_copy_helpers(void **state)
{
	(void)state;
	uint8_t src[37], dst[40];
	for (size_t i = 0; i < sizeof src; i++)
		src[i] = (uint8_t)(i + 1);
	memset(dst, 0, sizeof dst);
	nub_mem_copy_in((volatile uint8_t *)dst + 1, src, sizeof src);
	assert_int_equal(dst[0], 0);
	assert_memory_equal(dst + 1, src, sizeof src);
	assert_int_equal(dst[38], 0);
	uint8_t out[37];
	nub_mem_copy_out(out, (volatile uint8_t *)dst + 1, sizeof out);
	assert_memory_equal(out, src, sizeof src);
}

/* A real layout (default sizes) mapped with its guard pages. */
static void map_guarded(struct nub_mem *m, struct nub_layout *l)
{
	struct nub_error err;
	const struct nub_layout_params p = { .image_end = NUB_PRIMARY_BASE + 0x5000,
					     .heap_size = 0x8000,
					     .input_size = 0x2000,
					     .output_size = 0x2000,
					     .stack_size = 0x2000 };
	assert_int_equal(nub_layout_compute(&p, l, &err), NUB_OK);
	if (nub_mem_map_guarded(m, l, -1, &err) != NUB_OK)
		fail_msg("nub_mem_map_guarded: %s", err.message);
}

/*
 * Touches the byte at host address (p) in a child process (stderr into (report), a file) and
 * asserts that the access faulted: SIGSEGV, or, in the AddressSanitizer flavours when (asan_type)
 * is given (a poisoned guard page), an AddressSanitizer report of that type, which it makes before
 * the access.
 */
static void assert_touch_faults(volatile uint8_t *p, bool write, const char *what,
				const char *asan_type)
{
	char path[] = "/tmp/nub-test-guard-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, 2);
		signal(SIGSEGV,
		       SIG_DFL); /* cmocka's handler would turn the fault into a test failure */
		if (write)
			*p = 1;
		else
			(void)*p;
		_exit(0);
	}
	int ws = 0;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	char report[8192] = { 0 };
	ssize_t n = pread(fd, report, sizeof report - 1, 0);
	close(fd);
	(void)n;
#ifdef TEST_ASAN
	if (asan_type) {
		/* Its exit status, or SIGABRT under ASAN_OPTIONS=abort_on_error=1 (ci/test.sh). */
		bool died = (WIFEXITED(ws) && WEXITSTATUS(ws) != 0) || WIFSIGNALED(ws);
		if (!died || !strstr(report, asan_type))
			fail_msg("%s %s: want an AddressSanitizer %s report, got status 0x%x: %s",
				 write ? "writing" : "reading", what, asan_type, ws, report);
		return;
	}
#else
	(void)asan_type;
#endif
	if (!WIFSIGNALED(ws) || WTERMSIG(ws) != SIGSEGV)
		fail_msg("%s %s: want SIGSEGV, got status 0x%x: %s", write ? "writing" : "reading",
			 what, ws, report);
}

/* One byte past either end of a region, and each guard page inside, faults on the host. */
static void test_guard_pages_fault(void **state)
{
	(void)state;
	struct nub_mem m;
	struct nub_layout l;
	map_guarded(&m, &l);
	uint8_t *ph = m.primary.host, *sh = m.scratch.host;
	assert_touch_faults(ph + l.primary_size, true, "one byte past the primary region", NULL);
	assert_touch_faults(ph - 1, false, "one byte before the primary region", NULL);
	assert_touch_faults(sh + l.scratch_size, false, "one byte past the scratch region", NULL);
	assert_touch_faults(sh - 1, true, "one byte before the scratch region", NULL);
	uint64_t guards[NUB_LAYOUT_GUARDS];
	size_t n = nub_layout_guards(&l, guards);
	assert_int_equal(n, 3);
	assert_int_equal(guards[0], l.stack_guard_gpa);
	assert_int_equal(guards[1], l.exception_guard_gpa);
	assert_int_equal(guards[2], l.meta_gpa + NUB_PAGE_SIZE);
	assert_int_equal(guards[2] + NUB_PAGE_SIZE, NUB_GPA_TOP);
	for (size_t i = 0; i < n; i++) {
		uint8_t *g = sh + (guards[i] - l.scratch_gpa);
		char what[64];
		snprintf(what, sizeof what, "the guard page at 0x%llx",
			 (unsigned long long)guards[i]);
		assert_touch_faults(g, false, what, "use-after-poison");
		assert_touch_faults(g + NUB_PAGE_SIZE - 1, true, what, "use-after-poison");
		/* One byte past the page below (output buffer, stack, metadata page): an overrun. */
		assert_touch_faults(g, true, what, "use-after-poison");
	}
	/* The pages around each guard stay usable. */
	sh[l.stack_guard_gpa - 1 - l.scratch_gpa] = 1;
	sh[l.stack_gpa - l.scratch_gpa] = 1;
	sh[l.meta_gpa + NUB_PAGE_SIZE - 1 - l.scratch_gpa] = 1;
	nub_mem_unmap(&m);
}

/* Guard pages are holes for translation and the region copies, which skip them. */
static void test_guard_pages_are_holes(void **state)
{
	(void)state;
	struct nub_mem m;
	struct nub_layout l;
	map_guarded(&m, &l);
	assert_int_equal(m.scratch.ngaps, 3);
	assert_null(nub_mem_ptr(&m, l.stack_guard_gpa, 1));
	assert_null(nub_mem_ptr(&m, l.stack_guard_gpa - 1, 2)); /* straddles into it */
	assert_null(nub_mem_ptr(&m, l.output_gpa, l.output_size + 1));
	assert_null(nub_mem_ptr(&m, l.exception_guard_gpa + NUB_PAGE_SIZE - 1, 1));
	assert_null(nub_mem_ptr(&m, NUB_GPA_TOP - 1, 1));
	assert_null(nub_mem_ptr(&m, l.scratch_gpa, l.scratch_size));
	assert_non_null(nub_mem_ptr(&m, l.output_gpa, l.output_size));
	assert_non_null(nub_mem_ptr(&m, l.stack_gpa, l.stack_size));
	assert_non_null(nub_mem_ptr(&m, l.meta_gpa, NUB_PAGE_SIZE));
	assert_true(nub_region_is_gap(&m.scratch, l.stack_guard_gpa + 5));
	assert_false(nub_region_is_gap(&m.scratch, l.stack_gpa));
	assert_false(nub_region_is_gap(&m.primary, l.heap_gpa));

	/* Out and back in around the gaps: the gap bytes of the copy keep their 0xaa. */
	uint8_t *img = malloc(l.scratch_size), *img2 = malloc(l.scratch_size);
	memset(m.scratch.host, 0x11, l.stack_guard_gpa - l.scratch_gpa);
	memset(img, 0xaa, l.scratch_size);
	nub_region_copy_out(&m.scratch, img);
	assert_int_equal(img[0], 0x11);
	assert_int_equal(img[l.stack_guard_gpa - l.scratch_gpa], 0xaa);
	assert_int_equal(img[l.scratch_size - 1], 0xaa);
	assert_int_equal(img[l.stack_gpa - l.scratch_gpa], 0);
	memset(img2, 0x22, l.scratch_size);
	nub_region_copy_in(&m.scratch, img2);
	assert_int_equal(m.scratch.host[0], 0x22);
	assert_int_equal(m.scratch.host[l.meta_gpa + NUB_PAGE_SIZE - 1 - l.scratch_gpa], 0x22);
	free(img);
	free(img2);
	nub_mem_unmap(&m);
}

/*
 * A KVM_EXIT_MEMORY_FAULT (hardware KVM: a guest access KVM cannot back because the host page is
 * PROT_NONE) on a guard page is the guest's outcome, NUB_E_MMIO at that address; on any page the
 * engine maps it is the engine's failure, NUB_E_KVM. Decoded without a vCPU (the record only).
 */
static void test_memory_fault_exit_on_a_guard_is_the_guests(void **state)
{
	(void)state;
	struct nub_mem m;
	struct nub_layout l;
	map_guarded(&m, &l);
	const struct nub_exit_env env = { .mem = &m, .layout = &l };
	struct nub_exit x = { .kind = NUB_EXIT_MEMORY_FAULT, .raw_reason = 39 };
	struct nub_error err;
	x.mmio.gpa = l.stack_guard_gpa + 8;
	x.mmio.len = 8;
	assert_int_equal(nub_exit_handle(&env, &x, &err), NUB_OUTB_STOP);
	char want[160];
	snprintf(want, sizeof want,
		 "guest access of 8 bytes at guest-physical address 0x%llx, a guard page",
		 (unsigned long long)(l.stack_guard_gpa + 8));
	nub_assert_error(&err, NUB_E_MMIO, want);
	assert_int_equal(err.gpa, l.stack_guard_gpa + 8);
	x.mmio.gpa = l.heap_gpa;
	x.mmio.len = 1;
	assert_int_equal(nub_exit_handle(&env, &x, &err), NUB_OUTB_STOP);
	snprintf(
		want, sizeof want,
		"KVM_RUN: EFAULT on 1 bytes at guest-physical address 0x%llx, which the engine maps",
		(unsigned long long)l.heap_gpa);
	nub_assert_error(&err, NUB_E_KVM, want);
	nub_mem_unmap(&m);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_map_and_translate),
	cmocka_unit_test(test_read_write),
	cmocka_unit_test(test_bad_sizes),
	cmocka_unit_test(test_mmap_failure),
	cmocka_unit_test(test_map_from_fd),
	cmocka_unit_test(test_map_from_unreadable_fd),
	cmocka_unit_test(test_copy_helpers),
	cmocka_unit_test(test_guard_pages_fault),
	cmocka_unit_test(test_guard_pages_are_holes),
	cmocka_unit_test(test_memory_fault_exit_on_a_guard_is_the_guests),
};

NUB_TEST_SUITE(tests);
