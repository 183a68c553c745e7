/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The standalone reproducer <target>-repro FILE|DIR...: runs each input once through the target,
 * all in one process, printing the decoded input, the outcome and a signature. A directory is
 * replayed in name order, except a keep directory of the AFL++ driver (it holds a ring file,
 * keep_ring.h), which is replayed oldest input first. Needs no fuzzing engine, so it builds in
 * every flavour. Arguments starting with '-' (libFuzzer flags) are ignored. Inputs are opened without
 * blocking; anything but a regular file (or a directory) is refused as a setup error.
 * Exit status: 0 every input that ran was handled (an input over the target's size limit is
 * skipped and says so), 2 usage, 3 setup error (an input refused or unreadable), 4 no input ran
 * (an empty directory, or every input skipped); a host crash ends the process with the
 * sanitizer's status or the signal.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input_file.h"
#include "keep_ring.h"
#include "nub_fuzz.h"

#ifndef NUB_FUZZ_TARGET_NAME
#error "NUB_FUZZ_TARGET_NAME must name the target (set by harness/fuzz/targets.cmake)"
#endif

/* Optional in a target: the weak references are NULL when it does not define them. */
#pragma weak LLVMFuzzerInitialize
#pragma weak nub_fuzz_describe

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HAVE_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HAVE_SANITIZER 1
#endif
#endif

#define HEXDUMP_MAX 256u
#define MAX_FRAMES 3

#define READ_LIMIT ((size_t)1 << 30) /* above every target's own limit */

enum { EXIT_USAGE = 2, EXIT_SETUP = 3, EXIT_NOTHING_RAN = 4 };

static const char *current_file = "(none)";
static size_t handled, skipped, refused;

static void print_outcome(const char *cls)
{
	printf("outcome: %s\n", cls);
}

#ifndef HAVE_SANITIZER
/*
 * Without a sanitizer, a crash is reported from a signal handler: the signal, and up to three
 * frames of this executable above it (exported names; unexported functions as module offsets,
 * stable for one build). Not async-signal-safe, but the process is dying anyway.
 */
static void *exe_base;
static char altstack[64 << 10];

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGSEGV:
		return "SIGSEGV";
	case SIGBUS:
		return "SIGBUS";
	case SIGFPE:
		return "SIGFPE";
	case SIGILL:
		return "SIGILL";
	case SIGABRT:
		return "SIGABRT";
	default:
		return "signal";
	}
}

static void on_crash(int sig)
{
	void *pcs[64];
	char frames[512] = "", line[1024];
	int n = backtrace(pcs, 64), kept = 0;

	/* pcs[0] is this handler, pcs[1] the signal trampoline. */
	for (int i = 2; i < n && kept < MAX_FRAMES; i++) {
		Dl_info info;
		char name[160];
		if (!dladdr(pcs[i], &info) || info.dli_fbase != exe_base)
			continue; /* libc (raise, abort) and other modules */
		if (info.dli_sname && (strncmp(info.dli_sname, "nub_fuzz_", 9) == 0 ||
				       strcmp(info.dli_sname, "main") == 0))
			continue; /* harness and driver */
		if (info.dli_sname)
			snprintf(name, sizeof name, "%s", info.dli_sname);
		else
			snprintf(name, sizeof name, "0x%lx",
				 (unsigned long)((char *)pcs[i] - (char *)exe_base));
		size_t used = strlen(frames);
		snprintf(frames + used, sizeof frames - used, "%s%s", kept ? " > " : "", name);
		kept++;
		if (info.dli_sname && strcmp(info.dli_sname, "LLVMFuzzerTestOneInput") == 0)
			break;
	}
	/* A named invariant signs with its engine operation and check instead of frames. */
	const char *inv = sig == SIGABRT ? nub_fuzz_failed_invariant() : NULL;
	snprintf(line, sizeof line, "crash: %s while running %s\nsignature: %s | %s | %s | %s\n",
		 signal_name(sig), current_file, NUB_FUZZ_TARGET_NAME,
		 inv ? "invariant" : signal_name(sig),
		 inv    ? inv
		 : kept ? frames
			: "-",
		 nub_fuzz_last_outcome());
	fflush(stdout);
	if (write(STDOUT_FILENO, line, strlen(line)) < 0) {
		/* nothing more to do */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_crash_handlers(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
	struct sigaction sa;
	Dl_info info;
	void *warm[1];

	if (dladdr((void *)&install_crash_handlers, &info))
		exe_base = info.dli_fbase;
	backtrace(warm, 1); /* loads the unwinder now, not inside the handler */
	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
}
#else
static void install_crash_handlers(void)
{
	/* The sanitizer reports crashes; ci/repro.sh turns its report into a signature. */
}
#endif

/* Runs one input (a private copy of exactly (len) bytes, as libFuzzer gives it). */
static void run_input(const char *name, uint8_t *data, size_t len)
{
	printf("== %s (%zu bytes)\n", name, len);
	if (nub_fuzz_describe)
		nub_fuzz_describe(data, len, stdout);
	else
		nub_fuzz_hexdump(stdout, data, len, HEXDUMP_MAX);
	fflush(stdout);
	current_file = name;
	nub_fuzz_outcome_reset();
	LLVMFuzzerTestOneInput(data, len);
	if (nub_fuzz_skipped()) {
		printf("skipped: %s\n", nub_fuzz_skipped());
		fflush(stdout);
		skipped++;
		return;
	}
	if (strcmp(nub_fuzz_last_outcome(), "-") == 0)
		print_outcome("-");
	printf("signature: %s | none | - | %s\n", NUB_FUZZ_TARGET_NAME, nub_fuzz_last_outcome());
	fflush(stdout);
	handled++;
}

/* A setup error about an input: counted, and the reproducer's status becomes EXIT_SETUP. */
static int refuse(const char *msg)
{
	fflush(stdout);
	printf("%s-repro: setup error: %s\n", NUB_FUZZ_TARGET_NAME, msg);
	fflush(stdout);
	refused++;
	return -1;
}

/* The inputs of an AFL++ keep ring, oldest first. 1 if (dir) holds no ring. */
static int run_ring(const char *dir)
{
	char path[4096], name[4200];
	struct keep_header h;
	int rc = 0;

	snprintf(path, sizeof path, "%s/%s", dir, KEEP_RING_NAME);
	struct stat st;
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 1; /* no ring (a FIFO named ring is not one either: fopen would block) */
	FILE *f = fopen(path, "rb");
	if (!f)
		return 1;
	if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, KEEP_MAGIC, sizeof h.magic) != 0 ||
	    h.slots != KEEP_SLOTS || h.slot_cap != KEEP_SLOT_CAP) {
		fclose(f);
		return 1;
	}
	uint64_t n = h.next_seq < KEEP_SLOTS ? h.next_seq : KEEP_SLOTS;
	printf("%s-repro: replaying the last %llu inputs kept in %s, oldest first\n",
	       NUB_FUZZ_TARGET_NAME, (unsigned long long)n, path);
	for (uint64_t k = 0; k < n && rc == 0; k++) {
		uint64_t seq = h.next_seq - n + k;
		unsigned slot = (unsigned)(seq % KEEP_SLOTS);
		uint64_t len = h.slot[slot].len < KEEP_SLOT_CAP ? h.slot[slot].len : KEEP_SLOT_CAP;
		uint8_t *data = malloc(len ? len : 1);
		if (!data || h.slot[slot].seq != seq ||
		    fseek(f, (long)(KEEP_HEADER_SIZE + (uint64_t)slot * KEEP_SLOT_CAP), SEEK_SET) !=
			    0 ||
		    fread(data, 1, len, f) != len) {
			fprintf(stderr, "%s-repro: %s: slot %u is unreadable\n",
				NUB_FUZZ_TARGET_NAME, path, slot);
			rc = -1;
		} else {
			if (h.slot[slot].len > len)
				printf("(input %llu was %llu bytes; the ring kept the first %llu)\n",
				       (unsigned long long)seq,
				       (unsigned long long)h.slot[slot].len,
				       (unsigned long long)len);
			snprintf(name, sizeof name, "%s[input %llu]", path,
				 (unsigned long long)seq);
			run_input(name, data, len);
		}
		free(data);
	}
	fclose(f);
	return rc;
}

static int name_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_path(const char *path)
{
	struct dirent **names;
	uint8_t *data;
	size_t len;
	char msg[4200];
	int rc = 0;

	switch (input_file_read(path, READ_LIMIT, &data, &len, msg, sizeof msg)) {
	case INPUT_FILE_OK:
		run_input(path, data, len);
		free(data);
		return 0;
	case INPUT_FILE_TOO_LARGE:
		printf("== %s (%zu bytes)\nskipped: %zu bytes over the limit %zu\n", path, len, len,
		       READ_LIMIT);
		skipped++;
		return 0;
	case INPUT_FILE_DIRECTORY:
		break;
	default:
		return refuse(msg);
	}
	int ring = run_ring(path);
	if (ring <= 0)
		return ring;
	int n = scandir(path, &names, NULL, name_order);
	if (n < 0) {
		snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno));
		return refuse(msg);
	}
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			size_t sz = strlen(path) + strlen(names[i]->d_name) + 2;
			char *child = malloc(sz);
			if (!child) {
				rc = refuse("out of memory");
			} else {
				snprintf(child, sz, "%s/%s", path, names[i]->d_name);
				if (run_path(child) != 0)
					rc = -1;
				free(child);
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0, inputs = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	nub_fuzz_set_replaying(true);
	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-')
			inputs++;
	if (inputs == 0) {
		fprintf(stderr,
			"usage: %s-repro FILE|DIR...\n"
			"Runs each input once through the %s target and prints the decoded input,\n"
			"the outcome and a signature line.\n"
			"Exit status: 0 every input that ran was handled (inputs over the target's\n"
			"size limit are skipped, each with a \"skipped:\" line), 2 usage, 3 setup\n"
			"error (an input that is not a regular file or directory, or unreadable),\n"
			"4 no input ran; a host crash exits with the sanitizer's status or a signal.\n",
			NUB_FUZZ_TARGET_NAME, NUB_FUZZ_TARGET_NAME);
		return EXIT_USAGE;
	}
	install_crash_handlers();
	nub_fuzz_set_outcome_sink(print_outcome);
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-')
			run_path(argv[i]);
	printf("%s-repro: %zu inputs handled, %zu skipped, %zu refused\n", NUB_FUZZ_TARGET_NAME,
	       handled, skipped, refused);
	if (refused)
		rc = EXIT_SETUP;
	else if (handled == 0)
		rc = EXIT_NOTHING_RAN;
	return rc;
}
