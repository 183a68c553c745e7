/* SPDX-License-Identifier: Apache-2.0 */
/* Host mappings of guest memory (mem.c): region sizes, mapping failures, checked translation, copies. */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdint.h>
#include <string.h>

#include "testlib.h"

#include "mem.h"

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

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_map_and_translate), cmocka_unit_test(test_read_write),
	cmocka_unit_test(test_bad_sizes),         cmocka_unit_test(test_mmap_failure),
	cmocka_unit_test(test_map_from_fd),       cmocka_unit_test(test_map_from_unreadable_fd),
	cmocka_unit_test(test_copy_helpers),
};

NUB_TEST_SUITE(tests);
