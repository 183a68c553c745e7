/* The sandbox life cycle: uninitialized -> evolve -> multi-use; calls, run loop and status. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc.h"
#include "bytes.h"
#include "config.h"
#include "guest_elf.h"
#include "error.h"
#include "hostfn.h"
#include "interrupt.h"
#include "iobuf.h"
#include "kvm.h"
#include "layout.h"
#include "mem.h"
#include "outb.h"
#include "paging.h"
#include "sandbox.h"
#include "snapshot.h"
#include "wire.h"

/* ---- Building the guest memory image ---- */

static enum nub_status check_env(const struct nub_guest_env *env, uint32_t *perms,
				 struct nub_error *err)
{
	if (!env)
		return nub_error_set(err, NUB_E_INVALID, "env is NULL");
	if (!env->path == !env->data)
		return nub_error_set(err, NUB_E_INVALID, "env: exactly one of path and data must be set");
	if (env->data && env->data_len == 0)
		return nub_error_set(err, NUB_E_INVALID, "env.data_len is 0");
	if (env->init_data_len && !env->init_data)
		return nub_error_set(err, NUB_E_INVALID, "env.init_data is NULL but init_data_len is %zu",
				     env->init_data_len);
	uint32_t p = env->init_data_perms ? env->init_data_perms : NUB_MEM_READ;
	if (p & ~(uint32_t)(NUB_MEM_READ | NUB_MEM_WRITE | NUB_MEM_EXECUTE))
		return nub_error_set(err, NUB_E_INVALID, "env.init_data_perms 0x%x has unknown bits", p);
	if (!(p & NUB_MEM_READ))
		return nub_error_set(err, NUB_E_INVALID, "env.init_data_perms 0x%x lacks NUB_MEM_READ", p);
	/* W^X: a page the guest can write must never be executable, whoever asks. */
	if ((p & NUB_MEM_WRITE) && (p & NUB_MEM_EXECUTE))
		return nub_error_set(err, NUB_E_INVALID,
				     "env.init_data_perms 0x%x is writable and executable at once", p);
	*perms = p;
	return NUB_OK;
}

static uint64_t page_down(uint64_t v)
{
	return v & ~(uint64_t)(NUB_PAGE_SIZE - 1);
}

static uint64_t page_up(uint64_t v)
{
	/* Callers only pass addresses below NUB_GPA_TOP, far from overflow. */
	return (v + NUB_PAGE_SIZE - 1) & ~(uint64_t)(NUB_PAGE_SIZE - 1);
}

/*
 * The identity mappings of a guest: ELF segments with their own permissions (pages shared by
 * segments have equal permissions, nub_elf_parse saw to it, so they merge), then the host-owned
 * areas. Guard pages below both stacks and the top scratch page are left out on purpose.
 */
static size_t page_maps(const struct nub_elf_image *img, const struct nub_layout *l,
			uint32_t init_perms, struct nub_page_map *maps)
{
	size_t n = 0;
	size_t order[NUB_ELF_MAX_SEGMENTS];

	for (size_t i = 0; i < img->nseg; i++)
		order[i] = i;
	for (size_t i = 1; i < img->nseg; i++) /* insertion sort by address: at most 16 */
		for (size_t j = i; j > 0 && img->seg[order[j]].gpa < img->seg[order[j - 1]].gpa; j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (size_t i = 0; i < img->nseg; i++) {
		const struct nub_elf_segment *s = &img->seg[order[i]];
		uint64_t start = page_down(s->gpa), end = page_up(s->gpa + s->memsz);
		if (n && maps[n - 1].gpa + maps[n - 1].size > start) {
			uint64_t prev_end = maps[n - 1].gpa + maps[n - 1].size;
			maps[n - 1].size = (end > prev_end ? end : prev_end) - maps[n - 1].gpa;
			continue;
		}
		maps[n++] = (struct nub_page_map){ start, end - start, s->perms };
	}
	maps[n++] = (struct nub_page_map){ l->boot_info_gpa, NUB_PAGE_SIZE, NUB_MEM_READ };
	if (l->heap_size)
		maps[n++] = (struct nub_page_map){ l->heap_gpa, l->heap_size, NUB_MEM_READ | NUB_MEM_WRITE };
	if (l->init_data_size)
		maps[n++] = (struct nub_page_map){ l->init_data_gpa, page_up(l->init_data_size), init_perms };
	/* The guest may edit its own tables (it runs at CPL0 anyway); the host never trusts them. */
	maps[n++] = (struct nub_page_map){ l->page_tables_gpa, l->page_tables_size,
					   NUB_MEM_READ | NUB_MEM_WRITE };
	maps[n++] = (struct nub_page_map){ l->input_gpa, l->input_size, NUB_MEM_READ | NUB_MEM_WRITE };
	maps[n++] = (struct nub_page_map){ l->output_gpa, l->output_size, NUB_MEM_READ | NUB_MEM_WRITE };
	maps[n++] = (struct nub_page_map){ l->stack_gpa, l->stack_size, NUB_MEM_READ | NUB_MEM_WRITE };
	maps[n++] = (struct nub_page_map){ l->exception_stack_gpa, l->exception_stack_size,
					   NUB_MEM_READ | NUB_MEM_WRITE };
	/* Host-owned metadata (the guest counter): readable, never writable by the guest. */
	maps[n++] = (struct nub_page_map){ l->meta_gpa, NUB_PAGE_SIZE, NUB_MEM_READ };
	return n;
}

static void fill_boot_info(const struct nub_layout *l, const struct nub_config *cfg,
			   uint32_t init_perms, struct nub_boot_info *bi)
{
	memset(bi, 0, sizeof *bi);
	bi->abi_version = NUB_ABI_VERSION;
	bi->max_log_level = (uint32_t)cfg->max_guest_log_level;
	bi->input_gva = l->input_gpa;
	bi->input_size = l->input_size;
	bi->output_gva = l->output_gpa;
	bi->output_size = l->output_size;
	bi->heap_gva = l->heap_gpa;
	bi->heap_size = l->heap_size;
	bi->init_data_gva = l->init_data_gpa;
	bi->init_data_size = l->init_data_size;
	bi->init_data_perms = l->init_data_size ? init_perms : 0;
	bi->counter_gva = l->counter_gpa;
	bi->stack_top_gva = l->stack_gpa + l->stack_size;
	bi->exception_stack_top_gva = l->exception_stack_gpa + l->exception_stack_size;
	bi->page_tables_gva = l->page_tables_gpa;
	bi->page_tables_size = l->page_tables_size;
	bi->scratch_gva = l->scratch_gpa;
	bi->scratch_size = l->scratch_size;
}

/* Fills the mapped regions of (u) from the ELF (img, data) and the environment. */
static enum nub_status build_image(struct nub_uninit *u, const struct nub_elf_image *img,
				   const uint8_t *data, size_t len, const struct nub_guest_env *env,
				   uint32_t init_perms, struct nub_error *err)
{
	const struct nub_layout *l = &u->img.layout;
	enum nub_status st = nub_elf_load(img, data, len, u->img.mem.primary.host, l->primary_size, err);
	if (st != NUB_OK)
		return st;

	struct nub_boot_info bi;
	fill_boot_info(l, &u->img.cfg, init_perms, &bi);
	st = nub_mem_write(&u->img.mem, l->boot_info_gpa, &bi, sizeof bi, err);
	if (st == NUB_OK && env->init_data_len)
		st = nub_mem_write(&u->img.mem, l->init_data_gpa, env->init_data, env->init_data_len, err);
	if (st != NUB_OK)
		return st;

	struct nub_page_map maps[NUB_ELF_MAX_SEGMENTS + 10];
	size_t n = page_maps(img, l, init_perms, maps);
	volatile uint8_t *tables = nub_mem_ptr(&u->img.mem, l->page_tables_gpa, l->page_tables_size);
	if (!tables)
		return nub_error_set(err, NUB_E_LAYOUT, "page tables at 0x%llx are outside the primary region",
				     (unsigned long long)l->page_tables_gpa);
	st = nub_paging_build((uint8_t *)(uintptr_t)tables, l->page_tables_gpa, l->page_tables_size,
			      maps, n, &u->img.cr3, err);
	if (st != NUB_OK)
		return st;

	nub_iobuf_reset(nub_mem_ptr(&u->img.mem, l->input_gpa, l->input_size), l->input_size);
	nub_iobuf_reset(nub_mem_ptr(&u->img.mem, l->output_gpa, l->output_size), l->output_size);
	u->img.entry = img->entry;
	return NUB_OK;
}

enum nub_status nub_uninit_new(const struct nub_guest_env *env, const struct nub_config *cfg,
			       struct nub_uninit **out, struct nub_error *err)
{
	struct nub_config rc;
	uint32_t init_perms = 0;
	uint8_t *file = NULL;
	size_t file_len = 0;
	struct nub_elf_image img;

	nub_error_clear(err);
	if (!out)
		return nub_error_set(err, NUB_E_INVALID, "out is NULL");
	*out = NULL;
	enum nub_status st = nub_config_resolve(cfg, &rc, err);
	if (st == NUB_OK)
		st = check_env(env, &init_perms, err);
	if (st != NUB_OK)
		return st;

	const uint8_t *data = env->data;
	size_t len = env->data_len;
	if (env->path) {
		st = nub_elf_read_file(env->path, &rc.alloc, &file, &file_len, err);
		if (st != NUB_OK)
			return st;
		data = file;
		len = file_len;
	}
	st = nub_elf_parse(data, len, &img, err);
	if (st != NUB_OK)
		goto out_free_file;

	struct nub_layout_params lp = {
		.image_end = img.image_end,
		.heap_size = rc.heap_size,
		.init_data_size = env->init_data_len,
		.input_size = rc.input_size,
		.output_size = rc.output_size,
		.stack_size = rc.stack_size,
	};
	struct nub_layout layout;
	st = nub_layout_compute(&lp, &layout, err);
	if (st != NUB_OK)
		goto out_free_file;

	struct nub_uninit *u = nub_alloc_zeroed(&rc.alloc, sizeof *u);
	if (!u) {
		st = nub_error_set(err, NUB_E_NOMEM, "uninitialized sandbox (%zu bytes)", sizeof *u);
		goto out_free_file;
	}
	u->img.cfg = rc;
	u->img.layout = layout;
	st = nub_mem_map(&u->img.mem, layout.primary_size, layout.scratch_gpa, layout.scratch_size, -1,
			 err);
	if (st == NUB_OK)
		st = build_image(u, &img, data, len, env, init_perms, err);
	if (st != NUB_OK) {
		nub_uninit_free(u);
		goto out_free_file;
	}
	*out = u;
out_free_file:
	nub_alloc_free(&rc.alloc, file);
	return st;
}

void nub_image_release(struct nub_image *img)
{
	struct nub_alloc_hook hook = img->cfg.alloc;
	nub_mem_unmap(&img->mem);
	nub_filemap_unmap_all(img->maps, img->nmaps);
	img->nmaps = 0;
	nub_hostfn_free(&img->hostfns, &hook);
	nub_counter_free(img->counter, &hook);
	img->counter = NULL;
}

void nub_image_take(struct nub_image *dst, struct nub_uninit *u)
{
	struct nub_alloc_hook hook = u->img.cfg.alloc;
	*dst = u->img;
	nub_alloc_free(&hook, u);
}

void nub_uninit_free(struct nub_uninit *u)
{
	if (!u)
		return;
	struct nub_alloc_hook hook = u->img.cfg.alloc;
	nub_image_release(&u->img);
	nub_alloc_free(&hook, u);
}

enum nub_status nub_uninit_register(struct nub_uninit *u, uint32_t fn_id, nub_host_fn fn,
				    void *ctx, struct nub_error *err)
{
	nub_error_clear(err);
	if (!u)
		return nub_error_set(err, NUB_E_INVALID, "uninit is NULL");
	return nub_hostfn_register(&u->img.hostfns, &u->img.cfg.alloc, fn_id, fn, ctx, err);
}

enum nub_status nub_uninit_set_max_guest_log_level(struct nub_uninit *u,
						   enum nub_abi_log_level level,
						   struct nub_error *err)
{
	nub_error_clear(err);
	if (!u)
		return nub_error_set(err, NUB_E_INVALID, "uninit is NULL");
	if ((unsigned)level > NUB_LEVEL_TRACE)
		return nub_error_set(err, NUB_E_INVALID, "log level %u is outside 0..5", (unsigned)level);
	u->img.cfg.max_guest_log_level = level;
	uint32_t v = (uint32_t)level;
	return nub_mem_write(&u->img.mem, u->img.layout.boot_info_gpa + offsetof(struct nub_boot_info, max_log_level),
			     &v, sizeof v, err);
}

uint64_t nub_uninit_shared_mem_size(const struct nub_uninit *u)
{
	return u ? u->img.layout.primary_size : 0;
}

/* ---- Running the guest ---- */

static const char *vector_name(uint8_t v)
{
	static const char *const names[] = {
		"divide error (#DE)", "debug (#DB)", "NMI", "breakpoint (#BP)", "overflow (#OF)",
		"bound range (#BR)", "invalid opcode (#UD)", "device not available (#NM)",
		"double fault (#DF)", "coprocessor segment overrun", "invalid TSS (#TS)",
		"segment not present (#NP)", "stack fault (#SS)", "general protection (#GP)",
		"page fault (#PF)", "reserved", "x87 floating point (#MF)", "alignment check (#AC)",
		"machine check (#MC)", "SIMD floating point (#XM)", "virtualization (#VE)",
		"control protection (#CP)",
	};
	return v < sizeof names / sizeof names[0] ? names[v] : "reserved vector";
}

/*
 * Turns an exception abort into a fault report. RIP and the error code come from the frame the CPU
 * pushed at the top of the exception stack and CR2 from the vCPU, not from the guest's message.
 */
static void report_fault(struct nub_sandbox *sb, struct nub_error *err)
{
	const struct nub_layout *l = &sb->img.layout;
	uint8_t frame[NUB_EXCEPTION_FRAME_SIZE];
	uint64_t top = l->exception_stack_gpa + l->exception_stack_size;
	uint64_t rip = 0, cr2 = 0, code = 0, vcpu_rip;
	uint8_t vector = err->vector;
	char guest_msg[NUB_ABORT_MAX_BYTES + 1];

	/* Keep only the guest's own words: the abort message is "guest aborted with code N: <text>". */
	const char *text = strstr(err->message, ": ");
	snprintf(guest_msg, sizeof guest_msg, "%s", text ? text + 2 : "");
	if (nub_mem_read(&sb->img.mem, top - NUB_EXCEPTION_FRAME_SIZE, frame, sizeof frame, NULL) == NUB_OK) {
		code = nub_le64(frame);
		rip = nub_le64(frame + 8);
	}
	if (nub_kvm_read_fault_regs(&sb->kvm, &vcpu_rip, &cr2, NULL) != NUB_OK)
		cr2 = 0;
	nub_error_set(err, NUB_E_GUEST_FAULT,
		      "guest fault: %s, vector %u, at rip 0x%llx, cr2 0x%llx, error code 0x%llx (%s)",
		      vector_name(vector), vector, (unsigned long long)rip, (unsigned long long)cr2,
		      (unsigned long long)code, guest_msg);
	err->guest_code = NUB_ABORT_EXCEPTION;
	err->vector = vector;
	err->rip = rip;
	err->cr2 = cr2;
	err->error_code = code;
}

static enum nub_outb_result handle_exit(struct nub_sandbox *sb, struct nub_error *err)
{
	struct kvm_run *run = sb->kvm.run;
	uint64_t rip = 0, cr2 = 0;

	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		if (run->io.direction != KVM_EXIT_IO_OUT) {
			nub_error_set(err, NUB_E_PROTOCOL, "guest read from port 0x%x", run->io.port);
			return NUB_OUTB_STOP;
		}
		if (run->io.count != 1) {
			nub_error_set(err, NUB_E_PROTOCOL, "guest string OUT (count %u) to port 0x%x",
				      run->io.count, run->io.port);
			return NUB_OUTB_STOP;
		}
		const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
		enum nub_outb_result r = nub_outb_handle(&sb->outb, run->io.port, data, run->io.size, err);
		if (r == NUB_OUTB_STOP && err->status == NUB_E_GUEST_ABORT &&
		    err->guest_code == NUB_ABORT_EXCEPTION)
			report_fault(sb, err);
		return r;
	}
	case KVM_EXIT_HLT:
		return NUB_OUTB_HALT;
	case KVM_EXIT_MMIO:
		nub_error_set(err, NUB_E_MMIO, "guest %s of %u bytes at unbacked guest-physical address 0x%llx",
			      run->mmio.is_write ? "write" : "read", run->mmio.len,
			      (unsigned long long)run->mmio.phys_addr);
		err->gpa = run->mmio.phys_addr;
		return NUB_OUTB_STOP;
	case KVM_EXIT_SHUTDOWN:
		nub_kvm_read_fault_regs(&sb->kvm, &rip, &cr2, NULL);
		nub_error_set(err, NUB_E_TRIPLE_FAULT, "vCPU shut down (triple fault) at rip 0x%llx",
			      (unsigned long long)rip);
		err->rip = rip;
		return NUB_OUTB_STOP;
	case KVM_EXIT_FAIL_ENTRY:
		nub_error_set(err, NUB_E_KVM, "vCPU entry failed, hardware reason 0x%llx",
			      (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return NUB_OUTB_STOP;
	case KVM_EXIT_INTERNAL_ERROR:
		/*
		 * Hosts that emulate CPL0 guests (kvm_pvm) cannot run some instructions, e.g. int3.
		 * The guest chose to execute it: a guest outcome, not an engine failure.
		 */
		if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
			nub_kvm_read_fault_regs(&sb->kvm, &rip, &cr2, NULL);
			nub_error_set(err, NUB_E_EMULATION,
				      "the hypervisor cannot emulate the guest instruction at rip 0x%llx",
				      (unsigned long long)rip);
			err->rip = rip;
			return NUB_OUTB_STOP;
		}
		nub_error_set(err, NUB_E_KVM, "KVM internal error, suberror %u", run->internal.suberror);
		return NUB_OUTB_STOP;
	default:
		nub_error_set(err, NUB_E_KVM, "unexpected KVM exit reason %u", run->exit_reason);
		return NUB_OUTB_STOP;
	}
}

/*
 * Runs the vCPU until the guest halts (NUB_OK) or the run ends with an outcome in (err). Every
 * failure here happened with the guest mid-flight, so callers poison on any non-OK result.
 */
static enum nub_status run_guest(struct nub_sandbox *sb, struct nub_error *err)
{
	uint64_t gen;
	enum nub_status st = nub_interrupt_begin(sb->intr, sb->kvm.run, sb->img.cfg.time_limit_ms, &gen, err);
	if (st != NUB_OK)
		return st;
	for (;;) {
		st = nub_interrupt_check(sb->intr, gen, err);
		if (st != NUB_OK)
			break;
		int r = nub_kvm_run(&sb->kvm);
		if (r == -EINTR || r == -EAGAIN)
			continue; /* the check above decides: kill, time limit, or a stale kick */
		if (r < 0) {
			st = nub_error_set_errno(err, NUB_E_KVM, -r, "KVM_RUN");
			break;
		}
		enum nub_outb_result res = handle_exit(sb, err);
		if (res == NUB_OUTB_CONTINUE)
			continue;
		st = res == NUB_OUTB_HALT ? NUB_OK : err->status;
		break;
	}
	nub_interrupt_end(sb->intr);
	nub_outb_flush_print(&sb->outb);
	sb->abort.len = 0; /* a partial abort stream never carries over to the next call */
	return st;
}

static void poison(struct nub_sandbox *sb, enum nub_status why)
{
	sb->status = NUB_SANDBOX_POISONED;
	sb->poisoned_by = why;
}

void nub_sandbox_free(struct nub_sandbox *sb)
{
	if (!sb)
		return;
	struct nub_alloc_hook hook = sb->img.cfg.alloc;
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
	size_t w0 = (size_t)((sb->slot_pages[0] + 63) / 64), w1 = (size_t)((sb->slot_pages[1] + 63) / 64);
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

/*
 * Maps the reset stub the first time the sandbox takes, restores or starts from a snapshot, so
 * evolve and sandboxes that are never reset do not pay for it. A snapshot's moment always has the
 * stub page present, holding that snapshot's image, so every restore brings back the same view.
 */
static enum nub_status ensure_reset_stub(struct nub_sandbox *sb, struct nub_error *err)
{
	if (sb->stub.mem)
		return NUB_OK;
	enum nub_status st = nub_reset_stub_init(&sb->stub, sb->kvm.xcr0_settable, err);
	if (st == NUB_OK)
		st = nub_kvm_map(&sb->kvm, SLOT_RESET_STUB, NUB_RESET_GPA, NUB_RESET_SIZE, sb->stub.mem,
				 NUB_KVM_READONLY, err);
	if (st != NUB_OK)
		nub_reset_stub_free(&sb->stub);
	return st;
}

/* Creates the VM over the sandbox's mapped memory, with dirty logging for restore. */
static enum nub_status make_vm(struct nub_sandbox *sb, struct nub_error *err)
{
	const struct nub_layout *l = &sb->img.layout;
	enum nub_status st = nub_interrupt_new(sb->img.cfg.interrupt_signal_offset, &sb->img.cfg.alloc,
					       &sb->intr, err);
	if (st == NUB_OK)
		st = nub_kvm_create(&sb->kvm, err);
	if (st == NUB_OK)
		st = nub_kvm_map(&sb->kvm, SLOT_PRIMARY, NUB_PRIMARY_BASE, l->primary_size,
				 sb->img.mem.primary.host, NUB_KVM_LOG_DIRTY, err);
	if (st == NUB_OK)
		st = nub_kvm_map(&sb->kvm, SLOT_SCRATCH, l->scratch_gpa, l->scratch_size,
				 sb->img.mem.scratch.host, NUB_KVM_LOG_DIRTY, err);
	for (uint32_t i = 0; st == NUB_OK && i < sb->img.nmaps; i++)
		st = nub_kvm_map(&sb->kvm, sb->img.maps[i].slot, sb->img.maps[i].gpa, sb->img.maps[i].size,
				 sb->img.maps[i].host, NUB_KVM_READONLY, err);
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
		st = run_guest(sb, err);
	}
	if (st != NUB_OK) {
		nub_sandbox_free(sb);
		return st;
	}
	sb->status = NUB_SANDBOX_READY;
	*out = sb;
	return NUB_OK;
}

/* ---- Calls ---- */

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
		poison(sb, st);
		return st;
	}
	if (v.status != NUB_STATUS_OK) {
		nub_error_set(err, NUB_E_GUEST_ERROR, "guest error %u: %.*s", v.status, (int)v.msg_len,
			      v.msg);
		err->guest_code = v.status;
		return NUB_E_GUEST_ERROR;
	}
	if (!resp->data && !resp->alloc.realloc)
		resp->alloc = sb->img.cfg.alloc;
	if (nub_buf_append(resp, v.payload, v.payload_len) != NUB_OK)
		return nub_error_set(err, NUB_E_NOMEM, "response payload (%u bytes)", v.payload_len);
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
				     !sb ? "sandbox" : !resp ? "resp" : "payload");
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

	st = run_guest(sb, err);
	if (st != NUB_OK) {
		poison(sb, st);
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

/* ---- Snapshots ---- */

/* Sorted registered fn_ids (the registry is kept sorted) into a new array; NULL when there are none. */
static enum nub_status registered_fn_ids(const struct nub_sandbox *sb, uint32_t **ids,
					 struct nub_error *err)
{
	*ids = NULL;
	if (!sb->img.hostfns.count)
		return NUB_OK;
	*ids = nub_alloc_zeroed(&sb->img.cfg.alloc, sb->img.hostfns.count * sizeof **ids);
	if (!*ids)
		return nub_error_set(err, NUB_E_NOMEM, "fn_id list (%zu entries)", sb->img.hostfns.count);
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
		st = ensure_reset_stub(sb, err);
	if (st == NUB_OK)
		st = nub_kvm_flush(&sb->kvm, err);
	if (st == NUB_OK)
		st = nub_kvm_get_state(&sb->kvm, &vcpu, err);
	/* The XSAVE components beyond x87/SSE are not captured: refuse rather than snapshot them wrong. */
	if (st == NUB_OK && vcpu.xcr0 != NUB_XCR0_X87)
		st = nub_error_set(err, NUB_E_STATE,
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
	memcpy(fill, sb->img.mem.primary.host, sb->img.layout.primary_size);
	memcpy(fill + sb->img.layout.primary_size, sb->img.mem.scratch.host, sb->img.layout.scratch_size);
	st = nub_snapshot_seal(snap, fill, err);
	if (st != NUB_OK) {
		nub_snapshot_unref(snap);
		return st;
	}
	clear_dirty(sb);
	nub_filemap_record(sb, snap);
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
		F(image_end), F(heap_size), F(init_data_size), F(input_size), F(output_size),
		F(stack_size), F(primary_size), F(scratch_size), F(page_tables_size),
#undef F
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		uint64_t x, y;
		memcpy(&x, (const uint8_t *)a + fields[i].off, 8);
		memcpy(&y, (const uint8_t *)b + fields[i].off, 8);
		if (x != y)
			return nub_error_set(err, NUB_E_INVALID,
					     "snapshot layout differs: %s is 0x%llx in the snapshot, 0x%llx in the sandbox",
					     fields[i].name, (unsigned long long)x, (unsigned long long)y);
	}
	if (memcmp(a, b, sizeof *a) != 0)
		return nub_error_set(err, NUB_E_INVALID, "snapshot layout differs from the sandbox's");
	return NUB_OK;
}

static enum nub_status check_fns(const struct nub_snapshot *snap,
				 const struct nub_hostfn_table *fns, struct nub_error *err)
{
	for (uint32_t i = 0; i < snap->nfn; i++)
		if (!nub_hostfn_find(fns, snap->fn_ids[i]))
			return nub_error_set(err, NUB_E_INVALID,
					     "snapshot needs host function fn_id %u, which the sandbox lacks",
					     snap->fn_ids[i]);
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
		st = check_fns(snap, &sb->img.hostfns, err);
	if (st == NUB_OK)
		st = nub_filemap_check(snap, sb, err);
	if (st == NUB_OK)
		st = ensure_reset_stub(sb, err);
	if (st != NUB_OK)
		return st; /* refused or failed before touching anything */

	/* From here on a failure leaves guest state half-restored: the sandbox is unrecoverable. */
	st = nub_filemap_drop_later(snap, sb, err);
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
			memcpy(sb->img.mem.primary.host, p, sb->img.layout.primary_size);
			memcpy(sb->img.mem.scratch.host, sc, sb->img.layout.scratch_size);
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
				     !snap ? "snapshot" : !out ? "out" : "fns");
	*out = NULL;
	enum nub_status st = config_for_snapshot(cfg, &snap->layout, &rc, err);
	if (st == NUB_OK)
		st = sandbox_alloc(&rc, &snap->layout, &sb, err);
	for (size_t i = 0; st == NUB_OK && i < n; i++)
		st = nub_hostfn_register(&sb->img.hostfns, &sb->img.cfg.alloc, fns[i].fn_id, fns[i].fn,
					 fns[i].ctx, err);
	if (st == NUB_OK)
		st = check_fns(snap, &sb->img.hostfns, err);
	if (st == NUB_OK)
		st = nub_mem_map(&sb->img.mem, snap->layout.primary_size, snap->layout.scratch_gpa,
				 snap->layout.scratch_size, snap->memfd, err);
	if (st == NUB_OK)
		st = make_vm(sb, err);
	if (st == NUB_OK)
		st = ensure_reset_stub(sb, err);
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

