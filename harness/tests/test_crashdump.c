/* SPDX-License-Identifier: Apache-2.0 */
/* KVM tests: core files of real guests for each poisoning outcome, on demand, and when writing fails. */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/reg.h>
#include <time.h>
#include <unistd.h>

#include "coredump.h"
#include "simple_fns.h"
#include "testlib.h"

struct fixture {
	struct nub_config cfg;
	struct nub_test_capture cap;
	struct nub_sandbox *sb;
	struct nub_buf resp;
	struct nub_error err;
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/nub-test-cores-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	nub_config_default(&f->cfg);
	nub_test_capture_attach(&f->cfg, &f->cap);
	f->cfg.core_dump = true;
	f->cfg.core_dump_dir = f->dir;
	f->cfg.time_limit_ms = 100;
	*state = f;
	return 0;
}

/* Removes every file in the fixture's directory, then the directory. */
static int teardown(void **state)
{
	struct fixture *f = *state;
	nub_sandbox_free(f->sb);
	nub_buf_free(&f->resp);
	DIR *d = opendir(f->dir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));) {
		char p[sizeof f->dir + sizeof e->d_name + 1];
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
	return 0;
}

static void make(struct fixture *f)
{
	f->sb = nub_test_evolve("simple", &f->cfg);
}

static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* What a core says, read back with libelf. */
struct core {
	struct elf_prstatus prs;
	siginfo_t si;
	char outcome[1024];
	uint8_t at_rip[16]; /* the bytes of the PT_LOAD holding pr_reg[RIP], at RIP */
	bool have_rip_bytes;
};

static void read_core(const char *path, struct core *c)
{
	memset(c, 0, sizeof *c);
	elf_version(EV_CURRENT);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	size_t len;
	const uint8_t *desc = nub_test_elf_note(e, "CORE", NT_PRSTATUS, &len);
	if (desc && len == sizeof c->prs)
		memcpy(&c->prs, desc, sizeof c->prs);
	desc = nub_test_elf_note(e, "CORE", NT_SIGINFO, &len);
	if (desc && len == sizeof c->si)
		memcpy(&c->si, desc, sizeof c->si);
	desc = nub_test_elf_note(e, "NUB", NUB_CORE_NOTE_OUTCOME, &len);
	if (desc)
		snprintf(c->outcome, sizeof c->outcome, "%.*s", (int)len, desc);
	size_t n;
	assert_int_equal(elf_getphdrnum(e, &n), 0);
	uint64_t rip = c->prs.pr_reg[RIP];
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		assert_non_null(gelf_getphdr(e, (int)i, &ph));
		if (ph.p_type == PT_LOAD && rip >= ph.p_vaddr &&
		    rip + 16 <= ph.p_vaddr + ph.p_filesz) {
			assert_int_equal(pread(fd, c->at_rip, 16,
					       (off_t)(ph.p_offset + rip - ph.p_vaddr)),
					 16);
			c->have_rip_bytes = true;
		}
	}
	elf_end(e);
	close(fd);
}

/* The 16 bytes at (va) in the guest ELF file, from its PT_LOAD. */
static void elf_bytes(uint64_t va, uint8_t out[16])
{
	int fd = open(NUB_TEST_GUEST("simple"), O_RDONLY);
	assert_true(fd >= 0);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	size_t n;
	bool found = false;
	assert_int_equal(elf_getphdrnum(e, &n), 0);
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		gelf_getphdr(e, (int)i, &ph);
		if (ph.p_type == PT_LOAD && va >= ph.p_vaddr &&
		    va + 16 <= ph.p_vaddr + ph.p_filesz) {
			assert_int_equal(pread(fd, out, 16, (off_t)(ph.p_offset + va - ph.p_vaddr)),
					 16);
			found = true;
		}
	}
	assert_true(found);
	elf_end(e);
	close(fd);
}

/*
 * The real gdb opens the core at (path) next to the guest ELF and reports (rip) as the guest's
 * RIP, inside a named guest function (the fault, abort and time-limit cores get the same check
 * from harness/scripts/core_gdb.sh).
 */
static void expect_gdb_rip(const char *path, uint64_t rip)
{
	char cmd[512], line[512], want[64];
	snprintf(cmd, sizeof cmd, "timeout 60 gdb -batch -nx %s %s -ex 'info registers rip' 2>&1",
		 NUB_TEST_GUEST("simple"), path);
	snprintf(want, sizeof want, "rip            0x%llx ", (unsigned long long)rip);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	bool seen = false;
	while (fgets(line, sizeof line, p))
		seen |= strncmp(line, want, strlen(want)) == 0 && strchr(line, '<') != NULL;
	assert_int_equal(pclose(p), 0);
	if (!seen)
		fail_msg("gdb did not report '%s<function>' for %s", want, path);
}

/* A page fault: the core has the fault's RIP, CR2 as the signal address, the code at RIP. */
static void test_fault_core(void **state)
{
	struct fixture *f = *state;
	make(f);
	assert_int_equal(nub_sandbox_call(f->sb, SIMPLE_NULL_DEREF, NULL, 0, &f->resp, &f->err),
			 NUB_E_GUEST_FAULT);
	const char *path = nub_sandbox_last_core(f->sb);
	assert_non_null(path);
	char prefix[128];
	snprintf(prefix, sizeof prefix, "%s/simple.", f->dir);
	assert_int_equal(strncmp(path, prefix, strlen(prefix)), 0);
	assert_non_null(strstr(path, ".1.core"));
	assert_int_equal(count_files(f->dir), 1);

	struct core c;
	read_core(path, &c);
	assert_int_equal(c.prs.pr_cursig, SIGSEGV);
	assert_int_equal(c.prs.pr_reg[RIP], f->err.rip);
	assert_int_equal(c.prs.pr_reg[CS], 0x08);
	assert_int_equal(c.si.si_signo, SIGSEGV);
	assert_ptr_equal(c.si.si_addr, (void *)0x8);
	assert_true(c.have_rip_bytes);
	uint8_t want[16];
	elf_bytes(f->err.rip, want);
	assert_memory_equal(c.at_rip, want, 16);
	assert_non_null(strstr(c.outcome, "status=NUB_E_GUEST_FAULT vector=14 "));
	assert_non_null(strstr(c.outcome, "cr2=0x8 "));
	assert_int_equal(c.prs.pr_reg[RSP] & 0xF, 0x8); /* the faulting frame's stack, not IST1's */

	/* The engine logged where the core went, and the sandbox restores as before. */
	bool logged = false;
	for (int i = 0; i < f->cap.nlogs; i++)
		logged |= strstr(f->cap.messages[i], "core file written: ") != NULL;
	assert_true(logged);
}

/* An abort, a time limit and a protocol error each get a core; a guest error gets none. */
static void test_abort_time_limit_and_no_core(void **state)
{
	struct fixture *f = *state;
	struct nub_snapshot *snap = NULL;
	struct core c;
	make(f);
	assert_int_equal(nub_sandbox_snapshot(f->sb, &snap, &f->err), NUB_OK);

	assert_int_equal(nub_sandbox_call(f->sb, SIMPLE_ABORT,
					  "\x2a"
					  "boom",
					  5, &f->resp, &f->err),
			 NUB_E_GUEST_ABORT);
	assert_non_null(nub_sandbox_last_core(f->sb));
	read_core(nub_sandbox_last_core(f->sb), &c);
	assert_int_equal(c.prs.pr_cursig, SIGABRT);
	assert_non_null(strstr(c.outcome, "status=NUB_E_GUEST_ABORT "));
	assert_non_null(strstr(c.outcome, "boom"));
	assert_int_equal(nub_sandbox_restore(f->sb, snap, &f->err), NUB_OK);

	assert_int_equal(nub_sandbox_call(f->sb, SIMPLE_SPIN, NULL, 0, &f->resp, &f->err),
			 NUB_E_TIME_LIMIT);
	read_core(nub_sandbox_last_core(f->sb), &c);
	assert_int_equal(c.prs.pr_cursig, SIGALRM);
	assert_non_null(strstr(nub_sandbox_last_core(f->sb), ".2.core"));
	assert_int_equal(nub_sandbox_restore(f->sb, snap, &f->err), NUB_OK);

	/* A guest error does not poison: no core. */
	assert_int_equal(nub_sandbox_call(f->sb, SIMPLE_ADD, "x", 1, &f->resp, &f->err),
			 NUB_E_GUEST_ERROR);
	assert_int_equal(count_files(f->dir), 2);

	/* A protocol error gets one too. */
	assert_int_equal(nub_sandbox_call(f->sb, SIMPLE_BAD_PORT, NULL, 0, &f->resp, &f->err),
			 NUB_E_PROTOCOL);
	assert_int_equal(count_files(f->dir), 3);
	read_core(nub_sandbox_last_core(f->sb), &c);
	assert_int_equal(c.prs.pr_cursig, SIGSEGV);
	assert_int_equal(nub_sandbox_restore(f->sb, snap, &f->err), NUB_OK);
	assert_int_equal(nub_sandbox_call(f->sb, SIMPLE_ECHO, "a", 1, &f->resp, &f->err), NUB_OK);
	nub_snapshot_unref(snap);
}

struct killer {
	struct nub_interrupt *h;
	atomic_bool done;
};

static void *kill_loop(void *arg)
{
	struct killer *k = arg;
	while (!atomic_load(&k->done)) {
		nub_interrupt_kill(k->h);
		nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
	}
	return NULL;
}

static void test_kill_writes_no_core(void **state)
{
	struct fixture *f = *state;
	f->cfg.time_limit_ms = 0;
	make(f);
	struct killer k = { .h = nub_sandbox_interrupt_handle(f->sb) };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, kill_loop, &k), 0);
	assert_int_equal(nub_sandbox_call(f->sb, SIMPLE_SPIN, NULL, 0, &f->resp, &f->err),
			 NUB_E_CANCELLED);
	atomic_store(&k.done, true);
	pthread_join(t, NULL);
	nub_interrupt_unref(k.h);
	assert_int_equal(nub_sandbox_status(f->sb), NUB_SANDBOX_POISONED);
	assert_null(nub_sandbox_last_core(f->sb));
	assert_int_equal(count_files(f->dir), 0);
}

/* On demand: a ready sandbox (signal 0), then a poisoned one (the fault's registers). */
static void test_on_demand(void **state)
{
	struct fixture *f = *state;
	char path[128];
	struct core c;
	f->cfg.core_dump = false;
	make(f);
	snprintf(path, sizeof path, "%s/now.core", f->dir);
	assert_int_equal(nub_sandbox_write_core(f->sb, path, &f->err), NUB_OK);
	read_core(path, &c);
	assert_int_equal(c.prs.pr_cursig, 0);
	assert_non_null(strstr(c.outcome, "status=NUB_OK"));
	expect_gdb_rip(path, c.prs.pr_reg[RIP]);

	assert_int_equal(nub_sandbox_call(f->sb, SIMPLE_DIVIDE_BY_ZERO, NULL, 0, &f->resp, &f->err),
			 NUB_E_GUEST_FAULT);
	assert_null(nub_sandbox_last_core(f->sb)); /* core_dump is off */
	uint64_t rip = f->err.rip;
	assert_int_equal(nub_sandbox_write_core(f->sb, path, &f->err), NUB_OK); /* replaces it */
	read_core(path, &c);
	assert_int_equal(c.prs.pr_cursig, SIGFPE);
	assert_int_equal(c.prs.pr_reg[RIP], rip);
	assert_int_equal(count_files(f->dir), 1);

	assert_int_equal(nub_sandbox_write_core(f->sb, "/dev/null", &f->err), NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID, "is a character device; not replacing it");
	assert_int_equal(nub_sandbox_write_core(f->sb, "", &f->err), NUB_E_INVALID);
	assert_int_equal(nub_sandbox_write_core(NULL, path, &f->err), NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID, "sandbox is NULL");
}

/* A core that cannot be written is logged and changes nothing about the outcome. */
static void test_unwritable_directory(void **state)
{
	struct fixture *f = *state;
	f->cfg.core_dump_dir = "/nonexistent-nub-cores";
	make(f);
	assert_int_equal(nub_sandbox_call(f->sb, SIMPLE_NULL_DEREF, NULL, 0, &f->resp, &f->err),
			 NUB_E_GUEST_FAULT);
	nub_assert_error(&f->err, NUB_E_GUEST_FAULT, "guest fault: page fault (#PF), vector 14");
	assert_int_equal(nub_sandbox_status(f->sb), NUB_SANDBOX_POISONED);
	assert_null(nub_sandbox_last_core(f->sb));
	int i = f->cap.nlogs - 1;
	assert_true(i >= 0);
	assert_int_equal(f->cap.levels[i], NUB_LEVEL_ERROR);
	assert_non_null(strstr(f->cap.messages[i],
			       "core file not written: core dump /nonexistent-nub-cores/simple."));
	assert_non_null(strstr(f->cap.messages[i], ": creating a temporary file"));
}

/* Off by default; an empty directory is refused by the configuration check. */
static void test_config(void **state)
{
	struct fixture *f = *state;
	struct nub_config cfg;
	nub_config_default(&cfg);
	assert_false(cfg.core_dump);
	assert_null(cfg.core_dump_dir);
	cfg.core_dump_dir = "";
	assert_int_equal(nub_config_validate(&cfg, &f->err), NUB_E_INVALID);
	nub_assert_error(&f->err, NUB_E_INVALID, "config.core_dump_dir must be a non-empty path");

	/* The directory string is copied: the caller's may change after nub_uninit_new. */
	char dir[64];
	snprintf(dir, sizeof dir, "%s", f->dir);
	f->cfg.core_dump_dir = dir;
	make(f);
	memset(dir, 'x', sizeof dir - 1);
	assert_int_equal(nub_sandbox_call(f->sb, SIMPLE_INVALID_OPCODE, NULL, 0, &f->resp, &f->err),
			 NUB_E_GUEST_FAULT);
	assert_non_null(nub_sandbox_last_core(f->sb));
	assert_int_equal(strncmp(nub_sandbox_last_core(f->sb), f->dir, strlen(f->dir)), 0);
	struct core c;
	read_core(nub_sandbox_last_core(f->sb), &c);
	assert_int_equal(c.prs.pr_cursig, SIGILL);
}

static const struct CMUnitTest tests[] = {
	NUB_TEST_CASE(test_fault_core),           NUB_TEST_CASE(test_abort_time_limit_and_no_core),
	NUB_TEST_CASE(test_kill_writes_no_core),  NUB_TEST_CASE(test_on_demand),
	NUB_TEST_CASE(test_unwritable_directory), NUB_TEST_CASE(test_config),
};

NUB_TEST_SUITE(tests);
