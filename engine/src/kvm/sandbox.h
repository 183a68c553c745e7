/* SPDX-License-Identifier: Apache-2.0 */
/* Internal shape of a ready sandbox, shared by the backend modules (sandbox, run, restore). */
#ifndef NUB_SANDBOX_H
#define NUB_SANDBOX_H

#include <stdint.h>

#include "filemap.h"
#include "image.h"
#include "interrupt.h"
#include "kvm.h"
#include "nub/nub.h"
#include "outb.h"
#include "reset.h"
#include "snapshot.h"

/* The VM's memory slots; file mappings take theirs from NUB_FILEMAP_FIRST_SLOT on. */
#define SLOT_PRIMARY 0u
#define SLOT_SCRATCH 1u
#define SLOT_RESET_STUB 2u
_Static_assert(SLOT_RESET_STUB < NUB_FILEMAP_FIRST_SLOT,
	       "file mappings' slots follow the engine's own");

struct nub_sandbox {
	struct nub_image img; /* moved in from the uninit sandbox, or made for a snapshot */
	struct nub_kvm kvm;
	struct nub_reset_stub stub; /* mapped read-only at NUB_RESET_GPA */
	struct nub_interrupt *intr;
	enum nub_sandbox_status status;
	enum nub_status poisoned_by;
	struct nub_error outcome; /* what poisoned it, for an on-demand core's registers */
	char *last_core;          /* the path of the last core config.core_dump wrote, or NULL */
	uint64_t cores;           /* cores written, numbering their files */
	uint8_t *staging;         /* private copies of frames; max(input, output) bytes */
	uint64_t staging_size;
	struct nub_gdb *gdb; /* the GDB stub (config.gdb_port), made at the first run; or NULL */
	struct nub_abort_stream abort;
	struct nub_print_line print;
	struct nub_outb_env outb;

	/*
	 * Restore bookkeeping: guest memory equals (base) except for the pages in (dirty) (guest
	 * writes, collected from KVM's dirty log) and the I/O buffer and metadata pages the host
	 * itself writes (compared with base at restore). NULL base: never snapshotted.
	 */
	struct nub_snapshot *base;
	uint64_t slot_pages[2];
	uint64_t *dirty[2];
	uint64_t *dirty_tmp;
	uint64_t restores, stub_resets, ioctl_resets; /* for nub_sandbox_get_stats */
};

/* ---- sandbox.c ---- */

/* NUB_E_POISONED or NUB_E_UNRECOVERABLE (with a message) unless (sb) is ready. */
enum nub_status nub_sandbox_check_ready(const struct nub_sandbox *sb, struct nub_error *err);

/* ---- run.c ---- */

/*
 * Runs the vCPU until the guest halts (NUB_OK) or the run ends with an outcome in (err). Every
 * failure here happened with the guest mid-flight, so callers poison on any non-OK result.
 */
enum nub_status nub_run_guest(struct nub_sandbox *sb, struct nub_error *err);

/* ---- gdb.c ---- */

/*
 * nub_run_guest with the GDB stub of config.gdb_port: stops at entry, waits for and serves gdb
 * (see struct nub_config). Same results as nub_run_guest; NUB_E_IO if the port cannot be bound.
 */
enum nub_status nub_gdb_run_guest(struct nub_sandbox *sb, struct nub_error *err);

/* Tells a connected gdb the guest exited, closes the stub's sockets and frees it; NULL is fine. */
void nub_gdb_free(struct nub_sandbox *sb);

/* ---- crashdump.c ---- */

/*
 * Writes a core of (sb) for the poisoning or evolve-failing (outcome) when config.core_dump is on
 * and the outcome is one that gets a core (never a kill), and records its path for
 * nub_sandbox_last_core. A failure to write is logged, never returned: it must not change the
 * call's outcome.
 */
void nub_crashdump_outcome(struct nub_sandbox *sb, const struct nub_error *outcome);

/* ---- restore.c ---- */

/*
 * Maps the reset stub the first time the sandbox takes, restores or starts from a snapshot, so
 * evolve and sandboxes that are never reset do not pay for it. A snapshot's moment always has the
 * stub page present, holding that snapshot's image, so every restore brings back the same view.
 * Errors: NUB_E_NOMEM, NUB_E_KVM; on failure the stub is gone again.
 */
enum nub_status nub_restore_ensure_stub(struct nub_sandbox *sb, struct nub_error *err);

#endif
