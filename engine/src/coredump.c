/* SPDX-License-Identifier: Apache-2.0 */
/* ELF core files of a guest, readable by gdb next to the guest ELF; pure given a memory view. */
#include "coredump.h"

#include <elf.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/reg.h>
#include <time.h>

#include "alloc.h"
#include "error.h"
#include "file.h"

/*
 * Why Linux's own note formats: gdb (and readelf, eu-stack) read an x86-64 core through
 * struct elf_prstatus and friends, keyed by the note name "CORE". A guest is not a Linux
 * process, but its 64-bit register file is the same, and presenting it as one thread of one
 * process is what lets `gdb guest.elf core` show registers, memory and a backtrace.
 */
#define NOTE_ALIGN 4u

/* The core being written, and how far, so padding can reach a given offset. */
struct out {
	struct nub_file_writer w;
	uint64_t at;
};

static enum nub_status put(struct out *o, const void *p, size_t len, struct nub_error *err)
{
	o->at += len;
	return nub_file_writer_put(&o->w, p, len, err);
}

static enum nub_status pad_to(struct out *o, uint64_t offset, struct nub_error *err)
{
	static const uint8_t zero[4096];
	enum nub_status st = NUB_OK;
	while (st == NUB_OK && o->at < offset) {
		uint64_t n = offset - o->at;
		st = put(o, zero, n < sizeof zero ? (size_t)n : sizeof zero, err);
	}
	return st;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Bytes one note takes: header, name and descriptor, each padded to 4. */
static uint64_t note_size(const char *name, size_t desc_len)
{
	return sizeof(Elf64_Nhdr) + align_up(strlen(name) + 1, NOTE_ALIGN) +
	       align_up(desc_len, NOTE_ALIGN);
}

static enum nub_status put_note(struct out *o, const char *name, uint32_t type, const void *desc,
				size_t desc_len, struct nub_error *err)
{
	Elf64_Nhdr h = { .n_namesz = (Elf64_Word)(strlen(name) + 1),
			 .n_descsz = (Elf64_Word)desc_len,
			 .n_type = type };
	uint64_t start = o->at;
	enum nub_status st = put(o, &h, sizeof h, err);
	if (st == NUB_OK)
		st = put(o, name, h.n_namesz, err);
	if (st == NUB_OK)
		st = pad_to(o, start + sizeof h + align_up(h.n_namesz, NOTE_ALIGN), err);
	if (st == NUB_OK)
		st = put(o, desc, desc_len, err);
	if (st == NUB_OK)
		st = pad_to(o, start + note_size(name, desc_len), err);
	return st;
}

/* The register file in struct user_regs_struct order (<sys/reg.h> indexes). */
static void fill_regs(elf_gregset_t r, const struct nub_vcpu_state *v)
{
	static const int gpr_index[16] = { RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP,
					   R8,  R9,  R10, R11, R12, R13, R14, R15 };
	memset(r, 0, sizeof(elf_gregset_t));
	for (size_t i = 0; i < 16; i++)
		r[gpr_index[i]] = v->gpr[i];
	r[ORIG_RAX] = (elf_greg_t)-1; /* no system call in progress */
	r[RIP] = v->rip;
	r[EFLAGS] = v->rflags;
	r[CS] = v->cs.selector;
	r[SS] = v->ss.selector;
	r[DS] = v->ds.selector;
	r[ES] = v->es.selector;
	r[FS] = v->fs.selector;
	r[GS] = v->gs.selector;
	r[FS_BASE] = v->fs.base;
	r[GS_BASE] = v->gs.base;
}

/* The "NUB" note's text: the outcome in one line. */
static size_t outcome_text(char *buf, size_t size, const struct nub_error *e)
{
	int n;
	if (!e)
		n = snprintf(buf, size, "status=NUB_OK (core written on demand)");
	else
		n = snprintf(buf, size,
			     "status=%s vector=%u error_code=0x%" PRIx64 " rip=0x%" PRIx64
			     " cr2=0x%" PRIx64 " gpa=0x%" PRIx64 " message=%s",
			     nub_status_str(e->status), e->vector, e->error_code, e->rip, e->cr2,
			     e->gpa, e->message);
	if (n < 0)
		n = 0;
	return ((size_t)n < size ? (size_t)n : size - 1) + 1; /* with the NUL */
}

static uint32_t segment_flags(uint32_t perms)
{
	return ((perms & NUB_MEM_READ) ? PF_R : 0) | ((perms & NUB_MEM_WRITE) ? PF_W : 0) |
	       ((perms & NUB_MEM_EXECUTE) ? PF_X : 0);
}

/* Everything after the file is open: headers, notes, then each range's memory. */
static enum nub_status write_core(struct out *o, const struct nub_mem *m,
				  const struct nub_core_desc *d, const struct nub_vrange *r,
				  size_t n, struct nub_core_stats *stats, struct nub_error *err)
{
	struct elf_prstatus prs;
	memset(&prs, 0, sizeof prs);
	prs.pr_info.si_signo = d->signal;
	prs.pr_cursig = (short)d->signal;
	prs.pr_pid = 1;
	fill_regs(prs.pr_reg, d->vcpu);

	struct elf_prpsinfo psi;
	memset(&psi, 0, sizeof psi);
	psi.pr_state = 0;
	psi.pr_sname = 'R';
	psi.pr_pid = 1;
	snprintf(psi.pr_fname, sizeof psi.pr_fname, "%s", d->guest_name);
	snprintf(psi.pr_psargs, sizeof psi.pr_psargs, "%s", d->guest_name);

	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = d->signal;
	si.si_addr = (void *)(uintptr_t)d->fault_addr;

	uint8_t fx[NUB_FXSAVE_SIZE];
	nub_vcpu_fxsave_image(fx, d->vcpu);

	const uint64_t auxv[] = { AT_ENTRY, d->entry, AT_PAGESZ, NUB_PAGE_SIZE, AT_NULL, 0 };

	char text[NUB_ERROR_MESSAGE_MAX + 256];
	size_t text_len = outcome_text(text, sizeof text, d->outcome);

	uint64_t notes_size = note_size("CORE", sizeof prs) + note_size("CORE", sizeof psi) +
			      note_size("CORE", sizeof fx) + note_size("CORE", sizeof si) +
			      note_size("CORE", sizeof auxv) + note_size("NUB", text_len);
	uint64_t notes_off = sizeof(Elf64_Ehdr) + (n + 1) * sizeof(Elf64_Phdr);
	uint64_t data_off = align_up(notes_off + notes_size, NUB_PAGE_SIZE);

	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof eh);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof eh;
	eh.e_ehsize = sizeof eh;
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (Elf64_Half)(n + 1);
	enum nub_status st = put(o, &eh, sizeof eh, err);

	Elf64_Phdr ph = { .p_type = PT_NOTE,
			  .p_offset = notes_off,
			  .p_filesz = notes_size,
			  .p_align = NOTE_ALIGN };
	if (st == NUB_OK)
		st = put(o, &ph, sizeof ph, err);
	uint64_t off = data_off;
	for (size_t i = 0; st == NUB_OK && i < n; i++) {
		ph = (Elf64_Phdr){ .p_type = PT_LOAD,
				   .p_flags = segment_flags(r[i].perms),
				   .p_offset = off,
				   .p_vaddr = r[i].gva,
				   .p_paddr = r[i].gpa,
				   .p_filesz = r[i].size,
				   .p_memsz = r[i].size,
				   .p_align = NUB_PAGE_SIZE };
		st = put(o, &ph, sizeof ph, err);
		off += r[i].size;
	}
	if (st == NUB_OK)
		st = put_note(o, "CORE", NT_PRSTATUS, &prs, sizeof prs, err);
	if (st == NUB_OK)
		st = put_note(o, "CORE", NT_PRPSINFO, &psi, sizeof psi, err);
	if (st == NUB_OK)
		st = put_note(o, "CORE", NT_FPREGSET, fx, sizeof fx, err);
	if (st == NUB_OK)
		st = put_note(o, "CORE", NT_SIGINFO, &si, sizeof si, err);
	if (st == NUB_OK)
		st = put_note(o, "CORE", NT_AUXV, auxv, sizeof auxv, err);
	if (st == NUB_OK)
		st = put_note(o, "NUB", NUB_CORE_NOTE_OUTCOME, text, text_len, err);
	if (st == NUB_OK)
		st = pad_to(o, data_off, err);
	static const uint8_t zero_page[NUB_PAGE_SIZE];
	for (size_t i = 0; st == NUB_OK && i < n; i++) {
		/*
		 * The walker only returns ranges that guest memory backs, but a guest that mapped a
		 * host guard page (PROT_NONE, not backed for the host: mem.c) reads as zeros there.
		 * The vCPU is stopped, so the bytes cannot change under write(2), which copies them
		 * without parsing.
		 */
		for (uint64_t at = 0; st == NUB_OK && at < r[i].size; at += NUB_PAGE_SIZE) {
			uint64_t len = r[i].size - at < NUB_PAGE_SIZE ? r[i].size - at
								      : NUB_PAGE_SIZE;
			volatile uint8_t *p = nub_mem_ptr(m, r[i].gpa + at, len);
			st = put(o, p ? (const void *)(uintptr_t)p : zero_page, (size_t)len, err);
		}
		stats->bytes += r[i].size;
	}
	stats->segments = n;
	stats->size = o->at;
	return st;
}

enum nub_status nub_coredump_write(const char *path, const struct nub_mem *m,
				   const struct nub_core_desc *d,
				   const struct nub_pagewalk_limits *limits,
				   const struct nub_alloc_hook *hook, struct nub_core_stats *stats,
				   struct nub_error *err)
{
	if (!path || !m || !d || !d->vcpu || !d->guest_name || !stats)
		return nub_error_set(err, NUB_E_INVALID, "%s is NULL",
				     !path            ? "path"
				     : !m             ? "mem"
				     : !d             ? "desc"
				     : !d->vcpu       ? "desc.vcpu"
				     : !d->guest_name ? "desc.guest_name"
						      : "stats");
	memset(stats, 0, sizeof *stats);
	size_t cap = limits && limits->max_ranges ? limits->max_ranges
						  : NUB_PAGEWALK_DEFAULT_RANGES;
	struct nub_vrange *r = nub_alloc_zeroed(hook, cap * sizeof *r);
	if (!r)
		return nub_error_set(err, NUB_E_NOMEM, "core dump %s: ranges (%zu entries)", path,
				     cap);
	size_t n = 0;
	struct out o = { .at = 0 };
	enum nub_status st = nub_pagewalk_ranges(m, d->vcpu->cr3, limits, r, &n, &stats->walk, err);
	if (st == NUB_OK)
		st = nub_file_writer_open(&o.w, path, "core dump", hook, err);
	if (st == NUB_OK) {
		st = write_core(&o, m, d, r, n, stats, err);
		if (st == NUB_OK)
			st = nub_file_writer_commit(&o.w, err);
		else
			nub_file_writer_abort(&o.w);
	}
	nub_alloc_free(hook, r);
	return st;
}

int nub_coredump_signal(const struct nub_error *err)
{
	if (!err)
		return 0;
	switch (err->status) {
	case NUB_E_GUEST_FAULT:
		switch (err->vector) {
		case 0:  /* #DE */
		case 16: /* #MF */
		case 19: /* #XM */
			return SIGFPE;
		case 6: /* #UD */
			return SIGILL;
		case 1: /* #DB */
		case 3: /* #BP */
			return SIGTRAP;
		case 17: /* #AC */
			return SIGBUS;
		default:
			return SIGSEGV;
		}
	case NUB_E_GUEST_ABORT:
		return SIGABRT;
	case NUB_E_TIME_LIMIT:
		return SIGALRM;
	case NUB_E_CANCELLED:
		return SIGKILL;
	case NUB_E_EMULATION:
		return SIGILL;
	case NUB_E_MMIO:
		return SIGBUS;
	case NUB_E_TRIPLE_FAULT:
	case NUB_E_PROTOCOL:
		return SIGSEGV;
	default:
		return 0;
	}
}

bool nub_coredump_name(char *buf, size_t size, const char *dir, const char *guest, int64_t when,
		       long pid, uint64_t seq)
{
	char name[64];
	const char *base = strrchr(guest, '/');
	base = base ? base + 1 : guest;
	size_t n = 0;
	for (const char *c = base; *c && *c != '.' && n + 1 < sizeof name; c++) {
		int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			 (*c >= '0' && *c <= '9') || *c == '_' || *c == '-';
		name[n++] = ok ? *c : '_';
	}
	name[n] = '\0';
	if (n == 0)
		snprintf(name, sizeof name, "guest");

	struct tm tm;
	time_t t = (time_t)when;
	char stamp[32];
	if (!localtime_r(&t, &tm) || strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm) == 0)
		return false;
	int w = snprintf(buf, size, "%s/%s.%s.%ld.%" PRIu64 ".core", dir, name, stamp, pid, seq);
	return w > 0 && (size_t)w < size;
}
