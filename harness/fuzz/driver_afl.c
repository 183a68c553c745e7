/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AFL++ driver <target>-afl: persistent mode with shared-memory test cases (afl-clang-fast).
 * The fork server starts at __AFL_INIT, before LLVMFuzzerInitialize, so a target may create its
 * KVM VM there: KVM only serves the process that created a VM, and every forked child makes its
 * own. Debian's AFL++ 4.04c has no AFL_PERSISTENT_RECORD, so the driver keeps the last
 * KEEP_SLOTS inputs itself: each fork-server child writes them to a shared-mapped ring file
 * (keep_ring.h) in $NUB_FUZZ_KEEP_DIR/child-<pid>/ (default ./nub-last-inputs; "off" disables),
 * which costs no system call per input and survives SIGKILL. A child that ends its persistent
 * loop normally removes its directory, so what remains belongs to children that crashed or were
 * killed (hangs, or the end of the campaign). On a crash signal the driver also writes the kept
 * inputs out as plain files input-0..input-7 with ORDER (oldest first). Replay a directory in
 * order, in one process, with `ci/repro.sh DIR` or `<target>-repro DIR`.
 * Without AFL (`<target>-afl FILE...`) it runs each file once.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input_file.h"
#include "keep_ring.h"
#include "nub_fuzz.h"

#ifndef __AFL_FUZZ_TESTCASE_LEN
#error "driver_afl.c must be compiled by afl-clang-fast (the afl flavour)"
#endif

#pragma weak LLVMFuzzerInitialize

#define LOOP_COUNT 10000

__AFL_FUZZ_INIT();
/* Selective coverage: the driver's own bookkeeping stays out of the coverage map (stability). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes" /* AFL++'s macro declares f() */
__AFL_COVERAGE();
#pragma GCC diagnostic pop

static struct {
	char dir[4096];
	struct keep_header *ring; /* shared mapping of KEEP_FILE_SIZE bytes */
} keep;

static void keep_open(void)
{
	const char *top = getenv("NUB_FUZZ_KEEP_DIR");
	char path[4096 + 32];
	int fd = -1;

	if (!top || !*top)
		top = "nub-last-inputs";
	if (strcmp(top, "off") == 0)
		return;
	snprintf(keep.dir, sizeof keep.dir, "%s/child-%ld", top, (long)getpid());
	if ((mkdir(top, 0777) != 0 && errno != EEXIST) ||
	    (mkdir(keep.dir, 0777) != 0 && errno != EEXIST))
		goto fail;
	snprintf(path, sizeof path, "%s/%s", keep.dir, KEEP_RING_NAME);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)KEEP_FILE_SIZE) != 0)
		goto fail;
	void *p = mmap(NULL, KEEP_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	close(fd);
	keep.ring = p;
	memcpy(keep.ring->magic, KEEP_MAGIC, sizeof keep.ring->magic);
	keep.ring->slots = KEEP_SLOTS;
	keep.ring->slot_cap = KEEP_SLOT_CAP;
	return;
fail:
	fprintf(stderr, "nub-fuzz: cannot keep the last inputs in %s: %s (continuing without)\n",
		keep.dir, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Stores (data) as the next input: a memcpy into the shared mapping, no system call. */
static void keep_input(const uint8_t *data, size_t len)
{
	struct keep_header *r = keep.ring;

	if (!r)
		return;
	uint64_t seq = r->next_seq;
	unsigned slot = (unsigned)(seq % KEEP_SLOTS);
	memcpy((uint8_t *)r + KEEP_HEADER_SIZE + (uint64_t)slot * KEEP_SLOT_CAP, data,
	       len < KEEP_SLOT_CAP ? len : KEEP_SLOT_CAP);
	r->slot[slot].len = len;
	r->slot[slot].seq = seq;
	__atomic_store_n(&r->next_seq, seq + 1, __ATOMIC_RELEASE);
}

/* On a crash signal: the kept inputs as plain files input-<k> (k = 0 oldest) plus ORDER. */
static void keep_write_files(void)
{
	struct keep_header *r = keep.ring;
	char path[4096 + 32], order[KEEP_SLOTS * 16];
	size_t used = 0;

	if (!r)
		return;
	uint64_t n = r->next_seq < KEEP_SLOTS ? r->next_seq : KEEP_SLOTS;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t seq = r->next_seq - n + k;
		unsigned slot = (unsigned)(seq % KEEP_SLOTS);
		uint64_t len = r->slot[slot].len < KEEP_SLOT_CAP ? r->slot[slot].len
								 : KEEP_SLOT_CAP;
		snprintf(path, sizeof path, "%s/input-%u", keep.dir, (unsigned)k);
		/* O_NOFOLLOW | O_NONBLOCK: a link or FIFO planted there is not written through. */
		int fd = open(path,
			      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
			      0644);
		if (fd < 0)
			return;
		if (write(fd, (uint8_t *)r + KEEP_HEADER_SIZE + (uint64_t)slot * KEEP_SLOT_CAP,
			  len) < 0) {
			/* keep going: the ring still has it */
		}
		close(fd);
		used += (size_t)snprintf(order + used, sizeof order - used, "input-%u\n",
					 (unsigned)k);
	}
	snprintf(path, sizeof path, "%s/ORDER", keep.dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		      0644);
	if (fd >= 0) {
		if (write(fd, order, used) < 0) {
			/* nothing more to do */
		}
		close(fd);
	}
}

static void on_crash(int sig)
{
	keep_write_files();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_crash_handlers(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	static char altstack[64 << 10];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
	struct sigaction sa;

	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
}

/* The loop ended normally: nothing to replay, remove the directory. */
static void keep_remove(void)
{
	char path[4096 + 32];

	if (!keep.ring)
		return;
	munmap(keep.ring, KEEP_FILE_SIZE);
	keep.ring = NULL;
	snprintf(path, sizeof path, "%s/%s", keep.dir, KEEP_RING_NAME);
	unlink(path);
	rmdir(keep.dir);
}

/*
 * Outside afl-fuzz: each file argument once. Inputs are opened without blocking; anything but a
 * regular file is refused (exit 3, like the reproducer's setup error), an unreadable one exit 1.
 */
static int run_files(int argc, char **argv)
{
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		uint8_t *buf;
		size_t n;
		char msg[4200];
		enum input_file_status st = input_file_read(argv[i], (size_t)1 << 30, &buf, &n, msg,
							    sizeof msg);
		if (st == INPUT_FILE_OK) {
			LLVMFuzzerTestOneInput(buf, n);
			free(buf);
		} else if (st == INPUT_FILE_REFUSED || st == INPUT_FILE_DIRECTORY) {
			fprintf(stderr, "nub-fuzz: %s\n", msg);
			rc = 3;
		} else {
			fprintf(stderr, "nub-fuzz: cannot read %s\n", msg);
			if (rc == 0)
				rc = 1;
		}
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !getenv("__AFL_SHM_ID")) {
		if (LLVMFuzzerInitialize)
			LLVMFuzzerInitialize(&argc, &argv);
		return run_files(argc, argv);
	}

	/* Everything from here runs in the fork server's children. */
	__AFL_INIT();
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	keep_open();
	if (keep.ring)
		install_crash_handlers();
	const uint8_t *buf = __AFL_FUZZ_TESTCASE_BUF;
	while (__AFL_LOOP(LOOP_COUNT)) {
		size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
		__AFL_COVERAGE_OFF();
		keep_input(buf, len);
		__AFL_COVERAGE_ON();
		LLVMFuzzerTestOneInput(buf, len);
	}
	keep_remove();
	return 0;
}
