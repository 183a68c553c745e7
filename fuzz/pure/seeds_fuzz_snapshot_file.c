/* SPDX-License-Identifier: Apache-2.0 */
/* Seeds of fuzz_snapshot_file: constructed snapshot files, the catalogue's variants, real ones. */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "seedgen.h"
#include "snapshot_format.h"
#include "snapshot_variants.h"

/* (file) with each seed variant of the catalogue (snapshot_variants.h) applied. */
static void seeds_variants(struct seedgen *g, const struct nub_buf *file)
{
	uint8_t *b = malloc(file->len);

	if (!b)
		seedgen_die("seeds_variants", "out of memory");
	for (size_t i = 0; i < snap_variant_count; i++) {
		if (!snap_variants[i].seed)
			continue;
		memcpy(b, file->data, file->len);
		snap_variant_apply(b, file->len, &snap_variants[i]);
		seedgen_write(g, snap_variants[i].seed, b, file->len);
	}
	free(b);
}

/* The sections of the writer-made (f) in reverse order, 8 unused bytes before each. */
static void seed_reordered(struct seedgen *g, const struct nub_buf *f)
{
	struct fuzz_output o = { 0 };
	size_t off[5], len[5], pos = SNAP_ENTRY(4);

	for (uint32_t type = SNAP_MEMORY; type >= SNAP_LAYOUT; type--) {
		off[type] = snap_section_offset(f->data, f->len, type);
		len[type] = (size_t)nub_le64(f->data + SNAP_ENTRY(type - 1) + SNAP_E_LENGTH);
	}
	fuzz_write_bytes(&o, f->data, SNAP_HEADER_SIZE);
	for (uint32_t type = SNAP_MEMORY; type >= SNAP_LAYOUT; type--) {
		fuzz_write_u32(&o, type);
		fuzz_write_u32(&o, 0);
		fuzz_write_u64(&o, pos + 8);
		fuzz_write_u64(&o, len[type]);
		pos += 8 + len[type];
	}
	for (uint32_t type = SNAP_MEMORY; type >= SNAP_LAYOUT; type--) {
		fuzz_write_u64(&o, 0);
		fuzz_write_bytes(&o, f->data + off[type], len[type]);
	}
	fuzz_write_u32(&o, 0); /* trailer */
	snap_repair(o.data, o.len);
	seedgen_emit(g, "valid-reordered-with-gaps", &o);
}

/*
 * Constructed files (valid ones, and the small one with each malformed variant of the catalogue)
 * and, with /dev/kvm, real snapshots.
 */
void seeds_fuzz_snapshot_file(struct seedgen *g)
{
	static const uint32_t one_fn[] = { 1 };
	static const struct nub_layout_params larger = {
		.image_end = 0x100000,
		.heap_size = 0x100000,
		.input_size = 0x10000,
		.output_size = 0x10000,
		.stack_size = 0x10000,
	};
	struct nub_buf f;

	seedgen_small_snapshot(&f);
	seedgen_write(g, "valid-small", f.data, f.len);
	seed_reordered(g, &f);
	seeds_variants(g, &f);
	nub_buf_free(&f);

	seedgen_snapshot(&f, &snap_fixture_params, NULL, 0, false);
	seedgen_write(g, "valid-no-fns-zero-memory", f.data, f.len);
	nub_buf_free(&f);

	seedgen_snapshot(&f, &larger, one_fn, 1, true);
	seedgen_write(g, "valid-larger-layout", f.data, f.len);
	nub_buf_free(&f);

	seedgen_kvm_snapshots(g);
}
