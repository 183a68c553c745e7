/* SPDX-License-Identifier: Apache-2.0 */
/* The catalogue of malformed and valid snapshot files, for test_snapshot_file.c and the seeds. */
#ifndef NUB_HARNESS_SNAPSHOT_VARIANTS_H
#define NUB_HARNESS_SNAPSHOT_VARIANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot_format.h"

/*
 * The layout every catalogue file is made with (the fixture below, and the seed generator's
 * constructed snapshots): image_end 0x10000, heap 0x4000, init data 0x1801, 8 KiB buffers and
 * stack.
 */
extern const struct nub_layout_params snap_fixture_params;

/*
 * The fixture the verdicts below are stated for: snap_fixture_params, host functions
 * snap_variants_fns (any order: the snapshot sorts them), snap_variants_vcpu and
 * snap_variants_fill. The file it encodes to, pinned field by field by test_snapshot_file.c:
 *   0x0000 header (32)            0x0020 section table, 4 entries of 24
 *   0x0080 LAYOUT (48)            0x00b0 VCPU (896)
 *   0x0430 FNS (4 + 3 * 4)        0x0440 MEMORY: 8 + 5 runs * 16 + 7 pages
 *   0x7498 CRC-32C trailer        0x749c file length
 */
#define SNAP_FIX_OFF_LAYOUT 0x80u
#define SNAP_FIX_OFF_VCPU 0xb0u
#define SNAP_FIX_OFF_FNS 0x430u
#define SNAP_FIX_OFF_MEMORY 0x440u
#define SNAP_FIX_FILE_LEN 0x749cu
/* Its layout. */
#define SNAP_FIX_IMAGE_END 0x10000u
#define SNAP_FIX_PT_ROOT 0x1d000u /* the last page-table page */
#define SNAP_FIX_PRIMARY_END 0x1e000u
#define SNAP_FIX_SCRATCH_GPA 0xfffff4000ull
#define SNAP_FIX_STACK_GPA 0xfffff9000ull
#define SNAP_FIX_STACK_TOP 0xfffffb000ull
#define SNAP_FIX_EXC_GPA 0xfffffc000ull
#define SNAP_FIX_EXC_TOP 0xfffffe000ull
#define SNAP_FIX_MEM_SIZE 0x26000u

extern const uint32_t snap_variants_fns[3];

/* snap_fixture_vcpu with every other field the file stores set too (cr2, cr3 at the root, ...). */
void snap_variants_vcpu(struct nub_vcpu_state *v, const struct nub_layout *l);

/* The fixture memory (SNAP_FIX_MEM_SIZE bytes): runs [0,2) [3,5) [7,8) [31,32) [37,38) of pages. */
void snap_variants_fill(uint8_t *m, uint64_t size);

/* How a variant changes its field. */
enum snap_patch {
	SNAP_PATCH_SET,      /* to (value) */
	SNAP_PATCH_ADD,      /* by adding (value) */
	SNAP_PATCH_FILE_LEN, /* to the file's length */
};

/*
 * One field of a writer-made file changed, and what nub_snapshot_file_decode must say about the
 * fixture so changed. Rows with a (seed) name are also fuzz_snapshot_file's seed-<seed>: the same
 * change applied to the seed generator's constructed snapshot.
 */
struct snap_variant {
	const char *name;          /* "<section> <offset> = <value>", as the test prints it */
	const char *seed;          /* NULL, or the seed name */
	enum snap_section section; /* SNAP_ABS: (offset) counts from the start of the file */
	uint64_t offset;
	unsigned width; /* 1, 2, 4 or 8 bytes, little-endian */
	enum snap_patch patch;
	uint64_t value;
	bool keep_crc;          /* leave the checksum stale (else the trailer is recomputed) */
	enum nub_status status; /* NUB_OK: a valid variant */
	const char *message;    /* a substring of the error message; NULL for NUB_OK */
};

extern const struct snap_variant snap_variants[];
extern const size_t snap_variant_count;

/*
 * Applies (v) to the writer-made file (b, len) in place: finds the section in its table, patches
 * the field, then fixes the trailer unless (v) keeps it stale.
 */
void snap_variant_apply(uint8_t *b, size_t len, const struct snap_variant *v);

#endif
