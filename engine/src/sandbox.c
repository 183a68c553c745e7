/* The sandbox life cycle: uninitialized -> evolve -> multi-use; calls, run loop and status. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "bytes.h"
#include "config.h"
#include "elf.h"
#include "error.h"
#include "hostfn.h"
#include "interrupt.h"
#include "iobuf.h"
#include "kvm.h"
#include "layout.h"
#include "mem.h"
#include "outb.h"
#include "paging.h"
#include "wire.h"

#define SLOT_PRIMARY 0u
#define SLOT_SCRATCH 1u

struct nub_uninit {
	struct nub_config cfg;
	struct nub_layout layout;
	struct nub_mem mem; /* both regions mapped and filled: image, boot info, init data, tables */
	struct nub_hostfn_table hostfns;
	uint64_t entry;
	uint64_t cr3;
};

struct nub_sandbox {
	struct nub_config cfg;
	struct nub_layout layout;
	struct nub_mem mem;
	struct nub_hostfn_table hostfns;
	struct nub_kvm kvm;
	struct nub_interrupt *intr;
	enum nub_sandbox_status status;
	enum nub_status poisoned_by;
	uint8_t *staging; /* private copies of frames; max(input, output) bytes */
	uint64_t staging_size;
	struct nub_abort_stream abort;
	struct nub_print_line print;
	struct nub_outb_env outb;
};

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
	const struct nub_layout *l = &u->layout;
	enum nub_status st = nub_elf_load(img, data, len, u->mem.primary.host, l->primary_size, err);
	if (st != NUB_OK)
		return st;

	struct nub_boot_info bi;
	fill_boot_info(l, &u->cfg, init_perms, &bi);
	st = nub_mem_write(&u->mem, l->boot_info_gpa, &bi, sizeof bi, err);
	if (st == NUB_OK && env->init_data_len)
		st = nub_mem_write(&u->mem, l->init_data_gpa, env->init_data, env->init_data_len, err);
	if (st != NUB_OK)
		return st;

	struct nub_page_map maps[NUB_ELF_MAX_SEGMENTS + 10];
	size_t n = page_maps(img, l, init_perms, maps);
	volatile uint8_t *tables = nub_mem_ptr(&u->mem, l->page_tables_gpa, l->page_tables_size);
	if (!tables)
		return nub_error_set(err, NUB_E_LAYOUT, "page tables at 0x%llx are outside the primary region",
				     (unsigned long long)l->page_tables_gpa);
	st = nub_paging_build((uint8_t *)(uintptr_t)tables, l->page_tables_gpa, l->page_tables_size,
			      maps, n, &u->cr3, err);
	if (st != NUB_OK)
		return st;

	nub_iobuf_reset(nub_mem_ptr(&u->mem, l->input_gpa, l->input_size), l->input_size);
	nub_iobuf_reset(nub_mem_ptr(&u->mem, l->output_gpa, l->output_size), l->output_size);
	u->entry = img->entry;
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
	u->cfg = rc;
	u->layout = layout;
	st = nub_mem_map(&u->mem, layout.primary_size, layout.scratch_gpa, layout.scratch_size, err);
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

void nub_uninit_free(struct nub_uninit *u)
{
	if (!u)
		return;
	struct nub_alloc_hook hook = u->cfg.alloc;
	nub_mem_unmap(&u->mem);
	nub_hostfn_free(&u->hostfns, &hook);
	nub_alloc_free(&hook, u);
}

enum nub_status nub_uninit_register(struct nub_uninit *u, uint32_t fn_id, nub_host_fn fn,
				    void *ctx, struct nub_error *err)
{
	nub_error_clear(err);
	if (!u)
		return nub_error_set(err, NUB_E_INVALID, "uninit is NULL");
	return nub_hostfn_register(&u->hostfns, &u->cfg.alloc, fn_id, fn, ctx, err);
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
	u->cfg.max_guest_log_level = level;
	uint32_t v = (uint32_t)level;
	return nub_mem_write(&u->mem, u->layout.boot_info_gpa + offsetof(struct nub_boot_info, max_log_level),
			     &v, sizeof v, err);
}

uint64_t nub_uninit_shared_mem_size(const struct nub_uninit *u)
{
	return u ? u->layout.primary_size : 0;
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
	const struct nub_layout *l = &sb->layout;
	uint8_t frame[NUB_EXCEPTION_FRAME_SIZE];
	uint64_t top = l->exception_stack_gpa + l->exception_stack_size;
	uint64_t rip = 0, cr2 = 0, code = 0, vcpu_rip;
	uint8_t vector = err->vector;
	char guest_msg[NUB_ABORT_MAX_BYTES + 1];

	/* Keep only the guest's own words: the abort message is "guest aborted with code N: <text>". */
	const char *text = strstr(err->message, ": ");
	snprintf(guest_msg, sizeof guest_msg, "%s", text ? text + 2 : "");
	if (nub_mem_read(&sb->mem, top - NUB_EXCEPTION_FRAME_SIZE, frame, sizeof frame, NULL) == NUB_OK) {
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
	enum nub_status st = nub_interrupt_begin(sb->intr, sb->kvm.run, sb->cfg.time_limit_ms, &gen, err);
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
	struct nub_alloc_hook hook = sb->cfg.alloc;
	if (sb->intr) {
		nub_interrupt_detach(sb->intr);
		nub_interrupt_unref(sb->intr);
	}
	/* The VM goes first: its memory slots point into the mappings. */
	nub_kvm_destroy(&sb->kvm);
	nub_mem_unmap(&sb->mem);
	nub_hostfn_free(&sb->hostfns, &hook);
	nub_alloc_free(&hook, sb->staging);
	nub_alloc_free(&hook, sb);
}

static enum nub_status make_vm(struct nub_sandbox *sb, uint64_t entry, uint64_t cr3,
			       struct nub_error *err)
{
	const struct nub_layout *l = &sb->layout;
	enum nub_status st = nub_interrupt_new(sb->cfg.interrupt_signal_offset, &sb->cfg.alloc,
					       &sb->intr, err);
	if (st == NUB_OK)
		st = nub_kvm_create(&sb->kvm, err);
	if (st == NUB_OK)
		st = nub_kvm_map(&sb->kvm, SLOT_PRIMARY, NUB_PRIMARY_BASE, l->primary_size,
				 sb->mem.primary.host, err);
	if (st == NUB_OK)
		st = nub_kvm_map(&sb->kvm, SLOT_SCRATCH, l->scratch_gpa, l->scratch_size,
				 sb->mem.scratch.host, err);
	if (st == NUB_OK) {
		struct nub_kvm_boot b = {
			.rip = entry,
			.rsp = l->stack_gpa + l->stack_size,
			.rdi = l->boot_info_gpa,
			.cr3 = cr3,
		};
		st = nub_kvm_boot(&sb->kvm, &b, err);
	}
	return st;
}

enum nub_status nub_uninit_evolve(struct nub_uninit *u, struct nub_sandbox **out,
				  struct nub_error *err)
{
	struct nub_error local;
	if (!err)
		err = &local;
	nub_error_clear(err);
	if (!u || !out) {
		nub_uninit_free(u);
		return nub_error_set(err, NUB_E_INVALID, "%s is NULL", u ? "out" : "uninit");
	}
	*out = NULL;
	struct nub_sandbox *sb = nub_alloc_zeroed(&u->cfg.alloc, sizeof *sb);
	if (!sb) {
		nub_uninit_free(u);
		return nub_error_set(err, NUB_E_NOMEM, "sandbox (%zu bytes)", sizeof *sb);
	}
	/* Ownership of memory and registry moves into the sandbox; the uninit shell is freed below. */
	sb->cfg = u->cfg;
	sb->layout = u->layout;
	sb->mem = u->mem;
	sb->hostfns = u->hostfns;
	memset(&u->mem, 0, sizeof u->mem);
	memset(&u->hostfns, 0, sizeof u->hostfns);
	sb->kvm.vm_fd = -1;
	sb->kvm.vcpu_fd = -1;
	uint64_t entry = u->entry, cr3 = u->cr3;
	nub_uninit_free(u);

	const struct nub_layout *l = &sb->layout;
	sb->staging_size = l->input_size > l->output_size ? l->input_size : l->output_size;
	sb->staging = nub_alloc_zeroed(&sb->cfg.alloc, sb->staging_size);
	enum nub_status st = sb->staging ? NUB_OK
					 : nub_error_set(err, NUB_E_NOMEM, "staging buffer (0x%llx bytes)",
							 (unsigned long long)sb->staging_size);
	if (st == NUB_OK)
		st = make_vm(sb, entry, cr3, err);
	if (st != NUB_OK) {
		nub_sandbox_free(sb);
		return st;
	}
	sb->outb = (struct nub_outb_env){
		.input = nub_mem_ptr(&sb->mem, l->input_gpa, l->input_size),
		.input_size = l->input_size,
		.output = nub_mem_ptr(&sb->mem, l->output_gpa, l->output_size),
		.output_size = l->output_size,
		.staging = sb->staging,
		.staging_size = sb->staging_size,
		.hostfns = &sb->hostfns,
		.cfg = &sb->cfg,
		.abort = &sb->abort,
		.print = &sb->print,
	};
	st = run_guest(sb, err);
	if (st != NUB_OK) {
		nub_sandbox_free(sb);
		return st;
	}
	sb->status = NUB_SANDBOX_READY;
	*out = sb;
	return NUB_OK;
}

/* ---- Calls ---- */

static enum nub_status refuse_if_not_ready(const struct nub_sandbox *sb, struct nub_error *err)
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
		resp->alloc = sb->cfg.alloc;
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
	enum nub_status st = refuse_if_not_ready(sb, err);
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

struct nub_interrupt *nub_sandbox_interrupt_handle(struct nub_sandbox *sb)
{
	return nub_interrupt_ref(sb->intr);
}
