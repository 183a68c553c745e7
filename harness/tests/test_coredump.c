/* SPDX-License-Identifier: Apache-2.0 */
/* ELF core files: headers, notes and memory read back with libelf; refusals; names; signals. */
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/reg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"

#include "alloc_inject.h"
#include "coredump.h"
#include "file.h"
#include "layout.h"
#include "mem.h"
#include "paging.h"

#define PAGE 0x1000ull
#define PRIMARY_SIZE (1ull << 20)
#define SCRATCH_SIZE 0x10000ull
#define SCRATCH_GPA (NUB_GPA_TOP - SCRATCH_SIZE)
#define TABLES 0x80000ull

struct fixture {
	struct nub_mem mem;
	struct nub_vcpu_state vcpu;
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_int_equal(nub_mem_map(&f->mem, PRIMARY_SIZE, SCRATCH_GPA, SCRATCH_SIZE, -1, NULL),
			 NUB_OK);
	const struct nub_page_map maps[] = {
		{ 0x4000, 0x2000, NUB_MEM_READ | NUB_MEM_EXECUTE },
		{ 0x6000, 0x1000, NUB_MEM_READ },
		{ 0x8000, 0x2000, NUB_MEM_READ | NUB_MEM_WRITE },
		{ TABLES, 16 * PAGE, NUB_MEM_READ | NUB_MEM_WRITE },
		{ SCRATCH_GPA, 0x2000, NUB_MEM_READ | NUB_MEM_WRITE },
	};
	uint8_t *tables = (uint8_t *)(uintptr_t)nub_mem_ptr(&f->mem, TABLES, 16 * PAGE);
	assert_int_equal(nub_paging_build(tables, TABLES, 16 * PAGE, maps, 5, &f->vcpu.cr3, NULL),
			 NUB_OK);
	for (uint64_t a = 0x4000; a < 0xA000; a += 8) /* recognisable memory: its own address */
		assert_int_equal(nub_mem_write(&f->mem, a, &a, 8, NULL), NUB_OK);
	for (size_t i = 0; i < 16; i++)
		f->vcpu.gpr[i] = 0x1000 + i; /* rax rbx rcx rdx rsi rdi rsp rbp r8..r15 */
	f->vcpu.rip = 0x4123;
	f->vcpu.rflags = 0x202;
	f->vcpu.cs.selector = 0x08;
	f->vcpu.ss.selector = 0x10;
	f->vcpu.fs.base = 0xF5000;
	f->vcpu.gs.base = 0x65000;
	memcpy(f->vcpu.fpu + NUB_FPU_FCW, &(uint16_t){ 0x37F }, 2);
	memcpy(f->vcpu.fpu + NUB_FPU_MXCSR, &(uint32_t){ 0x1F80 }, 4);
	f->vcpu.fpu[NUB_FPU_XMM] = 0xAB; /* xmm0 byte 0 */
	snprintf(f->dir, sizeof f->dir, "/tmp/nub-test-core-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/simple.core", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unlink(f->path);
	char fifo[160];
	snprintf(fifo, sizeof fifo, "%s/fifo", f->dir);
	unlink(fifo);
	assert_int_equal(rmdir(f->dir), 0); /* nothing else, no temporary, was left behind */
	nub_mem_unmap(&f->mem);
	free(f);
	return 0;
}

static void test_core_reads_back(void **state)
{
	struct fixture *f = *state;
	struct nub_error outcome = { .status = NUB_E_GUEST_FAULT,
				     .vector = 14,
				     .error_code = 2,
				     .rip = 0x4123,
				     .cr2 = 0x7008 };
	snprintf(outcome.message, sizeof outcome.message, "guest fault: page fault (#PF)");
	struct nub_core_desc d = { .guest_name = "simple",
				   .vcpu = &f->vcpu,
				   .entry = 0x4100,
				   .signal = SIGSEGV,
				   .fault_addr = 0x7008,
				   .outcome = &outcome };
	struct nub_core_stats st;
	struct nub_error err;
	assert_int_equal(nub_coredump_write(f->path, &f->mem, &d, NULL, NULL, &st, &err), NUB_OK);
	assert_int_equal(st.segments, 5); /* code, rodata, data, tables, scratch */

	struct stat sb;
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal((uint64_t)sb.st_size, st.size);
	assert_int_equal(sb.st_mode & 0777, 0600);

	elf_version(EV_CURRENT);
	int fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	GElf_Ehdr eh;
	assert_non_null(gelf_getehdr(e, &eh));
	assert_int_equal(eh.e_type, ET_CORE);
	assert_int_equal(eh.e_machine, EM_X86_64);

	/* PT_LOADs: one per run of equal permissions, contiguous in both address spaces. */
	const struct {
		uint64_t va, size;
		uint32_t flags;
	} want[] = {
		{ 0x4000, 0x2000, PF_R | PF_X },
		{ 0x6000, 0x1000, PF_R },
		{ 0x8000, 0x2000, PF_R | PF_W },
		{ TABLES, 16 * PAGE, PF_R | PF_W },
	};
	size_t nph;
	assert_int_equal(elf_getphdrnum(e, &nph), 0);
	assert_int_equal(nph, 1 + 5);
	size_t loads = 0;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		assert_non_null(gelf_getphdr(e, (int)i, &ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (loads < 4) {
			assert_int_equal(ph.p_vaddr, want[loads].va);
			assert_int_equal(ph.p_filesz, want[loads].size);
			assert_int_equal(ph.p_flags, want[loads].flags);
		} else {
			assert_int_equal(ph.p_vaddr, SCRATCH_GPA);
		}
		assert_int_equal(ph.p_offset % PAGE, 0);
		if (ph.p_vaddr == 0x8000) { /* the bytes are the guest's */
			uint64_t word;
			assert_int_equal(pread(fd, &word, 8, (off_t)(ph.p_offset + 0x10)), 8);
			assert_int_equal(word, 0x8010);
		}
		loads++;
	}
	assert_int_equal(loads, 5);

	size_t len;
	const uint8_t *desc = nub_test_elf_note(e, "CORE", NT_PRSTATUS, &len);
	assert_non_null(desc);
	assert_int_equal(len, sizeof(struct elf_prstatus));
	struct elf_prstatus prs;
	memcpy(&prs, desc, sizeof prs);
	assert_int_equal(prs.pr_cursig, SIGSEGV);
	assert_int_equal(prs.pr_reg[RIP], 0x4123);
	assert_int_equal(prs.pr_reg[RAX], 0x1000);
	assert_int_equal(prs.pr_reg[RSP], 0x1006);
	assert_int_equal(prs.pr_reg[R15], 0x100F);
	assert_int_equal(prs.pr_reg[EFLAGS], 0x202);
	assert_int_equal(prs.pr_reg[CS], 0x08);
	assert_int_equal(prs.pr_reg[FS_BASE], 0xF5000);
	assert_int_equal(prs.pr_reg[GS_BASE], 0x65000);

	desc = nub_test_elf_note(e, "CORE", NT_FPREGSET, &len);
	assert_non_null(desc);
	assert_int_equal(len, 512);
	assert_int_equal(desc[0] | desc[1] << 8, 0x37F);    /* FCW */
	assert_int_equal(desc[24] | desc[25] << 8, 0x1F80); /* MXCSR */
	assert_int_equal(desc[160], 0xAB);                  /* XMM0 */

	desc = nub_test_elf_note(e, "CORE", NT_AUXV, &len);
	assert_non_null(desc);
	uint64_t auxv[2];
	memcpy(auxv, desc, sizeof auxv);
	assert_int_equal(auxv[0], AT_ENTRY);
	assert_int_equal(auxv[1], 0x4100);

	desc = nub_test_elf_note(e, "CORE", NT_PRPSINFO, &len);
	assert_non_null(desc);
	struct elf_prpsinfo psi;
	memcpy(&psi, desc, sizeof psi);
	assert_string_equal(psi.pr_fname, "simple");

	desc = nub_test_elf_note(e, "CORE", NT_SIGINFO, &len);
	assert_non_null(desc);
	siginfo_t si;
	memcpy(&si, desc, sizeof si);
	assert_int_equal(si.si_signo, SIGSEGV);
	assert_ptr_equal(si.si_addr, (void *)0x7008);

	desc = nub_test_elf_note(e, "NUB", NUB_CORE_NOTE_OUTCOME, &len);
	assert_non_null(desc);
	assert_int_equal(desc[len - 1], '\0');
	assert_string_equal(
		(const char *)desc,
		"status=NUB_E_GUEST_FAULT vector=14 error_code=0x2 rip=0x4123 cr2=0x7008 "
		"gpa=0x0 message=guest fault: page fault (#PF)");
	elf_end(e);
	close(fd);
}

/* A FIFO, a directory or a symbolic link at the path is never replaced; a regular file is. */
static void test_never_replaces_what_is_not_a_file(void **state)
{
	struct fixture *f = *state;
	struct nub_core_desc d = { .guest_name = "g", .vcpu = &f->vcpu };
	struct nub_core_stats st;
	struct nub_error err;
	char fifo[160];
	snprintf(fifo, sizeof fifo, "%s/fifo", f->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(nub_coredump_write(fifo, &f->mem, &d, NULL, NULL, &st, &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "exists and is a FIFO; not replacing it");
	assert_int_equal(nub_coredump_write(f->dir, &f->mem, &d, NULL, NULL, &st, &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID, "is a directory");
	assert_int_equal(nub_coredump_write("/dev/null", &f->mem, &d, NULL, NULL, &st, &err),
			 NUB_E_INVALID);
	nub_assert_error(&err, NUB_E_INVALID,
			 "core dump /dev/null: it exists and is a character device");

	/* An existing regular file is replaced whole. */
	FILE *old = fopen(f->path, "w");
	assert_non_null(old);
	fputs("old", old);
	fclose(old);
	assert_int_equal(nub_coredump_write(f->path, &f->mem, &d, NULL, NULL, &st, &err), NUB_OK);
	struct stat sb;
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal((uint64_t)sb.st_size, st.size);

	/* A directory that does not exist: an I/O error naming the path, nothing left behind. */
	assert_int_equal(nub_coredump_write("/nonexistent-nub/x.core", &f->mem, &d, NULL, NULL, &st,
					    &err),
			 NUB_E_IO);
	nub_assert_error(&err, NUB_E_IO,
			 "core dump /nonexistent-nub/x.core: creating a temporary file");
}

/* Output is bounded by the walker's limits even for tables that map memory many times over. */
static void test_hostile_tables_bounded(void **state)
{
	struct fixture *f = *state;
	for (unsigned i = 0; i < 512; i++) { /* the PML4 points at itself in every slot */
		uint64_t e = f->vcpu.cr3 | 3;
		assert_int_equal(nub_mem_write(&f->mem, f->vcpu.cr3 + i * 8u, &e, 8, NULL), NUB_OK);
	}
	struct nub_core_desc d = { .guest_name = "loop", .vcpu = &f->vcpu };
	struct nub_pagewalk_limits lim = { .max_ranges = 64, .max_bytes = 1u << 20 };
	struct nub_core_stats st;
	assert_int_equal(nub_coredump_write(f->path, &f->mem, &d, &lim, NULL, &st, NULL), NUB_OK);
	assert_true(st.walk.truncated);
	assert_int_equal(st.segments, 64);
	assert_int_equal(st.bytes, 64 * PAGE);
	assert_true(st.size < 64 * PAGE + 2 * PAGE + 64 * sizeof(Elf64_Phdr));
}

/*
 * A guest whose own tables map a host guard page (which the host keeps PROT_NONE and treats as
 * unbacked) still gets its core: the walked range is written whole, zeros where the guard is.
 */
static void test_mapped_guard_page_reads_as_zeros(void **state)
{
	struct fixture *f = *state;
	struct nub_layout_params lp = { .image_end = 0x10000,
					.heap_size = 0x4000,
					.input_size = 0x2000,
					.output_size = 0x2000,
					.stack_size = 0x2000 };
	struct nub_layout l;
	struct nub_mem m;
	assert_int_equal(nub_layout_compute(&lp, &l, NULL), NUB_OK);
	assert_int_equal(nub_mem_map_guarded(&m, &l, -1, NULL), NUB_OK);
	/* Stack, its guard below and the output buffer below that, as one writable range. */
	const struct nub_page_map maps[] = {
		{ l.page_tables_gpa, l.page_tables_size, NUB_MEM_READ | NUB_MEM_WRITE },
		{ l.output_gpa, l.stack_gpa + l.stack_size - l.output_gpa,
		  NUB_MEM_READ | NUB_MEM_WRITE },
	};
	assert_true(l.stack_guard_gpa > l.output_gpa && l.stack_guard_gpa < l.stack_gpa);
	uint8_t *tables = (uint8_t *)(uintptr_t)nub_mem_ptr(&m, l.page_tables_gpa,
							    l.page_tables_size);
	assert_non_null(tables);
	assert_null(nub_mem_ptr(&m, l.stack_guard_gpa, 1));
	struct nub_vcpu_state v = f->vcpu;
	assert_int_equal(nub_paging_build(tables, l.page_tables_gpa, l.page_tables_size, maps, 2,
					  &v.cr3, NULL),
			 NUB_OK);
	uint64_t mark = 0x1122334455667788;
	assert_int_equal(nub_mem_write(&m, l.stack_gpa, &mark, 8, NULL), NUB_OK);

	struct nub_core_desc d = { .guest_name = "guarded", .vcpu = &v };
	struct nub_core_stats st;
	struct nub_error err;
	assert_int_equal(nub_coredump_write(f->path, &m, &d, NULL, NULL, &st, &err), NUB_OK);
	assert_int_equal(st.segments, 2);

	elf_version(EV_CURRENT);
	int fd = open(f->path, O_RDONLY);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	size_t nph;
	bool seen = false;
	assert_int_equal(elf_getphdrnum(e, &nph), 0);
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		assert_non_null(gelf_getphdr(e, (int)i, &ph));
		if (ph.p_type != PT_LOAD || ph.p_vaddr != l.output_gpa)
			continue;
		seen = true;
		uint8_t page[4096], zero[4096] = { 0 };
		uint64_t word;
		assert_int_equal(pread(fd, page, sizeof page,
				       (off_t)(ph.p_offset + l.stack_guard_gpa - l.output_gpa)),
				 4096);
		assert_memory_equal(page, zero, sizeof page);
		assert_int_equal(pread(fd, &word, 8,
				       (off_t)(ph.p_offset + l.stack_gpa - l.output_gpa)),
				 8);
		assert_int_equal(word, mark);
	}
	assert_true(seen);
	elf_end(e);
	close(fd);
	nub_mem_unmap(&m);
}

/* Allocation failure: a clean NUB_E_NOMEM and no file. */
static void test_allocation_failure(void **state)
{
	struct fixture *f = *state;
	struct alloc_inject a = { .fail_at = 1 };
	struct nub_alloc_hook hook = alloc_inject_hook(&a);
	struct nub_core_desc d = { .guest_name = "g", .vcpu = &f->vcpu };
	struct nub_core_stats st;
	struct nub_error err;
	assert_int_equal(nub_coredump_write(f->path, &f->mem, &d, NULL, &hook, &st, &err),
			 NUB_E_NOMEM);
	assert_int_equal(a.live, 0);
	assert_int_equal(access(f->path, F_OK), -1);
	a = (struct alloc_inject){ .fail_at = 2 }; /* the temporary's name */
	assert_int_equal(nub_coredump_write(f->path, &f->mem, &d, NULL, &hook, &st, &err),
			 NUB_E_NOMEM);
	assert_int_equal(a.live, 0);
	a = (struct alloc_inject){ .fail_at = 0 };
	assert_int_equal(nub_coredump_write(f->path, &f->mem, &d, NULL, &hook, &st, &err), NUB_OK);
	assert_int_equal(a.live, 0);
}

static void test_names(void **state)
{
	(void)state;
	char buf[128];
	/* 2026-12-06 21:00:00 UTC, printed in local time: only the shape is fixed. */
	assert_true(
		nub_coredump_name(buf, sizeof buf, "/tmp", "/x/y/simple.elf", 1796590800, 42, 3));
	assert_int_equal(strncmp(buf, "/tmp/simple.2026120", 19), 0);
	assert_non_null(strstr(buf, ".42.3.core"));
	assert_int_equal(strlen(buf), strlen("/tmp/simple.20261206-210000.42.3.core"));
	assert_true(nub_coredump_name(buf, sizeof buf, "d", "../../etc/pass wd", 0, 1, 0));
	assert_int_equal(strncmp(buf, "d/pass_wd.", 10), 0);
	assert_true(nub_coredump_name(buf, sizeof buf, "d", ".hidden", 0, 1, 0));
	assert_int_equal(strncmp(buf, "d/guest.", 8), 0);
	assert_false(nub_coredump_name(buf, 12, "/tmp", "simple", 0, 1, 0));
}

static void test_signals(void **state)
{
	(void)state;
	struct nub_error e = { .status = NUB_E_GUEST_FAULT, .vector = 14 };
	assert_int_equal(nub_coredump_signal(&e), SIGSEGV);
	e.vector = 0;
	assert_int_equal(nub_coredump_signal(&e), SIGFPE);
	e.vector = 6;
	assert_int_equal(nub_coredump_signal(&e), SIGILL);
	e.vector = 3;
	assert_int_equal(nub_coredump_signal(&e), SIGTRAP);
	e.vector = 17;
	assert_int_equal(nub_coredump_signal(&e), SIGBUS);
	const struct {
		enum nub_status st;
		int sig;
	} cases[] = {
		{ NUB_E_GUEST_ABORT, SIGABRT },
		{ NUB_E_TIME_LIMIT, SIGALRM },
		{ NUB_E_CANCELLED, SIGKILL },
		{ NUB_E_EMULATION, SIGILL },
		{ NUB_E_MMIO, SIGBUS },
		{ NUB_E_TRIPLE_FAULT, SIGSEGV },
		{ NUB_E_PROTOCOL, SIGSEGV },
		{ NUB_OK, 0 },
		{ NUB_E_KVM, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		e = (struct nub_error){ .status = cases[i].st };
		assert_int_equal(nub_coredump_signal(&e), cases[i].sig);
	}
	assert_int_equal(nub_coredump_signal(NULL), 0);
}

static const struct CMUnitTest tests[] = {
	NUB_TEST_CASE(test_core_reads_back),
	NUB_TEST_CASE(test_never_replaces_what_is_not_a_file),
	NUB_TEST_CASE(test_hostile_tables_bounded),
	NUB_TEST_CASE(test_mapped_guard_page_reads_as_zeros),
	NUB_TEST_CASE(test_allocation_failure),
	cmocka_unit_test(test_names),
	cmocka_unit_test(test_signals),
};

NUB_TEST_SUITE(tests);
