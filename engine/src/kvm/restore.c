/* SPDX-License-Identifier: Apache-2.0 */
/* Snapshot and restore: the dirty-log bookkeeping, page copies and vCPU reset of a sandbox. */
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc.h"
#include "error.h"
#include "filemap.h"
#include "kvm.h"
#include "counter.h"
#include "reset.h"
#include "sandbox.h"
#include "snapshot.h"

enum nub_status nub_restore_ensure_stub(struct nub_sandbox *sb, struct nub_error *err)
{
	if (sb->stub.mem)
		return NUB_OK;
	enum nub_status st = nub_reset_stub_init(&sb->stub, sb->kvm.xcr0_settable, err);
	if (st == NUB_OK)
		st = nub_kvm_map(&sb->kvm, SLOT_RESET_STUB, NUB_RESET_GPA, NUB_RESET_SIZE,
				 sb->stub.mem, NUB_KVM_READONLY, err);
	if (st != NUB_OK)
		nub_reset_stub_free(&sb->stub);
	return st;
}

/* Sorted registered fn_ids (the registry is kept sorted) into a new array; NULL when there are none. */
static enum nub_status registered_fn_ids(const struct nub_sandbox *sb, uint32_t **ids,
					 struct nub_error *err)
{
	*ids = NULL;
	if (!sb->img.hostfns.count)
		return NUB_OK;
	*ids = nub_alloc_zeroed(&sb->img.cfg.alloc, sb->img.hostfns.count * sizeof **ids);
	if (!*ids)
		return nub_error_set(err, NUB_E_NOMEM, "fn_id list (%zu entries)",
				     sb->img.hostfns.count);
	for (size_t i = 0; i < sb->img.hostfns.count; i++)
		(*ids)[i] = sb->img.hostfns.fns[i].fn_id;
	return NUB_OK;
}

/* Harvests the guest's writes since the last collection into sb->dirty. */
static enum nub_status collect_dirty(struct nub_sandbox *sb, struct nub_error *err)
{
	enum nub_status st = nub_kvm_collect_dirty(&sb->kvm, SLOT_PRIMARY, sb->slot_pages[0],
						   sb->dirty_tmp, sb->dirty[0], err);
	if (st == NUB_OK)
		st = nub_kvm_collect_dirty(&sb->kvm, SLOT_SCRATCH, sb->slot_pages[1], sb->dirty_tmp,
					   sb->dirty[1], err);
	return st;
}

static void clear_dirty(struct nub_sandbox *sb)
{
	memset(sb->dirty[0], 0, (size_t)((sb->slot_pages[0] + 63) / 64) * 8);
	memset(sb->dirty[1], 0, (size_t)((sb->slot_pages[1] + 63) / 64) * 8);
}

enum nub_status nub_sandbox_snapshot(struct nub_sandbox *sb, struct nub_snapshot **out,
				     struct nub_error *err)
{
	struct nub_error local;
	struct nub_vcpu_state vcpu;
	uint32_t *ids = NULL;
	struct nub_snapshot *snap = NULL;
	uint8_t *fill = NULL;

	if (!err)
		err = &local;
	nub_error_clear(err);
	if (!sb || !out)
		return nub_error_set(err, NUB_E_INVALID, "%s is NULL", sb ? "out" : "sandbox");
	*out = NULL;
	enum nub_status st = nub_sandbox_check_ready(sb, err);
	if (st == NUB_OK)
		st = nub_restore_ensure_stub(sb, err);
	if (st == NUB_OK)
		st = nub_kvm_flush(&sb->kvm, err);
	if (st == NUB_OK)
		st = nub_kvm_get_state(&sb->kvm, &vcpu, err);
	/* The XSAVE components beyond x87/SSE are not captured: refuse rather than snapshot them wrong. */
	if (st == NUB_OK && vcpu.xcr0 != NUB_XCR0_X87)
		st = nub_error_set(
			err, NUB_E_STATE,
			"the guest enabled XSAVE state (XCR0 0x%llx), which snapshots do not capture",
			(unsigned long long)vcpu.xcr0);
	if (st == NUB_OK)
		st = registered_fn_ids(sb, &ids, err);
	if (st == NUB_OK)
		st = nub_snapshot_new(&sb->img.layout, &vcpu, ids, (uint32_t)sb->img.hostfns.count,
				      &sb->img.cfg.alloc, &snap, &fill, err);
	nub_alloc_free(&sb->img.cfg.alloc, ids);
	/* Reset the dirty log first: from here on it means "written since this snapshot". */
	if (st == NUB_OK)
		st = collect_dirty(sb, err);
	if (st != NUB_OK) {
		if (fill)
			munmap(fill, snap->mem_size);
		nub_snapshot_unref(snap);
		return st;
	}
	/* The guard pages are PROT_NONE: they stay zero in the snapshot. */
	nub_region_copy_out(&sb->img.mem.primary, fill);
	nub_region_copy_out(&sb->img.mem.scratch, fill + sb->img.layout.primary_size);
	st = nub_snapshot_seal(snap, fill, err);
	if (st != NUB_OK) {
		nub_snapshot_unref(snap);
		return st;
	}
	clear_dirty(sb);
	nub_filemap_record(&sb->img, snap);
	nub_reset_stub_set_image(&sb->stub, &snap->vcpu);
	nub_snapshot_unref(sb->base);
	sb->base = nub_snapshot_ref(snap);
	*out = snap;
	return NUB_OK;
}

/* NUB_E_INVALID naming the first layout field that differs between (a, the snapshot) and (b). */
static enum nub_status check_layout(const struct nub_layout *a, const struct nub_layout *b,
				    struct nub_error *err)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
#define F(x) { #x, offsetof(struct nub_layout, x) }
		F(image_end),    F(heap_size),    F(init_data_size),
		F(input_size),   F(output_size),  F(stack_size),
		F(primary_size), F(scratch_size), F(page_tables_size),
#undef F
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		uint64_t x, y;
		memcpy(&x, (const uint8_t *)a + fields[i].off, 8);
		memcpy(&y, (const uint8_t *)b + fields[i].off, 8);
		if (x != y)
			return nub_error_set(
				err, NUB_E_INVALID,
				"snapshot layout differs: %s is 0x%llx in the snapshot, 0x%llx in the sandbox",
				fields[i].name, (unsigned long long)x, (unsigned long long)y);
	}
	if (memcmp(a, b, sizeof *a) != 0)
		return nub_error_set(err, NUB_E_INVALID,
				     "snapshot layout differs from the sandbox's");
	return NUB_OK;
}

static void copy_page(uint8_t *dst, const uint8_t *src, uint64_t page)
{
	memcpy(dst + page * NUB_PAGE_SIZE, src + page * NUB_PAGE_SIZE, NUB_PAGE_SIZE);
}

/* Copies back every page of one region that (bits) marks. */
static void copy_dirty(uint8_t *dst, const uint8_t *src, const uint64_t *bits, uint64_t pages)
{
	for (uint64_t w = 0; w < (pages + 63) / 64; w++)
		for (uint64_t b = bits[w]; b; b &= b - 1)
			copy_page(dst, src, w * 64 + (uint64_t)__builtin_ctzll(b));
}

/*
 * Pages the host itself writes (KVM does not log those): the I/O buffers and the metadata page.
 * They are compared with the snapshot instead, which is bounded by the buffer sizes.
 */
static void restore_host_written(struct nub_sandbox *sb, const uint8_t *snap_scratch)
{
	const struct nub_layout *l = &sb->img.layout;
	const struct {
		uint64_t gpa, size;
	} areas[] = {
		{ l->input_gpa, l->input_size },
		{ l->output_gpa, l->output_size },
		{ l->meta_gpa, NUB_PAGE_SIZE },
	};
	for (size_t a = 0; a < sizeof areas / sizeof areas[0]; a++)
		for (uint64_t off = 0; off < areas[a].size; off += NUB_PAGE_SIZE) {
			uint64_t page = (areas[a].gpa + off - l->scratch_gpa) / NUB_PAGE_SIZE;
			if (memcmp(sb->img.mem.scratch.host + page * NUB_PAGE_SIZE,
				   snap_scratch + page * NUB_PAGE_SIZE, NUB_PAGE_SIZE) != 0)
				copy_page(sb->img.mem.scratch.host, snap_scratch, page);
		}
}

/* Removes (sb)'s file mappings made after (snap) was taken (KVM slot first, then the memory). */
static enum nub_status drop_later_maps(const struct nub_snapshot *snap, struct nub_sandbox *sb,
				       struct nub_error *err)
{
	uint32_t kept = 0;
	enum nub_status st = NUB_OK;
	for (uint32_t i = 0; i < sb->img.nmaps; i++) {
		struct nub_file_map *m = &sb->img.maps[i];
		if (nub_filemap_in_snapshot(snap, m) || st != NUB_OK) {
			sb->img.maps[kept++] = *m;
			continue;
		}
		/* The slot goes before the memory it points at. */
		st = nub_kvm_map(&sb->kvm, m->slot, m->gpa, 0, m->host, 0, err);
		if (st == NUB_OK)
			munmap(m->host, m->size);
		else
			sb->img.maps[kept++] = *m;
	}
	sb->img.nmaps = kept;
	return st;
}

/*
 * Loads (s) into the vCPU: one run of the reset stub when it runs through, else completion of
 * whatever the stub left pending and the vCPU ioctls.
 */
static enum nub_status reset_vcpu(struct nub_sandbox *sb, const struct nub_vcpu_state *s,
				  struct nub_error *err)
{
	nub_reset_stub_set_image(&sb->stub, s);
	if (nub_reset_stub_run(&sb->stub, &sb->kvm, s)) {
		sb->stub_resets++;
		return NUB_OK;
	}
	sb->ioctl_resets++;
	enum nub_status st = nub_kvm_flush(&sb->kvm, err);
	if (st == NUB_OK)
		st = nub_kvm_set_state(&sb->kvm, s, err);
	return st;
}

enum nub_status nub_sandbox_restore(struct nub_sandbox *sb, struct nub_snapshot *snap,
				    struct nub_error *err)
{
	struct nub_error local;
	if (!err)
		err = &local;
	nub_error_clear(err);
	if (!sb || !snap)
		return nub_error_set(err, NUB_E_INVALID, "%s is NULL", sb ? "snapshot" : "sandbox");
	if (sb->status == NUB_SANDBOX_UNRECOVERABLE)
		return nub_error_set(err, NUB_E_UNRECOVERABLE, "sandbox is unrecoverable; free it");
	enum nub_status st = check_layout(&snap->layout, &sb->img.layout, err);
	if (st == NUB_OK)
		st = nub_snapshot_check_fns(snap, &sb->img.hostfns, err);
	if (st == NUB_OK)
		st = nub_filemap_check(snap, &sb->img, err);
	if (st == NUB_OK)
		st = nub_restore_ensure_stub(sb, err);
	if (st != NUB_OK)
		return st; /* refused or failed before touching anything */

	/* From here on a failure leaves guest state half-restored: the sandbox is unrecoverable. */
	st = drop_later_maps(snap, sb, err);
	if (st == NUB_OK && nub_kvm_exit_needs_completion(&sb->kvm, NUB_RESET_CODE_GPA))
		st = nub_kvm_flush(&sb->kvm, err);
	if (st == NUB_OK)
		st = collect_dirty(sb, err);
	if (st == NUB_OK) {
		const uint8_t *p = snap->mem, *sc = snap->mem + sb->img.layout.primary_size;
		if (sb->base == snap) {
			copy_dirty(sb->img.mem.primary.host, p, sb->dirty[0], sb->slot_pages[0]);
			copy_dirty(sb->img.mem.scratch.host, sc, sb->dirty[1], sb->slot_pages[1]);
			restore_host_written(sb, sc);
		} else {
			/* Another snapshot: which pages differ is unknown, so copy everything. */
			nub_region_copy_in(&sb->img.mem.primary, p);
			nub_region_copy_in(&sb->img.mem.scratch, sc);
			nub_snapshot_unref(sb->base);
			sb->base = nub_snapshot_ref(snap);
		}
		clear_dirty(sb);
		st = reset_vcpu(sb, &snap->vcpu, err);
	}
	if (st != NUB_OK) {
		sb->status = NUB_SANDBOX_UNRECOVERABLE;
		return st;
	}
	nub_counter_write(&sb->img);
	sb->abort.len = 0;
	sb->print.len = 0;
	sb->status = NUB_SANDBOX_READY;
	sb->restores++;
	return NUB_OK;
}
