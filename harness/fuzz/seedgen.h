/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seed generator's side of the per-target seed files: each fuzz/<kind>/seeds_<target>.c
 * defines seeds_<target>(g), which writes that target's seeds with the helpers below.
 */
#ifndef NUB_FUZZ_SEEDGEN_H
#define NUB_FUZZ_SEEDGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_output.h"
#include "layout.h"
#include "nub/nub.h"

struct seedgen {
	const char *out_dir;
	const char *target;    /* the target whose seeds are being written */
	const char *guest_dir; /* the built guests, or NULL: no seed needs them */
	bool kvm;              /* the real snapshots seed-kvm-* are made (/dev/kvm opens) */
	unsigned written;      /* seeds written so far */
};

/* One declaration per seed file: the list is made by harness/fuzz/targets.cmake. */
#define SEEDGEN_TARGET(target) void seeds_##target(struct seedgen *g);
#include "seedgen_targets.h"
#undef SEEDGEN_TARGET

/* Prints "nub-seedgen: (what): (detail)" and exits 1 (a broken generator, not a seed). */
__attribute__((noreturn)) void seedgen_die(const char *what, const char *detail);

/* Writes (data, len) as out_dir/<target>/seed-(name). */
void seedgen_write(struct seedgen *g, const char *name, const void *data, size_t len);

/* seedgen_write of (o)'s bytes, then fuzz_output_free(o). */
void seedgen_emit(struct seedgen *g, const char *name, struct fuzz_output *o);

/*
 * The built guest (guest) ("dummy", "simple", "fuzz") reduced to its loadable view
 * (elf_file_loadable_view), malloc'd, *(len) bytes; g->guest_dir must be set.
 */
uint8_t *seedgen_guest_view(const struct seedgen *g, const char *guest, size_t *len);

/* snap_fixture_file(p, fns, nfns, fill), dying on failure; nub_buf_free (file). */
void seedgen_snapshot(struct nub_buf *file, const struct nub_layout_params *p, const uint32_t *fns,
		      uint32_t nfns, bool fill);

/*
 * The small constructed snapshot both snapshot targets start from: snap_fixture_params, host
 * functions 1, 2 and 4 (what fuzz_snapshot_run provides), the memory pattern.
 */
void seedgen_small_snapshot(struct nub_buf *file);

/*
 * When g->kvm: seed-kvm-simple and seed-kvm-dummy, the files of real snapshots of those guests
 * taken right after their init with host functions 1..4 registered (the ids fuzz_snapshot_run
 * provides). Deterministic: the guests read no clock, and the vCPU state after init holds no
 * timestamps.
 */
void seedgen_kvm_snapshots(struct seedgen *g);

#endif
