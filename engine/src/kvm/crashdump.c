/* SPDX-License-Identifier: Apache-2.0 */
/* Core files of a sandbox's guest: when to write one, the vCPU state it shows, where it goes. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "coredump.h"
#include "error.h"
#include "exit.h"
#include "kvm.h"
#include "sandbox.h"

/* An engine log record through the configured callback (a no-op without one). */
static void engine_log(const struct nub_config *cfg, enum nub_abi_log_level level, const char *fmt,
		       ...) __attribute__((format(printf, 3, 4)));
static void engine_log(const struct nub_config *cfg, enum nub_abi_log_level level, const char *fmt,
		       ...)
{
	char msg[NUB_ERROR_MESSAGE_MAX + NUB_CORE_DIR_MAX];
	va_list ap;

	if (!cfg->log)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct nub_log_record r = {
		.source = NUB_LOG_FROM_ENGINE,
		.level = level,
		.file = "",
		.message = msg,
		.message_len = n < 0                    ? 0
			       : (size_t)n < sizeof msg ? (size_t)n
							: sizeof msg - 1,
	};
	cfg->log(cfg->log_ctx, &r);
}

/*
 * The vCPU state a core shows for (outcome). KVM completes a pending port write only on the
 * next entry, so the exit is flushed first (restore then skips its own completion). For a fault
 * the registers are the guest's exception handler's; the ones the CPU saved in the exception
 * frame (RIP, CS, RFLAGS, RSP, SS) replace them so a debugger unwinds from the faulting
 * instruction. The other general registers stay the handler's: the frame holds no more, and
 * nothing the guest wrote elsewhere is trusted.
 */
static enum nub_status core_state(struct nub_sandbox *sb, const struct nub_error *outcome,
				  struct nub_vcpu_state *v, struct nub_error *err)
{
	enum nub_status st = nub_kvm_flush(&sb->kvm, err);
	if (st == NUB_OK)
		st = nub_kvm_get_state(&sb->kvm, v, err);
	if (st != NUB_OK || !outcome || outcome->status != NUB_E_GUEST_FAULT)
		return st;
	struct nub_fault_frame f;
	if (nub_exit_fault_frame(&sb->img.mem, &sb->img.layout, &f)) {
		v->rip = outcome->rip;
		v->rflags = f.rflags;
		v->gpr[6] = f.rsp; /* rsp */
		v->cs.selector = (uint16_t)f.cs;
		v->ss.selector = (uint16_t)f.ss;
	}
	v->cr2 = outcome->cr2;
	return NUB_OK;
}

/* Writes the core of (sb) for (outcome) (NULL: on demand) to (path). */
static enum nub_status write_core(struct nub_sandbox *sb, const char *path,
				  const struct nub_error *outcome, struct nub_error *err)
{
	struct nub_vcpu_state v;
	enum nub_status st = core_state(sb, outcome, &v, err);
	if (st != NUB_OK)
		return st;
	struct nub_core_desc d = {
		.guest_name = sb->img.guest_name,
		.vcpu = &v,
		.entry = sb->img.entry,
		.signal = nub_coredump_signal(outcome),
		.fault_addr = outcome && outcome->status == NUB_E_GUEST_FAULT ? outcome->cr2
			      : outcome && outcome->status == NUB_E_MMIO      ? outcome->gpa
									      : 0,
		.outcome = outcome,
	};
	struct nub_core_stats stats;
	return nub_coredump_write(path, &sb->img.mem, &d, NULL, &sb->img.cfg.alloc, &stats, err);
}

/* The outcomes that poison a sandbox and so get a core (a kill never does). */
static bool wants_core(enum nub_status st)
{
	switch (st) {
	case NUB_E_GUEST_FAULT:
	case NUB_E_GUEST_ABORT:
	case NUB_E_PROTOCOL:
	case NUB_E_MMIO:
	case NUB_E_TRIPLE_FAULT:
	case NUB_E_EMULATION:
	case NUB_E_TIME_LIMIT:
		return true;
	default:
		return false;
	}
}

void nub_crashdump_outcome(struct nub_sandbox *sb, const struct nub_error *outcome)
{
	const struct nub_config *cfg = &sb->img.cfg;
	nub_alloc_free(&cfg->alloc, sb->last_core);
	sb->last_core = NULL;
	if (!cfg->core_dump || !wants_core(outcome->status))
		return;
	const char *dir = cfg->core_dump_dir;
	if (!dir)
		dir = getenv("NUB_CORE_DUMP_DIR");
	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	char path[NUB_CORE_DIR_MAX + 256];
	struct nub_error e;
	if (!nub_coredump_name(path, sizeof path, dir, sb->img.guest_name, (int64_t)time(NULL),
			       (long)getpid(), ++sb->cores)) {
		engine_log(cfg, NUB_LEVEL_ERROR,
			   "core file not written: the name under %s is too long", dir);
		return;
	}
	if (write_core(sb, path, outcome, &e) != NUB_OK) {
		engine_log(cfg, NUB_LEVEL_ERROR, "core file not written: %s", e.message);
		return;
	}
	size_t n = strlen(path) + 1;
	sb->last_core = nub_alloc_zeroed(&cfg->alloc, n);
	if (sb->last_core)
		memcpy(sb->last_core, path, n);
	engine_log(cfg, NUB_LEVEL_INFO, "core file written: %s (%s)", path,
		   nub_status_str(outcome->status));
}

enum nub_status nub_sandbox_write_core(struct nub_sandbox *sb, const char *path,
				       struct nub_error *err)
{
	struct nub_error local;
	if (!err)
		err = &local;
	nub_error_clear(err);
	if (!sb || !path || !*path)
		return nub_error_set(err, NUB_E_INVALID, "%s",
				     !sb ? "sandbox is NULL" : "core file path is NULL or empty");
	if (sb->status == NUB_SANDBOX_UNRECOVERABLE)
		return nub_error_set(err, NUB_E_UNRECOVERABLE, "sandbox is unrecoverable; free it");
	const struct nub_error *outcome = sb->status == NUB_SANDBOX_POISONED ? &sb->outcome : NULL;
	return write_core(sb, path, outcome, err);
}

const char *nub_sandbox_last_core(const struct nub_sandbox *sb)
{
	return sb ? sb->last_core : NULL;
}
