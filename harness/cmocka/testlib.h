/* SPDX-License-Identifier: Apache-2.0 */
/* cmocka support of the regression suite: suites, guest paths, log capture, test guests, asserts */
#ifndef NUB_TESTLIB_H
#define NUB_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libelf.h>

#include "nub/nub.h"

/* Path of a built guest ELF, e.g. NUB_TEST_GUEST("simple"). */
#define NUB_TEST_GUEST(name) NUB_GUEST_DIR "/" name ".elf"

/*
 * A suite is the array of its test cases: each tests/test_<name>.c ends with
 * NUB_TEST_SUITE(tests), and the shared main (cmocka/main.c) runs it, after skipping the whole
 * suite without /dev/kvm when it is labelled kvm, and honours NUB_TEST_FILTER=<glob>.
 */
struct nub_test_suite {
	const struct CMUnitTest *tests;
	size_t count;
};
extern const struct nub_test_suite nub_test_suite;
#define NUB_TEST_SUITE(array)                                                                      \
	const struct nub_test_suite nub_test_suite = { (array), sizeof(array) / sizeof((array)[0]) }

/* A case of a suite whose file defines the fixture functions setup() and teardown(). */
#define NUB_TEST_CASE(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/*
 * Evolves the built guest (guest) ("simple", "dummy", ...) with (cfg) (NULL: the defaults) and
 * returns the ready sandbox; any failure fails the test, naming the status and message.
 */
struct nub_sandbox *nub_test_evolve(const char *guest, const struct nub_config *cfg);

/*
 * The descriptor of the first ELF note named (name) with type (type) in any PT_NOTE of (e) (an
 * ELF core, say), *(len) its size; NULL if there is none.
 */
const uint8_t *nub_test_elf_note(Elf *e, const char *name, uint32_t type, size_t *len);

/* Captures log records and debug-print text for assertions. */
#define NUB_TEST_MAX_LOGS 32
struct nub_test_capture {
	int nlogs;
	enum nub_abi_log_level levels[NUB_TEST_MAX_LOGS];
	char messages[NUB_TEST_MAX_LOGS][256];
	char files[NUB_TEST_MAX_LOGS][128];
	uint32_t lines[NUB_TEST_MAX_LOGS];
	char printed[4096];
	size_t printed_len;
};
/* Points (cfg)'s log and debug_print callbacks at (cap). */
void nub_test_capture_attach(struct nub_config *cfg, struct nub_test_capture *cap);

/*
 * A hand-made guest ELF (elf_file.h) for tests that need instructions the `simple` guest never
 * runs: up to NUB_TEST_MAX_SEGMENTS PT_LOAD segments (at most a page each, at file offsets
 * (i + 1) * 0x1000, listed in the given order, p_filesz == p_memsz), plus a PT_NOTE (not loaded)
 * with the nub ABI note. The guest starts at (entry) in long mode without an IDT, so any
 * exception is a triple fault. Returns a calloc'd image (free it) of *(len) bytes.
 */
#define NUB_TEST_MAX_SEGMENTS 4u
struct nub_test_segment {
	uint64_t gpa;
	uint32_t flags; /* PF_R | PF_W | PF_X */
	const uint8_t *bytes;
	size_t len;
};
uint8_t *nub_test_build_guest(const struct nub_test_segment *segs, size_t n, uint64_t entry,
			      size_t *len);

/* Asserts (err)'s status is (st) and its message contains (needle) (NULL = skip the message check). */
#define nub_assert_error(err, st, needle)                                                          \
	nub_test_assert_error((err), (st), (needle), __FILE__, __LINE__)
void nub_test_assert_error(const struct nub_error *err, enum nub_status st, const char *needle,
			   const char *file, int line);

#endif
