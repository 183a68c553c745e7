/* SPDX-License-Identifier: Apache-2.0 */
/* ELF core files of a guest, readable by gdb next to the guest ELF; pure given a memory view. */
#ifndef NUB_COREDUMP_H
#define NUB_COREDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem.h"
#include "nub/nub.h"
#include "pagewalk.h"
#include "snapshot.h"

/* Everything a core says besides guest memory. */
struct nub_core_desc {
	const char *guest_name; /* NT_PRPSINFO: pr_fname (first 15 bytes) and pr_psargs */
	/*
	 * The registers as gdb should see them: for a fault, the caller has already put the faulting
	 * RIP, RSP, RFLAGS, CS and SS from the CPU's exception frame in. CR3 roots the page walk.
	 */
	const struct nub_vcpu_state *vcpu;
	uint64_t entry;      /* NT_AUXV AT_ENTRY: the guest ELF's entry point */
	int signal;          /* NT_PRSTATUS pr_cursig and NT_SIGINFO si_signo; 0 on demand */
	uint64_t fault_addr; /* NT_SIGINFO si_addr (CR2 for a page fault), else 0 */
	const struct nub_error
		*outcome; /* optional: a "NUB" note with status, vector, codes, message */
};

/* What was written. */
struct nub_core_stats {
	size_t segments; /* PT_LOAD headers */
	uint64_t bytes;  /* guest memory written */
	uint64_t size;   /* the whole file */
	struct nub_pagewalk_stats walk;
};

/* Note type of the "NUB" outcome note: its descriptor is one NUL-terminated line of text. */
#define NUB_CORE_NOTE_OUTCOME 0x4E554201u /* "NUB" 1: no number readelf knows for another owner */

/*
 * Writes an x86-64 ELF core (ET_CORE) of the guest to (path): NT_PRSTATUS with (d)'s registers,
 * NT_PRPSINFO, NT_FPREGSET (the FXSAVE image of the x87/SSE state), NT_SIGINFO, NT_AUXV
 * (AT_ENTRY, AT_PAGESZ), the "NUB" outcome note, and one PT_LOAD per range that walking the
 * guest's live page tables (rooted at d->vcpu->cr3, bounded by (limits) or the walker's
 * defaults) finds, with the ranges' permissions. The file appears atomically: it is written to a
 * temporary file in the same directory and renamed over (path), which must be absent or a
 * regular file. Errors: NUB_E_INVALID (arguments; (path) exists and is not a regular file,
 * naming what it is), NUB_E_IO (naming the call, the path and errno), NUB_E_NOMEM. On error
 * nothing is left behind.
 */
enum nub_status nub_coredump_write(const char *path, const struct nub_mem *m,
				   const struct nub_core_desc *d,
				   const struct nub_pagewalk_limits *limits,
				   const struct nub_alloc_hook *hook, struct nub_core_stats *stats,
				   struct nub_error *err);

/*
 * The signal a core or a debugger reports for a guest outcome (err->status, and err->vector for
 * faults): SIGSEGV for page, protection and other faults, a triple fault and a protocol error;
 * SIGFPE for #DE, #MF and #XM; SIGILL for #UD and an instruction the hypervisor cannot emulate;
 * SIGTRAP for #DB and #BP; SIGBUS for #AC and MMIO; SIGABRT for an abort; SIGALRM for the time
 * limit; SIGKILL for a kill. 0 for NUB_OK and anything else.
 */
int nub_coredump_signal(const struct nub_error *err);

/*
 * Writes "DIR/GUEST.YYYYmmdd-HHMMSS.PID.SEQ.core" into (buf) (room for (size) bytes) from the
 * local time (when); false if it does not fit. (guest) is reduced to its base name without the
 * extension and to [A-Za-z0-9_-], so a hostile name cannot climb out of (dir).
 */
bool nub_coredump_name(char *buf, size_t size, const char *dir, const char *guest, int64_t when,
		       long pid, uint64_t seq);

#endif
