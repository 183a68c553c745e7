/* SPDX-License-Identifier: Apache-2.0 */
/* The sandbox life cycle: evolve or start from a snapshot, calls, file mappings, status, free. */
#include <sys/mman.h>

#include "alloc.h"
#include "bytes.h"
#include "config.h"
#include "counter.h"
#include "error.h"
#include "filemap.h"
#include "hostfn.h"
#include "image.h"
#include "interrupt.h"
#include "iobuf.h"
#include "kvm.h"
#include "layout.h"
#include "mem.h"
#include "outb.h"
#include "reset.h"
#include "sandbox.h"
#include "snapshot.h"
#include "wire.h"

/* Marks (sb) poisoned by (outcome), which is kept, and writes its core if configured. */
static void poison(struct nub_sandbox *sb, const struct nub_error *outcome)
{
	sb->status = NUB_SANDBOX_POISONED;
	sb->poisoned_by = outcome->status;
	sb->outcome = *outcome;
	nub_crashdump_outcome(sb, outcome);
}

void nub_sandbox_free(struct nub_sandbox *sb)
{
	if (!sb)
		return;
	struct nub_alloc_hook hook = sb->img.cfg.alloc;
	nub_gdb_free(sb);
	if (sb->intr) {
		nub_interrupt_detach(sb->intr);
		nub_interrupt_unref(sb->intr);
	}
	/* The VM goes first: its memory slots point into the mappings. */
	nub_kvm_destroy(&sb->kvm);
	nub_reset_stub_free(&sb->stub);
	nub_snapshot_unref(sb->base);
	nub_image_release(&sb->img);
	nub_alloc_free(&hook, sb->dirty[0]);
	nub_alloc_free(&hook, sb->dirty[1]);
	nub_alloc_free(&hook, sb->dirty_tmp);
	nub_alloc_free(&hook, sb->staging);
	nub_alloc_free(&hook, sb->last_core);
	nub_alloc_free(&hook, sb);
}

/*
 * Allocates a sandbox shell for (cfg) and (layout): staging buffer and dirty bitmaps. Memory,
 * registry and VM come later; nub_sandbox_free cleans up whatever exists.
 */
static enum nub_status sandbox_alloc(const struct nub_config *cfg, const struct nub_layout *l,
				     struct nub_sandbox **out, struct nub_error *err)
{
	struct nub_sandbox *sb = nub_alloc_zeroed(&cfg->alloc, sizeof *sb);
	if (!sb)
		return nub_error_set(err, NUB_E_NOMEM, "sandbox (%zu bytes)", sizeof *sb);
	sb->img.cfg = *cfg;
	sb->img.layout = *l;
	sb->kvm.vm_fd = -1;
	sb->kvm.vcpu_fd = -1;
	sb->staging_size = l->input_size > l->output_size ? l->input_size : l->output_size;
	sb->slot_pages[0] = l->primary_size / NUB_PAGE_SIZE;
	sb->slot_pages[1] = l->scratch_size / NUB_PAGE_SIZE;
	size_t w0 = (size_t)((sb->slot_pages[0] + 63) / 64),
	       w1 = (size_t)((sb->slot_pages[1] + 63) / 64);
	sb->staging = nub_alloc_zeroed(&sb->img.cfg.alloc, sb->staging_size);
	sb->dirty[0] = nub_alloc_zeroed(&sb->img.cfg.alloc, w0 * 8);
	sb->dirty[1] = nub_alloc_zeroed(&sb->img.cfg.alloc, w1 * 8);
	sb->dirty_tmp = nub_alloc_zeroed(&sb->img.cfg.alloc, (w0 > w1 ? w0 : w1) * 8);
	*out = sb;
	if (!sb->staging || !sb->dirty[0] || !sb->dirty[1] || !sb->dirty_tmp)
		return nub_error_set(err, NUB_E_NOMEM, "sandbox buffers (0x%llx bytes of staging)",
				     (unsigned long long)sb->staging_size);
	return NUB_OK;
}

/* Creates the VM over the sandbox's mapped memory, with dirty logging for restore. */
static enum nub_status make_vm(struct nub_sandbox *sb, struct nub_error *err)
{
	const struct nub_layout *l = &sb->img.layout;
	enum nub_status st = nub_interrupt_new(sb->img.cfg.interrupt_signal_offset,
					       &sb->img.cfg.alloc, &sb->intr, err);
	if (st == NUB_OK)
		st = nub_kvm_create(&sb->kvm, &sb->img.cfg.ioctl, err);
	if (st == NUB_OK)
		st = nub_kvm_map(&sb->kvm, SLOT_PRIMARY, NUB_PRIMARY_BASE, l->primary_size,
				 sb->img.mem.primary.host, NUB_KVM_LOG_DIRTY, err);
	if (st == NUB_OK)
		st = nub_kvm_map(&sb->kvm, SLOT_SCRATCH, l->scratch_gpa, l->scratch_size,
				 sb->img.mem.scratch.host, NUB_KVM_LOG_DIRTY, err);
	for (uint32_t i = 0; st == NUB_OK && i < sb->img.nmaps; i++)
		st = nub_kvm_map(&sb->kvm, sb->img.maps[i].slot, sb->img.maps[i].gpa,
				 sb->img.maps[i].size, sb->img.maps[i].host, NUB_KVM_READONLY, err);
	if (st != NUB_OK)
		return st;
	sb->outb = (struct nub_outb_env){
		.input = nub_mem_ptr(&sb->img.mem, l->input_gpa, l->input_size),
		.input_size = l->input_size,
		.output = nub_mem_ptr(&sb->img.mem, l->output_gpa, l->output_size),
		.output_size = l->output_size,
		.staging = sb->staging,
		.staging_size = sb->staging_size,
		.hostfns = &sb->img.hostfns,
		.cfg = &sb->img.cfg,
		.abort = &sb->abort,
		.print = &sb->print,
	};
	return NUB_OK;
}

enum nub_status nub_uninit_evolve(struct nub_uninit *u, struct nub_sandbox **out,
				  struct nub_error *err)
{
	struct nub_error local;
	struct nub_sandbox *sb = NULL;
	if (!err)
		err = &local;
	nub_error_clear(err);
	if (!u || !out) {
		nub_uninit_free(u);
		return nub_error_set(err, NUB_E_INVALID, "%s is NULL", u ? "out" : "uninit");
	}
	*out = NULL;
	enum nub_status st = sandbox_alloc(&u->img.cfg, &u->img.layout, &sb, err);
	if (st != NUB_OK) {
		nub_sandbox_free(sb);
		nub_uninit_free(u);
		return st;
	}
	/* The image (memory, registry, counter, file mappings) moves into the sandbox, whole. */
	nub_image_take(&sb->img, u);
	if (sb->img.counter)
		sb->img.counter->img = &sb->img;
	struct nub_kvm_boot b = {
		.rip = sb->img.entry,
		.rsp = sb->img.layout.stack_gpa + sb->img.layout.stack_size,
		.rdi = sb->img.layout.boot_info_gpa,
		.cr3 = sb->img.cr3,
	};

	st = make_vm(sb, err);
	if (st == NUB_OK)
		st = nub_kvm_boot(&sb->kvm, &b, err);
	if (st == NUB_OK) {
		nub_counter_write(&sb->img);
		st = nub_run_guest(sb, err);
		if (st != NUB_OK)
			nub_crashdump_outcome(sb, err);
	}
	if (st != NUB_OK) {
		nub_sandbox_free(sb);
		return st;
	}
	sb->status = NUB_SANDBOX_READY;
	*out = sb;
	return NUB_OK;
}

enum nub_status nub_sandbox_check_ready(const struct nub_sandbox *sb, struct nub_error *err)
{
	if (sb->status == NUB_SANDBOX_POISONED)
		return nub_error_set(err, NUB_E_POISONED,
				     "sandbox is poisoned (by %s); restore a snapshot or free it",
				     nub_status_str(sb->poisoned_by));
	if (sb->status == NUB_SANDBOX_UNRECOVERABLE)
		return nub_error_set(err, NUB_E_UNRECOVERABLE, "sandbox is unrecoverable; free it");
	return NUB_OK;
}

/* Pops and decodes the call's response; a malformed one is a protocol error. */
static enum nub_status take_response(struct nub_sandbox *sb, struct nub_buf *resp,
				     struct nub_error *err)
{
	uint64_t len;
	struct nub_response_view v;
	enum nub_status st = nub_iobuf_pop(sb->outb.output, sb->outb.output_size, sb->staging,
					   sb->staging_size, &len, "output", err);
	if (st == NUB_OK)
		st = nub_wire_decode_response(sb->staging, len, &v, err);
	if (st != NUB_OK) {
		poison(sb, err);
		return st;
	}
	if (v.status != NUB_STATUS_OK) {
		nub_error_set(err, NUB_E_GUEST_ERROR, "guest error %u: %.*s", v.status,
			      (int)v.msg_len, v.msg);
		err->guest_code = v.status;
		return NUB_E_GUEST_ERROR;
	}
	if (!resp->data && !resp->alloc.realloc)
		resp->alloc = sb->img.cfg.alloc;
	if (nub_buf_append(resp, v.payload, v.payload_len) != NUB_OK)
		return nub_error_set(err, NUB_E_NOMEM, "response payload (%u bytes)",
				     v.payload_len);
	return NUB_OK;
}

enum nub_status nub_sandbox_call(struct nub_sandbox *sb, uint32_t fn_id, const void *payload,
				 size_t len, struct nub_buf *resp, struct nub_error *err)
{
	struct nub_error local;
	if (!err)
		err = &local;
	nub_error_clear(err);
	if (!sb || !resp || (!payload && len))
		return nub_error_set(err, NUB_E_INVALID, "%s is NULL",
				     !sb     ? "sandbox"
				     : !resp ? "resp"
					     : "payload");
	enum nub_status st = nub_sandbox_check_ready(sb, err);
	if (st != NUB_OK)
		return st;

	size_t n;
	st = nub_wire_encode_request(sb->staging, sb->staging_size, fn_id, payload, len, &n, err);
	if (st != NUB_OK)
		return st;
	/* Both buffers are empty between calls; the host owns their stack pointers then. */
	nub_vstore64(sb->outb.input, NUB_IOBUF_SP_INIT);
	nub_vstore64(sb->outb.output, NUB_IOBUF_SP_INIT);
	st = nub_iobuf_push(sb->outb.input, sb->outb.input_size, sb->staging, n, err);
	if (st != NUB_OK)
		return st;

	st = nub_run_guest(sb, err);
	if (st != NUB_OK) {
		poison(sb, err);
		return st;
	}
	return take_response(sb, resp, err);
}

enum nub_sandbox_status nub_sandbox_status(const struct nub_sandbox *sb)
{
	return sb->status;
}

void nub_sandbox_get_stats(const struct nub_sandbox *sb, struct nub_sandbox_stats *out)
{
	*out = (struct nub_sandbox_stats){
		.guest_runs = sb->kvm.guest_runs,
		.guest_run_ns = sb->kvm.guest_run_ns,
		.exit_completions = sb->kvm.completion_runs,
		.restores = sb->restores,
		.stub_resets = sb->stub_resets,
		.ioctl_resets = sb->ioctl_resets,
	};
}

struct nub_interrupt *nub_sandbox_interrupt_handle(struct nub_sandbox *sb)
{
	return nub_interrupt_ref(sb->intr);
}

enum nub_status nub_sandbox_map_file(struct nub_sandbox *sb, const char *path, uint64_t gpa,
				     uint64_t *size, struct nub_error *err)
{
	nub_error_clear(err);
	if (!sb)
		return nub_error_set(err, NUB_E_INVALID, "sandbox is NULL");
	enum nub_status st = nub_sandbox_check_ready(sb, err);
	if (st == NUB_OK)
		st = nub_filemap_add(&sb->img, path, gpa, size, err);
	if (st != NUB_OK)
		return st;
	struct nub_file_map *m = &sb->img.maps[sb->img.nmaps - 1];
	st = nub_kvm_map(&sb->kvm, m->slot, m->gpa, m->size, m->host, NUB_KVM_READONLY, err);
	if (st != NUB_OK) {
		munmap(m->host, m->size);
		sb->img.nmaps--;
	}
	return st;
}

/* The runtime settings of (cfg) with the sizes of (l); sizes given in (cfg) must match. */
static enum nub_status config_for_snapshot(const struct nub_config *cfg, const struct nub_layout *l,
					   struct nub_config *out, struct nub_error *err)
{
	struct nub_config c;
	if (cfg)
		c = *cfg;
	else
		nub_config_default(&c);
	const struct {
		const char *name;
		uint64_t *field;
		uint64_t want;
	} sizes[] = {
		{ "input_size", &c.input_size, l->input_size },
		{ "output_size", &c.output_size, l->output_size },
		{ "heap_size", &c.heap_size, l->heap_size },
		{ "stack_size", &c.stack_size, l->stack_size },
	};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		if (*sizes[i].field && *sizes[i].field != sizes[i].want)
			return nub_error_set(err, NUB_E_INVALID,
					     "config.%s 0x%llx differs from the snapshot's 0x%llx",
					     sizes[i].name, (unsigned long long)*sizes[i].field,
					     (unsigned long long)sizes[i].want);
		*sizes[i].field = sizes[i].want;
	}
	return nub_config_resolve(&c, out, err);
}

enum nub_status nub_sandbox_from_snapshot(struct nub_snapshot *snap,
					  const struct nub_host_function *fns, size_t n,
					  const struct nub_config *cfg, struct nub_sandbox **out,
					  struct nub_error *err)
{
	struct nub_error local;
	struct nub_config rc;
	struct nub_sandbox *sb = NULL;
	if (!err)
		err = &local;
	nub_error_clear(err);
	if (!snap || !out || (!fns && n))
		return nub_error_set(err, NUB_E_INVALID, "%s is NULL",
				     !snap  ? "snapshot"
				     : !out ? "out"
					    : "fns");
	*out = NULL;
	enum nub_status st = config_for_snapshot(cfg, &snap->layout, &rc, err);
	if (st == NUB_OK)
		st = sandbox_alloc(&rc, &snap->layout, &sb, err);
	if (st == NUB_OK)
		st = nub_image_own_config(&sb->img, NULL, "snapshot", err);
	for (size_t i = 0; st == NUB_OK && i < n; i++)
		st = nub_hostfn_register(&sb->img.hostfns, &sb->img.cfg.alloc, fns[i].fn_id,
					 fns[i].fn, fns[i].ctx, err);
	if (st == NUB_OK)
		st = nub_snapshot_check_fns(snap, &sb->img.hostfns, err);
	if (st == NUB_OK)
		st = nub_mem_map(&sb->img.mem, snap->layout.primary_size, snap->layout.scratch_gpa,
				 snap->layout.scratch_size, snap->memfd, err);
	if (st == NUB_OK)
		st = make_vm(sb, err);
	if (st == NUB_OK)
		st = nub_restore_ensure_stub(sb, err);
	if (st == NUB_OK) {
		nub_reset_stub_set_image(&sb->stub, &snap->vcpu);
		st = nub_kvm_set_state(&sb->kvm, &snap->vcpu, err);
	}
	if (st != NUB_OK) {
		nub_sandbox_free(sb);
		return st;
	}
	sb->base = nub_snapshot_ref(snap);
	nub_counter_write(&sb->img);
	sb->status = NUB_SANDBOX_READY;
	*out = sb;
	return NUB_OK;
}
